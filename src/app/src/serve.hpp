#pragma once
// `plinth serve`: wires the App (logger, metrics, router, pipeline, server) and runs it.

#include <string>
#include <vector>

#include "plinth/http/server.hpp"

namespace plinth::app {

struct ServeConfig {
  http::ServerOptions server;
  std::string dir = "plinth_data";
  std::vector<std::string> origins{"*"};
  bool access_log = true;
  std::string log_level = "info";
  std::string version;
};

int run_serve(const ServeConfig& cfg);

}  // namespace plinth::app
