// The Beast/Asio side of the server. The only translation unit (with
// server_tls.cpp's declarations) that includes Beast headers.

#include "plinth/http/server.hpp"

#include <sched.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <charconv>
#ifndef PLINTH_NO_FIBERS
#include <boost/context/fiber.hpp>
#include <boost/context/protected_fixedsize_stack.hpp>
#endif
#include <condition_variable>
#include <ctime>
#include <deque>
#include <list>
#include <mutex>
#include <optional>
#include <thread>

#include "plinth/http/errors.hpp"
#include "plinth/observe/log.hpp"
#include "plinth/util/process.hpp"
#include "plinth/util/strings.hpp"
#include "plinth/util/suspend.hpp"
#include "stream_sink.hpp"

namespace plinth::http {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = net::ip::tcp;
using detail::ReadyList;
using detail::SinkImpl;

namespace {

constexpr auto kTuple = net::as_tuple(net::use_awaitable);
using ReusePort = net::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;

// RFC 7231 IMF-fixdate, cached per thread per second.
std::string_view http_date() {
  thread_local std::time_t last = 0;
  thread_local char buf[64];
  std::time_t now = std::time(nullptr);
  if (now != last) {
    std::tm tm{};
    gmtime_r(&now, &tm);
    std::strftime(buf, sizeof(buf), "%a, %d %b %Y %H:%M:%S GMT", &tm);
    last = now;
  }
  return buf;
}

// Length of the request line held at the front of `data` (up to CRLF), or
// data.size() when no line end has arrived yet.
std::size_t request_line_length(std::string_view data) {
  auto pos = data.find("\r\n");
  if (pos == std::string_view::npos) pos = data.find('\n');
  return pos == std::string_view::npos ? data.size() : pos;
}

void append_status_line(std::string& out, unsigned version, int status) {
  out += version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ";
  out += std::to_string(status);
  out += ' ';
  auto reason = bhttp::obsolete_reason(static_cast<bhttp::status>(status));
  out.append(reason.data(), reason.size());
  out += "\r\n";
}

// Parses a request straight into a Request: no beast::http::fields (a node allocation per field)
// and no copies out of it afterwards. Limits, chunked bodies and keep-alive stay Beast's.
class RequestParser final : public bhttp::basic_parser<true> {
 public:
  explicit RequestParser(Request& req) : req_(req) {}
  // Bytes of header fields as counted for --max-header-bytes (name + value + 4 each).
  std::size_t header_bytes() const { return header_bytes_; }

 private:
  void on_request_impl(bhttp::verb, beast::string_view method, beast::string_view target,
                       int version, beast::error_code&) override {
    req_.method.assign(method.data(), method.size());
    req_.target.assign(target.data(), target.size());
    req_.version = static_cast<unsigned>(version);
  }
  void on_response_impl(int, beast::string_view, int, beast::error_code& ec) override {
    ec = bhttp::error::bad_version;  // a request parser never sees a status line
  }
  void on_field_impl(bhttp::field, beast::string_view name, beast::string_view value,
                     beast::error_code&) override {
    // Trailer fields of a chunked body come here too: they are dropped, never headers.
    if (header_done_) return;
    req_.headers.add({name.data(), name.size()}, {value.data(), value.size()});
    header_bytes_ += name.size() + value.size() + 4;
  }
  void on_header_impl(beast::error_code&) override { header_done_ = true; }
  void on_body_init_impl(const boost::optional<std::uint64_t>& length,
                         beast::error_code&) override {
    // Beast has already refused a length above body_limit().
    if (length) req_.body.reserve(static_cast<std::size_t>(*length));
  }
  std::size_t on_body_impl(beast::string_view body, beast::error_code&) override {
    req_.body.append(body.data(), body.size());
    return body.size();
  }
  void on_chunk_header_impl(std::uint64_t, beast::string_view, beast::error_code&) override {}
  std::size_t on_chunk_body_impl(std::uint64_t, beast::string_view body,
                                 beast::error_code&) override {
    req_.body.append(body.data(), body.size());
    return body.size();
  }
  void on_finish_impl(beast::error_code&) override {}

  Request& req_;
  std::size_t header_bytes_ = 0;
  bool header_done_ = false;
};

#ifndef PLINTH_NO_FIBERS
constexpr bool kFibers = true;
namespace ctx = boost::context;

// Request fibers' stacks: 8 MiB each (what a thread gets: libstdc++'s regex matcher recurses
// per input character, and field patterns run on user text) behind a guard page, mapped once
// per runner thread and reused; only the pages a request touches take memory.
class StackPool {
 public:
  static constexpr std::size_t kStackBytes = std::size_t{8} << 20;
  static constexpr std::size_t kKeep = 64;
  StackPool() { free_.reserve(kKeep); }
  ~StackPool() {
    for (auto& sc : free_) alloc_.deallocate(sc);
  }
  StackPool(const StackPool&) = delete;
  StackPool& operator=(const StackPool&) = delete;
  ctx::stack_context allocate() {
    if (free_.empty()) return alloc_.allocate();
    auto sc = free_.back();
    free_.pop_back();
    return sc;
  }
  void deallocate(ctx::stack_context& sc) noexcept {
    if (free_.size() < kKeep)
      free_.push_back(sc);  // reserved: cannot throw
    else
      alloc_.deallocate(sc);
  }
  static StackPool& local() {
    static thread_local StackPool pool;
    return pool;
  }

 private:
  ctx::protected_fixedsize_stack alloc_{kStackBytes};
  std::vector<ctx::stack_context> free_;
};

// What each fiber is given (by value): the pool of the thread that runs it. A fiber is
// only ever resumed by the runner that created it, so it ends on that thread.
struct PooledStack {
  StackPool* pool;
  ctx::stack_context allocate() { return pool->allocate(); }
  void deallocate(ctx::stack_context& sc) noexcept { pool->deallocate(sc); }
};

#else
constexpr bool kFibers = false;  // sanitizer builds: cooperative routes run like blocking ones
#endif

// A request waiting for (or running on) the worker pool, with the suspended
// connection coroutine to resume on its I/O thread once the response is ready.
struct BlockingItem {
  Request* req = nullptr;
  RouteMatch match;
  Response res;
  net::any_completion_handler<void(Response)> resume;
  bool cooperative = false;  // runs on a fiber runner (fixed when queued; match moves later)
};

// The blocking requests one I/O thread collected in one turn of its event loop,
// handed to the pool together so a burst costs a few thread wake-ups instead of
// two per request.
struct BlockingBatch {
  std::vector<BlockingItem> items;
  std::atomic<std::size_t> next{0};
  net::io_context* ctx = nullptr;  // the I/O thread that answers them
};

#ifndef PLINTH_NO_FIBERS
// One OS thread that runs cooperative requests on fibers: it starts the requests it is given,
// and when one waits for a store write it goes on with the others; the store's writer wakes
// the fiber after the commit and this thread resumes it. Many requests thus share one thread
// and one group commit, without a parked thread (and two context switches) for each.
class FiberRunner final : public util::Suspender {
 public:
  struct Hooks {
    std::function<void(BlockingBatch&, std::size_t)> run;  // runs one item; never throws
    // Sends finished items' answers back to their I/O thread.
    std::function<void(const std::shared_ptr<BlockingBatch>&, std::vector<std::size_t>)> deliver;
    std::function<std::shared_ptr<void>()> scope;  // around each round of work (may be empty)
  };

  explicit FiberRunner(Hooks hooks)
      : hooks_(std::move(hooks)), thread_([this] {
          util::name_this_thread("plinth-fibers");
          loop();
        }) {}
  ~FiberRunner() { stop(); }
  FiberRunner(const FiberRunner&) = delete;
  FiberRunner& operator=(const FiberRunner&) = delete;

  void submit(std::shared_ptr<BlockingBatch> batch, std::vector<std::size_t> indexes) {
    std::lock_guard lock(mu_);
    bool idle = starts_.empty() && ready_.empty();
    for (auto i : indexes) starts_.push_back({batch, i});
    if (idle) cv_.notify_one();
  }

  // Finishes every request it holds (suspended ones once their writes commit), then ends.
  void stop() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
      cv_.notify_one();
    }
    if (thread_.joinable()) thread_.join();
  }

  std::function<void()> waker() override {
    Task* task = current_;
    return [this, task] {
      std::lock_guard lock(mu_);
      // The loop waits only while both queues are empty: when either holds something it has
      // been woken already (a group commit completes dozens of waiters in a row).
      bool idle = starts_.empty() && ready_.empty();
      ready_.push_back(task);
      if (idle) cv_.notify_one();
    };
  }
  void suspend() override {
    Task* task = current_;
    task->main = std::move(task->main).resume();
  }

 private:
  struct Start {
    std::shared_ptr<BlockingBatch> batch;
    std::size_t index;
  };
  struct Task {
    ctx::fiber fiber;  // the request's context while it is not running
    ctx::fiber main;   // this thread's loop while the request runs
    std::shared_ptr<BlockingBatch> batch;
    std::size_t index = 0;
  };
  using Finished = std::vector<std::pair<std::shared_ptr<BlockingBatch>, std::vector<std::size_t>>>;

  void loop() {
    for (;;) {
      std::vector<Start> starts;
      std::vector<Task*> ready;
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [&] {
          return !starts_.empty() || !ready_.empty() || (stopping_ && suspended_ == 0);
        });
        if (starts_.empty() && ready_.empty()) return;  // stopping, nothing left
        starts.swap(starts_);
        ready.swap(ready_);
      }
      Finished finished;
      auto last_sent = std::chrono::steady_clock::now();
      // Answers ready early are not held back by slow requests later in the round.
      auto send_if_late = [&] {
        auto now = std::chrono::steady_clock::now();
        if (now - last_sent < std::chrono::milliseconds(1)) return;
        send(finished);
        last_sent = now;
      };
      {
        std::shared_ptr<void> scope;
        if (hooks_.scope) {
          try {
            scope = hooks_.scope();
          } catch (...) {
          }
        }
        // Requests whose write committed first: their answers are ready to be made.
        for (auto* task : ready) {
          --suspended_;
          resume(task, finished);
          send_if_late();
        }
        for (auto& st : starts) {
          start(std::move(st), finished);
          send_if_late();
        }
      }
      send(finished);
    }
  }

  void start(Start st, Finished& finished) {
    std::unique_ptr<Task> task;
    try {
      task = std::make_unique<Task>();
      task->batch = st.batch;
      task->index = st.index;
      Task* t = task.get();
      task->fiber = ctx::fiber(std::allocator_arg, PooledStack{&StackPool::local()},
                               [this, t](ctx::fiber&& main) {
                                 t->main = std::move(main);
                                 hooks_.run(*t->batch, t->index);
                                 return std::move(t->main);
                               });
    } catch (...) {
      // No memory for a fiber: serve it right here, waiting on this thread like a pool job.
      hooks_.run(*st.batch, st.index);
      add_finished(finished, st.batch, st.index);
      return;
    }
    resume(task.release(), finished);
  }

  void send(Finished& finished) {
    for (auto& [batch, indexes] : finished) {
      try {
        hooks_.deliver(batch, std::move(indexes));
      } catch (...) {
        // Out of memory posting the answers: those connections time out.
      }
    }
    finished.clear();
  }

  static void add_finished(Finished& finished, const std::shared_ptr<BlockingBatch>& batch,
                           std::size_t index) {
    auto it = std::find_if(finished.begin(), finished.end(),
                           [&](const auto& f) { return f.first == batch; });
    if (it == finished.end()) {
      finished.push_back({batch, {}});
      it = std::prev(finished.end());
    }
    it->second.push_back(index);
  }

  void resume(Task* task, Finished& finished) {
    current_ = task;
    {
      util::SuspenderScope scope(this);
      task->fiber = std::move(task->fiber).resume();
    }
    current_ = nullptr;
    if (task->fiber) {
      ++suspended_;
      return;
    }
    add_finished(finished, task->batch, task->index);
    delete task;
  }

  Hooks hooks_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Start> starts_;
  std::vector<Task*> ready_;
  bool stopping_ = false;
  Task* current_ = nullptr;    // runner thread only
  std::size_t suspended_ = 0;  // runner thread only (read by the wait predicate, same thread)
  std::thread thread_;         // last: started once everything above exists
};
#endif

// CPUs this process may run on (its affinity mask, e.g. under taskset or a
// container's cpuset), at least 1.
std::size_t usable_cores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) return std::max(1, CPU_COUNT(&set));
  return std::max(1U, std::thread::hardware_concurrency());
}

struct ConnHandle {
  bool idle = false;
  // While waiting for the next request on a plain connection: when the keep-alive wait ends
  // (the worker's sweep cancels it then).
  std::chrono::steady_clock::time_point idle_until = std::chrono::steady_clock::time_point::max();
  std::function<void()> cancel;
};

// Member order matters: destroying ctx destroys suspended connection
// coroutines, which unregister themselves from `conns`; so conns outlives ctx.
struct Worker {
  std::list<ConnHandle*> conns;  // touched only on this worker's thread
  std::shared_ptr<ReadyList> ready = std::make_shared<ReadyList>();
  net::io_context ctx{1};
  std::optional<tcp::acceptor> acceptor;
  std::thread thread;
  std::vector<BlockingItem> pending;  // blocking requests not yet handed to the pool
  bool flush_posted = false;
  std::optional<net::steady_timer> sweeper;  // ends keep-alive waits that ran out (sweep_idle)
};

}  // namespace

class Server::Impl {
 public:
  Impl(ServerOptions options, const Pipeline& pipeline, observe::Logger& logger,
       HttpMetrics metrics)
      : opt_(std::move(options)), pipeline_(pipeline), logger_(logger), metrics_(metrics) {}

  void bind();
  bool run();
  void shutdown();
  std::uint16_t port() const { return port_; }
  bool tls() const { return ssl_ctx_.has_value(); }

 private:
  net::awaitable<void> accept_loop(Worker& w);
  net::awaitable<void> sweep_idle(Worker& w);
  net::awaitable<void> refuse(tcp::socket sock);
  net::awaitable<void> handle(tcp::socket sock, Worker& w);
  template <class Stream>
  net::awaitable<void> session(Stream& stream, const std::string& ip, Worker& w);
  template <class Stream>
  net::awaitable<bool> write_response(Stream& stream, const Request& req, Response& res,
                                      bool close);
  template <class Stream>
  net::awaitable<void> run_stream(Stream& stream, const Request& req, Response& res,
                                  ConnHandle& handle, Worker& w);
  template <class Stream>
  net::awaitable<void> reject(Stream& stream, Request& req, int status, beast::flat_buffer& buffer);
  net::awaitable<void> drain_and_stop();
  net::awaitable<Response> run_blocking(Worker& w, Request& req, RouteMatch& match);
  void flush_blocking(Worker& w);
  void run_batch(const std::shared_ptr<BlockingBatch>& batch);
  void run_item(BlockingBatch& batch, std::size_t i);
  void deliver(const std::shared_ptr<BlockingBatch>& batch, std::vector<std::size_t> indexes);
  static bool is_cooperative(const BlockingItem& item) { return item.cooperative; }
  int classify(const beast::error_code& ec, const beast::flat_buffer& buffer) const;

  auto completion(std::string_view what) {
    return [this, what](std::exception_ptr e) {
      if (!e) return;
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        logger_.write(observe::LogLine(observe::Level::error, "connection task failed")
                          .str("task", what)
                          .str("error", ex.what()));
      }
    };
  }

  ServerOptions opt_;
  const Pipeline& pipeline_;
  observe::Logger& logger_;
  HttpMetrics metrics_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::unique_ptr<net::thread_pool> pool_;
#ifndef PLINTH_NO_FIBERS
  std::vector<std::unique_ptr<FiberRunner>> runners_;  // one per usable core
  std::atomic<std::size_t> next_runner_{0};
#endif
  std::size_t pool_threads_ = 1;
  std::size_t cores_ = usable_cores();
  std::optional<net::ssl::context> ssl_ctx_;
  std::optional<net::signal_set> signals_;
  std::atomic<bool> stopping_{false};
  std::atomic<std::size_t> open_{0};
  std::atomic<bool> clean_{true};
  std::uint16_t port_ = 0;
};

void Server::Impl::bind() {
  unsigned threads =
      opt_.threads ? opt_.threads : std::max(1U, std::thread::hardware_concurrency());
  for (unsigned i = 0; i < threads; ++i) workers_.push_back(std::make_unique<Worker>());

  net::ip::address addr;
  beast::error_code ec;
  addr = net::ip::make_address(opt_.host, ec);
  if (ec) {
    tcp::resolver resolver(workers_[0]->ctx);
    auto results = resolver.resolve(opt_.host, "");
    if (results.empty()) throw std::system_error(ec, "cannot resolve " + opt_.host);
    addr = results.begin()->endpoint().address();
  }

  if (!opt_.tls_cert_file.empty() || !opt_.tls_key_file.empty()) {
    ssl_ctx_.emplace(net::ssl::context::tls_server);
    ssl_ctx_->set_options(net::ssl::context::default_workarounds | net::ssl::context::no_sslv2 |
                          net::ssl::context::no_sslv3 | net::ssl::context::no_tlsv1 |
                          net::ssl::context::no_tlsv1_1);
    ssl_ctx_->use_certificate_chain_file(opt_.tls_cert_file);
    ssl_ctx_->use_private_key_file(opt_.tls_key_file, net::ssl::context::pem);
  }

  std::uint16_t port = opt_.port;
  for (auto& w : workers_) {
    tcp::endpoint ep(addr, port);
    tcp::acceptor a(w->ctx);
    a.open(ep.protocol());
    a.set_option(net::socket_base::reuse_address(true));
    if (threads > 1) a.set_option(ReusePort(true));
    a.bind(ep);
    a.listen(net::socket_base::max_listen_connections);
    if (port == 0) port = a.local_endpoint().port();
    w->acceptor.emplace(std::move(a));
  }
  port_ = port;
}

bool Server::Impl::run() {
  unsigned workers =
      opt_.workers ? opt_.workers : std::max(4U, 2U * static_cast<unsigned>(workers_.size()));
  pool_ = std::make_unique<net::thread_pool>(workers);
  pool_threads_ = workers;
#ifndef PLINTH_NO_FIBERS
  for (std::size_t i = 0; i < std::max<std::size_t>(1, cores_); ++i) {
    runners_.push_back(std::make_unique<FiberRunner>(FiberRunner::Hooks{
        .run = [this](BlockingBatch& b, std::size_t i) { run_item(b, i); },
        .deliver = [this](const std::shared_ptr<BlockingBatch>& b,
                          std::vector<std::size_t> idx) { deliver(b, std::move(idx)); },
        .scope = opt_.batch_scope}));
  }
#endif
  for (auto& w : workers_) {
    net::co_spawn(w->ctx, accept_loop(*w), completion("accept"));
    w->sweeper.emplace(w->ctx);
    net::co_spawn(w->ctx, sweep_idle(*w), completion("sweep"));
  }
  if (opt_.handle_signals) {
    signals_.emplace(workers_[0]->ctx, SIGINT, SIGTERM);
    signals_->async_wait([this](const beast::error_code& ec, int sig) {
      if (ec) return;
      logger_.write(observe::LogLine(observe::Level::info, "shutting down")
                        .num("signal", static_cast<std::int64_t>(sig)));
      shutdown();
    });
  }
  for (std::size_t i = 1; i < workers_.size(); ++i) {
    auto* w = workers_[i].get();
    w->thread = std::thread([w] {
      util::name_this_thread("plinth-io");
      w->ctx.run();
    });
  }
  workers_[0]->ctx.run();
  for (std::size_t i = 1; i < workers_.size(); ++i) {
    if (workers_[i]->thread.joinable()) workers_[i]->thread.join();
  }
  if (!clean_) pool_->stop();
  pool_->join();
#ifndef PLINTH_NO_FIBERS
  for (auto& r : runners_) r->stop();
#endif
  return clean_;
}

void Server::Impl::shutdown() {
  if (stopping_.exchange(true)) return;
  for (auto& wp : workers_) {
    auto* w = wp.get();
    net::post(w->ctx, [w] {
      beast::error_code ec;
      if (w->acceptor) w->acceptor->close(ec);
      if (w->sweeper) w->sweeper->cancel();
      for (auto* c : w->conns) {
        if (c->idle) c->cancel();
      }
    });
  }
  net::post(workers_[0]->ctx, [this] {
    if (signals_) signals_->cancel();
    net::co_spawn(workers_[0]->ctx, drain_and_stop(), completion("shutdown"));
  });
}

// Keep-alive waits end here rather than on a timer of each connection's: arming and cancelling a
// timer per request cost more than this sweep over the worker's connections a few times a second.
net::awaitable<void> Server::Impl::sweep_idle(Worker& w) {
  using namespace std::chrono_literals;
  auto every = std::clamp<std::chrono::milliseconds>(opt_.limits.idle_timeout / 4, 10ms, 1000ms);
  for (;;) {
    w.sweeper->expires_after(every);
    auto [ec] = co_await w.sweeper->async_wait(kTuple);
    if (ec || stopping_) co_return;
    auto now = std::chrono::steady_clock::now();
    for (auto* c : w.conns) {
      if (c->idle_until <= now) c->cancel();
    }
  }
}

net::awaitable<void> Server::Impl::drain_and_stop() {
  auto deadline = std::chrono::steady_clock::now() + opt_.shutdown_timeout;
  net::steady_timer timer(workers_[0]->ctx);
  while (open_.load() > 0 && std::chrono::steady_clock::now() < deadline) {
    timer.expires_after(std::chrono::milliseconds(10));
    co_await timer.async_wait(kTuple);
  }
  if (open_.load() > 0) {
    clean_ = false;
    logger_.write(observe::LogLine(observe::Level::warn, "shutdown deadline reached")
                      .num("openConnections", static_cast<std::uint64_t>(open_.load())));
    // Cut every remaining connection; give them a moment to unwind, then stop hard
    // (a handler stuck on the worker pool cannot be cancelled).
    for (auto& wp : workers_) {
      auto* w = wp.get();
      net::post(w->ctx, [w] {
        for (auto* c : w->conns) c->cancel();
      });
    }
    auto hard = std::chrono::steady_clock::now() + std::chrono::milliseconds(500);
    while (open_.load() > 0 && std::chrono::steady_clock::now() < hard) {
      timer.expires_after(std::chrono::milliseconds(10));
      co_await timer.async_wait(kTuple);
    }
    if (open_.load() > 0) {
      for (auto& w : workers_) w->ctx.stop();
    }
  }
}

net::awaitable<void> Server::Impl::accept_loop(Worker& w) {
  for (;;) {
    auto [ec, sock] = co_await w.acceptor->async_accept(kTuple);
    if (stopping_) co_return;
    if (ec) {
      if (ec == net::error::operation_aborted || ec == net::error::bad_descriptor) co_return;
      // Out of descriptors and similar: back off briefly instead of spinning.
      net::steady_timer t(w.ctx, std::chrono::milliseconds(20));
      co_await t.async_wait(kTuple);
      continue;
    }
    if (open_.load() >= opt_.limits.max_connections) {
      if (metrics_.rejected_connections) metrics_.rejected_connections->inc();
      net::co_spawn(w.ctx, refuse(std::move(sock)), completion("refuse"));
      continue;
    }
    open_.fetch_add(1);
    if (metrics_.open_connections) metrics_.open_connections->add(1);
    net::co_spawn(w.ctx, handle(std::move(sock), w), completion("connection"));
  }
}

net::awaitable<void> Server::Impl::refuse(tcp::socket sock) {
  static const std::string kResponse = [] {
    std::string body = error_body(503, "Too many open connections, try again later.");
    return "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
           "Connection: close\r\nRetry-After: 1\r\nContent-Length: " +
           std::to_string(body.size()) + "\r\n\r\n" + body;
  }();
  beast::tcp_stream stream(std::move(sock));
  stream.expires_after(std::chrono::seconds(2));
  co_await net::async_write(stream, net::buffer(kResponse), kTuple);
  beast::error_code ec;
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
}

net::awaitable<void> Server::Impl::handle(tcp::socket sock, Worker& w) {
  struct Release {
    Impl* self;
    ~Release() {
      self->open_.fetch_sub(1);
      if (self->metrics_.open_connections) self->metrics_.open_connections->add(-1);
    }
  } release{this};

  beast::error_code ec;
  sock.set_option(tcp::no_delay(true), ec);
  auto remote = sock.remote_endpoint(ec);
  std::string ip = ec ? std::string() : remote.address().to_string();

  if (ssl_ctx_) {
    beast::ssl_stream<beast::tcp_stream> stream(std::move(sock), *ssl_ctx_);
    beast::get_lowest_layer(stream).expires_after(opt_.limits.read_timeout);
    auto [hec] = co_await stream.async_handshake(net::ssl::stream_base::server, kTuple);
    if (hec) co_return;
    co_await session(stream, ip, w);
    beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(1));
    co_await stream.async_shutdown(kTuple);
  } else {
    // Non-blocking at the socket: write_response sends directly when it can.
    sock.non_blocking(true, ec);
    beast::tcp_stream stream(std::move(sock));
    co_await session(stream, ip, w);
    stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  }
}

int Server::Impl::classify(const beast::error_code& ec, const beast::flat_buffer& buffer) const {
  if (ec == bhttp::error::header_limit) {
    std::string_view data(static_cast<const char*>(buffer.data().data()), buffer.size());
    return request_line_length(data) > opt_.limits.max_request_line ? 414 : 431;
  }
  if (ec == bhttp::error::body_limit) return 413;
  if (ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message ||
      ec == net::error::eof || ec == net::error::operation_aborted || ec == beast::error::timeout ||
      ec == net::error::connection_reset || ec == net::error::broken_pipe ||
      ec == net::ssl::error::stream_truncated)
    return 0;
  if (ec.category() == bhttp::make_error_code(bhttp::error::bad_method).category()) return 400;
  return 0;
}

template <class Stream>
net::awaitable<bool> Server::Impl::write_response(Stream& stream, const Request& req, Response& res,
                                                  bool close) {
  // The head is serialised by hand into one buffer and sent with the body in
  // one gather write: cheaper than building a Beast message per response.
  thread_local std::string head;
  head.clear();
  bool no_body = res.status == 204 || res.status == 304 || (res.status >= 100 && res.status < 200);
  append_status_line(head, req.version == 10 ? 10 : 11, res.status);
  // The message's framing is the server's: a handler's Content-Length, Connection or
  // Transfer-Encoding is dropped. Usually there is none, and the fields go as they are kept
  // (already clean of line breaks: Headers sees to that when a field is added).
  if (!res.headers.may_have_framing()) {
    head += res.headers.wire();
  } else {
    for (auto f : res.headers) {
      if (Headers::is_framing(f.name)) continue;
      head.append(f.name).append(": ").append(f.value).append("\r\n");
    }
  }
  head += "Date: ";
  head += http_date();
  head += "\r\n";
  if (close) {
    head += "Connection: close\r\n";
  } else if (req.version == 10) {
    head += "Connection: keep-alive\r\n";
  }
  if (!no_body && !res.stream) {
    char digits[24];
    auto r = std::to_chars(digits, digits + sizeof(digits), res.body.size());
    head += "Content-Length: ";
    head.append(digits, r.ptr);
    head += "\r\n";
  }
  head += "\r\n";
  bool send_body = !no_body && !req.is_head() && !res.body.empty();
  std::array<net::const_buffer, 2> bufs{net::buffer(head),
                                        send_body ? net::buffer(res.body) : net::const_buffer()};
  std::size_t sent = 0;
  if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
    // Most answers fit the socket's send buffer: one non-blocking send, no composed
    // operation, no timer. What does not fit goes out asynchronously under the deadline.
    auto& sock = stream.socket();
    if (sock.non_blocking()) {
      beast::error_code wec;
      sent = sock.write_some(bufs, wec);
      if (wec == net::error::would_block || wec == net::error::try_again) {
        sent = 0;
      } else if (wec) {
        co_return false;
      }
      if (sent == net::buffer_size(bufs)) {
        // Let the rest of this turn run (other answers of the batch) before this connection
        // reads again: the client's next request has then usually arrived, and the read finds
        // it instead of an empty socket (measured: one receive per request instead of two).
        co_await net::post(co_await net::this_coro::executor, kTuple);
        co_return true;
      }
    }
  }
  // `head` is shared by every connection of this thread: what is still unsent of it is
  // copied into this frame before suspending.
  std::string rest_of_head;
  if (sent < head.size()) rest_of_head.assign(head, sent, std::string::npos);
  std::size_t body_sent = sent > head.size() ? sent - head.size() : 0;
  std::array<net::const_buffer, 2> rest{
      net::buffer(rest_of_head),
      send_body ? net::buffer(res.body) + body_sent : net::const_buffer()};
  beast::get_lowest_layer(stream).expires_after(opt_.limits.write_timeout);
  auto [ec, n] = co_await net::async_write(stream, rest, kTuple);
  co_return !ec;
}

template <class Stream>
net::awaitable<void> Server::Impl::reject(Stream& stream, Request& req, int status,
                                          beast::flat_buffer& buffer) {
  Response res = pipeline_.reject(req, error_response(status));
  if (!co_await write_response(stream, req, res, true)) co_return;
  if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
    // Half-close and drain briefly so the client reads this answer instead of
    // a reset caused by the unread rest of its upload. Bounded in time and bytes.
    beast::error_code ec;
    stream.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream.expires_after(std::chrono::seconds(1));
    std::size_t drained = 0;
    while (drained < 8 * 1024 * 1024) {
      buffer.clear();
      auto [rec, n] = co_await stream.async_read_some(buffer.prepare(64 * 1024), kTuple);
      if (rec) break;
      drained += n;
    }
  }
}

template <class Stream>
net::awaitable<void> Server::Impl::run_stream(Stream& stream, const Request& req, Response& res,
                                              ConnHandle& handle, Worker& w) {
  using namespace net::experimental::awaitable_operators;
  using Clock = std::chrono::steady_clock;
  auto spec = res.stream;
  if (!co_await write_response(stream, req, res, true)) {
    if (spec->on_close) spec->on_close();
    co_return;
  }
  auto& lowest = beast::get_lowest_layer(stream);
  // No deadline on a stream: a stalled peer is detected by its queue filling up.
  lowest.expires_never();
  auto exec = co_await net::this_coro::executor;
  net::steady_timer timer(exec);
  auto sink = std::make_shared<SinkImpl>(exec, w.ready, spec->max_queue);
  SinkImpl::DirectWrite direct;
  if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
    beast::error_code nec;
    stream.socket().non_blocking(true, nec);
    if (!nec) {
      direct = [&stream](const std::vector<net::const_buffer>& bufs) -> std::ptrdiff_t {
        beast::error_code ec;
        auto n = stream.socket().write_some(bufs, ec);
        if (ec == net::error::would_block || ec == net::error::try_again) return 0;
        if (ec) return -1;
        return static_cast<std::ptrdiff_t>(n);
      };
    }
  }
  sink->attach(
      &timer, [&lowest] { lowest.cancel(); }, std::move(direct));
  handle.idle = true;  // a shutdown closes streams at once
  handle.cancel = [sink] { sink->close(); };
  if (spec->on_open) spec->on_open(sink);

  auto reader = [&]() -> net::awaitable<void> {
    // Requests are not expected on a stream; reading only notices the close.
    std::array<char, 512> buf;
    for (;;) {
      auto [ec, n] = co_await stream.async_read_some(net::buffer(buf), kTuple);
      if (ec) co_return;
    }
  };
  auto writer = [&]() -> net::awaitable<void> {
    std::deque<SinkImpl::Item> items;
    std::vector<net::const_buffer> bufs;
    for (;;) {
      if (!sink->take(items)) co_return;
      if (!items.empty()) {
        bufs.clear();
        for (const auto& it : items) {
          if (it.head) bufs.push_back(net::buffer(*it.head));
          if (it.body) bufs.push_back(net::buffer(*it.body));
        }
        auto [ec, n] = co_await net::async_write(stream, bufs, kTuple);
        if (ec) co_return;
        items.clear();
        sink->wrote(true);
        continue;
      }
      auto wake = Clock::time_point::max();
      if (spec->keepalive.count() > 0) wake = std::min(wake, sink->last_write() + spec->keepalive);
      if (spec->idle_timeout.count() > 0)
        wake = std::min(wake, sink->last_message() + spec->idle_timeout);
      timer.expires_at(wake);
      sink->set_parked(true);
      co_await timer.async_wait(kTuple);
      sink->set_parked(false);
      auto now = Clock::now();
      if (spec->idle_timeout.count() > 0 && now >= sink->last_message() + spec->idle_timeout)
        co_return;
      if (spec->keepalive.count() > 0 && now >= sink->last_write() + spec->keepalive) {
        auto [ec, n] =
            co_await net::async_write(stream, net::buffer(spec->keepalive_bytes), kTuple);
        if (ec) co_return;
        sink->wrote(false);
      }
    }
  };
  co_await (reader() || writer());
  bool overflowed = sink->overflowed();
  sink->detach();
  handle.cancel = [&lowest] { lowest.cancel(); };
  if (overflowed && spec->on_overflow) spec->on_overflow();
  if (spec->on_close) spec->on_close();
}

template <class Stream>
net::awaitable<void> Server::Impl::session(Stream& stream, const std::string& ip, Worker& w) {
  const auto& lim = opt_.limits;
  auto& lowest = beast::get_lowest_layer(stream);
  beast::flat_buffer buffer;

  ConnHandle handle;
  handle.cancel = [&lowest] { lowest.cancel(); };
  w.conns.push_back(&handle);
  auto self_it = std::prev(w.conns.end());
  struct Unregister {
    std::list<ConnHandle*>& list;
    std::list<ConnHandle*>::iterator it;
    ~Unregister() { list.erase(it); }
  } unregister{w.conns, self_it};

  // One Request for the connection's requests in turn: its strings keep their buffers.
  Request req;
  for (;;) {
    if (buffer.size() == 0) {
      if (stopping_) co_return;
      handle.idle = true;
      beast::error_code ec;
      std::size_t n = 0;
      if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
        // Read from the socket itself: the worker's sweep ends the wait (sweep_idle).
        handle.idle_until = std::chrono::steady_clock::now() + lim.idle_timeout;
        lowest.expires_never();
        std::tie(ec, n) = co_await stream.socket().async_read_some(buffer.prepare(8192), kTuple);
        handle.idle_until = std::chrono::steady_clock::time_point::max();
      } else {
        lowest.expires_after(lim.idle_timeout);
        std::tie(ec, n) = co_await stream.async_read_some(buffer.prepare(8192), kTuple);
      }
      handle.idle = false;
      if (ec) co_return;
      buffer.commit(n);
    }

    req.reset_for_next();
    req.remote_ip = ip;  // again each time: middleware may have put a proxied client's there
    req.method = "-";
    RequestParser parser(req);
    parser.header_limit(
        static_cast<std::uint32_t>(lim.max_request_line + lim.max_header_bytes + 4));
    parser.body_limit(lim.max_body_bytes);

    // The head is parsed from what is already buffered (usually all of it); the socket is read,
    // under the read deadline, only while more is needed.
    beast::error_code hec;
    bool deadline_set = false;
    for (;;) {
      if (buffer.size() > 0) {
        std::size_t used = parser.put(buffer.data(), hec);
        buffer.consume(used);
        if (hec == bhttp::error::need_more) {
          hec = {};
        } else if (hec || parser.is_header_done()) {
          break;
        } else {
          continue;
        }
      }
      if (!deadline_set) {
        lowest.expires_after(lim.read_timeout);
        deadline_set = true;
      }
      std::size_t room = beast::read_size(buffer, 65536);
      auto [rec, rn] = co_await stream.async_read_some(buffer.prepare(room), kTuple);
      if (rec == net::error::eof) {
        hec = parser.got_some() ? bhttp::error::partial_message : bhttp::error::end_of_stream;
        break;
      }
      if (rec) {
        hec = rec;
        break;
      }
      buffer.commit(rn);
    }
    if (hec) {
      int status = classify(hec, buffer);
      // Whatever of the head was parsed stays out of the rejection.
      req.method = "-";
      req.target.clear();
      req.version = 11;
      req.headers = Headers{};
      if (status != 0) co_await reject(stream, req, status, buffer);
      co_return;
    }

    split_target(req.target, req.path, req.query);
    std::size_t header_bytes = parser.header_bytes();
    if (req.target.size() > lim.max_request_line) {
      co_await reject(stream, req, 414, buffer);
      co_return;
    }
    if (header_bytes > lim.max_header_bytes) {
      co_await reject(stream, req, 431, buffer);
      co_return;
    }

    // A small body usually came with the head: it is parsed from the buffer, and the socket is
    // read (a composed operation, a deadline) only for what has not arrived yet.
    while (!parser.is_done() && buffer.size() > 0) {
      beast::error_code pec;
      std::size_t used = parser.put(buffer.data(), pec);
      buffer.consume(used);
      if (pec == bhttp::error::need_more) break;
      if (pec) {
        int status = classify(pec, buffer);
        if (status != 0) co_await reject(stream, req, status, buffer);
        co_return;
      }
      if (used == 0) break;
    }
    if (!parser.is_done()) {
      if (util::iequals(req.headers.get("Expect"), "100-continue")) {
        static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
        auto [cec, cn] = co_await net::async_write(stream, net::buffer(kContinue), kTuple);
        if (cec) co_return;
      }
      if (!deadline_set) lowest.expires_after(lim.read_timeout);
      auto [bec, bn] = co_await bhttp::async_read(stream, buffer, parser, kTuple);
      if (bec) {
        int status = classify(bec, buffer);
        if (status != 0) co_await reject(stream, req, status, buffer);
        co_return;
      }
    }
    bool keep_alive = parser.keep_alive();

    auto match = pipeline_.route(req);
    if (metrics_.in_flight) metrics_.in_flight->add(1);
    Response res;
    if (match.kind == RouteMatch::Kind::found && match.route->options.blocking) {
      res = co_await run_blocking(w, req, match);
    } else {
      res = pipeline_.run(req, std::move(match));
    }
    if (metrics_.in_flight) metrics_.in_flight->add(-1);

    if (res.stream && res.status == 200 && !req.is_head()) {
      // Nothing more is read as a request: give the read buffer back (it is
      // the largest per-connection allocation, and streams are many).
      buffer.clear();
      buffer.shrink_to_fit();
      co_await run_stream(stream, req, res, handle, w);
      co_return;
    }
    res.stream.reset();
    bool close = !keep_alive || res.close || stopping_;
    if (!co_await write_response(stream, req, res, close) || close) co_return;
  }
}

// Queues the request for the worker pool and suspends until its response is
// ready. Requests queued during one turn of the I/O thread's loop go to the
// pool together (flush_blocking runs after the handlers already ready).
net::awaitable<Response> Server::Impl::run_blocking(Worker& w, Request& req, RouteMatch& match) {
  // `match` lives in the caller's frame, which stays suspended until resumed.
  return net::async_initiate<decltype(net::use_awaitable), void(Response)>(
      [this, &w, &req, &match](auto resume) {
        bool cooperative = kFibers && match.route && match.route->options.cooperative;
        w.pending.push_back(
            BlockingItem{&req, std::move(match), Response{}, std::move(resume), cooperative});
        if (!w.flush_posted) {
          w.flush_posted = true;
          net::post(w.ctx, [this, &w] { flush_blocking(w); });
        }
      },
      net::use_awaitable);
}

void Server::Impl::flush_blocking(Worker& w) {
  w.flush_posted = false;
  if (w.pending.empty()) return;
  auto batch = std::make_shared<BlockingBatch>();
  batch->items = std::move(w.pending);
  batch->ctx = &w.ctx;
  w.pending.clear();
  // Jobs pull items from the batch one at a time, so the number of jobs is
  // the batch's parallelism. A write waits for its group commit, so each gets
  // a job of its own (that is what lets one commit carry many of them); reads
  // are CPU work, and waking more threads than there are cores for them only
  // adds context switches.
  // Cooperative requests go to a fiber runner (all of a batch to one, in turn), which
  // carries their waits without a thread each.
  std::size_t writes = 0, cooperative = 0;
  std::vector<std::size_t> on_fibers;
  for (std::size_t i = 0; i < batch->items.size(); ++i) {
    const auto& item = batch->items[i];
    if (is_cooperative(item)) {
      on_fibers.push_back(i);
      ++cooperative;
    } else if (item.req->method != "GET" && item.req->method != "HEAD") {
      ++writes;
    }
  }
#ifndef PLINTH_NO_FIBERS
  if (!on_fibers.empty()) {
    auto n = next_runner_.fetch_add(1, std::memory_order_relaxed);
    runners_[n % runners_.size()]->submit(batch, std::move(on_fibers));
  }
#endif
  std::size_t reads = batch->items.size() - writes - cooperative;
  std::size_t read_jobs = std::min<std::size_t>(cores_, (reads + 3) / 4);
  std::size_t jobs = std::min(writes + read_jobs, pool_threads_);
  for (std::size_t j = 0; j < jobs; ++j) {
    net::post(*pool_, [this, batch] { run_batch(batch); });
  }
}

void Server::Impl::run_batch(const std::shared_ptr<BlockingBatch>& batch) {
  // Asio starts the pool's threads itself: each takes its name with its first batch.
  static thread_local const bool named = [] {
    util::name_this_thread("plinth-pool");
    return true;
  }();
  (void)named;
  std::shared_ptr<void> scope;
  if (opt_.batch_scope) {
    try {
      scope = opt_.batch_scope();
    } catch (...) {
      // Without the scope the requests are still served, one by one as before.
    }
  }
  std::vector<std::size_t> done;
  // Responses go back to the I/O thread in groups; a request that took long is
  // sent back at once so the ones after it do not delay it further.
  auto send_back = [&] {
    deliver(batch, std::move(done));
    done = {};
  };
  auto started = std::chrono::steady_clock::now();  // of the next item (one clock read each)
  for (;;) {
    std::size_t i = batch->next.fetch_add(1);
    if (i >= batch->items.size()) break;
    auto& item = batch->items[i];
    if (is_cooperative(item)) continue;  // a fiber runner has it
    run_item(*batch, i);
    done.push_back(i);
    auto finished = std::chrono::steady_clock::now();
    if (finished - started > std::chrono::milliseconds(1)) send_back();
    started = finished;
  }
  send_back();
}

void Server::Impl::run_item(BlockingBatch& batch, std::size_t i) {
  auto& item = batch.items[i];
  try {
    item.res = pipeline_.run(*item.req, std::move(item.match));
  } catch (...) {
    item.res = error_response(500);
    item.res.close = true;
  }
}

void Server::Impl::deliver(const std::shared_ptr<BlockingBatch>& batch,
                           std::vector<std::size_t> indexes) {
  if (indexes.empty()) return;
  net::post(*batch->ctx, [batch, idx = std::move(indexes)]() mutable {
    for (auto i : idx) {
      auto& item = batch->items[i];
      auto resume = std::move(item.resume);
      std::move(resume)(std::move(item.res));
    }
  });
}

Server::Server(ServerOptions options, const Pipeline& pipeline, observe::Logger& logger,
               HttpMetrics metrics)
    : impl_(std::make_unique<Impl>(std::move(options), pipeline, logger, metrics)) {}
Server::~Server() = default;
void Server::bind() {
  impl_->bind();
}
std::uint16_t Server::port() const {
  return impl_->port();
}
bool Server::tls() const {
  return impl_->tls();
}
bool Server::run() {
  return impl_->run();
}
void Server::shutdown() {
  impl_->shutdown();
}

}  // namespace plinth::http
