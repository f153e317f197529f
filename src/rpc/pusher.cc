#include "rpc/pusher.h"

#include <grpcpp/grpcpp.h>

#include <thread>

#include "core/labels.h"
#include "core/thread_pool.h"
#include "logproto/push.grpc.pb.h"
#include "rpc/internal.h"
#include "wire/push.h"

namespace skald::rpc {

namespace {

// What a stream's result says went wrong, as the status of the whole push (empty: nothing).
Status StreamOutcome(const Labels& labels, const ingester::AppendResult& r) {
  if (r.memory_limited) {
    return Status::ResourceExhausted("ingester memory limit reached for stream " +
                                     labels.ToString());
  }
  if (r.stream_limited) {
    return Status::ResourceExhausted(
        "maximum active stream limit exceeded when trying to create "
        "stream " +
        labels.ToString());
  }
  if (!r.rate_limited.empty()) {
    return Status::ResourceExhausted("Per stream rate limit exceeded for stream " +
                                     labels.ToString() + ": " +
                                     std::to_string(r.rate_limited.size()) + " entries refused");
  }
  if (!r.rejected.empty()) {
    return Status::InvalidArgument(r.rejected.front().second + " (" +
                                   std::to_string(r.rejected.size()) + " entries of stream " +
                                   labels.ToString() + " refused)");
  }
  return Status::OK();
}

// Push is served from its raw bytes (gRPC's callback API): the request is decoded by the same
// zero-copy decoder as an HTTP protobuf push (wire/push.h), not into a protobuf message with
// an allocation per line, and applied on a pool of the service's own (it waits for the WAL).
class PusherService final
    : public logproto::Pusher::WithRawCallbackMethod_Push<logproto::Pusher::Service> {
 public:
  PusherService(ingester::Pusher* pusher, std::string no_auth_tenant)
      : pusher_(pusher),
        no_auth_tenant_(std::move(no_auth_tenant)),
        pool_(std::make_unique<ThreadPool>("skald-grpc-push", 32, 4096)) {}
  ~PusherService() override { pool_->Shutdown(); }

  grpc::ServerUnaryReactor* Push(grpc::CallbackServerContext* ctx, const grpc::ByteBuffer* request,
                                 grpc::ByteBuffer* response) override {
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    std::string tenant = TenantOf(*ctx, no_auth_tenant_);
    if (tenant.empty()) {
      reactor->Finish({grpc::StatusCode::UNAUTHENTICATED, "no org id"});
      return reactor;
    }
    std::vector<grpc::Slice> slices;
    if (!request->Dump(&slices).ok()) {
      reactor->Finish({grpc::StatusCode::INTERNAL, "cannot read the request"});
      return reactor;
    }
    std::string raw;
    raw.reserve(request->Length());
    for (const grpc::Slice& sl : slices) {
      raw.append(reinterpret_cast<const char*>(sl.begin()), sl.size());
    }
    auto task = [this, reactor, response, tenant = std::move(tenant),
                 raw = std::move(raw)]() mutable {
      grpc::Status st = Apply(tenant, std::move(raw));
      if (st.ok()) {
        grpc::Slice empty;  // PushResponse has no fields: its encoding is empty
        *response = grpc::ByteBuffer(&empty, 1);
      }
      reactor->Finish(st);
    };
    if (!pool_->TrySubmit(std::move(task))) {
      reactor->Finish({grpc::StatusCode::UNAVAILABLE, "ingester push queue full"});
    }
    return reactor;
  }

 private:
  grpc::Status Apply(const std::string& tenant, std::string raw) {
    auto req = wire::DecodePushProtobufRaw(std::move(raw));
    if (!req.ok()) return {grpc::StatusCode::INVALID_ARGUMENT, req.status().message()};
    const size_t n = req->streams.size();
    std::vector<Labels> labels(n);
    std::vector<std::vector<ingester::AppendEntry>> entries(n);
    std::vector<ingester::StreamAppend> appends(n);
    for (size_t i = 0; i < n; i++) {
      const wire::PushStream& s = req->streams[i];
      auto ls = ParseLabels(s.labels);
      if (!ls.ok()) {
        return {grpc::StatusCode::INVALID_ARGUMENT,
                "error parsing labels '" + std::string(s.labels) + "': " + ls.status().message()};
      }
      labels[i] = std::move(*ls);
      auto& es = entries[i];
      es.reserve(s.entries.size());
      for (const wire::PushEntry& e : s.entries) {
        es.push_back({e.timestamp_ns, e.line, req->MetadataOf(e)});
      }
      appends[i].labels = &labels[i];
      appends[i].entries = es;
    }
    Status st = pusher_->PushBatch(tenant, appends);
    if (!st.ok()) return ToGrpc(st);
    for (size_t i = 0; i < n; i++) {
      Status outcome = StreamOutcome(labels[i], appends[i].result);
      if (!outcome.ok()) return ToGrpc(outcome);
    }
    return grpc::Status::OK;
  }

  ingester::Pusher* pusher_;
  const std::string no_auth_tenant_;
  std::unique_ptr<ThreadPool> pool_;
};

}  // namespace

std::unique_ptr<grpc::Service> NewPusherService(ingester::Pusher* pusher,
                                                std::string no_auth_tenant) {
  return std::make_unique<PusherService>(pusher, std::move(no_auth_tenant));
}

struct RemotePusher::Impl {
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<logproto::Pusher::Stub> stub;
  int64_t timeout_ns = 0;
};

RemotePusher::RemotePusher(const std::string& target, int64_t timeout_ns)
    : impl_(std::make_unique<Impl>()) {
  grpc::ChannelArguments args;
  args.SetMaxSendMessageSize(100 << 20);
  impl_->channel = grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
  impl_->stub = logproto::Pusher::NewStub(impl_->channel);
  impl_->timeout_ns = timeout_ns;
}

RemotePusher::~RemotePusher() = default;

struct EncodedPush::Impl {
  google::protobuf::Arena arena;
  logproto::PushRequest* req = nullptr;
};

EncodedPush::EncodedPush(std::span<const ingester::StreamAppend> streams,
                         std::span<const size_t> which)
    : impl_(std::make_unique<Impl>()) {
  impl_->req = google::protobuf::Arena::CreateMessage<logproto::PushRequest>(&impl_->arena);
  logproto::PushRequest& req = *impl_->req;
  req.mutable_streams()->Reserve(static_cast<int>(which.size()));
  for (size_t i : which) {
    const ingester::StreamAppend& s = streams[i];
    logproto::StreamAdapter* out = req.add_streams();
    out->set_labels(s.labels->ToString());
    out->set_hash(s.fingerprint != 0 ? s.fingerprint : s.labels->Fingerprint());
    out->mutable_entries()->Reserve(static_cast<int>(s.entries.size()));
    for (const ingester::AppendEntry& e : s.entries) {
      logproto::EntryAdapter* entry = out->add_entries();
      entry->mutable_timestamp()->set_seconds(e.ts / 1'000'000'000);
      entry->mutable_timestamp()->set_nanos(static_cast<int32_t>(e.ts % 1'000'000'000));
      entry->set_line(e.line.data(), e.line.size());
      for (const MetadataPair& p : e.metadata) {
        logproto::LabelPairAdapter* md = entry->add_structuredmetadata();
        md->set_name(p.name.data(), p.name.size());
        md->set_value(p.value.data(), p.value.size());
      }
    }
  }
}

EncodedPush::~EncodedPush() = default;

Status RemotePusher::Send(std::string_view tenant, const EncodedPush& push) {
  grpc::ClientContext ctx;
  PrepareCall(&ctx, tenant, impl_->timeout_ns);
  logproto::PushResponse resp;
  return FromGrpc(impl_->stub->Push(&ctx, *push.impl().req, &resp), "ingester push");
}

Status RemotePusher::PushBatch(std::string_view tenant, std::span<ingester::StreamAppend> streams) {
  std::vector<size_t> all(streams.size());
  for (size_t i = 0; i < all.size(); i++) all[i] = i;
  SKALD_RETURN_IF_ERROR(Send(tenant, EncodedPush(streams, all)));
  for (ingester::StreamAppend& s : streams) {
    s.result = ingester::AppendResult{};
    s.result.appended = static_cast<uint32_t>(s.entries.size());
  }
  return Status::OK();
}

}  // namespace skald::rpc
