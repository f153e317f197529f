// OTLP/HTTP logs ingest: decodes an ExportLogsServiceRequest (protobuf or OTLP/JSON, optionally
// gzip / zstd / lz4 compressed) and maps it onto a PushRequest the way Loki does
// (pkg/loghttp/push/otlp.go): some resource attributes become stream labels, everything else
// becomes per-entry structured metadata, the line is Body.AsString(). docs/otlp.md describes the
// mapping. The options are a plain wire-level struct: callers translate their configuration.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "wire/push.h"

namespace skald::wire {

// What to do with an attribute (Loki's otlp_config actions).
enum class OtlpAction { kIndexLabel, kStructuredMetadata, kDrop };

// One rule of an otlp_config attribute list: matches an attribute by its raw (unsanitised) name,
// either by exact name or by a fully anchored regex the caller compiled. The first matching rule
// of a list wins; no match means structured metadata.
struct OtlpAttributeRule {
  OtlpAction action = OtlpAction::kStructuredMetadata;
  std::vector<std::string> attributes;
  std::function<bool(std::string_view)> regex;  // empty: no regex
};

struct OtlpOptions {
  // Rules for resource attributes. Loki puts the default index-label rule
  // (default_resource_attributes_as_index_labels) first unless ignore_defaults is set; the caller
  // builds the list (see DefaultOtlpResourceRules()).
  std::vector<OtlpAttributeRule> resource_rules;
  // Rules for scope attributes (index_label is not allowed there; treated as drop, like Loki).
  std::vector<OtlpAttributeRule> scope_rules;
  // Rules for log record attributes (index_label adds the attribute to the entry's stream).
  std::vector<OtlpAttributeRule> log_rules;
  // severity_text also becomes a stream label (it always stays structured metadata too).
  bool severity_text_as_label = false;
  // limits_config.discover_service_name: when a resource has no service.name, the first index
  // label (in attribute order) whose name is listed becomes service_name, else
  // "unknown_service". Empty disables (no service_name is added).
  std::vector<std::string> discover_service_name;
  // Timestamp for records with neither time_unix_nano nor observed_time_unix_nano; 0 = now.
  int64_t receive_time_ns = 0;
  // Upper bound on the decoded request (entries, metadata pairs and the strings made for them),
  // on top of 128 bytes per input byte: resource and scope attributes are copied onto every
  // entry, so a tiny body could otherwise expand without bound. Over it -> TooLarge.
  size_t max_decoded_bytes = size_t{1} << 30;
};

// Loki's distributor.otlp_config.default_resource_attributes_as_index_labels.
const std::vector<std::string>& DefaultOtlpIndexLabels();
// The default resource rules: index_label for DefaultOtlpIndexLabels().
std::vector<OtlpAttributeRule> DefaultOtlpResourceRules();
// Options with Loki's defaults (default resource rules and discover_service_name).
OtlpOptions DefaultOtlpOptions();

// Decodes an OTLP/HTTP logs body. Content-Type (media type, parameters ignored):
// application/x-protobuf or application/json, else InvalidArgument
// "content type: <ct> is not supported". Content-Encoding: "" / gzip / zstd / lz4 (LZ4 frame
// format, as Loki's pierrec/lz4 reader), else InvalidArgument "unsupported content encoding <x>:
// only gzip, lz4 and zstd are supported". Decompression is bounded by limits (TooLarge, the
// same text as push) and gated by limits.gate. Streams: labels are canonical `{k="v", k2="v2"}`
// (sorted by name, Go-quoted); entries whose resources (and indexed log attributes) map to the
// same labels share a stream. Errors: InvalidArgument with the protobuf / JSON decoder's text
// or an attribute-name error ("symbolizer lookup: ..."); TooLarge. Thread-safe.
StatusOr<PushRequest> DecodeOtlpBody(std::string_view content_type,
                                     std::string_view content_encoding, std::string body,
                                     const OtlpOptions& options, const DecodeLimits& limits = {});

// Decodes an uncompressed protobuf ExportLogsServiceRequest (copied into the request).
StatusOr<PushRequest> DecodeOtlpProtobuf(std::string_view proto, const OtlpOptions& options);
// Decodes an uncompressed OTLP/JSON ExportLogsServiceRequest: camelCase or snake_case field
// names, 64-bit integers as numbers or decimal strings, enums as numbers or names, trace/span
// ids as hex, bytes as base64. The JSON is transcoded to protobuf and mapped like it.
StatusOr<PushRequest> DecodeOtlpJson(std::string_view json, const OtlpOptions& options);
// The transcoding step alone (for tests and the fuzzer): OTLP/JSON -> protobuf bytes.
StatusOr<std::string> OtlpJsonToProtobuf(std::string_view json);

// Loki's sanitising of attribute names (otlptranslator.LabelNamer): every run of characters
// outside [a-zA-Z0-9] becomes one '_', `__x__` keeps its underscores, a leading digit gets
// "key_". Errors: "label name is empty", `normalization for label name "x" resulted in invalid
// name "_"` (names that are all underscores).
StatusOr<std::string> SanitizeOtlpName(std::string_view name);

// The body of an OTLP error response: a protobuf google.rpc.Status with code 0 (omitted) and
// message `message`, as Loki writes it.
std::string EncodeOtlpErrorStatus(std::string_view message);

// Protobuf encoder for tests, benchmarks and the load tool: a minimal ExportLogsServiceRequest
// writer. Values are encoded as AnyValue; nested maps and arrays via the builder functions.
class OtlpEncoder {
 public:
  // AnyValue bytes.
  static std::string Str(std::string_view s);
  static std::string Int(int64_t v);
  static std::string Double(double v);
  static std::string Bool(bool v);
  static std::string Bytes(std::string_view b);
  static std::string Array(const std::vector<std::string>& values);
  static std::string Map(const std::vector<std::pair<std::string, std::string>>& kvs);
  // KeyValue bytes (value is AnyValue bytes).
  static std::string KeyValue(std::string_view key, const std::string& value);

  struct Record {
    uint64_t time_unix_nano = 0;
    uint64_t observed_time_unix_nano = 0;
    int32_t severity_number = 0;
    std::string severity_text;
    std::string body;                                             // AnyValue bytes; empty = no body
    std::vector<std::pair<std::string, std::string>> attributes;  // key, AnyValue bytes
    uint32_t dropped_attributes_count = 0;
    uint32_t flags = 0;
    std::string trace_id;  // raw bytes (16)
    std::string span_id;   // raw bytes (8)
    std::string event_name;
  };
  struct Scope {
    std::string name, version;
    std::vector<std::pair<std::string, std::string>> attributes;
    uint32_t dropped_attributes_count = 0;
    std::vector<Record> records;
  };
  struct Resource {
    std::vector<std::pair<std::string, std::string>> attributes;
    std::vector<Scope> scopes;
  };
  static std::string Request(const std::vector<Resource>& resources);
};

}  // namespace skald::wire
