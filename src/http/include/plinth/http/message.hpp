#pragma once
// Plain request/response types shared by the router, middleware and handlers.
// Deliberately free of Beast/Asio so that handler code compiles fast.

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "plinth/observe/trace.hpp"

namespace plinth::http {

class Headers {
 public:
  struct Field {
    std::string name;
    std::string value;
  };

  // First value of `name` (case-insensitive), or empty view when absent.
  std::string_view get(std::string_view name) const;
  bool has(std::string_view name) const;
  // Replaces every field called `name` with one field.
  void set(std::string_view name, std::string_view value);
  void add(std::string_view name, std::string_view value);
  void remove(std::string_view name);

  const std::vector<Field>& fields() const { return fields_; }
  std::size_t size() const { return fields_.size(); }

 private:
  std::vector<Field> fields_;
};

struct Request {
  std::string method;  // as sent, e.g. "GET"
  std::string target;  // raw request-target, e.g. "/api/x?y=1"
  std::string path;    // percent-decoded path without the query
  std::string query;   // raw query string without '?'
  Headers headers;
  std::string body;
  std::string remote_ip;
  unsigned version = 11;  // 10 or 11

  // Filled by the pipeline.
  std::string route_template;  // e.g. "/api/collections/{collection}"; "" when unmatched
  std::vector<std::pair<std::string, std::string>> params;
  std::string request_id;
  observe::TraceContext trace;

  std::string_view param(std::string_view name) const;
  // First value of a query parameter, percent-decoded.
  std::optional<std::string> query_param(std::string_view name) const;
  bool is_head() const { return method == "HEAD"; }
};

struct Response {
  int status = 200;
  Headers headers;
  std::string body;
  // Set by the pipeline when the connection must close after this response.
  bool close = false;

  static Response json(int status, std::string body);
  static Response text(int status, std::string body, std::string_view content_type);
};

// Splits a request-target into decoded path and raw query.
void split_target(std::string_view target, std::string& path, std::string& query);

}  // namespace plinth::http
