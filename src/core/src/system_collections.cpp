// The system collections a fresh data directory starts with, in PocketBase
// 0.39's layout, so that a directory created by Plinth is one PocketBase can
// open too.

#include "plinth/core/collection.hpp"
#include "plinth/util/random.hpp"

namespace plinth::core {
namespace {

Field make_field(std::string_view type, std::string_view name, json::object extra, bool system) {
  json::object o;
  o["hidden"] = false;
  o["id"] = default_field_id(type, name);
  o["name"] = name;
  o["presentable"] = false;
  o["system"] = system;
  o["type"] = type;
  if (type != "autodate") o["required"] = false;
  for (const auto& kv : extra) o[kv.key()] = kv.value();
  std::string err;
  return *Field::from_json(o, err);
}

Field id_field() {
  return make_field("text", "id",
                    {{"autogeneratePattern", "[a-z0-9]{15}"},
                     {"max", 15},
                     {"min", 15},
                     {"pattern", "^[a-z0-9]+$"},
                     {"primaryKey", true},
                     {"required", true}},
                    true);
}

Field text_field(std::string_view name, bool system, bool required, bool hidden = false) {
  return make_field("text", name,
                    {{"autogeneratePattern", ""},
                     {"max", 0},
                     {"min", 0},
                     {"pattern", ""},
                     {"primaryKey", false},
                     {"required", required},
                     {"hidden", hidden}},
                    system);
}

Field autodate(std::string_view name, bool on_update, bool system) {
  return make_field("autodate", name, {{"onCreate", true}, {"onUpdate", on_update}}, system);
}

json::object template_of(std::string_view subject, std::string_view body) {
  return {{"subject", subject}, {"body", body}};
}

json::object token(int duration) {
  return {{"secret", util::random_alnum_secure(50)}, {"duration", duration}};
}

json::object auth_options(int auth_duration, std::string_view auth_rule_owner_manage) {
  json::object o;
  o["authRule"] = "";
  o["manageRule"] =
      auth_rule_owner_manage.empty() ? json::value(nullptr) : json::value(auth_rule_owner_manage);
  o["authAlert"] = {
      {"enabled", true},
      {"emailTemplate",
       template_of("Login from a new location",
                   "<p>Hello,</p>\n<p>Your {APP_NAME} account was just used to sign in "
                   "from a new location:</p>\n<p><em>{ALERT_INFO}</em></p>\n<p>If this "
                   "was not you, change your password now to sign out every other "
                   "session.</p>\n<p>The {APP_NAME} team</p>")}};
  o["oauth2"] = {{"providers", json::array()},
                 {"mappedFields", {{"id", ""}, {"name", ""}, {"username", ""}, {"avatarURL", ""}}},
                 {"enabled", false}};
  o["passwordAuth"] = {{"enabled", true}, {"identityFields", json::array{"email"}}};
  o["mfa"] = {{"enabled", false}, {"duration", 1800}, {"rule", ""}};
  o["otp"] = {
      {"enabled", false},
      {"duration", 180},
      {"length", 8},
      {"emailTemplate",
       template_of("OTP for {APP_NAME}",
                   "<p>Hello,</p>\n<p>Your one-time password is <strong>{OTP}</strong>.</p>\n"
                   "<p>If you did not ask for it, ignore this email.</p>\n<p>The {APP_NAME} "
                   "team</p>")}};
  o["authToken"] = token(auth_duration);
  o["passwordResetToken"] = token(1800);
  o["emailChangeToken"] = token(1800);
  o["verificationToken"] = token(259200);
  o["fileToken"] = token(180);
  o["verificationTemplate"] = template_of(
      "Verify your {APP_NAME} email",
      "<p>Hello,</p>\n<p>Thanks for joining {APP_NAME}. Confirm your email address with the link "
      "below.</p>\n<p><a class=\"btn\" href=\"{APP_URL}/_/#/auth/confirm-verification/{TOKEN}\" "
      "target=\"_blank\" rel=\"noopener\">Verify</a></p>\n<p>The {APP_NAME} team</p>");
  o["resetPasswordTemplate"] = template_of(
      "Reset your {APP_NAME} password",
      "<p>Hello,</p>\n<p>Use the link below to choose a new password.</p>\n<p><a class=\"btn\" "
      "href=\"{APP_URL}/_/#/auth/confirm-password-reset/{TOKEN}\" target=\"_blank\" "
      "rel=\"noopener\">Reset password</a></p>\n<p>If you did not ask for this, ignore this "
      "email.</p>\n<p>The {APP_NAME} team</p>");
  o["confirmEmailChangeTemplate"] = template_of(
      "Confirm your {APP_NAME} new email address",
      "<p>Hello,</p>\n<p>Confirm your new email address with the link below.</p>\n<p><a "
      "class=\"btn\" href=\"{APP_URL}/_/#/auth/confirm-email-change/{TOKEN}\" target=\"_blank\" "
      "rel=\"noopener\">Confirm new email</a></p>\n<p>If you did not ask for this, ignore this "
      "email.</p>\n<p>The {APP_NAME} team</p>");
  return o;
}

std::vector<Field> auth_fields(bool system_dates) {
  std::vector<Field> f;
  f.push_back(id_field());
  f.push_back(make_field(
      "password", "password",
      {{"cost", 0}, {"hidden", true}, {"max", 0}, {"min", 8}, {"pattern", ""}, {"required", true}},
      true));
  f.push_back(make_field("text", "tokenKey",
                         {{"autogeneratePattern", "[a-zA-Z0-9]{50}"},
                          {"hidden", true},
                          {"max", 60},
                          {"min", 30},
                          {"pattern", ""},
                          {"primaryKey", false},
                          {"required", true}},
                         true));
  f.push_back(make_field("email", "email",
                         {{"exceptDomains", nullptr}, {"onlyDomains", nullptr}, {"required", true}},
                         true));
  f.push_back(make_field("bool", "emailVisibility", {}, true));
  f.push_back(make_field("bool", "verified", {}, true));
  (void)system_dates;
  return f;
}

std::vector<std::string> auth_indexes(std::string_view table, std::string_view suffix) {
  return {"CREATE UNIQUE INDEX `idx_tokenKey_" + std::string(suffix) + "` ON `" +
              std::string(table) + "` (`tokenKey`)",
          "CREATE UNIQUE INDEX `idx_email_" + std::string(suffix) + "` ON `" + std::string(table) +
              "` (`email`) WHERE `email` != ''"};
}

Collection base_system(std::string_view name, std::vector<Field> extra,
                       std::vector<std::string> indexes, std::string_view owner_rule,
                       bool owner_delete, std::string_view now) {
  Collection c;
  c.type = "base";
  c.name = name;
  c.id = default_collection_id("base", name);
  c.system = true;
  c.fields.push_back(id_field());
  for (auto& f : extra) c.fields.push_back(std::move(f));
  c.fields.push_back(autodate("created", false, true));
  c.fields.push_back(autodate("updated", true, true));
  c.indexes = std::move(indexes);
  c.list_rule = std::string(owner_rule);
  c.view_rule = std::string(owner_rule);
  if (owner_delete) c.delete_rule = std::string(owner_rule);
  c.created = c.updated = std::string(now);
  return c;
}

}  // namespace

void complete_field_options(Field& f) {
  auto add = [&](std::string_view key, json::value v) {
    if (!f.raw.contains(key)) f.raw[key] = std::move(v);
  };
  add("hidden", false);
  add("presentable", false);
  add("system", false);
  if (f.type != FieldType::autodate) {
    add("required", false);
    add("help", "");
  }
  switch (f.type) {
    case FieldType::text:
      add("autogeneratePattern", "");
      add("max", 0);
      add("min", 0);
      add("pattern", "");
      add("primaryKey", false);
      break;
    case FieldType::number:
      add("max", nullptr);
      add("min", nullptr);
      add("onlyInt", false);
      break;
    case FieldType::email:
    case FieldType::url:
      add("exceptDomains", nullptr);
      add("onlyDomains", nullptr);
      break;
    case FieldType::editor:
      add("convertURLs", false);
      add("maxSize", 0);
      break;
    case FieldType::date:
      add("max", "");
      add("min", "");
      break;
    case FieldType::autodate:
      add("onCreate", true);
      add("onUpdate", false);
      break;
    case FieldType::select:
      add("maxSelect", 0);
      add("values", json::array());
      break;
    case FieldType::json: add("maxSize", 0); break;
    case FieldType::relation:
      add("cascadeDelete", false);
      add("collectionId", "");
      add("maxSelect", 0);
      add("minSelect", 0);
      break;
    case FieldType::file:
      add("maxSelect", 0);
      add("maxSize", 0);
      add("mimeTypes", nullptr);
      add("protected", false);
      add("thumbs", nullptr);
      break;
    case FieldType::password:
      add("cost", 0);
      add("max", 0);
      add("min", 0);
      add("pattern", "");
      break;
    default: break;
  }
}

std::vector<Field> auth_system_fields() {
  auto f = auth_fields(false);
  f.erase(f.begin());  // the id field is handled like any collection's
  return f;
}

std::vector<std::string> auth_system_indexes(std::string_view table, std::string_view suffix) {
  return auth_indexes(table, suffix);
}

json::object default_auth_options() {
  return auth_options(432000, "");
}

std::vector<Collection> system_collections(std::string_view now) {
  std::vector<Collection> out;
  const std::string owner =
      "@request.auth.id != '' && recordRef = @request.auth.id && collectionRef = "
      "@request.auth.collectionId";

  out.push_back(base_system(
      "_mfas",
      {text_field("collectionRef", true, true), text_field("recordRef", true, true),
       text_field("method", true, true)},
      {"CREATE INDEX `idx_mfas_collectionRef_recordRef` ON `_mfas` (collectionRef,recordRef)"},
      owner, false, now));
  {
    auto pw = make_field("password", "password",
                         {{"cost", 8},
                          {"hidden", true},
                          {"max", 0},
                          {"min", 0},
                          {"pattern", ""},
                          {"required", true}},
                         true);
    auto c = base_system(
        "_otps", {text_field("collectionRef", true, true), text_field("recordRef", true, true), pw},
        {"CREATE INDEX `idx_otps_collectionRef_recordRef` ON `_otps` (collectionRef, recordRef)"},
        owner, false, now);
    c.fields.push_back(text_field("sentTo", true, false, true));
    out.push_back(std::move(c));
  }
  out.push_back(base_system(
      "_externalAuths",
      {text_field("collectionRef", true, true), text_field("recordRef", true, true),
       text_field("provider", true, true), text_field("providerId", true, true)},
      {"CREATE UNIQUE INDEX `idx_externalAuths_record_provider` ON `_externalAuths` "
       "(collectionRef, recordRef, provider)",
       "CREATE UNIQUE INDEX `idx_externalAuths_collection_provider` ON `_externalAuths` "
       "(collectionRef, provider, providerId)"},
      owner, true, now));
  out.push_back(
      base_system("_authOrigins",
                  {text_field("collectionRef", true, true), text_field("recordRef", true, true),
                   text_field("fingerprint", true, true)},
                  {"CREATE UNIQUE INDEX `idx_authOrigins_unique_pairs` ON `_authOrigins` "
                   "(collectionRef, recordRef, fingerprint)"},
                  owner, true, now));

  {
    Collection su;
    su.type = "auth";
    su.name = "_superusers";
    su.id = default_collection_id("auth", "_superusers");
    su.system = true;
    su.fields = auth_fields(true);
    su.fields.push_back(autodate("created", false, true));
    su.fields.push_back(autodate("updated", true, true));
    su.indexes = auth_indexes("_superusers", su.id);
    su.options = auth_options(86400, "");
    su.created = su.updated = std::string(now);
    out.push_back(std::move(su));
  }
  {
    Collection users;
    users.type = "auth";
    users.name = "users";
    users.id = "_pb_users_auth_";
    users.fields = auth_fields(false);
    users.fields.push_back(make_field("text", "name",
                                      {{"autogeneratePattern", ""},
                                       {"max", 255},
                                       {"min", 0},
                                       {"pattern", ""},
                                       {"primaryKey", false}},
                                      false));
    users.fields.push_back(make_field(
        "file", "avatar",
        {{"maxSelect", 1},
         {"maxSize", 0},
         {"mimeTypes",
          json::array{"image/jpeg", "image/png", "image/svg+xml", "image/gif", "image/webp"}},
         {"protected", false},
         {"thumbs", nullptr}},
        false));
    users.fields.push_back(autodate("created", false, false));
    users.fields.push_back(autodate("updated", true, false));
    users.indexes = auth_indexes("users", "_pb_users_auth_");
    users.list_rule = "id = @request.auth.id";
    users.view_rule = "id = @request.auth.id";
    users.create_rule = "";
    users.update_rule = "id = @request.auth.id";
    users.delete_rule = "id = @request.auth.id";
    users.options = auth_options(604800, "");
    users.created = users.updated = std::string(now);
    out.push_back(std::move(users));
  }
  return out;
}

}  // namespace plinth::core
