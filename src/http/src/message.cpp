#include "plinth/http/message.hpp"

#include "plinth/util/strings.hpp"

namespace plinth::http {

std::string_view Headers::get(std::string_view name) const {
  for (const auto& f : fields_) {
    if (util::iequals(f.name, name)) return f.value;
  }
  return {};
}

bool Headers::has(std::string_view name) const {
  for (const auto& f : fields_) {
    if (util::iequals(f.name, name)) return true;
  }
  return false;
}

void Headers::set(std::string_view name, std::string_view value) {
  remove(name);
  add(name, value);
}

void Headers::set_owned(std::string_view name, std::string&& value) {
  remove(name);
  push(std::string(name), std::move(value));
}

void Headers::add(std::string_view name, std::string_view value) {
  push(std::string(name), std::string(value));
}

void Headers::push(std::string name, std::string value) {
  // A response collects about ten fields through the middleware: one allocation, not four.
  if (fields_.capacity() == 0) fields_.reserve(12);
  fields_.push_back({std::move(name), std::move(value)});
}

void Headers::remove(std::string_view name) {
  std::erase_if(fields_, [&](const Field& f) { return util::iequals(f.name, name); });
}

std::string_view Request::param(std::string_view name) const {
  for (const auto& [k, v] : params) {
    if (k == name) return v;
  }
  return {};
}

std::optional<std::string> Request::query_param(std::string_view name) const {
  std::optional<std::string> out;
  util::each_part(query, '&', [&](std::string_view part) {
    if (part.empty()) return false;
    auto eq = part.find('=');
    auto key = part.substr(0, eq);
    // Most keys have nothing to decode: compared as they are, without a copy.
    bool match = key.find_first_of("%+") == std::string_view::npos ? key == name
                                                                   : util::url_decode(key) == name;
    if (!match) return false;
    out = eq == std::string_view::npos ? std::string() : util::url_decode(part.substr(eq + 1));
    return true;
  });
  return out;
}

Response Response::json(int status, std::string body) {
  Response r;
  r.status = status;
  r.headers.set("Content-Type", "application/json");
  r.body = std::move(body);
  return r;
}

Response Response::text(int status, std::string body, std::string_view content_type) {
  Response r;
  r.status = status;
  r.headers.set("Content-Type", content_type);
  r.body = std::move(body);
  return r;
}

void split_target(std::string_view target, std::string& path, std::string& query) {
  auto q = target.find('?');
  auto raw_path = target.substr(0, q);
  // An absolute-form target ("http://host/path") is reduced to its path.
  if (raw_path.starts_with("http://") || raw_path.starts_with("https://")) {
    auto slash = raw_path.find('/', raw_path.find("//") + 2);
    raw_path = slash == std::string_view::npos ? std::string_view("/") : raw_path.substr(slash);
  }
  path = util::url_decode(raw_path, false);
  query = q == std::string_view::npos ? std::string() : std::string(target.substr(q + 1));
}

}  // namespace plinth::http
