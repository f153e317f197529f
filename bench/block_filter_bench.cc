// Block filter measurement (chunk/gram_filter.h): space overhead against the compressed block
// and false-positive rate for literals absent from a block, per bits-per-trigram setting, on
// loghub-derived lines (skald-bench's generator: digit runs, hex ids and IPs randomised).
//
//   build/release/bench/block_filter_bench [--blocks-per-source=N]
//
// Blocks are cut at 256 KiB of encoded entries (the ingester's chunk_block_size default) and
// compressed with zstd (the default chunk_encoding). For each block, needles of four kinds
// that occur in none of its lines (compared ASCII case-insensitively) are probed:
//   word   alphanumeric tokens of 4+ bytes taken from the other loghub sources
//   hex12  random 12-digit lowercase hex strings (a trace or request id fragment)
//   num8   random 8-digit decimal numbers
//   bench  skald-bench's absent literal "QQ_never_present_QQ"
// A false positive is a probe that answers "may contain". Also printed: filter build cost per
// line byte and probe cost per needle. Nothing is asserted: this prints what it measured.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <unordered_set>
#include <vector>

#include "chunk/block.h"
#include "chunk/gram_filter.h"
#include "core/ascii.h"
#include "tools/bench/corpus.h"

namespace {

using skald::chunk::GramFilter;
using skald::chunk::GramFilterBuilder;

struct Block {
  std::vector<std::string> lines;
  std::string lowered;  // all lines lowered, '\n'-separated (for the absence oracle)
  size_t stored = 0;    // zstd-compressed block bytes
  size_t raw = 0;       // line bytes
  size_t source = 0;
};

bool Absent(const Block& b, const std::string& needle_lower) {
  return b.lowered.find(needle_lower) == std::string::npos;
}

double Seconds(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  int blocks_per_source = 6;
  for (int i = 1; i < argc; i++) {
    if (std::strncmp(argv[i], "--blocks-per-source=", 20) == 0) {
      blocks_per_source = std::max(1, std::atoi(argv[i] + 20));
    }
  }
  auto corpus = skald::bench::Corpus::LoadDir(SKALD_SOURCE_DIR "/testdata/loghub");
  if (!corpus.ok()) {
    std::fprintf(stderr, "%s\n", corpus.status().ToString().c_str());
    return 1;
  }
  const auto& sources = corpus->sources();

  // Cut blocks the way the ingester does.
  std::vector<Block> blocks;
  skald::chunk::BlockBuilder bb;
  for (size_t s = 0; s < sources.size(); s++) {
    skald::bench::LineGenerator gen(&sources[s], 42, s);
    std::string line;
    for (int k = 0; k < blocks_per_source; k++) {
      Block b;
      b.source = s;
      int64_t ts = 0;
      while (bb.uncompressed_bytes() < (256u << 10)) {
        gen.Next(&line);
        bb.Add(ts++, line, {});
        b.lines.push_back(line);
        b.raw += line.size();
        b.lowered += skald::AsciiLower(line);
        b.lowered.push_back('\n');
      }
      b.stored = bb.Finish(skald::chunk::Codec::kZstd).bytes.size();
      blocks.push_back(std::move(b));
    }
  }

  // Needles per kind.
  skald::bench::Rng rng(7);
  std::vector<std::vector<std::string>> words(sources.size());
  for (size_t s = 0; s < sources.size(); s++) {
    std::unordered_set<std::string> seen;
    for (const auto& t : sources[s].templates) {
      const std::string& x = t.text;
      for (size_t i = 0; i < x.size();) {
        size_t j = i;
        while (j < x.size() && std::isalnum(static_cast<unsigned char>(x[j]))) j++;
        if (j - i >= 4 && seen.insert(x.substr(i, j - i)).second)
          words[s].push_back(x.substr(i, j - i));
        i = j + 1;
      }
    }
  }
  auto random_string = [&](const char* alphabet, size_t n) {
    std::string out;
    const size_t k = std::strlen(alphabet);
    for (size_t i = 0; i < n; i++) out.push_back(alphabet[rng.Below(k)]);
    return out;
  };
  const char* kinds[] = {"word", "hex12", "num8", "bench"};
  constexpr int kNeedlesPerBlock = 200;
  // needles[b][kind] = absent needles of that kind for block b
  std::vector<std::vector<std::vector<std::string>>> needles(
      blocks.size(), std::vector<std::vector<std::string>>(4));
  for (size_t bi = 0; bi < blocks.size(); bi++) {
    const Block& b = blocks[bi];
    for (int tries = 0; tries < 20 * kNeedlesPerBlock && needles[bi][0].size() < kNeedlesPerBlock;
         tries++) {
      const size_t s = rng.Below(sources.size());
      if (s == b.source || words[s].empty()) continue;
      std::string w = words[s][rng.Below(words[s].size())];
      if (Absent(b, skald::AsciiLower(w))) needles[bi][0].push_back(w);
    }
    for (int i = 0; i < kNeedlesPerBlock; i++) {
      std::string h = random_string("0123456789abcdef", 12);
      if (Absent(b, h)) needles[bi][1].push_back(h);
      std::string n = random_string("0123456789", 8);
      if (Absent(b, n)) needles[bi][2].push_back(n);
    }
    needles[bi][3].push_back("QQ_never_present_QQ");
  }

  size_t raw = 0, stored = 0, lines = 0;
  for (const Block& b : blocks) {
    raw += b.raw;
    stored += b.stored;
    lines += b.lines.size();
  }
  std::printf(
      "blocks: %zu (256 KiB cut, zstd), %zu lines, %.1f MB of lines, %.2f MB stored "
      "(ratio %.1f)\n",
      blocks.size(), lines, raw / 1e6, stored / 1e6, static_cast<double>(raw) / stored);
  std::printf("\n%-6s %9s %9s %8s", "bits", "filter_MB", "overhead", "fill");
  for (const char* k : kinds) std::printf(" %8s", (std::string("fp_") + k).c_str());
  std::printf(" %10s %10s\n", "build_ns/B", "probe_ns");

  for (double bits : {2.0, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0}) {
    GramFilterBuilder fb(bits);
    std::vector<std::string> filters(blocks.size());
    const auto t0 = std::chrono::steady_clock::now();
    for (size_t bi = 0; bi < blocks.size(); bi++) {
      for (const auto& l : blocks[bi].lines) fb.AddLine(l);
      fb.Finish(&filters[bi]);
    }
    const double build = Seconds(t0);
    size_t fbytes = 0;
    double fill = 0;
    size_t probes[4] = {}, hits[4] = {};
    const auto t1 = std::chrono::steady_clock::now();
    for (size_t bi = 0; bi < blocks.size(); bi++) {
      fbytes += filters[bi].size();
      const GramFilter f = GramFilter::Trusted(filters[bi]);
      fill += f.Fill();
      for (int k = 0; k < 4; k++) {
        for (const auto& n : needles[bi][k]) {
          probes[k]++;
          hits[k] += f.MayContain(n) ? 1 : 0;
        }
      }
    }
    const double probe = Seconds(t1);
    size_t all_probes = 0;
    for (size_t p : probes) all_probes += p;
    std::printf("%-6.1f %9.3f %8.2f%% %8.3f", bits, fbytes / 1e6, 100.0 * fbytes / stored,
                fill / blocks.size());
    for (int k = 0; k < 4; k++) {
      std::printf(" %7.2f%%", probes[k] ? 100.0 * hits[k] / probes[k] : 0.0);
    }
    std::printf(" %10.2f %10.1f\n", build * 1e9 / raw, probe * 1e9 / all_probes);
  }
  std::printf("\nneedles probed per kind:");
  for (int k = 0; k < 4; k++) {
    size_t n = 0;
    for (const auto& per : needles) n += per[k].size();
    std::printf(" %s=%zu", kinds[k], n);
  }
  std::printf("\n");
  return 0;
}
