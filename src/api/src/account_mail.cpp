// Superuser mail endpoints: POST /api/settings/test/email and GET /api/plinth/mail.

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
          extra["{TOKEN}"] = issue_account_token(*c, record, kVerificationToken);
        } else if (which == "password-reset") {
          extra["{TOKEN}"] = issue_account_token(*c, record, kPasswordResetToken);
        } else if (which == "email-change") {
          extra["{TOKEN}"] =
              issue_account_token(*c, record, kEmailChangeToken, {{"newEmail", email}});
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

}  // namespace plinth::api::detail::account
