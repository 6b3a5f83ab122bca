#pragma once
// A small plain SMTP server for tests: listens on 127.0.0.1 (a free port by
// default), speaks enough of RFC 5321 for libcurl (EHLO/HELO, AUTH PLAIN, MAIL,
// RCPT, DATA, RSET, NOOP, QUIT) and keeps every message it receives.
// Recipients at kRejectedDomain are refused for good (550).

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace plinth::test {

inline constexpr std::string_view kRejectedDomain = "@rejected.test";

struct SinkMessage {
  std::string from;             // MAIL FROM address
  std::vector<std::string> to;  // RCPT TO addresses
  std::string data;             // the DATA section, dot-unstuffed, CRLF line ends
  std::string auth;             // "user:password" from AUTH PLAIN, if any

  // A header's value (first match, case-insensitive name), unfolded.
  std::string header(std::string_view name) const;
  // The whole body with quoted-printable decoded (all MIME parts).
  std::string decoded_body() const;
};

class SmtpSink {
 public:
  // port 0 = any free port. Throws when it cannot listen.
  explicit SmtpSink(std::uint16_t port = 0);
  ~SmtpSink();
  SmtpSink(const SmtpSink&) = delete;
  SmtpSink& operator=(const SmtpSink&) = delete;

  std::uint16_t port() const { return port_; }
  std::vector<SinkMessage> messages() const;
  std::size_t count() const;
  // The first message to `to` after the first `skip` such messages, waiting up to `timeout`.
  std::optional<SinkMessage> wait_for(std::string_view to, std::chrono::milliseconds timeout,
                                      std::size_t skip = 0) const;
  // Messages addressed to `to` so far.
  std::size_t count_to(std::string_view to) const;

  // A loopback port that was free a moment ago (nothing listens on it).
  static std::uint16_t free_port();

 private:
  void serve();
  void session(int fd);
  int listen_fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  std::vector<SinkMessage> messages_;
};

}  // namespace plinth::test
