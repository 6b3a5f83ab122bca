#pragma once
// Realtime: PocketBase's SSE subscriptions. The Hub keeps the connected clients
// and their subscriptions, and fans every committed record change out to the
// subscribers a Policy admits, on one dispatcher thread (so events leave in
// commit order) without a thread per client: each client's bytes go to its
// connection's bounded queue, written by the server on the I/O threads.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "plinth/http/message.hpp"
#include "plinth/store/store.hpp"

namespace plinth::realtime {

struct Options {
  std::size_t max_clients = 20'000;
  std::size_t max_subscriptions = 1'000;  // per client (PocketBase's own cap)
  std::size_t queue = 256;                // messages waiting per client before it is dropped
  std::chrono::milliseconds keepalive{30'000};
  std::chrono::milliseconds idle_timeout{300'000};  // without an event (PocketBase: 5 min)
};

// Whom a client acts as; the API layer derives its own type. `key` tells
// identities apart: "" for a guest, else "<collectionId>/<recordId>".
struct Identity {
  virtual ~Identity() = default;
  std::string key;
};

// One subscription as PocketBase parses it: `posts/*?options={"query":{...},"headers":{...}}`.
struct Subscription {
  std::string name;   // exactly as sent: the SSE event name the SDK listens for
  std::string topic;  // before '?': "posts/*", "posts/RECORD_ID" (or the legacy "posts")
  std::map<std::string, std::string> query;    // options.query, values as text
  std::map<std::string, std::string> headers;  // options.headers, names snake_cased
  std::string options_key;                     // query and headers as canonical text
  // The last commit published before this subscription existed: changes up to
  // it are not sent to it, even when they are dispatched later (as PocketBase,
  // where a write's events are out before its response).
  std::uint64_t since = 0;
};

// Parses a subscription string (unparsable options are ignored, as PocketBase).
Subscription parse_subscription(std::string_view s);

// One subscription that names a changed record.
struct Target {
  std::shared_ptr<const Identity> identity;
  const Subscription* subscription = nullptr;
  bool wildcard = false;  // a collection topic (list rule), else a record topic (view rule)
};

// Decides what each subscriber sees. Called on the dispatcher thread only.
class Policy {
 public:
  virtual ~Policy() = default;
  // Fills `out` (one per target) with the JSON data of the event, or null when
  // the target may not see it. Targets that would see the same bytes should get
  // the same pointer: the message is then built once for all of them.
  virtual void render(const store::RecordChange& change, const std::vector<Target>& targets,
                      std::vector<std::shared_ptr<const std::string>>& out) = 0;
  // Called for every client bound to the changed record: its identity from now
  // on (the same one, a refreshed one, or null for a guest).
  virtual std::shared_ptr<const Identity> refresh(
      const store::RecordChange& change, const std::shared_ptr<const Identity>& current) = 0;
};

struct Stats {
  std::uint64_t clients = 0;
  std::uint64_t subscriptions = 0;
  std::uint64_t changes = 0;    // committed record changes published to the hub
  std::uint64_t delivered = 0;  // event messages queued to clients
  std::uint64_t dropped = 0;    // clients dropped because their queue overflowed
  std::uint64_t refused = 0;    // connections refused at the client limit
};

class Hub {
 public:
  explicit Hub(Options options);
  ~Hub();
  Hub(const Hub&) = delete;
  Hub& operator=(const Hub&) = delete;

  const Options& options() const { return options_; }

  // Starts the dispatcher thread; `policy` must outlive the Hub.
  void start(Policy& policy);
  // Stops the dispatcher and forgets the clients (closing streams is the server's job).
  void stop();

  // A stream for a new client (PB_CONNECT is its first message), or null at the
  // client limit.
  std::shared_ptr<http::Stream> connect(std::string remote_ip);

  enum class SetResult { ok, not_found, ip_mismatch, auth_mismatch, too_many };
  // Replaces a client's subscriptions and binds `identity` to it. As PocketBase,
  // a guest may become a user, but a bound user may not become another one.
  SetResult subscribe(std::string_view client_id, std::string_view remote_ip,
                      const std::vector<std::string>& subscriptions,
                      std::shared_ptr<const Identity> identity);

  // Queues committed changes for delivery (any thread, never blocks on clients).
  void publish(std::vector<store::RecordChange>&& changes);

  // Blocks until every change published so far was handed to the clients' queues.
  void flush();

  Stats stats() const;

  // Whether any client is connected: while none is, no committed change can reach anyone, so
  // the store need not record changes (store::ChangeInterest). A client counts from before
  // its PB_CONNECT is sent, so from before it can subscribe.
  bool listening() const { return attached_.load(std::memory_order_acquire) > 0; }

 private:
  struct Client {
    std::string id;
    std::string ip;
    std::shared_ptr<http::StreamSink> sink;
    std::shared_ptr<const std::string> id_line;  // "id:<clientId>\n"
    std::shared_ptr<const Identity> identity;
    std::shared_ptr<const std::vector<Subscription>> subscriptions;
  };

  void attach(const std::string& id, std::string ip, std::shared_ptr<http::StreamSink> sink);
  void detach(const std::string& id);
  void index(const std::shared_ptr<Client>& c, bool add);  // mu_ held
  void run();
  void dispatch(const store::RecordChange& change, std::uint64_t seq);

  Options options_;
  Policy* policy_ = nullptr;

  mutable std::mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<Client>> clients_;
  // topic -> the clients subscribed to it
  std::unordered_map<std::string, std::unordered_set<std::shared_ptr<Client>>> by_topic_;
  std::size_t subscription_count_ = 0;

  std::mutex queue_mu_;
  std::condition_variable queue_cv_;
  std::condition_variable idle_cv_;
  std::deque<std::pair<std::uint64_t, std::vector<store::RecordChange>>> queue_;
  std::uint64_t published_ = 0;  // commits published so far (queue_mu_)
  bool busy_ = false;
  bool stopping_ = false;
  std::thread thread_;

  std::atomic<std::uint64_t> changes_{0}, delivered_{0}, dropped_{0}, refused_{0};
  std::atomic<std::size_t> slots_{0};     // streams handed out and not yet destroyed
  std::atomic<std::size_t> attached_{0};  // clients_.size(), stored under mu_
};

}  // namespace plinth::realtime
