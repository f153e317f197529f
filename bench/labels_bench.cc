// Label parsing and fingerprinting: the per-stream work of every push (the
// distributor parses each stream's label string, the ingester keys streams on
// the fingerprint). Three realistic shapes, 4096 distinct strings each so the
// benchmark does not measure one cached string:
//   bench: skald-bench's own streams   {job="bench", host="host-7", stream="42"}
//   k8s:   a promtail/Alloy Kubernetes pod stream (8 labels, ~230 bytes)
//   messy: unsorted names, free whitespace, Go escapes, trailing comma
// Reported as items/s (label strings or label sets) and bytes/s (label string bytes).
// Regex line scans are in line_filter_bench (BM_CaseInsensitiveSelect,
// BM_RegexAlternationSelect, BM_RegexGeneralSelect).
//
// Run: labels_bench --benchmark_repetitions=3 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/labels.h"

namespace {

constexpr int kStrings = 4096;

std::vector<std::string> MakeStrings(int shape) {
  std::vector<std::string> out;
  out.reserve(kStrings);
  for (int i = 0; i < kStrings; ++i) {
    std::string n = std::to_string(i);
    switch (shape) {
      case 0:
        out.push_back("{job=\"bench\", host=\"host-" + std::to_string(i % 10) + "\", stream=\"" +
                      n + "\"}");
        break;
      case 1:
        out.push_back(
            "{app=\"checkout-api\", cluster=\"prod-eu-west-1\", container=\"api\", "
            "filename=\"/var/log/pods/shop_checkout-api-7d9f8c6b5-" +
            n + "/api/0.log\", job=\"shop/checkout-api\", namespace=\"shop\", pod=\"checkout-api-" +
            "7d9f8c6b5-" + n + "\", stream=\"stdout\"}");
        break;
      default:
        out.push_back("{ stream = \"stderr\",job=\"varlogs\" ,  path=\"C:\\\\logs\\\\app-" + n +
                      ".log\", msg=\"say \\\"hi\\\"\\t" + n + "\", env=\"prod\", }");
        break;
    }
  }
  return out;
}

const std::vector<std::string>& Strings(int shape) {
  static const std::vector<std::string>* all = [] {
    auto* v = new std::vector<std::string>[3];
    for (int s = 0; s < 3; ++s) v[s] = MakeStrings(s);
    return v;
  }();
  return all[shape];
}

int64_t TotalBytes(const std::vector<std::string>& v) {
  int64_t n = 0;
  for (const auto& s : v) n += static_cast<int64_t>(s.size());
  return n;
}

std::vector<skald::Labels> Parsed(int shape) {
  std::vector<skald::Labels> out;
  for (const auto& s : Strings(shape)) {
    auto l = skald::ParseLabels(s);
    if (!l.ok()) std::abort();
    out.push_back(std::move(l).value());
  }
  return out;
}

void SetShapeLabel(benchmark::State& state) {
  static const char* kNames[] = {"bench", "k8s", "messy"};
  state.SetLabel(kNames[state.range(0)]);
}

// ParseLabels alone.
void BM_ParseLabels(benchmark::State& state) {
  const auto& strings = Strings(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    for (const auto& s : strings) {
      auto l = skald::ParseLabels(s);
      benchmark::DoNotOptimize(l);
    }
  }
  state.SetItemsProcessed(state.iterations() * kStrings);
  state.SetBytesProcessed(state.iterations() * TotalBytes(strings));
  SetShapeLabel(state);
}
BENCHMARK(BM_ParseLabels)->DenseRange(0, 2)->Unit(benchmark::kMicrosecond);

// Labels::Fingerprint on parsed label sets (canonical text + XXH3-64).
void BM_Fingerprint(benchmark::State& state) {
  const int shape = static_cast<int>(state.range(0));
  const std::vector<skald::Labels> labels = Parsed(shape);
  uint64_t x = 0;
  for (auto _ : state) {
    for (const auto& l : labels) x ^= l.Fingerprint();
    benchmark::DoNotOptimize(x);
  }
  state.SetItemsProcessed(state.iterations() * kStrings);
  state.SetBytesProcessed(state.iterations() * TotalBytes(Strings(shape)));
  SetShapeLabel(state);
}
BENCHMARK(BM_Fingerprint)->DenseRange(0, 2)->Unit(benchmark::kMicrosecond);

// The hash alone, on canonical strings (FingerprintOf).
void BM_FingerprintOfCanonical(benchmark::State& state) {
  const int shape = static_cast<int>(state.range(0));
  std::vector<std::string> canonical;
  int64_t bytes = 0;
  for (const auto& l : Parsed(shape)) {
    canonical.push_back(l.ToString());
    bytes += static_cast<int64_t>(canonical.back().size());
  }
  uint64_t x = 0;
  for (auto _ : state) {
    for (const auto& s : canonical) x ^= skald::FingerprintOf(s);
    benchmark::DoNotOptimize(x);
  }
  state.SetItemsProcessed(state.iterations() * kStrings);
  state.SetBytesProcessed(state.iterations() * bytes);
  SetShapeLabel(state);
}
BENCHMARK(BM_FingerprintOfCanonical)->DenseRange(0, 2)->Unit(benchmark::kMicrosecond);

// What a push does per stream: parse the label string, then fingerprint it.
void BM_ParseAndFingerprint(benchmark::State& state) {
  const auto& strings = Strings(static_cast<int>(state.range(0)));
  uint64_t x = 0;
  for (auto _ : state) {
    for (const auto& s : strings) {
      auto l = skald::ParseLabels(s);
      if (l.ok()) x ^= l->Fingerprint();
    }
    benchmark::DoNotOptimize(x);
  }
  state.SetItemsProcessed(state.iterations() * kStrings);
  state.SetBytesProcessed(state.iterations() * TotalBytes(strings));
  SetShapeLabel(state);
}
BENCHMARK(BM_ParseAndFingerprint)->DenseRange(0, 2)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
