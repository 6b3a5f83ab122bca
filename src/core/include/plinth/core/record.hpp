#pragma once
// Records: applying a request body to a record (PocketBase's normalisation and
// `field+` / `+field` / `field-` modifiers), validating the result with
// PocketBase's error codes, and the API view of a record.

#include <boost/json/object.hpp>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "plinth/core/collection.hpp"

namespace plinth::core {

struct FieldError {
  std::string code;
  std::string message;
  json::object params;
};
using FieldErrors = std::map<std::string, FieldError>;

// {"field":{"code":"...","message":"...","params":{...}}, ...}
json::object field_errors_json(const FieldErrors& errors);

// A write refused for field-level reasons; the API answers 400 with `errors` as data.
class ValidationFailed : public std::runtime_error {
 public:
  ValidationFailed(std::string message, FieldErrors errors)
      : std::runtime_error(message), errors_(std::move(errors)) {}
  const FieldErrors& errors() const { return errors_; }

 private:
  FieldErrors errors_;
};

struct ApplyOptions {
  bool is_create = true;
  bool superuser = false;  // may set hidden fields and `verified`
  // Matches the auth collection's manageRule: may set `verified` and change
  // `email` directly (and a password without oldPassword; see the API).
  bool manager = false;
};

struct PreparedRecord {
  json::object values;                               // field name -> normalised value
  std::map<std::string, std::string> new_passwords;  // password field -> new plain text
  FieldErrors errors;                                // malformed inputs found while applying
  json::object original;  // values before the body (update); empty on create
};

// Starts from `existing` (update) or the collection's zero values (create),
// applies `body`, generates the id and sets autodates. The values are allocated from `sp`
// (the default heap when empty).
PreparedRecord apply_body(const Collection& c, const json::object* existing,
                          const json::object& body, const ApplyOptions& opts,
                          const json::storage_ptr& sp = {});

// The rules of a password field (min, max - 71 by default -, pattern) for a
// new plain-text value, lengths in UTF-8 characters; nullopt when it passes.
std::optional<FieldError> validate_password(const Field& f, std::string_view plain);

// Why `pattern` is not a valid field pattern (Go regexp syntax, as PocketBase), or nullopt.
std::optional<std::string> pattern_error(const std::string& pattern);

// Field-level validation of prepared values (relation targets are checked by the store).
FieldErrors validate_record(const Collection& c, const PreparedRecord& rec, bool is_create);

struct ViewOptions {
  bool show_hidden = false;  // superusers see hidden fields
  bool show_email = false;   // owner / superuser see auth emails regardless of emailVisibility
};
// The API JSON of a record: keys sorted, collectionId/collectionName added,
// password/tokenKey never present.
// The result is allocated from `sp` (the default heap when empty).
json::object record_to_api(const Collection& c, const json::object& values, const ViewOptions& opts,
                           const json::storage_ptr& sp = {});
// The same, moving the field values out of `values` (left with moved-from values).
json::object record_to_api(const Collection& c, json::object&& values, const ViewOptions& opts,
                           const json::storage_ptr& sp = {});

// One key of a record's API JSON: a field of the collection (its index in `fields`), or one of
// the two keys every record has.
inline constexpr int kApiCollectionId = -1;
inline constexpr int kApiCollectionName = -2;
struct ApiKey {
  std::string_view name;
  int field;  // index into Collection::fields, kApiCollectionId or kApiCollectionName
};
// The keys of a record's API JSON in the order they are written (by byte value, as Go marshals
// a map): collectionId, collectionName and every field `opts` shows. Password fields and an auth
// collection's tokenKey never; hidden fields with show_hidden; an auth record's email when
// `email_visible` (its emailVisibility) or show_email. Replaces the contents of `keys`.
void api_keys(const Collection& c, const ViewOptions& opts, bool email_visible,
              std::vector<ApiKey>& keys);

// Number of Unicode code points in UTF-8 text.
std::size_t utf8_length(std::string_view s);

}  // namespace plinth::core
