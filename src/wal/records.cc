// WAL record payload encoders/decoders: see records.h and docs/formats/wal.md.
#include "wal/records.h"

#include <cstring>

namespace skald::wal {
namespace {

void PutUvarint(std::string* out, uint64_t v) {
  char buf[10];
  size_t n = 0;
  while (v >= 0x80) {
    buf[n++] = static_cast<char>(v | 0x80);
    v >>= 7;
  }
  buf[n++] = static_cast<char>(v);
  out->append(buf, n);
}

void PutBytes(std::string* out, std::string_view s) {
  PutUvarint(out, s.size());
  out->append(s.data(), s.size());
}

void PutFixed64(std::string* out, uint64_t v) {
  char b[8];
  for (int i = 0; i < 8; ++i) b[i] = static_cast<char>(v >> (8 * i));
  out->append(b, 8);
}

uint64_t ZigZag(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}
int64_t UnZigZag(uint64_t v) { return static_cast<int64_t>((v >> 1) ^ (~(v & 1) + 1)); }

// Bounds-checked decoding; each returns false on truncation or malformed input.
bool GetUvarint(const char** p, const char* end, uint64_t* v) {
  uint64_t result = 0;
  const char* q = *p;
  for (int shift = 0; shift < 64 && q < end; shift += 7) {
    uint64_t byte = static_cast<uint8_t>(*q++);
    if (shift == 63 && byte > 1) return false;  // overflows 64 bits
    result |= (byte & 0x7F) << shift;
    if (byte < 0x80) {
      *v = result;
      *p = q;
      return true;
    }
  }
  return false;
}

bool GetBytes(const char** p, const char* end, std::string_view* v) {
  uint64_t n;
  if (!GetUvarint(p, end, &n)) return false;
  if (n > static_cast<uint64_t>(end - *p)) return false;
  *v = std::string_view(*p, static_cast<size_t>(n));
  *p += n;
  return true;
}

bool GetFixed64(const char** p, const char* end, uint64_t* v) {
  if (end - *p < 8) return false;
  const auto* u = reinterpret_cast<const uint8_t*>(*p);
  uint64_t r = 0;
  for (int i = 7; i >= 0; --i) r = (r << 8) | u[i];
  *v = r;
  *p += 8;
  return true;
}

}  // namespace

std::string_view RecordTypeName(RecordType t) {
  switch (t) {
    case RecordType::kSeries:
      return "series";
    case RecordType::kEntries:
      return "entries";
  }
  return "unknown";
}

void EncodeSeries(std::string* out, const SeriesRecord& r) {
  PutBytes(out, r.tenant);
  PutFixed64(out, r.fingerprint);
  PutBytes(out, r.labels);
}

Status DecodeSeries(std::string_view payload, SeriesRecord* r) {
  const char* p = payload.data();
  const char* end = p + payload.size();
  if (!GetBytes(&p, end, &r->tenant) || !GetFixed64(&p, end, &r->fingerprint) ||
      !GetBytes(&p, end, &r->labels)) {
    return Status::Corruption("wal series record: truncated");
  }
  if (p != end) return Status::Corruption("wal series record: trailing bytes");
  return Status::OK();
}

void EntriesEncoder::Begin(std::string* out, std::string_view tenant, uint64_t fingerprint) {
  out_ = out;
  prev_ts_ = 0;
  entries_ = 0;
  PutBytes(out, tenant);
  PutFixed64(out, fingerprint);
}

void EntriesEncoder::AddEntry(int64_t ts, std::string_view line, size_t metadata_count) {
  // Wrapping subtraction: any pair of timestamps has a delta that round-trips.
  uint64_t delta = static_cast<uint64_t>(ts) - static_cast<uint64_t>(prev_ts_);
  PutUvarint(out_, ZigZag(static_cast<int64_t>(delta)));
  prev_ts_ = ts;
  PutBytes(out_, line);
  PutUvarint(out_, metadata_count);
  ++entries_;
}

void EntriesEncoder::AddMetadata(std::string_view name, std::string_view value) {
  PutBytes(out_, name);
  PutBytes(out_, value);
}

Status EntriesDecoder::Init(std::string_view payload) {
  p_ = payload.data();
  end_ = p_ + payload.size();
  prev_ts_ = 0;
  pending_metadata_ = 0;
  entries_ = 0;
  status_ = Status::OK();
  if (!GetBytes(&p_, end_, &tenant_) || !GetFixed64(&p_, end_, &fingerprint_)) {
    p_ = end_;
    status_ = Status::Corruption("wal entries record: truncated header");
  }
  return status_;
}

bool EntriesDecoder::Fail(const char* what) {
  if (status_.ok()) {
    status_ = Status::Corruption(std::string("wal entries record: ") + what + " (entry " +
                                 std::to_string(entries_) + ")");
  }
  p_ = end_;
  pending_metadata_ = 0;
  return false;
}

bool EntriesDecoder::NextEntry(int64_t* ts, std::string_view* line, uint32_t* metadata_count) {
  if (!status_.ok()) return false;
  std::string_view skip;
  while (pending_metadata_ > 0) {
    if (!NextMetadata(&skip, &skip)) return false;
  }
  if (p_ == end_) return false;
  uint64_t zz, n;
  if (!GetUvarint(&p_, end_, &zz)) return Fail("bad timestamp");
  if (!GetBytes(&p_, end_, line)) return Fail("bad line");
  if (!GetUvarint(&p_, end_, &n)) return Fail("bad metadata count");
  // Each pair takes at least two bytes, which bounds the count by the remaining input.
  if (n > static_cast<uint64_t>(end_ - p_) / 2) return Fail("metadata count too large");
  prev_ts_ =
      static_cast<int64_t>(static_cast<uint64_t>(prev_ts_) + static_cast<uint64_t>(UnZigZag(zz)));
  *ts = prev_ts_;
  *metadata_count = static_cast<uint32_t>(n);
  pending_metadata_ = static_cast<uint32_t>(n);
  ++entries_;
  return true;
}

bool EntriesDecoder::NextMetadata(std::string_view* name, std::string_view* value) {
  if (!status_.ok() || pending_metadata_ == 0) return false;
  if (!GetBytes(&p_, end_, name) || !GetBytes(&p_, end_, value)) return Fail("bad metadata");
  --pending_metadata_;
  return true;
}

}  // namespace skald::wal
