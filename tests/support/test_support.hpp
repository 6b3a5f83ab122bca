#pragma once
// Test helpers: a raw HTTP/1.1 client over blocking sockets (so tests can send
// exactly the bytes they mean, malformed ones included) and a runner for the
// real `plinth` binary on port 0 with a fresh data directory.

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace plinth::test {

struct HttpResponse {
  int status = 0;
  std::string reason;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string header(std::string_view name) const;  // "" when absent
  bool has_header(std::string_view name) const;
};

class Client {
 public:
  explicit Client(std::uint16_t port, std::chrono::milliseconds timeout = std::chrono::seconds(5));
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  bool connected() const { return fd_ >= 0; }
  // Sends all bytes; false when the peer closed or reset.
  bool send(std::string_view bytes);
  // Reads one response. `head` = response to a HEAD request (no body).
  std::optional<HttpResponse> read_response(bool head = false);
  // True when the server closed the connection (EOF or reset) within `wait`.
  bool closed_by_peer(std::chrono::milliseconds wait);
  void shutdown_write();

  // One request, one response.
  std::optional<HttpResponse> request(std::string_view method, std::string_view target,
                                      std::vector<std::pair<std::string, std::string>> headers = {},
                                      std::string_view body = {});

 private:
  bool fill(std::chrono::steady_clock::time_point deadline);
  int fd_ = -1;
  std::chrono::milliseconds timeout_;
  std::string buf_;
};

// Builds request bytes: "METHOD target HTTP/1.1\r\nHost: test\r\n...".
std::string build_request(std::string_view method, std::string_view target,
                          const std::vector<std::pair<std::string, std::string>>& headers = {},
                          std::string_view body = {});

// A temporary directory removed (recursively) on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// The real binary, started with `serve --http 127.0.0.1:0 --dir <tmp>` plus extra args.
class ServerProcess {
 public:
  // `copy_from`: a data directory (e.g. the PocketBase fixture) copied, made
  // writable, and served instead of a fresh one.
  explicit ServerProcess(std::vector<std::string> extra_args = {},
                         std::vector<std::string> env = {}, std::string copy_from = {});

  struct Launch {
    std::vector<std::string> extra_args;
    std::vector<std::string> env;
    std::string copy_from;
    std::string data_dir;              // serve this directory instead of a fresh one
    std::vector<std::string> wrapper;  // command prefix, e.g. {"strace", ..., "--"}
    std::chrono::milliseconds start_timeout{15000};
  };
  explicit ServerProcess(const Launch& launch);
  ~ServerProcess();

  std::uint16_t port() const { return port_; }
  pid_t pid() const { return pid_; }
  // The plinth process itself (differs from pid() under a wrapper such as strace).
  pid_t server_pid() const { return server_pid_; }
  const std::string& dir() const { return dir_.path(); }
  // The data directory being served.
  const std::string& data_dir() const { return data_dir_; }
  // Sends a signal; then wait_exit() collects the status.
  void signal(int sig);
  // Exit code (or 128+signal) once exited within `wait`, else nullopt.
  std::optional<int> wait_exit(std::chrono::milliseconds wait);
  // Every stdout line so far.
  std::vector<std::string> log_lines() const;
  // Waits until some stdout line contains `needle`.
  bool wait_for_log(std::string_view needle, std::chrono::milliseconds wait) const;

 private:
  void reader_loop(int fd);
  void start(const Launch& launch);
  TempDir dir_;
  std::string data_dir_;
  pid_t pid_ = -1;
  pid_t server_pid_ = -1;
  std::uint16_t port_ = 0;
  std::optional<int> exit_code_;
  std::thread reader_;
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  std::vector<std::string> lines_;
  bool eof_ = false;
};

// Path of the plinth binary under test.
std::string plinth_binary();

// ../shared/data/pocketbase-fixture (a data dir written by PocketBase 0.39.11).
std::string pocketbase_fixture_dir();

// Copies a directory tree and makes the copy writable by its owner.
void copy_tree_writable(const std::string& from, const std::string& to);

// Runs a shell command, returning exit status and captured stdout.
int run_command(const std::string& cmd, std::string* out = nullptr);

// Decompresses a gzip body (for gzip tests).
std::string gunzip(std::string_view in);

}  // namespace plinth::test
