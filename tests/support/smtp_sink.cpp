#include "smtp_sink.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <stdexcept>

namespace plinth::test {
namespace {

constexpr std::size_t kMaxLine = 1 << 20;

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string base64_decode(std::string_view in) {
  std::string out;
  std::uint32_t buf = 0;
  int bits = 0;
  for (char c : in) {
    int v = c >= 'A' && c <= 'Z'   ? c - 'A'
            : c >= 'a' && c <= 'z' ? c - 'a' + 26
            : c >= '0' && c <= '9' ? c - '0' + 52
            : c == '+'             ? 62
            : c == '/'             ? 63
                                   : -1;
    if (v < 0) continue;
    buf = (buf << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buf >> bits) & 0xff));
    }
  }
  return out;
}

// "<a@b>" or "a@b" after "MAIL FROM:" / "RCPT TO:", parameters dropped.
std::string path_of(std::string_view arg) {
  auto colon = arg.find(':');
  if (colon == std::string_view::npos) return {};
  auto rest = arg.substr(colon + 1);
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  if (!rest.empty() && rest.front() == '<') {
    auto close = rest.find('>');
    return std::string(rest.substr(1, close == std::string_view::npos ? 0 : close - 1));
  }
  return std::string(rest.substr(0, rest.find(' ')));
}

class LineReader {
 public:
  explicit LineReader(int fd) : fd_(fd) {}
  // One line without its CRLF; nullopt on EOF, error or a 10 s silence.
  std::optional<std::string> next() {
    for (;;) {
      auto nl = buf_.find("\r\n");
      if (nl != std::string::npos) {
        std::string line = buf_.substr(0, nl);
        buf_.erase(0, nl + 2);
        return line;
      }
      if (buf_.size() > kMaxLine) return std::nullopt;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 10000) <= 0) return std::nullopt;
      char tmp[4096];
      auto n = ::recv(fd_, tmp, sizeof tmp, 0);
      if (n <= 0) return std::nullopt;
      buf_.append(tmp, static_cast<std::size_t>(n));
    }
  }

 private:
  int fd_;
  std::string buf_;
};

bool reply(int fd, std::string_view text) {
  std::size_t off = 0;
  while (off < text.size()) {
    auto n = ::send(fd, text.data() + off, text.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return false;
    off += static_cast<std::size_t>(n);
  }
  return true;
}

}  // namespace

std::string SinkMessage::header(std::string_view name) const {
  auto head_end = data.find("\r\n\r\n");
  std::string head = data.substr(0, head_end);
  std::string want = lower(name) + ":";
  std::size_t pos = 0;
  while (pos < head.size()) {
    auto eol = head.find("\r\n", pos);
    std::string line = head.substr(pos, eol == std::string::npos ? std::string::npos : eol - pos);
    pos = eol == std::string::npos ? head.size() : eol + 2;
    if (lower(line).rfind(want, 0) != 0) continue;
    std::string value = line.substr(want.size());
    while (pos < head.size() && (head[pos] == ' ' || head[pos] == '\t')) {
      auto e2 = head.find("\r\n", pos);
      value += " " + head.substr(pos, e2 == std::string::npos ? std::string::npos : e2 - pos);
      pos = e2 == std::string::npos ? head.size() : e2 + 2;
    }
    auto b = value.find_first_not_of(" \t");
    return b == std::string::npos ? std::string() : value.substr(b);
  }
  return {};
}

std::string SinkMessage::decoded_body() const {
  auto head_end = data.find("\r\n\r\n");
  std::string_view body(data);
  if (head_end != std::string::npos) body.remove_prefix(head_end + 4);
  std::string out;
  for (std::size_t i = 0; i < body.size(); ++i) {
    if (body[i] == '=' && i + 2 < body.size() && body[i + 1] == '\r' && body[i + 2] == '\n') {
      i += 2;  // soft line break
    } else if (body[i] == '=' && i + 2 < body.size() &&
               std::isxdigit(static_cast<unsigned char>(body[i + 1])) &&
               std::isxdigit(static_cast<unsigned char>(body[i + 2]))) {
      out.push_back(static_cast<char>(std::stoi(std::string(body.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(body[i]);
    }
  }
  return out;
}

SmtpSink::SmtpSink(std::uint16_t port) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) throw std::runtime_error("smtp sink: socket failed");
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listen_fd_, 16) != 0) {
    ::close(listen_fd_);
    throw std::runtime_error("smtp sink: cannot listen on port " + std::to_string(port) + ": " +
                             std::strerror(errno));
  }
  socklen_t len = sizeof addr;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  thread_ = std::thread([this] { serve(); });
}

SmtpSink::~SmtpSink() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  ::close(listen_fd_);
}

std::uint16_t SmtpSink::free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

void SmtpSink::serve() {
  while (!stop_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    session(fd);
    ::close(fd);
  }
}

void SmtpSink::session(int fd) {
  LineReader in(fd);
  if (!reply(fd, "220 plinth-test-sink ESMTP ready\r\n")) return;
  SinkMessage current;
  std::string auth;
  while (!stop_) {
    auto line = in.next();
    if (!line) return;
    std::string verb = lower(line->substr(0, line->find(' ')));
    if (verb == "ehlo") {
      reply(fd, "250-plinth-test-sink\r\n250-8BITMIME\r\n250-AUTH PLAIN\r\n250 SIZE 10485760\r\n");
    } else if (verb == "helo") {
      reply(fd, "250 plinth-test-sink\r\n");
    } else if (verb == "auth") {
      // AUTH PLAIN <base64("\0user\0password")>, or the initial response on the next line.
      std::string arg = line->size() > 11 ? line->substr(11) : std::string();
      if (lower(line->substr(0, std::min<std::size_t>(line->size(), 10))) != "auth plain") {
        reply(fd, "504 only PLAIN\r\n");
        continue;
      }
      if (arg.empty()) {
        reply(fd, "334 \r\n");
        auto next = in.next();
        if (!next) return;
        arg = *next;
      }
      auto decoded = base64_decode(arg);
      auto first = decoded.find('\0');
      auto second = decoded.find('\0', first == std::string::npos ? 0 : first + 1);
      if (first == std::string::npos || second == std::string::npos) {
        reply(fd, "501 malformed\r\n");
        continue;
      }
      auth = decoded.substr(first + 1, second - first - 1) + ":" + decoded.substr(second + 1);
      reply(fd, "235 2.7.0 Authentication successful\r\n");
    } else if (verb == "mail") {
      current = SinkMessage{};
      current.from = path_of(*line);
      reply(fd, "250 2.1.0 Ok\r\n");
    } else if (verb == "rcpt") {
      auto to = path_of(*line);
      if (to.ends_with(kRejectedDomain)) {
        reply(fd, "550 5.1.1 No such user\r\n");
        continue;
      }
      current.to.push_back(std::move(to));
      reply(fd, "250 2.1.5 Ok\r\n");
    } else if (verb == "data") {
      if (current.to.empty()) {
        reply(fd, "554 no valid recipients\r\n");
        continue;
      }
      reply(fd, "354 End data with <CR><LF>.<CR><LF>\r\n");
      std::string data;
      for (;;) {
        auto l = in.next();
        if (!l) return;
        if (*l == ".") break;
        if (!l->empty() && (*l)[0] == '.') l->erase(0, 1);
        data += *l + "\r\n";
      }
      current.data = std::move(data);
      current.auth = auth;
      {
        std::lock_guard lock(mu_);
        messages_.push_back(std::move(current));
      }
      cv_.notify_all();
      current = SinkMessage{};
      reply(fd, "250 2.0.0 Ok: queued\r\n");
    } else if (verb == "rset") {
      current = SinkMessage{};
      reply(fd, "250 2.0.0 Ok\r\n");
    } else if (verb == "noop") {
      reply(fd, "250 2.0.0 Ok\r\n");
    } else if (verb == "quit") {
      reply(fd, "221 2.0.0 Bye\r\n");
      return;
    } else {
      reply(fd, "502 5.5.2 Command not recognized\r\n");
    }
  }
}

std::vector<SinkMessage> SmtpSink::messages() const {
  std::lock_guard lock(mu_);
  return messages_;
}

std::size_t SmtpSink::count() const {
  std::lock_guard lock(mu_);
  return messages_.size();
}

std::size_t SmtpSink::count_to(std::string_view to) const {
  std::lock_guard lock(mu_);
  return static_cast<std::size_t>(std::count_if(
      messages_.begin(), messages_.end(),
      [&](const SinkMessage& m) { return std::find(m.to.begin(), m.to.end(), to) != m.to.end(); }));
}

std::optional<SinkMessage> SmtpSink::wait_for(std::string_view to,
                                              std::chrono::milliseconds timeout,
                                              std::size_t skip) const {
  std::unique_lock lock(mu_);
  std::optional<SinkMessage> found;
  cv_.wait_for(lock, timeout, [&] {
    std::size_t seen = 0;
    for (const auto& m : messages_) {
      if (std::find(m.to.begin(), m.to.end(), to) == m.to.end()) continue;
      if (seen++ == skip) {
        found = m;
        return true;
      }
    }
    return false;
  });
  return found;
}

}  // namespace plinth::test
