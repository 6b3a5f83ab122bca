// settings.trustedProxy: behind a reverse proxy, the client's address comes from the header the
// proxy sets (and only when one is configured), so per-IP defences see clients, not the proxy.
#include <thread>

#include "data_support.hpp"

namespace plinth::test::data {
namespace {

// A failed login for a fresh identity, sent with `X-Forwarded-For: xff` (none when empty).
int failed_login(std::uint16_t port, const std::string& xff) {
  static int n = 0;
  json::object body{{"identity", "nobody" + std::to_string(++n) + "@example.com"},
                    {"password", "Wrong-Password-1"}};
  std::vector<std::pair<std::string, std::string>> headers{{"Content-Type", "application/json"}};
  if (!xff.empty()) headers.emplace_back("X-Forwarded-For", xff);
  Client c(port, std::chrono::seconds(20));
  auto r = c.request("POST", "/api/collections/users/auth-with-password", headers,
                     json::serialize(body));
  return r ? r->status : 0;
}

// Failed logins from `xff` until the per-IP throttle answers 429; how many it took (0: never).
int failures_until_throttled(std::uint16_t port, const std::string& xff) {
  for (int i = 1; i <= 12; ++i) {
    if (failed_login(port, xff) == 429) return i;
  }
  return 0;
}

TEST(TrustedProxy, TheClientAddressComesFromTheConfiguredHeaderOnly) {
  SeededServer server({"--login-ip-free-failures", "3", "--login-backoff", "30s"});
  const auto& api = server.api();
  auto port = server.process().port();
  auto su = server.token();

  // Configured: the rightmost address of X-Forwarded-For is the client.
  auto set = api.patch("/api/settings", R"({"trustedProxy":{"headers":["X-Forwarded-For"]}})", su);
  ASSERT_EQ(set.status, 200) << set.body;
  EXPECT_EQ(str_at(set.json, "/trustedProxy/headers/0"), "X-Forwarded-For");
  // --login-ip-free-failures 3: the fourth failure starts the backoff, the fifth try meets it.
  EXPECT_EQ(failures_until_throttled(port, "10.1.1.1, 198.51.100.1"), 5);
  // Another client behind the same proxy is not throttled for the first one's failures.
  EXPECT_EQ(failed_login(port, "10.1.1.1, 198.51.100.2"), 400);
  // Spoofing a leftmost entry changes nothing: the proxy's (rightmost) entry counts.
  EXPECT_EQ(failed_login(port, "198.51.100.3, 198.51.100.1"), 429);

  // useLeftmostIP: the leftmost valid address counts instead (IPv6 compared in full).
  ASSERT_EQ(api.patch("/api/settings", R"({"trustedProxy":{"useLeftmostIP":true}})", su).status,
            200);
  EXPECT_EQ(failed_login(port, "garbage, 198.51.100.1, 10.2.2.2"), 429);
  EXPECT_EQ(failures_until_throttled(port, "2001:db8::7, 10.2.2.2"), 5);
  EXPECT_EQ(failed_login(port, "2001:0db8:0000:0000:0000:0000:0000:0007"), 429);

  // A header without a valid address falls back to the peer (127.0.0.1, not throttled yet).
  EXPECT_EQ(failed_login(port, "not-an-ip"), 400);

  // Not configured: the header is ignored, every failure counts against the peer.
  ASSERT_EQ(api.patch("/api/settings", R"({"trustedProxy":{"headers":[]}})", su).status, 200);
  EXPECT_EQ(failed_login(port, "198.51.100.9"), 400);  // the peer's second failure
  EXPECT_EQ(failures_until_throttled(port, "198.51.100.10"), 3);
}

TEST(TrustedProxy, InvalidSettingsAreRefusedAndChangeNothing) {
  SeededServer server;
  const auto& api = server.api();
  auto su = server.token();
  struct Case {
    const char* body;
    const char* pointer;
  } cases[] = {
      {R"({"trustedProxy":{"headers":"X-Forwarded-For"}})", "/data/trustedProxy/headers/code"},
      {R"({"trustedProxy":{"headers":["bad header"]}})", "/data/trustedProxy/headers/code"},
      {R"({"trustedProxy":{"headers":[1]}})", "/data/trustedProxy/headers/code"},
      {R"({"trustedProxy":{"useLeftmostIP":"yes"}})", "/data/trustedProxy/useLeftmostIP/code"},
      {R"({"trustedProxy":"X-Forwarded-For"})", "/data/trustedProxy/headers/code"},
  };
  for (const auto& c : cases) {
    auto r = api.patch("/api/settings", c.body, su);
    EXPECT_EQ(r.status, 400) << c.body;
    EXPECT_EQ(str_at(r.json, c.pointer), "validation_invalid_value") << c.body << " " << r.body;
  }
  auto now = api.get("/api/settings", su);
  ASSERT_EQ(now.status, 200);
  EXPECT_EQ(dump(at(now.json, "/trustedProxy")), R"({"headers":[],"useLeftmostIP":false})");
}

}  // namespace
}  // namespace plinth::test::data
