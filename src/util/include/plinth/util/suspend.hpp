#pragma once
// Cooperative waiting. Code running on a fiber (http::Server runs cooperative routes on
// fibers) can wait for another thread without blocking its OS thread: the waiter asks the
// current Suspender for a waker, hands it to whoever will finish the work, and suspends.
// Off a fiber there is no Suspender and the waiter blocks as usual.

#include <functional>

namespace plinth::util {

class Suspender {
 public:
  virtual ~Suspender() = default;
  // A callable that makes the current fiber runnable again. Thread-safe; call it once.
  virtual std::function<void()> waker() = 0;
  // Returns once the last waker() handed out has been called (at once if it already was).
  virtual void suspend() = 0;
};

// The suspender of the fiber running on this thread, or nullptr.
Suspender* current_suspender();

// Installs a suspender for this thread for the scope's lifetime (restoring the previous one).
class SuspenderScope {
 public:
  explicit SuspenderScope(Suspender* s);
  ~SuspenderScope();
  SuspenderScope(const SuspenderScope&) = delete;
  SuspenderScope& operator=(const SuspenderScope&) = delete;

 private:
  Suspender* previous_;
};

}  // namespace plinth::util
