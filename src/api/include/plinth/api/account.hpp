#pragma once
// Mail-based account flows on auth collections, as PocketBase:
// request-/confirm-verification, request-/confirm-password-reset,
// request-/confirm-email-change, request-otp / auth-with-otp. Mail is queued
// in the durable outbox (plinth/mail/outbox.hpp) in the same transaction as
// the change that asks for it. Also, for superusers: POST
// /api/settings/test/email (PocketBase's template test mail, sent at once) and
// GET /api/plinth/mail (the outbox's state). Expired OTPs are deleted from
// the outbox's sender thread (its housekeeping), as PocketBase's hourly cleanup.

#include <chrono>
#include <cstdint>

#include "plinth/api/data.hpp"
#include "plinth/http/router.hpp"

namespace plinth::mail {
class Outbox;
}

namespace plinth::api {

struct AccountOptions {
  // After a verification or password-reset mail, further requests for the same
  // record are answered 204 without sending (PocketBase's resend guard).
  std::chrono::seconds resend_guard{120};
  // auth-with-otp attempts per record within `otp_attempt_window` (PocketBase: 5 per 180 s).
  int otp_max_attempts = 5;
  std::chrono::seconds otp_attempt_window{180};
  // Unexpired OTPs per record before request-otp reuses the newest (PocketBase: 9).
  int otp_max_recent = 9;
  // Queued mails beyond which requests that would send one are refused (503).
  std::int64_t max_pending_mail = 10000;
};

void register_account_routes(http::Router& router, Services& services, mail::Outbox& outbox,
                             AccountOptions options = {});

}  // namespace plinth::api
