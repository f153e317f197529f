// FsObjectStore: see fs_object_store.h.
#include "storage/fs_object_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <random>
#include <system_error>
#include <utility>

namespace skald::storage {
namespace {

// How often Put retries when a concurrent Delete pruned the directory it was
// about to write into.
constexpr int kMaxPutAttempts = 16;

Status IoError(std::string_view what, const std::string& path, int err) {
  return Status::IOError(std::string(what) + " " + path + ": " +
                         std::generic_category().message(err));
}

Status FsyncDir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return IoError("open directory", dir, errno);
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return IoError("fsync directory", dir, err);
  return Status::OK();
}

Status WriteAll(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), std::min<size_t>(data.size(), size_t{1} << 30));
    if (n < 0) {
      if (errno == EINTR) continue;
      return IoError("write", path, errno);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::OK();
}

std::string ParentOf(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

// Temporary files of versions before the prefix moved out of the tenant-ID character set. Only
// file names are matched (tenant IDs name directories, never files), so a tenant whose ID starts
// like this keeps its objects; leftovers of a crash under the old name are still cleaned up.
constexpr std::string_view kLegacyTempFilePrefix = ".skald-tmp-";

// REQUIRES: `name` is a regular file's name.
bool IsTempName(std::string_view name) {
  return name.substr(0, kReservedSegmentPrefix.size()) == kReservedSegmentPrefix ||
         name.substr(0, kLegacyTempFilePrefix.size()) == kLegacyTempFilePrefix;
}

enum class EntryKind { kFile, kDir, kOther };

EntryKind KindOf(DIR* dir, const struct dirent* ent) {
  switch (ent->d_type) {
    case DT_REG:
      return EntryKind::kFile;
    case DT_DIR:
      return EntryKind::kDir;
    case DT_UNKNOWN:
    case DT_LNK: {
      struct stat st;
      if (::fstatat(::dirfd(dir), ent->d_name, &st, 0) != 0) return EntryKind::kOther;
      if (S_ISREG(st.st_mode)) return EntryKind::kFile;
      if (S_ISDIR(st.st_mode)) return EntryKind::kDir;
      return EntryKind::kOther;
    }
    default:
      return EntryKind::kOther;
  }
}

// Walks `dir_path` (whose key prefix is `key_prefix`, "" or ending in '/')
// recursively, calling on_file(key, path, is_temp) for regular files whose
// key may start with `want_prefix`, descending only into directories that can
// contain such keys. A directory that vanishes concurrently is skipped.
template <typename OnFile>
Status Walk(const std::string& dir_path, const std::string& key_prefix,
            std::string_view want_prefix, OnFile&& on_file) {
  DIR* dir = ::opendir(dir_path.c_str());
  if (dir == nullptr) {
    if (errno == ENOENT || errno == ENOTDIR) return Status::OK();
    return IoError("open directory", dir_path, errno);
  }
  std::vector<std::pair<std::string, std::string>> subdirs;  // (key prefix, path)
  Status status;
  while (true) {
    errno = 0;
    struct dirent* ent = ::readdir(dir);
    if (ent == nullptr) {
      if (errno != 0) status = IoError("read directory", dir_path, errno);
      break;
    }
    std::string_view name = ent->d_name;
    if (name == "." || name == "..") continue;
    std::string key = key_prefix;
    key.append(name);
    std::string path = dir_path + "/";
    path.append(name);
    switch (KindOf(dir, ent)) {
      case EntryKind::kFile:
        if (IsTempName(name)) {
          on_file(key, path, /*is_temp=*/true);
        } else if (std::string_view(key).substr(0, want_prefix.size()) == want_prefix) {
          on_file(key, path, /*is_temp=*/false);
        }
        break;
      case EntryKind::kDir: {
        key.push_back('/');
        std::string_view k = key;
        bool relevant =
            k.substr(0, want_prefix.size()) == want_prefix || want_prefix.substr(0, k.size()) == k;
        if (relevant) subdirs.emplace_back(std::move(key), std::move(path));
        break;
      }
      case EntryKind::kOther:
        break;
    }
  }
  ::closedir(dir);
  SKALD_RETURN_IF_ERROR(status);
  for (auto& [sub_key, sub_path] : subdirs) {
    SKALD_RETURN_IF_ERROR(Walk(sub_path, sub_key, want_prefix, on_file));
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

enum class MkdirResult { kOk, kRetry, kError };

// Creates the parent directories of `key` below `root`. Appends to
// `dirs_to_sync` the parent of every directory it created. kRetry when a
// component vanished underneath us (a concurrent Delete pruned it).
MkdirResult MakeParents(const std::string& root, std::string_view key,
                        std::vector<std::string>* dirs_to_sync, Status* error) {
  size_t slash = 0;
  while ((slash = key.find('/', slash)) != std::string_view::npos) {
    std::string path = root + "/";
    path.append(key.substr(0, slash));
    ++slash;
    if (::mkdir(path.c_str(), 0755) == 0) {
      dirs_to_sync->push_back(ParentOf(path));
      continue;
    }
    int err = errno;
    if (err == ENOENT) return MkdirResult::kRetry;
    if (err == EEXIST) {
      struct stat st;
      if (::stat(path.c_str(), &st) != 0) {
        if (errno == ENOENT) return MkdirResult::kRetry;
        *error = IoError("stat", path, errno);
        return MkdirResult::kError;
      }
      if (S_ISDIR(st.st_mode)) continue;
      err = ENOTDIR;
    }
    *error = IoError("create directory", path, err);
    return MkdirResult::kError;
  }
  return MkdirResult::kOk;
}

}  // namespace

FsObjectStore::FsObjectStore(std::string root) : root_(std::move(root)), temp_seed_(RandomSeed()) {}

StatusOr<std::unique_ptr<FsObjectStore>> FsObjectStore::Open(std::string root_dir) {
  if (root_dir.empty()) return Status::InvalidArgument("object store root directory is empty");
  while (root_dir.size() > 1 && root_dir.back() == '/') root_dir.pop_back();
  // Create the root and its parents.
  for (size_t pos = 1; pos <= root_dir.size(); ++pos) {
    if (pos != root_dir.size() && root_dir[pos] != '/') continue;
    std::string path = root_dir.substr(0, pos);
    if (::mkdir(path.c_str(), 0755) != 0 && errno != EEXIST) {
      int err = errno;
      struct stat st;
      if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) continue;  // e.g. EROFS
      return IoError("create directory", path, err);
    }
  }
  struct stat st;
  if (::stat(root_dir.c_str(), &st) != 0) return IoError("stat", root_dir, errno);
  if (!S_ISDIR(st.st_mode)) return IoError("open object store", root_dir, ENOTDIR);
  if (::access(root_dir.c_str(), R_OK | W_OK | X_OK) != 0) {
    return IoError("open object store", root_dir, errno);
  }

  // Remove temporary files of writes a crash interrupted.
  Status cleanup;
  SKALD_RETURN_IF_ERROR(
      Walk(root_dir, "", "", [&](const std::string&, const std::string& path, bool is_temp) {
        if (!is_temp || !cleanup.ok()) return;
        if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
          cleanup = IoError("remove stale temporary file", path, errno);
        }
      }));
  SKALD_RETURN_IF_ERROR(cleanup);
  return std::unique_ptr<FsObjectStore>(new FsObjectStore(std::move(root_dir)));
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
  SKALD_RETURN_IF_ERROR(ValidateKey(key));
  const std::string path = PathOf(key);
  const std::string dir = ParentOf(path);
  for (int attempt = 0; attempt < kMaxPutAttempts; ++attempt) {
    std::vector<std::string> dirs_to_sync;
    Status error;
    switch (MakeParents(root_, key, &dirs_to_sync, &error)) {
      case MkdirResult::kOk:
        break;
      case MkdirResult::kRetry:
        continue;
      case MkdirResult::kError:
        return error;
    }
    const std::string tmp = dir + "/" + NextTempName();
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
      if (errno == ENOENT || errno == EEXIST) continue;  // dir pruned / name taken: retry
      return IoError("create", tmp, errno);
    }
    Status s = WriteAll(fd, data, tmp);
    if (s.ok() && ::fsync(fd) != 0) s = IoError("fsync", tmp, errno);
    if (::close(fd) != 0 && s.ok()) s = IoError("close", tmp, errno);
    if (s.ok() && ::rename(tmp.c_str(), path.c_str()) != 0) s = IoError("rename to", path, errno);
    if (!s.ok()) {
      ::unlink(tmp.c_str());
      return s;
    }
    SKALD_RETURN_IF_ERROR(FsyncDir(dir));
    for (auto it = dirs_to_sync.rbegin(); it != dirs_to_sync.rend(); ++it) {
      SKALD_RETURN_IF_ERROR(FsyncDir(*it));
    }
    return Status::OK();
  }
  return Status::IOError("put " + path + ": its directory kept disappearing");
}

StatusOr<std::string> FsObjectStore::Get(std::string_view key) {
  SKALD_RETURN_IF_ERROR(ValidateKey(key));
  const std::string path = PathOf(key);
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT || errno == ENOTDIR) {
      return Status::NotFound("object not found: " + std::string(key));
    }
    return IoError("open", path, errno);
  }
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    return IoError("stat", path, err);
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return Status::NotFound("object not found: " + std::string(key));
  }
  std::string out;
  out.resize(static_cast<size_t>(st.st_size) + 1);  // +1 detects growth / reaches EOF
  size_t len = 0;
  while (true) {
    if (len == out.size()) out.resize(out.size() * 2);
    ssize_t n = ::read(fd, out.data() + len, out.size() - len);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      return IoError("read", path, err);
    }
    if (n == 0) break;
    len += static_cast<size_t>(n);
  }
  ::close(fd);
  out.resize(len);
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
  SKALD_RETURN_IF_ERROR(Walk(start_path, start_key, prefix,
                             [&](const std::string& key, const std::string&, bool is_temp) {
                               if (!is_temp) keys.push_back(key);
                             }));
  std::sort(keys.begin(), keys.end());
  return keys;
}

Status FsObjectStore::Delete(std::string_view key) {
  SKALD_RETURN_IF_ERROR(ValidateKey(key));
  const std::string path = PathOf(key);
  if (::unlink(path.c_str()) != 0) {
    int err = errno;
    // Absent object (or a "directory" of other keys, which is no object).
    if (err == ENOENT || err == ENOTDIR || err == EISDIR) return Status::OK();
    return IoError("remove", path, err);
  }
  // Prune directories this left empty, deepest first; stop at the first
  // non-empty one. A concurrent Put into a pruned directory retries.
  for (size_t end = key.rfind('/'); end != std::string_view::npos && end > 0;
       end = key.rfind('/', end - 1)) {
    std::string dir = root_ + "/";
    dir.append(key.substr(0, end));
    if (::rmdir(dir.c_str()) != 0) break;
  }
  return Status::OK();
}

}  // namespace skald::storage
