#include "test_support.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <stdexcept>

namespace plinth::test {
namespace {

bool iequal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  }
  return true;
}

}  // namespace

std::string HttpResponse::header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (iequal(k, name)) return v;
  }
  return {};
}

bool HttpResponse::has_header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (iequal(k, name)) return true;
  }
  return false;
}

Client::Client(std::uint16_t port, std::chrono::milliseconds timeout) : timeout_(timeout) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd_);
    fd_ = -1;
    return;
  }
  int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

Client::~Client() {
  if (fd_ >= 0) ::close(fd_);
}

bool Client::send(std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

void Client::shutdown_write() {
  ::shutdown(fd_, SHUT_WR);
}

bool Client::fill(std::chrono::steady_clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  if (left.count() <= 0) return false;
  pollfd p{fd_, POLLIN, 0};
  int r = ::poll(&p, 1, static_cast<int>(left.count()));
  if (r <= 0) return false;
  char tmp[65536];
  ssize_t n = ::recv(fd_, tmp, sizeof(tmp), 0);
  if (n <= 0) return false;
  buf_.append(tmp, static_cast<std::size_t>(n));
  return true;
}

std::optional<HttpResponse> Client::read_response(bool head) {
  auto deadline = std::chrono::steady_clock::now() + timeout_;
  for (;;) {
    std::size_t end;
    while ((end = buf_.find("\r\n\r\n")) == std::string::npos) {
      if (!fill(deadline)) return std::nullopt;
    }
    HttpResponse r;
    std::string head_text = buf_.substr(0, end);
    buf_.erase(0, end + 4);
    std::size_t line_end = head_text.find("\r\n");
    std::string status_line = head_text.substr(0, line_end);
    // "HTTP/1.1 200 OK"
    auto sp1 = status_line.find(' ');
    if (sp1 == std::string::npos) return std::nullopt;
    r.status = std::atoi(status_line.c_str() + sp1 + 1);
    auto sp2 = status_line.find(' ', sp1 + 1);
    if (sp2 != std::string::npos) r.reason = status_line.substr(sp2 + 1);
    std::size_t pos = line_end == std::string::npos ? head_text.size() : line_end + 2;
    while (pos < head_text.size()) {
      auto e = head_text.find("\r\n", pos);
      if (e == std::string::npos) e = head_text.size();
      std::string line = head_text.substr(pos, e - pos);
      auto colon = line.find(':');
      if (colon != std::string::npos) {
        std::string v = line.substr(colon + 1);
        while (!v.empty() && v.front() == ' ') v.erase(0, 1);
        r.headers.emplace_back(line.substr(0, colon), v);
      }
      pos = e + 2;
    }
    if (r.status >= 100 && r.status < 200) {
      if (r.status == 100) return r;  // interim: caller decides what next
      continue;
    }
    if (head || r.status == 204 || r.status == 304) return r;
    auto cl = r.header("Content-Length");
    if (!cl.empty()) {
      std::size_t len = std::stoull(cl);
      while (buf_.size() < len) {
        if (!fill(deadline)) return std::nullopt;
      }
      r.body = buf_.substr(0, len);
      buf_.erase(0, len);
    } else {
      while (fill(deadline)) {
      }
      r.body = std::move(buf_);
      buf_.clear();
    }
    return r;
  }
}

bool Client::closed_by_peer(std::chrono::milliseconds wait) {
  auto deadline = std::chrono::steady_clock::now() + wait;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd_, POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(left.count()));
    if (r <= 0) return false;
    char tmp[4096];
    ssize_t n = ::recv(fd_, tmp, sizeof(tmp), 0);
    if (n <= 0) return true;
    buf_.append(tmp, static_cast<std::size_t>(n));
  }
}

std::optional<HttpResponse> Client::request(
    std::string_view method, std::string_view target,
    std::vector<std::pair<std::string, std::string>> headers, std::string_view body) {
  if (!send(build_request(method, target, headers, body))) return std::nullopt;
  return read_response(method == "HEAD");
}

std::string build_request(std::string_view method, std::string_view target,
                          const std::vector<std::pair<std::string, std::string>>& headers,
                          std::string_view body) {
  std::string out;
  out += method;
  out += ' ';
  out += target;
  out += " HTTP/1.1\r\nHost: test\r\n";
  bool has_length = false;
  for (const auto& [k, v] : headers) {
    out += k + ": " + v + "\r\n";
    if (iequal(k, "Content-Length") || iequal(k, "Transfer-Encoding")) has_length = true;
  }
  if (!body.empty() && !has_length)
    out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  out += "\r\n";
  out += body;
  return out;
}

TempDir::TempDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "plinth-test-XXXXXX").string();
  if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string plinth_binary() {
  if (const char* env = std::getenv("PLINTH_TEST_BINARY")) return env;
  return PLINTH_BINARY_PATH;
}

std::string pocketbase_fixture_dir() {
  if (const char* env = std::getenv("PLINTH_FIXTURE_DIR")) return env;
  return PLINTH_FIXTURE_PATH;
}

void copy_tree_writable(const std::string& from, const std::string& to) {
  namespace fs = std::filesystem;
  if (!fs::is_directory(from)) throw std::runtime_error("missing directory " + from);
  fs::copy(from, to, fs::copy_options::recursive | fs::copy_options::overwrite_existing);
  fs::permissions(to, fs::perms::owner_all, fs::perm_options::add);
  for (const auto& e : fs::recursive_directory_iterator(to)) {
    fs::permissions(
        e.path(),
        e.is_directory() ? fs::perms::owner_all : (fs::perms::owner_read | fs::perms::owner_write),
        fs::perm_options::add);
  }
}

ServerProcess::ServerProcess(std::vector<std::string> extra_args, std::vector<std::string> env,
                             std::string copy_from) {
  Launch l;
  l.extra_args = std::move(extra_args);
  l.env = std::move(env);
  l.copy_from = std::move(copy_from);
  start(l);
}

ServerProcess::ServerProcess(const Launch& launch) {
  start(launch);
}

void ServerProcess::start(const Launch& launch) {
  data_dir_ = launch.data_dir.empty() ? dir_.path() + "/data" : launch.data_dir;
  if (!launch.copy_from.empty()) copy_tree_writable(launch.copy_from, data_dir_);
  int pipefd[2];
  if (::pipe2(pipefd, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  std::vector<std::string> args = launch.wrapper;
  for (const auto& a : std::vector<std::string>{plinth_binary(), "serve", "--http", "127.0.0.1:0",
                                                "--dir", data_dir_})
    args.push_back(a);
  for (const auto& a : launch.extra_args) args.push_back(a);
  std::vector<std::string> env = launch.env;
  pid_ = ::fork();
  if (pid_ == 0) {
    ::dup2(pipefd[1], 1);
    for (auto& e : env) ::putenv(e.data());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execvp(argv[0], argv.data());
    std::_Exit(127);
  }
  ::close(pipefd[1]);
  reader_ = std::thread([this, fd = pipefd[0]] { reader_loop(fd); });
  std::unique_lock lock(mu_);
  bool ok = cv_.wait_for(lock, launch.start_timeout, [&] {
    for (const auto& l : lines_) {
      auto p = l.find("\"address\":\"http");
      if (p != std::string::npos) {
        auto colon = l.find(':', l.find("//", p) + 2);
        port_ = static_cast<std::uint16_t>(std::atoi(l.c_str() + colon + 1));
        auto pid_pos = l.find("\"pid\":");
        server_pid_ = pid_pos == std::string::npos
                          ? pid_
                          : static_cast<pid_t>(std::atoi(l.c_str() + pid_pos + 6));
        return true;
      }
    }
    return eof_;
  });
  if (!ok || port_ == 0) {
    lock.unlock();
    ::kill(pid_, SIGKILL);
    std::string all;
    for (const auto& l : log_lines()) all += l + "\n";
    throw std::runtime_error("server did not start:\n" + all);
  }
}

ServerProcess::~ServerProcess() {
  // Under a wrapper the server is a grandchild: make sure it is gone too.
  if (server_pid_ > 0 && server_pid_ != pid_) ::kill(server_pid_, SIGKILL);
  if (!exit_code_) {
    ::kill(pid_, SIGKILL);
    int st = 0;
    ::waitpid(pid_, &st, 0);
  }
  if (reader_.joinable()) reader_.join();
}

void ServerProcess::reader_loop(int fd) {
  std::string partial;
  char tmp[8192];
  for (;;) {
    ssize_t n = ::read(fd, tmp, sizeof(tmp));
    if (n <= 0) break;
    partial.append(tmp, static_cast<std::size_t>(n));
    std::size_t nl;
    std::lock_guard lock(mu_);
    while ((nl = partial.find('\n')) != std::string::npos) {
      lines_.push_back(partial.substr(0, nl));
      partial.erase(0, nl + 1);
    }
    cv_.notify_all();
  }
  ::close(fd);
  std::lock_guard lock(mu_);
  eof_ = true;
  cv_.notify_all();
}

void ServerProcess::signal(int sig) {
  ::kill(server_pid_ > 0 ? server_pid_ : pid_, sig);
}

std::optional<int> ServerProcess::wait_exit(std::chrono::milliseconds wait) {
  if (exit_code_) return exit_code_;
  auto deadline = std::chrono::steady_clock::now() + wait;
  while (std::chrono::steady_clock::now() < deadline) {
    int st = 0;
    pid_t r = ::waitpid(pid_, &st, WNOHANG);
    if (r == pid_) {
      exit_code_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
      return exit_code_;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return std::nullopt;
}

std::vector<std::string> ServerProcess::log_lines() const {
  std::lock_guard lock(mu_);
  return lines_;
}

bool ServerProcess::wait_for_log(std::string_view needle, std::chrono::milliseconds wait) const {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, wait, [&] {
    for (const auto& l : lines_) {
      if (l.find(needle) != std::string::npos) return true;
    }
    return false;
  });
}

int run_command(const std::string& cmd, std::string* out) {
  std::FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return -1;
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), p)) > 0) {
    if (out) out->append(buf, n);
  }
  int st = ::pclose(p);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

std::string gunzip(std::string_view in) {
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 16) != Z_OK) throw std::runtime_error("inflateInit2");
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  std::string out;
  char tmp[16384];
  int rc;
  do {
    zs.next_out = reinterpret_cast<Bytef*>(tmp);
    zs.avail_out = sizeof(tmp);
    rc = inflate(&zs, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) {
      inflateEnd(&zs);
      throw std::runtime_error("inflate failed");
    }
    out.append(tmp, sizeof(tmp) - zs.avail_out);
  } while (rc != Z_STREAM_END);
  inflateEnd(&zs);
  return out;
}

}  // namespace plinth::test
