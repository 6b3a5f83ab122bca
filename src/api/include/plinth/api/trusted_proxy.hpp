#pragma once
// The client's address behind a reverse proxy, as PocketBase's settings.trustedProxy says:
// with `headers` set (e.g. ["X-Forwarded-For"] or ["CF-Connecting-IP"]), the first of them
// that holds a valid IP gives it — the rightmost address of its last value, or the leftmost
// with `useLeftmostIP` — else the peer's address. The login throttles, the audit log and the
// access log then see clients, not the proxy.

#include <atomic>
#include <boost/json/object.hpp>
#include <mutex>
#include <string>
#include <vector>

#include "plinth/http/pipeline.hpp"

namespace plinth::api {

class TrustedProxy {
 public:
  // Takes settings.trustedProxy from the whole settings object (absent = none).
  void configure(const boost::json::object& settings);
  // The client's address for `req` (its peer's when no configured header holds one).
  std::string client_ip(const http::Request& req) const;
  // Whether any header is configured (else client_ip is always the peer's).
  bool active() const { return active_.load(std::memory_order_acquire); }

 private:
  std::atomic<bool> active_{false};  // any header configured: the per-request fast path
  mutable std::mutex mu_;
  std::vector<std::string> headers_;
  bool leftmost_ = false;
};

// Canonical text of an IPv4 or IPv6 address (IPv6 in full, as Go's StringExpanded), or "".
std::string canonical_ip(std::string_view text);

// First in the chain: sets req.remote_ip to the client's address.
http::Middleware real_ip(const TrustedProxy& proxy);

}  // namespace plinth::api
