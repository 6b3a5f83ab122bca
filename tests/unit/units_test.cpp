#include <gtest/gtest.h>

#include "plinth/app/units.hpp"

namespace plinth::app {
namespace {

TEST(Units, Durations) {
  struct Case {
    const char* in;
    std::optional<long> ms;
  } cases[] = {
      {"30s", 30000},        {"250ms", 250},        {"2m", 120000},           {"1h", 3600000},
      {"5", 5000},           {"1.5s", 1500},        {"", std::nullopt},       {"s", std::nullopt},
      {"-1s", std::nullopt}, {"10x", std::nullopt}, {"1e999s", std::nullopt},
  };
  for (const auto& c : cases) {
    auto got = parse_duration(c.in);
    if (!c.ms) {
      EXPECT_FALSE(got.has_value()) << c.in;
    } else {
      ASSERT_TRUE(got.has_value()) << c.in;
      EXPECT_EQ(got->count(), *c.ms) << c.in;
    }
  }
}

TEST(Units, Bytes) {
  struct Case {
    const char* in;
    std::optional<std::uint64_t> bytes;
  } cases[] = {
      {"512", 512},     {"16KiB", 16384}, {"32MiB", 33554432}, {"1GiB", 1073741824ULL},
      {"1MB", 1000000}, {"2k", 2048},     {"x", std::nullopt}, {"12PB", std::nullopt},
  };
  for (const auto& c : cases) {
    auto got = parse_bytes(c.in);
    if (!c.bytes) {
      EXPECT_FALSE(got.has_value()) << c.in;
    } else {
      ASSERT_TRUE(got.has_value()) << c.in;
      EXPECT_EQ(*got, *c.bytes) << c.in;
    }
  }
}

TEST(Units, HostPort) {
  auto a = parse_host_port("127.0.0.1:8090");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 8090);
  auto b = parse_host_port("[::1]:0");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->host, "::1");
  EXPECT_EQ(b->port, 0);
  auto c = parse_host_port(":9000");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->host, "0.0.0.0");
  EXPECT_FALSE(parse_host_port("localhost"));
  EXPECT_FALSE(parse_host_port("a:70000"));
  EXPECT_FALSE(parse_host_port("a:"));
  EXPECT_FALSE(parse_host_port("::1:80"));
}

}  // namespace
}  // namespace plinth::app
