// Log pipeline and sample extraction: see pipeline.h.
#include "logql/pipeline.h"

#include <functional>
#include <optional>
#include <utility>

#include "logql/decolorize.h"
#include "logql/label_filter_exec.h"
#include "logql/labels_builder.h"
#include "logql/line_filter.h"
#include "logql/parsers.h"
#include "logql/pipeline_internal.h"
#include "logql/template.h"

namespace skald::logql {
namespace {

constexpr std::string_view kTemplateFormatErr = "TemplateFormatErr";
constexpr std::string_view kSampleExtractionErr = "SampleExtractionErr";

struct CompiledFormat {
  std::string name;
  bool rename = false;
  std::string src;               // rename: the source label
  std::optional<Template> tmpl;  // template form
};

struct CompiledNamed {
  std::string name;
  std::optional<Matcher> matcher;
};

// One stage, compiled once per query and shared read-only by every stream.
struct CompiledStage {
  PipelineStage::Kind kind = PipelineStage::Kind::kLineFilter;
  LineFilter line_filter;
  std::unique_ptr<LineParser> parser;  // prototype, cloned per stream
  std::optional<LabelFilterExec> label_filter;
  std::optional<Template> line_template;
  std::vector<CompiledFormat> formats;
  std::vector<CompiledNamed> named;
  // Lazy parsing (label hints): a parser stage followed by label filters runs `parser`
  // hinted with the names those filters read; the filters' last stage then has the index of
  // that parser stage here, and once an entry passes it, `full_parser` of that stage adds
  // every other label, before any stage that could see them.
  std::unique_ptr<LineParser> full_parser;  // prototype, for the completing parse
  int complete_parser = -1;
};

// Adds the label names `f` reads to *names.
void AddFilterRefs(const LabelFilter& f, std::vector<std::string>* names) {
  switch (f.kind) {
    case LabelFilter::Kind::kAnd:
    case LabelFilter::Kind::kOr:
      for (const LabelFilter& c : f.children) AddFilterRefs(c, names);
      return;
    case LabelFilter::Kind::kMatcher:
      if (f.matcher) names->push_back(f.matcher->name());
      return;
    default:
      names->push_back(f.name);
      return;
  }
}

// Adds the label names stage `st` reads to *names; false when it may read any label (a
// template that refers to labels: Skald's templates do not list what they read).
bool AddStageRefs(const PipelineStage& st, const CompiledStage& c,
                  std::vector<std::string>* names) {
  switch (st.kind) {
    case PipelineStage::Kind::kLabelFilter:
      if (st.label_filter) AddFilterRefs(*st.label_filter, names);
      return true;
    case PipelineStage::Kind::kLineFormat:
      return c.line_template->IsConstant();
    case PipelineStage::Kind::kLabelFormat:
      for (const CompiledFormat& f : c.formats) {
        if (f.rename) {
          names->push_back(f.src);
        } else if (!f.tmpl->IsConstant()) {
          return false;
        }
        // The destination is replaced, but an unhinted parse may have set it first:
        // conservatively wanted as well.
        names->push_back(f.name);
      }
      return true;
    case PipelineStage::Kind::kDrop:
    case PipelineStage::Kind::kKeep:
      for (const CompiledNamed& n : c.named) names->push_back(n.name);
      return true;
    default:
      // Line filters, decolorize and parsers read no label values (parsers only test
      // names they produce themselves, or stream / metadata names, which are always there).
      return true;
  }
}

// json / logfmt without parameters: the parsers label hints make cheaper.
bool Hintable(const PipelineStage& st) {
  return (st.kind == PipelineStage::Kind::kJson || st.kind == PipelineStage::Kind::kLogfmt) &&
         st.extractions.empty();
}

StatusOr<CompiledStage> CompileStage(const PipelineStage& st) {
  CompiledStage c;
  c.kind = st.kind;
  switch (st.kind) {
    case PipelineStage::Kind::kLineFilter: {
      auto f = LineFilter::Compile({st.line_filter});
      if (!f.ok()) return f.status();
      c.line_filter = std::move(f).value();
      break;
    }
    case PipelineStage::Kind::kJson:
    case PipelineStage::Kind::kLogfmt:
    case PipelineStage::Kind::kRegexp:
    case PipelineStage::Kind::kPattern:
    case PipelineStage::Kind::kUnpack: {
      auto p = NewLineParser(st);
      if (!p.ok()) return p.status();
      c.parser = std::move(p).value();
      break;
    }
    case PipelineStage::Kind::kLabelFilter: {
      if (!st.label_filter) break;
      auto f = LabelFilterExec::Compile(*st.label_filter);
      if (!f.ok()) return f.status();
      c.label_filter = std::move(f).value();
      break;
    }
    case PipelineStage::Kind::kLineFormat: {
      auto t = Template::Parse(st.param, "line");
      if (!t.ok()) return Status::InvalidArgument("invalid line template: " + t.status().message());
      c.line_template = std::move(t).value();
      break;
    }
    case PipelineStage::Kind::kLabelFormat: {
      for (const LabelFormat& f : st.label_formats) {
        for (const CompiledFormat& seen : c.formats) {
          if (seen.name == f.name) {
            return Status::InvalidArgument("multiple label name '" + f.name +
                                           "' not allowed in a single format operation");
          }
        }
        CompiledFormat cf;
        cf.name = f.name;
        cf.rename = f.rename;
        if (f.rename) {
          cf.src = f.value;
        } else {
          auto t = Template::Parse(f.value, "label");  // Loki's name for these templates
          if (!t.ok()) {
            return Status::InvalidArgument("invalid template for label '" + f.name +
                                           "': " + t.status().message());
          }
          cf.tmpl = std::move(t).value();
        }
        c.formats.push_back(std::move(cf));
      }
      break;
    }
    case PipelineStage::Kind::kDecolorize:
      break;
    case PipelineStage::Kind::kDrop:
    case PipelineStage::Kind::kKeep:
      for (const NamedMatcher& m : st.named) {
        CompiledNamed n;
        n.name = m.matcher ? m.matcher->name() : m.name;
        n.matcher = m.matcher;
        c.named.push_back(std::move(n));
      }
      break;
  }
  return c;
}

// What templates see of the entry being processed.
class EntryTemplateData final : public TemplateData {
 public:
  EntryTemplateData(const LabelsBuilder& labels, std::string_view line, int64_t ts)
      : labels_(labels), line_(line), ts_(ts) {}
  std::optional<std::string_view> Label(std::string_view name) const override {
    if (name == kErrorLabel) {
      if (labels_.HasError()) return labels_.error();
      return std::nullopt;
    }
    if (name == kErrorDetailsLabel) {
      if (!labels_.error_details().empty()) return labels_.error_details();
      return std::nullopt;
    }
    return labels_.Get(name);
  }
  std::string_view Line() const override { return line_; }
  int64_t TimestampNanos() const override { return ts_; }
  void ForEachLabel(
      const std::function<void(std::string_view name, std::string_view value)>& fn) const override {
    labels_.ForEach(fn);
    if (labels_.HasError()) fn(kErrorLabel, labels_.error());
    if (!labels_.error_details().empty()) fn(kErrorDetailsLabel, labels_.error_details());
  }

 private:
  const LabelsBuilder& labels_;
  std::string_view line_;
  int64_t ts_;
};

bool IsSpecialLabel(std::string_view name) {
  return name == kErrorLabel || name == kErrorDetailsLabel;
}

class PipelineImpl;

// Per-stream state: the label builder, cloned parsers and per-stage output buffers.
class StreamPipelineImpl final : public StreamPipeline {
 public:
  StreamPipelineImpl(const PipelineImpl& p, const Labels& stream);

  bool Process(int64_t ts, std::string_view line, std::span<const MetadataPair> metadata,
               std::string_view* out_line) override {
    if (!Run(ts, line, metadata, out_line)) return false;
    labels_out_ = &builder_.Finish();
    return true;
  }
  const EntryLabels& labels() const override { return *labels_out_; }

  // Runs every stage without building the result labels.
  bool Run(int64_t ts, std::string_view line, std::span<const MetadataPair> metadata,
           std::string_view* out_line);
  LabelsBuilder& builder() { return builder_; }

 private:
  bool RunStage(size_t i, int64_t ts, std::string_view* line);
  bool MayPass(std::string_view line, std::span<const MetadataPair> metadata) const;
  void Drop(const CompiledStage& st);
  void Keep(const CompiledStage& st);
  void FormatLabels(size_t i, const CompiledStage& st, int64_t ts, std::string_view line);

  const PipelineImpl& pipeline_;
  LabelsBuilder builder_;
  std::vector<std::unique_ptr<LineParser>> parsers_;       // per stage, null for non-parsers
  std::vector<std::unique_ptr<LineParser>> full_parsers_;  // per stage: completing parsers
  std::vector<std::string> line_bufs_;                     // per stage: line_format / decolorize
  std::vector<std::vector<std::string>> format_bufs_;      // per stage, per label_format
  std::vector<std::vector<char>> format_ok_;               // ditto: the template succeeded
  std::vector<std::string_view> names_;                    // scratch for keep
  const EntryLabels* labels_out_ = nullptr;
  bool prefilter_ = false;  // the pipeline's required value applies to this stream
};

class PipelineImpl final : public Pipeline {
 public:
  std::unique_ptr<StreamPipeline> ForStream(const Labels& stream) const override {
    return std::make_unique<StreamPipelineImpl>(*this, stream);
  }
  bool OnlyLineFilters() const override {
    for (const CompiledStage& s : stages_) {
      if (s.kind != PipelineStage::Kind::kLineFilter) return false;
    }
    return true;
  }

  LineFilter leading_;
  std::vector<CompiledStage> stages_;
  // A value the first parser must extract for the entry to survive the label filters right
  // after it (`| json | level="error"`): `required_name_="required_value_"` is a conjunct of
  // them. Set by PlanHints; empty = none. See StreamPipelineImpl::MayPass.
  std::string required_name_;
  std::string required_value_;
};

StreamPipelineImpl::StreamPipelineImpl(const PipelineImpl& p, const Labels& stream)
    : pipeline_(p), builder_(stream) {
  const size_t n = p.stages_.size();
  parsers_.resize(n);
  full_parsers_.resize(n);
  line_bufs_.resize(n);
  format_bufs_.resize(n);
  format_ok_.resize(n);
  for (size_t i = 0; i < n; i++) {
    const CompiledStage& st = p.stages_[i];
    if (st.parser) parsers_[i] = st.parser->Clone();
    if (st.full_parser) full_parsers_[i] = st.full_parser->Clone();
    format_bufs_[i].resize(st.formats.size());
    format_ok_[i].resize(st.formats.size());
  }
  // A stream label of that name is what the filter would test (the parsed one is renamed).
  prefilter_ = !p.required_value_.empty() && !stream.Has(p.required_name_);
}

// False only when the entry cannot survive: the required value is not in the line, the line
// has no escape and no non-ASCII byte (either could make a parsed value differ from the bytes
// it was read from), and no metadata key could supply the label instead.
bool StreamPipelineImpl::MayPass(std::string_view line,
                                 std::span<const MetadataPair> metadata) const {
  const std::string& value = pipeline_.required_value_;
  if (line.find(value) != std::string_view::npos) return true;
  const std::string_view name = pipeline_.required_name_;
  for (const MetadataPair& m : metadata) {
    // `<key>_extracted` is how a metadata key named like a stream label shows.
    if (name.substr(0, m.name.size()) == m.name &&
        (name.size() == m.name.size() || name.substr(m.name.size()) == "_extracted")) {
      return true;
    }
  }
  for (const char c : line) {
    if (c == '\\' || static_cast<unsigned char>(c) >= 0x80) return true;
  }
  return false;
}

bool StreamPipelineImpl::Run(int64_t ts, std::string_view line,
                             std::span<const MetadataPair> metadata, std::string_view* out_line) {
  builder_.Reset();
  if (!pipeline_.leading_.Matches(line)) return false;
  if (prefilter_ && !MayPass(line, metadata)) return false;
  builder_.AddMetadata(metadata);
  const std::vector<CompiledStage>& stages = pipeline_.stages_;
  for (size_t i = 0; i < stages.size(); i++) {
    if (!RunStage(i, ts, &line)) return false;
    if (const int k = stages[i].complete_parser; k >= 0) {
      // Only filters ran since parser k, so `line` is still its input; the error result is
      // the hinted parse's (the same: hints do not change what is checked).
      full_parsers_[static_cast<size_t>(k)]->Parse(line, &builder_);
    }
  }
  *out_line = line;
  return true;
}

bool StreamPipelineImpl::RunStage(size_t i, int64_t ts, std::string_view* line) {
  const CompiledStage& st = pipeline_.stages_[i];
  switch (st.kind) {
    case PipelineStage::Kind::kLineFilter:
      return st.line_filter.Matches(*line);
    case PipelineStage::Kind::kJson:
    case PipelineStage::Kind::kLogfmt:
    case PipelineStage::Kind::kRegexp:
    case PipelineStage::Kind::kPattern:
    case PipelineStage::Kind::kUnpack: {
      ParseError err = parsers_[i]->Parse(*line, &builder_);
      if (err) builder_.SetError(err.error, err.details);
      builder_.TakeLine(line);  // `unpack`'s _entry replaces the line
      return true;
    }
    case PipelineStage::Kind::kLabelFilter:
      return !st.label_filter || st.label_filter->Process(&builder_);
    case PipelineStage::Kind::kLineFormat: {
      std::string& buf = line_bufs_[i];
      buf.clear();
      Status s = st.line_template->Execute(EntryTemplateData(builder_, *line, ts), &buf);
      if (!s.ok()) {
        // The line stays as it was (Loki keeps the input line on a template error).
        builder_.SetError(kTemplateFormatErr, s.message());
        return true;
      }
      *line = buf;
      return true;
    }
    case PipelineStage::Kind::kLabelFormat:
      FormatLabels(i, st, ts, *line);
      return true;
    case PipelineStage::Kind::kDecolorize:
      if (MayHaveAnsi(*line)) {
        StripAnsi(*line, &line_bufs_[i]);
        *line = line_bufs_[i];
      }
      return true;
    case PipelineStage::Kind::kDrop:
      Drop(st);
      return true;
    case PipelineStage::Kind::kKeep:
      Keep(st);
      return true;
  }
  return true;
}

void StreamPipelineImpl::FormatLabels(size_t i, const CompiledStage& st, int64_t ts,
                                      std::string_view line) {
  // Loki renders every template of the stage against the labels as they were when the
  // first template ran, so template results are applied after the stage's templates ran;
  // renames apply in order.
  std::vector<std::string>& bufs = format_bufs_[i];
  std::vector<char>& ok = format_ok_[i];
  bool any_template = false;
  for (size_t f = 0; f < st.formats.size(); f++) {
    const CompiledFormat& cf = st.formats[f];
    if (cf.rename) {
      if (auto v = builder_.Get(cf.src)) {
        std::string_view value = *v;
        builder_.Set(cf.name, value, /*copy=*/false);
        builder_.Del(cf.src);
      }
      continue;
    }
    bufs[f].clear();
    Status s = cf.tmpl->Execute(EntryTemplateData(builder_, line, ts), &bufs[f]);
    ok[f] = s.ok() ? 1 : 0;
    if (!s.ok()) {
      builder_.SetError(kTemplateFormatErr, s.message());
      continue;
    }
    any_template = true;
  }
  if (!any_template) return;
  for (size_t f = 0; f < st.formats.size(); f++) {
    const CompiledFormat& cf = st.formats[f];
    if (cf.rename || ok[f] == 0) continue;
    builder_.Set(cf.name, bufs[f], /*copy=*/false);
  }
}

void StreamPipelineImpl::Drop(const CompiledStage& st) {
  for (const CompiledNamed& n : st.named) {
    if (n.name == kErrorLabel) {
      if (!n.matcher || n.matcher->Matches(builder_.error())) builder_.ClearError();
      continue;
    }
    if (n.name == kErrorDetailsLabel) {
      if (!n.matcher || n.matcher->Matches(builder_.error_details())) builder_.ClearErrorDetails();
      continue;
    }
    auto v = builder_.Get(n.name);
    if (!n.matcher) {
      if (v) builder_.Del(n.name);
      continue;
    }
    if (n.matcher->Matches(v.value_or(std::string_view()))) builder_.Del(n.name);
  }
}

void StreamPipelineImpl::Keep(const CompiledStage& st) {
  if (st.named.empty()) return;
  names_.clear();
  builder_.ForEach([&](std::string_view name, std::string_view value) {
    if (IsSpecialLabel(name)) return;
    for (const CompiledNamed& n : st.named) {
      if (n.name != name) continue;
      if (!n.matcher || n.matcher->Matches(value)) return;
    }
    names_.push_back(name);
  });
  for (std::string_view name : names_) builder_.Del(name);
}

// ---------------------------------------------------------------------------
// Sample extraction

class SampleExtractorImpl;

class StreamSampleExtractorImpl final : public StreamSampleExtractor {
 public:
  StreamSampleExtractorImpl(const SampleExtractorImpl& e, const Labels& stream);
  bool Process(int64_t ts, std::string_view line, std::span<const MetadataPair> metadata,
               double* value) override;
  const EntryLabels& labels() const override { return *labels_out_; }

 private:
  const SampleExtractorImpl& extractor_;
  StreamPipelineImpl pipeline_;
  const EntryLabels* labels_out_ = nullptr;
};

class SampleExtractorImpl final : public SampleExtractor {
 public:
  std::unique_ptr<StreamSampleExtractor> ForStream(const Labels& stream) const override {
    return std::make_unique<StreamSampleExtractorImpl>(*this, stream);
  }
  bool StreamLabelsOnly() const override { return stream_labels_only_; }

  std::shared_ptr<const PipelineImpl> pipeline_;
  RangeOp op_ = RangeOp::kCountOverTime;
  bool bytes_ = false;
  bool unwrap_ = false;
  std::string unwrap_label_;
  Unwrap::Conv conv_ = Unwrap::Conv::kNone;
  std::vector<LabelFilterExec> post_filters_;
  bool stream_labels_only_ = false;
};

StreamSampleExtractorImpl::StreamSampleExtractorImpl(const SampleExtractorImpl& e,
                                                     const Labels& stream)
    : extractor_(e), pipeline_(*e.pipeline_, stream) {}

bool StreamSampleExtractorImpl::Process(int64_t ts, std::string_view line,
                                        std::span<const MetadataPair> metadata, double* value) {
  std::string_view out_line;
  if (!pipeline_.Run(ts, line, metadata, &out_line)) return false;
  LabelsBuilder& b = pipeline_.builder();
  auto finish = [&] { labels_out_ = &b.Finish(); };
  if (!extractor_.unwrap_) {
    *value = extractor_.bytes_ ? static_cast<double>(out_line.size()) : 1.0;
    finish();
    return true;
  }
  auto v = b.Get(extractor_.unwrap_label_);
  if (!v || v->empty()) return false;  // not a failed conversion: there is nothing to convert
  std::string err;
  double x = 0;
  bool ok = false;
  switch (extractor_.conv_) {
    case Unwrap::Conv::kNone:
      ok = ConvertFloat(*v, &x, &err);
      break;
    case Unwrap::Conv::kDuration:
    case Unwrap::Conv::kDurationSeconds: {
      int64_t d = 0;
      ok = ConvertDuration(*v, &d, &err);
      if (ok) x = static_cast<double>(d) / 1e9;
      break;
    }
    case Unwrap::Conv::kBytes: {
      uint64_t n = 0;
      ok = ConvertBytes(*v, &n, &err);
      if (ok) x = static_cast<double>(n);
      break;
    }
  }
  if (!ok) {
    x = 0;
    b.SetError(kSampleExtractionErr, err);
  }
  for (const LabelFilterExec& f : extractor_.post_filters_) {
    if (!f.Process(&b)) return false;
  }
  // A sample with an error keeps the unwrapped label (Loki: an errored sample has every label
  // it has, hinted or not, and the unwrapped label is only dropped by the grouping).
  if (!b.HasError()) b.Del(extractor_.unwrap_label_);
  *value = x;
  finish();
  return true;
}

// Label hints. Going backwards from what the caller observes after the last stage (`wanted`;
// nullopt = every label), each json / logfmt stage gets the names later stages and the
// output can read. When that is every label, a parser that label filters follow still
// parses lazily: hinted with what those filters read, completed once they pass.
// The longest `name="value"` (non-empty value, not an error label) that every entry passing
// `f` must have: a conjunct of `f`.
void RequiredEquality(const LabelFilter& f, std::string* name, std::string* value) {
  if (f.kind == LabelFilter::Kind::kAnd) {
    for (const LabelFilter& c : f.children) RequiredEquality(c, name, value);
    return;
  }
  if (f.kind != LabelFilter::Kind::kMatcher || !f.matcher) return;
  const Matcher& m = *f.matcher;
  if (m.type() != MatchType::kEqual || m.value().empty() || m.name().rfind("__", 0) == 0) return;
  if (m.value().size() > value->size()) {
    *name = m.name();
    *value = m.value();
  }
}

// The pipeline's required value (PipelineImpl::required_value_): when its first stage after
// any line filters is `json` or `logfmt`, taken from the label filters that directly follow.
void PlanRequiredValue(const std::vector<PipelineStage>& stages, PipelineImpl* p) {
  size_t i = 0;
  while (i < stages.size() && stages[i].kind == PipelineStage::Kind::kLineFilter) i++;
  if (i == stages.size()) return;
  if (stages[i].kind != PipelineStage::Kind::kJson &&
      stages[i].kind != PipelineStage::Kind::kLogfmt) {
    return;
  }
  for (size_t k = i + 1; k < stages.size(); k++) {
    if (stages[k].kind == PipelineStage::Kind::kLineFilter) continue;
    if (stages[k].kind != PipelineStage::Kind::kLabelFilter) break;
    if (stages[k].label_filter) {
      RequiredEquality(*stages[k].label_filter, &p->required_name_, &p->required_value_);
    }
  }
}

Status PlanHints(const LogSelector& selector, std::optional<std::vector<std::string>> wanted,
                 PipelineImpl* p) {
  const std::vector<PipelineStage>& stages = selector.stages;
  PlanRequiredValue(stages, p);
  for (size_t i = stages.size(); i-- > 0;) {
    const PipelineStage& st = stages[i];
    CompiledStage& c = p->stages_[i];
    if (Hintable(st)) {
      if (wanted) {
        auto hinted = NewLineParser(st, std::make_shared<const LabelHints>(*wanted));
        if (!hinted.ok()) return hinted.status();
        c.parser = std::move(hinted).value();
      } else {
        std::vector<std::string> refs;
        size_t k = i + 1;
        bool any_label_filter = false;
        for (; k < stages.size(); k++) {
          const PipelineStage::Kind kind = stages[k].kind;
          if (kind == PipelineStage::Kind::kLineFilter) continue;
          if (kind != PipelineStage::Kind::kLabelFilter) break;
          any_label_filter = true;
          AddStageRefs(stages[k], p->stages_[k], &refs);
        }
        if (any_label_filter) {
          auto hinted = NewLineParser(st, std::make_shared<const LabelHints>(std::move(refs)));
          if (!hinted.ok()) return hinted.status();
          c.full_parser = std::move(c.parser);
          c.parser = std::move(hinted).value();
          p->stages_[k - 1].complete_parser = static_cast<int>(i);
        }
      }
    }
    if (wanted && !AddStageRefs(st, c, &*wanted)) wanted.reset();
  }
  return Status::OK();
}

// Loki reports a stage that does not build as `parse error : stage '<stage>' : <error>`.
Status StageError(const std::string& stage, const Status& s) {
  return Status::InvalidArgument("parse error : stage '" + stage + "' : " + s.message());
}

// `plan` = false: no hints at all (the test oracle).
StatusOr<std::shared_ptr<PipelineImpl>> CompilePipeline(
    const LogSelector& selector, std::optional<std::vector<std::string>> wanted, bool plan = true) {
  auto p = std::make_shared<PipelineImpl>();
  auto lead = CompileLeadingLineFilters(selector);
  if (!lead.ok()) return lead.status();
  p->leading_ = std::move(lead).value();
  for (const PipelineStage& st : selector.stages) {
    auto c = CompileStage(st);
    if (!c.ok()) return StageError(LokiStageString(st), c.status());
    p->stages_.push_back(std::move(c).value());
  }
  if (!plan) return p;
  Status s = PlanHints(selector, std::move(wanted), p.get());
  if (!s.ok()) return s;
  return p;
}

// Fills the extractor's fields that do not depend on hints.
Status SetUpExtractor(const RangeAggregationExpr& expr, SampleExtractorImpl* e) {
  e->op_ = expr.op;
  e->bytes_ = expr.op == RangeOp::kBytesOverTime || expr.op == RangeOp::kBytesRate;
  if (expr.unwrap) {
    e->unwrap_ = true;
    e->unwrap_label_ = expr.unwrap->label;
    e->conv_ = expr.unwrap->conv;
    for (const LabelFilter& f : expr.unwrap->post_filters) {
      auto c = LabelFilterExec::Compile(f);
      if (!c.ok()) return c.status();
      e->post_filters_.push_back(std::move(c).value());
    }
  }
  e->stream_labels_only_ =
      !e->unwrap_ && expr.selector->line_filters.empty() && expr.selector->stages.empty();
  return Status::OK();
}

}  // namespace

StatusOr<LineFilter> CompileLeadingLineFilters(const LogSelector& selector) {
  auto lead = LineFilter::Compile(selector.line_filters);
  if (lead.ok()) return lead;
  std::string chain;
  for (const LineFilterSpec& f : selector.line_filters) {
    if (!chain.empty()) chain += ' ';
    chain += LineFilterString(f);
  }
  return StageError(chain, lead.status());
}

StatusOr<std::shared_ptr<const Pipeline>> Pipeline::Compile(const LogSelector& selector) {
  // A log query shows every label of an entry.
  auto p = CompilePipeline(selector, std::nullopt);
  if (!p.ok()) return p.status();
  return std::shared_ptr<const Pipeline>(std::move(p).value());
}

StatusOr<std::shared_ptr<const SampleExtractor>> SampleExtractor::Compile(
    const RangeAggregationExpr& expr) {
  return Compile(expr, std::nullopt);
}

StatusOr<std::shared_ptr<const SampleExtractor>> SampleExtractor::Compile(
    const RangeAggregationExpr& expr, const std::optional<Grouping>& outer_grouping) {
  if (!expr.selector) return Status::InvalidArgument("range aggregation without a selector");
  // What a sample's labels are used for: with a `by` grouping only the grouped labels (and
  // __error__, which hints never change) reach the result.
  const std::optional<Grouping>& grouping = expr.grouping ? expr.grouping : outer_grouping;
  std::optional<std::vector<std::string>> wanted;
  if (grouping && !grouping->without) {
    wanted = grouping->labels;
    if (expr.unwrap) {
      wanted->push_back(expr.unwrap->label);
      for (const LabelFilter& f : expr.unwrap->post_filters) AddFilterRefs(f, &*wanted);
    }
  }
  auto p = CompilePipeline(*expr.selector, wanted);
  if (!p.ok()) return p.status();
  auto e = std::make_shared<SampleExtractorImpl>();
  e->pipeline_ = std::move(p).value();
  Status s = SetUpExtractor(expr, e.get());
  if (!s.ok()) return s;
  return std::shared_ptr<const SampleExtractor>(std::move(e));
}

namespace internal {

StatusOr<std::shared_ptr<const Pipeline>> CompilePipelineWithoutHints(const LogSelector& selector) {
  auto p = CompilePipeline(selector, std::nullopt, /*plan=*/false);
  if (!p.ok()) return p.status();
  return std::shared_ptr<const Pipeline>(std::move(p).value());
}

StatusOr<std::shared_ptr<const SampleExtractor>> CompileExtractorWithoutHints(
    const RangeAggregationExpr& expr) {
  if (!expr.selector) return Status::InvalidArgument("range aggregation without a selector");
  auto p = CompilePipeline(*expr.selector, std::nullopt, /*plan=*/false);
  if (!p.ok()) return p.status();
  auto e = std::make_shared<SampleExtractorImpl>();
  e->pipeline_ = std::move(p).value();
  Status s = SetUpExtractor(expr, e.get());
  if (!s.ok()) return s;
  return std::shared_ptr<const SampleExtractor>(std::move(e));
}

}  // namespace internal

}  // namespace skald::logql
