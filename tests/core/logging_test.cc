// Tests for logfmt logging.
#include "core/logging.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>
#include <thread>
#include <vector>

namespace skald::log {
namespace {

TEST(LoggingTest, FormatLineHasLokiFieldOrder) {
  std::string line = FormatLine(Level::kInfo, 1704164645123000000, "main.cc:12", "Starting Skald",
                                {{"version", "0.1.0"}, {"port", "3100"}});
  EXPECT_EQ(line,
            "level=info ts=2024-01-02T03:04:05.123Z caller=main.cc:12 msg=\"Starting Skald\" "
            "version=0.1.0 port=3100\n");
}

TEST(LoggingTest, ValuesAreQuotedOnlyWhenNeeded) {
  auto v = [](std::string_view s) {
    std::string out;
    AppendLogfmtValue(&out, s);
    return out;
  };
  EXPECT_EQ(v("plain"), "plain");
  EXPECT_EQ(v(""), "");
  EXPECT_EQ(v("a b"), "\"a b\"");
  EXPECT_EQ(v("k=v"), "\"k=v\"");
  EXPECT_EQ(v("say \"hi\""), "\"say \\\"hi\\\"\"");
  EXPECT_EQ(v("back\\slash"), "back\\slash");  // no quoting needed, so no escaping
  EXPECT_EQ(v("a\\b c"), "\"a\\\\b c\"");
  EXPECT_EQ(v("line1\nline2\t\r"), "\"line1\\nline2\\t\\r\"");
  EXPECT_EQ(v(std::string("nul\x01", 4)), "\"nul\\u0001\"");
  EXPECT_EQ(v("caf\xc3\xa9"), "caf\xc3\xa9");
  EXPECT_EQ(v("bad\xff"), "\"bad\\ufffd\"");
}

TEST(LoggingTest, ParseLevel) {
  Level l = Level::kError;
  EXPECT_TRUE(ParseLevel("debug", &l));
  EXPECT_EQ(l, Level::kDebug);
  EXPECT_TRUE(ParseLevel("warn", &l));
  EXPECT_EQ(l, Level::kWarn);
  EXPECT_TRUE(ParseLevel("info", &l));
  EXPECT_EQ(l, Level::kInfo);
  EXPECT_TRUE(ParseLevel("error", &l));
  EXPECT_EQ(l, Level::kError);
  EXPECT_FALSE(ParseLevel("verbose", &l));
  EXPECT_EQ(l, Level::kError);
}

std::string ReadAll(int fd) {
  std::string out;
  char buf[4096];
  lseek(fd, 0, SEEK_SET);
  ssize_t n;
  while ((n = read(fd, buf, sizeof(buf))) > 0) out.append(buf, static_cast<size_t>(n));
  return out;
}

TEST(LoggingTest, LevelFilterAndCallerAndConcurrentLinesDoNotInterleave) {
  char path[] = "/tmp/skald_log_test_XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  unlink(path);
  SetOutputFd(fd);
  SetLevel(Level::kWarn);
  Info("dropped");
  Warn("kept", {{"k", "v"}});
  int line = __LINE__ - 1;
  SetLevel(Level::kInfo);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; t++) {
    threads.emplace_back([t] {
      for (int i = 0; i < 200; i++) {
        Info("concurrent line with some padding to make it longer",
             {{"thread", std::to_string(t)}, {"i", std::to_string(i)}});
      }
    });
  }
  for (auto& th : threads) th.join();
  SetOutputFd(2);
  std::string out = ReadAll(fd);
  close(fd);
  EXPECT_EQ(out.find("dropped"), std::string::npos);
  std::string first = out.substr(0, out.find('\n'));
  EXPECT_EQ(first.rfind("level=warn ts=", 0), 0u) << first;
  EXPECT_NE(first.find(" caller=logging_test.cc:" + std::to_string(line) + " msg=kept k=v"),
            std::string::npos)
      << first;
  size_t lines = 0, start = first.size() + 1;
  while (start < out.size()) {
    size_t nl = out.find('\n', start);
    ASSERT_NE(nl, std::string::npos);
    std::string l = out.substr(start, nl - start);
    EXPECT_EQ(l.rfind("level=info ts=", 0), 0u) << l;
    EXPECT_NE(l.find("msg=\"concurrent line with some padding to make it longer\" thread="),
              std::string::npos)
        << l;
    lines++;
    start = nl + 1;
  }
  EXPECT_EQ(lines, 800u);
}

}  // namespace
}  // namespace skald::log
