#pragma once
// Structured logging: one JSON object per line; lines are never split or interleaved.
// The Logger is owned by the App and passed explicitly; it never logs secrets
// on its own — callers choose the fields.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

namespace plinth::observe {

enum class Level { debug = 0, info = 1, warn = 2, error = 3 };

std::string_view level_name(Level l);
bool parse_level(std::string_view s, Level& out);

// Builds one JSON log line field by field.
class LogLine {
 public:
  LogLine(Level level, std::string_view msg);
  LogLine& str(std::string_view key, std::string_view value);
  LogLine& num(std::string_view key, std::int64_t value);
  LogLine& num(std::string_view key, std::uint64_t value);
  LogLine& real(std::string_view key, double value);
  LogLine& boolean(std::string_view key, bool value);
  // Terminates the object and returns the line including the trailing newline.
  std::string finish();
  Level level() const { return level_; }

 private:
  Level level_;
  std::string buf_;
};

// Lines are collected in memory and written by a background thread, many lines per write(2),
// within kFlushDelay of the first one: a write per line was a quarter of a cheap request's cost.
// WARN and ERROR lines are written at once (with everything before them); the destructor
// writes what is left. A kill -9 can lose the last few milliseconds of INFO lines.
class Logger {
 public:
  static constexpr std::chrono::milliseconds kFlushDelay{10};
  static constexpr std::size_t kMaxPending = 256 * 1024;  // written at once beyond this

  // Writes to `fd` (not owned). fd < 0 discards everything.
  explicit Logger(int fd = 2, Level min_level = Level::info) : fd_(fd), min_level_(min_level) {}
  ~Logger();
  Logger(const Logger&) = delete;
  Logger& operator=(const Logger&) = delete;

  bool enabled(Level l) const { return fd_ >= 0 && l >= min_level_; }
  void write(LogLine& line);
  void write(LogLine&& line) { write(line); }
  // Written at once, after every line before it.
  void write_raw(std::string_view text);
  // Writes every pending line now.
  void flush();

  void info(std::string_view msg) { write(LogLine(Level::info, msg)); }
  void warn(std::string_view msg) { write(LogLine(Level::warn, msg)); }
  void error(std::string_view msg) { write(LogLine(Level::error, msg)); }

 private:
  void append(std::string_view text, bool now);
  // With mu_ held: hands the pending lines to the fd (lock order: mu_, then write_mu_).
  void write_pending(std::unique_lock<std::mutex>& lock);
  void flusher();

  int fd_;
  Level min_level_;
  std::mutex mu_;
  std::mutex write_mu_;
  std::condition_variable cv_;
  std::string pending_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace plinth::observe
