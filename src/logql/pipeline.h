// Log pipeline execution: every stage after a stream selector (Loki's pkg/logql/log), and
// sample extraction for range aggregations.
//
// A Pipeline is compiled once per query from a LogSelector (its leading line filters and
// its other stages). ForStream() then gives the per-stream state — label buffers seeded
// with the stream's labels, per-stream caches, the parsers' scratch space — and
// StreamPipeline::Process runs one entry through every stage in order: line filters,
// parsers (json, logfmt, regexp, pattern, unpack), label filters, line_format and
// label_format, decolorize, drop and keep. An entry that a stage rejects is dropped; parse,
// conversion and template failures keep the entry and set `__error__` /
// `__error_details__` as Loki does.
//
// Labels of an entry: the stream's labels, then its structured metadata, then parsed
// labels. A structured-metadata key or a parsed name equal to a stream label's name is
// renamed `<name>_extracted` (a parsed name equal to a structured-metadata key likewise);
// a later parser stage never overwrites a label an earlier parser stage set; label filters
// see all three kinds.
//
// Hot path: Process allocates nothing per entry once buffers have grown (only recording an
// error may). The results are views valid until the next Process call on the same
// StreamPipeline — and they may point into the `line` and `metadata` bytes the caller
// passed in, so those must stay alive as long as the results are used (copy with
// ToLabels / std::string to keep them longer).
//
// Loki behaviours worth knowing (details in docs/logql.md, "Pipeline"): typed label filters
// and ip() keep an entry that already has `__error__`; `or` stops at its first passing side
// while `and` evaluates both; a template error keeps the line as it was; label_format's
// template forms all see the labels as they were before the stage; keep never removes the
// error labels; drop can.
//
// Thread-safety: Pipeline and SampleExtractor are immutable and shared by every thread of
// a query; a StreamPipeline / StreamSampleExtractor belongs to one thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/entry.h"
#include "core/labels.h"
#include "core/status.h"
#include "logql/ast.h"
#include "logql/line_filter.h"

namespace skald::logql {

// A label as a view (into the stream's labels, the entry's metadata or pipeline buffers).
struct LabelRef {
  std::string_view name;
  std::string_view value;
  friend bool operator==(const LabelRef&, const LabelRef&) = default;
};

// The labels of one processed entry. Every span is sorted by name with unique names, and
// `all` is the union of the other three (Loki's default result encoding splits result
// streams by `all`; the categorize-labels encoding sends the three kinds apart, with
// `__error__`/`__error_details__` under parsed).
struct EntryLabels {
  std::span<const LabelRef> all;
  std::span<const LabelRef> stream;
  std::span<const LabelRef> structured_metadata;
  std::span<const LabelRef> parsed;
  // Hash of `all` (names and values); equal sets hash equal. For grouping entries into
  // result streams and series without rebuilding label strings.
  uint64_t hash = 0;
};

// Copies a span of label views into an owned, sorted label set.
Labels ToLabels(std::span<const LabelRef> labels);

class StreamPipeline {
 public:
  virtual ~StreamPipeline() = default;
  // Runs one entry through every stage. Returns false when a stage drops it. On true,
  // *line is the entry's line after line_format / decolorize (possibly `line` itself) and
  // labels() describes its labels; both stay valid until the next Process call.
  virtual bool Process(int64_t ts, std::string_view line, std::span<const MetadataPair> metadata,
                       std::string_view* out_line) = 0;
  virtual const EntryLabels& labels() const = 0;
};

// LineFilter::Compile of the selector's leading line filters; an error is reported as Loki
// reports a stage that does not build (`parse error : stage '<filters>' : <error>`).
StatusOr<LineFilter> CompileLeadingLineFilters(const LogSelector& selector);

class Pipeline {
 public:
  virtual ~Pipeline() = default;
  // Compiles every stage of `selector` (line_filters then stages). InvalidArgument with
  // Loki's text for what only shows at compile time: a bad regexp or pattern in a parser
  // (parsers.h), a template that does not parse (template.h), an invalid ip() pattern
  // (`ip: invalid pattern: "x"`), a label_format naming one destination twice
  // (`multiple label name 'x' not allowed in a single format operation`).
  static StatusOr<std::shared_ptr<const Pipeline>> Compile(const LogSelector& selector);

  // Per-stream state for the stream with labels `stream` (sorted, as stored).
  virtual std::unique_ptr<StreamPipeline> ForStream(const Labels& stream) const = 0;

  // True when every stage is a line filter (or there are none): the labels of every entry
  // are the stream's labels plus its structured metadata, and only the line can drop it.
  virtual bool OnlyLineFilters() const = 0;
};

// Sample extraction for one range aggregation: its selector's pipeline, then the value.
// count_over_time / rate / absent_over_time: 1 per entry; bytes_over_time / bytes_rate: the
// byte length of the line after the pipeline; unwrap aggregations: the unwrapped label
// converted as written (float, `duration()`/`duration_seconds()` in seconds, `bytes()`),
// then the post-unwrap label filters. An empty or missing unwrapped label skips the entry;
// a conversion failure keeps it with `__error__="SampleExtractionErr"` (and Go's error text
// as `__error_details__`) and value 0, unless a post-unwrap filter (`| __error__=""`) drops
// it. The sample's labels are the entry's labels minus the unwrapped label (kept when the
// sample carries an error), `__error__` included (grouping, and failing the query on
// errors, are the evaluator's job).
class StreamSampleExtractor {
 public:
  virtual ~StreamSampleExtractor() = default;
  // True when the entry yields a sample; then *value holds it and labels() its labels
  // (valid until the next call; views as for StreamPipeline). Allocates nothing once warm.
  virtual bool Process(int64_t ts, std::string_view line, std::span<const MetadataPair> metadata,
                       double* value) = 0;
  virtual const EntryLabels& labels() const = 0;
};

class SampleExtractor {
 public:
  virtual ~SampleExtractor() = default;
  // Label hints: when the samples are grouped `by (...)` right away — by the range
  // aggregation's own grouping, else by `outer_grouping` (an outer `sum by` the evaluator
  // pushes into the range aggregation) — the json / logfmt stages extract only the labels
  // the grouping, the unwrap and the pipeline's later stages read, and labels() of a sample
  // holds the stream labels, structured metadata and those parsed labels only. Grouped
  // results are the same as without hints. A sample that carries `__error__` has the labels
  // the hinted run gave it, the unwrapped label included (as in Loki, whose pipeline error
  // then names that series).
  static StatusOr<std::shared_ptr<const SampleExtractor>> Compile(const RangeAggregationExpr& expr);
  static StatusOr<std::shared_ptr<const SampleExtractor>> Compile(
      const RangeAggregationExpr& expr, const std::optional<Grouping>& outer_grouping);
  virtual std::unique_ptr<StreamSampleExtractor> ForStream(const Labels& stream) const = 0;
  // True when the selector has no line filters, no other stages and no unwrap: a sample's value
  // depends only on the entry's timestamp (and the line's length for bytes_*), and its labels are
  // the stream's labels plus the entry's structured metadata. For entries without metadata callers
  // may then skip lines entirely (count_over_time / rate) or read only their lengths (bytes_*)
  // instead of calling Process.
  virtual bool StreamLabelsOnly() const = 0;
};

}  // namespace skald::logql
