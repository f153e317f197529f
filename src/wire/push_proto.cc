// logproto.PushRequest protobuf codec: a small zero-copy wire reader and writer
// (field numbers: loki-compat.md §4) plus snappy block framing.
#include <snappy.h>

#include <cstring>
#include <limits>

#include "core/coding.h"
#include "wire/push.h"
#include "wire/push_internal.h"

namespace skald::wire {
namespace internal {

constexpr int kWireVarint = 0;
constexpr int kWireFixed64 = 1;
constexpr int kWireLen = 2;
constexpr int kWireFixed32 = 5;

namespace {

enum class ErrCode {
  kNone,
  kEOF,
  kOverflow,
  kIllegalWire,
  kWrongWire,
  kTagZero,
  kNanos,
  kTimestampRange,
};

struct Error {
  ErrCode code = ErrCode::kNone;
  const char* message = "";  // protobuf message being parsed
  const char* field = "";    // field name for kWrongWire
  int wire = 0;
  int64_t value = 0;  // offending nanos / seconds
};

Status ToStatus(const Error& e) {
  std::string m = "proto: ";
  m += e.message;
  m += ": ";
  switch (e.code) {
    case ErrCode::kEOF:
      m += "unexpected EOF";
      break;
    case ErrCode::kOverflow:
      m += "integer overflow";
      break;
    case ErrCode::kIllegalWire:
      m += "illegal wireType " + std::to_string(e.wire);
      break;
    case ErrCode::kWrongWire:
      m += "wrong wireType = " + std::to_string(e.wire) + " for field " + e.field;
      break;
    case ErrCode::kTagZero:
      m += "illegal tag 0 (wire type " + std::to_string(e.wire) + ")";
      break;
    case ErrCode::kNanos:
      m += "timestamp nanos " + std::to_string(e.value) + " not in range [0, 1e9)";
      break;
    case ErrCode::kTimestampRange:
      m += "timestamp seconds " + std::to_string(e.value) +
           " out of the representable range of Unix nanoseconds";
      break;
    case ErrCode::kNone:
      m += "internal error";
      break;
  }
  return Status::InvalidArgument(std::move(m));
}

// Reads protobuf wire data from [p, end) through the shared bounds-checked ByteReader. All
// methods return false on error and fill err_ (first error wins).
class WireReader {
 public:
  WireReader(const uint8_t* p, const uint8_t* end, const char* message, Error* err)
      : in_(std::string_view(reinterpret_cast<const char*>(p), static_cast<size_t>(end - p))),
        message_(message),
        err_(err) {}

  bool done() const { return in_.empty(); }

  bool Varint(uint64_t* out) { return in_.GetUvarint(out) || FailFromInput(); }

  // Reads a tag; rejects field 0 and group / reserved wire types.
  bool Tag(uint64_t* field, int* wire) {
    uint64_t tag;
    if (!Varint(&tag)) return false;
    *field = tag >> 3;
    *wire = static_cast<int>(tag & 7);
    if (*wire == 3 || *wire == 4 || *wire == 6 || *wire == 7) {
      err_->wire = *wire;
      return Fail(ErrCode::kIllegalWire);
    }
    if (*field == 0) {
      err_->wire = *wire;
      return Fail(ErrCode::kTagZero);
    }
    return true;
  }

  // Reads a length-delimited payload.
  bool Bytes(const uint8_t** begin, const uint8_t** end) {
    std::string_view v;
    if (!String(&v)) return false;
    *begin = reinterpret_cast<const uint8_t*>(v.data());
    *end = *begin + v.size();
    return true;
  }

  bool String(std::string_view* out) { return in_.GetLengthPrefixed(out) || FailFromInput(); }

  bool Skip(int wire) {
    switch (wire) {
      case kWireVarint: {
        uint64_t v;
        return Varint(&v);
      }
      case kWireFixed64:
        return in_.Skip(8) || FailFromInput();
      case kWireLen: {
        const uint8_t *b, *e;
        return Bytes(&b, &e);
      }
      case kWireFixed32:
        return in_.Skip(4) || FailFromInput();
      default:
        err_->wire = wire;
        return Fail(ErrCode::kIllegalWire);
    }
  }

  // Checks the wire type of a known field.
  bool Expect(int wire, int want, const char* field) {
    if (wire == want) [[likely]]
      return true;
    err_->wire = wire;
    err_->field = field;
    return Fail(ErrCode::kWrongWire);
  }

  bool Fail(ErrCode code, int64_t value = 0) {
    if (err_->code == ErrCode::kNone) {
      err_->code = code;
      err_->message = message_;
      err_->value = value;
    }
    return false;
  }

 private:
  // Protobuf's words for a failed read: input cut short is "unexpected EOF", a varint longer
  // than 10 bytes or over 64 bits is "integer overflow".
  bool FailFromInput() {
    return Fail(in_.error() == CodingError::kTruncated ? ErrCode::kEOF : ErrCode::kOverflow);
  }

  ByteReader in_;
  const char* message_;
  Error* err_;
};

bool ParsePair(const uint8_t* b, const uint8_t* e, MetadataPair* pair, Error* err) {
  WireReader r(b, e, "LabelPairAdapter", err);
  while (!r.done()) {
    uint64_t field;
    int wire;
    if (!r.Tag(&field, &wire)) return false;
    if (field == 1) {
      if (!r.Expect(wire, kWireLen, "Name") || !r.String(&pair->name)) return false;
    } else if (field == 2) {
      if (!r.Expect(wire, kWireLen, "Value") || !r.String(&pair->value)) return false;
    } else if (!r.Skip(wire)) {
      return false;
    }
  }
  return true;
}

// google.protobuf.Timestamp; fields present overwrite *seconds / *nanos (protobuf
// merge semantics for a repeated occurrence of the embedded message).
bool ParseTimestamp(const uint8_t* b, const uint8_t* e, int64_t* seconds, int32_t* nanos,
                    Error* err) {
  WireReader r(b, e, "Timestamp", err);
  while (!r.done()) {
    uint64_t field;
    int wire;
    if (!r.Tag(&field, &wire)) return false;
    uint64_t v;
    if (field == 1) {
      if (!r.Expect(wire, kWireVarint, "Seconds") || !r.Varint(&v)) return false;
      *seconds = static_cast<int64_t>(v);
    } else if (field == 2) {
      if (!r.Expect(wire, kWireVarint, "Nanos") || !r.Varint(&v)) return false;
      *nanos = static_cast<int32_t>(static_cast<uint32_t>(v));  // int32 truncation, like Go
    } else if (!r.Skip(wire)) {
      return false;
    }
  }
  return true;
}

bool ParseEntry(const uint8_t* b, const uint8_t* e, PushEntry* entry,
                std::vector<MetadataPair>* metadata, Error* err) {
  WireReader r(b, e, "EntryAdapter", err);
  int64_t seconds = 0;
  int32_t nanos = 0;
  entry->metadata_begin = static_cast<uint32_t>(metadata->size());
  while (!r.done()) {
    uint64_t field;
    int wire;
    if (!r.Tag(&field, &wire)) return false;
    const uint8_t *vb, *ve;
    switch (field) {
      case 1:  // timestamp
        if (!r.Expect(wire, kWireLen, "Timestamp") || !r.Bytes(&vb, &ve) ||
            !ParseTimestamp(vb, ve, &seconds, &nanos, err)) {
          return false;
        }
        break;
      case 2:  // line
        if (!r.Expect(wire, kWireLen, "Line") || !r.String(&entry->line)) return false;
        break;
      case 3: {  // structuredMetadata
        if (!r.Expect(wire, kWireLen, "StructuredMetadata") || !r.Bytes(&vb, &ve)) return false;
        MetadataPair pair;
        if (!ParsePair(vb, ve, &pair, err)) return false;
        metadata->push_back(pair);
        break;
      }
      case 4:  // parsed: response-only, ignored on input
        if (!r.Expect(wire, kWireLen, "Parsed") || !r.Bytes(&vb, &ve)) return false;
        break;
      default:
        if (!r.Skip(wire)) return false;
    }
  }
  if (nanos < 0 || nanos >= 1'000'000'000) return r.Fail(ErrCode::kNanos, nanos);
  int64_t ns;
  if (__builtin_mul_overflow(seconds, int64_t{1'000'000'000}, &ns) ||
      __builtin_add_overflow(ns, int64_t{nanos}, &ns)) {
    return r.Fail(ErrCode::kTimestampRange, seconds);
  }
  entry->timestamp_ns = ns;
  const size_t count = metadata->size() - entry->metadata_begin;
  if (count > std::numeric_limits<uint32_t>::max() ||
      metadata->size() > std::numeric_limits<uint32_t>::max()) {
    return r.Fail(ErrCode::kOverflow);
  }
  entry->metadata_count = static_cast<uint32_t>(count);
  return true;
}

// Counts occurrences of a length-delimited field in a message (for reserve()).
// Stops silently at malformed input; the real parse reports it.
size_t CountField(const uint8_t* b, const uint8_t* e, uint64_t want_field) {
  Error ignored;
  WireReader r(b, e, "", &ignored);
  size_t n = 0;
  while (!r.done()) {
    uint64_t field;
    int wire;
    if (!r.Tag(&field, &wire)) break;
    if (field == want_field && wire == kWireLen) ++n;
    if (!r.Skip(wire)) break;
  }
  return n;
}

bool ParseStream(const uint8_t* b, const uint8_t* e, PushStream* stream,
                 std::vector<MetadataPair>* metadata, Error* err) {
  stream->entries.reserve(CountField(b, e, 2));
  WireReader r(b, e, "StreamAdapter", err);
  while (!r.done()) {
    uint64_t field;
    int wire;
    if (!r.Tag(&field, &wire)) return false;
    switch (field) {
      case 1:
        if (!r.Expect(wire, kWireLen, "Labels") || !r.String(&stream->labels)) return false;
        break;
      case 2: {
        const uint8_t *vb, *ve;
        if (!r.Expect(wire, kWireLen, "Entries") || !r.Bytes(&vb, &ve)) return false;
        PushEntry& entry = stream->entries.emplace_back();
        if (!ParseEntry(vb, ve, &entry, metadata, err)) return false;
        break;
      }
      case 3: {  // hash: internal, ignored
        uint64_t v;
        if (!r.Expect(wire, kWireVarint, "Hash") || !r.Varint(&v)) return false;
        break;
      }
      default:
        if (!r.Skip(wire)) return false;
    }
  }
  return true;
}

}  // namespace

Status DecodeProtoInto(const char* data, size_t size, PushRequest* req) {
  const auto* b = reinterpret_cast<const uint8_t*>(data);
  const auto* e = b + size;
  Error err;
  req->streams.reserve(req->streams.size() + CountField(b, e, 1));
  WireReader r(b, e, "PushRequest", &err);
  while (!r.done()) {
    uint64_t field;
    int wire;
    if (!r.Tag(&field, &wire)) return ToStatus(err);
    const uint8_t *vb, *ve;
    switch (field) {
      case 1: {
        if (!r.Expect(wire, kWireLen, "Streams") || !r.Bytes(&vb, &ve)) return ToStatus(err);
        PushStream& s = req->streams.emplace_back();
        if (!ParseStream(vb, ve, &s, &req->metadata, &err)) return ToStatus(err);
        break;
      }
      case 2:  // format: "loki" / "otlp", informational
        if (!r.Expect(wire, kWireLen, "Format") || !r.Bytes(&vb, &ve)) return ToStatus(err);
        break;
      default:
        if (!r.Skip(wire)) return ToStatus(err);
    }
  }
  return Status::OK();
}

}  // namespace internal

StatusOr<PushRequest> DecodePushProtobufRaw(std::string raw_proto) {
  PushRequest req;
  auto& body = internal::PushRequestAccess::body(req);
  body = std::make_unique<std::string>(std::move(raw_proto));
  SKALD_RETURN_IF_ERROR(internal::DecodeProtoInto(body->data(), body->size(), &req));
  return req;
}

StatusOr<PushRequest> DecodePushProtobuf(std::string_view snappy_block,
                                         const DecodeLimits& limits) {
  size_t len = 0;
  if (!snappy::GetUncompressedLength(snappy_block.data(), snappy_block.size(), &len)) {
    return Status::InvalidArgument("decompress snappy: snappy: corrupt input");
  }
  if (len > limits.max_decompressed_bytes) {
    return internal::TooLargeError(limits.max_decompressed_bytes);
  }
  // The length is the sender's claim. Snappy's densest element (a 3-byte copy of 64 bytes)
  // bounds the real ratio, so a claim beyond it is a lie; a claim beyond what ordinary data
  // reaches is verified (one pass, no allocation) before it is allocated.
  constexpr size_t kTrustedRatio = 8;
  const size_t n = snappy_block.size();
  if (len / 64 > n / 3 + 1)
    return Status::InvalidArgument("decompress snappy: snappy: corrupt input");
  if (len / kTrustedRatio > n &&
      !snappy::IsValidCompressedBuffer(snappy_block.data(), snappy_block.size())) {
    return Status::InvalidArgument("decompress snappy: snappy: corrupt input");
  }
  PushRequest req;
  internal::ByteBuffer& buf = internal::PushRequestAccess::buffer(req);
  if (!buf.Resize(len)) return Status::Internal("decompress snappy: out of memory");
  if (!snappy::RawUncompress(snappy_block.data(), snappy_block.size(), buf.data())) {
    return Status::InvalidArgument("decompress snappy: snappy: corrupt input");
  }
  buf.set_size(len);
  SKALD_RETURN_IF_ERROR(internal::DecodeProtoInto(buf.data(), len, &req));
  return req;
}

// ---------------------------------------------------------------------------
// Encoding

namespace {

using internal::kWireLen;
using internal::kWireVarint;

// Size of a length-delimited field (1-byte tag: all our field numbers are < 16).
size_t LenFieldSize(size_t payload) { return 1 + UvarintSize(payload) + payload; }
size_t StringFieldSize(std::string_view s) { return s.empty() ? 0 : LenFieldSize(s.size()); }

void PutLenField(std::string* out, int field, size_t len) {
  out->push_back(static_cast<char>(field << 3 | kWireLen));
  PutUvarint(out, len);
}
void PutStringField(std::string* out, int field, std::string_view s) {
  if (s.empty()) return;
  PutLenField(out, field, s.size());
  out->append(s);
}

struct SplitTs {
  int64_t seconds;
  int32_t nanos;
};
SplitTs Split(int64_t ts) {
  int64_t s = ts / 1'000'000'000;
  int64_t n = ts % 1'000'000'000;
  if (n < 0) {
    n += 1'000'000'000;
    s -= 1;
  }
  return {s, static_cast<int32_t>(n)};
}

size_t TimestampSize(SplitTs t) {
  size_t n = 0;
  if (t.seconds != 0) n += 1 + UvarintSize(static_cast<uint64_t>(t.seconds));
  if (t.nanos != 0) n += 1 + UvarintSize(static_cast<uint64_t>(int64_t{t.nanos}));
  return n;
}

size_t PairSize(const MetadataPair& p) {
  return StringFieldSize(p.name) + StringFieldSize(p.value);
}

size_t EntrySize(const PushRequest& req, const PushEntry& e) {
  size_t n = LenFieldSize(TimestampSize(Split(e.timestamp_ns)));
  n += StringFieldSize(e.line);
  for (const MetadataPair& p : req.MetadataOf(e)) n += LenFieldSize(PairSize(p));
  return n;
}

size_t StreamSize(const PushRequest& req, const PushStream& s) {
  size_t n = StringFieldSize(s.labels);
  for (const PushEntry& e : s.entries) n += LenFieldSize(EntrySize(req, e));
  return n;
}

}  // namespace

std::string EncodePushProtobufRaw(const PushRequest& req) {
  size_t total = 0;
  for (const PushStream& s : req.streams) total += LenFieldSize(StreamSize(req, s));
  std::string out;
  out.reserve(total);
  for (const PushStream& s : req.streams) {
    PutLenField(&out, 1, StreamSize(req, s));
    PutStringField(&out, 1, s.labels);
    for (const PushEntry& e : s.entries) {
      PutLenField(&out, 2, EntrySize(req, e));
      const SplitTs ts = Split(e.timestamp_ns);
      PutLenField(&out, 1, TimestampSize(ts));
      if (ts.seconds != 0) {
        out.push_back(static_cast<char>(1 << 3 | kWireVarint));
        PutUvarint(&out, static_cast<uint64_t>(ts.seconds));
      }
      if (ts.nanos != 0) {
        out.push_back(static_cast<char>(2 << 3 | kWireVarint));
        PutUvarint(&out, static_cast<uint64_t>(int64_t{ts.nanos}));
      }
      PutStringField(&out, 2, e.line);
      for (const MetadataPair& p : req.MetadataOf(e)) {
        PutLenField(&out, 3, PairSize(p));
        PutStringField(&out, 1, p.name);
        PutStringField(&out, 2, p.value);
      }
    }
  }
  return out;
}

std::string EncodePushProtobufSnappy(const PushRequest& req) {
  std::string raw = EncodePushProtobufRaw(req);
  std::string out;
  snappy::Compress(raw.data(), raw.size(), &out);
  return out;
}

}  // namespace skald::wire
