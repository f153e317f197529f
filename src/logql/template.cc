// Go text/template for LogQL: lexer and parser (producing a compiled program with functions
// and variables resolved) and the executor. Behaviour and messages follow Go's text/template
// (lexer states, parse errors "template: line:1: ...", exec errors
// "template: line:1:5: executing "line" at <node>: ..."), written from its documented
// behaviour.
#include "logql/template.h"

#include <re2/re2.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "logql/regex_util.h"
#include "logql/template_internal.h"

namespace skald::logql {
namespace internal {

// ---------------------------------------------------------------------------------------
// Lexer

enum class It : uint8_t {
  kError,
  kEOF,
  kText,
  kLeftDelim,
  kRightDelim,
  kSpace,
  kField,
  kVariable,
  kIdentifier,
  kBool,
  kNumber,
  kComplex,
  kCharConstant,
  kString,
  kRawString,
  kPipe,
  kAssign,
  kDeclare,
  kChar,
  kLeftParen,
  kRightParen,
  kKeyword,  // marker: everything after is a keyword
  kBlock,
  kBreak,
  kContinue,
  kDot,
  kDefine,
  kElse,
  kEnd,
  kIf,
  kNil,
  kRange,
  kTemplate,
  kWith,
};

struct Item {
  It typ;
  uint32_t pos;
  int line;
  std::string_view val;
  std::string err;  // kError only
};

namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

bool IsAlnumAt(std::string_view s, size_t i, size_t* len) {
  if (i >= s.size()) return false;
  unsigned char c = static_cast<unsigned char>(s[i]);
  if (c < 0x80) {
    *len = 1;
    return c == '_' || std::isalnum(c);
  }
  uint32_t r;
  *len = DecodeRune(s, i, &r);
  // Non-ASCII letters and digits; an approximation of unicode.IsLetter/IsDigit that
  // accepts everything printable above Latin-1 punctuation.
  return r != 0xFFFD && r >= 0xAA && r != 0xAB && r != 0xBB && r != 0xD7 && r != 0xF7;
}

std::string FormatU(uint32_t r) {  // Go's %#U
  char buf[32];
  std::snprintf(buf, sizeof(buf), "U+%04X", r);
  std::string s = buf;
  if (r >= 0x20 && r != 0x7F) {
    s += " '";
    AppendRune(r, &s);
    s += "'";
  }
  return s;
}

class Lexer {
 public:
  explicit Lexer(std::string_view in) : in_(in) {}

  std::vector<Item> Run() {
    while (!done_) LexText();
    return std::move(items_);
  }

 private:
  void Emit(It t) {
    items_.push_back(
        Item{t, static_cast<uint32_t>(start_), start_line_, in_.substr(start_, pos_ - start_), {}});
    start_ = pos_;
    start_line_ = line_;
  }
  void Advance(size_t n) {
    for (size_t k = 0; k < n && pos_ < in_.size(); ++k) {
      if (in_[pos_] == '\n') ++line_;
      ++pos_;
    }
  }
  void Ignore() {
    start_ = pos_;
    start_line_ = line_;
  }
  void Error(std::string msg) {
    items_.push_back(
        Item{It::kError, static_cast<uint32_t>(start_), start_line_, {}, std::move(msg)});
    done_ = true;
  }
  bool HasRightTrim(size_t p) const {
    return p + 1 < in_.size() && IsSpace(in_[p]) && in_[p + 1] == '-';
  }
  // At "}}" or " -}}"?
  bool AtRightDelim(bool* trim) const {
    if (HasRightTrim(pos_) && in_.substr(pos_ + 2).starts_with("}}")) {
      *trim = true;
      return true;
    }
    *trim = false;
    return in_.substr(pos_).starts_with("}}");
  }
  size_t LeftTrimLen(size_t p) const {
    size_t q = p;
    while (q < in_.size() && IsSpace(in_[q])) ++q;
    return q - p;
  }

  void LexText() {
    size_t x = in_.find("{{", pos_);
    if (x == std::string_view::npos) {
      Advance(in_.size() - pos_);
      if (pos_ > start_) Emit(It::kText);
      Emit(It::kEOF);
      done_ = true;
      return;
    }
    size_t text_end = x;
    bool trim = x + 3 < in_.size() + 1 && x + 2 < in_.size() && in_[x + 2] == '-' &&
                x + 3 < in_.size() && IsSpace(in_[x + 3]);
    if (trim) {
      while (text_end > start_ && IsSpace(in_[text_end - 1])) --text_end;
    }
    Advance(text_end - pos_);
    if (pos_ > start_) Emit(It::kText);
    Advance(x - pos_);
    Ignore();
    LexLeftDelim(trim);
  }

  void LexLeftDelim(bool trim) {
    size_t after = trim ? 2 : 0;
    if (in_.substr(pos_ + 2 + after).starts_with("/*")) {
      Advance(2 + after);
      Ignore();
      LexComment();
      return;
    }
    Advance(2);
    Emit(It::kLeftDelim);
    Advance(after);
    Ignore();
    paren_depth_ = 0;
    LexInsideAction();
  }

  void LexComment() {
    Advance(2);
    size_t x = in_.find("*/", pos_);
    if (x == std::string_view::npos) return Error("unclosed comment");
    Advance(x + 2 - pos_);
    bool trim;
    if (!AtRightDelim(&trim)) return Error("comment ends before closing delimiter");
    if (trim) Advance(2);
    Advance(2);
    if (trim) Advance(LeftTrimLen(pos_));
    Ignore();
  }

  void LexRightDelim() {
    bool trim;
    AtRightDelim(&trim);
    if (trim) {
      Advance(2);
      Ignore();
    }
    Advance(2);
    Emit(It::kRightDelim);
    if (trim) {
      Advance(LeftTrimLen(pos_));
      Ignore();
    }
  }

  bool AtTerminator() const {
    if (pos_ >= in_.size()) return true;
    char c = in_[pos_];
    if (IsSpace(c)) return true;
    switch (c) {
      case '.':
      case ',':
      case '|':
      case ':':
      case ')':
      case '(':
        return true;
      default:
        break;
    }
    return in_.substr(pos_).starts_with("}}");
  }

  // Returns false after emitting an error.
  bool LexFieldOrVariable(It typ) {
    if (AtTerminator()) {
      Emit(typ == It::kVariable ? It::kVariable : It::kDot);
      return true;
    }
    size_t l;
    while (IsAlnumAt(in_, pos_, &l)) Advance(l);
    if (!AtTerminator()) {
      uint32_t r;
      DecodeRune(in_, pos_, &r);
      Error("bad character " + FormatU(r));
      return false;
    }
    Emit(typ);
    return true;
  }

  bool Accept(std::string_view valid) {
    if (pos_ < in_.size() && valid.find(in_[pos_]) != std::string_view::npos) {
      Advance(1);
      return true;
    }
    return false;
  }
  void AcceptRun(std::string_view valid) {
    while (Accept(valid)) {
    }
  }
  bool ScanNumber() {
    Accept("+-");
    std::string_view digits = "0123456789_";
    if (Accept("0")) {
      if (Accept("xX")) {
        digits = "0123456789abcdefABCDEF_";
      } else if (Accept("oO")) {
        digits = "01234567_";
      } else if (Accept("bB")) {
        digits = "01_";
      }
    }
    AcceptRun(digits);
    if (Accept(".")) AcceptRun(digits);
    if (digits.size() == 11 && Accept("eE")) {
      Accept("+-");
      AcceptRun("0123456789_");
    }
    if (digits.size() == 23 && Accept("pP")) {
      Accept("+-");
      AcceptRun("0123456789_");
    }
    Accept("i");
    size_t l;
    if (IsAlnumAt(in_, pos_, &l)) {
      Advance(l);
      return false;
    }
    return true;
  }
  std::string QuoteGo(std::string_view s) {
    std::string q;
    AppendGoQuote(s, &q);
    return q;
  }

  void LexInsideAction() {
    for (;;) {
      if (done_) return;
      bool trim;
      if (AtRightDelim(&trim)) {
        if (paren_depth_ == 0) return LexRightDelim();
        return Error("unclosed left paren");
      }
      if (pos_ >= in_.size()) return Error("unclosed action");
      char c = in_[pos_];
      if (IsSpace(c)) {
        size_t n = 0;
        while (pos_ < in_.size() && IsSpace(in_[pos_])) {
          Advance(1);
          ++n;
        }
        // A trim-marked closing delimiter has a space before its '-'.
        if (HasRightTrim(pos_ - 1) && in_.substr(pos_ + 1).starts_with("}}")) {
          pos_ -= 1;  // back before the space (never a newline counted twice: see below)
          if (in_[pos_] == '\n') --line_;
          if (n == 1) {
            LexRightDelim();
            return;
          }
        }
        Emit(It::kSpace);
        continue;
      }
      Advance(1);
      switch (c) {
        case '=':
          Emit(It::kAssign);
          continue;
        case ':':
          if (pos_ >= in_.size() || in_[pos_] != '=') return Error("expected :=");
          Advance(1);
          Emit(It::kDeclare);
          continue;
        case '|':
          Emit(It::kPipe);
          continue;
        case '"':
          for (;;) {
            if (pos_ >= in_.size() || in_[pos_] == '\n') {
              return Error("unterminated quoted string");
            }
            char d = in_[pos_];
            Advance(1);
            if (d == '\\') {
              if (pos_ >= in_.size() || in_[pos_] == '\n') {
                return Error("unterminated quoted string");
              }
              Advance(1);
            } else if (d == '"') {
              break;
            }
          }
          Emit(It::kString);
          continue;
        case '`': {
          size_t x = in_.find('`', pos_);
          if (x == std::string_view::npos) return Error("unterminated raw quoted string");
          Advance(x + 1 - pos_);
          Emit(It::kRawString);
          continue;
        }
        case '$':
          if (!LexFieldOrVariable(It::kVariable)) return;
          continue;
        case '\'':
          for (;;) {
            if (pos_ >= in_.size() || in_[pos_] == '\n') {
              return Error("unterminated character constant");
            }
            char d = in_[pos_];
            Advance(1);
            if (d == '\\') {
              if (pos_ >= in_.size() || in_[pos_] == '\n') {
                return Error("unterminated character constant");
              }
              Advance(1);
            } else if (d == '\'') {
              break;
            }
          }
          Emit(It::kCharConstant);
          continue;
        case '(':
          Emit(It::kLeftParen);
          ++paren_depth_;
          continue;
        case ')':
          Emit(It::kRightParen);
          --paren_depth_;
          if (paren_depth_ < 0) return Error("unexpected right paren");
          continue;
        default:
          break;
      }
      if (c == '.' && (pos_ >= in_.size() || in_[pos_] < '0' || in_[pos_] > '9')) {
        if (!LexFieldOrVariable(It::kField)) return;
        continue;
      }
      if (c == '.' || c == '+' || c == '-' || (c >= '0' && c <= '9')) {
        pos_ -= 1;
        if (!ScanNumber()) {
          return Error("bad number syntax: " + QuoteGo(in_.substr(start_, pos_ - start_)));
        }
        if (pos_ < in_.size() && (in_[pos_] == '+' || in_[pos_] == '-')) {
          if (!ScanNumber() || in_[pos_ - 1] != 'i') {
            return Error("bad number syntax: " + QuoteGo(in_.substr(start_, pos_ - start_)));
          }
          Emit(It::kComplex);
        } else {
          Emit(It::kNumber);
        }
        continue;
      }
      size_t l;
      pos_ -= 1;
      if (IsAlnumAt(in_, pos_, &l)) {
        while (IsAlnumAt(in_, pos_, &l)) Advance(l);
        std::string_view word = in_.substr(start_, pos_ - start_);
        if (!AtTerminator()) {
          uint32_t r;
          DecodeRune(in_, pos_, &r);
          return Error("bad character " + FormatU(r));
        }
        It t = It::kIdentifier;
        if (word == "block")
          t = It::kBlock;
        else if (word == "break")
          t = It::kBreak;
        else if (word == "continue")
          t = It::kContinue;
        else if (word == "define")
          t = It::kDefine;
        else if (word == "else")
          t = It::kElse;
        else if (word == "end")
          t = It::kEnd;
        else if (word == "if")
          t = It::kIf;
        else if (word == "range")
          t = It::kRange;
        else if (word == "nil")
          t = It::kNil;
        else if (word == "template")
          t = It::kTemplate;
        else if (word == "with")
          t = It::kWith;
        else if (word == "true" || word == "false")
          t = It::kBool;
        Emit(t);
        continue;
      }
      uint32_t r;
      size_t rl = DecodeRune(in_, pos_, &r);
      if (r < 0x80 && r >= 0x20 && r != 0x7F) {
        Advance(rl);
        Emit(It::kChar);
        continue;
      }
      return Error("unrecognized character in action: " + FormatU(r));
    }
  }

  std::string_view in_;
  size_t pos_ = 0, start_ = 0;
  int line_ = 1, start_line_ = 1;
  int paren_depth_ = 0;
  bool done_ = false;
  std::vector<Item> items_;
};

}  // namespace

// ---------------------------------------------------------------------------------------
// Program

enum class NT : uint8_t {
  kField,
  kVariable,
  kChain,
  kIdentifier,
  kDot,
  kNil,
  kBool,
  kNumber,
  kString,
  kPipe
};

struct Pipe;

struct Node {
  NT type;
  uint32_t pos = 0;
  std::vector<std::string> fields;  // kField/kVariable/kChain: the field names
  std::string name;                 // kVariable: "$x"; kIdentifier: function name
  int slot = -1;                    // kVariable: variable slot (-1: undefined at run time)
  const FuncSpec* func = nullptr;   // kIdentifier
  std::unique_ptr<Node> sub;        // kChain: the node the fields apply to
  std::unique_ptr<Pipe> pipe;       // kPipe
  Value value;                      // literals: kBool, kString, kNumber (as interface{})
  std::string text;                 // literals: source text
  bool is_int = false, is_uint = false, is_float = false;
  int64_t int_val = 0;
  double float_val = 0;
};

struct Command {
  uint32_t pos = 0;
  std::vector<std::unique_ptr<Node>> args;
  std::unique_ptr<re2::RE2> regex;  // precompiled literal regex argument
  std::string regex_error;
};

struct VarDecl {
  std::string name;
  int slot = -1;
  uint32_t pos = 0;
};

struct Pipe {
  uint32_t pos = 0;
  bool is_assign = false;
  std::vector<VarDecl> decl;
  std::vector<Command> cmds;
};

enum class ST : uint8_t { kText, kAction, kIf, kRange, kWith, kBreak, kContinue };

struct Stmt {
  ST type;
  uint32_t pos = 0;
  std::string_view text;  // kText (a view into the program's source)
  std::unique_ptr<Pipe> pipe;
  std::vector<Stmt> list, else_list;
  bool has_else = false;
};

struct TemplateProgram {
  std::string source;
  std::string name;
  std::vector<Stmt> root;
  int num_slots = 1;  // slot 0 is `$`
  bool constant = true;
  TemplateFuncs funcs = TemplateFuncs::kLogQL;
  std::string external_url;  // kPrometheusAlerts: externalURL's result
  std::string path_prefix;   // kPrometheusAlerts: pathPrefix's result (the URL's path)
};

namespace {

// ---- node printing (Go's Node.String(), used in exec error contexts) ----

void PipeString(const Pipe& p, std::string* out);

void NodeString(const Node& n, std::string* out) {
  switch (n.type) {
    case NT::kField:
      for (const auto& f : n.fields) {
        out->push_back('.');
        out->append(f);
      }
      return;
    case NT::kVariable:
      out->append(n.name);
      for (const auto& f : n.fields) {
        out->push_back('.');
        out->append(f);
      }
      return;
    case NT::kChain:
      if (n.sub->type == NT::kPipe) {
        out->push_back('(');
        NodeString(*n.sub, out);
        out->push_back(')');
      } else {
        NodeString(*n.sub, out);
      }
      for (const auto& f : n.fields) {
        out->push_back('.');
        out->append(f);
      }
      return;
    case NT::kIdentifier:
      out->append(n.name);
      return;
    case NT::kDot:
      out->push_back('.');
      return;
    case NT::kNil:
      out->append("nil");
      return;
    case NT::kBool:
    case NT::kNumber:
    case NT::kString:
      out->append(n.text);
      return;
    case NT::kPipe:
      PipeString(*n.pipe, out);
      return;
  }
}

void CommandString(const Command& c, std::string* out) {
  for (size_t i = 0; i < c.args.size(); ++i) {
    if (i) out->push_back(' ');
    if (c.args[i]->type == NT::kPipe) {
      out->push_back('(');
      NodeString(*c.args[i], out);
      out->push_back(')');
    } else {
      NodeString(*c.args[i], out);
    }
  }
}

void PipeString(const Pipe& p, std::string* out) {
  if (!p.decl.empty()) {
    for (size_t i = 0; i < p.decl.size(); ++i) {
      if (i) out->append(", ");
      out->append(p.decl[i].name);
    }
    out->append(p.is_assign ? " = " : " := ");
  }
  for (size_t i = 0; i < p.cmds.size(); ++i) {
    if (i) out->append(" | ");
    CommandString(p.cmds[i], out);
  }
}

void ListString(const std::vector<Stmt>& l, std::string* out);

void StmtString(const Stmt& s, std::string* out) {
  switch (s.type) {
    case ST::kText:
      out->append(s.text);
      return;
    case ST::kAction:
      out->append("{{");
      PipeString(*s.pipe, out);
      out->append("}}");
      return;
    case ST::kBreak:
      out->append("{{break}}");
      return;
    case ST::kContinue:
      out->append("{{continue}}");
      return;
    default:
      break;
  }
  out->append(s.type == ST::kIf ? "{{if " : s.type == ST::kRange ? "{{range " : "{{with ");
  PipeString(*s.pipe, out);
  out->append("}}");
  ListString(s.list, out);
  if (s.has_else) {
    out->append("{{else}}");
    ListString(s.else_list, out);
  }
  out->append("{{end}}");
}

void ListString(const std::vector<Stmt>& l, std::string* out) {
  for (const auto& s : l) StmtString(s, out);
}

// ---- parser ----

// Parse nesting (parentheses and control structures) is bounded so that neither parsing
// nor the recursive executor can exhaust the stack on hostile input.
constexpr int kMaxParseDepth = 100;

struct ParseError {};

class Parser {
 public:
  Parser(TemplateProgram* prog, std::vector<Item> items) : prog_(prog), items_(std::move(items)) {}

  Status Run() {
    vars_.push_back({"$", 0});
    Status st = ParseTop();
    return st;
  }

 private:
  // ---- token access (Go's next/backup/peek with one token of lookahead) ----
  const Item& Next() {
    const Item& it = items_[std::min(idx_, items_.size() - 1)];
    if (idx_ < items_.size()) ++idx_;
    last_line_ = it.line;
    return it;
  }
  void Backup(size_t n = 1) { idx_ -= n; }
  const Item& Peek() {
    const Item& it = items_[std::min(idx_, items_.size() - 1)];
    last_line_ = it.line;
    return it;
  }
  const Item& NextNonSpace() {
    for (;;) {
      const Item& it = Next();
      if (it.typ != It::kSpace) return it;
    }
  }
  const Item& PeekNonSpace() {
    const Item& it = NextNonSpace();
    Backup();
    return it;
  }

  Status Errorf(std::string msg) {
    return Status::InvalidArgument("template: " + prog_->name + ":" + std::to_string(last_line_) +
                                   ": " + msg);
  }
  static std::string ItemString(const Item& it) {
    if (it.typ == It::kEOF) return "EOF";
    if (it.typ == It::kError) return it.err;
    if (it.typ > It::kKeyword) return "<" + std::string(it.val) + ">";
    std::string q;
    if (it.val.size() > 10) {
      // %.10q: the first ten runes, quoted, then "...".
      size_t i = 0;
      for (int k = 0; k < 10 && i < it.val.size(); ++k) {
        uint32_t r;
        i += DecodeRune(it.val, i, &r);
      }
      AppendGoQuote(it.val.substr(0, i), &q);
      return q + "...";
    }
    AppendGoQuote(it.val, &q);
    return q;
  }
  Status Unexpected(const Item& it, std::string_view context) {
    if (it.typ == It::kError) {
      last_line_ = it.line;
      return Errorf(it.err);
    }
    return Errorf("unexpected " + ItemString(it) + " in " + std::string(context));
  }
  Status Expect(It t, std::string_view context, const Item** out) {
    const Item& it = NextNonSpace();
    if (it.typ != t) return Unexpected(it, context);
    *out = &it;
    return Status::OK();
  }

  Status ParseTop() {
    while (Peek().typ != It::kEOF) {
      if (Peek().typ == It::kLeftDelim) {
        Next();
        const Item& t = NextNonSpace();
        if (t.typ == It::kDefine) {
          return Errorf("{{define}} is not supported in LogQL templates");
        }
        // back up to the delimiter: undo NextNonSpace and Next
        while (items_[idx_ - 1].typ != It::kLeftDelim) --idx_;
        --idx_;
      }
      Stmt s;
      int end_kind = 0;
      SKALD_RETURN_IF_ERROR(TextOrAction(&s, &end_kind));
      if (end_kind == 1) return Errorf("unexpected {{end}}");
      if (end_kind == 2) return Errorf("unexpected {{else}}");
      prog_->root.push_back(std::move(s));
    }
    return Status::OK();
  }

  // end_kind: 0 = a statement in *s, 1 = {{end}}, 2 = {{else}} (with else_if/with set)
  Status TextOrAction(Stmt* s, int* end_kind) {
    const Item& it = NextNonSpace();
    switch (it.typ) {
      case It::kText:
        s->type = ST::kText;
        s->pos = it.pos;
        s->text = it.val;
        return Status::OK();
      case It::kLeftDelim:
        action_line_ = it.line;
        return Action(s, end_kind);
      case It::kError:
        last_line_ = it.line;
        return Errorf(it.err);
      default:
        return Unexpected(it, "input");
    }
  }

  Status ItemList(std::vector<Stmt>* list, int* end_kind) {
    while (PeekNonSpace().typ != It::kEOF) {
      Stmt s;
      int ek = 0;
      SKALD_RETURN_IF_ERROR(TextOrAction(&s, &ek));
      if (ek != 0) {
        *end_kind = ek;
        return Status::OK();
      }
      list->push_back(std::move(s));
    }
    return Errorf("unexpected EOF");
  }

  Status Action(Stmt* s, int* end_kind) {
    const Item& it = NextNonSpace();
    switch (it.typ) {
      case It::kBlock:
      case It::kTemplate:
        return Errorf("{{" + std::string(it.val) + "}} is not supported in LogQL templates");
      case It::kBreak:
      case It::kContinue: {
        const bool brk = it.typ == It::kBreak;
        const Item& t = NextNonSpace();
        if (t.typ != It::kRightDelim) {
          return Unexpected(t, brk ? "{{break}}" : "{{continue}}");
        }
        if (range_depth_ == 0) {
          return Errorf(brk ? "{{break}} outside {{range}}" : "{{continue}} outside {{range}}");
        }
        s->type = brk ? ST::kBreak : ST::kContinue;
        s->pos = it.pos;
        return Status::OK();
      }
      case It::kElse: {
        const Item& p = PeekNonSpace();
        if (p.typ == It::kIf || p.typ == It::kWith) {
          *end_kind = 2;
          return Status::OK();
        }
        const Item* tok;
        SKALD_RETURN_IF_ERROR(Expect(It::kRightDelim, "else", &tok));
        *end_kind = 2;
        return Status::OK();
      }
      case It::kEnd: {
        const Item* tok;
        SKALD_RETURN_IF_ERROR(Expect(It::kRightDelim, "end", &tok));
        *end_kind = 1;
        return Status::OK();
      }
      case It::kIf:
        return Control(ST::kIf, "if", it.pos, s);
      case It::kRange:
        return Control(ST::kRange, "range", it.pos, s);
      case It::kWith:
        return Control(ST::kWith, "with", it.pos, s);
      default:
        break;
    }
    Backup();
    s->type = ST::kAction;
    s->pos = Peek().pos;
    s->pipe = std::make_unique<Pipe>();
    return ParsePipeline("command", It::kRightDelim, s->pipe.get());
  }

  Status Control(ST type, std::string_view context, uint32_t pos, Stmt* s) {
    if (++depth_ > kMaxParseDepth) return Errorf("max nesting depth exceeded");
    const size_t nvars = vars_.size();
    s->type = type;
    s->pos = pos;
    s->pipe = std::make_unique<Pipe>();
    SKALD_RETURN_IF_ERROR(ParsePipeline(context, It::kRightDelim, s->pipe.get()));
    if (type == ST::kRange) ++range_depth_;
    int ek = 0;
    SKALD_RETURN_IF_ERROR(ItemList(&s->list, &ek));
    if (type == ST::kRange) --range_depth_;
    if (ek == 2) {
      s->has_else = true;
      const Item& p = Peek();
      if (type == ST::kIf && p.typ == It::kIf) {
        Next();
        Stmt inner;
        SKALD_RETURN_IF_ERROR(Control(ST::kIf, "if", p.pos, &inner));
        s->else_list.push_back(std::move(inner));
      } else if (type == ST::kWith && p.typ == It::kWith) {
        Next();
        Stmt inner;
        SKALD_RETURN_IF_ERROR(Control(ST::kWith, "with", p.pos, &inner));
        s->else_list.push_back(std::move(inner));
      } else {
        int ek2 = 0;
        SKALD_RETURN_IF_ERROR(ItemList(&s->else_list, &ek2));
        if (ek2 != 1) return Errorf("expected end; found {{else}}");
      }
    }
    vars_.resize(nvars);
    --depth_;
    return Status::OK();
  }

  int NewSlot() { return prog_->num_slots++; }

  Status ParsePipeline(std::string_view context, It end, Pipe* pipe) {
    pipe->pos = PeekNonSpace().pos;
  decls:
    if (const Item& v = PeekNonSpace(); v.typ == It::kVariable) {
      Next();
      const size_t after_var = idx_;
      const Item& token_after = Peek();
      const Item& nx = PeekNonSpace();
      if (nx.typ == It::kAssign || nx.typ == It::kDeclare) {
        pipe->is_assign = nx.typ == It::kAssign;
        NextNonSpace();
        VarDecl d;
        d.name = std::string(v.val);
        d.pos = v.pos;
        if (pipe->is_assign) {
          // Assigning to an undeclared variable parses (as in Go) and fails when run.
          d.slot = LookupVar(d.name);
          if (d.slot == -2) d.slot = -1;
          vars_.push_back({d.name, d.slot});
        } else {
          d.slot = NewSlot();
          vars_.push_back({d.name, d.slot});
        }
        pipe->decl.push_back(std::move(d));
      } else if (nx.typ == It::kChar && nx.val == ",") {
        NextNonSpace();
        VarDecl d;
        d.name = std::string(v.val);
        d.pos = v.pos;
        d.slot = NewSlot();
        vars_.push_back({d.name, d.slot});
        pipe->decl.push_back(std::move(d));
        if (context == "range" && pipe->decl.size() < 2) {
          const Item& p = PeekNonSpace();
          if (p.typ == It::kVariable || p.typ == It::kRightDelim || p.typ == It::kRightParen) {
            goto decls;
          }
          return Errorf("range can only initialize variables");
        }
        return Errorf("too many declarations in " + std::string(context));
      } else if (token_after.typ == It::kSpace) {
        idx_ = after_var - 1;
      } else {
        idx_ = after_var - 1;
      }
    }
    for (;;) {
      const Item& t = NextNonSpace();
      if (t.typ == end) {
        if (pipe->cmds.empty()) return Errorf("missing value for " + std::string(context));
        for (size_t i = 1; i < pipe->cmds.size(); ++i) {
          switch (pipe->cmds[i].args[0]->type) {
            case NT::kBool:
            case NT::kDot:
            case NT::kNil:
            case NT::kNumber:
            case NT::kString:
              return Errorf("non executable command in pipeline stage " + std::to_string(i + 1));
            default:
              break;
          }
        }
        return Status::OK();
      }
      switch (t.typ) {
        case It::kBool:
        case It::kCharConstant:
        case It::kComplex:
        case It::kDot:
        case It::kField:
        case It::kIdentifier:
        case It::kNumber:
        case It::kNil:
        case It::kRawString:
        case It::kString:
        case It::kVariable:
        case It::kLeftParen: {
          Backup();
          Command c;
          SKALD_RETURN_IF_ERROR(ParseCommand(&c));
          pipe->cmds.push_back(std::move(c));
          break;
        }
        default:
          return Unexpected(t, context);
      }
    }
  }

  int LookupVar(std::string_view name) {
    for (size_t i = vars_.size(); i-- > 0;) {
      if (vars_[i].first == name) return vars_[i].second;
    }
    return -2;  // not found
  }

  Status ParseCommand(Command* c) {
    c->pos = PeekNonSpace().pos;
    for (;;) {
      PeekNonSpace();
      std::unique_ptr<Node> op;
      SKALD_RETURN_IF_ERROR(Operand(&op));
      if (op) c->args.push_back(std::move(op));
      const Item& t = Next();
      if (t.typ == It::kSpace) continue;
      if (t.typ == It::kRightDelim || t.typ == It::kRightParen) {
        Backup();
      } else if (t.typ == It::kPipe) {
        // next command
      } else {
        return Unexpected(t, "operand");
      }
      break;
    }
    if (c->args.empty()) return Errorf("empty command");
    // Regex functions: compile a literal pattern once, here.
    const Node& first = *c->args[0];
    if (first.type == NT::kIdentifier && (first.func->flags & kFuncRegexArg0) &&
        c->args.size() >= 2 && c->args[1]->type == NT::kString) {
      RE2::Options opts;
      opts.set_log_errors(false);
      c->regex = std::make_unique<RE2>(c->args[1]->value.str(), opts);
      if (!c->regex->ok()) {
        c->regex_error = GoRegexpError(c->args[1]->value.str()).value_or("error parsing regexp");
        c->regex.reset();
      }
    }
    return Status::OK();
  }

  Status Operand(std::unique_ptr<Node>* out) {
    std::unique_ptr<Node> node;
    SKALD_RETURN_IF_ERROR(Term(&node));
    if (!node) return Status::OK();
    if (Peek().typ == It::kField) {
      std::vector<std::string> fields;
      const uint32_t chain_pos = Peek().pos;
      while (Peek().typ == It::kField) {
        fields.push_back(std::string(Next().val.substr(1)));
      }
      switch (node->type) {
        case NT::kField:
          for (auto& f : fields) node->fields.push_back(std::move(f));
          node->pos = chain_pos;
          break;
        case NT::kVariable:
          for (auto& f : fields) node->fields.push_back(std::move(f));
          node->pos = chain_pos;
          break;
        case NT::kBool:
        case NT::kString:
        case NT::kNumber:
        case NT::kNil:
        case NT::kDot: {
          std::string s;
          NodeString(*node, &s);
          std::string q;
          AppendGoQuote(s, &q);
          return Errorf("unexpected . after term " + q);
        }
        default: {
          auto chain = std::make_unique<Node>();
          chain->type = NT::kChain;
          chain->pos = chain_pos;
          chain->fields = std::move(fields);
          chain->sub = std::move(node);
          node = std::move(chain);
        }
      }
    }
    *out = std::move(node);
    return Status::OK();
  }

  Status ParseNumber(const Item& t, Node* n);

  Status Term(std::unique_ptr<Node>* out) {
    const Item& t = NextNonSpace();
    auto n = std::make_unique<Node>();
    n->pos = t.pos;
    switch (t.typ) {
      case It::kIdentifier: {
        const FuncSpec* f = LookupFunc(t.val, prog_->funcs);
        if (!f) {
          std::string q;
          AppendGoQuote(t.val, &q);
          return Errorf("function " + q + " not defined");
        }
        n->type = NT::kIdentifier;
        n->name = std::string(t.val);
        n->func = f;
        if (f->flags & (kFuncImpure | kFuncEntry)) prog_->constant = false;
        break;
      }
      case It::kDot:
        n->type = NT::kDot;
        prog_->constant = false;
        break;
      case It::kNil:
        n->type = NT::kNil;
        break;
      case It::kVariable: {
        n->type = NT::kVariable;
        n->name = std::string(t.val);
        int slot = LookupVar(n->name);
        if (slot == -2) {
          std::string q;
          AppendGoQuote(n->name, &q);
          return Errorf("undefined variable " + q);
        }
        n->slot = slot;
        if (slot == 0) prog_->constant = false;
        break;
      }
      case It::kField:
        n->type = NT::kField;
        n->fields.push_back(std::string(t.val.substr(1)));
        prog_->constant = false;
        break;
      case It::kBool:
        n->type = NT::kBool;
        n->text = std::string(t.val);
        n->value = Value::Bool(t.val == "true");
        break;
      case It::kCharConstant:
      case It::kComplex:
      case It::kNumber:
        SKALD_RETURN_IF_ERROR(ParseNumber(t, n.get()));
        break;
      case It::kLeftParen: {
        if (++depth_ > kMaxParseDepth) return Errorf("max nesting depth exceeded");
        n->type = NT::kPipe;
        n->pipe = std::make_unique<Pipe>();
        SKALD_RETURN_IF_ERROR(
            ParsePipeline("parenthesized pipeline", It::kRightParen, n->pipe.get()));
        --depth_;
        break;
      }
      case It::kString:
      case It::kRawString: {
        n->type = NT::kString;
        n->text = std::string(t.val);
        std::string unq;
        if (!Unquote(t.val, &unq)) return Errorf("invalid syntax");
        n->value = Value::OwnedStr(std::move(unq));
        break;
      }
      default:
        Backup();
        return Status::OK();
    }
    *out = std::move(n);
    return Status::OK();
  }

 public:
  // strconv.Unquote for "..." and `...` (and '...' for char constants, one rune).
  static bool Unquote(std::string_view s, std::string* out) {
    if (s.size() < 2) return false;
    char q = s[0];
    if (s.back() != q) return false;
    s = s.substr(1, s.size() - 2);
    if (q == '`') {
      for (char c : s) {
        if (c != '\r') out->push_back(c);
      }
      return true;
    }
    for (size_t i = 0; i < s.size();) {
      char c = s[i];
      if (c == q) return false;
      if (c != '\\') {
        if (c == '\n') return false;
        out->push_back(c);
        ++i;
        continue;
      }
      if (++i >= s.size()) return false;
      char e = s[i++];
      auto hexval = [](char h) -> int {
        if (h >= '0' && h <= '9') return h - '0';
        if (h >= 'a' && h <= 'f') return h - 'a' + 10;
        if (h >= 'A' && h <= 'F') return h - 'A' + 10;
        return -1;
      };
      switch (e) {
        case 'a':
          out->push_back('\a');
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
        case 'v':
          out->push_back('\v');
          break;
        case '\\':
          out->push_back('\\');
          break;
        case '\'':
        case '"':
          if (e != q) return false;
          out->push_back(e);
          break;
        case 'x':
        case 'u':
        case 'U': {
          int nd = e == 'x' ? 2 : e == 'u' ? 4 : 8;
          if (i + nd > s.size()) return false;
          uint32_t v = 0;
          for (int k = 0; k < nd; ++k) {
            int h = hexval(s[i + k]);
            if (h < 0) return false;
            v = v * 16 + h;
          }
          i += nd;
          if (e == 'x') {
            out->push_back(static_cast<char>(v));
          } else {
            if (v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return false;
            AppendRune(v, out);
          }
          break;
        }
        default:
          if (e >= '0' && e <= '7') {
            if (i + 2 > s.size()) return false;
            uint32_t v = e - '0';
            for (int k = 0; k < 2; ++k) {
              char d = s[i + k];
              if (d < '0' || d > '7') return false;
              v = v * 8 + (d - '0');
            }
            if (v > 255) return false;
            i += 2;
            out->push_back(static_cast<char>(v));
            break;
          }
          return false;
      }
    }
    return true;
  }

 private:
  TemplateProgram* prog_;
  std::vector<Item> items_;
  size_t idx_ = 0;
  int last_line_ = 1;
  int action_line_ = 0;
  int range_depth_ = 0;
  int depth_ = 0;
  std::vector<std::pair<std::string, int>> vars_;
};

Status Parser::ParseNumber(const Item& t, Node* n) {
  n->type = NT::kNumber;
  n->text = std::string(t.val);
  if (t.typ == It::kComplex) return Errorf("complex numbers are not supported");
  if (t.typ == It::kCharConstant) {
    std::string unq;
    if (!Unquote(t.val, &unq)) return Errorf("invalid syntax");
    uint32_t r;
    size_t l = unq.empty() ? 0 : DecodeRune(unq, 0, &r);
    if (unq.empty() || l != unq.size()) {
      std::string q;
      AppendGoQuote(t.val, &q);
      return Errorf("malformed character constant: " + std::string(t.val));
    }
    n->is_int = n->is_uint = n->is_float = true;
    n->int_val = r;
    n->float_val = r;
    n->value = Value::Int(r);
    return Status::OK();
  }
  std::string clean;
  for (char c : t.val) {
    if (c != '_') clean.push_back(c);
  }
  std::string_view sv = clean;
  bool neg = false;
  std::string_view body = sv;
  if (!body.empty() && (body[0] == '+' || body[0] == '-')) {
    neg = body[0] == '-';
    body.remove_prefix(1);
  }
  int base = 10;
  std::string_view digits = body;
  if (body.size() > 1 && body[0] == '0') {
    char p = body[1];
    if (p == 'x' || p == 'X') {
      base = 16;
      digits = body.substr(2);
    } else if (p == 'o' || p == 'O') {
      base = 8;
      digits = body.substr(2);
    } else if (p == 'b' || p == 'B') {
      base = 2;
      digits = body.substr(2);
    } else if (body.find_first_of(".eEpP") == std::string_view::npos) {
      base = 8;
      digits = body.substr(1);
    }
  }
  uint64_t u = 0;
  bool int_ok = false;
  if (!digits.empty()) {
    auto r = std::from_chars(digits.data(), digits.data() + digits.size(), u, base);
    int_ok = r.ec == std::errc() && r.ptr == digits.data() + digits.size();
  }
  if (int_ok) {
    if (!neg) {
      n->is_uint = true;
      if (u <= static_cast<uint64_t>(INT64_MAX)) {
        n->is_int = true;
        n->int_val = static_cast<int64_t>(u);
      }
    } else if (u <= static_cast<uint64_t>(INT64_MAX) + 1) {
      n->is_int = true;
      n->int_val = static_cast<int64_t>(0 - u);
    }
    if (n->is_int) {
      n->is_float = true;
      n->float_val = static_cast<double>(n->int_val);
    } else if (n->is_uint) {
      n->is_float = true;
      n->float_val = static_cast<double>(u);
    }
  } else if (clean.find_first_of(".eEpP") != std::string::npos) {
    char* end = nullptr;
    double f = std::strtod(clean.c_str(), &end);
    if (end == clean.c_str() + clean.size() && !std::isinf(f)) {
      n->is_float = true;
      n->float_val = f;
      // An integral float literal ("1e3") is also usable as an int.
      if (f == std::trunc(f) && std::fabs(f) < 9.2e18) {
        n->is_int = true;
        n->int_val = static_cast<int64_t>(f);
      }
    }
  }
  if (!n->is_int && !n->is_uint && !n->is_float) {
    std::string q;
    AppendGoQuote(t.val, &q);
    return Errorf("illegal number syntax: " + q);
  }
  // As an interface{} value (print, sprig functions): float64 when written as a float,
  // else int.
  const bool floaty = base == 10 && clean.find_first_of(".eE") != std::string::npos;
  if (n->is_float && (floaty || (base == 16 && clean.find_first_of("pP") != std::string::npos))) {
    n->value = Value::Float(n->float_val);
  } else if (n->is_int) {
    n->value = Value::Int(n->int_val);
  } else {
    n->value = Value();  // uint beyond int64: an error when used ("overflows int")
  }
  return Status::OK();
}

// ---------------------------------------------------------------------------------------
// Executor

// Work limits per Execute (documented in docs/logql.md): they keep a hostile or careless
// template from running away; both are far above what a real line_format needs.
constexpr size_t kMaxOutputBytes = 16 << 20;  // output of one Execute
constexpr int64_t kMaxSteps = 1 << 20;        // evaluated commands + range iterations
constexpr size_t kMaxBuiltBytes = 64 << 20;   // bytes of strings built by function calls

enum class Flow { kNormal, kBreak, kContinue };

class Exec {
 public:
  Exec(const TemplateProgram& prog, const TemplateData& data, std::string* out)
      : prog_(prog), data_(data), out_(out), out_start_(out->size()) {}

  Status Run() {
    Value root;
    root.kind = Kind::kRoot;
    if (prog_.num_slots <= kInlineSlots) {
      slots_ = inline_slots_;
    } else {
      heap_slots_.resize(prog_.num_slots);
      slots_ = heap_slots_.data();
    }
    slots_[0] = root;
    Flow f = Flow::kNormal;
    return WalkList(prog_.root, root, &f);
  }

 private:
  // ---- error reporting ----
  enum class At : uint8_t { kNone, kNode, kCommand, kPipe, kStmt };
  void SetAt(const Node* n) {
    at_kind_ = At::kNode;
    at_ = n;
  }
  void SetAt(const Command* c) {
    at_kind_ = At::kCommand;
    at_ = c;
  }
  void SetAtStmt(const Stmt* s) {
    at_kind_ = At::kStmt;
    at_ = s;
  }

  Status Errorf(std::string msg) {
    std::string ctx;
    uint32_t pos = 0;
    switch (at_kind_) {
      case At::kNone:
        return Status::InvalidArgument("template: " + prog_.name + ": " + msg);
      case At::kNode:
        NodeString(*static_cast<const Node*>(at_), &ctx);
        pos = static_cast<const Node*>(at_)->pos;
        break;
      case At::kCommand:
        CommandString(*static_cast<const Command*>(at_), &ctx);
        pos = static_cast<const Command*>(at_)->pos;
        break;
      case At::kPipe:
        PipeString(*static_cast<const Pipe*>(at_), &ctx);
        pos = static_cast<const Pipe*>(at_)->pos;
        break;
      case At::kStmt:
        StmtString(*static_cast<const Stmt*>(at_), &ctx);
        pos = static_cast<const Stmt*>(at_)->pos;
        break;
    }
    std::string_view before = std::string_view(prog_.source).substr(0, pos);
    size_t nl = before.rfind('\n');
    size_t col = nl == std::string_view::npos ? pos : pos - (nl + 1);
    size_t line = 1 + std::count(before.begin(), before.end(), '\n');
    // Older Go (ErrorContext before Go 1.2x) cut the context to %.20s; the LogQL set keeps
    // that historical form. Prometheus' template tests expect the whole node, as current Go
    // (1.26) prints it.
    if (ctx.size() > 20 && prog_.funcs == TemplateFuncs::kLogQL) {
      // %.20s: twenty runes
      size_t i = 0;
      for (int k = 0; k < 20 && i < ctx.size(); ++k) {
        uint32_t r;
        i += DecodeRune(ctx, i, &r);
      }
      if (i < ctx.size()) ctx = ctx.substr(0, i) + "...";
    }
    return Status::InvalidArgument("template: " + prog_.name + ":" + std::to_string(line) + ":" +
                                   std::to_string(col) + ": executing \"" + prog_.name + "\" at <" +
                                   ctx + ">: " + msg);
  }

  Status Step() {
    if (++steps_ > kMaxSteps) return Errorf("template execution exceeded its work limit");
    return Status::OK();
  }

  // ---- statements ----
  Status WalkList(const std::vector<Stmt>& list, const Value& dot, Flow* flow) {
    for (const Stmt& s : list) {
      SKALD_RETURN_IF_ERROR(Walk(s, dot, flow));
      if (*flow != Flow::kNormal) return Status::OK();
    }
    return Status::OK();
  }

  Status Walk(const Stmt& s, const Value& dot, Flow* flow) {
    switch (s.type) {
      case ST::kText:
        out_->append(s.text);
        return CheckOutput();
      case ST::kAction: {
        Value v;
        SKALD_RETURN_IF_ERROR(EvalPipeline(dot, *s.pipe, &v));
        if (s.pipe->decl.empty()) SKALD_RETURN_IF_ERROR(PrintValue(v));
        return Status::OK();
      }
      case ST::kBreak:
        *flow = Flow::kBreak;
        return Status::OK();
      case ST::kContinue:
        *flow = Flow::kContinue;
        return Status::OK();
      case ST::kIf:
      case ST::kWith: {
        Value v;
        SKALD_RETURN_IF_ERROR(EvalPipeline(dot, *s.pipe, &v));
        if (v.kind == Kind::kRoot) v = Materialize();
        if (Truth(v)) {
          return WalkList(s.list, s.type == ST::kWith ? v : dot, flow);
        }
        return WalkList(s.else_list, dot, flow);
      }
      case ST::kRange:
        return WalkRange(s, dot, flow);
    }
    return Status::OK();
  }

  Status WalkRange(const Stmt& s, const Value& dot, Flow* flow) {
    SetAtStmt(&s);
    Value v;
    SKALD_RETURN_IF_ERROR(EvalPipeline(dot, *s.pipe, &v));
    if (v.kind == Kind::kRoot) v = Materialize();
    const Pipe& p = *s.pipe;
    auto one = [&](const Value& key, const Value& elem, bool* stop) -> Status {
      SKALD_RETURN_IF_ERROR(Step());
      if (p.decl.size() == 1) {
        slots_[p.decl[0].slot] = elem;
      } else if (p.decl.size() == 2) {
        slots_[p.decl[0].slot] = key;
        slots_[p.decl[1].slot] = elem;
      }
      Flow f = Flow::kNormal;
      SKALD_RETURN_IF_ERROR(WalkList(s.list, elem, &f));
      *stop = f == Flow::kBreak;
      return Status::OK();
    };
    bool ran = false, stop = false;
    switch (v.kind) {
      case Kind::kList:
        if (v.list) {
          for (size_t i = 0; i < v.list->size() && !stop; ++i) {
            ran = true;
            Value e = (*v.list)[i];
            SKALD_RETURN_IF_ERROR(one(Value::Int(static_cast<int64_t>(i)), e, &stop));
          }
        }
        break;
      case Kind::kMap:
        if (v.map) {
          for (size_t i = 0; i < v.map->size() && !stop; ++i) {
            ran = true;
            const auto& [k, e] = (*v.map)[i];
            SKALD_RETURN_IF_ERROR(one(Value::OwnedStr(k), e, &stop));
          }
        }
        break;
      case Kind::kInt:
        if (p.decl.size() > 1) {
          std::string sv;
          AppendValue(v, &sv);
          return Errorf("can't use " + sv + " to iterate over more than one variable");
        }
        for (int64_t i = 0; i < v.i && !stop; ++i) {
          ran = true;
          SKALD_RETURN_IF_ERROR(
              one(Value::Int(i, v.int64_type), Value::Int(i, v.int64_type), &stop));
        }
        break;
      case Kind::kNil:
        break;  // a nil map or slice: not an error
      default: {
        std::string sv;
        AppendValue(v, &sv);
        return Errorf("range can't iterate over " + sv);
      }
    }
    if (!ran) return WalkList(s.else_list, dot, flow);
    return Status::OK();
  }

  Status CheckOutput() {
    if (out_->size() - out_start_ > kMaxOutputBytes) {
      return Status::InvalidArgument("template: " + prog_.name + ": output exceeds the limit of " +
                                     std::to_string(kMaxOutputBytes) + " bytes");
    }
    return Status::OK();
  }

  Status PrintValue(const Value& v) {
    switch (v.kind) {
      case Kind::kString:
        out_->append(v.str());
        break;
      case Kind::kNil:
        out_->append("<no value>");
        break;
      case Kind::kRoot:
        AppendValue(Materialize(), out_);
        break;
      default:
        AppendValue(v, out_);
        break;
    }
    return CheckOutput();
  }

  // The labels as a map[string]string value (for range/len/index/print of `.`).
  Value Materialize() {
    if (!root_map_) {
      auto m = std::make_shared<ValueMap>();
      data_.ForEachLabel([&](std::string_view k, std::string_view v) {
        m->emplace_back(std::string(k), Value::OwnedStr(std::string(v)));
      });
      std::sort(m->begin(), m->end(),
                [](const auto& a, const auto& b) { return a.first < b.first; });
      root_map_ = std::move(m);
    }
    Value r;
    r.kind = Kind::kMap;
    r.b = true;
    r.map = root_map_;
    return r;
  }

  // ---- pipelines and commands ----
  Status EvalPipeline(const Value& dot, const Pipe& p, Value* out) {
    Value v;
    bool has_final = false;
    for (const Command& c : p.cmds) {
      Value next;
      SKALD_RETURN_IF_ERROR(EvalCommand(dot, c, has_final ? &v : nullptr, &next));
      v = std::move(next);
      has_final = true;
    }
    // An interface{} holding nil becomes the missing value, like Go's "dig down one level".
    v.b = v.kind == Kind::kNil ? false : v.b;
    for (const VarDecl& d : p.decl) {
      if (d.slot < 0) {
        return Errorf("undefined variable: " + d.name);
      }
      slots_[d.slot] = v;
    }
    *out = std::move(v);
    return Status::OK();
  }

  Status NotAFunction(const Command& c, const Value* final) {
    if (c.args.size() > 1 || final) {
      std::string s;
      NodeString(*c.args[0], &s);
      return Errorf("can't give argument to non-function " + s);
    }
    return Status::OK();
  }

  Status EvalCommand(const Value& dot, const Command& c, const Value* final, Value* out) {
    SKALD_RETURN_IF_ERROR(Step());
    const Node& first = *c.args[0];
    switch (first.type) {
      case NT::kField:
        SetAt(&first);
        return EvalFieldChain(dot, dot, first, first.fields, &c, final, out);
      case NT::kChain:
        return EvalChain(dot, first, &c, final, out);
      case NT::kIdentifier:
        return EvalFunction(dot, first, c, final, out);
      case NT::kPipe:
        SetAt(&first);
        SKALD_RETURN_IF_ERROR(NotAFunction(c, final));
        return EvalPipeline(dot, *first.pipe, out);
      case NT::kVariable:
        return EvalVariable(dot, first, &c, final, out);
      default:
        break;
    }
    SetAt(&first);
    SKALD_RETURN_IF_ERROR(NotAFunction(c, final));
    switch (first.type) {
      case NT::kBool:
        *out = first.value;
        return Status::OK();
      case NT::kDot:
        *out = dot;
        return Status::OK();
      case NT::kNil:
        return Errorf("nil is not a command");
      case NT::kNumber:
        return IdealConstant(first, out);
      case NT::kString:
        *out = Value::Str(first.value.str());
        return Status::OK();
      default:
        break;
    }
    return Errorf("can't evaluate command");
  }

  Status IdealConstant(const Node& n, Value* out) {
    SetAt(&n);
    if (n.value.kind == Kind::kNil) return Errorf(n.text + " overflows int");
    *out = n.value;
    return Status::OK();
  }

  Status EvalVariable(const Value& dot, const Node& n, const Command* c, const Value* final,
                      Value* out) {
    SetAt(&n);
    if (n.slot < 0) return Errorf("undefined variable: " + n.name);
    const Value& v = slots_[n.slot];
    if (n.fields.empty()) {
      if (c) SKALD_RETURN_IF_ERROR(NotAFunction(*c, final));
      *out = v;
      return Status::OK();
    }
    Value recv = v;
    return EvalFieldChain(dot, recv, n, n.fields, c, final, out);
  }

  Status EvalChain(const Value& dot, const Node& n, const Command* c, const Value* final,
                   Value* out) {
    SetAt(&n);
    if (n.sub->type == NT::kNil) {
      std::string s;
      NodeString(n, &s);
      return Errorf("indirection through explicit nil in " + s);
    }
    Value recv;
    SKALD_RETURN_IF_ERROR(EvalArg(dot, ParamType::kValue, *n.sub, &recv));
    return EvalFieldChain(dot, recv, n, n.fields, c, final, out);
  }

  Status EvalFieldChain(const Value& dot, Value recv, const Node& node,
                        const std::vector<std::string>& fields, const Command* c,
                        const Value* final, Value* out) {
    for (size_t i = 0; i < fields.size(); ++i) {
      const bool last = i + 1 == fields.size();
      const bool has_args = last && ((c && c->args.size() > 1) || final);
      if (last && recv.kind == Kind::kTime && fields[i] == "Format" &&
          prog_.funcs == TemplateFuncs::kPrometheusAlerts) {
        return TimeFormat(dot, recv, c, final, out);
      }
      Value next;
      SKALD_RETURN_IF_ERROR(EvalField(fields[i], node, has_args, recv, &next));
      recv = std::move(next);
    }
    *out = std::move(recv);
    return Status::OK();
  }

  Status EvalField(const std::string& name, const Node& node, bool has_args, const Value& recv,
                   Value* out) {
    switch (recv.kind) {
      case Kind::kRoot: {
        if (has_args) return Errorf(name + " is not a method but has arguments");
        // Hot path: a view into the entry's label, nothing allocated. A missing label
        // is the zero string (Loki sets missingkey=zero on a map[string]string).
        auto v = data_.Label(name);
        *out = Value::Str(v ? *v : std::string_view());
        return Status::OK();
      }
      case Kind::kMap: {
        if (has_args) return Errorf(name + " is not a method but has arguments");
        auto it = std::lower_bound(recv.map->begin(), recv.map->end(), name,
                                   [](const auto& e, const std::string& k) { return e.first < k; });
        if (it != recv.map->end() && it->first == name) {
          *out = it->second;
          if (!recv.b) out->b = out->kind == Kind::kNil ? true : out->b;
        } else if (recv.b) {
          *out = Value::Str("");
        } else {
          Value nil;  // zero interface{}: a nil interface value
          nil.b = true;
          *out = nil;
        }
        return Status::OK();
      }
      case Kind::kNil:
        if (recv.b) return Errorf("nil pointer evaluating interface {}." + name);
        *out = Value();
        return Status::OK();
      case Kind::kTime:
        return TimeMethod(name, node, has_args, recv, out);
      default:
        break;
    }
    return Errorf("can't evaluate field " + name + " in type " + std::string(GoTypeName(recv)));
  }

  // time.Time.Format(layout string), a method call with arguments (Prometheus alert
  // templates only; the LogQL set keeps its historical behaviour).
  Status TimeFormat(const Value& dot, const Value& recv, const Command* c, const Value* final,
                    Value* out) {
    const size_t nargs = c ? c->args.size() - 1 : 0;
    const size_t num_in = nargs + (final ? 1 : 0);
    if (num_in != 1) {
      return Errorf("wrong number of args for Format: want 1 got " + std::to_string(num_in));
    }
    Value layout;
    if (nargs == 1) {
      SKALD_RETURN_IF_ERROR(EvalArg(dot, ParamType::kString, *c->args[1], &layout));
    } else {
      layout = *final;
      SKALD_RETURN_IF_ERROR(ValidateType(&layout, ParamType::kString));
    }
    std::string s;
    AppendTimeFormat(recv.t, layout.str(), &s);
    *out = Value::OwnedStr(std::move(s));
    return Status::OK();
  }

  Status TimeMethod(const std::string& name, const Node& node, bool has_args, const Value& recv,
                    Value* out) {
    (void)node;
    const GoTime& t = recv.t;
    if (has_args) {
      return Errorf("can't evaluate field " + name + " in type time.Time");
    }
    if (name == "Unix") {
      *out = Value::Int(t.sec, true);
    } else if (name == "UnixMilli") {
      *out = Value::Int(t.sec * 1000 + t.nsec / 1000000, true);
    } else if (name == "UnixMicro") {
      *out = Value::Int(t.sec * 1000000 + t.nsec / 1000, true);
    } else if (name == "UnixNano") {
      *out = Value::Int(t.sec * 1000000000 + t.nsec, true);
    } else if (name == "Nanosecond") {
      *out = Value::Int(t.nsec);
    } else if (name == "IsZero") {
      *out = Value::Bool(t.IsZero());
    } else if (name == "String") {
      std::string s;
      AppendTimeString(t, &s);
      *out = Value::OwnedStr(std::move(s));
    } else if (name == "UTC") {
      GoTime u = t;
      u.SetZone("UTC", 0);
      *out = Value::Time(u);
    } else {
      return Errorf("can't evaluate field " + name + " in type time.Time");
    }
    return Status::OK();
  }

  // ---- arguments ----
  Status TypeError(ParamType want, const Value& got) {
    if (got.kind == Kind::kNil) {
      return Errorf("invalid value; expected " + std::string(ParamTypeName(want)));
    }
    return Errorf("wrong type for value; expected " + std::string(ParamTypeName(want)) + "; got " +
                  std::string(GoTypeName(got)));
  }

  Status ValidateType(Value* v, ParamType t) {
    if (v->kind == Kind::kRoot && t != ParamType::kValue) *v = Materialize();
    switch (t) {
      case ParamType::kValue:
        return Status::OK();
      case ParamType::kAny:
        if (v->kind == Kind::kNil) v->b = true;
        return Status::OK();
      case ParamType::kString:
        if (v->kind == Kind::kString) return Status::OK();
        break;
      case ParamType::kInt:
        if (v->kind == Kind::kInt && !v->int64_type) return Status::OK();
        break;
      case ParamType::kFloat:
        if (v->kind == Kind::kFloat) return Status::OK();
        break;
      case ParamType::kBool:
        if (v->kind == Kind::kBool) return Status::OK();
        break;
      case ParamType::kTime:
        if (v->kind == Kind::kTime) return Status::OK();
        break;
    }
    return TypeError(t, *v);
  }

  Status EvalArg(const Value& dot, ParamType t, const Node& n, Value* out) {
    SetAt(&n);
    switch (n.type) {
      case NT::kDot:
        *out = dot;
        return ValidateType(out, t);
      case NT::kNil:
        if (t == ParamType::kAny || t == ParamType::kValue) {
          *out = Value();
          out->b = true;
          return Status::OK();
        }
        return Errorf("cannot assign nil to " + std::string(ParamTypeName(t)));
      case NT::kField:
        SKALD_RETURN_IF_ERROR(EvalFieldChain(dot, dot, n, n.fields, nullptr, nullptr, out));
        return ValidateType(out, t);
      case NT::kVariable:
        SKALD_RETURN_IF_ERROR(EvalVariable(dot, n, nullptr, nullptr, out));
        return ValidateType(out, t);
      case NT::kPipe:
        SKALD_RETURN_IF_ERROR(EvalPipeline(dot, *n.pipe, out));
        return ValidateType(out, t);
      case NT::kIdentifier: {
        SKALD_RETURN_IF_ERROR(EvalFunctionNode(dot, n, nullptr, nullptr, out));
        return ValidateType(out, t);
      }
      case NT::kChain:
        SKALD_RETURN_IF_ERROR(EvalChain(dot, n, nullptr, nullptr, out));
        return ValidateType(out, t);
      default:
        break;
    }
    std::string ns;
    NodeString(n, &ns);
    switch (t) {
      case ParamType::kBool:
        if (n.type == NT::kBool) {
          *out = n.value;
          return Status::OK();
        }
        return Errorf("expected bool; found " + ns);
      case ParamType::kFloat:
        if (n.type == NT::kNumber && n.is_float) {
          *out = Value::Float(n.float_val);
          return Status::OK();
        }
        return Errorf("expected float; found " + ns);
      case ParamType::kInt:
        if (n.type == NT::kNumber && n.is_int) {
          *out = Value::Int(n.int_val);
          return Status::OK();
        }
        return Errorf("expected integer; found " + ns);
      case ParamType::kString:
        if (n.type == NT::kString) {
          *out = Value::Str(n.value.str());
          return Status::OK();
        }
        return Errorf("expected string; found " + ns);
      case ParamType::kAny:
      case ParamType::kValue:
        if (n.type == NT::kBool) {
          *out = n.value;
          return Status::OK();
        }
        if (n.type == NT::kString) {
          *out = Value::Str(n.value.str());
          return Status::OK();
        }
        return IdealConstant(n, out);
      case ParamType::kTime:
        return Errorf("can't handle " + ns + " for arg of type time.Time");
    }
    return Errorf("can't handle " + ns);
  }

  // ---- functions ----
  Status EvalFunction(const Value& dot, const Node& id, const Command& c, const Value* final,
                      Value* out) {
    return EvalFunctionNode(dot, id, &c, final, out);
  }

  // `c` is null when the identifier is itself an argument (then it has no arguments).
  Status EvalFunctionNode(const Value& dot, const Node& id, const Command* c, const Value* final,
                          Value* out) {
    SetAt(&id);
    const FuncSpec& f = *id.func;
    const size_t nargs = c ? c->args.size() - 1 : 0;
    const size_t num_in = nargs + (final ? 1 : 0);
    const size_t nparams = f.params.size();
    size_t num_fixed = nargs;
    if (f.variadic) {
      num_fixed = nparams - 1;
      if (num_in < num_fixed) {
        return Errorf("wrong number of args for " + std::string(f.name) + ": want at least " +
                      std::to_string(nparams - 1) + " got " + std::to_string(nargs));
      }
    } else if (num_in != nparams) {
      return Errorf("wrong number of args for " + std::string(f.name) + ": want " +
                    std::to_string(nparams) + " got " + std::to_string(num_in));
    }
    if (f.flags & kFuncAndOr) {
      const bool is_or = f.name == "or";
      Value v;
      for (size_t i = 0; i < nargs; ++i) {
        SKALD_RETURN_IF_ERROR(EvalArg(dot, ParamType::kValue, *c->args[i + 1], &v));
        if (v.kind == Kind::kRoot) v = Materialize();
        if (Truth(v) == is_or) {
          *out = std::move(v);
          return Status::OK();
        }
      }
      if (final) v = *final;
      *out = std::move(v);
      return Status::OK();
    }
    // Small argument lists live on the stack; only long variadic calls allocate.
    Value inline_args[4];
    std::vector<Value> heap_args;
    Value* argv = inline_args;
    if (num_in > 4) {
      heap_args.resize(num_in);
      argv = heap_args.data();
    }
    size_t i = 0;
    for (; i < num_fixed && i < nargs; ++i) {
      SKALD_RETURN_IF_ERROR(EvalArg(dot, f.params[i], *c->args[i + 1], &argv[i]));
    }
    if (f.variadic) {
      for (; i < nargs; ++i) {
        SKALD_RETURN_IF_ERROR(EvalArg(dot, f.params.back(), *c->args[i + 1], &argv[i]));
      }
    }
    if (final) {
      ParamType t = f.params.back();
      if (f.variadic && num_in - 1 < num_fixed) t = f.params[num_in - 1];
      argv[i] = *final;
      SKALD_RETURN_IF_ERROR(ValidateType(&argv[i], t));
    }
    for (size_t k = 0; k < num_in; ++k) {
      if (argv[k].kind == Kind::kRoot && !(f.flags & kFuncEntry)) argv[k] = Materialize();
    }
    CallContext ctx;
    if (f.flags & kFuncEntry) {
      ctx.line = data_.Line();
      ctx.ts_nanos = data_.TimestampNanos();
    }
    if (c && c->regex) ctx.regex = c->regex.get();
    if (c) ctx.regex_error = c->regex_error;
    if (f.flags & kFuncProgram) {
      ctx.external_url = prog_.external_url;
      ctx.path_prefix = prog_.path_prefix;
    }
    Status st = f.impl(ctx, argv, num_in, out);
    if (!st.ok()) {
      if (c) SetAt(c);
      return Errorf("error calling " + std::string(f.name) + ": " + st.message());
    }
    if (out->kind == Kind::kString && out->owned) {
      if (out->own->size() > kMaxValueBytes) {
        if (c) SetAt(c);
        return Errorf("error calling " + std::string(f.name) + ": result exceeds " +
                      std::to_string(kMaxValueBytes) + " bytes");
      }
      built_bytes_ += out->own->size();
      if (built_bytes_ > kMaxBuiltBytes) {
        return Errorf("template execution exceeded its work limit");
      }
    }
    return Status::OK();
  }

  static constexpr int kInlineSlots = 4;
  const TemplateProgram& prog_;
  const TemplateData& data_;
  std::string* out_;
  size_t out_start_;
  Value inline_slots_[kInlineSlots];
  std::vector<Value> heap_slots_;
  Value* slots_ = nullptr;
  std::shared_ptr<const ValueMap> root_map_;
  At at_kind_ = At::kNone;
  const void* at_ = nullptr;
  int64_t steps_ = 0;
  size_t built_bytes_ = 0;
};

}  // namespace
}  // namespace internal

namespace {

// The path of URL `url` as Go's url.URL.Path holds it: after the scheme and authority,
// before the query and fragment, percent-decoded (left as is when the escapes are invalid).
std::string UrlPath(std::string_view url) {
  size_t i = 0;
  while (i < url.size() && (std::isalnum(static_cast<unsigned char>(url[i])) || url[i] == '+' ||
                            url[i] == '-' || url[i] == '.')) {
    ++i;
  }
  if (i > 0 && i < url.size() && url[i] == ':' &&
      std::isalpha(static_cast<unsigned char>(url[0]))) {
    url.remove_prefix(i + 1);
  }
  if (url.substr(0, 2) == "//") {
    size_t end = url.find_first_of("/?#", 2);
    url.remove_prefix(end == std::string_view::npos ? url.size() : end);
  }
  url = url.substr(0, url.find_first_of("?#"));
  std::string out;
  for (size_t k = 0; k < url.size(); ++k) {
    if (url[k] == '%' && k + 2 < url.size() &&
        std::isxdigit(static_cast<unsigned char>(url[k + 1])) &&
        std::isxdigit(static_cast<unsigned char>(url[k + 2]))) {
      out.push_back(static_cast<char>(std::stoi(std::string(url.substr(k + 1, 2)), nullptr, 16)));
      k += 2;
    } else if (url[k] == '%') {
      return std::string(url);
    } else {
      out.push_back(url[k]);
    }
  }
  return out;
}

}  // namespace

StatusOr<Template> Template::Parse(std::string_view text, std::string_view name,
                                   TemplateFuncs funcs, std::string_view external_url) {
  auto prog = std::make_shared<internal::TemplateProgram>();
  prog->source = std::string(text);
  prog->name = std::string(name);
  prog->funcs = funcs;
  if (funcs == TemplateFuncs::kPrometheusAlerts) {
    prog->external_url = std::string(external_url);
    prog->path_prefix = UrlPath(external_url);
  }
  internal::Lexer lexer(prog->source);
  internal::Parser parser(prog.get(), lexer.Run());
  SKALD_RETURN_IF_ERROR(parser.Run());
  Template t;
  t.program_ = std::move(prog);
  return t;
}

Status Template::Execute(const TemplateData& data, std::string* out) const {
  internal::Exec exec(*program_, data, out);
  return exec.Run();
}

bool Template::IsConstant() const { return program_->constant; }

}  // namespace skald::logql
