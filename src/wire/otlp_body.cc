// DecodeOtlpBody: content type and encoding dispatch for OTLP/HTTP logs, with bounded zstd and
// LZ4-frame inflation (gzip shares push's inflater).
#include <lz4frame.h>
#include <zstd.h>

#include <algorithm>
#include <cstring>

#include "wire/otlp.h"
#include "wire/otlp_internal.h"
#include "wire/push_internal.h"

namespace skald::wire {

namespace {

using internal::ByteBuffer;

// Grows *out (geometrically, starting from a few times the input) and calls step(dst, room)
// until it reports the end. step returns the bytes it wrote, sets *done, or fails.
template <class Step>
StatusOr<ByteBuffer> InflateWith(std::string_view in, size_t limit, const char* prefix,
                                 Step&& step) {
  const size_t hard_cap = limit >= SIZE_MAX / 2 ? SIZE_MAX / 2 : limit + 1;
  size_t avail = std::min(hard_cap, std::max<size_t>(in.size() * 4, 16 << 10));
  ByteBuffer out;
  if (!out.Resize(avail)) return Status::Internal(std::string(prefix) + ": out of memory");
  size_t produced = 0;
  bool done = false;
  while (!done) {
    if (produced == avail) {
      if (avail >= hard_cap) return internal::TooLargeError(limit);
      avail = avail > hard_cap / 2 ? hard_cap : avail * 2;
      if (!out.Resize(avail)) return Status::Internal(std::string(prefix) + ": out of memory");
    }
    size_t wrote = 0;
    SKALD_RETURN_IF_ERROR(step(out.data() + produced, avail - produced, &wrote, &done));
    produced += wrote;
  }
  if (produced > limit) return internal::TooLargeError(limit);
  out.set_size(produced);
  return out;
}

StatusOr<ByteBuffer> UnzstdBounded(std::string_view in, size_t limit) {
  struct Ctx {
    ZSTD_DStream* d = ZSTD_createDStream();
    ~Ctx() { ZSTD_freeDStream(d); }
  } ctx;
  if (ctx.d == nullptr) return Status::Internal("zstd: cannot allocate a decoder");
  ZSTD_initDStream(ctx.d);
  ZSTD_inBuffer input{in.data(), in.size(), 0};
  size_t last_ret = 1;
  return InflateWith(
      in, limit, "zstd", [&](char* dst, size_t room, size_t* wrote, bool* done) -> Status {
        ZSTD_outBuffer output{dst, room, 0};
        const size_t ret = ZSTD_decompressStream(ctx.d, &output, &input);
        if (ZSTD_isError(ret)) {
          return Status::InvalidArgument(std::string("zstd: ") + ZSTD_getErrorName(ret));
        }
        *wrote = output.pos;
        last_ret = ret;
        if (input.pos == input.size && output.pos < room) {
          if (ret != 0) return Status::InvalidArgument("zstd: unexpected EOF");
          *done = true;
        }
        return Status::OK();
      });
}

StatusOr<ByteBuffer> Unlz4Bounded(std::string_view in, size_t limit) {
  struct Ctx {
    LZ4F_dctx* d = nullptr;
    ~Ctx() {
      if (d != nullptr) LZ4F_freeDecompressionContext(d);
    }
  } ctx;
  if (LZ4F_isError(LZ4F_createDecompressionContext(&ctx.d, LZ4F_VERSION))) {
    return Status::Internal("lz4: cannot allocate a decoder");
  }
  size_t in_pos = 0;
  return InflateWith(
      in, limit, "lz4", [&](char* dst, size_t room, size_t* wrote, bool* done) -> Status {
        size_t dst_size = room;
        size_t src_size = in.size() - in_pos;
        const size_t ret =
            LZ4F_decompress(ctx.d, dst, &dst_size, in.data() + in_pos, &src_size, nullptr);
        if (LZ4F_isError(ret)) {
          return Status::InvalidArgument(std::string("lz4: ") + LZ4F_getErrorName(ret));
        }
        in_pos += src_size;
        *wrote = dst_size;
        if (ret == 0 && in_pos == in.size()) {
          *done = true;
        } else if (in_pos == in.size() && dst_size < room) {
          if (ret != 0) return Status::InvalidArgument("lz4: unexpected EOF");
          *done = true;
        }
        return Status::OK();
      });
}

}  // namespace

StatusOr<PushRequest> DecodeOtlpBody(std::string_view content_type,
                                     std::string_view content_encoding, std::string body,
                                     const OtlpOptions& options, const DecodeLimits& limits) {
  enum class Enc { kIdentity, kGzip, kZstd, kLz4 } enc;
  if (content_encoding.empty()) {
    enc = Enc::kIdentity;
  } else if (content_encoding == "gzip") {
    enc = Enc::kGzip;
  } else if (content_encoding == "zstd") {
    enc = Enc::kZstd;
  } else if (content_encoding == "lz4") {
    enc = Enc::kLz4;
  } else {
    std::string msg = "unsupported content encoding ";
    msg.append(content_encoding).append(": only gzip, lz4 and zstd are supported");
    return Status::InvalidArgument(std::move(msg));
  }
  auto media = ParseMediaType(content_type);
  const bool json = media.ok() && *media == "application/json";
  const bool proto = media.ok() && *media == "application/x-protobuf";
  if (!json && !proto) {
    std::string msg = "content type: ";
    msg.append(content_type).append(" is not supported");
    return Status::InvalidArgument(std::move(msg));
  }
  const size_t limit = limits.max_decompressed_bytes;
  if (enc == Enc::kIdentity) {
    if (body.size() > limit) return internal::TooLargeError(limit);
    if (json) return DecodeOtlpJson(body, options);
    PushRequest req;
    auto& owned = internal::PushRequestAccess::body(req);
    owned = std::make_unique<std::string>(std::move(body));
    SKALD_RETURN_IF_ERROR(internal::MapOtlpProtoInto(*owned, owned->size(), options, &req));
    return req;
  }
  StatusOr<ByteBuffer> inflated = Status::Internal("unreachable");
  {
    DecompressionGate::Pass pass(limits.gate);
    switch (enc) {
      case Enc::kGzip:
        inflated = internal::GunzipBounded(body, limit);
        break;
      case Enc::kZstd:
        inflated = UnzstdBounded(body, limit);
        break;
      default:
        inflated = Unlz4Bounded(body, limit);
        break;
    }
  }
  std::string().swap(body);
  if (!inflated.ok()) return inflated.status();
  const std::string_view data(inflated->data(), inflated->size());
  if (json) return DecodeOtlpJson(data, options);
  PushRequest req;
  auto& buffer = internal::PushRequestAccess::buffer(req);
  buffer = std::move(*inflated);
  SKALD_RETURN_IF_ERROR(internal::MapOtlpProtoInto(std::string_view(buffer.data(), buffer.size()),
                                                   buffer.size(), options, &req));
  return req;
}

}  // namespace skald::wire
