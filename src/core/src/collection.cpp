#include "plinth/core/collection.hpp"

#include <zlib.h>

#include <stdexcept>

#include "plinth/core/json.hpp"
#include "plinth/util/strings.hpp"

namespace plinth::core {

const Field* Collection::field(std::string_view n) const {
  for (const auto& f : fields) {
    if (f.name == n) return &f;
  }
  return nullptr;
}

namespace {

json::value rule_value(const std::optional<std::string>& r) {
  if (!r) return nullptr;
  return json::value(*r);
}

// Removes "secret" from token configs and "clientSecret" from OAuth2 providers.
json::value mask_option(std::string_view key, const json::value& v) {
  if (!v.is_object()) return v;
  json::object o = v.get_object();
  if (key.ends_with("Token")) erase_stable(o, "secret");
  if (key == "oauth2") {
    auto* providers = o.if_contains("providers");
    if (providers && providers->is_null()) *providers = json::array();
    if (providers && providers->is_array()) {
      for (auto& p : providers->get_array()) {
        if (p.is_object()) erase_stable(p.get_object(), "clientSecret");
      }
    }
  }
  return o;
}

}  // namespace

json::object Collection::to_api_json() const {
  json::object o;
  o["id"] = id;
  o["listRule"] = rule_value(list_rule);
  o["viewRule"] = rule_value(view_rule);
  o["createRule"] = rule_value(create_rule);
  o["updateRule"] = rule_value(update_rule);
  o["deleteRule"] = rule_value(delete_rule);
  o["name"] = name;
  o["type"] = type;
  json::array fs;
  for (const auto& f : fields) fs.push_back(sorted_copy(f.raw));
  o["fields"] = std::move(fs);
  json::array idx;
  for (const auto& i : indexes) idx.push_back(json::value(i));
  o["indexes"] = std::move(idx);
  o["created"] = created;
  o["updated"] = updated;
  o["system"] = system;
  for (const auto& kv : options) o[kv.key()] = mask_option(kv.key(), kv.value());
  return o;
}

std::string Collection::fields_db_json() const {
  json::array fs;
  for (const auto& f : fields) fs.push_back(sorted_copy(f.raw));
  return to_json(fs);
}

std::string Collection::indexes_db_json() const {
  json::array idx;
  for (const auto& i : indexes) idx.push_back(json::value(i));
  return to_json(idx);
}

std::string Collection::options_db_json() const {
  return to_json(options);
}

Collection collection_from_row(
    std::string id, bool system, std::string type, std::string name, std::string_view fields_json,
    std::string_view indexes_json, std::optional<std::string> list_rule,
    std::optional<std::string> view_rule, std::optional<std::string> create_rule,
    std::optional<std::string> update_rule, std::optional<std::string> delete_rule,
    std::string_view options_json, std::string created, std::string updated) {
  Collection c;
  c.id = std::move(id);
  c.system = system;
  c.type = std::move(type);
  c.name = std::move(name);
  c.list_rule = std::move(list_rule);
  c.view_rule = std::move(view_rule);
  c.create_rule = std::move(create_rule);
  c.update_rule = std::move(update_rule);
  c.delete_rule = std::move(delete_rule);
  c.created = std::move(created);
  c.updated = std::move(updated);
  auto fields = parse_json(fields_json);
  if (!fields || !fields->is_array())
    throw std::runtime_error("collection " + c.name + ": bad fields JSON");
  for (const auto& fv : fields->get_array()) {
    if (!fv.is_object()) continue;
    std::string err;
    auto f = Field::from_json(fv.get_object(), err);
    if (!f) throw std::runtime_error("collection " + c.name + ": " + err);
    c.fields.push_back(std::move(*f));
  }
  if (auto idx = parse_json(indexes_json.empty() ? "[]" : indexes_json); idx && idx->is_array()) {
    for (const auto& i : idx->get_array()) {
      if (i.is_string()) c.indexes.emplace_back(i.get_string());
    }
  }
  if (auto opts = parse_json(options_json.empty() ? "{}" : options_json);
      opts && opts->is_object()) {
    c.options = opts->get_object();
  }
  return c;
}

std::shared_ptr<const Collection> Catalog::find(std::string_view id_or_name) const {
  for (const auto& c : collections_) {
    if (c->id == id_or_name) return c;
  }
  for (const auto& c : collections_) {
    if (util::iequals(c->name, id_or_name)) return c;
  }
  return nullptr;
}

std::string default_collection_id(std::string_view type, std::string_view name) {
  std::string s = std::string(type) + std::string(name);
  auto crc = crc32(0L, reinterpret_cast<const Bytef*>(s.data()), static_cast<uInt>(s.size()));
  return "pbc_" + std::to_string(crc);
}

std::string default_field_id(std::string_view type, std::string_view name) {
  auto crc = crc32(0L, reinterpret_cast<const Bytef*>(name.data()), static_cast<uInt>(name.size()));
  return std::string(type) + std::to_string(crc);
}

}  // namespace plinth::core
