// Loki pattern expressions: see pattern.h.
#include "logql/pattern.h"

#include <set>

#include "core/utf8.h"

namespace skald::logql::internal {
namespace {

bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsAlnum(char c) { return IsAlpha(c) || (c >= '0' && c <= '9'); }

std::string NodeString(const PatternNode& n) { return n.capture ? "<" + n.text + ">" : n.text; }

std::optional<std::string> CheckNoConsecutiveCaptures(const std::vector<PatternNode>& nodes) {
  for (size_t i = 0; i + 1 < nodes.size(); i++) {
    if (nodes[i].capture && nodes[i + 1].capture) {
      return "found consecutive capture '" + NodeString(nodes[i]) + NodeString(nodes[i + 1]) +
             "': invalid expression";
    }
  }
  return std::nullopt;
}

}  // namespace

bool ParsePatternNodes(std::string_view in, std::vector<PatternNode>* out, std::string* err) {
  out->clear();
  size_t i = 0;
  while (i < in.size()) {
    if (in[i] == '<' && i + 1 < in.size() && (IsAlpha(in[i + 1]) || in[i + 1] == '_')) {
      size_t j = i + 2;
      while (j < in.size() && (IsAlnum(in[j]) || in[j] == '_')) j++;
      if (j < in.size() && in[j] == '>') {
        out->push_back(PatternNode{true, std::string(in.substr(i + 1, j - i - 1))});
        i = j + 1;
        continue;
      }
    }
    // Ragel's utf8 machine (Loki's pattern lexer) accepts exactly what Go's rules do.
    char32_t rune;
    const size_t w = DecodeUtf8Rune(in.substr(i), &rune);
    if (w == 0) break;  // Loki's lexer stops at invalid UTF-8
    if (out->empty() || out->back().capture) out->push_back(PatternNode{false, ""});
    out->back().text.append(in.substr(i, w));
    i += w;
  }
  if (out->empty()) {
    *err = "parse error at line 1, col " + std::to_string(i + 1) + ": syntax error";
    return false;
  }
  return true;
}

std::optional<std::string> ValidatePatternParser(std::string_view in) {
  std::vector<PatternNode> nodes;
  std::string err;
  if (!ParsePatternNodes(in, &nodes, &err)) return err;
  bool named = false;
  for (const auto& n : nodes) named |= n.capture && !n.Unnamed();
  if (!named) return std::string("at least one capture is required");
  if (auto e = CheckNoConsecutiveCaptures(nodes)) return e;
  std::set<std::string> seen;
  for (const auto& n : nodes) {
    if (!n.capture || n.Unnamed()) continue;
    if (!seen.insert(n.text).second)
      return "duplicate capture name (" + n.text + "): invalid expression";
  }
  return std::nullopt;
}

std::optional<std::string> PatternLineMatcher::Create(std::string_view in,
                                                      PatternLineMatcher* out) {
  out->nodes_.clear();
  if (in.empty()) return std::nullopt;
  std::string err;
  if (!ParsePatternNodes(in, &out->nodes_, &err)) return err;
  if (auto e = CheckNoConsecutiveCaptures(out->nodes_)) return e;
  for (const auto& n : out->nodes_) {
    if (n.capture && !n.Unnamed())
      return "named captures are not allowed: found '" + NodeString(n) + "'";
  }
  return std::nullopt;
}

bool PatternLineMatcher::Test(std::string_view line) const {
  if (line.empty() || nodes_.empty()) return line.empty() && nodes_.empty();
  size_t off = 0;
  for (size_t i = 0; i < nodes_.size(); i++) {
    if (nodes_[i].capture) continue;
    size_t j = line.substr(off).find(nodes_[i].text);
    if (j == std::string_view::npos) return false;
    if (i != 0 && j == 0) return false;  // empty placeholder
    off += j + nodes_[i].text.size();
  }
  bool req_rem = nodes_.back().capture;
  bool has_rem = off != line.size();
  return req_rem == has_rem;
}

}  // namespace skald::logql::internal
