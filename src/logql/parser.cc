// LogQL recursive-descent parser: see parser.h.
//
// The grammar is Loki's syntax.y; conflicts that goyacc resolves by shifting
// are mirrored here (an `or` after a line filter continues the filter's `or`
// chain; `,` and juxtaposition between label filters take everything to their
// right). Errors Loki raises while reducing (invalid matcher regex, bad
// numeric label filter literal, invalid `| regexp` / `| pattern`) abort the
// parse at once; errors Loki stores in nodes and reports during validation
// (aggregation parameters, binary operand types, ...) are checked after the
// parse, in Loki's order.
#include "logql/parser.h"

#include <re2/re2.h>

#include <cmath>
#include <cstdio>
#include <deque>
#include <initializer_list>
#include <set>
#include <utility>

#include "logql/lexer.h"
#include "logql/pattern.h"
#include "logql/regex_util.h"

namespace skald::logql {

using internal::Lexer;
using internal::LexError;
using internal::Tok;
using internal::Token;

std::string FormatParseError(std::string_view msg, int line, int col) {
  if (line == 0 && col == 0) return "parse error : " + std::string(msg);
  return "parse error at line " + std::to_string(line) + ", col " + std::to_string(col) + ": " +
         std::string(msg);
}

namespace {

constexpr std::string_view kMatcherRequired =
    "queries require at least one regexp or equality matcher that does not have an "
    "empty-compatible value. For instance, app=~\".*\" does not meet this requirement, but "
    "app=~\".+\" will";

struct ParseFailure {
  std::string msg;
  int line = 0;
  int col = 0;
};

[[noreturn]] void Fail(std::string msg) { throw ParseFailure{std::move(msg), 0, 0}; }

bool IsFilterOp(Tok t) {
  return t == Tok::kPipeExact || t == Tok::kPipeMatch || t == Tok::kPipePattern || t == Tok::kNeq ||
         t == Tok::kNre || t == Tok::kNpa;
}

LineFilterSpec::Op FilterOpFor(Tok t) {
  switch (t) {
    case Tok::kPipeExact:
      return LineFilterSpec::Op::kContains;
    case Tok::kNeq:
      return LineFilterSpec::Op::kNotContains;
    case Tok::kPipeMatch:
      return LineFilterSpec::Op::kRegex;
    case Tok::kNre:
      return LineFilterSpec::Op::kNotRegex;
    case Tok::kPipePattern:
      return LineFilterSpec::Op::kPattern;
    default:
      return LineFilterSpec::Op::kNotPattern;
  }
}

bool RangeOpFor(Tok t, RangeOp* op) {
  switch (t) {
    case Tok::kCountOverTime:
      *op = RangeOp::kCountOverTime;
      return true;
    case Tok::kRate:
      *op = RangeOp::kRate;
      return true;
    case Tok::kRateCounter:
      *op = RangeOp::kRateCounter;
      return true;
    case Tok::kBytesOverTime:
      *op = RangeOp::kBytesOverTime;
      return true;
    case Tok::kBytesRate:
      *op = RangeOp::kBytesRate;
      return true;
    case Tok::kAvgOverTime:
      *op = RangeOp::kAvgOverTime;
      return true;
    case Tok::kSumOverTime:
      *op = RangeOp::kSumOverTime;
      return true;
    case Tok::kMinOverTime:
      *op = RangeOp::kMinOverTime;
      return true;
    case Tok::kMaxOverTime:
      *op = RangeOp::kMaxOverTime;
      return true;
    case Tok::kStdvarOverTime:
      *op = RangeOp::kStdvarOverTime;
      return true;
    case Tok::kStddevOverTime:
      *op = RangeOp::kStddevOverTime;
      return true;
    case Tok::kQuantileOverTime:
      *op = RangeOp::kQuantileOverTime;
      return true;
    case Tok::kFirstOverTime:
      *op = RangeOp::kFirstOverTime;
      return true;
    case Tok::kLastOverTime:
      *op = RangeOp::kLastOverTime;
      return true;
    case Tok::kAbsentOverTime:
      *op = RangeOp::kAbsentOverTime;
      return true;
    default:
      return false;
  }
}

bool VectorOpFor(Tok t, VectorOp* op) {
  switch (t) {
    case Tok::kSum:
      *op = VectorOp::kSum;
      return true;
    case Tok::kAvg:
      *op = VectorOp::kAvg;
      return true;
    case Tok::kCount:
      *op = VectorOp::kCount;
      return true;
    case Tok::kMax:
      *op = VectorOp::kMax;
      return true;
    case Tok::kMin:
      *op = VectorOp::kMin;
      return true;
    case Tok::kStddev:
      *op = VectorOp::kStddev;
      return true;
    case Tok::kStdvar:
      *op = VectorOp::kStdvar;
      return true;
    case Tok::kBottomk:
      *op = VectorOp::kBottomk;
      return true;
    case Tok::kTopk:
      *op = VectorOp::kTopk;
      return true;
    case Tok::kSort:
      *op = VectorOp::kSort;
      return true;
    case Tok::kSortDesc:
      *op = VectorOp::kSortDesc;
      return true;
    case Tok::kApproxTopk:
      *op = VectorOp::kApproxTopk;
      return true;
    default:
      return false;
  }
}

bool BinaryOpFor(Tok t, BinaryOp* op) {
  switch (t) {
    case Tok::kOr:
      *op = BinaryOp::kOr;
      return true;
    case Tok::kAnd:
      *op = BinaryOp::kAnd;
      return true;
    case Tok::kUnless:
      *op = BinaryOp::kUnless;
      return true;
    case Tok::kAdd:
      *op = BinaryOp::kAdd;
      return true;
    case Tok::kSub:
      *op = BinaryOp::kSub;
      return true;
    case Tok::kMul:
      *op = BinaryOp::kMul;
      return true;
    case Tok::kDiv:
      *op = BinaryOp::kDiv;
      return true;
    case Tok::kMod:
      *op = BinaryOp::kMod;
      return true;
    case Tok::kPow:
      *op = BinaryOp::kPow;
      return true;
    case Tok::kCmpEq:
      *op = BinaryOp::kEq;
      return true;
    case Tok::kNeq:
      *op = BinaryOp::kNe;
      return true;
    case Tok::kGt:
      *op = BinaryOp::kGt;
      return true;
    case Tok::kGte:
      *op = BinaryOp::kGe;
      return true;
    case Tok::kLt:
      *op = BinaryOp::kLt;
      return true;
    case Tok::kLte:
      *op = BinaryOp::kLe;
      return true;
    default:
      return false;
  }
}

int Precedence(BinaryOp op) {
  switch (op) {
    case BinaryOp::kOr:
      return 1;
    case BinaryOp::kAnd:
    case BinaryOp::kUnless:
      return 2;
    case BinaryOp::kEq:
    case BinaryOp::kNe:
    case BinaryOp::kGt:
    case BinaryOp::kGe:
    case BinaryOp::kLt:
    case BinaryOp::kLe:
      return 3;
    case BinaryOp::kAdd:
    case BinaryOp::kSub:
      return 4;
    case BinaryOp::kMul:
    case BinaryOp::kDiv:
    case BinaryOp::kMod:
      return 5;
    case BinaryOp::kPow:
      return 6;
  }
  return 0;
}

// Literal folding with Loki's MergeBinOp rules (x/0 and x%0 are NaN).
double FoldBinary(BinaryOp op, double l, double r) {
  switch (op) {
    case BinaryOp::kAdd:
      return l + r;
    case BinaryOp::kSub:
      return l - r;
    case BinaryOp::kMul:
      return l * r;
    case BinaryOp::kDiv:
      return r == 0 ? std::nan("") : l / r;
    case BinaryOp::kMod:
      return r == 0 ? std::nan("") : std::fmod(l, r);
    case BinaryOp::kPow:
      return std::pow(l, r);
    case BinaryOp::kEq:
      return l == r ? 1 : 0;
    case BinaryOp::kNe:
      return l != r ? 1 : 0;
    case BinaryOp::kGt:
      return l > r ? 1 : 0;
    case BinaryOp::kGe:
      return l >= r ? 1 : 0;
    case BinaryOp::kLt:
      return l < r ? 1 : 0;
    case BinaryOp::kLe:
      return l <= r ? 1 : 0;
    default:
      return 0;
  }
}

// Go's strconv.Atoi.
bool GoAtoi(std::string_view s, int64_t* out) {
  if (s.empty()) return false;
  bool neg = false;
  size_t i = 0;
  if (s[0] == '+' || s[0] == '-') {
    neg = s[0] == '-';
    i = 1;
    if (s.size() == 1) return false;
  }
  uint64_t v = 0;
  for (; i < s.size(); i++) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + static_cast<uint64_t>(s[i] - '0');
    if (v > static_cast<uint64_t>(INT64_MAX) + (neg ? 1 : 0)) return false;
  }
  *out = neg ? static_cast<int64_t>(0 - v) : static_cast<int64_t>(v);
  return true;
}

std::string FormatF(double v) {  // Go's %f
  char buf[512];
  std::snprintf(buf, sizeof(buf), "%f", v);
  std::string s(buf);
  if (s == "inf") return "+Inf";
  if (s == "-inf") return "-Inf";
  if (s == "nan" || s == "-nan") return "NaN";
  return s;
}

Matcher MakeMatcher(MatchType type, const std::string& name, const std::string& value) {
  if (type == MatchType::kRegexMatch || type == MatchType::kRegexNoMatch) {
    if (auto err = internal::GoRegexpError(value, /*dot_nl=*/true)) Fail(*err);
  }
  auto m = Matcher::Create(type, name, value);
  if (!m.ok()) Fail(m.status().message());
  return std::move(m).value();
}

// Nesting limit for the recursive descent (parentheses, right-associative
// operators, chained label filters), so hostile input cannot exhaust the
// stack; Loki has no such limit but no sane query comes near it.
constexpr int kMaxNesting = 1000;

class Parser {
 public:
  explicit Parser(std::string_view query) : lexer_(query, &lex_err_) {}

  std::unique_ptr<Expr> ParseRoot() {
    std::unique_ptr<Expr> e = ParseExpression(0);
    if (Peek().kind != Tok::kEof) Unexpected(Peek());
    return e;
  }

 private:
  class DepthGuard {
   public:
    explicit DepthGuard(Parser* p) : p_(p) {
      if (++p_->depth_ > kMaxNesting) {
        Fail("expression nesting too deep (more than " + std::to_string(kMaxNesting) + " levels)");
      }
    }
    ~DepthGuard() { --p_->depth_; }

   private:
    Parser* p_;
  };

  const Token& Peek(size_t i = 0) {
    while (buf_.size() <= i) {
      Token t = lexer_.Lex();
      if (lex_err_.set) throw ParseFailure{lex_err_.msg, lex_err_.line, lex_err_.col};
      buf_.push_back(std::move(t));
    }
    return buf_[i];
  }
  bool At(Tok t) { return Peek().kind == t; }
  Token Take() {
    Peek();
    Token t = std::move(buf_.front());
    buf_.pop_front();
    return t;
  }
  Token Expect(Tok t, std::initializer_list<Tok> expected) {
    if (!At(t)) Unexpected(Peek(), expected);
    return Take();
  }

  [[noreturn]] void Unexpected(const Token& t, std::initializer_list<Tok> expected = {}) {
    std::string msg = "syntax error: unexpected ";
    msg += internal::TokName(t.kind);
    if (expected.size() > 0 && expected.size() <= 4) {
      std::set<int> order;
      for (Tok e : expected) order.insert(static_cast<int>(e));
      bool first = true;
      for (int e : order) {
        msg += first ? ", expecting " : " or ";
        msg += internal::TokName(static_cast<Tok>(e));
        first = false;
      }
    }
    throw ParseFailure{std::move(msg), t.line, t.col};
  }

  // ----- expressions -----

  std::unique_ptr<Expr> ParseExpression(int min_prec) {
    DepthGuard guard(this);
    std::unique_ptr<Expr> lhs = ParsePrimary();
    for (;;) {
      BinaryOp op;
      if (!BinaryOpFor(Peek().kind, &op)) break;
      int prec = Precedence(op);
      if (prec < min_prec) break;
      // Left-associative chains deepen the tree without recursing here.
      if (++binary_ops_ > kMaxNesting) {
        Fail("expression nesting too deep (more than " + std::to_string(kMaxNesting) + " levels)");
      }
      Take();
      bool return_bool = false;
      VectorMatching vm;
      if (At(Tok::kBool)) {
        Take();
        return_bool = true;
      }
      if (At(Tok::kOn) || At(Tok::kIgnoring)) {
        vm.on = Take().kind == Tok::kOn;
        vm.has_labels = true;
        vm.labels = ParseLabelList();
        if (At(Tok::kGroupLeft) || At(Tok::kGroupRight)) {
          vm.card = Take().kind == Tok::kGroupLeft ? VectorMatching::Card::kManyToOne
                                                   : VectorMatching::Card::kOneToMany;
          if (At(Tok::kOpenParen)) {
            vm.has_include = true;
            vm.include = ParseLabelList();
          }
        }
      }
      std::unique_ptr<Expr> rhs = ParseExpression(op == BinaryOp::kPow ? prec : prec + 1);
      lhs = MakeBinary(op, return_bool, std::move(vm), std::move(lhs), std::move(rhs));
    }
    return lhs;
  }

  static std::unique_ptr<Expr> MakeBinary(BinaryOp op, bool return_bool, VectorMatching vm,
                                          std::unique_ptr<Expr> lhs, std::unique_ptr<Expr> rhs) {
    if (lhs->kind() == ExprKind::kLiteral && rhs->kind() == ExprKind::kLiteral && !IsSetOp(op)) {
      const auto& l = static_cast<const LiteralExpr&>(*lhs);
      const auto& r = static_cast<const LiteralExpr&>(*rhs);
      if (!l.error && !r.error) {
        auto lit = std::make_unique<LiteralExpr>();
        lit->value = FoldBinary(op, l.value, r.value);
        return lit;
      }
    }
    auto b = std::make_unique<BinaryExpr>();
    b->op = op;
    b->return_bool = return_bool;
    b->matching = std::move(vm);
    b->lhs = std::move(lhs);
    b->rhs = std::move(rhs);
    return b;
  }

  // `(` [IDENT {, IDENT}] `)`
  std::vector<std::string> ParseLabelList() {
    Expect(Tok::kOpenParen, {Tok::kOpenParen});
    std::vector<std::string> labels;
    if (At(Tok::kCloseParen)) {
      Take();
      return labels;
    }
    labels.push_back(Expect(Tok::kIdentifier, {Tok::kIdentifier, Tok::kCloseParen}).text);
    for (;;) {
      if (At(Tok::kComma)) {
        Take();
        labels.push_back(Expect(Tok::kIdentifier, {Tok::kIdentifier}).text);
      } else if (At(Tok::kCloseParen)) {
        Take();
        return labels;
      } else {
        Unexpected(Peek(), {Tok::kComma, Tok::kCloseParen});
      }
    }
  }

  std::unique_ptr<Expr> MakeLiteral(const std::string& text, bool negate) {
    auto lit = std::make_unique<LiteralExpr>();
    double v = 0;
    std::string err;
    if (!internal::ParseGoFloat(text, &v, &err)) {
      lit->error = "unable to parse literal as a float: " + err;
    }
    lit->value = negate ? -v : v;
    return lit;
  }

  std::unique_ptr<Expr> ParsePrimary() {
    const Token& t = Peek();
    RangeOp rop;
    VectorOp vop;
    switch (t.kind) {
      case Tok::kOpenBrace: {
        auto sel = ParseSelector();
        ParsePipeline(sel.get(), /*in_range=*/false);
        return sel;
      }
      case Tok::kOpenParen: {
        Take();
        std::unique_ptr<Expr> inner = ParseExpression(0);
        if (!At(Tok::kCloseParen)) {
          if (inner->kind() == ExprKind::kLogSelector || inner->kind() == ExprKind::kBinary)
            Unexpected(Peek());
          Unexpected(Peek(), {Tok::kCloseParen});
        }
        Take();
        return inner;
      }
      case Tok::kNumber:
        return MakeLiteral(Take().text, false);
      case Tok::kAdd:
      case Tok::kSub: {
        bool negate = Take().kind == Tok::kSub;
        return MakeLiteral(Expect(Tok::kNumber, {Tok::kNumber}).text, negate);
      }
      case Tok::kLabelReplace:
        return ParseLabelReplace();
      case Tok::kVector:
        return ParseVector();
      default:
        break;
    }
    if (RangeOpFor(t.kind, &rop)) return ParseRangeAggregation(rop);
    if (VectorOpFor(t.kind, &vop)) return ParseVectorAggregation(vop);
    Unexpected(t);
  }

  // An expression that must be a metric expression (aggregation argument).
  std::unique_ptr<Expr> ParseMetricArgument() {
    std::unique_ptr<Expr> e = ParseExpression(0);
    if (e->kind() == ExprKind::kLogSelector) Unexpected(Peek());
    return e;
  }

  std::optional<Grouping> ParseGrouping() {
    Grouping g;
    g.without = Take().kind == Tok::kWithout;
    g.labels = ParseLabelList();
    return g;
  }

  std::unique_ptr<Expr> ParseVectorAggregation(VectorOp op) {
    Take();
    auto agg = std::make_unique<VectorAggregationExpr>();
    agg->op = op;
    bool grouped_before = false;
    if (At(Tok::kBy) || At(Tok::kWithout)) {
      agg->grouping = ParseGrouping();
      grouped_before = true;
    }
    Expect(Tok::kOpenParen, {Tok::kOpenParen});
    if (At(Tok::kNumber) && Peek(1).kind == Tok::kComma) {
      agg->param_text = Take().text;
      Take();
    }
    agg->arg = ParseMetricArgument();
    // Loki's parser lists no expected tokens here: a binary operator could follow too.
    if (!At(Tok::kCloseParen)) Unexpected(Peek());
    Take();
    if (!grouped_before && (At(Tok::kBy) || At(Tok::kWithout))) agg->grouping = ParseGrouping();
    return agg;
  }

  std::unique_ptr<Expr> ParseLabelReplace() {
    Take();
    Expect(Tok::kOpenParen, {Tok::kOpenParen});
    auto lr = std::make_unique<LabelReplaceExpr>();
    lr->arg = ParseMetricArgument();
    if (!At(Tok::kComma)) {
      Unexpected(Peek());  // a binary operator could follow too: Loki lists nothing
    }
    Take();
    lr->dst = Expect(Tok::kString, {Tok::kString}).text;
    Expect(Tok::kComma, {Tok::kComma});
    lr->replacement = Expect(Tok::kString, {Tok::kString}).text;
    Expect(Tok::kComma, {Tok::kComma});
    lr->src = Expect(Tok::kString, {Tok::kString}).text;
    Expect(Tok::kComma, {Tok::kComma});
    lr->regex = Expect(Tok::kString, {Tok::kString}).text;
    Expect(Tok::kCloseParen, {Tok::kCloseParen});
    return lr;
  }

  std::unique_ptr<Expr> ParseVector() {
    Take();
    Expect(Tok::kOpenParen, {Tok::kOpenParen});
    std::string text = Expect(Tok::kNumber, {Tok::kNumber}).text;
    Expect(Tok::kCloseParen, {Tok::kCloseParen});
    auto v = std::make_unique<VectorExpr>();
    std::string err;
    if (!internal::ParseGoFloat(text, &v->value, &err))
      v->error = "unable to parse vectorExpr as a float: " + err;
    return v;
  }

  std::unique_ptr<Expr> ParseRangeAggregation(RangeOp op) {
    Take();
    Expect(Tok::kOpenParen, {Tok::kOpenParen});
    auto agg = std::make_unique<RangeAggregationExpr>();
    agg->op = op;
    if (At(Tok::kNumber)) {
      agg->param_text = Take().text;
      Expect(Tok::kComma, {Tok::kComma});
      if (!At(Tok::kOpenBrace) && !At(Tok::kOpenParen))
        Unexpected(Peek(), {Tok::kOpenBrace, Tok::kOpenParen});
    } else if (!At(Tok::kOpenBrace) && !At(Tok::kOpenParen)) {
      Unexpected(Peek(), {Tok::kNumber, Tok::kOpenBrace, Tok::kOpenParen});
    }
    ParseLogRange(agg.get());
    Expect(Tok::kCloseParen, {});
    if (At(Tok::kBy) || At(Tok::kWithout)) agg->grouping = ParseGrouping();
    return agg;
  }

  void ParseRangeAndOffset(RangeAggregationExpr* agg) {
    agg->range_nanos = Expect(Tok::kRange, {}).nanos;
    if (At(Tok::kOffset)) {
      Take();
      agg->offset_nanos = Expect(Tok::kDuration, {Tok::kDuration}).nanos;
    }
  }

  // logRangeExpr (see syntax.y): the selector, its pipeline and unwrap, the
  // [range] and offset, possibly parenthesised.
  void ParseLogRange(RangeAggregationExpr* agg) {
    DepthGuard guard(this);
    if (At(Tok::kOpenParen)) {
      Take();
      if (At(Tok::kOpenParen)) {
        ParseLogRange(agg);
        Expect(Tok::kCloseParen, {});
        return;
      }
      if (!At(Tok::kOpenBrace)) Unexpected(Peek(), {Tok::kOpenBrace, Tok::kOpenParen});
      agg->selector = ParseSelector();
      bool has_pipeline = ParsePipeline(agg->selector.get(), /*in_range=*/true);
      bool has_unwrap = ParseUnwrapIfAny(agg);
      if (At(Tok::kCloseParen)) {
        // ( selector [pipeline] [unwrap] ) [range] [offset]
        Take();
        ParseRangeAndOffset(agg);
        return;
      }
      // ( logRangeExpr )
      FinishLogRange(agg, has_pipeline || has_unwrap);
      Expect(Tok::kCloseParen, {});
      return;
    }
    agg->selector = ParseSelector();
    bool has_pipeline = ParsePipeline(agg->selector.get(), /*in_range=*/true);
    bool has_unwrap = ParseUnwrapIfAny(agg);
    FinishLogRange(agg, has_pipeline || has_unwrap);
  }

  void FinishLogRange(RangeAggregationExpr* agg, bool had_stages) {
    ParseRangeAndOffset(agg);
    if (had_stages) return;
    // selector [range] [offset] [pipeline] [unwrap]
    ParsePipeline(agg->selector.get(), /*in_range=*/true);
    ParseUnwrapIfAny(agg);
  }

  bool ParseUnwrapIfAny(RangeAggregationExpr* agg) {
    if (!(At(Tok::kPipe) && Peek(1).kind == Tok::kUnwrap)) return false;
    Take();
    Take();
    Unwrap u;
    switch (Peek().kind) {
      case Tok::kIdentifier:
        u.label = Take().text;
        break;
      case Tok::kBytesConv:
      case Tok::kDurationConv:
      case Tok::kDurationSecondsConv: {
        Tok k = Take().kind;
        u.conv = k == Tok::kBytesConv      ? Unwrap::Conv::kBytes
                 : k == Tok::kDurationConv ? Unwrap::Conv::kDuration
                                           : Unwrap::Conv::kDurationSeconds;
        Expect(Tok::kOpenParen, {Tok::kOpenParen});
        u.label = Expect(Tok::kIdentifier, {Tok::kIdentifier}).text;
        Expect(Tok::kCloseParen, {Tok::kCloseParen});
        break;
      }
      default:
        Unexpected(Peek(), {Tok::kIdentifier, Tok::kBytesConv, Tok::kDurationConv,
                            Tok::kDurationSecondsConv});
    }
    while (At(Tok::kPipe)) {
      Take();
      u.post_filters.push_back(ParseLabelFilter(false, false));
    }
    agg->unwrap = std::move(u);
    return true;
  }

  // ----- selectors and pipelines -----

  std::unique_ptr<LogSelector> ParseSelector() {
    Expect(Tok::kOpenBrace, {Tok::kOpenBrace});
    auto sel = std::make_unique<LogSelector>();
    if (At(Tok::kCloseBrace)) {
      Take();
      return sel;
    }
    std::initializer_list<Tok> first = {Tok::kIdentifier, Tok::kCloseBrace};
    std::initializer_list<Tok> later = {Tok::kIdentifier};
    bool is_first = true;
    for (;;) {
      std::string name = Expect(Tok::kIdentifier, is_first ? first : later).text;
      is_first = false;
      MatchType type = ParseMatchOp();
      std::string value = Expect(Tok::kString, {Tok::kString}).text;
      sel->matchers.push_back(MakeMatcher(type, name, value));
      if (At(Tok::kComma)) {
        Take();
        continue;
      }
      if (At(Tok::kCloseBrace)) {
        Take();
        return sel;
      }
      Unexpected(Peek(), {Tok::kCloseBrace, Tok::kComma});
    }
  }

  MatchType ParseMatchOp() {
    switch (Peek().kind) {
      case Tok::kEq:
        Take();
        return MatchType::kEqual;
      case Tok::kNeq:
        Take();
        return MatchType::kNotEqual;
      case Tok::kRe:
        Take();
        return MatchType::kRegexMatch;
      case Tok::kNre:
        Take();
        return MatchType::kRegexNoMatch;
      default:
        Unexpected(Peek(), {Tok::kEq, Tok::kNeq, Tok::kRe, Tok::kNre});
    }
  }

  // Parses stages until a token that cannot continue the pipeline (or, in a
  // range aggregation, until `| unwrap`). Returns whether any was parsed.
  bool ParsePipeline(LogSelector* sel, bool in_range) {
    bool any = false;
    for (;;) {
      Tok k = Peek().kind;
      if (IsFilterOp(k)) {
        std::vector<LineFilterSpec> specs = ParseLineFilter();
        for (auto& s : specs) {
          if (sel->stages.empty()) {
            sel->line_filters.push_back(std::move(s));
          } else {
            PipelineStage st;
            st.kind = PipelineStage::Kind::kLineFilter;
            st.line_filter = std::move(s);
            sel->stages.push_back(std::move(st));
          }
        }
        any = true;
        continue;
      }
      if (k != Tok::kPipe) return any;
      if (in_range && Peek(1).kind == Tok::kUnwrap) return any;
      Take();
      sel->stages.push_back(ParseStage());
      any = true;
    }
  }

  // fop operand { or operand }; negative chains become one spec per operand.
  std::vector<LineFilterSpec> ParseLineFilter() {
    LineFilterSpec spec;
    spec.op = FilterOpFor(Take().kind);
    std::vector<bool> ip;
    bool any_ip = false;
    for (;;) {
      if (At(Tok::kString)) {
        spec.values.push_back(Take().text);
        ip.push_back(false);
      } else if (At(Tok::kIp)) {
        Take();
        Expect(Tok::kOpenParen, {Tok::kOpenParen});
        spec.values.push_back(Expect(Tok::kString, {Tok::kString}).text);
        Expect(Tok::kCloseParen, {Tok::kCloseParen});
        ip.push_back(true);
        any_ip = true;
      } else {
        Unexpected(Peek(), {Tok::kString, Tok::kIp});
      }
      if (!At(Tok::kOr)) break;
      Take();
    }
    if (any_ip) spec.is_ip = ip;
    std::vector<LineFilterSpec> out;
    if (!spec.IsNegative() || spec.values.size() == 1) {
      out.push_back(std::move(spec));
      return out;
    }
    for (size_t i = 0; i < spec.values.size(); i++) {
      LineFilterSpec one;
      one.op = spec.op;
      one.values.push_back(spec.values[i]);
      if (spec.IsIp(i)) one.is_ip = {true};
      out.push_back(std::move(one));
    }
    return out;
  }

  std::vector<LabelExtraction> ParseExtractions() {
    std::vector<LabelExtraction> out;
    for (;;) {
      LabelExtraction e;
      e.label = Expect(Tok::kIdentifier, {Tok::kIdentifier}).text;
      if (At(Tok::kEq)) {
        Take();
        e.expression = Expect(Tok::kString, {Tok::kString}).text;
      } else {
        e.expression = e.label;
      }
      out.push_back(std::move(e));
      if (!At(Tok::kComma)) return out;
      Take();
    }
  }

  std::vector<NamedMatcher> ParseNamedMatchers() {
    std::vector<NamedMatcher> out;
    for (;;) {
      NamedMatcher nm;
      std::string name = Expect(Tok::kIdentifier, {Tok::kIdentifier}).text;
      Tok k = Peek().kind;
      if (k == Tok::kEq || k == Tok::kNeq || k == Tok::kRe || k == Tok::kNre) {
        MatchType type = ParseMatchOp();
        std::string value = Expect(Tok::kString, {Tok::kString}).text;
        nm.matcher = MakeMatcher(type, name, value);
      } else {
        nm.name = std::move(name);
      }
      out.push_back(std::move(nm));
      if (!At(Tok::kComma)) return out;
      Take();
    }
  }

  PipelineStage ParseStage() {
    PipelineStage st;
    switch (Peek().kind) {
      case Tok::kJson:
        Take();
        st.kind = PipelineStage::Kind::kJson;
        if (At(Tok::kIdentifier)) st.extractions = ParseExtractions();
        return st;
      case Tok::kLogfmt:
        Take();
        st.kind = PipelineStage::Kind::kLogfmt;
        while (At(Tok::kFunctionFlag)) {
          std::string flag = Take().text;
          if (flag == "--strict") st.strict = true;
          if (flag == "--keep-empty") st.keep_empty = true;
        }
        if (At(Tok::kIdentifier)) st.extractions = ParseExtractions();
        return st;
      case Tok::kRegexp: {
        Take();
        st.kind = PipelineStage::Kind::kRegexp;
        st.param = Expect(Tok::kString, {Tok::kString}).text;
        if (auto err = ValidateRegexpParser(st.param)) Fail("invalid regexp parser: " + *err);
        return st;
      }
      case Tok::kPattern: {
        Take();
        st.kind = PipelineStage::Kind::kPattern;
        st.param = Expect(Tok::kString, {Tok::kString}).text;
        if (auto err = internal::ValidatePatternParser(st.param))
          Fail("invalid pattern parser: " + *err);
        return st;
      }
      case Tok::kUnpack:
        Take();
        st.kind = PipelineStage::Kind::kUnpack;
        return st;
      case Tok::kLineFmt:
        Take();
        st.kind = PipelineStage::Kind::kLineFormat;
        st.param = Expect(Tok::kString, {Tok::kString}).text;
        return st;
      case Tok::kLabelFmt:
        Take();
        st.kind = PipelineStage::Kind::kLabelFormat;
        for (;;) {
          LabelFormat f;
          f.name = Expect(Tok::kIdentifier, {Tok::kIdentifier}).text;
          Expect(Tok::kEq, {Tok::kEq});
          if (At(Tok::kIdentifier)) {
            f.rename = true;
            f.value = Take().text;
          } else {
            f.value = Expect(Tok::kString, {Tok::kIdentifier, Tok::kString}).text;
          }
          st.label_formats.push_back(std::move(f));
          if (!At(Tok::kComma)) break;
          Take();
        }
        return st;
      case Tok::kDecolorize:
        Take();
        st.kind = PipelineStage::Kind::kDecolorize;
        return st;
      case Tok::kDrop:
      case Tok::kKeep:
        st.kind =
            Take().kind == Tok::kDrop ? PipelineStage::Kind::kDrop : PipelineStage::Kind::kKeep;
        st.named = ParseNamedMatchers();
        return st;
      case Tok::kIdentifier:
      case Tok::kOpenParen:
        st.kind = PipelineStage::Kind::kLabelFilter;
        st.label_filter = ParseLabelFilter(false, false);
        return st;
      default:
        Unexpected(Peek());
    }
  }

  static std::optional<std::string> ValidateRegexpParser(const std::string& re) {
    if (auto err = internal::GoRegexpError(re)) return err;
    RE2::Options opts;
    opts.set_log_errors(false);
    RE2 compiled(re, opts);
    if (compiled.NumberOfCapturingGroups() == 0)
      return std::string("at least one named capture must be supplied");
    std::set<std::string> seen;
    for (const auto& [index, name] : compiled.CapturingGroupNames()) {
      (void)index;
      if (name.empty()) continue;
      if (!seen.insert(name).second) return "duplicate extracted label name '" + name + "'";
    }
    if (seen.empty()) return std::string("at least one named capture must be supplied");
    return std::nullopt;
  }

  // labelFilter with goyacc's resolution: `or` left-associative, `and`
  // tighter and left-associative, `,` / juxtaposition right-associative and
  // taking everything that follows.
  // `nested`: after `(`, `and`, `or` or `,`, where Loki's parser expects IDENTIFIER or `(`
  // (at the start of a stage it expects many more, and lists none).
  LabelFilter ParseLabelFilter(bool stop_at_or, bool stop_at_and, bool nested = false) {
    DepthGuard guard(this);
    LabelFilter left = ParseLabelFilterPrimary(nested);
    for (;;) {
      Tok k = Peek().kind;
      LabelFilter combined;
      if (k == Tok::kOr) {
        if (stop_at_or) return left;
        Take();
        combined.kind = LabelFilter::Kind::kOr;
        combined.children.push_back(std::move(left));
        combined.children.push_back(ParseLabelFilter(true, false, true));
      } else if (k == Tok::kAnd) {
        if (stop_at_and) return left;
        Take();
        combined.kind = LabelFilter::Kind::kAnd;
        combined.children.push_back(std::move(left));
        combined.children.push_back(ParseLabelFilter(true, true, true));
      } else if (k == Tok::kComma || k == Tok::kIdentifier || k == Tok::kOpenParen) {
        const bool comma = k == Tok::kComma;
        if (comma) Take();
        combined.kind = LabelFilter::Kind::kAnd;
        combined.children.push_back(std::move(left));
        combined.children.push_back(ParseLabelFilter(false, false, comma));
      } else {
        return left;
      }
      left = std::move(combined);
    }
  }

  LabelFilter ParseLabelFilterPrimary(bool nested) {
    if (At(Tok::kOpenParen)) {
      Take();
      LabelFilter inner = ParseLabelFilter(false, false, true);
      if (!At(Tok::kCloseParen)) Unexpected(Peek());
      Take();
      return inner;
    }
    if (nested && !At(Tok::kIdentifier)) Unexpected(Peek(), {Tok::kIdentifier, Tok::kOpenParen});
    std::string name = Expect(Tok::kIdentifier, {}).text;
    LabelFilter f;
    f.name = name;
    Tok op = Peek().kind;
    switch (op) {
      case Tok::kRe:
      case Tok::kNre: {
        Take();
        std::string value = Expect(Tok::kString, {Tok::kString}).text;
        f.kind = LabelFilter::Kind::kMatcher;
        f.matcher = MakeMatcher(op == Tok::kRe ? MatchType::kRegexMatch : MatchType::kRegexNoMatch,
                                name, value);
        return f;
      }
      case Tok::kEq:
      case Tok::kNeq:
        Take();
        f.cmp = op == Tok::kEq ? CompareOp::kEq : CompareOp::kNe;
        if (At(Tok::kString)) {
          f.kind = LabelFilter::Kind::kMatcher;
          f.matcher = MakeMatcher(op == Tok::kEq ? MatchType::kEqual : MatchType::kNotEqual, name,
                                  Take().text);
          return f;
        }
        if (At(Tok::kIp)) {
          Take();
          Expect(Tok::kOpenParen, {Tok::kOpenParen});
          f.kind = LabelFilter::Kind::kIp;
          f.ip_pattern = Expect(Tok::kString, {Tok::kString}).text;
          Expect(Tok::kCloseParen, {Tok::kCloseParen});
          return f;
        }
        ParseTypedValue(&f);
        return f;
      case Tok::kGt:
      case Tok::kGte:
      case Tok::kLt:
      case Tok::kLte:
      case Tok::kCmpEq:
        Take();
        f.cmp = op == Tok::kGt    ? CompareOp::kGt
                : op == Tok::kGte ? CompareOp::kGe
                : op == Tok::kLt  ? CompareOp::kLt
                : op == Tok::kLte ? CompareOp::kLe
                                  : CompareOp::kEq;
        ParseTypedValue(&f);
        return f;
      default:
        Unexpected(Peek());
    }
  }

  // DURATION | BYTES | [+-] NUMBER after a comparison operator.
  void ParseTypedValue(LabelFilter* f) {
    switch (Peek().kind) {
      case Tok::kDuration:
        f->kind = LabelFilter::Kind::kDuration;
        f->duration_nanos = Take().nanos;
        return;
      case Tok::kBytes:
        f->kind = LabelFilter::Kind::kBytes;
        f->bytes = Take().bytes;
        return;
      case Tok::kNumber:
      case Tok::kAdd:
      case Tok::kSub: {
        bool negate = false;
        if (!At(Tok::kNumber)) {
          negate = Take().kind == Tok::kSub;
          if (!At(Tok::kNumber)) Unexpected(Peek(), {Tok::kNumber});
        }
        std::string text = Take().text;
        double v = 0;
        std::string err;
        if (!internal::ParseGoFloat(text, &v, &err))
          Fail("unable to parse literal as a float: " + err);
        f->kind = LabelFilter::Kind::kNumber;
        f->number = negate ? -v : v;
        return;
      }
      default:
        Unexpected(Peek());
    }
  }

  LexError lex_err_;
  Lexer lexer_;
  std::deque<Token> buf_;
  int depth_ = 0;
  int binary_ops_ = 0;
};

// ----- validation (Loki's validateExpr order) -----

std::optional<std::string> ValidateMatchers(const LogSelector& sel) {
  for (const Matcher& m : sel.matchers) {
    if (!m.MatchesEmpty()) return std::nullopt;
  }
  return std::string(kMatcherRequired);
}

std::string GoTypeName(const Expr& e) {
  const auto& sel = static_cast<const LogSelector&>(e);
  return sel.line_filters.empty() && sel.stages.empty() ? "*syntax.MatchersExpr"
                                                        : "*syntax.PipelineExpr";
}

std::optional<std::string> ValidateSample(const Expr& e);

std::optional<std::string> BinaryOwnError(const BinaryExpr& b) {
  std::string op(BinaryOpString(b.op));
  if (b.lhs->kind() == ExprKind::kLogSelector) {
    return "unexpected type for left leg of binary operation (" + op + "): " + GoTypeName(*b.lhs);
  }
  if (b.rhs->kind() == ExprKind::kLogSelector) {
    return "unexpected type for right leg of binary operation (" + op + "): " + GoTypeName(*b.rhs);
  }
  const auto* l =
      b.lhs->kind() == ExprKind::kLiteral ? static_cast<const LiteralExpr*>(b.lhs.get()) : nullptr;
  const auto* r =
      b.rhs->kind() == ExprKind::kLiteral ? static_cast<const LiteralExpr*>(b.rhs.get()) : nullptr;
  if (l != nullptr && l->error) return l->error;
  if (r != nullptr && r->error) return r->error;
  if (IsSetOp(b.op)) {
    if (l != nullptr) {
      return "unexpected literal for left leg of logical/set binary operation (" + op +
             "): " + FormatF(l->value);
    }
    if (r != nullptr) {
      return "unexpected literal for right leg of logical/set binary operation (" + op +
             "): " + FormatF(r->value);
    }
  }
  return std::nullopt;
}

std::optional<std::string> RangeOwnError(const RangeAggregationExpr& r) {
  std::string name(RangeOpName(r.op));
  if (r.param_text) {
    if (r.op != RangeOp::kQuantileOverTime) {
      return "parameter " + *r.param_text + " not supported for operation " + name;
    }
    double v;
    std::string err;
    if (!internal::ParseGoFloat(*r.param_text, &v, &err)) {
      return "invalid parameter for operation " + name + ": " + err;
    }
  } else if (r.op == RangeOp::kQuantileOverTime) {
    return "parameter required for operation " + name;
  }
  if (r.grouping) {
    switch (r.op) {
      case RangeOp::kAvgOverTime:
      case RangeOp::kStddevOverTime:
      case RangeOp::kStdvarOverTime:
      case RangeOp::kQuantileOverTime:
      case RangeOp::kMaxOverTime:
      case RangeOp::kMinOverTime:
      case RangeOp::kFirstOverTime:
      case RangeOp::kLastOverTime:
        break;
      default:
        return "grouping not allowed for " + name + " aggregation";
    }
  }
  if (r.unwrap) {
    switch (r.op) {
      case RangeOp::kAvgOverTime:
      case RangeOp::kSumOverTime:
      case RangeOp::kMaxOverTime:
      case RangeOp::kMinOverTime:
      case RangeOp::kStddevOverTime:
      case RangeOp::kStdvarOverTime:
      case RangeOp::kQuantileOverTime:
      case RangeOp::kRate:
      case RangeOp::kRateCounter:
      case RangeOp::kAbsentOverTime:
      case RangeOp::kFirstOverTime:
      case RangeOp::kLastOverTime:
        return std::nullopt;
      default:
        return "invalid aggregation " + name + " with unwrap";
    }
  }
  switch (r.op) {
    case RangeOp::kBytesOverTime:
    case RangeOp::kBytesRate:
    case RangeOp::kCountOverTime:
    case RangeOp::kRate:
    case RangeOp::kAbsentOverTime:
      return std::nullopt;
    default:
      return "invalid aggregation " + name + " without unwrap";
  }
}

std::optional<std::string> VectorOwnError(const VectorAggregationExpr& v) {
  std::string name(VectorOpName(v.op));
  switch (v.op) {
    case VectorOp::kTopk:
    case VectorOp::kBottomk:
    case VectorOp::kApproxTopk: {
      if (!v.param_text) return "parameter required for operation " + name;
      int64_t p;
      if (!GoAtoi(*v.param_text, &p))
        return "invalid parameter " + name + "(" + *v.param_text + ",";
      if (p <= 0) return "invalid parameter (must be greater than 0) " + name + "(" + *v.param_text;
      if (v.op == VectorOp::kApproxTopk && v.grouping)
        return "grouping not allowed for " + name + " aggregation";
      break;
    }
    default:
      if (v.param_text)
        return "unsupported parameter for operation " + name + "(" + *v.param_text + ",";
  }
  if ((v.op == VectorOp::kSort || v.op == VectorOp::kSortDesc) && v.grouping &&
      !v.grouping->labels.empty()) {
    return std::string("sort and sort_desc doesn't allow grouping by ");
  }
  return std::nullopt;
}

std::optional<std::string> ValidateSample(const Expr& e) {
  switch (e.kind()) {
    case ExprKind::kBinary: {
      const auto& b = static_cast<const BinaryExpr&>(e);
      if (auto err = BinaryOwnError(b)) return err;
      if (auto err = ValidateSample(*b.lhs)) return err;
      return ValidateSample(*b.rhs);
    }
    case ExprKind::kLiteral:
      return static_cast<const LiteralExpr&>(e).error;
    case ExprKind::kVector:
      return static_cast<const VectorExpr&>(e).error;
    case ExprKind::kVectorAggregation: {
      const auto& v = static_cast<const VectorAggregationExpr&>(e);
      if (auto err = VectorOwnError(v)) return err;
      return ValidateSample(*v.arg);
    }
    case ExprKind::kLabelReplace: {
      const auto& lr = static_cast<const LabelReplaceExpr&>(e);
      if (auto err = internal::GoRegexpError("^(?:" + lr.regex + ")$"))
        return "invalid regex in label_replace: " + *err;
      return ValidateSample(*lr.arg);
    }
    case ExprKind::kRangeAggregation: {
      const auto& r = static_cast<const RangeAggregationExpr&>(e);
      if (auto err = RangeOwnError(r)) return err;
      return ValidateMatchers(*r.selector);
    }
    case ExprKind::kLogSelector:
      return ValidateMatchers(static_cast<const LogSelector&>(e));
  }
  return std::nullopt;
}

// Fills values that are only known to be valid after validation.
void Finalize(Expr* e) {
  switch (e->kind()) {
    case ExprKind::kBinary: {
      auto* b = static_cast<BinaryExpr*>(e);
      Finalize(b->lhs.get());
      Finalize(b->rhs.get());
      return;
    }
    case ExprKind::kVectorAggregation: {
      auto* v = static_cast<VectorAggregationExpr*>(e);
      if (v->param_text) GoAtoi(*v->param_text, &v->param);
      Finalize(v->arg.get());
      return;
    }
    case ExprKind::kLabelReplace:
      Finalize(static_cast<LabelReplaceExpr*>(e)->arg.get());
      return;
    case ExprKind::kRangeAggregation: {
      auto* r = static_cast<RangeAggregationExpr*>(e);
      if (r->param_text) {
        double v = 0;
        std::string err;
        internal::ParseGoFloat(*r->param_text, &v, &err);
        r->param = v;
      }
      return;
    }
    default:
      return;
  }
}

StatusOr<std::unique_ptr<Expr>> ParseWithoutValidation(std::string_view query) {
  if (query.size() >= kMaxQueryLength) {
    return Status::InvalidArgument(FormatParseError("input size too long (" +
                                                        std::to_string(query.size()) + " > " +
                                                        std::to_string(kMaxQueryLength) + ")",
                                                    0, 0));
  }
  try {
    Parser p(query);
    return p.ParseRoot();
  } catch (const ParseFailure& f) {
    return Status::InvalidArgument(FormatParseError(f.msg, f.line, f.col));
  } catch (const std::exception& ex) {
    return Status::InvalidArgument(FormatParseError(ex.what(), 0, 0));
  }
}

}  // namespace

StatusOr<std::unique_ptr<Expr>> ParseExpr(std::string_view query) {
  auto parsed = ParseWithoutValidation(query);
  if (!parsed.ok()) return parsed.status();
  std::unique_ptr<Expr> e = std::move(parsed).value();
  if (auto err = ValidateSample(*e)) return Status::InvalidArgument(FormatParseError(*err, 0, 0));
  Finalize(e.get());
  return e;
}

StatusOr<std::vector<Matcher>> ParseMatchers(std::string_view selector) {
  auto parsed = ParseWithoutValidation(selector);
  if (!parsed.ok()) return parsed.status();
  const Expr& e = **parsed;
  const LogSelector* sel = AsLogSelector(e);
  if (sel == nullptr || !sel->line_filters.empty() || !sel->stages.empty()) {
    return Status::InvalidArgument("only label matchers are supported");
  }
  return sel->matchers;
}

}  // namespace skald::logql
