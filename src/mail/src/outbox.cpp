#include "plinth/mail/outbox.hpp"

#include <algorithm>

#include "plinth/core/datetime.hpp"
#include "plinth/core/json.hpp"
#include "plinth/mail/smtp.hpp"
#include "plinth/query/filter.hpp"
#include "plinth/util/process.hpp"
#include "plinth/util/random.hpp"

namespace plinth::mail {
namespace json = boost::json;

namespace {

std::string str(const json::object& o, std::string_view k) {
  auto* v = o.if_contains(k);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

std::int64_t int_of(const json::object& o, std::string_view k) {
  auto* v = o.if_contains(k);
  if (!v) return 0;
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64()) return static_cast<std::int64_t>(v->get_uint64());
  if (v->is_double()) return static_cast<std::int64_t>(v->get_double());
  return 0;
}

// The compiled "rows of `filter`, ordered by `sort`" list query over the outbox table.
store::ListQuery outbox_query(std::string_view filter, std::string_view sort, std::int64_t limit) {
  const auto& table = store::mail_outbox_table();
  core::Catalog empty({});
  query::RequestInfo ri;
  query::CompileOptions opts{.allow_hidden = true};
  store::ListQuery q{.page = 1, .per_page = limit, .skip_total = true};
  query::Compiled compiled;
  if (!filter.empty()) {
    auto r = query::compile(filter, empty, table, ri, opts);
    compiled = std::get<query::Compiled>(std::move(r));
  }
  auto s = query::compile_sort(sort, empty, table, ri, opts);
  auto sorted = std::get<query::Compiled>(std::move(s));
  compiled.order_by = sorted.order_by;
  compiled.order_params = sorted.order_params;
  q.compiled = std::move(compiled);
  return q;
}

}  // namespace

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

SendFn smtp_sender(store::Store& store) {
  return [&store](const Message& m, const std::atomic<bool>& cancel) -> std::optional<SendError> {
    int code = 0;
    auto error = send_smtp(smtp_config_from_settings(store.settings()), m, &cancel, &code);
    if (!error) return std::nullopt;
    // 5xx is the server's final word on this message, except the 53x
    // authentication answers: those wait for better credentials.
    bool permanent = code >= 500 && code < 600 && code / 10 != 53;
    if (code > 0) *error += " (SMTP " + std::to_string(code) + ")";
    return SendError(std::move(*error), permanent);
  };
}

StateFn smtp_state(store::Store& store) {
  return [&store] {
    auto settings = store.settings();
    json::object fingerprint;
    if (auto* smtp = settings.if_contains("smtp")) fingerprint["smtp"] = *smtp;
    auto sender = sender_from_settings(settings);
    fingerprint["sender"] = sender.name + " <" + sender.address + ">";
    return SenderState{smtp_config_from_settings(settings).enabled, core::to_json(fingerprint)};
  };
}

std::chrono::milliseconds retry_delay(const OutboxOptions& o, int attempts) {
  auto d = o.retry_base;
  for (int i = 1; i < attempts && d < o.retry_max; ++i) d *= 2;
  return std::min(d, o.retry_max);
}

Outbox::Outbox(store::Store& store, observe::Logger& logger, OutboxOptions options, SendFn send,
               StateFn state)
    : store_(store),
      logger_(logger),
      options_(options),
      send_(std::move(send)),
      state_(std::move(state)) {}

Outbox::~Outbox() {
  stop();
}

std::string Outbox::enqueue(store::Tx& tx, const Message& m) {
  std::string recipients;
  for (const auto& a : m.to) {
    if (!recipients.empty()) recipients += ", ";
    recipients += a.address;
  }
  auto now = core::now_datetime();
  json::object row{{"id", util::random_id(15)},
                   {"status", "pending"},
                   {"recipients", recipients},
                   {"subject", m.subject},
                   {"message", to_json(m)},
                   {"attempts", 0},
                   {"nextAttempt", now_ms()},
                   {"lastError", ""},
                   {"sentAt", ""},
                   {"created", now},
                   {"updated", now}};
  tx.insert_record(store::mail_outbox_table(), row);
  return std::string(row.at("id").get_string());
}

void Outbox::start() {
  std::lock_guard lock(mu_);
  if (thread_.joinable()) return;
  stopping_ = false;
  cancel_ = false;
  thread_ = std::thread([this] {
    util::name_this_thread("plinth-mail");
    run();
  });
}

void Outbox::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cancel_ = true;
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Outbox::notify() {
  {
    std::lock_guard lock(mu_);
    notified_ = true;
  }
  cv_.notify_all();
}

void Outbox::run() {
  std::int64_t last_prune = 0;
  for (;;) {
    std::size_t handled = 0;
    try {
      auto now = now_ms();
      if (now - last_prune >=
          std::chrono::duration_cast<std::chrono::milliseconds>(options_.prune_every).count()) {
        last_prune = now;
        // Housekeeping failing must not hold up sending.
        try {
          prune(now);
          if (housekeeping_) housekeeping_(now);
        } catch (const std::exception& e) {
          logger_.write(observe::LogLine(observe::Level::error, "mail outbox housekeeping failed")
                            .str("error", e.what()));
        }
      }
      handled = drain_once(now);
      pending_last_pass_ = pending();
    } catch (const std::exception& e) {
      logger_.write(observe::LogLine(observe::Level::error, "mail outbox pass failed")
                        .str("error", e.what()));
    } catch (...) {
      logger_.write(observe::LogLine(observe::Level::error, "mail outbox pass failed")
                        .str("error", "unknown exception"));
    }
    std::unique_lock lock(mu_);
    if (stopping_) return;
    // A full batch means more rows may be due right away.
    if (handled >= static_cast<std::size_t>(options_.batch)) continue;
    cv_.wait_for(lock, options_.poll_interval, [&] { return stopping_ || notified_; });
    notified_ = false;
    if (stopping_) return;
  }
}

std::size_t Outbox::drain_once(std::int64_t now) {
  const auto& table = store::mail_outbox_table();
  if (state_) {
    auto state = state_();
    if (last_config_ && *last_config_ != state.config) make_due(now);
    last_config_ = std::move(state.config);
    // Nothing can be sent: the rows wait untouched, no attempt is counted.
    if (!state.enabled) return 0;
  }
  auto due = store_.list_records(
      table, outbox_query("status = 'pending' && nextAttempt <= " + std::to_string(now),
                          "nextAttempt,created", options_.batch));
  std::size_t handled = 0;
  for (auto& row : due.items) {
    if (cancel_) break;
    std::string id = str(row, "id");
    // Claimed before sending: if the outcome cannot be recorded afterwards,
    // the row comes due again only after the retry delay, not every pass.
    auto claimed = row;
    auto attempts = static_cast<int>(int_of(row, "attempts"));
    claimed["nextAttempt"] = now + retry_delay(options_, attempts + 1).count();
    try {
      if (!store_.update_record(table, id, claimed)) continue;
    } catch (const std::exception& e) {
      logger_.write(observe::LogLine(observe::Level::error, "mail not claimed; not sent")
                        .str("outboxId", id)
                        .str("error", e.what()));
      break;  // the store refuses writes: try again on a later pass
    }
    ++handled;
    std::optional<SendError> error;
    auto* mv = row.if_contains("message");
    std::optional<Message> m;
    if (mv && mv->is_object()) m = message_from_json(mv->get_object());
    if (!m) {
      error = SendError("the queued message is malformed", true);
    } else {
      try {
        error = send_(*m, cancel_);
      } catch (const std::exception& e) {
        error = SendError(std::string("sending threw: ") + e.what());
      }
    }
    try {
      if (error && cancel_) {
        // Stopped mid-send: not the message's fault. Due again at the next start.
        store_.update_record(table, id, row);
        break;
      }
      record_outcome(std::move(claimed), error, now);
    } catch (const std::exception& e) {
      logger_.write(observe::LogLine(observe::Level::error, "mail outcome not recorded")
                        .str("outboxId", id)
                        .str("error", e.what()));
    }
  }
  return handled;
}

void Outbox::make_due(std::int64_t now) {
  const auto& table = store::mail_outbox_table();
  constexpr std::int64_t kPage = 200;
  for (;;) {
    auto later = store_.list_records(
        table,
        outbox_query("status = 'pending' && nextAttempt > " + std::to_string(now), "id", kPage));
    store_.transaction([&](store::Tx& tx) {
      for (auto& row : later.items) {
        row["nextAttempt"] = now;
        tx.update_record(table, str(row, "id"), row);
      }
    });
    if (static_cast<std::int64_t>(later.items.size()) < kPage) break;
  }
}

void Outbox::record_outcome(json::object row, const std::optional<SendError>& error,
                            std::int64_t now) {
  const auto& table = store::mail_outbox_table();
  std::string id = str(row, "id");
  int attempts = static_cast<int>(int_of(row, "attempts")) + 1;
  row["attempts"] = attempts;
  row["updated"] = core::now_datetime();
  auto drop_content = [&row] {
    // The subject and body carry tokens or codes; once settled they are not kept.
    row["subject"] = "";
    if (auto* mv = row.if_contains("message"); mv && mv->is_object()) {
      for (const char* k : {"subject", "html", "text"}) mv->get_object()[k] = "";
    }
  };
  if (!error) {
    row["status"] = "sent";
    row["sentAt"] = core::now_datetime();
    row["lastError"] = "";
    drop_content();
    ++sent_;
    logger_.write(observe::LogLine(observe::Level::info, "mail sent")
                      .str("outboxId", id)
                      .str("to", str(row, "recipients"))
                      .num("attempts", static_cast<std::int64_t>(attempts)));
  } else {
    ++failed_attempts_;
    row["lastError"] = error->reason;
    bool give_up = error->permanent || attempts >= options_.max_attempts;
    auto delay = retry_delay(options_, attempts);
    if (give_up) {
      row["status"] = "failed";
      drop_content();
      ++given_up_;
    } else {
      row["nextAttempt"] = now + delay.count();
    }
    logger_.write(
        observe::LogLine(give_up ? observe::Level::error : observe::Level::warn,
                         give_up ? "mail not sent; giving up" : "mail not sent; will retry")
            .str("outboxId", id)
            .str("to", str(row, "recipients"))
            .num("attempts", static_cast<std::int64_t>(attempts))
            .num("retryInMs", static_cast<std::int64_t>(give_up ? 0 : delay.count()))
            .str("error", error->reason));
  }
  store_.update_record(table, id, row);
}

std::size_t Outbox::prune(std::int64_t now) {
  auto cutoff = core::format_datetime_ms(
      now - std::chrono::duration_cast<std::chrono::milliseconds>(options_.keep_sent).count());
  const auto& table = store::mail_outbox_table();
  std::size_t removed = 0;
  for (;;) {
    auto old = store_.list_records(
        table, outbox_query("status = 'sent' && sentAt < '" + cutoff + "'", "id", 200));
    for (const auto& row : old.items)
      removed += store_.delete_record(table, str(row, "id")) ? 1 : 0;
    if (old.items.size() < 200) break;
  }
  return removed;
}

OutboxStats Outbox::stats() const {
  return {sent_.load(), failed_attempts_.load(), given_up_.load()};
}

std::vector<json::object> Outbox::list(std::int64_t limit) const {
  auto rows =
      store_.list_records(store::mail_outbox_table(), outbox_query("", "-created,-id", limit));
  for (auto& r : rows.items) core::erase_stable(r, "message");
  return std::move(rows.items);
}

std::int64_t Outbox::pending() const {
  auto q = outbox_query("status = 'pending'", "id", 1);
  q.skip_total = false;
  return store_.list_records(store::mail_outbox_table(), q).total_items;
}

}  // namespace plinth::mail
