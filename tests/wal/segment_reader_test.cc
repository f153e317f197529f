// SegmentReader and Replay: framing, bounded buffering, torn tails (every cut position),
// mid-segment corruption (every flipped byte), damaged headers, gaps between segments.
#include "wal/segment_reader.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "core/crc32c.h"
#include "test_util.h"
#include "testing/fs/mem_file_system.h"
#include "wal/format.h"
#include "wal/replay.h"

namespace skald::wal {
namespace {

using testing::Payload;
using testing::Rec;
using testing::ReplayAll;
using testing::SegmentBytes;

std::vector<Rec> MakeRecs(int n, int base = 0, size_t len = 20) {
  std::vector<Rec> v;
  for (int i = 0; i < n; ++i) {
    v.push_back({i % 2 ? RecordType::kEntries : RecordType::kSeries, Payload(base + i, len)});
  }
  return v;
}

// Offsets of each record's first byte inside SegmentBytes(recs).
std::vector<size_t> Offsets(const std::vector<Rec>& recs) {
  std::vector<size_t> out;
  size_t off = kSegmentHeaderSize;
  for (const Rec& r : recs) {
    out.push_back(off);
    off += kRecordHeaderSize + r.payload.size();
  }
  out.push_back(off);
  return out;
}

std::vector<Rec> ReadSegment(FileSystem* fs, const std::string& path, SegmentEnd* end,
                             SegmentReaderOptions o = {}) {
  auto r = SegmentReader::Open(fs, path, o);
  EXPECT_TRUE(r.ok());
  std::vector<Rec> out;
  RecordType t;
  std::string_view p;
  while ((*r)->Next(&t, &p)) out.push_back({t, std::string(p)});
  EXPECT_TRUE((*r)->status().ok());
  *end = (*r)->end();
  return out;
}

TEST(SegmentFormatTest, FramingMatchesTheDocumentedLayout) {
  std::string s;
  AppendFramedRecord(&s, RecordType::kEntries, "abc");
  ASSERT_EQ(s.size(), 12u);
  EXPECT_EQ(DecodeFixed32(s.data()), 3u);
  EXPECT_EQ(static_cast<uint8_t>(s[8]), 2);
  EXPECT_EQ(s.substr(9), "abc");
  // CRC-32C over length (LE), type, payload.
  std::string covered = std::string("\x03\x00\x00\x00\x02", 5) + "abc";
  EXPECT_EQ(DecodeFixed32(s.data() + 4), Crc32c(covered));
  EXPECT_EQ(SegmentHeader(), std::string_view("SKWL\x01\x00\x00\x00", 8));
  EXPECT_EQ(SegmentName(7), "00000007");
  EXPECT_EQ(SegmentName(123456789), "123456789");
  EXPECT_EQ(ParseSegmentName("00000042"), 42u);
  EXPECT_FALSE(ParseSegmentName("0000004a").has_value());
  EXPECT_FALSE(ParseSegmentName("").has_value());
  EXPECT_FALSE(ParseSegmentName("99999999999999999999").has_value());  // > 2^64
}

TEST(SegmentReaderTest, ReadsAllRecordsThroughASmallBuffer) {
  MemFileSystem fs;
  std::vector<Rec> recs = MakeRecs(50);
  recs.push_back({RecordType::kEntries, std::string(100000, 'B')});  // > buffer
  for (Rec& r : MakeRecs(50, 100, 300)) recs.push_back(r);
  ASSERT_TRUE(fs.WriteFileForTest("/w/00000000", SegmentBytes(recs)).ok());
  SegmentEnd end;
  SegmentReaderOptions o;
  o.buffer_size = 4096;
  EXPECT_EQ(ReadSegment(&fs, "/w/00000000", &end, o), recs);
  EXPECT_EQ(end, SegmentEnd::kClean);
}

TEST(SegmentReaderTest, EmptyFileAndHeaderOnlyAreCleanEmptySegments) {
  MemFileSystem fs;
  ASSERT_TRUE(fs.WriteFileForTest("/w/00000000", "").ok());
  ASSERT_TRUE(fs.WriteFileForTest("/w/00000001", SegmentHeader()).ok());
  SegmentEnd end;
  EXPECT_TRUE(ReadSegment(&fs, "/w/00000000", &end).empty());
  EXPECT_EQ(end, SegmentEnd::kClean);
  EXPECT_TRUE(ReadSegment(&fs, "/w/00000001", &end).empty());
  EXPECT_EQ(end, SegmentEnd::kClean);
}

// Cut the segment at every byte position of the last record: all earlier records come
// back, the tail is reported torn, and truncation makes the next replay clean.
TEST(SegmentReaderTest, TornTailAtEveryBytePositionOfTheLastRecord) {
  std::vector<Rec> recs = MakeRecs(5);
  const std::string full = SegmentBytes(recs);
  const std::vector<size_t> off = Offsets(recs);
  const size_t last = off[recs.size() - 1];
  std::vector<Rec> earlier(recs.begin(), recs.end() - 1);
  for (size_t cut = last; cut < full.size(); ++cut) {
    SCOPED_TRACE(cut);
    MemFileSystem fs;
    ASSERT_TRUE(fs.WriteFileForTest("/w/00000000", full.substr(0, cut)).ok());
    ReplayStats st;
    std::vector<std::string> warnings;
    EXPECT_EQ(ReplayAll(&fs, "/w", 0, &st, &warnings), earlier);
    EXPECT_EQ(st.torn_tails, cut == last ? 0u : 1u);
    EXPECT_EQ(st.corrupt_records, 0u);
    EXPECT_EQ(warnings.size(), cut == last ? 0u : 1u);
    // Truncated back to the end of the last complete record.
    auto bytes = ReadFileToString(&fs, "/w/00000000");
    ASSERT_TRUE(bytes.ok());
    EXPECT_EQ(bytes->size(), last);
    ReplayStats again;
    EXPECT_EQ(ReplayAll(&fs, "/w", 0, &again), earlier);
    EXPECT_EQ(again.torn_tails, 0u);
  }
}

TEST(SegmentReaderTest, GarbledOrZeroFilledTailIsTorn) {
  std::vector<Rec> recs = MakeRecs(4);
  std::string bad_crc = SegmentBytes(recs);
  bad_crc.back() ^= 0x40;  // last record damaged, nothing after it
  std::string zeros = SegmentBytes(recs) + std::string(5000, '\0');
  for (const std::string& bytes : {bad_crc, zeros}) {
    MemFileSystem fs;
    ASSERT_TRUE(fs.WriteFileForTest("/w/00000000", bytes).ok());
    auto r = SegmentReader::Open(&fs, "/w/00000000");
    ASSERT_TRUE(r.ok());
    RecordType t;
    std::string_view p;
    int n = 0;
    while ((*r)->Next(&t, &p)) ++n;
    EXPECT_EQ((*r)->end(), SegmentEnd::kTornTail) << (*r)->problem();
    EXPECT_EQ(n, bytes == zeros ? 4 : 3);
    EXPECT_FALSE((*r)->problem().empty());
    ASSERT_TRUE((*r)->TruncateTornTail().ok());
    EXPECT_EQ(ReadFileToString(&fs, "/w/00000000")->size(), (*r)->valid_end());
  }
}

// Flip each byte of a middle record in turn: the records before it come back, the rest of
// that segment is skipped, the next segment is still replayed, one corruption is counted,
// and nothing is truncated.
TEST(SegmentReaderTest, MidSegmentCorruptionAtEveryByteOfAMiddleRecord) {
  std::vector<Rec> seg0 = MakeRecs(10);
  std::vector<Rec> seg1 = MakeRecs(5, 100);
  const std::string bytes0 = SegmentBytes(seg0);
  const std::vector<size_t> off = Offsets(seg0);
  std::vector<Rec> want(seg0.begin(), seg0.begin() + 5);
  want.insert(want.end(), seg1.begin(), seg1.end());
  for (size_t i = off[5]; i < off[6]; ++i) {
    for (uint8_t flip : {0x01, 0x80, 0xff}) {
      SCOPED_TRACE(::testing::Message() << "byte " << i << " ^ " << int{flip});
      std::string damaged = bytes0;
      damaged[i] = static_cast<char>(damaged[i] ^ flip);
      MemFileSystem fs;
      ASSERT_TRUE(fs.WriteFileForTest("/w/00000000", damaged).ok());
      ASSERT_TRUE(fs.WriteFileForTest("/w/00000001", SegmentBytes(seg1)).ok());
      ReplayStats st;
      std::vector<std::string> warnings;
      EXPECT_EQ(ReplayAll(&fs, "/w", 0, &st, &warnings), want);
      EXPECT_EQ(st.corrupt_records, 1u);
      EXPECT_EQ(st.torn_tails, 0u);
      EXPECT_EQ(st.segments, 2u);
      ASSERT_EQ(warnings.size(), 1u);
      EXPECT_NE(warnings[0].find("corruption"), std::string::npos);
      EXPECT_EQ(*ReadFileToString(&fs, "/w/00000000"), damaged);  // untouched
    }
  }
}

TEST(SegmentReaderTest, CorruptionIsFoundWhenTheNextValidRecordIsLargerThanTheBuffer) {
  std::vector<Rec> recs = MakeRecs(3);
  recs.push_back({RecordType::kEntries, std::string(50000, 'L')});
  std::string bytes = SegmentBytes(recs);
  bytes[Offsets(recs)[2] + 10] ^= 1;  // damage record 2's payload
  MemFileSystem fs;
  ASSERT_TRUE(fs.WriteFileForTest("/w/00000000", bytes).ok());
  SegmentReaderOptions o;
  o.buffer_size = 4096;
  auto r = SegmentReader::Open(&fs, "/w/00000000", o);
  ASSERT_TRUE(r.ok());
  RecordType t;
  std::string_view p;
  int n = 0;
  while ((*r)->Next(&t, &p)) ++n;
  EXPECT_EQ(n, 2);
  EXPECT_EQ((*r)->end(), SegmentEnd::kCorruption) << (*r)->problem();
  EXPECT_EQ((*r)->valid_end(), Offsets(recs)[2]);
  EXPECT_FALSE((*r)->TruncateTornTail().ok());  // corruption is never truncated
}

TEST(SegmentReaderTest, DamagedSegmentHeaders) {
  const std::string body = SegmentBytes(MakeRecs(3)).substr(kSegmentHeaderSize);
  struct Case {
    std::string bytes;
    SegmentEnd end;
    uint64_t size_after_replay;
  };
  std::string v2 = SegmentBytes(MakeRecs(3));
  v2[4] = 2;
  std::vector<Case> cases = {
      {"SKW", SegmentEnd::kTornTail, 0},                              // header cut short
      {std::string(8, '\0'), SegmentEnd::kTornTail, 0},               // zero-filled
      {"XXXXXXXX" + body, SegmentEnd::kCorruption, 8 + body.size()},  // records follow
      {v2, SegmentEnd::kCorruption, v2.size()},                       // future version: keep it
  };
  for (const Case& c : cases) {
    MemFileSystem fs;
    ASSERT_TRUE(fs.WriteFileForTest("/w/00000000", c.bytes).ok());
    SegmentEnd end;
    EXPECT_TRUE(ReadSegment(&fs, "/w/00000000", &end).empty());
    EXPECT_EQ(end, c.end);
    ReplayStats st;
    ReplayAll(&fs, "/w", 0, &st);
    EXPECT_EQ(ReadFileToString(&fs, "/w/00000000")->size(), c.size_after_replay);
  }
}

TEST(SegmentReaderTest, IntactRecordOfUnknownTypeIsCorruptionNotTornTail) {
  std::string bytes = SegmentBytes(MakeRecs(2));
  std::string payload = "from the future";
  char h[kRecordHeaderSize];
  EncodeFixed32(h, static_cast<uint32_t>(payload.size()));
  EncodeFixed32(h + 4, RecordCrc(static_cast<uint32_t>(payload.size()), 77, payload));
  h[8] = 77;
  bytes.append(h, sizeof(h));
  bytes += payload;
  MemFileSystem fs;
  ASSERT_TRUE(fs.WriteFileForTest("/w/00000000", bytes).ok());
  ReplayStats st;
  EXPECT_EQ(ReplayAll(&fs, "/w", 0, &st).size(), 2u);
  EXPECT_EQ(st.corrupt_records, 1u);
  EXPECT_EQ(st.torn_tails, 0u);
  EXPECT_EQ(ReadFileToString(&fs, "/w/00000000")->size(), bytes.size());
}

TEST(ReplayTest, OrderFromSegmentGapsAndNonSegmentFiles) {
  MemFileSystem fs;
  ASSERT_TRUE(fs.WriteFileForTest("/w/00000001", SegmentBytes(MakeRecs(2, 10))).ok());
  ASSERT_TRUE(fs.WriteFileForTest("/w/00000002", SegmentBytes(MakeRecs(2, 20))).ok());
  ASSERT_TRUE(fs.WriteFileForTest("/w/00000005", SegmentBytes(MakeRecs(2, 50))).ok());
  ASSERT_TRUE(fs.WriteFileForTest("/w/notes.txt", "ignored").ok());
  ASSERT_TRUE(fs.CreateDir("/w/checkpoint.00000001").ok());

  ReplayStats st;
  std::vector<std::string> warnings;
  std::vector<Rec> got = ReplayAll(&fs, "/w", 2, &st, &warnings);
  std::vector<Rec> want = MakeRecs(2, 20);
  for (Rec& r : MakeRecs(2, 50)) want.push_back(r);
  EXPECT_EQ(got, want);
  EXPECT_EQ(st.segments, 2u);
  EXPECT_EQ(st.records, 4u);
  EXPECT_EQ(st.missing_segments, 2u);  // 3 and 4
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("missing"), std::string::npos);

  // Stats accumulate across calls.
  ReplayAll(&fs, "/w", 0, &st);
  EXPECT_EQ(st.records, 10u);
}

TEST(ReplayTest, CallbackErrorStopsReplay) {
  MemFileSystem fs;
  ASSERT_TRUE(fs.WriteFileForTest("/w/00000000", SegmentBytes(MakeRecs(5))).ok());
  int calls = 0;
  ReplayOptions o;
  o.fs = &fs;
  Status s = Replay(
      "/w", 0,
      [&](RecordType, std::string_view) {
        return ++calls == 3 ? Status::Corruption("bad payload") : Status::OK();
      },
      nullptr, o);
  EXPECT_EQ(s.code(), StatusCode::kCorruption);
  EXPECT_NE(s.message().find("bad payload"), std::string::npos);
  EXPECT_NE(s.message().find("00000000"), std::string::npos);
  EXPECT_EQ(calls, 3);
}

TEST(ReplayTest, MissingDirectoryIsNotFound) {
  MemFileSystem fs;
  ReplayOptions o;
  o.fs = &fs;
  Status s = Replay(
      "/nope", 0, [](RecordType, std::string_view) { return Status::OK(); }, nullptr, o);
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
}

TEST(ReplayTest, TornTailIsKeptWhenTruncationIsDisabled) {
  MemFileSystem fs;
  std::string bytes = SegmentBytes(MakeRecs(3));
  bytes.pop_back();
  ASSERT_TRUE(fs.WriteFileForTest("/w/00000000", bytes).ok());
  ReplayStats st;
  EXPECT_EQ(ReplayAll(&fs, "/w", 0, &st, nullptr, /*truncate=*/false).size(), 2u);
  EXPECT_EQ(st.torn_tails, 1u);
  EXPECT_EQ(ReadFileToString(&fs, "/w/00000000")->size(), bytes.size());
}

TEST(ReplayTest, PosixTornTailTruncation) {
  testing::TempDir dir;
  FileSystem* fs = PosixFileSystem();
  std::vector<Rec> recs = MakeRecs(4);
  std::string bytes = SegmentBytes(recs);
  bytes.resize(bytes.size() - 3);
  auto f = fs->NewWritableFile(JoinPath(dir.path(), "00000000"));
  ASSERT_TRUE(f.ok());
  ASSERT_TRUE((*f)->Append(bytes).ok());
  ASSERT_TRUE((*f)->Close().ok());
  ReplayStats st;
  EXPECT_EQ(ReplayAll(fs, dir.path(), 0, &st).size(), 3u);
  EXPECT_EQ(st.torn_tails, 1u);
  EXPECT_EQ(ReadFileToString(fs, JoinPath(dir.path(), "00000000"))->size(), Offsets(recs)[3]);
}

}  // namespace
}  // namespace skald::wal
