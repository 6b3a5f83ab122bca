// Every edge limit, crossed: request line, headers, body (announced and
// streamed), slow clients, idle keep-alive, connection count.

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "test_support.hpp"

namespace plinth::test {
namespace {

using namespace std::chrono_literals;

TEST(HttpLimits, RequestLineTooLongIs414) {
  ServerProcess s({"--max-request-line", "1KiB"});
  Client ok(s.port());
  auto r = ok.request("GET", "/api/health?x=" + std::string(900, 'a'));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);

  Client c(s.port());
  r = c.request("GET", "/api/health?x=" + std::string(2000, 'a'));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 414);
  EXPECT_NE(r->body.find("\"status\":414"), std::string::npos);
  EXPECT_TRUE(c.closed_by_peer(2s));
}

TEST(HttpLimits, HeadersTooLargeIs431) {
  ServerProcess s({"--max-header-bytes", "2KiB"});
  Client ok(s.port());
  auto r = ok.request("GET", "/api/health", {{"X-Fill", std::string(1500, 'a')}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);

  struct Case {
    const char* name;
    std::vector<std::pair<std::string, std::string>> headers;
  } cases[] = {
      {"one big header", {{"X-Fill", std::string(4000, 'a')}}},
      {"many headers", {}},
  };
  for (int i = 0; i < 100; ++i)
    cases[1].headers.emplace_back("X-H" + std::to_string(i), std::string(40, 'b'));
  for (const auto& c : cases) {
    Client cl(s.port());
    auto res = cl.request("GET", "/api/health", c.headers);
    ASSERT_TRUE(res) << c.name;
    EXPECT_EQ(res->status, 431) << c.name;
    EXPECT_NE(res->body.find("\"status\":431"), std::string::npos) << c.name;
  }
}

// Resident memory of the server, from its own /metrics.
double server_rss(std::uint16_t port) {
  Client m(port);
  auto metrics = m.request("GET", "/metrics");
  if (!metrics) return -1;
  auto pos = metrics->body.find("\nprocess_resident_memory_bytes ");
  if (pos == std::string::npos) return -1;
  return std::stod(metrics->body.substr(pos + 31));
}

TEST(HttpLimits, AnnouncedHugeUploadCutWithoutBuffering) {
  ServerProcess s;  // default 32 MiB body limit
  // Growth is what counts: the baseline differs between builds (sanitizers).
  double before = server_rss(s.port());
  ASSERT_GT(before, 0);
  Client c(s.port());
  // Announce 300 MB; the refusal must come right after the header, before the body.
  ASSERT_TRUE(c.send("POST /api/health HTTP/1.1\r\nHost: t\r\nContent-Length: 314572800\r\n\r\n"));
  std::string chunk(1 << 20, 'z');
  ASSERT_TRUE(c.send(chunk));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  EXPECT_NE(r->body.find("\"status\":413"), std::string::npos);
  EXPECT_EQ(r->header("Connection"), "close");
  // Keep pushing the rest of the upload: the server stops taking it early.
  std::size_t sent = chunk.size();
  for (int i = 0; i < 299; ++i) {
    if (!c.send(chunk)) break;
    sent += chunk.size();
  }
  EXPECT_LT(sent, 64u << 20) << "server kept reading an upload it had refused";

  double after = server_rss(s.port());
  ASSERT_GT(after, 0);
  EXPECT_LT(after - before, 40.0 * 1024 * 1024) << "the refused upload was buffered";
}

TEST(HttpLimits, StreamedChunkedBodyOverLimitIs413) {
  ServerProcess s({"--max-body-bytes", "1MiB"});
  Client ok(s.port());
  auto r = ok.request("POST", "/api/health", {}, std::string(1000 * 1000, 'a'));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 405) << "a body under the limit reaches routing";

  Client c(s.port());
  ASSERT_TRUE(c.send("POST /api/health HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"));
  std::string piece(64 * 1024, 'q');
  char size_line[32];
  std::snprintf(size_line, sizeof(size_line), "%zx\r\n", piece.size());
  for (int i = 0; i < 40; ++i) {
    if (!c.send(std::string(size_line) + piece + "\r\n")) break;
  }
  auto res = c.read_response();
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 413);
}

TEST(HttpLimits, SlowClientCutOffWhileOthersAreServed) {
  ServerProcess s({"--read-timeout", "1s"});
  Client slow(s.port());
  std::string req = build_request("GET", "/api/health");
  std::atomic<bool> cut{false};
  std::thread trickle([&] {
    for (std::size_t i = 0; i < req.size() - 2; ++i) {  // never finishes the request
      if (!slow.send(req.substr(i, 1))) {
        cut = true;
        return;
      }
      std::this_thread::sleep_for(100ms);
    }
  });
  // Meanwhile other clients are answered promptly.
  for (int i = 0; i < 10; ++i) {
    Client c(s.port());
    auto r = c.request("GET", "/api/health");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_TRUE(slow.closed_by_peer(5s)) << "trickling client was not cut off";
  trickle.join();
}

TEST(HttpLimits, IdleKeepAliveConnectionClosed) {
  ServerProcess s({"--idle-timeout", "500ms"});
  Client c(s.port());
  auto r = c.request("GET", "/api/health");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(c.closed_by_peer(5s));
  EXPECT_GE(std::chrono::steady_clock::now() - start, 300ms);
}

// The keep-alive wait is counted from each request: a client that keeps asking more often than
// the idle timeout keeps its connection, an idle one beside it is closed on time.
TEST(HttpLimits, IdleTimeoutCountsFromTheLastRequest) {
  ServerProcess s({"--idle-timeout", "600ms", "--threads", "1"});
  Client busy(s.port());
  Client idle(s.port());
  auto first = idle.request("GET", "/api/health");
  ASSERT_TRUE(first);
  auto start = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - start < 1800ms) {
    auto r = busy.request("GET", "/api/health");
    ASSERT_TRUE(r) << "closed while in use";
    EXPECT_EQ(r->status, 200);
    std::this_thread::sleep_for(200ms);
  }
  EXPECT_TRUE(idle.closed_by_peer(100ms)) << "the idle connection outlived its timeout";
  EXPECT_FALSE(busy.closed_by_peer(100ms));
  auto last = busy.request("GET", "/api/health");
  ASSERT_TRUE(last);
  EXPECT_EQ(last->status, 200);
}

TEST(HttpLimits, ExcessConnectionsRefusedEstablishedUnharmed) {
  ServerProcess s({"--max-connections", "4", "--threads", "1"});
  std::vector<std::unique_ptr<Client>> held;
  for (int i = 0; i < 4; ++i) {
    held.push_back(std::make_unique<Client>(s.port()));
    auto r = held.back()->request("GET", "/api/health");
    ASSERT_TRUE(r) << i;
    EXPECT_EQ(r->status, 200);
  }
  Client extra(s.port());
  auto refused = extra.read_response();
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 503);
  EXPECT_NE(refused->body.find("\"status\":503"), std::string::npos);
  EXPECT_TRUE(extra.closed_by_peer(2s));
  for (auto& c : held) {
    auto r = c->request("GET", "/api/health");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
  }
  held.pop_back();
  // A freed slot is usable again (the close is noticed asynchronously).
  bool served = false;
  for (int i = 0; i < 50 && !served; ++i) {
    Client again(s.port());
    auto r = again.request("GET", "/api/health");
    served = r && r->status == 200;
    if (!served) std::this_thread::sleep_for(50ms);
  }
  EXPECT_TRUE(served);
}

}  // namespace
}  // namespace plinth::test
