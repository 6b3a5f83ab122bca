// Simulated power loss under the store (in-process, through the "powercut"
// VFS): with durability full nothing acknowledged is lost; the figures for
// durability normal show what that mode gives up.

#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <random>

#include "crash_support.hpp"
#include "plinth/core/json.hpp"
#include "plinth/core/record.hpp"
#include "plinth/store/store.hpp"
#include "plinth/util/random.hpp"
#include "powerloss_vfs.hpp"

namespace plinth::crash {
namespace {

struct Figures {
  std::size_t attempted = 0, acked = 0, lost = 0, present = 0;
  CrashReport disk;
};

core::Collection items_collection() {
  return core::collection_from_row(
      "items_collection", false, "base", "items",
      R"([{"name":"id","type":"text","primaryKey":true,"required":true,"system":true},
          {"name":"key","type":"text"}])",
      R"J(["CREATE UNIQUE INDEX idx_items_key ON items (key)"])J", "", "", "", "", "", "{}", "",
      "");
}

Figures run_cycles(store::Durability durability, int cycles, unsigned seed,
                   int checkpoint_pages = store::StoreOptions{}.checkpoint_pages) {
  PowerCut::install();
  test::TempDir dir;
  {
    auto s = store::open_sqlite_store({.dir = dir.path()});
    s->create_collection(items_collection());
  }
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> run_ms(50, 300);
  Figures fig;
  std::set<std::string> acked_all;
  for (int cycle = 0; cycle < cycles; ++cycle) {
    std::atomic<bool> crashed{false}, stop{false};
    std::mutex mu;
    std::set<std::string> acked;
    {
      auto s = store::open_sqlite_store({.dir = dir.path(),
                                         .durability = durability,
                                         .vfs = PowerCut::kName,
                                         .checkpoint_pages = checkpoint_pages});
      auto c = s->catalog()->find("items");
      std::vector<std::thread> writers;
      for (int t = 0; t < 8; ++t) {
        writers.emplace_back([&, t] {
          for (int n = 0; !stop; ++n) {
            char key[48];
            std::snprintf(key, sizeof(key), "p%d-%d-%d", cycle, t, n);
            {
              std::lock_guard lock(mu);
              ++fig.attempted;
            }
            try {
              s->insert_record(*c, {{"id", util::random_id(15)}, {"key", key}});
              // Acknowledged only if it returned before the power went out.
              if (!crashed) {
                std::lock_guard lock(mu);
                acked.insert(key);
              }
            } catch (const std::exception&) {
            }
          }
        });
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(run_ms(rng)));
      crashed = true;
      auto report = PowerCut::crash(rng);
      fig.disk.unsynced_writes += report.unsynced_writes;
      fig.disk.kept += report.kept;
      fig.disk.dropped += report.dropped;
      fig.disk.torn += report.torn;
      stop = true;
      for (auto& w : writers) w.join();
    }  // the "crashed" process goes away; nothing it does now reaches the disk
    PowerCut::thaw();
    acked_all.insert(acked.begin(), acked.end());
  }
  auto check = check_database(dir.path());
  EXPECT_EQ(check.integrity, "ok");
  fig.acked = acked_all.size();
  fig.present = check.keys.size();
  for (const auto& k : acked_all) fig.lost += check.keys.count(k) ? 0 : 1;
  // The store reopens normally after all of it.
  auto s = store::open_sqlite_store({.dir = dir.path()});
  EXPECT_TRUE(s->catalog()->find("items"));
  return fig;
}

TEST(Crash, PowerLossWithFullDurabilityLosesNothingAcknowledged) {
  auto f = run_cycles(store::Durability::full, 12, 7);
  std::printf(
      "power-loss (durability full): cycles=12 attempted=%zu acknowledged=%zu present=%zu lost=%zu "
      "unsynced-writes=%llu dropped=%llu torn=%llu kept=%llu\n",
      f.attempted, f.acked, f.present, f.lost,
      static_cast<unsigned long long>(f.disk.unsynced_writes),
      static_cast<unsigned long long>(f.disk.dropped), static_cast<unsigned long long>(f.disk.torn),
      static_cast<unsigned long long>(f.disk.kept));
  EXPECT_GT(f.acked, 100U);
  EXPECT_GT(f.disk.unsynced_writes, 0U) << "the power cut never caught a write in flight";
  EXPECT_EQ(f.lost, 0U);
}

TEST(Crash, PowerLossAcrossCheckpointsLosesNothingAcknowledged) {
  // Checkpoints every 16 WAL pages: the background checkpointer, the writer's catch-up and the
  // WAL starting over all run many times per cycle, and the power may go out during any of them.
  auto f = run_cycles(store::Durability::full, 10, 13, 16);
  std::printf(
      "power-loss across checkpoints (durability full): cycles=10 attempted=%zu acknowledged=%zu "
      "present=%zu lost=%zu unsynced-writes=%llu\n",
      f.attempted, f.acked, f.present, f.lost,
      static_cast<unsigned long long>(f.disk.unsynced_writes));
  EXPECT_GT(f.acked, 100U);
  EXPECT_GT(f.disk.unsynced_writes, 0U) << "the power cut never caught a write in flight";
  EXPECT_EQ(f.lost, 0U);
}

TEST(Crash, PowerLossWithNormalDurabilityIsMeasured) {
  // Not a guarantee but a measurement: --durability normal survives process
  // crashes, and a power cut may take the commits since the last checkpoint.
  auto f = run_cycles(store::Durability::normal, 6, 11);
  std::printf(
      "power-loss (durability normal): cycles=6 attempted=%zu acknowledged=%zu present=%zu "
      "lost=%zu "
      "(normal mode trades these for speed)\n",
      f.attempted, f.acked, f.present, f.lost);
  EXPECT_GT(f.acked, 100U);
  EXPECT_LE(f.lost, f.acked);
}

}  // namespace
}  // namespace plinth::crash
