// Tests for the skald-bench corpus loader, template analysis and line generator.
#include "tools/bench/corpus.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>

namespace skald::bench {
namespace {

std::string SlotText(const Template& t, size_t i) {
  return t.text.substr(t.slots[i].begin, t.slots[i].len);
}

TEST(AnalyzeTemplateTest, FindsIpv4HexAndDigitSlots) {
  Template t = AnalyzeTemplate("user 42 from 10.0.3.77 trace=a3c9e2f1b7 ok");
  ASSERT_EQ(t.slots.size(), 3u);
  EXPECT_EQ(t.slots[0].kind, SlotKind::kDigits);
  EXPECT_EQ(SlotText(t, 0), "42");
  EXPECT_EQ(t.slots[1].kind, SlotKind::kIpv4);
  EXPECT_EQ(SlotText(t, 1), "10.0.3.77");
  EXPECT_EQ(t.slots[2].kind, SlotKind::kHex);
  EXPECT_EQ(SlotText(t, 2), "a3c9e2f1b7");
}

TEST(AnalyzeTemplateTest, WordsWithoutDigitsAndDottedRunsAreNotIdsOrIps) {
  // "deadbeef" has no digit: a word, not an id. "1.2.3.4.5" is not an IPv4 address.
  Template t = AnalyzeTemplate("deadbeef version 1.2.3.4.5 Exception");
  for (const Slot& s : t.slots) {
    EXPECT_EQ(s.kind, SlotKind::kDigits) << t.text.substr(s.begin, s.len);
  }
  EXPECT_EQ(t.slots.size(), 5u);
  // Hex run embedded in a longer word is not an id (only its digits vary).
  Template u = AnalyzeTemplate("blk_abc123def456x");
  for (const Slot& s : u.slots) EXPECT_EQ(s.kind, SlotKind::kDigits);
}

CorpusSource OneLineSource(const std::string& line) {
  CorpusSource s;
  s.name = "t";
  s.bytes = line.size();
  s.templates.push_back(AnalyzeTemplate(line));
  return s;
}

TEST(LineGeneratorTest, DeterministicPerSeedAndStream) {
  Corpus c = Corpus::BuiltIn();
  const CorpusSource* src = &c.sources()[0];
  LineGenerator a(src, 7, 3), b(src, 7, 3), other_seed(src, 8, 3), other_stream(src, 7, 4);
  std::string la, lb, lo, ls;
  int diff_seed = 0, diff_stream = 0;
  for (int i = 0; i < 200; ++i) {
    a.Next(&la);
    b.Next(&lb);
    other_seed.Next(&lo);
    other_stream.Next(&ls);
    ASSERT_EQ(la, lb) << i;
    diff_seed += la != lo;
    diff_stream += la != ls;
  }
  EXPECT_GT(diff_seed, 150);
  EXPECT_GT(diff_stream, 150);
}

TEST(LineGeneratorTest, KeepsLiteralsAndShapeButVariesValues) {
  const std::string tmpl =
      "081109 203615 INFO Receiving blk_38865049 src: /10.251.39.64:55760 id=9f4ef63a";
  CorpusSource src = OneLineSource(tmpl);
  LineGenerator g(&src, 1, 0);
  std::set<std::string> seen;
  std::string line;
  for (int i = 0; i < 100; ++i) {
    g.Next(&line);
    seen.insert(line);
    EXPECT_EQ(line.rfind("081", 0), 0u) << line;  // leading half of a digit run is kept
    EXPECT_NE(line.find(" INFO Receiving blk_3886"), std::string::npos) << line;
    EXPECT_NE(line.find(" src: /"), std::string::npos) << line;
    // The IPv4 address is replaced by a valid dotted quad.
    size_t at = line.find("src: /") + 6;
    size_t colon = line.find(':', at);
    std::string ip = line.substr(at, colon - at);
    int o[4];
    char tail;
    ASSERT_EQ(std::sscanf(ip.c_str(), "%d.%d.%d.%d%c", &o[0], &o[1], &o[2], &o[3], &tail), 4) << ip;
    for (int v : o) {
      EXPECT_GE(v, 0);
      EXPECT_LE(v, 255);
    }
    // The hex id keeps its length and stays lower-case hex.
    std::string id = line.substr(line.find("id=") + 3);
    ASSERT_EQ(id.size(), 8u);
    for (char ch : id)
      EXPECT_TRUE(std::isdigit(static_cast<unsigned char>(ch)) || (ch >= 'a' && ch <= 'f')) << id;
  }
  EXPECT_GT(seen.size(), 95u);  // not verbatim repeats
}

TEST(LineGeneratorTest, CyclesThroughAllTemplatesOfTheSource) {
  CorpusSource src;
  for (const char* l : {"alpha", "beta", "gamma"}) src.templates.push_back(AnalyzeTemplate(l));
  LineGenerator g(&src, 1, 5);
  std::multiset<std::string> seen;
  std::string line;
  for (int i = 0; i < 9; ++i) {
    g.Next(&line);
    seen.insert(line);
  }
  EXPECT_EQ(seen.count("alpha"), 3u);
  EXPECT_EQ(seen.count("beta"), 3u);
  EXPECT_EQ(seen.count("gamma"), 3u);
}

TEST(CorpusTest, LoadDirReadsOnlyLogFilesSortedSkippingBlankLines) {
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / ("skald_bench_corpus_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::ofstream(dir / "b.log") << "b1\r\n\nb2\n";
  std::ofstream(dir / "a.log") << "a1\n";
  std::ofstream(dir / "notes.txt") << "ignored\n";
  std::ofstream(dir / "empty.log") << "\n\n";
  StatusOr<Corpus> c = Corpus::LoadDir(dir.string());
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_EQ(c->sources().size(), 2u);
  EXPECT_EQ(c->sources()[0].name, "a");
  EXPECT_EQ(c->sources()[1].name, "b");
  ASSERT_EQ(c->sources()[1].templates.size(), 2u);
  EXPECT_EQ(c->sources()[1].templates[0].text, "b1");
  EXPECT_EQ(c->TotalLines(), 3u);
  EXPECT_EQ(c->TotalBytes(), 6u);
  fs::remove_all(dir);
  EXPECT_EQ(Corpus::LoadDir(dir.string()).status().code(), StatusCode::kNotFound);
}

TEST(CorpusTest, BuiltInHasTheDefaultQueryLiterals) {
  Corpus c = Corpus::BuiltIn();
  bool rare = false, common = false, err = false;
  for (const auto& t : c.sources()[0].templates) {
    rare |= t.text.find("Connection reset") != std::string::npos;
    common |= t.text.find("INFO") != std::string::npos;
    err |= t.text.find("error") != std::string::npos;
  }
  EXPECT_TRUE(rare && common && err);
}

TEST(CorpusTest, FindsRepositoryLoghub) {
  // The test runs inside the build tree of the repository, which has testdata/loghub.
  std::string dir = FindDefaultCorpusDir(nullptr);
  if (!std::filesystem::exists(std::string(SKALD_SOURCE_DIR) + "/testdata/loghub")) GTEST_SKIP();
  ASSERT_FALSE(dir.empty());
  EXPECT_TRUE(std::filesystem::equivalent(dir, std::string(SKALD_SOURCE_DIR) + "/testdata/loghub"));
}

}  // namespace
}  // namespace skald::bench
