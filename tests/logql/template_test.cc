// Tests for the Go text/template engine behind line_format / label_format.
//
// Expected outputs and messages come from Go's text/template and fmt documentation, Loki's
// LogQL template-function documentation and sprig's documentation; where a case rests on
// observed Go behaviour (error texts, %v formatting details) it says so.
#include "logql/template.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "tests/testing/alloc_counter.h"

namespace skald::logql {
namespace {

class MapData : public TemplateData {
 public:
  std::map<std::string, std::string, std::less<>> labels;
  std::string line = "the line";
  int64_t ts = 1700000000123456789;  // 2023-11-14T22:13:20.123456789Z

  std::optional<std::string_view> Label(std::string_view name) const override {
    auto it = labels.find(name);
    if (it == labels.end()) return std::nullopt;
    return std::string_view(it->second);
  }
  std::string_view Line() const override { return line; }
  int64_t TimestampNanos() const override { return ts; }
  void ForEachLabel(
      const std::function<void(std::string_view, std::string_view)>& fn) const override {
    for (const auto& [k, v] : labels) fn(k, v);
  }
};

MapData Fixture() {
  MapData d;
  d.labels = {
      {"app", "foo"},
      {"level", "error"},
      {"msg", "Hello World"},
      {"n", "42"},
      {"f", "1.5"},
      {"empty", ""},
      {"json", R"({"a":1,"b":"x","c":[1,2,3],"d":{"e":true},"n":null,"s":"2.5"})"},
      {"path", "/api/v1/users?id=5&q=a b"},
      {"dur", "1m30s"},
      {"size", "1.5KiB"},
      {"epoch", "1700000000"},
      {"spaced", "  padded  "},
      {"ip", "10.0.0.1"},
  };
  return d;
}

struct Case {
  const char* name;
  const char* tmpl;
  const char* want;           // expected output (when err is null)
  const char* err = nullptr;  // expected exact error message (parse or exec)
};

std::string Run(const Case& c, const MapData& d, std::string* err) {
  auto t = Template::Parse(c.tmpl);
  if (!t.ok()) {
    *err = t.status().message();
    return "";
  }
  std::string out;
  Status st = t->Execute(d, &out);
  if (!st.ok()) *err = st.message();
  return out;
}

void RunCases(const std::vector<Case>& cases) {
  const MapData d = Fixture();
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(c.name) + ": " + c.tmpl);
    std::string err;
    std::string out = Run(c, d, &err);
    if (c.err) {
      EXPECT_EQ(err, c.err);
    } else {
      EXPECT_EQ(err, "");
      EXPECT_EQ(out, c.want);
    }
  }
}

TEST(TemplateTest, TextAndFields) {
  RunCases({
      {"plain text", "hello", "hello"},
      {"empty template", "", ""},
      {"field", "{{.app}}", "foo"},
      {"field with spaces", "{{ .app }}", "foo"},
      {"missing label prints empty", "[{{.nope}}]", "[]"},
      {"empty label", "[{{.empty}}]", "[]"},
      {"two fields", "{{.app}}/{{.level}}", "foo/error"},
      {"text around", "app={{.app}} level={{.level}}!", "app=foo level=error!"},
      {"newline in text", "a\n{{.app}}\nb", "a\nfoo\nb"},
      {"dollar root field", "{{$.app}}", "foo"},
      {"index root", "{{index . \"app\"}}", "foo"},
      {"index root missing", "[{{index . \"zzz\"}}]", "[]"},
      {"field of string errors", "{{.app.x}}", nullptr,
       "template: line:1:6: executing \"line\" at <.app.x>: can't evaluate field x in type "
       "string"},
      {"field with args", "{{.app 1}}", nullptr,
       "template: line:1:2: executing \"line\" at <.app>: app is not a method but has "
       "arguments"},
  });
}

TEST(TemplateTest, TrimMarkersAndComments) {
  RunCases({
      {"left trim", "a  \n {{- .app}}", "afoo"},
      {"right trim", "{{.app -}}  \n b", "foob"},
      {"both trims", "x {{- .app -}} y", "xfooy"},
      {"trim only spaces not text", "x. {{- .app -}} .y", "x.foo.y"},
      {"minus number is not trim", "{{-3}}", "-3"},
      {"comment", "a{{/* hi */}}b", "ab"},
      {"trimmed comment", "a {{- /* hi */ -}} b", "ab"},
      {"multiline comment", "a{{/* x\ny */}}b", "ab"},
      {"unclosed comment", "{{/* x", nullptr, "template: line:1: unclosed comment"},
      {"comment before delim", "{{/* x */ .a}}", nullptr,
       "template: line:1: comment ends before closing delimiter"},
  });
}

TEST(TemplateTest, Literals) {
  RunCases({
      {"string", "{{\"hi\"}}", "hi"},
      {"raw string", "{{`a\\nb`}}", "a\\nb"},
      {"escapes", "{{\"a\\tb\\u00e9\"}}", "a\tb\xC3\xA9"},
      {"int", "{{42}}", "42"},
      {"negative", "{{-7}}", "-7"},
      {"float", "{{1.5}}", "1.5"},
      {"float exp", "{{1e3}}", "1000"},
      {"float big uses e", "{{1e6}}", "1e+06"},
      {"float small", "{{0.0001}}", "0.0001"},
      {"float tiny uses e", "{{0.00001}}", "1e-05"},
      {"hex", "{{0x1F}}", "31"},
      {"octal", "{{017}}", "15"},
      {"char", "{{'a'}}", "97"},
      {"bool", "{{true}} {{false}}", "true false"},
      {"underscore digits", "{{1_000}}", "1000"},
      {"bad number", "{{3x}}", nullptr, "template: line:1: bad number syntax: \"3x\""},
      {"unterminated string", "{{\"abc}}", nullptr, "template: line:1: unterminated quoted string"},
      {"nil is not a command", "{{nil}}", nullptr,
       "template: line:1:2: executing \"line\" at <nil>: nil is not a command"},
      {"arg to non-function", "{{\"x\" 1}}", nullptr,
       "template: line:1:2: executing \"line\" at <\"x\">: can't give argument to non-function "
       "\"x\""},
  });
}

TEST(TemplateTest, ParseErrors) {
  RunCases({
      {"unknown function", "{{foo}}", nullptr, "template: line:1: function \"foo\" not defined"},
      {"unclosed action", "{{.app", nullptr, "template: line:1: unclosed action"},
      {"unclosed action newline", "a\n{{.app", nullptr, "template: line:2: unclosed action"},
      {"single brace close after field", "{{.app}", nullptr,
       "template: line:1: bad character U+007D '}'"},
      {"single brace close", "{{ .app }", nullptr, "template: line:1: unexpected \"}\" in operand"},
      {"empty action", "{{}}", nullptr, "template: line:1: missing value for command"},
      {"unexpected end", "{{end}}", nullptr, "template: line:1: unexpected {{end}}"},
      {"unexpected else", "{{else}}", nullptr, "template: line:1: unexpected {{else}}"},
      {"missing end", "{{if .app}}x", nullptr, "template: line:1: unexpected EOF"},
      {"if without pipeline", "{{if}}x{{end}}", nullptr, "template: line:1: missing value for if"},
      {"undefined variable", "{{$x}}", nullptr, "template: line:1: undefined variable \"$x\""},
      {"non executable stage", "{{.app | 1}}", nullptr,
       "template: line:1: non executable command in pipeline stage 2"},
      {"bad character", "{{.app#}}", nullptr, "template: line:1: bad character U+0023 '#'"},
      {"unclosed paren", "{{(.app}}", nullptr, "template: line:1: unclosed left paren"},
      // The lexer emits the ")" before reporting it; the parser sees the ")" first.
      {"unexpected right paren", "{{.app)}}", nullptr,
       "template: line:1: unexpected \")\" in command"},
      {"unexpected right paren alone", "{{)}}", nullptr,
       "template: line:1: unexpected \")\" in command"},
      {"expected declare", "{{$x := 1}}{{$x : 2}}", nullptr, "template: line:1: expected :="},
      {"break outside range", "{{break}}", nullptr,
       "template: line:1: {{break}} outside {{range}}"},
      {"two elses", "{{if 1}}a{{else}}b{{else}}c{{end}}", nullptr,
       "template: line:1: expected end; found {{else}}"},
      {"dot after literal", "{{\"x\".y}}", nullptr,
       "template: line:1: unexpected . after term \"\\\"x\\\"\""},
      {"error line number", "a\nb\n{{foo}}", nullptr,
       "template: line:3: function \"foo\" not defined"},
      {"unexpected token in if", "{{if .a := }}x{{end}}", nullptr,
       "template: line:1: unexpected \":=\" in operand"},
      {"range too many decls", "{{range $a, $b, $c := .}}{{end}}", nullptr,
       "template: line:1: too many declarations in range"},
      {"block unsupported", "{{block \"x\" .}}{{end}}", nullptr,
       "template: line:1: {{block}} is not supported in LogQL templates"},
  });
}

TEST(TemplateTest, PipelinesAndCalls) {
  RunCases({
      {"pipe to function", "{{ .app | ToUpper }}", "FOO"},
      {"call with arg", "{{ ToUpper .app }}", "FOO"},
      {"chain of pipes", "{{ .msg | ToLower | title }}", "Hello World"},
      {"pipe with extra args", "{{ .msg | replace \"World\" \"There\" }}", "Hello There"},
      {"parenthesized", "{{ ToUpper (ToLower .msg) }}", "HELLO WORLD"},
      {"paren pipeline", "{{ (.app | ToUpper) }}", "FOO"},
      {"paren pipeline as arg", "{{ printf \"%s-%s\" (.app | ToUpper) .level }}", "FOO-error"},
      {"wrong arg count", "{{ ToUpper }}", nullptr,
       "template: line:1:3: executing \"line\" at <ToUpper>: wrong number of args for ToUpper: "
       "want 1 got 0"},
      {"too many args", "{{ ToUpper .app .level }}", nullptr,
       "template: line:1:3: executing \"line\" at <ToUpper>: wrong number of args for ToUpper: "
       "want 1 got 2"},
      {"variadic too few", "{{ printf }}", nullptr,
       "template: line:1:3: executing \"line\" at <printf>: wrong number of args for printf: "
       "want at least 1 got 0"},
      {"wrong literal type", "{{ ToUpper 1 }}", nullptr,
       "template: line:1:11: executing \"line\" at <1>: expected string; found 1"},
      {"wrong value type", "{{ ToUpper (len .app) }}", nullptr,
       // Go reports the node evaluated last (the inner argument), as its executor does.
       "template: line:1:16: executing \"line\" at <.app>: wrong type for value; expected "
       "string; got int"},
      {"int64 is not int", "{{ trunc (add 1 1) .app }}", nullptr,
       "template: line:1:16: executing \"line\" at <1>: wrong type for value; expected int; "
       "got int64"},
      {"function as argument", "{{ ToUpper __line__ }}", "THE LINE"},
      {"line", "{{ __line__ }}", "the line"},
      {"timestamp", "{{ __timestamp__ }}", "2023-11-14 22:13:20.123456789 +0000 UTC"},
      {"timestamp method", "{{ (__timestamp__).Unix }}", "1700000000"},
  });
}

TEST(TemplateTest, Variables) {
  RunCases({
      {"declare and use", "{{ $x := .app }}{{ $x }}", "foo"},
      {"assign", "{{ $x := 1 }}{{ $x = 2 }}{{ $x }}", "2"},
      {"declare from pipeline", "{{ $x := .app | ToUpper }}[{{ $x }}]", "[FOO]"},
      {"dollar is root", "{{ with .app }}{{ $.level }}{{ end }}", "error"},
      {"scope ends with if", "{{ $x := 1 }}{{ if true }}{{ $x := 2 }}{{ $x }}{{ end }}{{ $x }}",
       "21"},
      {"assign in if changes outer", "{{ $x := 1 }}{{ if true }}{{ $x = 2 }}{{ end }}{{ $x }}",
       "2"},
      {"variable out of scope", "{{ if true }}{{ $y := 1 }}{{ end }}{{ $y }}", nullptr,
       "template: line:1: undefined variable \"$y\""},
      {"variable field", "{{ $j := fromJson .json }}{{ $j.b }}", "x"},
      {"variable as function", "{{ $x := 1 }}{{ $x 2 }}", nullptr,
       "template: line:1:16: executing \"line\" at <$x>: can't give argument to non-function $x"},
  });
}

TEST(TemplateTest, IfElseWith) {
  RunCases({
      {"if true", "{{if .app}}yes{{end}}", "yes"},
      {"if empty string", "{{if .empty}}yes{{else}}no{{end}}", "no"},
      {"if missing", "{{if .nope}}yes{{else}}no{{end}}", "no"},
      {"else if", "{{if eq .level \"info\"}}I{{else if eq .level \"error\"}}E{{else}}?{{end}}",
       "E"},
      {"else if falls to else", "{{if .empty}}a{{else if .nope}}b{{else}}c{{end}}", "c"},
      {"if zero", "{{if 0}}a{{else}}b{{end}}", "b"},
      {"if zero float", "{{if 0.0}}a{{else}}b{{end}}", "b"},
      {"if false", "{{if false}}a{{else}}b{{end}}", "b"},
      {"if nonzero", "{{if 3}}a{{end}}", "a"},
      {"if not", "{{if not .empty}}a{{end}}", "a"},
      {"if and", "{{if and .app .level}}a{{end}}", "a"},
      {"and returns value", "{{and .app .level}}", "error"},
      {"and returns first falsy", "[{{and .app .empty .level}}]", "[]"},
      {"or returns first truthy", "{{or .empty .app}}", "foo"},
      {"or all false returns last", "{{or .empty 0}}", "0"},
      {"and short-circuits", "{{and .empty (index 1 2)}}x", "x"},
      {"with sets dot", "{{with .app}}[{{.}}]{{end}}", "[foo]"},
      {"with else", "{{with .empty}}a{{else}}b{{end}}", "b"},
      {"with declares", "{{with $v := .level}}{{$v}}{{end}}", "error"},
      {"else with", "{{with .empty}}a{{else with .app}}{{.}}{{end}}", "foo"},
      {"if time is true", "{{if __timestamp__}}t{{end}}", "t"},
      {"if map", "{{if fromJson .json}}m{{end}}", "m"},
      {"if empty list", "{{if (fromJson \"[]\")}}a{{else}}b{{end}}", "b"},
  });
}

TEST(TemplateTest, Range) {
  RunCases({
      {"range list", "{{range (fromJson .json).c}}<{{.}}>{{end}}", "<1><2><3>"},
      {"range index and elem", "{{range $i, $e := (fromJson .json).c}}{{$i}}={{$e}} {{end}}",
       "0=1 1=2 2=3 "},
      {"range map sorted", "{{range $k, $v := fromJson .json}}{{$k}} {{end}}", "a b c d n s "},
      {"range else", "{{range (fromJson \"[]\")}}x{{else}}empty{{end}}", "empty"},
      {"range break", "{{range (fromJson .json).c}}{{if eq . 2.0}}{{break}}{{end}}{{.}}{{end}}",
       "1"},
      {"range continue",
       "{{range (fromJson .json).c}}{{if eq . 2.0}}{{continue}}{{end}}{{.}}{{end}}", "13"},
      {"range int", "{{range 3}}{{.}}{{end}}", "012"},
      {"range root labels",
       "{{range $k, $v := .}}{{if eq $k \"app\" \"level\"}}{{$k}}={{$v}};{{end}}{{end}}",
       "app=foo;level=error;"},
      {"range over string", "{{range .app}}x{{end}}", nullptr,
       "template: line:1:8: executing \"line\" at <.app>: range can't iterate over foo"},
      {"range nil is empty", "{{range (fromJson \"null\")}}x{{else}}none{{end}}", "none"},
      {"len root", "{{len .}}", "13"},
  });
}

TEST(TemplateTest, Comparisons) {
  RunCases({
      {"eq strings", "{{eq .app \"foo\"}}", "true"},
      {"eq multi", "{{eq .level \"warn\" \"error\"}}", "true"},
      {"ne", "{{ne .app \"bar\"}}", "true"},
      {"lt ints", "{{lt 1 2}}", "true"},
      {"le equal", "{{le 2 2}}", "true"},
      {"gt floats", "{{gt 2.5 1.5}}", "true"},
      {"ge strings", "{{ge \"b\" \"a\"}}", "true"},
      {"lt strings", "{{lt .app \"goo\"}}", "true"},
      {"eq int int64", "{{eq 2 (add 1 1)}}", "true"},
      {"eq incompatible", "{{eq .n 42}}", nullptr,
       "template: line:1:2: executing \"line\" at <eq .n 42>: error calling eq: incompatible "
       "types for comparison"},
      {"lt bool", "{{lt true false}}", nullptr,
       "template: line:1:2: executing \"line\" at <lt true false>: error calling lt: invalid "
       "type for comparison"},
      {"eq missing arg", "{{eq 1}}", nullptr,
       "template: line:1:2: executing \"line\" at <eq 1>: error calling eq: missing argument "
       "for comparison"},
      {"compare converted label", "{{if gt (int .n) 40}}big{{end}}", "big"},
      {"compare float label", "{{if gt (float64 .f) 1.0}}big{{end}}", "big"},
  });
}

TEST(TemplateTest, BuiltinFunctions) {
  RunCases({
      {"len string", "{{len .app}}", "3"},
      {"len int", "{{len 3}}", nullptr,
       "template: line:1:2: executing \"line\" at <len 3>: error calling len: len of type int"},
      {"index list", "{{index (fromJson .json).c 1}}", "2"},
      {"index out of range", "{{index (fromJson .json).c 5}}", nullptr,
       "template: line:1:2: executing \"line\" at <index (fromJson .jso...>: error calling "
       "index: index out of range: 5"},
      {"index string byte", "{{index .app 0}}", "102"},
      {"index nested", "{{index (fromJson .json) \"d\" \"e\"}}", "true"},
      {"slice string", "{{slice .msg 0 5}}", "Hello"},
      {"slice string from", "{{slice .msg 6}}", "World"},
      {"slice bad", "{{slice .msg 3 1}}", nullptr,
       "template: line:1:2: executing \"line\" at <slice .msg 3 1>: error calling slice: invalid "
       "slice index: 3 > 1"},
      {"print spacing", "{{print 1 2 \"a\" \"b\" 3}}", "1 2ab3"},
      {"println", "{{println .app 1}}", "foo 1\n"},
      {"printf s d", "{{printf \"%s=%d\" .app 5}}", "foo=5"},
      {"printf v", "{{printf \"%v %v %v\" 1.5 true .app}}", "1.5 true foo"},
      {"printf q", "{{printf \"%q\" .msg}}", "\"Hello World\""},
      {"printf f", "{{printf \"%.2f\" 3.14159}}", "3.14"},
      {"printf width", "{{printf \"%5d|%-5s|%05d\" 42 \"ab\" 7}}", "   42|ab   |00007"},
      // Go zero-pads strings too (observed from Loki's line_format); '-' wins over '0'.
      {"printf zero-padded string", "{{printf \"%05s|%-05s|%05.1s\" \"ab\" \"cd\" \"ef\"}}",
       "000ab|cd   |0000e"},
      {"printf x", "{{printf \"%x %X %x\" 255 255 \"hi\"}}", "ff FF 6869"},
      {"printf percent", "{{printf \"100%%\"}}", "100%"},
      {"printf bad verb", "{{printf \"%d\" .app}}", "%!d(string=foo)"},
      {"printf missing", "{{printf \"%s %s\" .app}}", "foo %!s(MISSING)"},
      {"printf extra", "{{printf \"%s\" .app 1}}", "foo%!(EXTRA int=1)"},
      {"printf e", "{{printf \"%e\" 1234.5}}", "1.234500e+03"},
      {"printf g", "{{printf \"%g\" 0.000001}}", "1e-06"},
      {"printf t", "{{printf \"%t\" true}}", "true"},
      {"printf c", "{{printf \"%c\" 65}}", "A"},
      {"printf plus", "{{printf \"%+d\" 5}}", "+5"},
      {"printf float as d", "{{printf \"%d\" 1.5}}", "%!d(float64=1.5)"},
      {"html", "{{html \"<a href='x'>&</a>\"}}", "&lt;a href=&#39;x&#39;&gt;&amp;&lt;/a&gt;"},
      {"js", "{{js \"it's <b>\"}}", "it\\'s \\u003Cb\\u003E"},
      {"urlquery", "{{urlquery .path}}", "%2Fapi%2Fv1%2Fusers%3Fid%3D5%26q%3Da+b"},
      {"call non function", "{{call .app}}", nullptr,
       "template: line:1:2: executing \"line\" at <call .app>: error calling call: "
       "non-function of type string"},
      {"not", "{{not 0}}", "true"},
  });
}

TEST(TemplateTest, LokiStringFunctions) {
  RunCases({
      {"ToLower", "{{ToLower .msg}}", "hello world"},
      {"ToUpper unicode", "{{ToUpper \"\xC3\xA9t\xC3\xA9\"}}", "\xC3\x89T\xC3\x89"},
      {"Replace n", "{{Replace .msg \"o\" \"0\" 1}}", "Hell0 World"},
      {"Replace all", "{{Replace .msg \"o\" \"0\" -1}}", "Hell0 W0rld"},
      {"Trim", "{{Trim \"xxhixx\" \"x\"}}", "hi"},
      {"TrimLeft", "{{TrimLeft \"xxhixx\" \"x\"}}", "hixx"},
      {"TrimRight", "{{TrimRight \"xxhixx\" \"x\"}}", "xxhi"},
      {"TrimPrefix", "{{TrimPrefix .path \"/api\"}}", "/v1/users?id=5&q=a b"},
      {"TrimSuffix", "{{TrimSuffix .msg \"World\"}}", "Hello "},
      {"TrimSpace", "[{{TrimSpace .spaced}}]", "[padded]"},
      {"regexReplaceAll groups", "{{regexReplaceAll \"(\\\\w+) (\\\\w+)\" .msg \"$2 $1\"}}",
       "World Hello"},
      {"regexReplaceAll named", "{{regexReplaceAll \"(?P<first>\\\\w+)\" .app \"<${first}>\"}}",
       "<foo>"},
      {"regexReplaceAll $1x is a name", "{{regexReplaceAll \"(o)\" .app \"$1x\"}}", "f"},
      {"regexReplaceAll leading zero is no group", "{{regexReplaceAll \"(o)\" .app \"[$01]\"}}",
       "f[][]"},
      {"regexReplaceAll unknown name is empty", "{{regexReplaceAll \"(o)\" .app \"[${nope}]\"}}",
       "f[][]"},
      {"regexReplaceAll dollar dollar", "{{regexReplaceAll \"o\" .app \"$$\"}}", "f$$"},
      {"regexReplaceAll empty matches", "{{regexReplaceAll \"x*\" \"abc\" \"-\"}}", "-a-b-c-"},
      {"piped value is the last argument", "{{ .msg | regexReplaceAll \"o\" \"0o\" }}",
       "0Hello World"},
      {"regexReplaceAllLiteral", "{{regexReplaceAllLiteral \"o\" .app \"$1\"}}", "f$1$1"},
      {"regex bad pattern", "{{regexReplaceAll \"(\" .app \"x\"}}", nullptr,
       "template: line:1:2: executing \"line\" at <regexReplaceAll \"(\" ...>: error calling "
       "regexReplaceAll: regexp: Compile(`(`): error parsing regexp: missing closing ): `(`"},
      {"count bad pattern", "{{count \"(\" .app}}", nullptr,
       "template: line:1:2: executing \"line\" at <count \"(\" .app>: error calling count: "
       "error parsing regexp: missing closing ): `(`"},
      {"count", "{{count \"o\" .msg}}", "2"},
      {"count regex", "{{count \"[a-z]+\" .msg}}", "2"},
      {"urlencode", "{{urlencode .path}}", "%2Fapi%2Fv1%2Fusers%3Fid%3D5%26q%3Da+b"},
      {"urldecode", "{{urldecode \"a%20b+c\"}}", "a b c"},
      {"urldecode bad", "{{urldecode \"%zz\"}}", nullptr,
       "template: line:1:2: executing \"line\" at <urldecode \"%zz\">: error calling urldecode: "
       "invalid URL escape \"%zz\""},
      {"alignLeft pads", "[{{alignLeft 5 .app}}]", "[foo  ]"},
      {"alignLeft cuts", "[{{alignLeft 5 .msg}}]", "[Hello]"},
      {"alignRight pads", "[{{alignRight 5 .app}}]", "[  foo]"},
      {"alignRight cuts", "[{{alignRight 5 .msg}}]", "[World]"},
      {"b64dec", "{{b64dec \"aGVsbG8=\"}}", "hello"},
      {"b64dec bad returns error text", "{{b64dec \"!!\"}}", "illegal base64 data at input byte 0"},
  });
}

TEST(TemplateTest, LokiConversionFunctions) {
  RunCases({
      {"bytes", "{{bytes .size}}", "1536"},
      {"bytes SI", "{{bytes \"2 MB\"}}", "2000000"},
      {"duration", "{{duration .dur}}", "90"},
      {"duration_seconds fraction", "{{duration_seconds \"1500ms\"}}", "1.5"},
      {"duration bad", "{{duration \"1x\"}}", nullptr,
       "template: line:1:2: executing \"line\" at <duration \"1x\">: error calling duration: "
       "time: unknown unit \"x\" in duration \"1x\""},
      {"duration missing unit", "{{duration \"10\"}}", nullptr,
       "template: line:1:2: executing \"line\" at <duration \"10\">: error calling duration: "
       "time: missing unit in duration \"10\""},
      {"unixEpochMillis", "{{unixEpochMillis __timestamp__}}", "1700000000123"},
      {"unixEpochNanos", "{{__timestamp__ | unixEpochNanos}}", "1700000000123456789"},
      {"unixEpoch", "{{unixEpoch __timestamp__}}", "1700000000"},
      {"unixToTime seconds", "{{unixToTime .epoch}}", "2023-11-14 22:13:20 +0000 UTC"},
      {"unixToTime millis", "{{unixToTime \"1700000000123\" | date \"15:04:05.000\"}}",
       "22:13:20.123"},
      // Go's time.Parse: fractional seconds in the layout, and after a seconds field the
      // layout does not follow with a fraction (Go accepts those too).
      {"toDate fraction in layout",
       "{{toDate \"2006-01-02 15:04:05.000\" \"2023-01-02 03:04:05.123\" | date \"05.000000000\"}}",
       "05.123000000"},
      {"toDate fraction not in layout",
       "{{toDate \"2006-01-02 15:04:05\" \"2023-01-02 03:04:05.5\" | date \"05.000\"}}", "05.500"},
      {"unixToTime days", "{{unixToTime \"19675\" | date \"2006-01-02\"}}", "2023-11-14"},
      {"unixToTime bad", "{{unixToTime \"123\"}}", nullptr,
       "template: line:1:2: executing \"line\" at <unixToTime \"123\">: error calling "
       "unixToTime: unable to parse time '123': unknown format"},
      {"toDateInZone", "{{toDateInZone \"2006-01-02 15:04\" \"UTC\" \"2024-02-29 12:30\"}}",
       "2024-02-29 12:30:00 +0000 UTC"},
  });
}

TEST(TemplateTest, SprigFunctions) {
  RunCases({
      {"lower upper", "{{lower .msg}} {{upper .app}}", "hello world FOO"},
      {"title", "{{title \"hello wide-world\"}}", "Hello Wide-World"},
      {"title apostrophe separates", "{{title \"don't x_y\"}}", "Don'T X_y"},
      {"trunc", "{{trunc 3 .msg}}", "Hel"},
      {"trunc negative", "{{trunc -3 .msg}}", "rld"},
      {"trunc longer", "{{trunc 30 .app}}", "foo"},
      {"substr", "{{substr 1 4 .msg}}", "ell"},
      {"substr to end", "{{substr 6 -1 .msg}}", "World"},
      {"contains", "{{contains \"World\" .msg}}", "true"},
      {"hasPrefix", "{{hasPrefix \"Hell\" .msg}}", "true"},
      {"hasSuffix", "{{if hasSuffix \"x\" .msg}}y{{else}}n{{end}}", "n"},
      {"indent", "{{indent 2 \"a\\nb\"}}", "  a\n  b"},
      {"nindent", "{{nindent 2 \"a\"}}", "\n  a"},
      {"replace", "{{replace \" \" \"_\" .msg}}", "Hello_World"},
      {"repeat", "{{repeat 3 \"ab\"}}", "ababab"},
      {"trim", "[{{trim .spaced}}]", "[padded]"},
      {"trimAll", "{{trimAll \"$\" \"$$5.00$\"}}", "5.00"},
      {"trimSuffix", "{{trimSuffix \"-\" \"hello-\"}}", "hello"},
      {"trimPrefix", "{{trimPrefix \"-\" \"-hello\"}}", "hello"},
      {"b64enc", "{{b64enc .app}}", "Zm9v"},
      {"b64enc padding", "{{b64enc \"ab\"}}", "YWI="},
      {"int from string", "{{int .n}}", "42"},
      {"int from float string", "{{int \"12.000\"}}", "12"},
      {"int from junk", "{{int .app}}", "0"},
      {"float64 from string", "{{float64 .f}}", "1.5"},
      {"add", "{{add 1 2 .n}}", "45"},
      {"add float truncates", "{{add 1.9 1}}", "2"},
      {"sub", "{{sub .n 2}}", "40"},
      {"mul", "{{mul 2 3 4}}", "24"},
      {"div", "{{div 7 2}}", "3"},
      {"div by zero", "{{div 1 0}}", nullptr,
       "template: line:1:2: executing \"line\" at <div 1 0>: error calling div: runtime error: "
       "integer divide by zero"},
      {"mod", "{{mod 7 3}}", "1"},
      {"addf decimal", "{{addf 1.1 2.2}}", "3.3"},
      {"subf", "{{subf 5 1.5}}", "3.5"},
      {"mulf", "{{mulf 1.1 3}}", "3.3"},
      {"divf", "{{divf 1 4}}", "0.25"},
      {"max min", "{{max 1 5 3}} {{min 4 2 8}}", "5 2"},
      {"maxf minf", "{{maxf 1.5 2.5}} {{minf 1.5 2.5}}", "2.5 1.5"},
      {"ceil floor", "{{ceil 1.2}} {{floor 1.8}}", "2 1"},
      {"round", "{{round 3.14159 2}}", "3.14"},
      {"round half", "{{round 2.5 0}}", "3"},
      {"default empty", "{{.empty | default \"none\"}}", "none"},
      {"default missing", "{{.nope | default \"none\"}}", "none"},
      {"default set", "{{.app | default \"none\"}}", "foo"},
      {"default zero int", "{{default 5 0}}", "5"},
      {"fromJson field", "{{(fromJson .json).b}}", "x"},
      {"fromJson number", "{{(fromJson .json).a}}", "1"},
      {"fromJson nested", "{{(fromJson .json).d.e}}", "true"},
      {"fromJson missing key", "{{(fromJson .json).zz}}", "<no value>"},
      {"fromJson null", "{{(fromJson .json).n}}", "<no value>"},
      {"fromJson print map", "{{(fromJson .json).d}}", "map[e:true]"},
      {"fromJson print list", "{{(fromJson .json).c}}", "[1 2 3]"},
      {"fromJson invalid", "{{fromJson \"{\"}}", "<no value>"},
      {"fromJson nil field", "{{(fromJson .json).n.x}}", nullptr,
       "template: line:1:12: executing \"line\" at <.json>: nil pointer evaluating interface "
       "{}.x"},
  });
}

TEST(TemplateTest, ValuePrinting) {
  RunCases({
      {"large float uses exponent", "{{ 123456789.0 }}", "1.23456789e+08"},
      {"float below 1e6 is plain", "{{ 100000.0 }}", "100000"},
      {"float 1e21", "{{ float64 \"1e21\" }}", "1e+21"},
      {"negative float", "{{ -2.25 }}", "-2.25"},
      {"int64 product", "{{ mul 1000000 1000000 }}", "1000000000000"},
      {"bool from function", "{{ hasPrefix \"f\" .app }}", "true"},
      {"float from function", "{{ float64 \"0.1\" }}", "0.1"},
      {"float division", "{{ divf 1 3 }}", "0.3333333333333333"},
      {"loose add", "{{ add \"3\" 2.9 }}", "5"},
      {"loose int of bool", "{{ int true }}", "1"},
      {"default false is empty", "{{ default \"d\" false }}", "d"},
      {"print root", "{{ with fromJson \"{}\" }}x{{ else }}{{ len $ }}{{ end }}", "13"},
      {"time in print", "{{ print (toDate \"2006\" \"2024\") }}", "2024-01-01 00:00:00 +0000 UTC"},
      {"nil in print", "{{ print nil }}", "<nil>"},
      {"printf nil", "{{ printf \"%v\" nil }}", "<nil>"},
      {"printf list", "{{ printf \"%v\" (fromJson \"[1,\\\"a\\\"]\") }}", "[1 a]"},
      {"assign to undeclared", "{{ $z = 1 }}", nullptr,
       "template: line:1:8: executing \"line\" at <1>: undefined variable: $z"},
  });
}

TEST(TemplateTest, Dates) {
  RunCases({
      {"date rfc3339", "{{date \"2006-01-02T15:04:05Z07:00\" __timestamp__}}",
       "2023-11-14T22:13:20Z"},
      {"date names", "{{date \"Mon Jan _2 3:04PM\" __timestamp__}}", "Tue Nov 14 10:13PM"},
      {"date long names", "{{date \"Monday, January 2 2006\" __timestamp__}}",
       "Tuesday, November 14 2023"},
      {"date fraction", "{{date \"05.000 05.999999\" __timestamp__}}", "20.123 20.123456"},
      {"date yday", "{{date \"002 06\" __timestamp__}}", "318 23"},
      {"date numeric offset", "{{date \"-0700 -07:00 MST\" __timestamp__}}", "+0000 +00:00 UTC"},
      {"date from int", "{{date \"2006-01-02\" 86400}}", "1970-01-02"},
      {"toDate", "{{toDate \"2006-01-02\" \"2024-03-05\"}}", "2024-03-05 00:00:00 +0000 UTC"},
      {"toDate offset", "{{toDate \"2006-01-02T15:04:05Z07:00\" \"2024-03-05T10:00:00+02:00\"}}",
       "2024-03-05 10:00:00 +0200 +0200"},
      {"toDate then unixEpoch",
       "{{toDate \"2006-01-02T15:04:05Z07:00\" \"2024-03-05T10:00:00+02:00\" | unixEpoch}}",
       "1709625600"},
      {"toDate fraction",
       "{{toDate \"2006-01-02 15:04:05\" \"2024-03-05 10:00:00.5\" | unixEpochMillis}}",
       "1709632800500"},
      {"toDate bad gives zero time", "{{toDate \"2006-01-02\" \"nope\"}}",
       "0001-01-01 00:00:00 +0000 UTC"},
      {"toDate month name", "{{toDate \"Jan 2 2006\" \"feb 29 2024\" | date \"2006-01-02\"}}",
       "2024-02-29"},
      {"toDate bad day", "{{toDate \"2006-01-02\" \"2023-02-29\" | unixEpoch}}", "-62135596800"},
      {"date of toDate in offset shows UTC",
       "{{toDate \"2006-01-02T15:04:05Z07:00\" \"2024-03-05T10:00:00+02:00\" | date \"15:04 "
       "MST\"}}",
       "08:00 UTC"},
      // Zones from the system tz database (observed Go behaviour of ParseInLocation).
      {"toDateInZone IANA winter",
       "{{toDateInZone \"2006-01-02 15:04\" \"Europe/Paris\" \"2024-01-15 12:00\"}}",
       "2024-01-15 12:00:00 +0100 CET"},
      {"toDateInZone IANA summer epoch",
       "{{toDateInZone \"2006-01-02 15:04\" \"Europe/Paris\" \"2024-07-15 12:00\" | unixEpoch}}",
       "1721037600"},
      {"toDateInZone IANA then date is UTC",
       "{{toDateInZone \"2006-01-02 15:04\" \"America/New_York\" \"2024-07-15 12:00\" | date "
       "\"15:04 MST\"}}",
       "16:00 UTC"},
      {"toDateInZone unknown zone is UTC",
       "{{toDateInZone \"2006-01-02 15:04\" \"Nowhere/City\" \"2024-07-15 12:00\"}}",
       "2024-07-15 12:00:00 +0000 UTC"},
      {"toDateInZone explicit offset matching zone",
       "{{toDateInZone \"2006-01-02 15:04 -07:00\" \"Europe/Paris\" \"2024-07-15 12:00 +02:00\"}}",
       "2024-07-15 12:00:00 +0200 CEST"},
      {"pm parse", "{{toDate \"3:04PM\" \"1:30PM\" | date \"15:04\"}}", "13:30"},
  });
}

// The examples of Loki's "LogQL template functions" page, with the outputs it states.
TEST(TemplateTest, LokiDocumentationExamples) {
  RunCases({
      {"doc pipeline", "{{ .path | replace \"/\" \"_\" | trunc 5 | upper }}", "_API_"},
      {"doc and contains",
       "{{ if and (contains \"he\" \"hello\") (contains \"llo\" \"hello\") }} yes {{end}}",
       " yes "},
      {"doc else if",
       "{{ if contains \"ErrTimeout\" .err }} timeout {{else if contains \"he\" \"hello\"}} yes "
       "{{else}} no {{end}}",
       " yes "},
      {"doc alignLeft", "{{ alignLeft 5 \"hello world\"}}|{{ alignLeft 5 \"hi\"}}|",
       "hello|hi   |"},
      {"doc alignRight", "{{ alignRight 5 \"hello world\"}}|{{ alignRight 5 \"hi\"}}",
       "world|   hi"},
      {"doc default", "{{ default \"-\" \"\" }}{{ default \"-\" \"foo\" }}", "-foo"},
      {"doc repeat", "{{ repeat 3 \"hello\" }}", "hellohellohello"},
      {"doc printf", "{{ printf \"The IP address was %s\" .ip }}", "The IP address was 10.0.0.1"},
      {"doc printf width precision", "[{{ printf \"%-10.3s\" .msg }}]", "[Hel       ]"},
      {"doc replace", "{{ replace \"hello\" \"world\" \"hello world\" }}", "world world"},
      {"doc substr", "{{ substr 0 5 \"hello world\"}} {{ substr 6 11 \"hello world\"}}",
       "hello world"},
      {"doc title", "{{ title \"hello world\"}}", "Hello World"},
      {"doc trim", "{{ trim \"   hello    \" }}", "hello"},
      {"doc trimAll", "{{ trimAll \"$\" \"$5.00\" }}", "5.00"},
      {"doc trunc", "{{ trunc 5 \"hello world\"}} {{ trunc -5 \"hello world\"}}", "hello world"},
      {"doc upper lower", "{{ upper \"hello\"}} {{ lower \"HELLO\"}}", "HELLO hello"},
      {"doc add", "{{ add 3 2 5 }}", "10"},
      {"doc addf", "{{ addf 3.5 2 5 }}", "10.5"},
      {"doc ceil", "{{ ceil 123.001 }}", "124"},  // Go prints float64 124 as "124"
      {"doc div", "{{ div 10 2}}", "5"},
      {"doc divf", "{{ divf 10 2 4}}", "1.25"},
      {"doc float64", "{{ \"3.5\" | float64 }}", "3.5"},
      {"doc floor", "{{ floor 123.9999 }}", "123"},
      {"doc int", "{{ \"3\" | int }}", "3"},
      {"doc max", "{{ max 1 2 3 }}", "3"},
      {"doc maxf", "{{ maxf 1 2.5 3 }}", "3"},
      {"doc min", "{{ min 1 2 3 }}", "1"},
      {"doc minf", "{{ minf 1 2.5 3 }}", "1"},
      {"doc mul", "{{ mul 5 2 3}}", "30"},
      {"doc mulf", "{{ mulf 5.5 2 2.5 }}", "27.5"},
      {"doc mod", "{{ mod 10 3}}", "1"},
      {"doc round", "{{ round 123.555555 3 }}", "123.556"},
      {"doc round roundOn", "{{ round 123.88571428571 5 .2 }}", "123.88572"},
      {"doc round default roundOn", "{{ round 123.88571428571 5 }}", "123.88571"},
      {"doc sub", "{{ sub 5 2 }}", "3"},
      {"doc subf", "{{ subf  5.5 2 1.5 }}", "2"},
      {"doc count", "{{ count \"a|b\" \"abab\" }} {{ count \"o\" \"foo\" }}", "4 2"},
      {"doc count piped line", "{{ __line__ | count \"e\" }}", "2"},
      {"doc regexReplaceAll", "{{ regexReplaceAll \"(a*)bc\" \"xaabcy\" \"${1}a\" }}", "xaaay"},
      {"doc regexReplaceAllLiteral",
       "{{ regexReplaceAllLiteral \"(ts=)\" \"ts=1\" \"timestamp=\" }}", "timestamp=1"},
      {"doc fromJson range",
       "{{ range $q := fromJson \"[{\\\"query\\\":\\\"up\\\"},{\\\"query\\\":\\\"down\\\"}]\" }} "
       "{{ $q.query }} {{ end }}",
       " up  down "},
      {"doc fromJson print", "{{fromJson \"{\\\"foo\\\": 55}\"}}", "map[foo:55]"},
      {"doc unixToTime", "from=\"{{date \"2006-01-02\" (unixToTime \"1679577215\")}}\"",
       "from=\"2023-03-23\""},
      {"doc toDateInZone", "{{ toDateInZone \"2006-01-02\" \"UTC\" \"2021-11-02\" | unixEpoch }}",
       "1635811200"},
      {"doc toDate nanos layout",
       "{{ \"2021-11-02T10:11:12.5Z\" | toDate \"2006-01-02T15:04:05.999999999Z\" | "
       "unixEpochMillis }}",
       "1635847872500"},
      {"doc timestamp date", "{{ __timestamp__ | date \"2006-01-02T15:04:05.00Z-07:00\" }}",
       "2023-11-14T22:13:20.12Z+00:00"},  // "Z" before "-07:00" is literal text
      {"doc sub of label epochs", "{{sub .epoch \"1699999000\"}}", "1000"},
  });
}

TEST(TemplateTest, Constness) {
  auto is_const = [](const char* t) {
    auto p = Template::Parse(t);
    EXPECT_TRUE(p.ok()) << t;
    return p.ok() && p->IsConstant();
  };
  EXPECT_TRUE(is_const("plain"));
  EXPECT_TRUE(is_const("{{ \"a\" | ToUpper }}"));
  EXPECT_TRUE(is_const("{{ $x := 1 }}{{ $x }}"));
  EXPECT_FALSE(is_const("{{ .app }}"));
  EXPECT_FALSE(is_const("{{ __line__ }}"));
  EXPECT_FALSE(is_const("{{ __timestamp__ }}"));
  EXPECT_FALSE(is_const("{{ now }}"));
  EXPECT_FALSE(is_const("{{ $.app }}"));
  EXPECT_FALSE(is_const("{{ len . }}"));
}

TEST(TemplateTest, ParseNameAppearsInMessages) {
  auto t = Template::Parse("{{ nope }}", "label");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().message(), "template: label:1: function \"nope\" not defined");
}

TEST(TemplateTest, ExecuteAppendsAndIsReusable) {
  auto t = Template::Parse("{{.app}}-{{.level}}");
  ASSERT_TRUE(t.ok());
  MapData d = Fixture();
  std::string out = "prefix:";
  ASSERT_TRUE(t->Execute(d, &out).ok());
  EXPECT_EQ(out, "prefix:foo-error");
  d.labels["app"] = "bar";
  out.clear();
  ASSERT_TRUE(t->Execute(d, &out).ok());
  EXPECT_EQ(out, "bar-error");
}

TEST(TemplateTest, FieldsAndLiteralsDoNotReallocateOutput) {
  // Hot path: once *out has grown, executing a fields-and-literals template must not
  // reallocate it (the executor itself only appends views).
  auto t = Template::Parse("level={{.level}} app={{ .app }} msg={{.msg}}");
  ASSERT_TRUE(t.ok());
  MapData d = Fixture();
  std::string out;
  out.reserve(256);
  const char* before = out.data();
  for (int i = 0; i < 100; ++i) {
    out.clear();
    ASSERT_TRUE(t->Execute(d, &out).ok());
  }
  EXPECT_EQ(out.data(), before);
  EXPECT_EQ(out, "level=error app=foo msg=Hello World");
}

TEST(TemplateTest, FieldsAndLiteralsExecuteWithoutAllocating) {
  // Labels, literals, `$`, `with` on a field and trim markers: the executor works on views.
  auto t = Template::Parse(
      "level={{.level}} app={{ .app -}} {{\"lit\"}} {{$.msg}} {{with .n}}{{.}}{{end}}");
  ASSERT_TRUE(t.ok());
  MapData d = Fixture();
  std::string out;
  out.reserve(1024);
  ASSERT_TRUE(t->Execute(d, &out).ok());  // warm-up (function-local statics, if any)
  skald::testing::AllocCounter::Start();
  for (int i = 0; i < 100; ++i) {
    out.clear();
    Status st = t->Execute(d, &out);
    if (!st.ok()) break;
  }
  EXPECT_EQ(skald::testing::AllocCounter::Stop(), 0u);
  EXPECT_EQ(out, "level=error app=foolit Hello World 42");
}

TEST(TemplateTest, LimitsStopRunawayTemplates) {
  MapData d = Fixture();
  std::string out;
  auto big = Template::Parse("{{repeat 20000000 \"x\"}}");
  ASSERT_TRUE(big.ok());
  EXPECT_FALSE(big->Execute(d, &out).ok());
  auto loop = Template::Parse("{{range 100000000}}{{end}}");
  ASSERT_TRUE(loop.ok());
  Status st = loop->Execute(d, &out);
  EXPECT_FALSE(st.ok());
  std::string deep(500, '(');
  deep += ".app";
  deep += std::string(500, ')');
  auto nested = Template::Parse("{{" + deep + "}}");
  EXPECT_FALSE(nested.ok());
}

}  // namespace
}  // namespace skald::logql
