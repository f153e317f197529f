// Line parsers: the factory, label-name sanitizing, and the `regexp` and `pattern` parsers
// (json/unpack in json_parser.cc, logfmt in logfmt_parser.cc).
#include "logql/parsers.h"

#include <re2/re2.h>

#include <algorithm>
#include <set>

#include "core/utf8.h"
#include "logql/parser_internal.h"
#include "logql/pattern.h"
#include "logql/regex_util.h"

namespace skald::logql {
namespace internal {
namespace {

struct NameBytes {
  bool ok[256] = {};
  constexpr NameBytes() {
    for (int c = 0; c < 256; c++)
      ok[c] =
          (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  }
};
constexpr NameBytes kNameBytes;

inline bool IsNameByte(unsigned char c) { return kNameBytes.ok[c]; }

// strings.TrimSpace.
std::string_view TrimSpace(std::string_view s) {
  while (!s.empty()) {
    char32_t r;
    size_t n = DecodeUtf8Rune(s, &r);
    if (n == 0 || !IsUnicodeSpace(r)) break;
    s.remove_prefix(n);
  }
  while (!s.empty()) {
    // Walk back to the start of the last rune (at most 4 bytes).
    size_t k = 1;
    while (k < 4 && k < s.size() && (static_cast<unsigned char>(s[s.size() - k]) & 0xC0) == 0x80)
      k++;
    char32_t r;
    size_t n = DecodeUtf8Rune(s.substr(s.size() - k), &r);
    if (n != k || !IsUnicodeSpace(r)) break;
    s.remove_suffix(k);
  }
  return s;
}

// Writes the sanitized form of an already trimmed, non-empty key to out (room for
// key.size() + 1 bytes); returns the length.
size_t SanitizeTo(std::string_view key, bool is_prefix, char* out) {
  size_t w = 0;
  if (is_prefix && key[0] >= '0' && key[0] <= '9') out[w++] = '_';
  for (size_t i = 0; i < key.size();) {
    unsigned char c = static_cast<unsigned char>(key[i]);
    if (c < 0x80) {
      out[w++] = IsNameByte(c) ? static_cast<char>(c) : '_';
      i++;
      continue;
    }
    // One `_` per rune; an invalid byte is a rune of its own (Go's strings.Map).
    char32_t r;
    size_t n = DecodeUtf8Rune(key.substr(i), &r);
    out[w++] = '_';
    i += n == 0 ? 1 : n;
  }
  return w;
}

// ---- regexp ----

class RegexpParser final : public LineParser {
 public:
  RegexpParser(std::shared_ptr<const RE2> re, std::vector<std::pair<int, std::string>> names)
      : re_(std::move(re)), names_(std::move(names)), groups_(re_->NumberOfCapturingGroups() + 1) {}

  ParseError Parse(std::string_view line, ParsedSink* sink) override {
    if (!re_->Match(re2::StringPiece(line.data(), line.size()), 0, line.size(), RE2::UNANCHORED,
                    groups_.data(), static_cast<int>(groups_.size())))
      return {};
    for (const auto& [index, name] : names_) {
      if (sink->AlreadyParsed(name)) continue;
      const re2::StringPiece& g = groups_[index];
      // An optional group that did not take part gives "" (as Go's nil submatch).
      sink->Add(name,
                g.data() == nullptr ? std::string_view() : std::string_view(g.data(), g.size()));
    }
    return {};
  }
  std::unique_ptr<LineParser> Clone() const override {
    return std::make_unique<RegexpParser>(re_, names_);
  }

 private:
  std::shared_ptr<const RE2> re_;  // RE2 is thread-safe for matching; shared by clones
  std::vector<std::pair<int, std::string>> names_;
  std::vector<re2::StringPiece> groups_;
};

bool IsLegacyLabelName(std::string_view n) {
  if (n.empty()) return false;
  for (size_t i = 0; i < n.size(); i++) {
    unsigned char c = static_cast<unsigned char>(n[i]);
    if (!IsNameByte(c) || (i == 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

StatusOr<std::unique_ptr<LineParser>> NewRegexpParser(const std::string& expr) {
  if (auto err = GoRegexpError(expr)) return Status::InvalidArgument(*err);
  RE2::Options opts;
  opts.set_log_errors(false);
  auto re = std::make_shared<const RE2>(re2::StringPiece(expr.data(), expr.size()), opts);
  if (!re->ok()) return Status::InvalidArgument("error parsing regexp: " + re->error());
  const char* kMissing = "at least one named capture must be supplied";
  if (re->NumberOfCapturingGroups() == 0) return Status::InvalidArgument(kMissing);
  std::vector<std::pair<int, std::string>> names;
  std::set<std::string> seen;
  for (const auto& [index, name] : re->CapturingGroupNames()) {
    if (name.empty()) continue;
    if (!IsLegacyLabelName(name))
      return Status::InvalidArgument("invalid extracted label name '" + name + "'");
    if (!seen.insert(name).second)
      return Status::InvalidArgument("duplicate extracted label name '" + name + "'");
    names.emplace_back(index, name);
  }
  if (names.empty()) return Status::InvalidArgument(kMissing);
  return std::unique_ptr<LineParser>(new RegexpParser(std::move(re), std::move(names)));
}

// ---- pattern ----

class PatternParser final : public LineParser {
 public:
  explicit PatternParser(std::vector<PatternNode> nodes) : nodes_(std::move(nodes)) {
    for (const PatternNode& n : nodes_) {
      if (n.capture && !n.Unnamed()) names_.push_back(n.text);
    }
  }

  // Loki's pattern matching: a leading literal must start the line; then each capture takes
  // the text up to the first occurrence of the following literal (possibly empty); a capture
  // whose literal is missing, or a final capture, takes the rest of the line and ends the
  // match. Bytes after a final literal are ignored. A pattern that fails to match part way
  // still yields the captures made so far.
  ParseError Parse(std::string_view line, ParsedSink* sink) override {
    if (line.empty() || nodes_.empty()) return {};
    size_t k = 0;
    std::string_view in = line;
    if (!nodes_[0].capture) {
      if (in.substr(0, nodes_[0].text.size()) != nodes_[0].text) return {};
      in.remove_prefix(nodes_[0].text.size());
      k = 1;
    }
    while (k < nodes_.size()) {
      const PatternNode& cap = nodes_[k];
      if (k + 1 == nodes_.size()) {
        Capture(cap, in, sink);
        return {};
      }
      const std::string& lit = nodes_[k + 1].text;
      size_t at = in.find(lit);
      if (at == std::string_view::npos) {
        Capture(cap, in, sink);
        return {};
      }
      Capture(cap, in.substr(0, at), sink);
      in.remove_prefix(at + lit.size());
      k += 2;
    }
    return {};
  }
  std::unique_ptr<LineParser> Clone() const override {
    return std::make_unique<PatternParser>(nodes_);
  }

 private:
  static void Capture(const PatternNode& n, std::string_view v, ParsedSink* sink) {
    if (n.Unnamed() || sink->AlreadyParsed(n.text)) return;
    sink->Add(n.text, v);
  }

  std::vector<PatternNode> nodes_;
  std::vector<std::string> names_;
};

StatusOr<std::unique_ptr<LineParser>> NewPatternParser(const std::string& expr) {
  if (auto err = ValidatePatternParser(expr)) return Status::InvalidArgument(*err);
  std::vector<PatternNode> nodes;
  std::string err;
  if (!ParsePatternNodes(expr, &nodes, &err)) return Status::InvalidArgument(err);
  return std::unique_ptr<LineParser>(new PatternParser(std::move(nodes)));
}

}  // namespace

std::string_view SanitizeKey(std::string_view key, bool is_prefix, ScratchArena* arena) {
  if (key.empty()) return key;
  bool clean = !(is_prefix && key[0] >= '0' && key[0] <= '9');
  for (size_t i = 0; clean && i < key.size(); i++)
    clean = IsNameByte(static_cast<unsigned char>(key[i]));
  if (clean) return key;
  key = TrimSpace(key);
  if (key.empty()) return key;
  char* out = arena->Reserve(key.size() + 1);
  return arena->Commit(out, SanitizeTo(key, is_prefix, out));
}

}  // namespace internal

LabelHints::LabelHints(std::vector<std::string> names) {
  constexpr std::string_view kSuffix = "_extracted";
  const size_t n = names.size();
  for (size_t i = 0; i < n; i++) {
    const std::string& name = names[i];
    if (name.size() > kSuffix.size() && name.ends_with(kSuffix))
      names.push_back(name.substr(0, name.size() - kSuffix.size()));
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  names_ = std::move(names);
  for (const std::string& name : names_) length_mask_ |= uint64_t{1} << (name.size() & 63);
}

int LabelHints::IndexOf(std::string_view name) const {
  if ((length_mask_ & (uint64_t{1} << (name.size() & 63))) == 0) return -1;
  for (size_t i = 0; i < names_.size(); i++) {
    if (internal::NameEq(names_[i], name)) return static_cast<int>(i);
  }
  return -1;
}

bool LabelHints::WantsNested(std::string_view prefix) const {
  for (const std::string& name : names_) {
    if (name.size() > prefix.size() && name[prefix.size()] == '_' && name.starts_with(prefix))
      return true;
  }
  return false;
}

void SanitizeLabelName(std::string_view key, std::string* out) {
  key = internal::TrimSpace(key);
  if (key.empty()) return;
  size_t old = out->size();
  out->resize(old + key.size() + 1);
  out->resize(old + internal::SanitizeTo(key, true, out->data() + old));
}

StatusOr<std::unique_ptr<LineParser>> NewLineParser(const PipelineStage& stage,
                                                    std::shared_ptr<const LabelHints> hints) {
  switch (stage.kind) {
    case PipelineStage::Kind::kJson:
      return internal::NewJsonParser(stage, std::move(hints));
    case PipelineStage::Kind::kLogfmt:
      return internal::NewLogfmtParser(stage, std::move(hints));
    case PipelineStage::Kind::kUnpack:
      return internal::NewUnpackParser();
    case PipelineStage::Kind::kRegexp:
      return internal::NewRegexpParser(stage.param);
    case PipelineStage::Kind::kPattern:
      return internal::NewPatternParser(stage.param);
    default:
      return Status::InvalidArgument("not a parser stage");
  }
}

}  // namespace skald::logql
