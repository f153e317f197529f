// The KV conformance suite (kv_conformance.h) on EtcdKV against a real etcd 3.4 on loopback
// (the ring_etcd_server_start ctest fixture: scripts/servers/start-etcd.sh on port 17379;
// SKALD_TEST_ETCD_ENV names its etcd.env). Without it the tests fail rather than skip.
#include "ring/etcd_kv.h"

#include "kv_conformance.h"
#include "tests/testing/env_file.h"

namespace skald::ring {
namespace {

std::unique_ptr<KV> NewEtcd() {
  const auto env = testing::ReadEnvFileNamedBy("SKALD_TEST_ETCD_ENV");
  auto it = env.find("ETCD_ENDPOINT");
  if (it == env.end()) {
    ADD_FAILURE() << "SKALD_TEST_ETCD_ENV names no etcd.env with ETCD_ENDPOINT";
    return nullptr;
  }
  EtcdConfig cfg;
  cfg.endpoint = it->second;
  auto kv = EtcdKV::Open(cfg);
  if (!kv.ok()) {
    ADD_FAILURE() << kv.status().ToString();
    return nullptr;
  }
  return std::move(*kv);
}

INSTANTIATE_TEST_SUITE_P(Etcd, KVConformance, ::testing::Values(KVFactory{"etcd", NewEtcd}),
                         [](const ::testing::TestParamInfo<KVFactory>& i) { return i.param.name; });

TEST(EtcdKVTest, PrefixEnd) {
  EXPECT_EQ(PrefixEnd("abc"), "abd");
  EXPECT_EQ(PrefixEnd(std::string("a\xff\xff", 3)), "b");
  EXPECT_EQ(PrefixEnd(std::string("\xff", 1)), std::string(1, '\0'));
  EXPECT_EQ(PrefixEnd(""), std::string(1, '\0'));
}

TEST(EtcdKVTest, UnreachableIsUnavailableAndBadEndpointsAreRefused) {
  EtcdConfig cfg;
  cfg.endpoint = "http://127.0.0.1:1";
  cfg.request_timeout_ms = 1000;
  auto kv = EtcdKV::Open(cfg);
  ASSERT_TRUE(kv.ok());
  EXPECT_EQ((*kv)->Put("k", "v", 0).code(), StatusCode::kUnavailable);
  EXPECT_EQ((*kv)->List("k", nullptr).status().code(), StatusCode::kUnavailable);
  cfg.endpoint = "127.0.0.1:2379";
  EXPECT_EQ(EtcdKV::Open(cfg).status().code(), StatusCode::kInvalidArgument);
}

TEST(EtcdKVTest, PutWithAnUnknownLeaseIsNotFound) {
  auto kv = NewEtcd();
  ASSERT_NE(kv, nullptr);
  EXPECT_EQ(kv->Put("skald-test/unknown-lease", "v", 123456789).code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace skald::ring
