// Subscription strings as PocketBase reads them.

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cctype>

#include "plinth/realtime/hub.hpp"
#include "plinth/util/strings.hpp"

namespace plinth::realtime {
namespace {

namespace json = boost::json;

// A JSON value as Go's cast.ToString sees it: strings as they are, numbers and
// booleans as their text, anything else as "".
std::string as_text(const json::value& v) {
  if (v.is_string()) return std::string(v.get_string());
  if (v.is_bool()) return v.get_bool() ? "true" : "false";
  if (v.is_number()) return json::serialize(v);
  return {};
}

// "X-Token" -> "x_token", "someHeader" -> "some_header" (as the request headers
// that rules see through @request.headers.*).
std::string snake_case(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    auto ch = static_cast<unsigned char>(s[i]);
    if (std::isalnum(ch)) {
      if (std::isupper(ch) && i > 0 && std::islower(static_cast<unsigned char>(s[i - 1])))
        out.push_back('_');
      out.push_back(static_cast<char>(std::tolower(ch)));
    } else if (!out.empty() && out.back() != '_') {
      out.push_back('_');
    }
  }
  while (!out.empty() && out.back() == '_') out.pop_back();
  return out;
}

}  // namespace

Subscription parse_subscription(std::string_view s) {
  Subscription sub;
  sub.name = std::string(s);
  auto q = s.find('?');
  sub.topic = std::string(s.substr(0, q));
  if (q == std::string_view::npos) return sub;
  std::string raw;
  for (auto part : util::split(s.substr(q + 1), '&')) {
    auto eq = part.find('=');
    if (util::url_decode(part.substr(0, eq)) != "options") continue;
    if (eq != std::string_view::npos) raw = util::url_decode(part.substr(eq + 1));
    break;
  }
  if (raw.empty()) return sub;
  boost::system::error_code ec;
  auto v = json::parse(raw, ec);
  if (ec || !v.is_object()) return sub;
  if (auto* query = v.get_object().if_contains("query"); query && query->is_object()) {
    for (const auto& kv : query->get_object())
      sub.query[std::string(kv.key())] = as_text(kv.value());
  }
  if (auto* headers = v.get_object().if_contains("headers"); headers && headers->is_object()) {
    for (const auto& kv : headers->get_object())
      sub.headers[snake_case(kv.key())] = as_text(kv.value());
  }
  json::object canon;
  json::object cq, ch;
  for (const auto& [k, val] : sub.query) cq[k] = val;
  for (const auto& [k, val] : sub.headers) ch[k] = val;
  canon["h"] = std::move(ch);
  canon["q"] = std::move(cq);
  sub.options_key = json::serialize(canon);
  return sub;
}

}  // namespace plinth::realtime
