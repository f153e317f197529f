// The runtime config loader (dskit's runtimeconfig.Manager for Loki's `overrides:`): reads
// -runtime-config.file at start and every -runtime-config.reload-period on its own thread,
// and hands the per-tenant limits to limits::Overrides. A bad file keeps the last good
// overrides (warned once per distinct error); metrics are dskit's, prefixed `loki_`.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

#include "core/metrics.h"
#include "core/status.h"
#include "limits/limits.h"

namespace skald::server {

class RuntimeConfigLoader {
 public:
  RuntimeConfigLoader(std::string path, int64_t period_ns, limits::Overrides* overrides,
                      metrics::Registry* registry);
  ~RuntimeConfigLoader() { Stop(); }
  RuntimeConfigLoader(const RuntimeConfigLoader&) = delete;
  RuntimeConfigLoader& operator=(const RuntimeConfigLoader&) = delete;

  // Reads and applies the file once. The first call's error is a startup error; later
  // errors are logged by the reload thread and keep the last good overrides.
  Status Load();
  // Starts / stops the periodic reload thread. Stop is idempotent.
  void Start();
  void Stop();

 private:
  void Run();

  const std::string path_;
  const int64_t period_ns_;
  limits::Overrides* const overrides_;
  metrics::Gauge* last_reload_ok_;
  std::string last_text_;   // of the last good load (reload thread / Load only)
  bool loaded_ = false;     // a good load happened
  std::string last_error_;  // last warned error, to warn once per distinct error
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;  // guarded by mu_
  std::thread thread_;
};

}  // namespace skald::server
