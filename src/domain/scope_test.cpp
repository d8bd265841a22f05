#include "domain/scope.hpp"

#include <gtest/gtest.h>

namespace stagepass {
namespace {

TEST(ScopeSet, NormalisesAndCompares) {
  auto a = ScopeSet::parse("user-read-email  user-library-read user-read-email");
  EXPECT_EQ(a.str(), "user-library-read user-read-email");
  EXPECT_TRUE(ScopeSet::parse("user-read-email").subset_of(a));
  EXPECT_FALSE(ScopeSet::parse("streaming").subset_of(a));
  EXPECT_TRUE(ScopeSet().subset_of(a));
}

TEST(ScopeSet, FindsUnknownScopes) {
  EXPECT_FALSE(ScopeSet::parse("user-read-email streaming").first_unknown());
  EXPECT_EQ(ScopeSet::parse("user-read-email admin").first_unknown(), "admin");
  EXPECT_EQ(find_scope("user-library-read")->description, "View your saved tracks");
}

}  // namespace
}  // namespace stagepass
