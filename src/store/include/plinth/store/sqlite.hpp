#pragma once
// Thin RAII wrappers over the SQLite C API: a connection and a prepared
// statement with bound parameters. Errors throw SqliteError (the store maps
// them to typed results before they reach the API).

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>

struct sqlite3;
struct sqlite3_stmt;

namespace plinth::store {

class SqliteError : public std::runtime_error {
 public:
  SqliteError(int code, int extended, std::string msg)
      : std::runtime_error(std::move(msg)), code_(code), extended_(extended) {}
  int code() const { return code_; }
  int extended_code() const { return extended_; }

 private:
  int code_;
  int extended_;
};

// Process-wide SQLite settings, applied once before SQLite's first use (opening a Db does it):
// no memory statistics. With them on (SQLite's default) every allocation SQLite makes takes a
// global mutex to count itself, so connections on all threads contend for it; nothing here
// reads those figures.
void configure_sqlite_once();

class Db {
 public:
  Db() = default;
  // Opens (creating when `create`) the database file.
  Db(const std::string& path, bool create, bool readonly, const std::string& vfs = {});
  ~Db();
  Db(Db&& o) noexcept : db_(o.db_), cache_(std::move(o.cache_)), counts_(std::move(o.counts_)) {
    o.db_ = nullptr;
  }
  Db& operator=(Db&& o) noexcept;
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  sqlite3* handle() const { return db_; }

  // Prepared statements reused by SQL text (a connection is used by one thread
  // at a time). checkout returns nullptr when that statement is already in use; what it
  // returns stays valid until given back with checkin (only idle entries are ever dropped).
  struct Cached {
    sqlite3_stmt* stmt = nullptr;
    bool in_use = false;
  };
  Cached* checkout(std::string_view sql) const;
  static void checkin(Cached* cached);
  void exec(std::string_view sql);
  // exec for one statement run often (SAVEPOINT, RELEASE...): prepared once, reused.
  void exec_cached(const std::string& sql);
  std::int64_t changes() const;
  [[noreturn]] void throw_error(std::string_view context) const;

  // The main database's data version (SQLITE_FCNTL_DATA_VERSION): it changes whenever the
  // database changes, through this connection or any other, in this process or another, and is
  // brought up to date when a read transaction begins. Only meaningful inside one; nullopt
  // when the database cannot tell.
  std::optional<std::uint32_t> data_version() const;

  // Row counts of list queries, remembered for as long as the data version stays the same (see
  // list_compiled in records.cpp). Only a connection that never writes may keep them: its own
  // uncommitted writes would not change the data version.
  struct CountCache {
    static constexpr std::size_t max_entries = 128;
    static constexpr std::size_t max_key_bytes = 4096;  // at most 512 KiB per reader
    std::uint32_t version = 0;
    std::unordered_map<std::string, std::int64_t> counts;  // by SQL text and bound values
  };
  void enable_count_cache() { counts_ = std::make_unique<CountCache>(); }
  CountCache* count_cache() const { return counts_.get(); }

 private:
  sqlite3* db_ = nullptr;
  struct TextHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  mutable std::unordered_map<std::string, Cached, TextHash, std::equal_to<>> cache_;
  std::unique_ptr<CountCache> counts_;
  void clear_cache();
};

class Stmt {
 public:
  Stmt(const Db& db, std::string_view sql);
  ~Stmt();
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  // 1-based parameter index.
  Stmt& bind(int i, std::string_view text);
  // Binds text without copying it: it must stay valid and unchanged for as long as this Stmt
  // lives (the destructor resets the statement and clears its bindings).
  Stmt& bind_unowned(int i, std::string_view text);
  Stmt& bind(int i, double v);
  Stmt& bind(int i, std::int64_t v);
  Stmt& bind_null(int i);

  // True while a row is available.
  bool step();
  void reset();   // back to the start, bindings cleared
  void rewind();  // back to the start, bindings kept

  int column_count() const;
  std::string_view column_name(int i) const;
  bool is_null(int i) const;
  std::string text(int i) const;
  // The column's text without a copy; valid until the next step, reset or column call.
  std::string_view text_view(int i) const;
  std::optional<std::string> text_or_null(int i) const;
  double real(int i) const;
  std::int64_t integer(int i) const;
  int column_type(
      int i) const;  // SQLITE_INTEGER, SQLITE_FLOAT, SQLITE_TEXT, SQLITE_BLOB, SQLITE_NULL

 private:
  const Db& db_;
  sqlite3_stmt* stmt_ = nullptr;
  Db::Cached* cached_ = nullptr;  // set when the statement came from the connection's cache
};

}  // namespace plinth::store
