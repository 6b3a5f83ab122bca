#pragma once
// A mail message and its RFC 5322 form: multipart/alternative (plain text and
// HTML, both quoted-printable), RFC 2047 encoded headers where needed.

#include <boost/json/object.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace plinth::mail {

struct Address {
  std::string name;  // may be empty
  std::string address;
};

struct Message {
  Address from;
  std::vector<Address> to;
  std::string subject;
  std::string html;
  std::string text;  // derived from `html` when empty
};

// True for a plausible single mailbox (local@domain, no spaces, CR, LF, <, >).
bool valid_address(std::string_view address);

// The message as stored in the outbox, and back (nullopt when malformed).
boost::json::object to_json(const Message& m);
std::optional<Message> message_from_json(const boost::json::object& o);

// Readable plain text for an HTML body: tags dropped, block ends as line
// breaks, links kept as "text (url)" and the common entities decoded.
std::string html_to_text(std::string_view html);

// The full message with CRLF line ends, ready for SMTP DATA.
// `date` is an RFC 5322 date, `message_id` a "<...@...>" id.
std::string to_mime(const Message& m, std::string_view date, std::string_view message_id);

// RFC 5322 date of the current time ("Mon, 30 Nov 2026 12:00:00 +0000").
std::string rfc5322_now();

}  // namespace plinth::mail
