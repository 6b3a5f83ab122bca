// LoginThrottle with a simulated clock: free failures, doubling backoff,
// the cap, forgetting, reset on success, independence of keys, bounded memory.

#include "plinth/auth/throttle.hpp"

#include <gtest/gtest.h>

#include <string>

namespace plinth::auth {
namespace {

using namespace std::chrono_literals;
using std::chrono::milliseconds;

struct FakeClock {
  LoginThrottle::Clock::time_point t{std::chrono::hours(1)};
  auto fn() {
    return [this] { return t; };
  }
};

ThrottlePolicy policy() {
  ThrottlePolicy p;
  p.free_failures = 3;
  p.base_backoff = 1000ms;
  p.max_backoff = 8000ms;
  p.forget_after = 60000ms;
  p.max_keys = 10;
  return p;
}

TEST(LoginThrottle, FreeFailuresThenDoublingBackoffUpToTheCap) {
  FakeClock clock;
  LoginThrottle t(policy(), clock.fn());
  struct Step {
    const char* name;
    milliseconds started;
  } steps[] = {
      {"1st failure is free", 0ms}, {"2nd failure is free", 0ms},  {"3rd failure is free", 0ms},
      {"4th: base", 1000ms},        {"5th: doubled", 2000ms},      {"6th: doubled", 4000ms},
      {"7th: capped", 8000ms},      {"8th: still capped", 8000ms},
  };
  for (const auto& s : steps) {
    SCOPED_TRACE(s.name);
    EXPECT_EQ(t.blocked_for("acct"), 0ms);
    EXPECT_EQ(t.record_failure("acct"), s.started);
    EXPECT_EQ(t.blocked_for("acct"), s.started);
    clock.t += s.started;  // wait out the backoff before the next try
  }
}

TEST(LoginThrottle, RemainingTimeShrinksAndEnds) {
  FakeClock clock;
  LoginThrottle t(policy(), clock.fn());
  for (int i = 0; i < 4; ++i) t.record_failure("k");
  EXPECT_EQ(t.blocked_for("k"), 1000ms);
  clock.t += 400ms;
  EXPECT_EQ(t.blocked_for("k"), 600ms);
  clock.t += 600ms;
  EXPECT_EQ(t.blocked_for("k"), 0ms);
}

TEST(LoginThrottle, KeysAreIndependentAndResetForgets) {
  FakeClock clock;
  LoginThrottle t(policy(), clock.fn());
  for (int i = 0; i < 5; ++i) t.record_failure("victim");
  EXPECT_GT(t.blocked_for("victim"), 0ms);
  EXPECT_EQ(t.blocked_for("other"), 0ms);
  EXPECT_EQ(t.record_failure("other"), 0ms);
  t.reset("victim");
  EXPECT_EQ(t.blocked_for("victim"), 0ms);
  EXPECT_EQ(t.record_failure("victim"), 0ms) << "free failures start over after a reset";
}

TEST(LoginThrottle, EachBlockIsReportedOnce) {
  FakeClock clock;
  LoginThrottle t(policy(), clock.fn());
  for (int i = 0; i < 4; ++i) t.record_failure("k");
  bool first = false;
  EXPECT_GT(t.blocked_for("k", &first), 0ms);
  EXPECT_TRUE(first);
  EXPECT_GT(t.blocked_for("k", &first), 0ms);
  EXPECT_FALSE(first) << "the same block again";
  clock.t += 1000ms;
  t.record_failure("k");  // a new, longer block
  EXPECT_GT(t.blocked_for("k", &first), 0ms);
  EXPECT_TRUE(first);
}

TEST(LoginThrottle, QuietKeysStartOver) {
  FakeClock clock;
  LoginThrottle t(policy(), clock.fn());
  for (int i = 0; i < 5; ++i) t.record_failure("k");
  clock.t += 60000ms;
  EXPECT_EQ(t.blocked_for("k"), 0ms);
  EXPECT_EQ(t.record_failure("k"), 0ms);
}

TEST(LoginThrottle, TrackedKeysStayBounded) {
  FakeClock clock;
  LoginThrottle t(policy(), clock.fn());
  for (int i = 0; i < 100; ++i) {
    t.record_failure("key" + std::to_string(i));
    clock.t += 1ms;
  }
  EXPECT_LE(t.tracked(), 10u);
  // The newest key kept its count: its 4th failure starts the backoff.
  t.record_failure("key99");
  t.record_failure("key99");
  EXPECT_EQ(t.record_failure("key99"), 1000ms);
}

}  // namespace
}  // namespace plinth::auth
