#include "server/loki_api.h"

#include "server/build_info.h"

#include <re2/re2.h>

#include <algorithm>
#include <memory>
#include <mutex>
#include <vector>

#include "core/ascii.h"
#include "core/metrics.h"
#include "core/parse.h"
#include "core/tenant.h"
#include "core/thread_pool.h"
#include "core/time.h"
#include "core/tracing.h"
#include "distributor/distributor.h"
#include "ingester/ingester.h"
#include "logql/ast.h"
#include "logql/parser.h"
#include "pattern/store.h"
#include "querier/query_api.h"
#include "server/query_params.h"
#include "tail/tail.h"
#include "wire/otlp.h"
#include "wire/push.h"
#include "wire/query_response.h"

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

StatusOr<std::string> RequestTenant(const HttpRequest& req, bool auth_enabled,
                                    std::string_view no_auth_tenant) {
  if (auth_enabled) {
    int n = 0;
    for (const auto& [name, value] : req.headers) {
      n += EqualsIgnoreCase(name, "X-Scope-OrgID") ? 1 : 0;
    }
    if (n > 1) {
      return Status::InvalidArgument(
          "more than one X-Scope-OrgID header: send the tenant exactly once");
    }
  }
  return ResolveTenant(auth_enabled, req.Header("X-Scope-OrgID"), no_auth_tenant);
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

// The OTLP mapping options of one tenant's limits (its otlp_config, limits_config's or a runtime
// override's) on top of distributor.otlp_config's default index labels.
wire::OtlpOptions OtlpOptionsFor(const Config& config, const limits::Limits& lim) {
  const limits::OtlpConfig& otlp = lim.otlp_config;
  auto convert = [](const std::vector<limits::OtlpAttributesConfig>& in) {
    std::vector<wire::OtlpAttributeRule> out;
    for (const auto& c : in) {
      wire::OtlpAttributeRule r;
      switch (c.action) {
        case limits::OtlpAttributeAction::kIndexLabel:
          r.action = wire::OtlpAction::kIndexLabel;
          break;
        case limits::OtlpAttributeAction::kDrop:
          r.action = wire::OtlpAction::kDrop;
          break;
        case limits::OtlpAttributeAction::kStructuredMetadata:
          r.action = wire::OtlpAction::kStructuredMetadata;
          break;
      }
      r.attributes = c.attributes;
      if (!c.regex.empty()) {
        // Anchored like Prometheus' relabel.Regexp; validated when the config was loaded.
        auto re = std::make_shared<const RE2>("^(?s:" + c.regex + ")$");
        r.regex = [re](std::string_view name) { return RE2::FullMatch(name, *re); };
      }
      out.push_back(std::move(r));
    }
    return out;
  };
  wire::OtlpOptions o;
  const auto& defaults = config.distributor.otlp_default_resource_attributes_as_index_labels
                             ? *config.distributor.otlp_default_resource_attributes_as_index_labels
                             : wire::DefaultOtlpIndexLabels();
  if (!otlp.resource_ignore_defaults && !defaults.empty()) {
    wire::OtlpAttributeRule r;
    r.action = wire::OtlpAction::kIndexLabel;
    r.attributes = defaults;
    o.resource_rules.push_back(std::move(r));
  }
  for (auto& r : convert(otlp.resource_attributes)) o.resource_rules.push_back(std::move(r));
  o.scope_rules = convert(otlp.scope_attributes);
  o.log_rules = convert(otlp.log_attributes);
  o.severity_text_as_label = otlp.severity_text_as_label;
  o.discover_service_name = lim.discover_service_name;
  return o;
}

class Api {
 public:
  explicit Api(const LokiApiDeps& d) : d_(d) {}

  StatusOr<std::string> Tenant(const HttpRequest& req) const {
    auto tenant = RequestTenant(req, d_.config->auth_enabled, d_.config->no_auth_tenant);
    if (tenant.ok()) trace::SetCurrentAttribute("tenant", *tenant);
    return tenant;
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
    wire::DecodeLimits limits{
        static_cast<size_t>(std::max<int64_t>(d_.config->distributor.max_decompressed_size, 0)),
        d_.decompression_gate.get()};
    // Loki's v0 JSON is accepted on the legacy path only.
    const wire::JsonDialect dialect =
        req.path == "/api/prom/push" ? wire::JsonDialect::kLegacy : wire::JsonDialect::kV1;
    trace::Span decode_span("push.decode");
    auto decoded = wire::DecodePushBody(req.Header("Content-Type"), req.Header("Content-Encoding"),
                                        std::move(req.body), limits, dialect);
    decode_span.End();
    if (!decoded.ok()) return ErrorResponse(decoded.status(), resp);
    Status st = d_.distributor->Push(*tenant, *decoded);
    if (!st.ok()) return ErrorResponse(st, resp);
    resp->status = 204;
    resp->content_type.clear();
    resp->body.clear();
  }

  // POST /otlp/v1/logs: OTLP/HTTP logs (protobuf or JSON; gzip, zstd or lz4), mapped onto
  // streams and structured metadata as Loki does (wire/otlp.h), then the same distributor path
  // as Push. Errors are Loki's OTLP errors: the HTTP status with a protobuf google.rpc.Status
  // body (code 0, the message), application/octet-stream; 500 becomes 503 so clients retry.
  void OtlpPush(const HttpRequest& req, HttpResponse* resp) {
    auto fail = [resp](const Status& st) {
      const int code = HttpStatusFor(st.code());
      resp->status = code == 500 ? 503 : code;
      resp->content_type = "application/octet-stream";
      resp->body = wire::EncodeOtlpErrorStatus(st.message());
    };
    auto tenant = Tenant(req);
    if (!tenant.ok()) return fail(tenant.status());
    std::string not_accepting;
    if (d_.accepting_writes && !d_.accepting_writes(&not_accepting)) {
      return fail(Status::Unavailable(not_accepting));
    }
    wire::DecodeLimits limits{
        static_cast<size_t>(std::max<int64_t>(d_.config->distributor.max_decompressed_size, 0)),
        d_.decompression_gate.get()};
    trace::Span decode_span("push.decode");
    const std::shared_ptr<const wire::OtlpOptions> otlp = OtlpOptionsOf(*tenant);
    auto decoded = wire::DecodeOtlpBody(req.Header("Content-Type"), req.Header("Content-Encoding"),
                                        std::move(req.body), *otlp, limits);
    decode_span.End();
    if (!decoded.ok()) return fail(decoded.status());
    Status st = d_.distributor->Push(*tenant, *decoded);
    if (!st.ok()) return fail(st);
    resp->status = 204;
    resp->content_type.clear();
    resp->body.clear();
  }

  void QueryRange(const HttpRequest& req, HttpResponse* resp) {
    auto r = BeginRead(req);
    if (!r.ok()) return ErrorResponse(r.status(), resp);
    auto range = ParseRangeParams(r->params, NowNanos());
    if (!range.ok()) return ErrorResponse(range.status(), resp);
    range->client_gone = req.client_gone;
    auto result = d_.queries->Range(r->tenant, *range);
    if (!result.ok()) return ErrorResponse(result.status(), resp);
    trace::Span encode_span("query.encode");
    if (result->is_metric) {
      return JsonResponse(wire::EncodeMetricResponse(result->value, result->stats), resp);
    }
    JsonResponse(
        wire::EncodeStreamsResponse(
            result->streams, result->stats,
            wire::ParseEncodingFlags(req.Header("X-Loki-Response-Encoding-Flags")), range->forward),
        resp);
  }

  void InstantQuery(const HttpRequest& req, HttpResponse* resp) {
    auto r = BeginRead(req);
    if (!r.ok()) return ErrorResponse(r.status(), resp);
    auto inst = ParseInstantParams(r->params, NowNanos());
    if (!inst.ok()) return ErrorResponse(inst.status(), resp);
    inst->client_gone = req.client_gone;
    auto result = d_.queries->Instant(r->tenant, *inst);
    if (!result.ok()) return ErrorResponse(result.status(), resp);
    trace::Span encode_span("query.encode");
    JsonResponse(wire::EncodeMetricResponse(result->value, result->stats), resp);
  }

  // Loki's format_query: no tenant, r.FormValue("query") (decoding errors ignored),
  // always a JSON body: 200 with the canonical query, or 400 with the parse error.
  void FormatQuery(const HttpRequest& req, HttpResponse* resp) {
    const Params params = Params::FromRequestIgnoringErrors(req);
    auto expr = logql::ParseExpr(params.Get("query"));
    resp->content_type = "application/json; charset=utf-8";
    if (expr.ok()) {
      resp->status = 200;
      resp->body = wire::EncodeFormatQueryResponse(logql::PrettyExprString(**expr));
    } else {
      resp->status = 400;
      resp->body = wire::EncodeFormatQueryError(expr.status().message());
    }
    resp->body.push_back('\n');
  }

  void LabelNames(const HttpRequest& req, HttpResponse* resp) {
    auto r = BeginMetadata(req);
    if (!r.ok()) return ErrorResponse(r.status(), resp);
    auto names = d_.queries->LabelNames(r->tenant, r->start, r->end, r->params.Get("query"));
    if (!names.ok()) return ErrorResponse(names.status(), resp);
    JsonResponse(wire::EncodeStringListResponse(*names), resp);
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
    auto values =
        d_.queries->LabelValues(r->tenant, name, r->start, r->end, r->params.Get("query"));
    if (!values.ok()) return ErrorResponse(values.status(), resp);
    JsonResponse(wire::EncodeStringListResponse(*values), resp);
  }

  void Series(const HttpRequest& req, HttpResponse* resp) {
    auto r = BeginMetadata(req);
    if (!r.ok()) return ErrorResponse(r.status(), resp);
    std::vector<std::string_view> selectors = r->params.GetAll("match[]");
    for (auto v : r->params.GetAll("match")) selectors.push_back(v);
    auto series = d_.queries->Series(r->tenant, selectors, r->start, r->end);
    if (!series.ok()) return ErrorResponse(series.status(), resp);
    JsonResponse(wire::EncodeSeriesResponse(*series), resp);
  }

  // index/stats: no envelope, `{"streams":..,"chunks":..,"bytes":..,"entries":..}`.
  void IndexStats(const HttpRequest& req, HttpResponse* resp) {
    auto r = BeginRead(req);
    if (!r.ok()) return ErrorResponse(r.status(), resp);
    auto range = ParseRangeParams(r->params, NowNanos());
    if (!range.ok()) return ErrorResponse(range.status(), resp);
    auto stats = d_.queries->Stats(r->tenant, range->query, range->start_ns, range->end_ns);
    if (!stats.ok()) return ErrorResponse(stats.status(), resp);
    JsonResponse(
        wire::EncodeIndexStats(stats->streams, stats->chunks, stats->bytes, stats->entries), resp);
  }

  // index/volume and index/volume_range (Prometheus envelope: vector / matrix of bytes).
  void IndexVolume(const HttpRequest& req, HttpResponse* resp) {
    auto r = BeginRead(req);
    if (!r.ok()) return ErrorResponse(r.status(), resp);
    // Loki reads `limit=0` as its default (100); other values as query_range does.
    Params params = r->params;
    const bool zero_limit = params.Get("limit") == "0";
    if (zero_limit) params.Erase("limit");
    auto range = ParseRangeParams(params, NowNanos());
    if (!range.ok()) return ErrorResponse(range.status(), resp);
    querier::VolumeQuery q;
    q.query = range->query;
    q.start = range->start_ns;
    q.end = range->end_ns;
    q.step = req.path.ends_with("_range") ? range->step_ns : 0;
    q.limit = zero_limit ? 100 : range->limit;
    for (std::string_view v : params.GetAll("targetLabels")) {
      for (std::string& name : SplitCommaList(v)) q.target_labels.push_back(std::move(name));
    }
    const std::string_view by = params.Get("aggregateBy");
    if (!by.empty() && by != "series" && by != "labels") {
      return ErrorResponse(Status::InvalidArgument("invalid aggregation option"), resp);
    }
    q.by_labels = by == "labels";
    auto value = d_.queries->Volume(r->tenant, q);
    if (!value.ok()) return ErrorResponse(value.status(), resp);
    JsonResponse(wire::EncodeMetricResponse(*value, wire::QueryStats{}), resp);
  }

  // detected_labels (Logs Drilldown): no envelope.
  void DetectedLabels(const HttpRequest& req, HttpResponse* resp) {
    auto r = BeginRead(req);
    if (!r.ok()) return ErrorResponse(r.status(), resp);
    auto bounds = ParseMetadataRange(r->params, NowNanos());
    if (!bounds.ok()) return ErrorResponse(bounds.status(), resp);
    auto labels = d_.queries->DetectedLabels(r->tenant, r->params.Get("query"), bounds->first,
                                             bounds->second);
    if (!labels.ok()) return ErrorResponse(labels.status(), resp);
    JsonResponse(wire::EncodeDetectedLabels(*labels), resp);
  }

  // detected_fields and detected_field/<name>/values (Logs Drilldown): no envelope. `limit`
  // (alias `field_limit`, default 1000) bounds the fields or values, `line_limit` (default 100)
  // the entries sampled.
  void DetectedFields(const HttpRequest& req, HttpResponse* resp) {
    querier::DetectedFieldsQuery q;
    constexpr std::string_view kPrefix = "/loki/api/v1/detected_field/";
    if (req.path.starts_with(kPrefix)) {
      std::string_view rest = std::string_view(req.path).substr(kPrefix.size());
      constexpr std::string_view kSuffix = "/values";
      if (rest.size() <= kSuffix.size() || !rest.ends_with(kSuffix)) {
        resp->status = 404;
        resp->content_type = kTextPlain;
        resp->body = "404 page not found\n";
        return;
      }
      q.values_of = std::string(rest.substr(0, rest.size() - kSuffix.size()));
    }
    auto r = BeginRead(req);
    if (!r.ok()) return ErrorResponse(r.status(), resp);
    Params params = r->params;
    std::string_view limit = params.Get("limit");
    if (limit.empty()) limit = params.Get("field_limit");
    auto field_limit = ParseLimit(limit, 1000);
    auto line_limit = ParseLimit(params.Get("line_limit"), 100);
    params.Erase("limit");
    auto range = ParseRangeParams(params, NowNanos());
    if (!range.ok()) return ErrorResponse(range.status(), resp);
    if (!line_limit.ok()) return ErrorResponse(line_limit.status(), resp);
    if (!field_limit.ok()) return ErrorResponse(field_limit.status(), resp);
    q.range.query = range->query;
    q.range.start_ns = range->start_ns;
    q.range.end_ns = range->end_ns;
    q.range.step_ns = range->step_ns;
    q.range.limit = *line_limit;
    q.range.client_gone = req.client_gone;
    q.field_limit = *field_limit;
    auto result = d_.queries->DetectedFields(r->tenant, q);
    if (!result.ok()) return ErrorResponse(result.status(), resp);
    JsonResponse(wire::EncodeDetectedFields(*result, q.field_limit), resp);
  }

  // patterns (Loki's pattern ingester): query is a bare selector, start/end as labels
  // (default: the last hour), step as query_range; errors in Loki's order.
  void Patterns(const HttpRequest& req, HttpResponse* resp) {
    auto r = BeginRead(req);
    if (!r.ok()) return ErrorResponse(r.status(), resp);
    const int64_t now = NowNanos();
    auto bounds =
        ParseBounds(r->params.Get("start"), r->params.Get("end"), r->params.Get("since"), now);
    if (!bounds.ok()) return ErrorResponse(bounds.status(), resp);
    const auto [start, end] = *bounds;
    int64_t step = DefaultStepNs(start, end);
    if (std::string_view v = r->params.Get("step"); !v.empty()) {
      auto parsed = ParseSecondsOrDuration(v);
      if (!parsed.ok()) return ErrorResponse(parsed.status(), resp);
      step = *parsed;
    }
    if (Status st = querier::ValidateStep(start, end, step); !st.ok()) {
      return ErrorResponse(st, resp);
    }
    const std::string_view query = r->params.Get("query");
    auto expr = logql::ParseExpr(query);
    if (!expr.ok()) return ErrorResponse(expr.status(), resp);
    auto matchers = logql::ParseMatchers(query);
    if (!matchers.ok()) return ErrorResponse(matchers.status(), resp);
    std::vector<pattern::PatternSeries> series;
    int64_t from = start;  // max_query_lookback: nothing before it
    if (d_.patterns != nullptr && d_.queries->ClampToLookback(r->tenant, &from, end)) {
      series = d_.patterns->Query(r->tenant, *matchers, from, end, step);
    }
    JsonResponse(pattern::EncodePatternsResponse(series), resp);
  }

  // /loki/api/v1/tail: parameters and limits are checked before the upgrade (plain 400s);
  // once upgraded, the history query runs on the tail executor, then the tail goes live.
  WebSocketOpen Tail(const HttpRequest& req, HttpResponse* resp) {
    if (d_.tails == nullptr || d_.tail_executor == nullptr) {
      resp->SetText(404, "404 page not found\n");
      return nullptr;
    }
    auto fail = [&](const Status& st) -> WebSocketOpen {
      ErrorResponse(st, resp);
      return nullptr;
    };
    auto r = BeginRead(req);
    if (!r.ok()) return fail(r.status());
    const Params& p = r->params;
    std::string query(p.Get("query"));
    auto expr = logql::ParseExpr(query);
    if (!expr.ok()) return fail(expr.status());
    // A metric query is refused after the upgrade, with a close frame (as Loki does).
    const bool is_log = logql::AsLogSelector(**expr) != nullptr;
    auto limit = ParseLimit(p.Get("limit"));
    if (!limit.ok()) return fail(limit.status());
    const int64_t now = NowNanos();
    auto bounds = ParseBounds(p.Get("start"), "", p.Get("since"), now);
    if (!bounds.ok()) return fail(bounds.status());
    int64_t delay = 0;
    if (std::string_view d = p.Get("delay_for"); !d.empty()) {
      if (NumError e = ParseGoInt(d, &delay); e != NumError::kNone) {
        return fail(Status::InvalidArgument(GoNumErrorText("Atoi", d, e)));
      }
    }
    if (delay > 5) return fail(Status::InvalidArgument("delay_for can't be greater than 5"));
    const std::shared_ptr<const limits::Limits> lim_handle = d_.queries->limits().For(r->tenant);
    const limits::Limits& lim = *lim_handle;
    Status st = d_.tails->CheckLimit(r->tenant, lim.max_concurrent_tail_requests);
    if (!st.ok()) return fail(st);
    // The selector outlives this call: the open callback owns the parsed expression.
    auto owned = std::shared_ptr<logql::Expr>(std::move(*expr));
    tail::TailOptions opts;
    opts.delay_ns = std::max<int64_t>(delay, 0) * kNanosPerSecond;
    opts.max_per_tenant = lim.max_concurrent_tail_requests;
    querier::RangeQuery history;
    history.query = query;
    history.start_ns = bounds->first;
    history.end_ns = now;
    history.limit = *limit;
    history.forward = false;
    std::string tenant = r->tenant;
    return [this, owned, opts, history, tenant, is_log](std::shared_ptr<WebSocket> ws) {
      auto conn = std::make_shared<WsTailConnection>(std::move(ws));
      if (!is_log) return conn->Close(1011, "only log selector is supported");
      bool queued = d_.tail_executor->TrySubmit([this, owned, opts, history, tenant, conn] {
        std::vector<wire::ResultStream> past;
        auto h = d_.queries->Range(tenant, history);
        if (!h.ok()) {
          conn->Close(1011, std::string(h.status().message()).substr(0, 120));
          return;
        }
        past = std::move(h->streams);
        Status st = d_.tails->Open(tenant, *logql::AsLogSelector(*owned), past, opts, conn);
        if (!st.ok()) conn->Close(1011, std::string(st.message()).substr(0, 120));
      });
      if (!queued) conn->Close(1011, "too many outstanding requests");
    };
  }

  // A tail's messages go out on its WebSocket.
  class WsTailConnection final : public tail::Connection {
   public:
    explicit WsTailConnection(std::shared_ptr<WebSocket> ws) : ws_(std::move(ws)) {}
    bool Send(std::string text) override { return ws_->Send(std::move(text)); }
    void Close(uint16_t code, std::string reason) override { ws_->Close(code, std::move(reason)); }
    bool closed() const override { return ws_->closed(); }

   private:
    std::shared_ptr<WebSocket> ws_;
  };

  void BuildInfo(const HttpRequest&, HttpResponse* resp) {
    const server::BuildInfo& b = GetBuildInfo();
    wire::BuildInfo info;
    info.version = b.version;
    info.revision = b.revision;
    info.branch = b.branch;
    info.build_user = b.build_user;
    info.build_date = b.build_date;
    info.go_version = b.go_version;  // the compiler: Skald has no Go runtime
    JsonResponse(wire::EncodeBuildInfo(info), resp);
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

  // GET /runtime_config: the per-tenant overrides in force; ?mode=diff only what differs
  // from limits_config.
  void RuntimeConfigPage(const HttpRequest& req, HttpResponse* resp) {
    const limits::Overrides& o = d_.limits != nullptr ? *d_.limits : d_.queries->limits();
    const bool diff = Params::FromRequestIgnoringErrors(req).Get("mode") == "diff";
    resp->status = 200;
    resp->content_type = "text/plain; charset=utf-8";
    resp->body = RuntimeConfigToYaml(*o.TenantLimits(), o.defaults(), diff);
  }

  void ConfigPage(const HttpRequest&, HttpResponse* resp) {
    resp->status = 200;
    resp->content_type = "text/plain; charset=utf-8";
    resp->body = ConfigToYaml(*d_.config);
  }

 private:
  // The tenant's OTLP options, built once per limits object (regexes compiled once): the
  // defaults', or its runtime override's until a reload replaces it.
  std::shared_ptr<const wire::OtlpOptions> OtlpOptionsOf(std::string_view tenant) {
    if (d_.queries == nullptr) return default_otlp_;
    std::shared_ptr<const limits::Limits> lim = d_.queries->limits().For(tenant);
    if (lim.get() == &d_.queries->limits().defaults()) return default_otlp_;
    std::lock_guard<std::mutex> lock(otlp_mu_);
    for (auto it = otlp_cache_.begin(); it != otlp_cache_.end();) {
      std::shared_ptr<const limits::Limits> held = it->first.lock();
      if (held == lim) return it->second;
      it = held ? std::next(it) : otlp_cache_.erase(it);  // limits replaced by a reload
    }
    auto opts = std::make_shared<const wire::OtlpOptions>(OtlpOptionsFor(*d_.config, *lim));
    otlp_cache_.emplace_back(lim, opts);
    return opts;
  }

  LokiApiDeps d_;
  // limits_config's OTLP options (the defaults of App's Overrides are limits_config).
  const std::shared_ptr<const wire::OtlpOptions> default_otlp_ =
      std::make_shared<const wire::OtlpOptions>(
          OtlpOptionsFor(*d_.config, d_.config->limits_config));
  std::mutex otlp_mu_;
  std::vector<std::pair<std::weak_ptr<const limits::Limits>,
                        std::shared_ptr<const wire::OtlpOptions>>>
      otlp_cache_;  // guarded by otlp_mu_
};

}  // namespace

namespace {

void RegisterOperatorRoutes(HttpServer* http, const std::shared_ptr<Api>& api) {
  auto bind = [api](void (Api::*fn)(const HttpRequest&, HttpResponse*)) {
    return [api, fn](const HttpRequest& req, HttpResponse* resp) { ((*api).*fn)(req, resp); };
  };
  http->Route({"GET"}, "/loki/api/v1/status/buildinfo", bind(&Api::BuildInfo));
  http->Route({"GET"}, "/ready", bind(&Api::Ready));
  http->Route({"GET"}, "/metrics", bind(&Api::Metrics));
  http->Route({"GET"}, "/config", bind(&Api::ConfigPage));
  http->Route({"GET"}, "/runtime_config", bind(&Api::RuntimeConfigPage));
}

}  // namespace

void RegisterLokiApi(HttpServer* http, const LokiApiDeps& deps) {
  auto api = std::make_shared<Api>(deps);
  auto bind = [api](void (Api::*fn)(const HttpRequest&, HttpResponse*)) {
    return [api, fn](const HttpRequest& req, HttpResponse* resp) { ((*api).*fn)(req, resp); };
  };
  const std::vector<std::string> kGetPost = {"GET", "POST"};
  if (deps.serve_writes) {
    http->Route({"POST"}, "/loki/api/v1/push", bind(&Api::Push));
    http->Route({"POST"}, "/api/prom/push", bind(&Api::Push));
    http->Route({"POST"}, "/otlp/v1/logs", bind(&Api::OtlpPush));
    http->Route({"GET", "POST"}, "/flush", bind(&Api::Flush));
  }
  http->Route(kGetPost, "/loki/api/v1/format_query", bind(&Api::FormatQuery));
  if (!deps.serve_reads) {
    RegisterOperatorRoutes(http, api);
    return;
  }
  http->Route(kGetPost, "/loki/api/v1/query_range", bind(&Api::QueryRange));
  http->Route(kGetPost, "/loki/api/v1/query", bind(&Api::InstantQuery));
  http->Route(kGetPost, "/loki/api/v1/labels", bind(&Api::LabelNames));
  http->Route(kGetPost, "/loki/api/v1/label", bind(&Api::LabelNames));
  http->Route(kGetPost, "/loki/api/v1/label/*", bind(&Api::LabelValues));
  http->Route(kGetPost, "/loki/api/v1/series", bind(&Api::Series));
  http->Route(kGetPost, "/loki/api/v1/index/stats", bind(&Api::IndexStats));
  http->Route(kGetPost, "/loki/api/v1/index/volume", bind(&Api::IndexVolume));
  http->Route(kGetPost, "/loki/api/v1/index/volume_range", bind(&Api::IndexVolume));
  http->Route(kGetPost, "/loki/api/v1/patterns", bind(&Api::Patterns));
  http->Route(kGetPost, "/loki/api/v1/detected_labels", bind(&Api::DetectedLabels));
  http->RouteWebSocket("/loki/api/v1/tail", [api](const HttpRequest& req, HttpResponse* resp) {
    return api->Tail(req, resp);
  });
  http->Route(kGetPost, "/loki/api/v1/detected_fields", bind(&Api::DetectedFields));
  http->Route(kGetPost, "/loki/api/v1/detected_field/*", bind(&Api::DetectedFields));
  RegisterOperatorRoutes(http, api);
}

void RegisterOperatorApi(HttpServer* http, const LokiApiDeps& deps) {
  RegisterOperatorRoutes(http, std::make_shared<Api>(deps));
}

}  // namespace skald::server
