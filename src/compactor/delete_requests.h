// Delete requests (Loki's log deletion API): what each tenant asked to remove, kept in the
// object store so every querier and a restarted compactor see the same list.
//
// One object per tenant, "deletes/<tenant>/requests", rewritten whole on every change (Put is
// atomic); format in docs/formats/compactor.md. Requests are few (a handful per tenant), so a
// whole-object rewrite is the simple, crash-safe choice. Thread-safe; this process is the only
// writer (the compactor role).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "core/matcher.h"
#include "core/status.h"
#include "logql/pipeline.h"
#include "storage/object_store.h"

namespace skald::compactor {

struct DeleteRequest {
  std::string id;                    // 8 lowercase hex digits
  std::string query;                 // a LogQL log selector, with optional pipeline stages
  int64_t start_ms = 0, end_ms = 0;  // unix ms, both inclusive (Loki's model.Time)
  int64_t created_ms = 0;
  bool processed = false;  // the compactor has removed the data from storage
};

// A request parsed for filtering.
struct ParsedDeleteRequest {
  DeleteRequest request;
  std::vector<Matcher> matchers;
  std::shared_ptr<const logql::Pipeline> pipeline;  // null when the query has no stages
};

// Parses a delete query as Loki does: a log selector with optional stages. Errors carry
// Loki's text ("invalid query expression").
StatusOr<ParsedDeleteRequest> ParseDeleteRequest(DeleteRequest r);

// The object's bytes for a list of requests, and back. Decode errors are Corruption.
std::string EncodeDeleteRequests(const std::vector<DeleteRequest>& requests);
StatusOr<std::vector<DeleteRequest>> DecodeDeleteRequests(std::string_view bytes);

class DeleteRequestStore {
 public:
  // Lists are re-read from the store when the cached copy is older than `refresh_ns`, so a
  // querier sees requests another process (a separate compactor) added. Changes made through
  // this store are seen at once.
  explicit DeleteRequestStore(storage::ObjectStore* store, int64_t refresh_ns = 10'000'000'000);

  // The object key of a tenant's requests.
  static std::string KeyFor(std::string_view tenant);

  // Adds a request (validated by the caller) and returns it with its id and creation time.
  StatusOr<DeleteRequest> Add(std::string_view tenant, std::string query, int64_t start_ms,
                              int64_t end_ms, int64_t now_ms);
  // Every request of the tenant, oldest first.
  StatusOr<std::shared_ptr<const std::vector<ParsedDeleteRequest>>> List(std::string_view tenant);
  // Removes a request. NotFound when the tenant has no such request.
  Status Remove(std::string_view tenant, std::string_view id);
  // Marks requests processed (ids the tenant no longer has are ignored).
  Status MarkProcessed(std::string_view tenant, const std::vector<std::string>& ids);
  // Tenants that have a requests object.
  StatusOr<std::vector<std::string>> Tenants();

 private:
  using List_ = std::shared_ptr<const std::vector<ParsedDeleteRequest>>;
  StatusOr<List_> LoadLocked(std::string_view tenant);
  Status StoreLocked(std::string_view tenant, std::vector<DeleteRequest> requests);

  storage::ObjectStore* const store_;
  std::mutex mu_;  // serializes changes; guards cache_
  struct Cached {
    List_ list;
    int64_t loaded_mono = 0;
  };
  const int64_t refresh_ns_;
  std::map<std::string, Cached, std::less<>> cache_;
  std::mt19937_64 rng_;  // request ids; guarded by mu_
};

}  // namespace skald::compactor
