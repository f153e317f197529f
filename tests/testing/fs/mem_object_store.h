// In-memory ObjectStore: for tests and for single-process setups that do not
// need persistence. Same key rules and semantics as every other store.
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "storage/object_store.h"

namespace skald::storage {

class MemObjectStore : public ObjectStore {
 public:
  Status Put(std::string_view key, std::string_view data) override;
  StatusOr<std::string> Get(std::string_view key) override;
  StatusOr<std::vector<std::string>> List(std::string_view prefix) override;
  Status Delete(std::string_view key) override;

  // Number of objects stored. Thread-safe.
  size_t size() const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::string, std::less<>> objects_;
};

}  // namespace skald::storage
