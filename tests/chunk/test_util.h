// Shared helpers for chunk tests: block/chunk building over the kit's entries and
// allocation counter (tests/testing/).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "chunk/block.h"
#include "chunk/chunk.h"
#include "tests/testing/alloc_counter.h"
#include "tests/testing/entries.h"

namespace skald::chunk::testing {

// The kit's allocation counter and entry generator, over chunk::OwnedEntry.
using skald::testing::AllocCounter;

inline std::vector<OwnedEntry> RandomEntries(size_t n, uint64_t seed, int64_t start_ts,
                                             bool with_metadata) {
  return skald::testing::RandomEntries<OwnedEntry>(n, seed, start_ts, with_metadata);
}

inline void AddEntry(BlockBuilder* b, const OwnedEntry& e) {
  b->Add(e.ts, e.line, skald::testing::MetadataViews<MetadataPair>(e.metadata));
}

// Builds a chunk, cutting a block whenever the builder reaches block_size uncompressed bytes.
inline std::string BuildChunk(const std::vector<OwnedEntry>& entries, Codec codec,
                              size_t block_size, std::vector<BlockMeta>* metas = nullptr) {
  BlockBuilder bb;
  ChunkWriter w(codec, "tenant-a", 0x0123456789abcdefull, R"({app="x", env="prod"})");
  auto cut = [&] {
    EncodedBlock eb = bb.Finish(codec);
    if (metas && eb.meta.entries) metas->push_back(eb.meta);
    w.AddBlock(std::move(eb));
  };
  for (const OwnedEntry& e : entries) {
    AddEntry(&bb, e);
    if (bb.uncompressed_bytes() >= block_size) cut();
  }
  if (bb.entries()) cut();
  return w.Finish();
}

inline std::vector<OwnedEntry> BlockEntries(const DecodedBlock& b) {
  return skald::testing::EntriesOf<OwnedEntry>(b);
}

}  // namespace skald::chunk::testing
