#include "plinth/http/middleware.hpp"

#include <zlib.h>

#include <cctype>
#include <chrono>
#include <stdexcept>
#include <unordered_map>

#include "plinth/observe/log.hpp"
#include "plinth/util/random.hpp"
#include "plinth/util/strings.hpp"

namespace plinth::http {

HttpMetrics HttpMetrics::create(observe::Registry& registry) {
  HttpMetrics m;
  m.requests =
      &registry.counter("plinth_http_requests_total",
                        "HTTP requests served, by method, route template and status class.",
                        {"method", "route", "status"});
  m.duration = &registry.histogram(
      "plinth_http_request_duration_seconds",
      "HTTP request latency from parsed request to response, by method, route and status class.",
      {"method", "route", "status"}, observe::Registry::default_latency_buckets());
  m.open_connections =
      &registry.gauge("plinth_http_open_connections", "Open client connections.").with({});
  m.in_flight =
      &registry.gauge("plinth_http_requests_in_flight", "Requests being handled.").with({});
  m.rejected_connections =
      &registry
           .counter("plinth_http_rejected_connections_total",
                    "Connections refused because the connection limit was reached.")
           .with({});
  return m;
}

namespace {

bool sane_request_id(std::string_view v) {
  if (v.empty() || v.size() > 128) return false;
  for (char c : v) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.'))
      return false;
  }
  return true;
}

std::string_view status_class(int status) {
  switch (status / 100) {
    case 1: return "1xx";
    case 2: return "2xx";
    case 3: return "3xx";
    case 4: return "4xx";
    default: return "5xx";
  }
}

// Keeps metric label cardinality bounded whatever methods clients invent.
std::string_view method_label(std::string_view m) {
  static constexpr std::string_view kKnown[] = {"GET",   "HEAD",   "POST",   "PUT",
                                                "PATCH", "DELETE", "OPTIONS"};
  for (auto k : kKnown) {
    if (m == k) return k;
  }
  return "OTHER";
}

struct MetricCell {
  observe::Counter* requests;
  observe::Histogram* duration;
};

// Per-thread cache of labelled children, so the hot path does one hash lookup
// on a reused key instead of locking the registry's family maps.
MetricCell& metric_cell(const HttpMetrics& m, std::string_view method, std::string_view route,
                        std::string_view cls) {
  struct Cache {
    const void* owner = nullptr;
    std::unordered_map<std::string, MetricCell> cells;
    std::string key;
  };
  thread_local Cache cache;
  if (cache.owner != m.requests) {
    cache.cells.clear();
    cache.owner = m.requests;
  }
  cache.key.assign(method);
  cache.key.push_back('\0');
  cache.key.append(route);
  cache.key.push_back('\0');
  cache.key.append(cls);
  auto it = cache.cells.find(cache.key);
  if (it != cache.cells.end()) return it->second;
  observe::LabelValues labels{std::string(method), std::string(route), std::string(cls)};
  MetricCell cell{&m.requests->with(labels), &m.duration->with(labels)};
  return cache.cells.emplace(cache.key, cell).first->second;
}

}  // namespace

Middleware request_id() {
  return [](Request& req, const Next& next) {
    auto incoming = req.headers.get("X-Request-Id");
    if (sane_request_id(incoming)) {
      req.request_id.assign(incoming);
    } else {
      req.request_id.resize(16);  // in place: a connection's next request reuses the buffer
      util::fill_random_hex(req.request_id.data(), 8);
    }
    auto res = next(req);
    res.headers.set("X-Request-Id", req.request_id);
    return res;
  };
}

Middleware trace_context() {
  return [](Request& req, const Next& next) {
    req.trace = observe::start_span(req.headers.get("traceparent"));
    auto res = next(req);
    res.headers.set("traceparent", req.trace.traceparent_text().view());
    return res;
  };
}

Middleware access_log(observe::Logger& logger, HttpMetrics metrics, bool log_enabled) {
  return [&logger, metrics, log_enabled](Request& req, const Next& next) {
    auto start = std::chrono::steady_clock::now();
    auto res = next(req);
    auto micros = std::chrono::duration_cast<std::chrono::microseconds>(
                      std::chrono::steady_clock::now() - start)
                      .count();
    std::string_view route =
        req.route_template.empty() ? std::string_view("-") : req.route_template;
    if (metrics.requests && metrics.duration) {
      auto& cell = metric_cell(metrics, method_label(req.method), route, status_class(res.status));
      cell.requests->inc();
      cell.duration->observe(static_cast<double>(micros) / 1e6);
    }
    if (log_enabled && logger.enabled(observe::Level::info)) {
      logger.write(observe::LogLine(observe::Level::info, "request")
                       .str("method", req.method)
                       .str("route", route)
                       .str("path", req.path)
                       .num("status", static_cast<std::int64_t>(res.status))
                       .num("bytes", static_cast<std::uint64_t>(res.body.size()))
                       .num("durationUs", static_cast<std::int64_t>(micros))
                       .str("requestId", req.request_id)
                       .str("traceId", req.trace.trace_id)
                       .str("ip", req.remote_ip));
    }
    return res;
  };
}

Middleware security_headers() {
  return [](Request& req, const Next& next) {
    auto res = next(req);
    // These four replace whatever a handler set, and are appended as one block.
    static constexpr std::string_view kNames[] = {"X-XSS-Protection", "X-Content-Type-Options",
                                                  "X-Frame-Options", "Referrer-Policy"};
    static constexpr std::string_view kLines =
        "X-XSS-Protection: 1; mode=block\r\n"
        "X-Content-Type-Options: nosniff\r\n"
        "X-Frame-Options: SAMEORIGIN\r\n"
        "Referrer-Policy: strict-origin-when-cross-origin\r\n";
    for (auto name : kNames) res.headers.remove(name);
    res.headers.append_lines(kLines, std::size(kNames));
    return res;
  };
}

Middleware cors(CorsOptions options) {
  bool any = false;
  for (const auto& o : options.allowed_origins) any = any || o == "*";
  return [options = std::move(options), any](Request& req, const Next& next) {
    auto origin = req.headers.get("Origin");
    bool allowed = false;
    if (!origin.empty()) {
      allowed = any;
      for (const auto& o : options.allowed_origins) allowed = allowed || o == origin;
    }
    bool preflight = req.method == "OPTIONS" && !origin.empty() &&
                     req.headers.has("Access-Control-Request-Method");
    Response res;
    if (preflight) {
      res.status = 204;
      if (allowed) {
        res.headers.set("Access-Control-Allow-Methods", "GET, HEAD, PUT, PATCH, POST, DELETE");
        auto req_headers = req.headers.get("Access-Control-Request-Headers");
        if (!req_headers.empty()) res.headers.set("Access-Control-Allow-Headers", req_headers);
        res.headers.set("Access-Control-Max-Age", "86400");
      }
    } else {
      res = next(req);
    }
    if (allowed) {
      res.headers.set("Access-Control-Allow-Origin", any ? std::string_view("*") : origin);
      if (!any) res.headers.add("Vary", "Origin");
    }
    return res;
  };
}

bool accepts_gzip(std::string_view accept_encoding) {
  for (auto part : util::split(accept_encoding, ',')) {
    auto semi = part.find(';');
    auto coding = util::trim(part.substr(0, semi));
    if (!util::iequals(coding, "gzip") && coding != "*") continue;
    if (semi == std::string_view::npos) return true;
    auto params = part.substr(semi + 1);
    auto q = params.find("q=");
    if (q == std::string_view::npos) return true;
    auto value = util::trim(params.substr(q + 2));
    // q=0, q=0.0, q=0.000 all mean "not acceptable".
    bool zero = !value.empty() && value[0] == '0' &&
                value.substr(1).find_first_not_of(".0") == std::string_view::npos;
    return !zero;
  }
  return false;
}

namespace {

// One deflate state per thread, reset between responses: deflateInit2 allocates and clears
// about 256 KiB, which cost more than compressing a typical API answer.
class Deflater {
 public:
  Deflater() {
    // Level 1: dynamic answers are compressed once and sent once (nginx's default level too).
    ok_ = deflateInit2(&zs_, Z_BEST_SPEED, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK;
  }
  ~Deflater() {
    if (ok_) deflateEnd(&zs_);
  }
  Deflater(const Deflater&) = delete;
  Deflater& operator=(const Deflater&) = delete;

  std::string compress(std::string_view in) {
    if (!ok_ || deflateReset(&zs_) != Z_OK) throw std::runtime_error("deflate unavailable");
    std::string out;
    out.resize(deflateBound(&zs_, static_cast<uLong>(in.size())) + 32);
    zs_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    zs_.avail_in = static_cast<uInt>(in.size());
    zs_.next_out = reinterpret_cast<Bytef*>(out.data());
    zs_.avail_out = static_cast<uInt>(out.size());
    int rc = deflate(&zs_, Z_FINISH);
    if (rc != Z_STREAM_END) throw std::runtime_error("deflate failed");
    out.resize(zs_.total_out);
    return out;
  }

 private:
  z_stream zs_{};
  bool ok_ = false;
};

}  // namespace

std::string gzip_compress(std::string_view in) {
  static thread_local Deflater deflater;
  return deflater.compress(in);
}

Middleware gzip(std::size_t min_bytes) {
  return [min_bytes](Request& req, const Next& next) {
    auto res = next(req);
    if (res.body.size() < min_bytes || res.headers.has("Content-Encoding")) return res;
    auto type = res.headers.get("Content-Type");
    bool compressible = type.find("json") != std::string_view::npos || type.starts_with("text/") ||
                        type.find("javascript") != std::string_view::npos;
    if (!compressible) return res;
    res.headers.add("Vary", "Accept-Encoding");
    if (!accepts_gzip(req.headers.get("Accept-Encoding"))) return res;
    res.body = gzip_compress(res.body);
    res.headers.set("Content-Encoding", "gzip");
    return res;
  };
}

}  // namespace plinth::http
