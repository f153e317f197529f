#include "ring/kv.h"

namespace skald::ring {

void MemKV::EraseLeaseLocked(int64_t lease) {
  leases_.erase(lease);
  for (auto it = data_.begin(); it != data_.end();) {
    if (it->second.lease == lease) {
      changed_at_[it->first] = ++revision_;
      it = data_.erase(it);
    } else {
      ++it;
    }
  }
  changed_.notify_all();
}

void MemKV::ExpireLeasesLocked() {
  const auto now = std::chrono::steady_clock::now();
  std::vector<int64_t> expired;
  for (const auto& [id, l] : leases_) {
    if (l.expires <= now) expired.push_back(id);
  }
  for (int64_t id : expired) EraseLeaseLocked(id);
}

StatusOr<std::vector<KVEntry>> MemKV::List(std::string_view prefix, int64_t* revision) {
  std::lock_guard<std::mutex> lock(mu_);
  ExpireLeasesLocked();
  std::vector<KVEntry> out;
  for (auto it = data_.lower_bound(prefix); it != data_.end() && it->first.starts_with(prefix);
       ++it) {
    out.push_back({it->first, it->second.value, it->second.mod_revision});
  }
  if (revision != nullptr) *revision = revision_;
  return out;
}

Status MemKV::Put(std::string_view key, std::string_view value, int64_t lease) {
  std::lock_guard<std::mutex> lock(mu_);
  ExpireLeasesLocked();
  if (lease != 0 && leases_.count(lease) == 0) {
    return Status::NotFound("requested lease not found");
  }
  Value& v = data_[std::string(key)];
  v.value = std::string(value);
  v.lease = lease;
  v.mod_revision = ++revision_;
  changed_at_[std::string(key)] = revision_;
  changed_.notify_all();
  return Status::OK();
}

Status MemKV::Delete(std::string_view key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = data_.find(key);
  if (it == data_.end()) return Status::OK();
  data_.erase(it);
  changed_at_[std::string(key)] = ++revision_;
  changed_.notify_all();
  return Status::OK();
}

StatusOr<int64_t> MemKV::GrantLease(int64_t ttl_seconds) {
  if (ttl_seconds <= 0) return Status::InvalidArgument("lease TTL must be positive");
  std::lock_guard<std::mutex> lock(mu_);
  const int64_t id = next_lease_++;
  leases_[id] = {std::chrono::seconds(ttl_seconds),
                 std::chrono::steady_clock::now() + std::chrono::seconds(ttl_seconds)};
  return id;
}

Status MemKV::KeepAlive(int64_t lease) {
  std::lock_guard<std::mutex> lock(mu_);
  ExpireLeasesLocked();
  auto it = leases_.find(lease);
  if (it == leases_.end()) return Status::NotFound("requested lease not found");
  it->second.expires = std::chrono::steady_clock::now() + it->second.ttl;
  return Status::OK();
}

Status MemKV::RevokeLease(int64_t lease) {
  std::lock_guard<std::mutex> lock(mu_);
  if (leases_.count(lease) > 0) EraseLeaseLocked(lease);
  return Status::OK();
}

StatusOr<int64_t> MemKV::WaitForChange(std::string_view prefix, int64_t revision,
                                       std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    ExpireLeasesLocked();
    int64_t latest = 0;
    for (auto it = changed_at_.lower_bound(prefix);
         it != changed_at_.end() && it->first.starts_with(prefix); ++it) {
      latest = std::max(latest, it->second);
    }
    if (latest > revision) return latest;
    // Wake up at least every 100 ms so leases expire while nobody else calls in.
    const auto wake =
        std::min(deadline, std::chrono::steady_clock::now() + std::chrono::milliseconds(100));
    if (changed_.wait_until(lock, wake) == std::cv_status::timeout &&
        std::chrono::steady_clock::now() >= deadline) {
      return revision;
    }
  }
}

}  // namespace skald::ring
