// Real binary on port 0: health, routing envelopes, keep-alive, pipelining,
// HEAD, chunked bodies, Expect: 100-continue.

#include <gtest/gtest.h>
#include <sstream>
#include <string>

#include "test_support.hpp"

namespace plinth::test {
namespace {

const std::string kHealthBody = R"({"code":200,"message":"API is healthy.","data":{}})";

class HttpBasics : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = new ServerProcess({"--threads", "2"}); }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  static ServerProcess* server_;
};
ServerProcess* HttpBasics::server_ = nullptr;

TEST_F(HttpBasics, HealthAsPocketBase) {
  Client c(server_->port());
  auto r = c.request("GET", "/api/health");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, kHealthBody);
  EXPECT_EQ(r->header("Content-Type"), "application/json");
  EXPECT_FALSE(r->header("Date").empty());
}

TEST_F(HttpBasics, RoutingErrorsUseTheEnvelope) {
  struct Case {
    const char* name;
    const char* method;
    const char* target;
    int status;
    const char* body;
    const char* allow;
  } cases[] = {
      {"unknown path", "GET", "/api/nope", 404,
       R"({"data":{},"message":"The requested resource wasn't found.","status":404})"
       "\n",
       ""},
      {"root", "GET", "/", 404,
       R"({"data":{},"message":"The requested resource wasn't found.","status":404})"
       "\n",
       ""},
      {"wrong method", "DELETE", "/api/health", 405,
       R"({"data":{},"message":"Method not allowed.","status":405})"
       "\n",
       "GET, HEAD, OPTIONS"},
      {"invented method", "BREW", "/api/health", 405,
       R"({"data":{},"message":"Method not allowed.","status":405})"
       "\n",
       "GET, HEAD, OPTIONS"},
  };
  for (const auto& c : cases) {
    Client cl(server_->port());
    auto r = cl.request(c.method, c.target);
    ASSERT_TRUE(r) << c.name;
    EXPECT_EQ(r->status, c.status) << c.name;
    EXPECT_EQ(r->body, c.body) << c.name;
    EXPECT_EQ(r->header("Allow"), c.allow) << c.name;
  }
}

TEST_F(HttpBasics, KeepAliveServesManyRequestsOnOneConnection) {
  Client c(server_->port());
  for (int i = 0; i < 50; ++i) {
    auto r = c.request("GET", "/api/health");
    ASSERT_TRUE(r) << i;
    EXPECT_EQ(r->status, 200);
  }
}

TEST_F(HttpBasics, PipelinedRequestsAnsweredInOrder) {
  Client c(server_->port());
  std::string batch = build_request("GET", "/api/health", {{"X-Request-Id", "one"}}) +
                      build_request("GET", "/api/missing", {{"X-Request-Id", "two"}}) +
                      build_request("HEAD", "/api/health", {{"X-Request-Id", "three"}}) +
                      build_request("GET", "/api/health", {{"X-Request-Id", "four"}});
  ASSERT_TRUE(c.send(batch));
  struct Want {
    const char* id;
    int status;
    bool head;
  } wants[] = {
      {"one", 200, false}, {"two", 404, false}, {"three", 200, true}, {"four", 200, false}};
  for (const auto& w : wants) {
    auto r = c.read_response(w.head);
    ASSERT_TRUE(r) << w.id;
    EXPECT_EQ(r->status, w.status) << w.id;
    EXPECT_EQ(r->header("X-Request-Id"), w.id);
  }
}

// Requests with bodies sent in one write: each body (fixed length or chunked) is read from what
// is already buffered, and the next request starts right after it.
TEST_F(HttpBasics, PipelinedRequestsWithBodiesAnsweredInOrder) {
  Client c(server_->port());
  auto create = [](const std::string& name, bool chunked) {
    std::string body = R"({"email":")" + name + R"(@pipelined.test","password":"pipelined123",)" +
                       R"("passwordConfirm":"pipelined123","name":")" + name + R"("})";
    if (!chunked) {
      return build_request("POST", "/api/collections/users/records",
                           {{"Content-Type", "application/json"}}, body);
    }
    std::ostringstream hex;
    hex << std::hex << body.size() - 10;
    return build_request("POST", "/api/collections/users/records",
                         {{"Content-Type", "application/json"}, {"Transfer-Encoding", "chunked"}}) +
           hex.str() + "\r\n" + body.substr(0, body.size() - 10) + "\r\n" + "a\r\n" +
           body.substr(body.size() - 10) + "\r\n0\r\n\r\n";
  };
  std::string batch = create("pipe1", false) + create("pipe2", true) +
                      build_request("GET", "/api/health") + create("pipe3", false) +
                      create("pipe4", true);
  ASSERT_TRUE(c.send(batch));
  for (std::string want : {"pipe1", "pipe2", "health", "pipe3", "pipe4"}) {
    auto r = c.read_response(false);
    ASSERT_TRUE(r) << want;
    EXPECT_EQ(r->status, 200) << want << ": " << r->body;
    if (want != "health") {
      EXPECT_NE(r->body.find(R"("name":")" + want + R"(")"), std::string::npos) << r->body;
    }
  }
}

TEST_F(HttpBasics, HeadHasLengthButNoBody) {
  Client c(server_->port());
  auto r = c.request("HEAD", "/api/health");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->header("Content-Length"), std::to_string(kHealthBody.size()));
  // If any body bytes had been sent, they would be parsed as the next response.
  auto next = c.request("GET", "/api/health");
  ASSERT_TRUE(next);
  EXPECT_EQ(next->status, 200);
  EXPECT_EQ(next->body, kHealthBody);
}

TEST_F(HttpBasics, ChunkedRequestBodyIsConsumed) {
  Client c(server_->port());
  std::string req =
      "POST /api/health HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
  ASSERT_TRUE(c.send(req + build_request("GET", "/api/health")));
  auto first = c.read_response();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->status, 405);
  auto second = c.read_response();
  ASSERT_TRUE(second);
  EXPECT_EQ(second->status, 200);
  EXPECT_EQ(second->body, kHealthBody);
}

TEST_F(HttpBasics, ExpectContinueGetsInterimResponse) {
  Client c(server_->port());
  ASSERT_TRUE(c.send(
      "POST /api/health HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n"));
  auto interim = c.read_response();
  ASSERT_TRUE(interim);
  EXPECT_EQ(interim->status, 100);
  ASSERT_TRUE(c.send("hello"));
  auto final_response = c.read_response();
  ASSERT_TRUE(final_response);
  EXPECT_EQ(final_response->status, 405);
}

TEST_F(HttpBasics, Http10ClosesAfterResponse) {
  Client c(server_->port());
  ASSERT_TRUE(c.send("GET /api/health HTTP/1.0\r\n\r\n"));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_TRUE(c.closed_by_peer(std::chrono::seconds(2)));
}

TEST_F(HttpBasics, ConnectionCloseIsHonoured) {
  Client c(server_->port());
  auto r = c.request("GET", "/api/health", {{"Connection", "close"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_TRUE(c.closed_by_peer(std::chrono::seconds(2)));
}

TEST_F(HttpBasics, ManyConcurrentConnectionsAcrossThreads) {
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < 64; ++i) clients.push_back(std::make_unique<Client>(server_->port()));
  for (auto& c : clients) ASSERT_TRUE(c->send(build_request("GET", "/api/health")));
  for (auto& c : clients) {
    auto r = c->read_response();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
  }
}

}  // namespace
}  // namespace plinth::test
