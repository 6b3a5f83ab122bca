#include "plinth/util/time.hpp"

#include <cstdio>

namespace plinth::util {

namespace {

// The civil date of a day count since 1970-01-01 (Howard Hinnant's days-to-civil algorithm).
void civil_from_days(std::int64_t z, std::int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y = static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2);
}

void put_digits(char* out, unsigned v, int n) {
  for (int i = n - 1; i >= 0; --i) {
    out[i] = static_cast<char>('0' + v % 10);
    v /= 10;
  }
}

struct UtcParts {
  std::int64_t year;
  unsigned month, day, hour, minute, second, millis;
};

UtcParts utc_parts(std::int64_t ms_total) {
  std::int64_t secs = ms_total / 1000;
  std::int64_t ms = ms_total % 1000;
  if (ms < 0) {
    ms += 1000;
    --secs;
  }
  std::int64_t days = secs / 86400, rem = secs % 86400;
  if (rem < 0) {
    rem += 86400;
    --days;
  }
  UtcParts p{};
  civil_from_days(days, p.year, p.month, p.day);
  p.hour = static_cast<unsigned>(rem / 3600);
  p.minute = static_cast<unsigned>(rem / 60 % 60);
  p.second = static_cast<unsigned>(rem % 60);
  p.millis = static_cast<unsigned>(ms);
  return p;
}

}  // namespace

std::string format_utc_ms(std::int64_t ms, char sep) {
  auto p = utc_parts(ms);
  if (p.year < 0 || p.year > 9999) {
    char buf[96];
    std::snprintf(buf, sizeof(buf), "%04lld-%02u-%02u%c%02u:%02u:%02u.%03uZ",
                  static_cast<long long>(p.year), p.month, p.day, sep, p.hour, p.minute, p.second,
                  p.millis);
    return buf;
  }
  static constexpr char kShape[] = "0000-00-00 00:00:00.000Z";
  std::string out(kShape, 24);
  out[10] = sep;
  put_digits(&out[0], static_cast<unsigned>(p.year), 4);
  put_digits(&out[5], p.month, 2);
  put_digits(&out[8], p.day, 2);
  put_digits(&out[11], p.hour, 2);
  put_digits(&out[14], p.minute, 2);
  put_digits(&out[17], p.second, 2);
  put_digits(&out[20], p.millis, 3);
  return out;
}

std::string format_rfc3339_ms(SystemTime t) {
  return format_utc_ms(
      std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count(), 'T');
}

double unix_seconds(SystemTime t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}

}  // namespace plinth::util
