// Header fields kept as wire text, a request reused for a connection's next one, and the
// request-target split.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "plinth/http/message.hpp"
#include "plinth/util/strings.hpp"

namespace plinth::http {
namespace {

std::vector<std::pair<std::string, std::string>> listed(const Headers& h) {
  std::vector<std::pair<std::string, std::string>> out;
  for (auto f : h.fields()) out.emplace_back(f.name, f.value);
  return out;
}

TEST(Headers, FieldsAreKeptInOrderAsTheyGoOnTheWire) {
  Headers h;
  EXPECT_EQ(h.size(), 0U);
  EXPECT_EQ(h.begin(), h.end());
  h.add("Content-Type", "application/json");
  h.add("Vary", "Origin");
  h.add("Vary", "Accept-Encoding");
  h.add("X-Empty", "");
  h.add("Link", "<https://a.example/?q=1>; rel=\"next\"");  // colons in a value stay
  EXPECT_EQ(h.size(), 5U);
  EXPECT_EQ(h.wire(),
            "Content-Type: application/json\r\nVary: Origin\r\nVary: Accept-Encoding\r\n"
            "X-Empty: \r\nLink: <https://a.example/?q=1>; rel=\"next\"\r\n");
  using P = std::pair<std::string, std::string>;
  EXPECT_EQ(listed(h), (std::vector<P>{{"Content-Type", "application/json"},
                                       {"Vary", "Origin"},
                                       {"Vary", "Accept-Encoding"},
                                       {"X-Empty", ""},
                                       {"Link", "<https://a.example/?q=1>; rel=\"next\""}}));
  // Names compare without case; the first of several fields wins.
  EXPECT_EQ(h.get("content-type"), "application/json");
  EXPECT_EQ(h.get("VARY"), "Origin");
  EXPECT_EQ(h.get("link"), "<https://a.example/?q=1>; rel=\"next\"");
  EXPECT_TRUE(h.has("x-empty"));
  EXPECT_EQ(h.get("X-Empty"), "");
  EXPECT_FALSE(h.has("Content"));
  EXPECT_EQ(h.get("Missing"), "");
}

TEST(Headers, SetReplacesEveryFieldOfTheNameAndRemoveTakesThemAll) {
  Headers h;
  h.add("A", "1");
  h.add("vary", "x");
  h.add("B", "2");
  h.add("Vary", "y");
  h.set("VARY", "z");
  EXPECT_EQ(h.size(), 3U);
  EXPECT_EQ(h.wire(), "A: 1\r\nB: 2\r\nVARY: z\r\n");
  h.remove("a");
  EXPECT_EQ(h.wire(), "B: 2\r\nVARY: z\r\n");
  h.remove("nothing");
  EXPECT_EQ(h.size(), 2U);
  h.remove("B");
  h.remove("vary");
  EXPECT_EQ(h.size(), 0U);
  EXPECT_EQ(h.wire(), "");
  h.add("C", "3");
  h.clear();
  EXPECT_EQ(h.size(), 0U);
  EXPECT_EQ(h.begin(), h.end());
  h.add("D", "4");
  EXPECT_EQ(h.wire(), "D: 4\r\n");
}

TEST(Headers, NoNameOrValueCanSplitTheMessage) {
  Headers h;
  h.add("X-Evil", "a\r\nSet-Cookie: session=stolen\r\n\r\n<html>");
  h.add("Bad\r\nName: x", "v");
  h.add("Na:me", "value: with colon");
  EXPECT_EQ(h.size(), 3U);
  EXPECT_EQ(h.wire(),
            "X-Evil: a  Set-Cookie: session=stolen    <html>\r\n"
            "Bad  Name  x: v\r\nNa me: value: with colon\r\n");
  EXPECT_FALSE(h.has("Set-Cookie"));
  EXPECT_EQ(h.get("Na me"), "value: with colon");
  EXPECT_EQ(listed(h).size(), 3U);
}

TEST(Headers, KnowsWhetherAFieldMayBeMessageFraming) {
  Headers h;
  h.add("Content-Type", "text/plain");
  h.add("Connections", "not framing");
  h.append_lines("X-Frame-Options: SAMEORIGIN\r\nReferrer-Policy: no-referrer\r\n", 2);
  EXPECT_FALSE(h.may_have_framing());
  EXPECT_EQ(h.size(), 4U);
  EXPECT_EQ(h.get("referrer-policy"), "no-referrer");
  for (const char* name : {"content-length", "CONNECTION", "Transfer-Encoding"}) {
    Headers f = h;
    f.add(name, "x");
    EXPECT_TRUE(f.may_have_framing()) << name;
    f.clear();
    EXPECT_FALSE(f.may_have_framing()) << name;
  }
}

TEST(Headers, CopiesAndMovesKeepTheirFields) {
  Headers h;
  h.add("A", "1");
  Headers copy = h;
  copy.add("B", "2");
  EXPECT_EQ(h.wire(), "A: 1\r\n");
  EXPECT_EQ(copy.wire(), "A: 1\r\nB: 2\r\n");
  Headers moved = std::move(copy);
  EXPECT_EQ(moved.size(), 2U);
  EXPECT_EQ(moved.get("b"), "2");
}

TEST(Request, ResetForTheNextRequestLeavesNothingOfTheLastOne) {
  Request r;
  r.remote_ip = "203.0.113.9";
  r.method = "POST";
  r.target = "/api/x?y=1";
  split_target(r.target, r.path, r.query);
  r.headers.add("Authorization", "Bearer abc");
  r.body = "payload";
  r.version = 10;
  r.route_template = "/api/{name}";
  r.params = {{"name", "x"}};
  r.request_id = "0123456789abcdef";
  r.trace.trace_id.assign("4bf92f3577b34da6a3ce929d0e0e4736");
  r.reset_for_next();
  EXPECT_TRUE(r.remote_ip.empty()) << "middleware may have changed it: set again per request";
  EXPECT_TRUE(r.method.empty());
  EXPECT_TRUE(r.target.empty());
  EXPECT_TRUE(r.path.empty());
  EXPECT_TRUE(r.query.empty());
  EXPECT_EQ(r.headers.size(), 0U);
  EXPECT_FALSE(r.headers.has("Authorization"));
  EXPECT_TRUE(r.body.empty());
  EXPECT_EQ(r.version, 11U);
  EXPECT_TRUE(r.route_template.empty());
  EXPECT_TRUE(r.params.empty());
  EXPECT_TRUE(r.request_id.empty());
  EXPECT_TRUE(r.trace.trace_id.empty());
  EXPECT_EQ(r.trace.flags.view(), "01");

  // A large body's buffer is not kept for the connection's next requests; a small one is.
  r.body.assign(1 << 20, 'x');
  r.reset_for_next();
  EXPECT_LE(r.body.capacity(), 64U * 1024);
  r.body.assign(1000, 'x');
  auto small = r.body.capacity();
  r.reset_for_next();
  EXPECT_EQ(r.body.capacity(), small);
}

TEST(Request, TargetSplitIntoDecodedPathAndRawQuery) {
  std::string path = "left over from before", query = "old=1";
  split_target("/api/a%20b/c+d?x=%20&y=1+2", path, query);
  EXPECT_EQ(path, "/api/a b/c+d") << "'+' is a plus in a path";
  EXPECT_EQ(query, "x=%20&y=1+2");
  split_target("/plain", path, query);
  EXPECT_EQ(path, "/plain");
  EXPECT_EQ(query, "");
  split_target("http://host:8090/abs/%41?q", path, query);
  EXPECT_EQ(path, "/abs/A");
  EXPECT_EQ(query, "q");
  split_target("/bad%zz%4", path, query);
  EXPECT_EQ(path, "/bad%zz%4") << "invalid escapes stay as they are";
}

TEST(UrlDecode, IntoAStringReplacesItsContents) {
  std::string out = "previous contents";
  util::url_decode_into(out, "a+b%2Bc");
  EXPECT_EQ(out, "a b+c");
  util::url_decode_into(out, "a+b", false);
  EXPECT_EQ(out, "a+b");
  util::url_decode_into(out, "");
  EXPECT_EQ(out, "");
  util::url_decode_into(out, "%E2%9C%93 ok");
  EXPECT_EQ(out, "\xE2\x9C\x93 ok");
  EXPECT_EQ(util::url_decode("x%3Dy+z"), "x=y z");
}

}  // namespace
}  // namespace plinth::http
