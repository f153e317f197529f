// Line filter execution: see line_filter.h.
#include "logql/line_filter.h"

#include <re2/filtered_re2.h>
#include <re2/re2.h>

#include <algorithm>
#include <cstring>
#include <utility>

#include "core/ascii.h"
#include "core/go_string.h"
#include "logql/ip_match.h"
#include "logql/pattern.h"
#include "logql/regex_util.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define SKALD_LOGQL_X86 1
#endif

namespace skald::logql {
namespace internal {

// ---------------------------------------------------------------------------
// LiteralSearcher

namespace {

inline bool IsLowerAlpha(unsigned char c) { return c >= 'a' && c <= 'z'; }

// Compares the needle against p[0..n) (first and last bytes already known to
// match when called from the vector loops, but checked here anyway for the
// scalar tail).
inline bool EqualAt(const char* p, const std::string& needle, bool ci) {
  const size_t n = needle.size();
  if (!ci) return std::memcmp(p, needle.data(), n) == 0;
  for (size_t k = 0; k < n; k++) {
    if (AsciiToLower(p[k]) != needle[k]) return false;
  }
  return true;
}

#ifdef SKALD_LOGQL_X86
// One pass of the first/last-byte filter (W. Muła's "SIMD-friendly" substring
// search) over candidate starts [*i, last_start]. Returns the match position,
// or npos after advancing *i past the blocks it could cover.
size_t ScanSse2(const char* data, size_t* i, size_t last_start, const std::string& needle,
                bool ci) {
  const size_t n = needle.size();
  const auto n0 = static_cast<unsigned char>(needle[0]);
  const auto nl = static_cast<unsigned char>(needle[n - 1]);
  const __m128i first = _mm_set1_epi8(static_cast<char>(n0));
  const __m128i last = _mm_set1_epi8(static_cast<char>(nl));
  const __m128i fold_first = _mm_set1_epi8(ci && IsLowerAlpha(n0) ? 0x20 : 0);
  const __m128i fold_last = _mm_set1_epi8(ci && IsLowerAlpha(nl) ? 0x20 : 0);
  size_t pos = *i;
  for (; pos + 15 <= last_start; pos += 16) {
    __m128i bf =
        _mm_or_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(data + pos)), fold_first);
    __m128i bl = _mm_or_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(data + pos + n - 1)),
                              fold_last);
    unsigned mask = static_cast<unsigned>(
        _mm_movemask_epi8(_mm_and_si128(_mm_cmpeq_epi8(bf, first), _mm_cmpeq_epi8(bl, last))));
    while (mask != 0) {
      unsigned bit = static_cast<unsigned>(__builtin_ctz(mask));
      if (EqualAt(data + pos + bit, needle, ci)) return pos + bit;
      mask &= mask - 1;
    }
  }
  *i = pos;
  return std::string_view::npos;
}

__attribute__((target("avx2"))) size_t ScanAvx2(const char* data, size_t* i, size_t last_start,
                                                const std::string& needle, bool ci) {
  const size_t n = needle.size();
  const auto n0 = static_cast<unsigned char>(needle[0]);
  const auto nl = static_cast<unsigned char>(needle[n - 1]);
  const __m256i first = _mm256_set1_epi8(static_cast<char>(n0));
  const __m256i last = _mm256_set1_epi8(static_cast<char>(nl));
  const __m256i fold_first = _mm256_set1_epi8(ci && IsLowerAlpha(n0) ? 0x20 : 0);
  const __m256i fold_last = _mm256_set1_epi8(ci && IsLowerAlpha(nl) ? 0x20 : 0);
  size_t pos = *i;
  for (; pos + 31 <= last_start; pos += 32) {
    __m256i bf = _mm256_or_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(data + pos)),
                                 fold_first);
    __m256i bl = _mm256_or_si256(
        _mm256_loadu_si256(reinterpret_cast<const __m256i*>(data + pos + n - 1)), fold_last);
    unsigned mask = static_cast<unsigned>(_mm256_movemask_epi8(
        _mm256_and_si256(_mm256_cmpeq_epi8(bf, first), _mm256_cmpeq_epi8(bl, last))));
    while (mask != 0) {
      unsigned bit = static_cast<unsigned>(__builtin_ctz(mask));
      if (EqualAt(data + pos + bit, needle, ci)) return pos + bit;
      mask &= mask - 1;
    }
  }
  *i = pos;
  return std::string_view::npos;
}

const bool kHasAvx2 = [] {
  __builtin_cpu_init();  // may run before libgcc's own constructor
  return __builtin_cpu_supports("avx2") != 0;
}();
#endif

}  // namespace

LiteralSearcher::LiteralSearcher(std::string needle, bool case_insensitive)
    : needle_(std::move(needle)), ci_(case_insensitive) {
  if (ci_) {
    for (char& c : needle_) c = AsciiToLower(c);
  }
}

size_t LiteralSearcher::Find(const char* data, size_t from, size_t to) const {
  const size_t n = needle_.size();
  if (n == 0) return from <= to ? from : std::string_view::npos;
  if (to < from || to - from < n) return std::string_view::npos;
  const size_t last_start = to - n;
  size_t i = from;
#ifdef SKALD_LOGQL_X86
  if (kHasAvx2) {
    size_t hit = ScanAvx2(data, &i, last_start, needle_, ci_);
    if (hit != std::string_view::npos) return hit;
  }
  size_t hit = ScanSse2(data, &i, last_start, needle_, ci_);
  if (hit != std::string_view::npos) return hit;
#endif
  if (!ci_ && n == 1) {
    const void* p = std::memchr(data + i, needle_[0], last_start - i + 1);
    return p == nullptr ? std::string_view::npos : static_cast<const char*>(p) - data;
  }
  for (; i <= last_start; i++) {
    if (EqualAt(data + i, needle_, ci_)) return i;
  }
  return std::string_view::npos;
}

// ---------------------------------------------------------------------------
// Compiled clauses

struct Term {
  enum class Kind { kAll, kNonEmpty, kLiteral, kRegex, kPattern, kIp };
  Kind kind = Kind::kAll;
  std::unique_ptr<LiteralSearcher> literal;
  std::unique_ptr<RE2> re;
  PatternLineMatcher pattern;
  std::unique_ptr<IpMatcher> ip;

  bool Match(std::string_view line) const {
    switch (kind) {
      case Kind::kAll:
        return true;
      case Kind::kNonEmpty:
        return !line.empty();
      case Kind::kLiteral:
        return literal->Contains(line);
      case Kind::kRegex:
        return RE2::PartialMatch(re2::StringPiece(line.data(), line.size()), *re);
      case Kind::kPattern:
        return pattern.Test(line);
      case Kind::kIp:
        return ip->ContainsMatch(line);
    }
    return false;
  }
  int Cost() const {
    switch (kind) {
      case Kind::kAll:
      case Kind::kNonEmpty:
        return 0;
      case Kind::kLiteral:
        return 1;
      case Kind::kPattern:
      case Kind::kIp:
        return 2;
      case Kind::kRegex:
        return 3;
    }
    return 3;
  }
};

struct CompiledClause {
  bool negate = false;
  bool always = false;  // a term matches every line
  std::vector<Term> terms;

  bool AllLiteral() const {
    if (always || terms.empty()) return false;
    for (const Term& t : terms) {
      if (t.kind != Term::Kind::kLiteral) return false;
    }
    return true;
  }
  int Cost() const {
    int c = 0;
    for (const Term& t : terms) c = std::max(c, t.Cost());
    return c;
  }
  bool Eval(std::string_view line) const {
    bool any = always;
    for (size_t i = 0; !any && i < terms.size(); i++) any = terms[i].Match(line);
    return any != negate;
  }
};

namespace {

bool IsRegexMeta(char c) {
  switch (c) {
    case '\\':
    case '.':
    case '+':
    case '*':
    case '?':
    case '(':
    case ')':
    case '|':
    case '[':
    case ']':
    case '{':
    case '}':
    case '^':
    case '$':
      return true;
    default:
      return false;
  }
}

bool IsAsciiPunct(char c) {
  return (c >= '!' && c <= '/') || (c >= ':' && c <= '@') || (c >= '[' && c <= '`') ||
         (c >= '{' && c <= '~');
}

struct Simplified {
  enum class Kind { kNone, kAll, kNonEmpty, kLiterals };
  Kind kind = Kind::kNone;
  bool ci = false;
  std::vector<std::string> literals;
};

// Recognises regexes that are literal searches: `abc`, `a\.b`, `a|b|c`,
// `(a|b)`, `(?i)abc` (ASCII), plus `.*`, `` and `.+`.
Simplified SimplifyRegex(std::string_view re) {
  Simplified out;
  if (re.empty() || re == ".*") {
    out.kind = Simplified::Kind::kAll;
    return out;
  }
  if (re == ".+") {
    out.kind = Simplified::Kind::kNonEmpty;
    return out;
  }
  if (re.starts_with("(?i)")) {
    out.ci = true;
    re.remove_prefix(4);
  }
  if (re.size() >= 2 && re.back() == ')') {
    if (re.starts_with("(?:")) {
      re = re.substr(3, re.size() - 4);
    } else if (re.front() == '(' && re.size() >= 2 && re[1] != '?') {
      re = re.substr(1, re.size() - 2);
    }
  }
  std::vector<std::string> pieces(1);
  for (size_t i = 0; i < re.size(); i++) {
    char c = re[i];
    if (c == '|') {
      pieces.emplace_back();
      continue;
    }
    if (c == '\\') {
      if (i + 1 >= re.size() || !IsAsciiPunct(re[i + 1])) return Simplified{};
      pieces.back().push_back(re[++i]);
      continue;
    }
    if (IsRegexMeta(c)) return Simplified{};
    if (out.ci && static_cast<unsigned char>(c) >= 0x80) return Simplified{};
    pieces.back().push_back(c);
  }
  for (const auto& p : pieces) {
    if (p.empty()) {
      out.kind = Simplified::Kind::kAll;
      return out;
    }
  }
  out.kind = Simplified::Kind::kLiterals;
  out.literals = std::move(pieces);
  return out;
}

Term LiteralTerm(std::string s, bool ci) {
  Term t;
  if (s.empty()) return t;  // kAll
  t.kind = Term::Kind::kLiteral;
  t.literal = std::make_unique<LiteralSearcher>(std::move(s), ci);
  return t;
}

StatusOr<CompiledClause> CompileClause(const LineFilterSpec& spec) {
  CompiledClause c;
  c.negate = spec.IsNegative();
  if (spec.HasIp()) {
    if (spec.op != LineFilterSpec::Op::kContains && spec.op != LineFilterSpec::Op::kNotContains) {
      return Status::InvalidArgument("ip() line filters accept only |= and != operators");
    }
  }
  for (size_t vi = 0; vi < spec.values.size(); vi++) {
    const std::string& v = spec.values[vi];
    if (spec.IsIp(vi)) {
      auto m = IpMatcher::Create(v);
      if (!m.ok()) return m.status();
      Term t;
      t.kind = Term::Kind::kIp;
      t.ip = std::make_unique<IpMatcher>(std::move(m).value());
      c.terms.push_back(std::move(t));
      continue;
    }
    switch (spec.op) {
      case LineFilterSpec::Op::kContains:
      case LineFilterSpec::Op::kNotContains:
        c.terms.push_back(LiteralTerm(v, false));
        break;
      case LineFilterSpec::Op::kRegex:
      case LineFilterSpec::Op::kNotRegex: {
        if (auto err = GoRegexpError(v)) return Status::InvalidArgument(*err);
        Simplified s = SimplifyRegex(v);
        switch (s.kind) {
          case Simplified::Kind::kAll:
            c.terms.emplace_back();
            break;
          case Simplified::Kind::kNonEmpty: {
            Term t;
            t.kind = Term::Kind::kNonEmpty;
            c.terms.push_back(std::move(t));
            break;
          }
          case Simplified::Kind::kLiterals:
            for (auto& lit : s.literals) c.terms.push_back(LiteralTerm(std::move(lit), s.ci));
            break;
          case Simplified::Kind::kNone: {
            RE2::Options opts;
            opts.set_log_errors(false);
            opts.set_dot_nl(false);
            Term t;
            t.kind = Term::Kind::kRegex;
            t.re = std::make_unique<RE2>(re2::StringPiece(v.data(), v.size()), opts);
            if (!t.re->ok())
              return Status::InvalidArgument("error parsing regexp: " + t.re->error());
            c.terms.push_back(std::move(t));
            break;
          }
        }
        break;
      }
      case LineFilterSpec::Op::kPattern:
      case LineFilterSpec::Op::kNotPattern: {
        Term t;
        t.kind = Term::Kind::kPattern;
        if (auto err = PatternLineMatcher::Create(v, &t.pattern))
          return Status::InvalidArgument(*err);
        c.terms.push_back(std::move(t));
        break;
      }
    }
  }
  for (const Term& t : c.terms) c.always = c.always || t.kind == Term::Kind::kAll;
  return c;
}

// Appends to *hits the index of each line containing the literal (hits found
// on the whole buffer; a hit crossing a line boundary is skipped).
void BulkLiteral(const LiteralSearcher& s, std::string_view data, std::span<const uint32_t> offsets,
                 std::vector<uint32_t>* hits) {
  const size_t n = offsets.size() - 1;
  const size_t len = s.needle().size();
  size_t pos = offsets[0];
  const size_t end = offsets[n];
  size_t line = 0;
  while (pos < end) {
    size_t hit = s.Find(data.data(), pos, end);
    if (hit == std::string_view::npos) return;
    // Find the line holding `hit`: the last i >= line with offsets[i] <= hit.
    if (offsets[line + 1] <= hit) {
      size_t step = 1;
      size_t lo = line + 1;  // offsets[lo] <= hit
      size_t hi = lo + step;
      while (hi < n && offsets[hi] <= hit) {
        lo = hi;
        step *= 2;
        hi = lo + step;
      }
      if (hi > n) hi = n;
      // offsets[lo] <= hit < offsets[hi] (hi may be n, offsets[n] = end > hit)
      const uint32_t* first = offsets.data() + lo;
      const uint32_t* last = offsets.data() + hi;
      line = static_cast<size_t>(std::upper_bound(first, last, static_cast<uint32_t>(hit)) -
                                 offsets.data()) -
             1;
    }
    if (hit + len <= offsets[line + 1]) {
      hits->push_back(static_cast<uint32_t>(line));
      pos = offsets[line + 1];
      line++;
      if (line >= n) return;
    } else {
      pos = hit + 1;
    }
  }
}

}  // namespace

// ---------------------------------------------------------------------------
// Literal requirements

// One node of a LiteralRequirement's formula. Built once, then only read.
struct RequirementNode {
  enum class Kind { kTrue, kFalse, kLiteral, kAnd, kOr, kRegex };
  Kind kind = Kind::kTrue;
  std::string literal;                    // kLiteral: ASCII-lowercase, non-empty
  std::vector<RequirementNode> children;  // kAnd / kOr: at least two, none of them kTrue/kFalse
  // kRegex: RE2's prefilter for one regex. atoms[i] is RE2's i-th atom; it counts as
  // present when every string of pieces[i] may occur (an atom without pieces always does).
  std::string pattern;
  std::shared_ptr<const re2::FilteredRE2> prefilter;
  std::vector<std::string> atoms;
  std::vector<std::vector<std::string>> pieces;

  bool Eval(const std::function<bool(std::string_view)>& may_contain) const {
    switch (kind) {
      case Kind::kTrue:
        return true;
      case Kind::kFalse:
        return false;
      case Kind::kLiteral:
        return may_contain(literal);
      case Kind::kAnd:
        for (const RequirementNode& c : children) {
          if (!c.Eval(may_contain)) return false;
        }
        return true;
      case Kind::kOr:
        for (const RequirementNode& c : children) {
          if (c.Eval(may_contain)) return true;
        }
        return false;
      case Kind::kRegex: {
        std::vector<int> present;
        for (size_t i = 0; i < atoms.size(); i++) {
          bool all = true;
          for (const std::string& p : pieces[i]) {
            if (!may_contain(p)) {
              all = false;
              break;
            }
          }
          if (all) present.push_back(static_cast<int>(i));
        }
        std::vector<int> potential;
        prefilter->AllPotentials(present, &potential);
        return !potential.empty();
      }
    }
    return true;
  }

  void Append(std::string* out) const;
};

namespace {

using ReqKind = RequirementNode::Kind;

// RE2 keeps atoms of at least this many bytes; shorter ones impose nothing.
constexpr int kMinAtomLen = 3;

RequirementNode ConstNode(bool value) {
  RequirementNode n;
  n.kind = value ? ReqKind::kTrue : ReqKind::kFalse;
  return n;
}

// Both kinds of literal search (exact and ASCII case-insensitive) imply an ASCII
// case-insensitive "contains", which is what the block filters answer.
RequirementNode LiteralNode(std::string_view lit) {
  if (lit.empty()) return ConstNode(true);
  RequirementNode n;
  n.kind = ReqKind::kLiteral;
  n.literal = AsciiLower(lit);
  return n;
}

bool SameLiteral(const RequirementNode& a, const RequirementNode& b) {
  return a.kind == ReqKind::kLiteral && b.kind == ReqKind::kLiteral && a.literal == b.literal;
}

// AND (kind kAnd) or OR (kind kOr) of `parts`, simplified: constants absorb or vanish,
// nested nodes of the same kind are flattened and repeated literals dropped, so that
// Trivial() and Never() can be read off the root.
RequirementNode Combine(ReqKind kind, std::vector<RequirementNode> parts) {
  const ReqKind identity = kind == ReqKind::kAnd ? ReqKind::kTrue : ReqKind::kFalse;
  const ReqKind absorbing = kind == ReqKind::kAnd ? ReqKind::kFalse : ReqKind::kTrue;
  std::vector<RequirementNode> kept;
  auto keep = [&kept](RequirementNode&& n) {
    for (const RequirementNode& k : kept) {
      if (SameLiteral(k, n)) return;
    }
    kept.push_back(std::move(n));
  };
  for (RequirementNode& p : parts) {
    if (p.kind == identity) continue;
    if (p.kind == absorbing) return ConstNode(absorbing == ReqKind::kTrue);
    if (p.kind == kind) {
      for (RequirementNode& c : p.children) keep(std::move(c));
    } else {
      keep(std::move(p));
    }
  }
  if (kept.empty()) return ConstNode(identity == ReqKind::kTrue);
  if (kept.size() == 1) return std::move(kept[0]);
  RequirementNode n;
  n.kind = kind;
  n.children = std::move(kept);
  return n;
}

// Could the regex hold U+212A KELVIN SIGN or U+017F LATIN SMALL LETTER LONG S, either
// written out or reached by case folding? RE2 lowercases atoms with Unicode rules, which
// turn these runes into an ASCII `k` / `s` (a case-insensitive `k` / `s` also matches them),
// while a line holding them has neither byte. They get in through inline flags (`(?i)`),
// raw UTF-8, or escapes that name code points (`\x{212A}`, octal `\577`, `\p{...}`).
// Conservative: any `(?`, any byte >= 0x80, any such escape.
bool MayHoldFoldingRunes(std::string_view re) {
  if (re.find("(?") != std::string_view::npos) return true;
  for (size_t i = 0; i < re.size(); i++) {
    if (static_cast<unsigned char>(re[i]) >= 0x80) return true;
    if (re[i] != '\\' || i + 1 >= re.size()) continue;
    const char e = re[++i];
    if (e == 'x' || e == 'p' || e == 'P' || (e >= '0' && e <= '9')) return true;
  }
  return false;
}

// The parts of a (lowercased) RE2 atom that an ASCII case-insensitive search can vouch
// for. A byte >= 0x80 belongs to a rune that RE2 lowercased with Unicode rules (the line
// may hold another case of it, e.g. `É` for the atom's `é`), and with `fold_risk` a `k` or
// `s` may stand for a Kelvin sign or a long s; the atom is cut at those bytes, and each
// remaining run must still occur in a line the regex matches.
std::vector<std::string> TrustedPieces(std::string_view atom, bool fold_risk) {
  std::vector<std::string> out;
  std::string cur;
  auto flush = [&] {
    if (!cur.empty() && std::find(out.begin(), out.end(), cur) == out.end()) out.push_back(cur);
    cur.clear();
  };
  for (char c : atom) {
    if (static_cast<unsigned char>(c) >= 0x80 || (fold_risk && (c == 'k' || c == 's'))) {
      flush();
    } else {
      cur.push_back(AsciiToLower(c));
    }
  }
  flush();
  return out;
}

RequirementNode RegexNode(const RE2& re) {
  auto prefilter = std::make_shared<re2::FilteredRE2>(kMinAtomLen);
  int id = 0;
  // Same pattern and options as the term's RE2 (which compiled), so this cannot fail; if it
  // did, nothing is known about the regex.
  if (prefilter->Add(re.pattern(), re.options(), &id) != RE2::NoError) return ConstNode(true);
  RequirementNode n;
  n.kind = ReqKind::kRegex;
  n.pattern = re.pattern();
  prefilter->Compile(&n.atoms);
  const bool fold_risk = !re.options().case_sensitive() || MayHoldFoldingRunes(re.pattern());
  std::vector<int> always;  // atoms without a trusted piece: always present
  for (size_t i = 0; i < n.atoms.size(); i++) {
    n.pieces.push_back(TrustedPieces(n.atoms[i], fold_risk));
    if (n.pieces.back().empty()) always.push_back(static_cast<int>(i));
  }
  // A regex RE2 has no atoms for (`\d+`), or whose atoms we cannot trust enough to ever
  // rule it out, requires nothing: say so, so that Trivial() sees it.
  std::vector<int> potential;
  prefilter->AllPotentials(always, &potential);
  if (!potential.empty()) return ConstNode(true);
  n.prefilter = std::move(prefilter);
  return n;
}

RequirementNode TermRequirement(const Term& t) {
  switch (t.kind) {
    case Term::Kind::kAll:
    case Term::Kind::kNonEmpty:
    case Term::Kind::kIp:
      return ConstNode(true);
    case Term::Kind::kLiteral:
      return LiteralNode(t.literal->needle());
    case Term::Kind::kPattern: {
      // Test finds every literal node in the line (in order, which is not kept here).
      std::vector<RequirementNode> lits;
      for (const PatternNode& node : t.pattern.nodes()) {
        if (!node.capture) lits.push_back(LiteralNode(node.text));
      }
      return Combine(ReqKind::kAnd, std::move(lits));
    }
    case Term::Kind::kRegex:
      return RegexNode(*t.re);
  }
  return ConstNode(true);
}

// A negated clause keeps lines that lack something, which no "may contain" answer can
// rule out; a positive one needs one of its terms.
RequirementNode ClauseRequirement(const CompiledClause& c) {
  if (c.negate || c.always) return ConstNode(true);
  std::vector<RequirementNode> alts;
  for (const Term& t : c.terms) alts.push_back(TermRequirement(t));
  return Combine(ReqKind::kOr, std::move(alts));
}

}  // namespace

void RequirementNode::Append(std::string* out) const {
  switch (kind) {
    case Kind::kTrue:
      out->append("true");
      return;
    case Kind::kFalse:
      out->append("false");
      return;
    case Kind::kLiteral:
      AppendGoQuoted(out, literal);
      return;
    case Kind::kAnd:
    case Kind::kOr:
      out->append(kind == Kind::kAnd ? "and(" : "or(");
      for (size_t i = 0; i < children.size(); i++) {
        if (i != 0) out->append(", ");
        children[i].Append(out);
      }
      out->push_back(')');
      return;
    case Kind::kRegex:
      out->append("re2(");
      AppendGoQuoted(out, pattern);
      out->append(", atoms:");
      for (size_t i = 0; i < atoms.size(); i++) {
        out->append(i == 0 ? " " : ", ");
        AppendGoQuoted(out, atoms[i]);
        const auto& p = pieces[i];
        if (p.size() == 1 && p[0] == atoms[i]) continue;
        // Only parts of the atom are checked: show which.
        out->push_back('~');
        if (p.empty()) {
          out->append("true");
        } else if (p.size() == 1) {
          AppendGoQuoted(out, p[0]);
        } else {
          out->append("and(");
          for (size_t k = 0; k < p.size(); k++) {
            if (k != 0) out->append(", ");
            AppendGoQuoted(out, p[k]);
          }
          out->push_back(')');
        }
      }
      out->push_back(')');
      return;
  }
}

}  // namespace internal

// ---------------------------------------------------------------------------
// LiteralRequirement

LiteralRequirement::LiteralRequirement() = default;

LiteralRequirement::LiteralRequirement(std::shared_ptr<const internal::RequirementNode> root)
    : root_(std::move(root)) {}

bool LiteralRequirement::MayMatch(const std::function<bool(std::string_view)>& may_contain) const {
  if (root_ == nullptr) return true;
  // Without an answer to ask (an empty function), only Never() rules a block out.
  if (!may_contain) return !Never();
  return root_->Eval(may_contain);
}

bool LiteralRequirement::Trivial() const {
  return root_ == nullptr || root_->kind == internal::RequirementNode::Kind::kTrue;
}

bool LiteralRequirement::Never() const {
  return root_ != nullptr && root_->kind == internal::RequirementNode::Kind::kFalse;
}

std::string LiteralRequirement::DebugString() const {
  if (root_ == nullptr) return "true";
  std::string out;
  root_->Append(&out);
  return out;
}

// ---------------------------------------------------------------------------
// LineFilter

LineFilter::LineFilter() = default;

StatusOr<LineFilter> LineFilter::Compile(const std::vector<LineFilterSpec>& specs) {
  LineFilter f;
  std::vector<std::shared_ptr<internal::CompiledClause>> compiled;
  for (const LineFilterSpec& spec : specs) {
    auto c = internal::CompileClause(spec);
    if (!c.ok()) return c.status();
    internal::CompiledClause clause = std::move(c).value();
    if (clause.always) {
      if (clause.negate) f.never_ = true;  // `!= ""` drops every line
      continue;                            // `|= ""` keeps every line
    }
    if (clause.terms.empty()) {
      // No operands: a positive filter matches nothing, a negative one everything.
      if (!clause.negate) f.never_ = true;
      continue;
    }
    compiled.push_back(std::make_shared<internal::CompiledClause>(std::move(clause)));
  }
  // Cheap clauses first (AND is order-independent: filters have no side effects).
  std::stable_sort(compiled.begin(), compiled.end(),
                   [](const auto& a, const auto& b) { return a->Cost() < b->Cost(); });
  // Select() runs one all-literal clause over the whole buffer: a positive one
  // if there is any, else a negative one (whose hits are the lines to drop).
  for (int pass = 0; pass < 2 && f.driver_ < 0; pass++) {
    for (size_t i = 0; i < compiled.size(); i++) {
      if (compiled[i]->AllLiteral() && compiled[i]->negate == (pass == 1)) {
        f.driver_ = static_cast<int>(i);
        break;
      }
    }
  }
  for (auto& c : compiled) f.clauses_.push_back(std::move(c));
  return f;
}

LiteralRequirement LineFilter::Requirement() const {
  using internal::RequirementNode;
  RequirementNode root;
  if (never_) {
    root.kind = RequirementNode::Kind::kFalse;
  } else {
    std::vector<RequirementNode> clauses;
    for (const auto& c : clauses_) clauses.push_back(internal::ClauseRequirement(*c));
    root = internal::Combine(RequirementNode::Kind::kAnd, std::move(clauses));
  }
  if (root.kind == RequirementNode::Kind::kTrue) return LiteralRequirement();
  return LiteralRequirement(std::make_shared<const RequirementNode>(std::move(root)));
}

bool LineFilter::Matches(std::string_view line) const {
  if (never_) return false;
  for (const auto& c : clauses_) {
    if (!c->Eval(line)) return false;
  }
  return true;
}

size_t LineFilter::Select(std::string_view lines_data, std::span<const uint32_t> offsets,
                          std::vector<uint32_t>* matching_indices) const {
  matching_indices->clear();
  if (offsets.size() < 2 || never_) return 0;
  const size_t n = offsets.size() - 1;
  auto line_at = [&](size_t i) {
    return std::string_view(lines_data.data() + offsets[i], offsets[i + 1] - offsets[i]);
  };
  if (clauses_.empty()) {
    matching_indices->resize(n);
    for (size_t i = 0; i < n; i++) (*matching_indices)[i] = static_cast<uint32_t>(i);
    return n;
  }
  if (driver_ < 0) {
    for (size_t i = 0; i < n; i++) {
      if (Matches(line_at(i))) matching_indices->push_back(static_cast<uint32_t>(i));
    }
    return matching_indices->size();
  }

  const internal::CompiledClause& driver = *clauses_[static_cast<size_t>(driver_)];
  std::vector<uint32_t>& out = *matching_indices;
  if (driver.terms.size() == 1 && !driver.negate) {
    internal::BulkLiteral(*driver.terms[0].literal, lines_data, offsets, &out);
  } else {
    std::vector<uint8_t> marks(n, 0);
    std::vector<uint32_t> hits;
    for (const auto& t : driver.terms) {
      hits.clear();
      internal::BulkLiteral(*t.literal, lines_data, offsets, &hits);
      for (uint32_t h : hits) marks[h] = 1;
    }
    for (size_t i = 0; i < n; i++) {
      if ((marks[i] != 0) != driver.negate) out.push_back(static_cast<uint32_t>(i));
    }
  }
  if (clauses_.size() == 1) return out.size();
  size_t kept = 0;
  for (uint32_t idx : out) {
    std::string_view line = line_at(idx);
    bool ok = true;
    for (size_t c = 0; ok && c < clauses_.size(); c++) {
      if (static_cast<int>(c) != driver_) ok = clauses_[c]->Eval(line);
    }
    if (ok) out[kept++] = idx;
  }
  out.resize(kept);
  return kept;
}

}  // namespace skald::logql
