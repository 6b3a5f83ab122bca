#include "plinth/util/suspend.hpp"

namespace plinth::util {
namespace {
thread_local Suspender* current = nullptr;
}  // namespace

Suspender* current_suspender() {
  return current;
}

SuspenderScope::SuspenderScope(Suspender* s) : previous_(current) {
  current = s;
}

SuspenderScope::~SuspenderScope() {
  current = previous_;
}

}  // namespace plinth::util
