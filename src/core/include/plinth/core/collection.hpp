#pragma once
// Collections in PocketBase's shape, and the Catalog: an immutable snapshot of
// every collection, looked up by id or (case-insensitively) by name.

#include <boost/json/object.hpp>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "plinth/core/field.hpp"

namespace plinth::core {

struct Collection {
  std::string id;
  std::string name;
  std::string type = "base";  // base | auth | view
  bool system = false;
  std::vector<Field> fields;
  std::vector<std::string> indexes;
  std::optional<std::string> list_rule, view_rule, create_rule, update_rule, delete_rule;
  json::object options;  // auth options / viewQuery, as stored
  std::string created, updated;

  bool is_auth() const { return type == "auth"; }
  bool is_view() const { return type == "view"; }
  const Field* field(std::string_view name) const;

  // API JSON (struct order; options flattened; token and OAuth2 secrets omitted).
  json::object to_api_json() const;
  // `_collections.fields` column text: each field's keys sorted.
  std::string fields_db_json() const;
  std::string indexes_db_json() const;
  std::string options_db_json() const;
};

// Parses a stored `_collections` row's JSON columns; throws std::runtime_error when unusable.
Collection collection_from_row(
    std::string id, bool system, std::string type, std::string name, std::string_view fields_json,
    std::string_view indexes_json, std::optional<std::string> list_rule,
    std::optional<std::string> view_rule, std::optional<std::string> create_rule,
    std::optional<std::string> update_rule, std::optional<std::string> delete_rule,
    std::string_view options_json, std::string created, std::string updated);

class Catalog {
 public:
  explicit Catalog(std::vector<std::shared_ptr<const Collection>> collections)
      : collections_(std::move(collections)) {}
  // By exact id first, then by name ignoring ASCII case.
  std::shared_ptr<const Collection> find(std::string_view id_or_name) const;
  const std::vector<std::shared_ptr<const Collection>>& all() const { return collections_; }

 private:
  std::vector<std::shared_ptr<const Collection>> collections_;
};

// PocketBase's deterministic collection id: "pbc_" + crc32(type + name).
std::string default_collection_id(std::string_view type, std::string_view name);
// PocketBase's deterministic field id: type + crc32(name).
std::string default_field_id(std::string_view type, std::string_view name);

// The system collections of a fresh data directory (PocketBase 0.39 layout):
// _superusers, users, _mfas, _otps, _externalAuths, _authOrigins.
std::vector<Collection> system_collections(std::string_view now);

// What every auth collection has: the system fields (password, tokenKey, email,
// emailVisibility, verified), unique indexes on tokenKey and email, and the
// default auth options (fresh token secrets each call).
std::vector<Field> auth_system_fields();
std::vector<std::string> auth_system_indexes(std::string_view table, std::string_view suffix);
json::object default_auth_options();

// Adds every option key PocketBase writes for the field's type (with its zero value) when missing.
void complete_field_options(Field& f);

}  // namespace plinth::core
