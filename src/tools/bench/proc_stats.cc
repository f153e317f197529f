// /proc readers for skald-bench (see proc_stats.h).
#include "tools/bench/proc_stats.h"

#include <sys/resource.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace skald::bench {

StatusOr<ProcSample> SampleProc(int pid) {
  std::string base = "/proc/" + std::to_string(pid);
  std::ifstream stat(base + "/stat");
  if (!stat) return Status::NotFound("no process " + std::to_string(pid));
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  // The command name (field 2) is parenthesised and may contain spaces: parse after the last ')'.
  size_t close = text.rfind(')');
  if (close == std::string::npos) return Status::Corruption("bad " + base + "/stat");
  std::istringstream fields(text.substr(close + 1));
  std::vector<std::string> f;
  std::string tok;
  while (fields >> tok && f.size() < 13) f.push_back(tok);
  // f[0] is field 3 (state); utime is field 14 and stime field 15.
  if (f.size() < 13) return Status::Corruption("short " + base + "/stat");
  ProcSample s;
  double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  try {
    s.cpu_seconds = (std::stod(f[11]) + std::stod(f[12])) / ticks;
  } catch (...) {
    return Status::Corruption("bad cpu times in " + base + "/stat");
  }
  std::ifstream status(base + "/status");
  if (!status) return Status::NotFound("no process " + std::to_string(pid));
  std::string line;
  while (std::getline(status, line)) {
    auto value_kb = [&](const char* key) -> int64_t {
      std::istringstream in(line.substr(std::string(key).size()));
      int64_t v = 0;
      in >> v;
      return v;
    };
    if (line.rfind("VmHWM:", 0) == 0) s.vm_hwm_kb = value_kb("VmHWM:");
    if (line.rfind("VmRSS:", 0) == 0) s.vm_rss_kb = value_kb("VmRSS:");
  }
  return s;
}

double SelfCpuSeconds() {
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

}  // namespace skald::bench
