// The middleware chain seen from outside: request id, traceparent, access log,
// CORS, security headers, gzip, and /metrics accepted by promtool.

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "test_support.hpp"

namespace plinth::test {
namespace {

using namespace std::chrono_literals;

TEST(HttpMiddleware, RequestIdPropagatedOrGenerated) {
  ServerProcess s;
  Client c(s.port());
  auto r = c.request("GET", "/api/health", {{"X-Request-Id", "req-abc.123"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->header("X-Request-Id"), "req-abc.123");
  r = c.request("GET", "/api/health");
  ASSERT_TRUE(r);
  auto generated = r->header("X-Request-Id");
  EXPECT_EQ(generated.size(), 16U);
  r = c.request("GET", "/api/health");
  ASSERT_TRUE(r);
  EXPECT_NE(r->header("X-Request-Id"), generated);
}

TEST(HttpMiddleware, TraceparentContinued) {
  ServerProcess s;
  Client c(s.port());
  const std::string trace = "4bf92f3577b34da6a3ce929d0e0e4736";
  auto r =
      c.request("GET", "/api/health", {{"traceparent", "00-" + trace + "-00f067aa0ba902b7-01"}});
  ASSERT_TRUE(r);
  auto tp = r->header("traceparent");
  ASSERT_EQ(tp.size(), 55U);
  EXPECT_EQ(tp.substr(3, 32), trace);
  EXPECT_NE(tp.substr(36, 16), "00f067aa0ba902b7");
  ASSERT_TRUE(s.wait_for_log(trace, 2s));

  r = c.request("GET", "/api/health", {{"traceparent", "garbage"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->header("traceparent").size(), 55U);
  EXPECT_EQ(r->header("traceparent").find(trace), std::string::npos);
}

TEST(HttpMiddleware, AccessLogLineHasFieldsAndNoSecrets) {
  ServerProcess s;
  Client c(s.port());
  auto r = c.request("POST", "/api/health?token=SECRETQUERY",
                     {{"Authorization", "Bearer SECRETTOKEN"}, {"X-Request-Id", "logcheck1"}},
                     "SECRETBODY");
  ASSERT_TRUE(r);
  ASSERT_TRUE(s.wait_for_log("logcheck1", 2s));
  std::string line;
  for (const auto& l : s.log_lines()) {
    if (l.find("logcheck1") != std::string::npos) line = l;
  }
  for (const char* field : {"\"time\":", "\"method\":\"POST\"", "\"route\":\"-\"", "\"status\":405",
                            "\"bytes\":", "\"durationUs\":", "\"requestId\":\"logcheck1\"",
                            "\"ip\":\"127.0.0.1\"", "\"traceId\":"}) {
    EXPECT_NE(line.find(field), std::string::npos) << field << " in " << line;
  }
  for (const auto& l : s.log_lines()) {
    EXPECT_EQ(l.find("SECRET"), std::string::npos) << l;
  }

  r = c.request("GET", "/api/health", {{"X-Request-Id", "logcheck2"}});
  ASSERT_TRUE(s.wait_for_log("logcheck2", 2s));
  bool has_template = false;
  for (const auto& l : s.log_lines()) {
    if (l.find("logcheck2") != std::string::npos)
      has_template = l.find("\"route\":\"/api/health\"") != std::string::npos;
  }
  EXPECT_TRUE(has_template);
}

TEST(HttpMiddleware, SecurityHeadersEverywhere) {
  ServerProcess s;
  for (const char* path : {"/api/health", "/nope"}) {
    Client c(s.port());
    auto r = c.request("GET", path);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->header("X-Content-Type-Options"), "nosniff") << path;
    EXPECT_EQ(r->header("X-Frame-Options"), "SAMEORIGIN") << path;
    EXPECT_FALSE(r->header("Referrer-Policy").empty()) << path;
  }
}

TEST(HttpMiddleware, CorsAnyOriginByDefault) {
  ServerProcess s;
  Client c(s.port());
  auto r = c.request("GET", "/api/health", {{"Origin", "https://app.example"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->header("Access-Control-Allow-Origin"), "*");
  r = c.request("OPTIONS", "/api/health",
                {{"Origin", "https://app.example"},
                 {"Access-Control-Request-Method", "POST"},
                 {"Access-Control-Request-Headers", "authorization, content-type"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 204);
  EXPECT_NE(r->header("Access-Control-Allow-Methods").find("PATCH"), std::string::npos);
  EXPECT_EQ(r->header("Access-Control-Allow-Headers"), "authorization, content-type");
}

TEST(HttpMiddleware, CorsRestrictedOrigins) {
  ServerProcess s({"--origins", "https://good.example,https://also.example"});
  Client c(s.port());
  auto r = c.request("GET", "/api/health", {{"Origin", "https://good.example"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->header("Access-Control-Allow-Origin"), "https://good.example");
  EXPECT_NE(r->header("Vary").find("Origin"), std::string::npos);
  r = c.request("GET", "/api/health", {{"Origin", "https://evil.example"}});
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->has_header("Access-Control-Allow-Origin"));
  r = c.request("OPTIONS", "/api/health",
                {{"Origin", "https://evil.example"}, {"Access-Control-Request-Method", "POST"}});
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->has_header("Access-Control-Allow-Methods"));
}

TEST(HttpMiddleware, GzipWhenAcceptedAndLargeEnough) {
  ServerProcess s;
  Client c(s.port());
  auto plain = c.request("GET", "/metrics");
  ASSERT_TRUE(plain);
  ASSERT_GT(plain->body.size(), 1024U);
  EXPECT_FALSE(plain->has_header("Content-Encoding"));

  auto zipped = c.request("GET", "/metrics", {{"Accept-Encoding", "gzip, deflate"}});
  ASSERT_TRUE(zipped);
  EXPECT_EQ(zipped->header("Content-Encoding"), "gzip");
  EXPECT_NE(zipped->header("Vary").find("Accept-Encoding"), std::string::npos);
  auto text = gunzip(zipped->body);
  EXPECT_EQ(text.rfind("# HELP", 0), 0U);

  auto refused = c.request("GET", "/metrics", {{"Accept-Encoding", "gzip;q=0"}});
  ASSERT_TRUE(refused);
  EXPECT_FALSE(refused->has_header("Content-Encoding"));

  auto small = c.request("GET", "/api/health", {{"Accept-Encoding", "gzip"}});
  ASSERT_TRUE(small);
  EXPECT_FALSE(small->has_header("Content-Encoding")) << "bodies under 1 KiB stay plain";
}

TEST(HttpMiddleware, MetricsPassPromtoolAndCountRequests) {
  ServerProcess s;
  Client c(s.port());
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(c.request("GET", "/api/health"));
  ASSERT_TRUE(c.request("GET", "/nope"));
  auto r = c.request("GET", "/metrics");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  const auto& m = r->body;
  for (const char* want :
       {"plinth_http_requests_total{method=\"GET\",route=\"/api/health\",status=\"2xx\"} 3",
        "plinth_http_requests_total{method=\"GET\",route=\"-\",status=\"4xx\"} 1",
        "plinth_http_request_duration_seconds_bucket{method=\"GET\",route=\"/api/"
        "health\",status=\"2xx\",le=\"+Inf\"} 3",
        "plinth_http_open_connections 1", "plinth_http_requests_in_flight 1",
        "process_resident_memory_bytes ", "process_open_fds ", "plinth_uptime_seconds ",
        "plinth_build_info{version="}) {
    EXPECT_NE(m.find(want), std::string::npos) << want;
  }
  TempDir tmp;
  std::string file = tmp.path() + "/metrics.txt";
  std::ofstream(file) << m;
  std::string out;
  int rc = run_command("promtool check metrics < " + file + " 2>&1", &out);
  EXPECT_EQ(rc, 0) << out;
}

}  // namespace
}  // namespace plinth::test
