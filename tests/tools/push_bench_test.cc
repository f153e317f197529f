// Tests for skald-bench push: planning, label layout and the pre-encoded request pool.
#include "tools/bench/push_bench.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <map>
#include <set>

#include "wire/push.h"

namespace skald::bench {
namespace {

constexpr int64_t kNow = 1700000000LL * 1000000000LL;

// Splits a serialized request into head and body.
std::pair<std::string, std::string> SplitRequest(const std::string& req) {
  size_t e = req.find("\r\n\r\n");
  return {req.substr(0, e + 4), req.substr(e + 4)};
}

struct Decoded {
  std::map<std::string, std::vector<int64_t>> ts_by_stream;  // in send order
  std::map<std::string, int> conn_of_stream;                 // by the value of the "stream" label
  int64_t lines = 0;
  uint64_t raw = 0;
  std::set<std::string> distinct_lines;
};

void DecodeAll(const std::vector<EncodedRequest>& reqs, int conn, bool json, Decoded* d) {
  for (const auto& r : reqs) {
    auto [head, body] = SplitRequest(r.bytes);
    ASSERT_NE(head.find("POST /loki/api/v1/push HTTP/1.1\r\n"), std::string::npos);
    ASSERT_NE(head.find("Content-Length: " + std::to_string(body.size()) + "\r\n"),
              std::string::npos);
    StatusOr<wire::PushRequest> req =
        json ? wire::DecodePushJson(body) : wire::DecodePushProtobuf(body);
    ASSERT_TRUE(req.ok()) << req.status().ToString();
    int64_t lines = 0;
    uint64_t raw = 0;
    for (const auto& s : req->streams) {
      std::string labels(s.labels);
      // JSON bodies come back with canonical (sorted) labels: key by the stream label.
      size_t at = labels.find("stream=\"");
      ASSERT_NE(at, std::string::npos) << labels;
      std::string stream = labels.substr(at + 8, labels.find('"', at + 8) - at - 8);
      auto [it, fresh] = d->conn_of_stream.emplace(stream, conn);
      EXPECT_EQ(it->second, conn) << labels << " written by two connections";
      for (const auto& e : s.entries) {
        d->ts_by_stream[labels].push_back(e.timestamp_ns);
        d->distinct_lines.insert(std::string(e.line));
        raw += e.line.size();
        lines++;
      }
    }
    EXPECT_EQ(lines, r.lines);
    EXPECT_EQ(raw, r.raw_bytes);
    d->lines += lines;
    d->raw += raw;
  }
}

TEST(PushPlanTest, ValidatesAndSpreadsTimestampsOverTheSpan) {
  Corpus c = Corpus::BuiltIn();
  PushOptions o;
  o.lines = 100000;
  o.streams = 10;
  o.ts_span_ns = 60LL * 1000000000LL;
  StatusOr<PushPlan> p = MakePushPlan(o, c, kNow);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->lines, 100000);
  EXPECT_EQ(p->t0_ns, kNow - o.ts_span_ns);
  EXPECT_EQ(p->step_ns, o.ts_span_ns / 10000);
  EXPECT_EQ(p->connections, 4);

  o.streams = 2;  // fewer streams than connections: connections capped
  EXPECT_EQ(MakePushPlan(o, c, kNow)->connections, 2);

  PushOptions r;
  r.rate = 1000;
  r.duration_ns = 10LL * 1000000000LL;
  EXPECT_EQ(MakePushPlan(r, c, kNow)->lines, 10201);  // rate x duration + 2%

  for (auto bad : {&PushOptions::streams, &PushOptions::hosts, &PushOptions::batch,
                   &PushOptions::connections}) {
    PushOptions b;
    b.*bad = 0;
    EXPECT_EQ(MakePushPlan(b, c, kNow).status().code(), StatusCode::kInvalidArgument);
  }
  PushOptions f;
  f.format = "xml";
  EXPECT_EQ(MakePushPlan(f, c, kNow).status().code(), StatusCode::kInvalidArgument);
}

TEST(PushPlanTest, StreamLabelsFollowTheDocumentedLayout) {
  PushOptions o;
  o.hosts = 3;
  EXPECT_EQ(StreamLabels(o, 7), "{job=\"bench\", host=\"host-1\", stream=\"7\"}");
}

// Options for the request-pool tests: 64 lines per request over 60 s of timestamps.
PushOptions PoolOptions(int streams, int connections, int64_t lines) {
  PushOptions o;
  o.streams = streams;
  o.connections = connections;
  o.batch = 64;
  o.lines = lines;
  o.ts_span_ns = 60LL * 1000000000LL;
  return o;
}

// Encodes every connection's requests for `o` (60 s of timestamps) and decodes them into *d;
// each request must hold between min_lines and o.batch lines. Returns the bytes encoded.
int64_t EncodeAndDecodeAll(const Corpus& c, const PushOptions& o, uint32_t min_lines, Decoded* d) {
  StatusOr<PushPlan> plan = MakePushPlan(o, c, kNow);
  EXPECT_TRUE(plan.ok());
  if (!plan.ok()) return 0;
  Url url = *ParseUrl("http://localhost:3100");
  std::atomic<int64_t> pool{0};
  int64_t bytes = 0;
  for (int conn = 0; conn < plan->connections; ++conn) {
    std::vector<EncodedRequest> reqs = EncodeConnectionRequests(c, o, url, *plan, conn, &pool);
    for (const auto& r : reqs) {
      EXPECT_GE(r.lines, min_lines);
      EXPECT_LE(r.lines, static_cast<uint32_t>(o.batch));
      bytes += static_cast<int64_t>(r.bytes.size());
    }
    DecodeAll(reqs, conn, o.format == "json", d);
  }
  EXPECT_EQ(pool.load(), bytes);
  return bytes;
}

void CheckPool(const std::string& format) {
  Corpus c = Corpus::BuiltIn();
  PushOptions o = PoolOptions(/*streams=*/10, /*connections=*/3, /*lines=*/5003);
  o.format = format;
  Decoded d;
  EncodeAndDecodeAll(c, o, 0, &d);  // each request holds at most 64 lines
  EXPECT_EQ(d.lines, 5003);
  EXPECT_EQ(d.ts_by_stream.size(), 10u);
  for (const auto& [labels, ts] : d.ts_by_stream) {
    // Each stream holds ~lines/streams entries, strictly increasing, within [now - span, now).
    EXPECT_GE(ts.size(), 500u) << labels;
    EXPECT_LE(ts.size(), 501u) << labels;
    for (size_t i = 0; i < ts.size(); ++i) {
      EXPECT_GE(ts[i], kNow - o.ts_span_ns);
      EXPECT_LT(ts[i], kNow);
      if (i > 0) {
        ASSERT_LT(ts[i - 1], ts[i]) << labels << " at " << i;
      }
    }
  }
  // Streams go to connection s % connections.
  ASSERT_EQ(d.conn_of_stream.size(), 10u);
  EXPECT_EQ(d.conn_of_stream.at("4"), 1);
  EXPECT_EQ(d.conn_of_stream.at("9"), 0);
  EXPECT_EQ(d.conn_of_stream.at("2"), 2);
  // Lines vary: the built-in corpus has ~30 templates, yet nearly all lines differ.
  EXPECT_GT(d.distinct_lines.size(), 4900u);
}

// More streams per connection than lines per request (1,000,000 streams, batch 1,000): every
// line is still encoded, each in its stream's order (requests used to come out empty).
TEST(PushPoolTest, MoreStreamsThanABatchLosesNoLine) {
  Corpus c = Corpus::BuiltIn();
  PushOptions o = PoolOptions(/*streams=*/997, /*connections=*/2, /*lines=*/3001);
  Decoded d;
  EncodeAndDecodeAll(c, o, 1, &d);  // no request is empty, none holds more than 64 lines
  EXPECT_EQ(d.lines, 3001);
  EXPECT_EQ(d.ts_by_stream.size(), 997u);
  for (const auto& [labels, ts] : d.ts_by_stream) {
    for (size_t i = 1; i < ts.size(); ++i) ASSERT_LT(ts[i - 1], ts[i]) << labels;
  }
}

TEST(PushPoolTest, ProtobufRequestsDecodeWithUniqueIncreasingTimestampsPerStream) {
  CheckPool("protobuf");
}

TEST(PushPoolTest, JsonRequestsDecodeWithUniqueIncreasingTimestampsPerStream) { CheckPool("json"); }

TEST(PushPoolTest, EncodingIsDeterministicAndStopsAtThePoolCap) {
  Corpus c = Corpus::BuiltIn();
  PushOptions o;
  o.lines = 20000;
  o.batch = 100;
  Url url = *ParseUrl("http://localhost:3100");
  PushPlan plan = *MakePushPlan(o, c, kNow);
  std::atomic<int64_t> p1{0}, p2{0};
  auto a = EncodeConnectionRequests(c, o, url, plan, 0, &p1);
  auto b = EncodeConnectionRequests(c, o, url, plan, 0, &p2);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) ASSERT_EQ(a[i].bytes, b[i].bytes);

  o.pool_cap_bytes = p1.load() / 4;
  std::atomic<int64_t> p3{0};
  auto capped = EncodeConnectionRequests(c, o, url, plan, 0, &p3);
  EXPECT_LT(capped.size(), a.size() / 3);
  EXPECT_GE(p3.load(), o.pool_cap_bytes);
  EXPECT_LT(p3.load(), o.pool_cap_bytes + static_cast<int64_t>(a[0].bytes.size()) * 2);
}

TEST(PushPoolTest, TenantHeaderIsSentWhenSet) {
  Corpus c = Corpus::BuiltIn();
  PushOptions o;
  o.lines = 10;
  o.tenant = "team-a";
  Url url = *ParseUrl("http://localhost:3100");
  std::atomic<int64_t> pool{0};
  auto reqs = EncodeConnectionRequests(c, o, url, *MakePushPlan(o, c, kNow), 0, &pool);
  ASSERT_FALSE(reqs.empty());
  EXPECT_NE(reqs[0].bytes.find("\r\nX-Scope-OrgID: team-a\r\n"), std::string::npos);
  EXPECT_NE(reqs[0].bytes.find("\r\nContent-Type: application/x-protobuf\r\n"), std::string::npos);
}

TEST(PercentileTest, NearestRank) {
  std::vector<int64_t> v;
  for (int i = 1; i <= 100; ++i) v.push_back(i);
  EXPECT_EQ(Percentile(v, 0.5), 50);
  EXPECT_EQ(Percentile(v, 0.99), 99);
  EXPECT_EQ(Percentile(v, 1.0), 100);
  EXPECT_EQ(Percentile({7}, 0.99), 7);
  EXPECT_EQ(Percentile({}, 0.5), 0);
}

uint64_t Fnv1a(uint64_t h, std::string_view s) {
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

// Hash of every request byte of every connection for a fixed plan.
uint64_t PoolHash(const Corpus& c, PushOptions o) {
  StatusOr<PushPlan> plan = MakePushPlan(o, c, kNow);
  EXPECT_TRUE(plan.ok());
  Url url = *ParseUrl("http://localhost:3100");
  std::atomic<int64_t> pool{0};
  uint64_t h = 0xcbf29ce484222325ULL;
  for (int conn = 0; conn < plan->connections; ++conn) {
    for (const auto& r : EncodeConnectionRequests(c, o, url, *plan, conn, &pool)) {
      h = Fnv1a(h, r.bytes);
    }
  }
  return h;
}

// Pinned before -line-format existed: the default (plain) output must stay byte-identical for
// a fixed seed, so results measured before and after the change compare.
TEST(PushPinTest, PlainLinesAreByteIdenticalToThePreLineFormatGenerator) {
  PushOptions o;
  o.lines = 20000;
  o.streams = 7;
  o.batch = 300;
  o.seed = 42;
  o.format = "json";
  EXPECT_EQ(PoolHash(Corpus::BuiltIn(), o), 0x599a1ec8b4f62219ULL);
  std::string dir = std::string(SKALD_SOURCE_DIR) + "/testdata/loghub";
  if (!std::filesystem::exists(dir)) GTEST_SKIP();
  StatusOr<Corpus> lh = Corpus::LoadDir(dir);
  ASSERT_TRUE(lh.ok());
  o.lines = 100000;
  o.streams = 30;
  o.format = "protobuf";
  EXPECT_EQ(PoolHash(*lh, o), 0x3c9c41e906c3f5a3ULL);
  o.format = "json";
  EXPECT_EQ(PoolHash(*lh, o), 0x64c678752e3c2688ULL);
  o.line_format = "plain";  // explicit plain = the default
  EXPECT_EQ(PoolHash(*lh, o), 0x64c678752e3c2688ULL);
  LineGenerator g(&lh->sources()[3], 42, 5);
  std::string l;
  g.Next(&l);
  EXPECT_EQ(l,
            "081034 025903 18107 INFO dfs.DataNode$PacketResponder: PacketResponder 9 for block "
            "blk_1155029842178300180 terminating");
}

}  // namespace
}  // namespace skald::bench
