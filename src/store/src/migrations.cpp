#include <sqlite3.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <regex>

#include "internal.hpp"
#include "plinth/core/datetime.hpp"
#include "plinth/core/json.hpp"

namespace plinth::store::detail {
namespace {

bool table_exists(const Db& db, std::string_view name) {
  Stmt st(db, "SELECT 1 FROM sqlite_master WHERE type IN ('table','view') AND name = ?");
  st.bind(1, name);
  return st.step();
}

std::int64_t now_micros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void record_migration(Db& db, std::string_view file) {
  Stmt st(db, "INSERT OR IGNORE INTO `_migrations` (file, applied) VALUES (?, ?)");
  st.bind(1, file).bind(2, now_micros());
  st.step();
}

// PocketBase's own system migrations: recorded so that PocketBase can open a
// directory Plinth created without re-running them.
constexpr const char* kPocketBaseMigrations[] = {
    "1640988000_init.go",
    "1640988000_aux_init.go",
    "1717233556_v0.23_migrate.go",
    "1717233557_v0.23_migrate2.go",
    "1717233558_v0.23_migrate3.go",
    "1717233559_v0.23_migrate4.go",
    "1763020353_update_default_auth_alert_templates.go",
    "1778828400_normalize_indexes.go",
};

constexpr const char* kDefaultSettings =
    R"({"superuserIPs":[],"smtp":{"enabled":false,"port":587,"host":"smtp.example.com","username":"","password":"","authMethod":"","tls":false,"localName":""},"backups":{"cron":"","cronMaxKeep":3,"s3":{"enabled":false,"bucket":"","region":"","endpoint":"","accessKey":"","forcePathStyle":false}},"s3":{"enabled":false,"bucket":"","region":"","endpoint":"","accessKey":"","forcePathStyle":false},"meta":{"accentColor":"#1055c9","appName":"Acme","appURL":"http://localhost:8090","senderName":"Support","senderAddress":"support@example.com","hideControls":false},"rateLimits":{"rules":[{"label":"*:auth","audience":"","duration":3,"maxRequests":2},{"label":"*:create","audience":"","duration":5,"maxRequests":20},{"label":"/api/batch","audience":"","duration":1,"maxRequests":3},{"label":"/api/","audience":"","duration":10,"maxRequests":300}],"excludedIPs":[],"enabled":false},"trustedProxy":{"headers":[],"useLeftmostIP":false},"batch":{"enabled":false,"maxRequests":50,"timeout":3,"maxBodySize":0},"logs":{"maxDays":5,"minLevel":0,"logIP":true,"logAuthId":false}})";

std::string strip_quotes(std::string_view s) {
  if (s.size() >= 2 &&
      (s.front() == '`' || s.front() == '"' || s.front() == '[' || s.front() == '\'')) {
    char close = s.front() == '[' ? ']' : s.front();
    if (s.back() == close) return std::string(s.substr(1, s.size() - 2));
  }
  return std::string(s);
}

std::string trim(std::string s) {
  auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return {};
  auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

}  // namespace

std::optional<IndexDef> parse_index(std::string_view sql) {
  static const std::regex kRe(
      R"(^\s*create\s+(unique\s+)?\s*index\s*(if\s+not\s+exists\s+)?(\S+)\s+on\s+(\S+)\s*\(([\s\S]*?)\)\s*(?:where\s+([\s\S]*))?$)",
      std::regex::icase);
  std::smatch m;
  std::string s(sql);
  if (!std::regex_match(s, m, kRe)) return std::nullopt;
  IndexDef def;
  def.unique = m[1].matched;
  def.name = strip_quotes(m[3].str());
  if (!core::is_identifier(def.name)) return std::nullopt;
  std::string cols = m[5].str();
  std::size_t start = 0;
  while (start <= cols.size()) {
    auto comma = cols.find(',', start);
    std::string part =
        trim(cols.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (part.empty()) return std::nullopt;
    // "col", "`col` COLLATE NOCASE", "col DESC"
    std::string name = part, suffix;
    auto sp = part.find_first_of(" \t\r\n");
    if (sp != std::string::npos) {
      name = part.substr(0, sp);
      suffix = trim(part.substr(sp));
    }
    name = strip_quotes(name);
    if (!core::is_identifier(name)) return std::nullopt;
    std::string upper;
    for (char ch : suffix)
      upper.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(ch))));
    static const std::regex kSuffix(R"(^(COLLATE\s+(NOCASE|BINARY|RTRIM))?\s*(ASC|DESC)?$)");
    if (!std::regex_match(upper, kSuffix)) return std::nullopt;
    std::string col = core::quote_identifier(name);
    if (!upper.empty()) col += " " + upper;
    def.columns.push_back(col);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  if (m[6].matched) {
    // Only the partial-index shapes PocketBase itself writes are accepted
    // (`col != ''`, `col != '[]'`): never arbitrary SQL from a definition.
    static const std::regex kWhere(R"(^[`"]?(\w+)[`"]?\s*!=\s*'(\[\])?'$)");
    std::smatch w;
    std::string where = trim(m[6].str());
    if (!std::regex_match(where, w, kWhere) || !core::is_identifier(w[1].str()))
      return std::nullopt;
    def.where = core::quote_identifier(w[1].str()) + " != '" + (w[2].matched ? "[]" : "") + "'";
  }
  return def;
}

std::string build_index_sql(const IndexDef& idx, std::string_view table) {
  std::string sql = idx.unique ? "CREATE UNIQUE INDEX " : "CREATE INDEX ";
  sql += core::quote_identifier(idx.name) + " ON " + core::quote_identifier(table) + " (";
  for (std::size_t i = 0; i < idx.columns.size(); ++i) {
    if (i) sql += ", ";
    sql += idx.columns[i];
  }
  sql += ")";
  if (!idx.where.empty()) sql += " WHERE " + idx.where;
  return sql;
}

void create_collection_table(Db& db, const core::Collection& c) {
  std::vector<const core::Field*> fields;
  for (const auto& f : c.fields) fields.push_back(&f);
  std::sort(fields.begin(), fields.end(), [](auto* a, auto* b) { return a->name < b->name; });
  std::string sql = "CREATE TABLE " + core::quote_identifier(c.name) + " (";
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (i) sql += ", ";
    sql += core::quote_identifier(fields[i]->name) + " " + fields[i]->column_type();
  }
  sql += ")";
  db.exec(sql);
  for (const auto& raw : c.indexes) {
    auto idx = parse_index(raw);
    if (!idx) throw StoreError(StoreError::Kind::bad_request, "invalid index: " + raw);
    db.exec(build_index_sql(*idx, c.name));
  }
}

void insert_collection_row(Db& db, const core::Collection& c) {
  Stmt st(db,
          "INSERT INTO `_collections` (`id`, `system`, `type`, `name`, `fields`, `indexes`, "
          "`listRule`, "
          "`viewRule`, `createRule`, `updateRule`, `deleteRule`, `options`, `created`, `updated`) "
          "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  st.bind(1, c.id)
      .bind(2, static_cast<std::int64_t>(c.system ? 1 : 0))
      .bind(3, c.type)
      .bind(4, c.name);
  st.bind(5, c.fields_db_json()).bind(6, c.indexes_db_json());
  const std::optional<std::string>* rules[] = {&c.list_rule, &c.view_rule, &c.create_rule,
                                               &c.update_rule, &c.delete_rule};
  for (int i = 0; i < 5; ++i) {
    if (*rules[i])
      st.bind(7 + i, **rules[i]);
    else
      st.bind_null(7 + i);
  }
  st.bind(12, c.options_db_json()).bind(13, c.created).bind(14, c.updated);
  st.step();
}

namespace {

// SQL converting a column's stored value from one field kind to another.
std::string convert_expr(const core::Field& from, const core::Field& to, const std::string& col) {
  using core::FieldType;
  bool from_multi = from.is_multi(), to_multi = to.is_multi();
  if (to_multi && !from_multi) {
    return "CASE WHEN COALESCE(" + col + ", '') = '' THEN '[]' ELSE (CASE WHEN json_valid(" + col +
           ") AND json_type(" + col + ") = 'array' THEN " + col + " ELSE json_array(" + col +
           ") END) END";
  }
  if (from_multi && !to_multi) {
    return "CASE WHEN COALESCE(" + col + ", '[]') = '[]' THEN '' ELSE (CASE WHEN json_valid(" +
           col + ") AND json_type(" + col + ") = 'array' THEN COALESCE(json_extract(" + col +
           ", '$[#-1]'), '') ELSE " + col + " END) END";
  }
  if (to_multi) return "CASE WHEN json_valid(" + col + ") THEN " + col + " ELSE '[]' END";
  switch (to.type) {
    case FieldType::number: return "COALESCE(CAST(" + col + " AS REAL), 0)";
    case FieldType::boolean:
      return "CASE WHEN " + col + " IN (1, '1', 'true', 't', 'TRUE', 'True') THEN 1 ELSE 0 END";
    case FieldType::json:
      return "CASE WHEN " + col + " IS NULL THEN NULL WHEN json_valid(" + col + ") THEN " + col +
             " ELSE json_quote(" + col + ") END";
    case FieldType::geo_point:
      return "CASE WHEN json_valid(" + col + ") AND json_type(" + col + ") = 'object' THEN " + col +
             " ELSE '{\"lon\":0,\"lat\":0}' END";
    default:
      if (from.type == FieldType::boolean)
        return "CASE WHEN " + col + " THEN 'true' ELSE 'false' END";
      return "COALESCE(CAST(" + col + " AS TEXT), '')";
  }
}

const core::Field* field_by_id(const core::Collection& c, const std::string& id) {
  for (const auto& f : c.fields) {
    if (f.id == id) return &f;
  }
  return nullptr;
}

}  // namespace

void alter_collection(Db& db, const core::Collection& before, const core::Collection& after) {
  if (before.is_view() || after.is_view()) {
    throw StoreError(StoreError::Kind::bad_request, "View collections cannot be altered yet.");
  }
  std::string table = core::quote_identifier(after.name);
  if (before.name != after.name) {
    db.exec("ALTER TABLE " + core::quote_identifier(before.name) + " RENAME TO " + table);
  }
  // Indexes are dropped first (a column in an index cannot be dropped) and rebuilt last.
  {
    Stmt st(
        db,
        "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL");
    st.bind(1, after.name);
    std::vector<std::string> names;
    while (st.step()) names.push_back(st.text(0));
    for (const auto& n : names) {
      std::string quoted = "\"";
      for (char ch : n) quoted += ch == '"' ? std::string("\"\"") : std::string(1, ch);
      quoted += "\"";
      db.exec("DROP INDEX IF EXISTS " + quoted);
    }
  }
  // Removed fields.
  for (const auto& f : before.fields) {
    if (field_by_id(after, f.id)) continue;
    if (f.primary_key)
      throw StoreError(StoreError::Kind::bad_request, "The id field cannot be removed.");
    db.exec("ALTER TABLE " + table + " DROP COLUMN " + core::quote_identifier(f.name));
  }
  // Renamed and retyped fields.
  int tmp = 0;
  for (const auto& f : after.fields) {
    const core::Field* old = field_by_id(before, f.id);
    if (!old) continue;
    std::string current = old->name;
    if (old->name != f.name) {
      db.exec("ALTER TABLE " + table + " RENAME COLUMN " + core::quote_identifier(old->name) +
              " TO " + core::quote_identifier(f.name));
      current = f.name;
    }
    bool retype = old->type != f.type || old->is_multi() != f.is_multi();
    if (!retype) continue;
    if (f.primary_key || old->primary_key) {
      throw StoreError(StoreError::Kind::bad_request, "The id field cannot change type.");
    }
    std::string temp = "_plinth_old_" + std::to_string(tmp++) + "_" + f.name;
    db.exec("ALTER TABLE " + table + " RENAME COLUMN " + core::quote_identifier(current) + " TO " +
            core::quote_identifier(temp));
    db.exec("ALTER TABLE " + table + " ADD COLUMN " + core::quote_identifier(f.name) + " " +
            f.column_type());
    db.exec("UPDATE " + table + " SET " + core::quote_identifier(f.name) + " = " +
            convert_expr(*old, f, core::quote_identifier(temp)));
    db.exec("ALTER TABLE " + table + " DROP COLUMN " + core::quote_identifier(temp));
  }
  // Added fields.
  for (const auto& f : after.fields) {
    if (field_by_id(before, f.id)) continue;
    if (f.primary_key)
      throw StoreError(StoreError::Kind::bad_request, "The id field cannot be added later.");
    db.exec("ALTER TABLE " + table + " ADD COLUMN " + core::quote_identifier(f.name) + " " +
            f.column_type());
  }
  for (const auto& raw : after.indexes) {
    auto idx = parse_index(raw);
    if (!idx) throw StoreError(StoreError::Kind::bad_request, "invalid index: " + raw);
    db.exec(build_index_sql(*idx, after.name));
  }
  Stmt st(db,
          "UPDATE `_collections` SET `name` = ?, `fields` = ?, `indexes` = ?, `listRule` = ?, "
          "`viewRule` = ?, "
          "`createRule` = ?, `updateRule` = ?, `deleteRule` = ?, `options` = ?, `updated` = ? "
          "WHERE `id` = ?");
  st.bind(1, after.name).bind(2, after.fields_db_json()).bind(3, after.indexes_db_json());
  const std::optional<std::string>* rules[] = {&after.list_rule, &after.view_rule,
                                               &after.create_rule, &after.update_rule,
                                               &after.delete_rule};
  for (int i = 0; i < 5; ++i) {
    if (*rules[i])
      st.bind(4 + i, **rules[i]);
    else
      st.bind_null(4 + i);
  }
  st.bind(9, after.options_db_json()).bind(10, after.updated).bind(11, after.id);
  st.step();
}

const char* default_settings_json() {
  return kDefaultSettings;
}

void migrate_data_db(Db& db) {
  db.exec("BEGIN IMMEDIATE");
  try {
    db.exec(
        "CREATE TABLE IF NOT EXISTS `_migrations` (file VARCHAR(255) PRIMARY KEY NOT NULL, applied "
        "INTEGER NOT NULL)");
    if (!table_exists(db, "_collections")) {
      db.exec(R"(CREATE TABLE `_collections` (
  `id` TEXT PRIMARY KEY DEFAULT ('r'||lower(hex(randomblob(7)))) NOT NULL,
  `system` BOOLEAN DEFAULT FALSE NOT NULL,
  `type` TEXT DEFAULT "base" NOT NULL,
  `name` TEXT UNIQUE NOT NULL,
  `fields` JSON DEFAULT "[]" NOT NULL,
  `indexes` JSON DEFAULT "[]" NOT NULL,
  `listRule` TEXT DEFAULT NULL,
  `viewRule` TEXT DEFAULT NULL,
  `createRule` TEXT DEFAULT NULL,
  `updateRule` TEXT DEFAULT NULL,
  `deleteRule` TEXT DEFAULT NULL,
  `options` JSON DEFAULT "{}" NOT NULL,
  `created` TEXT DEFAULT (strftime('%Y-%m-%d %H:%M:%fZ')) NOT NULL,
  `updated` TEXT DEFAULT (strftime('%Y-%m-%d %H:%M:%fZ')) NOT NULL))");
      db.exec("CREATE INDEX IF NOT EXISTS idx__collections_type on `_collections` (`type`)");
      db.exec(R"(CREATE TABLE `_params` (
  `id` TEXT PRIMARY KEY DEFAULT ('r'||lower(hex(randomblob(7)))) NOT NULL,
  `value` JSON DEFAULT NULL,
  `created` TEXT DEFAULT (strftime('%Y-%m-%d %H:%M:%fZ')) NOT NULL,
  `updated` TEXT DEFAULT (strftime('%Y-%m-%d %H:%M:%fZ')) NOT NULL))");
      auto now = core::now_datetime();
      for (const auto& c : core::system_collections(now)) {
        create_collection_table(db, c);
        insert_collection_row(db, c);
      }
      Stmt st(db,
              "INSERT INTO `_params` (`id`, `value`, `created`, `updated`) VALUES ('settings', ?, "
              "?, ?)");
      st.bind(1, kDefaultSettings).bind(2, now).bind(3, now);
      st.step();
      for (const char* m : kPocketBaseMigrations) record_migration(db, m);
    }
    record_migration(db, "plinth_0001_init");
    if (!table_exists(db, mail_outbox_table().name)) {
      create_collection_table(db, mail_outbox_table());
      record_migration(db, "plinth_0002_mail_outbox");
    }
    db.exec("COMMIT");
  } catch (...) {
    db.exec("ROLLBACK");
    throw;
  }
}

void migrate_aux_db(Db& db) {
  db.exec(R"(CREATE TABLE IF NOT EXISTS `_logs` (
  `id` TEXT PRIMARY KEY DEFAULT ('r'||lower(hex(randomblob(7)))) NOT NULL,
  `level` INTEGER DEFAULT 0 NOT NULL,
  `message` TEXT DEFAULT "" NOT NULL,
  `data` JSON DEFAULT "{}" NOT NULL,
  `created` TEXT DEFAULT (strftime('%Y-%m-%d %H:%M:%fZ')) NOT NULL))");
  db.exec("CREATE INDEX IF NOT EXISTS idx_logs_level on `_logs` (`level`)");
  db.exec("CREATE INDEX IF NOT EXISTS idx_logs_message on `_logs` (`message`)");
  db.exec(
      "CREATE INDEX IF NOT EXISTS idx_logs_created_hour on `_logs` (strftime('%Y-%m-%d %H:00:00', "
      "`created`))");
}

std::shared_ptr<const core::Catalog> load_catalog(const Db& db) {
  Stmt st(db,
          "SELECT `id`, `system`, `type`, `name`, `fields`, `indexes`, `listRule`, `viewRule`, "
          "`createRule`, "
          "`updateRule`, `deleteRule`, `options`, `created`, `updated` FROM `_collections` ORDER "
          "BY rowid");
  std::vector<std::shared_ptr<const core::Collection>> out;
  while (st.step()) {
    out.push_back(std::make_shared<core::Collection>(core::collection_from_row(
        st.text(0), st.integer(1) != 0, st.text(2), st.text(3), st.text(4), st.text(5),
        st.text_or_null(6), st.text_or_null(7), st.text_or_null(8), st.text_or_null(9),
        st.text_or_null(10), st.text(11), st.text(12), st.text(13))));
  }
  return std::make_shared<core::Catalog>(std::move(out));
}

}  // namespace plinth::store::detail

namespace plinth::store {
bool is_valid_index(std::string_view sql) {
  return detail::parse_index(sql).has_value();
}
}  // namespace plinth::store
