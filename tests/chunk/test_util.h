// Shared helpers for chunk tests: random entries, block/chunk building, allocation counting.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "chunk/chunk.h"

namespace skald::chunk::testing {

// Counts global operator new calls while enabled (defined in block_test.cc).
struct AllocCounter {
  static void Start();
  static size_t Stop();  // returns allocations since Start
};

inline std::vector<OwnedEntry> RandomEntries(size_t n, uint64_t seed, int64_t start_ts,
                                             bool with_metadata) {
  std::mt19937_64 rng(seed);
  std::vector<OwnedEntry> out;
  out.reserve(n);
  int64_t ts = start_ts;
  static const char* kWords[] = {"GET",
                                 "POST",
                                 "/api/v1/push",
                                 "status=200",
                                 "level=error",
                                 "caller=main.go:42",
                                 "msg=\"hello world\"",
                                 "ütf8-✓",
                                 ""};
  for (size_t i = 0; i < n; ++i) {
    OwnedEntry e;
    ts += static_cast<int64_t>(rng() % 3 == 0 ? 0 : rng() % 5'000'000'000ull);  // ties too
    e.ts = ts;
    size_t words = rng() % 12;  // 0 words -> empty line
    for (size_t w = 0; w < words; ++w) {
      if (w) e.line += ' ';
      e.line += kWords[rng() % 9];
    }
    if (rng() % 50 == 0) e.line.append(rng() % 3000, static_cast<char>('a' + rng() % 26));
    if (rng() % 40 == 0) e.line.push_back('\0');  // binary-safe
    if (with_metadata && rng() % 3 != 0) {
      size_t pairs = 1 + rng() % 3;
      for (size_t p = 0; p < pairs; ++p) {
        switch (rng() % 4) {
          case 0:
            e.metadata.emplace_back("trace_id", std::to_string(rng()));
            break;  // unique
          case 1:
            e.metadata.emplace_back("pod", "pod-" + std::to_string(rng() % 4));
            break;
          case 2:
            e.metadata.emplace_back("empty", "");
            break;
          default:
            e.metadata.emplace_back("", "no name");
            break;
        }
      }
    }
    out.push_back(std::move(e));
  }
  return out;
}

inline void AddEntry(BlockBuilder* b, const OwnedEntry& e) {
  std::vector<MetadataPair> md;
  for (const auto& [k, v] : e.metadata) md.push_back({k, v});
  b->Add(e.ts, e.line, md);
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
  std::vector<OwnedEntry> out;
  for (size_t i = 0; i < b.size(); ++i) {
    OwnedEntry e;
    e.ts = b.ts(i);
    e.line = std::string(b.line(i));
    for (size_t j = 0; j < b.metadata_count(i); ++j) {
      e.metadata.emplace_back(std::string(b.metadata(i, j).name),
                              std::string(b.metadata(i, j).value));
    }
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace skald::chunk::testing
