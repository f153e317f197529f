// Unit tests for the distributor: Loki's validation rules and their exact
// messages, service_name discovery, partial acceptance, the 422 for empty
// pushes, error grouping, ingester rejections and the discard/receive metrics.
// Writes go to a real ingester backed by a real object store and index.
#include "distributor/distributor.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "chunk/block.h"
#include "core/labels.h"
#include "core/metrics.h"
#include "core/time.h"
#include "distributor/level_detection.h"
#include "index/index_store.h"
#include "ingester/ingester.h"
#include "limits/limits.h"
#include "testing/fs/mem_object_store.h"
#include "wire/push.h"

namespace skald::distributor {
namespace {

constexpr std::string_view kTenant = "team-a";
using Meta = std::vector<std::pair<std::string, std::string>>;

struct Stored {
  int64_t ts;
  std::string line;
  Meta md;
  bool operator==(const Stored& o) const { return ts == o.ts && line == o.line && md == o.md; }
};
std::ostream& operator<<(std::ostream& os, const Stored& e) {
  return os << "{" << e.ts << ", \"" << e.line << "\", " << e.md.size() << " md}";
}

// A whole second a little in the past, so "now"-relative rules pass.
int64_t RecentSecond() { return (NowNanos() / kNanosPerSecond - 60) * kNanosPerSecond; }

// Go time.RFC3339 of a whole-second timestamp.
std::string Rfc3339(int64_t ts) {
  EXPECT_EQ(ts % kNanosPerSecond, 0);
  return FormatRFC3339Nano(ts);
}

struct StreamSpec {
  std::string labels;
  std::vector<std::tuple<int64_t, std::string, Meta>> entries;
};

wire::PushRequest Request(const std::vector<StreamSpec>& streams) {
  wire::PushRequestBuilder b;
  for (const auto& s : streams) {
    b.AddStream(s.labels);
    for (const auto& [ts, line, md] : s.entries) b.AddEntry(ts, line, md);
  }
  return std::move(b).Build();
}

class DistributorTest : public ::testing::Test {
 protected:
  Status Push(const std::vector<StreamSpec>& streams, std::string_view tenant = kTenant,
              metrics::Registry* reg = nullptr) {
    limits::Overrides overrides(limits_);
    Distributor d(&overrides, &ing_, reg);
    return d.Push(tenant, Request(streams));
  }

  // One stream of one entry with the given labels, pushed; returns the status.
  Status PushLabels(const std::string& labels) {
    return Push({{labels, {{RecentSecond(), "line", {}}}}});
  }

  std::vector<std::string> SeriesStrings(std::string_view tenant = kTenant) {
    std::vector<std::string> out;
    for (const auto& l : ing_.Series(tenant, {})) out.push_back(l.ToString());
    std::sort(out.begin(), out.end());
    return out;
  }

  // Entries held by the ingester, by stream label string.
  std::map<std::string, std::vector<Stored>> Held(std::string_view tenant = kTenant) {
    std::map<std::string, std::vector<Stored>> out;
    for (const auto& snap : ing_.Snapshot(tenant, {}, INT64_MIN, INT64_MAX)) {
      auto& dst = out[snap.labels.ToString()];
      for (const auto& ref : snap.blocks) {
        chunk::DecodedBlock d;
        EXPECT_TRUE(chunk::DecodeBlock(ref.bytes, &d).ok());
        for (size_t i = 0; i < d.size(); i++) {
          Stored e{d.ts(i), std::string(d.line(i)), {}};
          for (size_t j = 0; j < d.metadata_count(i); j++) {
            auto p = d.metadata(i, j);
            e.md.emplace_back(std::string(p.name), std::string(p.value));
          }
          dst.push_back(std::move(e));
        }
      }
    }
    return out;
  }

  void ExpectRejected(const Status& st, const std::string& msg) {
    EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << st.ToString();
    EXPECT_EQ(st.message(), msg);
  }

  // detected_level has its own tests (DetectedLevel*); the others compare metadata exactly.
  limits::Limits limits_ = [] {
    limits::Limits l;
    l.discover_log_levels = false;
    return l;
  }();
  storage::MemObjectStore store_;
  index::IndexStore index_{&store_};
  ingester::Ingester ing_{ingester::IngesterOptions{}, &store_, &index_, nullptr};
};

TEST_F(DistributorTest, AcceptsValidPushAndStoresEntriesWithMetadata) {
  const int64_t t = RecentSecond();
  Status st = Push({{R"({env="prod", app="web"})",
                     {{t, "first", {}}, {t + 1, "second", {{"trace_id", "abc"}}}}}});
  ASSERT_TRUE(st.ok()) << st.ToString();
  auto held = Held();
  ASSERT_EQ(held.size(), 1u);
  const std::string ls = R"({app="web", env="prod", service_name="web"})";
  std::vector<Stored> want = {{t, "first", {}}, {t + 1, "second", {{"trace_id", "abc"}}}};
  EXPECT_EQ(held[ls], want);
  EXPECT_TRUE(Held("other").empty());
}

TEST_F(DistributorTest, ServiceNameDiscoveryFollowsLokiOrder) {
  struct Case {
    std::string in, want;
  };
  const std::vector<Case> cases = {
      {R"({service="s", app="a", job="j"})",
       R"({app="a", job="j", service="s", service_name="s"})"},
      {R"({app="a", application="x", job="j"})",
       R"({app="a", application="x", job="j", service_name="a"})"},
      {R"({application="x", app_name="y"})",
       R"({app_name="y", application="x", service_name="x"})"},
      {R"({name="n", app_name="y"})", R"({app_name="y", name="n", service_name="y"})"},
      {R"({name="n", app_kubernetes_io_name="k"})",
       R"({app_kubernetes_io_name="k", name="n", service_name="n"})"},
      {R"({container="c", container_name="cn"})",
       R"({container="c", container_name="cn", service_name="c"})"},
      {R"({k8s_container_name="kc", component="co"})",
       R"({component="co", k8s_container_name="kc", service_name="kc"})"},
      {R"({workload="w", job="j"})", R"({job="j", service_name="w", workload="w"})"},
      {R"({job="j", k8s_job_name="kj"})", R"({job="j", k8s_job_name="kj", service_name="j"})"},
      {R"({k8s_job_name="kj"})", R"({k8s_job_name="kj", service_name="kj"})"},
      {R"({foo="bar"})", R"({foo="bar", service_name="unknown_service"})"},
      {R"({app="", foo="bar"})", R"({foo="bar", service_name="unknown_service"})"},
      {R"({service_name="explicit", app="a"})", R"({app="a", service_name="explicit"})"},
      {R"({})", R"({service_name="unknown_service"})"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.in);
    ASSERT_TRUE(PushLabels(c.in).ok());
    EXPECT_EQ(SeriesStrings(), std::vector<std::string>{c.want});
    ASSERT_TRUE(ing_.FlushAll().ok());
  }
}

TEST_F(DistributorTest, ServiceNameDiscoveryIsConfigurable) {
  limits_.discover_service_name = {"job", "app"};
  ASSERT_TRUE(PushLabels(R"({app="a", job="j"})").ok());
  EXPECT_EQ(SeriesStrings(), std::vector<std::string>{R"({app="a", job="j", service_name="j"})"});
  ASSERT_TRUE(ing_.FlushAll().ok());

  // Empty list: nothing added, and a stream without labels is refused.
  limits_.discover_service_name.clear();
  ASSERT_TRUE(PushLabels(R"({app="a"})").ok());
  EXPECT_EQ(SeriesStrings(), std::vector<std::string>{R"({app="a"})"});
  ExpectRejected(PushLabels("{}"), "error at least one label pair is required per stream");
}

// Parsed label texts are cached: a runtime change of the tenant's limits still applies to a
// text pushed before (service_name discovery redone, validation limits checked again).
TEST_F(DistributorTest, LimitChangesApplyToLabelTextsSeenBefore) {
  limits_.discover_service_name = {"app"};
  ASSERT_TRUE(PushLabels(R"({app="a", job="j"})").ok());
  ASSERT_TRUE(PushLabels(R"({app="a", job="j"})").ok());
  EXPECT_EQ(SeriesStrings(), std::vector<std::string>{R"({app="a", job="j", service_name="a"})"});
  ASSERT_TRUE(ing_.FlushAll().ok());

  limits_.discover_service_name = {"job"};
  ASSERT_TRUE(PushLabels(R"({app="a", job="j"})").ok());
  EXPECT_EQ(SeriesStrings(), std::vector<std::string>{R"({app="a", job="j", service_name="j"})"});
  ASSERT_TRUE(ing_.FlushAll().ok());

  limits_.max_label_value_length = 1;
  ASSERT_TRUE(PushLabels(R"({app="a", job="j"})").ok());  // every value is 1 byte
  limits_.max_label_names_per_series = 1;
  ExpectRejected(
      PushLabels(R"({app="a", job="j"})"),
      R"(entry for stream '{app="a", job="j", service_name="j"}' has 2 label names; limit 1)");
}

TEST_F(DistributorTest, LabelParseErrorIsWrapped) {
  for (std::string raw : {R"({app="a")", R"(app="a"})", R"({app=a})", R"({1a="x"})"}) {
    SCOPED_TRACE(raw);
    auto parsed = ParseLabels(raw);
    ASSERT_FALSE(parsed.ok());
    ExpectRejected(PushLabels(raw),
                   "error parsing labels '" + raw + "' with error: " + parsed.status().message());
  }
  EXPECT_TRUE(SeriesStrings().empty());
}

TEST_F(DistributorTest, TooManyLabelNamesDoesNotCountServiceName) {
  std::string fifteen = "{", sixteen;
  for (int i = 0; i < 15; i++) {
    char name[8];
    snprintf(name, sizeof(name), "l%02d", i);
    fifteen += std::string(i ? ", " : "") + name + "=\"v\"";
  }
  sixteen = fifteen + ", l15=\"v\"}";
  fifteen += "}";

  // 15 labels + discovered service_name = 16 stored labels: accepted.
  ASSERT_TRUE(PushLabels(fifteen).ok());
  // 15 labels + explicit service_name: accepted.
  std::string with_sn = fifteen.substr(0, fifteen.size() - 1) + R"(, service_name="x"})";
  ASSERT_TRUE(PushLabels(with_sn).ok());
  EXPECT_EQ(SeriesStrings().size(), 2u);

  std::string canon =
      sixteen.substr(0, sixteen.size() - 1) + R"(, service_name="unknown_service"})";
  ExpectRejected(PushLabels(sixteen),
                 "entry for stream '" + canon + "' has 16 label names; limit 15");

  limits_.max_label_names_per_series = 2;
  ASSERT_TRUE(PushLabels(R"({a="1", b="2"})").ok());
  ExpectRejected(PushLabels(R"({c="3", b="2", a="1"})"),
                 R"(entry for stream '{a="1", b="2", c="3", service_name="unknown_service"}' )"
                 "has 3 label names; limit 2");
}

TEST_F(DistributorTest, LabelNameAndValueLength) {
  limits_.max_label_name_length = 12;   // len("service_name")
  limits_.max_label_value_length = 15;  // len("unknown_service")
  ASSERT_TRUE(PushLabels(R"({abcdefghijkl="123456789012345"})").ok());
  ExpectRejected(PushLabels(R"({abcdefghijklm="1"})"),
                 R"(stream '{abcdefghijklm="1", service_name="unknown_service"}' has label name )"
                 R"(too long: 'abcdefghijklm')");
  ExpectRejected(PushLabels(R"({app="1234567890123456"})"),
                 R"(stream '{app="1234567890123456", service_name="1234567890123456"}' has label )"
                 R"(value too long: '1234567890123456')");
  // The added service_name is validated like any other label.
  limits_.max_label_value_length = 14;
  ExpectRejected(PushLabels(R"({foo="bar"})"),
                 R"(stream '{foo="bar", service_name="unknown_service"}' has label value too )"
                 R"(long: 'unknown_service')");
  EXPECT_EQ(SeriesStrings().size(), 1u);

  limits::Limits defaults;
  EXPECT_EQ(defaults.max_label_name_length, 1024);
  EXPECT_EQ(defaults.max_label_value_length, 2048);
  limits_ = defaults;
  std::string v2048(2048, 'v'), v2049(2049, 'v');
  ASSERT_TRUE(PushLabels("{foo=\"" + v2048 + "\"}").ok());
  ExpectRejected(PushLabels("{foo=\"" + v2049 + "\"}"),
                 "stream '{foo=\"" + v2049 +
                     "\", service_name=\"unknown_service\"}' has label value too long: '" + v2049 +
                     "'");
}

TEST_F(DistributorTest, DuplicateLabelNames) {
  ExpectRejected(PushLabels(R"({env="a", env="b"})"),
                 R"(stream '{env="a", env="b", service_name="unknown_service"}' has duplicate )"
                 R"(label name: 'env')");
  EXPECT_TRUE(SeriesStrings().empty());
}

TEST_F(DistributorTest, TimestampTooOld) {
  const int64_t now = NowNanos();
  const int64_t old = (now / kNanosPerSecond - 8 * 24 * 3600) * kNanosPerSecond;
  const int64_t before = NowNanos();
  Status st = Push({{R"({app="a"})", {{old + 700 * kNanosPerMilli, "x", {}}}}});
  const int64_t after = NowNanos();
  ASSERT_EQ(st.code(), StatusCode::kInvalidArgument);
  const std::string prefix =
      R"(entry for stream '{app="a", service_name="a"}' has timestamp too old: )" + Rfc3339(old) +
      ", oldest acceptable timestamp is: ";
  ASSERT_EQ(st.message().substr(0, prefix.size()), prefix) << st.message();
  std::string oldest = st.message().substr(prefix.size());
  ASSERT_EQ(oldest.size(), 20u) << oldest;  // 2006-01-02T15:04:05Z
  auto parsed = ParseRFC3339(oldest);
  ASSERT_TRUE(parsed.ok()) << oldest;
  const int64_t max_age = 168 * kNanosPerHour;
  EXPECT_GE(*parsed, before - max_age - kNanosPerSecond);
  EXPECT_LE(*parsed, after - max_age);
  EXPECT_TRUE(SeriesStrings().empty());

  // Within the max age: accepted; rule off: accepted.
  ASSERT_TRUE(Push({{R"({app="a"})", {{now - 6 * 24 * kNanosPerHour, "x", {}}}}}).ok());
  limits_.reject_old_samples = false;
  ASSERT_TRUE(Push({{R"({app="b"})", {{old, "x", {}}}}}).ok());
  EXPECT_EQ(SeriesStrings().size(), 2u);
}

TEST_F(DistributorTest, TimestampTooNew) {
  const int64_t future = (NowNanos() / kNanosPerSecond + 3600) * kNanosPerSecond;
  ExpectRejected(Push({{R"({app="a"})", {{future + 123, "x", {}}}}}),
                 R"(entry for stream '{app="a", service_name="a"}' has timestamp too new: )" +
                     Rfc3339(future));
  // Inside the 10m creation grace period: accepted.
  ASSERT_TRUE(Push({{R"({app="a"})", {{NowNanos() + 5 * kNanosPerMinute, "x", {}}}}}).ok());
  limits_.creation_grace_period_ns = 2 * kNanosPerHour;
  ASSERT_TRUE(Push({{R"({app="b"})", {{future, "x", {}}}}}).ok());
}

TEST_F(DistributorTest, LineTooLong) {
  limits_.max_line_size = 10;
  const int64_t t = RecentSecond();
  ExpectRejected(Push({{R"({app="a"})", {{t, "0123456789", {}}, {t + 1, "0123456789X", {}}}}}),
                 R"(max entry size '10' bytes exceeded for stream '{app="a", service_name="a"}' )"
                 "while adding an entry with length '11' bytes");
  auto held = Held();
  EXPECT_EQ(held[R"({app="a", service_name="a"})"], (std::vector<Stored>{{t, "0123456789", {}}}));

  EXPECT_EQ(limits::Limits().max_line_size, 262144);
  limits_.max_line_size = 0;  // unlimited
  ASSERT_TRUE(Push({{R"({app="big"})", {{t, std::string(1 << 20, 'x'), {}}}}}).ok());
}

// max_line_size_truncate (Loki's truncateLines): a long line keeps max_line_size -
// len(identifier) bytes plus the identifier; counted in loki_mutated_*{reason="line_too_long"}
// (the bytes removed), never as discarded. An identifier that leaves no room truncates nothing.
TEST_F(DistributorTest, LineTooLongIsTruncatedWhenAsked) {
  metrics::Registry reg;
  limits_.max_line_size = 10;
  limits_.max_line_size_truncate = true;
  limits_.max_line_size_truncate_identifier = "...";
  const int64_t t = RecentSecond();
  ASSERT_TRUE(
      Push({{R"({app="a"})",
             {{t, "0123456789", {}}, {t + 1, "0123456789ABCDEF", {}}, {t + 2, "short", {}}}}},
           kTenant, &reg)
          .ok());
  EXPECT_EQ(Held()[R"({app="a", service_name="a"})"],
            (std::vector<Stored>{
                {t, "0123456789", {}}, {t + 1, "0123456...", {}}, {t + 2, "short", {}}}));
  const std::string text = reg.Expose();
  EXPECT_NE(text.find(R"(loki_mutated_samples_total{reason="line_too_long",tenant=")" +
                      std::string(kTenant) + "\"} 1"),
            std::string::npos)
      << text;
  // 16 bytes, 7 kept: 9 removed.
  EXPECT_NE(text.find(R"(loki_mutated_bytes_total{reason="line_too_long",tenant=")" +
                      std::string(kTenant) + "\"} 9"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("loki_discarded_samples_total"), std::string::npos);

  // No identifier: exactly max_line_size bytes kept.
  limits_.max_line_size_truncate_identifier = "";
  ASSERT_TRUE(Push({{R"({app="b"})", {{t, "0123456789ABCDEF", {}}}}}).ok());
  EXPECT_EQ(Held()[R"({app="b", service_name="b"})"], (std::vector<Stored>{{t, "0123456789", {}}}));

  // An identifier as long as the limit: no truncation, the line is refused as too long.
  limits_.max_line_size_truncate_identifier = "<truncated>";
  ExpectRejected(Push({{R"({app="c"})", {{t, "0123456789ABCDEF", {}}}}}),
                 R"(max entry size '10' bytes exceeded for stream '{app="c", service_name="c"}' )"
                 "while adding an entry with length '16' bytes");
}

TEST_F(DistributorTest, StructuredMetadataRules) {
  const int64_t t = RecentSecond();
  const std::string ls = R"({app="a", service_name="a"})";

  limits_.allow_structured_metadata = false;
  ExpectRejected(Push({{R"({app="a"})", {{t, "x", {{"k", "v"}}}}}}),
                 "stream '" + ls +
                     "' includes structured metadata, but this feature is disallowed. Please see "
                     "`limits_config.allow_structured_metadata` or contact your Loki "
                     "administrator to enable it");
  ASSERT_TRUE(Push({{R"({app="a"})", {{t, "no metadata is fine", {}}}}}).ok());

  limits_.allow_structured_metadata = true;
  limits_.max_structured_metadata_size = 10;
  ASSERT_TRUE(Push({{R"({app="a"})", {{t + 1, "x", {{"abc", "1234567"}}}}}}).ok());  // 10 bytes
  ExpectRejected(Push({{R"({app="a"})", {{t + 2, "x", {{"abc", "12345678"}}}}}}),
                 "stream '" + ls +
                     "' has structured metadata too large: '11' bytes, limit: '10' bytes. Please "
                     "see `limits_config.max_structured_metadata_size` or contact your Loki "
                     "administrator to increase it");

  limits_.max_structured_metadata_size = 65536;
  limits_.max_structured_metadata_entries_count = 2;
  ASSERT_TRUE(Push({{R"({app="a"})", {{t + 3, "x", {{"a", "1"}, {"b", "2"}}}}}}).ok());
  ExpectRejected(Push({{R"({app="a"})", {{t + 4, "x", {{"a", "1"}, {"b", "2"}, {"c", "3"}}}}}}),
                 "stream '" + ls +
                     "' has too many structured metadata labels: '3', limit: '2'. Please see "
                     "`limits_config.max_structured_metadata_entries_count` or contact your Loki "
                     "administrator to increase it");

  // Loki: a limit of 0 disables the size and count checks.
  limits_.max_structured_metadata_size = 0;
  limits_.max_structured_metadata_entries_count = 0;
  ASSERT_TRUE(Push({{R"({app="a"})", {{t + 5, "x", {{"a", "1"}, {"b", "2"}, {"c", "3"}}}}}}).ok());

  auto held = Held()[ls];
  ASSERT_EQ(held.size(), 4u);
  EXPECT_EQ(held[0].md, Meta{});
  EXPECT_EQ(held[1].md, (Meta{{"abc", "1234567"}}));
  EXPECT_EQ(held[2].md, (Meta{{"a", "1"}, {"b", "2"}}));
  EXPECT_EQ(held[3].md, (Meta{{"a", "1"}, {"b", "2"}, {"c", "3"}}));
}

TEST_F(DistributorTest, FirstFailingRuleWins) {
  limits_.max_line_size = 1;
  limits_.allow_structured_metadata = false;
  const int64_t old = (NowNanos() / kNanosPerSecond - 30 * 24 * 3600) * kNanosPerSecond;
  // Too old, too long and carrying metadata: the age rule reports.
  Status st = Push({{R"({app="a"})", {{old, "long line", {{"k", "v"}}}}}});
  ASSERT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("has timestamp too old"), std::string::npos) << st.message();
  // Too long and carrying metadata: the line rule reports.
  st = Push({{R"({app="a"})", {{RecentSecond(), "long line", {{"k", "v"}}}}}});
  EXPECT_EQ(st.message().rfind("max entry size '1' bytes exceeded", 0), 0u) << st.message();
  // Too many labels beats a too-long name.
  limits_.max_label_names_per_series = 1;
  limits_.max_label_name_length = 3;
  st = PushLabels(R"({a="1", bbbb="2"})");
  EXPECT_NE(st.message().find("has 2 label names; limit 1"), std::string::npos) << st.message();
}

TEST_F(DistributorTest, EmptyRequestIsUnprocessableButEmptyStreamsAreSkipped) {
  limits::Overrides overrides(limits_);
  Distributor d(&overrides, &ing_, nullptr);
  wire::PushRequest empty;
  Status st = d.Push(kTenant, empty);
  EXPECT_EQ(st.code(), StatusCode::kUnprocessable);
  EXPECT_EQ(st.message(), "error at least one valid stream is required for ingestion");

  // Streams without entries are skipped silently, even with bad labels.
  EXPECT_TRUE(Push({{R"({app="a"})", {}}, {"not labels", {}}}).ok());
  EXPECT_TRUE(SeriesStrings().empty());
}

TEST_F(DistributorTest, PartialAcceptanceWritesValidStreamsAndGroupsErrors) {
  limits_.max_line_size = 5;
  const int64_t t = RecentSecond();
  Status st = Push({
      {R"({app="ok"})", {{t, "a", {}}, {t + 1, "b", {}}}},
      {R"({app="bad")", {{t, "lost", {}}}},
      {R"({app="mixed"})", {{t, "fine", {}}, {t + 1, "too long", {}}, {t + 2, "also long", {}}}},
      {R"({app="old"})", {{t - 30 * 24 * kNanosPerHour, "x", {}}}},
  });
  ASSERT_EQ(st.code(), StatusCode::kInvalidArgument) << st.ToString();
  const std::string long1 =
      R"(max entry size '5' bytes exceeded for stream '{app="mixed", service_name="mixed"}' while )"
      "adding an entry with length '8' bytes";
  const std::string long2 =
      R"(max entry size '5' bytes exceeded for stream '{app="mixed", service_name="mixed"}' while )"
      "adding an entry with length '9' bytes";
  const std::string parse = "error parsing labels '{app=\"bad\"' with error: " +
                            ParseLabels(R"({app="bad")").status().message();
  // Every distinct message is listed once with its count, joined by "; ".
  EXPECT_NE(st.message().find("1 errors like: " + parse), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("1 errors like: " + long1), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("1 errors like: " + long2), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("has timestamp too old"), std::string::npos) << st.message();
  EXPECT_EQ(std::count(st.message().begin(), st.message().end(), ';'), 3) << st.message();

  auto held = Held();
  EXPECT_EQ(held.size(), 2u);
  EXPECT_EQ(held[R"({app="ok", service_name="ok"})"],
            (std::vector<Stored>{{t, "a", {}}, {t + 1, "b", {}}}));
  EXPECT_EQ(held[R"({app="mixed", service_name="mixed"})"], (std::vector<Stored>{{t, "fine", {}}}));
}

TEST_F(DistributorTest, IdenticalErrorsAreCounted) {
  limits_.max_line_size = 1;
  const int64_t t = RecentSecond();
  ExpectRejected(Push({{R"({app="a"})", {{t, "xx", {}}, {t + 1, "xx", {}}, {t + 2, "xx", {}}}}}),
                 R"(3 errors like: max entry size '1' bytes exceeded for stream )"
                 R"('{app="a", service_name="a"}' while adding an entry with length '2' bytes)");
}

TEST_F(DistributorTest, GroupErrorsFormat) {
  EXPECT_EQ(Distributor::GroupErrors({}), "");
  EXPECT_EQ(Distributor::GroupErrors({"boom"}), "boom");
  EXPECT_EQ(Distributor::GroupErrors({"boom", "boom"}), "2 errors like: boom");
  EXPECT_EQ(Distributor::GroupErrors({"a", "b", "a", "c", "a"}),
            "3 errors like: a; 1 errors like: b; 1 errors like: c");
  EXPECT_EQ(Distributor::GroupErrors({"x", "y"}), "1 errors like: x; 1 errors like: y");
}

TEST_F(DistributorTest, IngesterRejectionsUseLokiListFormat) {
  const int64_t newest = RecentSecond();
  const int64_t cutoff = newest - kNanosPerHour;  // default out-of-order window
  std::vector<std::tuple<int64_t, std::string, Meta>> entries = {{newest, "new", {}}};
  for (int i = 0; i < 12; i++) {
    entries.push_back({newest - 2 * kNanosPerHour - i * kNanosPerSecond, "old", {}});
  }
  Status st = Push({{R"({app="a"})", entries}});
  ASSERT_EQ(st.code(), StatusCode::kInvalidArgument);
  std::string want;
  for (int i = 0; i < 10; i++) {
    int64_t ts = newest - 2 * kNanosPerHour - i * kNanosPerSecond;
    want += "entry with timestamp " + FormatGoTime(ts) +
            " ignored, reason: 'entry too far behind, entry timestamp is: " + Rfc3339(ts) +
            ", oldest acceptable timestamp is: " + Rfc3339(cutoff) + "',\n";
  }
  want += R"(user 'team-a', total ignored: 12 out of 13 for stream: {app="a", service_name="a"})";
  EXPECT_EQ(st.message(), want);
  EXPECT_EQ(Held()[R"({app="a", service_name="a"})"].size(), 1u);
}

// A new stream beyond the tenant's active stream limit: Loki's ingester answer
// (validation.StreamLimitErrorMsg, 429), its entries discarded as stream_limit, the other
// streams of the push written.
TEST_F(DistributorTest, StreamLimitAnswers429WithLokiMessageAndCountsDiscards) {
  ingester::IngesterOptions o;
  o.max_streams = [](std::string_view tenant) -> int64_t { return tenant == kTenant ? 1 : 0; };
  ingester::Ingester ing(o, &store_, &index_, nullptr);
  limits::Overrides overrides(limits_);
  metrics::Registry reg;
  Distributor d(&overrides, &ing, &reg);
  const int64_t t = RecentSecond();
  ASSERT_TRUE(d.Push(kTenant, Request({{R"({app="a"})", {{t, "one", {}}}}})).ok());

  Status st = d.Push(kTenant, Request({
                                  {R"({app="b"})", {{t, "xy", {{"k", "vv"}}}, {t + 1, "z", {}}}},
                                  {R"({app="a"})", {{t + 1, "two", {}}}},
                              }));
  ASSERT_EQ(st.code(), StatusCode::kResourceExhausted) << st.ToString();
  EXPECT_EQ(st.message(),
            R"(maximum active stream limit exceeded when trying to create stream {app="b", )"
            R"(service_name="b"}, reduce the number of active streams (reduce labels or reduce )"
            R"(label values), or contact your Loki administrator to see if the limit can be )"
            R"(increased, user: 'team-a')");
  EXPECT_EQ(ing.Series(kTenant, {}).size(), 1u);
  EXPECT_EQ(ing.ActiveStreams(kTenant), 1u);

  auto counter = [&](const std::string& name, const std::string& reason) {
    return reg.AddCounter(name, "", {"reason", "tenant"})
        .WithLabels({reason, std::string(kTenant)})
        .Value();
  };
  EXPECT_EQ(counter("loki_discarded_samples_total", "stream_limit"), 2);
  EXPECT_EQ(counter("loki_discarded_bytes_total", "stream_limit"), 6);  // "xy"+"k"+"vv", "z"

  // Other tenants are not limited; a too-far-behind rejection in the same push as a
  // stream-limit refusal: both reported, and the retryable 429 wins.
  ASSERT_TRUE(d.Push("team-b", Request({{R"({app="b"})", {{t, "x", {}}}}})).ok());
  st = d.Push(kTenant, Request({
                           {R"({app="a"})", {{t - 2 * kNanosPerHour, "old", {}}}},
                           {R"({app="c"})", {{t, "c", {}}}},
                       }));
  ASSERT_EQ(st.code(), StatusCode::kResourceExhausted) << st.ToString();
  EXPECT_NE(st.message().find("create stream {app=\"c\", service_name=\"c\"}"), std::string::npos);
  EXPECT_NE(st.message().find("\nentry with timestamp "), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("total ignored: 1 out of 1 for stream: {app=\"a\""),
            std::string::npos);
  EXPECT_EQ(counter("loki_discarded_samples_total", "stream_limit"), 3);
  EXPECT_EQ(Held()[R"({app="a", service_name="a"})"].size(), 0u);  // ing_ untouched
  EXPECT_EQ(ing.Snapshot(kTenant, {}, INT64_MIN, INT64_MAX).size(), 1u);
}

TEST_F(DistributorTest, DuplicatesAreAcceptedSilently) {
  const int64_t t = RecentSecond();
  ASSERT_TRUE(Push({{R"({app="a"})", {{t, "same", {}}, {t, "same", {}}}}}).ok());
  ASSERT_TRUE(Push({{R"({app="a"})", {{t, "same", {}}}}}).ok());
  EXPECT_EQ(Held()[R"({app="a", service_name="a"})"].size(), 1u);
}

TEST_F(DistributorTest, TenantIsPassedThrough) {
  ASSERT_TRUE(Push({{R"({app="a"})", {{RecentSecond(), "x", {}}}}}, "tenant-1").ok());
  ASSERT_TRUE(Push({{R"({app="b"})", {{RecentSecond(), "x", {}}}}}, "tenant-2").ok());
  EXPECT_EQ(SeriesStrings("tenant-1"), std::vector<std::string>{R"({app="a", service_name="a"})"});
  EXPECT_EQ(SeriesStrings("tenant-2"), std::vector<std::string>{R"({app="b", service_name="b"})"});
  EXPECT_TRUE(SeriesStrings().empty());
}

TEST_F(DistributorTest, MetricsCountReceivedAndDiscarded) {
  metrics::Registry reg;
  limits_.max_line_size = 4;
  const int64_t t = RecentSecond();
  Status st = Push(
      {
          {R"({app="ok"})", {{t, "abc", {}}, {t + 1, "defg", {}}, {t + 2, "h", {}}}},
          {R"({app="x"})", {{t, "toolong", {}}}},
          {R"({bad)", {{t, "ab", {}}, {t + 1, "cde", {}}}},
          {R"({app="late"})", {{t, "new", {}}, {t - 3 * kNanosPerHour, "old", {}}}},
      },
      kTenant, &reg);
  ASSERT_EQ(st.code(), StatusCode::kInvalidArgument);

  auto counter = [&](const std::string& name, std::vector<std::string> labels,
                     std::vector<std::string> values) {
    return reg.AddCounter(name, "", std::move(labels)).WithLabels(values).Value();
  };
  const std::string tenant(kTenant);
  EXPECT_EQ(
      counter("loki_discarded_samples_total", {"reason", "tenant"}, {"line_too_long", tenant}), 1);
  EXPECT_EQ(counter("loki_discarded_bytes_total", {"reason", "tenant"}, {"line_too_long", tenant}),
            7);
  EXPECT_EQ(
      counter("loki_discarded_samples_total", {"reason", "tenant"}, {"invalid_labels", tenant}), 2);
  EXPECT_EQ(counter("loki_discarded_bytes_total", {"reason", "tenant"}, {"invalid_labels", tenant}),
            5);
  EXPECT_EQ(
      counter("loki_discarded_samples_total", {"reason", "tenant"}, {"too_far_behind", tenant}), 1);
  // Received = accepted by validation: 3 lines of "ok" and 2 of "late" (the
  // ingester's out-of-order rejection happens after validation).
  const double lines = counter("loki_distributor_lines_received_total", {"tenant"}, {tenant});
  EXPECT_GE(lines, 4);
  EXPECT_LE(lines, 5);
  const double bytes = counter("loki_distributor_bytes_received_total", {"tenant"}, {tenant});
  EXPECT_GE(bytes, 3 + 4 + 1 + 3);
  EXPECT_LE(bytes, 3 + 4 + 1 + 3 + 3);

  // A clean push moves only the received counters.
  ASSERT_TRUE(Push({{R"({app="ok"})", {{t + 10, "zz", {}}}}}, kTenant, &reg).ok());
  EXPECT_EQ(counter("loki_distributor_lines_received_total", {"tenant"}, {tenant}), lines + 1);
  EXPECT_EQ(counter("loki_distributor_bytes_received_total", {"tenant"}, {tenant}), bytes + 2);
  EXPECT_EQ(
      counter("loki_discarded_samples_total", {"reason", "tenant"}, {"line_too_long", tenant}), 1);
  std::string text = reg.Expose();
  EXPECT_NE(text.find(R"(loki_discarded_samples_total{reason="line_too_long",tenant="team-a"} 1)"),
            std::string::npos)
      << text;
}

// Every case was pushed to Loki 3.7.6 (discover_log_levels on, Loki's default fields and JSON
// depth) and the detected_level it stored is the expectation: stream labels, then structured
// metadata, then OTLP severity_number, then the line (JSON, logfmt, word scan).
struct LevelCase {
  Meta labels;
  std::string line;
  Meta md;
  std::string want;
};
const LevelCase kLevelCases[] = {
    {{}, "level=info msg=\"hello\"", {}, "info"},
    {{}, "level=WARNING msg=\"disk\"", {}, "warn"},
    {{}, "lvl=dbg foo=bar", {}, "debug"},
    {{}, "LEVEL=Error x=1", {}, "error"},
    {{}, "Level=notice text error here", {}, "error"},
    {{}, "msg=\"x\" severity=critical level=debug", {}, "debug"},
    {{}, "severity=critical msg=x lvl=warn", {}, "critical"},
    {{}, "a=b c=d", {}, "unknown"},
    {{}, "a=b error happened", {}, "error"},
    {{}, "{\"level\":\"error\",\"msg\":\"boom\"}", {}, "error"},
    {{}, "{\"msg\":\"x\",\"log\":{\"level\":\"warn\"}}", {}, "warn"},
    {{}, "{\"msg\":\"x\",\"a\":{\"b\":{\"level\":\"warn\"}}}", {}, "warn"},
    {{}, "{\"Level\":\"Info\",\"msg\":\"ok\"}", {}, "info"},
    {{}, "{\"msg\":\"an error occurred\"}", {}, "error"},
    {{}, "{\"lvl\":\"information\"}", {}, "info"},
    {{}, "{\"level\":5,\"msg\":\"warn me\"}", {}, "warn"},
    {{}, "{\"severity\":\"notice\",\"msg\":\"fatal thing\"}", {}, "fatal"},
    {{}, "{\"log.level\":\"debug\"}", {}, "debug"},
    {{}, "{\"nested\":{\"x\":1},\"level\":\"trace\"}", {}, "trace"},
    {{}, "{bad json level", {}, "unknown"},
    {{}, "{\"level\":\"err\"", {}, "error"},
    {{}, "ERROR: something failed", {}, "error"},
    {{}, "[WARN] low disk", {}, "warn"},
    {{}, "this is fine", {}, "unknown"},
    {{}, "misc:error here", {}, "unknown"},
    {{}, "debug: starting; error later", {}, "debug"},
    {{}, "errors happened", {}, "unknown"},
    {{}, "x fatal! y", {}, "fatal"},
    {{}, "Critical(1) and info", {}, "critical"},
    {{}, "information only", {}, "unknown"},
    {{}, "the warning, then info", {}, "warn"},
    {{}, "trc something", {}, "unknown"},
    {{}, "\"error\" quoted", {}, "error"},
    {{}, "(info) paren", {}, "info"},
    {{}, "error", {}, "error"},
    {{}, "INFO", {}, "info"},
    {{}, "x=1 y=\"info\" z", {}, "info"},
    {{}, "msg=\"level=error\" foo", {}, "error"},
    {{}, "foo=bar level=\"\" error", {}, "error"},
    {{}, "severity_text=WARN foo=1", {}, "warn"},
    {{}, "SeverityText=err foo=1", {}, "error"},
    {{{"level", "warn"}}, "error in line", {}, "warn"},
    {{{"severity", "NOTICE"}}, "error in line", {}, "NOTICE"},
    {{{"lvl", "Err"}}, "info line", {}, "error"},
    {{}, "info line", {{"level", "ERROR"}}, "error"},
    {{}, "info line", {{"severity", "custom"}}, "custom"},
    {{}, "info line", {{"detected_level", "WARNING"}}, "warn"},
    {{}, "info line", {{"detected_level", "whatever"}}, "whatever"},
    {{}, "plain", {{"severity_number", "9"}}, "info"},
    {{}, "plain", {{"severity_number", "17"}}, "error"},
    {{}, "plain", {{"severity_number", "0"}}, "unknown"},
    {{}, "plain", {{"severity_number", "abc"}}, "info"},
    {{}, "plain", {{"severity_number", "30"}}, "unknown"},
    {{}, "plain", {{"severity_number", "3"}}, "trace"},
    {{}, "plain", {{"severity_number", "22"}}, "fatal"},
    {{}, "error", {{"severity_number", "6"}}, "debug"},
    {{}, "  {\"level\":\"warn\"}  ", {}, "warn"},
    {{}, "a=1 level=debug", {}, "debug"},
    {{}, "level=foo error", {}, "error"},
    {{}, "level=foo", {}, "unknown"},
    {{}, "=bad level=info", {}, "info"},
    {{}, "key=\"unterminated level=info", {}, "info"},
    {{}, "WaRn mixed case", {}, "warn"},
    {{}, "tabs\terror\tthere", {}, "error"},
    {{}, "x{fatal}", {}, "fatal"},
    {{}, "x=debug", {}, "debug"},
    {{}, "infoerror", {}, "unknown"},
    {{}, "{\"msg\":\"x\",\"level\":{\"a\":\"b\"},\"lvl\":\"warn\"}", {}, "warn"},
    {{}, "{\"a\":[{\"level\":\"warn\"}],\"msg\":\"debug x\"}", {}, "warn"},
    {{}, "{\"a\":\"\\\"\",\"level\":\"fatal\"}", {}, "fatal"},
    {{}, "{\"LEVEL\":\"WRN\"}", {}, "warn"},
    {{}, "{\"a\":{\"b\":{\"c\":{\"level\":\"warn\"}}},\"m\":\"info\"}", {}, "warn"},
};

TEST_F(DistributorTest, DetectedLevelMatchesLoki) {
  limits_.discover_log_levels = true;
  const int64_t t = RecentSecond();
  std::vector<StreamSpec> streams;
  for (size_t i = 0; i < std::size(kLevelCases); i++) {
    const LevelCase& c = kLevelCases[i];
    std::string ls = "{case=\"" + std::to_string(i) + "\"";
    for (const auto& [k, v] : c.labels) ls += ", " + k + "=\"" + v + "\"";
    ls += "}";
    streams.push_back({ls, {{t, c.line, c.md}}});
  }
  ASSERT_TRUE(Push(streams).ok());
  auto held = Held();
  size_t seen = 0;
  for (const auto& [ls, entries] : held) {
    auto parsed = ParseLabels(ls);
    ASSERT_TRUE(parsed.ok());
    size_t i = std::stoul(std::string(parsed->Get("case")));
    ASSERT_LT(i, std::size(kLevelCases));
    ASSERT_EQ(entries.size(), 1u);
    const LevelCase& c = kLevelCases[i];
    // The pushed pairs stay (detected_level normalised in place), detected_level is appended.
    Meta want = c.md;
    bool had = false;
    for (auto& [k, v] : want) {
      if (k == "detected_level") {
        v = c.want;
        had = true;
      }
    }
    if (!had) want.emplace_back("detected_level", c.want);
    EXPECT_EQ(entries[0].md, want) << "case " << i << ": " << c.line;
    seen++;
  }
  EXPECT_EQ(seen, std::size(kLevelCases));
}

TEST_F(DistributorTest, DetectedLevelFollowsConfiguration) {
  const int64_t t = RecentSecond();
  // Off: nothing is added.
  ASSERT_TRUE(Push({{R"({app="a"})", {{t, "level=error", {}}}}}).ok());
  EXPECT_EQ(Held().begin()->second[0].md, Meta{});
  // Without structured metadata there is no detected_level either (Loki's rule).
  limits_.discover_log_levels = true;
  limits_.allow_structured_metadata = false;
  ASSERT_TRUE(Push({{R"({app="b"})", {{t, "level=error", {}}}}}).ok());
  EXPECT_EQ(Held()[R"({app="b", service_name="b"})"][0].md, Meta{});
  // Own field list, JSON depth unlimited.
  limits_.allow_structured_metadata = true;
  limits_.log_level_fields = {"sev"};
  limits_.log_level_from_json_max_depth = 0;
  ASSERT_TRUE(Push({{R"({app="c"})",
                     {{t, "sev=warn level=error", {}},
                      {t + 1, R"({"a":{"b":{"c":{"sev":"dbg"}}},"m":"error"})", {}}}}})
                  .ok());
  auto c = Held()[R"({app="c", service_name="c"})"];
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[0].md, (Meta{{"detected_level", "warn"}}));
  EXPECT_EQ(c[1].md, (Meta{{"detected_level", "debug"}}));
}

TEST(LevelDetectorTest, WordScanTakesTheEarliestBoundedWord) {
  EXPECT_EQ(LevelDetector::FromWords(""), "unknown");
  EXPECT_EQ(LevelDetector::FromWords("xerror warn"), "warn");
  EXPECT_EQ(LevelDetector::FromWords("warning: x"), "warn");
  EXPECT_EQ(LevelDetector::FromWords("err=1 info"), "error");
  EXPECT_EQ(LevelDetector::FromWords("[trace]"), "trace");
  EXPECT_EQ(LevelDetector::FromWords("critical"), "critical");
  EXPECT_EQ(LevelDetector::FromWords("FATAL,"), "fatal");
  EXPECT_EQ(LevelDetector::FromWords("info-ish"), "unknown");
}

TEST(LevelDetectorTest, MalformedLinesNeverReadOutOfBounds) {
  LevelDetector d({"level", "lvl"}, 2);
  for (std::string_view line :
       {"{", "}", "{\"", "{\"level\"", "{\"level\":", "{\"level\":\"", "{\"a\":{", "{\"a\":[}",
        "level=\"", "level=\"\\", "=", "a=b=c", "{\"a\":\"\\\"}", "\"level\"=x"}) {
    std::string copy(line);  // exact size, so ASan sees any overread
    std::string_view got = d.FromLine(copy);
    EXPECT_FALSE(got.empty()) << line;
  }
}

// Loki's validation.RateLimitedErrorMsg, with the tenant and the limit in bytes/s.
std::string TenantRateMessage(std::string_view tenant, int64_t limit, size_t lines,
                              uint64_t bytes) {
  return "ingestion rate limit exceeded for user " + std::string(tenant) +
         " (limit: " + std::to_string(limit) + " bytes/sec) while attempting to ingest '" +
         std::to_string(lines) + "' lines totaling '" + std::to_string(bytes) +
         "' bytes, reduce log volume or contact your Loki administrator to see if the limit can "
         "be increased";
}

double Counter(metrics::Registry& reg, const std::string& name, const std::string& reason) {
  return reg.AddCounter(name, "", {"reason", "tenant"})
      .WithLabels({reason, std::string(kTenant)})
      .Value();
}

TEST_F(DistributorTest, TenantRateLimitRefusesWholePushWith429AndLokiMessage) {
  metrics::Registry reg;
  // 10 KiB/s: the bucket barely refills while the test runs, however slow the machine.
  limits_.ingestion_rate_mb = 0.01;
  limits_.ingestion_burst_size_mb = 1;
  limits::Overrides overrides(limits_);
  Distributor d(&overrides, &ing_, &reg);
  const int64_t t = RecentSecond();
  const std::string line(200 * 1024, 'x');
  // 6 lines of 200 KiB plus 10 bytes of structured metadata: just over the 1 MiB burst.
  Status st = d.Push(
      kTenant,
      Request({
          {R"({app="a"})", {{t, line, {{"trace_id", "ab"}}}, {t + 1, line, {}}, {t + 2, line, {}}}},
          {R"({app="b"})", {{t, line, {}}, {t + 1, line, {}}, {t + 2, line, {}}}},
      }));
  EXPECT_EQ(st.code(), StatusCode::kResourceExhausted) << st.ToString();
  EXPECT_EQ(st.message(), TenantRateMessage(kTenant, 10485, 6, 6 * 200 * 1024 + 10));
  EXPECT_TRUE(Held().empty());
  EXPECT_TRUE(SeriesStrings().empty());
  EXPECT_EQ(Counter(reg, "loki_discarded_samples_total", "rate_limited"), 6);
  EXPECT_EQ(Counter(reg, "loki_discarded_bytes_total", "rate_limited"), 6 * 200 * 1024 + 10);

  // The refusal took no tokens: a push within the burst still passes, the next one that
  // would exceed what is left does not.
  st = d.Push(kTenant, Request({{R"({app="a"})", {{t, line, {}}, {t + 1, line, {}}}}}));
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(Held()[R"({app="a", service_name="a"})"].size(), 2u);
  st = d.Push(
      kTenant,
      Request({{R"({app="a"})",
                {{t + 2, line, {}}, {t + 3, line, {}}, {t + 4, line, {}}, {t + 5, line, {}}}}}));
  EXPECT_EQ(st.code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(Held()[R"({app="a", service_name="a"})"].size(), 2u);
  // Other tenants have their own bucket.
  EXPECT_TRUE(d.Push("other", Request({{R"({app="a"})", {{t, line, {}}}}})).ok());
}

TEST_F(DistributorTest, UnderTheTenantRateLimitEverythingPasses) {
  limits_.ingestion_rate_mb = 1;
  limits_.ingestion_burst_size_mb = 2;
  limits::Overrides overrides(limits_);
  Distributor d(&overrides, &ing_, nullptr);
  const int64_t t = RecentSecond();
  const std::string line(10 * 1024, 'y');
  for (int i = 0; i < 100; i++) {  // 1000 KiB in all, under the 2 MiB burst
    ASSERT_TRUE(d.Push(kTenant, Request({{R"({app="a"})", {{t + i, line, {}}}}})).ok()) << i;
  }
  EXPECT_EQ(Held()[R"({app="a", service_name="a"})"].size(), 100u);
}

TEST_F(DistributorTest, PerStreamRateLimitRefusesHotStreamAndWritesTheOthers) {
  metrics::Registry reg;
  limits_.per_stream_rate_limit = 16;  // barely refills while the test runs
  limits_.per_stream_rate_limit_burst = 2048;
  limits::Overrides overrides(limits_);
  Distributor d(&overrides, &ing_, &reg);
  const int64_t t = RecentSecond();
  const std::string kb(1024, 'h');
  Status st =
      d.Push(kTenant, Request({
                          {R"({app="hot"})", {{t, kb, {}}, {t + 1, kb, {}}, {t + 2, kb, {}}}},
                          {R"({app="cold"})", {{t, "small", {}}}},
                      }));
  EXPECT_EQ(st.code(), StatusCode::kResourceExhausted) << st.ToString();
  const std::string hot = R"({app="hot", service_name="hot"})";
  EXPECT_EQ(st.message(),
            "entry with timestamp " + FormatGoTime(t + 2) +
                " ignored, reason: 'Per stream rate limit exceeded (limit: 16B/sec) while "
                "attempting to ingest for stream '" +
                hot +
                "' totaling 1KB, consider splitting a stream via additional labels or contact "
                "your Loki administrator to see if the limit can be increased',\n"
                "user 'team-a', total ignored: 1 out of 3 for stream: " +
                hot);
  auto held = Held();
  EXPECT_EQ(held[hot].size(), 2u);
  EXPECT_EQ(held[R"({app="cold", service_name="cold"})"], (std::vector<Stored>{{t, "small", {}}}));
  EXPECT_EQ(Counter(reg, "loki_discarded_samples_total", "per_stream_rate_limit"), 1);
  EXPECT_EQ(Counter(reg, "loki_discarded_bytes_total", "per_stream_rate_limit"), 1024);

  // A stream refused whole is left out of the push; the cold stream still has room.
  st = d.Push(kTenant, Request({{R"({app="hot"})", {{t + 3, kb, {}}}},
                                {R"({app="cold"})", {{t + 1, "more", {}}}}}));
  EXPECT_EQ(st.code(), StatusCode::kResourceExhausted);
  held = Held();
  EXPECT_EQ(held[hot].size(), 2u);
  EXPECT_EQ(held[R"({app="cold", service_name="cold"})"].size(), 2u);
}

// Everything handed to the ingester goes to its WAL: entries the tenant's rate refuses must
// never get there. A stream's own rate is the ingester's to apply (as in Loki): the push
// carries it, with each entry's cost (ingester_test covers that refused entries never reach
// the WAL).
class RecordingPusher : public ingester::Pusher {
 public:
  Status PushBatch(std::string_view, std::span<ingester::StreamAppend> streams) override {
    for (auto& sa : streams) {
      for (const auto& e : sa.entries) lines.emplace_back(e.line);
      if (sa.rate != nullptr) rates.push_back(*sa.rate);
      sizes.emplace_back(sa.sizes.begin(), sa.sizes.end());
      sa.result.appended = static_cast<uint32_t>(sa.entries.size());
    }
    return Status::OK();
  }
  std::vector<std::string> lines;
  std::vector<limits::Rate> rates;
  std::vector<std::vector<uint64_t>> sizes;
};

TEST_F(DistributorTest, RateLimitedEntriesNeverReachTheIngester) {
  limits_.ingestion_rate_mb = 1;
  limits_.ingestion_burst_size_mb = 1;
  limits_.per_stream_rate_limit = 1;
  limits_.per_stream_rate_limit_burst = 100;
  limits::Overrides overrides(limits_);
  RecordingPusher pusher;
  Distributor d(&overrides, &pusher, nullptr);
  const int64_t t = RecentSecond();
  // Tenant limit: nothing reaches the ingester.
  const std::string big(200 * 1024, 'x');
  std::vector<std::tuple<int64_t, std::string, Meta>> many;
  for (int i = 0; i < 6; i++) many.emplace_back(t + i, big, Meta{});
  EXPECT_EQ(d.Push(kTenant, Request({{R"({app="a"})", many}})).code(),
            StatusCode::kResourceExhausted);
  EXPECT_TRUE(pusher.lines.empty());
  // Stream limit: the push carries the stream's rate and each entry's cost (line plus
  // structured metadata, not the detected_level the distributor adds).
  const std::string l60(60, 'a'), l50(50, 'b');
  ASSERT_TRUE(
      d.Push(kTenant, Request({{R"({app="a"})", {{t, l60, {{"k", "vv"}}}, {t + 1, l50, {}}}}}))
          .ok());
  EXPECT_EQ(pusher.lines, (std::vector<std::string>{l60, l50}));
  EXPECT_EQ(pusher.rates, (std::vector<limits::Rate>{{1, 100}}));
  EXPECT_EQ(pusher.sizes, (std::vector<std::vector<uint64_t>>{{63, 50}}));
}

}  // namespace
}  // namespace skald::distributor
