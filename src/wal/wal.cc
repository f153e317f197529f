// Wal: see wal.h and docs/formats/wal.md ("Writing").
#include "wal/wal.h"

#include <algorithm>
#include <utility>

#include "wal/checkpoint.h"
#include "wal/format.h"
#include "wal/replay.h"

namespace skald::wal {

struct Wal::Waiter {
  std::span<const WalRecord> records;
  size_t bytes = 0;  // framed size of records
  Status status;
  bool done = false;
  std::condition_variable cv;
};

Wal::Wal(WalOptions opts)
    : opts_(std::move(opts)), fs_(opts_.fs != nullptr ? opts_.fs : PosixFileSystem()) {}

Wal::~Wal() { (void)Close(); }

StatusOr<std::unique_ptr<Wal>> Wal::Open(WalOptions opts) {
  if (opts.dir.empty()) return Status::InvalidArgument("wal: empty directory");
  if (opts.segment_size < kSegmentHeaderSize + kRecordHeaderSize) {
    return Status::InvalidArgument("wal: segment size too small");
  }
  if (opts.max_batch_bytes == 0) opts.max_batch_bytes = 1;
  std::unique_ptr<Wal> wal(new Wal(std::move(opts)));
  FileSystem* fs = wal->fs_;
  const std::string& dir = wal->opts_.dir;
  if (Status s = fs->Exists(dir); !s.ok()) {
    if (s.code() != StatusCode::kNotFound) return s;
    SKALD_RETURN_IF_ERROR(CreateDirs(fs, dir));
    if (wal->opts_.fsync) SKALD_RETURN_IF_ERROR(fs->SyncDir(ParentDir(dir)));
  }
  SKALD_ASSIGN_OR_RETURN(std::vector<uint64_t> segments, ListSegments(fs, dir));
  SKALD_ASSIGN_OR_RETURN(std::vector<uint64_t> checkpoints, ListCheckpoints(fs, dir));
  uint64_t next = 0;
  if (!segments.empty()) next = segments.back() + 1;
  if (!checkpoints.empty()) next = std::max(next, checkpoints.back());
  {
    std::lock_guard<std::mutex> io(wal->io_mu_);
    wal->seg_ = next;
    wal->current_segment_.store(next, std::memory_order_release);
    Status s = wal->CreateSegmentLocked();
    // A disk where the segment header still fit can be full all the same.
    if (s.ok()) s = wal->ProbeWriteLocked();
    if (!s.ok()) wal->SetHealth(s);
  }
  return wal;
}

std::string Wal::SegmentPath(uint64_t n) const { return JoinPath(opts_.dir, SegmentName(n)); }

void Wal::SetHealth(const Status& s) {
  std::lock_guard<std::mutex> l(health_mu_);
  health_ = s;
}

Status Wal::Health() const {
  std::lock_guard<std::mutex> l(health_mu_);
  return health_;
}

WalStats Wal::Stats() const {
  WalStats s;
  s.records = records_.load(std::memory_order_relaxed);
  s.bytes = bytes_.load(std::memory_order_relaxed);
  s.batches = batches_.load(std::memory_order_relaxed);
  s.fsyncs = fsyncs_.load(std::memory_order_relaxed);
  s.failed_batches = failed_batches_.load(std::memory_order_relaxed);
  s.failed_records = failed_records_.load(std::memory_order_relaxed);
  s.segments_created = segments_created_.load(std::memory_order_relaxed);
  s.current_segment = current_segment_.load(std::memory_order_acquire);
  return s;
}

Status Wal::Append(RecordType type, std::string_view payload) {
  WalRecord r{type, payload};
  return Append(std::span<const WalRecord>(&r, 1));
}

Status Wal::Append(std::span<const WalRecord> records) {
  size_t bytes = 0;
  for (const WalRecord& r : records) {
    if (!IsKnownRecordType(static_cast<uint8_t>(r.type))) {
      return Status::InvalidArgument("wal: unknown record type " +
                                     std::to_string(static_cast<int>(r.type)));
    }
    if (r.payload.size() > kMaxRecordSize) {
      return Status::InvalidArgument("wal: record of " + std::to_string(r.payload.size()) +
                                     " bytes exceeds the 256 MiB limit");
    }
    bytes += kRecordHeaderSize + r.payload.size();
  }
  if (records.empty()) return Status::OK();

  Waiter w;
  w.records = records;
  w.bytes = bytes;
  std::unique_lock<std::mutex> l(mu_);
  if (closed_.load(std::memory_order_acquire)) return Status::Unavailable("wal is closed");
  queue_.push_back(&w);
  while (!w.done && queue_.front() != &w) w.cv.wait(l);
  if (w.done) return std::move(w.status);

  // This caller leads: take a batch of queued appends (at least its own).
  batch_.clear();
  size_t total = 0;
  size_t nrecords = 0;
  for (Waiter* x : queue_) {
    if (!batch_.empty() && total + x->bytes > opts_.max_batch_bytes) break;
    batch_.push_back(x);
    total += x->bytes;
    nrecords += x->records.size();
  }
  l.unlock();

  Status s;
  {
    std::lock_guard<std::mutex> io(io_mu_);
    buf_.clear();
    buf_.reserve(total);
    for (Waiter* x : batch_) {
      for (const WalRecord& r : x->records) AppendFramedRecord(&buf_, r.type, r.payload);
    }
    s = WriteLocked(buf_);
    if (buf_.capacity() > 4 * opts_.max_batch_bytes) std::string().swap(buf_);
  }
  if (s.ok()) {
    records_.fetch_add(nrecords, std::memory_order_relaxed);
    bytes_.fetch_add(total, std::memory_order_relaxed);
    batches_.fetch_add(1, std::memory_order_relaxed);
  } else {
    failed_batches_.fetch_add(1, std::memory_order_relaxed);
    failed_records_.fetch_add(nrecords, std::memory_order_relaxed);
  }
  SetHealth(s);

  l.lock();
  for (Waiter* x : batch_) {
    queue_.pop_front();
    x->status = s;
    x->done = true;
    if (x != &w) x->cv.notify_one();
  }
  if (!queue_.empty()) queue_.front()->cv.notify_one();
  return s;
}

Status Wal::CreateSegmentLocked() {
  const std::string path = SegmentPath(seg_);
  auto f = fs_->NewWritableFile(path);
  if (!f.ok()) return Status::IOError("wal: creating segment: " + f.status().message());
  Status s = (*f)->Append(SegmentHeader());
  if (s.ok() && opts_.fsync) s = fs_->SyncDir(opts_.dir);
  if (!s.ok()) {
    (void)(*f)->Close();
    return Status::IOError("wal: creating segment: " + s.message());
  }
  file_ = std::move(*f);
  good_size_ = kSegmentHeaderSize;
  segments_created_.fetch_add(1, std::memory_order_relaxed);
  current_segment_.store(seg_, std::memory_order_release);
  return Status::OK();
}

Status Wal::ProbeWriteLocked() {
  const std::string path = opts_.dir + "/.probe";
  auto f = fs_->NewWritableFile(path);
  if (!f.ok()) return Status::IOError("wal: probe: " + f.status().message());
  Status s = (*f)->Append(std::string(probe_bytes_, '\0'));
  if (s.ok() && opts_.fsync) s = (*f)->Sync();
  Status c = (*f)->Close();
  if (s.ok()) s = c;
  Status r = fs_->RemoveFile(path);
  if (s.ok() && !r.ok() && r.code() != StatusCode::kNotFound) s = r;
  if (!s.ok()) return Status::IOError("wal: probe: " + s.message());
  return Status::OK();
}

Status Wal::Probe() {
  Status s;
  {
    std::lock_guard<std::mutex> io(io_mu_);
    if (closed_.load(std::memory_order_acquire)) return Status::Unavailable("wal is closed");
    if (need_repair_) s = RepairLocked();
    if (s.ok() && file_ == nullptr && !need_repair_) s = CreateSegmentLocked();
    if (s.ok()) s = ProbeWriteLocked();
    if (s.ok()) probe_bytes_ = kMinProbeBytes;
  }
  SetHealth(s);
  return s;
}

Status Wal::RepairLocked() {
  const std::string path = SegmentPath(seg_);
  auto f = fs_->ReopenWritableFile(path);
  if (!f.ok()) {
    if (f.status().code() == StatusCode::kNotFound) {
      // The segment is gone (removed from outside): start it afresh.
      need_repair_ = false;
      return Status::OK();
    }
    return Status::IOError("wal: repairing segment: " + f.status().message());
  }
  Status s = (*f)->Truncate(good_size_);
  if (s.ok() && opts_.fsync) s = (*f)->Sync();
  if (!s.ok()) {
    (void)(*f)->Close();
    return Status::IOError("wal: repairing segment: " + s.message());
  }
  file_ = std::move(*f);
  need_repair_ = false;
  return Status::OK();
}

Status Wal::WriteLocked(std::string_view data) {
  if (closed_.load(std::memory_order_acquire)) return Status::Unavailable("wal is closed");
  if (need_repair_) SKALD_RETURN_IF_ERROR(RepairLocked());
  if (file_ != nullptr && good_size_ > kSegmentHeaderSize &&
      good_size_ + data.size() > opts_.segment_size) {
    // Rotate. Everything in the old segment is durable already (or fsync is off).
    (void)file_->Close();
    file_.reset();
    ++seg_;
  }
  if (file_ == nullptr) SKALD_RETURN_IF_ERROR(CreateSegmentLocked());

  Status s = file_->Append(data);
  if (s.ok() && opts_.fsync) {
    s = file_->Sync();
    if (s.ok()) fsyncs_.fetch_add(1, std::memory_order_relaxed);
  }
  if (s.ok()) {
    good_size_ += data.size();
    return Status::OK();
  }
  // The probe must show that a write of this size fits again, not just any small write.
  probe_bytes_ = std::clamp<size_t>(data.size(), kMinProbeBytes, kMaxProbeBytes);
  // Cut the failed batch off so it can never be replayed.
  Status t = file_->Truncate(good_size_);
  if (t.ok() && opts_.fsync) t = file_->Sync();
  if (!t.ok()) {
    (void)file_->Close();
    file_.reset();
    need_repair_ = true;
  }
  return Status::IOError("wal: write failed: " + s.message());
}

StatusOr<uint64_t> Wal::RotateSegment() {
  std::lock_guard<std::mutex> io(io_mu_);
  if (closed_.load(std::memory_order_acquire)) return Status::Unavailable("wal is closed");
  if (need_repair_) SKALD_RETURN_IF_ERROR(RepairLocked());
  // With no file (and no repair pending) seg_ was never created: create it, no new number.
  if (file_ != nullptr) {
    (void)file_->Close();
    file_.reset();
    ++seg_;
  }
  Status s = CreateSegmentLocked();
  if (!s.ok()) {
    SetHealth(s);
    return s;
  }
  return seg_;
}

Status Wal::RemoveSegmentsBefore(uint64_t segment) {
  // The last segment that was created; the one being written is never below it.
  const uint64_t limit = std::min(segment, current_segment_.load(std::memory_order_acquire));
  SKALD_ASSIGN_OR_RETURN(std::vector<uint64_t> segments, ListSegments(fs_, opts_.dir));
  Status first;
  bool removed = false;
  for (uint64_t n : segments) {
    if (n >= limit) break;
    Status s = fs_->RemoveFile(SegmentPath(n));
    if (s.ok()) {
      removed = true;
    } else if (s.code() != StatusCode::kNotFound && first.ok()) {
      first = s;
    }
  }
  if (removed && opts_.fsync) {
    Status s = fs_->SyncDir(opts_.dir);
    if (first.ok()) first = s;
  }
  return first;
}

StatusOr<std::vector<uint64_t>> Wal::Segments() const { return ListSegments(fs_, opts_.dir); }

Status Wal::Close() {
  if (closed_.exchange(true, std::memory_order_acq_rel)) return Status::OK();
  std::lock_guard<std::mutex> io(io_mu_);
  if (file_ == nullptr) return Status::OK();
  Status s = file_->Sync();
  Status c = file_->Close();
  file_.reset();
  return s.ok() ? c : s;
}

}  // namespace skald::wal
