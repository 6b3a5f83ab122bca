// The Compiler: filters, rules and sorts sharing one set of joins; list-rule
// joins applied at the end; markers rendered into placeholders.

#include <limits>

#include "plinth/util/strings.hpp"
#include "resolver.hpp"

namespace plinth::query {

using detail::Resolved;
using detail::Scope;
using detail::State;

std::vector<Param> Compiled::all_params() const {
  std::vector<Param> out = join_params;
  out.insert(out.end(), params.begin(), params.end());
  out.insert(out.end(), order_params.begin(), order_params.end());
  return out;
}

struct Compiler::Impl {
  Impl(const core::Catalog& catalog, const core::Collection& c, const RequestInfo& request,
       const CompileOptions& options)
      : state(catalog, request, options), collection(c) {}

  Scope scope(bool allow_hidden) {
    return Scope{state, collection, collection.name, allow_hidden, ""};
  }

  std::optional<Error> add(std::string_view text, bool allow_hidden, const Limits& limits) {
    if (finished) return Error{"compiler already finished", 0};
    auto s = scope(allow_hidden);
    auto r = detail::compile_text(s, text, limits);
    if (const auto* e = detail::error_of(r)) return *e;
    wheres.push_back(std::move(std::get<std::string>(r)));
    return std::nullopt;
  }

  State state;
  const core::Collection& collection;
  std::vector<std::string> wheres;
  std::vector<std::string> orders;
  bool finished = false;
};

Compiler::Compiler(const core::Catalog& catalog, const core::Collection& collection,
                   const RequestInfo& request, const CompileOptions& options)
    : impl_(std::make_unique<Impl>(catalog, collection, request, options)) {}

Compiler::~Compiler() = default;

std::optional<Error> Compiler::add_filter(std::string_view expr) {
  return impl_->add(expr, impl_->state.options.allow_hidden, impl_->state.options.limits);
}

std::optional<Error> Compiler::add_rule(std::string_view rule) {
  // Rules are written by superusers and length-checked when saved.
  Limits limits = impl_->state.options.limits;
  limits.max_length = std::numeric_limits<std::size_t>::max();
  return impl_->add(rule, true, limits);
}

std::optional<Error> Compiler::add_sort(std::string_view sort) {
  auto& im = *impl_;
  if (im.finished) return Error{"compiler already finished", 0};
  const auto& limits = im.state.options.limits;
  const auto& sql = im.state.sql;
  std::size_t offset = 0;
  for (auto raw : util::split(sort, ',')) {
    std::size_t position = offset + static_cast<std::size_t>(util::trim(raw).data() - raw.data());
    offset += raw.size() + 1;
    if (im.orders.size() >= limits.max_sort_fields) {
      return Error{"too many sort fields (max " + std::to_string(limits.max_sort_fields) + ")",
                   position};
    }
    auto field = util::trim(raw);
    if (field.size() > limits.max_sort_length) {
      return Error{"sort field too long (max " + std::to_string(limits.max_sort_length) + ")",
                   position};
    }
    std::string direction = " ASC";
    if (!field.empty() && (field.front() == '-' || field.front() == '+')) {
      if (field.front() == '-') direction = " DESC";
      field.remove_prefix(1);
      ++position;
    }
    if (field == "@random") {
      im.orders.push_back(sql.dialect() == Dialect::postgres ? "random()" : "RANDOM()");
      continue;
    }
    if (field == "@rowid") {
      if (sql.dialect() == Dialect::postgres) return Error{"@rowid is not available", position};
      im.orders.push_back(sql.column(im.collection.name, "_rowid_") + direction);
      continue;
    }
    auto s = im.scope(im.state.options.allow_hidden);
    auto r = detail::resolve_field(s, field, position);
    const auto* e = detail::error_of(r);
    if (e || std::get<Resolved>(r).constant || !std::get<Resolved>(r).params.empty()) {
      return Error{"invalid sort field \"" + std::string(field) + "\"" +
                       (e ? " - " + e->message : std::string()),
                   position};
    }
    im.orders.push_back(std::get<Resolved>(r).sql + direction);
  }
  return std::nullopt;
}

std::variant<Compiled, Error> Compiler::finish() {
  auto& im = *impl_;
  if (im.finished) return Error{"compiler already finished", 0};
  im.finished = true;
  auto& st = im.state;

  // PocketBase's list-rule joins: a joined collection's records are visible
  // only as its list rule allows ("id=''" keeps empty relations comparable).
  std::vector<std::string> rule_wheres;
  Limits rule_limits = st.options.limits;
  rule_limits.max_length = std::numeric_limits<std::size_t>::max();
  for (std::size_t i = 0; i < st.rule_joins.size(); ++i) {
    auto rj = st.rule_joins[i];
    Scope scope{st, *rj.collection, rj.alias, true, "_lr" + std::to_string(i + 1)};
    auto r = detail::compile_text(scope, "id='' || (\n" + *rj.collection->list_rule + "\n)",
                                  rule_limits);
    if (const auto* e = detail::error_of(r)) {
      return Error{"list rule of collection \"" + rj.collection->name + "\": " + e->message,
                   rj.position};
    }
    rule_wheres.push_back(std::move(std::get<std::string>(r)));
  }
  rule_wheres.insert(rule_wheres.end(), im.wheres.begin(), im.wheres.end());

  std::string where;
  for (const auto& w : rule_wheres) {
    if (!where.empty()) where += " AND ";
    where += rule_wheres.size() > 1 ? "(" + w + ")" : w;
  }
  std::string order;
  for (const auto& o : im.orders) order += (order.empty() ? "" : ", ") + o;

  Compiled out;
  std::size_t next = st.options.first_placeholder;
  for (const auto& j : st.joins) {
    out.joins.push_back(detail::render(st.sql.join_clause(j), st.params, st.options.dialect, next,
                                       out.join_params));
  }
  out.where = detail::render(where, st.params, st.options.dialect, next, out.params);
  out.order_by = detail::render(order, st.params, st.options.dialect, next, out.order_params);
  out.needs_distinct = !out.joins.empty();
  auto total = out.join_params.size() + out.params.size() + out.order_params.size();
  if (total > st.options.limits.max_params) {
    return Error{
        "too many bound parameters (max " + std::to_string(st.options.limits.max_params) + ")", 0};
  }
  return out;
}

std::variant<Compiled, Error> compile(std::string_view expr, const core::Catalog& catalog,
                                      const core::Collection& collection,
                                      const RequestInfo& request, const CompileOptions& options) {
  Compiler c(catalog, collection, request, options);
  if (auto e = c.add_filter(expr)) return *e;
  return c.finish();
}

std::variant<Compiled, Error> compile_sort(std::string_view sort, const core::Catalog& catalog,
                                           const core::Collection& collection,
                                           const RequestInfo& request,
                                           const CompileOptions& options) {
  Compiler c(catalog, collection, request, options);
  if (auto e = c.add_sort(sort)) return *e;
  return c.finish();
}

}  // namespace plinth::query
