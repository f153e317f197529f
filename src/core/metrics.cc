// Prometheus metrics implementation (see metrics.h).
#include "core/metrics.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <numeric>
#include <sstream>

#include "core/allocator.h"

namespace skald::metrics {

namespace {

[[noreturn]] void Die(const std::string& msg) {
  std::fprintf(stderr, "skald metrics: %s\n", msg.c_str());
  std::abort();
}

void AtomicAdd(std::atomic<double>* a, double v) {
  double cur = a->load(std::memory_order_relaxed);
  while (!a->compare_exchange_weak(cur, cur + v, std::memory_order_relaxed)) {
  }
}

bool ValidName(std::string_view n, bool allow_colon) {
  if (n.empty()) return false;
  for (size_t i = 0; i < n.size(); i++) {
    char c = n[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
              (allow_colon && c == ':') || (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

void AppendEscapedHelp(std::string* out, std::string_view v) {
  for (char c : v) {
    if (c == '\\') {
      out->append("\\\\");
    } else if (c == '\n') {
      out->append("\\n");
    } else {
      out->push_back(c);
    }
  }
}

// Key for a tuple of label values: each value length-prefixed so no two tuples collide.
std::string SeriesKey(const std::vector<std::string>& values) {
  size_t n = 0;
  for (const auto& v : values) n += v.size() + 4;
  std::string key;
  key.reserve(n);
  for (const auto& v : values) {
    uint32_t len = static_cast<uint32_t>(v.size());
    key.append(reinterpret_cast<const char*>(&len), sizeof(len));
    key.append(v);
  }
  return key;
}

// Renders `{a="x",b="y"}` (label names sorted) plus an optional extra pair (`le`)
// appended last; nothing when there are no labels at all.
void AppendLabels(std::string* out, const std::vector<std::string>& names,
                  const std::vector<size_t>& order, const std::vector<std::string>& values,
                  std::string_view extra_name = {}, std::string_view extra_value = {}) {
  if (names.empty() && extra_name.empty()) return;
  out->push_back('{');
  bool first = true;
  for (size_t i : order) {
    if (!first) out->push_back(',');
    first = false;
    out->append(names[i]);
    out->append("=\"");
    AppendEscapedLabelValue(out, values[i]);
    out->push_back('"');
  }
  if (!extra_name.empty()) {
    if (!first) out->push_back(',');
    out->append(extra_name);
    out->append("=\"");
    AppendEscapedLabelValue(out, extra_value);
    out->push_back('"');
  }
  out->push_back('}');
}

std::vector<size_t> SortedOrder(const std::vector<std::string>& names) {
  std::vector<size_t> order(names.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return names[a] < names[b]; });
  return order;
}

const char* TypeName(MetricType t) {
  switch (t) {
    case MetricType::kCounter:
      return "counter";
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kHistogram:
      return "histogram";
  }
  return "untyped";
}

// A family whose only series is computed by a callback at scrape time.
class FuncFamily : public FamilyBase {
 public:
  FuncFamily(std::string name, std::string help, MetricType type, std::function<double()> fn)
      : FamilyBase(std::move(name), std::move(help), type, {}), fn_(std::move(fn)) {}

  void Replace(std::function<double()> fn) {
    std::lock_guard<std::mutex> l(mu_);
    fn_ = std::move(fn);
  }

  bool AppendSamples(std::string* out) const override {
    std::function<double()> fn;
    {
      std::lock_guard<std::mutex> l(mu_);
      fn = fn_;
    }
    if (!fn) return false;
    out->append(name());
    out->push_back(' ');
    out->append(FormatValue(fn()));
    out->push_back('\n');
    return true;
  }

 private:
  mutable std::mutex mu_;
  std::function<double()> fn_;
};

}  // namespace

// ---------------------------------------------------------------------------
// Value formatting

std::string FormatValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::scientific);
  std::string_view sci(buf, static_cast<size_t>(res.ptr - buf));
  // sci = [-]d[.ddd]e(+|-)XX
  size_t epos = sci.find('e');
  std::string_view mant = sci.substr(0, epos);
  int exp = 0;
  std::from_chars(sci.data() + epos + 1 + (sci[epos + 1] == '+' ? 1 : 0), sci.data() + sci.size(),
                  exp);
  if (exp < -4 || exp >= 6) return std::string(sci);  // Go's %e form: same as C's
  bool neg = !mant.empty() && mant[0] == '-';
  if (neg) mant.remove_prefix(1);
  std::string digits;
  for (char c : mant) {
    if (c != '.') digits.push_back(c);
  }
  std::string out = neg ? "-" : "";
  if (exp >= 0) {
    size_t int_len = static_cast<size_t>(exp) + 1;
    if (digits.size() <= int_len) {
      out += digits;
      out.append(int_len - digits.size(), '0');
    } else {
      out += digits.substr(0, int_len);
      out.push_back('.');
      out += digits.substr(int_len);
    }
  } else {
    out += "0.";
    out.append(static_cast<size_t>(-exp - 1), '0');
    out += digits;
  }
  return out;
}

void AppendEscapedLabelValue(std::string* out, std::string_view v) {
  for (char c : v) {
    if (c == '\\') {
      out->append("\\\\");
    } else if (c == '"') {
      out->append("\\\"");
    } else if (c == '\n') {
      out->append("\\n");
    } else {
      out->push_back(c);
    }
  }
}

std::vector<double> DefaultBuckets() { return {.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}; }

std::vector<double> ExponentialBuckets(double start, double factor, int count) {
  std::vector<double> b;
  for (int i = 0; i < count; i++) {
    b.push_back(start);
    start *= factor;
  }
  return b;
}

std::vector<double> LinearBuckets(double start, double width, int count) {
  std::vector<double> b;
  for (int i = 0; i < count; i++) b.push_back(start + width * i);
  return b;
}

// ---------------------------------------------------------------------------
// Counter / Gauge / Histogram

void Counter::Inc(double v) {
  if (!(v > 0)) return;
  AtomicAdd(&value_, v);
}

void Gauge::Add(double v) { AtomicAdd(&value_, v); }

void Gauge::SetToCurrentTime() {
  auto now = std::chrono::system_clock::now().time_since_epoch();
  Set(std::chrono::duration<double>(now).count());
}

Histogram::Histogram(std::vector<double> bounds) : bounds_(std::move(bounds)) {
  if (!bounds_.empty() && std::isinf(bounds_.back()) && bounds_.back() > 0) bounds_.pop_back();
  if (!std::is_sorted(bounds_.begin(), bounds_.end()) ||
      std::adjacent_find(bounds_.begin(), bounds_.end()) != bounds_.end()) {
    Die("histogram buckets must be sorted in strictly increasing order");
  }
  counts_ = std::make_unique<std::atomic<uint64_t>[]>(bounds_.size() + 1);
  for (size_t i = 0; i <= bounds_.size(); i++) counts_[i].store(0, std::memory_order_relaxed);
}

void Histogram::Observe(double v) {
  // First bucket whose upper bound is >= v (Prometheus buckets are `le`).
  size_t i =
      static_cast<size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin());
  if (std::isnan(v)) i = bounds_.size();
  counts_[i].fetch_add(1, std::memory_order_relaxed);
  AtomicAdd(&sum_, v);
}

Histogram::Snapshot Histogram::Snap() const {
  Snapshot s;
  s.bounds = bounds_;
  s.cumulative.resize(bounds_.size() + 1);
  uint64_t acc = 0;
  for (size_t i = 0; i <= bounds_.size(); i++) {
    acc += counts_[i].load(std::memory_order_relaxed);
    s.cumulative[i] = acc;
  }
  s.count = acc;
  s.sum = sum_.load(std::memory_order_relaxed);
  return s;
}

uint64_t Histogram::Count() const {
  uint64_t acc = 0;
  for (size_t i = 0; i <= bounds_.size(); i++) acc += counts_[i].load(std::memory_order_relaxed);
  return acc;
}

// ---------------------------------------------------------------------------
// Family

template <class T>
Family<T>::Family(std::string name, std::string help, MetricType type,
                  std::vector<std::string> label_names, std::vector<double> buckets)
    : FamilyBase(std::move(name), std::move(help), type, std::move(label_names)),
      buckets_(std::move(buckets)) {
  // An unlabelled family has exactly one series, exported from the start (as 0).
  if (this->label_names().empty()) WithLabels({});
}

template <class T>
std::unique_ptr<T> Family<T>::Make() const {
  if constexpr (std::is_same_v<T, Histogram>) {
    return std::make_unique<T>(buckets_);
  } else {
    return std::make_unique<T>();
  }
}

template <class T>
T& Family<T>::WithLabels(const std::vector<std::string>& values) {
  if (values.size() != label_names().size()) {
    Die("metric " + name() + ": got " + std::to_string(values.size()) + " label values, want " +
        std::to_string(label_names().size()));
  }
  std::string key = SeriesKey(values);
  {
    std::shared_lock<std::shared_mutex> l(mu_);
    auto it = series_.find(key);
    if (it != series_.end()) return *it->second.second;
  }
  std::unique_lock<std::shared_mutex> l(mu_);
  auto it = series_.find(key);
  if (it != series_.end()) return *it->second.second;
  auto [ins, ok] = series_.emplace(std::move(key), std::make_pair(values, Make()));
  return *ins->second.second;
}

template <class T>
bool Family<T>::AppendSamples(std::string* out) const {
  std::vector<std::pair<const std::vector<std::string>*, const T*>> rows;
  std::shared_lock<std::shared_mutex> l(mu_);
  if (series_.empty()) return false;
  rows.reserve(series_.size());
  for (const auto& [key, entry] : series_) rows.emplace_back(&entry.first, entry.second.get());
  std::sort(rows.begin(), rows.end(),
            [](const auto& a, const auto& b) { return *a.first < *b.first; });
  const auto& names = label_names();
  std::vector<size_t> order = SortedOrder(names);
  for (const auto& [values, metric] : rows) {
    if constexpr (std::is_same_v<T, Histogram>) {
      Histogram::Snapshot s = metric->Snap();
      for (size_t i = 0; i <= s.bounds.size(); i++) {
        out->append(name());
        out->append("_bucket");
        std::string le = i < s.bounds.size() ? FormatValue(s.bounds[i]) : "+Inf";
        AppendLabels(out, names, order, *values, "le", le);
        out->push_back(' ');
        out->append(std::to_string(s.cumulative[i]));
        out->push_back('\n');
      }
      out->append(name());
      out->append("_sum");
      AppendLabels(out, names, order, *values);
      out->push_back(' ');
      out->append(FormatValue(s.sum));
      out->push_back('\n');
      out->append(name());
      out->append("_count");
      AppendLabels(out, names, order, *values);
      out->push_back(' ');
      out->append(std::to_string(s.count));
      out->push_back('\n');
    } else {
      out->append(name());
      AppendLabels(out, names, order, *values);
      out->push_back(' ');
      out->append(FormatValue(metric->Value()));
      out->push_back('\n');
    }
  }
  return true;
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

// ---------------------------------------------------------------------------
// Registry

FamilyBase* Registry::Find(const std::string& name) const {
  auto it = families_.find(name);
  return it == families_.end() ? nullptr : it->second.get();
}

template <class T>
Family<T>& Registry::GetOrAdd(std::string name, std::string help, MetricType type,
                              std::vector<std::string> label_names, std::vector<double> buckets) {
  if (!ValidName(name, /*allow_colon=*/true)) Die("invalid metric name \"" + name + "\"");
  for (const auto& ln : label_names) {
    if (!ValidName(ln, /*allow_colon=*/false) || ln.rfind("__", 0) == 0 ||
        (type == MetricType::kHistogram && ln == "le")) {
      Die("metric " + name + ": invalid label name \"" + ln + "\"");
    }
  }
  std::lock_guard<std::mutex> l(mu_);
  if (FamilyBase* f = Find(name)) {
    auto* typed = dynamic_cast<Family<T>*>(f);
    if (typed == nullptr || f->type() != type || f->label_names() != label_names) {
      Die("metric " + name + " registered twice with a different type or label names");
    }
    return *typed;
  }
  auto fam = std::make_unique<Family<T>>(name, std::move(help), type, std::move(label_names),
                                         std::move(buckets));
  Family<T>* raw = fam.get();
  families_.emplace(std::move(name), std::move(fam));
  return *raw;
}

Family<metrics::Counter>& Registry::Counter(std::string name, std::string help,
                                            std::vector<std::string> label_names) {
  return GetOrAdd<metrics::Counter>(std::move(name), std::move(help), MetricType::kCounter,
                                    std::move(label_names), {});
}

Family<metrics::Gauge>& Registry::Gauge(std::string name, std::string help,
                                        std::vector<std::string> label_names) {
  return GetOrAdd<metrics::Gauge>(std::move(name), std::move(help), MetricType::kGauge,
                                  std::move(label_names), {});
}

Family<metrics::Histogram>& Registry::Histogram(std::string name, std::string help,
                                                std::vector<std::string> label_names,
                                                std::vector<double> buckets) {
  return GetOrAdd<metrics::Histogram>(std::move(name), std::move(help), MetricType::kHistogram,
                                      std::move(label_names), std::move(buckets));
}

namespace {
void AddFunc(std::mutex* mu, std::map<std::string, std::unique_ptr<FamilyBase>>* families,
             std::string name, std::string help, MetricType type, std::function<double()> fn) {
  if (!ValidName(name, true)) Die("invalid metric name \"" + name + "\"");
  std::lock_guard<std::mutex> l(*mu);
  auto it = families->find(name);
  if (it != families->end()) {
    auto* f = dynamic_cast<FuncFamily*>(it->second.get());
    if (f == nullptr || f->type() != type) Die("metric " + name + " registered twice");
    f->Replace(std::move(fn));
    return;
  }
  families->emplace(name, std::make_unique<FuncFamily>(name, std::move(help), type, std::move(fn)));
}
}  // namespace

void Registry::GaugeFunc(std::string name, std::string help, std::function<double()> fn) {
  AddFunc(&mu_, &families_, std::move(name), std::move(help), MetricType::kGauge, std::move(fn));
}

void Registry::CounterFunc(std::string name, std::string help, std::function<double()> fn) {
  AddFunc(&mu_, &families_, std::move(name), std::move(help), MetricType::kCounter, std::move(fn));
}

std::string Registry::Expose() const {
  std::vector<const FamilyBase*> fams;
  {
    std::lock_guard<std::mutex> l(mu_);
    fams.reserve(families_.size());
    for (const auto& [name, f] : families_) fams.push_back(f.get());  // std::map: sorted by name
  }
  // Families are never removed, so the pointers stay valid without the lock (and
  // callbacks run unlocked, so they may themselves use the registry).
  std::string out;
  std::string samples;
  for (const FamilyBase* f : fams) {
    samples.clear();
    if (!f->AppendSamples(&samples)) continue;
    out.append("# HELP ");
    out.append(f->name());
    out.push_back(' ');
    AppendEscapedHelp(&out, f->help());
    out.append("\n# TYPE ");
    out.append(f->name());
    out.push_back(' ');
    out.append(TypeName(f->type()));
    out.push_back('\n');
    out.append(samples);
  }
  return out;
}

Registry& DefaultRegistry() {
  static Registry* r = new Registry();  // never destroyed: safe to use during exit
  return *r;
}

// ---------------------------------------------------------------------------
// Process metrics

namespace {

struct ProcStat {
  double utime_ticks = 0, stime_ticks = 0, start_ticks = 0, vsize = 0, rss_pages = 0;
  bool ok = false;
};

ProcStat ReadProcStat() {
  ProcStat st;
  std::ifstream f("/proc/self/stat");
  std::string line;
  if (!std::getline(f, line)) return st;
  // The command name (field 2) is in parentheses and may contain spaces.
  size_t rp = line.rfind(')');
  if (rp == std::string::npos) return st;
  std::istringstream rest(line.substr(rp + 2));
  std::vector<std::string> fields;  // fields[0] = field 3 (state)
  std::string tok;
  while (rest >> tok) fields.push_back(tok);
  if (fields.size() < 22) return st;
  st.utime_ticks = std::strtod(fields[11].c_str(), nullptr);  // field 14
  st.stime_ticks = std::strtod(fields[12].c_str(), nullptr);  // field 15
  st.start_ticks = std::strtod(fields[19].c_str(), nullptr);  // field 22
  st.vsize = std::strtod(fields[20].c_str(), nullptr);        // field 23
  st.rss_pages = std::strtod(fields[21].c_str(), nullptr);    // field 24
  st.ok = true;
  return st;
}

double BootTime() {
  std::ifstream f("/proc/stat");
  std::string key;
  while (f >> key) {
    if (key == "btime") {
      double v = 0;
      f >> v;
      return v;
    }
  }
  return 0;
}

}  // namespace

void RegisterProcessMetrics(Registry* registry) {
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
  registry->CounterFunc("process_cpu_seconds_total",
                        "Total user and system CPU time spent in seconds.", [ticks] {
                          ProcStat st = ReadProcStat();
                          return (st.utime_ticks + st.stime_ticks) / ticks;
                        });
  registry->GaugeFunc("process_resident_memory_bytes", "Resident memory size in bytes.",
                      [page] { return ReadProcStat().rss_pages * page; });
  registry->GaugeFunc("process_virtual_memory_bytes", "Virtual memory size in bytes.",
                      [] { return ReadProcStat().vsize; });
  const double start = BootTime() + ReadProcStat().start_ticks / ticks;
  registry->GaugeFunc("process_start_time_seconds",
                      "Start time of the process since unix epoch in seconds.",
                      [start] { return start; });
  registry->GaugeFunc("process_open_fds", "Number of open file descriptors.", [] {
    double n = 0;
    if (DIR* d = opendir("/proc/self/fd")) {
      while (dirent* e = readdir(d)) {
        if (e->d_name[0] != '.') n++;
      }
      closedir(d);
      n -= 1;  // the descriptor opendir itself holds
    }
    return n;
  });
  registry->GaugeFunc("process_max_fds", "Maximum number of open file descriptors.", [] {
    rlimit rl{};
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return 0.0;
    return static_cast<double>(rl.rlim_cur);
  });
  if (allocator::Read().ok) {
    // Only when jemalloc serves malloc: what the program holds against what stays resident
    // (the difference is fragmentation and freed pages not yet returned).
    registry->GaugeFunc("skald_allocator_allocated_bytes",
                        "Bytes in live allocations, as the allocator (jemalloc) counts them.",
                        [] { return static_cast<double>(allocator::Read().allocated); });
    registry->GaugeFunc("skald_allocator_resident_bytes",
                        "Bytes the allocator (jemalloc) keeps resident, its metadata included.",
                        [] { return static_cast<double>(allocator::Read().resident); });
    registry->GaugeFunc("skald_allocator_metadata_bytes",
                        "Bytes of the allocator's (jemalloc's) own bookkeeping.",
                        [] { return static_cast<double>(allocator::Read().metadata); });
  }
}

}  // namespace skald::metrics
