// Tests for the Prometheus metrics registry and its text exposition.
#include "core/metrics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <thread>
#include <vector>

namespace skald::metrics {
namespace {

TEST(MetricsTest, ExpositionOfSmallRegistryIsExact) {
  Registry r;
  auto& requests = r.Counter("http_requests_total", "Total requests.", {"method", "code"});
  requests.WithLabels({"GET", "200"}).Inc();
  requests.WithLabels({"GET", "200"}).Inc(2);
  requests.WithLabels({"POST", "500"}).Inc();
  r.Gauge("temperature", "Current temperature.\nIn \\ degrees.").WithLabels().Set(-3.5);
  auto& h = r.Histogram("latency_seconds", "Latency.", {"route"}, {0.1, 1, 10});
  h.WithLabels({"a"}).Observe(0.05);
  h.WithLabels({"a"}).Observe(0.5);
  h.WithLabels({"a"}).Observe(0.5);
  h.WithLabels({"a"}).Observe(100);
  r.GaugeFunc("answer", "The answer.", [] { return 42.0; });

  const std::string want =
      "# HELP answer The answer.\n"
      "# TYPE answer gauge\n"
      "answer 42\n"
      "# HELP http_requests_total Total requests.\n"
      "# TYPE http_requests_total counter\n"
      "http_requests_total{code=\"200\",method=\"GET\"} 3\n"
      "http_requests_total{code=\"500\",method=\"POST\"} 1\n"
      "# HELP latency_seconds Latency.\n"
      "# TYPE latency_seconds histogram\n"
      "latency_seconds_bucket{route=\"a\",le=\"0.1\"} 1\n"
      "latency_seconds_bucket{route=\"a\",le=\"1\"} 3\n"
      "latency_seconds_bucket{route=\"a\",le=\"10\"} 3\n"
      "latency_seconds_bucket{route=\"a\",le=\"+Inf\"} 4\n"
      "latency_seconds_sum{route=\"a\"} 101.05\n"
      "latency_seconds_count{route=\"a\"} 4\n"
      "# HELP temperature Current temperature.\\nIn \\\\ degrees.\n"
      "# TYPE temperature gauge\n"
      "temperature -3.5\n";
  EXPECT_EQ(r.Expose(), want);
}

TEST(MetricsTest, LabelValuesAreEscaped) {
  Registry r;
  r.Counter("c_total", "h", {"v"}).WithLabels({"a\"b\\c\nd"}).Inc();
  EXPECT_EQ(r.Expose(),
            "# HELP c_total h\n# TYPE c_total counter\nc_total{v=\"a\\\"b\\\\c\\nd\"} 1\n");
}

TEST(MetricsTest, UnlabelledFamilyIsExportedAsZeroAndLabelledEmptyFamilyIsOmitted) {
  Registry r;
  r.Counter("plain_total", "p");
  r.Counter("labelled_total", "l", {"x"});
  EXPECT_EQ(r.Expose(), "# HELP plain_total p\n# TYPE plain_total counter\nplain_total 0\n");
}

TEST(MetricsTest, RegistrationIsIdempotentAndReferencesAreStable) {
  Registry r;
  auto& f1 = r.Counter("x_total", "x", {"a"});
  Counter& c = f1.WithLabels({"1"});
  for (int i = 0; i < 1000; i++) f1.WithLabels({std::to_string(i + 2)});
  auto& f2 = r.Counter("x_total", "x", {"a"});
  EXPECT_EQ(&f1, &f2);
  EXPECT_EQ(&c, &f2.WithLabels({"1"}));
  c.Inc(5);
  EXPECT_EQ(f2.WithLabels({"1"}).Value(), 5);
}

TEST(MetricsTest, CounterIgnoresNegativeIncrements) {
  Counter c;
  c.Inc(2);
  c.Inc(-1);
  EXPECT_EQ(c.Value(), 2);
}

TEST(MetricsTest, GaugeAddSubSet) {
  Gauge g;
  g.Add(3);
  g.Sub(1.5);
  g.Inc();
  g.Dec();
  EXPECT_EQ(g.Value(), 1.5);
  g.Set(7);
  EXPECT_EQ(g.Value(), 7);
}

TEST(MetricsTest, HistogramBucketBoundariesAreInclusive) {
  Histogram h({1, 2});
  h.Observe(1);  // le="1"
  h.Observe(2);  // le="2"
  h.Observe(std::nan(""));
  auto s = h.Snap();
  ASSERT_EQ(s.cumulative.size(), 3u);
  EXPECT_EQ(s.cumulative[0], 1u);
  EXPECT_EQ(s.cumulative[1], 2u);
  EXPECT_EQ(s.cumulative[2], 3u);
  EXPECT_EQ(s.count, 3u);
}

TEST(MetricsTest, FormatValueMatchesGo) {
  EXPECT_EQ(FormatValue(0), "0");
  EXPECT_EQ(FormatValue(1), "1");
  EXPECT_EQ(FormatValue(-2.5), "-2.5");
  EXPECT_EQ(FormatValue(0.005), "0.005");
  EXPECT_EQ(FormatValue(123456), "123456");
  EXPECT_EQ(FormatValue(1e6), "1e+06");
  EXPECT_EQ(FormatValue(1234567), "1.234567e+06");
  EXPECT_EQ(FormatValue(0.0001), "0.0001");
  EXPECT_EQ(FormatValue(0.00001), "1e-05");
  EXPECT_EQ(FormatValue(1.7e9), "1.7e+09");
  EXPECT_EQ(FormatValue(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(FormatValue(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(FormatValue(std::nan("")), "NaN");
}

TEST(MetricsTest, ConcurrentUpdatesAreNotLost) {
  Registry r;
  auto& fam = r.Counter("n_total", "n", {"t"});
  auto& hist = r.Histogram("h", "h", {}, {1});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; t++) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10000; i++) {
        fam.WithLabels({std::to_string(i % 3)}).Inc();
        hist.WithLabels().Observe(t);
      }
      (void)r.Expose();
    });
  }
  for (auto& th : threads) th.join();
  double total = 0;
  for (int i = 0; i < 3; i++) total += fam.WithLabels({std::to_string(i)}).Value();
  EXPECT_EQ(total, 40000);
  EXPECT_EQ(hist.WithLabels().Count(), 40000u);
  EXPECT_EQ(hist.WithLabels().Sum(), 10000.0 * (0 + 1 + 2 + 3));
}

TEST(MetricsTest, ProcessMetricsAreRegistered) {
  Registry r;
  RegisterProcessMetrics(&r);
  std::string text = r.Expose();
  EXPECT_NE(text.find("# TYPE process_cpu_seconds_total counter\n"), std::string::npos);
  EXPECT_NE(text.find("process_resident_memory_bytes "), std::string::npos);
  EXPECT_NE(text.find("process_open_fds "), std::string::npos);
  EXPECT_EQ(text.find("process_resident_memory_bytes 0\n"), std::string::npos);
}

TEST(MetricsDeathTest, WrongLabelCountAborts) {
  Registry r;
  auto& f = r.Counter("d_total", "d", {"a", "b"});
  EXPECT_DEATH(f.WithLabels({"only-one"}), "got 1 label values, want 2");
}

TEST(MetricsDeathTest, ReRegisteringWithOtherLabelsAborts) {
  Registry r;
  r.Counter("e_total", "e", {"a"});
  EXPECT_DEATH(r.Counter("e_total", "e", {"b"}), "registered twice");
}

}  // namespace
}  // namespace skald::metrics
