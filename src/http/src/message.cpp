#include "plinth/http/message.hpp"

#include "plinth/util/strings.hpp"

namespace plinth::http {

void Headers::Iterator::load() {
  if (at_ == end_) {
    next_ = end_;
    return;
  }
  // Every line was written by add(): "name: value\r\n", no colon in the name, no CR or LF.
  std::string_view rest(at_, static_cast<std::size_t>(end_ - at_));
  auto colon = rest.find(':');
  auto eol = rest.find('\r', colon);
  field_.name = rest.substr(0, colon);
  field_.value = rest.substr(colon + 2, eol - colon - 2);
  next_ = at_ + eol + 2;
}

namespace {

// Whether the field line starting at `line` is called `name` (ASCII case-insensitive): the
// name, then the colon that always follows it.
bool line_is(std::string_view line, std::string_view name) {
  return line.size() > name.size() && line[name.size()] == ':' &&
         util::iequals(line.substr(0, name.size()), name);
}

// Whether `s` holds a CR or LF (or, in a name, a colon). No branch per byte, so the loop
// vectorises: most names and values are clean.
bool needs_cleaning(std::string_view s, bool is_name) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  unsigned char colon = is_name ? ':' : '\r';
  unsigned hits = 0;
  for (std::size_t i = 0; i < s.size(); ++i)
    hits |= static_cast<unsigned>(p[i] == '\r') | static_cast<unsigned>(p[i] == '\n') |
            static_cast<unsigned>(p[i] == colon);
  return hits != 0;
}

}  // namespace

std::size_t Headers::find_line(std::string_view name) const {
  std::string_view text(text_);
  std::size_t at = 0;
  while (at < text.size()) {
    auto next = text.find('\n', at) + 1;
    if (line_is(text.substr(at, next - at - 2), name)) return at;  // the line without CR LF
    at = next;
  }
  return std::string_view::npos;
}

std::string_view Headers::get(std::string_view name) const {
  auto at = find_line(name);
  if (at == std::string_view::npos) return {};
  auto value = at + name.size() + 2;  // after "name: "
  return std::string_view(text_).substr(value, text_.find('\r', value) - value);
}

bool Headers::has(std::string_view name) const {
  return find_line(name) != std::string_view::npos;
}

bool Headers::is_framing(std::string_view name) {
  // Compared by length first: most names are none of the three.
  return (name.size() == 14 && util::iequals(name, "Content-Length")) ||
         (name.size() == 10 && util::iequals(name, "Connection")) ||
         (name.size() == 17 && util::iequals(name, "Transfer-Encoding"));
}

void Headers::set(std::string_view name, std::string_view value) {
  remove(name);
  add(name, value);
}

void Headers::add(std::string_view name, std::string_view value) {
  // A response gathers about ten fields through the middleware: room for them at once.
  if (text_.capacity() < 512) text_.reserve(512);
  auto append_clean = [this](std::string_view s, bool is_name) {
    std::size_t start = text_.size();
    text_.append(s);
    // The rare dirty text is cleaned in a second pass.
    if (!needs_cleaning(s, is_name)) return;
    for (std::size_t i = start; i < text_.size(); ++i) {
      char c = text_[i];
      if (c == '\r' || c == '\n' || (is_name && c == ':')) text_[i] = ' ';
    }
  };
  framing_ = framing_ || is_framing(name);
  append_clean(name, true);
  text_ += ": ";
  append_clean(value, false);
  text_ += "\r\n";
  ++count_;
}

void Headers::remove(std::string_view name) {
  std::size_t at = 0;
  while (at < text_.size()) {
    auto next = text_.find('\n', at) + 1;
    if (line_is(std::string_view(text_).substr(at, next - at - 2), name)) {
      text_.erase(at, next - at);
      --count_;
    } else {
      at = next;
    }
  }
}

void Headers::append_lines(std::string_view lines, std::size_t count) {
  if (text_.capacity() < 512) text_.reserve(512);
  text_ += lines;
  count_ += count;
}

void Request::reset_for_next() {
  method.clear();
  target.clear();
  path.clear();
  query.clear();
  headers.clear();
  if (body.capacity() > 64 * 1024)
    std::string().swap(body);
  else
    body.clear();
  version = 11;
  route_template = {};
  params.clear();
  request_id.clear();
  remote_ip.clear();
  trace = {};
}

std::string_view Request::param(std::string_view name) const {
  for (const auto& [k, v] : params) {
    if (k == name) return v;
  }
  return {};
}

std::optional<std::string> Request::query_param(std::string_view name) const {
  std::optional<std::string> out;
  util::each_part(query, '&', [&](std::string_view part) {
    if (part.empty()) return false;
    auto eq = part.find('=');
    auto key = part.substr(0, eq);
    // Most keys have nothing to decode: compared as they are, without a copy.
    bool match = key.find_first_of("%+") == std::string_view::npos ? key == name
                                                                   : util::url_decode(key) == name;
    if (!match) return false;
    out = eq == std::string_view::npos ? std::string() : util::url_decode(part.substr(eq + 1));
    return true;
  });
  return out;
}

Response Response::json(int status, std::string body) {
  Response r;
  r.status = status;
  r.headers.add("Content-Type", "application/json");
  r.body = std::move(body);
  return r;
}

Response Response::text(int status, std::string body, std::string_view content_type) {
  Response r;
  r.status = status;
  r.headers.add("Content-Type", content_type);
  r.body = std::move(body);
  return r;
}

void split_target(std::string_view target, std::string& path, std::string& query) {
  auto q = target.find('?');
  auto raw_path = target.substr(0, q);
  // An absolute-form target ("http://host/path") is reduced to its path.
  if (raw_path.starts_with("http://") || raw_path.starts_with("https://")) {
    auto slash = raw_path.find('/', raw_path.find("//") + 2);
    raw_path = slash == std::string_view::npos ? std::string_view("/") : raw_path.substr(slash);
  }
  util::url_decode_into(path, raw_path, false);
  if (q == std::string_view::npos)
    query.clear();
  else
    query.assign(target.substr(q + 1));
}

}  // namespace plinth::http
