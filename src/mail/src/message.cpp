#include "plinth/mail/message.hpp"

#include <array>
#include <cctype>
#include <ctime>

#include "plinth/util/random.hpp"

namespace plinth::mail {
namespace json = boost::json;

namespace {

std::string base64(std::string_view in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    auto n = (static_cast<unsigned char>(in[i]) << 16) |
             (static_cast<unsigned char>(in[i + 1]) << 8) | static_cast<unsigned char>(in[i + 2]);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += kAlphabet[n & 63];
  }
  if (i < in.size()) {
    unsigned n = static_cast<unsigned char>(in[i]) << 16;
    if (i + 1 < in.size()) n |= static_cast<unsigned char>(in[i + 1]) << 8;
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += i + 1 < in.size() ? kAlphabet[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

bool plain_header_text(std::string_view s) {
  for (unsigned char c : s) {
    if (c < 0x20 || c >= 0x7f) return false;
  }
  return s.find("=?") == std::string_view::npos;
}

// RFC 2047 "encoded-word" when the text is not plain printable ASCII.
std::string header_text(std::string_view s) {
  if (plain_header_text(s)) return std::string(s);
  return "=?UTF-8?B?" + base64(s) + "?=";
}

std::string display_name(std::string_view name) {
  if (!plain_header_text(name)) return header_text(name);
  std::string out = "\"";
  for (char c : name) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string format_address(const Address& a) {
  if (a.name.empty()) return "<" + a.address + ">";
  return display_name(a.name) + " <" + a.address + ">";
}

// Quoted-printable (RFC 2045 6.7) with CRLF hard line breaks and soft breaks
// keeping every line within 76 characters. A leading '.' is encoded too, so no
// line of the body can end the SMTP DATA phase.
std::string quoted_printable(std::string_view in) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  std::size_t line = 0;
  auto put = [&](std::string_view piece) {
    if (line + piece.size() > 75) {
      out += "=\r\n";
      line = 0;
    }
    out += piece;
    line += piece.size();
  };
  for (std::size_t i = 0; i < in.size(); ++i) {
    auto c = static_cast<unsigned char>(in[i]);
    if (c == '\r' && i + 1 < in.size() && in[i + 1] == '\n') continue;
    if (c == '\n') {
      out += "\r\n";
      line = 0;
      continue;
    }
    bool at_line_end = i + 1 == in.size() || in[i + 1] == '\n' || in[i + 1] == '\r';
    bool literal = (c >= 33 && c <= 126 && c != '=') || ((c == ' ' || c == '\t') && !at_line_end);
    if (c == '.' && line == 0) literal = false;
    if (literal) {
      char ch = static_cast<char>(c);
      put(std::string_view(&ch, 1));
    } else {
      char enc[3] = {'=', kHex[c >> 4], kHex[c & 15]};
      put(std::string_view(enc, 3));
    }
  }
  return out;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string str(const json::object& o, std::string_view k) {
  auto* v = o.if_contains(k);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

}  // namespace

bool valid_address(std::string_view a) {
  if (a.empty() || a.size() > 254) return false;
  auto at = a.rfind('@');
  if (at == std::string_view::npos || at == 0 || at + 1 == a.size()) return false;
  for (unsigned char c : a) {
    if (c <= 0x20 || c == 0x7f || c == '<' || c == '>' || c == ',' || c == '"' || c == '\\')
      return false;
  }
  return a.find('@') == at;
}

json::object to_json(const Message& m) {
  json::array to;
  for (const auto& a : m.to) to.push_back(json::object{{"name", a.name}, {"address", a.address}});
  return json::object{{"from", json::object{{"name", m.from.name}, {"address", m.from.address}}},
                      {"to", std::move(to)},
                      {"subject", m.subject},
                      {"html", m.html},
                      {"text", m.text}};
}

std::optional<Message> message_from_json(const json::object& o) {
  Message m;
  auto* from = o.if_contains("from");
  auto* to = o.if_contains("to");
  if (!from || !from->is_object() || !to || !to->is_array()) return std::nullopt;
  m.from = {str(from->get_object(), "name"), str(from->get_object(), "address")};
  for (const auto& v : to->get_array()) {
    if (!v.is_object()) return std::nullopt;
    m.to.push_back({str(v.get_object(), "name"), str(v.get_object(), "address")});
  }
  m.subject = str(o, "subject");
  m.html = str(o, "html");
  m.text = str(o, "text");
  if (m.to.empty()) return std::nullopt;
  return m;
}

std::string html_to_text(std::string_view html) {
  std::string out;
  std::string pending_href;
  std::size_t i = 0;
  auto newline = [&] {
    while (!out.empty() && out.back() == ' ') out.pop_back();
    if (!out.empty() && out.back() != '\n') out += '\n';
  };
  while (i < html.size()) {
    char c = html[i];
    if (c == '<') {
      auto end = html.find('>', i);
      if (end == std::string_view::npos) break;
      std::string tag = lower(html.substr(i + 1, end - i - 1));
      i = end + 1;
      bool closing = !tag.empty() && tag[0] == '/';
      std::string name = tag.substr(closing ? 1 : 0);
      name = name.substr(0, name.find_first_of(" \t\r\n/"));
      if (name == "style" || name == "script" || name == "head") {
        if (!closing) {
          auto close = lower(html.substr(i)).find("</" + name);
          i = close == std::string::npos ? html.size() : i + close;
        }
        continue;
      }
      if (name == "br") {
        out += '\n';
      } else if (name == "p" || name == "div" || name == "tr" || name == "li" || name == "h1" ||
                 name == "h2" || name == "h3" || name == "table") {
        newline();
        if (closing && name == "p") out += '\n';
      } else if (name == "a" && !closing) {
        // keep the href (attribute values keep their case)
        std::string_view raw = html.substr(0, end);
        raw = raw.substr(raw.rfind('<'));
        auto h = lower(raw).find("href=");
        pending_href.clear();
        if (h != std::string::npos && h + 5 < raw.size()) {
          char q = raw[h + 5];
          auto start = h + ((q == '"' || q == '\'') ? 6 : 5);
          auto stop = (q == '"' || q == '\'') ? raw.find(q, start) : raw.find_first_of(" >", start);
          pending_href = std::string(raw.substr(
              start, stop == std::string_view::npos ? std::string_view::npos : stop - start));
        }
      } else if (name == "a" && closing && !pending_href.empty()) {
        out += " (" + pending_href + ")";
        pending_href.clear();
      }
      continue;
    }
    if (c == '&') {
      static constexpr std::array<std::pair<std::string_view, std::string_view>, 7> kEntities{{
          {"&amp;", "&"},
          {"&lt;", "<"},
          {"&gt;", ">"},
          {"&quot;", "\""},
          {"&#39;", "'"},
          {"&#34;", "\""},
          {"&nbsp;", " "},
      }};
      bool done = false;
      for (const auto& [e, r] : kEntities) {
        if (html.substr(i, e.size()) == e) {
          out += r;
          i += e.size();
          done = true;
          break;
        }
      }
      if (done) continue;
    }
    if (c == '\r' || c == '\n' || c == '\t' || c == ' ') {
      if (!out.empty() && out.back() != ' ' && out.back() != '\n') out += ' ';
      ++i;
      continue;
    }
    out += c;
    ++i;
  }
  // trim every line and collapse runs of blank lines
  std::string clean;
  std::size_t start = 0;
  int blanks = 0;
  while (start <= out.size()) {
    auto nl = out.find('\n', start);
    std::string l = out.substr(start, nl == std::string::npos ? std::string::npos : nl - start);
    auto b = l.find_first_not_of(' ');
    auto e = l.find_last_not_of(' ');
    l = b == std::string::npos ? std::string() : l.substr(b, e - b + 1);
    if (l.empty()) {
      if (++blanks == 1 && !clean.empty()) clean += '\n';
    } else {
      blanks = 0;
      clean += l + '\n';
    }
    if (nl == std::string::npos) break;
    start = nl + 1;
  }
  while (!clean.empty() && clean.back() == '\n') clean.pop_back();
  return clean;
}

std::string to_mime(const Message& m, std::string_view date, std::string_view message_id) {
  std::string boundary = "plinth-" + util::random_hex(8);
  std::string to;
  for (const auto& a : m.to) {
    if (!to.empty()) to += ", ";
    to += format_address(a);
  }
  std::string out;
  out += "From: " + format_address(m.from) + "\r\n";
  out += "To: " + to + "\r\n";
  out += "Subject: " + header_text(m.subject) + "\r\n";
  out += "Date: " + std::string(date) + "\r\n";
  out += "Message-ID: " + std::string(message_id) + "\r\n";
  out += "MIME-Version: 1.0\r\n";
  out += "Content-Type: multipart/alternative; boundary=\"" + boundary + "\"\r\n";
  out += "\r\n";
  out += "--" + boundary + "\r\n";
  out += "Content-Type: text/plain; charset=UTF-8\r\n";
  out += "Content-Transfer-Encoding: quoted-printable\r\n\r\n";
  out += quoted_printable(m.text.empty() ? html_to_text(m.html) : m.text) + "\r\n";
  out += "--" + boundary + "\r\n";
  out += "Content-Type: text/html; charset=UTF-8\r\n";
  out += "Content-Transfer-Encoding: quoted-printable\r\n\r\n";
  out += quoted_printable(m.html) + "\r\n";
  out += "--" + boundary + "--\r\n";
  return out;
}

std::string rfc5322_now() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  char buf[64];
  (void)std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d +0000", kDays[tm.tm_wday],
                      tm.tm_mday, kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                      tm.tm_sec);
  return buf;
}

}  // namespace plinth::mail
