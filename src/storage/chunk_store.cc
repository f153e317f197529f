// ChunkStore: see chunk_store.h; key layout in docs/formats/object-keys.md.
#include "storage/chunk_store.h"

#include "core/crc32c.h"

namespace skald::storage {

namespace {

void AppendHex(std::string* out, uint64_t v, int width) {
  static constexpr char kDigits[] = "0123456789abcdef";
  size_t at = out->size();
  out->append(static_cast<size_t>(width), '0');
  for (int i = width - 1; i >= 0; i--, v >>= 4) (*out)[at + i] = kDigits[v & 0xf];
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
  AppendHex(&key, static_cast<uint64_t>(min_ts), 16);
  key.push_back('-');
  AppendHex(&key, static_cast<uint64_t>(max_ts), 16);
  key.push_back('-');
  AppendHex(&key, checksum, 8);
  return key;
}

StatusOr<std::string> ChunkStore::Put(std::string_view tenant, uint64_t fingerprint, int64_t min_ts,
                                      int64_t max_ts, std::string_view chunk_bytes) {
  std::string key = KeyFor(tenant, fingerprint, min_ts, max_ts, Crc32c(chunk_bytes));
  SKALD_RETURN_IF_ERROR(store_->Put(key, chunk_bytes));
  return key;
}

StatusOr<std::shared_ptr<const StoredChunk>> ChunkStore::Open(std::string_view key,
                                                              std::string_view tenant,
                                                              uint64_t fingerprint) const {
  SKALD_ASSIGN_OR_RETURN(std::string bytes, store_->Get(key));
  std::shared_ptr<StoredChunk> c(new StoredChunk(std::move(bytes)));
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

}  // namespace skald::storage
