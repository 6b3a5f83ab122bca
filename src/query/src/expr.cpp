// Comparisons, a port of tools/search/filter.go: the null/empty-string
// normalisation of = and != (resolveEqualExpr), LIKE with PocketBase's
// %-wrapping and escaping, and the multi-match NOT EXISTS subqueries that make
// a plain operator on a multi-valued operand mean "every value matches".

#include <algorithm>

#include "resolver.hpp"

namespace plinth::query::detail {

namespace {

bool has_empty_param(const Scope& scope, const Resolved& r) {
  return std::any_of(r.params.begin(), r.params.end(), [&](std::size_t i) {
    const auto& p = scope.state.params.at(i);
    const auto* s = std::get_if<std::string>(&p.value);
    return p.is_null() || (s && s->empty());
  });
}

bool is_empty(const Scope& scope, const Resolved& r) {
  return r.null_literal || (r.null_fallback == NullFallback::automatic && r.params.size() == 1 &&
                            has_empty_param(scope, r));
}

bool known_non_empty(const Scope& scope, const Resolved& r) {
  if (r.null_fallback == NullFallback::enforced) return false;
  if (r.bool_literal) return true;
  return !r.params.empty() && !has_empty_param(scope, r) && !r.null_literal;
}

// `a = b` / `a != b` where null and "" are the same value.
std::string equal_expr(const Scope& scope, bool equal, const Resolved& l, const Resolved& r) {
  const auto& sql = scope.state.sql;
  std::string eq_op = equal ? "=" : std::string(sql.is(false));
  std::string null_eq_op(sql.is(equal));
  std::string concat = equal ? " OR " : " AND ";
  std::string null_expr = equal ? " IS NULL" : " IS NOT NULL";

  // JSON values: no coalescing, null is its own value.
  if (l.null_fallback == NullFallback::disabled || r.null_fallback == NullFallback::disabled) {
    return l.sql + " " + null_eq_op + " " + r.sql;
  }
  bool left_empty = is_empty(scope, l);
  bool right_empty = is_empty(scope, r);
  if (left_empty && right_empty) return "'' " + eq_op + " ''";
  if (known_non_empty(scope, l) || known_non_empty(scope, r)) {
    return (left_empty ? "''" : l.sql) + " " + eq_op + " " + (right_empty ? "''" : r.sql);
  }
  // An index-friendly spelling of COALESCE(b, '') = '' (a seek instead of a scan).
  if (left_empty) return "('' " + eq_op + " " + r.sql + concat + r.sql + null_expr + ")";
  if (right_empty) return "(" + l.sql + " " + eq_op + " ''" + concat + l.sql + null_expr + ")";
  return "COALESCE(" + l.sql + ", '') " + eq_op + " COALESCE(" + r.sql + ", '')";
}

bool contains_unescaped(std::string_view s, char ch) {
  char prev = 0;
  for (char c : s) {
    if (c == ch && prev != '\\') return true;
    prev = (c == '\\' && prev == '\\') ? 0 : c;
  }
  return false;
}

// Escapes \, % and _ that are not escaped already (escapeUnescapedChars).
std::string escape_unescaped(std::string_view s) {
  auto special = [](char c) { return c == '\\' || c == '%' || c == '_'; };
  std::string reversed;
  bool match = false;
  for (std::size_t n = s.size(); n-- > 0;) {
    if (match) {
      if (s[n] != '\\') reversed += '\\';
      match = false;
    } else {
      match = special(s[n]);
    }
    reversed += s[n];
    if (n == 0 && match) reversed += '\\';
  }
  return {reversed.rbegin(), reversed.rend()};
}

// A value without an unescaped % becomes %value% (a "contains" match).
Resolved wrap_like(Scope& scope, const Resolved& r) {
  Resolved out = r;
  for (auto& idx : out.params) {
    auto text = param_text(scope.state.params.at(idx));
    if (!contains_unescaped(text, '%')) text = "%" + escape_unescaped(text) + "%";
    auto replacement = scope.state.params.add(Param{std::move(text)});
    auto old = marker(idx);
    for (auto pos = out.sql.find(old); pos != std::string::npos; pos = out.sql.find(old, pos)) {
      out.sql.replace(pos, old.size(), replacement);
      pos += replacement.size();
    }
    idx = Params::index_of(replacement);
  }
  return out;
}

std::string multi_match_value(const Scope& scope, std::string_view alias) {
  return scope.state.sql.column(alias, "multiMatchValue");
}

// Operands inside the subqueries keep only what PocketBase copies: the SQL,
// the values and what the identifier says about emptiness.
Resolved bare(const Resolved& r) {
  Resolved out;
  out.sql = r.sql;
  out.params = r.params;
  out.null_literal = r.null_literal;
  out.bool_literal = r.bool_literal;
  out.like_as_column = r.like_as_column;
  return out;
}

// No value of the multi-valued side violates the condition.
Result<std::string> many_vs_one(Scope& scope, const Resolved& many, SignOp op,
                                const Resolved& other, bool inverse) {
  auto alias = "__sm" + std::to_string(++scope.state.counter);
  Resolved value;
  value.sql = multi_match_value(scope, alias);
  value.null_fallback = many.null_fallback;
  value.negate = true;
  auto where = inverse ? build_comparison(scope, bare(other), op, value)
                       : build_comparison(scope, value, op, bare(other));
  if (const auto* e = error_of(where)) return *e;
  const auto& sql = scope.state.sql;
  return "NOT EXISTS (SELECT 1 FROM (" + sql.subquery(*many.multi_match) + ") " + sql.quote(alias) +
         " WHERE " + std::get<std::string>(where) + ")";
}

Result<std::string> many_vs_many(Scope& scope, const Resolved& l, SignOp op, const Resolved& r) {
  auto n = std::to_string(++scope.state.counter);
  auto left_alias = "__ml" + n, right_alias = "__mr" + n;
  Resolved lv, rv;
  lv.sql = multi_match_value(scope, left_alias);
  lv.null_fallback = l.null_fallback;
  rv.sql = multi_match_value(scope, right_alias);
  rv.null_fallback = r.null_fallback;
  rv.negate = true;
  auto where = build_comparison(scope, lv, op, rv);
  if (const auto* e = error_of(where)) return *e;
  const auto& sql = scope.state.sql;
  std::string on = sql.dialect() == Dialect::postgres ? " ON TRUE" : "";
  return "NOT EXISTS (SELECT 1 FROM (" + sql.subquery(*l.multi_match) + ") " +
         sql.quote(left_alias) + " LEFT JOIN (" + sql.subquery(*r.multi_match) + ") " +
         sql.quote(right_alias) + on + " WHERE " + std::get<std::string>(where) + ")";
}

}  // namespace

Result<std::string> build_comparison(Scope& scope, const Resolved& l, SignOp op,
                                     const Resolved& r) {
  const auto& sql = scope.state.sql;
  std::string expr;
  switch (op) {
    case SignOp::eq:
    case SignOp::any_eq: expr = equal_expr(scope, true, l, r); break;
    case SignOp::neq:
    case SignOp::any_neq: expr = equal_expr(scope, false, l, r); break;
    case SignOp::like:
    case SignOp::any_like:
    case SignOp::nlike:
    case SignOp::any_nlike: {
      bool positive = op == SignOp::like || op == SignOp::any_like;
      auto like = std::string(sql.like(positive));
      if (r.params.empty() || r.like_as_column) {
        expr = l.sql + " " + like + " ('%' || " + r.sql + " || '%') ESCAPE '\\'";
      } else {
        expr = l.sql + " " + like + " " + wrap_like(scope, r).sql + " ESCAPE '\\'";
      }
      break;
    }
    case SignOp::lt:
    case SignOp::any_lt: expr = l.sql + " < " + r.sql; break;
    case SignOp::lte:
    case SignOp::any_lte: expr = l.sql + " <= " + r.sql; break;
    case SignOp::gt:
    case SignOp::any_gt: expr = l.sql + " > " + r.sql; break;
    case SignOp::gte:
    case SignOp::any_gte: expr = l.sql + " >= " + r.sql; break;
  }

  if (!is_any_op(op)) {
    Result<std::string> mm = std::string();
    if (l.multi_match && r.multi_match) {
      mm = many_vs_many(scope, l, op, r);
    } else if (l.multi_match) {
      mm = many_vs_one(scope, l, op, r, false);
    } else if (r.multi_match) {
      mm = many_vs_one(scope, r, op, l, true);
    }
    if (const auto* e = error_of(mm)) return *e;
    if (const auto& s = std::get<std::string>(mm); !s.empty()) {
      expr = "((" + expr + ") AND (" + s + "))";
    }
  }

  for (const auto* side : {&l, &r}) {
    if (!side->email_visibility_alias.empty()) {
      expr = "((" + expr + ") AND (" + sql.column(side->email_visibility_alias, "emailVisibility") +
             " = TRUE))";
    }
    if (side->negate) expr = "NOT (" + expr + ")";
  }
  return expr;
}

namespace {

Result<std::string> build_node(Scope& scope, const Ast& ast, std::size_t index) {
  const auto& n = ast.nodes[index];
  if (n.kind == Node::Kind::comparison) {
    auto l = resolve_operand(scope, n.left);
    if (const auto* e = error_of(l)) return *e;
    auto r = resolve_operand(scope, n.right);
    if (const auto* e = error_of(r)) return *e;
    return build_comparison(scope, std::get<Resolved>(l), n.op, std::get<Resolved>(r));
  }
  std::string out = "(";
  const char* sep = n.kind == Node::Kind::all ? " AND " : " OR ";
  for (std::size_t i = 0; i < n.children.size(); ++i) {
    auto part = build_node(scope, ast, n.children[i]);
    if (const auto* e = error_of(part)) return *e;
    if (i) out += sep;
    out += std::get<std::string>(part);
  }
  return out + ")";
}

}  // namespace

Result<std::string> build_ast(Scope& scope, const Ast& ast) {
  return build_node(scope, ast, ast.root);
}

Result<std::string> compile_text(Scope& scope, std::string_view text, const Limits& limits) {
  auto ast = parse(text, limits);
  if (const auto* e = std::get_if<Error>(&ast)) return *e;
  return build_ast(scope, std::get<Ast>(ast));
}

}  // namespace plinth::query::detail
