// The key-value store ring state lives in: etcd v3 in a cluster (ring/etcd_kv.h), memory in
// monolithic mode (MemKV). Keys are bytes; a lease makes the keys put under it disappear
// when it is not kept alive for its TTL (an instance that died is forgotten eventually).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace skald::ring {

struct KVEntry {
  std::string key;
  std::string value;
  int64_t mod_revision = 0;  // the store revision that last changed it
};

class KV {
 public:
  virtual ~KV() = default;

  // Every key starting with `prefix`, sorted by key; *revision (when given) is the store's
  // revision the answer reflects.
  virtual StatusOr<std::vector<KVEntry>> List(std::string_view prefix, int64_t* revision) = 0;
  // Puts `value` under `key`, attached to `lease` (0: none).
  virtual Status Put(std::string_view key, std::string_view value, int64_t lease) = 0;
  // OK when the key did not exist.
  virtual Status Delete(std::string_view key) = 0;

  // A lease of `ttl_seconds`; its id.
  virtual StatusOr<int64_t> GrantLease(int64_t ttl_seconds) = 0;
  // Renews the lease's TTL; NotFound when it expired (its keys are gone).
  virtual Status KeepAlive(int64_t lease) = 0;
  // Ends the lease now, deleting its keys; OK when it does not exist.
  virtual Status RevokeLease(int64_t lease) = 0;

  // Blocks until a key under `prefix` changes after `revision`, or `timeout` passes; returns
  // the revision of the change (or `revision` on timeout). A watch.
  virtual StatusOr<int64_t> WaitForChange(std::string_view prefix, int64_t revision,
                                          std::chrono::milliseconds timeout) = 0;
};

// In-process KV (monolithic mode, tests). Leases expire by the steady clock, checked at each
// call. Thread-safe.
class MemKV : public KV {
 public:
  StatusOr<std::vector<KVEntry>> List(std::string_view prefix, int64_t* revision) override;
  Status Put(std::string_view key, std::string_view value, int64_t lease) override;
  Status Delete(std::string_view key) override;
  StatusOr<int64_t> GrantLease(int64_t ttl_seconds) override;
  Status KeepAlive(int64_t lease) override;
  Status RevokeLease(int64_t lease) override;
  StatusOr<int64_t> WaitForChange(std::string_view prefix, int64_t revision,
                                  std::chrono::milliseconds timeout) override;

 private:
  struct Value {
    std::string value;
    int64_t mod_revision = 0;
    int64_t lease = 0;
  };
  struct Lease {
    std::chrono::seconds ttl;
    std::chrono::steady_clock::time_point expires;
  };
  void ExpireLeasesLocked();
  void EraseLeaseLocked(int64_t lease);

  std::mutex mu_;
  std::condition_variable changed_;
  std::map<std::string, Value, std::less<>> data_;
  std::map<int64_t, Lease> leases_;
  // Revision of the last change per key, kept for deleted keys too (watchers see deletes).
  std::map<std::string, int64_t, std::less<>> changed_at_;
  int64_t revision_ = 1;
  int64_t next_lease_ = 1;
};

}  // namespace skald::ring
