// POSIX FileSystem and path helpers: see file_system.h.
#include "core/file_system.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <mutex>
#include <system_error>
#include <utility>

namespace skald {
namespace {

Status ErrnoStatus(std::string_view what, const std::string& path, int err) {
  std::string msg = std::string(what) + " " + path + ": " + std::generic_category().message(err);
  // ENOTDIR: a component of the path is a file, so the path does not exist either.
  if (err == ENOENT || err == ENOTDIR) return Status::NotFound(std::move(msg));
  return Status::IOError(std::move(msg));
}

class PosixWritableFile final : public WritableFile {
 public:
  PosixWritableFile(std::string path, int fd, uint64_t pos)
      : path_(std::move(path)), fd_(fd), pos_(pos) {}
  ~PosixWritableFile() override {
    if (fd_ >= 0) ::close(fd_);
  }

  Status Append(std::string_view data) override {
    if (fd_ < 0) return Status::IOError("write " + path_ + ": file is closed");
    while (!data.empty()) {
      ssize_t n = ::pwrite(fd_, data.data(), std::min<size_t>(data.size(), size_t{1} << 30),
                           static_cast<off_t>(pos_));
      if (n < 0) {
        if (errno == EINTR) continue;
        return ErrnoStatus("write", path_, errno);
      }
      if (n == 0) return ErrnoStatus("write", path_, ENOSPC);
      pos_ += static_cast<uint64_t>(n);
      data.remove_prefix(static_cast<size_t>(n));
    }
    return Status::OK();
  }

  Status AppendParts(std::span<const std::string_view> parts) override {
    if (fd_ < 0) return Status::IOError("write " + path_ + ": file is closed");
    constexpr size_t kMaxIov = IOV_MAX < 1024 ? IOV_MAX : 1024;
    iovec iov[kMaxIov];
    size_t next = 0;  // first part not yet (fully) written
    size_t skip = 0;  // bytes of parts[next] already written
    while (next < parts.size()) {
      int n_iov = 0;
      for (size_t i = next; i < parts.size() && n_iov < static_cast<int>(kMaxIov); i++) {
        std::string_view d = parts[i];
        if (i == next) d.remove_prefix(skip);
        if (d.empty()) continue;
        iov[n_iov].iov_base = const_cast<char*>(d.data());
        iov[n_iov].iov_len = d.size();
        n_iov++;
      }
      if (n_iov == 0) break;  // only empty parts left
      ssize_t n = ::pwritev(fd_, iov, n_iov, static_cast<off_t>(pos_));
      if (n < 0) {
        if (errno == EINTR) continue;
        return ErrnoStatus("write", path_, errno);
      }
      if (n == 0) return ErrnoStatus("write", path_, ENOSPC);
      pos_ += static_cast<uint64_t>(n);
      // Step past what was written: whole parts, then into a part.
      auto left = static_cast<size_t>(n);
      while (next < parts.size() && left >= parts[next].size() - skip) {
        left -= parts[next].size() - skip;
        skip = 0;
        next++;
      }
      skip += left;
    }
    return Status::OK();
  }

  Status Sync() override {
    if (fd_ < 0) return Status::IOError("fdatasync " + path_ + ": file is closed");
    while (::fdatasync(fd_) != 0) {
      if (errno != EINTR) return ErrnoStatus("fdatasync", path_, errno);
    }
    return Status::OK();
  }

  Status Truncate(uint64_t size) override {
    if (fd_ < 0) return Status::IOError("truncate " + path_ + ": file is closed");
    while (::ftruncate(fd_, static_cast<off_t>(size)) != 0) {
      if (errno != EINTR) return ErrnoStatus("truncate", path_, errno);
    }
    pos_ = size;
    return Status::OK();
  }

  Status Close() override {
    if (fd_ < 0) return Status::OK();
    int rc = ::close(fd_);
    fd_ = -1;
    if (rc != 0 && errno != EINTR) return ErrnoStatus("close", path_, errno);
    return Status::OK();
  }

  uint64_t Size() const override { return pos_; }

 private:
  std::string path_;
  int fd_;
  uint64_t pos_;
};

}  // namespace

Status WritableFile::AppendParts(std::span<const std::string_view> parts) {
  for (std::string_view part : parts) SKALD_RETURN_IF_ERROR(Append(part));
  return Status::OK();
}

namespace {

// Buffers of range reads (ReadShared) of kMinPooledBytes or more are recycled: a query over
// packed objects reads ranges of up to 16 MB a few at a time, and a fresh buffer each time
// cost page faults on every read (jemalloc returns allocations of 8 MB and more to the kernel
// when they are freed; glibc's does the same above its mmap threshold), and zeroing it first
// cost a pass over every byte. At most kMaxPoolBytes of free buffers are kept.
class ReadBufferPool {
 public:
  static constexpr size_t kMinPooledBytes = 256u << 10;
  static constexpr size_t kGranule = 1u << 20;  // capacities are multiples of this
  static constexpr size_t kMaxPoolBytes = 128u << 20;

  static ReadBufferPool& Instance() {
    static auto* pool = new ReadBufferPool();  // never destroyed: owners may outlive statics
    return *pool;
  }

  // A buffer of at least n bytes, owned by the returned pointer, which hands it back here.
  std::shared_ptr<char[]> Get(size_t n) {
    if (n < kMinPooledBytes) return std::shared_ptr<char[]>(new char[n]);
    const size_t cap = (n + kGranule - 1) / kGranule * kGranule;
    char* buf = nullptr;
    size_t got_cap = cap;
    {
      std::lock_guard<std::mutex> lock(mu_);
      // The smallest free buffer that fits and wastes at most half of itself.
      size_t best = free_.size();
      for (size_t i = 0; i < free_.size(); i++) {
        if (free_[i].cap >= cap && free_[i].cap <= 2 * cap &&
            (best == free_.size() || free_[i].cap < free_[best].cap)) {
          best = i;
        }
      }
      if (best != free_.size()) {
        buf = free_[best].buf;
        got_cap = free_[best].cap;
        free_bytes_ -= got_cap;
        free_[best] = free_.back();
        free_.pop_back();
      }
    }
    if (buf == nullptr) buf = new char[cap];  // not value-initialised: the read fills it
    return std::shared_ptr<char[]>(buf, [this, got_cap](char* b) { Put(b, got_cap); });
  }

 private:
  struct Free {
    char* buf;
    size_t cap;
  };

  void Put(char* buf, size_t cap) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (free_bytes_ + cap <= kMaxPoolBytes) {
        free_.push_back({buf, cap});
        free_bytes_ += cap;
        return;
      }
    }
    delete[] buf;
  }

  std::mutex mu_;
  std::vector<Free> free_;
  size_t free_bytes_ = 0;
};

}  // namespace

StatusOr<SharedBytes> RandomAccessFile::ReadShared(uint64_t offset, size_t n) const {
  std::shared_ptr<char[]> buf = ReadBufferPool::Instance().Get(n);
  size_t got = 0;
  SKALD_RETURN_IF_ERROR(Read(offset, n, buf.get(), &got));
  const std::string_view bytes(buf.get(), got);
  std::shared_ptr<const void> owner = std::move(buf);
  return SharedBytes{std::move(owner), bytes};
}

namespace {

class PosixRandomAccessFile final : public RandomAccessFile {
 public:
  PosixRandomAccessFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  ~PosixRandomAccessFile() override { ::close(fd_); }

  Status Read(uint64_t offset, size_t n, char* scratch, size_t* got) const override {
    size_t done = 0;
    while (done < n) {
      ssize_t r = ::pread(fd_, scratch + done, std::min<size_t>(n - done, size_t{1} << 30),
                          static_cast<off_t>(offset + done));
      if (r < 0) {
        if (errno == EINTR) continue;
        *got = done;
        return ErrnoStatus("read", path_, errno);
      }
      if (r == 0) break;
      done += static_cast<size_t>(r);
    }
    *got = done;
    return Status::OK();
  }

  StatusOr<uint64_t> Size() const override {
    struct stat st;
    if (::fstat(fd_, &st) != 0) return ErrnoStatus("stat", path_, errno);
    return static_cast<uint64_t>(st.st_size);
  }

 private:
  std::string path_;
  int fd_;
};

class PosixFs final : public FileSystem {
 public:
  StatusOr<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) override {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return ErrnoStatus("create", path, errno);
    return std::unique_ptr<WritableFile>(new PosixWritableFile(path, fd, 0));
  }

  StatusOr<std::unique_ptr<WritableFile>> ReopenWritableFile(const std::string& path) override {
    int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) return ErrnoStatus("open", path, errno);
    struct stat st;
    if (::fstat(fd, &st) != 0) {
      int err = errno;
      ::close(fd);
      return ErrnoStatus("stat", path, err);
    }
    return std::unique_ptr<WritableFile>(
        new PosixWritableFile(path, fd, static_cast<uint64_t>(st.st_size)));
  }

  StatusOr<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(
      const std::string& path) override {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return ErrnoStatus("open", path, errno);
    return std::unique_ptr<RandomAccessFile>(new PosixRandomAccessFile(path, fd));
  }

  Status CreateDir(const std::string& path) override {
    if (::mkdir(path.c_str(), 0755) == 0) return Status::OK();
    int err = errno;
    struct stat st;
    if (err == EEXIST && ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
      return Status::OK();
    }
    return ErrnoStatus("mkdir", path, err);
  }

  StatusOr<std::vector<DirEntry>> ListDir(const std::string& path) override {
    DIR* d = ::opendir(path.c_str());
    if (d == nullptr) return ErrnoStatus("opendir", path, errno);
    std::vector<DirEntry> out;
    errno = 0;
    while (struct dirent* e = ::readdir(d)) {
      std::string_view name = e->d_name;
      if (name == "." || name == "..") continue;
      bool is_dir = e->d_type == DT_DIR;
      if (e->d_type == DT_UNKNOWN || e->d_type == DT_LNK) {
        struct stat st;
        if (::fstatat(::dirfd(d), e->d_name, &st, 0) == 0) is_dir = S_ISDIR(st.st_mode);
      }
      out.push_back({std::string(name), is_dir});
      errno = 0;
    }
    int err = errno;
    ::closedir(d);
    if (err != 0) return ErrnoStatus("readdir", path, err);
    return out;
  }

  Status RemoveFile(const std::string& path) override {
    if (::unlink(path.c_str()) != 0) return ErrnoStatus("unlink", path, errno);
    return Status::OK();
  }

  Status RemoveDir(const std::string& path) override {
    if (::rmdir(path.c_str()) != 0) return ErrnoStatus("rmdir", path, errno);
    return Status::OK();
  }

  Status Rename(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) {
      return ErrnoStatus("rename " + from + " to", to, errno);
    }
    return Status::OK();
  }

  Status SyncDir(const std::string& path) override {
    int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return ErrnoStatus("open directory", path, errno);
    int rc;
    while ((rc = ::fsync(fd)) != 0 && errno == EINTR) {
    }
    int err = errno;
    ::close(fd);
    if (rc != 0) return ErrnoStatus("fsync directory", path, err);
    return Status::OK();
  }

  Status Exists(const std::string& path) override {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) return ErrnoStatus("stat", path, errno);
    return Status::OK();
  }
};

}  // namespace

FileSystem* PosixFileSystem() {
  static PosixFs* fs = new PosixFs();
  return fs;
}

std::string JoinPath(std::string_view dir, std::string_view name) {
  std::string out(dir);
  if (!out.empty() && out.back() != '/') out.push_back('/');
  out.append(name);
  return out;
}

std::string ParentDir(std::string_view path) {
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  size_t slash = path.rfind('/');
  if (slash == std::string_view::npos) return ".";
  if (slash == 0) return "/";
  return std::string(path.substr(0, slash));
}

Status CreateDirs(FileSystem* fs, const std::string& path) {
  Status s = fs->CreateDir(path);
  if (s.ok() || s.code() != StatusCode::kNotFound) return s;
  std::string parent = ParentDir(path);
  if (parent == path || parent == "." || parent == "/") return s;
  SKALD_RETURN_IF_ERROR(CreateDirs(fs, parent));
  return fs->CreateDir(path);
}

Status RemoveAll(FileSystem* fs, const std::string& path) {
  auto entries = fs->ListDir(path);
  if (!entries.ok()) {
    // Not a directory (or gone): try it as a file.
    Status s = fs->RemoveFile(path);
    if (s.ok() || s.code() == StatusCode::kNotFound) return Status::OK();
    return s;
  }
  for (const DirEntry& e : *entries) {
    std::string child = JoinPath(path, e.name);
    if (e.is_dir) {
      SKALD_RETURN_IF_ERROR(RemoveAll(fs, child));
    } else {
      Status s = fs->RemoveFile(child);
      if (!s.ok() && s.code() != StatusCode::kNotFound) return s;
    }
  }
  Status s = fs->RemoveDir(path);
  if (s.ok() || s.code() == StatusCode::kNotFound) return Status::OK();
  return s;
}

StatusOr<std::string> ReadFileToString(FileSystem* fs, const std::string& path) {
  SKALD_ASSIGN_OR_RETURN(std::unique_ptr<RandomAccessFile> f, fs->NewRandomAccessFile(path));
  SKALD_ASSIGN_OR_RETURN(uint64_t size, f->Size());
  std::string out(size, '\0');
  size_t got = 0;
  SKALD_RETURN_IF_ERROR(f->Read(0, out.size(), out.data(), &got));
  out.resize(got);
  return out;
}

}  // namespace skald
