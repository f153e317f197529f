// Tests for skald-bench query: the query set, request targets, response-stats
// parsing, and running the set against a fake server (501 = unsupported).
#include "tools/bench/query_bench.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <simdjson.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/time.h"

namespace skald::bench {
namespace {

// A loopback HTTP server (one connection at a time, keep-alive) that answers
// every GET with handler(request target) -> {status, body}.
class FakeLoki {
 public:
  using Handler = std::function<std::pair<int, std::string>(const std::string& target)>;

  explicit FakeLoki(Handler h) : handler_(std::move(h)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
    EXPECT_EQ(::listen(fd_, 8), 0);
    socklen_t len = sizeof(a);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~FakeLoki() {
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::vector<std::string> targets() {
    std::lock_guard<std::mutex> l(mu_);
    return targets_;
  }

 private:
  void Serve() {
    for (;;) {
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      std::string buf;
      char tmp[4096];
      for (;;) {
        size_t head_end;
        bool open = true;
        while ((head_end = buf.find("\r\n\r\n")) == std::string::npos) {
          ssize_t n = ::recv(c, tmp, sizeof(tmp), 0);
          if (n <= 0) {
            open = false;
            break;
          }
          buf.append(tmp, static_cast<size_t>(n));
        }
        if (!open) break;
        size_t sp1 = buf.find(' ');
        std::string target = buf.substr(sp1 + 1, buf.find(' ', sp1 + 1) - sp1 - 1);
        buf.erase(0, head_end + 4);
        {
          std::lock_guard<std::mutex> l(mu_);
          targets_.push_back(target);
        }
        auto [status, body] = handler_(target);
        std::string reply = "HTTP/1.1 " + std::to_string(status) +
                            " X\r\nContent-Type: application/json\r\nContent-Length: " +
                            std::to_string(body.size()) + "\r\n\r\n" + body;
        ::send(c, reply.data(), reply.size(), MSG_NOSIGNAL);
      }
      ::close(c);
    }
  }

  Handler handler_;
  int fd_;
  uint16_t port_ = 0;
  std::mutex mu_;
  std::vector<std::string> targets_;
  std::thread thread_;
};

// The table row that starts with `name`, runs of spaces collapsed to one.
std::string RowOf(const std::string& table, const std::string& name) {
  size_t p = 0;
  while (p < table.size()) {
    size_t e = table.find('\n', p);
    if (e == std::string::npos) e = table.size();
    std::string line = table.substr(p, e - p);
    if (line.rfind(name + " ", 0) == 0) {
      std::string out;
      for (char c : line) {
        if (c != ' ' || out.empty() || out.back() != ' ') out.push_back(c);
      }
      while (!out.empty() && out.back() == ' ') out.pop_back();
      return out;
    }
    p = e + 1;
  }
  return "";
}

const NamedQuery* Find(const std::vector<NamedQuery>& qs, const std::string& name) {
  for (const auto& q : qs) {
    if (q.name == name) return &q;
  }
  return nullptr;
}

TEST(QuerySetTest, DefaultQueriesQuoteLiteralsIntoLogql) {
  QueryOptions o;
  o.rare = "say \"hi\"";
  std::vector<NamedQuery> q = DefaultQueries(o);
  ASSERT_EQ(q.size(), 10u);
  EXPECT_EQ(q[0].name, "selector");
  EXPECT_EQ(q[0].logql, "{job=\"bench\"}");
  EXPECT_EQ(q[1].logql, "{job=\"bench\"} |= \"say \\\"hi\\\"\"");
  EXPECT_EQ(q[2].logql, "{job=\"bench\"} |= \"INFO\"");
  EXPECT_EQ(q[3].name, "literal_absent");
  EXPECT_EQ(q[3].logql, "{job=\"bench\"} |= \"QQ_never_present_QQ\"");
  EXPECT_EQ(q[4].logql, "{job=\"bench\"} |~ \"(?i)error\"");
  EXPECT_EQ(q[5].logql, "{job=\"bench\"} |~ \"error|fail\"");
  for (size_t i = 0; i < 6; ++i) EXPECT_EQ(q[i].kind, QueryKind::kLog) << q[i].name;
}

TEST(QuerySetTest, ParserAndMetricQueriesUseTheSelectorAndTheirRequestKind) {
  QueryOptions o;
  o.selector = "{app=\"x\"}";
  std::vector<NamedQuery> q = DefaultQueries(o);
  const NamedQuery* json = Find(q, "json_field");
  const NamedQuery* logfmt = Find(q, "logfmt");
  const NamedQuery* sum = Find(q, "sum_by_host");
  const NamedQuery* topk = Find(q, "topk");
  ASSERT_TRUE(json && logfmt && sum && topk);
  EXPECT_EQ(json->logql, "{app=\"x\"} | json | level=\"error\"");
  EXPECT_EQ(json->kind, QueryKind::kLog);
  EXPECT_EQ(logfmt->logql, "{app=\"x\"} | logfmt");
  EXPECT_EQ(sum->logql, "sum by (host) (count_over_time({app=\"x\"}[1m]))");
  EXPECT_EQ(sum->kind, QueryKind::kMetricRange);
  EXPECT_EQ(topk->logql, "topk(3, sum by (stream) (count_over_time({app=\"x\"}[5m])))");
  EXPECT_EQ(topk->kind, QueryKind::kInstant);
}

TEST(QueryTargetTest, LogMetricRangeAndInstantQueriesGoToTheirEndpointsWithTheirParameters) {
  NamedQuery log{"l", "{a=\"b\"}", QueryKind::kLog};
  EXPECT_EQ(QueryTarget(log, "10", "20", "2s", 100, "backward"),
            "/loki/api/v1/query_range?query=%7Ba%3D%22b%22%7D&start=10&end=20&limit=100"
            "&direction=backward");
  NamedQuery range{"m", "count_over_time({a=\"b\"}[1m])", QueryKind::kMetricRange};
  std::string t = QueryTarget(range, "10", "20", "2s", 100, "backward");
  EXPECT_EQ(t.rfind("/loki/api/v1/query_range?query=count_over_time", 0), 0u) << t;
  EXPECT_NE(t.find("&start=10&end=20&step=2s"), std::string::npos) << t;
  EXPECT_EQ(t.find("limit="), std::string::npos) << t;
  NamedQuery inst{"i", "topk(3, x)", QueryKind::kInstant};
  t = QueryTarget(inst, "10", "20", "2s", 100, "backward");
  EXPECT_EQ(t, "/loki/api/v1/query?query=topk%283%2C%20x%29&time=20");
}

TEST(QueryStepTest, DefaultStepIsLokisWindowOver250SecondsAtLeastOne) {
  const int64_t s = 1000000000LL;
  EXPECT_EQ(DefaultStep(0, 600 * s), "2s");
  EXPECT_EQ(DefaultStep(0, 3600 * s), "14s");
  EXPECT_EQ(DefaultStep(0, 10 * s), "1s");
  EXPECT_EQ(DefaultStep(5 * s, 5 * s), "1s");
}

TEST(QueryStepTest, LokiTimestampsInEveryAcceptedForm) {
  EXPECT_EQ(*ParseLokiTimestamp("1700000000"), 1700000000LL * 1000000000LL);  // <= 10 chars: s
  EXPECT_EQ(*ParseLokiTimestamp("1700000000000000000"), 1700000000000000000LL);
  EXPECT_EQ(*ParseLokiTimestamp("1700000000.25"), 1700000000250000000LL);
  EXPECT_EQ(*ParseLokiTimestamp("2023-11-14T22:13:20Z"), 1700000000LL * 1000000000LL);
  EXPECT_FALSE(ParseLokiTimestamp("yesterday").ok());
  EXPECT_FALSE(ParseLokiTimestamp("").ok());
}

TEST(QueryResponseTest, ReadsSummaryStatsAndCountsReturnedEntries) {
  const char* body = R"({"status":"success","data":{"resultType":"streams","result":[
    {"stream":{"job":"bench"},"values":[["1","a"],["2","b"]]},
    {"stream":{"job":"bench","host":"h"},"values":[["3","c"]]}],
    "stats":{"summary":{"bytesProcessedPerSecond":123,"linesProcessedPerSecond":5,
    "totalBytesProcessed":1073741824,"totalLinesProcessed":9000000,"execTime":0.25,
    "queueTime":0,"subqueries":0,"totalEntriesReturned":3}}}})";
  StatusOr<QueryResponseStats> s = ParseQueryResponse(body);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_TRUE(s->has_stats);
  EXPECT_EQ(s->bytes_processed, 1073741824u);
  EXPECT_EQ(s->lines_processed, 9000000u);
  EXPECT_DOUBLE_EQ(s->exec_time_s, 0.25);
  EXPECT_EQ(s->entries_returned, 3u);
  EXPECT_EQ(s->streams_returned, 2u);
}

TEST(QueryResponseTest, MissingStatsAreZeroAndIntegerExecTimeIsAccepted) {
  StatusOr<QueryResponseStats> s =
      ParseQueryResponse(R"({"status":"success","data":{"resultType":"streams","result":[]}})");
  ASSERT_TRUE(s.ok());
  EXPECT_FALSE(s->has_stats);
  EXPECT_EQ(s->entries_returned, 0u);
  s = ParseQueryResponse(
      R"({"status":"success","data":{"result":[],"stats":{"summary":{"execTime":2}}}})");
  ASSERT_TRUE(s.ok());
  EXPECT_DOUBLE_EQ(s->exec_time_s, 2.0);
}

TEST(QueryResponseTest, MatrixAndVectorResultsCountSamples) {
  StatusOr<QueryResponseStats> s = ParseQueryResponse(
      R"({"status":"success","data":{"resultType":"matrix","result":[
      {"metric":{"host":"a"},"values":[[1,"2"],[2,"3"],[3,"1"]]},
      {"metric":{"host":"b"},"values":[[1,"7"]]}]}})");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->streams_returned, 2u);
  EXPECT_EQ(s->entries_returned, 4u);
  s = ParseQueryResponse(R"({"status":"success","data":{"resultType":"vector","result":[
      {"metric":{"stream":"1"},"value":[1,"9"]},{"metric":{"stream":"2"},"value":[1,"8"]}]}})");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->streams_returned, 2u);
  EXPECT_EQ(s->entries_returned, 2u);
}

TEST(QueryResponseTest, NonSuccessAndNonJsonAreErrors) {
  EXPECT_FALSE(ParseQueryResponse(R"({"status":"error","data":{}})").ok());
  EXPECT_FALSE(ParseQueryResponse("parse error at line 1, col 2: syntax error").ok());
}

TEST(RunQueriesTest, RejectsUnknownQueryNames) {
  QueryOptions o;
  o.url = "http://127.0.0.1:1";
  o.only = {"nope"};
  StatusOr<QueryReport> r = RunQueries(o);
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("literal_absent"), std::string::npos);
}

TEST(RunQueriesTest, Http501IsReportedAsUnsupportedOnceAndTheRunCarriesOn) {
  const std::string ok_body =
      R"({"status":"success","data":{"resultType":"streams","result":[
      {"stream":{"job":"bench"},"values":[["1","a"]]}],
      "stats":{"summary":{"execTime":0.5,"totalBytesProcessed":1000000,
      "totalLinesProcessed":10}}}})";
  FakeLoki srv([&](const std::string& target) -> std::pair<int, std::string> {
    if (target.find("count_over_time") != std::string::npos) {
      return {501, "metric queries are not supported yet"};
    }
    if (target.find("logfmt") != std::string::npos) return {400, "parse error"};
    return {200, ok_body};
  });
  QueryOptions o;
  o.url = srv.url();
  o.repeat = 3;
  o.start = "1700000000";
  o.end = "1700000600";
  o.loaded_bytes = 4000000;
  o.only = {"literal_absent", "sum_by_host", "logfmt", "topk"};
  StatusOr<QueryReport> rep = RunQueries(o);
  ASSERT_TRUE(rep.ok()) << rep.status().ToString();
  ASSERT_EQ(rep->results.size(), 4u);
  EXPECT_EQ(rep->step, "2s");

  const QueryResult& absent = rep->results[0];
  EXPECT_FALSE(absent.unsupported);
  EXPECT_EQ(absent.errors, 0);
  EXPECT_EQ(absent.runs.size(), 3u);
  EXPECT_EQ(absent.bytes_processed, 1000000u);
  EXPECT_DOUBLE_EQ(absent.server_bytes_per_s, 2000000.0);
  EXPECT_GT(absent.loaded_bytes_per_s, absent.client_bytes_per_s);  // 4x the bytes

  for (int i : {1, 3}) {
    const QueryResult& m = rep->results[i];
    EXPECT_TRUE(m.unsupported) << m.query.name;
    EXPECT_EQ(m.errors, 0) << m.query.name;
    EXPECT_EQ(m.runs.size(), 1u) << m.query.name;  // not repeated
    EXPECT_NE(m.first_error.find("not supported yet"), std::string::npos) << m.first_error;
  }
  const QueryResult& logfmt = rep->results[2];
  EXPECT_FALSE(logfmt.unsupported);
  EXPECT_EQ(logfmt.errors, 3);  // a 400 is a failure, every run

  std::vector<std::string> targets = srv.targets();
  ASSERT_EQ(targets.size(), 3u + 1u + 3u + 1u);
  EXPECT_NE(targets[3].find("/loki/api/v1/query_range?"), std::string::npos);
  EXPECT_NE(targets[3].find("&step=2s"), std::string::npos) << targets[3];
  EXPECT_EQ(targets[7].rfind("/loki/api/v1/query?", 0), 0u) << targets[7];
  EXPECT_NE(targets[7].find("&time=1700000600"), std::string::npos) << targets[7];

  std::string table = FormatQueryReport(*rep);
  EXPECT_EQ(RowOf(table, "sum_by_host"), "sum_by_host unsupported (HTTP 501)") << table;
  EXPECT_EQ(RowOf(table, "topk"), "topk unsupported (HTTP 501)") << table;
  EXPECT_EQ(RowOf(table, "logfmt"), "logfmt failed (HTTP 400), errors 3") << table;
  EXPECT_NE(RowOf(table, "literal_absent").find(" 1000000 "), std::string::npos) << table;
  EXPECT_NE(table.find("scan(loaded)"), std::string::npos) << table;
  std::string json = QueryReportJson(*rep);
  EXPECT_NE(json.find(R"("name":"sum_by_host","logql")"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("kind":"metric_range","status":"unsupported")"), std::string::npos)
      << json;
  EXPECT_NE(json.find(R"("kind":"log","status":"failed")"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("kind":"log","status":"ok")"), std::string::npos) << json;
}

TEST(RunQueriesTest, TableOmitsTheLoadedColumnWhenTheVolumeIsUnknown) {
  QueryReport r;
  r.url = "http://x";
  QueryResult q;
  q.query = {"selector", "{job=\"bench\"}", QueryKind::kLog};
  r.results.push_back(q);
  EXPECT_EQ(FormatQueryReport(r).find("scan(loaded)"), std::string::npos);
}

TEST(QuerySetTest, Issue8QueriesSelectTheirFormatsAndUseFixedSteps) {
  QueryOptions o;
  o.job = "bench123";
  std::vector<NamedQuery> q = Issue8Queries(o);
  ASSERT_EQ(q.size(), 10u);
  struct Want {
    const char* name;
    const char* logql;
    QueryKind kind;
    const char* step;
    Selects selects;
  };
  const Want want[] = {
      {"literal", R"({job="bench123", format="plain"} |= "panic")", QueryKind::kLog, "",
       Selects::kPlain},
      {"icase_literal", R"({job="bench123", format="plain"} |~ "(?i)panic")", QueryKind::kLog, "",
       Selects::kPlain},
      {"regex_alt", R"({job="bench123", format="plain"} |~ "panic|overflow|deadlock")",
       QueryKind::kLog, "", Selects::kPlain},
      {"json_level", R"({job="bench123", format="json"} | json | level="error")", QueryKind::kLog,
       "", Selects::kJson},
      {"logfmt_status", R"({job="bench123", format="logfmt"} | logfmt | status>=500)",
       QueryKind::kLog, "", Selects::kLogfmt},
      {"sum_by_host", R"(sum by (host) (count_over_time({job="bench123"}[1m])))",
       QueryKind::kMetricRange, "1m", Selects::kAll},
      {"quantile_duration",
       R"(quantile_over_time(0.99, {job="bench123", format="logfmt"} | logfmt | unwrap duration(duration) [5m]) by (host))",
       QueryKind::kMetricRange, "5m", Selects::kLogfmt},
      {"topk_path",
       R"(topk(10, sum by (path) (rate({job="bench123", format="json"} | json [5m]))))",
       QueryKind::kMetricRange, "5m", Selects::kJson},
      {"json_level_count",
       R"(sum(count_over_time({job="bench123", format="json"} | json | level="error" [5m])))",
       QueryKind::kMetricRange, "5m", Selects::kJson},
      {"logfmt_status_count",
       R"(sum(count_over_time({job="bench123", format="logfmt"} | logfmt | status>=500 [5m])))",
       QueryKind::kMetricRange, "5m", Selects::kLogfmt},
  };
  for (size_t i = 0; i < q.size(); ++i) {
    EXPECT_EQ(q[i].name, want[i].name);
    EXPECT_EQ(q[i].logql, want[i].logql);
    EXPECT_EQ(q[i].kind, want[i].kind) << q[i].name;
    EXPECT_EQ(q[i].step, want[i].step) << q[i].name;
    EXPECT_EQ(q[i].selects, want[i].selects) << q[i].name;
    EXPECT_EQ(q[i].limit, q[i].kind == QueryKind::kLog ? 5000 : 0) << q[i].name;
  }
  o.job = "";
  o.literal = "a\"b";
  q = Issue8Queries(o);
  EXPECT_EQ(q[0].logql, R"({job="bench", format="plain"} |= "a\"b")");
  o.set = "issue8";
  EXPECT_EQ(QuerySet(o)->size(), 10u);
  o.set = "default";
  EXPECT_EQ(QuerySet(o)->size(), 10u);
  o.set = "nope";
  EXPECT_EQ(QuerySet(o).status().code(), StatusCode::kInvalidArgument);
}

TEST(QueryWindowTest, AlignedWindowEndsNowAndCoversTheDataInWholeSteps) {
  const int64_t s = 1000000000LL;
  QueryOptions o;
  std::vector<NamedQuery> q = Issue8Queries(o);  // steps 1m and 5m: unit 5m
  const int64_t now = 1700000000 * s + 123;
  auto [start, end] = AlignedWindow(q, now - 24 * 3600 * s - 7 * s, now);
  EXPECT_EQ(end, now);
  EXPECT_EQ((end - start) % (300 * s), 0);
  EXPECT_LE(start, now - 24 * 3600 * s - 7 * s);
  EXPECT_GT(start, now - 24 * 3600 * s - 7 * s - 300 * s);
  // Exactly a whole number of units back: no extra unit.
  EXPECT_EQ(AlignedWindow(q, now - 600 * s, now).first, now - 600 * s);
  // No fixed step: one-second units; data in the future still gets a window.
  std::vector<NamedQuery> d = DefaultQueries(o);
  EXPECT_EQ(AlignedWindow(d, now - 10 * s + 1, now).first, now - 10 * s);
  EXPECT_EQ(AlignedWindow(d, now + 5, now).first, now - s);
}

TEST(PushReportTest, ReadsLoadedBytesByFormatJobAndDataStart) {
  StatusOr<PushReportInfo> r = ParsePushReport(
      R"({"command":"push","line_format":"mixed","job":"b7","ts_first_ns":1700000000000000000,
      "ts_last_ns":1700000086000000000,"raw_bytes_accepted":60,
      "raw_bytes_by_format":{"plain":10,"logfmt":20,"json":30}})");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->loaded.known);
  EXPECT_EQ(r->loaded.plain, 10u);
  EXPECT_EQ(r->loaded.logfmt, 20u);
  EXPECT_EQ(r->loaded.json, 30u);
  EXPECT_EQ(r->loaded.total(), 60u);
  EXPECT_EQ(r->job, "b7");
  EXPECT_EQ(r->line_format, "mixed");
  EXPECT_EQ(r->ts_first_ns, 1700000000000000000LL);
  // A report from before -line-format: all plain.
  r = ParsePushReport(R"({"command":"push","raw_bytes_accepted":77})");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->loaded.plain, 77u);
  EXPECT_EQ(r->loaded.total(), 77u);
  EXPECT_FALSE(ParsePushReport(R"({"command":"query"})").ok());
  EXPECT_FALSE(ParsePushReport("not json").ok());
  EXPECT_EQ(ReadPushReport("/nonexistent/push.json").status().code(), StatusCode::kNotFound);
}

TEST(RunQuerySetTest, AlternatesServersPerRepetitionAndComparesPerCore) {
  std::mutex mu;
  std::vector<std::string> order;  // "A <target>" / "B <target>" in arrival order
  auto body = [](const std::string& target) {
    if (target.find("query_range") != std::string::npos &&
        target.find("step=") == std::string::npos) {
      return std::string(R"({"status":"success","data":{"resultType":"streams","result":[
        {"stream":{"job":"bench"},"values":[["1","a"]]}],
        "stats":{"summary":{"execTime":0.1,"totalBytesProcessed":500,"totalLinesProcessed":5}}}})");
    }
    return std::string(R"({"status":"success","data":{"resultType":"matrix","result":[
      {"metric":{"host":"a"},"values":[[1,"2"]]}],
      "stats":{"summary":{"execTime":0.1,"totalBytesProcessed":900,"totalLinesProcessed":9}}}})");
  };
  FakeLoki a([&](const std::string& t) -> std::pair<int, std::string> {
    std::lock_guard<std::mutex> l(mu);
    order.push_back("A " + t);
    return {200, body(t)};
  });
  FakeLoki b([&](const std::string& t) -> std::pair<int, std::string> {
    std::lock_guard<std::mutex> l(mu);
    order.push_back("B " + t);
    if (t.find("quantile") != std::string::npos) return {501, "not here"};
    return {200, body(t)};
  });
  QueryOptions o;
  o.set = "issue8";
  o.repeat = 2;
  o.warmup = 1;
  o.only = {"literal", "sum_by_host", "quantile_duration"};
  o.data_start_ns = NowNanos() - 3600LL * 1000000000LL;
  std::vector<ServerTarget> servers(2);
  servers[0] = {"skald", a.url(), static_cast<int>(::getpid()), {}};
  servers[0].loaded = {true, 100, 200, 300};
  servers[1] = {"loki", b.url(), static_cast<int>(::getpid()), {}};
  servers[1].loaded = {true, 100, 200, 300};
  StatusOr<std::vector<QueryReport>> reps = RunQuerySet(o, servers);
  ASSERT_TRUE(reps.ok()) << reps.status().ToString();
  ASSERT_EQ(reps->size(), 2u);

  // Per query: warm-up A B, then A B A B; B answers quantile with 501 once and is dropped.
  std::vector<std::string> who;
  for (const auto& t : order) who.push_back(t.substr(0, 1));
  EXPECT_EQ(who, (std::vector<std::string>{"A", "B", "A", "B", "A", "B",  // literal
                                           "A", "B", "A", "B", "A", "B",  // sum_by_host
                                           "A", "B", "A", "A"}));         // quantile_duration
  ASSERT_GE(order.size(), 7u);
  EXPECT_NE(order[0].find("limit=5000"), std::string::npos) << order[0];
  EXPECT_NE(order[6].find("&step=1m"), std::string::npos) << order[6];
  // Same window on both servers.
  EXPECT_EQ(order[0].substr(2), order[1].substr(2));

  const QueryReport& ra = (*reps)[0];
  const QueryReport& rb = (*reps)[1];
  EXPECT_EQ(ra.name, "skald");
  ASSERT_EQ(ra.results.size(), 3u);
  EXPECT_EQ(ra.results[0].loaded_bytes, 100u);  // plain
  EXPECT_EQ(ra.results[1].loaded_bytes, 600u);  // all
  EXPECT_EQ(ra.results[2].loaded_bytes, 200u);  // logfmt
  EXPECT_EQ(ra.results[0].runs.size(), 2u);     // warm-up runs are not recorded
  EXPECT_TRUE(ra.results[0].full_scan);         // 1 entry returned < limit 5000
  EXPECT_TRUE(ra.results[0].cpu_sampled);
  for (const auto& run : ra.results[0].runs) {
    EXPECT_GE(run.server_cpu_s, 0);
    EXPECT_GT(run.rss_max_kb, 0);
  }
  EXPECT_GT(ra.results[0].rss_peak_kb, 0);
  EXPECT_TRUE(rb.results[2].unsupported);
  EXPECT_EQ(rb.results[2].runs.size(), 1u);

  std::string cmp = FormatComparison(*reps);
  EXPECT_NE(cmp.find("skald MB/s/core"), std::string::npos) << cmp;
  EXPECT_NE(cmp.find("skald/loki"), std::string::npos) << cmp;
  EXPECT_NE(RowOf(cmp, "quantile_duration").find(" 501 "), std::string::npos) << cmp;
  EXPECT_NE(cmp.find("largest query (sum_by_host, 0.0 MB): peak RSS skald "), std::string::npos)
      << cmp;
  std::string json = ComparisonJson(*reps);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_FALSE(parser.parse(json).get(doc)) << json;
  simdjson::dom::array servers_json, comparison;
  ASSERT_FALSE(doc["servers"].get_array().get(servers_json));
  EXPECT_EQ(servers_json.size(), 2u);
  ASSERT_FALSE(doc["comparison"].get_array().get(comparison));
  EXPECT_EQ(comparison.size(), 3u);
  std::string_view name;
  ASSERT_FALSE(doc.at_pointer("/comparison/1/name").get_string().get(name));
  EXPECT_EQ(name, "sum_by_host");
  uint64_t loaded = 0;
  ASSERT_FALSE(doc.at_pointer("/comparison/1/loaded_bytes").get_uint64().get(loaded));
  EXPECT_EQ(loaded, 600u);
  EXPECT_NE(json.find(R"("name":"loki")"), std::string::npos);
}

TEST(RunQuerySetTest, LogQueriesThatReturnTheLimitAreMarkedPartial) {
  FakeLoki srv([](const std::string&) -> std::pair<int, std::string> {
    return {200, R"({"status":"success","data":{"resultType":"streams","result":[
      {"stream":{"job":"bench"},"values":[["1","a"],["2","b"]]}]}})"};
  });
  QueryOptions o;
  o.url = srv.url();
  o.limit = 2;
  o.repeat = 1;
  o.only = {"selector"};
  StatusOr<QueryReport> r = RunQueries(o);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->results[0].full_scan);
  EXPECT_EQ(r->results[0].limit, 2);
  o.limit = 3;
  r = RunQueries(o);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->results[0].full_scan);
}

}  // namespace
}  // namespace skald::bench
