// POST /api/batch: several record writes, all or nothing, in one transaction.

#include <regex>
#include <set>

#include "common.hpp"
#include "plinth/util/strings.hpp"

namespace plinth::api::detail {
namespace {

struct BatchAbort {};

json::object leaf(std::string code, std::string message, json::object params = {}) {
  json::object o{{"code", std::move(code)}, {"message", std::move(message)}};
  if (!params.empty()) o["params"] = std::move(params);
  return o;
}

std::int64_t int_setting(const json::object& o, std::string_view key, std::int64_t fallback) {
  auto* v = o.if_contains(key);
  if (!v) return fallback;
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64()) return static_cast<std::int64_t>(v->get_uint64());
  if (v->is_double()) return static_cast<std::int64_t>(v->get_double());
  return fallback;
}

}  // namespace

void register_batch_routes(http::Router& router, Services& s) {
  router.post(
      "/api/batch",
      [&s](http::Request& req) {
        auto settings = s.store.settings();
        json::object batch;
        if (auto* b = settings.if_contains("batch"); b && b->is_object()) batch = b->get_object();
        auto* enabled = batch.if_contains("enabled");
        std::int64_t max_requests = int_setting(batch, "maxRequests", 50);
        if (!enabled || !enabled->is_bool() || !enabled->get_bool() || max_requests <= 0) {
          throw http::ApiError(403, "Batch requests are not allowed.");
        }
        auto body = [&] {
          try {
            return parse_body(req);
          } catch (const http::ApiError&) {
            throw http::ApiError(400, "Failed to read the submitted batch data.");
          }
        }();
        auto* requests = body.if_contains("requests");
        auto invalid = [](json::object data) {
          return http::ApiError(400, "Invalid batch request data.",
                                core::to_json(json::object{{"requests", std::move(data)}}));
        };
        if (!requests || !requests->is_array() || requests->get_array().empty()) {
          throw invalid(leaf("validation_required", "Cannot be blank."));
        }
        const auto& items = requests->get_array();
        if (static_cast<std::int64_t>(items.size()) > max_requests) {
          throw invalid(
              leaf("validation_length_too_long",
                   "The length must be no more than " + std::to_string(max_requests) + ".",
                   {{"max", max_requests}}));
        }
        json::object item_errors;
        for (std::size_t i = 0; i < items.size(); ++i) {
          json::object e;
          const json::object* item = items[i].if_object();
          const json::value* method = item ? item->if_contains("method") : nullptr;
          const json::value* url = item ? item->if_contains("url") : nullptr;
          static const std::set<std::string> kMethods{"GET", "POST", "PUT", "PATCH", "DELETE"};
          if (!method || !method->is_string() || method->get_string().empty()) {
            e["method"] = leaf("validation_required", "Cannot be blank.");
          } else if (!kMethods.count(std::string(method->get_string()))) {
            e["method"] = leaf("validation_in_invalid", "Must be a valid value.");
          }
          if (!url || !url->is_string() || url->get_string().empty()) {
            e["url"] = leaf("validation_required", "Cannot be blank.");
          } else if (url->get_string().size() > 2000) {
            e["url"] = leaf("validation_length_too_long", "The length must be no more than 2000.",
                            {{"max", 2000}});
          }
          if (!e.empty()) item_errors[std::to_string(i)] = std::move(e);
        }
        if (!item_errors.empty()) throw invalid(std::move(item_errors));

        auto auth = request_auth(s, req);
        auto outer_meta = request_meta(s, req);
        static const std::regex kRecords(
            R"(^/api/collections/([^/?]+)/records(?:/([^/?]+))?(?:\?.*)?$)");
        json::array results;
        std::size_t failed = 0;
        json::object failed_response;
        try {
          s.store.transaction([&](store::Tx& tx) {
            results.clear();
            auto catalog = s.store.catalog();
            for (std::size_t i = 0; i < items.size(); ++i) {
              const auto& item = items[i].get_object();
              std::string method(item.at("method").get_string());
              std::string url(item.at("url").get_string());
              try {
                std::smatch m;
                if (!std::regex_match(url, m, kRecords)) throw http::ApiError(400);
                bool with_id = m[2].matched;
                auto c = catalog->find(util::url_decode(m[1].str(), false));
                if (!c) throw http::ApiError(404, "Missing collection context.");
                json::object sub_body;
                if (auto* b = item.if_contains("body"); b && b->is_object())
                  sub_body = b->get_object();
                std::string id = with_id ? util::url_decode(m[2].str(), false) : std::string();
                RequestMeta meta = outer_meta;
                meta.method = method;
                if (method == "POST" && !with_id) {
                  results.push_back(json::object{
                      {"body", create_record(s, tx, *c, auth, meta, sub_body)}, {"status", 200}});
                } else if (method == "PUT" && !with_id) {
                  auto* bid = sub_body.if_contains("id");
                  std::string upsert_id =
                      bid && bid->is_string() ? std::string(bid->get_string()) : std::string();
                  bool exists = !upsert_id.empty() && tx.get_record(*c, upsert_id);
                  auto out = exists ? update_record(s, tx, *c, auth, meta, upsert_id, sub_body)
                                    : create_record(s, tx, *c, auth, meta, sub_body);
                  results.push_back(json::object{{"body", std::move(out)}, {"status", 200}});
                } else if (method == "PATCH" && with_id) {
                  results.push_back(
                      json::object{{"body", update_record(s, tx, *c, auth, meta, id, sub_body)},
                                   {"status", 200}});
                } else if (method == "DELETE" && with_id) {
                  delete_record(s, tx, *c, auth, meta, id);
                  results.push_back(json::object{{"body", nullptr}, {"status", 204}});
                } else {
                  throw http::ApiError(400);
                }
              } catch (const http::ApiError& e) {
                failed = i;
                failed_response =
                    core::parse_json(http::error_body(e.status(), e.message(), e.data_json()))
                        ->get_object();
                throw BatchAbort{};
              } catch (const BatchAbort&) {
                throw;
              } catch (const std::exception&) {
                failed = i;
                failed_response = core::parse_json(http::error_body(400, ""))->get_object();
                throw BatchAbort{};
              }
            }
          });
        } catch (const BatchAbort&) {
          json::object data{
              {"requests", json::object{{std::to_string(failed),
                                         json::object{{"code", "batch_request_failed"},
                                                      {"message", "Batch request failed."},
                                                      {"response", failed_response}}}}}};
          throw http::ApiError(400, "Batch transaction failed.", core::to_json(data));
        }
        return json_response(200, results);
      },
      {.blocking = true, .cooperative = true});
}

}  // namespace plinth::api::detail
