// /proc readers for skald-bench (see proc_stats.h).
#include "tools/bench/proc_stats.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <charconv>
#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace skald::bench {
namespace {

// The whole of a small /proc file (read() in one go: /proc files have no size).
StatusOr<std::string> ReadProcFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::NotFound("cannot open " + path);
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0) {
      ::close(fd);
      return Status::NotFound("cannot read " + path);
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

// Space-separated fields of s.
std::vector<std::string_view> Fields(std::string_view s) {
  std::vector<std::string_view> f;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\n')) ++i;
    size_t j = i;
    while (j < s.size() && s[j] != ' ' && s[j] != '\n') ++j;
    if (j > i) f.push_back(s.substr(i, j - i));
    i = j;
  }
  return f;
}

bool ToInt(std::string_view s, int64_t* v) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *v);
  return ec == std::errc() && p == s.data() + s.size();
}

}  // namespace

StatusOr<double> ParseProcStatCpuSeconds(std::string_view stat, double ticks_per_second) {
  size_t close = stat.rfind(')');
  if (close == std::string_view::npos) return Status::Corruption("bad /proc stat: no ')'");
  std::vector<std::string_view> f = Fields(stat.substr(close + 1));
  // f[0] is field 3 (state); utime is field 14 and stime field 15.
  if (f.size() < 13) return Status::Corruption("short /proc stat");
  int64_t utime = 0, stime = 0;
  if (!ToInt(f[11], &utime) || !ToInt(f[12], &stime) || utime < 0 || stime < 0) {
    return Status::Corruption("bad cpu times in /proc stat");
  }
  return static_cast<double>(utime + stime) / ticks_per_second;
}

StatusOr<int64_t> ParseStatmResidentKb(std::string_view statm, int64_t page_size) {
  std::vector<std::string_view> f = Fields(statm);
  int64_t pages = 0;
  if (f.size() < 2 || !ToInt(f[1], &pages) || pages < 0) {
    return Status::Corruption("bad /proc statm");
  }
  return pages * page_size / 1024;
}

StatusOr<int64_t> ReadRssKb(int pid) {
  SKALD_ASSIGN_OR_RETURN(std::string text, ReadProcFile("/proc/" + std::to_string(pid) + "/statm"));
  static const int64_t page = ::sysconf(_SC_PAGESIZE);
  return ParseStatmResidentKb(text, page);
}

StatusOr<ProcSample> SampleProc(int pid) {
  std::string base = "/proc/" + std::to_string(pid);
  StatusOr<std::string> stat = ReadProcFile(base + "/stat");
  if (!stat.ok()) return Status::NotFound("no process " + std::to_string(pid));
  ProcSample s;
  static const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  StatusOr<double> cpu = ParseProcStatCpuSeconds(*stat, ticks);
  if (!cpu.ok()) return Status::Corruption(cpu.status().message() + " (" + base + "/stat)");
  s.cpu_seconds = *cpu;
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

double CpuSecondsBetween(const ProcSample& before, const ProcSample& after) {
  double d = after.cpu_seconds - before.cpu_seconds;
  return d > 0 ? d : 0;
}

double MbPerCpuSecond(uint64_t bytes, double cpu_seconds) {
  if (cpu_seconds <= 0 || bytes == 0) return 0;
  return static_cast<double>(bytes) / 1e6 / cpu_seconds;
}

RssSampler::RssSampler(int pid, int interval_ms) : pid_(pid), interval_ms_(interval_ms) {
  if (pid_ <= 0) {
    stopped_ = true;
    return;
  }
  Sample();
  thread_ = std::thread([this] {
    std::unique_lock<std::mutex> l(mu_);
    while (!stop_) {
      if (cv_.wait_for(l, std::chrono::milliseconds(interval_ms_), [this] { return stop_; })) {
        break;
      }
      l.unlock();
      Sample();
      l.lock();
    }
  });
}

RssSampler::~RssSampler() { Stop(); }

void RssSampler::Sample() {
  StatusOr<int64_t> kb = ReadRssKb(pid_);
  if (!kb.ok()) return;
  // Only the sampler thread and Stop() (after the join) write these.
  samples_++;
  if (*kb > max_kb_) max_kb_ = *kb;
}

int64_t RssSampler::Stop() {
  if (stopped_) return max_kb_;
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  Sample();
  stopped_ = true;
  return max_kb_;
}

}  // namespace skald::bench
