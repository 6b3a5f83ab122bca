#pragma once
// /api/realtime (PocketBase's SSE subscriptions) and the policy that decides,
// per committed change and subscriber, whether and what they receive: the
// collection's list rule (collection topics) or view rule (record topics) for
// the subscriber's auth, the subscription's `filter`, then `expand`/`fields`.

#include <memory>

#include "plinth/api/data.hpp"
#include "plinth/http/router.hpp"
#include "plinth/realtime/hub.hpp"

namespace plinth::api {

std::unique_ptr<realtime::Policy> make_realtime_policy(Services& services);

void register_realtime_routes(http::Router& router, Services& services, realtime::Hub& hub);

}  // namespace plinth::api
