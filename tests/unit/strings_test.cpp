#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <thread>
#include <vector>

#include "plinth/http/errors.hpp"
#include "plinth/util/process.hpp"
#include "plinth/util/random.hpp"
#include "plinth/util/strings.hpp"

namespace plinth {
namespace {

TEST(Strings, JsonQuoteEscapesControlAndQuotes) {
  struct Case {
    const char* name;
    std::string in;
    std::string want;
  } cases[] = {
      {"plain", "abc", "\"abc\""},
      {"quote", "a\"b", "\"a\\\"b\""},
      {"backslash", "a\\b", "\"a\\\\b\""},
      {"newline", "a\nb", "\"a\\nb\""},
      {"nul", std::string("a\0b", 3), "\"a\\u0000b\""},
      {"del", "\x7f", "\"\\u007f\""},
      {"utf8 kept", "h\xc3\xa9", "\"h\xc3\xa9\""},
  };
  for (const auto& c : cases) EXPECT_EQ(util::json_quote(c.in), c.want) << c.name;
}

TEST(Process, ThreadNamesAreCutToWhatTheKernelKeeps) {
  std::string short_name, long_name;
  std::thread([&] {
    util::name_this_thread("plinth-test");
    short_name = util::this_thread_name();
    util::name_this_thread("plinth-a-name-longer-than-fifteen");
    long_name = util::this_thread_name();
  }).join();
  EXPECT_EQ(short_name, "plinth-test");
  EXPECT_EQ(long_name, "plinth-a-name-l");
}

TEST(Strings, EachPartVisitsWhatSplitReturnsAndStopsWhenAsked) {
  for (std::string_view s : {"", "a", "a&b", "&a&&b&", "&"}) {
    std::vector<std::string_view> seen;
    EXPECT_FALSE(util::each_part(s, '&', [&](std::string_view p) {
      seen.push_back(p);
      return false;
    }));
    EXPECT_EQ(seen, util::split(s, '&')) << s;
  }
  int calls = 0;
  EXPECT_TRUE(util::each_part("a&b&c", '&', [&](std::string_view p) {
    ++calls;
    return p == "b";
  }));
  EXPECT_EQ(calls, 2);
}

TEST(Strings, UrlDecode) {
  EXPECT_EQ(util::url_decode("a%20b+c"), "a b c");
  EXPECT_EQ(util::url_decode("a+b", false), "a+b");
  EXPECT_EQ(util::url_decode("%zz%4"), "%zz%4");
  EXPECT_EQ(util::url_decode("%41%42"), "AB");
  EXPECT_EQ(util::url_decode("%"), "%");
}

TEST(Strings, HeaderListContains) {
  EXPECT_TRUE(util::header_list_contains("gzip, deflate", "gzip"));
  EXPECT_TRUE(util::header_list_contains("deflate , GZIP;q=1", "gzip"));
  EXPECT_FALSE(util::header_list_contains("xgzip", "gzip"));
}

TEST(Strings, IequalsFoldsAsciiLettersOnly) {
  EXPECT_TRUE(util::iequals("Content-Length", "content-LENGTH"));
  EXPECT_TRUE(util::iequals("", ""));
  EXPECT_FALSE(util::iequals("Content-Length", "Content-Lengt"));
  // Pairs 32 apart that are not letters stay different.
  EXPECT_FALSE(util::iequals("[", "{"));
  EXPECT_FALSE(util::iequals("@", "`"));
  EXPECT_FALSE(util::iequals("^", "~"));
  EXPECT_FALSE(util::iequals("\xc4", "\xe4")) << "bytes above ASCII are compared as they are";
}

TEST(Random, IdsHaveThePocketBaseAlphabetAndLength) {
  for (int i = 0; i < 200; ++i) {
    auto id = util::random_id();
    ASSERT_EQ(id.size(), 15U);
    for (char c : id) EXPECT_TRUE((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) << id;
  }
  EXPECT_NE(util::random_id(), util::random_id());
  auto hex = util::random_hex(16);
  EXPECT_EQ(hex.size(), 32U);
  EXPECT_EQ(hex.find_first_not_of("0123456789abcdef"), std::string::npos);
}

TEST(Random, TimeOrderedIdsSortByTheirTimeAndKeepARandomTail) {
  auto pocketbase_like = [](const std::string& id) {
    return id.size() == 15 &&
           id.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789") == std::string::npos;
  };
  constexpr std::int64_t k2020 = 1577836800000, kDay = 86'400'000;
  // The first 7 characters count 36 ms steps since 2020 in base 36 (digits before letters).
  EXPECT_EQ(util::time_ordered_id(k2020).substr(0, 7), "0000000");
  EXPECT_EQ(util::time_ordered_id(k2020 + 35).substr(0, 7), "0000000");
  EXPECT_EQ(util::time_ordered_id(k2020 + 36).substr(0, 7), "0000001");
  EXPECT_EQ(util::time_ordered_id(k2020 + 36 * 36).substr(0, 7), "0000010");
  EXPECT_EQ(util::time_ordered_id(k2020 + 36 * 10).substr(0, 7), "000000a");
  // Before 2020 and after 2109 the prefix stays at its ends.
  EXPECT_EQ(util::time_ordered_id(0).substr(0, 7), "0000000");
  EXPECT_EQ(util::time_ordered_id(k2020 + 100 * 366 * kDay).substr(0, 7), "zzzzzzz");
  // Later steps sort after earlier ones, across every digit carry of a day's range.
  std::string prev = util::time_ordered_id(k2020 + 2500 * kDay);
  for (std::int64_t t = k2020 + 2500 * kDay + 36; t < k2020 + 2501 * kDay; t += 36 * 97) {
    auto id = util::time_ordered_id(t);
    ASSERT_TRUE(pocketbase_like(id)) << id;
    ASSERT_LT(prev, id) << t;
    prev = id;
  }
  // Ids of the same step differ in their random tail.
  std::set<std::string> tails;
  for (int i = 0; i < 200; ++i) {
    auto id = util::time_ordered_id(k2020 + 1000);
    EXPECT_TRUE(pocketbase_like(id)) << id;
    tails.insert(id.substr(7));
  }
  EXPECT_EQ(tails.size(), 200U);
  // Now is between the two moments around the call.
  auto ms = [] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  };
  auto before = util::time_ordered_id(ms());
  auto now = util::time_ordered_id();
  auto after = util::time_ordered_id(ms() + 36);
  EXPECT_LE(before.substr(0, 7), now.substr(0, 7));
  EXPECT_LT(now.substr(0, 7), after.substr(0, 7));
}

TEST(Errors, EnvelopeShape) {
  EXPECT_EQ(http::error_body(404, ""),
            R"({"data":{},"message":"The requested resource wasn't found.","status":404})");
  EXPECT_EQ(http::error_body(400, "Bad \"x\"", R"({"a":{"code":"c","message":"m"}})"),
            R"({"data":{"a":{"code":"c","message":"m"}},"message":"Bad \"x\"","status":400})");
  auto r = http::error_response(403);
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.headers.get("content-type"), "application/json");
}

}  // namespace
}  // namespace plinth
