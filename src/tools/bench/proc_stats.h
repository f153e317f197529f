// Resource usage of another process (the server under test) read from /proc.
#pragma once

#include <cstdint>

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

// CPU seconds (user + system) used so far by this process (getrusage).
double SelfCpuSeconds();

}  // namespace skald::bench
