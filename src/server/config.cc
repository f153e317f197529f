// Configuration loading (see config.h).
#include "server/config.h"

#include <re2/re2.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>
#include <map>
#include <set>
#include <sstream>

#include <unistd.h>

#include "core/ascii.h"
#include "core/go_string.h"
#include "core/logging.h"
#include "core/parse.h"
#include "logql/parser.h"

namespace skald::server {

namespace {

// ---------------------------------------------------------------------------
// Field table: one row per setting, shared by YAML, flags, output and help.

enum class Kind {
  kString,
  kBool,
  kInt,           // int
  kInt64,         // int64_t, plain integer
  kFloat,         // double
  kGoDuration,    // int64_t ns; printed like Go's time.Duration ("2h0m0s")
  kPromDuration,  // int64_t ns; printed like Prometheus' model.Duration ("1w")
  kByteSize,      // int64_t bytes; accepts "256KB", printed like Loki ("256KB")
  kStringList,    // std::vector<std::string>; flags take a comma-separated list
};

struct Field {
  std::string yaml;  // full YAML path, '.'-separated
  const char* flag;  // flag name without the leading '-'
  Kind kind;
  void* (*ptr)(Config&);                      // the setting, or null for a per-tenant limit:
  void* (*limit)(limits::Limits&) = nullptr;  // then its member of limits_config
  const char* help;
};

// The field's slot in c, typed as f.kind says.
void* Slot(const Field& f, Config& c) {
  return f.limit != nullptr ? f.limit(c.limits_config) : f.ptr(c);
}
const void* Slot(const Field& f, const Config& c) { return Slot(f, const_cast<Config&>(c)); }

Kind KindOf(limits::ValueKind k) {
  switch (k) {
    case limits::ValueKind::kBool:
      return Kind::kBool;
    case limits::ValueKind::kString:
      return Kind::kString;
    case limits::ValueKind::kInt:
      return Kind::kInt;
    case limits::ValueKind::kFloat:
      return Kind::kFloat;
    case limits::ValueKind::kDuration:
      return Kind::kPromDuration;
    case limits::ValueKind::kByteSize:
      return Kind::kByteSize;
    case limits::ValueKind::kStringList:
      return Kind::kStringList;
  }
  return Kind::kString;
}

#define SKALD_FIELD(yaml, flag, kind, member, help)                                     \
  Field {                                                                               \
    yaml, flag, Kind::kind, [](Config& c) -> void* { return &c.member; }, nullptr, help \
  }

#define SKALD_S3_FIELDS(yaml, flag, member)                                                      \
  SKALD_FIELD(yaml ".s3", flag "url", kString, member.url,                                       \
              "S3 URL: s3://<access key>:<secret>@<region or endpoint>/<bucket>; sets what the " \
              "other s3 settings leave empty."),                                                 \
      SKALD_FIELD(yaml ".s3forcepathstyle", flag "force-path-style", kBool,                      \
                  member.force_path_style,                                                       \
                  "Path-style addressing (<endpoint>/<bucket>/<key>) instead of "                \
                  "virtual-hosted (<bucket>.<endpoint>/<key>)."),                                \
      SKALD_FIELD(yaml ".bucketnames", flag "buckets", kString, member.bucketnames,              \
                  "Bucket holding chunks and index. Skald uses one bucket (a comma list is "     \
                  "refused)."),                                                                  \
      SKALD_FIELD(yaml ".endpoint", flag "endpoint", kString, member.endpoint,                   \
                  "S3 endpoint (host[:port] or an http(s) URL). Empty: AWS's for the region."),  \
      SKALD_FIELD(yaml ".region", flag "region", kString, member.region,                         \
                  "AWS region (signing scope). Empty: us-east-1."),                              \
      SKALD_FIELD(yaml ".access_key_id", flag "access-key-id", kString, member.access_key_id,    \
                  "AWS access key ID."),                                                         \
      SKALD_FIELD(yaml ".secret_access_key", flag "secret-access-key", kString,                  \
                  member.secret_access_key, "AWS secret access key."),                           \
      SKALD_FIELD(yaml ".session_token", flag "session-token", kString, member.session_token,    \
                  "AWS session token (temporary credentials)."),                                 \
      SKALD_FIELD(yaml ".insecure", flag "insecure", kBool, member.insecure,                     \
                  "Plain HTTP to an endpoint given without a scheme."),                          \
      SKALD_FIELD(yaml ".http_config.idle_conn_timeout", flag "http.idle-conn-timeout",          \
                  kGoDuration, member.idle_conn_timeout_ns,                                      \
                  "The maximum amount of time an idle connection will be held open."),           \
      SKALD_FIELD(yaml ".http_config.insecure_skip_verify", flag "http.insecure-skip-verify",    \
                  kBool, member.insecure_skip_verify,                                            \
                  "Do not verify the server's TLS certificate."),                                \
      SKALD_FIELD(yaml ".backoff_config.min_period", flag "min-backoff", kGoDuration,            \
                  member.min_backoff_ns, "Minimum backoff time when S3 requests fail."),         \
      SKALD_FIELD(yaml ".backoff_config.max_period", flag "max-backoff", kGoDuration,            \
                  member.max_backoff_ns, "Maximum backoff time when S3 requests fail."),         \
      SKALD_FIELD(yaml ".backoff_config.max_retries", flag "max-retries", kInt,                  \
                  member.max_retries, "Maximum number of times to retry a failed S3 request")

// Order here is the order of ConfigToYaml(); fields of one section stay together.
const std::vector<Field>& Fields() {
  static const std::vector<Field> f = [] {
    std::vector<Field> rows = {
        SKALD_FIELD("target", "target", kString, target,
                    "A comma-separated list of components to run. The default value 'all' runs "
                    "Skald in single binary mode."),
        SKALD_FIELD("auth_enabled", "auth.enabled", kBool, auth_enabled,
                    "Enables authentication through the X-Scope-OrgID header, which must be "
                    "present if true. If false, the OrgID will always be set to the value of "
                    "-auth.no-auth-tenant."),
        SKALD_FIELD("no_auth_tenant", "auth.no-auth-tenant", kString, no_auth_tenant,
                    "Tenant ID to use when auth is disabled."),
        SKALD_FIELD("server.http_listen_address", "server.http-listen-address", kString,
                    server.http_listen_address, "HTTP server listen address."),
        SKALD_FIELD("server.http_listen_port", "server.http-listen-port", kInt,
                    server.http_listen_port, "HTTP server listen port."),
        SKALD_FIELD("server.grpc_listen_port", "server.grpc-listen-port", kInt,
                    server.grpc_listen_port, "gRPC server listen port."),
        SKALD_FIELD("server.grpc_listen_address", "server.grpc-listen-address", kString,
                    server.grpc_listen_address, "gRPC server listen address."),
        SKALD_FIELD("server.graceful_shutdown_timeout", "server.graceful-shutdown-timeout",
                    kGoDuration, server.graceful_shutdown_timeout_ns,
                    "Timeout for graceful shutdowns."),
        SKALD_FIELD("server.http_server_read_timeout", "server.http-read-timeout", kGoDuration,
                    server.http_server_read_timeout_ns,
                    "Read timeout for entire HTTP request, including headers and body."),
        SKALD_FIELD("server.http_server_write_timeout", "server.http-write-timeout", kGoDuration,
                    server.http_server_write_timeout_ns, "Write timeout for HTTP server."),
        SKALD_FIELD("server.http_server_idle_timeout", "server.http-idle-timeout", kGoDuration,
                    server.http_server_idle_timeout_ns, "Idle timeout for HTTP server."),
        SKALD_FIELD("server.log_level", "log.level", kString, server.log_level,
                    "Only log messages with the given severity or above. Valid levels: [debug, "
                    "info, warn, error]"),
        SKALD_FIELD("distributor.max_decompressed_size", "distributor.max-decompressed-size",
                    kByteSize, distributor.max_decompressed_size,
                    "The maximum size of a decompressed push body (gzip, deflate or snappy); "
                    "larger bodies are rejected with 413 while being inflated."),
        SKALD_FIELD("common.path_prefix", "common.path-prefix", kString, common.path_prefix,
                    "Directory under which Skald keeps its data (WAL, chunks, index)."),
        SKALD_S3_FIELDS("common.storage.s3", "common.storage.s3.", common.storage_s3),
        SKALD_S3_FIELDS("storage_config.aws", "s3.", storage_config.aws),
        SKALD_FIELD("ingester.lifecycler.ring.kvstore.store", "ring.store", kString,
                    ingester.lifecycler.ring.store,
                    "Backend storage to use for the ring. Skald implements: inmemory, etcd."),
        SKALD_FIELD("ingester.lifecycler.ring.kvstore.prefix", "ring.prefix", kString,
                    ingester.lifecycler.ring.prefix,
                    "The prefix for the keys in the store. Should end with a /."),
        SKALD_FIELD("ingester.lifecycler.ring.kvstore.etcd.endpoints", "etcd.endpoints",
                    kStringList, ingester.lifecycler.ring.etcd_endpoints,
                    "The etcd endpoints to connect to (host:port or http(s) URLs)."),
        SKALD_FIELD("ingester.lifecycler.ring.kvstore.etcd.dial_timeout", "etcd.dial-timeout",
                    kGoDuration, ingester.lifecycler.ring.etcd_dial_timeout_ns,
                    "The dial timeout for the etcd connection."),
        SKALD_FIELD("ingester.lifecycler.ring.heartbeat_timeout", "ring.heartbeat-timeout",
                    kGoDuration, ingester.lifecycler.ring.heartbeat_timeout_ns,
                    "The heartbeat timeout after which ingesters are skipped for reads/writes. "
                    "0 = never (timeout disabled)."),
        SKALD_FIELD("ingester.lifecycler.ring.replication_factor", "distributor.replication-factor",
                    kInt, ingester.lifecycler.ring.replication_factor,
                    "The number of ingesters to write to and read from."),
        SKALD_FIELD("ingester.lifecycler.num_tokens", "ingester.num-tokens", kInt,
                    ingester.lifecycler.num_tokens, "Number of tokens for each ingester."),
        SKALD_FIELD("ingester.lifecycler.heartbeat_period", "ingester.heartbeat-period",
                    kGoDuration, ingester.lifecycler.heartbeat_period_ns,
                    "Period at which to heartbeat to consul. 0 = disabled."),
        SKALD_FIELD("ingester.lifecycler.ID", "ingester.lifecycler.ID", kString,
                    ingester.lifecycler.id, "ID to register in the ring (default: the host name)."),
        SKALD_FIELD("ingester.lifecycler.address", "ingester.lifecycler.addr", kString,
                    ingester.lifecycler.addr,
                    "IP address to advertise in the ring (default: 127.0.0.1)."),
        SKALD_FIELD("ingester.lifecycler.port", "ingester.lifecycler.port", kInt,
                    ingester.lifecycler.port,
                    "Port to advertise in the ring (default: server.grpc_listen_port)."),
        SKALD_FIELD("ingester.concurrent_flushes", "ingester.concurrent-flushes", kInt,
                    ingester.concurrent_flushes,
                    "How many flushes can happen concurrently from each stream."),
        SKALD_FIELD("ingester.replica_flush_delay", "ingester.replica-flush-delay", kGoDuration,
                    ingester.replica_flush_delay_ns,
                    "Skald: with replication, how long a replica that is not a stream's flush "
                    "owner keeps a closed chunk before checking that the owner stored its "
                    "entries (then it is dropped) or storing it."),
        SKALD_FIELD("ingester.flush_check_period", "ingester.flush-check-period", kGoDuration,
                    ingester.flush_check_period_ns,
                    "How often should the ingester see if there are any blocks to flush."),
        SKALD_FIELD("ingester.flush_op_timeout", "ingester.flush-op-timeout", kGoDuration,
                    ingester.flush_op_timeout_ns, "The timeout for an individual flush."),
        SKALD_FIELD("ingester.chunk_idle_period", "ingester.chunks-idle-period", kGoDuration,
                    ingester.chunk_idle_period_ns,
                    "How long chunks should sit in-memory with no updates before being flushed."),
        SKALD_FIELD("ingester.chunk_block_size", "ingester.chunks-block-size", kInt64,
                    ingester.chunk_block_size,
                    "The targeted uncompressed size in bytes of a chunk block. When this "
                    "threshold is exceeded the head block will be cut and compressed inside the "
                    "chunk."),
        SKALD_FIELD("ingester.chunk_target_size", "ingester.chunk-target-size", kInt64,
                    ingester.chunk_target_size,
                    "A target compressed size in bytes for chunks. 0 creates chunks with a fixed "
                    "10 blocks."),
        SKALD_FIELD("ingester.pack_target_size", "ingester.pack-target-size", kByteSize,
                    ingester.pack_target_size,
                    "Skald: a flush writes each tenant's chunks into packed objects of about "
                    "this size (docs/formats/pack.md) instead of one object per chunk. 0 writes "
                    "one object per chunk."),
        SKALD_FIELD("ingester.flush_batch_size", "ingester.flush-batch-size", kByteSize,
                    ingester.flush_batch_size,
                    "Skald: a flush pass closes, writes and indexes a tenant's streams in "
                    "batches of about this many chunk bytes, so its memory peak stays bounded "
                    "however many streams are flushed; each batch writes its own index file "
                    "per day. 0 flushes a tenant in one batch."),
        SKALD_FIELD("ingester.head_block_size", "ingester.head-block-size", kInt64,
                    ingester.head_block_size,
                    "Skald: heads are cut at this many uncompressed bytes into provisional "
                    "blocks, so buffered logs are held compressed; a flush re-encodes such "
                    "chunks into blocks of chunks-block-size. 0 (or >= chunks-block-size) cuts "
                    "heads at chunks-block-size."),
        SKALD_FIELD("ingester.block_filter_min_bytes", "ingester.block-filter-min-bytes", kInt64,
                    ingester.block_filter_min_bytes,
                    "Skald: stored blocks whose lines total fewer bytes get no gram filter "
                    "(docs/formats/chunk.md, \"Block filters\"): fewer stored bytes for tiny "
                    "streams, slower searches over them. 0 gives every block one."),
        SKALD_FIELD("ingester.compression_level", "ingester.compression-level", kInt64,
                    ingester.compression_level,
                    "Skald: zstd level of stored chunk blocks (1-19; 0 = 1). Higher levels "
                    "store fewer bytes for more flush CPU (docs/formats/chunk.md)."),
        SKALD_FIELD("ingester.chunk_encoding", "ingester.chunk-encoding", kString,
                    ingester.chunk_encoding,
                    "The algorithm to use for compressing chunk. (none, gzip, lz4-64k, snappy, "
                    "lz4-256k, lz4-1M, lz4, flate, zstd)"),
        SKALD_FIELD("ingester.wal.enabled", "ingester.wal-enabled", kBool, ingester.wal.enabled,
                    "Enable writing of ingested data into the WAL."),
        SKALD_FIELD("ingester.wal.dir", "ingester.wal-dir", kString, ingester.wal.dir,
                    "Directory where the WAL data is stored (default <common.path_prefix>/wal)."),
        SKALD_FIELD("ingester.wal.checkpoint_duration", "ingester.checkpoint-duration", kGoDuration,
                    ingester.wal.checkpoint_duration_ns,
                    "Interval at which checkpoints should be created."),
        SKALD_FIELD("ingester.wal.fsync", "ingester.wal-fsync", kBool, ingester.wal.fsync,
                    "fdatasync the WAL before acknowledging a push. Off trades power-loss safety "
                    "for speed; a process crash still loses nothing."),
        SKALD_FIELD("ingester.max_head_bytes", "ingester.max-head-bytes", kByteSize,
                    ingester.max_head_bytes,
                    "Skald: the most bytes of unflushed log data all tenants together may hold "
                    "in memory; pushes over it are refused with 503 until flushes free memory. "
                    "0 to disable. Default: half of the physical memory or cgroup limit."),
        SKALD_FIELD("ingester.max_chunk_age", "ingester.max-chunk-age", kGoDuration,
                    ingester.max_chunk_age_ns,
                    "The maximum duration of a timeseries chunk in memory. If a timeseries runs "
                    "for longer than this, the current chunk will be flushed to the store and a "
                    "new chunk created."),
        SKALD_FIELD("pattern_ingester.enabled", "pattern-ingester.enabled", kBool,
                    pattern_ingester.enabled,
                    "Detect log patterns (served by /loki/api/v1/patterns). Skald's default is "
                    "true; Loki's is false."),
        SKALD_FIELD("pattern_ingester.max_clusters", "pattern-ingester.max-clusters", kInt,
                    pattern_ingester.max_clusters,
                    "The maximum number of detected pattern clusters that can be created by "
                    "streams."),
        SKALD_FIELD("pattern_ingester.max_eviction_ratio", "pattern-ingester.max-eviction-ratio",
                    kFloat, pattern_ingester.max_eviction_ratio,
                    "The maximum eviction ratio of patterns per stream. Once that ratio is "
                    "reached, the stream will be throttled for pattern detection."),
        SKALD_FIELD("pattern_ingester.max_allowed_line_length",
                    "pattern-ingester.max-allowed-line-length", kInt,
                    pattern_ingester.max_allowed_line_length,
                    "The maximum length of log lines that can be used for pattern detection."),
        SKALD_FIELD("pattern_ingester.retain_for", "pattern-ingester.retain-for", kGoDuration,
                    pattern_ingester.retain_for_ns,
                    "How long to retain patterns in the pattern ingester after they are pushed."),
        SKALD_FIELD("pattern_ingester.max_chunk_age", "pattern-ingester.max-chunk-age", kGoDuration,
                    pattern_ingester.max_chunk_age_ns,
                    "The maximum time span for a single pattern chunk."),
        SKALD_FIELD("pattern_ingester.pattern_sample_interval", "pattern-ingester.sample-interval",
                    kGoDuration, pattern_ingester.pattern_sample_interval_ns,
                    "The time resolution for pattern samples within chunks."),
        SKALD_FIELD("ruler.enable_api", "ruler.enable-api", kBool, ruler.enable_api,
                    "Enable the ruler API."),
        SKALD_FIELD("ruler.external_url", "ruler.external.url", kString, ruler.external_url,
                    "Base URL of the Grafana instance (alerts' generatorURL, $externalURL)."),
        SKALD_FIELD("ruler.evaluation_interval", "ruler.evaluation-interval", kGoDuration,
                    ruler.evaluation_interval_ns, "How frequently to evaluate rules."),
        SKALD_FIELD("ruler.poll_interval", "ruler.poll-interval", kGoDuration,
                    ruler.poll_interval_ns, "How frequently to poll for rule changes."),
        SKALD_FIELD("ruler.resend_delay", "ruler.resend-delay", kGoDuration, ruler.resend_delay_ns,
                    "Minimum amount of time to wait before resending an alert to Alertmanager."),
        SKALD_FIELD("ruler.alertmanager_url", "ruler.alertmanager-url", kString,
                    ruler.alertmanager_url,
                    "Comma-separated list of Alertmanager URLs to send notifications to (http "
                    "only; Alertmanager's v2 API)."),
        SKALD_FIELD("ruler.notification_queue_capacity", "ruler.notification-queue-capacity", kInt,
                    ruler.notification_queue_capacity,
                    "Capacity of the queue for notifications to be sent to the Alertmanager."),
        SKALD_FIELD("ruler.notification_timeout", "ruler.notification-timeout", kGoDuration,
                    ruler.notification_timeout_ns,
                    "HTTP timeout duration when sending notifications to the Alertmanager."),
        SKALD_FIELD("ruler.remote_write.enabled", "ruler.remote-write.enabled", kBool,
                    ruler.remote_write.enabled, "Enable remote-write functionality."),
        SKALD_FIELD("ruler.remote_write.add_org_id_header", "ruler.remote-write.add-org-id-header",
                    kBool, ruler.remote_write.add_org_id_header,
                    "Add X-Scope-OrgID header in remote write requests."),
        SKALD_FIELD("ruler.remote_write.client.url", "ruler.remote-write.url", kString,
                    ruler.remote_write.url,
                    "The remote-write endpoint recording rules write to (http only); "
                    "ruler.remote_write.clients.<name>.url sets the same."),
        SKALD_FIELD("ruler.remote_write.client.remote_timeout", "ruler.remote-write.timeout",
                    kGoDuration, ruler.remote_write.remote_timeout_ns,
                    "Timeout of one remote-write request."),
        SKALD_FIELD("ruler_storage.backend", "ruler-storage.backend", kString,
                    ruler_storage.backend, "Backend storage to use. Skald implements: local."),
        SKALD_FIELD("ruler_storage.local.directory", "local.storage.directory", kString,
                    ruler_storage.local_directory,
                    "Directory to scan for rules (<tenant>/<namespace> files); empty: "
                    "<common.path_prefix>/rules."),
        SKALD_FIELD("compactor.working_directory", "compactor.working-directory", kString,
                    compactor.working_directory,
                    "Directory where files can be downloaded for compaction (Skald compacts in "
                    "memory; accepted for compatibility)."),
        SKALD_FIELD("querier.query_ingesters_within", "querier.query-ingesters-within", kGoDuration,
                    querier.query_ingesters_within_ns,
                    "Maximum lookback beyond which queries are not sent to ingester. 0 means all "
                    "queries are sent to ingester."),
        SKALD_FIELD("querier.max_concurrent", "querier.max-concurrent", kInt,
                    querier.max_concurrent,
                    "The maximum number of queries that can be simultaneously processed by the "
                    "querier (its streams to the query frontend)."),
        SKALD_FIELD("frontend_worker.frontend_address", "querier.frontend-address", kString,
                    frontend_worker.frontend_address,
                    "Address of the query frontend's gRPC server (host:port); a querier pulls "
                    "queries from it."),
        SKALD_FIELD("frontend.max_outstanding_per_tenant",
                    "querier.max-outstanding-requests-per-tenant", kInt,
                    frontend.max_outstanding_per_tenant,
                    "Maximum number of outstanding requests per tenant per frontend; requests "
                    "beyond this error with HTTP 429."),
        SKALD_FIELD("query_range.cache_results", "querier.cache-results", kBool,
                    query_range.cache_results, "Cache query results."),
        SKALD_FIELD("query_range.results_cache.cache.embedded_cache.max_size_mb",
                    "frontend.embedded-cache.max-size-mb", kInt64,
                    query_range.results_cache_max_size_mb,
                    "Maximum memory size of the results cache in MB."),
        SKALD_FIELD("query_range.parallelise_shardable_queries",
                    "querier.parallelise-shardable-queries", kBool,
                    query_range.parallelise_shardable_queries,
                    "Perform query parallelisations based on stream fingerprints."),
        SKALD_FIELD("query_range.shards", "querier.shards", kInt, query_range.shards,
                    "Skald: shards per time split of a shardable query (log queries; sum over "
                    "additive range aggregations)."),
        SKALD_FIELD("query_range.max_retries", "querier.max-retries-per-request", kInt,
                    query_range.max_retries,
                    "Maximum number of retries for a single request; beyond this, the downstream "
                    "error is returned."),
        SKALD_FIELD("compactor.compaction_interval", "compactor.compaction-interval", kGoDuration,
                    compactor.compaction_interval_ns,
                    "Interval at which to re-run the compaction operation."),
        SKALD_FIELD("compactor.retention_enabled", "compactor.retention-enabled", kBool,
                    compactor.retention_enabled,
                    "Activate custom (per-stream,per-tenant) retention."),
        SKALD_FIELD("compactor.retention_delete_delay", "compactor.retention-delete-delay",
                    kGoDuration, compactor.retention_delete_delay_ns,
                    "Delay after which chunks will be fully deleted during retention."),
        SKALD_FIELD("compactor.delete_request_store", "compactor.delete-request-store", kString,
                    compactor.delete_request_store,
                    "Store used for managing delete requests (Skald keeps them in the object "
                    "store; accepted for compatibility)."),
        SKALD_FIELD("compactor.delete_request_cancel_period",
                    "compactor.delete-request-cancel-period", kGoDuration,
                    compactor.delete_request_cancel_period_ns,
                    "Allow cancellation of delete request until duration after they are created. "
                    "Data would be deleted only after delete requests have been older than this "
                    "duration. Ideally this should be set to at least 24h."),
        SKALD_FIELD("compactor.delete_max_interval", "compactor.delete-max-interval", kGoDuration,
                    compactor.delete_max_interval_ns,
                    "Constrain the size of any single delete request with line filters (the "
                    "largest max_interval a request may give)."),
        SKALD_FIELD("runtime_config.period", "runtime-config.reload-period", kGoDuration,
                    runtime_config.period_ns, "How often to check runtime config files."),
        SKALD_FIELD("runtime_config.file", "runtime-config.file", kString, runtime_config.file,
                    "Path of the YAML file with the configuration that can be updated at runtime "
                    "(per-tenant limit overrides)."),
        SKALD_FIELD("tracing.enabled", "tracing.enabled", kBool, tracing.enabled,
                    "Set to false to disable tracing (span export; trace ids are still "
                    "propagated and logged)."),
        SKALD_FIELD("tracing.otlp_endpoint", "tracing.otlp-endpoint", kString,
                    tracing.otlp_endpoint,
                    "OTLP/HTTP endpoint spans are exported to (JSON, POST <endpoint>/v1/traces; "
                    "http only), e.g. http://localhost:4318. Empty: "
                    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT when set, "
                    "else no export."),
    };
    // limits_config: one row per per-tenant limit, from the limits module's table.
    for (const limits::Descriptor& d : limits::Descriptors()) {
      rows.push_back(Field{std::string("limits_config.") + d.yaml_key, d.flag, KindOf(d.kind),
                           nullptr, d.field, d.help});
    }
    return rows;
  }();
  return f;
}

#undef SKALD_S3_FIELDS
#undef SKALD_FIELD

// Loki keys Skald accepts but does not implement. A top-level name covers its
// whole subtree; "section.key" covers one key of a section Skald partly implements.
const std::set<std::string>& LokiOnlyKeys() {
  static const std::set<std::string> keys = [] {
    std::set<std::string> s;
    auto add = [&s](const std::string& prefix, const char* list) {
      std::istringstream in(list);
      std::string k;
      while (in >> k) s.insert(prefix.empty() ? k : prefix + "." + k);
    };
    add("",
        "lbac ballast_bytes ui distributor querier query_engine query_scheduler frontend "
        "query_range ingester_client index_gateway "
        "bloom_build bloom_gateway chunk_store_config schema_config "
        "compactor_grpc_client frontend_worker memberlist kafka_config dataobj ingest_limits "
        "ingest_limits_frontend ingest_limits_frontend_client operational_config "
        "analytics profiling tenant_limits_allow_publish shutdown_delay "
        "metrics_namespace table_manager use_buffered_logger use_sync_logger bloom_compactor "
        "internal_server legacy_read_target block_builder block_scheduler overrides_exporter "
        "partition_ring ingester_rf1 metastore metastore_client");
    add("server",
        "http_listen_network http_listen_conn_limit grpc_listen_network "
        "grpc_listen_conn_limit grpc_collect_max_streams_by_conn proxy_protocol_enabled "
        "tls_cipher_suites tls_min_version http_tls_config grpc_tls_config "
        "register_instrumentation report_grpc_codes_in_instrumentation_label_enabled "
        "http_server_read_header_timeout http_log_closed_connections_without_response_enabled "
        "grpc_server_max_recv_msg_size grpc_server_max_send_msg_size "
        "grpc_server_max_concurrent_streams grpc_server_max_connection_idle "
        "grpc_server_max_connection_age grpc_server_max_connection_age_grace "
        "grpc_server_keepalive_time grpc_server_keepalive_timeout "
        "grpc_server_min_time_between_pings grpc_server_ping_without_stream_allowed "
        "grpc_server_num_workers grpc_server_stats_tracking_enabled "
        "grpc_server_recv_buffer_pools_enabled grpc_server_read_buffer_size "
        "grpc_server_write_buffer_size log_format log_source_ips_enabled log_source_ips_full "
        "log_source_ips_header log_source_ips_regex log_request_headers "
        "log_request_at_info_level_enabled log_request_exclude_headers_list "
        "trace_request_headers trace_request_exclude_headers_list http_path_prefix "
        "cluster_validation create_new_traces");
    add("ruler",
        "datasource_uid external_labels ruler_client storage rule_path for_outage_tolerance "
        "for_grace_period enable_sharding sharding_strategy sharding_algo search_pending_for "
        "ring flush_period enabled_tenants disabled_tenants query_stats_enabled "
        "disable_rule_group_label wal wal_cleaner evaluation enable_alertmanager_discovery "
        "alertmanager_refresh_interval enable_alertmanager_v2 alert_relabel_configs "
        "alertmanager_client");
    add("ruler.remote_write", "config_refresh_period");
    add("ruler.remote_write.client",
        "name headers send_exemplars send_native_histograms write_relabel_configs basic_auth "
        "authorization sigv4 oauth2 azuread google_iam tls_config proxy_url "
        "follow_redirects enable_http2 queue_config metadata_config round_robin_dns "
        "protobuf_message");
    add("ruler_storage", "azure alibabacloud gcs s3 bos swift cos");
    add("tracing", "profiling_enabled filter_gcs_spans");
    add("compactor",
        "apply_retention_interval retention_delete_worker_count "
        "delete_request_store_key_prefix delete_request_store_db_type "
        "backup_delete_request_store_db_type delete_batch_size retention_table_timeout "
        "max_compaction_parallelism upload_parallelism run_once tables_to_compact "
        "skip_latest_n_tables compactor_ring horizontal_scaling_mode "
        "deletion_marker_object_store_prefix worker_config jobs_config "
        "retention_backoff_config");
    // Partly implemented sections: their other keys are accepted and ignored.
    add("", "storage_config");
    add("storage_config", "aws aws.http_config aws.backoff_config");
    add("common", "storage storage.s3 storage.s3.http_config storage.s3.backoff_config");
    add("common",
        "persist_tokens replication_factor ring instance_interface_names instance_addr "
        "compactor_address compactor_grpc_address scratch_path");
    add("ingester",
        "lifecycler lifecycler.ring lifecycler.ring.kvstore lifecycler.ring.kvstore.etcd");
    add("ingester",
        "flush_op_backoff chunk_retain_period autoforget_unhealthy sync_period "
        "sync_min_utilization max_returned_stream_errors query_store_max_look_back_period "
        "index_shards max_dropped_streams shutdown_marker_path owned_streams_check_interval "
        "delegate_stream_limits_enabled kafka_ingestion max_transfer_retries");
    add("ingester.wal", "replay_memory_ceiling flush_on_shutdown");
    add("pattern_ingester",
        "lifecycler client_config concurrent_flushes flush_check_period metric_aggregation "
        "pattern_persistence tee_config connection_timeout volume_threshold");
    add("limits_config",
        "increment_duplicate_timestamp simulated_push_latency discover_generic_fields "
        "use_owned_stream_count "
        "max_chunks_per_query "
        "max_query_range tsdb_max_query_parallelism "
        "tsdb_max_bytes_per_shard tsdb_sharding_strategy tsdb_precompute_chunks "
        "cardinality_limit max_streams_matchers_per_query "
        "max_metadata_cache_freshness max_stats_cache_freshness "
        "max_queriers_per_tenant max_query_capacity query_ready_index_num_days "
        "split_metadata_queries_by_interval "
        "split_recent_metadata_queries_by_interval recent_metadata_query_window "
        "split_instant_metric_queries_by_interval engine_results_cache_time_bucket_interval "
        "split_ingester_queries_by_interval min_sharding_lookback max_query_bytes_read "
        "max_querier_bytes_read volume_enabled volume_max_series "
        "ruler_max_rules_per_rule_group ruler_max_rule_groups_per_tenant "
        "ruler_tenant_shard_size ruler_remote_write_disabled ruler_remote_write_config "
        "ruler_remote_evaluation_timeout ruler_remote_evaluation_max_response_size "
        "shard_streams blocked_queries "
        "required_labels minimum_labels_number index_gateway_shard_size "
        "index_gateway_max_capacity bloom_gateway_enable_filtering bloom_build_max_builders "
        "bloom_build_task_max_retries bloom_build_builder_response_timeout "
        "bloom_creation_enabled dataobj_index_compaction_enabled "
        "dataobj_log_compaction_enabled bloom_planning_strategy bloom_split_series_keyspace_by "
        "bloom_task_target_series_chunk_size bloom_block_encoding bloom_prefetch_blocks "
        "bloom_max_block_size bloom_max_bloom_size block_ingestion_policy_until "
        "block_ingestion_until block_ingestion_status_code enforced_labels "
        "policy_enforced_labels policy_stream_mapping ingestion_partitions_tenant_shard_size "
        "shard_aggregations pattern_ingester_tokenizable_json_fields_default "
        "pattern_ingester_tokenizable_json_fields_append "
        "pattern_ingester_tokenizable_json_fields_delete metric_aggregation_enabled "
        "pattern_persistence_enabled pattern_persistence_granularity pattern_rate_threshold "
        "s3_sse_type s3_sse_kms_key_id s3_sse_kms_encryption_context debug_engine_tasks "
        "debug_engine_streams enforce_metric_name unordered_writes per_tenant_override_config "
        "per_tenant_override_period allow_deletes");
    return s;
  }();
  return keys;
}

const Field* FindYaml(std::string_view path) {
  for (const auto& f : Fields()) {
    if (path == f.yaml) return &f;
  }
  return nullptr;
}

const Field* FindFlag(std::string_view name) {
  for (const auto& f : Fields()) {
    if (name == f.flag) return &f;
  }
  return nullptr;
}

// True when `path` names a section that holds known fields ("server", "ingester").
bool IsSection(std::string_view path) {
  for (const auto& f : Fields()) {
    std::string_view y = f.yaml;
    if (y.size() > path.size() && y.compare(0, path.size(), path) == 0 && y[path.size()] == '.') {
      return true;
    }
  }
  return false;
}

std::string Trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\t')) b++;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t')) e--;
  return std::string(s.substr(b, e - b));
}

// ---------------------------------------------------------------------------
// Value parsing and formatting

Status ParseBool(std::string_view v, bool* out) {
  static const char* kTrue[] = {"1", "t",   "T",   "true", "True", "TRUE", "y",
                                "Y", "yes", "Yes", "YES",  "on",   "On",   "ON"};
  static const char* kFalse[] = {"0", "f",  "F",  "false", "False", "FALSE", "n",
                                 "N", "no", "No", "NO",    "off",   "Off",   "OFF"};
  for (const char* t : kTrue) {
    if (v == t) {
      *out = true;
      return Status::OK();
    }
  }
  for (const char* f : kFalse) {
    if (v == f) {
      *out = false;
      return Status::OK();
    }
  }
  return Status::InvalidArgument("expected a boolean");
}

// Go's strconv.ParseInt / ParseFloat (what Loki's flags use), with short reasons.
Status ParseInt64(std::string_view v, int64_t* out) {
  switch (ParseGoInt(v, out)) {
    case NumError::kNone:
      return Status::OK();
    case NumError::kRange:
      return Status::InvalidArgument("value out of range");
    case NumError::kSyntax:
      break;
  }
  return Status::InvalidArgument("expected an integer");
}

Status ParseDouble(std::string_view v, double* out) {
  double d;
  if (ParseGoFloat(v, &d) != NumError::kNone) return Status::InvalidArgument("expected a number");
  *out = d;
  return Status::OK();
}

Status ParseDuration(std::string_view v, int64_t* out) {
  auto p = ParsePromDuration(v);
  if (p.ok()) {
    *out = *p;
    return Status::OK();
  }
  auto g = ParseGoDuration(v);
  if (g.ok()) {
    *out = *g;
    return Status::OK();
  }
  return Status::InvalidArgument("not a valid duration (want e.g. \"30s\", \"1h30m\", \"7d\")");
}

std::string FormatFloat(double v) {
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), v);
  return std::string(buf, static_cast<size_t>(res.ptr - buf));
}

std::vector<std::string> SplitCsv(std::string_view v) {
  std::vector<std::string> out;
  if (Trim(v).empty()) return out;
  size_t start = 0;
  for (;;) {
    size_t comma = v.find(',', start);
    out.push_back(Trim(v.substr(start, comma == std::string_view::npos ? comma : comma - start)));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return out;
}

std::string JoinCsv(const std::vector<std::string>& v) {
  std::string out;
  for (size_t i = 0; i < v.size(); i++) {
    if (i > 0) out += ",";
    out += v[i];
  }
  return out;
}

// Parses `text` into the field's slot in *c. The error is the reason only.
Status SetFromString(const Field& f, Config* c, std::string_view text) {
  void* p = Slot(f, *c);
  switch (f.kind) {
    case Kind::kString:
      *static_cast<std::string*>(p) = std::string(text);
      return Status::OK();
    case Kind::kBool:
      return ParseBool(text, static_cast<bool*>(p));
    case Kind::kInt: {
      int64_t v;
      SKALD_RETURN_IF_ERROR(ParseInt64(text, &v));
      if (v < std::numeric_limits<int>::min() || v > std::numeric_limits<int>::max()) {
        return Status::InvalidArgument("value out of range");
      }
      *static_cast<int*>(p) = static_cast<int>(v);
      return Status::OK();
    }
    case Kind::kInt64:
      return ParseInt64(text, static_cast<int64_t*>(p));
    case Kind::kFloat:
      return ParseDouble(text, static_cast<double*>(p));
    case Kind::kGoDuration:
    case Kind::kPromDuration:
      return ParseDuration(text, static_cast<int64_t*>(p));
    case Kind::kByteSize: {
      SKALD_ASSIGN_OR_RETURN(*static_cast<int64_t*>(p), ParseByteSize(text));
      return Status::OK();
    }
    case Kind::kStringList:
      *static_cast<std::vector<std::string>*>(p) = SplitCsv(text);
      return Status::OK();
  }
  return Status::Internal("unknown field kind");
}

std::string FormatField(const Field& f, const Config& cc) {
  const void* p = Slot(f, cc);
  switch (f.kind) {
    case Kind::kString:
      return *static_cast<const std::string*>(p);
    case Kind::kBool:
      return *static_cast<const bool*>(p) ? "true" : "false";
    case Kind::kInt:
      return std::to_string(*static_cast<const int*>(p));
    case Kind::kInt64:
      return std::to_string(*static_cast<const int64_t*>(p));
    case Kind::kFloat:
      return FormatFloat(*static_cast<const double*>(p));
    case Kind::kGoDuration:
      return FormatGoDuration(*static_cast<const int64_t*>(p));
    case Kind::kPromDuration:
      return FormatPromDuration(*static_cast<const int64_t*>(p));
    case Kind::kByteSize:
      return FormatByteSize(*static_cast<const int64_t*>(p));
    case Kind::kStringList:
      return JoinCsv(*static_cast<const std::vector<std::string>*>(p));
  }
  return "";
}

// ---------------------------------------------------------------------------
// YAML

std::string LineSuffix(const YAML::Node& n) {
  const YAML::Mark m = n.Mark();
  if (m.line < 0) return "";
  return " at line " + std::to_string(m.line + 1);
}

const char* NodeTypeName(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Scalar:
      return "a scalar";
    default:
      return "null";
  }
}

Status ApplyYamlValue(const Field& f, const std::string& path, const YAML::Node& v, Config* c) {
  if (v.IsNull()) return Status::OK();  // `key:` with no value keeps the default
  if (f.kind == Kind::kStringList) {
    auto* list = static_cast<std::vector<std::string>*>(Slot(f, *c));
    if (v.IsSequence()) {
      list->clear();
      for (const auto& item : v) {
        if (!item.IsScalar()) {
          return Status::InvalidArgument("invalid value for config key \"" + path +
                                         "\": expected a list of strings" + LineSuffix(item));
        }
        list->push_back(item.Scalar());
      }
      return Status::OK();
    }
    if (v.IsScalar()) {
      *list = SplitCsv(v.Scalar());
      return Status::OK();
    }
  }
  if (!v.IsScalar()) {
    return Status::InvalidArgument("invalid value for config key \"" + path +
                                   "\": expected a scalar, got " + NodeTypeName(v) + LineSuffix(v));
  }
  Status s = SetFromString(f, c, v.Scalar());
  if (!s.ok()) {
    return Status::InvalidArgument("invalid value " + GoQuote(v.Scalar()) + " for config key \"" +
                                   path + "\": " + s.message() + LineSuffix(v));
  }
  return Status::OK();
}

// limits_config.otlp_config and distributor.otlp_config: nested lists of rules, so they are
// parsed here rather than through the field table (Loki's OTLPConfig / GlobalOTLPConfig rules).
Status ApplyOtlpConfig(const std::string& path, const YAML::Node& v, Config* c) {
  if (v.IsNull()) return Status::OK();
  auto bad = [&](const std::string& key, const std::string& why, const YAML::Node& n) {
    return Status::InvalidArgument("invalid value for config key \"" + key + "\": " + why +
                                   LineSuffix(n));
  };
  auto strings = [&](const std::string& key, const YAML::Node& n,
                     std::vector<std::string>* out) -> Status {
    out->clear();
    if (n.IsNull()) return Status::OK();
    if (!n.IsSequence()) return bad(key, "expected a list of strings", n);
    for (const auto& item : n) {
      if (!item.IsScalar()) return bad(key, "expected a list of strings", item);
      out->push_back(item.Scalar());
    }
    return Status::OK();
  };
  if (!v.IsMap()) return bad(path, std::string("expected a mapping, got ") + NodeTypeName(v), v);
  if (path == "distributor.otlp_config") {
    for (const auto& kv : v) {
      const std::string key = path + "." + kv.first.Scalar();
      if (kv.first.Scalar() != "default_resource_attributes_as_index_labels") {
        return Status::InvalidArgument("unknown config key \"" + key + "\"" + LineSuffix(kv.first));
      }
      std::vector<std::string> list;
      SKALD_RETURN_IF_ERROR(strings(key, kv.second, &list));
      c->distributor.otlp_default_resource_attributes_as_index_labels = std::move(list);
    }
    return Status::OK();
  }
  auto rules = [&](const std::string& key, const YAML::Node& n, bool allow_index,
                   std::vector<limits::OtlpAttributesConfig>* out) -> Status {
    out->clear();
    if (n.IsNull()) return Status::OK();
    if (!n.IsSequence()) return bad(key, "expected a list of attribute rules", n);
    for (const auto& item : n) {
      if (!item.IsMap()) return bad(key, "expected a list of attribute rules", item);
      limits::OtlpAttributesConfig rule;
      for (const auto& kv : item) {
        const std::string k = kv.first.Scalar();
        if (k == "action") {
          const std::string a = kv.second.IsScalar() ? kv.second.Scalar() : "";
          if (a == "index_label") {
            rule.action = limits::OtlpAttributeAction::kIndexLabel;
          } else if (a == "structured_metadata" || a.empty()) {
            rule.action = limits::OtlpAttributeAction::kStructuredMetadata;
          } else if (a == "drop") {
            rule.action = limits::OtlpAttributeAction::kDrop;
          } else {
            return bad(key,
                       "unsupported action, it must be one of: drop, index_label, "
                       "structured_metadata",
                       kv.second);
          }
        } else if (k == "attributes") {
          SKALD_RETURN_IF_ERROR(strings(key + ".attributes", kv.second, &rule.attributes));
        } else if (k == "regex") {
          if (!kv.second.IsNull()) {
            if (!kv.second.IsScalar()) return bad(key, "regex must be a string", kv.second);
            rule.regex = kv.second.Scalar();
            RE2::Options quiet;
            quiet.set_log_errors(false);
            RE2 re("^(?s:" + rule.regex + ")$", quiet);
            if (!re.ok()) return bad(key, "error parsing regexp: " + re.error(), kv.second);
          }
        } else {
          return Status::InvalidArgument("unknown config key \"" + key + "." + k + "\"" +
                                         LineSuffix(kv.first));
        }
      }
      if (rule.attributes.empty() && rule.regex.empty()) {
        return bad(key, "attributes or regex must be set", item);
      }
      if (!rule.attributes.empty() && !rule.regex.empty()) {
        return bad(key, "only one of attributes or regex must be set", item);
      }
      if (!allow_index && rule.action == limits::OtlpAttributeAction::kIndexLabel) {
        return bad(key, "index_label action is only supported for resource_attributes", item);
      }
      out->push_back(std::move(rule));
    }
    return Status::OK();
  };
  limits::OtlpConfig& otlp = c->limits_config.otlp_config;
  for (const auto& kv : v) {
    const std::string k = kv.first.Scalar();
    const std::string key = path + "." + k;
    if (k == "resource_attributes") {
      if (kv.second.IsNull()) continue;
      if (!kv.second.IsMap()) return bad(key, "expected a mapping", kv.second);
      for (const auto& r : kv.second) {
        const std::string rk = r.first.Scalar();
        if (rk == "ignore_defaults") {
          if (!r.second.IsScalar() ||
              !ParseBool(r.second.Scalar(), &otlp.resource_ignore_defaults).ok()) {
            return bad(key + ".ignore_defaults", "expected a boolean", r.second);
          }
        } else if (rk == "attributes_config") {
          SKALD_RETURN_IF_ERROR(
              rules(key + ".attributes_config", r.second, true, &otlp.resource_attributes));
        } else {
          return Status::InvalidArgument("unknown config key \"" + key + "." + rk + "\"" +
                                         LineSuffix(r.first));
        }
      }
    } else if (k == "scope_attributes") {
      SKALD_RETURN_IF_ERROR(rules(key, kv.second, false, &otlp.scope_attributes));
    } else if (k == "log_attributes") {
      SKALD_RETURN_IF_ERROR(rules(key, kv.second, true, &otlp.log_attributes));
    } else if (k == "severity_text_as_label") {
      if (!kv.second.IsScalar() ||
          !ParseBool(kv.second.Scalar(), &otlp.severity_text_as_label).ok()) {
        return bad(key, "expected a boolean", kv.second);
      }
    } else {
      return Status::InvalidArgument("unknown config key \"" + key + "\"" + LineSuffix(kv.first));
    }
  }
  return Status::OK();
}

// ruler.remote_write.clients: Loki's map of named Prometheus remote-write clients. Skald
// sends to one endpoint: one client with a `url`; its other keys are Prometheus client
// settings Skald does not implement (reported like other ignored keys).
Status ApplyRemoteWriteClients(const std::string& path, const YAML::Node& v, Config* c) {
  if (v.IsNull()) return Status::OK();
  if (!v.IsMap()) {
    return Status::InvalidArgument("invalid value for config key \"" + path +
                                   "\": expected a mapping, got " + NodeTypeName(v) +
                                   LineSuffix(v));
  }
  if (v.size() > 1) {
    return Status::InvalidArgument("invalid value for config key \"" + path +
                                   "\": Skald supports one remote-write client, got " +
                                   std::to_string(v.size()) + LineSuffix(v));
  }
  for (const auto& client : v) {
    const std::string base = path + "." + client.first.Scalar();
    if (!client.second.IsMap()) {
      return Status::InvalidArgument("invalid value for config key \"" + base +
                                     "\": expected a mapping" + LineSuffix(client.second));
    }
    for (const auto& kv : client.second) {
      const std::string key = kv.first.Scalar();
      if (key == "url" && kv.second.IsScalar()) {
        c->ruler.remote_write.url = kv.second.Scalar();
      } else if (key == "remote_timeout" && kv.second.IsScalar()) {
        auto d = ParseGoDuration(kv.second.Scalar());
        if (!d.ok()) d = ParsePromDuration(kv.second.Scalar());
        if (!d.ok()) {
          return Status::InvalidArgument("invalid value \"" + kv.second.Scalar() +
                                         "\" for config key \"" + base + "." + key + "\"" +
                                         LineSuffix(kv.second));
        }
        c->ruler.remote_write.remote_timeout_ns = *d;
      } else {
        c->ignored_keys.push_back(base + "." + key);
      }
    }
  }
  return Status::OK();
}

// Applies a YAML map of limits_config keys onto *l: the one parser of per-tenant limits,
// limits_config.retention_stream: a list of {selector, priority, period}, validated as Loki
// does (the selector parses as matchers, the period is at least 24h).
Status ApplyRetentionStream(const std::string& path, const YAML::Node& v,
                            std::vector<limits::StreamRetention>* out) {
  out->clear();
  if (v.IsNull()) return Status::OK();
  if (!v.IsSequence()) {
    return Status::InvalidArgument("invalid value for config key \"" + path +
                                   "\": expected a list, got " + NodeTypeName(v) + LineSuffix(v));
  }
  for (const auto& item : v) {
    if (!item.IsMap()) {
      return Status::InvalidArgument("invalid value for config key \"" + path +
                                     "\": expected a list of mappings" + LineSuffix(item));
    }
    limits::StreamRetention r;
    for (const auto& kv : item) {
      const std::string k = kv.first.IsScalar() ? kv.first.Scalar() : "";
      const std::string where = path + "." + k;
      if (!kv.second.IsScalar() && !kv.second.IsNull()) {
        return Status::InvalidArgument("invalid value for config key \"" + where + "\"" +
                                       LineSuffix(kv.second));
      }
      const std::string text = kv.second.IsNull() ? "" : kv.second.Scalar();
      if (k == "selector") {
        r.selector = text;
      } else if (k == "priority") {
        int64_t p = 0;
        if (!ParseInt64(text, &p).ok() || p < INT32_MIN || p > INT32_MAX) {
          return Status::InvalidArgument("invalid value for config key \"" + where +
                                         "\": not an integer" + LineSuffix(kv.second));
        }
        r.priority = static_cast<int>(p);
      } else if (k == "period") {
        auto d = ParsePromDuration(text);
        if (!d.ok()) {
          return Status::InvalidArgument("invalid value for config key \"" + where +
                                         "\": " + d.status().message() + LineSuffix(kv.second));
        }
        r.period_ns = *d;
      } else {
        return Status::InvalidArgument("unknown config key \"" + where + "\"" +
                                       LineSuffix(kv.first));
      }
    }
    auto matchers = logql::ParseMatchers(r.selector);
    if (!matchers.ok()) {
      return Status::InvalidArgument("invalid labels matchers: " + matchers.status().message());
    }
    if (r.period_ns < 24 * kNanosPerHour) {
      return Status::InvalidArgument("retention period must be >= 24h was " +
                                     FormatPromDuration(r.period_ns));
    }
    r.matchers = *std::move(matchers);
    out->push_back(std::move(r));
  }
  return Status::OK();
}

// used for `limits_config:` and for each tenant of the runtime config's `overrides:`.
// `where` names the map in messages ("limits_config", "overrides.tenant-a"); Loki-only
// limits keys are accepted and appended (as where.key) to *ignored.
Status ApplyLimitsYamlMap(const YAML::Node& map, const std::string& where, limits::Limits* l,
                          std::vector<std::string>* ignored) {
  Config scratch;  // the field table addresses limits through a Config
  scratch.limits_config = std::move(*l);
  Status st = [&]() -> Status {
    for (const auto& kv : map) {
      const YAML::Node& key = kv.first;
      if (!key.IsScalar()) {
        return Status::InvalidArgument("config keys must be strings" + LineSuffix(key));
      }
      const std::string table_path = "limits_config." + key.Scalar();
      const std::string path = where + "." + key.Scalar();
      if (key.Scalar() == "otlp_config") {
        SKALD_RETURN_IF_ERROR(ApplyOtlpConfig(path, kv.second, &scratch));
      } else if (key.Scalar() == "retention_stream") {
        SKALD_RETURN_IF_ERROR(
            ApplyRetentionStream(path, kv.second, &scratch.limits_config.retention_stream));
      } else if (const Field* f = FindYaml(table_path); f != nullptr && f->limit != nullptr) {
        SKALD_RETURN_IF_ERROR(ApplyYamlValue(*f, path, kv.second, &scratch));
      } else if (LokiOnlyKeys().count(table_path) > 0) {
        ignored->push_back(path);
      } else {
        return Status::InvalidArgument("unknown config key \"" + path + "\"" + LineSuffix(key));
      }
    }
    return Status::OK();
  }();
  *l = std::move(scratch.limits_config);
  return st;
}

// Whether `path` or one of its ancestors is a Loki key Skald accepts and ignores.
bool UnderLokiOnlyKey(std::string_view path) {
  for (;;) {
    if (LokiOnlyKeys().count(std::string(path)) > 0) return true;
    const size_t dot = path.rfind('.');
    if (dot == std::string_view::npos) return false;
    path = path.substr(0, dot);
  }
}

Status ApplyYamlMap(const YAML::Node& map, const std::string& prefix, Config* c) {
  for (const auto& kv : map) {
    const YAML::Node& key = kv.first;
    if (!key.IsScalar()) {
      return Status::InvalidArgument("config keys must be strings" + LineSuffix(key));
    }
    std::string path = prefix.empty() ? key.Scalar() : prefix + "." + key.Scalar();
    if (path == "limits_config") {
      if (kv.second.IsNull()) continue;
      if (!kv.second.IsMap()) {
        return Status::InvalidArgument("invalid value for config key \"" + path +
                                       "\": expected a mapping, got " + NodeTypeName(kv.second) +
                                       LineSuffix(kv.second));
      }
      SKALD_RETURN_IF_ERROR(
          ApplyLimitsYamlMap(kv.second, path, &c->limits_config, &c->ignored_keys));
    } else if (path == "distributor.otlp_config") {
      SKALD_RETURN_IF_ERROR(ApplyOtlpConfig(path, kv.second, c));
    } else if (path == "ruler.remote_write.clients") {
      SKALD_RETURN_IF_ERROR(ApplyRemoteWriteClients(path, kv.second, c));
    } else if (const Field* f = FindYaml(path)) {
      SKALD_RETURN_IF_ERROR(ApplyYamlValue(*f, path, kv.second, c));
    } else if (IsSection(path)) {
      if (kv.second.IsNull()) continue;
      if (!kv.second.IsMap()) {
        return Status::InvalidArgument("invalid value for config key \"" + path +
                                       "\": expected a mapping, got " + NodeTypeName(kv.second) +
                                       LineSuffix(kv.second));
      }
      SKALD_RETURN_IF_ERROR(ApplyYamlMap(kv.second, path, c));
    } else if (UnderLokiOnlyKey(path)) {
      c->ignored_keys.push_back(path);
    } else {
      return Status::InvalidArgument("unknown config key \"" + path + "\"" + LineSuffix(key));
    }
  }
  return Status::OK();
}

// ---------------------------------------------------------------------------
// Flags

// Command-line-only flags.
enum class CliFlag {
  kNone,
  kConfigFile,
  kExpandEnv,
  kHelp,
  kVersion,
  kPrintConfig,
  kVerifyConfig,
  kIgnoredBool
};

CliFlag FindCli(std::string_view name) {
  if (name == "config.file") return CliFlag::kConfigFile;
  if (name == "config.expand-env") return CliFlag::kExpandEnv;
  if (name == "h" || name == "help") return CliFlag::kHelp;
  if (name == "version") return CliFlag::kVersion;
  if (name == "print-config-stderr") return CliFlag::kPrintConfig;
  if (name == "verify-config") return CliFlag::kVerifyConfig;
  if (name == "log-config-reverse-order") return CliFlag::kIgnoredBool;
  return CliFlag::kNone;
}

bool CliIsBool(CliFlag f) { return f != CliFlag::kConfigFile; }

struct FlagValue {
  std::string name;
  const Field* field = nullptr;  // or
  CliFlag cli = CliFlag::kNone;
  std::string value;
};

// Splits argv into flag/value pairs, Go flag-package style.
StatusOr<std::vector<FlagValue>> TokenizeFlags(int argc, const char* const* argv) {
  std::vector<FlagValue> out;
  for (int i = 1; i < argc; i++) {
    std::string_view arg = argv[i];
    if (arg.size() < 2 || arg[0] != '-') {
      return Status::InvalidArgument("unexpected argument " + GoQuote(arg));
    }
    size_t dashes = arg[1] == '-' ? 2 : 1;
    if (dashes == 2 && arg.size() == 2) {  // "--": end of flags
      if (i + 1 < argc) {
        return Status::InvalidArgument("unexpected argument " + GoQuote(argv[i + 1]));
      }
      break;
    }
    std::string_view body = arg.substr(dashes);
    if (body.empty() || body[0] == '-' || body[0] == '=') {
      return Status::InvalidArgument("bad flag syntax: " + std::string(arg));
    }
    size_t eq = body.find('=');
    std::string name(body.substr(0, eq));
    bool has_value = eq != std::string_view::npos;
    FlagValue fv;
    fv.name = name;
    fv.field = FindFlag(name);
    fv.cli = fv.field ? CliFlag::kNone : FindCli(name);
    if (fv.field == nullptr && fv.cli == CliFlag::kNone) {
      return Status::InvalidArgument("flag provided but not defined: -" + name);
    }
    bool is_bool = fv.field ? fv.field->kind == Kind::kBool : CliIsBool(fv.cli);
    if (has_value) {
      fv.value = std::string(body.substr(eq + 1));
    } else if (is_bool) {
      fv.value = "true";
    } else if (i + 1 < argc) {
      fv.value = argv[++i];
    } else {
      return Status::InvalidArgument("flag needs an argument: -" + name);
    }
    if (is_bool) {
      bool b;
      if (!ParseBool(fv.value, &b).ok()) {
        return Status::InvalidArgument("invalid boolean value " + GoQuote(fv.value) + " for -" +
                                       name + ": parse error");
      }
    }
    out.push_back(std::move(fv));
  }
  return out;
}

Status ApplyFlag(const FlagValue& fv, Config* c) {
  if (fv.field != nullptr) {
    Status s = SetFromString(*fv.field, c, fv.value);
    if (!s.ok()) {
      return Status::InvalidArgument("invalid value " + GoQuote(fv.value) + " for flag -" +
                                     fv.name + ": " + s.message());
    }
    return Status::OK();
  }
  bool b = false;
  switch (fv.cli) {
    case CliFlag::kConfigFile:
      c->cli.config_file = fv.value;
      break;
    case CliFlag::kExpandEnv:
      (void)ParseBool(fv.value, &c->cli.config_expand_env);
      break;
    case CliFlag::kHelp:
      (void)ParseBool(fv.value, &b);
      c->cli.help = c->cli.help || b;
      break;
    case CliFlag::kVersion:
      (void)ParseBool(fv.value, &c->cli.version);
      break;
    case CliFlag::kPrintConfig:
      (void)ParseBool(fv.value, &c->cli.print_config_stderr);
      break;
    case CliFlag::kVerifyConfig:
      (void)ParseBool(fv.value, &c->cli.verify_config);
      break;
    case CliFlag::kIgnoredBool:
    case CliFlag::kNone:
      break;
  }
  return Status::OK();
}

const char* KindTypeName(Kind k) {
  switch (k) {
    case Kind::kString:
      return "string";
    case Kind::kBool:
      return "";
    case Kind::kInt:
    case Kind::kInt64:
      return "int";
    case Kind::kFloat:
      return "float";
    case Kind::kGoDuration:
    case Kind::kPromDuration:
      return "duration";
    case Kind::kByteSize:
      return "value";
    case Kind::kStringList:
      return "value";
  }
  return "value";
}

// Emits one scalar, quoting strings YAML would otherwise read as something else.
void EmitScalar(YAML::Emitter* out, const Field& f, const std::string& text) {
  if (f.kind == Kind::kString || f.kind == Kind::kGoDuration || f.kind == Kind::kPromDuration ||
      f.kind == Kind::kByteSize) {
    static const std::set<std::string> kSpecial = {
        "",      "~",     "null", "Null", "NULL", "true", "True", "TRUE", "false",
        "False", "FALSE", "yes",  "no",   "on",   "off",  "y",    "n"};
    double d;
    std::string_view t = text;
    if (!t.empty() && t[0] == '+') t.remove_prefix(1);
    auto res = std::from_chars(t.data(), t.data() + t.size(), d);
    bool numeric = !t.empty() && res.ec == std::errc() && res.ptr == t.data() + t.size();
    if (kSpecial.count(text) > 0 || (f.kind == Kind::kString && numeric)) {
      *out << YAML::DoubleQuoted << text;
      return;
    }
  }
  *out << text;
}

std::string EmitYaml(const Config& c, bool only_diffs) {
  static const Config kDefaults;
  YAML::Emitter out;
  out << YAML::BeginMap;
  std::string open_section;
  bool any = false;
  for (const auto& f : Fields()) {
    std::string text = FormatField(f, c);
    if (only_diffs && text == FormatField(f, kDefaults)) continue;
    any = true;
    std::string_view path = f.yaml;
    size_t dot = path.find('.');
    std::string section = dot == std::string_view::npos ? "" : std::string(path.substr(0, dot));
    std::string key(dot == std::string_view::npos ? path : path.substr(dot + 1));
    if (section != open_section) {
      if (!open_section.empty()) out << YAML::EndMap;
      if (!section.empty()) out << YAML::Key << section << YAML::Value << YAML::BeginMap;
      open_section = section;
    }
    out << YAML::Key << key << YAML::Value;
    if (f.kind == Kind::kStringList) {
      const auto& list = *static_cast<const std::vector<std::string>*>(Slot(f, c));
      out << YAML::Flow << YAML::BeginSeq;
      for (const auto& s : list) out << s;
      out << YAML::EndSeq;
    } else {
      EmitScalar(&out, f, text);
    }
  }
  if (!open_section.empty()) out << YAML::EndMap;
  out << YAML::EndMap;
  if (!any) return "{}\n";
  return std::string(out.c_str()) + "\n";
}

}  // namespace

// ---------------------------------------------------------------------------
// Public API

std::string ExpandEnv(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); i++) {
    if (text[i] == '$' && i + 1 < text.size() && text[i + 1] == '{') {
      size_t close = text.find('}', i + 2);
      if (close != std::string_view::npos) {
        std::string_view inner = text.substr(i + 2, close - i - 2);
        std::string name(inner);
        std::string def;
        bool has_def = false;
        size_t sep = inner.find(":-");
        if (sep != std::string_view::npos) {
          name = std::string(inner.substr(0, sep));
          def = std::string(inner.substr(sep + 2));
          has_def = true;
        }
        const char* val = std::getenv(name.c_str());
        if (val != nullptr && (*val != '\0' || !has_def)) {
          out += val;
        } else {
          out += def;
        }
        i = close;
        continue;
      }
    }
    out.push_back(text[i]);
  }
  return out;
}

// The first YAML document of `yaml`; syntax errors as `yaml: line L, column C: <why>`.
static StatusOr<YAML::Node> LoadYamlDocument(std::string_view yaml) {
  try {
    return YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    std::string msg = "yaml: ";
    if (e.mark.line >= 0) {
      msg += "line " + std::to_string(e.mark.line + 1) + ", column " +
             std::to_string(e.mark.column + 1) + ": ";
    }
    return Status::InvalidArgument(msg + e.msg);
  }
}

StatusOr<Config> ParseConfigYaml(std::string_view yaml, Config base) {
  SKALD_ASSIGN_OR_RETURN(YAML::Node root, LoadYamlDocument(yaml));
  try {
    if (root.IsNull()) return base;  // empty document
    if (!root.IsMap()) {
      return Status::InvalidArgument(
          std::string("yaml: the configuration must be a mapping, got ") + NodeTypeName(root));
    }
    SKALD_RETURN_IF_ERROR(ApplyYamlMap(root, "", &base));
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(std::string("yaml: ") + e.what());
  }
  return base;
}

int64_t DefaultMaxHeadBytes() {
  static const int64_t value = [] {
    int64_t avail = 0;
    const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    if (pages > 0 && page > 0) avail = static_cast<int64_t>(pages) * page;
    // cgroup v2, then v1 ("max" or a huge number: no limit).
    for (const char* path :
         {"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"}) {
      std::ifstream in(path);
      int64_t limit = 0;
      if (in >> limit && limit > 0 && (avail == 0 || limit < avail)) avail = limit;
      if (in || limit > 0) break;
    }
    return avail / 2 / (1 << 20) * (1 << 20);
  }();
  return value;
}

Status ValidateLimits(const limits::Limits& l) {
  if (l.ingestion_rate_mb < 0 || l.ingestion_burst_size_mb < 0) {
    return Status::InvalidArgument("ingestion rate and burst size must not be negative");
  }
  // Loki reads any value other than "global" as local; Skald refuses a typo instead.
  if (l.ingestion_rate_strategy != "global" && l.ingestion_rate_strategy != "local") {
    return Status::InvalidArgument("invalid ingestion_rate_strategy " +
                                   GoQuote(l.ingestion_rate_strategy) +
                                   ": must be local or global");
  }
  if (l.max_head_bytes_per_user < 0) {
    return Status::InvalidArgument("max_head_bytes_per_user must not be negative");
  }
  if (l.max_query_parallelism < 0) {
    return Status::InvalidArgument("max_query_parallelism must not be negative");
  }
  return Status::OK();
}

namespace {

// The parts of an s3:// (or http(s)://) url as Config::S3Storage fields.
Status ParseS3Url(std::string_view url, Config::S3Storage* out) {
  std::string_view rest = url;
  std::string scheme;
  size_t sep = rest.find("://");
  if (sep == std::string_view::npos) {
    return Status::InvalidArgument("invalid s3 url \"" + std::string(url) + "\": no scheme");
  }
  scheme = std::string(rest.substr(0, sep));
  rest.remove_prefix(sep + 3);
  if (scheme != "s3" && scheme != "http" && scheme != "https") {
    return Status::InvalidArgument("invalid s3 url \"" + std::string(url) +
                                   "\": scheme must be s3, http or https");
  }
  size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view bucket = slash == std::string_view::npos ? "" : rest.substr(slash + 1);
  while (!bucket.empty() && bucket.back() == '/') bucket.remove_suffix(1);
  size_t at = authority.rfind('@');
  if (at != std::string_view::npos) {
    std::string_view user = authority.substr(0, at);
    authority.remove_prefix(at + 1);
    size_t colon = user.find(':');
    out->access_key_id = std::string(user.substr(0, colon));
    if (colon != std::string_view::npos)
      out->secret_access_key = std::string(user.substr(colon + 1));
  }
  out->bucketnames = std::string(bucket);
  if (scheme != "s3") {
    out->endpoint = scheme + "://" + std::string(authority);
    out->force_path_style = true;
  } else if (authority.find('.') != std::string_view::npos ||
             authority.find(':') != std::string_view::npos || authority == "localhost") {
    out->endpoint = std::string(authority);
  } else {
    out->region = std::string(authority);
  }
  return Status::OK();
}

}  // namespace

StatusOr<std::optional<storage::S3Config>> ObjectStoreS3Config(const Config& c) {
  Config::S3Storage layers[4] = {c.storage_config.aws, {}, c.common.storage_s3, {}};
  if (!layers[0].url.empty()) SKALD_RETURN_IF_ERROR(ParseS3Url(layers[0].url, &layers[1]));
  if (!layers[2].url.empty()) SKALD_RETURN_IF_ERROR(ParseS3Url(layers[2].url, &layers[3]));
  auto first = [&](std::string Config::S3Storage::*m) {
    for (const auto& l : layers) {
      if (!(l.*m).empty()) return l.*m;
    }
    return std::string();
  };
  // Only the layers of the section that names the bucket count for the non-string settings.
  const bool aws = !layers[0].bucketnames.empty() || !layers[1].bucketnames.empty();
  const Config::S3Storage& section = aws ? c.storage_config.aws : c.common.storage_s3;
  const Config::S3Storage& parsed = aws ? layers[1] : layers[3];
  storage::S3Config s3;
  s3.bucket = first(&Config::S3Storage::bucketnames);
  if (s3.bucket.empty()) return std::optional<storage::S3Config>();
  if (s3.bucket.find(',') != std::string::npos) {
    return Status::InvalidArgument("s3 bucketnames \"" + s3.bucket +
                                   "\": Skald stores chunks in one bucket; give one name");
  }
  s3.endpoint = first(&Config::S3Storage::endpoint);
  s3.region = first(&Config::S3Storage::region);
  if (s3.region.empty()) s3.region = "us-east-1";
  s3.access_key_id = first(&Config::S3Storage::access_key_id);
  s3.secret_access_key = first(&Config::S3Storage::secret_access_key);
  s3.session_token = first(&Config::S3Storage::session_token);
  if (s3.access_key_id.empty() && s3.secret_access_key.empty()) {
    // The AWS SDK's environment credentials, as Loki's client falls back to them.
    auto env = [](const char* name) {
      const char* v = std::getenv(name);
      return v == nullptr ? std::string() : std::string(v);
    };
    s3.access_key_id = env("AWS_ACCESS_KEY_ID");
    s3.secret_access_key = env("AWS_SECRET_ACCESS_KEY");
    if (s3.session_token.empty()) s3.session_token = env("AWS_SESSION_TOKEN");
  }
  s3.idle_conn_timeout_ns = section.idle_conn_timeout_ns;
  s3.force_path_style = section.force_path_style || parsed.force_path_style;
  s3.insecure = section.insecure;
  s3.insecure_skip_verify = section.insecure_skip_verify;
  s3.backoff.min_period_ns = section.min_backoff_ns;
  s3.backoff.max_period_ns = section.max_backoff_ns;
  s3.backoff.max_retries = section.max_retries;
  SKALD_RETURN_IF_ERROR(storage::ValidateS3Config(s3));
  return std::optional<storage::S3Config>(std::move(s3));
}

StatusOr<Targets> ParseTargets(std::string_view list) {
  Targets t;
  bool any = false;
  while (true) {
    const size_t comma = list.find(',');
    std::string_view name = list.substr(0, comma);
    while (!name.empty() && name.front() == ' ') name.remove_prefix(1);
    while (!name.empty() && name.back() == ' ') name.remove_suffix(1);
    if (name == "all") {
      t.distributor = t.ingester = t.querier = t.compactor = true;
      t.all = true;
    } else if (name == "distributor") {
      t.distributor = true;
    } else if (name == "ingester") {
      t.ingester = true;
    } else if (name == "querier") {
      t.querier = true;
    } else if (name == "query-frontend") {
      t.query_frontend = true;
    } else if (name == "compactor") {
      t.compactor = true;
    } else {
      return Status::InvalidArgument(
          "unrecognised module name: " + std::string(name) +
          " (Skald runs all, distributor, ingester, querier, query-frontend, compactor)");
    }
    any = true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  if (!any) return Status::InvalidArgument("no target given");
  return t;
}

Status ValidateConfig(const Config& c) {
  SKALD_RETURN_IF_ERROR(ParseTargets(c.target).status());
  if (c.querier.max_concurrent < 1) {
    return Status::InvalidArgument("querier.max_concurrent must be at least 1");
  }
  if (c.frontend.max_outstanding_per_tenant < 1) {
    return Status::InvalidArgument("frontend.max_outstanding_per_tenant must be at least 1");
  }
  if (c.query_range.shards < 1 || c.query_range.shards > 256) {
    return Status::InvalidArgument("query_range.shards must be in [1, 256]");
  }
  const auto& lc = c.ingester.lifecycler;
  if (lc.ring.store != "inmemory" && lc.ring.store != "etcd") {
    return Status::InvalidArgument("invalid ingester.lifecycler.ring.kvstore.store \"" +
                                   lc.ring.store + "\": Skald supports inmemory and etcd");
  }
  if (lc.ring.store == "etcd" && lc.ring.etcd_endpoints.empty()) {
    return Status::InvalidArgument("ring store etcd needs at least one -etcd.endpoints");
  }
  if (lc.num_tokens < 1 || lc.num_tokens > 4096) {
    return Status::InvalidArgument("invalid ingester.lifecycler.num_tokens " +
                                   std::to_string(lc.num_tokens) + ": must be in [1, 4096]");
  }
  if (lc.ring.replication_factor < 1) {
    return Status::InvalidArgument("invalid replication_factor " +
                                   std::to_string(lc.ring.replication_factor) + ": must be >= 1");
  }
  if (lc.heartbeat_period_ns < 0 || lc.ring.heartbeat_timeout_ns < 0) {
    return Status::InvalidArgument("ring heartbeat period and timeout must not be negative");
  }
  auto port_ok = [](int p) { return p >= 0 && p <= 65535; };
  if (!port_ok(c.server.http_listen_port)) {
    return Status::InvalidArgument("invalid server.http_listen_port " +
                                   std::to_string(c.server.http_listen_port) +
                                   ": must be between 0 and 65535");
  }
  if (!port_ok(c.server.grpc_listen_port)) {
    return Status::InvalidArgument("invalid server.grpc_listen_port " +
                                   std::to_string(c.server.grpc_listen_port) +
                                   ": must be between 0 and 65535");
  }
  log::Level level;
  if (!log::ParseLevel(c.server.log_level, &level)) {
    return Status::InvalidArgument("unrecognized log level " + GoQuote(c.server.log_level));
  }
  static const char* kCodecs[] = {"none",   "gzip", "lz4-64k", "snappy", "lz4-256k",
                                  "lz4-1M", "lz4",  "flate",   "zstd"};
  bool codec_ok = false;
  for (const char* k : kCodecs) {
    if (EqualsIgnoreCase(k, c.ingester.chunk_encoding)) codec_ok = true;
  }
  if (!codec_ok) {
    return Status::InvalidArgument(
        "invalid encoding: " + c.ingester.chunk_encoding +
        ", supported: none, gzip, lz4-64k, snappy, lz4-256k, lz4-1M, lz4, flate, zstd");
  }
  if (!c.ruler_storage.backend.empty() && c.ruler_storage.backend != "local") {
    return Status::InvalidArgument("unsupported ruler_storage.backend " +
                                   GoQuote(c.ruler_storage.backend) +
                                   ": Skald keeps rules on the local file system (local)");
  }
  if (c.ruler.evaluation_interval_ns < kNanosPerMilli ||
      c.ruler.poll_interval_ns < kNanosPerMilli || c.ruler.resend_delay_ns < 0 ||
      c.ruler.notification_timeout_ns < 0 || c.ruler.notification_queue_capacity <= 0) {
    return Status::InvalidArgument(
        "invalid ruler config: evaluation_interval and poll_interval must be at least 1ms, "
        "notification_queue_capacity positive");
  }
  if (c.ruler.remote_write.enabled && c.ruler.remote_write.url.empty()) {
    return Status::InvalidArgument(
        "ruler.remote_write.enabled is true but no client url is set "
        "(ruler.remote_write.client.url or ruler.remote_write.clients.<name>.url)");
  }
  if (c.pattern_ingester.enabled) {
    const auto& p = c.pattern_ingester;
    if (p.pattern_sample_interval_ns < kNanosPerMilli || p.max_chunk_age_ns <= 0 ||
        p.max_clusters < 0 || p.max_allowed_line_length < 0) {
      return Status::InvalidArgument(
          "invalid pattern_ingester: pattern_sample_interval must be at least 1ms, max_chunk_age "
          "positive, max_clusters and max_allowed_line_length not negative");
    }
    if (p.retain_for_ns < p.max_chunk_age_ns) {
      return Status::InvalidArgument("retain-for (" + FormatGoDuration(p.retain_for_ns) +
                                     ") must be greater than or equal to chunk-duration (" +
                                     FormatGoDuration(p.max_chunk_age_ns) + ")");
    }
  }
  if (c.ingester.chunk_block_size <= 0) {
    return Status::InvalidArgument("invalid ingester.chunk_block_size " +
                                   std::to_string(c.ingester.chunk_block_size) +
                                   ": must be positive");
  }
  if (c.ingester.chunk_target_size < 0) {
    return Status::InvalidArgument("invalid ingester.chunk_target_size " +
                                   std::to_string(c.ingester.chunk_target_size) +
                                   ": must not be negative");
  }
  if (c.ingester.head_block_size < 0) {
    return Status::InvalidArgument("invalid ingester.head_block_size " +
                                   std::to_string(c.ingester.head_block_size) +
                                   ": must not be negative");
  }
  if (c.ingester.block_filter_min_bytes < 0) {
    return Status::InvalidArgument("invalid ingester.block_filter_min_bytes " +
                                   std::to_string(c.ingester.block_filter_min_bytes) +
                                   ": must not be negative");
  }
  if (c.ingester.compression_level < 0 || c.ingester.compression_level > 19) {
    return Status::InvalidArgument("invalid ingester.compression_level " +
                                   std::to_string(c.ingester.compression_level) +
                                   ": must be between 0 and 19");
  }
  if (c.ingester.pack_target_size < 0) {
    return Status::InvalidArgument("invalid ingester.pack_target_size " +
                                   std::to_string(c.ingester.pack_target_size) +
                                   ": must not be negative");
  }
  if (c.ingester.concurrent_flushes <= 0) {
    return Status::InvalidArgument("invalid ingester.concurrent_flushes " +
                                   std::to_string(c.ingester.concurrent_flushes) +
                                   ": must be positive");
  }
  if (c.ingester.flush_op_timeout_ns <= 0) {
    return Status::InvalidArgument("invalid flush op timeout: " +
                                   FormatGoDuration(c.ingester.flush_op_timeout_ns));
  }
  if (c.ingester.max_head_bytes < 0) {
    return Status::InvalidArgument("invalid ingester.max_head_bytes " +
                                   std::to_string(c.ingester.max_head_bytes) +
                                   ": must not be negative");
  }
  if (c.ingester.flush_check_period_ns <= 0) {
    return Status::InvalidArgument("invalid ingester.flush_check_period " +
                                   FormatGoDuration(c.ingester.flush_check_period_ns) +
                                   ": must be positive");
  }
  SKALD_RETURN_IF_ERROR(ValidateLimits(c.limits_config));
  if (c.runtime_config.period_ns <= 0) {
    return Status::InvalidArgument("invalid runtime_config.period " +
                                   FormatGoDuration(c.runtime_config.period_ns) +
                                   ": must be positive");
  }
  if (c.no_auth_tenant.empty()) {
    return Status::InvalidArgument("auth.no-auth-tenant must not be empty");
  }
  return Status::OK();
}

StatusOr<Config> LoadConfig(int argc, const char* const* argv) {
  SKALD_ASSIGN_OR_RETURN(std::vector<FlagValue> flags, TokenizeFlags(argc, argv));
  // Pass 1 on a scratch config: reports bad flag values before the file is read,
  // and finds -config.file / -config.expand-env / -help.
  Config scratch;
  for (const auto& fv : flags) SKALD_RETURN_IF_ERROR(ApplyFlag(fv, &scratch));
  Config cfg;
  cfg.cli = scratch.cli;
  if (cfg.cli.help || cfg.cli.version) return cfg;
  if (!cfg.cli.config_file.empty()) {
    std::ifstream in(cfg.cli.config_file, std::ios::binary);
    if (!in) {
      return Status::InvalidArgument("error loading config from " + cfg.cli.config_file + ": " +
                                     std::strerror(errno));
    }
    std::stringstream ss;
    ss << in.rdbuf();
    std::string text = ss.str();
    if (cfg.cli.config_expand_env) text = ExpandEnv(text);
    auto parsed = ParseConfigYaml(text, cfg);
    if (!parsed.ok()) {
      return Status::InvalidArgument("error loading config from " + cfg.cli.config_file + ": " +
                                     parsed.status().message());
    }
    cfg = std::move(*parsed);
  }
  // Pass 2: flags win over the file.
  for (const auto& fv : flags) SKALD_RETURN_IF_ERROR(ApplyFlag(fv, &cfg));
  SKALD_RETURN_IF_ERROR(ValidateConfig(cfg));
  return cfg;
}

StatusOr<RuntimeConfig> ParseRuntimeConfigYaml(std::string_view yaml,
                                               const limits::Limits& defaults) {
  SKALD_ASSIGN_OR_RETURN(YAML::Node root, LoadYamlDocument(yaml));
  RuntimeConfig out;
  try {
    if (root.IsNull()) return out;  // an empty file: no overrides
    if (!root.IsMap()) {
      return Status::InvalidArgument(
          std::string("yaml: the runtime config must be a mapping, got ") + NodeTypeName(root));
    }
    for (const auto& top : root) {
      const std::string key = top.first.IsScalar() ? top.first.Scalar() : "";
      if (key == "configs" || key == "multi_kv_config") {
        out.ignored_keys.push_back(key);
        continue;
      }
      if (key != "overrides") {
        return Status::InvalidArgument("unknown runtime config key " + GoQuote(key) +
                                       LineSuffix(top.first));
      }
      if (top.second.IsNull()) continue;
      if (!top.second.IsMap()) {
        return Status::InvalidArgument(
            "invalid value for runtime config key \"overrides\": "
            "expected a mapping of tenants, got " +
            std::string(NodeTypeName(top.second)) + LineSuffix(top.second));
      }
      for (const auto& tenant : top.second) {
        if (!tenant.first.IsScalar()) {
          return Status::InvalidArgument("tenant IDs must be strings" + LineSuffix(tenant.first));
        }
        const std::string id = tenant.first.Scalar();
        if (tenant.second.IsNull()) continue;  // Loki skips an empty tenant limit definition
        const std::string where = "overrides." + id;
        if (!tenant.second.IsMap()) {
          return Status::InvalidArgument("invalid override for tenant " + id +
                                         ": expected a mapping of limits_config keys, got " +
                                         NodeTypeName(tenant.second) + LineSuffix(tenant.second));
        }
        limits::Limits l = defaults;
        Status st = ApplyLimitsYamlMap(tenant.second, where, &l, &out.ignored_keys);
        if (st.ok()) st = ValidateLimits(l);
        if (!st.ok()) {
          return Status::InvalidArgument("invalid override for tenant " + id + ": " + st.message());
        }
        out.overrides[id] = std::move(l);
      }
    }
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(std::string("yaml: ") + e.what());
  }
  return out;
}

std::string RuntimeConfigToYaml(const limits::Overrides::TenantMap& tenants,
                                const limits::Limits& defaults, bool only_diffs) {
  Config base;
  base.limits_config = defaults;
  YAML::Emitter out;
  out << YAML::BeginMap << YAML::Key << "overrides" << YAML::Value;
  bool any_tenant = false;
  for (const auto& [tenant, lim] : tenants) {
    Config c;
    c.limits_config = *lim;
    bool open = false;
    for (const auto& f : Fields()) {
      if (f.limit == nullptr) continue;
      std::string text = FormatField(f, c);
      if (only_diffs && text == FormatField(f, base)) continue;
      if (!any_tenant) out << YAML::BeginMap;
      any_tenant = true;
      if (!open) out << YAML::Key << tenant << YAML::Value << YAML::BeginMap;
      open = true;
      out << YAML::Key << f.yaml.substr(std::string_view("limits_config.").size()) << YAML::Value;
      if (f.kind == Kind::kStringList) {
        const auto& list = *static_cast<const std::vector<std::string>*>(Slot(f, c));
        out << YAML::Flow << YAML::BeginSeq;
        for (const auto& item : list) out << item;
        out << YAML::EndSeq;
      } else {
        EmitScalar(&out, f, text);
      }
    }
    if (open) out << YAML::EndMap;
  }
  if (any_tenant) {
    out << YAML::EndMap;
  } else {
    out << YAML::Flow << YAML::BeginMap << YAML::EndMap;
  }
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

std::string ConfigToYaml(const Config& c) { return EmitYaml(c, false); }

std::string ConfigDiffToYaml(const Config& c) { return EmitYaml(c, true); }

std::string FlagsHelp() {
  static const Config kDefaults;
  struct Row {
    std::string name, type, help, def;
  };
  std::vector<Row> rows;
  for (const auto& f : Fields()) {
    std::string def = FormatField(f, kDefaults);
    rows.push_back({f.flag, KindTypeName(f.kind), f.help, def});
  }
  rows.push_back({"config.file", "string", "Configuration file to load.", ""});
  rows.push_back({"config.expand-env", "",
                  "Expands ${var} or ${var:-default} in config to values of environment "
                  "variables.",
                  "false"});
  rows.push_back(
      {"print-config-stderr", "", "Dump the entire Skald config object to stderr", "false"});
  rows.push_back({"verify-config", "", "Verify config file and exits", "false"});
  rows.push_back({"version", "", "Print this build's version information", "false"});
  rows.push_back({"help", "", "Print this help text", "false"});
  std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) { return a.name < b.name; });
  std::string out = "Usage of skald:\n";
  for (const auto& r : rows) {
    out += "  -" + r.name;
    if (!r.type.empty()) out += " " + r.type;
    out += "\n    \t" + r.help;
    bool zero = r.def.empty() || r.def == "false" || r.def == "0";
    if (!zero) {
      out += r.type == "string" ? " (default " + GoQuote(r.def) + ")" : " (default " + r.def + ")";
    }
    out += "\n";
  }
  return out;
}

}  // namespace skald::server
