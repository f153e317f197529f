// App: builds a whole Skald process from a Config (object store, index,
// ingester, distributor, querier, HTTP API) and owns its lifecycle.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include "core/status.h"
#include "server/config.h"

namespace skald::server {

// Seams for tests that must act at a given moment of the life cycle; the
// skald binary passes none.
struct AppHooks {
  // Runs on the Start() thread once the HTTP port is bound, before the WAL
  // replays (the App answers requests but is not ready).
  std::function<void()> before_wal_replay;
  // Asks the process to stop, as SIGTERM does (/ingester/shutdown). Default: raise SIGTERM
  // in this process (the skald binary's main thread waits for it).
  std::function<void()> request_stop;
};

class App {
 public:
  // Opens the data directory and wires the components; does not listen yet.
  // Every App has its own metrics registry (served on /metrics), so several
  // Apps in one process (tests) never share counters.
  static StatusOr<std::unique_ptr<App>> Create(const Config& config, AppHooks hooks = {});
  ~App();

  // Binds the HTTP port and starts background work.
  Status Start();
  // Stops accepting requests, flushes every in-memory chunk to the store and
  // stops background work. Returns the flush result. Idempotent.
  Status Shutdown();

  int http_port() const;
  // False (with the reason) while the WAL replays or the process stops.
  bool AcceptingWrites(std::string* reason) const;

 private:
  App();
  // -target=query-frontend: the read API in front of the work queue (no store, no ring).
  Status CreateFrontend();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace skald::server
