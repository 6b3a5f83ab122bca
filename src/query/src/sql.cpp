#include "sql.hpp"

#include <cassert>
#include <charconv>
#include <cstdint>
#include <cstdio>

namespace plinth::query::detail {

namespace {
constexpr char kMarkerOpen = '\x01';
constexpr char kMarkerClose = '\x02';
constexpr std::size_t kPostgresIdentifierMax = 63;

std::string fnv_hex(std::string_view s) {
  std::uint64_t h = 1469598103934665603ULL;
  for (char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ULL;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}
}  // namespace

std::string marker(std::size_t index) {
  std::string m(1, kMarkerOpen);
  m += std::to_string(index);
  m += kMarkerClose;
  return m;
}

std::string Params::add(Param p) {
  values_.push_back(std::move(p));
  return marker(values_.size() - 1);
}

std::size_t Params::index_of(std::string_view m) {
  assert(m.size() >= 3 && m.front() == kMarkerOpen && m.back() == kMarkerClose);
  std::size_t v = 0;
  std::from_chars(m.data() + 1, m.data() + m.size() - 1, v);
  return v;
}

std::string render(std::string_view sql, const Params& params, Dialect dialect,
                   std::size_t& next_number, std::vector<Param>& out) {
  std::string result;
  result.reserve(sql.size());
  std::size_t i = 0;
  while (i < sql.size()) {
    if (sql[i] != kMarkerOpen) {
      result += sql[i++];
      continue;
    }
    auto close = sql.find(kMarkerClose, i);
    assert(close != std::string_view::npos);
    std::size_t index = 0;
    std::from_chars(sql.data() + i + 1, sql.data() + close, index);
    out.push_back(params.at(index));
    if (dialect == Dialect::postgres) {
      result += '$';
      result += std::to_string(next_number);
    } else {
      result += '?';
    }
    ++next_number;
    i = close + 1;
  }
  return result;
}

std::string param_text(const Param& p) {
  struct Visitor {
    std::string operator()(std::monostate) const { return ""; }
    std::string operator()(bool b) const { return b ? "true" : "false"; }
    std::string operator()(std::int64_t v) const { return std::to_string(v); }
    std::string operator()(double d) const {
      // Go's strconv.FormatFloat(d, 'f', -1, 64): shortest, never an exponent.
      char buf[400];
      auto r = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::fixed);
      return std::string(buf, r.ptr);
    }
    std::string operator()(const std::string& s) const { return s; }
  };
  return std::visit(Visitor{}, p.value);
}

bool is_array_index(std::string_view key) {
  if (key.empty() || key.size() > 18) return false;
  for (char c : key) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

std::string Sql::quote(std::string_view identifier) const {
  // Identifiers are \w-only (schema names are validated by core, aliases are
  // built from them); doubling the quote character is defence in depth.
  const char q = dialect_ == Dialect::postgres ? '"' : '`';
  std::string id(identifier);
  // Postgres truncates longer names silently, which could merge two aliases.
  if (dialect_ == Dialect::postgres && id.size() > kPostgresIdentifierMax) {
    id = id.substr(0, 46) + "_" + fnv_hex(id);
  }
  std::string out(1, q);
  for (char c : id) {
    if (c == q) out += q;
    out += c;
  }
  out += q;
  return out;
}

std::string Sql::column(std::string_view alias, std::string_view col) const {
  return quote(alias) + "." + quote(col);
}

std::string_view Sql::is(bool equal) const {
  if (dialect_ == Dialect::postgres) return equal ? "IS NOT DISTINCT FROM" : "IS DISTINCT FROM";
  return equal ? "IS" : "IS NOT";
}

std::string_view Sql::like(bool positive) const {
  if (dialect_ == Dialect::postgres) return positive ? "ILIKE" : "NOT ILIKE";
  return positive ? "LIKE" : "NOT LIKE";
}

std::string_view Sql::true_literal() const {
  return dialect_ == Dialect::postgres ? "TRUE" : "1";
}
std::string_view Sql::false_literal() const {
  return dialect_ == Dialect::postgres ? "FALSE" : "0";
}

std::string Sql::each_source(const std::string& c, bool multi) const {
  if (dialect_ == Dialect::postgres) {
    if (!multi) return "jsonb_array_elements_text(jsonb_build_array(" + c + "))";
    return "jsonb_array_elements_text(CASE WHEN jsonb_typeof(" + c + ") = 'array' THEN " + c +
           " ELSE jsonb_build_array(" + c + ") END)";
  }
  // PocketBase's dbutils.JSONEach: also right for values stored before a maxSelect change.
  return "json_each(CASE WHEN iif(json_valid(" + c + "), json_type(" + c +
         ")='array', FALSE) THEN " + c + " ELSE json_array(" + c + ") END)";
}

std::string Sql::each_param_source(const std::string& json_marker) const {
  if (dialect_ == Dialect::postgres) {
    return "jsonb_array_elements_text(CAST(" + json_marker + " AS jsonb))";
  }
  return "json_each(" + json_marker + ")";
}

std::string Sql::each_from(const std::string& source, std::string_view alias) const {
  if (dialect_ == Dialect::postgres) return source + " AS " + quote(alias) + "(\"value\")";
  return source + " " + quote(alias);
}

std::string Sql::array_length(const std::string& c, bool multi) const {
  if (dialect_ == Dialect::postgres) {
    if (!multi) return "(CASE WHEN " + c + " = '' OR " + c + " IS NULL THEN 0 ELSE 1 END)";
    return "jsonb_array_length(CASE WHEN jsonb_typeof(" + c + ") = 'array' THEN " + c +
           " ELSE jsonb_build_array(" + c + ") END)";
  }
  return "json_array_length(CASE WHEN iif(json_valid(" + c + "), json_type(" + c +
         ")='array', FALSE) THEN " + c + " ELSE (CASE WHEN " + c + " = '' OR " + c +
         " IS NULL THEN json_array() ELSE json_array(" + c + ") END) END)";
}

std::string Sql::json_extract(const std::string& c, const std::vector<std::string>& keys,
                              Params& params) const {
  if (dialect_ == Dialect::postgres) {
    if (keys.empty()) return "(" + c + " #>> '{}')";
    std::string out = "jsonb_extract_path_text(" + c;
    for (const auto& k : keys) out += ", " + params.add(Param{k});
    return out + ")";
  }
  std::string path;
  for (const auto& k : keys) path += is_array_index(k) ? "[" + k + "]" : "." + k;
  // PocketBase's dbutils.JSONExtract: non-JSON text is wrapped so it can still be read.
  auto direct = params.add(Param{"$" + path});
  auto wrapped = params.add(Param{"$.pb" + path});
  return "(CASE WHEN json_valid(" + c + ") THEN JSON_EXTRACT(" + c + ", " + direct +
         ") ELSE JSON_EXTRACT(json_object('pb', " + c + "), " + wrapped + ") END)";
}

std::string Sql::join_clause(const JoinDef& j) const {
  if (dialect_ == Dialect::postgres) {
    if (j.table_valued) return "LEFT JOIN LATERAL " + each_from(j.source, j.alias) + " ON TRUE";
    return "LEFT JOIN " + j.source + " " + quote(j.alias) + " ON " + (j.on.empty() ? "TRUE" : j.on);
  }
  std::string out = "LEFT JOIN " + j.source + " " + quote(j.alias);
  if (!j.on.empty()) out += " ON " + j.on;
  return out;
}

std::string Sql::subquery(const MultiMatch& m) const {
  std::string out = "SELECT " + m.value + " AS " + quote("multiMatchValue") + " FROM " +
                    quote(m.from_table) + " " + quote(m.from_alias);
  for (const auto& j : m.joins) out += " " + join_clause(j);
  out += " WHERE " + column(m.from_alias, "id") + " = " + column(m.target_alias, "id");
  return out;
}

}  // namespace plinth::query::detail
