// Delete requests: see delete_requests.h and docs/formats/compactor.md.
#include "compactor/delete_requests.h"

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <random>
#include <utility>

#include "core/go_string.h"
#include "core/parse.h"
#include "core/tenant.h"
#include "core/time.h"
#include "logql/ast.h"
#include "logql/parser.h"

namespace skald::compactor {
namespace {

constexpr std::string_view kHeader = "skald-delete-requests 1\n";
constexpr std::string_view kPrefix = "deletes/";

bool ParseI64(std::string_view s, int64_t* out) { return ParseGoInt(s, out) == NumError::kNone; }

// Splits off the next space-separated field of *rest.
std::string_view NextField(std::string_view* rest) {
  const size_t sp = rest->find(' ');
  std::string_view f = rest->substr(0, sp);
  *rest = sp == std::string_view::npos ? std::string_view() : rest->substr(sp + 1);
  return f;
}

}  // namespace

StatusOr<ParsedDeleteRequest> ParseDeleteRequest(DeleteRequest r) {
  auto expr = logql::ParseExpr(r.query);
  if (!expr.ok() || (*expr)->kind() != logql::ExprKind::kLogSelector) {
    return Status::InvalidArgument("invalid query expression");
  }
  const auto& sel = static_cast<const logql::LogSelector&>(**expr);
  ParsedDeleteRequest p;
  p.matchers = sel.matchers;
  if (!sel.line_filters.empty() || !sel.stages.empty()) {
    auto pipeline = logql::Pipeline::Compile(sel);
    if (!pipeline.ok()) return Status::InvalidArgument("invalid query expression");
    p.pipeline = *std::move(pipeline);
  }
  p.request = std::move(r);
  return p;
}

std::string EncodeDeleteRequests(const std::vector<DeleteRequest>& requests) {
  std::string out(kHeader);
  for (const DeleteRequest& r : requests) {
    char buf[128];
    std::snprintf(buf, sizeof(buf), " %s %" PRId64 " %" PRId64 " %" PRId64 " ",
                  r.processed ? "processed" : "received", r.created_ms, r.start_ms, r.end_ms);
    out += r.id;
    out += buf;
    AppendGoQuoted(&out, r.query);
    out.push_back('\n');
  }
  return out;
}

StatusOr<std::vector<DeleteRequest>> DecodeDeleteRequests(std::string_view bytes) {
  if (bytes.substr(0, kHeader.size()) != kHeader) {
    return Status::Corruption("delete requests: bad header");
  }
  bytes.remove_prefix(kHeader.size());
  std::vector<DeleteRequest> out;
  int line_no = 1;
  while (!bytes.empty()) {
    line_no++;
    const size_t nl = bytes.find('\n');
    if (nl == std::string_view::npos) {
      return Status::Corruption("delete requests: line " + std::to_string(line_no) +
                                " is not terminated");
    }
    std::string_view rest = bytes.substr(0, nl);
    bytes.remove_prefix(nl + 1);
    DeleteRequest r;
    r.id = std::string(NextField(&rest));
    const std::string_view status = NextField(&rest);
    const bool ok_fields = !r.id.empty() && (status == "received" || status == "processed") &&
                           ParseI64(NextField(&rest), &r.created_ms) &&
                           ParseI64(NextField(&rest), &r.start_ms) &&
                           ParseI64(NextField(&rest), &r.end_ms);
    auto query = ok_fields ? GoUnquote(rest) : StatusOr<std::string>(Status::Corruption(""));
    if (!ok_fields || !query.ok()) {
      return Status::Corruption("delete requests: line " + std::to_string(line_no) +
                                " does not parse");
    }
    r.processed = status == "processed";
    r.query = *std::move(query);
    out.push_back(std::move(r));
  }
  return out;
}

DeleteRequestStore::DeleteRequestStore(storage::ObjectStore* store, int64_t refresh_ns)
    : store_(store), refresh_ns_(refresh_ns) {
  std::random_device rd;
  rng_.seed((static_cast<uint64_t>(rd()) << 32) ^ rd() ^
            static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()));
}

std::string DeleteRequestStore::KeyFor(std::string_view tenant) {
  std::string key(kPrefix);
  key.append(tenant);
  key.append("/requests");
  return key;
}

StatusOr<DeleteRequestStore::List_> DeleteRequestStore::LoadLocked(std::string_view tenant) {
  SKALD_RETURN_IF_ERROR(ValidateTenantID(tenant));
  auto it = cache_.find(tenant);
  if (it != cache_.end() && MonotonicNanos() - it->second.loaded_mono < refresh_ns_) {
    return it->second.list;
  }
  std::vector<DeleteRequest> requests;
  StatusOr<std::string> bytes = store_->Get(KeyFor(tenant));
  if (bytes.ok()) {
    SKALD_ASSIGN_OR_RETURN(requests, DecodeDeleteRequests(*bytes));
  } else if (bytes.status().code() != StatusCode::kNotFound) {
    return bytes.status();
  }
  auto parsed = std::make_shared<std::vector<ParsedDeleteRequest>>();
  for (DeleteRequest& r : requests) {
    auto p = ParseDeleteRequest(std::move(r));
    // A stored query was valid when added; one a later version cannot parse is kept out of
    // filtering rather than failing every query of the tenant.
    if (p.ok()) parsed->push_back(*std::move(p));
  }
  List_ list = std::move(parsed);
  cache_[std::string(tenant)] = {list, MonotonicNanos()};
  return list;
}

Status DeleteRequestStore::StoreLocked(std::string_view tenant,
                                       std::vector<DeleteRequest> requests) {
  SKALD_RETURN_IF_ERROR(store_->Put(KeyFor(tenant), EncodeDeleteRequests(requests)));
  auto parsed = std::make_shared<std::vector<ParsedDeleteRequest>>();
  for (DeleteRequest& r : requests) {
    auto p = ParseDeleteRequest(std::move(r));
    if (p.ok()) parsed->push_back(*std::move(p));
  }
  cache_[std::string(tenant)] = {std::move(parsed), MonotonicNanos()};
  return Status::OK();
}

StatusOr<DeleteRequest> DeleteRequestStore::Add(std::string_view tenant, std::string query,
                                                int64_t start_ms, int64_t end_ms, int64_t now_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  SKALD_ASSIGN_OR_RETURN(List_ current, LoadLocked(tenant));
  std::vector<DeleteRequest> next;
  for (const ParsedDeleteRequest& p : *current) next.push_back(p.request);
  DeleteRequest r;
  // An id unique within the tenant: 32 random bits, redrawn on a collision.
  while (true) {
    char buf[16];
    std::snprintf(buf, sizeof(buf), "%08" PRIx32, static_cast<uint32_t>(rng_()));
    r.id = buf;
    const bool taken =
        std::any_of(next.begin(), next.end(), [&](const DeleteRequest& o) { return o.id == r.id; });
    if (!taken) break;
  }
  r.query = std::move(query);
  r.start_ms = start_ms;
  r.end_ms = end_ms;
  r.created_ms = now_ms;
  next.push_back(r);
  SKALD_RETURN_IF_ERROR(StoreLocked(tenant, std::move(next)));
  return r;
}

StatusOr<std::shared_ptr<const std::vector<ParsedDeleteRequest>>> DeleteRequestStore::List(
    std::string_view tenant) {
  std::lock_guard<std::mutex> lock(mu_);
  return LoadLocked(tenant);
}

Status DeleteRequestStore::Remove(std::string_view tenant, std::string_view id) {
  std::lock_guard<std::mutex> lock(mu_);
  SKALD_ASSIGN_OR_RETURN(List_ current, LoadLocked(tenant));
  std::vector<DeleteRequest> next;
  bool found = false;
  for (const ParsedDeleteRequest& p : *current) {
    if (p.request.id == id) {
      found = true;
      continue;
    }
    next.push_back(p.request);
  }
  if (!found) return Status::NotFound("could not find delete request with given id");
  return StoreLocked(tenant, std::move(next));
}

Status DeleteRequestStore::MarkProcessed(std::string_view tenant,
                                         const std::vector<std::string>& ids) {
  std::lock_guard<std::mutex> lock(mu_);
  SKALD_ASSIGN_OR_RETURN(List_ current, LoadLocked(tenant));
  std::vector<DeleteRequest> next;
  bool changed = false;
  for (const ParsedDeleteRequest& p : *current) {
    next.push_back(p.request);
    if (!p.request.processed && std::find(ids.begin(), ids.end(), p.request.id) != ids.end()) {
      next.back().processed = true;
      changed = true;
    }
  }
  if (!changed) return Status::OK();
  return StoreLocked(tenant, std::move(next));
}

StatusOr<std::vector<std::string>> DeleteRequestStore::Tenants() {
  SKALD_ASSIGN_OR_RETURN(std::vector<std::string> keys, store_->List(kPrefix));
  std::vector<std::string> out;
  for (const std::string& k : keys) {
    std::string_view rest = std::string_view(k).substr(kPrefix.size());
    const size_t slash = rest.find('/');
    if (slash == std::string_view::npos || rest.substr(slash) != "/requests") continue;
    out.emplace_back(rest.substr(0, slash));
  }
  return out;
}

}  // namespace skald::compactor
