// Rule files: decoding (yaml-cpp, with the strictness and error texts of Go's yaml.v3 as Loki
// configures it), Loki's validation (pkg/ruler/compat.go ValidateGroups, which follows
// Prometheus' rulefmt) and encoding. docs/formats/rules.md describes the format.
#include "ruler/rules.h"

#include "core/time.h"
#include "core/utf8.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <exception>
#include <initializer_list>
#include <limits>
#include <optional>

#include "core/go_string.h"
#include "logql/ast.h"
#include "logql/parser.h"
#include "logql/template.h"

namespace skald::ruler {
namespace {

// ---------------------------------------------------------------------------------------------
// Decoding. Loki reads rule files with yaml.v3's KnownFields(true) into rulefmt structs, so
// clients see yaml.v3's texts ("yaml: unmarshal errors:\n  line 3: field foo not found in type
// rulefmt.Rule"); the decoder below reproduces them on yaml-cpp's node tree. Go type names
// appear in those texts because operators compare them with Loki's.

constexpr std::string_view kTypeRuleGroups = "rulefmt.RuleGroups";
constexpr std::string_view kTypeRuleGroup = "rulefmt.RuleGroup";
constexpr std::string_view kTypeRule = "rulefmt.Rule";

int LineOf(const YAML::Node& n) { return n.Mark().line + 1; }

bool IsPlain(const YAML::Node& n) { return n.Tag() == "?"; }

// YAML 1.2 core-schema resolution of a plain scalar (what yaml.v3 does), enough to name the
// tag in type errors and to read integers.
bool IsNullText(std::string_view s) {
  return s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL";
}
bool IsBoolText(std::string_view s) {
  for (std::string_view b : {"true", "True", "TRUE", "false", "False", "FALSE"}) {
    if (s == b) return true;
  }
  return false;
}

// Integers as yaml.v3 resolves them: optional sign, decimal or 0x/0o/0b, '_' separators.
std::optional<int64_t> ParseYamlInt(std::string_view s) {
  std::string digits;
  for (char c : s) {
    if (c != '_') digits.push_back(c);
  }
  if (digits.empty()) return std::nullopt;
  size_t i = 0;
  bool neg = false;
  if (digits[0] == '+' || digits[0] == '-') {
    neg = digits[0] == '-';
    i = 1;
  }
  int base = 10;
  if (digits.size() > i + 2 && digits[i] == '0') {
    const char b = digits[i + 1];
    if (b == 'x' || b == 'X') base = 16;
    if (b == 'o' || b == 'O') base = 8;
    if (b == 'b' || b == 'B') base = 2;
    if (base != 10) i += 2;
  }
  if (i >= digits.size()) return std::nullopt;
  unsigned __int128 v = 0;
  for (; i < digits.size(); ++i) {
    const char c = digits[i];
    int d;
    if (c >= '0' && c <= '9') {
      d = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      d = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      d = c - 'A' + 10;
    } else {
      return std::nullopt;
    }
    if (d >= base) return std::nullopt;
    v = v * base + d;
    if (v > static_cast<unsigned __int128>(std::numeric_limits<int64_t>::max()) + 1) {
      return std::nullopt;
    }
  }
  if (neg) return static_cast<int64_t>(-static_cast<__int128>(v));
  if (v > static_cast<unsigned __int128>(std::numeric_limits<int64_t>::max())) return std::nullopt;
  return static_cast<int64_t>(v);
}

std::optional<double> ParseYamlFloat(std::string_view s) {
  if (s == ".inf" || s == ".Inf" || s == ".INF" || s == "+.inf" || s == "+.Inf" || s == "+.INF") {
    return std::numeric_limits<double>::infinity();
  }
  if (s == "-.inf" || s == "-.Inf" || s == "-.INF") return -std::numeric_limits<double>::infinity();
  if (s == ".nan" || s == ".NaN" || s == ".NAN") return std::nan("");
  // [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?
  size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  size_t int_digits = 0, frac_digits = 0;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++int_digits;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++frac_digits;
  }
  if (int_digits + frac_digits == 0) return std::nullopt;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    size_t exp_digits = 0;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++exp_digits;
    if (exp_digits == 0) return std::nullopt;
  }
  if (i != s.size()) return std::nullopt;
  return std::strtod(std::string(s).c_str(), nullptr);
}

// The short tag yaml.v3 prints for a node ("!!str", "!!int", "!!map", ...).
std::string ShortTag(const YAML::Node& n) {
  const std::string& tag = n.Tag();
  constexpr std::string_view kLong = "tag:yaml.org,2002:";
  if (tag.rfind(kLong, 0) == 0) return "!!" + tag.substr(kLong.size());
  if (tag != "?" && tag != "!" && !tag.empty()) return tag;
  switch (n.Type()) {
    case YAML::NodeType::Map:
      return "!!map";
    case YAML::NodeType::Sequence:
      return "!!seq";
    case YAML::NodeType::Null:
      return "!!null";
    default:
      break;
  }
  if (tag == "!") return "!!str";  // quoted
  const std::string& s = n.Scalar();
  if (IsNullText(s)) return "!!null";
  if (IsBoolText(s)) return "!!bool";
  if (ParseYamlInt(s)) return "!!int";
  if (ParseYamlFloat(s)) return "!!float";
  return "!!str";
}

bool IsNullNode(const YAML::Node& n) {
  if (n.IsNull()) return true;
  return n.IsScalar() && IsPlain(n) && IsNullText(n.Scalar());
}

class Decoder {
 public:
  // The outcome: OK, the first fatal error (yaml.v3 aborts on an Unmarshaler's error, e.g. a
  // bad duration), or every type error collected.
  Status Finish() const {
    if (fatal_) return Status::InvalidArgument(*fatal_);
    if (errors_.empty()) return Status::OK();
    std::string msg = "yaml: unmarshal errors:";
    for (const std::string& e : errors_) msg += "\n  " + e;
    return Status::InvalidArgument(std::move(msg));
  }
  bool failed() const { return fatal_.has_value(); }

  void RuleFile(const YAML::Node& n, std::vector<RuleGroup>* out) {
    if (IsNullNode(n)) return;  // an empty file has no groups
    Struct(n, kTypeRuleGroups, {"groups"}, [&](std::string_view, const YAML::Node& v) {
      if (IsNullNode(v)) return;
      if (!v.IsSequence()) return TypeError(v, "[]" + std::string(kTypeRuleGroup));
      for (const YAML::Node& item : v) {
        if (failed()) return;
        out->emplace_back();
        Group(item, &out->back());
      }
    });
  }

  void Group(const YAML::Node& n, RuleGroup* g) {
    if (IsNullNode(n)) return;
    Struct(n, kTypeRuleGroup, {"name", "interval", "query_offset", "limit", "rules", "labels"},
           [&](std::string_view key, const YAML::Node& v) {
             if (key == "name") {
               String(v, &g->name);
             } else if (key == "interval") {
               Duration(v, &g->interval_ms);
             } else if (key == "limit") {
               Int(v, &g->limit);
             } else if (key == "rules") {
               if (IsNullNode(v)) return;
               if (!v.IsSequence()) return TypeError(v, "[]" + std::string(kTypeRule));
               for (const YAML::Node& item : v) {
                 if (failed()) return;
                 g->rules.emplace_back();
                 RuleNode(item, &g->rules.back());
               }
             } else if (key == "query_offset") {
               // Part of rulefmt, so Loki accepts it, but its ruler drops it (rulespb has no
               // field for it); Skald does the same.
               int64_t ignored = 0;
               Duration(v, &ignored);
             } else if (key == "labels") {
               // Likewise accepted and dropped by Loki.
               StringPairs ignored;
               Pairs(v, &ignored);
             }
           });
  }

  void RuleNode(const YAML::Node& n, Rule* r) {
    if (IsNullNode(n)) return;
    Struct(n, kTypeRule,
           {"record", "alert", "expr", "for", "keep_firing_for", "labels", "annotations"},
           [&](std::string_view key, const YAML::Node& v) {
             if (key == "record") {
               String(v, &r->record);
             } else if (key == "alert") {
               String(v, &r->alert);
             } else if (key == "expr") {
               String(v, &r->expr);
             } else if (key == "for") {
               Duration(v, &r->for_ms);
             } else if (key == "keep_firing_for") {
               Duration(v, &r->keep_firing_for_ms);
             } else if (key == "labels") {
               Pairs(v, &r->labels);
             } else if (key == "annotations") {
               Pairs(v, &r->annotations);
             }
           });
  }

 private:
  template <typename Fn>
  void Struct(const YAML::Node& n, std::string_view type,
              std::initializer_list<std::string_view> keys, Fn&& field) {
    if (!n.IsMap()) return TypeError(n, std::string(type));
    std::vector<std::string_view> seen;
    for (auto it = n.begin(); it != n.end() && !failed(); ++it) {
      const YAML::Node k = it->first;
      if (!k.IsScalar()) {
        TypeError(k, "string");
        continue;
      }
      const std::string& name = k.Scalar();
      const auto known = std::find(keys.begin(), keys.end(), name);
      if (known == keys.end()) {
        Error(k, "field " + name + " not found in type " + std::string(type));
        continue;
      }
      if (std::find(seen.begin(), seen.end(), *known) != seen.end()) {
        Error(k, "field " + name + " already set in type " + std::string(type));
        continue;
      }
      seen.push_back(*known);
      field(*known, it->second);
    }
  }

  // yaml.v3 stores any scalar's text in a string field; null leaves it empty.
  void String(const YAML::Node& n, std::string* out) {
    if (IsNullNode(n)) return;
    if (!n.IsScalar()) return TypeError(n, "string");
    *out = n.Scalar();
  }

  void Int(const YAML::Node& n, int64_t* out) {
    if (IsNullNode(n)) return;
    if (n.IsScalar()) {
      const std::string tag = ShortTag(n);
      if (tag == "!!int") {
        if (auto v = ParseYamlInt(n.Scalar())) {
          *out = *v;
          return;
        }
      } else if (tag == "!!float") {
        // yaml.v3 converts floats that fit (truncating), as Go's int conversion does.
        const double d = *ParseYamlFloat(n.Scalar());
        if (std::isfinite(d) && d < 9.2233720368547758e18 && d >= -9.2233720368547758e18) {
          *out = static_cast<int64_t>(d);
          return;
        }
      }
    }
    TypeError(n, "int");
  }

  // model.Duration's UnmarshalYAML: the text as a string, then ParseDuration, whose error
  // ends the whole decode unchanged (yaml.v3 does not wrap Unmarshaler errors).
  void Duration(const YAML::Node& n, int64_t* out) {
    if (IsNullNode(n)) return;
    if (!n.IsScalar()) return TypeError(n, "string");
    StatusOr<int64_t> d = ParsePromDuration(n.Scalar());
    if (!d.ok()) {
      fatal_ = d.status().message();
      return;
    }
    *out = *d;
  }

  void Pairs(const YAML::Node& n, StringPairs* out) {
    if (IsNullNode(n)) return;
    if (!n.IsMap()) return TypeError(n, "map[string]string");
    std::vector<std::pair<std::string, int>> seen;  // key, line
    for (auto it = n.begin(); it != n.end(); ++it) {
      const YAML::Node k = it->first;
      if (!k.IsScalar()) {
        TypeError(k, "string");
        continue;
      }
      const std::string key = IsNullNode(k) ? std::string() : k.Scalar();
      auto dup =
          std::find_if(seen.begin(), seen.end(), [&](const auto& s) { return s.first == key; });
      if (dup != seen.end()) {
        Error(k, "mapping key " + GoQuote(k.Scalar()) + " already defined at line " +
                     std::to_string(dup->second));
        continue;
      }
      seen.emplace_back(key, LineOf(k));
      std::string value;
      String(it->second, &value);
      out->emplace_back(key, std::move(value));
    }
  }

  void TypeError(const YAML::Node& n, const std::string& into) {
    const std::string tag = ShortTag(n);
    std::string value;
    if (tag != "!!map" && tag != "!!seq") {
      std::string v = n.IsScalar() ? n.Scalar() : std::string();
      if (v.size() > 10) v = v.substr(0, 7) + "...";
      value = " `" + v + "`";
    }
    Error(n, "cannot unmarshal " + tag + value + " into " + into);
  }

  void Error(const YAML::Node& n, std::string msg) {
    errors_.push_back("line " + std::to_string(LineOf(n)) + ": " + std::move(msg));
  }

  std::vector<std::string> errors_;
  std::optional<std::string> fatal_;
};

// Loads the first YAML document; yaml-cpp's exceptions become InvalidArgument.
// yaml.v3 (Loki's decoder) refuses what YAML does not allow in a stream: invalid UTF-8 and
// control characters other than tab, LF and CR. yaml-cpp would pass such bytes through and its
// emitter then escapes them, so a stored group would not read back as written.
Status CheckYamlCharacters(std::string_view yaml) {
  if (!IsValidUtf8(yaml)) return Status::InvalidArgument("yaml: invalid leading UTF-8 octet");
  size_t i = 0;
  while (i < yaml.size()) {
    char32_t r;
    i += DecodeUtf8Rune(yaml.substr(i), &r);
    const bool allowed = r == '\t' || r == '\n' || r == '\r' || (r >= 0x20 && r <= 0x7e) ||
                         r == 0x85 || (r >= 0xa0 && r <= 0xd7ff) || (r >= 0xe000 && r <= 0xfffd) ||
                         (r >= 0x10000 && r <= 0x10ffff);
    if (!allowed) return Status::InvalidArgument("yaml: control characters are not allowed");
  }
  return Status::OK();
}

template <typename Fn>
Status DecodeYaml(std::string_view yaml, Fn&& decode) {
  SKALD_RETURN_IF_ERROR(CheckYamlCharacters(yaml));
  try {
    const YAML::Node root = YAML::Load(std::string(yaml));
    Decoder d;
    decode(d, root);
    return d.Finish();
  } catch (const YAML::Exception& e) {
    if (e.mark.is_null()) return Status::InvalidArgument("yaml: " + e.msg);
    return Status::InvalidArgument("yaml: line " + std::to_string(e.mark.line + 1) + ": " + e.msg);
  } catch (const std::exception& e) {
    return Status::InvalidArgument(std::string("yaml: ") + e.what());
  }
}

// ---------------------------------------------------------------------------------------------
// Validation: Loki's ValidateGroups / validateRule, which report the first problem of each
// rule and every problem across rules; the API joins them with ", ".

bool IsLegacyLabelName(std::string_view s) {
  if (s.empty()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const bool ok = c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                    (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

bool IsLegacyMetricName(std::string_view s) {
  if (s.empty()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const bool ok = c == '_' || c == ':' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                    (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

// Functions of Prometheus' alert template engine (template/template.go) that Skald's LogQL
// template engine may not know. Prometheus only checks syntax here, so an unknown one of these
// must not fail validation.
constexpr std::string_view kPrometheusTemplateFuncs[] = {
    "query",
    "first",
    "label",
    "value",
    "strvalue",
    "args",
    "reReplaceAll",
    "safeHtml",
    "match",
    "title",
    "toUpper",
    "toLower",
    "graphLink",
    "tableLink",
    "sortByLabel",
    "stripPort",
    "stripDomain",
    "humanize",
    "humanize1024",
    "humanizeDuration",
    "humanizePercentage",
    "humanizeTimestamp",
    "toTime",
    "toDuration",
    "now",
    "pathPrefix",
    "externalURL",
    "parseDuration",
    "urlQueryEscape",
};

bool IsIdentByte(char c) {
  return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         (static_cast<unsigned char>(c) >= 0x80);
}

// Replaces every whole-word `from` with `to`. Whole words keep the lexing unchanged (inside
// actions, string literals and plain text alike), so only the function lookup differs.
std::string ReplaceWord(std::string_view text, std::string_view from, std::string_view to) {
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    const size_t p = text.find(from, i);
    if (p == std::string_view::npos) break;
    const bool start_ok = p == 0 || !IsIdentByte(text[p - 1]);
    const size_t end = p + from.size();
    const bool end_ok = end == text.size() || !IsIdentByte(text[end]);
    out.append(text.substr(i, p - i));
    out.append(start_ok && end_ok ? to : from);
    i = end;
  }
  out.append(text.substr(i));
  return out;
}

// Prometheus' ParseTest: the text behind the variable declarations the expander adds, under
// the template name "__alert_<alert>". Only syntax errors count (see above).
Status CheckAlertTemplate(std::string_view alert, std::string_view text) {
  static constexpr std::string_view kDefs =
      "{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}"
      "{{$externalURL := .ExternalURL}}{{$value := .Value}}";
  const std::string name = "__alert_" + std::string(alert);
  std::string full = std::string(kDefs) + std::string(text);
  // Each retry removes one unknown Prometheus function; bounded by their number.
  for (size_t attempt = 0; attempt <= std::size(kPrometheusTemplateFuncs); ++attempt) {
    StatusOr<logql::Template> t = logql::Template::Parse(full, name);
    if (t.ok()) return Status::OK();
    const std::string& msg = t.status().message();
    // Go accepts {{define}} and {{template}}; the LogQL engine does not, so such a template
    // cannot be checked here and is let through like any other valid Go template.
    if (msg.find("is not supported in LogQL templates") != std::string::npos) {
      return Status::OK();
    }
    bool replaced = false;
    for (std::string_view f : kPrometheusTemplateFuncs) {
      if (msg.find("function " + GoQuote(f) + " not defined") != std::string::npos) {
        // `print` exists in every Go template engine and takes any arguments.
        full = ReplaceWord(full, f, "print");
        replaced = true;
        break;
      }
    }
    if (!replaced) return t.status();
  }
  return Status::OK();
}

std::string ValidateRule(const Rule& r, std::string_view group) {
  if (!r.record.empty() && !r.alert.empty()) {
    return "only one of 'record' and 'alert' must be set";
  }
  if (r.record.empty() && r.alert.empty()) return "one of 'record' or 'alert' must be set";
  if (r.expr.empty()) return "field 'expr' must be set in rule";
  {
    const std::string what =
        !r.record.empty() ? "record '" + r.record + "'" : "alert '" + r.alert + "'";
    auto parsed = logql::ParseExpr(r.expr);
    if (!parsed.ok()) {
      return "could not parse expression for " + what + " in group '" + std::string(group) +
             "': " + parsed.status().message();
    }
    // Loki accepts a log query here and fails every evaluation with this text; Skald says it
    // when the rule is written.
    if (logql::IsLogQuery(**parsed)) {
      return "invalid expression for " + what + " in group '" + std::string(group) +
             "': rule result is not a vector or scalar";
    }
  }
  if (!r.record.empty()) {
    if (!r.annotations.empty()) return "invalid field 'annotations' in recording rule";
    if (r.for_ms != 0) return "invalid field 'for' in recording rule";
    if (r.keep_firing_for_ms != 0) return "invalid field 'keep_firing_for' in recording rule";
    if (!IsLegacyMetricName(r.record)) return "invalid recording rule name: " + r.record;
  }
  for (const auto& [name, value] : r.labels) {
    if (!IsLegacyLabelName(name) || name == "__name__") return "invalid label name: " + name;
    if (!IsValidUtf8(value)) return "invalid label value: " + value;
  }
  for (const auto& [name, value] : r.annotations) {
    if (!IsLegacyLabelName(name)) return "invalid annotation name: " + name;
  }
  // As in Prometheus, only alert labels and annotations are templates.
  if (r.is_alert()) {
    for (const auto& [name, value] : r.labels) {
      Status s = CheckAlertTemplate(r.alert, value);
      if (!s.ok()) return "label " + GoQuote(name) + ": " + s.message();
    }
    for (const auto& [name, value] : r.annotations) {
      Status s = CheckAlertTemplate(r.alert, value);
      if (!s.ok()) return "annotation " + GoQuote(name) + ": " + s.message();
    }
  }
  return "";
}

// `names` collects the group names seen so far in the file (nullptr: a single group).
void ValidateGroupAt(const RuleGroup& g, size_t index, std::vector<std::string_view>* names,
                     std::vector<std::string>* errs) {
  if (g.name.empty()) {
    errs->push_back("group " + std::to_string(index) + ": Groupname must not be empty");
  }
  if (names != nullptr) {
    if (std::find(names->begin(), names->end(), g.name) != names->end()) {
      errs->push_back("groupname: \"" + g.name + "\" is repeated in the same file");
    }
    names->push_back(g.name);
  }
  for (const Rule& r : g.rules) {
    std::string e = ValidateRule(r, g.name);
    if (!e.empty()) errs->push_back(std::move(e));
  }
}

Status JoinErrors(const std::vector<std::string>& errs) {
  if (errs.empty()) return Status::OK();
  std::string msg;
  for (const std::string& e : errs) {
    if (!msg.empty()) msg += ", ";
    msg += e;
  }
  return Status::InvalidArgument(std::move(msg));
}

// ---------------------------------------------------------------------------------------------
// Encoding.

// True when a block literal reproduces `s` exactly, whatever YAML parser reads it back: the
// text ends with one newline (the literal's default "clip" chomping keeps exactly one), and
// nothing depends on indentation or trailing-space handling.
bool LiteralSafe(std::string_view s) {
  if (s.size() < 2 || s.back() != '\n') return false;
  if (s.front() == ' ' || s.front() == '\t') return false;  // would read as indentation
  const std::string_view body = s.substr(0, s.size() - 1);
  size_t start = 0;
  while (start <= body.size()) {
    size_t end = body.find('\n', start);
    if (end == std::string_view::npos) end = body.size();
    const std::string_view line = body.substr(start, end - start);
    // Empty lines and trailing blanks are where readers (and editors) disagree.
    if (line.empty() || line.back() == ' ' || line.back() == '\t') return false;
    for (char c : line) {
      const auto u = static_cast<unsigned char>(c);
      if ((u < 0x20 && c != '\t') || u == 0x7f) return false;
    }
    start = end + 1;
  }
  return IsValidUtf8(s);
}

void EmitString(YAML::Emitter& out, const std::string& s) {
  if (s.find('\n') != std::string::npos && LiteralSafe(s)) {
    // The document ends with a newline, so the literal's clip chomping restores the final one.
    out << YAML::Literal << s.substr(0, s.size() - 1);
    return;
  }
  bool quote = !IsValidUtf8(s);
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) quote = true;
  }
  // Keep scalars that other readers would resolve as numbers, booleans or null as strings.
  if (IsNullText(s) || IsBoolText(s) || ParseYamlInt(s) || ParseYamlFloat(s)) quote = true;
  for (std::string_view yes : {"yes", "Yes", "YES", "no", "No", "NO", "on", "On", "ON", "off",
                               "Off", "OFF", "y", "Y", "n", "N"}) {
    if (s == yes) quote = true;  // YAML 1.1 booleans
  }
  if (quote) out << YAML::DoubleQuoted;
  out << s;
}

void EmitPairs(YAML::Emitter& out, std::string_view key, const StringPairs& pairs) {
  if (pairs.empty()) return;
  out << YAML::Key << std::string(key) << YAML::Value << YAML::BeginMap;
  for (const auto& [k, v] : pairs) {
    out << YAML::Key;
    EmitString(out, k);
    out << YAML::Value;
    EmitString(out, v);
  }
  out << YAML::EndMap;
}

void EmitRule(YAML::Emitter& out, const Rule& r) {
  out << YAML::BeginMap;
  if (!r.record.empty()) {
    out << YAML::Key << "record" << YAML::Value;
    EmitString(out, r.record);
  }
  if (!r.alert.empty()) {
    out << YAML::Key << "alert" << YAML::Value;
    EmitString(out, r.alert);
  }
  out << YAML::Key << "expr" << YAML::Value;
  EmitString(out, r.expr);
  if (r.for_ms != 0) out << YAML::Key << "for" << YAML::Value << FormatPromDuration(r.for_ms);
  if (r.keep_firing_for_ms != 0) {
    out << YAML::Key << "keep_firing_for" << YAML::Value
        << FormatPromDuration(r.keep_firing_for_ms);
  }
  EmitPairs(out, "labels", r.labels);
  EmitPairs(out, "annotations", r.annotations);
  out << YAML::EndMap;
}

void EmitGroup(YAML::Emitter& out, const RuleGroup& g) {
  out << YAML::BeginMap;
  out << YAML::Key << "name" << YAML::Value;
  EmitString(out, g.name);
  if (g.interval_ms != 0) {
    out << YAML::Key << "interval" << YAML::Value << FormatPromDuration(g.interval_ms);
  }
  if (g.limit != 0) out << YAML::Key << "limit" << YAML::Value << g.limit;
  // `rules` has no omitempty in rulefmt: an empty group still prints `rules: []`.
  out << YAML::Key << "rules" << YAML::Value;
  if (g.rules.empty()) out << YAML::Flow;
  out << YAML::BeginSeq;
  for (const Rule& r : g.rules) EmitRule(out, r);
  out << YAML::EndSeq;
  out << YAML::EndMap;
}

void EmitGroups(YAML::Emitter& out, const std::vector<RuleGroup>& groups) {
  if (groups.empty()) out << YAML::Flow;
  out << YAML::BeginSeq;
  for (const RuleGroup& g : groups) EmitGroup(out, g);
  out << YAML::EndSeq;
}

std::string Finish(const YAML::Emitter& out) {
  std::string s = out.c_str();
  if (s.empty() || s.back() != '\n') s.push_back('\n');
  return s;
}

}  // namespace

StatusOr<RuleGroup> ParseRuleGroupYaml(std::string_view yaml) {
  RuleGroup group;
  SKALD_RETURN_IF_ERROR(
      DecodeYaml(yaml, [&](Decoder& d, const YAML::Node& root) { d.Group(root, &group); }));
  SKALD_RETURN_IF_ERROR(ValidateGroup(group));
  return group;
}

StatusOr<std::vector<RuleGroup>> ParseRuleFileYaml(std::string_view yaml) {
  std::vector<RuleGroup> groups;
  SKALD_RETURN_IF_ERROR(
      DecodeYaml(yaml, [&](Decoder& d, const YAML::Node& root) { d.RuleFile(root, &groups); }));
  std::vector<std::string> errs;
  std::vector<std::string_view> names;
  for (size_t i = 0; i < groups.size(); ++i) ValidateGroupAt(groups[i], i, &names, &errs);
  SKALD_RETURN_IF_ERROR(JoinErrors(errs));
  return groups;
}

Status ValidateGroup(const RuleGroup& group) {
  std::vector<std::string> errs;
  ValidateGroupAt(group, 0, nullptr, &errs);
  return JoinErrors(errs);
}

std::string GroupToYaml(const RuleGroup& group) {
  YAML::Emitter out;
  EmitGroup(out, group);
  return Finish(out);
}

std::string NamespacesToYaml(const RuleNamespaces& namespaces) {
  YAML::Emitter out;
  if (namespaces.empty()) out << YAML::Flow;
  out << YAML::BeginMap;
  for (const auto& [ns, groups] : namespaces) {
    out << YAML::Key;
    EmitString(out, ns);
    out << YAML::Value;
    EmitGroups(out, groups);
  }
  out << YAML::EndMap;
  return Finish(out);
}

std::string RuleFileToYaml(const std::vector<RuleGroup>& groups) {
  YAML::Emitter out;
  out << YAML::BeginMap << YAML::Key << "groups" << YAML::Value;
  EmitGroups(out, groups);
  out << YAML::EndMap;
  return Finish(out);
}

// Rule durations are core's Prometheus durations (the one parser of that form), in ms.
StatusOr<int64_t> ParsePromDuration(std::string_view s) {
  SKALD_ASSIGN_OR_RETURN(int64_t ns, skald::ParsePromDuration(s));
  return ns / kNanosPerMilli;
}

std::string FormatPromDuration(int64_t ms) {
  return skald::FormatPromDuration(SaturatingMul(ms, kNanosPerMilli));
}

}  // namespace skald::ruler
