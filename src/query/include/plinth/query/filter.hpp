#pragma once
// Compiles PocketBase filters, API rules and sort lists for one collection into
// SQL fragments with bound parameters: schema-checked identifiers, relation
// paths as LEFT JOINs, PocketBase's multi-value ("match all" unless `?op`) and
// null/empty semantics, @request.* values, @collection joins and date macros.
//
// The SQL text contains only schema identifiers, generated aliases and fixed
// keywords; every value from the filter or the request is a Param.
//
// Use: rules are compiled with hidden fields allowed (PocketBase evaluates API
// rules as written by a superuser); client filters and sorts with
// allow_hidden = the caller is a superuser. When hidden fields are not allowed,
// a relation into a collection whose list rule is null is an error, and the
// list rule of every other joined collection is ANDed in (PocketBase's
// "list rule joins"). Superusers-only filter fields (`@collection.`, `@request.`
// in client filters) are the API's check, as in PocketBase.

#include <boost/json/object.hpp>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "plinth/core/collection.hpp"
#include "plinth/query/syntax.hpp"

namespace plinth::query {

enum class Dialect { sqlite, postgres };

// A bound value.
struct Param {
  std::variant<std::monostate, bool, std::int64_t, double, std::string> value;

  bool is_null() const { return std::holds_alternative<std::monostate>(value); }
  friend bool operator==(const Param&, const Param&) = default;
};

// What @request.* resolves to.
struct RequestInfo {
  const core::Collection* auth_collection = nullptr;  // null = guest
  // The authenticated record's field values, hidden ones included (PocketBase
  // unhides them for rules); must hold at least id, email, emailVisibility, verified.
  const boost::json::object* auth_record = nullptr;
  boost::json::object body;  // @request.body.*
  // @request.query.*, @request.headers.* (header names lowercased, '-' -> '_')
  std::map<std::string, std::string> query, headers;
  std::string method = "GET";
  std::string context = "default";
};

struct CompileOptions {
  Dialect dialect = Dialect::sqlite;
  bool allow_hidden = false;  // superuser: hidden fields filterable, no list-rule joins
  Limits limits;
  // Milliseconds since the epoch for @now and the other date macros; unset = the clock.
  std::optional<std::int64_t> now_ms;
  // First placeholder number for postgres ($N); placeholders are numbered across
  // joins, then WHERE, then ORDER BY.
  std::size_t first_placeholder = 1;
};

// To be combined as
//   SELECT [DISTINCT] `t`.* FROM `t` <joins...> WHERE <where> ORDER BY <order_by>
// binding join_params, then params, then order_params (that is the order the
// placeholders appear in). `t` is the collection's name.
struct Compiled {
  std::string where;               // "" when there is nothing to filter
  std::vector<Param> params;       // for `where`
  std::vector<std::string> joins;  // complete "LEFT JOIN ..." clauses
  std::vector<Param> join_params;  // for all joins, in order
  std::string order_by;            // "" or "expr ASC, expr DESC"
  std::vector<Param> order_params;
  bool needs_distinct = false;  // joins may multiply rows

  // join_params + params + order_params.
  std::vector<Param> all_params() const;
};

// Accumulates filters, rules and sorts for one query over `collection`; they
// share one set of joins, as PocketBase's RecordFieldResolver does.
class Compiler {
 public:
  Compiler(const core::Catalog& catalog, const core::Collection& collection,
           const RequestInfo& request, const CompileOptions& options);
  ~Compiler();
  Compiler(const Compiler&) = delete;
  Compiler& operator=(const Compiler&) = delete;

  // A client filter (hidden fields only when options.allow_hidden); ANDed.
  std::optional<Error> add_filter(std::string_view expr);
  // An API rule: hidden fields allowed, no list-rule joins; ANDed. A null rule is
  // the API's business (superusers only) and an empty one needs no call.
  std::optional<Error> add_rule(std::string_view rule);
  // PocketBase's sort list: "-created,title,@random,@rowid".
  std::optional<Error> add_sort(std::string_view sort);
  // Applies the list-rule joins; the Compiler is spent afterwards.
  std::variant<Compiled, Error> finish();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// One client filter.
std::variant<Compiled, Error> compile(std::string_view expr, const core::Catalog& catalog,
                                      const core::Collection& collection,
                                      const RequestInfo& request, const CompileOptions& options);

// One sort list; the result has joins and order_by, no where.
std::variant<Compiled, Error> compile_sort(std::string_view sort, const core::Catalog& catalog,
                                           const core::Collection& collection,
                                           const RequestInfo& request,
                                           const CompileOptions& options);

}  // namespace plinth::query
