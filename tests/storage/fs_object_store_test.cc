// FsObjectStore specifics: atomic puts (no temp files visible, readers never
// see partial objects), crash leftovers cleaned at Open, directory pruning,
// persistence across reopen, concurrency.
#include "storage/fs_object_store.h"

#include "testing/fs/fault_file_system.h"
#include "testing/fs/mem_file_system.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace skald::storage {
namespace {

namespace fs = std::filesystem;

class FsObjectStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/skald-fs-store-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    root_ = dir_ + "/data/store";
    auto s = FsObjectStore::Open(root_);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(dir_);
  }
  static void WriteFile(const std::string& path, std::string_view data) {
    fs::create_directories(fs::path(path).parent_path());
    std::ofstream(path, std::ios::binary) << data;
  }
  std::string dir_, root_;
  std::unique_ptr<FsObjectStore> store_;
};

TEST_F(FsObjectStoreTest, OpenCreatesNestedRoot) {
  EXPECT_TRUE(fs::is_directory(root_));
  EXPECT_EQ(FsObjectStore::Open("").status().code(), StatusCode::kInvalidArgument);
}

TEST_F(FsObjectStoreTest, OpenFailsWhenRootIsAFile) {
  WriteFile(dir_ + "/file", "x");
  EXPECT_EQ(FsObjectStore::Open(dir_ + "/file").status().code(), StatusCode::kIOError);
}

TEST_F(FsObjectStoreTest, ObjectIsAPlainFileUnderRoot) {
  ASSERT_TRUE(store_->Put("chunks/fake/00ff/1-2-3", "payload").ok());
  std::ifstream in(root_ + "/chunks/fake/00ff/1-2-3", std::ios::binary);
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(content, "payload");
}

TEST_F(FsObjectStoreTest, NoTempFilesLeftAfterPut) {
  ASSERT_TRUE(store_->Put("a/b", "1").ok());
  ASSERT_TRUE(store_->Put("a/b", "2").ok());
  std::vector<std::string> names;
  for (const auto& e : fs::recursive_directory_iterator(root_)) {
    names.push_back(e.path().filename().string());
  }
  EXPECT_EQ(names.size(), 2u);  // "a" and "b"
  for (const auto& n : names) EXPECT_NE(n.rfind(kReservedSegmentPrefix, 0), 0u) << n;
}

TEST_F(FsObjectStoreTest, TempFilesAreHiddenFromListAndRemovedAtOpen) {
  ASSERT_TRUE(store_->Put("index/t/1/file", "x").ok());
  // What a crash in the middle of Put leaves behind.
  WriteFile(root_ + "/index/t/1/.skald-tmp-deadbeef-1", "partial");
  WriteFile(root_ + "/.skald-tmp-root-2", "partial");
  auto listed = store_->List("");
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(*listed, std::vector<std::string>{"index/t/1/file"});
  auto listed_prefix = store_->List("index/t/1/");
  ASSERT_TRUE(listed_prefix.ok());
  EXPECT_EQ(*listed_prefix, std::vector<std::string>{"index/t/1/file"});

  store_.reset();
  auto reopened = FsObjectStore::Open(root_);
  ASSERT_TRUE(reopened.ok());
  EXPECT_FALSE(fs::exists(root_ + "/index/t/1/.skald-tmp-deadbeef-1"));
  EXPECT_FALSE(fs::exists(root_ + "/.skald-tmp-root-2"));
  EXPECT_EQ(*(*reopened)->Get("index/t/1/file"), "x");  // data survives
}

TEST_F(FsObjectStoreTest, CurrentTempFilesAreHiddenFromListAndRemovedAtOpen) {
  ASSERT_TRUE(store_->Put("index/t/1/file", "x").ok());
  const std::string temp = root_ + "/index/t/1/" + std::string(kReservedSegmentPrefix) + "ab-1";
  WriteFile(temp, "partial");
  auto listed = store_->List("");
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(*listed, std::vector<std::string>{"index/t/1/file"});
  store_.reset();
  ASSERT_TRUE(FsObjectStore::Open(root_).ok());
  EXPECT_FALSE(fs::exists(temp));
}

TEST_F(FsObjectStoreTest, TenantDirectoryNamedLikeOldTempFilesIsOrdinary) {
  // Tenant IDs may start with '.', so ".skald-tmp-x" is a tenant, and its objects are data.
  ASSERT_TRUE(store_->Put("chunks/.skald-tmp-x/00ff/1-2-3", "chunk").ok());
  ASSERT_TRUE(store_->Put("chunks/plain/00ff/1-2-3", "other").ok());
  auto listed = store_->List("chunks/");
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(*listed, (std::vector<std::string>{"chunks/.skald-tmp-x/00ff/1-2-3",
                                               "chunks/plain/00ff/1-2-3"}));
  store_.reset();
  auto reopened = FsObjectStore::Open(root_);
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ(*(*reopened)->Get("chunks/.skald-tmp-x/00ff/1-2-3"), "chunk");
}

TEST_F(FsObjectStoreTest, DataPersistsAcrossReopen) {
  ASSERT_TRUE(store_->Put("x/y/z", "persisted").ok());
  store_.reset();
  auto reopened = FsObjectStore::Open(root_ + "/");  // trailing slash is fine
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ(*(*reopened)->Get("x/y/z"), "persisted");
  EXPECT_EQ(*(*reopened)->List("x/"), std::vector<std::string>{"x/y/z"});
}

TEST_F(FsObjectStoreTest, DeletePrunesEmptyDirectoriesOnly) {
  ASSERT_TRUE(store_->Put("a/b/c/d", "1").ok());
  ASSERT_TRUE(store_->Put("a/e", "2").ok());
  ASSERT_TRUE(store_->Delete("a/b/c/d").ok());
  EXPECT_FALSE(fs::exists(root_ + "/a/b"));
  EXPECT_TRUE(fs::exists(root_ + "/a/e"));
  ASSERT_TRUE(store_->Delete("a/e").ok());
  EXPECT_FALSE(fs::exists(root_ + "/a"));
  EXPECT_TRUE(fs::is_directory(root_));  // never the root itself
}

TEST_F(FsObjectStoreTest, KeyUnderAnObjectIsAnIOError) {
  ASSERT_TRUE(store_->Put("a/b", "file").ok());
  EXPECT_EQ(store_->Put("a/b/c", "x").code(), StatusCode::kIOError);
  EXPECT_EQ(*store_->Get("a/b"), "file");
  ASSERT_TRUE(store_->Put("d/e/f", "x").ok());
  EXPECT_EQ(store_->Put("d/e", "x").code(), StatusCode::kIOError);  // "d/e" is a directory
  EXPECT_TRUE(store_->Delete("d/e").ok());                          // not an object: no-op
  EXPECT_EQ(*store_->Get("d/e/f"), "x");
}

TEST_F(FsObjectStoreTest, ConcurrentReadersSeeWholeObjectsOnly) {
  // Writers overwrite keys with objects whose every byte is the version
  // number; readers must only ever see uniform, full-length objects and
  // never a temp file in List.
  constexpr size_t kSize = 256 << 10;
  constexpr int kVersions = 30;
  ASSERT_TRUE(store_->Put("obj/k", std::string(kSize, 'A')).ok());
  std::atomic<bool> done{false};
  std::atomic<int> failures{0};
  std::thread writer([&] {
    for (int v = 1; v < kVersions; ++v) {
      if (!store_->Put("obj/k", std::string(kSize, static_cast<char>('A' + v))).ok()) ++failures;
      if (!store_->Put("obj/other" + std::to_string(v), "x").ok()) ++failures;
    }
    done = true;
  });
  std::thread reader([&] {
    while (!done) {
      auto got = store_->Get("obj/k");
      if (!got.ok() || got->size() != kSize ||
          got->find_first_not_of((*got)[0]) != std::string::npos) {
        ++failures;
      }
      auto listed = store_->List("obj/");
      if (!listed.ok()) {
        ++failures;
        continue;
      }
      for (const auto& k : *listed) {
        if (k.find(kReservedSegmentPrefix) != std::string::npos) ++failures;
      }
    }
  });
  writer.join();
  reader.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(*store_->Get("obj/k"), std::string(kSize, static_cast<char>('A' + kVersions - 1)));
}

TEST_F(FsObjectStoreTest, PutSurvivesConcurrentDirectoryPruning) {
  // One thread keeps creating and deleting a sibling (pruning the shared
  // directories each time); the other's puts into the same directory must
  // all succeed.
  std::atomic<bool> done{false};
  std::atomic<int> failures{0};
  std::thread churn([&] {
    while (!done) {
      if (!store_->Put("p/q/r/churn", "c").ok()) ++failures;
      if (!store_->Delete("p/q/r/churn").ok()) ++failures;
    }
  });
  for (int i = 0; i < 300; ++i) {
    std::string key = "p/q/r/k" + std::to_string(i);
    Status s = store_->Put(key, "v");
    if (!s.ok()) {
      ADD_FAILURE() << s.ToString();
      break;
    }
    if (!store_->Delete(key).ok()) ++failures;
  }
  done = true;
  churn.join();
  EXPECT_EQ(failures.load(), 0);
}

// The store runs on the file-system seam: a power cut right after Put returns keeps the
// object (data synced, every new directory entry synced), whatever the key's depth.
TEST(FsObjectStoreOnFileSystemTest, AcknowledgedPutSurvivesPowerCut) {
  MemFileSystem mem;
  auto store = FsObjectStore::Open("/data/store", &mem);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  ASSERT_TRUE((*store)->Put("chunks/t/00ff/1-2-3", "chunk bytes").ok());
  ASSERT_TRUE((*store)->Put("index/t/1/file", "index bytes").ok());
  std::unique_ptr<MemFileSystem> after = mem.CrashCopy();
  auto reopened = FsObjectStore::Open("/data/store", after.get());
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  for (auto [key, want] : {std::pair{"chunks/t/00ff/1-2-3", "chunk bytes"},
                           std::pair{"index/t/1/file", "index bytes"}}) {
    auto got = (*reopened)->Get(key);
    ASSERT_TRUE(got.ok()) << key << ": " << got.status().ToString();
    EXPECT_EQ(*got, want);
  }
  EXPECT_EQ(*(*reopened)->List(""),
            (std::vector<std::string>{"chunks/t/00ff/1-2-3", "index/t/1/file"}));
}

// Every failure a disk can give during Put (write, sync, rename, directory sync) is an
// IOError; the key never shows a partial object, and reopening removes the temp file.
TEST(FsObjectStoreOnFileSystemTest, FailedPutIsAnIOErrorAndLeavesNoPartialObject) {
  using Op = FaultInjectingFileSystem::Op;
  for (Op op : {Op::kWrite, Op::kSync, Op::kRename, Op::kSyncDir, Op::kCreate}) {
    SCOPED_TRACE(static_cast<int>(op));
    MemFileSystem mem;
    FaultInjectingFileSystem faulty(&mem);
    auto store = FsObjectStore::Open("/s", &faulty);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    ASSERT_TRUE((*store)->Put("k/old", "old").ok());
    faulty.FailAfter(op, 0);
    Status s = (*store)->Put("k/new", "new");
    EXPECT_EQ(s.code(), StatusCode::kIOError) << s.ToString();
    faulty.Heal();
    auto got = (*store)->Get("k/new");
    ASSERT_TRUE(got.ok() || got.status().code() == StatusCode::kNotFound)
        << got.status().ToString();
    // A failed directory sync happens after the rename: the object is whole, just not yet
    // known to be durable. Any other failure leaves no object at all.
    if (op == Op::kSyncDir) {
      ASSERT_TRUE(got.ok()) << got.status().ToString();
      EXPECT_EQ(*got, "new");
    } else {
      EXPECT_EQ(got.status().code(), StatusCode::kNotFound);
    }
    EXPECT_EQ(*(*store)->Get("k/old"), "old");
    auto reopened = FsObjectStore::Open("/s", &mem);
    ASSERT_TRUE(reopened.ok());
    auto names = mem.ListDir("/s/k");
    ASSERT_TRUE(names.ok());
    for (const DirEntry& e : *names)
      EXPECT_NE(e.name.rfind(kReservedSegmentPrefix, 0), 0u) << e.name;
  }
}

}  // namespace
}  // namespace skald::storage
