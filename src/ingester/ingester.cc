// The ingester's push and query entry points, and the tenants and streams they reach.
// Flushing lives in flush.cc, the WAL glue (replay, checkpoints) in wal_glue.cc, a
// stream's head and chunks in streams.cc.
#include "ingester/ingester.h"

#include <algorithm>

#include "core/logging.h"
#include "core/tracing.h"
#include "ingester/ingester_metrics.h"
#include "ingester/streams.h"
#include "wal/records.h"

namespace skald::ingester {

namespace {

// Go's time.RFC3339 (whole seconds, fraction dropped), as Loki's ErrTooFarBehind prints.
std::string FormatRFC3339Seconds(int64_t ns) {
  int64_t secs = ns / kNanosPerSecond;
  if (ns < 0 && ns % kNanosPerSecond != 0) secs--;
  return FormatRFC3339Nano(secs * kNanosPerSecond);
}

}  // namespace

Ingester::Ingester(IngesterOptions opts, storage::ObjectStore* store, index::IndexStore* index,
                   metrics::Registry* registry)
    : opts_(opts),
      chunks_(store),
      index_(index),
      flush_pool_(
          std::make_unique<ThreadPool>("skald-flush", std::max(1, opts.concurrent_flushes), 0)),
      metrics_(std::make_unique<Metrics>()) {
  if (opts_.shards < 1) opts_.shards = 1;
  if (registry != nullptr) {
    metrics::Registry& r = *registry;
    metrics_->chunks_flushed = &r.AddCounter("loki_ingester_chunks_flushed_total",
                                             "Total flushed chunks per reason.", {"reason"});
    metrics_->chunks_stored = &r.AddCounter("loki_ingester_chunks_stored_total",
                                            "Total stored chunks per tenant.", {"tenant"});
    metrics_->chunk_stored_bytes =
        &r.AddCounter("loki_ingester_chunk_stored_bytes_total",
                      "Total bytes stored in chunks per tenant.", {"tenant"});
    metrics_->packs_written =
        &r.AddCounter("skald_ingester_packs_written_total",
                      "Packed objects written (each holds the chunks of one tenant's flush).", {})
             .WithLabels();
    metrics_->chunk_size = &r.AddHistogram("loki_ingester_chunk_size_bytes",
                                           "Distribution of stored chunk sizes (when stored).", {},
                                           metrics::ExponentialBuckets(20000, 2, 10))
                                .WithLabels();
    metrics_->chunk_entries =
        &r.AddHistogram("loki_ingester_chunk_entries",
                        "Distribution of stored lines per chunk (when stored).", {},
                        metrics::ExponentialBuckets(200, 2, 9))
             .WithLabels();
    metrics_->chunk_utilization =
        &r.AddHistogram("loki_ingester_chunk_utilization",
                        "Distribution of stored chunk utilization (when stored).", {},
                        metrics::LinearBuckets(0, 0.2, 6))
             .WithLabels();
    metrics_->chunk_age =
        &r.AddHistogram("loki_ingester_chunk_age_seconds",
                        "Distribution of chunk ages (when stored).", {},
                        {60, 300, 600, 1800, 3600, 7200, 14400, 36000, 43200, 57600})
             .WithLabels();
    metrics_->flush_failures = &r.AddCounter("loki_ingester_chunks_flush_failures_total",
                                             "Total number of flush failures.")
                                    .WithLabels();
    metrics_->blocks_cut =
        &r.AddCounter("skald_ingester_blocks_cut_total", "Head blocks compressed.").WithLabels();
    metrics_->replica_chunks_deduped =
        &r.AddCounter("skald_ingester_replica_chunks_deduped_total",
                      "Chunks of streams another replica owns that were found in the store "
                      "already and dropped instead of being stored again.",
                      {})
             .WithLabels();
    metrics_->replica_chunks_stored =
        &r.AddCounter("skald_ingester_replica_chunks_stored_total",
                      "Chunks of streams another replica owns that were stored because the "
                      "store lacked some of their entries.",
                      {})
             .WithLabels();
    metrics_->chunks_reencoded =
        &r.AddCounter("skald_ingester_chunks_reencoded_total",
                      "Chunks of provisional head blocks re-encoded into stored blocks at flush.")
             .WithLabels();
    metrics_->wal_failures = &r.AddCounter("skald_ingester_wal_write_failures_total",
                                           "Pushes refused because the WAL write or sync failed.")
                                  .WithLabels();
    metrics_->checkpoints = &r.AddCounter("loki_ingester_checkpoint_creations_total",
                                          "Total number of checkpoint creations attempted.")
                                 .WithLabels();
    metrics_->checkpoint_failures =
        &r.AddCounter("loki_ingester_checkpoint_creations_failed_total",
                      "Total number of checkpoint creations that failed.")
             .WithLabels();
    metrics_->streams =
        &r.AddGauge("loki_ingester_memory_streams",
                    "The total number of streams in memory per tenant.", {"tenant"});
    metrics_->streams_created =
        &r.AddCounter("loki_ingester_streams_created_total",
                      "The total number of streams created per tenant.", {"tenant"});
    metrics_->streams_removed =
        &r.AddCounter("loki_ingester_streams_removed_total",
                      "The total number of streams removed per tenant.", {"tenant"});
    r.GaugeFunc("loki_ingester_memory_chunks", "The total number of chunks in memory.", [this] {
      return static_cast<double>(metrics_->memory_chunks.load(std::memory_order_relaxed));
    });
    r.GaugeFunc("skald_ingester_memory_bytes",
                "Bytes of unflushed log data held in memory (what the memory guard counts).",
                [this] { return static_cast<double>(MemoryBytes()); });
    r.GaugeFunc("skald_ingester_memory_limit_bytes",
                "The memory guard's cap on unflushed bytes for the process (0: none).",
                [this] { return static_cast<double>(opts_.max_head_bytes); });
    metrics_->tenant_memory =
        &r.AddGauge("skald_ingester_tenant_memory_bytes",
                    "Bytes of unflushed log data held in memory per tenant.", {"tenant"});
    metrics_->tenant_buffered =
        &r.AddGauge("skald_ingester_tenant_buffered_bytes",
                    "Raw (uncompressed) bytes of the unflushed log data that "
                    "skald_ingester_tenant_memory_bytes "
                    "holds, per tenant: their ratio is the memory per buffered byte.",
                    {"tenant"});
    metrics_->memory_refusals = &r.AddCounter(
        "skald_ingester_memory_refusals_total",
        "Pushes refused by the memory guard, by the cap they would have passed.", {"scope"});
    metrics_->pressure_passes =
        &r.AddCounter("skald_ingester_memory_pressure_flushes_total",
                      "Flush passes started early because memory was over the pressure share "
                      "of a cap.")
             .WithLabels();
  }
}

Ingester::~Ingester() { Stop(); }
TenantInstance* Ingester::FindTenant(std::string_view tenant) {
  std::shared_lock<std::shared_mutex> lock(tenants_mu_);
  auto it = tenants_.find(std::string(tenant));
  return it == tenants_.end() ? nullptr : it->second.get();
}

TenantInstance* Ingester::GetOrCreateTenant(std::string_view tenant) {
  if (TenantInstance* t = FindTenant(tenant)) return t;
  std::unique_lock<std::shared_mutex> lock(tenants_mu_);
  auto& slot = tenants_[std::string(tenant)];
  if (!slot) {
    slot = std::make_unique<TenantInstance>(std::string(tenant), opts_.shards);
    if (metrics_->tenant_memory) {
      slot->memory_gauge_ = &metrics_->tenant_memory->WithLabels({std::string(tenant)});
      slot->raw_gauge_ = &metrics_->tenant_buffered->WithLabels({std::string(tenant)});
    }
    if (metrics_->streams) {
      const std::vector<std::string> t = {std::string(tenant)};
      slot->streams_gauge_ = &metrics_->streams->WithLabels(t);
      slot->streams_created_ = &metrics_->streams_created->WithLabels(t);
      slot->streams_removed_ = &metrics_->streams_removed->WithLabels(t);
    }
    if (metrics_->chunks_stored) {
      const std::vector<std::string> t = {std::string(tenant)};
      slot->chunks_stored_ = &metrics_->chunks_stored->WithLabels(t);
      slot->chunk_stored_bytes_ = &metrics_->chunk_stored_bytes->WithLabels(t);
    }
  }
  return slot.get();
}

int64_t Ingester::MemoryBytes(std::string_view tenant) {
  TenantInstance* inst = FindTenant(tenant);
  return inst ? inst->memory_bytes_.load(std::memory_order_relaxed) : 0;
}

std::vector<TenantInstance*> Ingester::AllTenants() {
  std::shared_lock<std::shared_mutex> lock(tenants_mu_);
  std::vector<TenantInstance*> out;
  for (auto& [name, t] : tenants_) out.push_back(t.get());
  return out;
}

size_t Ingester::ActiveStreams(std::string_view tenant) {
  TenantInstance* inst = FindTenant(tenant);
  return inst ? static_cast<size_t>(inst->streams_.load(std::memory_order_relaxed)) : 0;
}

std::shared_ptr<Stream> Ingester::AcquireStream(TenantInstance* inst, const Labels& labels,
                                                uint64_t fp, int64_t* limit) {
  Shard& shard = inst->ShardFor(fp);
  while (true) {
    std::shared_ptr<Stream> stream;
    {
      std::lock_guard<std::mutex> lock(shard.mu);
      auto it = shard.streams.find(fp);
      if (it == shard.streams.end()) {
        if (limit != nullptr && *limit < 0) {
          *limit = opts_.max_streams ? std::max<int64_t>(0, opts_.max_streams(inst->tenant_)) : 0;
        }
        if (!inst->ReserveStream(limit != nullptr ? *limit : 0)) return nullptr;
        stream = std::make_shared<Stream>(labels, fp);
        shard.streams.emplace(fp, stream);
        inst->index_.Add(fp, stream->labels_);
        active_streams_.fetch_add(1, std::memory_order_relaxed);
        if (metrics_->streams) {
          inst->streams_gauge_->Inc();
          inst->streams_created_->Inc();
        }
      } else {
        stream = it->second;
      }
    }
    std::lock_guard<SmallMutex> lock(stream->mu_);
    if (stream->removed_) continue;  // raced with the flusher dropping it; look again
    stream->pending_++;
    return stream;
  }
}

namespace {

// Small heads are sized for exactly what a push brings: at high cardinality most streams get
// a line or two per push and hold a few lines in all, and any growth factor would leave part
// of every head unused (a 2-line head grown by 1.25 left ~70 of ~350 bytes idle). Heads of
// 4 KiB and more (or of 64 entries) grow as AppendLocked grows them. REQUIRES: s.mu_ held.
void ReserveHeadForPush(Stream& s, size_t bytes, size_t entries) {
  constexpr size_t kExactBytes = 4096, kExactEntries = 64;
  const size_t need = s.head_data_.size() + bytes;
  if (need > s.head_data_.capacity() && need < kExactBytes) {
    // std::string::reserve would at least double; a fresh string takes exactly `need`.
    std::string fresh;
    fresh.reserve(need);
    fresh.append(s.head_data_);
    s.head_data_.swap(fresh);
  }
  const size_t n = s.head_.size() + entries;
  if (n > s.head_.capacity() && n <= kExactEntries) s.head_.reserve(n);
}

}  // namespace

BlockEncoding Ingester::Encoding() const {
  return {opts_.codec, opts_.compression_level, opts_.block_filter_min_bytes,
          opts_.index_filter_max_bytes};
}

void Ingester::AppendLocked(std::string_view tenant, Stream& s, int64_t ts, std::string_view line,
                            std::span<const MetadataPair> metadata, uint64_t hash, int64_t now) {
  Stream::HeadEntry he;
  he.ts = ts;
  he.offset = static_cast<uint32_t>(s.head_data_.size());
  he.line_len = static_cast<uint32_t>(line.size());
  he.seq = static_cast<uint32_t>(s.head_.size());
  // Small heads grow to about what they hold (at high cardinality most streams hold a few
  // lines, and doubling would leave half of each head unused); from 4 KiB on they double.
  const size_t need = s.head_data_.size() + line.size() + HeadMetadataSize(metadata);
  if (need > s.head_data_.capacity()) {
    s.head_data_.reserve(need < 4096 ? need + need / 4
                                     : std::max(need, 2 * s.head_data_.capacity()));
  }
  s.head_data_.append(line);
  AppendHeadMetadata(metadata, &s.head_data_);
  he.meta_len = static_cast<uint32_t>(s.head_data_.size() - he.offset - line.size());
  if (!s.head_.empty() && ts < s.head_.back().ts) s.head_sorted_ = false;
  s.head_.push_back(he);
  s.last_ts_ = ts;
  s.last_hash_ = hash;
  if (ts > s.newest_ts_) s.newest_ts_ = ts;
  if (s.open_first_append_ == 0) s.open_first_append_ = now;
  if (s.head_.size() == 1 && s.blocks_.empty()) {  // this entry opened a chunk
    metrics_->memory_chunks.fetch_add(1, std::memory_order_relaxed);
  }
  s.last_append_ = now;
  // Heads are cut early into provisional blocks (IngesterOptions::head_block_size) or at
  // block_size into final ones.
  const bool early = opts_.head_block_size > 0 && opts_.head_block_size < opts_.block_size;
  if (s.head_data_.size() + s.head_.size() * 12 >=
      (early ? opts_.head_block_size : opts_.block_size)) {
    s.CutHead(Encoding(), early);
    if (metrics_->blocks_cut) metrics_->blocks_cut->Inc();
    if (s.open_compressed_ >= opts_.target_size) {
      s.CloseChunk(tenant, Encoding(), "full");
    }
  }
}

Status Ingester::Push(std::string_view tenant, const Labels& labels,
                      std::span<const AppendEntry> entries, AppendResult* result) {
  StreamAppend one;
  one.labels = &labels;
  one.entries = entries;
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
    std::vector<uint64_t> hashes;    // EntryHash of each accepted entry
    bool log_series = false;
  };
  std::vector<Prepared> prepared(streams.size());
  int64_t stream_limit = -1;  // looked up when a stream is about to be created
  int64_t mono = 0;           // the rate limits' clock, read when first needed

  // 0. The memory guard: the whole push is admitted or refused before any stream is created
  // or anything logged, against the footprint its entries will have in the heads.
  int64_t tenant_cap = 0, reserved = 0;
  if (opts_.max_head_bytes > 0 || opts_.max_head_bytes_per_tenant) {
    size_t lines = 0;
    for (const StreamAppend& sa : streams) {
      lines += sa.entries.size();
      for (const AppendEntry& e : sa.entries) {
        reserved += static_cast<int64_t>(e.line.size() + sizeof(Stream::HeadEntry));
        for (const MetadataPair& p : e.metadata) {
          reserved += static_cast<int64_t>(p.name.size() + p.value.size() + 2);
        }
      }
    }
    Status admitted = ReservePush(inst, reserved, lines, &tenant_cap);
    if (!admitted.ok()) {
      for (StreamAppend& sa : streams) sa.result.memory_limited = true;
      return admitted;
    }
  }

  // 1. Find or create the streams (a new stream beyond the tenant's stream limit is refused
  // here, before anything reaches the WAL), then decide per entry: too far behind,
  // duplicate of what the stream holds, or accepted.
  for (size_t i = 0; i < streams.size(); i++) {
    StreamAppend& sa = streams[i];
    Prepared& p = prepared[i];
    const uint64_t fp = sa.fingerprint != 0 ? sa.fingerprint : sa.labels->Fingerprint();
    p.stream = AcquireStream(inst, *sa.labels, fp, &stream_limit);
    if (!p.stream) {
      sa.result.stream_limited = true;
      continue;
    }
    std::lock_guard<SmallMutex> lock(p.stream->mu_);
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
      const uint64_t hash = EntryHash(e.line, e.metadata);
      if (e.ts == last_ts && hash == last_hash) {
        sa.result.duplicates++;
        continue;
      }
      if (sa.rate != nullptr) {
        uint64_t size = e.line.size();
        if (j < sa.sizes.size()) {
          size = sa.sizes[j];
        } else {
          for (const MetadataPair& m : e.metadata) size += m.name.size() + m.value.size();
        }
        if (mono == 0) mono = MonotonicNanos();
        if (!s.rate_.Take(mono, size, *sa.rate)) {
          sa.result.rate_limited.emplace_back(e.ts, size);
          continue;
        }
      }
      last_ts = e.ts;
      last_hash = hash;
      newest = std::max(newest, e.ts);
      p.accepted.push_back(j);
      p.hashes.push_back(hash);
    }
    p.log_series = wal_ != nullptr && !s.series_logged_ && !p.accepted.empty();
  }

  // 2. Make the accepted entries durable: one WAL append (one fsync) for the whole push.
  // The shared lock orders this push against a checkpoint's segment rotation.
  std::shared_lock<std::shared_mutex> order(wal_order_mu_, std::defer_lock);
  Status wal_status;
  if (wal_ != nullptr) {
    trace::Span wal_span("ingester.wal_append");  // includes waiting for the group commit
    order.lock();
    thread_local std::string buf;
    thread_local std::vector<std::pair<wal::RecordType, std::pair<size_t, size_t>>> spans;
    buf.clear();
    spans.clear();
    wal::EntriesEncoder enc;
    for (size_t i = 0; i < streams.size(); i++) {
      const Prepared& p = prepared[i];
      if (!p.stream || p.accepted.empty()) continue;
      const Stream& s = *p.stream;
      if (p.log_series) {
        size_t b = buf.size();
        wal::EncodeSeries(&buf, {tenant, s.fp_, s.labels_.ToString()});
        spans.push_back({wal::RecordType::kSeries, {b, buf.size()}});
      }
      size_t b = buf.size();
      enc.Begin(&buf, tenant, s.fp_);
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
  trace::Span apply_span("ingester.apply");
  for (size_t i = 0; i < streams.size(); i++) {
    Prepared& p = prepared[i];
    if (!p.stream) continue;  // refused by the stream limit
    std::lock_guard<SmallMutex> lock(p.stream->mu_);
    Stream& s = *p.stream;
    if (wal_status.ok()) {
      Stream::MemoryUse before = s.Usage();
      size_t incoming = 0;
      for (uint32_t j : p.accepted) {
        const AppendEntry& e = streams[i].entries[j];
        incoming += e.line.size() + HeadMetadataSize(e.metadata);
      }
      ReserveHeadForPush(s, incoming, p.accepted.size());
      for (size_t k = 0; k < p.accepted.size(); k++) {
        const AppendEntry& e = streams[i].entries[p.accepted[k]];
        const uint64_t hash = p.hashes[k];
        if (e.ts == s.last_ts_ && hash == s.last_hash_) {  // a concurrent push got there first
          streams[i].result.duplicates++;
          continue;
        }
        AppendLocked(tenant, s, e.ts, e.line, e.metadata, hash, now);
        streams[i].result.appended++;
      }
      if (p.log_series) s.series_logged_ = true;
      AccountLocked(inst, before, s.Usage());
    }
    s.pending_--;
  }
  if (reserved > 0) {
    ReleaseReservation(inst, reserved, tenant_cap);
    if (wal_status.ok() && UnderPressure(inst, tenant_cap)) RequestPressureFlush();
  }
  if (!wal_status.ok()) {
    return Status::Unavailable("failed to write to the WAL, push not accepted: " +
                               wal_status.message());
  }
  return Status::OK();
}

void Ingester::AccountLocked(TenantInstance* inst, const StreamMemoryUse& before,
                             const StreamMemoryUse& after) {
  if (after.raw != before.raw) {
    const int64_t raw = static_cast<int64_t>(after.raw) - static_cast<int64_t>(before.raw);
    if (inst->raw_gauge_ != nullptr) inst->raw_gauge_->Add(static_cast<double>(raw));
  }
  if (after.held == before.held) return;
  const int64_t delta = static_cast<int64_t>(after.held) - static_cast<int64_t>(before.held);
  memory_bytes_.fetch_add(static_cast<size_t>(delta), std::memory_order_relaxed);  // wraps
  inst->memory_bytes_.fetch_add(delta, std::memory_order_relaxed);
  if (inst->memory_gauge_ != nullptr) inst->memory_gauge_->Add(static_cast<double>(delta));
}

Status Ingester::ReservePush(TenantInstance* inst, int64_t bytes, size_t lines,
                             int64_t* tenant_cap) {
  *tenant_cap =
      opts_.max_head_bytes_per_tenant ? opts_.max_head_bytes_per_tenant(inst->tenant_) : 0;
  // Reserve first, then read what is held: concurrent pushes can refuse each other near the
  // cap, but never pass it together. A push accounts its bytes before it releases its
  // reservation (release), so a reservation that no longer sees another's (acquire) sees
  // the bytes that replaced it; reading `held` first missed both.
  if (*tenant_cap > 0) {
    const int64_t pending = inst->reserved_bytes_.fetch_add(bytes, std::memory_order_acq_rel);
    const int64_t held = inst->memory_bytes_.load(std::memory_order_acquire);
    if (held + pending + bytes > *tenant_cap) {
      inst->reserved_bytes_.fetch_sub(bytes, std::memory_order_relaxed);
      if (metrics_->memory_refusals) metrics_->memory_refusals->WithLabels({"tenant"}).Inc();
      inst->refused_.store(true, std::memory_order_relaxed);
      RequestPressureFlush();
      return Status::ResourceExhausted(
          "ingester memory limit exceeded for user " + inst->tenant_ +
          " (limit: " + std::to_string(*tenant_cap) + " bytes, unflushed: " + std::to_string(held) +
          " bytes) while attempting to ingest '" + std::to_string(lines) + "' lines totaling '" +
          std::to_string(bytes) +
          "' bytes, retry later (unflushed data is being flushed), reduce log volume or contact "
          "your Loki administrator to see if the limit can be increased");
    }
  }
  if (opts_.max_head_bytes > 0) {
    const int64_t pending = reserved_bytes_.fetch_add(bytes, std::memory_order_acq_rel);
    const int64_t held = static_cast<int64_t>(memory_bytes_.load(std::memory_order_acquire));
    if (held + pending + bytes > opts_.max_head_bytes) {
      reserved_bytes_.fetch_sub(bytes, std::memory_order_relaxed);
      if (*tenant_cap > 0) inst->reserved_bytes_.fetch_sub(bytes, std::memory_order_relaxed);
      if (metrics_->memory_refusals) metrics_->memory_refusals->WithLabels({"global"}).Inc();
      refused_.store(true, std::memory_order_relaxed);
      RequestPressureFlush();
      return Status::Unavailable(
          "ingester memory limit exceeded (limit: " + std::to_string(opts_.max_head_bytes) +
          " bytes, unflushed: " + std::to_string(held) + " bytes) while attempting to ingest '" +
          std::to_string(lines) + "' lines totaling '" + std::to_string(bytes) +
          "' bytes for user " + inst->tenant_ + ", retry later (unflushed data is being flushed)");
    }
  }
  return Status::OK();
}

void Ingester::ReleaseReservation(TenantInstance* inst, int64_t bytes, int64_t tenant_cap) {
  if (tenant_cap > 0) inst->reserved_bytes_.fetch_sub(bytes, std::memory_order_release);
  if (opts_.max_head_bytes > 0) reserved_bytes_.fetch_sub(bytes, std::memory_order_release);
}

bool Ingester::UnderPressure(TenantInstance* inst, int64_t tenant_cap) const {
  const double ratio = opts_.flush_pressure_ratio;
  if (tenant_cap > 0 && static_cast<double>(inst->memory_bytes_.load(std::memory_order_relaxed)) >
                            ratio * static_cast<double>(tenant_cap)) {
    return true;
  }
  return opts_.max_head_bytes > 0 &&
         static_cast<double>(memory_bytes_.load(std::memory_order_relaxed)) >
             ratio * static_cast<double>(opts_.max_head_bytes);
}

void Ingester::RequestPressureFlush() {
  if (pressure_flush_.exchange(true, std::memory_order_acq_rel)) return;  // already pending
  std::lock_guard<std::mutex> lock(loop_mu_);
  loop_cv_.notify_all();
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
    ref.filter = m.filter_length > 0
                     ? std::string_view(c->bytes->data() + m.filter_offset, m.filter_length)
                     : std::string_view(c->filter);  // detached (one block) or none
    ref.min_ts = m.min_ts;
    ref.max_ts = m.max_ts;
    ref.entries = m.entries;
    ref.uncompressed_size = m.uncompressed_size;
    if (ref.Overlaps(from, through)) out->push_back(std::move(ref));
  }
}

// Does the stream's head hold an entry with from <= ts < through? REQUIRES: s.mu_ held.
bool HeadOverlaps(const Stream& s, int64_t from, int64_t through) {
  if (s.head_sorted_) return s.head_.back().ts >= from && s.head_.front().ts < through;
  for (const Stream::HeadEntry& e : s.head_) {
    if (e.ts >= from && e.ts < through) return true;
  }
  return false;
}

// Calls fn(fingerprint, stream) with the stream's lock held, for every stream of the tenant
// matching all matchers (none when inst is null).
template <typename Fn>
void ForEachMatchingStream(TenantInstance* inst, const std::vector<Matcher>& matchers, Fn&& fn) {
  if (inst == nullptr) return;
  for (uint64_t fp : inst->index_.Select(matchers)) {
    std::shared_ptr<Stream> stream = inst->Find(fp);
    if (!stream) continue;
    std::lock_guard<SmallMutex> lock(stream->mu_);
    fn(fp, *stream);
  }
}

}  // namespace

void Ingester::SnapshotLocked(uint64_t fp, Stream& s, int64_t from, int64_t through,
                              StreamSnapshot* snap) {
  snap->fingerprint = fp;
  snap->labels = s.labels_.ToLabels();
  snap->blocks.clear();
  snap->head_bytes = snap->head_lines = 0;
  for (const auto& c : s.closed_) AppendChunkBlocks(c, from, through, &snap->blocks);
  // A reference to block b that keeps `owner` (which holds b) alive.
  auto ref_of = [](const chunk::EncodedBlock& b, std::shared_ptr<const void> owner) {
    chunk::BlockRef ref;
    ref.bytes = b.bytes;
    ref.filter = b.filter;
    ref.min_ts = b.meta.min_ts;
    ref.max_ts = b.meta.max_ts;
    ref.entries = b.meta.entries;
    ref.uncompressed_size = b.meta.uncompressed_size;
    ref.owner = std::move(owner);
    return ref;
  };
  for (const auto& b : s.blocks_) {
    chunk::BlockRef ref = ref_of(*b, b);
    if (ref.Overlaps(from, through)) snap->blocks.push_back(std::move(ref));
  }
  if (!s.head_.empty() && HeadOverlaps(s, from, through)) {
    // The head, sorted in place and encoded uncompressed into a block the caller owns (only
    // when it is needed: encoding copies every line).
    uint32_t dups = 0;
    auto block = std::make_shared<chunk::EncodedBlock>(s.EncodeHead(chunk::Codec::kNone, &dups));
    chunk::BlockRef ref = ref_of(*block, block);
    snap->head_bytes = s.head_data_.size();
    snap->head_lines = s.head_.size();
    if (ref.Overlaps(from, through)) snap->blocks.push_back(std::move(ref));
  }
}

std::vector<StreamSnapshot> Ingester::Snapshot(std::string_view tenant,
                                               const std::vector<Matcher>& matchers, int64_t from,
                                               int64_t through) {
  std::vector<StreamSnapshot> out;
  ForEachMatchingStream(FindTenant(tenant), matchers, [&](uint64_t fp, Stream& s) {
    StreamSnapshot snap;
    SnapshotLocked(fp, s, from, through, &snap);
    if (!snap.blocks.empty()) out.push_back(std::move(snap));
  });
  return out;
}

std::vector<StreamVolume> Ingester::Volumes(std::string_view tenant,
                                            const std::vector<Matcher>& matchers, int64_t from,
                                            int64_t through) {
  std::vector<StreamVolume> out;
  auto overlaps = [&](int64_t lo, int64_t hi) { return hi >= from && lo < through; };
  ForEachMatchingStream(FindTenant(tenant), matchers, [&](uint64_t fp, const Stream& s) {
    StreamVolume v;
    v.fingerprint = fp;
    v.labels = s.labels_.ToLabels();
    for (const auto& c : s.closed_) {
      if (!overlaps(c->min_ts, c->max_ts)) continue;
      v.chunks++;
      for (const chunk::BlockMeta& m : c->blocks) {
        if (overlaps(m.min_ts, m.max_ts))
          v.pieces.push_back({m.min_ts, m.max_ts, m.entries, m.uncompressed_size});
      }
    }
    bool open_chunk = false;
    for (const auto& b : s.blocks_) {
      if (!overlaps(b->meta.min_ts, b->meta.max_ts)) continue;
      open_chunk = true;
      v.pieces.push_back(
          {b->meta.min_ts, b->meta.max_ts, b->meta.entries, b->meta.uncompressed_size});
    }
    DataPiece head{INT64_MAX, INT64_MIN, 0, 0};
    for (const Stream::HeadEntry& e : s.head_) {
      if (e.ts < from || e.ts >= through) continue;
      head.min_ts = std::min(head.min_ts, e.ts);
      head.max_ts = std::max(head.max_ts, e.ts);
      head.entries++;
      head.bytes += e.line_len;  // line bytes, as Loki counts them (no metadata)
    }
    if (head.entries > 0) {
      open_chunk = true;
      v.pieces.push_back(head);
    }
    if (open_chunk) v.chunks++;
    if (!v.pieces.empty()) out.push_back(std::move(v));
  });
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

}  // namespace skald::ingester
