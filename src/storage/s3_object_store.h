// ObjectStore on an S3-compatible object store (AWS S3, MinIO, Ceph radosgw, Swift's s3api),
// over libcurl with AWS Signature Version 4 (storage/sigv4.h).
//
// Keys map to objects of the same name in one bucket (path-style "/<bucket>/<key>" or
// virtual-hosted "<bucket>.<host>/<key>"). Put is one signed PUT (the payload's SHA-256 is
// signed, so the server rejects a corrupted body); objects above `part_size` are uploaded
// as a multipart upload (aborted on failure, so no partial object ever becomes visible).
// GetRange is a GET with a Range header; List is ListObjectsV2 with continuation tokens;
// Delete is DELETE (a missing object is fine); DeleteMany is DeleteObjects in batches of 1,000.
//
// Every request goes through a circuit breaker and is retried with exponential backoff and
// full jitter (storage/resilience.h) when it failed in transport, timed out, or got a 5xx,
// 429 or 408; a request that still fails in transport, or gets 503 or 429, is Unavailable.
// While the breaker is open requests fail at once with Unavailable; callers
// (the ingester's flush) keep their data and retry later. Client errors (403, 400...) are
// not retried and name the S3 error code and message.
//
// Thread-safe: requests run on the caller's thread; libcurl handles (each with its own
// keep-alive connections) are pooled.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "storage/object_store.h"
#include "storage/resilience.h"

namespace skald::metrics {
class Registry;
}

namespace skald::storage {

struct S3Config {
  // "http://host:port" or "https://host[:port]", or a bare host (https unless `insecure`).
  // Empty: "s3.<region>.amazonaws.com".
  std::string endpoint;
  std::string bucket;
  std::string region = "us-east-1";
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;
  bool force_path_style = false;      // s3forcepathstyle
  bool insecure = false;              // a bare endpoint host means http, not https
  bool insecure_skip_verify = false;  // http_config.insecure_skip_verify
  int64_t connect_timeout_ns = 10'000'000'000;
  // A pooled connection idle longer than this is closed rather than reused.
  int64_t idle_conn_timeout_ns = 90'000'000'000;
  // Whole request (a stalled transfer fails sooner: below 1 KB/s for 30 s).
  int64_t request_timeout_ns = 120'000'000'000;
  // Objects above this size are uploaded in parts of this size (S3's minimum part is 5 MiB).
  size_t part_size = 16u << 20;
  int list_page_size = 1000;  // ListObjectsV2 max-keys (1..1000)
  BackoffConfig backoff;
  CircuitBreakerConfig breaker;
};

// Validates the configuration (bucket present, part size >= 5 MiB, endpoint parses).
Status ValidateS3Config(const S3Config& cfg);

class S3ObjectStore : public ObjectStore {
 public:
  // Validates `cfg` (no request is sent). Metrics go to `registry` when given.
  static StatusOr<std::unique_ptr<S3ObjectStore>> Open(S3Config cfg,
                                                       metrics::Registry* registry = nullptr);
  ~S3ObjectStore() override;

  Status Put(std::string_view key, std::string_view data) override;
  Status PutParts(std::string_view key, std::span<const std::string_view> parts) override;
  StatusOr<std::string> Get(std::string_view key) override;
  StatusOr<std::string> GetRange(std::string_view key, uint64_t offset, uint64_t length) override;
  StatusOr<std::vector<std::string>> List(std::string_view prefix) override;
  Status Delete(std::string_view key) override;

  // Deletes every key (DeleteObjects, up to 1,000 per request); missing keys are fine.
  Status DeleteMany(const std::vector<std::string>& keys);
  // The object's size (HEAD); NotFound when absent.
  StatusOr<uint64_t> Size(std::string_view key);
  // OK when the bucket answers (HEAD bucket); NotFound when it does not exist.
  Status CheckBucket();
  // Creates the bucket (OK when it already exists and is ours), and deletes it (it must be
  // empty). Skald never creates or deletes buckets on its own; tests and
  // scripts/local-cluster.sh do.
  Status CreateBucket();
  Status DeleteBucket();

  CircuitBreaker::State breaker_state() const { return breaker_.state(); }
  uint64_t retries() const;

  struct Impl;

 private:
  S3ObjectStore(S3Config cfg, metrics::Registry* registry);

  S3Config cfg_;
  CircuitBreaker breaker_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace skald::storage
