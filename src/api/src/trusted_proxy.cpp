#include "plinth/api/trusted_proxy.hpp"

#include <arpa/inet.h>

#include <cstdio>

#include "plinth/util/strings.hpp"

namespace plinth::api {

namespace json = boost::json;

std::string canonical_ip(std::string_view text) {
  text = util::trim(text);
  if (text.empty() || text.size() > 45) return {};
  std::string s(text);
  unsigned char bytes[16];
  char out[48];
  if (inet_pton(AF_INET, s.c_str(), bytes) == 1)
    return inet_ntop(AF_INET, bytes, out, sizeof out) ? std::string(out) : std::string();
  if (inet_pton(AF_INET6, s.c_str(), bytes) != 1) return {};
  std::string expanded;
  for (int i = 0; i < 16; i += 2) {
    char group[6];
    std::snprintf(group, sizeof group, "%s%02x%02x", i ? ":" : "", bytes[i], bytes[i + 1]);
    expanded += group;
  }
  return expanded;
}

void TrustedProxy::configure(const json::object& settings) {
  std::vector<std::string> headers;
  bool leftmost = false;
  if (const auto* tp = settings.if_contains("trustedProxy"); tp && tp->is_object()) {
    if (const auto* h = tp->get_object().if_contains("headers"); h && h->is_array()) {
      for (const auto& v : h->get_array()) {
        if (v.is_string() && !v.get_string().empty()) headers.emplace_back(v.get_string());
      }
    }
    if (const auto* l = tp->get_object().if_contains("useLeftmostIP"); l && l->is_bool())
      leftmost = l->get_bool();
  }
  std::lock_guard lock(mu_);
  active_.store(!headers.empty(), std::memory_order_release);
  headers_ = std::move(headers);
  leftmost_ = leftmost;
}

std::string TrustedProxy::client_ip(const http::Request& req) const {
  if (!active()) return req.remote_ip;
  std::lock_guard lock(mu_);
  for (const auto& name : headers_) {
    // The last field of that name: the one the proxy in front of us added.
    std::string_view list;
    bool found = false;
    for (const auto& f : req.headers.fields()) {
      if (util::iequals(f.name, name)) {
        list = f.value;
        found = true;
      }
    }
    if (!found || util::trim(list).empty()) continue;
    auto ips = util::split(list, ',');
    if (leftmost_) {
      for (auto ip : ips) {
        if (auto c = canonical_ip(ip); !c.empty()) return c;
      }
    } else {
      for (auto it = ips.rbegin(); it != ips.rend(); ++it) {
        if (auto c = canonical_ip(*it); !c.empty()) return c;
      }
    }
  }
  return req.remote_ip;
}

http::Middleware real_ip(const TrustedProxy& proxy) {
  return [&proxy](http::Request& req, const http::Next& next) {
    if (proxy.active()) req.remote_ip = proxy.client_ip(req);
    return next(req);
  };
}

}  // namespace plinth::api
