#pragma once
// Internal: SQL spelling per dialect, parameter markers, joins and PocketBase's
// multi-match subqueries.
//
// While compiling, SQL fragments refer to values by marker ("\x01<index>\x02",
// an index into Params). Markers survive string assembly and copying of
// operands (an operand may appear twice, e.g. in a multi-match subquery); they
// become `?` or `$N` in one final pass, in text order. User text never enters
// the SQL string, so a marker cannot be forged.

#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "plinth/query/filter.hpp"

namespace plinth::query::detail {

template <class T>
using Result = std::variant<T, Error>;

template <class T>
const Error* error_of(const Result<T>& r) {
  return std::get_if<Error>(&r);
}

class Params {
 public:
  std::string add(Param p);
  const Param& at(std::size_t i) const { return values_[i]; }
  std::size_t size() const { return values_.size(); }
  // The single marker in `marker` (as returned by add()).
  static std::size_t index_of(std::string_view marker);

 private:
  std::vector<Param> values_;
};

std::string marker(std::size_t index);

// Replaces markers with placeholders, appending the values to `out` in order.
std::string render(std::string_view sql, const Params& params, Dialect dialect,
                   std::size_t& next_number, std::vector<Param>& out);

// Cast-to-string as Go's cast.ToString does for the values a filter can hold.
std::string param_text(const Param& p);

struct JoinDef {
  std::string source;  // quoted table name, or a table-valued expression (with markers)
  std::string alias;   // unquoted, \w only
  std::string on;      // empty: no condition
  bool table_valued = false;
};

struct MultiMatch {
  std::string from_table;    // the base collection's table
  std::string from_alias;    // "__mm_<base alias>"
  std::string target_alias;  // the base alias in the outer query
  std::vector<JoinDef> joins;
  std::string value;  // the value column expression
};

class Sql {
 public:
  explicit Sql(Dialect d) : dialect_(d) {}
  Dialect dialect() const { return dialect_; }

  std::string quote(std::string_view identifier) const;
  std::string column(std::string_view alias, std::string_view column) const;
  std::string_view is(bool equal) const;       // IS | IS NOT (postgres: [NOT] DISTINCT FROM)
  std::string_view like(bool positive) const;  // [NOT] LIKE (postgres: ILIKE)
  std::string_view true_literal() const;       // what `true` in a filter becomes
  std::string_view false_literal() const;

  // A table-valued expression yielding one `value` row per array element.
  std::string each_source(const std::string& column, bool multi) const;
  std::string each_param_source(const std::string& json_marker) const;
  // `<source> <alias>` as used in FROM (postgres names the column).
  std::string each_from(const std::string& source, std::string_view alias) const;
  std::string array_length(const std::string& column, bool multi) const;
  // keys: object keys or array indexes (all digits); empty = the whole value.
  std::string json_extract(const std::string& column, const std::vector<std::string>& keys,
                           Params& params) const;

  std::string join_clause(const JoinDef& j) const;
  std::string subquery(const MultiMatch& m) const;

 private:
  Dialect dialect_;
};

bool is_array_index(std::string_view key);

}  // namespace plinth::query::detail
