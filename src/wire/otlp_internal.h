// Internal helpers shared by the OTLP codec translation units (not a public API).
#pragma once

#include <string_view>

#include "core/status.h"
#include "wire/otlp.h"
#include "wire/push.h"

namespace skald::wire::internal {

// Maps the protobuf ExportLogsServiceRequest in `proto` (which *req must own or outlive) onto
// *req. `input_size` is the size of the body as received (after decompression), used for the
// expansion budget.
Status MapOtlpProtoInto(std::string_view proto, size_t input_size, const OtlpOptions& options,
                        PushRequest* req);

}  // namespace skald::wire::internal
