// On-disk constants and helpers of the WAL segment format (docs/formats/wal.md): segment
// file names, the segment header and record framing. Shared by the writer (wal.cc,
// checkpoint.cc) and the reader (segment_reader.cc).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/coding.h"  // EncodeFixed32/DecodeFixed32 for record headers
#include "wal/records.h"

namespace skald::wal {

// Segment header: magic "SKWL", version, three reserved zero bytes.
inline constexpr char kSegmentMagic[4] = {'S', 'K', 'W', 'L'};
inline constexpr uint8_t kSegmentVersion = 1;
inline constexpr size_t kSegmentHeaderSize = 8;

// Record header: u32 length, u32 crc, u8 type; then `length` payload bytes.
inline constexpr size_t kRecordHeaderSize = 9;
// Largest payload a record may carry (Append refuses bigger ones; the reader treats a bigger
// length as a damaged header).
inline constexpr uint32_t kMaxRecordSize = 256u << 20;

// The 8 header bytes of a segment file.
std::string_view SegmentHeader();

// CRC of a record: CRC-32C over the 4 length bytes, the type byte and the payload.
uint32_t RecordCrc(uint32_t length, uint8_t type, std::string_view payload);

// Appends one framed record (header + payload) to out.
void AppendFramedRecord(std::string* out, RecordType type, std::string_view payload);

// True for the record types this version writes and reads.
inline bool IsKnownRecordType(uint8_t t) { return t >= 1 && t <= kMaxRecordType; }

// "00000042" (8 digits, zero-padded; more digits past 99999999).
std::string SegmentName(uint64_t n);
// Parses a segment file name: one or more decimal digits, no sign, fits in uint64.
std::optional<uint64_t> ParseSegmentName(std::string_view name);

}  // namespace skald::wal
