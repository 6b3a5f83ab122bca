#pragma once
// A small Server-Sent Events client over a blocking socket, for the realtime
// suites: opens GET /api/realtime, reads PB_CONNECT, then yields events as the
// server frames them (id, event name, data; comment lines are counted apart).

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace plinth::test::data {

struct SseEvent {
  std::string id, name, data;
};

class SseClient {
 public:
  // `recv_buffer` > 0 shrinks the socket's receive buffer (a slow reader).
  explicit SseClient(std::uint16_t port, int recv_buffer = 0) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (recv_buffer > 0)
      ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &recv_buffer, sizeof(recv_buffer));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      ::close(fd_);
      fd_ = -1;
      return;
    }
    std::string req =
        "GET /api/realtime HTTP/1.1\r\nHost: test\r\nAccept: text/event-stream\r\n\r\n";
    if (::send(fd_, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) {
      ::close(fd_);
      fd_ = -1;
    }
  }
  ~SseClient() {
    if (fd_ >= 0) ::close(fd_);
  }
  SseClient(const SseClient&) = delete;
  SseClient& operator=(const SseClient&) = delete;

  // Reads the response head and PB_CONNECT; false when either is missing.
  bool open(std::chrono::milliseconds wait = std::chrono::seconds(5)) {
    auto deadline = std::chrono::steady_clock::now() + wait;
    while (buf_.find("\r\n\r\n") == std::string::npos) {
      if (!fill(deadline)) return false;
    }
    auto end = buf_.find("\r\n\r\n");
    head_ = buf_.substr(0, end + 2);
    buf_.erase(0, end + 4);
    auto sp = head_.find(' ');
    status_ = sp == std::string::npos ? 0 : std::atoi(head_.c_str() + sp + 1);
    if (status_ != 200) {
      body_ = buf_;
      return false;
    }
    auto ev = next(wait);
    if (!ev || ev->name != "PB_CONNECT") return false;
    client_id_ = ev->id;
    connect_data_ = ev->data;
    return true;
  }

  // The next event within `wait`, or nullopt (timeout or closed connection).
  std::optional<SseEvent> next(std::chrono::milliseconds wait = std::chrono::seconds(5)) {
    auto deadline = std::chrono::steady_clock::now() + wait;
    for (;;) {
      if (auto ev = parse_one()) return ev;
      if (!fill(deadline)) return std::nullopt;
    }
  }

  // Every event arriving until none came for `quiet`.
  std::vector<SseEvent> drain(std::chrono::milliseconds quiet = std::chrono::milliseconds(300)) {
    std::vector<SseEvent> out;
    while (auto ev = next(quiet)) out.push_back(std::move(*ev));
    return out;
  }

  // True when the server closed the stream within `wait` (buffered events are discarded).
  bool closed_by_server(std::chrono::milliseconds wait) {
    auto deadline = std::chrono::steady_clock::now() + wait;
    while (!eof_) {
      buf_.clear();
      if (!fill(deadline) && !eof_) return false;
    }
    return true;
  }

  bool connected() const { return fd_ >= 0; }
  int status() const { return status_; }
  const std::string& head() const { return head_; }
  const std::string& body() const { return body_; }
  const std::string& client_id() const { return client_id_; }
  const std::string& connect_data() const { return connect_data_; }
  int comments() const { return comments_; }

 private:
  bool fill(std::chrono::steady_clock::time_point deadline) {
    if (fd_ < 0 || eof_) return false;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
    char tmp[65536];
    ssize_t n = ::recv(fd_, tmp, sizeof(tmp), 0);
    if (n <= 0) {
      eof_ = true;
      return false;
    }
    buf_.append(tmp, static_cast<std::size_t>(n));
    return true;
  }

  std::optional<SseEvent> parse_one() {
    for (;;) {
      auto end = buf_.find("\n\n");
      if (end == std::string::npos) return std::nullopt;
      std::string block = buf_.substr(0, end + 1);
      buf_.erase(0, end + 2);
      SseEvent ev;
      bool any = false;
      std::size_t pos = 0;
      while (pos < block.size()) {
        auto nl = block.find('\n', pos);
        std::string_view line(block.data() + pos, nl - pos);
        pos = nl + 1;
        if (!line.empty() && line[0] == ':') {
          ++comments_;
          continue;
        }
        auto colon = line.find(':');
        auto field = line.substr(0, colon);
        auto value = colon == std::string_view::npos ? std::string_view() : line.substr(colon + 1);
        if (!value.empty() && value[0] == ' ') value.remove_prefix(1);
        if (field == "id") ev.id = value;
        if (field == "event") ev.name = value;
        if (field == "data") ev.data += value;
        any = true;
      }
      if (any) return ev;
    }
  }

  int fd_ = -1;
  bool eof_ = false;
  std::string buf_, head_, body_, client_id_, connect_data_;
  int status_ = 0;
  int comments_ = 0;
};

}  // namespace plinth::test::data
