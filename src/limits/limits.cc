// The descriptor table of per-tenant limits (see limits.h).
#include "limits/limits.h"

namespace skald::limits {

namespace {

#define SKALD_LIMIT(key, flag, kind, member, help)                                 \
  Descriptor {                                                                     \
    key, flag, ValueKind::kind, [](Limits& l) -> void* { return &l.member; }, help \
  }

// Flag names and doc lines are Loki's (pkg/validation/limits.go) where the knob is
// Loki's; the order is the order of `limits_config` in `GET /config`.
const Descriptor kDescriptors[] = {
    SKALD_LIMIT("ingestion_rate_mb", "distributor.ingestion-rate-limit-mb", kFloat,
                ingestion_rate_mb,
                "Per-user ingestion rate limit in sample size per second. Units in MB."),
    SKALD_LIMIT("ingestion_burst_size_mb", "distributor.ingestion-burst-size-mb", kFloat,
                ingestion_burst_size_mb,
                "Per-user allowed ingestion burst size (in sample size). Units in MB."),
    SKALD_LIMIT(
        "ingestion_rate_strategy", "distributor.ingestion-rate-limit-strategy", kString,
        ingestion_rate_strategy,
        "Whether the ingestion rate limit should be applied individually to each distributor "
        "instance (local), or evenly shared across the cluster (global). The ingestion rate "
        "strategy cannot be overridden on a per-tenant basis."),
    SKALD_LIMIT("per_stream_rate_limit", "ingester.per-stream-rate-limit", kByteSize,
                per_stream_rate_limit,
                "Maximum byte rate per second per stream, also expressible in human readable "
                "forms (1MB, 256KB, etc)."),
    SKALD_LIMIT("per_stream_rate_limit_burst", "ingester.per-stream-rate-limit-burst", kByteSize,
                per_stream_rate_limit_burst,
                "Maximum burst bytes per stream, also expressible in human readable forms (1MB, "
                "256KB, etc). This is how far above the rate limit a stream can 'burst' before "
                "the stream is limited."),
    SKALD_LIMIT("max_label_name_length", "validation.max-length-label-name", kInt,
                max_label_name_length, "Maximum length accepted for label names."),
    SKALD_LIMIT("max_label_value_length", "validation.max-length-label-value", kInt,
                max_label_value_length, "Maximum length accepted for label value."),
    SKALD_LIMIT("max_label_names_per_series", "validation.max-label-names-per-series", kInt,
                max_label_names_per_series, "Maximum number of label names per series."),
    SKALD_LIMIT("max_streams_per_user", "ingester.max-streams-per-user", kInt, max_streams_per_user,
                "Maximum number of active streams per user, per ingester. 0 to disable."),
    SKALD_LIMIT("max_global_streams_per_user", "ingester.max-global-streams-per-user", kInt,
                max_global_streams_per_user,
                "Maximum number of active streams per user, across the cluster. 0 to disable."),
    SKALD_LIMIT("reject_old_samples", "validation.reject-old-samples", kBool, reject_old_samples,
                "Whether or not old samples will be rejected."),
    SKALD_LIMIT("reject_old_samples_max_age", "validation.reject-old-samples.max-age", kDuration,
                reject_old_samples_max_age_ns, "Maximum accepted sample age before rejecting."),
    SKALD_LIMIT("creation_grace_period", "validation.create-grace-period", kDuration,
                creation_grace_period_ns,
                "Duration into the future for which samples are still accepted."),
    SKALD_LIMIT("max_line_size", "distributor.max-line-size", kByteSize, max_line_size,
                "Maximum line size on ingestion path. There is no limit when set to 0."),
    SKALD_LIMIT("max_line_size_truncate", "distributor.max-line-size-truncate", kBool,
                max_line_size_truncate, "Whether to truncate lines that exceed max_line_size."),
    SKALD_LIMIT("max_line_size_truncate_identifier",
                "distributor.max-line-size-truncate-identifier", kString,
                max_line_size_truncate_identifier,
                "Identifier that is added at the end of a truncated log line."),
    SKALD_LIMIT("discover_service_name", "validation.discover-service-name", kStringList,
                discover_service_name,
                "If no service_name label exists, Skald maps a single label from the configured "
                "list to service_name. If none of the configured labels exist in the stream, "
                "label is set to unknown_service. Empty list disables setting the label."),
    SKALD_LIMIT("discover_log_levels", "validation.discover-log-levels", kBool, discover_log_levels,
                "Discover and add log levels during ingestion, if not present already. Levels are "
                "added to structured metadata as detected_level."),
    SKALD_LIMIT("log_level_fields", "validation.log-level-fields", kStringList, log_level_fields,
                "Field names to use for log level discovery."),
    SKALD_LIMIT("log_level_from_json_max_depth", "validation.log-level-from-json-max-depth", kInt,
                log_level_from_json_max_depth,
                "Maximum depth to search for log level fields in JSON logs. A value of 0 or less "
                "means unlimited depth."),
    SKALD_LIMIT("max_concurrent_tail_requests", "querier.max-concurrent-tail-requests", kInt,
                max_concurrent_tail_requests, "Maximum number of concurrent tail requests."),
    SKALD_LIMIT("max_query_series", "querier.max-query-series", kInt, max_query_series,
                "Limit the maximum of unique series that is returned by a metric query."),
    SKALD_LIMIT("max_query_length", "store.max-query-length", kDuration, max_query_length_ns,
                "The limit to length of chunk store queries. 0 to disable."),
    SKALD_LIMIT("max_entries_limit_per_query", "validation.max-entries-limit", kInt,
                max_entries_limit_per_query,
                "Maximum number of log entries that will be returned for a query."),
    SKALD_LIMIT("max_query_lookback", "querier.max-query-lookback", kDuration,
                max_query_lookback_ns,
                "Limit how far back in time series data and metadata can be queried, up until "
                "lookback duration ago. If the requested time range is outside the allowed "
                "range, the request will not fail, but will be modified to only query data "
                "within the allowed time range. The default value of 0 does not set a limit."),
    SKALD_LIMIT("max_query_parallelism", "querier.max-query-parallelism", kInt,
                max_query_parallelism,
                "Maximum number of queries that will be scheduled in parallel by the frontend."),
    SKALD_LIMIT("split_queries_by_interval", "querier.split-queries-by-interval", kDuration,
                split_queries_by_interval_ns,
                "Split queries by a time interval and execute in parallel. The value 0 disables "
                "splitting by time."),
    SKALD_LIMIT("max_cache_freshness_per_query", "frontend.max-cache-freshness", kDuration,
                max_cache_freshness_ns,
                "Most recent allowed cacheable result per-tenant, to prevent caching very recent "
                "results that might still be in flux."),
    SKALD_LIMIT("query_timeout", "querier.query-timeout", kDuration, query_timeout_ns,
                "Timeout when querying backends (ingesters or storage) during the execution of a "
                "query request."),
    SKALD_LIMIT("allow_structured_metadata", "validation.allow-structured-metadata", kBool,
                allow_structured_metadata,
                "Allow user to send structured metadata in push payload."),
    SKALD_LIMIT("max_structured_metadata_size", "limits.max-structured-metadata-size", kByteSize,
                max_structured_metadata_size,
                "Maximum size accepted for structured metadata per log line."),
    SKALD_LIMIT("max_structured_metadata_entries_count",
                "limits.max-structured-metadata-entries-count", kInt,
                max_structured_metadata_entries_count,
                "Maximum number of structured metadata entries per log line."),
    SKALD_LIMIT("max_head_bytes_per_user", "ingester.max-head-bytes-per-user", kByteSize,
                max_head_bytes_per_user,
                "Skald: maximum bytes of a tenant's unflushed log data held in memory; pushes "
                "over it are refused with 429 until flushes free memory. 0 to disable."),
    SKALD_LIMIT("retention_period", "store.retention", kDuration, retention_period_ns,
                "Retention period to apply to stored data, only applies if retention_enabled is "
                "true in the compactor config. A value of 0 disables retention."),
    SKALD_LIMIT("deletion_mode", "compactor.deletion-mode", kString, deletion_mode,
                "Deletion mode. Can be one of 'disabled', 'filter-only', or "
                "'filter-and-delete'. When set to 'filter-only' or 'filter-and-delete', and if "
                "retention_enabled is true, then the log entry deletion API endpoints are "
                "available."),
};

#undef SKALD_LIMIT

}  // namespace

std::span<const Descriptor> Descriptors() { return kDescriptors; }

}  // namespace skald::limits
