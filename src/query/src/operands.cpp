// Operands (search.resolveToken): text and number literals and macros become
// bound parameters; identifiers go to the field resolver, falling back to the
// null/true/false keywords; geoDistance() and strftime() as PocketBase's
// token functions.

#include <charconv>
#include <cmath>

#include "plinth/util/strings.hpp"
#include "resolver.hpp"

namespace plinth::query::detail {

namespace {

Resolved value(Scope& scope, Param p) {
  Resolved r;
  r.sql = scope.state.params.add(std::move(p));
  r.params.push_back(Params::index_of(r.sql));
  r.constant = true;
  return r;
}

Resolved keyword(std::string_view sql, bool null_literal) {
  Resolved r;
  r.sql = std::string(sql);
  r.null_literal = null_literal;
  r.bool_literal = !null_literal;
  r.constant = true;
  return r;
}

void append_params(Resolved& to, const Resolved& from) {
  to.params.insert(to.params.end(), from.params.begin(), from.params.end());
}

Result<Resolved> geo_distance(Scope& scope, const Operand& fn) {
  if (fn.args.size() != 4) {
    return Error{"geoDistance expects 4 arguments, got " + std::to_string(fn.args.size()),
                 fn.position};
  }
  std::vector<Resolved> a;
  for (const auto& arg : fn.args) {
    if (arg.kind != Operand::Kind::identifier && arg.kind != Operand::Kind::number) {
      return Error{"geoDistance arguments must be identifiers or numbers", arg.position};
    }
    auto r = resolve_operand(scope, arg);
    if (const auto* e = error_of(r)) return *e;
    a.push_back(std::move(std::get<Resolved>(r)));
  }
  const auto &lon_a = a[0].sql, &lat_a = a[1].sql, &lon_b = a[2].sql, &lat_b = a[3].sql;
  Resolved out;
  // Haversine distance in kilometres, as PocketBase spells it.
  out.sql = "(6371 * acos(cos(radians(" + lat_a + ")) * cos(radians(" + lat_b +
            ")) * cos(radians(" + lon_b + ") - radians(" + lon_a + ")) + sin(radians(" + lat_a +
            ")) * sin(radians(" + lat_b + "))))";
  out.null_fallback = NullFallback::disabled;
  out.like_as_column = true;
  for (const auto& r : a) append_params(out, r);
  return out;
}

Result<Resolved> strftime(Scope& scope, const Operand& fn) {
  if (scope.state.sql.dialect() == Dialect::postgres) {
    return Error{"strftime is not available for postgres", fn.position};
  }
  if (fn.args.empty()) return Error{"strftime expects at least 1 argument", fn.position};
  if (fn.args.size() > 10) return Error{"strftime accepts at most 10 arguments", fn.position};
  if (fn.args[0].kind != Operand::Kind::text) {
    return Error{"strftime expects the first argument to be a format string", fn.args[0].position};
  }
  std::vector<Resolved> a;
  for (std::size_t i = 0; i < fn.args.size(); ++i) {
    const auto& arg = fn.args[i];
    bool ok = i == 1 ? arg.kind != Operand::Kind::function : arg.kind == Operand::Kind::text;
    if (!ok) {
      return Error{
          i == 1 ? "invalid strftime time-value argument" : "strftime modifiers must be strings",
          arg.position};
    }
    auto r = resolve_operand(scope, arg);
    if (const auto* e = error_of(r)) return *e;
    a.push_back(std::move(std::get<Resolved>(r)));
  }
  Resolved out;
  out.null_fallback = NullFallback::enforced;  // NULL results compare like ""
  out.like_as_column = true;
  std::vector<std::string> ids;
  for (const auto& r : a) {
    ids.push_back(r.sql);
    append_params(out, r);
  }
  auto call = [](const std::vector<std::string>& parts) {
    std::string s = "strftime(";
    for (std::size_t i = 0; i < parts.size(); ++i) s += (i ? "," : "") + parts[i];
    return s + ")";
  };
  out.sql = call(ids);
  out.constant = a.size() == 1 || a[1].constant;
  if (a.size() > 1 && a[1].multi_match) {
    out.multi_match = a[1].multi_match;
    ids[1] = out.multi_match->value;
    out.multi_match->value = call(ids);
  }
  return out;
}

}  // namespace

Result<Resolved> resolve_function(Scope& scope, const Operand& fn) {
  if (fn.text == "geoDistance") return geo_distance(scope, fn);
  if (fn.text == "strftime") return strftime(scope, fn);
  return Error{"unknown function \"" + fn.text + "\"", fn.position};
}

Result<Resolved> resolve_operand(Scope& scope, const Operand& operand) {
  switch (operand.kind) {
    case Operand::Kind::text: return value(scope, Param{operand.text});
    case Operand::Kind::number: {
      double d = 0;
      const auto& t = operand.text;
      auto r = std::from_chars(t.data(), t.data() + t.size(), d);
      if (r.ec != std::errc() || r.ptr != t.data() + t.size() || !std::isfinite(d)) {
        return Error{"number out of range \"" + t + "\"", operand.position};
      }
      return value(scope, Param{d});  // PocketBase binds every number as float64
    }
    case Operand::Kind::function: return resolve_function(scope, operand);
    case Operand::Kind::identifier: break;
  }
  if (auto macro = macro_value(operand.text, scope.state.now_ms)) {
    return value(scope, std::move(*macro));
  }
  auto r = resolve_field(scope, operand.text, operand.position);
  if (!error_of(r)) return r;
  // Only when no field has the name: null, true and false in any case.
  const auto& sql = scope.state.sql;
  if (util::iequals(operand.text, "null")) return keyword("NULL", true);
  if (util::iequals(operand.text, "true")) return keyword(sql.true_literal(), false);
  if (util::iequals(operand.text, "false")) return keyword(sql.false_literal(), false);
  return r;
}

}  // namespace plinth::query::detail
