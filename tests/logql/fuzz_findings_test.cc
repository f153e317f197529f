// Regression tests for what logql_pipeline_fuzz found in the log pipeline (pipeline.h,
// labels_builder.h). Each test names the invariant the fuzz target checks and the input
// that broke it; the seed with the same input is in fuzz/corpus/logql_pipeline_fuzz/.
#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "logql/parser.h"
#include "logql/pipeline.h"

namespace skald::logql {
namespace {

struct Result {
  bool kept = false;
  std::string all, stream, metadata, parsed;
};

Result Process(const std::string& query, const Labels& stream, std::string_view line,
               const std::vector<MetadataPair>& md) {
  auto expr = ParseExpr(query);
  EXPECT_TRUE(expr.ok()) << expr.status().message();
  if (!expr.ok()) return {};
  auto p = Pipeline::Compile(*AsLogSelector(**expr));
  EXPECT_TRUE(p.ok()) << p.status().message();
  if (!p.ok()) return {};
  auto sp = (*p)->ForStream(stream);
  std::string_view out;
  Result r;
  r.kept = sp->Process(1, line, md, &out);
  if (!r.kept) return r;
  const EntryLabels& l = sp->labels();
  // Labels(...) keeps duplicate names, so a duplicate shows in the rendered text.
  r.all = ToLabels(l.all).ToString();
  r.stream = ToLabels(l.stream).ToString();
  r.metadata = ToLabels(l.structured_metadata).ToString();
  r.parsed = ToLabels(l.parsed).ToString();
  return r;
}

// Invariant: every span of EntryLabels has unique names. A structured-metadata key or a
// stream label called `__error__` came out next to the error the pipeline set. The error
// a stage sets now replaces a label of that name, as a parsed label replaces a stream or
// metadata label of its name.
TEST(PipelineFuzzFindingsTest, PipelineErrorReplacesMetadataLabelNamedError) {
  Result r = Process(R"({job="fuzz"} | json)", Labels(std::vector<Label>{{"job", "fuzz"}}),
                     "not json", {{"__error__", "x"}, {"__error_details__", "y"}, {"pod", "p"}});
  ASSERT_TRUE(r.kept);
  EXPECT_EQ(r.stream, R"({job="fuzz"})");
  EXPECT_EQ(r.metadata, R"({pod="p"})");
  EXPECT_EQ(r.parsed.rfind(R"({__error__="JSONParserErr", __error_details__=)", 0), 0u) << r.parsed;
  EXPECT_EQ(r.all.find(R"(__error__="x")"), std::string::npos) << r.all;
  EXPECT_EQ(r.all.find(R"(__error_details__="y")"), std::string::npos) << r.all;
}

TEST(PipelineFuzzFindingsTest, PipelineErrorReplacesStreamLabelNamedError) {
  Result r =
      Process(R"({job="fuzz"} | json)",
              Labels(std::vector<Label>{{"__error__", "boom"}, {"job", "fuzz"}}), "not json", {});
  ASSERT_TRUE(r.kept);
  EXPECT_EQ(r.stream, R"({job="fuzz"})");
  EXPECT_EQ(r.all.find(R"(__error__="boom")"), std::string::npos) << r.all;
  EXPECT_NE(r.all.find(R"(__error__="JSONParserErr")"), std::string::npos) << r.all;
}

// Without an error set, such labels are ordinary labels and stay where they are.
TEST(PipelineFuzzFindingsTest, LabelsNamedErrorStayWithoutAnError) {
  Result r = Process(R"({job="fuzz"} | json)",
                     Labels(std::vector<Label>{{"__error__", "boom"}, {"job", "fuzz"}}),
                     R"({"a":"b"})", {{"__error_details__", "y"}});
  ASSERT_TRUE(r.kept);
  EXPECT_EQ(r.stream, R"({__error__="boom", job="fuzz"})");
  EXPECT_EQ(r.metadata, R"({__error_details__="y"})");
  EXPECT_EQ(r.parsed, R"({a="b"})");
}

}  // namespace
}  // namespace skald::logql
