// The ObjectStore conformance suite (object_store_conformance.h) run against FsObjectStore
// and MemObjectStore; plus key validation rules.
#include "storage/object_store.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "core/tenant.h"
#include "object_store_conformance.h"
#include "storage/fs_object_store.h"
#include "testing/fs/mem_object_store.h"

namespace skald::storage {
namespace {

TEST(ValidateKeyTest, AcceptsRelativePaths) {
  for (std::string_view k : {"a", "a/b/c", "index/fake/19000/x", "a..b", "..a", ".hidden/x",
                             "a/b.c", "chunks/t/0123456789abcdef/0-1-ffffffff", "with space"}) {
    EXPECT_TRUE(ValidateKey(k).ok()) << k;
  }
}

TEST(ValidateKeyTest, RejectsBadKeys) {
  for (std::string_view k : {"", "/a", "/", "a//b", "a/", "..", "a/../b", "../a", "a/..", ".",
                             "a/./b", "~skald-tmp-1", "a/~skald-tmp-x/b"}) {
    Status s = ValidateKey(k);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << "'" << k << "'";
  }
  EXPECT_EQ(ValidateKey(std::string_view("a\0b", 3)).code(), StatusCode::kInvalidArgument);
}

TEST(ValidateKeyTest, PrefixMayEndMidSegment) {
  for (std::string_view p : {"", "a", "a/", "a/b", "index/te", "a/..", "a/."}) {
    EXPECT_TRUE(ValidateKeyPrefix(p).ok()) << p;
  }
  for (std::string_view p : {"/", "/a", "../", "a//", "a/../b", "./x"}) {
    EXPECT_EQ(ValidateKeyPrefix(p).code(), StatusCode::kInvalidArgument) << p;
  }
}

TEST(ValidateKeyTest, ReservedPrefixIsOutsideTheTenantKeySpace) {
  // Every tenant ID is a valid key segment, including one shaped like the old temp prefix.
  EXPECT_TRUE(ValidateKey("chunks/.skald-tmp-x/0123456789abcdef/1-2-3").ok());
  EXPECT_TRUE(ValidateKey("index/.skald-tmp-x/19675/1-2").ok());
  // No tenant ID can start with the reserved prefix.
  EXPECT_FALSE(ValidateTenantID(std::string(kReservedSegmentPrefix) + "x").ok());
  EXPECT_FALSE(ValidateTenantID(kReservedSegmentPrefix.substr(0, 1)).ok());
  EXPECT_EQ(ValidateKey("chunks/" + std::string(kReservedSegmentPrefix) + "x/f").code(),
            StatusCode::kInvalidArgument);
}

INSTANTIATE_TEST_SUITE_P(
    Stores, ObjectStoreConformance,
    ::testing::Values(StoreFactory{"fs",
                                   [](const std::string& dir) -> std::unique_ptr<ObjectStore> {
                                     auto s = FsObjectStore::Open(dir);
                                     if (!s.ok()) return nullptr;
                                     return std::move(*s);
                                   }},
                      StoreFactory{"mem",
                                   [](const std::string&) -> std::unique_ptr<ObjectStore> {
                                     return std::make_unique<MemObjectStore>();
                                   }}),
    [](const ::testing::TestParamInfo<StoreFactory>& info) { return info.param.name; });

}  // namespace
}  // namespace skald::storage
