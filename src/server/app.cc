#include "server/app.h"

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <filesystem>

#include <unistd.h>
#include <thread>

#include "chunk/codec.h"
#include "compactor/compactor.h"
#include "compactor/delete_requests.h"
#include "core/logging.h"
#include "core/metrics.h"
#include "core/thread_pool.h"
#include "distributor/distributor.h"
#include "frontend/queue.h"
#include "frontend/results_cache.h"
#include "index/index_store.h"
#include "ingester/ingester.h"
#include "limits/limits.h"
#include "pattern/store.h"
#include "pattern/tee.h"
#include "querier/querier.h"
#include "querier/query_api.h"
#include "ring/etcd_kv.h"
#include "ring/kv.h"
#include "ring/lifecycler.h"
#include "ring/watcher.h"
#include "rpc/frontend_worker.h"
#include "rpc/pusher.h"
#include "rpc/replicating_pusher.h"
#include "rpc/server.h"
#include "rpc/stream_reader.h"
#include "ruler/alertmanager.h"
#include "ruler/manager.h"
#include "ruler/remote_write.h"
#include "ruler/rule_store.h"
#include "server/build_info.h"
#include "server/compactor_api.h"
#include "server/frontend_api.h"
#include "server/http_server.h"
#include "server/loki_api.h"
#include "server/otlp_trace_exporter.h"
#include "server/ring_api.h"
#include "server/ruler_api.h"
#include "server/runtime_config.h"
#include "storage/fs_object_store.h"
#include "storage/s3_object_store.h"
#include "tail/tail.h"
#include "wal/wal.h"
#include "wire/push.h"

namespace skald::server {

namespace {

// The address an ingester advertises in the ring: ingester.lifecycler.address (127.0.0.1 when
// empty) and ingester.lifecycler.port, else `port` (the gRPC port).
std::string AdvertisedAddr(const Config::Ingester::Lifecycler& lc, int port) {
  return (lc.addr.empty() ? "127.0.0.1" : lc.addr) + ":" +
         std::to_string(lc.port != 0 ? lc.port : port);
}

HttpServerOptions HttpOptionsFor(const Config& config, metrics::Registry* registry,
                                 OtlpTraceExporter* exporter) {
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  HttpServerOptions ho;
  ho.address = config.server.http_listen_address;
  ho.port = config.server.http_listen_port;
  ho.registry = registry;
  // loki_request_duration_seconds etc., as Loki's dskit server names them.
  ho.metrics_namespace = "loki";
  ho.threads = cores;  // blocking handlers run on the pools (RunOn)
  ho.read_timeout_ms = config.server.http_server_read_timeout_ns / kNanosPerMilli;
  ho.write_timeout_ms = config.server.http_server_write_timeout_ns / kNanosPerMilli;
  ho.idle_timeout_ms = config.server.http_server_idle_timeout_ns / kNanosPerMilli;
  ho.shutdown_grace_ms = config.server.graceful_shutdown_timeout_ns / kNanosPerMilli;
  ho.span_exporter = exporter;
  return ho;
}

std::string GrpcAddress(const Config& config, int port) {
  const std::string host =
      config.server.grpc_listen_address.empty() ? "0.0.0.0" : config.server.grpc_listen_address;
  return host + ":" + std::to_string(port);
}

}  // namespace

struct App::Impl {
  Config config;
  Targets targets;
  AppHooks hooks;
  // Declared before every component that registers metrics in it: destroyed last.
  metrics::Registry own_registry;
  metrics::Registry* registry = &own_registry;
  // Span export (null when off); declared before the HTTP server and the pools whose requests
  // and tasks end spans, so it outlives them.
  std::unique_ptr<OtlpTraceExporter> trace_exporter;
  std::unique_ptr<storage::ObjectStore> store;
  std::unique_ptr<index::IndexStore> index;
  std::unique_ptr<ingester::Ingester> ingester;
  // The ingester ring (in memory, or etcd) and this instance's membership in it.
  std::unique_ptr<ring::KV> ring_kv;
  std::unique_ptr<ring::Lifecycler> lifecycler;
  // The distributor ring (same KV store, its own prefix) and fresh views of both rings for
  // the global limits.
  std::unique_ptr<ring::Lifecycler> distributor_lifecycler;
  std::unique_ptr<ring::RingWatcher> ingester_ring;
  std::unique_ptr<ring::RingWatcher> distributor_ring;
  // gRPC: the Pusher service in front of the local ingester (targets all and ingester), and
  // a distributor's writes to the ring's ingesters (target distributor).
  ingester::Pusher* local_pusher = nullptr;
  std::unique_ptr<rpc::GrpcServer> grpc_server;
  std::unique_ptr<rpc::ReplicatingPusher> replicating;
  // A querier without a local ingester reads the ring's ingesters (target querier).
  std::unique_ptr<rpc::RingStreamReader> ring_reader;
  // The query frontend (target query-frontend): its queue, results cache; and a querier's
  // worker pulling from it.
  std::unique_ptr<frontend::RequestQueue> frontend_queue;
  std::unique_ptr<frontend::ResultsCache> results_cache;
  std::unique_ptr<rpc::FrontendWorker> frontend_worker;
  std::unique_ptr<limits::Overrides> limits;
  // Reloads the per-tenant overrides in `limits` (null without -runtime-config.file).
  std::unique_ptr<RuntimeConfigLoader> runtime_config;
  // Log patterns (null when disabled): the tee sits between the distributor and the
  // ingester, its worker feeds the store. Declared before the distributor (outlive it).
  std::unique_ptr<pattern::PatternStore> patterns;
  std::unique_ptr<pattern::PatternTee> pattern_tee;
  // Live tails: the last decorator before the distributor, fed with what the ingester accepted.
  std::unique_ptr<tail::TailHub> tails;
  std::unique_ptr<distributor::Distributor> distributor;
  std::unique_ptr<querier::Querier> querier;
  std::unique_ptr<querier::QueryApi> queries;
  // Handlers that block run here, never on the HTTP I/O threads (declared before http,
  // so they outlive it).
  std::unique_ptr<ThreadPool> query_pool;  // queries and their per-stream scans
  std::unique_ptr<ThreadPool> push_pool;   // pushes (waiting for the WAL) and /flush
  // The ruler: its store, where alerts and recorded samples go, and the evaluation loop
  // (which queries through `queries`, so it is stopped before the query pool).
  std::unique_ptr<ruler::RuleStore> rule_store;
  std::unique_ptr<ruler::AlertmanagerNotifier> notifier;
  std::unique_ptr<ruler::RemoteWriter> remote_writer;
  std::unique_ptr<ruler::Manager> ruler;
  // The compactor: index compaction, retention and delete requests (docs/retention.md).
  std::unique_ptr<compactor::DeleteRequestStore> deletes;
  std::unique_ptr<compactor::Compactor> compactor;
  std::unique_ptr<HttpServer> http;
  std::unique_ptr<wal::Wal> wal;
  std::string wal_dir;
  std::atomic<bool> ready{false};
  std::atomic<int64_t> last_wal_probe_ns{0};
  std::atomic<bool> stopping{false};
  bool shut_down = false;

  // What the operator endpoints (/ready, /metrics, /config, ...) need; not_ready_reason is
  // the caller's.
  LokiApiDeps OperatorDeps() {
    LokiApiDeps d;
    d.config = &config;
    d.registry = registry;
    d.limits = limits.get();
    return d;
  }

  // The per-tenant limits, and their reloading from -runtime-config.file. As Loki: a bad
  // runtime config at start is a startup error; later ones keep the last good overrides.
  Status LoadLimits() {
    limits = std::make_unique<limits::Overrides>(config.limits_config);
    if (config.runtime_config.file.empty()) return Status::OK();
    runtime_config = std::make_unique<RuntimeConfigLoader>(
        config.runtime_config.file, config.runtime_config.period_ns, limits.get(), registry);
    Status st = runtime_config->Load();
    if (!st.ok()) return Status::InvalidArgument("error loading runtime config: " + st.message());
    runtime_config->Start();
    return Status::OK();
  }
};

App::App() : impl_(std::make_unique<Impl>()) {}

App::~App() { (void)Shutdown(); }

StatusOr<std::unique_ptr<App>> App::Create(const Config& config, AppHooks hooks) {
  std::unique_ptr<App> app(new App());
  Impl& s = *app->impl_;
  s.config = config;
  s.hooks = std::move(hooks);
  SKALD_ASSIGN_OR_RETURN(s.targets, ParseTargets(config.target));
  const Targets& t = s.targets;
  if (t.query_frontend && (t.distributor || t.ingester || t.querier || t.compactor)) {
    return Status::InvalidArgument(
        "-target=query-frontend runs alone (it serves the same read "
        "endpoints as a querier)");
  }
  metrics::RegisterProcessMetrics(s.registry);
  {
    // prometheus/common's version collector, as Loki registers it (NewCollector("loki")).
    const BuildInfo& b = GetBuildInfo();
#if defined(__x86_64__)
    const char* goarch = "amd64";
#elif defined(__aarch64__)
    const char* goarch = "arm64";
#else
    const char* goarch = "unknown";
#endif
    s.registry
        ->AddGauge("loki_build_info",
                   "A metric with a constant '1' value labeled by version, revision, branch, "
                   "goversion from which loki was built, and the goos and goarch for the build.",
                   {"branch", "goarch", "goos", "goversion", "revision", "tags", "version"})
        .WithLabels({b.branch, goarch, "linux", b.go_version, b.revision, "unknown", b.version})
        .Set(1);
  }
  if (t.query_frontend) {  // no store, no ring: the read API in front of the queue
    SKALD_RETURN_IF_ERROR(app->CreateFrontend());
    return app;
  }
  std::filesystem::path root(config.common.path_prefix);
  SKALD_ASSIGN_OR_RETURN(std::optional<storage::S3Config> s3, ObjectStoreS3Config(config));
  if (s3.has_value()) {
    SKALD_ASSIGN_OR_RETURN(std::unique_ptr<storage::S3ObjectStore> s3_store,
                           storage::S3ObjectStore::Open(*s3, s.registry));
    // A missing bucket or refused credentials stop start-up (not a later surprise at the
    // first flush); an unreachable store does not: the WAL replays, pushes are taken, and
    // chunks wait in memory until the store is back.
    Status st = s3_store->CheckBucket();
    if (st.code() == StatusCode::kUnavailable) {
      log::Warn("object storage unavailable at start; chunks are flushed once it answers",
                {{"err", st.ToString()}});
    } else if (!st.ok()) {
      return Status(st.code(), "object storage: " + st.message());
    }
    log::Info("object storage",
              {{"backend", "s3"},
               {"bucket", s3->bucket},
               {"endpoint",
                s3->endpoint.empty() ? "s3." + s3->region + ".amazonaws.com" : s3->endpoint}});
    s.store = std::move(s3_store);
  } else {
    SKALD_ASSIGN_OR_RETURN(s.store, storage::FsObjectStore::Open((root / "store").string()));
  }
  s.index = std::make_unique<index::IndexStore>(s.store.get());
  SKALD_RETURN_IF_ERROR(s.LoadLimits());
  // The compactor (part of `all`): built before the querier, which hides what it erases.
  {
    compactor::CompactorOptions co;
    co.compaction_interval_ns = config.compactor.compaction_interval_ns;
    co.retention_enabled = config.compactor.retention_enabled;
    co.retention_delete_delay_ns = config.compactor.retention_delete_delay_ns;
    co.delete_request_cancel_period_ns = config.compactor.delete_request_cancel_period_ns;
    s.deletes = std::make_unique<compactor::DeleteRequestStore>(s.store.get());
    s.compactor = std::make_unique<compactor::Compactor>(
        co, s.store.get(), s.index.get(), s.limits.get(), s.deletes.get(), s.registry);
  }
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  auto http_options = [&](OtlpTraceExporter* exporter) {
    return HttpOptionsFor(config, s.registry, exporter);
  };
  auto register_compactor_api = [&] {
    CompactorApiDeps cdeps;
    cdeps.deletes = config.compactor.retention_enabled ? s.deletes.get() : nullptr;
    cdeps.limits = s.limits.get();
    cdeps.auth_enabled = config.auth_enabled;
    cdeps.no_auth_tenant = config.no_auth_tenant;
    cdeps.cancel_period_ns = config.compactor.delete_request_cancel_period_ns;
    cdeps.max_interval_ns = config.compactor.delete_max_interval_ns;
    RegisterCompactorApi(s.http.get(), cdeps);
  };
  if (t.compactor && !t.distributor && !t.ingester && !t.querier) {
    // The compactor alone (docs/retention.md): compaction, retention, the delete API and the
    // operator endpoints, on the same store as the ingesters and queriers.
    s.http = std::make_unique<HttpServer>(http_options(nullptr));
    Impl* impl = app->impl_.get();
    LokiApiDeps deps = s.OperatorDeps();
    deps.not_ready_reason = [impl]() -> std::string {
      if (impl->stopping.load()) return "Application is stopping";
      return impl->ready.load() ? "" : "Compactor not ready";
    };
    RegisterOperatorApi(s.http.get(), deps);
    register_compactor_api();
    return app;
  }

  ingester::IngesterOptions io;
  io.block_size = static_cast<size_t>(config.ingester.chunk_block_size);
  io.target_size = static_cast<size_t>(config.ingester.chunk_target_size);
  io.pack_target_size = static_cast<size_t>(config.ingester.pack_target_size);
  io.flush_batch_size = static_cast<size_t>(config.ingester.flush_batch_size);
  io.head_block_size = static_cast<size_t>(config.ingester.head_block_size);
  io.compression_level = static_cast<int>(config.ingester.compression_level);
  io.block_filter_min_bytes = static_cast<size_t>(config.ingester.block_filter_min_bytes);
  SKALD_ASSIGN_OR_RETURN(io.codec, chunk::ParseCodec(config.ingester.chunk_encoding));
  io.max_chunk_age = config.ingester.max_chunk_age_ns;
  io.chunk_idle_period = config.ingester.chunk_idle_period_ns;
  io.flush_check_period = config.ingester.flush_check_period_ns;
  io.concurrent_flushes = config.ingester.concurrent_flushes;
  io.replica_flush_delay = config.ingester.replica_flush_delay_ns;
  io.out_of_order_window = config.ingester.max_chunk_age_ns / 2;
  io.checkpoint_duration = config.ingester.wal.checkpoint_duration_ns;
  if (config.ingester.wal.enabled && t.ingester) {
    s.wal_dir = config.ingester.wal.dir.empty() ? (root / "wal").string() : config.ingester.wal.dir;
  }
  // Loki's limiter: the global limit / healthy ingesters * replication factor (the factor
  // capped at the ring's size, so one ingester keeps the global limit as is), then the
  // smaller non-zero of that and the local limit; 0 = unlimited.
  Impl* limiter_impl = &s;
  const int rf = config.ingester.lifecycler.ring.replication_factor;
  io.max_streams = [ov = s.limits.get(), limiter_impl, rf](std::string_view tenant) -> int64_t {
    const auto l = ov->For(tenant);
    const int64_t local = l->max_streams_per_user;
    int64_t global = l->max_global_streams_per_user;
    if (global > 0 && limiter_impl->ingester_ring != nullptr) {
      const int n = limiter_impl->ingester_ring->Healthy(ring::Operation::kWrite);
      global = static_cast<int64_t>(static_cast<double>(global) / n * std::min(rf, n));
    }
    return local == 0 ? global : global == 0 ? local : std::min(local, global);
  };
  if (config.ingester.lifecycler.ring.store == "etcd" && rf > 1) {
    // Replica flushes (docs/operations/scale-out.md): the first healthy replica of a stream's
    // token stores its chunks; the others check the store before storing theirs.
    io.flush_owner = [limiter_impl, rf](uint64_t fp) {
      if (limiter_impl->ingester_ring == nullptr || limiter_impl->lifecycler == nullptr) {
        return true;
      }
      const std::shared_ptr<const ring::Ring> r = limiter_impl->ingester_ring->ring();
      auto set = r->Get(ring::TokenFor(fp), ring::Operation::kWrite, rf, NowNanos());
      if (!set.ok() || set->instances.empty()) return true;  // cannot tell: store it
      return set->instances.front()->id == limiter_impl->lifecycler->id();
    };
  }
  // The memory guard (docs/limits.md): the process cap and each tenant's.
  io.max_head_bytes = config.ingester.max_head_bytes;
  io.max_head_bytes_per_tenant = [ov = s.limits.get()](std::string_view tenant) -> int64_t {
    return ov->For(tenant)->max_head_bytes_per_user;
  };
  s.ingester = std::make_unique<ingester::Ingester>(io, s.store.get(), s.index.get(), s.registry);

  RingApiDeps ring_deps;  // registered with the other APIs, once the HTTP server exists
  {
    // The ingester ring: this instance joins it at start (JOINING while the WAL replays,
    // ACTIVE once it takes writes) and leaves it at shutdown (docs/scale-out.md, "Ring").
    const Config::Ingester::Lifecycler& lc = config.ingester.lifecycler;
    if (lc.ring.store == "etcd") {
      ring::EtcdConfig ec;
      ec.endpoint = lc.ring.etcd_endpoints.front();
      if (ec.endpoint.find("://") == std::string::npos) ec.endpoint = "http://" + ec.endpoint;
      ec.request_timeout_ms = std::max<int64_t>(lc.ring.etcd_dial_timeout_ns / 1'000'000, 100);
      SKALD_ASSIGN_OR_RETURN(s.ring_kv, ring::EtcdKV::Open(ec));
    } else {
      s.ring_kv = std::make_unique<ring::MemKV>();
    }
    ring::LifecyclerConfig rc;
    rc.prefix = lc.ring.prefix + "ring/";
    rc.id = lc.id;
    if (rc.id.empty()) {
      char host[256] = {};
      rc.id = ::gethostname(host, sizeof host - 1) == 0 && host[0] != '\0' ? host : "skald";
    }
    rc.addr = AdvertisedAddr(lc, config.server.grpc_listen_port);
    rc.num_tokens = lc.num_tokens;
    rc.heartbeat_period_ns = lc.heartbeat_period_ns > 0 ? lc.heartbeat_period_ns : kNanosPerHour;
    if (t.ingester) {  // only ingesters hold streams
      s.lifecycler = std::make_unique<ring::Lifecycler>(s.ring_kv.get(), rc);
    }
    ring::LifecyclerConfig dc = rc;  // the distributor ring: one token, its own prefix
    dc.prefix = lc.ring.prefix + "distributor/";
    dc.num_tokens = 1;
    if (t.distributor) {
      s.distributor_lifecycler = std::make_unique<ring::Lifecycler>(s.ring_kv.get(), dc);
    }
    const auto refresh = std::chrono::milliseconds(
        std::clamp<int64_t>(lc.heartbeat_period_ns / 1'000'000, 100, 1000));
    s.ingester_ring = std::make_unique<ring::RingWatcher>(s.ring_kv.get(), rc.prefix,
                                                          lc.ring.heartbeat_timeout_ns, refresh);
    s.distributor_ring = std::make_unique<ring::RingWatcher>(s.ring_kv.get(), dc.prefix,
                                                             lc.ring.heartbeat_timeout_ns, refresh);
    RingApiDeps& rd = ring_deps;
    rd.kv = s.ring_kv.get();
    rd.prefix = rc.prefix;
    rd.heartbeat_timeout_ns = lc.ring.heartbeat_timeout_ns;
    rd.shutdown_marker_path =
        (std::filesystem::path(config.common.path_prefix) / "shutdown_requested.txt").string();
    Impl* impl = &s;
    rd.flush_and_leave = [impl] {
      if (impl->lifecycler)
        SKALD_RETURN_IF_ERROR(impl->lifecycler->SetState(ring::State::kLeaving));
      SKALD_RETURN_IF_ERROR(impl->ingester->FlushAll());
      if (impl->wal) SKALD_RETURN_IF_ERROR(impl->ingester->Checkpoint());
      return impl->lifecycler ? impl->lifecycler->Leave() : Status::OK();
    };
    rd.request_stop =
        s.hooks.request_stop ? s.hooks.request_stop : [] { ::kill(::getpid(), SIGTERM); };
  }

  ingester::Pusher* pusher = s.ingester.get();
  if (config.pattern_ingester.enabled) {
    const Config::PatternIngester& pc = config.pattern_ingester;
    pattern::PatternStoreOptions po;
    po.drain.max_clusters = pc.max_clusters;
    po.drain.max_eviction_ratio = pc.max_eviction_ratio;
    po.drain.max_allowed_line_length = pc.max_allowed_line_length;
    po.drain.max_chunk_age_ms = pc.max_chunk_age_ns / kNanosPerMilli;
    po.drain.sample_interval_ms = pc.pattern_sample_interval_ns / kNanosPerMilli;
    po.retain_for_ns = pc.retain_for_ns;
    po.registry = s.registry;
    s.patterns = std::make_unique<pattern::PatternStore>(po);
    pattern::PatternTeeOptions to;
    to.registry = s.registry;
    s.pattern_tee = std::make_unique<pattern::PatternTee>(s.ingester.get(), s.patterns.get(), to);
    pusher = s.pattern_tee.get();
  }
  s.tails = std::make_unique<tail::TailHub>(pusher, s.registry);
  pusher = s.tails.get();
  s.local_pusher = pusher;
  if (t.distributor && !t.ingester) {
    // Writes go to the ring's ingesters over gRPC, replicated (docs/operations/scale-out.md).
    ring::RingWatcher* w = s.ingester_ring.get();
    s.replicating = std::make_unique<rpc::ReplicatingPusher>(
        [w] { return w->ring(); }, config.ingester.lifecycler.ring.replication_factor,
        5 * kNanosPerSecond);
    pusher = s.replicating.get();
  }
  s.distributor = std::make_unique<distributor::Distributor>(s.limits.get(), pusher, s.registry);
  if (s.distributor_ring) {
    ring::RingWatcher* dr = s.distributor_ring.get();
    s.distributor->SetHealthyDistributors([dr] { return dr->Healthy(ring::Operation::kWrite); });
  }
  // Thread policy. Queries: Loki's querier.max_concurrent (4) workers or one per core,
  // shared by the queries and their per-stream scans. Pushes: they mostly wait for the WAL's
  // group commit, so more of them in flight means bigger commits, not more CPU. HTTP I/O:
  // one thread per core, enough now that nothing blocks them.
  s.query_pool = std::make_unique<ThreadPool>("skald-query", std::max(4, cores), 1024);
  s.push_pool = std::make_unique<ThreadPool>("skald-push", std::max(8, 4 * cores), 4096);
  querier::QuerierOptions qo;
  qo.pool = s.query_pool.get();
  qo.parallelism = cores;
  if (config.compactor.retention_enabled) {
    compactor::Compactor* c = s.compactor.get();
    qo.erasure = [c](std::string_view tenant) { return c->ErasureFor(tenant, NowNanos()); };
  }
  ingester::StreamReader* reader = s.ingester.get();
  if (t.querier && !t.ingester) {
    // Reads go to the ring's ingesters over gRPC, replicas merged (rpc/stream_reader.h).
    rpc::RingReaderOptions ro;
    ro.replication_factor = config.ingester.lifecycler.ring.replication_factor;
    ro.timeout_ns = std::max<int64_t>(config.limits_config.query_timeout_ns, kNanosPerSecond);
    ro.query_ingesters_within_ns = config.querier.query_ingesters_within_ns;
    ring::RingWatcher* w = s.ingester_ring.get();
    s.ring_reader = std::make_unique<rpc::RingStreamReader>([w] { return w->ring(); }, ro);
    reader = s.ring_reader.get();
  }
  s.querier = std::make_unique<querier::Querier>(qo, reader, s.index.get(), s.store.get());
  s.queries = std::make_unique<querier::QueryApi>(s.querier.get(), s.limits.get());

  // Tracing (docs/tracing.md): the endpoint from the config, else from OpenTelemetry's env.
  if (config.tracing.enabled) {
    OtlpTraceExporterOptions to;
    to.url = OtlpTracesUrl(config.tracing.otlp_endpoint,
                           std::getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"),
                           std::getenv("OTEL_EXPORTER_OTLP_ENDPOINT"));
    to.service_version = GetBuildInfo().skald;
    if (!to.url.empty()) {
      const std::string url = to.url;
      auto exporter = OtlpTraceExporter::Create(std::move(to), s.registry);
      if (exporter.ok()) {
        s.trace_exporter = std::move(*exporter);
        log::Info("exporting spans over OTLP/HTTP", {{"url", url}});
      } else if (!config.tracing.otlp_endpoint.empty()) {
        return Status::InvalidArgument("tracing.otlp_endpoint: " + exporter.status().message());
      } else {
        // Someone else's OTEL_* environment must not keep Skald from starting.
        log::Warn("OTLP endpoint from the environment is unusable: spans are not exported",
                  {{"err", exporter.status().message()}});
      }
    }
  }

  s.http = std::make_unique<HttpServer>(http_options(s.trace_exporter.get()));
  LokiApiDeps deps;
  deps.config = &s.config;
  deps.serve_writes = t.distributor || t.ingester;
  deps.serve_reads = t.querier || t.ingester;
  deps.limits = s.limits.get();
  deps.distributor = s.distributor.get();
  deps.queries = s.queries.get();
  deps.ingester = s.ingester.get();
  deps.registry = s.registry;
  deps.patterns = s.patterns.get();
  deps.tails = s.tails.get();
  deps.tail_executor = s.query_pool.get();
  deps.decompression_gate = std::make_shared<wire::DecompressionGate>(
      wire::DecompressionGate::SlotsFor(config.distributor.max_decompressed_size));
  Impl* impl = app->impl_.get();
  deps.not_ready_reason = [impl]() -> std::string {
    if (impl->stopping.load()) return "Application is stopping";
    if (!impl->ready.load()) return "Ingester not ready: replaying the WAL";
    if (impl->wal) {
      Status h = impl->wal->Health();
      if (!h.ok()) {
        // Re-probe (at most once a second) so readiness returns with the disk space, not
        // with the first push a load balancer would have to route here while "not ready".
        const int64_t now = MonotonicNanos();
        int64_t last = impl->last_wal_probe_ns.load();
        if (now - last >= kNanosPerSecond &&
            impl->last_wal_probe_ns.compare_exchange_strong(last, now)) {
          h = impl->wal->Probe();
        }
      }
      if (!h.ok()) return "Ingester not ready: WAL write failing: " + h.message();
    }
    return "";
  };
  App* self = app.get();
  deps.accepting_writes = [self](std::string* reason) { return self->AcceptingWrites(reason); };
  RegisterLokiApi(s.http.get(), deps);

  // Ruler (docs/ruler.md).
  const Config::Ruler& rc = config.ruler;
  s.rule_store = std::make_unique<ruler::RuleStore>(config.ruler_storage.local_directory.empty()
                                                        ? (root / "rules").string()
                                                        : config.ruler_storage.local_directory);
  if (!rc.alertmanager_url.empty()) {
    ruler::AlertmanagerOptions ao;
    std::string_view urls = rc.alertmanager_url;
    while (!urls.empty()) {
      const size_t comma = urls.find(',');
      std::string_view u = urls.substr(0, comma);
      if (!u.empty()) ao.urls.emplace_back(u);
      if (comma == std::string_view::npos) break;
      urls.remove_prefix(comma + 1);
    }
    ao.timeout_ms = rc.notification_timeout_ns / kNanosPerMilli;
    ao.queue_capacity = static_cast<size_t>(rc.notification_queue_capacity);
    s.notifier = std::make_unique<ruler::AlertmanagerNotifier>(std::move(ao), s.registry);
  }
  if (rc.remote_write.enabled) {
    ruler::RemoteWriteOptions wo;
    wo.url = rc.remote_write.url;
    wo.timeout_ms = rc.remote_write.remote_timeout_ns / kNanosPerMilli;
    wo.send_tenant_header = rc.remote_write.add_org_id_header;
    s.remote_writer = std::make_unique<ruler::RemoteWriter>(std::move(wo), s.registry);
  }
  ruler::ManagerOptions mo;
  mo.evaluation_interval_ms = rc.evaluation_interval_ns / kNanosPerMilli;
  mo.poll_interval_ms = rc.poll_interval_ns / kNanosPerMilli;
  mo.resend_delay_ms = rc.resend_delay_ns / kNanosPerMilli;
  mo.external_url = rc.external_url;
  querier::QueryApi* queries = s.queries.get();
  auto instant = [queries](std::string_view tenant, std::string_view expr,
                           int64_t time_ns) -> StatusOr<logql::QueryValue> {
    querier::InstantQuery q;
    q.query = std::string(expr);
    q.time_ns = time_ns;
    SKALD_ASSIGN_OR_RETURN(querier::QueryResult r, queries->Instant(tenant, q));
    if (!r.is_metric) return Status::InvalidArgument("rule expression is not a metric query");
    return std::move(r.value);
  };
  ruler::ManagerSinks sinks;
  if (ruler::AlertmanagerNotifier* n = s.notifier.get()) {
    sinks.alerts = [n](std::vector<ruler::NotifiedAlert> a) { n->Send(std::move(a)); };
  }
  if (ruler::RemoteWriter* w = s.remote_writer.get()) {
    sinks.samples = [w](std::string tenant, std::vector<ruler::RemoteSample> v) {
      w->Enqueue(std::move(tenant), std::move(v));
    };
  }
  s.ruler = std::make_unique<ruler::Manager>(s.rule_store.get(), std::move(instant),
                                             std::move(sinks), mo, s.registry);
  RulerApiDeps rdeps;
  rdeps.store = s.rule_store.get();
  rdeps.manager = s.ruler.get();
  rdeps.auth_enabled = config.auth_enabled;
  rdeps.no_auth_tenant = config.no_auth_tenant;
  rdeps.enable_api = rc.enable_api;
  RegisterRulerApi(s.http.get(), rdeps);
  register_compactor_api();
  if (s.ring_kv) RegisterRingApi(s.http.get(), ring_deps);
  for (const char* path :
       {"/loki/api/v1/query_range", "/loki/api/v1/query", "/loki/api/v1/labels",
        "/loki/api/v1/label", "/loki/api/v1/label/*", "/loki/api/v1/series",
        "/loki/api/v1/index/stats", "/loki/api/v1/index/volume", "/loki/api/v1/index/volume_range",
        "/loki/api/v1/detected_labels", "/loki/api/v1/detected_fields",
        "/loki/api/v1/detected_field/*", "/loki/api/v1/patterns"}) {
    if (!deps.serve_reads) break;
    SKALD_RETURN_IF_ERROR(s.http->RunOn(path, s.query_pool.get(), /*probe_client=*/true));
  }
  for (const char* path : {"/loki/api/v1/push", "/api/prom/push", "/otlp/v1/logs", "/flush"}) {
    if (!deps.serve_writes) break;
    SKALD_RETURN_IF_ERROR(s.http->RunOn(path, s.push_pool.get()));
  }
  if (t.querier && !config.frontend_worker.frontend_address.empty()) {
    // Pull queries from the query frontend and answer them with this process' own read API.
    rpc::FrontendWorkerOptions wo;
    wo.frontend_address = config.frontend_worker.frontend_address;
    wo.concurrency = config.querier.max_concurrent;
    char host[256] = {};
    wo.client_id = (::gethostname(host, sizeof host - 1) == 0 ? std::string(host) : "querier") +
                   ":" + std::to_string(::getpid());
    HttpServer* http = s.http.get();
    s.frontend_worker =
        std::make_unique<rpc::FrontendWorker>(wo, [http](const frontend::Request& r) {
          HttpRequest req;
          req.method = r.method;
          req.target = r.url;
          frontend::Response out;
          if (!ParseTarget(&req)) {
            out.code = 400;
            out.body = "400 Bad Request";
            return out;
          }
          req.headers = r.headers;
          req.body = r.body;
          HttpResponse resp;
          http->Serve(req, &resp);
          out.code = resp.status;
          if (!resp.content_type.empty())
            out.headers.emplace_back("Content-Type", resp.content_type);
          for (auto& h : resp.headers) out.headers.push_back(std::move(h));
          out.body = std::move(resp.body);
          return out;
        });
  }
  return app;
}

Status App::CreateFrontend() {
  Impl& s = *impl_;
  const Config& config = s.config;
  SKALD_RETURN_IF_ERROR(s.LoadLimits());
  frontend::QueueOptions qo;
  qo.max_outstanding_per_tenant = config.frontend.max_outstanding_per_tenant;
  qo.max_retries = config.query_range.max_retries;
  s.frontend_queue = std::make_unique<frontend::RequestQueue>(qo, s.registry);
  if (config.query_range.cache_results) {
    s.results_cache = std::make_unique<frontend::ResultsCache>(
        static_cast<size_t>(config.query_range.results_cache_max_size_mb) << 20, s.registry);
  }
  s.http = std::make_unique<HttpServer>(HttpOptionsFor(config, s.registry, nullptr));
  // Handlers wait for queriers: many may wait at once, each costing a thread, not CPU.
  s.query_pool = std::make_unique<ThreadPool>("skald-frontend", 64, 4096);
  FrontendApiDeps fd;
  fd.queue = s.frontend_queue.get();
  fd.cache = s.results_cache.get();
  fd.limits = s.limits.get();
  fd.auth_enabled = config.auth_enabled;
  fd.no_auth_tenant = config.no_auth_tenant;
  fd.shards = config.query_range.parallelise_shardable_queries ? config.query_range.shards : 1;
  RegisterFrontendApi(s.http.get(), fd);
  for (const std::string& path : FrontendPaths()) {
    SKALD_RETURN_IF_ERROR(s.http->RunOn(path, s.query_pool.get()));
  }
  Impl* impl = &s;
  LokiApiDeps deps = s.OperatorDeps();
  deps.not_ready_reason = [impl]() -> std::string {
    if (impl->stopping.load()) return "Application is stopping";
    if (!impl->ready.load()) return "Query Frontend not ready";
    if (impl->frontend_queue->connected_clients() == 0) {
      return "Query Frontend not ready: not ready: number of queriers connected to "
             "query-frontend is 0";
    }
    return "";
  };
  RegisterOperatorApi(s.http.get(), deps);
  return Status::OK();
}

Status App::Start() {
  Impl& s = *impl_;
  // Listen first so /ready can say "not ready" while the WAL replays.
  SKALD_RETURN_IF_ERROR(s.http->Start());
  if (s.frontend_queue) {  // -target=query-frontend
    rpc::GrpcServices services;
    services.frontend = s.frontend_queue.get();
    SKALD_ASSIGN_OR_RETURN(
        s.grpc_server,
        rpc::GrpcServer::Start(GrpcAddress(s.config, s.config.server.grpc_listen_port), services));
    s.ready = true;
    log::Info("Skald started", {{"target", s.config.target},
                                {"http_port", std::to_string(s.http->port())},
                                {"grpc_port", std::to_string(s.grpc_server->port())}});
    for (const std::string& key : s.config.ignored_keys) {
      log::Warn("config key accepted for Loki compatibility but not implemented: it has no effect",
                {{"key", key}});
    }
    return Status::OK();
  }
  if (s.ingester == nullptr) {  // -target=compactor
    s.ready = true;
    s.compactor->Start();
    log::Info("Skald started", {{"target", s.config.target},
                                {"http_port", std::to_string(s.http->port())},
                                {"path_prefix", s.config.common.path_prefix}});
    for (const std::string& key : s.config.ignored_keys) {
      log::Warn("config key accepted for Loki compatibility but not implemented: it has no effect",
                {{"key", key}});
    }
    return Status::OK();
  }
  if (s.targets.ingester) {
    rpc::GrpcServices services;
    services.pusher = s.local_pusher;
    services.reader = s.ingester.get();
    services.no_auth_tenant = s.config.no_auth_tenant;
    SKALD_ASSIGN_OR_RETURN(
        s.grpc_server,
        rpc::GrpcServer::Start(GrpcAddress(s.config, s.config.server.grpc_listen_port), services));
    const Config::Ingester::Lifecycler& lc = s.config.ingester.lifecycler;
    if (s.lifecycler && lc.port == 0) {  // advertise the port actually bound
      s.lifecycler->SetAddr(AdvertisedAddr(lc, s.grpc_server->port()));
    }
  }
  if (s.lifecycler) {
    Status st = s.lifecycler->Join();  // JOINING: registered, not yet taking writes
    if (!st.ok()) return Status(st.code(), "joining the ingester ring: " + st.message());
  }
  if (s.hooks.before_wal_replay) s.hooks.before_wal_replay();
  if (!s.wal_dir.empty()) {
    ingester::ReplayReport r;
    if (std::filesystem::exists(s.wal_dir)) {
      SKALD_RETURN_IF_ERROR(s.ingester->ReplayWal(s.wal_dir, nullptr, &r));
    }
    const uint64_t bytes = r.checkpoint.bytes + r.segments.bytes;
    log::Info("WAL replay finished",
              {{"duration", FormatGoDuration(r.duration_ns)},
               {"bytes", std::to_string(bytes)},
               {"checkpoint", std::to_string(r.checkpoint_segment)},
               {"segments", std::to_string(r.segments.segments)},
               {"series", std::to_string(r.series)},
               {"entries", std::to_string(r.entries)},
               {"corrupt_records",
                std::to_string(r.checkpoint.corrupt_records + r.segments.corrupt_records)},
               {"torn_tails", std::to_string(r.checkpoint.torn_tails + r.segments.torn_tails)},
               {"orphan_entries", std::to_string(r.orphan_entries)}});
    s.registry
        ->AddGauge("loki_ingester_wal_replay_duration_seconds",
                   "Time taken to replay the checkpoint and the WAL.")
        .WithLabels({})
        .Set(static_cast<double>(r.duration_ns) / 1e9);
    s.registry->AddGauge("skald_wal_replay_bytes", "Record bytes read by the last WAL replay.")
        .WithLabels({})
        .Set(static_cast<double>(bytes));
    // One per damaged segment (its rest is skipped) or missing segment number.
    auto& corruptions =
        s.registry->AddCounter("loki_ingester_wal_corruptions_total",
                               "Total number of WAL corruptions encountered.", {"type"});
    corruptions.WithLabels({"checkpoint"}).Inc(static_cast<double>(r.checkpoint.corrupt_records));
    corruptions.WithLabels({"segment"})
        .Inc(static_cast<double>(r.segments.corrupt_records + r.segments.missing_segments));
    wal::WalOptions wo;
    wo.dir = s.wal_dir;
    wo.fsync = s.config.ingester.wal.fsync;
    SKALD_ASSIGN_OR_RETURN(s.wal, wal::Wal::Open(wo));
    s.ingester->AttachWal(s.wal.get(), s.wal_dir, nullptr);
    wal::Wal* w = s.wal.get();
    s.registry->GaugeFunc("skald_wal_healthy", "1 when the last WAL write succeeded.",
                          [w] { return w->Health().ok() ? 1.0 : 0.0; });
    s.registry->CounterFunc("loki_ingester_wal_records_logged_total",
                            "Total number of WAL records logged.",
                            [w] { return static_cast<double>(w->Stats().records); });
    s.registry->CounterFunc("loki_ingester_wal_logged_bytes_total",
                            "Total number of bytes written to disk for WAL records.",
                            [w] { return static_cast<double>(w->Stats().bytes); });
    s.registry->CounterFunc("skald_wal_fsyncs_total", "WAL fdatasync calls.",
                            [w] { return static_cast<double>(w->Stats().fsyncs); });
  }
  s.ingester->Start();
  if (s.lifecycler) {
    Status st = s.lifecycler->SetState(ring::State::kActive);
    if (!st.ok()) return Status(st.code(), "becoming ACTIVE in the ingester ring: " + st.message());
  }
  if (s.distributor_lifecycler) {
    Status st = s.distributor_lifecycler->Join();
    if (st.ok()) st = s.distributor_lifecycler->SetState(ring::State::kActive);
    if (!st.ok()) return Status(st.code(), "joining the distributor ring: " + st.message());
  }
  if (s.ingester_ring) {
    Status st = s.ingester_ring->Start();
    if (st.ok()) st = s.distributor_ring->Start();
    if (!st.ok()) return Status(st.code(), "watching the rings: " + st.message());
  }
  if (s.frontend_worker) s.frontend_worker->Start();
  s.ready = true;
  s.ruler->Start();
  // One compactor per store: only where the target asks for it.
  if (s.targets.compactor) s.compactor->Start();
  log::Info("Skald started", {{"http_port", std::to_string(s.http->port())},
                              {"path_prefix", s.config.common.path_prefix},
                              {"chunk_encoding", s.config.ingester.chunk_encoding},
                              {"wal", s.wal_dir.empty() ? "disabled" : s.wal_dir}});
  // Honest configuration: what a Loki config sets that Skald accepts but does not do.
  for (const std::string& key : s.config.ignored_keys) {
    log::Warn("config key accepted for Loki compatibility but not implemented: it has no effect",
              {{"key", key}});
  }
  if (s.grpc_server) {
    log::Info("serving gRPC", {{"port", std::to_string(s.grpc_server->port())},
                               {"services", s.grpc_server->names()}});
  }
  return Status::OK();
}

bool App::AcceptingWrites(std::string* reason) const {
  const Impl& s = *impl_;
  if (s.stopping.load()) {
    *reason = "Application is stopping";
    return false;
  }
  if (!s.ready.load()) {
    *reason = "Ingester not ready: replaying the WAL";
    return false;
  }
  return true;
}

Status App::Shutdown() {
  Impl& s = *impl_;
  if (s.shut_down) return Status::OK();
  s.shut_down = true;
  s.stopping = true;
  if (s.runtime_config) s.runtime_config->Stop();
  if (s.tails) s.tails->Stop();  // tail clients get a close frame before the server stops
  if (s.frontend_worker) s.frontend_worker->Stop();  // queries in hand finish first
  if (s.frontend_queue) s.frontend_queue->Stop();    // waiting queries answer 503
  if (s.http) s.http->Stop();
  if (s.grpc_server) s.grpc_server->Stop();
  if (s.distributor_lifecycler && !s.distributor_lifecycler->left()) {
    Status ls = s.distributor_lifecycler->Leave();  // the others' rate shares grow back
    if (!ls.ok()) log::Warn("could not leave the distributor ring", {{"err", ls.ToString()}});
  }
  // The ruler queries through the query pool: stop it first, then let what it queued for
  // Alertmanager and remote write go out (bounded).
  if (s.ruler) s.ruler->Stop();
  if (s.compactor) s.compactor->Stop();
  if (s.notifier) s.notifier->Stop();
  if (s.remote_writer) s.remote_writer->Stop();
  // Handlers the server handed over finish before the roles they call go away.
  if (s.query_pool) s.query_pool->Shutdown();
  if (s.push_pool) s.push_pool->Shutdown();
  if (s.trace_exporter) s.trace_exporter->Stop();  // the last spans go out (bounded)
  Status st;
  if (s.ingester) {
    // LEAVING: the distributors stop sending, queriers still read what this instance holds.
    if (s.lifecycler && !s.lifecycler->left()) {
      Status ls = s.lifecycler->SetState(ring::State::kLeaving);
      if (!ls.ok()) log::Warn("could not set LEAVING in the ring", {{"err", ls.ToString()}});
    }
    s.ingester->Stop();
    int64_t t0 = MonotonicNanos();
    st = s.ingester->FlushAll();
    log::Info("flushed in-memory chunks on shutdown",
              {{"duration", FormatGoDuration(MonotonicNanos() - t0)}, {"status", st.ToString()}});
    if (s.wal) {
      // Everything flushed is in the store now; what could not be flushed is still in
      // memory and goes into this checkpoint, so the WAL keeps exactly what the store lacks
      // and the next start replays it. A failed flush is then no failed shutdown.
      Status cp = s.ingester->Checkpoint();
      if (!cp.ok()) {
        log::Warn("WAL checkpoint at shutdown failed", {{"err", cp.ToString()}});
      } else if (!st.ok()) {
        log::Error("some chunks could not be flushed on shutdown; they stay in the WAL",
                   {{"err", st.ToString()}});
        st = Status::OK();
      }
    }
    // Leave the ring: its streams go to the next owners (what stayed unflushed is in the WAL,
    // which a restart under the same id replays, with the same tokens).
    if (s.lifecycler && !s.lifecycler->left()) {
      Status ls = s.lifecycler->Leave();
      if (!ls.ok()) log::Warn("could not leave the ingester ring", {{"err", ls.ToString()}});
    }
    if (s.ingester_ring) s.ingester_ring->Stop();
    if (s.distributor_ring) s.distributor_ring->Stop();
  }
  if (s.wal) (void)s.wal->Close();
  return st;
}

int App::http_port() const { return impl_->http ? impl_->http->port() : 0; }

}  // namespace skald::server
