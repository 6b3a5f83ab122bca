// Mail-based account flows end to end against the real binary: SMTP settings
// point at a test SMTP sink, each flow is requested over HTTP, the mail is read
// from the sink, and the token or code in it is followed. Also bad, expired and
// reused tokens, OTP limits, no enumeration, and delivery after the SMTP
// server comes up late.

#include <csignal>
#include <regex>
#include <thread>

#include "data_support.hpp"
#include "smtp_sink.hpp"

namespace plinth::test::data {
namespace {

constexpr auto kMailWait = std::chrono::seconds(15);
const std::string kValidation = "An error occurred while validating the submitted data.";

std::string smtp_settings(std::uint16_t port) {
  json::object s{
      {"smtp", {{"enabled", true}, {"host", "127.0.0.1"}, {"port", port}, {"tls", false}}},
      {"meta",
       {{"appName", "Plinth Test"},
        {"appURL", "http://app.test"},
        {"senderName", "Plinth"},
        {"senderAddress", "noreply@plinth.test"}}}};
  return json::serialize(s);
}

// The JWT that follows `marker` in the mail's decoded body.
std::string token_after(const SinkMessage& m, std::string_view marker) {
  auto body = m.decoded_body();
  auto p = body.find(marker);
  if (p == std::string::npos) return {};
  p += marker.size();
  auto e = body.find_first_not_of(
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.", p);
  return body.substr(p, e - p);
}

std::string code_in(const SinkMessage& m) {
  std::smatch match;
  std::string body = m.decoded_body();
  static const std::regex kCode("<strong>([0-9]+)</strong>");
  return std::regex_search(body, match, kCode) ? match[1].str() : std::string();
}

std::string field_code(const Reply& r, std::string_view field) {
  return str_at(r.json, "/data/" + std::string(field) + "/code");
}

class Mail : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    sink_ = new SmtpSink();
    // Quick retries keep the delivery-after-failure tests short.
    server_ = new SeededServer({"--mail-retry-base", "200ms", "--mail-retry-max", "1s"});
    auto r = server_->api().patch("/api/settings", smtp_settings(sink_->port()), server_->token());
    ASSERT_EQ(r.status, 200) << r.body;
    // An auth collection with OTP on and its own templates.
    create_collection(server_->api(), server_->token(), R"json({
      "name":"members","type":"auth","createRule":"","viewRule":"id = @request.auth.id",
      "fields":[{"name":"name","type":"text"}],
      "otp":{"enabled":true,"duration":180,"length":6,
             "emailTemplate":{"subject":"{APP_NAME} code for {RECORD:name}",
                              "body":"<p>Your code: <strong>{OTP}</strong> ({OTP_ID})</p>"}},
      "verificationTemplate":{"subject":"Members: verify {RECORD:email}",
                              "body":"<p><a href=\"{APP_URL}/verify/{TOKEN}\">Verify</a></p>"}
    })json");
  }
  static void TearDownTestSuite() {
    delete server_;
    delete sink_;
    server_ = nullptr;
    sink_ = nullptr;
  }
  static const Api& api() { return server_->api(); }
  static const std::string& su() { return server_->token(); }
  static SmtpSink& sink() { return *sink_; }

  static std::string create_user(std::string_view collection, std::string_view email,
                                 std::string_view password = "initial-pass-1") {
    json::object u{{"email", email},
                   {"password", password},
                   {"passwordConfirm", password},
                   {"name", "Name of " + std::string(email)}};
    return str_at(create_record(api(), collection, json::serialize(u)), "/id");
  }
  static Reply post(std::string_view collection, std::string_view action, const json::object& body,
                    std::string_view token = {}) {
    return api().post("/api/collections/" + std::string(collection) + "/" + std::string(action),
                      json::serialize(body), token);
  }
  static json::value record(std::string_view collection, const std::string& id) {
    return api().get(records_path(collection, id), su()).json;
  }
  // Outbox rows addressed to `to` (GET /api/plinth/mail).
  static std::vector<json::value> outbox_rows(std::string_view to) {
    auto r = api().get("/api/plinth/mail", su());
    EXPECT_EQ(r.status, 200) << r.body;
    std::vector<json::value> out;
    for (const auto& item : at(r.json, "/items").as_array()) {
      if (str_at(item, "/recipients") == to) out.push_back(item);
    }
    return out;
  }
  static std::string key_of(const std::string& table, const std::string& id,
                            const std::string& option) {
    return sqlite(server_->db_path(), "SELECT tokenKey FROM " + table + " WHERE id='" + id + "'") +
           sqlite(server_->db_path(), "SELECT json_extract(options,'$." + option +
                                          ".secret') FROM _collections WHERE name='" + table + "'");
  }

  static SmtpSink* sink_;
  static SeededServer* server_;
};
SmtpSink* Mail::sink_ = nullptr;
SeededServer* Mail::server_ = nullptr;

TEST_F(Mail, VerificationFlowFollowsTheLinkInTheMail) {
  auto id = create_user("users", "verify-me@example.com");
  EXPECT_FALSE(at(record("users", id), "/verified").as_bool());
  auto r = post("users", "request-verification", {{"email", "verify-me@example.com"}});
  EXPECT_EQ(r.status, 204) << r.body;
  EXPECT_EQ(r.body, "");
  auto m = sink().wait_for("verify-me@example.com", kMailWait);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->from, "noreply@plinth.test");
  EXPECT_EQ(m->header("From"), "\"Plinth\" <noreply@plinth.test>");
  EXPECT_EQ(m->header("Subject"), "Verify your Plinth Test email");
  auto token = token_after(*m, "http://app.test/_/#/auth/confirm-verification/");
  ASSERT_FALSE(token.empty()) << m->decoded_body();
  auto claims = jwt_claims(token);
  EXPECT_EQ(str_at(claims, "/type"), "verification");
  EXPECT_EQ(str_at(claims, "/email"), "verify-me@example.com");
  EXPECT_EQ(str_at(claims, "/id"), id);
  EXPECT_EQ(str_at(claims, "/collectionId"), "_pb_users_auth_");

  r = post("users", "confirm-verification", {{"token", token}});
  EXPECT_EQ(r.status, 204) << r.body;
  EXPECT_TRUE(at(record("users", id), "/verified").as_bool());
  // Again: already verified, nothing changes (PocketBase answers 204).
  EXPECT_EQ(post("users", "confirm-verification", {{"token", token}}).status, 204);
  // A verified account gets no further verification mail.
  auto before = outbox_rows("verify-me@example.com").size();
  EXPECT_EQ(post("users", "request-verification", {{"email", "verify-me@example.com"}}).status,
            204);
  EXPECT_EQ(outbox_rows("verify-me@example.com").size(), before);
}

TEST_F(Mail, CollectionTemplatesAreHonoured) {
  create_user("members", "templated@example.com");
  EXPECT_EQ(post("members", "request-verification", {{"email", "templated@example.com"}}).status,
            204);
  auto m = sink().wait_for("templated@example.com", kMailWait);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->header("Subject"), "Members: verify templated@example.com");
  auto token = token_after(*m, "http://app.test/verify/");
  ASSERT_FALSE(token.empty()) << m->decoded_body();
  EXPECT_EQ(post("members", "confirm-verification", {{"token", token}}).status, 204);
  // The token belongs to `members`: `users` refuses it.
  auto r = post("users", "confirm-verification", {{"token", token}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(field_code(r, "token"), "validation_token_collection_mismatch") << r.body;
}

TEST_F(Mail, RequestsDoNotRevealWhichEmailsExist) {
  create_user("users", "exists@example.com");
  for (const char* action : {"request-verification", "request-password-reset"}) {
    auto known = post("users", action, {{"email", "exists@example.com"}});
    auto unknown = post("users", action, {{"email", "nobody-here@example.com"}});
    EXPECT_EQ(known.status, 204) << action;
    EXPECT_EQ(unknown.status, 204) << action;
    EXPECT_EQ(known.body, unknown.body) << action;
  }
  auto otp = post("members", "request-otp", {{"email", "nobody-here@example.com"}});
  EXPECT_EQ(otp.status, 200);
  EXPECT_EQ(str_at(otp.json, "/otpId").size(), 15U);
  EXPECT_EQ(keys_of(otp.json), std::vector<std::string>{"otpId"});
  // ... and it leads nowhere.
  auto auth = post("members", "auth-with-otp",
                   {{"otpId", str_at(otp.json, "/otpId")}, {"password", "123456"}});
  EXPECT_EQ(auth.status, 400);
  EXPECT_TRUE(outbox_rows("nobody-here@example.com").empty());
}

TEST_F(Mail, BadInputGetsValidationErrors) {
  struct Case {
    const char* name;
    const char* collection;
    const char* action;
    std::string body;
    int status;
    std::string field, code;
  } cases[] = {
      {"missing email", "users", "request-verification", "{}", 400, "email", "validation_required"},
      {"bad email", "users", "request-password-reset", R"({"email":"not-an-email"})", 400, "email",
       "validation_is_email"},
      {"missing token", "users", "confirm-verification", "{}", 400, "token", "validation_required"},
      {"garbage token", "users", "confirm-verification", R"({"token":"abc.def.ghi"})", 400, "token",
       "validation_invalid_token_claims"},
      {"garbage reset token", "users", "confirm-password-reset",
       R"({"token":"x","password":"new-pass-123","passwordConfirm":"new-pass-123"})", 400, "token",
       "validation_invalid_token"},
      {"missing otp id", "members", "auth-with-otp", R"({"password":"1"})", 400, "otpId",
       "validation_required"},
      {"email change token without newEmail", "users", "confirm-email-change",
       R"({"token":"a.b.c","password":"x"})", 400, "token", "validation_invalid_token_payload"},
  };
  for (const auto& c : cases) {
    auto r = api().post("/api/collections/" + std::string(c.collection) + "/" + c.action, c.body);
    EXPECT_EQ(r.status, c.status) << c.name << ": " << r.body;
    EXPECT_EQ(str_at(r.json, "/message"), kValidation) << c.name;
    EXPECT_EQ(field_code(r, c.field), c.code) << c.name << ": " << r.body;
  }
  // Not JSON at all.
  auto r = api().post("/api/collections/users/request-verification", "{nope");
  EXPECT_EQ(r.status, 400);
  // Not an auth collection.
  EXPECT_EQ(api().post("/api/collections/nope/request-verification", "{}").status, 404);
  // Superusers are verified by default.
  r = post("_superusers", "request-verification", {{"email", "admin@example.com"}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(str_at(r.json, "/message"), "All superusers are verified by default.");
  // OTP is off on users.
  r = post("users", "request-otp", {{"email", "x@example.com"}});
  EXPECT_EQ(r.status, 403);
}

TEST_F(Mail, PasswordResetWorksOnceAndSignsOldSessionsOut) {
  auto id = create_user("users", "reset-me@example.com", "old-pass-123");
  auto old_session = login(api(), "users", "reset-me@example.com", "old-pass-123");
  EXPECT_EQ(post("users", "request-password-reset", {{"email", "reset-me@example.com"}}).status,
            204);
  auto m = sink().wait_for("reset-me@example.com", kMailWait);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->header("Subject"), "Reset your Plinth Test password");
  auto token = token_after(*m, "/_/#/auth/confirm-password-reset/");
  ASSERT_FALSE(token.empty());
  EXPECT_EQ(str_at(jwt_claims(token), "/type"), "passwordReset");

  auto r = post("users", "confirm-password-reset",
                {{"token", token}, {"password", "new-pass-456"}, {"passwordConfirm", "other"}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(field_code(r, "passwordConfirm"), "validation_values_mismatch") << r.body;
  // The failed attempt changed nothing: the old password still works.
  login(api(), "users", "reset-me@example.com", "old-pass-123");

  r = post("users", "confirm-password-reset",
           {{"token", token}, {"password", "new-pass-456"}, {"passwordConfirm", "new-pass-456"}});
  EXPECT_EQ(r.status, 204) << r.body;
  login(api(), "users", "reset-me@example.com", "new-pass-456");
  auto old = api().post("/api/collections/users/auth-with-password",
                        R"({"identity":"reset-me@example.com","password":"old-pass-123"})");
  EXPECT_EQ(old.status, 400);
  EXPECT_EQ(api().post("/api/collections/users/auth-refresh", "", old_session).status, 401)
      << "sessions from before the reset are revoked";
  // The mailed token proved the address: the account is verified now.
  EXPECT_TRUE(at(record("users", id), "/verified").as_bool());
  // Reused: refused.
  r = post(
      "users", "confirm-password-reset",
      {{"token", token}, {"password", "third-pass-789"}, {"passwordConfirm", "third-pass-789"}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(field_code(r, "token"), "validation_invalid_token");
  login(api(), "users", "reset-me@example.com", "new-pass-456");
  // Neither the mailed token nor the passwords reach the server's log.
  for (const auto& line : server_->process().log_lines()) {
    for (const std::string& secret :
         {token, std::string("new-pass-456"), std::string("old-pass-123")})
      EXPECT_EQ(line.find(secret), std::string::npos) << line;
  }
}

TEST_F(Mail, ConcurrentUsesOfOneTokenOrCodeSucceedOnce) {
  create_user("users", "race-reset@example.com");
  EXPECT_EQ(post("users", "request-password-reset", {{"email", "race-reset@example.com"}}).status,
            204);
  auto m = sink().wait_for("race-reset@example.com", kMailWait);
  ASSERT_TRUE(m);
  auto token = token_after(*m, "/_/#/auth/confirm-password-reset/");
  create_user("members", "race-otp@example.com");
  auto otp_id =
      str_at(post("members", "request-otp", {{"email", "race-otp@example.com"}}).json, "/otpId");
  auto otp_mail = sink().wait_for("race-otp@example.com", kMailWait);
  ASSERT_TRUE(otp_mail);
  auto code = code_in(*otp_mail);

  constexpr int kRacers = 4;
  std::vector<int> reset_status(kRacers), otp_status(kRacers);
  std::vector<std::thread> threads;
  for (int i = 0; i < kRacers; ++i) {
    threads.emplace_back([&, i] {
      std::string pw = "racer-pass-" + std::to_string(i);
      reset_status[i] = post("users", "confirm-password-reset",
                             {{"token", token}, {"password", pw}, {"passwordConfirm", pw}})
                            .status;
    });
    threads.emplace_back([&, i] {
      otp_status[i] =
          post("members", "auth-with-otp", {{"otpId", otp_id}, {"password", code}}).status;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(std::count(reset_status.begin(), reset_status.end(), 204), 1);
  EXPECT_EQ(std::count(reset_status.begin(), reset_status.end(), 400), kRacers - 1);
  EXPECT_EQ(std::count(otp_status.begin(), otp_status.end(), 200), 1);
  EXPECT_EQ(std::count(otp_status.begin(), otp_status.end(), 400), kRacers - 1);
}

TEST_F(Mail, RepeatedRequestsAreHeldByTheResendGuard) {
  create_user("users", "impatient@example.com");
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(post("users", "request-password-reset", {{"email", "impatient@example.com"}}).status,
              204);
  }
  EXPECT_EQ(outbox_rows("impatient@example.com").size(), 1U);
}

TEST_F(Mail, ConcurrentRequestsQueueOneMail) {
  create_user("users", "stampede@example.com");
  constexpr int kRacers = 8;
  std::vector<int> status(kRacers);
  std::vector<std::thread> threads;
  for (int i = 0; i < kRacers; ++i) {
    threads.emplace_back([&, i] {
      status[i] =
          post("users", "request-password-reset", {{"email", "stampede@example.com"}}).status;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(std::count(status.begin(), status.end(), 204), kRacers);
  EXPECT_EQ(outbox_rows("stampede@example.com").size(), 1U)
      << "the resend guard is checked and set in one step";
}

TEST_F(Mail, ExpiredAndForgedTokensAreRefused) {
  auto id = create_user("users", "forged@example.com");
  auto key = key_of("users", id, "verificationToken");
  auto now = static_cast<std::int64_t>(std::time(nullptr));
  auto claims = [&](std::int64_t exp, std::string type) {
    return json::serialize(json::object{{"collectionId", "_pb_users_auth_"},
                                        {"email", "forged@example.com"},
                                        {"exp", exp},
                                        {"id", id},
                                        {"type", type}});
  };
  const std::string header = R"({"alg":"HS256","typ":"JWT"})";
  const std::string kInvalid = "validation_invalid_token";
  struct Case {
    const char* name;
    std::string token;
    std::string code;
  } cases[] = {
      {"expired", sign_jwt(header, claims(now - 10, "verification"), key), kInvalid},
      {"wrong key", sign_jwt(header, claims(now + 600, "verification"), key + "x"), kInvalid},
      {"wrong type", sign_jwt(header, claims(now + 600, "passwordReset"), key), kInvalid},
      {"alg none",
       base64url_encode(R"({"alg":"none","typ":"JWT"})") + "." +
           base64url_encode(claims(now + 600, "verification")) + ".",
       kInvalid},
      // An auth token has no email claim (PocketBase's first check).
      {"auth token", login(api(), "users", "forged@example.com", "initial-pass-1"),
       "validation_invalid_token_claims"},
  };
  for (const auto& c : cases) {
    auto r = post("users", "confirm-verification", {{"token", c.token}});
    EXPECT_EQ(r.status, 400) << c.name;
    EXPECT_EQ(field_code(r, "token"), c.code) << c.name << ": " << r.body;
  }
  EXPECT_FALSE(at(record("users", id), "/verified").as_bool());
  // The same claims, live and signed with the right key, do verify.
  auto good = sign_jwt(header, claims(now + 600, "verification"), key);
  EXPECT_EQ(post("users", "confirm-verification", {{"token", good}}).status, 204);
  EXPECT_TRUE(at(record("users", id), "/verified").as_bool());
}

TEST_F(Mail, EmailChangeNeedsTheTokenAndThePassword) {
  auto id = create_user("users", "before@example.com", "change-pass-1");
  auto session = login(api(), "users", "before@example.com", "change-pass-1");
  auto r = post("users", "request-email-change", {{"newEmail", "after@example.com"}});
  EXPECT_EQ(r.status, 401);
  r = post("users", "request-email-change", {{"newEmail", "before@example.com"}}, session);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(field_code(r, "newEmail"), "validation_not_in_invalid");
  create_user("users", "taken@example.com");
  r = post("users", "request-email-change", {{"newEmail", "taken@example.com"}}, session);
  EXPECT_EQ(field_code(r, "newEmail"), "validation_invalid_new_email");
  r = post("users", "request-email-change", {{"newEmail", "after@example.com"}}, session);
  EXPECT_EQ(r.status, 204) << r.body;

  auto m = sink().wait_for("after@example.com", kMailWait);
  ASSERT_TRUE(m) << "the confirmation goes to the new address";
  auto token = token_after(*m, "/_/#/auth/confirm-email-change/");
  ASSERT_FALSE(token.empty());
  EXPECT_EQ(str_at(jwt_claims(token), "/newEmail"), "after@example.com");

  r = post("users", "confirm-email-change", {{"token", token}, {"password", "wrong-pass"}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(field_code(r, "password"), "validation_invalid_password");
  EXPECT_EQ(str_at(record("users", id), "/email"), "before@example.com");

  r = post("users", "confirm-email-change", {{"token", token}, {"password", "change-pass-1"}});
  EXPECT_EQ(r.status, 204) << r.body;
  auto rec = record("users", id);
  EXPECT_EQ(str_at(rec, "/email"), "after@example.com");
  EXPECT_TRUE(at(rec, "/verified").as_bool());
  login(api(), "users", "after@example.com", "change-pass-1");
  EXPECT_EQ(api().post("/api/collections/users/auth-refresh", "", session).status, 401)
      << "the email change renews the tokenKey";
  r = post("users", "confirm-email-change", {{"token", token}, {"password", "change-pass-1"}});
  EXPECT_EQ(r.status, 400) << "used once";
}

TEST_F(Mail, OtpFlowFromMailToToken) {
  auto id = create_user("members", "otp-user@example.com");
  auto r = post("members", "request-otp", {{"email", "otp-user@example.com"}});
  ASSERT_EQ(r.status, 200) << r.body;
  auto otp_id = str_at(r.json, "/otpId");
  auto stored = sqlite(server_->db_path(), "SELECT password FROM _otps WHERE id='" + otp_id + "'");
  EXPECT_EQ(stored.rfind("$argon2id$", 0), 0U) << "the code is stored hashed";
  EXPECT_EQ(sqlite(server_->db_path(), "SELECT sentTo FROM _otps WHERE id='" + otp_id + "'"),
            "otp-user@example.com");

  auto m = sink().wait_for("otp-user@example.com", kMailWait);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->header("Subject"), "Plinth Test code for Name of otp-user@example.com");
  auto code = code_in(*m);
  ASSERT_EQ(code.size(), 6U) << m->decoded_body();
  EXPECT_NE(m->decoded_body().find("(" + otp_id + ")"), std::string::npos);

  std::string wrong = code == "000000" ? "111111" : "000000";
  r = post("members", "auth-with-otp", {{"otpId", otp_id}, {"password", wrong}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(str_at(r.json, "/message"), "Invalid or expired OTP");

  r = post("members", "auth-with-otp", {{"otpId", otp_id}, {"password", code}});
  ASSERT_EQ(r.status, 200) << r.body;
  auto token = str_at(r.json, "/token");
  EXPECT_EQ(str_at(r.json, "/record/id"), id);
  EXPECT_TRUE(at(r.json, "/record/verified").as_bool()) << "the code proved the address";
  EXPECT_EQ(api().post("/api/collections/members/auth-refresh", "", token).status, 200);
  // Used once.
  r = post("members", "auth-with-otp", {{"otpId", otp_id}, {"password", code}});
  EXPECT_EQ(r.status, 400);
  // The code never reaches the server's log.
  for (const auto& line : server_->process().log_lines())
    EXPECT_EQ(line.find(code), std::string::npos) << line;
}

TEST_F(Mail, OtpAttemptsAreLimited) {
  create_user("members", "otp-limit@example.com");
  auto r = post("members", "request-otp", {{"email", "otp-limit@example.com"}});
  auto otp_id = str_at(r.json, "/otpId");
  auto m = sink().wait_for("otp-limit@example.com", kMailWait);
  ASSERT_TRUE(m);
  auto code = code_in(*m);
  std::string wrong = code == "000000" ? "111111" : "000000";
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(post("members", "auth-with-otp", {{"otpId", otp_id}, {"password", wrong}}).status,
              400)
        << "attempt " << i + 1;
  }
  r = post("members", "auth-with-otp", {{"otpId", otp_id}, {"password", code}});
  EXPECT_EQ(r.status, 429) << r.body;
  EXPECT_EQ(str_at(r.json, "/message"),
            "Too many attempts, please try again later with a new OTP.");
}

TEST_F(Mail, ExpiredOtpIsRefused) {
  create_user("members", "otp-late@example.com");
  auto r = post("members", "request-otp", {{"email", "otp-late@example.com"}});
  auto otp_id = str_at(r.json, "/otpId");
  auto m = sink().wait_for("otp-late@example.com", kMailWait);
  ASSERT_TRUE(m);
  // Backdate the OTP beyond its 180 s lifetime (waiting out the server's writer if busy).
  EXPECT_EQ(sqlite(server_->db_path(),
                   "PRAGMA busy_timeout = 5000; UPDATE _otps SET created = "
                   "'2020-01-01 00:00:00.000Z' WHERE id = '" +
                       otp_id + "'; SELECT changes()"),
            "5000\n1");
  r = post("members", "auth-with-otp", {{"otpId", otp_id}, {"password", code_in(*m)}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(str_at(r.json, "/message"), "Invalid or expired OTP");
}

TEST_F(Mail, MailIsDeliveredOnceTheSmtpServerComesUp) {
  auto port = SmtpSink::free_port();
  ASSERT_EQ(api().patch("/api/settings", smtp_settings(port), su()).status, 200);
  create_user("users", "patient@example.com");
  EXPECT_EQ(post("users", "request-password-reset", {{"email", "patient@example.com"}}).status,
            204);
  // The first attempt fails (nothing listens) and is recorded for a retry.
  std::vector<json::value> rows;
  for (int i = 0; i < 100; ++i) {
    rows = outbox_rows("patient@example.com");
    if (!rows.empty() && int_at(rows[0], "/attempts") >= 1) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(rows.size(), 1U);
  EXPECT_EQ(str_at(rows[0], "/status"), "pending");
  EXPECT_GE(int_at(rows[0], "/attempts"), 1);
  EXPECT_FALSE(str_at(rows[0], "/lastError").empty());

  SmtpSink late(port);
  auto m = late.wait_for("patient@example.com", std::chrono::seconds(30));
  ASSERT_TRUE(m) << "delivered by a retry";
  EXPECT_FALSE(token_after(*m, "/_/#/auth/confirm-password-reset/").empty());
  for (int i = 0; i < 50; ++i) {
    rows = outbox_rows("patient@example.com");
    if (str_at(rows[0], "/status") == "sent") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(str_at(rows[0], "/status"), "sent");
  EXPECT_GE(int_at(rows[0], "/attempts"), 2);
  ASSERT_EQ(api().patch("/api/settings", smtp_settings(sink().port()), su()).status, 200);
}

TEST(MailGivingUp, AMailIsMarkedFailedAfterMaxAttemptsAndLogged) {
  SeededServer server({"--mail-retry-base", "100ms", "--mail-max-attempts", "2"});
  const auto& api = server.api();
  ASSERT_EQ(api.patch("/api/settings", smtp_settings(SmtpSink::free_port()), server.token()).status,
            200);
  create_record(
      api, "users",
      R"({"email":"doomed@example.com","password":"doomed-pass-1","passwordConfirm":"doomed-pass-1"})");
  EXPECT_EQ(
      api.post("/api/collections/users/request-verification", R"({"email":"doomed@example.com"})")
          .status,
      204);
  json::value row;
  for (int i = 0; i < 100; ++i) {
    auto r = api.get("/api/plinth/mail", server.token());
    row = at(r.json, "/items/0");
    if (str_at(row, "/status") == "failed") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(str_at(row, "/status"), "failed");
  EXPECT_EQ(int_at(row, "/attempts"), 2);
  EXPECT_EQ(str_at(row, "/recipients"), "doomed@example.com");
  EXPECT_TRUE(server.process().wait_for_log("mail not sent; giving up", std::chrono::seconds(5)));
  auto r = api.get("/api/plinth/mail", server.token());
  EXPECT_EQ(int_at(r.json, "/givenUp"), 1);
  EXPECT_EQ(int_at(r.json, "/pending"), 0);
}

TEST_F(Mail, MailQueuedWhileSmtpIsDisabledLeavesOnceEnabled) {
  ASSERT_EQ(api().patch("/api/settings", R"({"smtp":{"enabled":false}})", su()).status, 200);
  create_user("users", "held@example.com");
  EXPECT_EQ(post("users", "request-verification", {{"email", "held@example.com"}}).status, 204);
  // Several sender passes (one a second) go by; the row is left alone.
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  auto rows = outbox_rows("held@example.com");
  ASSERT_EQ(rows.size(), 1U);
  EXPECT_EQ(str_at(rows[0], "/status"), "pending");
  EXPECT_EQ(int_at(rows[0], "/attempts"), 0) << "no attempt is counted while SMTP is off";
  EXPECT_EQ(str_at(rows[0], "/lastError"), "");
  EXPECT_EQ(sink().count_to("held@example.com"), 0U);
  ASSERT_EQ(api().patch("/api/settings", smtp_settings(sink().port()), su()).status, 200);
  auto m = sink().wait_for("held@example.com", std::chrono::seconds(30));
  ASSERT_TRUE(m);
  EXPECT_FALSE(token_after(*m, "/_/#/auth/confirm-verification/").empty());
}

TEST_F(Mail, OtpRequestsBeyondTheLimitReuseTheNewest) {
  auto id = create_user("members", "otp-many@example.com");
  std::vector<std::string> ids;
  for (int i = 0; i < 11; ++i) {
    auto r = post("members", "request-otp", {{"email", "otp-many@example.com"}});
    ASSERT_EQ(r.status, 200) << r.body;
    ids.push_back(str_at(r.json, "/otpId"));
  }
  EXPECT_EQ(sqlite(server_->db_path(), "SELECT count(*) FROM _otps WHERE recordRef='" + id + "'"),
            "10");
  EXPECT_EQ(ids[10], ids[9]) << "the 11th request gets the newest OTP again, without a new mail";
  EXPECT_NE(ids[9], ids[8]);
}

TEST_F(Mail, EmailChangeRequiresAnAuthRecordOfThatCollection) {
  create_user("members", "member-change@example.com");
  auto member = login(api(), "members", "member-change@example.com", "initial-pass-1");
  auto r = post("users", "request-email-change", {{"newEmail", "elsewhere@example.com"}}, member);
  EXPECT_EQ(r.status, 403) << r.body;
  r = post("_superusers", "request-email-change", {{"newEmail", "x@example.com"}}, su());
  EXPECT_EQ(r.status, 400);
  EXPECT_TRUE(outbox_rows("elsewhere@example.com").empty());
}

TEST_F(Mail, TestEmailRendersEachTemplate) {
  struct Case {
    const char* templ;
    std::string subject;
  } cases[] = {
      {"verification", "Members: verify test-verification@example.com"},
      {"password-reset", "Reset your Plinth Test password"},
      {"email-change", "Confirm your Plinth Test new email address"},
      {"otp", "Plinth Test code for __pb_test_name__"},
      {"login-alert", "Login from a new location"},
  };
  for (const auto& c : cases) {
    std::string to = "test-" + std::string(c.templ) + "@example.com";
    json::object body{{"email", to}, {"template", c.templ}, {"collection", "members"}};
    auto r = api().post("/api/settings/test/email", json::serialize(body), su());
    EXPECT_EQ(r.status, 204) << c.templ << ": " << r.body;
    auto m = sink().wait_for(to, kMailWait);
    ASSERT_TRUE(m) << c.templ;
    EXPECT_EQ(m->header("Subject"), c.subject) << c.templ;
  }
  auto otp = sink().wait_for("test-otp@example.com", kMailWait);
  EXPECT_EQ(code_in(*otp), "123456");
}

TEST_F(Mail, TestEmailRefusesBadInputAndReportsSmtpFailures) {
  struct Case {
    const char* name;
    std::string body;
    std::string field, code;
  } cases[] = {
      {"no template", R"({"email":"a@example.com"})", "template", "validation_required"},
      {"unknown template", R"({"email":"a@example.com","template":"nope"})", "template",
       "validation_in_invalid"},
      {"bad email", R"({"email":"nope","template":"otp"})", "email", "validation_is_email"},
      {"not an auth collection", R"({"email":"a@example.com","template":"otp","collection":"x"})",
       "collection", "validation_invalid_auth_collection"},
  };
  for (const auto& c : cases) {
    auto r = api().post("/api/settings/test/email", c.body, su());
    EXPECT_EQ(r.status, 400) << c.name;
    EXPECT_EQ(str_at(r.json, "/message"), "Failed to send the test email.") << c.name;
    EXPECT_EQ(field_code(r, c.field), c.code) << c.name << ": " << r.body;
  }
  const std::string ok = R"({"email":"a@example.com","template":"otp"})";
  EXPECT_EQ(api().post("/api/settings/test/email", ok).status, 401);
  create_user("users", "not-admin@example.com");
  auto user = login(api(), "users", "not-admin@example.com", "initial-pass-1");
  EXPECT_EQ(api().post("/api/settings/test/email", ok, user).status, 403);

  ASSERT_EQ(api().patch("/api/settings", smtp_settings(SmtpSink::free_port()), su()).status, 200);
  auto r = api().post("/api/settings/test/email", ok, su());
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(str_at(r.json, "/message").rfind("Failed to send the test email. Raw error:", 0), 0U)
      << r.body;
  ASSERT_EQ(api().patch("/api/settings", smtp_settings(sink().port()), su()).status, 200);
}

TEST_F(Mail, SmtpSettingsAreValidated) {
  struct Case {
    const char* name;
    const char* body;
    const char* field;
    const char* code;
  } cases[] = {
      {"enabled without host", R"({"smtp":{"enabled":true,"host":""}})", "host",
       "validation_required"},
      {"host with spaces", R"({"smtp":{"host":"smtp example.com"}})", "host", "validation_is_host"},
      {"unknown auth method", R"({"smtp":{"authMethod":"CRAM-MD5"}})", "authMethod",
       "validation_in_invalid"},
      {"negative port", R"({"smtp":{"port":-1}})", "port",
       "validation_min_greater_equal_than_required"},
  };
  auto before = api().get("/api/settings", su()).body;
  for (const auto& c : cases) {
    auto r = api().patch("/api/settings", c.body, su());
    EXPECT_EQ(r.status, 400) << c.name;
    EXPECT_EQ(str_at(r.json, "/data/smtp/" + std::string(c.field) + "/code"), c.code)
        << c.name << ": " << r.body;
  }
  EXPECT_EQ(api().get("/api/settings", su()).body, before) << "refused changes change nothing";
}

TEST_F(Mail, AuthOptionsCanBeChangedOnAnExistingCollection) {
  auto secret_before = sqlite(server_->db_path(),
                              "SELECT json_extract(options,'$.authToken.secret') FROM _collections "
                              "WHERE name='users'");
  // Objects merge: only `enabled` changes, duration, length and template stay.
  auto r = api().patch("/api/collections/users",
                       R"({"otp":{"enabled":true},
                           "verificationTemplate":{"subject":"Custom {APP_NAME} check"},
                           "authToken":{"secret":"an-attempt-to-set-the-secret-0123456789",
                                        "duration":3600}})",
                       su());
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(at(r.json, "/otp/enabled").as_bool());
  EXPECT_EQ(int_at(r.json, "/otp/duration"), 180);
  EXPECT_EQ(int_at(r.json, "/otp/length"), 8);
  EXPECT_FALSE(str_at(r.json, "/otp/emailTemplate/body").empty());
  EXPECT_EQ(int_at(r.json, "/authToken/duration"), 3600);
  EXPECT_EQ(sqlite(server_->db_path(),
                   "SELECT json_extract(options,'$.authToken.secret') FROM _collections "
                   "WHERE name='users'"),
            secret_before)
      << "token secrets never come from a request";

  create_user("users", "options@example.com");
  r = post("users", "request-otp", {{"email", "options@example.com"}});
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(post("users", "request-verification", {{"email", "options@example.com"}}).status, 204);
  std::optional<SinkMessage> verification;
  for (std::size_t i = 0; i < 2 && !verification; ++i) {
    auto m = sink().wait_for("options@example.com", kMailWait, i);
    if (m && m->header("Subject") == "Custom Plinth Test check") verification = m;
  }
  ASSERT_TRUE(verification) << "the edited subject is used, the default body kept";
  EXPECT_FALSE(token_after(*verification, "/_/#/auth/confirm-verification/").empty());

  struct Case {
    const char* name;
    const char* body;
    const char* pointer;
    const char* code;
  } cases[] = {
      {"otp too short", R"({"otp":{"enabled":true,"length":2}})", "/data/otp/length/code",
       "validation_min_greater_equal_than_required"},
      {"otp too long-lived", R"({"otp":{"enabled":true,"duration":100000}})",
       "/data/otp/duration/code", "validation_max_less_equal_than_required"},
      {"empty template subject", R"({"resetPasswordTemplate":{"subject":""}})",
       "/data/resetPasswordTemplate/subject/code", "validation_required"},
      {"token duration too small", R"({"passwordResetToken":{"duration":1}})",
       "/data/passwordResetToken/duration/code", "validation_min_greater_equal_than_required"},
      {"option not an object", R"({"otp":"yes"})", "/data/otp/code", "validation_invalid_value"},
  };
  auto before = api().get("/api/collections/users", su()).body;
  for (const auto& c : cases) {
    auto bad = api().patch("/api/collections/users", c.body, su());
    EXPECT_EQ(bad.status, 400) << c.name;
    EXPECT_EQ(str_at(bad.json, c.pointer), c.code) << c.name << ": " << bad.body;
  }
  EXPECT_EQ(api().get("/api/collections/users", su()).body, before)
      << "refused changes change nothing";
}

TEST_F(Mail, OutboxStateIsForSuperusersOnly) {
  EXPECT_EQ(api().get("/api/plinth/mail").status, 401);
  create_user("users", "curious@example.com");
  auto token = login(api(), "users", "curious@example.com", "initial-pass-1");
  EXPECT_EQ(api().get("/api/plinth/mail", token).status, 403);
  auto r = api().get("/api/plinth/mail", su());
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(at(r.json, "/items").is_array());
  EXPECT_TRUE(at(r.json, "/pending").is_number());
  auto metrics = api().get("/metrics").body;
  for (const char* name :
       {"plinth_mail_sent_total", "plinth_mail_send_failures_total", "plinth_mail_outbox_pending"})
    EXPECT_NE(metrics.find(name), std::string::npos) << name;
}

TEST_F(Mail, MailGoesToTheStoredAddressNotTheTypedOne) {
  auto id = create_user("members", "stored-case@example.com");
  EXPECT_EQ(
      post("members", "request-password-reset", {{"email", "Stored-CASE@Example.com"}}).status,
      204);
  auto reset = sink().wait_for("stored-case@example.com", kMailWait);
  ASSERT_TRUE(reset);
  EXPECT_EQ(reset->to, std::vector<std::string>{"stored-case@example.com"});
  EXPECT_EQ(sink().count_to("Stored-CASE@Example.com"), 0U);

  auto r = post("members", "request-otp", {{"email", "STORED-case@example.com"}});
  ASSERT_EQ(r.status, 200) << r.body;
  auto otp_id = str_at(r.json, "/otpId");
  EXPECT_EQ(sqlite(server_->db_path(), "SELECT sentTo FROM _otps WHERE id='" + otp_id + "'"),
            "stored-case@example.com");
  auto m = sink().wait_for("stored-case@example.com", kMailWait, 1);
  ASSERT_TRUE(m);
  r = post("members", "auth-with-otp", {{"otpId", otp_id}, {"password", code_in(*m)}});
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(at(record("members", id), "/verified").as_bool()) << "the code reached the address";

  auto other = create_user("users", "typed-verify@example.com");
  EXPECT_EQ(post("users", "request-verification", {{"email", "TYPED-verify@example.com"}}).status,
            204);
  auto v = sink().wait_for("typed-verify@example.com", kMailWait);
  ASSERT_TRUE(v);
  auto token = token_after(*v, "/_/#/auth/confirm-verification/");
  EXPECT_EQ(post("users", "confirm-verification", {{"token", token}}).status, 204);
  EXPECT_TRUE(at(record("users", other), "/verified").as_bool());
}

TEST_F(Mail, PasswordResetAppliesThePasswordFieldRules) {
  create_user("users", "reset-rules@example.com", "old-pass-123");
  EXPECT_EQ(post("users", "request-password-reset", {{"email", "reset-rules@example.com"}}).status,
            204);
  auto m = sink().wait_for("reset-rules@example.com", kMailWait);
  ASSERT_TRUE(m);
  auto token = token_after(*m, "/_/#/auth/confirm-password-reset/");
  ASSERT_FALSE(token.empty());
  struct Case {
    const char* name;
    std::string password;
    const char* code;
  } cases[] = {
      // 7 characters in 14 bytes: under the field's min of 8.
      {"min in characters", "\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9",
       "validation_length_out_of_range"},
      {"over the default max of 71", std::string(72, 'x'), "validation_max_text_constraint"},
      {"over 255", std::string(256, 'x'), "validation_length_out_of_range"},
  };
  for (const auto& c : cases) {
    auto r = post("users", "confirm-password-reset",
                  {{"token", token}, {"password", c.password}, {"passwordConfirm", c.password}});
    EXPECT_EQ(r.status, 400) << c.name;
    EXPECT_EQ(field_code(r, "password"), c.code) << c.name << ": " << r.body;
  }
  // Nothing changed: the old password works, and the token is still good.
  login(api(), "users", "reset-rules@example.com", "old-pass-123");
  std::string ok(71, 'y');
  EXPECT_EQ(post("users", "confirm-password-reset",
                 {{"token", token}, {"password", ok}, {"passwordConfirm", ok}})
                .status,
            204);
  login(api(), "users", "reset-rules@example.com", ok);
}

TEST_F(Mail, ChangingTheEmailThroughTheRecordsApiSignsOldSessionsOut) {
  auto id = create_user("users", "before-change@example.com");
  auto session = login(api(), "users", "before-change@example.com", "initial-pass-1");
  auto key = sqlite(server_->db_path(), "SELECT tokenKey FROM users WHERE id='" + id + "'");
  // Another field changes: the sessions live on.
  auto r = api().patch(records_path("users", id), R"({"name":"renamed"})", su());
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(sqlite(server_->db_path(), "SELECT tokenKey FROM users WHERE id='" + id + "'"), key);
  EXPECT_EQ(api().post("/api/collections/users/auth-refresh", "", session).status, 200);
  r = api().patch(records_path("users", id), R"({"email":"after-change@example.com"})", su());
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(sqlite(server_->db_path(), "SELECT tokenKey FROM users WHERE id='" + id + "'"), key);
  EXPECT_EQ(api().post("/api/collections/users/auth-refresh", "", session).status, 401);
  login(api(), "users", "after-change@example.com", "initial-pass-1");
}

TEST_F(Mail, PermanentSmtpRefusalIsNotRetried) {
  std::string to = "bounce" + std::string(kRejectedDomain);
  create_user("users", to);
  EXPECT_EQ(post("users", "request-password-reset", {{"email", to}}).status, 204);
  std::vector<json::value> rows;
  for (int i = 0; i < 150; ++i) {
    rows = outbox_rows(to);
    if (rows.size() == 1 && str_at(rows[0], "/status") != "pending") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(rows.size(), 1U);
  EXPECT_EQ(str_at(rows[0], "/status"), "failed");
  EXPECT_EQ(at(rows[0], "/attempts").to_number<int>(), 1) << "retries every 200ms otherwise";
  EXPECT_EQ(str_at(rows[0], "/subject"), "") << "the content is dropped";
}

TEST_F(Mail, EmailChangeRequestsAreHeldByTheResendGuard) {
  create_user("users", "changer@example.com");
  auto token = login(api(), "users", "changer@example.com", "initial-pass-1");
  EXPECT_EQ(
      post("users", "request-email-change", {{"newEmail", "changed-1@example.com"}}, token).status,
      204);
  EXPECT_EQ(
      post("users", "request-email-change", {{"newEmail", "changed-2@example.com"}}, token).status,
      204);
  EXPECT_EQ(outbox_rows("changed-1@example.com").size(), 1U);
  EXPECT_TRUE(outbox_rows("changed-2@example.com").empty());
  // Bad input is still refused while the guard holds.
  auto r = post("users", "request-email-change", {{"newEmail", "not-an-email"}}, token);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(field_code(r, "newEmail"), "validation_is_email");
}

TEST_F(Mail, OtpIsRefusedWhileMfaIsOnAndUnsupported) {
  create_collection(api(), su(), R"json({
    "name":"mfa_members","type":"auth","createRule":"","fields":[],
    "otp":{"enabled":true},"mfa":{"enabled":true}
  })json");
  create_user("mfa_members", "mfa-user@example.com");
  auto r = post("mfa_members", "request-otp", {{"email", "mfa-user@example.com"}});
  ASSERT_EQ(r.status, 200) << r.body;
  auto otp_id = str_at(r.json, "/otpId");
  auto m = sink().wait_for("mfa-user@example.com", kMailWait);
  ASSERT_TRUE(m);
  r = post("mfa_members", "auth-with-otp", {{"otpId", otp_id}, {"password", code_in(*m)}});
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_NE(str_at(r.json, "/message").find("multi-factor"), std::string::npos) << r.body;
  EXPECT_FALSE(r.json.as_object().contains("token"));
  EXPECT_EQ(sqlite(server_->db_path(), "SELECT count(*) FROM _otps WHERE id='" + otp_id + "'"), "1")
      << "the code is not used up";
}

TEST_F(Mail, SettingsAndAuthOptionsEdgeCases) {
  // A sender address that would break the SMTP envelope is refused.
  for (const char* bad : {"a@b>\r\nRCPT TO:<x@y>", "two words@example.com", "x@"}) {
    json::object body{{"meta", {{"senderAddress", bad}}}};
    auto r = api().patch("/api/settings", json::serialize(body), su());
    EXPECT_EQ(r.status, 400) << bad;
    EXPECT_EQ(str_at(r.json, "/data/meta/senderAddress/code"), "validation_is_email") << r.body;
  }
  EXPECT_EQ(str_at(api().get("/api/settings", su()).json, "/meta/senderAddress"),
            "noreply@plinth.test");
  // null for an object option: no change.
  create_collection(api(), su(), R"json({"name":"nullable_opts","type":"auth","fields":[]})json");
  auto before = api().get("/api/collections/nullable_opts", su()).json;
  auto r = api().patch("/api/collections/nullable_opts",
                       R"({"otp":null,"verificationToken":null,"passwordAuth":null})", su());
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(at(r.json, "/otp"), at(before, "/otp"));
  EXPECT_EQ(at(r.json, "/verificationToken"), at(before, "/verificationToken"));
  // A damaged stored token option: repaired on the next change, not a 500.
  sqlite(server_->db_path(),
         "UPDATE _collections SET options=json_set(options,'$.verificationToken','broken') "
         "WHERE name='nullable_opts'");
  r = api().patch("/api/collections/nullable_opts", R"({"verificationToken":{"duration":600}})",
                  su());
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(at(r.json, "/verificationToken/duration").to_number<int>(), 600) << r.body;
  EXPECT_EQ(sqlite(server_->db_path(),
                   "SELECT length(json_extract(options,'$.verificationToken.secret')) FROM "
                   "_collections WHERE name='nullable_opts'"),
            "50")
      << "a new secret, not an empty one";
}

// A server that never sends (SMTP off) and holds at most two queued mails.
class MailLimits : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = new SeededServer({"--mail-max-pending", "2"}); }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  static const Api& api() { return server_->api(); }
  static SeededServer* server_;
};
SeededServer* MailLimits::server_ = nullptr;

TEST_F(MailLimits, MailRequestsAreRefusedBeyondThePendingCap) {
  for (int i = 0; i < 3; ++i) {
    json::object u{{"email", "capped-" + std::to_string(i) + "@example.com"},
                   {"password", "initial-pass-1"},
                   {"passwordConfirm", "initial-pass-1"}};
    create_record(api(), "users", json::serialize(u));
  }
  auto request = [&](const std::string& email) {
    return api().post("/api/collections/users/request-verification",
                      json::serialize(json::object{{"email", email}}));
  };
  EXPECT_EQ(request("capped-0@example.com").status, 204);
  EXPECT_EQ(request("capped-1@example.com").status, 204);
  auto pending = [&] {
    return sqlite(server_->db_path(),
                  "SELECT count(*) FROM _plinth_mail_outbox WHERE status='pending'");
  };
  EXPECT_EQ(pending(), "2") << "SMTP is off: the mails wait, untouched";
  EXPECT_EQ(sqlite(server_->db_path(), "SELECT max(attempts) FROM _plinth_mail_outbox"), "0");
  for (const char* email : {"capped-2@example.com", "unknown-capped@example.com"}) {
    auto r = request(email);
    EXPECT_EQ(r.status, 503) << email << ": " << r.body;
    EXPECT_FALSE(str_at(r.json, "/message").empty());
  }
  EXPECT_EQ(pending(), "2");
}

TEST(MailHousekeeping, ExpiredOtpsAreDeleted) {
  std::string db, data_dir;
  std::string fresh_id, stale_id;
  auto server = std::make_unique<SeededServer>();
  create_collection(server->api(), server->token(), R"json({
    "name":"otp_users","type":"auth","createRule":"","fields":[],
    "otp":{"enabled":true,"duration":60}
  })json");
  create_record(server->api(), "otp_users",
                R"({"email":"otp-old@example.com","password":"initial-pass-1",)"
                R"("passwordConfirm":"initial-pass-1"})");
  auto otp = [&] {
    return str_at(
        server->api()
            .post("/api/collections/otp_users/request-otp", R"({"email":"otp-old@example.com"})")
            .json,
        "/otpId");
  };
  stale_id = otp();
  fresh_id = otp();
  db = server->db_path();
  data_dir = server->process().dir() + "/data";
  server->process().signal(SIGTERM);
  ASSERT_TRUE(server->process().wait_exit(std::chrono::seconds(15)));
  sqlite(db, "UPDATE _otps SET created=strftime('%Y-%m-%d %H:%M:%fZ','now','-2 hours') WHERE id='" +
                 stale_id + "'");
  ServerProcess::Launch launch;
  launch.data_dir = data_dir;
  ServerProcess again(launch);
  // The sender thread's first pass does the housekeeping.
  std::string left;
  for (int i = 0; i < 100; ++i) {
    left = sqlite(db, "SELECT group_concat(id) FROM _otps");
    if (left == fresh_id) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(left, fresh_id);
}

}  // namespace
}  // namespace plinth::test::data
