// RefusalLog / RefusalReport: per-tenant refused-data log lines, one per (tenant, reason) per
// interval, with the suppressed counts in the next line.
#include "distributor/refusal_log.h"

#include <gtest/gtest.h>

#include <string>

#include "core/time.h"
#include "tests/testing/captured_log.h"

namespace skald::distributor {
namespace {

using skald::testing::CapturedLog;
using skald::testing::CountOccurrences;

constexpr int64_t kInterval = 10 * kNanosPerSecond;

TEST(RefusalLogTest, OneLinePerTenantAndReasonPerInterval) {
  CapturedLog captured;
  RefusalLog log(kInterval);
  const int64_t t0 = 1000 * kNanosPerSecond;
  log.Report("a", "line_too_long", 2, 100, t0);
  log.Report("a", "line_too_long", 3, 30, t0 + 1);              // suppressed
  log.Report("a", "line_too_long", 4, 40, t0 + 2);              // suppressed
  log.Report("a", "rate_limited", 1, 10, t0 + 3);               // another reason: logged
  log.Report("b", "line_too_long", 1, 5, t0 + 4);               // another tenant: logged
  log.Report("a", "line_too_long", 5, 50, t0 + kInterval);      // the interval is over
  log.Report("a", "line_too_long", 6, 60, t0 + kInterval + 1);  // suppressed again
  const std::string text = captured.Text();
  EXPECT_EQ(CountOccurrences(text, "msg=\"refused log lines\""), 4u) << text;
  EXPECT_NE(text.find("level=warn"), std::string::npos);
  EXPECT_NE(text.find("tenant=a reason=line_too_long lines=2 bytes=100 suppressed_pushes=0 "
                      "suppressed_lines=0 suppressed_bytes=0"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("tenant=a reason=rate_limited lines=1 bytes=10 suppressed_pushes=0"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("tenant=b reason=line_too_long lines=1 bytes=5"), std::string::npos);
  EXPECT_NE(text.find("tenant=a reason=line_too_long lines=5 bytes=50 suppressed_pushes=2 "
                      "suppressed_lines=7 suppressed_bytes=70"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("lines=6"), std::string::npos) << text;
}

TEST(RefusalLogTest, TooFarBehindIsInfo) {
  CapturedLog captured;
  RefusalLog log(kInterval);
  log.Report("a", "too_far_behind", 1, 0, kNanosPerSecond);
  EXPECT_EQ(captured.Text().rfind("level=info", 0), 0u) << captured.Text();
}

TEST(RefusalReportTest, SumsAPushByReasonAndReportsWhenDestroyed) {
  CapturedLog captured;
  RefusalLog log(kInterval);
  EXPECT_EQ(RefusalReport::Current(), nullptr);
  {
    RefusalReport report(&log, "t");
    EXPECT_EQ(RefusalReport::Current(), &report);
    report.Add("line_too_long", 1, 10);
    report.Add("greater_than_max_sample_age", 2, 20);
    report.Add("line_too_long", 3, 30);
    EXPECT_TRUE(captured.Text().empty()) << "nothing logged before the push ends";
  }
  EXPECT_EQ(RefusalReport::Current(), nullptr);
  const std::string text = captured.Text();
  EXPECT_EQ(CountOccurrences(text, "msg=\"refused log lines\""), 2u) << text;
  EXPECT_NE(text.find("tenant=t reason=line_too_long lines=4 bytes=40"), std::string::npos) << text;
  EXPECT_NE(text.find("tenant=t reason=greater_than_max_sample_age lines=2 bytes=20"),
            std::string::npos)
      << text;
}

TEST(RefusalReportTest, NothingRefusedLogsNothing) {
  CapturedLog captured;
  RefusalLog log(kInterval);
  { RefusalReport report(&log, "t"); }
  EXPECT_TRUE(captured.Text().empty());
}

}  // namespace
}  // namespace skald::distributor
