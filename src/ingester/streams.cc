// Streams and heads: the head's metadata coding, sorting and cutting a head into a block,
// and closing a stream's open chunk (see streams.h).
#include "ingester/streams.h"

#define XXH_STATIC_LINKING_ONLY  // XXH3_state_t on the stack: no allocation per entry
#include <xxhash.h>

#include "core/coding.h"
#include "core/time.h"

namespace skald::ingester {

void AppendHeadMetadata(std::span<const MetadataPair> pairs, std::string* out) {
  for (const auto& p : pairs) {
    PutLengthPrefixed(out, p.name);
    PutLengthPrefixed(out, p.value);
  }
}

size_t HeadMetadataSize(std::span<const MetadataPair> pairs) {
  size_t n = 0;
  for (const auto& p : pairs) {
    n += UvarintSize(p.name.size()) + p.name.size() + UvarintSize(p.value.size()) + p.value.size();
  }
  return n;
}

namespace {

// XXH3 of the head encoding of `pairs`, streamed piece by piece (the same value as hashing
// the encoded bytes in one call).
uint64_t MetadataHash(std::span<const MetadataPair> pairs) {
  static const uint64_t kEmpty = XXH3_64bits(nullptr, 0);
  if (pairs.empty()) return kEmpty;
  XXH3_state_t state;
  XXH3_64bits_reset(&state);
  char len[kMaxVarintBytes];
  for (const auto& p : pairs) {
    for (std::string_view s : {p.name, p.value}) {
      XXH3_64bits_update(&state, len, EncodeUvarint(len, s.size()));
      XXH3_64bits_update(&state, s.data(), s.size());
    }
  }
  return XXH3_64bits_digest(&state);
}

}  // namespace

uint64_t EntryHash(std::string_view line, std::span<const MetadataPair> metadata) {
  return XXH3_64bits_withSeed(line.data(), line.size(), MetadataHash(metadata));
}

chunk::EncodedBlock Stream::EncodeHead(chunk::Codec codec, uint32_t* duplicates, bool filter,
                                       int level, size_t min_filter_bytes) {
  thread_local chunk::BlockBuilder builder;
  thread_local std::vector<MetadataPair> pairs;
  SortHead();
  builder.Reset();
  builder.set_build_filter(filter);
  builder.set_min_filter_bytes(min_filter_bytes);
  const HeadEntry* prev = nullptr;
  for (const HeadEntry& e : head_) {
    if (prev != nullptr && prev->ts == e.ts && HeadLine(*prev) == HeadLine(e) &&
        HeadMeta(*prev) == HeadMeta(e)) {
      ++*duplicates;
      continue;
    }
    prev = &e;
    pairs.clear();
    // The head's own encoding (EncodeHeadMetadata): length-prefixed name/value pairs.
    ByteReader r(HeadMeta(e));
    MetadataPair p;
    while (!r.empty() && r.GetLengthPrefixed(&p.name) && r.GetLengthPrefixed(&p.value)) {
      pairs.push_back(p);
    }
    builder.Add(e.ts, HeadLine(e), pairs);
  }
  return builder.Finish(codec, level);
}

void Stream::CutHead(const BlockEncoding& enc, bool provisional) {
  if (head_.empty()) return;
  uint32_t dups = 0;
  auto block = std::make_shared<chunk::EncodedBlock>(EncodeHead(
      enc.codec, &dups, !provisional, provisional ? 0 : enc.level, enc.min_filter_bytes));
  open_provisional_ |= provisional;
  open_raw_ += block->meta.uncompressed_size;
  open_compressed_ += block->bytes.size();
  blocks_.push_back(std::move(block));
  head_.clear();
  head_data_.clear();
  if (head_data_.capacity() > (1u << 20)) head_data_.shrink_to_fit();
  head_sorted_ = true;
}

void Stream::CloseChunk(std::string_view tenant, const BlockEncoding& enc, const char* reason) {
  CutHead(enc, /*provisional=*/open_provisional_);
  if (blocks_.empty()) return;
  // The label string is left out of the chunk: the index file's series table holds it once
  // per series, and at many small streams it was ~15% of the stored bytes.
  chunk::ChunkWriter writer(enc.codec, std::string(tenant), fp_, std::string());
  auto closed = std::make_shared<ClosedChunk>();
  closed->reason = reason;
  closed->closed_ns = NowNanos();
  closed->provisional = open_provisional_;
  closed->min_ts = INT64_MAX;
  closed->max_ts = INT64_MIN;
  // One final block with a small filter: the filter is kept beside the chunk, for its index
  // entry, and the chunk is built without it (at many small streams, most chunks).
  const bool detach = !open_provisional_ && blocks_.size() == 1 && !blocks_[0]->filter.empty() &&
                      blocks_[0]->filter.size() <= enc.detach_filter_max_bytes;
  for (const auto& b : blocks_) {
    closed->min_ts = std::min(closed->min_ts, b->meta.min_ts);
    closed->max_ts = std::max(closed->max_ts, b->meta.max_ts);
    closed->entries += b->meta.entries;
    closed->uncompressed += b->meta.uncompressed_size;
    if (detach) {
      closed->filter = b->filter;
      chunk::EncodedBlock without_filter;
      without_filter.meta = b->meta;
      without_filter.bytes = b->bytes;
      writer.AddBlock(std::move(without_filter));
    } else {
      writer.AddBlock(*b);
    }
  }
  // The writer reports the block offsets it laid out: no need to parse our own output.
  closed->bytes = std::make_shared<std::string>(writer.Finish(&closed->blocks));
  closed_.push_back(std::move(closed));
  blocks_.clear();
  open_compressed_ = 0;
  open_provisional_ = false;
  open_raw_ = 0;
  open_first_append_ = 0;
}

}  // namespace skald::ingester
