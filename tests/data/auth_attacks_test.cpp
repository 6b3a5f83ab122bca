// Attacks on auth: forged and broken JWTs, password guessing (throttling with
// exponential backoff per account and per IP), and what the audit trail and
// the server's output keep (events, never a password or token).

#include <ctime>
#include <thread>

#include "data_support.hpp"

namespace plinth::test::data {
namespace {

const std::string kNeedsToken =
    R"({"data":{},"message":"The request requires valid record authorization token.","status":401})";

std::int64_t now() {
  return static_cast<std::int64_t>(std::time(nullptr));
}

json::value user_body(std::string_view email, std::string_view password) {
  return json::object{{"email", email}, {"password", password}, {"passwordConfirm", password}};
}

std::string signing_key(const std::string& db, std::string_view table, std::string_view id,
                        std::string_view option = "authToken") {
  auto key = sqlite(
      db, "SELECT tokenKey FROM " + std::string(table) + " WHERE id='" + std::string(id) + "'");
  auto secret =
      sqlite(db, "SELECT json_extract(options,'$." + std::string(option) +
                     ".secret') FROM _collections WHERE name='" + std::string(table) + "'");
  return key + secret;
}

std::string claims(std::string_view id, std::string_view collection_id, std::int64_t exp,
                   json::object extra = {}) {
  json::object o{{"collectionId", collection_id},
                 {"exp", exp},
                 {"id", id},
                 {"refreshable", true},
                 {"type", "auth"}};
  for (auto& kv : extra) o[kv.key()] = kv.value();
  return json::serialize(o);
}

std::string unsigned_token(std::string_view header, std::string_view payload,
                           std::string_view sig = "") {
  return base64url_encode(header) + "." + base64url_encode(payload) + "." + std::string(sig);
}

// Runs the server with stderr joined to stdout so a test can read everything it printed.
std::unique_ptr<ServerProcess> start_joined(const std::string& data_dir,
                                            std::vector<std::string> extra = {}) {
  ServerProcess::Launch l;
  l.data_dir = data_dir;
  l.extra_args = std::move(extra);
  l.wrapper = {"sh", "-c", "exec \"$0\" \"$@\" 2>&1"};
  return std::make_unique<ServerProcess>(l);
}

TEST(AuthJwt, AccountFlowTokensGetTheSameHeaderChecks) {
  // Verification and password-reset tokens go through the same verifier as auth tokens: a
  // key-selecting header is refused even when the signature under the real key holds.
  SeededServer server;
  const auto& api = server.api();
  const std::string db = server.db_path();
  auto user =
      create_record(api, "users", json::serialize(user_body("flow@example.com", "flow-pass-1")));
  auto uid = str_at(user, "/id"), cid = str_at(user, "/collectionId");
  struct Flow {
    const char* type;
    const char* option;
    const char* route;
    json::object body_extra;
  };
  for (const auto& f : {Flow{"verification", "verificationToken", "confirm-verification", {}},
                        Flow{"passwordReset",
                             "passwordResetToken",
                             "confirm-password-reset",
                             {{"password", "flow-pass-2"}, {"passwordConfirm", "flow-pass-2"}}}}) {
    auto key = signing_key(db, "users", uid, f.option);
    json::object c{{"collectionId", cid},
                   {"email", "flow@example.com"},
                   {"exp", now() + 600},
                   {"id", uid},
                   {"type", f.type}};
    auto payload = json::serialize(c);
    for (const char* header :
         {R"({"alg":"HS256","typ":"JWT","kid":"1"})",
          R"({"alg":"HS256","jwk":{"kty":"oct","k":"AA"}})", R"({"alg":"HS256","crit":["b64"]})"}) {
      json::object body = f.body_extra;
      body["token"] = sign_jwt(header, payload, key);
      auto r = api.post("/api/collections/users/" + std::string(f.route), json::serialize(body));
      EXPECT_EQ(r.status, 400) << f.route << " " << header << " " << r.body;
      EXPECT_NE(r.body.find("validation_invalid_token"), std::string::npos) << r.body;
    }
    // The same claims under a plain header are accepted: the refusal is the header's.
    json::object body = f.body_extra;
    body["token"] = sign_jwt(R"({"alg":"HS256","typ":"JWT"})", payload, key);
    EXPECT_EQ(
        api.post("/api/collections/users/" + std::string(f.route), json::serialize(body)).status,
        204)
        << f.route;
  }
}

TEST(AuthJwt, ForgedAndBrokenTokensAreRefused) {
  SeededServer server;
  const auto& api = server.api();
  const std::string db = server.db_path();
  auto user =
      create_record(api, "users", json::serialize(user_body("jwt@example.com", "jwt-pass-1")));
  auto other =
      create_record(api, "users", json::serialize(user_body("jwt2@example.com", "jwt-pass-2")));
  auto uid = str_at(user, "/id"), oid = str_at(other, "/id");
  auto users_cid = str_at(user, "/collectionId");
  auto su_id = str_at(jwt_claims(server.token()), "/id");
  const std::string su_cid = "pbc_3142635823";
  auto user_key = signing_key(db, "users", uid);
  auto su_key = signing_key(db, "_superusers", su_id);
  const std::string hs = R"({"alg":"HS256","typ":"JWT"})";
  auto live = claims(uid, users_cid, now() + 600);
  auto good = sign_jwt(hs, live, user_key);
  ASSERT_EQ(api.post("/api/collections/users/auth-refresh", "", good).status, 200)
      << "control: a correctly signed token works";
  ASSERT_EQ(
      api.get("/api/collections", sign_jwt(hs, claims(su_id, su_cid, now() + 600), su_key)).status,
      200);

  // A token issued before a password change.
  auto before_change = login(api, "users", "jwt2@example.com", "jwt-pass-2");
  ASSERT_EQ(api.patch(records_path("users", oid),
                      R"({"password":"jwt-pass-3","passwordConfirm":"jwt-pass-3"})", server.token())
                .status,
            200);

  auto edited = good;  // payload swapped to another user's id, signature kept
  {
    auto a = good.find('.'), b = good.rfind('.');
    edited = good.substr(0, a + 1) + base64url_encode(claims(oid, users_cid, now() + 600)) +
             good.substr(b);
  }
  std::string truncated = good.substr(0, good.size() - 3);
  std::string no_sig = good.substr(0, good.rfind('.') + 1);
  struct Case {
    std::string name;
    std::string token;
  };
  std::vector<Case> cases;
  for (const char* alg : {"none", "None", "NONE", "nOnE", "NoNe"}) {
    std::string h = std::string(R"({"alg":")") + alg + R"(","typ":"JWT"})";
    cases.push_back({std::string("alg ") + alg + ", empty signature", unsigned_token(h, live)});
    cases.push_back({std::string("alg ") + alg + ", HS256 signature", sign_jwt(h, live, user_key)});
  }
  std::vector<Case> more = {
      {"HS256 with a wrong key", sign_jwt(hs, live, user_key + "x")},
      {"HS256 keyed by the secret alone",
       sign_jwt(hs, live, user_key.substr(user_key.size() - 50))},
      {"HS384 header", sign_jwt(R"({"alg":"HS384","typ":"JWT"})", live, user_key)},
      {"RS256 header", sign_jwt(R"({"alg":"RS256","typ":"JWT"})", live, user_key)},
      {"payload edited without re-signing", edited},
      {"expired exp", sign_jwt(hs, claims(uid, users_cid, now() - 5), user_key)},
      {"exp missing", sign_jwt(hs,
                               R"({"collectionId":")" + users_cid + R"(","id":")" + uid +
                                   R"(","refreshable":true,"type":"auth"})",
                               user_key)},
      {"exp as text", sign_jwt(hs, claims(uid, users_cid, 0, {{"exp", "9999999999"}}), user_key)},
      {"future nbf",
       sign_jwt(hs, claims(uid, users_cid, now() + 600, {{"nbf", now() + 300}}), user_key)},
      {"nbf as text", sign_jwt(hs, claims(uid, users_cid, now() + 600, {{"nbf", "0"}}), user_key)},
      {"collectionId of _superusers, user id",
       sign_jwt(hs, claims(uid, su_cid, now() + 600), user_key)},
      {"collectionId of _superusers, superuser id, user key",
       sign_jwt(hs, claims(su_id, su_cid, now() + 600), user_key)},
      {"type verification",
       sign_jwt(hs, claims(uid, users_cid, now() + 600, {{"type", "verification"}}), user_key)},
      {"type file",
       sign_jwt(hs, claims(uid, users_cid, now() + 600, {{"type", "file"}}), user_key)},
      {"issued before a password change", before_change},
      {"kid header", sign_jwt(R"({"alg":"HS256","typ":"JWT","kid":"1"})", live, user_key)},
      {"jwk header",
       sign_jwt(R"({"alg":"HS256","typ":"JWT","jwk":{"kty":"oct","k":"AAAA"}})", live, user_key)},
      {"jku header",
       sign_jwt(R"({"alg":"HS256","typ":"JWT","jku":"http://127.0.0.1:1/k"})", live, user_key)},
      {"x5u header", sign_jwt(R"({"alg":"HS256","x5u":"http://127.0.0.1:1/c"})", live, user_key)},
      {"crit header", sign_jwt(R"({"alg":"HS256","typ":"JWT","crit":["exp"]})", live, user_key)},
      {"typ other than JWT", sign_jwt(R"({"alg":"HS256","typ":"JWE"})", live, user_key)},
      {"header not an object", sign_jwt(R"(["HS256"])", live, user_key)},
      {"payload not an object", sign_jwt(hs, R"("auth")", user_key)},
      {"truncated", truncated},
      {"signature removed", no_sig},
      {"two parts", good.substr(0, good.rfind('.'))},
      {"four parts", good + ".x"},
      {"garbage", "garbage"},
      {"dots only", ".."},
      {"padding added", good + "=="},
      {"empty", ""},
  };
  cases.insert(cases.end(), more.begin(), more.end());
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    for (const std::string& header : {c.token, "Bearer " + c.token}) {
      auto r = api.post("/api/collections/users/auth-refresh", "", header);
      EXPECT_EQ(r.status, 401) << r.body;
      if (r.status == 401) {
        EXPECT_EQ(r.text(), kNeedsToken);
      }
    }
  }
  // Superuser-forged variants against a superuser-only endpoint.
  auto su_live = claims(su_id, su_cid, now() + 600);
  std::vector<Case> su_cases = {
      {"alg none", unsigned_token(R"({"alg":"none","typ":"JWT"})", su_live)},
      {"wrong key", sign_jwt(hs, su_live, su_key + "x")},
      {"expired", sign_jwt(hs, claims(su_id, su_cid, now() - 1), su_key)},
      {"future nbf",
       sign_jwt(hs, claims(su_id, su_cid, now() + 600, {{"nbf", now() + 60}}), su_key)},
      {"kid", sign_jwt(R"({"alg":"HS256","kid":"x"})", su_live, su_key)},
      {"user token relabelled", sign_jwt(hs, claims(uid, su_cid, now() + 600), su_key)},
  };
  for (const auto& c : su_cases) {
    SCOPED_TRACE("superuser " + c.name);
    EXPECT_EQ(api.get("/api/collections", c.token).text(), kNeedsToken);
    EXPECT_EQ(api.get("/api/collections", "Bearer " + c.token).text(), kNeedsToken);
  }
}

TEST(AuthThrottle, RepeatedWrongPasswordsBackOffWithoutLockingOthersOut) {
  SeededServer server({"--login-backoff", "1s", "--login-free-failures", "5"});
  const auto& api = server.api();
  create_record(api, "users", json::serialize(user_body("victim@example.com", "victim-pass-1")));
  create_record(api, "users", json::serialize(user_body("bystander@example.com", "bystander-1")));
  auto attempt = [&](std::string_view email, std::string_view password) {
    json::object body{{"identity", email}, {"password", password}};
    return api.post("/api/collections/users/auth-with-password", json::serialize(body));
  };
  int attempts = 0;
  Reply throttled;
  for (; attempts < 40; ++attempts) {
    auto r = attempt("victim@example.com", "guess-" + std::to_string(attempts));
    if (r.status == 429) {
      throttled = r;
      break;
    }
    ASSERT_EQ(r.status, 400) << r.body;
  }
  ASSERT_EQ(throttled.status, 429) << "no throttling within 40 wrong passwords";
  EXPECT_LE(attempts, 10);
  EXPECT_EQ(
      throttled.text(),
      R"({"data":{},"message":"Too many failed login attempts. Try again later.","status":429})");
  auto retry = std::stoi(throttled.header("Retry-After"));
  EXPECT_GE(retry, 1);
  // While blocked, even the right password is refused (no oracle)...
  EXPECT_EQ(attempt("VICTIM@example.com", "victim-pass-1").status, 429)
      << "the account key ignores the identity's case";
  for (int i = 0; i < 5; ++i) EXPECT_EQ(attempt("victim@example.com", "flood").status, 429);
  EXPECT_EQ(sqlite(server.process().data_dir() + "/auxiliary.db",
                   "SELECT count(*) FROM _plinth_audit WHERE event='login_throttled'"),
            "1")
      << "a flood against one block is audited once";
  // ...and another account logs in meanwhile.
  EXPECT_EQ(attempt("bystander@example.com", "bystander-1").status, 200);
  // After the backoff, the owner gets in, which clears the account's count.
  std::this_thread::sleep_for(std::chrono::seconds(retry) + std::chrono::milliseconds(200));
  EXPECT_EQ(attempt("victim@example.com", "victim-pass-1").status, 200);
  EXPECT_EQ(attempt("victim@example.com", "wrong-again").status, 400) << "counting starts over";

  // The backoff doubles: more failures after the free ones need longer waits.
  for (int i = 0; i < 5; ++i) attempt("victim@example.com", "wrong-" + std::to_string(i));
  auto first = attempt("victim@example.com", "wrong-x");
  ASSERT_EQ(first.status, 429);
  std::this_thread::sleep_for(std::chrono::seconds(std::stoi(first.header("Retry-After"))) +
                              std::chrono::milliseconds(200));
  EXPECT_EQ(attempt("victim@example.com", "wrong-y").status, 400);
  auto second = attempt("victim@example.com", "wrong-z");
  ASSERT_EQ(second.status, 429);
  EXPECT_GT(std::stoi(second.header("Retry-After")), 1);
}

TEST(AuthThrottle, ManyAccountsFromOneIpAreThrottledPerIp) {
  SeededServer server({"--login-ip-free-failures", "8", "--login-backoff", "5s"});
  const auto& api = server.api();
  int status = 0, attempts = 0;
  for (; attempts < 40 && status != 429; ++attempts) {
    json::object body{{"identity", "spray" + std::to_string(attempts) + "@example.com"},
                      {"password", "Password1"}};
    status = api.post("/api/collections/users/auth-with-password", json::serialize(body)).status;
  }
  EXPECT_EQ(status, 429) << "a password spray across accounts is throttled per IP";
  EXPECT_LE(attempts, 10);
}

TEST(AuthAudit, EventsAreRecordedAndNoSecretLeaks) {
  // The seeded superuser's password is known to the test, so it is included in the grep.
  TempDir seed;
  std::string dir = seed.path() + "/data";
  std::string out;
  ASSERT_EQ(run_command(plinth_binary() + " superuser upsert audit-admin@example.com " +
                            "Adm1n-Secret-Pw --dir " + shell_quote(dir) + " 2>&1",
                        &out),
            0)
      << out;
  auto server = start_joined(dir);
  Api api(server->port());
  std::vector<std::string> secrets{"Adm1n-Secret-Pw", "Us3r-Secret-Pw", "Us3r-Secret-Pw2",
                                   "Wr0ng-Secret-Pw"};
  auto su = login(api, "_superusers", "audit-admin@example.com", "Adm1n-Secret-Pw");
  secrets.push_back(su);
  auto rec = create_record(api, "users",
                           json::serialize(user_body("audited@example.com", "Us3r-Secret-Pw")));
  auto id = str_at(rec, "/id");
  auto bad = api.post("/api/collections/users/auth-with-password",
                      R"({"identity":"audited@example.com","password":"Wr0ng-Secret-Pw"})");
  EXPECT_EQ(bad.status, 400);
  auto user = login(api, "users", "audited@example.com", "Us3r-Secret-Pw");
  secrets.push_back(user);
  auto refreshed = api.post("/api/collections/users/auth-refresh", "", user);
  ASSERT_EQ(refreshed.status, 200);
  secrets.push_back(str_at(refreshed.json, "/token"));
  // A second refresh within the minute is served but not audited again.
  auto again = api.post("/api/collections/users/auth-refresh", "", user);
  ASSERT_EQ(again.status, 200);
  secrets.push_back(str_at(again.json, "/token"));
  auto imp = api.post("/api/collections/users/impersonate/" + id, R"({"duration":30})", su);
  ASSERT_EQ(imp.status, 200);
  secrets.push_back(str_at(imp.json, "/token"));
  auto change = api.patch(
      records_path("users", id),
      R"({"password":"Us3r-Secret-Pw2","passwordConfirm":"Us3r-Secret-Pw2","oldPassword":"Us3r-Secret-Pw"})",
      user);
  ASSERT_EQ(change.status, 200) << change.body;
  // A password typed into the identity box names no account: only its digest is kept.
  EXPECT_EQ(api.post("/api/collections/users/auth-with-password",
                     R"({"identity":"Typ3d-Secret-Pw","password":"whatever-1"})")
                .status,
            400);
  secrets.push_back("Typ3d-Secret-Pw");

  std::string aux = dir + "/auxiliary.db";
  auto events = sqlite(aux,
                       "SELECT group_concat(event, ',') FROM (SELECT event FROM _plinth_audit "
                       "ORDER BY created, rowid)");
  EXPECT_EQ(events, "login,login_failed,login,refresh,impersonate,password_change,login_failed");
  EXPECT_EQ(sqlite(aux, "SELECT actor FROM _plinth_audit WHERE event='impersonate'"),
            "_superusers/" + str_at(jwt_claims(su), "/id"));
  EXPECT_EQ(sqlite(aux, "SELECT recordId FROM _plinth_audit WHERE event='password_change'"), id);
  EXPECT_EQ(sqlite(aux, "SELECT actor FROM _plinth_audit WHERE event='refresh'"), "users/" + id);
  std::string digest;
  run_command("printf '%s' Typ3d-Secret-Pw | sha256sum | cut -c1-16", &digest);
  digest.pop_back();
  EXPECT_EQ(sqlite(aux,
                   "SELECT group_concat(json_extract(detail,'$.identity')) FROM _plinth_audit "
                   "WHERE event='login_failed'"),
            "audited@example.com,sha256:" + digest);
  ASSERT_TRUE(server->wait_for_log("\"event\":\"password_change\"", std::chrono::seconds(5)));

  server->signal(SIGTERM);
  server->wait_exit(std::chrono::seconds(10));
  std::string everything;
  for (const auto& line : server->log_lines()) everything += line + "\n";
  everything += sqlite(aux, "SELECT * FROM _plinth_audit");
  EXPECT_NE(everything.find("auth event"), std::string::npos);
  for (const auto& s : secrets) {
    ASSERT_FALSE(s.empty());
    EXPECT_EQ(everything.find(s), std::string::npos) << "leaked: " << s;
    // A token's signature alone must not appear either.
    auto sig = s.substr(s.rfind('.') + 1);
    if (sig.size() > 20) {
      EXPECT_EQ(everything.find(sig), std::string::npos);
    }
  }
}

}  // namespace
}  // namespace plinth::test::data

namespace plinth::test::data {
namespace {

TEST(AuthAudit, RowsOlderThanTheRetentionArePruned) {
  TempDir seed;
  std::string dir = seed.path() + "/data";
  ASSERT_EQ(
      run_command(plinth_binary() + " superuser upsert prune@example.com prune-pass-1 --dir " +
                  shell_quote(dir) + " >/dev/null 2>&1"),
      0);
  {
    ServerProcess::Launch l;
    l.data_dir = dir;
    ServerProcess first(l);
    Api api(first.port());
    login(api, "_superusers", "prune@example.com", "prune-pass-1");
  }
  std::string aux = dir + "/auxiliary.db";
  sqlite(aux,
         "INSERT INTO _plinth_audit (id, created, event) VALUES "
         "('old1', '2000-01-01 00:00:00.000Z', 'login'), ('old2', '2020-06-01 10:00:00.000Z', "
         "'login')");
  ASSERT_EQ(sqlite(aux, "SELECT count(*) FROM _plinth_audit"), "3");
  ServerProcess::Launch l;
  l.data_dir = dir;
  l.extra_args = {"--audit-retention", "24h"};
  ServerProcess second(l);
  EXPECT_EQ(sqlite(aux, "SELECT group_concat(id) FROM _plinth_audit WHERE id LIKE 'old%'"), "");
  EXPECT_EQ(sqlite(aux, "SELECT count(*) FROM _plinth_audit WHERE event = 'login'"), "1")
      << "the recent login stays";
}

}  // namespace
}  // namespace plinth::test::data
