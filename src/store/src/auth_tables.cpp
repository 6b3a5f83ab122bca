#include "plinth/store/auth_tables.hpp"

#include <filesystem>

#include "plinth/core/datetime.hpp"
#include "plinth/util/random.hpp"

namespace plinth::store {

namespace {

constexpr const char* kInsertAudit =
    "INSERT INTO `_plinth_audit` (`id`, `created`, `event`, `collection`, `recordId`, `actor`, "
    "`ip`, `detail`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)";
constexpr const char* kListAudit =
    "SELECT `id`, `created`, `event`, `collection`, `recordId`, `actor`, `ip`, `detail` FROM "
    "`_plinth_audit` WHERE (?1 = '' OR `event` = ?1) ORDER BY `created` DESC, rowid DESC LIMIT ?2";
constexpr const char* kInsertKey =
    "INSERT INTO `_plinth_api_keys` (`id`, `name`, `prefix`, `hash`, `scopes`, `created`, "
    "`lastUsed`) VALUES (?, ?, ?, ?, ?, ?, ?)";
constexpr const char* kDeleteKey = "DELETE FROM `_plinth_api_keys` WHERE `id` = ?";
constexpr const char* kKeyColumns =
    "SELECT `id`, `name`, `prefix`, `hash`, `scopes`, `created`, `lastUsed` FROM "
    "`_plinth_api_keys`";
constexpr const char* kPruneAudit = "DELETE FROM `_plinth_audit` WHERE `created` < ?";
constexpr const char* kTouchKey = "UPDATE `_plinth_api_keys` SET `lastUsed` = ? WHERE `id` = ?";

ApiKeyRow key_row(const Stmt& st) {
  return ApiKeyRow{st.text(0), st.text(1), st.text(2), st.text(3),
                   st.text(4), st.text(5), st.text(6)};
}

}  // namespace

AuthTables::AuthTables(const std::string& dir, Durability durability,
                       std::chrono::milliseconds audit_retention)
    : full_(durability == Durability::full), retention_(audit_retention) {
  db_ = Db((std::filesystem::path(dir) / "auxiliary.db").string(), true, false);
  db_.exec("PRAGMA busy_timeout = 10000");
  db_.exec("PRAGMA journal_mode = WAL");
  // Audit rows survive a process crash; key changes are fsynced (see durable()).
  db_.exec("PRAGMA synchronous = NORMAL");
  db_.exec(R"(CREATE TABLE IF NOT EXISTS `_plinth_audit` (
  `id` TEXT PRIMARY KEY NOT NULL,
  `created` TEXT NOT NULL,
  `event` TEXT NOT NULL,
  `collection` TEXT DEFAULT '' NOT NULL,
  `recordId` TEXT DEFAULT '' NOT NULL,
  `actor` TEXT DEFAULT '' NOT NULL,
  `ip` TEXT DEFAULT '' NOT NULL,
  `detail` JSON DEFAULT '{}' NOT NULL))");
  db_.exec("CREATE INDEX IF NOT EXISTS `idx_plinth_audit_created` ON `_plinth_audit` (`created`)");
  db_.exec(R"(CREATE TABLE IF NOT EXISTS `_plinth_api_keys` (
  `id` TEXT PRIMARY KEY NOT NULL,
  `name` TEXT DEFAULT '' NOT NULL,
  `prefix` TEXT DEFAULT '' NOT NULL,
  `hash` TEXT UNIQUE NOT NULL,
  `scopes` JSON DEFAULT '[]' NOT NULL,
  `created` TEXT NOT NULL,
  `lastUsed` TEXT DEFAULT '' NOT NULL))");
  prune_locked();
}

std::int64_t AuthTables::prune_audit() {
  std::lock_guard lock(mu_);
  return prune_locked();
}

std::int64_t AuthTables::prune_locked() {
  if (retention_.count() <= 0) return 0;
  auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  Stmt st(db_, kPruneAudit);
  st.bind(1, core::format_datetime_ms(now_ms - retention_.count()));
  st.step();
  return db_.changes();
}

template <class F>
auto AuthTables::durable(F&& fn) -> decltype(fn()) {
  if (full_) db_.exec("PRAGMA synchronous = FULL");
  struct Restore {
    Db& db;
    bool on;
    ~Restore() {
      if (on) {
        try {
          db.exec("PRAGMA synchronous = NORMAL");
        } catch (...) {
        }
      }
    }
  } restore{db_, full_};
  return fn();
}

void AuthTables::append_audit(AuditEvent e) {
  if (e.id.empty()) e.id = util::random_id(15);
  if (e.created.empty()) e.created = core::now_datetime();
  std::lock_guard lock(mu_);
  Stmt st(db_, kInsertAudit);
  st.bind(1, e.id).bind(2, e.created).bind(3, e.event).bind(4, e.collection);
  st.bind(5, e.record_id).bind(6, e.actor).bind(7, e.ip).bind(8, e.detail);
  st.step();
  if (++appends_ % kPruneEvery == 0) prune_locked();
}

std::vector<AuditEvent> AuthTables::list_audit(std::int64_t limit, std::string_view event) {
  std::lock_guard lock(mu_);
  Stmt st(db_, kListAudit);
  st.bind(1, event).bind(2, limit);
  std::vector<AuditEvent> out;
  while (st.step()) {
    out.push_back(AuditEvent{st.text(0), st.text(1), st.text(2), st.text(3), st.text(4), st.text(5),
                             st.text(6), st.text(7)});
  }
  return out;
}

void AuthTables::insert_api_key(const ApiKeyRow& r) {
  std::lock_guard lock(mu_);
  durable([&] {
    Stmt st(db_, kInsertKey);
    st.bind(1, r.id).bind(2, r.name).bind(3, r.prefix).bind(4, r.hash).bind(5, r.scopes);
    st.bind(6, r.created).bind(7, r.last_used);
    st.step();
  });
}

bool AuthTables::delete_api_key(std::string_view id) {
  std::lock_guard lock(mu_);
  return durable([&] {
    Stmt st(db_, kDeleteKey);
    st.bind(1, id);
    st.step();
    return db_.changes() > 0;
  });
}

std::vector<ApiKeyRow> AuthTables::list_api_keys() {
  std::lock_guard lock(mu_);
  Stmt st(db_, std::string(kKeyColumns) + " ORDER BY `created`, rowid");
  std::vector<ApiKeyRow> out;
  while (st.step()) out.push_back(key_row(st));
  return out;
}

std::optional<ApiKeyRow> AuthTables::find_api_key_by_hash(std::string_view hash) {
  std::lock_guard lock(mu_);
  Stmt st(db_, std::string(kKeyColumns) + " WHERE `hash` = ?");
  st.bind(1, hash);
  if (!st.step()) return std::nullopt;
  return key_row(st);
}

bool AuthTables::note_api_key_use(std::string_view id, std::string_view when,
                                  std::chrono::seconds min_interval) {
  if (!first_in("apikey/" + std::string(id), min_interval)) return false;
  std::lock_guard lock(mu_);
  Stmt st(db_, kTouchKey);
  st.bind(1, when).bind(2, id);
  st.step();
  return true;
}

bool AuthTables::first_in(std::string_view key, std::chrono::seconds interval) {
  auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(seen_mu_);
  auto it = seen_.find(std::string(key));
  if (it != seen_.end() && now - it->second < interval) return false;
  if (seen_.size() > 10000) seen_.clear();  // bounded; worst case one extra event
  seen_[std::string(key)] = now;
  return true;
}

void AuthTables::set_api_key_last_used(std::string_view id, std::string_view when) {
  std::lock_guard lock(mu_);
  Stmt st(db_, kTouchKey);
  st.bind(1, when).bind(2, id);
  st.step();
}

}  // namespace plinth::store
