// Internals shared by the line parsers (parsers.cc, json_parser.cc, logfmt_parser.cc): the
// per-parser scratch arena and the factory functions behind NewLineParser. Not a public API.
#pragma once

#include <cstddef>
#include <memory>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "logql/parsers.h"

namespace skald::logql::internal {

// Bump allocator for unescaped values and built names. Views handed out stay valid until
// Reset (the next Parse): blocks are never moved or freed while in use, and once the blocks
// have grown to a line's needs, Reserve allocates nothing.
class ScratchArena {
 public:
  void Reset() {
    block_ = 0;
    used_ = 0;
  }
  // Room for at most `n` bytes; call Commit with what was written before the next Reserve.
  char* Reserve(size_t n) {
    while (block_ < blocks_.size()) {
      if (sizes_[block_] - used_ >= n) return blocks_[block_].get() + used_;
      block_++;
      used_ = 0;
    }
    size_t size = sizes_.empty() ? 4096 : sizes_.back() * 2;
    if (size < n) size = n;
    blocks_.push_back(std::unique_ptr<char[]>(new char[size]));
    sizes_.push_back(size);
    block_ = blocks_.size() - 1;
    used_ = 0;
    return blocks_[block_].get();
  }
  std::string_view Commit(const char* p, size_t written) {
    used_ += written;
    return std::string_view(p, written);
  }
  std::string_view Copy(std::string_view a, std::string_view b = {}, std::string_view c = {}) {
    char* p = Reserve(a.size() + b.size() + c.size());
    char* w = p;
    for (std::string_view s : {a, b, c}) {
      if (!s.empty()) __builtin_memcpy(w, s.data(), s.size());
      w += s.size();
    }
    return Commit(p, w - p);
  }

 private:
  std::vector<std::unique_ptr<char[]>> blocks_;
  std::vector<size_t> sizes_;
  size_t block_ = 0;
  size_t used_ = 0;
};

// Sanitizes `key` as SanitizeLabelName does; returns a view of `key` itself when it is
// already a clean name (the common case), else a view into *arena. `is_prefix` = false skips
// the `_` before a leading digit (nested json keys, which follow a `_`).
std::string_view SanitizeKey(std::string_view key, bool is_prefix, ScratchArena* arena);

// JSON string unescaping as Go's jsonparser.Unescape does (\" \\ \/ \b \f \n \r \t \uXXXX with
// surrogate pairs). Writes at most src.size() bytes to dst; returns the length, or -1 on an
// invalid escape.
long JsonUnescape(std::string_view src, char* dst);

StatusOr<std::unique_ptr<LineParser>> NewJsonParser(const PipelineStage& stage);
StatusOr<std::unique_ptr<LineParser>> NewUnpackParser();
StatusOr<std::unique_ptr<LineParser>> NewLogfmtParser(const PipelineStage& stage);

}  // namespace skald::logql::internal
