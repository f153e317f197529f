// WAL record payload encoders/decoders: see records.h and docs/formats/wal.md.
#include "wal/records.h"

#include <string>

namespace skald::wal {

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
  PutLengthPrefixed(out, r.tenant);
  PutFixed64(out, r.fingerprint);
  PutLengthPrefixed(out, r.labels);
}

Status DecodeSeries(std::string_view payload, SeriesRecord* r) {
  ByteReader in(payload);
  if (!in.GetLengthPrefixed(&r->tenant) || !in.GetFixed64(&r->fingerprint) ||
      !in.GetLengthPrefixed(&r->labels)) {
    return Status::Corruption("wal series record: truncated");
  }
  if (!in.empty()) return Status::Corruption("wal series record: trailing bytes");
  return Status::OK();
}

void EntriesEncoder::Begin(std::string* out, std::string_view tenant, uint64_t fingerprint) {
  out_ = out;
  prev_ts_ = 0;
  entries_ = 0;
  PutLengthPrefixed(out, tenant);
  PutFixed64(out, fingerprint);
}

void EntriesEncoder::AddEntry(int64_t ts, std::string_view line, size_t metadata_count) {
  // Wrapping subtraction: any pair of timestamps has a delta that round-trips.
  uint64_t delta = static_cast<uint64_t>(ts) - static_cast<uint64_t>(prev_ts_);
  PutVarint(out_, static_cast<int64_t>(delta));
  prev_ts_ = ts;
  PutLengthPrefixed(out_, line);
  PutUvarint(out_, metadata_count);
  ++entries_;
}

void EntriesEncoder::AddMetadata(std::string_view name, std::string_view value) {
  PutLengthPrefixed(out_, name);
  PutLengthPrefixed(out_, value);
}

Status EntriesDecoder::Init(std::string_view payload) {
  in_ = ByteReader(payload);
  prev_ts_ = 0;
  pending_metadata_ = 0;
  entries_ = 0;
  status_ = Status::OK();
  if (!in_.GetLengthPrefixed(&tenant_) || !in_.GetFixed64(&fingerprint_)) {
    status_ = Status::Corruption("wal entries record: truncated header");
  }
  return status_;
}

bool EntriesDecoder::Fail(const char* what) {
  if (status_.ok()) {
    status_ = Status::Corruption(std::string("wal entries record: ") + what + " (entry " +
                                 std::to_string(entries_) + ")");
  }
  in_.Fail();  // sticky: no further reads
  pending_metadata_ = 0;
  return false;
}

bool EntriesDecoder::NextEntry(int64_t* ts, std::string_view* line, uint32_t* metadata_count) {
  if (!status_.ok()) return false;
  std::string_view skip;
  while (pending_metadata_ > 0) {
    if (!NextMetadata(&skip, &skip)) return false;
  }
  if (in_.empty()) return false;
  int64_t delta;
  uint64_t n;
  if (!in_.GetVarint(&delta)) return Fail("bad timestamp");
  if (!in_.GetLengthPrefixed(line)) return Fail("bad line");
  if (!in_.GetUvarint(&n)) return Fail("bad metadata count");
  // Each pair takes at least two bytes, which bounds the count by the remaining input.
  if (n > in_.remaining() / 2) return Fail("metadata count too large");
  prev_ts_ = static_cast<int64_t>(static_cast<uint64_t>(prev_ts_) + static_cast<uint64_t>(delta));
  *ts = prev_ts_;
  *metadata_count = static_cast<uint32_t>(n);
  pending_metadata_ = static_cast<uint32_t>(n);
  ++entries_;
  return true;
}

bool EntriesDecoder::NextMetadata(std::string_view* name, std::string_view* value) {
  if (!status_.ok() || pending_metadata_ == 0) return false;
  if (!in_.GetLengthPrefixed(name) || !in_.GetLengthPrefixed(value)) return Fail("bad metadata");
  --pending_metadata_;
  return true;
}

bool EntriesDecoder::Next(int64_t* ts, std::string_view* line,
                          std::vector<MetadataPair>* metadata) {
  uint32_t n;
  if (!NextEntry(ts, line, &n)) return false;
  metadata->clear();
  for (uint32_t i = 0; i < n; ++i) {
    MetadataPair p;
    if (!NextMetadata(&p.name, &p.value)) return false;
    metadata->push_back(p);
  }
  return true;
}

}  // namespace skald::wal
