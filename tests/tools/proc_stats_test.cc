// Tests for skald-bench's /proc readers and the CPU/RSS arithmetic behind
// "MB/s per server core".
#include "tools/bench/proc_stats.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <string>

namespace skald::bench {
namespace {

TEST(ProcStatTest, CpuSecondsAreUtimePlusStimeCountedAfterTheLastParenthesis) {
  // Field 2 (comm) may hold spaces and parentheses; utime/stime are fields 14/15.
  const std::string stat =
      "4242 (my (odd) server) S 1 4242 4242 0 -1 4194560 1000 0 0 0 250 130 0 0 20 0 9 0 "
      "100 1000000 5000 18446744073709551615";
  StatusOr<double> cpu = ParseProcStatCpuSeconds(stat, 100);
  ASSERT_TRUE(cpu.ok()) << cpu.status().ToString();
  EXPECT_DOUBLE_EQ(*cpu, 3.8);  // (250 + 130) ticks / 100 Hz
  EXPECT_DOUBLE_EQ(*ParseProcStatCpuSeconds(stat, 1000), 0.38);
  EXPECT_EQ(ParseProcStatCpuSeconds("4242 no parenthesis", 100).status().code(),
            StatusCode::kCorruption);
  EXPECT_EQ(ParseProcStatCpuSeconds("1 (x) S 1 2 3", 100).status().code(), StatusCode::kCorruption);
  EXPECT_EQ(ParseProcStatCpuSeconds("1 (x) S 1 1 1 0 -1 0 0 0 0 0 abc 5 0", 100).status().code(),
            StatusCode::kCorruption);
}

TEST(ProcStatTest, StatmResidentIsTheSecondFieldInPages) {
  EXPECT_EQ(*ParseStatmResidentKb("52341 20480 1024 100 0 30000 0\n", 4096), 81920);
  EXPECT_EQ(*ParseStatmResidentKb("1 3 0 0 0 0 0", 16384), 48);
  EXPECT_EQ(ParseStatmResidentKb("", 4096).status().code(), StatusCode::kCorruption);
  EXPECT_EQ(ParseStatmResidentKb("12 x", 4096).status().code(), StatusCode::kCorruption);
}

TEST(CpuAccountingTest, MegabytesPerCpuSecondAndDeltas) {
  ProcSample before, after;
  before.cpu_seconds = 10.25;
  after.cpu_seconds = 12.75;
  EXPECT_DOUBLE_EQ(CpuSecondsBetween(before, after), 2.5);
  EXPECT_DOUBLE_EQ(CpuSecondsBetween(after, before), 0);  // never negative
  // 2 GB read with 2.5 CPU seconds: 800 MB per CPU second, i.e. per fully used core.
  EXPECT_DOUBLE_EQ(MbPerCpuSecond(2000000000ULL, 2.5), 800);
  EXPECT_DOUBLE_EQ(MbPerCpuSecond(1000000, 0.01), 100);
  EXPECT_DOUBLE_EQ(MbPerCpuSecond(1000000, 0), 0);  // under one tick: no figure
  EXPECT_DOUBLE_EQ(MbPerCpuSecond(0, 1), 0);
}

TEST(ProcStatTest, SamplesThisProcess) {
  StatusOr<ProcSample> s = SampleProc(static_cast<int>(::getpid()));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_GT(s->vm_rss_kb, 0);
  EXPECT_GE(s->vm_hwm_kb, s->vm_rss_kb);
  StatusOr<int64_t> rss = ReadRssKb(static_cast<int>(::getpid()));
  ASSERT_TRUE(rss.ok());
  EXPECT_GT(*rss, 0);
  EXPECT_EQ(SampleProc(0).status().code(), StatusCode::kNotFound);
}

TEST(RssSamplerTest, KeepsTheLargestSampleUntilStopped) {
  RssSampler s(static_cast<int>(::getpid()), 1);
  int64_t kb = s.Stop();
  EXPECT_GT(kb, 0);
  EXPECT_GE(s.samples(), 2);  // the first sample and the last one
  EXPECT_EQ(s.Stop(), kb);    // idempotent
  RssSampler none(0);
  EXPECT_EQ(none.Stop(), 0);
}

}  // namespace
}  // namespace skald::bench
