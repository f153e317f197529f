#include "server/frontend_api.h"

#include <strings.h>

#include <cctype>
#include <deque>
#include <memory>

#include "core/logging.h"
#include "core/time.h"
#include "frontend/merge.h"
#include "frontend/plan.h"
#include "logql/parser.h"
#include "querier/step_policy.h"
#include "server/loki_api.h"
#include "server/query_params.h"

namespace skald::server {

namespace {

constexpr const char* kJson = "application/json; charset=UTF-8";

// Appends k=v to a query string, form-encoded.
void AppendParam(std::string* out, std::string_view k, std::string_view v) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  if (!out->empty()) *out += '&';
  auto enc = [out](std::string_view s) {
    for (unsigned char c : s) {
      if (std::isalnum(c) != 0 || c == '-' || c == '_' || c == '.' || c == '~') {
        *out += static_cast<char>(c);
      } else if (c == ' ') {
        *out += '+';
      } else {
        *out += '%';
        *out += kHex[c >> 4];
        *out += kHex[c & 15];
      }
    }
  };
  enc(k);
  *out += '=';
  enc(v);
}

class Frontend {
 public:
  explicit Frontend(const FrontendApiDeps& d) : d_(d) {}

  // A request handed whole to a querier.
  void Forward(const HttpRequest& req, HttpResponse* resp) {
    auto tenant = RequestTenant(req, d_.auth_enabled, d_.no_auth_tenant);
    if (!tenant.ok()) return Error(tenant.status(), resp);
    frontend::Request r = ToRequest(req, req.target);
    auto task = std::make_shared<frontend::Task>(*tenant, std::move(r));
    if (Status st = d_.queue->Enqueue(task); !st.ok()) return Error(st, resp);
    frontend::Response out;
    if (!task->Wait(Deadline(*tenant), &out)) {
      return Error(Status::DeadlineExceeded("context deadline exceeded"), resp);
    }
    FromResponse(std::move(out), resp);
  }

  void QueryRange(const HttpRequest& req, HttpResponse* resp) {
    auto tenant = RequestTenant(req, d_.auth_enabled, d_.no_auth_tenant);
    if (!tenant.ok()) return Error(tenant.status(), resp);
    auto params = Params::FromRequest(req);
    if (!params.ok()) return Forward(req, resp);
    const int64_t now = NowNanos();
    auto range = ParseRangeParams(*params, now);
    if (!range.ok()) return Forward(req, resp);  // the querier answers the error
    auto expr = logql::ParseExpr(range->query);
    if (!expr.ok() || range->shard_count > 0) return Forward(req, resp);
    const auto lim = d_.limits->For(*tenant);
    const int64_t interval = lim->split_queries_by_interval_ns;
    const bool is_log = logql::AsLogSelector(**expr) != nullptr;
    frontend::ShardMerge shard_merge =
        d_.shards > 1 ? frontend::Shardability(**expr) : frontend::ShardMerge::kNone;
    const int shards = shard_merge == frontend::ShardMerge::kNone ? 1 : d_.shards;
    if (is_log && range->interval_ns > 0) return Forward(req, resp);
    // A query over max_query_length is refused whole (by the querier), never split into
    // pieces that would each pass the check.
    if (lim->max_query_length_ns > 0 &&
        static_cast<uint64_t>(range->end_ns) - static_cast<uint64_t>(range->start_ns) >
            static_cast<uint64_t>(lim->max_query_length_ns)) {
      return Forward(req, resp);
    }

    std::vector<frontend::Interval> pieces;
    querier::StepGrid grid{};
    if (is_log) {
      pieces = frontend::SplitLogs(range->start_ns, range->end_ns, interval, range->forward);
    } else {
      grid = querier::AlignMetricRange(range->start_ns, range->end_ns, range->step_ns);
      pieces = frontend::SplitMetric(grid.start_ns, grid.end_ns, grid.step_ns, interval);
    }
    if (pieces.size() <= 1 && shards == 1) return Forward(req, resp);

    // The subqueries: one per piece and shard, except metric pieces the cache holds.
    struct Piece {
      std::string cache_key;  // empty: not cacheable
      std::optional<std::string> cached;
      std::vector<size_t> subs;  // indexes into `subs`
    };
    std::vector<Piece> ps(pieces.size());
    std::vector<std::string> urls;
    for (size_t i = 0; i < pieces.size(); i++) {
      Piece& p = ps[i];
      if (!is_log && d_.cache != nullptr && pieces[i].end < now - d_.max_cache_freshness_ns) {
        p.cache_key = *tenant + "\n" + range->query + "\n" + std::to_string(grid.step_ns) + "\n" +
                      std::to_string(pieces[i].start) + "\n" + std::to_string(pieces[i].end);
        p.cached = d_.cache->Get(p.cache_key);
        if (p.cached.has_value()) continue;
      }
      for (int s = 0; s < shards; s++) {
        std::string q;
        for (const auto& [k, v] : params->pairs()) {
          if (k == "start" || k == "end" || k == "shards") continue;
          AppendParam(&q, k, v);
        }
        AppendParam(&q, "start", std::to_string(pieces[i].start));
        AppendParam(&q, "end", std::to_string(pieces[i].end));
        if (shards > 1) {
          AppendParam(&q, "shards", std::to_string(s) + "_of_" + std::to_string(shards));
        }
        p.subs.push_back(urls.size());
        urls.push_back(req.path + "?" + q);
      }
    }
    std::vector<frontend::Response> answers;
    if (Status st = RunAll(*tenant, req, urls, lim->max_query_parallelism, &answers); !st.ok()) {
      return Error(st, resp);
    }
    for (const frontend::Response& a : answers) {
      if (a.code != 200) {  // the querier's error, as it gave it
        frontend::Response copy = a;
        return FromResponse(std::move(copy), resp);
      }
    }
    // Merge shards per piece, then the pieces.
    std::vector<std::string> piece_bodies;
    piece_bodies.reserve(ps.size());
    for (Piece& p : ps) {
      if (p.cached.has_value()) {
        piece_bodies.push_back(std::move(*p.cached));
        continue;
      }
      std::vector<std::string_view> bodies;
      for (size_t k : p.subs) bodies.push_back(answers[k].body);
      std::string merged;
      if (bodies.size() == 1) {
        merged = std::string(bodies[0]);
      } else if (is_log) {
        auto m = frontend::MergeStreams(bodies, range->limit, range->forward);
        if (!m.ok()) return Error(m.status(), resp);
        merged = std::move(*m);
      } else {
        auto m = frontend::MergeMatrices(bodies, /*sum=*/true);
        if (!m.ok()) return Forward(req, resp);  // not a matrix: run it whole
        merged = std::move(*m);
      }
      if (!p.cache_key.empty()) d_.cache->Put(p.cache_key, merged);
      piece_bodies.push_back(std::move(merged));
    }
    std::vector<std::string_view> all(piece_bodies.begin(), piece_bodies.end());
    auto merged = is_log ? frontend::MergeStreams(all, range->limit, range->forward)
                         : frontend::MergeMatrices(all, /*sum=*/false);
    if (!merged.ok()) return Forward(req, resp);
    resp->status = 200;
    resp->content_type = kJson;
    resp->body = std::move(*merged);
    resp->body.push_back('\n');
  }

 private:
  int64_t Deadline(const std::string& tenant) const {
    // The querier stops at query_timeout; wait a little longer for its answer.
    return MonotonicNanos() + d_.limits->For(tenant)->query_timeout_ns + 5 * kNanosPerSecond;
  }

  static frontend::Request ToRequest(const HttpRequest& req, std::string url) {
    frontend::Request r;
    r.method = req.method;
    r.url = std::move(url);
    for (const auto& [k, v] : req.headers) {
      if (strcasecmp(k.c_str(), "Connection") == 0 ||
          strcasecmp(k.c_str(), "Content-Length") == 0) {
        continue;
      }
      r.headers.emplace_back(k, v);
    }
    if (req.method == "POST" && url == req.target) r.body = req.body;
    return r;
  }

  static void FromResponse(frontend::Response in, HttpResponse* resp) {
    resp->status = in.code;
    resp->content_type.clear();
    for (auto& [k, v] : in.headers) {
      if (strcasecmp(k.c_str(), "Content-Type") == 0) {
        resp->content_type = std::move(v);
      } else if (strcasecmp(k.c_str(), "Content-Length") != 0 &&
                 strcasecmp(k.c_str(), "Date") != 0 && strcasecmp(k.c_str(), "Connection") != 0) {
        resp->headers.emplace_back(std::move(k), std::move(v));
      }
    }
    resp->body = std::move(in.body);
  }

  static void Error(const Status& st, HttpResponse* resp) {
    resp->status = HttpStatusFor(st.code());
    resp->content_type = "text/plain; charset=utf-8";
    resp->body = st.message();
  }

  // Runs the subqueries, at most `window` waiting at once, in order.
  Status RunAll(const std::string& tenant, const HttpRequest& req,
                const std::vector<std::string>& urls, int window,
                std::vector<frontend::Response>* out) {
    out->assign(urls.size(), {});
    window = std::max(1, window);
    const int64_t deadline = Deadline(tenant);
    std::deque<std::pair<size_t, std::shared_ptr<frontend::Task>>> inflight;
    size_t next = 0;
    Status failed;
    auto abandon_all = [&] {
      for (auto& [i, t] : inflight) t->Abandon();
    };
    while (next < urls.size() || !inflight.empty()) {
      while (next < urls.size() && static_cast<int>(inflight.size()) < window) {
        // A subquery is a GET with its parameters in the URL (a form POST's included).
        frontend::Request r = ToRequest(req, urls[next]);
        r.method = "GET";
        r.body.clear();
        std::erase_if(r.headers, [](const auto& h) {
          return strcasecmp(h.first.c_str(), "Content-Type") == 0;
        });
        auto t = std::make_shared<frontend::Task>(tenant, std::move(r));
        if (Status st = d_.queue->Enqueue(t); !st.ok()) {
          abandon_all();
          return st;
        }
        inflight.emplace_back(next++, std::move(t));
      }
      auto [i, t] = std::move(inflight.front());
      inflight.pop_front();
      if (!t->Wait(deadline, &(*out)[i])) {
        abandon_all();
        return Status::DeadlineExceeded("context deadline exceeded");
      }
      if ((*out)[i].code != 200) {  // no point running the rest
        abandon_all();
        return Status::OK();
      }
    }
    return Status::OK();
  }

  FrontendApiDeps d_;
};

}  // namespace

const std::vector<std::string>& FrontendPaths() {
  static const std::vector<std::string> kPaths = {"/loki/api/v1/query_range",
                                                  "/loki/api/v1/query",
                                                  "/loki/api/v1/labels",
                                                  "/loki/api/v1/label",
                                                  "/loki/api/v1/label/*",
                                                  "/loki/api/v1/series",
                                                  "/loki/api/v1/index/stats",
                                                  "/loki/api/v1/index/volume",
                                                  "/loki/api/v1/index/volume_range",
                                                  "/loki/api/v1/detected_labels",
                                                  "/loki/api/v1/detected_fields",
                                                  "/loki/api/v1/detected_field/*",
                                                  "/loki/api/v1/patterns",
                                                  "/loki/api/v1/format_query"};
  return kPaths;
}

void RegisterFrontendApi(HttpServer* http, const FrontendApiDeps& deps) {
  auto fe = std::make_shared<Frontend>(deps);
  const std::vector<std::string> kGetPost = {"GET", "POST"};
  for (const std::string& path : FrontendPaths()) {
    if (path == "/loki/api/v1/query_range") {
      http->Route(kGetPost, path,
                  [fe](const HttpRequest& req, HttpResponse* resp) { fe->QueryRange(req, resp); });
    } else {
      http->Route(kGetPost, path,
                  [fe](const HttpRequest& req, HttpResponse* resp) { fe->Forward(req, resp); });
    }
  }
}

}  // namespace skald::server
