#include "ingester/ingester.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <set>

#include <xxhash.h>

#include "chunk/chunk.h"
#include "core/crc32c.h"
#include "core/logging.h"
#include "core/metrics.h"
#include "wal/checkpoint.h"
#include "wal/records.h"

namespace skald::ingester {

namespace {

// Head metadata is stored after the line as (uvarint len, bytes) name/value pairs.
void PutUvarint(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

bool GetUvarint(std::string_view* in, uint64_t* v) {
  uint64_t r = 0;
  for (int shift = 0; shift < 64 && !in->empty(); shift += 7) {
    auto b = static_cast<uint8_t>(in->front());
    in->remove_prefix(1);
    r |= static_cast<uint64_t>(b & 0x7f) << shift;
    if (b < 0x80) {
      *v = r;
      return true;
    }
  }
  return false;
}

std::string Hex(uint64_t v, int width) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s(width, '0');
  for (int i = width - 1; i >= 0; i--, v >>= 4) s[i] = kDigits[v & 0xf];
  return s;
}

// Go's time.RFC3339 (whole seconds, fraction dropped), as Loki's ErrTooFarBehind prints.
std::string FormatRFC3339Seconds(int64_t ns) {
  int64_t secs = ns / kNanosPerSecond;
  if (ns < 0 && ns % kNanosPerSecond != 0) secs--;
  return FormatRFC3339Nano(secs * kNanosPerSecond);
}

int64_t DayOf(int64_t ns) {
  int64_t d = ns / kNanosPerDay;
  if (ns < 0 && ns % kNanosPerDay != 0) d--;
  return d;
}

}  // namespace

struct Ingester::Metrics {
  metrics::Counter* chunks_flushed = nullptr;
  metrics::Counter* chunk_bytes_flushed = nullptr;
  metrics::Counter* flush_failures = nullptr;
  metrics::Counter* blocks_cut = nullptr;
  metrics::Family<metrics::Gauge>* streams = nullptr;  // by tenant
  metrics::Counter* wal_failures = nullptr;
  metrics::Counter* checkpoints = nullptr;
  metrics::Counter* checkpoint_failures = nullptr;
};

// A chunk that was cut and waits for (or is being) flushed. Immutable.
struct ClosedChunk {
  std::shared_ptr<const std::string> bytes;
  std::vector<chunk::BlockMeta> blocks;  // offsets into *bytes
  int64_t min_ts = 0, max_ts = 0;
  uint32_t entries = 0;
  uint64_t uncompressed = 0;
  uint32_t checksum = 0;
};

// One stream's in-memory data. Guarded by mu_.
class Stream {
 public:
  Stream(std::string tenant, Labels labels, uint64_t fp)
      : tenant_(std::move(tenant)),
        labels_(std::move(labels)),
        labels_str_(labels_.ToString()),
        fp_(fp) {}

  std::mutex mu_;
  bool removed_ = false;  // set under the shard lock + mu_ when dropped from the map

  const std::string tenant_;
  const Labels labels_;
  const std::string labels_str_;
  const uint64_t fp_;

  // Head block: unsorted entries whose bytes live in head_data_.
  struct HeadEntry {
    int64_t ts;
    uint32_t offset;  // line starts here in head_data_
    uint32_t line_len;
    uint32_t meta_len;  // encoded metadata bytes following the line
    uint32_t seq;       // arrival order, keeps sort stable
  };
  std::string head_data_;
  std::vector<HeadEntry> head_;
  bool head_sorted_ = true;

  // Open chunk: blocks already cut, shared so snapshots can hold them.
  std::vector<std::shared_ptr<const chunk::EncodedBlock>> blocks_;
  size_t open_compressed_ = 0;
  int64_t open_first_append_ = 0;  // wall clock of the first entry of the open chunk

  std::vector<std::shared_ptr<const ClosedChunk>> closed_;

  int64_t newest_ts_ = INT64_MIN;
  int64_t last_append_ = 0;  // wall clock
  // Last appended entry, for dropping exact duplicates cheaply.
  // Identity of the last appended entry (timestamp and a hash of line +
  // metadata), kept across block cuts, so a retried push is not stored twice.
  int64_t last_ts_ = INT64_MIN;
  uint64_t last_hash_ = 0;

  int pending_ = 0;             // pushes between accept and apply; keeps the stream alive
  bool series_logged_ = false;  // the WAL holds this stream's series record

  bool Empty() const { return head_.empty() && blocks_.empty() && closed_.empty(); }

  // Bytes of log data this stream holds in memory (for memory accounting).
  size_t Footprint() const {
    size_t n = head_data_.size() + open_compressed_;
    for (const auto& c : closed_) n += c->bytes->size();
    return n;
  }

  std::string_view HeadLine(const HeadEntry& e) const {
    return std::string_view(head_data_.data() + e.offset, e.line_len);
  }
  std::string_view HeadMeta(const HeadEntry& e) const {
    return std::string_view(head_data_.data() + e.offset + e.line_len, e.meta_len);
  }

  // Sorts the head in place by (ts, arrival). Later appends keep larger seq
  // numbers, so sorting early never changes the final order. REQUIRES: mu_ held.
  void SortHead() {
    if (head_sorted_) return;
    std::sort(head_.begin(), head_.end(), [](const HeadEntry& a, const HeadEntry& b) {
      return a.ts != b.ts ? a.ts < b.ts : a.seq < b.seq;
    });
    head_sorted_ = true;
  }

  // Encodes the (sorted) head into a block, dropping exact duplicates; the head
  // itself is kept. REQUIRES: mu_ held, head non-empty.
  chunk::EncodedBlock EncodeHead(chunk::Codec codec, uint32_t* duplicates) {
    thread_local chunk::BlockBuilder builder;
    thread_local std::vector<MetadataPair> pairs;
    SortHead();
    builder.Reset();
    const HeadEntry* prev = nullptr;
    for (const HeadEntry& e : head_) {
      if (prev != nullptr && prev->ts == e.ts && HeadLine(*prev) == HeadLine(e) &&
          HeadMeta(*prev) == HeadMeta(e)) {
        ++*duplicates;
        continue;
      }
      prev = &e;
      pairs.clear();
      std::string_view md = HeadMeta(e);
      while (!md.empty()) {
        uint64_t nl = 0, vl = 0;
        GetUvarint(&md, &nl);
        std::string_view name = md.substr(0, nl);
        md.remove_prefix(nl);
        GetUvarint(&md, &vl);
        std::string_view value = md.substr(0, vl);
        md.remove_prefix(vl);
        pairs.push_back({name, value});
      }
      builder.Add(e.ts, HeadLine(e), pairs);
    }
    return builder.Finish(codec);
  }

  // Cuts the head into a block of the open chunk. REQUIRES: mu_ held.
  void CutHead(chunk::Codec codec) {
    if (head_.empty()) return;
    uint32_t dups = 0;
    auto block = std::make_shared<chunk::EncodedBlock>(EncodeHead(codec, &dups));
    open_compressed_ += block->bytes.size();
    blocks_.push_back(std::move(block));
    head_.clear();
    head_data_.clear();
    if (head_data_.capacity() > (1u << 20)) head_data_.shrink_to_fit();
    head_sorted_ = true;
  }

  // Closes the open chunk (cutting the head first). REQUIRES: mu_ held.
  void CloseChunk(chunk::Codec codec) {
    CutHead(codec);
    if (blocks_.empty()) return;
    chunk::ChunkWriter writer(codec, tenant_, fp_, labels_str_);
    auto closed = std::make_shared<ClosedChunk>();
    closed->min_ts = INT64_MAX;
    closed->max_ts = INT64_MIN;
    for (const auto& b : blocks_) {
      closed->min_ts = std::min(closed->min_ts, b->meta.min_ts);
      closed->max_ts = std::max(closed->max_ts, b->meta.max_ts);
      closed->entries += b->meta.entries;
      closed->uncompressed += b->meta.uncompressed_size;
      writer.AddBlock(*b);
    }
    auto bytes = std::make_shared<std::string>(writer.Finish());
    closed->checksum = Crc32c(*bytes);
    auto reader = chunk::ChunkReader::Open(*bytes);
    if (reader.ok()) closed->blocks = reader->blocks();
    closed->bytes = std::move(bytes);
    closed_.push_back(std::move(closed));
    blocks_.clear();
    open_compressed_ = 0;
    open_first_append_ = 0;
  }
};

struct Shard {
  std::mutex mu;
  std::unordered_map<uint64_t, std::shared_ptr<Stream>> streams;
};

class TenantInstance {
 public:
  TenantInstance(std::string tenant, int shards) : tenant_(std::move(tenant)), shards_(shards) {}

  const std::string tenant_;
  std::vector<Shard> shards_;
  index::MemIndex index_;

  Shard& ShardFor(uint64_t fp) { return shards_[fp % shards_.size()]; }

  std::shared_ptr<Stream> Find(uint64_t fp) {
    Shard& s = ShardFor(fp);
    std::lock_guard<std::mutex> lock(s.mu);
    auto it = s.streams.find(fp);
    return it == s.streams.end() ? nullptr : it->second;
  }

  std::vector<std::shared_ptr<Stream>> All() {
    std::vector<std::shared_ptr<Stream>> out;
    for (Shard& s : shards_) {
      std::lock_guard<std::mutex> lock(s.mu);
      for (auto& [fp, st] : s.streams) out.push_back(st);
    }
    return out;
  }
};

Ingester::Ingester(IngesterOptions opts, storage::ObjectStore* store, index::IndexStore* index,
                   metrics::Registry* registry)
    : opts_(opts), store_(store), index_(index), metrics_(std::make_unique<Metrics>()) {
  if (opts_.shards < 1) opts_.shards = 1;
  if (registry != nullptr) {
    metrics_->chunks_flushed =
        &registry->AddCounter("skald_ingester_chunks_flushed_total", "Chunks written to the store.")
             .WithLabels({});
    metrics_->chunk_bytes_flushed =
        &registry
             ->AddCounter("skald_ingester_chunk_bytes_flushed_total",
                          "Compressed chunk bytes written to the store.")
             .WithLabels({});
    metrics_->flush_failures =
        &registry->AddCounter("skald_ingester_flush_failures_total", "Failed flush attempts.")
             .WithLabels({});
    metrics_->blocks_cut =
        &registry->AddCounter("skald_ingester_blocks_cut_total", "Head blocks compressed.")
             .WithLabels({});
    metrics_->wal_failures =
        &registry
             ->AddCounter("skald_ingester_wal_write_failures_total",
                          "Pushes refused because the WAL write or sync failed.")
             .WithLabels({});
    metrics_->checkpoints =
        &registry->AddCounter("skald_ingester_wal_checkpoints_total", "WAL checkpoints written.")
             .WithLabels({});
    metrics_->checkpoint_failures =
        &registry
             ->AddCounter("skald_ingester_wal_checkpoint_failures_total",
                          "WAL checkpoints that failed.")
             .WithLabels({});
    metrics_->streams = &registry->AddGauge("loki_ingester_memory_streams",
                                            "In-memory streams per tenant.", {"tenant"});
    registry->GaugeFunc("skald_ingester_memory_bytes", "Bytes of log data held in memory.",
                        [this] { return static_cast<double>(MemoryBytes()); });
  }
}

Ingester::~Ingester() { Stop(); }

void Ingester::Start() {
  std::lock_guard<std::mutex> lock(loop_mu_);
  if (flush_thread_.joinable()) return;
  stopping_ = false;
  flush_thread_ = std::thread([this] { FlushLoop(); });
}

void Ingester::Stop() {
  {
    std::lock_guard<std::mutex> lock(loop_mu_);
    stopping_ = true;
  }
  loop_cv_.notify_all();
  if (flush_thread_.joinable()) flush_thread_.join();
}

TenantInstance* Ingester::FindTenant(std::string_view tenant) {
  std::shared_lock<std::shared_mutex> lock(tenants_mu_);
  auto it = tenants_.find(std::string(tenant));
  return it == tenants_.end() ? nullptr : it->second.get();
}

TenantInstance* Ingester::GetOrCreateTenant(std::string_view tenant) {
  if (TenantInstance* t = FindTenant(tenant)) return t;
  std::unique_lock<std::shared_mutex> lock(tenants_mu_);
  auto& slot = tenants_[std::string(tenant)];
  if (!slot) slot = std::make_unique<TenantInstance>(std::string(tenant), opts_.shards);
  return slot.get();
}

std::vector<TenantInstance*> Ingester::AllTenants() {
  std::shared_lock<std::shared_mutex> lock(tenants_mu_);
  std::vector<TenantInstance*> out;
  for (auto& [name, t] : tenants_) out.push_back(t.get());
  return out;
}

std::shared_ptr<Stream> Ingester::AcquireStream(TenantInstance* inst, const Labels& labels,
                                                uint64_t fp) {
  Shard& shard = inst->ShardFor(fp);
  while (true) {
    std::shared_ptr<Stream> stream;
    {
      std::lock_guard<std::mutex> lock(shard.mu);
      auto it = shard.streams.find(fp);
      if (it == shard.streams.end()) {
        stream = std::make_shared<Stream>(inst->tenant_, labels, fp);
        shard.streams.emplace(fp, stream);
        inst->index_.Add(fp, labels);
        active_streams_.fetch_add(1, std::memory_order_relaxed);
        if (metrics_->streams) metrics_->streams->WithLabels({inst->tenant_}).Inc();
      } else {
        stream = it->second;
      }
    }
    std::lock_guard<std::mutex> lock(stream->mu_);
    if (stream->removed_) continue;  // raced with the flusher dropping it; look again
    stream->pending_++;
    return stream;
  }
}

void Ingester::AppendLocked(Stream& s, int64_t ts, std::string_view line,
                            std::string_view encoded_md, uint64_t hash, int64_t now) {
  Stream::HeadEntry he;
  he.ts = ts;
  he.offset = static_cast<uint32_t>(s.head_data_.size());
  he.line_len = static_cast<uint32_t>(line.size());
  he.meta_len = static_cast<uint32_t>(encoded_md.size());
  he.seq = static_cast<uint32_t>(s.head_.size());
  s.head_data_.append(line);
  s.head_data_.append(encoded_md);
  if (!s.head_.empty() && ts < s.head_.back().ts) s.head_sorted_ = false;
  s.head_.push_back(he);
  s.last_ts_ = ts;
  s.last_hash_ = hash;
  if (ts > s.newest_ts_) s.newest_ts_ = ts;
  if (s.open_first_append_ == 0) s.open_first_append_ = now;
  s.last_append_ = now;
  if (s.head_data_.size() + s.head_.size() * 12 >= opts_.block_size) {
    s.CutHead(opts_.codec);
    if (metrics_->blocks_cut) metrics_->blocks_cut->Inc();
    if (s.open_compressed_ >= opts_.target_size) s.CloseChunk(opts_.codec);
  }
}

namespace {

// Metadata as stored in the head: (uvarint len, bytes) name/value pairs.
template <typename Pairs>
void EncodeHeadMetadata(const Pairs& pairs, std::string* md) {
  md->clear();
  for (const auto& p : pairs) {
    PutUvarint(md, p.name.size());
    md->append(p.name);
    PutUvarint(md, p.value.size());
    md->append(p.value);
  }
}

uint64_t EntryHash(std::string_view line, std::string_view md) {
  return XXH3_64bits_withSeed(line.data(), line.size(), XXH3_64bits(md.data(), md.size()));
}

}  // namespace

Status Ingester::Push(std::string_view tenant, const Labels& labels,
                      std::span<const AppendEntry> entries, AppendResult* result) {
  StreamAppend one{&labels, 0, entries, {}};
  Status st = PushBatch(tenant, std::span<StreamAppend>(&one, 1));
  *result = std::move(one.result);
  return st;
}

Status Ingester::PushBatch(std::string_view tenant, std::span<StreamAppend> streams) {
  TenantInstance* inst = GetOrCreateTenant(tenant);
  const int64_t now = NowNanos();
  struct Prepared {
    std::shared_ptr<Stream> stream;
    std::vector<uint32_t> accepted;  // indexes into the stream's entries
    bool log_series = false;
  };
  std::vector<Prepared> prepared(streams.size());
  thread_local std::string md;

  // 1. Decide per entry: too far behind, duplicate of what the stream holds, or accepted.
  for (size_t i = 0; i < streams.size(); i++) {
    StreamAppend& sa = streams[i];
    Prepared& p = prepared[i];
    const uint64_t fp = sa.fingerprint != 0 ? sa.fingerprint : sa.labels->Fingerprint();
    p.stream = AcquireStream(inst, *sa.labels, fp);
    std::lock_guard<std::mutex> lock(p.stream->mu_);
    Stream& s = *p.stream;
    int64_t last_ts = s.last_ts_;
    uint64_t last_hash = s.last_hash_;
    int64_t newest = s.newest_ts_;  // as it will be once earlier entries are applied
    for (uint32_t j = 0; j < sa.entries.size(); j++) {
      const AppendEntry& e = sa.entries[j];
      if (newest != INT64_MIN && e.ts < newest - opts_.out_of_order_window) {
        int64_t oldest = newest - opts_.out_of_order_window;
        sa.result.rejected.emplace_back(
            e.ts, "entry too far behind, entry timestamp is: " + FormatRFC3339Seconds(e.ts) +
                      ", oldest acceptable timestamp is: " + FormatRFC3339Seconds(oldest));
        continue;
      }
      EncodeHeadMetadata(e.metadata, &md);
      const uint64_t hash = EntryHash(e.line, md);
      if (e.ts == last_ts && hash == last_hash) {
        sa.result.duplicates++;
        continue;
      }
      last_ts = e.ts;
      last_hash = hash;
      newest = std::max(newest, e.ts);
      p.accepted.push_back(j);
    }
    p.log_series = wal_ != nullptr && !s.series_logged_ && !p.accepted.empty();
  }

  // 2. Make the accepted entries durable: one WAL append (one fsync) for the whole push.
  // The shared lock orders this push against a checkpoint's segment rotation.
  std::shared_lock<std::shared_mutex> order(wal_order_mu_, std::defer_lock);
  Status wal_status;
  if (wal_ != nullptr) {
    order.lock();
    thread_local std::string buf;
    thread_local std::vector<std::pair<wal::RecordType, std::pair<size_t, size_t>>> spans;
    buf.clear();
    spans.clear();
    wal::EntriesEncoder enc;
    for (size_t i = 0; i < streams.size(); i++) {
      const Prepared& p = prepared[i];
      if (p.accepted.empty()) continue;
      const Stream& s = *p.stream;
      if (p.log_series) {
        size_t b = buf.size();
        wal::EncodeSeries(&buf, {s.tenant_, s.fp_, s.labels_str_});
        spans.push_back({wal::RecordType::kSeries, {b, buf.size()}});
      }
      size_t b = buf.size();
      enc.Begin(&buf, s.tenant_, s.fp_);
      for (uint32_t j : p.accepted) {
        const AppendEntry& e = streams[i].entries[j];
        enc.Add(e.ts, e.line, e.metadata);
      }
      spans.push_back({wal::RecordType::kEntries, {b, buf.size()}});
    }
    if (!spans.empty()) {
      thread_local std::vector<wal::WalRecord> records;
      records.clear();
      for (const auto& [type, span] : spans) {
        records.push_back(
            {type, std::string_view(buf).substr(span.first, span.second - span.first)});
      }
      wal_status = wal_->Append(records);
      if (!wal_status.ok()) NoteWalFailure(wal_status);
    }
  }

  // 3. Apply what is durable; release the streams either way.
  for (size_t i = 0; i < streams.size(); i++) {
    Prepared& p = prepared[i];
    std::lock_guard<std::mutex> lock(p.stream->mu_);
    Stream& s = *p.stream;
    if (wal_status.ok()) {
      size_t before = s.Footprint();
      for (uint32_t j : p.accepted) {
        const AppendEntry& e = streams[i].entries[j];
        EncodeHeadMetadata(e.metadata, &md);
        const uint64_t hash = EntryHash(e.line, md);
        if (e.ts == s.last_ts_ && hash == s.last_hash_) {  // a concurrent push got there first
          streams[i].result.duplicates++;
          continue;
        }
        AppendLocked(s, e.ts, e.line, md, hash, now);
        streams[i].result.appended++;
      }
      if (p.log_series) s.series_logged_ = true;
      AccountLocked(before, s.Footprint());
    }
    s.pending_--;
  }
  if (!wal_status.ok()) {
    return Status::Unavailable("failed to write to the WAL, push not accepted: " +
                               wal_status.message());
  }
  return Status::OK();
}

void Ingester::AccountLocked(size_t before, size_t after) {
  if (after >= before) {
    memory_bytes_.fetch_add(after - before, std::memory_order_relaxed);
  } else {
    memory_bytes_.fetch_sub(before - after, std::memory_order_relaxed);
  }
}

void Ingester::NoteWalFailure(const Status& st) {
  if (metrics_->wal_failures) metrics_->wal_failures->Inc();
  int64_t now = MonotonicNanos();
  int64_t last = last_wal_error_log_.load(std::memory_order_relaxed);
  if (now - last >= 10 * kNanosPerSecond &&
      last_wal_error_log_.compare_exchange_strong(last, now)) {
    log::Error("WAL write failed; pushes are refused until it succeeds", {{"err", st.ToString()}});
  }
}

namespace {

void AppendChunkBlocks(const std::shared_ptr<const ClosedChunk>& c, int64_t from, int64_t through,
                       std::vector<chunk::BlockRef>* out) {
  if (c->max_ts < from || c->min_ts >= through) return;
  for (const auto& m : c->blocks) {
    chunk::BlockRef ref;
    ref.owner = c;
    ref.bytes = std::string_view(c->bytes->data() + m.offset, m.length);
    ref.min_ts = m.min_ts;
    ref.max_ts = m.max_ts;
    ref.entries = m.entries;
    ref.uncompressed_size = m.uncompressed_size;
    if (ref.Overlaps(from, through)) out->push_back(std::move(ref));
  }
}

}  // namespace

std::vector<StreamSnapshot> Ingester::Snapshot(std::string_view tenant,
                                               const std::vector<Matcher>& matchers, int64_t from,
                                               int64_t through) {
  std::vector<StreamSnapshot> out;
  TenantInstance* inst = FindTenant(tenant);
  if (inst == nullptr) return out;
  for (uint64_t fp : inst->index_.Select(matchers)) {
    std::shared_ptr<Stream> stream = inst->Find(fp);
    if (!stream) continue;
    StreamSnapshot snap;
    snap.fingerprint = fp;
    snap.labels = stream->labels_;
    std::lock_guard<std::mutex> lock(stream->mu_);
    Stream& s = *stream;
    for (const auto& c : s.closed_) AppendChunkBlocks(c, from, through, &snap.blocks);
    for (const auto& b : s.blocks_) {
      chunk::BlockRef ref;
      ref.owner = b;
      ref.bytes = b->bytes;
      ref.min_ts = b->meta.min_ts;
      ref.max_ts = b->meta.max_ts;
      ref.entries = b->meta.entries;
      ref.uncompressed_size = b->meta.uncompressed_size;
      if (ref.Overlaps(from, through)) snap.blocks.push_back(std::move(ref));
    }
    if (!s.head_.empty()) {
      // The head, sorted in place and encoded uncompressed into a block the query owns.
      uint32_t dups = 0;
      auto block = std::make_shared<chunk::EncodedBlock>(s.EncodeHead(chunk::Codec::kNone, &dups));
      chunk::BlockRef ref;
      ref.bytes = block->bytes;
      ref.min_ts = block->meta.min_ts;
      ref.max_ts = block->meta.max_ts;
      ref.entries = block->meta.entries;
      ref.uncompressed_size = block->meta.uncompressed_size;
      ref.owner = std::move(block);
      snap.head_bytes = s.head_data_.size();
      snap.head_lines = s.head_.size();
      if (ref.Overlaps(from, through)) snap.blocks.push_back(std::move(ref));
    }
    if (!snap.blocks.empty()) out.push_back(std::move(snap));
  }
  return out;
}

std::vector<std::string> Ingester::LabelNames(std::string_view tenant) {
  TenantInstance* inst = FindTenant(tenant);
  return inst ? inst->index_.LabelNames() : std::vector<std::string>{};
}

std::vector<std::string> Ingester::LabelValues(std::string_view tenant, std::string_view name) {
  TenantInstance* inst = FindTenant(tenant);
  return inst ? inst->index_.LabelValues(name) : std::vector<std::string>{};
}

std::vector<Labels> Ingester::Series(std::string_view tenant,
                                     const std::vector<Matcher>& matchers) {
  std::vector<Labels> out;
  TenantInstance* inst = FindTenant(tenant);
  if (inst == nullptr) return out;
  for (uint64_t fp : inst->index_.Select(matchers)) {
    if (auto l = inst->index_.LabelsOf(fp)) out.push_back(std::move(*l));
  }
  return out;
}

Status Ingester::ReplayWal(const std::string& dir, wal::FileSystem* fs, ReplayReport* report) {
  const int64_t t0 = MonotonicNanos();
  wal::FileSystem* use_fs = fs != nullptr ? fs : wal::PosixFileSystem();
  // Streams seen in series records, by (tenant, fingerprint).
  std::map<std::pair<std::string, uint64_t>, Labels> series;
  // Entries restored from the checkpoint, per stream, as (ts, entry hash). A push
  // that raced the checkpoint (logged in segment N, applied before the snapshot)
  // is in checkpoint.N and in segment N: its second copy must be dropped.
  std::map<std::pair<std::string, uint64_t>, std::set<std::pair<int64_t, uint64_t>>> checkpointed;
  bool in_checkpoint = false;
  std::vector<MetadataPair> meta;
  std::string md;
  const int64_t now = NowNanos();
  auto apply = [&](wal::RecordType type, std::string_view payload) -> Status {
    if (type == wal::RecordType::kSeries) {
      wal::SeriesRecord r;
      SKALD_RETURN_IF_ERROR(wal::DecodeSeries(payload, &r));
      auto labels = ParseLabels(r.labels);
      if (!labels.ok())
        return Status::Corruption("WAL series record: " + labels.status().message());
      series[{std::string(r.tenant), r.fingerprint}] = std::move(*labels);
      report->series++;
      return Status::OK();
    }
    wal::EntriesDecoder dec;
    SKALD_RETURN_IF_ERROR(dec.Init(payload));
    auto it = series.find({std::string(dec.tenant()), dec.fingerprint()});
    if (it == series.end()) {
      report->orphan_entries += 1;
      return Status::OK();
    }
    TenantInstance* inst = GetOrCreateTenant(dec.tenant());
    std::shared_ptr<Stream> stream = AcquireStream(inst, it->second, dec.fingerprint());
    std::lock_guard<std::mutex> lock(stream->mu_);
    Stream& s = *stream;
    size_t before = s.Footprint();
    std::set<std::pair<int64_t, uint64_t>>* seen = nullptr;
    if (in_checkpoint) {
      seen = &checkpointed[it->first];
    } else if (auto c = checkpointed.find(it->first); c != checkpointed.end()) {
      seen = &c->second;
    }
    int64_t ts;
    std::string_view line;
    while (dec.Next(&ts, &line, &meta)) {
      EncodeHeadMetadata(meta, &md);
      const uint64_t hash = EntryHash(line, md);
      if (ts == s.last_ts_ && hash == s.last_hash_) continue;
      if (seen != nullptr) {
        if (in_checkpoint) {
          seen->insert({ts, hash});
        } else if (seen->count({ts, hash}) != 0) {
          continue;  // already restored from the checkpoint
        }
      }
      AppendLocked(s, ts, line, md, hash, now);
      report->entries++;
    }
    s.series_logged_ = true;  // its series record stays in the WAL until the next checkpoint
    AccountLocked(before, s.Footprint());
    s.pending_--;
    return dec.status();
  };
  wal::ReplayOptions ro;
  ro.fs = use_fs;
  uint64_t from = 0;
  auto cp = wal::LastCheckpoint(dir, use_fs);
  if (cp.ok()) {
    report->checkpoint_segment = cp->segment;
    from = cp->segment;
    in_checkpoint = true;
    SKALD_RETURN_IF_ERROR(wal::Replay(cp->path, 0, apply, &report->checkpoint, ro));
    in_checkpoint = false;
  } else if (cp.status().code() != StatusCode::kNotFound) {
    return cp.status();
  }
  Status st = wal::Replay(dir, from, apply, &report->segments, ro);
  if (!st.ok() && st.code() != StatusCode::kNotFound) return st;
  report->duration_ns = MonotonicNanos() - t0;
  return Status::OK();
}

void Ingester::AttachWal(wal::Wal* wal, std::string dir, wal::FileSystem* fs) {
  std::unique_lock<std::shared_mutex> order(wal_order_mu_);
  wal_ = wal;
  wal_dir_ = std::move(dir);
  wal_fs_ = fs;
}

Status Ingester::Checkpoint() {
  if (wal_ == nullptr) return Status::OK();
  std::lock_guard<std::mutex> one_at_a_time(checkpoint_mu_);
  uint64_t n;
  {
    // Every push that appended to a segment < n has been applied once we hold this.
    std::unique_lock<std::shared_mutex> order(wal_order_mu_);
    SKALD_ASSIGN_OR_RETURN(n, wal_->RotateSegment());
  }
  wal::CheckpointOptions co;
  co.fs = wal_fs_;
  auto writer = wal::CheckpointWriter::Begin(wal_dir_, n, co);
  if (!writer.ok()) {
    if (metrics_->checkpoint_failures) metrics_->checkpoint_failures->Inc();
    return writer.status();
  }
  auto fail = [&](const Status& st) {
    (*writer)->Abort();
    if (metrics_->checkpoint_failures) metrics_->checkpoint_failures->Inc();
    return st;
  };
  chunk::DecodedBlock decoded;
  std::string buf;
  for (TenantInstance* inst : AllTenants()) {
    for (auto& snap : Snapshot(inst->tenant_, {}, INT64_MIN, INT64_MAX)) {
      buf.clear();
      wal::EncodeSeries(&buf, {inst->tenant_, snap.fingerprint, snap.labels.ToString()});
      Status st = (*writer)->Append(wal::RecordType::kSeries, buf);
      if (!st.ok()) return fail(st);
      for (const auto& ref : snap.blocks) {
        st = chunk::DecodeBlock(ref.bytes, &decoded);
        if (!st.ok()) return fail(st);
        buf.clear();
        wal::EntriesEncoder enc;
        enc.Begin(&buf, inst->tenant_, snap.fingerprint);
        for (size_t i = 0; i < decoded.size(); i++) {
          size_t nmd = decoded.metadata_count(i);
          enc.AddEntry(decoded.ts(i), decoded.line(i), nmd);
          for (size_t j = 0; j < nmd; j++) {
            MetadataPair p = decoded.metadata(i, j);
            enc.AddMetadata(p.name, p.value);
          }
        }
        st = (*writer)->Append(wal::RecordType::kEntries, buf);
        if (!st.ok()) return fail(st);
      }
    }
  }
  Status st = (*writer)->Commit();
  if (!st.ok()) return fail(st);
  if (metrics_->checkpoints) metrics_->checkpoints->Inc();
  return wal_->RemoveSegmentsBefore(n);
}

void Ingester::FlushLoop() {
  int64_t last_checkpoint = MonotonicNanos();
  std::unique_lock<std::mutex> lock(loop_mu_);
  while (!stopping_) {
    loop_cv_.wait_for(lock, std::chrono::nanoseconds(opts_.flush_check_period),
                      [this] { return stopping_; });
    if (stopping_) break;
    lock.unlock();
    Status st = FlushPass(false);
    if (!st.ok()) log::Warn("flush failed", {{"err", st.ToString()}});
    if (wal_ != nullptr && MonotonicNanos() - last_checkpoint >= opts_.checkpoint_duration) {
      last_checkpoint = MonotonicNanos();
      st = Checkpoint();
      if (!st.ok()) log::Warn("WAL checkpoint failed", {{"err", st.ToString()}});
    }
    lock.lock();
  }
}

Status Ingester::FlushAll() { return FlushPass(true); }

Status Ingester::FlushPass(bool force) {
  std::lock_guard<std::mutex> flush_lock(flush_mu_);
  const int64_t now = NowNanos();
  Status first_error;
  for (TenantInstance* inst : AllTenants()) {
    // 1. Close chunks that are due, collect every closed chunk.
    struct Pending {
      std::shared_ptr<Stream> stream;
      std::shared_ptr<const ClosedChunk> chunk;
      std::string key;
    };
    std::vector<Pending> pending;
    for (auto& stream : inst->All()) {
      std::lock_guard<std::mutex> lock(stream->mu_);
      Stream& s = *stream;
      bool has_open = !s.head_.empty() || !s.blocks_.empty();
      bool due = force ||
                 (has_open && s.open_first_append_ != 0 &&
                  now - s.open_first_append_ >= opts_.max_chunk_age) ||
                 (has_open && now - s.last_append_ >= opts_.chunk_idle_period);
      if (due && has_open) {
        size_t before = s.Footprint();
        s.CloseChunk(opts_.codec);
        AccountLocked(before, s.Footprint());
      }
      for (const auto& c : s.closed_) {
        std::string key = "chunks/" + inst->tenant_ + "/" + Hex(s.fp_, 16) + "/" +
                          Hex(static_cast<uint64_t>(c->min_ts), 16) + "-" +
                          Hex(static_cast<uint64_t>(c->max_ts), 16) + "-" + Hex(c->checksum, 8);
        pending.push_back({stream, c, std::move(key)});
      }
    }
    if (pending.empty()) continue;

    // 2. Write chunks (in parallel, bounded), then one index file per day touched.
    std::vector<Status> results(pending.size());
    std::atomic<size_t> next{0};
    auto worker = [&] {
      for (size_t i = next.fetch_add(1); i < pending.size(); i = next.fetch_add(1)) {
        results[i] = store_->Put(pending[i].key, *pending[i].chunk->bytes);
      }
    };
    size_t nthreads = std::min<size_t>(std::max(1, opts_.concurrent_flushes), pending.size());
    nthreads = std::min<size_t>(nthreads, 8);
    std::vector<std::thread> threads;
    for (size_t t = 1; t < nthreads; t++) threads.emplace_back(worker);
    worker();
    for (auto& t : threads) t.join();

    std::map<int64_t, index::IndexFileWriter> writers;
    std::vector<bool> written(pending.size(), false);
    for (size_t i = 0; i < pending.size(); i++) {
      if (!results[i].ok()) {
        if (first_error.ok()) first_error = results[i];
        if (metrics_->flush_failures) metrics_->flush_failures->Inc();
        continue;
      }
      const Pending& p = pending[i];
      index::ChunkRef ref;
      ref.fingerprint = p.stream->fp_;
      ref.min_ts = p.chunk->min_ts;
      ref.max_ts = p.chunk->max_ts;
      ref.entries = p.chunk->entries;
      ref.compressed_bytes = p.chunk->bytes->size();
      ref.uncompressed_bytes = p.chunk->uncompressed;
      ref.key = p.key;
      for (int64_t day = DayOf(ref.min_ts); day <= DayOf(ref.max_ts); day++) {
        auto& w = writers[day];
        w.AddSeries(ref.fingerprint, p.stream->labels_);
        w.AddChunk(ref);
      }
      written[i] = true;
    }
    bool index_ok = true;
    for (auto& [day, w] : writers) {
      auto bytes = w.Finish();
      Status st = bytes.ok() ? index_->Write(inst->tenant_, day, *bytes) : bytes.status();
      if (!st.ok()) {
        index_ok = false;
        if (first_error.ok()) first_error = st;
        if (metrics_->flush_failures) metrics_->flush_failures->Inc();
      }
    }
    if (!index_ok) continue;  // keep everything in memory; retried next pass

    // 3. Drop flushed chunks from memory; drop streams left empty.
    for (size_t i = 0; i < pending.size(); i++) {
      if (!written[i]) continue;
      Pending& p = pending[i];
      if (metrics_->chunks_flushed) {
        metrics_->chunks_flushed->Inc();
        metrics_->chunk_bytes_flushed->Inc(static_cast<double>(p.chunk->bytes->size()));
      }
      std::lock_guard<std::mutex> lock(p.stream->mu_);
      auto& closed = p.stream->closed_;
      auto it = std::find(closed.begin(), closed.end(), p.chunk);
      if (it != closed.end()) {
        memory_bytes_.fetch_sub(p.chunk->bytes->size(), std::memory_order_relaxed);
        closed.erase(it);
      }
    }
    for (auto& stream : inst->All()) {
      Shard& shard = inst->ShardFor(stream->fp_);
      std::lock_guard<std::mutex> shard_lock(shard.mu);
      std::lock_guard<std::mutex> lock(stream->mu_);
      if (!stream->Empty() || stream->removed_ || stream->pending_ > 0) continue;
      if (!force && now - stream->last_append_ < opts_.chunk_idle_period) continue;
      stream->removed_ = true;
      shard.streams.erase(stream->fp_);
      inst->index_.Remove(stream->fp_);
      active_streams_.fetch_sub(1, std::memory_order_relaxed);
      if (metrics_->streams) metrics_->streams->WithLabels({inst->tenant_}).Dec();
    }
  }
  return first_error;
}

}  // namespace skald::ingester
