// Writes the seed corpus of index_decode_fuzz: valid index files in each of
// the fuzzer's three modes, so fuzzing starts from files that open instead of
// from noise.
//
//   build/fuzz/fuzz/index_decode_corpus_gen fuzz/corpus/index_decode_fuzz
//
// Seeds (file name = what it holds; the first byte is the fuzzer's mode):
//   file-<name>       mode 0: an index file as the writer produced it
//   fixsum-<name>     mode 1: the same file (the fuzzer recomputes checksums)
//   structured-<n>    mode 2: bytes the fuzzer's FuzzedDataProvider turns into
//                     series and chunks (deterministic pseudo-random)
// Rerun it when the index format changes (docs/formats/index.md).
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "chunk/gram_filter.h"
#include "core/labels.h"
#include "index/index_file.h"

namespace {

using skald::Label;
using skald::Labels;
using skald::index::ChunkRef;
using skald::index::IndexFileWriter;

Labels L(std::vector<std::pair<std::string, std::string>> pairs) {
  std::vector<Label> out;
  for (auto& [n, v] : pairs) out.push_back(Label{n, v});
  return Labels(std::move(out));
}

struct Spec {
  std::string name;
  std::vector<Labels> series;
  int chunks_per_series;
};

std::string Build(const Spec& spec) {
  IndexFileWriter w;
  int64_t ts = 1'700'000'000'000'000'000;
  for (const Labels& l : spec.series) {
    const uint64_t fp = l.Fingerprint();
    w.AddSeries(fp, l);
    for (int c = 0; c < spec.chunks_per_series; ++c) {
      ChunkRef ref;
      ref.fingerprint = fp;
      ref.min_ts = ts;
      ref.max_ts = ts + 3'600'000'000'000;
      ref.entries = 100 + static_cast<uint32_t>(c);
      ref.compressed_bytes = 4096;
      ref.uncompressed_bytes = 16384;
      // Odd chunks are packed: their keys are coded against the pack's prefix.
      ref.key = c % 2 == 0 ? "fake/" + std::to_string(fp) + "/" + std::to_string(c)
                           : "packs/fake/" + std::to_string(c) + "#" + std::to_string(fp) + "+1";
      // Packed chunks carry a detached filter, as a flush of small streams writes them.
      if (c % 2 == 1) {
        skald::chunk::GramFilterBuilder filter;
        filter.AddLine("level=info msg=\"request served\" chunk=" + std::to_string(c));
        filter.Finish(&ref.filter);
      }
      w.AddChunk(ref);
      ts += 1'000'000'000;
    }
  }
  auto bytes = w.Finish();
  if (!bytes.ok()) {
    std::fprintf(stderr, "%s: %s\n", spec.name.c_str(), bytes.status().ToString().c_str());
    std::exit(1);
  }
  return *bytes;
}

void Write(const std::string& dir, const std::string& name, char mode, const std::string& body) {
  std::ofstream out(dir + "/" + name, std::ios::binary);
  out.put(mode);
  out.write(body.data(), static_cast<std::streamsize>(body.size()));
  if (!out) {
    std::fprintf(stderr, "cannot write %s/%s\n", dir.c_str(), name.c_str());
    std::exit(1);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <corpus dir>\n", argv[0]);
    return 2;
  }
  const std::string dir = argv[1];
  std::vector<Spec> specs = {
      {"empty", {}, 0},
      {"one-series-no-chunks", {L({{"app", "a"}})}, 0},
      {"one-series", {L({{"app", "api"}, {"env", "prod"}})}, 2},
      {"shared-values",
       {L({{"app", "a"}, {"env", "prod"}}), L({{"app", "b"}, {"env", "prod"}}),
        L({{"app", "a"}, {"env", "dev"}, {"pod", "x1"}}), L({{"job", "j"}})},
       1},
      {"many-series", {}, 1},
  };
  for (int i = 0; i < 40; ++i) {
    specs.back().series.push_back(L({{"app", "app" + std::to_string(i % 5)},
                                     {"pod", "pod-" + std::to_string(i)},
                                     {"zone", i % 3 ? "z1" : "z2"}}));
  }
  for (const Spec& s : specs) {
    const std::string file = Build(s);
    Write(dir, "file-" + s.name, 0, file);
    Write(dir, "fixsum-" + s.name, 1, file);
  }
  std::mt19937_64 rng(7);
  for (int i = 0; i < 6; ++i) {
    std::string body(64 + 48 * i, '\0');
    for (char& c : body) c = static_cast<char>(rng() & 0x7f);
    Write(dir, "structured-" + std::to_string(i), 2, body);
  }
  return 0;
}
