// Fast JSON output with Go encoding/json string escaping.
//
// Loki's HTTP responses are produced by Go; clients compare bytes in tests and
// some tools are picky about escapes, so strings are escaped exactly like Go's
// encoding/json with HTML escaping on, by the shared escaper in core/json_escape.h
// (JsonEscaping::kGo).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/json_escape.h"

namespace skald::wire {

// AppendJsonString(out, s): s as a quoted JSON string, Go's escaping (core/json_escape.h).
using skald::AppendJsonString;

// Streaming JSON writer appending to a caller-owned std::string. Commas between
// array elements and object members are inserted automatically; the caller is
// responsible for balancing Begin/End calls and for calling Key() before every
// value inside an object (not checked in release builds). Not thread-safe; one
// writer per output string.
class JsonWriter {
 public:
  explicit JsonWriter(std::string* out) : out_(out) {}

  void BeginObject();
  void EndObject();
  void BeginArray();
  void EndArray();

  // Writes an object member name; the next call must write its value.
  void Key(std::string_view k);

  void String(std::string_view v);
  void Int(int64_t v);
  void Uint(uint64_t v);
  void Bool(bool v);
  void Null();
  // Shortest decimal that round-trips, never in exponent form (like Go's
  // strconv.FormatFloat(v, 'f', -1, 64)): 1 -> "1", 0.1 -> "0.1", 1e21 ->
  // "1000000000000000000000", -0.0 -> "-0". NaN and ±Inf are not valid JSON
  // numbers; they are written as 0. Callers that need Loki's "NaN"/"+Inf"/"-Inf"
  // must format them themselves (usually as JSON strings).
  void Double(double v);
  // Writes a pre-encoded JSON value verbatim (the caller guarantees validity).
  void Raw(std::string_view json);

  std::string* out() const { return out_; }

 private:
  void BeforeValue() {
    if (after_key_) {
      after_key_ = false;
    } else if (need_comma_) {
      out_->push_back(',');
    }
    need_comma_ = true;
  }

  std::string* out_;
  bool need_comma_ = false;  // a value was written at the current nesting level
  bool after_key_ = false;   // Key() was just written; the value needs no comma
};

// Appends the shortest round-trip decimal of v in fixed notation (see
// JsonWriter::Double). NaN/Inf are appended as "NaN", "+Inf", "-Inf" (Go's
// FormatFloat spelling) since this is also used for string-valued numbers.
void AppendGoFloat(std::string* out, double v);

}  // namespace skald::wire
