// plinth: the command line. Every flag can also come from a PLINTH_* environment
// variable or a --config file (precedence: flag > environment > file).

#ifdef PLINTH_MIMALLOC
#include <mimalloc.h>
#endif
#include <CLI/CLI.hpp>
#include <iostream>

#include "plinth/app/units.hpp"
#include "serve.hpp"

namespace {

using plinth::app::parse_bytes;
using plinth::app::parse_duration;

// Adds a duration flag stored as text and converted after parsing.
struct DurationFlag {
  std::string text;
  std::chrono::milliseconds* target;
  std::string name;
};

struct BytesFlag {
  std::string text;
  std::size_t* target;
  std::string name;
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Plinth: a PocketBase-compatible backend in one binary."};
  app.require_subcommand(1);
  app.set_config("--config", "", "Read flags from a TOML/INI file");

  auto* version = app.add_subcommand("version", "Print the version and exit");

  plinth::app::ServeConfig cfg;
  cfg.version = PLINTH_VERSION;
  auto* serve = app.add_subcommand("serve", "Start the web server");
  std::string http_addr = "127.0.0.1:8090";
  auto& lim = cfg.server.limits;
  std::vector<DurationFlag> durations{
      {"2s", &cfg.mail_retry_base, "--mail-retry-base"},
      {"10m", &cfg.mail_retry_max, "--mail-retry-max"},
      {"30s", &lim.read_timeout, "--read-timeout"},
      {"60s", &lim.idle_timeout, "--idle-timeout"},
      {"30s", &lim.write_timeout, "--write-timeout"},
      {"10s", &cfg.server.shutdown_timeout, "--shutdown-timeout"},
      {"30s", &cfg.realtime.keepalive, "--realtime-keepalive"},
      {"5m", &cfg.realtime.idle_timeout, "--realtime-idle-timeout"},
      {"1s", &cfg.account_throttle.base_backoff, "--login-backoff"},
      {"15m", &cfg.account_throttle.max_backoff, "--login-max-backoff"},
      {"2160h", &cfg.audit_retention, "--audit-retention"},
  };
  std::vector<BytesFlag> sizes{
      {"8KiB", &lim.max_request_line, "--max-request-line"},
      {"16KiB", &lim.max_header_bytes, "--max-header-bytes"},
      {"32MiB", &lim.max_body_bytes, "--max-body-bytes"},
  };

  auto env = [](std::string flag) {
    std::string e = "PLINTH_";
    for (char c : flag.substr(2)) e.push_back(c == '-' ? '_' : static_cast<char>(std::toupper(c)));
    return e;
  };

  serve->add_option("--http", http_addr, "Address to listen on (host:port; port 0 = any free)")
      ->envname(env("--http"))
      ->capture_default_str();
  serve->add_option("--dir", cfg.dir, "Data directory")
      ->envname(env("--dir"))
      ->capture_default_str();
  serve->add_option("--threads", cfg.server.threads, "I/O threads (0 = number of cores)")
      ->envname(env("--threads"))
      ->capture_default_str();
  serve
      ->add_option("--workers", cfg.server.workers,
                   "Worker threads for blocking work (0 = max(4, 2 x threads))")
      ->envname(env("--workers"))
      ->capture_default_str();
  serve
      ->add_option("--max-connections", lim.max_connections,
                   "Concurrent connections; excess ones get 503 and are closed")
      ->envname(env("--max-connections"))
      ->capture_default_str();
  serve->add_option("--origins", cfg.origins, "CORS allowed origins (comma separated, * = any)")
      ->delimiter(',')
      ->envname(env("--origins"))
      ->capture_default_str();
  serve->add_option("--tls-cert", cfg.server.tls_cert_file, "TLS certificate chain (PEM)")
      ->envname(env("--tls-cert"));
  serve->add_option("--tls-key", cfg.server.tls_key_file, "TLS private key (PEM)")
      ->envname(env("--tls-key"));
  serve->add_option("--access-log", cfg.access_log, "Write one JSON line per request")
      ->envname(env("--access-log"))
      ->capture_default_str();
  serve->add_option("--log-level", cfg.log_level, "debug, info, warn or error")
      ->envname(env("--log-level"))
      ->capture_default_str();
  serve
      ->add_option("--mail-max-attempts", cfg.mail_max_attempts,
                   "Delivery attempts before a queued mail is marked failed")
      ->check(CLI::PositiveNumber)
      ->envname(env("--mail-max-attempts"))
      ->capture_default_str();
  serve
      ->add_option("--mail-max-pending", cfg.mail_max_pending,
                   "Queued mails beyond which mail requests are refused")
      ->check(CLI::PositiveNumber)
      ->envname(env("--mail-max-pending"))
      ->capture_default_str();
  for (auto& d : durations) {
    serve->add_option(d.name, d.text, "Duration, e.g. 500ms, 30s, 2m")
        ->envname(env(d.name))
        ->capture_default_str();
  }
  for (auto& s : sizes) {
    serve->add_option(s.name, s.text, "Size in bytes, e.g. 16KiB, 32MiB")
        ->envname(env(s.name))
        ->capture_default_str();
  }

  serve
      ->add_option("--realtime-max-clients", cfg.realtime.max_clients,
                   "Connected realtime (SSE) clients; more get 503")
      ->envname(env("--realtime-max-clients"))
      ->capture_default_str();
  serve
      ->add_option("--realtime-max-subscriptions", cfg.realtime.max_subscriptions,
                   "Subscriptions per realtime client")
      ->envname(env("--realtime-max-subscriptions"))
      ->capture_default_str();
  serve
      ->add_option("--realtime-queue", cfg.realtime.queue,
                   "Events waiting per realtime client; a client that falls further behind is "
                   "dropped")
      ->check(CLI::PositiveNumber)
      ->envname(env("--realtime-queue"))
      ->capture_default_str();
  serve
      ->add_option("--login-free-failures", cfg.account_throttle.free_failures,
                   "Failed logins per account before backoff starts (--login-backoff, doubling)")
      ->envname(env("--login-free-failures"))
      ->capture_default_str();
  serve
      ->add_option("--login-ip-free-failures", cfg.ip_throttle.free_failures,
                   "Failed logins per client IP before backoff starts")
      ->envname(env("--login-ip-free-failures"))
      ->capture_default_str();

  std::string durability = "full";
  serve
      ->add_option("--durability", durability,
                   "full: an acknowledged write survives power loss; normal: survives process "
                   "crashes only")
      ->check(CLI::IsMember({"full", "normal"}))
      ->envname(env("--durability"))
      ->capture_default_str();

  auto* superuser = app.add_subcommand("superuser", "Manage superusers");
  superuser->require_subcommand(1);
  auto* upsert = superuser->add_subcommand("upsert", "Create or update a superuser");
  std::string su_email, su_password, su_dir = "plinth_data";
  upsert->add_option("email", su_email, "Email")->required();
  upsert->add_option("password", su_password, "Password")->required();
  upsert->add_option("--dir", su_dir, "Data directory")
      ->envname(env("--dir"))
      ->capture_default_str();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  if (version->parsed()) {
    std::cout << "plinth " << PLINTH_VERSION << "\n";
#ifdef PLINTH_MIMALLOC
    int mi = mi_version();
    std::cout << "allocator: mimalloc " << mi / 100 << '.' << mi / 10 % 10 << '.' << mi % 10
              << "\n";
#else
    std::cout << "allocator: C library malloc\n";
#endif
    return 0;
  }

  if (upsert->parsed()) return plinth::app::run_superuser_upsert(su_dir, su_email, su_password);

  if (serve->parsed()) {
    cfg.durability_full = durability == "full";
    cfg.ip_throttle.base_backoff = cfg.account_throttle.base_backoff;
    cfg.ip_throttle.max_backoff = cfg.account_throttle.max_backoff;
    for (auto& d : durations) {
      auto v = parse_duration(d.text);
      if (!v || v->count() <= 0) {
        std::cerr << "invalid " << d.name << ": " << d.text << " (expected e.g. 500ms, 30s, 2m)\n";
        return 2;
      }
      *d.target = *v;
    }
    for (auto& s : sizes) {
      auto v = parse_bytes(s.text);
      if (!v || *v == 0) {
        std::cerr << "invalid " << s.name << ": " << s.text << " (expected e.g. 16KiB, 32MiB)\n";
        return 2;
      }
      *s.target = static_cast<std::size_t>(*v);
    }
    auto hp = plinth::app::parse_host_port(http_addr);
    if (!hp) {
      std::cerr << "invalid --http: " << http_addr << " (expected host:port)\n";
      return 2;
    }
    cfg.server.host = hp->host;
    cfg.server.port = hp->port;
    if (cfg.server.tls_cert_file.empty() != cfg.server.tls_key_file.empty()) {
      std::cerr << "--tls-cert and --tls-key must be given together\n";
      return 2;
    }
    return plinth::app::run_serve(cfg);
  }
  return 0;
}
