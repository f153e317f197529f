// HTTP/1.1 server on Boost.Beast (see http_server.h). The only file that
// includes Beast, to keep compile times of everything else down.
#include "server/http_server.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <ctime>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>

#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include "core/ascii.h"
#include "core/logging.h"
#include "core/metrics.h"
#include "core/thread_pool.h"
#include "core/time.h"
#include "core/tracing.h"
#include "server/query_params.h"

namespace skald::server {

namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace websocket = boost::beast::websocket;
namespace net = boost::asio;
using tcp = boost::asio::ip::tcp;
using error_code = boost::system::error_code;

namespace {

// True once the peer has closed the connection (an orderly EOF or a reset): a
// non-blocking one-byte peek that never consumes pipelined request bytes.
bool PeerClosed(int fd) {
  char c;
  const ssize_t n = ::recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n == 0) return true;
  if (n > 0) return false;
  return errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR;
}

// Percent-decodes a path (query_params.h's UrlUnescape); false on a malformed escape (Go
// answers 400 then).
bool DecodePath(std::string_view in, std::string* out) {
  auto decoded = UrlUnescape(in, /*plus_as_space=*/false);
  if (!decoded.ok()) return false;
  *out = std::move(*decoded);
  return true;
}

// Go's http.StatusText for the codes we can produce; "" for others.
std::string_view StatusText(int code) {
  switch (code) {
    case 100:
      return "Continue";
    case 101:
      return "Switching Protocols";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 206:
      return "Partial Content";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 304:
      return "Not Modified";
    case 307:
      return "Temporary Redirect";
    case 308:
      return "Permanent Redirect";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 406:
      return "Not Acceptable";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 410:
      return "Gone";
    case 411:
      return "Length Required";
    case 413:
      return "Request Entity Too Large";
    case 414:
      return "Request URI Too Long";
    case 415:
      return "Unsupported Media Type";
    case 422:
      return "Unprocessable Entity";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return "";
  }
}

std::string HttpDate() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  size_t n = std::strftime(buf, sizeof(buf), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return std::string(buf, n);
}

bool BodyAllowed(int status) { return !(status / 100 == 1 || status == 204 || status == 304); }

struct RouteEntry {
  std::vector<std::string> methods;
  Handler handler;
};

struct PathRoutes {
  std::string pattern;  // as registered ("/loki/api/v1/label/*"): the span's http.route
  std::string label;
  std::vector<RouteEntry> entries;
  WebSocketHandler websocket;  // RouteWebSocket: upgrade requests go here
  size_t ws_max_queued = 10;
  Executor* executor = nullptr;  // RunOn; null = inline on the io thread
  bool probe_client = false;     // RunOn: give handlers HttpRequest::client_gone
};

// Like Beast's string_body, but keeps kBodyPadding bytes of spare capacity past the body so the
// push decoder can parse it in place (see HttpRequest::body).
struct PaddedStringBody {
  using value_type = std::string;

  static std::uint64_t size(const value_type& body) { return body.size(); }

  class reader {
   public:
    template <bool isRequest, class Fields>
    explicit reader(http::header<isRequest, Fields>&, value_type& body) : body_(body) {}

    void init(const boost::optional<std::uint64_t>& length, error_code& ec) {
      ec = {};
      if (!length) return;
      if (*length > body_.max_size() - kBodyPadding) {
        ec = http::error::buffer_overflow;
        return;
      }
      // Bounded by the parser's body limit, checked before init().
      body_.reserve(static_cast<size_t>(*length) + kBodyPadding);
    }

    template <class ConstBufferSequence>
    std::size_t put(const ConstBufferSequence& buffers, error_code& ec) {
      const size_t extra = net::buffer_size(buffers);
      const size_t size = body_.size();
      if (extra > body_.max_size() - kBodyPadding - size) {
        ec = http::error::buffer_overflow;
        return 0;
      }
      const size_t need = size + extra + kBodyPadding;
      if (need > body_.capacity()) body_.reserve(std::max(need, 2 * body_.capacity()));
      body_.resize(size + extra);
      char* dest = body_.data() + size;
      for (const auto b : beast::buffers_range_ref(buffers)) {
        std::memcpy(dest, b.data(), b.size());
        dest += b.size();
      }
      ec = {};
      return extra;
    }

    void finish(error_code& ec) { ec = {}; }

   private:
    value_type& body_;
  };
};

// Beast stores a header field's name and value in 16-bit lengths and throws (out of the io
// thread's run loop, dropping the connection without a reply) for a longer one. Such a field is
// reported as a header_limit error instead, which is answered 431.
class RequestParser : public http::request_parser<PaddedStringBody> {
 private:
  static constexpr size_t kMaxFieldPart = 65535 - 2;  // Beast: size + 2 must fit in 16 bits

  void on_field_impl(http::field name, beast::string_view name_string, beast::string_view value,
                     error_code& ec) override {
    if (name_string.size() > kMaxFieldPart || value.size() > kMaxFieldPart) {
      ec = http::error::header_limit;
      return;
    }
    get().insert(name, name_string, value);
  }
};

// Allows one log line per interval; the caller reports how many were suppressed before it.
// Thread-safe.
class LogLimiter {
 public:
  explicit LogLimiter(int64_t interval_ms) : interval_ns_(interval_ms * 1'000'000) {}

  // True when the caller should log now; then *suppressed is the number of occurrences that
  // were not logged since the previous line.
  bool Allow(uint64_t* suppressed) {
    const int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                            std::chrono::steady_clock::now().time_since_epoch())
                            .count();
    std::lock_guard<std::mutex> l(mu_);
    if (logged_ && now - last_ns_ < interval_ns_) {
      suppressed_++;
      return false;
    }
    logged_ = true;
    last_ns_ = now;
    *suppressed = suppressed_;
    suppressed_ = 0;
    return true;
  }

 private:
  const int64_t interval_ns_;
  std::mutex mu_;
  bool logged_ = false;
  int64_t last_ns_ = 0;
  uint64_t suppressed_ = 0;
};

const std::vector<double>& BodySizeBuckets() {
  static const std::vector<double> b = {1 << 20,  2.5 * (1 << 20), 5 << 20,   10 << 20,
                                        25 << 20, 50 << 20,        100 << 20, 250 << 20};
  return b;
}

}  // namespace

std::string RouteLabel(std::string_view pattern) {
  std::string out;
  bool pending_sep = false;
  for (char c : pattern) {
    bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (!alnum) {
      pending_sep = true;
      continue;
    }
    if (pending_sep && !out.empty()) out.push_back('_');
    pending_sep = false;
    out.push_back(AsciiToLower(c));
  }
  return out.empty() ? "root" : out;
}

std::string_view HttpRequest::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (EqualsIgnoreCase(k, name)) return v;
  }
  return {};
}

void HttpResponse::SetText(int status_code, std::string text) {
  status = status_code;
  content_type = "text/plain; charset=utf-8";
  body = std::move(text);
}

class Session;
class WsSession;

struct HttpServer::Impl {
  explicit Impl(HttpServerOptions o)
      : opts(std::move(o)), header_log(opts.rejected_header_log_interval_ms) {}

  HttpServerOptions opts;
  LogLimiter header_log;  // 431 replies
  std::unordered_map<std::string, PathRoutes> exact;
  std::vector<std::pair<std::string, PathRoutes>> wildcards;  // prefix (with trailing '/')

  // Declared before the io_context: sessions still queued in it when it is
  // destroyed unregister themselves through these.
  mutable std::mutex mu;
  std::condition_variable cv;
  std::unordered_map<Session*, std::weak_ptr<Session>> sessions;
  std::unordered_map<WsSession*, std::weak_ptr<WsSession>> ws_sessions;
  bool started = false;  // Start() was called
  bool running = false;  // Start() succeeded
  bool stopped = false;
  std::atomic<bool> stopping{false};
  std::atomic<int> bound_port{0};

  metrics::Family<metrics::Histogram>* duration = nullptr;
  metrics::Family<metrics::Gauge>* inflight = nullptr;
  metrics::Family<metrics::Histogram>* req_bytes = nullptr;
  metrics::Family<metrics::Histogram>* resp_bytes = nullptr;
  metrics::Gauge* tcp_connections = nullptr;
  metrics::Counter* panics = nullptr;  // handlers that threw (Loki's recovered panics)

  net::io_context ioc;
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work;
  std::optional<tcp::acceptor> acceptor;
  std::optional<net::steady_timer> accept_retry;
  std::vector<std::thread> threads;

  const PathRoutes* Match(const std::string& path) const {
    auto it = exact.find(path);
    if (it != exact.end()) return &it->second;
    for (const auto& [prefix, routes] : wildcards) {  // sorted longest prefix first
      if (path.size() >= prefix.size() && path.compare(0, prefix.size(), prefix) == 0) {
        return &routes;
      }
    }
    return nullptr;
  }

  void DoAccept();
};

// One upgraded WebSocket connection. Every operation on the stream runs on its strand; the
// queue is shared with Send() callers under mu_.
class WsSession final : public WebSocket, public std::enable_shared_from_this<WsSession> {
 public:
  WsSession(HttpServer::Impl* srv, beast::tcp_stream stream, size_t max_queued)
      : srv_(srv), ws_(std::move(stream)), max_queued_(max_queued) {}

  ~WsSession() override {
    std::lock_guard<std::mutex> l(srv_->mu);
    srv_->ws_sessions.erase(this);
    srv_->cv.notify_all();
  }

  template <class Request>
  void Accept(const Request& req, WebSocketOpen on_open, std::string traceparent) {
    {
      std::lock_guard<std::mutex> l(srv_->mu);
      srv_->ws_sessions.emplace(this, weak_from_this());
    }
    beast::get_lowest_layer(ws_).expires_never();
    websocket::stream_base::timeout t;
    t.handshake_timeout = std::chrono::seconds(30);
    t.idle_timeout = std::chrono::seconds(2);  // a ping after 1 s of silence, then give up
    t.keep_alive_pings = true;
    ws_.set_option(t);
    ws_.set_option(websocket::stream_base::decorator(
        [traceparent = std::move(traceparent)](websocket::response_type& res) {
          res.set(http::field::server, "skald");
          res.set("traceparent", traceparent);
        }));
    ws_.async_accept(req, [self = shared_from_this(), on_open = std::move(on_open)](error_code ec) {
      if (ec) return self->MarkClosed();
      self->DoRead();
      if (on_open) on_open(self);
    });
  }

  bool Send(std::string text) override {
    std::lock_guard<std::mutex> l(mu_);
    if (closed_ || close_pending_ || queue_.size() >= max_queued_) return false;
    queue_.push_back(std::move(text));
    if (!writing_) {
      writing_ = true;
      net::post(ws_.get_executor(), [self = shared_from_this()] { self->DoWrite(); });
    }
    return true;
  }

  void Close(uint16_t code, std::string reason) override {
    std::lock_guard<std::mutex> l(mu_);
    if (closed_ || close_pending_) return;
    close_pending_ = true;
    close_reason_ = websocket::close_reason(static_cast<websocket::close_code>(code), reason);
    if (!writing_) {
      writing_ = true;
      net::post(ws_.get_executor(), [self = shared_from_this()] { self->DoWrite(); });
    }
  }

  bool closed() const override {
    std::lock_guard<std::mutex> l(mu_);
    return closed_ || close_pending_;
  }

  size_t queued() const override {
    std::lock_guard<std::mutex> l(mu_);
    return queue_.size();
  }

  // Stop(): cut the connection.
  void Kill() {
    net::post(ws_.get_executor(), [self = shared_from_this()] {
      self->MarkClosed();
      error_code ec;
      beast::get_lowest_layer(self->ws_).socket().cancel(ec);
      beast::get_lowest_layer(self->ws_).socket().close(ec);
    });
  }

 private:
  void MarkClosed() {
    std::lock_guard<std::mutex> l(mu_);
    closed_ = true;
    queue_.clear();
  }

  void DoRead() {
    ws_.async_read(rbuf_, [self = shared_from_this()](error_code ec, size_t) {
      self->rbuf_.clear();
      if (ec) return self->MarkClosed();
      self->DoRead();
    });
  }

  // On the strand, with writing_ set: writes the next queued message, or the close frame.
  void DoWrite() {
    std::unique_lock<std::mutex> l(mu_);
    if (closed_) {
      writing_ = false;
      return;
    }
    if (queue_.empty()) {
      if (!close_pending_) {
        writing_ = false;
        return;
      }
      websocket::close_reason reason = close_reason_;
      l.unlock();
      ws_.async_close(reason, [self = shared_from_this()](error_code) {
        self->MarkClosed();
        std::lock_guard<std::mutex> l(self->mu_);
        self->writing_ = false;
      });
      return;
    }
    current_ = std::move(queue_.front());
    queue_.pop_front();
    l.unlock();
    ws_.text(true);
    ws_.async_write(net::buffer(current_), [self = shared_from_this()](error_code ec, size_t) {
      if (ec) {
        self->MarkClosed();
        std::lock_guard<std::mutex> l(self->mu_);
        self->writing_ = false;
        return;
      }
      self->DoWrite();
    });
  }

  HttpServer::Impl* srv_;
  websocket::stream<beast::tcp_stream> ws_;
  const size_t max_queued_;
  beast::flat_buffer rbuf_;
  mutable std::mutex mu_;
  std::deque<std::string> queue_;
  std::string current_;  // the message being written
  bool writing_ = false;
  bool close_pending_ = false;
  bool closed_ = false;
  websocket::close_reason close_reason_;
};

// One connection. All its completion handlers run on its strand.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(HttpServer::Impl* srv, tcp::socket socket) : srv_(srv), stream_(std::move(socket)) {
    error_code ec;
    auto ep = stream_.socket().remote_endpoint(ec);
    if (!ec) remote_ = ep.address().to_string() + ":" + std::to_string(ep.port());
    if (srv_->tcp_connections) srv_->tcp_connections->Inc();
  }

  ~Session() {
    if (srv_->tcp_connections) srv_->tcp_connections->Dec();
    std::lock_guard<std::mutex> l(srv_->mu);
    srv_->sessions.erase(this);
    srv_->cv.notify_all();
  }

  void Start() {
    {
      std::lock_guard<std::mutex> l(srv_->mu);
      srv_->sessions.emplace(this, weak_from_this());
    }
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->DoRead(); });
  }

  // Called by Stop() (runs on the strand): idle connections close now, busy ones
  // after their current response (keep-alive is off once the server is stopping);
  // with force, every connection closes now.
  void RequestStop(bool force) {
    net::post(stream_.get_executor(), [self = shared_from_this(), force] {
      if (force || self->state_ == State::kIdle) {
        error_code ec;
        self->stream_.socket().cancel(ec);
        self->stream_.socket().close(ec);
      }
    });
  }

 private:
  enum class State { kIdle, kReading, kBusy, kClosing };

  void DoRead() {
    state_ = State::kIdle;
    if (srv_->stopping.load()) return DoClose();
    parser_.emplace();
    parser_->header_limit(
        static_cast<std::uint32_t>(std::min<size_t>(srv_->opts.max_header_bytes, UINT32_MAX)));
    parser_->body_limit(srv_->opts.max_body_bytes);
    stream_.expires_after(std::chrono::milliseconds(srv_->opts.idle_timeout_ms));
    http::async_read_header(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](error_code ec, size_t) { self->OnHeader(ec); });
  }

  void OnHeader(error_code ec) {
    if (ec == http::error::body_limit) return RejectTooLarge(true);
    if (ec) return OnReadError(ec);
    state_ = State::kReading;
    stream_.expires_after(std::chrono::milliseconds(srv_->opts.read_timeout_ms));
    auto& req = parser_->get();
    auto expect = req[http::field::expect];
    if (!parser_->is_done() && EqualsIgnoreCase({expect.data(), expect.size()}, "100-continue")) {
      static const char kContinue[] = "HTTP/1.1 100 Continue\r\n\r\n";
      net::async_write(stream_, net::buffer(kContinue, sizeof(kContinue) - 1),
                       [self = shared_from_this()](error_code ec, size_t) {
                         if (ec) return self->DoClose();
                         self->ReadBody();
                       });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    if (parser_->is_done()) return OnRequest();
    // Beast reads at most the read buffer's spare capacity per receive (at least 512 bytes),
    // so a buffer left small by the header read would take a body in hundreds of
    // receives, each one more socket operation and timer re-arm. Grow it once to the body's
    // size (capped; memory per connection stays bounded) so a body takes a few receives.
    if (auto len = parser_->content_length(); len && buffer_.capacity() < kBodyReadBuffer) {
      buffer_.reserve(static_cast<size_t>(std::min<std::uint64_t>(*len, kBodyReadBuffer)));
    } else if (!len && buffer_.capacity() < kBodyReadBuffer) {
      buffer_.reserve(kBodyReadBuffer);  // chunked: unknown size
    }
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](error_code ec, size_t) {
                       if (ec == http::error::body_limit) return self->RejectTooLarge(false);
                       if (ec) return self->OnReadError(ec);
                       self->OnRequest();
                     });
  }

  void OnReadError(error_code ec) {
    if (ec == http::error::end_of_stream || ec == net::error::eof ||
        ec == net::error::operation_aborted || ec == beast::error::timeout ||
        ec == net::error::connection_reset || ec == http::error::partial_message ||
        ec == net::error::bad_descriptor) {
      return DoClose();
    }
    if (ec == http::error::header_limit) {
      uint64_t suppressed = 0;
      if (srv_->header_log.Allow(&suppressed)) {
        log::Warn("HTTP request header too large: replied 431",
                  {{"remote", remote_},
                   {"max_header_bytes", std::to_string(srv_->opts.max_header_bytes)},
                   {"suppressed", std::to_string(suppressed)}});
      }
      return WriteSimple(431, "431 Request Header Fields Too Large", "", "other");
    }
    // Any other parse error: Go's reply to a malformed request.
    WriteSimple(400, "400 Bad Request", "", "other");
  }

  // Body over the limit: 413 and close (the rest of the body is drained).
  void RejectTooLarge(bool at_header) {
    auto& req = parser_->get();
    std::string detail;
    // The header is not complete in the parser's eyes yet (the limit check fails
    // inside it), but its fields are stored.
    auto len = req[http::field::content_length];
    if (at_header && !len.empty()) {
      detail = "message size too large than max (" + std::string(len) + " vs " +
               std::to_string(srv_->opts.max_body_bytes) + ")";
    } else {
      detail = "message size too large than max (more than " +
               std::to_string(srv_->opts.max_body_bytes) + " bytes)";
    }
    std::string path;
    std::string_view target(req.target().data(), req.target().size());
    std::string_view method =
        req.method() == http::verb::unknown
            ? std::string_view("other")
            : std::string_view(req.method_string().data(), req.method_string().size());
    DecodePath(target.substr(0, target.find('?')), &path);
    const PathRoutes* routes = srv_->Match(path);
    WriteSimple(413, "request body too large: " + detail, method,
                routes ? routes->label : std::string("other"));
  }

  // Plain-text reply that always closes the connection (errors before a handler).
  void WriteSimple(int status, std::string body, std::string_view method,
                   const std::string& route) {
    HttpResponse resp;
    resp.SetText(status, std::move(body));
    trace::Span span;  // no handler ran: a new trace, never recorded
    span.StartServer(trace::SpanContext{}, nullptr);
    resp.headers.emplace_back("traceparent", trace::FormatTraceparent(span.context()));
    if (!method.empty() && srv_->duration) {
      srv_->duration->WithLabels({std::string(method), route, std::to_string(status), "false"})
          .Observe(0);
    }
    Write(resp, /*version=*/11, /*keep_alive=*/false, /*head=*/false);
  }

  // What OnRequest learnt that Finish needs once the handler has run.
  struct Exchange {
    std::chrono::steady_clock::time_point start;
    HttpRequest req;
    HttpResponse resp;
    std::string method_label;
    std::string route = "other";
    bool keep_alive = false;
    unsigned version = 11;
    bool head = false;
    size_t body_bytes = 0;  // request body size, taken before the handler runs
    bool ws = false;        // a WebSocket handshake (dskit's `ws` label)
    trace::Span span;       // the server span, ended by Finish
  };

  // Starts x.span: a child of the request's traceparent (when it carries exactly one valid
  // header), named for the route's pattern.
  void StartSpan(Exchange& x, const PathRoutes* routes) {
    trace::SpanContext remote;
    int traceparents = 0;
    std::string_view header;
    for (const auto& [k, v] : x.req.headers) {
      if (EqualsIgnoreCase(k, "traceparent")) {
        traceparents++;
        header = v;
      }
    }
    if (traceparents == 1) (void)trace::ParseTraceparent(header, &remote);
    x.span.StartServer(remote, srv_->opts.span_exporter);
    if (!x.span.recording()) return;
    std::string name = "HTTP " + x.method_label;
    if (routes != nullptr) name += " " + routes->pattern;
    x.span.SetName(name);
    x.span.SetAttribute("http.request.method", x.method_label);
    if (routes != nullptr) x.span.SetAttribute("http.route", routes->pattern);
  }

  static void RunHandler(HttpServer::Impl* srv, const Handler& handler, Exchange& x) {
    metrics::Gauge* inflight =
        srv->inflight ? &srv->inflight->WithLabels({x.method_label, x.route}) : nullptr;
    if (inflight) inflight->Inc();
    trace::Scope trace_scope(&x.span);
    try {
      handler(x.req, &x.resp);
    } catch (const std::exception& e) {
      log::Error("panic in HTTP handler", {{"path", x.req.path}, {"err", e.what()}});
      if (srv->panics) srv->panics->Inc();
      x.resp = HttpResponse();
      x.resp.SetText(500, std::string("internal server error: ") + e.what());
    } catch (...) {
      log::Error("panic in HTTP handler", {{"path", x.req.path}, {"err", "unknown exception"}});
      if (srv->panics) srv->panics->Inc();
      x.resp = HttpResponse();
      x.resp.SetText(500, "internal server error");
    }
    if (inflight) inflight->Dec();
  }

  void OnRequest() {
    state_ = State::kBusy;
    auto xp = std::make_shared<Exchange>();
    Exchange& x = *xp;
    x.start = std::chrono::steady_clock::now();
    http::request<PaddedStringBody> breq = parser_->release();
    parser_.reset();

    HttpRequest& req = x.req;
    req.method = std::string(breq.method_string());
    req.target = std::string(breq.target());
    req.remote_address = remote_;
    bool path_ok = ParseTarget(&req);
    req.headers.reserve(std::distance(breq.begin(), breq.end()));
    for (const auto& f : breq) {
      req.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
    }
    req.body = std::move(breq.body());
    x.body_bytes = req.body.size();  // the handler may move the body out
    x.keep_alive = breq.keep_alive();
    x.version = breq.version();
    x.head = breq.method() == http::verb::head;
    // Metrics label: non-standard methods collapse to "other" so clients cannot
    // create series at will.
    x.method_label = breq.method() == http::verb::unknown ? "other" : req.method;
    x.ws = websocket::is_upgrade(breq);

    HttpResponse& resp = x.resp;
    std::string& route = x.route;
    const PathRoutes* routes = path_ok ? srv_->Match(req.path) : nullptr;
    StartSpan(x, routes);
    if (routes != nullptr && routes->websocket) {
      route = routes->label;
      if (!websocket::is_upgrade(breq)) {
        // gorilla/websocket's answer (Loki's tail endpoint).
        resp.SetText(400, "Bad Request\n");
        resp.headers.emplace_back("Sec-Websocket-Version", "13");
        return Finish(x);
      }
      WebSocketOpen on_open;
      {
        trace::Scope trace_scope(&x.span);
        on_open = routes->websocket(req, &resp);
      }
      if (!on_open) return Finish(x);
      state_ = State::kClosing;  // the stream now belongs to the WebSocket session
      x.span.SetAttribute("http.response.status_code", int64_t{101});
      x.span.End();
      auto ws = std::make_shared<WsSession>(srv_, std::move(stream_), routes->ws_max_queued);
      ws->Accept(breq, std::move(on_open), trace::FormatTraceparent(x.span.context()));
      return;
    }
    if (!path_ok) {
      resp.SetText(400, "400 Bad Request");
    } else if (routes == nullptr) {
      resp.SetText(404, "404 page not found\n");
      resp.headers.emplace_back("X-Content-Type-Options", "nosniff");
    } else {
      route = routes->label;
      const Handler* handler = nullptr;
      for (const auto& e : routes->entries) {
        if (std::find(e.methods.begin(), e.methods.end(), req.method) != e.methods.end()) {
          handler = &e.handler;
          break;
        }
      }
      if (handler == nullptr) {
        resp.status = 405;
        resp.content_type.clear();
        std::string allow;
        for (const auto& e : routes->entries) {
          for (const auto& m : e.methods) {
            if (!allow.empty()) allow += ", ";
            allow += m;
          }
        }
        resp.headers.emplace_back("Allow", allow);
      } else if (routes->executor == nullptr) {
        RunHandler(srv_, *handler, x);
      } else {
        // Off the io thread: the task owns the exchange and the session, and posts the
        // reply back to the session's strand. No timer runs meanwhile (the write sets one).
        stream_.expires_never();
        // The handler may ask whether the client went away. The io thread leaves the socket
        // alone meanwhile, but a forced Stop() may close it: the probe peeks at its own
        // duplicate of the descriptor, taken here on the strand.
        const int probe_fd = routes->probe_client ? ::dup(stream_.socket().native_handle()) : -1;
        if (probe_fd >= 0) xp->req.client_gone = [probe_fd] { return PeerClosed(probe_fd); };
        auto task = [self = shared_from_this(), xp, handler, probe_fd] {
          RunHandler(self->srv_, *handler, *xp);
          xp->req.client_gone = nullptr;
          if (probe_fd >= 0) ::close(probe_fd);
          net::post(self->stream_.get_executor(), [self, xp] { self->Finish(*xp); });
        };
        if (routes->executor->TrySubmit(std::move(task))) return;
        xp->req.client_gone = nullptr;
        if (probe_fd >= 0) ::close(probe_fd);
        resp.SetText(429, "too many outstanding requests");
      }
    }
    Finish(x);
  }

  // Records metrics and the log line for a handled request and writes its response.
  void Finish(Exchange& x) {
    HttpRequest& req = x.req;
    HttpResponse& resp = x.resp;
    const std::string& method_label = x.method_label;
    const std::string& route = x.route;
    const auto start = x.start;
    bool close_requested = false;
    for (const auto& [k, v] : resp.headers) {
      if (EqualsIgnoreCase(k, "Connection") && EqualsIgnoreCase(v, "close")) close_requested = true;
    }
    const int64_t elapsed_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::steady_clock::now() - start)
                                   .count();
    if (srv_->duration) {
      srv_->duration
          ->WithLabels({method_label, route, std::to_string(resp.status), x.ws ? "true" : "false"})
          .Observe(static_cast<double>(elapsed_ns) / 1e9);
      srv_->req_bytes->WithLabels({method_label, route}).Observe(static_cast<double>(x.body_bytes));
      srv_->resp_bytes->WithLabels({method_label, route})
          .Observe(static_cast<double>(resp.body.size()));
    }
    x.span.SetAttribute("http.response.status_code", int64_t{resp.status});
    if (resp.status >= 500) x.span.SetError(std::string_view(resp.body).substr(0, 1024));
    resp.headers.emplace_back("traceparent", trace::FormatTraceparent(x.span.context()));
    trace::Scope trace_scope(&x.span);
    // Like dskit's logging middleware: 5xx at warn with the reply, the rest at debug.
    if (resp.status >= 500 || log::Enabled(log::Level::kDebug)) {
      std::string msg = req.method + " " + req.target + " (" + std::to_string(resp.status) + ") " +
                        FormatGoDuration(elapsed_ns);
      if (resp.status >= 500) {
        log::Warn(msg, {{"response", resp.body.substr(0, 1024)}, {"remote", remote_}});
      } else {
        log::Debug(msg, {{"remote", remote_}});
      }
    }
    x.span.End();
    Write(resp, x.version, x.keep_alive && !close_requested && !srv_->stopping.load(), x.head);
  }

  void Write(HttpResponse& resp, unsigned version, bool keep_alive, bool head) {
    state_ = State::kBusy;
    auto res = std::make_shared<http::response<http::string_body>>();
    res->version(version == 10 ? 10 : 11);
    res->result(static_cast<unsigned>(resp.status));
    std::string_view text = StatusText(resp.status);
    std::string reason =
        text.empty() ? "status code " + std::to_string(resp.status) : std::string(text);
    res->reason(reason);
    res->set(http::field::date, HttpDate());
    const bool body_allowed = BodyAllowed(resp.status);
    if (body_allowed && !resp.content_type.empty()) {
      res->set(http::field::content_type, resp.content_type);
    }
    for (auto& [k, v] : resp.headers) {
      if (EqualsIgnoreCase(k, "Connection") || EqualsIgnoreCase(k, "Content-Length") ||
          EqualsIgnoreCase(k, "Transfer-Encoding")) {
        continue;
      }
      if (EqualsIgnoreCase(k, "Content-Type") || EqualsIgnoreCase(k, "Date")) {
        res->set(k, v);  // replaces the default
      } else {
        res->insert(k, v);
      }
    }
    if (body_allowed) {
      res->content_length(resp.body.size());
      if (!head) res->body() = std::move(resp.body);
    }
    res->keep_alive(keep_alive);
    stream_.expires_after(std::chrono::milliseconds(srv_->opts.write_timeout_ms));
    auto on_write = [self = shared_from_this(), res, keep_alive](error_code ec, size_t) {
      if (ec) return self->DoClose();
      if (!keep_alive) return self->DoLingeringClose();
      self->DoRead();
    };
    if (head && body_allowed) {
      // HEAD: headers only, Content-Length still announces the GET body size.
      auto sr = std::make_shared<http::response_serializer<http::string_body>>(*res);
      http::async_write_header(stream_, *sr,
                               [on_write, sr](error_code ec, size_t n) { on_write(ec, n); });
    } else {
      http::async_write(stream_, *res, on_write);
    }
  }

  // After a "Connection: close" reply: half-close and drain what the client still
  // sends (for up to a second / 4 MiB), so it reads our reply instead of a reset.
  void DoLingeringClose() {
    state_ = State::kClosing;
    error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    if (ec) return DoClose();
    stream_.expires_after(std::chrono::seconds(1));
    drained_ = 0;
    Drain();
  }

  void Drain() {
    if (!drain_buf_) drain_buf_ = std::make_unique<char[]>(kDrainChunk);
    stream_.async_read_some(net::buffer(drain_buf_.get(), kDrainChunk),
                            [self = shared_from_this()](error_code ec, size_t n) {
                              self->drained_ += n;
                              if (ec || self->drained_ > kDrainLimit) return self->DoClose();
                              self->Drain();
                            });
  }

  void DoClose() {
    state_ = State::kClosing;
    error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.socket().close(ec);
  }

  static constexpr size_t kDrainChunk = 64 << 10;
  static constexpr size_t kBodyReadBuffer = 64 << 10;  // see ReadBody
  static constexpr size_t kDrainLimit = 4 << 20;

  HttpServer::Impl* srv_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<RequestParser> parser_;
  State state_ = State::kIdle;
  std::string remote_;
  std::unique_ptr<char[]> drain_buf_;
  size_t drained_ = 0;
};

void HttpServer::Impl::DoAccept() {
  acceptor->async_accept(net::make_strand(ioc), [this](error_code ec, tcp::socket socket) {
    if (stopping.load() || ec == net::error::operation_aborted || !acceptor->is_open()) return;
    if (ec) {
      // EMFILE and friends: back off instead of spinning.
      log::Warn("HTTP accept failed", {{"err", ec.message()}});
      accept_retry->expires_after(std::chrono::milliseconds(50));
      accept_retry->async_wait([this](error_code ec) {
        if (!ec && !stopping.load()) DoAccept();
      });
      return;
    }
    socket.set_option(tcp::no_delay(true), ec);
    std::make_shared<Session>(this, std::move(socket))->Start();
    DoAccept();
  });
}

HttpServer::HttpServer(HttpServerOptions opts) : impl_(std::make_unique<Impl>(std::move(opts))) {
  if (impl_->opts.registry != nullptr) {
    metrics::Registry* r = impl_->opts.registry;
    const std::string& ns = impl_->opts.metrics_namespace;
    impl_->duration = &r->Histogram(
        ns + "_request_duration_seconds", "Time (in seconds) spent serving HTTP requests.",
        {"method", "route", "status_code", "ws"},
        // dskit's instrument.DefBuckets
        {.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 25, 50, 100});
    impl_->inflight = &r->Gauge(ns + "_inflight_requests", "Current number of inflight requests.",
                                {"method", "route"});
    impl_->req_bytes = &r->Histogram(ns + "_request_message_bytes",
                                     "Size (in bytes) of messages received in the request.",
                                     {"method", "route"}, BodySizeBuckets());
    impl_->resp_bytes = &r->Histogram(ns + "_response_message_bytes",
                                      "Size (in bytes) of messages sent in response.",
                                      {"method", "route"}, BodySizeBuckets());
    impl_->tcp_connections = &r->Gauge(ns + "_tcp_connections",
                                       "Current number of accepted TCP connections.", {"protocol"})
                                  .WithLabels({"http"});
    impl_->panics =
        &r->Counter(ns + "_panic_total", "The total number of panic triggered").WithLabels();
  }
}

HttpServer::~HttpServer() { Stop(); }

void HttpServer::Route(std::vector<std::string> methods, std::string path, Handler h,
                       std::string route_label) {
  bool wildcard = path.size() >= 2 && path.compare(path.size() - 2, 2, "/*") == 0;
  std::string key = wildcard ? path.substr(0, path.size() - 1) : path;
  PathRoutes* routes = nullptr;
  if (wildcard) {
    for (auto& [prefix, r] : impl_->wildcards) {
      if (prefix == key) routes = &r;
    }
    if (routes == nullptr) {
      impl_->wildcards.emplace_back(key, PathRoutes{});
      routes = &impl_->wildcards.back().second;
    }
  } else {
    routes = &impl_->exact[key];
  }
  if (!route_label.empty()) {
    routes->label = std::move(route_label);
  } else if (routes->label.empty()) {
    routes->label = RouteLabel(path);
  }
  if (routes->pattern.empty()) routes->pattern = path;
  routes->entries.push_back(RouteEntry{std::move(methods), std::move(h)});
  std::stable_sort(impl_->wildcards.begin(), impl_->wildcards.end(),
                   [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); });
}

void HttpServer::RouteWebSocket(std::string path, WebSocketHandler handler, size_t max_queued) {
  PathRoutes& routes = impl_->exact[path];
  if (routes.label.empty()) routes.label = RouteLabel(path);
  if (routes.pattern.empty()) routes.pattern = path;
  routes.websocket = std::move(handler);
  routes.ws_max_queued = std::max<size_t>(1, max_queued);
}

bool ParseTarget(HttpRequest* req) {
  std::string_view target = req->target;
  if (target.rfind("http://", 0) == 0 || target.rfind("https://", 0) == 0) {
    size_t scheme_end = target.find("//") + 2;
    size_t path_start = target.find('/', scheme_end);
    target =
        path_start == std::string_view::npos ? std::string_view("/") : target.substr(path_start);
  }
  size_t qpos = target.find('?');
  if (qpos != std::string_view::npos) req->query = std::string(target.substr(qpos + 1));
  return DecodePath(target.substr(0, qpos), &req->path);
}

void HttpServer::Serve(const HttpRequest& req, HttpResponse* resp) const {
  const PathRoutes* routes = impl_->Match(req.path);
  if (routes == nullptr) {
    resp->SetText(404, "404 page not found\n");
    return;
  }
  for (const auto& e : routes->entries) {
    if (std::find(e.methods.begin(), e.methods.end(), req.method) == e.methods.end()) continue;
    try {
      e.handler(req, resp);
    } catch (const std::exception& ex) {
      log::Error("panic in HTTP handler", {{"path", req.path}, {"err", ex.what()}});
      *resp = HttpResponse();
      resp->SetText(500, std::string("internal server error: ") + ex.what());
    } catch (...) {
      log::Error("panic in HTTP handler", {{"path", req.path}, {"err", "unknown exception"}});
      *resp = HttpResponse();
      resp->SetText(500, "internal server error");
    }
    return;
  }
  resp->status = 405;
  resp->content_type.clear();
}

Status HttpServer::RunOn(const std::string& path, Executor* executor, bool probe_client) {
  bool wildcard = path.size() >= 2 && path.compare(path.size() - 2, 2, "/*") == 0;
  std::string key = wildcard ? path.substr(0, path.size() - 1) : path;
  if (wildcard) {
    for (auto& [prefix, r] : impl_->wildcards) {
      if (prefix == key) {
        r.executor = executor;
        r.probe_client = probe_client;
        return Status::OK();
      }
    }
  } else if (auto it = impl_->exact.find(key); it != impl_->exact.end()) {
    it->second.executor = executor;
    it->second.probe_client = probe_client;
    return Status::OK();
  }
  return Status::NotFound("no HTTP route " + path);
}

Status HttpServer::Start() {
  Impl& s = *impl_;
  {
    std::lock_guard<std::mutex> l(s.mu);
    if (s.started) return Status::Unavailable("HTTP server already started");
    s.started = true;
  }
  error_code ec;
  std::string host = s.opts.address.empty() ? "0.0.0.0" : s.opts.address;
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  tcp::endpoint endpoint;
  auto addr = net::ip::make_address(host, ec);
  if (!ec) {
    endpoint = tcp::endpoint(addr, static_cast<unsigned short>(s.opts.port));
  } else {
    tcp::resolver resolver(s.ioc);
    auto results = resolver.resolve(host, std::to_string(s.opts.port), ec);
    if (ec || results.empty()) {
      return Status::Unavailable("cannot resolve HTTP listen address \"" + host +
                                 "\": " + (ec ? ec.message() : "no addresses"));
    }
    endpoint = results.begin()->endpoint();
  }
  auto where = [&] { return host + ":" + std::to_string(s.opts.port); };
  s.acceptor.emplace(net::make_strand(s.ioc));
  s.acceptor->open(endpoint.protocol(), ec);
  if (ec) return Status::Unavailable("listen tcp " + where() + ": " + ec.message());
  s.acceptor->set_option(net::socket_base::reuse_address(true), ec);
  s.acceptor->bind(endpoint, ec);
  if (ec) return Status::Unavailable("listen tcp " + where() + ": bind: " + ec.message());
  s.acceptor->listen(net::socket_base::max_listen_connections, ec);
  if (ec) return Status::Unavailable("listen tcp " + where() + ": listen: " + ec.message());
  s.bound_port.store(s.acceptor->local_endpoint().port());
  s.accept_retry.emplace(s.acceptor->get_executor());

  s.work.emplace(s.ioc.get_executor());
  {
    std::lock_guard<std::mutex> l(s.mu);
    s.running = true;
  }
  s.DoAccept();
  int n = s.opts.threads > 0 ? s.opts.threads
                             : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  for (int i = 0; i < n; i++) {
    s.threads.emplace_back([&s] {
      for (;;) {
        try {
          s.ioc.run();
          return;
        } catch (const std::exception& e) {
          log::Error("HTTP io thread caught exception", {{"err", e.what()}});
        }
      }
    });
  }
  return Status::OK();
}

int HttpServer::port() const { return impl_->bound_port.load(); }

size_t HttpServer::connection_count() const {
  std::lock_guard<std::mutex> l(impl_->mu);
  return impl_->sessions.size();
}

void HttpServer::Stop() {
  Impl& s = *impl_;
  auto live_sessions = [&s] {
    std::vector<std::shared_ptr<Session>> live;
    std::lock_guard<std::mutex> l(s.mu);
    for (auto& [ptr, weak] : s.sessions) {
      if (auto sp = weak.lock()) live.push_back(std::move(sp));
    }
    return live;
  };
  {
    std::lock_guard<std::mutex> l(s.mu);
    if (!s.running || s.stopped) return;
    s.stopped = true;
    s.stopping.store(true);
  }
  net::post(s.acceptor->get_executor(), [&s] {
    error_code ec;
    s.acceptor->close(ec);
    s.accept_retry->cancel();
  });
  auto wait_sessions = [&s](int64_t ms) {
    std::unique_lock<std::mutex> l(s.mu);
    return s.cv.wait_for(l, std::chrono::milliseconds(ms),
                         [&s] { return s.sessions.empty() && s.ws_sessions.empty(); });
  };
  {
    // WebSocket connections (live tails) have no request to finish: cut them now.
    std::vector<std::shared_ptr<WsSession>> ws;
    {
      std::lock_guard<std::mutex> l(s.mu);
      for (auto& [ptr, weak] : s.ws_sessions) {
        if (auto sp = weak.lock()) ws.push_back(std::move(sp));
      }
    }
    for (auto& sp : ws) sp->Kill();
  }
  {
    auto live = live_sessions();
    for (auto& sp : live) sp->RequestStop(/*force=*/false);
  }  // the sessions must be able to die: drop our references
  if (!wait_sessions(s.opts.shutdown_grace_ms)) {
    // Grace period over: cut the remaining connections. A handler that is still
    // running keeps its io thread (and this join) busy until it returns.
    auto live = live_sessions();
    for (auto& sp : live) sp->RequestStop(/*force=*/true);
    live.clear();
    wait_sessions(1000);
  }
  s.work.reset();
  s.ioc.stop();
  for (auto& t : s.threads) t.join();
  s.threads.clear();
  error_code ec;
  if (s.acceptor && s.acceptor->is_open()) s.acceptor->close(ec);
}

}  // namespace skald::server
