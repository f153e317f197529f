#include "pattern/drain.h"

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "core/string_hash.h"

namespace skald::pattern {

namespace {
// Heterogeneous lookup: tokens are string_views into the line, keys are owned strings.
using TokenHash = StringViewHash;
using TokenEq = StringViewEq;
}  // namespace

struct Drain::Node {
  std::unordered_map<std::string, std::unique_ptr<Node>, TokenHash, TokenEq> children;
  std::vector<int> cluster_ids;
};

namespace {

int64_t Truncate(int64_t ts, int64_t step) {
  int64_t r = ts % step;
  if (r < 0) r += step;  // Go's % keeps the sign; timestamps before 1970 are not expected
  return ts - r;
}

bool HasDigit(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

int64_t SteadyNowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

size_t LogCluster::sample_count() const {
  size_t n = 0;
  for (const auto& c : chunks_) n += c.size();
  return n;
}

void LogCluster::Add(int64_t ts_ms, const DrainConfig& cfg) {
  size_++;
  const int64_t t = Truncate(ts_ms, cfg.sample_interval_ms);
  if (chunks_.empty()) {
    chunks_.push_back({{t, 1}});
    return;
  }
  std::vector<Sample>& last = chunks_.back();
  if (last.back().ts_ms == t) {
    last.back().count++;
    return;
  }
  if (t - last.front().ts_ms >= cfg.max_chunk_age_ms) {
    chunks_.push_back({{t, 1}});
    return;
  }
  if (ts_ms < last.back().ts_ms) return;  // out of order: not counted (as Loki)
  last.push_back({t, 1});
}

int64_t LogCluster::Prune(int64_t cutoff_ms) {
  int64_t dropped = 0;
  std::erase_if(chunks_, [&](const std::vector<Sample>& c) {
    if (c.back().ts_ms >= cutoff_ms) return false;
    for (const Sample& s : c) dropped += s.count;
    return true;
  });
  size_ = 0;
  for (const auto& c : chunks_) {
    for (const Sample& s : c) size_ += s.count;
  }
  return dropped;
}

void LogCluster::AppendRange(int64_t from_ms, int64_t through_ms, int64_t step_ms,
                             int64_t sample_interval_ms, std::vector<Sample>* out) const {
  for (const std::vector<Sample>& c : chunks_) {
    if (c.empty()) continue;
    const int64_t first = c.front().ts_ms, last = c.back().ts_ms;
    if (from_ms >= through_ms || first >= through_ms || last < from_ms) continue;
    auto by_ts = [](const Sample& s, int64_t t) { return s.ts_ms < t; };
    size_t lo = 0, hi = c.size();
    if (from_ms > first) lo = std::lower_bound(c.begin(), c.end(), from_ms, by_ts) - c.begin();
    if (through_ms < last) {
      hi = std::lower_bound(c.begin(), c.end(), through_ms, by_ts) - c.begin();
    }
    if (lo >= hi) continue;
    if (step_ms == sample_interval_ms) {
      out->insert(out->end(), c.begin() + static_cast<ptrdiff_t>(lo),
                  c.begin() + static_cast<ptrdiff_t>(hi));
      continue;
    }
    int64_t current = Truncate(c[lo].ts_ms, step_ms);
    out->push_back({current, 0});
    for (size_t i = lo; i < hi; i++) {
      if (c[i].ts_ms >= current + step_ms) {
        const int64_t bucket = Truncate(c[i].ts_ms, step_ms);
        for (int64_t t = current + step_ms; t <= bucket; t += step_ms) out->push_back({t, 0});
        current = bucket;
      }
      out->back().count += c[i].count;
    }
  }
}

Drain::Drain(const DrainConfig& config, LineFormat format, DrainStats* stats,
             std::function<int64_t()> now_ns)
    : cfg_(config),
      max_node_depth_(std::max(config.log_cluster_depth, 3) - 2),
      tokenizer_(format, config.max_allowed_line_length, config.json_fields),
      stats_(stats),
      now_ns_(now_ns ? std::move(now_ns) : SteadyNowNs),
      root_(std::make_unique<Node>()) {}

Drain::~Drain() = default;

bool Drain::Allow() {
  if (blocked_until_ns_ != 0) {
    if (now_ns_() < blocked_until_ns_) return false;
    added_ = evicted_ = blocked_until_ns_ = 0;
  }
  if (added_ == 0) {
    added_++;
    return true;
  }
  if (static_cast<double>(evicted_) / static_cast<double>(added_) > cfg_.max_eviction_ratio) {
    blocked_until_ns_ = now_ns_() + cfg_.limiter_block_ns;
    return false;
  }
  added_++;
  return true;
}

LogCluster* Drain::Get(int id) {
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return nullptr;
  lru_.splice(lru_.end(), lru_, it->second);
  return it->second->get();
}

const LogCluster* Drain::Peek(int id) const {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : it->second->get();
}

void Drain::Set(std::unique_ptr<LogCluster> c) {
  const int id = c->id_;
  lru_.push_back(std::move(c));
  by_id_[id] = std::prev(lru_.end());
  if (cfg_.max_clusters > 0 && lru_.size() > static_cast<size_t>(cfg_.max_clusters)) {
    Remove(lru_.front()->id_, /*pruning=*/false);
  }
}

void Drain::Remove(int id, bool pruning) {
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return;
  lru_.erase(it->second);
  by_id_.erase(it);
  if (pruning) {
    if (stats_) stats_->pruned++;
  } else {
    if (stats_) stats_->evicted++;
    evicted_++;
  }
}

const LogCluster* Drain::Train(std::string_view line, int64_t ts_ns) {
  if (!Allow()) {
    if (stats_) stats_->skipped_throttled++;
    return nullptr;
  }
  SkipReason why;
  if (!tokenizer_.Tokenize(line, &tokens_, &spaces_, &why)) {
    if (stats_) {
      (why == SkipReason::kLineTooLong ? stats_->skipped_too_long : stats_->skipped_unparsed)++;
    }
    return nullptr;
  }
  if (tokens_.size() < static_cast<size_t>(cfg_.min_tokens)) {
    if (stats_) stats_->skipped_too_few++;
    return nullptr;
  }
  if (tokens_.size() > static_cast<size_t>(cfg_.max_tokens)) {
    if (stats_) stats_->skipped_too_many++;
    return nullptr;
  }
  // Go's model.TimeFromUnixNano: integer division (toward zero).
  const int64_t ts_ms = ts_ns / 1000000;
  LogCluster* match = TreeSearch(tokens_);
  if (match == nullptr) {
    auto c = std::make_unique<LogCluster>();
    c->id_ = ++clusters_counter_;
    c->tokens_.assign(tokens_.begin(), tokens_.end());
    c->spaces_ = spaces_;
    c->volume_ = static_cast<int64_t>(line.size());
    c->Add(ts_ms, cfg_);
    LogCluster* raw = c.get();
    Set(std::move(c));
    AddSeqToPrefixTree(raw);
    if (stats_) stats_->detected++;
    return raw;
  }
  for (size_t i = 0; i < tokens_.size(); i++) {
    if (match->tokens_[i] != tokens_[i]) match->tokens_[i] = kPlaceholder;
  }
  match->Add(ts_ms, cfg_);
  match->volume_ += static_cast<int64_t>(line.size());
  Get(match->id_);
  return match;
}

LogCluster* Drain::TreeSearch(const std::vector<std::string_view>& tokens) {
  const size_t token_count = tokens.size();
  char count_key[24];
  const int count_len = std::snprintf(count_key, sizeof count_key, "%zu", token_count);
  auto first = root_->children.find(std::string_view(count_key, static_cast<size_t>(count_len)));
  if (first == root_->children.end()) return nullptr;
  Node* cur = first->second.get();
  int depth = 1;
  for (std::string_view token : tokens) {
    if (depth >= max_node_depth_) break;
    if (static_cast<size_t>(depth) == token_count) break;
    auto it = cur->children.find(token);
    if (it == cur->children.end()) it = cur->children.find(kPlaceholder);
    if (it == cur->children.end()) return nullptr;
    cur = it->second.get();
    depth++;
  }
  // fastMatch: the most similar cluster of the leaf (ties: more placeholders).
  LogCluster* best = nullptr;
  double max_sim = -1.0;
  int max_params = -1;
  for (int id : cur->cluster_ids) {
    LogCluster* c = Get(id);
    if (c == nullptr) continue;
    int sim = 0, params = 0;
    for (size_t i = 0; i < token_count; i++) {
      if (c->tokens_[i] == kPlaceholder) {
        params++;
      } else if (c->tokens_[i] == tokens[i]) {
        sim++;
      }
    }
    const double s = static_cast<double>(sim) / static_cast<double>(token_count);
    if (s > max_sim || (s == max_sim && params > max_params)) {
      max_sim = s;
      max_params = params;
      best = c;
    }
  }
  return max_sim >= cfg_.sim_th ? best : nullptr;
}

void Drain::AddSeqToPrefixTree(LogCluster* c) {
  const size_t token_count = c->tokens_.size();
  auto& first = root_->children[std::to_string(token_count)];
  if (!first) first = std::make_unique<Node>();
  Node* cur = first.get();
  if (token_count == 0) {
    cur->cluster_ids.push_back(c->id_);
    return;
  }
  const std::string param(kPlaceholder);
  const size_t max_children = static_cast<size_t>(cfg_.max_children);
  int depth = 1;
  for (const std::string& token : c->tokens_) {
    if (depth >= max_node_depth_ || static_cast<size_t>(depth) >= token_count) {
      std::vector<int> ids;
      ids.reserve(cur->cluster_ids.size() + 1);
      for (int id : cur->cluster_ids) {
        if (Get(id) != nullptr) ids.push_back(id);
      }
      ids.push_back(c->id_);
      cur->cluster_ids = std::move(ids);
      break;
    }
    auto& kids = cur->children;
    auto it = kids.find(token);
    if (it != kids.end()) {
      cur = it->second.get();
    } else if (!HasDigit(token)) {
      const bool has_param = kids.count(param) > 0;
      if (has_param) {
        if (kids.size() < max_children) {
          cur = (kids[token] = std::make_unique<Node>()).get();
        } else {
          cur = kids[param].get();
        }
      } else if (kids.size() + 1 < max_children) {
        cur = (kids[token] = std::make_unique<Node>()).get();
      } else if (kids.size() + 1 == max_children) {
        cur = (kids[param] = std::make_unique<Node>()).get();
      } else {
        auto& p = kids[param];  // unreachable with a consistent tree
        if (!p) p = std::make_unique<Node>();
        cur = p.get();
      }
    } else {
      auto& p = kids[param];
      if (!p) p = std::make_unique<Node>();
      cur = p.get();
    }
    depth++;
  }
}

std::vector<const LogCluster*> Drain::Clusters() const {
  std::vector<const LogCluster*> out;
  out.reserve(lru_.size());
  for (const auto& c : lru_) out.push_back(c.get());
  return out;
}

int Drain::PruneTree(Node* node) {
  for (auto it = node->children.begin(); it != node->children.end();) {
    if (PruneTree(it->second.get()) == 0) {
      it = node->children.erase(it);
    } else {
      ++it;
    }
  }
  int valid = 0;
  for (int id : node->cluster_ids) {
    if (Get(id) != nullptr) valid++;
  }
  return static_cast<int>(node->children.size()) + valid;
}

size_t Drain::Prune(int64_t cutoff_ms) {
  std::vector<int> empty;
  for (const auto& c : lru_) {
    c->Prune(cutoff_ms);
    if (c->size_ == 0) empty.push_back(c->id_);
  }
  for (int id : empty) Remove(id, /*pruning=*/true);
  PruneTree(root_.get());
  return lru_.size();
}

size_t Drain::MemoryBytes() const {
  size_t n = sizeof(*this);
  for (const auto& c : lru_) {
    n += sizeof(LogCluster) + 64;  // list node + map entry
    for (const std::string& t : c->tokens_) n += sizeof(std::string) + t.capacity();
    n += c->spaces_.capacity() * sizeof(int);
    for (const auto& ch : c->chunks_) n += sizeof(ch) + ch.capacity() * sizeof(Sample);
  }
  // The tree: a node per distinct prefix; bounded by clusters * depth, usually far less.
  n += lru_.size() * 96;
  return n;
}

}  // namespace skald::pattern
