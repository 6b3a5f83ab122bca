#include "plinth/store/sqlite.hpp"

#include <sqlite3.h>

#include <mutex>

namespace plinth::store {

void configure_sqlite_once() {
  static std::once_flag once;
  std::call_once(once, [] { sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); });
}

Db::Db(const std::string& path, bool create, bool readonly, const std::string& vfs) {
  configure_sqlite_once();
  int flags = SQLITE_OPEN_NOMUTEX;
  flags |= readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
  if (create && !readonly) flags |= SQLITE_OPEN_CREATE;
  int rc = sqlite3_open_v2(path.c_str(), &db_, flags, vfs.empty() ? nullptr : vfs.c_str());
  if (rc != SQLITE_OK) {
    std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    db_ = nullptr;
    throw SqliteError(rc, rc, "open " + path + ": " + msg);
  }
  sqlite3_extended_result_codes(db_, 1);
}

Db::~Db() {
  clear_cache();
  if (db_) sqlite3_close_v2(db_);
}

Db& Db::operator=(Db&& o) noexcept {
  if (this != &o) {
    clear_cache();
    if (db_) sqlite3_close_v2(db_);
    db_ = o.db_;
    cache_ = std::move(o.cache_);
    counts_ = std::move(o.counts_);
    o.db_ = nullptr;
  }
  return *this;
}

void Db::clear_cache() {
  for (auto& [sql, c] : cache_) sqlite3_finalize(c.stmt);
  cache_.clear();
}

Db::Cached* Db::checkout(std::string_view sql) const {
  auto it = cache_.find(sql);
  if (it == cache_.end()) {
    if (cache_.size() >= 256) {
      // Bounded: drop idle entries (collections come and go).
      for (auto i = cache_.begin(); i != cache_.end();) {
        if (!i->second.in_use) {
          sqlite3_finalize(i->second.stmt);
          i = cache_.erase(i);
        } else {
          ++i;
        }
      }
    }
    sqlite3_stmt* st = nullptr;
    int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                                SQLITE_PREPARE_PERSISTENT, &st, nullptr);
    if (rc != SQLITE_OK) throw_error("prepare");
    it = cache_.emplace(std::string(sql), Cached{st, false}).first;
  }
  if (it->second.in_use) return nullptr;
  it->second.in_use = true;
  return &it->second;
}

void Db::checkin(Cached* cached) {
  sqlite3_reset(cached->stmt);
  sqlite3_clear_bindings(cached->stmt);
  cached->in_use = false;
}

void Db::throw_error(std::string_view context) const {
  int ext = sqlite3_extended_errcode(db_);
  throw SqliteError(ext & 0xff, ext, std::string(context) + ": " + sqlite3_errmsg(db_));
}

void Db::exec(std::string_view sql) {
  std::string s(sql);
  char* err = nullptr;
  int rc = sqlite3_exec(db_, s.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    int ext = sqlite3_extended_errcode(db_);
    throw SqliteError(rc & 0xff, ext, msg);
  }
}

void Db::exec_cached(const std::string& sql) {
  Cached* cached = checkout(sql);
  if (!cached) {
    exec(sql);
    return;
  }
  int rc = sqlite3_step(cached->stmt);
  int ext = sqlite3_extended_errcode(db_);
  std::string msg = rc == SQLITE_DONE || rc == SQLITE_ROW ? std::string() : sqlite3_errmsg(db_);
  checkin(cached);
  if (rc != SQLITE_DONE && rc != SQLITE_ROW) throw SqliteError(ext & 0xff, ext, msg);
}

std::optional<std::uint32_t> Db::data_version() const {
  unsigned int v = 0;
  if (sqlite3_file_control(db_, "main", SQLITE_FCNTL_DATA_VERSION, &v) != SQLITE_OK)
    return std::nullopt;
  return v;
}

std::int64_t Db::changes() const {
  return sqlite3_changes64(db_);
}

Stmt::Stmt(const Db& db, std::string_view sql) : db_(db) {
  // Statements come from the connection's cache: preparing (parsing and
  // planning) costs more than running a point read. A statement already in
  // use (a nested query with the same text) gets a private copy.
  cached_ = db.checkout(sql);
  if (cached_) {
    stmt_ = cached_->stmt;
    return;
  }
  int rc =
      sqlite3_prepare_v2(db.handle(), sql.data(), static_cast<int>(sql.size()), &stmt_, nullptr);
  if (rc != SQLITE_OK) db.throw_error("prepare");
}

Stmt::~Stmt() {
  if (cached_)
    Db::checkin(cached_);
  else
    sqlite3_finalize(stmt_);
}

Stmt& Stmt::bind(int i, std::string_view text) {
  if (sqlite3_bind_text64(stmt_, i, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8) !=
      SQLITE_OK)
    db_.throw_error("bind");
  return *this;
}

Stmt& Stmt::bind_unowned(int i, std::string_view text) {
  if (sqlite3_bind_text64(stmt_, i, text.data(), text.size(), SQLITE_STATIC, SQLITE_UTF8) !=
      SQLITE_OK)
    db_.throw_error("bind");
  return *this;
}

Stmt& Stmt::bind(int i, double v) {
  if (sqlite3_bind_double(stmt_, i, v) != SQLITE_OK) db_.throw_error("bind");
  return *this;
}

Stmt& Stmt::bind(int i, std::int64_t v) {
  if (sqlite3_bind_int64(stmt_, i, v) != SQLITE_OK) db_.throw_error("bind");
  return *this;
}

Stmt& Stmt::bind_null(int i) {
  if (sqlite3_bind_null(stmt_, i) != SQLITE_OK) db_.throw_error("bind");
  return *this;
}

bool Stmt::step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  db_.throw_error("step");
}

void Stmt::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

void Stmt::rewind() {
  sqlite3_reset(stmt_);
}

int Stmt::column_count() const {
  return sqlite3_column_count(stmt_);
}
std::string_view Stmt::column_name(int i) const {
  return sqlite3_column_name(stmt_, i);
}
bool Stmt::is_null(int i) const {
  return sqlite3_column_type(stmt_, i) == SQLITE_NULL;
}
int Stmt::column_type(int i) const {
  return sqlite3_column_type(stmt_, i);
}

std::string Stmt::text(int i) const {
  auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, i));
  if (!p) return {};
  return std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, i)));
}

std::string_view Stmt::text_view(int i) const {
  auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, i));
  if (!p) return {};
  return {p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, i))};
}

std::optional<std::string> Stmt::text_or_null(int i) const {
  if (is_null(i)) return std::nullopt;
  return text(i);
}

double Stmt::real(int i) const {
  return sqlite3_column_double(stmt_, i);
}
std::int64_t Stmt::integer(int i) const {
  return sqlite3_column_int64(stmt_, i);
}

}  // namespace plinth::store
