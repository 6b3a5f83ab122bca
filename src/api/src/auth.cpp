// Tokens and password auth (PocketBase's auth-with-password and auth-refresh).

#include <boost/json/parse.hpp>
#include <chrono>

#include "common.hpp"
#include "plinth/auth/jwt.hpp"
#include "plinth/auth/password.hpp"
#include "plinth/util/strings.hpp"

namespace plinth::api {

namespace json = boost::json;

std::string AuthContext::id() const {
  auto* v = record.if_contains("id");
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

namespace {

std::string string_at(const json::object& o, std::string_view k) {
  auto* v = o.if_contains(k);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

// options.<token>.secret and .duration of an auth collection.
std::pair<std::string, std::int64_t> token_config(const core::Collection& c,
                                                  std::string_view name) {
  auto* t = c.options.if_contains(name);
  if (!t || !t->is_object()) return {"", 0};
  std::string secret = string_at(t->get_object(), "secret");
  std::int64_t duration = 0;
  if (auto* d = t->get_object().if_contains("duration")) {
    if (d->is_int64())
      duration = d->get_int64();
    else if (d->is_double())
      duration = static_cast<std::int64_t>(d->get_double());
    else if (d->is_uint64())
      duration = static_cast<std::int64_t>(d->get_uint64());
  }
  return {secret, duration};
}

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

std::string issue_auth_token(const core::Collection& c, const json::object& record) {
  auto [secret, duration] = token_config(c, "authToken");
  if (duration <= 0) duration = 604800;
  json::object claims;
  claims["collectionId"] = c.id;
  claims["exp"] = unix_now() + duration;
  claims["id"] = string_at(record, "id");
  claims["refreshable"] = true;
  claims["type"] = "auth";
  return auth::sign_hs256(core::to_json(claims), string_at(record, "tokenKey") + secret);
}

std::optional<AuthContext> authenticate(store::Store& store, std::string_view authorization) {
  auto token = util::trim(authorization);
  if (token.size() > 7 && util::iequals(token.substr(0, 7), "Bearer "))
    token = util::trim(token.substr(7));
  auto parts = auth::decode_unverified(token);
  if (!parts) return std::nullopt;
  auto claims = core::parse_json(parts->payload_json);
  if (!claims || !claims->is_object()) return std::nullopt;
  const auto& o = claims->get_object();
  auto id = string_at(o, "id"), type = string_at(o, "type"), cid = string_at(o, "collectionId");
  if (id.empty() || cid.empty() || type != "auth") return std::nullopt;
  auto collection = store.catalog()->find(cid);
  if (!collection || collection->id != cid || !collection->is_auth()) return std::nullopt;
  std::optional<json::object> record;
  try {
    record = store.get_record(*collection, id);
  } catch (const store::StoreError&) {
    return std::nullopt;
  }
  if (!record) return std::nullopt;
  auto [secret, duration] = token_config(*collection, "authToken");
  if (!auth::verify_hs256(token, string_at(*record, "tokenKey") + secret)) return std::nullopt;
  if (auto* exp = o.if_contains("exp")) {
    double e = exp->is_int64()    ? static_cast<double>(exp->get_int64())
               : exp->is_double() ? exp->get_double()
               : exp->is_uint64() ? static_cast<double>(exp->get_uint64())
                                  : 0;
    if (e <= static_cast<double>(unix_now())) return std::nullopt;
  }
  return AuthContext{collection, std::move(*record)};
}

namespace detail {

json::object auth_response(const core::Collection& c, const json::object& record) {
  json::object out;
  out["record"] =
      core::record_to_api(c, record, {.show_hidden = c.name == "_superusers", .show_email = true});
  out["token"] = issue_auth_token(c, record);
  return out;
}

void register_auth_routes(http::Router& router, Services& s) {
  router.post(
      "/api/collections/{collection}/auth-with-password",
      [&s](http::Request& req) {
        auto c = s.store.catalog()->find(req.param("collection"));
        if (!c || !c->is_auth())
          throw http::ApiError(404, "Missing or invalid auth collection context.");
        auto* pa = c->options.if_contains("passwordAuth");
        bool enabled = pa && pa->is_object() && pa->get_object().if_contains("enabled") &&
                       pa->get_object().at("enabled").is_bool() &&
                       pa->get_object().at("enabled").get_bool();
        if (!enabled)
          throw http::ApiError(
              403, "The collection is not configured to allow password authentication.");
        auto body = parse_body(req);
        auto identity = string_at(body, "identity"), password = string_at(body, "password");
        core::FieldErrors errors;
        if (identity.empty() || identity.size() > 255)
          errors["identity"] = {"validation_required", "Cannot be blank.", {}};
        if (password.empty() || password.size() > 255)
          errors["password"] = {"validation_required", "Cannot be blank.", {}};
        if (!errors.empty()) {
          throw http::ApiError(400, "An error occurred while validating the submitted data.",
                               core::to_json(core::field_errors_json(errors)));
        }
        std::vector<std::string> identity_fields{"email"};
        if (auto* ifs = pa->get_object().if_contains("identityFields"); ifs && ifs->is_array()) {
          identity_fields.clear();
          for (const auto& f : ifs->get_array()) {
            if (f.is_string()) identity_fields.emplace_back(f.get_string());
          }
        }
        std::optional<json::object> record;
        for (const auto& field : identity_fields) {
          if (field == "email" && identity.find('@') == std::string::npos) continue;
          record = s.store.find_record_by(*c, field, identity);
          if (record) break;
        }
        std::string hash = record ? string_at(*record, "password") : std::string();
        // Verify even without a record so timing does not reveal which identities exist.
        static const std::string kDummy = auth::hash_password("plinth-dummy-password");
        bool ok = auth::verify_password(password, hash.empty() ? kDummy : hash) && record;
        if (!ok) throw http::ApiError(400, "Failed to authenticate.");
        if (auth::needs_rehash(hash)) {
          // Upgrade PocketBase's bcrypt (or weaker argon2) hashes on a successful login.
          (*record)["password"] = auth::hash_password(password);
          guard_store("Failed to authenticate.",
                      [&] { return s.store.update_record(*c, string_at(*record, "id"), *record); });
        }
        return json_response(200, auth_response(*c, *record));
      },
      {.blocking = true});

  router.post(
      "/api/collections/{collection}/auth-refresh",
      [&s](http::Request& req) {
        auto ctx = request_auth(s, req);
        if (!ctx)
          throw http::ApiError(401, "The request requires valid record authorization token.");
        auto c = s.store.catalog()->find(req.param("collection"));
        if (!c || c->id != ctx->collection->id)
          throw http::ApiError(403, "The request requires auth record from " +
                                        std::string(req.param("collection")) + " collection.");
        return json_response(200, auth_response(*ctx->collection, ctx->record));
      },
      {.blocking = true});
}

}  // namespace detail
}  // namespace plinth::api
