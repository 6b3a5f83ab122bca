// /api/realtime: connect (SSE) and set subscriptions, as PocketBase's apis/realtime.go.

#include "plinth/api/realtime.hpp"

#include <map>

#include "common.hpp"
#include "plinth/util/strings.hpp"

namespace plinth::api {
namespace {

namespace json = boost::json;
using detail::RequestMeta;

constexpr std::size_t kMaxClientIdLength = 255;
constexpr std::size_t kMaxSubscriptionLength = 2500;
constexpr std::size_t kMaxExpandPaths = 32;

struct RealtimeIdentity final : realtime::Identity {
  std::optional<AuthContext> auth;
};

std::shared_ptr<const realtime::Identity> identity_of(std::optional<AuthContext> auth) {
  auto id = std::make_shared<RealtimeIdentity>();
  if (auth) id->key = auth->collection->id + "/" + auth->id();
  id->auth = std::move(auth);
  return id;
}

const std::optional<AuthContext>& auth_of(const realtime::Identity& identity) {
  static const std::optional<AuthContext> kGuest;
  auto* id = dynamic_cast<const RealtimeIdentity*>(&identity);
  return id ? id->auth : kGuest;
}

std::string_view action_name(store::RecordChange::Action a) {
  switch (a) {
    case store::RecordChange::Action::create: return "create";
    case store::RecordChange::Action::update: return "update";
    case store::RecordChange::Action::del: return "delete";
  }
  return "update";
}

std::string option(const realtime::Subscription& sub, const std::string& name) {
  auto it = sub.query.find(name);
  return it == sub.query.end() ? std::string() : it->second;
}

class Policy final : public realtime::Policy {
 public:
  explicit Policy(Services& s) : s_(s) {}

  void render(const store::RecordChange& change, const std::vector<realtime::Target>& targets,
              std::vector<std::shared_ptr<const std::string>>& out) override {
    out.assign(targets.size(), nullptr);
    auto catalog = s_.store.catalog();
    auto c = catalog->find(change.collection_id);
    if (!c) return;
    std::map<std::string, bool> access;
    std::map<std::string, std::shared_ptr<const std::string>> data;
    for (std::size_t i = 0; i < targets.size(); ++i) {
      const auto& t = targets[i];
      const auto& sub = *t.subscription;
      // Most subscribers of a busy topic look alike (same identity kind and
      // options): reuse the previous answer without building keys.
      if (i > 0) {
        const auto& p = targets[i - 1];
        if (p.wildcard == t.wildcard && p.identity->key == t.identity->key &&
            p.subscription->options_key == sub.options_key) {
          out[i] = out[i - 1];
          continue;
        }
      }
      const auto& auth = auth_of(*t.identity);
      // Subscribers with the same identity, topic kind and options get the
      // same answer, so a rule query runs once for all of them.
      std::string akey = t.identity->key + '\x1f' + (t.wildcard ? 'L' : 'V') + sub.options_key;
      auto [ait, fresh] = access.try_emplace(akey, false);
      if (fresh) ait->second = allowed(*catalog, *c, change, auth, sub, t.wildcard);
      if (!ait->second) continue;

      bool superuser = auth && auth->superuser();
      bool owner = auth && auth->collection->id == c->id && change.record.contains("id") &&
                   change.record.at("id").is_string() &&
                   change.record.at("id").get_string() == auth->id();
      auto expand = option(sub, "expand"), fields = option(sub, "fields");
      std::string vkey = std::string(superuser ? "S"
                                     : owner   ? "O"
                                               : "G") +
                         '\x1f' +
                         (expand.empty() ? std::string() : t.identity->key + '\x1f' + expand) +
                         '\x1f' + fields;
      auto& bytes = data[vkey];
      if (!bytes)
        bytes =
            std::make_shared<const std::string>(event_data(*c, change, auth, sub, expand, fields));
      out[i] = bytes;
    }
  }

  std::shared_ptr<const realtime::Identity> refresh(
      const store::RecordChange& change,
      const std::shared_ptr<const realtime::Identity>& current) override {
    const auto& auth = auth_of(*current);
    if (!auth || change.action == store::RecordChange::Action::del) return nullptr;
    // A new tokenKey (password change) revokes the binding, as PocketBase:
    // the connection stays, as a guest, until it subscribes with a new token.
    auto token_key = [](const json::object& o) {
      auto* v = o.if_contains("tokenKey");
      return v && v->is_string() ? std::string(v->get_string()) : std::string();
    };
    if (token_key(auth->record) != token_key(change.record)) return nullptr;
    auto c = s_.store.catalog()->find(change.collection_id);
    if (!c) return nullptr;
    AuthContext next;
    next.collection = std::move(c);
    next.record = change.record;
    return identity_of(std::move(next));
  }

 private:
  bool allowed(const core::Catalog& catalog, const core::Collection& c,
               const store::RecordChange& change, const std::optional<AuthContext>& auth,
               const realtime::Subscription& sub, bool wildcard) {
    bool superuser = auth && auth->superuser();
    const auto& rule = wildcard ? c.list_rule : c.view_rule;
    if (!superuser && !rule) return false;
    auto filter = option(sub, "filter");
    if (!superuser && (filter.find("@collection.") != std::string::npos ||
                       filter.find("@request.") != std::string::npos))
      return false;
    bool need_rule = !superuser && !rule->empty();
    if (!need_rule && filter.empty()) return true;
    RequestMeta meta;
    meta.query = sub.query;
    meta.headers = sub.headers;
    auto ri = detail::request_info(auth, meta, nullptr);
    query::Compiler compiler(catalog, c, ri, {.allow_hidden = superuser});
    if (need_rule && compiler.add_rule(*rule)) return false;
    if (!filter.empty() && compiler.add_filter(filter)) return false;
    auto compiled = compiler.finish();
    auto* cq = std::get_if<query::Compiled>(&compiled);
    if (!cq) return false;
    try {
      return s_.store.snapshot_matches(c, change.record, *cq);
    } catch (const std::exception& e) {
      s_.logger.write(observe::LogLine(observe::Level::warn, "realtime access check failed")
                          .str("collection", c.name)
                          .str("error", e.what()));
      return false;
    }
  }

  std::string event_data(const core::Collection& c, const store::RecordChange& change,
                         const std::optional<AuthContext>& auth, const realtime::Subscription& sub,
                         const std::string& expand, const std::string& fields) {
    auto view =
        core::record_to_api(c, change.record, detail::record_view_options(auth, c, change.record));
    if (!expand.empty()) {
      std::vector<std::string> paths;
      for (auto part : util::split(expand, ',')) {
        auto p = util::trim(part);
        if (!p.empty() && paths.size() < kMaxExpandPaths) paths.emplace_back(p);
      }
      RequestMeta meta;
      meta.query = sub.query;
      meta.headers = sub.headers;
      try {
        detail::expand_record(s_, c, change.record, view, paths, auth, meta);
      } catch (const std::exception&) {
        // As PocketBase: expand failures leave the record unexpanded.
      }
    }
    json::value record = view;
    if (!fields.empty()) {
      try {
        record = detail::select_fields(view, fields);
      } catch (const http::ApiError&) {
        // As PocketBase: an invalid `fields` sends the whole record.
      }
    }
    json::object out;
    out["record"] = std::move(record);
    out["action"] = action_name(change.action);
    return core::to_json(out);
  }

  Services& s_;
};

std::string field_error(std::string_view field, std::string_view code, std::string_view message) {
  json::object o{{std::string(field), json::object{{"code", code}, {"message", message}}}};
  return core::to_json(o);
}

}  // namespace

std::unique_ptr<realtime::Policy> make_realtime_policy(Services& services) {
  return std::make_unique<Policy>(services);
}

void register_realtime_routes(http::Router& router, Services& s, realtime::Hub& hub) {
  router.get("/api/realtime", [&hub](http::Request& req) {
    auto stream = hub.connect(req.remote_ip);
    if (!stream) throw http::ApiError(503, "Too many realtime clients, try again later.");
    http::Response res;
    res.status = 200;
    res.headers.set("Content-Type", "text/event-stream");
    res.headers.set("Cache-Control", "no-store");
    res.headers.set("X-Accel-Buffering", "no");
    res.stream = std::move(stream);
    return res;
  });

  router.post(
      "/api/realtime",
      [&s, &hub](http::Request& req) {
        auto body = detail::parse_body(req);
        std::string client_id;
        if (auto* v = body.if_contains("clientId"); v && v->is_string())
          client_id = std::string(v->get_string());
        if (client_id.empty())
          throw http::ApiError(400, std::string(http::default_message(400)),
                               field_error("clientId", "validation_required", "Cannot be blank."));
        if (client_id.size() > kMaxClientIdLength)
          throw http::ApiError(400, std::string(http::default_message(400)),
                               field_error("clientId", "validation_length_out_of_range",
                                           "The length must be between 1 and " +
                                               std::to_string(kMaxClientIdLength) + "."));
        std::vector<std::string> subs;
        if (auto* v = body.if_contains("subscriptions"); v && !v->is_null()) {
          if (!v->is_array())
            throw http::ApiError(400, std::string(http::default_message(400)),
                                 field_error("subscriptions", "validation_invalid_value",
                                             "Must be a list of strings."));
          for (const auto& e : v->get_array()) {
            if (!e.is_string())
              throw http::ApiError(400, std::string(http::default_message(400)),
                                   field_error("subscriptions", "validation_invalid_value",
                                               "Must be a list of strings."));
            if (e.get_string().size() > kMaxSubscriptionLength)
              throw http::ApiError(
                  400, std::string(http::default_message(400)),
                  field_error("subscriptions", "validation_length_too_long",
                              "Each subscription must be at most " +
                                  std::to_string(kMaxSubscriptionLength) + " characters."));
            subs.emplace_back(e.get_string());
          }
        }
        auto too_many = [&] {
          return http::ApiError(
              400, std::string(http::default_message(400)),
              field_error("subscriptions", "validation_length_too_long",
                          "The length must be no more than " +
                              std::to_string(hub.options().max_subscriptions) + "."));
        };
        if (subs.size() > hub.options().max_subscriptions) throw too_many();
        auto auth = detail::request_auth(s, req);
        switch (hub.subscribe(client_id, req.remote_ip, subs, identity_of(std::move(auth)))) {
          case realtime::Hub::SetResult::ok: break;
          case realtime::Hub::SetResult::not_found:
            throw http::ApiError(404, "Missing or invalid client id.");
          case realtime::Hub::SetResult::ip_mismatch:
            throw http::ApiError(400, "Invalid realtime client.");
          case realtime::Hub::SetResult::auth_mismatch:
            throw http::ApiError(403,
                                 "The current and the previous request authorization don't match.");
          case realtime::Hub::SetResult::too_many: throw too_many();
        }
        return detail::no_content();
      },
      {.blocking = true});
}

}  // namespace plinth::api
