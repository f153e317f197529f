// Wal: the write-ahead log writer. Appends framed, checksummed records to numbered segment
// files in one directory (docs/formats/wal.md) with group commit: concurrent Append calls
// are queued, one of them (the leader) writes every queued record in one write and one
// fdatasync, then wakes the others. Append returns only once its records are durable
// (written and, with fsync on, synced), or with the error that prevented it.
//
// Failures: a failed write or sync fails the whole batch with IOError (the caller answers
// 5xx) and the writer cuts the segment back to the end of the last durable batch, so
// nothing from a failed batch is ever replayed. If even that cut fails, appends keep
// failing until a later attempt manages it; the WAL recovers by itself once the disk does
// (space returns). Health() reports the last error until an append succeeds again.
//
// Typical use by the ingester:
//   replay (wal::Replay / LastCheckpoint) first, then
//   auto wal = Wal::Open({.dir = "data/wal"});
//   per push: encode kSeries/kEntries payloads, (*wal)->Append(records) before applying.
//   checkpoint: n = RotateSegment(); write checkpoint n (checkpoint.h) covering every
//   record in segments < n; then RemoveSegmentsBefore(n).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/file_system.h"
#include "core/status.h"
#include "wal/records.h"

namespace skald::wal {

struct WalOptions {
  std::string dir;
  // fdatasync every batch before acknowledging it. Off: a process crash still loses nothing
  // (data is in the page cache), a power cut may lose the last seconds.
  bool fsync = true;
  // A new segment is started before a batch that would grow the current one past this
  // (a single larger batch still goes into one segment).
  uint64_t segment_size = 128ull << 20;
  // Upper bound on the bytes one group-commit write gathers (at least one Append call).
  size_t max_batch_bytes = 4 << 20;
  FileSystem* fs = nullptr;  // null: PosixFileSystem(); must outlive the Wal
};

// One record to append; the payload is only read during the Append call.
struct WalRecord {
  RecordType type;
  std::string_view payload;
};

// Counters since Open (monotonic except current_segment), for metrics.
struct WalStats {
  uint64_t records = 0;           // records acknowledged
  uint64_t bytes = 0;             // bytes written for them (framing included)
  uint64_t batches = 0;           // successful group-commit writes
  uint64_t fsyncs = 0;            // successful fdatasync calls on segments
  uint64_t failed_batches = 0;    // writes/syncs that failed (their appends got IOError)
  uint64_t failed_records = 0;    // records whose Append returned an error
  uint64_t segments_created = 0;  // segment files started
  uint64_t current_segment = 0;   // number of the segment being written
};

class Wal {
 public:
  // Opens (creating if needed) the WAL directory and starts a new segment numbered after
  // every existing segment and checkpoint; existing segments are never appended to.
  // Fails (InvalidArgument/IOError) only if the directory is unusable; if just the first
  // segment cannot be created, Open succeeds, Health() reports why and Append retries.
  static StatusOr<std::unique_ptr<Wal>> Open(WalOptions opts);
  // Closes (see Close). No Append may be running.
  ~Wal();
  Wal(const Wal&) = delete;
  Wal& operator=(const Wal&) = delete;

  // Appends the records as one unit and returns once they are durable. Errors:
  // InvalidArgument (a payload over 256 MiB or an unknown type; nothing written), IOError
  // (write/sync failed; none of the records will be replayed), Unavailable (closed).
  // Thread-safe; concurrent calls share writes and syncs.
  Status Append(std::span<const WalRecord> records);
  Status Append(RecordType type, std::string_view payload);

  // Closes the current segment and starts the next one; returns its number. Every record
  // acknowledged before the call is in a segment with a smaller number. Thread-safe
  // (waits for an in-flight write). IOError if the new segment cannot be created (appends
  // then retry creating it).
  StatusOr<uint64_t> RotateSegment();
  // Deletes the segment files numbered below `segment` (never the current one) and syncs
  // the directory. Thread-safe. Returns the first error; the rest are still attempted.
  Status RemoveSegmentsBefore(uint64_t segment);
  // Segment numbers present in the directory, ascending. Thread-safe.
  StatusOr<std::vector<uint64_t>> Segments() const;
  uint64_t CurrentSegment() const { return current_segment_.load(std::memory_order_acquire); }

  // OK, or the error of the last failed write/sync/segment creation/probe while it persists.
  Status Health() const;
  // Checks that the WAL can take writes now without writing a record: repairs or creates the
  // current segment if needed, then writes, syncs and removes a scratch file (`.probe`) in the
  // directory as large as the last batch whose write failed (at least 4 KiB, at most 16 MiB),
  // so "healthy" means that write would fit now. Health() follows the result, so /ready turns 200
  // once space returns without waiting for a push to succeed. Open() probes once. Thread-safe;
  // takes the writer lock (a probe waits for a batch being written and the other way round).
  Status Probe();
  WalStats Stats() const;

  // Syncs and closes the current segment; later Appends return Unavailable. Idempotent.
  Status Close();

  const WalOptions& options() const { return opts_; }

 private:
  struct Waiter;
  explicit Wal(WalOptions opts);

  // Writes one encoded batch (io_mu_ held): repair, rotation, write, sync, cleanup.
  Status WriteLocked(std::string_view data);
  Status CreateSegmentLocked();
  Status RepairLocked();
  // Writes, syncs and removes <dir>/.probe (io_mu_ held).
  Status ProbeWriteLocked();
  std::string SegmentPath(uint64_t n) const;
  void SetHealth(const Status& s);

  WalOptions opts_;
  FileSystem* fs_;

  // Group-commit queue.
  std::mutex mu_;
  std::deque<Waiter*> queue_;
  std::vector<Waiter*> batch_;  // used by the current leader only
  std::atomic<bool> closed_{false};

  // Writer state, guarded by io_mu_.
  std::mutex io_mu_;
  std::unique_ptr<WritableFile> file_;  // null: seg_ not created yet, or awaiting repair
  uint64_t seg_ = 0;                    // number of the current segment
  uint64_t good_size_ = 0;              // bytes of seg_ that hold acknowledged data
  bool need_repair_ = false;            // seg_ may hold bytes of a failed batch past good_size_
  // What Probe() writes: 4 KiB, or the size of the batch whose write failed (up to 16 MiB).
  static constexpr size_t kMinProbeBytes = 4096;
  static constexpr size_t kMaxProbeBytes = 16 << 20;
  size_t probe_bytes_ = kMinProbeBytes;
  std::string buf_;  // encoded batch

  mutable std::mutex health_mu_;
  Status health_;

  std::atomic<uint64_t> current_segment_{0};
  std::atomic<uint64_t> records_{0}, bytes_{0}, batches_{0}, fsyncs_{0}, failed_batches_{0},
      failed_records_{0}, segments_created_{0};
};

}  // namespace skald::wal
