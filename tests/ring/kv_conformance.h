// What every ring KV store must do, and an instance's lifecycle on it, as a gtest suite
// parameterized by store: kv_test.cc runs it on MemKV, etcd_kv_test.cc on a real etcd.
#pragma once

#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <thread>

#include "core/time.h"
#include "ring/kv.h"
#include "ring/lifecycler.h"

namespace skald::ring {

struct KVFactory {
  std::string name;
  std::function<std::unique_ptr<KV>()> make;
  friend void PrintTo(const KVFactory& f, std::ostream* os) { *os << f.name; }
};

class KVConformance : public ::testing::TestWithParam<KVFactory> {
 protected:
  void SetUp() override {
    kv_ = GetParam().make();
    ASSERT_NE(kv_, nullptr);
    // A prefix of its own per test, so a shared server needs no cleanup between tests.
    prefix_ = "skald-test/" +
              std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()) + "/" +
              std::to_string(::getpid()) + "/";
  }
  std::unique_ptr<KV> kv_;
  std::string prefix_;
};

TEST_P(KVConformance, PutListDelete) {
  int64_t rev0 = 0;
  ASSERT_TRUE(kv_->List(prefix_, &rev0).ok());
  ASSERT_TRUE(kv_->Put(prefix_ + "b", std::string("v\0b\xff", 4), 0).ok());
  ASSERT_TRUE(kv_->Put(prefix_ + "a", "1", 0).ok());
  ASSERT_TRUE(kv_->Put(prefix_ + "a", "2", 0).ok());
  ASSERT_TRUE(kv_->Put(prefix_ + "c/", "", 0).ok());
  ASSERT_TRUE(kv_->Put(prefix_.substr(0, prefix_.size() - 1) + "0", "outside", 0).ok());
  int64_t rev = 0;
  auto got = kv_->List(prefix_, &rev);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_EQ(got->size(), 3u);
  EXPECT_EQ((*got)[0].key, prefix_ + "a");
  EXPECT_EQ((*got)[0].value, "2");
  EXPECT_EQ((*got)[1].value, std::string("v\0b\xff", 4));
  EXPECT_EQ((*got)[2].key, prefix_ + "c/");
  EXPECT_EQ((*got)[2].value, "");
  EXPECT_GT((*got)[0].mod_revision, (*got)[1].mod_revision);
  EXPECT_GE(rev, rev0 + 5);
  ASSERT_TRUE(kv_->Delete(prefix_ + "a").ok());
  ASSERT_TRUE(kv_->Delete(prefix_ + "never").ok());
  EXPECT_EQ(kv_->List(prefix_, nullptr)->size(), 2u);
  ASSERT_TRUE(kv_->Delete(prefix_.substr(0, prefix_.size() - 1) + "0").ok());
}

TEST_P(KVConformance, LeasesExpireAndRevokeTheirKeys) {
  auto lease = kv_->GrantLease(1);
  ASSERT_TRUE(lease.ok()) << lease.status().ToString();
  ASSERT_TRUE(kv_->Put(prefix_ + "leased", "x", *lease).ok());
  ASSERT_TRUE(kv_->Put(prefix_ + "kept", "y", 0).ok());
  ASSERT_TRUE(kv_->KeepAlive(*lease).ok());
  // Without keep-alives the key goes within a few seconds (etcd checks expiry periodically).
  bool gone = false;
  for (int i = 0; i < 60 && !gone; i++) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    gone = kv_->List(prefix_ + "leased", nullptr)->empty();
  }
  EXPECT_TRUE(gone);
  EXPECT_EQ(kv_->KeepAlive(*lease).code(), StatusCode::kNotFound);
  EXPECT_EQ(kv_->List(prefix_, nullptr)->size(), 1u);  // "kept" stays

  auto l2 = kv_->GrantLease(60);
  ASSERT_TRUE(l2.ok());
  ASSERT_TRUE(kv_->Put(prefix_ + "l2", "z", *l2).ok());
  ASSERT_TRUE(kv_->RevokeLease(*l2).ok());
  EXPECT_TRUE(kv_->List(prefix_ + "l2", nullptr)->empty());
  EXPECT_TRUE(kv_->RevokeLease(*l2).ok());
  EXPECT_EQ(kv_->GrantLease(0).status().code(), StatusCode::kInvalidArgument);
}

TEST_P(KVConformance, WaitForChangeSeesPutsAndDeletes) {
  int64_t rev = 0;
  ASSERT_TRUE(kv_->List(prefix_, &rev).ok());
  // Nothing changes: the wait times out with the same revision.
  auto t0 = std::chrono::steady_clock::now();
  auto same = kv_->WaitForChange(prefix_, rev, std::chrono::milliseconds(300));
  ASSERT_TRUE(same.ok()) << same.status().ToString();
  EXPECT_EQ(*same, rev);
  EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(250));
  // A change elsewhere does not wake it; one under the prefix does.
  std::thread writer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    (void)kv_->Put("skald-test-elsewhere/" + std::to_string(::getpid()), "x", 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    (void)kv_->Put(prefix_ + "k", "v", 0);
  });
  auto changed = kv_->WaitForChange(prefix_, rev, std::chrono::seconds(10));
  writer.join();
  ASSERT_TRUE(changed.ok());
  EXPECT_GT(*changed, rev);
  auto got = kv_->List(prefix_, nullptr);
  ASSERT_EQ(got->size(), 1u);
  // A delete is a change too.
  int64_t rev2 = 0;
  ASSERT_TRUE(kv_->List(prefix_, &rev2).ok());
  ASSERT_TRUE(kv_->Delete(prefix_ + "k").ok());
  auto deleted = kv_->WaitForChange(prefix_, rev2, std::chrono::seconds(10));
  ASSERT_TRUE(deleted.ok());
  EXPECT_GT(*deleted, rev2);
  (void)kv_->Delete("skald-test-elsewhere/" + std::to_string(::getpid()));
}

TEST_P(KVConformance, LifecycleJoinActiveLeaveAndRestartKeepsTokens) {
  constexpr int64_t kTimeout = 60'000'000'000;
  LifecyclerConfig cfg;
  cfg.prefix = prefix_;
  cfg.id = "ingester-1";
  cfg.addr = "127.0.0.1:9095";
  cfg.num_tokens = 16;
  cfg.heartbeat_period_ns = 50'000'000;
  std::vector<uint32_t> tokens;
  {
    Lifecycler a(kv_.get(), cfg);
    ASSERT_TRUE(a.Join().ok());
    auto ring = ReadRing(kv_.get(), prefix_, kTimeout);
    ASSERT_TRUE(ring.ok());
    ASSERT_EQ(ring->instances().size(), 1u);
    EXPECT_EQ(ring->instances()[0].state, State::kJoining);
    EXPECT_EQ(ring->instances()[0].tokens.size(), 16u);
    tokens = ring->instances()[0].tokens;
    EXPECT_EQ(ring->Get(5, Operation::kWrite, 1, NowNanos()).status().code(),
              StatusCode::kUnavailable);  // JOINING takes no writes
    ASSERT_TRUE(a.SetState(State::kActive).ok());
    const int64_t hb0 = ReadRing(kv_.get(), prefix_, kTimeout)->instances()[0].heartbeat_ns;
    for (int i = 0; i < 100 && a.heartbeats() < 3; i++) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    EXPECT_GE(a.heartbeats(), 3u);
    ring = ReadRing(kv_.get(), prefix_, kTimeout);
    EXPECT_GT(ring->instances()[0].heartbeat_ns, hb0);
    EXPECT_TRUE(ring->Get(5, Operation::kWrite, 1, NowNanos()).ok());

    // A second instance draws tokens of its own.
    LifecyclerConfig cfg2 = cfg;
    cfg2.id = "ingester-2";
    Lifecycler b(kv_.get(), cfg2);
    ASSERT_TRUE(b.Join().ok());
    ASSERT_TRUE(b.SetState(State::kActive).ok());
    ring = ReadRing(kv_.get(), prefix_, kTimeout);
    ASSERT_EQ(ring->instances().size(), 2u);
    for (uint32_t t : ring->instances()[1].tokens) {
      EXPECT_FALSE(std::binary_search(tokens.begin(), tokens.end(), t));
    }
    // Graceful leave removes it; a crash (destruction without Leave) leaves the entry.
    ASSERT_TRUE(b.Leave().ok());
    EXPECT_EQ(ReadRing(kv_.get(), prefix_, kTimeout)->instances().size(), 1u);
  }
  auto ring = ReadRing(kv_.get(), prefix_, kTimeout);
  ASSERT_EQ(ring->instances().size(), 1u);  // ingester-1 "crashed": still listed
  // Its heartbeat stops: with a short timeout it is unhealthy.
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  auto stale = ReadRing(kv_.get(), prefix_, 100'000'000);
  EXPECT_EQ(stale->Get(5, Operation::kWrite, 1, NowNanos()).status().code(),
            StatusCode::kUnavailable);
  // It restarts with the same tokens.
  Lifecycler again(kv_.get(), cfg);
  ASSERT_TRUE(again.Join().ok());
  EXPECT_EQ(again.desc().tokens, tokens);
  // Forget removes an entry by id (the /ring page's button).
  ASSERT_TRUE(Forget(kv_.get(), prefix_, "ingester-1").ok());
  EXPECT_TRUE(ReadRing(kv_.get(), prefix_, kTimeout)->instances().empty());
}

}  // namespace skald::ring
