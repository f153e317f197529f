// Loki's log deletion API: see compactor_api.h.
#include "server/compactor_api.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <utility>

#include "core/json_escape.h"
#include "core/logging.h"
#include "core/parse.h"
#include "core/time.h"
#include "server/loki_api.h"
#include "server/query_params.h"

namespace skald::server {
namespace {

// Go's http.Error: the text with a newline.
void TextError(int status, std::string_view msg, HttpResponse* resp) {
  resp->SetText(status, std::string(msg) + "\n");
}

// Loki's deletion parseTime: RFC3339, else exactly 10 characters read as unix seconds (a
// float, as util.ParseTime). Unix ms.
StatusOr<int64_t> ParseDeleteTime(std::string_view in) {
  auto t = ParseRFC3339(in);
  if (t.ok()) return *t / kNanosPerMilli;
  double secs = 0;
  if (in.size() != 10 || ParseGoFloat(in, &secs) != NumError::kNone || !std::isfinite(secs)) {
    return Status::InvalidArgument("not unix seconds");
  }
  double whole = 0;
  double frac = std::modf(secs, &whole);
  return static_cast<int64_t>(whole) * 1000 + static_cast<int64_t>(std::round(frac * 1000));
}

// model.Time's JSON: seconds, with the milliseconds as a fraction when there are any.
void AppendModelTime(std::string* out, int64_t ms) {
  const bool neg = ms < 0;
  const uint64_t abs = neg ? 0 - static_cast<uint64_t>(ms) : static_cast<uint64_t>(ms);
  if (neg) out->push_back('-');
  out->append(std::to_string(abs / 1000));
  uint64_t frac = abs % 1000;
  if (frac == 0) return;
  std::string f = std::to_string(frac);
  f.insert(0, 3 - f.size(), '0');
  while (!f.empty() && f.back() == '0') f.pop_back();
  out->push_back('.');
  out->append(f);
}

class CompactorApi {
 public:
  explicit CompactorApi(CompactorApiDeps d) : d_(std::move(d)) {}

  void Handle(const HttpRequest& req, HttpResponse* resp) {
    if (d_.deletes == nullptr) return TextError(400, "Retention is not enabled", resp);
    auto tenant = RequestTenant(req, d_.auth_enabled, d_.no_auth_tenant);
    if (!tenant.ok()) {
      if (tenant.status().code() == StatusCode::kUnauthenticated) {
        return TextError(401, "no org id", resp);
      }
      return TextError(400, tenant.status().message(), resp);
    }
    const std::string mode = d_.limits->For(*tenant)->deletion_mode;
    if (mode != "filter-only" && mode != "filter-and-delete") {
      if (mode != "disabled") {
        return TextError(400,
                         "unknown deletion mode: must be one of "
                         "disabled|filter-only|filter-and-delete",
                         resp);
      }
      return TextError(403, "deletion is not available for this tenant", resp);
    }
    Params params;
    Status ps = params.AddEncoded(req.query);
    if (!ps.ok()) return TextError(400, ps.message(), resp);
    if (req.method == "POST" || req.method == "PUT") return Add(*tenant, params, resp);
    if (req.method == "GET") return List(*tenant, params, resp);
    if (req.method == "DELETE") return Cancel(*tenant, params, resp);
    TextError(405, "Method Not Allowed", resp);
  }

 private:
  void Add(const std::string& tenant, const Params& params, HttpResponse* resp) {
    const std::string query(params.Get("query"));
    if (query.empty()) return TextError(400, "query not set", resp);
    compactor::DeleteRequest probe;
    probe.query = query;
    auto parsed = compactor::ParseDeleteRequest(std::move(probe));
    if (!parsed.ok()) return TextError(400, parsed.status().message(), resp);
    const std::string_view start_param = params.Get("start");
    if (start_param.empty()) return TextError(400, "start time not set", resp);
    auto start = ParseDeleteTime(start_param);
    if (!start.ok()) {
      return TextError(400, "invalid start time: require unix seconds or RFC3339 format", resp);
    }
    const int64_t now_ms = NowNanos() / kNanosPerMilli;
    int64_t end = now_ms;
    if (std::string_view e = params.Get("end"); !e.empty()) {
      auto parsed_end = ParseDeleteTime(e);
      if (!parsed_end.ok()) {
        return TextError(400, "invalid end time: require unix seconds or RFC3339 format", resp);
      }
      end = *parsed_end;
    }
    if (end > now_ms) return TextError(400, "deletes in the future are not allowed", resp);
    if (*start >= end) {
      return TextError(400, "start time can't be greater than or equal to end time", resp);
    }
    // max_interval only matters for queries with a filter (Loki shards such a request into
    // pieces of at most that length; Skald applies it whole, so it is only validated).
    if (parsed->pipeline != nullptr) {
      if (std::string_view mi = params.Get("max_interval"); !mi.empty()) {
        auto d = ParseGoDuration(mi);
        if (!d.ok() || *d < kNanosPerSecond) {
          return TextError(400, "invalid max_interval: valid time units are 's', 'm', 'h'", resp);
        }
        if (d_.max_interval_ns != 0 && *d > d_.max_interval_ns) {
          return TextError(
              400, "max_interval can't be greater than " + FormatGoDuration(d_.max_interval_ns),
              resp);
        }
        const int64_t span = (end - *start) * kNanosPerMilli;
        if (*d > span) {
          return TextError(400,
                           "max_interval can't be greater than the interval to be deleted (" +
                               FormatGoDuration(span) + ")",
                           resp);
        }
      }
    }
    auto added = d_.deletes->Add(tenant, query, *start, end, now_ms);
    if (!added.ok()) {
      log::Error("error adding delete request to the store", {{"err", added.status().ToString()}});
      return TextError(500, added.status().message(), resp);
    }
    log::Info("delete request for user added",
              {{"delete_request_id", added->id}, {"user", tenant}, {"query", query}});
    resp->status = 204;
    resp->content_type.clear();
    resp->body.clear();
    resp->headers.emplace_back("X-Delete-Request-ID", added->id);
  }

  void List(const std::string& tenant, const Params& params, HttpResponse* resp) {
    int64_t from = INT64_MIN, through = INT64_MAX;
    const std::string_view sp = params.Get("start"), ep = params.Get("end");
    if (!sp.empty() && !ep.empty()) {
      auto s = ParseDeleteTime(sp);
      if (!s.ok()) {
        return TextError(400, "invalid start time: require unix seconds or RFC3339 format", resp);
      }
      auto e = ParseDeleteTime(ep);
      if (!e.ok()) {
        return TextError(400, "invalid end time: require unix seconds or RFC3339 format", resp);
      }
      from = *s;
      through = *e;
    }
    auto list = d_.deletes->List(tenant);
    if (!list.ok()) {
      log::Error("error getting delete requests from the store",
                 {{"err", list.status().ToString()}});
      return TextError(500, list.status().message(), resp);
    }
    std::vector<compactor::DeleteRequest> out;
    for (const compactor::ParsedDeleteRequest& p : **list) {
      if (p.request.end_ms < from || p.request.start_ms > through) continue;
      out.push_back(p.request);
    }
    std::stable_sort(out.begin(), out.end(),
                     [](const auto& a, const auto& b) { return a.created_ms < b.created_ms; });
    resp->status = 200;
    resp->content_type = "application/json";
    resp->body = EncodeDeleteRequestsJson(out);
  }

  void Cancel(const std::string& tenant, const Params& params, HttpResponse* resp) {
    const std::string id(params.Get("request_id"));
    auto list = d_.deletes->List(tenant);
    if (!list.ok()) return TextError(500, list.status().message(), resp);
    const compactor::DeleteRequest* found = nullptr;
    for (const compactor::ParsedDeleteRequest& p : **list) {
      if (p.request.id == id) found = &p.request;
    }
    if (found == nullptr) {
      return TextError(404, "could not find delete request with given id", resp);
    }
    if (found->processed) {
      return TextError(
          400, "deletion of request which is in process or already processed is not allowed", resp);
    }
    const int64_t now_ms = NowNanos() / kNanosPerMilli;
    if (found->created_ms + d_.cancel_period_ns / kNanosPerMilli < now_ms &&
        params.Get("force") != "true") {
      return TextError(400,
                       "Cancellation of partially completed delete request or delete request "
                       "past the deadline of " +
                           FormatGoDuration(d_.cancel_period_ns) +
                           " since its creation is not allowed. To force, use the ?force query "
                           "parameter",
                       resp);
    }
    Status st = d_.deletes->Remove(tenant, id);
    if (st.code() == StatusCode::kNotFound) return TextError(404, st.message(), resp);
    if (!st.ok()) {
      log::Error("error cancelling the delete request", {{"err", st.ToString()}});
      return TextError(500, st.message(), resp);
    }
    resp->status = 204;
    resp->content_type.clear();
    resp->body.clear();
  }

  CompactorApiDeps d_;
};

}  // namespace

std::string EncodeDeleteRequestsJson(const std::vector<compactor::DeleteRequest>& requests) {
  std::string out = "[";
  for (size_t i = 0; i < requests.size(); i++) {
    const compactor::DeleteRequest& r = requests[i];
    if (i > 0) out.push_back(',');
    out += "{\"request_id\":";
    AppendJsonString(&out, r.id);
    out += ",\"start_time\":";
    AppendModelTime(&out, r.start_ms);
    out += ",\"end_time\":";
    AppendModelTime(&out, r.end_ms);
    out += ",\"query\":";
    AppendJsonString(&out, r.query);
    out += ",\"status\":";
    out += r.processed ? "\"processed\"" : "\"received\"";
    out += ",\"created_at\":";
    AppendModelTime(&out, r.created_ms);
    out += ",\"user_id\":\"\"}";
  }
  out += "]\n";  // json.Encoder ends with a newline
  return out;
}

void RegisterCompactorApi(HttpServer* http, const CompactorApiDeps& deps) {
  auto api = std::make_shared<CompactorApi>(deps);
  http->Route({"GET", "POST", "PUT", "DELETE"}, "/loki/api/v1/delete",
              [api](const HttpRequest& req, HttpResponse* resp) { api->Handle(req, resp); });
}

}  // namespace skald::server
