// Logs Drilldown's detected_labels, detected_fields and detected_field/<name>/values
// (QueryApi, declared in query_api.h). Facts from Loki 3.7's querier and query frontend:
//  - detected_labels: the stream label names of the selected streams with their number of
//    distinct values; a label whose values all look like IDs (numbers or UUIDs) is left out,
//    unless it has at most two values that are all "0"/"1", or is one of cluster, namespace,
//    instance, pod;
//  - detected_fields: the newest `line_limit` entries of a log query; per entry its structured
//    metadata, the labels the query's own parsers added, and what a json (else logfmt) parse of
//    the line yields; per field its type (from the last value looked at), distinct values and
//    parsers; at most `limit` fields, in first-seen order;
//  - values: the distinct values of one field over the same entries, byte sizes rewritten as
//    go-humanize prints them ("10KiB" -> "10kB").
// Loki estimates cardinalities with HyperLogLog, exact at these sizes; Skald counts exactly.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "core/parse.h"
#include "core/time.h"
#include "logql/ast.h"
#include "logql/label_filter_exec.h"
#include "logql/parser.h"
#include "logql/parsers.h"
#include "querier/detected_internal.h"
#include "querier/query_api.h"

namespace skald::querier {

namespace {

bool IsUuid(std::string_view v) {
  // google/uuid.Parse: 36 chars xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx, with "urn:uuid:" (45) or
  // braces (38) around it, or 32 hex digits.
  auto hex = [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  };
  if (v.size() == 45 && v.substr(0, 9) == "urn:uuid:") v.remove_prefix(9);
  if (v.size() == 38 && v.front() == '{' && v.back() == '}') v = v.substr(1, 36);
  if (v.size() == 32) return std::all_of(v.begin(), v.end(), hex);
  if (v.size() != 36) return false;
  for (size_t i = 0; i < 36; i++) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? v[i] != '-' : !hex(v[i])) return false;
  }
  return true;
}

bool IsId(std::string_view v) {
  double d;
  return ParseGoFloat(v, &d) == NumError::kNone || IsUuid(v);
}

// Loki's shouldRejectLabel.
bool RejectLabel(const std::set<std::string>& values) {
  if (values.empty()) return true;
  if (values.size() <= 2) {
    bool all_bool = std::all_of(values.begin(), values.end(),
                                [](const std::string& v) { return v == "0" || v == "1"; });
    if (all_bool) return false;
  }
  return std::all_of(values.begin(), values.end(), [](const std::string& v) { return IsId(v); });
}

// Go's strconv.ParseBool.
bool IsGoBool(std::string_view v) {
  static constexpr std::string_view kForms[] = {"1", "t", "T", "TRUE",  "true",  "True",
                                                "0", "f", "F", "FALSE", "false", "False"};
  return std::find(std::begin(kForms), std::end(kForms), v) != std::end(kForms);
}

// Loki's determineType, in its order.
const char* FieldTypeOf(std::string_view v) {
  int64_t i;
  if (ParseGoInt(v, &i) == NumError::kNone) return "int";
  double d;
  if (ParseGoFloat(v, &d) == NumError::kNone) return "float";
  if (IsGoBool(v)) return "boolean";
  if (ParseGoDuration(v).ok()) return "duration";
  uint64_t b;
  std::string err;
  if (logql::ConvertBytes(v, &b, &err)) return "bytes";
  return "string";
}

// go-humanize's Bytes (SI): "9 B", "1.5 kB", "10 kB", "3.0 MB".
std::string HumanizeBytes(uint64_t n) {
  if (n < 10) return std::to_string(n) + " B";
  static constexpr const char* kUnits[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB"};
  int e = 0;
  double div = 1;
  while (e < 6 && static_cast<double>(n) / (div * 1000) >= 1) {
    div *= 1000;
    e++;
  }
  // Go: math.Floor(float64(s)/math.Pow(base, e)*10+0.5) / 10 with e = floor(log_base(s)).
  double val = std::floor(static_cast<double>(n) / div * 10 + 0.5) / 10;
  char buf[64];
  snprintf(buf, sizeof(buf), val < 10 ? "%.1f %s" : "%.0f %s", val, kUnits[e]);
  return buf;
}

// Loki's value rewrite for detected_field values: a byte size with a unit suffix prints as
// go-humanize does, without the space.
std::string QueryValueOf(std::string_view v) {
  static constexpr std::string_view kUnits[] = {
      "b",  "kib", "kb", "mib", "mb", "gib", "gb", "tib", "tb", "pib", "pb", "eib", "eb",
      "ki", "k",   "mi", "m",   "gi", "g",   "ti", "t",   "pi", "p",   "ei", "e"};
  uint64_t b;
  std::string err;
  if (!logql::ConvertBytes(v, &b, &err)) return std::string(v);
  std::string lower(v);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  bool unit = std::any_of(std::begin(kUnits), std::end(kUnits),
                          [&](std::string_view u) { return std::string_view(lower).ends_with(u); });
  if (!unit) return std::string(v);
  std::string h = HumanizeBytes(b);
  size_t sp = h.find(' ');
  if (sp != std::string::npos) h.erase(sp, 1);
  return h;
}

// What a json or logfmt parse of one line adds: Loki's LabelsBuilder over the stream's labels,
// so a key naming a stream label becomes `<key>_extracted`; the first value of a key wins.
class CollectSink final : public logql::ParsedSink {
 public:
  explicit CollectSink(const Labels& stream) : stream_(stream) {}
  void Reset() {
    out_.clear();
    seen_.clear();
  }
  void Add(std::string_view name, std::string_view value) override { Store(name, value, false); }
  bool AlreadyParsed(std::string_view) const override { return false; }
  void SetLine(std::string_view) override {}
  void Put(std::string_view name, std::string_view value) override { Store(name, value, true); }
  bool IsStreamOrMetadata(std::string_view name) const override { return stream_.Has(name); }
  std::vector<std::pair<std::string, std::string>>& out() { return out_; }

 private:
  void Store(std::string_view name, std::string_view value, bool replace) {
    std::string n(name);
    if (stream_.Has(n)) n += "_extracted";
    auto it = seen_.find(n);
    if (it != seen_.end()) {
      if (replace) out_[it->second].second = std::string(value);
      return;
    }
    seen_.emplace(n, out_.size());
    out_.emplace_back(std::move(n), std::string(value));
  }
  const Labels& stream_;
  std::vector<std::pair<std::string, std::string>> out_;
  std::unordered_map<std::string, size_t> seen_;
};

// The JSON paths of a line's flattened keys (["user","id"] for user_id), first path wins.
// Tolerant: stops at anything malformed (the json parser has already accepted the line).
class JsonPaths {
 public:
  explicit JsonPaths(std::string_view s) : s_(s) {}
  std::unordered_map<std::string, std::vector<std::string>> Walk() {
    Space();
    if (pos_ < s_.size() && s_[pos_] == '{') Object("", {});
    return std::move(paths_);
  }

 private:
  void Space() {
    while (pos_ < s_.size() &&
           (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) {
      pos_++;
    }
  }
  bool Str(std::string* out) {  // at '"'; minimal unescape (keys)
    pos_++;
    while (pos_ < s_.size()) {
      char c = s_[pos_++];
      if (c == '"') return true;
      if (c == '\\' && pos_ < s_.size()) c = s_[pos_++];
      out->push_back(c);
    }
    return false;
  }
  bool SkipValue() {
    Space();
    if (pos_ >= s_.size()) return false;
    char c = s_[pos_];
    if (c == '"') {
      std::string ignored;
      return Str(&ignored);
    }
    if (c == '{' || c == '[') {
      int depth = 0;
      while (pos_ < s_.size()) {
        char d = s_[pos_];
        if (d == '"') {
          std::string ignored;
          if (!Str(&ignored)) return false;
          continue;
        }
        if (d == '{' || d == '[') depth++;
        if ((d == '}' || d == ']') && --depth == 0) {
          pos_++;
          return true;
        }
        pos_++;
      }
      return false;
    }
    while (pos_ < s_.size() && s_[pos_] != ',' && s_[pos_] != '}' && s_[pos_] != ']') pos_++;
    return true;
  }
  bool Object(const std::string& prefix, const std::vector<std::string>& path) {
    pos_++;  // '{'
    while (true) {
      Space();
      if (pos_ >= s_.size()) return false;
      if (s_[pos_] == '}') {
        pos_++;
        return true;
      }
      if (s_[pos_] == ',') {
        pos_++;
        continue;
      }
      if (s_[pos_] != '"') return false;
      std::string key;
      if (!Str(&key)) return false;
      Space();
      if (pos_ >= s_.size() || s_[pos_] != ':') return false;
      pos_++;
      Space();
      std::string name = prefix;
      if (!name.empty()) name.push_back('_');
      logql::SanitizeLabelName(key, &name);
      std::vector<std::string> p = path;
      p.push_back(std::move(key));
      if (pos_ < s_.size() && s_[pos_] == '{') {
        if (!Object(name, p)) return false;
      } else {
        paths_.emplace(std::move(name), std::move(p));
        if (!SkipValue()) return false;
      }
    }
  }

  std::string_view s_;
  size_t pos_ = 0;
  std::unordered_map<std::string, std::vector<std::string>> paths_;
};

}  // namespace

namespace internal {

namespace {
bool IsErrorLabel(std::string_view n) {
  return n == "__error__" || n == "__error_details__" || n == "__preserve_error__";
}
}  // namespace

void EntryFields::Add(const std::string& name, const std::string& value) {
  for (auto& [n, vals] : fields) {
    if (n == name) {
      if (std::find(vals.begin(), vals.end(), value) == vals.end()) vals.push_back(value);
      return;
    }
  }
  fields.push_back({name, {value}});
}

EntryParser::EntryParser() {
  logql::PipelineStage json;
  json.kind = logql::PipelineStage::Kind::kJson;
  json_ = std::move(*logql::NewLineParser(json));
  logql::PipelineStage logfmt;
  logfmt.kind = logql::PipelineStage::Kind::kLogfmt;
  logfmt_ = std::move(*logql::NewLineParser(logfmt));
}

EntryParser::~EntryParser() = default;

EntryFields EntryParser::Parse(const Labels& stream, const ResultEntry& e) {
  EntryFields out;
  for (const auto& [n, v] : e.parsed) {
    if (!IsErrorLabel(n)) out.Add(n, v);
  }
  CollectSink sink(stream);
  if (!json_->Parse(e.line, &sink)) {
    out.parser = "json";
    out.json_paths = JsonPaths(e.line).Walk();
  } else {
    sink.Reset();
    if (logfmt_->Parse(e.line, &sink)) return out;  // neither: the query's labels only
    out.parser = "logfmt";
  }
  for (const auto& [n, v] : sink.out()) {
    if (!IsErrorLabel(n)) out.Add(n, v);
  }
  return out;
}

const char* FieldType(std::string_view v) { return FieldTypeOf(v); }
std::string ValueForQuery(std::string_view v) { return QueryValueOf(v); }

}  // namespace internal

using internal::EntryFields;
using internal::EntryParser;

StatusOr<std::vector<DetectedLabel>> QueryApi::DetectedLabels(std::string_view tenant,
                                                              std::string_view query, int64_t start,
                                                              int64_t end) {
  std::vector<Matcher> matchers;
  if (!query.empty()) {
    SKALD_ASSIGN_OR_RETURN(auto expr, logql::ParseExpr(query));
    const logql::LogSelector* sel = logql::AsLogSelector(*expr);
    if (sel == nullptr || !sel->line_filters.empty() || !sel->stages.empty()) {
      return Status::InvalidArgument("only label matchers are supported");
    }
    matchers = sel->matchers;
  }
  if (!ClampToLookback(tenant, &start, end)) return std::vector<DetectedLabel>{};
  SKALD_RETURN_IF_ERROR(CheckQueryLength(tenant, start, end));
  std::vector<std::vector<Matcher>> sets;
  if (!matchers.empty()) sets.push_back(std::move(matchers));
  SKALD_ASSIGN_OR_RETURN(auto series, querier_->Series(tenant, sets, start, end));
  std::map<std::string, std::set<std::string>> values;
  for (const Labels& ls : series) {
    for (const auto& l : ls) values[l.name].insert(l.value);
  }
  static const std::set<std::string_view> kStatic = {"cluster", "namespace", "instance", "pod"};
  std::vector<DetectedLabel> out;
  for (const auto& [name, vals] : values) {
    if (!kStatic.contains(name) && RejectLabel(vals)) continue;
    out.push_back({name, vals.size()});
  }
  return out;
}

StatusOr<DetectedFieldsResult> QueryApi::DetectedFields(std::string_view tenant,
                                                        const DetectedFieldsQuery& q) {
  SKALD_ASSIGN_OR_RETURN(auto expr, logql::ParseExpr(q.range.query));
  if (logql::AsLogSelector(*expr) == nullptr) {
    return Status::InvalidArgument("only log selector is supported");
  }
  RangeQuery rq = q.range;
  rq.forward = false;
  rq.interval_ns = 0;
  SKALD_ASSIGN_OR_RETURN(auto logs, Range(tenant, rq));

  DetectedFieldsResult out;
  EntryParser parser;
  if (q.values_of.has_value()) {
    const std::string& name = *q.values_of;
    std::unordered_set<std::string> seen;
    auto add = [&](std::string v) {
      if (seen.insert(v).second) out.values.push_back(std::move(v));
    };
    for (const ResultStream& s : logs.streams) {
      for (const ResultEntry& e : s.entries) {
        if (out.values.size() >= q.field_limit) break;
        for (const auto& [n, v] : e.metadata) {
          if (n == name) add(v);
        }
        EntryFields f = parser.Parse(s.labels, e);
        for (const auto& [n, vals] : f.fields) {
          if (n != name) continue;
          for (const std::string& v : vals) add(QueryValueOf(v));
        }
      }
    }
    return out;
  }

  std::unordered_map<std::string, size_t> index;  // name -> position in out.fields
  std::vector<std::unordered_set<std::string>> distinct;
  auto field = [&](const std::string& name) -> DetectedField* {
    auto it = index.find(name);
    if (it != index.end()) return &out.fields[it->second];
    if (out.fields.size() >= q.field_limit) return nullptr;
    index.emplace(name, out.fields.size());
    out.fields.push_back({name, "string", 0, {}, {}});
    distinct.emplace_back();
    return &out.fields.back();
  };
  for (const ResultStream& s : logs.streams) {
    for (const ResultEntry& e : s.entries) {
      // Structured metadata: no parser.
      std::vector<std::pair<std::string, std::vector<std::string>>> md;
      for (const auto& pair : e.metadata) {
        const std::string& n = pair.first;
        const std::string& v = pair.second;
        auto it = std::find_if(md.begin(), md.end(), [&](const auto& p) { return p.first == n; });
        if (it == md.end()) {
          md.push_back({n, {v}});
        } else if (std::find(it->second.begin(), it->second.end(), v) == it->second.end()) {
          it->second.push_back(v);
        }
      }
      for (const auto& [n, vals] : md) {
        DetectedField* f = field(n);
        if (f == nullptr) continue;
        f->type = FieldTypeOf(vals.front());
        for (const auto& v : vals) distinct[f - out.fields.data()].insert(v);
      }
      EntryFields parsed = parser.Parse(s.labels, e);
      for (const auto& [n, vals] : parsed.fields) {
        DetectedField* f = field(n);
        if (f == nullptr) continue;
        if (!parsed.parser.empty() &&
            std::find(f->parsers.begin(), f->parsers.end(), parsed.parser) == f->parsers.end()) {
          f->parsers.push_back(parsed.parser);
        }
        if (parsed.parser == "json") {
          auto p = parsed.json_paths.find(n);
          f->json_path = p == parsed.json_paths.end() ? std::vector<std::string>{} : p->second;
        }
        f->type = FieldTypeOf(vals.front());
        for (const auto& v : vals) distinct[f - out.fields.data()].insert(v);
      }
    }
  }
  for (size_t i = 0; i < out.fields.size(); i++) out.fields[i].cardinality = distinct[i].size();
  return out;
}

}  // namespace skald::querier
