// PushRequest storage, the builder, media-type parsing, body decompression and
// the DecodePushBody dispatcher (see push.h).
#include "wire/push.h"

#include <libdeflate.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "core/ascii.h"
#include "core/go_string.h"
#include "wire/push_internal.h"

namespace skald::wire {

// ---------------------------------------------------------------------------
// StringArena

StringArena::StringArena(StringArena&& o) noexcept
    : blocks_(std::move(o.blocks_)),
      cur_(o.cur_),
      left_(o.left_),
      reserved_(o.reserved_),
      last_from_current_(o.last_from_current_) {
  o.blocks_.clear();
  o.cur_ = nullptr;
  o.left_ = 0;
  o.reserved_ = 0;
  o.last_from_current_ = false;
}

StringArena& StringArena::operator=(StringArena&& o) noexcept {
  if (this != &o) {
    blocks_ = std::move(o.blocks_);
    cur_ = o.cur_;
    left_ = o.left_;
    reserved_ = o.reserved_;
    last_from_current_ = o.last_from_current_;
    o.blocks_.clear();
    o.cur_ = nullptr;
    o.left_ = 0;
    o.reserved_ = 0;
    o.last_from_current_ = false;
  }
  return *this;
}

char* StringArena::Allocate(size_t n) {
  if (n <= left_) {
    char* p = cur_;
    cur_ += n;
    left_ -= n;
    last_from_current_ = true;
    return p;
  }
  // Blocks grow with the arena (capped), so large requests need few blocks.
  size_t block = std::clamp(reserved_ / 2, kMinBlock, kMaxBlock);
  if (n > block / 4) {
    // Large allocation: a dedicated block, keep filling the current one.
    blocks_.push_back(std::make_unique_for_overwrite<char[]>(n == 0 ? 1 : n));
    reserved_ += n;
    last_from_current_ = false;
    return blocks_.back().get();
  }
  blocks_.push_back(std::make_unique_for_overwrite<char[]>(block));
  reserved_ += block;
  cur_ = blocks_.back().get() + n;
  left_ = block - n;
  last_from_current_ = true;
  return blocks_.back().get();
}

void StringArena::ReturnTail(size_t unused) {
  if (!last_from_current_) return;
  cur_ -= unused;
  left_ += unused;
}

std::string_view StringArena::Copy(std::string_view s) {
  char* p = Allocate(s.size());
  if (!s.empty()) std::memcpy(p, s.data(), s.size());
  return std::string_view(p, s.size());
}

// ---------------------------------------------------------------------------
// PushRequest

size_t PushRequest::TotalEntries() const {
  size_t n = 0;
  for (const auto& s : streams) n += s.entries.size();
  return n;
}

size_t PushRequest::OwnedBytes() const {
  return (body_ ? body_->capacity() : 0) + buffer_.capacity() + arena_.bytes_reserved();
}

// ---------------------------------------------------------------------------
// PushRequestBuilder

void PushRequestBuilder::AddStream(std::string labels) {
  PushStream s;
  s.labels = req_.arena_.Copy(labels);
  req_.streams.push_back(std::move(s));
}

void PushRequestBuilder::AddEntry(int64_t ts_ns, std::string line,
                                  std::vector<std::pair<std::string, std::string>> metadata) {
  if (req_.streams.empty()) AddStream("{}");
  PushEntry e;
  e.timestamp_ns = ts_ns;
  e.line = req_.arena_.Copy(line);
  e.metadata_begin = static_cast<uint32_t>(req_.metadata.size());
  e.metadata_count = static_cast<uint32_t>(metadata.size());
  for (const auto& [name, value] : metadata) {
    req_.metadata.push_back(MetadataPair{req_.arena_.Copy(name), req_.arena_.Copy(value)});
  }
  req_.streams.back().entries.push_back(e);
}

PushRequest PushRequestBuilder::Build() && { return std::move(req_); }

// ---------------------------------------------------------------------------
// Media types (Go mime.ParseMediaType)

namespace {

bool IsTSpecial(char c) { return std::strchr("()<>@,;:\\\"/[]?=", c) != nullptr && c != '\0'; }
bool IsTokenChar(char c) {
  auto u = static_cast<unsigned char>(c);
  return u > 0x20 && u < 0x7f && !IsTSpecial(c);
}
bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}
std::string_view TrimLeft(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  return s;
}
std::string_view Trim(std::string_view s) {
  s = TrimLeft(s);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}
// Splits the leading token off *s.
std::string_view ConsumeToken(std::string_view* s) {
  size_t i = 0;
  while (i < s->size() && IsTokenChar((*s)[i])) ++i;
  std::string_view tok = s->substr(0, i);
  s->remove_prefix(i);
  return tok;
}
// consumeValue: a token or a quoted-string. Returns false when nothing valid.
bool ConsumeValue(std::string_view* s, std::string* value) {
  value->clear();
  if (s->empty()) return false;
  if ((*s)[0] != '"') {
    std::string_view tok = ConsumeToken(s);
    value->assign(tok);
    return !tok.empty();
  }
  for (size_t i = 1; i < s->size(); ++i) {
    char c = (*s)[i];
    if (c == '"') {
      s->remove_prefix(i + 1);
      return true;
    }
    if (c == '\\' && i + 1 < s->size() && IsTSpecial((*s)[i + 1])) {
      value->push_back((*s)[i + 1]);
      ++i;
      continue;
    }
    if (c == '\r' || c == '\n') return false;
    value->push_back(c);
  }
  return false;  // no closing quote
}

}  // namespace

StatusOr<std::string> ParseMediaType(std::string_view content_type) {
  size_t semi = content_type.find(';');
  std::string_view base = content_type.substr(0, semi);
  std::string media = AsciiLower(Trim(base));
  {
    std::string_view rest = media;
    std::string_view type = ConsumeToken(&rest);
    if (type.empty()) return Status::InvalidArgument("mime: no media type");
    if (!rest.empty()) {
      if (rest[0] != '/') {
        return Status::InvalidArgument("mime: expected slash after first token");
      }
      rest.remove_prefix(1);
      std::string_view sub = ConsumeToken(&rest);
      if (sub.empty()) return Status::InvalidArgument("mime: expected token after slash");
      if (!rest.empty()) {
        return Status::InvalidArgument("mime: unexpected content after media subtype");
      }
    }
  }
  if (semi == std::string_view::npos) return media;

  std::vector<std::pair<std::string, std::string>> params;
  std::string_view v = content_type.substr(semi);
  std::string value;
  while (!v.empty()) {
    v = TrimLeft(v);
    if (v.empty()) break;
    // consumeMediaParam
    std::string_view rest = v;
    bool ok = false;
    std::string key;
    if (!rest.empty() && rest[0] == ';') {
      rest = TrimLeft(rest.substr(1));
      key = AsciiLower(ConsumeToken(&rest));
      if (!key.empty()) {
        rest = TrimLeft(rest);
        if (!rest.empty() && rest[0] == '=') {
          rest = TrimLeft(rest.substr(1));
          ok = ConsumeValue(&rest, &value);
        }
      }
    }
    if (!ok) {
      if (Trim(v) == ";") break;  // trailing semicolon
      return Status::InvalidArgument("mime: invalid media parameter");
    }
    for (const auto& [k, existing] : params) {
      if (k == key && existing != value) {
        return Status::InvalidArgument("mime: duplicate parameter name");
      }
    }
    params.emplace_back(std::move(key), value);
    v = rest;
  }
  return media;
}

// ---------------------------------------------------------------------------
// ByteBuffer

namespace internal {

namespace {
size_t PageSize() {
  static const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  return page;
}
size_t RoundUpToPage(size_t n) {
  const size_t page = PageSize();
  return (n + page - 1) / page * page;
}
}  // namespace

ByteBuffer::~ByteBuffer() { Release(); }

ByteBuffer::ByteBuffer(ByteBuffer&& o) noexcept
    : data_(std::exchange(o.data_, nullptr)),
      size_(std::exchange(o.size_, 0)),
      capacity_(std::exchange(o.capacity_, 0)),
      mapped_(std::exchange(o.mapped_, false)) {}

ByteBuffer& ByteBuffer::operator=(ByteBuffer&& o) noexcept {
  if (this != &o) {
    Release();
    data_ = std::exchange(o.data_, nullptr);
    size_ = std::exchange(o.size_, 0);
    capacity_ = std::exchange(o.capacity_, 0);
    mapped_ = std::exchange(o.mapped_, false);
  }
  return *this;
}

namespace {
// One freed heap buffer kept per thread for the next request body decoded there: push
// bodies of a few hundred KiB would otherwise go back to malloc and come out again for every
// request, paying for consolidation and fresh pages each time.
constexpr size_t kStashMax = ByteBuffer::kMapThreshold;
struct Stash {
  char* data = nullptr;
  size_t capacity = 0;
  ~Stash() { std::free(data); }
};
thread_local Stash stash;
}  // namespace

void ByteBuffer::Release() {
  if (data_ == nullptr) return;
  if (mapped_) {
    munmap(data_, capacity_);
  } else if (capacity_ <= kStashMax && capacity_ > stash.capacity) {
    std::free(stash.data);
    stash.data = data_;
    stash.capacity = capacity_;
  } else {
    std::free(data_);
  }
  data_ = nullptr;
  size_ = capacity_ = 0;
  mapped_ = false;
}

bool ByteBuffer::Resize(size_t n) {
  n = std::max(n, size_);
  if (n == 0) n = 1;
  if (mapped_) {
    const size_t bytes = RoundUpToPage(n);
    if (bytes == capacity_) return true;
    void* p = mremap(data_, capacity_, bytes, MREMAP_MAYMOVE);
    if (p == MAP_FAILED) return false;
    data_ = static_cast<char*>(p);
    capacity_ = bytes;
    return true;
  }
  if (n < kMapThreshold) {
    if (data_ == nullptr && stash.data != nullptr && stash.capacity >= n) {
      data_ = std::exchange(stash.data, nullptr);
      capacity_ = std::exchange(stash.capacity, 0);
      return true;
    }
    void* p = std::realloc(data_, n);
    if (p == nullptr) return false;
    data_ = static_cast<char*>(p);
    capacity_ = n;
    return true;
  }
  // Heap -> mapping: copies at most kMapThreshold bytes, once.
  const size_t bytes = RoundUpToPage(n);
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return false;
  if (capacity_ > 0) std::memcpy(p, data_, std::min(capacity_, n));
  std::free(data_);
  data_ = static_cast<char*>(p);
  capacity_ = bytes;
  mapped_ = true;
  return true;
}

}  // namespace internal

// ---------------------------------------------------------------------------
// DecompressionGate

DecompressionGate::DecompressionGate(size_t slots) : slots_(std::max<size_t>(slots, 1)) {}

size_t DecompressionGate::SlotsFor(size_t per_body_limit, size_t budget_bytes) {
  if (per_body_limit == 0) return 64;
  return std::clamp<size_t>(budget_bytes / per_body_limit, 1, 64);
}

size_t DecompressionGate::in_use() const {
  std::lock_guard<std::mutex> l(mu_);
  return in_use_;
}

size_t DecompressionGate::max_in_use() const {
  std::lock_guard<std::mutex> l(mu_);
  return max_in_use_;
}

DecompressionGate::Pass::Pass(DecompressionGate* gate) : gate_(gate) {
  if (gate_ == nullptr) return;
  std::unique_lock<std::mutex> l(gate_->mu_);
  gate_->cv_.wait(l, [this] { return gate_->in_use_ < gate_->slots_; });
  gate_->in_use_++;
  gate_->max_in_use_ = std::max(gate_->max_in_use_, gate_->in_use_);
}

DecompressionGate::Pass::~Pass() {
  if (gate_ == nullptr) return;
  {
    std::lock_guard<std::mutex> l(gate_->mu_);
    gate_->in_use_--;
  }
  gate_->cv_.notify_one();
}

// ---------------------------------------------------------------------------
// Decompression

namespace internal {

Status TooLargeError(size_t limit) {
  return Status::TooLarge("request body too large: decompressed size exceeds the limit of " +
                          std::to_string(limit) + " bytes");
}

namespace {

// First output buffer for an inflate of `in_size` compressed bytes: a few times the input, from
// what was received, never from a size the input claims.
size_t InitialOutputSize(size_t in_size, size_t hard_cap) {
  const size_t guess = in_size > SIZE_MAX / 4 ? SIZE_MAX : in_size * 4;
  return std::min(hard_cap, std::max<size_t>(guess, 16 << 10));
}

Status OutOfMemory(const char* prefix) {
  return Status::Internal(std::string(prefix) + ": out of memory");
}

// zlib streaming inflate into a growing buffer, bounded by `limit`.
// window_bits: 16+MAX_WBITS gzip, MAX_WBITS zlib, -MAX_WBITS raw deflate.
StatusOr<ByteBuffer> ZlibInflate(std::string_view in, int window_bits, size_t limit,
                                 const char* prefix, bool multi_member) {
  z_stream zs;
  std::memset(&zs, 0, sizeof(zs));
  if (inflateInit2(&zs, window_bits) != Z_OK) {
    return Status::Internal(std::string(prefix) + ": cannot initialise zlib");
  }
  struct Closer {
    z_stream* z;
    ~Closer() { inflateEnd(z); }
  } closer{&zs};

  // One byte above the limit is enough to detect an oversized body; the buffer
  // never grows past that (plus the parse padding).
  const size_t hard_cap =
      limit >= SIZE_MAX - kParsePadding - 1 ? SIZE_MAX - kParsePadding - 1 : limit + 1;
  ByteBuffer out;
  size_t avail = InitialOutputSize(in.size(), hard_cap);  // usable bytes (excluding padding)
  if (!out.Resize(avail + kParsePadding)) return OutOfMemory(prefix);
  size_t produced = 0;
  const auto* next_in = reinterpret_cast<const Bytef*>(in.data());
  size_t in_left = in.size();

  for (;;) {
    if (produced == avail) {
      if (avail >= hard_cap) return TooLargeError(limit);
      avail = avail > hard_cap / 2 ? hard_cap : avail * 2;
      if (!out.Resize(avail + kParsePadding)) return OutOfMemory(prefix);
    }
    const uInt in_chunk = static_cast<uInt>(std::min<size_t>(in_left, UINT_MAX));
    const uInt out_chunk = static_cast<uInt>(std::min<size_t>(avail - produced, UINT_MAX));
    zs.next_in = const_cast<Bytef*>(next_in);
    zs.avail_in = in_chunk;
    zs.next_out = reinterpret_cast<Bytef*>(out.data() + produced);
    zs.avail_out = out_chunk;
    int ret = inflate(&zs, Z_NO_FLUSH);
    size_t consumed = in_chunk - zs.avail_in;
    next_in += consumed;
    in_left -= consumed;
    produced += out_chunk - zs.avail_out;
    if (ret == Z_STREAM_END) {
      if (produced > limit) return TooLargeError(limit);
      if (multi_member && in_left > 0) {
        if (inflateReset(&zs) != Z_OK) {
          return Status::Internal(std::string(prefix) + ": cannot reset zlib");
        }
        continue;
      }
      break;
    }
    if (ret == Z_OK) continue;
    if (ret == Z_BUF_ERROR) {
      if (zs.avail_out == 0) continue;  // needs more output space
      if (in_left == 0) return Status::InvalidArgument(std::string(prefix) + ": unexpected EOF");
      continue;
    }
    if (ret == Z_MEM_ERROR) return OutOfMemory(prefix);
    std::string msg = zs.msg ? zs.msg : "corrupt input";
    if (msg == "incorrect header check" || msg == "unknown compression method" ||
        msg == "unknown header flags set" || msg == "invalid window size") {
      if (window_bits > MAX_WBITS) {
        return Status::InvalidArgument(std::string(prefix) + ": invalid header");
      }
    }
    if (msg == "incorrect data check" || msg == "incorrect length check") {
      return Status::InvalidArgument(std::string(prefix) + ": invalid checksum");
    }
    return Status::InvalidArgument(std::string(prefix) + ": corrupt input (" + msg + ")");
  }
  out.set_size(produced);
  // Give back the slack of the last doubling (mappings shrink in place).
  if (out.capacity() - produced > (64 << 10)) out.Resize(produced + kParsePadding);
  return out;
}

struct LibdeflateDecompressor {
  libdeflate_decompressor* d = libdeflate_alloc_decompressor();
  ~LibdeflateDecompressor() {
    if (d) libdeflate_free_decompressor(d);
  }
};

}  // namespace

StatusOr<ByteBuffer> GunzipBounded(std::string_view in, size_t limit) {
  // Fast path: a single member whose ISIZE trailer gives the output size, when that size is
  // within what the streaming path would allocate first anyway (a few times the input). A
  // trailer claiming more is never allocated: the streaming path grows as data really arrives.
  if (in.size() >= 18) {
    const auto* t = reinterpret_cast<const unsigned char*>(in.data() + in.size() - 4);
    const size_t isize = size_t(t[0]) | size_t(t[1]) << 8 | size_t(t[2]) << 16 | size_t(t[3]) << 24;
    const size_t hard_cap = limit >= SIZE_MAX / 2 ? SIZE_MAX / 2 : limit + 1;
    if (isize <= limit && isize <= InitialOutputSize(in.size(), hard_cap)) {
      thread_local LibdeflateDecompressor dec;
      ByteBuffer out;
      if (dec.d != nullptr && out.Resize(isize + kParsePadding)) {
        size_t actual_in = 0, actual_out = 0;
        libdeflate_result r = libdeflate_gzip_decompress_ex(dec.d, in.data(), in.size(), out.data(),
                                                            isize, &actual_in, &actual_out);
        if (r == LIBDEFLATE_SUCCESS && actual_in == in.size() && actual_out == isize) {
          out.set_size(isize);
          return out;
        }
      }
    }
  }
  // General path (multiple members, large ratios, or an error to describe).
  return ZlibInflate(in, 16 + MAX_WBITS, limit, "gzip", /*multi_member=*/true);
}

StatusOr<ByteBuffer> InflateBounded(std::string_view in, size_t limit) {
  if (in.size() >= 2) {
    const auto b0 = static_cast<unsigned char>(in[0]);
    const auto b1 = static_cast<unsigned char>(in[1]);
    if ((b0 & 0x0F) == 8 && (b0 >> 4) <= 7 && (b0 * 256 + b1) % 31 == 0) {
      auto z = ZlibInflate(in, MAX_WBITS, limit, "flate", false);
      if (z.ok() || z.status().code() == StatusCode::kTooLarge) return z;
      // Not zlib after all: fall through to raw DEFLATE.
    }
  }
  return ZlibInflate(in, -MAX_WBITS, limit, "flate", false);
}

}  // namespace internal

// ---------------------------------------------------------------------------
// DecodePushBody

StatusOr<PushRequest> DecodePushBody(std::string_view content_type,
                                     std::string_view content_encoding, std::string body,
                                     const DecodeLimits& limits, JsonDialect dialect) {
  enum class Enc { kIdentity, kGzip, kDeflate } enc;
  if (content_encoding.empty() || content_encoding == "snappy") {
    enc = Enc::kIdentity;
  } else if (content_encoding == "gzip") {
    enc = Enc::kGzip;
  } else if (content_encoding == "deflate") {
    enc = Enc::kDeflate;
  } else {
    return Status::InvalidArgument("Content-Encoding " + GoQuote(content_encoding) +
                                   " not supported");
  }
  SKALD_ASSIGN_OR_RETURN(std::string media, ParseMediaType(content_type));
  const bool json = media == "application/json";
  const size_t limit = limits.max_decompressed_bytes;
  if (enc == Enc::kIdentity) {
    if (body.size() > limit) return internal::TooLargeError(limit);
    if (json) {
      // Loki reads v0 JSON on the legacy path only when the body is not compressed.
      if (dialect == JsonDialect::kLegacy && content_encoding.empty()) {
        return DecodePushJsonLegacy(std::move(body));
      }
      return DecodePushJson(std::move(body));
    }
    return DecodePushProtobuf(body, limits);
  }
  StatusOr<internal::ByteBuffer> inflated = Status::Internal("unreachable");
  {
    DecompressionGate::Pass pass(limits.gate);
    inflated = enc == Enc::kGzip ? internal::GunzipBounded(body, limit)
                                 : internal::InflateBounded(body, limit);
  }
  std::string().swap(body);  // the compressed bytes are not needed any more
  if (!inflated.ok()) return inflated.status();
  if (json) return internal::DecodePushJsonBuffer(std::move(*inflated));
  return DecodePushProtobuf(std::string_view(inflated->data(), inflated->size()), limits);
}

}  // namespace skald::wire
