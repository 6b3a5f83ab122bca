#pragma once
// Internal: the field resolver, a port of PocketBase's RecordFieldResolver
// (core/record_field_resolver*.go) producing dialect SQL with markers.

#include <boost/json/value.hpp>
#include <optional>
#include <string>
#include <vector>

#include "sql.hpp"

namespace plinth::query::detail {

// PocketBase's search.NullFallbackPreference.
enum class NullFallback { automatic, disabled, enforced };

// PocketBase's search.ResolverResult.
struct Resolved {
  std::string sql;
  NullFallback null_fallback = NullFallback::automatic;
  bool null_literal = false;  // the NULL identifier (null, missing @request values)
  bool bool_literal = false;  // 1/0/TRUE/FALSE identifiers
  // The values PocketBase keeps in ResolverResult.Params: they decide the
  // null/empty normalisation and are what `~` wraps in %...%.
  std::vector<std::size_t> params;
  bool like_as_column = false;  // `~` wraps it as '%' || x || '%' despite params
  bool constant = false;        // no column involved (not sortable)
  std::optional<MultiMatch> multi_match;
  std::string email_visibility_alias;  // AND <alias>.emailVisibility = TRUE
  bool negate = false;                 // wrap the comparison in NOT (...)
};

struct RuleJoin {
  const core::Collection* collection = nullptr;
  std::string alias;
  std::size_t position = 0;  // of the operand that caused it
};

// Shared by every filter, rule and sort of one Compiler.
struct State {
  State(const core::Catalog& c, const RequestInfo& r, const CompileOptions& o);

  const core::Catalog& catalog;
  const RequestInfo& request;
  CompileOptions options;
  Sql sql;
  Params params;
  std::vector<JoinDef> joins;
  std::vector<RuleJoin> rule_joins;
  std::size_t counter = 0;  // unique subquery aliases
  std::int64_t now_ms = 0;
  boost::json::value static_info;  // object: context, method, query, headers, auth
  std::size_t changed_depth = 0;   // `:changed` compiles a sub-filter; never nested
};

// One resolver view: the base collection and alias, and whether hidden fields are allowed.
struct Scope {
  State& state;
  const core::Collection& base;
  std::string base_alias;
  bool allow_hidden = false;
  std::string suffix;  // appended to join aliases inside list-rule joins
};

std::optional<Param> macro_value(std::string_view name, std::int64_t now_ms);

// A filter operand: literal, macro, field path or function.
Result<Resolved> resolve_operand(Scope& scope, const Operand& operand);
// A field path (RecordFieldResolver.Resolve).
Result<Resolved> resolve_field(Scope& scope, std::string_view name, std::size_t position);
Result<Resolved> resolve_function(Scope& scope, const Operand& fn);

// SQL for one comparison (search.buildResolversExpr).
Result<std::string> build_comparison(Scope& scope, const Resolved& left, SignOp op,
                                     const Resolved& right);
// SQL for a parsed filter.
Result<std::string> build_ast(Scope& scope, const Ast& ast);
// Parses and builds `text` in `scope`.
Result<std::string> compile_text(Scope& scope, std::string_view text, const Limits& limits);

// Adds a main-query join (once per alias). Without hidden access a joined
// collection must have a list rule, which is then enforced.
std::optional<Error> register_join(Scope& scope, JoinDef join, const core::Collection* collection,
                                   std::size_t position);

const core::Collection* load_collection(const Scope& scope, std::string_view name_or_id);

class Runner {
 public:
  Runner(Scope& scope, std::string_view field_name, std::size_t position);
  Result<Resolved> run();

 private:
  Result<Resolved> process_collection_field();
  Result<Resolved> process_request_auth_field();
  Result<Resolved> process_body_relation(const core::Field& field);
  Result<Resolved> process_body_each(const core::Field& field);
  Result<Resolved> process_body_length(const core::Field& field);
  Result<Resolved> process_body_lower(const core::Field& field);
  Result<Resolved> process_body_changed(const core::Field& field);
  Result<Resolved> resolve_static(std::vector<std::string> path);
  Result<Resolved> process_active_props();
  // Joins `<collection>_via_<field>`; a value when resolution ends here (NULL or an error).
  std::optional<Result<Resolved>> back_relation(const std::string& prop,
                                                const core::Collection& collection);
  Result<Resolved> json_path(std::size_t i, const core::Field& field);
  Result<Resolved> finalize(const core::Collection& collection, std::string_view prop);
  Resolved null_result() const;
  Error fail(std::string message) const { return Error{std::move(message), position_}; }
  std::optional<Error> join(JoinDef j, const core::Collection* c);
  std::string mm_column(std::string_view column) const;
  std::string column(std::string_view column) const;

  Scope& scope_;
  std::string field_name_;
  std::size_t position_;
  std::vector<std::string> props_;
  const core::Collection* active_collection_ = nullptr;
  std::string active_alias_;
  bool nullify_missing_ = false;
  bool with_multi_match_ = false;
  std::string mm_alias_;
  MultiMatch mm_;
};

// Split "name:modifier"; nullopt for an unknown modifier. More than one ':' is
// no modifier at all (PocketBase's splitModifier).
struct Split {
  std::string name, modifier;
};
std::optional<Split> split_modifier(std::string_view prop);

bool is_multi_valuer(const core::Field& f);
bool never_filterable(const core::Collection& c, const core::Field& f);

}  // namespace plinth::query::detail
