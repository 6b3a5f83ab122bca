// Group commit under load: many concurrent creates in one collection share
// commits; one bad operation in a batch fails alone and the rest are stored.

#include <atomic>
#include <mutex>
#include <set>
#include <thread>

#include "data_support.hpp"

namespace plinth::test::data {
namespace {

constexpr int kThreads = 32;
constexpr int kPerThread = 8;

TEST(GroupCommit, ConcurrentCreatesAllLandAndTheBadOneFailsAlone) {
  SeededServer server({"--access-log", "false"});
  const auto& api = server.api();
  create_collection(api, server.token(), R"json({"name":"load","createRule":"","listRule":"",
      "fields":[{"name":"title","type":"text","required":true},{"name":"n","type":"number"}],
      "indexes":["CREATE UNIQUE INDEX idx_load_title ON load (title)"]})json");
  create_record(api, "load", R"({"title":"taken","n":-1})");

  std::mutex mu;
  std::vector<std::string> failures;  // unexpected outcomes
  std::set<std::string> ids;
  Reply duplicate, invalid;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        json::object body{{"title", "w" + std::to_string(t) + "-" + std::to_string(i)},
                          {"n", t * 100 + i}};
        auto r = api.post(records_path("load"), json::serialize(body));
        std::lock_guard lock(mu);
        if (r.status != 200) {
          failures.push_back(std::to_string(r.status) + " " + r.body);
        } else {
          ids.insert(str_at(r.json, "/id"));
        }
        // Two threads also send one bad write in the middle of their run.
        if (i == kPerThread / 2 && t == 7) {
          auto d = api.post(records_path("load"), R"({"title":"taken"})");
          duplicate = d;
        }
        if (i == kPerThread / 2 && t == 19) {
          auto v = api.post(records_path("load"), R"({"title":"","n":5})");
          invalid = v;
        }
      }
    });
  }
  for (auto& th : threads) th.join();

  EXPECT_TRUE(failures.empty()) << failures.size() << " valid creates failed, first: "
                                << (failures.empty() ? "" : failures.front());
  EXPECT_EQ(ids.size(), static_cast<std::size_t>(kThreads * kPerThread)) << "ids are unique";
  EXPECT_EQ(
      duplicate.text(),
      R"({"data":{"title":{"code":"validation_not_unique","message":"Value must be unique."}},"message":"Failed to create record.","status":400})");
  EXPECT_EQ(
      invalid.text(),
      R"({"data":{"title":{"code":"validation_required","message":"Cannot be blank."}},"message":"Failed to create record.","status":400})");

  auto list = api.get(records_path("load") + "?perPage=1000&fields=title");
  ASSERT_EQ(list.status, 200) << list.body;
  EXPECT_EQ(int_at(list.json, "/totalItems"), kThreads * kPerThread + 1);
  std::set<std::string> titles;
  for (const auto& it : at(list.json, "/items").as_array()) titles.insert(str_at(it, "/title"));
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kPerThread; ++i) {
      auto title = "w" + std::to_string(t) + "-" + std::to_string(i);
      EXPECT_TRUE(titles.count(title)) << title;
    }
  }
  EXPECT_EQ(sqlite(server.db_path(), "SELECT count(*) FROM load"),
            std::to_string(kThreads * kPerThread + 1))
      << "durable in the database file";
}

TEST(GroupCommit, ConcurrentUpdatesAndDeletesStayConsistent) {
  SeededServer server({"--access-log", "false"});
  const auto& api = server.api();
  create_collection(api, server.token(), R"json({"name":"churn","createRule":"","listRule":"",
      "viewRule":"","updateRule":"","deleteRule":"",
      "fields":[{"name":"title","type":"text"},{"name":"n","type":"number"}]})json");
  constexpr int kRecords = 64;
  std::vector<std::string> ids;
  for (int i = 0; i < kRecords; ++i) {
    json::object body{{"title", "r" + std::to_string(i)}, {"n", i}};
    ids.push_back(str_at(create_record(api, "churn", json::serialize(body)), "/id"));
  }
  // Each thread owns a slice: it updates even records and deletes odd ones.
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 16; ++t) {
    threads.emplace_back([&, t] {
      for (int i = t; i < kRecords; i += 16) {
        auto path = records_path("churn", ids[static_cast<std::size_t>(i)]);
        auto r = i % 2 == 0 ? api.patch(path, R"({"n+":1000})") : api.del(path);
        if (r.status != (i % 2 == 0 ? 200 : 204)) ++errors;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(errors.load(), 0);
  auto list = api.get(records_path("churn") + "?perPage=1000&sort=n");
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ(int_at(list.json, "/totalItems"), kRecords / 2);
  std::int64_t expect_n = 1000;
  for (const auto& it : at(list.json, "/items").as_array()) {
    EXPECT_EQ(int_at(it, "/n"), expect_n);
    expect_n += 2;
  }
}

double commits_total(const Api& api) {
  auto m = api.get("/metrics");
  auto pos = m.body.find("\nplinth_store_commits_total ");
  if (pos == std::string::npos) return -1;
  return std::stod(m.body.substr(pos + std::string("\nplinth_store_commits_total ").size()));
}

TEST(GroupCommit, ConcurrentCreatesShareCommitsWithoutAThreadEach) {
  // Creates wait for their commit on fibers, not on a pool thread each: with a single worker
  // thread, concurrent creates still share commits (a thread per wait would serialise them,
  // one commit each), and every one is answered and stored. Sanitizer builds have no fibers
  // and wait on pool threads, so there the pool gets a thread per connection instead.
#ifdef PLINTH_NO_FIBERS
  const char* workers = "64";
  // Slowed by the sanitizers, the clients' requests arrive spread out: fewer share a commit.
  constexpr int kMaxCommits = 63;
#else
  const char* workers = "1";
  constexpr int kMaxCommits = 32;
#endif
  SeededServer server({"--access-log", "false", "--workers", workers, "--threads", "1"});
  const auto& api = server.api();
  create_collection(api, server.token(), R"json({"name":"burst","createRule":"","listRule":"",
      "fields":[{"name":"title","type":"text","required":true}],
      "indexes":["CREATE UNIQUE INDEX idx_burst_title ON burst (title)"]})json");
  double before = commits_total(api);
  ASSERT_GE(before, 0) << "plinth_store_commits_total is exposed";
  constexpr int kCreates = 64;
  std::atomic<int> ok{0}, duplicate{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kCreates; ++t) {
    threads.emplace_back([&, t] {
      // One title is sent twice: its second create fails alone inside the shared commit.
      auto title = t == 33 ? std::string("t0") : "t" + std::to_string(t);
      auto r = api.post(records_path("burst"), json::serialize(json::object{{"title", title}}));
      if (r.status == 200) ++ok;
      if (r.status == 400 && r.body.find("validation_not_unique") != std::string::npos) ++duplicate;
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok.load(), kCreates - 1);
  EXPECT_EQ(duplicate.load(), 1);
  double commits = commits_total(api) - before;
  EXPECT_GE(commits, 1);
  EXPECT_LE(commits, kMaxCommits) << "concurrent creates did not share commits";
  EXPECT_EQ(sqlite(server.db_path(), "SELECT count(*) FROM burst"), std::to_string(kCreates - 1));
}

}  // namespace
}  // namespace plinth::test::data
