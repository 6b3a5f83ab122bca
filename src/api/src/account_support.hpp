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

namespace plinth::api::detail {

// A record token of `type` for `record`: HS256 over PocketBase's claims (id,
// type, collectionId, email, exp, plus `extra`), keyed by the record's tokenKey
// + options.<secret_option>.secret, valid for options.<secret_option>.duration.
std::string issue_record_token(const core::Collection& c, const boost::json::object& record,
                               std::string_view type, std::string_view secret_option,
                               const boost::json::object& extra = {});

struct VerifiedToken {
  std::shared_ptr<const core::Collection> collection;
  boost::json::object record;
  boost::json::object claims;
};

// The unverified claims of a token (empty when it does not parse).
boost::json::object token_claims(std::string_view token);

// Checks a record token: the type claim, a live auth collection and record,
// the signature with the record's current tokenKey (so a tokenKey change
// revokes it), `exp` in the future and `nbf`, if any, in the past.
std::optional<VerifiedToken> verify_record_token(store::Store& store, std::string_view token,
                                                 std::string_view type,
                                                 std::string_view secret_option);

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

std::int64_t unix_seconds();

}  // namespace plinth::api::detail
