// The per-entry part of detected_fields (querier/detected.cc), exposed for its tests and fuzzer.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/labels.h"
#include "wire/query_result.h"

namespace skald::logql {
class LineParser;
}

namespace skald::querier::internal {

// One entry's fields: name -> distinct values (first-seen order), the parser that read the
// line ("json", "logfmt", or "" when neither could), and for json the path of each name.
struct EntryFields {
  std::vector<std::pair<std::string, std::vector<std::string>>> fields;
  std::string parser;
  std::unordered_map<std::string, std::vector<std::string>> json_paths;

  void Add(const std::string& name, const std::string& value);
};

// Loki's parseEntry: the query's parsed labels, then a json parse of the line, else logfmt
// (a key naming a stream label becomes `<key>_extracted`). Not thread-safe (parser scratch).
class EntryParser {
 public:
  EntryParser();
  ~EntryParser();
  EntryFields Parse(const Labels& stream, const wire::ResultEntry& e);

 private:
  std::unique_ptr<logql::LineParser> json_, logfmt_;
};

// Loki's determineType: int, float, boolean, duration, bytes, else string.
const char* FieldType(std::string_view v);
// detected_field values: a byte size with a unit as go-humanize prints it ("10KiB" -> "10kB").
std::string ValueForQuery(std::string_view v);

}  // namespace skald::querier::internal
