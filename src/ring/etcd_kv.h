// KV on etcd v3 through its JSON gateway (HTTP POST /v3/kv/range, /v3/kv/put,
// /v3/kv/deleterange, /v3/lease/grant|keepalive|revoke, and the /v3/watch stream), over
// libcurl: keys and values travel base64-encoded, 64-bit numbers as JSON strings. Works with
// etcd 3.4 and later. Thread-safe (each call uses its own connection handle from a pool).
#pragma once

#include <memory>
#include <string>

#include "ring/kv.h"

namespace skald::ring {

struct EtcdConfig {
  std::string endpoint;  // "http://127.0.0.1:2379"
  int64_t request_timeout_ms = 5000;
};

class EtcdKV : public KV {
 public:
  static StatusOr<std::unique_ptr<EtcdKV>> Open(EtcdConfig cfg);
  ~EtcdKV() override;

  StatusOr<std::vector<KVEntry>> List(std::string_view prefix, int64_t* revision) override;
  Status Put(std::string_view key, std::string_view value, int64_t lease) override;
  Status Delete(std::string_view key) override;
  StatusOr<int64_t> GrantLease(int64_t ttl_seconds) override;
  Status KeepAlive(int64_t lease) override;
  Status RevokeLease(int64_t lease) override;
  StatusOr<int64_t> WaitForChange(std::string_view prefix, int64_t revision,
                                  std::chrono::milliseconds timeout) override;

  struct Impl;

 private:
  explicit EtcdKV(EtcdConfig cfg);
  EtcdConfig cfg_;
  std::unique_ptr<Impl> impl_;
};

// The end of the key range holding every key that starts with `prefix` (etcd's range_end):
// the prefix with its last byte below 0xff incremented and what follows dropped; "\0" (all
// keys) when there is none.
std::string PrefixEnd(std::string_view prefix);

}  // namespace skald::ring
