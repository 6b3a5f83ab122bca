// A copy of a PocketBase 0.39.11 data dir served by Plinth: the collections,
// records, logins and tokens must come out as PocketBase gives them.

#include <algorithm>
#include <ctime>
#include <regex>

#include "data_support.hpp"

namespace plinth::test::data {
namespace {

// PocketBase's long-lived test tokens (reference section 5.2; exp = 2050).
const std::string kPbSuperuserToken =
    "eyJhbGciOiJIUzI1NiJ9.eyJpZCI6InN5d2JoZWNuaDQ2cmhtMCIsInR5cGUiOiJhdXRoIiwiY29sbGVjdGlvbklkIjoi"
    "cGJjXzMxNDI2MzU4MjMiLCJleHAiOjI1MjQ2MDQ0NjEsInJlZnJlc2hhYmxlIjp0cnVlfQ."
    "UXgO3j-0BumcugrFjbd7j0M4MQvbrLggLlcu_YNGjoY";
const std::string kPbUserToken =
    "eyJhbGciOiJIUzI1NiJ9.eyJpZCI6IjRxMXhsY2xtZmxva3UzMyIsInR5cGUiOiJhdXRoIiwiY29sbGVjdGlvbklkIjoi"
    "X3BiX3VzZXJzX2F1dGhfIiwiZXhwIjoyNTI0NjA0NDYxLCJyZWZyZXNoYWJsZSI6dHJ1ZX0."
    "ZT3F0Z3iM-xbGgSG3LEKiEzHrPHr8t8IuHLZGGNuxLo";
const std::string kPbClientToken =
    "eyJhbGciOiJIUzI1NiJ9.eyJpZCI6ImdrMzkwcWVnczR5NDd3biIsInR5cGUiOiJhdXRoIiwiY29sbGVjdGlvbklkIjoi"
    "djg1MXE0cjc5MHJoa25sIiwiZXhwIjoyNTI0NjA0NDYxLCJyZWZyZXNoYWJsZSI6dHJ1ZX0."
    "0ONnm_BsvPRZyDNT31GN1CKUB6uQRxvVvQ-Wc9AZfG0";

const std::string kDemo2Collection =
    R"json({"id":"sz5l5z67tg7gku0","listRule":"","viewRule":"","createRule":"","updateRule":"","deleteRule":"","name":"demo2","type":"base","fields":[{"autogeneratePattern":"[a-z0-9]{15}","help":"","hidden":false,"id":"_pbf_text_id_","max":15,"min":15,"name":"id","pattern":"^[a-z0-9]+$","presentable":false,"primaryKey":true,"required":true,"system":true,"type":"text"},{"autogeneratePattern":"","help":"","hidden":false,"id":"mkrguaaf","max":0,"min":2,"name":"title","pattern":"","presentable":false,"primaryKey":false,"required":true,"system":false,"type":"text"},{"help":"","hidden":false,"id":"izkl5z2s","name":"active","presentable":false,"required":false,"system":false,"type":"bool"},{"hidden":false,"id":"_pbf_autodate_created_","name":"created","onCreate":true,"onUpdate":false,"presentable":false,"system":false,"type":"autodate"},{"hidden":false,"id":"_pbf_autodate_updated_","name":"updated","onCreate":true,"onUpdate":true,"presentable":false,"system":false,"type":"autodate"}],"indexes":["CREATE INDEX `idx_demo2_created` ON `demo2` (`created`)","CREATE UNIQUE INDEX \"idx_unique_demo2_title\" on \"demo2\" (\"title\")","CREATE INDEX \"idx_demo2_active\" ON \"demo2\" (\n\"active\"\n)"],"created":"2022-10-10 09:51:28.452Z","updated":"2026-05-14 18:14:18.462Z","system":false})json";

const std::string kSuperuserRecord =
    R"({"collectionId":"pbc_3142635823","collectionName":"_superusers","created":"2022-10-10 09:50:06.449Z","email":"test@example.com","emailVisibility":false,"id":"sywbhecnh46rhm0","updated":"2022-10-10 09:50:06.449Z","verified":true})";

class PocketBaseFixture : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new ServerProcess({}, {}, pocketbase_fixture_dir());
    api_ = new Api(server_->port());
  }
  static void TearDownTestSuite() {
    delete api_;
    delete server_;
    api_ = nullptr;
    server_ = nullptr;
  }
  static const Api& api() { return *api_; }
  static std::string db() { return server_->dir() + "/data/data.db"; }
  static std::string fixture_db() { return pocketbase_fixture_dir() + "/data.db"; }
  // A token of the nologin record dc49k6jgejn40h3, signed as PocketBase does:
  // HS256 with tokenKey + the collection's authToken.secret.
  static std::string nologin_token() {
    auto key = sqlite(db(), "SELECT tokenKey FROM nologin WHERE id='dc49k6jgejn40h3'") +
               sqlite(db(),
                      "SELECT json_extract(options,'$.authToken.secret') FROM _collections WHERE "
                      "name='nologin'");
    json::object claims{{"collectionId", "kpv709sk2lqbqk8"},
                        {"exp", static_cast<std::int64_t>(std::time(nullptr)) + 600},
                        {"id", "dc49k6jgejn40h3"},
                        {"refreshable", true},
                        {"type", "auth"}};
    return sign_jwt(R"({"alg":"HS256","typ":"JWT"})", json::serialize(claims), key);
  }

  static ServerProcess* server_;
  static Api* api_;
};
ServerProcess* PocketBaseFixture::server_ = nullptr;
Api* PocketBaseFixture::api_ = nullptr;

TEST_F(PocketBaseFixture, CollectionsMatchTheReferenceTable) {
  const char* const owner =
      "@request.auth.id != '' && recordRef = @request.auth.id && collectionRef = "
      "@request.auth.collectionId";
  const char* const demo3 = "@request.auth.id != \"\" && @request.auth.collectionName != \"users\"";
  struct Want {
    const char* id;
    const char* name;
    const char* type;
    bool system;
    const char* rules[5];  // list, view, create, update, delete; nullptr = null
  } wants[] = {
      {"_pb_users_auth_",
       "users",
       "auth",
       false,
       {nullptr, "id = @request.auth.id", "", "id = @request.auth.id", "id = @request.auth.id"}},
      {"wsmn24bux7wo113", "demo1", "base", false, {nullptr, nullptr, nullptr, nullptr, nullptr}},
      {"sz5l5z67tg7gku0", "demo2", "base", false, {"", "", "", "", ""}},
      {"wzlqyes4orhoygb",
       "demo3",
       "base",
       false,
       {"// example leading comment...\n@request.auth.id != \"\" && @request.auth.collectionName "
        "!= "
        "\"users\"\n// example trailing comment...",
        demo3, demo3, demo3, demo3}},
      {"4d1blo5cuycfaca",
       "demo4",
       "base",
       false,
       {"", "", "@request.auth.collectionName = 'users'", "@request.auth.collectionName = 'users'",
        ""}},
      {"v851q4r790rhknl", "clients", "auth", false, {nullptr, nullptr, nullptr, nullptr, nullptr}},
      {"kpv709sk2lqbqk8", "nologin", "auth", true, {"", "", "", "", ""}},
      {"9n89pl5vkct6330",
       "demo5",
       "base",
       false,
       {"select_many:length = 3", "rel_many.self_rel_many.rel_many_cascade.files:length = 1",
        "@request.body.total = 3", "@request.body.total = 3", "@request.query.test:isset = true"}},
      {"v9gwnfh02gjq1q0",
       "view1",
       "view",
       false,
       {"@request.auth.id != \"\" && bool = true", "@request.auth.id != \"\" && bool = true",
        nullptr, nullptr, nullptr}},
      {"ib3m2700k5hlsjz", "view2", "view", false, {"", "", nullptr, nullptr, nullptr}},
      {"zahsr9d2mix2fvk", "numeric_id_view", "view", false, {"", "", nullptr, nullptr, nullptr}},
      {"pbc_3142635823",
       "_superusers",
       "auth",
       true,
       {nullptr, nullptr, nullptr, nullptr, nullptr}},
      {"pbc_2281828961", "_externalAuths", "base", true, {owner, owner, nullptr, nullptr, owner}},
      {"pbc_2279338944", "_mfas", "base", true, {owner, owner, nullptr, nullptr, nullptr}},
      {"pbc_1638494021", "_otps", "base", true, {owner, owner, nullptr, nullptr, nullptr}},
      {"pbc_4275539003", "_authOrigins", "base", true, {owner, owner, nullptr, nullptr, owner}},
  };
  auto r = api().get("/api/collections", kPbSuperuserToken);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(int_at(r.json, "/totalItems"), 16);
  const auto& items = at(r.json, "/items").as_array();
  ASSERT_EQ(items.size(), 16u);
  const char* const rule_keys[] = {"/listRule", "/viewRule", "/createRule", "/updateRule",
                                   "/deleteRule"};
  for (const auto& w : wants) {
    SCOPED_TRACE(w.name);
    json::value c = nullptr;
    for (const auto& it : items) {
      if (str_at(it, "/name") == w.name) c = it;
    }
    ASSERT_FALSE(c.is_null());
    EXPECT_EQ(str_at(c, "/id"), w.id);
    EXPECT_EQ(str_at(c, "/type"), w.type);
    EXPECT_EQ(dump(at(c, "/system")), w.system ? "true" : "false");
    for (int i = 0; i < 5; ++i) {
      auto v = at(c, rule_keys[i]);
      if (w.rules[i] == nullptr) {
        EXPECT_TRUE(v.is_null()) << rule_keys[i];
      } else {
        EXPECT_EQ(str_at(c, rule_keys[i]), w.rules[i]) << rule_keys[i];
      }
    }
    // The same collection is found by id and by name.
    EXPECT_EQ(api().get(std::string("/api/collections/") + w.id, kPbSuperuserToken).status, 200);
  }
}

TEST_F(PocketBaseFixture, Demo2CollectionJsonIsExact) {
  for (const char* key : {"demo2", "sz5l5z67tg7gku0"}) {
    auto r = api().get(std::string("/api/collections/") + key, kPbSuperuserToken);
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.text(), kDemo2Collection);
  }
}

TEST_F(PocketBaseFixture, Demo2RecordsAsPocketBase) {
  struct Case {
    const char* id;
    const char* want;
  } cases[] = {
      {"llvuca81nly1qls",
       R"({"active":false,"collectionId":"sz5l5z67tg7gku0","collectionName":"demo2","created":"2022-10-12 11:42:51.509Z","id":"llvuca81nly1qls","title":"test1","updated":"2022-10-12 11:42:51.509Z"})"},
      {"achvryl401bhse3",
       R"({"active":true,"collectionId":"sz5l5z67tg7gku0","collectionName":"demo2","created":"2022-10-12 11:42:55.076Z","id":"achvryl401bhse3","title":"test2","updated":"2022-10-14 10:52:46.726Z"})"},
      {"0yxhwia2amd8gec",
       R"({"active":true,"collectionId":"sz5l5z67tg7gku0","collectionName":"demo2","created":"2022-10-12 11:42:58.215Z","id":"0yxhwia2amd8gec","title":"test3","updated":"2022-10-14 10:52:49.596Z"})"},
  };
  std::string items;
  for (const auto& c : cases) {
    SCOPED_TRACE(c.id);
    auto r = api().get(records_path("demo2", c.id));  // public rules: as a guest
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.text(), c.want);
    items += (items.empty() ? "" : ",") + std::string(c.want);
  }
  auto list = api().get(records_path("demo2") + "?sort=@rowid&perPage=3&skipTotal=1");
  EXPECT_EQ(list.text(),
            R"({"items":[)" + items + R"(],"page":1,"perPage":3,"totalItems":-1,"totalPages":-1})");
  auto titles = api().get(records_path("demo2") + "?sort=-title&perPage=3&fields=title");
  EXPECT_EQ(dump(at(titles.json, "/items")),
            canon(R"([{"title":"test3"},{"title":"test2"},{"title":"test1"}])"));
}

TEST_F(PocketBaseFixture, Demo1RecordsAsPocketBase) {
  struct Case {
    const char* id;
    const char* want;
  } cases[] = {
      {"84nmscqy84lsi1t",
       R"({"bool":true,"collectionId":"wsmn24bux7wo113","collectionName":"demo1","created":"2022-10-14 10:13:12.397Z","datetime":"2022-10-01 12:00:00.000Z","email":"test@example.com","file_many":["test_QZFjKjXchk.txt","300_WlbFWSGmW9.png","logo_vcfJJG5TAh.svg","test_MaWC6mWyrP.txt","test_tC1Yc87DfC.txt"],"file_one":"test_d61b33QdDU.txt","id":"84nmscqy84lsi1t","json":[1,2,3],"number":123456,"point":{"lon":0,"lat":0},"rel_many":["oap640cot4yru2s"],"rel_one":"","select_many":["optionB","optionC"],"select_one":"optionB","text":"test","updated":"2023-01-04 20:11:20.732Z","url":"https://example.copm"})"},
      {"al1h9ijdeojtsjy",
       R"({"bool":false,"collectionId":"wsmn24bux7wo113","collectionName":"demo1","created":"2022-10-14 10:14:04.685Z","datetime":"","email":"test2@example.com","file_many":[],"file_one":"300_Jsjq7RdBgA.png","id":"al1h9ijdeojtsjy","json":null,"number":456,"point":{"lon":23.333157,"lat":42.654318},"rel_many":["bgs820n361vj1qd","4q1xlclmfloku33","oap640cot4yru2s"],"rel_one":"84nmscqy84lsi1t","select_many":["optionB"],"select_one":"optionB","text":"test2","updated":"2025-04-02 11:05:26.292Z","url":""})"},
      {"imy661ixudk5izi",
       R"({"bool":false,"collectionId":"wsmn24bux7wo113","collectionName":"demo1","created":"2022-10-14 10:36:21.012Z","datetime":"","email":"","file_many":[],"file_one":"","id":"imy661ixudk5izi","json":null,"number":0,"point":{"lon":-74.006015,"lat":40.712728},"rel_many":[],"rel_one":"","select_many":[],"select_one":"","text":"lorem ipsum","updated":"2025-04-02 11:05:03.433Z","url":""})"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.id);
    auto r = api().get(records_path("demo1", c.id), kPbSuperuserToken);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.text(), c.want);
    EXPECT_EQ(api().get(records_path("demo1", c.id)).text(), kOnlySuperusers);
    EXPECT_EQ(api().get(records_path("demo1", c.id), kPbUserToken).text(), kOnlySuperusers);
  }
}

TEST_F(PocketBaseFixture, AuthRecordsAsPocketBase) {
  auto su = api().get(records_path("users", "4q1xlclmfloku33"), kPbSuperuserToken);
  EXPECT_EQ(
      su.text(),
      R"({"avatar":"300_1SEi6Q6U72.png","collectionId":"_pb_users_auth_","collectionName":"users","created":"2022-10-10 10:36:26.879Z","email":"test@example.com","emailVisibility":false,"file":[],"id":"4q1xlclmfloku33","name":"test1","rel":"llvuca81nly1qls","updated":"2022-10-12 11:46:10.490Z","username":"users75657","verified":false})");
  auto super_rec = api().get(records_path("_superusers", "sywbhecnh46rhm0"), kPbSuperuserToken);
  EXPECT_EQ(super_rec.text(), kSuperuserRecord);

  // nologin has public rules: emails show only where emailVisibility is set,
  // except to its managers (manageRule: @request.auth.collectionName = 'users'),
  // as PocketBase's "check email visibility as manage auth record" case.
  for (const std::string& tok : {std::string(), kPbUserToken, kPbClientToken}) {
    bool manager = tok == kPbUserToken;
    SCOPED_TRACE(tok.empty() ? "guest" : tok.substr(tok.size() - 6));
    auto l = api().get(records_path("nologin"), tok);
    ASSERT_EQ(l.status, 200) << l.body;
    EXPECT_EQ(int_at(l.json, "/totalItems"), 3);
    for (const auto& it : at(l.json, "/items").as_array()) {
      bool visible = manager || dump(at(it, "/emailVisibility")) == "true";
      EXPECT_EQ(has_key(it, "email"), visible) << dump(it);
      EXPECT_FALSE(has_key(it, "password"));
      EXPECT_FALSE(has_key(it, "tokenKey"));
      // Viewed on its own (written straight from its row unless the caller may manage it),
      // the record is the very item of the list.
      auto v = api().get(records_path("nologin", str_at(it, "/id")), tok);
      ASSERT_EQ(v.status, 200) << v.body;
      EXPECT_EQ(v.json, it);
    }
    EXPECT_NE(l.body.find(R"("email":"test2@example.com")"), std::string::npos);
  }
}

TEST_F(PocketBaseFixture, OwnerSeesOwnEmail) {
  auto token = nologin_token();
  auto own = api().get(records_path("nologin", "dc49k6jgejn40h3"), token);
  ASSERT_EQ(own.status, 200) << own.body;
  EXPECT_EQ(str_at(own.json, "/email"), "test@example.com") << "the owner sees its own email";
  auto other = api().get(records_path("nologin", "oos036e9xvqeexy"), token);
  ASSERT_EQ(other.status, 200) << other.body;
  EXPECT_FALSE(has_key(other.json, "email")) << "but not the hidden email of another record";
  auto refresh = api().post("/api/collections/nologin/auth-refresh", "", token);
  EXPECT_EQ(refresh.status, 200) << refresh.body;
}

TEST_F(PocketBaseFixture, SuperuserLoginUpgradesTheBcryptHash) {
  const std::string hash_sql = "SELECT password FROM _superusers WHERE id='sywbhecnh46rhm0'";
  EXPECT_EQ(sqlite(fixture_db(), hash_sql).substr(0, 7), "$2a$13$");

  auto first = api().post("/api/collections/_superusers/auth-with-password",
                          R"({"identity":"test@example.com","password":"1234567890"})");
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(dump(at(first.json, "/record")), canon(kSuperuserRecord));
  auto token = str_at(first.json, "/token");
  EXPECT_EQ(api().get("/api/collections", token).status, 200);

  EXPECT_EQ(sqlite(db(), hash_sql).substr(0, 10), "$argon2id$") << "rehashed on login";
  EXPECT_EQ(sqlite(fixture_db(), hash_sql).substr(0, 7), "$2a$13$") << "the original is untouched";

  auto second = api().post("/api/collections/_superusers/auth-with-password",
                           R"({"identity":"test@example.com","password":"1234567890"})");
  ASSERT_EQ(second.status, 200) << second.body;
  EXPECT_EQ(dump(at(second.json, "/record")), canon(kSuperuserRecord))
      << "the rehash changes nothing visible";
  auto wrong = api().post("/api/collections/_superusers/auth-with-password",
                          R"({"identity":"test@example.com","password":"1234567891"})");
  EXPECT_EQ(wrong.status, 400);
  EXPECT_EQ(api().get("/api/collections", kPbSuperuserToken).status, 200)
      << "a rehash is not a password change: tokens survive";
}

TEST_F(PocketBaseFixture, LoginByUsernameIdentityAndDisabledPasswordAuth) {
  auto r = api().post("/api/collections/users/auth-with-password",
                      R"({"identity":"users75657","password":"1234567890"})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(str_at(r.json, "/record/id"), "4q1xlclmfloku33");
  EXPECT_EQ(str_at(r.json, "/record/email"), "test@example.com");
  auto off = api().post("/api/collections/nologin/auth-with-password",
                        R"({"identity":"test@example.com","password":"1234567890"})");
  EXPECT_EQ(
      off.text(),
      R"({"data":{},"message":"The collection is not configured to allow password authentication.","status":403})");
}

TEST_F(PocketBaseFixture, PocketBaseTestTokensAreAccepted) {
  EXPECT_EQ(api().get("/api/collections", kPbSuperuserToken).status, 200);
  EXPECT_EQ(api().get("/api/collections", "Bearer " + kPbSuperuserToken).status, 200);
  EXPECT_EQ(api().get(records_path("demo1"), kPbSuperuserToken).status, 200);
  EXPECT_EQ(api().get("/api/collections", kPbUserToken).status, 403) << "a user is not a superuser";
  auto refresh = api().post("/api/collections/users/auth-refresh", "", kPbUserToken);
  ASSERT_EQ(refresh.status, 200) << refresh.body;
  EXPECT_EQ(str_at(refresh.json, "/record/id"), "4q1xlclmfloku33");
  EXPECT_EQ(str_at(refresh.json, "/record/email"), "test@example.com");
  auto su_refresh = api().post("/api/collections/_superusers/auth-refresh", "", kPbSuperuserToken);
  ASSERT_EQ(su_refresh.status, 200) << su_refresh.body;
  EXPECT_EQ(dump(at(su_refresh.json, "/record")), canon(kSuperuserRecord));
}

TEST_F(PocketBaseFixture, RecordsWrittenByPlinthReadBack) {
  auto created = api().post(records_path("demo2"), R"({"title":"plinth-made","active":true})");
  ASSERT_EQ(created.status, 200) << created.body;
  auto id = str_at(created.json, "/id");
  EXPECT_EQ(keys_of(created.json),
            (std::vector<std::string>{"active", "collectionId", "collectionName", "created", "id",
                                      "title", "updated"}));
  auto view = api().get(records_path("demo2", id));
  EXPECT_EQ(view.text(), created.text());
  EXPECT_EQ(sqlite(db(), "SELECT title, active FROM demo2 WHERE id='" + id + "'"), "plinth-made|1");
  auto last = api().get(records_path("demo2") + "?sort=-@rowid&perPage=1");
  EXPECT_EQ(str_at(at(last.json, "/items").as_array().at(0), "/id"), id);

  // Every demo1 field type through the legacy table DDL.
  auto d1 = api().post(records_path("demo1"), R"({
      "text":"made here","bool":true,"url":"https://plinth.dev","select_one":"optionA",
      "select_many":["optionA","optionC"],"number":-12.5,"email":"made@example.com",
      "datetime":"2024-02-29 23:59:59.999Z","json":{"k":[1,{"z":null}]},
      "rel_one":"84nmscqy84lsi1t","rel_many":["oap640cot4yru2s","4q1xlclmfloku33"],
      "point":{"lon":2.35,"lat":48.85}})",
                       kPbSuperuserToken);
  ASSERT_EQ(d1.status, 200) << d1.body;
  auto d1v = api().get(records_path("demo1", str_at(d1.json, "/id")), kPbSuperuserToken);
  EXPECT_EQ(d1v.text(), d1.text());
  EXPECT_EQ(dump(at(d1v.json, "/json")), canon(R"({"k":[1,{"z":null}]})"));
  EXPECT_EQ(dump(at(d1v.json, "/number")), canon("-12.5"));
  EXPECT_EQ(dump(at(d1v.json, "/rel_many")), canon(R"(["oap640cot4yru2s","4q1xlclmfloku33"])"));
  EXPECT_EQ(str_at(d1v.json, "/datetime"), "2024-02-29 23:59:59.999Z");

  auto upd = api().patch(records_path("demo2", id), R"({"title":"plinth-edit","active":false})");
  ASSERT_EQ(upd.status, 200) << upd.body;
  EXPECT_EQ(str_at(upd.json, "/created"), str_at(created.json, "/created"));
  EXPECT_EQ(sqlite(db(), "SELECT title, active FROM demo2 WHERE id='" + id + "'"), "plinth-edit|0");
  EXPECT_EQ(api().del(records_path("demo2", id)).status, 204);
}

TEST_F(PocketBaseFixture, Demo2Validation) {
  struct Case {
    const char* name;
    const char* body;
    const char* want;
  } cases[] = {
      {"unique title", R"({"title":"test1"})",
       R"({"data":{"title":{"code":"validation_not_unique","message":"Value must be unique."}},"message":"Failed to create record.","status":400})"},
      {"title too short", R"({"title":"x"})",
       R"({"data":{"title":{"code":"validation_min_text_constraint","message":"Must be at least 2 character(s).","params":{"min":2}}},"message":"Failed to create record.","status":400})"},
      {"title required", R"({"active":true})",
       R"({"data":{"title":{"code":"validation_required","message":"Cannot be blank."}},"message":"Failed to create record.","status":400})"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(api().post(records_path("demo2"), c.body).text(), c.want);
  }
  auto rename = api().patch(records_path("demo2", "achvryl401bhse3"), R"({"title":"test3"})");
  EXPECT_EQ(
      rename.text(),
      R"({"data":{"title":{"code":"validation_not_unique","message":"Value must be unique."}},"message":"Failed to update record.","status":400})");
  auto missing_rel =
      api().post(records_path("demo1"), R"({"rel_one":"missing00000000"})", kPbSuperuserToken);
  EXPECT_EQ(str_at(missing_rel.json, "/data/rel_one/code"), "validation_missing_rel_records");
}

TEST_F(PocketBaseFixture, RulesOnFixtureCollections) {
  // demo1 / clients: null rules.
  for (const char* c : {"demo1", "clients"}) {
    SCOPED_TRACE(c);
    EXPECT_EQ(api().get(records_path(c)).text(), kOnlySuperusers);
    EXPECT_EQ(api().post(records_path(c), "{}", kPbUserToken).text(), kOnlySuperusers);
  }
  const std::string denied = R"({"data":{},"message":"Failed to create record.","status":400})";
  auto su = api().get(records_path("demo3"), kPbSuperuserToken);
  ASSERT_EQ(int_at(su.json, "/totalItems"), 4);
  // demo3: `@request.auth.id != "" && @request.auth.collectionName != "users"`.
  // Guests and `users` records are refused...
  for (const std::string& tok : {std::string(), kPbUserToken}) {
    SCOPED_TRACE(tok.empty() ? "guest" : "users record");
    auto l = api().get(records_path("demo3"), tok);
    ASSERT_EQ(l.status, 200) << l.body;
    EXPECT_EQ(int_at(l.json, "/totalItems"), 0);
    EXPECT_EQ(dump(at(l.json, "/items")), "[]");
    EXPECT_EQ(api().get(records_path("demo3", "1tmknxy2868d869"), tok).text(), kNotFound);
    EXPECT_EQ(api().post(records_path("demo3"), R"({"title":"nope"})", tok).text(), denied);
    EXPECT_EQ(
        api().patch(records_path("demo3", "1tmknxy2868d869"), R"({"title":"nope"})", tok).text(),
        kNotFound);
    EXPECT_EQ(api().del(records_path("demo3", "1tmknxy2868d869"), tok).text(), kNotFound);
  }
  EXPECT_EQ(sqlite(db(), "SELECT count(*) FROM demo3 WHERE title='nope'"), "0");
  EXPECT_EQ(sqlite(db(), "SELECT title FROM demo3 WHERE id='1tmknxy2868d869'"), "test1");
  // ...while any other auth record (clients, nologin) passes.
  for (const std::string& tok : {kPbClientToken, nologin_token()}) {
    SCOPED_TRACE(tok == kPbClientToken ? "clients record" : "nologin record");
    auto l = api().get(records_path("demo3"), tok);
    ASSERT_EQ(l.status, 200) << l.body;
    EXPECT_EQ(int_at(l.json, "/totalItems"), 4);
    auto v = api().get(records_path("demo3", "1tmknxy2868d869"), tok);
    ASSERT_EQ(v.status, 200) << v.body;
    EXPECT_EQ(str_at(v.json, "/title"), "test1");
    auto c = api().post(records_path("demo3"), R"({"title":"plinth-rule"})", tok);
    ASSERT_EQ(c.status, 200) << c.body;
    auto id = str_at(c.json, "/id");
    auto u = api().patch(records_path("demo3", id), R"({"title":"plinth-rule2"})", tok);
    EXPECT_EQ(str_at(u.json, "/title"), "plinth-rule2") << u.body;
    EXPECT_EQ(api().del(records_path("demo3", id), tok).status, 204);
  }
  EXPECT_EQ(int_at(api().get(records_path("demo3"), kPbSuperuserToken).json, "/totalItems"), 4);

  // demo4 creates/updates only for `users` records; lists and deletes are public.
  auto d4 = api().get(records_path("demo4"));
  ASSERT_EQ(d4.status, 200) << d4.body;
  EXPECT_EQ(int_at(d4.json, "/totalItems"), 2);
  const std::string d4_body =
      R"({"title":"plinth-d4","rel_one_no_cascade_required":"1tmknxy2868d869",)"
      R"("rel_many_no_cascade_required":["1tmknxy2868d869"]})";
  EXPECT_EQ(api().post(records_path("demo4"), d4_body, kPbClientToken).text(), denied);
  EXPECT_EQ(api().post(records_path("demo4"), d4_body).text(), denied);
  EXPECT_EQ(sqlite(db(), "SELECT count(*) FROM demo4"), "2");
  auto d4_new = api().post(records_path("demo4"), d4_body, kPbUserToken);
  ASSERT_EQ(d4_new.status, 200) << d4_new.body;
  auto d4_id = str_at(d4_new.json, "/id");
  EXPECT_EQ(api().patch(records_path("demo4", d4_id), R"({"title":"x"})").text(), kNotFound);
  EXPECT_EQ(api().del(records_path("demo4", d4_id)).status, 204);
  EXPECT_EQ(sqlite(db(), "SELECT count(*) FROM demo4"), "2");

  // Collections are matched case-insensitively by name.
  EXPECT_EQ(api().get(records_path("DEMO2", "llvuca81nly1qls")).status, 200);
}

TEST_F(PocketBaseFixture, ViewRuleFiltersViewRows) {
  // view1: `@request.auth.id != "" && bool = true`.
  auto all = api().get(records_path("view1") + "?perPage=100", kPbSuperuserToken);
  ASSERT_EQ(all.status, 200) << all.body;
  std::vector<std::string> want;
  for (const auto& it : at(all.json, "/items").as_array())
    if (dump(at(it, "/bool")) == "true") want.push_back(str_at(it, "/id"));
  std::sort(want.begin(), want.end());
  ASSERT_FALSE(want.empty());
  ASSERT_LT(want.size(), at(all.json, "/items").as_array().size()) << "some rows are filtered";
  auto filtered =
      api().get(records_path("view1") + "?perPage=100&filter=bool%3Dtrue", kPbSuperuserToken);
  EXPECT_EQ(int_at(filtered.json, "/totalItems"), static_cast<std::int64_t>(want.size()));

  auto l = api().get(records_path("view1") + "?perPage=100", kPbUserToken);
  ASSERT_EQ(l.status, 200) << l.body;
  std::vector<std::string> got;
  for (const auto& it : at(l.json, "/items").as_array()) got.push_back(str_at(it, "/id"));
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, want);
  EXPECT_EQ(int_at(l.json, "/totalItems"), static_cast<std::int64_t>(want.size()));
  for (const auto& it : at(all.json, "/items").as_array()) {
    auto id = str_at(it, "/id");
    bool visible = std::find(want.begin(), want.end(), id) != want.end();
    EXPECT_EQ(api().get(records_path("view1", id), kPbUserToken).status, visible ? 200 : 404) << id;
  }
}

TEST_F(PocketBaseFixture, ViewCollectionsAreReadOnly) {
  auto one = api().get(records_path("view2", "al1h9ijdeojtsjy"));
  ASSERT_EQ(one.status, 200) << one.body;
  EXPECT_EQ(
      one.text(),
      R"({"collectionId":"ib3m2700k5hlsjz","collectionName":"view2","file_many":[],"id":"al1h9ijdeojtsjy","rel_many":["bgs820n361vj1qd","4q1xlclmfloku33","oap640cot4yru2s"],"state":false})");
  auto list = api().get(records_path("view2") + "?sort=id&fields=id,state");
  ASSERT_EQ(list.status, 200) << list.body;
  auto items = dump(at(list.json, "/items"));
  for (const char* want :
       {R"({"id":"84nmscqy84lsi1t","state":true})", R"({"id":"al1h9ijdeojtsjy","state":false})",
        R"({"id":"imy661ixudk5izi","state":false})"}) {
    EXPECT_NE(items.find(canon(want)), std::string::npos) << items;
  }
  auto numeric = api().get(records_path("numeric_id_view") + "?sort=id");
  EXPECT_EQ(
      numeric.text(),
      R"({"items":[{"collectionId":"zahsr9d2mix2fvk","collectionName":"numeric_id_view","email":"test@example.com","id":"1"},{"collectionId":"zahsr9d2mix2fvk","collectionName":"numeric_id_view","email":"test2@example.com","id":"2"}],"page":1,"perPage":30,"totalItems":2,"totalPages":1})");
  auto guarded = api().get(records_path("view1"));
  EXPECT_EQ(guarded.status, 200);
  EXPECT_EQ(int_at(guarded.json, "/totalItems"), 0) << "a guest fails `@request.auth.id != \"\"`";

  const std::string unsupported =
      R"({"data":{},"message":"Unsupported collection type.","status":400})";
  EXPECT_EQ(api().post(records_path("view2"), "{}", kPbSuperuserToken).text(), unsupported);
  EXPECT_EQ(api().patch(records_path("view2", "al1h9ijdeojtsjy"), "{}", kPbSuperuserToken).text(),
            unsupported);
  EXPECT_EQ(api().del(records_path("view2", "al1h9ijdeojtsjy"), kPbSuperuserToken).text(),
            unsupported);
}

TEST_F(PocketBaseFixture, FileFieldsHoldNames) {
  // Its own copy: this test changes demo1 records that others compare exactly.
  ServerProcess server({}, {}, pocketbase_fixture_dir());
  Api api(server.port());
  auto path = records_path("demo1", "84nmscqy84lsi1t");
  auto r = api.patch(path, R"({"file_many-":"test_QZFjKjXchk.txt"})", kPbSuperuserToken);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(
      dump(at(r.json, "/file_many")),
      canon(
          R"(["300_WlbFWSGmW9.png","logo_vcfJJG5TAh.svg","test_MaWC6mWyrP.txt","test_tC1Yc87DfC.txt"])"));
  auto keep =
      api.patch(path, R"({"file_one":"test_d61b33QdDU.txt","text":"kept"})", kPbSuperuserToken);
  ASSERT_EQ(keep.status, 200) << keep.body;
  EXPECT_EQ(str_at(keep.json, "/file_one"), "test_d61b33QdDU.txt");
  auto clear = api.patch(path, R"({"file_one":""})", kPbSuperuserToken);
  ASSERT_EQ(clear.status, 200) << clear.body;
  EXPECT_EQ(str_at(clear.json, "/file_one"), "");
  // A name that is not already stored is an upload PocketBase cannot find.
  auto invented = api.patch(path, R"({"file_many+":"invented.txt"})", kPbSuperuserToken);
  ASSERT_EQ(invented.status, 400) << invented.body;
  EXPECT_EQ(str_at(invented.json, "/data/file_many/code"), "validation_invalid_file");
}

}  // namespace
}  // namespace plinth::test::data
