#include "plinth/http/errors.hpp"

#include "plinth/util/strings.hpp"

namespace plinth::http {

std::string_view default_message(int status) {
  switch (status) {
    case 400: return "Something went wrong while processing your request.";
    case 401: return "Missing or invalid authentication.";
    case 403: return "You are not allowed to perform this request.";
    case 404: return "The requested resource wasn't found.";
    case 405: return "Method not allowed.";
    case 408: return "Request timeout.";
    case 413: return "Request entity too large.";
    case 414: return "Request line too long.";
    case 429: return "Too Many Requests.";
    case 431: return "Request header fields too large.";
    case 503: return "Service unavailable.";
    case 507: return "Insufficient storage.";
    default: break;
  }
  return "Something went wrong while processing your request.";
}

std::string error_body(int status, std::string_view message, std::string_view data_json) {
  if (message.empty()) message = default_message(status);
  std::string out;
  out.reserve(64 + message.size() + data_json.size());
  out += "{\"data\":";
  out += data_json.empty() ? std::string_view("{}") : data_json;
  out += ",\"message\":";
  util::append_json_string(out, message);
  out += ",\"status\":";
  out += std::to_string(status);
  out += '}';
  return out;
}

Response error_response(int status, std::string_view message, std::string_view data_json) {
  // Bodies end with a newline, as PocketBase's (Go's json.Encoder) do.
  return Response::json(status, error_body(status, message, data_json) + "\n");
}

}  // namespace plinth::http
