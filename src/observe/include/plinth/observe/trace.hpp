#pragma once
// W3C Trace Context (`traceparent`) parsing and propagation.

#include <optional>
#include <string>
#include <string_view>

namespace plinth::observe {

struct TraceContext {
  std::string trace_id;        // 32 lowercase hex
  std::string parent_span_id;  // 16 lowercase hex of the caller's span, empty if none
  std::string span_id;         // 16 lowercase hex of this server's span
  std::string flags = "01";    // 2 hex

  // "00-<trace_id>-<span_id>-<flags>": the value to send downstream / back.
  std::string traceparent() const;
};

// Parses a `traceparent` header value; nullopt when malformed (per W3C rules:
// version ff invalid, all-zero ids invalid, lowercase hex only).
std::optional<TraceContext> parse_traceparent(std::string_view value);

// Continues `incoming` if valid, else starts a new trace; always a fresh span id.
TraceContext start_span(std::string_view incoming_traceparent);

}  // namespace plinth::observe
