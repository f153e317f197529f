// OTLP logs protobuf reader and Loki's OTLP -> push mapping (see otlp.h and docs/otlp.md).
//
// Field numbers are those of opentelemetry-proto (collector/logs/v1, logs/v1, common/v1,
// resource/v1). The reader is zero-copy: string attribute values and string bodies are views into
// the request's buffer; everything made up (sanitised names, stringified values, label strings)
// goes to the request's arena. Memory is bounded by an expansion budget (OtlpOptions).
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/coding.h"
#include "core/go_string.h"
#include "core/json_escape.h"
#include "core/labels.h"
#include "core/time.h"
#include "core/utf8.h"
#include "wire/otlp.h"
#include "wire/otlp_internal.h"
#include "wire/push_internal.h"

namespace skald::wire {

namespace {

constexpr int kVarint = 0;
constexpr int kI64 = 1;
constexpr int kLen = 2;
constexpr int kI32 = 5;

// Nesting allowed inside AnyValue (arrays and maps); deeper input is rejected.
constexpr int kMaxValueDepth = 64;
// Loki's maxStreamLabelsSize.
constexpr size_t kMaxStreamLabelsSize = 1 << 24;

// A bounds-checked protobuf reader over one message. Methods return false on error and set
// *err (first error wins).
class Reader {
 public:
  Reader(std::string_view data, Status* err)
      : p_(data.data()), end_(data.data() + data.size()), err_(err) {}

  bool done() const { return p_ == end_; }

  bool Tag(uint32_t* field, int* wire) {
    uint64_t tag;
    if (!Varint(&tag)) [[unlikely]]
      return false;
    *wire = static_cast<int>(tag & 7);
    if (tag >> 3 == 0 || tag >> 3 > 0x1fffffff) [[unlikely]]
      return FailTag(tag);
    *field = static_cast<uint32_t>(tag >> 3);
    return true;
  }
  bool Varint(uint64_t* v) {
    // Tags and most lengths take one or two bytes.
    const auto* p = reinterpret_cast<const unsigned char*>(p_);
    const ptrdiff_t left = end_ - p_;
    if (left >= 1 && p[0] < 0x80) [[likely]] {
      *v = p[0];
      p_ += 1;
      return true;
    }
    if (left >= 2 && p[1] < 0x80) {
      *v = (p[0] & 0x7fu) | uint64_t{p[1]} << 7;
      p_ += 2;
      return true;
    }
    return SlowVarint(v);
  }
  bool Fixed64(uint64_t* v) {
    if (end_ - p_ < 8) return Fail("unexpected EOF");
    *v = DecodeFixed64(p_);
    p_ += 8;
    return true;
  }
  bool Fixed32(uint32_t* v) {
    if (end_ - p_ < 4) return Fail("unexpected EOF");
    *v = DecodeFixed32(p_);
    p_ += 4;
    return true;
  }
  bool Len(std::string_view* v) {
    uint64_t n;
    if (!Varint(&n)) return false;
    if (n > static_cast<uint64_t>(end_ - p_)) return Fail("unexpected EOF");
    *v = std::string_view(p_, static_cast<size_t>(n));
    p_ += n;
    return true;
  }
  bool Skip(int wire) {
    uint64_t u64;
    uint32_t u32;
    std::string_view s;
    switch (wire) {
      case kVarint:
        return Varint(&u64);
      case kI64:
        return Fixed64(&u64);
      case kLen:
        return Len(&s);
      case kI32:
        return Fixed32(&u32);
      default:
        return Fail("proto: illegal wireType " + std::to_string(wire));
    }
  }
  bool Expect(int wire, int want, const char* field) {
    if (wire == want) [[likely]]
      return true;
    return FailWire(wire, field);
  }
  [[gnu::cold, gnu::noinline]] bool FailWire(int wire, const char* field) {
    return Fail("proto: wrong wireType = " + std::to_string(wire) + " for field " + field);
  }
  [[gnu::cold, gnu::noinline]] bool Fail(std::string msg) {
    if (err_->ok()) *err_ = Status::InvalidArgument(std::move(msg));
    return false;
  }

 private:
  [[gnu::noinline]] bool SlowVarint(uint64_t* v) {
    CodingError e = DecodeUvarint(&p_, end_, v);
    if (e == CodingError::kNone) [[likely]]
      return true;
    return Fail(e == CodingError::kTruncated ? "unexpected EOF" : "proto: integer overflow");
  }
  [[gnu::cold, gnu::noinline]] bool FailTag(uint64_t tag) {
    return Fail("proto: illegal tag " + std::to_string(tag >> 3) + " (wire type " +
                std::to_string(tag & 7) + ")");
  }

  const char* p_;
  const char* end_;
  Status* err_;
};

// A decoded AnyValue. Str / Bytes: `raw` is the bytes; Array / Map: `raw` is the ArrayValue /
// KeyValueList message.
struct AnyValue {
  enum Kind : uint8_t { kEmpty, kStr, kBool, kInt, kDouble, kArray, kMap, kBytes } kind = kEmpty;
  std::string_view raw;
  int64_t i = 0;
  double d = 0;
};

// Calls f(field, wire, reader) for each field of a message, in order; f reads or skips the
// field's value and returns false on malformed input (err set). False when the message or f
// fails.
template <class F>
bool ForEachField(std::string_view msg, Status* err, F&& f) {
  Reader r(msg, err);
  while (!r.done()) {
    uint32_t field;
    int wire;
    if (!r.Tag(&field, &wire) || !f(field, wire, r)) return false;
  }
  return true;
}

bool ParseAnyValue(std::string_view msg, AnyValue* out, Status* err) {
  *out = AnyValue{};
  return ForEachField(msg, err, [&](uint32_t field, int wire, Reader& r) {
    uint64_t v;
    switch (field) {
      case 1:
        if (!r.Expect(wire, kLen, "StringValue") || !r.Len(&out->raw)) return false;
        out->kind = AnyValue::kStr;
        break;
      case 2:
        if (!r.Expect(wire, kVarint, "BoolValue") || !r.Varint(&v)) return false;
        out->kind = AnyValue::kBool;
        out->i = v != 0;
        break;
      case 3:
        if (!r.Expect(wire, kVarint, "IntValue") || !r.Varint(&v)) return false;
        out->kind = AnyValue::kInt;
        out->i = static_cast<int64_t>(v);
        break;
      case 4:
        if (!r.Expect(wire, kI64, "DoubleValue") || !r.Fixed64(&v)) return false;
        out->kind = AnyValue::kDouble;
        std::memcpy(&out->d, &v, sizeof(v));
        break;
      case 5:
        if (!r.Expect(wire, kLen, "ArrayValue") || !r.Len(&out->raw)) return false;
        out->kind = AnyValue::kArray;
        break;
      case 6:
        if (!r.Expect(wire, kLen, "KvlistValue") || !r.Len(&out->raw)) return false;
        out->kind = AnyValue::kMap;
        break;
      case 7:
        if (!r.Expect(wire, kLen, "BytesValue") || !r.Len(&out->raw)) return false;
        out->kind = AnyValue::kBytes;
        break;
      default:
        if (!r.Skip(wire)) return false;
    }
    return true;
  });
}

// Parses one KeyValue message.
bool ParseKeyValue(std::string_view msg, std::string_view* key, AnyValue* value, Status* err) {
  *key = {};
  std::string_view vmsg;
  bool has_value = false;
  const bool ok = ForEachField(msg, err, [&](uint32_t field, int wire, Reader& r) {
    if (field == 1) {
      if (!r.Expect(wire, kLen, "Key") || !r.Len(key)) return false;
    } else if (field == 2) {
      if (!r.Expect(wire, kLen, "Value") || !r.Len(&vmsg)) return false;
      has_value = true;
    } else if (!r.Skip(wire)) {
      return false;
    }
    return true;
  });
  if (!ok) return false;
  if (!has_value) {
    *value = AnyValue{};
    return true;
  }
  return ParseAnyValue(vmsg, value, err);
}

// Calls f(std::string_view element_msg) for each field-1 element of an ArrayValue /
// KeyValueList message.
template <class F>
bool ForEachValues(std::string_view msg, const char* field_name, Status* err, F&& f) {
  return ForEachField(msg, err, [&](uint32_t field, int wire, Reader& r) {
    if (field == 1) {
      std::string_view elem;
      if (!r.Expect(wire, kLen, field_name) || !r.Len(&elem)) return false;
      if (!f(elem)) return false;
    } else if (!r.Skip(wire)) {
      return false;
    }
    return true;
  });
}

// ---------------------------------------------------------------------------
// AsString (pdata's Value.AsString: maps and arrays as Go encoding/json without HTML escaping)

// ES6 number formatting, as pdata's float64AsString and Go's encoding/json.
void AppendFloat(std::string* out, double f) {
  char buf[64];
  const double abs = std::fabs(f);
  const bool exp = abs != 0 && (abs < 1e-6 || abs >= 1e21);
  auto res = std::to_chars(buf, buf + sizeof(buf), f,
                           exp ? std::chars_format::scientific : std::chars_format::fixed);
  size_t n = static_cast<size_t>(res.ptr - buf);
  if (exp && n >= 4 && buf[n - 4] == 'e' && buf[n - 3] == '-' && buf[n - 2] == '0') {
    buf[n - 2] = buf[n - 1];
    n--;
  }
  out->append(buf, n);
}

void AppendInt(std::string* out, int64_t v) {
  char buf[24];
  auto res = std::to_chars(buf, buf + sizeof(buf), v);
  out->append(buf, res.ptr);
}

void AppendUint(std::string* out, uint64_t v) {
  char buf[24];
  auto res = std::to_chars(buf, buf + sizeof(buf), v);
  out->append(buf, res.ptr);
}

void AppendBase64(std::string* out, std::string_view in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const auto* p = reinterpret_cast<const unsigned char*>(in.data());
  size_t n = in.size(), i = 0;
  for (; i + 3 <= n; i += 3) {
    const uint32_t v = uint32_t(p[i]) << 16 | uint32_t(p[i + 1]) << 8 | p[i + 2];
    out->push_back(kAlphabet[v >> 18]);
    out->push_back(kAlphabet[(v >> 12) & 63]);
    out->push_back(kAlphabet[(v >> 6) & 63]);
    out->push_back(kAlphabet[v & 63]);
  }
  if (i < n) {
    uint32_t v = uint32_t(p[i]) << 16;
    if (i + 1 < n) v |= uint32_t(p[i + 1]) << 8;
    out->push_back(kAlphabet[v >> 18]);
    out->push_back(kAlphabet[(v >> 12) & 63]);
    out->push_back(i + 1 < n ? kAlphabet[(v >> 6) & 63] : '=');
    out->push_back('=');
  }
}

struct JsonKv {
  std::string_view key;
  AnyValue value;
};

// Appends v as Go's json.Marshal(v.AsRaw()) would. Returns false on malformed input (err set) or
// when Go's encoder would fail (NaN / Inf: *unsupported set, err untouched).
bool AppendJsonValue(std::string* out, const AnyValue& v, int depth, Status* err,
                     bool* unsupported) {
  if (depth > kMaxValueDepth) {
    if (err->ok()) *err = Status::InvalidArgument("proto: exceeded maximum nesting depth");
    return false;
  }
  switch (v.kind) {
    case AnyValue::kEmpty:
      out->append("null");
      return true;
    case AnyValue::kStr:
      AppendJsonString(out, v.raw, JsonEscaping::kGoNoHtml);
      return true;
    case AnyValue::kBool:
      out->append(v.i ? "true" : "false");
      return true;
    case AnyValue::kInt:
      AppendInt(out, v.i);
      return true;
    case AnyValue::kDouble:
      if (std::isnan(v.d) || std::isinf(v.d)) {
        *unsupported = true;
        return false;
      }
      AppendFloat(out, v.d);
      return true;
    case AnyValue::kBytes:
      out->push_back('"');
      AppendBase64(out, v.raw);
      out->push_back('"');
      return true;
    case AnyValue::kArray: {
      out->push_back('[');
      bool first = true;
      bool ok = ForEachValues(v.raw, "Values", err, [&](std::string_view elem) {
        AnyValue ev;
        if (!ParseAnyValue(elem, &ev, err)) return false;
        if (!first) out->push_back(',');
        first = false;
        return AppendJsonValue(out, ev, depth + 1, err, unsupported);
      });
      if (!ok) return false;
      out->push_back(']');
      return true;
    }
    case AnyValue::kMap: {
      std::vector<JsonKv> kvs;
      bool ok = ForEachValues(v.raw, "Values", err, [&](std::string_view elem) {
        JsonKv kv;
        if (!ParseKeyValue(elem, &kv.key, &kv.value, err)) return false;
        kvs.push_back(kv);
        return true;
      });
      if (!ok) return false;
      // A Go map: the last duplicate wins, keys are written sorted.
      std::stable_sort(kvs.begin(), kvs.end(),
                       [](const JsonKv& a, const JsonKv& b) { return a.key < b.key; });
      out->push_back('{');
      bool first = true;
      for (size_t i = 0; i < kvs.size(); ++i) {
        if (i + 1 < kvs.size() && kvs[i + 1].key == kvs[i].key) continue;
        if (!first) out->push_back(',');
        first = false;
        AppendJsonString(out, kvs[i].key, JsonEscaping::kGoNoHtml);
        out->push_back(':');
        if (!AppendJsonValue(out, kvs[i].value, depth + 1, err, unsupported)) return false;
      }
      out->push_back('}');
      return true;
    }
  }
  return true;
}

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// True when SanitizeOtlpName(name) == name (the common case, checked without allocating).
bool IsSanitized(std::string_view name) {
  if (name.empty() || (name[0] >= '0' && name[0] <= '9')) return false;
  bool prev_underscore = false, any_other = false;
  for (char c : name) {
    if (c == '_') {
      if (prev_underscore) return false;
      prev_underscore = true;
    } else if (IsNameChar(c)) {
      prev_underscore = false;
      any_other = true;
    } else {
      return false;
    }
  }
  return any_other;
}

}  // namespace

StatusOr<std::string> SanitizeOtlpName(std::string_view name) {
  if (name.empty()) return Status::InvalidArgument("label name is empty");
  std::string_view body = name;
  const bool reserved = name.size() >= 4 && name.starts_with("__") && name.ends_with("__");
  if (reserved) body = name.substr(2, name.size() - 4);
  std::string out;
  out.reserve(name.size() + 4);
  if (reserved) out.append("__");
  bool prev_underscore = false;
  for (char c : body) {
    if (IsNameChar(c)) {
      out.push_back(c);
      prev_underscore = false;
    } else if (!prev_underscore) {
      out.push_back('_');
      prev_underscore = true;
    }
  }
  if (reserved) out.append("__");
  if (out[0] >= '0' && out[0] <= '9') {
    std::string prefixed;
    prefixed.reserve(out.size() + 4);
    prefixed.append("key_").append(out);
    out.swap(prefixed);
  }
  if (out.find_first_not_of('_') == std::string::npos) {
    std::string msg = "normalization for label name ";
    AppendGoQuoted(&msg, name);
    msg.append(" resulted in invalid name ");
    AppendGoQuoted(&msg, out);
    return Status::InvalidArgument(std::move(msg));
  }
  return out;
}

const std::vector<std::string>& DefaultOtlpIndexLabels() {
  static const std::vector<std::string> kDefaults = {"service.name",
                                                     "service.namespace",
                                                     "service.instance.id",
                                                     "deployment.environment",
                                                     "deployment.environment.name",
                                                     "cloud.region",
                                                     "cloud.availability_zone",
                                                     "k8s.cluster.name",
                                                     "k8s.namespace.name",
                                                     "k8s.pod.name",
                                                     "k8s.container.name",
                                                     "container.name",
                                                     "k8s.replicaset.name",
                                                     "k8s.deployment.name",
                                                     "k8s.statefulset.name",
                                                     "k8s.daemonset.name",
                                                     "k8s.cronjob.name",
                                                     "k8s.job.name"};
  return kDefaults;
}

std::vector<OtlpAttributeRule> DefaultOtlpResourceRules() {
  OtlpAttributeRule r;
  r.action = OtlpAction::kIndexLabel;
  r.attributes = DefaultOtlpIndexLabels();
  return {std::move(r)};
}

OtlpOptions DefaultOtlpOptions() {
  OtlpOptions o;
  o.resource_rules = DefaultOtlpResourceRules();
  o.discover_service_name = DefaultServiceNameSources();
  return o;
}

std::string EncodeOtlpErrorStatus(std::string_view message) {
  std::string out;
  if (message.empty()) return out;
  out.push_back(0x12);  // google.rpc.Status.message = 2 (code 0 is omitted)
  PutUvarint(&out, message.size());
  out.append(message);
  return out;
}

namespace internal {

namespace {

OtlpAction ActionFor(const std::vector<OtlpAttributeRule>& rules, std::string_view name) {
  for (const auto& rule : rules) {
    if (rule.regex && rule.regex(name)) return rule.action;
    for (const auto& a : rule.attributes) {
      if (a == name) return rule.action;
    }
  }
  return OtlpAction::kStructuredMetadata;
}

struct LabelKv {
  std::string_view name;
  std::string_view value;
};

class Mapper {
 public:
  Mapper(const OtlpOptions& opt, size_t input_size, PushRequest* req)
      : opt_(opt),
        req_(req),
        arena_(&PushRequestAccess::arena(*req)),
        budget_(std::min(opt.max_decoded_bytes, input_size > (SIZE_MAX - (1 << 20)) / 128
                                                    ? SIZE_MAX
                                                    : input_size * 128 + (1 << 20))) {}

  Status Run(std::string_view msg) {
    Reader r(msg, &err_);
    while (!r.done()) {
      uint32_t field;
      int wire;
      if (!r.Tag(&field, &wire)) return err_;
      if (field == 1) {
        std::string_view rl;
        if (!r.Expect(wire, kLen, "ResourceLogs") || !r.Len(&rl)) return err_;
        if (!ResourceLogs(rl)) return err_;
      } else if (!r.Skip(wire)) {
        return err_;
      }
    }
    return Status::OK();
  }

 private:
  // ---- budget and storage

  bool Charge(size_t bytes) {
    used_ += bytes;
    if (used_ <= budget_) [[likely]]
      return true;
    if (err_.ok()) {
      err_ = Status::TooLarge("request body too large: the decoded OTLP request would exceed " +
                              std::to_string(budget_) +
                              " bytes (resource and scope attributes are copied onto "
                              "every log record)");
    }
    return false;
  }

  // Copies scratch_ into the arena.
  bool Keep(std::string_view s, std::string_view* out) {
    if (!Charge(s.size())) return false;
    *out = arena_->Copy(s);
    return true;
  }

  bool Fail(std::string msg) {
    if (err_.ok()) err_ = Status::InvalidArgument(std::move(msg));
    return false;
  }

  // ---- values

  // pdata AsString. Str values are views into the input; others are made in the arena.
  bool AsString(const AnyValue& v, std::string_view* out) {
    switch (v.kind) {
      case AnyValue::kEmpty:
        *out = {};
        return true;
      case AnyValue::kStr:
        *out = v.raw;
        return true;
      case AnyValue::kBool:
        *out = v.i ? "true" : "false";
        return true;
      default:
        break;
    }
    scratch_.clear();
    switch (v.kind) {
      case AnyValue::kInt:
        AppendInt(&scratch_, v.i);
        break;
      case AnyValue::kDouble:
        if (std::isnan(v.d)) {
          *out = "NaN";
          return true;
        }
        if (std::isinf(v.d)) {
          *out = v.d > 0 ? "Infinity" : "-Infinity";
          return true;
        }
        AppendFloat(&scratch_, v.d);
        break;
      case AnyValue::kBytes:
        AppendBase64(&scratch_, v.raw);
        break;
      case AnyValue::kArray:
      case AnyValue::kMap: {
        bool unsupported = false;
        if (!AppendJsonValue(&scratch_, v, 0, &err_, &unsupported)) {
          if (!unsupported) return false;
          scratch_.clear();  // Go's encoder fails on NaN / Inf: AsString gives ""
        }
        break;
      }
      default:
        break;
    }
    return Keep(scratch_, out);
  }

  // Loki's attributeToLabels: the sanitised name (prefixed with the parent's for map members)
  // and the stringified value; maps are flattened.
  bool Flatten(std::string_view key, const AnyValue& v, std::string_view prefix, int depth,
               std::vector<LabelKv>* out) {
    if (depth > kMaxValueDepth) return Fail("proto: exceeded maximum nesting depth");
    std::string_view name;
    std::string joined;
    std::string_view full = key;
    if (!prefix.empty()) {
      joined.reserve(prefix.size() + 1 + key.size());
      joined.append(prefix).append("_").append(key);
      full = joined;
    }
    if (IsSanitized(full)) {
      if (prefix.empty()) {
        name = full;  // a view into the input
      } else if (!Keep(full, &name)) {
        return false;
      }
    } else {
      auto s = SanitizeOtlpName(full);
      if (!s.ok()) {
        std::string msg = "symbolizer lookup: ";
        if (depth > 0) msg.append("symbolizer lookup: ");
        return Fail(msg.append(s.status().message()));
      }
      if (!Keep(*s, &name)) return false;
    }
    if (v.kind == AnyValue::kMap) {
      return ForEachValues(v.raw, "Values", &err_, [&](std::string_view elem) {
        std::string_view k;
        AnyValue ev;
        if (!ParseKeyValue(elem, &k, &ev, &err_)) return false;
        return Flatten(k, ev, name, depth + 1, out);
      });
    }
    LabelKv kv{name, {}};
    if (!AsString(v, &kv.value)) return false;
    out->push_back(kv);
    return true;
  }

  // Maps the KeyValue attribute `msg` with `rules`: index labels into *labels (may be null:
  // index_label then drops), structured metadata into *sm.
  bool Attribute(std::string_view msg, const std::vector<OtlpAttributeRule>& rules,
                 std::vector<LabelKv>* labels, std::vector<LabelKv>* sm,
                 std::string_view* raw_key = nullptr) {
    std::string_view key;
    AnyValue v;
    if (!ParseKeyValue(msg, &key, &v, &err_)) return false;
    if (raw_key != nullptr) *raw_key = key;
    const OtlpAction action =
        rules.empty() ? OtlpAction::kStructuredMetadata : ActionFor(rules, key);
    if (action == OtlpAction::kDrop) return true;
    if (action == OtlpAction::kIndexLabel) {
      if (labels == nullptr) {
        // Validated away by configuration; Loki drops it too.
        flat_.clear();
        return Flatten(key, v, {}, 0, &flat_);
      }
      return Flatten(key, v, {}, 0, labels);
    }
    return Flatten(key, v, {}, 0, sm);
  }

  // ---- labels

  // Sets name=value in a label map kept as a vector (later values win).
  static void SetLabel(std::vector<LabelKv>* labels, std::string_view name,
                       std::string_view value) {
    for (auto& l : *labels) {
      if (l.name == name) {
        l.value = value;
        return;
      }
    }
    labels->push_back({name, value});
  }

  // The stream for a label set (sorted copy rendered canonically); -1 when the labels are
  // invalid (Loki skips them), -2 on error.
  int64_t StreamFor(std::vector<LabelKv> labels) {
    for (const auto& l : labels) {
      if (!IsValidUtf8(l.value)) return -1;
    }
    std::sort(labels.begin(), labels.end(),
              [](const LabelKv& a, const LabelKv& b) { return a.name < b.name; });
    scratch_.clear();
    scratch_.push_back('{');
    for (size_t i = 0; i < labels.size(); ++i) {
      if (i > 0) scratch_.append(", ");
      scratch_.append(labels[i].name);
      scratch_.push_back('=');
      AppendGoQuoted(&scratch_, labels[i].value);
    }
    scratch_.push_back('}');
    if (scratch_.size() > kMaxStreamLabelsSize) {
      err_ = Status::TooLarge("request body too large: stream labels size " +
                              std::to_string(scratch_.size()) + " bytes exceeds limit of " +
                              std::to_string(kMaxStreamLabelsSize) + " bytes");
      return -2;
    }
    auto it = streams_.find(scratch_);
    if (it != streams_.end()) return it->second;
    std::string_view kept;
    if (!Keep(scratch_, &kept)) return -2;
    if (!Charge(sizeof(PushStream))) return -2;
    const auto idx = static_cast<int64_t>(req_->streams.size());
    PushStream s;
    s.labels = kept;
    req_->streams.push_back(std::move(s));
    streams_.emplace(kept, static_cast<uint32_t>(idx));
    return idx;
  }

  // ---- messages

  bool ResourceLogs(std::string_view msg) {
    // Pass 1: the resource (repeated occurrences merge: their attributes add up).
    resource_labels_.clear();
    resource_sm_.clear();
    bool has_service_name = false;
    bool discovered = false;
    seen_service_name_ = false;
    {
      const bool ok = ForEachField(msg, &err_, [&](uint32_t field, int wire, Reader& r) {
        if (field == 1) {
          std::string_view res;
          if (!r.Expect(wire, kLen, "Resource") || !r.Len(&res)) return false;
          if (!Resource(res, &has_service_name)) return false;
        } else if (field == 2) {
          if (!r.Expect(wire, kLen, "ScopeLogs") || !r.Skip(wire)) return false;
        } else if (field == 3) {
          if (!r.Expect(wire, kLen, "SchemaUrl") || !r.Skip(wire)) return false;
        } else if (!r.Skip(wire)) {
          return false;
        }
        return true;
      });
      if (!ok) return false;
    }
    // Service name discovery over the index labels, in attribute order.
    std::vector<LabelKv> labels;
    for (const auto& l : resource_labels_) {
      SetLabel(&labels, l.name, l.value);
      if (!has_service_name && !discovered && !opt_.discover_service_name.empty()) {
        for (const auto& d : opt_.discover_service_name) {
          if (l.name == d) {
            SetLabel(&labels, "service_name", l.value);
            discovered = true;
            break;
          }
        }
      }
    }
    if (!has_service_name && !discovered && !opt_.discover_service_name.empty()) {
      SetLabel(&labels, "service_name", "unknown_service");
    }
    stream_labels_ = std::move(labels);
    const int64_t stream = StreamFor(stream_labels_);
    if (stream == -2) return false;
    if (stream == -1) return true;  // invalid labels: Loki skips the resource
    stream_ = static_cast<uint32_t>(stream);

    // Pass 2: the scopes.
    return ForEachField(msg, &err_, [&](uint32_t field, int wire, Reader& r) {
      if (field == 2) {
        std::string_view sl;
        if (!r.Len(&sl)) return false;
        if (!ScopeLogs(sl)) return false;
      } else if (!r.Skip(wire)) {
        return false;
      }
      return true;
    });
  }

  bool Resource(std::string_view msg, bool* has_service_name) {
    return ForEachField(msg, &err_, [&](uint32_t field, int wire, Reader& r) {
      if (field == 1) {
        std::string_view kv;
        if (!r.Expect(wire, kLen, "Attributes") || !r.Len(&kv)) return false;
        std::string_view key;
        if (!Attribute(kv, opt_.resource_rules, &resource_labels_, &resource_sm_, &key)) {
          return false;
        }
        if (key == "service.name" && !seen_service_name_) {
          // pdata's Get finds the first attribute of that name; its AsString must be non-empty.
          seen_service_name_ = true;
          std::string_view k;
          AnyValue v;
          if (!ParseKeyValue(kv, &k, &v, &err_)) return false;
          std::string_view s;
          if (!AsString(v, &s)) return false;
          if (!s.empty()) *has_service_name = true;
        }
      } else if (field == 2) {
        if (!r.Expect(wire, kVarint, "DroppedAttributesCount") || !r.Skip(wire)) return false;
      } else if (field == 3) {
        if (!r.Expect(wire, kLen, "EntityRefs") || !r.Skip(wire)) return false;
      } else if (!r.Skip(wire)) {
        return false;
      }
      return true;
    });
  }

  bool ScopeLogs(std::string_view msg) {
    scope_sm_.clear();
    std::string_view name, version;
    uint64_t dropped = 0;
    {
      const bool ok = ForEachField(msg, &err_, [&](uint32_t field, int wire, Reader& r) {
        if (field == 1) {
          std::string_view scope;
          if (!r.Expect(wire, kLen, "Scope") || !r.Len(&scope)) return false;
          if (!Scope(scope, &name, &version, &dropped)) return false;
        } else if (field == 2) {
          if (!r.Expect(wire, kLen, "LogRecords") || !r.Skip(wire)) return false;
        } else if (field == 3) {
          if (!r.Expect(wire, kLen, "SchemaUrl") || !r.Skip(wire)) return false;
        } else if (!r.Skip(wire)) {
          return false;
        }
        return true;
      });
      if (!ok) return false;
    }
    if (!name.empty()) scope_sm_.push_back({"scope_name", name});
    if (!version.empty()) scope_sm_.push_back({"scope_version", version});
    if (static_cast<uint32_t>(dropped) != 0) {
      scratch_.clear();
      AppendUint(&scratch_, static_cast<uint32_t>(dropped));
      std::string_view v;
      if (!Keep(scratch_, &v)) return false;
      scope_sm_.push_back({"scope_dropped_attributes_count", v});
    }
    return ForEachField(msg, &err_, [&](uint32_t field, int wire, Reader& r) {
      if (field == 2) {
        std::string_view rec;
        if (!r.Len(&rec)) return false;
        if (!LogRecord(rec)) return false;
      } else if (!r.Skip(wire)) {
        return false;
      }
      return true;
    });
  }

  bool Scope(std::string_view msg, std::string_view* name, std::string_view* version,
             uint64_t* dropped) {
    return ForEachField(msg, &err_, [&](uint32_t field, int wire, Reader& r) {
      if (field == 1) {
        if (!r.Expect(wire, kLen, "Name") || !r.Len(name)) return false;
      } else if (field == 2) {
        if (!r.Expect(wire, kLen, "Version") || !r.Len(version)) return false;
      } else if (field == 3) {
        std::string_view kv;
        if (!r.Expect(wire, kLen, "Attributes") || !r.Len(&kv)) return false;
        if (!Attribute(kv, opt_.scope_rules, nullptr, &scope_sm_)) return false;
      } else if (field == 4) {
        if (!r.Expect(wire, kVarint, "DroppedAttributesCount") || !r.Varint(dropped)) {
          return false;
        }
      } else if (!r.Skip(wire)) {
        return false;
      }
      return true;
    });
  }

  bool Number(uint64_t v, bool is_signed, std::string_view name) {
    scratch_.clear();
    if (is_signed) {
      AppendInt(&scratch_, static_cast<int64_t>(v));
    } else {
      AppendUint(&scratch_, v);
    }
    std::string_view kept;
    if (!Keep(scratch_, &kept)) return false;
    entry_sm_.push_back({name, kept});
    return true;
  }

  bool LogRecord(std::string_view msg) {
    uint64_t time = 0, observed = 0, sev_num = 0, dropped = 0;
    uint32_t flags = 0;
    std::string_view sev_text, body_msg, trace_id, span_id, event_name;
    bool has_body = false;
    entry_sm_.clear();
    log_labels_.clear();
    const bool ok = ForEachField(msg, &err_, [&](uint32_t field, int wire, Reader& r) {
      switch (field) {
        case 1:
          if (!r.Expect(wire, kI64, "TimeUnixNano") || !r.Fixed64(&time)) return false;
          break;
        case 11:
          if (!r.Expect(wire, kI64, "ObservedTimeUnixNano") || !r.Fixed64(&observed)) {
            return false;
          }
          break;
        case 2:
          if (!r.Expect(wire, kVarint, "SeverityNumber") || !r.Varint(&sev_num)) return false;
          break;
        case 3:
          if (!r.Expect(wire, kLen, "SeverityText") || !r.Len(&sev_text)) return false;
          break;
        case 5:
          if (!r.Expect(wire, kLen, "Body") || !r.Len(&body_msg)) return false;
          has_body = true;
          break;
        case 6: {
          std::string_view kv;
          if (!r.Expect(wire, kLen, "Attributes") || !r.Len(&kv)) return false;
          if (!Attribute(kv, opt_.log_rules, &log_labels_, &entry_sm_)) return false;
          break;
        }
        case 7:
          if (!r.Expect(wire, kVarint, "DroppedAttributesCount") || !r.Varint(&dropped)) {
            return false;
          }
          break;
        case 8:
          if (!r.Expect(wire, kI32, "Flags") || !r.Fixed32(&flags)) return false;
          break;
        case 9:
          if (!r.Expect(wire, kLen, "TraceId") || !r.Len(&trace_id)) return false;
          if (!trace_id.empty() && trace_id.size() != 16) {
            return Fail("unmarshal: invalid TraceID length");
          }
          break;
        case 10:
          if (!r.Expect(wire, kLen, "SpanId") || !r.Len(&span_id)) return false;
          if (!span_id.empty() && span_id.size() != 8) {
            return Fail("unmarshal: invalid SpanID length");
          }
          break;
        case 12:
          if (!r.Expect(wire, kLen, "EventName") || !r.Len(&event_name)) return false;
          break;
        default:
          if (!r.Skip(wire)) return false;
      }
      return true;
    });
    if (!ok) return false;

    PushEntry e;
    if (time != 0) {
      e.timestamp_ns = static_cast<int64_t>(time);
    } else if (observed != 0) {
      e.timestamp_ns = static_cast<int64_t>(observed);
    } else {
      if (now_ns_ == 0) now_ns_ = opt_.receive_time_ns != 0 ? opt_.receive_time_ns : NowNanos();
      e.timestamp_ns = now_ns_;
    }
    if (has_body) {
      AnyValue body;
      if (!ParseAnyValue(body_msg, &body, &err_)) return false;
      if (!AsString(body, &e.line)) return false;
    } else {
      e.line = {};
    }

    if (time != 0 && observed != 0 && !Number(observed, true, "observed_timestamp")) return false;
    const auto sev = static_cast<int32_t>(static_cast<uint32_t>(sev_num));
    if (sev != 0 &&
        !Number(static_cast<uint64_t>(static_cast<int64_t>(sev)), true, "severity_number")) {
      return false;
    }
    if (!sev_text.empty()) {
      if (opt_.severity_text_as_label) SetLabel(&log_labels_, "severity_text", sev_text);
      entry_sm_.push_back({"severity_text", sev_text});
    }
    if (static_cast<uint32_t>(dropped) != 0 &&
        !Number(static_cast<uint32_t>(dropped), false, "dropped_attributes_count")) {
      return false;
    }
    if (flags != 0 && !Number(flags, false, "flags")) return false;
    if (!Hex(trace_id, "trace_id") || !Hex(span_id, "span_id")) return false;
    if (!event_name.empty()) {
      // The dedicated field wins over an attribute of the same name.
      std::erase_if(entry_sm_, [](const LabelKv& kv) { return kv.name == "event_name"; });
      entry_sm_.push_back({"event_name", event_name});
    }

    uint32_t stream = stream_;
    if (!log_labels_.empty()) {
      std::vector<LabelKv> combined = stream_labels_;
      for (const auto& l : log_labels_) SetLabel(&combined, l.name, l.value);
      const int64_t s = StreamFor(std::move(combined));
      if (s == -2) return false;
      if (s == -1) return true;  // invalid labels: Loki skips the record
      stream = static_cast<uint32_t>(s);
    }

    const size_t pairs = entry_sm_.size() + resource_sm_.size() + scope_sm_.size();
    if (!Charge(sizeof(PushEntry) + pairs * sizeof(MetadataPair))) return false;
    e.metadata_begin = static_cast<uint32_t>(req_->metadata.size());
    e.metadata_count = static_cast<uint32_t>(pairs);
    if (req_->metadata.size() + pairs > UINT32_MAX) {
      return Fail("too many structured metadata pairs in one request");
    }
    for (const auto* list : {&entry_sm_, &resource_sm_, &scope_sm_}) {
      for (const auto& kv : *list) req_->metadata.push_back(MetadataPair{kv.name, kv.value});
    }
    req_->streams[stream].entries.push_back(e);
    return true;
  }

  // Lower-case hex of a non-zero id (Loki's IsEmpty: all zero bytes means absent).
  bool Hex(std::string_view id, std::string_view name) {
    if (id.empty() || id.find_first_not_of('\0') == std::string_view::npos) return true;
    static constexpr char kHex[] = "0123456789abcdef";
    scratch_.clear();
    for (char c : id) {
      const auto u = static_cast<unsigned char>(c);
      scratch_.push_back(kHex[u >> 4]);
      scratch_.push_back(kHex[u & 15]);
    }
    std::string_view kept;
    if (!Keep(scratch_, &kept)) return false;
    entry_sm_.push_back({name, kept});
    return true;
  }

  const OtlpOptions& opt_;
  PushRequest* req_;
  StringArena* arena_;
  const size_t budget_;
  size_t used_ = 0;
  Status err_;
  int64_t now_ns_ = 0;
  std::string scratch_;
  std::unordered_map<std::string_view, uint32_t> streams_;
  // Per resource.
  std::vector<LabelKv> resource_labels_, resource_sm_, stream_labels_;
  uint32_t stream_ = 0;
  bool seen_service_name_ = false;
  // Per scope.
  std::vector<LabelKv> scope_sm_;
  // Per record.
  std::vector<LabelKv> entry_sm_, log_labels_, flat_;
};

}  // namespace

Status MapOtlpProtoInto(std::string_view proto, size_t input_size, const OtlpOptions& options,
                        PushRequest* req) {
  Mapper m(options, input_size, req);
  SKALD_RETURN_IF_ERROR(m.Run(proto));
  // Streams without entries (a resource without records, or whose records all went to
  // streams of indexed log attributes) carry nothing; with no records at all the request has
  // no streams, as Loki's (its distributor then answers 422).
  std::erase_if(req->streams, [](const PushStream& s) { return s.entries.empty(); });
  return Status::OK();
}

}  // namespace internal

StatusOr<PushRequest> DecodeOtlpProtobuf(std::string_view proto, const OtlpOptions& options) {
  PushRequest req;
  auto& body = internal::PushRequestAccess::body(req);
  body = std::make_unique<std::string>(proto);
  SKALD_RETURN_IF_ERROR(internal::MapOtlpProtoInto(*body, body->size(), options, &req));
  return req;
}

// ---------------------------------------------------------------------------
// OtlpEncoder

namespace {
void PutTag(std::string* out, uint32_t field, int wire) { PutUvarint(out, field << 3 | wire); }
void PutLen(std::string* out, uint32_t field, std::string_view s) {
  PutTag(out, field, kLen);
  PutUvarint(out, s.size());
  out->append(s);
}
void PutKvs(std::string* out, uint32_t field,
            const std::vector<std::pair<std::string, std::string>>& kvs) {
  for (const auto& [k, v] : kvs) PutLen(out, field, OtlpEncoder::KeyValue(k, v));
}
}  // namespace

std::string OtlpEncoder::Str(std::string_view s) {
  std::string out;
  PutLen(&out, 1, s);
  return out;
}
std::string OtlpEncoder::Bool(bool v) {
  std::string out;
  PutTag(&out, 2, kVarint);
  PutUvarint(&out, v ? 1 : 0);
  return out;
}
std::string OtlpEncoder::Int(int64_t v) {
  std::string out;
  PutTag(&out, 3, kVarint);
  PutUvarint(&out, static_cast<uint64_t>(v));
  return out;
}
std::string OtlpEncoder::Double(double v) {
  std::string out;
  PutTag(&out, 4, kI64);
  uint64_t u;
  std::memcpy(&u, &v, sizeof(u));
  PutFixed64(&out, u);
  return out;
}
std::string OtlpEncoder::Bytes(std::string_view b) {
  std::string out;
  PutLen(&out, 7, b);
  return out;
}
std::string OtlpEncoder::Array(const std::vector<std::string>& values) {
  std::string arr;
  for (const auto& v : values) PutLen(&arr, 1, v);
  std::string out;
  PutLen(&out, 5, arr);
  return out;
}
std::string OtlpEncoder::Map(const std::vector<std::pair<std::string, std::string>>& kvs) {
  std::string list;
  PutKvs(&list, 1, kvs);
  std::string out;
  PutLen(&out, 6, list);
  return out;
}
std::string OtlpEncoder::KeyValue(std::string_view key, const std::string& value) {
  std::string out;
  PutLen(&out, 1, key);
  PutLen(&out, 2, value);
  return out;
}

std::string OtlpEncoder::Request(const std::vector<Resource>& resources) {
  std::string req;
  for (const auto& res : resources) {
    std::string rl;
    std::string resource;
    PutKvs(&resource, 1, res.attributes);
    PutLen(&rl, 1, resource);
    for (const auto& sc : res.scopes) {
      std::string sl;
      std::string scope;
      if (!sc.name.empty()) PutLen(&scope, 1, sc.name);
      if (!sc.version.empty()) PutLen(&scope, 2, sc.version);
      PutKvs(&scope, 3, sc.attributes);
      if (sc.dropped_attributes_count != 0) {
        PutTag(&scope, 4, kVarint);
        PutUvarint(&scope, sc.dropped_attributes_count);
      }
      PutLen(&sl, 1, scope);
      for (const auto& rec : sc.records) {
        std::string lr;
        if (rec.time_unix_nano != 0) {
          PutTag(&lr, 1, kI64);
          PutFixed64(&lr, rec.time_unix_nano);
        }
        if (rec.severity_number != 0) {
          PutTag(&lr, 2, kVarint);
          PutUvarint(&lr, static_cast<uint64_t>(static_cast<int64_t>(rec.severity_number)));
        }
        if (!rec.severity_text.empty()) PutLen(&lr, 3, rec.severity_text);
        if (!rec.body.empty()) PutLen(&lr, 5, rec.body);
        PutKvs(&lr, 6, rec.attributes);
        if (rec.dropped_attributes_count != 0) {
          PutTag(&lr, 7, kVarint);
          PutUvarint(&lr, rec.dropped_attributes_count);
        }
        if (rec.flags != 0) {
          PutTag(&lr, 8, kI32);
          PutFixed32(&lr, rec.flags);
        }
        if (!rec.trace_id.empty()) PutLen(&lr, 9, rec.trace_id);
        if (!rec.span_id.empty()) PutLen(&lr, 10, rec.span_id);
        if (rec.observed_time_unix_nano != 0) {
          PutTag(&lr, 11, kI64);
          PutFixed64(&lr, rec.observed_time_unix_nano);
        }
        if (!rec.event_name.empty()) PutLen(&lr, 12, rec.event_name);
        PutLen(&sl, 2, lr);
      }
      PutLen(&rl, 2, sl);
    }
    PutLen(&req, 1, rl);
  }
  return req;
}

}  // namespace skald::wire
