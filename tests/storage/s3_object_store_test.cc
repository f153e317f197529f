// S3ObjectStore against a real S3-compatible server: Ceph radosgw, started on loopback by
// scripts/servers/start-ceph-rgw.sh (a ctest fixture, tests/storage/CMakeLists.txt), whose
// s3.env file SKALD_TEST_S3_ENV names. Without it the tests fail rather than skip.
// Each test gets a bucket of its own, emptied (DeleteObjects) and deleted afterwards.
#include "storage/s3_object_store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <thread>

#include "core/metrics.h"
#include "object_store_conformance.h"
#include "tests/testing/env_file.h"

namespace skald::storage {
namespace {

std::map<std::string, std::string> ReadEnvFile() {
  return testing::ReadEnvFileNamedBy("SKALD_TEST_S3_ENV");
}

S3Config ServerConfig() {
  static const std::map<std::string, std::string> env = ReadEnvFile();
  S3Config cfg;
  auto get = [&](const char* k) {
    auto it = env.find(k);
    return it == env.end() ? std::string() : it->second;
  };
  cfg.endpoint = get("S3_ENDPOINT");
  cfg.access_key_id = get("S3_ACCESS_KEY");
  cfg.secret_access_key = get("S3_SECRET_KEY");
  cfg.region = get("S3_REGION").empty() ? "us-east-1" : get("S3_REGION");
  cfg.force_path_style = true;
  cfg.backoff.min_period_ns = 10'000'000;
  cfg.backoff.max_period_ns = 100'000'000;
  cfg.backoff.max_retries = 2;
  return cfg;
}

std::string NewBucketName() {
  static std::atomic<int> n{0};
  return "skald-test-" + std::to_string(::getpid()) + "-" + std::to_string(n++);
}

// A store on a fresh bucket of its own.
std::unique_ptr<S3ObjectStore> NewStore(S3Config cfg = ServerConfig()) {
  if (cfg.endpoint.empty()) {
    ADD_FAILURE() << "SKALD_TEST_S3_ENV does not name an s3.env file with S3_ENDPOINT";
    return nullptr;
  }
  cfg.bucket = NewBucketName();
  auto s = S3ObjectStore::Open(cfg);
  if (!s.ok()) {
    ADD_FAILURE() << s.status().ToString();
    return nullptr;
  }
  Status c = (*s)->CreateBucket();
  if (!c.ok()) {
    ADD_FAILURE() << c.ToString();
    return nullptr;
  }
  return std::move(*s);
}

void EmptyAndDelete(ObjectStore* store) {
  auto* s3 = static_cast<S3ObjectStore*>(store);
  auto keys = s3->List("");
  ASSERT_TRUE(keys.ok()) << keys.status().ToString();
  ASSERT_TRUE(s3->DeleteMany(*keys).ok());
  EXPECT_TRUE(s3->List("")->empty());
  EXPECT_TRUE(s3->DeleteBucket().ok());
}

INSTANTIATE_TEST_SUITE_P(
    S3, ObjectStoreConformance,
    ::testing::Values(StoreFactory{
        "rgw", [](const std::string&) -> std::unique_ptr<ObjectStore> { return NewStore(); },
        EmptyAndDelete}),
    [](const ::testing::TestParamInfo<StoreFactory>& info) { return info.param.name; });

class S3ObjectStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    S3Config cfg = ServerConfig();
    cfg.part_size = 5u << 20;
    cfg.list_page_size = 7;
    store_ = NewStore(cfg);
    ASSERT_NE(store_, nullptr);
  }
  void TearDown() override {
    if (store_ != nullptr) EmptyAndDelete(store_.get());
  }
  std::unique_ptr<S3ObjectStore> store_;
};

TEST_F(S3ObjectStoreTest, MultipartUploadAndRangesAcrossParts) {
  // 12 MiB + 3 bytes in uneven pieces: three parts of 5, 5 and 2 MiB + 3.
  std::string a(7u << 20, 'a'), b((5u << 20) + 3, 'b');
  for (size_t i = 0; i < a.size(); i += 4093) a[i] = static_cast<char>(i % 251);
  for (size_t i = 0; i < b.size(); i += 4091) b[i] = static_cast<char>(i % 241);
  const std::vector<std::string_view> parts = {a, "", b};
  ASSERT_TRUE(store_->PutParts("packs/big", parts).ok());
  auto got = store_->Get("packs/big");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, a + b);
  auto size = store_->Size("packs/big");
  ASSERT_TRUE(size.ok());
  EXPECT_EQ(*size, a.size() + b.size());
  // A range across the first part boundary (5 MiB) and one across the pieces.
  auto r1 = store_->GetRange("packs/big", (5u << 20) - 10, 20);
  ASSERT_TRUE(r1.ok()) << r1.status().ToString();
  EXPECT_EQ(*r1, a.substr((5u << 20) - 10, 20));
  auto r2 = store_->GetRange("packs/big", a.size() - 5, 10);
  ASSERT_TRUE(r2.ok());
  EXPECT_EQ(*r2, a.substr(a.size() - 5) + b.substr(0, 5));
  // No multipart upload is left behind (completed, not pending).
  EXPECT_EQ(*store_->List(""), Keys{"packs/big"});
}

TEST_F(S3ObjectStoreTest, RangesPastTheEndAreCorruption) {
  ASSERT_TRUE(store_->Put("k", "0123456789").ok());
  EXPECT_EQ(*store_->GetRange("k", 2, 3), "234");
  EXPECT_EQ(*store_->GetRange("k", 10, 0), "");
  EXPECT_EQ(store_->GetRange("k", 8, 5).status().code(), StatusCode::kCorruption);
  EXPECT_EQ(store_->GetRange("k", 10, 1).status().code(), StatusCode::kCorruption);
  EXPECT_EQ(store_->GetRange("k", 11, 0).status().code(), StatusCode::kCorruption);
  EXPECT_EQ(store_->GetRange("nope", 0, 1).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->Size("nope").status().code(), StatusCode::kNotFound);
}

TEST_F(S3ObjectStoreTest, ListPagesAndDeleteManyWithAwkwardKeys) {
  Keys want;
  for (int i = 0; i < 23; i++) want.push_back("index/t/" + std::to_string(100 + i));
  for (std::string k : {"odd/a b", "odd/x&y<z>", "odd/é+~=()*", "odd/'q\"", "odd/%20"}) {
    want.push_back(k);
  }
  for (const std::string& k : want) ASSERT_TRUE(store_->Put(k, k).ok()) << k;
  std::sort(want.begin(), want.end());
  auto all = store_->List("");  // 28 keys in pages of 7
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_EQ(*all, want);
  for (const std::string& k : want) EXPECT_EQ(*store_->Get(k), k) << k;
  EXPECT_EQ(store_->List("odd/")->size(), 5u);
  Keys doomed(want.begin(), want.begin() + 20);
  doomed.push_back("never/existed");
  ASSERT_TRUE(store_->DeleteMany(doomed).ok());
  EXPECT_EQ(*store_->List(""), Keys(want.begin() + 20, want.end()));
}

TEST_F(S3ObjectStoreTest, ConcurrentWritersAndReaders) {
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 6; t++) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10; i++) {
        std::string k = "c/" + std::to_string(t) + "/" + std::to_string(i);
        std::string v(1000 + i * 37, static_cast<char>('a' + t));
        if (!store_->Put(k, v).ok()) failures++;
        auto g = store_->Get(k);
        if (!g.ok() || *g != v) failures++;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(store_->List("c/")->size(), 60u);
}

TEST(S3ObjectStoreAuthTest, WrongSecretIsAClientErrorAndNotRetried) {
  S3Config cfg = ServerConfig();
  ASSERT_FALSE(cfg.endpoint.empty());
  cfg.bucket = "loki";
  cfg.secret_access_key = "not-the-secret";
  metrics::Registry registry;
  auto store = S3ObjectStore::Open(cfg, &registry);
  ASSERT_TRUE(store.ok());
  Status s = (*store)->Put("k", "v");
  EXPECT_EQ(s.code(), StatusCode::kIOError) << s.ToString();
  EXPECT_NE(s.message().find("HTTP 403"), std::string::npos) << s.ToString();
  EXPECT_NE(s.message().find("SignatureDoesNotMatch"), std::string::npos) << s.ToString();
  EXPECT_EQ((*store)->retries(), 0u);
  EXPECT_EQ((*store)->breaker_state(), CircuitBreaker::State::kClosed);
  EXPECT_NE(registry.Expose().find(
                "skald_s3_request_duration_seconds_count{operation=\"PUT\",status_code=\"403\"} 1"),
            std::string::npos)
      << registry.Expose();
}

TEST(S3ObjectStoreAuthTest, MissingBucketIsNotFound) {
  S3Config cfg = ServerConfig();
  ASSERT_FALSE(cfg.endpoint.empty());
  cfg.bucket = "skald-no-such-bucket";
  auto store = S3ObjectStore::Open(cfg);
  ASSERT_TRUE(store.ok());
  Status s = (*store)->CheckBucket();
  EXPECT_EQ(s.code(), StatusCode::kNotFound) << s.ToString();
  EXPECT_EQ((*store)->Get("k").status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace skald::storage
