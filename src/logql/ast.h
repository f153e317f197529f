// LogQL abstract syntax tree.
//
// ParseExpr (parser.h) produces these nodes. Log queries are a LogSelector:
// stream matchers, the leading run of line filters (what the scan path pushes
// down onto block bytes), then any other pipeline stages in order. Metric
// queries are trees of range/vector aggregations, binary operations, literals,
// vector() and label_replace(). ExprString renders any tree back to LogQL text
// close to Loki's own String() forms; re-parsing that text gives an equal tree.
//
// Nodes are immutable after parsing and safe to read from many threads.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/matcher.h"

namespace skald::logql {

// One line filter with its `or` operands: `|= "a" or "b"`. Positive operators
// keep a line when ANY operand matches; negative operators keep it when NONE
// matches (Loki: `!= "a" or "b"` is `!= "a" != "b"`).
struct LineFilterSpec {
  enum class Op { kContains, kNotContains, kRegex, kNotRegex, kPattern, kNotPattern };
  Op op = Op::kContains;
  std::vector<std::string> values;
  // Parallel to `values`, or empty when no operand is ip("..."): true where
  // the operand was written `ip("<pattern>")` (only for |= and !=).
  std::vector<bool> is_ip;

  bool IsIp(size_t i) const { return i < is_ip.size() && is_ip[i]; }
  bool HasIp() const;
  bool IsNegative() const {
    return op == Op::kNotContains || op == Op::kNotRegex || op == Op::kNotPattern;
  }
  bool operator==(const LineFilterSpec& o) const;
};

// "|=", "!=", "|~", "!~", "|>", "!>".
std::string_view LineFilterOpString(LineFilterSpec::Op op);

enum class CompareOp { kEq, kNe, kGt, kGe, kLt, kLe };
// "==", "!=", ">", ">=", "<", "<=".
std::string_view CompareOpString(CompareOp op);

// A label filter stage's expression (`| status >= 500 or level="error"`).
struct LabelFilter {
  enum class Kind { kAnd, kOr, kMatcher, kNumber, kDuration, kBytes, kIp };
  Kind kind = Kind::kMatcher;
  std::vector<LabelFilter> children;  // kAnd / kOr: exactly two
  std::optional<Matcher> matcher;     // kMatcher: string comparison (=, !=, =~, !~)
  std::string name;                   // typed and ip filters: the label
  CompareOp cmp = CompareOp::kEq;     // typed filters; kIp: kEq or kNe
  double number = 0;                  // kNumber
  int64_t duration_nanos = 0;         // kDuration
  uint64_t bytes = 0;                 // kBytes
  std::string ip_pattern;             // kIp

  bool operator==(const LabelFilter& o) const;
};

// `json a="path"` / `logfmt a="key"` / `json a` (a="a").
struct LabelExtraction {
  std::string label;
  std::string expression;
  bool operator==(const LabelExtraction& o) const {
    return label == o.label && expression == o.expression;
  }
};

// `label_format dst=src` (rename) or `dst="template"`.
struct LabelFormat {
  std::string name;
  std::string value;
  bool rename = false;
  bool operator==(const LabelFormat& o) const {
    return name == o.name && value == o.value && rename == o.rename;
  }
};

// `drop a, b="v"` / `keep ...` operand: a bare name or a matcher.
struct NamedMatcher {
  std::string name;                // bare name form
  std::optional<Matcher> matcher;  // matcher form
  bool operator==(const NamedMatcher& o) const;
};

struct PipelineStage {
  enum class Kind {
    kLineFilter,   // line_filter
    kJson,         // `| json` (no params) or with `extractions`
    kLogfmt,       // `| logfmt [--strict] [--keep-empty] [extractions]`
    kRegexp,       // `| regexp "re"` (param)
    kPattern,      // `| pattern "p"` (param)
    kUnpack,       // `| unpack`
    kLabelFilter,  // label_filter
    kLineFormat,   // `| line_format "tmpl"` (param)
    kLabelFormat,  // label_formats
    kDecolorize,   // `| decolorize`
    kDrop,         // named
    kKeep,         // named
  };
  Kind kind = Kind::kLineFilter;
  LineFilterSpec line_filter;
  std::string param;
  std::vector<LabelExtraction> extractions;
  bool strict = false;
  bool keep_empty = false;
  std::optional<LabelFilter> label_filter;
  std::vector<LabelFormat> label_formats;
  std::vector<NamedMatcher> named;

  bool operator==(const PipelineStage& o) const;
};

enum class ExprKind {
  kLogSelector,
  kRangeAggregation,
  kVectorAggregation,
  kBinary,
  kLiteral,
  kVector,
  kLabelReplace,
};

// Base of every node. Use kind() and the As* helpers below to inspect.
class Expr {
 public:
  virtual ~Expr() = default;
  ExprKind kind() const { return kind_; }

 protected:
  explicit Expr(ExprKind kind) : kind_(kind) {}

 private:
  ExprKind kind_;
};

// A log query: `{matchers} <line filters> <other stages>`.
struct LogSelector final : Expr {
  LogSelector() : Expr(ExprKind::kLogSelector) {}
  std::vector<Matcher> matchers;
  // The line filters that come before any other stage, in order (ANDed).
  std::vector<LineFilterSpec> line_filters;
  // Every stage after that leading run, in order; may hold more line filters.
  std::vector<PipelineStage> stages;
};

// True when the pipeline has nothing but line filters (stages is empty).
bool HasOnlyLineFilters(const LogSelector& sel);

struct Grouping {
  bool without = false;
  std::vector<std::string> labels;
  bool operator==(const Grouping& o) const { return without == o.without && labels == o.labels; }
};

// `| unwrap [conv(]label[)] { | label filter }`.
struct Unwrap {
  enum class Conv { kNone, kBytes, kDuration, kDurationSeconds };
  std::string label;
  Conv conv = Conv::kNone;
  std::vector<LabelFilter> post_filters;
  bool operator==(const Unwrap& o) const {
    return label == o.label && conv == o.conv && post_filters == o.post_filters;
  }
};

enum class RangeOp {
  kCountOverTime,
  kRate,
  kRateCounter,
  kBytesOverTime,
  kBytesRate,
  kAvgOverTime,
  kSumOverTime,
  kMinOverTime,
  kMaxOverTime,
  kStdvarOverTime,
  kStddevOverTime,
  kQuantileOverTime,
  kFirstOverTime,
  kLastOverTime,
  kAbsentOverTime,
};
std::string_view RangeOpName(RangeOp op);  // "count_over_time", ...

// rangeOp([param,] selector [range] [offset] [unwrap]) [grouping]
struct RangeAggregationExpr final : Expr {
  RangeAggregationExpr() : Expr(ExprKind::kRangeAggregation) {}
  RangeOp op = RangeOp::kCountOverTime;
  std::unique_ptr<LogSelector> selector;
  int64_t range_nanos = 0;
  int64_t offset_nanos = 0;
  std::optional<Unwrap> unwrap;
  std::optional<double> param;  // quantile_over_time's φ
  std::optional<Grouping> grouping;
  // Parser bookkeeping: the parameter as written (validated after parsing).
  std::optional<std::string> param_text;
};

enum class VectorOp {
  kSum,
  kAvg,
  kCount,
  kMax,
  kMin,
  kStddev,
  kStdvar,
  kBottomk,
  kTopk,
  kSort,
  kSortDesc,
  kApproxTopk
};
std::string_view VectorOpName(VectorOp op);  // "sum", ...

// vectorOp [grouping] ([k,] expr) [grouping]
struct VectorAggregationExpr final : Expr {
  VectorAggregationExpr() : Expr(ExprKind::kVectorAggregation) {}
  VectorOp op = VectorOp::kSum;
  std::unique_ptr<Expr> arg;
  std::optional<Grouping> grouping;  // absent = no grouping written
  int64_t param = 0;                 // topk / bottomk / approx_topk k
  std::optional<std::string> param_text;
};

enum class BinaryOp {
  kOr,
  kAnd,
  kUnless,
  kAdd,
  kSub,
  kMul,
  kDiv,
  kMod,
  kPow,
  kEq,
  kNe,
  kGt,
  kGe,
  kLt,
  kLe
};
std::string_view BinaryOpString(BinaryOp op);  // "or", "+", "==", ...
bool IsComparisonOp(BinaryOp op);
bool IsSetOp(BinaryOp op);  // or, and, unless

struct VectorMatching {
  enum class Card { kOneToOne, kManyToOne, kOneToMany };
  bool on = false;          // on(...) rather than ignoring(...)
  bool has_labels = false;  // on/ignoring was written (labels may be empty)
  std::vector<std::string> labels;
  Card card = Card::kOneToOne;  // group_left = many-to-one, group_right = one-to-many
  bool has_include = false;     // group_x(...) with parentheses
  std::vector<std::string> include;
  bool operator==(const VectorMatching& o) const;
};

struct BinaryExpr final : Expr {
  BinaryExpr() : Expr(ExprKind::kBinary) {}
  BinaryOp op = BinaryOp::kAdd;
  bool return_bool = false;
  VectorMatching matching;
  std::unique_ptr<Expr> lhs;
  std::unique_ptr<Expr> rhs;
};

// A number (`1`, `-2.5`); binary operations between literals are folded.
struct LiteralExpr final : Expr {
  LiteralExpr() : Expr(ExprKind::kLiteral) {}
  double value = 0;
  // Parser bookkeeping: the text when it did not parse as a float.
  std::optional<std::string> error;
};

// vector(s)
struct VectorExpr final : Expr {
  VectorExpr() : Expr(ExprKind::kVector) {}
  double value = 0;
  std::optional<std::string> error;
};

// label_replace(expr, "dst", "replacement", "src", "regex")
struct LabelReplaceExpr final : Expr {
  LabelReplaceExpr() : Expr(ExprKind::kLabelReplace) {}
  std::unique_ptr<Expr> arg;
  std::string dst;
  std::string replacement;
  std::string src;
  std::string regex;
};

// A log query (as opposed to a metric query).
bool IsLogQuery(const Expr& e);
// The selector of a log query, or nullptr for metric queries.
const LogSelector* AsLogSelector(const Expr& e);

// Canonical LogQL text for the tree (Loki's String() style). Parsing the
// result yields an equal tree, except for non-finite literals (NaN, Inf),
// which have no LogQL spelling.
std::string ExprString(const Expr& e);
// The text Loki's format_query answers (syntax.Prettify): Loki's String() style (vector()
// as %f, unsimplified label-filter regexes in backquotes, humanized byte sizes; lossy, for
// display only), broken over indented lines where a node's text exceeds 100 bytes.
std::string PrettyExprString(const Expr& e);
// One stage as Loki's String() prints it (what its stage errors quote).
std::string LokiStageString(const PipelineStage& st);
std::string LineFilterString(const LineFilterSpec& f);
std::string LabelFilterString(const LabelFilter& f);

// Structural equality of two trees (used by tests and the fuzz round trip).
bool ExprEqual(const Expr& a, const Expr& b);

// Formatting helpers shared with the parser.
std::string FormatGoFloat(double v);  // Go's %v for float64 ("2", "0.5", "1e+06")

}  // namespace skald::logql
