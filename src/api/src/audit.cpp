#include "audit.hpp"

#include "common.hpp"
#include "plinth/store/auth_tables.hpp"

namespace plinth::api::detail {

namespace {
std::string actor_name(const std::optional<AuthContext>& a) {
  return a ? a->collection->name + "/" + a->id() : std::string();
}
}  // namespace

void audit(Services& s, const http::Request& req, const AuthEvent& e) {
  std::optional<AuthContext> caller;
  try {
    caller = request_auth(s, req);
  } catch (...) {
  }
  audit(s, req.remote_ip, req.request_id, actor_name(caller), e);
}

void audit(Services& s, const RequestMeta& meta, const std::optional<AuthContext>& caller,
           const AuthEvent& e) {
  audit(s, meta.remote_ip, meta.request_id, actor_name(caller), e);
}

void audit(Services& s, std::string_view ip, std::string_view request_id, std::string_view actor,
           const AuthEvent& e) {
  std::string detail = e.detail;
  if (!e.identity.empty()) {
    auto d = core::parse_json(detail);
    json::object o = d && d->is_object() ? d->get_object() : json::object{};
    o["identity"] = e.identity;
    detail = core::to_json(o);
  }
  bool failure = e.event.find("fail") != std::string_view::npos ||
                 e.event.find("throttled") != std::string_view::npos;
  s.logger.write(
      observe::LogLine(failure ? observe::Level::warn : observe::Level::info, "auth event")
          .str("event", e.event)
          .str("collection", e.collection)
          .str("recordId", e.record_id)
          .str("actor", actor)
          .str("ip", ip)
          .str("requestId", request_id)
          .str("detail", detail));
  if (!s.auth_tables) return;
  try {
    s.auth_tables->append_audit(
        store::AuditEvent{"", "", std::string(e.event), std::string(e.collection),
                          std::string(e.record_id), std::string(actor), std::string(ip), detail});
  } catch (const std::exception& ex) {
    s.logger.write(observe::LogLine(observe::Level::error, "cannot write the audit log")
                       .str("event", e.event)
                       .str("error", ex.what()));
  }
}

}  // namespace plinth::api::detail
