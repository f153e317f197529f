// Distributor: validates pushed streams and entries with Loki's rules and
// messages, enriches labels (service_name), and hands accepted entries to the
// ingester. Invalid streams/entries are dropped one by one and reported; the
// valid rest of the request is still written (Loki's partial acceptance).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "core/time.h"
#include "ingester/interface.h"
#include "wire/push.h"

namespace skald::metrics {
class Registry;
class Counter;
template <class T>
class Family;
}  // namespace skald::metrics

namespace skald::distributor {

// Per-tenant validation limits (limits_config). Names and defaults are Loki's.
struct Limits {
  int max_label_names_per_series = 15;
  int max_label_name_length = 1024;
  int max_label_value_length = 2048;
  int64_t max_line_size = 262144;  // 0 = unlimited
  bool reject_old_samples = true;
  int64_t reject_old_samples_max_age = 168 * kNanosPerHour;
  int64_t creation_grace_period = 10 * kNanosPerMinute;
  bool allow_structured_metadata = true;
  int64_t max_structured_metadata_size = 65536;     // 0 = unlimited
  int max_structured_metadata_entries_count = 128;  // 0 = unlimited
  std::vector<std::string> discover_service_name = {"service",
                                                    "app",
                                                    "application",
                                                    "app_name",
                                                    "name",
                                                    "app_kubernetes_io_name",
                                                    "container",
                                                    "container_name",
                                                    "k8s_container_name",
                                                    "component",
                                                    "workload",
                                                    "job",
                                                    "k8s_job_name"};
};

class Distributor {
 public:
  // ingester must outlive the distributor; registry may be null.
  Distributor(Limits limits, ingester::Pusher* ingester, metrics::Registry* registry);

  // Validates and writes a decoded push for tenant. Returns:
  //  OK                  -> 204: everything accepted
  //  InvalidArgument     -> 400: some streams/entries were rejected (the rest was written);
  //                         the message groups the reasons as Loki does
  //  Unprocessable       -> 422: the request carried no streams
  // Thread-safe.
  Status Push(std::string_view tenant, const wire::PushRequest& req);

  // Loki's grouping of validation errors: one error -> its text; otherwise
  // "N errors like: <msg>" per distinct message joined with "; ".
  static std::string GroupErrors(const std::vector<std::string>& errors);

 private:
  struct Metrics;
  void Discard(std::string_view reason, std::string_view tenant, uint64_t lines, uint64_t bytes);

  Limits limits_;
  ingester::Pusher* ingester_;
  // Metric families, resolved once (null without a registry).
  metrics::Family<metrics::Counter>* lines_received_ = nullptr;
  metrics::Family<metrics::Counter>* bytes_received_ = nullptr;
  metrics::Family<metrics::Counter>* discarded_samples_ = nullptr;
  metrics::Family<metrics::Counter>* discarded_bytes_ = nullptr;
};

}  // namespace skald::distributor
