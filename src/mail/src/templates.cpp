#include "plinth/mail/templates.hpp"

#include <cmath>
#include <cstdio>

namespace plinth::mail {
namespace json = boost::json;

namespace {

std::string str(const json::object& o, std::string_view k) {
  auto* v = o.if_contains(k);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

std::string number_text(double d) {
  if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 1e15) {
    return std::to_string(static_cast<long long>(d));
  }
  char buf[64];
  (void)std::snprintf(buf, sizeof buf, "%.17g", d);
  return buf;
}

// The value as PocketBase's GetString gives it: strings as is, numbers and
// booleans as text, anything else (lists, objects, null) empty.
std::string value_text(const json::value& v) {
  if (v.is_string()) return std::string(v.get_string());
  if (v.is_bool()) return v.get_bool() ? "true" : "false";
  if (v.is_int64()) return std::to_string(v.get_int64());
  if (v.is_uint64()) return std::to_string(v.get_uint64());
  if (v.is_double()) return number_text(v.get_double());
  return {};
}

constexpr std::string_view kLayoutHead = R"(<!DOCTYPE html>
<html>
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<style>
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;font-size:14px;line-height:1.5;color:#16161a;background:#fff;margin:0;padding:20px}
.wrapper{max-width:600px;margin:0 auto}
p{margin:10px 0}
.btn{display:inline-block;padding:8px 16px;border-radius:6px;background:#16161a;color:#fff!important;text-decoration:none}
</style>
</head>
<body>
<div class="wrapper">
)";
constexpr std::string_view kLayoutTail = "\n</div>\n</body>\n</html>\n";

}  // namespace

std::optional<Template> template_at(const json::object& options, std::string_view path) {
  const json::object* cur = &options;
  std::size_t start = 0;
  while (true) {
    auto dot = path.find('.', start);
    auto key =
        path.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    auto* v = cur->if_contains(key);
    if (!v || !v->is_object()) return std::nullopt;
    cur = &v->get_object();
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  Template t{str(*cur, "subject"), str(*cur, "body")};
  if (t.subject.empty() || t.body.empty()) return std::nullopt;
  return t;
}

std::string html_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&#34;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

Placeholders record_placeholders(const json::object& settings, const core::Collection& c,
                                 const json::object& record) {
  Placeholders p;
  const json::object* meta =
      settings.if_contains("meta") ? settings.at("meta").if_object() : nullptr;
  p["{APP_NAME}"] = meta ? str(*meta, "appName") : std::string();
  p["{APP_URL}"] = meta ? str(*meta, "appURL") : std::string();
  for (const auto& f : c.fields) {
    if (f.hidden) continue;
    auto* v = record.if_contains(f.name);
    std::string text = v ? value_text(*v) : std::string();
    bool raw = f.type == core::FieldType::date || f.type == core::FieldType::autodate ||
               f.type == core::FieldType::boolean || f.type == core::FieldType::number;
    p["{RECORD:" + f.name + "}"] = raw ? text : html_escape(text);
  }
  return p;
}

std::string substitute(std::string_view text, const Placeholders& values) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    if (text[i] == '{') {
      auto close = text.find('}', i);
      if (close != std::string_view::npos) {
        auto it = values.find(text.substr(i, close - i + 1));
        if (it != values.end()) {
          out += it->second;
          i = close + 1;
          continue;
        }
      }
    }
    out += text[i++];
  }
  return out;
}

Rendered render(const Template& t, const Placeholders& values) {
  Rendered r;
  r.subject = substitute(t.subject, values);
  // a subject is one header line
  for (auto& ch : r.subject) {
    if (ch == '\r' || ch == '\n') ch = ' ';
  }
  r.html = std::string(kLayoutHead) + substitute(t.body, values) + std::string(kLayoutTail);
  return r;
}

}  // namespace plinth::mail
