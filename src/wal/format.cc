// WAL segment format helpers: see format.h and docs/formats/wal.md.
#include "wal/format.h"

#include "core/crc32c.h"

namespace skald::wal {

std::string_view SegmentHeader() {
  static constexpr char kHeader[kSegmentHeaderSize] = {kSegmentMagic[0],
                                                       kSegmentMagic[1],
                                                       kSegmentMagic[2],
                                                       kSegmentMagic[3],
                                                       static_cast<char>(kSegmentVersion),
                                                       0,
                                                       0,
                                                       0};
  return std::string_view(kHeader, kSegmentHeaderSize);
}

uint32_t RecordCrc(uint32_t length, uint8_t type, std::string_view payload) {
  char lt[5];
  EncodeFixed32(lt, length);
  lt[4] = static_cast<char>(type);
  return Crc32c(payload, Crc32c(std::string_view(lt, 5)));
}

void AppendFramedRecord(std::string* out, RecordType type, std::string_view payload) {
  char h[kRecordHeaderSize];
  const uint32_t len = static_cast<uint32_t>(payload.size());
  const uint8_t t = static_cast<uint8_t>(type);
  EncodeFixed32(h, len);
  EncodeFixed32(h + 4, RecordCrc(len, t, payload));
  h[8] = static_cast<char>(t);
  out->append(h, kRecordHeaderSize);
  out->append(payload.data(), payload.size());
}

std::string SegmentName(uint64_t n) {
  std::string digits = std::to_string(n);
  if (digits.size() < 8) digits.insert(0, 8 - digits.size(), '0');
  return digits;
}

std::optional<uint64_t> ParseSegmentName(std::string_view name) {
  if (name.empty() || name.size() > 20) return std::nullopt;
  uint64_t v = 0;
  for (char c : name) {
    if (c < '0' || c > '9') return std::nullopt;
    uint64_t d = static_cast<uint64_t>(c - '0');
    if (v > (UINT64_MAX - d) / 10) return std::nullopt;
    v = v * 10 + d;
  }
  return v;
}

}  // namespace skald::wal
