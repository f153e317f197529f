// Per-tenant log lines for refused data: what `loki_discarded_samples_total` counts, told in
// the log with the tenant, Loki's discard reason and the request's trace_id, so an operator
// can find out who lost what, and why, without a metrics query per tenant.
//
//   level=warn ts=... caller=refusal_log.cc:NN msg="refused log lines" tenant=team-a
//     reason=line_too_long lines=3 bytes=61440 suppressed_pushes=0 suppressed_lines=0
//     suppressed_bytes=0 trace_id=4bf92f3577b34da6a3ce929d0e0e4736
//
// A push's refusals are added up per reason (RefusalReport) and logged when the push ends,
// at most one line per (tenant, reason) per interval (10 s): refusals in between are counted
// into the next line's suppressed_* fields, so a hostile tenant cannot flood the log.
// too_far_behind (entries out of order, routine for some clients) is logged at info, every
// other reason at warn.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace skald::distributor {

class RefusalLog {
 public:
  // At most one line per (tenant, reason) per interval_ns.
  explicit RefusalLog(int64_t interval_ns);
  RefusalLog(const RefusalLog&) = delete;
  RefusalLog& operator=(const RefusalLog&) = delete;

  // One push's refusals of one reason: logs them now, or counts them into the next line for
  // (tenant, reason). `now_mono` is the monotonic clock (MonotonicNanos). Thread-safe.
  void Report(std::string_view tenant, std::string_view reason, uint64_t lines, uint64_t bytes,
              int64_t now_mono);

 private:
  struct State {
    int64_t last_logged = 0;
    uint64_t pushes = 0, lines = 0, bytes = 0;  // suppressed since that line
  };
  // Keys not logged for an interval are dropped when the map grows past this (their
  // suppressed counts are lost to the log; the metrics still have them).
  static constexpr size_t kMaxKeys = 4096;

  const int64_t interval_ns_;
  std::mutex mu_;
  std::unordered_map<std::string, State> states_;  // tenant '\0' reason
};

// One push's refusals by reason, reported to a RefusalLog when the report is destroyed (the
// push has ended, however it ended). While it lives it is the calling thread's current report:
// Distributor::Discard adds to it without the push passing it along. Not thread-safe (one
// push, one thread).
class RefusalReport {
 public:
  RefusalReport(RefusalLog* log, std::string_view tenant);
  ~RefusalReport();
  RefusalReport(const RefusalReport&) = delete;
  RefusalReport& operator=(const RefusalReport&) = delete;

  // The report of the push running on this thread, or nullptr.
  static RefusalReport* Current();

  void Add(std::string_view reason, uint64_t lines, uint64_t bytes);

 private:
  struct Item {
    std::string reason;
    uint64_t lines = 0, bytes = 0;
  };
  RefusalLog* log_;
  std::string_view tenant_;
  std::vector<Item> items_;  // few distinct reasons per push
  RefusalReport* prev_;
};

}  // namespace skald::distributor
