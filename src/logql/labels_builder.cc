// Per-entry label state of a pipeline: see labels_builder.h.
#include "logql/labels_builder.h"

// Inlined: hashing short names and values is on the per-entry path.
#define XXH_INLINE_ALL
#include <xxhash.h>

#include <algorithm>

#include "logql/parser_internal.h"

namespace skald::logql {
namespace {

constexpr std::string_view kExtractedSuffix = "_extracted";

// a.name < b.name. Inline bytewise: names are short and mostly differ early, where a
// memcmp call costs more than the comparison.
inline bool ByName(const LabelRef& a, const LabelRef& b) {
  const std::string_view x = a.name, y = b.name;
  const size_t n = x.size() < y.size() ? x.size() : y.size();
  for (size_t i = 0; i < n; i++) {
    const unsigned char c = static_cast<unsigned char>(x[i]);
    const unsigned char d = static_cast<unsigned char>(y[i]);
    if (c != d) return c < d;
  }
  return x.size() < y.size();
}

using internal::NameEq;

const LabelRef* FindRef(const std::vector<LabelRef>& v, std::string_view name) {
  for (const LabelRef& l : v) {
    if (NameEq(l.name, name)) return &l;
  }
  return nullptr;
}

LabelRef* FindRef(std::vector<LabelRef>& v, std::string_view name) {
  for (LabelRef& l : v) {
    if (NameEq(l.name, name)) return &l;
  }
  return nullptr;
}

bool IsSuffixed(std::string_view candidate, std::string_view name) {
  return candidate.size() == name.size() + kExtractedSuffix.size() && candidate.starts_with(name) &&
         candidate.ends_with(kExtractedSuffix);
}

}  // namespace

uint64_t HashLabelRefs(std::span<const LabelRef> labels) {
  // Names and values are hashed with distinct separators so that ("a","bc") and
  // ("ab","c") differ.
  uint64_t h = 0x9e3779b97f4a7c15ULL;
  for (const LabelRef& l : labels) {
    h = XXH3_64bits_withSeed(l.name.data(), l.name.size(), h ^ 0xff);
    h = XXH3_64bits_withSeed(l.value.data(), l.value.size(), h ^ 0xfe);
  }
  return h;
}

LabelsBuilder::LabelsBuilder(const Labels& stream) : stream_(stream) {
  base_.reserve(stream_.size());
  for (const Label& l : stream_) base_.push_back(LabelRef{l.name, l.value});
  // Labels are sorted by construction; keep one value per name all the same.
  base_.erase(std::unique(base_.begin(), base_.end(),
                          [](const LabelRef& a, const LabelRef& b) { return a.name == b.name; }),
              base_.end());
  base_del_.assign(base_.size(), 0);
  for (const LabelRef& l : base_) base_sig_ |= Sig(l.name);
  stream_only_.all = base_;
  stream_only_.stream = base_;
  stream_only_.hash = HashLabelRefs(base_);
}

void LabelsBuilder::Reset() {
  if (dirty_) std::fill(base_del_.begin(), base_del_.end(), 0);
  md_.clear();
  parsed_.clear();
  md_sig_ = 0;
  parsed_sig_ = 0;
  error_ = {};
  error_details_ = {};
  has_pending_line_ = false;
  arena_used_ = 0;
  dirty_ = false;
}

std::string_view LabelsBuilder::Own(std::string_view s) { return OwnConcat(s, {}); }

std::string_view LabelsBuilder::OwnConcat(std::string_view a, std::string_view b) {
  // A deque never moves its elements, so views into earlier slots stay valid while it
  // grows; slots are reused (capacity kept) after Reset.
  if (arena_used_ == arena_.size()) arena_.emplace_back();
  std::string& slot = arena_[arena_used_++];
  slot.assign(a);
  slot.append(b);
  return slot;
}

const LabelRef* LabelsBuilder::Find(const std::vector<LabelRef>& v, std::string_view name) {
  return FindRef(v, name);
}

int LabelsBuilder::BaseIndexSlow(std::string_view name) const {
  for (size_t i = 0; i < base_.size(); i++) {
    if (NameEq(base_[i].name, name)) return static_cast<int>(i);
  }
  return -1;
}

void LabelsBuilder::AddMetadata(std::span<const MetadataPair> metadata) {
  for (const MetadataPair& p : metadata) {
    dirty_ = true;
    std::string_view name = p.name;
    if (BaseHas(name)) name = OwnConcat(name, kExtractedSuffix);
    if (MetadataHas(name)) {
      FindRef(md_, name)->value = p.value;  // Loki sets metadata pair by pair: last wins
      continue;
    }
    md_sig_ |= Sig(name);
    md_.push_back(LabelRef{name, p.value});
  }
}

void LabelsBuilder::Add(std::string_view name, std::string_view value) {
  if (NeedsSuffix(name)) {
    for (const LabelRef& l : parsed_) {
      if (IsSuffixed(l.name, name)) return;  // first value wins
    }
    dirty_ = true;
    std::string_view full = OwnConcat(name, kExtractedSuffix);
    parsed_sig_ |= Sig(full);
    parsed_.push_back(LabelRef{full, value});
    return;
  }
  if (ParsedHas(name)) return;
  dirty_ = true;
  parsed_sig_ |= Sig(name);
  parsed_.push_back(LabelRef{name, value});
}

void LabelsBuilder::Put(std::string_view name, std::string_view value) {
  dirty_ = true;
  if (NeedsSuffix(name)) {
    for (LabelRef& l : parsed_) {
      if (IsSuffixed(l.name, name)) {
        l.value = value;
        return;
      }
    }
    name = OwnConcat(name, kExtractedSuffix);
  } else if (ParsedHas(name)) {
    FindRef(parsed_, name)->value = value;
    return;
  }
  parsed_sig_ |= Sig(name);
  parsed_.push_back(LabelRef{name, value});
}

bool LabelsBuilder::AlreadyParsed(std::string_view name) const {
  if (NeedsSuffix(name)) {
    for (const LabelRef& l : parsed_) {
      if (IsSuffixed(l.name, name)) return true;
    }
    return false;
  }
  return ParsedHas(name);
}

void LabelsBuilder::SetLine(std::string_view line) {
  pending_line_ = line;
  has_pending_line_ = true;
}

bool LabelsBuilder::TakeLine(std::string_view* line) {
  if (!has_pending_line_) return false;
  *line = pending_line_;
  has_pending_line_ = false;
  return true;
}

std::optional<std::string_view> LabelsBuilder::Get(std::string_view name) const {
  const uint64_t sig = Sig(name);
  if ((parsed_sig_ & sig) != 0) {
    if (const LabelRef* l = FindRef(parsed_, name)) return l->value;
  }
  if ((md_sig_ & sig) != 0) {
    if (const LabelRef* l = FindRef(md_, name)) return l->value;
  }
  int i = BaseIndex(name);
  if (i >= 0 && base_del_[static_cast<size_t>(i)] == 0) return base_[static_cast<size_t>(i)].value;
  return std::nullopt;
}

void LabelsBuilder::Set(std::string_view name, std::string_view value, bool copy) {
  dirty_ = true;
  if (copy) value = Own(value);
  if (ParsedHas(name)) {
    FindRef(parsed_, name)->value = value;
    return;
  }
  parsed_sig_ |= Sig(name);
  parsed_.push_back(LabelRef{name, value});
}

void LabelsBuilder::Del(std::string_view name) {
  dirty_ = true;
  int i = BaseIndex(name);
  if (i >= 0) base_del_[static_cast<size_t>(i)] = 1;
  auto drop = [&](std::vector<LabelRef>& v) {
    v.erase(std::remove_if(v.begin(), v.end(), [&](const LabelRef& l) { return l.name == name; }),
            v.end());
  };
  drop(md_);
  drop(parsed_);
}

void LabelsBuilder::SetError(std::string_view error, std::string_view details) {
  dirty_ = true;
  error_ = error;
  error_details_buf_.assign(details);
  error_details_ = error_details_buf_;
}

const EntryLabels& LabelsBuilder::Finish() {
  if (!dirty_) return stream_only_;
  out_stream_.clear();
  out_md_.clear();
  out_parsed_.clear();
  out_all_.clear();
  for (size_t i = 0; i < base_.size(); i++) {
    // Metadata and parsed labels of the same name shadow the stream label (Loki's order),
    // and so does an error the pipeline set (a stream or metadata label may be called
    // `__error__` too: found by logql_pipeline_fuzz, it came out twice).
    if (base_del_[i] != 0 || MetadataHas(base_[i].name) || ParsedHas(base_[i].name) ||
        ShadowedByError(base_[i].name)) {
      continue;
    }
    out_stream_.push_back(base_[i]);
  }
  for (const LabelRef& l : md_) {
    if (!ParsedHas(l.name) && !ShadowedByError(l.name)) out_md_.push_back(l);
  }
  for (const LabelRef& l : parsed_) {
    if (!ShadowedByError(l.name)) out_parsed_.push_back(l);
  }
  if (!error_.empty()) out_parsed_.push_back(LabelRef{kErrorLabel, error_});
  if (!error_details_.empty()) out_parsed_.push_back(LabelRef{kErrorDetailsLabel, error_details_});
  std::sort(out_md_.begin(), out_md_.end(), ByName);
  std::sort(out_parsed_.begin(), out_parsed_.end(), ByName);
  // The three lists are sorted and disjoint: merging them is cheaper than sorting the union.
  if (out_md_.empty()) {
    out_all_.resize(out_stream_.size() + out_parsed_.size());
    std::merge(out_stream_.begin(), out_stream_.end(), out_parsed_.begin(), out_parsed_.end(),
               out_all_.begin(), ByName);
  } else {
    merge_tmp_.resize(out_stream_.size() + out_md_.size());
    std::merge(out_stream_.begin(), out_stream_.end(), out_md_.begin(), out_md_.end(),
               merge_tmp_.begin(), ByName);
    out_all_.resize(merge_tmp_.size() + out_parsed_.size());
    std::merge(merge_tmp_.begin(), merge_tmp_.end(), out_parsed_.begin(), out_parsed_.end(),
               out_all_.begin(), ByName);
  }
  result_.stream = out_stream_;
  result_.structured_metadata = out_md_;
  result_.parsed = out_parsed_;
  result_.all = out_all_;
  result_.hash = HashLabelRefs(out_all_);
  return result_;
}

Labels ToLabels(std::span<const LabelRef> labels) {
  std::vector<Label> pairs;
  pairs.reserve(labels.size());
  for (const LabelRef& l : labels)
    pairs.push_back(Label{std::string(l.name), std::string(l.value)});
  return Labels(std::move(pairs));
}

}  // namespace skald::logql
