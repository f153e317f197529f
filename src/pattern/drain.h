// Drain (He et al., ICWS 2017) as Loki's pattern ingester runs it (pkg/pattern/drain): a
// fixed-depth prefix tree keyed by token count, then by the leading tokens (tokens with
// digits go under the placeholder branch; at most max_children branches per node), whose
// leaves list clusters; a line joins the leaf's most similar cluster when at least sim_th
// of the cluster's non-placeholder tokens are equal position by position, and the tokens
// that differ become the placeholder "<_>". Clusters live in an LRU of max_clusters; an
// eviction by the LRU counts against max_eviction_ratio, past which the Drain refuses lines
// for 10 minutes (Loki's limiter). Each cluster counts its lines in sample_interval buckets,
// in chunks of at most max_chunk_age.
//
// One Drain per (stream, level). Not thread-safe: the owner locks.
#pragma once

#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "pattern/tokenizer.h"

namespace skald::pattern {

// Loki's drain.DefaultConfig() and pattern_ingester defaults.
struct DrainConfig {
  int log_cluster_depth = 30;  // tree depth + 2
  double sim_th = 0.3;
  int max_children = 15;
  int max_clusters = 300;  // per (stream, level); 0 = unbounded
  double max_eviction_ratio = 0.25;
  int max_allowed_line_length = 3000;
  int64_t max_chunk_age_ms = 3600 * 1000;
  int64_t sample_interval_ms = 10 * 1000;
  int min_tokens = 4;   // lines with fewer tokens are skipped
  int max_tokens = 80;  // lines with more tokens are skipped
  // Loki's pattern_ingester_tokenizable_json_fields_default.
  std::vector<std::string> json_fields = {"log", "msg_", "message", "msg", "_msg", "content"};
  int64_t limiter_block_ns = 10LL * 60 * 1000 * 1000 * 1000;
};

struct Sample {
  int64_t ts_ms = 0;  // start of the bucket, Unix milliseconds
  int64_t count = 0;
  friend bool operator==(const Sample&, const Sample&) = default;
};

// What Drain counts (hooks for metrics; all optional).
struct DrainStats {
  uint64_t detected = 0;           // clusters created
  uint64_t evicted = 0;            // clusters dropped by the LRU
  uint64_t pruned = 0;             // clusters dropped because all their samples aged out
  uint64_t skipped_too_few = 0;    // lines with < min_tokens tokens
  uint64_t skipped_too_many = 0;   // lines with > max_tokens tokens
  uint64_t skipped_too_long = 0;   // lines longer than max_allowed_line_length
  uint64_t skipped_unparsed = 0;   // logfmt errors, JSON without a message field
  uint64_t skipped_throttled = 0;  // refused by the eviction-ratio limiter
};

class LogCluster {
 public:
  int id() const { return id_; }
  const std::vector<std::string>& tokens() const { return tokens_; }
  int64_t size() const { return size_; }  // lines counted (after pruning: in the samples kept)
  int64_t volume() const { return volume_; }
  // Samples in time order, chunk by chunk (a chunk spans at most max_chunk_age).
  const std::vector<std::vector<Sample>>& chunks() const { return chunks_; }
  size_t sample_count() const;

  // The samples overlapping [from_ms, through_ms), summed into step_ms buckets (a bucket
  // is truncated to a multiple of step_ms; empty buckets between two samples of one chunk
  // are emitted with count 0 when step_ms > sample interval, as Loki does).
  void AppendRange(int64_t from_ms, int64_t through_ms, int64_t step_ms, int64_t sample_interval_ms,
                   std::vector<Sample>* out) const;

 private:
  friend class Drain;
  void Add(int64_t ts_ms, const DrainConfig& cfg);
  // Drops chunks whose newest sample is older than cutoff_ms; returns the lines dropped.
  int64_t Prune(int64_t cutoff_ms);

  int id_ = 0;
  std::vector<std::string> tokens_;
  std::vector<int> spaces_;
  int64_t size_ = 0;
  int64_t volume_ = 0;
  std::vector<std::vector<Sample>> chunks_;
};

class Drain {
 public:
  // now_ns: the clock of the limiter (tests pass a fake).
  Drain(const DrainConfig& config, LineFormat format, DrainStats* stats,
        std::function<int64_t()> now_ns = nullptr);
  ~Drain();
  Drain(const Drain&) = delete;
  Drain& operator=(const Drain&) = delete;

  // Counts line at ts_ns; returns its cluster, or nullptr when the line was skipped.
  const LogCluster* Train(std::string_view line, int64_t ts_ns);

  // Pattern text of a cluster ("" for a cluster whose logfmt key is invalid).
  std::string PatternOf(const LogCluster& c) const { return tokenizer_.Join(c.tokens_, c.spaces_); }

  // Clusters, least recently used first.
  std::vector<const LogCluster*> Clusters() const;
  size_t cluster_count() const { return lru_.size(); }

  // Drops samples older than cutoff_ms, then clusters left without samples and empty tree
  // branches. Returns the number of clusters left.
  size_t Prune(int64_t cutoff_ms);

  // Approximate bytes held (tokens, samples, tree), for the memory bound.
  size_t MemoryBytes() const;

  const Tokenizer& tokenizer() const { return tokenizer_; }

 private:
  struct Node;
  using LruList = std::list<std::unique_ptr<LogCluster>>;

  LogCluster* Get(int id);  // touches the LRU
  const LogCluster* Peek(int id) const;
  void Set(std::unique_ptr<LogCluster> c);
  void Remove(int id, bool pruning);
  LogCluster* TreeSearch(const std::vector<std::string_view>& tokens);
  void AddSeqToPrefixTree(LogCluster* c);
  int PruneTree(Node* node);
  bool Allow();

  DrainConfig cfg_;
  int max_node_depth_;
  Tokenizer tokenizer_;
  DrainStats* stats_;
  std::function<int64_t()> now_ns_;
  std::unique_ptr<Node> root_;
  LruList lru_;  // most recently used at the back
  std::unordered_map<int, LruList::iterator> by_id_;
  int clusters_counter_ = 0;
  // Limiter (Loki's drain/limiter.go).
  int64_t added_ = 0, evicted_ = 0, blocked_until_ns_ = 0;
  // Scratch for Train.
  std::vector<std::string_view> tokens_;
  std::vector<int> spaces_;
};

}  // namespace skald::pattern
