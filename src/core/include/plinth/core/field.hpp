#pragma once
// A collection field in PocketBase's JSON shape. The stored JSON object is
// kept whole (`raw`) so that options Plinth does not interpret yet survive a
// read-modify-write of `_collections` unchanged.

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace plinth::core {

namespace json = boost::json;

enum class FieldType {
  text,
  number,
  boolean,
  email,
  url,
  editor,
  date,
  autodate,
  select,
  json,
  relation,
  file,
  password,
  geo_point,
  unknown
};

FieldType parse_field_type(std::string_view name);
std::string_view field_type_name(FieldType t);

struct Field {
  json::object raw;
  std::string id;
  std::string name;
  FieldType type = FieldType::unknown;
  bool system = false;
  bool hidden = false;
  bool required = false;
  bool primary_key = false;

  // Builds a field from its JSON; nullopt (with `error`) when name/type are unusable.
  static std::optional<Field> from_json(const json::object& o, std::string& error);

  // Option accessors tolerant of null/missing/mistyped values.
  std::optional<double> number_option(std::string_view key) const;
  double number_option_or(std::string_view key, double fallback) const;
  bool bool_option(std::string_view key) const;
  std::string string_option(std::string_view key) const;
  std::vector<std::string> strings_option(std::string_view key) const;

  // select/relation/file: more than one value allowed.
  bool is_multi() const;
  int max_select() const;

  // The value of an empty field as the API shows it ("" / 0 / false / [] / null...).
  json::value zero_value() const;

  // Column definition for a table created now (PocketBase 0.39's DDL).
  std::string column_type() const;
};

// ^\w+$ (ASCII letters, digits, underscore), 1..255 bytes.
bool is_identifier(std::string_view s);
// `name` in backticks; callers must have checked is_identifier (asserted).
std::string quote_identifier(std::string_view name);
// Appends quote_identifier(name) to `out` (building SQL without a string per name).
void append_quoted_identifier(std::string& out, std::string_view name);

}  // namespace plinth::core
