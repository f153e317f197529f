// Tests for the Prometheus alert-template function set (TemplateFuncs::kPrometheusAlerts).
//
// Expected outputs come from Prometheus' template tests (prometheus/template/template_test.go,
// prometheus/common/helpers/templates/time_test.go) where a case is marked "prom"; there the
// inputs were ranged over from a Go slice, here each value is a literal (an untyped number
// literal is an int or a float64 in text/template, the same Go types those tests used).
// Other cases follow the documented semantics of the Go functions Prometheus wraps
// (fmt %.4g, strconv.ParseFloat, net.SplitHostPort, net.ParseIP, regexp, model.ParseDuration).
// Error texts are Go 1.26's (no 20-rune cut of the context, unlike the LogQL set's
// historical form); Prometheus adds "error executing template NAME: " in front, which is
// the ruler's business.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "logql/template.h"

namespace skald::logql {
namespace {

class MapData : public TemplateData {
 public:
  std::map<std::string, std::string, std::less<>> labels;
  int64_t ts = 1700000000123456789;  // 2023-11-14T22:13:20.123456789Z

  std::optional<std::string_view> Label(std::string_view name) const override {
    auto it = labels.find(name);
    if (it == labels.end()) return std::nullopt;
    return std::string_view(it->second);
  }
  std::string_view Line() const override { return ""; }
  int64_t TimestampNanos() const override { return ts; }
  void ForEachLabel(
      const std::function<void(std::string_view, std::string_view)>& fn) const override {
    for (const auto& [k, v] : labels) fn(k, v);
  }
};

constexpr const char* kExternalURL = "http://testhost:9090/path/prefix";

struct Case {
  const char* tmpl;
  const char* want;           // expected output (when err is null)
  const char* err = nullptr;  // expected exact error message (parse or exec)
};

void RunCases(const std::vector<Case>& cases) {
  MapData d;
  d.labels = {{"instance", "host.example.com:9100"}, {"job", "node"}};
  for (const Case& c : cases) {
    SCOPED_TRACE(c.tmpl);
    std::string err, out;
    auto t = Template::Parse(c.tmpl, "test", TemplateFuncs::kPrometheusAlerts, kExternalURL);
    if (!t.ok()) {
      err = t.status().message();
    } else {
      Status st = t->Execute(d, &out);
      if (!st.ok()) err = st.message();
    }
    if (c.err) {
      EXPECT_EQ(err, c.err);
    } else {
      EXPECT_EQ(err, "");
      EXPECT_EQ(out, c.want);
    }
  }
}

TEST(TemplateAlertFuncsTest, Humanize) {
  RunCases({
      // prom: float64 0, 1, 1234567, .12
      {"{{ humanize 0.0 }}", "0"},
      {"{{ humanize 1.0 }}", "1"},
      {"{{ humanize 1234567.0 }}", "1.235M"},
      {"{{ humanize .12 }}", "120m"},
      // prom: strings
      {R"({{ humanize "0.0" }})", "0"},
      {R"({{ humanize "1.0" }})", "1"},
      {R"({{ humanize "1234567.0" }})", "1.235M"},
      {R"({{ humanize ".12" }})", "120m"},
      // prom: ints 0, -1, 1, 1234567, MaxInt64
      {"{{ humanize 0 }}", "0"},
      {"{{ humanize -1 }}", "-1"},
      {"{{ humanize 1 }}", "1"},
      {"{{ humanize 1234567 }}", "1.235M"},
      {"{{ humanize 9223372036854775807 }}", "9.223E"},
      // SI prefixes both ways, %.4g
      {"{{ humanize 0.001234 }}", "1.234m"},
      {"{{ humanize -1234567 }}", "-1.235M"},
      {"{{ humanize 999 }}", "999"},
      {"{{ humanize 1000 }}", "1k"},
      {"{{ humanize 1e27 }}", "1000Y"},
      {"{{ humanize 1e-30 }}", "1e-06y"},
      {"{{ humanize 0.000005 }}", "5u"},
      // prom: NaN and Inf (strings: a float64 NaN cannot be a literal)
      {R"({{ humanize "+Inf" }}:{{ humanize "-Inf" }}:{{ humanize "NaN" }})", "+Inf:-Inf:NaN"},
      {R"({{ humanize "inf" }}:{{ humanize "Infinity" }}:{{ humanize "nan" }})", "+Inf:+Inf:NaN"},
      // strconv.ParseFloat syntax
      {R"({{ humanize "1e3" }}:{{ humanize "+5" }}:{{ humanize "0x1p10" }})", "1k:5:1.024k"},
      // prom: string with error
      {R"({{ humanize "one" }})", nullptr,
       "template: test:1:3: executing \"test\" at <humanize \"one\">: error calling humanize: "
       "strconv.ParseFloat: parsing \"one\": invalid syntax"},
      {R"({{ humanize "1_000" }}:{{ humanize "0x_1p10" }})", "1k:1.024k"},
      {R"({{ humanize "1__000" }})", nullptr,
       "template: test:1:3: executing \"test\" at <humanize \"1__000\">: error calling humanize: "
       "strconv.ParseFloat: parsing \"1__000\": invalid syntax"},
      {R"({{ humanize "+NaN" }})", nullptr,
       "template: test:1:3: executing \"test\" at <humanize \"+NaN\">: error calling humanize: "
       "strconv.ParseFloat: parsing \"+NaN\": invalid syntax"},
      {R"({{ humanize "1e400" }})", nullptr,
       "template: test:1:3: executing \"test\" at <humanize \"1e400\">: error calling humanize: "
       "strconv.ParseFloat: parsing \"1e400\": value out of range"},
      {"{{ humanize true }}", nullptr,
       "template: test:1:3: executing \"test\" at <humanize true>: error calling humanize: "
       "can't convert bool to float"},
  });
}

TEST(TemplateAlertFuncsTest, HumanizeMissingLabelIsAnError) {
  // The data is map[string]string with missingkey=zero: a missing label is "", and
  // strconv.ParseFloat("") fails.
  MapData d;
  auto t = Template::Parse("{{ humanize .missing }}", "test", TemplateFuncs::kPrometheusAlerts);
  ASSERT_TRUE(t.ok()) << t.status().message();
  std::string out;
  Status st = t->Execute(d, &out);
  EXPECT_EQ(st.message(),
            "template: test:1:3: executing \"test\" at <humanize .missing>: error calling "
            "humanize: strconv.ParseFloat: parsing \"\": invalid syntax");
}

TEST(TemplateAlertFuncsTest, Humanize1024) {
  RunCases({
      // prom: float64 0, 1, 1048576, .12 and strings
      {"{{ humanize1024 0.0 }}", "0"},
      {"{{ humanize1024 1.0 }}", "1"},
      {"{{ humanize1024 1048576.0 }}", "1Mi"},
      {"{{ humanize1024 .12 }}", "0.12"},
      {R"({{ humanize1024 "1048576.0" }}:{{ humanize1024 ".12" }})", "1Mi:0.12"},
      // prom: ints 0, -1, 1, 1234567, MaxInt64
      {"{{ humanize1024 0 }}", "0"},
      {"{{ humanize1024 -1 }}", "-1"},
      {"{{ humanize1024 1 }}", "1"},
      {"{{ humanize1024 1234567 }}", "1.177Mi"},
      {"{{ humanize1024 9223372036854775807 }}", "8Ei"},
      // the kibi prefix is spelled "ki" by Prometheus
      {"{{ humanize1024 1024 }}", "1ki"},
      {"{{ humanize1024 1023 }}", "1023"},
      {"{{ humanize1024 -2048 }}", "-2ki"},
      {R"({{ humanize1024 "+Inf" }}:{{ humanize1024 "-Inf" }}:{{ humanize1024 "NaN" }})",
       "+Inf:-Inf:NaN"},
      {R"({{ humanize1024 "one" }})", nullptr,
       "template: test:1:3: executing \"test\" at <humanize1024 \"one\">: error calling "
       "humanize1024: strconv.ParseFloat: parsing \"one\": invalid syntax"},
  });
}

TEST(TemplateAlertFuncsTest, HumanizeDuration) {
  RunCases({
      // prom: float64 seconds
      {"{{ humanizeDuration 0.0 }}", "0s"},
      {"{{ humanizeDuration 1.0 }}", "1s"},
      {"{{ humanizeDuration 60.0 }}", "1m 0s"},
      {"{{ humanizeDuration 3600.0 }}", "1h 0m 0s"},
      {"{{ humanizeDuration 86400.0 }}", "1d 0h 0m 0s"},
      {"{{ humanizeDuration 90000.0 }}", "1d 1h 0m 0s"},
      {"{{ humanizeDuration -183845.0 }}", "-2d 3h 4m 5s"},
      {"{{ humanizeDuration 899.99 }}", "14m 59s"},
      // prom: sub-second and fractional seconds
      {"{{ humanizeDuration .1 }}", "100ms"},
      {"{{ humanizeDuration .0001 }}", "100us"},
      {"{{ humanizeDuration .12345 }}", "123.5ms"},
      {"{{ humanizeDuration 60.1 }}", "1m 0s"},
      {"{{ humanizeDuration 60.5 }}", "1m 0s"},
      {"{{ humanizeDuration 1.2345 }}", "1.234s"},
      {"{{ humanizeDuration 12.345 }}", "12.35s"},
      // prom: strings
      {R"({{ humanizeDuration "0" }}:{{ humanizeDuration "60" }}:{{ humanizeDuration "86400" }})",
       "0s:1m 0s:1d 0h 0m 0s"},
      {R"({{ humanizeDuration ".12345" }}:{{ humanizeDuration "12.345" }})", "123.5ms:12.35s"},
      // prom: ints
      {"{{ humanizeDuration 0 }}", "0s"},
      {"{{ humanizeDuration -1 }}", "-1s"},
      {"{{ humanizeDuration 1 }}", "1s"},
      {"{{ humanizeDuration 1234567 }}", "14d 6h 56m 7s"},
      // negative sub-second keeps the sign through %.4g
      {"{{ humanizeDuration -0.5 }}", "-500ms"},
      {R"({{ humanizeDuration "+Inf" }}:{{ humanizeDuration "-Inf" }}:{{ humanizeDuration "NaN" }})",
       "+Inf:-Inf:NaN"},
      {R"({{ humanizeDuration "one" }})", nullptr,
       "template: test:1:3: executing \"test\" at <humanizeDuration \"one\">: error calling "
       "humanizeDuration: strconv.ParseFloat: parsing \"one\": invalid syntax"},
  });
}

TEST(TemplateAlertFuncsTest, HumanizePercentage) {
  RunCases({
      // prom: float64 (piped) and strings
      {"{{ -0.22222 | humanizePercentage }}:{{ 0.0 | humanizePercentage }}:{{ 0.1234567 | "
       "humanizePercentage }}:{{ 1.23456 | humanizePercentage }}",
       "-22.22%:0%:12.35%:123.5%"},
      {R"({{ "-0.22222" | humanizePercentage }}:{{ "0.0" | humanizePercentage }}:{{ "0.1234567" | humanizePercentage }}:{{ "1.23456" | humanizePercentage }})",
       "-22.22%:0%:12.35%:123.5%"},
      // prom: ints 0, -1, 1, 1234567, MaxInt64
      {"{{ humanizePercentage 0 }}", "0%"},
      {"{{ humanizePercentage -1 }}", "-100%"},
      {"{{ humanizePercentage 1 }}", "100%"},
      {"{{ humanizePercentage 1234567 }}", "1.235e+08%"},
      {"{{ humanizePercentage 9223372036854775807 }}", "9.223e+20%"},
      {R"({{ humanizePercentage "NaN" }})", "NaN%"},
      // prom: string with error (the position is the pipe's command)
      {R"({{ "one" | humanizePercentage }})", nullptr,
       "template: test:1:11: executing \"test\" at <humanizePercentage>: error calling "
       "humanizePercentage: strconv.ParseFloat: parsing \"one\": invalid syntax"},
  });
}

TEST(TemplateAlertFuncsTest, HumanizeTimestampAndToTime) {
  RunCases({
      // prom: ints 0, -1, 1, 1234567, 9223372036
      {"{{ humanizeTimestamp 0 }}", "1970-01-01 00:00:00 +0000 UTC"},
      {"{{ humanizeTimestamp -1 }}", "1969-12-31 23:59:59 +0000 UTC"},
      {"{{ humanizeTimestamp 1 }}", "1970-01-01 00:00:01 +0000 UTC"},
      {"{{ humanizeTimestamp 1234567 }}", "1970-01-15 06:56:07 +0000 UTC"},
      {"{{ humanizeTimestamp 9223372036 }}", "2262-04-11 23:47:16 +0000 UTC"},
      // prom: sample values, float64 and string
      {"{{ 1435065584.128 | humanizeTimestamp }}", "2015-06-23 13:19:44.128 +0000 UTC"},
      {R"({{ "1435065584.128" | humanizeTimestamp }})", "2015-06-23 13:19:44.128 +0000 UTC"},
      // truncated to milliseconds (model.Time)
      {"{{ humanizeTimestamp 1.0009999 }}", "1970-01-01 00:00:01 +0000 UTC"},
      {"{{ humanizeTimestamp -0.0015 }}", "1969-12-31 23:59:59.999 +0000 UTC"},
      // prom: NaN / Inf print as %.4g
      {R"({{ humanizeTimestamp "+Inf" }}:{{ humanizeTimestamp "-Inf" }}:{{ humanizeTimestamp "NaN" }})",
       "+Inf:-Inf:NaN"},
      // prom: int with error (MinInt64)
      {"{{ humanizeTimestamp -9223372036854775808 }}", nullptr,
       "template: test:1:3: executing \"test\" at <humanizeTimestamp -9223372036854775808>: error "
       "calling "
       "humanizeTimestamp: -9.223372036854776e+18 cannot be represented as a nanoseconds "
       "timestamp since it overflows int64"},
      {"{{ humanizeTimestamp 9223372036854775807 }}", nullptr,
       "template: test:1:3: executing \"test\" at <humanizeTimestamp 9223372036854775807>: error "
       "calling "
       "humanizeTimestamp: 9.223372036854776e+18 cannot be represented as a nanoseconds "
       "timestamp since it overflows int64"},
      // prom: toTime then a time.Time method
      {R"({{ (1435065584.128 | toTime).Format "2006" }})", "2015"},
      {R"({{ ("1435065584.128" | toTime).Format "2006" }})", "2015"},
      {R"({{ (toTime 1657155181).Format "2006-01-02T15:04:05Z07:00" }})", "2022-07-07T00:53:01Z"},
      {R"({{ "Jan 2" | (toTime 1657155181).Format }})", "Jul 7"},
      {"{{ toTime 1657155181 }}", "2022-07-07 00:53:01 +0000 UTC"},
      {"{{ (toTime 1657155181).Unix }}", "1657155181"},
      // Go reports this at the last node it evaluated (the receiver's argument).
      {"{{ (toTime 1657155181).Format }}", nullptr,
       "template: test:1:11: executing \"test\" at <1657155181>: wrong number of args for "
       "Format: want 1 got 0"},
      {R"({{ "a" | (toTime 1657155181).Format "b" }})", nullptr,
       "template: test:1:17: executing \"test\" at <1657155181>: wrong number of args for "
       "Format: want 1 got 2"},
      {R"({{ toTime "NaN" }})", nullptr,
       "template: test:1:3: executing \"test\" at <toTime \"NaN\">: error calling toTime: value "
       "is NaN or Inf"},
      {"{{ toTime 1e300 }}", nullptr,
       "template: test:1:3: executing \"test\" at <toTime 1e300>: error calling toTime: 1e+300 "
       "cannot be represented as a nanoseconds timestamp since it overflows int64"},
  });
}

TEST(TemplateAlertFuncsTest, Strings) {
  RunCases({
      // prom
      {R"({{ "aa bb CC" | title }})", "Aa Bb CC"},
      {R"({{ "aa bb CC" | toUpper }})", "AA BB CC"},
      {R"({{ "aA bB CC" | toLower }})", "aa bb cc"},
      // x/text's title caser: an apostrophe or a dot inside a word does not start a new word
      // (strings.Title, sprig's title, gives "Don'T"), two in a row do.
      {R"({{ "don't stop" | title }})", "Don't Stop"},
      {R"({{ "node-exporter_job" | title }})", "Node-Exporter_job"},
      {R"({{ "ab.cd a..b" | title }})", "Ab.cd A..B"},
      {R"({{ "élan vital" | title }})", "Élan Vital"},
      {R"({{ "ǆemal ß µx" | title }})", "ǅemal Ss Μx"},
      {R"({{ "1st place x1y" | title }})", "1St Place X1y"},
      {R"({{ "a b" | safeHtml }})", "a b"},
      {R"({{ "<b>" | safeHtml }})", "<b>"},
      {R"({{ urlQueryEscape "a b&c=d/é" }})", "a+b%26c%3Dd%2F%C3%A9"},
  });
}

TEST(TemplateAlertFuncsTest, Regex) {
  RunCases({
      // prom
      {R"({{ match "a+" "aa" }} {{ match "a+" "b" }})", "true false"},
      {R"({{ reReplaceAll "(a)b" "x$1" "ab" }})", "xa"},
      // unanchored match, ${name} expansion, a pattern from a variable
      {R"({{ match "^node" .job }})", "true"},
      {R"({{ reReplaceAll ":[0-9]+$" "" .instance }})", "host.example.com"},
      {R"({{ reReplaceAll "(?P<h>[^.]+)\\..*" "${h}!" .instance }})", "host!"},
      {R"({{ $re := "o+" }}{{ reReplaceAll $re "0" "foo boo" }})", "f0 b0"},
      {R"({{ if match "^host" .instance }}yes{{ end }})", "yes"},
      // regexp.MatchString returns the compile error; reReplaceAll's MustCompile panics and
      // text/template turns the panic into the call's error.
      {R"({{ match "(" "x" }})", nullptr,
       "template: test:1:3: executing \"test\" at <match \"(\" \"x\">: error calling match: "
       "error parsing regexp: missing closing ): `(`"},
      {R"({{ reReplaceAll "(" "" "x" }})", nullptr,
       "template: test:1:3: executing \"test\" at <reReplaceAll \"(\" \"\" \"x\">: error "
       "calling reReplaceAll: regexp: Compile(`(`): error parsing regexp: missing closing ): "
       "`(`"},
  });
}

TEST(TemplateAlertFuncsTest, StripPortAndDomain) {
  RunCases({
      // prom: stripPort
      {R"({{ "foo.example.com" | stripPort }})", "foo.example.com"},
      {R"({{ "foo.example.com:12345" | stripPort }})", "foo.example.com"},
      {R"({{ "192.0.2.1" | stripPort }})", "192.0.2.1"},
      {R"({{ "192.0.2.1:12345" | stripPort }})", "192.0.2.1"},
      {R"({{ "2001:0DB8::1" | stripPort }})", "2001:0DB8::1"},
      {R"({{ "[2001:0DB8::1]:12345" | stripPort }})", "2001:0DB8::1"},
      {R"({{ "[2001:0DB8::1]::12345" | stripPort }})", "[2001:0DB8::1]::12345"},
      // prom: stripDomain
      {R"({{ "foo.example.com" | stripDomain }})", "foo"},
      {R"({{ "foo.example.com:12345" | stripDomain }})", "foo:12345"},
      {R"({{ "192.0.2.1" | stripDomain }})", "192.0.2.1"},
      {R"({{ "192.0.2.1:12345" | stripDomain }})", "192.0.2.1:12345"},
      {R"({{ "2001:0DB8::1" | stripDomain }})", "2001:0DB8::1"},
      {R"({{ "[2001:0DB8::1]:12345" | stripDomain }})", "[2001:0DB8::1]:12345"},
      {R"({{ "[2001:0DB8::1]::12345" | stripDomain }})", "[2001:0DB8::1]::12345"},
      // net.ParseIP: a leading zero makes "192.0.2.01" a host name; embedded IPv4 in IPv6
      {R"({{ "192.0.2.01:80" | stripDomain }})", "192:80"},
      {R"({{ "[::ffff:192.0.2.1]:80" | stripDomain }})", "[::ffff:192.0.2.1]:80"},
      {R"({{ "[fe80::1%eth0]:80" | stripDomain }})", "[fe80::1%eth0]:80"},
      {R"({{ .instance | stripDomain }})", "host:9100"},
  });
}

TEST(TemplateAlertFuncsTest, ParseDuration) {
  RunCases({
      // prom
      {R"({{ printf "%0.2f" (parseDuration "1h2m10ms") }})", "3720.01"},
      {R"({{ parseDuration "1d" }})", "86400"},
      {R"({{ parseDuration "1w" }}:{{ parseDuration "1y" }})", "604800:3.1536e+07"},
      {R"({{ parseDuration "0" }}:{{ parseDuration "-1m30s" }})", "0:-90"},
      {R"({{ parseDuration "250ms" | humanizeDuration }})", "250ms"},
      {R"({{ parseDuration "1.5h" }})", nullptr,
       "template: test:1:3: executing \"test\" at <parseDuration \"1.5h\">: error calling "
       "parseDuration: unknown unit \".\" in duration \"1.5h\""},
      {R"({{ parseDuration "1m1h" }})", nullptr,
       "template: test:1:3: executing \"test\" at <parseDuration \"1m1h\">: error calling "
       "parseDuration: not a valid duration string: \"1m1h\""},
      {R"({{ parseDuration "" }})", nullptr,
       "template: test:1:3: executing \"test\" at <parseDuration \"\">: error calling "
       "parseDuration: empty duration string"},
      {R"({{ parseDuration "300y" }})", nullptr,
       "template: test:1:3: executing \"test\" at <parseDuration \"300y\">: error calling "
       "parseDuration: duration out of range"},
  });
}

TEST(TemplateAlertFuncsTest, LinksUrlsArgsNow) {
  RunCases({
      // prom
      {"{{ graphLink \"up\" }}", "/graph?g0.expr=up&g0.tab=0"},
      {"{{ tableLink \"up\" }}", "/graph?g0.expr=up&g0.tab=1"},
      {"{{ pathPrefix }}", "/path/prefix"},
      {"{{ externalURL }}", "http://testhost:9090/path/prefix"},
      {"{{ graphLink \"rate(x[5m]) > 1\" }}", "/graph?g0.expr=rate%28x%5B5m%5D%29+%3E+1&g0.tab=0"},
      // args builds map[string]interface{} {"arg0": ..., ...}
      {R"({{ (args 1 "2").arg1 }})", "2"},
      {R"({{ args 1 "2" }})", "map[arg0:1 arg1:2]"},
      // now: the evaluation time (TimestampNanos) in float seconds, millisecond precision
      {R"({{ printf "%.6f" now }})", "1700000000.123000"},
  });
}

TEST(TemplateAlertFuncsTest, PathPrefixOptions) {
  MapData d;
  struct {
    const char* url;
    const char* want;
  } cases[] = {
      {"", "[][]"},
      {"http://h:9090", "[http://h:9090][]"},
      {"https://h/a%20b/?x=1#f", "[https://h/a%20b/?x=1#f][/a b/]"},
  };
  for (const auto& c : cases) {
    auto t = Template::Parse("[{{ externalURL }}][{{ pathPrefix }}]", "test",
                             TemplateFuncs::kPrometheusAlerts, c.url);
    ASSERT_TRUE(t.ok()) << t.status().message();
    std::string out;
    ASSERT_TRUE(t->Execute(d, &out).ok());
    EXPECT_EQ(out, c.want) << c.url;
  }
}

TEST(TemplateAlertFuncsTest, AlertValueAndLabels) {
  // The ruler declares $labels / $value ahead of the user's text, as Prometheus does.
  RunCases({
      {"{{ $value := 12.5 }}{{ $labels := . }}{{ humanize $value }}", "12.5"},
      {"{{ $value := 0.256 }}{{ $value | humanizePercentage }}", "25.6%"},
      {R"({{ $value := 12.5 }}{{ printf "%.2f" $value }})", "12.50"},
      {"{{ $value := 1234567.0 }}{{ $value }}", "1.234567e+06"},
      {R"({{ $value := "NaN" }}{{ humanize $value }}|{{ $value }})", "NaN|NaN"},
      {"{{ $value := 3723.0 }}{{ humanizeDuration $value }}", "1h 2m 3s"},
      {"{{ $value := 1700000000.5 }}{{ humanizeTimestamp $value }}",
       "2023-11-14 22:13:20.5 +0000 UTC"},
      {"{{ $value := 2048.0 }}{{ if gt $value 1000.0 }}high {{ humanize1024 $value }}{{ end }}",
       "high 2ki"},
      {"{{ $labels := . }}{{ $labels.instance | stripPort }} {{ $labels.job | toUpper }}",
       "host.example.com NODE"},
      {"{{ $labels := . }}[{{ $labels.nope }}]", "[]"},
      {"{{ $labels := . }}{{ range $k, $v := $labels }}{{ $k }}={{ $v }};{{ end }}",
       "instance=host.example.com:9100;job=node;"},
      {"{{ $labels := . }}{{ len $labels }} {{ index $labels \"job\" }}", "2 node"},
  });
}

TEST(TemplateAlertFuncsTest, FunctionSetsAreSeparate) {
  // LogQL (Loki's line_format / label_format) must keep rejecting Prometheus' functions
  // with Loki's parse error.
  for (const char* name :
       {"humanize",          "humanize1024",   "humanizeDuration", "humanizePercentage",
        "humanizeTimestamp", "toTime",         "parseDuration",    "toUpper",
        "toLower",           "match",          "reReplaceAll",     "stripPort",
        "stripDomain",       "urlQueryEscape", "graphLink",        "tableLink",
        "safeHtml",          "args",           "externalURL",      "pathPrefix"}) {
    auto t = Template::Parse(std::string("{{ ") + name + " 1 }}");
    ASSERT_FALSE(t.ok()) << name;
    EXPECT_EQ(t.status().message(),
              std::string("template: line:1: function \"") + name + "\" not defined");
  }
  {
    auto t = Template::Parse("{{ humanize 1234 }}", "line", TemplateFuncs::kLogQL);
    ASSERT_FALSE(t.ok());
    EXPECT_EQ(t.status().message(), "template: line:1: function \"humanize\" not defined");
  }
  // ... and the alert set has none of Loki's or sprig's.
  for (const char* name : {"__line__", "__timestamp__", "ToUpper", "regexReplaceAll", "upper",
                           "default", "toDate", "unixEpoch", "duration", "bytes", "fromJson"}) {
    auto t = Template::Parse(std::string("{{ ") + name + " }}", "test",
                             TemplateFuncs::kPrometheusAlerts);
    ASSERT_FALSE(t.ok()) << name;
    EXPECT_EQ(t.status().message(),
              std::string("template: test:1: function \"") + name + "\" not defined");
  }
  // Not provided in this engine (query engine / HTML mode / time.Duration).
  for (const char* name :
       {"query", "first", "label", "value", "strvalue", "sortByLabel", "tmpl", "toDuration"}) {
    auto t = Template::Parse(std::string("{{ ") + name + " }}", "test",
                             TemplateFuncs::kPrometheusAlerts);
    EXPECT_FALSE(t.ok()) << name;
  }
  // Go's builtins are in both sets.
  RunCases(
      {{R"({{ printf "%s-%d" "a" 3 }} {{ len "abc" }} {{ eq 1 1 }} {{ and 1 0 }})", "a-3 3 true 0"},
       {R"({{ html "<a>" }} {{ urlquery "a b" }} {{ index "ab" 1 }})", "&lt;a&gt; a+b 98"}});
  // `title` and `now` exist in both sets with each one's semantics.
  MapData d;
  auto logql = Template::Parse(R"({{ "don't" | title }})");
  ASSERT_TRUE(logql.ok());
  std::string out;
  ASSERT_TRUE(logql->Execute(d, &out).ok());
  EXPECT_EQ(out, "Don'T");  // strings.Title
  // LogQL keeps its historical time.Time method set.
  auto fmt = Template::Parse(R"({{ (toDate "2006-01-02" "2024-03-04").Format "2006" }})");
  ASSERT_TRUE(fmt.ok());
  out.clear();
  EXPECT_FALSE(fmt->Execute(d, &out).ok());
}

}  // namespace
}  // namespace skald::logql
