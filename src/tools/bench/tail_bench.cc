#include "tools/bench/tail_bench.h"

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include "tools/http/http_client.h"

namespace skald::bench {
namespace {

namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

// Entries in a tail message: one `["<ns>","<line>"]` per entry; counted by the `],["` and
// `[["` that open them (lines are JSON strings, so these byte pairs only occur there or in a
// line containing them, which the generated corpus does not).
uint64_t CountEntries(std::string_view m, uint64_t* dropped) {
  size_t cut = m.find("\"dropped_entries\"");
  std::string_view streams = m.substr(0, cut);
  uint64_t n = 0;
  for (size_t p = 0; (p = streams.find("[[\"", p)) != std::string_view::npos; p += 3) n++;
  for (size_t p = 0; (p = streams.find("],[\"", p)) != std::string_view::npos; p += 4) n++;
  if (cut != std::string_view::npos) {
    std::string_view d = m.substr(cut);
    for (size_t p = 0; (p = d.find("\"timestamp\"", p)) != std::string_view::npos; p += 11) {
      (*dropped)++;
    }
  }
  return n;
}

struct Client : std::enable_shared_from_this<Client> {
  explicit Client(net::io_context& ioc) : ws(ioc) {}
  websocket::stream<tcp::socket> ws;
  beast::flat_buffer buf;
  bool history_done = false;
  bool closed = false;
  void Read(TailReport* r, Clock::time_point t0) {
    ws.async_read(buf, [self = shared_from_this(), r, t0](beast::error_code ec, size_t) {
      if (ec) {
        self->closed = true;
        return;
      }
      std::string m = beast::buffers_to_string(self->buf.data());
      self->buf.consume(self->buf.size());
      r->messages++;
      uint64_t n = CountEntries(m, &r->dropped);
      if (!self->history_done) {
        self->history_done = true;  // the first message is the history
      } else {
        r->entries += n;
        double s = std::chrono::duration<double>(Clock::now() - t0).count();
        if (r->first_entry_s == 0) r->first_entry_s = s;
        r->last_entry_s = s;
      }
      self->Read(r, t0);
    });
  }
};

}  // namespace

StatusOr<TailReport> RunTailBench(const TailOptions& opt) {
  std::string hostport = opt.url;
  if (hostport.rfind("http://", 0) == 0) hostport = hostport.substr(7);
  while (!hostport.empty() && hostport.back() == '/') hostport.pop_back();
  size_t colon = hostport.rfind(':');
  if (colon == std::string::npos) return Status::InvalidArgument("URL needs host:port");
  const std::string host = hostport.substr(0, colon), port = hostport.substr(colon + 1);
  const std::string target = "/loki/api/v1/tail?limit=" + std::to_string(opt.limit) +
                             "&query=" + http::QueryEscape(opt.query);
  net::io_context ioc;
  tcp::resolver resolver(ioc);
  beast::error_code ec;
  auto endpoints = resolver.resolve(host, port, ec);
  if (ec) return Status::Unavailable("resolve " + host + ": " + ec.message());
  TailReport r;
  std::vector<std::shared_ptr<Client>> clients;
  for (int i = 0; i < opt.clients; i++) {
    auto c = std::make_shared<Client>(ioc);
    net::connect(c->ws.next_layer(), endpoints, ec);
    if (ec) return Status::Unavailable("connect: " + ec.message());
    c->ws.set_option(websocket::stream_base::decorator([&opt](websocket::request_type& req) {
      if (!opt.tenant.empty()) req.set("X-Scope-OrgID", opt.tenant);
    }));
    websocket::response_type res;
    c->ws.handshake(res, hostport, target, ec);
    if (ec) {
      return Status::Unavailable("tail " + std::to_string(i) + ": HTTP " +
                                 std::to_string(res.result_int()) + " " + ec.message());
    }
    clients.push_back(std::move(c));
    r.connected++;
  }
  const auto t0 = Clock::now();
  for (auto& c : clients) c->Read(&r, t0);
  net::steady_timer idle(ioc);
  std::function<void()> check = [&] {
    idle.expires_after(std::chrono::milliseconds(100));
    idle.async_wait([&](beast::error_code e) {
      if (e) return;
      const double now = std::chrono::duration<double>(Clock::now() - t0).count();
      if (opt.idle_ns > 0 && r.last_entry_s > 0 && (now - r.last_entry_s) * 1e9 > opt.idle_ns) {
        ioc.stop();
        return;
      }
      check();
    });
  };
  check();
  ioc.run_for(std::chrono::nanoseconds(opt.duration_ns));
  for (auto& c : clients) r.closed_early += c->closed ? 1 : 0;
  for (auto& c : clients) {
    beast::error_code ignored;
    c->ws.next_layer().close(ignored);
  }
  return r;
}

}  // namespace skald::bench
