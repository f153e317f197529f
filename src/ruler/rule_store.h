// Where rule groups live: a directory tree `<root>/<tenant>/<namespace>`, each namespace one
// rule file (`groups:` list) — the layout of Loki's `ruler_storage.backend: local`, so a
// Loki rules directory can be pointed at as is. Unlike Loki's local backend this one also
// writes: the ruler API's set/delete replace a namespace file atomically (write a temporary
// file, fsync, rename, fsync the directory).
//
// Namespace and tenant names are file names: rejected (InvalidArgument) when empty, "." or
// "..", starting with '.', longer than 255 bytes, or containing '/' or NUL. Files starting
// with '.' (temporaries) are ignored when listing. Thread-safe (one mutex).
#pragma once

#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "ruler/rules.h"

namespace skald::ruler {

class RuleStore {
 public:
  // `root` need not exist yet; it is created on the first write.
  explicit RuleStore(std::string root);

  // Tenants that have at least one namespace file, sorted.
  StatusOr<std::vector<std::string>> Tenants() const;
  // Every namespace of a tenant with its groups (empty map when the tenant has none). A file
  // that does not parse is an error naming the file (Corruption), so a typo in a hand-edited
  // file is reported, not silently skipped.
  StatusOr<RuleNamespaces> List(std::string_view tenant) const;
  // One namespace's groups; NotFound when the namespace does not exist.
  StatusOr<std::vector<RuleGroup>> GetNamespace(std::string_view tenant, std::string_view ns) const;
  // One group; NotFound when the namespace or the group does not exist.
  StatusOr<RuleGroup> GetGroup(std::string_view tenant, std::string_view ns,
                               std::string_view group) const;
  // Adds the group to the namespace, or replaces the group of the same name in place.
  Status SetGroup(std::string_view tenant, std::string_view ns, const RuleGroup& group);
  // Removes one group (the namespace file goes when it was the last); NotFound if absent.
  Status DeleteGroup(std::string_view tenant, std::string_view ns, std::string_view group);
  // Removes a namespace; NotFound if absent.
  Status DeleteNamespace(std::string_view tenant, std::string_view ns);

  const std::string& root() const { return root_; }

 private:
  std::string root_;
  mutable std::mutex mu_;
};

// InvalidArgument unless `name` is usable as a tenant or namespace file name (rules above).
Status CheckStoreName(std::string_view what, std::string_view name);

}  // namespace skald::ruler
