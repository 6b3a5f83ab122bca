// SqliteStore: one writer thread doing group commit, a pool of readers.

#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <future>
#include <mutex>
#include <optional>
#include <thread>
#include <variant>

#include "internal.hpp"
#include "plinth/core/datetime.hpp"
#include "plinth/core/json.hpp"
#include "plinth/core/record.hpp"
#include "plinth/util/process.hpp"
#include "plinth/util/suspend.hpp"
#include "wal_batching.hpp"

namespace plinth::store {
namespace {

using detail::load_catalog;

void configure(Db& db, Durability d) {
  db.exec("PRAGMA busy_timeout = 10000");
  db.exec("PRAGMA journal_mode = WAL");
  db.exec("PRAGMA journal_size_limit = 200000000");
  db.exec(d == Durability::full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL");
  db.exec("PRAGMA foreign_keys = ON");
  db.exec("PRAGMA temp_store = MEMORY");
  db.exec("PRAGMA cache_size = -32000");
}

json::object load_settings(const Db& db) {
  Stmt st(db, "SELECT `value` FROM `_params` WHERE `id` = 'settings'");
  if (st.step() && !st.is_null(0)) {
    if (auto v = core::parse_json(st.text(0)); v && v->is_object()) return v->get_object();
  }
  return *core::parse_json(detail::default_settings_json())->if_object();
}

class SqliteStore final : public Store {
 public:
  explicit SqliteStore(const StoreOptions& opt) : opt_(opt) {
    std::filesystem::create_directories(opt.dir);
    std::string data = (std::filesystem::path(opt.dir) / "data.db").string();
    // Durability full: the writer's commits gather their WAL frames into one write each, and
    // the syncer does the commit's sync (see sync_loop). Its connection stays at synchronous =
    // FULL, which the batching VFS needs (the commit's sync writes the frames out).
    const bool full = opt.durability == Durability::full;
    writer_db_ = Db(data, true, false, full ? detail::wal_batching_vfs(opt.vfs) : opt.vfs);
    configure(writer_db_, opt.durability);
    detail::migrate_data_db(writer_db_);
    {
      Db aux((std::filesystem::path(opt.dir) / "auxiliary.db").string(), true, false, opt.vfs);
      configure(aux, opt.durability);
      detail::migrate_aux_db(aux);
    }
    catalog_ = load_catalog(writer_db_);
    settings_ = load_settings(writer_db_);
    for (unsigned i = 0; i < std::max(1U, opt.readers); ++i) {
      readers_.push_back(open_reader());
      free_readers_.push_back(&readers_.back());
    }
    if (full) {
      // Checkpoints move off the writer: the commit hook hands them to a thread of their own.
      // (With durability normal the WAL reaches the disk only at checkpoints, so there they
      // stay SQLite's own, every 1000 pages, which bounds what a power cut can take.)
      checkpoint_db_ = Db(data, false, false, opt.vfs);
      checkpoint_db_.exec("PRAGMA busy_timeout = 10000");
      checkpoint_db_.exec("PRAGMA synchronous = NORMAL");  // it syncs the WAL and the database
      sqlite3_wal_hook(writer_db_.handle(), &SqliteStore::on_wal_commit, this);
      checkpointer_ = std::thread([this] {
        util::name_this_thread("plinth-ckpt");
        checkpoint_loop();
      });
      // From here on COMMIT writes the WAL without waiting for the disk (commit_txn defers
      // its sync); the syncer thread makes it durable before a batch is acknowledged (see
      // sync_loop). What ran above (migrations) was synced by its COMMIT.
      syncer_ = std::thread([this] {
        util::name_this_thread("plinth-sync");
        sync_loop();
      });
    }
    writer_ = std::thread([this] {
      util::name_this_thread("plinth-writer");
      writer_loop();
    });
  }

  ~SqliteStore() override {
    {
      std::lock_guard lock(queue_mu_);
      stopping_ = true;
    }
    queue_cv_.notify_all();
    if (writer_.joinable()) writer_.join();
    {
      std::lock_guard lock(queue_mu_);
      sync_stopping_ = true;
    }
    sync_cv_.notify_all();
    if (syncer_.joinable()) syncer_.join();  // after it acknowledged what was committed
    {
      std::lock_guard lock(checkpoint_mu_);
      checkpoint_stopping_ = true;
    }
    checkpoint_cv_.notify_all();
    if (checkpointer_.joinable()) checkpointer_.join();
    if (wal_file_) wal_file_->pMethods->xClose(wal_file_);
  }

  std::shared_ptr<const core::Catalog> catalog() const override {
    std::lock_guard lock(catalog_mu_);
    return catalog_;
  }

  ListResult list_records(const core::Collection& c, const ListQuery& q) override {
    auto r = read([&](const Db& db) { return detail::list_records(db, c, q); });
    if (r.total_items >= 0) {
      list_counts_.fetch_add(1, std::memory_order_relaxed);
      if (r.total_from_cache) list_counts_cached_.fetch_add(1, std::memory_order_relaxed);
    }
    return r;
  }

  std::optional<json::object> get_record(const core::Collection& c, std::string_view id,
                                         json::storage_ptr sp = {}) override {
    return read([&](const Db& db) { return detail::get_record(db, c, id, sp); });
  }
  bool write_api_record(const core::Collection& c, std::string_view id,
                        const core::ViewOptions& opts, std::string& out) override {
    return read([&](const Db& db) { return detail::write_api_record(db, c, id, opts, out); });
  }

  std::optional<json::object> find_record_by(const core::Collection& c, std::string_view field,
                                             std::string_view value) override {
    return read([&](const Db& db) { return detail::find_record_by(db, c, field, value); });
  }

  bool record_matches(const core::Collection& c, std::string_view id,
                      const query::Compiled& rule) override {
    return read([&](const Db& db) { return detail::record_matches(db, c, id, rule); });
  }

  bool snapshot_matches(const core::Collection& c, const json::object& record,
                        const query::Compiled& rule) override {
    return read([&](const Db& db) { return detail::snapshot_matches(db, c, record, rule); });
  }

  void set_commit_listener(CommitListener listener, ChangeInterest interest) override {
    std::lock_guard lock(queue_mu_);
    listener_ = std::move(listener);
    interest_ = std::move(interest);
  }

  void insert_record(const core::Collection& c, const json::object& values) override {
    auto cat = catalog();
    write([&](Db& db) { detail::insert_record(db, *cat, c, values, change_log()); });
  }

  bool update_record(const core::Collection& c, std::string_view id,
                     const json::object& values) override {
    auto cat = catalog();
    bool found = false;
    write([&](Db& db) { found = detail::update_record(db, *cat, c, id, values, change_log()); });
    return found;
  }

  bool delete_record(const core::Collection& c, std::string_view id) override {
    auto cat = catalog();
    bool found = false;
    write([&](Db& db) { found = detail::delete_record(db, *cat, c, id, 0, change_log()); });
    return found;
  }

  void create_collection(const core::Collection& c) override {
    change_schema({SchemaChange{SchemaChange::Kind::create, {}, c}});
  }

  bool delete_collection(std::string_view id) override {
    auto cat = catalog();
    auto c = cat->find(id);
    if (!c || c->id != id) return false;
    change_schema({SchemaChange{SchemaChange::Kind::drop, *c, {}}});
    return true;
  }

  void update_collection(const core::Collection& before, const core::Collection& after) override {
    change_schema({SchemaChange{SchemaChange::Kind::update, before, after}});
  }

  void change_schema(const std::vector<SchemaChange>& changes) override {
    auto apply = [&](Db& db) {
      for (const auto& ch : changes) {
        switch (ch.kind) {
          case SchemaChange::Kind::create:
            detail::create_collection_table(db, ch.after);
            detail::insert_collection_row(db, ch.after);
            break;
          case SchemaChange::Kind::update: detail::alter_collection(db, ch.before, ch.after); break;
          case SchemaChange::Kind::drop: {
            db.exec(std::string(ch.before.is_view() ? "DROP VIEW IF EXISTS "
                                                    : "DROP TABLE IF EXISTS ") +
                    core::quote_identifier(ch.before.name));
            Stmt st(db, "DELETE FROM `_collections` WHERE `id` = ?");
            st.bind(1, ch.before.id);
            st.step();
            break;
          }
        }
      }
    };
    try {
      write(apply);
    } catch (const SqliteError& e) {
      reload_catalog();
      throw StoreError(StoreError::Kind::bad_request,
                       std::string("Failed to apply the schema change: ") + e.what());
    } catch (const StoreError& e) {
      reload_catalog();
      if (e.kind() == StoreError::Kind::unavailable) throw;
      throw StoreError(StoreError::Kind::bad_request,
                       std::string("Failed to apply the schema change: ") + e.what());
    } catch (...) {
      reload_catalog();
      throw;
    }
    reload_catalog();
  }

  void truncate_collection(const core::Collection& c) override {
    auto cat = catalog();
    write([&](Db& db) {
      std::vector<std::string> ids;
      {
        Stmt st(db, "SELECT `id` FROM " + core::quote_identifier(c.name));
        while (st.step()) ids.push_back(st.text(0));
      }
      for (const auto& id : ids) detail::delete_record(db, *cat, c, id, 0, change_log());
    });
  }

  void transaction(const std::function<void(Tx&)>& fn) override {
    auto cat = catalog();
    write([&](Db& db) {
      struct DbTx final : Tx {
        Db& db;
        const core::Catalog& cat;
        detail::ChangeLog* log;
        DbTx(Db& d, const core::Catalog& c, detail::ChangeLog* l) : db(d), cat(c), log(l) {}
        std::optional<json::object> get_record(const core::Collection& c,
                                               std::string_view id) override {
          return detail::get_record(db, c, id);
        }
        void insert_record(const core::Collection& c, const json::object& values) override {
          detail::insert_record(db, cat, c, values, log);
        }
        bool update_record(const core::Collection& c, std::string_view id,
                           const json::object& values) override {
          return detail::update_record(db, cat, c, id, values, log);
        }
        bool delete_record(const core::Collection& c, std::string_view id) override {
          return detail::delete_record(db, cat, c, id, 0, log);
        }
        bool matches(const core::Collection& c, std::string_view id,
                     const query::Compiled& rule) override {
          return detail::record_matches(db, c, id, rule);
        }
      } tx(db, *cat, change_log());
      fn(tx);
    });
  }

  json::object settings() const override {
    std::lock_guard lock(catalog_mu_);
    return settings_;
  }

  void save_settings(const json::object& settings) override {
    auto text = core::to_json(settings);
    write([&](Db& db) {
      Stmt st(db,
              "INSERT INTO `_params` (`id`, `value`, `created`, `updated`) VALUES ('settings', ?, "
              "?, ?) "
              "ON CONFLICT(`id`) DO UPDATE SET `value` = excluded.`value`, `updated` = "
              "excluded.`updated`");
      auto now = core::now_datetime();
      st.bind(1, text).bind(2, now).bind(3, now);
      st.step();
    });
    std::lock_guard lock(catalog_mu_);
    settings_ = settings;
  }

  std::vector<std::string> filter_collections(const query::Compiled& filter) override {
    return read([&](const Db& db) {
      std::string sql = "SELECT " + std::string(filter.needs_distinct ? "DISTINCT " : "") +
                        "`_collections`.`id` FROM `_collections`";
      for (const auto& j : filter.joins) sql += " " + j;
      if (!filter.where.empty()) sql += " WHERE " + filter.where;
      sql += " ORDER BY `_collections`.rowid";
      Stmt st(db, sql);
      int idx = 1;
      detail::bind_params(st, idx, filter.all_params());
      std::vector<std::string> ids;
      while (st.step()) ids.push_back(st.text(0));
      return ids;
    });
  }

  WriteStats write_stats() const override {
    std::lock_guard lock(queue_mu_);
    return stats_;
  }

  ReadStats read_stats() const override {
    return {.list_counts = list_counts_.load(std::memory_order_relaxed),
            .list_counts_cached = list_counts_cached_.load(std::memory_order_relaxed)};
  }

 private:
  struct Op {
    std::function<void(Db&)> fn;
    std::function<void()> wake;              // a suspended fiber's waker, or
    std::optional<std::promise<void>> done;  // a blocked thread's promise
    std::exception_ptr error;                // the fiber's outcome
  };

  // Completes a waiter. The op lives on its waiter's stack: nothing of it is touched once the
  // waiter may run again. A fiber's outcome is stored before its waker (moved out first) is
  // called; no promise is made for it (setting one costs an allocation and, through
  // pthread_once, a futex wake per write).
  static void complete(Op* op, std::exception_ptr error) {
    if (op->wake) {
      auto wake = std::move(op->wake);
      op->error = std::move(error);
      wake();
      return;
    }
    if (error)
      op->done->set_exception(std::move(error));
    else
      op->done->set_value();
  }

  Db open_reader() const {
    Db r((std::filesystem::path(opt_.dir) / "data.db").string(), false, false, opt_.vfs);
    r.exec("PRAGMA busy_timeout = 10000");
    r.exec("PRAGMA query_only = 1");
    r.enable_count_cache();
    return r;
  }

  Db* take_reader() {
    std::unique_lock lock(readers_mu_);
    readers_cv_.wait(lock, [&] { return !free_readers_.empty(); });
    Db* db = free_readers_.back();
    free_readers_.pop_back();
    return db;
  }

  void return_reader(Db* db) {
    {
      std::lock_guard lock(readers_mu_);
      free_readers_.push_back(db);
    }
    readers_cv_.notify_one();
  }

  // A read batch: this thread keeps one reader, and one read transaction for as long as
  // no write commits (commit_seq_ unchanged), across the reads it makes until the batch ends.
  struct HeldReader {
    SqliteStore* store = nullptr;  // the store this thread batches reads for
    Db* db = nullptr;              // taken at the first read
    bool open = false;             // a read transaction is open on db
    std::uint64_t seq = 0;         // commit_seq_ when that transaction began
  };
  static HeldReader& held() {
    static thread_local HeldReader h;
    return h;
  }

  void end_held_transaction(HeldReader& h) {
    if (!h.open) return;
    h.open = false;
    try {
      h.db->exec_cached("COMMIT");
    } catch (const SqliteError&) {
      try {
        h.db->exec("ROLLBACK");
      } catch (const SqliteError&) {
      }
    }
    if (!sqlite3_get_autocommit(h.db->handle())) {
      // Still inside a transaction it cannot leave: a fresh connection takes its place,
      // so no later read is served from a frozen snapshot.
      try {
        *h.db = open_reader();
      } catch (const SqliteError&) {
      }
    }
  }

  // Ends the read transaction and gives the reader back (the batch itself goes on).
  void release_held(HeldReader& h) {
    if (!h.db) return;
    end_held_transaction(h);
    return_reader(h.db);
    h.db = nullptr;
  }

  template <class F>
  auto read(F&& f) -> decltype(f(std::declval<const Db&>())) {
    if (auto& h = held(); h.store == this) {
      if (!h.db) h.db = take_reader();
      // A snapshot begun after commit N, with no commit since, is what a new one would see.
      auto seq = commit_seq_.load(std::memory_order_acquire);
      bool committing = (seq & 1) != 0;
      if (h.open && (h.seq != seq || committing)) end_held_transaction(h);
      try {
        if (!h.open) {
          h.db->exec_cached("BEGIN");
          h.open = true;
          h.seq = seq;
        }
        return f(*h.db);
      } catch (const SqliteError& e) {
        end_held_transaction(h);
        throw StoreError(StoreError::Kind::internal, e.what());
      }
    }
    Db* db = take_reader();
    struct Return {
      SqliteStore* s;
      Db* db;
      ~Return() { s->return_reader(db); }
    } ret{this, db};
    try {
      return f(*db);
    } catch (const SqliteError& e) {
      throw StoreError(StoreError::Kind::internal, e.what());
    }
  }

 public:
  std::shared_ptr<void> batch_reads() override {
    auto& h = held();
    if (h.store) return nullptr;  // already batching on this thread
    h.store = this;
    return std::shared_ptr<void>(static_cast<void*>(this), [](void* p) {
      auto* self = static_cast<SqliteStore*>(p);
      auto& h = held();
      self->release_held(h);
      h.store = nullptr;
    });
  }

 private:
  // Runs `fn` inside its own SAVEPOINT in the next group commit; blocks until
  // the transaction holding it committed (or rethrows what `fn` threw).
  void write(std::function<void(Db&)> fn) {
    // Never wait for the writer while holding a reader: the writer may need one.
    if (auto& h = held(); h.store == this) release_held(h);
    Op op{std::move(fn), {}, {}, {}};
    std::future<void> fut;
    // On a fiber the thread goes on serving other requests while this one waits.
    auto* suspender = util::current_suspender();
    if (suspender) {
      op.wake = suspender->waker();
    } else {
      fut = op.done.emplace().get_future();
    }
    {
      std::lock_guard lock(queue_mu_);
      if (failed_)
        throw StoreError(StoreError::Kind::unavailable,
                         "the database is refusing writes after a failed commit");
      queue_.push_back(&op);
    }
    queue_cv_.notify_one();
    if (suspender) {
      suspender->suspend();
      if (op.error) std::rethrow_exception(op.error);
      return;
    }
    fut.get();
  }

  // Writer thread only: where the operation about to run records its changes (nullptr when
  // nobody listens, or when no change could reach anyone now).
  detail::ChangeLog* change_log() {
    if (!batch_listener_ || (batch_interest_ && !batch_interest_())) return nullptr;
    return &pending_;
  }

  // The writer's open transaction: the operations run in it so far, with their outcomes.
  struct Txn {
    bool open = false;
    std::vector<Op*> ops;
    std::vector<std::exception_ptr> results;  // per op: what it threw (rolled back alone)
  };

  void writer_loop() {
    Txn txn;
    for (;;) {
      std::vector<Op*> ops;
      bool commit = false;
      {
        std::unique_lock lock(queue_mu_);
        // While the syncer is busy, an open transaction stays open and takes in the writes
        // that arrive meanwhile; it commits when the syncer is free. One commit (and one set
        // of WAL frames) then carries what would otherwise take several, at no extra wait:
        // nothing committed now could be acknowledged before the sync under way ends anyway.
        queue_cv_.wait(lock,
                       [&] { return stopping_ || !queue_.empty() || (txn.open && !sync_busy_); });
        if (queue_.empty() && !txn.open && stopping_) return;
        while (!queue_.empty() && txn.ops.size() + ops.size() < opt_.max_batch) {
          ops.push_back(queue_.front());
          queue_.pop_front();
        }
        if (!txn.open) {
          batch_listener_ = listener_;
          batch_interest_ = interest_;
        }
        commit = !sync_busy_ || stopping_ || txn.ops.size() + ops.size() >= opt_.max_batch;
      }
      run_ops(txn, ops);
      if (commit && txn.open) commit_txn(txn);
    }
  }
  // Maps a SQLite failure to the error a waiter sees.
  static StoreError to_store_error(const SqliteError& e) {
    switch (e.code()) {
      case SQLITE_CONSTRAINT: return StoreError(StoreError::Kind::bad_request, e.what());
      case SQLITE_FULL: return StoreError(StoreError::Kind::storage_full, "The disk is full.");
      case SQLITE_IOERR:
      case SQLITE_CORRUPT:
        return StoreError(StoreError::Kind::unavailable,
                          std::string("a write failed to reach the disk (") + e.what() +
                              "); the store takes no more writes until restarted");
      case SQLITE_BUSY:
      case SQLITE_LOCKED: return StoreError(StoreError::Kind::unavailable, e.what());
      default: return StoreError(StoreError::Kind::internal, e.what());
    }
  }

  void fail_all(const std::vector<Op*>& batch, const SqliteError& e) {
    if (e.code() == SQLITE_IOERR || e.code() == SQLITE_CORRUPT) {
      // PostgreSQL's lesson: after a failed fsync the page cache may already have
      // dropped the data, so retrying "as if nothing happened" can lose
      // acknowledged writes. Stop taking writes; reads continue; restart recovers.
      std::lock_guard lock(queue_mu_);
      failed_ = true;
    }
    auto err = std::make_exception_ptr(to_store_error(e));
    for (auto* op : batch) complete(op, err);
  }

  // Runs `ops` in the open transaction (beginning one if none is), each in its own SAVEPOINT.
  void run_ops(Txn& txn, const std::vector<Op*>& ops) {
    if (ops.empty()) return;
    if (!txn.open) {
      pending_.clear();
      try {
        writer_db_.exec_cached("BEGIN IMMEDIATE");
      } catch (const SqliteError& e) {
        fail_all(ops, e);
        return;
      }
      txn.open = true;
    }
    for (std::size_t i = 0; i < ops.size(); ++i) {
      txn.ops.push_back(ops[i]);
      txn.results.emplace_back();
      std::size_t logged = pending_.size();
      try {
        writer_db_.exec_cached("SAVEPOINT op");
        ops[i]->fn(writer_db_);
        writer_db_.exec_cached("RELEASE op");
      } catch (...) {
        auto error = std::current_exception();
        txn.results.back() = error;
        pending_.resize(logged);
        if (sqlite3_get_autocommit(writer_db_.handle())) {
          // SQLite rolled the whole transaction back (I/O error, disk full...): every
          // operation in it, and those not run yet, is lost; none may be acknowledged.
          std::vector<Op*> lost = std::move(txn.ops);
          lost.insert(lost.end(), ops.begin() + static_cast<std::ptrdiff_t>(i) + 1, ops.end());
          txn = {};
          pending_.clear();
          try {
            std::rethrow_exception(error);
          } catch (const SqliteError& e) {
            fail_all(lost, e);
          } catch (...) {
            for (auto* op : lost) complete(op, error);
          }
          return;
        }
        try {
          writer_db_.exec("ROLLBACK TO op");
          writer_db_.exec("RELEASE op");
        } catch (...) {
        }
      }
    }
  }

  void commit_txn(Txn& txn) {
    Txn done = std::move(txn);
    txn = {};
    // Batched readers compare this counter to know their snapshot is stale. It is odd while a
    // COMMIT is under way (a snapshot begun then is never reused) and moves on again before
    // any waiter learns the outcome, committed or not.
    struct BumpSeq {
      std::atomic<std::uint64_t>& seq;
      ~BumpSeq() { seq.fetch_add(1, std::memory_order_release); }
    };
    try {
      commit_seq_.fetch_add(1, std::memory_order_acq_rel);
      BumpSeq bump{commit_seq_};
      detail::WalSyncDeferral defer(syncer_.joinable());  // the syncer syncs it
      writer_db_.exec_cached("COMMIT");
    } catch (const SqliteError& e) {
      // A failed commit is never retried: nothing of this batch is acknowledged.
      try {
        if (!sqlite3_get_autocommit(writer_db_.handle())) writer_db_.exec("ROLLBACK");
      } catch (...) {
      }
      pending_.clear();
      fail_all(done.ops, e);
      return;
    }
    Committed c{std::move(done.ops), std::move(done.results), std::move(pending_), batch_listener_};
    pending_.clear();
    const bool handed_to_syncer = syncer_.joinable();
    {
      std::lock_guard lock(queue_mu_);
      stats_.operations += c.ops.size();
      stats_.commits += 1;
      if (handed_to_syncer) {
        to_sync_.push_back(std::move(c));
        sync_busy_ = true;
      }
    }
    if (handed_to_syncer)
      sync_cv_.notify_one();
    else
      acknowledge(c);
  }

  // The WAL grows by every commit until a checkpoint has copied its pages into the database
  // file; the next write transaction after a complete one starts the WAL over. SQLite's own
  // (automatic) checkpoint runs inside the COMMIT that crosses 1000 pages, so the writer stalls
  // for the copy and two syncs, and with writes spread over a large table (random ids) it copies
  // most pages anew every time. Here a thread of its own checkpoints once the WAL holds
  // StoreOptions::checkpoint_pages (each page copied once however often it changed meanwhile),
  // and the writer goes on committing. Should the WAL still reach four times that (the
  // checkpointer never catching a moment when it has copied everything), the writer checkpoints
  // inline, as SQLite would.

  static int on_wal_commit(void* self, sqlite3* db, const char* schema, int frames) {
    auto* store = static_cast<SqliteStore*>(self);
    detail::WalSyncDeferral real_syncs(false);  // a checkpoint below needs the WAL on disk first
    // After a background checkpoint, the writer copies the few pages committed while it ran:
    // with everything copied, its next transaction can start the WAL over.
    bool catch_up = store->checkpoint_done_.exchange(false, std::memory_order_acq_rel);
    int due = std::max(1, store->opt_.checkpoint_pages);
    if (frames >= 4 * due || catch_up) {
      sqlite3_wal_checkpoint_v2(db, schema, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    } else if (frames >= due) {
      {
        std::lock_guard lock(store->checkpoint_mu_);
        store->checkpoint_due_ = true;
      }
      store->checkpoint_cv_.notify_one();
    }
    return SQLITE_OK;
  }

  void checkpoint_loop() {
    for (;;) {
      {
        std::unique_lock lock(checkpoint_mu_);
        checkpoint_cv_.wait(lock, [&] { return checkpoint_stopping_ || checkpoint_due_; });
        if (checkpoint_stopping_) return;
        checkpoint_due_ = false;
      }
      // PASSIVE: copies what no reader still needs, never waits for readers or the writer.
      // A failure leaves the pages in the WAL, which a later checkpoint copies.
      sqlite3_wal_checkpoint_v2(checkpoint_db_.handle(), "main", SQLITE_CHECKPOINT_PASSIVE, nullptr,
                                nullptr);
      checkpoint_done_.store(true, std::memory_order_release);
    }
  }

  // A committed batch on its way to its waiters.
  struct Committed {
    std::vector<Op*> ops;
    std::vector<std::exception_ptr> results;  // per op: what it threw (rolled back alone)
    detail::ChangeLog changes;
    CommitListener listener;
  };

  void acknowledge(Committed& c) {
    // Published before any waiter is completed: a client that saw its write
    // acknowledged can rely on the event being on its way, in commit order.
    if (c.listener && !c.changes.empty()) c.listener(std::move(c.changes));
    for (std::size_t i = 0; i < c.ops.size(); ++i) {
      if (!c.results[i]) {
        complete(c.ops[i], nullptr);
        continue;
      }
      try {
        std::rethrow_exception(c.results[i]);
      } catch (const SqliteError& e) {
        complete(c.ops[i], std::make_exception_ptr(to_store_error(e)));
      } catch (...) {
        complete(c.ops[i], c.results[i]);
      }
    }
  }

  // Durability full, syncer thread: the writer's COMMIT put a batch in the WAL (page cache);
  // one sync of the WAL file here makes it, and every batch committed before it, durable, and
  // only then are its waiters told. The writer meanwhile runs the next batch, so the wait
  // for the disk overlaps with the work of the next commit instead of stalling it; batches
  // that commit during one sync share the next.
  //
  // The sync goes through a handle of the syncer's own on the WAL file, opened with the same
  // VFS: Linux syncs a file through any descriptor of it, and SQLite's handle is never
  // touched from two threads. A batch is visible to readers from its COMMIT, slightly before
  // it is durable and acknowledged (as with "local" reads elsewhere): after a power cut a
  // write that nobody was told of may be gone although a reader saw it; an acknowledged one
  // never is, and a killed process loses nothing (the page cache survives it).
  void sync_loop() {
    for (;;) {
      std::deque<Committed> batch;
      bool failed = false;
      {
        std::unique_lock lock(queue_mu_);
        sync_cv_.wait(lock, [&] { return sync_stopping_ || !to_sync_.empty(); });
        if (to_sync_.empty()) return;  // stopping, nothing left to acknowledge
        batch.swap(to_sync_);
        // After a failed sync, no later sync is trusted to cover what came before it.
        failed = failed_;
      }
      int rc = failed ? SQLITE_IOERR_FSYNC : sync_wal();
      {
        std::lock_guard lock(queue_mu_);
        if (rc == SQLITE_OK) {
          stats_.syncs += 1;
        } else {
          // As a failed COMMIT: nothing of these batches is acknowledged, no more writes.
          failed_ = true;
        }
        if (to_sync_.empty()) sync_busy_ = false;
      }
      queue_cv_.notify_all();  // the writer may commit its open transaction now
      if (rc == SQLITE_OK) {
        for (auto& c : batch) acknowledge(c);
        continue;
      }
      auto err = std::make_exception_ptr(
          to_store_error(SqliteError(rc & 0xff, rc, "cannot sync the write-ahead log")));
      for (auto& c : batch) {
        for (auto* op : c.ops) complete(op, err);
      }
    }
  }

  int sync_wal() {
    if (!wal_file_) {
      sqlite3_vfs* vfs = sqlite3_vfs_find(opt_.vfs.empty() ? nullptr : opt_.vfs.c_str());
      if (!vfs) return SQLITE_IOERR;
      sqlite3_filename wal = sqlite3_filename_wal(sqlite3_db_filename(writer_db_.handle(), "main"));
      wal_storage_.assign(static_cast<std::size_t>(vfs->szOsFile), std::byte{0});
      auto* file = reinterpret_cast<sqlite3_file*>(wal_storage_.data());
      int out = 0;
      int rc = vfs->xOpen(vfs, wal, file, SQLITE_OPEN_READWRITE | SQLITE_OPEN_WAL, &out);
      if (rc != SQLITE_OK) {
        if (file->pMethods) file->pMethods->xClose(file);
        return rc;
      }
      wal_file_ = file;
    }
    return wal_file_->pMethods->xSync(wal_file_, SQLITE_SYNC_NORMAL);
  }

  void reload_catalog() {
    auto cat = read([](const Db& db) { return load_catalog(db); });
    std::lock_guard lock(catalog_mu_);
    catalog_ = std::move(cat);
  }

  StoreOptions opt_;
  Db writer_db_;
  std::thread writer_;

  mutable std::mutex queue_mu_;
  std::condition_variable queue_cv_;
  std::deque<Op*> queue_;
  bool stopping_ = false;
  bool failed_ = false;
  WriteStats stats_;
  CommitListener listener_;
  ChangeInterest interest_;
  CommitListener batch_listener_;  // writer thread: the listener for the current batch
  ChangeInterest batch_interest_;  // writer thread: its interest
  detail::ChangeLog pending_;      // writer thread: changes of the current batch

  std::atomic<std::uint64_t> commit_seq_{0};  // bumped after every COMMIT of the writer

  // Durability full: batches committed but not yet synced (under queue_mu_), and the thread
  // syncing them.
  std::condition_variable sync_cv_;
  std::deque<Committed> to_sync_;
  bool sync_busy_ = false;  // a batch was handed to the syncer and is not yet synced
  bool sync_stopping_ = false;
  std::vector<std::byte> wal_storage_;  // syncer thread: its sqlite3_file of the WAL
  sqlite3_file* wal_file_ = nullptr;
  std::thread syncer_;

  // Checkpoints (see on_wal_commit): their own connection and thread.
  Db checkpoint_db_;
  std::mutex checkpoint_mu_;
  std::condition_variable checkpoint_cv_;
  bool checkpoint_due_ = false;
  bool checkpoint_stopping_ = false;
  std::atomic<bool> checkpoint_done_{false};  // the writer's next commit catches up
  std::thread checkpointer_;
  std::atomic<std::uint64_t> list_counts_{0};
  std::atomic<std::uint64_t> list_counts_cached_{0};
  std::deque<Db> readers_;
  std::vector<Db*> free_readers_;
  std::mutex readers_mu_;
  std::condition_variable readers_cv_;

  mutable std::mutex catalog_mu_;
  std::shared_ptr<const core::Catalog> catalog_;
  json::object settings_;
};

}  // namespace

const core::Collection& collections_table() {
  static const core::Collection table = core::collection_from_row(
      "_collections", true, "base", "_collections",
      R"J([{"name":"id","type":"text","primaryKey":true,"required":true,"system":true},
          {"name":"name","type":"text"},{"name":"type","type":"text"},{"name":"system","type":"bool"},
          {"name":"listRule","type":"text"},{"name":"viewRule","type":"text"},{"name":"createRule","type":"text"},
          {"name":"updateRule","type":"text"},{"name":"deleteRule","type":"text"},
          {"name":"created","type":"date"},{"name":"updated","type":"date"}])J",
      "[]", std::nullopt, std::nullopt, std::nullopt, std::nullopt, std::nullopt, "{}", "", "");
  return table;
}

const core::Collection& mail_outbox_table() {
  static const core::Collection table = core::collection_from_row(
      "_plinth_mail_outbox", true, "base", "_plinth_mail_outbox",
      R"J([{"name":"id","type":"text","primaryKey":true,"required":true,"system":true},
          {"name":"status","type":"text"},{"name":"recipients","type":"text"},
          {"name":"subject","type":"text"},{"name":"message","type":"json"},
          {"name":"attempts","type":"number"},{"name":"nextAttempt","type":"number"},
          {"name":"lastError","type":"text"},{"name":"sentAt","type":"text"},
          {"name":"created","type":"text"},{"name":"updated","type":"text"}])J",
      R"J(["CREATE INDEX `idx_plinth_mail_outbox_due` ON `_plinth_mail_outbox` (`status`, `nextAttempt`)"])J",
      std::nullopt, std::nullopt, std::nullopt, std::nullopt, std::nullopt, "{}", "", "");
  return table;
}

std::unique_ptr<Store> open_sqlite_store(const StoreOptions& options) {
  try {
    return std::make_unique<SqliteStore>(options);
  } catch (const SqliteError& e) {
    throw StoreError(StoreError::Kind::unavailable, e.what());
  }
}

}  // namespace plinth::store
