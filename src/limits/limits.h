// Per-tenant limits in one place, like Loki's pkg/validation/limits.go.
//
// `Limits` holds every per-tenant knob of `limits_config` with its default (the
// member initializer is the only place a default is written). `Descriptors()`
// lists, next to it, each knob's YAML key, flag, value kind and doc line; the
// configuration builds its `limits_config` rows from that table. Roles never
// read the configuration: they ask `Overrides::For(tenant)`, which applies the
// per-tenant overrides of the runtime config file. Depends only on core.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/labels.h"
#include "core/matcher.h"
#include "core/time.h"

namespace skald::limits {

// limits_config.otlp_config (Loki's OTLPConfig): how OTLP attributes are stored. Parsed and
// validated by the configuration; the OTLP handler turns it into wire::OtlpOptions.
enum class OtlpAttributeAction { kIndexLabel, kStructuredMetadata, kDrop };
struct OtlpAttributesConfig {
  OtlpAttributeAction action = OtlpAttributeAction::kStructuredMetadata;
  std::vector<std::string> attributes;  // exact attribute names; or
  std::string regex;                    // a Go/RE2 regex matched against the whole name
};
struct OtlpConfig {
  // resource_attributes.ignore_defaults: drop the default index-label rule
  // (distributor.otlp_config.default_resource_attributes_as_index_labels).
  bool resource_ignore_defaults = false;
  std::vector<OtlpAttributesConfig> resource_attributes;  // resource_attributes.attributes_config
  std::vector<OtlpAttributesConfig> scope_attributes;     // index_label not allowed
  std::vector<OtlpAttributesConfig> log_attributes;
  bool severity_text_as_label = false;
};

// limits_config.retention_stream: a retention period for the streams a selector matches
// (Loki's StreamRetention). YAML only; the configuration parses and validates it.
struct StreamRetention {
  std::string selector;           // as written, e.g. {namespace="dev"}
  std::vector<Matcher> matchers;  // parsed from selector
  int priority = 0;               // the highest priority among matching rules wins
  int64_t period_ns = 0;          // >= 24h
};

struct Limits {
  // Ingestion (distributor).
  double ingestion_rate_mb = 4;
  double ingestion_burst_size_mb = 6;
  // "local" or "global" (Loki's default). Not overridable per tenant (as in Loki).
  std::string ingestion_rate_strategy = "global";
  // Per-stream rate limit (enforced in the ingester, before its WAL, as in Loki): line +
  // structured metadata bytes per second and burst, per stream.
  int64_t per_stream_rate_limit = 3 << 20;              // bytes/s
  int64_t per_stream_rate_limit_burst = 5 * (3 << 20);  // bytes
  int max_label_name_length = 1024;
  int max_label_value_length = 2048;
  int max_label_names_per_series = 15;
  // Active (in-memory) streams per tenant (ingester); 0 = disabled. With one ingester the
  // global limit applies as is.
  int max_streams_per_user = 0;
  int max_global_streams_per_user = 5000;
  bool reject_old_samples = true;
  int64_t reject_old_samples_max_age_ns = 168 * kNanosPerHour;
  int64_t creation_grace_period_ns = 10 * kNanosPerMinute;
  int64_t max_line_size = 262144;                 // bytes; 0 = unlimited
  bool max_line_size_truncate = false;            // truncate instead of refusing
  std::string max_line_size_truncate_identifier;  // appended to a truncated line
  std::vector<std::string> discover_service_name = DefaultServiceNameSources();
  // detected_level structured metadata added on push (distributor), like Loki 3.
  bool discover_log_levels = true;
  std::vector<std::string> log_level_fields = {
      "level",    "LEVEL",         "Level",         "log.level",    "severity",
      "SEVERITY", "Severity",      "SeverityText",  "lvl",          "LVL",
      "Lvl",      "severity_text", "Severity_Text", "SEVERITY_TEXT"};
  int log_level_from_json_max_depth = 2;  // <= 0: unlimited
  // Querying (querier).
  int max_query_series = 500;
  int64_t max_query_length_ns = 721 * kNanosPerHour;  // 0 = unlimited
  int max_entries_limit_per_query = 5000;             // 0 = unlimited
  int64_t max_query_lookback_ns = 0;  // queries are clamped to now - lookback; 0 = unlimited
  int max_query_parallelism = 32;     // sub-queries of one query run at once
  int64_t query_timeout_ns = kNanosPerMinute;
  // Query frontend: query_range splits (0 = none) and the age below which results are not
  // cached.
  int64_t split_queries_by_interval_ns = kNanosPerHour;
  int64_t max_cache_freshness_ns = 10 * kNanosPerMinute;
  int max_concurrent_tail_requests = 10;  // live tails per tenant; 0 = unlimited
  // Structured metadata (distributor).
  bool allow_structured_metadata = true;
  int64_t max_structured_metadata_size = 65536;     // bytes; 0 = unlimited
  int max_structured_metadata_entries_count = 128;  // 0 = unlimited
  // In-memory (unflushed) head bytes per tenant in the ingester; 0 = no per-tenant cap.
  // Skald's memory guard (not a Loki limit).
  int64_t max_head_bytes_per_user = 0;
  // Retention and deletes (compactor; applied only with compactor.retention_enabled).
  int64_t retention_period_ns = 0;  // 0 = keep forever
  std::vector<StreamRetention> retention_stream;
  std::string deletion_mode = "filter-and-delete";  // disabled | filter-only | filter-and-delete
  // OTLP ingest (server: POST /otlp/v1/logs); YAML only, see server/config.cc.
  OtlpConfig otlp_config;
};

// How a knob's value is written in YAML and flags.
enum class ValueKind {
  kBool,
  kString,      // std::string
  kInt,         // int
  kFloat,       // double
  kDuration,    // int64_t ns; Prometheus model.Duration text ("30d1h"), as Loki
  kByteSize,    // int64_t bytes; Loki's humanized size ("256KB")
  kStringList,  // std::vector<std::string>; flags take a comma-separated list
};

// One knob: where it lives in `Limits` and how configuration names and documents it.
struct Descriptor {
  const char* yaml_key;  // key inside `limits_config:`
  const char* flag;      // flag name without the leading '-'
  ValueKind kind;
  void* (*field)(Limits&);  // the member, typed as `kind` says
  const char* help;
};

// Every knob of `Limits`, in the order `GET /config` prints them. Thread-safe.
std::span<const Descriptor> Descriptors();

// The limits that apply to each tenant: the defaults (limits_config) and per-tenant
// overrides (Loki's runtime config file), which the server can replace while requests run.
// Thread-safe. `For` is cheap (no lock while no tenant has an override; else one short
// lock, a map lookup and a reference-count increment) and hands out a shared handle, so a
// reload never frees limits a request still reads.
class Overrides {
 public:
  // tenant -> its complete limits (each starts from the defaults, as in Loki).
  using TenantMap = std::map<std::string, std::shared_ptr<const Limits>, std::less<>>;

  explicit Overrides(Limits defaults)
      : defaults_(std::make_shared<const Limits>(std::move(defaults))),
        tenants_(std::make_shared<const TenantMap>()) {}

  // Limits for `tenant`: its override, or the defaults.
  std::shared_ptr<const Limits> For(std::string_view tenant) const {
    if (!has_tenants_.load(std::memory_order_acquire)) return defaults_;
    std::lock_guard<std::mutex> lock(mu_);
    auto it = tenants_->find(tenant);
    return it != tenants_->end() ? it->second : defaults_;
  }
  // The defaults never change after construction.
  const Limits& defaults() const { return *defaults_; }

  // Replaces every tenant's override at once (a reload of the runtime config).
  void SetTenantLimits(TenantMap tenants) {
    auto next = std::make_shared<const TenantMap>(std::move(tenants));
    const bool any = !next->empty();
    std::shared_ptr<const TenantMap> old;
    {
      std::lock_guard<std::mutex> lock(mu_);
      old = std::move(tenants_);
      tenants_ = std::move(next);
      has_tenants_.store(any, std::memory_order_release);
    }
    // `old` (and limits no request holds any more) is freed here, outside the lock.
  }
  // The current overrides (a snapshot that stays valid after a reload).
  std::shared_ptr<const TenantMap> TenantLimits() const {
    std::lock_guard<std::mutex> lock(mu_);
    return tenants_;
  }

 private:
  const std::shared_ptr<const Limits> defaults_;
  mutable std::mutex mu_;
  std::shared_ptr<const TenantMap> tenants_;  // guarded by mu_
  std::atomic<bool> has_tenants_{false};
};

}  // namespace skald::limits
