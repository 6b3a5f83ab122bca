#include "plinth/core/record.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <memory>
#include <set>
#include <unordered_map>

#include <re2/re2.h>

#include "plinth/core/datetime.hpp"
#include "plinth/core/json.hpp"
#include "plinth/util/random.hpp"

namespace plinth::core {
namespace {

constexpr double kMaxSafeInt = 9007199254740991.0;

FieldError err(std::string code, std::string message, json::object params = {}) {
  return FieldError{std::move(code), std::move(message), std::move(params)};
}

std::string number_text(double d) {
  std::string s;
  append_number(s, d);
  return s;
}

std::optional<double> as_double(const json::value& v) {
  if (v.is_double()) return v.get_double();
  if (v.is_int64()) return static_cast<double>(v.get_int64());
  if (v.is_uint64()) return static_cast<double>(v.get_uint64());
  return std::nullopt;
}

// Scalar to string as PocketBase casts it; nullopt for arrays/objects.
std::optional<std::string> to_text(const json::value& v) {
  if (v.is_string()) return std::string(v.get_string());
  if (v.is_null()) return std::string();
  if (v.is_bool()) return std::string(v.get_bool() ? "true" : "false");
  if (auto d = as_double(v)) return number_text(*d);
  return std::nullopt;
}

std::vector<std::string> unique_nonempty(const std::vector<std::string>& in) {
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (const auto& s : in) {
    if (s.empty() || !seen.insert(s).second) continue;
    out.push_back(s);
  }
  return out;
}

// Current multi value of a field as strings.
std::vector<std::string> as_list(const json::value& v) {
  std::vector<std::string> out;
  if (v.is_array()) {
    for (const auto& e : v.get_array()) {
      if (e.is_string()) out.emplace_back(e.get_string());
    }
  } else if (v.is_string() && !v.get_string().empty()) {
    out.emplace_back(v.get_string());
  }
  return out;
}

json::value list_value(const Field& f, const std::vector<std::string>& items) {
  auto u = unique_nonempty(items);
  if (f.is_multi()) {
    json::array a;
    for (auto& s : u) a.push_back(json::value(s));
    return a;
  }
  return u.empty() ? json::value("") : json::value(u.back());
}

bool is_empty_value(const Field& f, const json::value& v) {
  switch (f.type) {
    case FieldType::number: {
      auto d = as_double(v);
      return !d || *d == 0;
    }
    case FieldType::boolean: return !(v.is_bool() && v.get_bool());
    case FieldType::json: {
      if (v.is_null()) return true;
      if (v.is_string()) return v.get_string().empty();
      if (v.is_array()) return v.get_array().empty();
      if (v.is_object()) return v.get_object().empty();
      return false;
    }
    case FieldType::geo_point: {
      if (!v.is_object()) return true;
      auto lon = v.get_object().if_contains("lon"), lat = v.get_object().if_contains("lat");
      return (!lon || as_double(*lon).value_or(0) == 0) &&
             (!lat || as_double(*lat).value_or(0) == 0);
    }
    default:
      if (v.is_array()) return v.get_array().empty();
      if (v.is_string()) return v.get_string().empty();
      return v.is_null();
  }
}

// Go's time.Time.String() for a UTC instant: "2006-01-02 15:04:05.123 +0000 UTC"
// (fraction without trailing zeros, omitted when zero).
std::string go_time_string(std::int64_t ms) {
  auto s = format_datetime_ms(ms);  // "YYYY-MM-DD HH:MM:SS.mmmZ"
  std::string base = s.substr(0, 19), frac = s.substr(20, 3);
  while (!frac.empty() && frac.back() == '0') frac.pop_back();
  return base + (frac.empty() ? "" : "." + frac) + " +0000 UTC";
}

// RFC 3339 as Go marshals a time.Time: "2006-01-02T15:04:05.123Z".
std::string rfc3339_string(std::int64_t ms) {
  auto s = format_datetime_ms(ms);
  std::string frac = s.substr(20, 3);
  while (!frac.empty() && frac.back() == '0') frac.pop_back();
  return s.substr(0, 10) + "T" + s.substr(11, 8) + (frac.empty() ? "" : "." + frac) + "Z";
}

// Go re-marshals JSON field values: object keys sorted at every depth.
json::value sort_keys_deep(const json::value& v) {
  if (v.is_object()) {
    json::object o;
    for (const auto& kv : sorted_copy(v.get_object()))
      o.emplace(kv.key(), sort_keys_deep(kv.value()));
    return o;
  }
  if (v.is_array()) {
    json::array a;
    for (const auto& e : v.get_array()) a.push_back(sort_keys_deep(e));
    return a;
  }
  return v;
}

// PocketBase stores a JSON-looking string as the JSON it spells ("[1,2]" -> [1,2],
// "123" -> 123, "null" -> null); any other string stays a string.
json::value normalize_json_value(const json::value& in) {
  if (in.is_string()) {
    std::string_view s = in.get_string();
    if (s == "null" || s == "true" || s == "false" ||
        (!s.empty() && (std::isdigit(static_cast<unsigned char>(s[0])) || s[0] == '-' ||
                        s[0] == '"' || s[0] == '[' || s[0] == '{'))) {
      if (auto parsed = parse_json(s)) return sort_keys_deep(*parsed);
    }
    return in;
  }
  return sort_keys_deep(in);
}

// Normalises one input value for a field; on failure records an error.
std::optional<json::value> normalize(const Field& f, const json::value& in, FieldErrors& errors) {
  auto unsupported = [&]() -> std::optional<json::value> {
    errors[f.name] = err("validation_unsupported_value_type", "Invalid or unsupported value type.");
    return std::nullopt;
  };
  switch (f.type) {
    case FieldType::text:
    case FieldType::email:
    case FieldType::url:
    case FieldType::editor: {
      auto s = to_text(in);
      if (!s) return unsupported();
      return json::value(*s);
    }
    case FieldType::number: {
      if (in.is_null()) return json::value(0);
      if (in.is_bool()) return json::value(in.get_bool() ? 1 : 0);
      if (auto d = as_double(in)) return json::value(*d);
      if (in.is_string()) {
        std::string s(in.get_string());
        if (s.empty()) return json::value(0);
        char* end = nullptr;
        double d = std::strtod(s.c_str(), &end);
        if (end && *end == '\0' && std::isfinite(d)) return json::value(d);
        errors[f.name] =
            err("validation_not_a_number", "The submitted number is not properly formatted.");
        return std::nullopt;
      }
      return unsupported();
    }
    case FieldType::boolean: {
      if (in.is_bool()) return in;
      if (in.is_null()) return json::value(false);
      if (auto d = as_double(in)) return json::value(*d != 0);
      if (in.is_string()) {
        std::string_view s = in.get_string();
        return json::value(s == "true" || s == "1" || s == "t" || s == "T" || s == "TRUE" ||
                           s == "True");
      }
      return unsupported();
    }
    case FieldType::date: {
      if (in.is_null()) return json::value("");
      if (in.is_string()) return json::value(normalize_datetime(in.get_string()));
      if (auto d = as_double(in)) {
        return json::value(format_datetime_ms(static_cast<std::int64_t>(*d * 1000)));
      }
      return unsupported();
    }
    case FieldType::select:
    case FieldType::relation:
    case FieldType::file: {
      std::vector<std::string> items;
      if (in.is_null()) return list_value(f, items);
      if (in.is_string()) {
        items.emplace_back(in.get_string());
      } else if (in.is_array()) {
        for (const auto& e : in.get_array()) {
          if (!e.is_string()) return unsupported();
          items.emplace_back(e.get_string());
        }
      } else {
        return unsupported();
      }
      return list_value(f, items);
    }
    case FieldType::json: return normalize_json_value(in);
    case FieldType::geo_point: {
      if (!in.is_object()) return unsupported();
      auto* lon = in.get_object().if_contains("lon");
      auto* lat = in.get_object().if_contains("lat");
      double lo = lon ? as_double(*lon).value_or(0) : 0, la = lat ? as_double(*lat).value_or(0) : 0;
      return json::value(json::object{{"lon", lo}, {"lat", la}});
    }
    default: return std::nullopt;
  }
}

// Applies a `field+` / `+field` / `field-` modifier.
void apply_modifier(const Field& f, char op, const json::value& in, json::value& current,
                    FieldErrors& errors) {
  if (f.type == FieldType::number) {
    auto delta = normalize(f, in, errors);
    if (!delta || op == '^') return;
    double cur = as_double(current).value_or(0);
    double d = as_double(*delta).value_or(0);
    current = json::value(op == '-' ? cur - d : cur + d);
    return;
  }
  if (f.type != FieldType::select && f.type != FieldType::relation && f.type != FieldType::file)
    return;
  std::vector<std::string> items = as_list(current);
  std::vector<std::string> given;
  if (in.is_string())
    given.emplace_back(in.get_string());
  else if (in.is_array()) {
    for (const auto& e : in.get_array()) {
      if (!e.is_string()) {
        errors[f.name] =
            err("validation_unsupported_value_type", "Invalid or unsupported value type.");
        return;
      }
      given.emplace_back(e.get_string());
    }
  } else {
    errors[f.name] = err("validation_unsupported_value_type", "Invalid or unsupported value type.");
    return;
  }
  if (op == '+')
    items.insert(items.end(), given.begin(), given.end());
  else if (op == '^')
    items.insert(items.begin(), given.begin(), given.end());
  else
    std::erase_if(items, [&](const std::string& s) {
      return std::find(given.begin(), given.end(), s) != given.end();
    });
  current = list_value(f, items);
}

// Compiled patterns, per thread (compiling per record dominated create cost). RE2 speaks the
// syntax of Go's regexp, which PocketBase uses, and matches in time linear in the value with no
// recursion: a long value cannot exhaust a thread's (or a fiber's) stack.
const re2::RE2* cached_regex(const std::string& pattern) {
  thread_local std::unordered_map<std::string, std::unique_ptr<re2::RE2>> cache;
  auto it = cache.find(pattern);
  if (it == cache.end()) {
    if (cache.size() > 512) cache.clear();
    re2::RE2::Options opts;
    opts.set_log_errors(false);
    auto re = std::make_unique<re2::RE2>(pattern, opts);
    if (!re->ok()) re.reset();
    it = cache.emplace(pattern, std::move(re)).first;
  }
  return it->second.get();
}

// Go's MatchString: true when the pattern matches anywhere in the value.
bool matches_pattern(std::string_view value, const std::string& pattern) {
  const re2::RE2* re = cached_regex(pattern);
  return re && re2::RE2::PartialMatch(re2::StringPiece(value.data(), value.size()), *re);
}

bool settable_by_body(const Collection& c, const Field& f, const ApplyOptions& opts) {
  if (f.type == FieldType::autodate) return false;
  if (c.is_auth() && f.name == "tokenKey") return false;
  if (c.is_auth() && f.name == "verified" && !opts.superuser && !opts.manager) return false;
  if (f.hidden && !opts.superuser && f.type != FieldType::password) return false;
  if (f.primary_key && !opts.is_create) return false;
  return true;
}

bool valid_email(std::string_view s) {
  auto at = s.rfind('@');
  if (at == std::string_view::npos || at == 0 || at + 1 >= s.size() || s.size() > 254) return false;
  auto local = s.substr(0, at), domain = s.substr(at + 1);
  if (local.find_first_of(" \t\r\n\"(),:;<>[\\]") != std::string_view::npos) return false;
  if (domain.find('.') == std::string_view::npos || domain.front() == '.' || domain.back() == '.')
    return false;
  for (char ch : domain) {
    auto u = static_cast<unsigned char>(ch);
    if (!(std::isalnum(u) || ch == '-' || ch == '.' || u >= 0x80)) return false;
  }
  return true;
}

bool valid_url(std::string_view s) {
  auto scheme_end = s.find("://");
  if (scheme_end == std::string_view::npos || scheme_end == 0) return false;
  for (char ch : s.substr(0, scheme_end)) {
    if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '+' || ch == '-' || ch == '.'))
      return false;
  }
  auto rest = s.substr(scheme_end + 3);
  auto host = rest.substr(0, rest.find_first_of("/?#"));
  if (host.empty()) return false;
  for (char ch : s) {
    if (ch == ' ' || static_cast<unsigned char>(ch) < 0x20) return false;
  }
  return true;
}

std::string url_host(std::string_view s) {
  auto rest = s.substr(s.find("://") + 3);
  return std::string(rest.substr(0, rest.find_first_of("/?#")));
}

bool domain_listed(const std::vector<std::string>& list, std::string_view domain) {
  for (const auto& d : list) {
    if (d == domain) return true;
  }
  return false;
}

}  // namespace

std::size_t utf8_length(std::string_view s) {
  std::size_t n = 0;
  for (char c : s) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  }
  return n;
}

json::object field_errors_json(const FieldErrors& errors) {
  json::object out;
  for (const auto& [name, e] : errors) {
    json::object o;
    o["code"] = e.code;
    o["message"] = e.message;
    if (!e.params.empty()) o["params"] = e.params;
    out[name] = std::move(o);
  }
  return out;
}

PreparedRecord apply_body(const Collection& c, const json::object* existing,
                          const json::object& body, const ApplyOptions& opts,
                          const json::storage_ptr& sp) {
  PreparedRecord rec{.values = json::object(sp)};
  if (existing) rec.original = *existing;
  rec.values.reserve(c.fields.size());
  for (const auto& f : c.fields) {
    const json::value* cur = existing ? existing->if_contains(f.name) : nullptr;
    rec.values.insert_or_assign(f.name, cur ? *cur : f.zero_value());
  }

  // Plain keys first, then modifiers (PocketBase applies the shortest key first).
  std::vector<std::pair<std::string_view, const json::value*>> keys;
  keys.reserve(body.size());
  for (const auto& kv : body) keys.emplace_back(kv.key(), &kv.value());
  std::stable_sort(keys.begin(), keys.end(),
                   [](const auto& a, const auto& b) { return a.first.size() < b.first.size(); });

  for (const auto& [key, value] : keys) {
    char op = 0;
    std::string_view name = key;
    if (name.size() > 1 && name.back() == '+') {
      op = '+';
      name.remove_suffix(1);
    } else if (name.size() > 1 && name.back() == '-') {
      op = '-';
      name.remove_suffix(1);
    } else if (name.size() > 1 && name.front() == '+') {
      op = '^';
      name.remove_prefix(1);
    }
    const Field* f = c.field(name);
    if (!f || !settable_by_body(c, *f, opts)) continue;  // unknown keys are ignored, as PocketBase
    if (f->type == FieldType::password) {
      if (op) continue;
      auto plain = to_text(*value);
      if (!plain) {
        rec.errors[f->name] =
            err("validation_unsupported_value_type", "Invalid or unsupported value type.");
      } else if (!plain->empty()) {
        rec.new_passwords[f->name] = *plain;
      }
      continue;
    }
    if (op) {
      apply_modifier(*f, op, *value, rec.values[f->name], rec.errors);
    } else if (auto v = normalize(*f, *value, rec.errors)) {
      rec.values[f->name] = std::move(*v);
    }
  }

  if (c.is_auth() && !rec.new_passwords.empty()) {
    auto* confirm = body.if_contains("passwordConfirm");
    auto pw = rec.new_passwords.find("password");
    if (pw != rec.new_passwords.end()) {
      if (!confirm || (confirm->is_string() && confirm->get_string().empty())) {
        rec.errors["passwordConfirm"] = err("validation_required", "Cannot be blank.");
      } else if (!confirm->is_string() || confirm->get_string() != pw->second) {
        rec.errors["passwordConfirm"] = err("validation_values_mismatch", "Values don't match.");
      }
    }
  }
  if (c.is_auth() && !opts.superuser && !opts.manager && existing) {
    // Only managers change `email` directly; owners go through request-email-change.
    auto* before = existing->if_contains("email");
    auto* after = rec.values.if_contains("email");
    if (before && after && *before != *after)
      rec.errors["email"] = err("validation_values_mismatch", "Values don't match.");
  }
  if (c.is_auth() && !opts.superuser && !opts.manager) {
    // Only managers may change `verified`; anyone else asking to is told so.
    if (auto* v = body.if_contains("verified")) {
      auto* cur = rec.values.if_contains("verified");
      bool current = cur && cur->is_bool() && cur->get_bool();
      bool wanted = v->is_bool()
                        ? v->get_bool()
                        : (v->is_string() && (v->get_string() == "true" || v->get_string() == "1"));
      if (wanted != current)
        rec.errors["verified"] = err("validation_values_mismatch", "Values don't match.");
    }
  }

  auto now = now_datetime();
  for (const auto& f : c.fields) {
    if (f.primary_key && opts.is_create) {
      auto& id = rec.values[f.name];
      if (!id.is_string() || id.get_string().empty()) id = util::time_ordered_id();
    }
    if (f.type == FieldType::autodate) {
      if ((opts.is_create && f.bool_option("onCreate")) ||
          (!opts.is_create && f.bool_option("onUpdate")))
        rec.values[f.name] = now;
    }
    if (c.is_auth() && f.name == "tokenKey" && opts.is_create) {
      rec.values[f.name] = util::random_alnum_secure(50);
    }
  }
  if (c.is_auth() && c.name == "_superusers") rec.values["verified"] = true;
  return rec;
}

std::optional<std::string> pattern_error(const std::string& pattern) {
  re2::RE2::Options opts;
  opts.set_log_errors(false);
  re2::RE2 re(pattern, opts);
  if (re.ok()) return std::nullopt;
  return "error parsing regexp: " + re.error();
}

std::optional<FieldError> validate_password(const Field& f, std::string_view plain) {
  auto len = static_cast<double>(utf8_length(plain));
  double min = f.number_option_or("min", 0), max = f.number_option_or("max", 0);
  if (max <= 0) max = 71;
  if (min > 0 && len < min)
    return err("validation_min_text_constraint",
               "Must be at least " + number_text(min) + " character(s).");
  if (len > max)
    return err("validation_max_text_constraint",
               "Must be less than " + number_text(max) + " character(s).");
  auto pattern = f.string_option("pattern");
  if (!pattern.empty()) {
    if (!matches_pattern(plain, pattern))
      return err("validation_invalid_format", "Invalid value format.");
  }
  return std::nullopt;
}

FieldErrors validate_record(const Collection& c, const PreparedRecord& rec, bool is_create) {
  FieldErrors errors = rec.errors;
  for (const auto& f : c.fields) {
    if (errors.count(f.name)) continue;
    const json::value* pv = rec.values.if_contains(f.name);
    json::value zero;  // a missing value is the field's zero value (no copy of present ones)
    if (!pv) zero = f.zero_value();
    const json::value& v = pv ? *pv : zero;

    if (f.type == FieldType::password) {
      auto it = rec.new_passwords.find(f.name);
      if (it == rec.new_passwords.end()) {
        bool has_hash = v.is_string() && !v.get_string().empty();
        if (f.required && !has_hash)
          errors[f.name] = err("validation_required", "Cannot be blank.");
        continue;
      }
      if (auto e = validate_password(f, it->second)) errors[f.name] = std::move(*e);
      continue;
    }
    if (f.type == FieldType::autodate) continue;

    bool empty = is_empty_value(f, v);
    if (empty) {
      if (f.required) errors[f.name] = err("validation_required", "Cannot be blank.");
      continue;
    }

    switch (f.type) {
      case FieldType::text: {
        std::string_view s = v.get_string();
        auto len = static_cast<double>(utf8_length(s));
        double min = f.number_option_or("min", 0), max = f.number_option_or("max", 0);
        if (max <= 0) max = 5000;
        if (len < min) {
          errors[f.name] =
              err("validation_min_text_constraint",
                  "Must be at least " + number_text(min) + " character(s).", {{"min", min}});
          break;
        }
        if (len > max) {
          errors[f.name] =
              err("validation_max_text_constraint",
                  "Must be no more than " + number_text(max) + " character(s).", {{"max", max}});
          break;
        }
        auto pattern = f.string_option("pattern");
        if (!pattern.empty()) {
          if (!matches_pattern(s, pattern)) {
            errors[f.name] = err("validation_invalid_format", "Invalid value format.");
          }
        }
        if (f.primary_key && !errors.count(f.name) && s.size() > 255)
          errors[f.name] =
              err("validation_max_text_constraint", "Must be no more than 255 character(s).");
        break;
      }
      case FieldType::number: {
        double d = as_double(v).value_or(0);
        if (!std::isfinite(d) || std::fabs(d) > 1e308) {
          errors[f.name] =
              err("validation_not_a_number", "The submitted number is not properly formatted.");
        } else if (f.bool_option("onlyInt") && (d != std::floor(d) || std::fabs(d) > kMaxSafeInt)) {
          errors[f.name] =
              err("validation_only_int_constraint", "Decimal numbers are not allowed.");
        } else if (auto min = f.number_option("min"); min && d < *min) {
          errors[f.name] =
              err("validation_min_number_constraint",
                  "Must be greater or equal than " + number_text(*min) + ".", {{"min", *min}});
        } else if (auto max = f.number_option("max"); max && d > *max) {
          errors[f.name] =
              err("validation_max_number_constraint",
                  "Must be less or equal than " + number_text(*max) + ".", {{"max", *max}});
        }
        break;
      }
      case FieldType::email: {
        std::string_view s = v.get_string();
        if (!valid_email(s)) {
          errors[f.name] = err("validation_is_email", "Must be a valid email address.");
          break;
        }
        auto domain = s.substr(s.rfind('@') + 1);
        auto only = f.strings_option("onlyDomains"), except = f.strings_option("exceptDomains");
        if ((!only.empty() && !domain_listed(only, domain)) || domain_listed(except, domain))
          errors[f.name] =
              err("validation_email_domain_not_allowed", "Email domain is not allowed.");
        break;
      }
      case FieldType::url: {
        std::string_view s = v.get_string();
        if (!valid_url(s)) {
          errors[f.name] = err("validation_invalid_url", "Must be a valid url.");
          break;
        }
        auto host = url_host(s);
        auto only = f.strings_option("onlyDomains"), except = f.strings_option("exceptDomains");
        if ((!only.empty() && !domain_listed(only, host)) || domain_listed(except, host))
          errors[f.name] = err("validation_url_domain_not_allowed", "Url domain is not allowed.");
        break;
      }
      case FieldType::editor: {
        double max = f.number_option_or("maxSize", 0);
        if (max <= 0) max = 5242880;
        if (static_cast<double>(v.get_string().size()) > max)
          errors[f.name] =
              err("validation_content_size_limit",
                  "The maximum allowed content size is " + number_text(max) + " bytes.",
                  {{"maxSize", max}});
        break;
      }
      case FieldType::date: {
        auto ms = parse_datetime_ms(v.get_string());
        auto min = f.string_option("min"), max = f.string_option("max");
        auto min_ms = parse_datetime_ms(min), max_ms = parse_datetime_ms(max);
        if (ms && min_ms && *ms < *min_ms)
          errors[f.name] = err("validation_min_greater_equal_than_required",
                               "Must be no less than " + go_time_string(*min_ms) + ".",
                               {{"threshold", rfc3339_string(*min_ms)}});
        else if (ms && max_ms && *ms > *max_ms)
          errors[f.name] = err("validation_max_less_equal_than_required",
                               "Must be no greater than " + go_time_string(*max_ms) + ".",
                               {{"threshold", rfc3339_string(*max_ms)}});
        break;
      }
      case FieldType::select: {
        auto items = as_list(v);
        auto allowed = f.strings_option("values");
        int max = f.max_select();
        if (static_cast<int>(items.size()) > max) {
          errors[f.name] =
              err("validation_too_many_values", "Select no more than " + std::to_string(max) + ".",
                  {{"maxSelect", max}});
          break;
        }
        for (const auto& it : items) {
          if (std::find(allowed.begin(), allowed.end(), it) == allowed.end()) {
            errors[f.name] =
                err("validation_invalid_value", "Invalid value " + it + ".", {{"value", it}});
            break;
          }
        }
        break;
      }
      case FieldType::relation: {
        auto items = as_list(v);
        int max = f.max_select();
        double min_sel = f.number_option_or("minSelect", 0);
        if (static_cast<double>(items.size()) < min_sel) {
          errors[f.name] =
              err("validation_not_enough_values", "Select at least " + number_text(min_sel) + ".",
                  {{"minSelect", min_sel}});
        } else if (static_cast<int>(items.size()) > max) {
          errors[f.name] =
              err("validation_too_many_values", "Select no more than " + std::to_string(max) + ".",
                  {{"maxSelect", max}});
        }
        break;
      }
      case FieldType::file: {
        auto items = as_list(v);
        int max = f.max_select();
        if (static_cast<int>(items.size()) > max) {
          errors[f.name] = err("validation_too_many_files",
                               "The maximum allowed files is " + std::to_string(max) + ".",
                               {{"maxSelect", max}});
          break;
        }
        // Uploads are not supported yet: only names already stored may be kept.
        (void)is_create;
        std::vector<std::string> before;
        if (auto* o = rec.original.if_contains(f.name)) before = as_list(*o);
        std::string invalid;
        json::array invalid_list;
        for (const auto& it : items) {
          if (std::find(before.begin(), before.end(), it) != before.end()) continue;
          invalid += (invalid.empty() ? "" : ", ") + it;
          invalid_list.push_back(json::value(it));
        }
        if (!invalid.empty()) {
          errors[f.name] = err("validation_invalid_file", "Invalid new files: " + invalid + ".",
                               {{"invalidFiles", invalid_list}});
        }
        break;
      }
      case FieldType::json: {
        double max = f.number_option_or("maxSize", 0);
        if (max <= 0) max = 1048576;
        if (static_cast<double>(to_json(v).size()) > max)
          errors[f.name] = err("validation_json_size_limit",
                               "The maximum allowed JSON size is " + number_text(max) + " bytes.",
                               {{"maxSize", max}});
        break;
      }
      case FieldType::geo_point: {
        const auto& o = v.get_object();
        double lon = as_double(o.at("lon")).value_or(0), lat = as_double(o.at("lat")).value_or(0);
        if (lat < -90 || lat > 90)
          errors[f.name] =
              err("validation_invalid_latitude", "Latitude must be between -90 and 90 degrees.");
        else if (lon < -180 || lon > 180)
          errors[f.name] = err("validation_invalid_longitude",
                               "Longitude must be between -180 and 180 degrees.");
        break;
      }
      default: break;
    }
  }
  return errors;
}

void api_keys(const Collection& c, const ViewOptions& opts, bool email_visible,
              std::vector<ApiKey>& keys) {
  keys.clear();
  keys.reserve(c.fields.size() + 2);
  keys.push_back({"collectionId", kApiCollectionId});
  keys.push_back({"collectionName", kApiCollectionName});
  for (std::size_t i = 0; i < c.fields.size(); ++i) {
    const auto& f = c.fields[i];
    if (f.type == FieldType::password) continue;
    if (c.is_auth() && f.name == "tokenKey") continue;
    if (f.hidden && !opts.show_hidden) continue;
    if (c.is_auth() && f.name == "email" && !email_visible && !opts.show_email) continue;
    keys.push_back({f.name, static_cast<int>(i)});
  }
  // A few keys, mostly told apart by their first byte: an insertion sort that compares that
  // byte before the rest.
  auto less = [](std::string_view a, std::string_view b) {
    if (!a.empty() && !b.empty() && a[0] != b[0])
      return static_cast<unsigned char>(a[0]) < static_cast<unsigned char>(b[0]);
    return a < b;
  };
  for (std::size_t i = 1; i < keys.size(); ++i) {
    ApiKey k = keys[i];
    std::size_t j = i;
    for (; j > 0 && less(k.name, keys[j - 1].name); --j) keys[j] = keys[j - 1];
    keys[j] = k;
  }
}

namespace {

// Builds the API object in key order directly (no sorted copy afterwards); Values is
// `const json::object` (values are copied) or `json::object` (values are moved out).
template <class Values>
json::object api_object(const Collection& c, Values& values, const ViewOptions& opts,
                        const json::storage_ptr& sp) {
  bool email_visible = false;
  if (c.is_auth()) {
    auto* ev = values.if_contains("emailVisibility");
    email_visible = ev && ev->is_bool() && ev->get_bool();
  }
  thread_local std::vector<ApiKey> keys;
  api_keys(c, opts, email_visible, keys);
  json::object out(sp);
  out.reserve(keys.size());
  for (const auto& [key, i] : keys) {
    if (i == kApiCollectionId) {
      out.emplace(key, c.id);
    } else if (i == kApiCollectionName) {
      out.emplace(key, c.name);
    } else if (auto* v = values.if_contains(key)) {
      if constexpr (std::is_const_v<Values>)
        out.emplace(key, *v);
      else
        out.emplace(key, std::move(*v));
    } else {
      out.emplace(key, c.fields[static_cast<std::size_t>(i)].zero_value());
    }
  }
  return out;
}

}  // namespace

json::object record_to_api(const Collection& c, const json::object& values, const ViewOptions& opts,
                           const json::storage_ptr& sp) {
  return api_object(c, values, opts, sp);
}

json::object record_to_api(const Collection& c, json::object&& values, const ViewOptions& opts,
                           const json::storage_ptr& sp) {
  return api_object(c, values, opts, sp);
}

}  // namespace plinth::core
