// The client registry and the dispatcher thread.

#include "plinth/realtime/hub.hpp"

#include "plinth/util/process.hpp"
#include "plinth/util/random.hpp"
#include "plinth/util/strings.hpp"

namespace plinth::realtime {

Hub::Hub(Options options) : options_(std::move(options)) {}

Hub::~Hub() {
  stop();
}

void Hub::start(Policy& policy) {
  policy_ = &policy;
  thread_ = std::thread([this] {
    util::name_this_thread("plinth-realtime");
    run();
  });
}

void Hub::stop() {
  {
    std::lock_guard lock(queue_mu_);
    stopping_ = true;
  }
  queue_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  // Streams are the server's to close (its shutdown does); by now the server
  // may be gone, so the hub only forgets them.
  std::lock_guard lock(mu_);
  clients_.clear();
  attached_.store(0, std::memory_order_release);
  by_topic_.clear();
  subscription_count_ = 0;
}

std::shared_ptr<http::Stream> Hub::connect(std::string remote_ip) {
  // A slot is taken now and given back when the stream object goes away, so
  // concurrent connects cannot overshoot the limit and a stream the server
  // never ran (a HEAD request) does not keep its slot.
  if (slots_.fetch_add(1) >= options_.max_clients) {
    slots_.fetch_sub(1);
    refused_.fetch_add(1, std::memory_order_relaxed);
    return nullptr;
  }
  struct Slot {
    std::atomic<std::size_t>& slots;
    ~Slot() { slots.fetch_sub(1); }
  };
  auto slot = std::make_shared<Slot>(slots_);
  auto id = util::random_alnum_secure(40);
  auto stream = std::make_shared<http::Stream>();
  stream->max_queue = options_.queue;
  stream->keepalive = options_.keepalive;
  stream->idle_timeout = options_.idle_timeout;
  stream->on_open = [this, id, ip = std::move(remote_ip),
                     slot](std::shared_ptr<http::StreamSink> sink) {
    attach(id, ip, std::move(sink));
  };
  stream->on_close = [this, id] { detach(id); };
  stream->on_overflow = [this] { dropped_.fetch_add(1, std::memory_order_relaxed); };
  return stream;
}

void Hub::attach(const std::string& id, std::string ip, std::shared_ptr<http::StreamSink> sink) {
  auto c = std::make_shared<Client>();
  c->id = id;
  c->ip = std::move(ip);
  c->sink = sink;
  c->id_line = std::make_shared<const std::string>("id:" + id + "\n");
  c->identity = std::make_shared<const Identity>();
  c->subscriptions = std::make_shared<const std::vector<Subscription>>();
  {
    std::lock_guard lock(mu_);
    clients_[id] = c;
    attached_.store(clients_.size(), std::memory_order_release);
  }
  sink->push(c->id_line, std::make_shared<const std::string>(
                             "event:PB_CONNECT\ndata:{\"clientId\":\"" + id + "\"}\n\n"));
}

void Hub::detach(const std::string& id) {
  std::lock_guard lock(mu_);
  auto it = clients_.find(id);
  if (it == clients_.end()) return;
  index(it->second, false);
  clients_.erase(it);
  attached_.store(clients_.size(), std::memory_order_release);
}

void Hub::index(const std::shared_ptr<Client>& c, bool add) {
  for (const auto& s : *c->subscriptions) {
    if (add) {
      by_topic_[s.topic].insert(c);
      ++subscription_count_;
      continue;
    }
    --subscription_count_;
    auto it = by_topic_.find(s.topic);
    if (it == by_topic_.end()) continue;
    it->second.erase(c);
    if (it->second.empty()) by_topic_.erase(it);
  }
}

Hub::SetResult Hub::subscribe(std::string_view client_id, std::string_view remote_ip,
                              const std::vector<std::string>& subscriptions,
                              std::shared_ptr<const Identity> identity) {
  std::vector<Subscription> parsed;
  for (const auto& s : subscriptions) {
    if (s.empty()) continue;
    bool duplicate = false;
    for (const auto& p : parsed) duplicate = duplicate || p.name == s;
    if (!duplicate) parsed.push_back(parse_subscription(s));
  }
  if (parsed.size() > options_.max_subscriptions) return SetResult::too_many;
  if (!identity) identity = std::make_shared<const Identity>();
  std::uint64_t now;
  {
    std::lock_guard lock(queue_mu_);
    now = published_;
  }
  std::lock_guard lock(mu_);
  auto it = clients_.find(std::string(client_id));
  if (it == clients_.end()) return SetResult::not_found;
  auto& c = it->second;
  if (!c->ip.empty() && c->ip != remote_ip) return SetResult::ip_mismatch;
  if (!c->identity->key.empty() && c->identity->key != identity->key)
    return SetResult::auth_mismatch;
  for (auto& p : parsed) {
    p.since = now;
    for (const auto& old : *c->subscriptions) {
      if (old.name == p.name) p.since = old.since;  // kept, not new
    }
  }
  index(c, false);
  c->identity = std::move(identity);
  c->subscriptions = std::make_shared<const std::vector<Subscription>>(std::move(parsed));
  index(c, true);
  return SetResult::ok;
}

void Hub::publish(std::vector<store::RecordChange>&& changes) {
  if (changes.empty()) return;
  {
    std::lock_guard lock(queue_mu_);
    if (stopping_) return;
    queue_.emplace_back(++published_, std::move(changes));
  }
  queue_cv_.notify_one();
}

void Hub::flush() {
  std::unique_lock lock(queue_mu_);
  idle_cv_.wait(lock, [&] { return stopping_ || (queue_.empty() && !busy_); });
}

Stats Hub::stats() const {
  Stats s;
  {
    std::lock_guard lock(mu_);
    s.clients = clients_.size();
    s.subscriptions = subscription_count_;
  }
  s.changes = changes_.load(std::memory_order_relaxed);
  s.delivered = delivered_.load(std::memory_order_relaxed);
  s.dropped = dropped_.load(std::memory_order_relaxed);
  s.refused = refused_.load(std::memory_order_relaxed);
  return s;
}

void Hub::run() {
  for (;;) {
    std::vector<store::RecordChange> batch;
    std::uint64_t seq = 0;
    {
      std::unique_lock lock(queue_mu_);
      busy_ = false;
      idle_cv_.notify_all();
      queue_cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      seq = queue_.front().first;
      batch = std::move(queue_.front().second);
      queue_.pop_front();
      busy_ = true;
    }
    for (const auto& change : batch) {
      changes_.fetch_add(1, std::memory_order_relaxed);
      try {
        dispatch(change, seq);
      } catch (const std::exception&) {
        // A change that cannot be rendered (e.g. its collection was dropped
        // meanwhile) is skipped; the next ones still go out.
      }
    }
  }
}

void Hub::dispatch(const store::RecordChange& change, std::uint64_t seq) {
  auto* idv = change.record.if_contains("id");
  if (!idv || !idv->is_string()) return;
  std::string record_id(idv->get_string());
  std::string self_key = change.collection_id + "/" + record_id;

  struct Entry {
    std::shared_ptr<Client> client;
    std::shared_ptr<const std::vector<Subscription>> subscriptions;
    std::shared_ptr<const Identity> identity;
  };
  std::vector<Entry> entries;
  std::vector<std::shared_ptr<Client>> bound;
  {
    std::lock_guard lock(mu_);
    // Clients bound to this very record follow its changes (password change,
    // deletion) before anything is delivered.
    for (auto& [id, c] : clients_) {
      if (c->identity->key == self_key) bound.push_back(c);
    }
  }
  for (auto& c : bound) {
    auto next = policy_->refresh(change, c->identity);
    if (!next) next = std::make_shared<const Identity>();
    std::lock_guard lock(mu_);
    c->identity = std::move(next);
  }
  {
    std::lock_guard lock(mu_);
    const std::string topics[] = {change.collection_name + "/" + record_id,
                                  change.collection_id + "/" + record_id,
                                  change.collection_name + "/*",
                                  change.collection_id + "/*",
                                  change.collection_name,
                                  change.collection_id};
    // A client subscribed under several of these topics is visited once.
    std::unordered_set<const Client*> seen;
    for (const auto& t : topics) {
      auto it = by_topic_.find(t);
      if (it == by_topic_.end()) continue;
      entries.reserve(entries.size() + it->second.size());
      for (const auto& c : it->second) {
        if (seen.insert(c.get()).second) entries.push_back({c, c->subscriptions, c->identity});
      }
    }
  }
  if (entries.empty()) return;

  std::vector<Target> targets;
  std::vector<const Entry*> owners;
  const std::string wild_a = change.collection_name + "/*", wild_b = change.collection_id + "/*";
  const std::string rec_a = change.collection_name + "/" + record_id,
                    rec_b = change.collection_id + "/" + record_id;
  for (const auto& e : entries) {
    const auto& identity = e.identity;
    for (const auto& s : *e.subscriptions) {
      bool wildcard = s.topic == wild_a || s.topic == wild_b || s.topic == change.collection_name ||
                      s.topic == change.collection_id;
      if (!wildcard && s.topic != rec_a && s.topic != rec_b) continue;
      if (s.since >= seq) continue;
      targets.push_back({identity, &s, wildcard});
      owners.push_back(&e);
    }
  }
  std::vector<std::shared_ptr<const std::string>> data;
  policy_->render(change, targets, data);

  // The message after the per-client "id:" line is shared by every target
  // with the same event name and data.
  std::map<std::pair<std::string_view, const std::string*>, std::shared_ptr<const std::string>>
      frames;
  std::shared_ptr<const std::string> last;
  for (std::size_t i = 0; i < targets.size() && i < data.size(); ++i) {
    if (!data[i]) continue;
    if (i > 0 && data[i] == data[i - 1] &&
        targets[i].subscription->name == targets[i - 1].subscription->name && last) {
      if (owners[i]->client->sink->push(owners[i]->client->id_line, last))
        delivered_.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    auto& frame = frames[{targets[i].subscription->name, data[i].get()}];
    if (!frame) {
      std::string bytes;
      bytes.reserve(targets[i].subscription->name.size() + data[i]->size() + 16);
      bytes += "event:";
      bytes += targets[i].subscription->name;
      bytes += "\ndata:";
      bytes += *data[i];
      bytes += "\n\n";
      frame = std::make_shared<const std::string>(std::move(bytes));
    }
    last = frame;
    if (owners[i]->client->sink->push(owners[i]->client->id_line, frame))
      delivered_.fetch_add(1, std::memory_order_relaxed);
  }
}

}  // namespace plinth::realtime
