#include "plinth/core/json.hpp"

#include <algorithm>
#include <array>
#include <boost/json/parse.hpp>
#include <boost/json/parse_options.hpp>
#include <boost/json/parser.hpp>
#include <charconv>
#include <cmath>
#include <cstring>
#include <vector>

namespace plinth::core {
namespace {

// True for bytes written as they are: printable ASCII other than " \ < > &, and
// every byte of a UTF-8 sequence except the lead byte 0xE2 (which may start U+2028/9).
constexpr bool plain_byte(unsigned char c) {
  return c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' && c != 0xe2;
}
// The same, looked up: the scan for the end of a plain run is the serialiser's inner loop.
constexpr std::array<bool, 256> kPlain = [] {
  std::array<bool, 256> t{};
  for (unsigned c = 0; c < 256; ++c) t[c] = plain_byte(static_cast<unsigned char>(c));
  return t;
}();

void write_string_impl(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::size_t i = 0;
  while (i < s.size() && kPlain[static_cast<unsigned char>(s[i])]) ++i;
  if (i == s.size()) {
    // Nothing to escape (most keys and values): quoted and copied in one step.
    std::size_t at = out.size();
    out.resize(at + s.size() + 2);
    char* p = out.data() + at;
    p[0] = '"';
    std::memcpy(p + 1, s.data(), s.size());
    p[s.size() + 1] = '"';
    return;
  }
  out.push_back('"');
  i = 0;
  while (i < s.size()) {
    std::size_t run = i;
    while (run < s.size() && kPlain[static_cast<unsigned char>(s[run])]) ++run;
    out.append(s.data() + i, run - i);
    i = run;
    if (i == s.size()) break;
    auto c = static_cast<unsigned char>(s[i]);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '<': out += "\\u003c"; break;
      case '>': out += "\\u003e"; break;
      case '&': out += "\\u0026"; break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out.push_back(kHex[c >> 4]);
          out.push_back(kHex[c & 0xf]);
        } else if (c == 0xe2 && i + 2 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0x80 &&
                   (static_cast<unsigned char>(s[i + 2]) == 0xa8 ||
                    static_cast<unsigned char>(s[i + 2]) == 0xa9)) {
          out += static_cast<unsigned char>(s[i + 2]) == 0xa8 ? "\\u2028" : "\\u2029";
          i += 2;
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
    ++i;
  }
  out.push_back('"');
}

}  // namespace

void write_json_string(std::string& out, std::string_view s) {
  write_string_impl(out, s);
}

void append_number(std::string& out, double d) {
  if (!std::isfinite(d)) {
    out += "null";
    return;
  }
  if (d == 0) {
    out += "0";
    return;
  }
  char buf[64];
  double a = std::fabs(d);
  std::to_chars_result r;
  if (a < 1e-6 || a >= 1e21) {
    r = std::to_chars(buf, buf + sizeof(buf), d, std::chars_format::scientific);
    // Go writes e-07 as e-07 and e+21 as e+21: two-digit exponent at least.
    std::string s(buf, r.ptr);
    auto e = s.find('e');
    if (e != std::string::npos) {
      std::string mant = s.substr(0, e), exp = s.substr(e + 1);
      char sign = '+';
      if (!exp.empty() && (exp[0] == '-' || exp[0] == '+')) {
        sign = exp[0];
        exp.erase(0, 1);
      }
      if (exp.size() < 2) exp.insert(0, "0");
      s = mant + "e" + sign + exp;
    }
    out += s;
    return;
  }
  r = std::to_chars(buf, buf + sizeof(buf), d, std::chars_format::fixed);
  out.append(buf, r.ptr);
}

void write_json(std::string& out, const json::value& v) {
  switch (v.kind()) {
    case json::kind::null: out += "null"; break;
    case json::kind::bool_: out += v.get_bool() ? "true" : "false"; break;
    case json::kind::int64: out += std::to_string(v.get_int64()); break;
    case json::kind::uint64: out += std::to_string(v.get_uint64()); break;
    case json::kind::double_: append_number(out, v.get_double()); break;
    case json::kind::string: write_string_impl(out, v.get_string()); break;
    case json::kind::array: {
      out.push_back('[');
      bool first = true;
      for (const auto& e : v.get_array()) {
        if (!first) out.push_back(',');
        first = false;
        write_json(out, e);
      }
      out.push_back(']');
      break;
    }
    case json::kind::object: write_json(out, v.get_object()); break;
  }
}

void write_json(std::string& out, const json::object& o) {
  out.push_back('{');
  bool first = true;
  for (const auto& kv : o) {
    if (!first) out.push_back(',');
    first = false;
    write_string_impl(out, kv.key());
    out.push_back(':');
    write_json(out, kv.value());
  }
  out.push_back('}');
}

std::string to_json(const json::value& v) {
  std::string out;
  out.reserve(256);
  write_json(out, v);
  return out;
}

std::string to_json(const json::object& o) {
  std::string out;
  out.reserve(256);
  write_json(out, o);
  return out;
}

json::object sorted_copy(const json::object& o) {
  std::vector<const json::key_value_pair*> items;
  items.reserve(o.size());
  for (const auto& kv : o) items.push_back(&kv);
  std::sort(items.begin(), items.end(), [](auto* a, auto* b) { return a->key() < b->key(); });
  json::object out;
  out.reserve(items.size());
  for (auto* kv : items) out.emplace(kv->key(), kv->value());
  return out;
}

void erase_stable(json::object& o, std::string_view key) {
  if (!o.contains(key)) return;
  json::object out;
  out.reserve(o.size());
  for (auto& kv : o) {
    if (kv.key() != key) out.emplace(kv.key(), std::move(kv.value()));
  }
  o = std::move(out);
}

std::optional<json::value> parse_json(std::string_view text, const json::storage_ptr& sp) {
  json::parse_options opts;
  opts.max_depth = 64;
  boost::system::error_code ec;
  if (text.size() > 64 * 1024) {
    // A large document gets a parser of its own, so no thread keeps a working stack that big.
    auto v = json::parse(text, ec, sp, opts);
    if (ec) return std::nullopt;
    return v;
  }
  // Small ones share one parser per thread: its working stack is kept between documents
  // instead of being allocated and freed for each one.
  thread_local json::parser parser(json::storage_ptr(), opts);
  parser.reset(sp);
  parser.write(text.data(), text.size(), ec);  // the whole text: trailing bytes are an error
  std::optional<json::value> out;
  if (!ec) out = parser.release();
  parser.reset();  // lets go of `sp` (and of whatever a failed parse built)
  return out;
}

}  // namespace plinth::core
