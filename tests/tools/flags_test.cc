// Tests for skald-bench's Go-style flag parser.
#include "tools/bench/flags.h"

#include <gtest/gtest.h>

namespace skald::bench {
namespace {

struct Vals {
  std::string s = "x";
  int64_t i = 1;
  int i32 = 2;
  double d = 0.5;
  bool b = false;
  int64_t dur = 0;
};

FlagSet Make(Vals* v) {
  FlagSet fs;
  fs.String("name", &v->s, "a string");
  fs.Int("lines", &v->i, "an int");
  fs.Int32("streams", &v->i32, "an int32");
  fs.Double("rate", &v->d, "a float");
  fs.Bool("flush", &v->b, "a bool");
  fs.Duration("duration", &v->dur, "a duration");
  return fs;
}

TEST(FlagSetTest, AcceptsGoAndDoubleDashFormsAndInterleavedPositionals) {
  Vals v;
  FlagSet fs = Make(&v);
  std::vector<std::string> pos;
  bool help = false;
  ASSERT_TRUE(fs.Parse({"-name=a", "http://h:1", "--lines", "12", "-streams=7", "--rate=2.5",
                        "-flush", "-duration", "1m30s"},
                       &pos, &help)
                  .ok());
  EXPECT_EQ(v.s, "a");
  EXPECT_EQ(v.i, 12);
  EXPECT_EQ(v.i32, 7);
  EXPECT_DOUBLE_EQ(v.d, 2.5);
  EXPECT_TRUE(v.b);
  EXPECT_EQ(v.dur, 90LL * 1000000000LL);
  EXPECT_EQ(pos, std::vector<std::string>{"http://h:1"});
  EXPECT_FALSE(help);
}

TEST(FlagSetTest, DurationsAcceptPrometheusFormAndBoolsExplicitFalse) {
  Vals v;
  v.b = true;
  FlagSet fs = Make(&v);
  std::vector<std::string> pos;
  ASSERT_TRUE(fs.Parse({"-duration=1d", "-flush=false"}, &pos, nullptr).ok());
  EXPECT_EQ(v.dur, 24LL * 3600 * 1000000000LL);
  EXPECT_FALSE(v.b);
}

TEST(FlagSetTest, ReportsGoStyleErrors) {
  Vals v;
  FlagSet fs = Make(&v);
  std::vector<std::string> pos;
  EXPECT_EQ(fs.Parse({"-nope=1"}, &pos, nullptr).message(), "flag provided but not defined: -nope");
  EXPECT_EQ(fs.Parse({"-lines"}, &pos, nullptr).message(), "flag needs an argument: -lines");
  EXPECT_EQ(fs.Parse({"-lines=1x"}, &pos, nullptr).message(),
            "invalid value \"1x\" for flag -lines");
  EXPECT_EQ(fs.Parse({"-duration=soon"}, &pos, nullptr).message(),
            "invalid value \"soon\" for flag -duration");
}

TEST(FlagSetTest, HelpIsReportedAndUsageListsDefaults) {
  Vals v;
  FlagSet fs = Make(&v);
  std::vector<std::string> pos;
  bool help = false;
  ASSERT_TRUE(fs.Parse({"--help"}, &pos, &help).ok());
  EXPECT_TRUE(help);
  std::string u = fs.Usage();
  EXPECT_NE(u.find("-streams int"), std::string::npos) << u;
  EXPECT_NE(u.find("(default 2)"), std::string::npos) << u;
  EXPECT_NE(u.find("(default \"x\")"), std::string::npos) << u;
}

}  // namespace
}  // namespace skald::bench
