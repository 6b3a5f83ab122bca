#pragma once
// The data API: collections, records and superuser/record password auth,
// speaking PocketBase's wire format. Handlers call the Store; they never build SQL.

#include <boost/json/object.hpp>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "plinth/core/collection.hpp"
#include "plinth/http/router.hpp"
#include "plinth/observe/log.hpp"
#include "plinth/store/store.hpp"

namespace plinth::auth {
class LoginThrottle;
}
namespace plinth::store {
class AuthTables;
}

namespace plinth::api {

class TrustedProxy;

// First run: a one-time token that lets whoever holds it create the first
// superuser through POST /api/plinth/setup, until it expires or is used.
struct FirstRunSetup {
  std::string token_sha256;  // hex digest; empty = no setup offered
  std::chrono::steady_clock::time_point expires{};
  std::mutex mu;  // serialises setup attempts: exactly one can succeed
  bool used = false;
};

struct Services {
  store::Store& store;
  observe::Logger& logger;
  // Failed-login backoff per account and per client IP (none: no throttling).
  auth::LoginThrottle* account_throttle = nullptr;
  auth::LoginThrottle* ip_throttle = nullptr;
  // Audit log and API keys (none: neither is available).
  store::AuthTables* auth_tables = nullptr;
  FirstRunSetup* setup = nullptr;
  // Reconfigured when settings.trustedProxy changes (none: nothing to update).
  TrustedProxy* trusted_proxy = nullptr;
};

// Who is calling: resolved from the Authorization header (a bad or expired
// token means a guest, as PocketBase).
struct AuthContext {
  std::shared_ptr<const core::Collection> collection;
  boost::json::object record;
  // False for impersonation tokens: auth-refresh returns them unchanged.
  bool refreshable = true;
  bool superuser() const { return collection && collection->name == "_superusers"; }
  std::string id() const;
};

std::optional<AuthContext> authenticate(store::Store& store, std::string_view authorization);

// A signed auth token for `record` of auth collection `c` (PocketBase's claims and key).
std::string issue_auth_token(const core::Collection& c, const boost::json::object& record);

void register_data_routes(http::Router& router, Services& services);

}  // namespace plinth::api
