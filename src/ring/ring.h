// The hash ring: which instances own which 32-bit tokens, and who holds a key's replicas.
//
// Each instance registers a set of random tokens and a state (PENDING, JOINING, ACTIVE,
// LEAVING) and refreshes a heartbeat timestamp; an instance whose heartbeat is older than the
// heartbeat timeout is unhealthy whatever its state. A key (a stream's token) is owned by the
// instances of the first tokens at or after it, clockwise. Ring state lives in a KV store
// (ring/kv.h: etcd in a cluster, in memory in monolithic mode), one key per instance holding
// its description as JSON (docs/formats/ring.md).
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace skald::ring {

enum class State : int { kPending = 0, kJoining = 1, kActive = 2, kLeaving = 3 };

// "PENDING", "JOINING", "ACTIVE", "LEAVING" (Loki's names).
std::string_view StateName(State s);
bool ParseState(std::string_view name, State* out);

struct InstanceDesc {
  std::string id;
  std::string addr;  // host:port other roles reach it at
  std::string zone;
  State state = State::kPending;
  int64_t heartbeat_ns = 0;      // Unix ns of the last heartbeat
  int64_t registered_ns = 0;     // Unix ns when it first joined
  std::vector<uint32_t> tokens;  // sorted ascending, distinct
};

// The instance as the JSON object stored under its key; DecodeInstance parses it back
// (Corruption on malformed input; unknown fields are ignored).
std::string EncodeInstance(const InstanceDesc& d);
StatusOr<InstanceDesc> DecodeInstance(std::string_view json);

// `n` random tokens, none in `taken`, sorted ascending.
std::vector<uint32_t> GenerateTokens(int n, const std::set<uint32_t>& taken, uint64_t seed);

enum class Operation { kWrite, kRead };

// Whether `d` may take `op` at `now_ns`: a fresh heartbeat, and ACTIVE (writes) or
// ACTIVE / LEAVING (reads: a leaving instance still answers for what it holds).
bool Healthy(const InstanceDesc& d, Operation op, int64_t now_ns, int64_t heartbeat_timeout_ns);

struct ReplicationSet {
  std::vector<const InstanceDesc*> instances;  // healthy replicas, in ring order
  int max_errors = 0;  // how many of them may fail while a quorum still succeeds
};

// An immutable snapshot of the ring.
class Ring {
 public:
  Ring() = default;
  Ring(std::vector<InstanceDesc> instances, int64_t heartbeat_timeout_ns);

  // The replicas of `key`: walking clockwise from `key`, the first `replication_factor`
  // distinct instances (fewer when the ring has fewer), where each unhealthy one met is
  // skipped and replaced by the next owner. Unavailable ("at least N live replicas required,
  // could only find M") when fewer than a quorum (rf/2 + 1) are healthy.
  StatusOr<ReplicationSet> Get(uint32_t key, Operation op, int replication_factor,
                               int64_t now_ns) const;

  const std::vector<InstanceDesc>& instances() const { return instances_; }
  const InstanceDesc* Find(std::string_view id) const;
  int64_t heartbeat_timeout_ns() const { return heartbeat_timeout_ns_; }
  // Share of the token space each instance owns, by id order of instances().
  std::vector<double> Ownership() const;

 private:
  struct TokenOwner {
    uint32_t token;
    uint32_t instance;  // index into instances_
  };
  std::vector<InstanceDesc> instances_;  // sorted by id
  std::vector<TokenOwner> tokens_;       // sorted by token
  int64_t heartbeat_timeout_ns_ = 0;
};

// The 32-bit ring token of a 64-bit stream fingerprint (its high and low halves folded).
inline uint32_t TokenFor(uint64_t fingerprint) {
  return static_cast<uint32_t>(fingerprint >> 32) ^ static_cast<uint32_t>(fingerprint);
}

}  // namespace skald::ring
