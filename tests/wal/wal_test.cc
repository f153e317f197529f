// Wal writer: round trips, segment rotation and removal, group commit under concurrency,
// durability across simulated power cuts and process crashes, and behaviour under injected
// full-disk / I/O errors (failed appends are never replayed; the WAL recovers by itself).
#include "wal/wal.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "test_util.h"
#include "testing/fs/fault_file_system.h"
#include "testing/fs/mem_file_system.h"
#include "tests/testing/wait.h"
#include "wal/checkpoint.h"
#include "wal/format.h"
#include "wal/replay.h"

namespace skald::wal {
namespace {

using testing::Payload;
using testing::Rec;
using testing::ReplayAll;
using Op = FaultInjectingFileSystem::Op;

std::unique_ptr<Wal> MustOpen(FileSystem* fs, const std::string& dir, bool fsync = true,
                              uint64_t segment_size = 128ull << 20) {
  WalOptions o;
  o.dir = dir;
  o.fs = fs;
  o.fsync = fsync;
  o.segment_size = segment_size;
  auto w = Wal::Open(o);
  EXPECT_TRUE(w.ok()) << w.status().ToString();
  return w.ok() ? std::move(*w) : nullptr;
}

std::vector<Rec> Replayed(FileSystem* fs, const std::string& dir, ReplayStats* st = nullptr) {
  ReplayStats local;
  return ReplayAll(fs, dir, 0, st != nullptr ? st : &local);
}

TEST(WalTest, AppendedRecordsReplayInOrder) {
  MemFileSystem fs;
  auto wal = MustOpen(&fs, "/data/wal");
  std::vector<Rec> want;
  for (int i = 0; i < 100; ++i) {
    Rec r{i % 3 ? RecordType::kEntries : RecordType::kSeries, Payload(i, i * 7)};
    ASSERT_TRUE(wal->Append(r.type, r.payload).ok());
    want.push_back(r);
  }
  // A multi-record append is one unit.
  WalRecord two[] = {{RecordType::kSeries, "s"}, {RecordType::kEntries, "e"}};
  ASSERT_TRUE(wal->Append(two).ok());
  want.push_back({RecordType::kSeries, "s"});
  want.push_back({RecordType::kEntries, "e"});
  WalStats st = wal->Stats();
  EXPECT_EQ(st.records, 102u);
  EXPECT_EQ(st.batches, 101u);
  EXPECT_EQ(st.fsyncs, 101u);
  EXPECT_EQ(st.failed_batches, 0u);
  EXPECT_EQ(st.segments_created, 1u);
  EXPECT_TRUE(wal->Health().ok());
  ASSERT_TRUE(wal->Close().ok());
  EXPECT_EQ(wal->Append(RecordType::kSeries, "x").code(), StatusCode::kUnavailable);
  EXPECT_EQ(Replayed(&fs, "/data/wal"), want);
}

TEST(WalTest, EmptyAppendAndBadRecordsWriteNothing) {
  MemFileSystem fs;
  auto wal = MustOpen(&fs, "/w");
  EXPECT_TRUE(wal->Append(std::span<const WalRecord>()).ok());
  EXPECT_EQ(wal->Append(static_cast<RecordType>(0), "x").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(wal->Append(static_cast<RecordType>(9), "x").code(), StatusCode::kInvalidArgument);
  std::string huge(kMaxRecordSize + 1, 'x');
  EXPECT_EQ(wal->Append(RecordType::kEntries, huge).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(wal->Stats().batches, 0u);
  wal.reset();
  EXPECT_TRUE(Replayed(&fs, "/w").empty());
}

TEST(WalTest, ReopenStartsANewSegmentAfterExistingOnes) {
  MemFileSystem fs;
  auto wal = MustOpen(&fs, "/w");
  EXPECT_EQ(wal->CurrentSegment(), 0u);
  ASSERT_TRUE(wal->Append(RecordType::kSeries, "a").ok());
  wal.reset();
  wal = MustOpen(&fs, "/w");
  EXPECT_EQ(wal->CurrentSegment(), 1u);
  ASSERT_TRUE(wal->Append(RecordType::kSeries, "b").ok());
  wal.reset();
  EXPECT_EQ(Replayed(&fs, "/w"),
            (std::vector<Rec>{{RecordType::kSeries, "a"}, {RecordType::kSeries, "b"}}));
  EXPECT_EQ(*ReadFileToString(&fs, "/w/00000000"),
            testing::SegmentBytes({{RecordType::kSeries, "a"}}));

  // A checkpoint numbered past the segments pushes the next segment number up.
  ASSERT_TRUE(fs.CreateDir("/w/checkpoint.00000009").ok());
  wal = MustOpen(&fs, "/w");
  EXPECT_EQ(wal->CurrentSegment(), 9u);
}

TEST(WalTest, RotatesAtSegmentSize) {
  MemFileSystem fs;
  const uint64_t kSegSize = 200;
  auto wal = MustOpen(&fs, "/w", true, kSegSize);
  std::vector<Rec> want;
  for (int i = 0; i < 60; ++i) {
    want.push_back({RecordType::kEntries, Payload(i, 30)});
    ASSERT_TRUE(wal->Append(want.back().type, want.back().payload).ok());
  }
  auto segs = wal->Segments();
  ASSERT_TRUE(segs.ok());
  EXPECT_GT(segs->size(), 5u);
  for (uint64_t s : *segs) {
    EXPECT_LE(ReadFileToString(&fs, JoinPath("/w", SegmentName(s)))->size(), kSegSize);
  }
  EXPECT_EQ(wal->Stats().segments_created, segs->size());
  ReplayStats st;
  EXPECT_EQ(Replayed(&fs, "/w", &st), want);
  EXPECT_EQ(st.missing_segments, 0u);
}

TEST(WalTest, RotateSegmentAndRemoveSegmentsBefore) {
  MemFileSystem fs;
  auto wal = MustOpen(&fs, "/w");
  ASSERT_TRUE(wal->Append(RecordType::kSeries, "old").ok());
  auto n = wal->RotateSegment();
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 1u);
  EXPECT_EQ(wal->CurrentSegment(), 1u);
  ASSERT_TRUE(wal->Append(RecordType::kSeries, "new").ok());
  EXPECT_EQ(*wal->Segments(), (std::vector<uint64_t>{0, 1}));

  // Everything acknowledged before the rotation is in segments < n.
  ReplayStats st;
  EXPECT_EQ(ReplayAll(&fs, "/w", *n, &st), (std::vector<Rec>{{RecordType::kSeries, "new"}}));

  ASSERT_TRUE(wal->RemoveSegmentsBefore(*n).ok());
  EXPECT_EQ(*wal->Segments(), (std::vector<uint64_t>{1}));
  // The current segment is never removed.
  ASSERT_TRUE(wal->RemoveSegmentsBefore(100).ok());
  EXPECT_EQ(*wal->Segments(), (std::vector<uint64_t>{1}));
  ASSERT_TRUE(wal->Append(RecordType::kSeries, "more").ok());
  wal.reset();
  EXPECT_EQ(Replayed(&fs, "/w").size(), 2u);
}

// Runs `threads` appenders of `per_thread` records each; returns the acknowledged ones.
std::vector<Rec> AppendConcurrently(Wal* wal, int threads, int per_thread) {
  std::vector<std::thread> ts;
  std::mutex mu;
  std::vector<Rec> acked;
  std::atomic<int> failures{0};
  for (int t = 0; t < threads; ++t) {
    ts.emplace_back([&, t] {
      for (int i = 0; i < per_thread; ++i) {
        std::string p = "t" + std::to_string(t) + "-" + std::to_string(i);
        if (wal->Append(RecordType::kEntries, p).ok()) {
          std::lock_guard<std::mutex> l(mu);
          acked.push_back({RecordType::kEntries, p});
        } else {
          failures++;
        }
      }
    });
  }
  for (auto& th : ts) th.join();
  EXPECT_EQ(failures.load(), 0);
  return acked;
}

// Every acknowledged record is replayed exactly once, and each thread's records keep their
// order.
void ExpectSameRecordsPerThreadOrder(const std::vector<Rec>& acked, const std::vector<Rec>& got) {
  EXPECT_EQ(got.size(), acked.size());
  std::multiset<std::string> a, g;
  for (const Rec& r : acked) a.insert(r.payload);
  for (const Rec& r : got) g.insert(r.payload);
  EXPECT_EQ(a, g);
  std::map<std::string, int> last;
  for (const Rec& r : got) {
    std::string thread = r.payload.substr(0, r.payload.find('-'));
    int i = std::stoi(r.payload.substr(r.payload.find('-') + 1));
    auto it = last.find(thread);
    if (it != last.end()) {
      EXPECT_GT(i, it->second) << r.payload;
    }
    last[thread] = i;
  }
}

TEST(WalTest, GroupCommitSharesSyncsBetweenEightThreads) {
  MemFileSystem mem;
  FaultInjectingFileSystem fs(&mem);
  fs.SetSyncDelay(std::chrono::microseconds(500));  // a slow disk makes writers queue up
  auto wal = MustOpen(&fs, "/w");
  std::vector<Rec> acked = AppendConcurrently(wal.get(), 8, 200);
  WalStats st = wal->Stats();
  EXPECT_EQ(st.records, 1600u);
  EXPECT_LT(st.fsyncs, st.records / 2) << "group commit did not batch";
  EXPECT_EQ(st.batches, st.fsyncs);
  // Power cut right after the last acknowledgement: all of it is durable.
  std::unique_ptr<MemFileSystem> after = mem.CrashCopy();
  ExpectSameRecordsPerThreadOrder(acked, Replayed(after.get(), "/w"));
}

TEST(WalTest, GroupCommitOnPosixFiles) {
  testing::TempDir dir;
  auto wal = MustOpen(PosixFileSystem(), JoinPath(dir.path(), "wal"));
  std::vector<Rec> acked = AppendConcurrently(wal.get(), 8, 100);
  WalStats st = wal->Stats();
  EXPECT_EQ(st.records, 800u);
  // Every write was synced (one fdatasync per group-commit batch), and nothing failed.
  EXPECT_GE(st.batches, 1u);
  EXPECT_EQ(st.fsyncs, st.batches);
  EXPECT_EQ(st.failed_batches, 0u);
  wal.reset();
  ExpectSameRecordsPerThreadOrder(acked, Replayed(PosixFileSystem(), JoinPath(dir.path(), "wal")));
}

TEST(WalTest, AcknowledgedRecordsSurvivePowerCutsDuringConcurrentAppends) {
  MemFileSystem mem;
  FaultInjectingFileSystem fs(&mem);
  fs.SetSyncDelay(std::chrono::microseconds(100));
  auto wal = MustOpen(&fs, "/w", true, 4096);  // small segments: rotations happen too
  constexpr int kThreads = 4, kPerThread = 400;
  std::atomic<int> running{kThreads};
  std::mutex mu;
  std::set<std::string> acked;
  std::atomic<int> cuts{0};
  std::vector<std::thread> ts;
  for (int t = 0; t < kThreads; ++t) {
    ts.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        // Every 64 records, wait for the next power cut: cuts land all along the run
        // however the threads are scheduled.
        if (i > 0 && i % 64 == 0) {
          const int want = i / 64;
          skald::testing::WaitFor([&] { return cuts.load() >= want; });
        }
        std::string p = "t" + std::to_string(t) + "-" + std::to_string(i);
        if (!wal->Append(RecordType::kEntries, p).ok()) break;
        std::lock_guard<std::mutex> l(mu);
        acked.insert(p);
      }
      running--;
    });
  }
  // Cut the power whenever more records were acknowledged since the last cut.
  size_t last = 0;
  bool ok = true;
  while (ok && running.load() > 0) {
    std::set<std::string> before;
    {
      std::lock_guard<std::mutex> l(mu);
      before = acked;
    }
    if (before.size() == last) {
      std::this_thread::sleep_for(std::chrono::microseconds(200));
      continue;
    }
    last = before.size();
    std::unique_ptr<MemFileSystem> crashed = mem.CrashCopy();
    std::set<std::string> got;
    ReplayStats st;
    for (const Rec& r : ReplayAll(crashed.get(), "/w", 0, &st)) {
      if (!got.insert(r.payload).second) {
        ADD_FAILURE() << "duplicate " << r.payload;
        ok = false;
      }
    }
    for (const std::string& p : before) {
      if (!got.count(p)) {
        ADD_FAILURE() << "lost " << p << " after cut " << cuts.load();
        ok = false;
        break;
      }
    }
    EXPECT_EQ(st.corrupt_records, 0u);
    ++cuts;
  }
  for (auto& th : ts) th.join();
  EXPECT_EQ(acked.size(), size_t{kThreads * kPerThread});
  EXPECT_GE(cuts.load(), 6);
}

TEST(WalTest, WithFsyncOffAProcessCrashLosesNothing) {
  MemFileSystem mem;
  auto wal = MustOpen(&mem, "/w", /*fsync=*/false);
  std::vector<Rec> acked = AppendConcurrently(wal.get(), 4, 50);
  EXPECT_EQ(wal->Stats().fsyncs, 0u);
  std::unique_ptr<MemFileSystem> killed = mem.ProcessCrashCopy();
  ExpectSameRecordsPerThreadOrder(acked, Replayed(killed.get(), "/w"));
}

TEST(WalTest, FullDiskFailsAppendsUntilSpaceReturns) {
  MemFileSystem mem;
  FaultInjectingFileSystem fs(&mem);
  auto wal = MustOpen(&fs, "/w");
  std::vector<Rec> acked;
  for (int i = 0; i < 10; ++i) {
    acked.push_back({RecordType::kEntries, Payload(i, 40)});
    ASSERT_TRUE(wal->Append(acked.back().type, acked.back().payload).ok());
  }
  const std::string seg = "/w/00000000";
  const size_t good = ReadFileToString(&mem, seg)->size();

  fs.SetFreeSpace(30);  // less than one record: the write is cut short
  for (int i = 0; i < 3; ++i) {
    Status s = wal->Append(RecordType::kEntries, Payload(100 + i, 40));
    EXPECT_EQ(s.code(), StatusCode::kIOError);
    EXPECT_NE(s.message().find("No space left"), std::string::npos) << s.message();
    EXPECT_FALSE(wal->Health().ok());
    // Nothing half-written stays behind, not even in the page cache.
    EXPECT_EQ(ReadFileToString(&mem, seg)->size(), good);
  }
  EXPECT_EQ(wal->Stats().failed_batches, 3u);
  EXPECT_EQ(wal->Stats().failed_records, 3u);
  // A crash while the disk is full replays exactly the acknowledged records.
  EXPECT_EQ(Replayed(mem.CrashCopy().get(), "/w"), acked);

  fs.SetUnlimitedSpace();  // space returns
  acked.push_back({RecordType::kSeries, "after"});
  ASSERT_TRUE(wal->Append(RecordType::kSeries, "after").ok());
  EXPECT_TRUE(wal->Health().ok());
  wal.reset();
  ReplayStats st;
  EXPECT_EQ(Replayed(&mem, "/w", &st), acked);
  EXPECT_EQ(st.torn_tails + st.corrupt_records, 0u);
}

TEST(WalTest, ProbeReportsFullDiskAndRecoveryWithoutAnAppend) {
  MemFileSystem mem;
  FaultInjectingFileSystem fs(&mem);
  auto wal = MustOpen(&fs, "/w");
  ASSERT_TRUE(wal->Append(RecordType::kEntries, Payload(1, 40)).ok());
  EXPECT_TRUE(wal->Probe().ok());
  fs.SetFreeSpace(100);
  EXPECT_EQ(wal->Append(RecordType::kEntries, Payload(2, 400)).code(), StatusCode::kIOError);
  EXPECT_FALSE(wal->Health().ok());
  Status p = wal->Probe();  // still full: 4 KiB do not fit
  EXPECT_EQ(p.code(), StatusCode::kIOError);
  EXPECT_NE(p.message().find("wal: probe"), std::string::npos) << p.message();
  EXPECT_FALSE(wal->Health().ok());
  fs.SetUnlimitedSpace();
  EXPECT_TRUE(wal->Probe().ok());
  EXPECT_TRUE(wal->Health().ok()) << "healthy again with no append in between";
  EXPECT_EQ(mem.Exists("/w/.probe").code(), StatusCode::kNotFound);
  ASSERT_TRUE(wal->Append(RecordType::kEntries, Payload(3, 40)).ok());
  wal.reset();
  std::vector<Rec> want = {{RecordType::kEntries, Payload(1, 40)},
                           {RecordType::kEntries, Payload(3, 40)}};
  EXPECT_EQ(Replayed(&mem, "/w"), want);
}

TEST(WalTest, OpenOnAFullDiskIsUnhealthy) {
  MemFileSystem mem;
  FaultInjectingFileSystem fs(&mem);
  fs.SetFreeSpace(64);  // the segment header fits, the probe does not
  auto wal = MustOpen(&fs, "/w");
  EXPECT_FALSE(wal->Health().ok());
  fs.SetUnlimitedSpace();
  EXPECT_TRUE(wal->Probe().ok());
  EXPECT_TRUE(wal->Append(RecordType::kSeries, "s").ok());
}

// Fail the k-th write (short) or the k-th sync for every k over a workload that also rotates
// segments; after a power cut, replay must return exactly the acknowledged records.
TEST(WalTest, ExactlyTheAcknowledgedRecordsAfterAnySingleWriteOrSyncFailure) {
  for (Op op : {Op::kWrite, Op::kSync, Op::kSyncDir, Op::kCreate}) {
    for (uint64_t k = 0; k < 30; ++k) {
      SCOPED_TRACE(::testing::Message() << "op " << static_cast<int>(op) << " k " << k);
      MemFileSystem mem;
      FaultInjectingFileSystem fs(&mem);
      auto wal = MustOpen(&fs, "/w", true, 256);
      fs.SetShortWriteBytes(static_cast<size_t>(k * 7 % 50));
      fs.FailAfter(op, k, 1);
      std::vector<Rec> acked;
      int failed = 0;
      for (int i = 0; i < 25; ++i) {
        std::string a = "s" + std::to_string(i), b = Payload(i, 30);
        WalRecord recs[] = {{RecordType::kSeries, a}, {RecordType::kEntries, b}};
        Status s = wal->Append(recs);
        if (s.ok()) {
          acked.push_back({RecordType::kSeries, a});
          acked.push_back({RecordType::kEntries, b});
        } else {
          EXPECT_EQ(s.code(), StatusCode::kIOError);
          ++failed;
        }
      }
      // The failure may also hit this append; the one after it must succeed.
      Status fin = wal->Append(RecordType::kSeries, "final");
      if (!fin.ok()) {
        ++failed;
        fin = wal->Append(RecordType::kSeries, "final");
      }
      ASSERT_TRUE(fin.ok()) << fin.ToString();
      EXPECT_LE(failed, 1);
      acked.push_back({RecordType::kSeries, "final"});
      EXPECT_TRUE(wal->Health().ok());
      ReplayStats st;
      EXPECT_EQ(ReplayAll(mem.CrashCopy().get(), "/w", 0, &st), acked);
      EXPECT_EQ(st.missing_segments, 0u);
      EXPECT_EQ(st.corrupt_records, 0u);
    }
  }
}

// The process dies at every possible file-system operation (nothing more reaches the disk),
// then the power goes: replay returns exactly the records acknowledged before the death.
TEST(WalTest, DeathAtAnyStepThenPowerCutReplaysExactlyTheAcknowledgedRecords) {
  for (uint64_t k = 0; k < 80; ++k) {
    SCOPED_TRACE(k);
    MemFileSystem mem;
    FaultInjectingFileSystem fs(&mem);
    auto wal = MustOpen(&fs, "/w", true, 256);
    fs.CrashAfter(k);
    std::vector<Rec> acked;
    for (int i = 0; i < 30; ++i) {
      Rec r{RecordType::kEntries, Payload(i, 20 + i)};
      if (wal->Append(r.type, r.payload).ok()) acked.push_back(r);
    }
    std::unique_ptr<MemFileSystem> after = mem.CrashCopy();
    ReplayStats st;
    EXPECT_EQ(ReplayAll(after.get(), "/w", 0, &st), acked);
    EXPECT_EQ(st.corrupt_records, 0u);
  }
}

TEST(WalTest, FailedTruncateKeepsFailingUntilTheSegmentIsRepaired) {
  MemFileSystem mem;
  FaultInjectingFileSystem fs(&mem);
  auto wal = MustOpen(&fs, "/w");
  ASSERT_TRUE(wal->Append(RecordType::kSeries, "ok-1").ok());
  // The whole batch reaches the file, the sync fails and so does every truncate.
  fs.SetShortWriteBytes(1000);
  fs.FailAfter(Op::kSync, 0, 1);
  fs.FailAfter(Op::kTruncate, 0, FaultInjectingFileSystem::kForever);
  EXPECT_FALSE(wal->Append(RecordType::kSeries, "failed-1").ok());
  // Until the failed batch can be cut off, nothing else is written after it.
  EXPECT_FALSE(wal->Append(RecordType::kSeries, "failed-2").ok());
  EXPECT_FALSE(wal->RotateSegment().ok());
  EXPECT_FALSE(wal->Health().ok());
  fs.Heal();
  ASSERT_TRUE(wal->Append(RecordType::kSeries, "ok-2").ok());
  EXPECT_TRUE(wal->Health().ok());
  wal.reset();
  EXPECT_EQ(Replayed(&mem, "/w"),
            (std::vector<Rec>{{RecordType::kSeries, "ok-1"}, {RecordType::kSeries, "ok-2"}}));
}

TEST(WalTest, OpenSucceedsWhenTheFirstSegmentCannotBeCreatedAndAppendRetries) {
  MemFileSystem mem;
  FaultInjectingFileSystem fs(&mem);
  fs.FailAfter(Op::kCreate, 0, 2, FaultInjectingFileSystem::NoSpaceError());
  auto wal = MustOpen(&fs, "/w");
  EXPECT_FALSE(wal->Health().ok());
  EXPECT_FALSE(wal->Append(RecordType::kSeries, "a").ok());  // second create fails too
  ASSERT_TRUE(wal->Append(RecordType::kSeries, "b").ok());
  EXPECT_TRUE(wal->Health().ok());
  EXPECT_EQ(wal->CurrentSegment(), 0u);
  wal.reset();
  EXPECT_EQ(Replayed(&mem, "/w"), (std::vector<Rec>{{RecordType::kSeries, "b"}}));
}

TEST(WalTest, OpenRejectsBadOptions) {
  MemFileSystem fs;
  WalOptions o;
  o.fs = &fs;
  EXPECT_EQ(Wal::Open(o).status().code(), StatusCode::kInvalidArgument);
  o.dir = "/w";
  o.segment_size = 10;
  EXPECT_EQ(Wal::Open(o).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace skald::wal
