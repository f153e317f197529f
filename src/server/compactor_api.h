// Loki's log deletion API, served where the compactor runs (pkg/compactor/deletion):
//
//   POST   /loki/api/v1/delete?query=<log selector>&start=<t>&end=<t>[&max_interval=<d>]  -> 204
//   GET    /loki/api/v1/delete[?start=<t>&end=<t>]                                        -> JSON
//   DELETE /loki/api/v1/delete?request_id=<id>[&force=true]                               -> 204
//
// Times are unix seconds (10 digits) or RFC3339; status codes and texts are Loki's. The API is
// available when compactor.retention_enabled is true (else 400 `Retention is not enabled`)
// and the tenant's deletion_mode is filter-only or filter-and-delete (else 403
// `deletion is not available for this tenant`). See docs/retention.md.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "compactor/delete_requests.h"
#include "limits/limits.h"
#include "server/http_server.h"

namespace skald::server {

struct CompactorApiDeps {
  compactor::DeleteRequestStore* deletes = nullptr;  // null: retention is not enabled
  const limits::Overrides* limits = nullptr;
  bool auth_enabled = false;
  std::string no_auth_tenant = "fake";
  int64_t cancel_period_ns = 0;
  int64_t max_interval_ns = 0;
};

void RegisterCompactorApi(HttpServer* http, const CompactorApiDeps& deps);

// The GET answer: Loki's JSON array (times as seconds with millisecond fraction).
std::string EncodeDeleteRequestsJson(const std::vector<compactor::DeleteRequest>& requests);

}  // namespace skald::server
