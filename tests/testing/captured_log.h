// Captures what core/logging writes while the object lives (into an unlinked temporary
// file) so a test can read the log lines back. One at a time: it redirects the process-wide
// log output and restores stderr when destroyed.
#pragma once

#include <stdlib.h>
#include <sys/types.h>
#include <unistd.h>

#include <cstddef>
#include <string>
#include <string_view>

#include "core/logging.h"

namespace skald::testing {

class CapturedLog {
 public:
  CapturedLog() {
    char name[] = "/tmp/skald-log-XXXXXX";
    fd_ = ::mkstemp(name);
    ::unlink(name);
    log::SetOutputFd(fd_);
  }
  ~CapturedLog() {
    log::SetOutputFd(2);
    ::close(fd_);
  }
  CapturedLog(const CapturedLog&) = delete;
  CapturedLog& operator=(const CapturedLog&) = delete;

  std::string Text() const {
    std::string out;
    char buf[4096];
    for (off_t off = 0;;) {
      ssize_t n = ::pread(fd_, buf, sizeof(buf), off);
      if (n <= 0) break;
      out.append(buf, static_cast<size_t>(n));
      off += n;
    }
    return out;
  }

 private:
  int fd_ = -1;
};

// Occurrences of `needle` in `text`.
inline size_t CountOccurrences(const std::string& text, std::string_view needle) {
  size_t n = 0;
  for (size_t pos = 0; (pos = text.find(needle, pos)) != std::string::npos; pos += needle.size()) {
    n++;
  }
  return n;
}

}  // namespace skald::testing
