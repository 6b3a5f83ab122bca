#pragma once
// The auth audit trail: every auth event becomes a `_plinth_audit` row and a
// structured log line ("auth event"). Callers pass identifiers only; a
// password, hash or token must never be put in an event.

#include <optional>
#include <string>
#include <string_view>

#include "plinth/api/data.hpp"
#include "plinth/http/message.hpp"

namespace plinth::api::detail {

struct AuthEvent {
  std::string_view event;       // login, login_failed, login_throttled, refresh, impersonate,
                                // password_change, email_change, apikey_use, apikey_create, ...
  std::string_view collection;  // subject's collection name
  std::string_view record_id;   // subject record
  std::string_view identity;    // the identity typed at a login (failures only)
  std::string detail = "{}";    // extra JSON object text
};

struct RequestMeta;

// Never throws: an audit write that fails is logged as an error instead.
// `actor` is "<collection>/<id>" of the caller, "apikey/<id>" or "" for a guest.
void audit(Services& s, std::string_view ip, std::string_view request_id, std::string_view actor,
           const AuthEvent& e);
// The same, with the caller resolved from the request's Authorization header.
void audit(Services& s, const http::Request& req, const AuthEvent& e);
void audit(Services& s, const RequestMeta& meta, const std::optional<AuthContext>& caller,
           const AuthEvent& e);

}  // namespace plinth::api::detail
