// OTLP logs decoding and Loki's mapping (wire/otlp.h): real OpenTelemetry JS SDK bodies
// (testdata/otlp, see its README) in every encoding, name sanitising, map flattening, each body
// type, timestamps, service_name discovery, otlp_config rules, and bad input (truncated
// protobuf, wrong wire types, huge lengths, bad JSON, bombs) rejected with clear errors.
#include <gtest/gtest.h>
#include <lz4frame.h>
#include <zstd.h>

#include <cmath>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tests/wire/push_test_util.h"
#include "wire/otlp.h"

namespace skald::wire {
namespace {

using testing::FlatEntry;
using testing::FlatStream;
using testing::Flatten;
using E = OtlpEncoder;
using Meta = std::vector<std::pair<std::string, std::string>>;

std::string ReadFile(const std::string& name) {
  std::ifstream in(std::string(SKALD_SOURCE_DIR) + "/testdata/otlp/" + name, std::ios::binary);
  EXPECT_TRUE(in.good()) << name;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Zstd(const std::string& in) {
  std::string out(ZSTD_compressBound(in.size()), '\0');
  out.resize(ZSTD_compress(out.data(), out.size(), in.data(), in.size(), 3));
  return out;
}

std::string Lz4Frame(const std::string& in) {
  std::string out(LZ4F_compressFrameBound(in.size(), nullptr), '\0');
  out.resize(LZ4F_compressFrame(out.data(), out.size(), in.data(), in.size(), nullptr));
  return out;
}

StatusOr<std::vector<FlatStream>> Decode(const std::string& ct, const std::string& enc,
                                         std::string body,
                                         const OtlpOptions& opt = DefaultOtlpOptions()) {
  auto r = DecodeOtlpBody(ct, enc, std::move(body), opt);
  if (!r.ok()) return r.status();
  return Flatten(*r);
}

// What Loki makes of testdata/otlp/sdk-*: one stream (resource labels), four entries.
std::vector<FlatStream> SdkExpected() {
  const Meta resource = {{"service_version", "2.3.0"},
                         {"host_name", "node-1"},
                         {"process_pid", "4242"},
                         {"scope_name", "checkout-logger"},
                         {"scope_version", "1.4.2"}};
  auto with = [&](Meta m) {
    m.insert(m.end(), resource.begin(), resource.end());
    return m;
  };
  FlatStream s;
  s.labels =
      R"({deployment_environment_name="prod", k8s_pod_name="checkout-7d9f", service_name="checkout", service_namespace="shop"})";
  s.entries.push_back(FlatEntry{1767323045123456789, "order 1234 placed",
                                with({{"http_method", "POST"},
                                      {"http_status_code", "201"},
                                      {"order_total", "12.5"},
                                      {"user_vip", "true"},
                                      {"tags", R"(["a","b"])"},
                                      {"observed_timestamp", "1767323045123457789"},
                                      {"severity_number", "9"},
                                      {"severity_text", "INFO"},
                                      {"flags", "1"},
                                      {"trace_id", "0af7651916cd43dd8448eb211c80319c"},
                                      {"span_id", "b7ad6b7169203331"}})});
  s.entries.push_back(FlatEntry{
      1767323046000000000,
      R"({"code":402,"detail":{"gateway":"stripe"},"msg":"payment failed","retry":false})",
      with({{"error_type", "card_declined"},
            {"req_id", "r-1"},
            {"req_size", "5"},
            {"observed_timestamp", "1767323046000000005"},
            {"severity_number", "17"},
            {"severity_text", "ERROR"}})});
  s.entries.push_back(FlatEntry{1767323047000000500, R"(["x",1,2.5,true])",
                                with({{"observed_timestamp", "1767323047000000600"},
                                      {"severity_number", "14"},
                                      {"event_name", "checkout.retry"}})});
  s.entries.push_back(FlatEntry{1767323048000000000, "42",
                                with({{"observed_timestamp", "1767323048000000000"},
                                      {"severity_number", "5"},
                                      {"severity_text", "debug"}})});
  return {s};
}

void ExpectSdk(const StatusOr<std::vector<FlatStream>>& got) {
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, SdkExpected());
}

TEST(OtlpSdkBodies, ProtobufFromTheJsSdk) {
  ExpectSdk(Decode("application/x-protobuf", "", ReadFile("sdk-proto.bin")));
}

TEST(OtlpSdkBodies, GzipProtobufFromTheJsSdk) {
  ExpectSdk(Decode("application/x-protobuf", "gzip", ReadFile("sdk-proto-gzip.bin.gz")));
}

TEST(OtlpSdkBodies, JsonFromTheJsSdk) {
  ExpectSdk(Decode("application/json", "", ReadFile("sdk-http-json.json")));
}

TEST(OtlpSdkBodies, GzipJsonFromTheJsSdk) {
  ExpectSdk(Decode("application/json", "gzip", ReadFile("sdk-http-json-gzip.json.gz")));
}

TEST(OtlpSdkBodies, ZstdAndLz4FrameEncodings) {
  const std::string proto = ReadFile("sdk-proto.bin");
  ExpectSdk(Decode("application/x-protobuf", "zstd", Zstd(proto)));
  ExpectSdk(Decode("application/x-protobuf", "lz4", Lz4Frame(proto)));
  const std::string json = ReadFile("sdk-http-json.json");
  ExpectSdk(Decode("application/json", "zstd", Zstd(json)));
  ExpectSdk(Decode("application/json", "lz4", Lz4Frame(json)));
}

TEST(OtlpSdkBodies, JsonTranscodesToTheSameProtobufMeaning) {
  auto proto = OtlpJsonToProtobuf(ReadFile("sdk-http-json.json"));
  ASSERT_TRUE(proto.ok()) << proto.status().ToString();
  auto a = DecodeOtlpProtobuf(*proto, DefaultOtlpOptions());
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(Flatten(*a), SdkExpected());
}

TEST(OtlpBody, UnsupportedEncodingAndContentTypeUseLokisTexts) {
  auto enc = Decode("application/x-protobuf", "snappy", "");
  EXPECT_EQ(enc.status(), Status::InvalidArgument(
                              "unsupported content encoding snappy: only gzip, lz4 and zstd are "
                              "supported"));
  auto ct = Decode("text/plain", "", "");
  EXPECT_EQ(ct.status(), Status::InvalidArgument("content type: text/plain is not supported"));
  auto none = Decode("", "", "");
  EXPECT_EQ(none.status(), Status::InvalidArgument("content type:  is not supported"));
  // Parameters are allowed (Loki compares the header exactly; collectors send none).
  EXPECT_TRUE(Decode("application/json; charset=utf-8", "", "{}").ok());
}

TEST(OtlpBody, CorruptCompressedBodiesAreClear400s) {
  const std::string proto = ReadFile("sdk-proto.bin");
  std::string z = Zstd(proto);
  z.resize(z.size() / 2);
  auto tz = Decode("application/x-protobuf", "zstd", z);
  EXPECT_EQ(tz.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(tz.status().message().starts_with("zstd: ")) << tz.status().message();
  std::string l = Lz4Frame(proto);
  l.resize(l.size() / 2);
  auto tl = Decode("application/x-protobuf", "lz4", l);
  EXPECT_EQ(tl.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(tl.status().message().starts_with("lz4: ")) << tl.status().message();
  auto junk = Decode("application/x-protobuf", "gzip", "not gzip at all");
  EXPECT_EQ(junk.status().code(), StatusCode::kInvalidArgument);
}

TEST(OtlpBody, DecompressionBombsStopAtTheLimit) {
  const std::string zeros(8 << 20, '\0');
  DecodeLimits limits;
  limits.max_decompressed_bytes = 1 << 20;
  for (const auto& [enc, body] :
       std::vector<std::pair<std::string, std::string>>{{"gzip", testing::Compress(zeros, 16 + 15)},
                                                        {"zstd", Zstd(zeros)},
                                                        {"lz4", Lz4Frame(zeros)}}) {
    auto r = DecodeOtlpBody("application/x-protobuf", enc, body, DefaultOtlpOptions(), limits);
    EXPECT_EQ(r.status().code(), StatusCode::kTooLarge) << enc << ": " << r.status().ToString();
  }
  auto plain = DecodeOtlpBody("application/x-protobuf", "", zeros, DefaultOtlpOptions(), limits);
  EXPECT_EQ(plain.status().code(), StatusCode::kTooLarge);
}

// ---------------------------------------------------------------------------
// Mapping

std::string OneRecord(std::vector<std::pair<std::string, std::string>> res_attrs, E::Record rec,
                      E::Scope scope = {}) {
  scope.records.push_back(std::move(rec));
  E::Resource r;
  r.attributes = std::move(res_attrs);
  r.scopes.push_back(std::move(scope));
  return E::Request({r});
}

std::vector<FlatStream> Map(const std::string& proto,
                            const OtlpOptions& opt = DefaultOtlpOptions()) {
  auto r = DecodeOtlpProtobuf(proto, opt);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? Flatten(*r) : std::vector<FlatStream>{};
}

TEST(OtlpNames, SanitisedLikeLokisLabelNamer) {
  EXPECT_EQ(*SanitizeOtlpName("http.method"), "http_method");
  EXPECT_EQ(*SanitizeOtlpName("service.name"), "service_name");
  EXPECT_EQ(*SanitizeOtlpName("123abc"), "key_123abc");
  EXPECT_EQ(*SanitizeOtlpName("a..b__c"), "a_b_c");
  EXPECT_EQ(*SanitizeOtlpName("_private"), "_private");
  EXPECT_EQ(*SanitizeOtlpName("__name__"), "__name__");
  EXPECT_EQ(*SanitizeOtlpName("__a..b__"), "__a_b__");
  EXPECT_EQ(*SanitizeOtlpName("grüße"), "gr_e");
  EXPECT_EQ(*SanitizeOtlpName("x-"), "x_");
  EXPECT_EQ(SanitizeOtlpName("").status(), Status::InvalidArgument("label name is empty"));
  EXPECT_EQ(SanitizeOtlpName("...").status(),
            Status::InvalidArgument(
                R"(normalization for label name "..." resulted in invalid name "_")"));
}

TEST(OtlpMapping, AttributeNamesAreSanitisedAndMapsFlattened) {
  E::Record rec;
  rec.time_unix_nano = 100;
  rec.body = E::Str("hi");
  rec.attributes = {
      {"http.method", E::Str("GET")},
      {"1st", E::Int(-7)},
      {"req", E::Map({{"size", E::Int(5)}, {"in.ner", E::Map({{"a", E::Str("x")}})}})},
      {"empty.map", E::Map({})}};
  auto got = Map(OneRecord({{"service.name", E::Str("svc")}}, rec));
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].labels, R"({service_name="svc"})");
  ASSERT_EQ(got[0].entries.size(), 1u);
  EXPECT_EQ(
      got[0].entries[0].metadata,
      (Meta{{"http_method", "GET"}, {"key_1st", "-7"}, {"req_size", "5"}, {"req_in_ner_a", "x"}}));
}

TEST(OtlpMapping, AnInvalidAttributeNameFailsTheRequest) {
  E::Record rec;
  rec.attributes = {{"", E::Str("x")}};
  auto r = DecodeOtlpProtobuf(OneRecord({}, rec), DefaultOtlpOptions());
  EXPECT_EQ(r.status(), Status::InvalidArgument("symbolizer lookup: label name is empty"));
  rec.attributes = {{"m", E::Map({{"", E::Str("x")}})}};
  auto nested = DecodeOtlpProtobuf(OneRecord({}, rec), DefaultOtlpOptions());
  ASSERT_TRUE(nested.ok());  // "m_" is a valid name
  EXPECT_EQ(Flatten(*nested)[0].entries[0].metadata, (Meta{{"m_", "x"}}));
}

std::string LineOf(const std::string& body) {
  E::Record rec;
  rec.time_unix_nano = 1;
  rec.body = body;
  auto got = Map(OneRecord({}, rec));
  return got.empty() || got[0].entries.empty() ? "<none>" : got[0].entries[0].line;
}

TEST(OtlpMapping, BodiesAreStringifiedLikePdataAsString) {
  EXPECT_EQ(LineOf(E::Str("plain <b>&")), "plain <b>&");
  EXPECT_EQ(LineOf(E::Int(-42)), "-42");
  EXPECT_EQ(LineOf(E::Bool(true)), "true");
  EXPECT_EQ(LineOf(E::Double(12.5)), "12.5");
  EXPECT_EQ(LineOf(E::Double(1e21)), "1e+21");
  EXPECT_EQ(LineOf(E::Double(1e-7)), "1e-7");
  EXPECT_EQ(LineOf(E::Double(123456789.0)), "123456789");
  EXPECT_EQ(LineOf(E::Double(NAN)), "NaN");
  EXPECT_EQ(LineOf(E::Double(-INFINITY)), "-Infinity");
  EXPECT_EQ(LineOf(E::Bytes(std::string("\x00\xff\x10", 3))), "AP8Q");
  EXPECT_EQ(LineOf(std::string()), "");  // empty AnyValue
  EXPECT_EQ(LineOf(E::Array(
                {E::Str("a\"<\n\x01"), E::Int(1), std::string(), E::Bytes("hi"), E::Array({})})),
            R"(["a\"<\n\u0001",1,null,"aGk=",[]])");
  // Maps: keys sorted, the last duplicate wins, no HTML escaping.
  EXPECT_EQ(LineOf(E::Map({{"z", E::Int(1)},
                           {"a", E::Str("&")},
                           {"z", E::Int(2)},
                           {"m", E::Map({{"k", E::Double(0.5)}})}})),
            R"({"a":"&","m":{"k":0.5},"z":2})");
  // Go's encoder fails on NaN inside a map: AsString is "".
  EXPECT_EQ(LineOf(E::Map({{"x", E::Double(NAN)}})), "");
  EXPECT_EQ(LineOf(E::Str("\xff")), "\xff");  // string bodies are passed through
  // Inside a map or array, invalid UTF-8 becomes one \ufffd per byte, as Go's encoder writes
  // it (this once looped forever: found by otlp_fuzz).
  EXPECT_EQ(LineOf(E::Array({E::Str("a\xff\xc3"
                                    "b\xe2\x82")})),
            R"(["a\ufffd\ufffdb\ufffd\ufffd"])");
  EXPECT_EQ(LineOf(E::Map({{"k\xff", E::Str("\xef\xbf\xbd")}})), "{\"k\\ufffd\":\"\xef\xbf\xbd\"}");
}

TEST(OtlpMapping, RecordFieldsBecomeStructuredMetadataInLokisOrder) {
  E::Record rec;
  rec.time_unix_nano = 5;
  rec.observed_time_unix_nano = 6;
  rec.severity_number = 13;
  rec.severity_text = "WARN";
  rec.dropped_attributes_count = 3;
  rec.flags = 257;
  rec.trace_id =
      std::string("\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10", 16);
  rec.span_id = std::string("\xaa\xbb\xcc\xdd\xee\xff\x00\x11", 8);
  rec.event_name = "ev";
  rec.attributes = {{"event_name", E::Str("from-attr")}, {"k", E::Str("v")}};
  E::Scope scope;
  scope.name = "lib";
  scope.version = "1.0";
  scope.dropped_attributes_count = 2;
  scope.attributes = {{"scope.attr", E::Str("s")}};
  auto got =
      Map(OneRecord({{"service.name", E::Str("a")}, {"host.name", E::Str("h")}}, rec, scope));
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].entries[0].metadata, (Meta{{"k", "v"},
                                              {"observed_timestamp", "6"},
                                              {"severity_number", "13"},
                                              {"severity_text", "WARN"},
                                              {"dropped_attributes_count", "3"},
                                              {"flags", "257"},
                                              {"trace_id", "0102030405060708090a0b0c0d0e0f10"},
                                              {"span_id", "aabbccddeeff0011"},
                                              {"event_name", "ev"},
                                              {"host_name", "h"},
                                              {"scope_attr", "s"},
                                              {"scope_name", "lib"},
                                              {"scope_version", "1.0"},
                                              {"scope_dropped_attributes_count", "2"}}));
}

TEST(OtlpMapping, TimestampRules) {
  OtlpOptions opt = DefaultOtlpOptions();
  opt.receive_time_ns = 777;
  E::Record only_observed;
  only_observed.observed_time_unix_nano = 50;
  E::Record neither;
  E::Record zero_ids;  // all-zero ids count as absent
  zero_ids.time_unix_nano = 9;
  zero_ids.trace_id = std::string(16, '\0');
  zero_ids.span_id = std::string(8, '\0');
  E::Scope scope;
  scope.records = {only_observed, neither, zero_ids};
  E::Resource res;
  res.scopes = {scope};
  auto got = Map(E::Request({res}), opt);
  ASSERT_EQ(got.size(), 1u);
  ASSERT_EQ(got[0].entries.size(), 3u);
  EXPECT_EQ(got[0].entries[0].ts, 50);
  EXPECT_TRUE(got[0].entries[0].metadata.empty());  // no observed_timestamp without a timestamp
  EXPECT_EQ(got[0].entries[1].ts, 777);
  EXPECT_EQ(got[0].entries[2].ts, 9);
  EXPECT_TRUE(got[0].entries[2].metadata.empty());
}

TEST(OtlpMapping, ServiceNameDiscovery) {
  E::Record rec;
  rec.time_unix_nano = 1;
  // No service.name: the first index label (attribute order) named in discover_service_name.
  auto d = Map(
      OneRecord({{"k8s.namespace.name", E::Str("ns")}, {"k8s.container.name", E::Str("c")}}, rec));
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].labels, R"({k8s_container_name="c", k8s_namespace_name="ns", service_name="c"})");
  auto unknown = Map(OneRecord({{"host.name", E::Str("h")}}, rec));
  EXPECT_EQ(unknown[0].labels, R"({service_name="unknown_service"})");
  // An empty service.name does not count.
  auto empty = Map(OneRecord({{"service.name", E::Str("")}}, rec));
  EXPECT_EQ(empty[0].labels, R"({service_name="unknown_service"})");
  OtlpOptions off = DefaultOtlpOptions();
  off.discover_service_name.clear();
  auto none = Map(OneRecord({{"host.name", E::Str("h")}}, rec), off);
  EXPECT_EQ(none[0].labels, "{}");
}

TEST(OtlpMapping, ResourcesWithTheSameLabelsShareAStream) {
  E::Record rec;
  rec.time_unix_nano = 1;
  rec.body = E::Str("one");
  E::Record rec2 = rec;
  rec2.body = E::Str("two");
  E::Resource a, b, c;
  a.attributes = {{"service.name", E::Str("s")}, {"host.name", E::Str("h1")}};
  a.scopes = {E::Scope{.records = {rec}}};
  b.attributes = {{"host.name", E::Str("h2")}, {"service.name", E::Str("s")}};
  b.scopes = {E::Scope{.records = {rec2}}};
  c.attributes = {{"service.name", E::Str("other")}};
  c.scopes = {E::Scope{.records = {rec}}};
  auto got = Map(E::Request({a, c, b}));
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].labels, R"({service_name="s"})");
  ASSERT_EQ(got[0].entries.size(), 2u);
  EXPECT_EQ(got[0].entries[0].metadata, (Meta{{"host_name", "h1"}}));
  EXPECT_EQ(got[0].entries[1].metadata, (Meta{{"host_name", "h2"}}));
  EXPECT_EQ(got[1].labels, R"({service_name="other"})");
}

TEST(OtlpMapping, ARequestWithoutRecordsHasNoStreams) {
  E::Resource r;
  r.attributes = {{"service.name", E::Str("s")}};
  r.scopes = {E::Scope{}};
  EXPECT_TRUE(Map(E::Request({r})).empty());
}

TEST(OtlpMapping, OtlpConfigRules) {
  OtlpOptions opt;
  opt.discover_service_name = DefaultOtlpOptions().discover_service_name;
  // ignore_defaults + own rules: host.name indexed, anything "secret.*" dropped.
  OtlpAttributeRule index;
  index.action = OtlpAction::kIndexLabel;
  index.attributes = {"host.name"};
  OtlpAttributeRule drop;
  drop.action = OtlpAction::kDrop;
  drop.regex = [](std::string_view n) { return n.starts_with("secret."); };
  opt.resource_rules = {index, drop};
  OtlpAttributeRule scope_drop;
  scope_drop.action = OtlpAction::kDrop;
  scope_drop.attributes = {"noisy"};
  opt.scope_rules = {scope_drop};
  OtlpAttributeRule log_index;
  log_index.action = OtlpAction::kIndexLabel;
  log_index.attributes = {"tenant.id"};
  OtlpAttributeRule log_drop;
  log_drop.action = OtlpAction::kDrop;
  log_drop.attributes = {"tenant.id", "pw"};  // first match wins: tenant.id stays indexed
  opt.log_rules = {log_index, log_drop};
  opt.severity_text_as_label = true;

  E::Record a;
  a.time_unix_nano = 1;
  a.severity_text = "INFO";
  a.attributes = {{"tenant.id", E::Str("t1")}, {"pw", E::Str("x")}, {"k", E::Str("v")}};
  E::Record b;
  b.time_unix_nano = 2;
  E::Scope scope;
  scope.attributes = {{"noisy", E::Str("n")}, {"kept", E::Str("y")}};
  scope.records = {a, b};
  E::Resource res;
  res.attributes = {
      {"service.name", E::Str("svc")}, {"host.name", E::Str("h")}, {"secret.token", E::Str("t")}};
  res.scopes = {scope};
  auto got = Map(E::Request({res}), opt);
  ASSERT_EQ(got.size(), 2u);
  // service.name is not indexed (defaults ignored) but present: no discovery, no service_name.
  EXPECT_EQ(got[0].labels, R"({host_name="h"})");
  ASSERT_EQ(got[0].entries.size(), 1u);
  EXPECT_EQ(got[0].entries[0].ts, 2);
  EXPECT_EQ(got[0].entries[0].metadata, (Meta{{"service_name", "svc"}, {"kept", "y"}}));
  EXPECT_EQ(got[1].labels, R"({host_name="h", severity_text="INFO", tenant_id="t1"})");
  EXPECT_EQ(got[1].entries[0].metadata,
            (Meta{{"k", "v"}, {"severity_text", "INFO"}, {"service_name", "svc"}, {"kept", "y"}}));
}

TEST(OtlpMapping, ResourcesWithInvalidUtf8LabelValuesAreSkipped) {
  E::Record rec;
  rec.time_unix_nano = 1;
  E::Resource bad, good;
  bad.attributes = {{"service.name", E::Str("\xff")}};
  bad.scopes = {E::Scope{.records = {rec}}};
  good.attributes = {{"service.name", E::Str("ok")}};
  good.scopes = {E::Scope{.records = {rec}}};
  auto got = Map(E::Request({bad, good}));
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].labels, R"({service_name="ok"})");
}

// ---------------------------------------------------------------------------
// Bad protobuf

Status ProtoError(const std::string& bytes) {
  auto r = DecodeOtlpProtobuf(bytes, DefaultOtlpOptions());
  return r.ok() ? Status::OK() : r.status();
}

TEST(OtlpProtoErrors, TruncatedInputIsUnexpectedEof) {
  const std::string full = ReadFile("sdk-proto.bin");
  for (size_t n = 1; n < full.size(); n += 7) {
    Status st = ProtoError(full.substr(0, n));
    // Every prefix either fails cleanly or (at a message boundary) decodes a valid prefix.
    if (!st.ok()) {
      EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << n;
    }
  }
  EXPECT_EQ(ProtoError(full.substr(0, full.size() - 1)), Status::InvalidArgument("unexpected EOF"));
}

TEST(OtlpProtoErrors, WrongWireTypesNameTheField) {
  using testing::Len;
  using testing::VarintField;
  EXPECT_EQ(ProtoError(VarintField(1, 5)),
            Status::InvalidArgument("proto: wrong wireType = 0 for field ResourceLogs"));
  // LogRecord.time_unix_nano sent as a varint.
  const std::string rec = VarintField(1, 5);
  const std::string req = Len(1, Len(2, Len(2, rec)));
  EXPECT_EQ(ProtoError(req),
            Status::InvalidArgument("proto: wrong wireType = 0 for field TimeUnixNano"));
  EXPECT_EQ(ProtoError(Len(1, Len(2, Len(2, Len(9, "short"))))),
            Status::InvalidArgument("unmarshal: invalid TraceID length"));
  EXPECT_EQ(ProtoError(Len(1, Len(2, Len(2, Len(10, "short"))))),
            Status::InvalidArgument("unmarshal: invalid SpanID length"));
  EXPECT_EQ(ProtoError(testing::Tag(1, 3)),
            Status::InvalidArgument("proto: wrong wireType = 3 for field ResourceLogs"));
  EXPECT_EQ(ProtoError(testing::Tag(7, 3)), Status::InvalidArgument("proto: illegal wireType 3"));
}

TEST(OtlpProtoErrors, HugeLengthsAndOverlongVarints) {
  using testing::Tag;
  using testing::Varint;
  EXPECT_EQ(ProtoError(Tag(1, 2) + Varint(uint64_t{1} << 62)),
            Status::InvalidArgument("unexpected EOF"));
  EXPECT_EQ(ProtoError(Tag(1, 2) + std::string(11, '\xff')),
            Status::InvalidArgument("proto: integer overflow"));
}

TEST(OtlpProtoErrors, DeepNestingIsRejected) {
  std::string v = E::Str("x");
  for (int i = 0; i < 200; ++i) v = E::Array({v});
  E::Record rec;
  rec.body = v;
  Status st = ProtoError(OneRecord({}, rec));
  EXPECT_EQ(st, Status::InvalidArgument("proto: exceeded maximum nesting depth"));
}

TEST(OtlpProtoErrors, AttributeExpansionIsBounded) {
  // 200 resource attributes copied onto 20000 two-byte records: far more than 128x the input.
  E::Resource res;
  for (int i = 0; i < 200; ++i) {
    res.attributes.push_back({"attribute.number." + std::to_string(i), E::Str("v")});
  }
  std::string records;
  for (int i = 0; i < 20000; ++i) records += testing::Len(2, "");
  std::string resource;
  for (const auto& [k, v] : res.attributes) resource += testing::Len(1, E::KeyValue(k, v));
  const std::string req = testing::Len(1, testing::Len(1, resource) + testing::Len(2, records));
  OtlpOptions opt = DefaultOtlpOptions();
  opt.max_decoded_bytes = 4 << 20;
  auto r = DecodeOtlpProtobuf(req, opt);
  EXPECT_EQ(r.status().code(), StatusCode::kTooLarge) << r.status().ToString();
}

// ---------------------------------------------------------------------------
// JSON specifics

std::vector<FlatStream> MapJson(const std::string& json) {
  auto r = DecodeOtlpJson(json, DefaultOtlpOptions());
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? Flatten(*r) : std::vector<FlatStream>{};
}

TEST(OtlpJson, AcceptsWhatTheSpecSaysReceiversMust) {
  // snake_case names, integers as strings or numbers, enum names, hex ids, base64 bytes,
  // unknown fields and nulls ignored.
  const std::string json = R"({"resource_logs":[{"resource":{"attributes":[
      {"key":"service.name","value":{"stringValue":"j"}}]},"unknown":1,
    "scopeLogs":[{"scope":null,"log_records":[
      {"time_unix_nano":1000,"severityNumber":"SEVERITY_NUMBER_ERROR3","severity_text":"E",
       "trace_id":"0102030405060708090A0B0C0D0E0F10","spanId":"",
       "body":{"bytesValue":"aGVsbG8="},
       "attributes":[{"key":"n","value":{"intValue":"-12"}},
                     {"key":"d","value":{"doubleValue":"Infinity"}},
                     {"key":"b","value":{"bool_value":false}},
                     {"key":"e","value":{}}],
       "flags":"1","droppedAttributesCount":"2","eventName":null},
      {"timeUnixNano":"2000","body":{"kvlistValue":{"values":[{"key":"a","value":{"intValue":1}}]}}}
    ]}]}]})";
  auto got = MapJson(json);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].labels, R"({service_name="j"})");
  ASSERT_EQ(got[0].entries.size(), 2u);
  EXPECT_EQ(got[0].entries[0].ts, 1000);
  EXPECT_EQ(got[0].entries[0].line, "aGVsbG8=");
  EXPECT_EQ(got[0].entries[0].metadata, (Meta{{"n", "-12"},
                                              {"d", "Infinity"},
                                              {"b", "false"},
                                              {"e", ""},
                                              {"severity_number", "19"},
                                              {"severity_text", "E"},
                                              {"dropped_attributes_count", "2"},
                                              {"flags", "1"},
                                              {"trace_id", "0102030405060708090a0b0c0d0e0f10"}}));
  EXPECT_EQ(got[0].entries[1].ts, 2000);
  EXPECT_EQ(got[0].entries[1].line, R"({"a":1})");
  EXPECT_TRUE(MapJson("{}").empty());
}

TEST(OtlpJson, BadJsonIsAClear400) {
  auto err = [](const std::string& json) {
    auto r = DecodeOtlpJson(json, DefaultOtlpOptions());
    return r.ok() ? Status::OK() : r.status();
  };
  EXPECT_EQ(err("{").code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(err("{").message().starts_with("JSON decode error: ")) << err("{").message();
  EXPECT_EQ(err("[]"),
            Status::InvalidArgument("JSON decode error: the body must be a JSON object"));
  EXPECT_EQ(err(R"({"resourceLogs":{}})"),
            Status::InvalidArgument("JSON decode error: resourceLogs must be an array"));
  const std::string rec = R"({"resourceLogs":[{"scopeLogs":[{"logRecords":[)";
  EXPECT_EQ(err(rec + R"({"traceId":"abc"}]}]}]})"),
            Status::InvalidArgument("JSON decode error: traceId: length mismatch"));
  EXPECT_EQ(err(rec + R"({"traceId":"zz02030405060708090a0b0c0d0e0f10"}]}]}]})"),
            Status::InvalidArgument("JSON decode error: traceId: invalid hex"));
  EXPECT_EQ(
      err(rec + R"({"timeUnixNano":"12x"}]}]}]})"),
      Status::InvalidArgument("JSON decode error: timeUnixNano: invalid integer string \"12x\""));
  EXPECT_EQ(err(rec + R"({"timeUnixNano":-1}]}]}]})"),
            Status::InvalidArgument("JSON decode error: timeUnixNano must not be negative"));
  EXPECT_EQ(
      err(rec + R"({"severityNumber":"LOUD"}]}]}]})"),
      Status::InvalidArgument("JSON decode error: severityNumber: unknown string value \"LOUD\""));
  EXPECT_EQ(err(rec + R"({"body":{"bytesValue":"@@@"}}]}]}]})"),
            Status::InvalidArgument("JSON decode error: bytesValue: illegal base64 data"));
  EXPECT_EQ(err(rec + R"({"body":{"boolValue":"yes"}}]}]}]})"),
            Status::InvalidArgument("JSON decode error: boolValue must be a boolean"));
}

TEST(OtlpJson, DeepNestingIsRejected) {
  std::string v = R"({"stringValue":"x"})";
  for (int i = 0; i < 100; ++i) v = R"({"arrayValue":{"values":[)" + v + "]}}";
  const std::string json =
      R"({"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":)" + v + "}]}]}]}";
  auto r = DecodeOtlpJson(json, DefaultOtlpOptions());
  EXPECT_EQ(r.status(),
            Status::InvalidArgument("JSON decode error: exceeded maximum nesting depth"));
}

TEST(OtlpErrorStatus, IsAGoogleRpcStatusWithCodeZero) {
  EXPECT_EQ(EncodeOtlpErrorStatus("bad"), std::string("\x12\x03"
                                                      "bad",
                                                      5));
  EXPECT_EQ(EncodeOtlpErrorStatus(""), "");
}

}  // namespace
}  // namespace skald::wire
