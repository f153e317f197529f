// Tests for LineFilter::Requirement (LiteralRequirement): the shape of the formula for each
// kind of filter, its soundness where RE2's Unicode case rules and our ASCII-only folding
// part ways, and a randomized check of the contract (a block holding a line that passes the
// filter is never skipped by the exact oracle) that also counts what gets skipped.
#include <gtest/gtest.h>

#include <cstdio>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/ascii.h"
#include "logql/line_filter.h"
#include "logql/parser.h"

namespace skald::logql {
namespace {

// UTF-8 of runes whose case rules differ between RE2 and an ASCII fold.
constexpr const char* kKelvin = "\xE2\x84\xAA";         // U+212A, Unicode lowercase `k`
constexpr const char* kLongS = "\xC5\xBF";              // U+017F, folds with `s`
constexpr const char* kSmallE = "\xC3\xA9";             // é
constexpr const char* kCapitalE = "\xC3\x89";           // É
constexpr const char* kSharpS = "\xC3\x9F";             // ß
constexpr const char* kCapitalSharpS = "\xE1\xBA\x9E";  // ẞ

// Parses a log query and compiles its leading line filters (the ones a LogSelector keeps in
// line_filters; the generated queries have no other stages).
StatusOr<LineFilter> CompileQuery(std::string_view q) {
  auto e = ParseExpr(q);
  if (!e.ok()) return e.status();
  const LogSelector* sel = AsLogSelector(**e);
  if (sel == nullptr) return Status::InvalidArgument("not a log query");
  return LineFilter::Compile(sel->line_filters);
}

LiteralRequirement Req(const std::string& q) {
  auto f = CompileQuery(q);
  EXPECT_TRUE(f.ok()) << q << ": " << f.status().message();
  return f.ok() ? f->Requirement() : LiteralRequirement();
}

std::string Debug(const std::string& filters) { return Req(R"({a="b"} )" + filters).DebugString(); }

// "Some line of the block contains lit, ASCII-case-insensitively": the tightest answer a
// per-block filter may give.
struct ExactOracle {
  explicit ExactOracle(const std::vector<std::string>& lines) {
    for (const auto& l : lines) lowered.push_back(AsciiLower(l));
  }
  bool operator()(std::string_view lit) const {
    for (const auto& l : lowered) {
      if (l.find(lit) != std::string::npos) return true;
    }
    return false;
  }
  std::vector<std::string> lowered;
};

TEST(LiteralRequirementTest, DebugStringShapes) {
  EXPECT_EQ(Debug(R"(|= "Error")"), R"("error")");
  EXPECT_EQ(Debug(R"(|= "a" or "b")"), R"(or("a", "b"))");
  EXPECT_EQ(Debug(R"(|= "x" != "y")"), R"("x")");
  EXPECT_EQ(Debug(R"(|= "x" |= "Y" or "z")"), R"(and("x", or("y", "z")))");
  EXPECT_EQ(Debug(R"(|~ "error|fail")"), R"(or("error", "fail"))");
  EXPECT_EQ(Debug(R"(|~ "(?i)timeout")"), R"("timeout")");
  EXPECT_EQ(Debug(R"(|~ "err.*or")"), R"(re2("err.*or", atoms: "err"))");
  EXPECT_EQ(Debug(R"(|> "<_> GET <_> HTTP")"), R"(and(" get ", " http"))");
  EXPECT_EQ(Debug(R"(|= "a" |= "A")"), R"("a")");  // repeated literals are dropped
}

TEST(LiteralRequirementTest, TrivialAndNever) {
  auto ip = Req(R"({a="b"} |= ip("10.0.0.1"))");
  EXPECT_TRUE(ip.Trivial());
  EXPECT_FALSE(ip.Never());
  EXPECT_EQ(ip.DebugString(), "true");

  auto never = Req(R"({a="b"} != "")");
  EXPECT_TRUE(never.Never());
  EXPECT_FALSE(never.Trivial());
  EXPECT_EQ(never.DebugString(), "false");
  EXPECT_FALSE(never.MayMatch([](std::string_view) { return true; }));
  EXPECT_FALSE(never.MayMatch(nullptr));
  // No answers to ask (an empty function) rule nothing else out.
  EXPECT_TRUE(Req(R"({a="b"} |= "x")").MayMatch(nullptr));

  auto none = Req(R"({a="b"})");
  EXPECT_TRUE(none.Trivial());
  EXPECT_EQ(none.DebugString(), "true");
  EXPECT_TRUE(none.MayMatch([](std::string_view) { return false; }));

  LiteralRequirement dflt;
  EXPECT_TRUE(dflt.Trivial());
  EXPECT_FALSE(dflt.Never());
  EXPECT_TRUE(dflt.MayMatch([](std::string_view) { return false; }));

  // Each of these keeps lines that lack any particular literal.
  for (const char* q : {R"({a="b"} != "x" !~ "y.*z" !> "<_>q")", R"({a="b"} |= "" |~ ".*")",
                        R"({a="b"} |~ ".+")", R"({a="b"} |~ "\\d+")", R"({a="b"} |= "x" or "")",
                        R"({a="b"} |= "x" or ip("10.0.0.0/8"))", R"({a="b"} |> "<_>")"}) {
    auto r = Req(q);
    EXPECT_TRUE(r.Trivial()) << q << " -> " << r.DebugString();
  }
}

TEST(LiteralRequirementTest, MayMatchAsksForTheLiterals) {
  auto r = Req(R"({a="b"} |= "GET" |= "500" or "503" != "health")");
  EXPECT_EQ(r.DebugString(), R"(and("get", or("500", "503")))");
  auto with = [](std::set<std::string> present) {
    return [present = std::move(present)](std::string_view lit) {
      return present.count(std::string(lit)) != 0;
    };
  };
  EXPECT_TRUE(r.MayMatch(with({"get", "503"})));
  EXPECT_TRUE(r.MayMatch(with({"get", "500", "health"})));
  EXPECT_FALSE(r.MayMatch(with({"get"})));
  EXPECT_FALSE(r.MayMatch(with({"500", "503"})));

  auto pat = Req(R"({a="b"} |> "<_> GET <_> HTTP/1.1")");
  EXPECT_TRUE(pat.MayMatch(with({" get ", " http/1.1"})));
  EXPECT_FALSE(pat.MayMatch(with({" get "})));
}

TEST(LiteralRequirementTest, RegexUsesThePrefilter) {
  auto r = Req(R"re({a="b"} |~ "timeout=\\d+ms|connection (refused|reset)")re");
  EXPECT_FALSE(r.Trivial());
  ExactOracle miss({"all good", "request served"});
  EXPECT_FALSE(r.MayMatch(miss));
  ExactOracle hit({"all good", "CONNECTION reset by peer"});
  EXPECT_TRUE(r.MayMatch(hit));
  ExactOracle timeout({"timeout=30ms"});
  EXPECT_TRUE(r.MayMatch(timeout));
}

// RE2 lowercases prefilter atoms with Unicode rules; the block filters fold ASCII only. Each
// line here matches its regex (checked), so the block must never be skipped.
TEST(LiteralRequirementTest, UnicodeCaseRulesDoNotSkipMatchingBlocks) {
  struct Case {
    std::string filter;
    std::string line;
  };
  const std::vector<Case> cases = {
      // (?i) `k` / `s` match the Kelvin sign / long s, which hold neither ASCII byte.
      {R"(|~ "(?i)kelvin\\d*")", std::string(kKelvin) + "elvin"},
      {R"(|~ "(?i)kel+vin")", std::string(kKelvin) + "ELvin"},
      {R"(|~ "(?i)stra.e")", std::string(kLongS) + "tra" + kCapitalSharpS + "e"},
      {R"(|~ "(?i)straße+")", std::string(kLongS) + "TRA" + kCapitalSharpS + "E"},
      {R"(|~ "(?i:abc[k])xyz")", std::string("ABC") + kKelvin + "xyz"},
      // A non-ASCII atom byte: RE2 lowered É to é in the atom.
      {R"(|~ "(?i)é+")", kCapitalE},
      {R"(|~ "(?i)abcé+xyz")", std::string("ABC") + kCapitalE + "XYZ"},
      // Case-sensitive, but the runes themselves lower to `k` / `s` in RE2's atoms.
      {R"(|~ "\\x{212A}elvin+")", std::string(kKelvin) + "elvin"},
      {R"(|~ "\\x{17F}tra+")", std::string(kLongS) + "tra"},
      {std::string(R"(|~ ")") + kKelvin + R"(elvin\\d*")", std::string(kKelvin) + "elvin"},
      {std::string(R"(|~ ")") + kLongS + R"(traße+")", std::string(kLongS) + "tra" + kSharpS + "e"},
  };
  for (const Case& c : cases) {
    auto f = CompileQuery(R"({a="b"} )" + c.filter);
    ASSERT_TRUE(f.ok()) << c.filter << ": " << f.status().message();
    ASSERT_TRUE(f->Matches(c.line)) << c.filter;
    auto r = f->Requirement();
    EXPECT_TRUE(r.MayMatch(ExactOracle({c.line}))) << c.filter << " -> " << r.DebugString();
  }
  // The untrusted bytes are cut out of the atoms; the rest is still required.
  EXPECT_EQ(Debug(R"(|~ "(?i)kelvin.+")"), R"(re2("(?i)kelvin.+", atoms: "kelvin"~"elvin"))");
  EXPECT_EQ(Debug(R"(|~ "abcéxyz.+")"), R"(re2("abcéxyz.+", atoms: "abcéxyz"~and("abc", "xyz")))");
  EXPECT_EQ(Debug(R"(|~ "(?i)straße+")"), R"(re2("(?i)straße+", atoms: "straß"~"tra"))");
  // Without any way to name those runes, `k` and `s` are trusted.
  EXPECT_EQ(Debug(R"(|~ "kelvins.+")"), R"(re2("kelvins.+", atoms: "kelvins"))");
  auto r = Req(R"({a="b"} |~ "(?i)kelvin.+")");
  EXPECT_FALSE(r.MayMatch(ExactOracle({"kelvi", "no"})));
}

// ---------------------------------------------------------------------------
// Randomized contract check

// Runes the generator builds values and lines from: no regex metacharacters, no backtick
// (values are written as raw strings), no `<` (pattern captures), plus the runes whose
// Unicode case rules differ from an ASCII fold.
const std::vector<std::string> kRunes = {
    "a", "b", "c", "e", "r", "o",     "k",    "s",     "t",       "x",     "A",           "E",
    "K", "S", " ", "1", "-", kKelvin, kLongS, kSmallE, kCapitalE, kSharpS, kCapitalSharpS};

// Other spellings of a rune under Unicode simple case folding (what RE2's (?i) accepts).
std::vector<std::string> CaseVariants(const std::string& r) {
  if (r == "k" || r == "K" || r == kKelvin) return {"k", "K", kKelvin};
  if (r == "s" || r == "S" || r == kLongS) return {"s", "S", kLongS};
  if (r == kSmallE || r == kCapitalE) return {kSmallE, kCapitalE};
  if (r == kSharpS || r == kCapitalSharpS) return {kSharpS, kCapitalSharpS};
  // Other ASCII letters: flipping bit 0x20 changes the case.
  if (r.size() == 1 && ((r[0] >= 'a' && r[0] <= 'z') || (r[0] >= 'A' && r[0] <= 'Z'))) {
    return {r, std::string(1, static_cast<char>(r[0] ^ 0x20))};
  }
  return {r};
}

class Gen {
 public:
  explicit Gen(uint32_t seed) : rng_(seed) {}
  int Uniform(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }
  bool Chance(int percent) { return Uniform(100) < percent; }
  const std::string& Rune() {
    return kRunes[static_cast<size_t>(Uniform(static_cast<int>(kRunes.size())))];
  }
  std::string Variant(const std::string& r) {
    auto v = CaseVariants(r);
    return v[static_cast<size_t>(Uniform(static_cast<int>(v.size())))];
  }

  // A value and a text it should be found in (the "witness"), as runes.
  struct Value {
    std::string text;
    std::vector<std::string> witness;
  };

  Value Literal() {
    Value v;
    for (int n = 1 + Uniform(5); n > 0; n--) {
      v.witness.push_back(Rune());
      v.text += v.witness.back();
    }
    return v;
  }

  Value Regex() {
    Value v;
    bool ci = Chance(20);
    if (ci) v.text = "(?i)";
    Alternation(0, ci, &v);
    return v;
  }

  Value Pattern() {
    Value v;
    bool capture = Chance(40);
    for (int n = 1 + Uniform(4); n > 0; n--, capture = !capture) {
      if (capture) {
        v.text += "<_>";
        for (int k = 1 + Uniform(2); k > 0; k--) v.witness.push_back(Rune());
      } else {
        for (int k = 1 + Uniform(4); k > 0; k--) {
          v.witness.push_back(Rune());
          v.text += v.witness.back();
        }
      }
    }
    return v;
  }

 private:
  void Alternation(int depth, bool ci, Value* out) {
    const int n = Chance(25) ? 2 : 1;
    const int pick = Uniform(n);
    for (int i = 0; i < n; i++) {
      if (i != 0) out->text += "|";
      Value branch;
      for (int k = 2 + Uniform(7); k > 0; k--) Item(depth, ci, &branch);
      out->text += branch.text;
      if (i == pick)
        out->witness.insert(out->witness.end(), branch.witness.begin(), branch.witness.end());
    }
  }

  void Item(int depth, bool ci, Value* out) {
    Value atom;
    const int r = Uniform(100);
    auto fold = [&](const std::string& s) { return ci ? Variant(s) : s; };
    if (r < 55 || (depth >= 2 && r >= 80)) {  // a rune; groups nest at most twice
      atom.text = Rune();
      atom.witness.push_back(fold(atom.text));
    } else if (r < 61) {
      atom.text = "[a-c]";
      atom.witness.push_back(fold(std::string(1, static_cast<char>('a' + Uniform(3)))));
    } else if (r < 64) {
      atom.text = "\\d";
      atom.witness.emplace_back(1, static_cast<char>('0' + Uniform(10)));
    } else if (r < 67) {
      atom.text = ".";
      atom.witness.push_back(Rune());
    } else if (r < 70) {
      atom.text = "\\x{212A}";
      atom.witness.push_back(fold(kKelvin));
    } else if (r < 72) {
      atom.text = "\\x{17F}";
      atom.witness.push_back(fold(kLongS));
    } else if (r < 74) {
      atom.text = "\\577";  // octal U+017F
      atom.witness.push_back(fold(kLongS));
    } else if (r < 76) {
      atom.text = "[^a]";
      atom.witness.push_back(fold("b"));
    } else if (r < 78) {
      atom.text = Chance(80) ? "\\w" : "\\pL";  // \pL is slow to compile: keep it rare
      atom.witness.push_back(fold("e"));
    } else if (r < 80) {
      atom.text = "\\b";  // no text; the witness may or may not satisfy it
    } else if (r < 90) {
      atom.text = "(";
      Alternation(depth + 1, ci, &atom);
      atom.text += ")";
    } else {
      atom.text = "(?i:";
      Alternation(depth + 1, true, &atom);
      atom.text += ")";
    }
    int reps = 1;
    switch (atom.text == "\\b" ? 0 : Uniform(10)) {
      case 6:
        atom.text += "+";
        reps = 1 + Uniform(2);
        break;
      case 7:
        atom.text += "?";
        reps = Uniform(2);
        break;
      case 8:
        atom.text += "*";
        reps = Uniform(3);
        break;
      case 9:
        atom.text += "{2}";
        reps = 2;
        break;
      default:
        break;
    }
    out->text += atom.text;
    for (int i = 0; i < reps; i++) {
      out->witness.insert(out->witness.end(), atom.witness.begin(), atom.witness.end());
    }
  }

  std::mt19937 rng_;
};

std::string Escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02x", u);
      out += buf;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

TEST(LiteralRequirementTest, RandomFiltersNeverSkipMatchingBlocks) {
  Gen g(20240611);
  const std::vector<std::string> ops_pos = {"|=", "|~", "|>"};
  const std::vector<std::string> ops_neg = {"!=", "!~", "!>"};
  int compiled = 0, matching_blocks = 0, other_blocks = 0, skipped = 0, trivial = 0;
  int with_prefilter = 0;  // requirements holding an RE2 prefilter leaf
  int failures = 0;
  for (int iter = 0; iter < 4000 && failures < 5; iter++) {
    std::string query = R"({a="b"})";
    std::vector<std::vector<std::string>> witnesses;  // one per positive filter
    for (int nf = 1 + g.Uniform(3); nf > 0; nf--) {
      const bool neg = g.Chance(20);
      const int kind = g.Uniform(10) < 4 ? 0 : (g.Uniform(10) < 6 ? 1 : 2);  // =, ~, >
      query += " " + (neg ? ops_neg : ops_pos)[static_cast<size_t>(kind)] + " ";
      std::vector<Gen::Value> values;
      for (int nv = g.Chance(30) ? 2 : 1; nv > 0; nv--) {
        if (kind == 0 && g.Chance(5)) {
          values.push_back(Gen::Value{R"(ip("10.0.0.1"))", {"10.0.0.1"}});
          continue;
        }
        Gen::Value v = kind == 0 ? g.Literal() : kind == 1 ? g.Regex() : g.Pattern();
        v.text = "`" + v.text + "`";
        values.push_back(std::move(v));
      }
      for (size_t i = 0; i < values.size(); i++) query += (i ? " or " : "") + values[i].text;
      if (!neg) {
        const auto pick = static_cast<size_t>(g.Uniform(static_cast<int>(values.size())));
        witnesses.push_back(values[pick].witness);
      }
    }
    auto f = CompileQuery(query);
    if (!f.ok()) continue;
    compiled++;
    const LiteralRequirement req = f->Requirement();
    trivial += req.Trivial() ? 1 : 0;
    with_prefilter += req.DebugString().find("re2(") != std::string::npos ? 1 : 0;

    for (int block = 0; block < 3; block++) {
      std::vector<std::string> lines;
      for (int nl = 1 + g.Uniform(5); nl > 0; nl--) {
        std::string line;
        if (g.Chance(60)) {
          // Most filters' witnesses, runes sometimes swapped for a case variant or another rune.
          for (const auto& w : witnesses) {
            if (!g.Chance(85)) continue;
            for (int k = g.Uniform(3); k > 0; k--) line += g.Rune();
            for (const auto& r : w) {
              const int m = g.Uniform(100);
              line += m < 8 ? g.Variant(r) : m < 11 ? g.Rune() : r;
            }
          }
        } else {
          for (int k = g.Uniform(11); k > 0; k--) line += g.Rune();
        }
        lines.push_back(std::move(line));
      }
      bool any = false;
      for (const auto& l : lines) any = any || f->Matches(l);
      const ExactOracle oracle(lines);
      const bool may = req.MayMatch(oracle);
      if (any) {
        matching_blocks++;
        EXPECT_FALSE(req.Never()) << query;
        if (!may) {
          failures++;
          std::string shown;
          for (const auto& l : lines) shown += "\n  line: " + Escape(l);
          ADD_FAILURE() << "skipped a matching block\n  query: " << Escape(query)
                        << "\n  requirement: " << req.DebugString() << shown;
        }
      } else {
        other_blocks++;
        skipped += may ? 0 : 1;
      }
      if (req.Trivial()) {
        EXPECT_TRUE(req.MayMatch([](std::string_view) { return false; })) << query;
      }
    }
  }
  std::printf(
      "compiled %d queries (%d trivial, %d with an RE2 prefilter); %d matching blocks; %d of %d "
      "non-matching blocks skipped (%.1f%%)\n",
      compiled, trivial, with_prefilter, matching_blocks, skipped, other_blocks,
      other_blocks ? 100.0 * skipped / other_blocks : 0.0);
  EXPECT_GT(compiled, 2000);
  EXPECT_GT(with_prefilter, 300);
  EXPECT_GT(matching_blocks, 1000);
  EXPECT_GT(skipped, 0);
}

}  // namespace
}  // namespace skald::logql
