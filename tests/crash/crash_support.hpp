#pragma once
// Shared pieces of the crash suites: concurrent writers with unique client-side
// keys that log every outcome, and a checker over the database files.

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "test_support.hpp"

namespace plinth::crash {

enum class Outcome { ok, failed, unknown };

class WriteLog {
 public:
  void record(const std::string& key, Outcome o);
  std::set<std::string> keys(Outcome o) const;
  std::set<std::string> attempted() const;
  std::size_t count(Outcome o) const;
  std::map<int, int> statuses() const;  // HTTP status -> count
  void status(int s);

 private:
  mutable std::mutex mu_;
  std::map<std::string, Outcome> log_;
  std::map<int, int> statuses_;
};

// K threads POSTing {"key": "<prefix>-<thread>-<n>"} to /api/collections/items/records
// until stop() (HTTP 200 = ok, any other answer = failed, no answer = unknown).
class HttpWriters {
 public:
  HttpWriters(std::uint16_t port, int threads, std::string prefix, WriteLog& log,
              std::size_t blob_bytes = 0);
  ~HttpWriters();
  void stop();

 private:
  std::atomic<bool> stop_{false};
  std::vector<std::thread> threads_;
};

struct DbCheck {
  std::string integrity;       // "ok" when PRAGMA integrity_check passes
  std::set<std::string> keys;  // every items.key present
};
DbCheck check_database(const std::string& data_dir);

// Creates the superuser, starts a server, creates the `items` collection
// (public create/list, unique `key`, optional `blob` text), stops it cleanly.
void prepare_items_dir(const std::string& data_dir);

// Superuser token for a running server prepared by prepare_items_dir.
std::string superuser_token(std::uint16_t port);

}  // namespace plinth::crash
