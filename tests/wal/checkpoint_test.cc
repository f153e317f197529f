// WAL checkpoints: write/commit/replay, cleanup of older and unfinished checkpoints, and
// atomicity: a crash at any step of writing a checkpoint leaves the previous one valid.
#include "wal/checkpoint.h"

#include <gtest/gtest.h>

#include "test_util.h"
#include "testing/fs/fault_file_system.h"
#include "testing/fs/mem_file_system.h"
#include "wal/wal.h"

namespace skald::wal {
namespace {

using testing::Payload;
using testing::Rec;
using testing::ReplayAll;
using Op = FaultInjectingFileSystem::Op;

std::vector<Rec> MakeRecs(int n, int base) {
  std::vector<Rec> v;
  for (int i = 0; i < n; ++i) {
    v.push_back({i % 2 ? RecordType::kEntries : RecordType::kSeries, Payload(base + i, 50)});
  }
  return v;
}

Status WriteCheckpoint(FileSystem* fs, uint64_t n, const std::vector<Rec>& recs,
                       uint64_t segment_size = 128ull << 20) {
  CheckpointOptions o;
  o.fs = fs;
  o.segment_size = segment_size;
  o.buffer_size = 256;
  SKALD_ASSIGN_OR_RETURN(std::unique_ptr<CheckpointWriter> w, CheckpointWriter::Begin("/w", n, o));
  for (const Rec& r : recs) SKALD_RETURN_IF_ERROR(w->Append(r.type, r.payload));
  return w->Commit();
}

std::vector<Rec> ReplayCheckpoint(FileSystem* fs, const CheckpointInfo& info) {
  ReplayStats st;
  std::vector<Rec> got = ReplayAll(fs, info.path, 0, &st);
  EXPECT_EQ(st.torn_tails + st.corrupt_records + st.missing_segments, 0u);
  return got;
}

TEST(CheckpointTest, CommittedCheckpointReplaysAcrossSeveralFiles) {
  MemFileSystem fs;
  ASSERT_TRUE(fs.CreateDir("/w").ok());
  EXPECT_EQ(LastCheckpoint("/w", &fs).status().code(), StatusCode::kNotFound);
  std::vector<Rec> recs = MakeRecs(100, 0);
  ASSERT_TRUE(WriteCheckpoint(&fs, 5, recs, /*segment_size=*/1000).ok());
  auto info = LastCheckpoint("/w", &fs);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->segment, 5u);
  EXPECT_EQ(info->path, "/w/checkpoint.00000005");
  EXPECT_GT(ListSegments(&fs, info->path)->size(), 3u);
  EXPECT_EQ(ReplayCheckpoint(&fs, *info), recs);
  auto entries = fs.ListDir("/w");
  ASSERT_EQ(entries->size(), 1u);  // no temp dir left
}

TEST(CheckpointTest, CommitDeletesOlderCheckpointsAndBeginRefusesExistingOnes) {
  MemFileSystem fs;
  ASSERT_TRUE(fs.CreateDir("/w").ok());
  ASSERT_TRUE(WriteCheckpoint(&fs, 3, MakeRecs(3, 0)).ok());
  ASSERT_TRUE(WriteCheckpoint(&fs, 7, MakeRecs(3, 10)).ok());
  EXPECT_EQ(*ListCheckpoints(&fs, "/w"), (std::vector<uint64_t>{7}));
  EXPECT_EQ(WriteCheckpoint(&fs, 7, MakeRecs(1, 0)).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(ReplayCheckpoint(&fs, *LastCheckpoint("/w", &fs)), MakeRecs(3, 10));
}

TEST(CheckpointTest, AbandonedWriterLeavesNoTrace) {
  MemFileSystem fs;
  ASSERT_TRUE(fs.CreateDir("/w").ok());
  {
    CheckpointOptions o;
    o.fs = &fs;
    auto w = CheckpointWriter::Begin("/w", 4, o);
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE((*w)->Append(RecordType::kSeries, "x").ok());
  }
  EXPECT_TRUE(fs.ListDir("/w")->empty());
}

TEST(CheckpointTest, LastCheckpointDeletesUnfinishedTempDirs) {
  MemFileSystem fs;
  ASSERT_TRUE(fs.CreateDir("/w").ok());
  ASSERT_TRUE(WriteCheckpoint(&fs, 3, MakeRecs(2, 0)).ok());
  ASSERT_TRUE(fs.CreateDir("/w/checkpoint.00000009.tmp").ok());
  ASSERT_TRUE(fs.WriteFileForTest("/w/checkpoint.00000009.tmp/00000000", "junk").ok());
  auto info = LastCheckpoint("/w", &fs);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->segment, 3u);
  EXPECT_EQ(fs.Exists("/w/checkpoint.00000009.tmp").code(), StatusCode::kNotFound);
  EXPECT_EQ(CheckpointName(12), "checkpoint.00000012");
}

// Crash (or fail) at every single file-system operation of writing checkpoint 8 over a
// committed checkpoint 3: after a power cut the newest complete checkpoint is either 3 with
// its records, or 8 with all of its records — never a partial one; once Commit has returned
// OK it is 8.
TEST(CheckpointTest, CrashAtAnyStepLeavesThePreviousCheckpointValid) {
  const std::vector<Rec> a = MakeRecs(5, 0), b = MakeRecs(40, 100);
  bool committed_once = false;
  for (uint64_t k = 0; !committed_once && k < 500; ++k) {
    SCOPED_TRACE(k);
    MemFileSystem mem;
    FaultInjectingFileSystem fs(&mem);
    ASSERT_TRUE(fs.CreateDir("/w").ok());
    ASSERT_TRUE(fs.SyncDir("/").ok());
    ASSERT_TRUE(WriteCheckpoint(&fs, 3, a).ok());
    fs.CrashAfter(k);
    Status s = WriteCheckpoint(&fs, 8, b, /*segment_size=*/1000);
    committed_once = s.ok();
    std::unique_ptr<MemFileSystem> after = mem.CrashCopy();
    auto info = LastCheckpoint("/w", after.get());
    ASSERT_TRUE(info.ok());
    if (s.ok()) {
      EXPECT_EQ(info->segment, 8u);
    }
    if (info->segment == 8) {
      EXPECT_EQ(ReplayCheckpoint(after.get(), *info), b);
    } else {
      EXPECT_EQ(info->segment, 3u);
      EXPECT_EQ(ReplayCheckpoint(after.get(), *info), a);
    }
  }
  EXPECT_TRUE(committed_once);
}

TEST(CheckpointTest, FailedRenameKeepsThePreviousCheckpoint) {
  MemFileSystem mem;
  FaultInjectingFileSystem fs(&mem);
  ASSERT_TRUE(fs.CreateDir("/w").ok());
  ASSERT_TRUE(WriteCheckpoint(&fs, 3, MakeRecs(2, 0)).ok());
  fs.FailAfter(Op::kRename, 0, 1);
  EXPECT_EQ(WriteCheckpoint(&fs, 8, MakeRecs(2, 50)).code(), StatusCode::kIOError);
  auto info = LastCheckpoint("/w", &fs);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->segment, 3u);
  EXPECT_EQ(*ListCheckpoints(&fs, "/w"), (std::vector<uint64_t>{3}));
  EXPECT_EQ(fs.ListDir("/w")->size(), 1u);  // temp dir removed
}

// The intended flow: rotate, checkpoint N covering segments < N, drop those segments; replay
// = checkpoint + segments >= N.
TEST(CheckpointTest, CheckpointPlusLaterSegmentsReplaysEverything) {
  MemFileSystem fs;
  WalOptions o;
  o.dir = "/w";
  o.fs = &fs;
  auto wal = Wal::Open(o);
  ASSERT_TRUE(wal.ok());
  for (const Rec& r : MakeRecs(5, 0)) ASSERT_TRUE((*wal)->Append(r.type, r.payload).ok());
  auto n = (*wal)->RotateSegment();
  ASSERT_TRUE(n.ok());
  ASSERT_TRUE(WriteCheckpoint(&fs, *n, MakeRecs(5, 0)).ok());
  ASSERT_TRUE((*wal)->RemoveSegmentsBefore(*n).ok());
  for (const Rec& r : MakeRecs(3, 50)) ASSERT_TRUE((*wal)->Append(r.type, r.payload).ok());
  wal->reset();

  // Restart: the new WAL starts after both the checkpoint and the segments.
  auto wal2 = Wal::Open(o);
  ASSERT_TRUE(wal2.ok());
  EXPECT_EQ((*wal2)->CurrentSegment(), *n + 1);

  auto info = LastCheckpoint("/w", &fs);
  ASSERT_TRUE(info.ok());
  std::vector<Rec> got = ReplayCheckpoint(&fs, *info);
  ReplayStats st;
  for (Rec& r : ReplayAll(&fs, "/w", info->segment, &st)) got.push_back(r);
  std::vector<Rec> want = MakeRecs(5, 0);
  for (Rec& r : MakeRecs(3, 50)) want.push_back(r);
  EXPECT_EQ(got, want);
}

TEST(CheckpointTest, PosixCheckpoint) {
  testing::TempDir dir;
  CheckpointOptions o;
  auto w = CheckpointWriter::Begin(dir.path(), 2, o);
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  std::vector<Rec> recs = MakeRecs(10, 0);
  for (const Rec& r : recs) ASSERT_TRUE((*w)->Append(r.type, r.payload).ok());
  ASSERT_TRUE((*w)->Commit().ok());
  auto info = LastCheckpoint(dir.path());
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(ReplayCheckpoint(PosixFileSystem(), *info), recs);
}

}  // namespace
}  // namespace skald::wal
