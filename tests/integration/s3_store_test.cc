// The real skald binary with chunks and index in a real S3-compatible server (Ceph radosgw
// on loopback, the storage_s3_server_start ctest fixture; SKALD_TEST_S3_ENV names its
// s3.env): what one process flushed, another with an empty data directory reads back.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>

#include <signal.h>

#include <thread>

#include "core/time.h"
#include "skald_process.h"
#include "storage/s3_object_store.h"
#include "tests/testing/env_file.h"
#include "tests/testing/metrics_text.h"
#include "tests/testing/temp_dir.h"
#include "tools/http/http_client.h"
#include "wire/push.h"

namespace skald::testing {
namespace {

using http::QueryEscape;

std::map<std::string, std::string> S3Env() {
  return testing::ReadEnvFileNamedBy("SKALD_TEST_S3_ENV");
}

// Pushes `lines` lines to each of 4 streams {app="s3", shard="0".."3"}, batch `batch`'s
// timestamps (1 ms apart, after the previous batches').
void PushBatch(const SkaldProcess& skald, int64_t base, int batch, int lines) {
  for (int s = 0; s < 4; s++) {
    wire::PushRequestBuilder b;
    b.AddStream("{app=\"s3\", shard=\"" + std::to_string(s) + "\"}");
    for (int i = 0; i < lines; i++) {
      b.AddEntry(base + (batch * lines + i) * kNanosPerMilli,
                 "batch " + std::to_string(batch) + " line " + std::to_string(i));
    }
    auto r = skald.Call("POST", "/loki/api/v1/push", {{"Content-Type", "application/x-protobuf"}},
                        wire::EncodePushProtobufSnappy(std::move(b).Build()));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_EQ(r->status, 204) << r->body;
  }
}

// sum(count_over_time({app="s3"}[1h])) over the hour after base - 1h, as the reader sees it.
std::string CountBody(const SkaldProcess& skald, int64_t base) {
  auto r = skald.Call(
      "GET",
      "/loki/api/v1/query_range?query=" + QueryEscape("sum(count_over_time({app=\"s3\"}[1h]))") +
          "&start=" + std::to_string(base - kNanosPerHour) +
          "&end=" + std::to_string(base + kNanosPerMinute) + "&step=3600&limit=1000");
  if (!r.ok()) return r.status().ToString();
  return r->body;
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

// An S3 outage of its own: a second radosgw (port 17500) that the test kills and restarts.
// Pushes keep succeeding while it is down, a flush fails and keeps its chunks, an ingester
// killed with -9 during the outage restarts (WAL replay) and keeps taking writes, and once
// the store is back one flush stores everything: a fresh process counts every line once.
TEST(S3OutageTest, NothingAcknowledgedIsLostWhileTheStoreIsDown) {
  TempDir server_dir("rgw");
  const std::string scripts = std::string(SKALD_SOURCE_DIR) + "/scripts/servers/";
  const std::string start = "bash " + scripts + "start-ceph-rgw.sh " + server_dir.path() +
                            " 17500 > " + server_dir.path() + "/start.out 2>&1";
  ASSERT_EQ(std::system(start.c_str()), 0) << start;
  struct StopServer {
    std::string cmd;
    ~StopServer() { (void)std::system(cmd.c_str()); }
  } stop{"bash " + scripts + "stop-ceph-rgw.sh " + server_dir.path() + " > /dev/null 2>&1"};
  auto rgw_pid = [&] {
    std::ifstream in(server_dir.path() + "/run/rgw.pidf");
    pid_t p = 0;
    in >> p;
    return p;
  };

  const std::vector<std::string> flags = {"-s3.endpoint=http://127.0.0.1:17500",
                                          "-s3.buckets=loki",
                                          "-s3.force-path-style",
                                          "-s3.access-key-id=testkey",
                                          "-s3.secret-access-key=testsecret",
                                          "-s3.max-retries=1",
                                          "-s3.min-backoff=10ms",
                                          "-s3.max-backoff=50ms"};
  const int64_t base = (NowNanos() / kNanosPerSecond - 900) * kNanosPerSecond;
  constexpr int kLines = 50;
  TempDir dir;
  {
    SkaldProcess skald(dir.path(), flags);
    ASSERT_TRUE(skald.Start()) << skald.log();
    PushBatch(skald, base, 0, kLines);
    auto f = skald.Call("POST", "/flush");
    ASSERT_TRUE(f.ok());
    ASSERT_EQ(f->status, 204) << f->body;

    // The store goes away.
    const pid_t pid = rgw_pid();
    ASSERT_GT(pid, 0);
    ASSERT_EQ(::kill(pid, SIGKILL), 0);
    for (int i = 0; i < 100 && ::kill(pid, 0) == 0; i++) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    PushBatch(skald, base, 1, kLines);  // pushes keep succeeding
    f = skald.Call("POST", "/flush");
    ASSERT_TRUE(f.ok());
    EXPECT_GE(f->status, 500) << f->body;  // the flush failed and kept its chunks
    EXPECT_NE(f->body.find("s3: "), std::string::npos) << f->body;
    auto m = skald.Call("GET", "/metrics");
    ASSERT_TRUE(m.ok());
    // Both attempts of the pack's PUT failed in transport (one retry).
    EXPECT_EQ(SampleValue(m->body, "skald_s3_request_retries_total{operation=\"PUT\"}"), 1);
    EXPECT_EQ(SampleValue(m->body,
                          "skald_s3_request_duration_seconds_count{operation=\"PUT\","
                          "status_code=\"error\"}"),
              2);
    PushBatch(skald, base, 2, kLines);
    skald.Kill();  // kill -9 during the outage: batches 1 and 2 live only in the WAL now
  }
  {
    SkaldProcess skald(dir.path(), flags);
    ASSERT_TRUE(skald.Start()) << skald.log();  // starts although the store is down
    EXPECT_NE(skald.log().find("object storage unavailable at start"), std::string::npos)
        << skald.log();
    PushBatch(skald, base, 3, kLines);

    // The store comes back (the script restarts what is missing; memstore kept its objects).
    ASSERT_EQ(std::system(start.c_str()), 0) << start;
    int status = 0;
    for (int i = 0; i < 120 && status != 204; i++) {  // the breaker may be open for 10 s
      auto f = skald.Call("POST", "/flush");
      ASSERT_TRUE(f.ok());
      status = f->status;
      if (status != 204) std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
    ASSERT_EQ(status, 204) << skald.log();
    EXPECT_EQ(skald.Stop(), 0);
  }
  TempDir fresh;
  SkaldProcess reader(fresh.path(), flags);
  ASSERT_TRUE(reader.Start()) << reader.log();
  const std::string body = CountBody(reader, base);
  EXPECT_NE(body.find("\"" + std::to_string(4 * 4 * kLines) + "\""), std::string::npos) << body;
  EXPECT_EQ(reader.Stop(), 0);
}

}  // namespace
}  // namespace skald::testing
