#include "ring/ring.h"

#include <gtest/gtest.h>

#include <map>

namespace skald::ring {
namespace {

constexpr int64_t kNow = 1'000'000'000'000;
constexpr int64_t kTimeout = 60'000'000'000;

InstanceDesc Inst(std::string id, std::vector<uint32_t> tokens, State s = State::kActive,
                  int64_t heartbeat = kNow) {
  InstanceDesc d;
  d.id = std::move(id);
  d.addr = d.id + ":9095";
  d.state = s;
  d.heartbeat_ns = heartbeat;
  d.tokens = std::move(tokens);
  return d;
}

std::vector<std::string> Ids(const ReplicationSet& set) {
  std::vector<std::string> out;
  for (const InstanceDesc* d : set.instances) out.push_back(d->id);
  return out;
}

TEST(RingTest, EncodeDecodeRoundTrip) {
  InstanceDesc d = Inst("ingester-1", {3, 1000, 4000000000u}, State::kLeaving);
  d.zone = "z\"1";
  d.registered_ns = 42;
  auto back = DecodeInstance(EncodeInstance(d));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->id, d.id);
  EXPECT_EQ(back->addr, d.addr);
  EXPECT_EQ(back->zone, d.zone);
  EXPECT_EQ(back->state, State::kLeaving);
  EXPECT_EQ(back->heartbeat_ns, kNow);
  EXPECT_EQ(back->registered_ns, 42);
  EXPECT_EQ(back->tokens, d.tokens);
  for (std::string_view bad : {"", "[]", "{}", R"({"id":"a"})", R"({"id":"a","state":"NOPE"})",
                               R"({"id":"a","state":"ACTIVE","tokens":[-1]})",
                               R"({"id":"a","state":"ACTIVE","tokens":[4294967296]})"}) {
    EXPECT_EQ(DecodeInstance(bad).status().code(), StatusCode::kCorruption) << bad;
  }
}

TEST(RingTest, ReplicasAreTheNextDistinctOwnersClockwise) {
  Ring ring({Inst("a", {100, 400}), Inst("b", {200, 500}), Inst("c", {300, 600})}, kTimeout);
  auto set = ring.Get(150, Operation::kWrite, 3, kNow);
  ASSERT_TRUE(set.ok());
  EXPECT_EQ(Ids(*set), (std::vector<std::string>{"b", "c", "a"}));
  EXPECT_EQ(set->max_errors, 1);                    // quorum 2 of 3
  set = ring.Get(601, Operation::kWrite, 2, kNow);  // wraps around
  ASSERT_TRUE(set.ok());
  EXPECT_EQ(Ids(*set), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(set->max_errors, 0);
  set = ring.Get(100, Operation::kWrite, 1, kNow);  // a token owns its own value
  EXPECT_EQ(Ids(*set), std::vector<std::string>{"a"});
  set = ring.Get(150, Operation::kWrite, 5, kNow);  // rf capped at the ring's size
  EXPECT_EQ(set->instances.size(), 3u);
}

TEST(RingTest, UnhealthyInstancesAreReplacedByTheNextOwner) {
  Ring ring({Inst("a", {100}), Inst("b", {200}, State::kActive, kNow - 2 * kTimeout),
             Inst("c", {300}), Inst("d", {400}), Inst("e", {500}, State::kJoining)},
            kTimeout);
  auto set = ring.Get(150, Operation::kWrite, 3, kNow);
  ASSERT_TRUE(set.ok());
  EXPECT_EQ(Ids(*set), (std::vector<std::string>{"c", "d", "a"}));  // b stale, e joining
  // Reads accept LEAVING, writes do not.
  Ring leaving({Inst("a", {100}, State::kLeaving), Inst("b", {200})}, kTimeout);
  EXPECT_EQ(Ids(*leaving.Get(50, Operation::kRead, 1, kNow)), std::vector<std::string>{"a"});
  EXPECT_EQ(Ids(*leaving.Get(50, Operation::kWrite, 1, kNow)), std::vector<std::string>{"b"});
}

TEST(RingTest, NoQuorumIsUnavailable) {
  Ring ring(
      {Inst("a", {100}), Inst("b", {200}, State::kActive, 0), Inst("c", {300}, State::kLeaving)},
      kTimeout);
  auto set = ring.Get(150, Operation::kWrite, 3, kNow);
  EXPECT_EQ(set.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(set.status().message(), "at least 2 live replicas required, could only find 1");
  EXPECT_EQ(Ring({}, kTimeout).Get(1, Operation::kRead, 3, kNow).status().code(),
            StatusCode::kUnavailable);
}

TEST(RingTest, TokensSpreadOwnership) {
  std::vector<InstanceDesc> insts;
  std::set<uint32_t> taken;
  for (int i = 0; i < 3; i++) {
    auto t = GenerateTokens(128, taken, 1000 + i);
    ASSERT_EQ(t.size(), 128u);
    ASSERT_TRUE(std::is_sorted(t.begin(), t.end()));
    for (uint32_t x : t) EXPECT_TRUE(taken.insert(x).second);  // none reused
    insts.push_back(Inst("i" + std::to_string(i), t));
  }
  Ring ring(insts, kTimeout);
  double total = 0;
  for (double s : ring.Ownership()) {
    EXPECT_GT(s, 0.2);
    EXPECT_LT(s, 0.47);
    total += s;
  }
  EXPECT_NEAR(total, 1.0, 1e-9);
  // Keys spread over all three as primary owner.
  std::map<std::string, int> primary;
  for (uint32_t k = 0; k < 3000; k++) {
    primary[ring.Get(k * 1431655u, Operation::kWrite, 1, kNow)->instances[0]->id]++;
  }
  EXPECT_EQ(primary.size(), 3u);
  EXPECT_EQ(ring.Find("i1")->id, "i1");
  EXPECT_EQ(ring.Find("nope"), nullptr);
}

}  // namespace
}  // namespace skald::ring
