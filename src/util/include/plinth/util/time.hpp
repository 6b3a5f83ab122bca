#pragma once
// Wall-clock helpers: RFC 3339 timestamps as logs and PocketBase use them.

#include <chrono>
#include <cstdint>
#include <string>

namespace plinth::util {

using SystemTime = std::chrono::system_clock::time_point;

// "2024-01-02T03:04:05.678Z" (UTC, milliseconds).
std::string format_rfc3339_ms(SystemTime t);

// Seconds since the Unix epoch as a double (for metrics).
double unix_seconds(SystemTime t);

}  // namespace plinth::util
