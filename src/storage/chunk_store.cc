// ChunkStore: see chunk_store.h; key layout in docs/formats/object-keys.md.
#include "storage/chunk_store.h"

#include <algorithm>
#include <charconv>
#include <cstring>

#include "core/coding.h"
#include "core/crc32c.h"

#include <xxhash.h>

namespace skald::storage {

namespace {

void AppendHex(std::string* out, uint64_t v, int width) {
  static constexpr char kDigits[] = "0123456789abcdef";
  size_t at = out->size();
  out->append(static_cast<size_t>(width), '0');
  for (int i = width - 1; i >= 0; i--, v >>= 4) (*out)[at + i] = kDigits[v & 0xf];
}

// The last segment of chunk and pack keys: <min_ts>-<max_ts>-<crc> (16, 16 and 8 hex digits).
void AppendSpanName(std::string* key, int64_t min_ts, int64_t max_ts, uint32_t checksum) {
  AppendHex(key, static_cast<uint64_t>(min_ts), 16);
  key->push_back('-');
  AppendHex(key, static_cast<uint64_t>(max_ts), 16);
  key->push_back('-');
  AppendHex(key, checksum, 8);
}

}  // namespace

std::string ChunkStore::KeyFor(std::string_view tenant, uint64_t fingerprint, int64_t min_ts,
                               int64_t max_ts, uint32_t checksum) {
  std::string key;
  key.reserve(7 + tenant.size() + 1 + 16 + 1 + 16 + 1 + 16 + 1 + 8);
  key.append("chunks/");
  key.append(tenant);
  key.push_back('/');
  AppendHex(&key, fingerprint, 16);
  key.push_back('/');
  AppendSpanName(&key, min_ts, max_ts, checksum);
  return key;
}

StatusOr<std::string> ChunkStore::Put(std::string_view tenant, uint64_t fingerprint, int64_t min_ts,
                                      int64_t max_ts, std::string_view chunk_bytes) {
  std::string key =
      KeyFor(tenant, fingerprint, min_ts, max_ts,
             static_cast<uint32_t>(XXH3_64bits(chunk_bytes.data(), chunk_bytes.size())));
  SKALD_RETURN_IF_ERROR(store_->Put(key, chunk_bytes));
  return key;
}

namespace {

constexpr char kPackMagic[4] = {'S', 'K', 'P', 'K'};
constexpr uint8_t kPackVersion = 1;
constexpr size_t kPackTrailer = 4 + 4 + 4 + 1;  // footer length, footer CRC, magic, version

bool ParseDecimal(std::string_view s, uint64_t* v) {
  if (s.empty() || s.size() > 20 || (s.size() > 1 && s[0] == '0')) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *v);
  return ec == std::errc() && p == s.data() + s.size();
}

Status PackCorrupt(std::string what) { return Status::Corruption("pack: " + std::move(what)); }

}  // namespace

bool ParseLocator(std::string_view locator, std::string_view* object, bool* packed,
                  uint64_t* offset, uint64_t* length) {
  const size_t hash = locator.find('#');
  if (hash == std::string_view::npos) {
    *object = locator;
    *packed = false;
    *offset = *length = 0;
    return true;
  }
  *object = locator.substr(0, hash);
  *packed = true;
  std::string_view range = locator.substr(hash + 1);
  const size_t plus = range.find('+');
  return plus != std::string_view::npos && ParseDecimal(range.substr(0, plus), offset) &&
         ParseDecimal(range.substr(plus + 1), length);
}

std::string_view LocatorObject(std::string_view locator) {
  return locator.substr(0, std::min(locator.size(), locator.find('#')));
}

StatusOr<std::vector<PackedChunk>> ReadPackFooter(std::string_view pack) {
  if (pack.size() < kPackTrailer) return PackCorrupt("too short");
  const char* tail = pack.data() + pack.size() - kPackTrailer;
  if (std::memcmp(tail + 8, kPackMagic, 4) != 0) return PackCorrupt("bad magic");
  if (static_cast<uint8_t>(tail[12]) != kPackVersion) {
    return PackCorrupt("unsupported version " + std::to_string(static_cast<uint8_t>(tail[12])));
  }
  const uint64_t footer_len = DecodeFixed32(tail);
  if (footer_len > pack.size() - kPackTrailer) return PackCorrupt("footer longer than the pack");
  const size_t area = pack.size() - kPackTrailer - static_cast<size_t>(footer_len);
  std::string_view footer = pack.substr(area, static_cast<size_t>(footer_len));
  if (Crc32c(footer) != DecodeFixed32(tail + 4)) return PackCorrupt("footer checksum mismatch");
  ByteReader r(footer);
  uint64_t count = 0;
  if (!r.GetUvarint(&count) || count > r.remaining()) return PackCorrupt("bad chunk count");
  std::vector<PackedChunk> out;
  out.reserve(static_cast<size_t>(count));
  uint64_t at = 0;
  for (uint64_t i = 0; i < count; i++) {
    PackedChunk c;
    uint64_t length = 0, span = 0, entries = 0;
    if (!r.GetFixed64(&c.fingerprint) || !r.GetVarint(&c.min_ts) || !r.GetUvarint(&span) ||
        !r.GetUvarint(&entries) || !r.GetUvarint(&length)) {
      return PackCorrupt("malformed footer");
    }
    if (entries > UINT32_MAX || length == 0 || length > area - at) {
      return PackCorrupt("bad chunk entry " + std::to_string(i));
    }
    if (span > static_cast<uint64_t>(INT64_MAX) - static_cast<uint64_t>(c.min_ts)) {
      return PackCorrupt("bad time range of chunk " + std::to_string(i));
    }
    c.max_ts = static_cast<int64_t>(static_cast<uint64_t>(c.min_ts) + span);
    c.entries = static_cast<uint32_t>(entries);
    c.offset = at;
    c.length = length;
    at += length;
    out.push_back(c);
  }
  if (!r.empty()) return PackCorrupt("trailing bytes in footer");
  if (at != area) return PackCorrupt("chunks do not fill the pack");
  return out;
}

std::string ChunkStore::PackKeyFor(std::string_view tenant, int64_t min_ts, int64_t max_ts,
                                   uint32_t checksum) {
  std::string key;
  key.reserve(6 + tenant.size() + 1 + 16 + 1 + 16 + 1 + 8);
  key.append("packs/");
  key.append(tenant);
  key.push_back('/');
  AppendSpanName(&key, min_ts, max_ts, checksum);
  return key;
}

StatusOr<std::vector<std::string>> ChunkStore::PutPack(std::string_view tenant,
                                                       const std::vector<PackItem>& items) {
  if (items.empty()) return Status::InvalidArgument("pack: no chunks");
  int64_t min_ts = INT64_MAX, max_ts = INT64_MIN;
  for (const PackItem& it : items) {
    min_ts = std::min(min_ts, it.min_ts);
    max_ts = std::max(max_ts, it.max_ts);
  }
  std::string footer;
  PutUvarint(&footer, items.size());
  for (const PackItem& it : items) {
    PutFixed64(&footer, it.fingerprint);
    PutVarint(&footer, it.min_ts);
    PutUvarint(&footer, static_cast<uint64_t>(it.max_ts) - static_cast<uint64_t>(it.min_ts));
    PutUvarint(&footer, it.entries);
    PutUvarint(&footer, it.bytes.size());
  }
  // The chunks are written from where they are: the store gets the pack as parts (chunks,
  // then footer and trailer) and never a concatenated copy.
  const auto footer_len = static_cast<uint32_t>(footer.size());
  const uint32_t footer_crc = Crc32c(footer);
  PutFixed32(&footer, footer_len);
  PutFixed32(&footer, footer_crc);
  footer.append(kPackMagic, 4);
  footer.push_back(static_cast<char>(kPackVersion));
  std::vector<std::string_view> parts;
  parts.reserve(items.size() + 1);
  // The key's checksum is a hash of the whole object, so different packs over the same span
  // get different keys and identical ones the same key. Not a CRC: a running CRC-32C over
  // chunks that each end their sections with the sections' own CRC does not change when a
  // section's content does (a CRC followed by its own checksum leaves a constant residue),
  // and packs of replicas holding other entries over the same span overwrote each other.
  XXH3_state_t* state = XXH3_createState();
  if (state == nullptr) return Status::ResourceExhausted("pack: no memory for the hash");
  XXH3_64bits_reset(state);
  for (const PackItem& it : items) {
    parts.push_back(it.bytes);
    XXH3_64bits_update(state, it.bytes.data(), it.bytes.size());
  }
  parts.push_back(footer);
  XXH3_64bits_update(state, footer.data(), footer.size());
  const auto hash = static_cast<uint32_t>(XXH3_64bits_digest(state));
  XXH3_freeState(state);
  const std::string key = PackKeyFor(tenant, min_ts, max_ts, hash);
  SKALD_RETURN_IF_ERROR(store_->PutParts(key, parts));
  std::vector<std::string> locators;
  locators.reserve(items.size());
  uint64_t at = 0;
  for (const PackItem& it : items) {
    locators.push_back(key + "#" + std::to_string(at) + "+" + std::to_string(it.bytes.size()));
    at += it.bytes.size();
  }
  return locators;
}

StatusOr<std::string> ChunkStore::ReadBytes(std::string_view locator) const {
  std::string_view object;
  bool packed = false;
  uint64_t offset = 0, length = 0;
  if (!ParseLocator(locator, &object, &packed, &offset, &length)) {
    return Status::Corruption("chunk " + std::string(locator) + ": malformed locator");
  }
  return packed ? store_->GetRange(object, offset, length) : store_->Get(object);
}

StatusOr<std::shared_ptr<const StoredChunk>> ChunkStore::Open(std::string_view key,
                                                              std::string_view tenant,
                                                              uint64_t fingerprint) const {
  std::string_view object;
  bool packed = false;
  uint64_t offset = 0, length = 0;
  if (!ParseLocator(key, &object, &packed, &offset, &length)) {
    return Status::Corruption("chunk " + std::string(key) + ": malformed locator");
  }
  if (packed) {
    SKALD_ASSIGN_OR_RETURN(SharedBytes range, store_->GetRangeShared(object, offset, length));
    return OpenShared(key, std::move(range.owner), range.bytes, tenant, fingerprint);
  }
  SKALD_ASSIGN_OR_RETURN(std::string bytes, store_->Get(object));
  return OpenBytes(key, std::move(bytes), tenant, fingerprint);
}

StatusOr<std::shared_ptr<const StoredChunk>> ChunkStore::OpenBytes(std::string_view key,
                                                                   std::string bytes,
                                                                   std::string_view tenant,
                                                                   uint64_t fingerprint) {
  auto buffer = std::make_shared<const std::string>(std::move(bytes));
  return OpenShared(key, buffer, *buffer, tenant, fingerprint);
}

StatusOr<std::shared_ptr<const StoredChunk>> ChunkStore::OpenShared(
    std::string_view key, std::shared_ptr<const void> buffer, std::string_view bytes,
    std::string_view tenant, uint64_t fingerprint) {
  std::shared_ptr<StoredChunk> c(new StoredChunk(std::move(buffer), bytes));
  auto reader = chunk::ChunkReader::Open(c->bytes_);  // views into the bytes c owns
  if (!reader.ok()) {
    return Status::Corruption("chunk " + std::string(key) + ": " + reader.status().message());
  }
  if (reader->header().tenant != tenant || reader->header().fingerprint != fingerprint) {
    return Status::Corruption("chunk " + std::string(key) +
                              ": header names another tenant or stream");
  }
  c->reader_.emplace(std::move(*reader));
  return std::shared_ptr<const StoredChunk>(std::move(c));
}

std::vector<StatusOr<std::shared_ptr<const StoredChunk>>> ChunkStore::OpenMany(
    std::string_view tenant, const std::vector<Want>& wants) const {
  std::vector<StatusOr<std::shared_ptr<const StoredChunk>>> out(wants.size(),
                                                                Status::Unavailable("not read"));
  struct Part {
    std::string_view object;
    uint64_t offset, length;
    size_t want;
  };
  std::vector<Part> parts;
  for (size_t i = 0; i < wants.size(); i++) {
    std::string_view object;
    bool packed = false;
    uint64_t offset = 0, length = 0;
    if (ParseLocator(wants[i].locator, &object, &packed, &offset, &length) && packed &&
        length <= kCoalesceMax) {
      parts.push_back({object, offset, length, i});
    } else {
      out[i] = Open(wants[i].locator, tenant, wants[i].fingerprint);
    }
  }
  std::sort(parts.begin(), parts.end(), [](const Part& a, const Part& b) {
    return a.object != b.object ? a.object < b.object : a.offset < b.offset;
  });
  for (size_t i = 0; i < parts.size();) {
    // One read: parts[i, j) of one pack, each starting within kCoalesceGap of the previous
    // one's end, together at most kCoalesceMax bytes.
    const uint64_t begin = parts[i].offset;
    uint64_t end = begin + parts[i].length;
    size_t j = i + 1;
    while (j < parts.size() && parts[j].object == parts[i].object &&
           parts[j].offset <= end + kCoalesceGap &&
           std::max(end, parts[j].offset + parts[j].length) - begin <= kCoalesceMax) {
      end = std::max(end, parts[j].offset + parts[j].length);
      j++;
    }
    StatusOr<SharedBytes> read = store_->GetRangeShared(parts[i].object, begin, end - begin);
    for (size_t k = i; k < j; k++) {
      const Part& p = parts[k];
      const Want& w = wants[p.want];
      if (!read.ok()) {
        out[p.want] = Status(read.status().code(),
                             "chunk " + std::string(w.locator) + ": " + read.status().message());
        continue;
      }
      const std::string_view range = read->bytes;
      if (p.offset - begin + p.length > range.size()) {  // a short read: the pack is truncated
        out[p.want] = Status::Corruption("chunk " + std::string(w.locator) + ": past the end of " +
                                         std::string(p.object));
        continue;
      }
      out[p.want] = OpenShared(w.locator, read->owner, range.substr(p.offset - begin, p.length),
                               tenant, w.fingerprint);
    }
    i = j;
  }
  return out;
}

}  // namespace skald::storage
