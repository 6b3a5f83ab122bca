#pragma once
// Helpers for the data API suites: a JSON-speaking wrapper over the raw test
// Client, servers seeded with a superuser, and small JSON assertions.

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "test_support.hpp"

namespace plinth::test::data {

namespace json = boost::json;

inline constexpr std::string_view kSuperuserEmail = "admin@example.com";
inline constexpr std::string_view kSuperuserPassword = "admin-pass-123";
inline constexpr std::string_view kJson = "application/json";
inline constexpr std::string_view kForm = "application/x-www-form-urlencoded";

// PocketBase's generic envelopes (without the trailing newline; see strip_nl).
inline const std::string kNotFound =
    R"({"data":{},"message":"The requested resource wasn't found.","status":404})";
inline const std::string kOnlySuperusers =
    R"({"data":{},"message":"Only superusers can perform this action.","status":403})";
inline const std::string kMissingCollection =
    R"({"data":{},"message":"Missing collection context.","status":404})";

// PocketBase ends every JSON body with "\n" (Go's json.Encoder); exact body
// comparisons ignore it so that one dedicated test reports that difference.
inline std::string strip_nl(std::string s) {
  if (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

// Parses JSON text; null when it is not JSON.
inline json::value parse(std::string_view text) {
  boost::system::error_code ec;
  auto v = json::parse(text, ec);
  if (ec) return nullptr;
  return v;
}

// A canonical compact form for order-sensitive comparisons of JSON values
// (re-parsing gives both sides the same number representation).
inline std::string dump(const json::value& v) {
  return json::serialize(v);
}
inline std::string canon(std::string_view text) {
  return json::serialize(parse(text));
}

// The value at a JSON pointer ("/data/title/code"), or null when absent. A
// reference into `v` (so `for (x : at(v, "/items").as_array())` is safe); from a
// temporary it returns a copy instead.
inline const json::value& at(const json::value& v, std::string_view pointer) {
  static const json::value kNull;
  boost::system::error_code ec;
  const json::value* p = v.find_pointer(pointer, ec);
  return p ? *p : kNull;
}
inline json::value at(json::value&& v, std::string_view pointer) {
  return at(static_cast<const json::value&>(v), pointer);
}
inline std::string str_at(const json::value& v, std::string_view pointer) {
  const auto& x = at(v, pointer);
  return x.is_string() ? std::string(x.get_string()) : std::string();
}
inline std::int64_t int_at(const json::value& v, std::string_view pointer) {
  const auto& x = at(v, pointer);
  if (x.is_int64()) return x.get_int64();
  if (x.is_uint64()) return static_cast<std::int64_t>(x.get_uint64());
  if (x.is_double()) return static_cast<std::int64_t>(x.get_double());
  return -999999;
}
inline bool has_key(const json::value& v, std::string_view key) {
  return v.is_object() && v.get_object().contains(key);
}
// The keys of an object in the order they were sent.
inline std::vector<std::string> keys_of(const json::value& v) {
  std::vector<std::string> out;
  if (!v.is_object()) return out;
  for (const auto& kv : v.get_object()) out.emplace_back(kv.key());
  return out;
}

struct Reply {
  int status = 0;
  std::string body;  // raw
  json::value json;  // parsed body (null when empty or not JSON)
  std::vector<std::pair<std::string, std::string>> headers;
  std::string header(std::string_view name) const {
    for (const auto& [k, v] : headers) {
      if (k.size() == name.size() &&
          std::equal(k.begin(), k.end(), name.begin(), [](char a, char b) {
            return std::tolower(static_cast<unsigned char>(a)) ==
                   std::tolower(static_cast<unsigned char>(b));
          }))
        return v;
    }
    return {};
  }
  std::string text() const { return strip_nl(body); }
};

// One request per connection, so the helper is safe to use from many threads
// (each thread with its own Api or concurrently through a const one).
class Api {
 public:
  explicit Api(std::uint16_t port) : port_(port) {}

  Reply send(std::string_view method, std::string_view target, std::string_view body = {},
             std::string_view token = {}, std::string_view content_type = kJson) const {
    std::vector<std::pair<std::string, std::string>> headers;
    if (!token.empty()) headers.emplace_back("Authorization", std::string(token));
    if (!body.empty()) headers.emplace_back("Content-Type", std::string(content_type));
    Client c(port_, std::chrono::seconds(20));
    auto r = c.request(method, target, headers, body);
    Reply out;
    if (!r) {
      ADD_FAILURE() << "no response to " << method << " " << target;
      return out;
    }
    out.status = r->status;
    out.body = r->body;
    out.headers = r->headers;
    out.json = r->body.empty() ? json::value(nullptr) : parse(r->body);
    return out;
  }
  Reply get(std::string_view target, std::string_view token = {}) const {
    return send("GET", target, {}, token);
  }
  Reply post(std::string_view target, std::string_view body, std::string_view token = {}) const {
    return send("POST", target, body, token);
  }
  Reply patch(std::string_view target, std::string_view body, std::string_view token = {}) const {
    return send("PATCH", target, body, token);
  }
  Reply del(std::string_view target, std::string_view token = {}) const {
    return send("DELETE", target, {}, token);
  }
  std::uint16_t port() const { return port_; }

 private:
  std::uint16_t port_;
};

// auth-with-password; returns the token ("" and a test failure when refused).
inline std::string login(const Api& api, std::string_view collection, std::string_view identity,
                         std::string_view password) {
  json::object body{{"identity", identity}, {"password", password}};
  auto r = api.post("/api/collections/" + std::string(collection) + "/auth-with-password",
                    json::serialize(body));
  EXPECT_EQ(r.status, 200) << "login " << identity << ": " << r.body;
  return str_at(r.json, "/token");
}

inline std::string shell_quote(std::string_view s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'')
      out += "'\\''";
    else
      out.push_back(c);
  }
  return out + "'";
}

// Runs `sqlite3 <db> <sql>` and returns its trimmed output.
inline std::string sqlite(const std::string& db, const std::string& sql) {
  std::string out;
  run_command("sqlite3 " + shell_quote(db) + " " + shell_quote(sql) + " 2>&1", &out);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

inline std::string base64url_encode(std::string_view in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  std::uint32_t buf = 0;
  int bits = 0;
  for (unsigned char c : in) {
    buf = (buf << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(kAlphabet[(buf >> bits) & 0x3f]);
    }
  }
  if (bits > 0) out.push_back(kAlphabet[(buf << (6 - bits)) & 0x3f]);
  return out;
}

inline std::string base64url_decode(std::string_view in) {
  std::string out;
  std::uint32_t buf = 0;
  int bits = 0;
  for (char c : in) {
    int v = c >= 'A' && c <= 'Z'   ? c - 'A'
            : c >= 'a' && c <= 'z' ? c - 'a' + 26
            : c >= '0' && c <= '9' ? c - '0' + 52
            : c == '-' || c == '+' ? 62
            : c == '_' || c == '/' ? 63
                                   : -1;
    if (v < 0) continue;
    buf = (buf << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buf >> bits) & 0xff));
    }
  }
  return out;
}

// The claims of a JWT (its middle part), parsed.
inline json::value jwt_claims(std::string_view token) {
  auto a = token.find('.');
  auto b = token.find('.', a == std::string_view::npos ? a : a + 1);
  if (a == std::string_view::npos || b == std::string_view::npos) return nullptr;
  return parse(base64url_decode(token.substr(a + 1, b - a - 1)));
}

// An HS256 JWT signed with `key` (HMAC by the openssl CLI).
inline std::string sign_jwt(std::string_view header_json, std::string_view claims_json,
                            std::string_view key) {
  std::string data = base64url_encode(header_json) + "." + base64url_encode(claims_json);
  std::string sig;
  run_command("printf '%s' " + shell_quote(data) + " | openssl dgst -sha256 -hmac " +
                  shell_quote(key) + " -binary | base64 -w0 | tr '+/' '-_' | tr -d '='",
              &sig);
  while (!sig.empty() && (sig.back() == '\n' || sig.back() == '\r')) sig.pop_back();
  return data + "." + sig;
}

// A fresh data dir holding one superuser (admin@example.com), served by a real plinth.
class SeededServer {
 public:
  explicit SeededServer(std::vector<std::string> extra_args = {}) {
    std::string out;
    int rc = run_command(plinth_binary() + " superuser upsert " + std::string(kSuperuserEmail) +
                             " " + std::string(kSuperuserPassword) + " --dir " +
                             shell_quote(seed_.path() + "/data") + " 2>&1",
                         &out);
    if (rc != 0) throw std::runtime_error("superuser upsert failed: " + out);
    server_ = std::make_unique<ServerProcess>(std::move(extra_args), std::vector<std::string>{},
                                              seed_.path() + "/data");
    api_ = std::make_unique<Api>(server_->port());
    token_ = login(*api_, "_superusers", kSuperuserEmail, kSuperuserPassword);
  }
  const Api& api() const { return *api_; }
  const std::string& token() const { return token_; }
  ServerProcess& process() { return *server_; }
  std::string db_path() const { return server_->dir() + "/data/data.db"; }

 private:
  TempDir seed_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<Api> api_;
  std::string token_;
};

// POST /api/collections as superuser; returns the created collection JSON
// (and fails the test when the server refuses it).
inline json::value create_collection(const Api& api, const std::string& token,
                                     std::string_view body) {
  auto r = api.post("/api/collections", body, token);
  EXPECT_EQ(r.status, 200) << "create collection: " << r.body;
  return r.json;
}

// Creates a record; returns its JSON (failing the test when refused).
inline json::value create_record(const Api& api, std::string_view collection, std::string_view body,
                                 std::string_view token = {}) {
  auto r = api.post("/api/collections/" + std::string(collection) + "/records", body, token);
  EXPECT_EQ(r.status, 200) << "create record in " << collection << ": " << r.body;
  return r.json;
}

inline std::string records_path(std::string_view collection, std::string_view id = {}) {
  std::string p = "/api/collections/" + std::string(collection) + "/records";
  if (!id.empty()) p += "/" + std::string(id);
  return p;
}

}  // namespace plinth::test::data
