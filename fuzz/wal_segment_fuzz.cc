// libFuzzer target for the WAL segment reader and record decoders (src/wal). The first input
// byte picks a mode:
//   0: the rest is a segment file: it is read through a SegmentReader with a small buffer
//      and every record is decoded; a torn tail is truncated and the segment re-read, which
//      must then give the same records and end cleanly. Replay over it plus a valid second
//      segment must still deliver the second segment.
//   1: the rest describes records (type, length, bytes); they are framed into a valid
//      segment, then damaged as the last bytes say (cut or flip one byte). Exactly the
//      records before the damage must come back, unchanged, and nothing after them (no
//      record beyond the real ones); a cut inside a record must be reported as a torn
//      tail ending at the last whole record (differential check), or as corruption when
//      the cut record's own bytes contain a well-framed record (then nothing is truncated).
//   2: the rest is one payload for DecodeSeries and EntriesDecoder; entries that decode are
//      re-encoded and must decode to the same values.
// Any crash, sanitizer report or failed check is a bug.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "testing/fs/mem_file_system.h"
#include "wal/format.h"
#include "wal/records.h"
#include "wal/replay.h"
#include "wal/segment_reader.h"

namespace {

using namespace skald::wal;  // NOLINT
using skald::MemFileSystem;
using skald::MetadataPair;

void Check(bool cond) {
  if (!cond) __builtin_trap();
}

struct Rec {
  RecordType type;
  std::string payload;
  bool operator==(const Rec& o) const { return type == o.type && payload == o.payload; }
};

struct Entry {
  int64_t ts;
  std::string line;
  std::vector<std::pair<std::string, std::string>> md;
  bool operator==(const Entry& o) const { return ts == o.ts && line == o.line && md == o.md; }
};

// Decodes a payload of either type; touches every byte of every view.
void DecodePayload(RecordType type, std::string_view payload) {
  volatile size_t sink = 0;
  if (type == RecordType::kSeries) {
    SeriesRecord r;
    skald::Status s = DecodeSeries(payload, &r);
    if (s.ok()) {
      for (char c : r.tenant) sink = sink + static_cast<uint8_t>(c);
      for (char c : r.labels) sink = sink + static_cast<uint8_t>(c);
    } else {
      Check(s.code() == skald::StatusCode::kCorruption);
    }
    return;
  }
  EntriesDecoder d;
  if (!d.Init(payload).ok()) {
    Check(d.status().code() == skald::StatusCode::kCorruption);
    return;
  }
  int64_t ts;
  std::string_view line;
  std::vector<MetadataPair> md;
  std::vector<Entry> got;
  while (d.Next(&ts, &line, &md)) {
    Entry e{ts, std::string(line), {}};
    for (const MetadataPair& m : md) e.md.emplace_back(std::string(m.name), std::string(m.value));
    got.push_back(std::move(e));
  }
  if (!d.status().ok()) {
    Check(d.status().code() == skald::StatusCode::kCorruption);
    return;
  }
  // Re-encode and decode again: same entries.
  std::string again;
  EntriesEncoder enc;
  enc.Begin(&again, d.tenant(), d.fingerprint());
  for (const Entry& e : got) {
    enc.AddEntry(e.ts, e.line, e.md.size());
    for (const auto& [n, v] : e.md) enc.AddMetadata(n, v);
  }
  EntriesDecoder d2;
  Check(d2.Init(again).ok());
  Check(d2.tenant() == d.tenant() && d2.fingerprint() == d.fingerprint());
  size_t i = 0;
  while (d2.Next(&ts, &line, &md)) {
    Check(i < got.size() && got[i].ts == ts && got[i].line == line &&
          got[i].md.size() == md.size());
    for (size_t j = 0; j < md.size(); ++j) {
      Check(got[i].md[j].first == md[j].name && got[i].md[j].second == md[j].value);
    }
    ++i;
  }
  Check(d2.status().ok() && i == got.size());
  sink = sink + i;
}

std::vector<Rec> ReadAll(MemFileSystem* fs, const std::string& path, SegmentEnd* end,
                         uint64_t* valid_end, bool truncate) {
  SegmentReaderOptions o;
  o.buffer_size = 4096;
  auto r = SegmentReader::Open(fs, path, o);
  Check(r.ok());
  std::vector<Rec> out;
  RecordType t;
  std::string_view p;
  while ((*r)->Next(&t, &p)) {
    Check(IsKnownRecordType(static_cast<uint8_t>(t)));
    DecodePayload(t, p);
    out.push_back({t, std::string(p)});
  }
  Check((*r)->status().ok());
  Check((*r)->end() != SegmentEnd::kNotYet);
  Check((*r)->valid_end() <= (*r)->file_size());
  *end = (*r)->end();
  *valid_end = (*r)->valid_end();
  if (truncate && *end == SegmentEnd::kTornTail) Check((*r)->TruncateTornTail().ok());
  return out;
}

void ReadSegment(std::string_view bytes) {
  MemFileSystem fs;
  Check(fs.WriteFileForTest("/w/00000000", bytes).ok());
  SegmentEnd end;
  uint64_t valid_end;
  std::vector<Rec> first = ReadAll(&fs, "/w/00000000", &end, &valid_end, true);
  if (end == SegmentEnd::kClean) Check(valid_end == bytes.size());
  if (end == SegmentEnd::kTornTail) {
    SegmentEnd end2;
    uint64_t valid_end2;
    std::vector<Rec> second = ReadAll(&fs, "/w/00000000", &end2, &valid_end2, false);
    Check(second == first);
    Check(end2 == SegmentEnd::kClean);
  }
  // Damage in one segment never hides the next one.
  std::string next(SegmentHeader());
  AppendFramedRecord(&next, RecordType::kSeries, "next");
  Check(fs.WriteFileForTest("/w/00000001", next).ok());
  ReplayOptions ro;
  ro.fs = &fs;
  ro.on_warning = [](const std::string&) {};
  std::vector<Rec> replayed;
  skald::Status s = Replay(
      "/w", 0,
      [&](RecordType t, std::string_view p) {
        replayed.push_back({t, std::string(p)});
        return skald::Status::OK();
      },
      nullptr, ro);
  Check(s.ok());
  Check(!replayed.empty() && replayed.back() == Rec{RecordType::kSeries, "next"});
}

// True when a well-framed record (header, known type, matching checksum) starts at some
// offset in (from, data.size()). Reframing the candidate payload with the writer is the
// oracle, independent of the reader's own scan.
bool FramedRecordAfter(const std::string& data, size_t from) {
  for (size_t q = from + 1; q + kRecordHeaderSize <= data.size(); ++q) {
    const auto t = static_cast<uint8_t>(data[q + 8]);
    if (!IsKnownRecordType(t)) continue;
    uint32_t len;
    std::memcpy(&len, data.data() + q, 4);  // little-endian machines only, like the format
    if (len > data.size() - q - kRecordHeaderSize) continue;
    std::string framed;
    AppendFramedRecord(&framed, static_cast<RecordType>(t),
                       std::string_view(data).substr(q + kRecordHeaderSize, len));
    if (data.compare(q, framed.size(), framed) == 0) return true;
  }
  return false;
}

void DamagedRoundTrip(const uint8_t* p, size_t n) {
  if (n < 2) return;
  const uint8_t mode = p[n - 1];
  const uint8_t where = p[n - 2];
  n -= 2;
  std::vector<Rec> recs;
  std::string seg(SegmentHeader());
  std::vector<size_t> ends;
  while (n >= 2) {
    RecordType t = (p[0] & 1) ? RecordType::kEntries : RecordType::kSeries;
    size_t len = std::min<size_t>(p[1], n - 2);
    recs.push_back({t, std::string(reinterpret_cast<const char*>(p) + 2, len)});
    AppendFramedRecord(&seg, t, recs.back().payload);
    ends.push_back(seg.size());
    p += 2 + len;
    n -= 2 + len;
  }
  // Damage: cut at, or flip a byte at, a position chosen by `where`.
  const size_t pos = seg.size() * where / 256;
  std::string damaged = seg;
  if (mode & 1) {
    damaged.resize(pos);
  } else if (pos < damaged.size()) {
    damaged[pos] = static_cast<char>(damaged[pos] ^ (mode | 1));
  }
  MemFileSystem fs;
  Check(fs.WriteFileForTest("/w/00000000", damaged).ok());
  SegmentEnd end;
  uint64_t valid_end;
  std::vector<Rec> got = ReadAll(&fs, "/w/00000000", &end, &valid_end, true);
  if (damaged == seg) {
    Check(end == SegmentEnd::kClean && got == recs && valid_end == seg.size());
    return;
  }
  // Exactly the records that end at or before the damaged position come back:
  // none missing, none altered, none invented past them (a cut or a flipped
  // byte, which every record's CRC covers, ends the valid data).
  size_t intact = 0;
  while (intact < ends.size() && ends[intact] <= pos) ++intact;
  if (pos < kSegmentHeaderSize) intact = 0;  // a damaged header: nothing is trusted
  Check(got.size() == intact);
  for (size_t i = 0; i < got.size(); ++i) Check(got[i] == recs[i]);
  Check(end != SegmentEnd::kClean || (mode & 1));
  if ((mode & 1) && pos >= kSegmentHeaderSize) {
    // A cut is reported as a torn tail unless it falls on a record boundary,
    // and the valid data ends at the last whole record.
    const size_t boundary = intact > 0 ? ends[intact - 1] : kSegmentHeaderSize;
    Check(valid_end == boundary);
    if (pos == boundary) {
      Check(end == SegmentEnd::kClean);
    } else if (FramedRecordAfter(damaged, boundary)) {
      // The cut record's payload holds a well-framed record of its own: the reader cannot
      // tell that from damage followed by valid data, so it must refuse to truncate.
      Check(end == SegmentEnd::kCorruption);
    } else {
      Check(end == SegmentEnd::kTornTail);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 3) {
    case 0:
      ReadSegment(rest);
      break;
    case 1:
      DamagedRoundTrip(data + 1, size - 1);
      break;
    default:
      DecodePayload(RecordType::kSeries, rest);
      DecodePayload(RecordType::kEntries, rest);
      break;
  }
  return 0;
}
