// /metrics against the real `promtool check metrics` (Debian's prometheus package, installed
// by `make deps`), and the Loki metric names Grafana's Loki mixin dashboards query.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/time.h"
#include "tests/testing/in_process_skald.h"
#include "tests/testing/metrics_text.h"
#include "tests/testing/temp_dir.h"

namespace skald::testing {
namespace {

// The first executable `promtool` on $PATH; "" when there is none.
std::string FindPromtool() {
  const char* path = std::getenv("PATH");
  std::string dirs = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin";
  size_t begin = 0;
  while (begin <= dirs.size()) {
    size_t end = dirs.find(':', begin);
    if (end == std::string::npos) end = dirs.size();
    std::filesystem::path candidate = std::filesystem::path(dirs.substr(begin, end - begin));
    candidate /= "promtool";
    std::error_code ec;
    if (end > begin && std::filesystem::is_regular_file(candidate, ec) &&
        access(candidate.c_str(), X_OK) == 0) {
      return candidate.string();
    }
    begin = end + 1;
  }
  return "";
}

struct RunResult {
  int exit_status = -1;
  std::vector<std::string> lines;  // stdout and stderr
};

// Runs `command` with a shell, collecting its output lines (stderr included).
RunResult RunCommand(const std::string& command) {
  RunResult r;
  std::string cmd = command;
  cmd.append(" 2>&1");
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
  int status = pclose(p);
  r.exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  size_t begin = 0;
  while (begin < out.size()) {
    size_t end = out.find('\n', begin);
    if (end == std::string::npos) end = out.size();
    if (end > begin) r.lines.push_back(out.substr(begin, end - begin));
    begin = end + 1;
  }
  return r;
}

class MetricsPromtoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    skald_ = std::make_unique<InProcessSkald>(dir_.Sub("data"));
    Status st = skald_->Start();
    ASSERT_TRUE(st.ok()) << st.ToString();
    base_ = (NowNanos() / kNanosPerSecond - 600) * kNanosPerSecond;
  }
  void TearDown() override {
    if (skald_) {
      Status st = skald_->Stop();
      EXPECT_TRUE(st.ok()) << st.ToString();
    }
  }

  int Code(const std::string& method, const std::string& target, const std::string& body = "") {
    auto r = skald_->Call(method, target, {{"Content-Type", "application/json"}}, body);
    EXPECT_TRUE(r.ok()) << target;
    return r.ok() ? r->status : 0;
  }

  // Pushes, queries, an unknown path, a rejected line and a flush: most families get samples.
  void Exercise() {
    std::string push = R"({"streams":[{"stream":{"app":"web","env":"prod"},"values":[[")";
    push.append(std::to_string(base_)).append(R"(","GET /index.html 200"],[")");
    push.append(std::to_string(base_ + kNanosPerSecond)).append(R"(","level=error msg=boom"]]},)");
    push.append(R"({"stream":{"app":"db"},"values":[[")");
    push.append(std::to_string(base_)).append(R"(","select 1"]]}]})");
    EXPECT_EQ(Code("POST", "/loki/api/v1/push", push), 204);
    std::string old = R"({"streams":[{"stream":{"app":"web","env":"prod"},"values":[["1","x"]]}]})";
    EXPECT_EQ(Code("POST", "/loki/api/v1/push", old), 400);  // older than a week: discarded
    const std::string range = "&start=" + std::to_string(base_ - kNanosPerSecond) +
                              "&end=" + std::to_string(base_ + 10 * kNanosPerSecond);
    EXPECT_EQ(Code("GET", "/loki/api/v1/query_range?query=%7Bapp%3D%22web%22%7D" + range), 200);
    EXPECT_EQ(Code("GET", "/loki/api/v1/labels"), 200);
    EXPECT_EQ(Code("GET", "/no/such/path"), 404);
    EXPECT_EQ(Code("POST", "/flush"), 204);
  }

  TempDir dir_;
  std::unique_ptr<InProcessSkald> skald_;
  int64_t base_ = 0;
};

TEST_F(MetricsPromtoolTest, PromtoolCheckMetricsReportsNothing) {
  const std::string promtool = FindPromtool();
  ASSERT_FALSE(promtool.empty())
      << "promtool not found on PATH: run `make deps` (installs Debian's prometheus package, "
         "which ships promtool)";
  Exercise();
  const std::string metrics = skald_->Metrics();
  ASSERT_FALSE(metrics.empty());
  const std::string file = dir_.Sub("metrics.txt");
  {
    std::ofstream out(file, std::ios::binary);
    out << metrics;
    ASSERT_TRUE(out.good());
  }
  std::string cmd = promtool;
  cmd.append(" check metrics < ").append(file);
  RunResult r = RunCommand(cmd);
  std::string report;
  for (const auto& l : r.lines) report.append(l).append("\n");
  EXPECT_EQ(r.exit_status, 0) << report;
  EXPECT_TRUE(r.lines.empty()) << report;
}

// The names, types and labels the Loki mixin dashboards and alerts query.
TEST_F(MetricsPromtoolTest, LokiNamesTheMixinQueries) {
  Exercise();
  const std::string m = skald_->Metrics();
  for (const char* line : {
           "# TYPE loki_build_info gauge",
           "# TYPE loki_request_duration_seconds histogram",
           "# TYPE loki_inflight_requests gauge",
           "# TYPE loki_request_message_bytes histogram",
           "# TYPE loki_response_message_bytes histogram",
           "# TYPE loki_tcp_connections gauge",
           "# TYPE loki_ingester_chunks_flushed_total counter",
           "# TYPE loki_ingester_chunk_size_bytes histogram",
           "# TYPE loki_ingester_memory_chunks gauge",
           "# TYPE loki_ingester_memory_streams gauge",
           "# TYPE loki_ingester_streams_created_total counter",
           "# TYPE loki_ingester_wal_records_logged_total counter",
           "# TYPE loki_ingester_wal_replay_duration_seconds gauge",
           "# TYPE loki_distributor_bytes_received_total counter",
           "# TYPE loki_distributor_lines_received_total counter",
           "# TYPE loki_discarded_samples_total counter",
       }) {
    EXPECT_TRUE(HasLine(m, line)) << line << "\n" << m.substr(0, 4000);
  }
  EXPECT_EQ(SampleValue(m, R"(loki_request_duration_seconds_count{method="POST",)"
                           R"(route="loki_api_v1_push",status_code="204",ws="false"})"),
            1);
  EXPECT_EQ(SampleValue(m, R"(loki_ingester_chunks_flushed_total{reason="forced"})"), 2);
  EXPECT_EQ(SampleValue(m, R"(loki_ingester_streams_created_total{tenant="fake"})"), 2);
  EXPECT_EQ(SampleValue(m, "loki_ingester_memory_chunks"), 0);
  EXPECT_EQ(SampleValue(m, R"(loki_ingester_memory_streams{tenant="fake"})"), 0);
  EXPECT_GE(SampleValue(m, "loki_ingester_wal_records_logged_total").value_or(0), 2);
  // No skald_ name for what Loki has a name for.
  for (const char* gone : {"skald_request_duration_seconds", "skald_ingester_chunks_flushed_total",
                           "skald_wal_records_total", "skald_wal_replay_duration_seconds"}) {
    EXPECT_EQ(m.find(gone), std::string::npos) << gone;
  }
}

}  // namespace
}  // namespace skald::testing
