// Index file writer and reader: see index_file.h and docs/formats/index.md.
#include "index/index_file.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <limits>
#include <numeric>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "chunk/gram_filter.h"
#include "core/coding.h"
#include "core/crc32c.h"
#include "index/postings.h"

namespace skald::index {

namespace {

constexpr std::string_view kMagic = "SKIX";
constexpr uint8_t kVersion = kIndexFormatVersion;  // written
constexpr uint8_t kOldVersion = 1;                 // still read, as is 2
constexpr uint8_t kFirstFilterVersion = 3;         // chunk refs carry a detached filter
constexpr size_t kHeaderSize = 8;
constexpr int kNumSections = 4;  // symbols, series, chunks, postings
constexpr int kSymbols = 0, kSeries = 1, kChunks = 2, kPostings = 3;
constexpr size_t kTocSize = kNumSections * 16 + 4 * 8;
constexpr size_t kFooterSize = kTocSize + 4 + 4;  // TOC, its CRC, magic
constexpr int64_t kEmptyMinTs = std::numeric_limits<int64_t>::max();
constexpr int64_t kEmptyMaxTs = std::numeric_limits<int64_t>::min();

std::string Hex(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016" PRIx64, v);
  return buf;
}

Status Corrupt(const std::string& what) { return Status::Corruption("index file: " + what); }

// Index varints must be minimally encoded: each value has exactly one encoding, so equal
// inputs give byte-identical files and a damaged byte cannot decode to the same value.
ByteReader IndexReader(std::string_view data) {
  return ByteReader(data, ByteReader::Varints::kMinimal);
}

// A uvarint that must be < limit (a symbol or series reference).
bool GetUvarintBelow(ByteReader* d, uint64_t limit, uint64_t* v) {
  return d->GetUvarint(v) && (*v < limit || d->Fail());
}

void PutList(std::string* out, const std::vector<uint64_t>& ords) {
  PutUvarint(out, ords.size());
  uint64_t prev = 0;
  for (size_t i = 0; i < ords.size(); ++i) {
    PutUvarint(out, i == 0 ? ords[i] : ords[i] - prev);
    prev = ords[i];
  }
}

// Reads a postings list of series ordinals < num_series. With `out` null it
// only validates.
bool ReadList(ByteReader* d, uint64_t num_series, Postings* out) {
  uint64_t n;
  if (!d->GetUvarint(&n) || n == 0 || n > num_series) return d->Fail();
  if (out != nullptr) out->reserve(n);
  uint64_t cur;
  if (!GetUvarintBelow(d, num_series, &cur)) return false;
  if (out != nullptr) out->push_back(cur);
  for (uint64_t i = 1; i < n; ++i) {
    uint64_t delta;
    if (!d->GetUvarint(&delta) || delta == 0 || delta >= num_series - cur) return d->Fail();
    cur += delta;
    if (out != nullptr) out->push_back(cur);
  }
  return true;
}

// One decoded chunk entry; `suffix` and `filter` view the file bytes. The key is
// `base[0:shared] + suffix`, where base is the previous key of the list (`base` 0) or symbol
// `base - 1` (version 2 on). `filter` is the detached filter (version 3 on; empty = none).
struct RawChunk {
  int64_t min_ts, max_ts;
  uint64_t entries, compressed, uncompressed;
  uint64_t base = 0, shared;
  std::string_view suffix;
  std::string_view filter;
};

// What a chunk list's decoding needs from its file.
struct ChunkContext {
  uint8_t version;
  int64_t file_min_ts;  // TOC min_ts: version 2 codes each list's first min_ts from it
  const std::vector<std::string_view>* symbols;
};

// Reads chunk `index` of a list whose previous min_ts / key length are given.
bool ReadChunk(ByteReader* d, const ChunkContext& ctx, uint64_t index, int64_t prev_min,
               uint64_t prev_key_len, RawChunk* c) {
  uint64_t ts, span, suffix_len;
  if (!d->GetUvarint(&ts)) return false;
  if (index == 0 && ctx.version == kOldVersion) {
    c->min_ts = ZigZagDecode(ts);
  } else {
    const int64_t from = index == 0 ? ctx.file_min_ts : prev_min;
    c->min_ts = static_cast<int64_t>(static_cast<uint64_t>(from) + ts);
    if (c->min_ts < from) return d->Fail();  // wrapped: not sorted (or below the file's min)
  }
  if (!d->GetUvarint(&span)) return false;
  c->max_ts = static_cast<int64_t>(static_cast<uint64_t>(c->min_ts) + span);
  if (c->max_ts < c->min_ts) return d->Fail();
  if (!d->GetUvarint(&c->entries) || c->entries > std::numeric_limits<uint32_t>::max()) {
    return d->Fail();
  }
  if (!d->GetUvarint(&c->compressed) || !d->GetUvarint(&c->uncompressed)) return false;
  uint64_t base_len = prev_key_len;
  if (ctx.version != kOldVersion) {
    if (!GetUvarintBelow(d, ctx.symbols->size() + 1, &c->base)) return false;
    if (c->base != 0) base_len = (*ctx.symbols)[c->base - 1].size();
  }
  if (!d->GetUvarint(&c->shared) || c->shared > base_len) return d->Fail();
  if (!d->GetUvarint(&suffix_len) || !d->GetBytes(suffix_len, &c->suffix)) return false;
  if (c->shared + c->suffix.size() == 0) return d->Fail();  // empty key
  if (ctx.version >= kFirstFilterVersion) {
    uint64_t filter_len;
    if (!d->GetUvarint(&filter_len) || !d->GetBytes(filter_len, &c->filter)) return false;
  }
  return true;
}

// Rebuilds a chunk's key into `key`, which holds the previous key of its list.
void BuildKey(const RawChunk& c, const std::vector<std::string_view>& symbols, std::string* key) {
  if (c.base == 0) {
    key->resize(c.shared);
  } else {
    key->assign(symbols[c.base - 1].substr(0, c.shared));
  }
  key->append(c.suffix);
}

// The part of a packed chunk's locator that names its pack (up to and including the last
// '#'), which every chunk of the pack shares; empty for other keys.
std::string_view PackPrefix(std::string_view key) {
  size_t hash = key.rfind('#');
  return hash == std::string_view::npos ? std::string_view() : key.substr(0, hash + 1);
}

}  // namespace

// ---------------------------------------------------------------------------
// Writer

void IndexFileWriter::AddSeries(uint64_t fp, const Labels& labels) {
  auto it = series_.find(fp);
  if (it == series_.end()) {
    series_.emplace(fp, PackedLabels(labels));
  } else if (!(it->second == labels) && error_.empty()) {
    error_ = "fingerprint collision: " + Hex(fp) + " is both " + it->second.ToString() + " and " +
             labels.ToString();
  }
}

void IndexFileWriter::AddSeries(uint64_t fp, PackedLabels labels) {
  auto [it, inserted] = series_.try_emplace(fp, labels);
  if (!inserted && !(it->second == labels) && error_.empty()) {
    error_ = "fingerprint collision: " + Hex(fp) + " is both " + it->second.ToString() + " and " +
             labels.ToString();
  }
}

void IndexFileWriter::AddChunk(ChunkRef ref) { chunks_.push_back(std::move(ref)); }

StatusOr<std::string> IndexFileWriter::Finish() const {
  if (!error_.empty()) return Status::InvalidArgument(error_);
  for (const ChunkRef& r : chunks_) {
    if (!series_.contains(r.fingerprint)) {
      return Status::InvalidArgument("index file: chunk for unknown series " + Hex(r.fingerprint));
    }
    if (r.min_ts > r.max_ts) {
      return Status::InvalidArgument("index file: chunk " + r.key + " has min_ts > max_ts");
    }
    if (r.key.empty()) return Status::InvalidArgument("index file: chunk with an empty key");
  }

  // Series in fingerprint order; chunks grouped by fingerprint, in the order added.
  std::vector<std::pair<uint64_t, const PackedLabels*>> series;
  series.reserve(series_.size());
  for (const auto& [fp, labels] : series_) series.emplace_back(fp, &labels);
  std::sort(series.begin(), series.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<const ChunkRef*> chunks(chunks_.size());
  for (size_t i = 0; i < chunks_.size(); ++i) chunks[i] = &chunks_[i];
  std::stable_sort(chunks.begin(), chunks.end(), [](const ChunkRef* a, const ChunkRef* b) {
    return a->fingerprint < b->fingerprint;
  });

  // Symbol table: every label name and value, sorted, unique. Each distinct string is
  // hashed once and numbered in order of appearance; each series' labels are kept as those
  // numbers (name, value, name, value...), renumbered into string order once sorted, so
  // the series and postings sections never hash a string again.
  absl::flat_hash_map<std::string_view, uint32_t> first_seen;
  std::vector<std::string_view> symbols;
  std::vector<uint32_t> label_ids;         // the series' labels in order, two ids each
  first_seen.reserve(series.size() + 64);  // high cardinality: about one new value a series
  auto intern = [&](std::string_view s) {
    auto [it, inserted] = first_seen.try_emplace(s, static_cast<uint32_t>(symbols.size()));
    if (inserted) symbols.push_back(s);
    label_ids.push_back(it->second);
  };
  for (const auto& [fp, labels] : series) {
    for (PackedLabels::Pair l : *labels) {
      intern(l.name);
      intern(l.value);
    }
  }
  // Version 2: packed chunks' keys are coded against their pack's prefix, held once as a
  // symbol; prefix_ids[i] is that symbol of chunks[i] (before renumbering), or none.
  constexpr uint32_t kNoPrefix = std::numeric_limits<uint32_t>::max();
  std::vector<uint32_t> prefix_ids(chunks.size(), kNoPrefix);
  for (size_t i = 0; i < chunks.size(); ++i) {
    std::string_view prefix = PackPrefix(chunks[i]->key);
    if (prefix.empty()) continue;
    auto [it, inserted] = first_seen.try_emplace(prefix, static_cast<uint32_t>(symbols.size()));
    if (inserted) symbols.push_back(prefix);
    prefix_ids[i] = it->second;
  }
  std::vector<uint32_t> order(symbols.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(),
            [&](uint32_t a, uint32_t b) { return symbols[a] < symbols[b]; });
  std::vector<uint32_t> rank(symbols.size());
  for (size_t i = 0; i < order.size(); ++i) rank[order[i]] = static_cast<uint32_t>(i);
  for (uint32_t& id : label_ids) id = rank[id];
  for (uint32_t& id : prefix_ids) {
    if (id != kNoPrefix) id = rank[id];
  }

  std::string out;
  size_t symbol_bytes = 0, filter_bytes = 0;
  for (std::string_view sym : symbols) symbol_bytes += sym.size() + 2;
  for (const ChunkRef* c : chunks) filter_bytes += c->filter.size();
  out.reserve(kHeaderSize + symbol_bytes + series.size() * 16 + label_ids.size() * 4 +
              chunks.size() * 64 + filter_bytes + kFooterSize);
  out.append(kMagic);
  out.push_back(static_cast<char>(kVersion));
  out.append(3, '\0');

  uint64_t sec_off[kNumSections], sec_len[kNumSections];
  auto begin_section = [&](int s) { sec_off[s] = out.size(); };
  auto end_section = [&](int s) {
    sec_len[s] = out.size() - sec_off[s];
    PutFixed32(&out, Crc32c(std::string_view(out).substr(sec_off[s], sec_len[s])));
  };

  begin_section(kSymbols);
  PutUvarint(&out, symbols.size());
  for (uint32_t id : order) PutLengthPrefixed(&out, symbols[id]);
  end_section(kSymbols);

  begin_section(kSeries);
  PutUvarint(&out, series.size());
  size_t next_id = 0;
  for (const auto& [fp, labels] : series) {
    PutFixed64(&out, fp);
    PutUvarint(&out, labels->size());
    for (size_t i = 0; i < 2 * labels->size(); ++i) PutUvarint(&out, label_ids[next_id++]);
  }
  end_section(kSeries);

  // Chunks: first each series' list (one chunk per key, sorted), and the file's time range,
  // since version 2 codes each list's first min_ts from the file's min_ts.
  int64_t min_ts = kEmptyMinTs, max_ts = kEmptyMaxTs;
  std::vector<uint32_t> kept;  // indexes into `chunks`, list after list
  std::vector<size_t> list_end(series.size());
  kept.reserve(chunks.size());
  {
    absl::flat_hash_set<std::string_view> seen;
    size_t next_chunk = 0;
    for (size_t s = 0; s < series.size(); ++s) {
      const size_t begin = kept.size();
      // Every chunk's series exists (checked above), so no chunk sorts before this one's.
      size_t end = next_chunk;
      while (end < chunks.size() && chunks[end]->fingerprint == series[s].first) ++end;
      if (end - next_chunk == 1) {
        kept.push_back(static_cast<uint32_t>(next_chunk));
      } else if (end > next_chunk) {
        seen.clear();
        for (size_t i = next_chunk; i < end; ++i) {
          if (seen.insert(chunks[i]->key).second) kept.push_back(static_cast<uint32_t>(i));
        }
      }
      next_chunk = end;
      std::sort(kept.begin() + begin, kept.end(), [&](uint32_t x, uint32_t y) {
        const ChunkRef* a = chunks[x];
        const ChunkRef* b = chunks[y];
        if (a->min_ts != b->min_ts) return a->min_ts < b->min_ts;
        if (a->max_ts != b->max_ts) return a->max_ts < b->max_ts;
        return a->key < b->key;
      });
      for (size_t k = begin; k < kept.size(); ++k) {
        min_ts = std::min(min_ts, chunks[kept[k]]->min_ts);
        max_ts = std::max(max_ts, chunks[kept[k]]->max_ts);
      }
      list_end[s] = kept.size();
    }
  }
  const uint64_t num_chunks = kept.size();

  begin_section(kChunks);
  for (size_t s = 0, k = 0; s < series.size(); ++s) {
    PutUvarint(&out, list_end[s] - k);
    const ChunkRef* prev = nullptr;
    for (; k < list_end[s]; ++k) {
      const ChunkRef* r = chunks[kept[k]];
      const int64_t from = prev == nullptr ? min_ts : prev->min_ts;
      PutUvarint(&out, static_cast<uint64_t>(r->min_ts) - static_cast<uint64_t>(from));
      PutUvarint(&out, static_cast<uint64_t>(r->max_ts) - static_cast<uint64_t>(r->min_ts));
      PutUvarint(&out, r->entries);
      PutUvarint(&out, r->compressed_bytes);
      PutUvarint(&out, r->uncompressed_bytes);
      // The key shares what it can with the previous key of the list (base 0) or, when
      // that is less, with its pack's prefix (base = symbol + 1).
      size_t shared = 0;
      if (prev != nullptr) {
        size_t limit = std::min(prev->key.size(), r->key.size());
        while (shared < limit && prev->key[shared] == r->key[shared]) ++shared;
      }
      const uint32_t prefix = prefix_ids[kept[k]];
      if (prefix != kNoPrefix && symbols[order[prefix]].size() > shared) {
        shared = symbols[order[prefix]].size();
        PutUvarint(&out, uint64_t{prefix} + 1);
      } else {
        PutUvarint(&out, 0);
      }
      PutUvarint(&out, shared);
      PutLengthPrefixed(&out, std::string_view(r->key).substr(shared));
      PutLengthPrefixed(&out, r->filter);
      prev = r;
    }
  }
  end_section(kChunks);

  // Postings over series ordinals (position in the series table): one (name, value,
  // ordinal) triple per non-empty label, sorted, gives every list in the order written
  // (symbol ids follow string order, so sorting by id sorts by name, then value).
  struct Posting {
    uint64_t name_value;  // name id << 32 | value id
    uint32_t ordinal;
    bool operator<(const Posting& o) const {
      return name_value != o.name_value ? name_value < o.name_value : ordinal < o.ordinal;
    }
    bool operator==(const Posting& o) const = default;
  };
  std::vector<Posting> postings;
  postings.reserve(label_ids.size() / 2);
  next_id = 0;
  for (uint32_t ordinal = 0; ordinal < series.size(); ++ordinal) {
    for (PackedLabels::Pair l : *series[ordinal].second) {
      const uint64_t name = label_ids[next_id], value = label_ids[next_id + 1];
      next_id += 2;
      if (!l.value.empty()) postings.push_back({name << 32 | value, ordinal});
    }
  }
  std::sort(postings.begin(), postings.end());
  postings.erase(std::unique(postings.begin(), postings.end()), postings.end());
  size_t num_names = 0;
  for (size_t i = 0; i < postings.size(); ++i) {
    if (i == 0 || postings[i].name_value >> 32 != postings[i - 1].name_value >> 32) ++num_names;
  }
  begin_section(kPostings);
  PutUvarint(&out, num_names);
  std::vector<uint64_t> all, ords;
  for (size_t begin = 0; begin < postings.size();) {
    const uint64_t name = postings[begin].name_value >> 32;
    size_t end = begin, num_values = 0;
    all.clear();
    for (; end < postings.size() && postings[end].name_value >> 32 == name; ++end) {
      if (end == begin || postings[end].name_value != postings[end - 1].name_value) ++num_values;
      all.push_back(postings[end].ordinal);
    }
    std::sort(all.begin(), all.end());
    all.erase(std::unique(all.begin(), all.end()), all.end());
    PutUvarint(&out, name);
    PutList(&out, all);
    PutUvarint(&out, num_values);
    for (size_t v = begin; v < end;) {
      ords.clear();
      const uint64_t name_value = postings[v].name_value;
      for (; v < end && postings[v].name_value == name_value; ++v)
        ords.push_back(postings[v].ordinal);
      PutUvarint(&out, name_value & 0xffffffffu);
      PutList(&out, ords);
    }
    begin = end;
  }
  end_section(kPostings);

  const size_t toc_start = out.size();
  for (int s = 0; s < kNumSections; ++s) {
    PutFixed64(&out, sec_off[s]);
    PutFixed64(&out, sec_len[s]);
  }
  PutFixed64(&out, static_cast<uint64_t>(min_ts));
  PutFixed64(&out, static_cast<uint64_t>(max_ts));
  PutFixed64(&out, series.size());
  PutFixed64(&out, num_chunks);
  PutFixed32(&out, Crc32c(std::string_view(out).substr(toc_start, kTocSize)));
  out.append(kMagic);
  return out;
}

// ---------------------------------------------------------------------------
// Reader

struct IndexFileReader::Impl {
  struct NameEntry {
    std::string_view name;
    size_t all_off;      // offset of the name's postings list in the postings section
    size_t first_value;  // index into `values`
    size_t num_values;
  };
  struct ValueEntry {
    std::string_view value;
    size_t off;  // offset of the postings list in the postings section
  };

  std::string bytes;
  std::string_view series_sec, chunks_sec, postings_sec;
  std::vector<std::string_view> symbols;
  std::vector<uint64_t> fps;       // sorted
  std::vector<size_t> label_offs;  // per series, into series_sec
  std::vector<size_t> chunk_offs;  // per series, into chunks_sec
  std::vector<NameEntry> names;    // sorted by name
  std::vector<ValueEntry> values;  // grouped per name, sorted within
  int64_t min_ts = kEmptyMinTs, max_ts = kEmptyMaxTs;
  size_t num_chunks = 0;
  size_t filter_bytes = 0;
  uint8_t version = kVersion;

  ChunkContext chunk_context() const { return {version, min_ts, &symbols}; }

  Status Parse(const uint64_t toc[kNumSections][2], uint64_t toc_series, uint64_t toc_chunks,
               int64_t toc_min, int64_t toc_max);

  const NameEntry* FindName(std::string_view name) const {
    auto it = std::lower_bound(names.begin(), names.end(), name,
                               [](const NameEntry& e, std::string_view n) { return e.name < n; });
    if (it == names.end() || it->name != name) return nullptr;
    return &*it;
  }
  const ValueEntry* FindValue(const NameEntry& ne, std::string_view value) const {
    auto first = values.begin() + ne.first_value;
    auto last = first + ne.num_values;
    auto it = std::lower_bound(first, last, value,
                               [](const ValueEntry& e, std::string_view v) { return e.value < v; });
    if (it == last || it->value != value) return nullptr;
    return &*it;
  }
  Postings ListAt(size_t off) const {
    Postings out;
    ByteReader d = IndexReader(postings_sec.substr(off));
    if (!ReadList(&d, fps.size(), &out)) return {};  // cannot happen: validated at Open
    return out;
  }
  // Index of fp in the series table, or -1.
  ptrdiff_t SeriesIndex(uint64_t fp) const {
    auto it = std::lower_bound(fps.begin(), fps.end(), fp);
    if (it == fps.end() || *it != fp) return -1;
    return it - fps.begin();
  }
};

Status IndexFileReader::Impl::Parse(const uint64_t toc[kNumSections][2], uint64_t toc_series,
                                    uint64_t toc_chunks, int64_t toc_min, int64_t toc_max) {
  std::string_view all = bytes;
  std::string_view sections[kNumSections];
  for (int s = 0; s < kNumSections; ++s) sections[s] = all.substr(toc[s][0], toc[s][1]);

  // Symbols.
  {
    ByteReader d = IndexReader(sections[kSymbols]);
    uint64_t n;
    if (!d.GetUvarint(&n) || n > d.remaining()) return Corrupt("bad symbol count");
    symbols.reserve(n);
    for (uint64_t i = 0; i < n; ++i) {
      uint64_t len;
      std::string_view s;
      if (!d.GetUvarint(&len) || !d.GetBytes(len, &s)) return Corrupt("truncated symbol table");
      if (i > 0 && !(symbols.back() < s)) return Corrupt("symbols not strictly sorted");
      symbols.push_back(s);
    }
    if (!d.empty()) return Corrupt("trailing bytes in symbol table");
  }
  const uint64_t num_symbols = symbols.size();

  // Series.
  series_sec = sections[kSeries];
  {
    ByteReader d = IndexReader(series_sec);
    uint64_t n;
    if (!d.GetUvarint(&n) || n > d.remaining() / 9) return Corrupt("bad series count");
    if (n != toc_series) return Corrupt("series count differs from TOC");
    fps.reserve(n);
    label_offs.reserve(n);
    for (uint64_t i = 0; i < n; ++i) {
      uint64_t fp, num_labels;
      if (!d.GetFixed64(&fp)) return Corrupt("truncated series table");
      if (i > 0 && fp <= fps.back()) return Corrupt("series not strictly sorted by fingerprint");
      fps.push_back(fp);
      label_offs.push_back(d.offset());
      if (!d.GetUvarint(&num_labels) || num_labels > d.remaining() / 2) {
        return Corrupt("bad label count");
      }
      uint64_t prev_name = 0;
      for (uint64_t j = 0; j < num_labels; ++j) {
        uint64_t name, value;
        if (!GetUvarintBelow(&d, num_symbols, &name) || !GetUvarintBelow(&d, num_symbols, &value)) {
          return Corrupt("bad label symbol reference");
        }
        if (j > 0 && name < prev_name) return Corrupt("labels not sorted by name");
        prev_name = name;
      }
    }
    if (!d.empty()) return Corrupt("trailing bytes in series table");
  }

  // Chunks: one list per series, in series order.
  chunks_sec = sections[kChunks];
  {
    ByteReader d = IndexReader(chunks_sec);
    // Version 2 lists start from the TOC's min_ts; the range computed here must equal it.
    const ChunkContext ctx{version, toc_min, &symbols};
    chunk_offs.reserve(fps.size());
    for (size_t i = 0; i < fps.size(); ++i) {
      chunk_offs.push_back(d.offset());
      uint64_t n;
      if (!d.GetUvarint(&n) || n > d.remaining() / 7) return Corrupt("bad chunk count");
      int64_t prev_min = 0;
      uint64_t prev_key_len = 0;
      for (uint64_t j = 0; j < n; ++j) {
        RawChunk c;
        if (!ReadChunk(&d, ctx, j, prev_min, prev_key_len, &c)) return Corrupt("bad chunk ref");
        // Probes read detached filters unchecked (chunk::GramFilter::Trusted).
        if (!c.filter.empty() && !chunk::GramFilter::Parse(c.filter).ok()) {
          return Corrupt("bad chunk filter");
        }
        filter_bytes += c.filter.size();
        prev_min = c.min_ts;
        prev_key_len = c.shared + c.suffix.size();
        min_ts = std::min(min_ts, c.min_ts);
        max_ts = std::max(max_ts, c.max_ts);
        ++num_chunks;
      }
    }
    if (!d.empty()) return Corrupt("trailing bytes in chunk section");
    if (num_chunks != toc_chunks) return Corrupt("chunk count differs from TOC");
    if (min_ts != toc_min || max_ts != toc_max) return Corrupt("time range differs from TOC");
  }

  // Postings.
  postings_sec = sections[kPostings];
  {
    ByteReader d = IndexReader(postings_sec);
    uint64_t n;
    if (!d.GetUvarint(&n) || n > d.remaining() / 5) return Corrupt("bad label name count");
    names.reserve(n);
    for (uint64_t i = 0; i < n; ++i) {
      uint64_t name_sym, num_values;
      if (!GetUvarintBelow(&d, num_symbols, &name_sym)) return Corrupt("bad label name reference");
      std::string_view name = symbols[name_sym];
      if (i > 0 && !(names.back().name < name)) return Corrupt("label names not sorted");
      NameEntry ne{name, d.offset(), values.size(), 0};
      if (!ReadList(&d, fps.size(), nullptr)) return Corrupt("bad postings list");
      if (!d.GetUvarint(&num_values) || num_values == 0 || num_values > d.remaining() / 3) {
        return Corrupt("bad label value count");
      }
      for (uint64_t j = 0; j < num_values; ++j) {
        uint64_t value_sym;
        if (!GetUvarintBelow(&d, num_symbols, &value_sym))
          return Corrupt("bad label value reference");
        std::string_view value = symbols[value_sym];
        if (value.empty()) return Corrupt("empty label value in postings");
        if (j > 0 && !(values.back().value < value)) return Corrupt("label values not sorted");
        values.push_back({value, d.offset()});
        if (!ReadList(&d, fps.size(), nullptr)) return Corrupt("bad postings list");
      }
      ne.num_values = num_values;
      names.push_back(ne);
    }
    if (!d.empty()) return Corrupt("trailing bytes in postings section");
  }
  return Status::OK();
}

namespace {

// Checks header, footer and section framing; fills the TOC fields. With
// `check_crcs` false only the framing is checked (FixChecksumsForTesting).
Status ReadFrame(std::string_view b, bool check_crcs, uint8_t* version,
                 uint64_t toc[kNumSections][2], uint64_t* toc_series, uint64_t* toc_chunks,
                 int64_t* toc_min, int64_t* toc_max) {
  if (b.size() < kHeaderSize + kFooterSize) return Corrupt("too short");
  if (b.substr(0, 4) != kMagic) return Corrupt("bad magic");
  *version = static_cast<uint8_t>(b[4]);
  if (*version < kOldVersion || *version > kVersion) {
    return Corrupt("unsupported version " + std::to_string(*version));
  }
  if (b[5] != 0 || b[6] != 0 || b[7] != 0) return Corrupt("reserved header bytes not zero");
  const size_t footer = b.size() - kFooterSize;
  if (b.substr(b.size() - 4) != kMagic) return Corrupt("bad trailing magic");
  const char* t = b.data() + footer;
  if (check_crcs && Crc32c(b.substr(footer, kTocSize)) != DecodeFixed32(t + kTocSize)) {
    return Corrupt("TOC checksum mismatch");
  }
  uint64_t expected = kHeaderSize;
  for (int s = 0; s < kNumSections; ++s) {
    toc[s][0] = DecodeFixed64(t + 16 * s);
    toc[s][1] = DecodeFixed64(t + 16 * s + 8);
    if (toc[s][0] != expected) return Corrupt("section offsets not contiguous");
    if (toc[s][1] > footer - expected || footer - expected - toc[s][1] < 4) {
      return Corrupt("section exceeds file");
    }
    const uint64_t crc_at = expected + toc[s][1];
    if (check_crcs && Crc32c(b.substr(expected, toc[s][1])) != DecodeFixed32(b.data() + crc_at)) {
      return Corrupt("section " + std::to_string(s) + " checksum mismatch");
    }
    expected = crc_at + 4;
  }
  if (expected != footer) return Corrupt("gap before TOC");
  const char* m = t + kNumSections * 16;
  *toc_min = static_cast<int64_t>(DecodeFixed64(m));
  *toc_max = static_cast<int64_t>(DecodeFixed64(m + 8));
  *toc_series = DecodeFixed64(m + 16);
  *toc_chunks = DecodeFixed64(m + 24);
  return Status::OK();
}

// PostingsSource over series ordinals of an index file.
class FileSource : public PostingsSource {
 public:
  explicit FileSource(const IndexFileReader::Impl& impl) : impl_(impl) {}

  Postings AllPostings() const override {
    Postings out(impl_.fps.size());
    std::iota(out.begin(), out.end(), uint64_t{0});
    return out;
  }
  Postings NamePostings(std::string_view name) const override {
    const auto* ne = impl_.FindName(name);
    return ne == nullptr ? Postings{} : impl_.ListAt(ne->all_off);
  }
  Postings ValuePostings(std::string_view name, std::string_view value) const override {
    const auto* ne = impl_.FindName(name);
    if (ne == nullptr) return {};
    const auto* ve = impl_.FindValue(*ne, value);
    return ve == nullptr ? Postings{} : impl_.ListAt(ve->off);
  }
  std::vector<std::string_view> Values(std::string_view name) const override {
    std::vector<std::string_view> out;
    const auto* ne = impl_.FindName(name);
    if (ne == nullptr) return out;
    out.reserve(ne->num_values);
    for (size_t i = 0; i < ne->num_values; ++i)
      out.push_back(impl_.values[ne->first_value + i].value);
    return out;
  }

 private:
  const IndexFileReader::Impl& impl_;
};

}  // namespace

StatusOr<IndexFileReader> IndexFileReader::Open(std::string bytes) {
  auto impl = std::make_shared<Impl>();
  impl->bytes = std::move(bytes);
  uint64_t toc[kNumSections][2];
  uint64_t toc_series, toc_chunks;
  int64_t toc_min, toc_max;
  SKALD_RETURN_IF_ERROR(ReadFrame(impl->bytes, true, &impl->version, toc, &toc_series, &toc_chunks,
                                  &toc_min, &toc_max));
  SKALD_RETURN_IF_ERROR(impl->Parse(toc, toc_series, toc_chunks, toc_min, toc_max));
  return IndexFileReader(std::move(impl));
}

std::vector<uint64_t> IndexFileReader::Select(const std::vector<Matcher>& matchers) const {
  Postings ords = SelectPostings(FileSource(*impl_), matchers);
  for (uint64_t& o : ords) o = impl_->fps[o];  // ordinals ascend with fingerprints
  return ords;
}

std::vector<uint64_t> IndexFileReader::SelectOrdinals(const std::vector<Matcher>& matchers) const {
  return SelectPostings(FileSource(*impl_), matchers);
}

uint64_t IndexFileReader::FingerprintAt(uint64_t ordinal) const { return impl_->fps[ordinal]; }

std::optional<Labels> IndexFileReader::LabelsOf(uint64_t fp) const {
  ptrdiff_t i = impl_->SeriesIndex(fp);
  if (i < 0) return std::nullopt;
  return LabelsAt(static_cast<uint64_t>(i));
}

Labels IndexFileReader::LabelsAt(uint64_t ordinal) const {
  ByteReader d = IndexReader(impl_->series_sec.substr(impl_->label_offs[ordinal]));
  uint64_t n;
  if (!d.GetUvarint(&n)) return Labels();  // cannot happen: validated at Open
  std::vector<Label> pairs;
  pairs.reserve(n);
  const uint64_t num_symbols = impl_->symbols.size();
  for (uint64_t j = 0; j < n; ++j) {
    uint64_t name, value;
    if (!GetUvarintBelow(&d, num_symbols, &name) || !GetUvarintBelow(&d, num_symbols, &value)) {
      return Labels();  // cannot happen: validated at Open
    }
    pairs.push_back(Label{std::string(impl_->symbols[name]), std::string(impl_->symbols[value])});
  }
  return Labels(std::move(pairs));
}

std::vector<ChunkRef> IndexFileReader::Chunks(uint64_t fp, int64_t from, int64_t through) const {
  std::vector<ChunkRef> out;
  ptrdiff_t i = impl_->SeriesIndex(fp);
  if (i >= 0) AppendChunksAt(static_cast<uint64_t>(i), from, through, &out);
  return out;
}

size_t IndexFileReader::AppendChunksAt(uint64_t ordinal, int64_t from, int64_t through,
                                       std::vector<ChunkRef>* out,
                                       ChunkSelection* selection) const {
  const uint64_t fp = impl_->fps[ordinal];
  ByteReader d = IndexReader(impl_->chunks_sec.substr(impl_->chunk_offs[ordinal]));
  uint64_t n;
  if (!d.GetUvarint(&n)) return 0;
  const ChunkContext ctx = impl_->chunk_context();
  int64_t prev_min = 0;
  std::string key;
  size_t added = 0;
  for (uint64_t j = 0; j < n; ++j) {
    RawChunk c;
    if (!ReadChunk(&d, ctx, j, prev_min, key.size(), &c)) break;  // cannot happen
    prev_min = c.min_ts;
    BuildKey(c, impl_->symbols, &key);
    if (c.min_ts > through) break;  // sorted by min_ts
    if (c.max_ts < from) continue;
    if (selection != nullptr && selection->probe != nullptr && !c.filter.empty() &&
        !(*selection->probe)(c.filter)) {
      ++selection->refuted;
      continue;
    }
    ChunkRef& ref = out->emplace_back();
    ref.fingerprint = fp;
    ref.min_ts = c.min_ts;
    ref.max_ts = c.max_ts;
    ref.entries = static_cast<uint32_t>(c.entries);
    ref.compressed_bytes = c.compressed;
    ref.uncompressed_bytes = c.uncompressed;
    ref.key = key;
    if (selection == nullptr || selection->copy_filters) ref.filter = c.filter;
    ++added;
  }
  return added;
}

bool IndexFileReader::HasChunks(uint64_t fp, int64_t from, int64_t through) const {
  ptrdiff_t i = impl_->SeriesIndex(fp);
  if (i < 0) return false;
  ByteReader d = IndexReader(impl_->chunks_sec.substr(impl_->chunk_offs[i]));
  uint64_t n;
  if (!d.GetUvarint(&n)) return false;
  const ChunkContext ctx = impl_->chunk_context();
  int64_t prev_min = 0;
  uint64_t prev_key_len = 0;
  for (uint64_t j = 0; j < n; ++j) {
    RawChunk c;
    if (!ReadChunk(&d, ctx, j, prev_min, prev_key_len, &c)) return false;
    if (c.min_ts > through) return false;
    if (c.max_ts >= from) return true;
    prev_min = c.min_ts;
    prev_key_len = c.shared + c.suffix.size();
  }
  return false;
}

std::vector<std::string> IndexFileReader::LabelNames() const {
  std::vector<std::string> out;
  out.reserve(impl_->names.size());
  for (const auto& ne : impl_->names) out.emplace_back(ne.name);
  return out;
}

std::vector<std::string> IndexFileReader::LabelValues(std::string_view name) const {
  std::vector<std::string> out;
  const auto* ne = impl_->FindName(name);
  if (ne == nullptr) return out;
  out.reserve(ne->num_values);
  for (size_t i = 0; i < ne->num_values; ++i) {
    out.emplace_back(impl_->values[ne->first_value + i].value);
  }
  return out;
}

bool IndexFileReader::Overlaps(int64_t from, int64_t through) const {
  return impl_->num_chunks > 0 && impl_->min_ts <= through && impl_->max_ts >= from;
}

int64_t IndexFileReader::min_ts() const { return impl_->min_ts; }
int64_t IndexFileReader::max_ts() const { return impl_->max_ts; }
size_t IndexFileReader::num_series() const { return impl_->fps.size(); }
size_t IndexFileReader::num_chunks() const { return impl_->num_chunks; }
size_t IndexFileReader::size_bytes() const { return impl_->bytes.size(); }
uint8_t IndexFileReader::version() const { return impl_->version; }
size_t IndexFileReader::memory_bytes() const {
  const Impl& i = *impl_;
  return sizeof(Impl) + i.bytes.capacity() + i.symbols.capacity() * sizeof(std::string_view) +
         (i.fps.capacity() + i.label_offs.capacity() + i.chunk_offs.capacity()) * 8 +
         i.names.capacity() * sizeof(Impl::NameEntry) +
         i.values.capacity() * sizeof(Impl::ValueEntry);
}
size_t IndexFileReader::filter_bytes() const { return impl_->filter_bytes; }

namespace internal {

void FixChecksumsForTesting(std::string* bytes) {
  uint64_t toc[kNumSections][2];
  uint64_t toc_series, toc_chunks;
  int64_t toc_min, toc_max;
  uint8_t version;
  if (!ReadFrame(*bytes, false, &version, toc, &toc_series, &toc_chunks, &toc_min, &toc_max).ok())
    return;
  std::string fixed;
  for (int s = 0; s < kNumSections; ++s) {
    fixed.clear();
    PutFixed32(&fixed, Crc32c(std::string_view(*bytes).substr(toc[s][0], toc[s][1])));
    bytes->replace(toc[s][0] + toc[s][1], 4, fixed);
  }
  const size_t footer = bytes->size() - kFooterSize;
  fixed.clear();
  PutFixed32(&fixed, Crc32c(std::string_view(*bytes).substr(footer, kTocSize)));
  bytes->replace(footer + kTocSize, 4, fixed);
}

}  // namespace internal
}  // namespace skald::index
