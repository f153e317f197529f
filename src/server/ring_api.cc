#include "server/ring_api.h"

#include <ctime>
#include <filesystem>
#include <fstream>

#include "core/json_escape.h"
#include "core/logging.h"
#include "core/markup_escape.h"
#include "core/time.h"
#include "ring/lifecycler.h"
#include "server/query_params.h"

namespace skald::server {

namespace {

// RFC 3339 in UTC, seconds precision ("" for 0).
std::string Rfc3339(int64_t ns) {
  if (ns <= 0) return "";
  const std::time_t t = static_cast<std::time_t>(ns / kNanosPerSecond);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// "ACTIVE", or "UNHEALTHY" when the heartbeat is stale (the page's wording).
std::string_view Shown(const ring::InstanceDesc& d, int64_t now_ns, int64_t timeout_ns) {
  if (timeout_ns > 0 && now_ns - d.heartbeat_ns > timeout_ns) return "UNHEALTHY";
  return ring::StateName(d.state);
}

}  // namespace

std::string RingPageHtml(const ring::Ring& r, int64_t now_ns, int64_t heartbeat_timeout_ns) {
  const std::vector<double> owned = r.Ownership();
  std::string out =
      "<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"UTF-8\">\n<title>Ingester Ring "
      "Status</title>\n</head>\n<body>\n<h1>Ingester Ring Status</h1>\n<p>Current time: " +
      Rfc3339(now_ns) +
      "</p>\n<form action=\"\" method=\"POST\">\n<table border=\"1\">\n<thead><tr>"
      "<th>Instance ID</th><th>Availability Zone</th><th>State</th><th>Address</th>"
      "<th>Registered At</th><th>Last Heartbeat</th><th>Tokens</th><th>Ownership</th>"
      "<th>Actions</th></tr></thead>\n<tbody>\n";
  for (size_t i = 0; i < r.instances().size(); i++) {
    const ring::InstanceDesc& d = r.instances()[i];
    auto cell = [&out](std::string_view v) {
      out += "<td>";
      AppendXmlEscaped(&out, v);
      out += "</td>";
    };
    out += "<tr>";
    cell(d.id);
    cell(d.zone);
    cell(Shown(d, now_ns, heartbeat_timeout_ns));
    cell(d.addr);
    cell(Rfc3339(d.registered_ns));
    cell(d.heartbeat_ns > 0
             ? FormatGoDuration((now_ns - d.heartbeat_ns) / kNanosPerSecond * kNanosPerSecond) +
                   " ago (" + Rfc3339(d.heartbeat_ns) + ")"
             : "");
    cell(std::to_string(d.tokens.size()));
    char pct[32];
    std::snprintf(pct, sizeof pct, "%.1f%%", 100 * owned[i]);
    cell(pct);
    out += "<td><button name=\"forget\" value=\"";
    AppendXmlEscaped(&out, d.id);
    out += "\" type=\"submit\">Forget</button></td></tr>\n";
  }
  out += "</tbody>\n</table>\n</form>\n</body>\n</html>\n";
  return out;
}

std::string RingJson(const ring::Ring& r, int64_t now_ns, int64_t heartbeat_timeout_ns) {
  const std::vector<double> owned = r.Ownership();
  std::string out = "{\"shards\":[";
  for (size_t i = 0; i < r.instances().size(); i++) {
    const ring::InstanceDesc& d = r.instances()[i];
    if (i > 0) out.push_back(',');
    out += "{\"id\":";
    AppendJsonString(&out, d.id);
    out += ",\"state\":";
    AppendJsonString(&out, Shown(d, now_ns, heartbeat_timeout_ns));
    out += ",\"address\":";
    AppendJsonString(&out, d.addr);
    out += ",\"zone\":";
    AppendJsonString(&out, d.zone);
    out += ",\"registered_timestamp\":\"" + Rfc3339(d.registered_ns) + "\"";
    out += ",\"timestamp\":\"" + Rfc3339(d.heartbeat_ns) + "\"";
    out += ",\"tokens\":" + std::to_string(d.tokens.size());
    char pct[32];
    std::snprintf(pct, sizeof pct, "%.6g", owned[i]);
    out += ",\"ownership\":";
    out += pct;
    out += "}";
  }
  out += "],\"now\":\"" + Rfc3339(now_ns) + "\"}";
  return out;
}

void RegisterRingApi(HttpServer* http, const RingApiDeps& deps) {
  auto page = [deps](const HttpRequest& req, HttpResponse* resp) {
    if (req.method == "POST") {
      auto params = Params::FromRequest(req);
      if (!params.ok()) return resp->SetText(400, params.status().message());
      std::string id(params->Get("forget"));
      if (!id.empty()) {
        Status st = ring::Forget(deps.kv, deps.prefix, id);
        if (!st.ok()) return resp->SetText(500, st.message());
        log::Info("forgot instance from the ring", {{"instance", id}});
      }
    }
    auto r = ring::ReadRing(deps.kv, deps.prefix, deps.heartbeat_timeout_ns);
    if (!r.ok()) return resp->SetText(500, r.status().message());
    const int64_t now = NowNanos();
    if (req.Header("Accept").find("application/json") != std::string_view::npos) {
      resp->status = 200;
      resp->body = RingJson(*r, now, deps.heartbeat_timeout_ns);
      return;
    }
    resp->status = 200;
    resp->content_type = "text/html; charset=utf-8";
    resp->body = RingPageHtml(*r, now, deps.heartbeat_timeout_ns);
  };
  http->Route({"GET", "POST"}, "/ring", page);
  http->Route({"GET", "POST"}, "/ingester/ring", page);

  http->Route({"GET", "POST"}, "/ingester/shutdown",
              [deps](const HttpRequest& req, HttpResponse* resp) {
                auto params = Params::FromRequest(req);
                if (!params.ok()) return resp->SetText(400, params.status().message());
                Status st = deps.flush_and_leave();
                if (!st.ok()) return resp->SetText(500, "flush and leave failed: " + st.message());
                if (params->Get("terminate") != "false" && deps.request_stop) deps.request_stop();
                resp->status = 204;
                resp->content_type.clear();
              });

  http->Route({"GET", "POST", "DELETE"}, "/ingester/prepare_shutdown",
              [deps](const HttpRequest& req, HttpResponse* resp) {
                const std::string& path = deps.shutdown_marker_path;
                if (req.method == "GET") {
                  return resp->SetText(200, std::filesystem::exists(path) ? "set" : "unset");
                }
                std::error_code ec;
                if (req.method == "POST") {
                  std::filesystem::create_directories(std::filesystem::path(path).parent_path(),
                                                      ec);
                  std::ofstream(path) << NowNanos() << "\n";
                  if (!std::filesystem::exists(path)) {
                    return resp->SetText(500, "could not write the shutdown marker " + path);
                  }
                } else {
                  std::filesystem::remove(path, ec);
                }
                resp->status = 204;
                resp->content_type.clear();
              });
}

}  // namespace skald::server
