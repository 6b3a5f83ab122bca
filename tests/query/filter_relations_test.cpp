// Relation paths, multi-relations, back-relations and @collection joins,
// executed against the seeded database as a superuser. Seed data:
//   users:    u1 Alice admin verified (email visible), u2 Bob member, u3 "" member (visible)
//   posts:    author p1 u1, p2 u2, p3 -, p4 u1, p5 u3, p6 u2
//             editors p1 [u2,u3], p2 [], p3 [u1], p4 [u1,u2], p5 [u3], p6 [u2]
//             parent p2 -> p1, p3 -> p1, p4 -> p2
//   comments: c1 p1 "first!" by u2 score 5, c2 p1 "second" by u3 score 3,
//             c3 p2 "nice" by u1 score 5, c4 p4 "meh" by u1 score 1
//   bundles:  b1 starter [p1,p2], b2 archive [p3], b3 all [p1..p6]
//   post_stats (unique post): s1 p1 likes 10, s2 p2 likes 0, s3 p5 likes 3

#include <gtest/gtest.h>

#include "fixture.hpp"

namespace plinth::query::test {
namespace {

constexpr const char* kAll = "p1,p2,p3,p4,p5,p6";
constexpr const char* kNone = "";
constexpr const char* kError = "!error";

const FilterCase kSingleRelationCases[] = {
    {"eq_id", "author = 'u1'", "p1,p4"},
    {"dot_id_needs_no_join", "author.id = 'u1'", "p1,p4"},
    {"eq_empty", "author = ''", "p3"},
    {"neq", "author != 'u1'", "p2,p3,p5,p6"},
    {"name", "author.name = 'Alice'", "p1,p4"},
    {"name_empty_includes_missing_author", "author.name = ''", "p3,p5"},
    {"name_not_empty", "author.name != ''", "p1,p2,p4,p6"},
    {"select_of_related", "author.role = 'member'", "p2,p5,p6"},
    {"email_like", "author.email ~ 'example'", "p1,p2,p4,p5,p6"},
    {"bool_of_related", "author.verified = true", "p1,p4"},
    {"email_visibility_field", "author.emailVisibility = false", "p2,p6"},
    {"lower_of_related", "author.name:lower = 'alice'", "p1,p4"},
    {"hidden_field_for_superusers", "author.secret_note = 'a-secret'", "p1,p4"},
    {"password_never", "author.password = 'hash1'", kError},
    {"token_key_never", "author.tokenKey = 'tk1'", kError},
    {"unknown_related_field", "author.nope = 1", kError},
    {"self_parent", "parent.title = 'Hello World'", "p2,p3"},
    {"self_grandparent", "parent.parent.title = 'Hello World'", "p4"},
    {"self_parent_author", "parent.author.name = 'Alice'", "p2,p3"},
    {"self_parent_id", "parent.id = 'p1'", "p2,p3"},
    {"self_parent_null", "parent = null", "p1,p5,p6"},
    {"six_hops", "parent.parent.parent.parent.parent.parent.title = 'x'", kNone},
    {"seven_hops", "parent.parent.parent.parent.parent.parent.parent.title = 'x'", kError},
    {"any_editor_is_author", "author ?= editors.id", "p4,p5,p6"},
    {"every_editor_is_author", "author = editors.id", "p5,p6"},
};

const FilterCase kMultiRelationCases[] = {
    {"like_stored_json", "editors ~ 'u2'", "p1,p4,p6"},
    {"eq_means_every", "editors.name = 'Bob'", "p6"},
    {"any_eq", "editors.name ?= 'Bob'", "p1,p4,p6"},
    {"neq_means_every", "editors.name != 'Bob'", "p2,p3,p5"},
    {"any_neq", "editors.name ?!= 'Bob'", "p1,p2,p3,p4,p5"},
    {"id_any", "editors.id ?= 'u1'", "p3,p4"},
    {"id_every", "editors.id = 'u1'", "p3"},
    {"length", "editors:length = 2", "p1,p4"},
    {"length_zero", "editors:length = 0", "p2"},
    {"each_every", "editors:each = 'u2'", "p6"},
    {"each_any", "editors:each ?= 'u2'", "p1,p4,p6"},
    {"select_every", "editors.role = 'member'", "p1,p5,p6"},
    {"bool_every", "editors.verified = true", "p3"},
    {"like_every", "editors.name ~ 'o'", "p6"},
    {"like_any", "editors.name ?~ 'ali'", "p3,p4"},
    {"any_empty_name", "editors.name ?= ''", "p1,p2,p5"},
    {"gt_every", "editors.name > 'A'", "p3,p4,p6"},
    {"many_vs_many", "editors.name = editors.name", "p2,p3,p5,p6"},
    {"any_id_vs_column", "editors.id ?= author", "p4,p5,p6"},
};

const FilterCase kBackRelationCases[] = {
    {"any_text", "comments_via_post.text ?= 'nice'", "p2"},
    {"every_text", "comments_via_post.text = 'nice'", "p2"},
    {"every_score", "comments_via_post.score = 5", "p2"},
    {"any_score", "comments_via_post.score ?= 5", "p1,p2"},
    {"every_gt", "comments_via_post.score > 2", "p1,p2"},
    {"any_lt", "comments_via_post.score ?< 2", "p4"},
    {"no_comments", "comments_via_post.id = ''", "p3,p5,p6"},
    {"nested_any", "comments_via_post.author.name ?= 'Alice'", "p2,p4"},
    {"nested_every", "comments_via_post.author.name = 'Alice'", "p2,p4"},
    {"nested_any_bob", "comments_via_post.author.name ?= 'Bob'", "p1"},
    {"field_targets_other_collection", "comments_via_author.text ?= 'x'", kError},
    {"unknown_collection", "nope_via_post.x ?= 1", kError},
    {"unique_index_single_row", "post_stats_via_post.likes > 1", "p1,p5"},
    {"unique_index_eq", "post_stats_via_post.likes = 0", "p2"},
    {"via_multi_relation_any", "bundles_via_posts.name ?= 'starter'", "p1,p2"},
    {"via_multi_relation_every", "bundles_via_posts.name = 'all'", "p4,p5,p6"},
    {"via_multi_relation_archive", "bundles_via_posts.name ?= 'archive'", "p3"},
    {"via_multi_relation_neq_every", "bundles_via_posts.name != 'starter'", "p3,p4,p5,p6"},
    {"any_like", "comments_via_post.text ?~ 'i'", "p1,p2"},
    {"back_and_forward", "comments_via_post.post.title ?= 'Hello World'", "p1"},
};

const FilterCase kCollectionJoinCases[] = {
    {"shared_alias_same_row", "@collection.comments.post ?= id && @collection.comments.score ?= 5",
     "p1,p2"},
    {"every_row", "@collection.comments.post = id", kNone},
    {"named_alias", "@collection.comments:x.post ?= id && @collection.comments:x.author ?= 'u1'",
     "p2,p4"},
    {"two_aliases_are_independent",
     "@collection.comments:a.post ?= id && @collection.comments:b.score ?= 1", "p1,p2,p4"},
    {"exists_anywhere", "@collection.users.name ?= 'Alice'", kAll},
    {"exists_nowhere", "@collection.users.name ?= 'Zed'", kNone},
    {"unknown_collection", "@collection.nope.x ?= 1", kError},
    {"with_relation", "@collection.users.name ?= author.name && @collection.users.role ?= 'admin'",
     "p1,p4"},
    {"by_collection_id", "@collection.pbc_comments.post ?= id", "p1,p2,p4"},
    {"every_row_holds", "@collection.comments.score > 0", kAll},
};

struct BaseCase {
  const char* name;
  const char* collection;
  const char* filter;
  const char* expected;
};

const BaseCase kOtherBaseCases[] = {
    {"comments_post_title", "comments", "post.title = 'Hello World'", "c1,c2"},
    {"comments_post_author", "comments", "post.author.name = 'Alice'", "c1,c2,c4"},
    {"comments_post_tags", "comments", "post.tags:each ?= 'c'", "c4"},
    {"comments_post_editors_any", "comments", "post.editors.name ?= 'Bob'", "c1,c2,c4"},
    {"comments_post_editors_every", "comments", "post.editors.name = 'Bob'", ""},
    {"comments_siblings", "comments", "post.comments_via_post.score ?< 2", "c4"},
    {"users_back_author", "users", "posts_via_author.title ?~ 'hello'", "u1,u2"},
    {"users_back_editors_any", "users", "posts_via_editors.id ?= 'p1'", "u2,u3"},
    {"users_back_editors_every", "users", "posts_via_editors.views > 5", "u3"},
    {"users_email_superuser", "users", "email = 'bob@example.com'", "u2"},
    {"users_password_never", "users", "password = 'hash1'", kError},
    {"users_token_key_never", "users", "tokenKey != ''", kError},
    {"bundles_posts_any", "bundles", "posts.views ?> 50", "b2,b3"},
    {"bundles_posts_every", "bundles", "posts.views >= 0", "b1,b2"},
    {"stats_post", "post_stats", "post.published = true", "s1,s3"},
};

auto names = [](const ::testing::TestParamInfo<FilterCase>& i) { return case_name(i.param); };

class Relations : public ::testing::TestWithParam<FilterCase> {};

TEST_P(Relations, ReturnsExpectedIds) {
  const auto& c = GetParam();
  const auto& fx = shared_fixture();
  auto got = fx.run("posts", c.filter, fx.guest(), superuser_options());
  if (std::string_view(c.expected) == kError) {
    EXPECT_TRUE(got.starts_with("!error")) << c.filter << " -> " << got;
    EXPECT_EQ(got.find("SQL"), std::string::npos) << got;
  } else {
    EXPECT_EQ(got, c.expected) << c.filter;
  }
}

INSTANTIATE_TEST_SUITE_P(Single, Relations, ::testing::ValuesIn(kSingleRelationCases), names);
INSTANTIATE_TEST_SUITE_P(Multi, Relations, ::testing::ValuesIn(kMultiRelationCases), names);
INSTANTIATE_TEST_SUITE_P(Back, Relations, ::testing::ValuesIn(kBackRelationCases), names);
INSTANTIATE_TEST_SUITE_P(Collection, Relations, ::testing::ValuesIn(kCollectionJoinCases), names);

class OtherBases : public ::testing::TestWithParam<BaseCase> {};

TEST_P(OtherBases, ReturnsExpectedIds) {
  const auto& c = GetParam();
  const auto& fx = shared_fixture();
  auto got = fx.run(c.collection, c.filter, fx.guest(), superuser_options());
  if (std::string_view(c.expected) == kError) {
    EXPECT_TRUE(got.starts_with("!error")) << c.filter << " -> " << got;
  } else {
    EXPECT_EQ(got, c.expected) << c.filter;
  }
}

INSTANTIATE_TEST_SUITE_P(Bases, OtherBases, ::testing::ValuesIn(kOtherBaseCases),
                         [](const ::testing::TestParamInfo<BaseCase>& i) { return i.param.name; });

}  // namespace
}  // namespace plinth::query::test
