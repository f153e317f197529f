// The gRPC server of a Skald process: one port (server.grpc_listen_port) hosting the services
// its roles serve (docs/formats/grpc.md):
//   logproto.Pusher              ingesters take pushes from distributors
//   skald.ingesterpb.StreamReader  ingesters answer queriers' reads
//   frontend.Frontend            the query frontend hands queries to queriers that pull them
#pragma once

#include <memory>
#include <string>

#include "core/status.h"

namespace skald::ingester {
class Pusher;
class StreamReader;
}  // namespace skald::ingester

namespace skald::frontend {
class RequestQueue;
}

namespace skald::rpc {

struct GrpcServices {
  ingester::Pusher* pusher = nullptr;        // null: not served
  ingester::StreamReader* reader = nullptr;  // null: not served
  frontend::RequestQueue* frontend = nullptr;
  // The tenant of calls that carry no x-scope-orgid (auth_enabled: false).
  std::string no_auth_tenant = "fake";
};

class GrpcServer {
 public:
  // Listens on `address` ("127.0.0.1:0" picks a free port) and serves `services`, which must
  // outlive the server.
  static StatusOr<std::unique_ptr<GrpcServer>> Start(const std::string& address,
                                                     const GrpcServices& services);
  ~GrpcServer();  // Stop()s

  int port() const;
  // The names of the services served, comma-separated (for the start-up log line).
  std::string names() const;
  // Stops taking calls and waits for the ones in flight (streams are cancelled).
  void Stop();

  struct Impl;

 private:
  explicit GrpcServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace skald::rpc
