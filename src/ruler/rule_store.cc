// The rule store on the local file system. Every write rewrites one namespace file through a
// temporary file and rename(2), so a reader (this process after a crash, or Loki pointed at the
// same directory) sees either the old or the new file, never a torn one.
#include "ruler/rule_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>
#include <utility>

#include "core/go_string.h"

namespace skald::ruler {

namespace fs = std::filesystem;

namespace {

Status IoError(const std::string& what, const std::string& path, int err) {
  return Status::IOError(what + " " + path + ": " + std::strerror(err));
}

Status IoError(const std::string& what, const std::string& path, const std::error_code& ec) {
  return Status::IOError(what + " " + path + ": " + ec.message());
}

// Names that List and Tenants consider: temporaries and other dot files are not namespaces.
bool Listable(const std::string& name) { return !name.empty() && name[0] != '.'; }

// Regular files (following symlinks, as Loki's local store does) that are namespace files.
StatusOr<std::vector<std::string>> NamespaceFiles(const std::string& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  if (ec) {
    if (ec == std::errc::no_such_file_or_directory || ec == std::errc::not_a_directory) {
      return names;
    }
    return IoError("unable to read rule dir", dir, ec);
  }
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (!Listable(name)) continue;
    std::error_code type_ec;
    if (!it->is_regular_file(type_ec)) continue;  // subdirectories, dangling links
    names.push_back(name);
  }
  if (ec) return IoError("unable to read rule dir", dir, ec);
  std::sort(names.begin(), names.end());
  return names;
}

// NotFound when the file does not exist; Corruption (naming the file) when it does not parse.
StatusOr<std::vector<RuleGroup>> ReadNamespaceFile(const std::string& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) return Status::NotFound("no rule groups found");
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int err = errno;
    if (err == ENOENT || err == ENOTDIR) return Status::NotFound("no rule groups found");
    return IoError("unable to read rule file", path, err);
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return IoError("unable to read rule file", path, errno);
  StatusOr<std::vector<RuleGroup>> groups = ParseRuleFileYaml(text.str());
  if (!groups.ok()) {
    // Loki's local store words it the same way.
    return Status::Corruption("error parsing " + path + ": " + groups.status().message());
  }
  return groups;
}

Status WriteAll(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return IoError("unable to write", path, errno);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::OK();
}

Status SyncDir(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return IoError("unable to open directory", dir, errno);
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) return IoError("unable to sync directory", dir, err);
  return Status::OK();
}

// Replaces <dir>/<ns> with `contents`: temporary file, fsync, rename over, fsync the directory
// (without the last step the rename itself may not survive a crash).
Status ReplaceFile(const std::string& dir, const std::string& ns, const std::string& contents) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return IoError("unable to create directory", dir, ec);
  std::string tmp = dir + "/." + ns + ".tmp-XXXXXX";
  const int fd = ::mkstemp(tmp.data());
  if (fd < 0) return IoError("unable to create temporary file in", dir, errno);
  Status s = WriteAll(fd, contents, tmp);
  if (s.ok() && ::fsync(fd) != 0) s = IoError("unable to sync", tmp, errno);
  if (::close(fd) != 0 && s.ok()) s = IoError("unable to close", tmp, errno);
  const std::string path = dir + "/" + ns;
  if (s.ok() && ::rename(tmp.c_str(), path.c_str()) != 0) {
    s = IoError("unable to rename temporary file to", path, errno);
  }
  if (!s.ok()) {
    ::unlink(tmp.c_str());
    return s;
  }
  return SyncDir(dir);
}

Status RemoveFile(const std::string& dir, const std::string& ns) {
  const std::string path = dir + "/" + ns;
  if (::unlink(path.c_str()) != 0) {
    if (errno == ENOENT) return Status::NotFound("no rule groups found");
    return IoError("unable to remove rule file", path, errno);
  }
  return SyncDir(dir);
}

}  // namespace

Status CheckStoreName(std::string_view what, std::string_view name) {
  const auto bad = [&](std::string_view why) {
    return Status::InvalidArgument("invalid " + std::string(what) + " name " + GoQuote(name) +
                                   ": " + std::string(why));
  };
  if (name.empty()) return Status::InvalidArgument(std::string(what) + " name must not be empty");
  if (name == "." || name == "..") return bad("path traversal not allowed");
  if (name[0] == '.') return bad("must not start with '.'");
  if (name.size() > 255) return bad("longer than 255 bytes");
  if (name.find('/') != std::string_view::npos) return bad("must not contain '/'");
  if (name.find('\0') != std::string_view::npos) return bad("must not contain NUL");
  return Status::OK();
}

RuleStore::RuleStore(std::string root) : root_(std::move(root)) {}

StatusOr<std::vector<std::string>> RuleStore::Tenants() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> tenants;
  std::error_code ec;
  fs::directory_iterator it(root_, ec);
  if (ec) {
    if (ec == std::errc::no_such_file_or_directory) return tenants;
    return IoError("unable to read dir", root_, ec);
  }
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (!Listable(name)) continue;
    std::error_code type_ec;
    if (!it->is_directory(type_ec)) continue;
    SKALD_ASSIGN_OR_RETURN(std::vector<std::string> files, NamespaceFiles(root_ + "/" + name));
    if (!files.empty()) tenants.push_back(name);
  }
  if (ec) return IoError("unable to read dir", root_, ec);
  std::sort(tenants.begin(), tenants.end());
  return tenants;
}

StatusOr<RuleNamespaces> RuleStore::List(std::string_view tenant) const {
  SKALD_RETURN_IF_ERROR(CheckStoreName("tenant", tenant));
  std::lock_guard<std::mutex> lock(mu_);
  const std::string dir = root_ + "/" + std::string(tenant);
  SKALD_ASSIGN_OR_RETURN(std::vector<std::string> files, NamespaceFiles(dir));
  RuleNamespaces out;
  for (const std::string& ns : files) {
    StatusOr<std::vector<RuleGroup>> groups = ReadNamespaceFile(dir + "/" + ns);
    if (!groups.ok()) {
      // Removed between the listing and the read: it is simply gone.
      if (groups.status().code() == StatusCode::kNotFound) continue;
      return groups.status();
    }
    out.emplace(ns, std::move(groups).value());
  }
  return out;
}

StatusOr<std::vector<RuleGroup>> RuleStore::GetNamespace(std::string_view tenant,
                                                         std::string_view ns) const {
  SKALD_RETURN_IF_ERROR(CheckStoreName("tenant", tenant));
  SKALD_RETURN_IF_ERROR(CheckStoreName("namespace", ns));
  std::lock_guard<std::mutex> lock(mu_);
  return ReadNamespaceFile(root_ + "/" + std::string(tenant) + "/" + std::string(ns));
}

StatusOr<RuleGroup> RuleStore::GetGroup(std::string_view tenant, std::string_view ns,
                                        std::string_view group) const {
  SKALD_ASSIGN_OR_RETURN(std::vector<RuleGroup> groups, GetNamespace(tenant, ns));
  for (RuleGroup& g : groups) {
    if (g.name == group) return std::move(g);
  }
  return Status::NotFound("no rule groups found");
}

Status RuleStore::SetGroup(std::string_view tenant, std::string_view ns, const RuleGroup& group) {
  SKALD_RETURN_IF_ERROR(CheckStoreName("tenant", tenant));
  SKALD_RETURN_IF_ERROR(CheckStoreName("namespace", ns));
  // A group that would not parse back would make the whole namespace unreadable.
  SKALD_RETURN_IF_ERROR(ValidateGroup(group));
  std::lock_guard<std::mutex> lock(mu_);
  const std::string dir = root_ + "/" + std::string(tenant);
  std::vector<RuleGroup> groups;
  StatusOr<std::vector<RuleGroup>> existing = ReadNamespaceFile(dir + "/" + std::string(ns));
  if (existing.ok()) {
    groups = std::move(existing).value();
  } else if (existing.status().code() != StatusCode::kNotFound) {
    return existing.status();  // never overwrite a file we could not read
  }
  auto it = std::find_if(groups.begin(), groups.end(),
                         [&](const RuleGroup& g) { return g.name == group.name; });
  if (it != groups.end()) {
    *it = group;
  } else {
    groups.push_back(group);
  }
  return ReplaceFile(dir, std::string(ns), RuleFileToYaml(groups));
}

Status RuleStore::DeleteGroup(std::string_view tenant, std::string_view ns,
                              std::string_view group) {
  SKALD_RETURN_IF_ERROR(CheckStoreName("tenant", tenant));
  SKALD_RETURN_IF_ERROR(CheckStoreName("namespace", ns));
  std::lock_guard<std::mutex> lock(mu_);
  const std::string dir = root_ + "/" + std::string(tenant);
  SKALD_ASSIGN_OR_RETURN(std::vector<RuleGroup> groups,
                         ReadNamespaceFile(dir + "/" + std::string(ns)));
  auto it = std::find_if(groups.begin(), groups.end(),
                         [&](const RuleGroup& g) { return g.name == group; });
  if (it == groups.end()) return Status::NotFound("no rule groups found");
  groups.erase(it);
  if (groups.empty()) return RemoveFile(dir, std::string(ns));
  return ReplaceFile(dir, std::string(ns), RuleFileToYaml(groups));
}

Status RuleStore::DeleteNamespace(std::string_view tenant, std::string_view ns) {
  SKALD_RETURN_IF_ERROR(CheckStoreName("tenant", tenant));
  SKALD_RETURN_IF_ERROR(CheckStoreName("namespace", ns));
  std::lock_guard<std::mutex> lock(mu_);
  return RemoveFile(root_ + "/" + std::string(tenant), std::string(ns));
}

}  // namespace skald::ruler
