// size_study: where the bytes of Skald's chunks go, and what block size / zstd level /
// dictionary / column encoding would shrink them. A one-off measurement tool (not a Google
// Benchmark): it regenerates the load of
//
//   skald-bench push -streams 1000 -lines 2000000 -seed 1
//
// in memory (same corpus, same per-stream line generator, same timestamps up to the choice of
// -ts-end), runs every variant single-threaded over all streams and prints markdown tables.
// CPU figures are thread CPU time (CLOCK_THREAD_CPUTIME_ID), median of --runs runs, per raw
// byte of the column being compressed (line bytes unless stated otherwise).
//
// Usage: size_study [--corpus DIR] [--streams N] [--lines N] [--seed N] [--runs N]
//                   [--slow-runs N] [--skip-slow] [--sections 123456]
#include <lz4.h>
#include <time.h>
#include <zdict.h>
#include <zstd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "chunk/block.h"
#include "chunk/chunk.h"
#include "core/coding.h"
#include "core/labels.h"
#include "tools/bench/corpus.h"

namespace {

using skald::bench::Corpus;
using skald::bench::LineGenerator;

// ---------------------------------------------------------------------------------------------
// Options and data

struct Options {
  std::string corpus = SKALD_SOURCE_DIR "/testdata/loghub";
  int streams = 1000;
  int64_t lines = 2000000;
  uint64_t seed = 1;
  int hosts = 10;
  int64_t ts_span_ns = 120LL * 1000000000LL;      // skald-bench push default
  int64_t ts_end_ns = 1735689600LL * 1000000000;  // push uses "now"; fixed here (2025-01-01)
  int runs = 3;                                   // timing runs per variant (median)
  int slow_runs = 1;                              // for zstd level >= 19
  bool skip_slow = false;
  std::string sections = "123456";  // which sections to run (5 and 6 run together)
  bool Has(char c) const { return sections.find(c) != std::string::npos; }
};

struct Stream {
  int id = 0;
  size_t source = 0;
  std::string labels;         // canonical
  std::string data;           // line bytes back to back
  std::vector<uint32_t> off;  // lines+1 offsets into data
  std::vector<int64_t> ts;
  size_t n() const { return ts.size(); }
  std::string_view line(size_t i) const {
    return std::string_view(data).substr(off[i], off[i + 1] - off[i]);
  }
};

double CpuNs() {
  timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) * 1e9 + static_cast<double>(t.tv_nsec);
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  if (v.empty()) return 0;
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

// Runs fn `runs` times; returns the median thread CPU ns of one run.
double TimeMedian(int runs, const std::function<void()>& fn) {
  std::vector<double> t;
  for (int r = 0; r < runs; ++r) {
    double a = CpuNs();
    fn();
    t.push_back(CpuNs() - a);
  }
  return Median(t);
}

std::string Num(uint64_t v) {  // 12,345,678
  std::string s = std::to_string(v), o;
  for (size_t i = 0; i < s.size(); ++i) {
    o.push_back(s[i]);
    size_t left = s.size() - i - 1;
    if (left > 0 && left % 3 == 0) o.push_back(',');
  }
  return o;
}

std::string Fmt(const char* f, double v) {
  char b[64];
  std::snprintf(b, sizeof b, f, v);
  return b;
}

std::vector<Stream> Generate(const Options& o, const Corpus& corpus) {
  // As MakePushPlan / EncodeConnectionRequests (plain line format): stream s reads source
  // s % sources, has lines/streams lines (+1 for s < lines % streams), line k at t0 + k*step.
  const int64_t per_stream = (o.lines + o.streams - 1) / o.streams;
  const int64_t step = std::max<int64_t>(1, o.ts_span_ns / std::max<int64_t>(1, per_stream));
  const int64_t t0 = o.ts_end_ns - o.ts_span_ns;
  const auto& sources = corpus.sources();
  std::vector<Stream> out(static_cast<size_t>(o.streams));
  std::string line;
  for (int s = 0; s < o.streams; ++s) {
    Stream& st = out[static_cast<size_t>(s)];
    st.id = s;
    st.source = static_cast<size_t>(s) % sources.size();
    std::string lbl = "{job=\"bench\", host=\"host-" + std::to_string(s % o.hosts) +
                      "\", stream=\"" + std::to_string(s) + "\"}";
    auto parsed = skald::ParseLabels(lbl);
    st.labels = parsed.ok() ? parsed->ToString() : lbl;
    const int64_t n = o.lines / o.streams + (s < o.lines % o.streams ? 1 : 0);
    LineGenerator gen(&sources[st.source], o.seed, static_cast<uint64_t>(s));
    st.off.push_back(0);
    for (int64_t k = 0; k < n; ++k) {
      gen.Next(&line);
      st.data.append(line);
      st.off.push_back(static_cast<uint32_t>(st.data.size()));
      st.ts.push_back(t0 + k * step);
    }
  }
  return out;
}

// Block cuts as the ingester makes them (AppendLocked): after appending an entry, cut when
// head line bytes + 12 * head entries >= block_size. Returns [begin, end) line ranges.
std::vector<std::pair<size_t, size_t>> Cut(const Stream& s, size_t block_size) {
  std::vector<std::pair<size_t, size_t>> r;
  size_t begin = 0, bytes = 0;
  for (size_t i = 0; i < s.n(); ++i) {
    bytes += s.off[i + 1] - s.off[i];
    if (bytes + 12 * (i + 1 - begin) >= block_size) {
      r.emplace_back(begin, i + 1);
      begin = i + 1;
      bytes = 0;
    }
  }
  if (begin < s.n()) r.emplace_back(begin, s.n());
  return r;
}

// Line-column blocks of every stream for one block size (views into the streams' data).
struct BlockSet {
  std::vector<std::string_view> blocks;
  std::vector<size_t> stream;  // stream index of each block
  std::vector<uint32_t> entries;
};

BlockSet LineBlocks(const std::vector<Stream>& streams, size_t block_size) {
  BlockSet b;
  for (size_t si = 0; si < streams.size(); ++si) {
    const Stream& s = streams[si];
    for (auto [lo, hi] : Cut(s, block_size)) {
      b.blocks.push_back(std::string_view(s.data).substr(s.off[lo], s.off[hi] - s.off[lo]));
      b.stream.push_back(si);
      b.entries.push_back(static_cast<uint32_t>(hi - lo));
    }
  }
  return b;
}

// ---------------------------------------------------------------------------------------------
// Compression helpers

struct Compressed {
  std::vector<std::string> out;  // one compressed frame per block
  uint64_t bytes = 0;
  double ns = 0;      // median CPU ns for compressing all blocks
  double dec_ns = 0;  // median CPU ns for decompressing all blocks
};

// Compresses every block with compress(in, out_buffer, bound) -> stored size (0 = failure),
// timing the whole pass (median of `runs`); fills c.out and c.bytes.
template <typename Bound, typename Fn>
void CompressBlocks(const BlockSet& b, int runs, const char* what, Bound bound_of, Fn compress,
                    Compressed* c) {
  c->out.resize(b.blocks.size());
  std::string buf;
  c->ns = TimeMedian(runs, [&] {
    c->bytes = 0;
    for (size_t i = 0; i < b.blocks.size(); ++i) {
      std::string_view in = b.blocks[i];
      const size_t bound = bound_of(in.size());
      if (buf.size() < bound) buf.resize(bound);
      const size_t n = compress(in, buf.data(), bound);
      if (n == 0 && !in.empty()) {
        std::fprintf(stderr, "%s compression failed\n", what);
        std::exit(1);
      }
      c->bytes += n;
      c->out[i].assign(buf.data(), n);
    }
  });
}

// zstd with ZSTD_compressCCtx (what Skald does) at `level`; or with ZSTD_compress2 and
// long-distance matching when ldm.
Compressed Zstd(const BlockSet& b, int level, int runs, bool ldm = false,
                const ZSTD_CDict* cdict = nullptr, const ZSTD_DDict* ddict = nullptr,
                bool keep = false) {
  Compressed c;
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  if (ldm) {
    ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, level);
    ZSTD_CCtx_setParameter(cctx, ZSTD_c_enableLongDistanceMatching, 1);
  }
  CompressBlocks(
      b, runs, "zstd", [](size_t n) { return ZSTD_compressBound(n); },
      [&](std::string_view in, char* out, size_t bound) -> size_t {
        size_t n;
        if (cdict != nullptr) {
          n = ZSTD_compress_usingCDict(cctx, out, bound, in.data(), in.size(), cdict);
        } else if (ldm) {
          n = ZSTD_compress2(cctx, out, bound, in.data(), in.size());
        } else {
          n = ZSTD_compressCCtx(cctx, out, bound, in.data(), in.size(), level);
        }
        if (ZSTD_isError(n)) {
          std::fprintf(stderr, "zstd: %s\n", ZSTD_getErrorName(n));
          std::exit(1);
        }
        return n;
      },
      &c);
  ZSTD_freeCCtx(cctx);
  // Decompression (verifies the round trip once).
  ZSTD_DCtx* dctx = ZSTD_createDCtx();
  std::string dst;
  c.dec_ns = TimeMedian(std::max(runs, 3), [&] {
    for (size_t i = 0; i < b.blocks.size(); ++i) {
      dst.resize(b.blocks[i].size());
      size_t r =
          ddict != nullptr
              ? ZSTD_decompress_usingDDict(dctx, dst.data(), dst.size(), c.out[i].data(),
                                           c.out[i].size(), ddict)
              : ZSTD_decompressDCtx(dctx, dst.data(), dst.size(), c.out[i].data(), c.out[i].size());
      if (ZSTD_isError(r) || r != dst.size()) {
        std::fprintf(stderr, "zstd decompress failed\n");
        std::exit(1);
      }
    }
  });
  for (size_t i = 0; i < b.blocks.size(); ++i) {
    dst.resize(b.blocks[i].size());
    ZSTD_decompressDCtx(dctx, dst.data(), dst.size(), c.out[i].data(), c.out[i].size());
    if (ddict == nullptr && dst != b.blocks[i]) {
      std::fprintf(stderr, "zstd round trip mismatch\n");
      std::exit(1);
    }
    if (ddict != nullptr) break;
  }
  ZSTD_freeDCtx(dctx);
  if (!keep) std::vector<std::string>().swap(c.out);
  return c;
}

Compressed Lz4(const BlockSet& b, int runs) {
  Compressed c;
  CompressBlocks(
      b, runs, "lz4",
      [](size_t n) { return static_cast<size_t>(LZ4_compressBound(static_cast<int>(n))); },
      [](std::string_view in, char* out, size_t bound) -> size_t {
        const int n = LZ4_compress_default(in.data(), out, static_cast<int>(in.size()),
                                           static_cast<int>(bound));
        return n > 0 ? static_cast<size_t>(n) : 0;
      },
      &c);
  std::string dst;
  c.dec_ns = TimeMedian(std::max(runs, 3), [&] {
    for (size_t i = 0; i < b.blocks.size(); ++i) {
      dst.resize(b.blocks[i].size());
      int r = LZ4_decompress_safe(c.out[i].data(), dst.data(), static_cast<int>(c.out[i].size()),
                                  static_cast<int>(dst.size()));
      if (r != static_cast<int>(dst.size())) {
        std::fprintf(stderr, "lz4 round trip failed\n");
        std::exit(1);
      }
    }
  });
  for (size_t i = 0; i < b.blocks.size(); ++i) {
    dst.resize(b.blocks[i].size());
    LZ4_decompress_safe(c.out[i].data(), dst.data(), static_cast<int>(c.out[i].size()),
                        static_cast<int>(dst.size()));
    if (dst != b.blocks[i]) {
      std::fprintf(stderr, "lz4 round trip mismatch\n");
      std::exit(1);
    }
  }
  return c;
}

// ---------------------------------------------------------------------------------------------
// Section 1: the baseline (what Skald stores today)

struct Breakdown {
  uint64_t ts = 0, len = 0, lines = 0, meta = 0;  // stored column bytes
  uint64_t ts_raw = 0, len_raw = 0, lines_raw = 0, meta_raw = 0;
  uint64_t filter = 0;          // serialized block filters
  uint64_t block_framing = 0;   // entry count + column headers + block CRC
  uint64_t chunk_header = 0;    // preamble + header body (tenant, fp, labels, ts, entries) + crc
  uint64_t chunk_labels = 0;    // of which: the labels string
  uint64_t chunk_index = 0;     // block index body + crc
  uint64_t filter_framing = 0;  // filter length prefixes + filter section crc
  uint64_t total = 0;
  uint64_t chunks = 0, blocks = 0;
};

void ParseBlock(std::string_view b, Breakdown* bd) {
  const char* p = b.data();
  const char* end = p + b.size();
  uint64_t n;
  skald::GetUvarint(&p, end, &n);
  uint64_t raw[4], stored[4];
  for (int k = 0; k < 4; ++k) {
    ++p;  // codec
    skald::GetUvarint(&p, end, &raw[k]);
    skald::GetUvarint(&p, end, &stored[k]);
  }
  const uint64_t header = static_cast<uint64_t>(p - b.data());
  bd->ts += stored[0];
  bd->len += stored[1];
  bd->lines += stored[2];
  bd->meta += stored[3];
  bd->ts_raw += raw[0];
  bd->len_raw += raw[1];
  bd->lines_raw += raw[2];
  bd->meta_raw += raw[3];
  bd->block_framing += header + 4;
  if (header + stored[0] + stored[1] + stored[2] + stored[3] + 4 != b.size()) {
    std::fprintf(stderr, "block parse mismatch\n");
    std::exit(1);
  }
}

struct BaselineResult {
  Breakdown bd;
  double total_ns = 0;   // median: Add + Finish + ChunkWriter over all streams
  double finish_ns = 0;  // of which BlockBuilder::Finish (column compression + filter)
};

BaselineResult Baseline(const std::vector<Stream>& streams, int runs, size_t block_size,
                        size_t target_size) {
  BaselineResult res;
  std::vector<double> tot, fin;
  for (int r = 0; r < runs; ++r) {
    Breakdown bd;
    double finish = 0, add_start = CpuNs();
    double excluded = 0;  // breakdown parsing, not part of the cost
    skald::chunk::BlockBuilder builder;
    for (const Stream& s : streams) {
      skald::chunk::ChunkWriter writer(skald::chunk::Codec::kZstd, "fake",
                                       skald::FingerprintOf(s.labels), s.labels);
      std::vector<skald::chunk::EncodedBlock> blocks;
      size_t open_compressed = 0;
      auto close = [&] {
        if (writer.block_count() == 0) return;
        std::string chunk = writer.Finish();
        double a = CpuNs();
        bd.total += chunk.size();
        bd.chunks++;
        const uint32_t H = skald::DecodeFixed32(chunk.data() + 8);
        const uint32_t I = skald::DecodeFixed32(chunk.data() + 12);
        const uint32_t F = skald::DecodeFixed32(chunk.data() + 16);
        bd.chunk_header += 20 + H + 4;
        bd.chunk_labels += s.labels.size();
        bd.chunk_index += I + 4;
        bd.filter_framing += F + 4;  // filter bytes are subtracted below
        excluded += CpuNs() - a;
      };
      auto cut = [&](size_t lo, size_t hi) {
        for (size_t i = lo; i < hi; ++i) builder.Add(s.ts[i], s.line(i), {});
        double a = CpuNs();
        skald::chunk::EncodedBlock b = builder.Finish(skald::chunk::Codec::kZstd);
        finish += CpuNs() - a;
        a = CpuNs();
        ParseBlock(b.bytes, &bd);
        bd.filter += b.filter.size();
        bd.blocks++;
        excluded += CpuNs() - a;
        open_compressed += b.bytes.size();
        writer.AddBlock(std::move(b));
        if (open_compressed >= target_size) {
          close();
          open_compressed = 0;
        }
      };
      // The ingester appends one entry at a time and cuts when the head is full; the last
      // partial head is cut when the stream is flushed.
      for (auto [lo, hi] : Cut(s, block_size)) cut(lo, hi);
      close();
    }
    tot.push_back(CpuNs() - add_start - excluded);
    fin.push_back(finish);
    bd.filter_framing -= bd.filter;
    res.bd = bd;
  }
  res.total_ns = Median(tot);
  res.finish_ns = Median(fin);
  return res;
}

// ---------------------------------------------------------------------------------------------
// Section 4: timestamp encodings

std::string TsZigzagDeltas(const int64_t* ts, size_t n) {  // today's TS column
  std::string o;
  int64_t prev = 0;
  for (size_t i = 0; i < n; ++i) {
    const int64_t v = i == 0 ? ts[0] : static_cast<int64_t>(uint64_t(ts[i]) - uint64_t(prev));
    skald::PutUvarint(&o, skald::ZigZagEncode(v));
    prev = ts[i];
  }
  return o;
}

std::string TsDeltaOfDelta(const int64_t* ts, size_t n) {
  std::string o;
  int64_t prev = 0, prev_delta = 0;
  for (size_t i = 0; i < n; ++i) {
    if (i == 0) {
      skald::PutUvarint(&o, skald::ZigZagEncode(ts[0]));
    } else {
      const int64_t d = static_cast<int64_t>(uint64_t(ts[i]) - uint64_t(prev));
      skald::PutUvarint(&o, skald::ZigZagEncode(i == 1 ? d : d - prev_delta));
      prev_delta = d;
    }
    prev = ts[i];
  }
  return o;
}

std::string TsFixedDeltas(const int64_t* ts, size_t n) {
  std::string o;
  int64_t prev = 0;
  for (size_t i = 0; i < n; ++i) {
    const int64_t v = i == 0 ? ts[0] : static_cast<int64_t>(uint64_t(ts[i]) - uint64_t(prev));
    skald::PutFixed64(&o, static_cast<uint64_t>(v));
    prev = ts[i];
  }
  return o;
}

// Stored size as Skald would store the column: zstd-1 when >= 64 bytes and it shrinks.
uint64_t StoredZstd(ZSTD_CCtx* cctx, const std::string& raw, std::string* buf, int level = 1) {
  if (raw.size() < 64) return raw.size();
  buf->resize(ZSTD_compressBound(raw.size()));
  size_t n = ZSTD_compressCCtx(cctx, buf->data(), buf->size(), raw.data(), raw.size(), level);
  if (ZSTD_isError(n) || n >= raw.size()) return raw.size();
  return n;
}

// ---------------------------------------------------------------------------------------------

void Usage() {
  std::fprintf(stderr,
               "usage: size_study [--corpus DIR] [--streams N] [--lines N] [--seed N] "
               "[--runs N] [--slow-runs N] [--skip-slow] [--sections 123456]\n");
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto val = [&]() -> std::string {
      if (i + 1 >= argc) Usage();
      return argv[++i];
    };
    if (a == "--corpus")
      o.corpus = val();
    else if (a == "--streams")
      o.streams = std::atoi(val().c_str());
    else if (a == "--lines")
      o.lines = std::atoll(val().c_str());
    else if (a == "--seed")
      o.seed = std::strtoull(val().c_str(), nullptr, 10);
    else if (a == "--runs")
      o.runs = std::atoi(val().c_str());
    else if (a == "--slow-runs")
      o.slow_runs = std::atoi(val().c_str());
    else if (a == "--skip-slow")
      o.skip_slow = true;
    else if (a == "--sections")
      o.sections = val();
    else
      Usage();
  }
  auto corpus_or = Corpus::LoadDir(o.corpus);
  if (!corpus_or.ok()) {
    std::fprintf(stderr, "corpus: %s\n", corpus_or.status().ToString().c_str());
    return 1;
  }
  const Corpus& corpus = *corpus_or;
  const size_t nsrc = corpus.sources().size();

  double g0 = CpuNs();
  std::vector<Stream> streams = Generate(o, corpus);
  double gen_s = (CpuNs() - g0) / 1e9;
  uint64_t raw = 0, nlines = 0;
  for (const Stream& s : streams) {
    raw += s.data.size();
    nlines += s.n();
  }
  const double rawd = static_cast<double>(raw);
  auto nsb = [&](double ns) { return Fmt("%.2f", ns / rawd); };
  auto ratio = [&](uint64_t b) { return Fmt("%.2f", rawd / static_cast<double>(b)); };
  auto bpl = [&](uint64_t b) {
    return Fmt("%.2f", static_cast<double>(b) / static_cast<double>(nlines));
  };

  std::printf("# Skald chunk size study\n\n");
  std::printf(
      "Load: %d streams, %s lines, seed %llu, corpus %s (%zu sources); raw line bytes "
      "%s (%.1f MB), %.1f B/line; generated in %.1f s CPU. Timing runs: %d (level 19: "
      "%d). ns/B = thread CPU ns per raw line byte (median).\n\n",
      o.streams, Num(nlines).c_str(), static_cast<unsigned long long>(o.seed), o.corpus.c_str(),
      nsrc, Num(raw).c_str(), rawd / 1e6, rawd / double(nlines), gen_s, o.runs, o.slow_runs);
  std::fflush(stdout);

  // ---- 1. Baseline.
  if (o.Has('1')) {
    BaselineResult b = Baseline(streams, o.runs, 256 << 10, 1572864);
    const Breakdown& d = b.bd;
    auto row = [&](const char* name, uint64_t stored, uint64_t rawb) {
      std::printf("| %s | %s | %s | %.2f%% | %s |\n", name, Num(stored).c_str(),
                  rawb ? Num(rawb).c_str() : "", 100.0 * double(stored) / double(d.total),
                  bpl(stored).c_str());
    };
    std::printf("## 1. Baseline: BlockBuilder 256 KiB cut, zstd-1 per column, ChunkWriter v2\n\n");
    std::printf(
        "%s chunks, %s blocks (%.2f blocks/stream). Total stored %s bytes = %.1f MB, "
        "ratio %s vs raw line bytes. CPU: whole path (Add + Finish + ChunkWriter) "
        "%s ns/B, of which Finish (compress + filter serialisation) %s ns/B.\n\n",
        Num(d.chunks).c_str(), Num(d.blocks).c_str(), double(d.blocks) / o.streams,
        Num(d.total).c_str(), double(d.total) / 1e6, ratio(d.total).c_str(),
        nsb(b.total_ns).c_str(), nsb(b.finish_ns).c_str());
    std::printf(
        "| part | stored bytes | raw bytes | share | B/line |\n|---|---:|---:|---:|---:|\n");
    row("timestamps column", d.ts, d.ts_raw);
    row("lengths column", d.len, d.len_raw);
    row("lines column", d.lines, d.lines_raw);
    row("metadata column", d.meta, d.meta_raw);
    row("block gram filters", d.filter, 0);
    row("block framing (count, 4 column headers, CRC)", d.block_framing, 0);
    row("chunk preamble + header + CRC", d.chunk_header - d.chunk_labels, 0);
    row("chunk labels (in header)", d.chunk_labels, 0);
    row("chunk block index + CRC", d.chunk_index, 0);
    row("chunk filter section framing (len prefixes + CRC)", d.filter_framing, 0);
    const uint64_t sum = d.ts + d.len + d.lines + d.meta + d.filter + d.block_framing +
                         d.chunk_header + d.chunk_index + d.filter_framing;
    row("**total**", d.total, raw);
    if (sum != d.total) std::printf("\n(breakdown sums to %s, mismatch!)\n", Num(sum).c_str());
    std::printf("\n");
    std::fflush(stdout);
  }

  // Blocks of the lines column for each block size.
  const size_t kWhole = SIZE_MAX;
  struct Bs {
    const char* name;
    size_t size;
  };
  std::vector<Bs> sizes = {{"64 KiB", 64 << 10}, {"256 KiB", 256 << 10}, {"1 MiB", 1 << 20}};
  size_t longest = 0;
  for (const Stream& s : streams) longest = std::max(longest, s.data.size());
  if (longest > (2u << 20)) sizes.push_back({"4 MiB", 4 << 20});
  sizes.push_back({"whole stream", kWhole});

  // ---- 2. Lines column: block size x level.
  if (o.Has('2')) {
    std::printf("## 2. Lines column alone: block size x zstd level (ZSTD_compressCCtx)\n\n");
    std::printf(
        "Blocks cut with the ingester's rule (line bytes + 12*entries >= size). "
        "Ratio = raw line bytes / stored; dec = ZSTD_decompressDCtx.\n\n");
    std::printf(
        "| block | blocks | level | stored bytes | ratio | B/line | comp ns/B | "
        "dec ns/B |\n|---|---:|---:|---:|---:|---:|---:|---:|\n");
    for (const Bs& bs : sizes) {
      BlockSet b = LineBlocks(streams, bs.size);
      for (int level : {1, 3, 6, 9, 19}) {
        if (level >= 19 && o.skip_slow) continue;
        Compressed c = Zstd(b, level, level >= 19 ? o.slow_runs : o.runs);
        std::printf("| %s | %s | %d | %s | %s | %s | %s | %s |\n", bs.name,
                    Num(b.blocks.size()).c_str(), level, Num(c.bytes).c_str(),
                    ratio(c.bytes).c_str(), bpl(c.bytes).c_str(), nsb(c.ns).c_str(),
                    nsb(c.dec_ns).c_str());
        std::fflush(stdout);
      }
      if (bs.size == kWhole) {
        for (int level : {3, 6}) {
          Compressed c = Zstd(b, level, o.runs, /*ldm=*/true);
          std::printf("| %s | %s | %d +LDM | %s | %s | %s | %s | %s |\n", bs.name,
                      Num(b.blocks.size()).c_str(), level, Num(c.bytes).c_str(),
                      ratio(c.bytes).c_str(), bpl(c.bytes).c_str(), nsb(c.ns).c_str(),
                      nsb(c.dec_ns).c_str());
        }
      }
    }
    std::printf("\n");
    std::fflush(stdout);
  }

  // ---- 3. Trained dictionaries per corpus source.
  if (o.Has('3')) {
    std::printf("## 3. zstd dictionary per corpus source (lines column)\n\n");
    const size_t kDictSize = 64 << 10;
    std::vector<std::string> dicts(nsrc);
    uint64_t dict_bytes = 0;
    double train_ns = 0;
    for (size_t src = 0; src < nsrc; ++src) {
      // Samples: the first 10% of the lines of every stream of this source, one line each.
      std::string samples;
      std::vector<size_t> sizes_v;
      for (const Stream& s : streams) {
        if (s.source != src) continue;
        const size_t k = std::max<size_t>(1, s.n() / 10);
        for (size_t i = 0; i < k; ++i) {
          samples.append(s.line(i));
          sizes_v.push_back(s.line(i).size());
        }
      }
      std::string d(kDictSize, '\0');
      double a = CpuNs();
      size_t n = ZDICT_trainFromBuffer(d.data(), d.size(), samples.data(), sizes_v.data(),
                                       static_cast<unsigned>(sizes_v.size()));
      train_ns += CpuNs() - a;
      if (ZDICT_isError(n)) {
        std::fprintf(stderr, "ZDICT (source %zu): %s\n", src, ZDICT_getErrorName(n));
        return 1;
      }
      d.resize(n);
      dict_bytes += n;
      dicts[src] = std::move(d);
    }
    std::printf(
        "%zu dictionaries, %s bytes in total (counted once below); training (fastCover "
        "defaults, ZDICT_trainFromBuffer) took %.1f s CPU over ~10%% of the lines. "
        "Samples = single lines of the first 10%% of each stream of that source; the "
        "evaluation below compresses all lines, including those samples.\n\n",
        nsrc, Num(dict_bytes).c_str(), train_ns / 1e9);
    std::printf(
        "| block | level | dict | stored bytes (+dicts) | ratio | B/line | comp ns/B | "
        "dec ns/B |\n|---|---:|---|---:|---:|---:|---:|---:|\n");
    for (const Bs& bs :
         std::vector<Bs>{{"32 KiB", 32 << 10}, {"64 KiB", 64 << 10}, {"256 KiB", 256 << 10}}) {
      BlockSet all = LineBlocks(streams, bs.size);
      for (int level : {1, 3}) {
        if (bs.size < (256u << 10) && level != 1) continue;
        // Without dictionary, for reference.
        Compressed plain = Zstd(all, level, o.runs);
        std::printf("| %s | %d | no | %s | %s | %s | %s | %s |\n", bs.name, level,
                    Num(plain.bytes).c_str(), ratio(plain.bytes).c_str(), bpl(plain.bytes).c_str(),
                    nsb(plain.ns).c_str(), nsb(plain.dec_ns).c_str());
        // With: per source, its blocks with its dictionary (CDict built once, not timed).
        uint64_t bytes = 0;
        double ns = 0, dns = 0;
        for (size_t src = 0; src < nsrc; ++src) {
          BlockSet part;
          for (size_t i = 0; i < all.blocks.size(); ++i) {
            if (streams[all.stream[i]].source != src) continue;
            part.blocks.push_back(all.blocks[i]);
          }
          ZSTD_CDict* cd = ZSTD_createCDict(dicts[src].data(), dicts[src].size(), level);
          ZSTD_DDict* dd = ZSTD_createDDict(dicts[src].data(), dicts[src].size());
          Compressed c = Zstd(part, level, o.runs, false, cd, dd);
          ZSTD_freeCDict(cd);
          ZSTD_freeDDict(dd);
          bytes += c.bytes;
          ns += c.ns;
          dns += c.dec_ns;
        }
        std::printf("| %s | %d | 64 KiB/source | %s (+%s) | %s | %s | %s | %s |\n", bs.name, level,
                    Num(bytes + dict_bytes).c_str(), Num(dict_bytes).c_str(),
                    ratio(bytes + dict_bytes).c_str(), bpl(bytes + dict_bytes).c_str(),
                    nsb(ns).c_str(), nsb(dns).c_str());
        std::fflush(stdout);
      }
    }
    std::printf("\n");
  }

  // ---- 4. Timestamp column encodings.
  if (o.Has('4')) {
    std::printf(
        "## 4. Timestamps column encodings (256 KiB blocks, stored as Skald would: "
        "zstd-1 if >= 64 B and smaller)\n\n");
    ZSTD_CCtx* cctx = ZSTD_createCCtx();
    std::string buf;
    // Timestamp series: the generator's (fixed 60 ms step), plus two jittered series with the
    // same mean rate for realism (exponential inter-arrival times, ns and ms precision).
    const char* series_names[] = {"generator (fixed step)", "jittered, ns precision",
                                  "jittered, ms precision"};
    std::printf(
        "| timestamps | encoding | raw bytes | stored bytes | B/line | comp ns/line "
        "|\n|---|---|---:|---:|---:|---:|\n");
    for (int series = 0; series < 3; ++series) {
      std::vector<std::vector<int64_t>> tss(streams.size());
      for (size_t si = 0; si < streams.size(); ++si) {
        const Stream& s = streams[si];
        if (series == 0) {
          tss[si] = s.ts;
          continue;
        }
        skald::bench::Rng rng(skald::bench::MixSeed(0x7157, si));
        const double mean = s.n() > 1 ? double(s.ts[1] - s.ts[0]) : 6e7;
        int64_t t = s.ts[0];
        for (size_t i = 0; i < s.n(); ++i) {
          int64_t v = series == 2 ? t - t % 1000000 : t;
          tss[si].push_back(v);
          const double u = (double(rng.Next() >> 11) + 0.5) / 9007199254740992.0;
          t += static_cast<int64_t>(-std::log(u) * mean);
        }
      }
      using Enc = std::string (*)(const int64_t*, size_t);
      const std::pair<const char*, Enc> encs[] = {{"zigzag varint deltas (today)", TsZigzagDeltas},
                                                  {"delta-of-delta zigzag varint", TsDeltaOfDelta},
                                                  {"fixed 8-byte deltas", TsFixedDeltas}};
      for (auto [ename, enc] : encs) {
        uint64_t rawb = 0, stored = 0;
        double ns = TimeMedian(o.runs, [&] {
          rawb = stored = 0;
          for (size_t si = 0; si < streams.size(); ++si) {
            for (auto [lo, hi] : Cut(streams[si], 256 << 10)) {
              std::string col = enc(tss[si].data() + lo, hi - lo);
              rawb += col.size();
              stored += StoredZstd(cctx, col, &buf);
            }
          }
        });
        std::printf("| %s | %s | %s | %s | %s | %.2f |\n", series_names[series], ename,
                    Num(rawb).c_str(), Num(stored).c_str(), bpl(stored).c_str(),
                    ns / double(nlines));
      }
    }
    ZSTD_freeCCtx(cctx);
    std::printf("\n(comp ns/line includes encoding and Cut; it is per line, not per byte.)\n\n");
    std::fflush(stdout);
  }

  // ---- 5/6. Early (small-block) head compression, then recompression into big blocks.
  if (o.Has('5') || o.Has('6')) {
    std::printf(
        "## 5/6. Early head compression in small blocks, then recompression "
        "(lines column)\n\n");
    std::printf(
        "Small blocks cut with the ingester's rule at 32/64 KiB; recompression groups "
        "consecutive small blocks of a stream until line bytes + 12*entries >= target "
        "(or the stream ends), decompresses them into one buffer and compresses that "
        "with ZSTD_compressCCtx. ns/B per raw line byte.\n\n");
    std::printf(
        "| small blocks | codec | small stored bytes | ratio | comp ns/B | dec ns/B "
        "|\n|---|---|---:|---:|---:|---:|\n");
    struct Small {
      const char* name;
      size_t size;
      bool lz4;
      BlockSet b;
      Compressed c;
    };
    std::vector<Small> smalls;
    for (size_t sz : {size_t{32} << 10, size_t{64} << 10}) {
      for (bool lz4 : {false, true}) {
        Small s{sz == (32u << 10) ? "32 KiB" : "64 KiB", sz, lz4, LineBlocks(streams, sz), {}};
        s.c = lz4 ? Lz4(s.b, o.runs) : Zstd(s.b, 1, o.runs, false, nullptr, nullptr, true);
        std::printf("| %s | %s | %s | %s | %s | %s |\n", s.name, lz4 ? "lz4" : "zstd-1",
                    Num(s.c.bytes).c_str(), ratio(s.c.bytes).c_str(), nsb(s.c.ns).c_str(),
                    nsb(s.c.dec_ns).c_str());
        smalls.push_back(std::move(s));
      }
    }
    {  // lz4 reference at 256 KiB
      BlockSet b = LineBlocks(streams, 256 << 10);
      Compressed c = Lz4(b, o.runs);
      std::printf("| 256 KiB (reference) | lz4 | %s | %s | %s | %s |\n", Num(c.bytes).c_str(),
                  ratio(c.bytes).c_str(), nsb(c.ns).c_str(), nsb(c.dec_ns).c_str());
    }
    std::printf(
        "\n| small blocks | target | level | stored bytes | ratio | decompress small "
        "ns/B | recompress ns/B | small comp + dec + recomp ns/B |\n"
        "|---|---|---:|---:|---:|---:|---:|---:|\n");
    ZSTD_DCtx* dctx = ZSTD_createDCtx();
    ZSTD_CCtx* cctx = ZSTD_createCCtx();
    for (const Small& s : smalls) {
      for (size_t target : {size_t{256} << 10, size_t{1} << 20}) {
        // Groups of small blocks.
        std::vector<std::pair<size_t, size_t>> groups;
        {
          size_t i = 0;
          while (i < s.b.blocks.size()) {
            size_t j = i, bytes = 0, ent = 0;
            while (j < s.b.blocks.size() && s.b.stream[j] == s.b.stream[i]) {
              bytes += s.b.blocks[j].size();
              ent += s.b.entries[j];
              ++j;
              if (bytes + 12 * ent >= target) break;
            }
            groups.emplace_back(i, j);
            i = j;
          }
        }
        for (int level : {3, 6}) {
          std::vector<double> dts, cts;
          uint64_t bytes = 0;
          std::string big, out;
          for (int r = 0; r < o.runs; ++r) {
            double dsum = 0, csum = 0;
            bytes = 0;
            for (auto [gi, gj] : groups) {
              size_t total = 0;
              for (size_t k = gi; k < gj; ++k) total += s.b.blocks[k].size();
              big.resize(total);
              double a = CpuNs();
              size_t at = 0;
              for (size_t k = gi; k < gj; ++k) {
                const std::string& in = s.c.out[k];
                const size_t n = s.b.blocks[k].size();
                if (s.lz4) {
                  LZ4_decompress_safe(in.data(), big.data() + at, static_cast<int>(in.size()),
                                      static_cast<int>(n));
                } else {
                  ZSTD_decompressDCtx(dctx, big.data() + at, n, in.data(), in.size());
                }
                at += n;
              }
              double b2 = CpuNs();
              out.resize(ZSTD_compressBound(total));
              size_t n = ZSTD_compressCCtx(cctx, out.data(), out.size(), big.data(), total, level);
              double c2 = CpuNs();
              bytes += n;
              dsum += b2 - a;
              csum += c2 - b2;
            }
            dts.push_back(dsum);
            cts.push_back(csum);
          }
          const double d = Median(dts), c = Median(cts);
          std::printf("| %s %s | %s | %d | %s | %s | %s | %s | %s |\n", s.name,
                      s.lz4 ? "lz4" : "zstd-1", target == (256u << 10) ? "256 KiB" : "1 MiB", level,
                      Num(bytes).c_str(), ratio(bytes).c_str(), nsb(d).c_str(), nsb(c).c_str(),
                      nsb(s.c.ns + d + c).c_str());
          std::fflush(stdout);
        }
      }
    }
    ZSTD_freeDCtx(dctx);
    ZSTD_freeCCtx(cctx);
    std::printf("\n");
  }
  return 0;
}
