// skald-bench tail: opens N WebSocket tails (/loki/api/v1/tail) and counts what they receive.
#pragma once

#include <cstdint>
#include <string>

#include "core/status.h"

namespace skald::bench {

struct TailOptions {
  std::string url;  // http://host:port
  std::string query = "{job=~\".+\"}";
  int clients = 100;
  int64_t duration_ns = 30'000'000'000;
  // Stop once no live entry has arrived for this long after the first one (0 = run for
  // duration_ns).
  int64_t idle_ns = 0;
  int limit = 1;  // history entries per tail
  std::string tenant;
};

struct TailReport {
  int connected = 0;
  int closed_early = 0;  // connections the server closed before the end
  uint64_t messages = 0;
  uint64_t entries = 0;                        // live entries (history excluded)
  uint64_t dropped = 0;                        // dropped_entries markers received
  double first_entry_s = 0, last_entry_s = 0;  // since the clients connected
};

// Connects the clients, then reads for duration_ns. Prints nothing.
StatusOr<TailReport> RunTailBench(const TailOptions& opt);

}  // namespace skald::bench
