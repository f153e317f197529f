// Logfmt logging implementation (see logging.h).
#include "core/logging.h"

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

#include "core/json_escape.h"
#include "core/time.h"
#include "core/tracing.h"
#include "core/utf8.h"

namespace skald::log {

namespace {

std::atomic<int> g_level{static_cast<int>(Level::kInfo)};
std::atomic<int> g_fd{2};

bool NeedsQuoting(std::string_view v) {
  for (size_t i = 0; i < v.size();) {
    unsigned char b = static_cast<unsigned char>(v[i]);
    if (b < 0x80) {
      if (b <= ' ' || b == '=' || b == '"') return true;
      i++;
      continue;
    }
    char32_t r;
    size_t n = DecodeUtf8Rune(v.substr(i), &r);
    if (n == 0 || r == 0xFFFD) return true;
    i += n;
  }
  return false;
}

std::string_view Basename(const char* file) {
  std::string_view f = file == nullptr ? "" : file;
  size_t slash = f.rfind('/');
  return slash == std::string_view::npos ? f : f.substr(slash + 1);
}

}  // namespace

void SetLevel(Level level) { g_level.store(static_cast<int>(level), std::memory_order_relaxed); }

Level GetLevel() { return static_cast<Level>(g_level.load(std::memory_order_relaxed)); }

bool Enabled(Level level) {
  return static_cast<int>(level) >= g_level.load(std::memory_order_relaxed);
}

bool ParseLevel(std::string_view text, Level* out) {
  if (text == "debug") {
    *out = Level::kDebug;
  } else if (text == "info") {
    *out = Level::kInfo;
  } else if (text == "warn" || text == "warning") {
    *out = Level::kWarn;
  } else if (text == "error") {
    *out = Level::kError;
  } else {
    return false;
  }
  return true;
}

std::string_view LevelName(Level level) {
  switch (level) {
    case Level::kDebug:
      return "debug";
    case Level::kInfo:
      return "info";
    case Level::kWarn:
      return "warn";
    case Level::kError:
      return "error";
  }
  return "info";
}

void SetOutputFd(int fd) { g_fd.store(fd, std::memory_order_relaxed); }

void AppendLogfmtValue(std::string* out, std::string_view v) {
  if (!NeedsQuoting(v)) {
    out->append(v);
    return;
  }
  AppendJsonString(out, v, JsonEscaping::kLogfmt);
}

std::string FormatLine(Level level, int64_t ts_nanos, std::string_view caller, std::string_view msg,
                       KeyValues kv) {
  std::string line;
  line.reserve(96 + msg.size());
  line.append("level=");
  line.append(LevelName(level));
  line.append(" ts=");
  line.append(FormatRFC3339Nano(ts_nanos));
  if (!caller.empty()) {
    line.append(" caller=");
    AppendLogfmtValue(&line, caller);
  }
  line.append(" msg=");
  AppendLogfmtValue(&line, msg);
  for (const auto& [k, v] : kv) {
    line.push_back(' ');
    line.append(k);
    line.push_back('=');
    AppendLogfmtValue(&line, v);
  }
  line.push_back('\n');
  return line;
}

void Log(Level level, std::string_view msg, KeyValues kv, const char* file, int line) {
  if (!Enabled(level)) return;
  std::string caller(Basename(file));
  if (!caller.empty()) {
    caller.push_back(':');
    caller.append(std::to_string(line));
  }
  std::string text = FormatLine(level, NowNanos(), caller, msg, kv);
  // While the thread works for a request: the trace id of its span, last on the line.
  if (trace::TraceId id; trace::CurrentTraceId(&id)) {
    text.pop_back();  // '\n'
    text.append(" trace_id=");
    trace::AppendTraceIdHex(&text, id);
    text.push_back('\n');
  }
  int fd = g_fd.load(std::memory_order_relaxed);
  const char* p = text.data();
  size_t left = text.size();
  // One write(2) normally suffices (lines below PIPE_BUF are atomic on pipes);
  // loop only for partial writes of very long lines.
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      return;
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
}

}  // namespace skald::log
