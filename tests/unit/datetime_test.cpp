// Datetime text: the fast formatter and the canonical-text shortcut agree with the C library.
#include <gtest/gtest.h>

#include <cstdio>
#include <ctime>
#include <random>
#include <string>

#include "plinth/core/datetime.hpp"
#include "plinth/util/time.hpp"

namespace plinth::core {
namespace {

std::string reference_format(std::int64_t ms_total) {
  std::int64_t secs = ms_total / 1000;
  int ms = static_cast<int>(ms_total % 1000);
  if (ms < 0) {
    ms += 1000;
    --secs;
  }
  std::time_t t = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[96];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02d %02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
  return buf;
}

TEST(Datetime, FormatMatchesGmtimeAcrossTheFourDigitYears) {
  std::mt19937_64 rng(42);
  // 0001-01-01 .. 9999-12-31 in milliseconds.
  std::uniform_int_distribution<std::int64_t> any(-62135596800000LL, 253402300799999LL);
  for (int i = 0; i < 200000; ++i) {
    auto ms = any(rng);
    ASSERT_EQ(format_datetime_ms(ms), reference_format(ms)) << ms;
  }
  for (std::int64_t ms :
       {0LL, -1LL, 999LL, 1000LL, 951782400000LL /* 2000-02-29 */, 4107456000000LL /* 2100-02-28 */,
        4107542400000LL /* 2100-03-01 */, -2208988800000LL /* 1900-01-01 */, 253402300799999LL}) {
    EXPECT_EQ(format_datetime_ms(ms), reference_format(ms)) << ms;
  }
}

TEST(Datetime, LogTimestampsAreTheSameTextWithAT) {
  std::mt19937_64 rng(7);
  // What system_clock's nanoseconds hold: about 1678..2262.
  std::uniform_int_distribution<std::int64_t> any(-9'000'000'000'000LL, 9'000'000'000'000LL);
  for (int i = 0; i < 20000; ++i) {
    auto ms = any(rng);
    auto want = reference_format(ms);
    want[10] = 'T';
    ASSERT_EQ(util::format_rfc3339_ms(util::SystemTime(std::chrono::milliseconds(ms))), want) << ms;
  }
  // Beyond four-digit years the general formatter still answers.
  EXPECT_EQ(format_datetime_ms(253402300800000LL), "10000-01-01 00:00:00.000Z");
}

TEST(Datetime, NormalizeKeepsCanonicalTextAndRewritesTheRest) {
  EXPECT_EQ(normalize_datetime("2026-11-30 15:11:03.471Z"), "2026-11-30 15:11:03.471Z");
  EXPECT_EQ(normalize_datetime("2024-02-29 00:00:00.000Z"), "2024-02-29 00:00:00.000Z");
  EXPECT_EQ(normalize_datetime("2026-11-30T15:11:03Z"), "2026-11-30 15:11:03.000Z");
  EXPECT_EQ(normalize_datetime("2026-11-30 15:11:03.4712Z"), "2026-11-30 15:11:03.471Z");
  EXPECT_EQ(normalize_datetime("2026-11-30 17:11:03.000+02:00"), "2026-11-30 15:11:03.000Z");
  EXPECT_EQ(normalize_datetime("2026-11-30"), "2026-11-30 00:00:00.000Z");
  // A leap second in canonical shape is carried into the next minute, as before.
  EXPECT_EQ(normalize_datetime("2026-12-31 23:59:60.000Z"), "2027-01-01 00:00:00.000Z");
  // Canonical shape, impossible values: rejected, not passed through.
  EXPECT_EQ(normalize_datetime("2023-02-29 00:00:00.000Z"), "");
  EXPECT_EQ(normalize_datetime("2026-13-01 00:00:00.000Z"), "");
  EXPECT_EQ(normalize_datetime("2026-11-30 24:00:00.000Z"), "");
  EXPECT_EQ(normalize_datetime("2026-11-30 23:60:00.000Z"), "");
  EXPECT_EQ(normalize_datetime("2026-11-3a 00:00:00.000Z"), "");
  EXPECT_EQ(normalize_datetime("not a date"), "");
}

}  // namespace
}  // namespace plinth::core
