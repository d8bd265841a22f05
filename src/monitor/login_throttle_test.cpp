#include "monitor/login_throttle.hpp"

#include <gtest/gtest.h>

namespace stagepass {
namespace {

TEST(LoginThrottle, BlocksAnAccountAfterTooManyFailuresThenForgives) {
  LoginThrottle t({3, 100, 60, 1000});
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(t.retry_after("a@x", "1.1.1.1", 100 + i), 0);
    t.record_failure("a@x", "1.1.1.1", 100 + i);
  }
  EXPECT_EQ(t.retry_after("a@x", "2.2.2.2", 103), 57);
  EXPECT_EQ(t.retry_after("b@x", "1.1.1.1", 103), 0);
  EXPECT_EQ(t.retry_after("a@x", "1.1.1.1", 161), 0);
}

TEST(LoginThrottle, BlocksAnIpAcrossAccounts) {
  LoginThrottle t({100, 2, 60, 1000});
  t.record_failure("a@x", "9.9.9.9", 10);
  t.record_failure("b@x", "9.9.9.9", 11);
  EXPECT_GT(t.retry_after("c@x", "9.9.9.9", 12), 0);
  EXPECT_EQ(t.retry_after("c@x", "8.8.8.8", 12), 0);
}

TEST(LoginThrottle, SuccessClearsTheAccountCounter) {
  LoginThrottle t({2, 100, 60, 1000});
  t.record_failure("a@x", "1", 10);
  t.record_success("a@x");
  t.record_failure("a@x", "1", 11);
  EXPECT_EQ(t.retry_after("a@x", "1", 12), 0);
}

}  // namespace
}  // namespace stagepass
