#pragma once
// JSON text the way PocketBase writes it (Go's encoding/json): numbers without
// exponent between 1e-6 and 1e21, integral floats without ".0", and <, >, &
// escaped as \u003c \u003e \u0026. Object keys keep their order; callers that
// need PocketBase's sorted record keys sort first (sorted_copy).

#include <boost/json/value.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace plinth::core {

namespace json = boost::json;

void write_json(std::string& out, const json::value& v);
void write_json(std::string& out, const json::object& o);
// Appends `s` as a JSON string (quoted and escaped as write_json writes strings).
void write_json_string(std::string& out, std::string_view s);
std::string to_json(const json::value& v);
// The same without first copying the object into a json::value.
std::string to_json(const json::object& o);

// A copy of `o` with keys sorted by byte value (as Go marshals a map).
json::object sorted_copy(const json::object& o);

// Removes `key` keeping the order of the other keys (json::object::erase
// moves the last element into the hole).
void erase_stable(json::object& o, std::string_view key);

// Parses JSON text; nullopt when invalid. Depth and size are bounded. The value is allocated
// from `sp` (the default heap when empty).
std::optional<json::value> parse_json(std::string_view text, const json::storage_ptr& sp = {});

// Go-style float formatting used by write_json.
void append_number(std::string& out, double d);

}  // namespace plinth::core
