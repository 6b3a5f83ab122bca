// Field paths: plain columns, relation paths (one LEFT JOIN per hop, json_each
// for multi-relations), back-relations `<collection>_via_<field>`, JSON paths,
// @collection joins, and the multi-match subquery that gives plain operators
// their "every value" meaning. Aliases and join shapes follow PocketBase's
// runner so that the generated SQL can be compared with its tests.

#include <algorithm>
#include <cctype>

#include "plinth/core/json.hpp"
#include "plinth/util/strings.hpp"
#include "resolver.hpp"

namespace plinth::query::detail {

namespace {

constexpr std::size_t kMaxNestedRels = 6;  // PocketBase's maxNestedRels

bool is_word(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
}
bool is_path_char(char c) {
  return is_word(c) || c == '.' || c == ':';
}

bool all_path_chars(std::string_view s) {
  return std::all_of(s.begin(), s.end(), is_path_char);
}

// `prefix` followed by [\w.:]*\w
bool prefixed_path(std::string_view name, std::string_view prefix) {
  if (name.size() <= prefix.size() || name.substr(0, prefix.size()) != prefix) return false;
  auto rest = name.substr(prefix.size());
  return all_path_chars(rest) && is_word(rest.back());
}

// PocketBase's allowedFields patterns.
bool allowed(std::string_view name) {
  if (name.empty()) return false;
  if (is_word(name[0]) && all_path_chars(name)) return true;
  if (name == "@request.context" || name == "@request.method") return true;
  for (auto p : {"@request.auth.", "@request.body.", "@request.query.", "@request.headers."}) {
    if (prefixed_path(name, p)) return true;
  }
  // ^@collection\.\w+(:\w+)?\.[\w.:]*\w+$
  constexpr std::string_view kCollection = "@collection.";
  if (name.substr(0, kCollection.size()) != kCollection) return false;
  std::size_t i = kCollection.size();
  auto word_run = [&] {
    std::size_t start = i;
    while (i < name.size() && is_word(name[i])) ++i;
    return i > start;
  };
  if (!word_run()) return false;
  if (i < name.size() && name[i] == ':') {
    ++i;
    if (!word_run()) return false;
  }
  if (i >= name.size() || name[i] != '.') return false;
  return prefixed_path(name, name.substr(0, i + 1));
}

std::vector<std::string> split_dots(std::string_view s) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    auto dot = s.find('.', start);
    out.emplace_back(s.substr(start, dot == std::string_view::npos ? dot : dot - start));
    if (dot == std::string_view::npos) return out;
    start = dot + 1;
  }
}

// ^(\w+)_via_(\w+)$ with a greedy first group.
std::optional<std::pair<std::string, std::string>> split_via(std::string_view prop) {
  constexpr std::string_view kVia = "_via_";
  auto pos = prop.rfind(kVia);
  while (pos != std::string_view::npos) {
    if (pos > 0 && pos + kVia.size() < prop.size()) {
      return std::pair{std::string(prop.substr(0, pos)),
                       std::string(prop.substr(pos + kVia.size()))};
    }
    if (pos == 0) break;
    pos = prop.rfind(kVia, pos - 1);
  }
  return std::nullopt;
}

// The column list of a CREATE UNIQUE INDEX definition, if it is exactly one column.
bool has_single_column_unique_index(const std::vector<std::string>& indexes,
                                    std::string_view column) {
  for (const auto& def : indexes) {
    auto lower = util::to_lower(def);
    auto words = lower.find("create unique index");
    auto open = lower.find('(');
    auto close = lower.rfind(')');
    if (words == std::string::npos || open == std::string::npos || close == std::string::npos ||
        close < open) {
      continue;
    }
    auto cols = std::string_view(def).substr(open + 1, close - open - 1);
    if (cols.find(',') != std::string_view::npos) continue;
    std::string name;
    for (char c : cols) {
      if (is_word(c)) {
        name += c;
      } else if (!name.empty()) {
        break;  // the first word is the column; COLLATE/ASC/DESC follow
      }
    }
    if (util::to_lower(name) == util::to_lower(column)) return true;
  }
  return false;
}

// inflector.Columnify: drop everything but \w.
std::string columnify(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (is_word(c)) out += c;
  }
  return out;
}

}  // namespace

std::optional<Split> split_modifier(std::string_view prop) {
  auto colon = prop.find(':');
  if (colon == std::string_view::npos || prop.find(':', colon + 1) != std::string_view::npos) {
    return Split{std::string(prop), ""};
  }
  auto mod = prop.substr(colon + 1);
  if (mod == "isset" || mod == "each" || mod == "length" || mod == "lower" || mod == "changed") {
    return Split{std::string(prop.substr(0, colon)), std::string(mod)};
  }
  return std::nullopt;
}

bool is_multi_valuer(const core::Field& f) {
  return f.type == core::FieldType::select || f.type == core::FieldType::relation ||
         f.type == core::FieldType::file;
}

bool never_filterable(const core::Collection& c, const core::Field& f) {
  return f.type == core::FieldType::password || (c.is_auth() && f.name == "tokenKey");
}

const core::Collection* load_collection(const Scope& scope, std::string_view name_or_id) {
  if (name_or_id == scope.base.name || name_or_id == scope.base.id) return &scope.base;
  return scope.state.catalog.find(name_or_id).get();
}

namespace {
// A join's identity with values in place of markers, to tell a repeated join
// (same path, same values) from two paths that would produce one alias.
std::string canonical(const std::string& sql, const Params& params) {
  std::string out;
  for (std::size_t i = 0; i < sql.size(); ++i) {
    if (sql[i] != '\x01') {
      out += sql[i];
      continue;
    }
    auto close = sql.find('\x02', i);
    const auto& p = params.at(Params::index_of(std::string_view(sql).substr(i, close - i + 1)));
    out += '\x01';
    out += std::to_string(p.value.index());
    out += param_text(p);
    out += '\x02';
    i = close;
  }
  return out;
}
}  // namespace

std::optional<Error> register_join(Scope& scope, JoinDef join, const core::Collection* collection,
                                   std::size_t position) {
  auto& st = scope.state;
  if (!scope.allow_hidden && collection) {
    if (!collection->list_rule) {
      return Error{
          "fields of collection \"" + collection->name + "\" can be filtered only by superusers",
          position};
    }
    if (!collection->list_rule->empty()) {
      auto it = std::find_if(st.rule_joins.begin(), st.rule_joins.end(),
                             [&](const RuleJoin& r) { return r.alias == join.alias; });
      if (it == st.rule_joins.end()) st.rule_joins.push_back({collection, join.alias, position});
    }
  }
  for (const auto& existing : st.joins) {
    if (existing.alias != join.alias) continue;
    if (canonical(existing.source + "\n" + existing.on, st.params) ==
        canonical(join.source + "\n" + join.on, st.params)) {
      return std::nullopt;
    }
    return Error{"ambiguous relation path (two paths share the alias \"" + join.alias + "\")",
                 position};
  }
  if (st.joins.size() >= st.options.limits.max_joins) {
    return Error{"too many joins (max " + std::to_string(st.options.limits.max_joins) + ")",
                 position};
  }
  st.joins.push_back(std::move(join));
  return std::nullopt;
}

Runner::Runner(Scope& scope, std::string_view field_name, std::size_t position)
    : scope_(scope), field_name_(field_name), position_(position) {}

std::optional<Error> Runner::join(JoinDef j, const core::Collection* c) {
  return register_join(scope_, std::move(j), c, position_);
}

std::string Runner::column(std::string_view col) const {
  return scope_.state.sql.column(active_alias_, col);
}
std::string Runner::mm_column(std::string_view col) const {
  return scope_.state.sql.column(mm_alias_, col);
}

Resolved Runner::null_result() const {
  Resolved r;
  r.sql = "NULL";
  r.null_literal = true;
  r.constant = true;
  return r;
}

Result<Resolved> Runner::run() {
  if (!allowed(field_name_)) return fail("unknown field \"" + field_name_ + "\"");
  props_ = split_dots(field_name_);
  active_collection_ = &scope_.base;
  active_alias_ = scope_.base_alias;
  nullify_missing_ = props_[0] == "@request";
  mm_.target_alias = active_alias_;
  mm_.from_table = scope_.base.name;
  mm_.from_alias = "__mm_" + active_alias_;
  mm_alias_ = mm_.from_alias;

  if (props_[0] == "@collection") return process_collection_field();
  if (props_[0] != "@request") return process_active_props();

  if (field_name_.starts_with("@request.auth.")) return process_request_auth_field();
  if (field_name_.starts_with("@request.body.") && props_.size() > 2) {
    auto split = split_modifier(props_[2]);
    if (!split) return fail("unknown modifier in \"" + props_[2] + "\"");
    const auto* field = scope_.base.field(split->name);
    if (field) {
      if (field->type == core::FieldType::relation && props_.size() > 3) {
        return process_body_relation(*field);
      }
      if (props_.size() == 3) {
        if (split->modifier == "each") return process_body_each(*field);
        if (split->modifier == "length") return process_body_length(*field);
        if (split->modifier == "lower") return process_body_lower(*field);
        if (split->modifier == "changed") return process_body_changed(*field);
      }
    }
  }
  return resolve_static({props_.begin() + 1, props_.end()});
}

Result<Resolved> Runner::process_collection_field() {
  if (props_.size() < 3) return fail("invalid @collection field path \"" + field_name_ + "\"");
  auto colon = props_[1].find(':');
  auto name = props_[1].substr(0, colon);
  auto alias_name = colon == std::string::npos ? std::string() : props_[1].substr(colon + 1);
  // SQL identifiers ignore case: ":X" and ":x" name one join, not two that SQLite would refuse.
  alias_name = util::to_lower(alias_name);
  const auto* c = load_collection(scope_, name);
  if (!c) return fail("unknown collection \"" + name + "\"");
  active_collection_ = c;
  active_alias_ =
      (alias_name.empty() ? "__collection_" + c->name : "__collection_alias_" + alias_name) +
      scope_.suffix;
  with_multi_match_ = true;
  const auto& sql = scope_.state.sql;
  if (auto e = join({sql.quote(c->name), active_alias_, "", false}, c)) return *e;
  mm_alias_ = "__mm_" + active_alias_;
  mm_.joins.push_back({sql.quote(c->name), mm_alias_, "", false});
  props_.erase(props_.begin(), props_.begin() + 2);
  return process_active_props();
}

Result<Resolved> Runner::process_active_props() {
  const auto& sql = scope_.state.sql;
  const std::size_t total = props_.size();
  for (std::size_t i = 0; i < total; ++i) {
    const auto& collection = *active_collection_;
    const auto& prop = props_[i];
    if (i == total - 1) return finalize(collection, prop);

    const auto* field = collection.field(prop);
    if (field && field->hidden && !scope_.allow_hidden) {
      return fail("non-filterable field \"" + prop + "\"");
    }
    if (field && never_filterable(collection, *field)) {
      return fail("field \"" + prop + "\" can never be filtered");
    }
    if (field &&
        (field->type == core::FieldType::json || field->type == core::FieldType::geo_point)) {
      return json_path(i, *field);
    }
    if (i >= kMaxNestedRels) return fail("max nested relations reached for field \"" + prop + "\"");

    if (!field) {
      if (auto done = back_relation(prop, collection)) return std::move(*done);
      continue;
    }
    if (field->type != core::FieldType::relation) {
      return fail("field \"" + prop + "\" is not a valid relation");
    }
    const auto* rel = load_collection(scope_, field->string_option("collectionId"));
    if (!rel) return fail("failed to load the collection of field \"" + prop + "\"");
    const bool multi = field->is_multi();
    // "author.id" is the column itself: no join.
    if (!multi && i == total - 2 && props_[i + 1] == "id") return finalize(collection, field->name);

    auto alias = active_alias_ + "_" + field->name + scope_.suffix;
    if (!multi) {
      auto on = sql.column(alias, "id") + " = " + column(field->name);
      if (auto e = join({sql.quote(rel->name), alias, on, false}, rel)) return *e;
    } else {
      auto je = "__je_" + alias;
      if (auto e = join({sql.each_source(column(field->name), true), je, "", true}, nullptr)) {
        return *e;
      }
      auto on = sql.column(alias, "id") + " = " + sql.column(je, "value");
      if (auto e = join({sql.quote(rel->name), alias, on, false}, rel)) return *e;
      with_multi_match_ = true;
    }
    auto mm_alias = mm_alias_ + "_" + field->name;
    if (!multi) {
      mm_.joins.push_back({sql.quote(rel->name), mm_alias,
                           sql.column(mm_alias, "id") + " = " + mm_column(field->name), false});
    } else {
      auto je = mm_alias_ + "_" + field->name + "_je";
      mm_.joins.push_back({sql.each_source(mm_column(field->name), true), je, "", true});
      mm_.joins.push_back({sql.quote(rel->name), mm_alias,
                           sql.column(mm_alias, "id") + " = " + sql.column(je, "value"), false});
    }
    active_collection_ = rel;
    active_alias_ = std::move(alias);
    mm_alias_ = std::move(mm_alias);
  }
  return fail("failed to resolve field \"" + field_name_ + "\"");
}

std::optional<Result<Resolved>> Runner::back_relation(const std::string& prop,
                                                      const core::Collection& collection) {
  const auto& sql = scope_.state.sql;
  auto missing = [&](std::string message) -> Result<Resolved> {
    if (nullify_missing_) return null_result();
    return fail(std::move(message));
  };
  auto via = split_via(prop);
  if (!via) return missing("unknown field \"" + prop + "\"");
  const auto* back = load_collection(scope_, via->first);
  if (!back) return missing("unknown back-relation collection \"" + via->first + "\"");
  const auto* back_field = back->field(via->second);
  if (!back_field) return missing("missing back-relation field \"" + via->second + "\"");
  if (back_field->type != core::FieldType::relation) {
    return missing("invalid back-relation field \"" + via->second + "\"");
  }
  if (back_field->hidden && !scope_.allow_hidden) {
    return fail("non-filterable back-relation field \"" + via->second + "\"");
  }
  if (back_field->string_option("collectionId") != collection.id) {
    return missing("back-relation field \"" + via->second + "\" does not reference \"" +
                   collection.name + "\"");
  }
  const bool multi = back_field->is_multi();
  auto alias = active_alias_ + "_" + prop + scope_.suffix;
  if (!multi) {
    auto on = sql.column(alias, back_field->name) + " = " + column("id");
    if (auto e = join({sql.quote(back->name), alias, on, false}, back)) return *e;
  } else {
    auto je = "__je_" + alias;
    auto on = column("id") + " IN (SELECT " + sql.column(je, "value") + " FROM " +
              sql.each_from(sql.each_source(sql.column(alias, back_field->name), true), je) + ")";
    if (auto e = join({sql.quote(back->name), alias, on, false}, back)) return *e;
  }
  if (multi) {
    with_multi_match_ = true;
  } else if (!with_multi_match_) {
    // A unique back-relation yields at most one row: no "every value" check needed.
    with_multi_match_ = !has_single_column_unique_index(back->indexes, back_field->name);
  }
  auto mm_alias = mm_alias_ + "_" + prop + scope_.suffix;
  if (!multi) {
    mm_.joins.push_back({sql.quote(back->name), mm_alias,
                         sql.column(mm_alias, back_field->name) + " = " + mm_column("id"), false});
  } else {
    auto je = "__je_" + mm_alias;
    mm_.joins.push_back(
        {sql.quote(back->name), mm_alias,
         mm_column("id") + " IN (SELECT " + sql.column(je, "value") + " FROM " +
             sql.each_from(sql.each_source(sql.column(mm_alias, back_field->name), true), je) + ")",
         false});
  }
  active_collection_ = back;
  active_alias_ = std::move(alias);
  mm_alias_ = std::move(mm_alias);
  return std::nullopt;
}

Result<Resolved> Runner::json_path(std::size_t i, const core::Field& field) {
  auto& st = scope_.state;
  std::vector<std::string> keys;
  bool lower = false;
  for (std::size_t k = i + 1; k < props_.size(); ++k) {
    std::string_view part = props_[k];
    if (k + 1 == props_.size() && part.ends_with(":lower") && part.find(':') == part.size() - 6) {
      lower = true;
      part.remove_suffix(6);
    }
    auto key = columnify(part);
    if (key.empty()) return fail("invalid JSON path in \"" + field_name_ + "\"");
    keys.push_back(std::move(key));
  }
  Resolved r;
  r.null_fallback = NullFallback::disabled;
  r.sql = st.sql.json_extract(column(field.name), keys, st.params);
  if (lower) r.sql = "LOWER(" + r.sql + ")";
  if (with_multi_match_) {
    mm_.value = st.sql.json_extract(mm_column(field.name), keys, st.params);
    if (lower) mm_.value = "LOWER(" + mm_.value + ")";
    r.multi_match = mm_;
  }
  return r;
}

Result<Resolved> Runner::finalize(const core::Collection& collection, std::string_view prop) {
  auto& st = scope_.state;
  auto split = split_modifier(prop);
  if (!split) return fail("unknown modifier in \"" + std::string(prop) + "\"");
  const auto* field = collection.field(split->name);
  if (!field) {
    if (nullify_missing_) return null_result();
    return fail("unknown field \"" + split->name + "\"");
  }
  if (field->hidden && !scope_.allow_hidden) {
    return fail("non-filterable field \"" + split->name + "\"");
  }
  if (never_filterable(collection, *field)) {
    return fail("field \"" + split->name + "\" can never be filtered");
  }
  const auto& name = field->name;
  const bool multi_valuer = is_multi_valuer(*field);
  Resolved r;

  if (split->modifier == "length" && multi_valuer) {
    r.sql = st.sql.array_length(column(name), field->is_multi());
    if (with_multi_match_) {
      mm_.value = st.sql.array_length(mm_column(name), field->is_multi());
      r.multi_match = mm_;
    }
    return r;
  }

  if (split->modifier == "each" && multi_valuer) {
    auto je = "__je_" + active_alias_ + "_" + name + scope_.suffix;
    if (auto e =
            join({st.sql.each_source(column(name), field->is_multi()), je, "", true}, nullptr)) {
      return *e;
    }
    r.sql = st.sql.column(je, "value");
    if (field->is_multi()) with_multi_match_ = true;
    if (with_multi_match_) {
      auto je2 = "__je_" + mm_alias_ + "_" + name + scope_.suffix;
      mm_.joins.push_back({st.sql.each_source(mm_column(name), field->is_multi()), je2, "", true});
      mm_.value = st.sql.column(je2, "value");
      r.multi_match = mm_;
    }
    return r;
  }

  // Other modifiers on a collection field are ignored, as PocketBase does.
  r.sql = column(name);
  if (with_multi_match_) mm_.value = mm_column(name);
  if (name == "email" && !scope_.allow_hidden && collection.is_auth()) {
    r.email_visibility_alias = active_alias_;  // only publicly visible emails match
  }
  if (field->type == core::FieldType::json) {
    // json_extract makes top-level JSON primitives compare like SQL values.
    r.null_fallback = NullFallback::disabled;
    r.sql = st.sql.json_extract(column(name), {}, st.params);
    if (with_multi_match_) mm_.value = st.sql.json_extract(mm_column(name), {}, st.params);
  }
  if (split->modifier == "lower") {
    r.sql = "LOWER(" + r.sql + ")";
    if (with_multi_match_) mm_.value = "LOWER(" + mm_.value + ")";
  }
  if (with_multi_match_) r.multi_match = mm_;
  return r;
}

Result<Resolved> resolve_field(Scope& scope, std::string_view name, std::size_t position) {
  return Runner(scope, name, position).run();
}

}  // namespace plinth::query::detail
