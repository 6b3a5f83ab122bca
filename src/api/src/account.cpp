// Mail-based account flows on auth collections (PocketBase's request-* /
// confirm-* endpoints, request-otp and auth-with-otp) and the outbox state.

#include "plinth/api/account.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <memory>

#include "account_support.hpp"
#include "common.hpp"
#include "plinth/auth/password.hpp"
#include "plinth/auth/secrets.hpp"
#include "plinth/core/datetime.hpp"
#include "plinth/mail/message.hpp"
#include "plinth/mail/outbox.hpp"
#include "plinth/mail/smtp.hpp"
#include "plinth/mail/templates.hpp"
#include "plinth/util/random.hpp"

namespace plinth::api {
namespace detail {

// Defined in auth.cpp: {"record": ..., "token": ...}.
json::object auth_response(const core::Collection& c, const json::object& record);

namespace {

constexpr std::string_view kValidationFailed =
    "An error occurred while validating the submitted data.";

std::string str(const json::object& o, std::string_view k) {
  auto* v = o.if_contains(k);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

bool flag(const json::object& o, std::string_view k) {
  auto* v = o.if_contains(k);
  return v && v->is_bool() && v->get_bool();
}

const json::object& section(const json::object& o, std::string_view k) {
  static const json::object kEmpty;
  auto* v = o.if_contains(k);
  return v && v->is_object() ? v->get_object() : kEmpty;
}

std::int64_t int_option(const json::object& o, std::string_view k, std::int64_t fallback) {
  auto* v = o.if_contains(k);
  if (!v) return fallback;
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64()) return static_cast<std::int64_t>(v->get_uint64());
  if (v->is_double()) return static_cast<std::int64_t>(v->get_double());
  return fallback;
}

[[noreturn]] void invalid(const core::FieldErrors& errors) {
  throw http::ApiError(400, std::string(kValidationFailed),
                       core::to_json(core::field_errors_json(errors)));
}

std::shared_ptr<const core::Collection> auth_collection(Services& s, const http::Request& req) {
  auto c = s.store.catalog()->find(req.param("collection"));
  if (!c || !c->is_auth()) throw http::ApiError(404, "Missing or invalid auth collection context.");
  return c;
}

bool email_format(std::string_view e) {
  if (!mail::valid_address(e)) return false;
  auto at = e.rfind('@');
  auto domain = e.substr(at + 1);
  return domain.find('.') != std::string_view::npos && domain.front() != '.' &&
         domain.back() != '.';
}

// Checks an email form value; adds the error under `field`.
void check_email(core::FieldErrors& errors, const std::string& field, const std::string& value) {
  if (value.empty()) {
    errors[field] = {"validation_required", "Cannot be blank.", {}};
  } else if (value.size() > 255) {
    errors[field] = {"validation_length_out_of_range", "The length must be between 1 and 255.", {}};
  } else if (!email_format(value)) {
    errors[field] = {"validation_is_email", "Must be a valid email address.", {}};
  }
}

void touch(const core::Collection& c, json::object& record) {
  if (c.field("updated")) record["updated"] = core::now_datetime();
}

// PocketBase's SetRandomPassword: an unknown password and a new tokenKey.
void set_random_password(json::object& record) {
  record["password"] = auth::hash_password(util::random_alnum_secure(30));
  record["tokenKey"] = auth::random_token_key(50);
}

// Writes `record` back. With `expected_token_key`, the write happens only if
// the stored tokenKey is still that one (checked inside the write
// transaction), so two concurrent uses of one token cannot both succeed.
void save(Services& s, const core::Collection& c, json::object& record, std::string_view failure,
          const std::string& expected_token_key = {}) {
  touch(c, record);
  auto id = str(record, "id");
  guard_store(failure, [&] {
    s.store.transaction([&](store::Tx& tx) {
      if (!expected_token_key.empty()) {
        auto current = tx.get_record(c, id);
        if (!current || str(*current, "tokenKey") != expected_token_key) {
          throw http::ApiError(
              400, std::string(kValidationFailed),
              core::to_json(
                  json::object{{"token", json::object{{"code", "validation_invalid_token"},
                                                      {"message", "Invalid or expired token."}}}}));
        }
      }
      tx.update_record(c, id, record);
    });
    return 0;
  });
}

// The template at `path` of the collection's options, or the default one.
mail::Template template_of(const core::Collection& c, std::string_view path) {
  if (auto t = mail::template_at(c.options, path)) return *t;
  if (auto t = mail::template_at(core::default_auth_options(), path)) return *t;
  return {"{APP_NAME}", "{TOKEN}"};
}

mail::Message build_mail(Services& s, const core::Collection& c, const json::object& record,
                         std::string_view template_path, const mail::Placeholders& extra,
                         const std::string& to) {
  auto settings = s.store.settings();
  auto values = mail::record_placeholders(settings, c, record);
  for (const auto& [k, v] : extra) values[k] = v;
  auto rendered = mail::render(template_of(c, template_path), values);
  mail::Message m;
  m.from = mail::sender_from_settings(settings);
  m.to.push_back({"", to});
  m.subject = std::move(rendered.subject);
  m.html = std::move(rendered.html);
  m.text = mail::html_to_text(m.html);
  return m;
}

// Queues one message in its own transaction.
void queue_mail(Services& s, mail::Outbox& outbox, const mail::Message& m) {
  guard_store("Failed to queue the email.", [&] {
    s.store.transaction([&](store::Tx& tx) { mail::Outbox::enqueue(tx, m); });
    return 0;
  });
  outbox.notify();
}

struct State {
  Services& s;
  mail::Outbox& outbox;
  AccountOptions options;
  Cooldowns cooldowns;
  WindowLimiter otp_attempts;
};

std::string guard_key(std::string_view kind, const core::Collection& c, const json::object& r) {
  return std::string(kind) + ":" + c.id + ":" + str(r, "id");
}

// The form's email, validated (400 otherwise).
std::string email_from(const http::Request& req, std::string_view field = "email") {
  auto body = parse_body(req);
  auto email = str(body, field);
  core::FieldErrors errors;
  check_email(errors, std::string(field), email);
  if (!errors.empty()) invalid(errors);
  return email;
}

std::shared_ptr<const core::Collection> otps_collection(Services& s) {
  auto c = s.store.catalog()->find("_otps");
  if (!c) throw http::ApiError(500, "The _otps collection is missing.");
  return c;
}

// Unexpired OTPs of a record, newest first.
std::vector<json::object> recent_otps(Services& s, const core::Collection& otps,
                                      const core::Collection& c, const std::string& record_id,
                                      std::int64_t duration_s) {
  query::RequestInfo ri;
  query::CompileOptions opts{.allow_hidden = true};
  auto cat = s.store.catalog();
  // Ids are [A-Za-z0-9_]; anything else cannot be an OTP owner.
  auto plain = [](const std::string& v) {
    return !v.empty() && std::all_of(v.begin(), v.end(), [](char ch) {
      return std::isalnum(static_cast<unsigned char>(ch)) || ch == '_';
    });
  };
  if (!plain(c.id) || !plain(record_id)) return {};
  auto quote = [](const std::string& v) { return "'" + v + "'"; };
  auto compiled =
      query::compile("collectionRef = " + quote(c.id) + " && recordRef = " + quote(record_id), *cat,
                     otps, ri, opts);
  auto sorted = query::compile_sort("-created", *cat, otps, ri, opts);
  if (!std::holds_alternative<query::Compiled>(compiled) ||
      !std::holds_alternative<query::Compiled>(sorted))
    throw http::ApiError(500, "Failed to fetch previous record OTPs.");
  auto q = std::get<query::Compiled>(std::move(compiled));
  q.order_by = std::get<query::Compiled>(sorted).order_by;
  q.order_params = std::get<query::Compiled>(sorted).order_params;
  auto list = s.store.list_records(
      otps, {.page = 1, .per_page = 100, .skip_total = true, .compiled = std::move(q)});
  std::vector<json::object> out;
  auto now_ms = static_cast<std::int64_t>(unix_seconds()) * 1000;
  for (auto& o : list.items) {
    auto created = core::parse_datetime_ms(str(o, "created"));
    if (created && *created + duration_s * 1000 > now_ms) out.push_back(std::move(o));
  }
  return out;
}

std::string random_digits(std::size_t n) {
  std::string out;
  while (out.size() < n) {
    unsigned char b = 0;
    util::secure_random(&b, 1);
    if (b < 250) out += static_cast<char>('0' + b % 10);  // no modulo bias
  }
  return out;
}

void register_verification(http::Router& router, const std::shared_ptr<State>& st) {
  router.post(
      "/api/collections/{collection}/request-verification",
      [st](http::Request& req) {
        auto& s = st->s;
        auto c = auth_collection(s, req);
        if (c->name == "_superusers")
          throw http::ApiError(400, "All superusers are verified by default.");
        auto email = email_from(req);
        auto record = s.store.find_record_by(*c, "email", email);
        // 204 whatever happens next: the answer must not reveal which emails exist.
        if (!record || flag(*record, "verified")) return no_content();
        auto key = guard_key("verification", *c, *record);
        if (st->cooldowns.active(key)) return no_content();
        auto token = issue_record_token(*c, *record, "verification", "verificationToken");
        queue_mail(s, st->outbox,
                   build_mail(s, *c, *record, "verificationTemplate", {{"{TOKEN}", token}}, email));
        st->cooldowns.set(key, st->options.resend_guard);
        return no_content();
      },
      {.blocking = true});

  router.post(
      "/api/collections/{collection}/confirm-verification",
      [st](http::Request& req) {
        auto& s = st->s;
        auto c = auth_collection(s, req);
        if (c->name == "_superusers")
          throw http::ApiError(400, "All superusers are verified by default.");
        auto body = parse_body(req);
        auto token = str(body, "token");
        core::FieldErrors errors;
        std::optional<VerifiedToken> vt;
        if (token.empty()) {
          errors["token"] = {"validation_required", "Cannot be blank.", {}};
        } else if (auto email = str(token_claims(token), "email"); email.empty()) {
          errors["token"] = {"validation_invalid_token_claims", "Missing email token claim.", {}};
        } else if (vt = verify_record_token(s.store, token, "verification", "verificationToken");
                   !vt) {
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
                auto record = s.store.find_record_by(*c, "email", email);
                if (!record) return no_content();
                auto key = guard_key("passwordReset", *c, *record);
                if (st->cooldowns.active(key)) return no_content();
                auto token = issue_record_token(*c, *record, "passwordReset", "passwordResetToken");
                queue_mail(s, st->outbox,
                           build_mail(s, *c, *record, "resetPasswordTemplate", {{"{TOKEN}", token}},
                                      email));
                st->cooldowns.set(key, st->options.resend_guard);
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
        std::int64_t min = 1;
        if (const auto* pf = c->field("password")) {
          min = std::max<std::int64_t>(1, int_option(pf->raw, "min", 1));
        }
        core::FieldErrors errors;
        std::optional<VerifiedToken> vt;
        if (token.empty()) {
          errors["token"] = {"validation_required", "Cannot be blank.", {}};
        } else if (vt = verify_record_token(s.store, token, "passwordReset", "passwordResetToken");
                   !vt) {
          errors["token"] = {"validation_invalid_token", "Invalid or expired token.", {}};
        } else if (vt->collection->id != c->id) {
          errors["token"] = {"validation_token_collection_mismatch",
                             "The provided token is for different auth collection.",
                             {}};
        }
        if (password.empty()) {
          errors["password"] = {"validation_required", "Cannot be blank.", {}};
        } else if (static_cast<std::int64_t>(password.size()) < min || password.size() > 255) {
          errors["password"] = {"validation_length_out_of_range",
                                "The length must be between " + std::to_string(min) + " and 255.",
                                {}};
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
        if (!flag(record, "verified") && str(record, "email") == str(vt->claims, "email"))
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
        auto c = auth_collection(s, req);
        if (c->name == "_superusers")
          throw http::ApiError(400, "All superusers can change their emails directly.");
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
        auto token = issue_record_token(*c, ctx->record, "emailChange", "emailChangeToken",
                                        {{"newEmail", new_email}});
        queue_mail(s, st->outbox,
                   build_mail(s, *c, ctx->record, "confirmEmailChangeTemplate",
                              {{"{TOKEN}", token}}, new_email));
        return no_content();
      },
      {.blocking = true});

  router.post(
      "/api/collections/{collection}/confirm-email-change",
      [st](http::Request& req) {
        auto& s = st->s;
        auto c = auth_collection(s, req);
        if (c->name == "_superusers")
          throw http::ApiError(400, "All superusers can change their emails directly.");
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
        } else if (vt = verify_record_token(s.store, token, "emailChange", "emailChangeToken");
                   !vt) {
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
          errors["password"] = {
              "validation_invalid_password", "Missing or invalid auth record password.", {}};
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
        return no_content();
      },
      {.blocking = true});
}

void register_otp(http::Router& router, const std::shared_ptr<State>& st) {
  router.post("/api/collections/{collection}/request-otp",
              [st](http::Request& req) {
                auto& s = st->s;
                auto c = auth_collection(s, req);
                const auto& otp_options = section(c->options, "otp");
                if (!flag(otp_options, "enabled"))
                  throw http::ApiError(
                      403, "The collection is not configured to allow OTP authentication.");
                auto email = email_from(req);
                auto record = s.store.find_record_by(*c, "email", email);
                auto length = std::clamp<std::int64_t>(int_option(otp_options, "length", 8), 4, 64);
                auto code = random_digits(static_cast<std::size_t>(length));
                if (!record) {
                  // An unknown address gets an id that leads nowhere, and no mail;
                  // the code is hashed anyway so the answer takes as long.
                  (void)auth::hash_password(code);
                  return json_response(200, json::object{{"otpId", util::random_id(15)}});
                }
                auto otps = otps_collection(s);
                auto duration = int_option(otp_options, "duration", 180);
                auto recent = recent_otps(s, *otps, *c, str(*record, "id"), duration);
                if (static_cast<int>(recent.size()) > st->options.otp_max_recent) {
                  s.logger.write(observe::LogLine(observe::Level::warn,
                                                  "too many OTP requests; reusing the last one")
                                     .str("collection", c->name)
                                     .str("recordId", str(*record, "id")));
                  return json_response(200, json::object{{"otpId", str(recent.front(), "id")}});
                }
                auto now = core::now_datetime();
                json::object otp{{"id", util::random_id(15)},
                                 {"collectionRef", c->id},
                                 {"recordRef", str(*record, "id")},
                                 {"password", auth::hash_password(code)},
                                 {"sentTo", email},
                                 {"created", now},
                                 {"updated", now}};
                auto otp_id = str(otp, "id");
                auto m = build_mail(s, *c, *record, "otp.emailTemplate",
                                    {{"{OTP}", code}, {"{OTP_ID}", otp_id}}, email);
                // The OTP and its mail commit together: no code without its mail.
                guard_store("Failed to create the OTP.", [&] {
                  s.store.transaction([&](store::Tx& tx) {
                    tx.insert_record(*otps, otp);
                    mail::Outbox::enqueue(tx, m);
                  });
                  return 0;
                });
                st->outbox.notify();
                return json_response(200, json::object{{"otpId", otp_id}});
              },
              {.blocking = true});

  router.post(
      "/api/collections/{collection}/auth-with-otp",
      [st](http::Request& req) {
        auto& s = st->s;
        auto c = auth_collection(s, req);
        const auto& otp_options = section(c->options, "otp");
        if (!flag(otp_options, "enabled"))
          throw http::ApiError(403,
                               "The collection is not configured to allow OTP authentication.");
        auto body = parse_body(req);
        auto otp_id = str(body, "otpId"), password = str(body, "password");
        core::FieldErrors errors;
        if (otp_id.empty())
          errors["otpId"] = {"validation_required", "Cannot be blank.", {}};
        else if (otp_id.size() > 255)
          errors["otpId"] = {
              "validation_length_out_of_range", "The length must be between 1 and 255.", {}};
        if (password.empty())
          errors["password"] = {"validation_required", "Cannot be blank.", {}};
        else if (password.size() > 71)
          errors["password"] = {
              "validation_length_out_of_range", "The length must be between 1 and 71.", {}};
        if (!errors.empty()) invalid(errors);
        // One answer for every failure, so OTP ids cannot be probed.
        const http::ApiError kInvalid(400, "Invalid or expired OTP");
        auto otps = otps_collection(s);
        auto otp = s.store.get_record(*otps, otp_id);
        if (!otp || str(*otp, "collectionRef") != c->id) throw kInvalid;
        auto created = core::parse_datetime_ms(str(*otp, "created"));
        auto duration = int_option(otp_options, "duration", 180);
        if (!created || *created + duration * 1000 <= unix_seconds() * 1000) throw kInvalid;
        auto record = s.store.get_record(*c, str(*otp, "recordRef"));
        if (!record) throw kInvalid;
        if (!st->otp_attempts.hit("otp:" + str(*record, "id"), st->options.otp_max_attempts,
                                  st->options.otp_attempt_window))
          throw http::ApiError(429, "Too many attempts, please try again later with a new OTP.");
        if (!auth::verify_password(password, str(*otp, "password"))) throw kInvalid;
        // Used once: delete before answering.
        // Whoever deletes it first wins; a concurrent second use finds it gone.
        if (!guard_store("Failed to authenticate.",
                         [&] { return s.store.delete_record(*otps, otp_id); }))
          throw kInvalid;
        auto sent_to = str(*otp, "sentTo");
        if (!flag(*record, "verified") && !sent_to.empty() && str(*record, "email") == sent_to) {
          // The code reached this address: it is verified. As PocketBase, the
          // password is reset unless MFA is on (pre-hijacking protection).
          (*record)["verified"] = true;
          if (!flag(section(c->options, "mfa"), "enabled")) set_random_password(*record);
          save(s, *c, *record, "Failed to authenticate.");
        }
        return json_response(200, auth_response(*c, *record));
      },
      {.blocking = true});
}

// POST /api/settings/test/email: renders one of the auth templates for a
// made-up record and sends it right away (not through the outbox), so a
// superuser sees at once whether the SMTP settings work.
void register_test_email(http::Router& router, const std::shared_ptr<State>& st) {
  router.post(
      "/api/settings/test/email",
      [st](http::Request& req) {
        auto& s = st->s;
        require_superuser(s, req);
        auto body = parse_body(req);
        auto email = str(body, "email"), which = str(body, "template"),
             collection = str(body, "collection");
        core::FieldErrors errors;
        std::shared_ptr<const core::Collection> c =
            s.store.catalog()->find(collection.empty() ? "_superusers" : collection);
        if (!collection.empty() && (collection.size() > 255 || !c || !c->is_auth()))
          errors["collection"] = {"validation_invalid_auth_collection",
                                  "Must be a valid auth collection id or name.",
                                  {}};
        check_email(errors, "email", email);
        static const std::map<std::string, std::string, std::less<>> kTemplates{
            {"verification", "verificationTemplate"},
            {"password-reset", "resetPasswordTemplate"},
            {"email-change", "confirmEmailChangeTemplate"},
            {"otp", "otp.emailTemplate"},
            {"login-alert", "authAlert.emailTemplate"}};
        auto it = kTemplates.find(which);
        if (which.empty())
          errors["template"] = {"validation_required", "Cannot be blank.", {}};
        else if (it == kTemplates.end())
          errors["template"] = {"validation_in_invalid", "Must be a valid value.", {}};
        if (!errors.empty())
          throw http::ApiError(400, "Failed to send the test email.",
                               core::to_json(core::field_errors_json(errors)));
        if (!c || !c->is_auth()) throw http::ApiError(400, "Failed to send the test email.");
        json::object record;
        for (const auto& f : c->fields) {
          if (!f.hidden) record[f.name] = "__pb_test_" + f.name + "__";
        }
        record["email"] = email;
        record["tokenKey"] = auth::random_token_key(50);
        mail::Placeholders extra;
        if (which == "verification") {
          extra["{TOKEN}"] = issue_record_token(*c, record, "verification", "verificationToken");
        } else if (which == "password-reset") {
          extra["{TOKEN}"] = issue_record_token(*c, record, "passwordReset", "passwordResetToken");
        } else if (which == "email-change") {
          extra["{TOKEN}"] = issue_record_token(*c, record, "emailChange", "emailChangeToken",
                                                {{"newEmail", email}});
        } else if (which == "otp") {
          extra["{OTP_ID}"] = "_PB_TEST_OTP_ID_";
          extra["{OTP}"] = "123456";
        } else {
          extra["{ALERT_INFO}"] = core::now_datetime() + " - TEST_IP TEST_USER_AGENT";
        }
        auto m = build_mail(s, *c, record, it->second, extra, email);
        if (auto err = mail::send_smtp(mail::smtp_config_from_settings(s.store.settings()), m))
          throw http::ApiError(400, "Failed to send the test email. Raw error: \n" + *err);
        return no_content();
      },
      {.blocking = true});
}

void register_outbox_state(http::Router& router, const std::shared_ptr<State>& st) {
  router.get("/api/plinth/mail",
             [st](http::Request& req) {
               require_superuser(st->s, req);
               auto stats = st->outbox.stats();
               json::array items;
               for (auto& row : st->outbox.list(50)) items.push_back(std::move(row));
               return json_response(200, json::object{{"pending", st->outbox.pending()},
                                                      {"sent", stats.sent},
                                                      {"failedAttempts", stats.failed_attempts},
                                                      {"givenUp", stats.given_up},
                                                      {"items", std::move(items)}});
             },
             {.blocking = true});
}

}  // namespace
}  // namespace detail

void register_account_routes(http::Router& router, Services& services, mail::Outbox& outbox,
                             AccountOptions options) {
  std::shared_ptr<detail::State> st(new detail::State{services, outbox, options, {}, {}});
  detail::register_verification(router, st);
  detail::register_password_reset(router, st);
  detail::register_email_change(router, st);
  detail::register_otp(router, st);
  detail::register_test_email(router, st);
  detail::register_outbox_state(router, st);
}

}  // namespace plinth::api
