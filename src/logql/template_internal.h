// Internals of the text/template engine (src/logql/template.h): the value model, Go-style
// time values and formatting helpers shared by the parser/executor (template.cc), the
// function library (template_funcs.cc), time layouts (template_time.cc) and fmt-style
// printing (template_fmt.cc). Not part of the engine's public contract.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"
#include "logql/template.h"

namespace skald::logql::internal {

// A Go time.Time: an instant plus the zone it is shown in. Seconds count from the Unix
// epoch so the zero time.Time (year 1) is representable.
struct GoTime {
  int64_t sec = kZeroSec;             // Unix seconds
  int32_t nsec = 0;                   // [0, 1e9)
  int32_t offset = 0;                 // zone offset east of UTC, seconds
  char zone[8] = {'U', 'T', 'C', 0};  // zone abbreviation ("UTC", "" for unnamed offsets)

  // Unix seconds of Go's zero time, January 1, year 1, 00:00:00 UTC.
  static constexpr int64_t kZeroSec = -62135596800;

  bool IsZero() const { return sec == kZeroSec && nsec == 0; }
  void SetZone(std::string_view name, int32_t off);
};

// Go's time.Time.String(): "2006-01-02 15:04:05.999999999 -0700 MST".
void AppendTimeString(const GoTime& t, std::string* out);
// time.Time.Format(layout).
void AppendTimeFormat(const GoTime& t, std::string_view layout, std::string* out);
// A time zone loaded from the system's tz database (/usr/share/zoneinfo, TZif files):
// transitions and the offset/abbreviation in force after each.
struct Zone {
  struct Type {
    int32_t offset;
    bool dst;
    std::string abbr;
  };
  std::vector<int64_t> transitions;  // Unix seconds, ascending
  std::vector<uint8_t> type_index;   // type in force from transitions[i]
  std::vector<Type> types;
  // The type in force at Unix time `unix`, with the [start, end) of that period.
  const Type& Lookup(int64_t unix, int64_t* start, int64_t* end) const;
};

// The zone named `name` (an IANA name such as "Europe/Paris"), loaded once and cached;
// nullptr when the name is UTC/Local/"" (callers use UTC) or unknown, as Go's
// time.LoadLocation failing.
const Zone* LoadZone(std::string_view name);

// time.ParseInLocation(layout, value, loc), loc = `zone` or UTC when null; false on any
// parse error.
bool ParseTime(std::string_view layout, std::string_view value, GoTime* out,
               const Zone* zone = nullptr);
// Go's time.ParseDuration, in nanoseconds; false with Go's message in *err on error.
bool ParseGoDuration(std::string_view s, int64_t* nanos, std::string* err);

struct Value;
using ValueList = std::vector<Value>;
using ValueMap = std::vector<std::pair<std::string, Value>>;  // sorted by key

// A template value. Kinds mirror the Go types reachable from LogQL templates: string (label
// values and most function results), int / int64 (literals, len, sprig math), float64,
// bool, time.Time, and []interface{} / map[string]interface{} from fromJson. kRoot is the
// template's data (the entry's labels, Go type map[string]string); kNil is Go's invalid /
// nil interface value. A kMap with b=true is map[string]string (the labels materialized for
// `range .`, `len .`, printing `.`): a missing key there reads as "" instead of nil.
enum class Kind : uint8_t { kNil, kString, kInt, kFloat, kBool, kTime, kList, kMap, kRoot };

struct Value {
  Kind kind = Kind::kNil;
  bool int64_type = false;  // kInt: Go int64 (sprig math) rather than int (literals, len)
  bool b = false;
  int64_t i = 0;
  double f = 0;
  // kString: the bytes are `*own` when owned, else `view` (into the entry or the program).
  // Owned bytes are shared so that copying a value (variables, range, dot) is O(1).
  bool owned = false;
  std::string_view view;
  std::shared_ptr<const std::string> own;
  GoTime t;
  std::shared_ptr<const ValueList> list;
  std::shared_ptr<const ValueMap> map;

  std::string_view str() const { return owned ? std::string_view(*own) : view; }

  static Value Str(std::string_view v) {
    Value r;
    r.kind = Kind::kString;
    r.view = v;
    return r;
  }
  static Value OwnedStr(std::string v) {
    Value r;
    r.kind = Kind::kString;
    r.owned = true;
    r.own = std::make_shared<const std::string>(std::move(v));
    return r;
  }
  static Value Int(int64_t v, bool is64 = false) {
    Value r;
    r.kind = Kind::kInt;
    r.i = v;
    r.int64_type = is64;
    return r;
  }
  static Value Float(double v) {
    Value r;
    r.kind = Kind::kFloat;
    r.f = v;
    return r;
  }
  static Value Bool(bool v) {
    Value r;
    r.kind = Kind::kBool;
    r.b = v;
    return r;
  }
  static Value Time(const GoTime& v) {
    Value r;
    r.kind = Kind::kTime;
    r.t = v;
    return r;
  }
};

// Go's type name for messages ("string", "int", "int64", "float64", ...).
std::string_view GoTypeName(const Value& v);
// Go's template truthiness (text/template isTrue); false for kNil.
bool Truth(const Value& v);

// fmt.Sprint-style %v of one value (time.Time.String(), "map[k:v]", "[a b]", "<nil>").
void AppendValue(const Value& v, std::string* out);
// fmt.Sprint(args...): spaces between operands when neither side is a string.
void AppendSprint(const Value* args, size_t n, std::string* out);
// fmt.Sprintln(args...).
void AppendSprintln(const Value* args, size_t n, std::string* out);
// fmt.Sprintf(format, args...) with Go's verbs and its %!verb(type=value) error forms.
void AppendSprintf(std::string_view format, const Value* args, size_t n, std::string* out);
// strconv.FormatFloat(f, 'g', -1, 64), which is what %v prints for a float64.
void AppendGoFloat(double f, std::string* out);
// Decodes the UTF-8 rune at s[i]; returns its length (1 with U+FFFD for invalid bytes).
size_t DecodeRune(std::string_view s, size_t i, uint32_t* r);
void AppendRune(uint32_t r, std::string* out);
// strconv.Quote.
void AppendGoQuote(std::string_view s, std::string* out);

// ---- function library (template_funcs.cc) ----

// Go parameter types of template functions; arguments are checked against them the way
// text/template does (validateType / evalArg), with Go's messages.
enum class ParamType : uint8_t {
  kAny,     // interface{}: anything, a missing value becomes nil
  kValue,   // reflect.Value (the builtins): anything, a missing value stays missing
  kString,  // string
  kInt,     // int
  kFloat,   // float64
  kBool,    // bool
  kTime,    // time.Time
};
std::string_view ParamTypeName(ParamType t);

// What a function may consult besides its arguments.
struct CallContext {
  std::string_view line;         // __line__
  int64_t ts_nanos = 0;          // __timestamp__
  const void* regex = nullptr;   // a re2::RE2 compiled at Parse from a literal first argument
  std::string_view regex_error;  // its compile error, if any
  // kFuncProgram functions only: Prometheus' external URL and its (decoded) path.
  std::string_view external_url;
  std::string_view path_prefix;
};

using FuncImpl = Status (*)(const CallContext& ctx, Value* args, size_t n, Value* out);

enum FuncFlags : uint8_t {
  kFuncImpure = 1,     // result varies between calls (now, date): not constant
  kFuncEntry = 2,      // reads the entry (__line__, __timestamp__): not constant
  kFuncAndOr = 4,      // and/or: short-circuit evaluation by the executor
  kFuncRegexArg0 = 8,  // first argument is a regex: precompile when it is a literal
  kFuncCall = 16,      // the `call` builtin
  kFuncProgram = 32,   // reads the program's options (externalURL, pathPrefix)
};

struct FuncSpec {
  std::string_view name;
  std::vector<ParamType> params;  // fixed parameters (the last one is the variadic element
                                  // type when `variadic`)
  bool variadic = false;
  FuncImpl impl = nullptr;
  uint8_t flags = 0;
};

// The function named `name` in function set `set` (kLogQL: Go builtins, Loki's and the
// sprig subset; kPrometheusAlerts: Go builtins and Prometheus' functions), or nullptr.
const FuncSpec* LookupFunc(std::string_view name, TemplateFuncs set = TemplateFuncs::kLogQL);

// The largest string a function may build; a bigger result is an execution error.
inline constexpr size_t kMaxValueBytes = 16 << 20;

}  // namespace skald::logql::internal
