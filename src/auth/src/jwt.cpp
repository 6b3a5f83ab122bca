#include "plinth/auth/jwt.hpp"

#include <openssl/crypto.h>

#include <array>
#include <cstdint>
#include <stdexcept>

#include "plinth/auth/secrets.hpp"

namespace plinth::auth {
namespace {

constexpr std::string_view kHs256HeaderJson = R"({"alg":"HS256","typ":"JWT"})";
constexpr std::size_t kHs256Bytes = 32;
constexpr std::string_view kBase64UrlAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

constexpr std::array<std::int8_t, 256> kBase64UrlValues = [] {
  std::array<std::int8_t, 256> table{};
  table.fill(-1);
  for (std::size_t i = 0; i < kBase64UrlAlphabet.size(); ++i) {
    table[static_cast<unsigned char>(kBase64UrlAlphabet[i])] = static_cast<std::int8_t>(i);
  }
  return table;
}();

// The three segments of a compact JWS, still encoded.
struct Segments {
  std::string_view header;
  std::string_view payload;
  std::string_view signature;
  std::string_view signing_input;  // "header.payload"
};

std::optional<Segments> split_token(std::string_view token) {
  if (token.size() > kMaxTokenBytes) return std::nullopt;
  const auto first = token.find('.');
  if (first == std::string_view::npos) return std::nullopt;
  const auto second = token.find('.', first + 1);
  if (second == std::string_view::npos) return std::nullopt;
  if (token.find('.', second + 1) != std::string_view::npos) return std::nullopt;
  Segments s;
  s.header = token.substr(0, first);
  s.payload = token.substr(first + 1, second - first - 1);
  s.signature = token.substr(second + 1);
  s.signing_input = token.substr(0, second);
  if (s.header.empty() || s.payload.empty()) return std::nullopt;
  return s;
}

// A strict RFC 8259 reader for one JOSE header object. Only the top-level
// "alg" member is kept; everything else is validated and skipped. Keys are
// compared after unescaping, so "a\u006cg" counts as "alg" and cannot be used
// to smuggle a second algorithm past a duplicate check.
class HeaderReader {
 public:
  explicit HeaderReader(std::string_view text) : in_(text) {}

  std::optional<std::string> read_alg() {
    skip_ws();
    if (!consume('{')) return std::nullopt;
    std::optional<std::string> alg;
    skip_ws();
    if (!consume('}')) {
      do {
        skip_ws();
        std::string key;
        if (!read_string(&key)) return std::nullopt;
        skip_ws();
        if (!consume(':')) return std::nullopt;
        skip_ws();
        if (key == "alg") {
          if (alg.has_value()) return std::nullopt;  // duplicate
          std::string value;
          if (!read_string(&value)) return std::nullopt;  // missing or non-string
          alg = std::move(value);
        } else if (!skip_value(1)) {
          return std::nullopt;
        }
        skip_ws();
      } while (consume(','));
      if (!consume('}')) return std::nullopt;
    }
    skip_ws();
    if (pos_ != in_.size()) return std::nullopt;  // trailing bytes
    return alg;
  }

 private:
  static constexpr int kMaxDepth = 16;

  bool at_end() const { return pos_ >= in_.size(); }
  char peek() const { return in_[pos_]; }

  bool consume(char c) {
    if (at_end() || peek() != c) return false;
    ++pos_;
    return true;
  }

  bool consume_word(std::string_view word) {
    if (in_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }

  void skip_ws() {
    while (!at_end() && (peek() == ' ' || peek() == '\t' || peek() == '\n' || peek() == '\r')) {
      ++pos_;
    }
  }

  bool read_hex4(std::uint32_t& out) {
    if (in_.size() - pos_ < 4) return false;
    out = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = in_[pos_++];
      std::uint32_t digit = 0;
      if (c >= '0' && c <= '9') {
        digit = static_cast<std::uint32_t>(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        digit = static_cast<std::uint32_t>(c - 'a' + 10);
      } else if (c >= 'A' && c <= 'F') {
        digit = static_cast<std::uint32_t>(c - 'A' + 10);
      } else {
        return false;
      }
      out = (out << 4) | digit;
    }
    return true;
  }

  static void append_utf8(std::string& out, std::uint32_t cp) {
    if (cp < 0x80) {
      out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }

  // Reads a \uXXXX escape (the "\u" already consumed), pairing surrogates.
  bool read_unicode_escape(std::string* out) {
    std::uint32_t cp = 0;
    if (!read_hex4(cp)) return false;
    if (cp >= 0xDC00 && cp <= 0xDFFF) return false;  // lone low surrogate
    if (cp >= 0xD800 && cp <= 0xDBFF) {
      std::uint32_t low = 0;
      if (!consume('\\') || !consume('u') || !read_hex4(low)) return false;
      if (low < 0xDC00 || low > 0xDFFF) return false;
      cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
    }
    if (out != nullptr) append_utf8(*out, cp);
    return true;
  }

  // Reads a JSON string; stores the unescaped bytes when `out` is non-null.
  bool read_string(std::string* out) {
    if (!consume('"')) return false;
    while (!at_end()) {
      const char c = in_[pos_++];
      if (c == '"') return true;
      if (static_cast<unsigned char>(c) < 0x20) return false;
      if (c != '\\') {
        if (out != nullptr) out->push_back(c);
        continue;
      }
      if (at_end()) return false;
      const char e = in_[pos_++];
      char decoded = 0;
      switch (e) {
        case '"': decoded = '"'; break;
        case '\\': decoded = '\\'; break;
        case '/': decoded = '/'; break;
        case 'b': decoded = '\b'; break;
        case 'f': decoded = '\f'; break;
        case 'n': decoded = '\n'; break;
        case 'r': decoded = '\r'; break;
        case 't': decoded = '\t'; break;
        case 'u':
          if (!read_unicode_escape(out)) return false;
          continue;
        default: return false;
      }
      if (out != nullptr) out->push_back(decoded);
    }
    return false;  // unterminated
  }

  bool skip_digits() {
    const std::size_t start = pos_;
    while (!at_end() && peek() >= '0' && peek() <= '9') ++pos_;
    return pos_ > start;
  }

  bool skip_number() {
    consume('-');
    if (consume('0')) {
      // A leading zero may not be followed by more digits.
    } else if (!skip_digits()) {
      return false;
    }
    if (consume('.') && !skip_digits()) return false;
    if (consume('e') || consume('E')) {
      if (!consume('+')) consume('-');
      if (!skip_digits()) return false;
    }
    return true;
  }

  bool skip_value(int depth) {
    if (depth > kMaxDepth || at_end()) return false;
    switch (peek()) {
      case '"': return read_string(nullptr);
      case '{': return skip_container('}', depth, true);
      case '[': return skip_container(']', depth, false);
      case 't': return consume_word("true");
      case 'f': return consume_word("false");
      case 'n': return consume_word("null");
      default: return skip_number();
    }
  }

  bool skip_container(char close, int depth, bool is_object) {
    ++pos_;  // opening bracket
    skip_ws();
    if (consume(close)) return true;
    do {
      skip_ws();
      if (is_object) {
        if (!read_string(nullptr)) return false;
        skip_ws();
        if (!consume(':')) return false;
        skip_ws();
      }
      if (!skip_value(depth + 1)) return false;
      skip_ws();
    } while (consume(','));
    return consume(close);
  }

  std::string_view in_;
  std::size_t pos_ = 0;
};

}  // namespace

std::string base64url_encode(std::string_view data) {
  const auto* in = reinterpret_cast<const unsigned char*>(data.data());
  const std::size_t n = data.size(), whole = n / 3 * 3, rest = n - whole;
  std::string out(n / 3 * 4 + (rest ? rest + 1 : 0), '\0');
  char* o = out.data();
  // Three bytes make four characters; a tail of one or two bytes makes two or three.
  for (std::size_t i = 0; i < whole; i += 3) {
    const std::uint32_t v =
        (std::uint32_t{in[i]} << 16) | (std::uint32_t{in[i + 1]} << 8) | in[i + 2];
    *o++ = kBase64UrlAlphabet[v >> 18];
    *o++ = kBase64UrlAlphabet[(v >> 12) & 0x3F];
    *o++ = kBase64UrlAlphabet[(v >> 6) & 0x3F];
    *o++ = kBase64UrlAlphabet[v & 0x3F];
  }
  if (rest) {
    const std::uint32_t v =
        (std::uint32_t{in[whole]} << 16) | (rest == 2 ? std::uint32_t{in[whole + 1]} << 8 : 0U);
    *o++ = kBase64UrlAlphabet[v >> 18];
    *o++ = kBase64UrlAlphabet[(v >> 12) & 0x3F];
    if (rest == 2) *o++ = kBase64UrlAlphabet[(v >> 6) & 0x3F];
  }
  return out;
}

std::optional<std::string> base64url_decode(std::string_view text) {
  // One leftover character carries only 6 bits: no encoder produces that.
  const std::size_t n = text.size(), whole = n / 4 * 4, rest = n - whole;
  if (rest == 1) return std::nullopt;
  const auto* in = reinterpret_cast<const unsigned char*>(text.data());
  std::string out(n / 4 * 3 + (rest ? rest - 1 : 0), '\0');
  char* o = out.data();
  auto value = [](unsigned char c) { return static_cast<std::int32_t>(kBase64UrlValues[c]); };
  for (std::size_t i = 0; i < whole; i += 4) {
    const std::int32_t a = value(in[i]), b = value(in[i + 1]), c = value(in[i + 2]),
                       d = value(in[i + 3]);
    if ((a | b | c | d) < 0) return std::nullopt;  // a character outside the alphabet
    const auto v = static_cast<std::uint32_t>((a << 18) | (b << 12) | (c << 6) | d);
    *o++ = static_cast<char>(v >> 16);
    *o++ = static_cast<char>((v >> 8) & 0xFF);
    *o++ = static_cast<char>(v & 0xFF);
  }
  if (rest) {
    const std::int32_t a = value(in[whole]), b = value(in[whole + 1]),
                       c = rest == 3 ? value(in[whole + 2]) : 0;
    if ((a | b | c) < 0) return std::nullopt;
    const auto v = static_cast<std::uint32_t>((a << 18) | (b << 12) | (c << 6));
    // Non-zero padding bits would give one payload several spellings (and let a
    // signature be "flipped" without changing its bytes).
    if ((rest == 2 ? v & 0xFFFF : v & 0xFF) != 0) return std::nullopt;
    *o++ = static_cast<char>(v >> 16);
    if (rest == 3) *o++ = static_cast<char>((v >> 8) & 0xFF);
  }
  return out;
}

std::string sign_hs256(std::string_view payload_json, std::string_view key) {
  if (key.empty()) throw std::invalid_argument("sign_hs256: empty key");
  std::string token = base64url_encode(kHs256HeaderJson);
  token.push_back('.');
  token += base64url_encode(payload_json);
  const std::string mac = hmac_sha256(key, token);
  token.push_back('.');
  token += base64url_encode(mac);
  return token;
}

std::optional<JwtParts> decode_unverified(std::string_view token) {
  const auto segments = split_token(token);
  if (!segments) return std::nullopt;
  auto header = base64url_decode(segments->header);
  auto payload = base64url_decode(segments->payload);
  auto signature = base64url_decode(segments->signature);
  if (!header || !payload || !signature) return std::nullopt;
  return JwtParts{std::move(*header), std::move(*payload), std::move(*signature),
                  std::string(segments->signing_input)};
}

std::optional<std::string> header_alg(std::string_view header_json) {
  return HeaderReader(header_json).read_alg();
}

bool verify_hs256(std::string_view token, std::string_view key) {
  if (key.empty()) return false;
  const auto segments = split_token(token);
  if (!segments) return false;
  const auto header = base64url_decode(segments->header);
  if (!header || header_alg(*header) != "HS256") return false;
  if (!base64url_decode(segments->payload)) return false;
  const auto signature = base64url_decode(segments->signature);
  if (!signature || signature->size() != kHs256Bytes) return false;
  const std::string expected = hmac_sha256(key, segments->signing_input);
  return CRYPTO_memcmp(expected.data(), signature->data(), kHs256Bytes) == 0;
}

bool verify_hs256(const JwtParts& parts, std::string_view key) {
  if (key.empty() || parts.signature.size() != kHs256Bytes) return false;
  if (header_alg(parts.header_json) != "HS256") return false;
  const std::string expected = hmac_sha256(key, parts.signing_input);
  return CRYPTO_memcmp(expected.data(), parts.signature.data(), kHs256Bytes) == 0;
}

}  // namespace plinth::auth
