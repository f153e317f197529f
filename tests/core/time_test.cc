#include "core/time.h"

#include <gtest/gtest.h>

namespace skald {
namespace {

TEST(TimeTest, FormatRFC3339Nano) {
  EXPECT_EQ(FormatRFC3339Nano(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(FormatRFC3339Nano(1569266497240578000), "2019-09-23T19:21:37.240578Z");
  EXPECT_EQ(FormatRFC3339Nano(-1), "1969-12-31T23:59:59.999999999Z");
  EXPECT_EQ(FormatGoTime(1569266497000000000), "2019-09-23 19:21:37 +0000 UTC");
}

TEST(TimeTest, ParseRFC3339) {
  EXPECT_EQ(*ParseRFC3339("2019-09-23T19:21:37.240578Z"), 1569266497240578000);
  EXPECT_EQ(*ParseRFC3339("2019-09-23T21:21:37+02:00"), 1569266497000000000);
  EXPECT_EQ(*ParseRFC3339("2018-12-18T08:28:06.801064-04:00"), 1545136086801064000);
  EXPECT_FALSE(ParseRFC3339("2019-09-23").ok());
  EXPECT_FALSE(ParseRFC3339("2019-13-23T19:21:37Z").ok());
  EXPECT_FALSE(ParseRFC3339("2019-09-23T19:21:37").ok());
  EXPECT_FALSE(ParseRFC3339("2019-09-23T19:21:37.Z").ok());
}

TEST(TimeTest, PromDuration) {
  EXPECT_EQ(*ParsePromDuration("1h30m"), 90 * kNanosPerMinute);
  EXPECT_EQ(*ParsePromDuration("250ms"), 250 * kNanosPerMilli);
  EXPECT_EQ(*ParsePromDuration("1d"), kNanosPerDay);
  EXPECT_EQ(*ParsePromDuration("1w"), 7 * kNanosPerDay);
  EXPECT_EQ(*ParsePromDuration("0"), 0);
  EXPECT_FALSE(ParsePromDuration("1.5s").ok());
  EXPECT_FALSE(ParsePromDuration("").ok());
  EXPECT_FALSE(ParsePromDuration("5").ok());
  EXPECT_FALSE(ParsePromDuration("1m1h").ok());
  EXPECT_FALSE(ParsePromDuration("-1s").ok());
}

TEST(TimeTest, GoDuration) {
  EXPECT_EQ(*ParseGoDuration("1.5h"), 90 * kNanosPerMinute);
  EXPECT_EQ(*ParseGoDuration("300us"), 300000);
  EXPECT_EQ(*ParseGoDuration("2h45m"), 165 * kNanosPerMinute);
  EXPECT_EQ(*ParseGoDuration("-1s"), -kNanosPerSecond);
  EXPECT_EQ(*ParseGoDuration("10ns"), 10);
  EXPECT_FALSE(ParseGoDuration("1d").ok());
  EXPECT_FALSE(ParseGoDuration("abc").ok());
  EXPECT_FALSE(ParseGoDuration("").ok());
}

TEST(TimeTest, FormatGoDuration) {
  EXPECT_EQ(FormatGoDuration(0), "0s");
  EXPECT_EQ(FormatGoDuration(kNanosPerHour), "1h0m0s");
  EXPECT_EQ(FormatGoDuration(1500 * kNanosPerMilli), "1.5s");
  EXPECT_EQ(FormatGoDuration(300 * kNanosPerMilli), "300ms");
  EXPECT_EQ(FormatGoDuration(721 * kNanosPerHour), "721h0m0s");
  EXPECT_EQ(FormatGoDuration(-90 * kNanosPerSecond), "-1m30s");
}

}  // namespace
}  // namespace skald
