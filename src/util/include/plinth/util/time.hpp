#pragma once
// Wall-clock helpers: RFC 3339 timestamps as logs and PocketBase use them.

#include <chrono>
#include <cstdint>
#include <string>

namespace plinth::util {

using SystemTime = std::chrono::system_clock::time_point;

// "2024-01-02T03:04:05.678Z" (UTC, milliseconds).
std::string format_rfc3339_ms(SystemTime t);

// "YYYY-MM-DD?HH:MM:SS.mmmZ" for `ms` milliseconds since the epoch, UTC, with `sep` between
// date and time (' ' for PocketBase's datetimes, 'T' for RFC 3339). No gmtime or printf for
// the years 0000..9999; beyond them the year takes the digits it needs.
std::string format_utc_ms(std::int64_t ms, char sep);

// Seconds since the Unix epoch as a double (for metrics).
double unix_seconds(SystemTime t);

}  // namespace plinth::util
