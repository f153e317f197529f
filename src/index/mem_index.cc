// MemIndex: see mem_index.h.
#include "index/mem_index.h"

#include <algorithm>
#include <cstdlib>
#include <mutex>

#include "index/postings.h"

namespace skald::index {
namespace {

template <typename Set>
Postings ToPostings(const Set& set) {
  return Postings(set.begin(), set.end());
}

}  // namespace

void MemIndex::PostingList::push_back(uint64_t fp) {
  if (size_ < cap_) {
    begin()[size_++] = fp;
    return;
  }
  if (cap_ >= (1u << 30)) std::abort();  // 2^30 streams in one shard's list: cannot happen
  const uint32_t cap = cap_ * 2;
  auto* grown = new uint64_t[cap];
  std::copy(begin(), end(), grown);
  if (cap_ > 1) delete[] heap_;
  heap_ = grown;
  cap_ = cap;
  heap_[size_++] = fp;
}

void MemIndex::PostingList::Truncate(size_t n) {
  size_ = static_cast<uint32_t>(n);
  if (cap_ <= 1 || cap_ <= 2 * size_ + 16) return;
  if (size_ <= 1) {
    const uint64_t first = size_ == 1 ? heap_[0] : 0;
    delete[] heap_;
    one_ = first;
    cap_ = 1;
    return;
  }
  auto* fit = new uint64_t[size_];
  std::copy(heap_, heap_ + size_, fit);
  delete[] heap_;
  heap_ = fit;
  cap_ = size_;
}

// PostingsSource view of one normalized shard; the caller holds the shard's lock.
class MemIndex::Source : public PostingsSource {
 public:
  explicit Source(const Shard& shard) : shard_(shard) {}

  Postings AllPostings() const override { return shard_.all.ToVector(); }

  Postings NamePostings(std::string_view name) const override {
    auto it = shard_.postings.find(name);
    if (it == shard_.postings.end()) return {};
    return it->second.all.ToVector();
  }

  Postings ValuePostings(std::string_view name, std::string_view value) const override {
    auto it = shard_.postings.find(name);
    if (it == shard_.postings.end()) return {};
    auto vit = it->second.values.find(value);
    if (vit == it->second.values.end()) return {};
    return vit->second.ToVector();
  }

  std::vector<std::string_view> Values(std::string_view name) const override {
    std::vector<std::string_view> out;
    auto it = shard_.postings.find(name);
    if (it == shard_.postings.end()) return out;
    out.reserve(it->second.values.size());
    for (const auto& [value, list] : it->second.values) out.push_back(value);
    return out;
  }

 private:
  const Shard& shard_;
};

namespace {

// Appends fp; returns true when this made a clean list dirty.
template <typename List>
bool Append(List& list, uint64_t fp) {
  const bool was = list.dirty();
  if (!was && !list.empty() && fp <= list.back()) list.set_dirty(true);
  list.push_back(fp);
  return !was && list.dirty();
}

// Marks a list dirty; returns true when it was clean.
template <typename List>
bool MarkDirty(List& list) {
  if (list.dirty()) return false;
  list.set_dirty(true);
  return true;
}

}  // namespace

void MemIndex::Add(uint64_t fp, PackedLabels shared) {
  Shard& s = ShardOf(fp);
  std::unique_lock lock(s.mu);
  auto [it, inserted] = s.series.try_emplace(fp, std::move(shared));
  if (!inserted) return;
  const PackedLabels& labels = it->second;
  // A stream removed and added again before the lists were normalized is in them twice
  // (normalizing drops the duplicate).
  Append(s.all, fp);
  for (PackedLabels::Pair l : labels) {
    if (l.value.empty()) continue;
    auto nit = s.postings.find(l.name);
    if (nit == s.postings.end()) nit = s.postings.try_emplace(std::string(l.name)).first;
    if (Append(nit->second.all, fp)) s.dirty_names.push_back(nit);
    ValueMap& values = nit->second.values;
    auto vit = values.find(l.value);
    if (vit == values.end()) vit = values.try_emplace(std::string(l.value)).first;
    if (Append(vit->second, fp)) s.dirty_values.emplace_back(nit, vit);
  }
}

void MemIndex::Remove(uint64_t fp) {
  Shard& s = ShardOf(fp);
  std::unique_lock lock(s.mu);
  auto it = s.series.find(fp);
  if (it == s.series.end()) return;
  // Normalize finds the lists holding fp (from its labels, kept until then) and drops every
  // fingerprint of them that is no longer in `series`.
  MarkDirty(s.all);
  s.removed.push_back(std::move(it->second));
  s.series.erase(it);
  s.removals = true;
}

void MemIndex::MarkRemovedLists(Shard& s) {
  if (s.removed.empty()) return;
  // Few streams removed: the lists of their labels are looked up. Many (a flush that dropped
  // most of the shard): every list is visited once instead, since a lookup per label in a
  // map of a million values costs more (it was 12% of a flush that dropped 1,000,000
  // streams).
  if (s.removed.size() * 4 >= s.series.size() + s.removed.size()) {
    for (auto nit = s.postings.begin(); nit != s.postings.end(); ++nit) {
      if (MarkDirty(nit->second.all)) s.dirty_names.push_back(nit);
      for (auto vit = nit->second.values.begin(); vit != nit->second.values.end(); ++vit) {
        if (MarkDirty(vit->second)) s.dirty_values.emplace_back(nit, vit);
      }
    }
  } else {
    for (const PackedLabels& labels : s.removed) {
      for (PackedLabels::Pair l : labels) {
        if (l.value.empty()) continue;
        auto nit = s.postings.find(l.name);
        if (nit == s.postings.end()) continue;
        if (MarkDirty(nit->second.all)) s.dirty_names.push_back(nit);
        auto vit = nit->second.values.find(l.value);
        if (vit == nit->second.values.end()) continue;
        if (MarkDirty(vit->second)) s.dirty_values.emplace_back(nit, vit);
      }
    }
  }
  s.removed.clear();
  s.removed.shrink_to_fit();
}

void MemIndex::Normalize(Shard& s) {
  MarkRemovedLists(s);
  auto fix = [&](PostingList& list) {
    if (!list.dirty()) return;
    std::sort(list.begin(), list.end());
    uint64_t* end = std::unique(list.begin(), list.end());
    if (s.removals) {
      end = std::remove_if(list.begin(), end, [&](uint64_t fp) { return !s.series.contains(fp); });
    }
    list.Truncate(static_cast<size_t>(end - list.begin()));
    list.set_dirty(false);
  };
  fix(s.all);
  for (NameMap::iterator nit : s.dirty_names) fix(nit->second.all);
  // Emptied values, then emptied names, are dropped (each value is listed once; a name
  // may be listed in both lists and with several values, so names are erased last, once).
  std::vector<NameMap::iterator> emptied;
  for (auto& [nit, vit] : s.dirty_values) {
    fix(vit->second);
    if (vit->second.empty()) {
      nit->second.values.erase(vit);
      if (nit->second.values.empty()) emptied.push_back(nit);
    }
  }
  for (NameMap::iterator nit : s.dirty_names) {
    if (nit->second.values.empty()) emptied.push_back(nit);
  }
  std::sort(emptied.begin(), emptied.end(),
            [](NameMap::iterator a, NameMap::iterator b) { return &*a < &*b; });
  emptied.erase(std::unique(emptied.begin(), emptied.end()), emptied.end());
  for (NameMap::iterator nit : emptied) s.postings.erase(nit);
  s.dirty_values.clear();
  s.dirty_names.clear();
  s.dirty_values.shrink_to_fit();
  s.dirty_names.shrink_to_fit();
  if (s.removals && s.series.size() < s.series.capacity() / 4) s.series.rehash(0);  // shrink
  s.removals = false;
}

void MemIndex::Compact() {
  for (Shard& s : shards_) {
    std::unique_lock lock(s.mu);
    if (!s.Clean() || s.removals) Normalize(s);
  }
}

template <typename F>
void MemIndex::Read(Shard& s, F&& read) {
  {
    std::shared_lock lock(s.mu);
    if (s.Clean()) {
      read(static_cast<const Shard&>(s));
      return;
    }
  }
  std::unique_lock lock(s.mu);
  Normalize(s);
  read(static_cast<const Shard&>(s));
}

std::vector<uint64_t> MemIndex::Select(const std::vector<Matcher>& matchers) const {
  // Shard k holds the fingerprints whose top 4 bits are k: shard results are sorted and
  // their ranges follow each other, so concatenating them in shard order keeps the order.
  std::vector<uint64_t> out;
  for (Shard& shard : shards_) {
    Postings part;
    Read(shard, [&](const Shard& s) { part = SelectPostings(Source(s), matchers); });
    if (out.empty()) {
      out = std::move(part);
    } else {
      out.insert(out.end(), part.begin(), part.end());
    }
  }
  return out;
}

std::optional<Labels> MemIndex::LabelsOf(uint64_t fp) const {
  const Shard& s = ShardOf(fp);
  std::shared_lock lock(s.mu);
  auto it = s.series.find(fp);
  if (it == s.series.end()) return std::nullopt;
  return it->second.ToLabels();
}

namespace {

void SortUnique(std::vector<std::string>* v) {
  std::sort(v->begin(), v->end());
  v->erase(std::unique(v->begin(), v->end()), v->end());
}

}  // namespace

std::vector<std::string> MemIndex::LabelNames() const {
  std::vector<std::string> out;
  for (Shard& shard : shards_) {
    Read(shard, [&](const Shard& s) {
      for (const auto& [name, entry] : s.postings) out.push_back(name);
    });
  }
  SortUnique(&out);
  return out;
}

std::vector<std::string> MemIndex::LabelValues(std::string_view name) const {
  std::vector<std::string> out;
  for (Shard& shard : shards_) {
    Read(shard, [&](const Shard& s) {
      auto it = s.postings.find(name);
      if (it == s.postings.end()) return;
      for (const auto& [value, list] : it->second.values) out.push_back(value);
    });
  }
  SortUnique(&out);
  return out;
}

size_t MemIndex::size() const {
  size_t n = 0;
  for (const Shard& s : shards_) {
    std::shared_lock lock(s.mu);
    n += s.series.size();
  }
  return n;
}

}  // namespace skald::index
