#include "plinth/http/router.hpp"

#include <algorithm>
#include <set>
#include <stdexcept>

#include "plinth/util/strings.hpp"

namespace plinth::http {
namespace {

// A path's segments into `out` (whose capacity a caller may keep from one request to the next).
void path_segments_into(std::string_view path, std::vector<std::string_view>& out) {
  out.clear();
  if (path.starts_with('/')) path.remove_prefix(1);
  if (path.empty()) return;
  util::each_part(path, '/', [&](std::string_view part) {
    out.push_back(part);
    return false;
  });
}

bool is_param(std::string_view seg) {
  return seg.size() > 2 && seg.front() == '{' && seg.back() == '}';
}
bool is_catch_all(std::string_view seg) {
  return is_param(seg) && seg.ends_with("...}");
}

// True when `path` fits a route's segments. Allocates nothing: most routes do not fit, and
// every request is checked against them in turn.
bool segments_match(const std::vector<std::string>& pattern,
                    const std::vector<std::string_view>& path) {
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    const auto& seg = pattern[i];
    if (is_catch_all(seg)) return true;
    if (i >= path.size()) return false;
    if (is_param(seg)) {
      if (path[i].empty()) return false;
    } else if (seg != path[i]) {
      return false;
    }
  }
  return pattern.size() == path.size();
}

// The parameters of a route that fits (segments_match).
std::vector<std::pair<std::string, std::string>> params_of(
    const std::vector<std::string>& pattern, const std::vector<std::string_view>& path) {
  std::vector<std::pair<std::string, std::string>> params;
  params.reserve(static_cast<std::size_t>(
      std::count_if(pattern.begin(), pattern.end(), [](const std::string& seg) {
        return is_param(seg);  // a catch-all is a parameter too
      })));
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    const auto& seg = pattern[i];
    if (is_catch_all(seg)) {
      std::string rest;
      for (std::size_t j = i; j < path.size(); ++j) {
        if (j > i) rest.push_back('/');
        rest.append(path[j]);
      }
      params.emplace_back(seg.substr(1, seg.size() - 5), std::move(rest));
      break;
    }
    if (is_param(seg)) params.emplace_back(seg.substr(1, seg.size() - 2), std::string(path[i]));
  }
  return params;
}

}  // namespace

void Router::add(std::string method, std::string pattern, Handler handler, RouteOptions options) {
  if (pattern.empty() || pattern.front() != '/')
    throw std::invalid_argument("route must start with /");
  Route r{std::move(method), pattern, std::move(handler), options, {}};
  std::vector<std::string_view> segs;
  path_segments_into(pattern, segs);
  for (auto s : segs) r.segments.emplace_back(s);
  Shape shape{r.segments.size(), false};
  for (std::size_t i = 0; i < r.segments.size(); ++i) {
    if (is_catch_all(r.segments[i])) {
      shape = {i, true};
      break;
    }
  }
  routes_.push_back(std::move(r));
  shapes_.push_back(shape);
}

RouteMatch Router::match(std::string_view method, std::string_view path) const {
  RouteMatch m;
  thread_local std::vector<std::string_view> segs;
  path_segments_into(path, segs);
  auto fits = [&](std::size_t i) {
    const Shape& shape = shapes_[i];
    if (shape.catch_all ? segs.size() < shape.segments : segs.size() != shape.segments)
      return false;
    return segments_match(routes_[i].segments, segs);
  };
  const Route* head_fallback = nullptr;
  bool other_methods = false;
  for (std::size_t i = 0; i < routes_.size(); ++i) {
    if (!fits(i)) continue;
    const auto& r = routes_[i];
    if (r.method == method) {
      m.kind = RouteMatch::Kind::found;
      m.route = &r;
      m.params = params_of(r.segments, segs);
      return m;
    }
    if (method == "HEAD" && r.method == "GET" && !head_fallback) head_fallback = &r;
    other_methods = true;
  }
  if (head_fallback) {
    m.kind = RouteMatch::Kind::found;
    m.route = head_fallback;
    m.params = params_of(head_fallback->segments, segs);
    return m;
  }
  if (other_methods) {
    // Only now, for a 405, the methods the path does allow.
    std::set<std::string_view> allowed{"OPTIONS"};
    for (std::size_t i = 0; i < routes_.size(); ++i) {
      if (!fits(i)) continue;
      const auto& r = routes_[i];
      allowed.insert(r.method);
      if (r.method == "GET") allowed.insert("HEAD");
    }
    m.kind = RouteMatch::Kind::method_not_allowed;
    for (const auto& a : allowed) {
      if (!m.allow.empty()) m.allow += ", ";
      m.allow += a;
    }
  }
  return m;
}

}  // namespace plinth::http
