// BlockBuilder (encode) and DecodeBlock (decode) for the columnar block layout.
#include "chunk/block.h"

#include <cassert>
#include <cstring>
#include <functional>
#include <limits>

#include "core/coding.h"
#include "core/crc32c.h"

namespace skald::chunk {

namespace {

// Column order inside a block.
enum Column { kTs = 0, kLen = 1, kLines = 2, kMeta = 3, kNumColumns = 4 };

// Columns smaller than this are stored uncompressed (compressing them cannot pay off).
constexpr size_t kMinCompressBytes = 64;
// After Finish, buffers that grew past this (one huge line) are released.
constexpr size_t kShrinkAbove = 8u << 20;
constexpr size_t kInitialSlots = 64;

void MaybeShrink(std::string* s) {
  if (s->capacity() > kShrinkAbove) std::string().swap(*s);
}

Status Corrupt(std::string what) { return Status::Corruption("chunk block: " + std::move(what)); }

}  // namespace

// ---------------------------------------------------------------------------------------------
// BlockBuilder

BlockBuilder::BlockBuilder() {
  sym_off_.push_back(0);
  sym_slots_.assign(kInitialSlots, 0);
}

void BlockBuilder::Add(int64_t ts, std::string_view line, std::span<const MetadataPair> metadata) {
  if (n_ == 0) {
    PutUvarint(&ts_col_, ZigZagEncode(ts));
    min_ts_ = max_ts_ = ts;
  } else {
    // Wrapping difference; the decoder adds it back with wrapping arithmetic.
    const auto delta =
        static_cast<int64_t>(static_cast<uint64_t>(ts) - static_cast<uint64_t>(prev_ts_));
    PutUvarint(&ts_col_, ZigZagEncode(delta));
    if (ts < min_ts_) min_ts_ = ts;
    if (ts > max_ts_) max_ts_ = ts;
  }
  prev_ts_ = ts;
  PutUvarint(&len_col_, line.size());
  lines_.append(line);
  if (build_filter_) filter_.AddLine(line);
  PutUvarint(&meta_col_, metadata.size());
  for (const MetadataPair& p : metadata) {
    PutUvarint(&meta_col_, Intern(p.name));
    PutUvarint(&meta_col_, Intern(p.value));
  }
  if (!metadata.empty()) any_meta_ = true;
  ++n_;
  assert(uncompressed_bytes() < (uint64_t{1} << 32) - (1u << 20));
}

size_t BlockBuilder::uncompressed_bytes() const {
  size_t meta = 0;
  if (any_meta_) {
    meta = UvarintSize(sym_off_.size() - 1) + sym_encoded_ + meta_col_.size();
  }
  return ts_col_.size() + len_col_.size() + lines_.size() + meta;
}

uint32_t BlockBuilder::Intern(std::string_view s) {
  const size_t mask = sym_slots_.size() - 1;
  size_t i = std::hash<std::string_view>{}(s)&mask;
  while (true) {
    const uint32_t slot = sym_slots_[i];
    if (slot == 0) break;
    const uint32_t id = slot - 1;
    const uint32_t off = sym_off_[id];
    if (sym_off_[id + 1] - off == s.size() &&
        (s.empty() || std::memcmp(sym_data_.data() + off, s.data(), s.size()) == 0)) {
      return id;
    }
    i = (i + 1) & mask;
  }
  const auto id = static_cast<uint32_t>(sym_off_.size() - 1);
  sym_data_.append(s);
  sym_off_.push_back(static_cast<uint32_t>(sym_data_.size()));
  sym_encoded_ += UvarintSize(s.size()) + s.size();
  sym_slots_[i] = id + 1;
  if ((id + 1) * 2 > sym_slots_.size()) GrowSymbolTable();
  return id;
}

void BlockBuilder::GrowSymbolTable() {
  sym_slots_.assign(sym_slots_.size() * 2, 0);
  const size_t mask = sym_slots_.size() - 1;
  const size_t count = sym_off_.size() - 1;
  for (size_t id = 0; id < count; ++id) {
    std::string_view s(sym_data_.data() + sym_off_[id], sym_off_[id + 1] - sym_off_[id]);
    size_t i = std::hash<std::string_view>{}(s)&mask;
    while (sym_slots_[i] != 0) i = (i + 1) & mask;
    sym_slots_[i] = static_cast<uint32_t>(id + 1);
  }
}

void BlockBuilder::Reset() {
  n_ = 0;
  prev_ts_ = min_ts_ = max_ts_ = 0;
  ts_col_.clear();
  len_col_.clear();
  lines_.clear();
  meta_col_.clear();
  any_meta_ = false;
  filter_.Reset();
  sym_data_.clear();
  sym_off_.assign(1, 0);
  sym_encoded_ = 0;
  if (sym_slots_.size() > (1u << 16)) {
    sym_slots_.assign(kInitialSlots, 0);
    sym_slots_.shrink_to_fit();
  } else {
    std::fill(sym_slots_.begin(), sym_slots_.end(), 0);
  }
  MaybeShrink(&lines_);
  MaybeShrink(&meta_col_);
  MaybeShrink(&sym_data_);
  MaybeShrink(&meta_scratch_);
  for (std::string& c : comp_) MaybeShrink(&c);
}

EncodedBlock BlockBuilder::Finish(Codec codec, int level) {
  std::string_view raw[kNumColumns] = {ts_col_, len_col_, lines_, {}};
  if (any_meta_) {
    meta_scratch_.clear();
    const size_t nsym = sym_off_.size() - 1;
    PutUvarint(&meta_scratch_, nsym);
    for (size_t k = 0; k < nsym; ++k) {
      PutUvarint(&meta_scratch_, sym_off_[k + 1] - sym_off_[k]);
      meta_scratch_.append(sym_data_, sym_off_[k], sym_off_[k + 1] - sym_off_[k]);
    }
    meta_scratch_.append(meta_col_);
    raw[kMeta] = meta_scratch_;
  }

  Codec used[kNumColumns];
  std::string_view stored[kNumColumns];
  size_t total_raw = 0, total_stored = 0;
  for (int k = 0; k < kNumColumns; ++k) {
    used[k] = Codec::kNone;
    stored[k] = raw[k];
    if (codec != Codec::kNone && raw[k].size() >= kMinCompressBytes) {
      comp_[k].clear();
      if (CompressAppend(codec, raw[k], &comp_[k], level).ok() && comp_[k].size() < raw[k].size()) {
        used[k] = codec;
        stored[k] = comp_[k];
      }
    }
    total_raw += raw[k].size();
    total_stored += stored[k].size();
  }

  EncodedBlock b;
  std::string& out = b.bytes;
  out.reserve(total_stored + 64);
  PutUvarint(&out, n_);
  for (int k = 0; k < kNumColumns; ++k) {
    out.push_back(static_cast<char>(used[k]));
    PutUvarint(&out, raw[k].size());
    PutUvarint(&out, stored[k].size());
  }
  for (int k = 0; k < kNumColumns; ++k) out.append(stored[k]);
  PutFixed32(&out, crc32c::Value(out));

  b.meta.min_ts = min_ts_;
  b.meta.max_ts = max_ts_;
  b.meta.entries = static_cast<uint32_t>(n_);
  b.meta.offset = 0;
  b.meta.length = static_cast<uint32_t>(out.size());
  b.meta.uncompressed_size = static_cast<uint32_t>(total_raw);
  if (build_filter_ && lines_.size() >= min_filter_bytes_) filter_.Finish(&b.filter);
  Reset();
  return b;
}

// ---------------------------------------------------------------------------------------------
// DecodedBlock / DecodeBlock

void DecodedBlock::Clear() {
  n_ = 0;
  uncompressed_size_ = 0;
  lines_raw_ = meta_raw_ = 0;
  has_lines_ = has_lengths_ = has_meta_ = false;
  ts_.clear();
  offsets_.clear();
  lines_ext_ = nullptr;
  lines_len_ = 0;
  meta_ext_ = nullptr;
  syms_.clear();
  meta_off_.clear();
  meta_ids_.clear();
}

// The column decoders behind DecodeBlock (a friend of DecodedBlock).
struct BlockDecoder {
  struct Section {
    Codec codec = Codec::kNone;
    uint64_t raw = 0;
    std::string_view data;
  };
  // LEN -> out->offsets_ (n+1 offsets adding up to lines_len).
  static Status Lengths(const Section& len, uint64_t lines_len, uint64_t n, DecodedBlock* out);
  // META -> symbol table and per-entry pairs.
  static Status Metadata(const Section& meta, uint64_t n, DecodedBlock* out);
};

namespace {

using Section = BlockDecoder::Section;

// Returns the decoded bytes of a column: the stored bytes themselves when uncompressed,
// else decompressed into *buf.
Status Materialize(const Section& s, std::string* buf, std::string_view* out) {
  if (s.codec == Codec::kNone) {
    *out = s.data;
    return Status::OK();
  }
  Status st = Decompress(s.codec, s.data, static_cast<size_t>(s.raw), buf);
  if (!st.ok()) return Status(st.code(), "chunk block: " + st.message());
  *out = *buf;
  return Status::OK();
}

}  // namespace

Status DecodeBlock(std::string_view bytes, DecodedBlock* out, BlockColumns columns) {
  out->Clear();
  if (bytes.size() < 4 + 1 + kNumColumns * 3) return Corrupt("too short");
  const std::string_view body = bytes.substr(0, bytes.size() - 4);
  const uint32_t want_crc = DecodeFixed32(bytes.data() + body.size());
  if (crc32c::Value(body) != want_crc) return Corrupt("checksum mismatch");

  ByteReader r(body);
  uint64_t n;
  if (!r.GetUvarint(&n)) return Corrupt("bad entry count");
  Section sec[kNumColumns];
  uint64_t total_raw = 0;
  uint64_t stored_len[kNumColumns];
  for (int k = 0; k < kNumColumns; ++k) {
    uint8_t c;
    if (!r.GetByte(&c) || !r.GetUvarint(&sec[k].raw) || !r.GetUvarint(&stored_len[k])) {
      return Corrupt("truncated column header");
    }
    if (c > kMaxCodec) return Corrupt("unknown codec " + std::to_string(c));
    sec[k].codec = static_cast<Codec>(c);
    if (sec[k].raw > std::numeric_limits<uint32_t>::max()) return Corrupt("column too large");
    total_raw += sec[k].raw;
    if (sec[k].codec == Codec::kNone && stored_len[k] != sec[k].raw) {
      return Corrupt("uncompressed column size mismatch");
    }
  }
  if (total_raw > std::numeric_limits<uint32_t>::max()) return Corrupt("block too large");
  for (int k = 0; k < kNumColumns; ++k) {
    if (stored_len[k] > r.remaining() ||
        !r.GetBytes(static_cast<size_t>(stored_len[k]), &sec[k].data)) {
      return Corrupt("truncated column data");
    }
  }
  if (!r.empty()) return Corrupt("trailing bytes");
  // Every entry takes at least one byte in the timestamp and length columns.
  if (n > sec[kTs].raw || n > sec[kLen].raw) return Corrupt("entry count exceeds columns");
  if (n == 0 && total_raw != 0) return Corrupt("data in empty block");
  out->uncompressed_size_ = total_raw;
  out->lines_raw_ = sec[kLines].raw;
  out->meta_raw_ = sec[kMeta].raw;

  // Timestamps.
  std::string_view col;
  SKALD_RETURN_IF_ERROR(Materialize(sec[kTs], &out->scratch_, &col));
  out->ts_.resize(static_cast<size_t>(n));
  {
    const char* p = col.data();
    const char* end = p + col.size();
    uint64_t prev = 0;
    for (size_t i = 0; i < n; ++i) {
      uint64_t z;
      if (!GetUvarint(&p, end, &z)) return Corrupt("bad timestamp");
      // First value is absolute, the rest are deltas; wrapping add mirrors the encoder.
      prev += static_cast<uint64_t>(ZigZagDecode(z));
      out->ts_[i] = static_cast<int64_t>(prev);
    }
    if (p != end) return Corrupt("timestamp column length mismatch");
  }
  // Line lengths -> offsets.
  if (HasColumns(columns, BlockColumns::kLengths)) {
    SKALD_RETURN_IF_ERROR(BlockDecoder::Lengths(sec[kLen], sec[kLines].raw, n, out));
  }

  // Line bytes.
  if (HasColumns(columns, BlockColumns::kLines)) {
    if (sec[kLines].codec == Codec::kNone) {
      out->lines_ext_ = sec[kLines].data.data();
    } else {
      SKALD_RETURN_IF_ERROR(Materialize(sec[kLines], &out->lines_buf_, &col));
    }
    out->lines_len_ = static_cast<size_t>(sec[kLines].raw);
    out->has_lines_ = true;
  }

  // Structured metadata.
  if (HasColumns(columns, BlockColumns::kMetadata) && sec[kMeta].raw != 0) {
    SKALD_RETURN_IF_ERROR(BlockDecoder::Metadata(sec[kMeta], n, out));
  }
  out->n_ = static_cast<size_t>(n);
  return Status::OK();
}

Status BlockDecoder::Lengths(const Section& len, uint64_t lines_len, uint64_t n,
                             DecodedBlock* out) {
  std::string_view col;
  SKALD_RETURN_IF_ERROR(Materialize(len, &out->scratch_, &col));
  out->offsets_.resize(static_cast<size_t>(n) + 1);
  {
    const char* p = col.data();
    const char* end = p + col.size();
    uint64_t sum = 0;
    out->offsets_[0] = 0;
    for (size_t i = 0; i < n; ++i) {
      uint64_t len;
      if (!GetUvarint(&p, end, &len)) return Corrupt("bad line length");
      if (len > lines_len - sum) return Corrupt("line lengths exceed line bytes");
      sum += len;
      out->offsets_[i + 1] = static_cast<uint32_t>(sum);
    }
    if (p != end) return Corrupt("length column size mismatch");
    if (sum != lines_len) return Corrupt("line lengths do not add up");
  }
  out->has_lengths_ = true;
  return Status::OK();
}

Status BlockDecoder::Metadata(const Section& sec, uint64_t n, DecodedBlock* out) {
  {
    std::string_view meta;
    if (sec.codec == Codec::kNone) {
      out->meta_ext_ = sec.data.data();
      meta = sec.data;
    } else {
      SKALD_RETURN_IF_ERROR(Materialize(sec, &out->meta_buf_, &meta));
    }
    ByteReader m(meta);
    uint64_t nsym;
    if (!m.GetUvarint(&nsym) || nsym > m.remaining()) return Corrupt("bad symbol count");
    for (uint64_t k = 0; k < nsym; ++k) {
      std::string_view s;
      if (!m.GetLengthPrefixed(&s)) return Corrupt("bad symbol");
      out->syms_.emplace_back(static_cast<uint32_t>(s.data() - meta.data()),
                              static_cast<uint32_t>(s.size()));
    }
    out->meta_off_.resize(static_cast<size_t>(n) + 1);
    out->meta_off_[0] = 0;
    for (size_t i = 0; i < n; ++i) {
      uint64_t pairs;
      if (!m.GetUvarint(&pairs) || pairs > m.remaining() / 2) return Corrupt("bad pair count");
      for (uint64_t j = 0; j < 2 * pairs; ++j) {
        uint64_t id;
        if (!m.GetUvarint(&id) || id >= nsym) return Corrupt("bad symbol reference");
        out->meta_ids_.push_back(static_cast<uint32_t>(id));
      }
      out->meta_off_[i + 1] = static_cast<uint32_t>(out->meta_ids_.size() / 2);
    }
    if (!m.empty()) return Corrupt("metadata column size mismatch");
    out->has_meta_ = true;
  }
  return Status::OK();
}

}  // namespace skald::chunk
