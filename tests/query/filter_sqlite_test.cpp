// Filters over every field type of `posts`, executed against the seeded
// SQLite database as a superuser. Seed data (see fixture.cpp):
//   p1 "Hello World"   views 10  published  2024-01-15  published  [a,b]   author u1
//   p2 "hello again"   views 0              ""          draft      []      author u2
//   p3 "50% off_sale"  views 100 published  2030-06-01  archived   [c]     no author
//   p4 ""              views -5             2023-12-31  ""         [a,b,c] author u1
//   p5 O'Brien "quoted" 7.5      published  2024-02-29  published  [b]     author u3
//   p6 "unicode ünïcødé 日本" 10            2024-01-15  draft      [a]     author u2

#include <gtest/gtest.h>

#include "fixture.hpp"

namespace plinth::query::test {
namespace {

constexpr const char* kAll = "p1,p2,p3,p4,p5,p6";
constexpr const char* kNone = "";
constexpr const char* kError = "!error";

const FilterCase kTextCases[] = {
    {"eq", "title = 'Hello World'", "p1"},
    {"eq_double_quotes", "title = \"Hello World\"", "p1"},
    {"eq_is_case_sensitive", "title = 'hello world'", kNone},
    {"neq", "title != 'Hello World'", "p2,p3,p4,p5,p6"},
    {"like_is_case_insensitive", "title ~ 'HELLO'", "p1,p2"},
    {"nlike", "title !~ 'hello'", "p3,p4,p5,p6"},
    {"like_explicit_prefix", "title ~ 'Hello%'", "p1,p2"},
    {"like_explicit_suffix", "title ~ '%world'", "p1"},
    {"like_escaped_percent", "title ~ '50\\%'", "p3"},
    {"like_underscore_is_literal", "title ~ 'o_w'", kNone},
    {"like_underscore_matches_itself", "title ~ 'f_s'", "p3"},
    {"like_empty_matches_all", "title ~ ''", kAll},
    {"nlike_empty_matches_none", "title !~ ''", kNone},
    {"like_value_contains_column", "'Hello World' ~ title", "p1,p4"},
    {"nlike_value_contains_column", "'Hello World' !~ title", "p2,p3,p5,p6"},
    {"gt", "title > 'a'", "p2,p6"},
    {"lt", "title < 'H'", "p3,p4"},
    {"gte", "title >= 'hello again'", "p2,p6"},
    {"lte_empty", "title <= ''", "p4"},
    {"eq_empty", "title = ''", "p4"},
    {"eq_null", "title = null", "p4"},
    {"neq_empty", "title != ''", "p1,p2,p3,p5,p6"},
    {"neq_null", "title != null", "p1,p2,p3,p5,p6"},
    {"null_on_the_left", "null = title", "p4"},
    {"empty_on_the_left_neq", "'' != title", "p1,p2,p3,p5,p6"},
    {"escaped_single_quote", "title = 'O\\'Brien \"quoted\"'", "p5"},
    {"escaped_double_quote", "title = \"O'Brien \\\"quoted\\\"\"", "p5"},
    {"like_single_quote", "title ~ \"'\"", "p5"},
    {"unicode_eq", "title = 'unicode ünïcødé 日本'", "p6"},
    {"unicode_like", "title ~ 'ünï'", "p6"},
    {"unicode_like_no_case_folding", "title ~ 'ÜNÏ'", kNone},
    {"cjk_like", "title ~ '日本'", "p6"},
    {"lower_modifier", "title:lower = 'hello world'", "p1"},
    {"lower_modifier_like", "title:lower ~ 'hello'", "p1,p2"},
    {"any_eq_on_single_value", "title ?= 'Hello World'", "p1"},
    {"any_like_on_single_value", "title ?~ 'again'", "p2"},
    {"vs_number_literal", "title = 50", kNone},
    {"field_vs_field_eq", "title = status", "p4"},
    {"field_vs_field_neq", "title != status", "p1,p2,p3,p5,p6"},
    {"backslash_escapes_closing_quote", "title ~ '\\'", kError},
};

const FilterCase kNumberCases[] = {
    {"eq", "views = 10", "p1,p6"},
    {"eq_float", "views = 7.5", "p5"},
    {"eq_negative", "views = -5", "p4"},
    {"eq_zero", "views = 0", "p2"},
    {"neq", "views != 10", "p2,p3,p4,p5"},
    {"gt", "views > 5", "p1,p3,p5,p6"},
    {"gte", "views >= 10", "p1,p3,p6"},
    {"lt", "views < 0", "p4"},
    {"lte", "views <= 0", "p2,p4"},
    {"gt_negative", "views > -1", "p1,p2,p3,p5,p6"},
    {"range", "views > 7.4 && views < 7.6", "p5"},
    {"eq_decimal_form", "views = 10.0", "p1,p6"},
    {"leading_zeros", "views = 0010", "p1,p6"},
    {"eq_empty", "views = ''", kNone},
    {"eq_null", "views = null", kNone},
    {"neq_null", "views != null", kAll},
    {"vs_numeric_text", "views > '5'", "p1,p3,p5,p6"},
    {"any_gt", "views ?> 50", "p3"},
    {"field_vs_itself", "views = views", kAll},
    {"like_digits", "views ~ '0'", "p1,p2,p3,p6"},
    {"literals_equal", "1 = 1", kAll},
    {"literals_differ", "1 = 2", kNone},
    {"huge_literal", "views < 99999999999999999999", kAll},
    {"negative_decimal", "views > -5.5", kAll},
};

const FilterCase kBoolCases[] = {
    {"eq_true", "published = true", "p1,p3,p5"},
    {"eq_false", "published = false", "p2,p4,p6"},
    {"neq_true", "published != true", "p2,p4,p6"},
    {"neq_false", "published != false", "p1,p3,p5"},
    {"uppercase_keyword", "published = TRUE", "p1,p3,p5"},
    {"mixed_case_keyword", "published = False", "p2,p4,p6"},
    {"eq_one", "published = 1", "p1,p3,p5"},
    {"eq_text_true", "published = 'true'", kNone},
    {"true_eq_true", "true = true", kAll},
    {"true_neq_false", "true != false", kAll},
    {"gt_false", "published > false", "p1,p3,p5"},
};

const FilterCase kDateCases[] = {
    {"gt_date_only", "published_at > '2024-01-01'", "p1,p3,p5,p6"},
    {"eq_empty", "published_at = ''", "p2"},
    {"neq_empty", "published_at != ''", "p1,p3,p4,p5,p6"},
    {"eq_exact", "published_at = '2024-01-15 10:00:00.000Z'", "p1,p6"},
    {"lt_now", "published_at < @now", "p1,p2,p4,p5,p6"},
    {"gt_now", "published_at > @now", "p3"},
    {"gte_today_start", "published_at >= @todayStart", "p3"},
    {"lte_today_end", "published_at <= @todayEnd && published_at != ''", "p1,p4,p5,p6"},
    {"gt_year_start", "published_at > @yearStart", "p1,p3,p5,p6"},
    {"before_year_start", "published_at < @yearStart && published_at != ''", "p4"},
    {"lte_month_end", "published_at <= @monthEnd", "p1,p2,p4,p5,p6"},
    {"gte_month_start", "published_at >= @monthStart", "p3"},
    {"gt_year_end", "published_at > @yearEnd", "p3"},
    {"between", "published_at >= '2024-02-01' && published_at < '2024-03-01'", "p5"},
    {"like_year", "published_at ~ '2024-'", "p1,p5,p6"},
    {"strftime_year", "strftime('%Y', published_at) = '2024'", "p1,p5,p6"},
    {"strftime_of_empty_is_empty", "strftime('%Y', published_at) = ''", "p2"},
    {"strftime_month", "strftime('%m', published_at) = '01'", "p1,p6"},
    {"yesterday_before_now", "@yesterday < @now", kAll},
    {"gt_tomorrow", "published_at > @tomorrow", "p3"},
};

const FilterCase kSelectCases[] = {
    {"eq", "status = 'published'", "p1,p5"},
    {"neq", "status != 'draft'", "p1,p3,p4,p5"},
    {"eq_empty", "status = ''", "p4"},
    {"like", "status ~ 'pub'", "p1,p5"},
    {"any_eq", "status ?= 'draft'", "p2,p6"},
    {"length_one", "status:length = 1", "p1,p2,p3,p5,p6"},
    {"length_zero", "status:length = 0", "p4"},
    {"each", "status:each = 'draft'", "p2,p6"},
    {"lower", "status:lower = 'archived'", "p3"},
    {"or", "status = 'draft' || status = 'archived'", "p2,p3,p6"},
};

// tags: p1 [a,b]  p2 []  p3 [c]  p4 [a,b,c]  p5 [b]  p6 [a]
const FilterCase kMultiSelectCases[] = {
    {"eq_compares_the_stored_json", "tags = 'a'", kNone},
    {"eq_json_text", "tags = '[\"c\"]'", "p3"},
    {"eq_empty_array_text", "tags = '[]'", "p2"},
    {"like_json_text", "tags ~ 'a'", "p1,p4,p6"},
    {"any_like", "tags ?~ 'b'", "p1,p4,p5"},
    {"each_any_eq", "tags:each ?= 'a'", "p1,p4,p6"},
    {"each_eq_means_all", "tags:each = 'a'", "p6"},
    {"each_neq_means_all", "tags:each != 'c'", "p1,p2,p5,p6"},
    {"each_any_neq", "tags:each ?!= 'a'", "p1,p2,p3,p4,p5"},
    {"each_like_all", "tags:each ~ 'b'", "p5"},
    {"each_any_like", "tags:each ?~ 'c'", "p3,p4"},
    {"each_gt_all", "tags:each > 'a'", "p3,p5"},
    {"each_any_gt", "tags:each ?> 'b'", "p3,p4"},
    {"each_nlike_all", "tags:each !~ 'a'", "p3,p5"},
    {"length_zero", "tags:length = 0", "p2"},
    {"length_two", "tags:length = 2", "p1"},
    {"length_gt", "tags:length > 1", "p1,p4"},
    {"length_gte", "tags:length >= 3", "p4"},
    {"length_one", "tags:length = 1", "p3,p5,p6"},
    {"length_any", "tags:length ?= 2", "p1"},
    {"each_and_length", "tags:each ?= 'a' && tags:length = 1", "p6"},
};

// meta: p1 {"a":1,"b":{"c":"x"},"list":[1,2]}  p2 NULL  p3 {"a":2}  p4 [1,2,3]
//       p5 {"a":"1"}  p6 {}
const FilterCase kJsonCases[] = {
    {"path_eq_number", "meta.a = 1", "p1"},
    {"path_eq_text", "meta.a = '1'", "p5"},
    {"path_gt_text_sorts_after_numbers", "meta.a > 1", "p3,p5"},
    {"nested_path", "meta.b.c = 'x'", "p1"},
    {"array_index", "meta.list.1 = 2", "p1"},
    {"root_array_index", "meta.0 = 1", "p4"},
    {"path_eq_null", "meta.a = null", "p2,p4,p6"},
    {"path_neq_null", "meta.a != null", "p1,p3,p5"},
    {"whole_eq_null", "meta = null", "p2"},
    {"whole_neq_null", "meta != null", "p1,p3,p4,p5,p6"},
    {"whole_like", "meta ~ 'list'", "p1"},
    {"missing_path_is_null", "meta.missing = null", kAll},
    {"path_lower", "meta.b.c:lower = 'x'", "p1"},
    {"path_neq_text_keeps_nulls", "meta.a != '1'", "p1,p2,p3,p4,p6"},
    {"path_any_eq", "meta.a ?= 2", "p3"},
    {"whole_eq_empty_text", "meta = ''", kNone},
};

// location: p1 (23.3, 42.7)  p3 (-0.12, 51.5)  the rest (0, 0)
const FilterCase kGeoAndFileCases[] = {
    {"geo_lat", "location.lat > 40", "p1,p3"},
    {"geo_lon_negative", "location.lon < 0", "p3"},
    {"geo_distance_near", "geoDistance(location.lon, location.lat, 23.32, 42.69) < 10", "p1"},
    {"geo_distance_origin", "geoDistance(location.lon, location.lat, 0, 0) < 1", "p2,p4,p5,p6"},
    {"geo_distance_far", "geoDistance(location.lon, location.lat, 23.32, 42.69) > 1000",
     "p2,p3,p4,p5,p6"},
    {"file_eq", "cover = 'c1.png'", "p1"},
    {"file_empty", "cover = ''", "p2,p3,p4,p5,p6"},
    {"file_length", "cover:length = 1", "p1"},
    {"file_like", "cover ~ '.png'", "p1"},
    {"id_or", "id = 'p1' || id = 'p3'", "p1,p3"},
    {"id_neq", "id != 'p1'", "p2,p3,p4,p5,p6"},
    {"id_gt", "id > 'p4'", "p5,p6"},
    {"hidden_field_for_superusers", "secret = 's1'", "p1"},
};

const FilterCase kStructureCases[] = {
    {"and_binds_tighter_than_or", "status = 'draft' || status = 'published' && views > 8",
     "p1,p2,p6"},
    {"parentheses", "(status = 'draft' || status = 'published') && views > 8", "p1,p6"},
    {"nested_or_in_and", "views > 8 && (title ~ 'hello' || title ~ 'unicode')", "p1,p6"},
    {"double_parentheses", "((views > 5))", "p1,p3,p5,p6"},
    {"mixed_chain", "views > 5 && views < 50 || published = false && views < 0", "p1,p4,p5,p6"},
    {"deep_parentheses", "(((((id = 'p2')))))", "p2"},
    {"or_chain", "id = 'p1' || id = 'p2' || id = 'p3'", "p1,p2,p3"},
    {"and_chain", "views > 0 && published = true && status = 'published'", "p1,p5"},
    {"line_comment", "views > 5 // trailing comment\n && published = true", "p1,p3,p5"},
    {"comment_at_end", "id = 'p1' // the end", "p1"},
    {"whitespace_and_newlines", "\n\tid\r\n=\n'p1'\n", "p1"},
    {"null_eq_null", "null = null", kAll},
    {"null_neq_null", "null != null", kNone},
    {"empty_eq_null", "'' = null", kAll},
    {"text_literals", "'a' < 'b'", kAll},
    {"true_eq_one", "true = 1", kAll},
};

const FilterCase kErrorCases[] = {
    {"unknown_field", "nope = 1", kError},
    {"missing_right_operand", "title =", kError},
    {"missing_left_operand", "= 1", kError},
    {"invalid_sign", "title == 1", kError},
    {"trailing_join", "title = 1 &&", kError},
    {"unclosed_parenthesis", "(title = 1", kError},
    {"extra_parenthesis", "title = 1)", kError},
    {"unterminated_text", "title = 'abc", kError},
    {"unknown_request_field", "@request.nope = 1", kError},
    {"collection_without_field", "@collection.posts = 1", kError},
    {"unknown_modifier", "title:bogus = 1", kError},
    {"two_modifiers", "tags:each:lower = 1", kError},
    {"not_a_relation", "title.x = 1", kError},
    {"unknown_function", "nope(1) = 1", kError},
    {"geo_distance_arity", "geoDistance(1, 2) < 1", kError},
    {"blank", "  \n ", kError},
    {"only_comment", "// nothing", kError},
    {"empty_parentheses", "() && id = 'p1'", kError},
    {"operand_before_group", "id (id = 'p1')", kError},
    {"empty_json_key", "meta..a = 1", kError},
    {"strftime_format_must_be_text", "strftime(published_at) = '1'", kError},
    {"single_ampersand", "id = 'p1' & id = 'p2'", kError},
    {"bang_alone", "id ! 'p1'", kError},
};

class PostsAsSuperuser : public ::testing::TestWithParam<FilterCase> {};

TEST_P(PostsAsSuperuser, ReturnsExpectedIds) {
  const auto& c = GetParam();
  const auto& fx = shared_fixture();
  auto got = fx.run("posts", c.filter, fx.guest(), superuser_options());
  if (std::string_view(c.expected) == kError) {
    EXPECT_TRUE(got.starts_with("!error")) << c.filter << " -> " << got;
    EXPECT_EQ(got.find("SQL"), std::string::npos) << "must fail at compile time: " << got;
  } else {
    EXPECT_EQ(got, c.expected) << c.filter;
  }
}

auto names = [](const ::testing::TestParamInfo<FilterCase>& i) { return case_name(i.param); };

INSTANTIATE_TEST_SUITE_P(Text, PostsAsSuperuser, ::testing::ValuesIn(kTextCases), names);
INSTANTIATE_TEST_SUITE_P(Number, PostsAsSuperuser, ::testing::ValuesIn(kNumberCases), names);
INSTANTIATE_TEST_SUITE_P(Bool, PostsAsSuperuser, ::testing::ValuesIn(kBoolCases), names);
INSTANTIATE_TEST_SUITE_P(Date, PostsAsSuperuser, ::testing::ValuesIn(kDateCases), names);
INSTANTIATE_TEST_SUITE_P(Select, PostsAsSuperuser, ::testing::ValuesIn(kSelectCases), names);
INSTANTIATE_TEST_SUITE_P(MultiSelect, PostsAsSuperuser, ::testing::ValuesIn(kMultiSelectCases),
                         names);
INSTANTIATE_TEST_SUITE_P(Json, PostsAsSuperuser, ::testing::ValuesIn(kJsonCases), names);
INSTANTIATE_TEST_SUITE_P(GeoFileId, PostsAsSuperuser, ::testing::ValuesIn(kGeoAndFileCases), names);
INSTANTIATE_TEST_SUITE_P(Structure, PostsAsSuperuser, ::testing::ValuesIn(kStructureCases), names);
INSTANTIATE_TEST_SUITE_P(Errors, PostsAsSuperuser, ::testing::ValuesIn(kErrorCases), names);

}  // namespace
}  // namespace plinth::query::test
