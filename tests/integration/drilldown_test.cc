// Logs Drilldown's detected_labels, detected_fields and detected_field/<name>/values over a
// whole in-process Skald. The dataset and every request below were also sent to Loki 3.7.6
// (discover_log_levels on, service-name discovery off); Skald's answers equal Loki's up to the
// order of fields, labels and values (Go map order, random in Loki) and are pinned here as
// Skald orders them (first seen; labels by name).
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "core/time.h"
#include "tests/testing/in_process_skald.h"
#include "tests/testing/temp_dir.h"

namespace skald {
namespace {

using testing::InProcessSkald;

struct Case {
  const char* target;  // after /loki/api/v1/
  int status;
  const char* body;  // without the trailing newline
};

const Case
    kCases
        [] =
            {
                {"detected_labels?query=%7Bcluster%3D~%22.%2B%22%7D", 200,
                 R"({"detectedLabels":[{"label":"app","cardinality":3},{"label":"cluster","cardinality":2},{"label":"flag","cardinality":1},{"label":"namespace","cardinality":2},{"label":"pod","cardinality":5}]})"},
                {"detected_labels?query=%7Bapp%3D%22web%22%7D", 200,
                 R"({"detectedLabels":[{"label":"app","cardinality":1},{"label":"cluster","cardinality":1},{"label":"namespace","cardinality":1},{"label":"pod","cardinality":2}]})"},
                {"detected_labels?query=%7Bapp%3D%22api%22%7D%20%7C%20json", 400,
                 R"(only label matchers are supported)"},
                {"detected_labels?query=%7Bapp%3D%22nope%22%7D", 200, R"({})"},
                {"detected_fields?query=%7Bcluster%3D~%22.%2B%22%7D", 200,
                 R"({"fields":[{"label":"trace_id","type":"string","cardinality":1,"parsers":null},{"label":"n","type":"int","cardinality":1,"parsers":null},{"label":"detected_level","type":"string","cardinality":5,"parsers":null},{"label":"level","type":"string","cardinality":4,"parsers":["json","logfmt"],"jsonPath":["level"]},{"label":"status","type":"int","cardinality":4,"parsers":["json","logfmt"],"jsonPath":["status"]},{"label":"msg","type":"string","cardinality":1,"parsers":["json"],"jsonPath":["msg"]},{"label":"latency","type":"duration","cardinality":2,"parsers":["json"],"jsonPath":["latency"]},{"label":"size","type":"bytes","cardinality":2,"parsers":["json"],"jsonPath":["size"]},{"label":"ok","type":"boolean","cardinality":2,"parsers":["json"],"jsonPath":["ok"]},{"label":"user_id","type":"int","cardinality":2,"parsers":["json"],"jsonPath":["user","id"]},{"label":"user_name","type":"string","cardinality":2,"parsers":["json"],"jsonPath":["user","name"]},{"label":"ratio","type":"float","cardinality":2,"parsers":["json"],"jsonPath":["ratio"]},{"label":"path","type":"string","cardinality":2,"parsers":["json"],"jsonPath":["path"]},{"label":"method","type":"string","cardinality":2,"parsers":["logfmt"]},{"label":"dur","type":"duration","cardinality":2,"parsers":["logfmt"]},{"label":"bytes","type":"bytes","cardinality":2,"parsers":["logfmt"]},{"label":"flag","type":"boolean","cardinality":1,"parsers":["logfmt"]},{"label":"ts","type":"int","cardinality":1,"parsers":["logfmt"]},{"label":"x","type":"string","cardinality":1,"parsers":["logfmt"]}],"limit":1000})"},
                {"detected_fields?query=%7Bapp%3D%22api%22%7D%20%7C%20json", 200,
                 R"({"fields":[{"label":"detected_level","type":"string","cardinality":3,"parsers":null},{"label":"n","type":"int","cardinality":1,"parsers":null},{"label":"trace_id","type":"string","cardinality":1,"parsers":null},{"label":"level","type":"string","cardinality":3,"parsers":["json"],"jsonPath":["level"]},{"label":"msg","type":"string","cardinality":1,"parsers":["json"],"jsonPath":["msg"]},{"label":"status","type":"int","cardinality":3,"parsers":["json"],"jsonPath":["status"]},{"label":"latency","type":"duration","cardinality":2,"parsers":["json"],"jsonPath":["latency"]},{"label":"ok","type":"boolean","cardinality":2,"parsers":["json"],"jsonPath":["ok"]},{"label":"path","type":"string","cardinality":2,"parsers":["json"],"jsonPath":["path"]},{"label":"ratio","type":"float","cardinality":2,"parsers":["json"],"jsonPath":["ratio"]},{"label":"size","type":"bytes","cardinality":2,"parsers":["json"],"jsonPath":["size"]},{"label":"user_id","type":"int","cardinality":2,"parsers":["json"],"jsonPath":["user","id"]},{"label":"user_name","type":"string","cardinality":2,"parsers":["json"],"jsonPath":["user","name"]}],"limit":1000})"},
                {"detected_fields?query=%7Bapp%3D%22api%22%7D%20%7C%3D%20%22warn%22", 200,
                 R"({"fields":[{"label":"trace_id","type":"string","cardinality":1,"parsers":null},{"label":"n","type":"int","cardinality":1,"parsers":null},{"label":"detected_level","type":"string","cardinality":1,"parsers":null},{"label":"level","type":"string","cardinality":1,"parsers":["json"],"jsonPath":["level"]},{"label":"status","type":"int","cardinality":1,"parsers":["json"],"jsonPath":["status"]},{"label":"msg","type":"string","cardinality":1,"parsers":["json"],"jsonPath":["msg"]}],"limit":1000})"},
                {"detected_fields?query=%7Bapp%3D%22web%22%7D%20%7C%20logfmt", 200,
                 R"({"fields":[{"label":"detected_level","type":"string","cardinality":3,"parsers":null},{"label":"bytes","type":"bytes","cardinality":2,"parsers":["logfmt"]},{"label":"dur","type":"duration","cardinality":2,"parsers":["logfmt"]},{"label":"flag","type":"boolean","cardinality":1,"parsers":["logfmt"]},{"label":"level","type":"string","cardinality":2,"parsers":["logfmt"]},{"label":"method","type":"string","cardinality":2,"parsers":["logfmt"]},{"label":"status","type":"int","cardinality":2,"parsers":["logfmt"]},{"label":"ts","type":"int","cardinality":1,"parsers":["logfmt"]},{"label":"x","type":"string","cardinality":1,"parsers":["logfmt"]}],"limit":1000})"},
                {"detected_fields?query=%7Bcluster%3D~%22.%2B%22%7D&line_limit=2", 200,
                 R"({"fields":[{"label":"trace_id","type":"string","cardinality":1,"parsers":null},{"label":"n","type":"int","cardinality":1,"parsers":null},{"label":"detected_level","type":"string","cardinality":2,"parsers":null},{"label":"level","type":"string","cardinality":1,"parsers":["json"],"jsonPath":["level"]},{"label":"status","type":"int","cardinality":1,"parsers":["json"],"jsonPath":["status"]},{"label":"msg","type":"string","cardinality":1,"parsers":["json"],"jsonPath":["msg"]}],"limit":1000})"},
                {"detected_fields?query=%7Bapp%3D%22nope%22%7D", 200, R"({})"},
                {"detected_fields?query=bad%7B", 400,
                 R"(parse error at line 1, col 1: syntax error: unexpected IDENTIFIER)"},
                {"detected_fields?query=sum%28rate%28%7Ba%3D%22b%22%7D%5B1m%5D%29%29", 400,
                 R"(only log selector is supported)"},
                {"detected_fields?query=%7Bcluster%3D~%22.%2B%22%7D&line_limit=0", 400,
                 R"(limit must be a positive value)"},
                {"detected_fields?query=%7Bcluster%3D~%22.%2B%22%7D&limit=x", 400,
                 R"(strconv.Atoi: parsing "x": invalid syntax)"},
                {"detected_fields?query=%7Bcluster%3D~%22.%2B%22%7D&line_limit=6000", 400,
                 R"(max entries limit per query exceeded, limit > max_entries_limit_per_query (6000 > 5000))"},
                {"detected_field/status/values?query=%7Bcluster%3D~%22.%2B%22%7D", 200,
                 R"({"limit":1000,"values":["404","500","200","201"]})"},
                {"detected_field/size/values?query=%7Bcluster%3D~%22.%2B%22%7D", 200,
                 R"({"limit":1000,"values":["20MB","1.5kB"]})"},
                {"detected_field/bytes/values?query=%7Bcluster%3D~%22.%2B%22%7D", 200,
                 R"({"limit":1000,"values":["3.0MB","10kB"]})"},
                {"detected_field/nope/values?query=%7Bcluster%3D~%22.%2B%22%7D", 200, R"({})"},
                {"detected_field/user_name/values?query=%7Bapp%3D%22api%22%7D", 200,
                 R"({"limit":1000,"values":["al","bob"]})"},
                {"detected_field/detected_level/values?query=%7Bcluster%3D~%22.%2B%22%7D", 200,
                 R"({"limit":1000,"values":["warn","error","info","unknown","debug"]})"},
                {"detected_field/trace_id/values?query=%7Bcluster%3D~%22.%2B%22%7D", 200,
                 R"({"limit":1000,"values":["abc123"]})"},
                {"detected_field/status/values?query=%7Bcluster%3D~%22.%2B%22%7D&limit=2", 200,
                 R"({"limit":2,"values":["404","500"]})"},
};

std::string Dataset(int64_t now_s) {
  // Entry i of a stream is at now - 5 s + i s (+1 ns), as in the recording.
  auto ts = [&](int i) { return std::to_string((now_s - 5 + i) * kNanosPerSecond + 1); };
  auto q = [](const std::string& s) {
    std::string out = "\"";
    for (char c : s) {
      if (c == '"' || c == '\\') out.push_back('\\');
      out.push_back(c);
    }
    return out + "\"";
  };
  struct Stream {
    std::string labels;                                        // JSON object
    std::vector<std::pair<std::string, std::string>> entries;  // line, metadata JSON ("" = none)
  };
  const std::vector<Stream> streams = {
      {R"({"app":"api","namespace":"prod","cluster":"c1","pod":"api-1"})",
       {{R"({"level":"info","status":200,"latency":"12ms","size":"1.5KB","ok":true,"user":{"id":7,"name":"bob"},"ratio":0.5,"path":"/a"})",
         ""},
        {R"({"level":"error","status":500,"latency":"1.2s","size":"20MB","ok":false,"user":{"id":8,"name":"al"},"ratio":1,"path":"/b"})",
         ""},
        {R"({"level":"warn","status":404,"msg":"x y"})", R"({"trace_id":"abc123","n":"5"})"}}},
      {R"({"app":"web","namespace":"dev","cluster":"c1","pod":"web-1","id":"123"})",
       {{"level=info method=GET status=200 dur=5ms bytes=10KiB", ""},
        {"level=debug method=POST status=201 dur=15ms bytes=3MB flag=true", ""},
        {"plain line without fields", ""}}},
      {R"({"app":"web","namespace":"dev","cluster":"c1","pod":"web-2","id":"456"})",
       {{R"(ts=1 x="a b")", ""}}},
      {R"({"app":"db","namespace":"prod","cluster":"c2","pod":"5b0cbb3e-6f0a-4a57-9d0e-2f6f1c3c4d11","id":"789"})",
       {{"select 1", ""}}},
      {R"({"app":"db","namespace":"prod","cluster":"c2","pod":"0f4c2a9e-1b2d-4c3e-8f5a-6b7c8d9e0f12","id":"790","flag":"1"})",
       {{"select 2", ""}}},
  };
  std::string body = R"({"streams":[)";
  for (size_t s = 0; s < streams.size(); s++) {
    if (s > 0) body += ",";
    body += R"({"stream":)" + streams[s].labels + R"(,"values":[)";
    for (size_t i = 0; i < streams[s].entries.size(); i++) {
      if (i > 0) body += ",";
      const auto& [line, md] = streams[s].entries[i];
      body += "[\"" + ts(static_cast<int>(i)) + "\"," + q(line);
      if (!md.empty()) body += "," + md;
      body += "]";
    }
    body += "]}";
  }
  return body + "]}";
}

TEST(DrilldownApiTest, DetectedLabelsAndFieldsGiveLokisAnswers) {
  testing::TempDir dir("drilldown");
  InProcessSkald skald(dir.path(), {"-validation.discover-service-name="});
  Status started = skald.Start();
  ASSERT_TRUE(started.ok()) << started.ToString();
  auto push = skald.Call("POST", "/loki/api/v1/push", {{"Content-Type", "application/json"}},
                         Dataset(NowNanos() / kNanosPerSecond - 30));
  ASSERT_TRUE(push.ok());
  ASSERT_EQ(push->status, 204) << push->body;
  for (const Case& c : kCases) {
    auto r = skald.Call("GET", std::string("/loki/api/v1/") + c.target);
    ASSERT_TRUE(r.ok()) << c.target;
    EXPECT_EQ(r->status, c.status) << c.target;
    std::string body = r->body;
    if (!body.empty() && body.back() == '\n') body.pop_back();
    EXPECT_EQ(body, c.body) << c.target;
  }
  EXPECT_TRUE(skald.Stop().ok());
}

TEST(DrilldownApiTest, DetectedFieldValuesPathNeedsAName) {
  testing::TempDir dir("drilldown-404");
  InProcessSkald skald(dir.path());
  Status started = skald.Start();
  ASSERT_TRUE(started.ok()) << started.ToString();
  for (const char* target : {"/loki/api/v1/detected_field/values", "/loki/api/v1/detected_field/x",
                             "/loki/api/v1/detected_field/"}) {
    auto r = skald.Call("GET", target);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->status, 404) << target;
  }
  EXPECT_TRUE(skald.Stop().ok());
}

}  // namespace
}  // namespace skald
