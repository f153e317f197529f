// Tests for skald-bench query: the query set, request targets, response-stats
// parsing, and running the set against a fake server (501 = unsupported).
#include "tools/bench/query_bench.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

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

}  // namespace
}  // namespace skald::bench
