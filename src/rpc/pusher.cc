#include "rpc/pusher.h"

#include <grpcpp/grpcpp.h>

#include <thread>

#include "core/labels.h"
#include "logproto/push.grpc.pb.h"
#include "rpc/internal.h"

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

class PusherService final : public logproto::Pusher::Service {
 public:
  PusherService(ingester::Pusher* pusher, std::string no_auth_tenant)
      : pusher_(pusher), no_auth_tenant_(std::move(no_auth_tenant)) {}

  grpc::Status Push(grpc::ServerContext* ctx, const logproto::PushRequest* req,
                    logproto::PushResponse*) override {
    const std::string tenant = TenantOf(*ctx, no_auth_tenant_);
    if (tenant.empty()) return {grpc::StatusCode::UNAUTHENTICATED, "no org id"};

    const int n = req->streams_size();
    std::vector<Labels> labels(static_cast<size_t>(n));
    std::vector<std::vector<ingester::AppendEntry>> entries(static_cast<size_t>(n));
    std::vector<std::vector<MetadataPair>> metadata;
    size_t total = 0;
    for (const auto& s : req->streams()) total += static_cast<size_t>(s.entries_size());
    metadata.resize(total);
    std::vector<ingester::StreamAppend> appends(static_cast<size_t>(n));
    size_t m = 0;
    for (int i = 0; i < n; i++) {
      const logproto::StreamAdapter& s = req->streams(i);
      auto ls = ParseLabels(s.labels());
      if (!ls.ok()) {
        return {grpc::StatusCode::INVALID_ARGUMENT,
                "error parsing labels '" + s.labels() + "': " + ls.status().message()};
      }
      labels[i] = std::move(*ls);
      auto& es = entries[i];
      es.reserve(static_cast<size_t>(s.entries_size()));
      for (const logproto::EntryAdapter& e : s.entries()) {
        auto& md = metadata[m++];
        for (const auto& p : e.structuredmetadata()) md.push_back({p.name(), p.value()});
        const int64_t ts = e.timestamp().seconds() * 1'000'000'000 + e.timestamp().nanos();
        es.push_back({ts, e.line(), md});
      }
      appends[i].labels = &labels[i];
      appends[i].entries = es;
    }
    Status st = pusher_->PushBatch(tenant, appends);
    if (!st.ok()) return ToGrpc(st);
    for (int i = 0; i < n; i++) {
      Status outcome = StreamOutcome(labels[i], appends[i].result);
      if (!outcome.ok()) return ToGrpc(outcome);
    }
    return grpc::Status::OK;
  }

 private:
  ingester::Pusher* pusher_;
  const std::string no_auth_tenant_;
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
  ctx.AddMetadata(kOrgIdKey, std::string(tenant));
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::nanoseconds(impl_->timeout_ns));
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
