// Internal helpers shared by the push codec translation units (not a public API).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"
#include "wire/push.h"

namespace skald::wire::internal {

// Grants the decoders access to a PushRequest's owned storage.
struct PushRequestAccess {
  static std::unique_ptr<std::string>& body(PushRequest& r) { return r.body_; }
  static ByteBuffer& buffer(PushRequest& r) { return r.buffer_; }
  static StringArena& arena(PushRequest& r) { return r.arena_; }
};

// Parses a logproto.PushRequest from [data, data + size), which must stay owned
// by *req (or outlive it), appending streams/metadata to *req.
Status DecodeProtoInto(const char* data, size_t size, PushRequest* req);

// Spare bytes kept past the end of every inflated body: simdjson reads up to 64 bytes past the
// end of its input (SIMDJSON_PADDING, checked by a static_assert in push_json.cc).
inline constexpr size_t kParsePadding = 64;

// Decompresses a gzip body (one or more members), streaming into a buffer that grows
// geometrically from a size based on in.size() (the trailer's claimed size is never allocated
// beyond that) and stops one byte past `limit`. Output above `limit` bytes -> TooLarge; corrupt
// or truncated input -> InvalidArgument "gzip: ...". The result has capacity() >= size() +
// kParsePadding.
StatusOr<ByteBuffer> GunzipBounded(std::string_view in, size_t limit);
// Decompresses raw DEFLATE, or zlib-wrapped DEFLATE when the input starts with a
// valid zlib header. Errors and memory like GunzipBounded ("flate: ...").
StatusOr<ByteBuffer> InflateBounded(std::string_view in, size_t limit);

// Decodes a v1 JSON body held in `body` (capacity() >= size() + kParsePadding), kept by the
// request.
StatusOr<PushRequest> DecodePushJsonBuffer(ByteBuffer body);

// The TooLarge status used for every decompressed-size violation.
Status TooLargeError(size_t limit);

}  // namespace skald::wire::internal
