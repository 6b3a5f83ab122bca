// First run: POST /api/plinth/setup {token, email, password, passwordConfirm}
// creates the first superuser with the one-time token `plinth serve` printed.

#include "audit.hpp"
#include "common.hpp"
#include "plinth/auth/password.hpp"
#include "plinth/auth/secrets.hpp"
#include "plinth/util/strings.hpp"

namespace plinth::api::detail {

void register_setup_routes(http::Router& router, Services& s) {
  router.post(
      "/api/plinth/setup",
      [&s](http::Request& req) {
        auto body = parse_body(req);
        auto* tv = body.if_contains("token");
        std::string token = tv && tv->is_string() ? std::string(tv->get_string()) : "";
        if (token.empty()) token = req.query_param("token").value_or("");  // the printed URL
        if (!s.setup) throw http::ApiError(404);
        std::lock_guard lock(s.setup->mu);
        bool valid = !s.setup->used && !s.setup->token_sha256.empty() && !token.empty() &&
                     std::chrono::steady_clock::now() < s.setup->expires &&
                     auth::constant_time_equals(auth::sha256_hex(token), s.setup->token_sha256);
        if (!valid) {
          audit(s, req, {.event = "setup_failed", .collection = "_superusers"});
          throw http::ApiError(400, "Invalid, used or expired setup token.");
        }
        auto su = s.store.catalog()->find("_superusers");
        if (!su) throw http::ApiError(500);
        if (guard_store("", [&] {
              return s.store.list_records(*su, {.page = 1, .per_page = 1});
            }).total_items > 0) {
          s.setup->used = true;
          throw http::ApiError(400, "Invalid, used or expired setup token.");
        }
        json::object fields;
        for (const char* k : {"email", "password", "passwordConfirm"}) {
          if (auto* v = body.if_contains(k)) fields[k] = *v;
        }
        auto rec = core::apply_body(*su, nullptr, fields, {.is_create = true, .superuser = true});
        auto errors = core::validate_record(*su, rec, true);
        if (!errors.empty()) {
          throw http::ApiError(400, "Failed to create record.",
                               core::to_json(core::field_errors_json(errors)));
        }
        for (const auto& [field, plain] : rec.new_passwords)
          rec.values[field] = auth::hash_password(plain);
        guard_store("Failed to create record.", [&] {
          s.store.insert_record(*su, rec.values);
          return 0;
        });
        s.setup->used = true;
        s.setup->token_sha256.clear();
        std::string id(rec.values.at("id").as_string());
        audit(s, req, {.event = "setup", .collection = "_superusers", .record_id = id});
        json::object out;
        out["record"] =
            core::record_to_api(*su, rec.values, {.show_hidden = true, .show_email = true});
        out["token"] = issue_auth_token(*su, rec.values);
        return json_response(200, out);
      },
      {.blocking = true});
}

}  // namespace plinth::api::detail
