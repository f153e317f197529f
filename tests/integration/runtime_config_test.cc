// Per-tenant overrides from the runtime config file (-runtime-config.file), reloaded live:
// a whole Skald in-process, the file rewritten under it.
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

void WriteFile(const std::string& path, const std::string& text) {
  // Write a sibling and rename it in, so the reload never reads half a file.
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
  }
  ASSERT_EQ(std::rename(tmp.c_str(), path.c_str()), 0);
}

class RuntimeConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    file_ = dir_.Sub("runtime.yaml");
    WriteFile(file_, "overrides:\n  tenant-a:\n    max_line_size: 100B\n");
  }
  void TearDown() override {
    if (skald_) EXPECT_TRUE(skald_->Stop().ok());
  }
  Status Start(const std::vector<std::string>& extra = {}) {
    std::vector<std::string> flags = {"-auth.enabled", "-runtime-config.file=" + file_,
                                      "-runtime-config.reload-period=100ms"};
    flags.insert(flags.end(), extra.begin(), extra.end());
    skald_ = std::make_unique<InProcessSkald>(dir_.Sub("data"), flags);
    return skald_->Start();
  }
  http::HttpResponse Push(const std::string& tenant, size_t line_size) {
    const int64_t ts = (NowNanos() / kNanosPerSecond - 60) * kNanosPerSecond + (seq_++);
    std::string body = R"({"streams":[{"stream":{"app":"rt"},"values":[[")" + std::to_string(ts) +
                       R"(",")" + std::string(line_size, 'x') + R"("]]}]})";
    auto r = skald_->Call("POST", "/loki/api/v1/push",
                          {{"Content-Type", "application/json"}, {"X-Scope-OrgID", tenant}}, body);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : http::HttpResponse{};
  }
  std::string Get(const std::string& target) {
    auto r = skald_->Call("GET", target);
    EXPECT_TRUE(r.ok());
    if (!r.ok()) return "";
    EXPECT_EQ(r->status, 200);
    return r->body;
  }
  double ReloadGauge() {
    return SampleValue(skald_->Metrics(),
                       "loki_runtime_config_last_reload_successful{config=\"loki\"}")
        .value_or(-1);
  }

  TempDir dir_{"runtime-config"};
  std::string file_;
  std::unique_ptr<InProcessSkald> skald_;
  int seq_ = 0;
};

TEST_F(RuntimeConfigTest, OverridesApplyPerTenantAndReloadLive) {
  ASSERT_TRUE(Start().ok());
  EXPECT_EQ(ReloadGauge(), 1);

  // tenant-a's max_line_size is 100 bytes; tenant-b keeps the default (256KB).
  auto a = Push("tenant-a", 200);
  EXPECT_EQ(a.status, 400);
  EXPECT_NE(a.body.find("max entry size '100' bytes exceeded for stream '{app=\"rt\", "
                        "service_name=\"rt\"}' while adding an entry with length '200' bytes"),
            std::string::npos)
      << a.body;
  EXPECT_EQ(Push("tenant-b", 200).status, 204);

  // /runtime_config: every limit of tenant-a; ?mode=diff only what differs.
  const std::string full = Get("/runtime_config");
  EXPECT_NE(full.find("overrides:\n  tenant-a:\n"), std::string::npos) << full;
  EXPECT_NE(full.find("    max_line_size: 100B\n"), std::string::npos) << full;
  EXPECT_NE(full.find("    ingestion_rate_mb: 4\n"), std::string::npos) << full;
  EXPECT_EQ(Get("/runtime_config?mode=diff"), "overrides:\n  tenant-a:\n    max_line_size: 100B\n");

  // Raise the limit: accepted once the loader has picked the file up.
  WriteFile(file_,
            "overrides:\n  tenant-a:\n    max_line_size: 1KB\n  tenant-b:\n"
            "    reject_old_samples: false\n");
  EXPECT_TRUE(WaitFor([&] { return Push("tenant-a", 200).status == 204; }, 10000));
  EXPECT_EQ(Get("/runtime_config?mode=diff"),
            "overrides:\n  tenant-a:\n    max_line_size: 1KB\n  tenant-b:\n"
            "    reject_old_samples: false\n");

  // Break the file: the last good overrides stay, the gauge says 0.
  WriteFile(file_, "overrides:\n  tenant-a:\n    max_line_size: lots\n");
  EXPECT_TRUE(WaitFor([&] { return ReloadGauge() == 0; }, 10000));
  EXPECT_EQ(Push("tenant-a", 200).status, 204);
  auto too_big = Push("tenant-a", 2000);
  EXPECT_EQ(too_big.status, 400);
  EXPECT_NE(too_big.body.find("max entry size '1024' bytes exceeded"), std::string::npos)
      << too_big.body;

  // Fixed again: the gauge recovers; an empty overrides map gives everyone the defaults.
  WriteFile(file_, "overrides:\n");
  EXPECT_TRUE(WaitFor([&] { return ReloadGauge() == 1; }, 10000));
  EXPECT_EQ(Get("/runtime_config?mode=diff"), "overrides: {}\n");
  EXPECT_EQ(Push("tenant-a", 2000).status, 204);
}

TEST_F(RuntimeConfigTest, BadFileAtStartIsAStartupError) {
  WriteFile(file_, "overrides:\n  tenant-a:\n    no_such_limit: 1\n");
  Status st = Start();
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("invalid override for tenant tenant-a: unknown config key "
                              "\"overrides.tenant-a.no_such_limit\""),
            std::string::npos)
      << st.ToString();
  skald_.reset();
}

TEST_F(RuntimeConfigTest, MissingFileAtStartIsAStartupError) {
  file_ = dir_.Sub("absent.yaml");
  EXPECT_FALSE(Start().ok());
  skald_.reset();
}

}  // namespace
}  // namespace skald::testing
