// FileSystem implementations: the same contract for POSIX and in-memory, crash semantics of
// MemFileSystem, and the fault-injecting wrapper's space budget and schedules.
#include "core/file_system.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "test_util.h"
#include "testing/fs/fault_file_system.h"
#include "testing/fs/mem_file_system.h"

namespace skald::wal {
namespace {

using Op = FaultInjectingFileSystem::Op;

class FileSystemContractTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    if (GetParam()) {
      fs_ = PosixFileSystem();
      root_ = tmp_.path();
    } else {
      fs_ = &mem_;
      root_ = "/root";
      ASSERT_TRUE(mem_.CreateDir(root_).ok());
    }
  }
  std::string P(const std::string& name) { return JoinPath(root_, name); }

  testing::TempDir tmp_;
  MemFileSystem mem_;
  FileSystem* fs_ = nullptr;
  std::string root_;
};

TEST_P(FileSystemContractTest, WriteReadTruncateReopen) {
  auto f = fs_->NewWritableFile(P("a"));
  ASSERT_TRUE(f.ok());
  ASSERT_TRUE((*f)->Append("hello ").ok());
  ASSERT_TRUE((*f)->Append("world").ok());
  EXPECT_EQ((*f)->Size(), 11u);
  ASSERT_TRUE((*f)->Sync().ok());
  ASSERT_TRUE((*f)->Truncate(5).ok());
  ASSERT_TRUE((*f)->Append("!").ok());
  ASSERT_TRUE((*f)->Close().ok());
  EXPECT_EQ(*ReadFileToString(fs_, P("a")), "hello!");

  auto r = fs_->ReopenWritableFile(P("a"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)->Size(), 6u);
  ASSERT_TRUE((*r)->Append("?").ok());
  ASSERT_TRUE((*r)->Close().ok());
  auto ra = fs_->NewRandomAccessFile(P("a"));
  ASSERT_TRUE(ra.ok());
  char buf[16];
  size_t got = 0;
  ASSERT_TRUE((*ra)->Read(2, 16, buf, &got).ok());
  EXPECT_EQ(std::string(buf, got), "llo!?");
  ASSERT_TRUE((*ra)->Read(100, 4, buf, &got).ok());
  EXPECT_EQ(got, 0u);
  EXPECT_EQ(*(*ra)->Size(), 7u);

  // New truncates an existing file.
  auto again = fs_->NewWritableFile(P("a"));
  ASSERT_TRUE(again.ok());
  ASSERT_TRUE((*again)->Close().ok());
  EXPECT_EQ(*ReadFileToString(fs_, P("a")), "");
}

// ReadShared: small reads and large ones (whose buffers are recycled through a pool) return
// the file's bytes, short only at the end; a buffer is reused only once its owner is gone.
TEST_P(FileSystemContractTest, ReadSharedRecyclesBuffersOnlyWhenReleased) {
  std::string data(8u << 20, '\0');
  for (size_t i = 0; i < data.size(); i++) {
    data[i] = static_cast<char>('a' + (i * 7 + i / 4096) % 26);
  }
  auto f = fs_->NewWritableFile(P("big"));
  ASSERT_TRUE(f.ok());
  ASSERT_TRUE((*f)->Append(data).ok());
  ASSERT_TRUE((*f)->Close().ok());
  auto ra = fs_->NewRandomAccessFile(P("big"));
  ASSERT_TRUE(ra.ok());
  const std::string_view all(data);

  auto small = (*ra)->ReadShared(5, 100);
  ASSERT_TRUE(small.ok());
  EXPECT_EQ(small->bytes, all.substr(5, 100));

  // Two large reads held at once get distinct buffers. (Sizes of 5-6 MiB: no other test in
  // this process reads that much, so the pool holds at most one buffer of that size.)
  const size_t kA = (5u << 20) + 4321, kB = (1u << 20) + 12345;
  auto a = (*ra)->ReadShared(0, kA);
  auto b = (*ra)->ReadShared(kA, kB);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a->bytes.data(), b->bytes.data());
  EXPECT_EQ(a->bytes, all.substr(0, kA));
  EXPECT_EQ(b->bytes, all.substr(kA, kB));

  // a's buffer goes back to the pool when its last owner is gone, and serves the next read of
  // a similar size, which overwrites it; b, still held, is untouched.
  const char* a_buf = a->bytes.data();
  a = Status::Unavailable("released");
  auto c = (*ra)->ReadShared(1u << 20, 5u << 20);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->bytes.data(), a_buf);
  EXPECT_EQ(c->bytes, all.substr(1u << 20, 5u << 20));
  EXPECT_EQ(b->bytes, all.substr(kA, kB));

  // Past the end: short.
  auto tail = (*ra)->ReadShared(data.size() - 10, 1u << 20);
  ASSERT_TRUE(tail.ok());
  EXPECT_EQ(tail->bytes, all.substr(data.size() - 10));
}

// AppendParts: the parts in order, empty ones included, across more parts than one system
// call takes (the POSIX file writes at most 1024 per pwritev).
TEST_P(FileSystemContractTest, AppendPartsWritesEveryPartInOrder) {
  std::vector<std::string> owned;
  std::string want = "head:";
  for (int i = 0; i < 2500; i++) {
    owned.push_back(i % 7 == 0 ? std::string() : std::to_string(i) + std::string(i % 50, 'x'));
    want += owned.back();
  }
  std::vector<std::string_view> parts(owned.begin(), owned.end());
  auto f = fs_->NewWritableFile(P("parts"));
  ASSERT_TRUE(f.ok());
  ASSERT_TRUE((*f)->Append("head:").ok());
  ASSERT_TRUE((*f)->AppendParts(parts).ok());
  EXPECT_EQ((*f)->Size(), want.size());
  ASSERT_TRUE((*f)->AppendParts({}).ok());
  ASSERT_TRUE((*f)->Append("|").ok());
  ASSERT_TRUE((*f)->Close().ok());
  EXPECT_EQ(*ReadFileToString(fs_, P("parts")), want + "|");
}

TEST_P(FileSystemContractTest, DirectoriesRenameRemove) {
  EXPECT_EQ(fs_->ReopenWritableFile(P("missing")).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(fs_->NewRandomAccessFile(P("missing")).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(fs_->ListDir(P("missing")).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(fs_->Exists(P("missing")).code(), StatusCode::kNotFound);
  ASSERT_TRUE(CreateDirs(fs_, P("x/y/z")).ok());
  ASSERT_TRUE(fs_->CreateDir(P("x")).ok());  // exists: OK
  auto f = fs_->NewWritableFile(P("x/y/z/f"));
  ASSERT_TRUE(f.ok());
  ASSERT_TRUE((*f)->Close().ok());
  ASSERT_TRUE(fs_->SyncDir(P("x/y/z")).ok());
  ASSERT_TRUE(fs_->Rename(P("x/y"), P("x/w")).ok());
  ASSERT_TRUE(fs_->Exists(P("x/w/z/f")).ok());
  auto list = fs_->ListDir(P("x"));
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].name, "w");
  EXPECT_TRUE((*list)[0].is_dir);
  EXPECT_FALSE(fs_->RemoveDir(P("x/w")).ok());  // not empty
  ASSERT_TRUE(RemoveAll(fs_, P("x")).ok());
  EXPECT_EQ(fs_->Exists(P("x")).code(), StatusCode::kNotFound);
  ASSERT_TRUE(RemoveAll(fs_, P("x")).ok());  // already gone: OK
  EXPECT_EQ(fs_->RemoveFile(P("nope")).code(), StatusCode::kNotFound);
}

INSTANTIATE_TEST_SUITE_P(PosixAndMem, FileSystemContractTest, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "Posix" : "Mem"; });

TEST(PathTest, JoinAndParent) {
  EXPECT_EQ(JoinPath("a", "b"), "a/b");
  EXPECT_EQ(JoinPath("a/", "b"), "a/b");
  EXPECT_EQ(ParentDir("a/b/c"), "a/b");
  EXPECT_EQ(ParentDir("/a"), "/");
  EXPECT_EQ(ParentDir("a"), ".");
  EXPECT_EQ(ParentDir("a/b/"), "a");
}

TEST(MemFileSystemTest, PowerCutKeepsOnlySyncedBytesUnderSyncedEntries) {
  MemFileSystem fs;
  ASSERT_TRUE(fs.CreateDir("/d").ok());
  auto f = *fs.NewWritableFile("/d/f");
  ASSERT_TRUE(f->Append("synced").ok());
  ASSERT_TRUE(f->Sync().ok());
  ASSERT_TRUE(f->Append("+lost").ok());
  // Neither /d nor /d/f is a durable entry yet.
  EXPECT_EQ(fs.CrashCopy()->Exists("/d").code(), StatusCode::kNotFound);
  ASSERT_TRUE(fs.SyncDir("/").ok());
  EXPECT_EQ(fs.CrashCopy()->Exists("/d/f").code(), StatusCode::kNotFound);
  ASSERT_TRUE(fs.SyncDir("/d").ok());
  auto cut = fs.CrashCopy();
  EXPECT_EQ(*ReadFileToString(cut.get(), "/d/f"), "synced");
  EXPECT_EQ(*ReadFileToString(fs.ProcessCrashCopy().get(), "/d/f"), "synced+lost");

  // A rename is durable only once the directory is synced.
  ASSERT_TRUE(fs.Rename("/d/f", "/d/g").ok());
  EXPECT_TRUE(fs.CrashCopy()->Exists("/d/f").ok());
  ASSERT_TRUE(fs.SyncDir("/d").ok());
  EXPECT_TRUE(fs.CrashCopy()->Exists("/d/g").ok());
  EXPECT_EQ(fs.CrashCopy()->Exists("/d/f").code(), StatusCode::kNotFound);
}

TEST(FaultFileSystemTest, SpaceBudgetCausesShortWritesAndTruncateGivesSpaceBack) {
  MemFileSystem mem;
  FaultInjectingFileSystem fs(&mem);
  fs.SetFreeSpace(10);
  auto f = *fs.NewWritableFile("/f");
  ASSERT_TRUE(f->Append("12345").ok());
  Status s = f->Append("abcdefgh");
  EXPECT_EQ(s.code(), StatusCode::kIOError);
  EXPECT_NE(s.message().find("No space left"), std::string::npos);
  EXPECT_EQ(*ReadFileToString(&mem, "/f"), "12345abcde");  // the part that fit
  EXPECT_FALSE(f->Append("x").ok());
  ASSERT_TRUE(f->Truncate(5).ok());
  ASSERT_TRUE(f->Append("vwxyz").ok());  // 5 bytes came back
  EXPECT_FALSE(f->Append("!").ok());
  fs.SetUnlimitedSpace();
  ASSERT_TRUE(f->Append("!").ok());
}

TEST(FaultFileSystemTest, ScheduledFailuresShortWritesAndCrash) {
  MemFileSystem mem;
  FaultInjectingFileSystem fs(&mem);
  auto f = *fs.NewWritableFile("/f");
  fs.SetShortWriteBytes(2);
  fs.FailAfter(Op::kWrite, 1, 2);
  EXPECT_TRUE(f->Append("aaa").ok());
  EXPECT_FALSE(f->Append("bbb").ok());
  EXPECT_FALSE(f->Append("ccc").ok());
  EXPECT_TRUE(f->Append("ddd").ok());
  EXPECT_EQ(*ReadFileToString(&mem, "/f"), "aaabbccddd");
  EXPECT_EQ(fs.Failures(), 2u);
  EXPECT_EQ(fs.Calls(Op::kWrite), 4u);

  fs.FailAfter(Op::kSync, 0, 1);
  EXPECT_FALSE(f->Sync().ok());
  EXPECT_TRUE(f->Sync().ok());

  fs.CrashAfter(1);
  EXPECT_TRUE(f->Append("e").ok());
  EXPECT_TRUE(fs.crashed());
  EXPECT_FALSE(f->Append("f").ok());
  EXPECT_FALSE(fs.SyncDir("/").ok());
  EXPECT_FALSE(fs.NewWritableFile("/g").ok());
  EXPECT_EQ(*ReadFileToString(&mem, "/f"), "aaabbccddde");
  fs.Heal();
  EXPECT_TRUE(f->Append("g").ok());
}

}  // namespace
}  // namespace skald::wal
