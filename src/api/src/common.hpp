#pragma once
// Helpers shared by the data handlers (not a public header).

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/object.hpp>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "plinth/api/data.hpp"
#include "plinth/core/json.hpp"
#include "plinth/core/record.hpp"
#include "plinth/http/errors.hpp"
#include "plinth/http/message.hpp"

namespace plinth::api::detail {

namespace json = boost::json;

http::Response json_response(int status, const json::value& v);
http::Response json_response(int status, const json::object& o);

// A per-request bump allocator for the JSON a handler builds and serialises: the first 8 KiB
// come from the handler's stack, more in growing heap blocks, all released at once when the
// arena goes. Declare it before every value that uses storage(), so it is destroyed last.
class RequestArena {
 public:
  RequestArena() : resource_(buffer_, sizeof buffer_) {}
  RequestArena(const RequestArena&) = delete;
  RequestArena& operator=(const RequestArena&) = delete;
  json::storage_ptr storage() { return json::storage_ptr(&resource_); }

 private:
  alignas(16) unsigned char buffer_[8192];
  json::monotonic_resource resource_;
};

// Parses a JSON or x-www-form-urlencoded body into an object; throws a 400 ApiError. A JSON
// body is allocated from `sp` (the default heap when empty).
json::object parse_body(const http::Request& req, const json::storage_ptr& sp = {});

// Maps store/validation exceptions thrown by `fn` to ApiErrors.
template <class F>
auto guard_store(std::string_view failure_message, F&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const core::ValidationFailed& e) {
    throw http::ApiError(400, std::string(failure_message),
                         core::to_json(core::field_errors_json(e.errors())));
  } catch (const store::StoreError& e) {
    switch (e.kind()) {
      case store::StoreError::Kind::bad_request: throw http::ApiError(400, e.what());
      case store::StoreError::Kind::conflict: throw http::ApiError(409, e.what());
      case store::StoreError::Kind::unavailable:
        throw http::ApiError(503,
                             "The database is unable to take writes: " + std::string(e.what()));
      case store::StoreError::Kind::storage_full:
        throw http::ApiError(507, "The server's disk is full; the write was not saved.");
      case store::StoreError::Kind::internal: break;
    }
    throw;
  }
}

std::optional<AuthContext> request_auth(Services& s, const http::Request& req);
// 401 without a valid token, 403 for anyone but a superuser.
void require_superuser(Services& s, const http::Request& req);
http::Response no_content();

// A valid API key presented as `Authorization: [Bearer ]plk_...`: which
// record actions (list, view, create, update, delete) it may take on which
// collections (by id). A key bypasses the API rule of exactly those actions;
// for everything else its request is a guest's (see docs/compatibility.md).
struct ApiKeyGrant {
  std::string id, name;
  std::map<std::string, std::set<std::string>> actions;
  bool allows(std::string_view collection_id, std::string_view action) const;
};
// nullptr without a key or with an unknown (revoked) one. Records the key's
// last use at most once a minute.
std::shared_ptr<const ApiKeyGrant> api_key_of(Services& s, const http::Request& req);

// What @request.* sees besides auth and body.
struct RequestMeta {
  // @request.query and @request.headers of rules: read from `request` when it is set (then
  // these stay empty, and the meta must not outlive the request), else these.
  std::map<std::string, std::string> query, headers;
  const http::Request* request = nullptr;
  std::string method = "GET";
  std::string remote_ip, request_id;  // for the audit trail
  std::shared_ptr<const ApiKeyGrant> api_key;
};
RequestMeta request_meta(const http::Request& req);
// The same, with the request's API key resolved.
RequestMeta request_meta(Services& s, const http::Request& req);
query::RequestInfo request_info(const std::optional<AuthContext>& auth, const RequestMeta& meta,
                                const json::object* body);
// Compiles an API rule (non-empty expression) for collection `c`. A rule that
// does not compile denies access (it is logged): the safe failure.
std::optional<query::Compiled> compile_rule(Services& s, const core::Collection& c,
                                            const std::string& rule, const query::RequestInfo& ri);

// The records API's presentation, shared with realtime events: `fields`
// selection (throws a 400 ApiError on a bad modifier), hidden/email visibility
// for the caller, and `expand` paths (each expanded record passes its view rule).
json::object select_fields(json::object o, const std::optional<std::string>& fields);
core::ViewOptions record_view_options(const std::optional<AuthContext>& auth,
                                      const core::Collection& c, const json::object& rec);
void expand_record(Services& s, const core::Collection& c, const json::object& raw,
                   json::object& out, const std::vector<std::string>& paths,
                   const std::optional<AuthContext>& auth, const RequestMeta& meta);

// Record writes shared by the single-record endpoints and /api/batch. They
// check access rules and validate; they throw ApiError with PocketBase's envelope.
// create_record's result is allocated from `sp` (the default heap when empty).
json::object create_record(Services& s, store::Tx& ops, const core::Collection& c,
                           const std::optional<AuthContext>& auth, const RequestMeta& meta,
                           const json::object& body, const json::storage_ptr& sp = {});
json::object update_record(Services& s, store::Tx& ops, const core::Collection& c,
                           const std::optional<AuthContext>& auth, const RequestMeta& meta,
                           std::string_view id, const json::object& body);
void delete_record(Services& s, store::Tx& ops, const core::Collection& c,
                   const std::optional<AuthContext>& auth, const RequestMeta& meta,
                   std::string_view id);

}  // namespace plinth::api::detail
