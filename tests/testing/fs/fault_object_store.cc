// FaultObjectStore: see fault_object_store.h.
#include "testing/fs/fault_object_store.h"

#include <thread>

namespace skald::storage {

void FaultObjectStore::FailWhen(Op op, std::string key_substring) {
  std::lock_guard<std::mutex> lock(mu_);
  rules_.emplace_back(op, std::move(key_substring));
}

void FaultObjectStore::Flap(uint32_t one_in, uint64_t seed) {
  std::lock_guard<std::mutex> lock(mu_);
  flap_one_in_ = one_in;
  flap_rng_.seed(seed);
}

void FaultObjectStore::SetLatency(std::chrono::microseconds latency) {
  std::lock_guard<std::mutex> lock(mu_);
  latency_ = latency;
}

void FaultObjectStore::Heal() {
  std::lock_guard<std::mutex> lock(mu_);
  rules_.clear();
  flap_one_in_ = 0;
  latency_ = std::chrono::microseconds(0);
}

size_t FaultObjectStore::failures() const {
  std::lock_guard<std::mutex> lock(mu_);
  return failures_;
}

Status FaultObjectStore::Check(Op op, std::string_view key) {
  std::unique_lock<std::mutex> lock(mu_);
  if (latency_.count() > 0) {
    const auto latency = latency_;
    lock.unlock();  // slow, not serial: concurrent operations sleep side by side
    std::this_thread::sleep_for(latency);
    lock.lock();
  }
  if (flap_one_in_ > 0 && flap_rng_() % flap_one_in_ == 0) {
    failures_++;
    return Status::Unavailable("injected flap on " + std::string(key));
  }
  for (const auto& [rule_op, sub] : rules_) {
    if (rule_op == op && key.find(sub) != std::string_view::npos) {
      failures_++;
      return Status::IOError("injected fault on " + std::string(key));
    }
  }
  return Status::OK();
}

Status FaultObjectStore::Put(std::string_view key, std::string_view data) {
  SKALD_RETURN_IF_ERROR(Check(Op::kPut, key));
  return base_->Put(key, data);
}

StatusOr<std::string> FaultObjectStore::Get(std::string_view key) {
  SKALD_RETURN_IF_ERROR(Check(Op::kGet, key));
  return base_->Get(key);
}

StatusOr<std::vector<std::string>> FaultObjectStore::List(std::string_view prefix) {
  SKALD_RETURN_IF_ERROR(Check(Op::kList, prefix));
  return base_->List(prefix);
}

Status FaultObjectStore::Delete(std::string_view key) {
  SKALD_RETURN_IF_ERROR(Check(Op::kDelete, key));
  return base_->Delete(key);
}

}  // namespace skald::storage
