// PocketBase's identifier macros (tools/search/identifier_macros.go), in UTC.
// Dates use PocketBase's "YYYY-MM-DD HH:MM:SS.mmmZ"; the *End macros carry
// Go's .999999999 nanoseconds, which the format truncates to .999.

#include <chrono>

#include "plinth/core/datetime.hpp"
#include "resolver.hpp"

namespace plinth::query::detail {

namespace {

using namespace std::chrono;

constexpr std::int64_t kDayMs = 86'400'000;

std::int64_t ms_of(sys_days d) {
  return duration_cast<milliseconds>(d.time_since_epoch()).count();
}

// Go's AddDate normalises out-of-range days (Jan 31 + 1 month = Mar 2/3); the
// macros only add whole months to the 1st, so plain year_month_day arithmetic matches.
Param date_param(std::int64_t ms) {
  return Param{core::format_datetime_ms(ms)};
}

}  // namespace

std::optional<Param> macro_value(std::string_view name, std::int64_t now_ms) {
  auto now = sys_time<milliseconds>(milliseconds(now_ms));
  auto day = floor<days>(now);
  year_month_day ymd{day};
  auto tod = hh_mm_ss<milliseconds>(now - day);
  auto start_of = [](year_month_day d) { return ms_of(sys_days{d}); };
  constexpr std::int64_t kLastMs = kDayMs - 1;

  if (name == "@now") return date_param(now_ms);
  if (name == "@yesterday") return date_param(now_ms - kDayMs);
  if (name == "@tomorrow") return date_param(now_ms + kDayMs);
  if (name == "@second") return Param{static_cast<std::int64_t>(tod.seconds().count())};
  if (name == "@minute") return Param{static_cast<std::int64_t>(tod.minutes().count())};
  if (name == "@hour") return Param{static_cast<std::int64_t>(tod.hours().count())};
  if (name == "@day") return Param{static_cast<std::int64_t>(unsigned(ymd.day()))};
  if (name == "@month") return Param{static_cast<std::int64_t>(unsigned(ymd.month()))};
  if (name == "@weekday") {
    return Param{static_cast<std::int64_t>(weekday(day).c_encoding())};  // Sunday = 0, as Go
  }
  if (name == "@year") return Param{static_cast<std::int64_t>(int(ymd.year()))};
  if (name == "@todayStart") return date_param(ms_of(day));
  if (name == "@todayEnd") return date_param(ms_of(day) + kLastMs);
  if (name == "@monthStart") return date_param(start_of(ymd.year() / ymd.month() / 1));
  if (name == "@monthEnd") {
    return date_param(start_of(ymd.year() / ymd.month() / last) + kLastMs);
  }
  if (name == "@yearStart") return date_param(start_of(ymd.year() / January / 1));
  if (name == "@yearEnd") return date_param(start_of(ymd.year() / December / 31) + kLastMs);
  return std::nullopt;
}

}  // namespace plinth::query::detail
