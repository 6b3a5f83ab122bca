#pragma once
// An auth collection's options from a create or update body (not a public header).

#include <boost/json/object.hpp>

namespace plinth::api::detail {

// `current` (an existing collection's options, or the defaults for a new one)
// with the option keys of `body` applied as PocketBase applies them: objects
// merged key by key (`{"otp":{"enabled":true}}` keeps the OTP duration, length
// and template), other values replaced. Token secrets never come from a
// request; token durations do. Problems are added to `errors` (PocketBase's
// codes: templates need a subject and body, OTP duration 10..86400 s and
// length >= 4 when enabled, token durations 10 s..~3 years).
boost::json::object apply_auth_options(const boost::json::object& current,
                                       const boost::json::object& body,
                                       boost::json::object& errors);

}  // namespace plinth::api::detail
