// Sort lists ("-views,title") resolved like filter fields and executed.

#include <gtest/gtest.h>

#include "fixture.hpp"

namespace plinth::query::test {
namespace {

struct SortCase {
  const char* name;
  std::string sort;
  const char* expected;  // ids in order, or "!error"
  bool superuser = true;
};

const SortCase kCases[] = {
    {"title", "title", "p4,p3,p1,p5,p2,p6"},
    {"plus_title", "+title", "p4,p3,p1,p5,p2,p6"},
    {"views_desc", "-views", "p3,p1,p6,p5,p2,p4"},
    {"two_fields", "-published,views", "p5,p1,p3,p4,p2,p6"},
    {"spaces_around", " -views , title ", "p3,p1,p6,p5,p2,p4"},
    {"relation_field", "author.name", "p3,p5,p1,p4,p2,p6"},
    {"rowid", "@rowid", "p1,p2,p3,p4,p5,p6"},
    {"rowid_desc", "-@rowid", "p6,p5,p4,p3,p2,p1"},
    {"json_path", "meta.a", "p2,p4,p6,p1,p3,p5"},
    {"length_modifier", "tags:length", "p2,p3,p5,p6,p1,p4"},
    {"lower_modifier", "title:lower", "p4,p3,p2,p1,p5,p6"},
    {"hidden_for_superuser", "-secret", "p2,p1,p3,p4,p5,p6"},
    {"hidden_for_client", "secret", "!error", false},
    {"unknown", "nope", "!error"},
    {"request_value", "@request.auth.id", "!error"},
    {"null_keyword", "null", "!error"},
    {"macro", "@now", "!error"},
    {"injection", "title; DROP TABLE posts", "!error"},
    {"empty", "", "!error"},
    {"empty_item", "title,,views", "!error"},
    {"too_many", "a,b,c,d,e,f,g,h,i", "!error"},
    {"too_long", std::string(256, 'a'), "!error"},
    {"password", "author.password", "!error"},
};

class Sorting : public ::testing::TestWithParam<SortCase> {};

TEST_P(Sorting, Order) {
  const auto& c = GetParam();
  const auto& fx = shared_fixture();
  auto o = c.superuser ? superuser_options() : client_options();
  std::string got;
  if (c.sort.empty()) {
    auto r = compile_sort(c.sort, fx.catalog(), fx.collection("posts"), fx.guest(), o);
    got = std::holds_alternative<Error>(r) ? "!error" : fx.execute("posts", std::get<Compiled>(r));
  } else {
    got = fx.run("posts", "", fx.guest(), o, c.sort);
  }
  if (std::string_view(c.expected) == "!error") {
    EXPECT_TRUE(got.starts_with("!error")) << got;
    EXPECT_EQ(got.find("SQL"), std::string::npos) << got;
  } else {
    EXPECT_EQ(got, c.expected);
  }
}

INSTANTIATE_TEST_SUITE_P(Sort, Sorting, ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<SortCase>& i) { return i.param.name; });

TEST(Sorting, RandomReturnsEveryRow) {
  const auto& fx = shared_fixture();
  auto r = compile_sort("@random", fx.catalog(), fx.collection("posts"), fx.guest(),
                        superuser_options());
  ASSERT_TRUE(std::holds_alternative<Compiled>(r));
  EXPECT_EQ(std::get<Compiled>(r).order_by, "RANDOM()");
  EXPECT_EQ(fx.execute("posts", std::get<Compiled>(r)).size(),
            std::string("p1,p2,p3,p4,p5,p6").size());
}

TEST(Sorting, SortLimitIsConfigurable) {
  const auto& fx = shared_fixture();
  auto o = superuser_options();
  o.limits.max_sort_fields = 2;
  EXPECT_EQ(fx.run("posts", "", fx.guest(), o, "-published,views"), "p5,p1,p3,p4,p2,p6");
  EXPECT_TRUE(fx.run("posts", "", fx.guest(), o, "-published,views,title").starts_with("!error"));
  o.limits.max_sort_length = 4;
  EXPECT_TRUE(fx.run("posts", "", fx.guest(), o, "title").starts_with("!error"));
  EXPECT_EQ(fx.run("posts", "", fx.guest(), o, "id"), "p1,p2,p3,p4,p5,p6");
}

TEST(Sorting, SortAndFilterTogether) {
  const auto& fx = shared_fixture();
  EXPECT_EQ(fx.run("posts", "views > 0", fx.guest(), superuser_options(), "-author.name"),
            "p6,p1,p5,p3");
}

}  // namespace
}  // namespace plinth::query::test
