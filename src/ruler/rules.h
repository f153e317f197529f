// Rule groups in Prometheus' rule-file format, as Loki's ruler reads them: alerting and
// recording rules whose `expr` is a LogQL metric query.
//
// A rule file is `groups: [<group>, ...]`; a group is
//   name: <string>            # required, unique within its file / namespace
//   interval: <duration>      # optional; 0 = the ruler's evaluation_interval
//   limit: <int>              # optional; 0 = no limit on alerts / series per evaluation
//   rules:
//     - record: <metric name> | alert: <alert name>
//       expr: <LogQL metric query>
//       for: <duration>               # alerts only
//       keep_firing_for: <duration>   # alerts only
//       labels: {<name>: <template>}
//       annotations: {<name>: <template>}  # alerts only
// Durations are Prometheus durations (`1m`, `1h30m`, `500ms`, `1d`, `1w`, `1y`).
// Validation follows Prometheus' rulefmt (same texts where it has them) plus Loki's check that
// `expr` parses as a LogQL sample (metric) expression. docs/formats/rules.md is the reference.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace skald::ruler {

// Ordered name/value pairs as they appear in the file (labels and annotations keep their order
// for round trips; evaluation sorts them).
using StringPairs = std::vector<std::pair<std::string, std::string>>;

struct Rule {
  std::string record;  // recording rule: the metric name to write; "" for alerts
  std::string alert;   // alerting rule: the alert name; "" for recording rules
  std::string expr;    // LogQL metric query, as written
  int64_t for_ms = 0;  // alerts: how long a result must persist before it fires
  int64_t keep_firing_for_ms = 0;
  StringPairs labels;       // templates; added to every produced series / alert
  StringPairs annotations;  // alerts only; templates

  bool is_alert() const { return !alert.empty(); }
  friend bool operator==(const Rule&, const Rule&) = default;
};

struct RuleGroup {
  std::string name;
  int64_t interval_ms = 0;  // 0: the ruler's default
  int64_t limit = 0;        // 0: unlimited
  std::vector<Rule> rules;
  friend bool operator==(const RuleGroup&, const RuleGroup&) = default;
};

// namespace -> its groups, namespaces in byte order.
using RuleNamespaces = std::map<std::string, std::vector<RuleGroup>>;

// Parses one group: the YAML body of `POST /loki/api/v1/rules/{namespace}`. Errors are
// InvalidArgument with the YAML parser's or the validator's text; the group is validated
// (ValidateGroup) before it is returned.
StatusOr<RuleGroup> ParseRuleGroupYaml(std::string_view yaml);

// Parses and validates a rule file (`groups:` list). Group names must be unique in the file.
StatusOr<std::vector<RuleGroup>> ParseRuleFileYaml(std::string_view yaml);

// Validates one group: name present; each rule has exactly one of record/alert, a non-empty
// expr that parses as a LogQL metric query, a valid metric name for `record`, label names
// valid and not `__name__`-like reserved ones, no `for`/`annotations` on recording rules;
// templates in labels/annotations parse. InvalidArgument with the reason.
Status ValidateGroup(const RuleGroup& group);

// YAML of one group, in the file format above (what `GET /loki/api/v1/rules/{ns}/{group}`
// answers). Durations are printed as Prometheus does (`1m`, `1h30m`); zero fields are
// omitted. ParseRuleGroupYaml(GroupToYaml(g)) == g.
std::string GroupToYaml(const RuleGroup& group);

// YAML of namespaces: `<namespace>:\n  - <group>...` (what `GET /loki/api/v1/rules` and
// `GET /loki/api/v1/rules/{ns}` answer in Loki).
std::string NamespacesToYaml(const RuleNamespaces& namespaces);

// A rule file's YAML (`groups:` list), as the store writes it.
std::string RuleFileToYaml(const std::vector<RuleGroup>& groups);

// Prometheus' duration syntax: `[0-9]+(ms|s|m|h|d|w|y)` repeated, largest unit first, or "0".
StatusOr<int64_t> ParsePromDuration(std::string_view s);
// The inverse: `1h30m`, `500ms`, `0s`.
std::string FormatPromDuration(int64_t ms);

}  // namespace skald::ruler
