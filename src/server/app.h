// App: builds a whole Skald process from a Config (object store, index,
// ingester, distributor, querier, HTTP API) and owns its lifecycle.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "core/status.h"
#include "server/config.h"

namespace skald::server {

class App {
 public:
  // Opens the data directory and wires the components; does not listen yet.
  static StatusOr<std::unique_ptr<App>> Create(const Config& config);
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
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace skald::server
