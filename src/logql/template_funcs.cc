// The template function library: Go's text/template builtins, Loki's LogQL functions and
// the sprig subset Loki exposes (docs/logql.md lists them). Signatures are Go's (they decide
// the argument checks and messages); sprig's loose conversions (toInt64/toFloat64 via
// spf13/cast) are reproduced from their documented behaviour.
#include <re2/re2.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <unordered_map>

#include "core/utf8.h"
#include "logql/regex_util.h"
#include "logql/template_internal.h"

namespace skald::logql::internal {

std::string_view ParamTypeName(ParamType t) {
  switch (t) {
    case ParamType::kAny:
      return "interface {}";
    case ParamType::kValue:
      return "reflect.Value";
    case ParamType::kString:
      return "string";
    case ParamType::kInt:
      return "int";
    case ParamType::kFloat:
      return "float64";
    case ParamType::kBool:
      return "bool";
    case ParamType::kTime:
      return "time.Time";
  }
  return "?";
}

namespace {

using P = ParamType;

Status Err(std::string msg) { return Status::InvalidArgument(std::move(msg)); }

Status TooBig() { return Err("result exceeds " + std::to_string(kMaxValueBytes) + " bytes"); }

// ---- conversions (spf13/cast as sprig uses it) ----

// cast's trimZeroDecimal: "12.000" -> "12".
std::string_view TrimZeroDecimal(std::string_view s) {
  bool found_zero = false;
  for (size_t i = s.size(); i > 0; --i) {
    char c = s[i - 1];
    if (c == '.') {
      if (found_zero) return s.substr(0, i - 1);
    } else if (c == '0') {
      found_zero = true;
    } else {
      return s;
    }
  }
  return s;
}

// strconv.ParseInt(s, 0, 64).
bool ParseIntBase0(std::string_view s, int64_t* out) {
  bool neg = false;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  int base = 10;
  if (s.size() > 1 && s[0] == '0') {
    char p = s[1] | 0x20;
    if (p == 'x') {
      base = 16;
      s.remove_prefix(2);
    } else if (p == 'o') {
      base = 8;
      s.remove_prefix(2);
    } else if (p == 'b') {
      base = 2;
      s.remove_prefix(2);
    } else {
      base = 8;
      s.remove_prefix(1);
    }
  }
  std::string clean;
  for (char c : s) {
    if (c != '_') clean.push_back(c);
  }
  if (clean.empty()) return false;
  uint64_t u;
  auto r = std::from_chars(clean.data(), clean.data() + clean.size(), u, base);
  if (r.ec != std::errc() || r.ptr != clean.data() + clean.size()) return false;
  if (neg) {
    if (u > static_cast<uint64_t>(INT64_MAX) + 1) return false;
    *out = static_cast<int64_t>(0 - u);
  } else {
    if (u > static_cast<uint64_t>(INT64_MAX)) return false;
    *out = static_cast<int64_t>(u);
  }
  return true;
}

// strconv.ParseFloat(s, 64) (close enough: strtod without leading spaces).
bool ParseFloatGo(std::string_view s, double* out) {
  if (s.empty() || std::isspace(static_cast<unsigned char>(s[0]))) return false;
  std::string tmp(s);
  char* end = nullptr;
  double f = std::strtod(tmp.c_str(), &end);
  if (end != tmp.c_str() + tmp.size()) return false;
  *out = f;
  return true;
}

int64_t ToInt64(const Value& v) {
  switch (v.kind) {
    case Kind::kInt:
      return v.i;
    case Kind::kFloat:
      if (std::isnan(v.f)) return INT64_MIN;
      if (v.f >= 9.2233720368547758e18) return INT64_MIN;
      if (v.f <= -9.2233720368547758e18) return INT64_MIN;
      return static_cast<int64_t>(v.f);
    case Kind::kBool:
      return v.b ? 1 : 0;
    case Kind::kString: {
      int64_t r;
      if (ParseIntBase0(TrimZeroDecimal(v.str()), &r)) return r;
      return 0;
    }
    default:
      return 0;
  }
}

double ToFloat64(const Value& v) {
  switch (v.kind) {
    case Kind::kInt:
      return static_cast<double>(v.i);
    case Kind::kFloat:
      return v.f;
    case Kind::kBool:
      return v.b ? 1 : 0;
    case Kind::kString: {
      double f;
      if (ParseFloatGo(v.str(), &f)) return f;
      return 0;
    }
    default:
      return 0;
  }
}

bool Empty(const Value& v) {  // sprig's empty()
  switch (v.kind) {
    case Kind::kNil:
      return true;
    case Kind::kString:
      return v.str().empty();
    case Kind::kInt:
      return v.i == 0;
    case Kind::kFloat:
      return v.f == 0;
    case Kind::kBool:
      return !v.b;
    case Kind::kTime:
      return false;
    case Kind::kList:
      return !v.list || v.list->empty();
    case Kind::kMap:
    case Kind::kRoot:
      return !v.map || v.map->empty();
  }
  return true;
}

// ---- strings ----

// Simple case mapping: ASCII, Latin-1, Greek and Cyrillic basic letters.
uint32_t ToUpperRune(uint32_t r) {
  if (r >= 'a' && r <= 'z') return r - 32;
  if (r < 0x80) return r;
  if ((r >= 0xE0 && r <= 0xFE && r != 0xF7)) return r - 32;
  if (r == 0xFF) return 0x178;
  if (r >= 0x3B1 && r <= 0x3C9 && r != 0x3C2) return r - 32;
  if (r >= 0x430 && r <= 0x44F) return r - 32;
  if (r >= 0x450 && r <= 0x45F) return r - 80;
  if (r >= 0x100 && r <= 0x17F && r != 0x130 && r != 0x131 && r != 0x138 && r != 0x149 &&
      r != 0x17F) {
    // Latin Extended-A pairs: upper is even below 0x138 and odd from 0x139 (and 0x179+).
    if ((r < 0x138 && (r & 1)) || (r > 0x138 && r < 0x149 && !(r & 1)) ||
        (r > 0x149 && r < 0x178 && (r & 1)) || (r > 0x178 && !(r & 1))) {
      return r - 1;
    }
  }
  return r;
}

uint32_t ToLowerRune(uint32_t r) {
  if (r >= 'A' && r <= 'Z') return r + 32;
  if (r < 0x80) return r;
  if (r >= 0xC0 && r <= 0xDE && r != 0xD7) return r + 32;
  if (r == 0x178) return 0xFF;
  if (r >= 0x391 && r <= 0x3A9 && r != 0x3A2) return r + 32;
  if (r >= 0x410 && r <= 0x42F) return r + 32;
  if (r >= 0x400 && r <= 0x40F) return r + 80;
  if (r >= 0x100 && r <= 0x17F && r != 0x130 && r != 0x131 && r != 0x138 && r != 0x149 &&
      r != 0x17F) {
    if ((r < 0x138 && !(r & 1)) || (r > 0x138 && r < 0x149 && (r & 1)) ||
        (r > 0x149 && r < 0x178 && !(r & 1)) || (r > 0x178 && (r & 1))) {
      return r + 1;
    }
  }
  return r;
}

std::string MapRunes(std::string_view s, uint32_t (*fn)(uint32_t)) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      out.push_back(static_cast<char>(fn(c)));
      ++i;
      continue;
    }
    uint32_t r;
    size_t n = DecodeRune(s, i, &r);
    if (r == 0xFFFD && n == 1) {
      out.append("\xEF\xBF\xBD");  // Go maps invalid bytes to U+FFFD
    } else {
      AppendRune(fn(r), &out);
    }
    i += n;
  }
  return out;
}

// strings.Title's word separators: ASCII except letters, digits and '_'; above ASCII,
// spaces (letters and digits are not separators, other symbols are not either).
bool IsTitleSeparator(uint32_t r) {
  if (r <= 0x7F) return !(std::isalnum(static_cast<int>(r)) || r == '_');
  return IsUnicodeSpace(r);
}

// strings.Title: upper-case the first letter of each word.
std::string Title(std::string_view s) {
  std::string out;
  bool prev_sep = true;
  for (size_t i = 0; i < s.size();) {
    uint32_t r;
    size_t n = DecodeRune(s, i, &r);
    if (prev_sep && !(r == 0xFFFD && n == 1)) {
      AppendRune(ToUpperRune(r), &out);
    } else {
      out.append(s.substr(i, n));
    }
    prev_sep = IsTitleSeparator(r);
    i += n;
  }
  return out;
}

bool InCutset(uint32_t r, std::string_view cutset) {
  for (size_t i = 0; i < cutset.size();) {
    uint32_t c;
    i += DecodeRune(cutset, i, &c);
    if (c == r) return true;
  }
  return false;
}

std::string_view TrimLeftSet(std::string_view s, std::string_view cutset) {
  while (!s.empty()) {
    uint32_t r;
    size_t n = DecodeRune(s, 0, &r);
    if (!InCutset(r, cutset)) break;
    s.remove_prefix(n);
  }
  return s;
}

// Start of the last rune of s.
size_t LastRuneStart(std::string_view s) {
  size_t i = s.size() - 1;
  size_t lim = s.size() >= 4 ? s.size() - 4 : 0;
  while (i > lim && (static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) --i;
  uint32_t r;
  size_t n = DecodeRune(s, i, &r);
  if (i + n != s.size()) return s.size() - 1;
  return i;
}

std::string_view TrimRightSet(std::string_view s, std::string_view cutset) {
  while (!s.empty()) {
    size_t i = LastRuneStart(s);
    uint32_t r;
    DecodeRune(s, i, &r);
    if (!InCutset(r, cutset)) break;
    s = s.substr(0, i);
  }
  return s;
}

std::string_view TrimSpaceSv(std::string_view s) {
  while (!s.empty()) {
    uint32_t r;
    size_t n = DecodeRune(s, 0, &r);
    if (!IsUnicodeSpace(r)) break;
    s.remove_prefix(n);
  }
  while (!s.empty()) {
    size_t i = LastRuneStart(s);
    uint32_t r;
    DecodeRune(s, i, &r);
    if (!IsUnicodeSpace(r)) break;
    s = s.substr(0, i);
  }
  return s;
}

// strings.Replace(s, old, new, n).
Status ReplaceN(std::string_view s, std::string_view old, std::string_view nw, int64_t n,
                std::string* out) {
  if (n == 0 || old == nw) {
    out->assign(s);
    return Status::OK();
  }
  int64_t done = 0;
  size_t i = 0;
  if (old.empty()) {
    // Insert before every rune and at the end, up to n times.
    while (i <= s.size() && (n < 0 || done < n)) {
      out->append(nw);
      ++done;
      if (i == s.size()) {
        i = s.size() + 1;
        break;
      }
      uint32_t r;
      size_t l = DecodeRune(s, i, &r);
      out->append(s.substr(i, l));
      i += l;
      if (out->size() > kMaxValueBytes) return TooBig();
    }
    if (i <= s.size()) out->append(s.substr(i));
    return Status::OK();
  }
  while (n < 0 || done < n) {
    size_t j = s.find(old, i);
    if (j == std::string_view::npos) break;
    out->append(s.substr(i, j - i));
    out->append(nw);
    i = j + old.size();
    ++done;
    if (out->size() > kMaxValueBytes) return TooBig();
  }
  out->append(s.substr(i));
  return Status::OK();
}

Status Repeat(std::string_view s, int64_t count, std::string* out) {
  if (count < 0) return Err("strings: negative Repeat count");
  if (s.empty() || count == 0) return Status::OK();
  if (static_cast<uint64_t>(count) > kMaxValueBytes / s.size()) return TooBig();
  out->reserve(s.size() * count);
  for (int64_t k = 0; k < count; ++k) out->append(s);
  return Status::OK();
}

// ---- regexes (Go's Regexp.ReplaceAllString template expansion) ----

const RE2* GetRegex(const CallContext& ctx, const Value& pattern, std::unique_ptr<RE2>* holder,
                    std::string* err) {
  if (ctx.regex) return static_cast<const RE2*>(ctx.regex);
  if (!ctx.regex_error.empty()) {
    *err = std::string(ctx.regex_error);
    return nullptr;
  }
  RE2::Options opts;
  opts.set_log_errors(false);
  *holder = std::make_unique<RE2>(pattern.str(), opts);
  if (!(*holder)->ok()) {
    *err = GoRegexpError(pattern.str()).value_or("error parsing regexp");
    return nullptr;
  }
  return holder->get();
}

void Expand(std::string_view tmpl, const RE2& re, const re2::StringPiece* groups, int ngroups,
            std::string* out) {
  const auto& names = re.NamedCapturingGroups();
  for (size_t i = 0; i < tmpl.size();) {
    if (tmpl[i] != '$' || i + 1 >= tmpl.size()) {
      out->push_back(tmpl[i++]);
      continue;
    }
    if (tmpl[i + 1] == '$') {
      out->push_back('$');
      i += 2;
      continue;
    }
    std::string_view name;
    size_t next;
    if (tmpl[i + 1] == '{') {
      size_t close = tmpl.find('}', i + 2);
      if (close == std::string_view::npos) {
        out->push_back(tmpl[i++]);
        continue;
      }
      name = tmpl.substr(i + 2, close - i - 2);
      bool ok = !name.empty();
      for (char c : name) {
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) ok = false;
      }
      if (!ok) {
        out->push_back(tmpl[i++]);
        continue;
      }
      next = close + 1;
    } else {
      size_t j = i + 1;
      while (j < tmpl.size() &&
             (std::isalnum(static_cast<unsigned char>(tmpl[j])) || tmpl[j] == '_')) {
        ++j;
      }
      if (j == i + 1) {
        out->push_back(tmpl[i++]);
        continue;
      }
      name = tmpl.substr(i + 1, j - i - 1);
      next = j;
    }
    i = next;
    int idx = -1;
    bool numeric =
        std::all_of(name.begin(), name.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (numeric && !(name.size() > 1 && name[0] == '0')) {  // "$01" names no group
      if (name.size() <= 8) idx = std::atoi(std::string(name).c_str());
    } else if (!numeric) {
      auto it = names.find(std::string(name));
      if (it != names.end()) idx = it->second;
    }
    if (idx >= 0 && idx < ngroups && groups[idx].data() != nullptr) {
      out->append(groups[idx].data(), groups[idx].size());
    }
  }
}

// Go's regexp quote(): backquoted when possible, else strconv.Quote.
std::string RegexpQuote(std::string_view s) {
  bool can_backquote = true;
  for (size_t i = 0; i < s.size();) {
    uint32_t r;
    size_t n = DecodeRune(s, i, &r);
    if (r == '`' || r == 0xFEFF || (r == 0xFFFD && n == 1) || (r < ' ' && r != '\t') || r == 0x7F) {
      can_backquote = false;
    }
    i += n;
  }
  if (can_backquote) return "`" + std::string(s) + "`";
  std::string q;
  AppendGoQuote(s, &q);
  return q;
}

Status RegexReplace(const CallContext& ctx, Value* a, bool literal, Value* out) {
  std::unique_ptr<RE2> holder;
  std::string err;
  const RE2* re = GetRegex(ctx, a[0], &holder, &err);
  // Loki compiles with regexp.MustCompile: the panic text becomes the error.
  if (!re) return Err("regexp: Compile(" + RegexpQuote(a[0].str()) + "): " + err);
  std::string_view src = a[1].str();
  std::string_view repl = a[2].str();
  const int ngroups = re->NumberOfCapturingGroups() + 1;
  std::vector<re2::StringPiece> groups(ngroups);
  std::string res;
  size_t pos = 0;
  size_t last_match_end = std::string_view::npos;
  while (pos <= src.size()) {
    if (!re->Match(src, pos, src.size(), RE2::UNANCHORED, groups.data(), ngroups)) break;
    size_t ms = groups[0].data() - src.data();
    size_t me = ms + groups[0].size();
    // Go skips an empty match right after the previous match.
    if (groups[0].empty() && ms == last_match_end) {
      if (pos >= src.size()) break;
      uint32_t r;
      size_t l = DecodeRune(src, pos, &r);
      res.append(src.substr(pos, l));
      pos += l;
      continue;
    }
    res.append(src.substr(pos, ms - pos));
    if (literal) {
      res.append(repl);
    } else {
      Expand(repl, *re, groups.data(), ngroups, &res);
    }
    if (res.size() > kMaxValueBytes) return TooBig();
    last_match_end = me;
    if (me > ms) {
      pos = me;
    } else {
      if (ms >= src.size()) {
        pos = src.size() + 1;
        break;
      }
      uint32_t r;
      size_t l = DecodeRune(src, ms, &r);
      res.append(src.substr(ms, l));
      pos = ms + l;
    }
  }
  if (pos <= src.size()) res.append(src.substr(pos));
  *out = Value::OwnedStr(std::move(res));
  return Status::OK();
}

// ---- builtins ----

enum class BK { kInvalid, kBool, kInt, kFloat, kString, kOther };
BK BasicKind(const Value& v) {
  switch (v.kind) {
    case Kind::kNil:
      return BK::kInvalid;
    case Kind::kBool:
      return BK::kBool;
    case Kind::kInt:
      return BK::kInt;
    case Kind::kFloat:
      return BK::kFloat;
    case Kind::kString:
      return BK::kString;
    default:
      return BK::kOther;
  }
}

Status EqImpl(const Value* a, size_t n, bool* truth) {
  if (n < 2) return Err("missing argument for comparison");
  const BK k1 = BasicKind(a[0]);
  for (size_t i = 1; i < n; ++i) {
    const BK k2 = BasicKind(a[i]);
    bool t = false;
    if (k1 != k2) {
      if (k1 != BK::kInvalid && k2 != BK::kInvalid) {
        return Err("incompatible types for comparison");
      }
    } else {
      switch (k1) {
        case BK::kBool:
          t = a[0].b == a[i].b;
          break;
        case BK::kInt:
          t = a[0].i == a[i].i;
          break;
        case BK::kFloat:
          t = a[0].f == a[i].f;
          break;
        case BK::kString:
          t = a[0].str() == a[i].str();
          break;
        case BK::kInvalid:
          t = true;
          break;
        case BK::kOther:
          if (a[0].kind == Kind::kTime && a[i].kind == Kind::kTime) {
            t = a[0].t.sec == a[i].t.sec && a[0].t.nsec == a[i].t.nsec &&
                a[0].t.offset == a[i].t.offset && std::strcmp(a[0].t.zone, a[i].t.zone) == 0;
          } else {
            std::string s;
            AppendValue(a[0], &s);
            return Err("non-comparable type " + s + ": " + std::string(GoTypeName(a[0])));
          }
          break;
      }
    }
    if (t) {
      *truth = true;
      return Status::OK();
    }
  }
  *truth = false;
  return Status::OK();
}

Status LtImpl(const Value& a, const Value& b, bool* truth) {
  const BK k1 = BasicKind(a), k2 = BasicKind(b);
  if (k1 == BK::kInvalid || k1 == BK::kOther || k2 == BK::kInvalid || k2 == BK::kOther) {
    return Err("invalid type for comparison");
  }
  if (k1 != k2) return Err("incompatible types for comparison");
  switch (k1) {
    case BK::kBool:
      return Err("invalid type for comparison");
    case BK::kInt:
      *truth = a.i < b.i;
      break;
    case BK::kFloat:
      *truth = a.f < b.f;
      break;
    case BK::kString:
      *truth = a.str() < b.str();
      break;
    default:
      break;
  }
  return Status::OK();
}

Status FnNot(const CallContext&, Value* a, size_t, Value* out) {
  *out = Value::Bool(!Truth(a[0]));
  return Status::OK();
}
Status FnAndOr(const CallContext&, Value*, size_t, Value*) {
  return Status::OK();  // evaluated by the executor (short circuit)
}
Status FnLen(const CallContext&, Value* a, size_t, Value* out) {
  switch (a[0].kind) {
    case Kind::kString:
      *out = Value::Int(static_cast<int64_t>(a[0].str().size()));
      break;
    case Kind::kList:
      *out = Value::Int(a[0].list ? a[0].list->size() : 0);
      break;
    case Kind::kMap:
      *out = Value::Int(a[0].map ? a[0].map->size() : 0);
      break;
    case Kind::kNil:
      return Err("len of nil pointer");
    default:
      return Err("len of type " + std::string(GoTypeName(a[0])));
  }
  return Status::OK();
}

Status IndexArg(const Value& idx, size_t cap, int64_t* x) {
  if (idx.kind == Kind::kNil) return Err("cannot index slice/array with nil");
  if (idx.kind != Kind::kInt) {
    return Err("cannot index slice/array with type " + std::string(GoTypeName(idx)));
  }
  if (idx.i < 0 || static_cast<uint64_t>(idx.i) > cap) {
    return Err("index out of range: " + std::to_string(idx.i));
  }
  *x = idx.i;
  return Status::OK();
}

Status FnIndex(const CallContext&, Value* a, size_t n, Value* out) {
  Value item = a[0];
  if (item.kind == Kind::kNil) return Err("index of untyped nil");
  for (size_t k = 1; k < n; ++k) {
    const Value& idx = a[k];
    switch (item.kind) {
      case Kind::kNil:
        return Err("index of nil pointer");
      case Kind::kString:
      case Kind::kList: {
        const size_t len = item.kind == Kind::kString ? item.str().size() : item.list->size();
        int64_t x;
        SKALD_RETURN_IF_ERROR(IndexArg(idx, len, &x));
        if (static_cast<size_t>(x) == len) return Err("index out of range: " + std::to_string(x));
        if (item.kind == Kind::kString) {
          item = Value::Int(static_cast<unsigned char>(item.str()[x]));
        } else {
          Value elem = (*item.list)[x];  // copy first: assigning drops item's list
          item = std::move(elem);
        }
        break;
      }
      case Kind::kMap: {
        if (idx.kind != Kind::kString) {
          if (idx.kind == Kind::kNil) return Err("value is nil; should be of type string");
          return Err("value has type " + std::string(GoTypeName(idx)) + "; should be string");
        }
        std::string_view key = idx.str();
        auto it = std::lower_bound(
            item.map->begin(), item.map->end(), key,
            [](const auto& e, std::string_view k) { return std::string_view(e.first) < k; });
        if (it != item.map->end() && it->first == key) {
          Value elem = it->second;
          item = std::move(elem);
        } else if (item.b) {
          item = Value::Str("");
        } else {
          item = Value();
        }
        break;
      }
      default:
        return Err("can't index item of type " + std::string(GoTypeName(item)));
    }
  }
  *out = item;
  return Status::OK();
}

Status FnSlice(const CallContext&, Value* a, size_t n, Value* out) {
  const Value& item = a[0];
  if (item.kind == Kind::kNil) return Err("slice of untyped nil");
  const size_t nidx = n - 1;
  if (nidx > 3) return Err("too many slice indexes: " + std::to_string(nidx));
  size_t len;
  if (item.kind == Kind::kString) {
    if (nidx == 3) return Err("cannot 3-index slice a string");
    len = item.str().size();
  } else if (item.kind == Kind::kList) {
    len = item.list->size();
  } else {
    return Err("can't slice item of type " + std::string(GoTypeName(item)));
  }
  int64_t idx[3] = {0, static_cast<int64_t>(len), static_cast<int64_t>(len)};
  for (size_t k = 0; k < nidx; ++k) SKALD_RETURN_IF_ERROR(IndexArg(a[k + 1], len, &idx[k]));
  if (idx[0] > idx[1]) {
    return Err("invalid slice index: " + std::to_string(idx[0]) + " > " + std::to_string(idx[1]));
  }
  if (nidx == 3 && idx[1] > idx[2]) {
    return Err("invalid slice index: " + std::to_string(idx[1]) + " > " + std::to_string(idx[2]));
  }
  if (item.kind == Kind::kString) {
    std::string_view s = item.str().substr(idx[0], idx[1] - idx[0]);
    *out = Value::OwnedStr(std::string(s));
  } else {
    auto l = std::make_shared<ValueList>(item.list->begin() + idx[0], item.list->begin() + idx[1]);
    Value r;
    r.kind = Kind::kList;
    r.list = std::move(l);
    *out = std::move(r);
  }
  return Status::OK();
}

Status FnPrint(const CallContext&, Value* a, size_t n, Value* out) {
  std::string s;
  AppendSprint(a, n, &s);
  *out = Value::OwnedStr(std::move(s));
  return Status::OK();
}
Status FnPrintln(const CallContext&, Value* a, size_t n, Value* out) {
  std::string s;
  AppendSprintln(a, n, &s);
  *out = Value::OwnedStr(std::move(s));
  return Status::OK();
}
Status FnPrintf(const CallContext&, Value* a, size_t n, Value* out) {
  std::string s;
  AppendSprintf(a[0].str(), a + 1, n - 1, &s);
  *out = Value::OwnedStr(std::move(s));
  return Status::OK();
}

// text/template's evalArgs: a lone string argument as is, else fmt.Sprint.
std::string EvalArgs(Value* a, size_t n) {
  if (n == 1 && a[0].kind == Kind::kString) return std::string(a[0].str());
  std::string s;
  AppendSprint(a, n, &s);
  return s;
}

Status FnHTML(const CallContext&, Value* a, size_t n, Value* out) {
  std::string s = EvalArgs(a, n), r;
  for (char c : s) {
    switch (c) {
      case '"':
        r += "&#34;";
        break;
      case '\'':
        r += "&#39;";
        break;
      case '&':
        r += "&amp;";
        break;
      case '<':
        r += "&lt;";
        break;
      case '>':
        r += "&gt;";
        break;
      case '\0':
        r += "\xEF\xBF\xBD";
        break;
      default:
        r.push_back(c);
    }
  }
  *out = Value::OwnedStr(std::move(r));
  return Status::OK();
}

Status FnJS(const CallContext&, Value* a, size_t n, Value* out) {
  std::string s = EvalArgs(a, n), r;
  char buf[8];
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      switch (c) {
        case '\\':
          r += "\\\\";
          break;
        case '\'':
          r += "\\'";
          break;
        case '"':
          r += "\\\"";
          break;
        case '<':
          r += "\\u003C";
          break;
        case '>':
          r += "\\u003E";
          break;
        case '&':
          r += "\\u0026";
          break;
        case '=':
          r += "\\u003D";
          break;
        default:
          if (c < ' ') {
            std::snprintf(buf, sizeof(buf), "\\u%04X", c);
            r += buf;
          } else {
            r.push_back(static_cast<char>(c));
          }
      }
      ++i;
      continue;
    }
    uint32_t rr;
    size_t l = DecodeRune(s, i, &rr);
    if (rr == 0x2028 || rr == 0x2029 || rr == 0xFEFF || (rr >= 0x80 && rr < 0xA0)) {
      std::snprintf(buf, sizeof(buf), "\\u%04X", rr);
      r += buf;
    } else {
      r.append(s, i, l);
    }
    i += l;
  }
  *out = Value::OwnedStr(std::move(r));
  return Status::OK();
}

void QueryEscape(std::string_view s, std::string* r) {
  static const char* kHex = "0123456789ABCDEF";
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      r->push_back(static_cast<char>(c));
    } else if (c == ' ') {
      r->push_back('+');
    } else {
      r->push_back('%');
      r->push_back(kHex[c >> 4]);
      r->push_back(kHex[c & 15]);
    }
  }
}

Status FnURLQuery(const CallContext&, Value* a, size_t n, Value* out) {
  std::string s = EvalArgs(a, n), r;
  QueryEscape(s, &r);
  *out = Value::OwnedStr(std::move(r));
  return Status::OK();
}

Status FnEq(const CallContext&, Value* a, size_t n, Value* out) {
  bool t;
  SKALD_RETURN_IF_ERROR(EqImpl(a, n, &t));
  *out = Value::Bool(t);
  return Status::OK();
}
Status FnNe(const CallContext&, Value* a, size_t n, Value* out) {
  bool t;
  SKALD_RETURN_IF_ERROR(EqImpl(a, n, &t));
  *out = Value::Bool(!t);
  return Status::OK();
}
Status FnLt(const CallContext&, Value* a, size_t, Value* out) {
  bool t = false;
  SKALD_RETURN_IF_ERROR(LtImpl(a[0], a[1], &t));
  *out = Value::Bool(t);
  return Status::OK();
}
Status FnLe(const CallContext&, Value* a, size_t, Value* out) {
  bool t = false;
  SKALD_RETURN_IF_ERROR(LtImpl(a[0], a[1], &t));
  if (!t) SKALD_RETURN_IF_ERROR(EqImpl(a, 2, &t));
  *out = Value::Bool(t);
  return Status::OK();
}
Status FnGt(const CallContext& c, Value* a, size_t n, Value* out) {
  SKALD_RETURN_IF_ERROR(FnLe(c, a, n, out));
  out->b = !out->b;
  return Status::OK();
}
Status FnGe(const CallContext& c, Value* a, size_t n, Value* out) {
  SKALD_RETURN_IF_ERROR(FnLt(c, a, n, out));
  out->b = !out->b;
  return Status::OK();
}
Status FnCall(const CallContext&, Value* a, size_t, Value*) {
  if (a[0].kind == Kind::kNil) return Err("call of nil");
  return Err("non-function of type " + std::string(GoTypeName(a[0])));
}

// ---- Loki ----

Status FnLine(const CallContext& c, Value*, size_t, Value* out) {
  *out = Value::Str(c.line);
  return Status::OK();
}

GoTime FromUnixNanos(int64_t ns) {
  GoTime t;
  int64_t s = ns / 1000000000;
  int64_t r = ns % 1000000000;
  if (r < 0) {
    r += 1000000000;
    --s;
  }
  t.sec = s;
  t.nsec = static_cast<int32_t>(r);
  return t;
}

Status FnTimestamp(const CallContext& c, Value*, size_t, Value* out) {
  *out = Value::Time(FromUnixNanos(c.ts_nanos));
  return Status::OK();
}

#define STR_FN(NAME, EXPR)                                        \
  Status NAME(const CallContext&, Value* a, size_t, Value* out) { \
    *out = Value::OwnedStr(EXPR);                                 \
    return Status::OK();                                          \
  }
// A result that is a substring of argument `src`: a view when the argument is itself a
// view (into the entry or the program), a copy when the argument owns its bytes.
Value SubOf(const Value& src, std::string_view sv) {
  return src.owned ? Value::OwnedStr(std::string(sv)) : Value::Str(sv);
}

#define VIEW_FN(NAME, SRC, EXPR)                                  \
  Status NAME(const CallContext&, Value* a, size_t, Value* out) { \
    std::string_view r = (EXPR);                                  \
    *out = SubOf(a[SRC], r);                                      \
    return Status::OK();                                          \
  }

STR_FN(FnToLower, MapRunes(a[0].str(), ToLowerRune))
STR_FN(FnToUpper, MapRunes(a[0].str(), ToUpperRune))
VIEW_FN(FnTrim, 0, TrimRightSet(TrimLeftSet(a[0].str(), a[1].str()), a[1].str()))
VIEW_FN(FnTrimLeft, 0, TrimLeftSet(a[0].str(), a[1].str()))
VIEW_FN(FnTrimRight, 0, TrimRightSet(a[0].str(), a[1].str()))
VIEW_FN(FnTrimPrefix, 0,
        a[0].str().starts_with(a[1].str()) ? a[0].str().substr(a[1].str().size()) : a[0].str())
VIEW_FN(FnTrimSuffix, 0,
        a[0].str().ends_with(a[1].str())
            ? a[0].str().substr(0, a[0].str().size() - a[1].str().size())
            : a[0].str())
VIEW_FN(FnTrimSpace, 0, TrimSpaceSv(a[0].str()))
// sprig: argument order (cutset/affix first, string last)
VIEW_FN(FnSprigTrimAll, 1, TrimRightSet(TrimLeftSet(a[1].str(), a[0].str()), a[0].str()))
VIEW_FN(FnSprigTrimPrefix, 1,
        a[1].str().starts_with(a[0].str()) ? a[1].str().substr(a[0].str().size()) : a[1].str())
VIEW_FN(FnSprigTrimSuffix, 1,
        a[1].str().ends_with(a[0].str())
            ? a[1].str().substr(0, a[1].str().size() - a[0].str().size())
            : a[1].str())
STR_FN(FnTitle, Title(a[0].str()))

Status FnReplace(const CallContext&, Value* a, size_t, Value* out) {
  std::string r;
  SKALD_RETURN_IF_ERROR(ReplaceN(a[0].str(), a[1].str(), a[2].str(), a[3].i, &r));
  *out = Value::OwnedStr(std::move(r));
  return Status::OK();
}
Status FnSprigReplace(const CallContext&, Value* a, size_t, Value* out) {
  std::string r;
  SKALD_RETURN_IF_ERROR(ReplaceN(a[2].str(), a[0].str(), a[1].str(), -1, &r));
  *out = Value::OwnedStr(std::move(r));
  return Status::OK();
}

Status FnRegexReplaceAll(const CallContext& c, Value* a, size_t, Value* out) {
  return RegexReplace(c, a, false, out);
}
Status FnRegexReplaceAllLiteral(const CallContext& c, Value* a, size_t, Value* out) {
  return RegexReplace(c, a, true, out);
}
Status FnCount(const CallContext& c, Value* a, size_t, Value* out) {
  std::unique_ptr<RE2> holder;
  std::string err;
  const RE2* re = GetRegex(c, a[0], &holder, &err);
  if (!re) return Err(err);
  std::string_view s = a[1].str();
  int64_t n = 0;
  size_t pos = 0;
  size_t last_end = std::string_view::npos;
  re2::StringPiece m;
  while (pos <= s.size()) {
    if (!re->Match(s, pos, s.size(), RE2::UNANCHORED, &m, 1)) break;
    size_t ms = m.data() - s.data(), me = ms + m.size();
    if (!(m.empty() && ms == last_end)) ++n;
    last_end = me;
    if (me > ms) {
      pos = me;
    } else {
      if (ms >= s.size()) break;
      uint32_t r;
      pos = ms + DecodeRune(s, ms, &r);
    }
  }
  *out = Value::Int(n);
  return Status::OK();
}

Status FnURLEncode(const CallContext&, Value* a, size_t, Value* out) {
  std::string r;
  QueryEscape(a[0].str(), &r);
  *out = Value::OwnedStr(std::move(r));
  return Status::OK();
}

Status FnURLDecode(const CallContext&, Value* a, size_t, Value* out) {
  std::string_view s = a[0].str();
  std::string r;
  auto hexv = [](char h) -> int {
    if (h >= '0' && h <= '9') return h - '0';
    if (h >= 'a' && h <= 'f') return h - 'a' + 10;
    if (h >= 'A' && h <= 'F') return h - 'A' + 10;
    return -1;
  };
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%') {
      if (i + 2 >= s.size() + 0 || hexv(s[i + 1]) < 0 || (i + 2 < s.size() && hexv(s[i + 2]) < 0) ||
          i + 2 >= s.size()) {
        std::string esc(s.substr(i, std::min<size_t>(3, s.size() - i)));
        std::string q;
        AppendGoQuote(esc, &q);
        return Err("invalid URL escape " + q);
      }
      r.push_back(static_cast<char>(hexv(s[i + 1]) * 16 + hexv(s[i + 2])));
      i += 2;
    } else if (s[i] == '+') {
      r.push_back(' ');
    } else {
      r.push_back(s[i]);
    }
  }
  *out = Value::OwnedStr(std::move(r));
  return Status::OK();
}

// go-humanize ParseBytes: "42 MB", "1.5KiB", "10" -> bytes.
Status FnBytes(const CallContext&, Value* a, size_t, Value* out) {
  std::string_view s = a[0].str();
  size_t i = 0;
  while (i < s.size() && ((s[i] >= '0' && s[i] <= '9') || s[i] == '.' || s[i] == ',')) ++i;
  std::string num;
  for (char c : s.substr(0, i)) {
    if (c != ',') num.push_back(c);
  }
  std::string_view rest = s.substr(i);
  while (!rest.empty() && rest[0] == ' ') rest.remove_prefix(1);
  std::string unit;
  for (char c : rest)
    unit.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  double f;
  if (!ParseFloatGo(num, &f)) {
    std::string q;
    AppendGoQuote(num, &q);
    return Err("strconv.ParseFloat: parsing " + q + ": invalid syntax");
  }
  static const std::pair<const char*, double> kUnits[] = {{"", 1},
                                                          {"b", 1},
                                                          {"kib", 1024.0},
                                                          {"kb", 1e3},
                                                          {"mib", 1048576.0},
                                                          {"mb", 1e6},
                                                          {"gib", 1073741824.0},
                                                          {"gb", 1e9},
                                                          {"tib", 1099511627776.0},
                                                          {"tb", 1e12},
                                                          {"pib", 1125899906842624.0},
                                                          {"pb", 1e15},
                                                          {"eib", 1152921504606846976.0},
                                                          {"eb", 1e18},
                                                          {"ki", 1024.0},
                                                          {"k", 1e3},
                                                          {"mi", 1048576.0},
                                                          {"m", 1e6},
                                                          {"gi", 1073741824.0},
                                                          {"g", 1e9},
                                                          {"ti", 1099511627776.0},
                                                          {"t", 1e12},
                                                          {"pi", 1125899906842624.0},
                                                          {"p", 1e15},
                                                          {"ei", 1152921504606846976.0},
                                                          {"e", 1e18}};
  for (const auto& [name, mult] : kUnits) {
    if (unit == name) {
      double v = f * mult;
      if (v >= 1.8446744073709552e19) return Err("too large: " + std::string(s));
      *out = Value::Int(static_cast<int64_t>(static_cast<uint64_t>(v)), true);
      return Status::OK();
    }
  }
  return Err("unhandled size name: " + unit);
}

Status FnDuration(const CallContext&, Value* a, size_t, Value* out) {
  int64_t ns;
  std::string err;
  if (!ParseGoDuration(a[0].str(), &ns, &err)) return Err(err);
  *out = Value::Float(static_cast<double>(ns) / 1e9);
  return Status::OK();
}

Status FnUnixEpochMillis(const CallContext&, Value* a, size_t, Value* out) {
  *out = Value::OwnedStr(std::to_string(a[0].t.sec * 1000 + a[0].t.nsec / 1000000));
  return Status::OK();
}
Status FnUnixEpochNanos(const CallContext&, Value* a, size_t, Value* out) {
  *out = Value::OwnedStr(std::to_string(a[0].t.sec * 1000000000 + a[0].t.nsec));
  return Status::OK();
}
Status FnUnixEpoch(const CallContext&, Value* a, size_t, Value* out) {
  *out = Value::OwnedStr(std::to_string(a[0].t.sec));
  return Status::OK();
}

// IANA zones come from the system tz database; Local is UTC on a Skald server. A zone that
// cannot be loaded means UTC, as in Loki.
Status FnToDateInZone(const CallContext&, Value* a, size_t, Value* out) {
  GoTime t;
  if (!ParseTime(a[0].str(), a[2].str(), &t, LoadZone(a[1].str()))) t = GoTime();
  *out = Value::Time(t);
  return Status::OK();
}
Status FnToDate(const CallContext&, Value* a, size_t, Value* out) {
  GoTime t;
  if (!ParseTime(a[0].str(), a[1].str(), &t)) t = GoTime();
  *out = Value::Time(t);
  return Status::OK();
}

GoTime Now() {
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                std::chrono::system_clock::now().time_since_epoch())
                .count();
  return FromUnixNanos(ns);
}

Status FnNow(const CallContext&, Value*, size_t, Value* out) {
  *out = Value::Time(Now());
  return Status::OK();
}

Status FnDate(const CallContext&, Value* a, size_t, Value* out) {
  GoTime t;
  if (a[1].kind == Kind::kTime) {
    t = a[1].t;
  } else if (a[1].kind == Kind::kInt) {
    t.sec = a[1].i;
    t.nsec = 0;
  } else {
    t = Now();  // sprig: any other type means "now"
  }
  t.SetZone("UTC", 0);  // sprig formats in Local, which is UTC here
  std::string s;
  AppendTimeFormat(t, a[0].str(), &s);
  if (s.size() > kMaxValueBytes) return TooBig();
  *out = Value::OwnedStr(std::move(s));
  return Status::OK();
}

Status FnUnixToTime(const CallContext&, Value* a, size_t, Value* out) {
  std::string_view e = a[0].str();
  int64_t v = 0;
  auto r = std::from_chars(e.data(), e.data() + e.size(), v);
  std::string q;
  AppendGoQuote(e, &q);
  if (e.empty() || r.ec != std::errc() || r.ptr != e.data() + e.size()) {
    return Err("unable to parse time '" + std::string(e) + "': strconv.ParseInt: parsing " + q +
               ": invalid syntax");
  }
  GoTime t;
  switch (e.size()) {
    case 5:
      t.sec = v * 86400;
      break;
    case 10:
      t.sec = v;
      break;
    case 13:
      t = FromUnixNanos(v * 1000000);
      break;
    case 16:
      t = FromUnixNanos(v * 1000);
      break;
    case 19:
      t = FromUnixNanos(v);
      break;
    default:
      return Err("unable to parse time '" + std::string(e) + "': unknown format");
  }
  t.SetZone("UTC", 0);
  *out = Value::Time(t);
  return Status::OK();
}

size_t RuneLen(std::string_view s) {
  size_t n = 0;
  for (size_t i = 0; i < s.size();) {
    uint32_t r;
    i += DecodeRune(s, i, &r);
    ++n;
  }
  return n;
}

Status Align(Value* a, bool left, Value* out) {
  const int64_t count = a[0].i;
  std::string_view src = a[1].str();
  const size_t n = RuneLen(src);
  if (count < 0 || n == static_cast<size_t>(count)) {
    *out = a[1];
    return Status::OK();
  }
  if (static_cast<uint64_t>(count) > kMaxValueBytes) return TooBig();
  std::string r;
  if (n > static_cast<size_t>(count)) {
    // Keep `count` runes: the first ones (left) or the last ones (right).
    size_t skip = left ? 0 : n - count, i = 0, k = 0, start = 0;
    for (; i < src.size() && k < skip; ++k) {
      uint32_t rr;
      i += DecodeRune(src, i, &rr);
    }
    start = i;
    for (k = 0; i < src.size() && k < static_cast<size_t>(count); ++k) {
      uint32_t rr;
      i += DecodeRune(src, i, &rr);
    }
    r.assign(src.substr(start, i - start));
  } else if (left) {
    r.assign(src);
    r.append(count - n, ' ');
  } else {
    r.assign(count - n, ' ');
    r.append(src);
  }
  *out = Value::OwnedStr(std::move(r));
  return Status::OK();
}
Status FnAlignLeft(const CallContext&, Value* a, size_t, Value* out) { return Align(a, true, out); }
Status FnAlignRight(const CallContext&, Value* a, size_t, Value* out) {
  return Align(a, false, out);
}

constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

Status FnB64Enc(const CallContext&, Value* a, size_t, Value* out) {
  std::string_view s = a[0].str();
  std::string r;
  size_t i = 0;
  for (; i + 2 < s.size(); i += 3) {
    uint32_t v = (static_cast<unsigned char>(s[i]) << 16) |
                 (static_cast<unsigned char>(s[i + 1]) << 8) | static_cast<unsigned char>(s[i + 2]);
    r.push_back(kB64[v >> 18]);
    r.push_back(kB64[(v >> 12) & 63]);
    r.push_back(kB64[(v >> 6) & 63]);
    r.push_back(kB64[v & 63]);
  }
  if (i < s.size()) {
    uint32_t v = static_cast<unsigned char>(s[i]) << 16;
    if (i + 1 < s.size()) v |= static_cast<unsigned char>(s[i + 1]) << 8;
    r.push_back(kB64[v >> 18]);
    r.push_back(kB64[(v >> 12) & 63]);
    r.push_back(i + 1 < s.size() ? kB64[(v >> 6) & 63] : '=');
    r.push_back('=');
  }
  if (r.size() > kMaxValueBytes) return TooBig();
  *out = Value::OwnedStr(std::move(r));
  return Status::OK();
}

// sprig's base64decode: on bad input the *result* is Go's error text.
Status FnB64Dec(const CallContext&, Value* a, size_t, Value* out) {
  std::string_view s = a[0].str();
  std::string r;
  uint32_t acc = 0;
  int bits = 0;
  size_t i = 0;
  auto bad = [&](size_t at) {
    *out = Value::OwnedStr("illegal base64 data at input byte " + std::to_string(at));
    return Status::OK();
  };
  size_t quantum_start = 0;
  int in_quantum = 0;
  for (; i < s.size(); ++i) {
    char c = s[i];
    if (c == '\r' || c == '\n') continue;
    if (c == '=') break;
    const char* p = std::strchr(kB64, c);
    if (!p || c == 0) return bad(i);
    if (in_quantum == 0) quantum_start = i;
    in_quantum = (in_quantum + 1) % 4;
    acc = (acc << 6) | static_cast<uint32_t>(p - kB64);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      r.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  (void)quantum_start;
  if (i < s.size()) {
    // Padding: exactly enough '=' to complete the quantum, then nothing.
    size_t pad = 0;
    size_t j = i;
    for (; j < s.size(); ++j) {
      if (s[j] == '\r' || s[j] == '\n') continue;
      if (s[j] != '=') return bad(j);
      ++pad;
    }
    if (in_quantum < 2 || pad != static_cast<size_t>(4 - in_quantum)) {
      return bad(in_quantum < 2 ? i : i + std::min<size_t>(pad, 4 - in_quantum));
    }
  } else if (in_quantum != 0) {
    return bad(s.size() - (in_quantum == 1 ? 1 : 0) - 0);
  }
  *out = Value::OwnedStr(std::move(r));
  return Status::OK();
}

STR_FN(FnLower, MapRunes(a[0].str(), ToLowerRune))
STR_FN(FnUpper, MapRunes(a[0].str(), ToUpperRune))

Status FnTrunc(const CallContext&, Value* a, size_t, Value* out) {
  const int64_t c = a[0].i;
  std::string_view s = a[1].str();
  const int64_t len = static_cast<int64_t>(s.size());
  if (c < 0 && len + c > 0) {
    *out = SubOf(a[1], s.substr(len + c));
  } else if (c >= 0 && len > c) {
    *out = SubOf(a[1], s.substr(0, c));
  } else {
    *out = a[1];
  }
  return Status::OK();
}

Status FnSubstr(const CallContext&, Value* a, size_t, Value* out) {
  const int64_t start = a[0].i, end = a[1].i;
  std::string_view s = a[2].str();
  const int64_t len = static_cast<int64_t>(s.size());
  auto oob = [&](int64_t x) {
    return Err("runtime error: slice bounds out of range [" + std::to_string(x) + ":" +
               std::to_string(len) + "]");
  };
  if (start < 0) {
    if (end < 0 || end > len)
      return Err("runtime error: slice bounds out of range [:" + std::to_string(end) +
                 "] with length " + std::to_string(len));
    *out = SubOf(a[2], s.substr(0, end));
  } else if (end < 0 || end > len) {
    if (start > len) return oob(start);
    *out = SubOf(a[2], s.substr(start));
  } else {
    if (start > end) {
      return Err("runtime error: slice bounds out of range [" + std::to_string(start) + ":" +
                 std::to_string(end) + "]");
    }
    *out = SubOf(a[2], s.substr(start, end - start));
  }
  return Status::OK();
}

Status FnContains(const CallContext&, Value* a, size_t, Value* out) {
  *out = Value::Bool(a[1].str().find(a[0].str()) != std::string_view::npos);
  return Status::OK();
}
Status FnHasPrefix(const CallContext&, Value* a, size_t, Value* out) {
  *out = Value::Bool(a[1].str().starts_with(a[0].str()));
  return Status::OK();
}
Status FnHasSuffix(const CallContext&, Value* a, size_t, Value* out) {
  *out = Value::Bool(a[1].str().ends_with(a[0].str()));
  return Status::OK();
}

Status IndentImpl(Value* a, bool newline, Value* out) {
  if (a[0].i < 0) return Err("strings: negative Repeat count");
  if (static_cast<uint64_t>(a[0].i) > kMaxValueBytes) return TooBig();
  std::string pad(a[0].i, ' ');
  std::string r = newline ? "\n" : "";
  r += pad;
  std::string rep;
  SKALD_RETURN_IF_ERROR(ReplaceN(a[1].str(), "\n", "\n" + pad, -1, &rep));
  r += rep;
  if (r.size() > kMaxValueBytes) return TooBig();
  *out = Value::OwnedStr(std::move(r));
  return Status::OK();
}
Status FnIndent(const CallContext&, Value* a, size_t, Value* out) {
  return IndentImpl(a, false, out);
}
Status FnNindent(const CallContext&, Value* a, size_t, Value* out) {
  return IndentImpl(a, true, out);
}
Status FnRepeat(const CallContext&, Value* a, size_t, Value* out) {
  std::string r;
  SKALD_RETURN_IF_ERROR(Repeat(a[1].str(), a[0].i, &r));
  *out = Value::OwnedStr(std::move(r));
  return Status::OK();
}
VIEW_FN(FnSprigTrim, 0, TrimSpaceSv(a[0].str()))

Status FnInt(const CallContext&, Value* a, size_t, Value* out) {
  *out = Value::Int(ToInt64(a[0]));
  return Status::OK();
}
Status FnFloat64(const CallContext&, Value* a, size_t, Value* out) {
  *out = Value::Float(ToFloat64(a[0]));
  return Status::OK();
}

Status FnAdd(const CallContext&, Value* a, size_t n, Value* out) {
  int64_t s = 0;
  for (size_t i = 0; i < n; ++i) s = static_cast<int64_t>(static_cast<uint64_t>(s) + ToInt64(a[i]));
  *out = Value::Int(s, true);
  return Status::OK();
}
Status FnSub(const CallContext&, Value* a, size_t, Value* out) {
  *out =
      Value::Int(static_cast<int64_t>(static_cast<uint64_t>(ToInt64(a[0])) - ToInt64(a[1])), true);
  return Status::OK();
}
Status FnMul(const CallContext&, Value* a, size_t n, Value* out) {
  uint64_t v = ToInt64(a[0]);
  for (size_t i = 1; i < n; ++i) v *= static_cast<uint64_t>(ToInt64(a[i]));
  *out = Value::Int(static_cast<int64_t>(v), true);
  return Status::OK();
}
Status FnDiv(const CallContext&, Value* a, size_t, Value* out) {
  int64_t x = ToInt64(a[0]), y = ToInt64(a[1]);
  if (y == 0) return Err("runtime error: integer divide by zero");
  *out = Value::Int(y == -1 ? static_cast<int64_t>(0 - static_cast<uint64_t>(x)) : x / y, true);
  return Status::OK();
}
Status FnMod(const CallContext&, Value* a, size_t, Value* out) {
  int64_t x = ToInt64(a[0]), y = ToInt64(a[1]);
  if (y == 0) return Err("runtime error: integer divide by zero");
  *out = Value::Int(y == -1 ? 0 : x % y, true);
  return Status::OK();
}
Status FnMax(const CallContext&, Value* a, size_t n, Value* out) {
  int64_t v = ToInt64(a[0]);
  for (size_t i = 1; i < n; ++i) v = std::max(v, ToInt64(a[i]));
  *out = Value::Int(v, true);
  return Status::OK();
}
Status FnMin(const CallContext&, Value* a, size_t n, Value* out) {
  int64_t v = ToInt64(a[0]);
  for (size_t i = 1; i < n; ++i) v = std::min(v, ToInt64(a[i]));
  *out = Value::Int(v, true);
  return Status::OK();
}
Status FnMaxf(const CallContext&, Value* a, size_t n, Value* out) {
  double v = ToFloat64(a[0]);
  for (size_t i = 1; i < n; ++i) {
    double b = ToFloat64(a[i]);
    v = (std::isnan(v) || std::isnan(b)) ? NAN : std::fmax(v, b);
  }
  *out = Value::Float(v);
  return Status::OK();
}
Status FnMinf(const CallContext&, Value* a, size_t n, Value* out) {
  double v = ToFloat64(a[0]);
  for (size_t i = 1; i < n; ++i) {
    double b = ToFloat64(a[i]);
    v = (std::isnan(v) || std::isnan(b)) ? NAN : std::fmin(v, b);
  }
  *out = Value::Float(v);
  return Status::OK();
}

// sprig's float arithmetic goes through shopspring/decimal: each operand is taken at its
// shortest decimal representation and the exact decimal result is converted back, so
// `addf 1.1 2.2` is 3.3 (not 3.3000000000000003). A decimal here is mant * 10^exp.
struct Dec {
  __int128 mant = 0;
  int exp = 0;
  bool ok = true;
};

Dec ToDec(double f) {
  Dec d;
  if (!std::isfinite(f)) {
    d.ok = false;
    return d;
  }
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof(buf), f, std::chars_format::scientific);
  std::string_view s(buf, r.ptr - buf);
  bool neg = false;
  if (s[0] == '-') {
    neg = true;
    s.remove_prefix(1);
  }
  size_t e = s.find('e');
  int exp10 = std::atoi(std::string(s.substr(e + 1)).c_str());
  int frac = 0;
  bool after_dot = false;
  for (char c : s.substr(0, e)) {
    if (c == '.') {
      after_dot = true;
      continue;
    }
    d.mant = d.mant * 10 + (c - '0');
    if (after_dot) ++frac;
  }
  d.exp = exp10 - frac;
  if (neg) d.mant = -d.mant;
  return d;
}

constexpr __int128 kDecLimit = static_cast<__int128>(1) << 120;

bool Align10(Dec* a, int exp) {  // lowers a's exponent to exp
  while (a->exp > exp) {
    if (a->mant > kDecLimit / 10 || a->mant < -kDecLimit / 10) return false;
    a->mant *= 10;
    --a->exp;
  }
  return true;
}

double DecToDouble(const Dec& d) {
  __int128 m = d.mant;
  bool neg = m < 0;
  if (neg) m = -m;
  char digits[64];
  int n = 0;
  do {
    digits[n++] = static_cast<char>('0' + static_cast<int>(m % 10));
    m /= 10;
  } while (m != 0);
  std::string s = neg ? "-" : "";
  for (int i = n - 1; i >= 0; --i) s.push_back(digits[i]);
  s += "e" + std::to_string(d.exp);
  return std::strtod(s.c_str(), nullptr);
}

enum class DecOp { kAdd, kSub, kMul, kDiv };

double DecApply(double x, double y, DecOp op) {
  Dec a = ToDec(x), b = ToDec(y);
  if (a.ok && b.ok) {
    switch (op) {
      case DecOp::kAdd:
      case DecOp::kSub: {
        int e = std::min(a.exp, b.exp);
        if (Align10(&a, e) && Align10(&b, e)) {
          Dec r;
          r.exp = e;
          r.mant = op == DecOp::kAdd ? a.mant + b.mant : a.mant - b.mant;
          return DecToDouble(r);
        }
        break;
      }
      case DecOp::kMul: {
        Dec r;
        // 17 significant digits each: the product fits in 128 bits.
        r.mant = a.mant * b.mant;
        r.exp = a.exp + b.exp;
        return DecToDouble(r);
      }
      case DecOp::kDiv:
        break;
    }
  }
  switch (op) {
    case DecOp::kAdd:
      return x + y;
    case DecOp::kSub:
      return x - y;
    case DecOp::kMul:
      return x * y;
    case DecOp::kDiv: {
      // decimal.Div rounds to 16 fractional digits.
      double q = x / y;
      if (!std::isfinite(q) || std::fabs(q) >= 1e15) return q;
      char buf[64];
      std::snprintf(buf, sizeof(buf), "%.16f", q);
      return std::strtod(buf, nullptr);
    }
  }
  return 0;
}

Status FloatFold(Value* a, size_t n, double init, size_t from, DecOp op, Value* out) {
  double acc = from == 0 ? init : ToFloat64(a[0]);
  for (size_t i = from; i < n; ++i) {
    double y = ToFloat64(a[i]);
    if (op == DecOp::kDiv && y == 0) return Err("decimal division by 0");
    acc = DecApply(acc, y, op);
  }
  *out = Value::Float(acc);
  return Status::OK();
}
Status FnAddf(const CallContext&, Value* a, size_t n, Value* out) {
  return FloatFold(a, n, 0, 0, DecOp::kAdd, out);
}
Status FnSubf(const CallContext&, Value* a, size_t n, Value* out) {
  return FloatFold(a, n, 0, 1, DecOp::kSub, out);
}
Status FnMulf(const CallContext&, Value* a, size_t n, Value* out) {
  return FloatFold(a, n, 0, 1, DecOp::kMul, out);
}
Status FnDivf(const CallContext&, Value* a, size_t n, Value* out) {
  return FloatFold(a, n, 0, 1, DecOp::kDiv, out);
}
Status FnCeil(const CallContext&, Value* a, size_t, Value* out) {
  *out = Value::Float(std::ceil(ToFloat64(a[0])));
  return Status::OK();
}
Status FnFloor(const CallContext&, Value* a, size_t, Value* out) {
  *out = Value::Float(std::floor(ToFloat64(a[0])));
  return Status::OK();
}
Status FnRound(const CallContext&, Value* a, size_t n, Value* out) {
  double round_on = n > 2 ? a[2].f : 0.5;
  double val = ToFloat64(a[0]);
  double pow = std::pow(10.0, static_cast<double>(a[1].i));
  double digit = pow * val;
  double intpart;
  double frac = std::modf(digit, &intpart);
  double r = frac >= round_on ? std::ceil(digit) : std::floor(digit);
  *out = Value::Float(r / pow);
  return Status::OK();
}

Status FnDefault(const CallContext&, Value* a, size_t n, Value* out) {
  if (n < 2 || Empty(a[1])) {
    *out = a[0];
  } else {
    *out = a[1];
  }
  return Status::OK();
}

// ---- fromJson ----

class JsonParser {
 public:
  explicit JsonParser(std::string_view s) : s_(s) {}
  bool Parse(Value* out) {
    if (!ParseValue(out, 0)) return false;
    Ws();
    return i_ == s_.size();
  }

 private:
  void Ws() {
    while (i_ < s_.size() &&
           (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) {
      ++i_;
    }
  }
  bool Lit(std::string_view w) {
    if (s_.substr(i_).starts_with(w)) {
      i_ += w.size();
      return true;
    }
    return false;
  }
  bool ParseString(std::string* out) {
    if (i_ >= s_.size() || s_[i_] != '"') return false;
    ++i_;
    while (i_ < s_.size()) {
      char c = s_[i_++];
      if (c == '"') return true;
      if (static_cast<unsigned char>(c) < 0x20) return false;
      if (c != '\\') {
        out->push_back(c);
        continue;
      }
      if (i_ >= s_.size()) return false;
      char e = s_[i_++];
      switch (e) {
        case '"':
          out->push_back('"');
          break;
        case '\\':
          out->push_back('\\');
          break;
        case '/':
          out->push_back('/');
          break;
        case 'b':
          out->push_back('\b');
          break;
        case 'f':
          out->push_back('\f');
          break;
        case 'n':
          out->push_back('\n');
          break;
        case 'r':
          out->push_back('\r');
          break;
        case 't':
          out->push_back('\t');
          break;
        case 'u': {
          auto hex4 = [&](uint32_t* v) {
            if (i_ + 4 > s_.size()) return false;
            *v = 0;
            for (int k = 0; k < 4; ++k) {
              char h = s_[i_ + k];
              int d = (h >= '0' && h <= '9')   ? h - '0'
                      : (h >= 'a' && h <= 'f') ? h - 'a' + 10
                      : (h >= 'A' && h <= 'F') ? h - 'A' + 10
                                               : -1;
              if (d < 0) return false;
              *v = *v * 16 + d;
            }
            i_ += 4;
            return true;
          };
          uint32_t v;
          if (!hex4(&v)) return false;
          if (v >= 0xD800 && v < 0xDC00 && s_.substr(i_).starts_with("\\u")) {
            size_t save = i_;
            i_ += 2;
            uint32_t lo;
            if (hex4(&lo) && lo >= 0xDC00 && lo < 0xE000) {
              v = 0x10000 + ((v - 0xD800) << 10) + (lo - 0xDC00);
            } else {
              i_ = save;
              v = 0xFFFD;
            }
          } else if (v >= 0xD800 && v < 0xE000) {
            v = 0xFFFD;
          }
          AppendRune(v, out);
          break;
        }
        default:
          return false;
      }
    }
    return false;
  }
  bool ParseValue(Value* out, int depth) {
    if (depth > 200) return false;
    Ws();
    if (i_ >= s_.size()) return false;
    char c = s_[i_];
    if (c == '{') {
      ++i_;
      auto m = std::make_shared<ValueMap>();
      Ws();
      if (i_ < s_.size() && s_[i_] == '}') {
        ++i_;
      } else {
        for (;;) {
          Ws();
          std::string k;
          if (!ParseString(&k)) return false;
          Ws();
          if (i_ >= s_.size() || s_[i_] != ':') return false;
          ++i_;
          Value v;
          if (!ParseValue(&v, depth + 1)) return false;
          // Later duplicates win, as in Go's map decoding.
          auto it = std::find_if(m->begin(), m->end(), [&](const auto& e) { return e.first == k; });
          if (it != m->end()) {
            it->second = std::move(v);
          } else {
            m->emplace_back(std::move(k), std::move(v));
          }
          Ws();
          if (i_ < s_.size() && s_[i_] == ',') {
            ++i_;
            continue;
          }
          if (i_ < s_.size() && s_[i_] == '}') {
            ++i_;
            break;
          }
          return false;
        }
      }
      std::sort(m->begin(), m->end(),
                [](const auto& a, const auto& b) { return a.first < b.first; });
      out->kind = Kind::kMap;
      out->map = std::move(m);
      return true;
    }
    if (c == '[') {
      ++i_;
      auto l = std::make_shared<ValueList>();
      Ws();
      if (i_ < s_.size() && s_[i_] == ']') {
        ++i_;
      } else {
        for (;;) {
          Value v;
          if (!ParseValue(&v, depth + 1)) return false;
          l->push_back(std::move(v));
          Ws();
          if (i_ < s_.size() && s_[i_] == ',') {
            ++i_;
            continue;
          }
          if (i_ < s_.size() && s_[i_] == ']') {
            ++i_;
            break;
          }
          return false;
        }
      }
      out->kind = Kind::kList;
      out->list = std::move(l);
      return true;
    }
    if (c == '"') {
      std::string s;
      if (!ParseString(&s)) return false;
      *out = Value::OwnedStr(std::move(s));
      return true;
    }
    if (Lit("true")) {
      *out = Value::Bool(true);
      return true;
    }
    if (Lit("false")) {
      *out = Value::Bool(false);
      return true;
    }
    if (Lit("null")) {
      *out = Value();
      out->b = true;  // a nil interface{}
      return true;
    }
    size_t st = i_;
    if (i_ < s_.size() && s_[i_] == '-') ++i_;
    if (i_ >= s_.size() || !std::isdigit(static_cast<unsigned char>(s_[i_]))) return false;
    if (s_[i_] == '0') {
      ++i_;
    } else {
      while (i_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[i_]))) ++i_;
    }
    if (i_ < s_.size() && s_[i_] == '.') {
      ++i_;
      if (i_ >= s_.size() || !std::isdigit(static_cast<unsigned char>(s_[i_]))) return false;
      while (i_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[i_]))) ++i_;
    }
    if (i_ < s_.size() && (s_[i_] == 'e' || s_[i_] == 'E')) {
      ++i_;
      if (i_ < s_.size() && (s_[i_] == '+' || s_[i_] == '-')) ++i_;
      if (i_ >= s_.size() || !std::isdigit(static_cast<unsigned char>(s_[i_]))) return false;
      while (i_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[i_]))) ++i_;
    }
    std::string num(s_.substr(st, i_ - st));
    double f = std::strtod(num.c_str(), nullptr);
    if (std::isinf(f)) return false;
    *out = Value::Float(f);
    return true;
  }

  std::string_view s_;
  size_t i_ = 0;
};

Status FnFromJson(const CallContext&, Value* a, size_t, Value* out) {
  JsonParser p(a[0].str());
  Value v;
  if (!p.Parse(&v)) {
    v = Value();
    v.b = true;  // sprig ignores the error and returns a nil interface{}
  }
  *out = std::move(v);
  return Status::OK();
}

// ---- Prometheus' alert-template functions (prometheus/template/template.go) ----
//
// Behaviour and output formats follow Prometheus' function map and
// prometheus/common/helpers/templates (ConvertToFloat, HumanizeDuration, HumanizeTimestamp).

// strconv's underscoreOK: '_' only between digits (a base prefix counts as a digit).
bool GoUnderscoresOK(std::string_view s) {
  char saw = '^';
  size_t i = 0;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) s.remove_prefix(1);
  bool hex = false;
  if (s.size() >= 2 && s[0] == '0' &&
      ((s[1] | 0x20) == 'b' || (s[1] | 0x20) == 'o' || (s[1] | 0x20) == 'x')) {
    i = 2;
    saw = '0';
    hex = (s[1] | 0x20) == 'x';
  }
  for (; i < s.size(); ++i) {
    const char c = s[i];
    if ((c >= '0' && c <= '9') || (hex && (c | 0x20) >= 'a' && (c | 0x20) <= 'f')) {
      saw = '0';
      continue;
    }
    if (c == '_') {
      if (saw != '0') return false;
      saw = '_';
      continue;
    }
    if (saw == '_') return false;
    saw = '!';
  }
  return saw != '_';
}

// strconv.ParseFloat(s, 64): Go's accepted syntax ("inf", "infinity", "nan" in any case,
// decimal and 0x hex floats, '_' digit separators) and its error texts.
bool GoParseFloat(std::string_view s, double* out, std::string* err) {
  auto fail = [&](std::string_view why) {
    std::string q;
    AppendGoQuote(s, &q);
    *err = "strconv.ParseFloat: parsing " + q + ": " + std::string(why);
    return false;
  };
  auto ieq = [](std::string_view a, std::string_view lower) {
    if (a.size() != lower.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
      if (std::tolower(static_cast<unsigned char>(a[i])) != lower[i]) return false;
    }
    return true;
  };
  std::string_view b = s;
  bool neg = false;
  bool sign = false;
  if (!b.empty() && (b[0] == '+' || b[0] == '-')) {
    neg = b[0] == '-';
    sign = true;
    b.remove_prefix(1);
  }
  if (ieq(b, "inf") || ieq(b, "infinity")) {
    *out = neg ? -HUGE_VAL : HUGE_VAL;
    return true;
  }
  if (!sign && ieq(b, "nan")) {
    *out = std::nan("");
    return true;
  }
  const bool hex = b.size() >= 2 && b[0] == '0' && (b[1] | 0x20) == 'x';
  std::string clean(s.substr(0, s.size() - b.size()));  // the sign
  size_t i = 0;
  if (hex) {
    clean.append(b.substr(0, 2));
    i = 2;
  }
  bool underscores = false, dot = false;
  int digits = 0;
  for (; i < b.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(b[i]);
    if (c == '_') {
      underscores = true;
      continue;
    }
    if (c == '.' && !dot) {
      dot = true;
    } else if (hex ? std::isxdigit(c) : std::isdigit(c)) {
      ++digits;
    } else {
      break;
    }
    clean.push_back(static_cast<char>(c));
  }
  if (digits == 0) return fail("invalid syntax");
  if (i < b.size() && (b[i] | 0x20) == (hex ? 'p' : 'e')) {
    clean.push_back(b[i++]);
    if (i < b.size() && (b[i] == '+' || b[i] == '-')) clean.push_back(b[i++]);
    int exp_digits = 0;
    for (; i < b.size(); ++i) {
      if (b[i] == '_') {
        underscores = true;
      } else if (std::isdigit(static_cast<unsigned char>(b[i]))) {
        ++exp_digits;
        clean.push_back(b[i]);
      } else {
        break;
      }
    }
    if (exp_digits == 0) return fail("invalid syntax");
  } else if (hex) {
    return fail("invalid syntax");  // a hex mantissa needs a 'p' exponent
  }
  if (i != b.size() || (underscores && !GoUnderscoresOK(s))) return fail("invalid syntax");
  const double f = std::strtod(clean.c_str(), nullptr);
  if (std::isinf(f)) return fail("value out of range");
  *out = f;
  return true;
}

// prometheus/common's ConvertToFloat: float64, the integer kinds and strings.
bool PromToFloat(const Value& v, double* out, std::string* err) {
  switch (v.kind) {
    case Kind::kFloat:
      *out = v.f;
      return true;
    case Kind::kInt:
      *out = static_cast<double>(v.i);
      return true;
    case Kind::kString:
      return GoParseFloat(v.str(), out, err);
    default:
      *err = "can't convert " + std::string(GoTypeName(v)) + " to float";
      return false;
  }
}

// fmt's %.4g.
void AppendG4(double v, std::string* out) {
  const Value a = Value::Float(v);
  AppendSprintf("%.4g", &a, 1, out);
}

// Go's int64(f) for f >= 0 on amd64: out-of-range values become math.MinInt64.
int64_t GoFloatToInt64(double f) {
  if (!(f < 9223372036854775808.0) || !(f >= -9223372036854775808.0)) return INT64_MIN;
  return static_cast<int64_t>(f);
}

constexpr const char* kSmallPrefixes[] = {"m", "u", "n", "p", "f", "a", "z", "y"};

Status FnHumanize(const CallContext&, Value* a, size_t, Value* out) {
  double v;
  std::string err;
  if (!PromToFloat(a[0], &v, &err)) return Err(err);
  std::string r;
  const char* prefix = "";
  if (v == 0 || std::isnan(v) || std::isinf(v)) {
    // as is
  } else if (std::fabs(v) >= 1) {
    for (const char* p : {"k", "M", "G", "T", "P", "E", "Z", "Y"}) {
      if (std::fabs(v) < 1000) break;
      prefix = p;
      v /= 1000;
    }
  } else {
    for (const char* p : kSmallPrefixes) {
      if (std::fabs(v) >= 1) break;
      prefix = p;
      v *= 1000;
    }
  }
  AppendG4(v, &r);
  r += prefix;
  *out = Value::OwnedStr(std::move(r));
  return Status::OK();
}

Status FnHumanize1024(const CallContext&, Value* a, size_t, Value* out) {
  double v;
  std::string err;
  if (!PromToFloat(a[0], &v, &err)) return Err(err);
  std::string r;
  const char* prefix = "";
  if (!(std::fabs(v) <= 1 || std::isnan(v) || std::isinf(v))) {
    for (const char* p : {"ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi", "Yi"}) {
      if (std::fabs(v) < 1024) break;
      prefix = p;
      v /= 1024;
    }
  }
  AppendG4(v, &r);
  r += prefix;
  *out = Value::OwnedStr(std::move(r));
  return Status::OK();
}

Status FnHumanizeDuration(const CallContext&, Value* a, size_t, Value* out) {
  double v;
  std::string err;
  if (!PromToFloat(a[0], &v, &err)) return Err(err);
  std::string r;
  if (std::isnan(v) || std::isinf(v)) {
    AppendG4(v, &r);
  } else if (v == 0) {
    AppendG4(v, &r);
    r += 's';
  } else if (std::fabs(v) >= 1) {
    if (v < 0) {
      r += '-';
      v = -v;
    }
    const int64_t d = GoFloatToInt64(v);
    const int64_t seconds = d % 60, minutes = (d / 60) % 60, hours = (d / 60 / 60) % 24,
                  days = d / 60 / 60 / 24;
    // Days to minutes show whole seconds; seconds alone show 4 significant digits.
    if (days != 0) {
      r += std::to_string(days) + "d " + std::to_string(hours) + "h " + std::to_string(minutes) +
           "m " + std::to_string(seconds) + "s";
    } else if (hours != 0) {
      r += std::to_string(hours) + "h " + std::to_string(minutes) + "m " + std::to_string(seconds) +
           "s";
    } else if (minutes != 0) {
      r += std::to_string(minutes) + "m " + std::to_string(seconds) + "s";
    } else {
      AppendG4(v, &r);
      r += 's';
    }
  } else {
    const char* prefix = "";
    for (const char* p : kSmallPrefixes) {
      if (std::fabs(v) >= 1) break;
      prefix = p;
      v *= 1000;
    }
    AppendG4(v, &r);
    r += prefix;
    r += 's';
  }
  *out = Value::OwnedStr(std::move(r));
  return Status::OK();
}

Status FnHumanizePercentage(const CallContext&, Value* a, size_t, Value* out) {
  double v;
  std::string err;
  if (!PromToFloat(a[0], &v, &err)) return Err(err);
  std::string r;
  AppendG4(v * 100, &r);
  r += '%';
  *out = Value::OwnedStr(std::move(r));
  return Status::OK();
}

// Prometheus' floatToTime: Unix seconds to a UTC time, truncated to milliseconds (it goes
// through model.Time); false with its message when the value overflows int64 nanoseconds.
// The caller handles NaN and Inf.
bool PromFloatToTime(double v, GoTime* t, std::string* err) {
  const double ts = v * 1e9;
  if (ts > 9223372036854775807.0 || ts < -9223372036854775808.0) {
    err->clear();
    AppendGoFloat(v, err);
    *err += " cannot be represented as a nanoseconds timestamp since it overflows int64";
    return false;
  }
  const int64_t ms = GoFloatToInt64(ts) / 1000000;
  *t = FromUnixNanos(ms * 1000000);
  return true;
}

Status FnHumanizeTimestamp(const CallContext&, Value* a, size_t, Value* out) {
  double v;
  std::string err;
  if (!PromToFloat(a[0], &v, &err)) return Err(err);
  std::string r;
  if (std::isnan(v) || std::isinf(v)) {
    AppendG4(v, &r);
  } else {
    GoTime t;
    if (!PromFloatToTime(v, &t, &err)) return Err(err);
    AppendTimeString(t, &r);
  }
  *out = Value::OwnedStr(std::move(r));
  return Status::OK();
}

Status FnToTime(const CallContext&, Value* a, size_t, Value* out) {
  double v;
  std::string err;
  if (!PromToFloat(a[0], &v, &err)) return Err(err);
  if (std::isnan(v) || std::isinf(v)) return Err("value is NaN or Inf");
  GoTime t;
  if (!PromFloatToTime(v, &t, &err)) return Err(err);
  *out = Value::Time(t);
  return Status::OK();
}

// prometheus/common model.ParseDuration (units y w d h m s ms, biggest first, no
// fractions), in nanoseconds.
bool PromParseDuration(std::string_view s, int64_t* nanos, std::string* err) {
  if (s == "0") {
    *nanos = 0;
    return true;
  }
  if (s.empty()) {
    *err = "empty duration string";
    return false;
  }
  const std::string_view orig = s;
  auto invalid = [&] {
    std::string q;
    AppendGoQuote(orig, &q);
    *err = "not a valid duration string: " + q;
    return false;
  };
  struct Unit {
    std::string_view name;
    int pos;
    uint64_t mult;
  };
  static constexpr Unit kUnits[] = {
      {"ms", 7, 1000000ULL},          {"s", 6, 1000000000ULL},     {"m", 5, 60000000000ULL},
      {"h", 4, 3600000000000ULL},     {"d", 3, 86400000000000ULL}, {"w", 2, 604800000000000ULL},
      {"y", 1, 31536000000000000ULL},
  };
  uint64_t dur = 0;
  int last_pos = 0;
  while (!s.empty()) {
    if (!std::isdigit(static_cast<unsigned char>(s[0]))) return invalid();
    size_t i = 0;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
    uint64_t v;
    auto res = std::from_chars(s.data(), s.data() + i, v);
    if (res.ec != std::errc()) return invalid();
    s.remove_prefix(i);
    i = 0;
    while (i < s.size() && !std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
    if (i == 0) return invalid();
    const std::string_view u = s.substr(0, i);
    s.remove_prefix(i);
    const Unit* unit = nullptr;
    for (const Unit& k : kUnits) {
      if (k.name == u) unit = &k;
    }
    if (!unit) {
      std::string qu, qo;
      AppendGoQuote(u, &qu);
      AppendGoQuote(orig, &qo);
      *err = "unknown unit " + qu + " in duration " + qo;
      return false;
    }
    if (unit->pos <= last_pos) return invalid();
    last_pos = unit->pos;
    if (v > (uint64_t{1} << 63) / unit->mult) {
      *err = "duration out of range";
      return false;
    }
    dur += v * unit->mult;
    if (dur > static_cast<uint64_t>(INT64_MAX)) {
      *err = "duration out of range";
      return false;
    }
  }
  *nanos = static_cast<int64_t>(dur);
  return true;
}

Status FnParseDuration(const CallContext&, Value* a, size_t, Value* out) {
  std::string_view s = a[0].str();
  const bool neg = !s.empty() && s[0] == '-';  // ParseDurationAllowNegative
  if (neg) s.remove_prefix(1);
  int64_t nanos = 0;
  std::string err;
  if (!PromParseDuration(s, &nanos, &err)) return Err(err);
  *out = Value::Float(static_cast<double>(neg ? -nanos : nanos) / 1e9);
  return Status::OK();
}

// net.ParseIP's IPv4 form: four decimal fields 0-255 without leading zeros.
bool IsIPv4(std::string_view s) {
  for (int f = 0; f < 4; ++f) {
    if (f > 0) {
      if (s.empty() || s[0] != '.') return false;
      s.remove_prefix(1);
    }
    size_t n = 0;
    int v = 0;
    while (n < s.size() && std::isdigit(static_cast<unsigned char>(s[n]))) {
      v = v * 10 + (s[n] - '0');
      if (v > 255) return false;
      ++n;
    }
    if (n == 0 || (n > 1 && s[0] == '0')) return false;
    s.remove_prefix(n);
  }
  return s.empty();
}

// net.ParseIP's IPv6 form: up to eight 1-4 digit hex groups, one "::", an optional
// trailing dotted IPv4, no zone.
bool IsIPv6(std::string_view s) {
  int groups = 0;
  bool ellipsis = false;
  if (s.substr(0, 2) == "::") {
    ellipsis = true;
    s.remove_prefix(2);
  }
  while (!s.empty()) {
    size_t n = 0;
    while (n < s.size() && n < 5 && std::isxdigit(static_cast<unsigned char>(s[n]))) ++n;
    if (n < s.size() && s[n] == '.') {
      if ((!ellipsis && groups != 6) || groups + 2 > 8 || !IsIPv4(s)) return false;
      groups += 2;
      break;
    }
    if (n == 0 || n > 4) return false;
    ++groups;
    s.remove_prefix(n);
    if (s.empty()) break;
    if (s[0] != ':' || s.size() == 1) return false;
    s.remove_prefix(1);
    if (s[0] == ':') {
      if (ellipsis) return false;
      ellipsis = true;
      s.remove_prefix(1);
      if (s.empty()) break;
    }
    if (groups >= 8) return false;
  }
  return ellipsis ? groups < 8 : groups == 8;
}

bool IsIP(std::string_view s) {
  return s.find(':') != std::string_view::npos ? IsIPv6(s) : IsIPv4(s);
}

// net.SplitHostPort; false where Go returns an error.
bool SplitHostPort(std::string_view hp, std::string_view* host, std::string_view* port) {
  const size_t i = hp.rfind(':');
  if (i == std::string_view::npos) return false;
  size_t j = 0, k = 0;
  if (hp[0] == '[') {
    const size_t end = hp.find(']');
    if (end == std::string_view::npos || end + 1 != i) return false;
    *host = hp.substr(1, end - 1);
    j = 1;
    k = end + 1;
  } else {
    *host = hp.substr(0, i);
    if (host->find(':') != std::string_view::npos) return false;
  }
  if (hp.substr(j).find('[') != std::string_view::npos) return false;
  if (hp.substr(k).find(']') != std::string_view::npos) return false;
  *port = hp.substr(i + 1);
  return true;
}

Status FnStripPort(const CallContext&, Value* a, size_t, Value* out) {
  std::string_view host, port;
  *out = SplitHostPort(a[0].str(), &host, &port) ? SubOf(a[0], host) : a[0];
  return Status::OK();
}

Status FnStripDomain(const CallContext&, Value* a, size_t, Value* out) {
  const std::string_view hp = a[0].str();
  std::string_view host, port;
  if (!SplitHostPort(hp, &host, &port)) {
    host = hp;
    port = {};
  }
  if (IsIP(host)) {
    *out = a[0];
    return Status::OK();
  }
  host = host.substr(0, host.find('.'));
  if (port.empty()) {
    *out = SubOf(a[0], host);
    return Status::OK();
  }
  std::string r;  // net.JoinHostPort
  if (host.find(':') != std::string_view::npos) {
    r.append("[").append(host).append("]");
  } else {
    r.append(host);
  }
  r.append(":").append(port);
  *out = Value::OwnedStr(std::move(r));
  return Status::OK();
}

// golang.org/x/text/cases' word breaking as its title caser approximates it: letters,
// digits, '_' and marks continue a word; a "mid" rune (' . : and their Unicode kin) does
// too unless two of them are adjacent; anything else breaks.
enum class TitleClass : uint8_t { kCased, kLetter, kMid, kBreak };

// Cased runes the simple case tables above do not map: ª º (Other_Lowercase), µ, ß and
// the DŽ/LJ/NJ/DZ digraphs.
bool IsExtraCased(uint32_t r) {
  return r == 0xAA || r == 0xB5 || r == 0xBA || r == 0xDF || (r >= 0x1C4 && r <= 0x1CC) ||
         (r >= 0x1F1 && r <= 0x1F3);
}

TitleClass ClassifyForTitle(uint32_t r) {
  if (ToUpperRune(r) != r || ToLowerRune(r) != r || IsExtraCased(r)) return TitleClass::kCased;
  if (r < 0x80) {
    if (std::isalpha(static_cast<int>(r))) return TitleClass::kCased;
    if (std::isdigit(static_cast<int>(r)) || r == '_') return TitleClass::kLetter;
    if (r == '\'' || r == '.' || r == ':') return TitleClass::kMid;
    return TitleClass::kBreak;
  }
  switch (r) {
    case 0xB7:
    case 0x387:
    case 0x55F:
    case 0x5F4:
    case 0x2018:
    case 0x2019:
    case 0x2024:
    case 0x2027:
    case 0xFE13:
    case 0xFE52:
    case 0xFE55:
    case 0xFF07:
    case 0xFF0E:
    case 0xFF1A:
      return TitleClass::kMid;
    default:
      break;
  }
  if (IsUnicodeSpace(r) || (r >= 0xA0 && r <= 0xBF) || r == 0xD7 || r == 0xF7 ||
      (r >= 0x2000 && r <= 0x2BFF) || (r >= 0x3000 && r <= 0x303F) || r == 0xFFFD) {
    return TitleClass::kBreak;
  }
  return TitleClass::kLetter;
}

void AppendTitleRune(uint32_t r, std::string* out) {
  if (r >= 0x1C4 && r <= 0x1CC) {
    AppendRune(0x1C5 + 3 * ((r - 0x1C4) / 3), out);  // DŽ Dž dž -> Dž, LJ.. -> Lj, NJ.. -> Nj
  } else if (r >= 0x1F1 && r <= 0x1F3) {
    AppendRune(0x1F2, out);
  } else if (r == 0xDF) {
    out->append("Ss");
  } else if (r == 0xB5) {
    AppendRune(0x39C, out);  // µ -> Greek capital mu
  } else {
    AppendRune(ToUpperRune(r), out);
  }
}

// cases.Title(language.AmericanEnglish, cases.NoLower).String: title-case the first cased
// rune of each word, leave everything else as is.
Status FnPromTitle(const CallContext&, Value* a, size_t, Value* out) {
  const std::string_view s = a[0].str();
  std::string r;
  r.reserve(s.size());
  bool mid_word = false, prev_mid = false;
  for (size_t i = 0; i < s.size();) {
    uint32_t c;
    const size_t n = DecodeRune(s, i, &c);
    const TitleClass cls = ClassifyForTitle(c);
    if (prev_mid && cls == TitleClass::kMid) mid_word = false;
    if (cls == TitleClass::kCased && !mid_word) {
      AppendTitleRune(c, &r);
      mid_word = true;
    } else {
      r.append(s.substr(i, n));
      if (cls == TitleClass::kBreak) mid_word = false;
    }
    prev_mid = cls == TitleClass::kMid;
    i += n;
  }
  *out = Value::OwnedStr(std::move(r));
  return Status::OK();
}

// regexp.MatchString(pattern, s).
Status FnMatch(const CallContext& ctx, Value* a, size_t, Value* out) {
  std::unique_ptr<RE2> holder;
  std::string err;
  const RE2* re = GetRegex(ctx, a[0], &holder, &err);
  if (!re) return Err(err);
  *out = Value::Bool(RE2::PartialMatch(a[1].str(), *re));
  return Status::OK();
}

// reReplaceAll(pattern, repl, text): regexp.MustCompile(pattern).ReplaceAllString(text, repl).
Status FnReReplaceAll(const CallContext& ctx, Value* a, size_t, Value* out) {
  Value b[3] = {a[0], a[2], a[1]};  // RegexReplace takes (regex, src, repl)
  return RegexReplace(ctx, b, false, out);
}

Status FnSafeHTML(const CallContext&, Value* a, size_t, Value* out) {
  *out = a[0];
  return Status::OK();
}

// args(a...): map[string]interface{}{"arg0": a[0], ...}.
Status FnArgs(const CallContext&, Value* a, size_t n, Value* out) {
  auto m = std::make_shared<ValueMap>();
  m->reserve(n);
  for (size_t i = 0; i < n; ++i) m->emplace_back("arg" + std::to_string(i), a[i]);
  std::sort(m->begin(), m->end(), [](const auto& x, const auto& y) { return x.first < y.first; });
  Value r;
  r.kind = Kind::kMap;
  r.map = std::move(m);
  *out = std::move(r);
  return Status::OK();
}

Status LinkForExpression(std::string_view expr, char tab, Value* out) {
  std::string r = "/graph?g0.expr=";
  QueryEscape(expr, &r);
  r += "&g0.tab=";
  r += tab;
  *out = Value::OwnedStr(std::move(r));
  return Status::OK();
}
Status FnGraphLink(const CallContext&, Value* a, size_t, Value* out) {
  return LinkForExpression(a[0].str(), '0', out);
}
Status FnTableLink(const CallContext&, Value* a, size_t, Value* out) {
  return LinkForExpression(a[0].str(), '1', out);
}

Status FnExternalURL(const CallContext& ctx, Value*, size_t, Value* out) {
  *out = Value::Str(ctx.external_url);
  return Status::OK();
}
Status FnPathPrefix(const CallContext& ctx, Value*, size_t, Value* out) {
  *out = Value::Str(ctx.path_prefix);
  return Status::OK();
}

// now: the evaluation time as float Unix seconds, at model.Time's millisecond precision.
Status FnPromNow(const CallContext& ctx, Value*, size_t, Value* out) {
  *out = Value::Float(static_cast<double>(ctx.ts_nanos / 1000000) / 1000.0);
  return Status::OK();
}

// ---- the tables ----

const std::unordered_map<std::string_view, FuncSpec>& Table() {
  static const auto* table = [] {
    auto* m = new std::unordered_map<std::string_view, FuncSpec>();
    auto add = [&](std::string_view name, std::vector<P> params, bool variadic, FuncImpl fn,
                   uint8_t flags = 0) {
      (*m)[name] = FuncSpec{name, std::move(params), variadic, fn, flags};
    };
    // Go builtins
    add("and", {P::kValue, P::kValue}, true, FnAndOr, kFuncAndOr);
    add("or", {P::kValue, P::kValue}, true, FnAndOr, kFuncAndOr);
    add("not", {P::kValue}, false, FnNot);
    add("len", {P::kValue}, false, FnLen);
    add("index", {P::kValue, P::kValue}, true, FnIndex);
    add("slice", {P::kValue, P::kValue}, true, FnSlice);
    add("print", {P::kAny}, true, FnPrint);
    add("println", {P::kAny}, true, FnPrintln);
    add("printf", {P::kString, P::kAny}, true, FnPrintf);
    add("html", {P::kAny}, true, FnHTML);
    add("js", {P::kAny}, true, FnJS);
    add("urlquery", {P::kAny}, true, FnURLQuery);
    add("eq", {P::kValue, P::kValue}, true, FnEq);
    add("ne", {P::kValue, P::kValue}, false, FnNe);
    add("lt", {P::kValue, P::kValue}, false, FnLt);
    add("le", {P::kValue, P::kValue}, false, FnLe);
    add("gt", {P::kValue, P::kValue}, false, FnGt);
    add("ge", {P::kValue, P::kValue}, false, FnGe);
    add("call", {P::kValue, P::kValue}, true, FnCall, kFuncCall);
    // Loki
    add("__line__", {}, false, FnLine, kFuncEntry);
    add("__timestamp__", {}, false, FnTimestamp, kFuncEntry);
    add("ToLower", {P::kString}, false, FnToLower);
    add("ToUpper", {P::kString}, false, FnToUpper);
    add("Replace", {P::kString, P::kString, P::kString, P::kInt}, false, FnReplace);
    add("Trim", {P::kString, P::kString}, false, FnTrim);
    add("TrimLeft", {P::kString, P::kString}, false, FnTrimLeft);
    add("TrimRight", {P::kString, P::kString}, false, FnTrimRight);
    add("TrimPrefix", {P::kString, P::kString}, false, FnTrimPrefix);
    add("TrimSuffix", {P::kString, P::kString}, false, FnTrimSuffix);
    add("TrimSpace", {P::kString}, false, FnTrimSpace);
    add("regexReplaceAll", {P::kString, P::kString, P::kString}, false, FnRegexReplaceAll,
        kFuncRegexArg0);
    add("regexReplaceAllLiteral", {P::kString, P::kString, P::kString}, false,
        FnRegexReplaceAllLiteral, kFuncRegexArg0);
    add("count", {P::kString, P::kString}, false, FnCount, kFuncRegexArg0);
    add("urlencode", {P::kString}, false, FnURLEncode);
    add("urldecode", {P::kString}, false, FnURLDecode);
    add("bytes", {P::kString}, false, FnBytes);
    add("duration", {P::kString}, false, FnDuration);
    add("duration_seconds", {P::kString}, false, FnDuration);
    add("unixEpochMillis", {P::kTime}, false, FnUnixEpochMillis);
    add("unixEpochNanos", {P::kTime}, false, FnUnixEpochNanos);
    add("toDateInZone", {P::kString, P::kString, P::kString}, false, FnToDateInZone);
    add("unixToTime", {P::kString}, false, FnUnixToTime);
    add("alignLeft", {P::kInt, P::kString}, false, FnAlignLeft);
    add("alignRight", {P::kInt, P::kString}, false, FnAlignRight);
    add("b64dec", {P::kString}, false, FnB64Dec);
    // sprig subset
    add("b64enc", {P::kString}, false, FnB64Enc);
    add("lower", {P::kString}, false, FnLower);
    add("upper", {P::kString}, false, FnUpper);
    add("title", {P::kString}, false, FnTitle);
    add("trunc", {P::kInt, P::kString}, false, FnTrunc);
    add("substr", {P::kInt, P::kInt, P::kString}, false, FnSubstr);
    add("contains", {P::kString, P::kString}, false, FnContains);
    add("hasPrefix", {P::kString, P::kString}, false, FnHasPrefix);
    add("hasSuffix", {P::kString, P::kString}, false, FnHasSuffix);
    add("indent", {P::kInt, P::kString}, false, FnIndent);
    add("nindent", {P::kInt, P::kString}, false, FnNindent);
    add("replace", {P::kString, P::kString, P::kString}, false, FnSprigReplace);
    add("repeat", {P::kInt, P::kString}, false, FnRepeat);
    add("trim", {P::kString}, false, FnSprigTrim);
    add("trimAll", {P::kString, P::kString}, false, FnSprigTrimAll);
    add("trimSuffix", {P::kString, P::kString}, false, FnSprigTrimSuffix);
    add("trimPrefix", {P::kString, P::kString}, false, FnSprigTrimPrefix);
    add("int", {P::kAny}, false, FnInt);
    add("float64", {P::kAny}, false, FnFloat64);
    add("add", {P::kAny}, true, FnAdd);
    add("sub", {P::kAny, P::kAny}, false, FnSub);
    add("mul", {P::kAny, P::kAny}, true, FnMul);
    add("div", {P::kAny, P::kAny}, false, FnDiv);
    add("mod", {P::kAny, P::kAny}, false, FnMod);
    add("addf", {P::kAny}, true, FnAddf);
    add("subf", {P::kAny, P::kAny}, true, FnSubf);
    add("mulf", {P::kAny, P::kAny}, true, FnMulf);
    add("divf", {P::kAny, P::kAny}, true, FnDivf);
    add("max", {P::kAny, P::kAny}, true, FnMax);
    add("min", {P::kAny, P::kAny}, true, FnMin);
    add("maxf", {P::kAny, P::kAny}, true, FnMaxf);
    add("minf", {P::kAny, P::kAny}, true, FnMinf);
    add("ceil", {P::kAny}, false, FnCeil);
    add("floor", {P::kAny}, false, FnFloor);
    add("round", {P::kAny, P::kInt, P::kFloat}, true, FnRound);
    add("fromJson", {P::kString}, false, FnFromJson);
    add("date", {P::kString, P::kAny}, false, FnDate, kFuncImpure);
    add("toDate", {P::kString, P::kString}, false, FnToDate);
    add("now", {}, false, FnNow, kFuncImpure);
    add("unixEpoch", {P::kTime}, false, FnUnixEpoch);
    add("default", {P::kAny, P::kAny}, true, FnDefault);
    return m;
  }();
  return *table;
}

// Go's builtins plus Prometheus' alert-template functions. Not provided: query, first,
// label, value, strvalue, sortByLabel (they need a query engine and its sample type), tmpl
// (HTML mode only) and toDuration (returns a time.Duration, a type the engine lacks).
const std::unordered_map<std::string_view, FuncSpec>& PromTable() {
  static const auto* table = [] {
    auto* m = new std::unordered_map<std::string_view, FuncSpec>();
    for (std::string_view builtin :
         {"and", "or", "not", "len", "index", "slice", "print", "println", "printf", "html", "js",
          "urlquery", "eq", "ne", "lt", "le", "gt", "ge", "call"}) {
      (*m)[builtin] = Table().at(builtin);
    }
    auto add = [&](std::string_view name, std::vector<P> params, bool variadic, FuncImpl fn,
                   uint8_t flags = 0) {
      (*m)[name] = FuncSpec{name, std::move(params), variadic, fn, flags};
    };
    add("humanize", {P::kAny}, false, FnHumanize);
    add("humanize1024", {P::kAny}, false, FnHumanize1024);
    add("humanizeDuration", {P::kAny}, false, FnHumanizeDuration);
    add("humanizePercentage", {P::kAny}, false, FnHumanizePercentage);
    add("humanizeTimestamp", {P::kAny}, false, FnHumanizeTimestamp);
    add("toTime", {P::kAny}, false, FnToTime);
    add("parseDuration", {P::kString}, false, FnParseDuration);
    add("toUpper", {P::kString}, false, FnToUpper);
    add("toLower", {P::kString}, false, FnToLower);
    add("title", {P::kString}, false, FnPromTitle);
    add("match", {P::kString, P::kString}, false, FnMatch, kFuncRegexArg0);
    add("reReplaceAll", {P::kString, P::kString, P::kString}, false, FnReReplaceAll,
        kFuncRegexArg0);
    add("stripPort", {P::kString}, false, FnStripPort);
    add("stripDomain", {P::kString}, false, FnStripDomain);
    add("urlQueryEscape", {P::kString}, false, FnURLEncode);
    add("graphLink", {P::kString}, false, FnGraphLink);
    add("tableLink", {P::kString}, false, FnTableLink);
    add("safeHtml", {P::kString}, false, FnSafeHTML);
    add("args", {P::kAny}, true, FnArgs);
    add("externalURL", {}, false, FnExternalURL, kFuncProgram);
    add("pathPrefix", {}, false, FnPathPrefix, kFuncProgram);
    add("now", {}, false, FnPromNow, kFuncEntry);
    return m;
  }();
  return *table;
}

}  // namespace

const FuncSpec* LookupFunc(std::string_view name, TemplateFuncs set) {
  const auto& t = set == TemplateFuncs::kPrometheusAlerts ? PromTable() : Table();
  auto it = t.find(name);
  return it == t.end() ? nullptr : &it->second;
}

}  // namespace skald::logql::internal
