// InProcessSkald: a whole Skald (server::App, every role) inside the test
// process, listening on 127.0.0.1 at an ephemeral port (0, the bound port is
// read back), with its data under a directory the test owns. For handler and
// API tests; only tests that must kill or signal a real process fork/exec
// (tests/integration/skald_process.h).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "server/app.h"
#include "server/config.h"
#include "tools/http/http_client.h"

namespace skald::testing {

class InProcessSkald {
 public:
  // `flags` as on the skald command line ("-auth.enabled", ...); the fixture
  // adds -server.http-listen-address=127.0.0.1, -server.http-listen-port=0 and
  // -common.path-prefix=<data_dir> before them (so they may override).
  explicit InProcessSkald(std::string data_dir, std::vector<std::string> flags = {},
                          server::AppHooks hooks = {});
  ~InProcessSkald();  // Stop()s
  InProcessSkald(const InProcessSkald&) = delete;
  InProcessSkald& operator=(const InProcessSkald&) = delete;

  // Loads the config from the flags, creates the App and starts it (binds the
  // port, replays the WAL). Errors: the config, create or start error. Start()
  // after Stop() starts a new App on the same data directory (a restart).
  Status Start();
  // App::Shutdown: stops serving, flushes every in-memory chunk, checkpoints,
  // and destroys the App. Returns the shutdown result. OK when not running.
  Status Stop();

  // The bound HTTP port; 0 before the HTTP server listens. Thread-safe while
  // Start() runs on another thread.
  int port() const;
  bool running() const { return app_ != nullptr; }
  server::App* app() { return app_.get(); }
  const server::Config& config() const { return config_; }
  const std::string& data_dir() const { return data_dir_; }

  // One request on a fresh connection. Thread-safe.
  StatusOr<http::HttpResponse> Call(std::string_view method, std::string_view target,
                                    const http::HeaderList& headers = {},
                                    std::string_view body = {}) const;
  // The /metrics exposition ("" and a test failure if it cannot be fetched).
  std::string Metrics() const;

 private:
  std::string data_dir_;
  std::vector<std::string> flags_;
  server::AppHooks hooks_;
  server::Config config_;
  std::unique_ptr<server::App> app_;
};

}  // namespace skald::testing
