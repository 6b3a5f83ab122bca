#include "serve.hpp"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <thread>

#include "plinth/api/account.hpp"
#include "plinth/api/data.hpp"
#include "plinth/api/ops.hpp"
#include "plinth/api/realtime.hpp"
#include "plinth/api/trusted_proxy.hpp"
#include "plinth/auth/password.hpp"
#include "plinth/auth/secrets.hpp"
#include "plinth/core/json.hpp"
#include "plinth/core/record.hpp"
#include "plinth/http/middleware.hpp"
#include "plinth/http/pipeline.hpp"
#include "plinth/mail/outbox.hpp"
#include "plinth/observe/log.hpp"
#include "plinth/observe/metrics.hpp"
#include "plinth/store/auth_tables.hpp"
#include "plinth/store/store.hpp"
#include "plinth/util/process.hpp"

namespace plinth::app {

namespace {
constexpr auto kSetupTokenLifetime = std::chrono::minutes(30);
}  // namespace

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

  std::unique_ptr<store::Store> store;
  try {
    // A thread serving a batch of requests keeps a read connection for the batch (even while
    // it hashes a password), so there is one for every thread that may: each pool worker,
    // each fiber runner (one per core) and the writer. Nobody waits for a reader then.
    unsigned cores = std::max(1U, std::thread::hardware_concurrency());
    unsigned threads = cfg.server.threads ? cfg.server.threads : cores;
    unsigned workers = cfg.server.workers ? cfg.server.workers : std::max(4U, 2U * threads);
    store = store::open_sqlite_store(
        {.dir = cfg.dir,
         .durability = cfg.durability_full ? store::Durability::full : store::Durability::normal,
         .readers = workers + cores + 1});
  } catch (const std::exception& e) {
    logger.write(observe::LogLine(observe::Level::error, "cannot open the data directory")
                     .str("dir", cfg.dir)
                     .str("error", e.what()));
    return 1;
  }
  std::unique_ptr<store::AuthTables> auth_tables;
  try {
    auth_tables = std::make_unique<store::AuthTables>(
        cfg.dir, cfg.durability_full ? store::Durability::full : store::Durability::normal,
        cfg.audit_retention);
  } catch (const std::exception& e) {
    logger.write(observe::LogLine(observe::Level::error, "cannot open the auth tables")
                     .str("dir", cfg.dir)
                     .str("error", e.what()));
    return 1;
  }
  auth::LoginThrottle account_throttle(cfg.account_throttle), ip_throttle(cfg.ip_throttle);
  api::FirstRunSetup setup;
  api::TrustedProxy trusted_proxy;
  trusted_proxy.configure(store->settings());
  api::Services services{*store, logger,        &account_throttle, &ip_throttle, auth_tables.get(),
                         &setup, &trusted_proxy};
  auto* store_ptr = store.get();
  mail::Outbox outbox(*store, logger,
                      {.retry_base = cfg.mail_retry_base,
                       .retry_max = cfg.mail_retry_max,
                       .max_attempts = cfg.mail_max_attempts},
                      mail::smtp_sender(*store), mail::smtp_state(*store));

  observe::Registry registry;
  api::register_process_metrics(registry, cfg.version);
  auto http_metrics = http::HttpMetrics::create(registry);
  registry.callback_counter("plinth_mail_sent_total", "Mails delivered to the SMTP server.",
                            [&outbox] { return static_cast<double>(outbox.stats().sent); });
  registry.callback_counter(
      "plinth_mail_send_failures_total", "Failed mail delivery attempts (each is retried).",
      [&outbox] { return static_cast<double>(outbox.stats().failed_attempts); });
  registry.callback_gauge("plinth_mail_outbox_pending",
                          "Mails waiting in the outbox (as of the sender's last pass).",
                          [&outbox] { return static_cast<double>(outbox.pending_last_pass()); });
  registry.callback_counter(
      "plinth_store_write_operations_total",
      "Write operations committed or rolled back by the store's writer.",
      [store_ptr] { return static_cast<double>(store_ptr->write_stats().operations); });
  registry.callback_counter(
      "plinth_store_commits_total",
      "Group commits (one transaction each) made by the store's writer.",
      [store_ptr] { return static_cast<double>(store_ptr->write_stats().commits); });
  registry.callback_counter(
      "plinth_store_wal_syncs_total",
      "Syncs of the write-ahead log before acknowledging writes (durability full); one covers "
      "every commit made since the one before.",
      [store_ptr] { return static_cast<double>(store_ptr->write_stats().syncs); });
  registry.callback_counter(
      "plinth_store_list_counts_total", "Record lists that returned their total count.",
      [store_ptr] { return static_cast<double>(store_ptr->read_stats().list_counts); });
  registry.callback_counter(
      "plinth_store_list_counts_cached_total",
      "Of those, totals answered from a reader's count cache (the database unchanged since the "
      "same count was made).",
      [store_ptr] { return static_cast<double>(store_ptr->read_stats().list_counts_cached); });

  // Realtime: committed changes flow from the store's writer to the hub's dispatcher.
  auto realtime_policy = api::make_realtime_policy(services);
  realtime::Hub hub(cfg.realtime);
  hub.start(*realtime_policy);
  store->set_commit_listener(
      [&hub](std::vector<store::RecordChange>&& changes) { hub.publish(std::move(changes)); },
      [&hub] { return hub.listening(); });
  struct StopRealtime {
    store::Store& store;
    realtime::Hub& hub;
    ~StopRealtime() {
      store.set_commit_listener(nullptr, nullptr);
      hub.stop();
    }
  } stop_realtime{*store, hub};
  registry.callback_gauge("plinth_realtime_clients", "Connected realtime (SSE) clients.",
                          [&hub] { return static_cast<double>(hub.stats().clients); });
  registry.callback_gauge("plinth_realtime_subscriptions",
                          "Subscriptions held by connected realtime clients.",
                          [&hub] { return static_cast<double>(hub.stats().subscriptions); });
  registry.callback_counter("plinth_realtime_changes_published_total",
                            "Committed record changes published to realtime subscribers.",
                            [&hub] { return static_cast<double>(hub.stats().changes); });
  registry.callback_counter("plinth_realtime_events_delivered_total",
                            "Realtime event messages queued to clients.",
                            [&hub] { return static_cast<double>(hub.stats().delivered); });
  registry.callback_counter("plinth_realtime_clients_dropped_total",
                            "Realtime clients dropped because they did not read fast enough.",
                            [&hub] { return static_cast<double>(hub.stats().dropped); });
  registry.callback_counter("plinth_realtime_clients_refused_total",
                            "Realtime connections refused at --realtime-max-clients.",
                            [&hub] { return static_cast<double>(hub.stats().refused); });

  http::Router router;
  api::register_health(router);
  api::register_account_routes(router, services, outbox,
                               {.max_pending_mail = cfg.mail_max_pending});
  api::register_metrics(router, registry);
  api::register_data_routes(router, services);
  api::register_realtime_routes(router, services, hub);

  http::Pipeline pipeline(router, logger);
  pipeline.use(api::real_ip(trusted_proxy));  // first: every later step sees the client's IP
  pipeline.use(http::request_id());
  pipeline.use(http::trace_context());
  pipeline.use(http::access_log(logger, http_metrics, cfg.access_log));
  pipeline.use(http::security_headers());
  pipeline.use(http::cors(http::CorsOptions{cfg.origins}));
  pipeline.use(http::gzip());

  auto server_options = cfg.server;
  server_options.batch_scope = [store_ptr] { return store_ptr->batch_reads(); };
  http::Server server(server_options, pipeline, logger, http_metrics);
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
                   .num("pid", static_cast<std::int64_t>(::getpid()))
                   .num("openFileLimit", static_cast<std::uint64_t>(nofile)));
  if (auto su = store->catalog()->find("_superusers")) {
    try {
      if (store->list_records(*su, {.page = 1, .per_page = 1}).total_items == 0) {
        // A one-time setup token, like PocketBase's installer link: whoever
        // can read this output can create the first superuser.
        std::string token = auth::random_token_key(43);
        {
          std::lock_guard lock(setup.mu);
          setup.token_sha256 = auth::sha256_hex(token);
          setup.expires = std::chrono::steady_clock::now() + kSetupTokenLifetime;
        }
        logger.write(observe::LogLine(observe::Level::warn,
                                      "no superuser yet; create one with: plinth superuser upsert "
                                      "EMAIL PASSWORD --dir " +
                                          cfg.dir)
                         .str("setupUrl", address + "/api/plinth/setup?token=" + token)
                         .str("setupHint",
                              "or within 30 minutes: POST {\"token\",\"email\",\"password\","
                              "\"passwordConfirm\"} as JSON to /api/plinth/setup"));
      }
    } catch (const std::exception&) {
    }
  }
  outbox.start();
  bool clean = server.run();
  outbox.stop();
  logger.write(observe::LogLine(observe::Level::info, "server stopped").boolean("clean", clean));
  return 0;
}

int run_superuser_upsert(const std::string& dir, const std::string& email,
                         const std::string& password) {
  try {
    auto store = store::open_sqlite_store({.dir = dir});
    auto su = store->catalog()->find("_superusers");
    if (!su) {
      std::cerr << "the data directory has no _superusers collection\n";
      return 1;
    }
    auto existing = store->find_record_by(*su, "email", email);
    boost::json::object body{
        {"email", email}, {"password", password}, {"passwordConfirm", password}};
    auto rec = core::apply_body(*su, existing ? &*existing : nullptr, body,
                                {.is_create = !existing, .superuser = true});
    auto errors = core::validate_record(*su, rec, !existing);
    if (!errors.empty()) {
      std::cerr << "invalid superuser: " << core::to_json(core::field_errors_json(errors)) << "\n";
      return 2;
    }
    rec.values["password"] = auth::hash_password(password);
    if (existing) {
      rec.values["tokenKey"] = auth::random_token_key(50);
      store->update_record(*su, std::string(existing->at("id").as_string()), rec.values);
      std::cout << "Successfully updated superuser \"" << email << "\"\n";
    } else {
      store->insert_record(*su, rec.values);
      std::cout << "Successfully saved superuser \"" << email << "\"\n";
    }
    return 0;
  } catch (const core::ValidationFailed& e) {
    std::cerr << "invalid superuser: " << core::to_json(core::field_errors_json(e.errors()))
              << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "superuser upsert failed: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace plinth::app
