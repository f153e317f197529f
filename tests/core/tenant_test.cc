#include "core/tenant.h"

#include <gtest/gtest.h>

namespace skald {
namespace {

TEST(TenantTest, AuthOffUsesNoAuthTenant) {
  EXPECT_EQ(*ResolveTenant(false, "ignored"), "fake");
  EXPECT_EQ(*ResolveTenant(false, "", "other"), "other");
}

TEST(TenantTest, AuthOnRequiresHeader) {
  auto t = ResolveTenant(true, "");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(t.status().message(), "no org id");
  EXPECT_EQ(*ResolveTenant(true, "team-a_1.(x)*'!"), "team-a_1.(x)*'!");
}

TEST(TenantTest, InvalidIDs) {
  EXPECT_EQ(ValidateTenantID("a/b").message(),
            "tenant ID 'a/b' contains unsupported character '/'");
  EXPECT_EQ(ValidateTenantID(std::string(151, 'a')).message(),
            "tenant ID is too long: max 150 characters");
  EXPECT_FALSE(ValidateTenantID("..").ok());
  EXPECT_FALSE(ResolveTenant(true, "a|b").ok());
}

}  // namespace
}  // namespace skald
