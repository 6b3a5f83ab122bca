#pragma once
// Brute-force defence for logins: failed attempts counted per key (an account,
// an IP address), with exponential backoff once a key has used up its free
// failures. State lives in memory on this node only; a restart forgets it and
// several nodes each count on their own.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace plinth::auth {

struct ThrottlePolicy {
  // Failures allowed before the first backoff.
  std::uint32_t free_failures = 5;
  // The first backoff; each further failure doubles it, up to max_backoff, so
  // the owner of an attacked account waits at most max_backoff between tries.
  std::chrono::milliseconds base_backoff{1000};
  std::chrono::milliseconds max_backoff{std::chrono::minutes(15)};
  // A key without failures for this long starts over.
  std::chrono::milliseconds forget_after{std::chrono::minutes(30)};
  // Bound on tracked keys; when full, expired keys are dropped first, then the
  // stalest ones.
  std::size_t max_keys = 100000;
};

class LoginThrottle {
 public:
  using Clock = std::chrono::steady_clock;
  explicit LoginThrottle(ThrottlePolicy policy,
                         std::function<Clock::time_point()> now = Clock::now);

  // Time left before `key` may try again; zero when it may try now. When
  // blocked and `first` is given, it is set true only for the first call that
  // saw this block (so a flood of refused attempts is reported once).
  std::chrono::milliseconds blocked_for(std::string_view key, bool* first = nullptr);
  // Counts a failed attempt and returns the backoff it started (zero while
  // failures are still free).
  std::chrono::milliseconds record_failure(std::string_view key);
  // Forgets `key` (a successful login of that account).
  void reset(std::string_view key);

  std::size_t tracked() const;
  const ThrottlePolicy& policy() const { return policy_; }

 private:
  struct Entry {
    std::uint32_t failures = 0;
    Clock::time_point last_failure{};
    Clock::time_point blocked_until{};
    bool block_reported = false;
  };
  void make_room(Clock::time_point now);

  ThrottlePolicy policy_;
  std::function<Clock::time_point()> now_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Entry> entries_;
};

}  // namespace plinth::auth
