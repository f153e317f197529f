// Go text/template, as LogQL's `line_format` and `label_format` stages use it.
//
// A Template is parsed once per query from the stage's string and then executed once per
// log entry, so Execute is the hot path: it allocates nothing beyond growing *out when the
// template only prints fields and literals. Semantics follow Go's text/template (actions,
// pipelines, variables, if/else/with/range, comparison functions, whitespace trimming with
// `{{-`/`-}}`, comments) with the data being the entry's labels as a map of strings (a
// missing label prints as ""), and Loki's function set (`__line__`, `__timestamp__`,
// string, math, regex, date and sprig-style functions; see docs/logql.md once written).
//
// Error texts follow Go's (`template: line:1: function "nope" not defined`, ...) since Loki
// returns them unchanged to clients: a parse error is a 400 for the whole query, an
// execution error sets `__error__="TemplateFormatErr"` on that entry only.
//
// A parsed Template is immutable; Execute is const and safe to call from many threads.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace skald::logql {

// What a template sees of one entry. Implemented by the pipeline over its label buffers.
class TemplateData {
 public:
  virtual ~TemplateData() = default;
  // The value of label `name` (stream, structured metadata or parsed), or nullopt when the
  // entry has no such label.
  virtual std::optional<std::string_view> Label(std::string_view name) const = 0;
  // The entry's current line (`__line__`).
  virtual std::string_view Line() const = 0;
  // The entry's timestamp in Unix nanoseconds (`__timestamp__`).
  virtual int64_t TimestampNanos() const = 0;
  // Calls fn(name, value) for every label, in any order. Only templates that use the data
  // as a whole (`range .`, `len .`, `{{ . }}`, `index . "name"`) need it, at most once per
  // Execute; the default (no labels) suits callers that never run such templates.
  virtual void ForEachLabel(
      const std::function<void(std::string_view name, std::string_view value)>& fn) const {
    (void)fn;
  }
};

namespace internal {
struct TemplateProgram;
}

// The function set a template is parsed against. Functions are resolved at Parse, so the
// choice costs nothing at Execute.
//  - kLogQL: Go's builtins, Loki's functions and its sprig subset (line_format,
//    label_format). Anything else is `function "x" not defined`, as in Loki.
//  - kPrometheusAlerts: Go's builtins plus Prometheus' alert/recording-rule template
//    functions (prometheus/template/template.go): humanize, humanize1024,
//    humanizeDuration, humanizePercentage, humanizeTimestamp, toTime, parseDuration,
//    toUpper, toLower, title, match, reReplaceAll, stripPort, stripDomain, urlQueryEscape,
//    graphLink, tableLink, safeHtml, args, externalURL, pathPrefix and now (the float Unix
//    seconds of TemplateData::TimestampNanos, which the ruler sets to the evaluation time,
//    truncated to milliseconds as Prometheus' model.Time is). In this set a time.Time
//    also has Go's Format method (`{{ (toTime $value).Format "2006-01-02" }}`).
//    Not provided (they need a query engine, HTML mode or Go types the engine does not
//    model): query, first, label, value, strvalue, sortByLabel, tmpl, toDuration.
enum class TemplateFuncs : uint8_t { kLogQL, kPrometheusAlerts };

class Template {
 public:
  // Parses `text`. InvalidArgument with Go's message on a syntax error or an unknown
  // function. `name` is the Go template name that appears in messages ("template:
  // line:1: ..."); Loki names line_format templates "line" (see docs/logql.md). `funcs`
  // picks the function set (above); `external_url` is what Prometheus' externalURL returns
  // (and pathPrefix its path), used by kPrometheusAlerts only.
  static StatusOr<Template> Parse(std::string_view text, std::string_view name = "line",
                                  TemplateFuncs funcs = TemplateFuncs::kLogQL,
                                  std::string_view external_url = {});

  // Appends the template's output for `data` to *out. On an execution error (a function
  // failing, a wrong argument type) returns InvalidArgument with Go's message; *out may
  // then hold partial output.
  Status Execute(const TemplateData& data, std::string* out) const;

  // True when the template never refers to `__line__` / `__timestamp__` / labels, i.e. its
  // output is the same for every entry (then it is executed once and cached by callers).
  bool IsConstant() const;

 private:
  std::shared_ptr<const internal::TemplateProgram> program_;
};

}  // namespace skald::logql
