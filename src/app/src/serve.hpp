#pragma once
// `plinth serve`: wires the App (logger, metrics, router, pipeline, server) and runs it.

#include <string>
#include <vector>

#include "plinth/auth/throttle.hpp"
#include "plinth/http/server.hpp"
#include "plinth/realtime/hub.hpp"

namespace plinth::app {

struct ServeConfig {
  http::ServerOptions server;
  std::string dir = "plinth_data";
  std::vector<std::string> origins{"*"};
  bool access_log = true;
  // Mail outbox: first retry delay (doubling per failure), its cap, and the
  // attempts before a mail is marked failed.
  std::chrono::milliseconds mail_retry_base{2000};
  std::chrono::milliseconds mail_retry_max{600000};
  int mail_max_attempts = 150;
  // Queued mails beyond which mail requests are refused (503).
  std::int64_t mail_max_pending = 10000;
  std::string log_level = "info";
  std::string version;
  bool durability_full = true;
  realtime::Options realtime;
  // Failed-login backoff per account and per client IP.
  auth::ThrottlePolicy account_throttle;
  auth::ThrottlePolicy ip_throttle{.free_failures = 20};
  std::chrono::milliseconds audit_retention{std::chrono::hours(24 * 90)};
};

int run_serve(const ServeConfig& cfg);

// `plinth superuser upsert EMAIL PASSWORD`: creates or updates a superuser.
int run_superuser_upsert(const std::string& dir, const std::string& email,
                         const std::string& password);

}  // namespace plinth::app
