#include "core/labels.h"

#include <xxhash.h>

#include <algorithm>

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

std::string Labels::ToString() const {
  std::string out;
  size_t n = 2;
  for (const auto& l : items_) n += l.name.size() + l.value.size() + 5;
  out.reserve(n);
  out.push_back('{');
  for (size_t i = 0; i < items_.size(); i++) {
    if (i > 0) out.append(", ");
    out.append(items_[i].name);
    out.push_back('=');
    AppendGoQuoted(&out, items_[i].value);
  }
  out.push_back('}');
  return out;
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
