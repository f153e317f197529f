#include "rpc/stream_reader.h"

#include <algorithm>
#include <chrono>
#include <unordered_map>

#include "core/time.h"
#include "rpc/internal.h"
#include "skald/ingester.grpc.pb.h"

namespace skald::rpc {

namespace pb = ::skald::ingesterpb;  // the generated messages

namespace {

// Block bytes per SnapshotResponse message before the next one is started.
constexpr size_t kBatchBytes = 4u << 20;

void ToProto(const std::vector<Matcher>& in, google::protobuf::RepeatedPtrField<pb::Matcher>* out) {
  for (const Matcher& m : in) {
    pb::Matcher* p = out->Add();
    switch (m.type()) {
      case MatchType::kEqual:
        p->set_type(pb::Matcher::EQ);
        break;
      case MatchType::kNotEqual:
        p->set_type(pb::Matcher::NEQ);
        break;
      case MatchType::kRegexMatch:
        p->set_type(pb::Matcher::RE);
        break;
      case MatchType::kRegexNoMatch:
        p->set_type(pb::Matcher::NRE);
        break;
    }
    p->set_name(m.name());
    p->set_value(m.value());
  }
}

StatusOr<std::vector<Matcher>> FromProto(
    const google::protobuf::RepeatedPtrField<pb::Matcher>& in) {
  std::vector<Matcher> out;
  out.reserve(static_cast<size_t>(in.size()));
  for (const pb::Matcher& p : in) {
    MatchType t = MatchType::kEqual;
    switch (p.type()) {
      case pb::Matcher::EQ:
        break;
      case pb::Matcher::NEQ:
        t = MatchType::kNotEqual;
        break;
      case pb::Matcher::RE:
        t = MatchType::kRegexMatch;
        break;
      case pb::Matcher::NRE:
        t = MatchType::kRegexNoMatch;
        break;
      default:
        return Status::InvalidArgument("unknown matcher type " + std::to_string(p.type()));
    }
    SKALD_ASSIGN_OR_RETURN(Matcher m, Matcher::Create(t, p.name(), p.value()));
    out.push_back(std::move(m));
  }
  return out;
}

void ToProto(const Labels& in, google::protobuf::RepeatedPtrField<pb::LabelPair>* out) {
  for (const Label& l : in) {
    pb::LabelPair* p = out->Add();
    p->set_name(l.name);
    p->set_value(l.value);
  }
}

Labels FromProto(const google::protobuf::RepeatedPtrField<pb::LabelPair>& in) {
  std::vector<Label> pairs;
  pairs.reserve(static_cast<size_t>(in.size()));
  for (const pb::LabelPair& p : in) pairs.push_back({p.name(), p.value()});
  return Labels(std::move(pairs));
}

grpc::Status NoTenant() { return {grpc::StatusCode::UNAUTHENTICATED, "no org id"}; }

class StreamReaderService final : public pb::StreamReader::Service {
 public:
  StreamReaderService(ingester::StreamReader* reader, std::string no_auth_tenant)
      : reader_(reader), no_auth_tenant_(std::move(no_auth_tenant)) {}

  grpc::Status Snapshot(grpc::ServerContext* ctx, const pb::SnapshotRequest* req,
                        grpc::ServerWriter<pb::SnapshotResponse>* writer) override {
    const std::string tenant = TenantOf(*ctx, no_auth_tenant_);
    if (tenant.empty()) return NoTenant();
    auto matchers = FromProto(req->matchers());
    if (!matchers.ok()) return ToGrpc(matchers.status());
    ingester::StreamShard shard;
    shard.index = req->shard();
    shard.count = req->shard_count();
    if (shard.count > 1 && shard.index >= shard.count) {
      return {grpc::StatusCode::INVALID_ARGUMENT, "invalid shard"};
    }
    auto snaps = reader_->QuerySnapshot(tenant, *matchers, req->from(), req->through(), shard);
    if (!snaps.ok()) return ToGrpc(snaps.status());
    pb::SnapshotResponse batch;
    size_t bytes = 0;
    for (const ingester::StreamSnapshot& s : *snaps) {
      pb::Stream* out = batch.add_streams();
      out->set_fingerprint(s.fingerprint);
      ToProto(s.labels, out->mutable_labels());
      out->set_head_bytes(s.head_bytes);
      out->set_head_lines(s.head_lines);
      for (const chunk::BlockRef& b : s.blocks) {
        pb::Block* pbb = out->add_blocks();
        pbb->set_data(b.bytes.data(), b.bytes.size());
        if (!b.filter.empty()) pbb->set_filter(b.filter.data(), b.filter.size());
        pbb->set_min_ts(b.min_ts);
        pbb->set_max_ts(b.max_ts);
        pbb->set_entries(b.entries);
        pbb->set_uncompressed_size(b.uncompressed_size);
        bytes += b.bytes.size() + b.filter.size();
      }
      if (bytes >= kBatchBytes) {
        if (!writer->Write(batch)) return {grpc::StatusCode::CANCELLED, "client went away"};
        batch.Clear();
        bytes = 0;
      }
    }
    if (batch.streams_size() > 0 && !writer->Write(batch)) {
      return {grpc::StatusCode::CANCELLED, "client went away"};
    }
    return grpc::Status::OK;
  }

  grpc::Status Volumes(grpc::ServerContext* ctx, const pb::SnapshotRequest* req,
                       grpc::ServerWriter<pb::VolumesResponse>* writer) override {
    const std::string tenant = TenantOf(*ctx, no_auth_tenant_);
    if (tenant.empty()) return NoTenant();
    auto matchers = FromProto(req->matchers());
    if (!matchers.ok()) return ToGrpc(matchers.status());
    auto vols = reader_->QueryVolumes(tenant, *matchers, req->from(), req->through());
    if (!vols.ok()) return ToGrpc(vols.status());
    pb::VolumesResponse batch;
    for (const ingester::StreamVolume& v : *vols) {
      pb::Volume* out = batch.add_volumes();
      out->set_fingerprint(v.fingerprint);
      ToProto(v.labels, out->mutable_labels());
      out->set_chunks(v.chunks);
      for (const ingester::DataPiece& p : v.pieces) {
        pb::Piece* pp = out->add_pieces();
        pp->set_min_ts(p.min_ts);
        pp->set_max_ts(p.max_ts);
        pp->set_entries(p.entries);
        pp->set_bytes(p.bytes);
      }
      if (batch.volumes_size() >= 4096) {
        if (!writer->Write(batch)) return {grpc::StatusCode::CANCELLED, "client went away"};
        batch.Clear();
      }
    }
    if (batch.volumes_size() > 0 && !writer->Write(batch)) {
      return {grpc::StatusCode::CANCELLED, "client went away"};
    }
    return grpc::Status::OK;
  }

  grpc::Status LabelNames(grpc::ServerContext* ctx, const pb::LabelNamesRequest*,
                          pb::LabelsResponse* resp) override {
    const std::string tenant = TenantOf(*ctx, no_auth_tenant_);
    if (tenant.empty()) return NoTenant();
    auto names = reader_->QueryLabelNames(tenant);
    if (!names.ok()) return ToGrpc(names.status());
    for (std::string& n : *names) resp->add_values(std::move(n));
    return grpc::Status::OK;
  }

  grpc::Status LabelValues(grpc::ServerContext* ctx, const pb::LabelValuesRequest* req,
                           pb::LabelsResponse* resp) override {
    const std::string tenant = TenantOf(*ctx, no_auth_tenant_);
    if (tenant.empty()) return NoTenant();
    auto values = reader_->QueryLabelValues(tenant, req->name());
    if (!values.ok()) return ToGrpc(values.status());
    for (std::string& v : *values) resp->add_values(std::move(v));
    return grpc::Status::OK;
  }

  grpc::Status Series(grpc::ServerContext* ctx, const pb::SeriesRequest* req,
                      pb::SeriesResponse* resp) override {
    const std::string tenant = TenantOf(*ctx, no_auth_tenant_);
    if (tenant.empty()) return NoTenant();
    auto matchers = FromProto(req->matchers());
    if (!matchers.ok()) return ToGrpc(matchers.status());
    auto series = reader_->QuerySeries(tenant, *matchers);
    if (!series.ok()) return ToGrpc(series.status());
    for (const Labels& l : *series) ToProto(l, resp->add_series()->mutable_labels());
    return grpc::Status::OK;
  }

 private:
  ingester::StreamReader* reader_;
  const std::string no_auth_tenant_;
};

}  // namespace

std::unique_ptr<grpc::Service> NewStreamReaderService(ingester::StreamReader* reader,
                                                      std::string no_auth_tenant) {
  return std::make_unique<StreamReaderService>(reader, std::move(no_auth_tenant));
}

// ---------------------------------------------------------------------------
// RemoteStreamReader

struct RemoteStreamReader::Impl {
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<pb::StreamReader::Stub> stub;
  int64_t timeout_ns = 0;

  void Prepare(grpc::ClientContext* ctx, std::string_view tenant) const {
    PrepareCall(ctx, tenant, timeout_ns);
  }
};

RemoteStreamReader::RemoteStreamReader(const std::string& target, int64_t timeout_ns)
    : impl_(std::make_unique<Impl>()) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(100 << 20);
  impl_->channel = grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
  impl_->stub = pb::StreamReader::NewStub(impl_->channel);
  impl_->timeout_ns = timeout_ns;
}

RemoteStreamReader::~RemoteStreamReader() = default;

StatusOr<std::vector<ingester::StreamSnapshot>> RemoteStreamReader::QuerySnapshot(
    std::string_view tenant, const std::vector<Matcher>& matchers, int64_t from, int64_t through,
    ingester::StreamShard shard) {
  pb::SnapshotRequest req;
  ToProto(matchers, req.mutable_matchers());
  req.set_from(from);
  req.set_through(through);
  req.set_shard(shard.index);
  req.set_shard_count(shard.count);
  grpc::ClientContext ctx;
  impl_->Prepare(&ctx, tenant);
  std::unique_ptr<grpc::ClientReader<pb::SnapshotResponse>> reader(
      impl_->stub->Snapshot(&ctx, req));
  std::vector<ingester::StreamSnapshot> out;
  for (;;) {
    // Each message owns the bytes of its blocks: the blocks keep it alive.
    auto batch = std::make_shared<pb::SnapshotResponse>();
    if (!reader->Read(batch.get())) break;
    for (const pb::Stream& s : batch->streams()) {
      ingester::StreamSnapshot& snap = out.emplace_back();
      snap.fingerprint = s.fingerprint();
      snap.labels = FromProto(s.labels());
      snap.head_bytes = s.head_bytes();
      snap.head_lines = s.head_lines();
      snap.blocks.reserve(static_cast<size_t>(s.blocks_size()));
      for (const pb::Block& b : s.blocks()) {
        chunk::BlockRef& r = snap.blocks.emplace_back();
        r.owner = batch;
        r.bytes = b.data();
        r.filter = b.filter();
        r.min_ts = b.min_ts();
        r.max_ts = b.max_ts();
        r.entries = b.entries();
        r.uncompressed_size = b.uncompressed_size();
      }
    }
  }
  SKALD_RETURN_IF_ERROR(FromGrpc(reader->Finish(), "ingester snapshot"));
  return out;
}

StatusOr<std::vector<ingester::StreamVolume>> RemoteStreamReader::QueryVolumes(
    std::string_view tenant, const std::vector<Matcher>& matchers, int64_t from, int64_t through) {
  pb::SnapshotRequest req;
  ToProto(matchers, req.mutable_matchers());
  req.set_from(from);
  req.set_through(through);
  grpc::ClientContext ctx;
  impl_->Prepare(&ctx, tenant);
  std::unique_ptr<grpc::ClientReader<pb::VolumesResponse>> reader(impl_->stub->Volumes(&ctx, req));
  std::vector<ingester::StreamVolume> out;
  pb::VolumesResponse batch;
  while (reader->Read(&batch)) {
    for (const pb::Volume& v : batch.volumes()) {
      ingester::StreamVolume& sv = out.emplace_back();
      sv.fingerprint = v.fingerprint();
      sv.labels = FromProto(v.labels());
      sv.chunks = v.chunks();
      for (const pb::Piece& p : v.pieces()) {
        sv.pieces.push_back({p.min_ts(), p.max_ts(), p.entries(), p.bytes()});
      }
    }
  }
  SKALD_RETURN_IF_ERROR(FromGrpc(reader->Finish(), "ingester volumes"));
  return out;
}

StatusOr<std::vector<std::string>> RemoteStreamReader::QueryLabelNames(std::string_view tenant) {
  grpc::ClientContext ctx;
  impl_->Prepare(&ctx, tenant);
  pb::LabelsResponse resp;
  SKALD_RETURN_IF_ERROR(FromGrpc(impl_->stub->LabelNames(&ctx, pb::LabelNamesRequest(), &resp),
                                 "ingester label names"));
  return std::vector<std::string>(resp.values().begin(), resp.values().end());
}

StatusOr<std::vector<std::string>> RemoteStreamReader::QueryLabelValues(std::string_view tenant,
                                                                        std::string_view name) {
  grpc::ClientContext ctx;
  impl_->Prepare(&ctx, tenant);
  pb::LabelValuesRequest req;
  req.set_name(std::string(name));
  pb::LabelsResponse resp;
  SKALD_RETURN_IF_ERROR(
      FromGrpc(impl_->stub->LabelValues(&ctx, req, &resp), "ingester label values"));
  return std::vector<std::string>(resp.values().begin(), resp.values().end());
}

StatusOr<std::vector<Labels>> RemoteStreamReader::QuerySeries(
    std::string_view tenant, const std::vector<Matcher>& matchers) {
  grpc::ClientContext ctx;
  impl_->Prepare(&ctx, tenant);
  pb::SeriesRequest req;
  ToProto(matchers, req.mutable_matchers());
  pb::SeriesResponse resp;
  SKALD_RETURN_IF_ERROR(FromGrpc(impl_->stub->Series(&ctx, req, &resp), "ingester series"));
  std::vector<Labels> out;
  out.reserve(static_cast<size_t>(resp.series_size()));
  for (const pb::Series& s : resp.series()) out.push_back(FromProto(s.labels()));
  return out;
}

// ---------------------------------------------------------------------------
// RingStreamReader

RingStreamReader::RingStreamReader(std::function<std::shared_ptr<const ring::Ring>()> ring,
                                   RingReaderOptions opts)
    : ring_(std::move(ring)),
      opts_(opts),
      pool_(std::make_unique<ThreadPool>("skald-ingread", 8, 0)) {}

RingStreamReader::~RingStreamReader() = default;

RemoteStreamReader* RingStreamReader::ClientFor(const std::string& addr) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& c = clients_[addr];
  if (c == nullptr) c = std::make_unique<RemoteStreamReader>(addr, opts_.timeout_ns);
  return c.get();
}

bool RingStreamReader::Skip(int64_t through) const {
  return opts_.query_ingesters_within_ns > 0 &&
         through < NowNanos() - opts_.query_ingesters_within_ns;
}

template <typename T>
StatusOr<std::vector<T>> RingStreamReader::ForEachIngester(
    const std::function<StatusOr<T>(ingester::StreamReader*)>& call) {
  const std::shared_ptr<const ring::Ring> ring = ring_();
  const int64_t now = NowNanos();
  std::vector<std::string> addrs;
  int unhealthy = 0;
  for (const ring::InstanceDesc& d : ring->instances()) {
    if (ring::Healthy(d, ring::Operation::kRead, now, ring->heartbeat_timeout_ns())) {
      addrs.push_back(d.addr);
    } else {
      unhealthy++;
    }
  }
  // Loki's read replication set: every healthy instance, and as many errors as leave each
  // stream a quorum of its replicas (the unhealthy ones count as failed already).
  const int n = static_cast<int>(ring->instances().size());
  const int rf = std::min(opts_.replication_factor, n);
  const int max_errors = rf / 2 - unhealthy;
  if (max_errors < 0) {
    return Status::Unavailable("too many unhealthy instances in the ring (" +
                               std::to_string(unhealthy) + " of " + std::to_string(n) + ")");
  }
  std::vector<StatusOr<T>> results(addrs.size(), Status::Unavailable("not asked"));
  ParallelFor(pool_.get(), addrs.size(), addrs.empty() ? 0 : addrs.size() - 1,
              [&](size_t k) { results[k] = call(ClientFor(addrs[k])); });
  std::vector<T> out;
  int errors = 0;
  Status first;
  for (size_t k = 0; k < results.size(); k++) {
    if (results[k].ok()) {
      out.push_back(std::move(*results[k]));
      continue;
    }
    // A refusal (a bad matcher) is the same on every ingester: it is the answer.
    if (results[k].status().code() == StatusCode::kInvalidArgument) return results[k].status();
    if (errors++ == 0)
      first = Status(results[k].status().code(), addrs[k] + ": " + results[k].status().message());
  }
  if (errors > max_errors) return first;
  return out;
}

StatusOr<std::vector<ingester::StreamSnapshot>> RingStreamReader::QuerySnapshot(
    std::string_view tenant, const std::vector<Matcher>& matchers, int64_t from, int64_t through,
    ingester::StreamShard shard) {
  if (Skip(through)) return std::vector<ingester::StreamSnapshot>{};
  using Part = std::vector<ingester::StreamSnapshot>;
  SKALD_ASSIGN_OR_RETURN(std::vector<Part> parts,
                         ForEachIngester<Part>([&](ingester::StreamReader* r) {
                           return r->QuerySnapshot(tenant, matchers, from, through, shard);
                         }));
  // One snapshot per stream, with the blocks of every replica.
  std::unordered_map<uint64_t, size_t> at;
  std::vector<ingester::StreamSnapshot> out;
  for (Part& part : parts) {
    for (ingester::StreamSnapshot& s : part) {
      auto [it, fresh] = at.emplace(s.fingerprint, out.size());
      if (fresh) {
        out.push_back(std::move(s));
        continue;
      }
      ingester::StreamSnapshot& into = out[it->second];
      into.blocks.insert(into.blocks.end(), std::make_move_iterator(s.blocks.begin()),
                         std::make_move_iterator(s.blocks.end()));
      into.head_bytes += s.head_bytes;
      into.head_lines += s.head_lines;
    }
  }
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return a.fingerprint < b.fingerprint; });
  return out;
}

StatusOr<std::vector<ingester::StreamVolume>> RingStreamReader::QueryVolumes(
    std::string_view tenant, const std::vector<Matcher>& matchers, int64_t from, int64_t through) {
  if (Skip(through)) return std::vector<ingester::StreamVolume>{};
  using Part = std::vector<ingester::StreamVolume>;
  SKALD_ASSIGN_OR_RETURN(std::vector<Part> parts,
                         ForEachIngester<Part>([&](ingester::StreamReader* r) {
                           return r->QueryVolumes(tenant, matchers, from, through);
                         }));
  // Replicas hold the same data: a stream counts as its fullest replica (not their sum).
  auto entries = [](const ingester::StreamVolume& v) {
    uint64_t n = 0;
    for (const ingester::DataPiece& p : v.pieces) n += p.entries;
    return n;
  };
  std::unordered_map<uint64_t, size_t> at;
  std::vector<ingester::StreamVolume> out;
  for (Part& part : parts) {
    for (ingester::StreamVolume& v : part) {
      auto [it, fresh] = at.emplace(v.fingerprint, out.size());
      if (fresh) {
        out.push_back(std::move(v));
      } else if (entries(v) > entries(out[it->second])) {
        out[it->second] = std::move(v);
      }
    }
  }
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return a.fingerprint < b.fingerprint; });
  return out;
}

namespace {
std::vector<std::string> Union(std::vector<std::vector<std::string>> parts) {
  std::vector<std::string> out;
  for (auto& p : parts)
    out.insert(out.end(), std::make_move_iterator(p.begin()), std::make_move_iterator(p.end()));
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}
}  // namespace

StatusOr<std::vector<std::string>> RingStreamReader::QueryLabelNames(std::string_view tenant) {
  using Part = std::vector<std::string>;
  SKALD_ASSIGN_OR_RETURN(
      std::vector<Part> parts,
      ForEachIngester<Part>([&](ingester::StreamReader* r) { return r->QueryLabelNames(tenant); }));
  return Union(std::move(parts));
}

StatusOr<std::vector<std::string>> RingStreamReader::QueryLabelValues(std::string_view tenant,
                                                                      std::string_view name) {
  using Part = std::vector<std::string>;
  SKALD_ASSIGN_OR_RETURN(std::vector<Part> parts,
                         ForEachIngester<Part>([&](ingester::StreamReader* r) {
                           return r->QueryLabelValues(tenant, name);
                         }));
  return Union(std::move(parts));
}

StatusOr<std::vector<Labels>> RingStreamReader::QuerySeries(std::string_view tenant,
                                                            const std::vector<Matcher>& matchers) {
  using Part = std::vector<Labels>;
  SKALD_ASSIGN_OR_RETURN(std::vector<Part> parts,
                         ForEachIngester<Part>([&](ingester::StreamReader* r) {
                           return r->QuerySeries(tenant, matchers);
                         }));
  std::unordered_map<uint64_t, size_t> at;
  std::vector<Labels> out;
  for (Part& part : parts) {
    for (Labels& l : part) {
      if (at.emplace(l.Fingerprint(), out.size()).second) out.push_back(std::move(l));
    }
  }
  return out;
}

}  // namespace skald::rpc
