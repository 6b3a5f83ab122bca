#include <gtest/gtest.h>

#include "plinth/http/router.hpp"

namespace plinth::http {
namespace {

Handler named(std::string name) {
  return [name](Request&) { return Response::text(200, name, "text/plain"); };
}

TEST(Router, MatchesParamsMethodsAndCatchAll) {
  Router r;
  r.get("/api/health", named("health"));
  r.get("/api/collections/{collection}/records", named("list"));
  r.post("/api/collections/{collection}/records", named("create"));
  r.get("/api/collections/{collection}/records/{id}", named("view"));
  r.del("/api/collections/{collection}/records/{id}", named("delete"));
  r.get("/api/files/{collection}/{record}/{path...}", named("file"));

  struct Case {
    const char* name;
    const char* method;
    const char* path;
    RouteMatch::Kind kind;
    const char* pattern;
    std::vector<std::pair<std::string, std::string>> params;
    const char* allow;
  } cases[] = {
      {"static", "GET", "/api/health", RouteMatch::Kind::found, "/api/health", {}, ""},
      {"head falls back to get",
       "HEAD",
       "/api/health",
       RouteMatch::Kind::found,
       "/api/health",
       {},
       ""},
      {"param",
       "GET",
       "/api/collections/posts/records",
       RouteMatch::Kind::found,
       "/api/collections/{collection}/records",
       {{"collection", "posts"}},
       ""},
      {"two params",
       "DELETE",
       "/api/collections/posts/records/abc",
       RouteMatch::Kind::found,
       "/api/collections/{collection}/records/{id}",
       {{"collection", "posts"}, {"id", "abc"}},
       ""},
      {"catch all",
       "GET",
       "/api/files/c/r/a/b.png",
       RouteMatch::Kind::found,
       "/api/files/{collection}/{record}/{path...}",
       {{"collection", "c"}, {"record", "r"}, {"path", "a/b.png"}},
       ""},
      {"catch all, nothing to catch",
       "GET",
       "/api/files/c/r",
       RouteMatch::Kind::found,
       "/api/files/{collection}/{record}/{path...}",
       {{"collection", "c"}, {"record", "r"}, {"path", ""}},
       ""},
      {"catch all, too short", "GET", "/api/files/c", RouteMatch::Kind::not_found, "", {}, ""},
      {"one segment too many",
       "GET",
       "/api/collections/posts/records/abc/x",
       RouteMatch::Kind::not_found,
       "",
       {},
       ""},
      {"not found", "GET", "/api/nothing", RouteMatch::Kind::not_found, "", {}, ""},
      {"empty param segment",
       "GET",
       "/api/collections//records",
       RouteMatch::Kind::not_found,
       "",
       {},
       ""},
      {"trailing extra", "GET", "/api/health/x", RouteMatch::Kind::not_found, "", {}, ""},
      {"wrong method",
       "PUT",
       "/api/collections/p/records/1",
       RouteMatch::Kind::method_not_allowed,
       "",
       {},
       "DELETE, GET, HEAD, OPTIONS"},
  };
  for (const auto& c : cases) {
    auto m = r.match(c.method, c.path);
    EXPECT_EQ(m.kind, c.kind) << c.name;
    if (c.kind == RouteMatch::Kind::found) {
      ASSERT_NE(m.route, nullptr) << c.name;
      EXPECT_EQ(m.route->pattern, c.pattern) << c.name;
      EXPECT_EQ(m.params, c.params) << c.name;
    }
    EXPECT_EQ(m.allow, c.allow) << c.name;
  }
}

TEST(Router, RejectsPatternsWithoutLeadingSlash) {
  Router r;
  EXPECT_THROW(r.get("api", named("x")), std::invalid_argument);
}

TEST(Message, SplitTargetAndQueryParams) {
  Request req;
  req.target = "/api/a%20b?x=1&y=hello%20world&flag&x=2";
  split_target(req.target, req.path, req.query);
  EXPECT_EQ(req.path, "/api/a b");
  EXPECT_EQ(req.query_param("x"), "1");
  EXPECT_EQ(req.query_param("y"), "hello world");
  EXPECT_EQ(req.query_param("flag"), "");
  EXPECT_FALSE(req.query_param("z").has_value());
  // Keys are compared decoded; empty parts are skipped; the first match wins.
  req.query = "&&f%69elds=a%2Cb&fields=c&my+key=v&x%3Dy=1&";
  EXPECT_EQ(req.query_param("fields"), "a,b");
  EXPECT_EQ(req.query_param("x=y"), "1");
  EXPECT_FALSE(req.query_param("f%69elds").has_value());
  EXPECT_FALSE(req.query_param("").has_value());
  EXPECT_EQ(req.query_param("my key"), "v");
  std::string path, query;
  split_target("http://example.com/api/health?a=1", path, query);
  EXPECT_EQ(path, "/api/health");
  EXPECT_EQ(query, "a=1");
}

}  // namespace
}  // namespace plinth::http
