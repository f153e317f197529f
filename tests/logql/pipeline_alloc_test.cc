// The pipeline's hot-path promise: once its buffers have grown, running entries through a
// StreamPipeline / StreamSampleExtractor allocates nothing. This binary counts calls to the
// global operator new (tests/testing/alloc_counter.h) while processing entries (after a warm-up
// pass over the same entries) and expects none. Counting, not timing: deterministic.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <string>
#include <vector>

#include "logql/parser.h"
#include "logql/pipeline.h"
#include "tests/testing/alloc_counter.h"

namespace skald::logql {
namespace {

const std::vector<std::string>& Lines() {
  static const std::vector<std::string> lines = {
      R"(level=info status=200 path=/api/v1/push took=12ms size=1KiB msg="pushed entries")",
      R"(level=error status=503 path=/api/v1/query took=1.5s size=20KiB msg="query failed")",
      R"({"level":"error","status":500,"req":{"path":"/x","ua":"curl"},"took":"3ms"})",
      "\x1b[31mlevel=warn\x1b[0m status=404 path=/missing",
      "plain text without pairs 10.1.2.3",
  };
  return lines;
}

long CountPipelineAllocations(const std::string& query) {
  auto expr = ParseExpr(query);
  EXPECT_TRUE(expr.ok()) << query << ": " << expr.status().message();
  auto p = Pipeline::Compile(*AsLogSelector(**expr));
  EXPECT_TRUE(p.ok()) << p.status().message();
  auto labels = ParseLabels(R"({app="api", env="prod", level="x"})");
  auto sp = (*p)->ForStream(*labels);
  const MetadataPair md[] = {{"trace_id", "abc"}, {"level", "meta"}};
  std::string_view out;
  size_t sink = 0;
  long allocations = 0;
  for (int round = 0; round < 3; round++) {
    if (round == 2) skald::testing::AllocCounter::Start();
    for (const std::string& line : Lines()) {
      if (sp->Process(1, line, md, &out)) sink += out.size() + sp->labels().all.size();
    }
    if (round == 2) allocations = static_cast<long>(skald::testing::AllocCounter::Stop());
  }
  EXPECT_GT(sink + 1, 0u);
  return allocations;
}

long CountExtractorAllocations(const std::string& query) {
  auto expr = ParseExpr(query);
  EXPECT_TRUE(expr.ok()) << query << ": " << expr.status().message();
  auto ex = SampleExtractor::Compile(static_cast<const RangeAggregationExpr&>(**expr));
  EXPECT_TRUE(ex.ok()) << ex.status().message();
  auto labels = ParseLabels(R"({app="api", env="prod"})");
  auto s = (*ex)->ForStream(*labels);
  double v = 0;
  double sum = 0;
  long allocations = 0;
  for (int round = 0; round < 3; round++) {
    if (round == 2) skald::testing::AllocCounter::Start();
    for (const std::string& line : Lines()) {
      if (s->Process(1, line, {}, &v)) sum += v + static_cast<double>(s->labels().all.size());
    }
    if (round == 2) allocations = static_cast<long>(skald::testing::AllocCounter::Stop());
  }
  EXPECT_GE(sum, 0);
  return allocations;
}

TEST(PipelineAllocationTest, TheCounterSeesAllocations) {
  skald::testing::AllocCounter::Start();
  std::string* volatile s = new std::string(100, 'x');
  const size_t n = skald::testing::AllocCounter::Stop();
  delete s;
  EXPECT_GE(n, 1u);
}

TEST(PipelineAllocationTest, ProcessAllocatesNothingOnceWarm) {
  for (const char* q : {
           R"({app="api"} |= "status")",
           R"({app="api"} |= ip("10.0.0.0/8"))",
           R"({app="api"} | logfmt | status >= 500)",
           R"({app="api"} | logfmt | took > 1s or size > 10KB)",
           R"({app="api"} | logfmt | level="error" | drop path | keep status, level)",
           R"({app="api"} | decolorize | logfmt | status != 404)",
           R"({app="api"} | logfmt | label_format p=path)",
           R"({app="api"} | logfmt | line_format "{{.status}} {{.path}}")",
           R"({app="api"} | logfmt | label_format sp="{{.status}}-{{.path}}")",
           R"({app="api"} | json | level="error" | line_format "{{.level}}: {{.msg}}")",
       }) {
    EXPECT_EQ(CountPipelineAllocations(q), 0) << q;
  }
}

TEST(PipelineAllocationTest, SampleExtractionAllocatesNothingOnceWarm) {
  for (const char* q : {
           R"(count_over_time({app="api"}[1m]))",
           R"(bytes_over_time({app="api"} |= "level" [1m]))",
           R"(sum_over_time({app="api"} | logfmt | unwrap duration(took) | __error__="" [1m]))",
           R"(max_over_time({app="api"} | logfmt | unwrap bytes(size) [1m]))",
       }) {
    EXPECT_EQ(CountExtractorAllocations(q), 0) << q;
  }
}

}  // namespace
}  // namespace skald::logql
