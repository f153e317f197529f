// HTTP/1.1 server for Skald's API (Boost.Beast + Asio, kept out of this header).
//
// Connections are served asynchronously on an io_context run by N threads. Each
// connection reads one request at a time (so pipelined requests are answered in
// order), calls the matching handler (inline on the io thread, or on the executor
// given with RunOn), writes the response and, with keep-alive, reads the next request. Requests
// are routed by exact path or by "/prefix/*" wildcard; unknown paths get Go's `404 page not
// found`, known paths with another method get 405, bodies over the limit get 413, header blocks
// over the limit (or one header field over 64 KiB, the most a field may hold) get 431; those
// 431s are logged as one warning per interval carrying the count of the ones not logged.
//
// Request metrics (when a registry is given), `<ns>` = options.metrics_namespace:
//   <ns>_request_duration_seconds{method,route,status_code,ws}  histogram
//   <ns>_inflight_requests{method,route}                         gauge
//   <ns>_request_message_bytes{method,route}                     histogram
//   <ns>_response_message_bytes{method,route}                    histogram
//   <ns>_tcp_connections{protocol="http"}                        gauge
//   <ns>_panic_total                                             counter (handlers that threw)
// (dskit's server metrics; the app passes "loki", as Loki does; `ws` is "true" for a
// WebSocket handshake.)
// `route` is Loki's label form of the registered pattern: every run of characters
// outside [a-zA-Z0-9] becomes "_", leading/trailing "_" trimmed, lower-cased
// ("/loki/api/v1/push" -> "loki_api_v1_push", "/loki/api/v1/label/*" ->
// "loki_api_v1_label"; "/" -> "root"), unless Route() is given an explicit label.
// Requests matching no route use route="other" (as dskit does).
//
// Tracing (core/tracing.h): every request gets a server span, a child of its W3C `traceparent`
// header when that is valid (else a new trace), named "HTTP <method> <route pattern>" with the
// attributes http.request.method, http.route and http.response.status_code. The span is the
// current span while the handler runs (on whichever thread), and every response carries a
// `traceparent` header naming it. Responses refused before routing (400 malformed, 413, 431)
// carry a traceparent of a new, unrecorded trace.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace skald {
class Executor;  // core/thread_pool.h
}
namespace skald::metrics {
class Registry;
}
namespace skald::trace {
class SpanExporter;  // core/tracing.h
}

namespace skald::server {

// Spare capacity the server keeps past every request body (simdjson's SIMDJSON_PADDING).
inline constexpr size_t kBodyPadding = 64;

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string target;  // raw request target as sent
  std::string path;    // percent-decoded path, without the query string
  std::string query;   // raw query string (after '?'), not decoded
  std::vector<std::pair<std::string, std::string>> headers;  // in arrival order
  // The request body, with at least kBodyPadding bytes of spare capacity past size() so a
  // parser that reads past the end (simdjson) can use it in place. Mutable: the handler owns the
  // request while it runs and may move the body out (std::move(req.body)) instead of copying it.
  mutable std::string body;
  std::string remote_address;  // "ip:port" of the peer
  // For handlers run off the io thread (RunOn with probe_client): true once the client has closed
  // its end of the connection (so nobody will read the answer; Go's request context is cancelled in
  // that case too). Cheap (one non-blocking peek), thread-safe, may be called until the handler
  // returns. Null for handlers run on the io thread.
  std::function<bool()> client_gone;

  // First value of the header (name compared case-insensitively), "" if absent.
  std::string_view Header(std::string_view name) const;
};

struct HttpResponse {
  int status = 200;
  // Sent as Content-Type unless empty. 204/304 responses never carry a body.
  std::string content_type = "application/json; charset=UTF-8";
  std::string body;
  // Extra headers. Content-Length, Date and Connection are set by the server; a
  // handler may add "Connection: close" to close the connection after the reply.
  std::vector<std::pair<std::string, std::string>> headers;

  // Convenience: plain-text body (Loki's error replies), content type text/plain.
  void SetText(int status_code, std::string text);
};

using Handler = std::function<void(const HttpRequest&, HttpResponse*)>;

// One WebSocket connection the server upgraded on a WebSocket route (RouteWebSocket). Outgoing
// text messages queue per connection, up to a bound; what the peer sends is read and dropped
// (control frames are answered). While nothing arrives the server pings the peer every
// second; a peer silent for two seconds is disconnected. Thread-safe.
class WebSocket {
 public:
  virtual ~WebSocket() = default;
  // Queues a text message. False (nothing queued) when the connection is closed or its queue
  // already holds the most messages allowed (the peer reads too slowly).
  virtual bool Send(std::string text) = 0;
  // Sends the queued messages, then a close frame with `code` and `reason`, then closes.
  virtual void Close(uint16_t code, std::string reason) = 0;
  // True once the connection is closed or closing (by either side, an error, or Stop()).
  virtual bool closed() const = 0;
  // Messages queued and not yet written.
  virtual size_t queued() const = 0;
};

// Runs on an io thread for a WebSocket upgrade request to a WebSocket route, before the
// handshake: either fills *reject with an ordinary HTTP reply (e.g. 400 with Loki's text) and
// returns an empty function, or returns what to call with the connection once the handshake
// is done (also on an io thread; it must not block).
using WebSocketOpen = std::function<void(std::shared_ptr<WebSocket>)>;
using WebSocketHandler = std::function<WebSocketOpen(const HttpRequest&, HttpResponse* reject)>;

struct HttpServerOptions {
  std::string address = "0.0.0.0";  // "" also means all interfaces; hostnames are resolved
  int port = 3100;                  // 0 = ephemeral (see HttpServer::port())
  int threads = 0;                  // 0 = std::thread::hardware_concurrency()
  size_t max_body_bytes = 100u << 20;
  size_t max_header_bytes = 1u << 20;  // Go's http.DefaultMaxHeaderBytes
  // At most one warning per interval for requests answered 431 (header too large).
  int64_t rejected_header_log_interval_ms = 60'000;
  // Loki's defaults (server.http_server_{idle,read,write}_timeout).
  int64_t idle_timeout_ms = 120'000;  // waiting for the next request on a kept-alive connection
  int64_t read_timeout_ms = 30'000;   // reading one request (headers and body)
  int64_t write_timeout_ms = 30'000;  // writing one response
  // Stop(): how long to let in-flight requests finish before connections are cut.
  int64_t shutdown_grace_ms = 5'000;
  metrics::Registry* registry = nullptr;  // nullptr = no request metrics
  std::string metrics_namespace = "skald";
  // Where recorded spans go; nullptr = spans keep their ids (traceparent, trace_id in logs)
  // but none is recorded. Must outlive the server.
  trace::SpanExporter* span_exporter = nullptr;
};

class HttpServer {
 public:
  explicit HttpServer(HttpServerOptions opts);
  ~HttpServer();  // Stop()s
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Registers a handler. `path` is matched exactly against the decoded request
  // path; a path ending in "/*" matches every path starting with the part before
  // the "*" (the longest such prefix wins; exact routes win over wildcards).
  // Requests with a method outside `methods` get 405 (with an Allow header).
  // Registering the same path again with other methods adds to it. `route_label`
  // overrides the metrics label (see the file comment). Must be called before Start().
  void Route(std::vector<std::string> methods, std::string path, Handler h,
             std::string route_label = "");

  // Registers a WebSocket endpoint at `path` (exact): GET requests that ask for an upgrade go
  // to `handler`; other requests get gorilla/websocket's 400 "Bad Request". Each connection queues
  // at most `max_queued` outgoing messages (WebSocket::Send). Must be called before Start().
  void RouteWebSocket(std::string path, WebSocketHandler handler, size_t max_queued = 10);

  // Runs the handlers of `path` (a pattern registered with Route) on `executor` instead
  // of the I/O thread, for handlers that block (queries, pushes waiting for the WAL): the
  // I/O thread hands the request over and serves other connections; the response is
  // written once the handler returns. When the executor refuses the task (its queue is
  // full) the request gets 429 "too many outstanding requests". Must be called before
  // Start(); executor must keep running tasks until Stop() has returned.
  // With probe_client, the handler's HttpRequest::client_gone tells whether the client left
  // (costs a dup() of the socket per request: worth it for long queries, not for pushes).
  // Errors: NotFound if no route has that pattern.
  Status RunOn(const std::string& path, Executor* executor, bool probe_client = false);

  // Runs the handler `req` would reach, on the calling thread, without a connection: what a
  // querier does with a query the query frontend handed it over gRPC. Unknown paths get 404,
  // other methods 405, a handler that throws 500 (as over the network). `req.path` and
  // `req.query` must be set (ParseTarget fills them from `req.target`). No request metrics or
  // spans are recorded here. Thread-safe once the routes are registered.
  void Serve(const HttpRequest& req, HttpResponse* resp) const;

  // Binds and listens, then starts the io threads. Errors: Unavailable with the
  // OS reason when the address cannot be resolved or bound, or when already started.
  Status Start();
  // The bound port (useful with port 0); 0 before Start().
  int port() const;
  // Stops accepting, lets in-flight requests finish (up to shutdown_grace_ms),
  // closes idle and remaining connections and joins the io threads. Idempotent.
  // Must not be called from inside a handler.
  void Stop();

  // Number of open connections (for tests and metrics).
  size_t connection_count() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// Fills req->path (percent-decoded) and req->query from req->target ("/a/b?x=1"). False when
// the path does not decode.
bool ParseTarget(HttpRequest* req);

// Loki/dskit route label for a path pattern ("/loki/api/v1/push" -> "loki_api_v1_push").
std::string RouteLabel(std::string_view pattern);

}  // namespace skald::server
