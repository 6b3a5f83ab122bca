#pragma once
// Sending one message over SMTP with libcurl: implicit TLS (`tls`), or a plain
// connection upgraded with STARTTLS when the server offers it (required when
// credentials go to another host), with AUTH PLAIN/LOGIN when a username is set.
// Server certificates are verified against the system's CA store. Blocking; call it from the
// outbox's sender thread, never from an I/O thread.

#include <atomic>
#include <boost/json/object.hpp>
#include <chrono>
#include <optional>
#include <string>

#include "plinth/mail/message.hpp"

namespace plinth::mail {

struct SmtpConfig {
  bool enabled = false;
  std::string host;
  int port = 587;
  std::string username;
  std::string password;
  std::string auth_method;  // "PLAIN", "LOGIN" or "" (libcurl picks)
  // PocketBase's meaning: true = implicit TLS (smtps://, usually port 465);
  // false = plain connection upgraded with STARTTLS when the server offers it.
  bool tls = false;
  std::string local_name;  // EHLO name; "" = "localhost"
  std::chrono::milliseconds connect_timeout{10000};
  std::chrono::milliseconds total_timeout{60000};
};

// The `smtp` section of the settings object.
SmtpConfig smtp_config_from_settings(const boost::json::object& settings);

// The sender of the settings' meta section (senderName, senderAddress).
Address sender_from_settings(const boost::json::object& settings);

// Sends `m`; nullopt on success, else a description of the failure (never
// containing the password or the message body). When `cancel` turns true the
// transfer is aborted (checked about once a second and on every transfer step).
// `reply_code`, when given, receives the server's last reply code (0 if none).
std::optional<std::string> send_smtp(const SmtpConfig& config, const Message& m,
                                     const std::atomic<bool>* cancel = nullptr,
                                     int* reply_code = nullptr);

}  // namespace plinth::mail
