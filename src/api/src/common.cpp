#include "common.hpp"

#include "plinth/util/strings.hpp"

namespace plinth::api::detail {

http::Response json_response(int status, const json::value& v) {
  return http::Response::json(status, core::to_json(v));
}

json::object parse_body(const http::Request& req) {
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
      auto* existing = out.if_contains(key);
      if (!existing) {
        out[key] = val;
      } else if (existing->is_array()) {
        existing->get_array().push_back(json::value(val));
      } else {
        json::array both{*existing, json::value(val)};
        *existing = std::move(both);
      }
    }
    return out;
  }
  if (type.find("multipart/form-data") != std::string_view::npos) {
    throw http::ApiError(400, "Multipart bodies are not supported yet; send JSON.");
  }
  auto v = core::parse_json(req.body);
  if (!v || !v->is_object()) {
    throw http::ApiError(400, "An error occurred while loading the submitted data.");
  }
  return std::move(v->get_object());
}

std::optional<AuthContext> request_auth(Services& s, const http::Request& req) {
  auto h = req.headers.get("Authorization");
  if (h.empty()) return std::nullopt;
  return authenticate(s.store, h);
}

}  // namespace plinth::api::detail
