#include "core/tenant.h"

namespace skald {

namespace {
bool IsTenantChar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  switch (c) {
    case '!':
    case '-':
    case '_':
    case '.':
    case '*':
    case '\'':
    case '(':
    case ')':
      return true;
    default:
      return false;
  }
}
}  // namespace

Status ValidateTenantID(std::string_view id) {
  if (id.empty()) return Status::Unauthenticated("no org id");
  if (id.size() > kMaxTenantIDLength) {
    return Status::InvalidArgument("tenant ID is too long: max 150 characters");
  }
  if (id == "." || id == "..") return Status::InvalidArgument("tenant ID is '.' or '..'");
  for (char c : id) {
    if (!IsTenantChar(c)) {
      return Status::InvalidArgument("tenant ID '" + std::string(id) +
                                     "' contains unsupported character '" + std::string(1, c) +
                                     "'");
    }
  }
  return Status::OK();
}

StatusOr<std::string> ResolveTenant(bool auth_enabled, std::string_view header,
                                    std::string_view no_auth_tenant) {
  if (!auth_enabled) return std::string(no_auth_tenant);
  if (header.empty()) return Status::Unauthenticated("no org id");
  if (header.find('|') != std::string_view::npos) {
    return Status::InvalidArgument("multiple org IDs present");
  }
  SKALD_RETURN_IF_ERROR(ValidateTenantID(header));
  return std::string(header);
}

}  // namespace skald
