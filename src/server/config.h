// Skald configuration: Loki's YAML layout and flag names.
//
// Sources, lowest precedence first: built-in defaults, the YAML file named by
// -config.file (optionally with ${VAR} / ${VAR:-default} expansion when
// -config.expand-env=true), then command-line flags. YAML keys and flags are
// Loki's (server.http_listen_port / -server.http-listen-port, ...), so a Loki
// config carries over: keys of Loki sections Skald does not implement are
// accepted and reported in Config::ignored_keys; keys Loki does not know either
// are errors.
//
// Value syntax: durations accept Prometheus ("1d", "1w", "30d1h") and Go
// ("1h30m", "1.5h", "2h0m0s") forms; byte sizes accept integers or Loki's
// humanized sizes ("256KB" = 262144; KB/MB/GB are powers of 1024); booleans
// accept true/false (and YAML's yes/no/on/off, Go's 1/0/t/f).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "core/time.h"
#include "limits/limits.h"
#include "storage/s3_object_store.h"

namespace skald::server {

// The default of ingester.max_head_bytes: half of the memory this process may use (the
// smaller of physical memory and the cgroup's memory limit), rounded down to a MiB; 0 when
// neither can be read. Computed once.
int64_t DefaultMaxHeadBytes();

struct Config {
  std::string target = "all";  // -target
  bool auth_enabled = false;   // -auth.enabled (Loki's default is true; Skald runs open by default)
  std::string no_auth_tenant = "fake";  // -auth.no-auth-tenant

  struct Server {
    std::string http_listen_address = "0.0.0.0";  // -server.http-listen-address
    int http_listen_port = 3100;                  // -server.http-listen-port
    int grpc_listen_port = 9095;                  // -server.grpc-listen-port
    std::string grpc_listen_address;              // -server.grpc-listen-address ("": all)
    std::string log_level = "info";               // -log.level (debug|info|warn|error)
    int64_t http_server_read_timeout_ns = 30 * kNanosPerSecond;   // -server.http-read-timeout
    int64_t http_server_write_timeout_ns = 30 * kNanosPerSecond;  // -server.http-write-timeout
    int64_t http_server_idle_timeout_ns = 120 * kNanosPerSecond;  // -server.http-idle-timeout
    int64_t graceful_shutdown_timeout_ns =
        30 * kNanosPerSecond;  // -server.graceful-shutdown-timeout
  } server;

  struct Distributor {
    // -distributor.max-decompressed-size. Loki defaults to 5000 MiB (50x its 100 MB message
    // limit); Skald caps a compressed body at what an uncompressed one may be: 100 MiB.
    int64_t max_decompressed_size = 100 << 20;
    // distributor.otlp_config.default_resource_attributes_as_index_labels (YAML only): resource
    // attributes that become stream labels on OTLP ingest. Unset: Loki's default list
    // (wire::DefaultOtlpIndexLabels); an empty list indexes none by default.
    std::optional<std::vector<std::string>> otlp_default_resource_attributes_as_index_labels;
  } distributor;

  // Loki's S3 client block: storage_config.aws (-s3.*) and common.storage.s3
  // (-common.storage.s3.*). Chunks and index go to S3 when a bucket is configured (here or in
  // the url); storage_config.aws wins over common.storage.s3 when both name one.
  struct S3Storage {
    std::string url;  // s3://key:secret@region-or-endpoint/bucket
    bool force_path_style = false;
    std::string bucketnames;
    std::string endpoint;
    std::string region;
    std::string access_key_id;
    std::string secret_access_key;
    std::string session_token;
    bool insecure = false;
    bool insecure_skip_verify = false;
    int64_t idle_conn_timeout_ns = 90 * kNanosPerSecond;
    int64_t min_backoff_ns = 100'000'000;
    int64_t max_backoff_ns = 3 * kNanosPerSecond;
    int max_retries = 5;
  };

  struct Common {
    std::string path_prefix = "./data";  // -common.path-prefix
    S3Storage storage_s3;
  } common;

  struct StorageConfig {
    S3Storage aws;
  } storage_config;

  // The query path when scaled out (docs/operations/scale-out.md).
  struct Querier {
    int64_t query_ingesters_within_ns = 3 * kNanosPerHour;  // -querier.query-ingesters-within
    int max_concurrent = 4;                                 // -querier.max-concurrent
  } querier;
  struct FrontendWorker {
    std::string frontend_address;  // -querier.frontend-address (host:port, gRPC)
  } frontend_worker;
  struct Frontend {
    int max_outstanding_per_tenant = 2048;  // -querier.max-outstanding-requests-per-tenant
  } frontend;
  struct QueryRange {
    bool cache_results = false;                 // -querier.cache-results
    int64_t results_cache_max_size_mb = 100;    // -frontend.embedded-cache.max-size-mb
    bool parallelise_shardable_queries = true;  // -querier.parallelise-shardable-queries
    int shards = 4;                             // -querier.shards (Skald)
    int max_retries = 5;                        // -querier.max-retries-per-request
  } query_range;

  struct Ingester {
    // ingester.lifecycler: this instance's membership in the ingester ring (ring/).
    struct Lifecycler {
      std::string id;        // -ingester.lifecycler.ID (empty: the host name)
      std::string addr;      // -ingester.lifecycler.addr (empty: 127.0.0.1)
      int port = 0;          // -ingester.lifecycler.port (0: server.grpc_listen_port)
      int num_tokens = 128;  // -ingester.num-tokens
      int64_t heartbeat_period_ns = 5 * kNanosPerSecond;  // -ingester.heartbeat-period
      struct Ring {
        std::string store = "inmemory";      // -ring.store: inmemory | etcd
        std::string prefix = "collectors/";  // -ring.prefix
        std::vector<std::string> etcd_endpoints = {"localhost:2379"};  // -etcd.endpoints
        int64_t etcd_dial_timeout_ns = 10 * kNanosPerSecond;           // -etcd.dial-timeout
        int64_t heartbeat_timeout_ns = 60 * kNanosPerSecond;           // -ring.heartbeat-timeout
        int replication_factor = 3;  // -distributor.replication-factor
      } ring;
    } lifecycler;
    int64_t chunk_block_size = 262144;                     // -ingester.chunks-block-size
    int64_t chunk_target_size = 1572864;                   // -ingester.chunk-target-size
    int64_t pack_target_size = 32 << 20;                   // -ingester.pack-target-size
    int64_t flush_batch_size = 64 << 20;                   // -ingester.flush-batch-size
    int64_t head_block_size = 32768;                       // -ingester.head-block-size
    int64_t block_filter_min_bytes = 0;                    // -ingester.block-filter-min-bytes
    int64_t compression_level = 0;                         // -ingester.compression-level
    std::string chunk_encoding = "zstd";                   // -ingester.chunk-encoding
    int64_t max_chunk_age_ns = 2 * kNanosPerHour;          // -ingester.max-chunk-age
    int64_t chunk_idle_period_ns = 30 * kNanosPerMinute;   // -ingester.chunks-idle-period
    int64_t flush_check_period_ns = 30 * kNanosPerSecond;  // -ingester.flush-check-period
    int64_t replica_flush_delay_ns = 2 * kNanosPerMinute;  // -ingester.replica-flush-delay
    int concurrent_flushes = 32;                           // -ingester.concurrent-flushes
    int64_t flush_op_timeout_ns = 10 * kNanosPerMinute;    // -ingester.flush-op-timeout
    // -ingester.max-head-bytes (Skald): the memory guard's cap on unflushed bytes for the
    // whole process; 0 = none. Default: half the memory available (DefaultMaxHeadBytes).
    int64_t max_head_bytes = DefaultMaxHeadBytes();
    struct Wal {
      bool enabled = true;  // -ingester.wal-enabled
      std::string dir;      // -ingester.wal-dir; empty: <common.path_prefix>/wal
      int64_t checkpoint_duration_ns = 5 * kNanosPerMinute;  // -ingester.checkpoint-duration
      bool fsync = true;  // -ingester.wal-fsync (Skald): fdatasync before acknowledging
    } wal;
  } ingester;

  // Log patterns (docs/patterns.md). Off by default, as in Loki: the tee's copy and the
  // training cost about a microsecond of push CPU per line.
  struct PatternIngester {
    bool enabled = false;                       // -pattern-ingester.enabled
    int max_clusters = 300;                     // -pattern-ingester.max-clusters
    double max_eviction_ratio = 0.25;           // -pattern-ingester.max-eviction-ratio
    int max_allowed_line_length = 3000;         // -pattern-ingester.max-allowed-line-length
    int64_t retain_for_ns = 3 * kNanosPerHour;  // -pattern-ingester.retain-for
    int64_t max_chunk_age_ns = kNanosPerHour;   // -pattern-ingester.max-chunk-age
    int64_t pattern_sample_interval_ns = 10 * kNanosPerSecond;  // -pattern-ingester.sample-interval
  } pattern_ingester;

  // The ruler (docs/ruler.md): rule groups evaluated on LogQL, alerts to Alertmanager,
  // recording rules to a remote-write endpoint.
  struct Ruler {
    bool enable_api = true;                            // -ruler.enable-api
    std::string external_url;                          // -ruler.external.url
    int64_t evaluation_interval_ns = kNanosPerMinute;  // -ruler.evaluation-interval
    int64_t poll_interval_ns = kNanosPerMinute;        // -ruler.poll-interval
    int64_t resend_delay_ns = kNanosPerMinute;         // -ruler.resend-delay
    std::string alertmanager_url;                      // -ruler.alertmanager-url (comma-separated)
    int notification_queue_capacity = 10000;           // -ruler.notification-queue-capacity
    int64_t notification_timeout_ns = 10 * kNanosPerSecond;  // -ruler.notification-timeout
    struct RemoteWrite {
      bool enabled = false;           // -ruler.remote-write.enabled
      bool add_org_id_header = true;  // -ruler.remote-write.add-org-id-header
      std::string url;                // ruler.remote_write.client(s).url
      int64_t remote_timeout_ns = 30 * kNanosPerSecond;
    } remote_write;
  } ruler;
  struct RulerStorage {
    std::string backend = "local";  // -ruler-storage.backend: only local is implemented
    std::string local_directory;    // -local.storage.directory; empty: <path_prefix>/rules
  } ruler_storage;

  // The compactor (docs/retention.md): index compaction, retention, delete requests.
  struct Compactor {
    std::string working_directory;                          // -compactor.working-directory
    int64_t compaction_interval_ns = 10 * kNanosPerMinute;  // -compactor.compaction-interval
    bool retention_enabled = false;                         // -compactor.retention-enabled
    int64_t retention_delete_delay_ns = 2 * kNanosPerHour;  // -compactor.retention-delete-delay
    std::string delete_request_store;                       // -compactor.delete-request-store
    int64_t delete_request_cancel_period_ns = 24 * kNanosPerHour;
    int64_t delete_max_interval_ns = 24 * kNanosPerHour;  // -compactor.delete-max-interval
  } compactor;

  // Per-tenant limits: keys, flags, defaults and docs live in limits/limits.h.
  limits::Limits limits_config;

  // dskit's runtimeconfig: a YAML file of per-tenant overrides, reloaded while running.
  struct RuntimeConfigFile {
    std::string file;                          // -runtime-config.file; empty: none
    int64_t period_ns = 10 * kNanosPerSecond;  // -runtime-config.reload-period
  } runtime_config;

  // Request tracing (docs/tracing.md): spans exported over OTLP/HTTP (JSON) when an endpoint
  // is set; trace ids in traceparent headers and log lines always.
  struct Tracing {
    bool enabled = true;        // -tracing.enabled (Loki's key): false turns span export off
    std::string otlp_endpoint;  // -tracing.otlp-endpoint (Skald): http://host:4318; empty: the
                                // OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT env, else no export
  } tracing;

  // Command-line-only settings (not part of the YAML).
  struct Cli {
    std::string config_file;           // -config.file
    bool config_expand_env = false;    // -config.expand-env
    bool help = false;                 // -help / -h / --help
    bool version = false;              // -version
    bool print_config_stderr = false;  // -print-config-stderr
    bool verify_config = false;        // -verify-config
  } cli;

  // Keys found in the YAML that Loki knows but Skald ignores (full paths, in file
  // order), so the caller can log a warning for each.
  std::vector<std::string> ignored_keys;
};

// What -target asks this process to run: `all`, or a comma list of roles.
struct Targets {
  bool all = false;  // monolithic: every role, the query path in process
  bool distributor = false;
  bool ingester = false;
  bool querier = false;
  bool query_frontend = false;
  bool compactor = false;
};
// InvalidArgument for an unknown name (Loki's "unrecognised module name").
StatusOr<Targets> ParseTargets(std::string_view list);

// Parses argv (argv[0] is the program name) Go-flag style: `-name=value`,
// `-name value`, `--name=value`; booleans as `-name` (= true) or `-name=false`;
// `--` ends the flags. -config.file is loaded first, then all flags applied.
// Errors (InvalidArgument): `flag provided but not defined: -x`,
// `flag needs an argument: -x`, `invalid value "v" for flag -x: <why>`,
// `unexpected argument "x"`, config-file read/parse errors (see ParseConfigYaml),
// and validation errors (see ValidateConfig).
StatusOr<Config> LoadConfig(int argc, const char* const* argv);

// Applies a YAML document on top of `base`. Errors (InvalidArgument):
// `unknown config key "ingester.foo"` (+ ` at line N`), `invalid value "v" for
// config key "server.http_listen_port": <why>`, YAML syntax errors with position.
StatusOr<Config> ParseConfigYaml(std::string_view yaml, Config base = {});

// Replaces ${VAR} and ${VAR:-default} with environment values (Loki's
// -config.expand-env); unset variables without default become "".
std::string ExpandEnv(std::string_view text);

// Checks cross-field and range rules: ports in 0..65535, known log level,
// known chunk encoding, positive flush concurrency and chunk block size, ...
Status ValidateConfig(const Config& c);

// The S3 settings chunks and index go to, from storage_config.aws over common.storage.s3
// (each field: the first non-empty of aws, aws's url, common, common's url); nullopt when no
// bucket is configured (the filesystem under common.path_prefix is used). InvalidArgument
// for a malformed url or a list of buckets.
StatusOr<std::optional<storage::S3Config>> ObjectStoreS3Config(const Config& c);

// Range rules of one tenant's limits (limits_config or a runtime override).
Status ValidateLimits(const limits::Limits& l);

// The runtime config file (Loki's runtimeConfigValues): `overrides:` maps a tenant to
// limits_config keys, each tenant starting from `defaults`. Same keys, value syntax and
// validation as limits_config; unknown keys are errors naming the tenant; Loki-only keys
// (limits Skald ignores, and the `configs` / `multi_kv_config` sections) are accepted and
// listed in ignored_keys. A tenant with an empty entry gets the defaults.
struct RuntimeConfig {
  std::map<std::string, limits::Limits> overrides;
  std::vector<std::string> ignored_keys;
};
StatusOr<RuntimeConfig> ParseRuntimeConfigYaml(std::string_view yaml,
                                               const limits::Limits& defaults);
// GET /runtime_config: the overrides per tenant as YAML (`overrides:` then every
// limits_config key of each tenant); only_diffs (?mode=diff) keeps only the values that
// differ from `defaults` (tenants without any difference are left out).
std::string RuntimeConfigToYaml(const limits::Overrides::TenantMap& tenants,
                                const limits::Limits& defaults, bool only_diffs);

// The whole configuration as YAML in Loki's layout (GET /config).
std::string ConfigToYaml(const Config& c);
// Only the settings that differ from the defaults (GET /config?mode=diffs).
std::string ConfigDiffToYaml(const Config& c);
// -help text: every flag with its type, default and description.
std::string FlagsHelp();

}  // namespace skald::server
