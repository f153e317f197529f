// MemIndex: see mem_index.h.
#include "index/mem_index.h"

#include <mutex>

#include "index/postings.h"

namespace skald::index {
namespace {

template <typename Set>
Postings ToPostings(const Set& set) {
  return Postings(set.begin(), set.end());
}

}  // namespace

// PostingsSource view of a MemIndex; the caller holds the index's lock.
class MemIndex::Source : public PostingsSource {
 public:
  explicit Source(const MemIndex& index) : index_(index) {}

  Postings AllPostings() const override { return ToPostings(index_.all_); }

  Postings NamePostings(std::string_view name) const override {
    auto it = index_.postings_.find(name);
    if (it == index_.postings_.end()) return {};
    return ToPostings(it->second.all);
  }

  Postings ValuePostings(std::string_view name, std::string_view value) const override {
    auto it = index_.postings_.find(name);
    if (it == index_.postings_.end()) return {};
    auto vit = it->second.values.find(value);
    if (vit == it->second.values.end()) return {};
    return ToPostings(vit->second);
  }

  std::vector<std::string_view> Values(std::string_view name) const override {
    std::vector<std::string_view> out;
    auto it = index_.postings_.find(name);
    if (it == index_.postings_.end()) return out;
    out.reserve(it->second.values.size());
    for (const auto& [value, fps] : it->second.values) out.push_back(value);
    return out;
  }

 private:
  const MemIndex& index_;
};

void MemIndex::Add(uint64_t fp, const Labels& labels) {
  std::unique_lock lock(mu_);
  auto [it, inserted] = series_.try_emplace(fp, labels);
  if (!inserted) return;
  all_.insert(fp);
  for (const Label& l : labels) {
    if (l.value.empty()) continue;
    NameEntry& entry = postings_[l.name];
    entry.all.insert(fp);
    entry.values[l.value].insert(fp);
  }
}

void MemIndex::Remove(uint64_t fp) {
  std::unique_lock lock(mu_);
  auto it = series_.find(fp);
  if (it == series_.end()) return;
  for (const Label& l : it->second) {
    if (l.value.empty()) continue;
    auto nit = postings_.find(l.name);
    if (nit == postings_.end()) continue;
    NameEntry& entry = nit->second;
    entry.all.erase(fp);
    auto vit = entry.values.find(l.value);
    if (vit != entry.values.end()) {
      vit->second.erase(fp);
      if (vit->second.empty()) entry.values.erase(vit);
    }
    if (entry.all.empty()) postings_.erase(nit);
  }
  all_.erase(fp);
  series_.erase(it);
}

std::vector<uint64_t> MemIndex::Select(const std::vector<Matcher>& matchers) const {
  std::shared_lock lock(mu_);
  return SelectPostings(Source(*this), matchers);
}

std::optional<Labels> MemIndex::LabelsOf(uint64_t fp) const {
  std::shared_lock lock(mu_);
  auto it = series_.find(fp);
  if (it == series_.end()) return std::nullopt;
  return it->second;
}

std::vector<std::string> MemIndex::LabelNames() const {
  std::shared_lock lock(mu_);
  std::vector<std::string> out;
  out.reserve(postings_.size());
  for (const auto& [name, entry] : postings_) out.push_back(name);
  return out;
}

std::vector<std::string> MemIndex::LabelValues(std::string_view name) const {
  std::shared_lock lock(mu_);
  std::vector<std::string> out;
  auto it = postings_.find(name);
  if (it == postings_.end()) return out;
  out.reserve(it->second.values.size());
  for (const auto& [value, fps] : it->second.values) out.push_back(value);
  return out;
}

size_t MemIndex::size() const {
  std::shared_lock lock(mu_);
  return series_.size();
}

}  // namespace skald::index
