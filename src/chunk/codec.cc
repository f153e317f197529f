// Codec implementations on top of snappy, lz4, zstd and libdeflate.
#include "chunk/codec.h"

#include <libdeflate.h>
#include <lz4.h>
#include <snappy.h>
#include <zstd.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <memory>

namespace skald::chunk {
namespace {

constexpr int kGzipLevel = 6;  // Go's compress/gzip default, which Loki uses

// Upper bounds on how many output bytes a codec can produce per input byte; used to reject
// absurd uncompressed sizes before allocating. Generous on purpose.
size_t MaxExpansion(Codec c) {
  switch (c) {
    case Codec::kNone:
      return 1;
    case Codec::kSnappy:
      return 32;  // a 3-byte copy op yields at most 64 bytes
    case Codec::kLz4:
      return 256;  // each extra length byte adds at most 255
    case Codec::kGzip:
      return 1040;  // deflate tops out near 1032:1
    case Codec::kZstd:
      return 40000;  // RLE block: 4 bytes -> 128 KiB
  }
  return 0;
}

struct ZstdCCtxDeleter {
  void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
};
struct ZstdDCtxDeleter {
  void operator()(ZSTD_DCtx* c) const { ZSTD_freeDCtx(c); }
};
struct DeflateCDeleter {
  void operator()(libdeflate_compressor* c) const { libdeflate_free_compressor(c); }
};
struct DeflateDDeleter {
  void operator()(libdeflate_decompressor* c) const { libdeflate_free_decompressor(c); }
};

ZSTD_CCtx* ZstdCCtx() {
  thread_local std::unique_ptr<ZSTD_CCtx, ZstdCCtxDeleter> ctx(ZSTD_createCCtx());
  return ctx.get();
}
ZSTD_DCtx* ZstdDCtx() {
  thread_local std::unique_ptr<ZSTD_DCtx, ZstdDCtxDeleter> ctx(ZSTD_createDCtx());
  return ctx.get();
}
libdeflate_compressor* DeflateC() {
  thread_local std::unique_ptr<libdeflate_compressor, DeflateCDeleter> ctx(
      libdeflate_alloc_compressor(kGzipLevel));
  return ctx.get();
}
libdeflate_decompressor* DeflateD() {
  thread_local std::unique_ptr<libdeflate_decompressor, DeflateDDeleter> ctx(
      libdeflate_alloc_decompressor());
  return ctx.get();
}

// Grows *s by n bytes (contents unspecified) and returns a pointer to the new region.
char* Grow(std::string* s, size_t n) {
  size_t old = s->size();
  s->resize(old + n);
  return s->data() + old;
}

}  // namespace

StatusOr<Codec> ParseCodec(std::string_view name) {
  if (name == "none") return Codec::kNone;
  if (name == "snappy") return Codec::kSnappy;
  if (name == "lz4" || name == "lz4-64k" || name == "lz4-256k" || name == "lz4-1M") {
    return Codec::kLz4;
  }
  if (name == "zstd") return Codec::kZstd;
  if (name == "gzip" || name == "flate") return Codec::kGzip;
  return Status::InvalidArgument("unknown chunk encoding: " + std::string(name) +
                                 " (want one of none, snappy, lz4, zstd, gzip)");
}

std::string_view CodecName(Codec c) {
  switch (c) {
    case Codec::kNone:
      return "none";
    case Codec::kSnappy:
      return "snappy";
    case Codec::kLz4:
      return "lz4";
    case Codec::kZstd:
      return "zstd";
    case Codec::kGzip:
      return "gzip";
  }
  return "unknown";
}

Status Compress(Codec c, std::string_view in, std::string* out, int level) {
  out->clear();
  return CompressAppend(c, in, out, level);
}

Status CompressAppend(Codec c, std::string_view in, std::string* out, int level) {
  const size_t old = out->size();
  switch (c) {
    case Codec::kNone:
      out->append(in);
      return Status::OK();
    case Codec::kSnappy: {
      char* dst = Grow(out, snappy::MaxCompressedLength(in.size()));
      size_t n = 0;
      snappy::RawCompress(in.data(), in.size(), dst, &n);
      out->resize(old + n);
      return Status::OK();
    }
    case Codec::kLz4: {
      if (in.size() > static_cast<size_t>(LZ4_MAX_INPUT_SIZE)) {
        return Status::InvalidArgument("lz4: input too large");
      }
      const int bound = LZ4_compressBound(static_cast<int>(in.size()));
      char* dst = Grow(out, static_cast<size_t>(bound));
      int n = LZ4_compress_default(in.data(), dst, static_cast<int>(in.size()), bound);
      if (n <= 0 && !in.empty()) {
        out->resize(old);
        return Status::Internal("lz4 compression failed");
      }
      out->resize(old + static_cast<size_t>(n));
      return Status::OK();
    }
    case Codec::kZstd: {
      ZSTD_CCtx* ctx = ZstdCCtx();
      if (ctx == nullptr) return Status::Internal("zstd: cannot allocate context");
      char* dst = Grow(out, ZSTD_compressBound(in.size()));
      size_t n =
          ZSTD_compressCCtx(ctx, dst, ZSTD_compressBound(in.size()), in.data(), in.size(),
                            level <= 0 ? kDefaultZstdLevel : std::min(level, ZSTD_maxCLevel()));
      if (ZSTD_isError(n)) {
        out->resize(old);
        return Status::Internal(std::string("zstd compression failed: ") + ZSTD_getErrorName(n));
      }
      out->resize(old + n);
      return Status::OK();
    }
    case Codec::kGzip: {
      libdeflate_compressor* ctx = DeflateC();
      if (ctx == nullptr) return Status::Internal("gzip: cannot allocate compressor");
      const size_t bound = libdeflate_gzip_compress_bound(ctx, in.size());
      char* dst = Grow(out, bound);
      size_t n = libdeflate_gzip_compress(ctx, in.data(), in.size(), dst, bound);
      if (n == 0) {
        out->resize(old);
        return Status::Internal("gzip compression failed");
      }
      out->resize(old + n);
      return Status::OK();
    }
  }
  return Status::InvalidArgument("unknown codec " + std::to_string(static_cast<int>(c)));
}

// Compares the output size a compressed stream declares in its own framing with `n`.
static Status CheckDeclaredSize(Codec c, std::string_view in, size_t n) {
  switch (c) {
    case Codec::kSnappy: {
      size_t len = 0;
      if (!snappy::GetUncompressedLength(in.data(), in.size(), &len) || len != n) {
        return Status::Corruption("snappy: bad uncompressed length");
      }
      return Status::OK();
    }
    case Codec::kZstd: {
      // Our encoder always writes the content size (docs/formats/chunk.md); a frame without
      // one is not ours.
      const unsigned long long declared = ZSTD_getFrameContentSize(in.data(), in.size());
      if (declared == ZSTD_CONTENTSIZE_ERROR || declared == ZSTD_CONTENTSIZE_UNKNOWN) {
        return Status::Corruption("zstd: frame does not declare its content size");
      }
      if (declared != n) return Status::Corruption("zstd: uncompressed size mismatch");
      return Status::OK();
    }
    case Codec::kGzip: {
      // RFC 1952 trailer: ISIZE, the input size modulo 2^32, little endian.
      if (in.size() < 18) return Status::Corruption("gzip: corrupt input");
      const auto* t = reinterpret_cast<const uint8_t*>(in.data() + in.size() - 4);
      const uint32_t isize = static_cast<uint32_t>(t[0]) | (static_cast<uint32_t>(t[1]) << 8) |
                             (static_cast<uint32_t>(t[2]) << 16) |
                             (static_cast<uint32_t>(t[3]) << 24);
      if (isize != static_cast<uint32_t>(n)) return Status::Corruption("gzip: corrupt input");
      return Status::OK();
    }
    default:
      return Status::OK();
  }
}

Status Decompress(Codec c, std::string_view in, size_t uncompressed_size, std::string* out) {
  const size_t max_exp = MaxExpansion(c);
  if (max_exp == 0) {
    return Status::Corruption("unknown codec " + std::to_string(static_cast<int>(c)));
  }
  // Reject sizes the codec cannot produce before allocating (protects against corrupt sizes).
  if (uncompressed_size > 64 && (uncompressed_size - 64) / max_exp > in.size()) {
    return Status::Corruption(std::string(CodecName(c)) + ": uncompressed size " +
                              std::to_string(uncompressed_size) + " impossible for " +
                              std::to_string(in.size()) + " input bytes");
  }
  // Codecs whose stream states its own output size must agree with the recorded size before
  // anything is allocated: otherwise a few corrupt bytes could claim gigabytes (zstd's bound
  // alone allows 40000:1).
  SKALD_RETURN_IF_ERROR(CheckDeclaredSize(c, in, uncompressed_size));
  out->resize(uncompressed_size);
  return DecompressTo(c, in, out->data(), uncompressed_size);
}

Status DecompressTo(Codec c, std::string_view in, char* out, size_t n) {
  switch (c) {
    case Codec::kNone:
      if (in.size() != n) return Status::Corruption("stored size mismatch");
      if (n > 0) std::memcpy(out, in.data(), n);
      return Status::OK();
    case Codec::kSnappy: {
      size_t len = 0;
      if (!snappy::GetUncompressedLength(in.data(), in.size(), &len) || len != n) {
        return Status::Corruption("snappy: bad uncompressed length");
      }
      if (!snappy::RawUncompress(in.data(), in.size(), out)) {
        return Status::Corruption("snappy: corrupt input");
      }
      return Status::OK();
    }
    case Codec::kLz4: {
      if (in.size() > static_cast<size_t>(std::numeric_limits<int>::max()) ||
          n > static_cast<size_t>(std::numeric_limits<int>::max())) {
        return Status::Corruption("lz4: block too large");
      }
      int r = LZ4_decompress_safe(in.data(), out, static_cast<int>(in.size()), static_cast<int>(n));
      if (r < 0 || static_cast<size_t>(r) != n) return Status::Corruption("lz4: corrupt input");
      return Status::OK();
    }
    case Codec::kZstd: {
      ZSTD_DCtx* ctx = ZstdDCtx();
      if (ctx == nullptr) return Status::Internal("zstd: cannot allocate context");
      size_t r = ZSTD_decompressDCtx(ctx, out, n, in.data(), in.size());
      if (ZSTD_isError(r)) {
        return Status::Corruption(std::string("zstd: ") + ZSTD_getErrorName(r));
      }
      if (r != n) return Status::Corruption("zstd: uncompressed size mismatch");
      return Status::OK();
    }
    case Codec::kGzip: {
      libdeflate_decompressor* ctx = DeflateD();
      if (ctx == nullptr) return Status::Internal("gzip: cannot allocate decompressor");
      // With actual_out_nbytes_ret == nullptr libdeflate requires exactly n output bytes.
      libdeflate_result r = libdeflate_gzip_decompress(ctx, in.data(), in.size(), out, n, nullptr);
      if (r != LIBDEFLATE_SUCCESS) return Status::Corruption("gzip: corrupt input");
      return Status::OK();
    }
  }
  return Status::Corruption("unknown codec " + std::to_string(static_cast<int>(c)));
}

}  // namespace skald::chunk
