// The real skald binary with chunks and index in a real S3-compatible server (Ceph radosgw
// on loopback, the storage_s3_server_start ctest fixture; SKALD_TEST_S3_ENV names its
// s3.env): what one process flushed, another with an empty data directory reads back.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>

#include "core/time.h"
#include "skald_process.h"
#include "storage/s3_object_store.h"
#include "tests/testing/env_file.h"
#include "tests/testing/temp_dir.h"
#include "tools/http/http_client.h"
#include "wire/push.h"

namespace skald::testing {
namespace {

using http::QueryEscape;

std::map<std::string, std::string> S3Env() {
  return testing::ReadEnvFileNamedBy("SKALD_TEST_S3_ENV");
}

class S3StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    env_ = S3Env();
    ASSERT_FALSE(env_["S3_ENDPOINT"].empty()) << "SKALD_TEST_S3_ENV names no s3.env";
    cfg_.endpoint = env_["S3_ENDPOINT"];
    cfg_.access_key_id = env_["S3_ACCESS_KEY"];
    cfg_.secret_access_key = env_["S3_SECRET_KEY"];
    cfg_.force_path_style = true;
    cfg_.bucket = "skald-it-" + std::to_string(::getpid());
    auto s = storage::S3ObjectStore::Open(cfg_);
    ASSERT_TRUE(s.ok());
    bucket_ = std::move(*s);
    ASSERT_TRUE(bucket_->CreateBucket().ok());
  }
  void TearDown() override {
    if (bucket_ == nullptr) return;
    auto keys = bucket_->List("");
    if (keys.ok()) {
      EXPECT_TRUE(bucket_->DeleteMany(*keys).ok());
    }
    EXPECT_TRUE(bucket_->DeleteBucket().ok());
  }
  std::vector<std::string> Flags(const std::string& bucket) {
    return {"-s3.endpoint=" + cfg_.endpoint, "-s3.buckets=" + bucket, "-s3.force-path-style",
            "-s3.access-key-id=" + cfg_.access_key_id,
            "-s3.secret-access-key=" + cfg_.secret_access_key};
  }

  std::map<std::string, std::string> env_;
  storage::S3Config cfg_;
  std::unique_ptr<storage::S3ObjectStore> bucket_;
};

TEST_F(S3StoreTest, WhatOneProcessFlushedAnotherReadsFromTheBucket) {
  const int64_t base = (NowNanos() / kNanosPerSecond - 600) * kNanosPerSecond;
  {
    TempDir dir;
    SkaldProcess skald(dir.path(), Flags(cfg_.bucket));
    ASSERT_TRUE(skald.Start()) << skald.log();
    for (int s = 0; s < 5; s++) {
      wire::PushRequestBuilder b;
      b.AddStream("{app=\"s3\", shard=\"" + std::to_string(s) + "\"}");
      for (int i = 0; i < 100; i++) {
        b.AddEntry(base + i * kNanosPerMilli,
                   "line " + std::to_string(s) + "-" + std::to_string(i));
      }
      auto r = skald.Call("POST", "/loki/api/v1/push", {{"Content-Type", "application/x-protobuf"}},
                          wire::EncodePushProtobufSnappy(std::move(b).Build()));
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      ASSERT_EQ(r->status, 204) << r->body;
    }
    auto flushed = skald.Call("POST", "/flush");
    ASSERT_TRUE(flushed.ok());
    ASSERT_EQ(flushed->status, 204) << flushed->body;
    EXPECT_EQ(skald.Stop(), 0) << skald.log();
    // Nothing went to the local store.
    EXPECT_FALSE(std::filesystem::exists(dir.path() + "/store"));
  }
  auto keys = bucket_->List("");
  ASSERT_TRUE(keys.ok());
  bool index = false, pack = false;
  for (const std::string& k : *keys) {
    index |= k.starts_with("index/");
    pack |= k.find("pack") != std::string::npos;
  }
  EXPECT_TRUE(index && pack) << ::testing::PrintToString(*keys);

  TempDir fresh;  // no WAL, no local files: everything comes from the bucket
  SkaldProcess reader(fresh.path(), Flags(cfg_.bucket));
  ASSERT_TRUE(reader.Start()) << reader.log();
  auto r = reader.Call(
      "GET",
      "/loki/api/v1/query_range?query=" + QueryEscape("sum(count_over_time({app=\"s3\"}[1h]))") +
          "&start=" + std::to_string(base - kNanosPerHour) +
          "&end=" + std::to_string(base + kNanosPerMinute) + "&step=3600&limit=1000");
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_NE(r->body.find("\"500\""), std::string::npos) << r->body;
  auto lines = reader.Call(
      "GET",
      "/loki/api/v1/query_range?query=" + QueryEscape("{app=\"s3\", shard=\"3\"} |= \"3-42\"") +
          "&start=" + std::to_string(base - 1) + "&end=" + std::to_string(base + kNanosPerMinute));
  ASSERT_TRUE(lines.ok());
  EXPECT_NE(lines->body.find("line 3-42"), std::string::npos) << lines->body;
  EXPECT_EQ(reader.Stop(), 0);
}

TEST_F(S3StoreTest, AMissingBucketIsAStartupError) {
  TempDir dir;
  SkaldProcess skald(dir.path(), Flags("skald-no-such-bucket"));
  EXPECT_FALSE(skald.Start(20000));
  EXPECT_NE(skald.log().find("object storage"), std::string::npos) << skald.log();
  EXPECT_NE(skald.log().find("NoSuchBucket"), std::string::npos) << skald.log();
}

}  // namespace
}  // namespace skald::testing
