// Realtime (SSE): PB_CONNECT and the SDK's topics, subscriptions replaced by
// each POST, options (fields, expand, filter), list/view rules per subscriber,
// delete events, no event for a failed or rolled-back write, slow consumers
// dropped without slowing others, auth bound to a live connection, limits.
//
// "Nothing arrived" is proven with a fence: a later write the client does see
// must be the next event, since events leave in commit order.

#include "data_support.hpp"
#include "sse_client.hpp"

namespace plinth::test::data {
namespace {

using namespace std::chrono_literals;

constexpr std::string_view kUserEmail = "rt-user1@example.com";
constexpr std::string_view kUserPassword = "user-pass-123";
constexpr std::string_view kUser2Email = "rt-user2@example.com";
constexpr std::string_view kUser2Password = "user2-pass-123";

json::value event_json(const SseEvent& ev) {
  return parse(ev.data);
}

class Realtime : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new SeededServer();
    const auto& api = server_->api();
    const auto& tok = server_->token();
    auto users = api.get("/api/collections/users", tok);
    users_id_ = str_at(users.json, "/id");
    json::object posts{{"name", "posts"},  {"listRule", ""},
                       {"viewRule", ""},   {"createRule", "title != 'forbidden'"},
                       {"updateRule", ""}, {"deleteRule", ""}};
    posts["fields"] =
        json::array{json::object{{"name", "title"}, {"type", "text"}},
                    json::object{{"name", "code"}, {"type", "text"}},
                    json::object{{"name", "body"}, {"type", "text"}, {"max", 1000000}},
                    json::object{{"name", "author"},
                                 {"type", "relation"},
                                 {"collectionId", users_id_},
                                 {"maxSelect", 1}}};
    posts["indexes"] =
        json::array{"CREATE UNIQUE INDEX idx_posts_code ON posts (code) WHERE code != ''"};
    create_collection(api, tok, json::serialize(posts));
    json::object owned{{"name", "owned"},
                       {"listRule", "owner = @request.auth.id"},
                       {"viewRule", "owner = @request.auth.id"},
                       {"createRule", ""},
                       {"updateRule", ""},
                       {"deleteRule", ""}};
    owned["fields"] = json::array{json::object{{"name", "note"}, {"type", "text"}},
                                  json::object{{"name", "owner"},
                                               {"type", "relation"},
                                               {"collectionId", users_id_},
                                               {"maxSelect", 1}}};
    create_collection(api, tok, json::serialize(owned));
    create_collection(api, tok, R"json({"name":"members","listRule":"@request.auth.id != ''",
      "viewRule":"@request.auth.id != ''","createRule":"","fields":[{"name":"note","type":"text"}]})json");
    json::object u{{"email", kUserEmail},
                   {"password", kUserPassword},
                   {"passwordConfirm", kUserPassword},
                   {"name", "Ann"}};
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
  static std::uint16_t port() { return server_->api().port(); }

  static Reply subscribe(const SseClient& c, std::vector<std::string> subs,
                         std::string_view token = {}) {
    json::array arr;
    for (auto& s : subs) arr.push_back(json::string(s));
    json::object body{{"clientId", c.client_id()}, {"subscriptions", std::move(arr)}};
    return api().post("/api/realtime", json::serialize(body), token);
  }

  static std::unique_ptr<SseClient> connect() {
    auto c = std::make_unique<SseClient>(port());
    EXPECT_TRUE(c->open()) << c->head() << c->body();
    return c;
  }

  static std::string create_post(std::string_view title, std::string_view token = {}) {
    json::object body{{"title", title}};
    return str_at(create_record(api(), "posts", json::serialize(body), token), "/id");
  }

  static inline SeededServer* server_ = nullptr;
  static inline std::string users_id_, user_id_, user_token_, user2_id_, user2_token_;
};

TEST_F(Realtime, ConnectSendsClientIdAsEventIdAndData) {
  auto c = connect();
  EXPECT_NE(c->head().find("Content-Type: text/event-stream"), std::string::npos) << c->head();
  EXPECT_NE(c->head().find("Cache-Control: no-store"), std::string::npos);
  EXPECT_EQ(c->client_id().size(), 40U);
  EXPECT_EQ(c->connect_data(), R"({"clientId":")" + c->client_id() + R"("})");
}

TEST_F(Realtime, WildcardTopicGetsCreateUpdateDelete) {
  auto c = connect();
  ASSERT_EQ(subscribe(*c, {"posts/*"}).status, 204);
  auto id = create_post("first");
  ASSERT_TRUE(api().patch(records_path("posts", id), R"({"title":"second"})").status == 200);
  ASSERT_EQ(api().del(records_path("posts", id)).status, 204);
  std::vector<std::string> actions, titles;
  for (int i = 0; i < 3; ++i) {
    auto ev = c->next();
    ASSERT_TRUE(ev) << "event " << i;
    EXPECT_EQ(ev->name, "posts/*");
    EXPECT_EQ(ev->id, c->client_id());
    auto v = event_json(*ev);
    EXPECT_EQ(keys_of(v), (std::vector<std::string>{"record", "action"})) << ev->data;
    EXPECT_EQ(str_at(v, "/record/id"), id);
    EXPECT_EQ(str_at(v, "/record/collectionName"), "posts");
    actions.push_back(str_at(v, "/action"));
    titles.push_back(str_at(v, "/record/title"));
  }
  EXPECT_EQ(actions, (std::vector<std::string>{"create", "update", "delete"}));
  EXPECT_EQ(titles, (std::vector<std::string>{"first", "second", "second"}));
}

TEST_F(Realtime, RecordTopicOnlyThatRecordAndCollectionIdWorks) {
  auto watched = create_post("watched");
  auto c = connect();
  auto posts = api().get("/api/collections/posts", su());
  std::string posts_id = str_at(posts.json, "/id");
  ASSERT_EQ(subscribe(*c, {"posts/" + watched, posts_id + "/*"}).status, 204);
  auto other = create_post("other");
  ASSERT_EQ(api().patch(records_path("posts", watched), R"({"title":"changed"})").status, 200);
  auto e1 = c->next();
  ASSERT_TRUE(e1);
  EXPECT_EQ(e1->name, posts_id + "/*");
  EXPECT_EQ(str_at(event_json(*e1), "/record/id"), other);
  // The update of the watched record reaches both subscriptions, each under its own name.
  std::vector<std::string> names;
  for (int i = 0; i < 2; ++i) {
    auto ev = c->next();
    ASSERT_TRUE(ev);
    EXPECT_EQ(str_at(event_json(*ev), "/record/id"), watched);
    EXPECT_EQ(str_at(event_json(*ev), "/action"), "update");
    names.push_back(ev->name);
  }
  std::sort(names.begin(), names.end());
  std::vector<std::string> expected{"posts/" + watched, posts_id + "/*"};
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(names, expected);
}

TEST_F(Realtime, WritesAcknowledgedBeforeSubscribingAreNotSent) {
  auto c = connect();
  // Subscribing right after a burst of acknowledged writes.
  for (int i = 0; i < 20; ++i) create_post("before " + std::to_string(i));
  ASSERT_EQ(subscribe(*c, {"posts/*"}).status, 204);
  create_post("after");
  auto ev = c->next();
  ASSERT_TRUE(ev);
  EXPECT_EQ(str_at(event_json(*ev), "/record/title"), "after");
}

TEST_F(Realtime, UnsubscribeByPostingFewerTopics) {
  auto c = connect();
  ASSERT_EQ(subscribe(*c, {"posts/*", "members/*"}).status, 204);
  create_post("seen");
  auto ev = c->next();
  ASSERT_TRUE(ev);
  EXPECT_EQ(str_at(event_json(*ev), "/record/title"), "seen");
  // Subscriptions are replaced, not added: posts/* is gone, owned/* is new.
  ASSERT_EQ(subscribe(*c, {"owned/*"}, su()).status, 204);
  create_post("unseen");
  json::object note{{"note", "fence"}, {"owner", user_id_}};
  create_record(api(), "owned", json::serialize(note), su());
  auto next = c->next();
  ASSERT_TRUE(next);
  EXPECT_EQ(next->name, "owned/*");
  EXPECT_EQ(str_at(event_json(*next), "/record/note"), "fence");
  // The connection is bound to the superuser now: dropping the token is an auth change.
  EXPECT_EQ(subscribe(*c, {}).status, 403);
  ASSERT_EQ(subscribe(*c, {}, su()).status, 204);
  create_post("after unsubscribing all");
  EXPECT_FALSE(c->next(500ms));
}

TEST_F(Realtime, OptionsFieldsExpandAndFilter) {
  auto c = connect();
  std::string fields = R"(posts/*?options={"query":{"fields":"id,title"}})";
  std::string expand =
      "posts/*?options=" + std::string("%7B%22query%22%3A%7B%22expand%22%3A%22author%22%7D%7D");
  std::string filter = R"(posts/*?options={"query":{"filter":"title ~ 'match'"}})";
  // As a superuser, who may expand `author` (users are private by default).
  ASSERT_EQ(subscribe(*c, {fields, expand, filter}, su()).status, 204);
  json::object body{{"title", "no"}, {"author", user_id_}};
  create_record(api(), "posts", json::serialize(body));
  body["title"] = "a match";
  create_record(api(), "posts", json::serialize(body));
  std::map<std::string, std::vector<json::value>> by_name;
  for (auto& ev : c->drain()) by_name[ev.name].push_back(event_json(ev));
  ASSERT_EQ(by_name[fields].size(), 2U);
  EXPECT_EQ(keys_of(at(by_name[fields][0], "/record")), (std::vector<std::string>{"id", "title"}));
  ASSERT_EQ(by_name[expand].size(), 2U);
  EXPECT_EQ(str_at(by_name[expand][0], "/record/expand/author/id"), user_id_);
  EXPECT_EQ(str_at(by_name[expand][0], "/record/expand/author/name"), "Ann");
  EXPECT_FALSE(has_key(at(by_name[expand][0], "/record/expand/author"), "password"));
  ASSERT_EQ(by_name[filter].size(), 1U);
  EXPECT_EQ(str_at(by_name[filter][0], "/record/title"), "a match");
}

TEST_F(Realtime, RulesKeepOtherUsersRecordsPrivate) {
  auto ann = connect(), bob = connect(), guest = connect(), admin = connect();
  ASSERT_EQ(subscribe(*ann, {"owned/*"}, user_token_).status, 204);
  ASSERT_EQ(subscribe(*bob, {"owned/*"}, user2_token_).status, 204);
  ASSERT_EQ(subscribe(*guest, {"owned/*"}).status, 204);
  ASSERT_EQ(subscribe(*admin, {"owned/*"}, su()).status, 204);
  json::object mine{{"note", "ann's secret"}, {"owner", user_id_}};
  auto ann_rec = str_at(create_record(api(), "owned", json::serialize(mine), su()), "/id");
  json::object theirs{{"note", "bob's"}, {"owner", user2_id_}};
  auto bob_rec = str_at(create_record(api(), "owned", json::serialize(theirs), su()), "/id");

  auto a = ann->drain();
  ASSERT_EQ(a.size(), 1U);
  EXPECT_EQ(str_at(event_json(a[0]), "/record/id"), ann_rec);
  auto b = bob->drain();
  ASSERT_EQ(b.size(), 1U);
  EXPECT_EQ(str_at(event_json(b[0]), "/record/id"), bob_rec);
  EXPECT_TRUE(guest->drain().empty());
  EXPECT_EQ(admin->drain().size(), 2U);

  // Record topics use the view rule the same way.
  ASSERT_EQ(subscribe(*bob, {"owned/" + ann_rec}, user2_token_).status, 204);
  ASSERT_EQ(subscribe(*ann, {"owned/" + ann_rec}, user_token_).status, 204);
  ASSERT_EQ(api().patch(records_path("owned", ann_rec), R"({"note":"edited"})", su()).status, 200);
  auto edited = ann->next();
  ASSERT_TRUE(edited);
  EXPECT_EQ(str_at(event_json(*edited), "/record/note"), "edited");
  EXPECT_TRUE(bob->drain().empty());
}

TEST_F(Realtime, DeleteEventPassesTheRuleOfTheDeletedRecord) {
  auto ann = connect(), bob = connect();
  json::object mine{{"note", "to delete"}, {"owner", user_id_}};
  auto rec = str_at(create_record(api(), "owned", json::serialize(mine), su()), "/id");
  ASSERT_EQ(subscribe(*ann, {"owned/*", "owned/" + rec}, user_token_).status, 204);
  ASSERT_EQ(subscribe(*bob, {"owned/*"}, user2_token_).status, 204);
  ASSERT_EQ(api().del(records_path("owned", rec), su()).status, 204);
  auto events = ann->drain();
  ASSERT_EQ(events.size(), 2U);
  for (const auto& ev : events) {
    EXPECT_EQ(str_at(event_json(ev), "/action"), "delete");
    EXPECT_EQ(str_at(event_json(ev), "/record/note"), "to delete");
  }
  EXPECT_TRUE(bob->drain().empty());
}

TEST_F(Realtime, NoEventForFailedOrRolledBackWrites) {
  auto c = connect();
  ASSERT_EQ(subscribe(*c, {"posts/*"}).status, 204);
  // Rolled back inside the write transaction: the create rule refuses it.
  EXPECT_EQ(api().post(records_path("posts"), R"({"title":"forbidden"})").status, 400);
  // Failed in the database: a unique index refuses the second row.
  ASSERT_EQ(api().post(records_path("posts"), R"({"title":"u1","code":"dup"})").status, 200);
  auto first = c->next();
  ASSERT_TRUE(first);
  EXPECT_EQ(str_at(event_json(*first), "/record/code"), "dup");
  EXPECT_EQ(api().post(records_path("posts"), R"({"title":"u2","code":"dup"})").status, 400);
  // A batch is all-or-nothing: one failing request, no event for the others.
  ASSERT_EQ(api().send("PATCH", "/api/settings", R"({"batch":{"enabled":true}})", su()).status,
            200);
  auto batch = api().post("/api/batch", R"({"requests":[
      {"method":"POST","url":"/api/collections/posts/records","body":{"title":"in batch"}},
      {"method":"POST","url":"/api/collections/posts/records","body":{"title":"forbidden"}}]})");
  EXPECT_EQ(batch.status, 400) << batch.body;
  create_post("fence");
  auto next = c->next();
  ASSERT_TRUE(next);
  EXPECT_EQ(str_at(event_json(*next), "/record/title"), "fence");
  // A batch that commits sends its events in order.
  batch = api().post("/api/batch", R"({"requests":[
      {"method":"POST","url":"/api/collections/posts/records","body":{"title":"b1"}},
      {"method":"POST","url":"/api/collections/posts/records","body":{"title":"b2"}}]})");
  ASSERT_EQ(batch.status, 200) << batch.body;
  auto events = c->drain();
  ASSERT_EQ(events.size(), 2U);
  EXPECT_EQ(str_at(event_json(events[0]), "/record/title"), "b1");
  EXPECT_EQ(str_at(event_json(events[1]), "/record/title"), "b2");
}

TEST_F(Realtime, AuthBoundToTheLiveConnection) {
  auto c = connect(), fence = connect();
  ASSERT_EQ(subscribe(*fence, {"members/*"}, su()).status, 204);
  auto note = [](std::string_view text) {
    json::object b{{"note", text}};
    create_record(api(), "members", json::serialize(b));
  };
  ASSERT_EQ(subscribe(*c, {"members/*"}).status, 204);
  note("as guest");
  ASSERT_TRUE(fence->next());
  EXPECT_FALSE(c->next(300ms));
  // Guest -> user: allowed, and events follow the new auth at once.
  ASSERT_EQ(subscribe(*c, {"members/*"}, user_token_).status, 204);
  note("as user");
  auto ev = c->next();
  ASSERT_TRUE(ev);
  EXPECT_EQ(str_at(event_json(*ev), "/record/note"), "as user");
  // Another user on the same connection: refused, as PocketBase.
  auto other = subscribe(*c, {"members/*"}, user2_token_);
  EXPECT_EQ(other.status, 403);
  EXPECT_EQ(str_at(other.json, "/message"),
            "The current and the previous request authorization don't match.");
  // A password change (new tokenKey) unbinds the connection: it is a guest again.
  ASSERT_EQ(api()
                .patch(records_path("users", user_id_),
                       R"({"password":"new-pass-1234","passwordConfirm":"new-pass-1234"})", su())
                .status,
            200);
  fence->drain();
  note("after password change");
  ASSERT_TRUE(fence->next());
  EXPECT_FALSE(c->next(300ms));
  user_token_ = login(api(), "users", kUserEmail, "new-pass-1234");
  ASSERT_EQ(subscribe(*c, {"members/*"}, user_token_).status, 204);
  note("logged in again");
  ev = c->next();
  ASSERT_TRUE(ev);
  EXPECT_EQ(str_at(event_json(*ev), "/record/note"), "logged in again");
}

TEST_F(Realtime, BadSubscriptionRequestsGetTheEnvelope) {
  auto c = connect();
  auto r = api().post("/api/realtime", R"({"subscriptions":["posts/*"]})");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(str_at(r.json, "/data/clientId/code"), "validation_required");
  r = api().post("/api/realtime", R"({"clientId":"nope","subscriptions":["posts/*"]})");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(str_at(r.json, "/message"), "Missing or invalid client id.");
  r = api().post("/api/realtime", R"({"clientId":")" + c->client_id() + R"(","subscriptions":7})");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(str_at(r.json, "/data/subscriptions/code"), "validation_invalid_value");
  r = api().post("/api/realtime", "{not json");
  EXPECT_EQ(r.status, 400);
}

// A sample of the server's /metrics, -1 when absent.
long metric_value(const Api& api, std::string_view name) {
  auto m = api.get("/metrics").body;
  auto pos = m.find("\n" + std::string(name) + " ");
  return pos == std::string::npos ? -1 : std::atol(m.c_str() + pos + name.size() + 2);
}

TEST_F(Realtime, DisconnectedClientsAreForgotten) {
  auto metric = [] { return metric_value(api(), "plinth_realtime_clients"); };
  auto wait_for = [&](int value) {
    auto deadline = std::chrono::steady_clock::now() + 5s;
    while (metric() != value && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(20ms);
    return metric();
  };
  // Earlier tests' clients are gone (their sockets closed when they ended).
  ASSERT_EQ(wait_for(0), 0);
  {
    auto c = connect();
    ASSERT_EQ(subscribe(*c, {"posts/*"}).status, 204);
    EXPECT_EQ(metric(), 1);
  }
  EXPECT_EQ(wait_for(0), 0);
}

TEST_F(Realtime, ChangesAreRecordedOnlyWhileAClientIsConnected) {
  auto clients = [] { return metric_value(api(), "plinth_realtime_clients"); };
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (clients() != 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(20ms);
  ASSERT_EQ(clients(), 0);
  auto published = metric_value(api(), "plinth_realtime_changes_published_total");
  ASSERT_GE(published, 0);
  // No client: the write records no change for realtime at all.
  create_post("nobody listens");
  // A client connects and subscribes: the next write is recorded, published and delivered.
  // Changes go out in commit order, so once it arrives the earlier one would have been
  // counted too.
  auto c = connect();
  ASSERT_EQ(subscribe(*c, {"posts/*"}).status, 204);
  auto id = create_post("somebody listens");
  auto ev = c->next();
  ASSERT_TRUE(ev);
  EXPECT_EQ(str_at(event_json(*ev), "/record/id"), id);
  EXPECT_EQ(metric_value(api(), "plinth_realtime_changes_published_total"), published + 1);
}

// Servers with their own limits.

TEST(RealtimeLimits, SlowConsumerIsDroppedWhileAFastOneKeepsUp) {
  SeededServer server({"--realtime-queue", "4"});
  const auto& api = server.api();
  create_collection(api, server.token(), R"json({"name":"big","listRule":"","viewRule":"",
    "createRule":"","fields":[{"name":"body","type":"text","max":1000000}]})json");
  SseClient slow(api.port(), 4096), fast(api.port());
  ASSERT_TRUE(slow.open());
  ASSERT_TRUE(fast.open());
  for (auto* c : {&slow, &fast}) {
    json::object body{{"clientId", c->client_id()}, {"subscriptions", json::array{"big/*"}}};
    ASSERT_EQ(api.post("/api/realtime", json::serialize(body)).status, 204);
  }
  // ~100 x 200 KB: far more than the socket buffers and 4 queued messages hold.
  const int kWrites = 100;
  json::object rec{{"body", std::string(200 * 1024, 'x')}};
  std::string text = json::serialize(rec);
  int received = 0;
  for (int i = 0; i < kWrites; ++i) {
    ASSERT_EQ(api.post("/api/collections/big/records", text).status, 200);
    // The fast reader gets every event right after its write.
    if (fast.next(5s)) ++received;
  }
  EXPECT_EQ(received, kWrites);
  EXPECT_TRUE(slow.closed_by_server(10s));
  auto metrics = api.get("/metrics").body;
  EXPECT_NE(metrics.find("plinth_realtime_clients_dropped_total 1"), std::string::npos);
}

TEST(RealtimeLimits, MaxClientsAndSubscriptions) {
  SeededServer server({"--realtime-max-clients", "1", "--realtime-max-subscriptions", "2"});
  SseClient one(server.api().port());
  ASSERT_TRUE(one.open());
  SseClient two(server.api().port());
  EXPECT_FALSE(two.open());
  EXPECT_EQ(two.status(), 503);
  EXPECT_NE(two.body().find("Too many realtime clients"), std::string::npos) << two.body();
  json::object body{{"clientId", one.client_id()},
                    {"subscriptions", json::array{"a/*", "b/*", "c/*"}}};
  auto r = server.api().post("/api/realtime", json::serialize(body));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(str_at(r.json, "/data/subscriptions/code"), "validation_length_too_long");
  body["subscriptions"] = json::array{"a/*", "b/*"};
  EXPECT_EQ(server.api().post("/api/realtime", json::serialize(body)).status, 204);
}

TEST(RealtimeLimits, KeepAliveCommentsAndIdleTimeout) {
  SeededServer server({"--realtime-keepalive", "100ms", "--realtime-idle-timeout", "1s"});
  SseClient c(server.api().port());
  ASSERT_TRUE(c.open());
  EXPECT_FALSE(c.next(450ms));
  EXPECT_GE(c.comments(), 2);
  // No event for the idle timeout: the server closes (the SDK reconnects).
  EXPECT_TRUE(c.closed_by_server(5s));
}

TEST(RealtimeLimits, ShutdownClosesStreamsPromptly) {
  SeededServer server;
  SseClient c(server.api().port());
  ASSERT_TRUE(c.open());
  server.process().signal(SIGTERM);
  EXPECT_TRUE(c.closed_by_server(3s));
  auto code = server.process().wait_exit(5s);
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, 0);
  EXPECT_TRUE(server.process().wait_for_log(R"("clean":true)", 1s));
}

}  // namespace
}  // namespace plinth::test::data
