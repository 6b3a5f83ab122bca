#pragma once
// Helpers of the account flows (not a public header): PocketBase's record
// tokens (verification, passwordReset, emailChange) and small in-memory limiters.

#include <boost/json/object.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "plinth/core/collection.hpp"
#include "plinth/store/store.hpp"
#include "record_tokens.hpp"

namespace plinth::api::detail {

// A token of `kind` for an account flow (verification, password reset, email change):
// record_tokens' claims plus the record's email and `extra`, lasting the collection's
// duration for that kind, or 30 minutes when it sets none.
std::string issue_account_token(const core::Collection& c, const boost::json::object& record,
                                TokenKind kind, const boost::json::object& extra = {});

// The unverified claims of a token (empty when it does not parse): only to tell which
// error a refused token gets, never to trust.
boost::json::object token_claims(std::string_view token);

// Keys that are "busy" until a deadline (resend guards).
class Cooldowns {
 public:
  // Marks `key` busy for `for_how_long` and returns true, unless it is busy
  // already (then false): checking and setting are one step.
  bool try_acquire(const std::string& key, std::chrono::seconds for_how_long);
  void clear(const std::string& key);

 private:
  void prune(std::chrono::steady_clock::time_point now);
  std::mutex mu_;
  std::map<std::string, std::chrono::steady_clock::time_point> until_;
};

// Counts events per key in fixed windows; hit() is false once `max` events
// happened within the key's current window.
class WindowLimiter {
 public:
  bool hit(const std::string& key, int max, std::chrono::seconds window);

 private:
  struct Slot {
    std::chrono::steady_clock::time_point start;
    int count = 0;
  };
  std::mutex mu_;
  std::map<std::string, Slot> slots_;
};

}  // namespace plinth::api::detail
