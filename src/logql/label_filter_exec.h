// Execution of a label filter stage (`| status >= 500 or level="error"`) and of unwrap's
// post-filters, over a LabelsBuilder. Also the value conversions Loki applies to label
// values (float, Go duration, humanized bytes) with Go's error texts, shared with unwrap.
//
// Semantics (Loki's): string matchers compare the label's value, a missing label as "";
// on `__error__` / `__error_details__` they compare the entry's error. Typed filters
// (number, duration, bytes) and ip() keep an entry that already has an error, drop one
// without the label, and on a value that does not convert keep it with
// `__error__="LabelFilterErr"` and the conversion error as `__error_details__`. `and`
// evaluates both sides; `or` evaluates its right side only when the left one failed.
//
// A compiled LabelFilterExec is immutable and thread-safe; Process mutates only the
// builder it is given and allocates nothing unless it records an error.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "logql/ast.h"
#include "logql/ip_match.h"
#include "logql/labels_builder.h"

namespace skald::logql {

inline constexpr std::string_view kLabelFilterErr = "LabelFilterErr";

class LabelFilterExec {
 public:
  // InvalidArgument for an invalid ip() pattern.
  static StatusOr<LabelFilterExec> Compile(const LabelFilter& filter);

  // True when the entry passes; may record an error on *labels.
  bool Process(LabelsBuilder* labels) const;

 private:
  struct Node {
    LabelFilter::Kind kind = LabelFilter::Kind::kMatcher;
    int left = -1, right = -1;  // kAnd / kOr children
    const LabelFilter* spec = nullptr;
    std::shared_ptr<const IpMatcher> ip;
  };
  int Add(const LabelFilter& f, Status* status);
  bool Eval(int node, LabelsBuilder* labels) const;

  std::shared_ptr<const LabelFilter> root_spec_;  // owned copy the nodes point into
  std::vector<Node> nodes_;
  int root_ = -1;
};

// Go's strconv.ParseFloat(s, 64). On failure returns false and sets *err to Go's text.
bool ConvertFloat(std::string_view s, double* out, std::string* err);
// Go's time.ParseDuration, in nanoseconds.
bool ConvertDuration(std::string_view s, int64_t* nanos, std::string* err);
// go-humanize's ParseBytes: a number (commas ignored) then an optional unit after optional
// spaces, case-insensitive (b, k/kb, ki/kib, ... e/eb, ei/eib).
bool ConvertBytes(std::string_view s, uint64_t* out, std::string* err);

}  // namespace skald::logql
