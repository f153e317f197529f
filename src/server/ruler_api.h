// The ruler's HTTP API, as Loki serves it:
//   GET    /loki/api/v1/rules                         every namespace (YAML)
//   GET    /loki/api/v1/rules/{namespace}             one namespace (YAML)
//   GET    /loki/api/v1/rules/{namespace}/{group}     one group (YAML)
//   POST   /loki/api/v1/rules/{namespace}             body: one group (YAML) -> 202
//   DELETE /loki/api/v1/rules/{namespace}/{group}     -> 202
//   DELETE /loki/api/v1/rules/{namespace}             -> 202
//   (the same under /api/prom/rules, Loki's legacy prefix)
//   GET    /prometheus/api/v1/rules                   Prometheus' JSON, with rule health and alerts
//   GET    /prometheus/api/v1/alerts                  Prometheus' JSON of active alerts
// Status codes and texts are Loki's (pkg/ruler/base/api.go): 404 `no rule groups found`,
// `group does not exist`, `group namespace does not exist`; 400 for a group that does not
// parse or validate.
#pragma once

#include <string>
#include <vector>

#include "ruler/manager.h"
#include "ruler/rule_store.h"
#include "server/http_server.h"

namespace skald::server {

struct RulerApiDeps {
  ruler::RuleStore* store = nullptr;
  ruler::Manager* manager = nullptr;
  bool auth_enabled = false;
  std::string no_auth_tenant;
  bool enable_api = true;  // ruler.enable_api: false serves only the Prometheus endpoints
};

void RegisterRulerApi(HttpServer* http, const RulerApiDeps& deps);

// Prometheus' /api/v1/rules body for a tenant's groups, with Loki's filters: `type` ("" =
// both, "alert", "record"), `rule_name`, `rule_group`, `file` (empty = no filter).
std::string EncodePrometheusRules(const std::vector<ruler::GroupStatus>& groups,
                                  std::string_view type, const std::vector<std::string>& rule_names,
                                  const std::vector<std::string>& rule_groups,
                                  const std::vector<std::string>& files);
// Prometheus' /api/v1/alerts body.
std::string EncodePrometheusAlerts(const std::vector<ruler::GroupStatus>& groups);

}  // namespace skald::server
