// Malformed requests get a 400 envelope (or the specific 4xx) and the server stays up.

#include <gtest/gtest.h>

#include "test_support.hpp"

namespace plinth::test {
namespace {

TEST(HttpMalformed, EachKindIs400AndServerStaysUp) {
  ServerProcess s;
  const std::string tls_client_hello("\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03\x00\x01\x02\x03",
                                     15);
  struct Case {
    const char* name;
    std::string bytes;
    int status;
  } cases[] = {
      {"garbage", "\x01\x02\x03 garbage garbage\r\n\r\n", 400},
      {"bad method token", "G@T /api/health HTTP/1.1\r\nHost: t\r\n\r\n", 400},
      {"bad version", "GET /api/health HTTP/9.Z\r\nHost: t\r\n\r\n", 400},
      {"bad content length", "POST /api/health HTTP/1.1\r\nHost: t\r\nContent-Length: abc\r\n\r\n",
       400},
      {"negative content length",
       "POST /api/health HTTP/1.1\r\nHost: t\r\nContent-Length: -5\r\n\r\n", 400},
      {"two content lengths",
       "POST /api/health HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
       400},
      {"header without colon", "GET /api/health HTTP/1.1\r\nHost: t\r\nNoColonHere\r\n\r\n", 400},
      {"bad chunk size",
       "POST /api/health HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: "
       "chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
       400},
      {"tls hello on plain port", tls_client_hello + std::string(200, '\0') + "\r\n\r\n", 400},
      {"nul in target", std::string("GET /api/he\0alth HTTP/1.1\r\nHost: t\r\n\r\n", 38), 400},
  };
  for (const auto& c : cases) {
    Client cl(s.port());
    ASSERT_TRUE(cl.send(c.bytes)) << c.name;
    auto r = cl.read_response();
    ASSERT_TRUE(r) << c.name;
    EXPECT_EQ(r->status, c.status) << c.name;
    EXPECT_NE(r->body.find("\"status\":" + std::to_string(c.status)), std::string::npos) << c.name;
    EXPECT_FALSE(r->header("X-Request-Id").empty()) << c.name;
    EXPECT_TRUE(cl.closed_by_peer(std::chrono::seconds(2))) << c.name;

    Client after(s.port());
    auto ok = after.request("GET", "/api/health");
    ASSERT_TRUE(ok) << "server down after " << c.name;
    EXPECT_EQ(ok->status, 200);
  }
}

TEST(HttpMalformed, ClientVanishingMidRequestIsHarmless) {
  ServerProcess s;
  for (int i = 0; i < 20; ++i) {
    Client c(s.port());
    ASSERT_TRUE(c.send("POST /api/health HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\nabc"));
  }
  Client after(s.port());
  auto ok = after.request("GET", "/api/health");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
}

}  // namespace
}  // namespace plinth::test
