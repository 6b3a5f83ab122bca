#pragma once
// Structured logging: one JSON object per line, written whole with one write(2).
// The Logger is owned by the App and passed explicitly; it never logs secrets
// on its own — callers choose the fields.

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>

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

class Logger {
 public:
  // Writes to `fd` (not owned). fd < 0 discards everything.
  explicit Logger(int fd = 2, Level min_level = Level::info) : fd_(fd), min_level_(min_level) {}

  bool enabled(Level l) const { return fd_ >= 0 && l >= min_level_; }
  void write(LogLine& line);
  void write(LogLine&& line) { write(line); }
  void write_raw(std::string_view text);

  void info(std::string_view msg) { write(LogLine(Level::info, msg)); }
  void warn(std::string_view msg) { write(LogLine(Level::warn, msg)); }
  void error(std::string_view msg) { write(LogLine(Level::error, msg)); }

 private:
  int fd_;
  Level min_level_;
  std::mutex mu_;
};

}  // namespace plinth::observe
