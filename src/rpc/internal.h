// What the rpc module's files share and nothing outside it includes: status mapping, the
// tenant metadata, and the factories of the services GrpcServer hosts.
#pragma once

#include <grpcpp/grpcpp.h>
#include <grpcpp/impl/service_type.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"
#include "rpc/server.h"  // the services' interfaces (forward-declared there)

namespace skald::rpc {

// The tenant header Loki's gRPC middleware reads and writes.
inline constexpr char kOrgIdKey[] = "x-scope-orgid";

// The tenant of a call: its x-scope-orgid metadata, else `no_auth_tenant` ("" = none).
std::string TenantOf(const grpc::ServerContextBase& ctx, const std::string& no_auth_tenant);

// A client call's tenant (x-scope-orgid) and deadline (now + timeout_ns).
void PrepareCall(grpc::ClientContext* ctx, std::string_view tenant, int64_t timeout_ns);

grpc::Status ToGrpc(const Status& st);
// A failed call's status; `what` prefixes the message of transport errors ("ingester push").
Status FromGrpc(const grpc::Status& st, std::string_view what);

std::unique_ptr<grpc::Service> NewPusherService(ingester::Pusher* pusher,
                                                std::string no_auth_tenant);
std::unique_ptr<grpc::Service> NewStreamReaderService(ingester::StreamReader* reader,
                                                      std::string no_auth_tenant);
std::unique_ptr<grpc::Service> NewFrontendService(frontend::RequestQueue* queue);

}  // namespace skald::rpc
