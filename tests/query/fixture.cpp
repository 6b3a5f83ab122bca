#include "fixture.hpp"

#include <algorithm>
#include <stdexcept>

#include "plinth/core/json.hpp"

namespace plinth::query::test {

namespace {

// Field JSON helpers (PocketBase's shape).
std::string f(std::string_view type, std::string_view name, std::string_view extra = "") {
  std::string s = R"({"name":")" + std::string(name) + R"(","type":")" + std::string(type) + "\"";
  if (!extra.empty()) s += "," + std::string(extra);
  return s + "}";
}
const std::string kId = f("text", "id", R"("primaryKey":true,"required":true,"system":true)");

std::string fields(std::initializer_list<std::string> list) {
  std::string s = "[" + kId;
  for (const auto& x : list) s += "," + x;
  return s + "]";
}

struct Def {
  std::string id, type, name, fields, indexes;
  std::optional<std::string> list_rule;
};

std::vector<Def> definitions() {
  return {
      {"_pb_users_auth_", "auth", "users",
       fields({f("password", "password", R"("hidden":true,"system":true)"),
               f("text", "tokenKey", R"("hidden":true,"system":true)"),
               f("email", "email", R"("system":true)"), f("bool", "emailVisibility"),
               f("bool", "verified"), f("text", "name"),
               f("select", "role", R"("maxSelect":1,"values":["admin","member"])"),
               f("text", "secret_note", R"("hidden":true)")}),
       "[]", "id = @request.auth.id"},
      {"pbc_posts", "base", "posts",
       fields({f("text", "title"), f("number", "views"), f("bool", "published"),
               f("date", "published_at"),
               f("select", "status", R"("maxSelect":1,"values":["draft","published","archived"])"),
               f("select", "tags", R"("maxSelect":3,"values":["a","b","c"])"), f("json", "meta"),
               f("relation", "author", R"("collectionId":"_pb_users_auth_","maxSelect":1)"),
               f("relation", "editors", R"("collectionId":"_pb_users_auth_","maxSelect":5)"),
               f("file", "cover", R"("maxSelect":1)"), f("text", "secret", R"("hidden":true)"),
               f("geoPoint", "location"),
               f("relation", "parent", R"("collectionId":"pbc_posts","maxSelect":1)")}),
       "[]", ""},
      {"pbc_comments", "base", "comments",
       fields({f("relation", "post", R"("collectionId":"pbc_posts","maxSelect":1)"),
               f("text", "text"),
               f("relation", "author", R"("collectionId":"_pb_users_auth_","maxSelect":1)"),
               f("number", "score")}),
       "[]", "score > 1"},
      {"pbc_bundles", "base", "bundles",
       fields({f("text", "name"),
               f("relation", "posts", R"("collectionId":"pbc_posts","maxSelect":10)")}),
       "[]", std::nullopt},
      {"pbc_stats", "base", "post_stats",
       fields({f("relation", "post", R"("collectionId":"pbc_posts","maxSelect":1)"),
               f("number", "likes")}),
       R"j(["CREATE UNIQUE INDEX `idx_stats_post` ON `post_stats` (`post`)"])j", ""},
  };
}

const char* kSeed = R"SQL(
INSERT INTO users (id, password, tokenKey, email, emailVisibility, verified, name, role, secret_note) VALUES
 ('u1', 'hash1', 'tk1', 'alice@example.com', 1, 1, 'Alice', 'admin', 'a-secret'),
 ('u2', 'hash2', 'tk2', 'bob@example.com', 0, 0, 'Bob', 'member', ''),
 ('u3', 'hash3', 'tk3', 'carol@example.com', 1, 0, '', 'member', '');
INSERT INTO posts (id, title, views, published, published_at, status, tags, meta, author, editors, cover, secret, location, parent) VALUES
 ('p1', 'Hello World', 10, 1, '2024-01-15 10:00:00.000Z', 'published', '["a","b"]',
  '{"a":1,"b":{"c":"x"},"list":[1,2]}', 'u1', '["u2","u3"]', 'c1.png', 's1', '{"lon":23.3,"lat":42.7}', ''),
 ('p2', 'hello again', 0, 0, '', 'draft', '[]', NULL, 'u2', '[]', '', 's2', '{"lon":0,"lat":0}', 'p1'),
 ('p3', '50% off_sale', 100, 1, '2030-06-01 00:00:00.000Z', 'archived', '["c"]', '{"a":2}', '',
  '["u1"]', '', '', '{"lon":-0.12,"lat":51.5}', 'p1'),
 ('p4', '', -5, 0, '2023-12-31 23:59:59.999Z', '', '["a","b","c"]', '[1,2,3]', 'u1', '["u1","u2"]',
  '', '', '{"lon":0,"lat":0}', 'p2'),
 ('p5', 'O''Brien "quoted"', 7.5, 1, '2024-02-29 12:00:00.000Z', 'published', '["b"]', '{"a":"1"}',
  'u3', '["u3"]', '', '', '{"lon":0,"lat":0}', ''),
 ('p6', 'unicode ünïcødé 日本', 10, 0, '2024-01-15 10:00:00.000Z', 'draft', '["a"]', '{}', 'u2',
  '["u2"]', '', '', '{"lon":0,"lat":0}', '');
INSERT INTO comments (id, post, text, author, score) VALUES
 ('c1', 'p1', 'first!', 'u2', 5), ('c2', 'p1', 'second', 'u3', 3),
 ('c3', 'p2', 'nice', 'u1', 5), ('c4', 'p4', 'meh', 'u1', 1);
INSERT INTO bundles (id, name, posts) VALUES
 ('b1', 'starter', '["p1","p2"]'), ('b2', 'archive', '["p3"]'),
 ('b3', 'all', '["p1","p2","p3","p4","p5","p6"]');
INSERT INTO post_stats (id, post, likes) VALUES ('s1', 'p1', 10), ('s2', 'p2', 0), ('s3', 'p5', 3);
)SQL";

void exec(sqlite3* db, const std::string& sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "?";
    sqlite3_free(err);
    throw std::runtime_error("fixture SQL failed: " + msg + "\n" + sql);
  }
}

void bind(sqlite3_stmt* st, int index, const Param& p) {
  struct Visitor {
    sqlite3_stmt* st;
    int i;
    void operator()(std::monostate) const { sqlite3_bind_null(st, i); }
    void operator()(bool b) const { sqlite3_bind_int(st, i, b ? 1 : 0); }
    void operator()(std::int64_t v) const { sqlite3_bind_int64(st, i, v); }
    void operator()(double d) const { sqlite3_bind_double(st, i, d); }
    void operator()(const std::string& s) const {
      sqlite3_bind_text(st, i, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
    }
  };
  std::visit(Visitor{st, index}, p.value);
}

std::string query_rows(sqlite3* db, const std::string& sql) {
  sqlite3_stmt* st = nullptr;
  std::string out;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) return "!prepare";
  while (sqlite3_step(st) == SQLITE_ROW) {
    for (int c = 0; c < sqlite3_column_count(st); ++c) {
      auto* t = sqlite3_column_text(st, c);
      out += t ? reinterpret_cast<const char*>(t) : "<null>";
      out += '|';
    }
    out += '\n';
  }
  sqlite3_finalize(st);
  return out;
}

}  // namespace

Fixture::Fixture() {
  if (sqlite3_open(":memory:", &db_) != SQLITE_OK) throw std::runtime_error("sqlite3_open");
  std::vector<std::shared_ptr<const core::Collection>> all;
  for (const auto& d : definitions()) {
    auto c = core::collection_from_row(d.id, false, d.type, d.name, d.fields, d.indexes,
                                       d.list_rule, d.list_rule, std::nullopt, std::nullopt,
                                       std::nullopt, "{}", "", "");
    std::string ddl = "CREATE TABLE " + core::quote_identifier(c.name) + " (";
    for (std::size_t i = 0; i < c.fields.size(); ++i) {
      if (i) ddl += ", ";
      ddl += core::quote_identifier(c.fields[i].name) + " " + c.fields[i].column_type();
    }
    exec(db_, ddl + ")");
    for (const auto& idx : c.indexes) exec(db_, idx);
    all.push_back(std::make_shared<const core::Collection>(std::move(c)));
  }
  exec(db_, kSeed);
  catalog_ = std::make_unique<core::Catalog>(std::move(all));
}

Fixture::~Fixture() {
  sqlite3_close(db_);
}

const core::Collection& Fixture::collection(std::string_view name) const {
  auto c = catalog_->find(name);
  if (!c) throw std::runtime_error("no collection " + std::string(name));
  return *c;
}

std::string Fixture::execute(std::string_view collection, const Compiled& c) const {
  auto table = core::quote_identifier(collection);
  std::string sql = std::string("SELECT ") + (c.needs_distinct ? "DISTINCT " : "") + table +
                    ".`id` FROM " + table;
  for (const auto& j : c.joins) sql += " " + j;
  if (!c.where.empty()) sql += " WHERE " + c.where;
  sql +=
      " ORDER BY " + (c.order_by.empty() ? table + ".`id`" : c.order_by + ", " + table + ".`id`");
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db_, sql.c_str(), static_cast<int>(sql.size()), &st, nullptr) !=
      SQLITE_OK) {
    return "!error: SQL: " + std::string(sqlite3_errmsg(db_)) + "\n" + sql;
  }
  auto params = c.all_params();
  if (static_cast<int>(params.size()) != sqlite3_bind_parameter_count(st)) {
    sqlite3_finalize(st);
    return "!error: parameter count mismatch\n" + sql;
  }
  for (std::size_t i = 0; i < params.size(); ++i) bind(st, static_cast<int>(i + 1), params[i]);
  std::string out;
  int rc = 0;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    if (!out.empty()) out += ',';
    out += reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
  }
  if (rc != SQLITE_DONE) out = "!error: SQL step: " + std::string(sqlite3_errmsg(db_)) + "\n" + sql;
  sqlite3_finalize(st);
  return out;
}

std::string Fixture::run(std::string_view collection, std::string_view filter,
                         const RequestInfo& request, const CompileOptions& options,
                         std::string_view sort) const {
  Compiler compiler(*catalog_, this->collection(collection), request, options);
  if (!filter.empty()) {
    if (auto e = compiler.add_filter(filter)) return "!error: " + e->message;
  }
  if (!sort.empty()) {
    if (auto e = compiler.add_sort(sort)) return "!error: " + e->message;
  }
  auto r = compiler.finish();
  if (auto* e = std::get_if<Error>(&r)) return "!error: " + e->message;
  return execute(collection, std::get<Compiled>(r));
}

std::string Fixture::schema_snapshot() const {
  return query_rows(db_, "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY name");
}

std::string Fixture::data_snapshot() const {
  std::string out;
  for (auto t : {"users", "posts", "comments", "bundles", "post_stats"}) {
    out += query_rows(db_, std::string("SELECT * FROM `") + t + "` ORDER BY id");
  }
  return out;
}

RequestInfo Fixture::guest() const {
  return RequestInfo{};
}

RequestInfo Fixture::as_user(std::string_view id) const {
  auto row = query_rows(db_,
                        "SELECT id, email, emailVisibility, verified, name, role FROM users "
                        "WHERE id = '" +
                            std::string(id) + "'");
  auto record = std::make_unique<boost::json::object>();
  std::vector<std::string> cols;
  std::string cur;
  for (char ch : row) {
    if (ch == '|') {
      cols.push_back(cur);
      cur.clear();
    } else if (ch != '\n') {
      cur += ch;
    }
  }
  if (cols.size() == 6) {
    (*record)["id"] = cols[0];
    (*record)["email"] = cols[1];
    (*record)["emailVisibility"] = cols[2] == "1";
    (*record)["verified"] = cols[3] == "1";
    (*record)["name"] = cols[4];
    (*record)["role"] = cols[5];
  }
  RequestInfo r;
  r.auth_collection = &collection("users");
  r.auth_record = record.get();
  records_.push_back(std::move(record));
  r.method = "POST";
  r.query = {{"page", "2"}, {"empty", ""}};
  r.headers = {{"x_token", "ABC"}, {"user_agent", "test"}};
  auto body = core::parse_json(R"({"title":"Hello World","views":"10","tags":["a","b"],
    "editors":["u2","u3"],"author":"u1","meta":{"x":[1,{"y":"z"}]},"published":true,
    "empty":"","nothing":null,"count":3})");
  r.body = body->as_object();
  return r;
}

const Fixture& shared_fixture() {
  static const Fixture fixture;
  return fixture;
}

CompileOptions superuser_options() {
  CompileOptions o;
  o.allow_hidden = true;
  o.now_ms = kNowMs;
  return o;
}

CompileOptions client_options() {
  CompileOptions o;
  o.allow_hidden = false;
  o.now_ms = kNowMs;
  return o;
}

std::string case_name(const FilterCase& c) {
  return c.name;
}

}  // namespace plinth::query::test
