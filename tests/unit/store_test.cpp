// The SQLite store against a real database in a temp dir: layout, group
// commit with a failing operation, relation cascades.

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <latch>
#include <thread>

#include "plinth/core/json.hpp"
#include "plinth/core/record.hpp"
#include "plinth/query/filter.hpp"
#include "plinth/store/store.hpp"
#include "test_support.hpp"

namespace plinth::store {
namespace {

core::Collection base_collection(std::string name, std::string fields_json) {
  auto c = core::collection_from_row(core::default_collection_id("base", name), false, "base", name,
                                     fields_json, "[]", "", "", "", "", "", "{}", "", "");
  return c;
}

const char* kIdField =
    R"({"name":"id","type":"text","primaryKey":true,"required":true,"system":true})";

std::vector<std::string> query_column(const std::string& db_path, const std::string& sql) {
  sqlite3* db = nullptr;
  sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
  sqlite3_stmt* st = nullptr;
  std::vector<std::string> out;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK) {
    while (sqlite3_step(st) == SQLITE_ROW) {
      auto* t = sqlite3_column_text(st, 0);
      out.emplace_back(t ? reinterpret_cast<const char*>(t) : "");
    }
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  return out;
}

TEST(Store, FreshDirectoryHasPocketBaseLayout) {
  test::TempDir dir;
  {
    auto s = open_sqlite_store({.dir = dir.path()});
    auto cat = s->catalog();
    for (const char* name :
         {"_superusers", "users", "_mfas", "_otps", "_externalAuths", "_authOrigins"}) {
      EXPECT_TRUE(cat->find(name)) << name;
    }
    EXPECT_EQ(cat->find("_superusers")->id, "pbc_3142635823");
    EXPECT_EQ(cat->find("users")->id, "_pb_users_auth_");
    EXPECT_EQ(*cat->find("users")->view_rule, "id = @request.auth.id");
  }
  auto db = dir.path() + "/data.db";
  auto tables = query_column(db, "SELECT name FROM sqlite_master WHERE type='table' ORDER BY name");
  for (const char* t : {"_collections", "_params", "_migrations", "_superusers", "users", "_mfas",
                        "_otps", "_externalAuths", "_authOrigins"}) {
    EXPECT_NE(std::find(tables.begin(), tables.end(), t), tables.end()) << t;
  }
  auto migrations = query_column(db, "SELECT file FROM _migrations");
  EXPECT_NE(std::find(migrations.begin(), migrations.end(), "1640988000_init.go"),
            migrations.end());
  EXPECT_EQ(query_column(db, "PRAGMA journal_mode"), std::vector<std::string>{"wal"});
  EXPECT_EQ(query_column(db, "SELECT count(*) FROM _params WHERE id='settings'"),
            std::vector<std::string>{"1"});
  auto aux = query_column(dir.path() + "/auxiliary.db",
                          "SELECT name FROM sqlite_master WHERE name='_logs'");
  EXPECT_EQ(aux.size(), 1U);

  // Reopening is idempotent: nothing duplicated, nothing lost.
  auto again = open_sqlite_store({.dir = dir.path()});
  EXPECT_EQ(again->catalog()->all().size(), 6U);
}

TEST(Store, GroupCommitIsolatesAFailingOperation) {
  test::TempDir dir;
  auto s = open_sqlite_store({.dir = dir.path()});
  auto posts =
      base_collection("posts", std::string("[") + kIdField + R"(,{"name":"title","type":"text"}])");
  s->create_collection(posts);
  auto c = s->catalog()->find("posts");
  ASSERT_TRUE(c);

  constexpr int kWriters = 64;
  s->insert_record(*c, {{"id", "dupdupdupdupdup"}, {"title", "first"}});
  auto before = s->write_stats();
  std::latch start(kWriters);
  std::atomic<int> ok{0}, failed{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kWriters; ++i) {
    threads.emplace_back([&, i] {
      char id[16];
      std::snprintf(id, sizeof(id), "w%014d", i);
      // Writer 17 reuses an existing id: its operation fails, the rest commit.
      json::object values{{"id", i == 17 ? std::string("dupdupdupdupdup") : std::string(id)},
                          {"title", "t" + std::to_string(i)}};
      start.arrive_and_wait();
      try {
        s->insert_record(*c, values);
        ++ok;
      } catch (const core::ValidationFailed& e) {
        EXPECT_EQ(e.errors().at("id").code, "validation_not_unique");
        ++failed;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), kWriters - 1);
  EXPECT_EQ(failed.load(), 1);
  auto list = s->list_records(*c, {.page = 1, .per_page = 1000});
  EXPECT_EQ(list.total_items, kWriters);  // 63 new + the first
  auto after = s->write_stats();
  EXPECT_EQ(after.operations - before.operations, static_cast<std::uint64_t>(kWriters));
  EXPECT_LT(after.commits - before.commits, static_cast<std::uint64_t>(kWriters))
      << "no operations shared a commit";
  // Durability full (the default): every commit was synced before its writers returned, and
  // one sync may cover several commits.
  EXPECT_GE(after.syncs - before.syncs, 1U);
  EXPECT_LE(after.syncs - before.syncs, after.commits - before.commits);
  auto first = s->get_record(*c, "dupdupdupdupdup");
  ASSERT_TRUE(first);
  EXPECT_EQ(first->at("title").as_string(), "first");
}

TEST(Store, CheckpointsKeepTheWalSmallUnderSteadyWrites) {
  // 12 MB of records written by 8 threads while 2 others read: with a checkpoint due every 64
  // WAL pages, the pages move into the database file and the WAL starts over, so it never
  // holds more than a fraction of what was written (without checkpoints: all of it).
  test::TempDir dir;
  auto s = open_sqlite_store({.dir = dir.path(), .checkpoint_pages = 64});
  s->create_collection(
      base_collection("blobs", std::string("[") + kIdField + R"(,{"name":"body","type":"text"}])"));
  auto c = s->catalog()->find("blobs");
  ASSERT_TRUE(c);
  constexpr int kWriters = 8, kEach = 500;
  const std::string body(3000, 'x');
  std::atomic<bool> done{false};
  std::vector<std::thread> threads;
  for (int r = 0; r < 2; ++r) {
    threads.emplace_back([&] {
      while (!done) {
        {
          auto batch = s->batch_reads();
          (void)s->list_records(*c, {.page = 1, .per_page = 5});
        }
        // A reader that never lets go of its snapshot keeps any WAL from starting over
        // (SQLite's checkpoint starvation); requests come and go.
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
    });
  }
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      for (int i = 0; i < kEach; ++i) {
        char id[16];
        std::snprintf(id, sizeof(id), "b%02d%012d", w, i);
        s->insert_record(*c, {{"id", id}, {"body", body}});
      }
    });
  }
  for (auto& t : writers) t.join();
  done = true;
  for (auto& t : threads) t.join();
  EXPECT_EQ(s->list_records(*c, {.page = 1, .per_page = 1}).total_items, kWriters * kEach);
  auto wal = std::filesystem::file_size(std::filesystem::path(dir.path()) / "data.db-wal");
  auto db = std::filesystem::file_size(std::filesystem::path(dir.path()) / "data.db");
  std::printf("checkpoints: %d records of 3 KB, WAL %ju bytes, database %ju bytes\n",
              kWriters * kEach, static_cast<std::uintmax_t>(wal), static_cast<std::uintmax_t>(db));
  EXPECT_LT(wal, 6U << 20) << "the WAL kept growing: it never started over";
  EXPECT_GT(db, 8U << 20) << "the records never reached the database file";
}

TEST(Store, BatchedReadsSeeEveryCommittedWrite) {
  test::TempDir dir;
  // One reader: a batch that kept it too long would starve every other reader.
  auto s = open_sqlite_store({.dir = dir.path(), .readers = 1});
  auto posts =
      base_collection("posts", std::string("[") + kIdField + R"(,{"name":"title","type":"text"}])");
  s->create_collection(posts);
  auto c = s->catalog()->find("posts");
  ASSERT_TRUE(c);
  s->insert_record(*c, {{"id", "aaaaaaaaaaaaaaa"}, {"title", "a"}});

  auto batch = s->batch_reads();
  ASSERT_TRUE(batch) << "the SQLite store batches reads";
  EXPECT_FALSE(s->batch_reads()) << "a thread batches once at a time";
  EXPECT_TRUE(s->get_record(*c, "aaaaaaaaaaaaaaa"));
  EXPECT_FALSE(s->get_record(*c, "bbbbbbbbbbbbbbb"));
  // Another thread commits while this one holds its read transaction open...
  std::thread([&] { s->insert_record(*c, {{"id", "bbbbbbbbbbbbbbb"}, {"title", "b"}}); }).join();
  // ...and the next read of the batch sees it, as an unbatched read would.
  EXPECT_TRUE(s->get_record(*c, "bbbbbbbbbbbbbbb"));
  EXPECT_EQ(s->list_records(*c, {.page = 1, .per_page = 10}).total_items, 2);
  // A write made inside the batch hands the reader back first, then reads see it.
  s->insert_record(*c, {{"id", "ccccccccccccccc"}, {"title", "c"}});
  std::thread([&] {
    auto other = s->get_record(*c, "ccccccccccccccc");
    EXPECT_TRUE(other) << "the only reader was free while the batch's write waited";
  }).join();
  EXPECT_TRUE(s->get_record(*c, "ccccccccccccccc"));
  batch.reset();
  // The batch gave its reader back: another thread reads with the single connection.
  std::thread([&] {
    EXPECT_EQ(s->list_records(*c, {.page = 1, .per_page = 10}).total_items, 3);
  }).join();
  EXPECT_TRUE(s->batch_reads()) << "a new batch can start on this thread";
}

TEST(Store, ListCountsAreRememberedOnlyWhileTheDatabaseIsUnchanged) {
  test::TempDir dir;
  // One reader, so every list below runs on the same connection and its count cache.
  auto s = open_sqlite_store({.dir = dir.path(), .readers = 1});
  s->create_collection(base_collection(
      "posts", std::string("[") + kIdField +
                   R"(,{"name":"title","type":"text"},{"name":"views","type":"number"}])"));
  auto c = s->catalog()->find("posts");
  ASSERT_TRUE(c);
  for (int i = 0; i < 30; ++i) {
    char id[16];
    std::snprintf(id, sizeof(id), "p%014d", i);
    s->insert_record(*c, {{"id", id}, {"title", "t"}, {"views", i}});
  }
  auto list = [&](const std::string& filter, std::int64_t page = 1) {
    auto compiled = query::compile(filter, *s->catalog(), *c, {}, {.allow_hidden = true});
    EXPECT_TRUE(std::holds_alternative<query::Compiled>(compiled)) << filter;
    return s->list_records(
        *c,
        {.page = page, .per_page = 5, .compiled = std::get<query::Compiled>(std::move(compiled))});
  };
  auto before = s->read_stats();

  auto first = list("views >= 10");
  EXPECT_EQ(first.total_items, 20);
  EXPECT_EQ(first.items.size(), 5U);
  EXPECT_FALSE(first.total_from_cache) << "nothing counted yet";
  auto again = list("views >= 10");
  EXPECT_EQ(again.total_items, 20);
  EXPECT_TRUE(again.total_from_cache) << "same count, database unchanged";
  // The same SQL with another bound value is another count.
  auto other = list("views >= 25");
  EXPECT_EQ(other.total_items, 5);
  EXPECT_FALSE(other.total_from_cache);

  // A write committed through the store is seen by the next count.
  s->insert_record(*c, {{"id", "p00000000000100"}, {"title", "t"}, {"views", 40}});
  auto after_write = list("views >= 10");
  EXPECT_EQ(after_write.total_items, 21);
  EXPECT_FALSE(after_write.total_from_cache);
  EXPECT_TRUE(list("views >= 10").total_from_cache);

  // So is one made by another connection, outside the store (another process could).
  {
    sqlite3* raw = nullptr;
    ASSERT_EQ(
        sqlite3_open_v2((dir.path() + "/data.db").c_str(), &raw, SQLITE_OPEN_READWRITE, nullptr),
        SQLITE_OK);
    sqlite3_busy_timeout(raw, 5000);
    EXPECT_EQ(sqlite3_exec(raw,
                           "INSERT INTO posts (id, title, views) VALUES ('p00000000000101', "
                           "'t', 50), ('p00000000000102', 't', 60)",
                           nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(raw);
  }
  auto after_outside = list("views >= 10");
  EXPECT_EQ(after_outside.total_items, 23);
  EXPECT_FALSE(after_outside.total_from_cache);

  // Past the last page: no items, and the count of that same snapshot.
  auto past = list("views >= 10", 10);
  EXPECT_TRUE(past.items.empty());
  EXPECT_EQ(past.total_items, 23);

  // A batch of reads keeps its read transaction while nothing commits; a commit by another
  // thread still reaches the next count.
  {
    auto batch = s->batch_reads();
    ASSERT_TRUE(batch);
    EXPECT_EQ(list("views >= 10").total_items, 23);
    std::thread([&] {
      s->insert_record(*c, {{"id", "p00000000000103"}, {"title", "t"}, {"views", 70}});
    }).join();
    auto in_batch = list("views >= 10");
    EXPECT_EQ(in_batch.total_items, 24);
    EXPECT_FALSE(in_batch.total_from_cache);
  }

  auto stats = s->read_stats();
  EXPECT_EQ(stats.list_counts - before.list_counts, 9U);
  EXPECT_EQ(stats.list_counts_cached - before.list_counts_cached, 3U);
  auto skipped = s->list_records(*c, {.page = 1, .per_page = 5, .skip_total = true});
  EXPECT_EQ(skipped.total_items, -1);
  EXPECT_EQ(s->read_stats().list_counts, stats.list_counts) << "no total, no count";
}

// The record's API JSON written straight from its row is the very text of the record read into
// an object, shaped by record_to_api and serialised, for every field type and for values the
// store would not write itself (numbers and booleans as text, other date formats, JSON in a
// single select, NULLs), in base and auth collections, with every view option.
TEST(Store, ApiRecordWrittenFromTheRowMatchesTheRecordShapedAndSerialised) {
  test::TempDir dir;
  auto s = open_sqlite_store({.dir = dir.path()});
  s->create_collection(base_collection("authors", std::string("[") + kIdField + "]"));
  auto authors = s->catalog()->find("authors");
  auto fields = std::string("[") + kIdField +
                R"(,{"name":"title","type":"text"},{"name":"n","type":"number"},)"
                R"({"name":"ok","type":"bool"},{"name":"mail","type":"email"},)"
                R"({"name":"site","type":"url"},{"name":"body","type":"editor"},)"
                R"({"name":"when","type":"date"},)"
                R"({"name":"created","type":"autodate","onCreate":true},)"
                R"({"name":"one","type":"select","maxSelect":1,"values":["a","b","c"]},)"
                R"({"name":"many","type":"select","maxSelect":3,"values":["a","b","c"]},)"
                R"({"name":"author","type":"relation","maxSelect":1,"collectionId":")" +
                authors->id +
                R"("},{"name":"authors","type":"relation","maxSelect":5,"collectionId":")" +
                authors->id +
                R"("},{"name":"doc","type":"file","maxSelect":1},)"
                R"({"name":"docs","type":"file","maxSelect":4},{"name":"meta","type":"json"},)"
                R"({"name":"where","type":"geoPoint"},{"name":"secret","type":"password"},)"
                R"({"name":"note","type":"text","hidden":true}])";
  s->create_collection(base_collection("things", fields));
  auto things = s->catalog()->find("things");
  ASSERT_TRUE(things);

  const std::string db_path = dir.path() + "/data.db";
  auto exec = [&](const std::string& sql) {
    sqlite3* raw = nullptr;
    ASSERT_EQ(sqlite3_open(db_path.c_str(), &raw), SQLITE_OK);
    char* err = nullptr;
    EXPECT_EQ(sqlite3_exec(raw, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK)
        << (err ? err : "") << " in " << sql;
    sqlite3_free(err);
    sqlite3_close(raw);
  };
  const char* cols =
      "(id, title, n, ok, mail, site, body, `when`, created, one, many, author, authors, doc, "
      "docs, meta, `where`, secret, note)";
  const char* rows[] = {
      // What the API itself writes.
      "('row000000000001', 'Hello', 42, 1, 'a@b.co', 'https://x.dev', '<p>hi</p>', "
      "'2026-12-01 10:00:00.000Z', '2026-12-01 10:00:00.123Z', 'b', '[\"a\",\"c\"]', "
      "'author000000001', '[\"author000000001\",\"author000000002\"]', 'f.png', "
      "'[\"f.png\",\"g.png\"]', '{\"k\":[1,2.5,\"<&>\"]}', '{\"lon\":1.5,\"lat\":-2}', 'hash', "
      "'hidden text')",
      // Everything NULL but the id.
      "('row000000000002', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, "
      "NULL, NULL, NULL, NULL, NULL, NULL, NULL)",
      // Empty texts, zero numbers, false.
      "('row000000000003', '', 0, 0, '', '', '', '', '', '', '[]', '', '[]', '', '[]', '', '', "
      "'', '')",
      // Types SQLite keeps as they were written by hand: numbers and booleans as text, other
      // date formats, JSON in single-valued columns, a bare value in a multi-valued one.
      "('row000000000004', 'quote \" backslash \\ newline \n tab \t ctrl \x01 line sep "
      "\xe2\x80\xa8 <b>&amp;</b> \xc3\xa9', '3.25', 'true', 'x', 'y', 'z', "
      "'2026-12-01T10:00:00Z', '2026-12-01', '[\"c\",\"a\"]', 'b', "
      "'[\"author000000002\"]', 'author000000001', '[\"a.txt\"]', 'b.txt', 'not json', "
      "'[1,2]', 'x', 'y')",
      "('row000000000005', 'big', 1e300, 'no', NULL, NULL, NULL, 'garbage', "
      "'2026-13-45 99:99:99.999Z', 'zzz', 'a', NULL, NULL, NULL, NULL, 'null', "
      "'{\"lon\":\"x\"}', NULL, NULL)",
      "('row000000000006', 'neg', -0.000001, 2, NULL, NULL, NULL, "
      "'2026-12-01 10:00:00.000+02:00', NULL, NULL, NULL, NULL, NULL, NULL, NULL, '12345', "
      "NULL, NULL, NULL)",
      "('row000000000007', 'tiny', 1e-7, 't', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, "
      "NULL, NULL, NULL, '\"s\"', NULL, NULL, NULL)",
  };
  // The table again without types or NOT NULL, as a hand-made or older database may have it:
  // values stay as they were written, NULLs included.
  exec(std::string("DROP TABLE things; CREATE TABLE things ") + cols);
  for (const char* row : rows) exec(std::string("INSERT INTO things ") + cols + " VALUES " + row);

  const core::ViewOptions views[] = {{false, false}, {true, false}, {false, true}, {true, true}};
  auto check = [&](const core::Collection& c, const std::string& id) {
    for (const auto& vo : views) {
      auto rec = s->get_record(c, id);
      ASSERT_TRUE(rec) << id;
      auto expected = core::to_json(core::record_to_api(c, *rec, vo));
      std::string written = "prefix ";
      ASSERT_TRUE(s->write_api_record(c, id, vo, written)) << id;
      EXPECT_EQ(written, "prefix " + expected)
          << c.name << " " << id << " hidden " << vo.show_hidden << " email " << vo.show_email;
    }
  };
  for (int i = 1; i <= 7; ++i) {
    char id[16];
    std::snprintf(id, sizeof(id), "row%012d", i);
    check(*things, id);
  }
  // The hidden field and the password: shown (the first) only with show_hidden.
  std::string plain, superuser;
  ASSERT_TRUE(s->write_api_record(*things, "row000000000001", {}, plain));
  ASSERT_TRUE(s->write_api_record(*things, "row000000000001", {true, true}, superuser));
  EXPECT_EQ(plain.find("hidden text"), std::string::npos);
  EXPECT_NE(superuser.find(R"("note":"hidden text")"), std::string::npos);
  EXPECT_EQ(superuser.find("secret"), std::string::npos);
  EXPECT_EQ(superuser.find("hash"), std::string::npos);

  // An auth collection: email by emailVisibility (however it is stored) or show_email; never
  // the password hash or the token key.
  auto users = s->catalog()->find("users");
  exec(
      "INSERT INTO users (id, email, emailVisibility, verified, password, tokenKey, name) "
      "VALUES ('user00000000001', 'one@x.co', 1, 1, 'hash1', 'key1', 'One'), "
      "('user00000000002', 'two@x.co', 0, 0, 'hash2', 'key2', 'Two'), "
      "('user00000000003', 'three@x.co', 'true', 'false', 'hash3', 'key3', ''), "
      "('user00000000004', 'four@x.co', 'no', '', 'hash4', 'key4', 'Four')");
  for (const char* id :
       {"user00000000001", "user00000000002", "user00000000003", "user00000000004"})
    check(*users, id);
  std::string visible, invisible, shown;
  ASSERT_TRUE(s->write_api_record(*users, "user00000000001", {}, visible));
  ASSERT_TRUE(s->write_api_record(*users, "user00000000002", {}, invisible));
  ASSERT_TRUE(s->write_api_record(*users, "user00000000002", {false, true}, shown));
  EXPECT_NE(visible.find(R"("email":"one@x.co")"), std::string::npos);
  EXPECT_EQ(invisible.find("two@x.co"), std::string::npos);
  EXPECT_NE(shown.find(R"("email":"two@x.co")"), std::string::npos);
  for (const auto* text : {&visible, &invisible, &shown}) {
    EXPECT_EQ(text->find("hash"), std::string::npos);
    EXPECT_EQ(text->find("key"), std::string::npos);
    EXPECT_EQ(text->find("tokenKey"), std::string::npos);
  }

  // No such record: false, and nothing written.
  std::string untouched = "as it was";
  EXPECT_FALSE(s->write_api_record(*things, "nosuchrecord000", {}, untouched));
  EXPECT_EQ(untouched, "as it was");
}

// A `notes` collection (id, text) made in `s`.
std::shared_ptr<const core::Collection> create_notes(Store& s) {
  s.create_collection(
      base_collection("notes", std::string("[") + kIdField + R"(,{"name":"text","type":"text"}])"));
  return s.catalog()->find("notes");
}

// A record read again is found through the rowid this thread saw it at, checked by its id: a
// row that moved, or another record now at that rowid, never answers for it.
TEST(Store, RecordsReadAgainAreFoundByTheirRowAndNeverByAStaleOne) {
  test::TempDir dir;
  auto s = open_sqlite_store({.dir = dir.path()});
  auto c = create_notes(*s);
  s->insert_record(*c, {{"id", "aaaaaaaaaaaaaaa"}, {"text", "first a"}});
  s->insert_record(*c, {{"id", "bbbbbbbbbbbbbbb"}, {"text", "b"}});
  auto text_of = [&](const char* id) -> std::string {
    auto rec = s->get_record(*c, id);
    std::string api;
    bool written = s->write_api_record(*c, id, {}, api);
    EXPECT_EQ(written, rec.has_value()) << id;
    if (!rec) return "(none)";
    EXPECT_EQ(api, core::to_json(core::record_to_api(*c, *rec, {}))) << id;
    return std::string(rec->at("text").as_string());
  };
  for (int round = 0; round < 2; ++round) {  // the second round goes through the rowids seen
    EXPECT_EQ(text_of("aaaaaaaaaaaaaaa"), "first a");
    EXPECT_EQ(text_of("bbbbbbbbbbbbbbb"), "b");
  }
  auto rowid_of = [&](const char* id) {
    return query_column(dir.path() + "/data.db",
                        std::string("SELECT rowid FROM notes WHERE id = '") + id + "'");
  };
  auto a_rowid = rowid_of("aaaaaaaaaaaaaaa");
  ASSERT_EQ(a_rowid.size(), 1U);

  // Another record takes a's rowid, and a comes back at another one.
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open((dir.path() + "/data.db").c_str(), &raw), SQLITE_OK);
  sqlite3_busy_timeout(raw, 5000);
  auto exec = [&](const std::string& sql) {
    EXPECT_EQ(sqlite3_exec(raw, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK) << sql;
  };
  exec("DELETE FROM notes WHERE id = 'aaaaaaaaaaaaaaa'");
  exec("INSERT INTO notes (rowid, id, text) VALUES (" + a_rowid[0] +
       ", 'ccccccccccccccc', 'c at a''s row')");
  EXPECT_EQ(text_of("aaaaaaaaaaaaaaa"), "(none)") << "c at a's rowid is not a";
  EXPECT_EQ(text_of("ccccccccccccccc"), "c at a's row");
  exec("INSERT INTO notes (id, text) VALUES ('aaaaaaaaaaaaaaa', 'second a')");
  EXPECT_NE(rowid_of("aaaaaaaaaaaaaaa"), a_rowid);
  for (int round = 0; round < 2; ++round) {
    EXPECT_EQ(text_of("aaaaaaaaaaaaaaa"), "second a");
    EXPECT_EQ(text_of("ccccccccccccccc"), "c at a's row");
    EXPECT_EQ(text_of("bbbbbbbbbbbbbbb"), "b");
  }
  // Deleted outright: gone, however it was found before.
  exec("DELETE FROM notes WHERE id = 'bbbbbbbbbbbbbbb'");
  EXPECT_EQ(text_of("bbbbbbbbbbbbbbb"), "(none)");
  sqlite3_close(raw);

  // Another store (another database, same table name) never borrows a row from the first.
  test::TempDir other_dir;
  auto other = open_sqlite_store({.dir = other_dir.path()});
  auto oc = create_notes(*other);
  other->insert_record(*oc, {{"id", "zzzzzzzzzzzzzzz"}, {"text", "z"}});
  EXPECT_FALSE(other->get_record(*oc, "aaaaaaaaaaaaaaa"));
  EXPECT_FALSE(other->get_record(*oc, "ccccccccccccccc"));
  EXPECT_EQ(std::string(other->get_record(*oc, "zzzzzzzzzzzzzzz")->at("text").as_string()), "z");
}

TEST(Store, RelationCascadeRemoveAndRestrict) {
  test::TempDir dir;
  auto s = open_sqlite_store({.dir = dir.path()});
  s->create_collection(base_collection("authors", std::string("[") + kIdField + "]"));
  auto authors = s->catalog()->find("authors");
  auto fields =
      std::string("[") + kIdField + R"(,{"name":"cascade","type":"relation","collectionId":")" +
      authors->id +
      R"(","cascadeDelete":true,"maxSelect":1},{"name":"loose","type":"relation","collectionId":")" +
      authors->id + R"(","maxSelect":5},{"name":"strict","type":"relation","collectionId":")" +
      authors->id + R"(","maxSelect":1,"required":true}])";
  s->create_collection(base_collection("books", fields));
  auto books = s->catalog()->find("books");

  for (const char* id : {"aaaaaaaaaaaaaa1", "aaaaaaaaaaaaaa2", "aaaaaaaaaaaaaa3"})
    s->insert_record(*authors, {{"id", id}});
  // A relation to a missing record is refused.
  EXPECT_THROW(s->insert_record(*books, {{"id", "bbbbbbbbbbbbbb0"}, {"strict", "nosuchrecord000"}}),
               core::ValidationFailed);
  s->insert_record(
      *books,
      {{"id", "bbbbbbbbbbbbbb1"}, {"cascade", "aaaaaaaaaaaaaa1"}, {"strict", "aaaaaaaaaaaaaa3"}});
  s->insert_record(*books, {{"id", "bbbbbbbbbbbbbb2"},
                            {"loose", json::array{"aaaaaaaaaaaaaa2", "aaaaaaaaaaaaaa1"}},
                            {"strict", "aaaaaaaaaaaaaa3"}});

  // Restrict: author 3 is a required reference.
  EXPECT_THROW(s->delete_record(*authors, "aaaaaaaaaaaaaa3"), StoreError);
  EXPECT_TRUE(s->get_record(*authors, "aaaaaaaaaaaaaa3"));

  // Remove: author 2 disappears from book 2's multi relation.
  EXPECT_TRUE(s->delete_record(*authors, "aaaaaaaaaaaaaa2"));
  EXPECT_EQ(core::to_json(s->get_record(*books, "bbbbbbbbbbbbbb2")->at("loose")),
            R"(["aaaaaaaaaaaaaa1"])");

  // Cascade: deleting author 1 deletes book 1 and removes it from book 2.
  EXPECT_TRUE(s->delete_record(*authors, "aaaaaaaaaaaaaa1"));
  EXPECT_FALSE(s->get_record(*books, "bbbbbbbbbbbbbb1"));
  EXPECT_EQ(core::to_json(s->get_record(*books, "bbbbbbbbbbbbbb2")->at("loose")), "[]");
  EXPECT_FALSE(s->delete_record(*authors, "aaaaaaaaaaaaaa1"));
}

TEST(Store, SchemaChangeOnPopulatedTablePreservesDataOrRollsBack) {
  test::TempDir dir;
  auto s = open_sqlite_store({.dir = dir.path(), .durability = Durability::normal});
  auto fields =
      std::string("[") + kIdField +
      R"(,{"id":"f_title","name":"title","type":"text"},{"id":"f_count","name":"count","type":"text"},
                   {"id":"f_tag","name":"tag","type":"select","values":["a","b"],"maxSelect":1},
                   {"id":"f_old","name":"old","type":"text"}])";
  s->create_collection(base_collection("items", fields));
  auto before = s->catalog()->find("items");
  constexpr int kRows = 10000;
  std::vector<std::thread> writers;
  for (int t = 0; t < 8; ++t) {
    writers.emplace_back([&, t] {
      for (int i = t; i < kRows; i += 8) {
        char id[16];
        std::snprintf(id, sizeof(id), "r%014d", i);
        s->insert_record(*before, {{"id", id},
                                   {"title", "title " + std::to_string(i)},
                                   {"count", std::to_string(i)},
                                   {"tag", i % 2 ? "a" : "b"},
                                   {"old", "x"}});
      }
    });
  }
  for (auto& w : writers) w.join();
  EXPECT_EQ(s->write_stats().syncs, 0U) << "durability normal syncs the WAL at checkpoints only";

  // rename title -> headline, retype count text -> number and tag single -> multi,
  // remove old, add extra, index headline.
  core::Collection after = *before;
  after.fields.clear();
  std::string err;
  auto field = [&](const char* json) {
    return *core::Field::from_json(core::parse_json(json)->get_object(), err);
  };
  after.fields.push_back(before->fields[0]);
  after.fields.push_back(field(R"({"id":"f_title","name":"headline","type":"text"})"));
  after.fields.push_back(field(R"({"id":"f_count","name":"count","type":"number"})"));
  after.fields.push_back(
      field(R"({"id":"f_tag","name":"tag","type":"select","values":["a","b"],"maxSelect":2})"));
  after.fields.push_back(field(R"({"id":"f_extra","name":"extra","type":"number"})"));
  after.indexes = {"CREATE UNIQUE INDEX idx_headline ON items (headline)"};
  s->update_collection(*before, after);

  auto c = s->catalog()->find("items");
  ASSERT_TRUE(c->field("headline"));
  EXPECT_FALSE(c->field("title"));
  EXPECT_FALSE(c->field("old"));
  auto page = s->list_records(*c, {.page = 1, .per_page = 1000, .sort = {{"count", false}}});
  EXPECT_EQ(page.total_items, kRows);
  for (int i = 0; i < 1000; ++i) {
    const auto& r = page.items[static_cast<std::size_t>(i)];
    ASSERT_EQ(r.at("headline").as_string(), "title " + std::to_string(i));
    ASSERT_EQ(core::to_json(r.at("count")), std::to_string(i));
    ASSERT_EQ(core::to_json(r.at("tag")), i % 2 ? R"(["a"])" : R"(["b"])");
    ASSERT_EQ(core::to_json(r.at("extra")), "0");
  }
  auto db = dir.path() + "/data.db";
  EXPECT_EQ(
      query_column(db, "SELECT name FROM sqlite_master WHERE type='index' AND name='idx_headline'")
          .size(),
      1U);
  EXPECT_THROW(s->insert_record(*c, {{"id", "zzzzzzzzzzzzzzz"}, {"headline", "title 5"}}),
               core::ValidationFailed)
      << "the rebuilt unique index is enforced";

  // A change whose last step fails (a unique index over duplicate values) leaves
  // schema and data exactly as they were.
  core::Collection bad = *c;
  bad.name = "renamed_items";
  bad.fields[1] = field(R"({"id":"f_title","name":"headline2","type":"text"})");
  bad.indexes = {"CREATE UNIQUE INDEX idx_tag ON renamed_items (extra)"};
  EXPECT_THROW(s->update_collection(*c, bad), StoreError);
  auto still = s->catalog()->find("items");
  ASSERT_TRUE(still);
  EXPECT_FALSE(s->catalog()->find("renamed_items"));
  EXPECT_TRUE(still->field("headline"));
  EXPECT_EQ(s->list_records(*still, {.page = 1, .per_page = 1}).total_items, kRows);
  EXPECT_EQ(
      query_column(db, "SELECT name FROM sqlite_master WHERE type='index' AND name='idx_headline'")
          .size(),
      1U);
  auto cols = query_column(db, "SELECT name FROM pragma_table_info('items')");
  EXPECT_NE(std::find(cols.begin(), cols.end(), "headline"), cols.end());
  EXPECT_EQ(std::find(cols.begin(), cols.end(), "headline2"), cols.end());
}

TEST(Store, HostileIdentifiersNeverReachSql) {
  test::TempDir dir;
  auto s = open_sqlite_store({.dir = dir.path()});
  EXPECT_THROW(core::collection_from_row("x", false, "base", "bad",
                                         R"([{"name":"a`; DROP TABLE users; --","type":"text"}])",
                                         "[]", "", "", "", "", "", "{}", "", ""),
               std::runtime_error);
  auto posts = base_collection("posts", std::string("[") + kIdField + "]");
  posts.indexes = {"CREATE INDEX idx_x ON posts (id); DROP TABLE users"};
  EXPECT_THROW(s->create_collection(posts), StoreError);
  EXPECT_TRUE(s->catalog()->find("users"));
  EXPECT_FALSE(s->catalog()->find("posts")) << "a failed create must leave nothing behind";
}

}  // namespace
}  // namespace plinth::store
