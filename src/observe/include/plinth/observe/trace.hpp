#pragma once
// W3C Trace Context (`traceparent`) parsing and propagation.

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>

namespace plinth::observe {

// Up to N characters kept inline: every request has a trace and a span id, and none of them
// allocates.
template <std::size_t N>
class InlineText {
 public:
  InlineText() = default;
  InlineText(std::string_view s) { assign(s); }  // NOLINT(google-explicit-constructor)
  void assign(std::string_view s) {
    len_ = static_cast<std::uint8_t>(std::min(s.size(), N));
    std::memcpy(buf_, s.data(), len_);
  }
  // Makes it `n` characters long (at most N) for the caller to fill through data().
  char* resize(std::size_t n) {
    len_ = static_cast<std::uint8_t>(std::min(n, N));
    return buf_;
  }
  std::string_view view() const { return {buf_, len_}; }
  operator std::string_view() const { return view(); }  // NOLINT(google-explicit-constructor)
  std::size_t size() const { return len_; }
  bool empty() const { return len_ == 0; }
  friend bool operator==(const InlineText& a, std::string_view b) { return a.view() == b; }
  friend std::ostream& operator<<(std::ostream& os, const InlineText& t) { return os << t.view(); }

 private:
  static_assert(N < 256);
  char buf_[N]{};
  std::uint8_t len_ = 0;
};

struct TraceContext {
  InlineText<32> trace_id;        // 32 lowercase hex
  InlineText<16> parent_span_id;  // 16 lowercase hex of the caller's span, empty if none
  InlineText<16> span_id;         // 16 lowercase hex of this server's span
  InlineText<2> flags{"01"};      // 2 hex

  // "00-<trace_id>-<span_id>-<flags>": the value to send downstream / back.
  std::string traceparent() const { return std::string(traceparent_text().view()); }
  // The same, kept inline.
  InlineText<55> traceparent_text() const;
};

// Parses a `traceparent` header value; nullopt when malformed (per W3C rules:
// version ff invalid, all-zero ids invalid, lowercase hex only).
std::optional<TraceContext> parse_traceparent(std::string_view value);

// Continues `incoming` if valid, else starts a new trace; always a fresh span id.
TraceContext start_span(std::string_view incoming_traceparent);

}  // namespace plinth::observe
