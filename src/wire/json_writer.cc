// JSON writer with Go encoding/json escaping (see json_writer.h).
#include "wire/json_writer.h"

#include <array>
#include <charconv>
#include <cmath>
#include <cstring>

namespace skald::wire {
void AppendGoFloat(std::string* out, double v) {
  if (std::isnan(v)) {
    out->append("NaN");
    return;
  }
  if (std::isinf(v)) {
    out->append(v > 0 ? "+Inf" : "-Inf");
    return;
  }
  // Fixed notation of the shortest round-trip representation: at most ~330
  // characters (DBL_MIN has 307 leading zeros after the point).
  char buf[400];
  auto res = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::fixed);
  out->append(buf, static_cast<size_t>(res.ptr - buf));
}

void JsonWriter::BeginObject() {
  BeforeValue();
  out_->push_back('{');
  need_comma_ = false;
}

void JsonWriter::EndObject() {
  out_->push_back('}');
  need_comma_ = true;
  after_key_ = false;
}

void JsonWriter::BeginArray() {
  BeforeValue();
  out_->push_back('[');
  need_comma_ = false;
}

void JsonWriter::EndArray() {
  out_->push_back(']');
  need_comma_ = true;
  after_key_ = false;
}

void JsonWriter::Key(std::string_view k) {
  if (need_comma_) out_->push_back(',');
  AppendJsonString(out_, k);
  out_->push_back(':');
  after_key_ = true;
  need_comma_ = true;
}

void JsonWriter::String(std::string_view v) {
  BeforeValue();
  AppendJsonString(out_, v);
}

void JsonWriter::Int(int64_t v) {
  BeforeValue();
  char buf[24];
  auto res = std::to_chars(buf, buf + sizeof(buf), v);
  out_->append(buf, static_cast<size_t>(res.ptr - buf));
}

void JsonWriter::Uint(uint64_t v) {
  BeforeValue();
  char buf[24];
  auto res = std::to_chars(buf, buf + sizeof(buf), v);
  out_->append(buf, static_cast<size_t>(res.ptr - buf));
}

void JsonWriter::Bool(bool v) {
  BeforeValue();
  out_->append(v ? "true" : "false");
}

void JsonWriter::Null() {
  BeforeValue();
  out_->append("null");
}

void JsonWriter::Double(double v) {
  BeforeValue();
  if (!std::isfinite(v)) {
    out_->push_back('0');
    return;
  }
  AppendGoFloat(out_, v);
}

void JsonWriter::Raw(std::string_view json) {
  BeforeValue();
  out_->append(json);
}

}  // namespace skald::wire
