// Push request wire codecs: Loki's POST /loki/api/v1/push bodies.
//
// Decodes the snappy-compressed protobuf (logproto.PushRequest) and the v1 JSON
// body into one zero-copy representation, PushRequest, whose strings are views
// into buffers the request owns. Also encodes requests (for tests, benchmarks and
// the load tool). Wire facts: Loki's push API (logproto.PushRequest and the v1 JSON body).
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/entry.h"
#include "core/status.h"

namespace skald::wire {

// Entries' structured metadata uses the shared skald::MetadataPair (core/entry.h), so the
// decoded pairs reach the WAL and the chunk blocks without a conversion.
struct PushEntry {
  int64_t timestamp_ns;
  std::string_view line;
  uint32_t metadata_begin = 0;  // index into PushRequest::metadata
  uint32_t metadata_count = 0;
};

struct PushStream {
  // Protobuf: the label string exactly as received. JSON: canonical `{k="v", k2="v2"}` built from
  // the "stream" object (keys sorted, values Go-quoted via skald::AppendGoQuoted, separator ", ").
  std::string_view labels;
  std::vector<PushEntry> entries;
};

// Append-only byte arena with stable addresses (blocks are never moved or
// freed before the arena). Moving the arena keeps every returned pointer valid.
// Not thread-safe.
class StringArena {
 public:
  StringArena() = default;
  StringArena(StringArena&& o) noexcept;
  StringArena& operator=(StringArena&& o) noexcept;
  StringArena(const StringArena&) = delete;
  StringArena& operator=(const StringArena&) = delete;

  // Returns n writable bytes (uninitialised). n == 0 returns a non-null pointer.
  char* Allocate(size_t n);
  // Returns the last `unused` bytes of the most recent Allocate() to the arena
  // (used after writing fewer bytes than reserved). No-op if that allocation
  // got a dedicated block.
  void ReturnTail(size_t unused);
  // Copies s into the arena and returns a view of the copy.
  std::string_view Copy(std::string_view s);
  // Bytes held in blocks (capacity, not just used bytes).
  size_t bytes_reserved() const { return reserved_; }

 private:
  static constexpr size_t kMinBlock = 16 << 10;
  static constexpr size_t kMaxBlock = 1 << 20;

  std::vector<std::unique_ptr<char[]>> blocks_;
  char* cur_ = nullptr;  // next free byte of the current block
  size_t left_ = 0;      // free bytes in the current block
  size_t reserved_ = 0;
  bool last_from_current_ = false;
};

namespace internal {
struct PushRequestAccess;

// A byte buffer for decompressed bodies. Small buffers live on the heap; from kMapThreshold up
// they are anonymous memory mappings that grow with mremap (no copy, so growing to n bytes never
// holds 1.5 n) and go back to the OS when freed (a rejected bomb leaves no resident heap behind).
// Pages are resident only once written. Bytes past size() are uninitialised. Move-only; not
// thread-safe.
class ByteBuffer {
 public:
  static constexpr size_t kMapThreshold = 256 << 10;

  ByteBuffer() = default;
  ~ByteBuffer();
  ByteBuffer(ByteBuffer&& o) noexcept;
  ByteBuffer& operator=(ByteBuffer&& o) noexcept;
  ByteBuffer(const ByteBuffer&) = delete;
  ByteBuffer& operator=(const ByteBuffer&) = delete;

  // Sets the capacity to at least max(n, size()) (rounded up to pages for mappings). Grows or
  // shrinks, keeping the first min(n, capacity()) bytes (written or not: a writer may fill the
  // capacity before set_size()). Returns false when out of memory (buffer unchanged).
  bool Resize(size_t n);
  char* data() { return data_; }
  const char* data() const { return data_; }
  size_t size() const { return size_; }
  void set_size(size_t n) { size_ = n; }  // REQUIRES: n <= capacity()
  size_t capacity() const { return capacity_; }

 private:
  void Release();

  char* data_ = nullptr;
  size_t size_ = 0;
  size_t capacity_ = 0;
  bool mapped_ = false;
};
}  // namespace internal

// A decoded push. All string_views point into storage owned by the request, and stay valid when
// the request is moved. Move-only. Not thread-safe for mutation; concurrent reads are fine.
class PushRequest {
 public:
  PushRequest() = default;
  PushRequest(PushRequest&&) noexcept = default;
  PushRequest& operator=(PushRequest&&) noexcept = default;
  PushRequest(const PushRequest&) = delete;
  PushRequest& operator=(const PushRequest&) = delete;

  std::vector<PushStream> streams;
  std::vector<MetadataPair> metadata;

  // The structured metadata of an entry of this request.
  std::span<const MetadataPair> MetadataOf(const PushEntry& e) const {
    return std::span<const MetadataPair>(metadata.data() + e.metadata_begin, e.metadata_count);
  }
  // Number of entries over all streams.
  size_t TotalEntries() const;
  // Bytes held by the request's owned buffers (body, decompressed data, arena).
  size_t OwnedBytes() const;

 private:
  friend struct internal::PushRequestAccess;
  friend class PushRequestBuilder;

  std::unique_ptr<std::string> body_;  // JSON body or raw protobuf passed in as a string
  internal::ByteBuffer buffer_;        // decompressed body (snappy, gzip or deflate)
  StringArena arena_;  // unescaped JSON strings, canonical JSON label strings, builder strings
};

// Bounds how many request bodies are inflated (gzip / deflate) at once. A body's decompressed
// size is only known once it has been inflated, so a bomb costs up to the decompressed-size limit
// before it is rejected; the gate makes concurrent bombs cost at most slots() times that. One gate
// is shared by all requests of a server (the server owns it). Thread-safe.
class DecompressionGate {
 public:
  // Memory a server lets concurrent inflation use by default (see SlotsFor).
  static constexpr size_t kDefaultBudgetBytes = 256u << 20;

  // slots >= 1 (0 is treated as 1).
  explicit DecompressionGate(size_t slots);
  DecompressionGate(const DecompressionGate&) = delete;
  DecompressionGate& operator=(const DecompressionGate&) = delete;

  // Slots that keep concurrent inflation within budget_bytes when each body may inflate to
  // per_body_limit bytes: budget / limit, at least 1, at most 64.
  static size_t SlotsFor(size_t per_body_limit, size_t budget_bytes = kDefaultBudgetBytes);

  // Holds one slot from construction (blocking while none is free) to destruction.
  class Pass {
   public:
    explicit Pass(DecompressionGate* gate);  // nullptr: no gate, holds nothing
    ~Pass();
    Pass(const Pass&) = delete;
    Pass& operator=(const Pass&) = delete;

   private:
    DecompressionGate* gate_;
  };

  size_t slots() const { return slots_; }
  // Slots held right now (for tests and metrics).
  size_t in_use() const;
  // Largest number of slots ever held at once (for tests).
  size_t max_in_use() const;

 private:
  const size_t slots_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  size_t in_use_ = 0;
  size_t max_in_use_ = 0;
};

struct DecodeLimits {
  // Largest decompressed body (and largest uncompressed one) accepted; over it -> TooLarge.
  // Enforced while inflating: no more than this (plus one byte) is ever produced.
  size_t max_decompressed_bytes = 100u << 20;
  // Bounds concurrent gzip / deflate inflation; nullptr = unbounded (tests, tools).
  DecompressionGate* gate = nullptr;
};

// Parses an HTTP Content-Type header value like Go's mime.ParseMediaType and
// returns the lower-cased media type without parameters. Errors (InvalidArgument)
// use Go's texts: "mime: no media type", "mime: expected slash after first token",
// "mime: expected token after slash", "mime: unexpected content after media subtype",
// "mime: invalid media parameter", "mime: duplicate parameter name".
StatusOr<std::string> ParseMediaType(std::string_view content_type);

// Which JSON an application/json push body holds.
enum class JsonDialect {
  kV1,      // /loki/api/v1/push: Loki's v1 JSON
  kLegacy,  // /api/prom/push: Loki's v0 JSON when the body is not compressed, else v1
};

// Decodes an HTTP push body per Loki's rules: Content-Type parsed (once) as a media type (missing
// -> 400 "mime: no media type"), application/json (params allowed) -> JSON of `dialect`, anything
// else -> snappy-block protobuf. Content-Encoding: "" / snappy (no-op), gzip, deflate (decompressed
// first, bounded by the limit -> Status::TooLarge "request body too large: ..."), else
// InvalidArgument `Content-Encoding "<x>" not supported`. Errors: InvalidArgument (400) with a
// clear message, TooLarge (413). "deflate" accepts raw DEFLATE (what Loki's Go code reads) and also
// zlib-wrapped data (what RFC 9110 calls deflate). Gzip accepts concatenated members.
// An uncompressed body larger than the limit is also TooLarge.
// Memory: inflation streams into a buffer grown geometrically (sized from the bytes received,
// never from the gzip trailer's claimed size) and stops one byte past the limit; it waits for a
// slot of limits.gate. The body is consumed: a JSON body is parsed in place (no copy when its
// capacity() leaves simdjson's 64 bytes of padding), an inflated one gets its padding when it is
// allocated. Thread-safe.
StatusOr<PushRequest> DecodePushBody(std::string_view content_type,
                                     std::string_view content_encoding, std::string body,
                                     const DecodeLimits& limits = {},
                                     JsonDialect dialect = JsonDialect::kV1);

// Decodes a v1 JSON push body. The body is kept by the request; strings without
// escapes are views into it. Passing a body with capacity() >= size() + 64 avoids
// one copy (simdjson needs padding). Errors: InvalidArgument "JSON decode error: ...".
// Thread-safe (uses a thread-local parser).
StatusOr<PushRequest> DecodePushJson(std::string body);

// Decodes the legacy v0 JSON body of POST /api/prom/push:
// {"streams":[{"labels":"{job=\"x\"}","entries":[{"ts":"<RFC3339>","line":"...",
// "structuredMetadata":[{"name":"n","value":"v"}]}]}]}. Labels are used verbatim.
StatusOr<PushRequest> DecodePushJsonLegacy(std::string body);

// Decodes a snappy-block compressed logproto.PushRequest. Errors: TooLarge when the
// decompressed length exceeds the limit (checked before allocating); InvalidArgument
// "decompress snappy: snappy: corrupt input" or "proto: ..." otherwise. The length in the
// snappy header is trusted for allocation only up to 8x the compressed size; a larger claim is
// first verified by a pass over the input (a lie allocates nothing). Thread-safe.
StatusOr<PushRequest> DecodePushProtobuf(std::string_view snappy_block,
                                         const DecodeLimits& limits = {});
// Decodes an already decompressed logproto.PushRequest (kept by the request).
StatusOr<PushRequest> DecodePushProtobufRaw(std::string raw_proto);

// Builder that owns its strings: for tests, benchmarks and the load tool. Not thread-safe.
class PushRequestBuilder {
 public:
  // labels: a label string such as `{app="a", env="prod"}` (used verbatim).
  void AddStream(std::string labels);
  // Appends an entry to the most recently added stream (a stream with labels "{}"
  // is added first if there is none).
  void AddEntry(int64_t ts_ns, std::string line,
                std::vector<std::pair<std::string, std::string>> metadata = {});
  PushRequest Build() &&;

 private:
  PushRequest req_;
};

// logproto.PushRequest wire bytes (streams, labels verbatim, timestamps as
// seconds+nanos with 0 <= nanos < 1e9, structured metadata; no hash).
std::string EncodePushProtobufRaw(const PushRequest& req);
// EncodePushProtobufRaw() compressed with snappy block format.
std::string EncodePushProtobufSnappy(const PushRequest& req);
// v1 JSON; requires labels parseable by skald::ParseLabels (a stream whose labels
// don't parse is written with an empty "stream" object; labels with empty values
// are dropped by the parser). Metadata is written as the 3rd value element only
// when the entry has any.
std::string EncodePushJson(const PushRequest& req);

}  // namespace skald::wire
