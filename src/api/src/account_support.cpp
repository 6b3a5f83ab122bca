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

}  // namespace

std::string issue_account_token(const core::Collection& c, const json::object& record,
                                TokenKind kind, const json::object& extra) {
  json::object claims = extra;
  claims["email"] = str(record, "email");
  return issue_record_token(c, record, kind, claims, token_duration(c, kind.option) > 0 ? 0 : 1800);
}

json::object token_claims(std::string_view token) {
  auto parts = auth::decode_unverified(token);
  if (!parts) return {};
  auto v = core::parse_json(parts->payload_json);
  if (!v || !v->is_object()) return {};
  return v->get_object();
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
