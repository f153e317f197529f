// SkaldProcess: starts the real `skald` binary on a free loopback port with its
// own data directory, for integration tests, and stops it with SIGTERM or
// SIGKILL. The binary path comes from SKALD_BINARY_DIR (set by CMake).
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace skald::testing {

// A fresh, empty directory under $TMPDIR removed by the destructor.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Percent-encodes everything but [A-Za-z0-9-_.~] (for query strings and forms).
std::string UrlEncode(const std::string& s);

// A TCP port on 127.0.0.1 that was free a moment ago.
int FreePort();

class SkaldProcess {
 public:
  SkaldProcess(std::string data_dir, std::vector<std::string> extra_flags = {});
  ~SkaldProcess();  // SIGKILLs a still-running process

  // Starts skald and waits until GET /ready answers 200 (or times out).
  // Returns false if it exits or never becomes ready; stderr is in log().
  bool Start(int timeout_ms = 20000);
  // Sends SIGTERM and waits; returns the exit code (or -signal).
  int Stop(int timeout_ms = 60000);
  // SIGKILL, no flush.
  void Kill();

  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  std::string log() const;  // the process's stderr so far

 private:
  std::string data_dir_;
  std::vector<std::string> flags_;
  int port_ = 0;
  pid_t pid_ = -1;
  std::string log_path_;
};

}  // namespace skald::testing
