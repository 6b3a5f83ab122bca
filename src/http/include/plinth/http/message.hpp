#pragma once
// Plain request/response types shared by the router, middleware and handlers.
// Deliberately free of Beast/Asio so that handler code compiles fast.

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "plinth/observe/trace.hpp"

namespace plinth::http {

// Header fields kept the way they go on the wire, "Name: value\r\n" each, in one buffer: a
// response's ten or so fields cost one allocation, and the server sends them as they are.
// A CR or LF in a name or value becomes a space (no field can split the message), and so does
// a colon in a name.
class Headers {
 public:
  struct Field {
    std::string_view name;
    std::string_view value;
  };
  class Iterator {
   public:
    using value_type = Field;
    using difference_type = std::ptrdiff_t;
    Iterator() = default;
    Iterator(const char* at, const char* end) : at_(at), end_(end) { load(); }
    Field operator*() const { return field_; }
    Iterator& operator++() {
      at_ = next_;
      load();
      return *this;
    }
    Iterator operator++(int) {
      auto before = *this;
      ++*this;
      return before;
    }
    bool operator==(const Iterator& o) const { return at_ == o.at_; }

   private:
    void load();
    const char* at_ = nullptr;
    const char* end_ = nullptr;
    const char* next_ = nullptr;
    Field field_;
  };

  // First value of `name` (case-insensitive), or empty view when absent.
  std::string_view get(std::string_view name) const;
  bool has(std::string_view name) const;
  // Replaces every field called `name` with one field.
  void set(std::string_view name, std::string_view value);
  void add(std::string_view name, std::string_view value);
  void remove(std::string_view name);
  // Appends `count` whole fields given as wire text ("Name: value\r\n" each, trusted: constant
  // text of the server's own, never a client's or a handler's values).
  void append_lines(std::string_view lines, std::size_t count);
  void clear() {
    text_.clear();
    count_ = 0;
    framing_ = false;
  }
  // Content-Length, Connection or Transfer-Encoding: the message framing a server decides
  // itself.
  static bool is_framing(std::string_view name);
  // False when no field was ever added here under a framing name (see is_framing).
  bool may_have_framing() const { return framing_; }

  Iterator begin() const { return {text_.data(), text_.data() + text_.size()}; }
  Iterator end() const {
    const char* e = text_.data() + text_.size();
    return {e, e};
  }
  // Every field in order (range-for over Field values).
  const Headers& fields() const { return *this; }
  std::size_t size() const { return count_; }
  // The fields as sent: "Name: value\r\n" each.
  std::string_view wire() const { return text_; }

 private:
  // Where the line of the first field called `name` starts, or npos.
  std::size_t find_line(std::string_view name) const;

  std::string text_;
  std::size_t count_ = 0;
  bool framing_ = false;
};

struct Request {
  std::string method;  // as sent, e.g. "GET"
  std::string target;  // raw request-target, e.g. "/api/x?y=1"
  std::string path;    // percent-decoded path without the query
  std::string query;   // raw query string without '?'
  Headers headers;
  std::string body;
  std::string remote_ip;
  unsigned version = 11;  // 10 or 11

  // Filled by the pipeline.
  // e.g. "/api/collections/{collection}"; "" when unmatched. Views the router's own pattern
  // (routes are fixed while serving, as the matched route itself).
  std::string_view route_template;
  std::vector<std::pair<std::string, std::string>> params;
  std::string request_id;
  observe::TraceContext trace;

  std::string_view param(std::string_view name) const;
  // First value of a query parameter, percent-decoded.
  std::optional<std::string> query_param(std::string_view name) const;
  bool is_head() const { return method == "HEAD"; }
  // Empty again for the connection's next request, keeping the buffers of the last one (a
  // large body's excepted).
  void reset_for_next();
};

// The sending side of a long-lived response (Server-Sent Events), implemented
// by the server. Thread-safe: any thread may push or close.
class StreamSink {
 public:
  virtual ~StreamSink() = default;
  // Queues `head` then `body` (either may be null) as one message. False, and
  // the connection is closed, when the stream is closed or its queue is full
  // (the peer is not reading fast enough).
  virtual bool push(std::shared_ptr<const std::string> head,
                    std::shared_ptr<const std::string> body) = 0;
  virtual void close() = 0;
};

// Turns a response into a stream: the server writes the head (no length; the
// body ends when the connection closes), then calls `on_open` on the
// connection's I/O thread and `on_close` once the connection is gone.
struct Stream {
  std::size_t max_queue = 256;               // messages waiting to be written
  std::chrono::milliseconds keepalive{};     // a comment line after this much silence (0 = never)
  std::chrono::milliseconds idle_timeout{};  // closes after this long without a message (0 = never)
  std::string keepalive_bytes = ":\n\n";
  std::function<void(std::shared_ptr<StreamSink>)> on_open;
  std::function<void()> on_close;
  // Told about each queue overflow (the stream is then closed).
  std::function<void()> on_overflow;
};

struct Response {
  int status = 200;
  Headers headers;
  std::string body;
  // Set by the pipeline when the connection must close after this response.
  bool close = false;
  // Set by handlers that keep the connection as a stream (see Stream).
  std::shared_ptr<Stream> stream;

  static Response json(int status, std::string body);
  static Response text(int status, std::string body, std::string_view content_type);
};

// Splits a request-target into decoded path and raw query.
void split_target(std::string_view target, std::string& path, std::string& query);

}  // namespace plinth::http
