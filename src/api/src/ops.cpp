#include "plinth/api/ops.hpp"

#include <chrono>

#include "plinth/util/process.hpp"
#include "plinth/util/time.hpp"

namespace plinth::api {

void register_health(http::Router& router) {
  router.get("/api/health", [](http::Request&) {
    return http::Response::json(200, R"({"code":200,"message":"API is healthy.","data":{}})");
  });
}

void register_metrics(http::Router& router, const observe::Registry& registry) {
  router.get("/metrics", [&registry](http::Request&) {
    return http::Response::text(200, registry.expose(), "text/plain; version=0.0.4; charset=utf-8");
  });
}

void register_process_metrics(observe::Registry& registry, std::string_view version) {
  auto start_wall = std::chrono::system_clock::now();
  auto start_steady = std::chrono::steady_clock::now();
  registry.callback_gauge("process_resident_memory_bytes", "Resident memory size in bytes.", [] {
    return static_cast<double>(util::resident_memory_bytes().value_or(0));
  });
  registry.callback_gauge("process_open_fds", "Number of open file descriptors.",
                          [] { return static_cast<double>(util::open_fd_count().value_or(0)); });
  registry.callback_gauge("process_max_fds", "Maximum number of open file descriptors.",
                          [] { return static_cast<double>(util::max_fd_count().value_or(0)); });
  registry.callback_gauge("process_start_time_seconds",
                          "Start time of the process since unix epoch in seconds.",
                          [start_wall] { return util::unix_seconds(start_wall); });
  registry.callback_gauge(
      "plinth_uptime_seconds", "Seconds since the server started.", [start_steady] {
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_steady)
            .count();
      });
  registry.info("plinth_build_info", "Build information; the value is always 1.",
                {{"version", std::string(version)},
                 {"compiler", "gcc " __VERSION__},
                 {"build_type", PLINTH_BUILD_TYPE}});
}

}  // namespace plinth::api
