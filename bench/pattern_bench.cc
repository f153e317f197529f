// Pattern detection cost (docs/patterns.md) on the real loghub lines in testdata/loghub
// (12 systems, 2000 lines each), every figure the median of --runs runs:
//
//  1. drain:  Drain::Train per line, one Drain per file (a stream), steady state (the corpus
//             is trained once before timing, then --repeat more times, timestamps advancing).
//  2. store:  PatternStore::Push per line (level detection, stream lookup, locking, Drain).
//  3. ingest: the in-memory ingester's PushBatch (no WAL, no HTTP) with the tee off, with
//             the tee inline (PatternTee async=false) and with the tee queued (async=true,
//             time in PushBatch only, then the time until the worker caught up; and with the
//             worker held until the pushes end, which isolates the copy). This is the
//             worst case for the relative slowdown: a real push also pays for HTTP, decoding,
//             the distributor and the WAL.
//
// Usage: pattern_bench [--runs=N] [--repeat=N]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <unistd.h>

#include "core/labels.h"
#include "core/time.h"
#include "index/index_store.h"
#include "ingester/ingester.h"
#include "pattern/drain.h"
#include "pattern/store.h"
#include "pattern/tee.h"
#include "storage/fs_object_store.h"

namespace {

using namespace skald;
using Clock = std::chrono::steady_clock;

struct Source {
  std::string name;
  std::vector<std::string> lines;
};

std::vector<Source> LoadCorpus() {
  std::vector<Source> out;
  const std::filesystem::path dir = std::filesystem::path(SKALD_SOURCE_DIR) / "testdata/loghub";
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().extension() == ".log") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    Source s{f.stem().string(), {}};
    std::ifstream in(f);
    std::string line;
    while (std::getline(in, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      s.lines.push_back(line);
    }
    out.push_back(std::move(s));
  }
  return out;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

double Seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

}  // namespace

int main(int argc, char** argv) {
  int runs = 5, repeat = 10;
  for (int i = 1; i < argc; i++) {
    if (std::strncmp(argv[i], "--runs=", 7) == 0) runs = std::max(1, std::atoi(argv[i] + 7));
    if (std::strncmp(argv[i], "--repeat=", 9) == 0) repeat = std::max(1, std::atoi(argv[i] + 9));
  }
  const std::vector<Source> corpus = LoadCorpus();
  size_t lines = 0, bytes = 0;
  for (const auto& s : corpus) {
    lines += s.lines.size();
    for (const auto& l : s.lines) bytes += l.size();
  }
  if (lines == 0) {
    std::fprintf(stderr, "no lines under testdata/loghub\n");
    return 1;
  }
  std::printf("corpus: %zu files, %zu lines, %.1f MB; x%d per run, median of %d runs\n",
              corpus.size(), lines, static_cast<double>(bytes) / 1e6, repeat, runs);
  const int64_t t0 = NowNanos() - kNanosPerHour;
  const double total_lines = static_cast<double>(lines) * repeat;

  // 1. Drain::Train.
  {
    std::vector<double> ns;
    size_t clusters = 0;
    for (int r = 0; r < runs; r++) {
      std::vector<std::unique_ptr<pattern::Drain>> drains;
      for (const auto& s : corpus) {
        drains.push_back(std::make_unique<pattern::Drain>(
            pattern::DrainConfig{}, pattern::DetectLogFormat(s.lines[0]), nullptr));
      }
      int64_t ts = t0;
      for (size_t f = 0; f < corpus.size(); f++) {
        for (const auto& l : corpus[f].lines) drains[f]->Train(l, ts++);
      }
      auto a = Clock::now();
      for (int k = 0; k < repeat; k++) {
        for (size_t f = 0; f < corpus.size(); f++) {
          for (const auto& l : corpus[f].lines) drains[f]->Train(l, ts += 1000000);
        }
      }
      ns.push_back(Seconds(a, Clock::now()) * 1e9 / total_lines);
      clusters = 0;
      for (const auto& d : drains) clusters += d->cluster_count();
    }
    std::printf("drain  Train:                 %8.0f ns/line  (%zu clusters in %zu streams)\n",
                Median(ns), clusters, corpus.size());
  }

  std::vector<Labels> labels;
  for (const auto& s : corpus) labels.push_back(Labels({{"job", s.name}}));

  // 2. PatternStore::Push, batches of 500 lines.
  {
    std::vector<double> ns;
    size_t mem = 0;
    for (int r = 0; r < runs; r++) {
      pattern::PatternStore store(pattern::PatternStoreOptions{});
      std::vector<EntryView> batch;
      int64_t ts = t0;
      auto a = Clock::now();
      for (int k = 0; k < repeat; k++) {
        for (size_t f = 0; f < corpus.size(); f++) {
          const auto& ls = corpus[f].lines;
          for (size_t i = 0; i < ls.size(); i += 500) {
            batch.clear();
            for (size_t j = i; j < std::min(ls.size(), i + 500); j++) {
              batch.push_back({ts += 1000000, ls[j], {}});
            }
            store.Push("fake", labels[f], 0, batch);
          }
        }
      }
      ns.push_back(Seconds(a, Clock::now()) * 1e9 / total_lines);
      store.Prune();
      mem = store.Stats().bytes;
    }
    std::printf("store  Push:                  %8.0f ns/line  (store holds ~%.1f MB)\n", Median(ns),
                static_cast<double>(mem) / 1e6);
  }

  // 3. Ingest with the tee off / inline / queued.
  const auto tmp = std::filesystem::temp_directory_path() /
                   ("skald-pattern-bench-" + std::to_string(::getpid()));
  auto run_ingest = [&](int mode, double* push_ns, double* catchup_ns) {
    std::filesystem::remove_all(tmp);
    auto store = storage::FsObjectStore::Open(tmp.string());
    if (!store.ok()) std::abort();
    index::IndexStore index(store->get());
    ingester::Ingester ing(ingester::IngesterOptions{}, store->get(), &index, nullptr);
    pattern::PatternStore patterns(pattern::PatternStoreOptions{});
    pattern::PatternTeeOptions to;
    to.async = mode >= 2;
    to.start_paused = mode == 3;
    std::unique_ptr<pattern::PatternTee> tee;
    ingester::Pusher* pusher = &ing;
    if (mode > 0) {
      tee = std::make_unique<pattern::PatternTee>(&ing, &patterns, to);
      pusher = tee.get();
    }
    std::vector<ingester::AppendEntry> batch;
    int64_t ts = t0;
    auto a = Clock::now();
    for (int k = 0; k < repeat; k++) {
      for (size_t f = 0; f < corpus.size(); f++) {
        const auto& ls = corpus[f].lines;
        for (size_t i = 0; i < ls.size(); i += 500) {
          batch.clear();
          for (size_t j = i; j < std::min(ls.size(), i + 500); j++) {
            batch.push_back({ts += 1000000, ls[j], {}});
          }
          ingester::StreamAppend sa;
          sa.labels = &labels[f];
          sa.entries = batch;
          if (!pusher->PushBatch("fake", std::span(&sa, 1)).ok()) std::abort();
        }
      }
    }
    auto b = Clock::now();
    if (mode == 3) tee->Resume();
    if (tee) tee->WaitIdle();
    auto c = Clock::now();
    *push_ns = Seconds(a, b) * 1e9 / total_lines;
    *catchup_ns = Seconds(b, c) * 1e9 / total_lines;
    if (tee && tee->dropped_entries() > 0) {
      std::printf("       (queued tee dropped %llu lines)\n",
                  static_cast<unsigned long long>(tee->dropped_entries()));
    }
  };
  std::vector<double> off, inl, q_push, q_catch, copy;
  for (int r = 0; r < runs; r++) {
    double p, c;
    run_ingest(3, &p, &c);
    copy.push_back(p);
    run_ingest(0, &p, &c);
    off.push_back(p);
    run_ingest(1, &p, &c);
    inl.push_back(p);
    run_ingest(2, &p, &c);
    q_push.push_back(p);
    q_catch.push_back(c);
  }
  std::filesystem::remove_all(tmp);
  const double base = Median(off);
  std::printf("ingest tee off:               %8.0f ns/line\n", base);
  std::printf("ingest tee inline:            %8.0f ns/line  (%+.0f%%)\n", Median(inl),
              100.0 * (Median(inl) - base) / base);
  std::printf(
      "ingest tee queued, push:      %8.0f ns/line  (%+.0f%%; worker caught up %.0f ns/line "
      "later)\n",
      Median(q_push), 100.0 * (Median(q_push) - base) / base, Median(q_catch));
  std::printf(
      "ingest tee queued, held:      %8.0f ns/line  (%+.0f%%: the copy and the queue alone)\n",
      Median(copy), 100.0 * (Median(copy) - base) / base);
  return 0;
}
