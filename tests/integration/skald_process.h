// SkaldProcess: starts the real `skald` binary with its own data directory, for
// the tests that must kill (SIGKILL) or signal (SIGTERM) a real process: crash,
// restart and disk-full tests. Everything else runs in-process
// (tests/testing/in_process_skald.h). The binary path comes from
// SKALD_BINARY_DIR (set by CMake).
//
// skald listens on 127.0.0.1 port 0; the port it got is read from its start-up
// log line (`msg="Skald started" http_port=N`, logfmt on stderr), so two tests
// never race for a "free" port.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "tools/http/http_client.h"

namespace skald::testing {

class SkaldProcess {
 public:
  // `wrapper`, when given, is a command line that runs skald's own (appended
  // after it), e.g. {"nsenter", "-t", pid, "-U", "-m", "--"}: skald then runs in
  // another mount namespace. pid() is then the wrapper's pid, which becomes
  // skald's when the wrapper execs it.
  SkaldProcess(std::string data_dir, std::vector<std::string> extra_flags = {},
               std::vector<std::string> wrapper = {});
  ~SkaldProcess();  // SIGKILLs a still-running process

  // Starts skald and waits for its "Skald started" log line (written once the
  // WAL replayed, just before it reports ready), then for GET /ready to answer
  // 200. Returns false if it exits or times out; stderr is in log().
  bool Start(int timeout_ms = 60000);
  // Sends SIGTERM and waits; returns the exit code (or -signal).
  int Stop(int timeout_ms = 60000);
  // SIGKILL, no flush.
  void Kill();

  // The port of the running process (0 before the first Start()).
  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  std::string log() const;  // the process's stderr, all runs so far
  // The log of the latest run only.
  std::string last_run_log() const;

  // One request on a fresh connection to the running process.
  StatusOr<http::HttpResponse> Call(std::string_view method, std::string_view target,
                                    const http::HeaderList& headers = {},
                                    std::string_view body = {}) const;

 private:
  std::string data_dir_;
  std::vector<std::string> flags_;
  std::vector<std::string> wrapper_;
  int port_ = 0;
  pid_t pid_ = -1;
  std::string log_path_;
  size_t run_log_offset_ = 0;  // where the latest run's log starts
};

// The value of `key=` in the last logfmt line of `log` whose msg is `msg`
// ("" if there is none), e.g. LogField(log, "WAL replay finished", "entries").
std::string LogField(const std::string& log, const std::string& msg, const std::string& key);

}  // namespace skald::testing
