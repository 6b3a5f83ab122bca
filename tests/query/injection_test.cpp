// Hostile input: every filter either compiles to a correct result or fails to
// compile with an Error (never a SQL error), and the database is unchanged.

#include <gtest/gtest.h>

#include "fixture.hpp"

namespace plinth::query::test {
namespace {

constexpr const char* kAll = "p1,p2,p3,p4,p5,p6";
constexpr const char* kNone = "";
constexpr const char* kError = "!error";

struct HostileCase {
  const char* name;
  std::string filter;
  const char* expected;
};

const HostileCase kCases[] = {
    {"drop_after_empty_text", "title = ''; DROP TABLE posts; --'", kError},
    {"drop_inside_escaped_text", "title = 'x\\'; DROP TABLE posts; --'", kNone},
    {"drop_inside_double_quotes", "title = \"'; DROP TABLE posts; --\"", kNone},
    {"delete_inside_like", "title ~ \"'; DELETE FROM posts; --\"", kNone},
    {"sql_or_keyword", "title = 'a' OR 1=1", kError},
    {"filter_or_is_fine", "title = 'a' || 1 = 1", kAll},
    {"union_select", "id = 'p1' UNION SELECT name FROM sqlite_master", kError},
    {"statement_separator", "title = 1; DROP TABLE posts", kError},
    {"sql_comment_text", "title = '--'", kNone},
    {"block_comment_text", "title = '/* */'", kNone},
    {"block_comment", "title/**/= 1", kError},
    {"dash_comment", "title -- = 1", kError},
    {"trailing_block_comment", "title = 'x' /* */", kError},
    {"backtick_identifier", "title` = 1", kError},
    {"bracket_identifier", "[title] = 1", kError},
    {"table_qualified_column", "posts.id = 'p1'", kError},
    {"sqlite_master_column", "id = 'p1' && sqlite_master.name = 'x'", kError},
    {"sqlite_master_collection", "@collection.sqlite_master.name ?= 'x'", kError},
    {"own_collection_join", "@collection.posts.id ?= 'p1'", kAll},
    {"json_path_quote", "meta.a'); DROP TABLE posts; -- = 1", kError},
    {"json_path_dollar", "meta.a$b = 1", kError},
    {"json_path_underscore", "meta.x_y = 1", kNone},
    {"math_unicode_text", "title = 'ℌ𝔢𝔩𝔩𝔬'", kNone},
    {"cjk_text", "title ~ '日'", "p6"},
    {"zero_width_space", "title = 'Hello\u200bWorld'", kNone},
    {"emoji", "title ~ '😀'", kNone},
    {"nul_in_text", std::string("title = 'a\0b'", 13), kError},
    {"nul_in_identifier", std::string("title\0 = 1", 10), kError},
    {"exponent_is_not_a_number", "views < 1e10", kError},
    {"huge_positive", "views < 1" + std::string(400, '0'), kError},
    {"huge_negative", "views > -" + std::string(400, '9'), kError},
    {"big_but_finite", "views < 123456789012345678901234567890", kAll},
    {"tiny_decimal", "views > 0." + std::string(300, '0') + "1", "p1,p3,p5,p6"},
    {"triple_escaped_quotes", "title = '\\'\\'\\''", kNone},
    {"unterminated_by_escape", "title = \"\\\"", kError},
    {"long_identifier", std::string(300, 'a') + " = 1", kError},
    {"like_wildcards_only", "title ~ '%%'", kAll},
    {"like_underscore_only", "title ~ '_'", "p3"},
    {"percent_in_value_is_wildcard", "title ~ '%'", kAll},
    {"backslash_text", "title = 'a\\\\b'", kNone},
    {"quote_heavy_identifier_attempt", "'title' = 'title'", kAll},
    {"keywords_as_text", "title = 'NULL' || title = 'TRUE'", kNone},
    {"null_keyword_case", "title = NuLl", "p4"},
    {"request_lookalike", "@requestx.auth.id = 1", kError},
    {"collection_lookalike", "@collectionx.posts.id = 1", kError},
    {"control_characters", "title = '\x01\x02\x1f'", kNone},
    {"tab_in_text", "title = 'a\tb'", kNone},
};

class Hostile : public ::testing::TestWithParam<HostileCase> {};

TEST_P(Hostile, CorrectResultOrError) {
  const auto& c = GetParam();
  auto& fx = shared_fixture();
  auto before_schema = fx.schema_snapshot();
  auto got = fx.run("posts", c.filter, fx.as_user("u1"), superuser_options());
  if (std::string_view(c.expected) == kError) {
    EXPECT_TRUE(got.starts_with("!error")) << got;
  } else {
    EXPECT_EQ(got, c.expected);
  }
  EXPECT_EQ(got.find("SQL"), std::string::npos) << "a SQL error means bad SQL was built: " << got;
  EXPECT_EQ(fx.schema_snapshot(), before_schema);
}

INSTANTIATE_TEST_SUITE_P(Injection, Hostile, ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<HostileCase>& i) {
                           return i.param.name;
                         });

TEST(Injection, SqlTextNeverContainsFilterValues) {
  const auto& fx = shared_fixture();
  auto user = fx.as_user("u1");
  const char* needle = "DROP TABLE";
  for (std::string filter :
       {"title = 'x''; DROP TABLE posts; --'", "title ~ \"DROP TABLE\"", "meta.a = 'DROP TABLE'",
        "@request.headers.x_token = 'DROP TABLE'", "strftime('DROP TABLE', published_at) = ''"}) {
    auto r = compile(filter, fx.catalog(), fx.collection("posts"), user, superuser_options());
    if (auto* c = std::get_if<Compiled>(&r)) {
      EXPECT_EQ(c->where.find(needle), std::string::npos) << c->where;
      for (const auto& j : c->joins) EXPECT_EQ(j.find(needle), std::string::npos) << j;
    }
  }
}

TEST(Injection, RequestValuesAreBoundToo) {
  const auto& fx = shared_fixture();
  auto user = fx.as_user("u1");
  user.body["title"] = "'; DROP TABLE posts; --";
  user.headers["x_token"] = "\" OR 1=1 --";
  user.query["page"] = std::string("a\0b", 3);
  auto before = fx.data_snapshot();
  EXPECT_EQ(fx.run("posts", "@request.body.title = title", user, superuser_options()), kNone);
  EXPECT_EQ(fx.run("posts", "@request.headers.x_token = title", user, superuser_options()), kNone);
  EXPECT_EQ(fx.run("posts", "@request.query.page = 'a'", user, superuser_options()), kNone);
  EXPECT_EQ(fx.run("posts", "@request.body.title:changed = true", user, superuser_options()), kAll);
  user.body["editors"] = boost::json::array{"u1') OR 1=1 --", "u2"};
  EXPECT_EQ(fx.run("posts", "@request.body.editors.name ?= 'Bob'", user, superuser_options()),
            kAll);
  EXPECT_EQ(fx.data_snapshot(), before);
}

TEST(Injection, HugeFiltersAreBounded) {
  const auto& fx = shared_fixture();
  auto guest = fx.guest();
  std::string big;
  while (big.size() < 100 * 1024) big += "id = 'p1' || ";
  big += "id = 'p2'";
  // Default limits: too long.
  auto r = compile(big, fx.catalog(), fx.collection("posts"), guest, superuser_options());
  ASSERT_TRUE(std::holds_alternative<Error>(r));
  EXPECT_NE(std::get<Error>(r).message.find("too long"), std::string::npos);
  // Length allowed: too many expressions.
  auto o = superuser_options();
  o.limits.max_length = big.size();
  r = compile(big, fx.catalog(), fx.collection("posts"), guest, o);
  ASSERT_TRUE(std::holds_alternative<Error>(r));
  EXPECT_NE(std::get<Error>(r).message.find("too many expressions"), std::string::npos);
  // Expressions allowed as well: too many parameters.
  o.limits.max_expressions = 1'000'000;
  r = compile(big, fx.catalog(), fx.collection("posts"), guest, o);
  ASSERT_TRUE(std::holds_alternative<Error>(r));
  EXPECT_NE(std::get<Error>(r).message.find("parameters"), std::string::npos);

  // One 100 KB text value is just a value.
  std::string text = "title = '" + std::string(100 * 1024, 'x') + "'";
  o = superuser_options();
  o.limits.max_length = text.size();
  EXPECT_EQ(fx.run("posts", text, guest, o), kNone);
}

TEST(Injection, DeepNestingIsAnError) {
  const auto& fx = shared_fixture();
  auto guest = fx.guest();
  std::string deep = std::string(10'000, '(') + "id = 'p1'" + std::string(10'000, ')');
  auto o = superuser_options();
  EXPECT_TRUE(fx.run("posts", deep, guest, o).starts_with("!error: filter too long"));
  o.limits.max_length = deep.size();
  EXPECT_TRUE(fx.run("posts", deep, guest, o).starts_with("!error: expression nested too deeply"));
}

TEST(Injection, JoinLimit) {
  const auto& fx = shared_fixture();
  auto guest = fx.guest();
  auto o = superuser_options();
  o.limits.max_joins = 2;
  EXPECT_EQ(fx.run("posts", "parent.parent.title = 'Hello World'", guest, o), "p4");
  auto got = fx.run("posts", "parent.parent.parent.title = 'x'", guest, o);
  EXPECT_TRUE(got.starts_with("!error: too many joins")) << got;
  // Repeating a path reuses its joins.
  EXPECT_EQ(
      fx.run("posts", "parent.title != '' && parent.title ~ 'Hello' && parent.views > 1", guest, o),
      "p2,p3");
}

TEST(Injection, ParamLimit) {
  const auto& fx = shared_fixture();
  auto guest = fx.guest();
  auto o = superuser_options();
  o.limits.max_params = 3;
  EXPECT_EQ(fx.run("posts", "id = 'p1' || id = 'p2' || id = 'p3'", guest, o), "p1,p2,p3");
  EXPECT_TRUE(fx.run("posts", "id = 'p1' || id = 'p2' || id = 'p3' || id = 'p4'", guest, o)
                  .starts_with("!error: too many bound parameters"));
}

TEST(Injection, ErrorsNameTheirPosition) {
  const auto& fx = shared_fixture();
  auto guest = fx.guest();
  struct {
    std::string filter;
    std::size_t position;
    const char* fragment;
  } cases[] = {
      {"title = 1 && nope = 2", 13, "nope"},
      {"title = 1 && author.nope = 2", 13, "nope"},
      {"id = 'x' || views > 'y' && 1 = @request.auth.nope.x", 31, ""},
      {"title ~ strftime(nope) ", 17, "strftime"},
      {"views > 1 && secret = 's'", 13, "secret"},
      {"(views > 1", 0, "closing"},
      {"views > 99" + std::string(400, '9'), 8, "number"},
  };
  for (const auto& c : cases) {
    auto r = compile(c.filter, fx.catalog(), fx.collection("posts"), guest, client_options());
    if (std::string_view(c.fragment).empty()) {
      EXPECT_TRUE(std::holds_alternative<Compiled>(r)) << c.filter;
      continue;
    }
    ASSERT_TRUE(std::holds_alternative<Error>(r)) << c.filter;
    const auto& e = std::get<Error>(r);
    EXPECT_EQ(e.position, c.position) << c.filter << ": " << e.message;
    EXPECT_NE(e.message.find(c.fragment), std::string::npos) << e.message;
  }
}

}  // namespace
}  // namespace plinth::query::test
