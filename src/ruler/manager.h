// The ruler's evaluation loop: every rule group of every tenant is evaluated at its interval
// on the LogQL engine (an instant query at the group's aligned evaluation time), with
// Prometheus' semantics:
//
// - Recording rules: each sample of the result becomes a series named `record` (the rule's
//   labels override the result's); the samples go to remote write, and a series that
//   disappears gets a staleness marker (Prometheus' StaleNaN) once.
// - Alerting rules: each sample is an alert identified by its labels (result labels minus
//   `__name__`, plus the rule's expanded labels, plus `alertname`). New alerts are pending,
//   and fire once they have been active for `for`; alerts gone from the result are dropped
//   when pending and resolved when firing (kept 15 min to send the resolution) unless
//   `keep_firing_for` holds them. Firing and resolved alerts are sent to Alertmanager when
//   they change and again every resend delay; `ALERTS` and `ALERTS_FOR_STATE` series are
//   remote-written like Prometheus' own.
// - Templates in labels and annotations see `$labels`, `$value` and `$externalURL`, with
//   Prometheus' function set; a template that fails expands to
//   `<error expanding template: ...>`, as in Prometheus.
// - A group limit > 0 fails the evaluation when a rule yields more series / alerts.
//
// One scheduler thread decides what is due; evaluations run on a small pool, never two of the
// same group at once (a group whose evaluation overruns skips the missed iterations, counted
// in loki_prometheus_rule_group_iterations_missed_total). Groups come from the RuleStore:
// Sync() reloads them (at start, every poll interval, and after each API write); a changed
// group keeps the state of its unchanged alerting rules.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/labels.h"
#include "core/metrics.h"
#include "core/status.h"
#include "core/thread_pool.h"
#include "logql/value.h"
#include "ruler/alertmanager.h"
#include "ruler/remote_write.h"
#include "ruler/rule_store.h"
#include "ruler/rules.h"

namespace skald::ruler {

// Evaluates a LogQL metric query for a tenant at an instant (Unix ns).
using InstantQueryFunc = std::function<StatusOr<logql::QueryValue>(
    std::string_view tenant, std::string_view expr, int64_t time_ns)>;

struct ManagerOptions {
  int64_t evaluation_interval_ms = 60000;  // ruler.evaluation_interval: groups without one
  int64_t poll_interval_ms = 60000;        // ruler.poll_interval: store re-read
  int64_t resend_delay_ms = 60000;         // ruler.resend_delay
  std::string external_url;                // ruler.external_url: generatorURL, $externalURL
  int concurrency = 2;                     // evaluations at once
};

enum class AlertState { kInactive, kPending, kFiring };
std::string_view AlertStateName(AlertState s);  // "inactive", "pending", "firing"

struct AlertStatus {
  Labels labels;
  Labels annotations;
  AlertState state = AlertState::kInactive;
  int64_t active_at_ms = 0;
  int64_t fired_at_ms = 0;
  int64_t resolved_at_ms = 0;  // 0 while active
  double value = 0;
};

struct RuleStatus {
  Rule rule;
  std::string health = "unknown";  // "ok", "err", "unknown" (not evaluated yet)
  std::string last_error;
  int64_t last_evaluation_ms = 0;
  double evaluation_seconds = 0;
  AlertState state = AlertState::kInactive;  // the highest state of its alerts
  std::vector<AlertStatus> alerts;           // pending and firing ones
};

struct GroupStatus {
  std::string tenant;
  std::string ns;  // Prometheus' `file`
  std::string name;
  int64_t interval_ms = 0;
  int64_t limit = 0;
  int64_t last_evaluation_ms = 0;
  double evaluation_seconds = 0;
  std::vector<RuleStatus> rules;
};

// Where evaluation results go: the app connects them to an AlertmanagerNotifier and a
// RemoteWriter; unset ones drop their output (as Loki's ruler without alertmanager_url /
// remote_write). Called on evaluation threads; must not block.
struct ManagerSinks {
  std::function<void(std::vector<NotifiedAlert>)> alerts;
  std::function<void(std::string tenant, std::vector<RemoteSample>)> samples;
};

class Manager {
 public:
  // `store` and `query` are required.
  Manager(RuleStore* store, InstantQueryFunc query, ManagerSinks sinks, ManagerOptions options,
          metrics::Registry* metrics);
  ~Manager();  // Stop()
  Manager(const Manager&) = delete;
  Manager& operator=(const Manager&) = delete;

  // Loads the groups (an unreadable store is logged and retried at the next poll) and starts
  // the scheduler.
  void Start();
  void Stop();

  // Re-reads every tenant's groups from the store. Thread-safe.
  Status Sync();
  // Re-reads one tenant's groups (after an API write). Thread-safe.
  Status SyncTenant(std::string_view tenant);

  // The tenant's groups with their rules' health and alerts, ordered by namespace then group
  // (the order of the files), for /prometheus/api/v1/rules and /alerts. Thread-safe.
  std::vector<GroupStatus> Groups(std::string_view tenant) const;

  // Evaluates one loaded group at `ts_ms` on the calling thread (what the scheduler does;
  // tests call it to step time by hand). NotFound when the group is not loaded.
  Status EvaluateNow(std::string_view tenant, std::string_view ns, std::string_view group,
                     int64_t ts_ms);

  // Aligned evaluation times: a group's evaluations happen at t with t % interval == offset,
  // offset derived from a hash of (tenant, namespace, group) so groups spread over the
  // interval instead of all running at once (Prometheus does the same).
  static int64_t NextEvaluation(int64_t now_ms, int64_t interval_ms, uint64_t key_hash);

 private:
  struct Group;
  struct Metrics;

  Status Load(std::string_view tenant, RuleNamespaces namespaces);
  void Evaluate(Group* g, int64_t ts_ms);
  void SchedulerLoop();

  RuleStore* store_;
  InstantQueryFunc query_;
  ManagerSinks sinks_;
  ManagerOptions options_;
  std::unique_ptr<Metrics> metrics_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  // tenant -> key (namespace \0 group) -> group
  std::map<std::string, std::map<std::string, std::shared_ptr<Group>>, std::less<>> groups_;
  bool stopping_ = false;
  bool started_ = false;
  std::unique_ptr<ThreadPool> pool_;
  std::thread scheduler_;
};

}  // namespace skald::ruler
