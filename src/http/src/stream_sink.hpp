#pragma once
// The server side of a streamed response (see http::Stream): a thread-safe
// queue per connection and a per-I/O-thread list of the streams to wake.
// Private to server.cpp, the one translation unit that includes Asio.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "plinth/http/message.hpp"

namespace plinth::http::detail {

namespace net = boost::asio;

class SinkImpl;

// Per I/O thread: the streams that got messages since the thread last looked.
// Pushing threads add to it; one posted handler drains it, however many
// streams were woken (an event for 10k subscribers is one post, not 10k).
struct ReadyList {
  std::mutex mu;
  std::vector<std::shared_ptr<SinkImpl>> sinks;
  bool posted = false;
};

// A stream's queue: filled by any thread, drained on the connection's I/O
// thread. When the connection's writer is parked (nothing in flight), queued
// messages are written right away with a non-blocking write from the drain
// handler; only what the socket does not take wakes the writer coroutine.
class SinkImpl final : public StreamSink, public std::enable_shared_from_this<SinkImpl> {
 public:
  using Clock = std::chrono::steady_clock;
  struct Item {
    std::shared_ptr<const std::string> head, body;
  };
  // Writes what it can without blocking; returns the bytes written, or -1 on error.
  using DirectWrite = std::function<std::ptrdiff_t(const std::vector<net::const_buffer>&)>;

  SinkImpl(net::any_io_executor exec, std::shared_ptr<ReadyList> ready, std::size_t max_queue)
      : exec_(std::move(exec)),
        ready_(std::move(ready)),
        max_queue_(std::max<std::size_t>(1, max_queue)) {}

  bool push(std::shared_ptr<const std::string> head,
            std::shared_ptr<const std::string> body) override {
    bool wake = false;
    {
      std::lock_guard lock(mu_);
      if (closed_) return false;
      if (queue_.size() >= max_queue_) {
        closed_ = overflowed_ = true;
        wake = true;
      } else {
        queue_.push_back({std::move(head), std::move(body)});
        wake = waiting_;
        waiting_ = false;
      }
    }
    if (wake) notify();
    return !overflowed();
  }

  void close() override {
    {
      std::lock_guard lock(mu_);
      if (closed_) return;
      closed_ = true;
    }
    notify();
  }

  bool overflowed() const {
    std::lock_guard lock(mu_);
    return overflowed_;
  }

  // I/O thread only.
  void attach(net::steady_timer* timer, std::function<void()> cancel_io, DirectWrite direct) {
    timer_ = timer;
    cancel_io_ = std::move(cancel_io);
    direct_ = std::move(direct);
    last_message_ = last_write_ = Clock::now();
  }
  void detach() {
    {
      std::lock_guard lock(mu_);
      closed_ = true;
    }
    timer_ = nullptr;
    cancel_io_ = nullptr;
    direct_ = nullptr;
  }
  void set_parked(bool parked) { parked_ = parked; }
  void wrote(bool message) {
    last_write_ = Clock::now();
    if (message) last_message_ = last_write_;
  }
  Clock::time_point last_write() const { return last_write_; }
  Clock::time_point last_message() const { return last_message_; }

  // Moves the queued items into `out`; false when the stream is closed. With
  // nothing queued, marks the writer as waiting so that a push wakes it.
  bool take(std::deque<Item>& out) {
    std::lock_guard lock(mu_);
    if (closed_) return false;
    out.swap(queue_);
    waiting_ = out.empty();
    return true;
  }

  // I/O thread: called from the ready list's drain handler.
  void on_ready() {
    if (!timer_) return;
    bool closed;
    {
      std::lock_guard lock(mu_);
      closed = closed_;
    }
    if (closed) {
      timer_->cancel();
      if (cancel_io_) cancel_io_();
      return;
    }
    if (!parked_) return;  // the writer is busy and takes the queue when done
    if (direct_ && write_directly()) return;
    timer_->cancel();
  }

 private:
  // True when everything queued went out; otherwise the rest is back at the
  // front of the queue for the writer coroutine.
  bool write_directly() {
    std::deque<Item> items;
    {
      std::lock_guard lock(mu_);
      items.swap(queue_);
    }
    if (items.empty()) return park();
    std::vector<net::const_buffer> bufs;
    std::size_t total = 0;
    for (const auto& it : items) {
      if (it.head) bufs.push_back(net::buffer(*it.head));
      if (it.body) bufs.push_back(net::buffer(*it.body));
    }
    for (const auto& b : bufs) total += b.size();
    auto n = direct_(bufs);
    if (n > 0) wrote(true);
    if (n >= 0 && static_cast<std::size_t>(n) == total) return park();
    // Keep the unwritten tail (copied once) ahead of anything pushed meanwhile.
    std::deque<Item> rest;
    if (n < 0) {
      rest = std::move(items);
    } else {
      std::string tail;
      std::size_t skip = static_cast<std::size_t>(n);
      for (const auto& b : bufs) {
        if (skip >= b.size()) {
          skip -= b.size();
          continue;
        }
        tail.append(static_cast<const char*>(b.data()) + skip, b.size() - skip);
        skip = 0;
      }
      rest.push_back({nullptr, std::make_shared<const std::string>(std::move(tail))});
    }
    std::lock_guard lock(mu_);
    for (auto it = rest.rbegin(); it != rest.rend(); ++it) queue_.push_front(std::move(*it));
    return false;
  }

  // After a direct write the writer stays parked: the next push must wake
  // this handler again. False when something arrived meanwhile.
  bool park() {
    std::lock_guard lock(mu_);
    if (!queue_.empty()) return false;
    waiting_ = true;
    return true;
  }

  void notify() {
    bool post = false;
    {
      std::lock_guard lock(ready_->mu);
      ready_->sinks.push_back(shared_from_this());
      post = !ready_->posted;
      ready_->posted = true;
    }
    if (!post) return;
    net::post(exec_, [ready = ready_] {
      std::vector<std::shared_ptr<SinkImpl>> sinks;
      {
        std::lock_guard lock(ready->mu);
        sinks.swap(ready->sinks);
        ready->posted = false;
      }
      for (auto& s : sinks) s->on_ready();
    });
  }

  net::any_io_executor exec_;
  std::shared_ptr<ReadyList> ready_;
  std::size_t max_queue_;
  mutable std::mutex mu_;
  std::deque<Item> queue_;
  bool closed_ = false;
  bool overflowed_ = false;
  bool waiting_ = false;
  // I/O thread only.
  net::steady_timer* timer_ = nullptr;
  std::function<void()> cancel_io_;
  DirectWrite direct_;
  bool parked_ = false;
  Clock::time_point last_message_{}, last_write_{};
};

}  // namespace plinth::http::detail
