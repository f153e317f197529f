// LogQL conformance: every case in testdata/logql/conformance/cases.jsonl runs against an
// in-process Skald holding the fixed dataset (testdata/logql/conformance/dataset.json) and
// must give the stored answer: streams, matrix, vector, scalar, format_query's canonical
// text, or the exact status and error text.
//
// Where the answers come from: scripts/logql-conformance.py pushed the same dataset into a
// real Grafana Loki (v3.7, built with ../shared/tools/anchors/, never a test dependency)
// and stored what Loki answered, normalized (times relative to the dataset's base, series
// sorted by labels). A case with a "note" is one where Skald deliberately answers
// differently; the note says why and the stored answer is Skald's. A case with a
// "divergence" keeps Loki's answer but is a known difference not fixed yet (the text says
// what differs); it must keep differing, so a fix cannot go unnoticed.
//
// Times: the dataset and the cases are relative to the start of the previous hour (the
// recorder's rule: recent enough for Loki's ingesters to answer, never in the future); every
// step of the cases divides an hour, so answers do not depend on when the test runs.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "core/json_escape.h"
#include "core/time.h"
#include "tests/testing/in_process_skald.h"
#include "tests/testing/temp_dir.h"

namespace skald::server {
namespace {

namespace dom = simdjson::dom;

constexpr int64_t kNs = 1'000'000'000;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Dir() { return std::string(SKALD_SOURCE_DIR) + "/testdata/logql/conformance/"; }

int64_t BaseSeconds() {
  const int64_t now = NowNanos() / kNs;
  return (now / 3600) * 3600 - 3600;
}

std::string Str(dom::element e) {
  if (e.is_string()) return std::string(std::string_view(e.get_string().value()));
  if (e.is_int64()) return std::to_string(int64_t(e.get_int64().value()));
  if (e.is_uint64()) return std::to_string(uint64_t(e.get_uint64().value()));
  if (e.is_double()) {
    std::ostringstream os;
    os.precision(17);
    os << double(e.get_double().value());
    return os.str();
  }
  return simdjson::to_string(e);
}

std::string Quoted(std::string_view s) {
  std::string out;
  AppendJsonString(&out, s);
  return out;
}

// {a="x", b="y"} with names sorted; values JSON-quoted so any byte is visible.
std::string LabelsText(dom::object labels) {
  std::vector<std::pair<std::string, std::string>> kv;
  for (auto field : labels) {
    kv.emplace_back(std::string(field.key), Str(field.value));
  }
  std::sort(kv.begin(), kv.end());
  std::string out = "{";
  for (size_t i = 0; i < kv.size(); i++) {
    if (i > 0) out += ", ";
    out += kv[i].first + "=" + Quoted(kv[i].second);
  }
  return out + "}";
}

// Relative milliseconds of a Prometheus-style float-seconds timestamp.
int64_t RelMs(dom::element ts, int64_t base) {
  double secs = ts.is_double() ? double(ts.get_double().value())
                               : static_cast<double>(int64_t(ts.get_int64().value()));
  return static_cast<int64_t>(std::llround(secs * 1000.0)) - base * 1000;
}

struct Sortable {
  std::string key;
  std::string text;
};

std::string Join(std::vector<Sortable> parts, bool sort) {
  if (sort) {
    std::stable_sort(parts.begin(), parts.end(),
                     [](const Sortable& a, const Sortable& b) { return a.key < b.key; });
  }
  std::string out;
  for (auto& p : parts) out += p.text;
  return out;
}

bool KeepsOrder(std::string_view query) {
  return query.find("sort(") != std::string_view::npos ||
         query.find("sort_desc(") != std::string_view::npos;
}

// The canonical text of a stored (already normalized) answer.
std::string CanonWant(dom::element want, std::string_view query) {
  const int64_t status = want["status"].get_int64().value();
  std::string out = "status " + std::to_string(status) + "\n";
  std::string_view type;
  if (want["type"].get(type) != simdjson::SUCCESS) {
    return out + Str(want["body"].value()) + "\n";
  }
  std::vector<Sortable> parts;
  if (type == "streams") {
    for (dom::element s : want["streams"].get_array()) {
      Sortable p{LabelsText(s["labels"].get_object()), ""};
      p.text = "stream " + p.key + "\n";
      for (dom::element e : s["entries"].get_array()) {
        dom::array a = e.get_array();
        p.text += "  " + Str(a.at(0).value()) + " " + Quoted(Str(a.at(1).value())) + "\n";
      }
      parts.push_back(std::move(p));
    }
    return out + "streams\n" + Join(std::move(parts), true);
  }
  if (type == "matrix") {
    for (dom::element s : want["series"].get_array()) {
      Sortable p{LabelsText(s["labels"].get_object()), ""};
      p.text = "series " + p.key + "\n";
      for (dom::element v : s["values"].get_array()) {
        dom::array a = v.get_array();
        p.text += "  " + Str(a.at(0).value()) + " " + Str(a.at(1).value()) + "\n";
      }
      parts.push_back(std::move(p));
    }
    return out + "matrix\n" + Join(std::move(parts), true);
  }
  if (type == "vector") {
    for (dom::element s : want["samples"].get_array()) {
      dom::array a = s["value"].get_array();
      Sortable p{LabelsText(s["labels"].get_object()), ""};
      p.text = "sample " + p.key + " " + Str(a.at(0).value()) + " " + Str(a.at(1).value()) + "\n";
      parts.push_back(std::move(p));
    }
    return out + "vector\n" + Join(std::move(parts), !KeepsOrder(query));
  }
  dom::array a = want["value"].get_array();
  return out + "scalar " + Str(a.at(0).value()) + " " + Str(a.at(1).value()) + "\n";
}

// The canonical text of a live Loki-API answer, normalized exactly as the recorder did.
std::string CanonGot(int status, const std::string& body, std::string_view kind,
                     std::string_view query, int64_t base, dom::parser* parser) {
  std::string out = "status " + std::to_string(status) + "\n";
  if (status != 200) {
    std::string b = body;
    while (!b.empty() && b.back() == '\n') b.pop_back();
    return out + b + "\n";
  }
  dom::element doc;
  if (parser->parse(body).get(doc) != simdjson::SUCCESS) return out + "unparsable: " + body;
  if (kind == "format") return out + Str(doc["data"].value()) + "\n";
  dom::element data = doc["data"].value();
  std::string_view type = data["resultType"].get_string().value();
  dom::element result = data["result"].value();
  std::vector<Sortable> parts;
  if (type == "streams") {
    for (dom::element s : result.get_array()) {
      Sortable p{LabelsText(s["stream"].get_object()), ""};
      p.text = "stream " + p.key + "\n";
      for (dom::element e : s["values"].get_array()) {
        dom::array a = e.get_array();
        const int64_t ts = std::stoll(Str(a.at(0).value())) - base * kNs;
        p.text += "  " + std::to_string(ts) + " " + Quoted(Str(a.at(1).value())) + "\n";
      }
      parts.push_back(std::move(p));
    }
    return out + "streams\n" + Join(std::move(parts), true);
  }
  if (type == "matrix") {
    for (dom::element s : result.get_array()) {
      Sortable p{LabelsText(s["metric"].get_object()), ""};
      p.text = "series " + p.key + "\n";
      for (dom::element v : s["values"].get_array()) {
        dom::array a = v.get_array();
        p.text +=
            "  " + std::to_string(RelMs(a.at(0).value(), base)) + " " + Str(a.at(1).value()) + "\n";
      }
      parts.push_back(std::move(p));
    }
    return out + "matrix\n" + Join(std::move(parts), true);
  }
  if (type == "vector") {
    for (dom::element s : result.get_array()) {
      dom::array a = s["value"].get_array();
      Sortable p{LabelsText(s["metric"].get_object()), ""};
      p.text = "sample " + p.key + " " + std::to_string(RelMs(a.at(0).value(), base)) + " " +
               Str(a.at(1).value()) + "\n";
      parts.push_back(std::move(p));
    }
    return out + "vector\n" + Join(std::move(parts), !KeepsOrder(query));
  }
  dom::array a = result.get_array();
  return out + "scalar " + std::to_string(RelMs(a.at(0).value(), base)) + " " +
         Str(a.at(1).value()) + "\n";
}

std::string UrlEncode(std::string_view s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

// The dataset as a push body with absolute timestamps.
std::string PushBody(const std::string& dataset, int64_t base, dom::parser* parser) {
  dom::element doc = parser->parse(dataset).value();
  std::string out = R"({"streams":[)";
  bool first_stream = true;
  for (dom::element s : doc["streams"].get_array()) {
    if (!first_stream) out += ",";
    first_stream = false;
    out += R"({"stream":)" + simdjson::to_string(s["stream"].value()) + R"(,"values":[)";
    bool first = true;
    for (dom::element v : s["values"].get_array()) {
      dom::array a = v.get_array();
      if (!first) out += ",";
      first = false;
      const int64_t ts = std::stoll(Str(a.at(0).value())) + base * kNs;
      out += "[\"";
      out += std::to_string(ts);
      out += "\",";
      out += simdjson::to_string(a.at(1).value());
      if (a.size() > 2) {
        out += ",";
        out += simdjson::to_string(a.at(2).value());
      }
      out += "]";
    }
    out += "]}";
  }
  return out + "]}";
}

std::string Target(dom::element c, int64_t base) {
  std::string_view kind = c["kind"].get_string().value();
  std::string q = "query=" + UrlEncode(std::string_view(c["query"].get_string().value()));
  if (kind == "format") return "/loki/api/v1/format_query?" + q;
  auto add_int = [&](const char* key, const char* param, bool seconds) {
    int64_t v;
    if (c[key].get_int64().get(v) != simdjson::SUCCESS) return;
    q += std::string("&") + param + "=" + std::to_string(seconds ? (base + v) * kNs : v);
  };
  std::string_view dir;
  if (c["direction"].get_string().get(dir) == simdjson::SUCCESS) {
    q += "&direction=" + std::string(dir);
  }
  add_int("limit", "limit", false);
  if (kind == "range") {
    add_int("start", "start", true);
    add_int("end", "end", true);
    add_int("step", "step", false);
    return "/loki/api/v1/query_range?" + q;
  }
  add_int("time", "time", true);
  return "/loki/api/v1/query?" + q;
}

TEST(LogqlConformanceTest, EveryCaseGivesLokisAnswer) {
  skald::testing::TempDir dir("logql-conformance");
  // The recording Loki ran with service-name and log-level discovery off (no service_name label
  // and no detected_level metadata added at ingest); so does this Skald.
  skald::testing::InProcessSkald skald(
      dir.path(), {"-validation.discover-service-name=", "-validation.discover-log-levels=false"});
  ASSERT_TRUE(skald.Start().ok());
  const int64_t base = BaseSeconds();
  dom::parser parser;
  const std::string body = PushBody(ReadFile(Dir() + "dataset.json"), base, &parser);
  auto pushed =
      skald.Call("POST", "/loki/api/v1/push", {{"Content-Type", "application/json"}}, body);
  ASSERT_TRUE(pushed.ok());
  ASSERT_EQ(pushed->status, 204) << pushed->body;

  std::istringstream cases(ReadFile(Dir() + "cases.jsonl"));
  std::string line;
  struct Counts {
    int loki = 0;   // Loki's answer
    int noted = 0;  // Skald's deliberate answer (a "note")
    int total = 0;
  };
  std::map<std::string, Counts> per_group;
  int total = 0;
  int divergences = 0;  // cases marked as known differences from Loki
  dom::parser case_parser;
  dom::parser response_parser;
  while (std::getline(cases, line)) {
    if (line.empty()) continue;
    dom::element c;
    ASSERT_EQ(case_parser.parse(line).get(c), simdjson::SUCCESS) << line;
    const std::string id(std::string_view(c["id"].get_string().value()));
    const std::string group(std::string_view(c["group"].get_string().value()));
    const std::string query(std::string_view(c["query"].get_string().value()));
    const std::string kind(std::string_view(c["kind"].get_string().value()));
    total++;
    dom::element want;
    ASSERT_EQ(c["want"].get(want), simdjson::SUCCESS) << "case " << id << " has no answer";
    const std::string want_text = CanonWant(want, query);
    auto r = skald.Call("GET", Target(c, base));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    const std::string got_text = CanonGot(r->status, r->body, kind, query, base, &response_parser);
    auto& g = per_group[group];
    g.total++;
    std::string_view note;
    const bool noted = c["note"].get_string().get(note) == simdjson::SUCCESS;
    std::string_view divergence;
    if (c["divergence"].get_string().get(divergence) == simdjson::SUCCESS) {
      // A known, explained difference from Loki's answer (stored as `want`). It must still
      // differ: once Skald gives Loki's answer, the mark has to go, so fixes are not lost.
      divergences++;
      EXPECT_TRUE(got_text != want_text) << "case " << id << " [" << group << "] " << query
                                         << " now gives Loki's answer: remove its divergence";
      continue;
    }
    if (got_text == want_text) {
      (noted ? g.noted : g.loki)++;
    } else {
      ADD_FAILURE() << "case " << id << " [" << group << "] " << kind << ": " << query
                    << "\n--- want\n"
                    << want_text << "--- got\n"
                    << got_text;
    }
  }
  EXPECT_GE(total, 500);
  std::printf("%-28s %s\n", "group", "Loki's answer + deliberately different (note) / cases");
  int loki = 0, noted = 0;
  for (const auto& [group, counts] : per_group) {
    std::printf("%-28s %4d + %2d / %4d\n", group.c_str(), counts.loki, counts.noted, counts.total);
    loki += counts.loki;
    noted += counts.noted;
  }
  std::printf(
      "%d of %d cases give Loki's answer, %d differ deliberately (see their \"note\"), %d are "
      "known differences (see their \"divergence\")\n",
      loki, total, noted, divergences);
}

}  // namespace
}  // namespace skald::server
