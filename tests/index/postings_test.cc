// Sorted postings set operations.
#include "index/postings.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>

namespace skald::index {
namespace {

TEST(PostingsTest, IntersectSubtractUnionBasics) {
  Postings a{1, 3, 5, 7, 9};
  Postings b{2, 3, 4, 9, 10};
  EXPECT_EQ(Intersect(a, b), (Postings{3, 9}));
  EXPECT_EQ(Subtract(a, b), (Postings{1, 5, 7}));
  EXPECT_EQ(Union({a, b}), (Postings{1, 2, 3, 4, 5, 7, 9, 10}));
  EXPECT_EQ(Intersect(a, {}), Postings{});
  EXPECT_EQ(Subtract(a, {}), a);
  EXPECT_EQ(Subtract({}, a), Postings{});
  EXPECT_EQ(Union({}), Postings{});
  EXPECT_EQ(Union({{}, a, {}}), a);
}

TEST(PostingsTest, RandomAgainstStdSet) {
  std::mt19937_64 rng(42);
  for (int iter = 0; iter < 200; ++iter) {
    // Sizes chosen to hit both the linear and the galloping intersection.
    auto make = [&](size_t n, uint64_t range) {
      std::set<uint64_t> s;
      while (s.size() < n) s.insert(rng() % range);
      return Postings(s.begin(), s.end());
    };
    Postings a = make(rng() % 50, 1000);
    Postings b = make(rng() % 2 ? rng() % 1000 : rng() % 20, 1000);
    Postings c = make(rng() % 30, 1000);
    Postings want_i, want_s;
    std::set_intersection(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(want_i));
    std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(want_s));
    std::set<uint64_t> u(a.begin(), a.end());
    u.insert(b.begin(), b.end());
    u.insert(c.begin(), c.end());
    EXPECT_EQ(Intersect(a, b), want_i);
    EXPECT_EQ(Intersect(b, a), want_i);
    EXPECT_EQ(Subtract(a, b), want_s);
    EXPECT_EQ(Union({a, b, c}), Postings(u.begin(), u.end()));
  }
}

}  // namespace
}  // namespace skald::index
