#include "serve.hpp"

#include <unistd.h>

#include <filesystem>
#include <iostream>

#include "plinth/api/ops.hpp"
#include "plinth/http/middleware.hpp"
#include "plinth/http/pipeline.hpp"
#include "plinth/observe/log.hpp"
#include "plinth/observe/metrics.hpp"
#include "plinth/util/process.hpp"

namespace plinth::app {

int run_serve(const ServeConfig& cfg) {
  observe::Level level = observe::Level::info;
  if (!observe::parse_level(cfg.log_level, level)) {
    std::cerr << "invalid --log-level: " << cfg.log_level << "\n";
    return 2;
  }
  observe::Logger logger(STDOUT_FILENO, level);

  std::error_code ec;
  std::filesystem::create_directories(cfg.dir, ec);
  if (ec) {
    logger.write(observe::LogLine(observe::Level::error, "cannot create data directory")
                     .str("dir", cfg.dir)
                     .str("error", ec.message()));
    return 1;
  }
  auto nofile = util::raise_open_file_limit();

  observe::Registry registry;
  api::register_process_metrics(registry, cfg.version);
  auto http_metrics = http::HttpMetrics::create(registry);

  http::Router router;
  api::register_health(router);
  api::register_metrics(router, registry);

  http::Pipeline pipeline(router, logger);
  pipeline.use(http::request_id());
  pipeline.use(http::trace_context());
  pipeline.use(http::access_log(logger, http_metrics, cfg.access_log));
  pipeline.use(http::security_headers());
  pipeline.use(http::cors(http::CorsOptions{cfg.origins}));
  pipeline.use(http::gzip());

  http::Server server(cfg.server, pipeline, logger, http_metrics);
  try {
    server.bind();
  } catch (const std::exception& e) {
    logger.write(observe::LogLine(observe::Level::error, "cannot listen")
                     .str("host", cfg.server.host)
                     .num("port", static_cast<std::int64_t>(cfg.server.port))
                     .str("error", e.what()));
    return 1;
  }
  std::string host = cfg.server.host;
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  std::string address = std::string(server.tls() ? "https://" : "http://") + host + ":" +
                        std::to_string(server.port());
  logger.write(observe::LogLine(observe::Level::info, "server started")
                   .str("address", address)
                   .str("dir", cfg.dir)
                   .str("version", cfg.version)
                   .num("openFileLimit", static_cast<std::uint64_t>(nofile)));
  bool clean = server.run();
  logger.write(observe::LogLine(observe::Level::info, "server stopped").boolean("clean", clean));
  return 0;
}

}  // namespace plinth::app
