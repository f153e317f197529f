// FaultObjectStore: an ObjectStore wrapper for tests that fails the operations a rule
// selects (by operation and key substring) with IOError, and passes everything else to
// the wrapped store. Rules can change while the store is in use. Thread-safe.
#pragma once

#include <cstddef>
#include <mutex>
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
  // Removes every rule.
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
  size_t failures_ = 0;
};

}  // namespace skald::storage
