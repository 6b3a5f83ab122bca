#include "crash_support.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>

namespace plinth::crash {

void WriteLog::record(const std::string& key, Outcome o) {
  std::lock_guard lock(mu_);
  log_[key] = o;
}

void WriteLog::status(int s) {
  std::lock_guard lock(mu_);
  ++statuses_[s];
}

std::map<int, int> WriteLog::statuses() const {
  std::lock_guard lock(mu_);
  return statuses_;
}

std::set<std::string> WriteLog::keys(Outcome o) const {
  std::lock_guard lock(mu_);
  std::set<std::string> out;
  for (const auto& [k, v] : log_) {
    if (v == o) out.insert(k);
  }
  return out;
}

std::set<std::string> WriteLog::attempted() const {
  std::lock_guard lock(mu_);
  std::set<std::string> out;
  for (const auto& [k, v] : log_) out.insert(k);
  return out;
}

std::size_t WriteLog::count(Outcome o) const {
  return keys(o).size();
}

HttpWriters::HttpWriters(std::uint16_t port, int threads, std::string prefix, WriteLog& log,
                         std::size_t blob_bytes) {
  for (int t = 0; t < threads; ++t) {
    threads_.emplace_back([this, port, t, prefix, &log, blob_bytes] {
      std::unique_ptr<test::Client> client;
      for (int n = 0; !stop_; ++n) {
        std::string key = prefix + "-" + std::to_string(t) + "-" + std::to_string(n);
        std::string body = "{\"key\":\"" + key + "\"";
        if (blob_bytes) body += ",\"blob\":\"" + std::string(blob_bytes, 'x') + "\"";
        body += "}";
        if (!client || !client->connected())
          client = std::make_unique<test::Client>(port, std::chrono::seconds(10));
        if (!client->connected()) {
          // Never sent: not attempted.
          client.reset();
          std::this_thread::sleep_for(std::chrono::milliseconds(20));
          continue;
        }
        log.record(key, Outcome::unknown);
        auto r = client->request("POST", "/api/collections/items/records",
                                 {{"Content-Type", "application/json"}}, body);
        if (!r) {
          client.reset();
          continue;  // stays unknown
        }
        log.status(r->status);
        log.record(key, r->status == 200 ? Outcome::ok : Outcome::failed);
        if (r->header("Connection") == "close") client.reset();
      }
    });
  }
}

HttpWriters::~HttpWriters() {
  stop();
}

void HttpWriters::stop() {
  stop_ = true;
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
}

DbCheck check_database(const std::string& data_dir) {
  DbCheck out;
  sqlite3* db = nullptr;
  std::string path = data_dir + "/data.db";
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
    out.integrity = "cannot open";
    sqlite3_close(db);
    return out;
  }
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, nullptr);
  while (sqlite3_step(st) == SQLITE_ROW) {
    if (!out.integrity.empty()) out.integrity += "; ";
    out.integrity += reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
  }
  sqlite3_finalize(st);
  sqlite3_prepare_v2(db, "SELECT key FROM items", -1, &st, nullptr);
  while (sqlite3_step(st) == SQLITE_ROW)
    out.keys.insert(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)));
  sqlite3_finalize(st);
  sqlite3_close(db);
  return out;
}

std::string superuser_token(std::uint16_t port) {
  test::Client c(port);
  auto r = c.request("POST", "/api/collections/_superusers/auth-with-password",
                     {{"Content-Type", "application/json"}},
                     R"({"identity":"crash@example.com","password":"crash-test-pass"})");
  if (!r || r->status != 200) return {};
  auto pos = r->body.find("\"token\":\"");
  if (pos == std::string::npos) return {};
  auto end = r->body.find('"', pos + 9);
  return r->body.substr(pos + 9, end - pos - 9);
}

void prepare_items_dir(const std::string& data_dir) {
  std::string out;
  ASSERT_EQ(test::run_command(test::plinth_binary() +
                                  " superuser upsert crash@example.com crash-test-pass --dir " +
                                  data_dir + " 2>&1",
                              &out),
            0)
      << out;
  test::ServerProcess::Launch l;
  l.data_dir = data_dir;
  test::ServerProcess s(l);
  auto token = superuser_token(s.port());
  ASSERT_FALSE(token.empty());
  test::Client c(s.port());
  auto r = c.request("POST", "/api/collections",
                     {{"Content-Type", "application/json"}, {"Authorization", token}},
                     R"J({"name":"items","type":"base","listRule":"","viewRule":"","createRule":"",
          "fields":[{"name":"key","type":"text","required":true},{"name":"blob","type":"text","max":1000000}],
          "indexes":["CREATE UNIQUE INDEX idx_items_key ON items (key)"]})J");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  s.signal(SIGTERM);
  ASSERT_EQ(s.wait_exit(std::chrono::seconds(10)), 0);
}

}  // namespace plinth::crash
