#include "plinth/http/pipeline.hpp"

#include "plinth/http/errors.hpp"
#include "plinth/observe/log.hpp"

namespace plinth::http {
namespace {

Response internal_error(const Request& req) {
  std::string msg = "Something went wrong while processing your request.";
  if (!req.request_id.empty()) msg += " Request id: " + req.request_id + ".";
  return error_response(500, msg);
}

}  // namespace

Response Next::operator()(Request& req) const {
  if (index_ < p_.middlewares_.size()) {
    return p_.middlewares_[index_](req, Next(p_, index_ + 1, terminal_));
  }
  try {
    return terminal_(req);
  } catch (const ApiError& e) {
    return error_response(e.status(), e.message(), e.data_json());
  } catch (const std::exception& e) {
    p_.logger_.write(observe::LogLine(observe::Level::error, "handler failed")
                         .str("error", e.what())
                         .str("route", req.route_template)
                         .str("requestId", req.request_id));
    return internal_error(req);
  } catch (...) {
    p_.logger_.write(observe::LogLine(observe::Level::error, "handler failed")
                         .str("error", "unknown exception")
                         .str("route", req.route_template)
                         .str("requestId", req.request_id));
    return internal_error(req);
  }
}

Response Pipeline::run_chain(Request& req, const Handler& terminal) const {
  try {
    return Next(*this, 0, terminal)(req);
  } catch (const ApiError& e) {
    return error_response(e.status(), e.message(), e.data_json());
  } catch (const std::exception& e) {
    logger_.write(
        observe::LogLine(observe::Level::error, "middleware failed").str("error", e.what()));
    return internal_error(req);
  }
}

Response Pipeline::run(Request& req, RouteMatch match) const {
  switch (match.kind) {
    case RouteMatch::Kind::found: {
      req.route_template = match.route->pattern;
      req.params = std::move(match.params);
      return run_chain(req, match.route->handler);
    }
    case RouteMatch::Kind::method_not_allowed: {
      std::string allow = std::move(match.allow);
      Handler h = [allow](Request&) {
        auto r = error_response(405, "Method not allowed.");
        r.headers.set("Allow", allow);
        return r;
      };
      return run_chain(req, h);
    }
    case RouteMatch::Kind::not_found: break;
  }
  static const Handler kNotFound = [](Request&) { return error_response(404); };
  return run_chain(req, kNotFound);
}

Response Pipeline::reject(Request& req, Response rejection) const {
  Handler h = [&rejection](Request&) { return std::move(rejection); };
  auto res = run_chain(req, h);
  res.close = true;
  return res;
}

}  // namespace plinth::http
