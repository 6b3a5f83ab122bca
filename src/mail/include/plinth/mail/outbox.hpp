#pragma once
// The durable mail outbox. A flow that sends mail queues it in
// `_plinth_mail_outbox` inside the same store transaction as the change that
// asks for it (an OTP, a token request), so a committed request always has its
// mail queued and a failed one never sends. One sender thread drains due rows,
// claims each (pushes its nextAttempt forward in one write, and sends only if
// that write succeeded), sends it through a SendFn (SMTP in production), and
// on failure retries with exponential backoff; after `max_attempts`, or at
// once on a permanent refusal, the row is marked `failed` and an error is logged. Nothing is
// dropped silently: every row ends as `sent` or `failed`, and both are visible (list()) and counted
// (stats()). Delivery is at least once: a crash (or a failed write) between sending and recording
// it resends, but only once the claimed row's retry delay has passed.

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

// Why a send failed; a permanent failure (the server refused the message for
// good, SMTP 5xx) is not retried.
struct SendError {
  SendError(std::string why, bool is_permanent = false)  // NOLINT: implicit from a reason
      : reason(std::move(why)), permanent(is_permanent) {}
  std::string reason;
  bool permanent = false;
};

// Sends one message; nullopt on success, else the reason. `cancel` turns true
// when the outbox stops: a send in progress should give up promptly.
using SendFn =
    std::function<std::optional<SendError>(const Message&, const std::atomic<bool>& cancel)>;

// Whether sending is possible at all, and a fingerprint of the sending
// configuration: while disabled, queued rows are left alone (no attempt is
// counted); when the fingerprint changes, every pending row is due at once.
struct SenderState {
  bool enabled = true;
  std::string config;
};
using StateFn = std::function<SenderState()>;

// SMTP with the settings current at each send.
SendFn smtp_sender(store::Store& store);
// The settings' smtp section (and sender) as a SenderState.
StateFn smtp_state(store::Store& store);

// The delay before attempt `attempts + 1`, after `attempts` failures (>= 1).
std::chrono::milliseconds retry_delay(const OutboxOptions& o, int attempts);

class Outbox {
 public:
  Outbox(store::Store& store, observe::Logger& logger, OutboxOptions options, SendFn send,
         StateFn state = {});
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

  // Work the sender thread also does every prune_every (e.g. deleting expired
  // one-time codes). Set before start().
  void set_housekeeping(std::function<void(std::int64_t now_ms)> fn) {
    housekeeping_ = std::move(fn);
  }

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
  void record_outcome(boost::json::object row, const std::optional<SendError>& error,
                      std::int64_t now_ms);
  // Makes every pending row due at `now_ms`.
  void make_due(std::int64_t now_ms);

  store::Store& store_;
  observe::Logger& logger_;
  OutboxOptions options_;
  SendFn send_;
  StateFn state_;
  std::function<void(std::int64_t)> housekeeping_;
  std::optional<std::string> last_config_;  // drain_once's caller only
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
