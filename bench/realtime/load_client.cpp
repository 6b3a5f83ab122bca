// bench/realtime load client: N SSE clients from one process (epoll,
// non-blocking sockets), one writer creating records over HTTP, and the delivery
// latency of every event to every client (write sent -> event parsed).
//
//   load_client --port P --clients N [--events E] [--gap-ms G] [--collection posts]
//               [--server-pid PID]
//
// Prints one line of figures; exits 1 when a client missed an event.

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
      .count();
}

int connect_to(std::uint16_t port, bool nonblocking) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | (nonblocking ? SOCK_NONBLOCK : 0), 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 &&
      errno != EINPROGRESS) {
    ::close(fd);
    return -1;
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return fd;
}

// One blocking keep-alive HTTP/1.1 connection for the writer and subscriptions.
class Http {
 public:
  explicit Http(std::uint16_t port) : port_(port) { fd_ = connect_to(port, false); }
  ~Http() {
    if (fd_ >= 0) ::close(fd_);
  }
  // Returns the status (0 on a transport error); body in `body`.
  int post(const std::string& target, const std::string& json, std::string* body = nullptr) {
    std::string req = "POST " + target +
                      " HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n" +
                      "Content-Length: " + std::to_string(json.size()) + "\r\n\r\n" + json;
    if (::send(fd_, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size()))
      return 0;
    std::string buf;
    char tmp[8192];
    for (;;) {
      auto end = buf.find("\r\n\r\n");
      if (end != std::string::npos) {
        auto cl = buf.find("Content-Length: ");
        std::size_t len = cl == std::string::npos || cl > end
                              ? 0
                              : std::strtoul(buf.c_str() + cl + 16, nullptr, 10);
        if (buf.size() >= end + 4 + len) {
          if (body) *body = buf.substr(end + 4, len);
          return std::atoi(buf.c_str() + 9);
        }
      }
      ssize_t n = ::recv(fd_, tmp, sizeof(tmp), 0);
      if (n <= 0) return 0;
      buf.append(tmp, static_cast<std::size_t>(n));
    }
  }

 private:
  std::uint16_t port_;
  int fd_ = -1;
};

struct Conn {
  int fd = -1;
  bool head_done = false;
  std::string buf;
  std::string id;
  std::vector<std::int64_t> latency;  // per event seq, -1 = not yet
};

std::int64_t field_number(const std::string& block, const char* key) {
  auto p = block.find(key);
  if (p == std::string::npos) return -1;
  return std::strtoll(block.c_str() + p + std::strlen(key), nullptr, 10);
}

// Consumes complete SSE messages from c.buf.
void parse(Conn& c, std::int64_t now, int events, std::int64_t* received) {
  if (!c.head_done) {
    auto end = c.buf.find("\r\n\r\n");
    if (end == std::string::npos) return;
    c.buf.erase(0, end + 4);
    c.head_done = true;
  }
  std::size_t start = 0;
  for (;;) {
    auto end = c.buf.find("\n\n", start);
    if (end == std::string::npos) break;
    std::string block = c.buf.substr(start, end - start);
    start = end + 2;
    if (c.id.empty() && block.rfind("id:", 0) == 0) {
      c.id = block.substr(3, block.find('\n') - 3);
      continue;
    }
    auto seq = field_number(block, "\"seq\":");
    auto sent = field_number(block, "\"sent\":\"");
    if (seq >= 0 && seq < events && sent > 0 && c.latency[seq] < 0) {
      c.latency[seq] = now - sent;
      ++*received;
    }
  }
  c.buf.erase(0, start);
}

// CPU time (user + system) the process used so far, in milliseconds.
double cpu_ms(int pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  auto close = text.rfind(')');
  if (close == std::string::npos) return 0;
  // Fields after the command: state is field 3; utime and stime are 14 and 15.
  std::size_t pos = close + 2;
  for (int field = 3; field < 14; ++field) pos = text.find(' ', pos) + 1;
  char* end = nullptr;
  double utime = std::strtod(text.c_str() + pos, &end);
  double stime = std::strtod(end, nullptr);
  return (utime + stime) * 1000.0 / static_cast<double>(sysconf(_SC_CLK_TCK));
}

std::uint64_t vm_hwm_kb(int pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::strtoull(line.c_str() + 6, nullptr, 10);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::uint16_t port = 0;
  int clients = 1000, events = 20, gap_ms = 200, server_pid = 0;
  std::string collection = "posts";
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--port")
      port = static_cast<std::uint16_t>(std::atoi(argv[i + 1]));
    else if (a == "--clients")
      clients = std::atoi(argv[i + 1]);
    else if (a == "--events")
      events = std::atoi(argv[i + 1]);
    else if (a == "--gap-ms")
      gap_ms = std::atoi(argv[i + 1]);
    else if (a == "--collection")
      collection = argv[i + 1];
    else if (a == "--server-pid")
      server_pid = std::atoi(argv[i + 1]);
  }
  if (!port || clients <= 0 || events <= 0) {
    std::fprintf(stderr,
                 "usage: load_client --port P --clients N [--events E] [--server-pid PID]\n");
    return 2;
  }
  rlimit rl{};
  getrlimit(RLIMIT_NOFILE, &rl);
  rl.rlim_cur = rl.rlim_max;
  setrlimit(RLIMIT_NOFILE, &rl);

  int ep = epoll_create1(EPOLL_CLOEXEC);
  std::vector<Conn> conns(static_cast<std::size_t>(clients));
  std::int64_t received = 0;
  std::vector<epoll_event> evs(1024);
  char tmp[65536];
  auto pump = [&](int timeout_ms) {
    int n = epoll_wait(ep, evs.data(), static_cast<int>(evs.size()), timeout_ms);
    std::int64_t now = now_ns();
    for (int i = 0; i < n; ++i) {
      auto& c = conns[evs[i].data.u32];
      for (;;) {
        ssize_t r = ::recv(c.fd, tmp, sizeof(tmp), 0);
        if (r > 0) {
          c.buf.append(tmp, static_cast<std::size_t>(r));
          continue;
        }
        if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
          epoll_ctl(ep, EPOLL_CTL_DEL, c.fd, nullptr);
        }
        break;
      }
      parse(c, now, events, &received);
    }
  };

  // Connect in waves so the accept backlog never overflows.
  const std::string get =
      "GET /api/realtime HTTP/1.1\r\nHost: bench\r\nAccept: text/event-stream\r\n\r\n";
  auto t0 = Clock::now();
  int connected = 0;
  for (int i = 0; i < clients; ++i) {
    auto& c = conns[static_cast<std::size_t>(i)];
    c.latency.assign(static_cast<std::size_t>(events), -1);
    c.fd = connect_to(port, false);
    if (c.fd < 0) {
      std::fprintf(stderr, "connect %d failed: %s\n", i, std::strerror(errno));
      return 1;
    }
    ::send(c.fd, get.data(), get.size(), MSG_NOSIGNAL);
    fcntl(c.fd, F_SETFL, fcntl(c.fd, F_GETFL) | O_NONBLOCK);
    epoll_event e{};
    e.events = EPOLLIN;
    e.data.u32 = static_cast<std::uint32_t>(i);
    epoll_ctl(ep, EPOLL_CTL_ADD, c.fd, &e);
    if (i % 256 == 255) pump(0);
  }
  auto deadline = Clock::now() + std::chrono::seconds(60);
  for (;;) {
    connected = 0;
    for (auto& c : conns) connected += !c.id.empty();
    if (connected == clients || Clock::now() > deadline) break;
    pump(50);
  }
  double connect_s = std::chrono::duration<double>(Clock::now() - t0).count();
  if (connected != clients) {
    std::fprintf(stderr, "only %d of %d clients got PB_CONNECT\n", connected, clients);
    return 1;
  }

  Http http(port);
  auto t1 = Clock::now();
  for (auto& c : conns) {
    std::string body =
        "{\"clientId\":\"" + c.id + "\",\"subscriptions\":[\"" + collection + "/*\"]}";
    int st = http.post("/api/realtime", body);
    if (st != 204) {
      std::fprintf(stderr, "subscribe failed: %d\n", st);
      return 1;
    }
    pump(0);
  }
  double subscribe_s = std::chrono::duration<double>(Clock::now() - t1).count();

  Http writer(port);
  std::int64_t expected = 0;
  double cpu_before = server_pid ? cpu_ms(server_pid) : 0;
  for (int e = 0; e < events; ++e) {
    std::string rec = "{\"title\":\"bench event\",\"seq\":" + std::to_string(e) + ",\"sent\":\"" +
                      std::to_string(now_ns()) + "\"}";
    int st = writer.post("/api/collections/" + collection + "/records", rec);
    if (st != 200) {
      std::fprintf(stderr, "write failed: %d\n", st);
      return 1;
    }
    expected += clients;
    auto until = Clock::now() + std::chrono::seconds(10);
    while (received < expected && Clock::now() < until) pump(10);
    auto gap_end = Clock::now() + std::chrono::milliseconds(gap_ms);
    while (Clock::now() < gap_end) pump(5);
  }

  // Server CPU per event (write, commit, checks, fan-out), idle gaps included
  // but idle costs nothing: a figure that does not depend on other load.
  double cpu_per_event = server_pid ? (cpu_ms(server_pid) - cpu_before) / events : 0;
  std::vector<std::int64_t> all;
  all.reserve(static_cast<std::size_t>(clients) * static_cast<std::size_t>(events));
  std::int64_t missing = 0;
  for (auto& c : conns) {
    for (auto l : c.latency) {
      if (l < 0)
        ++missing;
      else
        all.push_back(l);
    }
  }
  std::sort(all.begin(), all.end());
  auto pct = [&](double p) {
    if (all.empty()) return 0.0;
    auto idx = static_cast<std::size_t>(p * static_cast<double>(all.size() - 1));
    return static_cast<double>(all[idx]) / 1e6;
  };
  // Per event: the first and the last client to receive it (fan-out spread).
  double first_sum = 0;
  for (int e = 0; e < events; ++e) {
    std::int64_t first = -1;
    for (auto& c : conns) {
      auto l = c.latency[static_cast<std::size_t>(e)];
      if (l >= 0 && (first < 0 || l < first)) first = l;
    }
    first_sum += static_cast<double>(std::max<std::int64_t>(first, 0)) / 1e6;
  }
  std::uint64_t hwm = server_pid ? vm_hwm_kb(server_pid) : 0;
  std::printf(
      "clients=%d events=%d delivered=%zu missing=%lld first_ms=%.2f p50_ms=%.2f p99_ms=%.2f "
      "max_ms=%.2f server_cpu_ms_per_event=%.1f server_peak_rss_mb=%.1f connect_s=%.2f "
      "subscribe_s=%.2f\n",
      clients, events, all.size(), static_cast<long long>(missing), first_sum / events, pct(0.50),
      pct(0.99), pct(1.0), cpu_per_event, static_cast<double>(hwm) / 1024.0, connect_s,
      subscribe_s);
  for (auto& c : conns) ::close(c.fd);
  return missing == 0 ? 0 : 1;
}
