// Mail-based account flows on auth collections: PocketBase's
// request-/confirm-verification, request-/confirm-password-reset and
// request-/confirm-email-change; and the registration of every account route.

#include <algorithm>
#include <cctype>
#include <map>
#include <memory>

#include "account_flows.hpp"
#include "plinth/auth/password.hpp"
#include "plinth/auth/secrets.hpp"
#include "plinth/core/datetime.hpp"
#include "plinth/mail/message.hpp"
#include "plinth/mail/outbox.hpp"
#include "plinth/mail/smtp.hpp"
#include "plinth/mail/templates.hpp"
#include "plinth/util/random.hpp"

namespace plinth::api {
namespace detail::account {

constexpr std::string_view kSuperusersVerified = "All superusers are verified by default.";
constexpr std::string_view kSuperusersChangeEmail =
    "All superusers can change their emails directly.";

void register_verification(http::Router& router, const std::shared_ptr<State>& st) {
  router.post("/api/collections/{collection}/request-verification",
              [st](http::Request& req) {
                auto& s = st->s;
                auto c = auth_collection(s, req, kSuperusersVerified);
                auto email = email_from(req);
                check_outbox_room(*st);
                auto record = s.store.find_record_by(*c, "email", email);
                // 204 whatever happens next: the answer must not reveal which emails exist.
                if (!record || flag(*record, "verified")) return no_content();
                auto key = guard_key("verification", *c, *record);
                if (!st->cooldowns.try_acquire(key, st->options.resend_guard)) return no_content();
                guarded(st->cooldowns, key, [&] {
                  auto token = issue_account_token(*c, *record, kVerificationToken);
                  queue_mail(s, st->outbox,
                             build_mail(s, *c, *record, "verificationTemplate",
                                        {{"{TOKEN}", token}}, str(*record, "email")));
                });
                return no_content();
              },
              {.blocking = true});

  router.post(
      "/api/collections/{collection}/confirm-verification",
      [st](http::Request& req) {
        auto& s = st->s;
        auto c = auth_collection(s, req, kSuperusersVerified);
        auto body = parse_body(req);
        auto token = str(body, "token");
        core::FieldErrors errors;
        std::optional<VerifiedToken> vt;
        if (token.empty()) {
          errors["token"] = {"validation_required", "Cannot be blank.", {}};
        } else if (auto email = str(token_claims(token), "email"); email.empty()) {
          errors["token"] = {"validation_invalid_token_claims", "Missing email token claim.", {}};
        } else if (vt = verify_record_token(s.store, token, kVerificationToken); !vt) {
          errors["token"] = {"validation_invalid_token", "Invalid or expired token.", {}};
        } else if (vt->collection->id != c->id) {
          errors["token"] = {"validation_token_collection_mismatch",
                             "The provided token is for different auth collection.",
                             {}};
        } else if (str(vt->record, "email") != email) {
          errors["token"] = {"validation_token_email_mismatch",
                             "The record email doesn't match with the requested token claims.",
                             {}};
        }
        if (!errors.empty()) invalid(errors);
        auto& record = vt->record;
        if (!flag(record, "verified")) {
          record["verified"] = true;
          // Without password auth, a verified account must not keep a password
          // someone may have set before the owner proved the address (PocketBase).
          if (!flag(section(c->options, "passwordAuth"), "enabled")) set_random_password(record);
          save(s, *c, record, "An error occurred while saving the verified state.");
        }
        st->cooldowns.clear(guard_key("verification", *c, record));
        return no_content();
      },
      {.blocking = true});
}

void register_password_reset(http::Router& router, const std::shared_ptr<State>& st) {
  router.post("/api/collections/{collection}/request-password-reset",
              [st](http::Request& req) {
                auto& s = st->s;
                auto c = auth_collection(s, req);
                if (!flag(section(c->options, "passwordAuth"), "enabled"))
                  throw http::ApiError(
                      400, "The collection is not configured to allow password authentication.");
                auto email = email_from(req);
                check_outbox_room(*st);
                auto record = s.store.find_record_by(*c, "email", email);
                if (!record) return no_content();
                auto key = guard_key("passwordReset", *c, *record);
                if (!st->cooldowns.try_acquire(key, st->options.resend_guard)) return no_content();
                guarded(st->cooldowns, key, [&] {
                  auto token = issue_account_token(*c, *record, kPasswordResetToken);
                  queue_mail(s, st->outbox,
                             build_mail(s, *c, *record, "resetPasswordTemplate",
                                        {{"{TOKEN}", token}}, str(*record, "email")));
                });
                return no_content();
              },
              {.blocking = true});

  router.post(
      "/api/collections/{collection}/confirm-password-reset",
      [st](http::Request& req) {
        auto& s = st->s;
        auto c = auth_collection(s, req);
        auto body = parse_body(req);
        auto token = str(body, "token"), password = str(body, "password"),
             confirm = str(body, "passwordConfirm");
        core::FieldErrors errors;
        std::optional<VerifiedToken> vt;
        if (token.empty()) {
          errors["token"] = {"validation_required", "Cannot be blank.", {}};
        } else if (vt = verify_record_token(s.store, token, kPasswordResetToken); !vt) {
          errors["token"] = {"validation_invalid_token", "Invalid or expired token.", {}};
        } else if (vt->collection->id != c->id) {
          errors["token"] = {"validation_token_collection_mismatch",
                             "The provided token is for different auth collection.",
                             {}};
        }
        if (password.empty()) {
          errors["password"] = {"validation_required", "Cannot be blank.", {}};
        } else if (const auto* pf = c->field("password")) {
          // As PocketBase: the form's length check (the field's min up to 255
          // characters), then the password field's own rules as on any save.
          auto min = std::max<std::int64_t>(1, int_option(pf->raw, "min", 1));
          auto len = static_cast<std::int64_t>(core::utf8_length(password));
          if (len < min || len > 255) {
            errors["password"] = {"validation_length_out_of_range",
                                  "The length must be between " + std::to_string(min) + " and 255.",
                                  {}};
          } else if (auto e = core::validate_password(*pf, password)) {
            errors["password"] = std::move(*e);
          }
        }
        if (confirm.empty()) {
          errors["passwordConfirm"] = {"validation_required", "Cannot be blank.", {}};
        } else if (confirm != password) {
          errors["passwordConfirm"] = {"validation_values_mismatch", "Values don't match.", {}};
        }
        if (!errors.empty()) invalid(errors);
        auto& record = vt->record;
        const std::string used_key = str(record, "tokenKey");
        record["password"] = auth::hash_password(password);
        // A new tokenKey signs every earlier token of this record out, this
        // reset token included: it works once.
        record["tokenKey"] = auth::random_token_key(50);
        if (!flag(record, "verified") && same_email(str(record, "email"), str(vt->claims, "email")))
          record["verified"] = true;
        save(s, *c, record, "Failed to set new password.", used_key);
        st->cooldowns.clear(guard_key("passwordReset", *c, record));
        return no_content();
      },
      {.blocking = true});
}

void register_email_change(http::Router& router, const std::shared_ptr<State>& st) {
  router.post(
      "/api/collections/{collection}/request-email-change",
      [st](http::Request& req) {
        auto& s = st->s;
        auto c = auth_collection(s, req, kSuperusersChangeEmail);
        auto ctx = request_auth(s, req);
        if (!ctx) throw http::ApiError(401, "The request requires valid auth record.");
        if (ctx->collection->id != c->id)
          throw http::ApiError(403,
                               "The request requires auth record from " + c->name + " collection.");
        auto body = parse_body(req);
        auto new_email = str(body, "newEmail");
        core::FieldErrors errors;
        check_email(errors, "newEmail", new_email);
        if (errors.empty()) {
          if (new_email == str(ctx->record, "email")) {
            errors["newEmail"] = {"validation_not_in_invalid", "Must not be in list.", {}};
          } else if (auto other = s.store.find_record_by(*c, "email", new_email);
                     other && str(*other, "id") != ctx->id()) {
            errors["newEmail"] = {"validation_invalid_new_email", "Invalid new email address.", {}};
          }
        }
        if (!errors.empty()) invalid(errors);
        check_outbox_room(*st);
        // One mail per record per guard period, like the other request-* routes.
        auto key = guard_key("emailChange", *c, ctx->record);
        if (!st->cooldowns.try_acquire(key, st->options.resend_guard)) return no_content();
        guarded(st->cooldowns, key, [&] {
          auto token =
              issue_account_token(*c, ctx->record, kEmailChangeToken, {{"newEmail", new_email}});
          queue_mail(s, st->outbox,
                     build_mail(s, *c, ctx->record, "confirmEmailChangeTemplate",
                                {{"{TOKEN}", token}}, new_email));
        });
        return no_content();
      },
      {.blocking = true});

  router.post("/api/collections/{collection}/confirm-email-change",
              [st](http::Request& req) {
                auto& s = st->s;
                auto c = auth_collection(s, req, kSuperusersChangeEmail);
                auto body = parse_body(req);
                auto token = str(body, "token"), password = str(body, "password");
                core::FieldErrors errors;
                std::optional<VerifiedToken> vt;
                std::string new_email = str(token_claims(token), "newEmail");
                if (token.empty()) {
                  errors["token"] = {"validation_required", "Cannot be blank.", {}};
                } else if (new_email.empty()) {
                  errors["token"] = {"validation_invalid_token_payload",
                                     "Invalid token payload - newEmail must be set.",
                                     {}};
                } else if (vt = verify_record_token(s.store, token, kEmailChangeToken); !vt) {
                  errors["token"] = {"validation_invalid_token", "Invalid or expired token.", {}};
                } else if (vt->collection->id != c->id) {
                  errors["token"] = {"validation_token_collection_mismatch",
                                     "The provided token is for different auth collection.",
                                     {}};
                } else if (s.store.find_record_by(*c, "email", new_email)) {
                  errors["token"] = {
                      "validation_invalid_token_email", "The new email address is invalid.", {}};
                }
                if (password.empty()) {
                  errors["password"] = {"validation_required", "Cannot be blank.", {}};
                } else if (password.size() > 100 || !vt || !errors.empty() ||
                           !auth::verify_password(password, str(vt->record, "password"))) {
                  errors["password"] = {"validation_invalid_password",
                                        "Missing or invalid auth record password.",
                                        {}};
                }
                if (!errors.empty()) invalid(errors);
                auto& record = vt->record;
                const std::string used_key = str(record, "tokenKey");
                record["email"] = new_email;
                record["verified"] = true;
                // PocketBase renews the tokenKey when the email changes: old sessions
                // and this token stop working.
                record["tokenKey"] = auth::random_token_key(50);
                save(s, *c, record, "Failed to confirm email change.", used_key);
                st->cooldowns.clear(guard_key("emailChange", *c, record));
                return no_content();
              },
              {.blocking = true});
}

}  // namespace detail::account

void register_account_routes(http::Router& router, Services& services, mail::Outbox& outbox,
                             AccountOptions options) {
  std::shared_ptr<detail::account::State> st(
      new detail::account::State{services, outbox, options, {}, {}});
  detail::account::register_verification(router, st);
  detail::account::register_password_reset(router, st);
  detail::account::register_email_change(router, st);
  detail::account::register_otp(router, st);
  detail::account::register_test_email(router, st);
  detail::account::register_outbox_state(router, st);
  outbox.set_housekeeping([&services](std::int64_t now_ms) {
    auto removed = detail::account::delete_expired_otps(services, now_ms);
    if (removed > 0)
      services.logger.write(observe::LogLine(observe::Level::info, "expired OTPs deleted")
                                .num("count", static_cast<std::int64_t>(removed)));
  });
}

}  // namespace plinth::api
