#include "common.hpp"

#include <cctype>
#include <cstdlib>

#include "plinth/util/strings.hpp"

namespace plinth::api::detail {

http::Response json_response(int status, const json::value& v) {
  auto body = core::to_json(v);
  body.push_back('\n');
  return http::Response::json(status, std::move(body));
}

http::Response json_response(int status, const json::object& o) {
  auto body = core::to_json(o);
  body.push_back('\n');
  return http::Response::json(status, std::move(body));
}

namespace {

// PocketBase infers form values: "true"/"false" -> bool, a number whose
// shortest form is the text itself -> number, anything else stays a string.
json::value infer_form_value(const std::string& v) {
  if (v == "true") return true;
  if (v == "false") return false;
  if (!v.empty() && v.size() < 32 &&
      (std::isdigit(static_cast<unsigned char>(v[0])) || v[0] == '-')) {
    char* end = nullptr;
    double d = std::strtod(v.c_str(), &end);
    if (end && *end == '\0') {
      std::string shortest;
      core::append_number(shortest, d);
      if (shortest == v) return d;
    }
  }
  return json::value(v);
}

void add_form_value(json::object& out, const std::string& key, json::value val) {
  auto* existing = out.if_contains(key);
  if (!existing) {
    out[key] = std::move(val);
  } else if (existing->is_array()) {
    existing->get_array().push_back(std::move(val));
  } else {
    json::array both{*existing, std::move(val)};
    *existing = std::move(both);
  }
}

std::string header_param(std::string_view header, std::string_view name) {
  for (auto part : util::split(header, ';')) {
    auto t = util::trim(part);
    if (t.size() > name.size() && t.substr(0, name.size()) == name && t[name.size()] == '=') {
      auto v = t.substr(name.size() + 1);
      if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
      return std::string(v);
    }
  }
  return {};
}

json::object parse_multipart(const http::Request& req, std::string_view content_type) {
  auto boundary = header_param(content_type, "boundary");
  if (boundary.empty() || boundary.size() > 200) {
    throw http::ApiError(400, "An error occurred while loading the submitted data.");
  }
  const std::string delim = "--" + boundary;
  std::string_view body = req.body;
  json::object out;
  std::optional<json::object> payload;
  auto pos = body.find(delim);
  if (pos == std::string_view::npos)
    throw http::ApiError(400, "An error occurred while loading the submitted data.");
  pos += delim.size();
  while (true) {
    if (body.substr(pos, 2) == "--") break;  // closing delimiter
    if (body.substr(pos, 2) != "\r\n")
      throw http::ApiError(400, "An error occurred while loading the submitted data.");
    pos += 2;
    auto head_end = body.find("\r\n\r\n", pos);
    auto next = body.find("\r\n" + delim, pos);
    if (head_end == std::string_view::npos || next == std::string_view::npos || head_end > next) {
      throw http::ApiError(400, "An error occurred while loading the submitted data.");
    }
    auto headers = body.substr(pos, head_end - pos);
    auto content = body.substr(head_end + 4, next - head_end - 4);
    std::string name, filename;
    bool has_filename = false;
    for (auto line : util::split(headers, '\n')) {
      line = util::trim(line.ends_with('\r') ? line.substr(0, line.size() - 1) : line);
      auto colon = line.find(':');
      if (colon == std::string_view::npos) continue;
      if (!util::iequals(util::trim(line.substr(0, colon)), "Content-Disposition")) continue;
      auto value = line.substr(colon + 1);
      name = header_param(value, "name");
      has_filename = value.find("filename=") != std::string_view::npos;
      filename = header_param(value, "filename");
    }
    if (has_filename) {
      throw http::ApiError(
          400, "File uploads are not supported yet.",
          core::to_json(
              json::object{{name.empty() ? "file" : name,
                            json::object{{"code", "validation_invalid_file"},
                                         {"message", "File uploads are not supported yet."}}}}));
    }
    if (name == "@jsonPayload") {
      auto v = core::parse_json(content);
      if (!v || !v->is_object())
        throw http::ApiError(400, "An error occurred while loading the submitted data.");
      payload = std::move(v->get_object());
    } else if (!name.empty()) {
      add_form_value(out, name, infer_form_value(std::string(content)));
    }
    pos = next + 2 + delim.size();
  }
  if (payload) {
    for (auto& kv : *payload) out[kv.key()] = kv.value();
  }
  return out;
}

}  // namespace

json::object parse_body(const http::Request& req, const json::storage_ptr& sp) {
  auto type = req.headers.get("Content-Type");
  if (req.body.empty()) return {};
  if (type.find("application/x-www-form-urlencoded") != std::string_view::npos) {
    json::object out;
    for (auto part : util::split(req.body, '&')) {
      if (part.empty()) continue;
      auto eq = part.find('=');
      auto key = util::url_decode(part.substr(0, eq));
      auto val =
          eq == std::string_view::npos ? std::string() : util::url_decode(part.substr(eq + 1));
      add_form_value(out, key, infer_form_value(val));
    }
    return out;
  }
  if (type.find("multipart/form-data") != std::string_view::npos) return parse_multipart(req, type);
  auto v = core::parse_json(req.body, sp);
  if (!v || !v->is_object()) {
    throw http::ApiError(400, "An error occurred while loading the submitted data.");
  }
  return std::move(v->get_object());
}

namespace {

// A request's query parameters and headers as rules see them: first value of each, header names
// lowercased with '-' as '_'.
void rule_query_and_headers(const http::Request& req, std::map<std::string, std::string>& query,
                            std::map<std::string, std::string>& headers) {
  util::each_part(req.query, '&', [&](std::string_view part) {
    if (part.empty()) return false;
    auto eq = part.find('=');
    auto key = util::url_decode(part.substr(0, eq));
    if (!query.count(key))
      query[key] =
          eq == std::string_view::npos ? std::string() : util::url_decode(part.substr(eq + 1));
    return false;
  });
  for (const auto& f : req.headers.fields()) {
    std::string name = util::to_lower(f.name);
    for (auto& ch : name) {
      if (ch == '-') ch = '_';
    }
    if (!headers.count(name)) headers[name] = f.value;
  }
}

}  // namespace

RequestMeta request_meta(const http::Request& req) {
  // The query and headers are gathered only for a rule that needs them (request_info).
  RequestMeta m;
  m.request = &req;
  m.method = req.method;
  m.remote_ip = req.remote_ip;
  m.request_id = req.request_id;
  return m;
}

query::RequestInfo request_info(const std::optional<AuthContext>& auth, const RequestMeta& meta,
                                const json::object* body) {
  query::RequestInfo ri;
  if (auth) {
    ri.auth_collection = auth->collection.get();
    ri.auth_record = &auth->record;
  }
  if (body) ri.body = *body;
  if (meta.request) {
    rule_query_and_headers(*meta.request, ri.query, ri.headers);
  } else {
    ri.query = meta.query;
    ri.headers = meta.headers;
  }
  ri.method = meta.method;
  return ri;
}

std::optional<query::Compiled> compile_rule(Services& s, const core::Collection& c,
                                            const std::string& rule, const query::RequestInfo& ri) {
  auto catalog = s.store.catalog();
  query::Compiler compiler(*catalog, c, ri, {});
  std::optional<query::Error> err = compiler.add_rule(rule);
  if (!err) {
    auto out = compiler.finish();
    if (auto* ok = std::get_if<query::Compiled>(&out)) return std::move(*ok);
    err = std::get<query::Error>(out);
  }
  s.logger.write(observe::LogLine(observe::Level::warn, "API rule does not compile; access denied")
                     .str("collection", c.name)
                     .str("error", err->message));
  return std::nullopt;
}

void require_superuser(Services& s, const http::Request& req) {
  auto auth = request_auth(s, req);
  if (!auth && api_key_of(s, req))
    throw http::ApiError(403, "API keys can only act on records within their scopes.");
  if (!auth) throw http::ApiError(401, "The request requires valid record authorization token.");
  if (!auth->superuser())
    throw http::ApiError(403, "The authorized record is not allowed to perform this action.");
}

http::Response no_content() {
  http::Response res;
  res.status = 204;
  return res;
}

std::optional<AuthContext> request_auth(Services& s, const http::Request& req) {
  auto h = req.headers.get("Authorization");
  if (h.empty()) return std::nullopt;
  return authenticate(s.store, h);
}

}  // namespace plinth::api::detail
