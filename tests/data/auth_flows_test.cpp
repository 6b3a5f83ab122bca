// Auth collections as PocketBase: auth-methods, identity fields, passwordAuth
// switched off, authRule, per-collection token durations, impersonate,
// oldPassword for owners and the manageRule for managers.

#include <ctime>

#include "data_support.hpp"

namespace plinth::test::data {
namespace {

const std::string kFailedAuth = R"({"data":{},"message":"Failed to authenticate.","status":400})";
const std::string kNeedsToken =
    R"({"data":{},"message":"The request requires valid record authorization token.","status":401})";
const std::string kForbidden =
    R"({"data":{},"message":"The authorized record is not allowed to perform this action.","status":403})";
const std::string kAuthRuleFailed =
    R"({"data":{},"message":"The request doesn't satisfy the collection requirements to authenticate.","status":403})";

std::int64_t now() {
  return static_cast<std::int64_t>(std::time(nullptr));
}

json::value user_body(std::string_view email, std::string_view password) {
  return json::object{{"email", email}, {"password", password}, {"passwordConfirm", password}};
}

class AuthFlows : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new SeededServer();
    // members: login by email or username, verified accounts only, 120 s tokens,
    // admins (role = 'admin') manage other members.
    create_collection(api(), su(), R"json({"name":"members","type":"auth",
      "fields":[{"name":"username","type":"text"},{"name":"role","type":"text"}],
      "indexes":["CREATE UNIQUE INDEX `idx_members_username` ON `members` (`username`)"],
      "listRule":"@request.auth.id != ''","viewRule":"@request.auth.id != ''",
      "createRule":"","updateRule":"@request.auth.id != ''","deleteRule":null,
      "authRule":"verified = true","manageRule":"@request.auth.role = 'admin'",
      "passwordAuth":{"enabled":true,"identityFields":["username","email","role"]},
      "authToken":{"duration":120}})json");
    create_collection(api(), su(), R"json({"name":"nologin","type":"auth","createRule":"",
      "passwordAuth":{"enabled":false,"identityFields":["email"]},"authRule":null})json");
    create_collection(api(), su(), R"json({"name":"posts","type":"base","fields":[]})json");
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  static const Api& api() { return server_->api(); }
  static const std::string& su() { return server_->token(); }
  static Reply password_login(std::string_view collection, std::string_view body) {
    return api().post("/api/collections/" + std::string(collection) + "/auth-with-password", body);
  }
  // Creates a member (verified when asked, through the superuser).
  static std::string member(std::string_view username, std::string_view email,
                            std::string_view password, bool verified, std::string_view role = "") {
    auto body = user_body(email, password).as_object();
    body["username"] = username;
    body["role"] = role;
    auto id = str_at(create_record(api(), "members", json::serialize(body)), "/id");
    if (verified) {
      auto r = api().patch(records_path("members", id), R"({"verified":true})", su());
      EXPECT_EQ(r.status, 200) << r.body;
    }
    return id;
  }
  static SeededServer* server_;
};
SeededServer* AuthFlows::server_ = nullptr;

TEST_F(AuthFlows, AuthMethodsShape) {
  struct Case {
    const char* collection;
    int status;
    std::string want;
  } cases[] = {
      {"users", 200,
       R"({"password":{"identityFields":["email"],"enabled":true},"oauth2":{"providers":[],"enabled":false},"mfa":{"enabled":false,"duration":0},"otp":{"enabled":false,"duration":0},"authProviders":null,"usernamePassword":false,"emailPassword":true})"},
      {"members", 200,
       R"({"password":{"identityFields":["username","email","role"],"enabled":true},"oauth2":{"providers":[],"enabled":false},"mfa":{"enabled":false,"duration":0},"otp":{"enabled":false,"duration":0},"authProviders":null,"usernamePassword":true,"emailPassword":true})"},
      {"nologin", 200,
       R"({"password":{"identityFields":[],"enabled":false},"oauth2":{"providers":[],"enabled":false},"mfa":{"enabled":false,"duration":0},"otp":{"enabled":false,"duration":0},"authProviders":null,"usernamePassword":false,"emailPassword":false})"},
      {"posts", 404,
       R"({"data":{},"message":"Missing or invalid auth collection context.","status":404})"},
      {"missing", 404,
       R"({"data":{},"message":"Missing or invalid auth collection context.","status":404})"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.collection);
    auto r = api().get("/api/collections/" + std::string(c.collection) + "/auth-methods");
    EXPECT_EQ(r.status, c.status);
    EXPECT_EQ(r.text(), c.want);
  }
}

TEST_F(AuthFlows, IdentityFieldsAndPasswordAuthSwitch) {
  auto id = member("ident_user", "ident@example.com", "ident-pass-1", true, "ident-role");
  struct Case {
    const char* name;
    const char* collection;
    std::string body;
    int status;
    std::string want;  // exact body for failures
  } cases[] = {
      {"by username", "members", R"({"identity":"ident_user","password":"ident-pass-1"})", 200, ""},
      {"by email", "members", R"({"identity":"ident@example.com","password":"ident-pass-1"})", 200,
       ""},
      {"explicit identityField", "members",
       R"({"identity":"ident_user","password":"ident-pass-1","identityField":"username"})", 200,
       ""},
      {"explicit field, other value", "members",
       R"({"identity":"ident@example.com","password":"ident-pass-1","identityField":"username"})",
       400, kFailedAuth},
      {"identity field without a unique index", "members",
       R"({"identity":"ident-role","password":"ident-pass-1"})", 400, kFailedAuth},
      {"explicit identity field without a unique index", "members",
       R"({"identity":"ident-role","password":"ident-pass-1","identityField":"role"})", 400,
       kFailedAuth},
      {"identityField not configured", "members",
       R"({"identity":"ident_user","password":"ident-pass-1","identityField":"name"})", 400,
       R"({"data":{"identityField":{"code":"validation_in_invalid","message":"Must be a valid value."}},"message":"An error occurred while validating the submitted data.","status":400})"},
      {"username on users (email only)", "users",
       R"({"identity":"ident_user","password":"ident-pass-1"})", 400, kFailedAuth},
      {"password auth disabled", "nologin", R"({"identity":"a@example.com","password":"x"})", 403,
       R"({"data":{},"message":"The collection is not configured to allow password authentication.","status":403})"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto r = password_login(c.collection, c.body);
    ASSERT_EQ(r.status, c.status) << r.body;
    if (c.status != 200) {
      EXPECT_EQ(r.text(), c.want);
      continue;
    }
    EXPECT_EQ(str_at(r.json, "/record/id"), id);
    EXPECT_EQ(str_at(r.json, "/record/username"), "ident_user");
  }
}

TEST_F(AuthFlows, AuthRuleAndTokenDuration) {
  auto id = member("unverified", "unverified@example.com", "unverified-1", false);
  auto body = R"({"identity":"unverified","password":"unverified-1"})";
  EXPECT_EQ(password_login("members", body).text(), kAuthRuleFailed);
  ASSERT_EQ(api().patch(records_path("members", id), R"({"verified":true})", su()).status, 200);
  auto ok = password_login("members", body);
  ASSERT_EQ(ok.status, 200) << ok.body;
  auto token = str_at(ok.json, "/token");
  EXPECT_NEAR(static_cast<double>(int_at(jwt_claims(token), "/exp") - now()), 120.0, 30.0)
      << "members.authToken.duration = 120";
  // auth-refresh checks the authRule again: unverified records lose access.
  ASSERT_EQ(api().post("/api/collections/members/auth-refresh", "", token).status, 200);
  ASSERT_EQ(api().patch(records_path("members", id), R"({"verified":false})", su()).status, 200);
  EXPECT_EQ(api().post("/api/collections/members/auth-refresh", "", token).text(), kAuthRuleFailed);
  // A null authRule admits nobody but superusers.
  auto nl =
      create_record(api(), "nologin", json::serialize(user_body("nl@example.com", "nl-pass-1")));
  auto imp = api().post("/api/collections/nologin/impersonate/" + str_at(nl, "/id"), "{}", su());
  ASSERT_EQ(imp.status, 200) << imp.body;
  EXPECT_EQ(
      api().post("/api/collections/nologin/auth-refresh", "", str_at(imp.json, "/token")).text(),
      kAuthRuleFailed);
}

TEST_F(AuthFlows, Impersonate) {
  auto target = create_record(api(), "users",
                              json::serialize(user_body("target@example.com", "target-pass-1")));
  auto id = str_at(target, "/id");
  auto user_token = login(api(), "users", "target@example.com", "target-pass-1");
  auto path = "/api/collections/users/impersonate/" + id;
  EXPECT_EQ(api().post(path, R"({"duration":60})").text(), kNeedsToken);
  EXPECT_EQ(api().post(path, R"({"duration":60})", user_token).text(), kForbidden);
  EXPECT_EQ(api().post("/api/collections/users/impersonate/nope", "{}", su()).status, 404);
  EXPECT_EQ(api().post("/api/collections/posts/impersonate/" + id, "{}", su()).status, 404);
  auto neg = api().post(path, R"({"duration":-1})", su());
  EXPECT_EQ(neg.status, 400);
  EXPECT_EQ(str_at(neg.json, "/data/duration/code"), "validation_min_greater_equal_than_required");
  EXPECT_EQ(api().post(path, R"({"duration":"soon"})", su()).status, 400);

  auto r = api().post(path, R"({"duration":60})", su());
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(str_at(r.json, "/record/id"), id);
  EXPECT_EQ(str_at(r.json, "/record/email"), "target@example.com");
  auto token = str_at(r.json, "/token");
  auto claims = jwt_claims(token);
  EXPECT_EQ(dump(at(claims, "/refreshable")), "false");
  EXPECT_NEAR(static_cast<double>(int_at(claims, "/exp") - now()), 60.0, 30.0);
  // The token acts as the user; auth-refresh hands the same token back.
  auto refreshed = api().post("/api/collections/users/auth-refresh", "", token);
  ASSERT_EQ(refreshed.status, 200) << refreshed.body;
  EXPECT_EQ(str_at(refreshed.json, "/token"), token);
  // duration 0 falls back to the collection's authToken duration (users: 604800).
  auto dflt = api().post(path, "{}", su());
  ASSERT_EQ(dflt.status, 200);
  EXPECT_NEAR(static_cast<double>(int_at(jwt_claims(str_at(dflt.json, "/token")), "/exp") - now()),
              604800.0, 60.0);
}

TEST_F(AuthFlows, OwnerPasswordChangeNeedsOldPassword) {
  auto rec = create_record(api(), "users",
                           json::serialize(user_body("owner@example.com", "owner-pass-1")));
  auto id = str_at(rec, "/id");
  auto token = login(api(), "users", "owner@example.com", "owner-pass-1");
  struct Case {
    const char* name;
    std::string body;
    std::string field, code;
  } cases[] = {
      {"missing oldPassword", R"({"password":"owner-pass-2","passwordConfirm":"owner-pass-2"})",
       "oldPassword", "validation_required"},
      {"wrong oldPassword",
       R"({"password":"owner-pass-2","passwordConfirm":"owner-pass-2","oldPassword":"nope-nope"})",
       "oldPassword", "validation_invalid_old_password"},
      {"email changed directly", R"({"email":"other@example.com"})", "email",
       "validation_values_mismatch"},
      {"verified set by the owner", R"({"verified":true})", "verified",
       "validation_values_mismatch"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto r = api().patch(records_path("users", id), c.body, token);
    ASSERT_EQ(r.status, 400) << r.body;
    EXPECT_EQ(str_at(r.json, "/data/" + c.field + "/code"), c.code) << r.body;
    EXPECT_EQ(api().post("/api/collections/users/auth-refresh", "", token).status, 200)
        << "a refused change keeps the token valid";
  }
  auto ok = api().patch(
      records_path("users", id),
      R"({"password":"owner-pass-2","passwordConfirm":"owner-pass-2","oldPassword":"owner-pass-1"})",
      token);
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(api().post("/api/collections/users/auth-refresh", "", token).text(), kNeedsToken)
      << "the password change regenerated tokenKey";
  login(api(), "users", "owner@example.com", "owner-pass-2");
  EXPECT_EQ(
      sqlite(server_->db_path(), "SELECT substr(password, 1, 31) FROM users WHERE id='" + id + "'"),
      "$argon2id$v=19$m=19456,t=2,p=1$")
      << "stored hashes are argon2id with OWASP parameters";
}

TEST_F(AuthFlows, ManageRuleLetsManagersChangeOthers) {
  auto admin = member("mgr_admin", "mgr-admin@example.com", "mgr-admin-1", true, "admin");
  auto plain = member("mgr_plain", "mgr-plain@example.com", "mgr-plain-1", true);
  auto victim = member("mgr_victim", "mgr-victim@example.com", "mgr-victim-1", true);
  auto admin_token = login(api(), "members", "mgr_admin", "mgr-admin-1");
  auto plain_token = login(api(), "members", "mgr_plain", "mgr-plain-1");
  auto change = R"({"password":"mgr-victim-2","passwordConfirm":"mgr-victim-2"})";

  auto refused = api().patch(records_path("members", victim), change, plain_token);
  ASSERT_EQ(refused.status, 400) << refused.body;
  EXPECT_EQ(str_at(refused.json, "/data/oldPassword/code"), "validation_required");
  EXPECT_EQ(
      api().patch(records_path("members", victim), R"({"verified":false})", plain_token).status,
      400);

  auto managed = api().patch(records_path("members", victim), change, admin_token);
  ASSERT_EQ(managed.status, 200) << managed.body;
  login(api(), "members", "mgr_victim", "mgr-victim-2");
  auto email =
      api().patch(records_path("members", victim), R"({"email":"moved@example.com"})", admin_token);
  ASSERT_EQ(email.status, 200) << email.body;
  EXPECT_EQ(str_at(email.json, "/email"), "moved@example.com");
  // Managers see emails on view and list; other members do not (emailVisibility is false).
  EXPECT_EQ(str_at(api().get(records_path("members", victim), admin_token).json, "/email"),
            "moved@example.com");
  EXPECT_EQ(str_at(api().get(records_path("members", victim), plain_token).json, "/email"), "");
  auto listed =
      api().get(records_path("members") + "?filter=" + "id%3D%27" + victim + "%27", admin_token);
  EXPECT_EQ(str_at(listed.json, "/items/0/email"), "moved@example.com") << listed.body;
  auto unverify =
      api().patch(records_path("members", victim), R"({"verified":false})", admin_token);
  ASSERT_EQ(unverify.status, 200) << unverify.body;
  EXPECT_EQ(dump(at(unverify.json, "/verified")), "false");
  (void)plain;
}

}  // namespace
}  // namespace plinth::test::data
