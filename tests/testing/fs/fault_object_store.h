// FaultObjectStore: an ObjectStore wrapper for tests that fails the operations a rule
// selects (by operation and key substring) with IOError, can fail operations at random (a
// flapping store) and delay every operation (a slow one), and passes everything else to
// the wrapped store. Faults can change while the store is in use. Thread-safe.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "storage/object_store.h"

namespace skald::storage {

class FaultObjectStore : public ObjectStore {
 public:
  enum class Op { kPut, kGet, kList, kDelete };

  // base must outlive the wrapper.
  explicit FaultObjectStore(ObjectStore* base) : base_(base) {}

  // From now on, `op` on every key containing `key_substring` ("" = every key) fails.
  void FailWhen(Op op, std::string key_substring);
  // From now on every operation fails (Unavailable) with probability 1/one_in, drawn from a
  // generator seeded with `seed`; 0 stops it.
  void Flap(uint32_t one_in, uint64_t seed);
  // Every operation first sleeps this long (0: none).
  void SetLatency(std::chrono::microseconds latency);
  // Removes every rule, the flapping and the latency.
  void Heal();
  // Operations failed so far.
  size_t failures() const;

  Status Put(std::string_view key, std::string_view data) override;
  StatusOr<std::string> Get(std::string_view key) override;
  StatusOr<std::vector<std::string>> List(std::string_view prefix) override;
  Status Delete(std::string_view key) override;

 private:
  // IOError when a rule selects (op, key), OK otherwise.
  Status Check(Op op, std::string_view key);

  ObjectStore* base_;
  mutable std::mutex mu_;
  std::vector<std::pair<Op, std::string>> rules_;
  uint32_t flap_one_in_ = 0;
  std::mt19937_64 flap_rng_;
  std::chrono::microseconds latency_{0};
  size_t failures_ = 0;
};

}  // namespace skald::storage
