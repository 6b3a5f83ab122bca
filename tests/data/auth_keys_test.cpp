// API keys (create once-shown, hashed at rest, scoped, revocable, last use),
// the first-run setup token, and a sweep of every superuser-only endpoint.

#include <regex>

#include "data_support.hpp"

namespace plinth::test::data {
namespace {

const std::string kNeedsToken =
    R"({"data":{},"message":"The request requires valid record authorization token.","status":401})";
const std::string kForbidden =
    R"({"data":{},"message":"The authorized record is not allowed to perform this action.","status":403})";

std::string sha256_hex(const std::string& s) {
  std::string out;
  run_command("printf '%s' " + shell_quote(s) + " | sha256sum | cut -d' ' -f1", &out);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

class ApiKeys : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new SeededServer();
    create_collection(api(), su(),
                      R"json({"name":"locked","fields":[{"name":"note","type":"text"}]})json");
    create_collection(api(), su(),
                      R"json({"name":"other","fields":[{"name":"note","type":"text"}]})json");
    create_record(api(), "locked", R"({"note":"seed"})", su());
    create_record(api(), "other", R"({"note":"seed"})", su());
    json::object u{{"email", "keys-user@example.com"},
                   {"password", "keys-user-1"},
                   {"passwordConfirm", "keys-user-1"}};
    create_record(api(), "users", json::serialize(u));
    user_token_ = login(api(), "users", "keys-user@example.com", "keys-user-1");
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  static const Api& api() { return server_->api(); }
  static const std::string& su() { return server_->token(); }
  static std::string aux_db() { return server_->process().data_dir() + "/auxiliary.db"; }
  static json::value create_key(std::string_view body) {
    auto r = api().post("/api/plinth/api-keys", body, su());
    EXPECT_EQ(r.status, 200) << r.body;
    return r.json;
  }
  static SeededServer* server_;
  static std::string user_token_;
};
SeededServer* ApiKeys::server_ = nullptr;
std::string ApiKeys::user_token_;

TEST_F(ApiKeys, CreateShowsTheKeyOnceAndStoresADigest) {
  auto k = create_key(
      R"({"name":"ci reader","scopes":[{"collection":"locked","actions":["view","list","view"]}]})");
  auto key = str_at(k, "/key");
  ASSERT_EQ(key.size(), 47u) << key;
  EXPECT_EQ(key.substr(0, 4), "plk_");
  EXPECT_EQ(str_at(k, "/prefix"), key.substr(0, 12));
  EXPECT_EQ(str_at(k, "/name"), "ci reader");
  EXPECT_EQ(dump(at(k, "/scopes/0/actions")), R"(["list","view"])");
  EXPECT_EQ(str_at(k, "/scopes/0/collectionName"), "locked");
  EXPECT_EQ(str_at(k, "/lastUsed"), "");
  auto id = str_at(k, "/id");
  EXPECT_EQ(sqlite(aux_db(), "SELECT hash FROM _plinth_api_keys WHERE id='" + id + "'"),
            sha256_hex(key));
  EXPECT_EQ(sqlite(aux_db(), "SELECT count(*) FROM _plinth_api_keys WHERE hash LIKE '%" +
                                 key.substr(4) + "%' OR scopes LIKE '%" + key.substr(4) + "%'"),
            "0");
  auto list = api().get("/api/plinth/api-keys", su());
  ASSERT_EQ(list.status, 200);
  bool found = false;
  for (const auto& item : at(list.json, "/items").as_array()) {
    EXPECT_FALSE(has_key(item, "key"));
    EXPECT_FALSE(has_key(item, "hash"));
    found = found || str_at(item, "/id") == id;
  }
  EXPECT_TRUE(found);
  EXPECT_EQ(list.body.find(key.substr(4)), std::string::npos);
}

TEST_F(ApiKeys, InvalidRequestsChangeNothing) {
  auto before = sqlite(aux_db(), "SELECT count(*) FROM _plinth_api_keys");
  struct Case {
    const char* name;
    std::string body;
    std::string pointer;  // expected error location
  } cases[] = {
      {"no name", R"({"scopes":[{"collection":"locked","actions":["list"]}]})", "/data/name/code"},
      {"blank name", R"({"name":"  ","scopes":[{"collection":"locked","actions":["list"]}]})",
       "/data/name/code"},
      {"no scopes", R"({"name":"x"})", "/data/scopes/code"},
      {"empty scopes", R"({"name":"x","scopes":[]})", "/data/scopes/code"},
      {"unknown collection", R"({"name":"x","scopes":[{"collection":"nope","actions":["list"]}]})",
       "/data/scopes/0/collection/code"},
      {"unknown action", R"({"name":"x","scopes":[{"collection":"locked","actions":["drop"]}]})",
       "/data/scopes/0/actions/code"},
      {"no actions", R"({"name":"x","scopes":[{"collection":"locked","actions":[]}]})",
       "/data/scopes/0/actions/code"},
      {"collection twice",
       R"({"name":"x","scopes":[{"collection":"locked","actions":["list"]},{"collection":"locked","actions":["view"]}]})",
       "/data/scopes/1/collection/code"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto r = api().post("/api/plinth/api-keys", c.body, su());
    EXPECT_EQ(r.status, 400) << r.body;
    EXPECT_FALSE(str_at(r.json, c.pointer).empty()) << r.body;
  }
  EXPECT_EQ(api().post("/api/plinth/api-keys", "not json", su()).status, 400);
  EXPECT_EQ(sqlite(aux_db(), "SELECT count(*) FROM _plinth_api_keys"), before);
}

TEST_F(ApiKeys, ScopesDecideWhatAKeyMayDo) {
  auto k = create_key(
      R"({"name":"scoped","scopes":[{"collection":"locked","actions":["list","view","create"]}]})");
  auto key = str_at(k, "/key");
  auto rec_id = str_at(at(api().get(records_path("locked"), su()).json, "/items/0"), "/id");
  struct Case {
    const char* name;
    const char* method;
    std::string target, body;
    int status;
  } cases[] = {
      {"list in scope", "GET", records_path("locked"), "", 200},
      {"view in scope", "GET", records_path("locked", rec_id), "", 200},
      {"create in scope", "POST", records_path("locked"), R"({"note":"by key"})", 200},
      {"update out of scope", "PATCH", records_path("locked", rec_id), R"({"note":"x"})", 403},
      {"delete out of scope", "DELETE", records_path("locked", rec_id), "", 403},
      {"other collection", "GET", records_path("other"), "", 403},
      {"collections API", "GET", "/api/collections", "", 403},
      {"settings", "GET", "/api/settings", "", 403},
      {"keys API", "GET", "/api/plinth/api-keys", "", 403},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    for (const std::string& header : {"Bearer " + key, key}) {
      auto r = api().send(c.method, c.target, c.body, header);
      EXPECT_EQ(r.status, c.status) << r.body;
    }
  }
  EXPECT_EQ(api().get(records_path("locked", rec_id), su()).status, 200) << "not deleted";
  // A batch is checked per operation against the same scopes: all or nothing.
  ASSERT_EQ(api().patch("/api/settings", R"({"batch":{"enabled":true}})", su()).status, 200);
  auto before = at(api().get(records_path("locked"), su()).json, "/totalItems").as_int64();
  auto batch = api().post(
      "/api/batch",
      R"({"requests":[{"method":"POST","url":"/api/collections/locked/records","body":{"note":"b"}},{"method":"POST","url":"/api/collections/other/records","body":{"note":"b"}}]})",
      "Bearer " + key);
  EXPECT_EQ(batch.status, 400) << batch.body;
  EXPECT_EQ(at(api().get(records_path("locked"), su()).json, "/totalItems").as_int64(), before);
  // Using the key recorded when it was last used.
  EXPECT_NE(
      sqlite(aux_db(), "SELECT lastUsed FROM _plinth_api_keys WHERE id='" + str_at(k, "/id") + "'"),
      "");
}

TEST_F(ApiKeys, RevokedKeysStopWorking) {
  auto k =
      create_key(R"({"name":"short-lived","scopes":[{"collection":"other","actions":["list"]}]})");
  auto key = str_at(k, "/key"), id = str_at(k, "/id");
  ASSERT_EQ(api().get(records_path("other"), "Bearer " + key).status, 200);
  EXPECT_EQ(api().del("/api/plinth/api-keys/" + id, user_token_).status, 403);
  EXPECT_EQ(api().del("/api/plinth/api-keys/" + id, "Bearer " + key).status, 403);
  EXPECT_EQ(api().del("/api/plinth/api-keys/" + id, su()).status, 204);
  EXPECT_EQ(api().get(records_path("other"), "Bearer " + key).status, 403);
  EXPECT_EQ(api().del("/api/plinth/api-keys/" + id, su()).status, 404);
  auto forged = "plk_" + std::string(43, 'A');
  EXPECT_EQ(api().get(records_path("other"), "Bearer " + forged).status, 403);
  auto events =
      sqlite(aux_db(), "SELECT group_concat(event) FROM _plinth_audit WHERE detail LIKE '%" + id +
                           "%' OR actor = 'apikey/" + id + "'");
  EXPECT_EQ(events, "apikey_create,apikey_use,apikey_revoke");
}

TEST_F(ApiKeys, EverySuperuserEndpointRefusesOthers) {
  auto key = str_at(
      create_key(
          R"({"name":"sweep","scopes":[{"collection":"users","actions":["list","view","create","update","delete"]}]})"),
      "/key");
  auto uid = str_at(jwt_claims(user_token_), "/id");
  struct Case {
    const char* method;
    std::string target, body;
  } cases[] = {
      {"GET", "/api/collections", ""},
      {"POST", "/api/collections", R"({"name":"sneaky","type":"base"})"},
      {"GET", "/api/collections/users", ""},
      {"PATCH", "/api/collections/other", R"({"name":"renamed"})"},
      {"DELETE", "/api/collections/other", ""},
      {"PUT", "/api/collections/import", R"({"collections":[],"deleteMissing":true})"},
      {"DELETE", "/api/collections/other/truncate", ""},
      {"GET", "/api/settings", ""},
      {"PATCH", "/api/settings", R"({"meta":{"appName":"pwned"}})"},
      {"POST", "/api/collections/users/impersonate/" + uid, "{}"},
      {"GET", "/api/plinth/api-keys", ""},
      {"POST", "/api/plinth/api-keys",
       R"({"name":"x","scopes":[{"collection":"other","actions":["list"]}]})"},
      {"DELETE", "/api/plinth/api-keys/whatever", ""},
      {"GET", "/api/plinth/audit", ""},
  };
  auto keys_before = sqlite(aux_db(), "SELECT count(*) FROM _plinth_api_keys");
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string(c.method) + " " + c.target);
    EXPECT_EQ(api().send(c.method, c.target, c.body).text(), kNeedsToken);
    EXPECT_EQ(api().send(c.method, c.target, c.body, user_token_).text(), kForbidden);
    EXPECT_EQ(api().send(c.method, c.target, c.body, "Bearer " + key).status, 403);
  }
  EXPECT_EQ(api().get("/api/collections/sneaky", su()).status, 404);
  EXPECT_EQ(api().get("/api/collections/other", su()).status, 200);
  EXPECT_EQ(at(api().get(records_path("other"), su()).json, "/totalItems").as_int64(), 1);
  EXPECT_NE(str_at(api().get("/api/settings", su()).json, "/meta/appName"), "pwned");
  EXPECT_EQ(sqlite(aux_db(), "SELECT count(*) FROM _plinth_api_keys"), keys_before);
  // The superuser gets through each of the read-only ones.
  for (const char* t :
       {"/api/collections", "/api/settings", "/api/plinth/api-keys", "/api/plinth/audit"})
    EXPECT_EQ(api().get(t, su()).status, 200) << t;
}

TEST(FirstRun, SetupTokenCreatesTheFirstSuperuserOnce) {
  ServerProcess server;
  Api api(server.port());
  ASSERT_TRUE(server.wait_for_log("no superuser yet", std::chrono::seconds(10)));
  std::string line;
  for (const auto& l : server.log_lines()) {
    if (l.find("no superuser yet") != std::string::npos) line = l;
  }
  auto logged = parse(line);
  EXPECT_NE(str_at(logged, "/msg").find("plinth superuser upsert EMAIL PASSWORD"),
            std::string::npos)
      << line;
  auto url = str_at(logged, "/setupUrl");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(url, m, std::regex("/api/plinth/setup\\?token=([A-Za-z0-9]{43})$")))
      << line;
  std::string token = m[1];
  auto count = [&] {
    return sqlite(server.data_dir() + "/data.db", "SELECT count(*) FROM _superusers");
  };
  auto body = [&](std::string_view tok, std::string_view email) {
    json::object o{{"token", tok},
                   {"email", email},
                   {"password", "first-admin-1"},
                   {"passwordConfirm", "first-admin-1"}};
    return json::serialize(o);
  };
  EXPECT_EQ(api.post("/api/plinth/setup", body(token + "x", "first@example.com")).status, 400);
  EXPECT_EQ(api.post("/api/plinth/setup", body("", "first@example.com")).status, 400);
  EXPECT_EQ(count(), "0");
  auto bad = api.post("/api/plinth/setup", body(token, "not-an-email"));
  EXPECT_EQ(bad.status, 400);
  EXPECT_FALSE(str_at(bad.json, "/data/email/code").empty()) << bad.body;
  EXPECT_EQ(count(), "0");
  auto ok = api.post(
      "/api/plinth/setup?token=" + token,
      R"({"email":"first@example.com","password":"first-admin-1","passwordConfirm":"first-admin-1"})");
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(api.get("/api/collections", str_at(ok.json, "/token")).status, 200);
  EXPECT_EQ(count(), "1");
  EXPECT_EQ(api.post("/api/plinth/setup", body(token, "second@example.com")).status, 400);
  EXPECT_EQ(count(), "1");
  login(api, "_superusers", "first@example.com", "first-admin-1");
}

}  // namespace
}  // namespace plinth::test::data
