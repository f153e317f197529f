#include "server/loki_api.h"

#include <algorithm>
#include <map>

#include "wire/json_writer.h"
#include "wire/push.h"
#include "core/logging.h"
#include "core/metrics.h"
#include "core/tenant.h"
#include "core/time.h"
#include "distributor/distributor.h"
#include "ingester/ingester.h"
#include "logql/ast.h"
#include "logql/line_filter.h"
#include "logql/parser.h"
#include "querier/querier.h"
#include "server/query_params.h"

namespace skald::server {

int HttpStatusFor(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return 200;
    case StatusCode::kInvalidArgument:
      return 400;
    case StatusCode::kUnauthenticated:
      return 401;
    case StatusCode::kNotFound:
      return 404;
    case StatusCode::kAlreadyExists:
      return 409;
    case StatusCode::kTooLarge:
      return 413;
    case StatusCode::kUnprocessable:
      return 422;
    case StatusCode::kResourceExhausted:
      return 429;
    case StatusCode::kCancelled:
      return 499;
    case StatusCode::kUnimplemented:
      return 501;
    case StatusCode::kUnavailable:
      return 503;
    case StatusCode::kDeadlineExceeded:
      return 504;
    default:
      return 500;
  }
}

namespace {

constexpr const char* kTextPlain = "text/plain; charset=utf-8";
constexpr const char* kJson = "application/json; charset=UTF-8";

void ErrorResponse(const Status& st, HttpResponse* resp) {
  resp->status = HttpStatusFor(st.code());
  resp->content_type = kTextPlain;
  resp->body = st.message();
}

void JsonResponse(std::string body, HttpResponse* resp) {
  resp->status = 200;
  resp->content_type = kJson;
  resp->body = std::move(body);
  resp->body.push_back('\n');
}

class Api {
 public:
  explicit Api(const LokiApiDeps& d) : d_(d) {}

  StatusOr<std::string> Tenant(const HttpRequest& req) const {
    return ResolveTenant(d_.config->auth_enabled, req.Header("X-Scope-OrgID"),
                         d_.config->no_auth_tenant);
  }

  // Tenant and parameters of a read request (GET query string or POST form).
  struct ReadRequest {
    std::string tenant;
    Params params;
  };
  StatusOr<ReadRequest> BeginRead(const HttpRequest& req) const {
    SKALD_ASSIGN_OR_RETURN(std::string tenant, Tenant(req));
    SKALD_ASSIGN_OR_RETURN(Params params, Params::FromRequest(req));
    return ReadRequest{std::move(tenant), std::move(params)};
  }
  // Labels, label values and series also take a [start, end) range.
  struct MetadataRequest {
    std::string tenant;
    Params params;
    int64_t start = 0, end = 0;
  };
  StatusOr<MetadataRequest> BeginMetadata(const HttpRequest& req) const {
    SKALD_ASSIGN_OR_RETURN(ReadRequest r, BeginRead(req));
    SKALD_ASSIGN_OR_RETURN(auto range, ParseMetadataRange(r.params, NowNanos()));
    return MetadataRequest{std::move(r.tenant), std::move(r.params), range.first, range.second};
  }

  void Push(const HttpRequest& req, HttpResponse* resp) {
    auto tenant = Tenant(req);
    if (!tenant.ok()) return ErrorResponse(tenant.status(), resp);
    std::string not_accepting;
    if (d_.accepting_writes && !d_.accepting_writes(&not_accepting)) {
      return ErrorResponse(Status::Unavailable(not_accepting), resp);
    }
    wire::DecodeLimits limits;
    StatusOr<wire::PushRequest> decoded = Status::Internal("unreachable");
    auto media = wire::ParseMediaType(req.Header("Content-Type"));
    if (req.path == "/api/prom/push" && media.ok() && *media == "application/json" &&
        req.Header("Content-Encoding").empty()) {
      decoded = wire::DecodePushJsonLegacy(req.body);  // Loki's v0 JSON on the legacy path
    } else {
      decoded = wire::DecodePushBody(req.Header("Content-Type"), req.Header("Content-Encoding"),
                                    req.body, limits);
    }
    if (!decoded.ok()) return ErrorResponse(decoded.status(), resp);
    Status st = d_.distributor->Push(*tenant, *decoded);
    if (!st.ok()) return ErrorResponse(st, resp);
    resp->status = 204;
    resp->content_type.clear();
    resp->body.clear();
  }

  void QueryRange(const HttpRequest& req, HttpResponse* resp) {
    auto r = BeginRead(req);
    if (!r.ok()) return ErrorResponse(r.status(), resp);
    auto range = ParseRangeParams(r->params, NowNanos());
    if (!range.ok()) return ErrorResponse(range.status(), resp);
    auto expr = logql::ParseExpr(r->params.Get("query"));
    if (!expr.ok()) return ErrorResponse(expr.status(), resp);
    if (range->limit >
            static_cast<uint32_t>(d_.config->limits_config.max_entries_limit_per_query) &&
        d_.config->limits_config.max_entries_limit_per_query > 0 && logql::IsLogQuery(**expr)) {
      return ErrorResponse(
          Status::InvalidArgument(
              "max entries limit per query exceeded, limit > max_entries_limit_per_query (" +
              std::to_string(range->limit) + " > " +
              std::to_string(d_.config->limits_config.max_entries_limit_per_query) + ")"),
          resp);
    }
    if (d_.config->limits_config.max_query_length_ns > 0 &&
        range->end_ns - range->start_ns > d_.config->limits_config.max_query_length_ns) {
      return ErrorResponse(
          Status::InvalidArgument(
              "the query time range exceeds the limit (query length: " +
              FormatGoDuration(range->end_ns - range->start_ns) +
              ", limit: " + FormatGoDuration(d_.config->limits_config.max_query_length_ns) + ")"),
          resp);
    }
    const logql::LogSelector* sel = logql::AsLogSelector(**expr);
    if (sel == nullptr) {
      return ErrorResponse(Status::Unimplemented("metric queries are not supported yet: " +
                                                 std::string(r->params.Get("query"))),
                           resp);
    }
    if (!logql::HasOnlyLineFilters(*sel)) {
      return ErrorResponse(
          Status::Unimplemented("only stream selectors with line filters are supported yet: " +
                                std::string(r->params.Get("query"))),
          resp);
    }
    querier::QueryStats stats;
    auto result = d_.querier->SelectLogs(r->tenant, *sel, range->start_ns, range->end_ns,
                                         range->limit, range->forward, &stats);
    if (!result.ok()) return ErrorResponse(result.status(), resp);
    if (range->interval_ns > 0) ApplyInterval(range->interval_ns, range->forward, &*result);
    JsonResponse(EncodeStreams(req, *result, stats), resp);
  }

  void InstantQuery(const HttpRequest& req, HttpResponse* resp) {
    auto r = BeginRead(req);
    if (!r.ok()) return ErrorResponse(r.status(), resp);
    auto inst = ParseInstantParams(r->params, NowNanos());
    if (!inst.ok()) return ErrorResponse(inst.status(), resp);
    auto expr = logql::ParseExpr(r->params.Get("query"));
    if (!expr.ok()) return ErrorResponse(expr.status(), resp);
    if (logql::IsLogQuery(**expr)) {
      return ErrorResponse(
          Status::InvalidArgument("log queries are not supported as an instant query type, please "
                                  "change your query to a range query type"),
          resp);
    }
    ErrorResponse(Status::Unimplemented("metric queries are not supported yet: " +
                                        std::string(r->params.Get("query"))),
                  resp);
  }

  void LabelNames(const HttpRequest& req, HttpResponse* resp) {
    auto r = BeginMetadata(req);
    if (!r.ok()) return ErrorResponse(r.status(), resp);
    StatusOr<std::vector<std::string>> names = std::vector<std::string>{};
    if (!r->params.Get("query").empty()) {
      auto matchers = logql::ParseMatchers(r->params.Get("query"));
      if (!matchers.ok()) return ErrorResponse(matchers.status(), resp);
      auto series = d_.querier->Series(r->tenant, {*matchers}, r->start, r->end);
      if (!series.ok()) return ErrorResponse(series.status(), resp);
      std::vector<std::string> out;
      for (const auto& l : *series) {
        for (const auto& kv : l) out.push_back(kv.name);
      }
      std::sort(out.begin(), out.end());
      out.erase(std::unique(out.begin(), out.end()), out.end());
      names = std::move(out);
    } else {
      names = d_.querier->LabelNames(r->tenant, r->start, r->end);
    }
    if (!names.ok()) return ErrorResponse(names.status(), resp);
    JsonResponse(EncodeStringList(*names), resp);
  }

  void LabelValues(const HttpRequest& req, HttpResponse* resp) {
    // Path: /loki/api/v1/label/<name>/values
    constexpr std::string_view kPrefix = "/loki/api/v1/label/";
    std::string_view path = req.path;
    std::string_view rest = path.substr(std::min(path.size(), kPrefix.size()));
    constexpr std::string_view kSuffix = "/values";
    if (rest.size() <= kSuffix.size() || rest.substr(rest.size() - kSuffix.size()) != kSuffix) {
      resp->status = 404;
      resp->content_type = kTextPlain;
      resp->body = "404 page not found\n";
      return;
    }
    std::string name = UrlDecode(rest.substr(0, rest.size() - kSuffix.size()), false);
    auto r = BeginMetadata(req);
    if (!r.ok()) return ErrorResponse(r.status(), resp);
    std::vector<Matcher> matchers;
    if (!r->params.Get("query").empty()) {
      auto m = logql::ParseMatchers(r->params.Get("query"));
      if (!m.ok()) return ErrorResponse(m.status(), resp);
      matchers = std::move(*m);
    }
    auto values = d_.querier->LabelValues(r->tenant, name, r->start, r->end, matchers);
    if (!values.ok()) return ErrorResponse(values.status(), resp);
    JsonResponse(EncodeStringList(*values), resp);
  }

  void Series(const HttpRequest& req, HttpResponse* resp) {
    auto r = BeginMetadata(req);
    if (!r.ok()) return ErrorResponse(r.status(), resp);
    std::vector<std::vector<Matcher>> sets;
    std::vector<std::string_view> raw = r->params.GetAll("match[]");
    for (auto v : r->params.GetAll("match")) raw.push_back(v);
    for (auto v : raw) {
      auto m = logql::ParseMatchers(v);
      if (!m.ok()) return ErrorResponse(m.status(), resp);
      sets.push_back(std::move(*m));
    }
    auto series = d_.querier->Series(r->tenant, sets, r->start, r->end);
    if (!series.ok()) return ErrorResponse(series.status(), resp);
    std::string body;
    wire::JsonWriter w(&body);
    w.BeginObject();
    w.Key("status");
    w.String("success");
    w.Key("data");
    w.BeginArray();
    for (const auto& l : *series) {
      w.BeginObject();
      for (const auto& kv : l) {
        w.Key(kv.name);
        w.String(kv.value);
      }
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
    JsonResponse(std::move(body), resp);
  }

  void BuildInfo(const HttpRequest&, HttpResponse* resp) {
    std::string body;
    wire::JsonWriter w(&body);
    w.BeginObject();
    w.Key("version");
    w.String(kSkaldVersion);
    w.Key("revision");
    w.String(kSkaldRevision);
    w.Key("branch");
    w.String("main");
    w.Key("buildUser");
    w.String("skald");
    w.Key("buildDate");
    w.String(__DATE__);
    w.Key("goVersion");
    w.String("");
    w.EndObject();
    JsonResponse(std::move(body), resp);
  }

  void Ready(const HttpRequest&, HttpResponse* resp) {
    std::string reason = d_.not_ready_reason ? d_.not_ready_reason() : "";
    resp->content_type = kTextPlain;
    if (reason.empty()) {
      resp->status = 200;
      resp->body = "ready\n";
    } else {
      resp->status = 503;
      resp->body = reason + "\n";
    }
  }

  void Metrics(const HttpRequest&, HttpResponse* resp) {
    resp->status = 200;
    resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
    resp->body = d_.registry->Expose();
  }

  void Flush(const HttpRequest&, HttpResponse* resp) {
    Status st = d_.ingester->FlushAll();
    // Everything is in the store now: a checkpoint lets the WAL release its segments.
    if (st.ok()) st = d_.ingester->Checkpoint();
    if (!st.ok()) return ErrorResponse(st, resp);
    resp->status = 204;
    resp->content_type.clear();
  }

  void ConfigPage(const HttpRequest&, HttpResponse* resp) {
    resp->status = 200;
    resp->content_type = "text/plain; charset=utf-8";
    resp->body = ConfigToYaml(*d_.config);
  }

 private:
  static std::string EncodeStringList(const std::vector<std::string>& list) {
    std::string body;
    wire::JsonWriter w(&body);
    w.BeginObject();
    w.Key("status");
    w.String("success");
    w.Key("data");
    w.BeginArray();
    for (const auto& s : list) w.String(s);
    w.EndArray();
    w.EndObject();
    return body;
  }

  // Loki's `interval` for log queries: after emitting an entry, skip entries
  // until one is at least interval away (global across streams).
  static void ApplyInterval(int64_t interval, bool forward,
                            std::vector<querier::ResultStream>* streams) {
    struct Ref {
      int64_t ts;
      size_t s, e;
    };
    std::vector<Ref> all;
    for (size_t s = 0; s < streams->size(); s++) {
      for (size_t e = 0; e < (*streams)[s].entries.size(); e++) {
        all.push_back({(*streams)[s].entries[e].ts, s, e});
      }
    }
    std::stable_sort(all.begin(), all.end(), [forward](const Ref& a, const Ref& b) {
      return forward ? a.ts < b.ts : a.ts > b.ts;
    });
    std::vector<std::vector<bool>> keep(streams->size());
    for (size_t s = 0; s < streams->size(); s++)
      keep[s].assign((*streams)[s].entries.size(), false);
    bool have = false;
    int64_t last = 0;
    for (const Ref& r : all) {
      if (!have || (forward ? r.ts >= last + interval : r.ts <= last - interval)) {
        keep[r.s][r.e] = true;
        last = r.ts;
        have = true;
      }
    }
    for (size_t s = 0; s < streams->size(); s++) {
      auto& entries = (*streams)[s].entries;
      size_t out = 0;
      for (size_t e = 0; e < entries.size(); e++) {
        if (!keep[s][e]) continue;
        // Never self-move: a string moved onto itself may come out empty.
        if (out != e) entries[out] = std::move(entries[e]);
        out++;
      }
      entries.resize(out);
    }
    streams->erase(std::remove_if(streams->begin(), streams->end(),
                                  [](const querier::ResultStream& s) { return s.entries.empty(); }),
                   streams->end());
  }

  static void WriteLabelsObject(wire::JsonWriter* w, const std::vector<Label>& labels) {
    w->BeginObject();
    for (const auto& l : labels) {
      w->Key(l.name);
      w->String(l.value);
    }
    w->EndObject();
  }

  std::string EncodeStreams(const HttpRequest& req, std::vector<querier::ResultStream>& streams,
                            const querier::QueryStats& stats) {
    std::vector<std::string> flags;
    std::string_view flag_header = req.Header("X-Loki-Response-Encoding-Flags");
    while (!flag_header.empty()) {
      size_t comma = flag_header.find(',');
      std::string_view f = flag_header.substr(0, comma);
      if (!f.empty()) flags.emplace_back(f);
      if (comma == std::string_view::npos) break;
      flag_header.remove_prefix(comma + 1);
    }
    bool categorize = std::find(flags.begin(), flags.end(), "categorize-labels") != flags.end();

    std::string body;
    body.reserve(4096);
    wire::JsonWriter w(&body);
    w.BeginObject();
    w.Key("status");
    w.String("success");
    w.Key("data");
    w.BeginObject();
    w.Key("resultType");
    w.String("streams");
    if (!flags.empty()) {
      w.Key("encodingFlags");
      w.BeginArray();
      for (const auto& f : flags) w.String(f);
      w.EndArray();
    }
    w.Key("result");
    w.BeginArray();
    if (categorize) {
      for (const auto& s : streams) {
        w.BeginObject();
        w.Key("stream");
        WriteLabelsObject(&w, s.labels.items());
        w.Key("values");
        w.BeginArray();
        for (const auto& e : s.entries) {
          w.BeginArray();
          w.String(std::to_string(e.ts));
          w.String(e.line);
          w.BeginObject();
          if (!e.metadata.empty()) {
            w.Key("structuredMetadata");
            w.BeginObject();
            for (const auto& [k, v] : e.metadata) {
              w.Key(k);
              w.String(v);
            }
            w.EndObject();
          }
          w.EndObject();
          w.EndArray();
        }
        w.EndArray();
        w.EndObject();
      }
    } else {
      // Default: structured metadata joins the label set, so entries of one
      // stored stream with different metadata land in different result streams.
      struct Out {
        std::vector<Label> labels;
        std::vector<const querier::ResultEntry*> entries;
      };
      std::map<std::string, Out> grouped;
      for (const auto& s : streams) {
        for (const auto& e : s.entries) {
          if (e.metadata.empty()) {
            auto& o = grouped[s.labels.ToString()];
            if (o.labels.empty()) o.labels = s.labels.items();
            o.entries.push_back(&e);
            continue;
          }
          std::vector<Label> merged;
          for (const auto& l : s.labels) {
            bool overridden = false;
            for (const auto& [k, v] : e.metadata) overridden |= (k == l.name);
            if (!overridden) merged.push_back(l);
          }
          for (const auto& [k, v] : e.metadata) {
            if (!v.empty()) merged.push_back({k, v});
          }
          Labels ml(std::move(merged));
          auto& o = grouped[ml.ToString()];
          if (o.labels.empty()) o.labels = ml.items();
          o.entries.push_back(&e);
        }
      }
      for (const auto& [key, o] : grouped) {
        w.BeginObject();
        w.Key("stream");
        WriteLabelsObject(&w, o.labels);
        w.Key("values");
        w.BeginArray();
        for (const auto* e : o.entries) {
          w.BeginArray();
          w.String(std::to_string(e->ts));
          w.String(e->line);
          w.EndArray();
        }
        w.EndArray();
        w.EndObject();
      }
    }
    w.EndArray();
    w.Key("stats");
    WriteStats(&w, stats);
    w.EndObject();
    w.EndObject();
    return body;
  }

  static void WriteStats(wire::JsonWriter* w, const querier::QueryStats& s) {
    auto kv_int = [w](const char* k, int64_t v) {
      w->Key(k);
      w->Int(v);
    };
    auto kv_double = [w](const char* k, double v) {
      w->Key(k);
      w->Double(v);
    };
    const double exec = s.exec_seconds;
    const auto total_bytes = static_cast<int64_t>(s.TotalBytes());
    const auto total_lines = static_cast<int64_t>(s.TotalLines());
    w->BeginObject();
    w->Key("summary");
    w->BeginObject();
    kv_int("bytesProcessedPerSecond", exec > 0 ? static_cast<int64_t>(total_bytes / exec) : 0);
    kv_int("linesProcessedPerSecond", exec > 0 ? static_cast<int64_t>(total_lines / exec) : 0);
    kv_int("totalBytesProcessed", total_bytes);
    kv_int("totalLinesProcessed", total_lines);
    kv_double("execTime", exec);
    kv_double("queueTime", 0);
    kv_int("subqueries", 0);
    kv_int("totalEntriesReturned", static_cast<int64_t>(s.entries_returned));
    kv_int("splits", 0);
    kv_int("shards", 0);
    kv_int("totalPostFilterLines", static_cast<int64_t>(s.post_filter_lines));
    kv_int("totalStructuredMetadataBytesProcessed", 0);
    w->EndObject();

    auto store = [&](bool ingester_side) {
      w->Key("store");
      w->BeginObject();
      kv_int("totalChunksRef", ingester_side ? 0 : static_cast<int64_t>(s.chunks_ref));
      kv_int("totalChunksDownloaded",
             ingester_side ? 0 : static_cast<int64_t>(s.chunks_downloaded));
      kv_int("chunksDownloadTime",
             ingester_side ? 0 : static_cast<int64_t>(s.chunk_download_seconds * 1e9));
      kv_int("queryReferencedStructuredMetadata", 0);
      w->Key("chunk");
      w->BeginObject();
      kv_int("headChunkBytes", ingester_side ? static_cast<int64_t>(s.head_chunk_bytes) : 0);
      kv_int("headChunkLines", ingester_side ? static_cast<int64_t>(s.head_chunk_lines) : 0);
      kv_int("decompressedBytes", ingester_side ? 0 : static_cast<int64_t>(s.decompressed_bytes));
      kv_int("decompressedLines", ingester_side ? 0 : static_cast<int64_t>(s.decompressed_lines));
      kv_int("compressedBytes", ingester_side ? 0 : static_cast<int64_t>(s.compressed_bytes));
      kv_int("totalDuplicates", ingester_side ? 0 : static_cast<int64_t>(s.total_duplicates));
      kv_int("postFilterLines", ingester_side ? 0 : static_cast<int64_t>(s.post_filter_lines));
      kv_int("headChunkStructuredMetadataBytes", 0);
      kv_int("decompressedStructuredMetadataBytes", 0);
      w->EndObject();
      w->EndObject();
    };
    w->Key("querier");
    w->BeginObject();
    store(false);
    kv_double("querierExecTime", exec);
    w->EndObject();
    w->Key("ingester");
    w->BeginObject();
    kv_int("totalReached", 1);
    kv_int("totalChunksMatched", 0);
    kv_int("totalBatches", 0);
    kv_int("totalLinesSent", static_cast<int64_t>(s.head_chunk_lines));
    store(true);
    w->EndObject();
    w->Key("cache");
    w->BeginObject();
    for (const char* c : {"chunk", "index", "result", "statsResult", "volumeResult", "seriesResult",
                          "labelResult", "instantMetricResult", "logResult"}) {
      w->Key(c);
      w->BeginObject();
      for (const char* f : {"entriesFound", "entriesRequested", "entriesStored", "bytesReceived",
                            "bytesSent", "requests", "downloadTime", "queryLengthServed"}) {
        kv_int(f, 0);
      }
      w->EndObject();
    }
    w->EndObject();
    w->Key("index");
    w->BeginObject();
    kv_int("totalChunks", static_cast<int64_t>(s.chunks_ref));
    kv_int("postFilterChunks", static_cast<int64_t>(s.chunks_ref));
    kv_int("shardsDuration", 0);
    kv_int("totalStreams", static_cast<int64_t>(s.streams));
    w->Key("usedBloomFilters");
    w->Bool(false);
    w->EndObject();
    w->EndObject();
  }

  LokiApiDeps d_;
};

}  // namespace

void RegisterLokiApi(HttpServer* http, const LokiApiDeps& deps) {
  auto api = std::make_shared<Api>(deps);
  auto bind = [api](void (Api::*fn)(const HttpRequest&, HttpResponse*)) {
    return [api, fn](const HttpRequest& req, HttpResponse* resp) { ((*api).*fn)(req, resp); };
  };
  const std::vector<std::string> kGetPost = {"GET", "POST"};
  http->Route({"POST"}, "/loki/api/v1/push", bind(&Api::Push));
  http->Route({"POST"}, "/api/prom/push", bind(&Api::Push));
  http->Route(kGetPost, "/loki/api/v1/query_range", bind(&Api::QueryRange));
  http->Route(kGetPost, "/loki/api/v1/query", bind(&Api::InstantQuery));
  http->Route(kGetPost, "/loki/api/v1/labels", bind(&Api::LabelNames));
  http->Route(kGetPost, "/loki/api/v1/label", bind(&Api::LabelNames));
  http->Route(kGetPost, "/loki/api/v1/label/*", bind(&Api::LabelValues));
  http->Route(kGetPost, "/loki/api/v1/series", bind(&Api::Series));
  http->Route({"GET"}, "/loki/api/v1/status/buildinfo", bind(&Api::BuildInfo));
  http->Route({"GET"}, "/ready", bind(&Api::Ready));
  http->Route({"GET"}, "/metrics", bind(&Api::Metrics));
  http->Route({"GET", "POST"}, "/flush", bind(&Api::Flush));
  http->Route({"GET"}, "/config", bind(&Api::ConfigPage));
}

}  // namespace skald::server
