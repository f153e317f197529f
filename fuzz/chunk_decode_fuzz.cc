// libFuzzer target for the chunk format (src/chunk). The first input byte picks a mode:
//   0: the rest is chunk bytes: ChunkReader::Open, then ReadBlock/ReadTimestamps every block.
//   1: the rest is one block: its CRC32C trailer is recomputed so the fuzzer reaches the
//      column decoders, then DecodeBlock in both column modes.
//   2: like 0, but header, index and block checksums are recomputed first (layout in
//      docs/formats/chunk.md) so that structural checks behind the checksums get fuzzed.
//   3: the rest describes entries; they are encoded with BlockBuilder/ChunkWriter (format
//      version 2, or 1 when the codec byte's bit 7 is set) and must decode back identically
//      (differential round trip); every substring of a line must pass its block's filter;
//      ReencodeChunk must keep the same entries with every block in timestamp order.
// Any failure must be a clean Status; crashes, sanitizer reports and round-trip mismatches
// are bugs.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <tuple>
#include <vector>

#include "chunk/chunk.h"
#include "core/crc32c.h"

namespace {

using namespace skald::chunk;  // NOLINT
using skald::MetadataPair;

void PutLE32(std::string* s, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) (*s)[at + i] = static_cast<char>(v >> (8 * i));
}
uint32_t GetLE32(const std::string& s, size_t at) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(s[at + i]);
  return v;
}

void Check(bool cond) {
  if (!cond) __builtin_trap();
}

// Touches everything a decoded block exposes so ASan sees any bad view.
void Consume(const DecodedBlock& d) {
  volatile uint64_t sink = 0;
  for (int64_t t : d.timestamps()) sink = sink + static_cast<uint64_t>(t);
  if (!d.has_lines()) return;
  Check(d.line_offsets().size() == d.size() + 1);
  Check(d.line_offsets().back() == d.lines_data().size());
  for (size_t i = 0; i < d.size(); ++i) {
    std::string_view l = d.line(i);
    for (char c : l) sink = sink + static_cast<uint8_t>(c);
    for (size_t j = 0; j < d.metadata_count(i); ++j) {
      MetadataPair p = d.metadata(i, j);
      sink = sink + p.name.size() + p.value.size();
      if (!p.name.empty()) sink = sink + static_cast<uint8_t>(p.name.back());
      if (!p.value.empty()) sink = sink + static_cast<uint8_t>(p.value.back());
    }
  }
}

void ReadAll(std::string_view bytes) {
  auto r = ChunkReader::Open(bytes);
  if (!r.ok()) {
    Check(r.status().code() == skald::StatusCode::kCorruption);
    return;
  }
  // Re-encoding (the ingester's flush) decodes every block: a clean error or a chunk that
  // opens again.
  auto re = ReencodeChunk(bytes, {.block_size = 4096, .codec = r->header().codec});
  if (re.ok()) {
    Check(ChunkReader::Open(*re).ok());
  } else {
    Check(re.status().code() == skald::StatusCode::kCorruption);
  }
  DecodedBlock d;
  for (size_t i = 0; i < r->blocks().size(); ++i) {
    // Open validated the filter: Parse must agree, and probing must stay in bounds.
    Check(GramFilter::Parse(r->block_filter(i)).ok());
    const GramFilter f = GramFilter::Trusted(r->block_filter(i));
    volatile bool may = f.MayContain("error") && f.MayContain(bytes.substr(0, 7));
    (void)may;
    skald::Status s = r->ReadTimestamps(i, &d);
    if (s.ok()) Consume(d);
    s = r->ReadBlock(i, &d);
    if (s.ok()) {
      Check(d.size() == r->blocks()[i].entries);
      Consume(d);
    } else {
      Check(s.code() == skald::StatusCode::kCorruption);
    }
  }
}

// Recomputes the header, index and (version 2) filter CRCs, then each block's CRC (using the
// parsed index).
void FixChecksumsAndRead(std::string s) {
  if (s.size() < 24) return ReadAll(s);
  const bool v2 = s[4] == 2;
  const size_t pre = v2 ? 20 : 16;
  const uint64_t h = GetLE32(s, 8), ix = GetLE32(s, 12), fl = v2 ? GetLE32(s, 16) : 0;
  if (pre + h + 4 + ix + 4 + (v2 ? fl + 4 : 0) > s.size()) return ReadAll(s);
  const size_t hend = pre + h;
  PutLE32(&s, hend, skald::crc32c::Value(s.data(), hend));
  PutLE32(&s, hend + 4 + ix, skald::crc32c::Value(s.data() + hend + 4, ix));
  if (v2) {
    const size_t fstart = hend + 4 + ix + 4;
    PutLE32(&s, fstart + fl, skald::crc32c::Value(s.data() + fstart, fl));
  }
  auto r = ChunkReader::Open(s);
  if (r.ok()) {
    std::vector<BlockMeta> blocks = r->blocks();
    for (const BlockMeta& m : blocks) {
      const size_t end = m.offset + m.length;
      PutLE32(&s, end - 4, skald::crc32c::Value(s.data() + m.offset, m.length - 4));
    }
  }
  ReadAll(s);
}

void DecodeRawBlock(std::string s) {
  if (s.size() >= 4) PutLE32(&s, s.size() - 4, skald::crc32c::Value(s.data(), s.size() - 4));
  DecodedBlock d;
  skald::Status st = DecodeBlock(s, &d, BlockColumns::kTimestampsOnly);
  if (st.ok()) Consume(d);
  st = DecodeBlock(s, &d);
  if (st.ok()) {
    Consume(d);
  } else {
    Check(st.code() == skald::StatusCode::kCorruption);
  }
}

void RoundTrip(const uint8_t* p, size_t n) {
  if (n < 1) return;
  const Codec codec = static_cast<Codec>((p[0] & 0x7f) % (kMaxCodec + 1));
  const bool v1 = (p[0] & 0x80) != 0;
  ++p;
  --n;
  std::vector<OwnedEntry> want;
  BlockBuilder bb;
  ChunkWriter w(codec, "tenant", 42, "{a=\"b\"}");
  if (v1) w.set_version(1);
  int64_t ts = 0;
  while (n >= 3) {
    const uint8_t op = p[0], len = p[1], nmeta = p[2] % 4;
    p += 3;
    n -= 3;
    if (op & 1) {
      w.AddBlock(bb.Finish(codec));
      continue;
    }
    ts += static_cast<int8_t>(op) * 1000003LL;
    OwnedEntry e;
    e.ts = ts;
    const size_t l = std::min<size_t>(len, n);
    e.line.assign(reinterpret_cast<const char*>(p), l);
    p += l;
    n -= l;
    MetadataPair md[4];
    for (size_t j = 0; j < nmeta; ++j) {
      const size_t a = std::min<size_t>(n, j), b = std::min<size_t>(n - a, 2);
      e.metadata.emplace_back(std::string(reinterpret_cast<const char*>(p), a),
                              std::string(reinterpret_cast<const char*>(p) + a, b));
    }
    for (size_t j = 0; j < nmeta; ++j) md[j] = {e.metadata[j].first, e.metadata[j].second};
    bb.Add(e.ts, e.line, std::span<const MetadataPair>(md, nmeta));
    want.push_back(std::move(e));
  }
  w.AddBlock(bb.Finish(codec));
  std::string chunk = w.Finish();
  std::vector<OwnedEntry> got;
  Check(DecodeChunkEntries(chunk, &got).ok());
  Check(got == want);
  // Re-encoded into larger blocks: the same entries, each block in timestamp order.
  {
    auto re = ReencodeChunk(chunk, {.block_size = 200, .codec = codec});
    Check(re.ok());
    auto rr = ChunkReader::Open(*re);
    Check(rr.ok());
    std::vector<OwnedEntry> all;
    DecodedBlock db;
    for (size_t b = 0; b < rr->blocks().size(); ++b) {
      Check(rr->ReadBlock(b, &db).ok());
      for (size_t i = 1; i < db.size(); ++i) Check(db.ts(i - 1) <= db.ts(i));
    }
    Check(DecodeChunkEntries(*re, &all).ok());
    auto key = [](const OwnedEntry& e) { return std::tie(e.ts, e.line, e.metadata); };
    auto less = [&](const OwnedEntry& a, const OwnedEntry& b) { return key(a) < key(b); };
    std::vector<OwnedEntry> sorted_want = want;
    std::sort(sorted_want.begin(), sorted_want.end(), less);
    std::sort(all.begin(), all.end(), less);
    Check(all == sorted_want);
  }
  // Block filters never refute what a line holds (any case mix of it, too).
  auto r = ChunkReader::Open(chunk);
  Check(r.ok());
  DecodedBlock d;
  for (size_t b = 0; b < r->blocks().size(); ++b) {
    if (v1) Check(r->block_filter(b).empty());
    const GramFilter f = GramFilter::Trusted(r->block_filter(b));
    Check(r->ReadBlock(b, &d).ok());
    for (size_t i = 0; i < d.size(); ++i) {
      const std::string_view line = d.line(i);
      for (size_t at = 0; at < line.size(); ++at) {
        for (size_t len = 1; len <= 8 && at + len <= line.size(); ++len) {
          std::string sub(line.substr(at, len));
          Check(f.MayContain(sub));
          for (char& c : sub) c = static_cast<char>(c >= 'a' && c <= 'z' ? c - 32 : c);
          Check(f.MayContain(sub));
        }
      }
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] & 3) {
    case 0:
      ReadAll(rest);
      break;
    case 1:
      DecodeRawBlock(std::move(rest));
      break;
    case 2:
      FixChecksumsAndRead(std::move(rest));
      break;
    default:
      RoundTrip(data + 1, size - 1);
      break;
  }
  return 0;
}
