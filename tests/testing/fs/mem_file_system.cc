// MemFileSystem: see mem_file_system.h.
#include "testing/fs/mem_file_system.h"

#include <algorithm>
#include <cstring>
#include <utility>

namespace skald {

struct MemFileSystem::Node {
  bool is_dir = false;
  // Files.
  std::string data;     // live bytes
  std::string durable;  // bytes as of the last Sync
  // Directories.
  std::map<std::string, std::shared_ptr<Node>> children;          // live entries
  std::map<std::string, std::shared_ptr<Node>> durable_children;  // as of the last SyncDir
};

namespace {

using Node = MemFileSystem::Node;

std::vector<std::string> SplitPath(const std::string& path) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    if (j > i && !(j == i + 1 && path[i] == '.')) out.push_back(path.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

// Deep copy. durable_only: take durable entries/bytes (power cut) instead of live ones.
std::shared_ptr<Node> CopyTree(const Node& n, bool durable_only) {
  auto c = std::make_shared<Node>();
  c->is_dir = n.is_dir;
  if (!n.is_dir) {
    c->data = durable_only ? n.durable : n.data;
    c->durable = c->data;
    return c;
  }
  const auto& src = durable_only ? n.durable_children : n.children;
  for (const auto& [name, child] : src) c->children[name] = CopyTree(*child, durable_only);
  c->durable_children = c->children;
  return c;
}

class MemWritableFile final : public WritableFile {
 public:
  MemWritableFile(std::mutex* mu, std::shared_ptr<Node> node, uint64_t pos)
      : mu_(mu), node_(std::move(node)), pos_(pos) {}

  Status Append(std::string_view data) override {
    std::lock_guard<std::mutex> l(*mu_);
    if (closed_) return Status::IOError("write: file is closed");
    std::string& d = node_->data;
    if (d.size() < pos_) d.resize(pos_, '\0');
    size_t overlap = std::min<size_t>(d.size() - pos_, data.size());
    d.replace(pos_, overlap, data.data(), data.size());
    pos_ += data.size();
    return Status::OK();
  }
  Status Sync() override {
    std::lock_guard<std::mutex> l(*mu_);
    if (closed_) return Status::IOError("sync: file is closed");
    node_->durable = node_->data;
    return Status::OK();
  }
  Status Truncate(uint64_t size) override {
    std::lock_guard<std::mutex> l(*mu_);
    if (closed_) return Status::IOError("truncate: file is closed");
    node_->data.resize(size, '\0');
    pos_ = size;
    return Status::OK();
  }
  Status Close() override {
    std::lock_guard<std::mutex> l(*mu_);
    closed_ = true;
    return Status::OK();
  }
  uint64_t Size() const override { return pos_; }

 private:
  std::mutex* mu_;
  std::shared_ptr<Node> node_;
  uint64_t pos_;
  bool closed_ = false;
};

class MemRandomAccessFile final : public RandomAccessFile {
 public:
  MemRandomAccessFile(std::mutex* mu, std::shared_ptr<Node> node)
      : mu_(mu), node_(std::move(node)) {}

  Status Read(uint64_t offset, size_t n, char* scratch, size_t* got) const override {
    std::lock_guard<std::mutex> l(*mu_);
    const std::string& d = node_->data;
    if (offset >= d.size()) {
      *got = 0;
      return Status::OK();
    }
    *got = std::min<size_t>(n, d.size() - offset);
    std::memcpy(scratch, d.data() + offset, *got);
    return Status::OK();
  }
  StatusOr<uint64_t> Size() const override {
    std::lock_guard<std::mutex> l(*mu_);
    return static_cast<uint64_t>(node_->data.size());
  }

 private:
  std::mutex* mu_;
  std::shared_ptr<Node> node_;
};

}  // namespace

MemFileSystem::MemFileSystem() : root_(std::make_shared<Node>()) { root_->is_dir = true; }
MemFileSystem::~MemFileSystem() = default;

std::shared_ptr<Node> MemFileSystem::Lookup(const std::string& path) const {
  std::shared_ptr<Node> n = root_;
  for (const std::string& part : SplitPath(path)) {
    if (!n->is_dir) return nullptr;
    auto it = n->children.find(part);
    if (it == n->children.end()) return nullptr;
    n = it->second;
  }
  return n;
}

Status MemFileSystem::ParentOf(const std::string& path, std::shared_ptr<Node>* dir,
                               std::string* name) const {
  std::vector<std::string> parts = SplitPath(path);
  if (parts.empty()) return Status::InvalidArgument("invalid path: " + path);
  *name = parts.back();
  std::shared_ptr<Node> n = root_;
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    if (!n->is_dir) return Status::NotFound("not a directory: " + path);
    auto it = n->children.find(parts[i]);
    if (it == n->children.end()) return Status::NotFound("no such directory: " + path);
    n = it->second;
  }
  if (!n->is_dir) return Status::NotFound("not a directory: " + path);
  *dir = n;
  return Status::OK();
}

StatusOr<std::unique_ptr<WritableFile>> MemFileSystem::NewWritableFile(const std::string& path) {
  std::lock_guard<std::mutex> l(mu_);
  std::shared_ptr<Node> dir;
  std::string name;
  SKALD_RETURN_IF_ERROR(ParentOf(path, &dir, &name));
  std::shared_ptr<Node>& slot = dir->children[name];
  if (slot && slot->is_dir) return Status::IOError("create " + path + ": is a directory");
  if (!slot) slot = std::make_shared<Node>();
  slot->data.clear();
  return std::unique_ptr<WritableFile>(new MemWritableFile(&mu_, slot, 0));
}

StatusOr<std::unique_ptr<WritableFile>> MemFileSystem::ReopenWritableFile(const std::string& path) {
  std::lock_guard<std::mutex> l(mu_);
  std::shared_ptr<Node> n = Lookup(path);
  if (!n) return Status::NotFound("open " + path + ": no such file");
  if (n->is_dir) return Status::IOError("open " + path + ": is a directory");
  return std::unique_ptr<WritableFile>(new MemWritableFile(&mu_, n, n->data.size()));
}

StatusOr<std::unique_ptr<RandomAccessFile>> MemFileSystem::NewRandomAccessFile(
    const std::string& path) {
  std::lock_guard<std::mutex> l(mu_);
  std::shared_ptr<Node> n = Lookup(path);
  if (!n) return Status::NotFound("open " + path + ": no such file");
  if (n->is_dir) return Status::IOError("open " + path + ": is a directory");
  return std::unique_ptr<RandomAccessFile>(new MemRandomAccessFile(&mu_, n));
}

Status MemFileSystem::CreateDir(const std::string& path) {
  std::lock_guard<std::mutex> l(mu_);
  if (SplitPath(path).empty()) return Status::OK();  // root
  std::shared_ptr<Node> dir;
  std::string name;
  SKALD_RETURN_IF_ERROR(ParentOf(path, &dir, &name));
  auto it = dir->children.find(name);
  if (it != dir->children.end()) {
    if (it->second->is_dir) return Status::OK();
    return Status::IOError("mkdir " + path + ": file exists");
  }
  auto n = std::make_shared<Node>();
  n->is_dir = true;
  dir->children[name] = std::move(n);
  return Status::OK();
}

StatusOr<std::vector<DirEntry>> MemFileSystem::ListDir(const std::string& path) {
  std::lock_guard<std::mutex> l(mu_);
  std::shared_ptr<Node> n = Lookup(path);
  if (!n) return Status::NotFound("opendir " + path + ": no such directory");
  if (!n->is_dir) return Status::IOError("opendir " + path + ": not a directory");
  std::vector<DirEntry> out;
  for (const auto& [name, child] : n->children) out.push_back({name, child->is_dir});
  return out;
}

Status MemFileSystem::RemoveFile(const std::string& path) {
  std::lock_guard<std::mutex> l(mu_);
  std::shared_ptr<Node> dir;
  std::string name;
  SKALD_RETURN_IF_ERROR(ParentOf(path, &dir, &name));
  auto it = dir->children.find(name);
  if (it == dir->children.end()) return Status::NotFound("unlink " + path + ": no such file");
  if (it->second->is_dir) return Status::IOError("unlink " + path + ": is a directory");
  dir->children.erase(it);
  return Status::OK();
}

Status MemFileSystem::RemoveDir(const std::string& path) {
  std::lock_guard<std::mutex> l(mu_);
  std::shared_ptr<Node> dir;
  std::string name;
  SKALD_RETURN_IF_ERROR(ParentOf(path, &dir, &name));
  auto it = dir->children.find(name);
  if (it == dir->children.end()) return Status::NotFound("rmdir " + path + ": no such dir");
  if (!it->second->is_dir) return Status::IOError("rmdir " + path + ": not a directory");
  if (!it->second->children.empty()) {
    return Status::IOError("rmdir " + path + ": directory not empty");
  }
  dir->children.erase(it);
  return Status::OK();
}

Status MemFileSystem::Rename(const std::string& from, const std::string& to) {
  std::lock_guard<std::mutex> l(mu_);
  std::shared_ptr<Node> fdir, tdir;
  std::string fname, tname;
  SKALD_RETURN_IF_ERROR(ParentOf(from, &fdir, &fname));
  SKALD_RETURN_IF_ERROR(ParentOf(to, &tdir, &tname));
  auto it = fdir->children.find(fname);
  if (it == fdir->children.end()) return Status::NotFound("rename " + from + ": no such file");
  std::shared_ptr<Node> n = it->second;
  auto dst = tdir->children.find(tname);
  if (dst != tdir->children.end()) {
    if (dst->second == n) return Status::OK();
    if (dst->second->is_dir != n->is_dir) return Status::IOError("rename " + to + ": type clash");
    if (dst->second->is_dir && !dst->second->children.empty()) {
      return Status::IOError("rename " + to + ": directory not empty");
    }
  }
  fdir->children.erase(fname);
  tdir->children[tname] = std::move(n);
  return Status::OK();
}

Status MemFileSystem::SyncDir(const std::string& path) {
  std::lock_guard<std::mutex> l(mu_);
  std::shared_ptr<Node> n = Lookup(path);
  if (!n) return Status::NotFound("open directory " + path + ": no such directory");
  if (!n->is_dir) return Status::IOError("fsync directory " + path + ": not a directory");
  n->durable_children = n->children;
  return Status::OK();
}

Status MemFileSystem::Exists(const std::string& path) {
  std::lock_guard<std::mutex> l(mu_);
  if (!Lookup(path)) return Status::NotFound("stat " + path + ": no such file");
  return Status::OK();
}

std::unique_ptr<MemFileSystem> MemFileSystem::CrashCopy() const {
  std::lock_guard<std::mutex> l(mu_);
  auto fs = std::make_unique<MemFileSystem>();
  fs->root_ = CopyTree(*root_, /*durable_only=*/true);
  return fs;
}

std::unique_ptr<MemFileSystem> MemFileSystem::ProcessCrashCopy() const {
  std::lock_guard<std::mutex> l(mu_);
  auto fs = std::make_unique<MemFileSystem>();
  fs->root_ = CopyTree(*root_, /*durable_only=*/false);
  return fs;
}

Status MemFileSystem::WriteFileForTest(const std::string& path, std::string_view data) {
  SKALD_RETURN_IF_ERROR(CreateDirs(this, ParentDir(path)));
  SKALD_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> f, NewWritableFile(path));
  SKALD_RETURN_IF_ERROR(f->Append(data));
  SKALD_RETURN_IF_ERROR(f->Sync());
  SKALD_RETURN_IF_ERROR(f->Close());
  return SyncDir(ParentDir(path));
}

}  // namespace skald
