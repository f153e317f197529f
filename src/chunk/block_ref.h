// BlockRef: a reference to one encoded block held in memory, with whatever owns
// its bytes kept alive. It is how the read path sees data regardless of where
// it lives (an ingester's open chunk, a closed chunk awaiting flush, a chunk
// fetched from the object store): every source becomes a list of BlockRefs that
// are decoded with chunk::DecodeBlock and scanned the same way.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>

namespace skald::chunk {

struct BlockRef {
  std::shared_ptr<const void> owner;  // keeps `bytes` alive
  std::string_view bytes;             // the stored block (input to DecodeBlock)
  std::string_view filter;            // its serialized filter (gram_filter.h); empty = none
  int64_t min_ts = 0;
  int64_t max_ts = 0;
  uint32_t entries = 0;
  uint32_t uncompressed_size = 0;

  // Does the block hold any entry with from <= ts < through?
  bool Overlaps(int64_t from, int64_t through) const { return max_ts >= from && min_ts < through; }
};

}  // namespace skald::chunk
