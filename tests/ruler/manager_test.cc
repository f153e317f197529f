// Manager: the alert state machine, recording rules, templates and scheduling. The LogQL
// engine is replaced by a scripted query function here (the whole path with the real engine,
// Alertmanager and Prometheus runs in tests/integration/ruler_test.cc).
#include "ruler/manager.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstring>
#include <map>
#include <mutex>

#include "tests/testing/temp_dir.h"
#include "tests/testing/wait.h"

namespace skald::ruler {
namespace {

constexpr int64_t kMin = 60000;

Labels L(std::vector<Label> v) { return Labels(std::move(v)); }

class ManagerTest : public ::testing::Test {
 protected:
  ManagerTest() : store_(dir_.path()) {}

  // The scripted engine: expr -> answer (a vector), or an error.
  void Answer(const std::string& expr, std::vector<logql::SampleValue> v) {
    std::lock_guard<std::mutex> l(mu_);
    logql::QueryValue q;
    q.type = logql::QueryValue::Type::kVector;
    q.vector = std::move(v);
    answers_[expr] = std::move(q);
    errors_.erase(expr);
  }
  void Fail(const std::string& expr, std::string msg) {
    std::lock_guard<std::mutex> l(mu_);
    errors_[expr] = std::move(msg);
  }

  std::unique_ptr<Manager> Make(ManagerOptions o = {}) {
    ManagerSinks sinks;
    sinks.alerts = [this](std::vector<NotifiedAlert> a) {
      std::lock_guard<std::mutex> l(mu_);
      for (auto& x : a) sent_.push_back(std::move(x));
    };
    sinks.samples = [this](std::string tenant, std::vector<RemoteSample> v) {
      std::lock_guard<std::mutex> l(mu_);
      for (auto& x : v) written_.emplace_back(tenant, std::move(x));
    };
    auto query = [this](std::string_view tenant, std::string_view expr,
                        int64_t t) -> StatusOr<logql::QueryValue> {
      std::lock_guard<std::mutex> l(mu_);
      ++queries_;
      last_query_time_ns_ = t;
      last_tenant_ = std::string(tenant);
      auto e = errors_.find(std::string(expr));
      if (e != errors_.end()) return Status::InvalidArgument(e->second);
      auto it = answers_.find(std::string(expr));
      if (it == answers_.end()) return logql::QueryValue{};
      return it->second;
    };
    return std::make_unique<Manager>(&store_, query, std::move(sinks), o, nullptr);
  }

  std::vector<NotifiedAlert> TakeSent() {
    std::lock_guard<std::mutex> l(mu_);
    return std::exchange(sent_, {});
  }
  std::vector<std::pair<std::string, RemoteSample>> TakeWritten() {
    std::lock_guard<std::mutex> l(mu_);
    return std::exchange(written_, {});
  }
  RuleStatus OnlyRule(const std::vector<GroupStatus>& g) {
    EXPECT_EQ(g.size(), 1u);
    EXPECT_EQ(g.at(0).rules.size(), 1u);
    return g.at(0).rules.at(0);
  }

  testing::TempDir dir_;
  RuleStore store_;
  std::mutex mu_;
  std::map<std::string, logql::QueryValue> answers_;
  std::map<std::string, std::string> errors_;
  std::vector<NotifiedAlert> sent_;
  std::vector<std::pair<std::string, RemoteSample>> written_;
  int queries_ = 0;
  int64_t last_query_time_ns_ = 0;
  std::string last_tenant_;
};

const char* kErrors = "sum by (job) (count_over_time({app=\"api\"} |= \"error\" [5m]))";

RuleGroup AlertGroup(int64_t for_ms) {
  RuleGroup g;
  g.name = "api";
  g.interval_ms = kMin;
  Rule r;
  r.alert = "HighErrors";
  r.expr = kErrors;
  r.for_ms = for_ms;
  r.labels = {{"severity", "{{ if gt $value 3.0 }}page{{ else }}ticket{{ end }}"},
              {"team", "core"}};
  r.annotations = {{"summary", "{{ $labels.job }} has {{ $value }} errors"},
                   {"link", "{{ $externalURL }}/d/x"}};
  g.rules.push_back(r);
  return g;
}

TEST_F(ManagerTest, AlertGoesPendingThenFiringThenResolvesWithPrometheusTiming) {
  ASSERT_TRUE(store_.SetGroup("t1", "ns", AlertGroup(2 * kMin)).ok());
  ManagerOptions o;
  o.external_url = "http://grafana:3000";
  auto m = Make(o);
  ASSERT_TRUE(m->Sync().ok());
  Answer(kErrors, {{L({{"job", "api"}}), {0, 5}}});
  const int64_t t0 = 1765000000000;

  ASSERT_TRUE(m->EvaluateNow("t1", "ns", "api", t0).ok());
  EXPECT_EQ(last_query_time_ns_, t0 * 1000000);
  EXPECT_EQ(last_tenant_, "t1");
  {
    const RuleStatus& r = OnlyRule(m->Groups("t1"));
    EXPECT_EQ(r.health, "ok");
    EXPECT_EQ(r.state, AlertState::kPending);
    ASSERT_EQ(r.alerts.size(), 1u);
    EXPECT_EQ(r.alerts[0].labels.ToString(),
              "{alertname=\"HighErrors\", job=\"api\", severity=\"page\", team=\"core\"}");
    EXPECT_EQ(r.alerts[0].annotations.Get("summary"), "api has 5 errors");
    EXPECT_EQ(r.alerts[0].annotations.Get("link"), "http://grafana:3000/d/x");
    EXPECT_EQ(r.alerts[0].active_at_ms, t0);
  }
  EXPECT_TRUE(TakeSent().empty()) << "pending alerts are not sent";
  // ALERTS{alertstate="pending"} and ALERTS_FOR_STATE are written like Prometheus' own.
  auto w = TakeWritten();
  ASSERT_EQ(w.size(), 2u);
  EXPECT_EQ(w[0].second.labels.ToString(),
            "{__name__=\"ALERTS\", alertname=\"HighErrors\", alertstate=\"pending\", "
            "job=\"api\", severity=\"page\", team=\"core\"}");
  EXPECT_EQ(w[1].second.labels.Get("__name__"), "ALERTS_FOR_STATE");
  EXPECT_EQ(w[1].second.value, static_cast<double>(t0 / 1000));

  ASSERT_TRUE(m->EvaluateNow("t1", "ns", "api", t0 + kMin).ok());
  EXPECT_EQ(OnlyRule(m->Groups("t1")).state, AlertState::kPending);
  EXPECT_TRUE(TakeSent().empty());

  // Active for `for`: fires, and is sent at once.
  ASSERT_TRUE(m->EvaluateNow("t1", "ns", "api", t0 + 2 * kMin).ok());
  EXPECT_EQ(OnlyRule(m->Groups("t1")).state, AlertState::kFiring);
  auto sent = TakeSent();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].starts_at_ms, t0 + 2 * kMin);
  EXPECT_EQ(sent[0].ends_at_ms, t0 + 2 * kMin + 4 * kMin);  // 4 x max(resend, interval)
  EXPECT_EQ(sent[0].labels.Get("alertname"), "HighErrors");
  EXPECT_EQ(sent[0].annotations.Get("summary"), "api has 5 errors");
  EXPECT_EQ(sent[0].generator_url,
            "http://grafana:3000/graph?g0.expr=sum%20by%20%28job%29%20%28count_over_time%28%7Bapp%"
            "3D%22api%22%7D%20%7C%3D%20%22error%22%20%5B5m%5D%29%29&g0.tab=1");

  // Resent only once the resend delay has passed (strictly, as Prometheus' Before()).
  Answer(kErrors, {{L({{"job", "api"}}), {0, 4}}});  // still "page": same alert
  ASSERT_TRUE(m->EvaluateNow("t1", "ns", "api", t0 + 3 * kMin).ok());
  EXPECT_TRUE(TakeSent().empty());
  {
    const RuleStatus& r = OnlyRule(m->Groups("t1"));
    EXPECT_EQ(r.alerts[0].value, 4);
    EXPECT_EQ(r.alerts[0].annotations.Get("summary"), "api has 4 errors");
  }
  ASSERT_TRUE(m->EvaluateNow("t1", "ns", "api", t0 + 4 * kMin).ok());
  EXPECT_EQ(TakeSent().size(), 1u);

  // Gone from the result: resolved, sent with endsAt = resolution time.
  EXPECT_EQ(TakeWritten().size(), 8u);  // ALERTS + ALERTS_FOR_STATE at 1, 2, 3 and 4 minutes
  Answer(kErrors, {});
  ASSERT_TRUE(m->EvaluateNow("t1", "ns", "api", t0 + 5 * kMin).ok());
  sent = TakeSent();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].ends_at_ms, t0 + 5 * kMin);
  EXPECT_EQ(sent[0].starts_at_ms, t0 + 2 * kMin);
  {
    const RuleStatus& r = OnlyRule(m->Groups("t1"));
    EXPECT_EQ(r.state, AlertState::kInactive);
    EXPECT_TRUE(r.alerts.empty());
  }
  EXPECT_TRUE(TakeWritten().empty()) << "no ALERTS series for a resolved alert";
  // The resolution keeps being resent for 15 minutes, then the alert is forgotten.
  ASSERT_TRUE(m->EvaluateNow("t1", "ns", "api", t0 + 7 * kMin).ok());
  EXPECT_EQ(TakeSent().size(), 1u);
  ASSERT_TRUE(m->EvaluateNow("t1", "ns", "api", t0 + 21 * kMin).ok());
  EXPECT_TRUE(TakeSent().empty());
}

TEST_F(ManagerTest, PendingAlertThatDisappearsIsDroppedWithoutNotification) {
  ASSERT_TRUE(store_.SetGroup("t1", "ns", AlertGroup(5 * kMin)).ok());
  auto m = Make();
  ASSERT_TRUE(m->Sync().ok());
  Answer(kErrors, {{L({{"job", "api"}}), {0, 1}}});
  ASSERT_TRUE(m->EvaluateNow("t1", "ns", "api", 1000 * kMin).ok());
  Answer(kErrors, {});
  ASSERT_TRUE(m->EvaluateNow("t1", "ns", "api", 1001 * kMin).ok());
  EXPECT_TRUE(OnlyRule(m->Groups("t1")).alerts.empty());
  EXPECT_TRUE(TakeSent().empty());
}

TEST_F(ManagerTest, ZeroForFiresOnFirstEvaluationAndKeepFiringForHoldsIt) {
  RuleGroup g = AlertGroup(0);
  g.rules[0].keep_firing_for_ms = 2 * kMin;
  ASSERT_TRUE(store_.SetGroup("t1", "ns", g).ok());
  auto m = Make();
  ASSERT_TRUE(m->Sync().ok());
  Answer(kErrors, {{L({{"job", "api"}}), {0, 1}}});
  ASSERT_TRUE(m->EvaluateNow("t1", "ns", "api", 1000 * kMin).ok());
  EXPECT_EQ(OnlyRule(m->Groups("t1")).state, AlertState::kFiring);
  EXPECT_EQ(TakeSent().size(), 1u);
  Answer(kErrors, {});
  ASSERT_TRUE(m->EvaluateNow("t1", "ns", "api", 1001 * kMin).ok());
  EXPECT_EQ(OnlyRule(m->Groups("t1")).state, AlertState::kFiring);
  ASSERT_TRUE(m->EvaluateNow("t1", "ns", "api", 1002 * kMin).ok());
  EXPECT_EQ(OnlyRule(m->Groups("t1")).state, AlertState::kFiring);
  ASSERT_TRUE(m->EvaluateNow("t1", "ns", "api", 1003 * kMin).ok());
  EXPECT_EQ(OnlyRule(m->Groups("t1")).state, AlertState::kInactive);
}

TEST_F(ManagerTest, RecordingRuleWritesSeriesAndStalenessMarkers) {
  RuleGroup g;
  g.name = "rec";
  Rule r;
  r.record = "job:errors:rate5m";
  r.expr = "sum by (job) (rate({app=\"api\"} [5m]))";
  r.labels = {{"source", "skald"}, {"job", "overridden"}, {"drop", ""}};
  g.rules.push_back(r);
  ASSERT_TRUE(store_.SetGroup("tenant-a", "recording", g).ok());
  auto m = Make();
  ASSERT_TRUE(m->Sync().ok());
  Answer(r.expr, {{L({{"job", "api"}, {"drop", "x"}}), {0, 0.5}}});
  ASSERT_TRUE(m->EvaluateNow("tenant-a", "recording", "rec", 60 * kMin).ok());
  auto w = TakeWritten();
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0].first, "tenant-a");
  EXPECT_EQ(w[0].second.labels.ToString(),
            "{__name__=\"job:errors:rate5m\", job=\"overridden\", source=\"skald\"}");
  EXPECT_EQ(w[0].second.value, 0.5);
  EXPECT_EQ(w[0].second.timestamp_ms, 60 * kMin);
  EXPECT_EQ(OnlyRule(m->Groups("tenant-a")).health, "ok");

  // The series disappears: one staleness marker, then nothing.
  Answer(r.expr, {});
  ASSERT_TRUE(m->EvaluateNow("tenant-a", "recording", "rec", 61 * kMin).ok());
  w = TakeWritten();
  ASSERT_EQ(w.size(), 1u);
  uint64_t bits;
  std::memcpy(&bits, &w[0].second.value, sizeof bits);
  EXPECT_EQ(bits, 0x7ff0000000000002ULL);
  ASSERT_TRUE(m->EvaluateNow("tenant-a", "recording", "rec", 62 * kMin).ok());
  EXPECT_TRUE(TakeWritten().empty());
}

TEST_F(ManagerTest, ErrorsMakeTheRuleUnhealthyWithPrometheusTexts) {
  RuleGroup g;
  g.name = "g";
  g.limit = 1;
  Rule rec;
  rec.record = "r:sum";
  rec.expr = "sum by (a) (rate({x=\"y\"} [1m]))";
  rec.labels = {{"a", "same"}};
  g.rules.push_back(rec);
  Rule broken;
  broken.record = "r:broken";
  broken.expr = "sum(rate({x=\"z\"} [1m]))";
  g.rules.push_back(broken);
  ASSERT_TRUE(store_.SetGroup("t", "ns", g).ok());
  auto m = Make();
  ASSERT_TRUE(m->Sync().ok());
  Answer(rec.expr, {{L({{"a", "1"}}), {0, 1}}, {L({{"a", "2"}}), {0, 2}}});
  Fail(broken.expr, "max series reached");
  ASSERT_TRUE(m->EvaluateNow("t", "ns", "g", 10 * kMin).ok());
  auto groups = m->Groups("t");
  ASSERT_EQ(groups.size(), 1u);
  ASSERT_EQ(groups[0].rules.size(), 2u);
  EXPECT_EQ(groups[0].rules[0].health, "err");
  EXPECT_EQ(groups[0].rules[0].last_error,
            "vector contains metrics with the same labelset after applying rule labels");
  EXPECT_EQ(groups[0].rules[1].health, "err");
  EXPECT_EQ(groups[0].rules[1].last_error, "max series reached");
  EXPECT_TRUE(TakeWritten().empty());

  // Over the group limit.
  Answer(rec.expr, {{L({{"b", "1"}}), {0, 1}}, {L({{"b", "2"}}), {0, 2}}});
  ASSERT_TRUE(m->EvaluateNow("t", "ns", "g", 11 * kMin).ok());
  EXPECT_EQ(m->Groups("t")[0].rules[0].last_error, "exceeded limit of 1 with 2 series");
  EXPECT_TRUE(TakeWritten().empty());
}

TEST_F(ManagerTest, ChangedGroupKeepsAlertStateOfUnchangedRulesAndDeletedGroupStops) {
  ASSERT_TRUE(store_.SetGroup("t1", "ns", AlertGroup(0)).ok());
  auto m = Make();
  ASSERT_TRUE(m->Sync().ok());
  Answer(kErrors, {{L({{"job", "api"}}), {0, 5}}});
  ASSERT_TRUE(m->EvaluateNow("t1", "ns", "api", 100 * kMin).ok());
  EXPECT_EQ(OnlyRule(m->Groups("t1")).state, AlertState::kFiring);

  RuleGroup changed = AlertGroup(0);
  changed.interval_ms = 2 * kMin;  // the group changes, the rule does not
  ASSERT_TRUE(store_.SetGroup("t1", "ns", changed).ok());
  ASSERT_TRUE(m->SyncTenant("t1").ok());
  auto g = m->Groups("t1");
  ASSERT_EQ(g.size(), 1u);
  EXPECT_EQ(g[0].interval_ms, 2 * kMin);
  EXPECT_EQ(OnlyRule(g).state, AlertState::kFiring);
  EXPECT_EQ(OnlyRule(g).alerts.at(0).active_at_ms, 100 * kMin);

  ASSERT_TRUE(store_.DeleteNamespace("t1", "ns").ok());
  ASSERT_TRUE(m->Sync().ok());
  EXPECT_TRUE(m->Groups("t1").empty());
  EXPECT_EQ(m->EvaluateNow("t1", "ns", "api", 101 * kMin).code(), StatusCode::kNotFound);
}

TEST_F(ManagerTest, DuplicateAlertLabelsAndTemplateErrors) {
  RuleGroup g = AlertGroup(0);
  g.rules[0].labels = {{"job", "fixed"}};
  // Parses (the store validates templates), fails when executed.
  g.rules[0].annotations = {{"exec", "{{ index $labels 1 }}"}};
  ASSERT_TRUE(store_.SetGroup("t1", "ns", g).ok());
  auto m = Make();
  ASSERT_TRUE(m->Sync().ok());
  Answer(kErrors, {{L({{"job", "a"}}), {0, 1}}, {L({{"job", "b"}}), {0, 1}}});
  ASSERT_TRUE(m->EvaluateNow("t1", "ns", "api", 100 * kMin).ok());
  EXPECT_EQ(OnlyRule(m->Groups("t1")).last_error,
            "vector contains metrics with the same labelset after applying alert labels");

  Answer(kErrors, {{L({{"job", "a"}}), {0, 1}}});
  ASSERT_TRUE(m->EvaluateNow("t1", "ns", "api", 101 * kMin).ok());
  const RuleStatus& r = OnlyRule(m->Groups("t1"));
  EXPECT_EQ(r.health, "ok");
  ASSERT_EQ(r.alerts.size(), 1u);
  // A template that fails expands to Prometheus' error text; the rule stays healthy.
  EXPECT_EQ(r.alerts[0].annotations.Get("exec").rfind("<error expanding template: ", 0), 0u)
      << r.alerts[0].annotations.Get("exec");
}

TEST_F(ManagerTest, EvaluationTimesAreAlignedAndSpread) {
  const int64_t iv = kMin;
  for (uint64_t h : {0ull, 1ull, 59999ull, 123456789ull}) {
    for (int64_t now : {int64_t{1765000000000}, int64_t{1765000000001}, int64_t{1765000059999}}) {
      const int64_t next = Manager::NextEvaluation(now, iv, h);
      EXPECT_GT(next, now);
      EXPECT_LE(next, now + iv);
      EXPECT_EQ(((next % iv) + iv) % iv, static_cast<int64_t>(h % iv));
    }
  }
}

TEST_F(ManagerTest, SchedulerEvaluatesAtTheGroupIntervalAndPicksUpNewGroups) {
  ManagerOptions o;
  o.evaluation_interval_ms = 50;
  o.poll_interval_ms = 100;
  auto m = Make(o);
  m->Start();
  RuleGroup g;
  g.name = "fast";
  Rule r;
  r.record = "x:count";
  r.expr = "count_over_time({a=\"b\"} [1m])";
  g.rules.push_back(r);
  ASSERT_TRUE(store_.SetGroup("t9", "ns", g).ok());  // found by the next poll
  Answer(r.expr, {{L({{"a", "b"}}), {0, 7}}});
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        std::lock_guard<std::mutex> l(mu_);
        return written_.size() >= 3;
      },
      10000));
  m->Stop();
  auto w = TakeWritten();
  ASSERT_GE(w.size(), 3u);
  EXPECT_EQ(w[0].first, "t9");
  // Evaluations sit on the group's aligned grid (a late wake-up skips, never shifts, them).
  const int64_t gap = w[1].second.timestamp_ms - w[0].second.timestamp_ms;
  EXPECT_GT(gap, 0);
  EXPECT_EQ(gap % 50, 0);
  const RuleStatus& rs = OnlyRule(m->Groups("t9"));
  EXPECT_EQ(rs.health, "ok");
}

}  // namespace
}  // namespace skald::ruler
