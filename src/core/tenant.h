// Tenant IDs: who owns a stream. Loki's rules: bytes from [a-zA-Z0-9!-_.*'()],
// at most 150 characters, not "." or "..".
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace skald {

inline constexpr std::string_view kDefaultNoAuthTenant = "fake";
inline constexpr size_t kMaxTenantIDLength = 150;

// OK, or InvalidArgument with Loki's text ("tenant ID 'x' contains unsupported
// character 'y'", "tenant ID is too long: max 150 characters", ...).
Status ValidateTenantID(std::string_view id);

// Resolves the tenant of a request. With auth off returns no_auth_tenant and
// ignores the header; with auth on an empty header is Unauthenticated("no org id").
// Pipe-separated multi-tenant headers are rejected here (push and single-tenant reads).
StatusOr<std::string> ResolveTenant(bool auth_enabled, std::string_view org_id_header,
                                    std::string_view no_auth_tenant = kDefaultNoAuthTenant);

}  // namespace skald
