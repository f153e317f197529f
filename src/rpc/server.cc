#include "rpc/server.h"

#include <chrono>
#include <vector>

#include "rpc/internal.h"

namespace skald::rpc {

std::string TenantOf(const grpc::ServerContextBase& ctx, const std::string& no_auth_tenant) {
  auto it = ctx.client_metadata().find(kOrgIdKey);
  if (it != ctx.client_metadata().end()) return std::string(it->second.data(), it->second.size());
  return no_auth_tenant;
}

void PrepareCall(grpc::ClientContext* ctx, std::string_view tenant, int64_t timeout_ns) {
  ctx->AddMetadata(kOrgIdKey, std::string(tenant));
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::nanoseconds(timeout_ns));
}

grpc::Status ToGrpc(const Status& st) {
  switch (st.code()) {
    case StatusCode::kOk:
      return grpc::Status::OK;
    case StatusCode::kInvalidArgument:
    case StatusCode::kUnprocessable:
      return {grpc::StatusCode::INVALID_ARGUMENT, st.message()};
    case StatusCode::kResourceExhausted:
    case StatusCode::kTooLarge:
      return {grpc::StatusCode::RESOURCE_EXHAUSTED, st.message()};
    case StatusCode::kUnauthenticated:
      return {grpc::StatusCode::UNAUTHENTICATED, st.message()};
    case StatusCode::kUnavailable:
      return {grpc::StatusCode::UNAVAILABLE, st.message()};
    case StatusCode::kDeadlineExceeded:
      return {grpc::StatusCode::DEADLINE_EXCEEDED, st.message()};
    case StatusCode::kCancelled:
      return {grpc::StatusCode::CANCELLED, st.message()};
    default:
      return {grpc::StatusCode::INTERNAL, st.message()};
  }
}

Status FromGrpc(const grpc::Status& st, std::string_view what) {
  const std::string& m = st.error_message();
  switch (st.error_code()) {
    case grpc::StatusCode::OK:
      return Status::OK();
    case grpc::StatusCode::INVALID_ARGUMENT:
      return Status::InvalidArgument(m);
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return Status::ResourceExhausted(m);
    case grpc::StatusCode::UNAUTHENTICATED:
      return Status::Unauthenticated(m);
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
    case grpc::StatusCode::CANCELLED:
      return Status::Unavailable(std::string(what) + ": " + m);
    default:
      return Status::Internal(std::string(what) + ": " + m);
  }
}

struct GrpcServer::Impl {
  std::vector<std::unique_ptr<grpc::Service>> services;
  std::string names;
  std::unique_ptr<grpc::Server> server;
  int port = 0;
  bool stopped = false;
};

GrpcServer::GrpcServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

GrpcServer::~GrpcServer() { Stop(); }

StatusOr<std::unique_ptr<GrpcServer>> GrpcServer::Start(const std::string& address,
                                                        const GrpcServices& services) {
  auto impl = std::make_unique<Impl>();
  auto add = [&](std::unique_ptr<grpc::Service> s, const char* name) {
    impl->services.push_back(std::move(s));
    if (!impl->names.empty()) impl->names += ",";
    impl->names += name;
  };
  if (services.pusher != nullptr) {
    add(NewPusherService(services.pusher, services.no_auth_tenant), "logproto.Pusher");
  }
  if (services.reader != nullptr) {
    add(NewStreamReaderService(services.reader, services.no_auth_tenant),
        "skald.ingesterpb.StreamReader");
  }
  if (services.frontend != nullptr) {
    add(NewFrontendService(services.frontend), "frontend.Frontend");
  }
  grpc::ServerBuilder builder;
  builder.AddListeningPort(address, grpc::InsecureServerCredentials(), &impl->port);
  for (auto& s : impl->services) builder.RegisterService(s.get());
  // Loki's grpc_server_max_recv_msg_size / max_send_msg_size defaults.
  builder.SetMaxReceiveMessageSize(100 << 20);
  builder.SetMaxSendMessageSize(100 << 20);
  impl->server = builder.BuildAndStart();
  if (impl->server == nullptr || impl->port == 0) {
    return Status::Unavailable("gRPC: cannot listen on " + address);
  }
  return std::unique_ptr<GrpcServer>(new GrpcServer(std::move(impl)));
}

int GrpcServer::port() const { return impl_->port; }

std::string GrpcServer::names() const { return impl_->names; }

void GrpcServer::Stop() {
  if (impl_ == nullptr || impl_->stopped) return;
  impl_->stopped = true;
  // Streams that wait for work (a querier's Process) end at the deadline.
  impl_->server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  impl_->server->Wait();
}

}  // namespace skald::rpc
