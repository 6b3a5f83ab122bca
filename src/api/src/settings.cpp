// GET/PATCH /api/settings (superusers): PocketBase's settings object, secrets masked.

#include "common.hpp"
#include "plinth/api/trusted_proxy.hpp"
#include "plinth/mail/message.hpp"

namespace plinth::api::detail {
namespace {

void erase_path(json::object& o, std::initializer_list<std::string_view> path) {
  json::object* cur = &o;
  auto it = path.begin();
  for (; std::next(it) != path.end(); ++it) {
    auto* next = cur->if_contains(*it);
    if (!next || !next->is_object()) return;
    cur = &next->get_object();
  }
  core::erase_stable(*cur, *it);
}

json::object masked(json::object s) {
  erase_path(s, {"smtp", "password"});
  erase_path(s, {"s3", "secret"});
  erase_path(s, {"backups", "s3", "secret"});
  return s;
}

// Merges `patch` into `base`: objects recursively, everything else replaced.
// Unknown top-level keys are ignored, as PocketBase does.
void merge(json::object& base, const json::object& patch, bool top) {
  for (const auto& kv : patch) {
    auto* cur = base.if_contains(kv.key());
    if (!cur) {
      if (!top) base[kv.key()] = kv.value();
      continue;
    }
    if (cur->is_object() && kv.value().is_object()) {
      merge(cur->get_object(), kv.value().get_object(), false);
    } else {
      *cur = kv.value();
    }
  }
}

json::object leaf(std::string code, std::string message) {
  return {{"code", std::move(code)}, {"message", std::move(message)}};
}

std::string str(const json::object& o, std::string_view k) {
  auto* v = o.if_contains(k);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

json::object validate(const json::object& s) {
  json::object errors;
  json::object meta_errors;
  const json::object* meta = s.if_contains("meta") ? s.at("meta").if_object() : nullptr;
  if (!meta) {
    errors["meta"] = leaf("validation_required", "Cannot be blank.");
  } else {
    auto app_name = str(*meta, "appName");
    if (app_name.empty())
      meta_errors["appName"] = leaf("validation_required", "Cannot be blank.");
    else if (app_name.size() > 255)
      meta_errors["appName"] =
          leaf("validation_length_out_of_range", "The length must be between 1 and 255.");
    auto url = str(*meta, "appURL");
    if (url.empty())
      meta_errors["appURL"] = leaf("validation_required", "Cannot be blank.");
    else if (url.find("://") == std::string::npos)
      meta_errors["appURL"] = leaf("validation_is_url", "Must be a valid URL.");
    if (str(*meta, "senderName").empty())
      meta_errors["senderName"] = leaf("validation_required", "Cannot be blank.");
    auto sender = str(*meta, "senderAddress");
    if (sender.empty())
      meta_errors["senderAddress"] = leaf("validation_required", "Cannot be blank.");
    else if (!mail::valid_address(sender))
      meta_errors["senderAddress"] = leaf("validation_is_email", "Must be a valid email address.");
  }
  if (!meta_errors.empty()) errors["meta"] = std::move(meta_errors);
  auto check_int = [&](std::string_view section, std::string_view key, std::int64_t min) {
    const json::object* sec = s.if_contains(section) ? s.at(section).if_object() : nullptr;
    if (!sec) return;
    auto* v = sec->if_contains(key);
    if (!v) return;
    bool ok = (v->is_int64() && v->get_int64() >= min) || (v->is_uint64()) ||
              (v->is_double() && v->get_double() >= static_cast<double>(min) &&
               v->get_double() == static_cast<double>(static_cast<std::int64_t>(v->get_double())));
    if (!ok) {
      auto& sec_errors = errors[section];
      if (!sec_errors.is_object()) sec_errors = json::object();
      sec_errors.get_object()[key] = leaf("validation_min_greater_equal_than_required",
                                          "Must be no less than " + std::to_string(min) + ".");
    }
  };
  if (const auto* tp = s.if_contains("trustedProxy")) {
    json::object tp_errors;
    const json::object* o = tp->if_object();
    const auto* headers = o ? o->if_contains("headers") : nullptr;
    if (headers && !headers->is_null()) {
      bool ok = headers->is_array();
      if (ok) {
        for (const auto& h : headers->get_array()) {
          // A header name: an HTTP token.
          ok = ok && h.is_string() && !h.get_string().empty() && h.get_string().size() <= 255 &&
               std::all_of(h.get_string().begin(), h.get_string().end(), [](char c) {
                 return std::isalnum(static_cast<unsigned char>(c)) ||
                        std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
               });
        }
      }
      if (!ok) tp_errors["headers"] = leaf("validation_invalid_value", "Invalid value.");
    }
    const auto* leftmost = o ? o->if_contains("useLeftmostIP") : nullptr;
    if (leftmost && !leftmost->is_bool() && !leftmost->is_null())
      tp_errors["useLeftmostIP"] = leaf("validation_invalid_value", "Invalid value.");
    if (!o) tp_errors["headers"] = leaf("validation_invalid_value", "Invalid value.");
    if (!tp_errors.empty()) errors["trustedProxy"] = std::move(tp_errors);
  }
  check_int("batch", "maxRequests", 0);
  check_int("batch", "timeout", 0);
  check_int("batch", "maxBodySize", 0);
  check_int("smtp", "port", 0);
  if (const json::object* smtp = s.if_contains("smtp") ? s.at("smtp").if_object() : nullptr) {
    json::object smtp_errors;
    auto* enabled = smtp->if_contains("enabled");
    auto host = str(*smtp, "host");
    if (enabled && enabled->is_bool() && enabled->get_bool() && host.empty())
      smtp_errors["host"] = leaf("validation_required", "Cannot be blank.");
    else if (host.find_first_of(" \t\r\n/@") != std::string::npos)
      smtp_errors["host"] = leaf("validation_is_host", "Must be a valid hostname or IP address.");
    auto method = str(*smtp, "authMethod");
    if (!method.empty() && method != "PLAIN" && method != "LOGIN")
      smtp_errors["authMethod"] = leaf("validation_in_invalid", "Must be a valid value.");
    if (str(*smtp, "localName").find_first_of(" \t\r\n/@") != std::string::npos)
      smtp_errors["localName"] =
          leaf("validation_is_host", "Must be a valid hostname or IP address.");
    if (!smtp_errors.empty()) {
      auto& sec = errors["smtp"];
      if (!sec.is_object()) sec = json::object();
      for (auto& kv : smtp_errors) sec.get_object()[kv.key()] = kv.value();
    }
  }
  check_int("logs", "maxDays", 0);
  return errors;
}

}  // namespace

void register_settings_routes(http::Router& router, Services& s) {
  router.get("/api/settings",
             [&s](http::Request& req) {
               require_superuser(s, req);
               return json_response(200, masked(s.store.settings()));
             },
             {.blocking = true});

  router.patch("/api/settings",
               [&s](http::Request& req) {
                 require_superuser(s, req);
                 auto patch = parse_body(req);
                 auto next = s.store.settings();
                 merge(next, patch, true);
                 auto errors = validate(next);
                 if (!errors.empty()) {
                   throw http::ApiError(400, "An error occurred while saving the new settings.",
                                        core::to_json(errors));
                 }
                 guard_store("An error occurred while saving the new settings.", [&] {
                   s.store.save_settings(next);
                   return 0;
                 });
                 if (s.trusted_proxy) s.trusted_proxy->configure(next);
                 return json_response(200, masked(s.store.settings()));
               },
               {.blocking = true});
}

}  // namespace plinth::api::detail
