// Helpers shared by the WAL tests.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "core/file_system.h"
#include "tests/testing/temp_dir.h"
#include "wal/format.h"
#include "wal/replay.h"

namespace skald::wal::testing {

struct Rec {
  RecordType type;
  std::string payload;
  bool operator==(const Rec& o) const { return type == o.type && payload == o.payload; }
};

inline std::ostream& operator<<(std::ostream& os, const Rec& r) {
  return os << RecordTypeName(r.type) << ":" << r.payload.substr(0, 40);
}

// Segment file bytes: header + framed records.
inline std::string SegmentBytes(const std::vector<Rec>& recs) {
  std::string s(SegmentHeader());
  for (const Rec& r : recs) AppendFramedRecord(&s, r.type, r.payload);
  return s;
}

// Replays dir from `from` and returns the records; warnings are collected into *warnings.
inline std::vector<Rec> ReplayAll(FileSystem* fs, const std::string& dir, uint64_t from,
                                  ReplayStats* stats, std::vector<std::string>* warnings = nullptr,
                                  bool truncate = true, Status* status = nullptr) {
  std::vector<Rec> out;
  ReplayOptions o;
  o.fs = fs;
  o.truncate_torn_tails = truncate;
  o.on_warning = [warnings](const std::string& w) {
    if (warnings != nullptr) warnings->push_back(w);
  };
  Status s = Replay(
      dir, from,
      [&](RecordType t, std::string_view p) {
        out.push_back({t, std::string(p)});
        return Status::OK();
      },
      stats, o);
  if (status != nullptr) {
    *status = s;
  } else {
    EXPECT_TRUE(s.ok()) << s.ToString();
  }
  return out;
}

// The kit's temp dir (tests/testing/temp_dir.h).
using skald::testing::TempDir;

inline std::string Payload(int i, size_t len = 0) {
  std::string s = "record-" + std::to_string(i);
  if (s.size() < len) s.append(len - s.size(), static_cast<char>('a' + i % 26));
  return s;
}

}  // namespace skald::wal::testing
