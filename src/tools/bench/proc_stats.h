// Resource usage of another process (the server under test) read from /proc:
// CPU seconds and peak RSS before/after a run, and a background sampler of
// the resident set during a run.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string_view>
#include <thread>

#include "core/status.h"

namespace skald::bench {

struct ProcSample {
  double cpu_seconds = 0;  // utime + stime from /proc/PID/stat
  int64_t vm_hwm_kb = 0;   // peak resident set (VmHWM) from /proc/PID/status
  int64_t vm_rss_kb = 0;   // current resident set (VmRSS)
};

// Reads /proc/PID/stat and /proc/PID/status. Errors: NotFound (no such
// process), Corruption (unexpected file format). Thread-safe.
StatusOr<ProcSample> SampleProc(int pid);

// utime + stime (fields 14 and 15) of the text of a /proc/PID/stat file, in
// seconds (ticks / ticks_per_second). The command name (field 2) may hold
// spaces and parentheses: fields are counted after the last ')'. Errors:
// Corruption.
StatusOr<double> ParseProcStatCpuSeconds(std::string_view stat, double ticks_per_second);

// Resident set in KiB from the text of a /proc/PID/statm file (second field,
// in pages). Errors: Corruption.
StatusOr<int64_t> ParseStatmResidentKb(std::string_view statm, int64_t page_size);

// Current resident set (KiB) of pid from /proc/PID/statm (the same figure as
// VmRSS, cheaper to read). Errors: NotFound, Corruption. Thread-safe.
StatusOr<int64_t> ReadRssKb(int pid);

// CPU seconds (user + system) used so far by this process (getrusage).
double SelfCpuSeconds();

// Server CPU seconds between two samples of the same process (never negative).
double CpuSecondsBetween(const ProcSample& before, const ProcSample& after);

// Scan speed per core: bytes / 1e6 / cpu_seconds (MB = 1e6 bytes per CPU
// second, i.e. per fully used core); 0 when cpu_seconds <= 0 or bytes == 0.
// /proc CPU times have clock-tick resolution (10 ms at USER_HZ = 100), so runs
// using a few ticks give coarse figures.
double MbPerCpuSecond(uint64_t bytes, double cpu_seconds);

// Samples pid's resident set every interval on a background thread from
// construction until Stop() (or destruction) and keeps the maximum: the peak
// RSS during a run, unlike VmHWM, which is the peak over the process's life.
// Not thread-safe (one owner).
class RssSampler {
 public:
  // Takes a first sample at once, then starts the thread. pid <= 0 samples
  // nothing.
  explicit RssSampler(int pid, int interval_ms = 20);
  ~RssSampler();
  RssSampler(const RssSampler&) = delete;
  RssSampler& operator=(const RssSampler&) = delete;

  // Stops the thread, takes a last sample and returns the maximum resident
  // set seen (KiB; 0 if the process could not be read). Idempotent.
  int64_t Stop();
  // Samples taken (read it after Stop()).
  int64_t samples() const { return samples_; }

 private:
  void Sample();

  int pid_;
  int interval_ms_;
  int64_t max_kb_ = 0;
  int64_t samples_ = 0;
  bool stop_ = false;
  bool stopped_ = false;
  std::mutex mu_;
  std::condition_variable cv_;
  std::thread thread_;
};

}  // namespace skald::bench
