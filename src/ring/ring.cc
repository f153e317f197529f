#include "ring/ring.h"

#include <simdjson.h>

#include <algorithm>
#include <random>

#include "core/json_escape.h"

namespace skald::ring {

std::string_view StateName(State s) {
  switch (s) {
    case State::kPending:
      return "PENDING";
    case State::kJoining:
      return "JOINING";
    case State::kActive:
      return "ACTIVE";
    case State::kLeaving:
      return "LEAVING";
  }
  return "UNKNOWN";
}

bool ParseState(std::string_view name, State* out) {
  for (State s : {State::kPending, State::kJoining, State::kActive, State::kLeaving}) {
    if (name == StateName(s)) {
      *out = s;
      return true;
    }
  }
  return false;
}

std::string EncodeInstance(const InstanceDesc& d) {
  std::string out = "{\"id\":";
  AppendJsonString(&out, d.id);
  out += ",\"addr\":";
  AppendJsonString(&out, d.addr);
  out += ",\"zone\":";
  AppendJsonString(&out, d.zone);
  out += ",\"state\":\"";
  out += StateName(d.state);
  out += "\",\"heartbeat_ns\":" + std::to_string(d.heartbeat_ns);
  out += ",\"registered_ns\":" + std::to_string(d.registered_ns);
  out += ",\"tokens\":[";
  for (size_t i = 0; i < d.tokens.size(); i++) {
    if (i > 0) out.push_back(',');
    out += std::to_string(d.tokens[i]);
  }
  out += "]}";
  return out;
}

StatusOr<InstanceDesc> DecodeInstance(std::string_view json) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  simdjson::padded_string padded(json);
  if (parser.parse(padded).get(doc) != simdjson::SUCCESS || !doc.is_object()) {
    return Status::Corruption("ring: instance description is not a JSON object");
  }
  InstanceDesc d;
  std::string_view s;
  if (doc["id"].get(s) != simdjson::SUCCESS || s.empty()) {
    return Status::Corruption("ring: instance description has no id");
  }
  d.id = std::string(s);
  if (doc["addr"].get(s) == simdjson::SUCCESS) d.addr = std::string(s);
  if (doc["zone"].get(s) == simdjson::SUCCESS) d.zone = std::string(s);
  if (doc["state"].get(s) != simdjson::SUCCESS || !ParseState(s, &d.state)) {
    return Status::Corruption("ring: instance " + d.id + " has no valid state");
  }
  int64_t n = 0;
  if (doc["heartbeat_ns"].get(n) == simdjson::SUCCESS) d.heartbeat_ns = n;
  if (doc["registered_ns"].get(n) == simdjson::SUCCESS) d.registered_ns = n;
  simdjson::dom::array tokens;
  if (doc["tokens"].get(tokens) == simdjson::SUCCESS) {
    for (simdjson::dom::element t : tokens) {
      uint64_t v = 0;
      if (t.get(v) != simdjson::SUCCESS || v > UINT32_MAX) {
        return Status::Corruption("ring: instance " + d.id + " has a bad token");
      }
      d.tokens.push_back(static_cast<uint32_t>(v));
    }
  }
  std::sort(d.tokens.begin(), d.tokens.end());
  d.tokens.erase(std::unique(d.tokens.begin(), d.tokens.end()), d.tokens.end());
  return d;
}

std::vector<uint32_t> GenerateTokens(int n, const std::set<uint32_t>& taken, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::set<uint32_t> out;
  while (static_cast<int>(out.size()) < n) {
    const auto t = static_cast<uint32_t>(rng());
    if (taken.count(t) == 0) out.insert(t);
  }
  return {out.begin(), out.end()};
}

bool Healthy(const InstanceDesc& d, Operation op, int64_t now_ns, int64_t heartbeat_timeout_ns) {
  if (heartbeat_timeout_ns > 0 && now_ns - d.heartbeat_ns > heartbeat_timeout_ns) return false;
  if (op == Operation::kWrite) return d.state == State::kActive;
  return d.state == State::kActive || d.state == State::kLeaving;
}

Ring::Ring(std::vector<InstanceDesc> instances, int64_t heartbeat_timeout_ns)
    : instances_(std::move(instances)), heartbeat_timeout_ns_(heartbeat_timeout_ns) {
  std::sort(instances_.begin(), instances_.end(),
            [](const InstanceDesc& a, const InstanceDesc& b) { return a.id < b.id; });
  for (uint32_t i = 0; i < instances_.size(); i++) {
    for (uint32_t t : instances_[i].tokens) tokens_.push_back({t, i});
  }
  // A token two instances claim (a race at join) goes to the smaller id, deterministically.
  std::sort(tokens_.begin(), tokens_.end(), [](const TokenOwner& a, const TokenOwner& b) {
    return a.token != b.token ? a.token < b.token : a.instance < b.instance;
  });
  tokens_.erase(
      std::unique(tokens_.begin(), tokens_.end(),
                  [](const TokenOwner& a, const TokenOwner& b) { return a.token == b.token; }),
      tokens_.end());
}

const InstanceDesc* Ring::Find(std::string_view id) const {
  auto it = std::lower_bound(instances_.begin(), instances_.end(), id,
                             [](const InstanceDesc& d, std::string_view k) { return d.id < k; });
  return it != instances_.end() && it->id == id ? &*it : nullptr;
}

StatusOr<ReplicationSet> Ring::Get(uint32_t key, Operation op, int replication_factor,
                                   int64_t now_ns) const {
  if (tokens_.empty()) return Status::Unavailable("empty ring");
  const int rf =
      std::min<int>(std::max(replication_factor, 1), static_cast<int>(instances_.size()));
  const int quorum = rf / 2 + 1;
  ReplicationSet set;
  std::vector<bool> seen(instances_.size(), false);
  int wanted = rf, distinct = 0;
  auto it = std::lower_bound(tokens_.begin(), tokens_.end(), key,
                             [](const TokenOwner& t, uint32_t k) { return t.token < k; });
  size_t start = static_cast<size_t>(it - tokens_.begin());
  for (size_t n = 0; n < tokens_.size() && distinct < wanted; n++) {
    const TokenOwner& owner = tokens_[(start + n) % tokens_.size()];
    if (seen[owner.instance]) continue;
    seen[owner.instance] = true;
    distinct++;
    const InstanceDesc& d = instances_[owner.instance];
    if (Healthy(d, op, now_ns, heartbeat_timeout_ns_)) {
      set.instances.push_back(&d);
    } else {
      wanted++;  // the next owner takes its place
    }
  }
  if (static_cast<int>(set.instances.size()) < quorum) {
    return Status::Unavailable("at least " + std::to_string(quorum) +
                               " live replicas required, could only find " +
                               std::to_string(set.instances.size()));
  }
  if (static_cast<int>(set.instances.size()) > rf) set.instances.resize(rf);
  set.max_errors = static_cast<int>(set.instances.size()) - quorum;
  return set;
}

std::vector<double> Ring::Ownership() const {
  std::vector<double> share(instances_.size(), 0);
  if (tokens_.empty()) return share;
  // A token owns the range from the previous token (exclusive) up to itself.
  for (size_t i = 0; i < tokens_.size(); i++) {
    const uint32_t prev = tokens_[(i + tokens_.size() - 1) % tokens_.size()].token;
    const uint32_t width = tokens_[i].token - prev;  // wraps around for the first token
    share[tokens_[i].instance] +=
        (tokens_.size() == 1 ? 4294967296.0 : static_cast<double>(width)) / 4294967296.0;
  }
  return share;
}

}  // namespace skald::ring
