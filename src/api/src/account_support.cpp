#include "account_support.hpp"

#include "plinth/auth/jwt.hpp"
#include "plinth/core/json.hpp"

namespace plinth::api::detail {
namespace json = boost::json;

namespace {

// Entries kept before expired ones are swept.
constexpr std::size_t kMaxEntriesBeforeSweep = 10000;

std::string str(const json::object& o, std::string_view k) {
  auto* v = o.if_contains(k);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

std::optional<double> number(const json::object& o, std::string_view k) {
  auto* v = o.if_contains(k);
  if (!v) return std::nullopt;
  if (v->is_int64()) return static_cast<double>(v->get_int64());
  if (v->is_uint64()) return static_cast<double>(v->get_uint64());
  if (v->is_double()) return v->get_double();
  return std::nullopt;
}

std::pair<std::string, std::int64_t> token_option(const core::Collection& c,
                                                  std::string_view name) {
  auto* t = c.options.if_contains(name);
  if (!t || !t->is_object()) return {"", 0};
  auto d = number(t->get_object(), "duration");
  return {str(t->get_object(), "secret"), d ? static_cast<std::int64_t>(*d) : 0};
}

}  // namespace

std::int64_t unix_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string issue_record_token(const core::Collection& c, const json::object& record,
                               std::string_view type, std::string_view secret_option,
                               const json::object& extra) {
  auto [secret, duration] = token_option(c, secret_option);
  if (duration <= 0) duration = 1800;
  json::object claims;
  claims["collectionId"] = c.id;
  claims["email"] = str(record, "email");
  claims["exp"] = unix_seconds() + duration;
  claims["id"] = str(record, "id");
  for (const auto& kv : extra) claims[kv.key()] = kv.value();
  claims["type"] = type;
  return auth::sign_hs256(core::to_json(claims), str(record, "tokenKey") + secret);
}

json::object token_claims(std::string_view token) {
  auto parts = auth::decode_unverified(token);
  if (!parts) return {};
  auto v = core::parse_json(parts->payload_json);
  if (!v || !v->is_object()) return {};
  return v->get_object();
}

std::optional<VerifiedToken> verify_record_token(store::Store& store, std::string_view token,
                                                 std::string_view type,
                                                 std::string_view secret_option) {
  auto claims = token_claims(token);
  if (claims.empty() || str(claims, "type") != type) return std::nullopt;
  auto id = str(claims, "id"), cid = str(claims, "collectionId");
  if (id.empty() || cid.empty()) return std::nullopt;
  auto collection = store.catalog()->find(cid);
  if (!collection || collection->id != cid || !collection->is_auth()) return std::nullopt;
  std::optional<json::object> record;
  try {
    record = store.get_record(*collection, id);
  } catch (const store::StoreError&) {
    return std::nullopt;
  }
  if (!record) return std::nullopt;
  auto [secret, duration] = token_option(*collection, secret_option);
  if (!auth::verify_hs256(token, str(*record, "tokenKey") + secret)) return std::nullopt;
  auto now = static_cast<double>(unix_seconds());
  auto exp = number(claims, "exp");
  if (!exp || *exp <= now) return std::nullopt;
  if (claims.contains("nbf")) {
    auto nbf = number(claims, "nbf");
    if (!nbf || *nbf > now) return std::nullopt;
  }
  return VerifiedToken{std::move(collection), std::move(*record), std::move(claims)};
}

bool Cooldowns::try_acquire(const std::string& key, std::chrono::seconds for_how_long) {
  std::lock_guard lock(mu_);
  auto now = std::chrono::steady_clock::now();
  if (auto it = until_.find(key); it != until_.end() && it->second > now) return false;
  if (until_.size() >= kMaxEntriesBeforeSweep) prune(now);
  until_[key] = now + for_how_long;
  return true;
}

void Cooldowns::clear(const std::string& key) {
  std::lock_guard lock(mu_);
  until_.erase(key);
}

void Cooldowns::prune(std::chrono::steady_clock::time_point now) {
  for (auto it = until_.begin(); it != until_.end();) {
    it = it->second <= now ? until_.erase(it) : std::next(it);
  }
}

bool WindowLimiter::hit(const std::string& key, int max, std::chrono::seconds window) {
  std::lock_guard lock(mu_);
  auto now = std::chrono::steady_clock::now();
  if (slots_.size() >= kMaxEntriesBeforeSweep) {
    for (auto it = slots_.begin(); it != slots_.end();) {
      it = now - it->second.start >= window ? slots_.erase(it) : std::next(it);
    }
  }
  auto& slot = slots_[key];
  if (slot.count == 0 || now - slot.start >= window) slot = {now, 0};
  return ++slot.count <= max;
}

}  // namespace plinth::api::detail
