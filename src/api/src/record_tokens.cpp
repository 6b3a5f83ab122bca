#include "record_tokens.hpp"

#include <chrono>
#include <cmath>
#include <stdexcept>

#include "plinth/auth/jwt.hpp"
#include "plinth/core/json.hpp"

namespace plinth::api::detail {

namespace json = boost::json;

namespace {

std::string string_at(const json::object& o, std::string_view k) {
  auto* v = o.if_contains(k);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

std::optional<double> number_at(const json::object& o, std::string_view k) {
  auto* v = o.if_contains(k);
  if (!v) return std::nullopt;
  if (v->is_int64()) return static_cast<double>(v->get_int64());
  if (v->is_uint64()) return static_cast<double>(v->get_uint64());
  if (v->is_double() && std::isfinite(v->get_double())) return v->get_double();
  return std::nullopt;
}

const json::object* option_object(const core::Collection& c, std::string_view option) {
  auto* t = c.options.if_contains(option);
  return t && t->is_object() ? &t->get_object() : nullptr;
}

// The only JOSE header members accepted. Key-selection members (kid, jwk, jku,
// x5u, x5c) would let a token pick its own key, and `crit` demands extensions
// this verifier does not implement: tokens carrying any of them are refused.
bool header_acceptable(std::string_view header_json) {
  // The header every PocketBase and Plinth token carries, byte for byte: no parse needed.
  if (header_json == R"({"alg":"HS256","typ":"JWT"})") return true;
  auto v = core::parse_json(header_json);
  if (!v || !v->is_object()) return false;
  const auto& h = v->get_object();
  for (const auto& kv : h) {
    if (kv.key() == "alg") {
      if (!kv.value().is_string() || kv.value().get_string() != "HS256") return false;
    } else if (kv.key() == "typ") {
      if (!kv.value().is_string() || kv.value().get_string() != "JWT") return false;
    } else {
      return false;
    }
  }
  return h.contains("alg");
}

}  // namespace

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string token_secret(const core::Collection& c, std::string_view option) {
  auto* o = option_object(c, option);
  return o ? string_at(*o, "secret") : std::string();
}

std::int64_t token_duration(const core::Collection& c, std::string_view option) {
  auto* o = option_object(c, option);
  if (!o) return 0;
  auto d = number_at(*o, "duration");
  return d ? static_cast<std::int64_t>(*d) : 0;
}

std::string issue_record_token(const core::Collection& c, const json::object& record,
                               TokenKind kind, const json::object& extra, std::int64_t duration) {
  std::string key = string_at(record, "tokenKey") + token_secret(c, kind.option);
  if (key.empty()) throw std::runtime_error("missing token signing key");
  if (duration <= 0) duration = token_duration(c, kind.option);
  if (duration <= 0) duration = 604800;
  json::object claims = extra;
  claims["collectionId"] = c.id;
  claims["exp"] = unix_now() + duration;
  claims["id"] = string_at(record, "id");
  claims["type"] = kind.type;
  return auth::sign_hs256(core::to_json(core::sorted_copy(claims)), key);
}

std::optional<VerifiedToken> verify_record_token(store::Store& store, std::string_view token,
                                                 TokenKind kind) {
  auto parts = auth::decode_unverified(token);
  if (!parts || !header_acceptable(parts->header_json)) return std::nullopt;
  auto claims = core::parse_json(parts->payload_json);
  if (!claims || !claims->is_object()) return std::nullopt;
  auto& o = claims->get_object();
  auto id = string_at(o, "id"), cid = string_at(o, "collectionId");
  if (id.empty() || cid.empty() || string_at(o, "type") != kind.type) return std::nullopt;
  auto now = static_cast<double>(unix_now());
  auto exp = number_at(o, "exp");
  if (!exp || *exp <= now) return std::nullopt;
  if (o.contains("nbf")) {
    auto nbf = number_at(o, "nbf");
    if (!nbf || *nbf > now) return std::nullopt;
  }
  auto collection = store.catalog()->find(cid);
  if (!collection || collection->id != cid || !collection->is_auth()) return std::nullopt;
  std::optional<json::object> record;
  try {
    record = store.get_record(*collection, id);
  } catch (const store::StoreError&) {
    return std::nullopt;
  }
  if (!record) return std::nullopt;
  auto key = string_at(*record, "tokenKey") + token_secret(*collection, kind.option);
  if (!auth::verify_hs256(*parts, key)) return std::nullopt;
  return VerifiedToken{std::move(collection), std::move(*record), std::move(o)};
}

}  // namespace plinth::api::detail
