// Label filter execution: see label_filter_exec.h.
#include "logql/label_filter_exec.h"

#include <cmath>

#include "core/parse.h"
#include "core/time.h"

namespace skald::logql {
namespace {

template <typename T>
bool Compare(CompareOp op, T a, T b) {
  switch (op) {
    case CompareOp::kEq:
      return a == b;
    case CompareOp::kNe:
      return a != b;
    case CompareOp::kGt:
      return a > b;
    case CompareOp::kGe:
      return a >= b;
    case CompareOp::kLt:
      return a < b;
    case CompareOp::kLe:
      return a <= b;
  }
  return false;
}

}  // namespace

bool ConvertFloat(std::string_view s, double* out, std::string* err) {
  // Fast path for what label values mostly are, plain integers (status codes, sizes):
  // below 2^53 the conversion is exact, so Go's ParseFloat gives the same value.
  size_t i = (!s.empty() && (s[0] == '-' || s[0] == '+')) ? 1 : 0;
  if (s.size() > i && s.size() - i <= 15) {
    int64_t v = 0;
    size_t j = i;
    for (; j < s.size() && s[j] >= '0' && s[j] <= '9'; j++) v = v * 10 + (s[j] - '0');
    if (j == s.size()) {
      *out = s[0] == '-' ? -static_cast<double>(v) : static_cast<double>(v);
      return true;
    }
  }
  return ParseGoFloat(s, out, err);
}

bool ConvertDuration(std::string_view s, int64_t* nanos, std::string* err) {
  auto d = ParseGoDuration(s);
  if (!d.ok()) {
    *err = d.status().message();
    return false;
  }
  *nanos = *d;
  return true;
}

bool ConvertBytes(std::string_view s, uint64_t* out, std::string* err) {
  size_t digits = 0;
  bool comma = false;
  while (digits < s.size() &&
         ((s[digits] >= '0' && s[digits] <= '9') || s[digits] == '.' || s[digits] == ',')) {
    comma = comma || s[digits] == ',';
    digits++;
  }
  std::string_view num = s.substr(0, digits);
  char buf[64];
  if (comma) {
    size_t n = 0;
    for (char c : num) {
      if (c != ',' && n < sizeof(buf)) buf[n++] = c;
    }
    num = std::string_view(buf, n);
  }
  double f = 0;
  if (!ParseGoFloat(num, &f, err)) return false;
  std::string_view unit = s.substr(digits);
  while (!unit.empty() && (unit.front() == ' ' || unit.front() == '\t' || unit.front() == '\n' ||
                           unit.front() == '\r' || unit.front() == '\v' || unit.front() == '\f'))
    unit.remove_prefix(1);
  while (!unit.empty() && (unit.back() == ' ' || unit.back() == '\t' || unit.back() == '\n' ||
                           unit.back() == '\r' || unit.back() == '\v' || unit.back() == '\f'))
    unit.remove_suffix(1);
  char lower[4];
  double mult = -1;
  if (unit.size() <= 3) {
    for (size_t i = 0; i < unit.size(); i++) {
      char c = unit[i];
      lower[i] = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    }
    std::string_view u(lower, unit.size());
    static constexpr struct {
      std::string_view name;
      double mult;
    } kUnits[] = {
        {"", 1},
        {"b", 1},
        {"k", 1e3},
        {"kb", 1e3},
        {"ki", 1024.0},
        {"kib", 1024.0},
        {"m", 1e6},
        {"mb", 1e6},
        {"mi", 1048576.0},
        {"mib", 1048576.0},
        {"g", 1e9},
        {"gb", 1e9},
        {"gi", 1073741824.0},
        {"gib", 1073741824.0},
        {"t", 1e12},
        {"tb", 1e12},
        {"ti", 1099511627776.0},
        {"tib", 1099511627776.0},
        {"p", 1e15},
        {"pb", 1e15},
        {"pi", 1125899906842624.0},
        {"pib", 1125899906842624.0},
        {"e", 1e18},
        {"eb", 1e18},
        {"ei", 1152921504606846976.0},
        {"eib", 1152921504606846976.0},
    };
    for (const auto& k : kUnits) {
      if (k.name == u) mult = k.mult;
    }
  }
  if (mult < 0) {
    // go-humanize reports the lowered, trimmed unit.
    *err = "unhandled size name: ";
    for (char c : unit) err->push_back((c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c);
    return false;
  }
  f *= mult;
  if (f >= 18446744073709551616.0) {
    *err = "too large: " + std::string(s);
    return false;
  }
  *out = static_cast<uint64_t>(f);
  return true;
}

StatusOr<LabelFilterExec> LabelFilterExec::Compile(const LabelFilter& filter) {
  LabelFilterExec e;
  e.root_spec_ = std::make_shared<const LabelFilter>(filter);
  Status st;
  e.root_ = e.Add(*e.root_spec_, &st);
  if (!st.ok()) return st;
  return e;
}

int LabelFilterExec::Add(const LabelFilter& f, Status* status) {
  Node n;
  n.kind = f.kind;
  n.spec = &f;
  if (f.kind == LabelFilter::Kind::kAnd || f.kind == LabelFilter::Kind::kOr) {
    if (f.children.size() == 2) {
      n.left = Add(f.children[0], status);
      n.right = Add(f.children[1], status);
    }
  } else if (f.kind == LabelFilter::Kind::kIp) {
    auto m = IpMatcher::Create(f.ip_pattern);
    if (!m.ok()) {
      if (status->ok()) *status = m.status();
    } else {
      n.ip = std::make_shared<const IpMatcher>(std::move(m).value());
    }
  }
  nodes_.push_back(std::move(n));
  return static_cast<int>(nodes_.size()) - 1;
}

bool LabelFilterExec::Process(LabelsBuilder* labels) const {
  if (root_ < 0) return true;
  return Eval(root_, labels);
}

bool LabelFilterExec::Eval(int index, LabelsBuilder* labels) const {
  const Node& n = nodes_[static_cast<size_t>(index)];
  const LabelFilter& f = *n.spec;
  switch (n.kind) {
    case LabelFilter::Kind::kAnd: {
      if (n.left < 0) return true;
      bool l = Eval(n.left, labels);
      bool r = Eval(n.right, labels);  // Loki evaluates both sides
      return l && r;
    }
    case LabelFilter::Kind::kOr:
      if (n.left < 0) return true;
      return Eval(n.left, labels) || Eval(n.right, labels);
    case LabelFilter::Kind::kMatcher: {
      if (!f.matcher) return true;
      const Matcher& m = *f.matcher;
      if (m.name() == kErrorLabel) return m.Matches(labels->error());
      if (m.name() == kErrorDetailsLabel) return m.Matches(labels->error_details());
      return m.Matches(labels->Get(m.name()).value_or(std::string_view()));
    }
    case LabelFilter::Kind::kIp: {
      // Only string matchers can filter out an entry that has an error.
      if (labels->HasError()) return true;
      auto v = labels->Get(f.name);
      if (!v || !n.ip) return false;
      bool found = n.ip->ContainsMatch(*v);
      return f.cmp == CompareOp::kNe ? !found : found;
    }
    case LabelFilter::Kind::kNumber:
    case LabelFilter::Kind::kDuration:
    case LabelFilter::Kind::kBytes: {
      // Loki 3: a missing label fails the filter even when an error is set (only the ip()
      // filter lets errors through); a conversion failure keeps the entry and sets
      // `LabelFilterErr` unless an error is already set.
      auto v = labels->Get(f.name);
      if (!v) return false;
      std::string err;
      bool ok = false;
      bool pass = false;
      if (n.kind == LabelFilter::Kind::kNumber) {
        double x = 0;
        ok = ConvertFloat(*v, &x, &err);
        pass = ok && Compare(f.cmp, x, f.number);
      } else if (n.kind == LabelFilter::Kind::kDuration) {
        int64_t d = 0;
        ok = ConvertDuration(*v, &d, &err);
        pass = ok && Compare(f.cmp, d, f.duration_nanos);
      } else {
        uint64_t b = 0;
        ok = ConvertBytes(*v, &b, &err);
        pass = ok && Compare(f.cmp, b, f.bytes);
      }
      if (!ok) {
        if (!labels->HasError()) labels->SetError(kLabelFilterErr, err);
        return true;
      }
      return pass;
    }
  }
  return true;
}

}  // namespace skald::logql
