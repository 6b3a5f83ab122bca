// The server in-process, with handlers only a test would register: one that
// throws, one that blocks, one that reports its thread.

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

#include "plinth/http/errors.hpp"
#include "plinth/http/server.hpp"
#include "plinth/observe/log.hpp"
#include "plinth/util/suspend.hpp"
#include "test_support.hpp"

namespace plinth::http {
namespace {

using namespace std::chrono_literals;

struct InProcess : ::testing::Test {
  Router router;
  observe::Logger logger{-1};
  observe::Registry registry;
  Pipeline pipeline{router, logger};
  std::unique_ptr<Server> server;
  std::thread thread;
  std::atomic<bool> run_result{false};

  void start(ServerOptions opts = {}) {
    pipeline.use(request_id());
    opts.port = 0;
    opts.threads = 1;
    opts.handle_signals = false;
    server = std::make_unique<Server>(opts, pipeline, logger, HttpMetrics::create(registry));
    server->bind();
    thread = std::thread([this] { run_result = server->run(); });
  }
  void TearDown() override {
    if (server) server->shutdown();
    if (thread.joinable()) thread.join();
  }
};

TEST_F(InProcess, ChunkedTrailerFieldsNeverBecomeHeaders) {
  router.post("/whoami", [](Request& req) {
    return Response::json(
        200, "[\"" + std::string(req.headers.get("Authorization")) + "\",\"" + req.body + "\"]");
  });
  start();
  test::Client c(server->port());
  ASSERT_TRUE(
      c.send("POST /whoami HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
             "5\r\nhello\r\n0\r\nAuthorization: Bearer smuggled\r\n\r\n"));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, R"(["","hello"])");
}

// A connection's requests share one Request object in turn: nothing of one (headers,
// parameters, query, body, request id, a client address set by middleware as a trusted proxy's
// header says) is seen by the next.
TEST_F(InProcess, NothingOfARequestReachesTheNextOnTheConnection) {
  pipeline.use([](Request& req, const Next& next) {
    if (auto client = req.headers.get("X-Client"); !client.empty()) req.remote_ip = client;
    return next(req);
  });
  router.post("/echo/{name}", [](Request& req) {
    return Response::json(200, "[\"" + std::string(req.param("name")) + "\",\"" +
                                   std::string(req.headers.get("X-A")) + "\",\"" + req.query +
                                   "\",\"" + req.body + "\",\"" + req.request_id + "\",\"" +
                                   req.remote_ip + "\"]");
  });
  start();
  test::Client c(server->port());
  auto first = c.request("POST", "/echo/one?q=1",
                         {{"X-A", "a"}, {"X-Request-Id", "given-id"}, {"X-Client", "198.51.100.7"}},
                         std::string(100000, 'b'));
  ASSERT_TRUE(first);
  EXPECT_EQ(first->status, 200);
  EXPECT_EQ(first->body, "[\"one\",\"a\",\"q=1\",\"" + std::string(100000, 'b') +
                             "\",\"given-id\",\"198.51.100.7\"]");
  auto second = c.request("POST", "/echo/two");
  ASSERT_TRUE(second);
  EXPECT_EQ(second->status, 200);
  auto id = second->header("X-Request-Id");
  EXPECT_EQ(id.size(), 16U) << "a fresh id, not the last request's";
  EXPECT_EQ(second->body, "[\"two\",\"\",\"\",\"\",\"" + id + "\",\"127.0.0.1\"]")
      << "the peer's address again, not the last request's client";
}

// The message's framing is the server's whatever a handler sets, and no header a handler
// sets can add a field or end the head early.
TEST_F(InProcess, HandlersCannotChangeFramingOrSplitTheHead) {
  router.get("/framing", [](Request&) {
    auto res = Response::json(200, "{\"ok\":true}");
    res.headers.set("Content-Length", "999");
    res.headers.set("Connection", "close");
    res.headers.set("Transfer-Encoding", "chunked");
    res.headers.set("X-Evil", "a\r\nSet-Cookie: session=stolen\r\n\r\nHTTP/1.1 200 OK");
    res.headers.set("X-Kept", "yes");
    return res;
  });
  start();
  test::Client c(server->port());
  for (int i = 0; i < 2; ++i) {  // the connection stays open: the handler's Connection is dropped
    auto r = c.request("GET", "/framing");
    ASSERT_TRUE(r) << i;
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, "{\"ok\":true}");
    EXPECT_EQ(r->header("Content-Length"), "11");
    EXPECT_FALSE(r->has_header("Transfer-Encoding"));
    EXPECT_FALSE(r->has_header("Connection"));
    EXPECT_FALSE(r->has_header("Set-Cookie"));
    EXPECT_EQ(r->header("X-Evil"), "a  Set-Cookie: session=stolen    HTTP/1.1 200 OK");
    EXPECT_EQ(r->header("X-Kept"), "yes");
  }
}

// Answers bigger than the socket buffers go out partly at once and the rest asynchronously,
// while the same I/O thread answers another client: both pipelined answers arrive whole, with
// their own heads.
TEST_F(InProcess, LargePipelinedAnswersToALateReaderArriveWhole) {
  std::string big(8u << 20, 'x');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + i % 26);
  router.get("/big", [&big](Request&) {
    auto res = Response::text(200, big, "text/plain");
    res.headers.set("X-Which", "big");
    return res;
  });
  router.get("/small", [](Request&) {
    auto res = Response::json(200, "{}");
    res.headers.set("X-Which", "small, with a value longer than the other one");
    return res;
  });
  start();
  test::Client late(server->port(), 20s);
  ASSERT_TRUE(late.send(test::build_request("GET", "/big") + test::build_request("GET", "/big")));

  std::atomic<bool> done{false};
  std::atomic<int> served{0};
  std::thread other([&] {
    test::Client c(server->port());
    while (!done) {
      auto r = c.request("GET", "/small");
      if (!r || r->status != 200 || r->header("X-Which").rfind("small", 0) != 0) return;
      served.fetch_add(1);
    }
  });
  std::this_thread::sleep_for(300ms);  // the server fills the socket buffers and waits
  auto first = late.read_response();
  auto second = late.read_response();
  done = true;
  other.join();

  EXPECT_GT(served.load(), 0);
  for (const auto* r : {&first, &second}) {
    ASSERT_TRUE(*r);
    EXPECT_EQ((*r)->status, 200);
    EXPECT_EQ((*r)->header("X-Which"), "big");
    EXPECT_EQ((*r)->body.size(), big.size());
    EXPECT_TRUE((*r)->body == big);
  }
}

// A stand-in for the store's writer: completes queued waits together, like a group commit.
struct FakeWriter {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::pair<std::promise<void>*, std::function<void()>>> queue;
  std::atomic<int> max_batch{0};
  bool stop = false;
  std::thread thread{[this] {
    std::unique_lock lock(mu);
    for (;;) {
      cv.wait_for(lock, 20ms, [&] { return stop; });
      if (stop && queue.empty()) return;
      auto batch = std::move(queue);
      queue.clear();
      max_batch = std::max<int>(max_batch, static_cast<int>(batch.size()));
      lock.unlock();
      for (auto& [done, wake] : batch) {
        auto w = std::move(wake);
        done->set_value();
        if (w) w();
      }
      lock.lock();
    }
  }};
  ~FakeWriter() {
    {
      std::lock_guard lock(mu);
      stop = true;
    }
    cv.notify_one();
    thread.join();
  }
  // What Store::write does: suspend the fiber when there is one, else block.
  void wait() {
    std::promise<void> done;
    auto fut = done.get_future();
    auto* s = util::current_suspender();
    {
      std::lock_guard lock(mu);
      queue.emplace_back(&done, s ? s->waker() : std::function<void()>());
    }
    if (s) s->suspend();
    fut.get();
  }
};

TEST_F(InProcess, CooperativeWaitsShareOneWorkerThread) {
  // One pool thread: 32 concurrent cooperative requests that each wait ~20 ms on the fake
  // writer all finish, and their waits overlap (one batch holds many), because a waiting
  // request's fiber frees the thread. (Sanitizer builds run these routes on pool threads,
  // one job per write, so they overlap there too.)
  FakeWriter writer;
  router.post(
      "/write",
      [&writer](Request&) {
        writer.wait();
        return Response::json(200, "{}");
      },
      RouteOptions{.blocking = true, .cooperative = true});
  ServerOptions opts;
#ifdef PLINTH_NO_FIBERS
  opts.workers = 32;
#else
  opts.workers = 1;
#endif
  start(opts);
  std::atomic<int> ok{0};
  std::vector<std::thread> clients;
  for (int i = 0; i < 32; ++i) {
    clients.emplace_back([&] {
      test::Client c(server->port());
      auto r = c.request("POST", "/write");
      if (r && r->status == 200) ++ok;
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(ok.load(), 32);
  EXPECT_GE(writer.max_batch.load(), 8) << "the waits did not overlap";
}

TEST_F(InProcess, ThrowingHandlerGives500WithRequestIdAndServerLives) {
  router.get("/boom", [](Request&) -> Response { throw std::runtime_error("secret detail"); });
  router.get("/ok", [](Request&) { return Response::json(200, "{}"); });
  start();
  for (int i = 0; i < 3; ++i) {
    test::Client c(server->port());
    auto r = c.request("GET", "/boom", {{"X-Request-Id", "rid-" + std::to_string(i)}});
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 500);
    EXPECT_NE(r->body.find("\"status\":500"), std::string::npos);
    EXPECT_NE(r->body.find("rid-" + std::to_string(i)), std::string::npos) << r->body;
    EXPECT_EQ(r->body.find("secret detail"), std::string::npos);
    auto ok = c.request("GET", "/ok");
    ASSERT_TRUE(ok) << "connection dropped after a handler exception";
    EXPECT_EQ(ok->status, 200);
  }
}

TEST_F(InProcess, BlockingRoutesRunOffTheIoThread) {
  std::atomic<std::thread::id> io_thread{}, blocking_thread{};
  router.get("/io", [&](Request&) {
    io_thread = std::this_thread::get_id();
    return Response::json(200, "{}");
  });
  router.get(
      "/blocking",
      [&](Request&) {
        blocking_thread = std::this_thread::get_id();
        return Response::json(200, "{}");
      },
      RouteOptions{.blocking = true});
  start();
  test::Client c(server->port());
  ASSERT_TRUE(c.request("GET", "/io"));
  ASSERT_TRUE(c.request("GET", "/blocking"));
  EXPECT_NE(io_thread.load(), std::thread::id{});
  EXPECT_NE(blocking_thread.load(), std::thread::id{});
  EXPECT_NE(io_thread.load(), blocking_thread.load());
}

TEST_F(InProcess, SlowBlockingHandlerDoesNotStallOtherClients) {
  router.get(
      "/slow",
      [](Request&) {
        std::this_thread::sleep_for(1500ms);
        return Response::json(200, "{}");
      },
      RouteOptions{.blocking = true});
  router.get("/fast", [](Request&) { return Response::json(200, "{}"); });
  start();
  test::Client slow(server->port());
  ASSERT_TRUE(slow.send(test::build_request("GET", "/slow")));
  std::this_thread::sleep_for(100ms);
  auto t0 = std::chrono::steady_clock::now();
  test::Client fast(server->port());
  auto r = fast.request("GET", "/fast");
  ASSERT_TRUE(r);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1000ms);
  auto s = slow.read_response();
  ASSERT_TRUE(s);
  EXPECT_EQ(s->status, 200);
}

TEST_F(InProcess, ShutdownWaitsForHandlerInFlight) {
  std::atomic<bool> entered{false};
  router.get(
      "/slow",
      [&](Request&) {
        entered = true;
        std::this_thread::sleep_for(700ms);
        return Response::json(200, R"({"done":true})");
      },
      RouteOptions{.blocking = true});
  ServerOptions opts;
  opts.shutdown_timeout = 5s;
  start(opts);
  test::Client c(server->port());
  ASSERT_TRUE(c.send(test::build_request("GET", "/slow")));
  while (!entered) std::this_thread::sleep_for(5ms);
  server->shutdown();
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, R"({"done":true})");
  EXPECT_EQ(r->header("Connection"), "close");
  thread.join();
  EXPECT_TRUE(run_result.load());
}

}  // namespace
}  // namespace plinth::http
