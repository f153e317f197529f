#include "core/labels.h"

#include <xxhash.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>

#include "core/go_string.h"

namespace skald {

Labels::Labels(std::vector<Label> pairs) : items_(std::move(pairs)) {
  auto by_name = [](const Label& a, const Label& b) { return a.name < b.name; };
  // Most callers pass sorted pairs (decoded from an index or a WAL); stable_sort would still
  // allocate a buffer.
  if (!std::is_sorted(items_.begin(), items_.end(), by_name)) {
    std::stable_sort(items_.begin(), items_.end(), by_name);
  }
}

std::string_view Labels::Get(std::string_view name) const {
  for (const auto& l : items_) {
    if (l.name == name) return l.value;
  }
  return {};
}

bool Labels::Has(std::string_view name) const {
  for (const auto& l : items_) {
    if (l.name == name) return true;
  }
  return false;
}

std::string_view Labels::FindDuplicateName() const {
  for (size_t i = 1; i < items_.size(); i++) {
    if (items_[i].name == items_[i - 1].name) return items_[i].name;
  }
  return {};
}

namespace {

// The canonical text of a label set whose pairs have .name and .value.
template <typename Pairs>
std::string CanonicalText(const Pairs& pairs) {
  std::string out;
  size_t n = 2;
  for (const auto& l : pairs) n += l.name.size() + l.value.size() + 5;
  out.reserve(n);
  out.push_back('{');
  bool first = true;
  for (const auto& l : pairs) {
    if (!first) out.append(", ");
    first = false;
    out.append(l.name);
    out.push_back('=');
    AppendGoQuoted(&out, l.value);
  }
  out.push_back('}');
  return out;
}

}  // namespace

std::string Labels::ToString() const { return CanonicalText(items_); }

PackedLabels::PackedLabels(const Labels& labels) {
  if (labels.empty()) return;
  size_t text = 0;
  for (const Label& l : labels) text += l.name.size() + l.value.size();
  const size_t count = labels.size();
  // Label sets are bounded by the push limits long before 4 GiB; a larger one is a bug.
  if (text > UINT32_MAX || count > UINT32_MAX / 2) std::abort();
  void* mem = ::operator new(sizeof(Rep) + 2 * count * sizeof(uint32_t) + text);
  rep_ = new (mem) Rep{{1}, static_cast<uint32_t>(count)};
  uint32_t* ends = rep_->ends();
  char* out = const_cast<char*>(rep_->text());
  uint32_t at = 0;
  for (size_t i = 0; i < count; ++i) {
    const Label& l = labels.items()[i];
    std::memcpy(out + at, l.name.data(), l.name.size());
    at += static_cast<uint32_t>(l.name.size());
    ends[2 * i] = at;
    std::memcpy(out + at, l.value.data(), l.value.size());
    at += static_cast<uint32_t>(l.value.size());
    ends[2 * i + 1] = at;
  }
}

void PackedLabels::Unref() {
  if (rep_ != nullptr && rep_->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    rep_->~Rep();
    ::operator delete(rep_);
  }
  rep_ = nullptr;
}

Labels PackedLabels::ToLabels() const {
  std::vector<Label> pairs;
  pairs.reserve(size());
  for (Pair p : *this) pairs.push_back(Label{std::string(p.name), std::string(p.value)});
  return Labels(std::move(pairs));
}

std::string PackedLabels::ToString() const { return CanonicalText(*this); }

size_t PackedLabels::allocated_bytes() const {
  if (rep_ == nullptr) return 0;
  return sizeof(Rep) + 2 * rep_->count * sizeof(uint32_t) + rep_->ends()[2 * rep_->count - 1];
}

bool PackedLabels::operator==(const PackedLabels& o) const {
  if (rep_ == o.rep_) return true;
  if (size() != o.size()) return false;
  if (empty()) return true;
  const size_t n = 2 * rep_->count;
  return std::memcmp(rep_->ends(), o.rep_->ends(), n * sizeof(uint32_t)) == 0 &&
         std::memcmp(rep_->text(), o.rep_->text(), rep_->ends()[n - 1]) == 0;
}

bool PackedLabels::operator==(const Labels& o) const {
  if (size() != o.size()) return false;
  for (size_t i = 0; i < o.size(); ++i) {
    Pair p = (*this)[i];
    if (p.name != o.items()[i].name || p.value != o.items()[i].value) return false;
  }
  return true;
}

uint64_t FingerprintOf(std::string_view canonical) {
  return XXH3_64bits(canonical.data(), canonical.size());
}

uint64_t Labels::Fingerprint() const { return FingerprintOf(ToString()); }

bool IsValidLabelName(std::string_view name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); i++) {
    char c = name[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
              (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

namespace {

bool IsNameStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool IsNameChar(char c) { return IsNameStart(c) || (c >= '0' && c <= '9') || c == ':'; }
bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// Parser for Prometheus metric notation; errors read like Prometheus's
// ("1:7: parse error: unexpected ...").
class LabelParser {
 public:
  explicit LabelParser(std::string_view text) : s_(text) {}

  StatusOr<Labels> Parse() {
    std::vector<Label> out;
    SkipSpace();
    if (pos_ < s_.size() && IsNameStart(s_[pos_])) {
      size_t start = pos_;
      while (pos_ < s_.size() && IsNameChar(s_[pos_])) pos_++;
      out.push_back({"__name__", std::string(s_.substr(start, pos_ - start))});
      SkipSpace();
      if (pos_ >= s_.size()) return Labels(std::move(out));
    }
    if (pos_ >= s_.size()) return Error("unexpected end of input, expected \"{\"");
    if (s_[pos_] != '{') return Error(Unexpected() + ", expected \"{\"");
    pos_++;
    while (true) {
      SkipSpace();
      if (pos_ >= s_.size()) return Error("unexpected end of input in label set");
      if (s_[pos_] == '}') {
        pos_++;
        break;
      }
      std::string name;
      if (s_[pos_] == '"') {
        // Quoted (UTF-8) names are not accepted by Loki's label rules.
        return Error("unexpected quoted label name in label set, expected identifier");
      }
      if (!IsNameStart(s_[pos_]))
        return Error(Unexpected() + " in label set, expected identifier or \"}\"");
      size_t start = pos_;
      while (pos_ < s_.size() && (IsNameStart(s_[pos_]) || (s_[pos_] >= '0' && s_[pos_] <= '9'))) {
        pos_++;
      }
      name = std::string(s_.substr(start, pos_ - start));
      SkipSpace();
      if (pos_ >= s_.size() || s_[pos_] != '=') {
        return Error(Unexpected() + " in label set, expected \"=\"");
      }
      pos_++;
      SkipSpace();
      if (pos_ >= s_.size() || s_[pos_] != '"') {
        return Error(Unexpected() + " in label set, expected label value");
      }
      std::string value;
      size_t consumed = 0;
      Status st = ParseGoStringLiteral(s_.substr(pos_), &value, &consumed);
      if (!st.ok()) return Error("invalid label value: " + st.message());
      pos_ += consumed;
      if (!value.empty()) out.push_back({std::move(name), std::move(value)});
      SkipSpace();
      if (pos_ >= s_.size()) return Error("unexpected end of input in label set");
      if (s_[pos_] == ',') {
        pos_++;
        continue;
      }
      if (s_[pos_] == '}') {
        pos_++;
        break;
      }
      return Error(Unexpected() + " in label set, expected \",\" or \"}\"");
    }
    SkipSpace();
    if (pos_ != s_.size()) return Error(Unexpected() + " after label set");
    return Labels(std::move(out));
  }

 private:
  void SkipSpace() {
    while (pos_ < s_.size() && IsSpace(s_[pos_])) pos_++;
  }
  std::string Unexpected() const {
    if (pos_ >= s_.size()) return "unexpected end of input";
    return "unexpected " + GoQuote(s_.substr(pos_, 1));
  }
  Status Error(const std::string& msg) const {
    return Status::InvalidArgument("1:" + std::to_string(pos_ + 1) + ": parse error: " + msg);
  }

  std::string_view s_;
  size_t pos_ = 0;
};

}  // namespace

StatusOr<Labels> ParseLabels(std::string_view text) { return LabelParser(text).Parse(); }

const std::vector<std::string>& DefaultServiceNameSources() {
  static const std::vector<std::string> kSources = {"service",
                                                    "app",
                                                    "application",
                                                    "app_name",
                                                    "name",
                                                    "app_kubernetes_io_name",
                                                    "container",
                                                    "container_name",
                                                    "k8s_container_name",
                                                    "component",
                                                    "workload",
                                                    "job",
                                                    "k8s_job_name"};
  return kSources;
}

}  // namespace skald
