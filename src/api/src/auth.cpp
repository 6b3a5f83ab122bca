// Auth endpoints of auth collections (PocketBase's auth-with-password,
// auth-refresh, auth-methods, impersonate) and resolving the caller's token.

#include <algorithm>
#include <chrono>
#include <cmath>

#include "audit.hpp"
#include "common.hpp"
#include "plinth/auth/password.hpp"
#include "plinth/auth/secrets.hpp"
#include "plinth/auth/throttle.hpp"
#include "plinth/store/auth_tables.hpp"
#include "plinth/util/strings.hpp"
#include "record_tokens.hpp"

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

}  // namespace

std::string issue_auth_token(const core::Collection& c, const json::object& record) {
  return detail::issue_record_token(c, record, detail::kAuthToken, {{"refreshable", true}});
}

std::optional<AuthContext> authenticate(store::Store& store, std::string_view authorization) {
  auto token = util::trim(authorization);
  if (token.size() > 7 && util::iequals(token.substr(0, 7), "Bearer "))
    token = util::trim(token.substr(7));
  auto v = detail::verify_record_token(store, token, detail::kAuthToken);
  if (!v) return std::nullopt;
  AuthContext ctx{std::move(v->collection), std::move(v->record)};
  auto* r = v->claims.if_contains("refreshable");
  ctx.refreshable = r && r->is_bool() && r->get_bool();
  return ctx;
}

namespace detail {

namespace {

using std::chrono::milliseconds;

const json::object* options_object(const core::Collection& c, std::string_view key) {
  auto* v = c.options.if_contains(key);
  return v && v->is_object() ? &v->get_object() : nullptr;
}

bool option_enabled(const core::Collection& c, std::string_view key) {
  auto* o = options_object(c, key);
  auto* e = o ? o->if_contains("enabled") : nullptr;
  return e && e->is_bool() && e->get_bool();
}

std::int64_t option_number(const core::Collection& c, std::string_view key, std::string_view n) {
  auto* o = options_object(c, key);
  auto* d = o ? o->if_contains(n) : nullptr;
  if (!d) return 0;
  if (d->is_int64()) return d->get_int64();
  if (d->is_uint64()) return static_cast<std::int64_t>(d->get_uint64());
  if (d->is_double()) return static_cast<std::int64_t>(d->get_double());
  return 0;
}

std::vector<std::string> identity_fields(const core::Collection& c) {
  std::vector<std::string> out;
  auto* pa = options_object(c, "passwordAuth");
  auto* ifs = pa ? pa->if_contains("identityFields") : nullptr;
  if (ifs && ifs->is_array()) {
    for (const auto& f : ifs->get_array()) {
      if (f.is_string()) out.emplace_back(f.get_string());
    }
  }
  return out;
}

// authRule / manageRule live in the options (PocketBase's layout); a missing
// or null value is nullopt (superusers only).
std::optional<std::string> option_rule(const core::Collection& c, std::string_view key) {
  auto* v = c.options.if_contains(key);
  if (!v || !v->is_string()) return std::nullopt;
  return std::string(v->get_string());
}

// PocketBase looks an identity up only through a single-column unique index
// on its field; without one, an identity could name several records.
bool has_unique_index(const core::Collection& c, std::string_view field) {
  for (const auto& idx : c.indexes) {
    if (!util::iequals(idx.substr(0, std::min<std::size_t>(idx.size(), 20)),
                       "CREATE UNIQUE INDEX "))
      continue;
    auto open = idx.find('('), close = idx.find(')', open == std::string::npos ? 0 : open);
    if (open == std::string::npos || close == std::string::npos || close < open) continue;
    auto cols = util::trim(std::string_view(idx).substr(open + 1, close - open - 1));
    if (cols.find(',') != std::string_view::npos) continue;
    auto name = cols.substr(0, cols.find_first_of(" \t"));
    if (name.size() >= 2 && (name.front() == '`' || name.front() == '"' || name.front() == '['))
      name = name.substr(1, name.size() - 2);
    if (name == field) return true;
  }
  return false;
}

std::shared_ptr<const core::Collection> auth_collection(Services& s, const http::Request& req) {
  auto c = s.store.catalog()->find(req.param("collection"));
  if (!c || !c->is_auth()) throw http::ApiError(404, "Missing or invalid auth collection context.");
  return c;
}

// PocketBase checks the collection's authRule for every auth response: null
// admits only a superuser caller, "" anyone, an expression when the auth
// record matches it.
// `caller` is the request's own auth, when the handler resolved it already.
void check_auth_rule(Services& s, const http::Request& req, const core::Collection& c,
                     const json::object& record,
                     const std::optional<AuthContext>* known_caller = nullptr) {
  auto rule = option_rule(c, "authRule");
  std::optional<AuthContext> looked_up;
  if (!known_caller) looked_up = request_auth(s, req);
  const auto& caller = known_caller ? *known_caller : looked_up;
  if (caller && caller->superuser()) return;
  bool ok = false;
  if (!rule) {
    ok = false;
  } else if (rule->empty()) {
    ok = true;
  } else {
    auto meta = request_meta(req);
    auto compiled = compile_rule(s, c, *rule, request_info(caller, meta, nullptr));
    ok = compiled && guard_store("", [&] {
           return s.store.record_matches(c, string_at(record, "id"), *compiled);
         });
  }
  if (!ok)
    throw http::ApiError(
        403, "The request doesn't satisfy the collection requirements to authenticate.");
}

http::Response auth_response(const core::Collection& c, const json::object& record,
                             std::string token) {
  json::object out;
  out["record"] =
      core::record_to_api(c, record, {.show_hidden = c.name == "_superusers", .show_email = true});
  out["token"] = std::move(token);
  return json_response(200, out);
}

http::Response too_many_attempts(milliseconds wait) {
  auto seconds = std::max<std::int64_t>(1, (wait.count() + 999) / 1000);
  auto res = http::error_response(429, "Too many failed login attempts. Try again later.");
  res.headers.set("Retry-After", std::to_string(seconds));
  return res;
}

std::string lower_ascii(std::string_view s) {
  std::string out(s);
  for (auto& ch : out) {
    if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch - 'A' + 'a');
  }
  return out;
}

bool looks_like_email(std::string_view s) {
  auto at = s.find('@');
  return at != std::string_view::npos && at > 0 && at + 1 < s.size();
}

// The identity of a failed login as the audit keeps it: as typed when it names
// an account, else a digest prefix (people type passwords into the identity
// box; those must not reach the log).
std::string identity_for_audit(std::string_view identity, bool names_an_account) {
  if (names_an_account) return std::string(identity);
  return "sha256:" + auth::sha256_hex(identity).substr(0, 16);
}

http::Response auth_with_password(Services& s, http::Request& req) {
  auto c = auth_collection(s, req);
  if (!option_enabled(*c, "passwordAuth"))
    throw http::ApiError(403, "The collection is not configured to allow password authentication.");
  auto body = parse_body(req);
  auto identity = string_at(body, "identity"), password = string_at(body, "password");
  auto identity_field = string_at(body, "identityField");
  auto fields = identity_fields(*c);
  core::FieldErrors errors;
  if (identity.empty())
    errors["identity"] = {"validation_required", "Cannot be blank.", {}};
  else if (core::utf8_length(identity) > 255)
    errors["identity"] = {
        "validation_length_out_of_range", "The length must be between 1 and 255.", {}};
  if (password.empty())
    errors["password"] = {"validation_required", "Cannot be blank.", {}};
  else if (core::utf8_length(password) > 255)
    errors["password"] = {
        "validation_length_out_of_range", "The length must be between 1 and 255.", {}};
  if (!identity_field.empty() &&
      std::find(fields.begin(), fields.end(), identity_field) == fields.end())
    errors["identityField"] = {"validation_in_invalid", "Must be a valid value.", {}};
  if (!errors.empty()) {
    throw http::ApiError(400, "An error occurred while validating the submitted data.",
                         core::to_json(core::field_errors_json(errors)));
  }

  // Throttled before any hashing: a blocked client costs no CPU.
  const std::string account_key = c->id + "\n" + lower_ascii(identity);
  const std::string ip_key = req.remote_ip;
  milliseconds wait{0};
  bool first_account = false, first_ip = false;
  if (s.account_throttle)
    wait = std::max(wait, s.account_throttle->blocked_for(account_key, &first_account));
  if (s.ip_throttle) wait = std::max(wait, s.ip_throttle->blocked_for(ip_key, &first_ip));
  if (wait.count() > 0) {
    // Once per block and key, so a flood of refused attempts writes one row.
    if (first_account || first_ip) {
      audit(s, req,
            {.event = "login_throttled",
             .collection = c->name,
             .identity = identity_for_audit(identity, false),
             .detail = "{\"retryAfterMs\":" + std::to_string(wait.count()) + "}"});
    }
    return too_many_attempts(wait);
  }

  std::optional<json::object> record;
  if (!identity_field.empty()) {
    if (c->field(identity_field) && has_unique_index(*c, identity_field))
      record = s.store.find_record_by(*c, identity_field, identity);
  } else {
    // Email first, as PocketBase; skip it when the identity cannot be an email.
    std::stable_partition(fields.begin(), fields.end(),
                          [](const std::string& f) { return f == "email"; });
    for (const auto& field : fields) {
      if (field == "email" && !looks_like_email(identity)) continue;
      if (!c->field(field) || !has_unique_index(*c, field)) continue;
      record = s.store.find_record_by(*c, field, identity);
      if (record) break;
    }
  }
  std::string hash = record ? string_at(*record, "password") : std::string();
  // Verify even without a record so timing does not reveal which identities exist.
  static const std::string kDummy = auth::hash_password("plinth-dummy-password");
  bool ok = auth::verify_password(password, hash.empty() ? kDummy : hash) && record;
  if (!ok) {
    if (s.account_throttle) s.account_throttle->record_failure(account_key);
    if (s.ip_throttle) s.ip_throttle->record_failure(ip_key);
    audit(s, req,
          {.event = "login_failed",
           .collection = c->name,
           .record_id = record ? string_at(*record, "id") : "",
           .identity = identity_for_audit(identity, record.has_value())});
    throw http::ApiError(400, "Failed to authenticate.");
  }
  auto id = string_at(*record, "id");
  check_auth_rule(s, req, *c, *record);
  if (s.account_throttle) s.account_throttle->reset(account_key);
  if (auth::needs_rehash(hash)) {
    // Upgrade PocketBase's bcrypt (or weaker argon2) hashes on a successful login.
    (*record)["password"] = auth::hash_password(password);
    guard_store("Failed to authenticate.", [&] { return s.store.update_record(*c, id, *record); });
    audit(s, req, {.event = "password_rehash", .collection = c->name, .record_id = id});
  }
  audit(s, req,
        {.event = "login",
         .collection = c->name,
         .record_id = id,
         .detail = R"({"method":"password"})"});
  return auth_response(*c, *record, issue_auth_token(*c, *record));
}

constexpr std::chrono::seconds kRefreshAuditEvery{60};

http::Response auth_refresh(Services& s, http::Request& req) {
  auto ctx = request_auth(s, req);
  if (!ctx) throw http::ApiError(401, "The request requires valid record authorization token.");
  auto c = s.store.catalog()->find(req.param("collection"));
  if (!c || c->id != ctx->collection->id)
    throw http::ApiError(403, "The request requires auth record from " +
                                  std::string(req.param("collection")) + " collection.");
  check_auth_rule(s, req, *c, ctx->record, &ctx);
  std::string token;
  if (ctx->refreshable) {
    token = issue_auth_token(*c, ctx->record);
  } else {
    // Impersonation tokens are returned as they are: they never outlive their duration.
    auto h = util::trim(req.headers.get("Authorization"));
    if (h.size() > 7 && util::iequals(h.substr(0, 7), "Bearer ")) h = util::trim(h.substr(7));
    token = std::string(h);
  }
  // Refreshing is routine (clients do it on every start): audited once a minute per record.
  auto id = ctx->id();
  if (!s.auth_tables || s.auth_tables->first_in("refresh/" + c->id + "/" + id, kRefreshAuditEvery))
    audit(s, req.remote_ip, req.request_id, c->name + "/" + id,
          {.event = "refresh",
           .collection = c->name,
           .record_id = id,
           .detail = ctx->refreshable ? "{}" : R"({"refreshable":false})"});
  return auth_response(*c, ctx->record, std::move(token));
}

http::Response auth_methods(Services& s, http::Request& req) {
  auto c = auth_collection(s, req);
  json::object out;
  bool password = option_enabled(*c, "passwordAuth");
  json::array ids;
  if (password) {
    for (auto& f : identity_fields(*c)) ids.emplace_back(f);
  }
  out["password"] = json::object{{"identityFields", ids}, {"enabled", password}};
  // OAuth2 is not offered yet: no provider is listed even when configured.
  out["oauth2"] = json::object{{"providers", json::array{}}, {"enabled", false}};
  bool mfa = option_enabled(*c, "mfa"), otp = option_enabled(*c, "otp");
  out["mfa"] =
      json::object{{"enabled", mfa}, {"duration", mfa ? option_number(*c, "mfa", "duration") : 0}};
  out["otp"] =
      json::object{{"enabled", otp}, {"duration", otp ? option_number(*c, "otp", "duration") : 0}};
  // PocketBase 0.22's fields, still sent for older clients.
  out["authProviders"] = nullptr;
  bool has_username = false, has_email = false;
  for (const auto& v : ids) {
    has_username = has_username || v.as_string() == "username";
    has_email = has_email || v.as_string() == "email";
  }
  out["usernamePassword"] = has_username;
  out["emailPassword"] = has_email;
  return json_response(200, out);
}

http::Response impersonate(Services& s, http::Request& req) {
  require_superuser(s, req);
  auto c = auth_collection(s, req);
  auto record = guard_store("", [&] { return s.store.get_record(*c, req.param("id")); });
  if (!record) throw http::ApiError(404);
  auto body = parse_body(req);
  std::int64_t duration = 0;
  if (auto* d = body.if_contains("duration")) {
    bool integral = d->is_int64() || d->is_uint64() ||
                    (d->is_double() && std::floor(d->get_double()) == d->get_double() &&
                     std::abs(d->get_double()) < 1e15);
    if (!integral) throw http::ApiError(400, "An error occurred while loading the submitted data.");
    duration = d->is_int64() ? d->get_int64()
               : d->is_uint64()
                   ? static_cast<std::int64_t>(std::min<std::uint64_t>(d->get_uint64(), 1ULL << 50))
                   : static_cast<std::int64_t>(d->get_double());
    if (duration < 0) {
      throw http::ApiError(
          400, "An error occurred while validating the submitted data.",
          core::to_json(json::object{
              {"duration", json::object{{"code", "validation_min_greater_equal_than_required"},
                                        {"message", "Must be no less than 0."}}}}));
    }
  }
  // Bounded so exp stays a sane number (PocketBase accepts any int64).
  duration = std::min<std::int64_t>(duration, std::int64_t{100} * 365 * 24 * 3600);
  auto token = issue_record_token(*c, *record, kAuthToken, {{"refreshable", false}}, duration);
  audit(s, req,
        {.event = "impersonate",
         .collection = c->name,
         .record_id = string_at(*record, "id"),
         .detail = "{\"duration\":" + std::to_string(duration) + "}"});
  // No authRule check: a superuser may impersonate anyone.
  return auth_response(*c, *record, std::move(token));
}

}  // namespace

json::object auth_response(const core::Collection& c, const json::object& record) {
  json::object out;
  out["record"] =
      core::record_to_api(c, record, {.show_hidden = c.name == "_superusers", .show_email = true});
  out["token"] = issue_auth_token(c, record);
  return out;
}

void register_auth_routes(http::Router& router, Services& s) {
  const http::RouteOptions blocking{.blocking = true};
  router.post(
      "/api/collections/{collection}/auth-with-password",
      [&s](http::Request& req) { return auth_with_password(s, req); }, blocking);
  // A refresh hashes no password: it runs on a fiber runner with the record routes rather
  // than waking a pool thread of its own, as a POST that might wait for a commit would.
  router.post("/api/collections/{collection}/auth-refresh",
              [&s](http::Request& req) { return auth_refresh(s, req); },
              {.blocking = true, .cooperative = true});
  router.get(
      "/api/collections/{collection}/auth-methods",
      [&s](http::Request& req) { return auth_methods(s, req); }, blocking);
  router.post(
      "/api/collections/{collection}/impersonate/{id}",
      [&s](http::Request& req) { return impersonate(s, req); }, blocking);
}

}  // namespace detail
}  // namespace plinth::api
