#include "plinth/observe/trace.hpp"

#include "plinth/util/random.hpp"

namespace plinth::observe {
namespace {

bool is_lower_hex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

bool all_zero(std::string_view s) {
  return s.find_first_not_of('0') == std::string_view::npos;
}

}  // namespace

InlineText<55> TraceContext::traceparent_text() const {
  InlineText<55> out;
  char* p = out.resize(6 + trace_id.size() + span_id.size() + flags.size());
  auto put = [&p](std::string_view s) {
    std::memcpy(p, s.data(), s.size());
    p += s.size();
  };
  put("00-");
  put(trace_id.view());
  put("-");
  put(span_id.view());
  put("-");
  put(flags.view());
  return out;
}

std::optional<TraceContext> parse_traceparent(std::string_view v) {
  // version(2) - trace-id(32) - parent-id(16) - flags(2); future versions may append fields.
  if (v.size() < 55) return std::nullopt;
  if (v[2] != '-' || v[35] != '-' || v[52] != '-') return std::nullopt;
  auto version = v.substr(0, 2);
  auto trace_id = v.substr(3, 32);
  auto parent = v.substr(36, 16);
  auto flags = v.substr(53, 2);
  if (!is_lower_hex(version) || !is_lower_hex(trace_id) || !is_lower_hex(parent) ||
      !is_lower_hex(flags))
    return std::nullopt;
  if (version == "ff") return std::nullopt;
  if (version == "00" && v.size() != 55) return std::nullopt;
  if (version != "00" && v.size() > 55 && v[55] != '-') return std::nullopt;
  if (all_zero(trace_id) || all_zero(parent)) return std::nullopt;
  TraceContext tc;
  tc.trace_id.assign(trace_id);
  tc.parent_span_id.assign(parent);
  tc.flags.assign(flags);
  return tc;
}

TraceContext start_span(std::string_view incoming) {
  TraceContext tc;
  if (auto parsed = parse_traceparent(incoming)) {
    tc = *parsed;
  } else {
    util::fill_random_hex(tc.trace_id.resize(32), 16);
  }
  util::fill_random_hex(tc.span_id.resize(16), 8);
  return tc;
}

}  // namespace plinth::observe
