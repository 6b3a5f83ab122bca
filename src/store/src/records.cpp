#include <sqlite3.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <unordered_map>
#include <variant>

#include "internal.hpp"
#include "plinth/core/datetime.hpp"
#include "plinth/core/json.hpp"
#include "plinth/core/record.hpp"

namespace plinth::store::detail {
namespace {

using core::FieldType;

std::vector<std::string> parse_list(const std::string& text) {
  std::vector<std::string> out;
  if (text.find('[') != std::string::npos) {
    if (auto v = core::parse_json(text); v && v->is_array()) {
      for (const auto& e : v->get_array()) {
        if (e.is_string() && !e.get_string().empty()) out.emplace_back(e.get_string());
      }
      return out;
    }
  }
  if (!text.empty()) out.push_back(text);
  return out;
}

std::string where_id() {
  return " WHERE `id` = ?";
}

}  // namespace

json::value value_from_db(const core::Field& f, const Stmt& st, int col,
                          const json::storage_ptr& sp) {
  switch (f.type) {
    case FieldType::number: {
      if (st.is_null(col)) return json::value(0, sp);
      if (st.column_type(col) == SQLITE_TEXT) {
        auto t = st.text(col);
        char* end = nullptr;
        double d = std::strtod(t.c_str(), &end);
        return std::isfinite(d) ? json::value(d, sp) : json::value(0, sp);
      }
      return json::value(st.real(col), sp);
    }
    case FieldType::boolean: {
      if (st.is_null(col)) return json::value(false, sp);
      if (st.column_type(col) == SQLITE_TEXT) {
        auto t = st.text(col);
        return json::value(
            t == "1" || t == "true" || t == "t" || t == "TRUE" || t == "True" || t == "T", sp);
      }
      return json::value(st.integer(col) != 0, sp);
    }
    case FieldType::json: {
      if (st.is_null(col)) return json::value(nullptr, sp);
      auto t = st.text(col);
      if (t.empty()) return json::value(nullptr, sp);
      if (auto v = core::parse_json(t)) return json::value(std::move(*v), sp);
      return json::value(t, sp);
    }
    case FieldType::geo_point: {
      double lon = 0, lat = 0;
      if (!st.is_null(col)) {
        if (auto v = core::parse_json(st.text(col)); v && v->is_object()) {
          auto num = [](const json::value* x) {
            if (!x) return 0.0;
            if (x->is_double()) return x->get_double();
            if (x->is_int64()) return static_cast<double>(x->get_int64());
            return 0.0;
          };
          lon = num(v->get_object().if_contains("lon"));
          lat = num(v->get_object().if_contains("lat"));
        }
      }
      json::object o(sp);
      o.emplace("lon", lon);
      o.emplace("lat", lat);
      return o;
    }
    case FieldType::select:
    case FieldType::relation:
    case FieldType::file: {
      auto items = parse_list(st.is_null(col) ? std::string() : st.text(col));
      if (f.is_multi()) {
        json::array a(sp);
        for (auto& s : items) a.emplace_back(s);
        return a;
      }
      return items.empty() ? json::value("", sp) : json::value(items.back(), sp);
    }
    case FieldType::date:
    case FieldType::autodate: {
      if (st.is_null(col)) return json::value("", sp);
      return json::value(core::normalize_datetime(st.text_view(col)), sp);
    }
    default:
      if (st.is_null(col)) return json::value("", sp);
      return json::value(st.text_view(col), sp);
  }
}

namespace {

void bind_value_as(Stmt& st, int idx, const core::Field& f, const json::value& v, bool borrow) {
  auto bind_text = [&](std::string_view text) {
    if (borrow)
      st.bind_unowned(idx, text.empty() ? std::string_view("") : text);
    else
      st.bind(idx, std::string(text));
  };
  switch (f.type) {
    case FieldType::number: {
      double d = v.is_double()   ? v.get_double()
                 : v.is_int64()  ? static_cast<double>(v.get_int64())
                 : v.is_uint64() ? static_cast<double>(v.get_uint64())
                                 : 0.0;
      st.bind(idx, d);
      return;
    }
    case FieldType::boolean:
      st.bind(idx, static_cast<std::int64_t>(v.is_bool() && v.get_bool()));
      return;
    case FieldType::json:
      if (v.is_null())
        st.bind_null(idx);
      else
        st.bind(idx, core::to_json(v));
      return;
    case FieldType::geo_point: st.bind(idx, core::to_json(v)); return;
    case FieldType::select:
    case FieldType::relation:
    case FieldType::file:
      if (f.is_multi())
        st.bind(idx, v.is_array() ? core::to_json(v) : std::string("[]"));
      else
        bind_text(v.is_string() ? std::string_view(v.get_string()) : std::string_view());
      return;
    default: bind_text(v.is_string() ? std::string_view(v.get_string()) : std::string_view());
  }
}

}  // namespace

void bind_value(Stmt& st, int idx, const core::Field& f, const json::value& v) {
  bind_value_as(st, idx, f, v, false);
}

void bind_field(Stmt& st, int idx, const core::Field& f, const json::object& values) {
  if (const auto* v = values.if_contains(f.name))
    bind_value_as(st, idx, f, *v, true);
  else
    bind_value_as(st, idx, f, f.zero_value(), false);
}

namespace {

void append_select_columns(std::string& out, const core::Collection& c) {
  for (std::size_t i = 0; i < c.fields.size(); ++i) {
    if (i) out += ", ";
    core::append_quoted_identifier(out, c.fields[i].name);
  }
}

}  // namespace

std::string select_columns(const core::Collection& c) {
  std::string cols;
  append_select_columns(cols, c);
  return cols;
}

json::object read_row(const core::Collection& c, const Stmt& st, const json::storage_ptr& sp,
                      int first_col) {
  json::object o(sp);
  o.reserve(c.fields.size());
  for (std::size_t i = 0; i < c.fields.size(); ++i) {
    o.insert_or_assign(c.fields[i].name,
                       value_from_db(c.fields[i], st, first_col + static_cast<int>(i), sp));
  }
  return o;
}

namespace {

// Where this thread last found records by id: table and id -> rowid. A hint is only ever
// followed together with the id (`rowid = ? AND id = ?`), and ids are unique in their table,
// so a stale or foreign hint costs one probe that finds nothing, never a wrong row.
struct RowHints {
  static constexpr std::size_t kMax = 8192;  // then forgotten all at once
  std::unordered_map<std::string, std::int64_t> rowids;
  std::string key;
};

// Calls `fn(st, first_col)` with `st` on the row of record `id` (its fields from column
// `first_col` on); false when there is none. A table's row is found through its rowid when
// this thread has seen the record before (one B-tree seek instead of two, for the records read
// again and again: the caller's own auth record, a popular post), else through the id's index.
template <class Fn>
bool with_record_row(const Db& db, const core::Collection& c, std::string_view id, Fn&& fn) {
  // The SQL is built in a reused buffer, which the statement cache only hashes (and copies
  // once, when it first prepares it).
  thread_local std::string sql;
  thread_local RowHints hints;
  bool table = !c.is_view();  // a view has no rowid
  if (table) {
    hints.key.assign(c.name);
    hints.key.push_back('\0');
    hints.key.append(id);
    if (auto it = hints.rowids.find(hints.key); it != hints.rowids.end()) {
      sql.assign("SELECT ");
      append_select_columns(sql, c);
      sql += " FROM ";
      core::append_quoted_identifier(sql, c.name);
      sql += " WHERE rowid = ? AND `id` = ?";
      Stmt st(db, sql);
      st.bind(1, it->second);
      st.bind_unowned(2, id);  // `id` outlives `st`
      if (st.step()) {
        fn(st, 0);
        return true;
      }
      hints.rowids.erase(it);
    }
  }
  sql.assign(table ? "SELECT rowid, " : "SELECT ");
  append_select_columns(sql, c);
  sql += " FROM ";
  core::append_quoted_identifier(sql, c.name);
  sql += where_id();
  Stmt st(db, sql);
  st.bind_unowned(1, id);
  if (!st.step()) return false;
  if (!table) {
    fn(st, 0);
    return true;
  }
  if (hints.rowids.size() >= RowHints::kMax) hints.rowids.clear();
  hints.rowids.insert_or_assign(hints.key, st.integer(0));
  fn(st, 1);
  return true;
}

}  // namespace

std::optional<json::object> get_record(const Db& db, const core::Collection& c, std::string_view id,
                                       const json::storage_ptr& sp) {
  std::optional<json::object> out;
  with_record_row(db, c, id, [&](const Stmt& st, int first) { out = read_row(c, st, sp, first); });
  return out;
}

namespace {

// What write_json(value_from_db(f, st, col)) appends, without the value in between for the
// common types; the others (json, geo point, lists) go through the value.
void append_value_from_db(std::string& out, const core::Field& f, const Stmt& st, int col) {
  switch (f.type) {
    case FieldType::number:
      if (st.is_null(col) || st.column_type(col) == SQLITE_TEXT) break;
      core::append_number(out, st.real(col));
      return;
    case FieldType::boolean:
      if (st.is_null(col) || st.column_type(col) == SQLITE_TEXT) break;
      out += st.integer(col) != 0 ? "true" : "false";
      return;
    case FieldType::date:
    case FieldType::autodate: {
      if (st.is_null(col)) break;
      auto text = st.text_view(col);
      if (!core::is_canonical_datetime(text)) break;
      core::write_json_string(out, text);
      return;
    }
    case FieldType::select:
    case FieldType::relation:
    case FieldType::file: {
      if (f.is_multi() || st.is_null(col)) break;
      auto text = st.text_view(col);
      if (text.find('[') != std::string_view::npos) break;
      core::write_json_string(out, text);
      return;
    }
    case FieldType::json:
    case FieldType::geo_point: break;
    default:
      if (st.is_null(col)) {
        out += "\"\"";
      } else {
        core::write_json_string(out, st.text_view(col));
      }
      return;
  }
  core::write_json(out, value_from_db(f, st, col));
}

}  // namespace

bool write_api_record(const Db& db, const core::Collection& c, std::string_view id,
                      const core::ViewOptions& opts, std::string& out) {
  return with_record_row(db, c, id, [&](const Stmt& st, int first) {
    bool email_visible = false;
    if (c.is_auth()) {
      for (std::size_t i = 0; i < c.fields.size(); ++i) {
        if (c.fields[i].name != "emailVisibility") continue;
        auto v = value_from_db(c.fields[i], st, first + static_cast<int>(i));
        email_visible = v.is_bool() && v.get_bool();
      }
    }
    thread_local std::vector<core::ApiKey> keys;
    core::api_keys(c, opts, email_visible, keys);
    out.push_back('{');
    bool first_key = true;
    for (const auto& k : keys) {
      if (!first_key) out.push_back(',');
      first_key = false;
      core::write_json_string(out, k.name);
      out.push_back(':');
      if (k.field == core::kApiCollectionId) {
        core::write_json_string(out, c.id);
      } else if (k.field == core::kApiCollectionName) {
        core::write_json_string(out, c.name);
      } else {
        append_value_from_db(out, c.fields[static_cast<std::size_t>(k.field)], st, first + k.field);
      }
    }
    out.push_back('}');
  });
}

std::optional<json::object> find_record_by(const Db& db, const core::Collection& c,
                                           std::string_view field, std::string_view value) {
  if (!c.field(field)) return std::nullopt;
  Stmt st(db, "SELECT " + select_columns(c) + " FROM " + core::quote_identifier(c.name) +
                  " WHERE " + core::quote_identifier(field) + " = ? COLLATE NOCASE LIMIT 1");
  st.bind(1, value);
  if (!st.step()) return std::nullopt;
  return read_row(c, st);
}

namespace {

std::string joins_sql(const query::Compiled& q) {
  std::string out;
  for (const auto& j : q.joins) out += " " + j;
  return out;
}

// Selects the collection's columns qualified by the table name.
std::string qualified_columns(const core::Collection& c) {
  std::string table = core::quote_identifier(c.name), cols;
  for (std::size_t i = 0; i < c.fields.size(); ++i) {
    if (i) cols += ", ";
    cols += table + "." + core::quote_identifier(c.fields[i].name);
  }
  return cols;
}

// The cache key of a count: its SQL text, then each bound value with its type and length.
void append_key(std::string& key, const std::vector<query::Param>& params) {
  for (const auto& p : params) {
    std::visit(
        [&](const auto& v) {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, std::monostate>) {
            key += '\0';
          } else if constexpr (std::is_same_v<T, bool>) {
            key += v ? 't' : 'f';
          } else if constexpr (std::is_same_v<T, std::int64_t> || std::is_same_v<T, double>) {
            char bytes[sizeof(T)];
            std::memcpy(bytes, &v, sizeof(T));
            key += std::is_same_v<T, double> ? 'd' : 'i';
            key.append(bytes, sizeof(T));
          } else {
            std::string_view text(v);
            key += 's';
            key += std::to_string(text.size());
            key += ':';
            key += text;
          }
        },
        p.value);
  }
}

ListResult list_compiled(const Db& db, const core::Collection& c, const ListQuery& q,
                         const query::Compiled& cq) {
  std::string table = core::quote_identifier(c.name);
  std::string from =
      " FROM " + table + joins_sql(cq) + (cq.where.empty() ? "" : " WHERE " + cq.where);
  ListResult r;
  std::string sql = "SELECT " + std::string(cq.needs_distinct ? "DISTINCT " : "") +
                    qualified_columns(c) + from +
                    (cq.order_by.empty() ? "" : " ORDER BY " + cq.order_by) + " LIMIT ? OFFSET ?";
  Stmt st(db, sql);
  int idx = 1;
  bind_params(st, idx, cq.join_params);
  bind_params(st, idx, cq.params);
  bind_params(st, idx, cq.order_params);
  st.bind(idx, q.per_page);
  st.bind(idx + 1, (q.page - 1) * q.per_page);
  // The page's first row. While the statement has rows left it holds the read transaction, so
  // the count below comes from the same snapshot.
  bool row = st.step();
  std::optional<Stmt> held_count;  // an empty page's count, holding its snapshot
  if (!q.skip_total) {
    // Without joins every row of a table is counted once, and COUNT(*) is answered from the
    // index alone; DISTINCT would build a temporary b-tree of every match (2-3x the cost).
    std::string counted = "COUNT(*)";
    if (c.is_view() || cq.needs_distinct) {
      counted = "COUNT(DISTINCT " + (c.is_view() ? table + ".`id`" : table + "._rowid_") + ")";
    }
    std::string count_sql = "SELECT " + counted + from;
    // Runs the count into `slot`, stepped to its one row and not reset: while the slot lives
    // it holds a read transaction.
    auto count_into = [&](std::optional<Stmt>& slot) {
      slot.emplace(db, count_sql);
      int i = 1;
      bind_params(*slot, i, cq.join_params);
      bind_params(*slot, i, cq.params);
      slot->step();
      return slot->integer(0);
    };
    if (row) {
      // A count steps through every match, the page only through its own rows: on a large
      // match it is most of the list's work. A reader connection remembers counts for as long
      // as the database's data version, read inside this snapshot, stays the same.
      Db::CountCache* cache = db.count_cache();
      std::optional<std::uint32_t> version = cache ? db.data_version() : std::nullopt;
      std::string key;
      if (version) {
        if (cache->version != *version) {
          cache->counts.clear();
          cache->version = *version;
        }
        key = count_sql;
        key += '\0';
        append_key(key, cq.join_params);
        append_key(key, cq.params);
        if (auto it = cache->counts.find(key); it != cache->counts.end()) {
          r.total_items = it->second;
          r.total_from_cache = true;
        }
      }
      if (!r.total_from_cache) {
        std::optional<Stmt> cnt;
        r.total_items = count_into(cnt);
        if (version && key.size() <= Db::CountCache::max_key_bytes) {
          if (cache->counts.size() >= Db::CountCache::max_entries) cache->counts.clear();
          cache->counts.emplace(std::move(key), r.total_items);
        }
      }
    } else {
      // An empty page left its read transaction when it ran out of rows. The count keeps one
      // open, and the page is read again in that snapshot.
      r.total_items = count_into(held_count);
      st.rewind();
      row = st.step();
    }
  }
  while (row) {
    r.items.push_back(read_row(c, st, q.storage));
    row = st.step();
  }
  return r;
}

}  // namespace

void bind_params(Stmt& st, int& idx, const std::vector<query::Param>& params) {
  for (const auto& p : params) {
    std::visit(
        [&](const auto& v) {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, std::monostate>)
            st.bind_null(idx);
          else if constexpr (std::is_same_v<T, bool>)
            st.bind(idx, static_cast<std::int64_t>(v ? 1 : 0));
          else if constexpr (std::is_same_v<T, std::int64_t>)
            st.bind(idx, v);
          else if constexpr (std::is_same_v<T, double>)
            st.bind(idx, v);
          else
            st.bind(idx, std::string_view(v));
        },
        p.value);
    ++idx;
  }
}

bool record_matches(const Db& db, const core::Collection& c, std::string_view id,
                    const query::Compiled& rule) {
  std::string table = core::quote_identifier(c.name);
  std::string sql = "SELECT 1 FROM " + table + joins_sql(rule) + " WHERE " + table + ".`id` = ?" +
                    (rule.where.empty() ? "" : " AND (" + rule.where + ")") + " LIMIT 1";
  Stmt st(db, sql);
  int idx = 1;
  bind_params(st, idx, rule.join_params);
  st.bind(idx++, id);
  bind_params(st, idx, rule.params);
  return st.step();
}

bool snapshot_matches(const Db& db, const core::Collection& c, const json::object& record,
                      const query::Compiled& rule) {
  // A CTE named like the table shadows it inside this statement, so the rule's
  // own SQL runs unchanged against the one remembered row.
  std::string table = core::quote_identifier(c.name);
  std::string cols, marks;
  for (std::size_t i = 0; i < c.fields.size(); ++i) {
    if (i) {
      cols += ", ";
      marks += ", ";
    }
    cols += core::quote_identifier(c.fields[i].name);
    marks += "?";
  }
  std::string sql = "WITH " + table + " (" + cols + ") AS (SELECT " + marks + ") SELECT 1 FROM " +
                    table + joins_sql(rule) +
                    (rule.where.empty() ? "" : " WHERE (" + rule.where + ")") + " LIMIT 1";
  Stmt st(db, sql);
  int idx = 1;
  for (const auto& f : c.fields) bind_field(st, idx++, f, record);
  bind_params(st, idx, rule.join_params);
  bind_params(st, idx, rule.params);
  return st.step();
}

ListResult list_records(const Db& db, const core::Collection& c, const ListQuery& q) {
  if (q.compiled) return list_compiled(db, c, q, *q.compiled);
  std::string table = core::quote_identifier(c.name);
  std::string order;
  for (const auto& s : q.sort) {
    std::string term;
    if (s.field == "@random")
      term = "RANDOM()";
    else if (s.field == "@rowid")
      term = table + "._rowid_";
    else if (c.field(s.field))
      term = table + "." + core::quote_identifier(s.field);
    else
      throw StoreError(StoreError::Kind::bad_request, "invalid sort field \"" + s.field + "\"");
    if (s.field != "@random") term += s.desc ? " DESC" : " ASC";
    order += order.empty() ? " ORDER BY " : ", ";
    order += term;
  }
  ListResult r;
  Stmt st(db, "SELECT " + select_columns(c) + " FROM " + table + order + " LIMIT ? OFFSET ?");
  st.bind(1, q.per_page).bind(2, (q.page - 1) * q.per_page);
  while (st.step()) r.items.push_back(read_row(c, st, q.storage));
  if (!q.skip_total) {
    Stmt cnt(db, "SELECT COUNT(*) FROM " + table);
    cnt.step();
    r.total_items = cnt.integer(0);
  }
  return r;
}

namespace {

// "UNIQUE constraint failed: demo.title" -> field errors, else nullopt.
std::optional<core::FieldErrors> unique_violation(const SqliteError& e, const core::Collection& c) {
  if (e.extended_code() != SQLITE_CONSTRAINT_UNIQUE &&
      e.extended_code() != SQLITE_CONSTRAINT_PRIMARYKEY)
    return std::nullopt;
  std::string msg = e.what();
  core::FieldErrors errors;
  auto pos = msg.find("failed: ");
  std::string list = pos == std::string::npos ? std::string() : msg.substr(pos + 8);
  std::size_t start = 0;
  while (start < list.size()) {
    auto comma = list.find(", ", start);
    std::string item =
        list.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    auto dot = item.rfind('.');
    std::string col = dot == std::string::npos ? item : item.substr(dot + 1);
    if (c.field(col))
      errors[col] = core::FieldError{"validation_not_unique", "Value must be unique.", {}};
    if (comma == std::string::npos) break;
    start = comma + 2;
  }
  return errors;
}

void check_relations(const Db& db, const core::Catalog& cat, const core::Collection& c,
                     const json::object& values) {
  core::FieldErrors errors;
  for (const auto& f : c.fields) {
    if (f.type != FieldType::relation) continue;
    auto* v = values.if_contains(f.name);
    if (!v) continue;
    std::vector<std::string> ids;
    if (v->is_string() && !v->get_string().empty()) ids.emplace_back(v->get_string());
    if (v->is_array()) {
      for (const auto& e : v->get_array()) {
        if (e.is_string()) ids.emplace_back(e.get_string());
      }
    }
    if (ids.empty()) continue;
    auto target = cat.find(f.string_option("collectionId"));
    if (!target) {
      errors[f.name] = {
          "validation_missing_rel_collection", "The relation collection doesn't exist.", {}};
      continue;
    }
    std::string sql =
        "SELECT COUNT(*) FROM " + core::quote_identifier(target->name) + " WHERE `id` IN (";
    for (std::size_t i = 0; i < ids.size(); ++i) sql += i ? ",?" : "?";
    sql += ")";
    Stmt st(db, sql);
    for (std::size_t i = 0; i < ids.size(); ++i) st.bind(static_cast<int>(i + 1), ids[i]);
    st.step();
    if (st.integer(0) != static_cast<std::int64_t>(ids.size())) {
      errors[f.name] = {"validation_missing_rel_records",
                        "Failed to find all relation records with the provided ids.",
                        {}};
    }
  }
  if (!errors.empty()) throw core::ValidationFailed("Failed to save record.", std::move(errors));
}

}  // namespace

namespace {

void log_change(const Db& db, const core::Collection& c, std::string_view id,
                RecordChange::Action action, ChangeLog* log) {
  if (!log) return;
  if (auto rec = get_record(db, c, id)) log->push_back({action, c.id, c.name, std::move(*rec)});
}

}  // namespace

void insert_record(Db& db, const core::Catalog& cat, const core::Collection& c,
                   const json::object& values, ChangeLog* log) {
  check_relations(db, cat, c, values);
  // Built in a reused buffer, which the statement cache only hashes.
  thread_local std::string sql;
  sql.assign("INSERT INTO ");
  core::append_quoted_identifier(sql, c.name);
  sql += " (";
  append_select_columns(sql, c);
  sql += ") VALUES (";
  for (std::size_t i = 0; i < c.fields.size(); ++i) sql += i ? ", ?" : "?";
  sql += ')';
  Stmt st(db, sql);
  for (std::size_t i = 0; i < c.fields.size(); ++i)
    bind_field(st, static_cast<int>(i + 1), c.fields[i], values);
  try {
    st.step();
  } catch (const SqliteError& e) {
    if (auto errs = unique_violation(e, c))
      throw core::ValidationFailed("Failed to create record.", std::move(*errs));
    throw;
  }
  if (auto* id = values.if_contains("id"); id && id->is_string())
    log_change(db, c, id->get_string(), RecordChange::Action::create, log);
}

bool update_record(Db& db, const core::Catalog& cat, const core::Collection& c, std::string_view id,
                   const json::object& values, ChangeLog* log) {
  check_relations(db, cat, c, values);
  std::string sets;
  int n = 0;
  for (const auto& f : c.fields) {
    if (f.primary_key) continue;
    if (n++) sets += ", ";
    sets += core::quote_identifier(f.name) + " = ?";
  }
  Stmt st(db, "UPDATE " + core::quote_identifier(c.name) + " SET " + sets + where_id());
  int i = 1;
  for (const auto& f : c.fields) {
    if (!f.primary_key) bind_field(st, i++, f, values);
  }
  st.bind(i, id);
  try {
    st.step();
  } catch (const SqliteError& e) {
    if (auto errs = unique_violation(e, c))
      throw core::ValidationFailed("Failed to update record.", std::move(*errs));
    throw;
  }
  if (db.changes() == 0) return false;
  log_change(db, c, id, RecordChange::Action::update, log);
  return true;
}

bool delete_record(Db& db, const core::Catalog& cat, const core::Collection& c, std::string_view id,
                   int depth, ChangeLog* log) {
  if (depth > 32) throw StoreError(StoreError::Kind::bad_request, "relation cascade is too deep");
  // References from relation fields pointing at this collection.
  for (const auto& other : cat.all()) {
    if (other->is_view()) continue;
    for (const auto& f : other->fields) {
      if (f.type != FieldType::relation || f.string_option("collectionId") != c.id) continue;
      std::string table = core::quote_identifier(other->name);
      std::string col = core::quote_identifier(f.name);
      std::string cond = f.is_multi()
                             ? "EXISTS (SELECT 1 FROM json_each(CASE WHEN json_valid(" + col +
                                   ") THEN " + col + " ELSE '[]' END) WHERE value = ?)"
                             : col + " = ?";
      Stmt refs(db, "SELECT `id` FROM " + table + " WHERE " + cond);
      refs.bind(1, id);
      std::vector<std::string> ref_ids;
      while (refs.step()) ref_ids.push_back(refs.text(0));
      for (const auto& rid : ref_ids) {
        if (other->id == c.id && rid == id) continue;
        auto rec = get_record(db, *other, rid);
        if (!rec) continue;
        json::value& v = (*rec)[f.name];
        bool now_empty = true;
        if (v.is_array()) {
          json::array kept;
          for (const auto& e : v.get_array()) {
            if (!(e.is_string() && e.get_string() == id)) kept.push_back(e);
          }
          now_empty = kept.empty();
          v = std::move(kept);
        } else {
          v = "";
        }
        // As PocketBase: the id is removed from the reference; a cascading
        // reference left empty deletes its record, a required one blocks.
        if (now_empty && f.bool_option("cascadeDelete")) {
          delete_record(db, cat, *other, rid, depth + 1, log);
          continue;
        }
        if (f.required && now_empty) {
          throw StoreError(
              StoreError::Kind::bad_request,
              "Failed to delete record. Make sure that the record is not part of a required "
              "relation reference.");
        }
        Stmt upd(db, "UPDATE " + table + " SET " + col + " = ? WHERE `id` = ?");
        bind_value(upd, 1, f, v);
        upd.bind(2, rid);
        upd.step();
        log_change(db, *other, rid, RecordChange::Action::update, log);
      }
    }
  }
  std::optional<json::object> before;
  if (log) before = get_record(db, c, id);
  Stmt st(db, "DELETE FROM " + core::quote_identifier(c.name) + where_id());
  st.bind(1, id);
  st.step();
  if (db.changes() == 0) return false;
  if (before) log->push_back({RecordChange::Action::del, c.id, c.name, std::move(*before)});
  return true;
}

}  // namespace plinth::store::detail
