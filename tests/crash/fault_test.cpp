// Storage faults against the real binary: fsync failing with EIO (strace
// injection) and a full disk (a small tmpfs in a private mount namespace).

#include <gtest/gtest.h>
#include <signal.h>

#include <cstdio>
#include <filesystem>

#include "crash_support.hpp"

namespace plinth::crash {
namespace {

using namespace std::chrono_literals;

int create_item(std::uint16_t port, const std::string& key, std::size_t blob = 0,
                std::string* body = nullptr) {
  test::Client c(port);
  std::string json = "{\"key\":\"" + key + "\"";
  if (blob) json += ",\"blob\":\"" + std::string(blob, 'b') + "\"";
  json += "}";
  auto r = c.request("POST", "/api/collections/items/records",
                     {{"Content-Type", "application/json"}}, json);
  if (!r) return 0;
  if (body) *body = r->body;
  return r->status;
}

int list_items(std::uint16_t port) {
  test::Client c(port);
  auto r = c.request("GET", "/api/collections/items/records?perPage=1");
  return r ? r->status : 0;
}

TEST(Crash, FsyncFailureStopsWritesKeepsReadsAndLosesNothing) {
  test::TempDir root;
  const std::string data = root.path() + "/data";
  prepare_items_dir(data);
  if (HasFatalFailure()) return;

  WriteLog log;
  std::size_t acked_before = 0;
  {
    test::ServerProcess::Launch l;
    l.data_dir = data;
    // From the 40th fsync/fdatasync of any one thread on, the kernel reports EIO.
    l.wrapper = {"strace", "-f",
                 "-qq",    "--seccomp-bpf",
                 "-o",     "/dev/null",
                 "-e",     "trace=fsync,fdatasync",
                 "-e",     "inject=fsync,fdatasync:error=EIO:when=40+",
                 "--"};
    test::ServerProcess s(l);
    {
      HttpWriters writers(s.port(), 4, "f", log);
      for (int i = 0; i < 200 && log.statuses()[503] == 0; ++i) std::this_thread::sleep_for(50ms);
      writers.stop();
    }
    acked_before = log.count(Outcome::ok);
    auto statuses = log.statuses();
    EXPECT_GT(statuses[503], 0) << "no write was refused after the injected fsync failure";
    // The store no longer takes writes: a new one is refused with the envelope...
    std::string body;
    EXPECT_EQ(create_item(s.port(), "after-failure", 0, &body), 503);
    EXPECT_NE(body.find("\"status\":503"), std::string::npos) << body;
    // ...while reads keep working.
    EXPECT_EQ(list_items(s.port()), 200);
    s.signal(SIGKILL);
    s.wait_exit(10s);
  }
  // After a restart (healthy disk) every acknowledged write is there.
  {
    test::ServerProcess::Launch l;
    l.data_dir = data;
    test::ServerProcess s(l);
    EXPECT_EQ(create_item(s.port(), "after-restart"), 200) << "writes resume after a restart";
    s.signal(SIGTERM);
    s.wait_exit(10s);
  }
  auto check = check_database(data);
  std::size_t lost = 0;
  for (const auto& k : log.keys(Outcome::ok)) lost += check.keys.count(k) ? 0 : 1;
  std::printf(
      "fsync-failure: attempted=%zu acknowledged=%zu refused=%zu unknown=%zu present=%zu "
      "lost=%zu\n",
      log.attempted().size(), acked_before, log.count(Outcome::failed), log.count(Outcome::unknown),
      check.keys.size(), lost);
  EXPECT_EQ(check.integrity, "ok");
  EXPECT_GT(acked_before, 0U);
  EXPECT_EQ(lost, 0U);
  EXPECT_EQ(check.keys.count("after-failure"), 0U);
}

TEST(Crash, DiskFullGives507ReadsWorkAndWritesResume) {
  test::TempDir root;
  const std::string mnt = root.path() + "/mnt";
  std::filesystem::create_directories(mnt);
  const std::string data = mnt + "/data";
  test::ServerProcess::Launch l;
  l.data_dir = data;
  l.wrapper = {"unshare", "-m", "sh", "-c", "mount -t tmpfs -o size=6m tmpfs \"$0\" && exec \"$@\"",
               mnt};
  test::ServerProcess s(l);
  auto in_ns = [&](const std::string& cmd) {
    std::string out;
    int rc = test::run_command(
        "nsenter -t " + std::to_string(s.server_pid()) + " -m sh -c '" + cmd + "' 2>&1", &out);
    return std::make_pair(rc, out);
  };
  auto [urc, uout] = in_ns(test::plinth_binary() +
                           " superuser upsert crash@example.com crash-test-pass --dir " + data);
  ASSERT_EQ(urc, 0) << uout;
  auto token = superuser_token(s.port());
  ASSERT_FALSE(token.empty());
  {
    test::Client c(s.port());
    auto r = c.request("POST", "/api/collections",
                       {{"Content-Type", "application/json"}, {"Authorization", token}},
                       R"({"name":"items","listRule":"","viewRule":"","createRule":"",
                           "fields":[{"name":"key","type":"text","required":true},{"name":"blob","type":"text","max":1000000}]})");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
  }
  ASSERT_EQ(create_item(s.port(), "before-full", 1000), 200);
  // Fill the filesystem.
  in_ns("dd if=/dev/zero of=" + mnt + "/filler bs=64k count=200 2>/dev/null; sync");
  int status = 200;
  std::string body;
  int n = 0;
  for (; n < 200 && status == 200; ++n)
    status = create_item(s.port(), "fill-" + std::to_string(n), 20000, &body);
  std::printf("disk-full: first refusal after %d writes: status=%d\n", n, status);
  EXPECT_EQ(status, 507) << body;
  EXPECT_NE(body.find("\"status\":507"), std::string::npos) << body;
  EXPECT_EQ(list_items(s.port()), 200) << "reads stop working on a full disk";
  // Free the space: writes resume.
  in_ns("rm -f " + mnt + "/filler");
  EXPECT_EQ(create_item(s.port(), "after-free", 1000), 200);
  auto [irc, integrity] = in_ns("sqlite3 " + data + "/data.db \"PRAGMA integrity_check\"");
  EXPECT_EQ(irc, 0);
  EXPECT_EQ(integrity, "ok\n");
  s.signal(SIGTERM);
  EXPECT_EQ(s.wait_exit(10s), 0);
}

}  // namespace
}  // namespace plinth::crash
