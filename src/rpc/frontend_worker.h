// A querier's side of the query frontend (Loki's frontend_worker): `concurrency` streams to
// the frontend's frontend.Frontend/Process, each running one query at a time through
// `handler` (the querier's own HTTP API, called in process) and sending the response back.
// A broken stream is reopened after a backoff (100 ms doubling to 5 s), so queriers and the
// frontend may start and restart in any order.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "frontend/queue.h"

namespace skald::rpc {

struct FrontendWorkerOptions {
  std::string frontend_address;  // host:port of the frontend's gRPC server
  int concurrency = 4;           // querier.max_concurrent
  std::string client_id;         // how the frontend names this querier
};

class FrontendWorker {
 public:
  using Handler = std::function<frontend::Response(const frontend::Request&)>;
  FrontendWorker(FrontendWorkerOptions opts, Handler handler);
  ~FrontendWorker();  // Stop()s

  void Start();
  // Cancels the streams and joins their threads; a query being run finishes first.
  void Stop();

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace skald::rpc
