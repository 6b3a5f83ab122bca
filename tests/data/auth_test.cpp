// auth-with-password, auth-refresh, the Authorization header forms, token
// validity (signature, expiry) and tokenKey rotation on a password change.

#include <ctime>

#include "data_support.hpp"

namespace plinth::test::data {
namespace {

const std::string kFailedAuth = R"({"data":{},"message":"Failed to authenticate.","status":400})";
const std::string kNeedsToken =
    R"({"data":{},"message":"The request requires valid record authorization token.","status":401})";
const std::string kNotAuthCollection =
    R"({"data":{},"message":"Missing or invalid auth collection context.","status":404})";
constexpr std::string_view kJwtHeader = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9";

constexpr std::string_view kUserEmail = "member@example.com";
constexpr std::string_view kUserPassword = "member-pass-1";

class Auth : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new SeededServer();
    create_collection(server_->api(), server_->token(),
                      R"json({"name":"plain","listRule":"","viewRule":"","createRule":"",
                      "updateRule":"","deleteRule":"","fields":[{"name":"note","type":"text"}]})json");
    create_collection(server_->api(), server_->token(),
                      R"json({"name":"locked","fields":[{"name":"note","type":"text"}]})json");
    json::object u{
        {"email", kUserEmail}, {"password", kUserPassword}, {"passwordConfirm", kUserPassword}};
    user_id_ = str_at(create_record(server_->api(), "users", json::serialize(u)), "/id");
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  static const Api& api() { return server_->api(); }
  static const std::string& su() { return server_->token(); }
  static Reply auth(std::string_view collection, std::string_view body) {
    return api().post("/api/collections/" + std::string(collection) + "/auth-with-password", body);
  }
  // The signing key of a superuser's auth tokens: tokenKey + authToken.secret.
  static std::string superuser_signing_key(const std::string& id) {
    auto key = sqlite(server_->db_path(), "SELECT tokenKey FROM _superusers WHERE id='" + id + "'");
    auto secret = sqlite(server_->db_path(),
                         "SELECT json_extract(options,'$.authToken.secret') FROM _collections "
                         "WHERE name='_superusers'");
    return key + secret;
  }

  static SeededServer* server_;
  static std::string user_id_;
};
SeededServer* Auth::server_ = nullptr;
std::string Auth::user_id_;

TEST_F(Auth, AuthWithPasswordOutcomes) {
  struct Case {
    const char* name;
    const char* collection;
    std::string body;
    int status;
    std::string want;  // exact body for failures
  } cases[] = {
      {"superuser", "_superusers",
       R"({"identity":"admin@example.com","password":"admin-pass-123"})", 200, ""},
      {"regular user", "users", R"({"identity":"member@example.com","password":"member-pass-1"})",
       200, ""},
      {"collection by id", "_pb_users_auth_",
       R"({"identity":"member@example.com","password":"member-pass-1"})", 200, ""},
      {"wrong password", "_superusers",
       R"({"identity":"admin@example.com","password":"wrong-pass-123"})", 400, kFailedAuth},
      {"unknown identity", "_superusers",
       R"({"identity":"ghost@example.com","password":"admin-pass-123"})", 400, kFailedAuth},
      {"user in superusers", "_superusers",
       R"({"identity":"member@example.com","password":"member-pass-1"})", 400, kFailedAuth},
      {"empty identity", "_superusers", R"({"identity":"","password":"x"})", 400,
       R"({"data":{"identity":{"code":"validation_required","message":"Cannot be blank."}},"message":"An error occurred while validating the submitted data.","status":400})"},
      {"empty password", "_superusers", R"({"identity":"admin@example.com","password":""})", 400,
       R"({"data":{"password":{"code":"validation_required","message":"Cannot be blank."}},"message":"An error occurred while validating the submitted data.","status":400})"},
      {"empty body", "_superusers", "{}", 400,
       R"({"data":{"identity":{"code":"validation_required","message":"Cannot be blank."},"password":{"code":"validation_required","message":"Cannot be blank."}},"message":"An error occurred while validating the submitted data.","status":400})"},
      {"base collection", "plain", R"({"identity":"a@b.co","password":"12345678"})", 404,
       kNotAuthCollection},
      {"unknown collection", "nope", R"({"identity":"a@b.co","password":"12345678"})", 404,
       kNotAuthCollection},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto r = auth(c.collection, c.body);
    ASSERT_EQ(r.status, c.status) << r.body;
    if (c.status != 200) {
      EXPECT_EQ(r.text(), c.want);
      continue;
    }
    EXPECT_EQ(keys_of(r.json), (std::vector<std::string>{"record", "token"}));
    auto token = str_at(r.json, "/token");
    EXPECT_EQ(token.substr(0, kJwtHeader.size()), kJwtHeader);
    EXPECT_EQ(str_at(jwt_claims(token), "/id"), str_at(r.json, "/record/id"));
  }
}

TEST_F(Auth, SuccessfulLoginShape) {
  auto r = auth("_superusers", R"({"identity":"admin@example.com","password":"admin-pass-123"})");
  ASSERT_EQ(r.status, 200) << r.body;
  auto rec = at(r.json, "/record");
  EXPECT_EQ(keys_of(rec),
            (std::vector<std::string>{"collectionId", "collectionName", "created", "email",
                                      "emailVisibility", "id", "updated", "verified"}));
  EXPECT_EQ(str_at(rec, "/collectionId"), "pbc_3142635823");
  EXPECT_EQ(str_at(rec, "/collectionName"), "_superusers");
  EXPECT_EQ(str_at(rec, "/email"), "admin@example.com");
  EXPECT_EQ(dump(at(rec, "/verified")), "true");

  auto claims = jwt_claims(str_at(r.json, "/token"));
  EXPECT_EQ(keys_of(claims),
            (std::vector<std::string>{"collectionId", "exp", "id", "refreshable", "type"}));
  EXPECT_EQ(str_at(claims, "/collectionId"), "pbc_3142635823");
  EXPECT_EQ(str_at(claims, "/type"), "auth");
  EXPECT_EQ(dump(at(claims, "/refreshable")), "true");
  auto now = static_cast<std::int64_t>(std::time(nullptr));
  // Fresh installs give superuser tokens 86400 s (reference section 6, quirk 21).
  EXPECT_NEAR(static_cast<double>(int_at(claims, "/exp") - now), 86400.0, 60.0);

  // A regular user's login shows its email even with emailVisibility=false.
  auto u = auth("users", R"({"identity":"member@example.com","password":"member-pass-1"})");
  ASSERT_EQ(u.status, 200) << u.body;
  EXPECT_EQ(str_at(u.json, "/record/email"), kUserEmail);
  EXPECT_EQ(dump(at(u.json, "/record/emailVisibility")), "false");
  EXPECT_FALSE(has_key(at(u.json, "/record"), "password"));
  EXPECT_FALSE(has_key(at(u.json, "/record"), "tokenKey"));
}

TEST_F(Auth, AuthRefresh) {
  auto user_token = login(api(), "users", kUserEmail, kUserPassword);
  struct Case {
    const char* name;
    const char* collection;
    std::string token;
    int status;
  } cases[] = {
      {"superuser", "_superusers", su(), 200},
      {"user", "users", user_token, 200},
      {"no token", "_superusers", "", 401},
      {"garbage token", "users", "not-a-token", 401},
      {"user token on superusers", "_superusers", user_token, 403},
      {"superuser token on users", "users", su(), 403},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto r =
        api().post("/api/collections/" + std::string(c.collection) + "/auth-refresh", "", c.token);
    ASSERT_EQ(r.status, c.status) << r.body;
    if (c.status == 401) {
      EXPECT_EQ(r.text(), kNeedsToken);
    }
    if (c.status != 200) continue;
    auto fresh = str_at(r.json, "/token");
    EXPECT_FALSE(fresh.empty());
    EXPECT_EQ(str_at(r.json, "/record/id"), str_at(jwt_claims(c.token), "/id"));
    EXPECT_TRUE(has_key(at(r.json, "/record"), "email"));
    // The refreshed token is as good as the old one.
    EXPECT_EQ(
        api()
            .post("/api/collections/" + std::string(c.collection) + "/auth-refresh", "", fresh)
            .status,
        200);
  }
}

TEST_F(Auth, AuthorizationHeaderForms) {
  std::string tampered = su();
  tampered.back() = tampered.back() == 'A' ? 'B' : 'A';
  struct Case {
    const char* name;
    std::string header;
    int collections_status;  // GET /api/collections (superuser only)
    int locked_status;       // list of a null-rule collection
  } cases[] = {
      {"bare token", su(), 200, 200},
      {"Bearer prefix", "Bearer " + su(), 200, 200},
      {"lowercase bearer", "bearer " + su(), 200, 200},
      {"tampered signature is a guest", tampered, 401, 403},
      {"garbage is a guest", "garbage", 401, 403},
      {"Bearer alone is a guest", "Bearer ", 401, 403},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto r = api().get("/api/collections", c.header);
    EXPECT_EQ(r.status, c.collections_status) << r.body;
    auto l = api().get(records_path("locked"), c.header);
    EXPECT_EQ(l.status, c.locked_status) << l.body;
    auto p = api().get(records_path("plain"), c.header);
    EXPECT_EQ(p.status, 200) << "an invalid token never blocks public routes: " << p.body;
  }
}

TEST_F(Auth, TokenSignatureAndExpiry) {
  auto sid = str_at(jwt_claims(su()), "/id");
  auto key = superuser_signing_key(sid);
  ASSERT_GT(key.size(), 60u) << key;
  auto now = static_cast<std::int64_t>(std::time(nullptr));
  auto claims = [&](std::int64_t exp, std::string_view type = "auth") {
    json::object o{{"collectionId", "pbc_3142635823"},
                   {"exp", exp},
                   {"id", sid},
                   {"refreshable", true},
                   {"type", type}};
    return json::serialize(o);
  };
  struct Case {
    const char* name;
    std::string token;
    int status;
  } cases[] = {
      {"forged with the right key",
       sign_jwt(R"({"alg":"HS256","typ":"JWT"})", claims(now + 600), key), 200},
      {"minimal header accepted", sign_jwt(R"({"alg":"HS256"})", claims(now + 600), key), 200},
      {"expired", sign_jwt(R"({"alg":"HS256","typ":"JWT"})", claims(now - 10), key), 401},
      {"wrong key", sign_jwt(R"({"alg":"HS256","typ":"JWT"})", claims(now + 600), key + "x"), 401},
      {"non-auth token type",
       sign_jwt(R"({"alg":"HS256","typ":"JWT"})", claims(now + 600, "file"), key), 401},
      {"alg none",
       base64url_encode(R"({"alg":"none","typ":"JWT"})") + "." +
           base64url_encode(claims(now + 600)) + ".",
       401},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(api().get("/api/collections", c.token).status, c.status);
  }
}

TEST_F(Auth, PasswordChangeRotatesTokenKey) {
  json::object u{{"email", "rotate@example.com"},
                 {"password", "first-pass-1"},
                 {"passwordConfirm", "first-pass-1"}};
  auto id = str_at(create_record(api(), "users", json::serialize(u)), "/id");
  auto old_token = login(api(), "users", "rotate@example.com", "first-pass-1");
  ASSERT_EQ(api().post("/api/collections/users/auth-refresh", "", old_token).status, 200);

  // A mismatched confirmation changes nothing.
  auto bad = api().patch(records_path("users", id),
                         R"({"password":"second-pass-1","passwordConfirm":"other-pass-1"})", su());
  ASSERT_EQ(bad.status, 400) << bad.body;
  EXPECT_EQ(str_at(bad.json, "/data/passwordConfirm/code"), "validation_values_mismatch");
  EXPECT_EQ(api().post("/api/collections/users/auth-refresh", "", old_token).status, 200);

  // Other updates keep the tokens valid.
  auto rename = api().patch(records_path("users", id), R"({"name":"Renamed"})", su());
  ASSERT_EQ(rename.status, 200) << rename.body;
  EXPECT_EQ(api().post("/api/collections/users/auth-refresh", "", old_token).status, 200);

  auto ok = api().patch(records_path("users", id),
                        R"({"password":"second-pass-1","passwordConfirm":"second-pass-1"})", su());
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_FALSE(has_key(ok.json, "password"));
  EXPECT_FALSE(has_key(ok.json, "tokenKey"));
  EXPECT_EQ(api().post("/api/collections/users/auth-refresh", "", old_token).text(), kNeedsToken)
      << "the old token died with the old tokenKey";
  EXPECT_EQ(auth("users", R"({"identity":"rotate@example.com","password":"first-pass-1"})").text(),
            kFailedAuth);
  auto fresh = login(api(), "users", "rotate@example.com", "second-pass-1");
  EXPECT_EQ(api().post("/api/collections/users/auth-refresh", "", fresh).status, 200);
}

TEST_F(Auth, CollectionsApiNeedsASuperuser) {
  auto user_token = login(api(), "users", kUserEmail, kUserPassword);
  const std::string forbidden =
      R"({"data":{},"message":"The authorized record is not allowed to perform this action.","status":403})";
  struct Case {
    const char* method;
    const char* target;
    const char* body;
  } cases[] = {
      {"GET", "/api/collections", ""},
      {"GET", "/api/collections/users", ""},
      {"GET", "/api/collections/nope", ""},
      {"POST", "/api/collections", R"({"name":"sneaky","type":"base"})"},
      {"DELETE", "/api/collections/plain", ""},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string(c.method) + " " + c.target);
    EXPECT_EQ(api().send(c.method, c.target, c.body).text(), kNeedsToken);
    EXPECT_EQ(api().send(c.method, c.target, c.body, user_token).text(), forbidden);
  }
  EXPECT_EQ(api().get("/api/collections/sneaky", su()).status, 404) << "nothing was created";
  EXPECT_EQ(api().get("/api/collections/plain", su()).status, 200) << "nothing was deleted";
}

}  // namespace
}  // namespace plinth::test::data
