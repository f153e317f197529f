// Tests for Loki HTTP API parameter parsing (loki-compat.md sections 1.1, 1.3-1.5).
#include "server/query_params.h"

#include <gtest/gtest.h>

#include "core/time.h"

namespace skald::server {
namespace {

constexpr int64_t kSec = kNanosPerSecond;
// 2024-01-02T03:04:05Z
constexpr int64_t kNow = 1704164645 * kSec;

Params P(std::string_view query) {
  Params p;
  Status s = p.AddEncoded(query);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return p;
}

template <class T>
std::string Err(const StatusOr<T>& s) {
  EXPECT_FALSE(s.ok());
  return s.ok() ? "<ok>" : s.status().message();
}

// ---------------------------------------------------------------------------
// 1.1 form decoding

TEST(ParamsTest, QueryStringDecodingKeepsRepeatedKeys) {
  HttpRequest req;
  req.method = "GET";
  req.query = "query=%7Bapp%3D%22x%22%7D+%7C%3D+%22a%2Bb%22&match[]=a&match%5B%5D=b&empty=&flag";
  auto p = Params::FromRequest(req);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->Get("query"), "{app=\"x\"} |= \"a+b\"");
  auto all = p->GetAll("match[]");
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0], "a");
  EXPECT_EQ(all[1], "b");
  EXPECT_TRUE(p->Has("empty"));
  EXPECT_EQ(p->Get("empty"), "");
  EXPECT_TRUE(p->Has("flag"));
  EXPECT_FALSE(p->Has("missing"));
  EXPECT_EQ(p->Get("missing"), "");
}

TEST(ParamsTest, PostFormBodyComesBeforeQueryString) {
  HttpRequest req;
  req.method = "POST";
  req.headers = {{"content-type", "application/x-www-form-urlencoded; charset=UTF-8"}};
  req.body = "limit=10&query=%7Ba%3D%22b%22%7D";
  req.query = "limit=20&direction=forward";
  auto p = Params::FromRequest(req);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->Get("limit"), "10");  // body wins, like Go's r.Form.Get
  EXPECT_EQ(p->GetAll("limit").size(), 2u);
  EXPECT_EQ(p->Get("query"), "{a=\"b\"}");
  EXPECT_EQ(p->Get("direction"), "forward");
}

TEST(ParamsTest, BodyIgnoredForOtherContentTypesAndForGet) {
  HttpRequest req;
  req.method = "POST";
  req.headers = {{"Content-Type", "application/json"}};
  req.body = "limit=10";
  auto p = Params::FromRequest(req);
  ASSERT_TRUE(p.ok());
  EXPECT_FALSE(p->Has("limit"));
  req.method = "GET";
  req.headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
  p = Params::FromRequest(req);
  ASSERT_TRUE(p.ok());
  EXPECT_FALSE(p->Has("limit"));
}

TEST(ParamsTest, FormErrorsUseGoTexts) {
  HttpRequest req;
  req.method = "GET";
  req.query = "query=%zz";
  EXPECT_EQ(Err(Params::FromRequest(req)), "invalid URL escape \"%zz\"");
  req.query = "a=1;b=2";
  EXPECT_EQ(Err(Params::FromRequest(req)), "invalid semicolon separator in query");
  req.query = "a=%4";
  EXPECT_EQ(Err(Params::FromRequest(req)), "invalid URL escape \"%4\"");
  req.query = "a=%e2%82";  // valid escapes, even if the bytes are not UTF-8
  EXPECT_TRUE(Params::FromRequest(req).ok());
}

// Go's r.FormValue: decoding errors are ignored and the pairs that decode are kept.
TEST(ParamsTest, IgnoringErrorsKeepsTheValidPairs) {
  HttpRequest req;
  req.method = "GET";
  req.query = "a=%zz&query=%7Bfoo%3D%22bar%22%7D;x&b=2";
  Params p = Params::FromRequestIgnoringErrors(req);
  EXPECT_FALSE(p.Has("a"));
  EXPECT_EQ(p.Get("query"), "");  // the pair holding ';' is dropped whole, as in Go
  EXPECT_EQ(p.Get("b"), "2");
  req.method = "POST";
  req.headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
  req.body = "query=%7Ba%3D%22b%22%7D&bad=%z";
  req.query = "query=ignored";
  p = Params::FromRequestIgnoringErrors(req);
  EXPECT_EQ(p.Get("query"), "{a=\"b\"}");       // body first, like r.FormValue
  req.body = std::string((10 << 20) + 1, 'x');  // over Go's 10 MiB form limit: body skipped
  p = Params::FromRequestIgnoringErrors(req);
  EXPECT_EQ(p.Get("query"), "ignored");
}

TEST(ParamsTest, UrlDecode) {
  EXPECT_EQ(UrlDecode("a+b%20c", true), "a b c");
  EXPECT_EQ(UrlDecode("a+b%20c", false), "a+b c");
  EXPECT_EQ(UrlDecode("100%", true), "100%");
  EXPECT_EQ(Err(UrlUnescape("100%", true)), "invalid URL escape \"%\"");
}

// ---------------------------------------------------------------------------
// 1.3 timestamps

TEST(TimeParamTest, EmptyGivesDefault) { EXPECT_EQ(*ParseTimeParam("", 42), 42); }

TEST(TimeParamTest, TenOrFewerCharactersAreSeconds) {
  EXPECT_EQ(*ParseTimeParam("1704164645", 0), kNow);
  EXPECT_EQ(*ParseTimeParam("0", 0), 0);
  EXPECT_EQ(*ParseTimeParam("-100", 0), -100 * kSec);
  EXPECT_EQ(*ParseTimeParam("+12", 0), 12 * kSec);
}

TEST(TimeParamTest, LongerIntegersAreNanoseconds) {
  EXPECT_EQ(*ParseTimeParam("1704164645000000000", 0), kNow);
  // A 13-digit millisecond value is read as nanoseconds (close to 1970), like Loki.
  EXPECT_EQ(*ParseTimeParam("1704164645000", 0), 1704164645000);
  EXPECT_EQ(*ParseTimeParam("17041646450", 0), 17041646450);
}

TEST(TimeParamTest, FloatSecondsRoundToMilliseconds) {
  EXPECT_EQ(*ParseTimeParam("1704164645.5", 0), kNow + 500'000'000);
  EXPECT_EQ(*ParseTimeParam("1704164645.123456789", 0), kNow + 123'000'000);
  EXPECT_EQ(*ParseTimeParam("1.0006", 0), kSec + 1'000'000);
  EXPECT_EQ(*ParseTimeParam("-1.5", 0), -kSec - kSec / 2);
  EXPECT_EQ(*ParseTimeParam("1.5e3", 0), 1500 * kSec);
  // Contains '.' but is no float: falls through to ParseInt and RFC3339, and fails.
  EXPECT_EQ(Err(ParseTimeParam("1e9.", 0)), "strconv.ParseInt: parsing \"1e9.\": invalid syntax");
}

TEST(TimeParamTest, Rfc3339) {
  EXPECT_EQ(*ParseTimeParam("2024-01-02T03:04:05Z", 0), kNow);
  EXPECT_EQ(*ParseTimeParam("2024-01-02T03:04:05.25Z", 0), kNow + 250'000'000);
  EXPECT_EQ(*ParseTimeParam("2024-01-02T04:04:05+01:00", 0), kNow);
}

TEST(TimeParamTest, ErrorsAreGoParseIntTexts) {
  EXPECT_EQ(Err(ParseTimeParam("abc", 0)), "strconv.ParseInt: parsing \"abc\": invalid syntax");
  EXPECT_EQ(Err(ParseTimeParam("2024-01-02", 0)),
            "strconv.ParseInt: parsing \"2024-01-02\": invalid syntax");
  EXPECT_EQ(Err(ParseTimeParam("99999999999999999999", 0)),
            "strconv.ParseInt: parsing \"99999999999999999999\": value out of range");
}

TEST(BoundsTest, DefaultsAreNowAndOneHourBefore) {
  auto b = ParseBounds("", "", "", kNow);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->first, kNow - 3600 * kSec);
  EXPECT_EQ(b->second, kNow);
}

TEST(BoundsTest, SinceIsRelativeToEndUnlessEndIsInTheFuture) {
  auto b = ParseBounds("", "1704164000", "5m", kNow);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->second, 1704164000 * kSec);
  EXPECT_EQ(b->first, 1704164000 * kSec - 300 * kSec);
  b = ParseBounds("", "1804164000", "5m", kNow);  // end in the future: start = now - since
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->first, kNow - 300 * kSec);
}

TEST(BoundsTest, ExplicitStartWinsOverSince) {
  auto b = ParseBounds("1704160000", "", "5m", kNow);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->first, 1704160000 * kSec);
}

TEST(BoundsTest, ErrorsNameTheParameterAndSinceIsCheckedFirst) {
  EXPECT_EQ(Err(ParseBounds("x", "", "", kNow)),
            "could not parse 'start' parameter: strconv.ParseInt: parsing \"x\": invalid syntax");
  EXPECT_EQ(Err(ParseBounds("", "y", "", kNow)),
            "could not parse 'end' parameter: strconv.ParseInt: parsing \"y\": invalid syntax");
  EXPECT_EQ(Err(ParseBounds("x", "y", "1.5h", kNow)),
            "could not parse 'since' parameter: not a valid duration string: \"1.5h\"");
  EXPECT_EQ(Err(ParseBounds("x", "y", "", kNow)),
            "could not parse 'end' parameter: strconv.ParseInt: parsing \"y\": invalid syntax");
}

// ---------------------------------------------------------------------------
// 1.4 durations

TEST(DurationParamTest, FloatSecondsOrPrometheusDuration) {
  EXPECT_EQ(*ParseSecondsOrDuration("15"), 15 * kSec);
  EXPECT_EQ(*ParseSecondsOrDuration("0.5"), kSec / 2);
  EXPECT_EQ(*ParseSecondsOrDuration("1e3"), 1000 * kSec);
  EXPECT_EQ(*ParseSecondsOrDuration("250ms"), 250 * kNanosPerMilli);
  EXPECT_EQ(*ParseSecondsOrDuration("1h30m"), 90 * kNanosPerMinute);
  EXPECT_EQ(*ParseSecondsOrDuration("1d"), kNanosPerDay);
}

TEST(DurationParamTest, Errors) {
  EXPECT_EQ(Err(ParseSecondsOrDuration("1.5s")), "cannot parse \"1.5s\" to a valid duration");
  EXPECT_EQ(Err(ParseSecondsOrDuration("abc")), "cannot parse \"abc\" to a valid duration");
  EXPECT_EQ(Err(ParseSecondsOrDuration("1e300")),
            "cannot parse \"1e300\" to a valid duration. It overflows int64");
}

TEST(DurationParamTest, DefaultStep) {
  EXPECT_EQ(DefaultStepNs(0, 3600 * kSec), 14 * kSec);  // floor(3600/250)
  EXPECT_EQ(DefaultStepNs(0, 100 * kSec), 1 * kSec);    // at least 1s
  EXPECT_EQ(DefaultStepNs(0, 0), 1 * kSec);
}

// ---------------------------------------------------------------------------
// 1.5 limit and direction

TEST(LimitTest, DefaultPositiveAndRange) {
  EXPECT_EQ(*ParseLimit(""), 100u);
  EXPECT_EQ(*ParseLimit("5000"), 5000u);
  EXPECT_EQ(Err(ParseLimit("0")), "limit must be a positive value");
  EXPECT_EQ(Err(ParseLimit("-1")), "limit must be a positive value");
  EXPECT_EQ(Err(ParseLimit("abc")), "strconv.Atoi: parsing \"abc\": invalid syntax");
  EXPECT_EQ(Err(ParseLimit("1.5")), "strconv.Atoi: parsing \"1.5\": invalid syntax");
  EXPECT_EQ(Err(ParseLimit("4294967296")),
            "limit value 4294967296 is out of range [0, 4294967295]");
  EXPECT_EQ(*ParseLimit("4294967295"), 4294967295u);
}

TEST(DirectionTest, CaseInsensitive) {
  EXPECT_FALSE(*ParseDirection(""));
  EXPECT_TRUE(*ParseDirection("forward"));
  EXPECT_TRUE(*ParseDirection("FORWARD"));
  EXPECT_FALSE(*ParseDirection("Backward"));
  EXPECT_EQ(Err(ParseDirection("sideways")), "invalid direction 'sideways'");
}

// ---------------------------------------------------------------------------
// Whole requests

TEST(RangeParamsTest, Defaults) {
  auto r = ParseRangeParams(P(""), kNow);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->start_ns, kNow - 3600 * kSec);
  EXPECT_EQ(r->end_ns, kNow);
  EXPECT_EQ(r->step_ns, 14 * kSec);
  EXPECT_EQ(r->interval_ns, 0);
  EXPECT_EQ(r->limit, 100u);
  EXPECT_FALSE(r->forward);
}

TEST(RangeParamsTest, GrafanaStyleRequest) {
  auto r = ParseRangeParams(P("start=1704160000000000000&end=1704164645000000000&step=5000ms&"
                              "limit=1000&direction=backward"),
                            kNow);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->start_ns, 1704160000 * kSec);
  EXPECT_EQ(r->end_ns, kNow);
  EXPECT_EQ(r->step_ns, 5 * kSec);
  EXPECT_EQ(r->limit, 1000u);
}

TEST(RangeParamsTest, LogcliStyleRequest) {
  auto r = ParseRangeParams(P("start=1704160000000000000&end=1704164645000000000&step=0.5&"
                              "interval=30&direction=FORWARD&limit=30"),
                            kNow);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->step_ns, kSec / 2);
  EXPECT_EQ(r->interval_ns, 30 * kSec);
  EXPECT_TRUE(r->forward);
}

TEST(RangeParamsTest, EndEqualToStartIsAcceptedEndBeforeStartIsNot) {
  EXPECT_TRUE(ParseRangeParams(P("start=100&end=100"), kNow).ok());
  EXPECT_EQ(Err(ParseRangeParams(P("start=100&end=99"), kNow)),
            "end timestamp must not be before or equal to start time");
}

TEST(RangeParamsTest, StepErrors) {
  EXPECT_EQ(Err(ParseRangeParams(P("step=0"), kNow)),
            "zero or negative query resolution step widths are not accepted. Try a positive "
            "integer");
  EXPECT_EQ(Err(ParseRangeParams(P("step=-5"), kNow)),
            "zero or negative query resolution step widths are not accepted. Try a positive "
            "integer");
  EXPECT_EQ(Err(ParseRangeParams(P("step=1.5s"), kNow)),
            "cannot parse \"1.5s\" to a valid duration");
  // 1h / 0.3s = 12000 points > 11000.
  EXPECT_EQ(Err(ParseRangeParams(P("step=0.3"), kNow)),
            "exceeded maximum resolution of 11,000 points per time series. Try increasing the "
            "value of the step parameter");
  // Exactly 11000 points is fine: 11000s range, 1s step.
  EXPECT_TRUE(ParseRangeParams(P("start=0&end=11000&step=1"), kNow).ok());
  EXPECT_FALSE(ParseRangeParams(P("start=0&end=11001&step=1"), kNow).ok());
}

// Regression: end - start overflowed int64 for start=-2^62&end=2^62, so the step
// count (and the querier's max_query_length check) saw a negative range.
TEST(RangeParamsTest, RangesLongerThanInt64SaturateLikeGo) {
  const std::string huge = "start=-4611686018427387904&end=4611686018427387904";
  auto r = ParseRangeParams(P(huge), kNow);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  // Go's time.Time.Sub saturates at the largest duration: floor(9223372036.85s / 250).
  EXPECT_EQ(r->step_ns, 36893488 * kSec);
  EXPECT_EQ(DefaultStepNs(INT64_MIN, INT64_MAX), 36893488 * kSec);
  EXPECT_EQ(Err(ParseRangeParams(P(huge + "&step=1"), kNow)),
            "exceeded maximum resolution of 11,000 points per time series. Try increasing the "
            "value of the step parameter");
  EXPECT_EQ(
      Err(ParseRangeParams(P("start=-9223372036854775808&end=9223372036854775807&step=1h"), kNow)),
      "exceeded maximum resolution of 11,000 points per time series. Try increasing the "
      "value of the step parameter");
  // The longest range over the largest step is a single point.
  EXPECT_TRUE(ParseRangeParams(P("start=-9223372036854775808&end=9223372036854775807&step=" +
                                 std::to_string(INT64_MAX / kSec) + "s"),
                               kNow)
                  .ok());
}

TEST(RangeParamsTest, CarriesTheQueryText) {
  auto r = ParseRangeParams(P("query=%7Ba%3D%22b%22%7D"), kNow);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->query, R"({a="b"})");
  auto i = ParseInstantParams(P("query=%7Ba%3D%22b%22%7D"), kNow);
  ASSERT_TRUE(i.ok());
  EXPECT_EQ(i->query, R"({a="b"})");
}

TEST(RangeParamsTest, IntervalErrors) {
  EXPECT_EQ(Err(ParseRangeParams(P("interval=-1"), kNow)), "interval must be >= 0");
  EXPECT_EQ(Err(ParseRangeParams(P("interval=x"), kNow)), "cannot parse \"x\" to a valid duration");
}

TEST(RangeParamsTest, ErrorOrderFollowsLoki) {
  // bounds before limit before direction before step before interval.
  EXPECT_EQ(Err(ParseRangeParams(P("start=x&limit=0&direction=up&step=0&interval=-1"), kNow)),
            "could not parse 'start' parameter: strconv.ParseInt: parsing \"x\": invalid syntax");
  EXPECT_EQ(Err(ParseRangeParams(P("start=10&end=5&limit=0"), kNow)),
            "end timestamp must not be before or equal to start time");
  EXPECT_EQ(Err(ParseRangeParams(P("limit=0&direction=up&step=0&interval=-1"), kNow)),
            "limit must be a positive value");
  EXPECT_EQ(Err(ParseRangeParams(P("direction=up&step=0&interval=-1"), kNow)),
            "invalid direction 'up'");
  EXPECT_EQ(Err(ParseRangeParams(P("step=0&interval=-1"), kNow)),
            "zero or negative query resolution step widths are not accepted. Try a positive "
            "integer");
}

TEST(InstantParamsTest, DefaultsAndValues) {
  auto r = ParseInstantParams(P(""), kNow);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->time_ns, kNow);
  EXPECT_EQ(r->limit, 100u);
  EXPECT_FALSE(r->forward);
  r = ParseInstantParams(P("time=4000000000&limit=7&direction=forward"), kNow);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->time_ns, 4000000000 * kSec);
  EXPECT_EQ(r->limit, 7u);
  EXPECT_TRUE(r->forward);
}

TEST(InstantParamsTest, ErrorsAreUnprefixedAndLimitComesFirst) {
  EXPECT_EQ(Err(ParseInstantParams(P("time=abc"), kNow)),
            "strconv.ParseInt: parsing \"abc\": invalid syntax");
  EXPECT_EQ(Err(ParseInstantParams(P("time=abc&limit=-3"), kNow)),
            "limit must be a positive value");
  EXPECT_EQ(Err(ParseInstantParams(P("direction=x"), kNow)), "invalid direction 'x'");
}

TEST(InstantParamsTest, TimeTakesEveryLokiTimestampForm) {
  // Float seconds (fraction rounded to ms), RFC3339, and 19-digit nanoseconds.
  EXPECT_EQ(ParseInstantParams(P("time=1588889221.5004"), kNow)->time_ns,
            1588889221 * kSec + 500 * kNanosPerMilli);
  EXPECT_EQ(ParseInstantParams(P("time=2020-05-07T22:07:01Z"), kNow)->time_ns, 1588889221 * kSec);
  EXPECT_EQ(ParseInstantParams(P("time=1588889221000000001"), kNow)->time_ns,
            1588889221 * kSec + 1);
}

TEST(InstantParamsTest, RangeOnlyParametersAreIgnored) {
  // Loki's instant query reads no step, interval, start or end: none of them can fail it.
  auto r = ParseInstantParams(P("step=0&interval=-1&start=x&end=y&since=z"), kNow);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->time_ns, kNow);
}

TEST(RangeParamsTest, StepDefaultsFromTheRangeAndAcceptsDurations) {
  // No step: max(floor(range / 250s), 1s); 6h -> 86s.
  EXPECT_EQ(ParseRangeParams(P("start=0&end=21600"), kNow)->step_ns, 86 * kSec);
  EXPECT_EQ(ParseRangeParams(P("start=0&end=60"), kNow)->step_ns, 1 * kSec);
  EXPECT_EQ(ParseRangeParams(P("start=0&end=21600&step=1m"), kNow)->step_ns, 60 * kSec);
  EXPECT_EQ(ParseRangeParams(P("start=0&end=21600&step=1h30m"), kNow)->step_ns, 5400 * kSec);
  EXPECT_EQ(ParseRangeParams(P("start=0&end=21600&step=15"), kNow)->step_ns, 15 * kSec);
  // A default step never trips the 11,000-point limit, however long the range.
  EXPECT_TRUE(ParseRangeParams(P("start=0&end=3153600000"), kNow).ok());
}

TEST(MetadataRangeTest, DefaultsAndNoOrderCheck) {
  auto r = ParseMetadataRange(P(""), kNow);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->first, kNow - 3600 * kSec);
  EXPECT_EQ(r->second, kNow);
  r = ParseMetadataRange(P("since=24h"), kNow);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->first, kNow - 24 * 3600 * kSec);
  // Loki's label/series endpoints do not reject end < start.
  EXPECT_TRUE(ParseMetadataRange(P("start=200&end=100"), kNow).ok());
  EXPECT_EQ(Err(ParseMetadataRange(P("end=nope"), kNow)),
            "could not parse 'end' parameter: strconv.ParseInt: parsing \"nope\": invalid syntax");
}

}  // namespace
}  // namespace skald::server
