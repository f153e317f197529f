// FsObjectStore: see fs_object_store.h.
#include "storage/fs_object_store.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <utility>

namespace skald::storage {
namespace {

// How often Put retries when a concurrent Delete pruned the directory it was
// about to write into.
constexpr int kMaxPutAttempts = 16;

// Temporary files of versions before the prefix moved out of the tenant-ID character set. Only
// file names are matched (tenant IDs name directories, never files), so a tenant whose ID starts
// like this keeps its objects; leftovers of a crash under the old name are still cleaned up.
constexpr std::string_view kLegacyTempFilePrefix = ".skald-tmp-";

// REQUIRES: `name` is a regular file's name.
bool IsTempName(std::string_view name) {
  return name.substr(0, kReservedSegmentPrefix.size()) == kReservedSegmentPrefix ||
         name.substr(0, kLegacyTempFilePrefix.size()) == kLegacyTempFilePrefix;
}

// Walks `dir_path` (whose key prefix is `key_prefix`, "" or ending in '/')
// recursively, calling on_file(key, path, is_temp) for files whose key may
// start with `want_prefix`, descending only into directories that can contain
// such keys. A directory that vanishes concurrently is skipped.
template <typename OnFile>
Status Walk(FileSystem* fs, const std::string& dir_path, const std::string& key_prefix,
            std::string_view want_prefix, OnFile&& on_file) {
  auto listed = fs->ListDir(dir_path);
  if (!listed.ok()) {
    return listed.status().code() == StatusCode::kNotFound ? Status::OK() : listed.status();
  }
  std::vector<std::pair<std::string, std::string>> subdirs;  // (key prefix, path)
  for (const DirEntry& e : *listed) {
    std::string key = key_prefix + e.name;
    std::string path = JoinPath(dir_path, e.name);
    if (!e.is_dir) {
      if (IsTempName(e.name)) {
        on_file(key, path, /*is_temp=*/true);
      } else if (std::string_view(key).substr(0, want_prefix.size()) == want_prefix) {
        on_file(key, path, /*is_temp=*/false);
      }
      continue;
    }
    key.push_back('/');
    std::string_view k = key;
    if (k.substr(0, want_prefix.size()) == want_prefix || want_prefix.substr(0, k.size()) == k) {
      subdirs.emplace_back(std::move(key), std::move(path));
    }
  }
  for (auto& [sub_key, sub_path] : subdirs) {
    SKALD_RETURN_IF_ERROR(Walk(fs, sub_path, sub_key, want_prefix, on_file));
  }
  return Status::OK();
}

uint64_t RandomSeed() {
  uint64_t seed = static_cast<uint64_t>(::getpid()) << 32;
  seed ^= static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  try {
    std::random_device rd;
    seed ^= (static_cast<uint64_t>(rd()) << 32) ^ rd();
  } catch (...) {
    // No entropy source: pid and clock are unique enough for temp names.
  }
  return seed;
}

// True when `path` exists and is not a directory (an object where a directory of the key's
// prefix should be). Only asked after a failure, so listing a directory here is cheap
// enough.
bool IsNonDirectory(FileSystem* fs, const std::string& path) {
  return fs->Exists(path).ok() && !fs->ListDir(path).ok();
}

enum class MkdirResult { kOk, kRetry, kError };

// Creates the parent directories of `key` below `root`. Appends to
// `dirs_to_sync` the parent of every directory it created. kRetry when a
// component vanished underneath us (a concurrent Delete pruned it).
MkdirResult MakeParents(FileSystem* fs, const std::string& root, std::string_view key,
                        std::vector<std::string>* dirs_to_sync, Status* error) {
  size_t slash = 0;
  while ((slash = key.find('/', slash)) != std::string_view::npos) {
    std::string path = root + "/";
    path.append(key.substr(0, slash));
    ++slash;
    Status exists = fs->Exists(path);
    if (exists.ok()) {
      // A file in the way shows up when the temp file is created below it.
      continue;
    }
    if (exists.code() != StatusCode::kNotFound) {
      *error = exists;
      return MkdirResult::kError;
    }
    Status made = fs->CreateDir(path);
    if (made.ok()) {
      dirs_to_sync->push_back(ParentDir(path));
      continue;
    }
    if (made.code() == StatusCode::kNotFound) {
      if (IsNonDirectory(fs, ParentDir(path))) {
        *error = Status::IOError("create directory " + path + ": a prefix of the key is an object");
        return MkdirResult::kError;
      }
      return MkdirResult::kRetry;
    }
    *error = made;
    return MkdirResult::kError;
  }
  return MkdirResult::kOk;
}

}  // namespace

FsObjectStore::FsObjectStore(std::string root, FileSystem* fs)
    : root_(std::move(root)), fs_(fs), temp_seed_(RandomSeed()) {}

StatusOr<std::unique_ptr<FsObjectStore>> FsObjectStore::Open(std::string root_dir, FileSystem* fs) {
  if (root_dir.empty()) return Status::InvalidArgument("object store root directory is empty");
  while (root_dir.size() > 1 && root_dir.back() == '/') root_dir.pop_back();
  // The root and any parent Open creates must survive a power cut like the objects below
  // them: note which are missing, create them, then sync the entries that name them.
  std::vector<std::string> created;
  for (std::string dir = root_dir; fs->Exists(dir).code() == StatusCode::kNotFound;) {
    created.push_back(dir);
    std::string parent = ParentDir(dir);
    if (parent == dir || parent == "." || parent == "/") break;
    dir = std::move(parent);
  }
  SKALD_RETURN_IF_ERROR(CreateDirs(fs, root_dir));
  auto listed = fs->ListDir(root_dir);  // a directory we can read
  if (!listed.ok()) {
    return Status::IOError("open object store " + root_dir + ": " + listed.status().message());
  }
  for (const std::string& dir : created) SKALD_RETURN_IF_ERROR(fs->SyncDir(ParentDir(dir)));

  // Remove temporary files of writes a crash interrupted.
  Status cleanup;
  SKALD_RETURN_IF_ERROR(
      Walk(fs, root_dir, "", "", [&](const std::string&, const std::string& path, bool is_temp) {
        if (!is_temp || !cleanup.ok()) return;
        Status s = fs->RemoveFile(path);
        if (!s.ok() && s.code() != StatusCode::kNotFound) {
          cleanup = Status::IOError("remove stale temporary file: " + s.message());
        }
      }));
  SKALD_RETURN_IF_ERROR(cleanup);
  return std::unique_ptr<FsObjectStore>(new FsObjectStore(std::move(root_dir), fs));
}

std::string FsObjectStore::PathOf(std::string_view key) const {
  std::string path = root_;
  path.push_back('/');
  path.append(key);
  return path;
}

std::string FsObjectStore::NextTempName() {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%016llx-%llx", static_cast<unsigned long long>(temp_seed_),
                static_cast<unsigned long long>(temp_counter_.fetch_add(1)));
  std::string name(kReservedSegmentPrefix);
  name.append(buf);
  return name;
}

Status FsObjectStore::Put(std::string_view key, std::string_view data) {
  return PutParts(key, std::span<const std::string_view>(&data, 1));
}

Status FsObjectStore::PutParts(std::string_view key, std::span<const std::string_view> parts) {
  SKALD_RETURN_IF_ERROR(ValidateKey(key));
  const std::string path = PathOf(key);
  const std::string dir = ParentDir(path);
  for (int attempt = 0; attempt < kMaxPutAttempts; ++attempt) {
    std::vector<std::string> dirs_to_sync;
    Status error;
    switch (MakeParents(fs_, root_, key, &dirs_to_sync, &error)) {
      case MkdirResult::kOk:
        break;
      case MkdirResult::kRetry:
        continue;
      case MkdirResult::kError:
        return error;
    }
    const std::string tmp = JoinPath(dir, NextTempName());
    auto file = fs_->NewWritableFile(tmp);
    if (!file.ok()) {
      if (file.status().code() != StatusCode::kNotFound) return file.status();
      // The directory was pruned by a concurrent Delete (retry), or a component of the key
      // is an object, i.e. a file where a directory should be.
      if (IsNonDirectory(fs_, dir)) {
        return Status::IOError("put " + path + ": a prefix of the key is an object");
      }
      continue;
    }
    Status s = (*file)->AppendParts(parts);
    if (s.ok()) s = (*file)->Sync();
    Status closed = (*file)->Close();
    if (s.ok()) s = closed;
    if (s.ok()) s = fs_->Rename(tmp, path);
    if (!s.ok()) {
      (void)fs_->RemoveFile(tmp);  // best effort; Open removes leftovers
      return s.code() == StatusCode::kIOError ? s : Status::IOError(s.message());
    }
    SKALD_RETURN_IF_ERROR(fs_->SyncDir(dir));
    for (auto it = dirs_to_sync.rbegin(); it != dirs_to_sync.rend(); ++it) {
      SKALD_RETURN_IF_ERROR(fs_->SyncDir(*it));
    }
    return Status::OK();
  }
  return Status::IOError("put " + path + ": its directory kept disappearing");
}

StatusOr<std::string> FsObjectStore::Get(std::string_view key) {
  SKALD_RETURN_IF_ERROR(ValidateKey(key));
  const std::string path = PathOf(key);
  auto not_found = [&] { return Status::NotFound("object not found: " + std::string(key)); };
  auto file = fs_->NewRandomAccessFile(path);
  if (!file.ok()) {
    if (file.status().code() == StatusCode::kNotFound) return not_found();
    return file.status();
  }
  auto size = (*file)->Size();
  if (!size.ok()) return size.status();
  std::string out;
  out.resize(static_cast<size_t>(*size) + 1);  // +1 detects growth / reaches EOF
  size_t len = 0;
  while (true) {
    if (len == out.size()) out.resize(out.size() * 2);
    size_t got = 0;
    Status s = (*file)->Read(len, out.size() - len, out.data() + len, &got);
    if (!s.ok()) {
      if (fs_->ListDir(path).ok()) return not_found();  // a "directory" of other keys
      return s;
    }
    if (got == 0) break;
    len += got;
  }
  out.resize(len);
  return out;
}

StatusOr<std::unique_ptr<RandomAccessFile>> FsObjectStore::OpenRange(std::string_view key,
                                                                     uint64_t offset,
                                                                     uint64_t length) {
  SKALD_RETURN_IF_ERROR(ValidateKey(key));
  const std::string path = PathOf(key);
  auto file = fs_->NewRandomAccessFile(path);
  if (!file.ok()) {
    if (file.status().code() == StatusCode::kNotFound) {
      return Status::NotFound("object not found: " + std::string(key));
    }
    return file.status();
  }
  SKALD_ASSIGN_OR_RETURN(uint64_t size, (*file)->Size());
  if (offset > size || length > size - offset) {
    return Status::Corruption("object " + std::string(key) + ": range " + std::to_string(offset) +
                              "+" + std::to_string(length) + " past its end (" +
                              std::to_string(size) + " bytes)");
  }
  return file;
}

StatusOr<std::string> FsObjectStore::GetRange(std::string_view key, uint64_t offset,
                                              uint64_t length) {
  SKALD_ASSIGN_OR_RETURN(auto file, OpenRange(key, offset, length));
  std::string out(static_cast<size_t>(length), '\0');
  size_t len = 0;
  while (len < out.size()) {
    size_t got = 0;
    SKALD_RETURN_IF_ERROR(file->Read(offset + len, out.size() - len, out.data() + len, &got));
    if (got == 0) {
      return Status::Corruption("object " + std::string(key) + ": shorter than its size");
    }
    len += got;
  }
  return out;
}

StatusOr<SharedBytes> FsObjectStore::GetRangeShared(std::string_view key, uint64_t offset,
                                                    uint64_t length) {
  SKALD_ASSIGN_OR_RETURN(auto file, OpenRange(key, offset, length));
  SKALD_ASSIGN_OR_RETURN(SharedBytes out, file->ReadShared(offset, static_cast<size_t>(length)));
  if (out.bytes.size() != length) {
    return Status::Corruption("object " + std::string(key) + ": shorter than its size");
  }
  return out;
}

StatusOr<std::vector<std::string>> FsObjectStore::List(std::string_view prefix) {
  SKALD_RETURN_IF_ERROR(ValidateKeyPrefix(prefix));
  // Start at the deepest directory the prefix names completely.
  size_t slash = prefix.rfind('/');
  std::string start_key =
      slash == std::string_view::npos ? "" : std::string(prefix.substr(0, slash + 1));
  std::string start_path = root_;
  if (!start_key.empty()) {
    start_path.push_back('/');
    start_path.append(start_key, 0, start_key.size() - 1);
  }
  std::vector<std::string> keys;
  SKALD_RETURN_IF_ERROR(Walk(fs_, start_path, start_key, prefix,
                             [&](const std::string& key, const std::string&, bool is_temp) {
                               if (!is_temp) keys.push_back(key);
                             }));
  std::sort(keys.begin(), keys.end());
  return keys;
}

Status FsObjectStore::Delete(std::string_view key) {
  SKALD_RETURN_IF_ERROR(ValidateKey(key));
  const std::string path = PathOf(key);
  Status s = fs_->RemoveFile(path);
  if (!s.ok()) {
    // Absent object, or a "directory" of other keys, which is no object.
    if (s.code() == StatusCode::kNotFound || fs_->ListDir(path).ok()) return Status::OK();
    return s;
  }
  // Prune directories this left empty, deepest first; stop at the first
  // non-empty one. A concurrent Put into a pruned directory retries.
  for (size_t end = key.rfind('/'); end != std::string_view::npos && end > 0;
       end = key.rfind('/', end - 1)) {
    std::string dir = root_ + "/";
    dir.append(key.substr(0, end));
    if (!fs_->RemoveDir(dir).ok()) break;
  }
  return Status::OK();
}

}  // namespace skald::storage
