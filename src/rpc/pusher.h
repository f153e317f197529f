// Pushes between roles over gRPC: Loki's logproto.Pusher service (proto/logproto/push.proto).
//
// The server side (rpc/server.h) serves it in front of any ingester::Pusher (an ingester),
// taking the tenant from the `x-scope-orgid` metadata as Loki's gRPC middleware does.
// RemotePusher is an
// ingester::Pusher that sends to one such server, so a distributor writes to a remote
// ingester through the same interface it uses in process.
//
// Loki's PushResponse is empty: per-entry outcomes do not cross the wire. A push the ingester
// took whole is OK (every stream's result counts its entries appended, duplicates included);
// otherwise the server answers with a gRPC status (INVALID_ARGUMENT for refused entries, with
// the reasons; RESOURCE_EXHAUSTED for rate, stream and memory limits; UNAVAILABLE when the
// ingester could not take the push) and RemotePusher returns the matching Status.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "core/status.h"
#include "ingester/interface.h"

namespace skald::rpc {

class RemotePusher : public ingester::Pusher {
 public:
  // `target` is "host:port". Each push waits at most `timeout_ns`.
  RemotePusher(const std::string& target, int64_t timeout_ns);
  ~RemotePusher() override;

  Status PushBatch(std::string_view tenant, std::span<ingester::StreamAppend> streams) override;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace skald::rpc
