#pragma once
// PocketBase's auth mail templates: {subject, body} pairs stored in an auth
// collection's options (verificationTemplate, resetPasswordTemplate,
// confirmEmailChangeTemplate, otp.emailTemplate, authAlert.emailTemplate) with
// placeholders {APP_NAME}, {APP_URL}, {TOKEN}, {OTP}, {OTP_ID}, {ALERT_INFO}
// and {RECORD:field} for every non-hidden field of the record.

#include <boost/json/object.hpp>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "plinth/core/collection.hpp"

namespace plinth::mail {

struct Template {
  std::string subject;
  std::string body;  // an HTML fragment
};

struct Rendered {
  std::string subject;
  std::string html;  // the body inside the mail layout
};

using Placeholders = std::map<std::string, std::string, std::less<>>;

// The template at `path` in `options` ("verificationTemplate", "otp.emailTemplate"...);
// nullopt when absent or when its subject or body is empty.
std::optional<Template> template_at(const boost::json::object& options, std::string_view path);

// Escapes &, <, >, " and ' for HTML text and attribute values.
std::string html_escape(std::string_view s);

// {APP_NAME} and {APP_URL} from settings.meta, and {RECORD:name} for each
// non-hidden field of `record` (HTML-escaped except date, autodate, bool and number values).
Placeholders record_placeholders(const boost::json::object& settings, const core::Collection& c,
                                 const boost::json::object& record);

// Replaces placeholders in one pass: text that a placeholder expands to is
// never scanned again, so a field value cannot smuggle in {TOKEN}. Unknown
// `{...}` sequences are left as they are.
std::string substitute(std::string_view text, const Placeholders& values);

// Subject and body with placeholders replaced; the body wrapped in the layout.
Rendered render(const Template& t, const Placeholders& values);

}  // namespace plinth::mail
