#pragma once
// The HTTP/1.1 server: one io_context per thread with SO_REUSEPORT listeners,
// a coroutine per connection, limits enforced at the edge, graceful shutdown.
// Beast/Asio stay inside server.cpp; this header is plain C++.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "plinth/http/middleware.hpp"
#include "plinth/http/pipeline.hpp"

namespace plinth::observe {
class Logger;
}

namespace plinth::http {

struct Limits {
  std::size_t max_request_line = 8 * 1024;         // 414 beyond
  std::size_t max_header_bytes = 16 * 1024;        // 431 beyond (all header fields)
  std::size_t max_body_bytes = 32 * 1024 * 1024;   // 413 beyond, checked while streaming
  std::chrono::milliseconds read_timeout{30'000};  // whole request, first byte to last
  std::chrono::milliseconds idle_timeout{60'000};  // keep-alive wait for the next request
  std::chrono::milliseconds write_timeout{30'000};
  std::size_t max_connections = 10'000;  // excess connections get 503 and are closed
};

struct ServerOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8090;  // 0 = any free port
  unsigned threads = 0;       // 0 = hardware concurrency
  unsigned workers = 0;       // blocking-work pool; 0 = max(4, 2 * threads)
  Limits limits;
  std::chrono::milliseconds shutdown_timeout{10'000};
  std::string tls_cert_file;  // both set = HTTPS
  std::string tls_key_file;
  bool handle_signals = true;  // SIGINT/SIGTERM start a graceful shutdown
  // Called on a pool thread before it serves a batch of blocking requests; what it returns is
  // released on that thread when the batch is done (e.g. Store::batch_reads).
  std::function<std::shared_ptr<void>()> batch_scope;
};

class Server {
 public:
  Server(ServerOptions options, const Pipeline& pipeline, observe::Logger& logger,
         HttpMetrics metrics);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds the listeners (throws std::system_error on failure).
  void bind();
  // The bound port (valid after bind()).
  std::uint16_t port() const;
  bool tls() const;
  // Serves until shutdown completes. Returns true when every connection closed
  // in time, false when the shutdown deadline cut some off.
  bool run();
  // Starts a graceful shutdown; safe from any thread.
  void shutdown();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace plinth::http
