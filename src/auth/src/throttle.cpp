#include "plinth/auth/throttle.hpp"

#include <algorithm>
#include <vector>

namespace plinth::auth {

using std::chrono::duration_cast;
using std::chrono::milliseconds;

LoginThrottle::LoginThrottle(ThrottlePolicy policy, std::function<Clock::time_point()> now)
    : policy_(policy), now_(std::move(now)) {}

milliseconds LoginThrottle::blocked_for(std::string_view key, bool* first) {
  auto now = now_();
  std::lock_guard lock(mu_);
  auto it = entries_.find(std::string(key));
  if (it == entries_.end()) return milliseconds(0);
  if (it->second.blocked_until <= now) return milliseconds(0);
  if (first) {
    *first = !it->second.block_reported;
    it->second.block_reported = true;
  }
  return duration_cast<milliseconds>(it->second.blocked_until - now);
}

milliseconds LoginThrottle::record_failure(std::string_view key) {
  auto now = now_();
  std::lock_guard lock(mu_);
  auto it = entries_.find(std::string(key));
  if (it == entries_.end()) {
    if (entries_.size() >= policy_.max_keys) make_room(now);
    it = entries_.emplace(std::string(key), Entry{}).first;
  }
  auto& e = it->second;
  if (e.failures > 0 && now - e.last_failure >= policy_.forget_after) e = Entry{};
  ++e.failures;
  e.last_failure = now;
  if (e.failures <= policy_.free_failures) return milliseconds(0);
  // base * 2^(over - 1), computed without overflow and capped.
  std::uint32_t over = e.failures - policy_.free_failures;
  milliseconds backoff = policy_.base_backoff;
  for (std::uint32_t i = 1; i < over && backoff < policy_.max_backoff; ++i) backoff *= 2;
  backoff = std::min(backoff, policy_.max_backoff);
  e.blocked_until = now + backoff;
  e.block_reported = false;
  return backoff;
}

void LoginThrottle::reset(std::string_view key) {
  std::lock_guard lock(mu_);
  entries_.erase(std::string(key));
}

std::size_t LoginThrottle::tracked() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

void LoginThrottle::make_room(Clock::time_point now) {
  for (auto it = entries_.begin(); it != entries_.end();) {
    bool expired =
        it->second.blocked_until <= now && now - it->second.last_failure >= policy_.forget_after;
    it = expired ? entries_.erase(it) : std::next(it);
  }
  if (entries_.size() < policy_.max_keys) return;
  // Still full: drop the stalest tenth (by last failure).
  std::vector<std::pair<Clock::time_point, std::string>> by_age;
  by_age.reserve(entries_.size());
  for (const auto& [k, e] : entries_) by_age.emplace_back(e.last_failure, k);
  auto n = std::max<std::size_t>(1, by_age.size() / 10);
  std::nth_element(by_age.begin(), by_age.begin() + static_cast<std::ptrdiff_t>(n - 1),
                   by_age.end());
  for (std::size_t i = 0; i < n; ++i) entries_.erase(by_age[i].second);
}

}  // namespace plinth::auth
