#pragma once
// A seeded in-memory SQLite database with four PocketBase-shaped collections
// (users (auth), posts, comments, bundles, post_stats), and a runner that
// compiles a filter and returns the matching ids ("p1,p3") or "!error".

#include <sqlite3.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "plinth/query/filter.hpp"

namespace plinth::query::test {

// 2024-06-15 12:30:45.123Z, a Saturday.
inline constexpr std::int64_t kNowMs = 1718454645123;

class Fixture {
 public:
  Fixture();
  ~Fixture();
  Fixture(const Fixture&) = delete;
  Fixture& operator=(const Fixture&) = delete;

  const core::Catalog& catalog() const { return *catalog_; }
  const core::Collection& collection(std::string_view name) const;
  sqlite3* db() const { return db_; }

  // Compiles `filter` (and `sort`) for `collection` and runs
  //   SELECT [DISTINCT] `c`.`id` FROM `c` <joins> WHERE <where> ORDER BY <sort | id>
  // Returns the ids joined by ',' or "!error: <message>" (compile or SQL error).
  std::string run(std::string_view collection, std::string_view filter, const RequestInfo& request,
                  const CompileOptions& options, std::string_view sort = "") const;

  // Executes already compiled SQL pieces for `collection`.
  std::string execute(std::string_view collection, const Compiled& c) const;

  // Name and SQL of every schema object, to prove nothing was changed.
  std::string schema_snapshot() const;
  // Every row of every table, to prove no data was changed.
  std::string data_snapshot() const;

  // Requests used across the suites.
  RequestInfo guest() const;
  RequestInfo as_user(std::string_view id) const;  // body/query/headers filled in

 private:
  sqlite3* db_ = nullptr;
  std::unique_ptr<core::Catalog> catalog_;
  mutable std::vector<std::unique_ptr<boost::json::object>> records_;  // auth records handed out
};

// One fixture for the whole test program (filters never write).
const Fixture& shared_fixture();

// Options: superuser (hidden fields, no list rules) or a regular client.
CompileOptions superuser_options();
CompileOptions client_options();

// One table row: a readable name, the filter and the expected ids or "!error".
struct FilterCase {
  const char* name;
  const char* filter;
  const char* expected;
};

std::string case_name(const FilterCase& c);

}  // namespace plinth::query::test
