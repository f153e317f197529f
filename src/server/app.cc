#include "server/app.h"

#include <algorithm>
#include <filesystem>
#include <thread>

#include "chunk/codec.h"
#include "core/logging.h"
#include "core/metrics.h"
#include "distributor/distributor.h"
#include "index/index_store.h"
#include "ingester/ingester.h"
#include "querier/querier.h"
#include "server/http_server.h"
#include "server/loki_api.h"
#include "storage/fs_object_store.h"

namespace skald::server {

struct App::Impl {
  Config config;
  metrics::Registry* registry = &metrics::DefaultRegistry();
  std::unique_ptr<storage::FsObjectStore> store;
  std::unique_ptr<index::IndexStore> index;
  std::unique_ptr<ingester::Ingester> ingester;
  std::unique_ptr<distributor::Distributor> distributor;
  std::unique_ptr<querier::Querier> querier;
  std::unique_ptr<HttpServer> http;
  std::atomic<bool> ready{false};
  std::atomic<bool> stopping{false};
  bool shut_down = false;
};

App::App() : impl_(std::make_unique<Impl>()) {}

App::~App() { (void)Shutdown(); }

StatusOr<std::unique_ptr<App>> App::Create(const Config& config) {
  std::unique_ptr<App> app(new App());
  Impl& s = *app->impl_;
  s.config = config;
  if (config.target != "all") {
    return Status::Unimplemented("target '" + config.target +
                                 "' is not supported yet; run with -target=all");
  }
  metrics::RegisterProcessMetrics(s.registry);
  std::filesystem::path root(config.common.path_prefix);
  SKALD_ASSIGN_OR_RETURN(s.store, storage::FsObjectStore::Open((root / "store").string()));
  s.index = std::make_unique<index::IndexStore>(s.store.get());

  ingester::IngesterOptions io;
  io.block_size = static_cast<size_t>(config.ingester.chunk_block_size);
  io.target_size = static_cast<size_t>(config.ingester.chunk_target_size);
  SKALD_ASSIGN_OR_RETURN(io.codec, chunk::ParseCodec(config.ingester.chunk_encoding));
  io.max_chunk_age = config.ingester.max_chunk_age_ns;
  io.chunk_idle_period = config.ingester.chunk_idle_period_ns;
  io.flush_check_period = config.ingester.flush_check_period_ns;
  io.concurrent_flushes = config.ingester.concurrent_flushes;
  io.out_of_order_window = config.ingester.max_chunk_age_ns / 2;
  s.ingester = std::make_unique<ingester::Ingester>(io, s.store.get(), s.index.get(), s.registry);

  distributor::Limits limits;
  const auto& lc = config.limits_config;
  limits.max_label_names_per_series = lc.max_label_names_per_series;
  limits.max_label_name_length = lc.max_label_name_length;
  limits.max_label_value_length = lc.max_label_value_length;
  limits.max_line_size = lc.max_line_size;
  limits.reject_old_samples = lc.reject_old_samples;
  limits.reject_old_samples_max_age = lc.reject_old_samples_max_age_ns;
  limits.creation_grace_period = lc.creation_grace_period_ns;
  limits.allow_structured_metadata = lc.allow_structured_metadata;
  limits.max_structured_metadata_size = lc.max_structured_metadata_size;
  limits.max_structured_metadata_entries_count = lc.max_structured_metadata_entries_count;
  limits.discover_service_name = lc.discover_service_name;
  s.distributor = std::make_unique<distributor::Distributor>(limits, s.ingester.get(), s.registry);
  s.querier = std::make_unique<querier::Querier>(querier::QuerierOptions{}, s.ingester.get(),
                                                 s.index.get(), s.store.get());

  HttpServerOptions ho;
  ho.address = config.server.http_listen_address;
  ho.port = config.server.http_listen_port;
  ho.registry = s.registry;
  // Handlers run on the I/O threads: keep enough of them that slow queries
  // never starve pushes, /ready or /metrics.
  ho.threads = static_cast<int>(std::max(8u, 4 * std::thread::hardware_concurrency()));
  ho.read_timeout_ms = config.server.http_server_read_timeout_ns / kNanosPerMilli;
  ho.write_timeout_ms = config.server.http_server_write_timeout_ns / kNanosPerMilli;
  ho.idle_timeout_ms = config.server.http_server_idle_timeout_ns / kNanosPerMilli;
  ho.shutdown_grace_ms = config.server.graceful_shutdown_timeout_ns / kNanosPerMilli;
  s.http = std::make_unique<HttpServer>(ho);
  LokiApiDeps deps;
  deps.config = &s.config;
  deps.distributor = s.distributor.get();
  deps.querier = s.querier.get();
  deps.ingester = s.ingester.get();
  deps.registry = s.registry;
  Impl* impl = app->impl_.get();
  deps.not_ready_reason = [impl]() -> std::string {
    if (impl->stopping.load()) return "Application is stopping";
    if (!impl->ready.load()) return "Ingester not ready: starting";
    return "";
  };
  RegisterLokiApi(s.http.get(), deps);
  return app;
}

Status App::Start() {
  Impl& s = *impl_;
  s.ingester->Start();
  SKALD_RETURN_IF_ERROR(s.http->Start());
  s.ready = true;
  log::Info("Skald started", {{"http_port", std::to_string(s.http->port())},
                              {"path_prefix", s.config.common.path_prefix},
                              {"chunk_encoding", s.config.ingester.chunk_encoding}});
  return Status::OK();
}

Status App::Shutdown() {
  Impl& s = *impl_;
  if (s.shut_down) return Status::OK();
  s.shut_down = true;
  s.stopping = true;
  if (s.http) s.http->Stop();
  Status st;
  if (s.ingester) {
    s.ingester->Stop();
    int64_t t0 = MonotonicNanos();
    st = s.ingester->FlushAll();
    log::Info("flushed in-memory chunks on shutdown",
              {{"duration", FormatGoDuration(MonotonicNanos() - t0)}, {"status", st.ToString()}});
  }
  return st;
}

int App::http_port() const { return impl_->http ? impl_->http->port() : 0; }

}  // namespace skald::server
