// Cost of one rate-limit check (limits::RateLimiter::AllowN), the work the distributor adds
// to every push (once per tenant, once per stream entry). Measured at 1, 8 and 64 threads:
//   SameKey:      every thread checks the same tenant (one bucket: the contended case)
//   DistinctKeys: each thread its own tenant (64 shards, no shared bucket)
// The rate is high enough that every call is allowed, so each call does the full
// take (a CAS on the bucket), the expensive path. Reported as ns per AllowN (real time
// per iteration across all threads) and items/s.
//
// Run: rate_limiter_bench --benchmark_repetitions=3 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <string>

#include "core/time.h"
#include "limits/rate_limiter.h"

namespace {

using skald::limits::Rate;
using skald::limits::RateLimiter;

const Rate kRate{1e15, 1e15};  // never refuses: every call takes tokens

RateLimiter& Shared() {
  static RateLimiter rl;
  return rl;
}

void BM_AllowN_SameKey(benchmark::State& state) {
  RateLimiter& rl = Shared();
  const std::string key = "tenant-a";
  for (auto _ : state) {
    benchmark::DoNotOptimize(rl.AllowN(key, skald::MonotonicNanos(), 1024, kRate));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_AllowN_SameKey)->Threads(1)->Threads(8)->Threads(64)->UseRealTime();

void BM_AllowN_DistinctKeys(benchmark::State& state) {
  RateLimiter& rl = Shared();
  const std::string key = "tenant-" + std::to_string(state.thread_index());
  for (auto _ : state) {
    benchmark::DoNotOptimize(rl.AllowN(key, skald::MonotonicNanos(), 1024, kRate));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_AllowN_DistinctKeys)->Threads(1)->Threads(8)->Threads(64)->UseRealTime();

// The clock alone, to read the numbers above net of it.
void BM_MonotonicNanos(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(skald::MonotonicNanos());
}
BENCHMARK(BM_MonotonicNanos);

}  // namespace

BENCHMARK_MAIN();
