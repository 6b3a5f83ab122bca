// request-otp and auth-with-otp (PocketBase's one-time passwords by mail).

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

namespace plinth::api::detail::account {
namespace {

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
  auto now_ms = static_cast<std::int64_t>(unix_now()) * 1000;
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

}  // namespace

std::size_t delete_expired_otps(Services& s, std::int64_t now_ms) {
  auto cat = s.store.catalog();
  auto otps = cat->find("_otps");
  if (!otps) return 0;
  std::size_t removed = 0;
  query::RequestInfo ri;
  query::CompileOptions opts{.allow_hidden = true};
  for (const auto& c : cat->all()) {
    if (!c->is_auth()) continue;
    auto duration = int_option(section(c->options, "otp"), "duration", 180);
    auto cutoff = core::format_datetime_ms(now_ms - std::max<std::int64_t>(duration, 0) * 1000);
    // Collection ids are [A-Za-z0-9_]; cutoff is a formatted date.
    if (!std::all_of(c->id.begin(), c->id.end(), [](char ch) {
          return std::isalnum(static_cast<unsigned char>(ch)) || ch == '_';
        }))
      continue;
    auto compiled = query::compile("collectionRef = '" + c->id + "' && created < '" + cutoff + "'",
                                   *cat, *otps, ri, opts);
    if (!std::holds_alternative<query::Compiled>(compiled)) continue;
    const auto q = std::get<query::Compiled>(std::move(compiled));
    for (;;) {
      auto page = s.store.list_records(
          *otps, {.page = 1, .per_page = 200, .skip_total = true, .compiled = q});
      s.store.transaction([&](store::Tx& tx) {
        for (const auto& o : page.items) removed += tx.delete_record(*otps, str(o, "id")) ? 1 : 0;
      });
      if (page.items.size() < 200) break;
    }
  }
  return removed;
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
                check_outbox_room(*st);
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
                                 {"sentTo", str(*record, "email")},
                                 {"created", now},
                                 {"updated", now}};
                auto otp_id = str(otp, "id");
                auto m = build_mail(s, *c, *record, "otp.emailTemplate",
                                    {{"{OTP}", code}, {"{OTP_ID}", otp_id}}, str(*record, "email"));
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
        // With MFA on, PocketBase answers a first factor with an mfaId and
        // waits for a second one. Without MFA support, OTP sign-in would skip
        // the second factor: refused rather than weakened.
        if (flag(section(c->options, "mfa"), "enabled"))
          throw http::ApiError(403,
                               "The collection requires multi-factor authentication, which this "
                               "server does not support yet; disable mfa to sign in with an OTP.");
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
        if (!created || *created + duration * 1000 <= unix_now() * 1000) throw kInvalid;
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
        if (!flag(*record, "verified") && !sent_to.empty() &&
            same_email(str(*record, "email"), sent_to)) {
          // The code reached this address: it is verified. As PocketBase
          // without MFA, the password is reset (pre-hijacking protection).
          (*record)["verified"] = true;
          set_random_password(*record);
          save(s, *c, *record, "Failed to authenticate.");
        }
        return json_response(200, auth_response(*c, *record));
      },
      {.blocking = true});
}

}  // namespace plinth::api::detail::account
