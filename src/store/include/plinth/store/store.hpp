#pragma once
// The Store: collections (as an immutable Catalog snapshot) and record CRUD.
// Writes go through one writer thread with group commit; reads use a pool of
// read connections. Callers are worker-pool threads, never I/O threads.
//
// Field-level failures (unique values, missing relation targets) throw
// core::ValidationFailed; anything else throws StoreError.

#include <boost/json/object.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "plinth/core/collection.hpp"
#include "plinth/core/record.hpp"
#include "plinth/query/filter.hpp"

namespace plinth::store {

namespace json = boost::json;

class StoreError : public std::runtime_error {
 public:
  enum class Kind { bad_request, conflict, unavailable, storage_full, internal };
  StoreError(Kind kind, std::string msg) : std::runtime_error(std::move(msg)), kind_(kind) {}
  Kind kind() const { return kind_; }

 private:
  Kind kind_;
};

enum class Durability { full, normal };

// One record written by a committed transaction: the row after a create or
// update, the row before a delete (as read from the database).
struct RecordChange {
  enum class Action { create, update, del };
  Action action = Action::create;
  std::string collection_id;
  std::string collection_name;
  json::object record;
};

// Called after a COMMIT succeeded (with durability full: once it is synced, before its
// writers are answered), on one of the store's threads, with the changes of the operations it
// holds in commit order (a rolled-back operation contributes none). Batches arrive in commit
// order. Must be quick: hand the changes over, never block.
using CommitListener = std::function<void(std::vector<RecordChange>&&)>;

// Whether a change written now could reach anyone (e.g. a realtime client is connected). The
// writer asks before each write operation; while it answers false, writes record no changes
// and skip reading back what they wrote. Any thread may be the one asking: keep it a cheap,
// thread-safe check. Empty: always.
using ChangeInterest = std::function<bool()>;

struct StoreOptions {
  std::string dir = "plinth_data";
  Durability durability = Durability::full;
  unsigned readers = 4;
  std::size_t max_batch = 256;   // operations per group commit
  std::string vfs;               // SQLite VFS name ("" = default); tests inject faults through one
  int checkpoint_pages = 10000;  // WAL pages (4 KiB each) that start a background checkpoint
};

struct SortTerm {
  std::string field;  // a field name, "@random" or "@rowid"
  bool desc = false;
};

struct ListQuery {
  std::int64_t page = 1;
  std::int64_t per_page = 30;
  std::vector<SortTerm> sort;  // ignored when `compiled` is set
  bool skip_total = false;
  // Rules, filter and sort compiled by plinth_query (joins, WHERE, ORDER BY).
  std::optional<query::Compiled> compiled;
  // Where the items' JSON is allocated (the default heap when empty); a caller may pass a
  // per-request arena that outlives the result.
  json::storage_ptr storage;
};

struct ListResult {
  std::vector<json::object> items;  // field values by name
  std::int64_t total_items = -1;
  bool total_from_cache = false;  // total_items came from the reader's count cache
};

struct ReadStats {
  std::uint64_t list_counts = 0;         // lists that returned totalItems
  std::uint64_t list_counts_cached = 0;  // of those, answered from a reader's count cache
};

struct WriteStats {
  std::uint64_t operations = 0;
  std::uint64_t commits = 0;
  std::uint64_t syncs = 0;  // durability full: WAL syncs, each covering one or more commits
};

// Record operations inside one transaction (see Store::transaction).
class Tx {
 public:
  virtual ~Tx() = default;
  virtual std::optional<json::object> get_record(const core::Collection& c,
                                                 std::string_view id) = 0;
  virtual void insert_record(const core::Collection& c, const json::object& values) = 0;
  virtual bool update_record(const core::Collection& c, std::string_view id,
                             const json::object& values) = 0;
  virtual bool delete_record(const core::Collection& c, std::string_view id) = 0;
  // True when record `id` exists and satisfies the compiled rule.
  virtual bool matches(const core::Collection& c, std::string_view id,
                       const query::Compiled& rule) = 0;
  // Runs `fn` all-or-nothing; inside a transaction already, that is just a call.
  virtual void atomically(const std::function<void(Tx&)>& fn) { fn(*this); }
};

struct SchemaChange {
  enum class Kind { create, update, drop };
  Kind kind = Kind::create;
  core::Collection before;  // update, drop
  core::Collection after;   // create, update
};

class Store {
 public:
  virtual ~Store() = default;

  virtual std::shared_ptr<const core::Catalog> catalog() const = 0;

  // Lets the calling thread keep one read connection, and one read transaction while no write
  // commits, across the reads it makes until the returned handle is destroyed on this thread
  // (a worker serving a batch of requests). Reads see every write committed before they start,
  // as unbatched reads do; a write made meanwhile hands the connection back first. nullptr
  // when the thread already batches or the store has nothing to gain.
  virtual std::shared_ptr<void> batch_reads() { return nullptr; }

  virtual ListResult list_records(const core::Collection& c, const ListQuery& q) = 0;
  // The record's JSON is allocated from `sp` (the default heap when empty).
  virtual std::optional<json::object> get_record(const core::Collection& c, std::string_view id,
                                                 json::storage_ptr sp = {}) = 0;
  // Appends the record's API JSON (core::record_to_api's keys and values, as core::write_json
  // writes them) to `out`, without building the record in between. False, and `out` unchanged,
  // when there is no such record.
  virtual bool write_api_record(const core::Collection& c, std::string_view id,
                                const core::ViewOptions& opts, std::string& out) = 0;
  virtual std::optional<json::object> find_record_by(const core::Collection& c,
                                                     std::string_view field,
                                                     std::string_view value) = 0;
  // True when record `id` exists and satisfies the compiled rule.
  virtual bool record_matches(const core::Collection& c, std::string_view id,
                              const query::Compiled& rule) = 0;
  // True when `record` (a row of `c`, e.g. one that was deleted since) satisfies
  // the rule, evaluated as if it were the table's only row; relations resolve
  // against the current database.
  virtual bool snapshot_matches(const core::Collection& c, const json::object& record,
                                const query::Compiled& rule) = 0;

  // Receives the record changes of every later commit (see CommitListener) made while
  // `interest` held (see ChangeInterest).
  virtual void set_commit_listener(CommitListener listener, ChangeInterest interest) = 0;

  virtual void insert_record(const core::Collection& c, const json::object& values) = 0;
  // False when no such record.
  virtual bool update_record(const core::Collection& c, std::string_view id,
                             const json::object& values) = 0;
  // Applies relation cascades; false when no such record.
  virtual bool delete_record(const core::Collection& c, std::string_view id) = 0;

  // DDL + `_collections` row in one transaction; the catalog is refreshed on success.
  virtual void create_collection(const core::Collection& c) = 0;
  virtual bool delete_collection(std::string_view id) = 0;
  // Schema change from `before` to `after` (fields matched by id): renames the
  // table and columns, adds, drops and retypes columns with data converted, and
  // rebuilds every index — all in one transaction; any failing step rolls back all.
  virtual void update_collection(const core::Collection& before, const core::Collection& after) = 0;
  // Several creates/updates/drops as one transaction (collections import).
  virtual void change_schema(const std::vector<SchemaChange>& changes) = 0;
  // Deletes every record (relation cascades applied) in one transaction.
  virtual void truncate_collection(const core::Collection& c) = 0;

  // Runs `fn` as one all-or-nothing transaction (one group-commit operation):
  // if `fn` throws, nothing it did is kept and the exception propagates.
  virtual void transaction(const std::function<void(Tx&)>& fn) = 0;

  // The `_params` settings object (PocketBase's shape), and saving a new one.
  virtual json::object settings() const = 0;
  virtual void save_settings(const json::object& settings) = 0;

  // Ids of the `_collections` rows matching a filter compiled against
  // collections_table(), in row order.
  virtual std::vector<std::string> filter_collections(const query::Compiled& filter) = 0;

  virtual WriteStats write_stats() const = 0;
  virtual ReadStats read_stats() const = 0;
};

// `_collections` described as a collection, so filters on the collections list
// compile with the same compiler (id, name, type, system, rules, created, updated).
const core::Collection& collections_table();

// `_plinth_mail_outbox` described as a collection (not listed in `_collections`):
// the durable queue of outgoing mail, written through the ordinary record
// operations so a mail can be queued in the same transaction as the change
// that asks for it. Fields: id, status (pending|sent|failed), recipients,
// subject, message (json), attempts, nextAttempt (ms since the epoch),
// lastError, sentAt, created, updated.
const core::Collection& mail_outbox_table();

// True when `sql` is an index definition the store accepts (CREATE [UNIQUE] INDEX
// name ON table (columns) [WHERE col != '']).
bool is_valid_index(std::string_view sql);

// Opens (creating and migrating when needed) `<dir>/data.db` and `<dir>/auxiliary.db`.
std::unique_ptr<Store> open_sqlite_store(const StoreOptions& options);

}  // namespace plinth::store
