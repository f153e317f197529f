// WAL glue: rebuilding the in-memory streams from a checkpoint and the segments after
// it, attaching a WAL for pushes, and writing checkpoints of the in-memory streams.
#include <map>
#include <set>

#include "chunk/block.h"
#include "ingester/ingester.h"
#include "ingester/ingester_metrics.h"
#include "ingester/streams.h"
#include "wal/checkpoint.h"
#include "wal/records.h"

namespace skald::ingester {

Status Ingester::ReplayWal(const std::string& dir, FileSystem* fs, ReplayReport* report) {
  const int64_t t0 = MonotonicNanos();
  FileSystem* use_fs = fs != nullptr ? fs : PosixFileSystem();
  // Streams seen in series records, by (tenant, fingerprint).
  std::map<std::pair<std::string, uint64_t>, Labels> series;
  // Entries restored from the checkpoint, per stream, as (ts, entry hash). A push
  // that raced the checkpoint (logged in segment N, applied before the snapshot)
  // is in checkpoint.N and in segment N: its second copy must be dropped.
  std::map<std::pair<std::string, uint64_t>, std::set<std::pair<int64_t, uint64_t>>> checkpointed;
  bool in_checkpoint = false;
  std::vector<MetadataPair> meta;
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
    std::lock_guard<SmallMutex> lock(stream->mu_);
    Stream& s = *stream;
    Stream::MemoryUse before = s.Usage();
    std::set<std::pair<int64_t, uint64_t>>* seen = nullptr;
    if (in_checkpoint) {
      seen = &checkpointed[it->first];
    } else if (auto c = checkpointed.find(it->first); c != checkpointed.end()) {
      seen = &c->second;
    }
    int64_t ts;
    std::string_view line;
    while (dec.Next(&ts, &line, &meta)) {
      const uint64_t hash = EntryHash(line, meta);
      if (ts == s.last_ts_ && hash == s.last_hash_) continue;
      if (seen != nullptr) {
        if (in_checkpoint) {
          seen->insert({ts, hash});
        } else if (seen->count({ts, hash}) != 0) {
          continue;  // already restored from the checkpoint
        }
      }
      AppendLocked(inst->tenant_, s, ts, line, meta, hash, now);
      report->entries++;
    }
    s.series_logged_ = true;  // its series record stays in the WAL until the next checkpoint
    AccountLocked(inst, before, s.Usage());
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

void Ingester::AttachWal(wal::Wal* wal, std::string dir, FileSystem* fs) {
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
  // Loki counts an attempt once the segment is cut, and a failure when it does not commit.
  if (metrics_->checkpoints) metrics_->checkpoints->Inc();
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
  // One stream at a time: a snapshot of every stream at once would hold an uncompressed copy
  // of every head, and keep alive every block a concurrent flush releases.
  StreamSnapshot snap;
  for (TenantInstance* inst : AllTenants()) {
    for (const std::shared_ptr<Stream>& stream : inst->All()) {
      {
        std::lock_guard<SmallMutex> lock(stream->mu_);
        if (stream->removed_) continue;
        SnapshotLocked(stream->fp_, *stream, INT64_MIN, INT64_MAX, &snap);
      }
      if (snap.blocks.empty()) continue;
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
      snap.blocks.clear();  // drops this stream's block references before the next one
    }
  }
  Status st = (*writer)->Commit();
  if (!st.ok()) return fail(st);
  return wal_->RemoveSegmentsBefore(n);
}

}  // namespace skald::ingester
