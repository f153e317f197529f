// The behaviour every ObjectStore must have, as a value-parameterized gtest suite: a test
// file includes this header and instantiates ObjectStoreConformance with its StoreFactory
// values (object_store_test.cc: filesystem and memory; s3_object_store_test.cc: a real
// S3-compatible server).
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "storage/object_store.h"

namespace skald::storage {

using Keys = std::vector<std::string>;

struct StoreFactory {
  std::string name;
  std::function<std::unique_ptr<ObjectStore>(const std::string& dir)> make;
  // Runs after each test with the store (still open), e.g. to empty a shared bucket.
  std::function<void(ObjectStore*)> cleanup = nullptr;

  friend void PrintTo(const StoreFactory& f, std::ostream* os) { *os << f.name; }
};

class ObjectStoreConformance : public ::testing::TestWithParam<StoreFactory> {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/skald-store-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    store_ = GetParam().make(dir_ + "/root");
    ASSERT_NE(store_, nullptr);
  }
  void TearDown() override {
    if (GetParam().cleanup && store_ != nullptr) GetParam().cleanup(store_.get());
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  Keys List(std::string_view prefix) {
    auto r = store_->List(prefix);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : Keys{};
  }
  std::string dir_;
  std::unique_ptr<ObjectStore> store_;
};

TEST_P(ObjectStoreConformance, PutGetRoundTripsBinaryData) {
  std::string data("a\0b\xff\n", 5);
  ASSERT_TRUE(store_->Put("x/y", data).ok());
  auto got = store_->Get("x/y");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, data);
  ASSERT_TRUE(store_->Put("empty", "").ok());
  EXPECT_EQ(*store_->Get("empty"), "");
  std::string big(3 << 20, 'q');
  big[12345] = 'z';
  ASSERT_TRUE(store_->Put("big", big).ok());
  EXPECT_EQ(*store_->Get("big"), big);
}

TEST_P(ObjectStoreConformance, PutPartsStoresTheConcatenation) {
  std::string big(1 << 20, 'b');
  big[777] = '\0';
  const std::vector<std::string_view> parts = {"head-", "", big, std::string_view("\0x", 2)};
  ASSERT_TRUE(store_->PutParts("p/q", parts).ok());
  auto got = store_->Get("p/q");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, "head-" + big + std::string("\0x", 2));
  auto range = store_->GetRange("p/q", 5, 10);
  ASSERT_TRUE(range.ok());
  EXPECT_EQ(*range, big.substr(0, 10));
  ASSERT_TRUE(store_->PutParts("none", {}).ok());  // no parts: an empty object
  EXPECT_EQ(*store_->Get("none"), "");
  EXPECT_EQ(store_->PutParts("../bad", parts).code(), StatusCode::kInvalidArgument);
}

TEST_P(ObjectStoreConformance, GetMissingIsNotFound) {
  EXPECT_EQ(store_->Get("nope").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->Get("no/such/dir").status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(store_->Put("a/b", "1").ok());
  // "a" is only a path prefix of another key, not an object.
  EXPECT_EQ(store_->Get("a").status().code(), StatusCode::kNotFound);
}

TEST_P(ObjectStoreConformance, PutOverwrites) {
  ASSERT_TRUE(store_->Put("k", "first version, longer").ok());
  ASSERT_TRUE(store_->Put("k", "second").ok());
  EXPECT_EQ(*store_->Get("k"), "second");
  EXPECT_EQ(List(""), Keys{"k"});
}

TEST_P(ObjectStoreConformance, ListIsSortedAndFiltersByBytePrefix) {
  for (std::string_view k : {"index/tenant/2/b", "index/tenant/10/a", "index/ten/1/x",
                             "index/tenantz/1/y", "chunks/t/1", "index/tenant/2/a"}) {
    ASSERT_TRUE(store_->Put(k, k).ok()) << k;
  }
  EXPECT_EQ(List(""), (Keys{"chunks/t/1", "index/ten/1/x", "index/tenant/10/a", "index/tenant/2/a",
                            "index/tenant/2/b", "index/tenantz/1/y"}));
  EXPECT_EQ(List("index/tenant/"),
            (Keys{"index/tenant/10/a", "index/tenant/2/a", "index/tenant/2/b"}));
  // Mid-segment prefixes.
  EXPECT_EQ(List("index/ten"), (Keys{"index/ten/1/x", "index/tenant/10/a", "index/tenant/2/a",
                                     "index/tenant/2/b", "index/tenantz/1/y"}));
  EXPECT_EQ(List("index/tenant/1"), (Keys{"index/tenant/10/a"}));
  EXPECT_EQ(List("index/tenant/2/b"), (Keys{"index/tenant/2/b"}));
  EXPECT_EQ(List("c"), (Keys{"chunks/t/1"}));
  EXPECT_TRUE(List("missing/").empty());
  EXPECT_TRUE(List("index/tenant/2/bb").empty());
}

TEST_P(ObjectStoreConformance, DeleteRemovesAndIsIdempotent) {
  ASSERT_TRUE(store_->Put("a/b/c", "1").ok());
  ASSERT_TRUE(store_->Put("a/d", "2").ok());
  ASSERT_TRUE(store_->Delete("a/b/c").ok());
  EXPECT_EQ(store_->Get("a/b/c").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(List(""), Keys{"a/d"});
  EXPECT_TRUE(store_->Delete("a/b/c").ok());
  EXPECT_TRUE(store_->Delete("never/was").ok());
  // The key can be written again after its directory was pruned.
  ASSERT_TRUE(store_->Put("a/b/c", "3").ok());
  EXPECT_EQ(*store_->Get("a/b/c"), "3");
}

TEST_P(ObjectStoreConformance, RejectsInvalidKeysEverywhere) {
  for (std::string_view k : {"", "/abs", "a//b", "../up", "a/../b", "a/", "~skald-tmp-1"}) {
    EXPECT_EQ(store_->Put(k, "x").code(), StatusCode::kInvalidArgument) << k;
    EXPECT_EQ(store_->Get(k).status().code(), StatusCode::kInvalidArgument) << k;
    EXPECT_EQ(store_->Delete(k).code(), StatusCode::kInvalidArgument) << k;
  }
  EXPECT_EQ(store_->List("/abs").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->List("../").status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(List("").empty());  // nothing got written
}

}  // namespace skald::storage
