// The LogQL parser stages' line parsers: json, logfmt, regexp, pattern, unpack.
//
// Each parser reads one log line and hands what it extracts to a ParsedSink as (name, value)
// views; it owns no label state. Names are already sanitized the way Loki sanitizes them
// (json, logfmt, unpack: spaces trimmed, a leading digit prefixed by `_`, every character
// outside [A-Za-z0-9_] replaced by `_`; nested json keys joined with `_`); names given in the
// query (`json a="..."`, `logfmt a`, regexp groups, pattern captures) are used as written.
// Names and values are views into the line when no unescaping or joining was needed, else
// into the parser's own scratch memory; all stay valid until the parser's next Parse call
// (or its destruction). The sink (the pipeline's label builder) applies Loki's policy for
// names that collide with existing labels (the `_extracted` suffix) and keeps the first
// value when a parser reports a name twice in one line (json/logfmt duplicate keys).
// Semantics, and where Skald chose where Loki's docs are silent: docs/logql.md "Parsers".
//
// Parsers are compiled once per query and are not thread-safe (they reuse scratch buffers):
// make one per stream pipeline, with Clone() when a stage is shared across threads.
// Parse allocates nothing per entry once the scratch buffers have grown.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "logql/ast.h"

namespace skald::logql {

// Receives what a parser extracts from one line.
class ParsedSink {
 public:
  virtual ~ParsedSink() = default;
  // One extracted label. `name` is sanitized and non-empty.
  virtual void Add(std::string_view name, std::string_view value) = 0;
  // True when a label called `name` was already extracted by an earlier parser stage for
  // this entry (Loki: a later parser does not overwrite it); lets parsers skip the work.
  virtual bool AlreadyParsed(std::string_view name) const = 0;
  // `unpack` only: the packed `_entry` replaces the line.
  virtual void SetLine(std::string_view line) = 0;
  // Parsers with parameters (`logfmt a, b="k"`) store like Loki's LabelsBuilder.Set: a name
  // equal to a stream or metadata label becomes `<name>_extracted`, and a parsed value of
  // that name (an earlier value in the line, or an earlier stage's) is replaced.
  virtual void Put(std::string_view name, std::string_view value) = 0;
  // Whether `name` is a stream label or a structured-metadata key of this entry.
  virtual bool IsStreamOrMetadata(std::string_view name) const = 0;
};

// Why a line could not be parsed: becomes `__error__` and `__error_details__`.
struct ParseError {
  std::string_view error;  // "JSONParserErr" / "LogfmtParserErr"; empty = no error
  // Go's error text, valid until the next Parse. May be empty with an error: Loki sets no
  // `__error_details__` for `json a="..."` and `unpack` on a line that is not JSON.
  std::string_view details;
  explicit operator bool() const { return !error.empty(); }
};

class LineParser {
 public:
  virtual ~LineParser() = default;
  // Parses `line`, reporting labels to *sink. Returns the error to set on the entry, if
  // any (the entry is kept either way; what was extracted before the error stays).
  virtual ParseError Parse(std::string_view line, ParsedSink* sink) = 0;
  // A fresh parser with the same configuration and its own scratch buffers.
  virtual std::unique_ptr<LineParser> Clone() const = 0;
};

// Label hints (Loki's parser hints): the parsed names the rest of a query can observe. A
// hinted `json` / `logfmt` (without parameters) reports only those names; it still reads and
// checks the whole line as the unhinted parser does, so its error result is the same, and the
// first value of a repeated key still wins. A non-strict logfmt parser stops reading once it
// has seen every wanted name (it can report no error, so nothing after can change the result).
// Names are the parser's output names (sanitized, before any `_extracted` suffix); asking
// for `x_extracted` also asks for `x`. Other parser kinds ignore hints.
class LabelHints {
 public:
  explicit LabelHints(std::vector<std::string> names);
  bool Wants(std::string_view name) const { return MayWant(name) && IndexOf(name) >= 0; }
  // False when no wanted name has the length of `name` (most names are ruled out this way,
  // without a call).
  bool MayWant(std::string_view name) const {
    return (length_mask_ & (uint64_t{1} << (name.size() & 63))) != 0;
  }
  // True when some wanted name starts with `prefix` + "_" (json: nested keys of `prefix`
  // can be wanted).
  bool WantsNested(std::string_view prefix) const;
  // Index of `name` among the wanted names (0..size()-1), or -1.
  int IndexOf(std::string_view name) const;
  size_t size() const { return names_.size(); }
  const std::vector<std::string>& names() const { return names_; }

 private:
  std::vector<std::string> names_;  // sorted, unique
  uint64_t length_mask_ = 0;        // bit (len & 63) set for every wanted name's length
};

// Builds the parser of one parser stage (kind kJson, kLogfmt, kRegexp, kPattern, kUnpack).
// InvalidArgument with Loki's text for a bad regexp (no named group, invalid or duplicate
// group name), a bad pattern, a bad json expression path (`cannot parse expression [p]:
// ...`) or an invalid json label name; "not a parser stage" for any other kind.
// With `hints`, json and logfmt report only the wanted names (see LabelHints).
StatusOr<std::unique_ptr<LineParser>> NewLineParser(
    const PipelineStage& stage, std::shared_ptr<const LabelHints> hints = nullptr);

// Loki's label-name sanitizing for json, logfmt and unpack keys (see above). Appends to *out
// (nothing when the key is empty after trimming).
void SanitizeLabelName(std::string_view key, std::string* out);

}  // namespace skald::logql
