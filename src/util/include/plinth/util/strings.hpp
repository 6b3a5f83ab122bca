#pragma once
// Small string helpers shared by every layer. No project types.

#include <string>
#include <string_view>
#include <vector>

namespace plinth::util {

bool iequals(std::string_view a, std::string_view b);
std::string to_lower(std::string_view s);
std::string_view trim(std::string_view s);
std::vector<std::string_view> split(std::string_view s, char sep);
// The parts split() would return, one at a time and without a vector: calls fn(part) for each
// until it returns true. Returns whether one did.
template <class F>
bool each_part(std::string_view s, char sep, F&& fn) {
  for (;;) {
    auto pos = s.find(sep);
    if (fn(s.substr(0, pos))) return true;
    if (pos == std::string_view::npos) return false;
    s.remove_prefix(pos + 1);
  }
}

// True when the comma-separated header value `list` contains `token`
// (case-insensitive, ignoring whitespace and ;parameters).
bool header_list_contains(std::string_view list, std::string_view token);

// Appends `s` to `out` as a JSON string literal, quotes included.
void append_json_string(std::string& out, std::string_view s);
std::string json_quote(std::string_view s);

// Percent-decodes `s` ('+' as space when `plus_as_space`); invalid escapes are kept verbatim.
std::string url_decode(std::string_view s, bool plus_as_space = true);
// The same into `out` (its contents replaced, its buffer kept).
void url_decode_into(std::string& out, std::string_view s, bool plus_as_space = true);

}  // namespace plinth::util
