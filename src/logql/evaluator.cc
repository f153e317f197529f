// Metric query evaluation over a step grid: every node evaluates to dense per-step series
// (range_accumulator.h) or to a scalar; the root becomes a matrix, vector or scalar.
#include "logql/evaluator.h"

#include <re2/re2.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "logql/range_accumulator.h"

namespace skald::logql {
namespace {

using internal::CompareLabels;
using internal::StepGrid;
using internal::StepSeries;

struct Value {
  bool scalar = false;
  double s = 0;
  std::vector<StepSeries> v;
  int sort_order = 0;  // sort(): 1, sort_desc(): -1 (instant results keep that order)
};

bool LessByLabels(const StepSeries& a, const StepSeries& b) {
  return CompareLabels(a.labels, b.labels) < 0;
}

// Labels kept by a by/without clause (no clause: none).
Labels GroupLabels(const Labels& l, const std::optional<Grouping>& g) {
  if (!g) return Labels();
  std::vector<Label> out;
  for (const Label& x : l) {
    const bool listed = std::find(g->labels.begin(), g->labels.end(), x.name) != g->labels.end();
    if (listed != g->without) out.push_back(x);
  }
  return Labels(std::move(out));
}

// The labels two samples are matched on (Prometheus' MatchLabels / signature).
Labels MatchLabels(const Labels& l, const VectorMatching& m) {
  std::vector<Label> out;
  for (const Label& x : l) {
    const bool listed = std::find(m.labels.begin(), m.labels.end(), x.name) != m.labels.end();
    if (m.on ? listed : !listed) out.push_back(x);
  }
  return Labels(std::move(out));
}

// Merges series with equal labels (set operations and label_replace can produce them);
// at a step both hold, the first in input order wins. Drops series without points.
std::vector<StepSeries> Normalize(std::vector<StepSeries> in) {
  std::stable_sort(in.begin(), in.end(), LessByLabels);
  std::vector<StepSeries> out;
  for (StepSeries& s : in) {
    bool any = false;
    for (uint8_t p : s.present) any = any || p;
    if (!any) continue;
    if (!out.empty() && out.back().labels == s.labels) {
      StepSeries& d = out.back();
      for (size_t i = 0; i < s.present.size(); ++i) {
        if (s.present[i] && !d.present[i]) {
          d.present[i] = 1;
          d.values[i] = s.values[i];
        }
      }
      continue;
    }
    out.push_back(std::move(s));
  }
  return out;
}

bool IsCompare(BinaryOp op) { return IsComparisonOp(op); }

// Applies an arithmetic or comparison operator. For comparisons `*keep` says whether the
// pair passes the filter; with `bool` the value is 0/1 and every pair is kept.
double Apply(BinaryOp op, double l, double r, bool return_bool, bool* keep) {
  *keep = true;
  bool c = false;
  switch (op) {
    case BinaryOp::kAdd:
      return l + r;
    case BinaryOp::kSub:
      return l - r;
    case BinaryOp::kMul:
      return l * r;
    case BinaryOp::kDiv:
      return l / r;
    case BinaryOp::kMod:
      return std::fmod(l, r);
    case BinaryOp::kPow:
      return std::pow(l, r);
    case BinaryOp::kEq:
      c = l == r;
      break;
    case BinaryOp::kNe:
      c = l != r;
      break;
    case BinaryOp::kGt:
      c = l > r;
      break;
    case BinaryOp::kGe:
      c = l >= r;
      break;
    case BinaryOp::kLt:
      c = l < r;
      break;
    case BinaryOp::kLe:
      c = l <= r;
      break;
    default:
      return 0;
  }
  if (return_bool) return c ? 1 : 0;
  *keep = c;
  return l;
}

// Go's regexp.Expand for label_replace's replacement ($1, ${1}, $name, ${name}, $$).
std::string Expand(std::string_view tmpl, const re2::RE2& re,
                   const std::vector<re2::StringPiece>& groups) {
  std::string out;
  auto is_name_char = [](char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '_';
  };
  size_t i = 0;
  while (i < tmpl.size()) {
    const char ch = tmpl[i];
    if (ch != '$') {
      out.push_back(ch);
      ++i;
      continue;
    }
    if (i + 1 < tmpl.size() && tmpl[i + 1] == '$') {
      out.push_back('$');
      i += 2;
      continue;
    }
    std::string_view name;
    size_t next = 0;
    bool ok = false;
    if (i + 1 < tmpl.size() && tmpl[i + 1] == '{') {
      size_t j = i + 2;
      while (j < tmpl.size() && is_name_char(tmpl[j])) ++j;
      if (j < tmpl.size() && tmpl[j] == '}' && j > i + 2) {
        name = tmpl.substr(i + 2, j - i - 2);
        next = j + 1;
        ok = true;
      }
    } else {
      size_t j = i + 1;
      while (j < tmpl.size() && is_name_char(tmpl[j])) ++j;
      if (j > i + 1) {
        name = tmpl.substr(i + 1, j - i - 1);
        next = j;
        ok = true;
      }
    }
    if (!ok) {  // malformed: the `$` is literal text
      out.push_back('$');
      ++i;
      continue;
    }
    i = next;
    bool numeric =
        std::all_of(name.begin(), name.end(), [](char c) { return c >= '0' && c <= '9'; });
    int index = -1;
    if (numeric) {
      if (name.size() <= 8) index = std::stoi(std::string(name));
    } else {
      const auto& named = re.NamedCapturingGroups();
      auto it = named.find(std::string(name));
      if (it != named.end()) index = it->second;
    }
    if (index >= 0 && static_cast<size_t>(index) < groups.size() &&
        groups[index].data() != nullptr) {
      out.append(groups[index].data(), groups[index].size());
    }
  }
  return out;
}

bool CanPushSumGrouping(RangeOp op) {
  switch (op) {
    case RangeOp::kCountOverTime:
    case RangeOp::kRate:
    case RangeOp::kBytesRate:
    case RangeOp::kBytesOverTime:
    case RangeOp::kSumOverTime:
      return true;
    default:
      return false;
  }
}

class Evaluator {
 public:
  Evaluator(const EvalParams& p, SampleSource* src, StepGrid grid)
      : params_(p), source_(src), grid_(grid) {}

  StatusOr<Value> Eval(const Expr& e) {
    if (internal::IsCancelled(params_)) return internal::CancelledStatus(params_);
    switch (e.kind()) {
      case ExprKind::kRangeAggregation:
        return Range(static_cast<const RangeAggregationExpr&>(e), std::nullopt);
      case ExprKind::kVectorAggregation:
        return VectorAgg(static_cast<const VectorAggregationExpr&>(e));
      case ExprKind::kBinary:
        return Binary(static_cast<const BinaryExpr&>(e));
      case ExprKind::kLiteral: {
        const auto& lit = static_cast<const LiteralExpr&>(e);
        if (lit.error) return Status::InvalidArgument("invalid literal: " + *lit.error);
        Value v;
        v.scalar = true;
        v.s = lit.value;
        return v;
      }
      case ExprKind::kVector: {
        const auto& vec = static_cast<const VectorExpr&>(e);
        Value v;
        StepSeries s;
        s.values.assign(grid_.n, vec.value);
        s.present.assign(grid_.n, 1);
        v.v.push_back(std::move(s));
        return v;
      }
      case ExprKind::kLabelReplace:
        return LabelReplace(static_cast<const LabelReplaceExpr&>(e));
      case ExprKind::kLogSelector:
        break;
    }
    return Status::InvalidArgument("log queries cannot be evaluated as metric queries");
  }

 private:
  StatusOr<Value> Range(const RangeAggregationExpr& r, const std::optional<Grouping>& pushed) {
    if (source_ == nullptr) return Status::Internal("no sample source for a range aggregation");
    internal::AccumulatorConfig cfg;
    cfg.op = r.op;
    cfg.grid = grid_;
    cfg.range_nanos = r.range_nanos;
    cfg.offset_nanos = r.offset_nanos;
    cfg.unwrap = r.unwrap.has_value();
    cfg.param = r.param.value_or(0);
    cfg.grouping = r.grouping ? r.grouping : pushed;
    cfg.max_series = params_.max_series;
    RangeAccumulator acc = internal::AccumulatorAccess::Make(cfg);
    if (grid_.n > 0) SKALD_RETURN_IF_ERROR(source_->Feed(r, &acc));
    if (internal::IsCancelled(params_)) return internal::CancelledStatus(params_);
    static const std::vector<Matcher> kNoMatchers;
    SKALD_ASSIGN_OR_RETURN(
        std::vector<StepSeries> series,
        internal::FinishAccumulator(internal::AccumulatorAccess::State(acc),
                                    r.selector ? r.selector->matchers : kNoMatchers, params_));
    Value v;
    v.v = std::move(series);
    return v;
  }

  StatusOr<Value> VectorAgg(const VectorAggregationExpr& e) {
    Value in;
    bool pushed = false;
    if (e.op == VectorOp::kSum && e.arg->kind() == ExprKind::kRangeAggregation) {
      const auto& r = static_cast<const RangeAggregationExpr&>(*e.arg);
      if (!r.grouping && CanPushSumGrouping(r.op)) {
        // Loki groups samples by the outer sum's labels while extracting them; the sum of
        // one series per group is then that series. Fewer series, same answer.
        SKALD_ASSIGN_OR_RETURN(in, Range(r, e.grouping ? *e.grouping : Grouping{}));
        pushed = true;
      }
    }
    if (!pushed) {
      SKALD_ASSIGN_OR_RETURN(in, Eval(*e.arg));
    }
    if (in.scalar) return Status::InvalidArgument("vector aggregation over a scalar");
    const size_t steps = grid_.n;
    Value out;
    switch (e.op) {
      case VectorOp::kSort:
      case VectorOp::kSortDesc:
        out.v = std::move(in.v);
        out.sort_order = e.op == VectorOp::kSort ? 1 : -1;
        return out;
      case VectorOp::kTopk:
      case VectorOp::kBottomk:
      case VectorOp::kApproxTopk:
        return TopK(e, std::move(in));
      default:
        break;
    }
    // Group index per input series (labels are fixed across steps).
    std::map<std::string, size_t> index;
    std::vector<Labels> group_labels;
    std::vector<size_t> group_of(in.v.size());
    for (size_t s = 0; s < in.v.size(); ++s) {
      Labels g = GroupLabels(in.v[s].labels, e.grouping);
      auto [it, inserted] = index.emplace(g.ToString(), group_labels.size());
      if (inserted) group_labels.push_back(std::move(g));
      group_of[s] = it->second;
    }
    const size_t groups = group_labels.size();
    std::vector<uint32_t> cnt(groups * steps, 0);
    std::vector<double> a(groups * steps, 0), b(groups * steps, 0);
    for (size_t s = 0; s < in.v.size(); ++s) {
      if (internal::IsCancelled(params_)) return internal::CancelledStatus(params_);
      const StepSeries& ser = in.v[s];
      const size_t base = group_of[s] * steps;
      for (size_t i = 0; i < steps; ++i) {
        if (!ser.present[i]) continue;
        const double x = ser.values[i];
        const size_t k = base + i;
        const uint32_t c = ++cnt[k];
        switch (e.op) {
          case VectorOp::kSum:
            a[k] += x;
            break;
          case VectorOp::kAvg:
            // Loki's query frontend runs avg as sum / count (its shard mapping), and those
            // are the digits it answers with.
            a[k] += x;
            break;
          case VectorOp::kCount:
            break;
          case VectorOp::kMax:
            if (c == 1 || a[k] < x || std::isnan(a[k])) a[k] = x;
            break;
          case VectorOp::kMin:
            if (c == 1 || a[k] > x || std::isnan(a[k])) a[k] = x;
            break;
          case VectorOp::kStddev:
          case VectorOp::kStdvar: {
            const double delta = x - a[k];
            a[k] += delta / c;
            b[k] += delta * (x - a[k]);
            break;
          }
          default:
            break;
        }
      }
    }
    for (size_t g = 0; g < groups; ++g) {
      StepSeries o;
      o.labels = std::move(group_labels[g]);
      o.values.assign(steps, 0);
      o.present.assign(steps, 0);
      for (size_t i = 0; i < steps; ++i) {
        const size_t k = g * steps + i;
        if (cnt[k] == 0) continue;
        o.present[i] = 1;
        switch (e.op) {
          case VectorOp::kCount:
            o.values[i] = cnt[k];
            break;
          case VectorOp::kStdvar:
            o.values[i] = b[k] / cnt[k];
            break;
          case VectorOp::kStddev:
            o.values[i] = std::sqrt(b[k] / cnt[k]);
            break;
          case VectorOp::kAvg:
            o.values[i] = a[k] / cnt[k];
            break;
          default:
            o.values[i] = a[k];
            break;
        }
      }
      out.v.push_back(std::move(o));
    }
    return out;
  }

  StatusOr<Value> TopK(const VectorAggregationExpr& e, Value in) {
    const size_t steps = grid_.n;
    const bool top = e.op != VectorOp::kBottomk;
    const size_t k = e.param > 0 ? static_cast<size_t>(e.param) : 0;
    std::sort(in.v.begin(), in.v.end(), LessByLabels);  // ties go to the smaller labels
    std::map<std::string, std::vector<size_t>> groups;
    const std::optional<Grouping> grouping =
        e.op == VectorOp::kApproxTopk ? std::nullopt : e.grouping;
    for (size_t s = 0; s < in.v.size(); ++s) {
      groups[GroupLabels(in.v[s].labels, grouping).ToString()].push_back(s);
    }
    std::vector<StepSeries> out(in.v.size());
    for (size_t s = 0; s < in.v.size(); ++s) {
      out[s].labels = in.v[s].labels;
      out[s].values.assign(steps, 0);
      out[s].present.assign(steps, 0);
    }
    std::vector<size_t> members;
    for (size_t i = 0; i < steps; ++i) {
      if (internal::IsCancelled(params_)) return internal::CancelledStatus(params_);
      for (const auto& [key, ids] : groups) {
        members.clear();
        for (size_t s : ids) {
          if (in.v[s].present[i]) members.push_back(s);
        }
        // Best first; NaN is the worst value for both topk and bottomk (Prometheus).
        auto better = [&](size_t x, size_t y) {
          const double vx = in.v[x].values[i], vy = in.v[y].values[i];
          if (std::isnan(vx) || std::isnan(vy)) {
            if (std::isnan(vx) != std::isnan(vy)) return std::isnan(vy);
            return x < y;
          }
          if (vx != vy) return top ? vx > vy : vx < vy;
          return x < y;
        };
        const size_t take = std::min(k, members.size());
        std::partial_sort(members.begin(), members.begin() + take, members.end(), better);
        for (size_t m = 0; m < take; ++m) {
          out[members[m]].present[i] = 1;
          out[members[m]].values[i] = in.v[members[m]].values[i];
        }
      }
    }
    Value v;
    v.v = std::move(out);
    return v;
  }

  StatusOr<Value> Binary(const BinaryExpr& e) {
    SKALD_ASSIGN_OR_RETURN(Value l, Eval(*e.lhs));
    SKALD_ASSIGN_OR_RETURN(Value r, Eval(*e.rhs));
    const size_t steps = grid_.n;
    if (l.scalar && r.scalar) {
      bool keep = true;
      Value v;
      v.scalar = true;
      v.s = Apply(e.op, l.s, r.s, /*return_bool=*/true, &keep);
      return v;
    }
    if (IsSetOp(e.op)) {
      if (l.scalar || r.scalar) {
        return Status::InvalidArgument("set operator \"" + std::string(BinaryOpString(e.op)) +
                                       "\" not allowed in binary scalar expression");
      }
      return SetOp(e, std::move(l), std::move(r));
    }
    if (l.scalar || r.scalar) {
      const bool scalar_left = l.scalar;
      Value& vec = scalar_left ? r : l;
      const double sc = scalar_left ? l.s : r.s;
      for (StepSeries& s : vec.v) {
        for (size_t i = 0; i < steps; ++i) {
          if (!s.present[i]) continue;
          bool keep = true;
          const double x = s.values[i];
          double y = scalar_left ? Apply(e.op, sc, x, e.return_bool, &keep)
                                 : Apply(e.op, x, sc, e.return_bool, &keep);
          // A filtering comparison keeps the vector's sample value even when the scalar
          // is on the left (Prometheus).
          if (IsCompare(e.op) && !e.return_bool) y = x;
          if (!keep) {
            s.present[i] = 0;
            continue;
          }
          s.values[i] = y;
        }
      }
      vec.sort_order = 0;
      return std::move(vec);
    }
    return VectorVector(e, std::move(l), std::move(r));
  }

  StatusOr<Value> SetOp(const BinaryExpr& e, Value l, Value r) {
    const size_t steps = grid_.n;
    const VectorMatching& m = e.matching;
    std::vector<std::string> lsig(l.v.size()), rsig(r.v.size());
    for (size_t s = 0; s < l.v.size(); ++s) lsig[s] = MatchLabels(l.v[s].labels, m).ToString();
    for (size_t s = 0; s < r.v.size(); ++s) rsig[s] = MatchLabels(r.v[s].labels, m).ToString();
    std::unordered_set<std::string_view> seen;
    for (size_t i = 0; i < steps; ++i) {
      if (internal::IsCancelled(params_)) return internal::CancelledStatus(params_);
      seen.clear();
      if (e.op == BinaryOp::kOr) {
        for (size_t s = 0; s < l.v.size(); ++s) {
          if (l.v[s].present[i]) seen.insert(lsig[s]);
        }
        for (size_t s = 0; s < r.v.size(); ++s) {
          if (r.v[s].present[i] && seen.count(rsig[s])) r.v[s].present[i] = 0;
        }
      } else {
        for (size_t s = 0; s < r.v.size(); ++s) {
          if (r.v[s].present[i]) seen.insert(rsig[s]);
        }
        const bool want = e.op == BinaryOp::kAnd;
        for (size_t s = 0; s < l.v.size(); ++s) {
          if (l.v[s].present[i] && (seen.count(lsig[s]) > 0) != want) l.v[s].present[i] = 0;
        }
      }
    }
    Value out;
    out.v = std::move(l.v);
    if (e.op == BinaryOp::kOr) {
      for (StepSeries& s : r.v) out.v.push_back(std::move(s));
    }
    out.v = Normalize(std::move(out.v));
    return out;
  }

  StatusOr<Value> VectorVector(const BinaryExpr& e, Value l, Value r) {
    const size_t steps = grid_.n;
    const VectorMatching& m = e.matching;
    const bool one_to_many = m.card == VectorMatching::Card::kOneToMany;
    // After the swap `many` is the side whose samples each give a result, `one` the side
    // they are matched against.
    std::vector<StepSeries>& many = one_to_many ? r.v : l.v;
    std::vector<StepSeries>& one = one_to_many ? l.v : r.v;
    std::sort(many.begin(), many.end(), LessByLabels);
    std::sort(one.begin(), one.end(), LessByLabels);
    std::vector<std::string> msig(many.size()), osig(one.size());
    for (size_t s = 0; s < many.size(); ++s) msig[s] = MatchLabels(many[s].labels, m).ToString();
    for (size_t s = 0; s < one.size(); ++s) osig[s] = MatchLabels(one[s].labels, m).ToString();

    std::vector<StepSeries> out;
    std::map<std::string, size_t> out_index;                         // result labels -> out
    std::unordered_map<uint64_t, size_t> pair_index;                 // (many, one) -> out
    std::unordered_map<std::string_view, size_t> one_at;             // sig -> one-side series
    std::unordered_map<std::string_view, std::set<size_t>> matched;  // sig -> results
    for (size_t i = 0; i < steps; ++i) {
      if (internal::IsCancelled(params_)) return internal::CancelledStatus(params_);
      one_at.clear();
      matched.clear();
      for (size_t s = 0; s < one.size(); ++s) {
        if (!one[s].present[i]) continue;
        auto [it, inserted] = one_at.emplace(osig[s], s);
        if (!inserted) {
          // Loki's text and status: its evaluator returns an untyped error, a 500.
          return Status::Internal(std::string("found duplicate series on the ") +
                                  (one_to_many ? "left" : "right") +
                                  " hand-side;many-to-many matching not allowed: matching "
                                  "labels must be unique on one side");
        }
      }
      for (size_t s = 0; s < many.size(); ++s) {
        if (!many[s].present[i]) continue;
        auto it = one_at.find(msig[s]);
        if (it == one_at.end()) continue;
        const size_t o = it->second;
        double vl = many[s].values[i], vr = one[o].values[i];
        if (one_to_many) std::swap(vl, vr);
        bool keep = true;
        const double value = Apply(e.op, vl, vr, e.return_bool, &keep);
        if (!keep) continue;
        const uint64_t pair = (static_cast<uint64_t>(s) << 32) | o;
        auto pit = pair_index.find(pair);
        size_t idx;
        if (pit == pair_index.end()) {
          Labels res = ResultLabels(many[s].labels, one[o].labels, m);
          auto [oit, inserted] = out_index.emplace(res.ToString(), out.size());
          if (inserted) {
            StepSeries ns;
            ns.labels = std::move(res);
            ns.values.assign(steps, 0);
            ns.present.assign(steps, 0);
            out.push_back(std::move(ns));
          }
          idx = oit->second;
          pair_index.emplace(pair, idx);
        } else {
          idx = pit->second;
        }
        auto& results = matched[msig[s]];
        if (m.card == VectorMatching::Card::kOneToOne) {
          if (!results.empty()) {
            return Status::Internal(  // a 500, as in Loki
                "multiple matches for labels: many-to-one matching must be explicit "
                "(group_left/group_right)");
          }
        } else if (results.count(idx) > 0) {
          return Status::Internal(  // a 500, as in Loki
              "multiple matches for labels: grouping labels must ensure unique matches");
        }
        results.insert(idx);
        out[idx].present[i] = 1;
        out[idx].values[i] = value;
      }
    }
    Value v;
    v.v = std::move(out);
    return v;
  }

  // Prometheus' resultMetric: the many side's labels, reduced to the matching labels for
  // one-to-one matching, plus the group_x(...) labels copied from the one side.
  static Labels ResultLabels(const Labels& many, const Labels& one, const VectorMatching& m) {
    std::vector<Label> out;
    if (m.card == VectorMatching::Card::kOneToOne) {
      for (const Label& x : many) {
        const bool listed = std::find(m.labels.begin(), m.labels.end(), x.name) != m.labels.end();
        if (m.on ? listed : !listed) out.push_back(x);
      }
    } else {
      out = many.items();
    }
    for (const std::string& name : m.include) {
      out.erase(
          std::remove_if(out.begin(), out.end(), [&](const Label& x) { return x.name == name; }),
          out.end());
      std::string_view v = one.Get(name);
      if (!v.empty()) out.push_back(Label{name, std::string(v)});
    }
    return Labels(std::move(out));
  }

  StatusOr<Value> LabelReplace(const LabelReplaceExpr& e) {
    SKALD_ASSIGN_OR_RETURN(Value in, Eval(*e.arg));
    if (in.scalar) return Status::InvalidArgument("label_replace over a scalar");
    re2::RE2 re("^(?:" + e.regex + ")$");
    if (!re.ok()) return Status::InvalidArgument("invalid regex in label_replace: " + re.error());
    std::vector<re2::StringPiece> groups(re.NumberOfCapturingGroups() + 1);
    for (StepSeries& s : in.v) {
      const std::string src(s.labels.Get(e.src));
      if (!re.Match(src, 0, src.size(), re2::RE2::ANCHOR_BOTH, groups.data(),
                    static_cast<int>(groups.size()))) {
        continue;
      }
      const std::string value = Expand(e.replacement, re, groups);
      std::vector<Label> ls;
      for (const Label& x : s.labels) {
        if (x.name != e.dst) ls.push_back(x);
      }
      if (!value.empty()) ls.push_back(Label{e.dst, value});
      s.labels = Labels(std::move(ls));
    }
    in.v = Normalize(std::move(in.v));
    return in;
  }

  const EvalParams& params_;
  SampleSource* source_;
  StepGrid grid_;
};

bool SortLess(const SampleValue& a, const SampleValue& b, int order) {
  const double x = a.point.value, y = b.point.value;
  // NaN goes last in both directions (Prometheus).
  if (std::isnan(x) || std::isnan(y)) {
    if (std::isnan(x) != std::isnan(y)) return std::isnan(y);
    return CompareLabels(a.labels, b.labels) < 0;
  }
  if (x != y) return order > 0 ? x < y : x > y;
  return CompareLabels(a.labels, b.labels) < 0;
}

}  // namespace

StatusOr<QueryValue> Evaluate(const Expr& expr, const EvalParams& in_params, SampleSource* source) {
  EvalParams params = in_params;
  if (params.max_series == 0) params.max_series = UINT32_MAX;  // 0: no limit
  StepGrid grid;
  grid.start = params.start_nanos;
  grid.step = params.step_nanos > 0 ? params.step_nanos : 0;
  if (grid.step > 0) {
    grid.n = params.end_nanos < params.start_nanos
                 ? 0
                 : static_cast<size_t>((params.end_nanos - params.start_nanos) / grid.step) + 1;
  } else {
    grid.n = 1;
  }
  Evaluator ev(params, source, grid);
  SKALD_ASSIGN_OR_RETURN(Value v, ev.Eval(expr));
  QueryValue out;
  if (v.scalar) {
    if (grid.step == 0) {
      out.type = QueryValue::Type::kScalar;
      out.scalar = Point{grid.start, v.s};
      return out;
    }
    // Loki answers a range query of a scalar with one label-less series.
    out.type = QueryValue::Type::kMatrix;
    SeriesValue s;
    for (size_t i = 0; i < grid.n; ++i) s.points.push_back(Point{grid.At(i), v.s});
    if (!s.points.empty()) out.matrix.push_back(std::move(s));
    return out;
  }
  const int order = v.sort_order;
  std::vector<StepSeries> series = Normalize(std::move(v.v));
  if (series.size() > params.max_series) {
    return Status::InvalidArgument(internal::SeriesLimitMessage(params.max_series));
  }
  if (grid.step == 0) {
    out.type = QueryValue::Type::kVector;
    for (StepSeries& s : series) {
      if (!s.present[0]) continue;
      out.vector.push_back(SampleValue{std::move(s.labels), Point{grid.start, s.values[0]}});
    }
    if (order != 0) {
      std::sort(
          out.vector.begin(), out.vector.end(),
          [order](const SampleValue& a, const SampleValue& b) { return SortLess(a, b, order); });
    }
    return out;
  }
  out.type = QueryValue::Type::kMatrix;
  for (StepSeries& s : series) {
    SeriesValue sv;
    sv.labels = std::move(s.labels);
    for (size_t i = 0; i < grid.n; ++i) {
      if (s.present[i]) sv.points.push_back(Point{grid.At(i), s.values[i]});
    }
    out.matrix.push_back(std::move(sv));
  }
  return out;
}

}  // namespace skald::logql
