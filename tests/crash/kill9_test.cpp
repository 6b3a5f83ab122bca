// kill -9 at seeded random moments while writers run; every acknowledged write
// must survive every crash, nothing never attempted may appear.

#include <gtest/gtest.h>
#include <signal.h>

#include <cstdio>
#include <random>

#include "crash_support.hpp"

namespace plinth::crash {
namespace {

TEST(Crash, Kill9LoopLosesNoAcknowledgedWrite) {
  constexpr int kCycles = 20;
  constexpr int kWriters = 8;
  test::TempDir root;
  const std::string data = root.path() + "/data";
  prepare_items_dir(data);
  if (HasFatalFailure()) return;

  std::mt19937 rng(20261130);  // seeded: a failure replays the same schedule
  std::uniform_int_distribution<int> delay_ms(100, 700);
  WriteLog log;
  for (int cycle = 0; cycle < kCycles; ++cycle) {
    test::ServerProcess::Launch l;
    l.data_dir = data;
    test::ServerProcess s(l);
    HttpWriters writers(s.port(), kWriters, "c" + std::to_string(cycle), log);
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms(rng)));
    s.signal(SIGKILL);
    auto code = s.wait_exit(std::chrono::seconds(10));
    ASSERT_TRUE(code.has_value());
    EXPECT_EQ(*code, 128 + SIGKILL);
    writers.stop();
  }
  // One clean start proves recovery works through the server itself.
  {
    test::ServerProcess::Launch l;
    l.data_dir = data;
    test::ServerProcess s(l);
    test::Client c(s.port());
    auto r = c.request("GET", "/api/collections/items/records?perPage=1");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    s.signal(SIGTERM);
    EXPECT_EQ(s.wait_exit(std::chrono::seconds(10)), 0);
  }

  auto check = check_database(data);
  auto acked = log.keys(Outcome::ok);
  auto attempted = log.attempted();
  std::size_t lost = 0, phantom = 0;
  for (const auto& k : acked) lost += check.keys.count(k) ? 0 : 1;
  for (const auto& k : check.keys) phantom += attempted.count(k) ? 0 : 1;
  std::printf(
      "kill-9: cycles=%d attempted=%zu acknowledged=%zu failed=%zu unknown=%zu present=%zu "
      "lost=%zu phantom=%zu\n",
      kCycles, attempted.size(), acked.size(), log.count(Outcome::failed),
      log.count(Outcome::unknown), check.keys.size(), lost, phantom);
  EXPECT_EQ(check.integrity, "ok");
  EXPECT_GT(acked.size(), 100U) << "the workload barely ran";
  EXPECT_EQ(lost, 0U);
  EXPECT_EQ(phantom, 0U);
}

}  // namespace
}  // namespace plinth::crash
