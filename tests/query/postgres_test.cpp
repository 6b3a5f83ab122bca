// The postgres dialect at SQL-text level: the same AST and resolver, "ident"
// quoting, $N placeholders numbered across joins then WHERE, ILIKE,
// IS [NOT] DISTINCT FROM, jsonb functions and LATERAL joins.

#include <gtest/gtest.h>

#include <regex>
#include <set>

#include "fixture.hpp"

namespace plinth::query::test {
namespace {

CompileOptions pg(bool superuser = true) {
  auto o = superuser ? superuser_options() : client_options();
  o.dialect = Dialect::postgres;
  return o;
}

Compiled compiled(std::string_view filter, const RequestInfo& request, const CompileOptions& o,
                  std::string_view collection = "posts") {
  const auto& fx = shared_fixture();
  auto r = compile(filter, fx.catalog(), fx.collection(collection), request, o);
  if (auto* e = std::get_if<Error>(&r)) {
    ADD_FAILURE() << filter << ": " << e->message;
    return {};
  }
  return std::get<Compiled>(r);
}

TEST(Postgres, PlaceholdersAndQuoting) {
  auto c = compiled("title = 'x' && views > 5", shared_fixture().guest(), pg());
  EXPECT_EQ(c.where, R"(("posts"."title" = $1 AND "posts"."views" > $2))");
  ASSERT_EQ(c.params.size(), 2u);
  EXPECT_EQ(c.params[0], Param{std::string("x")});
  EXPECT_EQ(c.params[1], Param{5.0});
  EXPECT_TRUE(c.joins.empty());
  EXPECT_FALSE(c.needs_distinct);
}

TEST(Postgres, NullAndEmptyNormalisation) {
  auto c = compiled("title != '' && status = null", shared_fixture().guest(), pg());
  EXPECT_EQ(c.where,
            R"((("posts"."title" IS DISTINCT FROM '' AND "posts"."title" IS NOT NULL) AND )"
            R"(("posts"."status" = '' OR "posts"."status" IS NULL)))");
  c = compiled("title = status", shared_fixture().guest(), pg());
  EXPECT_EQ(c.where, R"(COALESCE("posts"."title", '') = COALESCE("posts"."status", ''))");
  c = compiled("title != 'a'", shared_fixture().guest(), pg());
  EXPECT_EQ(c.where, R"("posts"."title" IS DISTINCT FROM $1)");
}

TEST(Postgres, LikeIsIlikeWithWrappedValue) {
  auto c = compiled("title ~ 'ab_c' && title !~ status", shared_fixture().guest(), pg());
  EXPECT_EQ(c.where, R"(("posts"."title" ILIKE $1 ESCAPE '\' AND )"
                     R"("posts"."title" NOT ILIKE ('%' || "posts"."status" || '%') ESCAPE '\'))");
  ASSERT_EQ(c.params.size(), 1u);
  EXPECT_EQ(c.params[0], Param{std::string("%ab\\_c%")});
}

TEST(Postgres, BooleansAreKeywords) {
  auto c = compiled("published = true && published != false", shared_fixture().guest(), pg());
  EXPECT_EQ(c.where,
            R"(("posts"."published" = TRUE AND "posts"."published" IS DISTINCT FROM FALSE))");
}

TEST(Postgres, RelationJoin) {
  auto c = compiled("author.name = 'Alice'", shared_fixture().guest(), pg());
  ASSERT_EQ(c.joins.size(), 1u);
  EXPECT_EQ(c.joins[0],
            R"(LEFT JOIN "users" "posts_author" ON "posts_author"."id" = "posts"."author")");
  EXPECT_EQ(c.where, R"("posts_author"."name" = $1)");
  EXPECT_TRUE(c.needs_distinct);
}

TEST(Postgres, MultiRelationUsesLateralJsonb) {
  auto c = compiled("editors.name ?= 'Bob'", shared_fixture().guest(), pg());
  ASSERT_EQ(c.joins.size(), 2u);
  EXPECT_EQ(
      c.joins[0],
      R"(LEFT JOIN LATERAL jsonb_array_elements_text(CASE WHEN jsonb_typeof("posts"."editors") )"
      R"(= 'array' THEN "posts"."editors" ELSE jsonb_build_array("posts"."editors") END) AS )"
      R"("__je_posts_editors"("value") ON TRUE)");
  EXPECT_EQ(c.joins[1], R"(LEFT JOIN "users" "posts_editors" ON "posts_editors"."id" = )"
                        R"("__je_posts_editors"."value")");
  EXPECT_EQ(c.where, R"("posts_editors"."name" = $1)");
}

TEST(Postgres, MultiMatchSubquery) {
  auto c = compiled("editors.name = 'Bob'", shared_fixture().guest(), pg());
  EXPECT_EQ(
      c.where,
      R"((("posts_editors"."name" = $1) AND (NOT EXISTS (SELECT 1 FROM (SELECT "__mm_posts_editors"."name" )"
      R"(AS "multiMatchValue" FROM "posts" "__mm_posts" LEFT JOIN LATERAL jsonb_array_elements_text()"
      R"(CASE WHEN jsonb_typeof("__mm_posts"."editors") = 'array' THEN "__mm_posts"."editors" ELSE )"
      R"(jsonb_build_array("__mm_posts"."editors") END) AS "__mm_posts_editors_je"("value") ON TRUE )"
      R"(LEFT JOIN "users" "__mm_posts_editors" ON "__mm_posts_editors"."id" = )"
      R"("__mm_posts_editors_je"."value" WHERE "__mm_posts"."id" = "posts"."id") "__sm1" WHERE NOT )"
      R"(("__sm1"."multiMatchValue" = $2)))))");
  ASSERT_EQ(c.params.size(), 2u);
  EXPECT_EQ(c.params[0], c.params[1]);
}

TEST(Postgres, JsonPathsAreBoundKeys) {
  auto c = compiled("meta.a.0 = 1 && meta = null", shared_fixture().guest(), pg());
  EXPECT_EQ(c.where,
            R"((jsonb_extract_path_text("posts"."meta", $1, $2) IS NOT DISTINCT FROM $3 AND )"
            R"(("posts"."meta" #>> '{}') IS NOT DISTINCT FROM NULL))");
  ASSERT_EQ(c.params.size(), 3u);
  EXPECT_EQ(c.params[0], Param{std::string("a")});
  EXPECT_EQ(c.params[1], Param{std::string("0")});
  EXPECT_EQ(c.params[2], Param{1.0});
}

TEST(Postgres, PlaceholdersNumberJoinsFirst) {
  const auto& fx = shared_fixture();
  auto user = fx.as_user("u1");
  auto c = compiled("title = 'a' && @request.auth.name = 'x'", user, pg());
  ASSERT_EQ(c.joins.size(), 1u);
  EXPECT_EQ(c.joins[0], R"(LEFT JOIN "users" "__auth_users" ON "__auth_users"."id" = $1)");
  EXPECT_EQ(c.join_params, std::vector<Param>{Param{std::string("u1")}});
  EXPECT_EQ(c.where, R"(("posts"."title" = $2 AND "__auth_users"."name" = $3))");
  auto o = pg();
  o.first_placeholder = 5;
  c = compiled("title = 'a' && @request.auth.name = 'x'", user, o);
  EXPECT_EQ(c.joins[0], R"(LEFT JOIN "users" "__auth_users" ON "__auth_users"."id" = $5)");
  EXPECT_EQ(c.where, R"(("posts"."title" = $6 AND "__auth_users"."name" = $7))");
}

TEST(Postgres, EachOnSingleAndMultiSelect) {
  auto c = compiled("status:each = 'x' && tags:each ?= 'a'", shared_fixture().guest(), pg());
  ASSERT_EQ(c.joins.size(), 2u);
  EXPECT_EQ(c.joins[0], R"(LEFT JOIN LATERAL jsonb_array_elements_text(jsonb_build_array()"
                        R"("posts"."status")) AS "__je_posts_status"("value") ON TRUE)");
  EXPECT_NE(c.joins[1].find(R"(jsonb_typeof("posts"."tags"))"), std::string::npos);
  EXPECT_EQ(c.where, R"(("__je_posts_status"."value" = $1 AND "__je_posts_tags"."value" = $2))");
}

TEST(Postgres, LengthModifier) {
  auto c = compiled("tags:length > 1 && status:length = 0", shared_fixture().guest(), pg());
  EXPECT_EQ(c.where,
            R"((jsonb_array_length(CASE WHEN jsonb_typeof("posts"."tags") = 'array' THEN )"
            R"("posts"."tags" ELSE jsonb_build_array("posts"."tags") END) > $1 AND (CASE WHEN )"
            R"("posts"."status" = '' OR "posts"."status" IS NULL THEN 0 ELSE 1 END) = $2))");
}

TEST(Postgres, BodyEachBindsJson) {
  const auto& fx = shared_fixture();
  auto c = compiled("@request.body.tags:each ?= 'a'", fx.as_user("u1"), pg());
  ASSERT_EQ(c.joins.size(), 1u);
  EXPECT_EQ(c.joins[0], R"(LEFT JOIN LATERAL jsonb_array_elements_text(CAST($1 AS jsonb)) AS )"
                        R"("__dataEach_je_tags"("value") ON TRUE)");
  EXPECT_EQ(c.join_params, std::vector<Param>{Param{std::string(R"(["a","b"])")}});
}

TEST(Postgres, LongAliasesAreShortenedUniquely) {
  auto c = compiled(
      "post.comments_via_post.post.comments_via_post.post.comments_via_post.text ?= 'x' && "
      "post.comments_via_post.post.comments_via_post.post.author.name ?= 'y'",
      shared_fixture().guest(), pg(), "comments");
  std::string all = c.where;
  for (const auto& j : c.joins) all += "\n" + j;
  std::regex ident("\"([^\"]*)\"");
  std::set<std::string> seen;
  for (auto it = std::sregex_iterator(all.begin(), all.end(), ident); it != std::sregex_iterator();
       ++it) {
    auto name = (*it)[1].str();
    EXPECT_LE(name.size(), 63u) << name;
    seen.insert(name);
  }
  EXPECT_GT(seen.size(), 5u);
  std::set<std::string> aliases;
  for (const auto& j : c.joins) {
    std::smatch m;
    ASSERT_TRUE(std::regex_search(j, m, std::regex("\" (\"[^\"]+\") ON"))) << j;
    aliases.insert(m[1].str());
  }
  EXPECT_EQ(aliases.size(), c.joins.size());
  EXPECT_TRUE(std::any_of(aliases.begin(), aliases.end(),
                          [](const std::string& a) { return a.size() == 65; }));
}

TEST(Postgres, RowidAndStrftimeAreSqliteOnly) {
  const auto& fx = shared_fixture();
  auto r = compile("strftime('%Y', published_at) = '2024'", fx.catalog(), fx.collection("posts"),
                   fx.guest(), pg());
  EXPECT_TRUE(std::holds_alternative<Error>(r));
  r = compile_sort("@rowid", fx.catalog(), fx.collection("posts"), fx.guest(), pg());
  EXPECT_TRUE(std::holds_alternative<Error>(r));
  r = compile_sort("-title,@random", fx.catalog(), fx.collection("posts"), fx.guest(), pg());
  ASSERT_TRUE(std::holds_alternative<Compiled>(r));
  EXPECT_EQ(std::get<Compiled>(r).order_by, R"("posts"."title" DESC, random())");
}

}  // namespace
}  // namespace plinth::query::test
