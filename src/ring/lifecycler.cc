#include "ring/lifecycler.h"

#include <chrono>
#include <set>

#include "core/logging.h"
#include "core/time.h"

namespace skald::ring {

Lifecycler::Lifecycler(KV* kv, LifecyclerConfig cfg) : kv_(kv), cfg_(std::move(cfg)) {
  desc_.id = cfg_.id;
  desc_.addr = cfg_.addr;
  desc_.zone = cfg_.zone;
}

Lifecycler::~Lifecycler() { StopHeartbeats(); }

bool Lifecycler::left() const {
  std::lock_guard<std::mutex> lock(mu_);
  return left_;
}

InstanceDesc Lifecycler::desc() const {
  std::lock_guard<std::mutex> lock(mu_);
  return desc_;
}

Status Lifecycler::PublishLocked() {
  desc_.heartbeat_ns = NowNanos();
  Status st = kv_->Put(cfg_.prefix + desc_.id, EncodeInstance(desc_), lease_);
  if (st.code() == StatusCode::kNotFound) {  // the lease ran out: take a new one
    SKALD_ASSIGN_OR_RETURN(lease_, kv_->GrantLease(cfg_.lease_ttl_seconds));
    st = kv_->Put(cfg_.prefix + desc_.id, EncodeInstance(desc_), lease_);
  }
  return st;
}

Status Lifecycler::Join() {
  if (cfg_.id.empty()) return Status::InvalidArgument("ring: an instance needs an id");
  std::set<uint32_t> taken;
  SKALD_ASSIGN_OR_RETURN(std::vector<KVEntry> entries, kv_->List(cfg_.prefix, nullptr));
  std::unique_lock<std::mutex> lock(mu_);
  for (const KVEntry& e : entries) {
    auto d = DecodeInstance(e.value);
    if (!d.ok()) continue;
    if (d->id == cfg_.id) {
      desc_.tokens = d->tokens;  // a restart keeps its tokens (and so its streams)
      desc_.registered_ns = d->registered_ns;
    } else {
      taken.insert(d->tokens.begin(), d->tokens.end());
    }
  }
  if (desc_.tokens.empty()) {
    desc_.tokens =
        GenerateTokens(cfg_.num_tokens, taken,
                       std::hash<std::string>{}(cfg_.id) ^ static_cast<uint64_t>(NowNanos()));
  }
  if (desc_.registered_ns == 0) desc_.registered_ns = NowNanos();
  desc_.state = State::kJoining;
  left_ = false;
  SKALD_ASSIGN_OR_RETURN(lease_, kv_->GrantLease(cfg_.lease_ttl_seconds));
  SKALD_RETURN_IF_ERROR(PublishLocked());
  stopping_ = false;
  if (!heartbeat_.joinable()) heartbeat_ = std::thread([this] { HeartbeatLoop(); });
  return Status::OK();
}

void Lifecycler::SetAddr(std::string addr) {
  std::lock_guard<std::mutex> lock(mu_);
  desc_.addr = std::move(addr);
}

Status Lifecycler::SetState(State s) {
  std::lock_guard<std::mutex> lock(mu_);
  desc_.state = s;
  return PublishLocked();
}

Status Lifecycler::Leave() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    desc_.state = State::kLeaving;
    SKALD_RETURN_IF_ERROR(PublishLocked());
  }
  StopHeartbeats();
  SKALD_RETURN_IF_ERROR(kv_->Delete(cfg_.prefix + cfg_.id));
  std::lock_guard<std::mutex> lock(mu_);
  if (lease_ != 0) (void)kv_->RevokeLease(lease_);
  lease_ = 0;
  left_ = true;
  return Status::OK();
}

void Lifecycler::HeartbeatLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    stop_cv_.wait_for(lock, std::chrono::nanoseconds(cfg_.heartbeat_period_ns),
                      [this] { return stopping_; });
    if (stopping_) break;
    Status st = PublishLocked();
    if (st.ok()) st = kv_->KeepAlive(lease_);
    if (st.ok()) {
      heartbeats_++;
    } else {
      heartbeat_failures_++;
      log::Warn("ring heartbeat failed", {{"instance", cfg_.id}, {"err", st.ToString()}});
    }
  }
}

void Lifecycler::StopHeartbeats() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  if (heartbeat_.joinable()) heartbeat_.join();
}

StatusOr<Ring> ReadRing(KV* kv, std::string_view prefix, int64_t heartbeat_timeout_ns,
                        int64_t* revision) {
  SKALD_ASSIGN_OR_RETURN(std::vector<KVEntry> entries, kv->List(prefix, revision));
  std::vector<InstanceDesc> instances;
  for (const KVEntry& e : entries) {
    auto d = DecodeInstance(e.value);
    if (d.ok()) instances.push_back(std::move(*d));
  }
  return Ring(std::move(instances), heartbeat_timeout_ns);
}

Status Forget(KV* kv, std::string_view prefix, std::string_view id) {
  return kv->Delete(std::string(prefix) + std::string(id));
}

}  // namespace skald::ring
