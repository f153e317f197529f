// MemObjectStore: see mem_object_store.h.
#include "testing/fs/mem_object_store.h"

namespace skald::storage {

Status MemObjectStore::Put(std::string_view key, std::string_view data) {
  SKALD_RETURN_IF_ERROR(ValidateKey(key));
  std::string copy(data);  // copy outside the lock
  std::lock_guard<std::mutex> lock(mu_);
  auto it = objects_.find(key);
  if (it == objects_.end()) {
    objects_.emplace(std::string(key), std::move(copy));
  } else {
    it->second = std::move(copy);
  }
  return Status::OK();
}

StatusOr<std::string> MemObjectStore::Get(std::string_view key) {
  SKALD_RETURN_IF_ERROR(ValidateKey(key));
  std::lock_guard<std::mutex> lock(mu_);
  auto it = objects_.find(key);
  if (it == objects_.end()) return Status::NotFound("object not found: " + std::string(key));
  return it->second;
}

StatusOr<std::vector<std::string>> MemObjectStore::List(std::string_view prefix) {
  SKALD_RETURN_IF_ERROR(ValidateKeyPrefix(prefix));
  std::vector<std::string> keys;
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = objects_.lower_bound(prefix);
       it != objects_.end() && std::string_view(it->first).substr(0, prefix.size()) == prefix;
       ++it) {
    keys.push_back(it->first);
  }
  return keys;
}

Status MemObjectStore::Delete(std::string_view key) {
  SKALD_RETURN_IF_ERROR(ValidateKey(key));
  std::lock_guard<std::mutex> lock(mu_);
  auto it = objects_.find(key);
  if (it != objects_.end()) objects_.erase(it);
  return Status::OK();
}

size_t MemObjectStore::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return objects_.size();
}

}  // namespace skald::storage
