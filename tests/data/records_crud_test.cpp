// Records CRUD against a real server: every field type's normalisation and
// validation codes, modifiers, form bodies, unique indexes, update and delete.

#include <atomic>
#include <regex>
#include <thread>

#include "data_support.hpp"

namespace plinth::test::data {
namespace {

constexpr std::string_view kKindsCollection = R"json({
  "name": "kinds",
  "listRule": "", "viewRule": "", "createRule": "", "updateRule": "", "deleteRule": "",
  "fields": [
    {"name": "title", "type": "text", "required": true, "min": 2, "max": 10},
    {"name": "note", "type": "text"},
    {"name": "code", "type": "text", "pattern": "^[A-Z]+$"},
    {"name": "n", "type": "number", "min": 1, "max": 100},
    {"name": "whole", "type": "number", "onlyInt": true},
    {"name": "flag", "type": "bool"},
    {"name": "mail", "type": "email"},
    {"name": "corp", "type": "email", "onlyDomains": ["example.com"]},
    {"name": "site", "type": "url"},
    {"name": "body", "type": "editor"},
    {"name": "when", "type": "date"},
    {"name": "due", "type": "date", "min": "2020-01-01 00:00:00.000Z", "max": "2030-01-01 00:00:00.000Z"},
    {"name": "one", "type": "select", "values": ["a", "b", "c", "d"], "maxSelect": 1},
    {"name": "many", "type": "select", "values": ["a", "b", "c", "d"], "maxSelect": 3},
    {"name": "data", "type": "json"},
    {"name": "small", "type": "json", "maxSize": 10},
    {"name": "doc", "type": "file", "maxSelect": 1},
    {"name": "geo", "type": "geoPoint"},
    {"name": "created", "type": "autodate", "onCreate": true, "onUpdate": false},
    {"name": "updated", "type": "autodate", "onCreate": true, "onUpdate": true}
  ],
  "indexes": ["CREATE UNIQUE INDEX idx_kinds_title ON kinds (title)"]
})json";

constexpr std::string_view kStrictCollection = R"json({
  "name": "strict",
  "listRule": "", "viewRule": "", "createRule": "", "updateRule": "", "deleteRule": "",
  "fields": [
    {"name": "rt", "type": "text", "required": true},
    {"name": "rn", "type": "number", "required": true},
    {"name": "rb", "type": "bool", "required": true},
    {"name": "rd", "type": "date", "required": true},
    {"name": "rj", "type": "json", "required": true},
    {"name": "rs", "type": "select", "values": ["x", "y"], "maxSelect": 2, "required": true},
    {"name": "rsingle", "type": "select", "values": ["x", "y"], "maxSelect": 1, "required": true}
  ]
})json";

const std::regex kDateTime(R"(^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}Z$)");

class RecordsCrud : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new SeededServer();
    create_collection(api(), token(), kKindsCollection);
    create_collection(api(), token(), kStrictCollection);
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  static const Api& api() { return server_->api(); }
  static const std::string& token() { return server_->token(); }

  // A title that no other record in the suite uses (titles are unique, 2..10 chars).
  static std::string fresh_title() {
    static std::atomic<int> n{0};
    return "t" + std::to_string(++n);
  }
  // `fields` is a JSON object; a fresh title is added unless it has one.
  static json::object with_title(std::string_view fields) {
    auto v = parse(fields);
    json::object o = v.is_object() ? v.get_object() : json::object{};
    if (!o.contains("title")) o["title"] = fresh_title();
    return o;
  }
  static Reply create(std::string_view fields) {
    return api().post(records_path("kinds"), json::serialize(with_title(fields)));
  }

  static SeededServer* server_;
};
SeededServer* RecordsCrud::server_ = nullptr;

TEST_F(RecordsCrud, CreateNormalizesEveryFieldType) {
  struct Case {
    const char* name;
    const char* body;   // fields to send (a title is added when absent)
    const char* field;  // field to check
    const char* want;   // expected API value (JSON)
  } cases[] = {
      {"text kept", R"({"note":"hello"})", "note", R"("hello")"},
      {"text from integer", R"({"note":12345})", "note", R"("12345")"},
      {"text from float", R"({"note":1.5})", "note", R"("1.5")"},
      {"text from bool", R"({"note":true})", "note", R"("true")"},
      {"text from null", R"({"note":null})", "note", R"("")"},
      {"text length counts runes", R"({"title":"éééééééééé"})", "title", R"("éééééééééé")"},
      {"number from string", R"({"n":"12"})", "n", "12"},
      {"number decimal string", R"({"n":"2.5"})", "n", "2.5"},
      {"number from true", R"({"n":true})", "n", "1"},
      {"number null is zero", R"({"n":null})", "n", "0"},
      {"number empty string is zero", R"({"n":""})", "n", "0"},
      {"number zero skips min", R"({"n":0})", "n", "0"},
      {"number integral has no fraction", R"({"n":42.0})", "n", "42"},
      {"bool from 1 string", R"({"flag":"1"})", "flag", "true"},
      {"bool from true string", R"({"flag":"true"})", "flag", "true"},
      {"bool from t", R"({"flag":"t"})", "flag", "true"},
      {"bool from TRUE", R"({"flag":"TRUE"})", "flag", "true"},
      {"bool from yes is false", R"({"flag":"yes"})", "flag", "false"},
      {"bool from 0 string", R"({"flag":"0"})", "flag", "false"},
      {"bool from number", R"({"flag":1})", "flag", "true"},
      {"bool default", R"({})", "flag", "false"},
      {"email kept", R"({"mail":"a@b.co"})", "mail", R"("a@b.co")"},
      {"email only domain ok", R"({"corp":"x@example.com"})", "corp", R"("x@example.com")"},
      {"url kept", R"({"site":"https://x.io/p?q=1"})", "site", R"("https://x.io/p?q=1")"},
      {"editor kept", R"({"body":"<p>x</p>"})", "body", R"("<p>x</p>")"},
      {"date only", R"({"when":"2024-01-02"})", "when", R"("2024-01-02 00:00:00.000Z")"},
      {"date and time", R"({"when":"2024-01-02 03:04:05"})", "when",
       R"("2024-01-02 03:04:05.000Z")"},
      {"date RFC3339", R"({"when":"2024-01-02T03:04:05Z"})", "when",
       R"("2024-01-02 03:04:05.000Z")"},
      {"date millis", R"({"when":"2024-01-02T03:04:05.678Z"})", "when",
       R"("2024-01-02 03:04:05.678Z")"},
      {"date offset to UTC", R"({"when":"2024-01-02T03:04:05+02:00"})", "when",
       R"("2024-01-02 01:04:05.000Z")"},
      {"date PocketBase format", R"({"when":"2022-10-01 12:00:00.000Z"})", "when",
       R"("2022-10-01 12:00:00.000Z")"},
      {"date garbage is empty", R"({"when":"not a date"})", "when", R"("")"},
      {"date empty", R"({"when":""})", "when", R"("")"},
      {"date in range", R"({"due":"2025-06-01"})", "due", R"("2025-06-01 00:00:00.000Z")"},
      {"single select keeps last", R"({"one":["a","b"]})", "one", R"("b")"},
      {"single select string", R"({"one":"c"})", "one", R"("c")"},
      {"single select empty", R"({"one":""})", "one", R"("")"},
      {"single select default", R"({})", "one", R"("")"},
      {"multi select unique", R"({"many":["a","a","c"]})", "many", R"(["a","c"])"},
      {"multi select from string", R"({"many":"b"})", "many", R"(["b"])"},
      {"multi select drops empty", R"({"many":["","d"]})", "many", R"(["d"])"},
      {"multi select empty", R"({"many":[]})", "many", "[]"},
      {"multi select default", R"({})", "many", "[]"},
      {"json array", R"({"data":[1,2,3]})", "data", "[1,2,3]"},
      {"json nested object", R"({"data":{"a":{"b":"test"}}})", "data", R"({"a":{"b":"test"}})"},
      {"json plain string", R"({"data":"hello"})", "data", R"("hello")"},
      {"json bool", R"({"data":true})", "data", "true"},
      {"json number", R"({"data":1.5})", "data", "1.5"},
      {"json null", R"({"data":null})", "data", "null"},
      {"json default", R"({})", "data", "null"},
      {"file default", R"({})", "doc", R"("")"},
      {"file empty list", R"({"doc":[]})", "doc", R"("")"},
      {"geoPoint lon first", R"({"geo":{"lat":3,"lon":4}})", "geo", R"({"lon":4,"lat":3})"},
      {"geoPoint decimals", R"({"geo":{"lon":-74.006015,"lat":40.712728}})", "geo",
       R"({"lon":-74.006015,"lat":40.712728})"},
      {"geoPoint default", R"({})", "geo", R"({"lon":0,"lat":0})"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto r = create(c.body);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(dump(at(r.json, std::string("/") + c.field)), canon(c.want));
    auto id = str_at(r.json, "/id");
    auto view = api().get(records_path("kinds", id));
    ASSERT_EQ(view.status, 200) << view.body;
    EXPECT_EQ(dump(view.json), dump(r.json)) << "the stored record reads back as created";
  }
}

TEST_F(RecordsCrud, RecordJsonHasSortedKeysAndSystemFields) {
  auto r = create(R"({"note":"x"})");
  ASSERT_EQ(r.status, 200) << r.body;
  std::vector<std::string> want{
      "body",  "code",  "collectionId", "collectionName", "corp", "created", "data", "doc", "due",
      "flag",  "geo",   "id",           "mail",           "many", "n",       "note", "one", "site",
      "small", "title", "updated",      "when",           "whole"};
  EXPECT_EQ(keys_of(r.json), want);
  EXPECT_EQ(str_at(r.json, "/collectionName"), "kinds");
  EXPECT_TRUE(std::regex_match(str_at(r.json, "/id"), std::regex("^[a-z0-9]{15}$")));
  EXPECT_EQ(r.header("Content-Type"), "application/json");
}

TEST_F(RecordsCrud, HtmlCharactersAreEscapedAsGoDoes) {
  auto r = create(R"({"body":"<b>&amp;</b> & <i>"})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find(R"("body":"\u003cb\u003e\u0026amp;\u003c/b\u003e \u0026 \u003ci\u003e")"),
            std::string::npos)
      << r.body;
}

TEST_F(RecordsCrud, LongValuesAgainstAPatternAreCheckedWithoutHarm) {
  // Writes run on fibers, and libstdc++'s regex matcher recurses per character: the longest
  // value a text field takes (5000 by default) is matched in full, on create and on update.
  std::string ok(5000, 'A'), bad = std::string(4999, 'A') + "a";
  auto created = create(R"({"code":")" + ok + R"("})");
  ASSERT_EQ(created.status, 200) << created.body.substr(0, 200);
  EXPECT_EQ(str_at(created.json, "/code").size(), 5000U);
  auto refused = create(R"({"code":")" + bad + R"("})");
  EXPECT_EQ(refused.status, 400);
  EXPECT_EQ(str_at(refused.json, "/data/code/code"), "validation_invalid_format");
  auto id = str_at(created.json, "/id");
  auto updated = api().patch(records_path("kinds", id), R"({"code":")" + bad + R"("})");
  EXPECT_EQ(updated.status, 400);
  auto again = api().patch(records_path("kinds", id), R"({"code":")" + ok.substr(1) + R"("})");
  ASSERT_EQ(again.status, 200) << again.body.substr(0, 200);
  EXPECT_EQ(str_at(again.json, "/code").size(), 4999U);
  EXPECT_EQ(api().get("/api/health").status, 200) << "the server is still up";
}

TEST_F(RecordsCrud, PatternsHoldForValuesOfAnyLength) {
  // A text field may allow long values (here up to 2 MB) and still have a pattern; matching is
  // linear in the value and needs no stack in proportion to it.
  create_collection(api(), token(), R"json({
    "name": "longtexts", "createRule": "", "viewRule": "",
    "fields": [{"name": "words", "type": "text", "max": 2000000, "pattern": "^([a-z]+ )*[a-z]+$"},
               {"name": "alt", "type": "text", "max": 2000000, "pattern": "(a|b)*c"}]
  })json");
  std::string words;
  while (words.size() < 1'500'000) words += "lorem ipsum dolor ";
  words += "end";
  auto created = api().post(records_path("longtexts"), R"({"words":")" + words + R"("})");
  ASSERT_EQ(created.status, 200) << created.body.substr(0, 200);
  EXPECT_EQ(str_at(created.json, "/words").size(), words.size());

  auto refused = api().post(records_path("longtexts"), R"({"words":")" + words + R"(!"})");
  EXPECT_EQ(refused.status, 400);
  EXPECT_EQ(str_at(refused.json, "/data/words/code"), "validation_invalid_format");

  // Unanchored: the match may start anywhere, and a value without one is refused.
  std::string ab(1'000'000, 'a');
  for (std::size_t i = 1; i < ab.size(); i += 2) ab[i] = 'b';
  EXPECT_EQ(api().post(records_path("longtexts"), R"({"alt":")" + ab + R"(c"})").status, 200);
  auto no_c = api().post(records_path("longtexts"), R"({"alt":")" + ab + R"("})");
  EXPECT_EQ(no_c.status, 400);
  EXPECT_EQ(str_at(no_c.json, "/data/alt/code"), "validation_invalid_format");
  EXPECT_EQ(api().get("/api/health").status, 200) << "the server is still up";
}

TEST_F(RecordsCrud, JsonBodiesEndWithNewline) {
  // Go's json.Encoder terminates every body with "\n" (reference section 0).
  auto created = create(R"({})");
  auto list = api().get(records_path("kinds") + "?perPage=1");
  auto missing = api().get(records_path("kinds", "nope"));
  for (const auto* r : {&created, &list, &missing}) {
    ASSERT_FALSE(r->body.empty());
    EXPECT_EQ(r->body.back(), '\n') << r->body;
  }
}

TEST_F(RecordsCrud, JsonFieldFollowsPocketBase) {
  // Body objects are re-serialised with sorted keys; JSON-looking strings are stored raw.
  struct Case {
    const char* name;
    const char* body;
    const char* want;
  } cases[] = {
      {"object keys re-sorted", R"({"data":{"b":1,"a":[1,2]}})", R"({"a":[1,2],"b":1})"},
      {"array-looking string", R"({"data":"[1,2]"})", "[1,2]"},
      {"number-looking string", R"({"data":"123"})", "123"},
      {"object-looking string", R"({"data":"{\"x\":1}"})", R"({"x":1})"},
      {"null string", R"({"data":"null"})", "null"},
      {"plain string quoted", R"({"data":"hello world"})", R"("hello world")"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto r = create(c.body);
    ASSERT_EQ(r.status, 200) << r.body;
    auto raw = r.body;
    auto pos = raw.find("\"data\":");
    ASSERT_NE(pos, std::string::npos);
    // Compare the raw text so key order counts.
    EXPECT_EQ(raw.substr(pos + 7, std::string_view(c.want).size()), c.want) << raw;
  }
}

TEST_F(RecordsCrud, ValidationErrorsUsePocketBaseCodes) {
  struct Case {
    const char* name;
    const char* body;
    const char* data;  // expected "data" of the 400 envelope
  } cases[] = {
      {"title missing", R"({"title":""})",
       R"({"title":{"code":"validation_required","message":"Cannot be blank."}})"},
      {"title too short", R"({"title":"x"})",
       R"({"title":{"code":"validation_min_text_constraint","message":"Must be at least 2 character(s).","params":{"min":2}}})"},
      {"title too long", R"({"title":"abcdefghijk"})",
       R"({"title":{"code":"validation_max_text_constraint","message":"Must be no more than 10 character(s).","params":{"max":10}}})"},
      {"title too many runes", R"({"title":"ééééééééééé"})",
       R"({"title":{"code":"validation_max_text_constraint","message":"Must be no more than 10 character(s).","params":{"max":10}}})"},
      {"text pattern", R"({"code":"abc"})",
       R"({"code":{"code":"validation_invalid_format","message":"Invalid value format."}})"},
      {"number above max", R"({"n":1000})",
       R"({"n":{"code":"validation_max_number_constraint","message":"Must be less or equal than 100.","params":{"max":100}}})"},
      {"number below min", R"({"n":0.5})",
       R"({"n":{"code":"validation_min_number_constraint","message":"Must be greater or equal than 1.","params":{"min":1}}})"},
      {"number only int", R"({"whole":1.5})",
       R"({"whole":{"code":"validation_only_int_constraint","message":"Decimal numbers are not allowed."}})"},
      {"email format", R"({"mail":"bad"})",
       R"({"mail":{"code":"validation_is_email","message":"Must be a valid email address."}})"},
      {"email domain", R"({"corp":"a@other.com"})",
       R"({"corp":{"code":"validation_email_domain_not_allowed","message":"Email domain is not allowed."}})"},
      {"url format", R"({"site":"nope"})",
       R"({"site":{"code":"validation_invalid_url","message":"Must be a valid url."}})"},
      {"select unknown value", R"({"one":"z"})",
       R"({"one":{"code":"validation_invalid_value","message":"Invalid value z.","params":{"value":"z"}}})"},
      {"multi select unknown value", R"({"many":["a","zz"]})",
       R"({"many":{"code":"validation_invalid_value","message":"Invalid value zz.","params":{"value":"zz"}}})"},
      {"multi select too many", R"({"many":["a","b","c","d"]})",
       R"({"many":{"code":"validation_too_many_values","message":"Select no more than 3.","params":{"maxSelect":3}}})"},
      {"json too large", R"({"small":[1,2,3,4,5,6,7,8]})",
       R"({"small":{"code":"validation_json_size_limit","message":"The maximum allowed JSON size is 10 bytes.","params":{"maxSize":10}}})"},
      {"latitude", R"({"geo":{"lon":0,"lat":100}})",
       R"({"geo":{"code":"validation_invalid_latitude","message":"Latitude must be between -90 and 90 degrees."}})"},
      {"longitude", R"({"geo":{"lon":200,"lat":1}})",
       R"({"geo":{"code":"validation_invalid_longitude","message":"Longitude must be between -180 and 180 degrees."}})"},
      {"several fields at once", R"({"title":"x","mail":"bad"})",
       R"({"mail":{"code":"validation_is_email","message":"Must be a valid email address."},"title":{"code":"validation_min_text_constraint","message":"Must be at least 2 character(s).","params":{"min":2}}})"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto r = create(c.body);
    ASSERT_EQ(r.status, 400) << r.body;
    EXPECT_EQ(r.text(), std::string(R"({"data":)") + c.data +
                            R"(,"message":"Failed to create record.","status":400})");
  }
}

TEST_F(RecordsCrud, DateBoundsUsePocketBaseThresholds) {
  // ozzo's Min/Max on a time.Time: the threshold is printed the Go way and
  // returned in params (RFC 3339).
  struct Case {
    const char* name;
    const char* body;
    const char* data;
  } cases[] = {
      {"before min", R"({"due":"2019-05-05"})",
       R"({"due":{"code":"validation_min_greater_equal_than_required","message":"Must be no less than 2020-01-01 00:00:00 +0000 UTC.","params":{"threshold":"2020-01-01T00:00:00Z"}}})"},
      {"after max", R"({"due":"2031-05-05"})",
       R"({"due":{"code":"validation_max_less_equal_than_required","message":"Must be no greater than 2030-01-01 00:00:00 +0000 UTC.","params":{"threshold":"2030-01-01T00:00:00Z"}}})"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto r = create(c.body);
    ASSERT_EQ(r.status, 400) << r.body;
    EXPECT_EQ(dump(at(r.json, "/data")), canon(c.data));
  }
}

TEST_F(RecordsCrud, RequiredMeansNonZeroForEveryType) {
  struct Case {
    const char* name;
    const char* body;
    const char* data;
  } cases[] = {
      {"empty body", R"({})",
       R"({"rb":{"code":"validation_required","message":"Cannot be blank."},"rd":{"code":"validation_required","message":"Cannot be blank."},"rj":{"code":"validation_required","message":"Cannot be blank."},"rn":{"code":"validation_required","message":"Cannot be blank."},"rs":{"code":"validation_required","message":"Cannot be blank."},"rsingle":{"code":"validation_required","message":"Cannot be blank."},"rt":{"code":"validation_required","message":"Cannot be blank."}})"},
      {"zero-like values",
       R"({"rt":"","rn":0,"rb":false,"rd":"garbage","rj":{},"rs":[],"rsingle":""})",
       R"({"rb":{"code":"validation_required","message":"Cannot be blank."},"rd":{"code":"validation_required","message":"Cannot be blank."},"rj":{"code":"validation_required","message":"Cannot be blank."},"rn":{"code":"validation_required","message":"Cannot be blank."},"rs":{"code":"validation_required","message":"Cannot be blank."},"rsingle":{"code":"validation_required","message":"Cannot be blank."},"rt":{"code":"validation_required","message":"Cannot be blank."}})"},
      {"empty json array",
       R"({"rt":"a","rn":1,"rb":true,"rd":"2024-01-01","rj":[],"rs":["x"],"rsingle":"y"})",
       R"({"rj":{"code":"validation_required","message":"Cannot be blank."}})"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto r = api().post(records_path("strict"), c.body);
    ASSERT_EQ(r.status, 400) << r.body;
    EXPECT_EQ(r.text(), std::string(R"({"data":)") + c.data +
                            R"(,"message":"Failed to create record.","status":400})");
  }
  auto ok = api().post(
      records_path("strict"),
      R"({"rt":"a","rn":-1,"rb":true,"rd":"2024-01-01","rj":[0],"rs":["x","y"],"rsingle":"y"})");
  EXPECT_EQ(ok.status, 200) << ok.body;
}

TEST_F(RecordsCrud, NonNumericStringIsAFieldError) {
  // PocketBase silently stores 0 for "abc"; Plinth reports the field instead
  // (a deliberate difference, docs/compatibility.md). Numeric strings still cast.
  auto r = create(R"({"n":"abc"})");
  ASSERT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(str_at(r.json, "/data/n/code"), "validation_not_a_number");
  auto ok = create(R"({"n":"12.5"})");
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_DOUBLE_EQ(at(ok.json, "/n").to_number<double>(), 12.5);
}

TEST_F(RecordsCrud, UnknownAndReadOnlyKeysAreIgnored) {
  auto r = create(
      R"({"nope":1,"collectionId":"x","collectionName":"y","expand":{"a":1},"created":"2000-01-01 00:00:00.000Z","updated":"2000-01-01 00:00:00.000Z","title+":"z"})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_FALSE(has_key(r.json, "nope"));
  EXPECT_FALSE(has_key(r.json, "expand"));
  EXPECT_EQ(str_at(r.json, "/collectionName"), "kinds");
  EXPECT_NE(str_at(r.json, "/collectionId"), "x");
  EXPECT_NE(str_at(r.json, "/created"), "2000-01-01 00:00:00.000Z");
  EXPECT_NE(str_at(r.json, "/updated"), "2000-01-01 00:00:00.000Z");
}

TEST_F(RecordsCrud, AutodatesAreSetByTheServer) {
  auto r = create(R"({"note":"a"})");
  ASSERT_EQ(r.status, 200) << r.body;
  auto created = str_at(r.json, "/created");
  EXPECT_TRUE(std::regex_match(created, kDateTime)) << created;
  EXPECT_EQ(str_at(r.json, "/updated"), created);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  auto id = str_at(r.json, "/id");
  auto u = api().patch(records_path("kinds", id), R"({"note":"b","created":"2001-01-01"})");
  ASSERT_EQ(u.status, 200) << u.body;
  EXPECT_EQ(str_at(u.json, "/created"), created) << "onUpdate=false keeps created";
  EXPECT_GT(str_at(u.json, "/updated"), created) << "onUpdate=true moves updated";
  EXPECT_TRUE(std::regex_match(str_at(u.json, "/updated"), kDateTime));
  auto v = api().get(records_path("kinds", id));
  EXPECT_EQ(dump(v.json), dump(u.json));
}

TEST_F(RecordsCrud, ModifiersApplyShortestKeyFirst) {
  struct Case {
    const char* name;
    const char* patch;
    const char* field;
    const char* want;
  } cases[] = {
      {"number add", R"({"n+":5})", "n", "15"},
      {"number subtract", R"({"n-":3})", "n", "7"},
      {"number add string", R"({"n+":"2"})", "n", "12"},
      {"set then add then subtract", R"({"n-":2,"n+":5,"n":1})", "n", "4"},
      {"multi append", R"({"many+":"b"})", "many", R"(["a","b"])"},
      {"multi append existing is unique", R"({"many+":["a","c"]})", "many", R"(["a","c"])"},
      {"multi prepend", R"({"+many":"c"})", "many", R"(["c","a"])"},
      {"multi remove", R"({"many-":["a"]})", "many", "[]"},
      {"multi append and remove", R"({"many+":["b","c"],"many-":"a"})", "many", R"(["b","c"])"},
      {"multi replace then append", R"({"many":["d"],"many+":"b"})", "many", R"(["d","b"])"},
      {"single append replaces", R"({"one+":"b"})", "one", R"("b")"},
      {"single remove", R"({"one-":"a"})", "one", R"("")"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto base = create(R"({"n":10,"many":["a"],"one":"a"})");
    ASSERT_EQ(base.status, 200) << base.body;
    auto r = api().patch(records_path("kinds", str_at(base.json, "/id")), c.patch);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(dump(at(r.json, std::string("/") + c.field)), canon(c.want));
  }
  auto on_create = create(R"({"n+":4,"many+":["b"]})");
  ASSERT_EQ(on_create.status, 200) << on_create.body;
  EXPECT_EQ(dump(at(on_create.json, "/n")), "4");
  EXPECT_EQ(dump(at(on_create.json, "/many")), R"(["b"])");
}

TEST_F(RecordsCrud, UpdateChangesOnlyGivenFields) {
  auto base = create(R"({"note":"keep","n":5,"flag":false,"many":["a","b"]})");
  ASSERT_EQ(base.status, 200);
  auto id = str_at(base.json, "/id");
  auto r = api().patch(records_path("kinds", id), R"({"flag":true})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(str_at(r.json, "/note"), "keep");
  EXPECT_EQ(dump(at(r.json, "/n")), "5");
  EXPECT_EQ(dump(at(r.json, "/flag")), "true");
  EXPECT_EQ(dump(at(r.json, "/many")), R"(["a","b"])");
  EXPECT_EQ(str_at(r.json, "/title"), str_at(base.json, "/title"));

  auto empty = api().patch(records_path("kinds", id), "");
  ASSERT_EQ(empty.status, 200) << empty.body;
  EXPECT_EQ(str_at(empty.json, "/note"), "keep");

  auto bad = api().patch(records_path("kinds", id), R"({"n":1000})");
  ASSERT_EQ(bad.status, 400) << bad.body;
  EXPECT_EQ(
      bad.text(),
      R"({"data":{"n":{"code":"validation_max_number_constraint","message":"Must be less or equal than 100.","params":{"max":100}}},"message":"Failed to update record.","status":400})");
  EXPECT_EQ(dump(at(api().get(records_path("kinds", id)).json, "/n")), "5")
      << "a refused update changes nothing";
}

TEST_F(RecordsCrud, UpdateCannotChangeThePrimaryKey) {
  auto base = create(R"({})");
  ASSERT_EQ(base.status, 200);
  auto id = str_at(base.json, "/id");
  auto r = api().patch(records_path("kinds", id), R"({"id":"otherid12345678"})");
  ASSERT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(
      r.text(),
      R"({"data":{"id":{"code":"validation_pk_change","message":"The record primary key cannot be changed."}},"message":"Failed to update record.","status":400})");
  EXPECT_EQ(api().get(records_path("kinds", id)).status, 200);
  EXPECT_EQ(api().get(records_path("kinds", "otherid12345678")).status, 404);
}

TEST_F(RecordsCrud, ExplicitIdsAreValidatedAsText) {
  struct Case {
    const char* name;
    const char* id;
    int status;
    const char* code;  // for 400
  } cases[] = {
      {"valid custom id", "customid0000001", 200, ""},
      {"duplicate id", "customid0000001", 400, "validation_not_unique"},
      {"too short", "short", 400, "validation_min_text_constraint"},
      {"too long", "waytoolongid000000", 400, "validation_max_text_constraint"},
      {"uppercase breaks pattern", "UPPERCASEID0001", 400, "validation_invalid_format"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    json::object body = with_title("{}");
    body["id"] = c.id;
    auto r = api().post(records_path("kinds"), json::serialize(body));
    ASSERT_EQ(r.status, c.status) << r.body;
    if (c.status == 200) {
      EXPECT_EQ(str_at(r.json, "/id"), c.id);
    } else {
      EXPECT_EQ(str_at(r.json, "/data/id/code"), c.code) << r.body;
      EXPECT_EQ(str_at(r.json, "/message"), "Failed to create record.");
    }
  }
}

TEST_F(RecordsCrud, UniqueIndexViolationIsNotUnique) {
  auto first = create(R"({"title":"dupe"})");
  ASSERT_EQ(first.status, 200) << first.body;
  auto second = create(R"({"title":"dupe"})");
  ASSERT_EQ(second.status, 400);
  EXPECT_EQ(
      second.text(),
      R"({"data":{"title":{"code":"validation_not_unique","message":"Value must be unique."}},"message":"Failed to create record.","status":400})");

  auto other = create(R"({})");
  ASSERT_EQ(other.status, 200);
  auto upd = api().patch(records_path("kinds", str_at(other.json, "/id")), R"({"title":"dupe"})");
  ASSERT_EQ(upd.status, 400);
  EXPECT_EQ(
      upd.text(),
      R"({"data":{"title":{"code":"validation_not_unique","message":"Value must be unique."}},"message":"Failed to update record.","status":400})");
}

TEST_F(RecordsCrud, FormUrlencodedBodies) {
  auto title = fresh_title();
  auto r = api().send("POST", records_path("kinds"),
                      "title=" + title +
                          "&note=a%20b%26c&n=12&flag=true&many=a&many=c&one=b&when=2024-01-02"
                          "&ignored=1",
                      {}, kForm);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(str_at(r.json, "/title"), title);
  EXPECT_EQ(str_at(r.json, "/note"), "a b&c");
  EXPECT_EQ(dump(at(r.json, "/n")), "12");
  EXPECT_EQ(dump(at(r.json, "/flag")), "true");
  EXPECT_EQ(dump(at(r.json, "/many")), R"(["a","c"])");
  EXPECT_EQ(str_at(r.json, "/one"), "b");
  EXPECT_EQ(str_at(r.json, "/when"), "2024-01-02 00:00:00.000Z");

  auto id = str_at(r.json, "/id");
  auto u = api().send("PATCH", records_path("kinds", id), "n%2B=3&many-=a", {}, kForm);
  ASSERT_EQ(u.status, 200) << u.body;
  EXPECT_EQ(dump(at(u.json, "/n")), "15");
  EXPECT_EQ(dump(at(u.json, "/many")), R"(["c"])");

  auto bad = api().send("POST", records_path("kinds"), "title=x", {}, kForm);
  ASSERT_EQ(bad.status, 400);
  EXPECT_EQ(str_at(bad.json, "/data/title/code"), "validation_min_text_constraint");
}

TEST_F(RecordsCrud, DeleteReturns204AndRemovesTheRecord) {
  auto base = create(R"({})");
  ASSERT_EQ(base.status, 200);
  auto id = str_at(base.json, "/id");
  auto d = api().del(records_path("kinds", id));
  EXPECT_EQ(d.status, 204);
  EXPECT_EQ(d.body, "");
  EXPECT_EQ(d.header("Content-Type"), "");
  EXPECT_EQ(api().get(records_path("kinds", id)).status, 404);
  EXPECT_EQ(api().del(records_path("kinds", id)).status, 404);
}

TEST_F(RecordsCrud, MissingRecordsAndCollections) {
  struct Case {
    const char* name;
    const char* method;
    std::string target;
    const char* body;
    std::string want;
  } cases[] = {
      {"view missing record", "GET", records_path("kinds", "nope00000000000"), "", kNotFound},
      {"update missing record", "PATCH", records_path("kinds", "nope00000000000"), "{}", kNotFound},
      {"delete missing record", "DELETE", records_path("kinds", "nope00000000000"), "", kNotFound},
      {"list unknown collection", "GET", records_path("nope"), "", kMissingCollection},
      {"create in unknown collection", "POST", records_path("nope"), "{}", kMissingCollection},
      {"view in unknown collection", "GET", records_path("nope", "x"), "", kMissingCollection},
      {"update in unknown collection", "PATCH", records_path("nope", "x"), "{}",
       kMissingCollection},
      {"delete in unknown collection", "DELETE", records_path("nope", "x"), "", kMissingCollection},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto r = api().send(c.method, c.target, c.body);
    EXPECT_EQ(r.text(), c.want);
  }
}

TEST_F(RecordsCrud, CollectionMatchedByIdOrNameIgnoringCase) {
  auto coll = api().get("/api/collections/kinds", token());
  ASSERT_EQ(coll.status, 200);
  auto cid = str_at(coll.json, "/id");
  auto rec = create(R"({})");
  ASSERT_EQ(rec.status, 200);
  auto id = str_at(rec.json, "/id");
  for (const std::string& c :
       {std::string("kinds"), std::string("KINDS"), std::string("Kinds"), cid}) {
    SCOPED_TRACE(c);
    auto r = api().get(records_path(c, id));
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(str_at(r.json, "/collectionName"), "kinds");
    EXPECT_EQ(str_at(r.json, "/collectionId"), cid);
  }
}

TEST_F(RecordsCrud, MultipartFormBodies) {
  auto part = [](std::string_view name, std::string_view value) {
    return "--xx\r\nContent-Disposition: form-data; name=\"" + std::string(name) + "\"\r\n\r\n" +
           std::string(value) + "\r\n";
  };
  auto title = fresh_title();
  std::string body = part("title", title) + part("n", "12") + part("flag", "true") +
                     part("many", "a") + part("many", "c") + part("ignored", "1") + "--xx--\r\n";
  auto r = api().send("POST", records_path("kinds"), body, {}, "multipart/form-data; boundary=xx");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(str_at(r.json, "/title"), title);
  EXPECT_EQ(dump(at(r.json, "/n")), "12");
  EXPECT_EQ(dump(at(r.json, "/flag")), "true");
  EXPECT_EQ(dump(at(r.json, "/many")), R"(["a","c"])");
}

TEST_F(RecordsCrud, MalformedBodiesAreRejected) {
  struct Case {
    const char* name;
    const char* method;
    std::string target;
    std::string body;
    std::string_view content_type;
  } cases[] = {
      {"malformed json", "POST", records_path("kinds"), "{bad", kJson},
      {"json array body", "POST", records_path("kinds"), "[1,2]", kJson},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto r = api().send(c.method, c.target, c.body, {}, c.content_type);
    EXPECT_EQ(r.status, 400) << r.body;
    EXPECT_EQ(dump(at(r.json, "/data")), "{}") << r.body;
    EXPECT_EQ(int_at(r.json, "/status"), 400);
  }
}

}  // namespace
}  // namespace plinth::test::data
