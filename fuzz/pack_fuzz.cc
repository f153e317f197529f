// libFuzzer target for packed objects (docs/formats/pack.md, src/storage/chunk_store.h). The
// first input byte picks a mode:
//   0: the rest is a pack object: ReadPackFooter must fail cleanly (Corruption) or describe
//      ranges inside the chunk area, each of which then opens through its locator (clean
//      errors only).
//   1: like 0, but the footer CRC is recomputed first so the checks behind it get fuzzed.
//   2: the rest is a locator: ParseLocator and ChunkStore::Open must fail cleanly.
//   3: the rest describes chunks; PutPack writes them and every locator must read back the
//      exact bytes, and the footer must list them (differential round trip).
// Crashes, sanitizer reports and round-trip mismatches are bugs.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "chunk/chunk.h"
#include "core/crc32c.h"
#include "storage/chunk_store.h"
#include "testing/fs/mem_object_store.h"

namespace {

using namespace skald;  // NOLINT

void Check(bool cond) {
  if (!cond) __builtin_trap();
}

void PutLE32(std::string* s, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) (*s)[at + i] = static_cast<char>(v >> (8 * i));
}
uint32_t GetLE32(const std::string& s, size_t at) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(s[at + i]);
  return v;
}

void ReadPack(const std::string& pack) {
  auto footer = storage::ReadPackFooter(pack);
  if (!footer.ok()) {
    Check(footer.status().code() == StatusCode::kCorruption);
    return;
  }
  storage::MemObjectStore mem;
  Check(mem.Put("packs/t/0000000000000000-0000000000000001-00000000", pack).ok());
  storage::ChunkStore cs(&mem);
  uint64_t end = 0;
  for (const storage::PackedChunk& c : *footer) {
    Check(c.offset == end && c.length > 0 && c.min_ts <= c.max_ts);
    end += c.length;
    Check(end <= pack.size());
    const std::string loc = "packs/t/0000000000000000-0000000000000001-00000000#" +
                            std::to_string(c.offset) + "+" + std::to_string(c.length);
    auto opened = cs.Open(loc, "t", c.fingerprint);
    if (!opened.ok()) Check(opened.status().code() == StatusCode::kCorruption);
  }
}

void FixFooterCrc(std::string s) {
  if (s.size() >= 13) {
    const size_t tail = s.size() - 13;
    const uint64_t len = GetLE32(s, tail);
    if (len <= tail) PutLE32(&s, tail + 4, crc32c::Value(s.data() + tail - len, len));
  }
  ReadPack(s);
}

void OpenLocator(const std::string& loc) {
  std::string_view object;
  bool packed = false;
  uint64_t offset = 0, length = 0;
  if (storage::ParseLocator(loc, &object, &packed, &offset, &length)) {
    Check(object == storage::LocatorObject(loc));
    Check(packed == (object.size() < loc.size()));
  }
  storage::MemObjectStore mem;
  (void)mem.Put("packs/t/p", std::string(64, 'x'));
  storage::ChunkStore cs(&mem);
  auto opened = cs.Open(loc, "t", 1);
  Check(!opened.ok());
}

void RoundTrip(const uint8_t* p, size_t n) {
  std::vector<std::string> bytes;
  std::vector<storage::PackItem> items;
  while (n >= 2) {
    const size_t len = std::min<size_t>(p[0], n - 1) + 1;
    chunk::BlockBuilder bb;
    bb.Add(static_cast<int64_t>(p[1]) * 1000, std::string(reinterpret_cast<const char*>(p), len),
           {});
    chunk::ChunkWriter w(chunk::Codec::kNone, "t", p[1], "{}");
    w.AddBlock(bb.Finish(chunk::Codec::kNone));
    bytes.push_back(w.Finish());
    p += len;
    n -= len;
  }
  if (bytes.empty()) return;
  for (size_t i = 0; i < bytes.size(); i++) {
    auto r = chunk::ChunkReader::Open(bytes[i]);
    Check(r.ok());
    items.push_back({r->header().fingerprint, r->header().min_ts, r->header().max_ts, 1, bytes[i]});
  }
  storage::MemObjectStore mem;
  storage::ChunkStore cs(&mem);
  auto locators = cs.PutPack("t", items);
  Check(locators.ok() && locators->size() == items.size());
  auto keys = mem.List("packs/t/");
  Check(keys.ok() && keys->size() == 1);
  auto pack = mem.Get((*keys)[0]);
  Check(pack.ok());
  auto footer = storage::ReadPackFooter(*pack);
  Check(footer.ok() && footer->size() == items.size());
  for (size_t i = 0; i < items.size(); i++) {
    Check((*footer)[i].fingerprint == items[i].fingerprint);
    Check(storage::LocatorObject((*locators)[i]) == (*keys)[0]);
    auto got = cs.ReadBytes((*locators)[i]);
    Check(got.ok() && *got == bytes[i]);
    Check(cs.Open((*locators)[i], "t", items[i].fingerprint).ok());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] & 3) {
    case 0:
      ReadPack(rest);
      break;
    case 1:
      FixFooterCrc(std::move(rest));
      break;
    case 2:
      OpenLocator(rest);
      break;
    default:
      RoundTrip(data + 1, size - 1);
      break;
  }
  return 0;
}
