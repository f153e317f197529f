// The per-stream label state of a running pipeline (Loki's LabelsBuilder idea).
//
// A LabelsBuilder is seeded once with a stream's labels; per entry, Reset() clears what the
// previous entry added, AddMetadata() adds the entry's structured metadata, and the stages
// then add parsed labels (through the ParsedSink interface parsers call), set and delete
// labels (label_format, drop, keep), and set `__error__` / `__error_details__`. Finish()
// produces the entry's EntryLabels: stream labels, structured metadata and parsed labels
// as three disjoint sorted spans plus their sorted union and its hash.
//
// Naming policy (Loki's): a structured-metadata key equal to a stream label's name becomes
// `<key>_extracted` (duplicate metadata keys: the last value wins); a parsed name equal to a
// stream label or a metadata key becomes `<name>_extracted`, and a parsed name already
// present among the parsed labels keeps its first value (so a later parser stage never
// overwrites an earlier one). A label set by label_format counts as parsed and shadows a
// stream or metadata label of the same name. Errors go under parsed.
//
// Values are views: into the stream's labels (copied at construction), the caller's
// metadata and line, the parsers' scratch space, or the builder's own arena; they stay
// valid until the next Reset(). Nothing is allocated per entry once the buffers have grown.
// Not thread-safe: one builder per StreamPipeline.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/entry.h"
#include "core/labels.h"
#include "logql/parsers.h"
#include "logql/pipeline.h"

namespace skald::logql {

inline constexpr std::string_view kErrorLabel = "__error__";
inline constexpr std::string_view kErrorDetailsLabel = "__error_details__";

class LabelsBuilder final : public ParsedSink {
 public:
  explicit LabelsBuilder(const Labels& stream);
  LabelsBuilder(const LabelsBuilder&) = delete;
  LabelsBuilder& operator=(const LabelsBuilder&) = delete;

  // Starts a new entry: only the stream labels remain.
  void Reset();
  // Adds the entry's structured metadata (call once, right after Reset).
  void AddMetadata(std::span<const MetadataPair> metadata);

  // ParsedSink: what parsers extract (naming policy above).
  void Add(std::string_view name, std::string_view value) override;
  bool AlreadyParsed(std::string_view name) const override;
  void SetLine(std::string_view line) override;
  void Put(std::string_view name, std::string_view value) override;
  bool IsStreamOrMetadata(std::string_view name) const override { return NeedsSuffix(name); }
  // The line an `unpack` stage asked for since the last call, if any.
  bool TakeLine(std::string_view* line);

  // The current value of a label (parsed, else metadata, else stream); nullopt when absent.
  // `__error__` / `__error_details__` are not labels here: see error().
  std::optional<std::string_view> Get(std::string_view name) const;
  // Sets a parsed label (label_format), replacing any parsed value of that name. With
  // copy, the value is copied into the builder's arena first.
  void Set(std::string_view name, std::string_view value, bool copy);
  // Removes a label of any kind (drop, keep, label_format renames).
  void Del(std::string_view name);
  // Calls fn(name, value) for every current label (effective value per name), errors
  // excluded — and so are labels named like an error that is set, which it shadows. fn
  // may not change the builder; use the collected names afterwards.
  template <typename Fn>
  void ForEach(Fn&& fn) const;

  // `__error__` and `__error_details__`. SetError overwrites both (details may be empty,
  // which removes them); the detail text is copied.
  void SetError(std::string_view error, std::string_view details);
  bool HasError() const { return !error_.empty(); }
  std::string_view error() const { return error_; }
  std::string_view error_details() const { return error_details_; }
  void ClearError() { error_ = {}; }
  void ClearErrorDetails() { error_details_ = {}; }

  // The entry's labels as they stand; valid until the next Reset / mutation.
  const EntryLabels& Finish();

 private:
  std::string_view Own(std::string_view s);
  std::string_view OwnConcat(std::string_view a, std::string_view b);
  // Lookups check the name signatures inline and compare bytes out of line.
  int BaseIndex(std::string_view name) const {
    return (base_sig_ & Sig(name)) == 0 ? -1 : BaseIndexSlow(name);
  }
  bool BaseHas(std::string_view name) const { return BaseIndex(name) >= 0; }
  bool MetadataHas(std::string_view name) const {
    return (md_sig_ & Sig(name)) != 0 && Find(md_, name) != nullptr;
  }
  bool ParsedHas(std::string_view name) const {
    return (parsed_sig_ & Sig(name)) != 0 && Find(parsed_, name) != nullptr;
  }
  int BaseIndexSlow(std::string_view name) const;
  static const LabelRef* Find(const std::vector<LabelRef>& v, std::string_view name);
  // The name a parser's `name` is stored under: itself or `<name>_extracted`.
  bool NeedsSuffix(std::string_view name) const { return BaseHas(name) || MetadataHas(name); }
  // A set `__error__` / `__error_details__` replaces any label of that name.
  bool ShadowedByError(std::string_view name) const {
    return (name == kErrorLabel && !error_.empty()) ||
           (name == kErrorDetailsLabel && !error_details_.empty());
  }

  // A 64-bit signature of a set of names (one bit per name, from its length and last
  // byte): most lookups of an absent name stop here, without comparing bytes.
  static uint64_t Sig(std::string_view name) {
    const unsigned last = name.empty() ? 0u : static_cast<unsigned char>(name.back());
    return uint64_t{1} << ((name.size() * 7 + last) & 63);
  }

  Labels stream_;  // owns the stream's bytes
  uint64_t base_sig_ = 0;
  uint64_t md_sig_ = 0;           // this entry's metadata names (deletions leave bits set)
  uint64_t parsed_sig_ = 0;       // this entry's parsed names (likewise)
  std::vector<LabelRef> base_;    // sorted views into stream_
  std::vector<char> base_del_;    // per base label: deleted for this entry
  std::vector<LabelRef> md_;      // structured metadata, insertion order, unique names
  std::vector<LabelRef> parsed_;  // parsed labels, insertion order, unique names
  std::string_view error_;
  std::string_view error_details_;
  std::string error_details_buf_;
  std::string_view pending_line_;
  bool has_pending_line_ = false;
  bool dirty_ = false;  // anything beyond the stream labels this entry

  std::deque<std::string> arena_;
  size_t arena_used_ = 0;

  // Finish() output buffers.
  std::vector<LabelRef> out_stream_, out_md_, out_parsed_, out_all_, merge_tmp_;
  EntryLabels result_;
  EntryLabels stream_only_;  // the precomputed result when nothing was added
};

// Hash of a sorted label list (EntryLabels::hash).
uint64_t HashLabelRefs(std::span<const LabelRef> labels);

template <typename Fn>
void LabelsBuilder::ForEach(Fn&& fn) const {
  for (const LabelRef& l : parsed_) {
    if (!ShadowedByError(l.name)) fn(l.name, l.value);
  }
  for (const LabelRef& l : md_) {
    if (!ParsedHas(l.name) && !ShadowedByError(l.name)) fn(l.name, l.value);
  }
  for (size_t i = 0; i < base_.size(); i++) {
    if (base_del_[i] != 0 || ParsedHas(base_[i].name) || MetadataHas(base_[i].name) ||
        ShadowedByError(base_[i].name)) {
      continue;
    }
    fn(base_[i].name, base_[i].value);
  }
}

}  // namespace skald::logql
