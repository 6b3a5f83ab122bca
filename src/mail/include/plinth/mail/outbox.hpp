#pragma once
// The durable mail outbox. A flow that sends mail queues it in
// `_plinth_mail_outbox` inside the same store transaction as the change that
// asks for it (an OTP, a token request), so a committed request always has its
// mail queued and a failed one never sends. One sender thread drains due rows,
// sends each through a SendFn (SMTP in production), and on failure retries
// with exponential backoff; after `max_attempts` the row is marked `failed`
// and an error is logged. Nothing is dropped silently: every row ends as
// `sent` or `failed`, and both are visible (list()) and counted (stats()).
// Delivery is at least once: a crash between sending and recording it resends.

#include <atomic>
#include <boost/json/object.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "plinth/mail/message.hpp"
#include "plinth/observe/log.hpp"
#include "plinth/store/store.hpp"

namespace plinth::mail {

struct OutboxOptions {
  // How often the sender looks for due rows without being notified (settings
  // changes, retries coming due).
  std::chrono::milliseconds poll_interval{1000};
  // Delay after the first failure; doubled per further failure up to retry_max.
  std::chrono::milliseconds retry_base{2000};
  std::chrono::milliseconds retry_max{std::chrono::minutes(10)};
  // Attempts before a message is marked failed (about a day with the defaults).
  int max_attempts = 150;
  // Rows taken per drain pass.
  std::int64_t batch = 20;
  // Sent rows are deleted this long after sending (failed rows stay until removed by hand).
  std::chrono::hours keep_sent{24 * 7};
  std::chrono::minutes prune_every{60};
};

struct OutboxStats {
  std::uint64_t sent = 0;
  std::uint64_t failed_attempts = 0;
  std::uint64_t given_up = 0;
};

// Sends one message; nullopt on success, else the reason. `cancel` turns true
// when the outbox stops: a send in progress should give up promptly.
using SendFn =
    std::function<std::optional<std::string>(const Message&, const std::atomic<bool>& cancel)>;

// SMTP with the settings current at each send.
SendFn smtp_sender(store::Store& store);

// The delay before attempt `attempts + 1`, after `attempts` failures (>= 1).
std::chrono::milliseconds retry_delay(const OutboxOptions& o, int attempts);

class Outbox {
 public:
  Outbox(store::Store& store, observe::Logger& logger, OutboxOptions options, SendFn send);
  ~Outbox();
  Outbox(const Outbox&) = delete;
  Outbox& operator=(const Outbox&) = delete;

  // Queues `m` as part of transaction `tx` (it is sent only if `tx` commits);
  // returns the outbox row id. Call notify() after the commit.
  static std::string enqueue(store::Tx& tx, const Message& m);

  // Starts and stops the sender thread; stop() waits for a send in progress.
  void start();
  void stop();
  // Wakes the sender (a mail was just queued).
  void notify();

  // One pass over the rows due at `now_ms`: sends them and records the
  // outcome. Returns how many rows it handled. The sender thread calls this;
  // tests may call it directly with the thread stopped.
  std::size_t drain_once(std::int64_t now_ms);

  // Deletes rows sent more than keep_sent before `now_ms`; returns how many.
  std::size_t prune(std::int64_t now_ms);

  OutboxStats stats() const;
  // The newest rows (message bodies left out: they carry tokens and codes).
  std::vector<boost::json::object> list(std::int64_t limit) const;
  // Rows still waiting to be sent (a store read).
  std::int64_t pending() const;
  // pending() as of the sender thread's last pass: no store access, so safe
  // on an I/O thread (metrics).
  std::int64_t pending_last_pass() const { return pending_last_pass_.load(); }

 private:
  void run();
  void record_outcome(boost::json::object row, const std::optional<std::string>& error,
                      std::int64_t now_ms);

  store::Store& store_;
  observe::Logger& logger_;
  OutboxOptions options_;
  SendFn send_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::atomic<bool> cancel_{false};
  std::atomic<std::int64_t> pending_last_pass_{0};
  bool notified_ = false;
  std::atomic<std::uint64_t> sent_{0}, failed_attempts_{0}, given_up_{0};
};

std::int64_t now_ms();

}  // namespace plinth::mail
