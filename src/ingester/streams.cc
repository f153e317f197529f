// Streams and heads: the head's metadata coding, sorting and cutting a head into a block,
// and closing a stream's open chunk (see streams.h).
#include "ingester/streams.h"

#include <xxhash.h>

namespace skald::ingester {

namespace {

void PutUvarint(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

bool GetUvarint(std::string_view* in, uint64_t* v) {
  uint64_t r = 0;
  for (int shift = 0; shift < 64 && !in->empty(); shift += 7) {
    auto b = static_cast<uint8_t>(in->front());
    in->remove_prefix(1);
    r |= static_cast<uint64_t>(b & 0x7f) << shift;
    if (b < 0x80) {
      *v = r;
      return true;
    }
  }
  return false;
}

}  // namespace

void EncodeHeadMetadata(std::span<const chunk::MetaPair> pairs, std::string* md) {
  md->clear();
  for (const auto& p : pairs) {
    PutUvarint(md, p.name.size());
    md->append(p.name);
    PutUvarint(md, p.value.size());
    md->append(p.value);
  }
}

uint64_t EntryHash(std::string_view line, std::string_view md) {
  return XXH3_64bits_withSeed(line.data(), line.size(), XXH3_64bits(md.data(), md.size()));
}

chunk::EncodedBlock Stream::EncodeHead(chunk::Codec codec, uint32_t* duplicates) {
  thread_local chunk::BlockBuilder builder;
  thread_local std::vector<chunk::MetaPair> pairs;
  SortHead();
  builder.Reset();
  const HeadEntry* prev = nullptr;
  for (const HeadEntry& e : head_) {
    if (prev != nullptr && prev->ts == e.ts && HeadLine(*prev) == HeadLine(e) &&
        HeadMeta(*prev) == HeadMeta(e)) {
      ++*duplicates;
      continue;
    }
    prev = &e;
    pairs.clear();
    std::string_view md = HeadMeta(e);
    while (!md.empty()) {
      uint64_t nl = 0, vl = 0;
      GetUvarint(&md, &nl);
      std::string_view name = md.substr(0, nl);
      md.remove_prefix(nl);
      GetUvarint(&md, &vl);
      std::string_view value = md.substr(0, vl);
      md.remove_prefix(vl);
      pairs.push_back({name, value});
    }
    builder.Add(e.ts, HeadLine(e), pairs);
  }
  return builder.Finish(codec);
}

void Stream::CutHead(chunk::Codec codec) {
  if (head_.empty()) return;
  uint32_t dups = 0;
  auto block = std::make_shared<chunk::EncodedBlock>(EncodeHead(codec, &dups));
  open_compressed_ += block->bytes.size();
  blocks_.push_back(std::move(block));
  head_.clear();
  head_data_.clear();
  if (head_data_.capacity() > (1u << 20)) head_data_.shrink_to_fit();
  head_sorted_ = true;
}

void Stream::CloseChunk(chunk::Codec codec) {
  CutHead(codec);
  if (blocks_.empty()) return;
  chunk::ChunkWriter writer(codec, tenant_, fp_, labels_str_);
  auto closed = std::make_shared<ClosedChunk>();
  closed->min_ts = INT64_MAX;
  closed->max_ts = INT64_MIN;
  for (const auto& b : blocks_) {
    closed->min_ts = std::min(closed->min_ts, b->meta.min_ts);
    closed->max_ts = std::max(closed->max_ts, b->meta.max_ts);
    closed->entries += b->meta.entries;
    closed->uncompressed += b->meta.uncompressed_size;
    writer.AddBlock(*b);
  }
  // The writer reports the block offsets it laid out: no need to parse our own output.
  closed->bytes = std::make_shared<std::string>(writer.Finish(&closed->blocks));
  closed_.push_back(std::move(closed));
  blocks_.clear();
  open_compressed_ = 0;
  open_first_append_ = 0;
}

}  // namespace skald::ingester
