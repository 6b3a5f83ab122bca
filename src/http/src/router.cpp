#include "plinth/http/router.hpp"

#include <set>
#include <stdexcept>

#include "plinth/util/strings.hpp"

namespace plinth::http {
namespace {

std::vector<std::string_view> path_segments(std::string_view path) {
  std::vector<std::string_view> out;
  if (path.starts_with('/')) path.remove_prefix(1);
  if (path.empty()) return out;
  for (auto s : util::split(path, '/')) out.push_back(s);
  return out;
}

bool is_param(std::string_view seg) {
  return seg.size() > 2 && seg.front() == '{' && seg.back() == '}';
}
bool is_catch_all(std::string_view seg) {
  return is_param(seg) && seg.ends_with("...}");
}

// Matches `path` against a route's segments, filling params on success.
bool match_segments(const std::vector<std::string>& pattern,
                    const std::vector<std::string_view>& path,
                    std::vector<std::pair<std::string, std::string>>& params) {
  params.clear();
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    const auto& seg = pattern[i];
    if (is_catch_all(seg)) {
      std::string rest;
      for (std::size_t j = i; j < path.size(); ++j) {
        if (j > i) rest.push_back('/');
        rest.append(path[j]);
      }
      params.emplace_back(seg.substr(1, seg.size() - 5), std::move(rest));
      return true;
    }
    if (i >= path.size()) return false;
    if (is_param(seg)) {
      if (path[i].empty()) return false;
      params.emplace_back(seg.substr(1, seg.size() - 2), std::string(path[i]));
    } else if (seg != path[i]) {
      return false;
    }
  }
  return pattern.size() == path.size();
}

}  // namespace

void Router::add(std::string method, std::string pattern, Handler handler, RouteOptions options) {
  if (pattern.empty() || pattern.front() != '/')
    throw std::invalid_argument("route must start with /");
  Route r{std::move(method), pattern, std::move(handler), options, {}};
  for (auto s : path_segments(pattern)) r.segments.emplace_back(s);
  routes_.push_back(std::move(r));
}

RouteMatch Router::match(std::string_view method, std::string_view path) const {
  RouteMatch m;
  auto segs = path_segments(path);
  std::set<std::string> allowed;
  std::vector<std::pair<std::string, std::string>> params;
  const Route* head_fallback = nullptr;
  std::vector<std::pair<std::string, std::string>> head_params;
  for (const auto& r : routes_) {
    if (!match_segments(r.segments, segs, params)) continue;
    if (r.method == method) {
      m.kind = RouteMatch::Kind::found;
      m.route = &r;
      m.params = std::move(params);
      return m;
    }
    if (method == "HEAD" && r.method == "GET" && !head_fallback) {
      head_fallback = &r;
      head_params = params;
    }
    allowed.insert(r.method);
    if (r.method == "GET") allowed.insert("HEAD");
  }
  if (head_fallback) {
    m.kind = RouteMatch::Kind::found;
    m.route = head_fallback;
    m.params = std::move(head_params);
    return m;
  }
  if (!allowed.empty()) {
    m.kind = RouteMatch::Kind::method_not_allowed;
    allowed.insert("OPTIONS");
    for (const auto& a : allowed) {
      if (!m.allow.empty()) m.allow += ", ";
      m.allow += a;
    }
  }
  return m;
}

}  // namespace plinth::http
