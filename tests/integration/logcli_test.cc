// The requests logcli 3.7.6 sends, replayed byte for byte, and its responses decoded as its Go
// types decode them (strictly: each field with its JSON type). Recorded by running the real
// logcli (`query`, `query --tail`, `instant-query`, `labels`, `labels <name>`, `series`,
// `stats`, `volume`, `volume_range`, `detected-fields`, `detected-fields <name>`) against Skald
// with request logging on; CI has no logcli, so this test stands in for it.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <string>
#include <thread>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include "core/time.h"
#include "tests/testing/in_process_skald.h"
#include "tests/testing/temp_dir.h"

namespace skald {
namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;
using Result = simdjson::simdjson_result<element>;

// The element, or a JSON null when the lookup failed (a missing field fails every check below
// that wants a value).
element Get(Result r) {
  element e;
  if (r.get(e)) {
    static simdjson::dom::parser p;
    static element null = p.parse(std::string_view("null")).value();
    return null;
  }
  return e;
}
element_type TypeOf(Result r) { return Get(r).type(); }
bool IsStringMap(element e);
bool IsStringMap(Result r) { return IsStringMap(Get(r)); }
bool IsStringArray(element e);
bool IsStringArray(Result r) { return IsStringArray(Get(r)); }
bool IsInt(element e);
bool IsInt(Result r) { return IsInt(Get(r)); }
bool IsStreamValues(element e);
bool IsStreamValues(Result r) { return IsStreamValues(Get(r)); }
bool IsStreams(element e);
bool IsStreams(Result r) { return IsStreams(Get(r)); }
bool IsSample(element e);
bool IsSample(Result r) { return IsSample(Get(r)); }
bool IsVector(element e);
bool IsVector(Result r) { return IsVector(Get(r)); }
bool IsMatrix(element e);
bool IsMatrix(Result r) { return IsMatrix(Get(r)); }

bool IsStringMap(element e) {
  if (e.type() != element_type::OBJECT) return false;
  for (auto [k, v] : e.get_object()) {
    if (v.type() != element_type::STRING) return false;
  }
  return true;
}
bool IsStringArray(element e) {
  if (e.type() != element_type::ARRAY) return false;
  for (element v : e.get_array()) {
    if (v.type() != element_type::STRING) return false;
  }
  return true;
}
bool IsInt(element e) {
  return e.type() == element_type::INT64 || e.type() == element_type::UINT64;
}
// [["<ns>", "<line>"], ...]
bool IsStreamValues(element e) {
  if (e.type() != element_type::ARRAY) return false;
  for (element v : e.get_array()) {
    if (v.type() != element_type::ARRAY || v.get_array().size() != 2) return false;
    if (!IsStringArray(v)) return false;
  }
  return true;
}
bool IsStreams(element result) {
  if (result.type() != element_type::ARRAY) return false;
  for (element s : result.get_array()) {
    if (!IsStringMap(s["stream"]) || !IsStreamValues(s["values"])) return false;
  }
  return true;
}
// Prometheus sample: [<unix seconds number>, "<value>"].
bool IsSample(element v) {
  if (v.type() != element_type::ARRAY || v.get_array().size() != 2) return false;
  element ts = Get(v.at(0)), val = Get(v.at(1));
  return (ts.type() == element_type::DOUBLE || IsInt(ts)) && val.type() == element_type::STRING;
}
bool IsVector(element result) {
  if (result.type() != element_type::ARRAY) return false;
  for (element s : result.get_array()) {
    if (!IsStringMap(s["metric"]) || !IsSample(s["value"])) return false;
  }
  return true;
}
bool IsMatrix(element result) {
  if (result.type() != element_type::ARRAY) return false;
  for (element s : result.get_array()) {
    if (!IsStringMap(s["metric"]) || TypeOf(s["values"]) != element_type::ARRAY) return false;
    for (element v : s["values"].get_array()) {
      if (!IsSample(v)) return false;
    }
  }
  return true;
}

class LogcliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    skald_ = std::make_unique<testing::InProcessSkald>(dir_.path());
    Status st = skald_->Start();
    ASSERT_TRUE(st.ok()) << st.ToString();
    now_ = NowNanos();
    const std::string t = std::to_string(now_ - 30 * kNanosPerSecond);
    std::string push = R"({"streams":[{"stream":{"app":"web","cluster":"c1"},"values":[[")" + t +
                       R"(","level=info method=GET status=200 dur=5ms bytes=10KiB"]]},)"
                       R"({"stream":{"app":"api","cluster":"c1"},"values":[[")" +
                       t + R"(","{\"level\":\"warn\",\"status\":404}",{"trace_id":"abc"}]]}]})";
    auto r =
        skald_->Call("POST", "/loki/api/v1/push", {{"Content-Type", "application/json"}}, push);
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(r->status, 204) << r->body;
  }
  // GET target (with logcli's start/end: the last hour) -> parsed body.
  element Fetch(const std::string& target_template) {
    std::string t = target_template;
    auto sub = [&](const std::string& key, int64_t v) {
      for (size_t p; (p = t.find(key)) != std::string::npos;)
        t.replace(p, key.size(), std::to_string(v));
    };
    sub("{END}", now_);
    sub("{START}", now_ - 3600 * kNanosPerSecond);
    auto r = skald_->Call("GET", t);
    EXPECT_TRUE(r.ok()) << t;
    if (!r.ok()) return element();
    EXPECT_EQ(r->status, 200) << t << "\n" << r->body;
    bodies_.push_back(r->body);
    element e;
    auto err = parser_.parse(bodies_.back()).get(e);
    EXPECT_FALSE(err) << t << "\n" << r->body;
    return e;
  }
  element Data(element e, const char* result_type) {
    EXPECT_EQ(Get(e["status"]).get_string().value(), "success");
    element d = Get(e["data"]);
    if (result_type != nullptr) {
      EXPECT_EQ(Get(d["resultType"]).get_string().value(), result_type);
    }
    return d;
  }

  testing::TempDir dir_{"logcli"};
  std::unique_ptr<testing::InProcessSkald> skald_;
  int64_t now_ = 0;
  simdjson::dom::parser parser_;
  std::vector<std::string> bodies_;
};

TEST_F(LogcliTest, QueryCommandsGetTheTypesLogcliDecodes) {
  // logcli query --limit 3 '{app="web"} | logfmt'
  element q = Fetch(
      "/loki/api/v1/"
      "query_range?direction=BACKWARD&end={END}&limit=3&query=%7Bapp%3D%22web%22%7D+%7C+"
      "logfmt&start={START}");
  element d = Data(q, "streams");
  EXPECT_TRUE(IsStreams(d["result"]));
  EXPECT_EQ(Get(d["result"]).get_array().size(), 1u);
  EXPECT_EQ(TypeOf(d["stats"]), element_type::OBJECT);
  // logcli instant-query 'sum by (app) (count_over_time({cluster=~".+"}[5m]))'
  element i = Fetch(
      "/loki/api/v1/query?direction=BACKWARD&limit=30&query=sum+by+%28app%29+%28count_over_time%28%"
      "7Bcluster%3D~%22.%2B%22%7D%5B5m%5D%29%29&time={END}");
  element iv = Data(i, "vector");
  EXPECT_TRUE(IsVector(iv["result"]));
  EXPECT_EQ(Get(iv["result"]).get_array().size(), 2u);
}

TEST_F(LogcliTest, MetadataCommandsGetTheTypesLogcliDecodes) {
  // logcli labels / labels app / series
  EXPECT_TRUE(IsStringArray(Data(Fetch("/loki/api/v1/labels?end={END}&start={START}"), nullptr)));
  element values = Data(Fetch("/loki/api/v1/label/app/values?end={END}&start={START}"), nullptr);
  ASSERT_TRUE(IsStringArray(values));
  EXPECT_EQ(values.get_array().size(), 2u);
  element series = Data(
      Fetch("/loki/api/v1/series?end={END}&match=%7Bapp%3D%22web%22%7D&start={START}"), nullptr);
  ASSERT_EQ(series.type(), element_type::ARRAY);
  for (element s : series.get_array()) EXPECT_TRUE(IsStringMap(s));
  // logcli stats '{app="web"}': four integers.
  element stats =
      Fetch("/loki/api/v1/index/stats?end={END}&query=%7Bapp%3D%22web%22%7D&start={START}");
  for (const char* f : {"streams", "chunks", "bytes", "entries"}) EXPECT_TRUE(IsInt(stats[f])) << f;
  EXPECT_EQ(stats.get_object().size(), 4u);
  // logcli volume / volume_range
  EXPECT_TRUE(
      IsVector(Data(Fetch("/loki/api/v1/index/volume?end={END}&limit=30&query=%7Bapp%3D%22web%"
                          "22%7D&start={START}"),
                    "vector")["result"]));
  EXPECT_TRUE(
      IsMatrix(Data(Fetch("/loki/api/v1/index/volume_range?end={END}&limit=30&query=%7Bapp%3D~%"
                          "22.%2B%22%7D&start={START}&step=60"),
                    "matrix")["result"]));
}

TEST_F(LogcliTest, DetectedFieldsGetTheTypesLogcliDecodes) {
  // logcli detected-fields '{app="api"}'
  element f = Fetch(
      "/loki/api/v1/detected_fields?end={END}&limit=100&line_limit=1000&query=%7Bapp%3D%22api%22%"
      "7D&start={START}&step=10s");
  ASSERT_EQ(TypeOf(f["fields"]), element_type::ARRAY);
  EXPECT_TRUE(IsInt(f["limit"]));
  size_t n = 0;
  for (element field : Get(f["fields"]).get_array()) {
    n++;
    EXPECT_EQ(TypeOf(field["label"]), element_type::STRING);
    EXPECT_EQ(TypeOf(field["type"]), element_type::STRING);
    EXPECT_TRUE(IsInt(field["cardinality"]));
    element parsers = Get(field["parsers"]);
    EXPECT_TRUE(parsers.type() == element_type::NULL_VALUE || IsStringArray(parsers));
    element path;
    if (!field["jsonPath"].get(path)) {
      EXPECT_TRUE(IsStringArray(path));
    }
  }
  EXPECT_EQ(n, 4u);  // detected_level, level, status, trace_id
  // logcli detected-fields '{app="api"}' status
  element v = Fetch(
      "/loki/api/v1/detected_field/status/values?end={END}&limit=100&line_limit=1000&query=%7Bapp%"
      "3D%22api%22%7D&start={START}&step=10s");
  ASSERT_TRUE(IsStringArray(v["values"]));
  EXPECT_EQ(Get(v["values"]).get_array().size(), 1u);
  EXPECT_TRUE(IsInt(v["limit"]));
}

TEST_F(LogcliTest, QueryTailGetsTheMessagesLogcliDecodes) {
  // logcli query --tail --limit 2 '{app="web"}' (a WebSocket upgrade of this GET).
  namespace beast = boost::beast;
  namespace net = boost::asio;
  net::io_context ioc;
  beast::websocket::stream<net::ip::tcp::socket> ws(ioc);
  net::ip::tcp::resolver resolver(ioc);
  net::connect(ws.next_layer(), resolver.resolve("127.0.0.1", std::to_string(skald_->port())));
  ws.handshake("127.0.0.1",
               "/loki/api/v1/tail?delay_for=0&limit=2&query=%7Bapp%3D%22web%22%7D&start=" +
                   std::to_string(now_ - 3600 * kNanosPerSecond));
  beast::flat_buffer buf;
  ws.read(buf);  // the history
  bodies_.push_back(beast::buffers_to_string(buf.data()));
  element m;
  ASSERT_FALSE(parser_.parse(bodies_.back()).get(m));
  EXPECT_TRUE(IsStreams(m["streams"]));
  EXPECT_EQ(Get(m["streams"]).get_array().size(), 1u);
  element dropped;
  if (!m["dropped_entries"].get(dropped)) {
    for (element d : dropped.get_array()) {
      EXPECT_TRUE(IsStringMap(d["labels"]));
      EXPECT_EQ(TypeOf(d["timestamp"]), element_type::STRING);
    }
  }
  beast::error_code ec;
  ws.next_layer().close(ec);
}

}  // namespace
}  // namespace skald
