// Process lifecycle: graceful shutdown, CLI, environment flags, TLS, fd limit.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <thread>

#include "test_support.hpp"

namespace plinth::test {
namespace {

using namespace std::chrono_literals;

TEST(Lifecycle, SigtermLetsInFlightRequestFinishAndExitsZero) {
  ServerProcess s;
  Client idle(s.port());
  ASSERT_TRUE(idle.request("GET", "/api/health"));

  // A request whose body is still arriving when the signal lands.
  Client busy(s.port());
  ASSERT_TRUE(busy.send("POST /api/health HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nhello"));
  std::this_thread::sleep_for(200ms);
  s.signal(SIGTERM);
  ASSERT_TRUE(s.wait_for_log("shutting down", 5s));

  // Idle keep-alive connections are closed promptly.
  EXPECT_TRUE(idle.closed_by_peer(3s));
  // New connections are no longer accepted.
  std::this_thread::sleep_for(100ms);
  Client late(s.port());
  EXPECT_TRUE(!late.connected() || late.closed_by_peer(3s));

  ASSERT_TRUE(busy.send("world"));
  auto r = busy.read_response();
  ASSERT_TRUE(r) << "in-flight request was dropped";
  EXPECT_EQ(r->status, 405);
  EXPECT_EQ(r->header("Connection"), "close");

  auto code = s.wait_exit(5s);
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 0);
  EXPECT_TRUE(s.wait_for_log("\"clean\":true", 1s));
}

TEST(Lifecycle, ShutdownDeadlineCutsStuckClients) {
  ServerProcess s({"--shutdown-timeout", "500ms"});
  Client stuck(s.port());
  ASSERT_TRUE(stuck.send("POST /api/health HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc"));
  std::this_thread::sleep_for(100ms);
  s.signal(SIGINT);
  auto code = s.wait_exit(5s);
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 0);
  EXPECT_TRUE(s.wait_for_log("shutdown deadline reached", 1s));
}

TEST(Lifecycle, FirstRunSaysHowToCreateASuperuser) {
  ServerProcess fresh;
  EXPECT_TRUE(fresh.wait_for_log("no superuser yet; create one with: plinth superuser upsert", 2s));
  TempDir dir;
  std::string out;
  ASSERT_EQ(
      run_command(plinth_binary() + " superuser upsert admin@example.com adminpass123 --dir " +
                      dir.path() + "/data 2>&1",
                  &out),
      0)
      << out;
  ServerProcess::Launch l;
  l.data_dir = dir.path() + "/data";
  ServerProcess with_admin(l);
  std::this_thread::sleep_for(300ms);
  for (const auto& line : with_admin.log_lines())
    EXPECT_EQ(line.find("no superuser yet"), std::string::npos);
}

TEST(Lifecycle, OpenFileSoftLimitRaisedToHard) {
  rlimit rl{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &rl), 0);
  ServerProcess s;
  Client c(s.port());
  auto r = c.request("GET", "/metrics");
  ASSERT_TRUE(r);
  auto pos = r->body.find("\nprocess_max_fds ");
  ASSERT_NE(pos, std::string::npos);
  EXPECT_EQ(std::stoull(r->body.substr(pos + 17)), static_cast<unsigned long long>(rl.rlim_max));
}

TEST(Lifecycle, ThreadsAreNamedForWhatTheyDo) {
  ServerProcess s({"--threads", "2"});
  auto read_names = [&] {
    std::map<std::string, int> out;
    for (const auto& e :
         std::filesystem::directory_iterator("/proc/" + std::to_string(s.server_pid()) + "/task")) {
      std::ifstream in(e.path() / "comm");
      std::string name;
      std::getline(in, name);
      ++out[name];
    }
    return out;
  };
  // A pool thread takes its name with its first request: a record list goes to the pool.
  Client c(s.port());
  auto r = c.request("GET", "/api/collections/users/records");
  ASSERT_TRUE(r);
  // The second I/O thread may start just after the server announced its port.
  auto names = read_names();
  for (int i = 0; i < 100 && names["plinth-io"] == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    names = read_names();
  }
  // The main thread keeps the process's name and runs the first I/O loop.
  EXPECT_EQ(names["plinth-io"], 1);
#ifndef PLINTH_NO_FIBERS  // sanitizer builds run cooperative routes on the pool instead
  EXPECT_GE(names["plinth-fibers"], 1);
#endif
  EXPECT_EQ(names["plinth-writer"], 1);
  EXPECT_EQ(names["plinth-sync"], 1);
  EXPECT_EQ(names["plinth-ckpt"], 1);
  EXPECT_EQ(names["plinth-realtime"], 1);
  EXPECT_EQ(names["plinth-log"], 1);
  EXPECT_GE(names["plinth-pool"], 1);
}

TEST(Lifecycle, FlagsFromEnvironment) {
  ServerProcess s({}, {"PLINTH_MAX_REQUEST_LINE=600"});
  Client c(s.port());
  auto r = c.request("GET", "/api/health?x=" + std::string(1000, 'a'));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 414);
}

TEST(Lifecycle, CliVersionHelpAndBadFlags) {
  std::string out;
  EXPECT_EQ(run_command(plinth_binary() + " version", &out), 0);
  EXPECT_EQ(out.rfind("plinth ", 0), 0U) << out;
  out.clear();
  EXPECT_EQ(run_command(plinth_binary() + " serve --help", &out), 0);
  for (const char* flag :
       {"--http", "--dir", "--threads", "--max-body-bytes", "--read-timeout", "--idle-timeout",
        "--max-connections", "--shutdown-timeout", "--tls-cert"}) {
    EXPECT_NE(out.find(flag), std::string::npos) << flag;
  }
  EXPECT_NE(run_command(plinth_binary() + " serve --read-timeout banana 2>&1", &out), 0);
  EXPECT_NE(run_command(plinth_binary() + " serve --http nope 2>&1", &out), 0);
  EXPECT_NE(run_command(plinth_binary() + " serve --tls-cert only.pem 2>&1", &out), 0);
  EXPECT_NE(run_command(plinth_binary() + " 2>&1", &out), 0);
}

TEST(Lifecycle, TlsServesHttps) {
  TempDir tmp;
  std::string cert = tmp.path() + "/cert.pem", key = tmp.path() + "/key.pem";
  std::string out;
  ASSERT_EQ(
      run_command("openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost -keyout " +
                      key + " -out " + cert + " 2>&1",
                  &out),
      0)
      << out;
  ServerProcess s({"--tls-cert", cert, "--tls-key", key});
  ASSERT_TRUE(s.wait_for_log("https://127.0.0.1:", 1s));
  out.clear();
  int rc = run_command(
      "curl -sk --max-time 5 https://127.0.0.1:" + std::to_string(s.port()) + "/api/health", &out);
  EXPECT_EQ(rc, 0);
  EXPECT_EQ(out, R"({"code":200,"message":"API is healthy.","data":{}})");
  // Plain HTTP to the TLS port is refused without hurting the server.
  Client plain(s.port());
  ASSERT_TRUE(plain.send(build_request("GET", "/api/health")));
  EXPECT_TRUE(plain.closed_by_peer(5s));
  out.clear();
  EXPECT_EQ(run_command("curl -sk --max-time 5 https://127.0.0.1:" + std::to_string(s.port()) +
                            "/api/health",
                        &out),
            0);
}

}  // namespace
}  // namespace plinth::test
