// The memory guard end to end (docs/limits.md "Memory guard"): a whole Skald in-process, one
// tenant pushing far over its max_head_bytes_per_user while another keeps ingesting.
#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <string>

#include "core/time.h"
#include "tests/testing/in_process_skald.h"
#include "tests/testing/metrics_text.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/wait.h"

namespace skald::testing {
namespace {

class MemoryGuardTest : public ::testing::Test {
 protected:
  Status Start(const std::string& overrides, const std::vector<std::string>& extra = {}) {
    const std::string file = dir_.Sub("runtime.yaml");
    std::ofstream(file, std::ios::binary | std::ios::trunc) << overrides;
    std::vector<std::string> flags = {
        "-auth.enabled", "-runtime-config.file=" + file,
        // Only the guard's pressure passes flush during the test.
        "-ingester.flush-check-period=1h", "-distributor.ingestion-rate-limit-mb=1000",
        "-distributor.ingestion-burst-size-mb=1000", "-ingester.per-stream-rate-limit=1GB",
        "-ingester.per-stream-rate-limit-burst=1GB",
        // Heads stay uncompressed up to the block size: the lines pushed here ('x' repeated)
        // would otherwise shrink to almost nothing in memory and never reach a cap.
        "-ingester.head-block-size=0"};
    flags.insert(flags.end(), extra.begin(), extra.end());
    skald_ = std::make_unique<InProcessSkald>(dir_.Sub("data"), flags);
    return skald_->Start();
  }
  void TearDown() override {
    if (skald_) EXPECT_TRUE(skald_->Stop().ok());
  }
  // One push of `lines` lines of `size` bytes into stream {app="<stream>"}.
  http::HttpResponse Push(const std::string& tenant, int lines, size_t size,
                          const std::string& stream = "mg") {
    std::string values;
    for (int i = 0; i < lines; i++) {
      const int64_t ts = (NowNanos() / kNanosPerSecond - 60) * kNanosPerSecond + (seq_++);
      if (i > 0) values += ",";
      values += R"([")" + std::to_string(ts) + R"(",")" + std::string(size, 'x') + R"("])";
    }
    const std::string body =
        R"({"streams":[{"stream":{"app":")" + stream + R"("},"values":[)" + values + "]}]}";
    auto r = skald_->Call("POST", "/loki/api/v1/push",
                          {{"Content-Type", "application/json"}, {"X-Scope-OrgID", tenant}}, body);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : http::HttpResponse{};
  }

  TempDir dir_{"memory-guard"};
  std::unique_ptr<InProcessSkald> skald_;
  int64_t seq_ = 0;
};

TEST_F(MemoryGuardTest, ATenantFarOverItsCapGets429WhileAnotherKeepsIngesting) {
  ASSERT_TRUE(Start("overrides:\n  tenant-a:\n    max_head_bytes_per_user: 256KB\n").ok());
  // 150 KiB fits; a second 150 KiB would take tenant-a past 256 KiB: refused whole.
  EXPECT_EQ(Push("tenant-a", 150, 1024).status, 204);
  auto refused = Push("tenant-a", 150, 1024);
  EXPECT_EQ(refused.status, 429) << refused.body;
  EXPECT_NE(refused.body.find("ingester memory limit exceeded for user tenant-a (limit: 262144 "
                              "bytes, unflushed: "),
            std::string::npos)
      << refused.body;
  // tenant-b has no cap of its own and keeps being accepted, far beyond tenant-a's cap.
  for (int i = 0; i < 20; i++) ASSERT_EQ(Push("tenant-b", 150, 1024, "b").status, 204);

  const std::string m = skald_->Metrics();
  EXPECT_EQ(
      SampleValue(m, R"(loki_discarded_samples_total{reason="memory_limit",tenant="tenant-a"})"),
      150);
  EXPECT_GE(SampleValue(m, R"(loki_discarded_bytes_total{reason="memory_limit",tenant="tenant-a"})")
                .value_or(0),
            150 * 1024);
  EXPECT_EQ(SampleValue(m, R"(skald_ingester_memory_refusals_total{scope="tenant"})"), 1);
  EXPECT_EQ(SampleValue(m, R"(loki_distributor_lines_received_total{tenant="tenant-b"})"), 3000);
  EXPECT_GT(SampleValue(m, R"(skald_ingester_tenant_memory_bytes{tenant="tenant-b"})").value_or(0),
            0);

  // The refusal made the flush loop write tenant-a's data out at once (the periodic pass is an
  // hour away): the same push is accepted again shortly.
  EXPECT_TRUE(WaitFor([&] { return Push("tenant-a", 150, 1024).status == 204; }, 10000));
  // Nothing of the refused push was written: exactly the accepted lines are held or stored.
  auto stats = skald_->Call("GET",
                            "/loki/api/v1/index/stats?query=%7Bapp%3D%22mg%22%7D&start=" +
                                std::to_string(NowNanos() - 10 * kNanosPerMinute) +
                                "&end=" + std::to_string(NowNanos()),
                            {{"X-Scope-OrgID", "tenant-a"}});
  ASSERT_TRUE(stats.ok());
  EXPECT_NE(stats->body.find("\"entries\":300"), std::string::npos) << stats->body;
}

TEST_F(MemoryGuardTest, TheProcessCapAnswers503) {
  ASSERT_TRUE(Start("overrides: {}\n", {"-ingester.max-head-bytes=256KB"}).ok());
  EXPECT_EQ(Push("tenant-a", 150, 1024).status, 204);
  auto refused = Push("tenant-b", 150, 1024);
  EXPECT_EQ(refused.status, 503) << refused.body;
  EXPECT_NE(refused.body.find("ingester memory limit exceeded (limit: 262144 bytes"),
            std::string::npos)
      << refused.body;
  EXPECT_EQ(SampleValue(skald_->Metrics(), "skald_ingester_memory_limit_bytes"), 262144);
  EXPECT_TRUE(WaitFor([&] { return Push("tenant-b", 150, 1024).status == 204; }, 10000));
}

}  // namespace
}  // namespace skald::testing
