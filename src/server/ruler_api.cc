#include "server/ruler_api.h"

#include <cctype>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "core/go_string.h"
#include "core/tenant.h"
#include "core/time.h"
#include "server/loki_api.h"
#include "server/query_params.h"
#include "wire/json_writer.h"

namespace skald::server {
namespace {

constexpr const char* kYaml = "application/yaml";
constexpr const char* kJson = "application/json";

// Go's time.Time JSON form; the zero time for "never".
std::string GoTimeJson(int64_t ms) {
  if (ms == 0) return "0001-01-01T00:00:00Z";
  return FormatRFC3339Nano(ms * 1000000);
}

// strconv.FormatFloat(v, 'e', -1, 64): the shortest mantissa that round-trips.
std::string FormatFloatE(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[48];
  for (int prec = 0; prec < 17; ++prec) {
    std::snprintf(buf, sizeof buf, "%.*e", prec, v);
    if (std::strtod(buf, nullptr) == v) return buf;
  }
  std::snprintf(buf, sizeof buf, "%.16e", v);
  return buf;
}

void WriteLabels(wire::JsonWriter* w, const Labels& l) {
  w->BeginObject();
  for (const auto& p : l) {
    w->Key(p.name);
    w->String(p.value);
  }
  w->EndObject();
}

void WritePairs(wire::JsonWriter* w, const ruler::StringPairs& pairs) {
  std::vector<Label> v;
  for (const auto& [n, val] : pairs) v.push_back(Label{n, val});
  WriteLabels(w, Labels(std::move(v)));
}

void WriteAlert(wire::JsonWriter* w, const ruler::AlertStatus& a) {
  w->BeginObject();
  w->Key("labels");
  WriteLabels(w, a.labels);
  w->Key("annotations");
  WriteLabels(w, a.annotations);
  w->Key("state");
  w->String(ruler::AlertStateName(a.state));
  w->Key("activeAt");
  w->String(GoTimeJson(a.active_at_ms));
  w->Key("value");
  w->String(FormatFloatE(a.value));
  w->EndObject();
}

// Loki's envelope: status, data, and (always present) errorType and error.
void Envelope(std::string* out, const std::string& data) {
  out->append("{\"status\":\"success\",\"data\":");
  out->append(data);
  out->append(",\"errorType\":\"\",\"error\":\"\"}");
}

bool Selected(const std::vector<std::string>& filter, const std::string& v) {
  return filter.empty() || std::find(filter.begin(), filter.end(), v) != filter.end();
}

// Splits the part of the raw path after the prefix into unescaped segments.
StatusOr<std::vector<std::string>> PathSegments(const HttpRequest& req, std::string_view prefix) {
  std::string_view raw = req.target;
  raw = raw.substr(0, raw.find('?'));
  if (raw.substr(0, prefix.size()) != prefix) return std::vector<std::string>{};
  raw.remove_prefix(prefix.size());
  std::vector<std::string> out;
  while (!raw.empty()) {
    if (raw.front() == '/') {
      raw.remove_prefix(1);
      continue;
    }
    const size_t slash = raw.find('/');
    SKALD_ASSIGN_OR_RETURN(std::string seg, UrlUnescape(raw.substr(0, slash), false));
    out.push_back(std::move(seg));
    if (slash == std::string_view::npos) break;
    raw.remove_prefix(slash);
  }
  return out;
}

// Go's filepath.IsLocal, the check Loki applies to namespace and group names.
bool IsLocalPath(std::string_view p) {
  if (p.empty() || p.front() == '/') return false;
  int depth = 0;
  size_t i = 0;
  while (i <= p.size()) {
    size_t j = p.find('/', i);
    if (j == std::string_view::npos) j = p.size();
    std::string_view part = p.substr(i, j - i);
    if (part == "..") {
      if (--depth < 0) return false;
    } else if (!part.empty() && part != ".") {
      ++depth;
    }
    i = j + 1;
  }
  return true;
}

// Loki's respondError JSON (bad_data / server_error).
void PromError(int status, std::string_view type, std::string_view msg, HttpResponse* resp) {
  resp->status = status;
  resp->content_type = kJson;
  resp->body.clear();
  wire::JsonWriter w(&resp->body);
  w.BeginObject();
  w.Key("status");
  w.String("error");
  w.Key("data");
  w.Null();
  w.Key("errorType");
  w.String(type);
  w.Key("error");
  w.String(msg);
  w.EndObject();
}

// Loki answers a missing org id on the ruler API with a 500 and a fixed text; a malformed or
// repeated header is the client's error.
void TenantError(const Status& st, std::string_view missing_text, HttpResponse* resp) {
  if (st.code() == StatusCode::kUnauthenticated) {
    return PromError(500, "server_error", missing_text, resp);
  }
  PromError(400, "bad_data", st.message(), resp);
}

void TextError(int status, std::string_view msg, HttpResponse* resp) {
  resp->status = status;
  resp->content_type = "text/plain; charset=utf-8";
  resp->body = std::string(msg) + "\n";  // Go's http.Error adds the newline
}

void Accepted(HttpResponse* resp) {
  resp->status = 202;
  resp->content_type = kJson;
  resp->body = "{\"status\":\"success\",\"data\":null,\"errorType\":\"\",\"error\":\"\"}";
}

class RulerApi {
 public:
  explicit RulerApi(RulerApiDeps d) : d_(std::move(d)) {}

  void Rules(std::string_view prefix, const HttpRequest& req, HttpResponse* resp) {
    auto tenant = RequestTenant(req, d_.auth_enabled, d_.no_auth_tenant);
    if (!tenant.ok()) return TenantError(tenant.status(), "no org id", resp);
    auto segs = PathSegments(req, prefix);
    if (!segs.ok()) return PromError(500, "server_error", segs.status().message(), resp);
    if (segs->size() > 2) return TextError(404, "404 page not found", resp);
    std::string ns = segs->size() > 0 ? (*segs)[0] : "";
    std::string group = segs->size() > 1 ? (*segs)[1] : "";
    if (!ns.empty() && !IsLocalPath(ns)) {
      return PromError(500, "server_error", "invalid namespace: path traversal not allowed", resp);
    }
    if (!group.empty() && !IsLocalPath(group)) {
      return PromError(500, "server_error", "invalid groupname: path traversal not allowed", resp);
    }
    if (req.method == "GET") return Get(*tenant, ns, group, req, resp);
    if (req.method == "POST") {
      if (ns.empty()) {
        return PromError(500, "server_error", "a namespace must be provided in the request", resp);
      }
      if (!group.empty()) return TextError(405, "Method Not Allowed", resp);
      return Set(*tenant, ns, req, resp);
    }
    if (req.method == "DELETE") {
      if (ns.empty()) {
        return PromError(500, "server_error", "a namespace must be provided in the request", resp);
      }
      Status s = group.empty() ? d_.store->DeleteNamespace(*tenant, ns)
                               : d_.store->DeleteGroup(*tenant, ns, group);
      if (s.code() == StatusCode::kNotFound) {
        // Loki's rulestore errors.
        return TextError(
            404, group.empty() ? "group namespace does not exist" : "group does not exist", resp);
      }
      if (s.code() == StatusCode::kInvalidArgument) return TextError(400, s.message(), resp);
      if (!s.ok()) return PromError(500, "server_error", s.message(), resp);
      Resync(*tenant);
      return Accepted(resp);
    }
    TextError(405, "Method Not Allowed", resp);
  }

  void PromRules(const HttpRequest& req, HttpResponse* resp) {
    auto tenant = RequestTenant(req, d_.auth_enabled, d_.no_auth_tenant);
    if (!tenant.ok()) return TenantError(tenant.status(), "no valid org id found", resp);
    auto params = Params::FromRequest(req);
    if (!params.ok()) return PromError(400, "bad_data", params.status().message(), resp);
    std::string type(params->Get("type"));
    std::transform(type.begin(), type.end(), type.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (!type.empty() && type != "alert" && type != "record") {
      return PromError(400, "bad_data", "not supported value " + GoQuote(type), resp);
    }
    auto all = [&](std::string_view k) {
      std::vector<std::string> v;
      for (auto s : params->GetAll(k)) v.emplace_back(s);
      return v;
    };
    resp->status = 200;
    resp->content_type = kJson;
    resp->body = EncodePrometheusRules(Groups(*tenant), type, all("rule_name"), all("rule_group"),
                                       all("file"));
  }

  void PromAlerts(const HttpRequest& req, HttpResponse* resp) {
    auto tenant = RequestTenant(req, d_.auth_enabled, d_.no_auth_tenant);
    if (!tenant.ok()) return TenantError(tenant.status(), "no valid org id found", resp);
    resp->status = 200;
    resp->content_type = kJson;
    resp->body = EncodePrometheusAlerts(Groups(*tenant));
  }

 private:
  std::vector<ruler::GroupStatus> Groups(const std::string& tenant) const {
    if (d_.manager == nullptr) return {};
    return d_.manager->Groups(tenant);
  }

  void Resync(const std::string& tenant) {
    if (d_.manager == nullptr) return;
    Status s = d_.manager->SyncTenant(tenant);
    (void)s;  // the next poll retries; the API write itself succeeded
  }

  void Get(const std::string& tenant, const std::string& ns, const std::string& group,
           const HttpRequest& req, HttpResponse* resp) {
    if (!group.empty()) {
      auto g = d_.store->GetGroup(tenant, ns, group);
      if (g.status().code() == StatusCode::kNotFound)
        return TextError(404, "group does not exist", resp);
      if (!g.ok()) return TextError(400, g.status().message(), resp);
      resp->status = 200;
      resp->content_type = kYaml;
      resp->body = ruler::GroupToYaml(*g);
      return;
    }
    ruler::RuleNamespaces namespaces;
    if (ns.empty()) {
      auto all = d_.store->List(tenant);
      if (!all.ok()) return TextError(400, all.status().message(), resp);
      namespaces = std::move(*all);
    } else {
      auto one = d_.store->GetNamespace(tenant, ns);
      if (one.ok()) {
        namespaces.emplace(ns, std::move(*one));
      } else if (one.status().code() != StatusCode::kNotFound) {
        return TextError(400, one.status().message(), resp);
      }
    }
    // Loki's `labels=name:value,...` filter keeps the rules carrying one of the labels.
    auto params = Params::FromRequest(req);
    if (params.ok() && !params->Get("labels").empty()) {
      std::vector<std::pair<std::string, std::string>> want;
      std::string_view list = params->Get("labels");
      while (!list.empty()) {
        size_t comma = list.find(',');
        std::string_view item = list.substr(0, comma);
        size_t colon = item.find(':');
        want.emplace_back(
            std::string(item.substr(0, colon)),
            colon == std::string_view::npos ? "" : std::string(item.substr(colon + 1)));
        if (comma == std::string_view::npos) break;
        list.remove_prefix(comma + 1);
      }
      for (auto& [n, groups] : namespaces) {
        for (auto& g : groups) {
          std::erase_if(g.rules, [&](const ruler::Rule& r) {
            for (const auto& l : r.labels) {
              if (std::find(want.begin(), want.end(), l) != want.end()) return false;
            }
            return true;
          });
        }
        std::erase_if(groups, [](const ruler::RuleGroup& g) { return g.rules.empty(); });
      }
      std::erase_if(namespaces, [](const auto& kv) { return kv.second.empty(); });
    }
    if (namespaces.empty()) return TextError(404, "no rule groups found", resp);
    resp->status = 200;
    resp->content_type = kYaml;
    resp->body = ruler::NamespacesToYaml(namespaces);
  }

  void Set(const std::string& tenant, const std::string& ns, const HttpRequest& req,
           HttpResponse* resp) {
    auto g = ruler::ParseRuleGroupYaml(req.body);
    if (!g.ok()) return TextError(400, g.status().message(), resp);
    Status s = d_.store->SetGroup(tenant, ns, *g);
    if (s.code() == StatusCode::kInvalidArgument) return TextError(400, s.message(), resp);
    if (!s.ok()) return TextError(500, s.message(), resp);
    Resync(tenant);
    Accepted(resp);
  }

  RulerApiDeps d_;
};

}  // namespace

std::string EncodePrometheusRules(const std::vector<ruler::GroupStatus>& groups,
                                  std::string_view type, const std::vector<std::string>& rule_names,
                                  const std::vector<std::string>& rule_groups,
                                  const std::vector<std::string>& files) {
  std::vector<const ruler::GroupStatus*> sorted;
  for (const auto& g : groups) {
    if (Selected(rule_groups, g.name) && Selected(files, g.ns)) sorted.push_back(&g);
  }
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const auto* a, const auto* b) { return a->ns < b->ns; });
  std::string data;
  wire::JsonWriter w(&data);
  w.BeginObject();
  w.Key("groups");
  w.BeginArray();
  for (const auto* g : sorted) {
    std::vector<const ruler::RuleStatus*> rules;
    for (const auto& r : g->rules) {
      const bool alert = r.rule.is_alert();
      if ((type == "alert" && !alert) || (type == "record" && alert)) continue;
      if (!Selected(rule_names, alert ? r.rule.alert : r.rule.record)) continue;
      rules.push_back(&r);
    }
    // Like Loki, a filter that leaves a group without rules leaves the group out.
    if (rules.empty() && !g->rules.empty()) continue;
    w.BeginObject();
    w.Key("name");
    w.String(g->name);
    w.Key("file");
    w.String(g->ns);
    w.Key("rules");
    w.BeginArray();
    for (const auto* r : rules) {
      w.BeginObject();
      if (r->rule.is_alert()) {
        w.Key("state");
        w.String(ruler::AlertStateName(r->state));
        w.Key("name");
        w.String(r->rule.alert);
        w.Key("query");
        w.String(r->rule.expr);
        w.Key("duration");
        w.Double(static_cast<double>(r->rule.for_ms) / 1000.0);
        w.Key("labels");
        WritePairs(&w, r->rule.labels);
        w.Key("annotations");
        WritePairs(&w, r->rule.annotations);
        w.Key("alerts");
        w.BeginArray();
        for (const auto& a : r->alerts) WriteAlert(&w, a);
        w.EndArray();
      } else {
        w.Key("name");
        w.String(r->rule.record);
        w.Key("query");
        w.String(r->rule.expr);
        w.Key("labels");
        WritePairs(&w, r->rule.labels);
      }
      w.Key("health");
      w.String(r->health);
      w.Key("lastError");
      w.String(r->last_error);
      w.Key("type");
      w.String(r->rule.is_alert() ? "alerting" : "recording");
      w.Key("lastEvaluation");
      w.String(GoTimeJson(r->last_evaluation_ms));
      w.Key("evaluationTime");
      w.Double(r->evaluation_seconds);
      w.EndObject();
    }
    w.EndArray();
    w.Key("interval");
    w.Double(static_cast<double>(g->interval_ms) / 1000.0);
    w.Key("limit");
    w.Int(g->limit);
    w.Key("lastEvaluation");
    w.String(GoTimeJson(g->last_evaluation_ms));
    w.Key("evaluationTime");
    w.Double(g->evaluation_seconds);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  std::string out;
  Envelope(&out, data);
  return out;
}

std::string EncodePrometheusAlerts(const std::vector<ruler::GroupStatus>& groups) {
  std::string data;
  wire::JsonWriter w(&data);
  w.BeginObject();
  w.Key("alerts");
  w.BeginArray();
  for (const auto& g : groups) {
    for (const auto& r : g.rules) {
      if (!r.rule.is_alert()) continue;
      for (const auto& a : r.alerts) WriteAlert(&w, a);
    }
  }
  w.EndArray();
  w.EndObject();
  std::string out;
  Envelope(&out, data);
  return out;
}

void RegisterRulerApi(HttpServer* http, const RulerApiDeps& deps) {
  auto api = std::make_shared<RulerApi>(deps);
  if (deps.enable_api) {
    for (const char* prefix : {"/loki/api/v1/rules", "/api/prom/rules"}) {
      std::string p = prefix;
      auto h = [api, p](const HttpRequest& req, HttpResponse* resp) { api->Rules(p, req, resp); };
      http->Route({"GET", "POST", "DELETE"}, p, h);
      http->Route({"GET", "POST", "DELETE"}, p + "/*", h);
    }
  }
  http->Route({"GET"}, "/prometheus/api/v1/rules",
              [api](const HttpRequest& req, HttpResponse* resp) { api->PromRules(req, resp); });
  http->Route({"GET"}, "/prometheus/api/v1/alerts",
              [api](const HttpRequest& req, HttpResponse* resp) { api->PromAlerts(req, resp); });
}

}  // namespace skald::server
