// Field normalisation and validation, one table row per behaviour.

#include <gtest/gtest.h>

#include <boost/json/monotonic_resource.hpp>

#include "plinth/core/collection.hpp"
#include "plinth/core/datetime.hpp"
#include "plinth/core/json.hpp"
#include "plinth/core/record.hpp"

namespace plinth::core {
namespace {

Collection make_collection(const std::string& fields_json, const std::string& type = "base") {
  return collection_from_row("c1", false, type, "things", fields_json, "[]", "", "", "", "", "",
                             "{}", "", "");
}

struct Case {
  const char* name;
  const char* field;       // one field's JSON (besides the implicit id)
  const char* body;        // request body
  const char* want_error;  // error code for the field, or "" for none
  const char* want_value;  // JSON of the stored value when no error ("" = don't check)
};

class FieldValidation : public ::testing::TestWithParam<Case> {};

TEST_P(FieldValidation, NormalisesAndValidates) {
  const auto& c = GetParam();
  auto col = make_collection(
      std::string(
          R"([{"name":"id","type":"text","primaryKey":true,"required":true,"system":true,"min":15,"max":15,"pattern":"^[a-z0-9]+$"},)") +
      c.field + "]");
  auto body = parse_json(c.body);
  ASSERT_TRUE(body && body->is_object()) << c.name;
  auto rec = apply_body(col, nullptr, body->get_object(), {.is_create = true, .superuser = false});
  auto errors = validate_record(col, rec, true);
  const auto& fname = col.fields[1].name;
  if (std::string(c.want_error).empty()) {
    EXPECT_EQ(errors.count(fname), 0U) << c.name << ": " << to_json(field_errors_json(errors));
    if (std::string(c.want_value).size()) {
      EXPECT_EQ(to_json(rec.values.at(fname)), c.want_value) << c.name;
    }
  } else {
    ASSERT_EQ(errors.count(fname), 1U) << c.name << ": no error";
    EXPECT_EQ(errors.at(fname).code, c.want_error) << c.name;
  }
}

const Case kCases[] = {
    // text
    {"text plain", R"({"name":"t","type":"text"})", R"({"t":"hello"})", "", R"("hello")"},
    {"text number coerced", R"({"name":"t","type":"text"})", R"({"t":12.5})", "", R"("12.5")"},
    {"text bool coerced", R"({"name":"t","type":"text"})", R"({"t":true})", "", R"("true")"},
    {"text object rejected", R"({"name":"t","type":"text"})", R"({"t":{"a":1}})",
     "validation_unsupported_value_type", ""},
    {"text required missing", R"({"name":"t","type":"text","required":true})", R"({})",
     "validation_required", ""},
    {"text required empty", R"({"name":"t","type":"text","required":true})", R"({"t":""})",
     "validation_required", ""},
    {"text min", R"({"name":"t","type":"text","min":3})", R"({"t":"ab"})",
     "validation_min_text_constraint", ""},
    {"text max", R"({"name":"t","type":"text","max":3})", R"({"t":"abcd"})",
     "validation_max_text_constraint", ""},
    {"text max counts runes", R"({"name":"t","type":"text","max":3})", R"({"t":"h\u00e9\u00e9"})",
     "", ""},
    {"text pattern ok", R"({"name":"t","type":"text","pattern":"^[a-z]+$"})", R"({"t":"abc"})", "",
     ""},
    {"text pattern fail", R"({"name":"t","type":"text","pattern":"^[a-z]+$"})", R"({"t":"ab1"})",
     "validation_invalid_format", ""},
    {"text empty skips min", R"({"name":"t","type":"text","min":3})", R"({"t":""})", "", R"("")"},
    // number
    {"number int", R"({"name":"n","type":"number"})", R"({"n":5})", "", "5"},
    {"number float", R"({"name":"n","type":"number"})", R"({"n":1.5})", "", "1.5"},
    {"number string", R"({"name":"n","type":"number"})", R"({"n":"12"})", "", "12"},
    {"number bad string", R"({"name":"n","type":"number"})", R"({"n":"abc"})",
     "validation_not_a_number", ""},
    {"number bool", R"({"name":"n","type":"number"})", R"({"n":true})", "", "1"},
    {"number array", R"({"name":"n","type":"number"})", R"({"n":[1]})",
     "validation_unsupported_value_type", ""},
    {"number min", R"({"name":"n","type":"number","min":10})", R"({"n":5})",
     "validation_min_number_constraint", ""},
    {"number max", R"({"name":"n","type":"number","max":10})", R"({"n":11})",
     "validation_max_number_constraint", ""},
    {"number zero skips min", R"({"name":"n","type":"number","min":10})", R"({"n":0})", "", "0"},
    {"number required zero", R"({"name":"n","type":"number","required":true})", R"({"n":0})",
     "validation_required", ""},
    {"number onlyInt", R"({"name":"n","type":"number","onlyInt":true})", R"({"n":1.5})",
     "validation_only_int_constraint", ""},
    {"number onlyInt ok", R"({"name":"n","type":"number","onlyInt":true})", R"({"n":2})", "", "2"},
    // bool
    {"bool true", R"({"name":"b","type":"bool"})", R"({"b":true})", "", "true"},
    {"bool string 1", R"({"name":"b","type":"bool"})", R"({"b":"1"})", "", "true"},
    {"bool string yes", R"({"name":"b","type":"bool"})", R"({"b":"yes"})", "", "false"},
    {"bool required false", R"({"name":"b","type":"bool","required":true})", R"({"b":false})",
     "validation_required", ""},
    {"bool object", R"({"name":"b","type":"bool"})", R"({"b":{}})",
     "validation_unsupported_value_type", ""},
    // email
    {"email ok", R"({"name":"e","type":"email"})", R"({"e":"a@b.io"})", "", R"("a@b.io")"},
    {"email bad", R"({"name":"e","type":"email"})", R"({"e":"not-an-email"})",
     "validation_is_email", ""},
    {"email no tld", R"({"name":"e","type":"email"})", R"({"e":"a@b"})", "validation_is_email", ""},
    {"email onlyDomains", R"({"name":"e","type":"email","onlyDomains":["x.io"]})",
     R"({"e":"a@b.io"})", "validation_email_domain_not_allowed", ""},
    {"email exceptDomains", R"({"name":"e","type":"email","exceptDomains":["b.io"]})",
     R"({"e":"a@b.io"})", "validation_email_domain_not_allowed", ""},
    // url
    {"url ok", R"({"name":"u","type":"url"})", R"({"u":"https://example.com/x?y=1"})", "", ""},
    {"url bad", R"({"name":"u","type":"url"})", R"({"u":"example com"})", "validation_invalid_url",
     ""},
    {"url onlyDomains", R"({"name":"u","type":"url","onlyDomains":["a.com"]})",
     R"({"u":"https://b.com"})", "validation_url_domain_not_allowed", ""},
    // editor
    {"editor ok", R"({"name":"ed","type":"editor"})", R"({"ed":"<p>hi</p>"})", "",
     R"("\u003cp\u003ehi\u003c/p\u003e")"},
    {"editor maxSize", R"({"name":"ed","type":"editor","maxSize":3})", R"({"ed":"abcd"})",
     "validation_content_size_limit", ""},
    // date
    {"date pocketbase format", R"({"name":"d","type":"date"})",
     R"({"d":"2022-10-01 12:00:00.000Z"})", "", R"("2022-10-01 12:00:00.000Z")"},
    {"date rfc3339 offset", R"({"name":"d","type":"date"})", R"({"d":"2022-10-01T14:00:00+02:00"})",
     "", R"("2022-10-01 12:00:00.000Z")"},
    {"date only day", R"({"name":"d","type":"date"})", R"({"d":"2022-10-01"})", "",
     R"("2022-10-01 00:00:00.000Z")"},
    {"date garbage becomes empty", R"({"name":"d","type":"date"})", R"({"d":"yesterday"})", "",
     R"("")"},
    {"date invalid day", R"({"name":"d","type":"date"})", R"({"d":"2022-02-30"})", "", R"("")"},
    {"date required garbage", R"({"name":"d","type":"date","required":true})", R"({"d":"nope"})",
     "validation_required", ""},
    {"date min", R"({"name":"d","type":"date","min":"2023-01-01 00:00:00.000Z"})",
     R"({"d":"2022-01-01"})", "validation_min_greater_equal_than_required", ""},
    {"date max", R"({"name":"d","type":"date","max":"2023-01-01 00:00:00.000Z"})",
     R"({"d":"2024-01-01"})", "validation_max_less_equal_than_required", ""},
    // autodate
    {"autodate ignores input", R"({"name":"created","type":"autodate","onCreate":true})",
     R"({"created":"2000-01-01"})", "", ""},
    // select
    {"select single", R"({"name":"s","type":"select","values":["a","b"],"maxSelect":1})",
     R"({"s":"a"})", "", R"("a")"},
    {"select single from array keeps last",
     R"({"name":"s","type":"select","values":["a","b"],"maxSelect":1})", R"({"s":["a","b"]})", "",
     R"("b")"},
    {"select unknown", R"({"name":"s","type":"select","values":["a","b"],"maxSelect":1})",
     R"({"s":"z"})", "validation_invalid_value", ""},
    {"select multi dedup", R"({"name":"s","type":"select","values":["a","b","c"],"maxSelect":3})",
     R"({"s":["a","a","b",""]})", "", R"(["a","b"])"},
    {"select multi too many",
     R"({"name":"s","type":"select","values":["a","b","c"],"maxSelect":2})",
     R"({"s":["a","b","c"]})", "validation_too_many_values", ""},
    {"select number item", R"({"name":"s","type":"select","values":["a"],"maxSelect":2})",
     R"({"s":[1]})", "validation_unsupported_value_type", ""},
    {"select required",
     R"({"name":"s","type":"select","values":["a"],"maxSelect":2,"required":true})", R"({"s":[]})",
     "validation_required", ""},
    // json
    {"json object keys sorted", R"({"name":"j","type":"json"})", R"({"j":{"b":1,"a":[1,2]}})", "",
     R"({"a":[1,2],"b":1})"},
    {"json string array parsed", R"({"name":"j","type":"json"})", R"({"j":"[1,2]"})", "", "[1,2]"},
    {"json string number parsed", R"({"name":"j","type":"json"})", R"({"j":"123"})", "", "123"},
    {"json plain string kept", R"({"name":"j","type":"json"})", R"({"j":"hello"})", "",
     R"("hello")"},
    {"json null", R"({"name":"j","type":"json"})", R"({"j":null})", "", "null"},
    {"json maxSize", R"({"name":"j","type":"json","maxSize":5})", R"({"j":[1,2,3,4,5]})",
     "validation_json_size_limit", ""},
    {"json required empty array", R"({"name":"j","type":"json","required":true})", R"({"j":[]})",
     "validation_required", ""},
    // relation
    {"relation single", R"({"name":"r","type":"relation","collectionId":"x","maxSelect":1})",
     R"({"r":"abc"})", "", R"("abc")"},
    {"relation multi too many",
     R"({"name":"r","type":"relation","collectionId":"x","maxSelect":2})", R"({"r":["a","b","c"]})",
     "validation_too_many_values", ""},
    {"relation minSelect",
     R"({"name":"r","type":"relation","collectionId":"x","maxSelect":5,"minSelect":2})",
     R"({"r":["a"]})", "validation_not_enough_values", ""},
    // file (names only)
    {"file names never uploaded", R"({"name":"f","type":"file","maxSelect":1})",
     R"({"f":["a.txt","b.txt"]})", "validation_invalid_file", ""},
    {"file multi too many", R"({"name":"f","type":"file","maxSelect":2})", R"({"f":["a","b","c"]})",
     "validation_too_many_files", ""},
    // geoPoint
    {"geo ok", R"({"name":"g","type":"geoPoint"})", R"({"g":{"lon":10,"lat":20}})", "",
     R"({"lon":10,"lat":20})"},
    {"geo bad lat", R"({"name":"g","type":"geoPoint"})", R"({"g":{"lon":10,"lat":120}})",
     "validation_invalid_latitude", ""},
    {"geo bad lon", R"({"name":"g","type":"geoPoint"})", R"({"g":{"lon":190,"lat":0}})",
     "validation_invalid_longitude", ""},
    {"geo required zero", R"({"name":"g","type":"geoPoint","required":true})",
     R"({"g":{"lon":0,"lat":0}})", "validation_required", ""},
    {"geo string rejected", R"({"name":"g","type":"geoPoint"})", R"({"g":"1,2"})",
     "validation_unsupported_value_type", ""},
    // password
    {"password min", R"({"name":"pw","type":"password","min":8})", R"({"pw":"short"})",
     "validation_min_text_constraint", ""},
    {"password max default 71", R"({"name":"pw","type":"password"})",
     "{\"pw\":\""
     "0123456789012345678901234567890123456789012345678901234567890123456789012"
     "\"}",
     "validation_max_text_constraint", ""},
    {"password required", R"({"name":"pw","type":"password","required":true})", R"({})",
     "validation_required", ""},
    {"password pattern", R"({"name":"pw","type":"password","pattern":"^[a-z]+$"})",
     R"({"pw":"has-digits-1"})", "validation_invalid_format", ""},
    {"password pattern met", R"({"name":"pw","type":"password","pattern":"^[a-z]+$"})",
     R"({"pw":"letters"})", "", ""},
    {"password min counts characters", R"({"name":"pw","type":"password","min":4})",
     R"({"pw":"ééé"})", "validation_min_text_constraint", ""},
    // hidden fields are not settable by non-superusers
    {"hidden ignored", R"({"name":"h","type":"text","hidden":true})", R"({"h":"x"})", "", R"("")"},
};

INSTANTIATE_TEST_SUITE_P(Table, FieldValidation, ::testing::ValuesIn(kCases), [](const auto& info) {
  std::string n = info.param.name;
  for (auto& ch : n) {
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  }
  return n;
});

Collection numbers_and_tags() {
  return make_collection(
      R"([{"name":"id","type":"text","primaryKey":true,"required":true,"system":true},
          {"name":"n","type":"number"},
          {"name":"tags","type":"select","values":["a","b","c","d"],"maxSelect":4}])");
}

TEST(Records, TextDefaultMaxIs5000Runes) {
  auto c = make_collection(
      R"([{"name":"id","type":"text","primaryKey":true,"system":true},{"name":"t","type":"text"}])");
  json::object ok{{"t", std::string(5000, 'x')}}, too_long{{"t", std::string(5001, 'x')}};
  EXPECT_EQ(validate_record(c, apply_body(c, nullptr, ok, {}), true).count("t"), 0U);
  EXPECT_EQ(validate_record(c, apply_body(c, nullptr, too_long, {}), true).at("t").code,
            "validation_max_text_constraint");
}

TEST(Modifiers, NumbersAddAndSubtractShortestKeyFirst) {
  auto c = numbers_and_tags();
  auto body = parse_json(R"({"n-":2,"n":1,"n+":5})")->get_object();
  auto rec = apply_body(c, nullptr, body, {});
  EXPECT_EQ(to_json(rec.values.at("n")), "4");
}

TEST(Modifiers, MultiValuesAppendPrependRemove) {
  auto c = numbers_and_tags();
  json::object existing{{"id", "abcdefghijklmno"}, {"n", 0}, {"tags", json::array{"b"}}};
  auto rec = apply_body(c, &existing, parse_json(R"({"tags+":["c"],"+tags":"a"})")->get_object(),
                        {.is_create = false});
  EXPECT_EQ(to_json(rec.values.at("tags")), R"(["a","b","c"])");
  auto rec2 = apply_body(c, &rec.values, parse_json(R"({"tags-":["b","c"]})")->get_object(),
                         {.is_create = false});
  EXPECT_EQ(to_json(rec2.values.at("tags")), R"(["a"])");
}

TEST(Records, CreateGeneratesIdAndAutodates) {
  auto c = make_collection(
      R"([{"name":"id","type":"text","primaryKey":true,"required":true,"system":true},
      {"name":"created","type":"autodate","onCreate":true,"onUpdate":false},
      {"name":"updated","type":"autodate","onCreate":true,"onUpdate":true}])");
  auto rec = apply_body(c, nullptr, {}, {});
  auto id = std::string(rec.values.at("id").as_string());
  EXPECT_EQ(id.size(), 15U);
  EXPECT_TRUE(parse_datetime_ms(rec.values.at("created").as_string()).has_value());
  auto later = apply_body(c, &rec.values, {}, {.is_create = false});
  EXPECT_EQ(later.values.at("id"), rec.values.at("id"));
  EXPECT_EQ(later.values.at("created"), rec.values.at("created"));
}

TEST(Records, IdCannotChangeOnUpdateAndCustomIdValidated) {
  auto c = make_collection(
      R"([{"name":"id","type":"text","primaryKey":true,"required":true,"system":true,"min":15,"max":15,"pattern":"^[a-z0-9]+$"}])");
  json::object existing{{"id", "aaaaaaaaaaaaaaa"}};
  auto upd = apply_body(c, &existing, parse_json(R"({"id":"bbbbbbbbbbbbbbb"})")->get_object(),
                        {.is_create = false});
  EXPECT_EQ(upd.values.at("id").as_string(), "aaaaaaaaaaaaaaa");
  auto bad = apply_body(c, nullptr, parse_json(R"({"id":"UPPER_case_x!!!"})")->get_object(), {});
  EXPECT_EQ(validate_record(c, bad, true).at("id").code, "validation_invalid_format");
  auto short_id = apply_body(c, nullptr, parse_json(R"({"id":"abc"})")->get_object(), {});
  EXPECT_EQ(validate_record(c, short_id, true).at("id").code, "validation_min_text_constraint");
}

TEST(Records, AuthOutputHidesSecretsAndEmail) {
  auto c = make_collection(R"([{"name":"id","type":"text","primaryKey":true,"system":true},
      {"name":"password","type":"password","hidden":true,"system":true},
      {"name":"tokenKey","type":"text","hidden":true,"system":true},
      {"name":"email","type":"email","system":true},
      {"name":"emailVisibility","type":"bool","system":true},
      {"name":"secret","type":"text","hidden":true}])",
                           "auth");
  json::object values{{"id", "x"},         {"password", "$argon2id$..."}, {"tokenKey", "k"},
                      {"email", "a@b.io"}, {"emailVisibility", false},    {"secret", "s"}};
  auto guest = to_json(record_to_api(c, values, {}));
  EXPECT_EQ(guest,
            R"({"collectionId":"c1","collectionName":"things","emailVisibility":false,"id":"x"})");
  auto admin = to_json(record_to_api(c, values, {.show_hidden = true, .show_email = true}));
  EXPECT_EQ(admin.find("password"), std::string::npos);
  EXPECT_EQ(admin.find("tokenKey"), std::string::npos);
  EXPECT_NE(admin.find("\"email\":\"a@b.io\""), std::string::npos);
  EXPECT_NE(admin.find("\"secret\":\"s\""), std::string::npos);
}

TEST(Records, PasswordConfirmMustMatchOnAuth) {
  auto c = make_collection(R"([{"name":"id","type":"text","primaryKey":true,"system":true},
      {"name":"password","type":"password","hidden":true,"system":true,"min":8}])",
                           "auth");
  auto rec = apply_body(
      c, nullptr, parse_json(R"({"password":"12345678","passwordConfirm":"x"})")->get_object(), {});
  EXPECT_EQ(validate_record(c, rec, true).at("passwordConfirm").code, "validation_values_mismatch");
}

TEST(Json, GoCompatibleNumbersAndEscapes) {
  struct {
    const char* in;
    const char* out;
  } cases[] = {
      {"123456.0", "123456"},
      {"0.5", "0.5"},
      {"1e21", "1e+21"},
      {"1e-7", "1e-07"},
      {"-0.0", "0"},
      {"\"<a&b>\"", "\"\\u003ca\\u0026b\\u003e\""},
      {"[1,{\"b\":2,\"a\":1}]", "[1,{\"b\":2,\"a\":1}]"},
  };
  for (const auto& c : cases) EXPECT_EQ(to_json(*parse_json(c.in)), c.out) << c.in;
}

TEST(Json, ParseRejectsWhatIsNotOneWholeDocumentAndRecoversAfterwards) {
  // One parser is reused per thread: a failure must leave nothing behind for the next text.
  for (const char* bad : {"{\"a\":1} x", "{\"a\":", "[1,2", "{\"a\":1}{}", "", "nul", "[1,]"}) {
    EXPECT_FALSE(parse_json(bad)) << bad;
    auto ok = parse_json(R"({"b":[1,"two"]})");
    ASSERT_TRUE(ok) << "after " << bad;
    EXPECT_EQ(to_json(*ok), R"({"b":[1,"two"]})");
  }
  std::string deep(64, '['), too_deep(65, '[');
  deep += std::string(64, ']');
  too_deep += std::string(65, ']');
  EXPECT_TRUE(parse_json(deep));
  EXPECT_FALSE(parse_json(too_deep));
}

TEST(Json, ParseAllocatesFromTheGivenStorageSmallOrLarge) {
  json::monotonic_resource arena;
  json::storage_ptr sp(&arena);
  std::string big = "[";
  for (int i = 0; i < 20000; ++i) big += (i ? ",\"item-" : "\"item-") + std::to_string(i) + "\"";
  big += "]";
  ASSERT_GT(big.size(), 64U * 1024);  // the size that gets a parser of its own
  for (const std::string& text :
       {std::string(R"({"k":"a value longer than the small buffer"})"), big}) {
    auto v = parse_json(text, sp);
    ASSERT_TRUE(v);
    EXPECT_EQ(v->storage().get(), sp.get());
    EXPECT_EQ(to_json(*v), text);
    auto plain = parse_json(text);
    ASSERT_TRUE(plain);
    EXPECT_EQ(plain->storage().get(), json::storage_ptr().get());
  }
  EXPECT_FALSE(parse_json(big + "]", sp));
}

TEST(Json, SortedCopySortsByByte) {
  auto o = parse_json(R"({"b":1,"B":2,"a":3})")->get_object();
  EXPECT_EQ(to_json(sorted_copy(o)), R"({"B":2,"a":3,"b":1})");
}

TEST(Collections, DeterministicIdsMatchPocketBase) {
  EXPECT_EQ(default_collection_id("auth", "_superusers"), "pbc_3142635823");
  EXPECT_EQ(default_collection_id("base", "_mfas"), "pbc_2279338944");
  EXPECT_EQ(default_field_id("text", "id"), "text3208210256");
  EXPECT_EQ(default_field_id("password", "password"), "password901924565");
}

TEST(Collections, ApiJsonHidesTokenSecrets) {
  auto sys = system_collections("2024-01-01 00:00:00.000Z");
  const Collection* su = nullptr;
  for (const auto& c : sys) {
    if (c.name == "_superusers") su = &c;
  }
  ASSERT_NE(su, nullptr);
  auto api = to_json(su->to_api_json());
  EXPECT_EQ(api.find("\"secret\""), std::string::npos);
  EXPECT_NE(api.find("\"authToken\":{\"duration\":86400}"), std::string::npos);
  EXPECT_NE(su->options_db_json().find("\"secret\""), std::string::npos);
  EXPECT_EQ(api.rfind("{\"id\":\"pbc_3142635823\",\"listRule\":null", 0), 0U);
}

}  // namespace
}  // namespace plinth::core
