// Loki's HTTP API on top of the distributor, querier and ingester: push,
// query_range / query, labels, label values, series, format_query, buildinfo, ready,
// metrics, flush and config. Handlers only decode the request
// (server/query_params.h, wire/push.h), call a role (query policy lives in
// querier/query_api.h) and encode the response (wire/query_response.h: Loki's
// JSON shapes exactly); errors are plain text with Loki's status codes.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include "limits/limits.h"
#include "server/config.h"
#include "server/http_server.h"

namespace skald::distributor {
class Distributor;
}
namespace skald::querier {
class QueryApi;
}
namespace skald::ingester {
class Ingester;
}
namespace skald::metrics {
class Registry;
}
namespace skald::wire {
class DecompressionGate;
}
namespace skald::pattern {
class PatternStore;
}
namespace skald::tail {
class TailHub;
}
namespace skald {
class Executor;
}

namespace skald::server {

struct LokiApiDeps {
  const Config* config = nullptr;
  // Which halves of the API this process serves (a querier takes no pushes; a distributor
  // answers no queries). Routes not served answer 404.
  bool serve_writes = true;
  bool serve_reads = true;
  distributor::Distributor* distributor = nullptr;
  querier::QueryApi* queries = nullptr;
  ingester::Ingester* ingester = nullptr;
  metrics::Registry* registry = nullptr;
  // The per-tenant limits (GET /runtime_config).
  const limits::Overrides* limits = nullptr;
  // Log patterns (/loki/api/v1/patterns); nullptr when the pattern ingester is disabled.
  pattern::PatternStore* patterns = nullptr;
  // Live tails (/loki/api/v1/tail); the executor runs a new tail's history query.
  tail::TailHub* tails = nullptr;
  Executor* tail_executor = nullptr;
  // Bounds concurrent inflation of gzip / deflate push bodies; nullptr = unbounded.
  std::shared_ptr<wire::DecompressionGate> decompression_gate;
  // Empty string when ready; otherwise why not (served as 503 by /ready).
  std::function<std::string()> not_ready_reason;
  // False (with the reason) while pushes must be refused with 503: WAL replay, shutdown.
  std::function<bool(std::string*)> accepting_writes;
};

// Registers every route on http. deps' pointers must outlive the server.
void RegisterLokiApi(HttpServer* http, const LokiApiDeps& deps);
// Only the operator endpoints (/ready, /metrics, /config, /runtime_config, buildinfo): what a
// process without ingester and querier (-target=compactor) serves. Needs config, registry,
// limits and not_ready_reason.
void RegisterOperatorApi(HttpServer* http, const LokiApiDeps& deps);

// The tenant of a request: ResolveTenant on its X-Scope-OrgID header. With auth on, a request
// carrying the header twice is refused (InvalidArgument, 400) — Loki takes the first one, but a
// proxy that appends the header instead of replacing it would then let a client pick its
// tenant. Skald's deliberate difference; see docs/architecture.md ("Tenants").
StatusOr<std::string> RequestTenant(const HttpRequest& req, bool auth_enabled,
                                    std::string_view no_auth_tenant);

// The HTTP status for a Status code (Loki's mapping).
int HttpStatusFor(StatusCode code);

}  // namespace skald::server
