// The compactor: see compactor.h and docs/formats/compactor.md.
#include "compactor/compactor.h"

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <map>
#include <optional>
#include <set>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "chunk/block.h"
#include "chunk/chunk.h"
#include "core/logging.h"
#include "core/time.h"
#include "index/index_file.h"
#include "storage/chunk_store.h"

namespace skald::compactor {
namespace {

constexpr std::string_view kIndexPrefix = "index/";
constexpr std::string_view kMarkerPrefix = "markers/";
constexpr std::string_view kMarkerHeader = "skald-marker 1\n";

bool ParseHex64(std::string_view s, uint64_t* out) {
  if (s.size() != 16) return false;
  uint64_t v = 0;
  for (char c : s) {
    int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (d < 0) return false;
    v = v << 4 | static_cast<uint64_t>(d);
  }
  *out = v;
  return true;
}

// A marker name's write time: its leading 20 zero-padded decimal digits.
bool ParseMarkerTime(std::string_view name, int64_t* out) {
  if (name.size() < 21 || name[20] != '-') return false;
  int64_t v = 0;
  for (char c : name.substr(0, 20)) {
    if (c < '0' || c > '9' || v > (INT64_MAX - 9) / 10) return false;
    v = v * 10 + (c - '0');
  }
  *out = v;
  return true;
}

// "chunks/<tenant>/<fp>/<min>-<max>-<crc>", or a chunk locator in
// "packs/<tenant>/<min>-<max>-<crc>" -> tenant, min_ts, max_ts.
bool ParseChunkKey(std::string_view key, std::string_view* tenant, int64_t* min_ts,
                   int64_t* max_ts) {
  // A chunk in a pack: the pack's key names the tenant and the span of all of its chunks.
  key = storage::LocatorObject(key);
  constexpr std::string_view kChunks = "chunks/";
  constexpr std::string_view kPacks = "packs/";
  const bool pack = key.substr(0, kPacks.size()) == kPacks;
  if (!pack && key.substr(0, kChunks.size()) != kChunks) return false;
  key.remove_prefix(pack ? kPacks.size() : kChunks.size());
  const size_t a = key.find('/');
  if (a == std::string_view::npos) return false;
  *tenant = key.substr(0, a);
  size_t b = a;
  if (!pack) {
    b = key.find('/', a + 1);
    if (b == std::string_view::npos) return false;
  }
  std::string_view name = key.substr(b + 1);
  uint64_t lo, hi;
  if (name.size() < 34 || name[16] != '-' || name[33] != '-' ||
      !ParseHex64(name.substr(0, 16), &lo) || !ParseHex64(name.substr(17, 16), &hi)) {
    return false;
  }
  *min_ts = static_cast<int64_t>(lo);
  *max_ts = static_cast<int64_t>(hi);
  return true;
}

// Index keys by tenant and day.
using DayKeys = std::map<int64_t, std::vector<std::string>>;
StatusOr<std::map<std::string, DayKeys>> ListIndex(storage::ObjectStore* store,
                                                   std::string_view tenant = {}) {
  std::string prefix(kIndexPrefix);
  if (!tenant.empty()) {
    prefix.append(tenant);
    prefix.push_back('/');
  }
  SKALD_ASSIGN_OR_RETURN(std::vector<std::string> keys, store->List(prefix));
  std::map<std::string, DayKeys> out;
  for (std::string& k : keys) {
    std::string_view tenant_of_key;
    int64_t day;
    if (!index::IndexStore::ParseKey(k, &tenant_of_key, &day)) continue;
    out[std::string(tenant_of_key)][day].push_back(std::move(k));
  }
  return out;
}

// Every object the tenant's index files of `day` reference: chunk objects, and the packs
// holding referenced chunks.
Status CollectRefs(storage::ObjectStore* store, std::string_view tenant, int64_t day,
                   std::unordered_set<std::string>* refs) {
  SKALD_ASSIGN_OR_RETURN(std::vector<std::string> keys,
                         store->List(index::IndexStore::DayPrefix(tenant, day)));
  for (const std::string& k : keys) {
    StatusOr<std::string> bytes = store->Get(k);
    if (!bytes.ok()) {
      if (bytes.status().code() == StatusCode::kNotFound) continue;
      return bytes.status();
    }
    SKALD_ASSIGN_OR_RETURN(index::IndexFileReader r,
                           index::IndexFileReader::Open(std::move(bytes).value()));
    for (uint64_t fp : r.Select({})) {
      for (index::ChunkRef& c : r.Chunks(fp, INT64_MIN, INT64_MAX)) {
        refs->emplace(storage::LocatorObject(c.key));
      }
    }
  }
  return Status::OK();
}

// Rewrites a stored chunk without the entries `erase` removes. Sets *removed to the number of
// entries dropped; *out is unset when none is left.
Status RewriteChunk(storage::ChunkStore* chunks, std::string_view tenant,
                    const index::ChunkRef& ref, logql::Erasure::Stream* erase,
                    std::optional<index::ChunkRef>* out, uint64_t* removed) {
  SKALD_ASSIGN_OR_RETURN(auto stored, chunks->Open(ref.key, tenant, ref.fingerprint));
  const chunk::ChunkHeader& h = stored->header();
  chunk::ChunkWriter writer(h.codec, h.tenant, h.fingerprint, h.labels);
  chunk::BlockBuilder builder;
  chunk::DecodedBlock d;
  std::vector<MetadataPair> md;
  int64_t min_ts = INT64_MAX, max_ts = INT64_MIN;
  uint64_t kept = 0, dropped = 0, uncompressed = 0;
  for (size_t b = 0; b < stored->blocks().size(); b++) {
    Status st = stored->ReadBlock(b, &d);
    if (!st.ok()) return Status::Corruption("chunk " + ref.key + ": " + st.message());
    bool any = false;
    for (size_t i = 0; i < d.size(); i++) {
      md.resize(d.metadata_count(i));
      for (size_t j = 0; j < md.size(); j++) md[j] = d.metadata(i, j);
      if (erase->Erased(d.ts(i), d.line(i), md)) {
        dropped++;
        continue;
      }
      builder.Add(d.ts(i), d.line(i), md);
      min_ts = std::min(min_ts, d.ts(i));
      max_ts = std::max(max_ts, d.ts(i));
      kept++;
      any = true;
    }
    if (any) {
      chunk::EncodedBlock eb = builder.Finish(h.codec);
      uncompressed += eb.meta.uncompressed_size;
      writer.AddBlock(std::move(eb));
    }
    builder.Reset();
  }
  *removed = dropped;
  if (dropped == 0) {
    *out = ref;
    return Status::OK();
  }
  if (kept == 0) {
    out->reset();
    return Status::OK();
  }
  std::string bytes = writer.Finish();
  SKALD_ASSIGN_OR_RETURN(std::string key,
                         chunks->Put(tenant, ref.fingerprint, min_ts, max_ts, bytes));
  index::ChunkRef n;
  n.fingerprint = ref.fingerprint;
  n.min_ts = min_ts;
  n.max_ts = max_ts;
  n.entries = static_cast<uint32_t>(kept);
  n.compressed_bytes = bytes.size();
  n.uncompressed_bytes = uncompressed;
  n.key = std::move(key);
  *out = std::move(n);
  return Status::OK();
}

// The tenant's retention rules and default period when retention is enabled (else none, 0).
std::vector<logql::RetentionRule> RetentionRules(bool enabled, const limits::Limits& l,
                                                 int64_t* period) {
  std::vector<logql::RetentionRule> rules;
  *period = 0;
  if (!enabled) return rules;
  *period = l.retention_period_ns;
  for (const limits::StreamRetention& r : l.retention_stream) {
    rules.push_back({r.matchers, r.priority, r.period_ns});
  }
  return rules;
}

// What a delete request erases: its ms range (inclusive) in ns.
logql::DeleteRule DeleteRuleOf(const ParsedDeleteRequest& p) {
  return {p.matchers, p.pipeline, SaturatingMul(p.request.start_ms, kNanosPerMilli),
          SaturatingMul(p.request.end_ms, kNanosPerMilli)};
}

// Deletes `keys` with a few threads (object deletes are I/O-bound: a directory fsync on the
// filesystem store, a round trip on a remote one). Returns the first error.
Status DeleteAll(storage::ObjectStore* store, const std::vector<std::string>& keys,
                 uint64_t* deleted) {
  constexpr size_t kWorkers = 8;
  std::atomic<size_t> next{0};
  std::atomic<uint64_t> done{0};
  std::mutex mu;
  Status first;
  auto work = [&] {
    for (size_t i = next++; i < keys.size(); i = next++) {
      Status st = store->Delete(keys[i]);
      if (st.ok()) {
        done++;
        continue;
      }
      std::lock_guard<std::mutex> lock(mu);
      if (first.ok()) first = st;
    }
  };
  std::vector<std::thread> threads;
  for (size_t t = 1; t < std::min(kWorkers, keys.size()); t++) threads.emplace_back(work);
  work();
  for (std::thread& t : threads) t.join();
  *deleted += done.load();
  return first;
}

}  // namespace

Compactor::Compactor(CompactorOptions opts, storage::ObjectStore* store, index::IndexStore* index,
                     const limits::Overrides* limits, DeleteRequestStore* deletes,
                     metrics::Registry* registry)
    : opts_(opts), store_(store), index_(index), limits_(limits), deletes_(deletes) {
  if (registry == nullptr) return;
  auto& runs = registry->AddCounter("loki_compactor_apply_retention_operation_total",
                                    "Total number of attempts done to apply retention with status",
                                    {"status"});
  m_.runs_ok = &runs.WithLabels({"success"});
  m_.runs_failed = &runs.WithLabels({"failure"});
  m_.last_success =
      &registry
           ->AddGauge("loki_compactor_apply_retention_last_successful_run_timestamp_seconds",
                      "Unix timestamp of the last successful retention run")
           .WithLabels();
  m_.chunks_expired = &registry
                           ->AddCounter("skald_compactor_chunks_expired_total",
                                        "Chunks removed from the index by retention.")
                           .WithLabels();
  m_.chunks_deleted = &registry
                           ->AddCounter("skald_compactor_chunks_deleted_total",
                                        "Chunks removed whole by delete requests.")
                           .WithLabels();
  m_.chunks_rewritten = &registry
                             ->AddCounter("skald_compactor_chunks_rewritten_total",
                                          "Chunks rewritten without the entries a delete "
                                          "request removed.")
                             .WithLabels();
  // Loki's loki_compactor_deleted_lines{user}, with the _total a counter's name carries.
  m_.entries_deleted = &registry->AddCounter("skald_compactor_deleted_lines_total",
                                             "Number of deleted lines per user", {"user"});
  m_.objects_deleted = &registry
                            ->AddCounter("skald_compactor_chunk_objects_deleted_total",
                                         "Chunk objects deleted by the sweep of markers.")
                            .WithLabels();
  m_.requests_processed =
      &registry->AddCounter("loki_compactor_delete_requests_processed_total",
                            "Number of delete requests processed per user", {"user"});
  m_.index_files_merged = &registry
                               ->AddGauge("skald_compactor_index_files_merged",
                                          "Index files merged away by the last pass.")
                               .WithLabels();
}

Compactor::~Compactor() { Stop(); }

void Compactor::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] {
    std::unique_lock<std::mutex> lock(mu_);
    while (!stopping_) {
      lock.unlock();
      PassStats stats;
      Status st = RunOnce(NowNanos(), &stats);
      if (!st.ok()) {
        log::Warn("compactor pass failed", {{"err", st.ToString()}});
      }
      lock.lock();
      cv_.wait_for(lock, std::chrono::nanoseconds(opts_.compaction_interval_ns),
                   [this] { return stopping_; });
    }
  });
}

void Compactor::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::shared_ptr<const logql::Erasure> Compactor::ErasureFor(std::string_view tenant, int64_t now) {
  std::shared_ptr<const limits::Limits> l = limits_->For(tenant);
  int64_t period = 0;
  std::vector<logql::RetentionRule> retention =
      RetentionRules(opts_.retention_enabled, *l, &period);
  std::vector<logql::DeleteRule> deletes;
  if (l->deletion_mode != "disabled") {
    auto list = deletes_->List(tenant);
    if (list.ok()) {
      for (const ParsedDeleteRequest& p : **list) {
        deletes.push_back(DeleteRuleOf(p));
      }
    }
  }
  return std::make_shared<const logql::Erasure>(now, period, std::move(retention),
                                                std::move(deletes));
}

Status Compactor::WriteMarker(std::string_view tenant, const std::vector<std::string>& chunk_keys,
                              int64_t now) {
  std::string body(kMarkerHeader);
  for (const std::string& k : chunk_keys) {
    body += k;
    body.push_back('\n');
  }
  char name[64];
  std::snprintf(
      name, sizeof(name), "%020" PRId64 "-%016" PRIx64, std::max<int64_t>(now, 0),
      static_cast<uint64_t>(static_cast<uint64_t>(MonotonicNanos()) * 0x9E3779B97F4A7C15ull +
                            marker_counter_.fetch_add(1)));
  std::string key(kMarkerPrefix);
  key.append(tenant);
  key.push_back('/');
  key.append(name);
  return store_->Put(key, body);
}

Status Compactor::CompactDay(std::string_view tenant, int64_t day,
                             const std::vector<std::string>& keys, const logql::Erasure& erasure,
                             int64_t now, PassStats* stats) {
  if (keys.size() <= 1 && erasure.empty()) return Status::OK();
  struct Series {
    Labels labels;
    std::map<std::string, index::ChunkRef> chunks;  // by key
  };
  std::map<uint64_t, Series> series;
  std::vector<std::string> merged;  // the files read (deleted at the end)
  uint64_t bytes_before = 0;
  for (const std::string& k : keys) {
    StatusOr<std::string> bytes = store_->Get(k);
    if (!bytes.ok()) {
      if (bytes.status().code() == StatusCode::kNotFound) continue;
      return bytes.status();
    }
    bytes_before += bytes->size();
    SKALD_ASSIGN_OR_RETURN(index::IndexFileReader r,
                           index::IndexFileReader::Open(std::move(bytes).value()));
    for (uint64_t fp : r.Select({})) {
      Series& s = series[fp];
      if (s.labels.empty()) {
        std::optional<Labels> l = r.LabelsOf(fp);
        if (l.has_value()) s.labels = std::move(*l);
      }
      for (index::ChunkRef& c : r.Chunks(fp, INT64_MIN, INT64_MAX)) {
        s.chunks.try_emplace(c.key, std::move(c));
      }
    }
    merged.push_back(k);
  }
  if (merged.empty()) return Status::OK();

  // Decide each chunk's fate.
  storage::ChunkStore chunks(store_);
  std::vector<std::string> doomed;  // chunk keys to delete once nothing references them
  bool changed = false;
  index::IndexFileWriter writer;
  size_t kept_series = 0;
  for (auto& [fp, s] : series) {
    logql::Erasure::Stream erase = erasure.ForStream(s.labels);
    std::vector<index::ChunkRef> keep;
    for (auto& [key, ref] : s.chunks) {
      if (erase.empty()) {
        keep.push_back(std::move(ref));
        continue;
      }
      if (ref.max_ts < erase.keep_from()) {  // retention: the newest entry is past it
        doomed.push_back(key);
        stats->chunks_expired++;
        changed = true;
        continue;
      }
      if (!erase.DeleteTouches(ref.min_ts, ref.max_ts)) {
        keep.push_back(std::move(ref));
        continue;
      }
      if (erase.Covers(ref.min_ts, ref.max_ts)) {
        doomed.push_back(key);
        stats->chunks_deleted++;
        stats->entries_deleted += ref.entries;
        changed = true;
        continue;
      }
      std::optional<index::ChunkRef> rewritten;
      uint64_t removed = 0;
      SKALD_RETURN_IF_ERROR(RewriteChunk(&chunks, tenant, ref, &erase, &rewritten, &removed));
      if (removed == 0) {
        keep.push_back(std::move(ref));
        continue;
      }
      changed = true;
      stats->entries_deleted += removed;
      doomed.push_back(key);
      if (rewritten.has_value()) {
        stats->chunks_rewritten++;
        keep.push_back(std::move(*rewritten));
      } else {
        stats->chunks_deleted++;
      }
    }
    if (keep.empty()) continue;
    kept_series++;
    writer.AddSeries(fp, s.labels);
    for (const index::ChunkRef& c : keep) writer.AddChunk(c);
  }
  if (!changed && merged.size() <= 1) return Status::OK();

  // 1. The new index (what queries read from now on), unless nothing is left.
  stats->index_files_before += merged.size();
  stats->index_bytes_before += bytes_before;
  if (kept_series > 0) {
    SKALD_ASSIGN_OR_RETURN(std::string bytes, writer.Finish());
    SKALD_RETURN_IF_ERROR(index_->Write(tenant, day, bytes));
    stats->index_files_after++;
    stats->index_bytes_after += bytes.size();
  }
  // 2. The marker naming the chunks to delete (before the old index files go, so a crash
  //    afterwards never leaves a chunk without index entry and without marker).
  if (!doomed.empty()) {
    SKALD_RETURN_IF_ERROR(WriteMarker(tenant, doomed, now));
    stats->markers_written++;
  }
  // 3. The merged files.
  for (const std::string& k : merged) {
    SKALD_RETURN_IF_ERROR(store_->Delete(k));
    index_->Forget(k);
  }
  stats->days_rewritten++;
  return Status::OK();
}

Status Compactor::Sweep(int64_t now, PassStats* stats) {
  SKALD_ASSIGN_OR_RETURN(std::vector<std::string> markers, store_->List(kMarkerPrefix));
  Status first;
  // Chunk keys referenced per (tenant, day), loaded on demand for this sweep.
  std::map<std::pair<std::string, int64_t>, std::unordered_set<std::string>> refs;
  for (const std::string& m : markers) {
    std::string_view rest = std::string_view(m).substr(kMarkerPrefix.size());
    const size_t slash = rest.find('/');
    int64_t written = 0;
    if (slash == std::string_view::npos || !ParseMarkerTime(rest.substr(slash + 1), &written)) {
      continue;  // not a marker name
    }
    if (now - written < opts_.retention_delete_delay_ns) continue;
    const std::string tenant(rest.substr(0, slash));
    StatusOr<std::string> body = store_->Get(m);
    if (!body.ok()) {
      if (body.status().code() != StatusCode::kNotFound && first.ok()) first = body.status();
      continue;
    }
    if (std::string_view(*body).substr(0, kMarkerHeader.size()) != kMarkerHeader) {
      if (first.ok()) first = Status::Corruption("marker " + m + ": bad header");
      continue;
    }
    std::string_view lines = std::string_view(*body).substr(kMarkerHeader.size());
    Status st;
    std::vector<std::string> unreferenced;
    while (!lines.empty() && st.ok()) {
      const size_t nl = lines.find('\n');
      std::string_view key = lines.substr(0, nl);
      lines = nl == std::string_view::npos ? std::string_view() : lines.substr(nl + 1);
      std::string_view key_tenant;
      int64_t min_ts, max_ts;
      if (!ParseChunkKey(key, &key_tenant, &min_ts, &max_ts) || key_tenant != tenant) continue;
      // Still referenced (an index file written since, a retried pass): keep it. A chunk is in
      // the files of the day of its min_ts and possibly of later days it overlaps.
      bool referenced = false;
      for (int64_t d = std::max<int64_t>(0, index::DayOf(min_ts));
           d <= index::DayOf(max_ts) && !referenced; d++) {
        auto [it, fresh] = refs.try_emplace({tenant, d});
        if (fresh) {
          st = CollectRefs(store_, tenant, d, &it->second);
          if (!st.ok()) {
            refs.erase(it);
            break;
          }
        }
        // A pack stays while any of its chunks is referenced.
        referenced = it->second.count(std::string(storage::LocatorObject(key))) > 0;
      }
      if (!st.ok() || referenced) continue;
      unreferenced.emplace_back(storage::LocatorObject(key));
    }
    std::sort(unreferenced.begin(), unreferenced.end());
    unreferenced.erase(std::unique(unreferenced.begin(), unreferenced.end()), unreferenced.end());
    if (st.ok()) st = DeleteAll(store_, unreferenced, &stats->chunk_objects_deleted);
    if (st.ok()) st = store_->Delete(m);
    if (!st.ok() && first.ok()) first = st;
  }
  return first;
}

Status Compactor::RunOnce(int64_t now, PassStats* out) {
  std::lock_guard<std::mutex> run_lock(run_mu_);
  PassStats local;
  PassStats* stats = out != nullptr ? out : &local;
  Status first;
  auto note = [&](const Status& st) {
    if (!st.ok() && first.ok()) first = st;
  };
  auto index = ListIndex(store_);
  if (!index.ok()) {
    note(index.status());
  } else {
    for (const auto& [tenant, days] : *index) {
      std::shared_ptr<const limits::Limits> l = limits_->For(tenant);
      // Physical deletion: requests past their cancel period, with deletion_mode
      // filter-and-delete.
      std::vector<logql::DeleteRule> deletes;
      std::vector<std::string> ids;
      if (l->deletion_mode == "filter-and-delete") {
        auto list = deletes_->List(tenant);
        if (!list.ok()) {
          note(list.status());
          continue;
        }
        for (const ParsedDeleteRequest& p : **list) {
          if (p.request.processed ||
              SaturatingAdd(SaturatingMul(p.request.created_ms, kNanosPerMilli),
                            opts_.delete_request_cancel_period_ns) > now) {
            continue;
          }
          deletes.push_back(DeleteRuleOf(p));
          ids.push_back(p.request.id);
        }
      }
      int64_t period = 0;
      std::vector<logql::RetentionRule> retention =
          RetentionRules(opts_.retention_enabled, *l, &period);
      const logql::Erasure erasure(now, period, std::move(retention), std::move(deletes));
      bool tenant_ok = true;
      const uint64_t deleted_before = stats->entries_deleted;
      for (const auto& [day, keys] : days) {
        Status st = CompactDay(tenant, day, keys, erasure, now, stats);
        if (!st.ok()) {
          tenant_ok = false;
          log::Warn("compactor: day failed",
                    {{"tenant", tenant}, {"day", std::to_string(day)}, {"err", st.ToString()}});
          note(st);
        }
      }
      if (m_.entries_deleted != nullptr && stats->entries_deleted > deleted_before) {
        m_.entries_deleted->WithLabels({tenant}).Inc(
            static_cast<double>(stats->entries_deleted - deleted_before));
      }
      if (tenant_ok && !ids.empty()) {
        Status st = deletes_->MarkProcessed(tenant, ids);
        note(st);
        if (st.ok()) {
          stats->delete_requests_processed += ids.size();
          if (m_.requests_processed) m_.requests_processed->WithLabels({tenant}).Inc(ids.size());
        }
      }
    }
  }
  note(Sweep(now, stats));
  if (m_.runs_ok != nullptr) {
    (first.ok() ? m_.runs_ok : m_.runs_failed)->Inc();
    if (first.ok()) m_.last_success->Set(static_cast<double>(now) / 1e9);
    m_.chunks_expired->Inc(static_cast<double>(stats->chunks_expired));
    m_.chunks_deleted->Inc(static_cast<double>(stats->chunks_deleted));
    m_.chunks_rewritten->Inc(static_cast<double>(stats->chunks_rewritten));
    m_.objects_deleted->Inc(static_cast<double>(stats->chunk_objects_deleted));
    m_.index_files_merged->Set(
        static_cast<double>(stats->index_files_before - stats->index_files_after));
  }
  return first;
}

}  // namespace skald::compactor
