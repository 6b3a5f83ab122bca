#pragma once
// Shared pieces of the account flows (not a public header): the routes' state,
// form checks and mail building. The routes are split by flow: account.cpp
// (verification, password reset, email change), account_otp.cpp, account_mail.cpp.

#include <boost/json/object.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "account_support.hpp"
#include "common.hpp"
#include "plinth/api/account.hpp"
#include "plinth/mail/message.hpp"
#include "plinth/mail/templates.hpp"

namespace plinth::api::detail {

// Defined in auth.cpp: {"record": ..., "token": ...}.
json::object auth_response(const core::Collection& c, const json::object& record);

namespace account {

inline constexpr std::string_view kValidationFailed =
    "An error occurred while validating the submitted data.";

struct State {
  Services& s;
  mail::Outbox& outbox;
  AccountOptions options;
  Cooldowns cooldowns;
  WindowLimiter otp_attempts;
};

std::string str(const json::object& o, std::string_view k);
bool flag(const json::object& o, std::string_view k);
// o[k] when it is an object, else an empty one.
const json::object& section(const json::object& o, std::string_view k);
std::int64_t int_option(const json::object& o, std::string_view k, std::int64_t fallback);
// Throws the 400 validation envelope with `errors`.
[[noreturn]] void invalid(const core::FieldErrors& errors);
// The route's auth collection (404 otherwise).
std::shared_ptr<const core::Collection> auth_collection(Services& s, const http::Request& req);
// The same, refusing _superusers with a 400 carrying `superuser_refusal` (their flows differ).
std::shared_ptr<const core::Collection> auth_collection(Services& s, const http::Request& req,
                                                        std::string_view superuser_refusal);
// Checks an email form value; adds the error under `field`.
void check_email(core::FieldErrors& errors, const std::string& field, const std::string& value);
// Email addresses compared as PocketBase stores and finds them (ASCII case-insensitive).
bool same_email(std::string_view a, std::string_view b);
// The form's email, validated (400 otherwise).
std::string email_from(const http::Request& req, std::string_view field = "email");
// PocketBase's SetRandomPassword: an unknown password and a new tokenKey.
void set_random_password(json::object& record);
// Writes `record` back. With `expected_token_key`, the write happens only if
// the stored tokenKey is still that one (checked inside the write
// transaction), so two concurrent uses of one token cannot both succeed.
void save(Services& s, const core::Collection& c, json::object& record, std::string_view failure,
          const std::string& expected_token_key = {});
// The mail of the collection's template at `template_path` (or the default
// one) for `record`, with `extra` placeholders, to `to`.
mail::Message build_mail(Services& s, const core::Collection& c, const json::object& record,
                         std::string_view template_path, const mail::Placeholders& extra,
                         const std::string& to);
// Queues one message in its own transaction and wakes the sender.
void queue_mail(Services& s, mail::Outbox& outbox, const mail::Message& m);
// Refuses (503) while the outbox holds options.max_pending_mail unsent mails.
void check_outbox_room(State& st);
// Runs `fn` under the resend guard `key` (already acquired): if it fails, the
// guard is released so that the request can be repeated.
template <typename Fn>
void guarded(Cooldowns& cooldowns, const std::string& key, Fn&& fn) {
  try {
    fn();
  } catch (...) {
    cooldowns.clear(key);
    throw;
  }
}
// The resend-guard key of a flow for a record.
std::string guard_key(std::string_view kind, const core::Collection& c, const json::object& r);

// Deletes the OTPs older than their collection's otp.duration; returns how many.
std::size_t delete_expired_otps(Services& s, std::int64_t now_ms);

void register_verification(http::Router& router, const std::shared_ptr<State>& st);
void register_password_reset(http::Router& router, const std::shared_ptr<State>& st);
void register_email_change(http::Router& router, const std::shared_ptr<State>& st);
void register_otp(http::Router& router, const std::shared_ptr<State>& st);
void register_test_email(http::Router& router, const std::shared_ptr<State>& st);
void register_outbox_state(http::Router& router, const std::shared_ptr<State>& st);

}  // namespace account
}  // namespace plinth::api::detail
