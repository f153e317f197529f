// OTLP/JSON logs: transcodes the JSON ExportLogsServiceRequest to its protobuf form, which the
// protobuf mapper then reads (one mapping for both encodings). The rules are the OTLP/JSON ones
// (protobuf JSON mapping with hex trace/span ids): field names in lowerCamelCase, snake_case also
// accepted (as pdata does); 64-bit integers as numbers or decimal strings; enums as numbers or
// names; bytes as base64; unknown fields ignored; null means absent.
#include <simdjson.h>

#include <charconv>
#include <cmath>
#include <cstring>
#include <memory>
#include <string>

#include "core/coding.h"
#include "wire/otlp.h"
#include "wire/otlp_internal.h"
#include "wire/push_internal.h"

namespace skald::wire {

namespace {

namespace dom = simdjson::dom;

constexpr int kVarint = 0;
constexpr int kI64 = 1;
constexpr int kLen = 2;
constexpr int kI32 = 5;
constexpr int kMaxDepth = 64;
constexpr size_t kLenBytes = 5;

Status JsonError(std::string m) { return Status::InvalidArgument("JSON decode error: " + m); }

// Field-name match: lowerCamelCase or its snake_case spelling.
bool Is(std::string_view key, std::string_view camel, std::string_view snake = {}) {
  return key == camel || (!snake.empty() && key == snake);
}

class Transcoder {
 public:
  explicit Transcoder(std::string* out) : out_(out) {}

  Status Request(dom::element e) {
    dom::object obj;
    if (e.get(obj)) return JsonError("the body must be a JSON object");
    for (auto [key, value] : obj) {
      if (Is(key, "resourceLogs", "resource_logs")) {
        SKALD_RETURN_IF_ERROR(Repeated(value, 1, "resourceLogs", &Transcoder::ResourceLogs));
      }
    }
    return Status::OK();
  }

 private:
  using MessageFn = Status (Transcoder::*)(dom::object);

  // ---- writing

  void Tag(uint32_t field, int wire) { PutUvarint(out_, field << 3 | wire); }

  // Writes field as a length-delimited message produced by fn (length patched afterwards).
  Status Message(uint32_t field, dom::element e, const char* what, MessageFn fn) {
    if (e.is_null()) return Status::OK();
    dom::object obj;
    if (e.get(obj)) return JsonError(std::string(what) + " must be an object");
    if (++depth_ > kMaxDepth) return JsonError("exceeded maximum nesting depth");
    Tag(field, kLen);
    // The length is written afterwards as a fixed-width (non-minimal, still valid) 5-byte varint,
    // so nothing has to move once the message is known.
    const size_t len_at = out_->size();
    out_->append(kLenBytes, '\0');
    SKALD_RETURN_IF_ERROR((this->*fn)(obj));
    --depth_;
    const size_t len = out_->size() - len_at - kLenBytes;
    if (len >= (uint64_t{1} << (7 * kLenBytes))) return JsonError("message too large");
    char* p = out_->data() + len_at;
    for (size_t i = 0; i < kLenBytes; ++i) {
      const auto bits = static_cast<char>((len >> (7 * i)) & 0x7f);
      p[i] = static_cast<char>(i + 1 < kLenBytes ? (bits | 0x80) : bits);
    }
    return Status::OK();
  }

  Status Repeated(dom::element e, uint32_t field, const char* what, MessageFn fn) {
    if (e.is_null()) return Status::OK();
    dom::array arr;
    if (e.get(arr)) return JsonError(std::string(what) + " must be an array");
    for (dom::element item : arr) SKALD_RETURN_IF_ERROR(Message(field, item, what, fn));
    return Status::OK();
  }

  Status String(dom::element e, uint32_t field, const char* what) {
    if (e.is_null()) return Status::OK();
    std::string_view s;
    if (e.get(s)) return JsonError(std::string(what) + " must be a string");
    Tag(field, kLen);
    PutUvarint(out_, s.size());
    out_->append(s);
    return Status::OK();
  }

  // An integer given as a JSON number or a decimal string. is_signed: int64 range, else uint64.
  Status Integer(dom::element e, const char* what, bool is_signed, uint64_t* out) {
    switch (e.type()) {
      case dom::element_type::INT64: {
        const int64_t v = e.get_int64().value_unsafe();
        if (!is_signed && v < 0) return JsonError(std::string(what) + " must not be negative");
        *out = static_cast<uint64_t>(v);
        return Status::OK();
      }
      case dom::element_type::UINT64: {
        const uint64_t v = e.get_uint64().value_unsafe();
        if (is_signed && v > static_cast<uint64_t>(INT64_MAX)) {
          return JsonError(std::string(what) + " is out of range");
        }
        *out = v;
        return Status::OK();
      }
      case dom::element_type::STRING: {
        std::string_view s = e.get_string().value_unsafe();
        const char* end = s.data() + s.size();
        std::from_chars_result r;
        if (is_signed) {
          int64_t v = 0;
          r = std::from_chars(s.data(), end, v);
          *out = static_cast<uint64_t>(v);
        } else {
          r = std::from_chars(s.data(), end, *out);
        }
        if (s.empty() || r.ec != std::errc() || r.ptr != end) {
          return JsonError(std::string(what) + ": invalid integer string \"" + std::string(s) +
                           "\"");
        }
        return Status::OK();
      }
      default:
        return JsonError(std::string(what) + " must be an integer (number or string)");
    }
  }

  Status Varint(dom::element e, uint32_t field, const char* what, bool is_signed,
                uint64_t max = UINT64_MAX) {
    if (e.is_null()) return Status::OK();
    uint64_t v;
    SKALD_RETURN_IF_ERROR(Integer(e, what, is_signed, &v));
    if (!is_signed && v > max) return JsonError(std::string(what) + " is out of range");
    Tag(field, kVarint);
    PutUvarint(out_, v);
    return Status::OK();
  }

  Status Fixed64(dom::element e, uint32_t field, const char* what) {
    if (e.is_null()) return Status::OK();
    uint64_t v;
    SKALD_RETURN_IF_ERROR(Integer(e, what, false, &v));
    Tag(field, kI64);
    PutFixed64(out_, v);
    return Status::OK();
  }

  // Hex trace / span id -> bytes (an empty string means absent).
  Status HexId(dom::element e, uint32_t field, const char* what, size_t bytes) {
    if (e.is_null()) return Status::OK();
    std::string_view s;
    if (e.get(s)) return JsonError(std::string(what) + " must be a hex string");
    if (s.empty()) return Status::OK();
    if (s.size() != bytes * 2) return JsonError(std::string(what) + ": length mismatch");
    std::string raw(bytes, '\0');
    for (size_t i = 0; i < bytes; ++i) {
      int hi = HexDigit(s[2 * i]), lo = HexDigit(s[2 * i + 1]);
      if (hi < 0 || lo < 0) return JsonError(std::string(what) + ": invalid hex");
      raw[i] = static_cast<char>(hi << 4 | lo);
    }
    Tag(field, kLen);
    PutUvarint(out_, raw.size());
    out_->append(raw);
    return Status::OK();
  }

  static int HexDigit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }

  // ---- messages

  Status ResourceLogs(dom::object obj) {
    for (auto [key, value] : obj) {
      if (Is(key, "resource")) {
        SKALD_RETURN_IF_ERROR(Message(1, value, "resource", &Transcoder::Resource));
      } else if (Is(key, "scopeLogs", "scope_logs")) {
        SKALD_RETURN_IF_ERROR(Repeated(value, 2, "scopeLogs", &Transcoder::ScopeLogs));
      } else if (Is(key, "schemaUrl", "schema_url")) {
        SKALD_RETURN_IF_ERROR(String(value, 3, "schemaUrl"));
      }
    }
    return Status::OK();
  }

  Status Resource(dom::object obj) {
    for (auto [key, value] : obj) {
      if (Is(key, "attributes")) {
        SKALD_RETURN_IF_ERROR(Repeated(value, 1, "attributes", &Transcoder::KeyValue));
      } else if (Is(key, "droppedAttributesCount", "dropped_attributes_count")) {
        SKALD_RETURN_IF_ERROR(Varint(value, 2, "droppedAttributesCount", false, UINT32_MAX));
      }
    }
    return Status::OK();
  }

  Status ScopeLogs(dom::object obj) {
    for (auto [key, value] : obj) {
      if (Is(key, "scope")) {
        SKALD_RETURN_IF_ERROR(Message(1, value, "scope", &Transcoder::Scope));
      } else if (Is(key, "logRecords", "log_records")) {
        SKALD_RETURN_IF_ERROR(Repeated(value, 2, "logRecords", &Transcoder::LogRecord));
      } else if (Is(key, "schemaUrl", "schema_url")) {
        SKALD_RETURN_IF_ERROR(String(value, 3, "schemaUrl"));
      }
    }
    return Status::OK();
  }

  Status Scope(dom::object obj) {
    for (auto [key, value] : obj) {
      if (Is(key, "name")) {
        SKALD_RETURN_IF_ERROR(String(value, 1, "name"));
      } else if (Is(key, "version")) {
        SKALD_RETURN_IF_ERROR(String(value, 2, "version"));
      } else if (Is(key, "attributes")) {
        SKALD_RETURN_IF_ERROR(Repeated(value, 3, "attributes", &Transcoder::KeyValue));
      } else if (Is(key, "droppedAttributesCount", "dropped_attributes_count")) {
        SKALD_RETURN_IF_ERROR(Varint(value, 4, "droppedAttributesCount", false, UINT32_MAX));
      }
    }
    return Status::OK();
  }

  Status Severity(dom::element e) {
    if (e.is_null()) return Status::OK();
    if (e.is_string()) {
      static constexpr const char* kLevels[] = {"TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"};
      std::string_view s = e.get_string().value_unsafe();
      int64_t num = -1;
      if (s == "SEVERITY_NUMBER_UNSPECIFIED") num = 0;
      for (int l = 0; l < 6 && num < 0; ++l) {
        for (int k = 1; k <= 4; ++k) {
          std::string name = std::string("SEVERITY_NUMBER_") + kLevels[l];
          if (k > 1) name.push_back(static_cast<char>('0' + k));
          if (s == name) {
            num = l * 4 + k;
            break;
          }
        }
      }
      if (num < 0) {
        // A decimal string is accepted too (pdata reads enum numbers like int32).
        uint64_t v;
        if (!Integer(e, "severityNumber", true, &v).ok()) {
          return JsonError("severityNumber: unknown string value \"" + std::string(s) + "\"");
        }
        num = static_cast<int64_t>(v);
      }
      Tag(2, kVarint);
      PutUvarint(out_, static_cast<uint64_t>(static_cast<int64_t>(static_cast<int32_t>(num))));
      return Status::OK();
    }
    uint64_t v;
    SKALD_RETURN_IF_ERROR(Integer(e, "severityNumber", true, &v));
    const auto sv = static_cast<int64_t>(v);
    if (sv < INT32_MIN || sv > INT32_MAX) return JsonError("severityNumber is out of range");
    Tag(2, kVarint);
    PutUvarint(out_, static_cast<uint64_t>(sv));
    return Status::OK();
  }

  Status LogRecord(dom::object obj) {
    for (auto [key, value] : obj) {
      if (Is(key, "timeUnixNano", "time_unix_nano")) {
        SKALD_RETURN_IF_ERROR(Fixed64(value, 1, "timeUnixNano"));
      } else if (Is(key, "observedTimeUnixNano", "observed_time_unix_nano")) {
        SKALD_RETURN_IF_ERROR(Fixed64(value, 11, "observedTimeUnixNano"));
      } else if (Is(key, "severityNumber", "severity_number")) {
        SKALD_RETURN_IF_ERROR(Severity(value));
      } else if (Is(key, "severityText", "severity_text")) {
        SKALD_RETURN_IF_ERROR(String(value, 3, "severityText"));
      } else if (Is(key, "body")) {
        SKALD_RETURN_IF_ERROR(Message(5, value, "body", &Transcoder::AnyValue));
      } else if (Is(key, "attributes")) {
        SKALD_RETURN_IF_ERROR(Repeated(value, 6, "attributes", &Transcoder::KeyValue));
      } else if (Is(key, "droppedAttributesCount", "dropped_attributes_count")) {
        SKALD_RETURN_IF_ERROR(Varint(value, 7, "droppedAttributesCount", false, UINT32_MAX));
      } else if (Is(key, "flags")) {
        if (value.is_null()) continue;
        uint64_t v;
        SKALD_RETURN_IF_ERROR(Integer(value, "flags", false, &v));
        if (v > UINT32_MAX) return JsonError("flags is out of range");
        Tag(8, kI32);
        PutFixed32(out_, static_cast<uint32_t>(v));
      } else if (Is(key, "traceId", "trace_id")) {
        SKALD_RETURN_IF_ERROR(HexId(value, 9, "traceId", 16));
      } else if (Is(key, "spanId", "span_id")) {
        SKALD_RETURN_IF_ERROR(HexId(value, 10, "spanId", 8));
      } else if (Is(key, "eventName", "event_name")) {
        SKALD_RETURN_IF_ERROR(String(value, 12, "eventName"));
      }
    }
    return Status::OK();
  }

  Status KeyValue(dom::object obj) {
    for (auto [key, value] : obj) {
      if (Is(key, "key")) {
        SKALD_RETURN_IF_ERROR(String(value, 1, "key"));
      } else if (Is(key, "value")) {
        SKALD_RETURN_IF_ERROR(Message(2, value, "value", &Transcoder::AnyValue));
      }
    }
    return Status::OK();
  }

  Status ArrayValue(dom::object obj) {
    for (auto [key, value] : obj) {
      if (Is(key, "values")) {
        SKALD_RETURN_IF_ERROR(Repeated(value, 1, "values", &Transcoder::AnyValue));
      }
    }
    return Status::OK();
  }

  Status KeyValueList(dom::object obj) {
    for (auto [key, value] : obj) {
      if (Is(key, "values")) {
        SKALD_RETURN_IF_ERROR(Repeated(value, 1, "values", &Transcoder::KeyValue));
      }
    }
    return Status::OK();
  }

  Status AnyValue(dom::object obj) {
    for (auto [key, value] : obj) {
      if (Is(key, "stringValue", "string_value")) {
        SKALD_RETURN_IF_ERROR(String(value, 1, "stringValue"));
      } else if (Is(key, "boolValue", "bool_value")) {
        if (value.is_null()) continue;
        bool b;
        if (value.get(b)) return JsonError("boolValue must be a boolean");
        Tag(2, kVarint);
        PutUvarint(out_, b ? 1 : 0);
      } else if (Is(key, "intValue", "int_value")) {
        SKALD_RETURN_IF_ERROR(Varint(value, 3, "intValue", true));
      } else if (Is(key, "doubleValue", "double_value")) {
        if (value.is_null()) continue;
        double d;
        if (value.is_number()) {
          d = value.get_double().value_unsafe();
        } else if (value.is_string()) {
          std::string_view s = value.get_string().value_unsafe();
          if (s == "NaN") {
            d = std::nan("");
          } else if (s == "Infinity") {
            d = HUGE_VAL;
          } else if (s == "-Infinity") {
            d = -HUGE_VAL;
          } else {
            auto r = std::from_chars(s.data(), s.data() + s.size(), d);
            if (s.empty() || r.ec != std::errc() || r.ptr != s.data() + s.size()) {
              return JsonError("doubleValue: invalid number string");
            }
          }
        } else {
          return JsonError("doubleValue must be a number");
        }
        uint64_t u;
        std::memcpy(&u, &d, sizeof(u));
        Tag(4, kI64);
        PutFixed64(out_, u);
      } else if (Is(key, "arrayValue", "array_value")) {
        SKALD_RETURN_IF_ERROR(Message(5, value, "arrayValue", &Transcoder::ArrayValue));
      } else if (Is(key, "kvlistValue", "kvlist_value")) {
        SKALD_RETURN_IF_ERROR(Message(6, value, "kvlistValue", &Transcoder::KeyValueList));
      } else if (Is(key, "bytesValue", "bytes_value")) {
        if (value.is_null()) continue;
        std::string_view s;
        if (value.get(s)) return JsonError("bytesValue must be a base64 string");
        std::string raw;
        if (!Base64Decode(s, &raw)) return JsonError("bytesValue: illegal base64 data");
        Tag(7, kLen);
        PutUvarint(out_, raw.size());
        out_->append(raw);
      }
    }
    return Status::OK();
  }

  // Standard base64 with padding (Go's base64.StdEncoding; line breaks are not allowed).
  static bool Base64Decode(std::string_view s, std::string* out) {
    if (s.size() % 4 != 0) return false;
    auto val = [](char c) -> int {
      if (c >= 'A' && c <= 'Z') return c - 'A';
      if (c >= 'a' && c <= 'z') return c - 'a' + 26;
      if (c >= '0' && c <= '9') return c - '0' + 52;
      if (c == '+') return 62;
      if (c == '/') return 63;
      return -1;
    };
    out->reserve(s.size() / 4 * 3);
    for (size_t i = 0; i < s.size(); i += 4) {
      const bool last = i + 4 == s.size();
      int v[4];
      int pad = 0;
      for (int k = 0; k < 4; ++k) {
        if (last && s[i + k] == '=' && k >= 2) {
          v[k] = 0;
          pad++;
          continue;
        }
        if (pad > 0) return false;
        v[k] = val(s[i + k]);
        if (v[k] < 0) return false;
      }
      const uint32_t n = uint32_t(v[0]) << 18 | uint32_t(v[1]) << 12 | uint32_t(v[2]) << 6 | v[3];
      out->push_back(static_cast<char>(n >> 16));
      if (pad < 2) out->push_back(static_cast<char>((n >> 8) & 0xff));
      if (pad < 1) out->push_back(static_cast<char>(n & 0xff));
    }
    return true;
  }

  std::string* out_;
  int depth_ = 0;
};

}  // namespace

StatusOr<std::string> OtlpJsonToProtobuf(std::string_view json) {
  // A DOM parser keeps ~14 bytes per byte of the largest document it parsed: bodies up to 1 MiB
  // reuse a per-thread parser, larger ones get their own (freed right after).
  constexpr size_t kReuseBelow = 1 << 20;
  thread_local dom::parser shared;
  std::unique_ptr<dom::parser> own;
  dom::parser* parser = &shared;
  if (json.size() > kReuseBelow) {
    own = std::make_unique<dom::parser>();
    parser = own.get();
  }
  dom::element root;
  if (auto ec = parser->parse(json.data(), json.size(), true).get(root)) {
    return JsonError(simdjson::error_message(ec));
  }
  std::string out;
  out.reserve(json.size());
  Transcoder t(&out);
  SKALD_RETURN_IF_ERROR(t.Request(root));
  return out;
}

StatusOr<PushRequest> DecodeOtlpJson(std::string_view json, const OtlpOptions& options) {
  SKALD_ASSIGN_OR_RETURN(std::string proto, OtlpJsonToProtobuf(json));
  PushRequest req;
  auto& body = internal::PushRequestAccess::body(req);
  body = std::make_unique<std::string>(std::move(proto));
  SKALD_RETURN_IF_ERROR(internal::MapOtlpProtoInto(*body, json.size(), options, &req));
  return req;
}

}  // namespace skald::wire
