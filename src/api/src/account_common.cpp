// Shared pieces of the account flows: form checks, saving, mail building.

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

bool email_format(std::string_view e) {
  if (!mail::valid_address(e)) return false;
  auto at = e.rfind('@');
  auto domain = e.substr(at + 1);
  return domain.find('.') != std::string_view::npos && domain.front() != '.' &&
         domain.back() != '.';
}

void touch(const core::Collection& c, json::object& record) {
  if (c.field("updated")) record["updated"] = core::now_datetime();
}

// The template at `path` of the collection's options, or the default one.
mail::Template template_of(const core::Collection& c, std::string_view path) {
  if (auto t = mail::template_at(c.options, path)) return *t;
  if (auto t = mail::template_at(core::default_auth_options(), path)) return *t;
  return {"{APP_NAME}", "{TOKEN}"};
}

}  // namespace

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

std::shared_ptr<const core::Collection> auth_collection(Services& s, const http::Request& req,
                                                        std::string_view superuser_refusal) {
  auto c = auth_collection(s, req);
  if (c->name == "_superusers") throw http::ApiError(400, std::string(superuser_refusal));
  return c;
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

// PocketBase's SetRandomPassword: an unknown password and a new tokenKey.
void set_random_password(json::object& record) {
  record["password"] = auth::hash_password(util::random_alnum_secure(30));
  record["tokenKey"] = auth::random_token_key(50);
}

// Writes `record` back. With `expected_token_key`, the write happens only if
// the stored tokenKey is still that one (checked inside the write
// transaction), so two concurrent uses of one token cannot both succeed.
void save(Services& s, const core::Collection& c, json::object& record, std::string_view failure,
          const std::string& expected_token_key) {
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

void check_outbox_room(State& st) {
  auto pending = guard_store("Failed to queue the email.", [&] { return st.outbox.pending(); });
  if (pending >= st.options.max_pending_mail)
    throw http::ApiError(503, "Too many emails are waiting to be sent. Please try again later.");
}

std::string guard_key(std::string_view kind, const core::Collection& c, const json::object& r) {
  return std::string(kind) + ":" + c.id + ":" + str(r, "id");
}

bool same_email(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// The form's email, validated (400 otherwise).
std::string email_from(const http::Request& req, std::string_view field) {
  auto body = parse_body(req);
  auto email = str(body, field);
  core::FieldErrors errors;
  check_email(errors, std::string(field), email);
  if (!errors.empty()) invalid(errors);
  return email;
}

}  // namespace plinth::api::detail::account
