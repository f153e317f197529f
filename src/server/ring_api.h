// The ingester ring's HTTP pages and the ingester lifecycle endpoints (Loki's paths):
//
//   GET  /ring, /ingester/ring     the ring as an HTML page (Loki's columns), or JSON with
//                                  `Accept: application/json` (docs/scale-out.md, "Ring")
//   POST /ring  forget=<id>        removes an instance from the ring, then shows the page
//   GET|POST /ingester/shutdown    flushes every in-memory chunk, leaves the ring, and stops
//                                  the process (unless terminate=false); 204
//   GET|POST|DELETE /ingester/prepare_shutdown
//                                  the shutdown marker: POST sets it (the next shutdown
//                                  flushes and leaves the ring), DELETE clears it, GET says
//                                  "set" or "unset"
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "core/status.h"
#include "ring/kv.h"
#include "ring/ring.h"
#include "server/http_server.h"

namespace skald::server {

struct RingApiDeps {
  ring::KV* kv = nullptr;
  std::string prefix;  // where instances are stored (ring::Lifecycler's prefix)
  int64_t heartbeat_timeout_ns = 0;
  // Flushes every in-memory chunk and leaves the ring.
  std::function<Status()> flush_and_leave;
  // Asks the process to stop (as SIGTERM does).
  std::function<void()> request_stop;
  // The prepare_shutdown marker file.
  std::string shutdown_marker_path;
};

void RegisterRingApi(HttpServer* http, const RingApiDeps& deps);

// The page and the JSON of a ring snapshot at `now_ns`.
std::string RingPageHtml(const ring::Ring& r, int64_t now_ns, int64_t heartbeat_timeout_ns);
std::string RingJson(const ring::Ring& r, int64_t now_ns, int64_t heartbeat_timeout_ns);

}  // namespace skald::server
