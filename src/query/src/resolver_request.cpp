// @request.*: static values (context, method, query, headers, body, the
// authenticated record's plain fields) become bound parameters; @request.auth
// paths into other fields join the auth collection; @request.body relation
// paths join the referenced records; :each, :length, :lower, :changed and
// :isset follow PocketBase's runner.

#include <algorithm>
#include <charconv>
#include <chrono>

#include "plinth/core/json.hpp"
#include "resolver.hpp"

namespace plinth::query::detail {

namespace json = boost::json;

namespace {

// Fields of the auth record read from the request instead of joined.
bool plain_auth_field(std::string_view name) {
  for (auto f : {"id", "collectionId", "collectionName", "email", "emailVisibility", "verified"}) {
    if (name == std::string("@request.auth.") + f) return true;
  }
  return false;
}

// Go marshals maps with sorted keys.
json::value sorted_deep(const json::value& v) {
  if (v.is_object()) {
    json::object out;
    for (const auto& [k, e] : core::sorted_copy(v.get_object())) out[k] = sorted_deep(e);
    return out;
  }
  if (v.is_array()) {
    json::array out;
    for (const auto& e : v.get_array()) out.push_back(sorted_deep(e));
    return out;
  }
  return v;
}

double number_of(const json::value& v) {
  if (v.is_int64()) return static_cast<double>(v.get_int64());
  if (v.is_uint64()) return static_cast<double>(v.get_uint64());
  return v.get_double();
}

// cast.ToString: scalars only; arrays and objects become "".
std::string cast_to_string(const json::value* v) {
  if (!v || v->is_null()) return "";
  if (v->is_string()) return std::string(v->get_string());
  if (v->is_bool()) return v->get_bool() ? "true" : "false";
  if (v->is_number()) return param_text(Param{number_of(*v)});
  return "";
}

// reflect-based toSlice: null -> [], array -> itself, anything else -> [value].
json::array to_slice(const json::value* v) {
  if (!v || v->is_null()) return {};
  if (v->is_array()) return v->get_array();
  return json::array{*v};
}

std::optional<double> parse_float(std::string_view s) {
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  double d = 0;
  auto r = std::from_chars(s.data(), s.data() + s.size(), d);
  if (r.ec != std::errc() || r.ptr != s.data() + s.size() || s.empty()) return std::nullopt;
  return d;
}

// list.ToUniqueStringSlice: a string (maybe a JSON array of strings) or an
// array; empty strings and repeats dropped.
std::vector<std::string> unique_strings(const json::value* v) {
  std::vector<std::string> raw;
  if (v && v->is_string()) {
    std::string_view s = v->get_string();
    bool parsed = false;
    if (s.find('[') != std::string_view::npos) {
      if (auto j = core::parse_json(s); j && j->is_array()) {
        parsed = std::all_of(j->get_array().begin(), j->get_array().end(),
                             [](const json::value& e) { return e.is_string(); });
        if (parsed) {
          for (const auto& e : j->get_array()) raw.emplace_back(e.get_string());
        }
      }
    }
    if (!parsed) raw.emplace_back(s);
  } else if (v && v->is_array()) {
    for (const auto& e : v->get_array()) raw.push_back(cast_to_string(&e));
  }
  std::vector<std::string> out;
  for (auto& s : raw) {
    if (!s.empty() && std::find(out.begin(), out.end(), s) == out.end())
      out.push_back(std::move(s));
  }
  return out;
}

// extractNestedVal: objects by key, arrays by index; nullptr when missing.
const json::value* extract(const json::value* cur, const std::vector<std::string>& keys,
                           std::size_t first) {
  for (std::size_t i = first; cur && i < keys.size(); ++i) {
    const auto& k = keys[i];
    if (cur->is_object()) {
      cur = cur->get_object().if_contains(k);
    } else if (cur->is_array()) {
      std::string_view s = k;
      if (!s.empty() && s.front() == '+') s.remove_prefix(1);
      std::size_t idx = 0;
      auto r = std::from_chars(s.data(), s.data() + s.size(), idx);
      const auto& arr = cur->get_array();
      if (s.empty() || r.ec != std::errc() || r.ptr != s.data() + s.size() || idx >= arr.size()) {
        return nullptr;
      }
      cur = &arr[idx];
    } else {
      return nullptr;
    }
  }
  return cur;
}

}  // namespace

State::State(const core::Catalog& c, const RequestInfo& r, const CompileOptions& o)
    : catalog(c), request(r), options(o), sql(o.dialect) {
  now_ms = o.now_ms ? *o.now_ms
                    : std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  auto& info = static_info.emplace_object();
  info["context"] = r.context;
  info["method"] = r.method;
  json::object query, headers;
  for (const auto& [k, v] : r.query) query[k] = v;
  for (const auto& [k, v] : r.headers) headers[k] = v;
  info["query"] = std::move(query);
  info["headers"] = std::move(headers);
  info["body"] = nullptr;  // read from the request directly (see resolve_static)
  if (r.auth_collection && r.auth_record) {
    json::object auth = *r.auth_record;
    auth["collectionId"] = r.auth_collection->id;
    auth["collectionName"] = r.auth_collection->name;
    info["auth"] = std::move(auth);
  } else {
    info["auth"] = nullptr;
  }
}

Result<Resolved> Runner::resolve_static(std::vector<std::string> path) {
  auto& st = scope_.state;
  auto split = split_modifier(path.back());
  if (!split) return fail("unknown modifier in \"" + path.back() + "\"");
  path.back() = split->name;
  const json::value* found = nullptr;
  if (path.front() == "body") {
    if (path.size() > 1) found = extract(st.request.body.if_contains(path[1]), path, 2);
  } else {
    found = extract(&st.static_info, path, 0);
  }

  if (split->modifier == "isset") {
    Resolved r;
    r.sql = found ? "TRUE" : "FALSE";
    r.bool_literal = true;
    r.constant = true;
    return r;
  }
  if (!split->modifier.empty() && split->modifier != "lower") {
    return fail("invalid modifier sequence " + split->name + ":" + split->modifier);
  }
  if (!found || found->is_null()) return null_result();

  Param value;
  if (found->is_string()) {
    value.value = std::string(found->get_string());
    // Multipart bodies carry numbers as text; compare them as numbers.
    const auto* f = scope_.base.field(path.back());
    if (f && f->type == core::FieldType::number) {
      if (auto d = parse_float(found->get_string())) value.value = *d;
    }
  } else if (found->is_bool()) {
    value.value = found->get_bool();
  } else if (found->is_number()) {
    value.value = number_of(*found);  // Go decodes JSON numbers as float64
  } else {
    value.value = core::to_json(sorted_deep(*found));
  }
  Resolved r;
  auto m = st.params.add(std::move(value));
  r.params.push_back(Params::index_of(m));
  r.sql = split->modifier == "lower" ? "LOWER(" + m + ")" : m;
  r.constant = true;
  return r;
}

Result<Resolved> Runner::process_request_auth_field() {
  const auto& req = scope_.state.request;
  if (!req.auth_collection || !req.auth_record) return null_result();
  if (plain_auth_field(field_name_)) return resolve_static({props_.begin() + 1, props_.end()});

  auto& st = scope_.state;
  const auto* c = load_collection(scope_, req.auth_collection->id);
  if (!c) c = req.auth_collection;
  std::string id;
  if (const auto* v = req.auth_record->if_contains("id"); v && v->is_string()) id = v->get_string();
  active_collection_ = c;
  active_alias_ = "__auth_" + c->name + scope_.suffix;
  auto on = st.sql.column(active_alias_, "id") + " = " + st.params.add(Param{id});
  if (auto e = join({st.sql.quote(c->name), active_alias_, on, false}, c)) return *e;
  mm_alias_ = "__mm_" + active_alias_;
  mm_.joins.push_back({st.sql.quote(c->name), mm_alias_,
                       st.sql.column(mm_alias_, "id") + " = " + st.params.add(Param{id}), false});
  props_.erase(props_.begin(), props_.begin() + 2);
  return process_active_props();
}

Result<Resolved> Runner::process_body_relation(const core::Field& field) {
  auto& st = scope_.state;
  const auto* rel = load_collection(scope_, field.string_option("collectionId"));
  if (!rel) return fail("failed to load the collection of field \"" + field.name + "\"");
  auto ids = unique_strings(st.request.body.if_contains(field.name));
  if (ids.empty()) return null_result();

  auto in = [&](const std::string& alias) {
    auto col = st.sql.column(alias, "id");
    if (ids.size() == 1) return col + " = " + st.params.add(Param{ids[0]});
    std::string list;
    for (const auto& id : ids) list += (list.empty() ? "" : ", ") + st.params.add(Param{id});
    return col + " IN (" + list + ")";
  };
  active_collection_ = rel;
  active_alias_ = "__data_" + rel->name + "_" + field.name + scope_.suffix;
  if (auto e = join({st.sql.quote(rel->name), active_alias_, in(active_alias_), false}, rel)) {
    return *e;
  }
  if (field.is_multi()) with_multi_match_ = true;
  mm_alias_ = "__mm_" + active_alias_;
  mm_.joins.push_back({st.sql.quote(rel->name), mm_alias_, in(mm_alias_), false});
  props_.erase(props_.begin(), props_.begin() + 3);
  return process_active_props();
}

Result<Resolved> Runner::process_body_each(const core::Field& field) {
  if (!is_multi_valuer(field)) {
    return fail("field \"" + field.name + "\" doesn't support multivalue operations");
  }
  auto& st = scope_.state;
  auto items = core::to_json(sorted_deep(to_slice(st.request.body.if_contains(field.name))));
  auto m = st.params.add(Param{items});
  auto je = "__dataEach_je_" + field.name + scope_.suffix;
  if (auto e = join({st.sql.each_param_source(m), je, "", true}, nullptr)) return *e;
  Resolved r;
  r.sql = st.sql.column(je, "value");
  r.params.push_back(Params::index_of(m));
  r.like_as_column = true;
  if (field.is_multi()) with_multi_match_ = true;
  if (with_multi_match_) {
    auto je2 = "__mm_" + je;
    mm_.joins.push_back({st.sql.each_param_source(st.params.add(Param{items})), je2, "", true});
    mm_.value = st.sql.column(je2, "value");
    r.multi_match = mm_;
  }
  return r;
}

Result<Resolved> Runner::process_body_length(const core::Field& field) {
  if (!is_multi_valuer(field)) {
    return fail("field \"" + field.name + "\" doesn't support multivalue operations");
  }
  auto& st = scope_.state;
  auto n = static_cast<std::int64_t>(to_slice(st.request.body.if_contains(field.name)).size());
  Resolved r;
  r.sql = st.params.add(Param{n});
  r.params.push_back(Params::index_of(r.sql));
  r.constant = true;
  return r;
}

Result<Resolved> Runner::process_body_lower(const core::Field& field) {
  auto& st = scope_.state;
  auto m = st.params.add(Param{cast_to_string(st.request.body.if_contains(field.name))});
  Resolved r;
  r.sql = "LOWER(" + m + ")";
  r.params.push_back(Params::index_of(m));
  r.constant = true;
  return r;
}

Result<Resolved> Runner::process_body_changed(const core::Field& field) {
  auto& st = scope_.state;
  if (st.changed_depth > 0) return fail(":changed cannot be nested");
  // PocketBase's alias: present in the body and different from the stored value.
  auto alias = "@request.body." + field.name + ":isset = true && @request.body." + field.name +
               " != " + field.name;
  ++st.changed_depth;
  Limits limits = st.options.limits;
  limits.max_length = alias.size();
  auto sub = compile_text(scope_, alias, limits);
  --st.changed_depth;
  if (const auto* e = error_of(sub)) return fail(e->message);
  Resolved r;
  r.sql = std::get<std::string>(sub);
  r.null_fallback = NullFallback::disabled;
  return r;
}

}  // namespace plinth::query::detail
