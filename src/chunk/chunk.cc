// ChunkWriter / ChunkReader: chunk preamble, header, block index and block framing.
#include "chunk/chunk.h"

#include <algorithm>
#include <cstring>
#include <limits>

#include "chunk/gram_filter.h"
#include "core/coding.h"
#include "core/crc32c.h"

namespace skald::chunk {

namespace {

constexpr char kMagic[4] = {'S', 'K', 'C', 'H'};
// magic, version, codec, flags, header_len, index_len; version 2 adds filters_len.
constexpr size_t kPreambleSizeV1 = 16;
constexpr size_t kPreambleSizeV2 = 20;
constexpr size_t kMinBlockSize = 1 + 4 * 3 + 4;  // entry count, 4 column headers, CRC

Status Corrupt(std::string what) { return Status::Corruption("chunk: " + std::move(what)); }

}  // namespace

// ---------------------------------------------------------------------------------------------
// ChunkWriter

ChunkWriter::ChunkWriter(Codec codec, std::string tenant, uint64_t fingerprint, std::string labels)
    : codec_(codec),
      tenant_(std::move(tenant)),
      fingerprint_(fingerprint),
      labels_(std::move(labels)) {}

void ChunkWriter::set_version(uint8_t version) {
  version_ = version == 1 ? uint8_t{1} : kChunkFormatVersion;
}

void ChunkWriter::AddBlock(EncodedBlock block) {
  if (block.meta.entries == 0) return;
  compressed_bytes_ += block.bytes.size();
  entries_ += block.meta.entries;
  blocks_.push_back(std::move(block));
}

std::string ChunkWriter::Finish(std::vector<BlockMeta>* blocks) {
  int64_t min_ts = 0, max_ts = 0;
  if (!blocks_.empty()) {
    min_ts = blocks_[0].meta.min_ts;
    max_ts = blocks_[0].meta.max_ts;
    for (const EncodedBlock& b : blocks_) {
      min_ts = std::min(min_ts, b.meta.min_ts);
      max_ts = std::max(max_ts, b.meta.max_ts);
    }
  }

  std::string header;
  PutUvarint(&header, tenant_.size());
  header.append(tenant_);
  PutFixed64(&header, fingerprint_);
  PutUvarint(&header, labels_.size());
  header.append(labels_);
  PutUvarint(&header, ZigZagEncode(min_ts));
  PutUvarint(&header, ZigZagEncode(max_ts));
  PutUvarint(&header, entries_);

  std::string index;
  PutUvarint(&index, blocks_.size());
  for (const EncodedBlock& b : blocks_) {
    PutUvarint(&index, b.meta.entries);
    PutUvarint(&index, ZigZagEncode(b.meta.min_ts));
    PutUvarint(&index, static_cast<uint64_t>(b.meta.max_ts) - static_cast<uint64_t>(b.meta.min_ts));
    PutUvarint(&index, b.bytes.size());
    PutUvarint(&index, b.meta.uncompressed_size);
  }

  // Version 2: one length-prefixed filter per block, in index order.
  const bool v2 = version_ >= 2;
  std::string filters;
  std::vector<std::pair<size_t, uint32_t>> filter_spans;  // (offset in `filters`, length)
  if (v2) {
    for (const EncodedBlock& b : blocks_) {
      PutUvarint(&filters, b.filter.size());
      filter_spans.emplace_back(filters.size(), static_cast<uint32_t>(b.filter.size()));
      filters.append(b.filter);
    }
  }

  std::string out;
  out.reserve(kPreambleSizeV2 + header.size() + index.size() + filters.size() + 12 +
              compressed_bytes_);
  out.append(kMagic, 4);
  out.push_back(static_cast<char>(version_));
  out.push_back(static_cast<char>(codec_));
  out.append(2, '\0');  // flags
  PutFixed32(&out, static_cast<uint32_t>(header.size()));
  PutFixed32(&out, static_cast<uint32_t>(index.size()));
  if (v2) PutFixed32(&out, static_cast<uint32_t>(filters.size()));
  out.append(header);
  PutFixed32(&out, crc32c::Value(out));
  out.append(index);
  PutFixed32(&out, crc32c::Value(index));
  size_t filters_at = 0;
  if (v2) {
    filters_at = out.size();
    out.append(filters);
    PutFixed32(&out, crc32c::Value(filters));
  }
  if (blocks != nullptr) blocks->clear();
  for (size_t i = 0; i < blocks_.size(); i++) {
    EncodedBlock& b = blocks_[i];
    if (blocks != nullptr) {
      BlockMeta m = b.meta;
      m.offset = out.size();
      m.length = static_cast<uint32_t>(b.bytes.size());
      if (v2) {
        m.filter_offset = filters_at + filter_spans[i].first;
        m.filter_length = filter_spans[i].second;
      }
      blocks->push_back(m);
    }
    out.append(b.bytes);
  }

  blocks_.clear();
  compressed_bytes_ = 0;
  entries_ = 0;
  return out;
}

// ---------------------------------------------------------------------------------------------
// ChunkReader

StatusOr<ChunkReader> ChunkReader::Open(std::string_view bytes) {
  if (bytes.size() < kPreambleSizeV1 + 8) return Corrupt("too short");
  if (std::memcmp(bytes.data(), kMagic, 4) != 0) return Corrupt("bad magic");
  ChunkReader cr;
  cr.data_ = bytes;
  ChunkHeader& h = cr.header_;
  h.version = static_cast<uint8_t>(bytes[4]);
  if (h.version != 1 && h.version != 2) {
    return Corrupt("unsupported format version " + std::to_string(h.version));
  }
  const bool v2 = h.version == 2;
  const size_t preamble = v2 ? kPreambleSizeV2 : kPreambleSizeV1;
  if (bytes.size() < preamble + (v2 ? 12 : 8)) return Corrupt("too short");
  const auto codec = static_cast<uint8_t>(bytes[5]);
  if (codec > kMaxCodec) return Corrupt("unknown codec " + std::to_string(codec));
  h.codec = static_cast<Codec>(codec);
  if (bytes[6] != 0 || bytes[7] != 0) return Corrupt("unknown flags");
  const uint64_t header_len = DecodeFixed32(bytes.data() + 8);
  const uint64_t index_len = DecodeFixed32(bytes.data() + 12);
  const uint64_t filters_len = v2 ? DecodeFixed32(bytes.data() + 16) : 0;
  const uint64_t data_start =
      preamble + header_len + 4 + index_len + 4 + (v2 ? filters_len + 4 : 0);
  if (data_start > bytes.size()) return Corrupt("truncated header or index");

  // Header.
  const size_t header_end = preamble + static_cast<size_t>(header_len);
  if (crc32c::Value(bytes.data(), header_end) != DecodeFixed32(bytes.data() + header_end)) {
    return Corrupt("header checksum mismatch");
  }
  {
    ByteReader r(bytes.substr(preamble, header_end - preamble));
    std::string_view tenant, labels;
    uint64_t entries;
    if (!r.GetLengthPrefixed(&tenant) || !r.GetFixed64(&h.fingerprint) ||
        !r.GetLengthPrefixed(&labels) || !r.GetVarint(&h.min_ts) || !r.GetVarint(&h.max_ts) ||
        !r.GetUvarint(&entries) || !r.empty()) {
      return Corrupt("malformed header");
    }
    h.tenant.assign(tenant);
    h.labels.assign(labels);
    h.entries = entries;
    if (h.min_ts > h.max_ts) return Corrupt("header min_ts > max_ts");
  }

  // Block index.
  const size_t index_start = header_end + 4;
  const size_t index_end = index_start + static_cast<size_t>(index_len);
  if (crc32c::Value(bytes.data() + index_start, index_len) !=
      DecodeFixed32(bytes.data() + index_end)) {
    return Corrupt("block index checksum mismatch");
  }
  {
    ByteReader r(bytes.substr(index_start, index_end - index_start));
    uint64_t count;
    if (!r.GetUvarint(&count) || count > r.remaining()) return Corrupt("bad block count");
    cr.blocks_.reserve(static_cast<size_t>(count));
    uint64_t offset = data_start;
    uint64_t entries = 0;
    int64_t min_ts = 0, max_ts = 0;
    for (uint64_t i = 0; i < count; ++i) {
      uint64_t n, span, length, usize;
      int64_t bmin;
      if (!r.GetUvarint(&n) || !r.GetVarint(&bmin) || !r.GetUvarint(&span) ||
          !r.GetUvarint(&length) || !r.GetUvarint(&usize)) {
        return Corrupt("malformed block index");
      }
      constexpr uint64_t kU32 = std::numeric_limits<uint32_t>::max();
      if (n == 0 || n > kU32) return Corrupt("bad block entry count");
      if (length < kMinBlockSize || length > kU32 || usize > kU32) {
        return Corrupt("bad block size");
      }
      // max = min + span must not exceed INT64_MAX (unsigned arithmetic, no overflow).
      if (span > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) -
                     static_cast<uint64_t>(bmin)) {
        return Corrupt("bad block time range");
      }
      if (length > bytes.size() - offset) return Corrupt("block extends past end of chunk");
      BlockMeta m;
      m.entries = static_cast<uint32_t>(n);
      m.min_ts = bmin;
      m.max_ts = static_cast<int64_t>(static_cast<uint64_t>(bmin) + span);
      m.offset = offset;
      m.length = static_cast<uint32_t>(length);
      m.uncompressed_size = static_cast<uint32_t>(usize);
      cr.blocks_.push_back(m);
      offset += length;
      entries += n;
      if (i == 0 || m.min_ts < min_ts) min_ts = m.min_ts;
      if (i == 0 || m.max_ts > max_ts) max_ts = m.max_ts;
    }
    if (!r.empty()) return Corrupt("trailing bytes in block index");
    if (offset != bytes.size()) {
      return Corrupt(offset < bytes.size() ? "trailing bytes after blocks" : "truncated");
    }
    if (entries != h.entries || min_ts != h.min_ts || max_ts != h.max_ts) {
      return Corrupt("header does not match block index");
    }
  }

  // Block filters (version 2): one per block, each well-formed.
  if (v2) {
    const size_t filters_start = index_end + 4;
    const size_t filters_end = filters_start + static_cast<size_t>(filters_len);
    if (crc32c::Value(bytes.data() + filters_start, filters_len) !=
        DecodeFixed32(bytes.data() + filters_end)) {
      return Corrupt("block filters checksum mismatch");
    }
    ByteReader r(bytes.substr(filters_start, filters_end - filters_start));
    for (size_t i = 0; i < cr.blocks_.size(); i++) {
      std::string_view f;
      if (!r.GetLengthPrefixed(&f)) return Corrupt("malformed block filters");
      SKALD_RETURN_IF_ERROR(GramFilter::Parse(f).status());
      BlockMeta& m = cr.blocks_[i];
      m.filter_offset = static_cast<uint64_t>(f.data() - bytes.data());
      m.filter_length = static_cast<uint32_t>(f.size());
    }
    if (!r.empty()) return Corrupt("trailing bytes in block filters");
  }
  return cr;
}

std::string_view ChunkReader::block_filter(size_t i) const {
  const BlockMeta& m = blocks_[i];
  return data_.substr(static_cast<size_t>(m.filter_offset), m.filter_length);
}

std::string_view ChunkReader::block_bytes(size_t i) const {
  const BlockMeta& m = blocks_[i];
  return data_.substr(static_cast<size_t>(m.offset), m.length);
}

Status ChunkReader::ReadBlock(size_t i, DecodedBlock* out) const {
  return ReadColumns(i, out, BlockColumns::kAll);
}

Status ChunkReader::ReadTimestamps(size_t i, DecodedBlock* out) const {
  return ReadColumns(i, out, BlockColumns::kTimestampsOnly);
}

Status ChunkReader::ReadColumns(size_t i, DecodedBlock* out, BlockColumns cols) const {
  if (i >= blocks_.size()) {
    out->Clear();
    return Status::InvalidArgument("block index " + std::to_string(i) + " out of range");
  }
  const BlockMeta& m = blocks_[i];
  SKALD_RETURN_IF_ERROR(DecodeBlock(block_bytes(i), out, cols));
  bool ok = out->size() == m.entries && out->uncompressed_size() == m.uncompressed_size;
  if (ok) {
    auto ts = out->timestamps();
    int64_t lo = ts[0], hi = ts[0];
    for (int64_t t : ts) {
      lo = std::min(lo, t);
      hi = std::max(hi, t);
    }
    ok = lo == m.min_ts && hi == m.max_ts;
  }
  if (!ok) {
    out->Clear();
    return Corrupt("block " + std::to_string(i) + " does not match its index entry");
  }
  return Status::OK();
}

StatusOr<std::string> ReencodeChunk(std::string_view chunk, const ReencodeOptions& opts,
                                    std::vector<BlockMeta>* blocks) {
  SKALD_ASSIGN_OR_RETURN(ChunkReader reader, ChunkReader::Open(chunk));
  const ChunkHeader& h = reader.header();
  const std::vector<BlockMeta>& in = reader.blocks();
  ChunkWriter writer(opts.codec, h.tenant, h.fingerprint, h.labels);
  thread_local BlockBuilder builder;
  thread_local std::vector<DecodedBlock> group;
  thread_local std::vector<std::pair<int64_t, std::pair<uint32_t, uint32_t>>> order;
  thread_local std::vector<MetadataPair> pairs;
  builder.Reset();
  builder.set_build_filter(true);
  builder.set_min_filter_bytes(opts.min_filter_bytes);
  // Consecutive blocks are merged until they hold block_size uncompressed bytes; the merged
  // entries are put in timestamp order (stable: equal timestamps keep their order), as every
  // block of a chunk is.
  for (size_t b = 0; b < in.size();) {
    size_t e = b;
    uint64_t raw = 0;
    while (e < in.size() && raw < opts.block_size) raw += in[e++].uncompressed_size;
    if (group.size() < e - b) group.resize(e - b);
    order.clear();
    bool sorted = true;
    for (size_t k = b; k < e; ++k) {
      DecodedBlock& d = group[k - b];
      SKALD_RETURN_IF_ERROR(reader.ReadBlock(k, &d));
      for (size_t i = 0; i < d.size(); ++i) {
        if (!order.empty() && d.ts(i) < order.back().first) sorted = false;
        order.push_back({d.ts(i), {static_cast<uint32_t>(k - b), static_cast<uint32_t>(i)}});
      }
    }
    if (!sorted) {
      std::stable_sort(order.begin(), order.end(),
                       [](const auto& x, const auto& y) { return x.first < y.first; });
    }
    for (const auto& [ts, where] : order) {
      const DecodedBlock& d = group[where.first];
      const size_t i = where.second;
      pairs.clear();
      for (size_t j = 0; j < d.metadata_count(i); ++j) pairs.push_back(d.metadata(i, j));
      builder.Add(ts, d.line(i), pairs);
    }
    writer.AddBlock(builder.Finish(opts.codec, opts.level));
    b = e;
  }
  return writer.Finish(blocks);
}

StatusOr<bool> DetachFilter(std::string_view chunk, size_t max_bytes, std::string* rewritten,
                            std::string* filter) {
  SKALD_ASSIGN_OR_RETURN(ChunkReader reader, ChunkReader::Open(chunk));
  if (reader.blocks().size() != 1) return false;
  const std::string_view f = reader.block_filter(0);
  if (f.empty() || f.size() > max_bytes) return false;
  const ChunkHeader& h = reader.header();
  ChunkWriter writer(h.codec, h.tenant, h.fingerprint, h.labels);
  EncodedBlock block;
  block.meta = reader.blocks()[0];
  block.bytes.assign(reader.block_bytes(0));
  writer.AddBlock(std::move(block));
  *rewritten = writer.Finish();
  filter->assign(f);
  return true;
}

Status DecodeChunkEntries(std::string_view chunk, std::vector<OwnedEntry>* out) {
  SKALD_ASSIGN_OR_RETURN(ChunkReader reader, ChunkReader::Open(chunk));
  DecodedBlock block;
  for (size_t b = 0; b < reader.blocks().size(); ++b) {
    SKALD_RETURN_IF_ERROR(reader.ReadBlock(b, &block));
    for (size_t i = 0; i < block.size(); ++i) {
      OwnedEntry e;
      e.ts = block.ts(i);
      e.line.assign(block.line(i));
      for (size_t j = 0; j < block.metadata_count(i); ++j) {
        MetadataPair p = block.metadata(i, j);
        e.metadata.emplace_back(std::string(p.name), std::string(p.value));
      }
      out->push_back(std::move(e));
    }
  }
  return Status::OK();
}

}  // namespace skald::chunk
