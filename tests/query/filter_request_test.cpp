// @request.* values, modifiers, date macros, and the guest / regular-user view
// (hidden fields, email visibility, list rules of joined collections).
//
// The authenticated request (fixture as_user("u1")): method POST, query
// {page: "2", empty: ""}, headers {x_token: "ABC", user_agent: "test"}, body
// {title: "Hello World", views: "10", tags: [a,b], editors: [u2,u3], author: u1,
//  meta: {x: [1, {y: z}]}, published: true, empty: "", nothing: null, count: 3}.
// "now" is 2024-06-15 12:30:45.123Z (a Saturday).
// List rules: users "id = @request.auth.id", comments "score > 1", bundles null
// (superusers only), posts and post_stats "" (public).

#include <gtest/gtest.h>

#include "fixture.hpp"

namespace plinth::query::test {
namespace {

constexpr const char* kAll = "p1,p2,p3,p4,p5,p6";
constexpr const char* kNone = "";
constexpr const char* kError = "!error";

const FilterCase kAuthCases[] = {
    {"id_eq_author", "@request.auth.id = author", "p1,p4"},
    {"id_not_empty", "@request.auth.id != ''", kAll},
    {"collection_name", "@request.auth.collectionName = 'users'", kAll},
    {"collection_id", "@request.auth.collectionId = '_pb_users_auth_'", kAll},
    {"verified", "@request.auth.verified = true", kAll},
    {"email", "@request.auth.email = 'alice@example.com'", kAll},
    {"joined_field", "@request.auth.name = 'Alice'", kAll},
    {"joined_field_vs_relation", "@request.auth.role = author.role", "p1,p4"},
    {"id_in_stored_json", "editors ~ @request.auth.id", "p3,p4"},
    {"any_editor_is_me", "editors.id ?= @request.auth.id", "p3,p4"},
    {"any_editor_is_me_reversed", "@request.auth.id ?= editors.id", "p3,p4"},
    {"every_editor_is_me", "@request.auth.id = editors.id", "p3"},
    {"missing_field_is_null", "@request.auth.missing = null", kAll},
    {"hidden_field_for_superusers", "@request.auth.secret_note = 'a-secret'", kAll},
    {"password_never", "@request.auth.password = 'x'", kError},
};

const FilterCase kStaticCases[] = {
    {"method_post", "@request.method = 'POST'", kAll},
    {"method_get", "@request.method = 'GET'", kNone},
    {"context", "@request.context = 'default'", kAll},
    {"query_param", "@request.query.page = '2'", kAll},
    {"query_text_is_not_a_number", "@request.query.page = 2", kNone},
    {"query_missing_is_empty", "@request.query.missing = ''", kAll},
    {"query_isset", "@request.query.page:isset = true", kAll},
    {"query_missing_isset", "@request.query.missing:isset = true", kNone},
    {"query_empty_isset", "@request.query.empty:isset = true", kAll},
    {"query_length_is_invalid", "@request.query.page:length = 1", kError},
    {"header", "@request.headers.x_token = 'ABC'", kAll},
    {"header_lower", "@request.headers.x_token:lower = 'abc'", kAll},
    {"header_missing", "@request.headers.missing = ''", kAll},
    {"header_like", "@request.headers.user_agent ~ 'es'", kAll},
};

const FilterCase kBodyCases[] = {
    {"text_vs_column", "@request.body.title = title", "p1"},
    {"numeric_text_for_number_field", "@request.body.views = views", "p1,p6"},
    {"numeric_text_gt", "@request.body.views > views", "p2,p4,p5"},
    {"bool", "@request.body.published = published", "p1,p3,p5"},
    {"length", "@request.body.tags:length = 2", kAll},
    {"length_vs_field_length", "@request.body.tags:length = tags:length", "p1"},
    {"each_any", "@request.body.tags:each ?= 'a'", kAll},
    {"each_every", "@request.body.tags:each = 'a'", kNone},
    {"each_vs_field_each", "tags:each ?= @request.body.tags:each", "p1,p4,p5,p6"},
    {"relation_path", "@request.body.author.name = 'Alice'", kAll},
    {"multi_relation_any", "@request.body.editors.name ?= 'Bob'", kAll},
    {"multi_relation_every", "@request.body.editors.name = 'Bob'", kNone},
    {"json_path", "@request.body.meta.x.1.y = 'z'", kAll},
    {"json_index", "@request.body.meta.x.0 = 1", kAll},
    {"missing_is_null", "@request.body.missing = null", kAll},
    {"missing_isset", "@request.body.missing:isset = false", kAll},
    {"null_value_isset", "@request.body.nothing:isset = true", kAll},
    {"empty_isset", "@request.body.empty:isset = true", kAll},
    {"empty_eq", "@request.body.empty = ''", kAll},
    {"changed_true", "@request.body.title:changed = true", "p2,p3,p4,p5,p6"},
    {"changed_false", "@request.body.title:changed = false", "p1"},
    {"changed_number", "@request.body.views:changed = false", "p1,p6"},
    {"changed_absent", "@request.body.status:changed = true", kNone},
    {"changed_absent_false", "@request.body.status:changed = false", kAll},
    {"changed_needs_a_field", "@request.body.count:changed = true", kError},
    {"lower", "@request.body.title:lower = 'hello world'", kAll},
    {"lower_vs_column_lower", "title:lower = @request.body.title:lower", "p1"},
    {"like", "@request.body.title ~ 'World'", kAll},
    {"array_as_json_text", "@request.body.tags = '[\"a\",\"b\"]'", kAll},
    {"each_needs_multi_valued_field", "@request.body.title:each = 'x'", kError},
    {"json_number", "@request.body.count = 3", kAll},
    {"json_number_vs_column", "@request.body.count > views", "p2,p4"},
    {"length_vs_relation_length", "@request.body.editors:length = editors:length", "p1,p4"},
    {"absent_relation_path", "@request.body.parent.title = null", kAll},
};

const FilterCase kMacroCases[] = {
    {"weekday", "@weekday = 6", kAll},
    {"date_parts", "@year = 2024 && @month = 6 && @day = 15", kAll},
    {"time_parts", "@hour = 12 && @minute = 30 && @second = 45", kAll},
    {"now", "@now = '2024-06-15 12:30:45.123Z'", kAll},
    {"today_start", "@todayStart = '2024-06-15 00:00:00.000Z'", kAll},
    {"today_end", "@todayEnd = '2024-06-15 23:59:59.999Z'", kAll},
    {"month_start", "@monthStart = '2024-06-01 00:00:00.000Z'", kAll},
    {"month_end", "@monthEnd = '2024-06-30 23:59:59.999Z'", kAll},
    {"year_start", "@yearStart = '2024-01-01 00:00:00.000Z'", kAll},
    {"year_end", "@yearEnd = '2024-12-31 23:59:59.999Z'", kAll},
    {"yesterday", "@yesterday = '2024-06-14 12:30:45.123Z'", kAll},
    {"tomorrow", "@tomorrow = '2024-06-16 12:30:45.123Z'", kAll},
    {"unknown_macro", "@later = 1", kError},
    {"wrong_year", "@year = 2023", kNone},
};

auto names = [](const ::testing::TestParamInfo<FilterCase>& i) { return case_name(i.param); };

void check(const FilterCase& c, const std::string& got) {
  if (std::string_view(c.expected) == kError) {
    EXPECT_TRUE(got.starts_with("!error")) << c.filter << " -> " << got;
    EXPECT_EQ(got.find("SQL"), std::string::npos) << got;
  } else {
    EXPECT_EQ(got, c.expected) << c.filter;
  }
}

class AsUserWithSuperuserAccess : public ::testing::TestWithParam<FilterCase> {};

TEST_P(AsUserWithSuperuserAccess, ReturnsExpectedIds) {
  const auto& fx = shared_fixture();
  check(GetParam(), fx.run("posts", GetParam().filter, fx.as_user("u1"), superuser_options()));
}

INSTANTIATE_TEST_SUITE_P(Auth, AsUserWithSuperuserAccess, ::testing::ValuesIn(kAuthCases), names);
INSTANTIATE_TEST_SUITE_P(Static, AsUserWithSuperuserAccess, ::testing::ValuesIn(kStaticCases),
                         names);
INSTANTIATE_TEST_SUITE_P(Body, AsUserWithSuperuserAccess, ::testing::ValuesIn(kBodyCases), names);
INSTANTIATE_TEST_SUITE_P(Macros, AsUserWithSuperuserAccess, ::testing::ValuesIn(kMacroCases),
                         names);

// A guest client: no auth, no hidden fields, joined collections' list rules apply.
const FilterCase kGuestCases[] = {
    {"auth_id_is_null", "@request.auth.id = author", "p3"},
    {"auth_id_not_empty", "@request.auth.id != ''", kNone},
    {"auth_id_empty", "@request.auth.id = ''", kAll},
    {"auth_collection_name", "@request.auth.collectionName = 'users'", kNone},
    {"auth_joined_field_is_null", "@request.auth.name = null", kAll},
    {"hidden_field", "secret = 's1'", kError},
    {"relation_list_rule_hides_rows", "author.name = 'Alice'", kNone},
    {"relation_list_rule_keeps_missing", "author.name = ''", "p3"},
    {"back_relation_list_rule_filters", "comments_via_post.text ?= 'meh'", kNone},
    {"back_relation_list_rule_passes", "comments_via_post.text ?= 'nice'", "p2"},
    {"superusers_only_collection", "bundles_via_posts.name ?= 'all'", kError},
    {"superusers_only_collection_join", "@collection.bundles.name ?= 'all'", kError},
    {"public_back_relation", "post_stats_via_post.likes > 1", "p1,p5"},
    {"collection_join_list_rule", "@collection.users.name ?= 'Alice'", kNone},
    {"relation_id_needs_no_join", "author = 'u1'", "p1,p4"},
    {"relation_dot_id_needs_no_join", "author.id = 'u1'", "p1,p4"},
    {"multi_relation_id_joins", "editors.id ?= 'u1'", kNone},
    {"related_hidden_field", "author.secret_note = 'x'", kError},
};

class AsGuest : public ::testing::TestWithParam<FilterCase> {};

TEST_P(AsGuest, ReturnsExpectedIds) {
  const auto& fx = shared_fixture();
  check(GetParam(), fx.run("posts", GetParam().filter, fx.guest(), client_options()));
}

INSTANTIATE_TEST_SUITE_P(Guest, AsGuest, ::testing::ValuesIn(kGuestCases), names);

// u1 as a regular client: the users list rule lets only u1 through joins.
const FilterCase kClientCases[] = {
    {"relation_to_self_visible", "author.name = 'Alice'", "p1,p4"},
    {"relation_to_other_hidden", "author.name = 'Bob'", kNone},
    {"visible_email", "author.email = 'alice@example.com'", "p1,p4"},
    {"multi_relation_any", "editors.name ?= 'Alice'", "p3,p4"},
    {"multi_relation_every", "editors.name = 'Alice'", "p3"},
    {"auth_hidden_field", "@request.auth.secret_note = 'a-secret'", kError},
    {"auth_joined_field", "@request.auth.name = 'Alice'", kAll},
    {"back_relation_rule_hides_low_scores", "comments_via_post.score ?> 0", "p1,p2"},
};

class AsClient : public ::testing::TestWithParam<FilterCase> {};

TEST_P(AsClient, ReturnsExpectedIds) {
  const auto& fx = shared_fixture();
  check(GetParam(), fx.run("posts", GetParam().filter, fx.as_user("u1"), client_options()));
}

INSTANTIATE_TEST_SUITE_P(Client, AsClient, ::testing::ValuesIn(kClientCases), names);

// The users collection itself: emails match only when publicly visible.
const FilterCase kUsersGuestCases[] = {
    {"visible_email", "email = 'alice@example.com'", "u1"},
    {"invisible_email", "email = 'bob@example.com'", ""},
    {"email_like", "email ~ 'example.com'", "u1,u3"},
    {"email_lower", "email:lower ~ 'CAROL'", "u3"},
    {"hidden_field", "secret_note = 'a-secret'", kError},
};

class UsersAsGuest : public ::testing::TestWithParam<FilterCase> {};

TEST_P(UsersAsGuest, ReturnsExpectedIds) {
  const auto& fx = shared_fixture();
  check(GetParam(), fx.run("users", GetParam().filter, fx.guest(), client_options()));
}

INSTANTIATE_TEST_SUITE_P(Users, UsersAsGuest, ::testing::ValuesIn(kUsersGuestCases), names);

// Rules compile with hidden fields allowed and ignore list rules, even for a guest.
TEST(Rules, RuleSeesHiddenFieldsAndFilterDoesNot) {
  const auto& fx = shared_fixture();
  auto guest = fx.guest();
  Compiler c(fx.catalog(), fx.collection("posts"), guest, client_options());
  EXPECT_FALSE(c.add_rule("secret != '' && author.name != ''"));
  auto err = c.add_filter("secret = 's1'");
  ASSERT_TRUE(err);
  EXPECT_NE(err->message.find("secret"), std::string::npos);
  EXPECT_FALSE(c.add_filter("views > 5"));
  auto r = c.finish();
  ASSERT_TRUE(std::holds_alternative<Compiled>(r));
  EXPECT_EQ(fx.execute("posts", std::get<Compiled>(r)), "p1");
}

TEST(Rules, OwnerRule) {
  const auto& fx = shared_fixture();
  auto user = fx.as_user("u1");
  Compiler c(fx.catalog(), fx.collection("posts"), user, client_options());
  ASSERT_FALSE(c.add_rule("author = @request.auth.id || editors ~ @request.auth.id"));
  auto r = c.finish();
  ASSERT_TRUE(std::holds_alternative<Compiled>(r));
  EXPECT_EQ(fx.execute("posts", std::get<Compiled>(r)), "p1,p3,p4");
}

TEST(Rules, RuleAndFilterAndSortShareJoins) {
  const auto& fx = shared_fixture();
  auto user = fx.as_user("u1");
  Compiler c(fx.catalog(), fx.collection("posts"), user, superuser_options());
  ASSERT_FALSE(c.add_rule("author.name != ''"));
  ASSERT_FALSE(c.add_filter("author.role = 'member'"));
  ASSERT_FALSE(c.add_sort("-author.name,title"));
  auto r = c.finish();
  ASSERT_TRUE(std::holds_alternative<Compiled>(r));
  const auto& compiled = std::get<Compiled>(r);
  EXPECT_EQ(compiled.joins.size(), 1u);
  EXPECT_TRUE(compiled.needs_distinct);
  EXPECT_EQ(fx.execute("posts", compiled), "p2,p6");
}

TEST(Rules, CompilerIsSpentAfterFinish) {
  const auto& fx = shared_fixture();
  auto guest = fx.guest();
  Compiler c(fx.catalog(), fx.collection("posts"), guest, superuser_options());
  ASSERT_FALSE(c.add_filter("id = 'p1'"));
  ASSERT_TRUE(std::holds_alternative<Compiled>(c.finish()));
  EXPECT_TRUE(c.add_filter("id = 'p2'"));
  EXPECT_TRUE(std::holds_alternative<Error>(c.finish()));
}

TEST(Rules, EmptyFilterIsAnError) {
  const auto& fx = shared_fixture();
  auto r = compile("", fx.catalog(), fx.collection("posts"), fx.guest(), superuser_options());
  ASSERT_TRUE(std::holds_alternative<Error>(r));
  EXPECT_EQ(std::get<Error>(r).message, "empty filter expression");
}

TEST(Rules, EmptyCompilerHasNoWhere) {
  const auto& fx = shared_fixture();
  auto guest = fx.guest();
  Compiler c(fx.catalog(), fx.collection("posts"), guest, superuser_options());
  auto r = c.finish();
  ASSERT_TRUE(std::holds_alternative<Compiled>(r));
  EXPECT_TRUE(std::get<Compiled>(r).where.empty());
  EXPECT_EQ(fx.execute("posts", std::get<Compiled>(r)), kAll);
}

TEST(Macros, MonthEndInLeapFebruary) {
  const auto& fx = shared_fixture();
  auto o = superuser_options();
  o.now_ms = 1707566400000;  // 2024-02-10 12:00:00Z
  EXPECT_EQ(
      fx.run("posts", "@monthEnd = '2024-02-29 23:59:59.999Z' && @weekday = 6", fx.guest(), o),
      kAll);
  o.now_ms = 1704067199999;  // 2023-12-31 23:59:59.999Z
  EXPECT_EQ(fx.run("posts",
                   "@yearEnd = @todayEnd && @monthStart = '2023-12-01 00:00:00.000Z' && "
                   "@tomorrow = '2024-01-01 23:59:59.999Z'",
                   fx.guest(), o),
            kAll);
}

}  // namespace
}  // namespace plinth::query::test
