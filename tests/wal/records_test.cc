// WAL record payloads: round trips of kSeries and kEntries, malformed input -> Corruption,
// and allocation-free decoding.
#include "wal/records.h"

#include <gtest/gtest.h>

#include <limits>
#include <random>
#include <string>
#include <vector>

#include "tests/testing/alloc_counter.h"
#include "tests/testing/entries.h"

namespace skald::wal {
namespace {

using skald::testing::AllocCounter;

struct OwnedEntry {
  int64_t ts = 0;
  std::string line;
  std::vector<std::pair<std::string, std::string>> md;
  bool operator==(const OwnedEntry& o) const { return ts == o.ts && line == o.line && md == o.md; }
};

// The pair type the chunk and head code take as they are (no conversion per entry).
using Pair = MetadataPair;

std::string Encode(std::string_view tenant, uint64_t fp, const std::vector<OwnedEntry>& es) {
  std::string out;
  EntriesEncoder enc;
  enc.Begin(&out, tenant, fp);
  for (const OwnedEntry& e : es) {
    enc.Add(e.ts, e.line, skald::testing::MetadataViews<Pair>(e.md));
  }
  EXPECT_EQ(enc.entries(), es.size());
  return out;
}

Status Decode(std::string_view payload, std::string* tenant, uint64_t* fp,
              std::vector<OwnedEntry>* out) {
  EntriesDecoder d;
  SKALD_RETURN_IF_ERROR(d.Init(payload));
  *tenant = std::string(d.tenant());
  *fp = d.fingerprint();
  int64_t ts;
  std::string_view line;
  std::vector<Pair> md;
  while (d.Next(&ts, &line, &md)) {
    OwnedEntry e{ts, std::string(line), {}};
    for (const Pair& p : md) e.md.emplace_back(std::string(p.name), std::string(p.value));
    out->push_back(std::move(e));
  }
  return d.status();
}

TEST(SeriesRecordTest, RoundTrip) {
  std::string buf = "prefix";  // encoders append
  EncodeSeries(&buf, {"tenant-a", 0xDEADBEEFCAFEF00Dull, R"({app="x", env="prod"})"});
  SeriesRecord r;
  ASSERT_TRUE(DecodeSeries(std::string_view(buf).substr(6), &r).ok());
  EXPECT_EQ(r.tenant, "tenant-a");
  EXPECT_EQ(r.fingerprint, 0xDEADBEEFCAFEF00Dull);
  EXPECT_EQ(r.labels, R"({app="x", env="prod"})");

  std::string empty;
  EncodeSeries(&empty, {"", 0, ""});
  ASSERT_TRUE(DecodeSeries(empty, &r).ok());
  EXPECT_EQ(r.tenant, "");
  EXPECT_EQ(r.labels, "");
}

TEST(SeriesRecordTest, EveryTruncationAndTrailingBytesAreCorruption) {
  std::string buf;
  EncodeSeries(&buf, {"t", 7, "{a=\"b\"}"});
  SeriesRecord r;
  for (size_t n = 0; n < buf.size(); ++n) {
    EXPECT_EQ(DecodeSeries(buf.substr(0, n), &r).code(), StatusCode::kCorruption) << n;
  }
  EXPECT_EQ(DecodeSeries(buf + "x", &r).code(), StatusCode::kCorruption);
}

TEST(EntriesRecordTest, RoundTripWithMetadataAndExtremeTimestamps) {
  std::vector<OwnedEntry> es = {
      {1'700'000'000'000'000'000, "first line", {}},
      {1'700'000'000'000'000'001, "", {{"trace_id", "abc"}, {"empty", ""}}},
      {5, std::string("bin\0ary\xff", 8), {{"", ""}}},  // backwards in time
      {std::numeric_limits<int64_t>::min(), "min", {}},
      {std::numeric_limits<int64_t>::max(), "max", {{"k", std::string(300, 'v')}}},
      {0, std::string(100000, 'x'), {}},
      {-1, "negative", {}},
  };
  std::string payload = Encode("tenant", 42, es);
  std::string tenant;
  uint64_t fp = 0;
  std::vector<OwnedEntry> got;
  ASSERT_TRUE(Decode(payload, &tenant, &fp, &got).ok());
  EXPECT_EQ(tenant, "tenant");
  EXPECT_EQ(fp, 42u);
  EXPECT_EQ(got, es);
}

TEST(EntriesRecordTest, EmptyRecordHasNoEntries) {
  std::string payload = Encode("t", 1, {});
  std::string tenant;
  uint64_t fp;
  std::vector<OwnedEntry> got;
  ASSERT_TRUE(Decode(payload, &tenant, &fp, &got).ok());
  EXPECT_TRUE(got.empty());
}

TEST(EntriesRecordTest, NextEntrySkipsUnreadMetadata) {
  std::vector<OwnedEntry> es = {{1, "a", {{"x", "1"}, {"y", "2"}}}, {2, "b", {{"z", "3"}}}};
  std::string payload = Encode("t", 1, es);
  EntriesDecoder d;
  ASSERT_TRUE(d.Init(payload).ok());
  int64_t ts;
  std::string_view line, n, v;
  uint32_t nmeta;
  ASSERT_TRUE(d.NextEntry(&ts, &line, &nmeta));
  EXPECT_EQ(nmeta, 2u);
  ASSERT_TRUE(d.NextMetadata(&n, &v));  // read one of two
  EXPECT_EQ(n, "x");
  ASSERT_TRUE(d.NextEntry(&ts, &line, &nmeta));
  EXPECT_EQ(ts, 2);
  EXPECT_EQ(line, "b");
  ASSERT_TRUE(d.NextMetadata(&n, &v));
  EXPECT_EQ(v, "3");
  EXPECT_FALSE(d.NextMetadata(&n, &v));  // none left for this entry
  EXPECT_FALSE(d.NextEntry(&ts, &line, &nmeta));
  EXPECT_TRUE(d.status().ok());
  EXPECT_EQ(d.entries(), 2u);
}

TEST(EntriesRecordTest, EveryTruncationIsCorruptionOrAShorterValidRecord) {
  std::vector<OwnedEntry> es = {{10, "hello", {{"a", "b"}}}, {20, "world", {}}};
  std::string payload = Encode("tenant", 9, es);
  for (size_t n = 0; n < payload.size(); ++n) {
    std::string tenant;
    uint64_t fp;
    std::vector<OwnedEntry> got;
    Status s = Decode(payload.substr(0, n), &tenant, &fp, &got);
    if (s.ok()) {
      // Only a cut exactly between entries decodes, and then to a prefix of the entries.
      ASSERT_LE(got.size(), es.size());
      EXPECT_TRUE(std::equal(got.begin(), got.end(), es.begin())) << n;
    } else {
      EXPECT_EQ(s.code(), StatusCode::kCorruption) << n;
    }
  }
}

TEST(EntriesRecordTest, HugeMetadataCountIsRejectedWithoutAllocating) {
  std::string payload;
  EntriesEncoder enc;
  enc.Begin(&payload, "t", 1);
  enc.AddEntry(1, "line", 1'000'000'000);  // claims a billion pairs, provides none
  EntriesDecoder d;
  ASSERT_TRUE(d.Init(payload).ok());
  std::vector<MetadataPair> md;
  int64_t ts;
  std::string_view line;
  EXPECT_FALSE(d.Next(&ts, &line, &md));
  EXPECT_EQ(d.status().code(), StatusCode::kCorruption);
  EXPECT_EQ(md.capacity(), 0u);
}

TEST(EntriesRecordTest, OverlongVarintIsCorruption) {
  std::string payload;
  EntriesEncoder enc;
  enc.Begin(&payload, "t", 1);
  payload.append(11, '\xff');  // an 11-byte varint timestamp
  EntriesDecoder d;
  ASSERT_TRUE(d.Init(payload).ok());
  int64_t ts;
  std::string_view line;
  uint32_t n;
  EXPECT_FALSE(d.NextEntry(&ts, &line, &n));
  EXPECT_EQ(d.status().code(), StatusCode::kCorruption);
}

TEST(EntriesRecordTest, RandomBytesNeverCrash) {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 20000; ++i) {
    std::string s(rng() % 64, '\0');
    for (char& c : s) c = static_cast<char>(rng());
    std::string tenant;
    uint64_t fp;
    std::vector<OwnedEntry> got;
    Status st = Decode(s, &tenant, &fp, &got);
    if (!st.ok()) {
      EXPECT_EQ(st.code(), StatusCode::kCorruption);
    }
    SeriesRecord r;
    Status ss = DecodeSeries(s, &r);
    if (!ss.ok()) {
      EXPECT_EQ(ss.code(), StatusCode::kCorruption);
    }
  }
}

TEST(EntriesRecordTest, DecodingAndReEncodingDoNotAllocateOnceBuffersAreWarm) {
  std::vector<OwnedEntry> es;
  for (int i = 0; i < 1000; ++i) {
    es.push_back({i * 1000, "line " + std::to_string(i), {{"a", "1"}, {"b", "2"}}});
  }
  const std::string payload = Encode("tenant", 5, es);
  std::vector<MetadataPair> md;
  md.reserve(4);
  std::string out;
  out.reserve(payload.size() + 64);
  size_t count = 0;

  AllocCounter::Start();
  EntriesDecoder d;
  Status init = d.Init(payload);
  EntriesEncoder enc;
  enc.Begin(&out, d.tenant(), d.fingerprint());
  int64_t ts;
  std::string_view line;
  while (d.Next(&ts, &line, &md)) {
    enc.Add(ts, line, md);
    ++count;
  }
  const size_t allocs = AllocCounter::Stop();

  ASSERT_TRUE(init.ok());
  ASSERT_TRUE(d.status().ok());
  EXPECT_EQ(count, es.size());
  EXPECT_EQ(allocs, 0u);
  EXPECT_EQ(out, payload);  // re-encoding the decoded entries gives the same bytes
}

TEST(RecordTypeTest, Names) {
  EXPECT_EQ(RecordTypeName(RecordType::kSeries), "series");
  EXPECT_EQ(RecordTypeName(RecordType::kEntries), "entries");
  EXPECT_EQ(RecordTypeName(static_cast<RecordType>(9)), "unknown");
}

}  // namespace
}  // namespace skald::wal
