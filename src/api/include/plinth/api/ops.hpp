#pragma once
// Operational endpoints: GET /api/health (PocketBase's shape) and GET /metrics
// (Prometheus text format).

#include "plinth/http/router.hpp"
#include "plinth/observe/metrics.hpp"

namespace plinth::api {

void register_health(http::Router& router);
void register_metrics(http::Router& router, const observe::Registry& registry);

// Process-level gauges (RSS, open fds, start time, uptime) and build info.
void register_process_metrics(observe::Registry& registry, std::string_view version);

}  // namespace plinth::api
