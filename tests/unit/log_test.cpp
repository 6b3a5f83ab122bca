// The logger: lines collected in memory reach the fd whole and in order, WARN and ERROR at once,
// INFO within the flush delay, and everything by the time the logger is gone.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "plinth/observe/log.hpp"
#include "test_support.hpp"

namespace plinth::observe {
namespace {

using namespace std::chrono_literals;

struct LogFile {
  test::TempDir dir;
  std::string path = dir.path() + "/log";
  int fd = ::open(path.c_str(), O_CREAT | O_WRONLY | O_TRUNC, 0600);
  ~LogFile() { ::close(fd); }
  std::vector<std::string> lines() const {
    std::ifstream in(path);
    std::vector<std::string> out;
    for (std::string l; std::getline(in, l);) out.push_back(l);
    return out;
  }
};

TEST(Logger, LinesFromManyThreadsArriveWholeAndInOrderPerThread) {
  LogFile f;
  constexpr int kThreads = 4, kLines = 5000;
  {
    Logger logger(f.fd);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&logger, t] {
        for (int i = 0; i < kLines; ++i)
          logger.write(
              LogLine(Level::info, "line").num("t", std::int64_t{t}).num("i", std::int64_t{i}));
      });
    }
    for (auto& th : threads) th.join();
  }  // the destructor writes what is left
  auto lines = f.lines();
  ASSERT_EQ(lines.size(), static_cast<std::size_t>(kThreads * kLines));
  std::map<int, int> next;
  for (const auto& l : lines) {
    ASSERT_TRUE(l.starts_with("{\"time\":\"") && l.ends_with("}")) << l;
    auto t = std::stoi(l.substr(l.find("\"t\":") + 4));
    auto i = std::stoi(l.substr(l.find("\"i\":") + 4));
    EXPECT_EQ(i, next[t]) << "thread " << t;
    next[t] = i + 1;
  }
}

TEST(Logger, WarningsAreWrittenAtOnceWithTheLinesBeforeThem) {
  LogFile f;
  Logger logger(f.fd);
  logger.info("before");
  logger.warn("careful");
  auto lines = f.lines();  // no waiting: write() has returned
  ASSERT_EQ(lines.size(), 2U);
  EXPECT_NE(lines[0].find("\"msg\":\"before\""), std::string::npos);
  EXPECT_NE(lines[1].find("\"level\":\"WARN\""), std::string::npos);
  logger.error("broken");
  EXPECT_EQ(f.lines().size(), 3U);
}

TEST(Logger, InfoLinesFollowWithinTheFlushDelay) {
  LogFile f;
  Logger logger(f.fd);
  logger.info("first");
  auto deadline = std::chrono::steady_clock::now() + 5s;  // far above the 10 ms delay
  while (f.lines().empty() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(1ms);
  ASSERT_EQ(f.lines().size(), 1U) << "the background writer wrote the line";
  logger.info("second");
  logger.flush();
  EXPECT_EQ(f.lines().size(), 2U);
}

TEST(Logger, ADisabledLevelAndANegativeFdWriteNothing) {
  LogFile f;
  {
    Logger logger(f.fd, Level::warn);
    logger.info("hidden");
    logger.warn("shown");
  }
  EXPECT_EQ(f.lines().size(), 1U);
  Logger none(-1);
  none.error("nowhere");  // no fd, no thread, no crash
}

}  // namespace
}  // namespace plinth::observe
