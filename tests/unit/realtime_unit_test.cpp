// Realtime building blocks without a server: subscription strings as
// PocketBase parses them, and the store's change feed (only committed
// changes, in commit order, with the row as written or as it was).

#include <gtest/gtest.h>

#include <atomic>
#include <latch>
#include <mutex>
#include <thread>

#include "plinth/core/collection.hpp"
#include "plinth/core/record.hpp"
#include "plinth/realtime/hub.hpp"
#include "plinth/store/store.hpp"
#include "test_support.hpp"

namespace plinth {
namespace {

namespace json = boost::json;

struct SubscriptionCase {
  std::string name;
  std::string input;
  std::string topic;
  std::map<std::string, std::string> query, headers;
};

TEST(RealtimeSubscription, ParsesTopicAndOptions) {
  const std::vector<SubscriptionCase> cases = {
      {"wildcard", "posts/*", "posts/*", {}, {}},
      {"record", "posts/abc123", "posts/abc123", {}, {}},
      {"sdk encoding",
       "posts/*?options=%7B%22query%22%3A%7B%22filter%22%3A%22a%3D1%22%2C%22n%22%3A5%2C%22b%22%3A"
       "true%7D%2C%22headers%22%3A%7B%22X-Token%22%3A%22t%22%2C%22someHeader%22%3A1%7D%7D",
       "posts/*",
       {{"filter", "a=1"}, {"n", "5"}, {"b", "true"}},
       {{"x_token", "t"}, {"some_header", "1"}}},
      {"raw json",
       R"(posts/*?options={"query":{"fields":"id,title"}})",
       "posts/*",
       {{"fields", "id,title"}},
       {}},
      {"other params first",
       R"(posts/x?a=1&options={"query":{"expand":"author"}})",
       "posts/x",
       {{"expand", "author"}},
       {}},
      {"invalid options ignored", "posts/*?options=not-json", "posts/*", {}, {}},
      {"options not an object", "posts/*?options=[1]", "posts/*", {}, {}},
  };
  for (const auto& c : cases) {
    auto s = realtime::parse_subscription(c.input);
    EXPECT_EQ(s.name, c.input) << c.name;
    EXPECT_EQ(s.topic, c.topic) << c.name;
    EXPECT_EQ(s.query, c.query) << c.name;
    EXPECT_EQ(s.headers, c.headers) << c.name;
  }
  // Equal options give equal keys whatever their order; different ones differ.
  auto a = realtime::parse_subscription(R"(p/*?options={"query":{"a":"1","b":"2"}})");
  auto b = realtime::parse_subscription(R"(p/*?options={"query":{"b":"2","a":"1"}})");
  auto c = realtime::parse_subscription(R"(p/*?options={"query":{"a":"1"}})");
  EXPECT_EQ(a.options_key, b.options_key);
  EXPECT_NE(a.options_key, c.options_key);
}

core::Collection posts_collection() {
  return core::collection_from_row(
      core::default_collection_id("base", "posts"), false, "base", "posts",
      R"J([{"name":"id","type":"text","primaryKey":true,"required":true,"system":true},
          {"name":"title","type":"text"}])J",
      R"J(["CREATE UNIQUE INDEX idx_title ON posts (title)"])J", "", "", "", "", "", "{}", "", "");
}

class ChangeFeed : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = store::open_sqlite_store({.dir = dir_.path()});
    store_->create_collection(posts_collection());
    c_ = store_->catalog()->find("posts");
    ASSERT_TRUE(c_);
    store_->set_commit_listener(
        [this](std::vector<store::RecordChange>&& changes) {
          std::lock_guard lock(mu_);
          for (auto& ch : changes) seen_.push_back(std::move(ch));
        },
        [this] {
          ++asked_;
          return interested_.load();
        });
  }
  std::vector<std::string> summary() {
    std::lock_guard lock(mu_);
    std::vector<std::string> out;
    for (const auto& ch : seen_) {
      const char* action = ch.action == store::RecordChange::Action::create   ? "create"
                           : ch.action == store::RecordChange::Action::update ? "update"
                                                                              : "delete";
      out.push_back(std::string(action) + " " + ch.collection_name + " " +
                    std::string(ch.record.at("id").as_string()) + " " +
                    std::string(ch.record.at("title").as_string()));
    }
    return out;
  }

  test::TempDir dir_;
  std::unique_ptr<store::Store> store_;
  std::shared_ptr<const core::Collection> c_;
  std::mutex mu_;
  std::vector<store::RecordChange> seen_;
  std::atomic<bool> interested_{true};
  std::atomic<int> asked_{0};
};

TEST_F(ChangeFeed, OnlyCommittedChangesInCommitOrder) {
  store_->insert_record(*c_, {{"id", "aaaaaaaaaaaaaaa"}, {"title", "one"}});
  // A failing operation (unique title) contributes nothing.
  EXPECT_THROW(store_->insert_record(*c_, {{"id", "bbbbbbbbbbbbbbb"}, {"title", "one"}}),
               core::ValidationFailed);
  // A transaction that throws after a successful insert contributes nothing.
  EXPECT_THROW(store_->transaction([&](store::Tx& tx) {
    tx.insert_record(*c_, {{"id", "ccccccccccccccc"}, {"title", "three"}});
    throw std::runtime_error("rolled back");
  }),
               std::runtime_error);
  store_->update_record(*c_, "aaaaaaaaaaaaaaa", {{"id", "aaaaaaaaaaaaaaa"}, {"title", "uno"}});
  store_->delete_record(*c_, "aaaaaaaaaaaaaaa");
  // A delete of nothing is no change.
  store_->delete_record(*c_, "aaaaaaaaaaaaaaa");
  EXPECT_EQ(summary(), (std::vector<std::string>{"create posts aaaaaaaaaaaaaaa one",
                                                 "update posts aaaaaaaaaaaaaaa uno",
                                                 "delete posts aaaaaaaaaaaaaaa uno"}));
}

TEST_F(ChangeFeed, WritesWhileNobodyIsInterestedRecordNoChanges) {
  interested_ = false;
  store_->insert_record(*c_, {{"id", "aaaaaaaaaaaaaaa"}, {"title", "unheard"}});
  store_->update_record(*c_, "aaaaaaaaaaaaaaa", {{"id", "aaaaaaaaaaaaaaa"}, {"title", "still"}});
  EXPECT_GE(asked_.load(), 2);  // asked per write operation
  interested_ = true;
  store_->insert_record(*c_, {{"id", "bbbbbbbbbbbbbbb"}, {"title", "heard"}});
  // A transaction is one operation: asked once, before it runs.
  interested_ = false;
  store_->transaction([&](store::Tx& tx) {
    tx.insert_record(*c_, {{"id", "ccccccccccccccc"}, {"title", "quiet"}});
    interested_ = true;
    tx.update_record(*c_, "ccccccccccccccc", {{"id", "ccccccccccccccc"}, {"title", "quieter"}});
  });
  store_->delete_record(*c_, "aaaaaaaaaaaaaaa");
  EXPECT_EQ(summary(), (std::vector<std::string>{"create posts bbbbbbbbbbbbbbb heard",
                                                 "delete posts aaaaaaaaaaaaaaa still"}));
  // The writes themselves all happened.
  EXPECT_TRUE(store_->get_record(*c_, "ccccccccccccccc"));
  EXPECT_FALSE(store_->get_record(*c_, "aaaaaaaaaaaaaaa"));
}

TEST_F(ChangeFeed, ConcurrentWritersSeeTheirChangesOnceAndInCommitOrder) {
  constexpr int kWriters = 32;
  std::latch start(kWriters);
  std::vector<std::thread> threads;
  for (int i = 0; i < kWriters; ++i) {
    threads.emplace_back([&, i] {
      char id[16];
      std::snprintf(id, sizeof(id), "w%014d", i);
      start.arrive_and_wait();
      // Writer 7 collides with writer 3's title: only one of the two commits.
      std::string title = i == 7 ? "t3" : "t" + std::to_string(i);
      try {
        store_->insert_record(*c_, {{"id", id}, {"title", title}});
      } catch (const core::ValidationFailed&) {
      }
    });
  }
  for (auto& t : threads) t.join();
  auto got = summary();
  auto rows = store_->list_records(*c_, {.page = 1, .per_page = 100, .sort = {{"@rowid"}}});
  ASSERT_EQ(got.size(), rows.items.size());
  // The feed's order is the table's insertion (commit) order.
  for (std::size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i], "create posts " + std::string(rows.items[i].at("id").as_string()) + " " +
                          std::string(rows.items[i].at("title").as_string()));
  }
  EXPECT_EQ(got.size(), static_cast<std::size_t>(kWriters - 1));
}

}  // namespace
}  // namespace plinth
