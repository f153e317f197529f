// Whether Loki's regex simplifier turns a label-filter regex into literal filters: see
// regex_util.h. Only the printed form of a label filter depends on it (format_query).
//
// The pattern is parsed into the shapes Go's regexp/syntax produces for it (literal strings,
// `.*`, `.+`, empty matches, concatenations, alternations; everything else is "other"),
// alternations of plain literals are factored as Go's parser factors them (common literal
// prefixes, then runs of single runes collapse into a character class, runs of empty
// matches into one), and the result is classified by Loki's rules: a literal, `.*`, `.+`,
// an empty match, an alternation of simplifiable legs, or a concatenation of at most three
// pieces holding one literal, `.*`s and — after the literal — an alternation of literal
// suffixes. Patterns outside this model count as not simplified.
#include <string>
#include <string_view>
#include <vector>

#include "core/utf8.h"
#include "logql/regex_util.h"

namespace skald::logql::internal {
namespace {

struct Node {
  enum class Kind { kLit, kDotStar, kDotPlus, kEmpty, kAlt, kConcat, kOther };
  Kind kind = Kind::kEmpty;
  std::u32string lit;      // kLit
  std::vector<Node> subs;  // kAlt, kConcat
};

using Kind = Node::Kind;

Node Other() {
  Node n;
  n.kind = Kind::kOther;
  return n;
}

// Go's factoring of an alternation whose alternatives are literals and empty matches.
Node FactorLiterals(std::vector<Node> alts);

Node Collapse(std::vector<Node> alts) {
  bool all_literal = true;
  for (const Node& a : alts) all_literal &= a.kind == Kind::kLit || a.kind == Kind::kEmpty;
  if (all_literal) return FactorLiterals(std::move(alts));
  if (alts.size() == 1) return std::move(alts[0]);
  Node n;
  n.kind = Kind::kAlt;
  n.subs = std::move(alts);
  return n;
}

Node FactorLiterals(std::vector<Node> alts) {
  // Round 1: runs of neighbours sharing a literal prefix become prefix(suffixes).
  std::vector<Node> out;
  size_t start = 0;
  std::u32string str;
  for (size_t i = 0; i <= alts.size(); i++) {
    if (i < alts.size()) {
      const std::u32string& istr = alts[i].lit;  // empty for kEmpty
      size_t same = 0;
      while (same < str.size() && same < istr.size() && str[same] == istr[same]) same++;
      if (same > 0) {
        str.resize(same);
        continue;
      }
    }
    if (i == start + 1) {
      out.push_back(std::move(alts[start]));
    } else if (i > start + 1) {
      std::vector<Node> suffixes;
      for (size_t j = start; j < i; j++) {
        Node s;
        s.lit = alts[j].lit.substr(str.size());
        s.kind = s.lit.empty() ? Kind::kEmpty : Kind::kLit;
        suffixes.push_back(std::move(s));
      }
      Node prefix;
      prefix.kind = Kind::kLit;
      prefix.lit = str;
      Node cat;
      cat.kind = Kind::kConcat;
      cat.subs.push_back(std::move(prefix));
      cat.subs.push_back(FactorLiterals(std::move(suffixes)));
      out.push_back(std::move(cat));
    }
    if (i < alts.size()) {
      start = i;
      str = alts[i].lit;
    }
  }
  // Round 3: runs of single runes become a character class; round 4: runs of empty
  // matches become one.
  std::vector<Node> merged;
  for (Node& n : out) {
    const bool single = n.kind == Kind::kLit && n.lit.size() == 1;
    if (!merged.empty()) {
      Node& prev = merged.back();
      const bool prev_single = prev.kind == Kind::kLit && prev.lit.size() == 1;
      const bool prev_class = prev.kind == Kind::kOther;
      if (single && (prev_single || prev_class)) {
        prev = Other();
        continue;
      }
      if (n.kind == Kind::kEmpty && prev.kind == Kind::kEmpty) continue;
    }
    merged.push_back(std::move(n));
  }
  if (merged.size() == 1) return std::move(merged[0]);
  Node n;
  n.kind = Kind::kAlt;
  n.subs = std::move(merged);
  return n;
}

class ShapeParser {
 public:
  explicit ShapeParser(std::string_view s) : s_(s) {}

  bool Parse(Node* out) {
    if (s_.substr(0, 4) == "(?i)") pos_ = 4;  // case folding keeps literals literal
    *out = Alternation();
    return ok_ && pos_ == s_.size();
  }

 private:
  Node Alternation() {
    std::vector<Node> alts;
    alts.push_back(Concatenation());
    while (ok_ && pos_ < s_.size() && s_[pos_] == '|') {
      pos_++;
      alts.push_back(Concatenation());
    }
    return Collapse(std::move(alts));
  }

  Node Concatenation() {
    std::vector<Node> items;
    while (ok_ && pos_ < s_.size() && s_[pos_] != '|' && s_[pos_] != ')') {
      const char c = s_[pos_];
      if (c == '(') {
        pos_++;
        if (s_.substr(pos_, 2) == "?:") {
          pos_ += 2;
        } else if (s_.substr(pos_, 3) == "?P<" || s_.substr(pos_, 2) == "?<") {
          size_t close = s_.find('>', pos_);
          if (close == std::string_view::npos) return Fail();
          pos_ = close + 1;
        } else if (pos_ < s_.size() && s_[pos_] == '?') {
          return Fail();  // flag groups: outside the model
        }
        Node inner = Alternation();
        if (!ok_ || pos_ >= s_.size() || s_[pos_] != ')') return Fail();
        pos_++;
        if (Quantified()) inner = Other();
        items.push_back(std::move(inner));
        continue;
      }
      if (c == '.') {
        pos_++;
        Node n = Other();
        if (pos_ < s_.size() && (s_[pos_] == '*' || s_[pos_] == '+')) {
          n.kind = s_[pos_] == '*' ? Kind::kDotStar : Kind::kDotPlus;
          pos_++;
          if (pos_ < s_.size() && s_[pos_] == '?') pos_++;  // non-greedy: same op
          if (Quantified()) n = Other();
        } else if (Quantified()) {
          n = Other();
        }
        items.push_back(std::move(n));
        continue;
      }
      if (c == '[' || c == '^' || c == '$' || c == '*' || c == '+' || c == '?') {
        // Classes, anchors and stray operators: never simplified (a stray operator is a
        // parse error in Go, rejected before printing).
        return Fail();
      }
      char32_t rune = 0;
      if (c == '\\') {
        if (pos_ + 1 >= s_.size()) return Fail();
        const unsigned char e = static_cast<unsigned char>(s_[pos_ + 1]);
        if ((e >= 'a' && e <= 'z') || (e >= 'A' && e <= 'Z') || (e >= '0' && e <= '9') ||
            e >= 0x80) {
          return Fail();  // \d, \b, \pL, \x41, ...: classes, anchors or escapes
        }
        rune = e;
        pos_ += 2;
      } else {
        size_t n = DecodeUtf8Rune(s_.substr(pos_), &rune);
        if (n == 0) n = 1;
        pos_ += n;
      }
      const bool extends = last_was_rune_ && !items.empty() && items.back().kind == Kind::kLit;
      if (Quantified()) {
        items.push_back(Other());
        continue;
      }
      if (extends) {
        items.back().lit.push_back(rune);
      } else {
        Node n;
        n.kind = Kind::kLit;
        n.lit.push_back(rune);
        items.push_back(std::move(n));
      }
      last_was_rune_ = true;
      continue;
    }
    last_was_rune_ = false;
    if (items.empty()) return Node{};
    if (items.size() == 1) return std::move(items[0]);
    Node n;
    n.kind = Kind::kConcat;
    n.subs = std::move(items);
    return n;
  }

  // Consumes a quantifier after an atom; true when there was one.
  bool Quantified() {
    last_was_rune_ = false;
    if (pos_ >= s_.size()) return false;
    const char q = s_[pos_];
    if (q == '*' || q == '+' || q == '?') {
      pos_++;
      if (pos_ < s_.size() && s_[pos_] == '?') pos_++;
      return true;
    }
    if (q == '{') {
      size_t i = pos_ + 1;
      bool digits = false;
      while (i < s_.size() && ((s_[i] >= '0' && s_[i] <= '9') || s_[i] == ',')) {
        digits = true;
        i++;
      }
      if (digits && i < s_.size() && s_[i] == '}') {
        pos_ = i + 1;
        return true;
      }
    }
    return false;
  }

  Node Fail() {
    ok_ = false;
    return Other();
  }

  std::string_view s_;
  size_t pos_ = 0;
  bool ok_ = true;
  bool last_was_rune_ = false;
};

bool Simplifies(const Node& n);

bool SimplifiesConcat(const Node& n, bool has_literal) {
  std::vector<const Node*> subs;
  for (const Node& s : n.subs) {
    if (s.kind != Kind::kEmpty) subs.push_back(&s);
  }
  if (subs.size() > 3) return false;
  int literals = 0;
  bool alternates = false;
  for (const Node* s : subs) {
    if (s->kind == Kind::kLit) {
      if (literals++ != 0) return false;
      has_literal = true;
      continue;
    }
    if (s->kind == Kind::kAlt && has_literal) {
      for (const Node& a : s->subs) {
        const bool ok = a.kind == Kind::kEmpty || a.kind == Kind::kLit ||
                        a.kind == Kind::kDotStar ||
                        (a.kind == Kind::kConcat && SimplifiesConcat(a, true));
        if (!ok) return false;
      }
      alternates = alternates || !s->subs.empty();
      continue;
    }
    if (s->kind == Kind::kDotStar) continue;
    return false;
  }
  return alternates || has_literal;
}

bool Simplifies(const Node& n) {
  switch (n.kind) {
    case Kind::kLit:
    case Kind::kDotStar:
    case Kind::kDotPlus:
    case Kind::kEmpty:
      return true;
    case Kind::kAlt:
      for (const Node& s : n.subs) {
        if (!Simplifies(s)) return false;
      }
      return true;
    case Kind::kConcat:
      return SimplifiesConcat(n, false);
    case Kind::kOther:
      return false;
  }
  return false;
}

}  // namespace

bool LokiSimplifiesLabelRegex(std::string_view pattern) {
  Node root;
  if (!ShapeParser(pattern).Parse(&root)) return false;
  return Simplifies(root);
}

}  // namespace skald::logql::internal
