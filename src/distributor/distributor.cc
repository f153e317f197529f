#include "distributor/distributor.h"

#include <algorithm>
#include <deque>
#include <map>
#include <optional>

#include "core/metrics.h"
#include "core/parse.h"
#include "core/tracing.h"
#include "distributor/level_detection.h"

namespace skald::distributor {

namespace {

constexpr std::string_view kServiceName = "service_name";
constexpr std::string_view kUnknownService = "unknown_service";

std::string FormatRFC3339Seconds(int64_t ns) {
  int64_t secs = ns / kNanosPerSecond;
  if (ns < 0 && ns % kNanosPerSecond != 0) secs--;
  return FormatRFC3339Nano(secs * kNanosPerSecond);
}

// Adds service_name from the first discovery label present (Loki 3.x default).
Labels WithServiceName(const Labels& in, const std::vector<std::string>& discover) {
  if (discover.empty() || in.Has(kServiceName)) return in;
  std::string value(kUnknownService);
  for (const auto& name : discover) {
    std::string_view v = in.Get(name);
    if (!v.empty()) {
      value = std::string(v);
      break;
    }
  }
  std::vector<Label> items = in.items();
  items.push_back({std::string(kServiceName), std::move(value)});
  return Labels(std::move(items));
}

// The entry's metadata with detected_level added (or normalised when present). Pairs that change
// are copied into `pool` (capacity reserved by the caller for every entry of the push); otherwise
// the request's own pairs are returned.
std::span<const MetadataPair> WithDetectedLevel(const LevelDetector& levels,
                                                std::span<const MetadataPair> md,
                                                std::string_view line, bool level_from_label,
                                                std::string_view label_level,
                                                std::vector<MetadataPair>* pool) {
  for (size_t i = 0; i < md.size(); i++) {
    if (md[i].name != kDetectedLevel) continue;
    std::string_view norm = LevelDetector::Normalize(md[i].value);
    if (norm == md[i].value) return md;
    size_t begin = pool->size();
    pool->insert(pool->end(), md.begin(), md.end());
    (*pool)[begin + i].value = norm;
    return std::span<const MetadataPair>(pool->data() + begin, md.size());
  }
  std::string_view level = level_from_label ? label_level : levels.FromEntry(md, line);
  if (level.empty()) return md;  // an empty level field names no level
  size_t begin = pool->size();
  pool->insert(pool->end(), md.begin(), md.end());
  pool->push_back({kDetectedLevel, level});
  return std::span<const MetadataPair>(pool->data() + begin, md.size() + 1);
}

// Loki's util.EntryTotalSize: line bytes plus structured metadata bytes, where the
// detected_level pair the distributor adds does not count.
uint64_t EntrySize(const ingester::AppendEntry& e) {
  uint64_t n = e.line.size();
  for (const auto& p : e.metadata) {
    if (p.name != kDetectedLevel) n += p.name.size() + p.value.size();
  }
  return n;
}

constexpr double kMiB = 1 << 20;

}  // namespace

Distributor::Distributor(const limits::Overrides* limits, ingester::Pusher* ingester,
                         metrics::Registry* registry)
    : limits_(limits), ingester_(ingester) {
  if (registry != nullptr) {
    lines_received_ =
        &registry->AddCounter("loki_distributor_lines_received_total",
                              "Log lines received (after validation) per tenant.", {"tenant"});
    bytes_received_ =
        &registry->AddCounter("loki_distributor_bytes_received_total",
                              "Line bytes received (after validation) per tenant.", {"tenant"});
    // Loki's names; Loki also labels these (and the two above) by retention_hours, policy and
    // format (docs/metrics.md).
    discarded_samples_ = &registry->AddCounter("loki_discarded_samples_total",
                                               "The total number of samples that were discarded.",
                                               {"reason", "tenant"});
    discarded_bytes_ = &registry->AddCounter("loki_discarded_bytes_total",
                                             "The total number of bytes that were discarded.",
                                             {"reason", "tenant"});
    // Lines changed on the way in (max_line_size_truncate), Loki's validation.Mutated*.
    mutated_samples_ = &registry->AddCounter("loki_mutated_samples_total",
                                             "The total number of samples that have been mutated.",
                                             {"reason", "tenant"});
    mutated_bytes_ = &registry->AddCounter("loki_mutated_bytes_total",
                                           "The total number of bytes that have been mutated.",
                                           {"reason", "tenant"});
  }
}

void Distributor::Discard(std::string_view reason, std::string_view tenant, uint64_t lines,
                          uint64_t bytes) {
  if (RefusalReport* report = RefusalReport::Current()) report->Add(reason, lines, bytes);
  if (discarded_samples_ == nullptr) return;
  std::vector<std::string> lv = {std::string(reason), std::string(tenant)};
  discarded_samples_->WithLabels(lv).Inc(static_cast<double>(lines));
  discarded_bytes_->WithLabels(lv).Inc(static_cast<double>(bytes));
}

std::string Distributor::GroupErrors(const std::vector<std::string>& errors) {
  if (errors.empty()) return "";
  if (errors.size() == 1) return errors[0];
  std::vector<std::pair<std::string, size_t>> groups;  // first-seen order
  std::map<std::string, size_t> index;
  for (const auto& e : errors) {
    auto [it, inserted] = index.emplace(e, groups.size());
    if (inserted) {
      groups.push_back({e, 1});
    } else {
      groups[it->second].second++;
    }
  }
  std::string out;
  for (const auto& [msg, n] : groups) {
    if (!out.empty()) out += "; ";
    out += std::to_string(n) + " errors like: " + msg;
  }
  return out;
}

Status Distributor::Push(std::string_view tenant, const wire::PushRequest& req) {
  if (req.streams.empty()) {
    return Status::Unprocessable("error at least one valid stream is required for ingestion");
  }
  RefusalReport refusals(&refusal_log_, tenant);  // logs what Discard counts, when the push ends
  // Validation and rate limits; the ingester's spans follow it.
  trace::Span validate_span("distributor.validate");
  const std::shared_ptr<const limits::Limits> lim_handle = limits_->For(tenant);
  const limits::Limits& lim = *lim_handle;
  const int64_t now = NowNanos();
  const int64_t oldest_ok = SaturatingSub(now, lim.reject_old_samples_max_age_ns);
  const int64_t newest_ok = SaturatingAdd(now, lim.creation_grace_period_ns);
  std::vector<std::string> errors;
  std::vector<std::string> ingester_errors;
  uint64_t lines_ok = 0, bytes_ok = 0;

  // Validated streams, handed to the ingester together (one WAL write per push).
  struct Accepted {
    std::shared_ptr<const ParsedLabels> parsed;  // labels, canonical text, fingerprint
    std::vector<ingester::AppendEntry> batch;
    std::string label_level;  // the stream label detected_level comes from (normalised)
  };
  std::vector<Accepted> accepted;
  accepted.reserve(req.streams.size());

  // max_line_size_truncate (Loki's truncateLines): a line over max_line_size keeps its first
  // max_line_size - len(identifier) bytes plus the identifier, so it is exactly
  // max_line_size long; when the identifier leaves no room the line is left as it is (and
  // refused below as too long). Truncated lines live in `truncated` (stable addresses).
  const std::string& trunc_id = lim.max_line_size_truncate_identifier;
  const bool truncate = lim.max_line_size_truncate && lim.max_line_size > 0 &&
                        lim.max_line_size > static_cast<int64_t>(trunc_id.size());
  std::deque<std::string> truncated;
  uint64_t truncated_lines = 0, truncated_bytes = 0;
  auto line_of = [&](const wire::PushEntry& e) -> std::string_view {
    if (!truncate || static_cast<int64_t>(e.line.size()) <= lim.max_line_size) return e.line;
    const size_t keep = static_cast<size_t>(lim.max_line_size) - trunc_id.size();
    std::string& t = truncated.emplace_back();
    t.reserve(static_cast<size_t>(lim.max_line_size));
    t.append(e.line.substr(0, keep)).append(trunc_id);
    truncated_lines++;
    truncated_bytes += e.line.size() - keep;
    return t;
  };

  // detected_level (Loki's discover_log_levels): entries that gain or change the pair get a copy
  // of their metadata in `md_pool`, reserved up front so spans into it stay valid.
  const bool discover_levels = lim.discover_log_levels && lim.allow_structured_metadata;
  std::vector<MetadataPair> md_pool;
  std::optional<LevelDetector> levels;
  if (discover_levels) {
    size_t need = 0;  // entries may share metadata ranges: count each entry's own
    for (const auto& st : req.streams) {
      for (const auto& e : st.entries) need += e.metadata_count + 1;
    }
    md_pool.reserve(need);
    levels.emplace(lim.log_level_fields, lim.log_level_from_json_max_depth);
  }

  for (const wire::PushStream& stream : req.streams) {
    if (stream.entries.empty()) continue;
    uint64_t stream_bytes = 0;
    for (const auto& e : stream.entries) {
      stream_bytes +=
          truncate ? std::min<uint64_t>(e.line.size(), lim.max_line_size) : e.line.size();
    }
    auto reject_stream = [&](std::string_view reason, std::string msg) {
      errors.push_back(std::move(msg));
      Discard(reason, tenant, stream.entries.size(), stream_bytes);
    };

    std::shared_ptr<const ParsedLabels> pl =
        labels_cache_.Get(stream.labels, lim.discover_service_name);
    if (pl == nullptr) {
      auto parsed = ParseLabels(stream.labels);
      if (!parsed.ok()) {
        reject_stream("invalid_labels", "error parsing labels '" + std::string(stream.labels) +
                                            "' with error: " + parsed.status().message());
        continue;
      }
      if (parsed->empty() && lim.discover_service_name.empty()) {
        reject_stream("missing_labels", "error at least one label pair is required per stream");
        continue;
      }
      auto made = std::make_shared<ParsedLabels>();
      made->labels = WithServiceName(*parsed, lim.discover_service_name);
      made->canonical = made->labels.ToString();
      made->fingerprint = FingerprintOf(made->canonical);
      made->discover = lim.discover_service_name;
      labels_cache_.Put(stream.labels, made);
      pl = std::move(made);
    }
    // What follows depends on the tenant's limits, which may change: checked every time.
    const Labels& labels = pl->labels;
    const std::string& ls = pl->canonical;
    int counted = 0;
    for (const auto& l : labels) counted += l.name == kServiceName ? 0 : 1;
    if (counted > lim.max_label_names_per_series) {
      reject_stream("max_label_names_per_series",
                    "entry for stream '" + ls + "' has " + std::to_string(counted) +
                        " label names; limit " + std::to_string(lim.max_label_names_per_series));
      continue;
    }
    std::string_view dup = labels.FindDuplicateName();
    if (!dup.empty()) {
      reject_stream("duplicate_label_names",
                    "stream '" + ls + "' has duplicate label name: '" + std::string(dup) + "'");
      continue;
    }
    bool bad = false;
    for (const auto& l : labels) {
      if (static_cast<int>(l.name.size()) > lim.max_label_name_length) {
        reject_stream("label_name_too_long",
                      "stream '" + ls + "' has label name too long: '" + l.name + "'");
        bad = true;
        break;
      }
      if (static_cast<int>(l.value.size()) > lim.max_label_value_length) {
        reject_stream("label_value_too_long",
                      "stream '" + ls + "' has label value too long: '" + l.value + "'");
        bad = true;
        break;
      }
    }
    if (bad) continue;

    Accepted& acc = accepted.emplace_back();
    auto& batch = acc.batch;
    bool level_from_label = false;
    if (discover_levels) {
      std::string_view v = levels->FromLabels(labels, &level_from_label);
      if (level_from_label) acc.label_level = std::string(LevelDetector::Normalize(v));
    }
    for (const wire::PushEntry& e : stream.entries) {
      auto md = req.MetadataOf(e);
      uint64_t md_bytes = 0;
      for (const auto& p : md) md_bytes += p.name.size() + p.value.size();
      const std::string_view line = line_of(e);
      auto reject = [&](std::string_view reason, std::string msg) {
        errors.push_back(std::move(msg));
        Discard(reason, tenant, 1, line.size());
      };
      if (lim.reject_old_samples && e.timestamp_ns < oldest_ok) {
        reject("greater_than_max_sample_age",
               "entry for stream '" + ls +
                   "' has timestamp too old: " + FormatRFC3339Seconds(e.timestamp_ns) +
                   ", oldest acceptable timestamp is: " + FormatRFC3339Seconds(oldest_ok));
        continue;
      }
      if (e.timestamp_ns > newest_ok) {
        reject("too_far_in_future", "entry for stream '" + ls + "' has timestamp too new: " +
                                        FormatRFC3339Seconds(e.timestamp_ns));
        continue;
      }
      if (lim.max_line_size > 0 && static_cast<int64_t>(line.size()) > lim.max_line_size) {
        reject("line_too_long", "max entry size '" + std::to_string(lim.max_line_size) +
                                    "' bytes exceeded for stream '" + ls +
                                    "' while adding an entry with length '" +
                                    std::to_string(line.size()) + "' bytes");
        continue;
      }
      if (!md.empty()) {
        if (!lim.allow_structured_metadata) {
          reject("disallowed_structured_metadata",
                 "stream '" + ls +
                     "' includes structured metadata, but this feature is disallowed. Please see "
                     "`limits_config.allow_structured_metadata` or contact your Loki "
                     "administrator to enable it");
          continue;
        }
        if (lim.max_structured_metadata_size > 0 &&
            static_cast<int64_t>(md_bytes) > lim.max_structured_metadata_size) {
          reject("structured_metadata_too_large",
                 "stream '" + ls + "' has structured metadata too large: '" +
                     std::to_string(md_bytes) + "' bytes, limit: '" +
                     std::to_string(lim.max_structured_metadata_size) +
                     "' bytes. Please see `limits_config.max_structured_metadata_size` or "
                     "contact your Loki administrator to increase it");
          continue;
        }
        if (lim.max_structured_metadata_entries_count > 0 &&
            static_cast<int>(md.size()) > lim.max_structured_metadata_entries_count) {
          reject("structured_metadata_too_many",
                 "stream '" + ls + "' has too many structured metadata labels: '" +
                     std::to_string(md.size()) + "', limit: '" +
                     std::to_string(lim.max_structured_metadata_entries_count) +
                     "'. Please see `limits_config.max_structured_metadata_entries_count` or "
                     "contact your Loki administrator to increase it");
          continue;
        }
      }
      if (discover_levels)
        md = WithDetectedLevel(*levels, md, line, level_from_label, acc.label_level, &md_pool);
      // The request's pairs go to the ingester as they are (the request outlives the push).
      batch.push_back({e.timestamp_ns, line, md});
    }
    if (batch.empty()) {
      accepted.pop_back();
      continue;
    }
    acc.parsed = std::move(pl);
  }

  if (truncated_lines > 0 && mutated_samples_ != nullptr) {
    std::vector<std::string> lv = {"line_too_long", std::string(tenant)};
    mutated_samples_->WithLabels(lv).Inc(static_cast<double>(truncated_lines));
    mutated_bytes_->WithLabels(lv).Inc(static_cast<double>(truncated_bytes));
  }

  // Rate limits, after validation and before anything is written: the tenant's first (it
  // refuses the whole request, as Loki's distributor), then each stream's (per entry, as
  // Loki's ingester with shard_streams off).
  const int64_t mono = MonotonicNanos();
  // Entry sizes of all accepted streams, flat; stream i's are [first[i], first[i + 1]).
  std::vector<uint64_t> sizes;
  std::vector<size_t> first(accepted.size() + 1, 0);
  uint64_t total_bytes = 0;
  for (size_t i = 0; i < accepted.size(); i++) {
    first[i] = sizes.size();
    for (const auto& e : accepted[i].batch) {
      sizes.push_back(EntrySize(e));
      total_bytes += sizes.back();
    }
  }
  first[accepted.size()] = sizes.size();
  const uint64_t total_lines = sizes.size();
  if (!accepted.empty()) {
    // "global": the tenant's rate is shared by the healthy distributors, each enforcing its
    // part locally (Loki's globalStrategy); "local": each distributor enforces all of it.
    double divisor = 1;
    // A process setting, as in Loki: limits_config's value, not a tenant's override.
    if (limits_->defaults().ingestion_rate_strategy == "global" && healthy_distributors_) {
      divisor = std::max(1, healthy_distributors_());
    }
    const limits::Rate tenant_rate{lim.ingestion_rate_mb * kMiB / divisor,
                                   lim.ingestion_burst_size_mb * kMiB};
    if (!tenant_rates_.AllowN(tenant, mono, total_bytes, tenant_rate)) {
      Discard("rate_limited", tenant, total_lines, total_bytes);
      // validation.RateLimitedErrorMsg; the limit is printed as Go's int(limit).
      return Status::ResourceExhausted(
          "ingestion rate limit exceeded for user " + std::string(tenant) +
          " (limit: " + std::to_string(static_cast<int64_t>(tenant_rate.limit)) +
          " bytes/sec) while attempting to ingest '" + std::to_string(total_lines) +
          "' lines totaling '" + std::to_string(total_bytes) +
          "' bytes, reduce log volume or contact your Loki administrator to see if the limit "
          "can be increased");
    }
  }
  // Each stream's rate limit is taken by the ingester, from the stream's own bucket, after
  // it dropped duplicates and entries too far behind (as Loki's ingester does).
  const limits::Rate stream_rate{static_cast<double>(lim.per_stream_rate_limit),
                                 static_cast<double>(lim.per_stream_rate_limit_burst)};
  std::vector<std::string> rate_errors;

  std::vector<ingester::StreamAppend> appends;
  std::vector<size_t> appended_from;  // index into accepted of each append
  appends.reserve(accepted.size());
  for (size_t i = 0; i < accepted.size(); i++) {
    if (accepted[i].batch.empty()) continue;  // every entry refused by the stream limit
    ingester::StreamAppend& sa = appends.emplace_back();
    sa.labels = &accepted[i].parsed->labels;
    sa.fingerprint = accepted[i].parsed->fingerprint;
    sa.entries = accepted[i].batch;
    sa.rate = &stream_rate;
    sa.sizes = std::span<const uint64_t>(sizes.data() + first[i], first[i + 1] - first[i]);
    appended_from.push_back(i);
  }
  validate_span.End();
  if (!appends.empty()) {
    Status pushed = ingester_->PushBatch(tenant, appends);
    if (!pushed.ok() && appends[0].result.memory_limited) {
      // The ingester's memory guard refused the whole push (429 for the tenant's cap, 503
      // for the process'): nothing was written.
      uint64_t lines = 0, bytes = 0;
      for (const ingester::StreamAppend& sa : appends) {
        lines += sa.entries.size();
        for (const auto& e : sa.entries) bytes += EntrySize(e);
      }
      Discard("memory_limit", tenant, lines, bytes);
    }
    SKALD_RETURN_IF_ERROR(pushed);
  }
  std::vector<std::string> stream_limit_errors;
  for (size_t k = 0; k < appends.size(); k++) {
    const Accepted& acc = accepted[appended_from[k]];
    const ingester::AppendResult& result = appends[k].result;
    const auto& batch = acc.batch;
    if (result.stream_limited) {
      // Loki's ingester (instance.onStreamCreationError): every entry of the stream is
      // discarded as stream_limit, bytes as util.EntriesTotalSize (line plus all structured
      // metadata the ingester received), and validation.StreamLimitErrorMsg with status 429.
      uint64_t refused_bytes = 0;
      for (const auto& e : batch) {
        refused_bytes += e.line.size();
        for (const auto& p : e.metadata) refused_bytes += p.name.size() + p.value.size();
      }
      Discard("stream_limit", tenant, batch.size(), refused_bytes);
      stream_limit_errors.push_back(
          "maximum active stream limit exceeded when trying to create stream " +
          acc.parsed->canonical +
          ", reduce the number of active streams (reduce labels or reduce label values), or "
          "contact your Loki administrator to see if the limit can be increased, user: '" +
          std::string(tenant) + "'");
      continue;
    }
    if (!result.rate_limited.empty()) {
      // Loki's ingester answer for the stream: each refused entry with
      // validation.ErrStreamRateLimit, then the stream's total.
      std::string msg;
      size_t shown = 0;
      uint64_t refused_bytes = 0;
      for (const auto& [ts, size] : result.rate_limited) {
        refused_bytes += size;
        if (shown++ >= 10) continue;  // ingester.max-ignored-stream-errors
        msg += "entry with timestamp " + FormatGoTime(ts) +
               " ignored, reason: 'Per stream rate limit exceeded (limit: " +
               FormatByteSize(lim.per_stream_rate_limit) +
               "/sec) while attempting to ingest for stream '" + acc.parsed->canonical +
               "' totaling " + FormatByteSize(static_cast<int64_t>(size)) +
               ", consider splitting a stream via additional labels or contact your Loki "
               "administrator to see if the limit can be increased',\n";
      }
      const size_t refused = result.rate_limited.size();
      msg += "user '" + std::string(tenant) + "', total ignored: " + std::to_string(refused) +
             " out of " + std::to_string(batch.size()) + " for stream: " + acc.parsed->canonical;
      rate_errors.push_back(std::move(msg));
      Discard("per_stream_rate_limit", tenant, refused, refused_bytes);
    }
    if (!result.rejected.empty()) {
      Discard("too_far_behind", tenant, result.rejected.size(), 0);
      std::string msg;
      size_t shown = 0;
      for (const auto& [ts, reason] : result.rejected) {
        if (shown++ == 10) break;  // ingester.max-ignored-stream-errors
        msg += "entry with timestamp " + FormatGoTime(ts) + " ignored, reason: '" + reason + "',\n";
      }
      msg += "user '" + std::string(tenant) +
             "', total ignored: " + std::to_string(result.rejected.size()) + " out of " +
             std::to_string(batch.size()) + " for stream: " + acc.parsed->canonical;
      ingester_errors.push_back(std::move(msg));
    }
    for (const auto& e : batch) bytes_ok += e.line.size();
    lines_ok += result.appended + result.duplicates;
  }

  if (lines_received_ != nullptr && lines_ok > 0) {
    std::vector<std::string> lv = {std::string(tenant)};
    lines_received_->WithLabels(lv).Inc(static_cast<double>(lines_ok));
    bytes_received_->WithLabels(lv).Inc(static_cast<double>(bytes_ok));
  }
  if (errors.empty() && ingester_errors.empty() && rate_errors.empty() &&
      stream_limit_errors.empty()) {
    return Status::OK();
  }
  std::string msg = GroupErrors(errors);
  for (auto* group : {&rate_errors, &stream_limit_errors, &ingester_errors}) {
    for (auto& m : *group) {
      if (!msg.empty()) msg += "\n";
      msg += m;
    }
  }
  // A stream over its rate, or a new stream over the tenant's active stream limit, makes
  // the push retryable (429), as Loki's ingester answers for both. (Loki's ingester keeps
  // only the last stream's outcome; Skald reports every stream and lets 429 win over the
  // 400 of too-far-behind entries, so a client retries rather than drops the push.)
  if (!rate_errors.empty() || !stream_limit_errors.empty()) {
    return Status::ResourceExhausted(msg);
  }
  return Status::InvalidArgument(msg);
}

}  // namespace skald::distributor
