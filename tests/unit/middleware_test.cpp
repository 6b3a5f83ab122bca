#include <gtest/gtest.h>

#include <map>

#include "plinth/http/errors.hpp"
#include "plinth/http/middleware.hpp"
#include "plinth/observe/log.hpp"
#include "plinth/util/strings.hpp"
#include "test_support.hpp"

namespace plinth::http {
namespace {

TEST(Gzip, AcceptEncodingParsing) {
  struct Case {
    const char* in;
    bool want;
  } cases[] = {
      {"gzip", true},       {"deflate, gzip", true}, {"GZIP", true},
      {"gzip;q=0.5", true}, {"gzip;q=0", false},     {"gzip; q=0.000", false},
      {"*", true},          {"br", false},           {"", false},
  };
  for (const auto& c : cases) EXPECT_EQ(accepts_gzip(c.in), c.want) << c.in;
}

TEST(Gzip, RoundTrip) {
  std::string big(5000, 'x');
  auto z = gzip_compress(big);
  EXPECT_LT(z.size(), big.size());
  EXPECT_EQ(test::gunzip(z), big);
}

TEST(Gzip, ReusedStreamKeepsAnswersIndependent) {
  // The deflate state is reused per thread: each answer must still be a whole gzip member
  // of its own, whatever came before it (small, large, empty, binary).
  std::vector<std::string> bodies = {std::string(5000, 'x'), "{\"a\":1}", std::string(),
                                     std::string(200000, '\0'), "[1,2,3]"};
  for (int i = 0; i < 256; ++i) bodies[0][static_cast<std::size_t>(i * 7)] = static_cast<char>(i);
  for (int round = 0; round < 2; ++round) {
    for (const auto& b : bodies) EXPECT_EQ(test::gunzip(gzip_compress(b)), b);
  }
}

struct PipelineFixture : ::testing::Test {
  Router router;
  observe::Logger logger{-1};
  Pipeline pipeline{router, logger};
};

TEST_F(PipelineFixture, HandlerExceptionsBecomeEnvelopes) {
  router.get("/throw", [](Request&) -> Response { throw std::runtime_error("boom"); });
  router.get("/api-error", [](Request&) -> Response {
    throw ApiError(400, "Failed.",
                   R"({"title":{"code":"validation_required","message":"Missing."}})");
  });
  router.get("/int", [](Request&) -> Response { throw 42; });
  router.get("/big",
             [](Request&) { return Response::json(200, "[" + std::string(2000, '1') + "]"); });
  pipeline.use(request_id());
  pipeline.use(gzip());

  auto run = [&](const char* method, const char* path,
                 std::vector<std::pair<std::string, std::string>> headers = {}) {
    Request req;
    req.method = method;
    req.path = path;
    for (auto& [k, v] : headers) req.headers.add(k, v);
    return pipeline.run(req, pipeline.route(req));
  };

  auto r = run("GET", "/throw");
  EXPECT_EQ(r.status, 500);
  auto id = std::string(r.headers.get("X-Request-Id"));
  ASSERT_FALSE(id.empty());
  EXPECT_NE(r.body.find(id), std::string::npos) << r.body;
  EXPECT_EQ(r.body.find("boom"), std::string::npos) << "internal error text must not leak";

  r = run("GET", "/int");
  EXPECT_EQ(r.status, 500);

  r = run("GET", "/api-error");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(
      r.body,
      R"({"data":{"title":{"code":"validation_required","message":"Missing."}},"message":"Failed.","status":400})"
      "\n");

  r = run("GET", "/big", {{"Accept-Encoding", "gzip"}});
  EXPECT_EQ(r.headers.get("Content-Encoding"), "gzip");
  EXPECT_EQ(test::gunzip(r.body).size(), 2002U);

  r = run("GET", "/big");
  EXPECT_FALSE(r.headers.has("Content-Encoding"));
  EXPECT_EQ(r.body.size(), 2002U);

  r = run("GET", "/missing");
  EXPECT_EQ(r.status, 404);
}

// The security headers replace whatever a handler set under their names, once each, and
// leave its other fields alone.
TEST_F(PipelineFixture, SecurityHeadersReplaceAHandlersOwn) {
  router.get("/framed", [](Request&) {
    auto res = Response::json(200, "{}");
    res.headers.add("x-frame-options", "DENY");
    res.headers.add("X-Custom", "kept");
    res.headers.add("Referrer-Policy", "unsafe-url");
    res.headers.add("Referrer-Policy", "no-referrer");
    return res;
  });
  router.get("/plain", [](Request&) { return Response::json(200, "{}"); });
  pipeline.use(security_headers());
  for (const char* path : {"/framed", "/plain"}) {
    Request req;
    req.method = "GET";
    req.path = path;
    auto r = pipeline.run(req, pipeline.route(req));
    std::map<std::string, int> seen;
    for (auto f : r.headers.fields()) seen[util::to_lower(f.name)]++;
    EXPECT_EQ(r.headers.get("X-Frame-Options"), "SAMEORIGIN") << path;
    EXPECT_EQ(r.headers.get("Referrer-Policy"), "strict-origin-when-cross-origin") << path;
    EXPECT_EQ(r.headers.get("X-Content-Type-Options"), "nosniff") << path;
    EXPECT_EQ(r.headers.get("X-XSS-Protection"), "1; mode=block") << path;
    for (const char* name :
         {"x-frame-options", "referrer-policy", "x-content-type-options", "x-xss-protection"})
      EXPECT_EQ(seen[name], 1) << path << " " << name;
    EXPECT_EQ(r.headers.get("Content-Type"), "application/json") << path;
    if (std::string(path) == "/framed") {
      EXPECT_EQ(r.headers.get("X-Custom"), "kept");
    }
  }
}

TEST_F(PipelineFixture, RequestIdKeptWhenSaneReplacedOtherwise) {
  router.get("/x", [](Request& req) { return Response::text(200, req.request_id, "text/plain"); });
  pipeline.use(request_id());
  struct Case {
    const char* name;
    std::string incoming;
    bool kept;
  } cases[] = {
      {"sane", "abc-123_x.y", true},
      {"spaces", "a b", false},
      {"too long", std::string(200, 'a'), false},
      {"newline", "a\nb", false},
  };
  for (const auto& c : cases) {
    Request req;
    req.method = "GET";
    req.path = "/x";
    req.headers.add("X-Request-Id", c.incoming);
    auto r = pipeline.run(req, pipeline.route(req));
    EXPECT_EQ(r.body == c.incoming, c.kept) << c.name;
    EXPECT_EQ(r.headers.get("X-Request-Id"), r.body) << c.name;
  }
}

}  // namespace
}  // namespace plinth::http
