#include "frontend/merge.h"

#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>
#include <memory>

#include "core/json_escape.h"
#include "wire/query_response.h"

namespace skald::frontend {

namespace {

using simdjson::dom::element;
using simdjson::dom::object;

// Writes `e` as JSON with the response's own string escaping (the one encoder for every
// string of merged statistics, so merging an answer again gives it back unchanged).
void AppendJsonValue(const element& e, std::string* out) {
  if (e.is_object()) {
    *out += '{';
    bool first = true;
    const object o = e.get_object().value_unsafe();
    for (auto [k, v] : o) {
      if (!first) *out += ',';
      first = false;
      AppendJsonString(out, k);
      *out += ':';
      AppendJsonValue(v, out);
    }
    *out += '}';
  } else if (e.is_array()) {
    *out += '[';
    bool first = true;
    const simdjson::dom::array a = e.get_array().value_unsafe();
    for (element v : a) {
      if (!first) *out += ',';
      first = false;
      AppendJsonValue(v, out);
    }
    *out += ']';
  } else if (e.is_string()) {
    AppendJsonString(out, e.get_string().value_unsafe());
  } else {
    *out += simdjson::minify(e);  // numbers, booleans, null
  }
}

// Adds `b` into the merged copy of `a`, written to *out: objects key by key (keys of either),
// numbers added, anything else taken from `a`.
void MergeStats(const element* a, const element* b, std::string* out) {
  if (a == nullptr && b == nullptr) {
    *out += "{}";
    return;
  }
  if (a == nullptr || b == nullptr) {
    AppendJsonValue(a != nullptr ? *a : *b, out);
    return;
  }
  if (a->is_object() && b->is_object()) {
    const object oa = a->get_object().value_unsafe();
    const object ob = b->get_object().value_unsafe();
    *out += '{';
    bool first = true;
    for (auto [k, va] : oa) {
      if (!first) *out += ',';
      first = false;
      AppendJsonString(out, k);
      *out += ':';
      element vb;
      if (ob[k].get(vb) == simdjson::SUCCESS) {
        MergeStats(&va, &vb, out);
      } else {
        MergeStats(&va, nullptr, out);
      }
    }
    for (auto [k, vb] : ob) {
      element va;
      if (oa[k].get(va) == simdjson::SUCCESS) continue;
      if (!first) *out += ',';
      first = false;
      AppendJsonString(out, k);
      *out += ':';
      AppendJsonValue(vb, out);
    }
    *out += '}';
    return;
  }
  if (a->is_int64() && b->is_int64()) {
    *out += std::to_string(a->get_int64().value_unsafe() + b->get_int64().value_unsafe());
    return;
  }
  if (a->is_number() && b->is_number()) {
    const double s = a->get_double().value_unsafe() + b->get_double().value_unsafe();
    char buf[32];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, s);
    out->append(buf, end);
    return;
  }
  AppendJsonValue(*a, out);
}

// The parsed bodies, each with its own parser (elements point into it).
struct Parsed {
  std::unique_ptr<simdjson::dom::parser> parser;
  element data;
  element result;
  bool has_stats = false;
  element stats;
};

StatusOr<std::vector<Parsed>> ParseAll(const std::vector<std::string_view>& bodies,
                                       std::string_view want_type) {
  std::vector<Parsed> out;
  out.reserve(bodies.size());
  for (std::string_view body : bodies) {
    Parsed& p = out.emplace_back();
    p.parser = std::make_unique<simdjson::dom::parser>();
    element root;
    if (p.parser->parse(body.data(), body.size()).get(root) != simdjson::SUCCESS) {
      return Status::InvalidArgument("subquery answer is not JSON");
    }
    std::string_view status, type;
    if (root["status"].get(status) != simdjson::SUCCESS || status != "success" ||
        root["data"].get(p.data) != simdjson::SUCCESS ||
        p.data["resultType"].get(type) != simdjson::SUCCESS ||
        p.data["result"].get(p.result) != simdjson::SUCCESS || !p.result.is_array()) {
      return Status::InvalidArgument("subquery answer is not a successful query response");
    }
    if (type != want_type) {
      return Status::InvalidArgument("subquery answered " + std::string(type) + ", not " +
                                     std::string(want_type));
    }
    p.has_stats = p.data["stats"].get(p.stats) == simdjson::SUCCESS;
  }
  return out;
}

void AppendMergedStats(const std::vector<Parsed>& parsed, std::string* out) {
  // Fold left: stats(0) + stats(1) + ...
  std::string acc;
  std::unique_ptr<simdjson::dom::parser> acc_parser;
  element acc_el;
  bool have = false;
  for (const Parsed& p : parsed) {
    if (!p.has_stats) continue;
    if (!have) {
      MergeStats(&p.stats, nullptr, &acc);
      have = true;
    } else {
      std::string next;
      MergeStats(&acc_el, &p.stats, &next);
      acc = std::move(next);
    }
    acc_parser = std::make_unique<simdjson::dom::parser>();
    if (acc_parser->parse(acc).get(acc_el) != simdjson::SUCCESS) break;  // cannot happen
  }
  *out += have ? acc : "{}";
}

// A series' or stream's labels as a canonical key and as JSON.
std::string LabelsKey(const element& labels, std::string* json) {
  std::vector<std::pair<std::string_view, std::string_view>> pairs;
  object o;
  if (labels.get(o) == simdjson::SUCCESS) {
    for (auto [k, v] : o) {
      std::string_view s;
      if (v.get(s) == simdjson::SUCCESS) pairs.emplace_back(k, s);
    }
  }
  std::sort(pairs.begin(), pairs.end());
  std::string key;
  *json = "{";
  for (size_t i = 0; i < pairs.size(); i++) {
    key.append(pairs[i].first).push_back('\x01');
    key.append(pairs[i].second).push_back('\x02');
    if (i > 0) *json += ',';
    AppendJsonString(json, pairs[i].first);
    *json += ':';
    AppendJsonString(json, pairs[i].second);
  }
  *json += '}';
  return key;
}

}  // namespace

StatusOr<std::string> MergeMatrices(const std::vector<std::string_view>& bodies, bool sum) {
  SKALD_ASSIGN_OR_RETURN(std::vector<Parsed> parsed, ParseAll(bodies, "matrix"));
  struct Sample {
    std::string ts;  // as written
    double value = 0;
    std::string text;  // as written (kept when not summing)
  };
  struct Series {
    std::string labels_json;
    std::map<int64_t, Sample> samples;  // by timestamp in ms
  };
  std::map<std::string, Series> series;
  for (const Parsed& p : parsed) {
    const simdjson::dom::array results = p.result.get_array().value_unsafe();
    for (element s : results) {
      element metric, values;
      if (s["metric"].get(metric) != simdjson::SUCCESS ||
          s["values"].get(values) != simdjson::SUCCESS || !values.is_array()) {
        return Status::InvalidArgument("subquery answer holds a malformed series");
      }
      std::string json;
      const std::string key = LabelsKey(metric, &json);
      Series& out = series[key];
      if (out.labels_json.empty()) out.labels_json = std::move(json);
      const simdjson::dom::array samples = values.get_array().value_unsafe();
      for (element pair : samples) {
        element ts_el, v_el;
        std::string_view v;
        if (pair.at(0).get(ts_el) != simdjson::SUCCESS ||
            pair.at(1).get(v_el) != simdjson::SUCCESS || v_el.get(v) != simdjson::SUCCESS ||
            !ts_el.is_number()) {
          return Status::InvalidArgument("subquery answer holds a malformed sample");
        }
        const double ts = ts_el.get_double().value_unsafe();
        const int64_t ms = std::llround(ts * 1000);
        double value = 0;
        if (sum) {
          if (v == "NaN") {
            value = std::nan("");
          } else if (v == "+Inf" || v == "Inf") {
            value = INFINITY;
          } else if (v == "-Inf") {
            value = -INFINITY;
          } else {
            value = std::strtod(std::string(v).c_str(), nullptr);
          }
        }
        auto [it, fresh] = out.samples.try_emplace(ms);
        if (fresh) {
          it->second.ts = simdjson::minify(ts_el);
          it->second.value = value;
          it->second.text = std::string(v);
        } else if (sum) {
          it->second.value += value;
        }
      }
    }
  }
  std::vector<const Series*> ordered;
  ordered.reserve(series.size());
  for (const auto& [k, s] : series) ordered.push_back(&s);
  std::sort(ordered.begin(), ordered.end(),
            [](const Series* a, const Series* b) { return a->labels_json < b->labels_json; });
  std::string out = R"({"status":"success","data":{"resultType":"matrix","result":[)";
  for (size_t i = 0; i < ordered.size(); i++) {
    if (i > 0) out += ',';
    out += R"({"metric":)";
    out += ordered[i]->labels_json;
    out += R"(,"values":[)";
    bool first = true;
    for (const auto& [ms, smp] : ordered[i]->samples) {
      if (!first) out += ',';
      first = false;
      out += '[';
      out += smp.ts;
      out += ",\"";
      if (sum) {
        wire::AppendSampleValue(&out, smp.value);
      } else {
        out += smp.text;
      }
      out += "\"]";
    }
    out += "]}";
  }
  out += R"(],"stats":)";
  AppendMergedStats(parsed, &out);
  out += "}}";
  return out;
}

StatusOr<std::string> MergeStreams(const std::vector<std::string_view>& bodies, uint32_t limit,
                                   bool forward) {
  SKALD_ASSIGN_OR_RETURN(std::vector<Parsed> parsed, ParseAll(bodies, "streams"));
  struct Entry {
    int64_t ts;
    uint32_t stream;
    uint32_t order;  // arrival order, for ties
    std::string json;
  };
  std::map<std::string, uint32_t> stream_index;
  std::vector<std::string> stream_json;
  std::vector<Entry> entries;
  std::string flags;  // encodingFlags, as the first body wrote them
  for (const Parsed& p : parsed) {
    element f;
    if (flags.empty() && p.data["encodingFlags"].get(f) == simdjson::SUCCESS) {
      AppendJsonValue(f, &flags);
    }
    const simdjson::dom::array results = p.result.get_array().value_unsafe();
    for (element s : results) {
      element labels, values;
      if (s["stream"].get(labels) != simdjson::SUCCESS ||
          s["values"].get(values) != simdjson::SUCCESS || !values.is_array()) {
        return Status::InvalidArgument("subquery answer holds a malformed stream");
      }
      std::string json;
      const std::string key = LabelsKey(labels, &json);
      auto [it, fresh] = stream_index.try_emplace(key, static_cast<uint32_t>(stream_json.size()));
      if (fresh) stream_json.push_back(std::move(json));
      const simdjson::dom::array list = values.get_array().value_unsafe();
      for (element e : list) {
        std::string_view ts;
        if (e.at(0).get(ts) != simdjson::SUCCESS) {
          return Status::InvalidArgument("subquery answer holds a malformed entry");
        }
        int64_t t = 0;
        std::from_chars(ts.data(), ts.data() + ts.size(), t);
        std::string json;
        AppendJsonValue(e, &json);  // Go's escaping, as the querier wrote it
        entries.push_back({t, it->second, static_cast<uint32_t>(entries.size()), std::move(json)});
      }
    }
  }
  std::stable_sort(entries.begin(), entries.end(), [forward](const Entry& a, const Entry& b) {
    return forward ? a.ts < b.ts : a.ts > b.ts;
  });
  if (entries.size() > limit) entries.resize(limit);
  std::vector<std::vector<const Entry*>> by_stream(stream_json.size());
  for (const Entry& e : entries) by_stream[e.stream].push_back(&e);
  std::vector<uint32_t> order;
  for (uint32_t i = 0; i < by_stream.size(); i++) {
    if (!by_stream[i].empty()) order.push_back(i);
  }
  std::sort(order.begin(), order.end(),
            [&](uint32_t a, uint32_t b) { return stream_json[a] < stream_json[b]; });
  std::string out = R"({"status":"success","data":{"resultType":"streams","result":[)";
  for (size_t i = 0; i < order.size(); i++) {
    if (i > 0) out += ',';
    out += R"({"stream":)";
    out += stream_json[order[i]];
    out += R"(,"values":[)";
    const auto& es = by_stream[order[i]];
    for (size_t j = 0; j < es.size(); j++) {
      if (j > 0) out += ',';
      out += es[j]->json;
    }
    out += "]}";
  }
  out += R"(],"stats":)";
  AppendMergedStats(parsed, &out);
  if (!flags.empty()) {
    out += R"(,"encodingFlags":)";
    out += flags;
  }
  out += "}}";
  return out;
}

}  // namespace skald::frontend
