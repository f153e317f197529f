// Rule files: parsing, Loki/Prometheus validation texts, durations and the YAML encoders.
#include "ruler/rules.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace skald::ruler {
namespace {

std::vector<RuleGroup> MustParseFile(std::string_view yaml) {
  StatusOr<std::vector<RuleGroup>> g = ParseRuleFileYaml(yaml);
  EXPECT_TRUE(g.ok()) << g.status().ToString() << "\n" << yaml;
  return g.ok() ? *g : std::vector<RuleGroup>{};
}

RuleGroup MustParseGroup(std::string_view yaml) {
  StatusOr<RuleGroup> g = ParseRuleGroupYaml(yaml);
  EXPECT_TRUE(g.ok()) << g.status().ToString() << "\n" << yaml;
  return g.ok() ? *g : RuleGroup{};
}

// The error message of parsing `yaml` as one group; "" when it parsed.
std::string GroupError(std::string_view yaml) {
  StatusOr<RuleGroup> g = ParseRuleGroupYaml(yaml);
  if (g.ok()) return "";
  EXPECT_EQ(g.status().code(), StatusCode::kInvalidArgument);
  return g.status().message();
}

std::string FileError(std::string_view yaml) {
  StatusOr<std::vector<RuleGroup>> g = ParseRuleFileYaml(yaml);
  if (g.ok()) return "";
  EXPECT_EQ(g.status().code(), StatusCode::kInvalidArgument);
  return g.status().message();
}

constexpr char kMetric[] = R"(sum by (job) (rate({app="api"} |= "error" [5m])))";

Rule Alert(std::string name, std::string expr = kMetric) {
  Rule r;
  r.alert = std::move(name);
  r.expr = std::move(expr);
  return r;
}

Rule Record(std::string name, std::string expr = kMetric) {
  Rule r;
  r.record = std::move(name);
  r.expr = std::move(expr);
  return r;
}

std::string ValidateError(const Rule& r) {
  RuleGroup g;
  g.name = "g";
  g.rules.push_back(r);
  Status s = ValidateGroup(g);
  if (s.ok()) return "";
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  return s.message();
}

// ---------------------------------------------------------------------------------------------
// Parsing valid files.

TEST(RuleFileParse, AlertingRuleWithEveryField) {
  auto groups = MustParseFile(R"(
groups:
  - name: api-alerts
    interval: 30s
    limit: 10
    rules:
      - alert: HighErrorRate
        expr: sum by (job) (rate({app="api"} |= "error" [5m])) > 10
        for: 5m
        keep_firing_for: 1h30m
        labels:
          severity: page
          team: api
        annotations:
          summary: "{{ $labels.job }} has {{ $value }} errors/s"
          runbook: https://runbooks/api
)");
  ASSERT_EQ(groups.size(), 1u);
  const RuleGroup& g = groups[0];
  EXPECT_EQ(g.name, "api-alerts");
  EXPECT_EQ(g.interval_ms, 30000);
  EXPECT_EQ(g.limit, 10);
  ASSERT_EQ(g.rules.size(), 1u);
  const Rule& r = g.rules[0];
  EXPECT_TRUE(r.is_alert());
  EXPECT_EQ(r.alert, "HighErrorRate");
  EXPECT_EQ(r.record, "");
  EXPECT_EQ(r.expr, R"(sum by (job) (rate({app="api"} |= "error" [5m])) > 10)");
  EXPECT_EQ(r.for_ms, 300000);
  EXPECT_EQ(r.keep_firing_for_ms, 5400000);
  EXPECT_EQ(r.labels, (StringPairs{{"severity", "page"}, {"team", "api"}}));
  EXPECT_EQ(r.annotations, (StringPairs{{"summary", "{{ $labels.job }} has {{ $value }} errors/s"},
                                        {"runbook", "https://runbooks/api"}}));
}

TEST(RuleFileParse, RecordingRulesAndDefaults) {
  auto groups = MustParseFile(R"(
groups:
  - name: recordings
    rules:
      - record: job:api_errors:rate5m
        expr: sum by (job) (rate({app="api"} |= "error" [5m]))
        labels:
          source: loki
      - record: nginx:bytes:rate1m
        expr: sum(bytes_over_time({job="nginx"}[1m]))
)");
  ASSERT_EQ(groups.size(), 1u);
  const RuleGroup& g = groups[0];
  EXPECT_EQ(g.interval_ms, 0);
  EXPECT_EQ(g.limit, 0);
  ASSERT_EQ(g.rules.size(), 2u);
  EXPECT_FALSE(g.rules[0].is_alert());
  EXPECT_EQ(g.rules[0].record, "job:api_errors:rate5m");
  EXPECT_EQ(g.rules[0].labels, (StringPairs{{"source", "loki"}}));
  EXPECT_EQ(g.rules[1].record, "nginx:bytes:rate1m");
  EXPECT_EQ(g.rules[1].for_ms, 0);
  EXPECT_TRUE(g.rules[1].labels.empty());
}

TEST(RuleFileParse, MultiLineExprKeepsItsText) {
  auto groups = MustParseFile(R"(groups:
  - name: g
    rules:
      - alert: A
        expr: |
          sum by (job) (
            rate({app="api"} |= "error" [5m])
          ) > 0
      - alert: B
        expr: >-
          sum(rate({app="api"}[1m]))
          > 1
)");
  ASSERT_EQ(groups.size(), 1u);
  ASSERT_EQ(groups[0].rules.size(), 2u);
  EXPECT_EQ(groups[0].rules[0].expr,
            "sum by (job) (\n  rate({app=\"api\"} |= \"error\" [5m])\n) > 0\n");
  EXPECT_EQ(groups[0].rules[1].expr, "sum(rate({app=\"api\"}[1m])) > 1");
}

TEST(RuleFileParse, LabelsKeepFileOrder) {
  auto groups = MustParseFile(R"(groups:
- name: g
  rules:
  - alert: A
    expr: 'sum(rate({a="b"}[1m]))'
    labels: {z: "1", a: "2", m: "3"}
)");
  ASSERT_EQ(groups.size(), 1u);
  EXPECT_EQ(groups[0].rules[0].labels, (StringPairs{{"z", "1"}, {"a", "2"}, {"m", "3"}}));
}

TEST(RuleFileParse, ScalarsOfAnyTypeAreStrings) {
  // yaml.v3 stores any scalar's text in a string field.
  auto groups = MustParseFile(R"(groups:
- name: 2024
  rules:
  - alert: true
    expr: vector(1)
    labels: {priority: 1, ratio: 0.5, flag: yes, empty: ~}
)");
  ASSERT_EQ(groups.size(), 1u);
  EXPECT_EQ(groups[0].name, "2024");
  EXPECT_EQ(groups[0].rules[0].alert, "true");
  EXPECT_EQ(groups[0].rules[0].labels,
            (StringPairs{{"priority", "1"}, {"ratio", "0.5"}, {"flag", "yes"}, {"empty", ""}}));
}

TEST(RuleFileParse, EmptyFilesHaveNoGroups) {
  EXPECT_TRUE(MustParseFile("").empty());
  EXPECT_TRUE(MustParseFile("# only a comment\n").empty());
  EXPECT_TRUE(MustParseFile("groups: []\n").empty());
  EXPECT_TRUE(MustParseFile("groups:\n").empty());
}

TEST(RuleFileParse, SeveralGroups) {
  auto groups = MustParseFile(R"(groups:
- name: one
  rules: [{record: a, expr: 'count_over_time({x="y"}[1m])'}]
- name: two
  interval: 1d
  rules: []
)");
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(groups[0].name, "one");
  EXPECT_EQ(groups[1].name, "two");
  EXPECT_EQ(groups[1].interval_ms, 86400000);
  EXPECT_TRUE(groups[1].rules.empty());
}

TEST(RuleFileParse, QueryOffsetAndGroupLabelsAreAcceptedAndDropped) {
  // rulefmt knows both fields, so Loki accepts them, but its ruler drops them.
  auto groups = MustParseFile(R"(groups:
- name: g
  query_offset: 1m
  labels: {team: a}
  rules: [{record: a, expr: 'count_over_time({x="y"}[1m])'}]
)");
  ASSERT_EQ(groups.size(), 1u);
  EXPECT_EQ(groups[0].name, "g");
  EXPECT_EQ(groups[0].interval_ms, 0);
  EXPECT_EQ(FileError("groups:\n- name: g\n  query_offset: 1x\n  rules: []\n"),
            "unknown unit \"x\" in duration \"1x\"");
}

TEST(RuleGroupParse, ApiBody) {
  RuleGroup g = MustParseGroup(R"(name: api
interval: 1m
rules:
  - alert: Errors
    expr: sum(count_over_time({app="api"} |= "error" [1m])) > 0
    for: 2m
)");
  EXPECT_EQ(g.name, "api");
  EXPECT_EQ(g.interval_ms, 60000);
  ASSERT_EQ(g.rules.size(), 1u);
  EXPECT_EQ(g.rules[0].for_ms, 120000);
}

TEST(RuleFileParse, LokiDocumentationExample) {
  // The example of Loki's alerting documentation (docs/sources/alert/_index.md).
  auto groups = MustParseFile(R"(groups:
  - name: should_fire
    rules:
      - alert: HighPercentageError
        expr: |
          sum(rate({app="foo", env="production"} |= "error" [5m])) by (job)
            /
          sum(rate({app="foo", env="production"}[5m])) by (job)
            > 0.05
        for: 10m
        labels:
            severity: page
        annotations:
            summary: High request latency
  - name: credentials_leak
    rules:
      - alert: http-credentials-leaked
        annotations:
          message: "{{ $labels.job }} is leaking http basic auth credentials."
        expr: 'sum by (cluster, job, pod) (count_over_time({namespace="prod"} |~ "http(s?)://(\\w+):(\\w+)@" [5m]) > 0)'
        for: 10m
        labels:
          severity: critical
  - name: example-recording
    interval: 1m
    rules:
      - record: nginx:requests:rate1m
        expr: |
          sum(
            rate({container="nginx"}[1m])
          )
        labels:
          cluster: "us-central1"
)");
  ASSERT_EQ(groups.size(), 3u);
  EXPECT_EQ(groups[0].rules[0].alert, "HighPercentageError");
  EXPECT_EQ(groups[0].rules[0].for_ms, 600000);
  EXPECT_EQ(groups[1].rules[0].alert, "http-credentials-leaked");
  EXPECT_EQ(
      groups[1].rules[0].expr,
      R"(sum by (cluster, job, pod) (count_over_time({namespace="prod"} |~ "http(s?)://(\\w+):(\\w+)@" [5m]) > 0))");
  EXPECT_EQ(groups[2].rules[0].record, "nginx:requests:rate1m");
  EXPECT_EQ(groups[2].interval_ms, 60000);
  EXPECT_EQ(groups[2].rules[0].labels, (StringPairs{{"cluster", "us-central1"}}));
}

// ---------------------------------------------------------------------------------------------
// Decoding errors: yaml.v3's texts with KnownFields(true).

TEST(RuleFileDecode, UnknownKeysAreRejected) {
  EXPECT_EQ(FileError("groups: []\nfoo: 1\n"),
            "yaml: unmarshal errors:\n  line 2: field foo not found in type rulefmt.RuleGroups");
  EXPECT_EQ(FileError("groups:\n- name: g\n  evaluation_interval: 1m\n  rules: []\n"),
            "yaml: unmarshal errors:\n"
            "  line 3: field evaluation_interval not found in type rulefmt.RuleGroup");
  EXPECT_EQ(GroupError("name: g\nrules:\n- alert: A\n  expr: vector(1)\n  severity: page\n"),
            "yaml: unmarshal errors:\n  line 5: field severity not found in type rulefmt.Rule");
  // Every decoding error is reported, in document order.
  EXPECT_EQ(GroupError("nam: g\nrules:\n- alert: A\n  expr: vector(1)\n  fore: 1m\n"),
            "yaml: unmarshal errors:\n"
            "  line 1: field nam not found in type rulefmt.RuleGroup\n"
            "  line 5: field fore not found in type rulefmt.Rule");
}

TEST(RuleFileDecode, DuplicateKeys) {
  EXPECT_EQ(GroupError("name: g\nname: h\nrules: []\n"),
            "yaml: unmarshal errors:\n  line 2: field name already set in type rulefmt.RuleGroup");
  EXPECT_EQ(GroupError("name: g\nrules:\n- alert: A\n  expr: vector(1)\n  labels:\n"
                       "    a: x\n    a: y\n"),
            "yaml: unmarshal errors:\n  line 7: mapping key \"a\" already defined at line 6");
}

TEST(RuleFileDecode, TypeErrors) {
  EXPECT_EQ(GroupError("name: g\nrules: nope\n"),
            "yaml: unmarshal errors:\n  line 2: cannot unmarshal !!str `nope` into []rulefmt.Rule");
  EXPECT_EQ(GroupError("name: g\nlimit: lots\nrules: []\n"),
            "yaml: unmarshal errors:\n  line 2: cannot unmarshal !!str `lots` into int");
  EXPECT_EQ(GroupError("name: {a: b}\nrules: []\n"),
            "yaml: unmarshal errors:\n  line 1: cannot unmarshal !!map into string");
  EXPECT_EQ(GroupError("name: g\nrules:\n- alert: [A]\n  expr: vector(1)\n"),
            "yaml: unmarshal errors:\n  line 3: cannot unmarshal !!seq into string");
  EXPECT_EQ(FileError("groups: {name: g}\n"),
            "yaml: unmarshal errors:\n  line 1: cannot unmarshal !!map into []rulefmt.RuleGroup");
  EXPECT_EQ(FileError("just some text\n"),
            "yaml: unmarshal errors:\n  line 1: cannot unmarshal !!str `just so...` into "
            "rulefmt.RuleGroups");
  EXPECT_EQ(
      FileError("12\n"),
      "yaml: unmarshal errors:\n  line 1: cannot unmarshal !!int `12` into rulefmt.RuleGroups");
  EXPECT_EQ(GroupError("name: g\nrules:\n- alert: A\n  expr: vector(1)\n  labels: [a]\n"),
            "yaml: unmarshal errors:\n  line 5: cannot unmarshal !!seq into map[string]string");
}

TEST(RuleFileDecode, LimitAcceptsIntegers) {
  EXPECT_EQ(MustParseGroup("name: g\nlimit: 0x10\nrules: []\n").limit, 16);
  EXPECT_EQ(MustParseGroup("name: g\nlimit: 1_000\nrules: []\n").limit, 1000);
  EXPECT_EQ(MustParseGroup("name: g\nlimit: ~\nrules: []\n").limit, 0);
}

TEST(RuleFileDecode, BadDurationsFailWithPrometheusText) {
  EXPECT_EQ(GroupError("name: g\ninterval: one minute\nrules: []\n"),
            "not a valid duration string: \"one minute\"");
  EXPECT_EQ(GroupError("name: g\ninterval: \"\"\nrules: []\n"), "empty duration string");
  EXPECT_EQ(GroupError("name: g\nrules:\n- alert: A\n  expr: vector(1)\n  for: 5min\n"),
            "unknown unit \"min\" in duration \"5min\"");
  EXPECT_EQ(GroupError("name: g\nrules:\n- alert: A\n  expr: vector(1)\n  keep_firing_for: -1m\n"),
            "not a valid duration string: \"-1m\"");
  EXPECT_EQ(GroupError("name: g\ninterval: {a: 1}\nrules: []\n"),
            "yaml: unmarshal errors:\n  line 2: cannot unmarshal !!map into string");
}

TEST(RuleFileDecode, SyntaxErrorsAreInvalidArgument) {
  const std::string e = GroupError("name: g\nrules:\n  - alert: A\n   expr: [unclosed\n");
  EXPECT_EQ(e.rfind("yaml: line ", 0), 0u) << e;
  EXPECT_EQ(FileError("groups:\n- name: a: b\n"), "yaml: line 2: illegal map value");
  EXPECT_EQ(FileError("groups: [1, 2\n"), "yaml: line 2: end of sequence flow not found");
}

// ---------------------------------------------------------------------------------------------
// Validation: Loki's ValidateGroups texts.

TEST(RuleValidation, GroupNames) {
  EXPECT_EQ(GroupError("rules: []\n"), "group 0: Groupname must not be empty");
  EXPECT_EQ(FileError("groups:\n- name: a\n  rules: []\n- rules: []\n"),
            "group 1: Groupname must not be empty");
  EXPECT_EQ(FileError("groups:\n- name: a\n  rules: []\n- name: b\n  rules: []\n- name: a\n"
                      "  rules: []\n"),
            "groupname: \"a\" is repeated in the same file");
}

TEST(RuleValidation, RuleKinds) {
  Rule both = Alert("A");
  both.record = "r";
  EXPECT_EQ(ValidateError(both), "only one of 'record' and 'alert' must be set");
  Rule neither;
  neither.expr = kMetric;
  EXPECT_EQ(ValidateError(neither), "one of 'record' or 'alert' must be set");
  EXPECT_EQ(ValidateError(Alert("A", "")), "field 'expr' must be set in rule");
  EXPECT_EQ(ValidateError(Alert("A")), "");
  EXPECT_EQ(ValidateError(Record("r")), "");
}

TEST(RuleValidation, ExprMustParse) {
  const std::string e = ValidateError(Alert("alert-1-name", "bad_value"));
  EXPECT_EQ(
      e.rfind("could not parse expression for alert 'alert-1-name' in group 'g': parse error", 0),
      0u)
      << e;
  const std::string r = ValidateError(Record("record_1", "sum(rate({a=\"b\"}[5m])"));
  EXPECT_EQ(
      r.rfind("could not parse expression for record 'record_1' in group 'g': parse error", 0), 0u)
      << r;
}

TEST(RuleValidation, ExprMustBeAMetricQuery) {
  EXPECT_EQ(ValidateError(Alert("A", R"({app="api"} |= "error")")),
            "invalid expression for alert 'A' in group 'g': rule result is not a vector or scalar");
  EXPECT_EQ(
      ValidateError(Record("r", R"({app="api"})")),
      "invalid expression for record 'r' in group 'g': rule result is not a vector or scalar");
  EXPECT_EQ(ValidateError(Alert("A", "vector(1)")), "");
}

TEST(RuleValidation, RecordingRuleFields) {
  Rule r = Record("r");
  r.annotations = {{"summary", "x"}};
  EXPECT_EQ(ValidateError(r), "invalid field 'annotations' in recording rule");
  r = Record("r");
  r.for_ms = 60000;
  EXPECT_EQ(ValidateError(r), "invalid field 'for' in recording rule");
  r = Record("r");
  r.keep_firing_for_ms = 60000;
  EXPECT_EQ(ValidateError(r), "invalid field 'keep_firing_for' in recording rule");
  EXPECT_EQ(ValidateError(Record("record-1-name")), "invalid recording rule name: record-1-name");
  EXPECT_EQ(ValidateError(Record("1abc")), "invalid recording rule name: 1abc");
  EXPECT_EQ(ValidateError(Record("up{job=\"a\"}")), "invalid recording rule name: up{job=\"a\"}");
  EXPECT_EQ(ValidateError(Record("ns:metric_name:rate5m")), "");
  // Alert names are free text.
  EXPECT_EQ(ValidateError(Alert("alert-1 name!")), "");
}

TEST(RuleValidation, LabelAndAnnotationNames) {
  Rule r = Alert("A");
  r.labels = {{"ok_name", "x"}, {"bad-name", "y"}};
  EXPECT_EQ(ValidateError(r), "invalid label name: bad-name");
  r.labels = {{"__name__", "x"}};
  EXPECT_EQ(ValidateError(r), "invalid label name: __name__");
  r.labels = {{"0x", "x"}};
  EXPECT_EQ(ValidateError(r), "invalid label name: 0x");
  r.labels = {{"", "x"}};
  EXPECT_EQ(ValidateError(r), "invalid label name: ");
  r.labels = {{"__reserved_but_ok", "x"}};
  EXPECT_EQ(ValidateError(r), "");
  r.labels = {{"v", std::string("bad\xff utf8")}};
  EXPECT_EQ(ValidateError(r), std::string("invalid label value: bad\xff utf8"));

  r = Alert("A");
  r.annotations = {{"summary", "x"}, {"run.book", "y"}};
  EXPECT_EQ(ValidateError(r), "invalid annotation name: run.book");

  Rule rec = Record("r");
  rec.labels = {{"bad-name", "x"}};
  EXPECT_EQ(ValidateError(rec), "invalid label name: bad-name");
}

TEST(RuleValidation, AlertTemplatesMustParse) {
  Rule r = Alert("HighErrors");
  r.annotations = {{"summary", "{{ $labels.job"}};
  std::string e = ValidateError(r);
  EXPECT_EQ(e.rfind("annotation \"summary\": template: __alert_HighErrors:1: ", 0), 0u) << e;

  r = Alert("HighErrors");
  r.labels = {{"severity", "{{ if }}"}};
  e = ValidateError(r);
  EXPECT_EQ(e.rfind("label \"severity\": template: __alert_HighErrors:1: ", 0), 0u) << e;

  r = Alert("HighErrors");
  r.annotations = {{"summary", "{{ nosuchfunc $value }}"}};
  EXPECT_EQ(ValidateError(r),
            "annotation \"summary\": template: __alert_HighErrors:1: function "
            "\"nosuchfunc\" not defined");

  r = Alert("HighErrors");
  r.annotations = {{"summary", "ok"}, {"description", "{{ end }}"}};
  e = ValidateError(r);
  EXPECT_EQ(e.rfind("annotation \"description\": template: __alert_HighErrors:1: ", 0), 0u) << e;

  // Errors on later lines keep Go's line numbers (the declarations are on line 1).
  r = Alert("A");
  r.annotations = {{"d", "line one\n{{ nosuchfunc }}"}};
  EXPECT_EQ(ValidateError(r),
            "annotation \"d\": template: __alert_A:2: function \"nosuchfunc\" "
            "not defined");
}

TEST(RuleValidation, PrometheusTemplateVocabularyIsAccepted) {
  const std::vector<std::string> ok = {
      "{{ $labels.job }} at {{ $value }}",
      "{{ $value | humanize }}",
      "{{ $value | humanize1024 }} {{ humanizePercentage $value }}",
      "{{ humanizeDuration $value }} {{ $value | humanizeTimestamp }}",
      "{{ $labels.instance | title | toUpper | toLower }}",
      "{{ with query \"up\" }}{{ . | first | value | humanize }}{{ end }}",
      "{{ $externalURL }}/alerts {{ $externalLabels.cluster }}",
      "{{ .Labels.job }} {{ .Value }}",
      "{{ range $k, $v := $labels }}{{ $k }}={{ $v }} {{ end }}",
      "{{ if gt $value 10.0 }}high{{ else }}low{{ end }}",
      "{{ reReplaceAll \"(.*):.*\" \"$1\" $labels.instance }} {{ $labels.instance | stripPort }}",
      "{{ printf \"%.2f\" $value }} humanize is a word here",
      "{{ $value := 1.0 }}{{ $labels := . }}{{ $value }}",
      "{{- /* a comment */ -}} {{ pathPrefix }}{{ graphLink \"up\" }}",
      "plain text",
      // Go-only actions the LogQL engine cannot parse are let through unchecked.
      "{{ define \"x\" }}y{{ end }}{{ template \"x\" }}",
  };
  for (const std::string& text : ok) {
    Rule r = Alert("A");
    r.annotations = {{"summary", text}};
    r.labels = {{"l", text}};
    EXPECT_EQ(ValidateError(r), "") << text;
  }
}

TEST(RuleValidation, RecordingRuleLabelsAreNotTemplates) {
  // Prometheus only expands alert labels; a recording rule's are literal values.
  Rule r = Record("r");
  r.labels = {{"l", "{{ unclosed"}};
  EXPECT_EQ(ValidateError(r), "");
}

TEST(RuleValidation, OneErrorPerRuleAllRulesReported) {
  EXPECT_EQ(GroupError(R"(rules:
- record: bad-name
  expr: 'sum(rate({a="b"}[1m]))'
  for: 1m
- alert: ok
  expr: 'sum(rate({a="b"}[1m]))'
- expr: 'sum(rate({a="b"}[1m]))'
)"),
            "group 0: Groupname must not be empty, invalid field 'for' in recording rule, "
            "one of 'record' or 'alert' must be set");
}

// ---------------------------------------------------------------------------------------------
// Durations.

TEST(PromDuration, Parse) {
  const struct {
    std::string_view text;
    int64_t ms;
  } cases[] = {
      {"0", 0},
      {"0s", 0},
      {"1ms", 1},
      {"500ms", 500},
      {"1s", 1000},
      {"90s", 90000},
      {"1m", 60000},
      {"1h30m", 5400000},
      {"1d", 86400000},
      {"1w", 604800000},
      {"1y", 31536000000},
      {"1y2w3d4h5m6s7ms",
       31536000000 + 2 * 604800000 + 3 * 86400000 + 4 * 3600000 + 5 * 60000 + 6 * 1000 + 7},
      {"0h5m", 300000},
      {"007m", 420000},
  };
  for (const auto& c : cases) {
    StatusOr<int64_t> d = ParsePromDuration(c.text);
    ASSERT_TRUE(d.ok()) << c.text << ": " << d.status().ToString();
    EXPECT_EQ(*d, c.ms) << c.text;
  }
}

TEST(PromDuration, ParseErrors) {
  const struct {
    std::string_view text;
    std::string_view error;
  } cases[] = {
      {"", "empty duration string"},
      {"1", "not a valid duration string: \"1\""},
      {"m", "not a valid duration string: \"m\""},
      {"-1s", "not a valid duration string: \"-1s\""},
      {"1.5h", "unknown unit \".\" in duration \"1.5h\""},
      {"1m1h", "not a valid duration string: \"1m1h\""},
      {"1s1s", "not a valid duration string: \"1s1s\""},
      {" 1s", "not a valid duration string: \" 1s\""},
      {"1 s", "unknown unit \" s\" in duration \"1 s\""},
      {"5min", "unknown unit \"min\" in duration \"5min\""},
      {"1us", "unknown unit \"us\" in duration \"1us\""},
      {"300y", "duration out of range"},
      {"292y50w", "duration out of range"},
      {"99999999999999999999s", "not a valid duration string: \"99999999999999999999s\""},
  };
  for (const auto& c : cases) {
    StatusOr<int64_t> d = ParsePromDuration(c.text);
    ASSERT_FALSE(d.ok()) << c.text;
    EXPECT_EQ(d.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(d.status().message(), c.error) << c.text;
  }
  // The largest accepted value: just under 2^63 ns.
  EXPECT_TRUE(ParsePromDuration("292y").ok());
}

TEST(PromDuration, Format) {
  const struct {
    int64_t ms;
    std::string_view text;
  } cases[] = {
      {0, "0s"},
      {1, "1ms"},
      {500, "500ms"},
      {1000, "1s"},
      {1500, "1s500ms"},
      {60000, "1m"},
      {90 * 60000, "1h30m"},
      {86400000, "1d"},
      {604800000, "1w"},
      {2 * 604800000, "2w"},
      {90LL * 86400000, "90d"},  // weeks only when exact
      {8LL * 86400000, "8d"},
      {31536000000, "1y"},
      {31536000000 + 86400000, "366d"},
      {-60000, "-1m"},
      {3600000 + 1, "1h1ms"},
  };
  for (const auto& c : cases) EXPECT_EQ(FormatPromDuration(c.ms), c.text) << c.ms;
}

TEST(PromDuration, FormatThenParseIsIdentity) {
  for (int64_t ms : {int64_t{0}, int64_t{1}, int64_t{999}, int64_t{61001}, int64_t{5400000},
                     int64_t{90} * 86400000, int64_t{3} * 31536000000 + 7}) {
    StatusOr<int64_t> back = ParsePromDuration(FormatPromDuration(ms));
    ASSERT_TRUE(back.ok()) << ms;
    EXPECT_EQ(*back, ms);
  }
}

// ---------------------------------------------------------------------------------------------
// Encoding.

RuleGroup SampleGroup() {
  RuleGroup g;
  g.name = "api";
  g.interval_ms = 90000;
  g.limit = 5;
  Rule a = Alert("HighErrors", "sum(rate({app=\"api\"} |= \"error\" [5m])) > 1");
  a.for_ms = 600000;
  a.keep_firing_for_ms = 60000;
  a.labels = {{"severity", "page"}};
  a.annotations = {{"summary", "{{ $labels.job }}: {{ $value }}"}};
  g.rules.push_back(a);
  g.rules.push_back(Record("job:errors:rate5m", "sum by (job) (rate({app=\"api\"}[5m]))"));
  return g;
}

TEST(RuleYaml, GroupToYamlFormat) {
  EXPECT_EQ(GroupToYaml(SampleGroup()),
            "name: api\n"
            "interval: 1m30s\n"
            "limit: 5\n"
            "rules:\n"
            "  - alert: HighErrors\n"
            "    expr: sum(rate({app=\"api\"} |= \"error\" [5m])) > 1\n"
            "    for: 10m\n"
            "    keep_firing_for: 1m\n"
            "    labels:\n"
            "      severity: page\n"
            "    annotations:\n"
            "      summary: \"{{ $labels.job }}: {{ $value }}\"\n"
            "  - record: job:errors:rate5m\n"
            "    expr: sum by (job) (rate({app=\"api\"}[5m]))\n");
}

TEST(RuleYaml, ZeroFieldsAreOmitted) {
  RuleGroup g;
  g.name = "empty";
  EXPECT_EQ(GroupToYaml(g), "name: empty\nrules: []\n");
  g.rules.push_back(Record("r", "vector(1)"));
  EXPECT_EQ(GroupToYaml(g), "name: empty\nrules:\n  - record: r\n    expr: vector(1)\n");
}

TEST(RuleYaml, GroupRoundTrip) {
  RuleGroup g = SampleGroup();
  StatusOr<RuleGroup> back = ParseRuleGroupYaml(GroupToYaml(g));
  ASSERT_TRUE(back.ok()) << back.status().ToString() << "\n" << GroupToYaml(g);
  EXPECT_EQ(*back, g);
}

TEST(RuleYaml, AwkwardStringsRoundTrip) {
  const std::vector<std::string> texts = {
      "plain",
      "",
      "yes",
      "no",
      "on",
      "true",
      "null",
      "~",
      "123",
      "1.5",
      "0x1F",
      ".inf",
      "a: b",
      "- item",
      "# not a comment",
      "'single'",
      "\"double\"",
      "{{ $labels.job }}",
      "[list]",
      "trailing space ",
      " leading space",
      "tab\there",
      "ünïcödé ✓",
      "line one\nline two\n",
      "line one\nline two",
      "line one\n\nafter a blank line\n",
      "  indented first\nsecond\n",
      "first\n  indented second\n",
      "ends with blanks\n\n\n",
      "trailing spaces  \nx\n",
      "crlf\r\nline\r\n",
      "control \x01 char",
      "back\\slash",
      "%percent",
      "@at",
      "*star",
      "&amp",
      "!bang",
      "|pipe",
      ">gt",
      "---",
      "...",
  };
  for (const std::string& t : texts) {
    RuleGroup g;
    g.name = t.empty() ? "g" : t;
    Rule r = Alert(t.empty() ? "A" : t, "sum(rate({a=\"b\"}[1m]))\n");
    r.annotations = {{"summary", t}, {"description", t + "\n"}};
    r.labels = {{"value", t}};
    g.rules.push_back(r);
    const std::string yaml = GroupToYaml(g);
    StatusOr<RuleGroup> back = ParseRuleGroupYaml(yaml);
    ASSERT_TRUE(back.ok()) << back.status().ToString() << "\n" << yaml;
    EXPECT_EQ(*back, g) << yaml;
  }
}

TEST(RuleYaml, MultiLineExprIsWrittenAsBlockLiteral) {
  RuleGroup g;
  g.name = "g";
  g.rules.push_back(Alert("A", "sum(\n  rate({a=\"b\"}[1m])\n) > 0\n"));
  const std::string yaml = GroupToYaml(g);
  EXPECT_NE(yaml.find("expr: |\n      sum(\n        rate({a=\"b\"}[1m])\n      ) > 0\n"),
            std::string::npos)
      << yaml;
  StatusOr<RuleGroup> back = ParseRuleGroupYaml(yaml);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, g);
}

TEST(RuleYaml, RuleFileRoundTrip) {
  std::vector<RuleGroup> groups = {SampleGroup(), SampleGroup()};
  groups[1].name = "second";
  groups[1].interval_ms = 0;
  groups[1].limit = 0;
  const std::string yaml = RuleFileToYaml(groups);
  EXPECT_EQ(yaml.rfind("groups:\n  - name: api\n", 0), 0u) << yaml;
  StatusOr<std::vector<RuleGroup>> back = ParseRuleFileYaml(yaml);
  ASSERT_TRUE(back.ok()) << back.status().ToString() << "\n" << yaml;
  EXPECT_EQ(*back, groups);
  EXPECT_EQ(RuleFileToYaml({}), "groups: []\n");
  EXPECT_TRUE(MustParseFile(RuleFileToYaml({})).empty());
}

TEST(RuleYaml, ParseThenPrintThenParseIsStable) {
  const char* file = R"(groups:
  - name: should_fire
    interval: 2m
    rules:
      - alert: HighPercentageError
        expr: |
          sum(rate({app="foo"} |= "error" [5m])) by (job)
            /
          sum(rate({app="foo"}[5m])) by (job)
            > 0.05
        for: 10m
        labels:
            severity: page
        annotations:
            summary: High request latency
)";
  std::vector<RuleGroup> groups = MustParseFile(file);
  const std::string printed = RuleFileToYaml(groups);
  EXPECT_EQ(MustParseFile(printed), groups);
  EXPECT_EQ(RuleFileToYaml(MustParseFile(printed)), printed);
}

TEST(RuleYaml, NamespacesToYaml) {
  EXPECT_EQ(NamespacesToYaml({}), "{}\n");
  RuleNamespaces ns;
  RuleGroup a;
  a.name = "a";
  a.rules.push_back(Record("r", "vector(1)"));
  ns["z-ns"] = {a};
  ns["a ns: odd"] = {a, SampleGroup()};
  const std::string yaml = NamespacesToYaml(ns);
  EXPECT_EQ(yaml.rfind("\"a ns: odd\":\n  - name: a\n", 0), 0u) << yaml;
  EXPECT_NE(yaml.find("\nz-ns:\n  - name: a\n    rules:\n      - record: r\n"), std::string::npos)
      << yaml;
  // Each namespace's list reads back as the rule file it came from.
  EXPECT_EQ(MustParseFile("groups:\n" +
                          yaml.substr(yaml.find('\n') + 1, yaml.find("\nz-ns:") - yaml.find('\n'))),
            ns["a ns: odd"]);
}

}  // namespace
}  // namespace skald::ruler
