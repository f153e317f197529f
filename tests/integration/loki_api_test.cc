// API tests: a whole Skald (server::App) in the test process on an ephemeral
// loopback port, driven over HTTP exactly as Loki clients drive Loki.
#include <gtest/gtest.h>
#include <snappy.h>
#include <zlib.h>

#include <filesystem>
#include <string>

#include "core/time.h"
#include "tests/testing/in_process_skald.h"
#include "tests/testing/metrics_text.h"
#include "tests/testing/temp_dir.h"
#include "tools/http/http_client.h"
#include "wire/push.h"

namespace skald::testing {
namespace {

using ClientResponse = http::HttpResponse;
using http::QueryEscape;

using Headers = std::vector<std::pair<std::string, std::string>>;

std::string Gzip(const std::string& in) {
  z_stream zs{};
  deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  std::string out(compressBound(in.size()) + 64, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

// Body without the trailing stats object, which holds timings.
std::string WithoutStats(const std::string& body) {
  size_t pos = body.find(",\"stats\":");
  return pos == std::string::npos ? body : body.substr(0, pos);
}

class LokiApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    skald_ = std::make_unique<InProcessSkald>(dir_.Sub("data"), Flags());
    Status st = skald_->Start();
    ASSERT_TRUE(st.ok()) << st.ToString();
    ASSERT_GT(skald_->port(), 0);
    // Whole seconds, ten minutes ago: inside every acceptance window.
    base_ = (NowNanos() / kNanosPerSecond - 600) * kNanosPerSecond;
  }
  void TearDown() override {
    if (skald_) {
      Status st = skald_->Stop();
      EXPECT_TRUE(st.ok()) << st.ToString();
    }
  }
  virtual std::vector<std::string> Flags() { return {}; }

  StatusOr<ClientResponse> Call(const std::string& method, const std::string& target,
                                const Headers& headers = {}, const std::string& body = "") {
    return skald_->Call(method, target, headers, body);
  }

  ClientResponse PushJson(const std::string& json, const Headers& extra = {}) {
    Headers h = {{"Content-Type", "application/json"}};
    h.insert(h.end(), extra.begin(), extra.end());
    auto r = Call("POST", "/loki/api/v1/push", h, json);
    EXPECT_TRUE(r.ok());
    return r.ok() ? *r : ClientResponse{};
  }

  ClientResponse Query(const std::string& query, int64_t start, int64_t end, int limit,
                       const std::string& direction, const Headers& headers = {},
                       const std::string& extra_params = "") {
    std::string target = "/loki/api/v1/query_range?query=" + QueryEscape(query) +
                         "&start=" + std::to_string(start) + "&end=" + std::to_string(end) +
                         "&limit=" + std::to_string(limit) + "&direction=" + direction +
                         extra_params;
    auto r = Call("GET", target, headers);
    EXPECT_TRUE(r.ok());
    return r.ok() ? *r : ClientResponse{};
  }

  std::string Ts(int64_t offset_ms) const {
    return std::to_string(base_ + offset_ms * kNanosPerMilli);
  }

  TempDir dir_;
  std::unique_ptr<InProcessSkald> skald_;
  int64_t base_ = 0;
};

TEST_F(LokiApiTest, JsonPushThenQueryReturnsExactLokiJson) {
  std::string push = R"({"streams":[{"stream":{"job":"varlogs","env":"prod"},"values":[[")" +
                     Ts(1) + R"(","first line"],[")" + Ts(3) + R"(","third <line> & \"q\""]]},)" +
                     R"({"stream":{"job":"other"},"values":[[")" + Ts(2) +
                     R"(","second line"]]}]})";
  auto pr = PushJson(push);
  ASSERT_EQ(pr.status, 204) << pr.body;

  auto r = Query(R"({job=~"varlogs|other"})", base_, base_ + kNanosPerSecond, 100, "backward");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(
      WithoutStats(r.body),
      R"({"status":"success","data":{"resultType":"streams","result":[)"
      R"({"stream":{"detected_level":"unknown","env":"prod","job":"varlogs","service_name":"varlogs"},"values":[[")" +
          Ts(3) + R"(","third \u003cline\u003e \u0026 \"q\""],[")" + Ts(1) +
          R"(","first line"]]},)"
          R"({"stream":{"detected_level":"unknown","job":"other","service_name":"other"},"values":[[")" +
          Ts(2) + R"(","second line"]]}])");
  EXPECT_NE(r.body.find("\"summary\":{"), std::string::npos);
  EXPECT_EQ(r.body.back(), '\n');

  // Forward with limit 2: the two oldest entries over all streams.
  auto f = Query(R"({job=~".+"})", base_, base_ + kNanosPerSecond, 2, "FORWARD");
  ASSERT_EQ(f.status, 200) << f.body;
  EXPECT_EQ(
      WithoutStats(f.body),
      R"({"status":"success","data":{"resultType":"streams","result":[)"
      R"({"stream":{"detected_level":"unknown","env":"prod","job":"varlogs","service_name":"varlogs"},"values":[[")" +
          Ts(1) +
          R"(","first line"]]},)"
          R"({"stream":{"detected_level":"unknown","job":"other","service_name":"other"},"values":[[")" +
          Ts(2) + R"(","second line"]]}])");

  // end is exclusive, start inclusive.
  auto w = Query(R"({job="varlogs"})", base_ + 1 * kNanosPerMilli, base_ + 3 * kNanosPerMilli, 100,
                 "forward");
  EXPECT_NE(w.body.find("first line"), std::string::npos);
  EXPECT_EQ(w.body.find("third"), std::string::npos);
}

TEST_F(LokiApiTest, GzipJsonAndProtobufPushesWithStructuredMetadata) {
  std::string push = R"({"streams":[{"stream":{"app":"gz"},"values":[[")" + Ts(5) +
                     R"(","gzipped line",{"trace_id":"abc"}]]}]})";
  auto g = PushJson(Gzip(push), {{"Content-Encoding", "gzip"}});
  ASSERT_EQ(g.status, 204) << g.body;

  wire::PushRequestBuilder b;
  b.AddStream(R"({app="proto", env="dev"})");
  b.AddEntry(base_ + 6 * kNanosPerMilli, "proto line one");
  b.AddEntry(base_ + 7 * kNanosPerMilli, "proto line two", {{"user", "u1"}});
  std::string body = wire::EncodePushProtobufSnappy(std::move(b).Build());
  auto p = Call("POST", "/loki/api/v1/push", {{"Content-Type", "application/x-protobuf"}}, body);
  ASSERT_TRUE(p.ok());
  ASSERT_EQ(p->status, 204) << p->body;

  auto r = Query(R"({app=~"gz|proto"})", base_, base_ + kNanosPerSecond, 100, "forward");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(
      WithoutStats(r.body),
      R"({"status":"success","data":{"resultType":"streams","result":[)"
      R"({"stream":{"app":"gz","detected_level":"unknown","service_name":"gz","trace_id":"abc"},"values":[[")" +
          Ts(5) +
          R"(","gzipped line"]]},)"
          // Sorted by label string: `, user=` sorts before `}`.
          R"({"stream":{"app":"proto","detected_level":"unknown","env":"dev","service_name":"proto","user":"u1"},"values":[[")" +
          Ts(7) +
          R"(","proto line two"]]},)"
          R"({"stream":{"app":"proto","detected_level":"unknown","env":"dev","service_name":"proto"},"values":[[")" +
          Ts(6) + R"(","proto line one"]]}])");

  // categorize-labels: indexed labels only, metadata as a third tuple element.
  auto c = Query(R"({app="proto"})", base_, base_ + kNanosPerSecond, 100, "forward",
                 {{"X-Loki-Response-Encoding-Flags", "categorize-labels"}});
  EXPECT_EQ(
      WithoutStats(c.body),
      R"({"status":"success","data":{"resultType":"streams","encodingFlags":["categorize-labels"],"result":[)"
      R"({"stream":{"app":"proto","env":"dev","service_name":"proto"},"values":[[")" +
          Ts(6) + R"(","proto line one",{"structuredMetadata":{"detected_level":"unknown"}}],[")" +
          Ts(7) +
          R"(","proto line two",{"structuredMetadata":{"user":"u1","detected_level":"unknown"}}]]}])");
}

TEST_F(LokiApiTest, LegacyPromPushAcceptsV0Json) {
  std::string body = R"({"streams":[{"labels":"{job=\"legacy\"}","entries":[{"ts":")" +
                     FormatRFC3339Nano(base_ + 9 * kNanosPerMilli) +
                     R"(","line":"old client"}]}]})";
  auto r = Call("POST", "/api/prom/push", {{"Content-Type", "application/json"}}, body);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->status, 204) << r->body;
  auto q = Query(R"({job="legacy"})", base_, base_ + kNanosPerSecond, 100, "forward");
  EXPECT_NE(q.body.find("[\"" + Ts(9) + "\",\"old client\"]"), std::string::npos) << q.body;
}

TEST_F(LokiApiTest, LineFilters) {
  std::string push = R"({"streams":[{"stream":{"app":"f"},"values":[)"
                     R"([")" +
                     Ts(1) +
                     R"(","GET /index.html 200"],)"
                     R"([")" +
                     Ts(2) +
                     R"(","POST /login 500 error"],)"
                     R"([")" +
                     Ts(3) +
                     R"(","GET /health 200"],)"
                     R"([")" +
                     Ts(4) + R"(","Connection ERROR reset"]]}]})";
  ASSERT_EQ(PushJson(push).status, 204);
  auto lines = [&](const std::string& q) {
    auto r = Query(q, base_, base_ + kNanosPerSecond, 100, "forward");
    EXPECT_EQ(r.status, 200) << q << ": " << r.body;
    std::vector<std::string> out;
    for (const char* l : {"GET /index.html 200", "POST /login 500 error", "GET /health 200",
                          "Connection ERROR reset"}) {
      if (r.body.find(l) != std::string::npos) out.push_back(l);
    }
    return out;
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(lines(R"({app="f"} |= "GET")"), (V{"GET /index.html 200", "GET /health 200"}));
  EXPECT_EQ(lines(R"({app="f"} != "GET")"), (V{"POST /login 500 error", "Connection ERROR reset"}));
  EXPECT_EQ(lines(R"({app="f"} |~ "(?i)error")"),
            (V{"POST /login 500 error", "Connection ERROR reset"}));
  EXPECT_EQ(lines(R"({app="f"} !~ "[0-9]{3}")"), (V{"Connection ERROR reset"}));
  EXPECT_EQ(lines(R"({app="f"} |= "GET" |= `health`)"), (V{"GET /health 200"}));
  EXPECT_EQ(lines(R"({app="f"} |= "index" or "login")"),
            (V{"GET /index.html 200", "POST /login 500 error"}));
  EXPECT_EQ(lines(R"({app="f"} |= "")").size(), 4u);
}

TEST_F(LokiApiTest, LabelsValuesAndSeries) {
  std::string push = R"({"streams":[{"stream":{"app":"a","env":"prod"},"values":[[")" + Ts(1) +
                     R"(","x"]]},{"stream":{"app":"b"},"values":[[")" + Ts(1) + R"(","y"]]}]})";
  ASSERT_EQ(PushJson(push).status, 204);
  auto l = Call("GET", "/loki/api/v1/labels");
  EXPECT_EQ(l->body, "{\"status\":\"success\",\"data\":[\"app\",\"env\",\"service_name\"]}\n");
  auto v = Call("GET", "/loki/api/v1/label/app/values");
  EXPECT_EQ(v->body, "{\"status\":\"success\",\"data\":[\"a\",\"b\"]}\n");
  auto s = Call("GET", "/loki/api/v1/series?match[]=" + QueryEscape(R"({app="a"})"));
  EXPECT_EQ(s->body,
            "{\"status\":\"success\",\"data\":[{\"app\":\"a\",\"env\":\"prod\",\"service_name\":"
            "\"a\"}]}\n");
  auto post =
      Call("POST", "/loki/api/v1/series", {{"Content-Type", "application/x-www-form-urlencoded"}},
           "match=" + QueryEscape(R"({app="b"})"));
  EXPECT_EQ(post->body,
            "{\"status\":\"success\",\"data\":[{\"app\":\"b\",\"service_name\":\"b\"}]}\n");
  auto bi = Call("GET", "/loki/api/v1/status/buildinfo");
  EXPECT_EQ(bi->status, 200);
  EXPECT_NE(bi->body.find("\"version\":\"3."), std::string::npos);
}

TEST_F(LokiApiTest, ValidationErrorsUseLokiMessagesAndKeepValidStreams) {
  int64_t old_ts = NowNanos() - 8 * 24 * kNanosPerHour;
  std::string push = R"({"streams":[)"
                     R"({"stream":{"app":"ok"},"values":[[")" +
                     Ts(1) +
                     R"(","kept"]]},)"
                     R"({"stream":{"app":"old"},"values":[[")" +
                     std::to_string(old_ts) + R"(","too old"]]}]})";
  auto r = PushJson(push);
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(
      r.body.find("entry for stream '{app=\"old\", service_name=\"old\"}' has timestamp too old: "),
      std::string::npos)
      << r.body;
  auto q = Query(R"({app="ok"})", base_, base_ + kNanosPerSecond, 100, "forward");
  EXPECT_NE(q.body.find("kept"), std::string::npos);

  std::string many = R"({"streams":[{"stream":{)";
  for (int i = 0; i < 16; i++)
    many += std::string(i ? "," : "") + "\"l" + std::to_string(i) + "\":\"v\"";
  many += R"(},"values":[[")" + Ts(1) + R"(","x"]]}]})";
  auto m = PushJson(many);
  EXPECT_EQ(m.status, 400);
  EXPECT_NE(m.body.find("has 16 label names; limit 15"), std::string::npos) << m.body;

  std::string longline(262145, 'x');
  auto big = PushJson(R"({"streams":[{"stream":{"app":"big"},"values":[[")" + Ts(1) + R"(",")" +
                      longline + R"("]]}]})");
  EXPECT_EQ(big.status, 400);
  EXPECT_NE(
      big.body.find("max entry size '262144' bytes exceeded for stream '{app=\"big\", "
                    "service_name=\"big\"}' while adding an entry with length '262145' bytes"),
      std::string::npos);

  auto future = PushJson(R"({"streams":[{"stream":{"app":"f"},"values":[[")" +
                         std::to_string(NowNanos() + kNanosPerHour) + R"(","x"]]}]})");
  EXPECT_EQ(future.status, 400);
  EXPECT_NE(future.body.find("has timestamp too new"), std::string::npos);

  auto empty = PushJson(R"({"streams":[]})");
  EXPECT_EQ(empty.status, 422);
  EXPECT_EQ(empty.body, "error at least one valid stream is required for ingestion");
}

TEST_F(LokiApiTest, BadBodiesGet4xxAndLeaveStoredDataIntact) {
  ASSERT_EQ(PushJson(R"({"streams":[{"stream":{"app":"keep"},"values":[[")" + Ts(1) +
                     R"(","precious"]]}]})")
                .status,
            204);
  auto post = [&](const Headers& h, const std::string& body) {
    auto r = Call("POST", "/loki/api/v1/push", h, body);
    return r.ok() ? r->status : -1;
  };
  const Headers json = {{"Content-Type", "application/json"}};
  const Headers proto = {{"Content-Type", "application/x-protobuf"}};
  EXPECT_EQ(post(json, R"({"streams":[{"stream":{"app":"x"},"values":[[)"), 400);
  EXPECT_EQ(post(json, R"({"streams":[{"stream":{"app":"x"},"values":[[1,"numeric ts"]]}]})"), 400);
  EXPECT_EQ(post(json, "{\"streams\":[{\"stream\":{\"app\":\"x\"},\"values\":[[\"" + Ts(1) +
                           "\",\"bad \xff utf8\"]]}]}"),
            400);
  EXPECT_EQ(post(proto, "not snappy at all"), 400);
  wire::PushRequestBuilder b;
  b.AddStream(R"({app="trunc"})");
  b.AddEntry(base_, "a line that will be cut");
  std::string raw = wire::EncodePushProtobufRaw(std::move(b).Build());
  // Truncated protobuf, correctly snappy-framed.
  std::string truncated, framed;
  truncated = raw.substr(0, raw.size() - 5);
  snappy::Compress(truncated.data(), truncated.size(), &framed);
  EXPECT_EQ(post(proto, framed), 400);
  EXPECT_EQ(post({}, "{}"), 400);  // no Content-Type
  EXPECT_EQ(post({{"Content-Type", "application/json"}, {"Content-Encoding", "br"}}, "{}"), 400);
  EXPECT_EQ(post(json, Gzip("{}").substr(0, 5)), 400);  // gzip header but no gzip encoding

  auto q = Query(R"({app="keep"})", base_, base_ + kNanosPerSecond, 100, "forward");
  EXPECT_NE(q.body.find("precious"), std::string::npos);
  auto all = Query(R"({app=~".+"})", base_, base_ + kNanosPerSecond, 100, "forward");
  EXPECT_EQ(all.body.find("trunc"), std::string::npos);
}

TEST_F(LokiApiTest, QueryErrors) {
  auto bad = Query(R"({app="x")", base_, base_ + kNanosPerSecond, 100, "forward");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.body.rfind("parse error", 0), 0u) << bad.body;
  auto empty = Query(R"({app=~".*"})", base_, base_ + kNanosPerSecond, 100, "forward");
  EXPECT_EQ(empty.status, 400);
  EXPECT_NE(empty.body.find("queries require at least one regexp or equality matcher"),
            std::string::npos);
  auto dir = Query(R"({app="x"})", base_, base_ + kNanosPerSecond, 100, "sideways");
  EXPECT_EQ(dir.status, 400);
  EXPECT_EQ(dir.body, "invalid direction 'sideways'");
  auto inst = Call("GET", "/loki/api/v1/query?query=" + QueryEscape(R"({app="x"})"));
  EXPECT_EQ(inst->status, 400);
  EXPECT_EQ(inst->body,
            "log queries are not supported as an instant query type, please change your query to "
            "a range query type");
  auto limit = Query(R"({app="x"})", base_, base_ + kNanosPerSecond, 5001, "forward");
  EXPECT_EQ(limit.status, 400);
  EXPECT_EQ(
      limit.body,
      "max entries limit per query exceeded, limit > max_entries_limit_per_query (5001 > 5000)");
}

TEST_F(LokiApiTest, ReadyMetricsAndFlush) {
  auto ready = Call("GET", "/ready");
  EXPECT_EQ(ready->status, 200);
  EXPECT_EQ(ready->body, "ready\n");
  ASSERT_EQ(
      PushJson(R"({"streams":[{"stream":{"app":"m"},"values":[[")" + Ts(1) + R"(","12345"]]}]})")
          .status,
      204);
  const std::string metrics = skald_->Metrics();
  EXPECT_EQ(SampleValue(metrics, "loki_distributor_lines_received_total{tenant=\"fake\"}"), 1)
      << metrics.substr(0, 3000);
  EXPECT_EQ(SampleValue(metrics, "loki_distributor_bytes_received_total{tenant=\"fake\"}"), 5);
  EXPECT_NE(metrics.find("\nloki_request_duration_seconds_bucket{"), std::string::npos);
  EXPECT_EQ(SampleValue(metrics, "loki_ingester_memory_streams{tenant=\"fake\"}"), 1);
  auto flush = Call("POST", "/flush");
  ASSERT_TRUE(flush.ok());
  EXPECT_EQ(flush->status, 204);
  EXPECT_EQ(SampleValue(skald_->Metrics(), "loki_ingester_memory_streams{tenant=\"fake\"}"), 0);
  bool found_chunk = false;
  for (auto& e : std::filesystem::recursive_directory_iterator(dir_.path() + "/data/store/packs")) {
    found_chunk |= e.is_regular_file();
  }
  EXPECT_TRUE(found_chunk);
  // The flush is durable, so a checkpoint released the WAL segments written before it.
  int checkpoints = 0, segments = 0;
  for (auto& e : std::filesystem::directory_iterator(dir_.path() + "/data/wal")) {
    std::string name = e.path().filename().string();
    if (name.rfind("checkpoint.", 0) == 0) checkpoints++;
    if (!name.empty() && isdigit(static_cast<unsigned char>(name[0]))) segments++;
  }
  EXPECT_EQ(checkpoints, 1);
  EXPECT_EQ(segments, 1);  // only the segment opened by the checkpoint's rotation
  // Still queryable once it lives only in the store.
  auto q = Query(R"({app="m"})", base_, base_ + kNanosPerSecond, 100, "forward");
  EXPECT_NE(q.body.find("12345"), std::string::npos);
}

class AuthTest : public LokiApiTest {
  std::vector<std::string> Flags() override { return {"-auth.enabled"}; }
};

TEST_F(AuthTest, TenantsAreIsolatedAndHeaderRequired) {
  std::string push =
      R"({"streams":[{"stream":{"app":"t"},"values":[[")" + Ts(1) + R"(","secret of a"]]}]})";
  auto none = PushJson(push);
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(none.body, "no org id");
  ASSERT_EQ(PushJson(push, {{"X-Scope-OrgID", "tenant-a"}}).status, 204);
  auto a = Query(R"({app="t"})", base_, base_ + kNanosPerSecond, 100, "forward",
                 {{"X-Scope-OrgID", "tenant-a"}});
  EXPECT_EQ(a.status, 200) << a.body;
  EXPECT_NE(a.body.find("secret of a"), std::string::npos);
  auto b = Query(R"({app="t"})", base_, base_ + kNanosPerSecond, 100, "forward",
                 {{"X-Scope-OrgID", "tenant-b"}});
  EXPECT_EQ(b.status, 200) << b.body;
  EXPECT_NE(b.body.find("\"result\":[]"), std::string::npos) << b.body;
  EXPECT_EQ(b.body.find("secret of a"), std::string::npos);
  // Flushed data stays isolated too.
  ASSERT_EQ(Call("POST", "/flush")->status, 204);
  auto b2 = Query(R"({app="t"})", base_, base_ + kNanosPerSecond, 100, "forward",
                  {{"X-Scope-OrgID", "tenant-b"}});
  EXPECT_EQ(b2.status, 200) << b2.body;
  EXPECT_NE(b2.body.find("\"result\":[]"), std::string::npos) << b2.body;
  EXPECT_EQ(b2.body.find("secret of a"), std::string::npos);
  auto a2 = Query(R"({app="t"})", base_, base_ + kNanosPerSecond, 100, "forward",
                  {{"X-Scope-OrgID", "tenant-a"}});
  EXPECT_EQ(a2.status, 200) << a2.body;
  EXPECT_NE(a2.body.find("secret of a"), std::string::npos);
  // Without a tenant, reads are refused like writes.
  auto none_q = Query(R"({app="t"})", base_, base_ + kNanosPerSecond, 100, "forward");
  EXPECT_EQ(none_q.status, 401) << none_q.body;
}

// Loki takes the first of two X-Scope-OrgID headers; Skald refuses the request, so a proxy
// that appends the header instead of replacing it cannot be used to pick a tenant.
TEST_F(AuthTest, TwoTenantHeadersAreRefusedEverywhere) {
  const Headers two = {{"X-Scope-OrgID", "tenant-a"}, {"x-scope-orgid", "tenant-b"}};
  std::string push =
      R"({"streams":[{"stream":{"app":"dup"},"values":[[")" + Ts(1) + R"(","line"]]}]})";
  auto p = PushJson(push, two);
  EXPECT_EQ(p.status, 400) << p.body;
  EXPECT_EQ(p.body, "more than one X-Scope-OrgID header: send the tenant exactly once");
  auto q = Query(R"({app="dup"})", base_, base_ + kNanosPerSecond, 100, "forward", two);
  EXPECT_EQ(q.status, 400) << q.body;
  for (const char* target :
       {"/loki/api/v1/labels", "/loki/api/v1/rules", "/prometheus/api/v1/rules",
        "/loki/api/v1/index/stats?query=%7Ba%3D%22b%22%7D"}) {
    auto r = Call("GET", target, two);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->status, 400) << target << ": " << r->body;
  }
  // Nothing was stored for either tenant.
  for (const char* t : {"tenant-a", "tenant-b"}) {
    auto r = Query(R"({app="dup"})", base_, base_ + kNanosPerSecond, 100, "forward",
                   {{"X-Scope-OrgID", t}});
    EXPECT_NE(r.body.find("\"result\":[]"), std::string::npos) << r.body;
  }
}

TEST_F(LokiApiTest, IntervalKeepsOneEntryPerIntervalInQueryDirection) {
  std::string values;
  for (int i = 0; i < 10; i++) {
    values +=
        std::string(i ? "," : "") + "[\"" + Ts(i * 1000) + "\",\"tick " + std::to_string(i) + "\"]";
  }
  ASSERT_EQ(PushJson(R"({"streams":[{"stream":{"app":"iv"},"values":[)" + values + "]}]}").status,
            204);
  auto ticks = [&](const std::string& direction, const std::string& interval) {
    auto r = Query(R"({app="iv"})", base_, base_ + 60 * kNanosPerSecond, 100, direction, {},
                   "&interval=" + interval);
    EXPECT_EQ(r.status, 200) << r.body;
    std::vector<int> out;
    for (size_t pos = 0; (pos = r.body.find("\"tick ", pos)) != std::string::npos; pos += 6) {
      out.push_back(std::stoi(r.body.substr(pos + 6)));
    }
    // Every kept entry keeps its line (a thinning bug once emptied the first one).
    EXPECT_EQ(r.body.find(R"(",""])"), std::string::npos) << r.body;
    return out;
  };
  using V = std::vector<int>;
  // Forward starts at the oldest entry, backward at the newest; both keep an
  // entry only once the previous kept one is at least `interval` away.
  EXPECT_EQ(ticks("forward", "3s"), (V{0, 3, 6, 9}));
  EXPECT_EQ(ticks("backward", "3s"), (V{9, 6, 3, 0}));
  EXPECT_EQ(ticks("forward", "2.5"), (V{0, 3, 6, 9}));  // seconds as a float
  EXPECT_EQ(ticks("forward", "4s"), (V{0, 4, 8}));
  EXPECT_EQ(ticks("forward", "0"), (V{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
  auto bad = Query(R"({app="iv"})", base_, base_ + 60 * kNanosPerSecond, 100, "forward", {},
                   "&interval=-1s");
  EXPECT_EQ(bad.status, 400) << bad.body;
}

// The ingester's out-of-order window comes from the config: max_chunk_age / 2.
class OutOfOrderWindowTest : public LokiApiTest {
  std::vector<std::string> Flags() override { return {"-ingester.max-chunk-age=1m"}; }
};

TEST_F(OutOfOrderWindowTest, EntriesUpToHalfTheMaxChunkAgeBehindTheNewestAreAccepted) {
  const int64_t newest = base_ + 120 * kNanosPerSecond;
  const int64_t window = 30 * kNanosPerSecond;  // 1m / 2
  auto push = [&](int64_t ts, const std::string& line) {
    return PushJson(R"({"streams":[{"stream":{"app":"ooo"},"values":[[")" + std::to_string(ts) +
                    R"(",")" + line + R"("]]}]})");
  };
  ASSERT_EQ(push(newest, "newest").status, 204);
  auto inside = push(newest - window, "just inside");
  EXPECT_EQ(inside.status, 204) << inside.body;
  auto outside = push(newest - window - 1, "just outside");
  EXPECT_EQ(outside.status, 400) << outside.body;
  EXPECT_NE(outside.body.find("entry too far behind"), std::string::npos) << outside.body;
  auto q = Query(R"({app="ooo"})", base_, newest + 1, 100, "forward");
  EXPECT_NE(q.body.find("just inside"), std::string::npos) << q.body;
  EXPECT_EQ(q.body.find("just outside"), std::string::npos) << q.body;
}

TEST(ReadyTest, NotReadyAndRefusingPushesUntilTheWalHasReplayed) {
  TempDir dir;
  {
    // A first run leaves a stream in the store and a WAL directory to replay.
    InProcessSkald first(dir.Sub("data"));
    ASSERT_TRUE(first.Start().ok());
    const std::string ts = std::to_string(NowNanos() - 60 * kNanosPerSecond);
    auto r = first.Call("POST", "/loki/api/v1/push", {{"Content-Type", "application/json"}},
                        R"({"streams":[{"stream":{"app":"r"},"values":[[")" + ts + R"(","x"]]}]})");
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(r->status, 204) << r->body;
    ASSERT_TRUE(first.Stop().ok());
  }
  int during_replay = 0;
  InProcessSkald* self = nullptr;
  server::AppHooks hooks;
  hooks.before_wal_replay = [&] {
    during_replay++;
    ASSERT_GT(self->port(), 0);  // already listening
    auto ready = self->Call("GET", "/ready");
    ASSERT_TRUE(ready.ok()) << ready.status().ToString();
    EXPECT_EQ(ready->status, 503);
    EXPECT_EQ(ready->body, "Ingester not ready: replaying the WAL\n");
    auto push = self->Call("POST", "/loki/api/v1/push", {{"Content-Type", "application/json"}},
                           R"({"streams":[]})");
    ASSERT_TRUE(push.ok());
    EXPECT_EQ(push->status, 503) << push->body;
  };
  InProcessSkald skald(dir.Sub("data"), {}, hooks);
  self = &skald;
  ASSERT_TRUE(skald.Start().ok());
  EXPECT_EQ(during_replay, 1);
  auto ready = skald.Call("GET", "/ready");
  ASSERT_TRUE(ready.ok());
  EXPECT_EQ(ready->status, 200) << ready->body;
}

TEST(PortZeroTest, TwoServersOnPortZeroGetDistinctBoundPorts) {
  TempDir dir;
  InProcessSkald a(dir.Sub("a")), b(dir.Sub("b"));
  ASSERT_TRUE(a.Start().ok());
  ASSERT_TRUE(b.Start().ok());
  EXPECT_GT(a.port(), 0);
  EXPECT_GT(b.port(), 0);
  EXPECT_NE(a.port(), b.port());
  for (InProcessSkald* s : {&a, &b}) {
    auto r = s->Call("GET", "/ready");
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->status, 200);
  }
}

}  // namespace
}  // namespace skald::testing
