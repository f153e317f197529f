// ExternalServer: runs a real third-party server (Debian's `prometheus`,
// `prometheus-alertmanager`) on a free loopback port for one test, and kills it afterwards.
// Tests that need one call Available() first and fail (not skip) when the binary is missing:
// scripts/install-deps.sh installs it, so a missing binary is a broken setup.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "core/status.h"

namespace skald::testing {

class ExternalServer {
 public:
  ExternalServer() = default;
  ~ExternalServer();  // SIGKILLs and reaps the process
  ExternalServer(const ExternalServer&) = delete;
  ExternalServer& operator=(const ExternalServer&) = delete;

  // True when `binary` is on PATH (or an existing absolute path).
  static bool Available(const std::string& binary);
  // A TCP port on 127.0.0.1 that was free a moment ago.
  static int FreePort();

  // Starts argv (argv[0] looked up on PATH), stdout+stderr to `log_path`, then polls
  // GET http://127.0.0.1:<port><ready_path> until it answers 200 or timeout_ms passes.
  Status Start(std::vector<std::string> argv, int port, std::string ready_path,
               std::string log_path, int timeout_ms = 30000);
  void Stop();
  int port() const { return port_; }
  std::string log() const;  // what the process wrote so far

 private:
  pid_t pid_ = -1;
  int port_ = 0;
  std::string log_path_;
};

}  // namespace skald::testing
