// LogQL AST helpers: rendering, equality, names. See ast.h.
#include "logql/ast.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "core/go_string.h"
#include "core/time.h"
#include "logql/regex_util.h"

namespace skald::logql {
namespace {

// kCanonical round-trips through the parser; kLoki is the text Loki's String() gives, which
// format_query shows: vector() with %f, unsimplified label-filter regexes in backquotes,
// byte sizes humanized (lossy: 17KiB prints as 17kB).
enum class Style { kCanonical, kLoki };

std::string LabelFilterStr(const LabelFilter& f, Style style);
std::string ExprStr(const Expr& e, Style style);

// An identifier as LogQL text. Loki's lexer turns any unknown character into
// an IDENTIFIER; "!" must not touch a following '=' / '~' / '>' or it would
// re-lex as an operator.
std::string Ident(std::string_view name) {
  std::string s(name);
  if (s == "!") s += " ";
  return s;
}

bool MatcherEq(const Matcher& a, const Matcher& b) {
  return a.type() == b.type() && a.name() == b.name() && a.value() == b.value();
}

bool OptMatcherEq(const std::optional<Matcher>& a, const std::optional<Matcher>& b) {
  if (a.has_value() != b.has_value()) return false;
  return !a.has_value() || MatcherEq(*a, *b);
}

std::string MatcherString(const Matcher& m) {
  std::string s = Ident(m.name());
  s += MatchTypeOperator(m.type());
  AppendGoQuoted(&s, m.value());
  return s;
}

// Shortest round-trip decimal digits of |v| and the decimal exponent of the
// first digit (v = 0.d1d2d3... * 10^(exp+1)).
void ShortestDigits(double v, std::string* digits, int* exp) {
  char buf[64];
  for (int p = 1; p <= 17; p++) {
    std::snprintf(buf, sizeof(buf), "%.*e", p - 1, std::fabs(v));
    if (std::strtod(buf, nullptr) == std::fabs(v) || p == 17) break;
  }
  std::string s(buf);
  size_t e = s.find('e');
  digits->clear();
  for (size_t i = 0; i < e; i++) {
    if (s[i] != '.') digits->push_back(s[i]);
  }
  while (digits->size() > 1 && digits->back() == '0') digits->pop_back();
  *exp = std::atoi(s.c_str() + e + 1);
}

std::string PlainDecimal(const std::string& digits, int exp) {
  std::string out;
  int dp = exp + 1;  // digits before the decimal point
  if (dp <= 0) {
    out = "0.";
    out.append(static_cast<size_t>(-dp), '0');
    out += digits;
  } else if (static_cast<size_t>(dp) >= digits.size()) {
    out = digits;
    out.append(static_cast<size_t>(dp) - digits.size(), '0');
  } else {
    out = digits.substr(0, static_cast<size_t>(dp)) + "." + digits.substr(static_cast<size_t>(dp));
  }
  return out;
}

// Go's strconv.FormatFloat(v, 'f', -1, 64).
std::string FormatGoFloatF(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == 0) return "0";  // "-0" would lex as a Go duration
  std::string digits;
  int exp;
  ShortestDigits(v, &digits, &exp);
  return (v < 0 ? "-" : "") + PlainDecimal(digits, exp);
}

std::string GroupingString(const Grouping& g) {
  std::string s = g.without ? " without (" : " by (";
  for (size_t i = 0; i < g.labels.size(); i++) {
    if (i > 0) s += ",";
    s += Ident(g.labels[i]);
  }
  return s + ")";
}

std::string JoinLabels(const std::vector<std::string>& l) {
  std::string s;
  for (size_t i = 0; i < l.size(); i++) {
    if (i > 0) s += ",";
    s += Ident(l[i]);
  }
  return s;
}

std::string ExtractionsString(const std::vector<LabelExtraction>& ex) {
  std::string s;
  for (size_t i = 0; i < ex.size(); i++) {
    if (i > 0) s += ",";
    s += Ident(ex[i].label) + "=";
    AppendGoQuoted(&s, ex[i].expression);
  }
  return s;
}

std::string StageString(const PipelineStage& st, Style style = Style::kCanonical) {
  std::string s;
  switch (st.kind) {
    case PipelineStage::Kind::kLineFilter:
      return LineFilterString(st.line_filter);
    case PipelineStage::Kind::kJson:
      s = "| json";
      if (!st.extractions.empty()) s += " " + ExtractionsString(st.extractions);
      return s;
    case PipelineStage::Kind::kLogfmt:
      s = "| logfmt";
      if (st.strict) s += " --strict";
      if (st.keep_empty) s += " --keep-empty";
      if (!st.extractions.empty()) s += " " + ExtractionsString(st.extractions);
      return s;
    case PipelineStage::Kind::kRegexp:
      return "| regexp " + GoQuote(st.param);
    case PipelineStage::Kind::kPattern:
      return "| pattern " + GoQuote(st.param);
    case PipelineStage::Kind::kUnpack:
      return "| unpack";
    case PipelineStage::Kind::kLabelFilter:
      return "| " + LabelFilterStr(*st.label_filter, style);
    case PipelineStage::Kind::kLineFormat:
      return "| line_format " + GoQuote(st.param);
    case PipelineStage::Kind::kLabelFormat:
      s = "| label_format ";
      for (size_t i = 0; i < st.label_formats.size(); i++) {
        if (i > 0) s += ",";
        s += Ident(st.label_formats[i].name) + "=";
        s += st.label_formats[i].rename ? Ident(st.label_formats[i].value)
                                        : GoQuote(st.label_formats[i].value);
      }
      return s;
    case PipelineStage::Kind::kDecolorize:
      return "| decolorize";
    case PipelineStage::Kind::kDrop:
    case PipelineStage::Kind::kKeep:
      s = st.kind == PipelineStage::Kind::kDrop ? "| drop " : "| keep ";
      for (size_t i = 0; i < st.named.size(); i++) {
        if (i > 0) s += ",";
        s += st.named[i].matcher ? MatcherString(*st.named[i].matcher) : Ident(st.named[i].name);
      }
      return s;
  }
  return s;
}

std::string MatchersString(const LogSelector& sel) {
  std::string s = "{";
  for (size_t i = 0; i < sel.matchers.size(); i++) {
    if (i > 0) s += ", ";
    s += MatcherString(sel.matchers[i]);
  }
  s += "}";
  return s;
}

std::string SelectorString(const LogSelector& sel, Style style = Style::kCanonical) {
  std::string s = MatchersString(sel);
  for (const auto& f : sel.line_filters) {
    s += ' ';
    s += LineFilterString(f);
  }
  for (const auto& st : sel.stages) {
    s += ' ';
    s += StageString(st, style);
  }
  return s;
}

std::string UnwrapString(const Unwrap& u, Style style = Style::kCanonical) {
  std::string s = " | unwrap ";
  switch (u.conv) {
    case Unwrap::Conv::kNone:
      s += Ident(u.label);
      break;
    case Unwrap::Conv::kBytes:
      s += "bytes(" + Ident(u.label) + ")";
      break;
    case Unwrap::Conv::kDuration:
      s += "duration(" + Ident(u.label) + ")";
      break;
    case Unwrap::Conv::kDurationSeconds:
      s += "duration_seconds(" + Ident(u.label) + ")";
      break;
  }
  for (const auto& f : u.post_filters) s += " | " + LabelFilterStr(f, style);
  return s;
}

template <typename T>
const T& As(const Expr& e) {
  return static_cast<const T&>(e);
}

}  // namespace

bool LineFilterSpec::HasIp() const {
  for (bool b : is_ip) {
    if (b) return true;
  }
  return false;
}

bool LineFilterSpec::operator==(const LineFilterSpec& o) const {
  if (op != o.op || values != o.values) return false;
  for (size_t i = 0; i < values.size(); i++) {
    if (IsIp(i) != o.IsIp(i)) return false;
  }
  return true;
}

std::string_view LineFilterOpString(LineFilterSpec::Op op) {
  switch (op) {
    case LineFilterSpec::Op::kContains:
      return "|=";
    case LineFilterSpec::Op::kNotContains:
      return "!=";
    case LineFilterSpec::Op::kRegex:
      return "|~";
    case LineFilterSpec::Op::kNotRegex:
      return "!~";
    case LineFilterSpec::Op::kPattern:
      return "|>";
    case LineFilterSpec::Op::kNotPattern:
      return "!>";
  }
  return "";
}

std::string_view CompareOpString(CompareOp op) {
  switch (op) {
    case CompareOp::kEq:
      return "==";
    case CompareOp::kNe:
      return "!=";
    case CompareOp::kGt:
      return ">";
    case CompareOp::kGe:
      return ">=";
    case CompareOp::kLt:
      return "<";
    case CompareOp::kLe:
      return "<=";
  }
  return "";
}

bool LabelFilter::operator==(const LabelFilter& o) const {
  if (kind != o.kind) return false;
  switch (kind) {
    case Kind::kAnd:
    case Kind::kOr:
      return children == o.children;
    case Kind::kMatcher:
      return OptMatcherEq(matcher, o.matcher);
    case Kind::kNumber:
      return name == o.name && cmp == o.cmp &&
             (number == o.number || (std::isnan(number) && std::isnan(o.number)));
    case Kind::kDuration:
      return name == o.name && cmp == o.cmp && duration_nanos == o.duration_nanos;
    case Kind::kBytes:
      return name == o.name && cmp == o.cmp && bytes == o.bytes;
    case Kind::kIp:
      return name == o.name && cmp == o.cmp && ip_pattern == o.ip_pattern;
  }
  return false;
}

bool NamedMatcher::operator==(const NamedMatcher& o) const {
  return name == o.name && OptMatcherEq(matcher, o.matcher);
}

bool PipelineStage::operator==(const PipelineStage& o) const {
  if (kind != o.kind) return false;
  switch (kind) {
    case Kind::kLineFilter:
      return line_filter == o.line_filter;
    case Kind::kJson:
      return extractions == o.extractions;
    case Kind::kLogfmt:
      return extractions == o.extractions && strict == o.strict && keep_empty == o.keep_empty;
    case Kind::kRegexp:
    case Kind::kPattern:
    case Kind::kLineFormat:
      return param == o.param;
    case Kind::kLabelFilter:
      return label_filter == o.label_filter;
    case Kind::kLabelFormat:
      return label_formats == o.label_formats;
    case Kind::kDrop:
    case Kind::kKeep:
      return named == o.named;
    case Kind::kUnpack:
    case Kind::kDecolorize:
      return true;
  }
  return false;
}

bool HasOnlyLineFilters(const LogSelector& sel) { return sel.stages.empty(); }

std::string_view RangeOpName(RangeOp op) {
  switch (op) {
    case RangeOp::kCountOverTime:
      return "count_over_time";
    case RangeOp::kRate:
      return "rate";
    case RangeOp::kRateCounter:
      return "rate_counter";
    case RangeOp::kBytesOverTime:
      return "bytes_over_time";
    case RangeOp::kBytesRate:
      return "bytes_rate";
    case RangeOp::kAvgOverTime:
      return "avg_over_time";
    case RangeOp::kSumOverTime:
      return "sum_over_time";
    case RangeOp::kMinOverTime:
      return "min_over_time";
    case RangeOp::kMaxOverTime:
      return "max_over_time";
    case RangeOp::kStdvarOverTime:
      return "stdvar_over_time";
    case RangeOp::kStddevOverTime:
      return "stddev_over_time";
    case RangeOp::kQuantileOverTime:
      return "quantile_over_time";
    case RangeOp::kFirstOverTime:
      return "first_over_time";
    case RangeOp::kLastOverTime:
      return "last_over_time";
    case RangeOp::kAbsentOverTime:
      return "absent_over_time";
  }
  return "";
}

std::string_view VectorOpName(VectorOp op) {
  switch (op) {
    case VectorOp::kSum:
      return "sum";
    case VectorOp::kAvg:
      return "avg";
    case VectorOp::kCount:
      return "count";
    case VectorOp::kMax:
      return "max";
    case VectorOp::kMin:
      return "min";
    case VectorOp::kStddev:
      return "stddev";
    case VectorOp::kStdvar:
      return "stdvar";
    case VectorOp::kBottomk:
      return "bottomk";
    case VectorOp::kTopk:
      return "topk";
    case VectorOp::kSort:
      return "sort";
    case VectorOp::kSortDesc:
      return "sort_desc";
    case VectorOp::kApproxTopk:
      return "approx_topk";
  }
  return "";
}

std::string_view BinaryOpString(BinaryOp op) {
  switch (op) {
    case BinaryOp::kOr:
      return "or";
    case BinaryOp::kAnd:
      return "and";
    case BinaryOp::kUnless:
      return "unless";
    case BinaryOp::kAdd:
      return "+";
    case BinaryOp::kSub:
      return "-";
    case BinaryOp::kMul:
      return "*";
    case BinaryOp::kDiv:
      return "/";
    case BinaryOp::kMod:
      return "%";
    case BinaryOp::kPow:
      return "^";
    case BinaryOp::kEq:
      return "==";
    case BinaryOp::kNe:
      return "!=";
    case BinaryOp::kGt:
      return ">";
    case BinaryOp::kGe:
      return ">=";
    case BinaryOp::kLt:
      return "<";
    case BinaryOp::kLe:
      return "<=";
  }
  return "";
}

bool IsComparisonOp(BinaryOp op) {
  return op == BinaryOp::kEq || op == BinaryOp::kNe || op == BinaryOp::kGt || op == BinaryOp::kGe ||
         op == BinaryOp::kLt || op == BinaryOp::kLe;
}

bool IsSetOp(BinaryOp op) {
  return op == BinaryOp::kOr || op == BinaryOp::kAnd || op == BinaryOp::kUnless;
}

bool VectorMatching::operator==(const VectorMatching& o) const {
  return on == o.on && has_labels == o.has_labels && labels == o.labels && card == o.card &&
         has_include == o.has_include && include == o.include;
}

bool IsLogQuery(const Expr& e) { return e.kind() == ExprKind::kLogSelector; }

const LogSelector* AsLogSelector(const Expr& e) {
  return e.kind() == ExprKind::kLogSelector ? &static_cast<const LogSelector&>(e) : nullptr;
}

std::string LineFilterString(const LineFilterSpec& f) {
  std::string s(LineFilterOpString(f.op));
  for (size_t i = 0; i < f.values.size(); i++) {
    s += i == 0 ? " " : " or ";
    if (f.IsIp(i)) {
      s += "ip(" + GoQuote(f.values[i]) + ")";
    } else {
      AppendGoQuoted(&s, f.values[i]);
    }
  }
  return s;
}

namespace {

// go-humanize's Bytes (SI units, one decimal below 10), spaces removed: Loki's String() of a
// bytes label filter.
std::string HumanizeBytes(uint64_t b) {
  static const char* const kUnits[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB"};
  if (b < 10) return std::to_string(b) + "B";
  const double x = static_cast<double>(b);
  const int e = static_cast<int>(std::floor(std::log(x) / std::log(1000.0)));
  const double val = std::floor(x / std::pow(1000.0, e) * 10 + 0.5) / 10;
  char buf[64];
  std::snprintf(buf, sizeof buf, val < 10 ? "%.1f%s" : "%.0f%s", val, kUnits[e]);
  return buf;
}

std::string LabelFilterStr(const LabelFilter& f, Style style) {
  switch (f.kind) {
    case LabelFilter::Kind::kAnd:
      return "( " + LabelFilterStr(f.children[0], style) + " , " +
             LabelFilterStr(f.children[1], style) + " )";
    case LabelFilter::Kind::kOr:
      return "( " + LabelFilterStr(f.children[0], style) + " or " +
             LabelFilterStr(f.children[1], style) + " )";
    case LabelFilter::Kind::kMatcher: {
      const Matcher& m = *f.matcher;
      // Loki prints an `=~` filter its simplifier left as a regex in backquotes (a `!~` one
      // is wrapped in a negation and prints as the matcher).
      if (style == Style::kLoki && m.type() == MatchType::kRegexMatch &&
          !internal::LokiSimplifiesLabelRegex(m.value())) {
        std::string s = Ident(m.name()) + std::string(MatchTypeOperator(m.type()));
        if (m.value().find('`') != std::string::npos) return s + GoQuote(m.value());
        return s + "`" + m.value() + "`";
      }
      return MatcherString(m);
    }
    case LabelFilter::Kind::kNumber:
      return Ident(f.name) + std::string(CompareOpString(f.cmp)) + FormatGoFloatF(f.number);
    case LabelFilter::Kind::kDuration:
      return Ident(f.name) + std::string(CompareOpString(f.cmp)) +
             FormatGoDuration(f.duration_nanos);
    case LabelFilter::Kind::kBytes:
      // "0B" does not lex in LogQL (Loki's scanner reads "0b" as a binary prefix).
      if (style == Style::kLoki)
        return Ident(f.name) + std::string(CompareOpString(f.cmp)) + HumanizeBytes(f.bytes);
      return Ident(f.name) + std::string(CompareOpString(f.cmp)) +
             (f.bytes == 0 ? "0KB" : std::to_string(f.bytes) + "B");
    case LabelFilter::Kind::kIp:
      return Ident(f.name) + (f.cmp == CompareOp::kNe ? "!=" : "=") + "ip(" +
             GoQuote(f.ip_pattern) + ")";
  }
  return "";
}

std::string ExprStr(const Expr& e, Style style) {
  switch (e.kind()) {
    case ExprKind::kLogSelector:
      return SelectorString(As<LogSelector>(e), style);
    case ExprKind::kRangeAggregation: {
      const auto& r = As<RangeAggregationExpr>(e);
      std::string s(RangeOpName(r.op));
      s += "(";
      if (r.param_text) {
        s += *r.param_text + ",";
      } else if (r.param) {
        s += FormatGoFloatF(*r.param) + ",";
      }
      s += SelectorString(*r.selector, style);
      if (r.unwrap) s += UnwrapString(*r.unwrap, style);
      s += "[" + FormatPromDuration(r.range_nanos) + "]";
      if (r.offset_nanos != 0) s += " offset " + FormatGoDuration(r.offset_nanos);
      s += ")";
      if (r.grouping) s += GroupingString(*r.grouping);
      return s;
    }
    case ExprKind::kVectorAggregation: {
      const auto& v = As<VectorAggregationExpr>(e);
      std::string s(VectorOpName(v.op));
      if (v.grouping) s += GroupingString(*v.grouping);
      s += "(";
      if (v.param_text) s += *v.param_text + ",";
      s += ExprStr(*v.arg, style) + ")";
      return s;
    }
    case ExprKind::kBinary: {
      const auto& b = As<BinaryExpr>(e);
      std::string s = "(" + ExprStr(*b.lhs, style) + " " + std::string(BinaryOpString(b.op));
      if (b.return_bool) s += " bool";
      const VectorMatching& m = b.matching;
      if (m.has_labels) {
        s += m.on ? " on (" : " ignoring (";
        s += JoinLabels(m.labels) + ")";
        if (m.card != VectorMatching::Card::kOneToOne) {
          s += m.card == VectorMatching::Card::kManyToOne ? " group_left" : " group_right";
          if (m.has_include) s += " (" + JoinLabels(m.include) + ")";
        }
      }
      s += " " + ExprStr(*b.rhs, style) + ")";
      return s;
    }
    case ExprKind::kLiteral:
      return FormatGoFloat(As<LiteralExpr>(e).value);
    case ExprKind::kVector:
      // Loki prints %f; the canonical shortest form keeps small values exact on re-parse.
      if (style == Style::kLoki) {
        char buf[400];
        std::snprintf(buf, sizeof buf, "%f", As<VectorExpr>(e).value);
        return std::string("vector(") + buf + ")";
      }
      return "vector(" + FormatGoFloat(As<VectorExpr>(e).value) + ")";
    case ExprKind::kLabelReplace: {
      const auto& lr = As<LabelReplaceExpr>(e);
      return "label_replace(" + ExprStr(*lr.arg, style) + "," + GoQuote(lr.dst) + "," +
             GoQuote(lr.replacement) + "," + GoQuote(lr.src) + "," + GoQuote(lr.regex) + ")";
    }
  }
  return "";
}

// ---- Loki's syntax.Prettify (what format_query answers) ----
//
// A node whose Loki-style text fits in 100 bytes is printed on one line, indented two
// spaces per level; a longer one is broken up: a pipeline one stage per line, a range or
// vector aggregation with its argument on the lines between `op(` and `)`, a binary
// operation as left side, operator line, right side.

constexpr size_t kMaxCharsPerLine = 100;

std::string Indent(int level) { return std::string(static_cast<size_t>(level) * 2, ' '); }

std::string PrettyGrouping(const std::optional<Grouping>& g) {
  if (!g) return "";
  std::string s;
  if (g->without) {
    s += " without";
  } else if (!g->labels.empty()) {
    s += " by";
  }
  if (!g->labels.empty()) {
    s += " (";
    for (size_t i = 0; i < g->labels.size(); i++) {
      if (i > 0) s += ", ";
      s += Ident(g->labels[i]);
    }
    s += ")";
  }
  return s;
}

std::string PrettySelector(const LogSelector& sel, int level) {
  std::string one = SelectorString(sel, Style::kLoki);
  if (one.size() <= kMaxCharsPerLine || (sel.line_filters.empty() && sel.stages.empty())) {
    return Indent(level) + one;
  }
  std::string s = Indent(level) + MatchersString(sel) + "\n";
  std::vector<std::string> lines;
  // Consecutive line filters are one stage; a long chain has one filter per line.
  std::vector<const LineFilterSpec*> chain;
  auto flush_chain = [&] {
    if (chain.empty()) return;
    std::string text;
    for (const LineFilterSpec* f : chain) {
      if (!text.empty()) text += ' ';
      text += LineFilterString(*f);
    }
    // Loki's chain is nested to the left: the longest head that fits stays on one line,
    // every filter after it gets its own.
    std::vector<std::string> tail;
    while (text.size() > kMaxCharsPerLine && chain.size() > 1) {
      tail.push_back(LineFilterString(*chain.back()));
      chain.pop_back();
      text.resize(text.size() - tail.back().size() - 1);
    }
    lines.push_back(Indent(level + 1) + text);
    for (auto it = tail.rbegin(); it != tail.rend(); ++it) lines.push_back(Indent(level + 1) + *it);
    chain.clear();
  };
  for (const LineFilterSpec& f : sel.line_filters) chain.push_back(&f);
  for (const PipelineStage& st : sel.stages) {
    if (st.kind == PipelineStage::Kind::kLineFilter) {
      chain.push_back(&st.line_filter);
      continue;
    }
    flush_chain();
    // Loki indents every stage but decolorize.
    const std::string indent =
        st.kind == PipelineStage::Kind::kDecolorize ? std::string() : Indent(level + 1);
    lines.push_back(indent + StageString(st, Style::kLoki));
  }
  flush_chain();
  for (size_t i = 0; i < lines.size(); i++) s += (i > 0 ? "\n" : "") + lines[i];
  return s;
}

std::string PrettyUnwrap(const Unwrap& u, int level) {
  Unwrap bare = u;
  bare.post_filters.clear();
  std::string s = Indent(level) + UnwrapString(bare, Style::kLoki).substr(1);  // no lead space
  // Post-filters go on their own lines at the unwrap's level.
  for (const LabelFilter& f : u.post_filters) {
    s += '\n';
    s += Indent(level);
    s += "| ";
    s += LabelFilterStr(f, Style::kLoki);
  }
  return s;
}

std::string Pretty(const Expr& e, int level) {
  const std::string one = ExprStr(e, Style::kLoki);
  if (one.size() <= kMaxCharsPerLine && e.kind() != ExprKind::kLogSelector) {
    return Indent(level) + one;
  }
  switch (e.kind()) {
    case ExprKind::kLogSelector:
      return PrettySelector(As<LogSelector>(e), level);
    case ExprKind::kRangeAggregation: {
      const auto& r = As<RangeAggregationExpr>(e);
      std::string s = Indent(level) + std::string(RangeOpName(r.op)) + "(\n";
      if (r.param) s += Indent(level + 1) + FormatGoFloat(*r.param) + ",\n";
      std::string range = PrettySelector(*r.selector, level + 1);
      if (r.unwrap) {
        range += '\n';
        range += PrettyUnwrap(*r.unwrap, level + 2);
      }
      range += " [" + FormatPromDuration(r.range_nanos) + "]";
      if (r.offset_nanos != 0) range += " offset " + FormatPromDuration(r.offset_nanos);
      s += range + "\n" + Indent(level) + ")" + PrettyGrouping(r.grouping);
      return s;
    }
    case ExprKind::kVectorAggregation: {
      const auto& v = As<VectorAggregationExpr>(e);
      std::vector<std::string> params;
      if (v.op == VectorOp::kTopk || v.op == VectorOp::kBottomk || v.param != 0) {
        params.push_back(Indent(level + 1) + std::to_string(v.param));
      }
      params.push_back(Pretty(*v.arg, level + 1));
      std::string s = Indent(level) + std::string(VectorOpName(v.op)) + PrettyGrouping(v.grouping);
      s += "(\n";
      for (size_t i = 0; i < params.size(); i++) {
        s += params[i] + (i + 1 < params.size() ? ",\n" : "\n");
      }
      return s + Indent(level) + ")";
    }
    case ExprKind::kBinary: {
      const auto& b = As<BinaryExpr>(e);
      std::string op(BinaryOpString(b.op));
      if (b.return_bool) op += " bool";
      const VectorMatching& m = b.matching;
      if (!m.labels.empty()) {
        std::string group;
        if (m.card == VectorMatching::Card::kManyToOne) group = "group_left";
        if (m.card == VectorMatching::Card::kOneToMany) group = "group_right";
        if (!m.include.empty()) {
          group += " (";
          for (size_t i = 0; i < m.include.size(); i++) group += (i > 0 ? ", " : "") + m.include[i];
          group += ")";
        }
        op += m.on ? " on (" : " ignoring (";
        for (size_t i = 0; i < m.labels.size(); i++) op += (i > 0 ? ", " : "") + m.labels[i];
        op += ") " + group;  // Loki leaves the space even without a group modifier
      }
      return Pretty(*b.lhs, level + 1) + "\n" + Indent(level) + op + "\n" +
             Pretty(*b.rhs, level + 1);
    }
    case ExprKind::kLabelReplace: {
      const auto& lr = As<LabelReplaceExpr>(e);
      const std::string in = Indent(level + 1);
      return Indent(level) + "label_replace(\n" + Pretty(*lr.arg, level + 1) + ",\n" + in +
             GoQuote(lr.dst) + ",\n" + in + GoQuote(lr.replacement) + ",\n" + in + GoQuote(lr.src) +
             ",\n" + in + GoQuote(lr.regex) + "\n" + Indent(level) + ")";
    }
    case ExprKind::kLiteral:
    case ExprKind::kVector:
      return Indent(level) + one;
  }
  return one;
}

}  // namespace

std::string LabelFilterString(const LabelFilter& f) { return LabelFilterStr(f, Style::kCanonical); }

std::string ExprString(const Expr& e) { return ExprStr(e, Style::kCanonical); }

std::string PrettyExprString(const Expr& e) { return Pretty(e, 0); }

std::string LokiStageString(const PipelineStage& st) { return StageString(st, Style::kLoki); }

bool ExprEqual(const Expr& a, const Expr& b) {
  if (a.kind() != b.kind()) return false;
  auto same_double = [](double x, double y) { return x == y || (std::isnan(x) && std::isnan(y)); };
  switch (a.kind()) {
    case ExprKind::kLogSelector: {
      const auto& x = As<LogSelector>(a);
      const auto& y = As<LogSelector>(b);
      if (x.matchers.size() != y.matchers.size()) return false;
      for (size_t i = 0; i < x.matchers.size(); i++) {
        if (!MatcherEq(x.matchers[i], y.matchers[i])) return false;
      }
      return x.line_filters == y.line_filters && x.stages == y.stages;
    }
    case ExprKind::kRangeAggregation: {
      const auto& x = As<RangeAggregationExpr>(a);
      const auto& y = As<RangeAggregationExpr>(b);
      return x.op == y.op && ExprEqual(*x.selector, *y.selector) &&
             x.range_nanos == y.range_nanos && x.offset_nanos == y.offset_nanos &&
             x.unwrap == y.unwrap && x.param == y.param && x.grouping == y.grouping;
    }
    case ExprKind::kVectorAggregation: {
      const auto& x = As<VectorAggregationExpr>(a);
      const auto& y = As<VectorAggregationExpr>(b);
      return x.op == y.op && x.grouping == y.grouping && x.param == y.param &&
             x.param_text == y.param_text && ExprEqual(*x.arg, *y.arg);
    }
    case ExprKind::kBinary: {
      const auto& x = As<BinaryExpr>(a);
      const auto& y = As<BinaryExpr>(b);
      return x.op == y.op && x.return_bool == y.return_bool && x.matching == y.matching &&
             ExprEqual(*x.lhs, *y.lhs) && ExprEqual(*x.rhs, *y.rhs);
    }
    case ExprKind::kLiteral:
      return same_double(As<LiteralExpr>(a).value, As<LiteralExpr>(b).value);
    case ExprKind::kVector:
      return same_double(As<VectorExpr>(a).value, As<VectorExpr>(b).value);
    case ExprKind::kLabelReplace: {
      const auto& x = As<LabelReplaceExpr>(a);
      const auto& y = As<LabelReplaceExpr>(b);
      return x.dst == y.dst && x.replacement == y.replacement && x.src == y.src &&
             x.regex == y.regex && ExprEqual(*x.arg, *y.arg);
    }
  }
  return false;
}

std::string FormatGoFloat(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == 0) return "0";  // "-0" would lex as a Go duration
  std::string digits;
  int exp;
  ShortestDigits(v, &digits, &exp);
  std::string sign = v < 0 ? "-" : "";
  if (exp < -4 || exp >= 6) {  // Go: shortest %g switches at 1e+06
    std::string m = digits.substr(0, 1);
    if (digits.size() > 1) m += "." + digits.substr(1);
    char eb[16];
    std::snprintf(eb, sizeof(eb), "e%c%02d", exp < 0 ? '-' : '+', std::abs(exp));
    return sign + m + eb;
  }
  return sign + PlainDecimal(digits, exp);
}

}  // namespace skald::logql
