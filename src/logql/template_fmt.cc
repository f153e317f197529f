// Go fmt-style printing for template values: %v of each kind, Sprint/Sprintln spacing rules,
// Sprintf with Go's verbs and its in-band error forms (%!d(string=x), %!d(MISSING), ...).
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "logql/template_internal.h"

namespace skald::logql::internal {

size_t DecodeRune(std::string_view s, size_t i, uint32_t* r) {
  const auto c0 = static_cast<unsigned char>(s[i]);
  if (c0 < 0x80) {
    *r = c0;
    return 1;
  }
  auto cont = [&](size_t k) -> int {
    if (i + k >= s.size()) return -1;
    const auto c = static_cast<unsigned char>(s[i + k]);
    return (c & 0xC0) == 0x80 ? (c & 0x3F) : -1;
  };
  *r = 0xFFFD;
  if (c0 >= 0xC2 && c0 <= 0xDF) {
    int c1 = cont(1);
    if (c1 < 0) return 1;
    *r = ((c0 & 0x1F) << 6) | c1;
    return 2;
  }
  if (c0 >= 0xE0 && c0 <= 0xEF) {
    int c1 = cont(1), c2 = cont(2);
    if (c1 < 0 || c2 < 0) return 1;
    uint32_t v = ((c0 & 0x0F) << 12) | (c1 << 6) | c2;
    if (v < 0x800 || (v >= 0xD800 && v <= 0xDFFF)) return 1;
    *r = v;
    return 3;
  }
  if (c0 >= 0xF0 && c0 <= 0xF4) {
    int c1 = cont(1), c2 = cont(2), c3 = cont(3);
    if (c1 < 0 || c2 < 0 || c3 < 0) return 1;
    uint32_t v = ((c0 & 0x07) << 18) | (c1 << 12) | (c2 << 6) | c3;
    if (v < 0x10000 || v > 0x10FFFF) return 1;
    *r = v;
    return 4;
  }
  return 1;
}

void AppendRune(uint32_t r, std::string* out) {
  if (r > 0x10FFFF || (r >= 0xD800 && r <= 0xDFFF)) r = 0xFFFD;
  if (r < 0x80) {
    out->push_back(static_cast<char>(r));
  } else if (r < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (r >> 6)));
    out->push_back(static_cast<char>(0x80 | (r & 0x3F)));
  } else if (r < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (r >> 12)));
    out->push_back(static_cast<char>(0x80 | ((r >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (r & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (r >> 18)));
    out->push_back(static_cast<char>(0x80 | ((r >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((r >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (r & 0x3F)));
  }
}

namespace {

// An approximation of unicode.IsPrint for non-ASCII runes: C1 controls, format characters
// commonly met in logs and the line/paragraph separators are not printable.
bool IsPrintRune(uint32_t r) {
  if (r < 0x20 || r == 0x7F) return false;
  if (r < 0x7F) return true;
  if (r < 0xA0 || r == 0xAD) return false;
  if ((r >= 0x200B && r <= 0x200F) || r == 0x2028 || r == 0x2029 || r == 0xFEFF) return false;
  if ((r >= 0x202A && r <= 0x202E) || (r >= 0x2060 && r <= 0x206F)) return false;
  if (r >= 0xE000 && r <= 0xF8FF) return false;  // private use
  if ((r & 0xFFFE) == 0xFFFE) return false;
  return true;
}

void AppendHex(uint64_t v, int width, std::string* out) {
  static const char* kHex = "0123456789abcdef";
  char buf[16];
  for (int i = width - 1; i >= 0; --i) {
    buf[i] = kHex[v & 0xF];
    v >>= 4;
  }
  out->append(buf, width);
}

}  // namespace

void AppendGoQuote(std::string_view s, std::string* out) {
  out->push_back('"');
  for (size_t i = 0; i < s.size();) {
    uint32_t r;
    size_t n = DecodeRune(s, i, &r);
    if (r == 0xFFFD && n == 1 && static_cast<unsigned char>(s[i]) >= 0x80) {
      out->append("\\x");
      AppendHex(static_cast<unsigned char>(s[i]), 2, out);
      i += 1;
      continue;
    }
    i += n;
    switch (r) {
      case '"':
        out->append("\\\"");
        continue;
      case '\\':
        out->append("\\\\");
        continue;
      case '\a':
        out->append("\\a");
        continue;
      case '\b':
        out->append("\\b");
        continue;
      case '\f':
        out->append("\\f");
        continue;
      case '\n':
        out->append("\\n");
        continue;
      case '\r':
        out->append("\\r");
        continue;
      case '\t':
        out->append("\\t");
        continue;
      case '\v':
        out->append("\\v");
        continue;
      default:
        break;
    }
    if (IsPrintRune(r)) {
      AppendRune(r, out);
    } else if (r < 0x80) {
      out->append("\\x");
      AppendHex(r, 2, out);
    } else if (r < 0x10000) {
      out->append("\\u");
      AppendHex(r, 4, out);
    } else {
      out->append("\\U");
      AppendHex(r, 8, out);
    }
  }
  out->push_back('"');
}

void AppendGoFloat(double f, std::string* out) {
  if (std::isnan(f)) {
    out->append("NaN");
    return;
  }
  if (std::isinf(f)) {
    out->append(f > 0 ? "+Inf" : "-Inf");
    return;
  }
  // Shortest round-trip digits, then strconv's 'g' layout decision: with the shortest
  // precision, e-notation when the exponent is < -4 or >= 6 (so 1e+06, 123456).
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), f, std::chars_format::scientific);
  std::string_view sci(buf, res.ptr - buf);
  bool neg = false;
  if (!sci.empty() && sci[0] == '-') {
    neg = true;
    sci.remove_prefix(1);
  }
  size_t epos = sci.find('e');
  std::string digits;
  for (char c : sci.substr(0, epos)) {
    if (c != '.') digits.push_back(c);
  }
  int exp = std::atoi(std::string(sci.substr(epos + 1)).c_str());
  if (neg) out->push_back('-');
  const int nd = static_cast<int>(digits.size());
  if (f == 0) {
    out->push_back('0');
    return;
  }
  if (exp < -4 || exp >= 6) {
    // e-notation with at least two exponent digits, as strconv does.
    out->push_back(digits[0]);
    if (nd > 1) {
      out->push_back('.');
      out->append(digits, 1, std::string::npos);
    }
    out->push_back('e');
    out->push_back(exp < 0 ? '-' : '+');
    int a = exp < 0 ? -exp : exp;
    if (a < 10) out->push_back('0');
    out->append(std::to_string(a));
    return;
  }
  const int dp = exp + 1;  // digits before the decimal point
  if (dp <= 0) {
    out->append("0.");
    out->append(static_cast<size_t>(-dp), '0');
    out->append(digits);
  } else if (dp >= nd) {
    out->append(digits);
    out->append(static_cast<size_t>(dp - nd), '0');
  } else {
    out->append(digits, 0, dp);
    out->push_back('.');
    out->append(digits, dp, std::string::npos);
  }
}

std::string_view GoTypeName(const Value& v) {
  switch (v.kind) {
    case Kind::kNil:
      return "<nil>";
    case Kind::kString:
      return "string";
    case Kind::kInt:
      return v.int64_type ? "int64" : "int";
    case Kind::kFloat:
      return "float64";
    case Kind::kBool:
      return "bool";
    case Kind::kTime:
      return "time.Time";
    case Kind::kList:
      return "[]interface {}";
    case Kind::kMap:
      return v.b ? "map[string]string" : "map[string]interface {}";
    case Kind::kRoot:
      return "map[string]string";
  }
  return "?";
}

bool Truth(const Value& v) {
  switch (v.kind) {
    case Kind::kNil:
      return false;
    case Kind::kString:
      return !v.str().empty();
    case Kind::kInt:
      return v.i != 0;
    case Kind::kFloat:
      return v.f != 0;
    case Kind::kBool:
      return v.b;
    case Kind::kTime:
      return true;  // a struct is always true
    case Kind::kList:
      return v.list && !v.list->empty();
    case Kind::kMap:
      return v.map && !v.map->empty();
    case Kind::kRoot:
      return true;  // callers materialize the root before asking
  }
  return false;
}

void AppendValue(const Value& v, std::string* out) {
  switch (v.kind) {
    case Kind::kNil:
      out->append("<nil>");
      return;
    case Kind::kString:
      out->append(v.str());
      return;
    case Kind::kInt: {
      char buf[24];
      auto r = std::to_chars(buf, buf + sizeof(buf), v.i);
      out->append(buf, r.ptr - buf);
      return;
    }
    case Kind::kFloat:
      AppendGoFloat(v.f, out);
      return;
    case Kind::kBool:
      out->append(v.b ? "true" : "false");
      return;
    case Kind::kTime:
      AppendTimeString(v.t, out);
      return;
    case Kind::kList: {
      out->push_back('[');
      if (v.list) {
        for (size_t i = 0; i < v.list->size(); ++i) {
          if (i) out->push_back(' ');
          AppendValue((*v.list)[i], out);
        }
      }
      out->push_back(']');
      return;
    }
    case Kind::kMap:
    case Kind::kRoot: {
      out->append("map[");
      if (v.map) {
        bool first = true;
        for (const auto& [k, e] : *v.map) {
          if (!first) out->push_back(' ');
          first = false;
          out->append(k);
          out->push_back(':');
          AppendValue(e, out);
        }
      }
      out->push_back(']');
      return;
    }
  }
}

void AppendSprint(const Value* args, size_t n, std::string* out) {
  for (size_t i = 0; i < n; ++i) {
    if (i > 0 && args[i].kind != Kind::kString && args[i - 1].kind != Kind::kString) {
      out->push_back(' ');
    }
    AppendValue(args[i], out);
  }
}

void AppendSprintln(const Value* args, size_t n, std::string* out) {
  for (size_t i = 0; i < n; ++i) {
    if (i > 0) out->push_back(' ');
    AppendValue(args[i], out);
  }
  out->push_back('\n');
}

namespace {

struct Spec {
  bool minus = false, plus = false, sharp = false, zero = false, space = false;
  int width = -1, prec = -1;
};

size_t RuneCount(std::string_view s) {
  size_t n = 0;
  for (size_t i = 0; i < s.size();) {
    uint32_t r;
    i += DecodeRune(s, i, &r);
    ++n;
  }
  return n;
}

// Pads `body` to the spec's width. Zero padding goes after a sign for numbers, in front
// of anything else.
void Pad(const Spec& sp, std::string_view body, bool numeric, std::string* out) {
  size_t len = RuneCount(body);
  if (sp.width < 0 || len >= static_cast<size_t>(sp.width)) {
    out->append(body);
    return;
  }
  size_t pad = sp.width - len;
  if (sp.minus) {
    out->append(body);
    out->append(pad, ' ');
  } else if (sp.zero && numeric) {
    size_t sign = (!body.empty() && (body[0] == '-' || body[0] == '+' || body[0] == ' ')) ? 1 : 0;
    out->append(body.substr(0, sign));
    out->append(pad, '0');
    out->append(body.substr(sign));
  } else {
    // Go pads everything else with zeros too when the flag is set ("%05s" of "200" is
    // "00200"; observed from Loki's line_format).
    out->append(pad, sp.zero ? '0' : ' ');
    out->append(body);
  }
}

void BadVerb(char verb, const Value& v, std::string* out) {
  out->append("%!");
  out->push_back(verb);
  out->push_back('(');
  if (v.kind == Kind::kNil) {
    out->append("<nil>");
  } else {
    out->append(GoTypeName(v));
    out->push_back('=');
    AppendValue(v, out);
  }
  out->push_back(')');
}

void FormatInt(const Spec& sp, char verb, const Value& v, std::string* out) {
  const int64_t x = v.i;
  const bool neg = x < 0;
  uint64_t u = neg ? (0 - static_cast<uint64_t>(x)) : static_cast<uint64_t>(x);
  std::string body;
  if (verb == 'c') {
    AppendRune(static_cast<uint32_t>(x), &body);
    Pad(sp, body, false, out);
    return;
  }
  if (verb == 'q') {
    std::string r;
    AppendRune(static_cast<uint32_t>(x), &r);
    std::string q;
    AppendGoQuote(r, &q);
    body.push_back('\'');
    body.append(q, 1, q.size() - 2);
    body.push_back('\'');
    if (body == "'\\\"'") body = "'\"'";
    Pad(sp, body, false, out);
    return;
  }
  if (verb == 'U') {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "U+%04llX", static_cast<unsigned long long>(x));
    Pad(sp, buf, false, out);
    return;
  }
  int base = 10;
  bool upper = false;
  const char* prefix = "";
  switch (verb) {
    case 'b':
      base = 2;
      if (sp.sharp) prefix = "0b";
      break;
    case 'o':
      base = 8;
      if (sp.sharp) prefix = "0";
      break;
    case 'O':
      base = 8;
      prefix = "0o";
      break;
    case 'x':
      base = 16;
      if (sp.sharp) prefix = "0x";
      break;
    case 'X':
      base = 16;
      upper = true;
      if (sp.sharp) prefix = "0X";
      break;
    default:
      break;
  }
  char digits[70];
  auto r = std::to_chars(digits, digits + sizeof(digits), u, base);
  std::string ds(digits, r.ptr - digits);
  if (upper) {
    for (char& c : ds) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  if (sp.prec >= 0 && ds.size() < static_cast<size_t>(sp.prec)) {
    ds.insert(0, sp.prec - ds.size(), '0');
  }
  if (neg) {
    body.push_back('-');
  } else if (sp.plus) {
    body.push_back('+');
  } else if (sp.space) {
    body.push_back(' ');
  }
  body.append(prefix);
  body.append(ds);
  Spec s2 = sp;
  if (sp.prec >= 0) s2.zero = false;  // Go ignores 0 padding when a precision is given
  Pad(s2, body, true, out);
}

void FormatFloat(const Spec& sp, char verb, double f, std::string* out) {
  std::string body;
  if (std::isnan(f) || std::isinf(f)) {
    if (std::isnan(f)) {
      body = sp.plus ? "+NaN" : (sp.space ? " NaN" : "NaN");
    } else {
      body = f > 0 ? (sp.plus ? "+Inf" : (sp.space ? " Inf" : "+Inf")) : "-Inf";
      if (f > 0 && !sp.plus && !sp.space) body = "+Inf";
    }
    Spec s2 = sp;
    s2.zero = false;
    Pad(s2, body, false, out);
    return;
  }
  if ((verb == 'g' || verb == 'G' || verb == 'v') && sp.prec < 0) {
    AppendGoFloat(f, &body);
    if (verb == 'G') {
      for (char& c : body) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
  } else {
    char fmtbuf[16];
    char cv = verb == 'v' ? 'g' : (verb == 'F' ? 'f' : verb);
    int prec = sp.prec >= 0 ? sp.prec : 6;
    std::snprintf(fmtbuf, sizeof(fmtbuf), "%%.%d%c", prec, cv);
    std::vector<char> buf(static_cast<size_t>(prec) + 400);
    std::snprintf(buf.data(), buf.size(), fmtbuf, f);
    body = buf.data();
  }
  if (body[0] != '-' && (sp.plus || sp.space)) {
    std::string signed_body(1, sp.plus ? '+' : ' ');
    signed_body += body;
    body.swap(signed_body);
  }
  Pad(sp, body, true, out);
}

void FormatOne(const Spec& sp, char verb, const Value& v, std::string* out) {
  switch (verb) {
    case 'v':
      if (v.kind == Kind::kInt) return FormatInt(sp, 'd', v, out);
      if (v.kind == Kind::kFloat) return FormatFloat(sp, 'g', v.f, out);
      if (sp.sharp && v.kind == Kind::kString) {
        std::string q;
        AppendGoQuote(v.str(), &q);
        return Pad(sp, q, false, out);
      }
      {
        std::string s;
        AppendValue(v, &s);
        return Pad(sp, s, false, out);
      }
    case 's':
      if (v.kind == Kind::kString || v.kind == Kind::kTime || v.kind == Kind::kList ||
          v.kind == Kind::kMap) {
        std::string s;
        AppendValue(v, &s);
        std::string_view sv = s;
        if (sp.prec >= 0) {
          size_t i = 0;
          for (int k = 0; k < sp.prec && i < sv.size(); ++k) {
            uint32_t r;
            i += DecodeRune(sv, i, &r);
          }
          sv = sv.substr(0, i);
        }
        return Pad(sp, sv, false, out);
      }
      return BadVerb(verb, v, out);
    case 'q':
      if (v.kind == Kind::kString) {
        std::string q;
        AppendGoQuote(v.str(), &q);
        return Pad(sp, q, false, out);
      }
      if (v.kind == Kind::kInt) return FormatInt(sp, 'q', v, out);
      return BadVerb(verb, v, out);
    case 'x':
    case 'X':
      if (v.kind == Kind::kString) {
        std::string h;
        for (unsigned char c : v.str()) {
          char b[3];
          std::snprintf(b, sizeof(b), verb == 'x' ? "%02x" : "%02X", c);
          h.append(b);
        }
        return Pad(sp, h, false, out);
      }
      if (v.kind == Kind::kInt) return FormatInt(sp, verb, v, out);
      return BadVerb(verb, v, out);
    case 'd':
    case 'b':
    case 'o':
    case 'O':
    case 'c':
    case 'U':
      if (v.kind == Kind::kInt) return FormatInt(sp, verb, v, out);
      return BadVerb(verb, v, out);
    case 'e':
    case 'E':
    case 'f':
    case 'F':
    case 'g':
    case 'G':
      if (v.kind == Kind::kFloat) return FormatFloat(sp, verb, v.f, out);
      return BadVerb(verb, v, out);
    case 't':
      if (v.kind == Kind::kBool) return Pad(sp, v.b ? "true" : "false", false, out);
      return BadVerb(verb, v, out);
    default:
      return BadVerb(verb, v, out);
  }
}

}  // namespace

void AppendSprintf(std::string_view format, const Value* args, size_t n, std::string* out) {
  size_t argi = 0;
  constexpr int kMaxNum = 1000000;  // Go reports %!(BADWIDTH) / %!(BADPREC) above 1e6
  const size_t start_size = out->size();
  for (size_t i = 0; i < format.size();) {
    // Stop early once the result is over the limit; the caller reports it as too big.
    if (out->size() - start_size > kMaxValueBytes) return;
    char c = format[i];
    if (c != '%') {
      size_t j = format.find('%', i);
      if (j == std::string_view::npos) j = format.size();
      out->append(format.substr(i, j - i));
      i = j;
      continue;
    }
    ++i;
    Spec sp;
    for (; i < format.size(); ++i) {
      char f = format[i];
      if (f == '-') {
        sp.minus = true;
        sp.zero = false;
      } else if (f == '+') {
        sp.plus = true;
      } else if (f == '#') {
        sp.sharp = true;
      } else if (f == '0') {
        sp.zero = !sp.minus;
      } else if (f == ' ') {
        sp.space = true;
      } else {
        break;
      }
    }
    bool bad_width = false, bad_prec = false;
    auto parse_num = [&](int* dst, bool* bad) {
      if (i < format.size() && format[i] == '*') {
        ++i;
        if (argi < n && args[argi].kind == Kind::kInt) {
          int64_t w = args[argi].i;
          ++argi;
          if (w > kMaxNum || w < -kMaxNum) {
            *bad = true;
          } else {
            *dst = static_cast<int>(w);
          }
        } else {
          if (argi < n) ++argi;
          *bad = true;
        }
        return;
      }
      int v = -1;
      while (i < format.size() && format[i] >= '0' && format[i] <= '9') {
        v = (v < 0 ? 0 : v) * 10 + (format[i] - '0');
        if (v > kMaxNum) {
          *bad = true;
          v = kMaxNum;
        }
        ++i;
      }
      if (v >= 0) *dst = v;
    };
    parse_num(&sp.width, &bad_width);
    if (sp.width < -1) {
      sp.minus = true;
      sp.width = -sp.width;
    }
    if (i < format.size() && format[i] == '.') {
      ++i;
      sp.prec = 0;
      parse_num(&sp.prec, &bad_prec);
      if (sp.prec < 0) sp.prec = -1;
    }
    if (bad_width) out->append("%!(BADWIDTH)");
    if (bad_prec) out->append("%!(BADPREC)");
    if (i >= format.size()) {
      out->append("%!(NOVERB)");
      break;
    }
    uint32_t verb;
    size_t vl = DecodeRune(format, i, &verb);
    i += vl;
    if (verb == '%') {
      out->push_back('%');
      continue;
    }
    if (argi >= n) {
      out->append("%!");
      AppendRune(verb, out);
      out->append("(MISSING)");
      continue;
    }
    if (verb >= 0x80) {
      out->append("%!");
      AppendRune(verb, out);
      out->push_back('(');
      out->append(GoTypeName(args[argi]));
      out->push_back('=');
      AppendValue(args[argi], out);
      out->push_back(')');
      ++argi;
      continue;
    }
    FormatOne(sp, static_cast<char>(verb), args[argi], out);
    ++argi;
  }
  if (argi < n) {
    out->append("%!(EXTRA ");
    for (size_t k = argi; k < n; ++k) {
      if (k > argi) out->append(", ");
      if (args[k].kind == Kind::kNil) {
        out->append("<nil>");
        continue;
      }
      out->append(GoTypeName(args[k]));
      out->push_back('=');
      AppendValue(args[k], out);
    }
    out->push_back(')');
  }
}

}  // namespace skald::logql::internal
