#pragma once
// Wall-clock helpers: RFC 3339 timestamps as logs and PocketBase use them.

#include <chrono>
#include <cstdint>
#include <string>

namespace plinth::util {

using SystemTime = std::chrono::system_clock::time_point;

// "2024-01-02T03:04:05.678Z" (UTC, milliseconds).
std::string format_rfc3339_ms(SystemTime t);

// The UTC calendar parts of `ms` milliseconds since the epoch (proleptic Gregorian, any sign).
struct UtcParts {
  std::int64_t year;
  unsigned month, day, hour, minute, second, millis;
};
UtcParts utc_parts(std::int64_t ms);

// Writes "YYYY-MM-DD?HH:MM:SS.mmmZ" (24 chars, `sep` between date and time) to `out` without
// gmtime or printf; false, and nothing written, outside the years 0000..9999.
bool format_utc_ms(std::int64_t ms, char sep, char* out);

// Seconds since the Unix epoch as a double (for metrics).
double unix_seconds(SystemTime t);

}  // namespace plinth::util
