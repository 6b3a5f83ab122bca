#pragma once
// The standard middlewares. Order used by the app (outermost first):
// request_id, trace_context, access_log, security_headers, cors, gzip.

#include <chrono>
#include <string>
#include <vector>

#include "plinth/http/pipeline.hpp"
#include "plinth/observe/metrics.hpp"

namespace plinth::observe {
class Logger;
}

namespace plinth::http {

// Metric families the HTTP layer updates; created once at wiring time.
struct HttpMetrics {
  observe::Family<observe::Counter>* requests = nullptr;
  observe::Family<observe::Histogram>* duration = nullptr;
  observe::Gauge* open_connections = nullptr;
  observe::Gauge* in_flight = nullptr;
  observe::Counter* rejected_connections = nullptr;

  static HttpMetrics create(observe::Registry& registry);
};

// X-Request-Id: kept when the client sent a sane one (<=128 of [A-Za-z0-9._-]), else generated.
Middleware request_id();

// W3C traceparent: continued or started; echoed back with this server's span id.
Middleware trace_context();

// One JSON line per request (never bodies, query strings or Authorization) and RED metrics.
Middleware access_log(observe::Logger& logger, HttpMetrics metrics, bool log_enabled);

// nosniff, frame and referrer policies on every response.
Middleware security_headers();

struct CorsOptions {
  std::vector<std::string> allowed_origins{"*"};
};
// CORS for allowed origins, answering preflight OPTIONS with 204.
Middleware cors(CorsOptions options);

// gzip-encodes JSON (and other text) responses of at least `min_bytes` when accepted.
Middleware gzip(std::size_t min_bytes = 1024);

// Gzip-compresses `in` (RFC 1952). Exposed for tests.
std::string gzip_compress(std::string_view in);

// True when Accept-Encoding accepts gzip (honours q=0).
bool accepts_gzip(std::string_view accept_encoding);

}  // namespace plinth::http
