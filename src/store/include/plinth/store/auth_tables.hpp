#pragma once
// Plinth's own auth tables, kept in auxiliary.db so that data.db stays exactly
// PocketBase's schema: `_plinth_audit` (one row per auth event) and
// `_plinth_api_keys` (machine keys, stored as SHA-256 digests only).
// One connection guarded by a mutex: these writes are small and rare next to
// the password hashing that accompanies most of them. Thread-safe.

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "plinth/store/sqlite.hpp"
#include "plinth/store/store.hpp"

namespace plinth::store {

struct AuditEvent {
  std::string id;          // filled on append when empty
  std::string created;     // filled on append when empty (PocketBase datetime text)
  std::string event;       // login, login_failed, login_throttled, refresh, impersonate, ...
  std::string collection;  // collection name of the subject, when any
  std::string record_id;   // subject record, when known
  std::string actor;       // who acted: "<collection>/<id>", "apikey/<id>" or ""
  std::string ip;
  std::string detail = "{}";  // JSON object text; never secrets
};

struct ApiKeyRow {
  std::string id;
  std::string name;
  std::string prefix;  // first characters of the key, to tell keys apart
  std::string hash;    // lowercase hex SHA-256 of the whole key
  std::string scopes;  // JSON array text: [{"collection":"posts","actions":["list","view"]}]
  std::string created;
  std::string last_used;  // "" when never used
};

class AuthTables {
 public:
  // Opens `<dir>/auxiliary.db` (it must exist: open the Store first) and
  // creates the tables when missing.
  // Audit rows older than `audit_retention` are deleted when the tables open
  // and then every kPruneEvery appends (0 = kept forever).
  AuthTables(const std::string& dir, Durability durability,
             std::chrono::milliseconds audit_retention = std::chrono::milliseconds(0));
  static constexpr std::uint64_t kPruneEvery = 1024;

  void append_audit(AuditEvent e);
  // Deletes audit rows created before now - retention; returns how many.
  std::int64_t prune_audit();
  // Newest first; `event` filters when non-empty.
  std::vector<AuditEvent> list_audit(std::int64_t limit, std::string_view event = {});

  // Create and delete are made durable before they return.
  void insert_api_key(const ApiKeyRow& row);
  bool delete_api_key(std::string_view id);
  std::vector<ApiKeyRow> list_api_keys();
  std::optional<ApiKeyRow> find_api_key_by_hash(std::string_view hash);
  void set_api_key_last_used(std::string_view id, std::string_view when);
  // Sets lastUsed to `when` unless this key's lastUsed was written less than
  // `min_interval` ago (remembered in memory): one write a minute per busy key,
  // not one per request. True when it wrote.
  bool note_api_key_use(std::string_view id, std::string_view when,
                        std::chrono::seconds min_interval = std::chrono::seconds(60));
  // True when `key` was not seen in the last `interval`, and remembers now for it (in memory,
  // bounded): lets a frequent, routine event be audited once per interval per subject.
  bool first_in(std::string_view key, std::chrono::seconds interval);

 private:
  template <class F>
  auto durable(F&& fn) -> decltype(fn());

  std::mutex mu_;
  Db db_;
  std::mutex seen_mu_;
  std::unordered_map<std::string, std::chrono::steady_clock::time_point> seen_;
  bool full_;
  std::chrono::milliseconds retention_;
  std::uint64_t appends_ = 0;
  std::int64_t prune_locked();
};

}  // namespace plinth::store
