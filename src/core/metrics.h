// Prometheus metrics: counters, gauges, histograms and their text exposition.
//
// A small, dependency-free replacement for the Prometheus client library. Metrics
// live in a Registry as named families; a family with label names hands out one
// series per distinct label-value tuple. Updating a series is lock-free (atomics);
// looking a series up takes a shared lock, so hot paths should look up once and
// keep the returned reference (references stay valid for the registry's lifetime).
// Registry::Expose() renders the text exposition format 0.0.4 that /metrics serves.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace skald::metrics {

// Content-Type of Registry::Expose() output.
inline constexpr std::string_view kExpositionContentType =
    "text/plain; version=0.0.4; charset=utf-8";

// Prometheus client_golang's DefBuckets (seconds).
std::vector<double> DefaultBuckets();
// `count` buckets starting at `start`, each `factor` times the previous one.
std::vector<double> ExponentialBuckets(double start, double factor, int count);
// `count` buckets starting at `start`, each `width` above the previous one.
std::vector<double> LinearBuckets(double start, double width, int count);

// Monotonic counter. Thread-safe, lock-free.
class Counter {
 public:
  Counter() = default;
  Counter(const Counter&) = delete;
  Counter& operator=(const Counter&) = delete;

  // Adds v (negative values are ignored: counters only go up).
  void Inc(double v = 1);
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// Value that can go up and down. Thread-safe, lock-free.
class Gauge {
 public:
  Gauge() = default;
  Gauge(const Gauge&) = delete;
  Gauge& operator=(const Gauge&) = delete;

  void Set(double v) { value_.store(v, std::memory_order_relaxed); }
  void Add(double v);
  void Sub(double v) { Add(-v); }
  void Inc() { Add(1); }
  void Dec() { Add(-1); }
  // Sets the gauge to the current wall-clock time in (fractional) Unix seconds.
  void SetToCurrentTime();
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// Histogram with fixed upper bounds. Observe() is lock-free (one atomic increment
// of the matching bucket plus a CAS loop on the sum). A scrape concurrent with
// observations may see the sum slightly out of step with the counts; _count is
// always equal to the +Inf bucket.
class Histogram {
 public:
  // `bounds` must be sorted ascending; a trailing +Inf is implied (and dropped if given).
  explicit Histogram(std::vector<double> bounds);
  Histogram(const Histogram&) = delete;
  Histogram& operator=(const Histogram&) = delete;

  void Observe(double v);

  struct Snapshot {
    std::vector<double> bounds;        // upper bounds, without +Inf
    std::vector<uint64_t> cumulative;  // bounds.size() + 1 entries; last = +Inf = count
    double sum = 0;
    uint64_t count = 0;
  };
  Snapshot Snap() const;
  uint64_t Count() const;
  double Sum() const { return sum_.load(std::memory_order_relaxed); }

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;  // bounds_.size() + 1 (non-cumulative)
  std::atomic<double> sum_{0};
};

enum class MetricType { kCounter, kGauge, kHistogram };

// Type-erased view of a family, used by the registry for exposition.
class FamilyBase {
 public:
  FamilyBase(std::string name, std::string help, MetricType type,
             std::vector<std::string> label_names)
      : name_(std::move(name)),
        help_(std::move(help)),
        type_(type),
        label_names_(std::move(label_names)) {}
  virtual ~FamilyBase() = default;

  const std::string& name() const { return name_; }
  const std::string& help() const { return help_; }
  MetricType type() const { return type_; }
  const std::vector<std::string>& label_names() const { return label_names_; }

  // Appends the sample lines (no HELP/TYPE) of every series, sorted by label values.
  // Returns false when the family has no series (so it is left out of the output).
  virtual bool AppendSamples(std::string* out) const = 0;

 private:
  std::string name_;
  std::string help_;
  MetricType type_;
  std::vector<std::string> label_names_;
};

// A named metric with label names; one T per distinct tuple of label values.
// WithLabels() is thread-safe; returned references stay valid as long as the
// registry lives. Passing a number of values different from the number of label
// names is a programming error and aborts the process.
template <class T>
class Family : public FamilyBase {
 public:
  // For histograms `buckets` holds the bucket bounds; ignored otherwise.
  Family(std::string name, std::string help, MetricType type, std::vector<std::string> label_names,
         std::vector<double> buckets = {});

  T& WithLabels(const std::vector<std::string>& values = {});
  bool AppendSamples(std::string* out) const override;

 private:
  std::unique_ptr<T> Make() const;

  std::vector<double> buckets_;
  mutable std::shared_mutex mu_;
  // Keyed by the label values joined with '\xff' (a byte that never occurs in UTF-8).
  std::unordered_map<std::string, std::pair<std::vector<std::string>, std::unique_ptr<T>>> series_;
};

// A set of metric families. Registration is idempotent: registering a name again
// with the same type and label names returns the existing family; registering it
// with a different type or label names is a programming error and aborts. Metric
// and label names must match [a-zA-Z_:][a-zA-Z0-9_:]* (checked; aborts otherwise).
// All methods are thread-safe.
class Registry {
 public:
  Registry() = default;
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  Family<metrics::Counter>& Counter(std::string name, std::string help,
                                    std::vector<std::string> label_names = {});
  Family<metrics::Gauge>& Gauge(std::string name, std::string help,
                                std::vector<std::string> label_names = {});
  Family<metrics::Histogram>& Histogram(std::string name, std::string help,
                                        std::vector<std::string> label_names,
                                        std::vector<double> buckets);
  // Same as above under names that never clash with the types.
  Family<metrics::Counter>& AddCounter(std::string name, std::string help,
                                       std::vector<std::string> label_names = {}) {
    return Counter(std::move(name), std::move(help), std::move(label_names));
  }
  Family<metrics::Gauge>& AddGauge(std::string name, std::string help,
                                   std::vector<std::string> label_names = {}) {
    return Gauge(std::move(name), std::move(help), std::move(label_names));
  }
  Family<metrics::Histogram>& AddHistogram(std::string name, std::string help,
                                           std::vector<std::string> label_names,
                                           std::vector<double> buckets) {
    return Histogram(std::move(name), std::move(help), std::move(label_names), std::move(buckets));
  }

  // Unlabelled gauge / counter whose value is read by calling fn at scrape time.
  // fn runs on the scraping thread and must be thread-safe. Registering the same
  // name again replaces the callback.
  void GaugeFunc(std::string name, std::string help, std::function<double()> fn);
  void CounterFunc(std::string name, std::string help, std::function<double()> fn);

  // Text exposition format 0.0.4: families sorted by name, each with
  // `# HELP` / `# TYPE` lines, series sorted by label values, label values escaped
  // (\\, \", \n), histograms as _bucket{le=...} (cumulative, with +Inf), _sum, _count.
  // Families without any series are omitted.
  std::string Expose() const;

 private:
  FamilyBase* Find(const std::string& name) const;  // mu_ held
  template <class T>
  Family<T>& GetOrAdd(std::string name, std::string help, MetricType type,
                      std::vector<std::string> label_names, std::vector<double> buckets);

  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<FamilyBase>> families_;
};

// Process-wide registry used when a component is not given one explicitly.
Registry& DefaultRegistry();

// Registers process_* metrics read from /proc/self at scrape time:
// process_cpu_seconds_total, process_resident_memory_bytes,
// process_virtual_memory_bytes, process_open_fds, process_max_fds,
// process_start_time_seconds. Idempotent.
void RegisterProcessMetrics(Registry* registry);

// Formats a sample value like Go's strconv.FormatFloat(v, 'g', -1, 64), with
// +Inf / -Inf / NaN spelled the Prometheus way.
std::string FormatValue(double v);
// Appends v with `\`, `"` and newline escaped (label value rules).
void AppendEscapedLabelValue(std::string* out, std::string_view v);

}  // namespace skald::metrics
