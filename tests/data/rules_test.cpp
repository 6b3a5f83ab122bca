// API rules: null = superusers only (403), "" = public, and an expression is
// PocketBase's filter language: list rules are ANDed into the query, view/
// update/delete rules must match the record (else 404), create rules must match
// the would-be record (else 400, nothing written). Hidden fields and auth-record
// output.

#include "data_support.hpp"

namespace plinth::test::data {
namespace {

const std::string kCreateDenied =
    R"({"data":{},"message":"Failed to create record.","status":400})";

constexpr std::string_view kUserEmail = "user1@example.com";
constexpr std::string_view kUserPassword = "user-pass-123";
constexpr std::string_view kUser2Email = "user2@example.com";
constexpr std::string_view kUser2Password = "user2-pass-123";

class Rules : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new SeededServer();
    const auto& api = server_->api();
    const auto& tok = server_->token();
    create_collection(api, tok,
                      R"json({"name":"locked","fields":[{"name":"note","type":"text"}]})json");
    create_collection(api, tok, R"json({"name":"open","listRule":"","viewRule":"",
      "createRule":"","updateRule":"","deleteRule":"","fields":[{"name":"note","type":"text"}]})json");
    create_collection(api, tok, R"json({"name":"guarded",
      "listRule":"@request.auth.id != ''","viewRule":"@request.auth.id != ''",
      "createRule":"@request.auth.id != ''","updateRule":"@request.auth.id != ''",
      "deleteRule":"@request.auth.id != ''","fields":[{"name":"note","type":"text"}]})json");
    create_collection(api, tok, R"json({"name":"secrets","listRule":"","viewRule":"",
      "createRule":"","updateRule":"","deleteRule":"","fields":[{"name":"note","type":"text"},
      {"name":"hidden","type":"text","hidden":true}]})json");
    // Owner-only records: every rule compares the relation to the caller.
    auto users = api.get("/api/collections/users", tok);
    json::object owned{{"name", "owned"},
                       {"listRule", "owner = @request.auth.id"},
                       {"viewRule", "owner = @request.auth.id"},
                       {"createRule", "@request.auth.id != '' && owner = @request.auth.id"},
                       {"updateRule", "owner = @request.auth.id"},
                       {"deleteRule", "owner = @request.auth.id"}};
    owned["fields"] = json::array{json::object{{"name", "note"}, {"type", "text"}},
                                  json::object{{"name", "owner"},
                                               {"type", "relation"},
                                               {"collectionId", str_at(users.json, "/id")},
                                               {"maxSelect", 1}}};
    create_collection(api, tok, json::serialize(owned));
    // Regular auth records through the public createRule of `users`.
    json::object u{
        {"email", kUserEmail}, {"password", kUserPassword}, {"passwordConfirm", kUserPassword}};
    user_id_ = str_at(create_record(api, "users", json::serialize(u)), "/id");
    user_token_ = login(api, "users", kUserEmail, kUserPassword);
    json::object u2{
        {"email", kUser2Email}, {"password", kUser2Password}, {"passwordConfirm", kUser2Password}};
    user2_id_ = str_at(create_record(api, "users", json::serialize(u2)), "/id");
    user2_token_ = login(api, "users", kUser2Email, kUser2Password);
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  static const Api& api() { return server_->api(); }
  static const std::string& su() { return server_->token(); }

  static std::string seed(std::string_view coll, std::string_view note = "seed") {
    json::object o{{"note", note}};
    return str_at(create_record(api(), coll, json::serialize(o), su()), "/id");
  }
  static std::string seed_owned(std::string_view owner, std::string_view note) {
    json::object o{{"note", note}, {"owner", owner}};
    return str_at(create_record(api(), "owned", json::serialize(o), su()), "/id");
  }
  // The ids of a list reply, sorted.
  static std::vector<std::string> sorted_ids(const Reply& r) {
    std::vector<std::string> out;
    if (at(r.json, "/items").is_array())
      for (const auto& it : at(r.json, "/items").as_array()) out.push_back(str_at(it, "/id"));
    std::sort(out.begin(), out.end());
    return out;
  }
  static std::int64_t su_count(std::string_view coll, std::string_view filter = {}) {
    std::string q = records_path(coll) + "?perPage=1";
    if (!filter.empty()) q += "&filter=" + std::string(filter);
    auto r = api().get(q, su());
    EXPECT_EQ(r.status, 200) << r.body;
    return int_at(r.json, "/totalItems");
  }

  static SeededServer* server_;
  static std::string user_id_, user_token_, user2_id_, user2_token_;
};
SeededServer* Rules::server_ = nullptr;
std::string Rules::user_id_, Rules::user_token_, Rules::user2_id_, Rules::user2_token_;

enum class Expect { allowed, forbidden, hidden };

TEST_F(Rules, AccessMatrix) {
  struct Case {
    const char* collection;
    const char* caller;  // guest | user | superuser
    Expect expect;
  } cases[] = {
      {"locked", "guest", Expect::forbidden},
      {"locked", "user", Expect::forbidden},
      {"locked", "superuser", Expect::allowed},
      {"open", "guest", Expect::allowed},
      {"open", "user", Expect::allowed},
      {"open", "superuser", Expect::allowed},
      // `@request.auth.id != ''`: any authenticated record passes, guests do not.
      {"guarded", "guest", Expect::hidden},
      {"guarded", "user", Expect::allowed},
      {"guarded", "superuser", Expect::allowed},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string(c.collection) + " as " + c.caller);
    std::string tok = std::string(c.caller) == "user"        ? user_token_
                      : std::string(c.caller) == "superuser" ? su()
                                                             : std::string();
    auto id = seed(c.collection);

    auto list = api().get(records_path(c.collection), tok);
    auto view = api().get(records_path(c.collection, id), tok);
    auto create = api().post(records_path(c.collection), R"({"note":"new"})", tok);
    auto update = api().patch(records_path(c.collection, id), R"({"note":"changed"})", tok);
    auto remove = api().del(records_path(c.collection, id), tok);

    switch (c.expect) {
      case Expect::allowed:
        EXPECT_EQ(list.status, 200) << list.body;
        EXPECT_GE(int_at(list.json, "/totalItems"), 1);
        EXPECT_EQ(view.status, 200) << view.body;
        EXPECT_EQ(str_at(view.json, "/id"), id);
        EXPECT_EQ(create.status, 200) << create.body;
        EXPECT_EQ(update.status, 200) << update.body;
        EXPECT_EQ(str_at(update.json, "/note"), "changed");
        EXPECT_EQ(remove.status, 204) << remove.body;
        EXPECT_EQ(api().get(records_path(c.collection, id), su()).status, 404);
        break;
      case Expect::forbidden:
        for (const auto* r : {&list, &view, &create, &update, &remove}) {
          EXPECT_EQ(r->text(), kOnlySuperusers);
        }
        break;
      case Expect::hidden:
        EXPECT_EQ(list.status, 200) << list.body;
        EXPECT_EQ(dump(at(list.json, "/items")), "[]");
        EXPECT_EQ(int_at(list.json, "/totalItems"), 0);
        EXPECT_EQ(int_at(list.json, "/totalPages"), 0);
        EXPECT_EQ(view.text(), kNotFound);
        EXPECT_EQ(create.text(), kCreateDenied);
        EXPECT_EQ(update.text(), kNotFound);
        EXPECT_EQ(remove.text(), kNotFound);
        break;
    }
    if (c.expect != Expect::allowed) {
      auto still = api().get(records_path(c.collection, id), su());
      EXPECT_EQ(still.status, 200) << "denied delete kept the record";
      EXPECT_EQ(str_at(still.json, "/note"), "seed") << "denied update changed nothing";
    }
  }
}

TEST_F(Rules, DeniedCreateWritesNothing) {
  // A guest fails `@request.auth.id != ''`: 400, and no row appears.
  auto before = su_count("guarded");
  auto r = api().post(records_path("guarded"), R"({"note":"sneaky"})");
  EXPECT_EQ(r.text(), kCreateDenied);
  EXPECT_EQ(su_count("guarded"), before);
  EXPECT_EQ(su_count("guarded", "note%3D%27sneaky%27"), 0);

  // The create rule is checked against the would-be record: a user cannot
  // create a record owned by someone else...
  auto owned_before = su_count("owned");
  json::object other{{"note", "sneaky-owned"}, {"owner", user2_id_}};
  auto o = api().post(records_path("owned"), json::serialize(other), user_token_);
  EXPECT_EQ(o.text(), kCreateDenied);
  EXPECT_EQ(su_count("owned"), owned_before);
  EXPECT_EQ(su_count("owned", "note%3D%27sneaky-owned%27"), 0);
  // ...nor an unowned one, and a guest cannot create one at all...
  auto unowned = api().post(records_path("owned"), R"({"note":"sneaky-owned"})", user_token_);
  EXPECT_EQ(unowned.text(), kCreateDenied);
  json::object guest_body{{"note", "sneaky-owned"}, {"owner", user_id_}};
  EXPECT_EQ(api().post(records_path("owned"), json::serialize(guest_body)).text(), kCreateDenied);
  EXPECT_EQ(su_count("owned"), owned_before);
  // ...but may create its own.
  json::object mine{{"note", "mine"}, {"owner", user_id_}};
  auto ok = api().post(records_path("owned"), json::serialize(mine), user_token_);
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(str_at(ok.json, "/owner"), user_id_);
  EXPECT_EQ(su_count("owned"), owned_before + 1);
  EXPECT_EQ(api().del(records_path("owned", str_at(ok.json, "/id")), user_token_).status, 204);

  // A null rule stays superuser-only.
  auto l = api().post(records_path("locked"), R"({"note":"sneaky"})");
  EXPECT_EQ(l.text(), kOnlySuperusers);
}

TEST_F(Rules, OwnerOnlyRecords) {
  auto a1 = seed_owned(user_id_, "oa"), a2 = seed_owned(user_id_, "ob");
  auto b1 = seed_owned(user2_id_, "ob");
  std::vector<std::string> mine{a1, a2}, theirs{b1};
  std::sort(mine.begin(), mine.end());
  const std::string scope = "?perPage=100&filter=note%3D%27oa%27%7C%7Cnote%3D%27ob%27";

  // Each user lists only its own records; a guest sees none.
  auto l1 = api().get(records_path("owned") + scope, user_token_);
  ASSERT_EQ(l1.status, 200) << l1.body;
  EXPECT_EQ(sorted_ids(l1), mine);
  EXPECT_EQ(int_at(l1.json, "/totalItems"), 2);
  EXPECT_EQ(sorted_ids(api().get(records_path("owned") + scope, user2_token_)), theirs);
  auto guest = api().get(records_path("owned") + scope);
  ASSERT_EQ(guest.status, 200) << guest.body;
  EXPECT_EQ(int_at(guest.json, "/totalItems"), 0);
  EXPECT_EQ(su_count("owned", "note%3D%27oa%27%7C%7Cnote%3D%27ob%27"), 3);

  // A client filter narrows the list rule; an `||` in it cannot widen it.
  auto ob = api().get(records_path("owned") + "?filter=note%3D%27ob%27", user_token_);
  EXPECT_EQ(sorted_ids(ob), std::vector<std::string>{a2});
  auto wide = api().get(records_path("owned") + "?filter=note%3D%27ob%27%7C%7Cnote!%3D%27ob%27",
                        user_token_);
  for (const auto& id : sorted_ids(wide)) EXPECT_NE(id, b1) << wide.body;
  EXPECT_EQ(int_at(wide.json, "/totalItems"),
            int_at(api().get(records_path("owned"), user_token_).json, "/totalItems"));

  // View/update/delete of another user's record: 404, nothing changed.
  EXPECT_EQ(api().get(records_path("owned", a1), user_token_).status, 200);
  EXPECT_EQ(api().get(records_path("owned", b1), user_token_).text(), kNotFound);
  EXPECT_EQ(api().get(records_path("owned", a1)).text(), kNotFound);
  EXPECT_EQ(api().patch(records_path("owned", b1), R"({"note":"hacked"})", user_token_).text(),
            kNotFound);
  EXPECT_EQ(api().del(records_path("owned", b1), user_token_).text(), kNotFound);
  auto still = api().get(records_path("owned", b1), su());
  ASSERT_EQ(still.status, 200) << still.body;
  EXPECT_EQ(str_at(still.json, "/note"), "ob");
  EXPECT_EQ(api().get(records_path("owned", b1), user2_token_).status, 200);

  // The owner may update and delete its own.
  auto upd = api().patch(records_path("owned", a1), R"({"note":"oa2"})", user_token_);
  ASSERT_EQ(upd.status, 200) << upd.body;
  EXPECT_EQ(str_at(upd.json, "/note"), "oa2");
  EXPECT_EQ(api().del(records_path("owned", a2), user_token_).status, 204);
  EXPECT_EQ(api().get(records_path("owned", a2), su()).status, 404);
  EXPECT_EQ(api().del(records_path("owned", b1), user2_token_).status, 204);
}

TEST_F(Rules, HiddenFieldsOnlyForSuperusers) {
  auto created = api().post(records_path("secrets"), R"({"note":"n","hidden":"s3cr3t"})", su());
  ASSERT_EQ(created.status, 200) << created.body;
  EXPECT_EQ(str_at(created.json, "/hidden"), "s3cr3t");
  auto id = str_at(created.json, "/id");

  for (const std::string& tok : {std::string(), user_token_}) {
    SCOPED_TRACE(tok.empty() ? "guest" : "user");
    auto v = api().get(records_path("secrets", id), tok);
    ASSERT_EQ(v.status, 200);
    EXPECT_FALSE(has_key(v.json, "hidden")) << v.body;
    EXPECT_EQ(str_at(v.json, "/note"), "n");
    auto l = api().get(records_path("secrets"), tok);
    for (const auto& it : at(l.json, "/items").as_array()) EXPECT_FALSE(has_key(it, "hidden"));
    auto f = api().get(records_path("secrets", id) + "?fields=id,hidden", tok);
    EXPECT_EQ(keys_of(f.json), std::vector<std::string>{"id"});
  }

  // Only superusers may filter by a hidden field.
  auto hf = api().get(records_path("secrets") + "?filter=hidden%3D%27s3cr3t%27", user_token_);
  EXPECT_EQ(hf.status, 400) << hf.body;
  EXPECT_EQ(dump(at(hf.json, "/data")), "{}");
  auto sf = api().get(records_path("secrets") + "?filter=hidden%3D%27s3cr3t%27", su());
  ASSERT_EQ(sf.status, 200) << sf.body;
  EXPECT_EQ(sorted_ids(sf), std::vector<std::string>{id});

  // Non-superusers cannot write a hidden field: it is silently ignored.
  auto guest_create = api().post(records_path("secrets"), R"({"note":"g","hidden":"x"})");
  ASSERT_EQ(guest_create.status, 200) << guest_create.body;
  EXPECT_FALSE(has_key(guest_create.json, "hidden"));
  auto gid = str_at(guest_create.json, "/id");
  EXPECT_EQ(str_at(api().get(records_path("secrets", gid), su()).json, "/hidden"), "");
  auto user_patch =
      api().patch(records_path("secrets", id), R"({"hidden":"changed"})", user_token_);
  ASSERT_EQ(user_patch.status, 200) << user_patch.body;
  EXPECT_EQ(str_at(api().get(records_path("secrets", id), su()).json, "/hidden"), "s3cr3t");
  auto su_patch = api().patch(records_path("secrets", id), R"({"hidden":"changed"})", su());
  EXPECT_EQ(str_at(su_patch.json, "/hidden"), "changed");
}

TEST_F(Rules, AuthRecordsNeverExposePasswordOrTokenKey) {
  json::object body{{"email", "visible@example.com"},
                    {"emailVisibility", true},
                    {"password", "visible-pass-1"},
                    {"passwordConfirm", "visible-pass-1"},
                    {"name", "Vis"}};
  auto created = api().post(records_path("users"), json::serialize(body));
  ASSERT_EQ(created.status, 200) << created.body;
  auto vid = str_at(created.json, "/id");
  json::object hidden_body{{"email", "private@example.com"},
                           {"password", "private-pass-1"},
                           {"passwordConfirm", "private-pass-1"}};
  auto hidden = api().post(records_path("users"), json::serialize(hidden_body));
  ASSERT_EQ(hidden.status, 200) << hidden.body;
  auto hid = str_at(hidden.json, "/id");

  for (const auto* r : {&created, &hidden}) {
    for (const char* k : {"password", "passwordConfirm", "tokenKey"}) {
      EXPECT_FALSE(has_key(r->json, k)) << k << " in " << r->body;
    }
  }
  EXPECT_EQ(str_at(created.json, "/email"), "visible@example.com") << "emailVisibility=true";
  EXPECT_FALSE(has_key(hidden.json, "email")) << "a guest is neither owner nor superuser";
  EXPECT_EQ(dump(at(hidden.json, "/verified")), "false");

  // A superuser sees the email (and still no password/tokenKey).
  auto sv = api().get(records_path("users", hid), su());
  ASSERT_EQ(sv.status, 200) << sv.body;
  EXPECT_EQ(str_at(sv.json, "/email"), "private@example.com");
  for (const char* k : {"password", "tokenKey"}) EXPECT_FALSE(has_key(sv.json, k)) << k;
  auto sl = api().get(records_path("users") + "?perPage=100", su());
  for (const auto& it : at(sl.json, "/items").as_array()) {
    EXPECT_TRUE(has_key(it, "email"));
    EXPECT_FALSE(has_key(it, "password"));
    EXPECT_FALSE(has_key(it, "tokenKey"));
  }
  // `users` rules are `id = @request.auth.id`: a guest sees no one...
  EXPECT_EQ(api().get(records_path("users", vid)).text(), kNotFound);
  auto gl = api().get(records_path("users"));
  ASSERT_EQ(gl.status, 200) << gl.body;
  EXPECT_EQ(int_at(gl.json, "/totalItems"), 0);
  // ...and a user only itself, with its own (hidden) email.
  auto self = api().get(records_path("users", user_id_), user_token_);
  ASSERT_EQ(self.status, 200) << self.body;
  EXPECT_EQ(str_at(self.json, "/email"), kUserEmail) << "the owner sees its own email";
  for (const char* k : {"password", "tokenKey"}) EXPECT_FALSE(has_key(self.json, k)) << k;
  auto ul = api().get(records_path("users") + "?perPage=100", user_token_);
  ASSERT_EQ(ul.status, 200) << ul.body;
  EXPECT_EQ(sorted_ids(ul), std::vector<std::string>{user_id_});
  EXPECT_EQ(int_at(ul.json, "/totalItems"), 1);
  EXPECT_EQ(api().get(records_path("users", vid), user_token_).text(), kNotFound);
  EXPECT_EQ(api().get(records_path("users", hid), user_token_).text(), kNotFound);
  // Updates and deletes follow the same rule.
  EXPECT_EQ(api().patch(records_path("users", hid), R"({"name":"hacked"})", user_token_).text(),
            kNotFound);
  EXPECT_EQ(api().del(records_path("users", vid), user_token_).text(), kNotFound);
  EXPECT_EQ(str_at(api().get(records_path("users", hid), su()).json, "/name"), "");
  EXPECT_EQ(api().get(records_path("users", vid), su()).status, 200);
  auto renamed = api().patch(records_path("users", user_id_), R"({"name":"Me"})", user_token_);
  ASSERT_EQ(renamed.status, 200) << renamed.body;
  EXPECT_EQ(str_at(renamed.json, "/name"), "Me");
  for (const char* k : {"password", "tokenKey"}) EXPECT_FALSE(has_key(renamed.json, k)) << k;
  // The private user may delete itself.
  auto ptoken = login(api(), "users", "private@example.com", "private-pass-1");
  EXPECT_EQ(api().del(records_path("users", hid), ptoken).status, 204);
  EXPECT_EQ(api().get(records_path("users", hid), su()).status, 404);
}

TEST_F(Rules, AuthRecordCreateValidation) {
  struct Case {
    const char* name;
    const char* body;
    const char* field;
    const char* leaf;
  } cases[] = {
      {"password missing", R"({"email":"a1@example.com"})", "password",
       R"({"code":"validation_required","message":"Cannot be blank."})"},
      {"password too short",
       R"({"email":"a2@example.com","password":"short","passwordConfirm":"short"})", "password",
       R"({"code":"validation_min_text_constraint","message":"Must be at least 8 character(s)."})"},
      {"confirm mismatch",
       R"({"email":"a3@example.com","password":"long-enough-1","passwordConfirm":"other-value-1"})",
       "passwordConfirm",
       R"({"code":"validation_values_mismatch","message":"Values don't match."})"},
      {"confirm missing", R"({"email":"a4@example.com","password":"long-enough-1"})",
       "passwordConfirm", R"({"code":"validation_required","message":"Cannot be blank."})"},
      {"email missing", R"({"password":"long-enough-1","passwordConfirm":"long-enough-1"})",
       "email", R"({"code":"validation_required","message":"Cannot be blank."})"},
      {"email invalid",
       R"({"email":"nope","password":"long-enough-1","passwordConfirm":"long-enough-1"})", "email",
       R"({"code":"validation_is_email","message":"Must be a valid email address."})"},
      {"email taken",
       R"({"email":"user1@example.com","password":"long-enough-1","passwordConfirm":"long-enough-1"})",
       "email", R"({"code":"validation_not_unique","message":"Value must be unique."})"},
      {"verified set by a guest",
       R"({"email":"a5@example.com","password":"long-enough-1","passwordConfirm":"long-enough-1","verified":true})",
       "verified", nullptr},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto r = api().post(records_path("users"), c.body);
    ASSERT_EQ(r.status, 400) << r.body;
    EXPECT_EQ(str_at(r.json, "/message"), "Failed to create record.");
    if (c.leaf) {
      EXPECT_EQ(dump(at(r.json, std::string("/data/") + c.field)), canon(c.leaf)) << r.body;
    } else {
      EXPECT_TRUE(has_key(at(r.json, "/data"), c.field)) << r.body;
    }
  }
}

TEST_F(Rules, LastSuperuserCannotBeDeleted) {
  // A second superuser can be created and deleted...
  json::object body{{"email", "second@example.com"},
                    {"password", "second-pass-1"},
                    {"passwordConfirm", "second-pass-1"}};
  auto second = api().post(records_path("_superusers"), json::serialize(body), su());
  ASSERT_EQ(second.status, 200) << second.body;
  EXPECT_EQ(dump(at(second.json, "/verified")), "true") << "superusers are always verified";
  EXPECT_EQ(api().del(records_path("_superusers", str_at(second.json, "/id")), su()).status, 204);
  // ...but the only one left cannot.
  auto list = api().get(records_path("_superusers"), su());
  ASSERT_EQ(int_at(list.json, "/totalItems"), 1);
  auto only = str_at(at(list.json, "/items").as_array().at(0), "/id");
  auto r = api().del(records_path("_superusers", only), su());
  EXPECT_EQ(
      r.text(),
      R"({"data":{},"message":"You can't delete the only existing superuser.","status":400})");
  EXPECT_EQ(api().get("/api/collections", su()).status, 200) << "and it still works";
  // Non-superusers cannot touch _superusers at all.
  EXPECT_EQ(api().get(records_path("_superusers"), user_token_).text(), kOnlySuperusers);
  EXPECT_EQ(api().del(records_path("_superusers", only), user_token_).text(), kOnlySuperusers);
}

// A user may edit their profile but never promote themself: one rule forbids
// sending `role` at all (:isset), the other forbids changing it (:changed).
TEST_F(Rules, IssetAndChangedStopSelfPromotion) {
  auto users = api().get("/api/collections/users", su());
  for (const char* rule : {"owner = @request.auth.id && @request.body.role:isset = false",
                           "owner = @request.auth.id && @request.body.role:changed = false"}) {
    SCOPED_TRACE(rule);
    std::string name = std::string("profiles_") +
                       (std::string(rule).find("isset") != std::string::npos ? "a" : "b");
    json::object coll{{"name", name},
                      {"listRule", "owner = @request.auth.id"},
                      {"viewRule", "owner = @request.auth.id"},
                      {"updateRule", rule}};
    coll["fields"] = json::array{json::object{{"name", "bio"}, {"type", "text"}},
                                 json::object{{"name", "role"}, {"type", "text"}},
                                 json::object{{"name", "owner"},
                                              {"type", "relation"},
                                              {"collectionId", str_at(users.json, "/id")},
                                              {"maxSelect", 1}}};
    create_collection(api(), su(), json::serialize(coll));
    json::object p{{"bio", "hi"}, {"role", "member"}, {"owner", user_id_}};
    auto id = str_at(create_record(api(), name, json::serialize(p), su()), "/id");
    // Promotion attempt: refused as "not found", nothing changes.
    EXPECT_EQ(api().patch(records_path(name, id), R"({"role":"admin"})", user_token_).text(),
              kNotFound);
    EXPECT_EQ(str_at(api().get(records_path(name, id), su()).json, "/role"), "member");
    // An ordinary edit passes.
    auto ok = api().patch(records_path(name, id), R"({"bio":"hello"})", user_token_);
    EXPECT_EQ(ok.status, 200) << ok.body;
    EXPECT_EQ(str_at(ok.json, "/role"), "member");
    // Another user cannot edit it at all.
    EXPECT_EQ(api().patch(records_path(name, id), R"({"bio":"x"})", user2_token_).text(),
              kNotFound);
  }
  // :changed admits the same value sent back unchanged.
  auto same = api().get(records_path("profiles_b") + "?perPage=1", su());
  auto pid = str_at(same.json, "/items/0/id");
  EXPECT_EQ(
      api()
          .patch(records_path("profiles_b", pid), R"({"role":"member","bio":"again"})", user_token_)
          .status,
      200);
}

// Access granted through another collection: @collection.grants cross-check.
TEST_F(Rules, CollectionCrossCheck) {
  auto users = api().get("/api/collections/users", su());
  json::object grants{{"name", "grants"}};
  grants["fields"] = json::array{json::object{{"name", "user"}, {"type", "text"}},
                                 json::object{{"name", "doc"}, {"type", "text"}}};
  create_collection(api(), su(), json::serialize(grants));
  create_collection(api(), su(), R"json({"name":"docs","fields":[{"name":"title","type":"text"}],
    "listRule":"@collection.grants.user ?= @request.auth.id && @collection.grants.doc ?= id",
    "viewRule":"@collection.grants.user ?= @request.auth.id && @collection.grants.doc ?= id"})json");
  auto d1 = str_at(create_record(api(), "docs", R"({"title":"one"})", su()), "/id");
  auto d2 = str_at(create_record(api(), "docs", R"({"title":"two"})", su()), "/id");
  create_record(api(), "grants", json::serialize(json::object{{"user", user_id_}, {"doc", d1}}),
                su());
  create_record(api(), "grants", json::serialize(json::object{{"user", user2_id_}, {"doc", d2}}),
                su());
  EXPECT_EQ(api().get(records_path("docs", d1), user_token_).status, 200);
  EXPECT_EQ(api().get(records_path("docs", d2), user_token_).text(), kNotFound);
  EXPECT_EQ(sorted_ids(api().get(records_path("docs"), user_token_)), std::vector<std::string>{d1});
  EXPECT_EQ(sorted_ids(api().get(records_path("docs"), user2_token_)),
            std::vector<std::string>{d2});
  EXPECT_EQ(int_at(api().get(records_path("docs")).json, "/totalItems"), 0) << "guests see nothing";
}

// @request.headers (names lowercased, '-' as '_') and @request.query in rules.
TEST_F(Rules, RequestHeadersAndQueryInRules) {
  create_collection(api(), su(), R"json({"name":"gated","fields":[{"name":"title","type":"text"}],
    "viewRule":"@request.headers.x_gate = 'open' && @request.query.k = 'v w'",
    "createRule":"@request.headers.x_gate = 'open'"})json");
  auto id = str_at(create_record(api(), "gated", R"({"title":"one"})", su()), "/id");
  auto status = [&](std::string_view method, const std::string& target,
                    std::vector<std::pair<std::string, std::string>> headers,
                    std::string_view body = {}) {
    if (!body.empty()) headers.emplace_back("Content-Type", "application/json");
    Client c(api().port(), std::chrono::seconds(20));
    auto r = c.request(method, target, headers, body);
    return r ? r->status : -1;
  };
  auto view = records_path("gated", id);
  EXPECT_EQ(status("GET", view + "?k=v+w", {{"X-Gate", "open"}}), 200);
  EXPECT_EQ(status("GET", view + "?%6b=v%20w&k=other", {{"x-gate", "open"}}), 200);
  EXPECT_EQ(status("GET", view + "?k=other&k=v+w", {{"X-Gate", "open"}}), 404) << "first value";
  EXPECT_EQ(status("GET", view + "?k=v+w", {{"X-Gate", "shut"}}), 404);
  EXPECT_EQ(status("GET", view, {{"X-Gate", "open"}}), 404);
  EXPECT_EQ(status("POST", records_path("gated"), {{"X-Gate", "open"}}, R"({"title":"two"})"), 200);
  EXPECT_EQ(status("POST", records_path("gated"), {}, R"({"title":"three"})"), 400);
  EXPECT_EQ(int_at(api().get(records_path("gated"), su()).json, "/totalItems"), 2);
}

// Expanded records pass their own collection's view rule for the caller.
TEST_F(Rules, ExpandRespectsViewRules) {
  auto locked = api().get("/api/collections/locked", su());
  auto owned = api().get("/api/collections/owned", su());
  json::object refs{{"name", "refs"}, {"listRule", ""}, {"viewRule", ""}};
  refs["fields"] = json::array{json::object{{"name", "secret"},
                                            {"type", "relation"},
                                            {"collectionId", str_at(locked.json, "/id")},
                                            {"maxSelect", 1}},
                               json::object{{"name", "mine"},
                                            {"type", "relation"},
                                            {"collectionId", str_at(owned.json, "/id")},
                                            {"maxSelect", 5}}};
  create_collection(api(), su(), json::serialize(refs));
  auto lid = seed("locked", "classified");
  auto own1 = seed_owned(user_id_, "u1 note");
  auto own2 = seed_owned(user2_id_, "u2 note");
  auto rid = str_at(
      create_record(
          api(), "refs",
          json::serialize(json::object{{"secret", lid}, {"mine", json::array{own1, own2}}}), su()),
      "/id");
  auto as_user = api().get(records_path("refs", rid) + "?expand=secret,mine", user_token_);
  ASSERT_EQ(as_user.status, 200) << as_user.body;
  EXPECT_FALSE(has_key(at(as_user.json, "/expand"), "secret")) << "locked (null view rule) leaked";
  ASSERT_TRUE(at(as_user.json, "/expand/mine").is_array());
  EXPECT_EQ(at(as_user.json, "/expand/mine").as_array().size(), 1U)
      << "another user's record leaked";
  EXPECT_EQ(str_at(as_user.json, "/expand/mine/0/id"), own1);
  auto as_su = api().get(records_path("refs", rid) + "?expand=secret,mine", su());
  EXPECT_EQ(str_at(as_su.json, "/expand/secret/note"), "classified");
  EXPECT_EQ(at(as_su.json, "/expand/mine").as_array().size(), 2U);
  auto as_guest = api().get(records_path("refs", rid) + "?expand=secret,mine");
  EXPECT_FALSE(has_key(as_guest.json, "expand"));
}

TEST_F(Rules, RulesAreValidatedWhenSaved) {
  auto bad = api().post("/api/collections",
                        R"({"name":"badrules","fields":[{"name":"note","type":"text"}],
                            "listRule":"nope = 1","viewRule":"note = ","createRule":"@request.auth.id != ''"})",
                        su());
  ASSERT_EQ(bad.status, 400) << bad.body;
  EXPECT_EQ(str_at(bad.json, "/data/listRule/code"), "validation_invalid_rule");
  EXPECT_EQ(str_at(bad.json, "/data/viewRule/code"), "validation_invalid_rule");
  EXPECT_FALSE(has_key(at(bad.json, "/data"), "createRule"));
  EXPECT_EQ(api().get("/api/collections/badrules", su()).status, 404) << "nothing was created";
  // A rule may name the collection's own new fields; updates are checked too.
  auto ok = api().post(
      "/api/collections",
      R"({"name":"goodrules","fields":[{"name":"note","type":"text"}],"listRule":"note != ''"})",
      su());
  ASSERT_EQ(ok.status, 200) << ok.body;
  auto upd = api().patch("/api/collections/goodrules", R"({"viewRule":"missing_field = 1"})", su());
  EXPECT_EQ(upd.status, 400);
  EXPECT_EQ(str_at(upd.json, "/data/viewRule/code"), "validation_invalid_rule");
}

}  // namespace
}  // namespace plinth::test::data
