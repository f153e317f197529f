// Backoff, CircuitBreaker, and S3ObjectStore's retries and breaker against an endpoint where
// nothing listens (no server is needed to refuse a connection).
#include "storage/resilience.h"

#include <gtest/gtest.h>

#include <chrono>

#include "core/metrics.h"
#include "storage/s3_object_store.h"

namespace skald::storage {
namespace {

TEST(BackoffTest, FullJitterUnderADoublingCap) {
  BackoffConfig cfg;
  cfg.min_period_ns = 100;
  cfg.max_period_ns = 1000;
  Backoff b(cfg, 42);
  int64_t max_seen[6] = {};
  for (int i = 0; i < 2000; i++) {
    for (int r = 0; r < 6; r++) {
      int64_t d = b.Delay(r);
      ASSERT_GE(d, 0);
      ASSERT_LE(d, std::min<int64_t>(100 << r, 1000)) << r;
      max_seen[r] = std::max(max_seen[r], d);
    }
  }
  // The caps are reached (jitter spans the whole interval).
  EXPECT_GT(max_seen[0], 90);
  EXPECT_GT(max_seen[3], 700);
  EXPECT_GT(max_seen[5], 900);
}

TEST(CircuitBreakerTest, OpensHalfOpensAndCloses) {
  CircuitBreakerConfig cfg;
  cfg.failure_threshold = 3;
  cfg.open_duration_ns = 1000;
  CircuitBreaker b(cfg);
  EXPECT_TRUE(b.Allow(0, "s").ok());
  b.RecordFailure(0);
  b.RecordFailure(0);
  b.RecordSuccess();  // resets the run of failures
  b.RecordFailure(0);
  b.RecordFailure(0);
  EXPECT_EQ(b.state(), CircuitBreaker::State::kClosed);
  b.RecordFailure(10);
  EXPECT_EQ(b.state(), CircuitBreaker::State::kOpen);
  EXPECT_EQ(b.opened(), 1u);
  Status s = b.Allow(500, "object storage");
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_EQ(s.message(), "circuit breaker for object storage is open");
  // After the open period one probe passes; others wait for its outcome.
  EXPECT_TRUE(b.Allow(1010, "s").ok());
  EXPECT_EQ(b.state(), CircuitBreaker::State::kHalfOpen);
  EXPECT_EQ(b.Allow(1011, "s").code(), StatusCode::kUnavailable);
  b.RecordFailure(1020);  // the probe failed: open again
  EXPECT_EQ(b.state(), CircuitBreaker::State::kOpen);
  EXPECT_EQ(b.opened(), 2u);
  EXPECT_EQ(b.Allow(2000, "s").code(), StatusCode::kUnavailable);
  EXPECT_TRUE(b.Allow(2020, "s").ok());
  b.RecordSuccess();
  EXPECT_EQ(b.state(), CircuitBreaker::State::kClosed);
  EXPECT_TRUE(b.Allow(2021, "s").ok());
  EXPECT_TRUE(b.Allow(2022, "s").ok());
}

TEST(S3ResilienceTest, RetriesTransportErrorsThenTheBreakerFailsFast) {
  S3Config cfg;
  cfg.endpoint = "http://127.0.0.1:1";  // nothing listens on port 1
  cfg.bucket = "b";
  cfg.force_path_style = true;
  cfg.backoff.min_period_ns = 1'000'000;
  cfg.backoff.max_period_ns = 2'000'000;
  cfg.backoff.max_retries = 2;
  cfg.breaker.failure_threshold = 5;
  cfg.breaker.open_duration_ns = 60'000'000'000;
  metrics::Registry registry;
  auto store = S3ObjectStore::Open(cfg, &registry);
  ASSERT_TRUE(store.ok());
  Status s = (*store)->Put("k", "v");
  EXPECT_EQ(s.code(), StatusCode::kUnavailable) << s.ToString();
  EXPECT_NE(s.message().find("s3: PUT k: "), std::string::npos) << s.ToString();
  EXPECT_EQ((*store)->retries(), 2u);  // 3 attempts
  EXPECT_EQ((*store)->breaker_state(), CircuitBreaker::State::kClosed);
  // Two more failed attempts reach the threshold of 5: the breaker opens mid-request.
  s = (*store)->Get("k").status();
  EXPECT_EQ(s.code(), StatusCode::kUnavailable) << s.ToString();
  EXPECT_EQ((*store)->breaker_state(), CircuitBreaker::State::kOpen);
  const uint64_t retries = (*store)->retries();
  // While open, requests fail without an attempt.
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 100; i++) {
    EXPECT_EQ((*store)->Delete("k").code(), StatusCode::kUnavailable);
  }
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
  EXPECT_EQ((*store)->retries(), retries);
  const std::string text = registry.Expose();
  EXPECT_NE(text.find("skald_s3_circuit_breaker_state 1"), std::string::npos) << text;
  EXPECT_NE(text.find("skald_s3_circuit_breaker_opened_total 1"), std::string::npos) << text;
  EXPECT_NE(text.find("skald_s3_request_retries_total{operation=\"PUT\"} 2"), std::string::npos)
      << text;
}

TEST(S3ConfigTest, Validation) {
  S3Config cfg;
  EXPECT_EQ(ValidateS3Config(cfg).code(), StatusCode::kInvalidArgument);  // no bucket
  cfg.bucket = "b";
  EXPECT_TRUE(ValidateS3Config(cfg).ok());  // AWS's endpoint for the region
  cfg.endpoint = "ftp://x";
  EXPECT_FALSE(ValidateS3Config(cfg).ok());
  cfg.endpoint = "http://h:port";
  EXPECT_FALSE(ValidateS3Config(cfg).ok());
  cfg.endpoint = "http://h:9000/path";
  EXPECT_FALSE(ValidateS3Config(cfg).ok());
  cfg.endpoint = "minio.local:9000";
  EXPECT_TRUE(ValidateS3Config(cfg).ok());
  cfg.part_size = 1 << 20;
  EXPECT_FALSE(ValidateS3Config(cfg).ok());
  cfg.part_size = 5 << 20;
  cfg.access_key_id = "only-the-id";
  EXPECT_FALSE(ValidateS3Config(cfg).ok());
}

}  // namespace
}  // namespace skald::storage
