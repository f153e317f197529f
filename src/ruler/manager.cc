// Rule evaluation and the alert state machine; see manager.h for the semantics.
#include "ruler/manager.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <optional>
#include <set>
#include <unordered_map>
#include <utility>

#include "core/go_string.h"
#include "core/logging.h"
#include "core/time.h"
#include "logql/template.h"
#include "tools/http/http_client.h"

namespace skald::ruler {
namespace {

// Prometheus keeps a resolved alert this long so that its resolution keeps being sent.
constexpr int64_t kResolvedRetentionMs = 15 * 60 * 1000;

int64_t NowMs() { return NowNanos() / 1000000; }

// Prometheus' staleness marker: a NaN with this exact bit pattern.
double StaleNaN() {
  const uint64_t bits = 0x7ff0000000000002ULL;
  double d;
  std::memcpy(&d, &bits, sizeof d);
  return d;
}

// The data of an alert template: the alert's labels as `.` (bound to `$labels`).
class LabelsData : public logql::TemplateData {
 public:
  LabelsData(const Labels& l, int64_t ts_ns) : labels_(l), ts_ns_(ts_ns) {}
  std::optional<std::string_view> Label(std::string_view name) const override {
    for (const auto& l : labels_) {
      if (l.name == name) return std::string_view(l.value);
    }
    return std::nullopt;
  }
  std::string_view Line() const override { return {}; }
  // Prometheus' `now` in alert templates is the evaluation time.
  int64_t TimestampNanos() const override { return ts_ns_; }
  void ForEachLabel(
      const std::function<void(std::string_view, std::string_view)>& fn) const override {
    for (const auto& l : labels_) fn(l.name, l.value);
  }

 private:
  const Labels& labels_;
  int64_t ts_ns_;
};

// `$value` as a template literal. Prometheus' $value is a float64, printed by Go as %v; a
// literal with a '.' or an exponent makes text/template type it float64 too. NaN and the
// infinities have no literal form and become the strings Go would print.
std::string ValueLiteral(double v) {
  if (std::isnan(v)) return "\"NaN\"";
  if (std::isinf(v)) return v > 0 ? "\"+Inf\"" : "\"-Inf\"";
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  std::string s = buf;
  if (s.find_first_of(".e") == std::string::npos) s += ".0";
  return s;
}

// Expands one label or annotation template as Prometheus does (tmpl.Expand): errors become
// the expansion's text instead of failing the rule.
std::string Expand(std::string_view name, std::string_view text, const Labels& labels, double value,
                   const std::string& external_url, int64_t ts_ms) {
  if (text.find("{{") == std::string_view::npos) return std::string(text);
  std::string full = "{{$labels := .}}{{$value := " + ValueLiteral(value) +
                     "}}{{$externalURL := " + GoQuote(external_url) + "}}";
  full.append(text);
  auto t = logql::Template::Parse(full, "__alert_" + std::string(name),
                                  logql::TemplateFuncs::kPrometheusAlerts, external_url);
  if (!t.ok()) return "<error expanding template: " + t.status().message() + ">";
  std::string out;
  Status s = t->Execute(LabelsData(labels, ts_ms * 1000000), &out);
  if (!s.ok()) return "<error expanding template: " + s.message() + ">";
  return out;
}

// Labels with the given pairs set (empty values delete, as in Prometheus' labels.Builder).
Labels WithPairs(const Labels& base, const std::vector<std::pair<std::string, std::string>>& set,
                 std::string_view drop_name) {
  std::vector<Label> out;
  out.reserve(base.size() + set.size());
  for (const auto& l : base) {
    if (l.name == drop_name) continue;
    bool overridden = false;
    for (const auto& [n, v] : set) overridden = overridden || n == l.name;
    if (!overridden) out.push_back(l);
  }
  for (const auto& [n, v] : set) {
    if (!v.empty()) out.push_back(Label{n, v});
  }
  return Labels(std::move(out));
}

// The query's answer as a list of samples (a scalar is one sample without labels).
std::vector<logql::SampleValue> AsVector(logql::QueryValue v) {
  switch (v.type) {
    case logql::QueryValue::Type::kVector:
      return std::move(v.vector);
    case logql::QueryValue::Type::kScalar:
      return {logql::SampleValue{Labels(), v.scalar}};
    case logql::QueryValue::Type::kMatrix: {
      std::vector<logql::SampleValue> out;
      for (auto& s : v.matrix) {
        if (!s.points.empty()) out.push_back({std::move(s.labels), s.points.back()});
      }
      return out;
    }
  }
  return {};
}

}  // namespace

std::string_view AlertStateName(AlertState s) {
  switch (s) {
    case AlertState::kInactive:
      return "inactive";
    case AlertState::kPending:
      return "pending";
    case AlertState::kFiring:
      return "firing";
  }
  return "inactive";
}

struct Manager::Metrics {
  explicit Metrics(metrics::Registry* r) : registry(r) {}
  metrics::Registry* registry;
  metrics::Counter* For(const char* name, const char* help, const std::string& tenant,
                        const std::string& group) {
    if (registry == nullptr) return nullptr;
    return &registry->AddCounter(name, help, {"rule_group", "user"}).WithLabels({group, tenant});
  }
  metrics::Gauge* GaugeFor(const char* name, const char* help, const std::string& tenant,
                           const std::string& group) {
    if (registry == nullptr) return nullptr;
    return &registry->AddGauge(name, help, {"rule_group", "user"}).WithLabels({group, tenant});
  }
};

// One alert of an alerting rule; the evaluator owns it, readers copy it under Group::mu.
struct Alert {
  Labels labels;
  Labels annotations;
  double value = 0;
  AlertState state = AlertState::kPending;
  int64_t active_at = 0, fired_at = 0, resolved_at = 0, last_sent_at = 0, valid_until = 0;
  int64_t keep_firing_since = 0;
};

struct RuleRuntime {
  Rule rule;
  std::string health = "unknown";
  std::string last_error;
  int64_t last_evaluation_ms = 0;
  double evaluation_seconds = 0;
  std::map<std::string, Alert> alerts;   // alerting: by label string
  std::set<std::string> last_series;     // recording: series written last time (for staleness)
  std::map<std::string, Labels> series;  // recording: label string -> labels
};

struct Manager::Group {
  std::string tenant, ns;
  RuleGroup def;
  int64_t interval_ms = 0;
  uint64_t hash = 0;
  int64_t next_eval_ms = 0;
  bool running = false;
  bool retired = false;  // replaced or deleted; a running evaluation's result is dropped

  mutable std::mutex mu;  // guards the fields below for readers; the evaluator writes them
  int64_t last_evaluation_ms = 0;
  double evaluation_seconds = 0;
  std::vector<RuleRuntime> rules;

  metrics::Counter* evaluations = nullptr;
  metrics::Counter* failures = nullptr;
  metrics::Counter* missed = nullptr;
  metrics::Gauge* last_eval_ts = nullptr;
  metrics::Gauge* rules_gauge = nullptr;
};

Manager::Manager(RuleStore* store, InstantQueryFunc query, ManagerSinks sinks,
                 ManagerOptions options, metrics::Registry* metrics)
    : store_(store),
      query_(std::move(query)),
      sinks_(std::move(sinks)),
      options_(std::move(options)),
      metrics_(std::make_unique<Metrics>(metrics)) {
  if (options_.evaluation_interval_ms <= 0) options_.evaluation_interval_ms = 60000;
  if (options_.poll_interval_ms <= 0) options_.poll_interval_ms = 60000;
  if (options_.resend_delay_ms <= 0) options_.resend_delay_ms = 60000;
}

Manager::~Manager() { Stop(); }

int64_t Manager::NextEvaluation(int64_t now_ms, int64_t interval_ms, uint64_t key_hash) {
  const int64_t offset = static_cast<int64_t>(key_hash % static_cast<uint64_t>(interval_ms));
  int64_t base = now_ms - offset;
  int64_t rem = base % interval_ms;
  if (rem < 0) rem += interval_ms;
  return now_ms - rem + interval_ms;
}

void Manager::Start() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (started_) return;
    started_ = true;
    pool_ = std::make_unique<ThreadPool>("skald-ruler", std::max(1, options_.concurrency), 0);
  }
  Status s = Sync();
  if (!s.ok()) log::Warn("ruler: loading rule groups failed", {{"err", s.ToString()}});
  scheduler_ = std::thread([this] { SchedulerLoop(); });
}

void Manager::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ || !started_) {
      stopping_ = true;
      return;
    }
    stopping_ = true;
  }
  cv_.notify_all();
  if (scheduler_.joinable()) scheduler_.join();
  if (pool_) pool_->Shutdown();
}

Status Manager::Sync() {
  SKALD_ASSIGN_OR_RETURN(std::vector<std::string> tenants, store_->Tenants());
  std::vector<std::string> loaded;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [t, g] : groups_) loaded.push_back(t);
  }
  Status first = Status::OK();
  for (const auto& t : tenants) {
    Status s = SyncTenant(t);
    if (!s.ok() && first.ok()) first = s;
  }
  for (const auto& t : loaded) {
    if (!std::binary_search(tenants.begin(), tenants.end(), t)) {
      Status s = Load(t, {});
      if (!s.ok() && first.ok()) first = s;
    }
  }
  return first;
}

Status Manager::SyncTenant(std::string_view tenant) {
  SKALD_ASSIGN_OR_RETURN(RuleNamespaces ns, store_->List(tenant));
  return Load(tenant, std::move(ns));
}

Status Manager::Load(std::string_view tenant, RuleNamespaces namespaces) {
  const int64_t now = NowMs();
  std::map<std::string, std::shared_ptr<Group>> next;
  std::lock_guard<std::mutex> lock(mu_);
  auto& current = groups_[std::string(tenant)];
  for (auto& [ns, groups] : namespaces) {
    for (auto& def : groups) {
      std::string key = ns + '\0' + def.name;
      auto it = current.find(key);
      if (it != current.end() && it->second->def == def) {
        next.emplace(key, it->second);
        continue;
      }
      auto g = std::make_shared<Group>();
      g->tenant = std::string(tenant);
      g->ns = ns;
      g->interval_ms = def.interval_ms > 0 ? def.interval_ms : options_.evaluation_interval_ms;
      g->hash = Labels({{"tenant", g->tenant}, {"ns", ns}, {"group", def.name}}).Fingerprint();
      g->next_eval_ms = NextEvaluation(now, g->interval_ms, g->hash);
      for (const auto& r : def.rules) {
        RuleRuntime rr;
        rr.rule = r;
        g->rules.push_back(std::move(rr));
      }
      if (it != current.end()) {
        // Carry the alerts of alerting rules that did not change (Prometheus' CopyState).
        std::lock_guard<std::mutex> old_lock(it->second->mu);
        for (auto& nr : g->rules) {
          for (const auto& orr : it->second->rules) {
            if (nr.rule.is_alert() && nr.rule == orr.rule) {
              nr.alerts = orr.alerts;
              nr.health = orr.health;
              nr.last_error = orr.last_error;
              nr.last_evaluation_ms = orr.last_evaluation_ms;
              break;
            }
          }
        }
        it->second->retired = true;
      }
      const std::string rule_group = ns + ";" + def.name;
      g->evaluations =
          metrics_->For("loki_prometheus_rule_evaluations_total",
                        "The total number of rule evaluations.", g->tenant, rule_group);
      g->failures =
          metrics_->For("loki_prometheus_rule_evaluation_failures_total",
                        "The total number of rule evaluation failures.", g->tenant, rule_group);
      g->missed = metrics_->For("loki_prometheus_rule_group_iterations_missed_total",
                                "The total number of rule group evaluations missed due to slow "
                                "rule group evaluation.",
                                g->tenant, rule_group);
      g->last_eval_ts = metrics_->GaugeFor(
          "loki_prometheus_rule_group_last_evaluation_timestamp_seconds",
          "The timestamp of the last rule group evaluation in seconds.", g->tenant, rule_group);
      g->rules_gauge = metrics_->GaugeFor("loki_prometheus_rule_group_rules",
                                          "The number of rules.", g->tenant, rule_group);
      if (g->rules_gauge != nullptr) g->rules_gauge->Set(static_cast<double>(def.rules.size()));
      g->def = std::move(def);
      next.emplace(std::move(key), std::move(g));
    }
  }
  for (auto& [key, g] : current) {
    if (next.find(key) == next.end()) {
      g->retired = true;
      if (g->rules_gauge != nullptr) g->rules_gauge->Set(0);
    }
  }
  current = std::move(next);
  if (current.empty()) groups_.erase(std::string(tenant));
  cv_.notify_all();
  return Status::OK();
}

void Manager::SchedulerLoop() {
  int64_t next_poll = NowMs() + options_.poll_interval_ms;
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    const int64_t now = NowMs();
    if (now >= next_poll) {
      lock.unlock();
      Status s = Sync();
      if (!s.ok()) log::Warn("ruler: reloading rule groups failed", {{"err", s.ToString()}});
      lock.lock();
      next_poll = NowMs() + options_.poll_interval_ms;
      continue;
    }
    int64_t wake = next_poll;
    for (auto& [tenant, groups] : groups_) {
      for (auto& [key, g] : groups) {
        if (g->running) continue;
        if (g->next_eval_ms > now) {
          wake = std::min(wake, g->next_eval_ms);
          continue;
        }
        const int64_t ts = g->next_eval_ms;
        // Skip the iterations that are already past (a slow evaluation or a stalled process).
        int64_t missed = (now - ts) / g->interval_ms;
        if (missed > 0 && g->missed != nullptr) g->missed->Inc(static_cast<double>(missed));
        const int64_t eval_ts = ts + missed * g->interval_ms;
        g->next_eval_ms = eval_ts + g->interval_ms;
        wake = std::min(wake, g->next_eval_ms);
        g->running = true;
        std::shared_ptr<Group> ref = g;
        bool queued = pool_->TrySubmit([this, ref, eval_ts] {
          Evaluate(ref.get(), eval_ts);
          std::lock_guard<std::mutex> l(mu_);
          ref->running = false;
          cv_.notify_all();
        });
        if (!queued) g->running = false;
      }
    }
    cv_.wait_for(lock, std::chrono::milliseconds(std::max<int64_t>(1, wake - NowMs())));
  }
}

Status Manager::EvaluateNow(std::string_view tenant, std::string_view ns, std::string_view group,
                            int64_t ts_ms) {
  std::shared_ptr<Group> g;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto t = groups_.find(tenant);
    if (t != groups_.end()) {
      auto it = t->second.find(std::string(ns) + '\0' + std::string(group));
      if (it != t->second.end()) g = it->second;
    }
    if (g == nullptr) return Status::NotFound("rule group not loaded");
    if (g->running) return Status::Unavailable("rule group is being evaluated");
    g->running = true;
  }
  Evaluate(g.get(), ts_ms);
  std::lock_guard<std::mutex> lock(mu_);
  g->running = false;
  cv_.notify_all();
  return Status::OK();
}

void Manager::Evaluate(Group* g, int64_t ts) {
  const int64_t group_start = MonotonicNanos();
  std::vector<RemoteSample> samples;
  std::vector<NotifiedAlert> to_send;
  const int64_t resend = options_.resend_delay_ms;
  const std::string& url = options_.external_url;

  // The evaluator is the only writer of the rule runtimes (g->running is exclusive); it
  // works on copies and publishes them under g->mu so readers never wait for a query.
  std::vector<RuleRuntime> rules;
  {
    std::lock_guard<std::mutex> lock(g->mu);
    rules = g->rules;
  }
  for (auto& rr : rules) {
    const int64_t rule_start = MonotonicNanos();
    const Rule& rule = rr.rule;
    rr.last_evaluation_ms = ts;
    auto result = query_(g->tenant, rule.expr, ts * 1000000);
    Status err = Status::OK();
    std::vector<logql::SampleValue> vec;
    if (result.ok()) {
      vec = AsVector(std::move(*result));
    } else {
      err = result.status();
    }

    if (err.ok() && !rule.is_alert()) {
      std::map<std::string, Labels> series;
      std::vector<std::pair<std::string, std::string>> set = rule.labels;
      set.emplace_back("__name__", rule.record);
      std::vector<RemoteSample> out;
      for (auto& s : vec) {
        Labels l = WithPairs(s.labels, set, "");
        std::string key = l.ToString();
        if (series.count(key) != 0) {
          err = Status::InvalidArgument(
              "vector contains metrics with the same labelset after applying rule labels");
          break;
        }
        series.emplace(key, l);
        out.push_back(RemoteSample{std::move(l), s.point.value, ts});
      }
      if (err.ok() && g->def.limit > 0 && static_cast<int64_t>(series.size()) > g->def.limit) {
        err = Status::InvalidArgument("exceeded limit of " + std::to_string(g->def.limit) +
                                      " with " + std::to_string(series.size()) + " series");
      }
      if (err.ok()) {
        for (auto& [key, labels] : rr.series) {
          if (series.count(key) == 0) out.push_back(RemoteSample{labels, StaleNaN(), ts});
        }
        rr.series = std::move(series);
        for (auto& s : out) samples.push_back(std::move(s));
      }
    }

    if (!rule.is_alert()) {
      // nothing more for recording rules
    } else if (err.ok()) {
      std::map<std::string, Alert> seen;
      for (auto& s : vec) {
        // Labels and annotations are templates over the result's labels (without __name__)
        // and its value; the rule's labels then override the result's.
        Labels base = WithPairs(s.labels, {}, "__name__");
        std::vector<std::pair<std::string, std::string>> set;
        for (const auto& [n, v] : rule.labels) {
          set.emplace_back(n, Expand(rule.alert, v, base, s.point.value, url, ts));
        }
        set.emplace_back("alertname", rule.alert);
        Labels labels = WithPairs(base, set, "");
        std::vector<Label> ann;
        for (const auto& [n, v] : rule.annotations) {
          ann.push_back(Label{n, Expand(rule.alert, v, base, s.point.value, url, ts)});
        }
        std::string key = labels.ToString();
        if (seen.count(key) != 0) {
          err = Status::InvalidArgument(
              "vector contains metrics with the same labelset after applying alert labels");
          break;
        }
        Alert a;
        a.labels = std::move(labels);
        a.annotations = Labels(std::move(ann));
        a.value = s.point.value;
        seen.emplace(std::move(key), std::move(a));
      }
      if (err.ok()) {
        for (auto& [key, a] : seen) {
          auto it = rr.alerts.find(key);
          if (it != rr.alerts.end() && it->second.state != AlertState::kInactive) {
            it->second.value = a.value;
            it->second.annotations = std::move(a.annotations);
            it->second.keep_firing_since = 0;
            continue;
          }
          a.state = AlertState::kPending;
          a.active_at = ts;
          rr.alerts[key] = std::move(a);
        }
        // Alerts no longer in the result.
        for (auto it = rr.alerts.begin(); it != rr.alerts.end();) {
          Alert& a = it->second;
          if (seen.count(it->first) != 0) {
            ++it;
            continue;
          }
          if (a.state == AlertState::kPending ||
              (a.state == AlertState::kInactive && ts - a.resolved_at > kResolvedRetentionMs)) {
            it = rr.alerts.erase(it);
            continue;
          }
          if (a.state == AlertState::kFiring) {
            if (rule.keep_firing_for_ms > 0) {
              if (a.keep_firing_since == 0) a.keep_firing_since = ts;
              if (ts - a.keep_firing_since < rule.keep_firing_for_ms) {
                ++it;
                continue;
              }
            }
            a.state = AlertState::kInactive;
            a.resolved_at = ts;
          }
          ++it;
        }
        for (auto& [key, a] : rr.alerts) {
          if (a.state == AlertState::kPending && ts - a.active_at >= rule.for_ms) {
            a.state = AlertState::kFiring;
            a.fired_at = ts;
          }
        }
        int64_t active = 0;
        for (const auto& [key, a] : rr.alerts) active += a.state != AlertState::kInactive;
        if (g->def.limit > 0 && active > g->def.limit) {
          rr.alerts.clear();
          err = Status::InvalidArgument("exceeded limit of " + std::to_string(g->def.limit) +
                                        " with " + std::to_string(active) + " alerts");
        }
      }
      if (err.ok()) {
        // ALERTS / ALERTS_FOR_STATE, and the notifications that are due.
        for (auto& [key, a] : rr.alerts) {
          if (a.state != AlertState::kInactive) {
            samples.push_back(RemoteSample{
                WithPairs(
                    a.labels,
                    {{"__name__", "ALERTS"}, {"alertstate", std::string(AlertStateName(a.state))}},
                    ""),
                1, ts});
            samples.push_back(
                RemoteSample{WithPairs(a.labels, {{"__name__", "ALERTS_FOR_STATE"}}, ""),
                             static_cast<double>(a.active_at / 1000), ts});
          }
          if (a.state == AlertState::kPending) continue;
          const bool resolved_unsent =
              a.state == AlertState::kInactive && a.resolved_at > a.last_sent_at;
          if (!resolved_unsent && a.last_sent_at + resend >= ts)
            continue;  // Prometheus: Before(ts)
          a.last_sent_at = ts;
          a.valid_until = ts + 4 * std::max(resend, g->interval_ms);
          NotifiedAlert n;
          n.labels = a.labels;
          n.annotations = a.annotations;
          n.starts_at_ms = a.fired_at != 0 ? a.fired_at : a.active_at;
          n.ends_at_ms = a.state == AlertState::kInactive ? a.resolved_at : a.valid_until;
          n.generator_url = url + "/graph?g0.expr=" + http::QueryEscape(rule.expr) + "&g0.tab=1";
          to_send.push_back(std::move(n));
        }
      }
    }

    if (err.ok()) {
      rr.health = "ok";
      rr.last_error.clear();
    } else {
      rr.health = "err";
      rr.last_error = err.message();
      if (g->failures != nullptr) g->failures->Inc();
      log::Warn("ruler: rule evaluation failed",
                {{"user", g->tenant},
                 {"namespace", g->ns},
                 {"group", g->def.name},
                 {"rule", rule.is_alert() ? rule.alert : rule.record},
                 {"err", err.message()}});
    }
    if (g->evaluations != nullptr) g->evaluations->Inc();
    rr.evaluation_seconds = static_cast<double>(MonotonicNanos() - rule_start) / 1e9;
  }

  {
    std::lock_guard<std::mutex> lock(g->mu);
    g->rules = std::move(rules);
    g->last_evaluation_ms = ts;
    g->evaluation_seconds = static_cast<double>(MonotonicNanos() - group_start) / 1e9;
  }
  if (g->last_eval_ts != nullptr) g->last_eval_ts->Set(static_cast<double>(ts) / 1000.0);
  bool retired;
  {
    std::lock_guard<std::mutex> lock(mu_);
    retired = g->retired;
  }
  if (retired) return;
  if (sinks_.samples && !samples.empty()) sinks_.samples(g->tenant, std::move(samples));
  if (sinks_.alerts && !to_send.empty()) sinks_.alerts(std::move(to_send));
}

std::vector<GroupStatus> Manager::Groups(std::string_view tenant) const {
  std::vector<std::shared_ptr<Group>> gs;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto t = groups_.find(tenant);
    if (t == groups_.end()) return {};
    for (const auto& [key, g] : t->second) gs.push_back(g);
  }
  std::vector<GroupStatus> out;
  out.reserve(gs.size());
  for (const auto& g : gs) {
    GroupStatus st;
    st.tenant = g->tenant;
    st.ns = g->ns;
    st.name = g->def.name;
    st.interval_ms = g->interval_ms;
    st.limit = g->def.limit;
    std::lock_guard<std::mutex> lock(g->mu);
    st.last_evaluation_ms = g->last_evaluation_ms;
    st.evaluation_seconds = g->evaluation_seconds;
    for (const auto& rr : g->rules) {
      RuleStatus rs;
      rs.rule = rr.rule;
      rs.health = rr.health;
      rs.last_error = rr.last_error;
      rs.last_evaluation_ms = rr.last_evaluation_ms;
      rs.evaluation_seconds = rr.evaluation_seconds;
      for (const auto& [key, a] : rr.alerts) {
        if (a.state == AlertState::kInactive) continue;
        if (a.state == AlertState::kFiring || rs.state == AlertState::kInactive) rs.state = a.state;
        rs.alerts.push_back(AlertStatus{a.labels, a.annotations, a.state, a.active_at, a.fired_at,
                                        a.resolved_at, a.value});
      }
      st.rules.push_back(std::move(rs));
    }
    out.push_back(std::move(st));
  }
  return out;
}

}  // namespace skald::ruler
