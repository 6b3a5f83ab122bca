#include "plinth/observe/log.hpp"

#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>

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

void Logger::write(LogLine& line) {
  if (!enabled(line.level())) return;
  write_raw(line.finish());
}

void Logger::write_raw(std::string_view text) {
  if (fd_ < 0) return;
  std::lock_guard lock(mu_);
  while (!text.empty()) {
    ssize_t n = ::write(fd_, text.data(), text.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return;  // a broken log sink must never take the server down
    }
    text.remove_prefix(static_cast<std::size_t>(n));
  }
}

}  // namespace plinth::observe
