#include "auth_options.hpp"

#include <string>
#include <string_view>

#include "plinth/core/collection.hpp"

namespace plinth::api::detail {
namespace json = boost::json;

namespace {

constexpr std::int64_t kMinTokenDuration = 10;
constexpr std::int64_t kMaxTokenDuration = 94670856;  // ~3 years, as PocketBase
constexpr std::int64_t kMinOtpDuration = 10;
constexpr std::int64_t kMaxOtpDuration = 86400;
constexpr std::int64_t kMinOtpLength = 4;
constexpr std::int64_t kMaxOtpLength = 64;

json::object leaf(std::string code, std::string message) {
  return {{"code", std::move(code)}, {"message", std::move(message)}};
}

// Go's json.Unmarshal into an existing value: objects merge, the rest is replaced.
void merge_into(json::value& into, const json::value& given) {
  if (into.is_object() && given.is_object()) {
    auto& o = into.get_object();
    for (const auto& kv : given.get_object()) {
      if (auto* cur = o.if_contains(kv.key()))
        merge_into(*cur, kv.value());
      else
        o[kv.key()] = kv.value();
    }
    return;
  }
  into = given;
}

std::optional<std::int64_t> integer(const json::object& o, std::string_view k) {
  auto* v = o.if_contains(k);
  if (!v) return std::nullopt;
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64()) return static_cast<std::int64_t>(v->get_uint64());
  if (v->is_double() &&
      v->get_double() == static_cast<double>(static_cast<std::int64_t>(v->get_double())))
    return static_cast<std::int64_t>(v->get_double());
  return std::nullopt;
}

// Adds errors for a {subject, body} template.
void check_template(const json::value* t, json::object& out) {
  const json::object* o = t ? t->if_object() : nullptr;
  for (const char* part : {"subject", "body"}) {
    auto* v = o ? o->if_contains(part) : nullptr;
    if (!v || !v->is_string() || v->get_string().empty())
      out[part] = leaf("validation_required", "Cannot be blank.");
  }
}

void check_range(const json::object& o, std::string_view key, std::int64_t min, std::int64_t max,
                 json::object& out) {
  auto n = integer(o, key);
  if (!n || *n < min)
    out[key] = leaf("validation_min_greater_equal_than_required",
                    "Must be no less than " + std::to_string(min) + ".");
  else if (*n > max)
    out[key] = leaf("validation_max_less_equal_than_required",
                    "Must be no greater than " + std::to_string(max) + ".");
}

}  // namespace

json::object apply_auth_options(const json::object& current, const json::object& body,
                                json::object& errors) {
  // Keys an older data directory lacks come from the defaults.
  const auto defaults = core::default_auth_options();
  json::value merged = defaults;
  merge_into(merged, current);
  auto options = std::move(merged.get_object());
  // A damaged stored token option (not an object) starts over from the
  // default, with a new secret.
  for (auto& kv : options) {
    if (kv.key().ends_with("Token") && !kv.value().is_object()) {
      if (auto* d = defaults.if_contains(kv.key()); d && d->is_object())
        kv.value() = *d;
      else
        kv.value() = json::object{};
    }
  }
  for (auto& kv : options) {
    auto* given = body.if_contains(kv.key());
    if (!given) continue;
    if (given->is_null()) {
      // As Go's json.Unmarshal: null leaves an object option as it is, and
      // sets a nullable value (authRule, manageRule: null = superusers only).
      if (!kv.value().is_object() && !kv.key().ends_with("Token")) kv.value() = nullptr;
      continue;
    }
    bool token = kv.key().ends_with("Token");
    if ((kv.value().is_object() || token) && !given->is_object()) {
      errors[kv.key()] = leaf("validation_invalid_value", "Must be an object.");
      continue;
    }
    if (token) {
      if (auto* d = given->get_object().if_contains("duration"))
        kv.value().get_object()["duration"] = *d;
      continue;
    }
    merge_into(kv.value(), *given);
  }

  for (const char* name :
       {"verificationTemplate", "resetPasswordTemplate", "confirmEmailChangeTemplate"}) {
    json::object e;
    check_template(options.if_contains(name), e);
    if (!e.empty()) errors[name] = std::move(e);
  }
  for (auto& kv : options) {
    if (!kv.key().ends_with("Token") || !kv.value().is_object()) continue;
    json::object e;
    check_range(kv.value().get_object(), "duration", kMinTokenDuration, kMaxTokenDuration, e);
    if (!e.empty()) errors[kv.key()] = std::move(e);
  }
  if (auto* otp = options.if_contains("otp"); otp && otp->is_object()) {
    const auto& o = otp->get_object();
    auto* enabled = o.if_contains("enabled");
    if (enabled && enabled->is_bool() && enabled->get_bool()) {
      json::object e;
      check_range(o, "duration", kMinOtpDuration, kMaxOtpDuration, e);
      check_range(o, "length", kMinOtpLength, kMaxOtpLength, e);
      json::object t;
      check_template(o.if_contains("emailTemplate"), t);
      if (!t.empty()) e["emailTemplate"] = std::move(t);
      if (!e.empty()) errors["otp"] = std::move(e);
    }
  }
  return options;
}

}  // namespace plinth::api::detail
