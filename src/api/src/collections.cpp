// Collections API (superusers only): list, view, create, delete.

#include <set>

#include "auth_options.hpp"
#include "common.hpp"
#include "plinth/core/datetime.hpp"
#include "plinth/util/strings.hpp"

namespace plinth::api::detail {
namespace {

json::object error_leaf(std::string code, std::string message) {
  return {{"code", std::move(code)}, {"message", std::move(message)}};
}

std::optional<std::string> rule_from(const json::object& body, std::string_view key) {
  auto* v = body.if_contains(key);
  if (!v || v->is_null()) return std::nullopt;
  if (v->is_string()) return std::string(v->get_string());
  return std::nullopt;
}

// Builds and validates a collection from a create body, or (with `existing`)
// the updated collection from a PATCH body: absent keys keep their value.
core::Collection collection_from_body(const json::object& body, const core::Catalog& catalog,
                                      const core::Collection* existing = nullptr) {
  json::object errors;
  core::Collection c;
  if (existing) c = *existing;
  const std::string failure =
      existing ? "Failed to update collection." : "Failed to create collection.";
  auto* name = body.if_contains("name");
  if (name || !existing)
    c.name = name && name->is_string() ? std::string(name->get_string()) : std::string();
  auto* type = body.if_contains("type");
  if (!existing) {
    c.type = type && type->is_string() ? std::string(type->get_string()) : std::string("base");
  } else if (type && (!type->is_string() || type->get_string() != existing->type)) {
    errors["type"] =
        error_leaf("validation_collection_type_change", "Collection type cannot be changed.");
  }
  bool renamed = existing && c.name != existing->name;

  static const std::set<std::string> kInternalTables{"_collections", "_params", "_migrations",
                                                     "_logs"};
  bool id_clash = false;
  for (const auto& other : catalog.all()) {
    id_clash = id_clash || (other->id == c.name && (!existing || other->id != existing->id));
  }
  if (c.name.empty()) {
    errors["name"] = error_leaf("validation_required", "Cannot be blank.");
  } else if (c.name.size() > 255) {
    errors["name"] =
        error_leaf("validation_length_out_of_range", "The length must be between 1 and 255.");
    errors["name"].get_object()["params"] = json::object{{"max", 255}, {"min", 1}};
  } else if (!core::is_identifier(c.name)) {
    errors["name"] = error_leaf("validation_match_invalid", "Must be in a valid format.");
  } else if (util::to_lower(c.name).find("_via_") != std::string::npos) {
    errors["name"] = error_leaf("validation_found_via", "The value cannot contain \"_via_\".");
  } else if (existing && existing->system && renamed) {
    errors["name"] = error_leaf("validation_collection_system_name_change",
                                "System collection name cannot be changed.");
  } else if (id_clash) {
    errors["name"] = error_leaf("validation_collection_name_id_duplicate",
                                "The name must not match an existing collection id.");
  } else if (auto other = catalog.find(c.name); other && (!existing || other->id != existing->id)) {
    errors["name"] = error_leaf("validation_collection_name_exists",
                                "Collection name must be unique (case insensitive).");
  } else if ((!existing || renamed) && (kInternalTables.count(util::to_lower(c.name)) ||
                                        util::to_lower(c.name).starts_with("sqlite_"))) {
    errors["name"] = error_leaf("validation_collection_name_invalid",
                                "The name shouldn't match with an existing internal table.");
  }
  if (!existing && c.type != "base" && c.type != "auth") {
    errors["type"] = error_leaf(
        "validation_in_invalid",
        c.type == "view" ? "View collections cannot be created yet." : "Must be a valid value.");
  }

  json::object field_errors;
  std::set<std::string> seen;
  static const std::set<std::string> kReserved{"null",         "true",           "false", "_rowid_",
                                               "collectionid", "collectionname", "expand"};
  auto* fs = body.if_contains("fields");
  if (fs && !fs->is_null()) c.fields.clear();
  if (fs && !fs->is_null()) {
    if (!fs->is_array()) {
      errors["fields"] = error_leaf("validation_invalid_value", "Invalid value.");
    } else {
      std::size_t i = 0;
      for (const auto& fv : fs->get_array()) {
        auto idx = std::to_string(i++);
        if (!fv.is_object()) {
          field_errors[idx] = error_leaf("validation_invalid_value", "Invalid value.");
          continue;
        }
        json::object raw = fv.get_object();
        std::string err;
        auto f = core::Field::from_json(raw, err);
        if (!f) {
          auto* n = raw.if_contains("name");
          std::string_view nm =
              n && n->is_string() ? std::string_view(n->get_string()) : std::string_view();
          json::object leaf;
          if (nm.empty())
            leaf = error_leaf("validation_required", "Cannot be blank.");
          else if (util::to_lower(nm).find("_via_") != std::string::npos)
            leaf = error_leaf("validation_found_via", "The value cannot contain \"_via_\".");
          else if (!core::is_identifier(nm))
            leaf = error_leaf("validation_match_invalid", "Must be in a valid format.");
          bool bad_name = !leaf.empty();
          field_errors[idx] = json::object{
              {bad_name ? "name" : "type",
               bad_name ? leaf : error_leaf("validation_in_invalid", "Must be a valid value.")}};
          continue;
        }
        auto lower = util::to_lower(f->name);
        if (lower.find("_via_") != std::string::npos) {
          field_errors[idx] = json::object{
              {"name", error_leaf("validation_found_via", "The value cannot contain \"_via_\".")}};
          continue;
        }
        if (kReserved.count(lower)) {
          field_errors[idx] = json::object{
              {"name", error_leaf("validation_not_in_invalid", "Must not be in list.")}};
          continue;
        }
        if (!seen.insert(lower).second) {
          auto leaf = error_leaf("validation_duplicated_field_name",
                                 "Duplicated or invalid field name " + f->name + ".");
          leaf["params"] = json::object{{"fieldName", f->name}};
          field_errors[idx] = json::object{{"name", std::move(leaf)}};
          continue;
        }
        core::complete_field_options(*f);
        if (f->id.empty()) {
          // A field sent without id keeps the id of the existing field with that name.
          const core::Field* same = existing ? existing->field(f->name) : nullptr;
          f->id = same ? same->id : core::default_field_id(core::field_type_name(f->type), f->name);
          f->raw["id"] = f->id;
        }
        if (existing) {
          const core::Field* before = nullptr;
          for (const auto& ef : existing->fields) {
            if (ef.id == f->id) before = &ef;
          }
          if (before && before->system && (before->name != f->name || before->type != f->type)) {
            field_errors[idx] =
                json::object{{"name", error_leaf("validation_system_field_change",
                                                 "System fields cannot be deleted or renamed.")}};
            continue;
          }
        }
        for (const char* k : {"hidden", "presentable", "system"}) {
          if (!f->raw.contains(k)) f->raw[k] = false;
        }
        if (f->type != core::FieldType::autodate && !f->raw.contains("required"))
          f->raw["required"] = false;
        if (f->name == "id") {
          if (f->type != core::FieldType::text) {
            field_errors[idx] =
                json::object{{"type", error_leaf("validation_invalid_value",
                                                 "The primary key must be a text field.")}};
            continue;
          }
          f->primary_key = f->system = f->required = true;
          f->raw["primaryKey"] = true;
          f->raw["system"] = true;
          f->raw["required"] = true;
          if (f->string_option("pattern").empty()) f->raw["pattern"] = "^[a-z0-9]+$";
        }
        if (f->type == core::FieldType::text) {
          auto pattern = f->string_option("pattern");
          auto why = pattern.empty() ? std::nullopt : core::pattern_error(pattern);
          if (why) {
            field_errors[idx] =
                json::object{{"pattern", error_leaf("validation_invalid_regex", *why)}};
            continue;
          }
        }
        c.fields.push_back(std::move(*f));
      }
    }
  }
  if (existing && fs && !fs->is_null() && field_errors.empty()) {
    // As PocketBase: system fields left out of the list (a schema written by
    // hand or exported without them) are kept, not dropped; `id` stays first.
    for (const auto& ef : existing->fields) {
      if (!ef.system) continue;
      bool kept = false;
      for (const auto& f : c.fields) kept = kept || f.id == ef.id;
      if (kept) continue;
      if (c.field(ef.name)) {
        errors["fields"] =
            json::object{{"name", error_leaf("validation_system_field_change",
                                             "System fields cannot be deleted or renamed.")}};
        break;
      }
      if (ef.name == "id")
        c.fields.insert(c.fields.begin(), ef);
      else
        c.fields.push_back(ef);
    }
  }
  if (!field_errors.empty()) errors["fields"] = std::move(field_errors);

  if (c.type == "auth" && !existing) {
    static const std::set<std::string> kReservedAuth{"passwordconfirm", "oldpassword"};
    for (const auto& f : c.fields) {
      if (kReservedAuth.count(util::to_lower(f.name)))
        errors["fields"] =
            json::object{{"name", error_leaf("validation_reserved_field_name",
                                             "The field name is reserved and cannot be used.")}};
    }
    for (auto& sf : core::auth_system_fields()) {
      if (const core::Field* given = c.field(sf.name)) {
        if (given->type != sf.type)
          errors["fields"] = json::object{
              {"name", error_leaf("validation_invalid_value",
                                  "The auth field " + sf.name + " must be of type " +
                                      std::string(core::field_type_name(sf.type)) + ".")}};
        continue;
      }
      c.fields.push_back(std::move(sf));
    }
  }

  if (!c.field("id")) {
    json::object id{{"autogeneratePattern", "[a-z0-9]{15}"},
                    {"hidden", false},
                    {"id", "text3208210256"},
                    {"max", 15},
                    {"min", 15},
                    {"name", "id"},
                    {"pattern", "^[a-z0-9]+$"},
                    {"presentable", false},
                    {"primaryKey", true},
                    {"required", true},
                    {"system", true},
                    {"type", "text"}};
    std::string err;
    c.fields.insert(c.fields.begin(), *core::Field::from_json(id, err));
  }

  if (fs && !fs->is_null()) {
    for (auto& f : c.fields) core::complete_field_options(f);
  } else if (!existing) {
    for (auto& f : c.fields) core::complete_field_options(f);
  }

  json::object index_errors;
  auto* idx_body = body.if_contains("indexes");
  if (idx_body && idx_body->is_array()) c.indexes.clear();
  if (existing && renamed && !(idx_body && idx_body->is_array())) {
    // Index statements name the table: rewrite them for the new name.
    for (auto& i : c.indexes) {
      auto on = util::to_lower(i).find(" on ");
      if (on == std::string::npos) continue;
      auto paren = i.find('(', on);
      if (paren == std::string::npos) continue;
      i = i.substr(0, on) + " ON `" + c.name + "` " + i.substr(paren);
    }
  }
  for (std::size_t n = 0; n < c.indexes.size() && !(idx_body && idx_body->is_array()); ++n) {
    if (!store::is_valid_index(c.indexes[n])) {
      index_errors[std::to_string(n)] =
          error_leaf("validation_invalid_index_expression", "Invalid CREATE INDEX expression.");
    }
  }
  if (auto* idx = idx_body; idx && idx->is_array()) {
    std::size_t i = 0;
    for (const auto& iv : idx->get_array()) {
      auto key = std::to_string(i++);
      if (!iv.is_string() || !store::is_valid_index(iv.get_string())) {
        index_errors[key] =
            error_leaf("validation_invalid_index_expression", "Invalid CREATE INDEX expression.");
        continue;
      }
      c.indexes.emplace_back(iv.get_string());
    }
  }
  if (!index_errors.empty()) errors["indexes"] = std::move(index_errors);

  auto set_rule = [&](std::optional<std::string>& rule, std::string_view key) {
    if (!existing || body.contains(key)) rule = rule_from(body, key);
  };
  set_rule(c.list_rule, "listRule");
  set_rule(c.view_rule, "viewRule");
  set_rule(c.create_rule, "createRule");
  set_rule(c.update_rule, "updateRule");
  set_rule(c.delete_rule, "deleteRule");

  // Rules must compile against the collection as it will be (PocketBase's
  // validation_invalid_rule), so a typo never reaches a request.
  if (errors.empty()) {
    std::vector<std::shared_ptr<const core::Collection>> all;
    for (const auto& other : catalog.all()) {
      if (!existing || other->id != existing->id) all.push_back(other);
    }
    auto self = std::make_shared<core::Collection>(c);
    if (self->id.empty()) self->id = core::default_collection_id(self->type, self->name);
    all.push_back(self);
    core::Catalog next(std::move(all));
    query::RequestInfo ri;
    const std::pair<const char*, const std::optional<std::string>*> rules[] = {
        {"listRule", &c.list_rule},
        {"viewRule", &c.view_rule},
        {"createRule", &c.create_rule},
        {"updateRule", &c.update_rule},
        {"deleteRule", &c.delete_rule}};
    for (const auto& [key, rule] : rules) {
      if (!*rule || (*rule)->empty()) continue;
      query::Compiler compiler(next, *self, ri, {});
      auto err = compiler.add_rule(**rule);
      if (!err) {
        auto done = compiler.finish();
        if (auto* e = std::get_if<query::Error>(&done)) err = *e;
      }
      if (err) {
        errors[key] =
            error_leaf("validation_invalid_rule", "Invalid rule. Raw error: " + err->message + ".");
      }
    }
  }

  if (c.type == "auth") {
    c.options = apply_auth_options(existing ? existing->options : core::default_auth_options(),
                                   body, errors);
  }
  if (!errors.empty()) throw http::ApiError(400, failure, core::to_json(errors));
  if (existing) {
    c.updated = core::now_datetime();
    return c;
  }

  auto* id = body.if_contains("id");
  c.id = id && id->is_string() && !id->get_string().empty()
             ? std::string(id->get_string())
             : core::default_collection_id(c.type, c.name);
  if (!core::is_identifier(c.id) || catalog.find(c.id)) {
    throw http::ApiError(400, "Failed to create collection.",
                         core::to_json(json::object{
                             {"id", error_leaf("validation_invalid_or_existing_id",
                                               "The model id is invalid or already exists.")}}));
  }
  if (c.type == "auth") {
    bool has_token_idx = false, has_email_idx = false;
    for (const auto& i : c.indexes) {
      has_token_idx = has_token_idx || i.find("tokenKey") != std::string::npos;
      has_email_idx = has_email_idx || i.find("`email`") != std::string::npos ||
                      i.find("(email)") != std::string::npos;
    }
    auto defaults = core::auth_system_indexes(c.name, c.id);
    if (!has_token_idx) c.indexes.push_back(defaults[0]);
    if (!has_email_idx) c.indexes.push_back(defaults[1]);
  }
  c.created = c.updated = core::now_datetime();
  return c;
}

}  // namespace

void register_collection_routes(http::Router& router, Services& s) {
  const http::RouteOptions blocking{.blocking = true};

  router.get(
      "/api/collections",
      [&s](http::Request& req) {
        require_superuser(s, req);
        auto cat = s.store.catalog();
        std::vector<std::shared_ptr<const core::Collection>> all = cat->all();
        if (auto f = req.query_param("filter"); f && !f->empty()) {
          query::RequestInfo ri;
          auto compiled =
              query::compile(*f, *cat, store::collections_table(), ri, {.allow_hidden = true});
          if (auto* e = std::get_if<query::Error>(&compiled)) {
            throw http::ApiError(400, "Invalid filter: " + e->message + " (at position " +
                                          std::to_string(e->position) + ").");
          }
          auto ids = guard_store(
              "", [&] { return s.store.filter_collections(std::get<query::Compiled>(compiled)); });
          std::set<std::string> keep(ids.begin(), ids.end());
          std::erase_if(all, [&](const auto& c) { return !keep.count(c->id); });
        }
        // sort=name,-created ...: the collection's own scalar keys.
        if (auto sort = req.query_param("sort"); sort && !sort->empty()) {
          std::vector<std::pair<std::string, bool>> terms;
          for (auto part : util::split(*sort, ',')) {
            auto t = util::trim(part);
            bool desc = !t.empty() && t.front() == '-';
            if (!t.empty() && (t.front() == '-' || t.front() == '+')) t.remove_prefix(1);
            static const std::set<std::string_view> kKeys{"id",     "name",    "type",
                                                          "system", "created", "updated"};
            if (!kKeys.count(t))
              throw http::ApiError(400, "Invalid sort field \"" + std::string(t) + "\".");
            terms.emplace_back(std::string(t), desc);
          }
          auto key = [](const core::Collection& c, const std::string& k) -> std::string {
            if (k == "id") return c.id;
            if (k == "name") return c.name;
            if (k == "type") return c.type;
            if (k == "system") return c.system ? "1" : "0";
            if (k == "created") return c.created;
            return c.updated;
          };
          std::stable_sort(all.begin(), all.end(), [&](const auto& a, const auto& b) {
            for (const auto& [k, desc] : terms) {
              auto ka = key(*a, k), kb = key(*b, k);
              if (ka != kb) return desc ? ka > kb : ka < kb;
            }
            return false;
          });
        }
        auto page_param = req.query_param("page"), per_param = req.query_param("perPage");
        std::int64_t page = 1, per_page = 30;
        try {
          if (page_param && !page_param->empty())
            page = std::max<std::int64_t>(1, std::stoll(*page_param));
          if (per_param && !per_param->empty()) per_page = std::stoll(*per_param);
        } catch (const std::exception&) {
          throw http::ApiError(400, "Invalid pagination parameters.");
        }
        if (per_page <= 0) per_page = 30;
        if (per_page > 1000) per_page = 1000;
        auto n = static_cast<std::int64_t>(all.size());
        json::array items;
        for (std::int64_t i = (page - 1) * per_page; i < n && i < page * per_page; ++i) {
          items.push_back(all[static_cast<std::size_t>(i)]->to_api_json());
        }
        json::object out;
        out["items"] = std::move(items);
        out["page"] = page;
        out["perPage"] = per_page;
        out["totalItems"] = n;
        out["totalPages"] = (n + per_page - 1) / per_page;
        return json_response(200, out);
      },
      blocking);

  router.get(
      "/api/collections/{collection}",
      [&s](http::Request& req) {
        require_superuser(s, req);
        auto c = s.store.catalog()->find(req.param("collection"));
        if (!c) throw http::ApiError(404);
        return json_response(200, c->to_api_json());
      },
      blocking);

  router.post(
      "/api/collections",
      [&s](http::Request& req) {
        require_superuser(s, req);
        auto body = parse_body(req);
        auto c = collection_from_body(body, *s.store.catalog());
        guard_store("Failed to create collection.", [&] {
          s.store.create_collection(c);
          return 0;
        });
        auto created = s.store.catalog()->find(c.id);
        return json_response(200, created ? created->to_api_json() : c.to_api_json());
      },
      blocking);

  router.patch(
      "/api/collections/{collection}",
      [&s](http::Request& req) {
        require_superuser(s, req);
        auto cat = s.store.catalog();
        auto before = cat->find(req.param("collection"));
        if (!before) throw http::ApiError(404);
        auto body = parse_body(req);
        auto after = collection_from_body(body, *cat, before.get());
        guard_store("Failed to update collection.", [&] {
          s.store.update_collection(*before, after);
          return 0;
        });
        auto updated = s.store.catalog()->find(after.id);
        return json_response(200, updated ? updated->to_api_json() : after.to_api_json());
      },
      blocking);

  router.add(
      "PUT", "/api/collections/import",
      [&s](http::Request& req) {
        require_superuser(s, req);
        auto body = parse_body(req);
        auto* list = body.if_contains("collections");
        if (!list || !list->is_array() || list->get_array().empty()) {
          throw http::ApiError(
              400, "Failed to import collections.",
              core::to_json(json::object{
                  {"collections", error_leaf("validation_required", "Cannot be blank.")}}));
        }
        auto* dm = body.if_contains("deleteMissing");
        bool delete_missing = dm && dm->is_bool() && dm->get_bool();
        auto cat = s.store.catalog();
        std::shared_ptr<const core::Catalog> work = cat;
        std::vector<store::SchemaChange> changes;
        std::set<std::string> imported_ids;
        json::object item_errors;
        std::size_t i = 0;
        for (const auto& item : list->get_array()) {
          auto key = std::to_string(i++);
          if (!item.is_object()) {
            item_errors[key] = error_leaf("validation_invalid_value", "Invalid value.");
            continue;
          }
          const auto& obj = item.get_object();
          auto* id = obj.if_contains("id");
          std::shared_ptr<const core::Collection> existing;
          if (id && id->is_string() && !id->get_string().empty()) {
            existing = cat->find(id->get_string());
            if (existing && existing->id != id->get_string()) existing = nullptr;
          } else if (auto* name = obj.if_contains("name"); name && name->is_string()) {
            // Without an id, an existing collection of that name is the one updated.
            existing = cat->find(name->get_string());
          }
          try {
            // Each collection is validated against the catalog as the import
            // has made it so far: later collections may relate to, and have
            // rules reaching into, earlier ones.
            core::Collection result = existing ? collection_from_body(obj, *work, existing.get())
                                               : collection_from_body(obj, *work);
            imported_ids.insert(result.id);
            std::vector<std::shared_ptr<const core::Collection>> next;
            for (const auto& c : work->all()) {
              if (c->id != result.id) next.push_back(c);
            }
            next.push_back(std::make_shared<core::Collection>(result));
            work = std::make_shared<core::Catalog>(std::move(next));
            if (existing) {
              changes.push_back({store::SchemaChange::Kind::update, *existing, std::move(result)});
            } else {
              changes.push_back({store::SchemaChange::Kind::create, {}, std::move(result)});
            }
          } catch (const http::ApiError& e) {
            auto data = core::parse_json(e.data_json());
            item_errors[key] = data && data->is_object() ? data->get_object() : json::object{};
          }
        }
        if (!item_errors.empty()) {
          throw http::ApiError(
              400, "Failed to import collections.",
              core::to_json(json::object{{"collections", std::move(item_errors)}}));
        }
        if (delete_missing) {
          for (const auto& c : cat->all()) {
            if (c->system || imported_ids.count(c->id)) continue;
            changes.push_back({store::SchemaChange::Kind::drop, *c, {}});
          }
        }
        guard_store("Failed to import collections.", [&] {
          s.store.change_schema(changes);
          return 0;
        });
        return no_content();
      },
      blocking);

  router.del(
      "/api/collections/{collection}/truncate",
      [&s](http::Request& req) {
        require_superuser(s, req);
        auto c = s.store.catalog()->find(req.param("collection"));
        if (!c) throw http::ApiError(404);
        if (c->is_view()) throw http::ApiError(400, "View collections cannot be truncated.");
        guard_store("Failed to truncate collection.", [&] {
          s.store.truncate_collection(*c);
          return 0;
        });
        return no_content();
      },
      blocking);

  router.del(
      "/api/collections/{collection}",
      [&s](http::Request& req) {
        require_superuser(s, req);
        auto cat = s.store.catalog();
        auto c = cat->find(req.param("collection"));
        if (!c) throw http::ApiError(404);
        if (c->system) throw http::ApiError(400, "System collection can't be deleted.");
        for (const auto& other : cat->all()) {
          if (other->id == c->id) continue;
          for (const auto& f : other->fields) {
            if (f.type == core::FieldType::relation && f.string_option("collectionId") == c->id)
              throw http::ApiError(400, "The collection is referenced by " + other->name + "." +
                                            f.name + " and can't be deleted.");
          }
        }
        guard_store("Failed to delete collection.",
                    [&] { return s.store.delete_collection(c->id); });
        return no_content();
      },
      blocking);
}

void register_auth_routes(http::Router& router, Services& s);
void register_record_routes(http::Router& router, Services& s);
void register_batch_routes(http::Router& router, Services& s);
void register_settings_routes(http::Router& router, Services& s);
void register_api_key_routes(http::Router& router, Services& s);
void register_setup_routes(http::Router& router, Services& s);

}  // namespace plinth::api::detail

namespace plinth::api {

void register_data_routes(http::Router& router, Services& services) {
  detail::register_collection_routes(router, services);
  detail::register_record_routes(router, services);
  detail::register_auth_routes(router, services);
  detail::register_batch_routes(router, services);
  detail::register_settings_routes(router, services);
  detail::register_api_key_routes(router, services);
  detail::register_setup_routes(router, services);
}

}  // namespace plinth::api
