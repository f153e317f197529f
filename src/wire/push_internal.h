// Internal helpers shared by the push codec translation units (not a public API).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "wire/push.h"
#include "core/status.h"

namespace skald::wire::internal {

// Grants the decoders access to a PushRequest's owned storage.
struct PushRequestAccess {
  static std::unique_ptr<std::string>& body(PushRequest& r) { return r.body_; }
  static std::unique_ptr<char[]>& buffer(PushRequest& r) { return r.buffer_; }
  static size_t& buffer_size(PushRequest& r) { return r.buffer_size_; }
  static StringArena& arena(PushRequest& r) { return r.arena_; }
};

// Parses a logproto.PushRequest from [data, data + size), which must stay owned
// by *req (or outlive it), appending streams/metadata to *req.
Status DecodeProtoInto(const char* data, size_t size, PushRequest* req);

// Decompresses a gzip body (one or more members). Output above `limit` bytes ->
// TooLarge; corrupt or truncated input -> InvalidArgument "gzip: ...".
StatusOr<std::string> GunzipBounded(std::string_view in, size_t limit);
// Decompresses raw DEFLATE, or zlib-wrapped DEFLATE when the input starts with a
// valid zlib header. Errors like GunzipBounded ("flate: ...").
StatusOr<std::string> InflateBounded(std::string_view in, size_t limit);

// The TooLarge status used for every decompressed-size violation.
Status TooLargeError(size_t limit);

}  // namespace skald::wire::internal
