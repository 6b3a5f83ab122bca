#include "plinth/observe/log.hpp"

#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <system_error>

#include "plinth/util/process.hpp"
#include "plinth/util/strings.hpp"
#include "plinth/util/time.hpp"

namespace plinth::observe {

std::string_view level_name(Level l) {
  switch (l) {
    case Level::debug: return "DEBUG";
    case Level::info: return "INFO";
    case Level::warn: return "WARN";
    case Level::error: return "ERROR";
  }
  return "INFO";
}

bool parse_level(std::string_view s, Level& out) {
  if (util::iequals(s, "debug"))
    out = Level::debug;
  else if (util::iequals(s, "info"))
    out = Level::info;
  else if (util::iequals(s, "warn"))
    out = Level::warn;
  else if (util::iequals(s, "error"))
    out = Level::error;
  else
    return false;
  return true;
}

LogLine::LogLine(Level level, std::string_view msg) : level_(level) {
  buf_.reserve(256);
  buf_ += "{\"time\":\"";
  buf_ += util::format_rfc3339_ms(std::chrono::system_clock::now());
  buf_ += "\",\"level\":\"";
  buf_ += level_name(level);
  buf_ += "\",\"msg\":";
  util::append_json_string(buf_, msg);
}

LogLine& LogLine::str(std::string_view key, std::string_view value) {
  buf_.push_back(',');
  util::append_json_string(buf_, key);
  buf_.push_back(':');
  util::append_json_string(buf_, value);
  return *this;
}

LogLine& LogLine::num(std::string_view key, std::int64_t value) {
  buf_.push_back(',');
  util::append_json_string(buf_, key);
  buf_.push_back(':');
  buf_ += std::to_string(value);
  return *this;
}

LogLine& LogLine::num(std::string_view key, std::uint64_t value) {
  buf_.push_back(',');
  util::append_json_string(buf_, key);
  buf_.push_back(':');
  buf_ += std::to_string(value);
  return *this;
}

LogLine& LogLine::real(std::string_view key, double value) {
  buf_.push_back(',');
  util::append_json_string(buf_, key);
  buf_.push_back(':');
  if (!std::isfinite(value)) {
    buf_ += "null";
  } else {
    char tmp[32];
    std::snprintf(tmp, sizeof(tmp), "%.6g", value);
    buf_ += tmp;
  }
  return *this;
}

LogLine& LogLine::boolean(std::string_view key, bool value) {
  buf_.push_back(',');
  util::append_json_string(buf_, key);
  buf_ += value ? ":true" : ":false";
  return *this;
}

std::string LogLine::finish() {
  buf_ += "}\n";
  return std::move(buf_);
}

Logger::~Logger() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  flush();
}

void Logger::write(LogLine& line) {
  if (!enabled(line.level())) return;
  append(line.finish(), line.level() >= Level::warn);
}

void Logger::write_raw(std::string_view text) {
  append(text, true);
}

void Logger::flush() {
  if (fd_ < 0) return;
  std::unique_lock lock(mu_);
  write_pending(lock);
}

void Logger::append(std::string_view text, bool now) {
  if (fd_ < 0) return;
  std::unique_lock lock(mu_);
  bool was_empty = pending_.empty();
  pending_.append(text);
  if (now || pending_.size() >= kMaxPending || stop_) {
    write_pending(lock);
    return;
  }
  if (!thread_.joinable()) {
    try {
      thread_ = std::thread([this] {
        util::name_this_thread("plinth-log");
        flusher();
      });
    } catch (const std::system_error&) {
      // No thread to be had (resource limits): this line, and the next ones, go out at once.
      write_pending(lock);
      return;
    }
  }
  if (was_empty) {
    lock.unlock();
    cv_.notify_one();
  }
}

void Logger::write_pending(std::unique_lock<std::mutex>& lock) {
  if (pending_.empty()) return;
  std::string out;
  out.swap(pending_);
  // write_mu_ is taken before mu_ is let go, and let go before mu_ is taken again: batches
  // reach the fd in the order they left pending_, and no two threads wait on each other.
  std::unique_lock write_lock(write_mu_);
  lock.unlock();
  std::string_view text = out;
  while (!text.empty()) {
    ssize_t n = ::write(fd_, text.data(), text.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      break;  // a broken log sink must never take the server down
    }
    text.remove_prefix(static_cast<std::size_t>(n));
  }
  write_lock.unlock();
  lock.lock();
}

void Logger::flusher() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    cv_.wait(lock, [this] { return stop_ || !pending_.empty(); });
    if (stop_) break;
    // Lines arriving meanwhile join this write.
    cv_.wait_for(lock, kFlushDelay, [this] { return stop_; });
    write_pending(lock);
  }
}

}  // namespace plinth::observe
