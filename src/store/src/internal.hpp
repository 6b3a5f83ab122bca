#pragma once
// Store internals shared by its translation units: SQL builders and row codecs.

#include <boost/json/object.hpp>
#include <memory>
#include <string>

#include "plinth/core/collection.hpp"
#include "plinth/store/sqlite.hpp"
#include "plinth/store/store.hpp"

namespace plinth::store::detail {

// Schema -------------------------------------------------------------------

// Creates the system tables, system collections and default settings in a
// fresh data.db; records every applied step in `_migrations`. Idempotent.
void migrate_data_db(Db& db);
void migrate_aux_db(Db& db);
std::shared_ptr<const core::Catalog> load_catalog(const Db& db);
const char* default_settings_json();

// CREATE TABLE for a collection (columns sorted by name) plus its indexes.
void create_collection_table(Db& db, const core::Collection& c);
void insert_collection_row(Db& db, const core::Collection& c);
void alter_collection(Db& db, const core::Collection& before, const core::Collection& after);

struct IndexDef {
  bool unique = false;
  std::string name;
  std::vector<std::string>
      columns;        // identifiers, optionally followed by " COLLATE NOCASE" / " DESC"
  std::string where;  // only for trusted (system) definitions
};
// Parses "CREATE [UNIQUE] INDEX [IF NOT EXISTS] name ON table (cols) [WHERE expr]";
// nullopt when it is not that shape or names are not identifiers.
std::optional<IndexDef> parse_index(std::string_view sql);
std::string build_index_sql(const IndexDef& idx, std::string_view table);

// Records ------------------------------------------------------------------

// Binds compiled-query parameters from index `idx` on, advancing it.
void bind_params(Stmt& st, int& idx, const std::vector<query::Param>& params);

// Values are allocated from `sp` (the default heap when empty).
json::value value_from_db(const core::Field& f, const Stmt& st, int col,
                          const json::storage_ptr& sp = {});
void bind_value(Stmt& st, int idx, const core::Field& f, const json::value& v);
// Binds field `f` from `values` (its zero value when missing). Text present in `values` is bound
// without a copy: `values` must stay alive and unchanged until the statement has run.
void bind_field(Stmt& st, int idx, const core::Field& f, const json::object& values);
std::string select_columns(const core::Collection& c);

// The fields of `c` from column `first_col` of the current row on.
json::object read_row(const core::Collection& c, const Stmt& st, const json::storage_ptr& sp = {},
                      int first_col = 0);
std::optional<json::object> get_record(const Db& db, const core::Collection& c, std::string_view id,
                                       const json::storage_ptr& sp = {});
// Appends the record's API JSON straight from its row (see Store::write_api_record).
bool write_api_record(const Db& db, const core::Collection& c, std::string_view id,
                      const core::ViewOptions& opts, std::string& out);
ListResult list_records(const Db& db, const core::Collection& c, const ListQuery& q);
bool record_matches(const Db& db, const core::Collection& c, std::string_view id,
                    const query::Compiled& rule);
bool snapshot_matches(const Db& db, const core::Collection& c, const json::object& record,
                      const query::Compiled& rule);
std::optional<json::object> find_record_by(const Db& db, const core::Collection& c,
                                           std::string_view field, std::string_view value);
// Writes append what they changed (cascades included) to `log` when it is set.
using ChangeLog = std::vector<RecordChange>;
void insert_record(Db& db, const core::Catalog& cat, const core::Collection& c,
                   const json::object& values, ChangeLog* log = nullptr);
bool update_record(Db& db, const core::Catalog& cat, const core::Collection& c, std::string_view id,
                   const json::object& values, ChangeLog* log = nullptr);
bool delete_record(Db& db, const core::Catalog& cat, const core::Collection& c, std::string_view id,
                   int depth, ChangeLog* log = nullptr);

}  // namespace plinth::store::detail
