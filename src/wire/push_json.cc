// JSON push bodies: v1 ({"streams":[{"stream":{...},"values":[[ts,line,{md}]]}]}),
// legacy v0, and the v1 encoder. Decoding uses simdjson On-Demand; string
// contents are taken from the raw token, so strings without escapes are views
// into the request body and only escaped strings are unescaped into the arena.
#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <cstring>

#include "core/go_string.h"
#include "core/labels.h"
#include "core/time.h"
#include "core/utf8.h"
#include "wire/json_writer.h"
#include "wire/push.h"
#include "wire/push_internal.h"

namespace skald::wire {
namespace {

namespace od = simdjson::ondemand;
using internal::PushRequestAccess;

constexpr size_t kParserKeepCapacity = 64 << 20;

Status JsonError(std::string_view what) {
  return Status::InvalidArgument("JSON decode error: " + std::string(what));
}
Status SimdError(simdjson::error_code ec) { return JsonError(simdjson::error_message(ec)); }

// Quotes a client-provided string for an error message, shortened.
std::string QuoteForError(std::string_view s) {
  constexpr size_t kMax = 64;
  if (s.size() > kMax) return GoQuote(s.substr(0, kMax)) + "...";
  return GoQuote(s);
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Reads 4 hex digits at s[0..3]; -1 if invalid.
int32_t Hex4(const char* s) {
  int32_t v = 0;
  for (int i = 0; i < 4; ++i) {
    int d = HexDigit(s[i]);
    if (d < 0) return -1;
    v = v << 4 | d;
  }
  return v;
}

// Unescapes JSON string content (without quotes) into out (room for in.size()
// bytes: unescaping never grows). Lone surrogates become U+FFFD like Go's
// encoding/json. Returns the output length, or SIZE_MAX on an invalid escape.
size_t UnescapeJson(std::string_view in, char* out) {
  const char* p = in.data();
  const char* end = p + in.size();
  char* o = out;
  while (p < end) {
    const char* bs = static_cast<const char*>(std::memchr(p, '\\', static_cast<size_t>(end - p)));
    if (bs == nullptr) {
      std::memcpy(o, p, static_cast<size_t>(end - p));
      o += end - p;
      break;
    }
    std::memcpy(o, p, static_cast<size_t>(bs - p));
    o += bs - p;
    p = bs + 1;
    if (p >= end) return SIZE_MAX;
    const char c = *p++;
    switch (c) {
      case '"':
      case '\\':
      case '/':
        *o++ = c;
        break;
      case 'b':
        *o++ = '\b';
        break;
      case 'f':
        *o++ = '\f';
        break;
      case 'n':
        *o++ = '\n';
        break;
      case 'r':
        *o++ = '\r';
        break;
      case 't':
        *o++ = '\t';
        break;
      case 'u': {
        if (end - p < 4) return SIZE_MAX;
        int32_t r = Hex4(p);
        if (r < 0) return SIZE_MAX;
        p += 4;
        if (r >= 0xD800 && r < 0xDC00) {
          int32_t r2 = -1;
          if (end - p >= 6 && p[0] == '\\' && p[1] == 'u') r2 = Hex4(p + 2);
          if (r2 >= 0xDC00 && r2 < 0xE000) {
            r = 0x10000 + ((r - 0xD800) << 10) + (r2 - 0xDC00);
            p += 6;
          } else {
            r = 0xFFFD;  // the next escape (if any) is processed on its own
          }
        } else if (r >= 0xDC00 && r < 0xE000) {
          r = 0xFFFD;
        }
        o += EncodeUtf8(o, static_cast<uint32_t>(r));
        break;
      }
      default:
        return SIZE_MAX;
    }
  }
  return static_cast<size_t>(o - out);
}

// Parses jsonparser.ParseInt-style decimal: optional '-', digits, no overflow.
bool ParseDecimalInt64(std::string_view s, int64_t* out) {
  if (s.empty() || s[0] == '+') return false;
  const char* b = s.data();
  const char* e = b + s.size();
  if (*b == '-' && s.size() == 1) return false;
  auto res = std::from_chars(b, e, *out);
  return res.ec == std::errc() && res.ptr == e;
}

class JsonDecoder {
 public:
  JsonDecoder(PushRequest* req, const char* buf_end)
      : req_(req), arena_(&PushRequestAccess::arena(*req)), buf_end_(buf_end) {}

  // The v1 body, or (legacy) the v0 body of /api/prom/push: the same top-level shape.
  Status Decode(od::document& doc, bool legacy) {
    od::object root;
    if (auto ec = doc.get_object().get(root)) {
      if (ec == simdjson::INCORRECT_TYPE) return JsonError("the body must be a JSON object");
      return SimdError(ec);
    }
    for (auto fr : root) {
      od::field f;
      if (auto ec = std::move(fr).get(f)) return SimdError(ec);
      if (f.key() == "streams") SKALD_RETURN_IF_ERROR(Streams(f.value(), legacy));
    }
    return Finish(doc);
  }

 private:
  Status Finish(od::document& doc) {
    // current_location() is OUT_OF_BOUNDS exactly when every token was consumed.
    if (doc.current_location().error() != simdjson::OUT_OF_BOUNDS) {
      return JsonError("unexpected content after the top-level object");
    }
    return Status::OK();
  }

  // First byte of a value's raw token ('"', '{', '[', 'n', ...).
  static char Kind(od::value& v) {
    std::string_view tok = v.raw_json_token();
    return tok.empty() ? '\0' : tok[0];
  }

  // Content of an escaped-or-not string; views into the body when there are no escapes.
  Status Content(std::string_view raw, std::string_view* out) {
    if (std::memchr(raw.data(), '\\', raw.size()) == nullptr) {
      *out = raw;
      return Status::OK();
    }
    char* dst = arena_->Allocate(raw.size());
    size_t n = UnescapeJson(raw, dst);
    if (n == SIZE_MAX) {
      arena_->ReturnTail(raw.size());
      return JsonError("invalid escape sequence in string " + QuoteForError(raw));
    }
    arena_->ReturnTail(raw.size() - n);
    *out = std::string_view(dst, n);
    return Status::OK();
  }

  // Raw content (between the quotes) of a string value; consumes the value.
  // Returns false (without consuming) if v is not a string.
  bool RawString(od::value& v, std::string_view* raw, Status* st) {
    std::string_view tok = v.raw_json_token();
    if (tok.empty() || tok[0] != '"') return false;
    while (tok.size() > 1 &&
           (tok.back() == ' ' || tok.back() == '\n' || tok.back() == '\r' || tok.back() == '\t')) {
      tok.remove_suffix(1);
    }
    od::raw_json_string rs;
    if (auto ec = v.get_raw_json_string().get(rs)) {
      *st = SimdError(ec);
      return true;
    }
    if (tok.size() < 2 || tok.back() != '"') {
      *st = JsonError("malformed string");
      return true;
    }
    *raw = tok.substr(1, tok.size() - 2);
    *st = Status::OK();
    return true;
  }

  // Reads a string value into *out (unescaped). *is_string = false if not a string.
  Status StringValue(od::value& v, std::string_view* out, bool* is_string) {
    std::string_view raw;
    Status st;
    *is_string = RawString(v, &raw, &st);
    if (!*is_string || !st.ok()) return st;
    return Content(raw, out);
  }

  // Unescaped key of an object field (a view into the body when unescaped).
  Status Key(od::field& f, std::string_view* out) {
    const char* start = f.key().raw();
    const char* p = start;
    for (;;) {
      const char* q =
          static_cast<const char*>(std::memchr(p, '"', static_cast<size_t>(buf_end_ - p)));
      if (q == nullptr) return JsonError("unterminated object key");
      const char* t = q;
      while (t > start && t[-1] == '\\') --t;
      if (((q - t) & 1) == 0) return Content(std::string_view(start, q - start), out);
      p = q + 1;
    }
  }

  Status Streams(od::value& v, bool legacy) {
    const char kind = Kind(v);
    if (kind == 'n') return Status::OK();
    if (kind != '[') return JsonError("\"streams\" must be an array");
    od::array arr;
    if (auto ec = v.get_array().get(arr)) return SimdError(ec);
    size_t n = 0;
    if (auto ec = arr.count_elements().get(n)) return SimdError(ec);
    req_->streams.reserve(req_->streams.size() + n);
    for (auto sr : arr) {
      od::value sv;
      if (auto ec = sr.get(sv)) return SimdError(ec);
      if (Kind(sv) != '{') return JsonError("each element of \"streams\" must be an object");
      SKALD_RETURN_IF_ERROR(legacy ? LegacyStream(sv) : Stream(sv));
    }
    return Status::OK();
  }

  Status Stream(od::value& sv) {
    od::object obj;
    if (auto ec = sv.get_object().get(obj)) return SimdError(ec);
    PushStream& s = req_->streams.emplace_back();
    pairs_.clear();
    for (auto fr : obj) {
      od::field f;
      if (auto ec = std::move(fr).get(f)) return SimdError(ec);
      od::raw_json_string k = f.key();
      if (k == "stream") {
        SKALD_RETURN_IF_ERROR(LabelObject(f.value()));
      } else if (k == "values") {
        SKALD_RETURN_IF_ERROR(Values(f.value(), &s));
      }
    }
    s.labels = CanonicalLabels();
    return Status::OK();
  }

  // "stream": {"k": "v", ...}; repeated "stream" keys merge like Go's map.
  Status LabelObject(od::value& v) {
    const char kind = Kind(v);
    if (kind == 'n') return Status::OK();
    if (kind != '{') return JsonError("\"stream\" must be an object of label names to values");
    od::object obj;
    if (auto ec = v.get_object().get(obj)) return SimdError(ec);
    for (auto fr : obj) {
      od::field f;
      if (auto ec = std::move(fr).get(f)) return SimdError(ec);
      std::string_view key, value;
      SKALD_RETURN_IF_ERROR(Key(f, &key));
      bool is_string;
      SKALD_RETURN_IF_ERROR(StringValue(f.value(), &value, &is_string));
      if (!is_string) {
        return JsonError("the value of label " + QuoteForError(key) +
                         " in \"stream\" must be a string");
      }
      pairs_.emplace_back(key, value);
    }
    return Status::OK();
  }

  // `{k="v", k2="v2"}`: keys sorted, the last duplicate wins, values Go-quoted.
  std::string_view CanonicalLabels() {
    std::stable_sort(pairs_.begin(), pairs_.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    text_.clear();
    text_.push_back('{');
    bool first = true;
    for (size_t i = 0; i < pairs_.size(); ++i) {
      if (i + 1 < pairs_.size() && pairs_[i + 1].first == pairs_[i].first) continue;
      if (!first) text_.append(", ");
      first = false;
      text_.append(pairs_[i].first);
      text_.push_back('=');
      AppendGoQuoted(&text_, pairs_[i].second);
    }
    text_.push_back('}');
    return arena_->Copy(text_);
  }

  Status Values(od::value& v, PushStream* s) {
    const char kind = Kind(v);
    if (kind == 'n') return Status::OK();  // "values": null is tolerated
    if (kind != '[') return JsonError("\"values\" must be an array");
    od::array arr;
    if (auto ec = v.get_array().get(arr)) return SimdError(ec);
    size_t n = 0;
    if (auto ec = arr.count_elements().get(n)) return SimdError(ec);
    s->entries.clear();  // a repeated "values" key replaces the earlier one
    s->entries.reserve(n);
    for (auto er : arr) {
      od::value ev;
      if (auto ec = er.get(ev)) return SimdError(ec);
      SKALD_RETURN_IF_ERROR(Entry(ev, s));
    }
    return Status::OK();
  }

  // ["<ns>", "<line>", {"k": "v"}?, ...ignored]
  Status Entry(od::value& ev, PushStream* s) {
    if (Kind(ev) != '[') {
      return JsonError("each \"values\" entry must be an array [\"<ns>\", \"<line>\", {metadata}]");
    }
    od::array arr;
    if (auto ec = ev.get_array().get(arr)) return SimdError(ec);
    PushEntry e;
    e.timestamp_ns = 0;
    e.metadata_begin = static_cast<uint32_t>(req_->metadata.size());
    size_t i = 0;
    for (auto xr : arr) {
      od::value x;
      if (auto ec = xr.get(x)) return SimdError(ec);
      if (i == 0) {
        std::string_view raw;
        Status st;
        if (!RawString(x, &raw, &st)) {
          return JsonError("the \"values\" timestamp must be a string of nanoseconds");
        }
        SKALD_RETURN_IF_ERROR(st);
        if (!ParseDecimalInt64(raw, &e.timestamp_ns)) {
          return JsonError("invalid \"values\" timestamp " + QuoteForError(raw) +
                           ": must be a string of decimal Unix nanoseconds");
        }
      } else if (i == 1) {
        bool is_string;
        SKALD_RETURN_IF_ERROR(StringValue(x, &e.line, &is_string));
        if (!is_string) return JsonError("the \"values\" log line must be a string");
      } else if (i == 2) {
        SKALD_RETURN_IF_ERROR(MetadataObject(x));
      }
      ++i;
    }
    SKALD_RETURN_IF_ERROR(SetMetadataCount(&e));
    s->entries.push_back(e);
    return Status::OK();
  }

  Status SetMetadataCount(PushEntry* e) {
    const size_t total = req_->metadata.size();
    if (total > UINT32_MAX) return JsonError("too many structured metadata pairs");
    e->metadata_count = static_cast<uint32_t>(total - e->metadata_begin);
    return Status::OK();
  }

  Status MetadataObject(od::value& v) {
    if (Kind(v) != '{') {
      return JsonError("the third \"values\" element (structured metadata) must be an object");
    }
    od::object obj;
    if (auto ec = v.get_object().get(obj)) return SimdError(ec);
    for (auto fr : obj) {
      od::field f;
      if (auto ec = std::move(fr).get(f)) return SimdError(ec);
      MetadataPair p;
      SKALD_RETURN_IF_ERROR(Key(f, &p.name));
      bool is_string;
      SKALD_RETURN_IF_ERROR(StringValue(f.value(), &p.value, &is_string));
      if (!is_string) {
        return JsonError("the value of structured metadata " + QuoteForError(p.name) +
                         " must be a string");
      }
      req_->metadata.push_back(p);
    }
    return Status::OK();
  }

  // ---- legacy v0 ----

  Status LegacyStream(od::value& sv) {
    od::object obj;
    if (auto ec = sv.get_object().get(obj)) return SimdError(ec);
    PushStream& s = req_->streams.emplace_back();
    s.labels = std::string_view();
    for (auto fr : obj) {
      od::field f;
      if (auto ec = std::move(fr).get(f)) return SimdError(ec);
      od::raw_json_string k = f.key();
      if (k == "labels") {
        bool is_string;
        SKALD_RETURN_IF_ERROR(StringValue(f.value(), &s.labels, &is_string));
        if (!is_string) return JsonError("\"labels\" must be a string");
      } else if (k == "entries") {
        od::value& v = f.value();
        const char kind = Kind(v);
        if (kind == 'n') continue;
        if (kind != '[') return JsonError("\"entries\" must be an array");
        od::array arr;
        if (auto ec = v.get_array().get(arr)) return SimdError(ec);
        s.entries.clear();
        for (auto er : arr) {
          od::value ev;
          if (auto ec = er.get(ev)) return SimdError(ec);
          SKALD_RETURN_IF_ERROR(LegacyEntry(ev, &s));
        }
      }
    }
    return Status::OK();
  }

  Status LegacyEntry(od::value& ev, PushStream* s) {
    if (Kind(ev) != '{') return JsonError("each \"entries\" element must be an object");
    od::object obj;
    if (auto ec = ev.get_object().get(obj)) return SimdError(ec);
    PushEntry e;
    e.timestamp_ns = 0;
    e.metadata_begin = static_cast<uint32_t>(req_->metadata.size());
    for (auto fr : obj) {
      od::field f;
      if (auto ec = std::move(fr).get(f)) return SimdError(ec);
      od::raw_json_string k = f.key();
      bool is_string;
      if (k == "ts") {
        std::string_view ts;
        SKALD_RETURN_IF_ERROR(StringValue(f.value(), &ts, &is_string));
        if (!is_string) return JsonError("\"ts\" must be an RFC3339 timestamp string");
        auto parsed = ParseRFC3339(ts);
        if (!parsed.ok()) {
          return JsonError("invalid \"ts\" " + QuoteForError(ts) + ": " +
                           parsed.status().message());
        }
        e.timestamp_ns = *parsed;
      } else if (k == "line") {
        SKALD_RETURN_IF_ERROR(StringValue(f.value(), &e.line, &is_string));
        if (!is_string) return JsonError("\"line\" must be a string");
      } else if (k == "structuredMetadata") {
        SKALD_RETURN_IF_ERROR(LegacyMetadata(f.value()));
      }
    }
    SKALD_RETURN_IF_ERROR(SetMetadataCount(&e));
    s->entries.push_back(e);
    return Status::OK();
  }

  Status LegacyMetadata(od::value& v) {
    const char kind = Kind(v);
    if (kind == 'n') return Status::OK();
    if (kind != '[') return JsonError("\"structuredMetadata\" must be an array");
    od::array arr;
    if (auto ec = v.get_array().get(arr)) return SimdError(ec);
    for (auto pr : arr) {
      od::value pv;
      if (auto ec = pr.get(pv)) return SimdError(ec);
      if (Kind(pv) != '{') {
        return JsonError("\"structuredMetadata\" elements must be {\"name\", \"value\"} objects");
      }
      od::object obj;
      if (auto ec = pv.get_object().get(obj)) return SimdError(ec);
      MetadataPair p;
      for (auto fr : obj) {
        od::field f;
        if (auto ec = std::move(fr).get(f)) return SimdError(ec);
        od::raw_json_string k = f.key();
        bool is_string = true;
        if (k == "name") {
          SKALD_RETURN_IF_ERROR(StringValue(f.value(), &p.name, &is_string));
        } else if (k == "value") {
          SKALD_RETURN_IF_ERROR(StringValue(f.value(), &p.value, &is_string));
        }
        if (!is_string) return JsonError("structured metadata name and value must be strings");
      }
      req_->metadata.push_back(p);
    }
    return Status::OK();
  }

  PushRequest* req_;
  StringArena* arena_;
  const char* buf_end_;
  std::vector<std::pair<std::string_view, std::string_view>> pairs_;
  std::string text_;
};

// One parser per thread, reused across requests (it keeps its buffers).
od::parser& ThreadParser() {
  thread_local od::parser parser;
  return parser;
}

static_assert(simdjson::SIMDJSON_PADDING <= internal::kParsePadding,
              "inflated bodies reserve kParsePadding bytes for simdjson");

// Parses [data, data + size), whose capacity (readable, owned by req) is `capacity` bytes.
template <typename Fn>
StatusOr<PushRequest> ParseOwnedJson(PushRequest req, const char* data, size_t size,
                                     size_t capacity, Fn&& decode) {
  od::parser& parser = ThreadParser();
  Status st;
  {
    od::document doc;
    auto ec = parser.iterate(simdjson::padded_string_view(data, size, capacity)).get(doc);
    if (ec) {
      st = SimdError(ec);
    } else {
      JsonDecoder dec(&req, data + size);
      st = decode(dec, doc);
    }
  }
  if (parser.capacity() > kParserKeepCapacity) parser = od::parser();
  if (!st.ok()) return st;
  return req;
}

template <typename Fn>
StatusOr<PushRequest> DecodeJsonBody(std::string body, Fn&& decode) {
  // Copies only when the caller left no room for the padding (the HTTP server reserves it).
  if (body.capacity() < body.size() + simdjson::SIMDJSON_PADDING) {
    body.reserve(body.size() + simdjson::SIMDJSON_PADDING);
  }
  PushRequest req;
  auto& owned = PushRequestAccess::body(req);
  owned = std::make_unique<std::string>(std::move(body));
  const std::string& b = *owned;
  return ParseOwnedJson(std::move(req), b.data(), b.size(), b.capacity(), std::forward<Fn>(decode));
}

auto DecodeV1 = [](JsonDecoder& d, od::document& doc) { return d.Decode(doc, false); };
auto DecodeLegacy = [](JsonDecoder& d, od::document& doc) { return d.Decode(doc, true); };

}  // namespace

namespace internal {

StatusOr<PushRequest> DecodePushJsonBuffer(ByteBuffer body) {
  if (body.capacity() < body.size() + simdjson::SIMDJSON_PADDING &&
      !body.Resize(body.size() + simdjson::SIMDJSON_PADDING)) {
    return Status::Internal("JSON decode error: out of memory");
  }
  PushRequest req;
  ByteBuffer& owned = PushRequestAccess::buffer(req);
  owned = std::move(body);
  const char* data = owned.data();
  const size_t size = owned.size(), capacity = owned.capacity();
  return ParseOwnedJson(std::move(req), data, size, capacity, DecodeV1);
}

}  // namespace internal

StatusOr<PushRequest> DecodePushJson(std::string body) {
  return DecodeJsonBody(std::move(body), DecodeV1);
}

StatusOr<PushRequest> DecodePushJsonLegacy(std::string body) {
  return DecodeJsonBody(std::move(body), DecodeLegacy);
}

std::string EncodePushJson(const PushRequest& req) {
  std::string out;
  size_t estimate = 16;
  for (const PushStream& s : req.streams) {
    estimate += s.labels.size() + 32;
    for (const PushEntry& e : s.entries) estimate += e.line.size() + 32;
  }
  out.reserve(estimate);
  JsonWriter w(&out);
  w.BeginObject();
  w.Key("streams");
  w.BeginArray();
  char ts[24];
  for (const PushStream& s : req.streams) {
    w.BeginObject();
    w.Key("stream");
    w.BeginObject();
    auto labels = ParseLabels(s.labels);
    if (labels.ok()) {
      for (const Label& l : *labels) {
        w.Key(l.name);
        w.String(l.value);
      }
    }
    w.EndObject();
    w.Key("values");
    w.BeginArray();
    for (const PushEntry& e : s.entries) {
      w.BeginArray();
      auto res = std::to_chars(ts, ts + sizeof(ts), e.timestamp_ns);
      w.String(std::string_view(ts, static_cast<size_t>(res.ptr - ts)));
      w.String(e.line);
      if (e.metadata_count > 0) {
        w.BeginObject();
        for (const MetadataPair& p : req.MetadataOf(e)) {
          w.Key(p.name);
          w.String(p.value);
        }
        w.EndObject();
      }
      w.EndArray();
    }
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return out;
}

}  // namespace skald::wire
