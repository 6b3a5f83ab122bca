#pragma once
// The middleware chain around the router. Middlewares see every request —
// including ones the server rejected before routing (malformed, too large) —
// so ids, logs, metrics and security headers are uniform.

#include <functional>
#include <memory>
#include <vector>

#include "plinth/http/message.hpp"
#include "plinth/http/router.hpp"

namespace plinth::observe {
class Logger;
}

namespace plinth::http {

class Pipeline;

// Calls the rest of the chain.
class Next {
 public:
  Next(const Pipeline& p, std::size_t index, const Handler& terminal)
      : p_(p), index_(index), terminal_(terminal) {}
  Response operator()(Request& req) const;

 private:
  const Pipeline& p_;
  std::size_t index_;
  const Handler& terminal_;
};

using Middleware = std::function<Response(Request&, const Next&)>;

class Pipeline {
 public:
  Pipeline(const Router& router, observe::Logger& logger) : router_(router), logger_(logger) {}

  void use(Middleware m) { middlewares_.push_back(std::move(m)); }

  RouteMatch route(const Request& req) const { return router_.match(req.method, req.path); }

  // Runs the chain for a routed request. Never throws: an ApiError becomes its
  // envelope, any other exception a 500 envelope naming the request id.
  Response run(Request& req, RouteMatch match) const;

  // Runs the chain for a request the server refused before routing, with
  // `rejection` as the terminal response.
  Response reject(Request& req, Response rejection) const;

 private:
  friend class Next;
  Response run_chain(Request& req, const Handler& terminal) const;

  const Router& router_;
  observe::Logger& logger_;
  std::vector<Middleware> middlewares_;
};

}  // namespace plinth::http
