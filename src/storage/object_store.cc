// Key validation shared by all object stores.
#include "storage/object_store.h"

#include <string>

namespace skald::storage {
namespace {

Status CheckSegment(std::string_view key, std::string_view seg) {
  if (seg.empty()) {
    return Status::InvalidArgument("object key '" + std::string(key) + "' has an empty segment");
  }
  if (seg == "." || seg == "..") {
    return Status::InvalidArgument("object key '" + std::string(key) + "' has a '" +
                                   std::string(seg) + "' segment");
  }
  if (seg.substr(0, kReservedSegmentPrefix.size()) == kReservedSegmentPrefix) {
    return Status::InvalidArgument("object key '" + std::string(key) +
                                   "' has a segment with the reserved prefix '" +
                                   std::string(kReservedSegmentPrefix) + "'");
  }
  return Status::OK();
}

Status CheckCommon(std::string_view key) {
  if (key.find('\0') != std::string_view::npos) {
    return Status::InvalidArgument("object key contains a NUL byte");
  }
  if (!key.empty() && key.front() == '/') {
    return Status::InvalidArgument("object key '" + std::string(key) + "' is absolute");
  }
  return Status::OK();
}

}  // namespace

Status ValidateKey(std::string_view key) {
  if (key.empty()) return Status::InvalidArgument("object key is empty");
  SKALD_RETURN_IF_ERROR(CheckCommon(key));
  size_t start = 0;
  while (true) {
    size_t slash = key.find('/', start);
    std::string_view seg =
        key.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    SKALD_RETURN_IF_ERROR(CheckSegment(key, seg));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return Status::OK();
}

Status ValidateKeyPrefix(std::string_view prefix) {
  SKALD_RETURN_IF_ERROR(CheckCommon(prefix));
  size_t start = 0;
  while (true) {
    size_t slash = prefix.find('/', start);
    if (slash == std::string_view::npos) break;  // last (partial) segment is free
    SKALD_RETURN_IF_ERROR(CheckSegment(prefix, prefix.substr(start, slash - start)));
    start = slash + 1;
  }
  return Status::OK();
}

Status ObjectStore::PutParts(std::string_view key, std::span<const std::string_view> parts) {
  size_t total = 0;
  for (std::string_view p : parts) total += p.size();
  std::string data;
  data.reserve(total);
  for (std::string_view p : parts) data.append(p);
  return Put(key, data);
}

StatusOr<std::string> ObjectStore::GetRange(std::string_view key, uint64_t offset,
                                            uint64_t length) {
  SKALD_ASSIGN_OR_RETURN(std::string all, Get(key));
  if (offset > all.size() || length > all.size() - offset) {
    return Status::Corruption("object " + std::string(key) + ": range " + std::to_string(offset) +
                              "+" + std::to_string(length) + " past its end (" +
                              std::to_string(all.size()) + " bytes)");
  }
  if (offset == 0 && length == all.size()) return all;
  return all.substr(static_cast<size_t>(offset), static_cast<size_t>(length));
}

StatusOr<SharedBytes> ObjectStore::GetRangeShared(std::string_view key, uint64_t offset,
                                                  uint64_t length) {
  SKALD_ASSIGN_OR_RETURN(std::string bytes, GetRange(key, offset, length));
  auto owner = std::make_shared<const std::string>(std::move(bytes));
  const std::string_view view(*owner);
  return SharedBytes{std::move(owner), view};
}

}  // namespace skald::storage
