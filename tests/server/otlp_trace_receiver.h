// A stand-in OTLP/HTTP trace receiver for tests: an in-test HTTP server on 127.0.0.1 that
// records every POST /v1/traces body (OTLP JSON) and can answer the first few with an error.
// No OpenTelemetry Collector or Jaeger is installable here (no Debian package), so the tests
// check the wire format against the OTLP JSON mapping themselves (ParseSpans).
#pragma once

#include <simdjson.h>

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "server/http_server.h"

namespace skald::testing {

struct ReceivedSpan {
  std::string trace_id, span_id, parent_span_id, name;
  int64_t kind = 0;
  std::string start, end;  // startTimeUnixNano / endTimeUnixNano (decimal strings)
  std::map<std::string, std::string> attributes;  // string values; ints as their decimal text
  std::map<std::string, std::string> resource;
  int64_t status_code = 0;
};

// Every span of an OTLP JSON ExportTraceServiceRequest; a malformed body adds a span named
// "<unparsable>".
inline std::vector<ReceivedSpan> ParseSpans(const std::string& body) {
  std::vector<ReceivedSpan> out;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  auto fail = [&] {
    out.push_back(ReceivedSpan{});
    out.back().name = "<unparsable>";
    return out;
  };
  if (parser.parse(body).get(doc) != simdjson::SUCCESS) return fail();
  simdjson::dom::array resource_spans;
  if (doc["resourceSpans"].get_array().get(resource_spans) != simdjson::SUCCESS) return fail();
  auto attributes = [](simdjson::dom::element list, std::map<std::string, std::string>* into) {
    simdjson::dom::array arr;
    if (list.get_array().get(arr) != simdjson::SUCCESS) return;
    for (simdjson::dom::element kv : arr) {
      std::string_view key, s;
      if (kv["key"].get_string().get(key) != simdjson::SUCCESS) continue;
      simdjson::dom::element value = kv["value"];
      if (value["stringValue"].get_string().get(s) == simdjson::SUCCESS) {
        (*into)[std::string(key)] = std::string(s);
      } else if (value["intValue"].get_string().get(s) == simdjson::SUCCESS) {
        (*into)[std::string(key)] = std::string(s);
      }
    }
  };
  for (simdjson::dom::element rs : resource_spans) {
    std::map<std::string, std::string> resource;
    attributes(rs["resource"]["attributes"], &resource);
    simdjson::dom::array scopes;
    if (rs["scopeSpans"].get_array().get(scopes) != simdjson::SUCCESS) return fail();
    for (simdjson::dom::element scope : scopes) {
      simdjson::dom::array spans;
      if (scope["spans"].get_array().get(spans) != simdjson::SUCCESS) return fail();
      for (simdjson::dom::element s : spans) {
        ReceivedSpan r;
        std::string_view v;
        if (s["traceId"].get_string().get(v) == simdjson::SUCCESS) r.trace_id = v;
        if (s["spanId"].get_string().get(v) == simdjson::SUCCESS) r.span_id = v;
        if (s["parentSpanId"].get_string().get(v) == simdjson::SUCCESS) r.parent_span_id = v;
        if (s["name"].get_string().get(v) == simdjson::SUCCESS) r.name = v;
        if (s["startTimeUnixNano"].get_string().get(v) == simdjson::SUCCESS) r.start = v;
        if (s["endTimeUnixNano"].get_string().get(v) == simdjson::SUCCESS) r.end = v;
        if (s["kind"].get_int64().get(r.kind) != simdjson::SUCCESS) r.kind = -1;
        if (s["status"]["code"].get_int64().get(r.status_code) != simdjson::SUCCESS) {
          r.status_code = 0;  // UNSET: the field is left out
        }
        attributes(s["attributes"], &r.attributes);
        r.resource = resource;
        out.push_back(std::move(r));
      }
    }
  }
  return out;
}

class OtlpTraceReceiver {
 public:
  OtlpTraceReceiver() {
    server::HttpServerOptions o;
    o.address = "127.0.0.1";
    o.port = 0;
    o.threads = 1;
    server_ = std::make_unique<server::HttpServer>(o);
    server_->Route({"POST"}, "/v1/traces",
                   [this](const server::HttpRequest& req, server::HttpResponse* resp) {
                     std::lock_guard<std::mutex> lock(mu_);
                     content_types_.emplace_back(req.Header("Content-Type"));
                     requests_++;
                     if (fail_next_ > 0) {
                       fail_next_--;
                       resp->SetText(fail_status_, "unavailable");
                       return;
                     }
                     bodies_.push_back(req.body);
                     resp->body = "{}";
                   });
  }

  Status Start() { return server_->Start(); }
  int port() const { return server_->port(); }
  std::string Endpoint() const { return "http://127.0.0.1:" + std::to_string(port()); }

  // Answers the next n requests with `status` (their spans are not recorded).
  void FailNext(int n, int status) {
    std::lock_guard<std::mutex> lock(mu_);
    fail_next_ = n;
    fail_status_ = status;
  }

  int requests() const {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }
  std::vector<std::string> content_types() const {
    std::lock_guard<std::mutex> lock(mu_);
    return content_types_;
  }
  // Every span received so far (accepted requests only).
  std::vector<ReceivedSpan> Spans() const {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<ReceivedSpan> all;
    for (const std::string& b : bodies_) {
      for (auto& s : ParseSpans(b)) all.push_back(std::move(s));
    }
    return all;
  }

 private:
  std::unique_ptr<server::HttpServer> server_;
  mutable std::mutex mu_;
  std::vector<std::string> bodies_;
  std::vector<std::string> content_types_;
  int requests_ = 0;
  int fail_next_ = 0;
  int fail_status_ = 503;
};

}  // namespace skald::testing
