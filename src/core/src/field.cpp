#include "plinth/core/field.hpp"

#include <cassert>
#include <cctype>

namespace plinth::core {

FieldType parse_field_type(std::string_view n) {
  if (n == "text") return FieldType::text;
  if (n == "number") return FieldType::number;
  if (n == "bool") return FieldType::boolean;
  if (n == "email") return FieldType::email;
  if (n == "url") return FieldType::url;
  if (n == "editor") return FieldType::editor;
  if (n == "date") return FieldType::date;
  if (n == "autodate") return FieldType::autodate;
  if (n == "select") return FieldType::select;
  if (n == "json") return FieldType::json;
  if (n == "relation") return FieldType::relation;
  if (n == "file") return FieldType::file;
  if (n == "password") return FieldType::password;
  if (n == "geoPoint") return FieldType::geo_point;
  return FieldType::unknown;
}

std::string_view field_type_name(FieldType t) {
  switch (t) {
    case FieldType::text: return "text";
    case FieldType::number: return "number";
    case FieldType::boolean: return "bool";
    case FieldType::email: return "email";
    case FieldType::url: return "url";
    case FieldType::editor: return "editor";
    case FieldType::date: return "date";
    case FieldType::autodate: return "autodate";
    case FieldType::select: return "select";
    case FieldType::json: return "json";
    case FieldType::relation: return "relation";
    case FieldType::file: return "file";
    case FieldType::password: return "password";
    case FieldType::geo_point: return "geoPoint";
    case FieldType::unknown: break;
  }
  return "unknown";
}

bool is_identifier(std::string_view s) {
  if (s.empty() || s.size() > 255) return false;
  for (char c : s) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return false;
  }
  return true;
}

std::string quote_identifier(std::string_view name) {
  std::string out;
  out.reserve(name.size() + 2);
  append_quoted_identifier(out, name);
  return out;
}

void append_quoted_identifier(std::string& out, std::string_view name) {
  assert(is_identifier(name));
  out += '`';
  out += name;
  out += '`';
}

std::optional<Field> Field::from_json(const json::object& o, std::string& error) {
  Field f;
  f.raw = o;
  auto str = [&](std::string_view k) -> std::string {
    auto* v = o.if_contains(k);
    return v && v->is_string() ? std::string(v->get_string()) : std::string();
  };
  auto boolean = [&](std::string_view k) {
    auto* v = o.if_contains(k);
    return v && v->is_bool() && v->get_bool();
  };
  f.id = str("id");
  f.name = str("name");
  auto type_name = str("type");
  f.type = parse_field_type(type_name);
  f.system = boolean("system");
  f.hidden = boolean("hidden");
  f.required = boolean("required");
  f.primary_key = boolean("primaryKey");
  if (!is_identifier(f.name)) {
    error = "invalid field name";
    return std::nullopt;
  }
  if (f.type == FieldType::unknown) {
    error = "unknown field type '" + type_name + "'";
    return std::nullopt;
  }
  return f;
}

std::optional<double> Field::number_option(std::string_view key) const {
  auto* v = raw.if_contains(key);
  if (!v) return std::nullopt;
  if (v->is_double()) return v->get_double();
  if (v->is_int64()) return static_cast<double>(v->get_int64());
  if (v->is_uint64()) return static_cast<double>(v->get_uint64());
  return std::nullopt;
}

double Field::number_option_or(std::string_view key, double fallback) const {
  return number_option(key).value_or(fallback);
}

bool Field::bool_option(std::string_view key) const {
  auto* v = raw.if_contains(key);
  return v && v->is_bool() && v->get_bool();
}

std::string Field::string_option(std::string_view key) const {
  auto* v = raw.if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

std::vector<std::string> Field::strings_option(std::string_view key) const {
  std::vector<std::string> out;
  auto* v = raw.if_contains(key);
  if (!v || !v->is_array()) return out;
  for (const auto& e : v->get_array()) {
    if (e.is_string()) out.emplace_back(e.get_string());
  }
  return out;
}

int Field::max_select() const {
  auto v = number_option("maxSelect").value_or(0);
  return v < 1 ? 1 : static_cast<int>(v);
}

bool Field::is_multi() const {
  if (type != FieldType::select && type != FieldType::relation && type != FieldType::file)
    return false;
  return number_option("maxSelect").value_or(0) > 1;
}

json::value Field::zero_value() const {
  switch (type) {
    case FieldType::number: return 0;
    case FieldType::boolean: return false;
    case FieldType::json: return nullptr;
    case FieldType::geo_point: return json::object{{"lon", 0}, {"lat", 0}};
    case FieldType::select:
    case FieldType::relation:
    case FieldType::file:
      if (is_multi()) return json::array();
      return "";
    default: return "";
  }
}

std::string Field::column_type() const {
  if (primary_key) return "TEXT PRIMARY KEY DEFAULT ('r'||lower(hex(randomblob(7)))) NOT NULL";
  switch (type) {
    case FieldType::number: return "NUMERIC DEFAULT 0 NOT NULL";
    case FieldType::boolean: return "BOOLEAN DEFAULT FALSE NOT NULL";
    case FieldType::json: return "JSON DEFAULT NULL";
    case FieldType::geo_point: return "JSON DEFAULT '{\"lon\":0,\"lat\":0}' NOT NULL";
    case FieldType::select:
    case FieldType::relation:
    case FieldType::file:
      if (is_multi()) return "JSON DEFAULT '[]' NOT NULL";
      return "TEXT DEFAULT '' NOT NULL";
    default: return "TEXT DEFAULT '' NOT NULL";
  }
}

}  // namespace plinth::core
