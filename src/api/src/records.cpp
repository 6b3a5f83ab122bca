// Records CRUD (PocketBase's /api/collections/{collection}/records...).

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <map>
#include <set>

#include "audit.hpp"
#include "common.hpp"
#include "plinth/auth/password.hpp"
#include "plinth/auth/secrets.hpp"
#include "plinth/util/strings.hpp"

namespace plinth::api::detail {
namespace {

enum class Action { list, view, create, update, del };

std::shared_ptr<const core::Collection> collection_of(Services& s, const http::Request& req) {
  auto c = s.store.catalog()->find(req.param("collection"));
  if (!c) throw http::ApiError(404, "Missing collection context.");
  return c;
}

const std::optional<std::string>& rule_for(const core::Collection& c, Action a) {
  switch (a) {
    case Action::list: return c.list_rule;
    case Action::view: return c.view_rule;
    case Action::create: return c.create_rule;
    case Action::update: return c.update_rule;
    case Action::del: return c.delete_rule;
  }
  return c.list_rule;
}

// Access decision before the rule language exists for expressions: null rules
// are superuser-only (403), "" is public, and an expression admits only
// superusers (fail closed: list -> empty, view/update/delete -> 404, create -> 400).
enum class Access { allowed, forbidden, hidden };

std::string_view action_name(Action a) {
  switch (a) {
    case Action::list: return "list";
    case Action::view: return "view";
    case Action::create: return "create";
    case Action::update: return "update";
    case Action::del: return "delete";
  }
  return "";
}

Access check_access(const core::Collection& c, Action a, const std::optional<AuthContext>& auth,
                    const RequestMeta& meta) {
  if (auth && auth->superuser()) return Access::allowed;
  if (meta.api_key && meta.api_key->allows(c.id, action_name(a))) return Access::allowed;
  const auto& rule = rule_for(c, a);
  if (!rule) return Access::forbidden;
  if (rule->empty()) return Access::allowed;
  return Access::hidden;
}

std::int64_t int_param(const http::Request& req, std::string_view name, std::int64_t fallback) {
  auto v = req.query_param(name);
  if (!v || v->empty()) return fallback;
  std::int64_t out = 0;
  auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), out);
  if (ec != std::errc() || p != v->data() + v->size()) {
    throw http::ApiError(400, "Invalid \"" + std::string(name) + "\" query parameter.");
  }
  return out;
}

bool bool_param(const http::Request& req, std::string_view name) {
  auto v = req.query_param(name);
  if (!v || v->empty()) return false;
  static const std::set<std::string> kTrue{"1", "t", "T", "TRUE", "true", "True"};
  static const std::set<std::string> kFalse{"0", "f", "F", "FALSE", "false", "False"};
  if (kTrue.count(*v)) return true;
  if (kFalse.count(*v)) return false;
  throw http::ApiError(400, "Invalid \"" + std::string(name) + "\" query parameter.");
}

// Splits on commas outside parentheses ("a,b:excerpt(10,true)" -> 2 parts).
std::vector<std::string> split_fields(std::string_view s) {
  std::vector<std::string> out;
  std::string cur;
  int depth = 0;
  for (char ch : s) {
    if (ch == '(') ++depth;
    if (ch == ')' && depth > 0) --depth;
    if (ch == ',' && depth == 0) {
      out.emplace_back(util::trim(cur));
      cur.clear();
      continue;
    }
    cur.push_back(ch);
  }
  if (!util::trim(cur).empty()) out.emplace_back(util::trim(cur));
  return out;
}

// PocketBase's `:excerpt(max, withEllipsis)`: tags stripped, whitespace collapsed, cut at `max`
// runes.
std::string excerpt(std::string_view html, std::size_t max, bool ellipsis) {
  std::string text;
  bool in_tag = false, space = false;
  for (char ch : html) {
    if (ch == '<') {
      in_tag = true;
      continue;
    }
    if (in_tag) {
      if (ch == '>') {
        in_tag = false;
        space = true;
      }
      continue;
    }
    if (std::isspace(static_cast<unsigned char>(ch))) {
      space = true;
      continue;
    }
    if (space && !text.empty()) text.push_back(' ');
    space = false;
    text.push_back(ch);
  }
  std::size_t runes = 0, cut = text.size();
  for (std::size_t i = 0; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) == 0x80) continue;
    if (runes == max) {
      cut = i;
      break;
    }
    ++runes;
  }
  if (cut < text.size()) {
    text.resize(cut);
    while (!text.empty() && text.back() == ' ') text.pop_back();
    if (ellipsis) text += "...";
  }
  return text;
}

struct FieldPick {
  std::vector<std::string> path;                   // "expand.author.name" split at dots
  std::optional<std::pair<std::size_t, bool>> ex;  // :excerpt(max, ellipsis) on the last key
};

void pick_into(json::value& v, const std::vector<const FieldPick*>& picks, std::size_t depth);

// Keeps the keys of `o` that one of `picks` names at `depth` (`*` names every
// key); a pick that goes deeper keeps only what it names inside that value.
json::object pick_object(json::object& o, const std::vector<const FieldPick*>& picks,
                         std::size_t depth) {
  json::object out;
  for (auto& kv : o) {
    bool whole = false;
    std::optional<std::pair<std::size_t, bool>> ex;
    std::vector<const FieldPick*> deeper;
    for (const auto* p : picks) {
      const auto& seg = p->path[depth];
      if (seg != "*" && seg != kv.key()) continue;
      if (depth + 1 == p->path.size()) {
        whole = true;
        if (p->ex) ex = p->ex;
      } else {
        deeper.push_back(p);
      }
    }
    if (!whole && deeper.empty()) continue;
    if (whole) {
      if (ex && kv.value().is_string()) {
        out.emplace(kv.key(), excerpt(kv.value().get_string(), ex->first, ex->second));
      } else {
        out.emplace(kv.key(), std::move(kv.value()));
      }
      continue;
    }
    pick_into(kv.value(), deeper, depth + 1);
    out.emplace(kv.key(), std::move(kv.value()));
  }
  return out;
}

void pick_into(json::value& v, const std::vector<const FieldPick*>& picks, std::size_t depth) {
  if (v.is_object()) {
    v = pick_object(v.get_object(), picks, depth);
  } else if (v.is_array()) {
    for (auto& e : v.get_array()) pick_into(e, picks, depth);
  }
}

// `fields=a,b:excerpt(100,true),expand.author.name` keeps only those keys, as
// PocketBase: `*` is every key of its level, dots reach into nested objects
// (expanded records, arrays of them, json values).
json::object pick_fields(json::object o, const std::optional<std::string>& fields) {
  if (!fields || fields->empty()) return o;
  std::vector<FieldPick> picks;
  for (const auto& part : split_fields(*fields)) {
    std::string name = part;
    FieldPick pick;
    auto colon = part.find(':');
    if (colon != std::string::npos) {
      name = part.substr(0, colon);
      std::string mod = part.substr(colon + 1);
      if (mod.rfind("excerpt(", 0) != 0 || mod.back() != ')') {
        throw http::ApiError(400, "Invalid fields modifier \"" + mod + "\".");
      }
      auto args = util::split(std::string_view(mod).substr(8, mod.size() - 9), ',');
      std::size_t max = 0;
      auto a0 = util::trim(args[0]);
      auto [p, ec] = std::from_chars(a0.data(), a0.data() + a0.size(), max);
      if (ec != std::errc() || p != a0.data() + a0.size() || max == 0) {
        throw http::ApiError(400, "Invalid excerpt length.");
      }
      bool dots = args.size() > 1 && util::trim(args[1]) == "true";
      pick.ex = std::make_pair(max, dots);
    }
    for (auto seg : util::split(name, '.')) {
      auto t = util::trim(seg);
      if (t.empty()) throw http::ApiError(400, "Invalid fields parameter \"" + part + "\".");
      pick.path.emplace_back(t);
    }
    if (pick.path.size() > 16) throw http::ApiError(400, "Too deeply nested fields parameter.");
    picks.push_back(std::move(pick));
  }
  std::vector<const FieldPick*> refs;
  refs.reserve(picks.size());
  for (const auto& p : picks) refs.push_back(&p);
  return pick_object(o, refs, 0);
}

// What a caller sees of record `id` of `c`: hidden fields as a superuser, the email as the
// superuser or the record itself (a manager's email is managed_ids' matter).
core::ViewOptions view_options_for(const std::optional<AuthContext>& auth,
                                   const core::Collection& c, std::string_view id) {
  core::ViewOptions v;
  v.show_hidden = auth && auth->superuser();
  bool owner = auth && auth->collection->id == c.id && !id.empty() && id == auth->id();
  v.show_email = v.show_hidden || owner;
  return v;
}

core::ViewOptions view_options(const std::optional<AuthContext>& auth, const core::Collection& c,
                               const json::object& rec) {
  auto* id = rec.if_contains("id");
  return view_options_for(auth, c, id && id->is_string() ? std::string_view(id->get_string()) : "");
}

std::string id_of(const json::object& rec) {
  auto* v = rec.if_contains("id");
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

// Whether the caller could manage records of `c` through its manageRule (an auth collection
// with a rule, a signed-in caller other than a superuser): only then is the rule evaluated.
bool may_manage(const core::Collection& c, const std::optional<AuthContext>& auth) {
  if (!c.is_auth() || !auth || auth->superuser()) return false;
  auto* mr = c.options.if_contains("manageRule");
  return mr && mr->is_string() && !mr->get_string().empty();
}

// Which of `records` (of auth collection `c`) the caller manages through the
// manageRule: PocketBase shows managers their email regardless of emailVisibility.
std::set<std::string> managed_ids(Services& s, const core::Collection& c,
                                  const std::optional<AuthContext>& auth,
                                  const query::RequestInfo& ri,
                                  const std::vector<json::object>& records) {
  std::set<std::string> out;
  if (!may_manage(c, auth) || records.empty()) return out;
  auto rule = compile_rule(s, c, std::string(c.options.at("manageRule").get_string()), ri);
  if (!rule) return out;
  for (const auto& rec : records) {
    auto id = id_of(rec);
    if (!id.empty() && guard_store("", [&] { return s.store.record_matches(c, id, *rule); }))
      out.insert(id);
  }
  return out;
}

// The Store's own autonomous operations seen through the Tx interface, so one
// implementation of create/update/delete serves single requests and batches.
class StoreAsTx final : public store::Tx {
 public:
  explicit StoreAsTx(store::Store& s) : s_(s) {}
  std::optional<json::object> get_record(const core::Collection& c, std::string_view id) override {
    return s_.get_record(c, id);
  }
  void insert_record(const core::Collection& c, const json::object& v) override {
    s_.insert_record(c, v);
  }
  bool update_record(const core::Collection& c, std::string_view id,
                     const json::object& v) override {
    return s_.update_record(c, id, v);
  }
  bool delete_record(const core::Collection& c, std::string_view id) override {
    return s_.delete_record(c, id);
  }
  bool matches(const core::Collection& c, std::string_view id,
               const query::Compiled& rule) override {
    return s_.record_matches(c, id, rule);
  }
  void atomically(const std::function<void(store::Tx&)>& fn) override { s_.transaction(fn); }

 private:
  store::Store& s_;
};

constexpr int kMaxExpandDepth = 6;
constexpr std::size_t kMaxExpandPaths = 32;

std::vector<std::string> relation_ids(const json::value& v) {
  std::vector<std::string> ids;
  if (v.is_string() && !v.get_string().empty()) ids.emplace_back(v.get_string());
  if (v.is_array()) {
    for (const auto& e : v.get_array()) {
      if (e.is_string() && !e.get_string().empty()) ids.emplace_back(e.get_string());
    }
  }
  return ids;
}

void expand_records(Services& s, const core::Collection& c,
                    const std::vector<const json::object*>& raws,
                    const std::vector<json::object*>& outs, const std::vector<std::string>& paths,
                    const std::optional<AuthContext>& auth, const RequestMeta& meta, int depth);

// `comments_via_post`: the records of `comments` whose relation field `post`
// points at each record, visible to the caller (their view rule), as an array.
void expand_back_relation(Services& s, const core::Collection& c,
                          const std::vector<const json::object*>& raws,
                          const std::vector<json::object*>& outs, const std::string& key,
                          const std::string& source_name, const std::string& field_name,
                          const std::vector<std::string>& rest,
                          const std::optional<AuthContext>& auth, const RequestMeta& meta,
                          int depth) {
  auto catalog = s.store.catalog();
  auto source = catalog->find(source_name);
  if (!source || source->is_view()) return;
  const core::Field* f = source->field(field_name);
  if (!f || f->type != core::FieldType::relation || f->string_option("collectionId") != c.id)
    return;
  bool superuser = auth && auth->superuser();
  if (!superuser && !source->view_rule) return;
  auto ri = request_info(auth, meta, nullptr);
  for (std::size_t i = 0; i < raws.size(); ++i) {
    auto* idv = raws[i]->if_contains("id");
    if (!idv || !idv->is_string()) continue;
    std::string id(idv->get_string());
    if (id.find_first_of("'\\") != std::string::npos) continue;
    query::Compiler compiler(*catalog, *source, ri, {.allow_hidden = true});
    if (!superuser && !source->view_rule->empty() && compiler.add_rule(*source->view_rule))
      continue;
    if (compiler.add_filter(field_name + " ?= '" + id + "'")) continue;
    auto compiled = compiler.finish();
    auto* cq = std::get_if<query::Compiled>(&compiled);
    if (!cq) continue;
    auto found = s.store.list_records(
        *source, {.page = 1, .per_page = 1000, .skip_total = true, .compiled = *cq});
    if (found.items.empty()) continue;
    std::vector<json::object> views;
    for (const auto& rec : found.items)
      views.push_back(core::record_to_api(*source, rec, view_options(auth, *source, rec)));
    if (!rest.empty()) {
      std::vector<const json::object*> next_raws;
      std::vector<json::object*> next_outs;
      for (std::size_t k = 0; k < views.size(); ++k) {
        next_raws.push_back(&found.items[k]);
        next_outs.push_back(&views[k]);
      }
      expand_records(s, *source, next_raws, next_outs, rest, auth, meta, depth + 1);
    }
    json::array arr;
    for (auto& v : views) arr.push_back(std::move(v));
    auto& out = *outs[i];
    if (!out.contains("expand")) out["expand"] = json::object();
    out["expand"].get_object()[key] = std::move(arr);
    out = core::sorted_copy(out);
  }
}

// Expands relation paths ("author", "author.team", ...) into each API record's
// "expand" object. Every expanded record passes its own collection's view rule
// for the caller; paths that are not relations are ignored, as PocketBase does.
void expand_records(Services& s, const core::Collection& c,
                    const std::vector<const json::object*>& raws,
                    const std::vector<json::object*>& outs, const std::vector<std::string>& paths,
                    const std::optional<AuthContext>& auth, const RequestMeta& meta, int depth) {
  if (depth >= kMaxExpandDepth || raws.empty()) return;
  std::map<std::string, std::vector<std::string>> by_first;
  for (const auto& p : paths) {
    auto dot = p.find('.');
    auto& rest = by_first[p.substr(0, dot)];
    if (dot != std::string::npos) rest.push_back(p.substr(dot + 1));
  }
  auto catalog = s.store.catalog();
  bool superuser = auth && auth->superuser();
  for (const auto& [name, rest] : by_first) {
    if (auto via = name.find("_via_"); via != std::string::npos) {
      expand_back_relation(s, c, raws, outs, name, name.substr(0, via), name.substr(via + 5), rest,
                           auth, meta, depth);
      continue;
    }
    const core::Field* f = c.field(name);
    if (!f || f->type != core::FieldType::relation) continue;
    auto target = catalog->find(f->string_option("collectionId"));
    if (!target) continue;
    std::optional<query::Compiled> rule;
    if (!superuser) {
      if (!target->view_rule) continue;
      if (!target->view_rule->empty()) {
        rule = compile_rule(s, *target, *target->view_rule, request_info(auth, meta, nullptr));
        if (!rule) continue;
      }
    }
    // Fetch each distinct target once.
    std::map<std::string, std::optional<json::object>> fetched;
    for (const auto* raw : raws) {
      auto* v = raw->if_contains(name);
      if (!v) continue;
      for (const auto& id : relation_ids(*v)) {
        if (fetched.count(id)) continue;
        std::optional<json::object> rec;
        if (!rule || s.store.record_matches(*target, id, *rule))
          rec = s.store.get_record(*target, id);
        fetched[id] = std::move(rec);
      }
    }
    std::map<std::string, json::object> views;
    std::vector<const json::object*> next_raws;
    std::vector<json::object*> next_outs;
    for (auto& [id, rec] : fetched) {
      if (!rec) continue;
      views[id] = core::record_to_api(*target, *rec, view_options(auth, *target, *rec));
    }
    if (!rest.empty()) {
      for (auto& [id, view] : views) {
        next_raws.push_back(&*fetched[id]);
        next_outs.push_back(&view);
      }
      expand_records(s, *target, next_raws, next_outs, rest, auth, meta, depth + 1);
    }
    for (std::size_t i = 0; i < raws.size(); ++i) {
      auto* v = raws[i]->if_contains(name);
      if (!v) continue;
      json::value value;
      if (f->is_multi()) {
        json::array arr;
        for (const auto& id : relation_ids(*v)) {
          if (auto it = views.find(id); it != views.end()) arr.push_back(it->second);
        }
        if (arr.empty()) continue;
        value = std::move(arr);
      } else {
        auto ids = relation_ids(*v);
        if (ids.empty()) continue;
        auto it = views.find(ids.back());
        if (it == views.end()) continue;
        value = it->second;
      }
      auto& out = *outs[i];
      if (!out.contains("expand")) out["expand"] = json::object();
      out["expand"].get_object()[name] = std::move(value);
      out = core::sorted_copy(out);
    }
  }
}

std::vector<std::string> expand_paths(const http::Request& req) {
  std::vector<std::string> out;
  auto e = req.query_param("expand");
  if (!e || e->empty()) return out;
  for (auto part : util::split(*e, ',')) {
    auto t = util::trim(part);
    if (t.empty()) continue;
    if (std::count(t.begin(), t.end(), '.') >= kMaxExpandDepth)
      throw http::ApiError(400, "Expand is nested too deep (at most 6 levels).");
    out.emplace_back(t);
    if (out.size() > kMaxExpandPaths) throw http::ApiError(400, "Too many expand paths.");
  }
  return out;
}

// `expand` on a create or update response, as on a view: the written record
// is read back and its relations expanded under their view rules.
void expand_written(Services& s, const core::Collection& c, json::object& out,
                    const http::Request& req, const std::optional<AuthContext>& auth) {
  auto paths = expand_paths(req);
  if (paths.empty()) return;
  auto* id = out.if_contains("id");
  if (!id || !id->is_string()) return;
  auto meta = request_meta(s, req);
  guard_store("", [&] {
    auto rec = s.store.get_record(c, id->get_string());
    if (rec) expand_records(s, c, {&*rec}, {&out}, paths, auth, meta, 0);
    return 0;
  });
}

}  // namespace

json::object select_fields(json::object o, const std::optional<std::string>& fields) {
  return pick_fields(std::move(o), fields);
}

core::ViewOptions record_view_options(const std::optional<AuthContext>& auth,
                                      const core::Collection& c, const json::object& rec) {
  return view_options(auth, c, rec);
}

void expand_record(Services& s, const core::Collection& c, const json::object& raw,
                   json::object& out, const std::vector<std::string>& paths,
                   const std::optional<AuthContext>& auth, const RequestMeta& meta) {
  expand_records(s, c, {&raw}, {&out}, paths, auth, meta, 0);
}

void register_record_routes(http::Router& router, Services& s) {
  const http::RouteOptions blocking{.blocking = true};
  // Writes wait for their group commit on a fiber: the pool thread serves others meanwhile.
  const http::RouteOptions writes{.blocking = true, .cooperative = true};

  router.get(
      "/api/collections/{collection}/records",
      [&s](http::Request& req) {
        // The page's JSON lives in a per-request arena: no frees, one allocation per block.
        RequestArena arena;
        auto c = collection_of(s, req);
        auto auth = request_auth(s, req);
        auto meta = request_meta(s, req);
        auto access = check_access(*c, Action::list, auth, meta);
        if (access == Access::forbidden)
          throw http::ApiError(403, "Only superusers can perform this action.");
        store::ListQuery q;
        q.storage = arena.storage();
        q.page = std::max<std::int64_t>(1, int_param(req, "page", 1));
        q.per_page = int_param(req, "perPage", 30);
        if (q.per_page <= 0) q.per_page = 30;
        if (q.per_page > 1000) q.per_page = 1000;
        q.skip_total = bool_param(req, "skipTotal");
        bool superuser = auth && auth->superuser();
        auto filter = req.query_param("filter").value_or("");
        auto sort = req.query_param("sort").value_or("");
        if (!superuser) {
          for (const auto* text : {&filter, &sort}) {
            if (text->find("@collection.") != std::string::npos)
              throw http::ApiError(403, "Only superusers can filter by @collection.");
            if (text->find("@request.") != std::string::npos)
              throw http::ApiError(403, "Only superusers can filter by @request.");
          }
        }
        auto ri = request_info(auth, meta, nullptr);
        auto catalog = s.store.catalog();
        query::Compiler compiler(*catalog, *c, ri, {.allow_hidden = superuser});
        auto fail = [](const query::Error& e) {
          return http::ApiError(400, "Invalid filter or sort: " + e.message + " (at position " +
                                         std::to_string(e.position) + ").");
        };
        if (access == Access::hidden) {
          if (auto e = compiler.add_rule(*c->list_rule)) {
            s.logger.write(observe::LogLine(observe::Level::warn, "list rule does not compile")
                               .str("collection", c->name)
                               .str("error", e->message));
            throw http::ApiError(403, "Only superusers can perform this action.");
          }
        }
        if (!filter.empty()) {
          if (auto e = compiler.add_filter(filter)) throw fail(*e);
        }
        if (!sort.empty()) {
          if (auto e = compiler.add_sort(sort)) throw fail(*e);
        }
        auto compiled = compiler.finish();
        if (auto* e = std::get_if<query::Error>(&compiled)) throw fail(*e);
        q.compiled = std::move(std::get<query::Compiled>(compiled));
        auto r = guard_store("Something went wrong while processing your request.",
                             [&] { return s.store.list_records(*c, q); });
        auto fields = req.query_param("fields");
        std::vector<json::object> views;
        views.reserve(r.items.size());
        auto managed = managed_ids(s, *c, auth, ri, r.items);
        auto paths = expand_paths(req);
        for (auto& rec : r.items) {
          auto vo = view_options(auth, *c, rec);
          vo.show_email = vo.show_email || managed.count(id_of(rec));
          // Expand still reads the stored values; without it they can be moved out.
          views.push_back(paths.empty() ? core::record_to_api(*c, std::move(rec), vo, q.storage)
                                        : core::record_to_api(*c, rec, vo, q.storage));
        }
        if (!paths.empty()) {
          std::vector<const json::object*> raws;
          std::vector<json::object*> outs;
          for (std::size_t i = 0; i < views.size(); ++i) {
            raws.push_back(&r.items[i]);
            outs.push_back(&views[i]);
          }
          guard_store("", [&] {
            expand_records(s, *c, raws, outs, paths, auth, meta, 0);
            return 0;
          });
        }
        json::array items(q.storage);
        items.reserve(views.size());
        for (auto& v : views) items.push_back(pick_fields(std::move(v), fields));
        json::object out(q.storage);
        out["items"] = std::move(items);
        out["page"] = q.page;
        out["perPage"] = q.per_page;
        out["totalItems"] = r.total_items;
        out["totalPages"] = r.total_items < 0 ? -1 : (r.total_items + q.per_page - 1) / q.per_page;
        return json_response(200, out);
      },
      blocking);

  router.get(
      "/api/collections/{collection}/records/{id}",
      [&s](http::Request& req) {
        RequestArena arena;
        auto c = collection_of(s, req);
        auto auth = request_auth(s, req);
        auto meta = request_meta(s, req);
        auto access = check_access(*c, Action::view, auth, meta);
        if (access == Access::forbidden)
          throw http::ApiError(403, "Only superusers can perform this action.");
        if (access == Access::hidden) {
          auto rule = compile_rule(s, *c, *c->view_rule, request_info(auth, meta, nullptr));
          if (!rule ||
              !guard_store("", [&] { return s.store.record_matches(*c, req.param("id"), *rule); }))
            throw http::ApiError(404);
        }
        auto fields = req.query_param("fields");
        auto expand = req.query_param("expand");
        if ((!fields || fields->empty()) && (!expand || expand->empty()) && !may_manage(*c, auth)) {
          // The plain view, the most frequent read: its JSON is written straight from the row.
          auto id = req.param("id");
          std::string body;
          body.reserve(512);
          if (!guard_store("", [&] {
                return s.store.write_api_record(*c, id, view_options_for(auth, *c, id), body);
              }))
            throw http::ApiError(404);
          body.push_back('\n');
          return http::Response::json(200, std::move(body));
        }
        auto rec = guard_store(
            "", [&] { return s.store.get_record(*c, req.param("id"), arena.storage()); });
        if (!rec) throw http::ApiError(404);
        auto vo = view_options(auth, *c, *rec);
        vo.show_email =
            vo.show_email ||
            (c->is_auth() &&
             !managed_ids(s, *c, auth, request_info(auth, meta, nullptr), {*rec}).empty());
        auto paths = expand_paths(req);
        auto view = paths.empty() ? core::record_to_api(*c, std::move(*rec), vo, arena.storage())
                                  : core::record_to_api(*c, *rec, vo, arena.storage());
        if (!paths.empty()) {
          guard_store("", [&] {
            expand_records(s, *c, {&*rec}, {&view}, paths, auth, meta, 0);
            return 0;
          });
        }
        return json_response(200, pick_fields(std::move(view), fields));
      },
      blocking);

  router.post(
      "/api/collections/{collection}/records",
      [&s](http::Request& req) {
        RequestArena arena;  // the body, the record and its API JSON
        auto c = collection_of(s, req);
        auto auth = request_auth(s, req);
        auto body = parse_body(req, arena.storage());
        StoreAsTx ops(s.store);
        auto out = create_record(s, ops, *c, auth, request_meta(s, req), body, arena.storage());
        expand_written(s, *c, out, req, auth);
        return json_response(200, pick_fields(std::move(out), req.query_param("fields")));
      },
      writes);

  router.patch(
      "/api/collections/{collection}/records/{id}",
      [&s](http::Request& req) {
        auto c = collection_of(s, req);
        auto auth = request_auth(s, req);
        auto body = parse_body(req);
        StoreAsTx ops(s.store);
        auto out = update_record(s, ops, *c, auth, request_meta(s, req), req.param("id"), body);
        expand_written(s, *c, out, req, auth);
        return json_response(200, pick_fields(std::move(out), req.query_param("fields")));
      },
      writes);

  router.del(
      "/api/collections/{collection}/records/{id}",
      [&s](http::Request& req) {
        auto c = collection_of(s, req);
        auto auth = request_auth(s, req);
        StoreAsTx ops(s.store);
        delete_record(s, ops, *c, auth, request_meta(s, req), req.param("id"));
        return no_content();
      },
      writes);
}

json::object create_record(Services& s, store::Tx& ops, const core::Collection& c,
                           const std::optional<AuthContext>& auth, const RequestMeta& meta,
                           const json::object& body, const json::storage_ptr& sp) {
  if (c.is_view()) throw http::ApiError(400, "Unsupported collection type.");
  auto access = check_access(c, Action::create, auth, meta);
  if (access == Access::forbidden)
    throw http::ApiError(403, "Only superusers can perform this action.");
  auto rec = core::apply_body(c, nullptr, body,
                              {.is_create = true, .superuser = auth && auth->superuser()}, sp);
  auto errors = core::validate_record(c, rec, true);
  if (!errors.empty()) {
    throw http::ApiError(400, "Failed to create record.",
                         core::to_json(core::field_errors_json(errors)));
  }
  std::optional<query::Compiled> rule;
  if (access == Access::hidden) {
    // The rule sees the would-be record: it is inserted, checked, and rolled
    // back in the same transaction when it does not match.
    auto ri = request_info(auth, meta, &body);
    rule = compile_rule(s, c, *c.create_rule, ri);
    if (!rule) throw http::ApiError(400, "Failed to create record.");
  }
  for (const auto& [field, plain] : rec.new_passwords)
    rec.values[field] = auth::hash_password(plain);
  std::string id(rec.values.at("id").as_string());
  guard_store("Failed to create record.", [&] {
    ops.atomically([&](store::Tx& tx) {
      tx.insert_record(c, rec.values);
      if (rule && !tx.matches(c, id, *rule)) throw http::ApiError(400, "Failed to create record.");
    });
    return 0;
  });
  auto vo = view_options(auth, c, rec.values);
  return core::record_to_api(c, std::move(rec.values), vo, sp);
}

namespace {

// PocketBase's manageRule: an auth collection's callers matching it change
// other records' email, verified and password without knowing the old one.
bool is_manager(Services& s, store::Tx& ops, const core::Collection& c,
                const std::optional<AuthContext>& auth, const RequestMeta& meta,
                std::string_view id, const json::object& body) {
  if (!c.is_auth() || !auth) return false;
  auto* v = c.options.if_contains("manageRule");
  if (!v || !v->is_string() || v->get_string().empty()) return false;
  auto rule = compile_rule(s, c, std::string(v->get_string()), request_info(auth, meta, &body));
  return rule && guard_store("", [&] { return ops.matches(c, id, *rule); });
}

std::string text_of(const json::object& o, std::string_view k) {
  auto* v = o.if_contains(k);
  if (!v) return {};
  if (v->is_string()) return std::string(v->get_string());
  return core::to_json(*v);
}

// A password change by anyone but a manager needs the current password.
void check_old_password(const json::object& existing, const json::object& body,
                        core::FieldErrors& errors) {
  if (text_of(body, "password").empty() && text_of(body, "passwordConfirm").empty()) return;
  auto old = text_of(body, "oldPassword");
  auto hash = text_of(existing, "password");
  if (old.empty()) {
    errors["oldPassword"] = {"validation_required", "Cannot be blank.", {}};
  } else if (hash.empty() || !auth::verify_password(old, hash)) {
    errors["oldPassword"] = {
        "validation_invalid_old_password", "Missing or invalid old password.", {}};
  }
}

}  // namespace

json::object update_record(Services& s, store::Tx& ops, const core::Collection& c,
                           const std::optional<AuthContext>& auth, const RequestMeta& meta,
                           std::string_view id, const json::object& body) {
  if (c.is_view()) throw http::ApiError(400, "Unsupported collection type.");
  auto access = check_access(c, Action::update, auth, meta);
  if (access == Access::forbidden)
    throw http::ApiError(403, "Only superusers can perform this action.");
  if (access == Access::hidden) {
    auto rule = compile_rule(s, c, *c.update_rule, request_info(auth, meta, &body));
    if (!rule || !guard_store("", [&] { return ops.matches(c, id, *rule); }))
      throw http::ApiError(404);
  }
  auto existing = guard_store("", [&] { return ops.get_record(c, id); });
  if (!existing) throw http::ApiError(404);
  if (auto* bid = body.if_contains("id"); bid && !(bid->is_string() && bid->get_string() == id)) {
    throw http::ApiError(
        400, "Failed to update record.",
        core::to_json(json::object{
            {"id", json::object{{"code", "validation_pk_change"},
                                {"message", "The record primary key cannot be changed."}}}}));
  }
  bool superuser = auth && auth->superuser();
  bool manager = !superuser && is_manager(s, ops, c, auth, meta, id, body);
  auto rec = core::apply_body(c, &*existing, body,
                              {.is_create = false, .superuser = superuser, .manager = manager});
  if (c.is_auth() && !superuser && !manager) check_old_password(*existing, body, rec.errors);
  auto errors = core::validate_record(c, rec, false);
  if (!errors.empty()) {
    throw http::ApiError(400, "Failed to update record.",
                         core::to_json(core::field_errors_json(errors)));
  }
  for (const auto& [field, plain] : rec.new_passwords)
    rec.values[field] = auth::hash_password(plain);
  // As PocketBase, a new password or email signs every earlier token out.
  if (c.is_auth()) {
    auto* old_email = existing->if_contains("email");
    auto* new_email = rec.values.if_contains("email");
    bool email_changed = new_email && (!old_email || *old_email != *new_email);
    if (rec.new_passwords.count("password") || email_changed)
      rec.values["tokenKey"] = auth::random_token_key(50);
  }
  bool found =
      guard_store("Failed to update record.", [&] { return ops.update_record(c, id, rec.values); });
  if (!found) throw http::ApiError(404);
  if (c.is_auth() && rec.new_passwords.count("password"))
    audit(s, meta, auth, {.event = "password_change", .collection = c.name, .record_id = id});
  if (c.is_auth() && rec.values.if_contains("email") && existing->if_contains("email") &&
      rec.values.at("email") != existing->at("email"))
    audit(s, meta, auth, {.event = "email_change", .collection = c.name, .record_id = id});
  auto view = view_options(auth, c, rec.values);
  view.show_email = view.show_email || manager;  // managers see emails, as PocketBase
  return core::record_to_api(c, rec.values, view);
}

void delete_record(Services& s, store::Tx& ops, const core::Collection& c,
                   const std::optional<AuthContext>& auth, const RequestMeta& meta,
                   std::string_view id) {
  if (c.is_view()) throw http::ApiError(400, "Unsupported collection type.");
  auto access = check_access(c, Action::del, auth, meta);
  if (access == Access::forbidden)
    throw http::ApiError(403, "Only superusers can perform this action.");
  if (access == Access::hidden) {
    auto rule = compile_rule(s, c, *c.delete_rule, request_info(auth, meta, nullptr));
    if (!rule || !guard_store("", [&] { return ops.matches(c, id, *rule); }))
      throw http::ApiError(404);
  }
  if (c.name == "_superusers") {
    auto all = guard_store("", [&] { return s.store.list_records(c, {.page = 1, .per_page = 2}); });
    if (all.total_items <= 1)
      throw http::ApiError(400, "You can't delete the only existing superuser.");
  }
  bool found = guard_store(
      "Failed to delete record. Make sure that the record is not part of a required "
      "relation reference.",
      [&] { return ops.delete_record(c, id); });
  if (!found) throw http::ApiError(404);
}

}  // namespace plinth::api::detail
