// Collections API: list, view, create (validation, the id field, indexes that
// become real SQLite indexes) and delete.

#include <regex>

#include "data_support.hpp"

namespace plinth::test::data {
namespace {

const std::vector<std::string> kBaseKeys{
    "id",   "listRule", "viewRule", "createRule", "updateRule", "deleteRule", "name",
    "type", "fields",   "indexes",  "created",    "updated",    "system"};
const std::vector<std::string> kAuthTail{"authRule",
                                         "manageRule",
                                         "authAlert",
                                         "oauth2",
                                         "passwordAuth",
                                         "mfa",
                                         "otp",
                                         "authToken",
                                         "passwordResetToken",
                                         "emailChangeToken",
                                         "verificationToken",
                                         "fileToken",
                                         "verificationTemplate",
                                         "resetPasswordTemplate",
                                         "confirmEmailChangeTemplate"};
const char* const kIdField =
    R"({"autogeneratePattern":"[a-z0-9]{15}","hidden":false,"id":"text3208210256","max":15,"min":15,"name":"id","pattern":"^[a-z0-9]+$","presentable":false,"primaryKey":true,"required":true,"system":true,"type":"text"})";

class Collections : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = new SeededServer(); }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  static const Api& api() { return server_->api(); }
  static const std::string& su() { return server_->token(); }
  static Reply create(std::string_view body) { return api().post("/api/collections", body, su()); }
  static json::value find(const json::value& list, std::string_view name) {
    for (const auto& c : at(list, "/items").as_array()) {
      if (str_at(c, "/name") == name) return c;
    }
    return nullptr;
  }

  static SeededServer* server_;
};
SeededServer* Collections::server_ = nullptr;

TEST_F(Collections, ListShowsTheSystemCollections) {
  auto r = api().get("/api/collections", su());
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(keys_of(r.json),
            (std::vector<std::string>{"items", "page", "perPage", "totalItems", "totalPages"}));
  EXPECT_EQ(int_at(r.json, "/totalItems"),
            static_cast<std::int64_t>(at(r.json, "/items").as_array().size()));
  struct Want {
    const char* name;
    const char* id;
    const char* type;
    bool system;
  } wants[] = {
      {"_superusers", "pbc_3142635823", "auth", true},
      {"users", "_pb_users_auth_", "auth", false},
      {"_mfas", "pbc_2279338944", "base", true},
      {"_otps", "pbc_1638494021", "base", true},
      {"_externalAuths", "pbc_2281828961", "base", true},
      {"_authOrigins", "pbc_4275539003", "base", true},
  };
  for (const auto& w : wants) {
    SCOPED_TRACE(w.name);
    auto c = find(r.json, w.name);
    ASSERT_FALSE(c.is_null());
    EXPECT_EQ(str_at(c, "/id"), w.id);
    EXPECT_EQ(str_at(c, "/type"), w.type);
    EXPECT_EQ(dump(at(c, "/system")), w.system ? "true" : "false");
    auto keys = keys_of(c);
    std::vector<std::string> want = kBaseKeys;
    if (std::string(w.type) == "auth") want.insert(want.end(), kAuthTail.begin(), kAuthTail.end());
    EXPECT_EQ(keys, want);
    EXPECT_EQ(str_at(at(c, "/fields").as_array().at(0), "/name"), "id");
  }
  auto users = find(r.json, "users");
  EXPECT_TRUE(at(users, "/listRule").is_string());
  EXPECT_EQ(str_at(users, "/createRule"), "");
  auto supers = find(r.json, "_superusers");
  for (const char* rule : {"/listRule", "/viewRule", "/createRule", "/updateRule", "/deleteRule"})
    EXPECT_TRUE(at(supers, rule).is_null()) << rule;
}

TEST_F(Collections, AuthCollectionsHideTheirSecrets) {
  auto r = api().get("/api/collections/_superusers", su());
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body.find("secret"), std::string::npos) << "token secrets never leave the server";
  EXPECT_FALSE(has_key(r.json, "options"));
  for (const char* t : {"/authToken", "/passwordResetToken", "/emailChangeToken",
                        "/verificationToken", "/fileToken"}) {
    EXPECT_EQ(keys_of(at(r.json, t)), std::vector<std::string>{"duration"}) << t;
  }
  EXPECT_EQ(int_at(r.json, "/authToken/duration"), 86400);
  EXPECT_EQ(dump(at(r.json, "/oauth2/providers")), "[]");
  EXPECT_EQ(dump(at(r.json, "/passwordAuth")), R"({"enabled":true,"identityFields":["email"]})");
}

TEST_F(Collections, ViewByIdOrName) {
  struct Case {
    const char* key;
    int status;
  } cases[] = {
      {"users", 200},       {"USERS", 200}, {"_pb_users_auth_", 200}, {"pbc_3142635823", 200},
      {"_SuperUsers", 200}, {"nope", 404},  {"_PB_USERS_AUTH_", 404},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.key);
    auto r = api().get(std::string("/api/collections/") + c.key, su());
    ASSERT_EQ(r.status, c.status) << r.body;
    if (c.status == 404) {
      EXPECT_EQ(r.text(), kNotFound);
    }
  }
}

TEST_F(Collections, CreateReturnsThePocketBaseShape) {
  auto r = create(R"({"name":"things","fields":[{"name":"title","type":"text"}]})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(keys_of(r.json), kBaseKeys);
  EXPECT_EQ(str_at(r.json, "/id"), "pbc_1492593907") << "pbc_ + crc32(type + name)";
  EXPECT_EQ(str_at(r.json, "/name"), "things");
  EXPECT_EQ(str_at(r.json, "/type"), "base");
  EXPECT_EQ(dump(at(r.json, "/system")), "false");
  for (const char* rule : {"/listRule", "/viewRule", "/createRule", "/updateRule", "/deleteRule"})
    EXPECT_TRUE(at(r.json, rule).is_null()) << rule;
  EXPECT_EQ(dump(at(r.json, "/indexes")), "[]");
  std::regex dt(R"(^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}Z$)");
  EXPECT_TRUE(std::regex_match(str_at(r.json, "/created"), dt));
  EXPECT_EQ(str_at(r.json, "/created"), str_at(r.json, "/updated"));

  const auto& fields = at(r.json, "/fields").as_array();
  ASSERT_EQ(fields.size(), 2u) << "an id field is added; created/updated are not";
  auto id = fields.at(0);
  for (const char* k : {"/name", "/type", "/id", "/pattern", "/autogeneratePattern"})
    EXPECT_EQ(str_at(id, k), str_at(parse(kIdField), k)) << k;
  for (const char* k : {"/primaryKey", "/required", "/system", "/hidden", "/min", "/max"})
    EXPECT_EQ(dump(at(id, k)), dump(at(parse(kIdField), k))) << k;
  EXPECT_EQ(str_at(fields.at(1), "/id"), "text724990059") << "type + crc32(name)";
  EXPECT_EQ(str_at(fields.at(1), "/name"), "title");

  auto v = api().get("/api/collections/things", su());
  EXPECT_EQ(dump(v.json), dump(r.json)) << "reads back as created";
  auto rec = api().post(records_path("things"), R"({"title":"hello"})", su());
  ASSERT_EQ(rec.status, 200) << rec.body;
  EXPECT_TRUE(std::regex_match(str_at(rec.json, "/id"), std::regex("^[a-z0-9]{15}$")));
  EXPECT_EQ(api().post(records_path("things"), R"({"title":"x"})").status, 403)
      << "null createRule: superusers only";
}

TEST_F(Collections, CreatedFieldsCarryEveryOption) {
  // PocketBase marshals each field struct in full: every option key with its zero value.
  auto r = create(R"({"name":"optionful","fields":[{"name":"title","type":"text"},
      {"name":"n","type":"number"},{"name":"flag","type":"bool"}]})");
  ASSERT_EQ(r.status, 200) << r.body;
  const auto& f = at(r.json, "/fields").as_array();
  ASSERT_EQ(f.size(), 4u);
  EXPECT_EQ(
      dump(f.at(0)),
      canon(
          R"({"autogeneratePattern":"[a-z0-9]{15}","help":"","hidden":false,"id":"text3208210256","max":15,"min":15,"name":"id","pattern":"^[a-z0-9]+$","presentable":false,"primaryKey":true,"required":true,"system":true,"type":"text"})"));
  EXPECT_EQ(
      dump(f.at(1)),
      canon(
          R"({"autogeneratePattern":"","help":"","hidden":false,"id":"text724990059","max":0,"min":0,"name":"title","pattern":"","presentable":false,"primaryKey":false,"required":false,"system":false,"type":"text"})"));
  EXPECT_EQ(
      dump(f.at(2)),
      canon(
          R"({"help":"","hidden":false,"id":"number2013832146","max":null,"min":null,"name":"n","onlyInt":false,"presentable":false,"required":false,"system":false,"type":"number"})"));
  EXPECT_EQ(
      dump(f.at(3)),
      canon(
          R"({"help":"","hidden":false,"id":"bool3522489242","name":"flag","presentable":false,"required":false,"system":false,"type":"bool"})"));
}

TEST_F(Collections, AGivenIdFieldBecomesThePrimaryKey) {
  auto r = create(
      R"({"name":"ownid","fields":[{"name":"title","type":"text"},{"name":"id","type":"text","pattern":"","max":20,"min":3}]})");
  ASSERT_EQ(r.status, 200) << r.body;
  int ids = 0;
  for (const auto& f : at(r.json, "/fields").as_array()) {
    if (str_at(f, "/name") != "id") continue;
    ++ids;
    EXPECT_EQ(dump(at(f, "/primaryKey")), "true");
    EXPECT_EQ(dump(at(f, "/required")), "true");
    EXPECT_EQ(dump(at(f, "/system")), "true");
    EXPECT_EQ(str_at(f, "/pattern"), "^[a-z0-9]+$") << "an empty pattern gets the default";
  }
  EXPECT_EQ(ids, 1);
  auto rec = api().post(records_path("ownid"), R"({"id":"abc","title":"t"})", su());
  ASSERT_EQ(rec.status, 200) << rec.body;
  EXPECT_EQ(str_at(rec.json, "/id"), "abc");
}

TEST_F(Collections, NameValidation) {
  struct Case {
    const char* name;
    std::string body;
    const char* leaf;  // expected data.name
  } cases[] = {
      {"missing", R"({"type":"base"})",
       R"({"code":"validation_required","message":"Cannot be blank."})"},
      {"empty", R"({"name":""})", R"({"code":"validation_required","message":"Cannot be blank."})"},
      {"spaces", R"({"name":"bad name"})",
       R"({"code":"validation_match_invalid","message":"Must be in a valid format."})"},
      {"dash", R"({"name":"bad-name"})",
       R"({"code":"validation_match_invalid","message":"Must be in a valid format."})"},
      {"via", R"({"name":"a_via_b"})",
       R"({"code":"validation_found_via","message":"The value cannot contain \"_via_\"."})"},
      {"taken", R"({"name":"users"})",
       R"({"code":"validation_collection_name_exists","message":"Collection name must be unique (case insensitive)."})"},
      {"taken in another case", R"({"name":"USERS"})",
       R"({"code":"validation_collection_name_exists","message":"Collection name must be unique (case insensitive)."})"},
      {"internal table _params", R"({"name":"_params"})",
       R"({"code":"validation_collection_name_invalid","message":"The name shouldn't match with an existing internal table."})"},
      {"internal table _collections", R"({"name":"_collections"})",
       R"({"code":"validation_collection_name_invalid","message":"The name shouldn't match with an existing internal table."})"},
      {"an existing collection id", R"({"name":"_pb_users_auth_"})",
       R"({"code":"validation_collection_name_id_duplicate","message":"The name must not match an existing collection id."})"},
      {"too long", R"({"name":")" + std::string(256, 'a') + R"("})",
       R"({"code":"validation_length_out_of_range","message":"The length must be between 1 and 255.","params":{"max":255,"min":1}})"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto r = create(c.body);
    ASSERT_EQ(r.status, 400) << r.body;
    EXPECT_EQ(str_at(r.json, "/message"), "Failed to create collection.");
    EXPECT_EQ(dump(at(r.json, "/data/name")), canon(c.leaf)) << r.body;
  }
}

TEST_F(Collections, FieldValidationIsKeyedByIndex) {
  struct Case {
    const char* name;
    const char* fields;
    const char* pointer;
    const char* code;
  } cases[] = {
      {"bad field name", R"([{"name":"bad name","type":"text"}])", "/data/fields/0/name/code",
       "validation_match_invalid"},
      {"empty field name", R"([{"name":"ok","type":"text"},{"name":"","type":"text"}])",
       "/data/fields/1/name/code", "validation_required"},
      {"duplicate ignoring case",
       R"([{"name":"title","type":"text"},{"name":"Title","type":"text"}])",
       "/data/fields/1/name/code", "validation_duplicated_field_name"},
      {"reserved expand", R"([{"name":"expand","type":"text"}])", "/data/fields/0/name/code",
       "validation_not_in_invalid"},
      {"reserved collectionName",
       R"([{"name":"x","type":"text"},{"name":"collectionName","type":"text"}])",
       "/data/fields/1/name/code", "validation_not_in_invalid"},
      {"reserved null", R"([{"name":"null","type":"bool"}])", "/data/fields/0/name/code",
       "validation_not_in_invalid"},
      {"via in field name", R"([{"name":"a_via_b","type":"text"}])", "/data/fields/0/name/code",
       "validation_found_via"},
      {"pattern that is no regexp",
       R"([{"name":"x","type":"text"},{"name":"code","type":"text","pattern":"^(ab"}])",
       "/data/fields/1/pattern/code", "validation_invalid_regex"},
      {"pattern with a backreference (not in Go's syntax)",
       R"([{"name":"code","type":"text","pattern":"^(a)\\1$"}])", "/data/fields/0/pattern/code",
       "validation_invalid_regex"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto r = create(std::string(R"({"name":"fieldcheck","fields":)") + c.fields + "}");
    ASSERT_EQ(r.status, 400) << r.body;
    EXPECT_EQ(str_at(r.json, "/message"), "Failed to create collection.");
    EXPECT_EQ(str_at(r.json, c.pointer), c.code) << r.body;
  }
  EXPECT_EQ(api().get("/api/collections/fieldcheck", su()).status, 404) << "nothing was created";

  auto dup = create(
      R"({"name":"fieldcheck","fields":[{"name":"ok","type":"text"},{"name":"OK","type":"text"}]})");
  EXPECT_EQ(
      dump(at(dup.json, "/data/fields/1/name")),
      canon(
          R"({"code":"validation_duplicated_field_name","message":"Duplicated or invalid field name OK.","params":{"fieldName":"OK"}})"));
}

TEST_F(Collections, IdValidation) {
  auto ok = create(R"({"id":"mycustomid","name":"customid"})");
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(str_at(ok.json, "/id"), "mycustomid");
  auto dup = create(R"({"id":"_pb_users_auth_","name":"dupid"})");
  ASSERT_EQ(dup.status, 400) << dup.body;
  EXPECT_EQ(
      dump(at(dup.json, "/data/id")),
      canon(
          R"({"code":"validation_invalid_or_existing_id","message":"The model id is invalid or already exists."})"));
}

TEST_F(Collections, CollectionTypes) {
  auto weird = create(R"({"name":"w","type":"weird"})");
  ASSERT_EQ(weird.status, 400) << weird.body;
  EXPECT_EQ(str_at(weird.json, "/data/type/code"), "validation_in_invalid");
  // View collections cannot be created yet.
  auto view = create(R"({"name":"v1","type":"view","viewQuery":"select id from users"})");
  EXPECT_EQ(view.status, 400) << view.body;
  EXPECT_EQ(api().get("/api/collections/v1", su()).status, 404);
}

TEST_F(Collections, AuthCollectionsGetTheirSystemFields) {
  auto r = create(R"({"name":"members","type":"auth","createRule":""})");
  ASSERT_EQ(r.status, 200) << r.body;
  auto want = kBaseKeys;
  want.insert(want.end(), kAuthTail.begin(), kAuthTail.end());
  EXPECT_EQ(keys_of(r.json), want);
  auto cid = str_at(r.json, "/id");
  EXPECT_EQ(cid, "pbc_2620428958");
  std::vector<std::string> names;
  for (const auto& f : at(r.json, "/fields").as_array()) names.push_back(str_at(f, "/name"));
  EXPECT_EQ(names, (std::vector<std::string>{"id", "password", "tokenKey", "email",
                                             "emailVisibility", "verified"}));
  EXPECT_EQ(dump(at(r.json, "/indexes")),
            canon("[\"CREATE UNIQUE INDEX `idx_tokenKey_" + cid +
                  "` ON `members` (`tokenKey`)\",\"CREATE UNIQUE INDEX `idx_email_" + cid +
                  "` ON `members` (`email`) WHERE `email` != ''\"]"));
  EXPECT_EQ(r.body.find("secret"), std::string::npos);
  EXPECT_EQ(int_at(r.json, "/authToken/duration"), 432000) << "5 days for new auth collections";
  EXPECT_EQ(dump(at(r.json, "/passwordAuth")), R"({"enabled":true,"identityFields":["email"]})");

  auto rec =
      api().post(records_path("members"),
                 R"({"email":"m@example.com","password":"12345678","passwordConfirm":"12345678"})");
  ASSERT_EQ(rec.status, 200) << rec.body;
  EXPECT_FALSE(has_key(rec.json, "password"));
  EXPECT_FALSE(has_key(rec.json, "tokenKey"));
  auto token = login(api(), "members", "m@example.com", "12345678");
  EXPECT_EQ(api().post("/api/collections/members/auth-refresh", "", token).status, 200);
  EXPECT_EQ(api().get("/api/collections", token).status, 403) << "not a superuser";
}

TEST_F(Collections, BaseCollectionsMayHavePasswordFields) {
  // PocketBase allows a password field in any collection (it is hidden by default).
  auto r = create(
      R"({"name":"vault","createRule":"","viewRule":"","fields":[{"name":"pin","type":"password","hidden":true}]})");
  ASSERT_EQ(r.status, 200) << r.body;
  auto rec = api().post(records_path("vault"), R"({"pin":"12345678"})");
  ASSERT_EQ(rec.status, 200) << rec.body;
  EXPECT_FALSE(has_key(rec.json, "pin"));
}

TEST_F(Collections, IndexesBecomeRealIndexes) {
  auto r = create(R"json({"name":"indexed","listRule":"","createRule":"","fields":[
      {"name":"code","type":"text"},{"name":"n","type":"number"}],
      "indexes":["CREATE UNIQUE INDEX idx_indexed_code ON indexed (code)",
                 "CREATE INDEX `idx_indexed_n` ON `indexed` (`n`)"]})json");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(
      dump(at(r.json, "/indexes")),
      canon(
          R"json(["CREATE UNIQUE INDEX idx_indexed_code ON indexed (code)","CREATE INDEX `idx_indexed_n` ON `indexed` (`n`)"])json"));
  auto names = sqlite(server_->db_path(),
                      "SELECT name FROM sqlite_master WHERE type='index' AND tbl_name='indexed' "
                      "AND sql IS NOT NULL ORDER BY name");
  EXPECT_EQ(names, "idx_indexed_code\nidx_indexed_n");
  auto unique = sqlite(server_->db_path(),
                       "SELECT name FROM pragma_index_list('indexed') WHERE \"unique\"=1 AND "
                       "origin='c'");
  EXPECT_EQ(unique, "idx_indexed_code");

  ASSERT_EQ(api().post(records_path("indexed"), R"({"code":"a","n":1})").status, 200);
  EXPECT_EQ(api().post(records_path("indexed"), R"({"code":"b","n":1})").status, 200)
      << "n is not unique";
  auto dup = api().post(records_path("indexed"), R"({"code":"a","n":2})");
  EXPECT_EQ(
      dup.text(),
      R"({"data":{"code":{"code":"validation_not_unique","message":"Value must be unique."}},"message":"Failed to create record.","status":400})");
}

TEST_F(Collections, InvalidIndexesAreKeyedByPosition) {
  auto bad = create(R"({"name":"badindex","indexes":["nonsense"]})");
  ASSERT_EQ(bad.status, 400) << bad.body;
  EXPECT_EQ(api().get("/api/collections/badindex", su()).status, 404) << "nothing was created";
  EXPECT_EQ(
      dump(at(bad.json, "/data")),
      canon(
          R"({"indexes":{"0":{"code":"validation_invalid_index_expression","message":"Invalid CREATE INDEX expression."}}})"));
}

TEST_F(Collections, Delete) {
  ASSERT_EQ(
      create(R"({"name":"gone","createRule":"","fields":[{"name":"t","type":"text"}]})").status,
      200);
  ASSERT_EQ(api().post(records_path("gone"), R"({"t":"x"})").status, 200);
  auto d = api().del("/api/collections/gone", su());
  EXPECT_EQ(d.status, 204) << d.body;
  EXPECT_EQ(d.body, "");
  EXPECT_EQ(api().get("/api/collections/gone", su()).text(), kNotFound);
  EXPECT_EQ(api().get(records_path("gone"), su()).text(), kMissingCollection);
  EXPECT_EQ(sqlite(server_->db_path(), "SELECT count(*) FROM sqlite_master WHERE tbl_name='gone'"),
            "0")
      << "the table and its indexes are dropped";
  EXPECT_EQ(api().del("/api/collections/gone", su()).text(), kNotFound);

  for (const char* sys : {"_superusers", "_mfas", "_otps", "_externalAuths", "_authOrigins"}) {
    SCOPED_TRACE(sys);
    auto r = api().del(std::string("/api/collections/") + sys, su());
    EXPECT_EQ(r.status, 400) << r.body;
    EXPECT_EQ(api().get(std::string("/api/collections/") + sys, su()).status, 200);
  }

  auto parent = create(R"({"name":"parent","fields":[{"name":"t","type":"text"}]})");
  ASSERT_EQ(parent.status, 200);
  json::object child{{"name", "child"}};
  child["fields"] = json::array{json::object{{"name", "p"},
                                             {"type", "relation"},
                                             {"collectionId", str_at(parent.json, "/id")},
                                             {"maxSelect", 1}}};
  ASSERT_EQ(create(json::serialize(child)).status, 200);
  auto refused = api().del("/api/collections/parent", su());
  EXPECT_EQ(refused.status, 400) << refused.body;
  EXPECT_EQ(dump(at(refused.json, "/data")), "{}");
  EXPECT_EQ(api().get("/api/collections/parent", su()).status, 200);
  EXPECT_EQ(api().del("/api/collections/child", su()).status, 204);
  EXPECT_EQ(api().del("/api/collections/parent", su()).status, 204);
}

TEST_F(Collections, ImportValidatesEachCollectionAgainstTheOnesBeforeIt) {
  // The second collection relates to the first, and its rules reach through
  // that relation: both only exist once the import is applied.
  auto body = R"J({"deleteMissing":false,"collections":[
    {"id":"pbc_imp_boards1","name":"imp_boards","type":"base","listRule":"owner = @request.auth.id",
     "fields":[{"name":"owner","type":"relation","collectionId":"_pb_users_auth_","maxSelect":1}]},
    {"name":"imp_tasks","type":"base","listRule":"board.owner = @request.auth.id",
     "fields":[{"name":"board","type":"relation","collectionId":"pbc_imp_boards1","maxSelect":1},
               {"name":"title","type":"text"}]}]})J";
  auto r = api().send("PUT", "/api/collections/import", body, su());
  ASSERT_EQ(r.status, 204) << r.body;
  auto tasks = api().get("/api/collections/imp_tasks", su());
  ASSERT_EQ(tasks.status, 200) << tasks.body;
  EXPECT_EQ(str_at(tasks.json, "/listRule"), "board.owner = @request.auth.id");

  // Importing the same schema again (fields matched by name, the system `id`
  // field left out) updates in place.
  r = api().send("PUT", "/api/collections/import", body, su());
  ASSERT_EQ(r.status, 204) << r.body;
  auto again = api().get("/api/collections/imp_tasks", su());
  EXPECT_EQ(str_at(again.json, "/fields/0/name"), "id");
  EXPECT_EQ(str_at(again.json, "/fields/1/id"), str_at(tasks.json, "/fields/1/id"));

  // A rule naming a field that exists nowhere still fails, and nothing is applied.
  auto bad = R"J({"collections":[
    {"name":"imp_ok","type":"base","fields":[{"name":"a","type":"text"}]},
    {"name":"imp_bad","type":"base","listRule":"nosuch.owner = 1","fields":[]}]})J";
  r = api().send("PUT", "/api/collections/import", bad, su());
  ASSERT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(str_at(r.json, "/data/collections/1/listRule/code"), "validation_invalid_rule");
  EXPECT_EQ(api().get("/api/collections/imp_ok", su()).status, 404);
}

}  // namespace
}  // namespace plinth::test::data
