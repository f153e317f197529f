// Combining the JSON answers (Loki's query_range response shape) of a query's subqueries into
// the one answer the client gets. Bodies must be `"status":"success"` responses; a body that
// is not is InvalidArgument (the caller passes querier errors through before merging).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace skald::frontend {

// Matrix answers. With `sum`, samples of the same series at the same timestamp are added (the
// shards of a sum); otherwise the first one is kept (time splits never overlap). Series come
// out ordered by their labels, samples by time. Stats are added field by field.
StatusOr<std::string> MergeMatrices(const std::vector<std::string_view>& bodies, bool sum);

// Streams answers: the `limit` newest (oldest when forward) entries over all bodies, grouped
// by stream (streams ordered by their labels, entries in query direction). Entries are kept as
// they were encoded (structured metadata and parsed labels included). Stats are added.
StatusOr<std::string> MergeStreams(const std::vector<std::string_view>& bodies, uint32_t limit,
                                   bool forward);

}  // namespace skald::frontend
