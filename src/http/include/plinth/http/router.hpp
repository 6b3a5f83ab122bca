#pragma once
// Method + path routing with `{name}` segment parameters and a trailing
// `{name...}` catch-all. Built at wiring time, read-only afterwards.

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "plinth/http/message.hpp"

namespace plinth::http {

using Handler = std::function<Response(Request&)>;

struct RouteOptions {
  // Runs on the bounded worker pool instead of an I/O thread (database, hashing...).
  bool blocking = false;
  // With blocking: runs on a fiber, so a wait for a store write (util::Suspender) frees the
  // pool thread for the next request, and one thread carries many writes into one group
  // commit. The handler must hold no lock across a store call.
  bool cooperative = false;
};

struct Route {
  std::string method;
  std::string pattern;
  Handler handler;
  RouteOptions options;
  std::vector<std::string> segments;
};

struct RouteMatch {
  enum class Kind { found, not_found, method_not_allowed };
  Kind kind = Kind::not_found;
  const Route* route = nullptr;
  std::vector<std::pair<std::string, std::string>> params;
  std::string allow;  // for method_not_allowed: "GET, HEAD, POST"
};

class Router {
 public:
  void add(std::string method, std::string pattern, Handler handler, RouteOptions options = {});
  void get(std::string pattern, Handler h, RouteOptions o = {}) {
    add("GET", std::move(pattern), std::move(h), o);
  }
  void post(std::string pattern, Handler h, RouteOptions o = {}) {
    add("POST", std::move(pattern), std::move(h), o);
  }
  void patch(std::string pattern, Handler h, RouteOptions o = {}) {
    add("PATCH", std::move(pattern), std::move(h), o);
  }
  void del(std::string pattern, Handler h, RouteOptions o = {}) {
    add("DELETE", std::move(pattern), std::move(h), o);
  }

  // HEAD falls back to GET routes.
  RouteMatch match(std::string_view method, std::string_view path) const;

  const std::vector<Route>& routes() const { return routes_; }

 private:
  // Per route (same index): how many segments a path needs to fit it, so most routes are
  // passed over without comparing a segment.
  struct Shape {
    std::size_t segments = 0;  // with a catch-all: the segments before it (the least a path has)
    bool catch_all = false;
  };
  std::vector<Route> routes_;
  std::vector<Shape> shapes_;
};

}  // namespace plinth::http
