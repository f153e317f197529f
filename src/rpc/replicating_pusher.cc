#include "rpc/replicating_pusher.h"

#include <vector>

#include "core/time.h"

namespace skald::rpc {

ReplicatingPusher::ReplicatingPusher(std::function<std::shared_ptr<const ring::Ring>()> ring,
                                     int replication_factor, int64_t timeout_ns)
    : ring_(std::move(ring)),
      rf_(replication_factor),
      timeout_ns_(timeout_ns),
      pool_(std::make_unique<ThreadPool>("skald-replicate", 8, 0)) {}

ReplicatingPusher::~ReplicatingPusher() = default;

RemotePusher* ReplicatingPusher::ClientFor(const std::string& addr) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& c = clients_[addr];
  if (c == nullptr) c = std::make_unique<RemotePusher>(addr, timeout_ns_);
  return c.get();
}

Status ReplicatingPusher::PushBatch(std::string_view tenant,
                                    std::span<ingester::StreamAppend> streams) {
  const std::shared_ptr<const ring::Ring> ring = ring_();
  const int64_t now = NowNanos();
  // Which streams each ingester (by address) gets, and how many successes each stream needs.
  std::map<std::string, std::vector<size_t>> by_addr;
  std::vector<int> need(streams.size()), got(streams.size(), 0);
  for (size_t i = 0; i < streams.size(); i++) {
    ingester::StreamAppend& s = streams[i];
    if (s.fingerprint == 0) s.fingerprint = s.labels->Fingerprint();
    auto set = ring->Get(ring::TokenFor(s.fingerprint), ring::Operation::kWrite, rf_, now);
    if (!set.ok()) return set.status();
    need[i] = static_cast<int>(set->instances.size()) - set->max_errors;
    for (const ring::InstanceDesc* d : set->instances) by_addr[d->addr].push_back(i);
  }
  // One request per ingester, in parallel; ingesters given the same streams (replicas: with
  // as many ingesters as the replication factor, all of them) share one built request.
  std::map<std::vector<size_t>, std::unique_ptr<EncodedPush>> built;
  struct Call {
    std::string addr;
    const EncodedPush* push = nullptr;
    Status status;
  };
  std::vector<Call> calls;
  calls.reserve(by_addr.size());
  for (auto& [addr, idx] : by_addr) {
    std::unique_ptr<EncodedPush>& push = built[idx];
    if (push == nullptr) push = std::make_unique<EncodedPush>(streams, idx);
    Call c;
    c.addr = addr;
    c.push = push.get();
    calls.push_back(std::move(c));
  }
  ParallelFor(pool_.get(), calls.size(), calls.empty() ? 0 : calls.size() - 1, [&](size_t k) {
    calls[k].status = ClientFor(calls[k].addr)->Send(tenant, *calls[k].push);
  });

  Status refusal;  // the first client error an ingester gave
  std::string unavailable;
  for (size_t k = 0; k < calls.size(); k++) {
    const auto& idx = by_addr[calls[k].addr];
    if (calls[k].status.ok()) {
      for (size_t i : idx) got[i]++;
    } else if (calls[k].status.code() == StatusCode::kUnavailable) {
      if (unavailable.empty()) unavailable = calls[k].addr + ": " + calls[k].status.message();
    } else if (refusal.ok()) {
      refusal = calls[k].status;
    }
  }
  int worst = INT32_MAX, worst_need = 0;
  for (size_t i = 0; i < streams.size(); i++) {
    if (got[i] >= need[i]) {
      streams[i].result = {};
      streams[i].result.appended = static_cast<uint32_t>(streams[i].entries.size());
    } else if (got[i] < worst) {
      worst = got[i];
      worst_need = need[i];
    }
  }
  if (worst == INT32_MAX) return Status::OK();
  if (!refusal.ok()) return refusal;
  return Status::Unavailable("at least " + std::to_string(worst_need) +
                             " live replicas required, could only write " + std::to_string(worst) +
                             " (" + unavailable + ")");
}

}  // namespace skald::rpc
