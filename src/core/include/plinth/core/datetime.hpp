#pragma once
// PocketBase's date format "2006-01-02 15:04:05.000Z" (UTC, milliseconds).

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace plinth::core {

// Parses the PocketBase format, RFC 3339 (with 'T' or ' ', fractions, Z or
// offsets), "YYYY-MM-DD HH:MM:SS" and "YYYY-MM-DD"; returns milliseconds since the epoch.
std::optional<std::int64_t> parse_datetime_ms(std::string_view s);

// Formats epoch milliseconds as "YYYY-MM-DD HH:MM:SS.mmmZ".
std::string format_datetime_ms(std::int64_t ms);

// True when `s` is already in the PocketBase format (what normalize_datetime returns unchanged).
bool is_canonical_datetime(std::string_view s);

// Normalises any accepted input to the PocketBase format; "" when unparseable.
std::string normalize_datetime(std::string_view s);

std::string now_datetime();

}  // namespace plinth::core
