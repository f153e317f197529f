#include "ring/watcher.h"

#include "core/logging.h"
#include "core/time.h"
#include "ring/lifecycler.h"

namespace skald::ring {

RingWatcher::RingWatcher(KV* kv, std::string prefix, int64_t heartbeat_timeout_ns,
                         std::chrono::milliseconds refresh)
    : kv_(kv),
      prefix_(std::move(prefix)),
      heartbeat_timeout_ns_(heartbeat_timeout_ns),
      refresh_(refresh),
      ring_(std::make_shared<Ring>()) {}

RingWatcher::~RingWatcher() { Stop(); }

Status RingWatcher::Refresh(int64_t* revision) {
  SKALD_ASSIGN_OR_RETURN(Ring r, ReadRing(kv_, prefix_, heartbeat_timeout_ns_, revision));
  auto snapshot = std::make_shared<const Ring>(std::move(r));
  const int64_t now = NowNanos();
  int write = 0, read = 0;
  for (const InstanceDesc& d : snapshot->instances()) {
    write += ring::Healthy(d, Operation::kWrite, now, heartbeat_timeout_ns_) ? 1 : 0;
    read += ring::Healthy(d, Operation::kRead, now, heartbeat_timeout_ns_) ? 1 : 0;
  }
  std::lock_guard<std::mutex> lock(mu_);
  ring_ = std::move(snapshot);
  healthy_write_.store(write, std::memory_order_relaxed);
  healthy_read_.store(read, std::memory_order_relaxed);
  return Status::OK();
}

Status RingWatcher::Start() {
  int64_t revision = 0;
  SKALD_RETURN_IF_ERROR(Refresh(&revision));
  stop_ = false;
  thread_ = std::thread([this, revision] { Loop(revision); });
  return Status::OK();
}

void RingWatcher::Loop(int64_t revision) {
  while (!stop_.load()) {
    // A watch bounded by the refresh period (so Stop() waits at most that long).
    auto changed = kv_->WaitForChange(prefix_, revision, refresh_);
    if (stop_.load()) break;
    if (!changed.ok()) {
      log::Warn("ring watch failed", {{"prefix", prefix_}, {"err", changed.status().ToString()}});
      std::this_thread::sleep_for(refresh_);
    }
    int64_t rev = revision;
    Status st = Refresh(&rev);
    if (st.ok()) {
      revision = rev;
    } else {
      log::Warn("ring read failed", {{"prefix", prefix_}, {"err", st.ToString()}});
    }
  }
}

void RingWatcher::Stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

std::shared_ptr<const Ring> RingWatcher::ring() const {
  std::lock_guard<std::mutex> lock(mu_);
  return ring_;
}

int RingWatcher::Healthy(Operation op, int floor) const {
  const int n =
      (op == Operation::kWrite ? healthy_write_ : healthy_read_).load(std::memory_order_relaxed);
  return std::max(n, floor);
}

}  // namespace skald::ring
