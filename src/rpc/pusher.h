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
#include <span>
#include <string>

#include "core/status.h"
#include "ingester/interface.h"

namespace skald::rpc {

// A push request built once (in one arena) from some of a push's streams, to be sent to each
// of the ingesters that replicate them: replicas of a stream get the same bytes, so the request
// is built once per set of streams, not once per ingester.
class EncodedPush {
 public:
  // streams[i] for every i in `which`; the streams' views are copied.
  EncodedPush(std::span<const ingester::StreamAppend> streams, std::span<const size_t> which);
  ~EncodedPush();
  EncodedPush(const EncodedPush&) = delete;
  EncodedPush& operator=(const EncodedPush&) = delete;

  struct Impl;
  const Impl& impl() const { return *impl_; }

 private:
  std::unique_ptr<Impl> impl_;
};

class RemotePusher : public ingester::Pusher {
 public:
  // `target` is "host:port". Each push waits at most `timeout_ns`.
  RemotePusher(const std::string& target, int64_t timeout_ns);
  ~RemotePusher() override;

  Status PushBatch(std::string_view tenant, std::span<ingester::StreamAppend> streams) override;
  // Sends a request built beforehand (thread-safe; one EncodedPush may go to several
  // ingesters at once). OK when the ingester took it whole.
  Status Send(std::string_view tenant, const EncodedPush& push);

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace skald::rpc
