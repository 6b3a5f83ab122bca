// API keys for machines (beyond PocketBase): superusers create, list and
// revoke them; a key is shown once, stored as its SHA-256 digest, scoped to
// collections and record actions. Also the audit log listing.

#include <algorithm>

#include "audit.hpp"
#include "common.hpp"
#include "plinth/auth/secrets.hpp"
#include "plinth/core/datetime.hpp"
#include "plinth/store/auth_tables.hpp"
#include "plinth/util/random.hpp"
#include "plinth/util/strings.hpp"

namespace plinth::api::detail {

namespace {

constexpr std::string_view kKeyPrefix = "plk_";
constexpr std::size_t kKeySecretChars = 43;  // [A-Za-z0-9]: 43 x 5.95 bits > 256 bits
constexpr std::size_t kShownPrefix = 12;
constexpr std::size_t kMaxScopes = 100;
const std::set<std::string> kActions{"list", "view", "create", "update", "delete"};

std::string_view bearer_value(const http::Request& req) {
  auto h = util::trim(req.headers.get("Authorization"));
  if (h.size() > 7 && util::iequals(h.substr(0, 7), "Bearer ")) h = util::trim(h.substr(7));
  return h;
}

store::AuthTables& tables(Services& s) {
  if (!s.auth_tables) throw http::ApiError(503, "API keys are not available on this server.");
  return *s.auth_tables;
}

http::ApiError invalid(json::object data) {
  return http::ApiError(400, "An error occurred while validating the submitted data.",
                        core::to_json(data));
}

json::object leaf(std::string_view code, std::string_view message) {
  return json::object{{"code", code}, {"message", message}};
}

// Scopes as stored: [{"collection":"<id>","actions":[...]}], collections
// resolved by id or name, actions deduplicated in a fixed order.
json::array parse_scopes(Services& s, const json::value* v) {
  if (!v || !v->is_array() || v->get_array().empty())
    throw invalid({{"scopes", leaf("validation_required", "Cannot be blank.")}});
  if (v->get_array().size() > kMaxScopes)
    throw invalid({{"scopes", leaf("validation_length_too_long", "Too many scopes.")}});
  auto catalog = s.store.catalog();
  json::array out;
  std::set<std::string> seen;
  for (std::size_t i = 0; i < v->get_array().size(); ++i) {
    const auto& item = v->get_array()[i];
    auto bad = [&](std::string_view field, std::string_view code, std::string_view msg) {
      return invalid(
          {{"scopes", json::object{{std::to_string(i), json::object{{field, leaf(code, msg)}}}}}});
    };
    if (!item.is_object()) throw bad("collection", "validation_required", "Cannot be blank.");
    const auto& o = item.get_object();
    auto* cv = o.if_contains("collection");
    if (!cv || !cv->is_string() || cv->get_string().empty())
      throw bad("collection", "validation_required", "Cannot be blank.");
    auto c = catalog->find(cv->get_string());
    if (!c) throw bad("collection", "validation_missing_collection", "Missing collection.");
    if (!seen.insert(c->id).second)
      throw bad("collection", "validation_duplicated", "The collection is listed twice.");
    auto* av = o.if_contains("actions");
    if (!av || !av->is_array() || av->get_array().empty())
      throw bad("actions", "validation_required", "Cannot be blank.");
    std::set<std::string> acts;
    for (const auto& a : av->get_array()) {
      if (!a.is_string() || !kActions.count(std::string(a.get_string())))
        throw bad("actions", "validation_in_invalid",
                  "Each action must be one of list, view, create, update, delete.");
      acts.insert(std::string(a.get_string()));
    }
    json::array ordered;
    for (const char* a : {"list", "view", "create", "update", "delete"}) {
      if (acts.count(a)) ordered.emplace_back(a);
    }
    out.push_back(json::object{{"collection", c->id}, {"actions", std::move(ordered)}});
  }
  return out;
}

// API shape of a key row; scopes name collections by id and current name.
json::object key_json(Services& s, const store::ApiKeyRow& r) {
  auto catalog = s.store.catalog();
  json::array scopes;
  if (auto v = core::parse_json(r.scopes); v && v->is_array()) {
    for (auto item : v->get_array()) {
      if (!item.is_object()) continue;
      auto& o = item.get_object();
      auto* cid = o.if_contains("collection");
      auto c = cid && cid->is_string() ? catalog->find(cid->get_string()) : nullptr;
      o["collectionName"] = c ? c->name : std::string();
      scopes.push_back(std::move(item));
    }
  }
  return json::object{{"id", r.id},           {"name", r.name},
                      {"prefix", r.prefix},   {"scopes", std::move(scopes)},
                      {"created", r.created}, {"lastUsed", r.last_used}};
}

}  // namespace

bool ApiKeyGrant::allows(std::string_view collection_id, std::string_view action) const {
  auto it = actions.find(std::string(collection_id));
  return it != actions.end() && it->second.count(std::string(action));
}

std::shared_ptr<const ApiKeyGrant> api_key_of(Services& s, const http::Request& req) {
  auto key = bearer_value(req);
  if (!s.auth_tables || key.size() != kKeyPrefix.size() + kKeySecretChars ||
      key.substr(0, kKeyPrefix.size()) != kKeyPrefix)
    return nullptr;
  auto row = s.auth_tables->find_api_key_by_hash(auth::sha256_hex(key));
  if (!row) return nullptr;
  auto grant = std::make_shared<ApiKeyGrant>();
  grant->id = row->id;
  grant->name = row->name;
  if (auto v = core::parse_json(row->scopes); v && v->is_array()) {
    for (const auto& item : v->get_array()) {
      if (!item.is_object()) continue;
      auto* c = item.get_object().if_contains("collection");
      auto* a = item.get_object().if_contains("actions");
      if (!c || !c->is_string() || !a || !a->is_array()) continue;
      auto& set = grant->actions[std::string(c->get_string())];
      for (const auto& x : a->get_array()) {
        if (x.is_string()) set.insert(std::string(x.get_string()));
      }
    }
  }
  try {
    if (s.auth_tables->note_api_key_use(row->id, core::now_datetime()))
      audit(s, req.remote_ip, req.request_id, "apikey/" + row->id,
            {.event = "apikey_use", .detail = core::to_json(json::object{{"name", row->name}})});
  } catch (const std::exception&) {
    // lastUsed is informational: a failed write must not fail the request.
  }
  return grant;
}

RequestMeta request_meta(Services& s, const http::Request& req) {
  auto m = request_meta(req);
  m.api_key = api_key_of(s, req);
  return m;
}

void register_api_key_routes(http::Router& router, Services& s) {
  const http::RouteOptions blocking{.blocking = true};
  router.post(
      "/api/plinth/api-keys",
      [&s](http::Request& req) {
        require_superuser(s, req);
        auto& t = tables(s);
        auto body = parse_body(req);
        auto* name = body.if_contains("name");
        if (!name || !name->is_string() || util::trim(name->get_string()).empty())
          throw invalid({{"name", leaf("validation_required", "Cannot be blank.")}});
        if (name->get_string().size() > 100)
          throw invalid({{"name", leaf("validation_length_out_of_range",
                                       "The length must be between 1 and 100.")}});
        auto scopes = parse_scopes(s, body.if_contains("scopes"));
        std::string key = std::string(kKeyPrefix) + auth::random_token_key(kKeySecretChars);
        store::ApiKeyRow row{util::random_id(15),
                             std::string(util::trim(name->get_string())),
                             key.substr(0, kShownPrefix),
                             auth::sha256_hex(key),
                             core::to_json(scopes),
                             core::now_datetime(),
                             ""};
        t.insert_api_key(row);
        audit(s, req,
              {.event = "apikey_create",
               .detail = core::to_json(json::object{{"keyId", row.id}, {"name", row.name}})});
        auto out = key_json(s, row);
        out["key"] = key;  // the only time the key is ever shown
        return json_response(200, out);
      },
      blocking);
  router.get(
      "/api/plinth/api-keys",
      [&s](http::Request& req) {
        require_superuser(s, req);
        json::array items;
        for (const auto& r : tables(s).list_api_keys()) items.push_back(key_json(s, r));
        return json_response(200, json::object{{"items", std::move(items)}});
      },
      blocking);
  router.del(
      "/api/plinth/api-keys/{id}",
      [&s](http::Request& req) {
        require_superuser(s, req);
        std::string id(req.param("id"));
        if (!tables(s).delete_api_key(id)) throw http::ApiError(404);
        audit(s, req,
              {.event = "apikey_revoke", .detail = core::to_json(json::object{{"keyId", id}})});
        return no_content();
      },
      blocking);
  router.get(
      "/api/plinth/audit",
      [&s](http::Request& req) {
        require_superuser(s, req);
        std::int64_t limit = 100;
        if (auto v = req.query_param("limit"); v && !v->empty()) {
          try {
            std::size_t used = 0;
            limit = std::stoll(*v, &used);
            if (used != v->size()) throw std::invalid_argument("limit");
          } catch (const std::exception&) {
            throw http::ApiError(400, "Invalid \"limit\" query parameter.");
          }
        }
        limit = std::clamp<std::int64_t>(limit, 1, 1000);
        json::array items;
        for (const auto& e : tables(s).list_audit(limit, req.query_param("event").value_or(""))) {
          auto detail = core::parse_json(e.detail);
          items.push_back(json::object{{"id", e.id},
                                       {"created", e.created},
                                       {"event", e.event},
                                       {"collection", e.collection},
                                       {"recordId", e.record_id},
                                       {"actor", e.actor},
                                       {"ip", e.ip},
                                       {"detail", detail ? *detail : json::object{}}});
        }
        return json_response(200, json::object{{"items", std::move(items)}});
      },
      blocking);
}

}  // namespace plinth::api::detail
