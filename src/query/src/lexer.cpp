// The lexer follows fexpr's scanner rune for rune (identifier, number, text
// and sign shapes, quote escaping, function arguments), with two deliberate
// differences: '\r' counts as whitespace, and NUL bytes or invalid UTF-8 are
// errors instead of being read as end of input / U+FFFD.

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "plinth/query/syntax.hpp"

namespace plinth::query {
namespace {

bool is_letter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}
bool is_special_start(char c) {
  return c == '@' || c == '_' || c == '#';
}
bool is_identifier_start(char c) {
  return is_letter(c) || is_special_start(c);
}
bool is_combine(char c) {
  return c == '.' || c == ':';
}
bool is_identifier_char(char c) {
  return is_letter(c) || is_digit(c) || c == '_' || is_combine(c);
}
bool is_number_start(char c) {
  return c == '-' || is_digit(c);
}
bool is_quote(char c) {
  return c == '\'' || c == '"';
}
bool is_sign_char(char c) {
  return c == '=' || c == '?' || c == '!' || c == '>' || c == '<' || c == '~';
}
bool is_join_char(char c) {
  return c == '&' || c == '|';
}

bool valid_identifier(std::string_view s) {
  if (s.empty() || is_combine(s.back())) return false;
  return !(s.size() == 1 && is_special_start(s[0]));
}

// Position of the first byte that is not part of well-formed UTF-8 (or is NUL).
std::size_t invalid_utf8_at(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c == 0) return i;
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t n = 0;
    std::uint32_t cp = 0;
    if ((c & 0xE0) == 0xC0) {
      n = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return i;
    }
    if (i + n >= s.size()) return i;  // truncated sequence
    for (std::size_t k = 1; k <= n; ++k) {
      auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return i;
      cp = (cp << 6) | (cc & 0x3F);
    }
    bool overlong = (n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000);
    if (overlong || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return i;
    i += n + 1;
  }
  return std::string_view::npos;
}

Error error_at(std::size_t pos, std::string message) {
  return Error{std::move(message), pos};
}

std::string quoted(std::string_view s) {
  std::string out = "\"";
  out += s;
  out += '"';
  return out;
}

std::optional<SignOp> parse_sign(std::string_view s) {
  static constexpr std::pair<std::string_view, SignOp> kSigns[] = {
      {"=", SignOp::eq},        {"!=", SignOp::neq},      {"~", SignOp::like},
      {"!~", SignOp::nlike},    {"<", SignOp::lt},        {"<=", SignOp::lte},
      {">", SignOp::gt},        {">=", SignOp::gte},      {"?=", SignOp::any_eq},
      {"?!=", SignOp::any_neq}, {"?~", SignOp::any_like}, {"?!~", SignOp::any_nlike},
      {"?<", SignOp::any_lt},   {"?<=", SignOp::any_lte}, {"?>", SignOp::any_gt},
      {"?>=", SignOp::any_gte}};
  for (const auto& [text, op] : kSigns) {
    if (text == s) return op;
  }
  return std::nullopt;
}

}  // namespace

std::string_view sign_text(SignOp op) {
  switch (op) {
    case SignOp::eq: return "=";
    case SignOp::neq: return "!=";
    case SignOp::like: return "~";
    case SignOp::nlike: return "!~";
    case SignOp::lt: return "<";
    case SignOp::lte: return "<=";
    case SignOp::gt: return ">";
    case SignOp::gte: return ">=";
    case SignOp::any_eq: return "?=";
    case SignOp::any_neq: return "?!=";
    case SignOp::any_like: return "?~";
    case SignOp::any_nlike: return "?!~";
    case SignOp::any_lt: return "?<";
    case SignOp::any_lte: return "?<=";
    case SignOp::any_gt: return "?>";
    case SignOp::any_gte: return "?>=";
  }
  return "?";
}

bool is_any_op(SignOp op) {
  switch (op) {
    case SignOp::any_eq:
    case SignOp::any_neq:
    case SignOp::any_like:
    case SignOp::any_nlike:
    case SignOp::any_lt:
    case SignOp::any_lte:
    case SignOp::any_gt:
    case SignOp::any_gte: return true;
    default: return false;
  }
}

std::variant<Token, Error> Lexer::next() {
  if (!validated_) {
    if (auto bad = invalid_utf8_at(text_); bad != std::string_view::npos) {
      return error_at(bad, text_[bad] == '\0' ? "unexpected NUL byte" : "invalid UTF-8");
    }
    validated_ = true;
  }
  for (;;) {
    while (pos_ < text_.size() && is_space(text_[pos_])) ++pos_;
    if (pos_ >= text_.size()) return Token{TokenKind::end, text_.size(), {}, SignOp::eq};
    if (text_[pos_] != '/') break;
    auto r = skip_comment();
    if (auto* e = std::get_if<Error>(&r)) return *e;
  }
  char c = text_[pos_];
  std::size_t start = pos_;
  auto operand_token = [&](std::variant<Operand, Error> r) -> std::variant<Token, Error> {
    if (auto* e = std::get_if<Error>(&r)) return *e;
    return Token{TokenKind::operand, start, std::move(std::get<Operand>(r)), SignOp::eq};
  };
  if (c == '(') {
    ++pos_;
    return Token{TokenKind::lparen, start, {}, SignOp::eq};
  }
  if (c == ')') {
    ++pos_;
    return Token{TokenKind::rparen, start, {}, SignOp::eq};
  }
  if (is_identifier_start(c)) return operand_token(scan_identifier_or_function(kMaxFunctionDepth));
  if (is_number_start(c)) return operand_token(scan_number());
  if (is_quote(c)) return operand_token(scan_text());
  if (is_sign_char(c)) return scan_sign();
  if (is_join_char(c)) return scan_join();
  if (static_cast<unsigned char>(c) >= 0x80)
    return error_at(start, "unexpected non-ASCII character");
  return error_at(start, "unexpected character " + quoted(std::string_view(&c, 1)));
}

std::variant<std::monostate, Error> Lexer::skip_comment() {
  std::size_t start = pos_;
  if (pos_ + 1 >= text_.size() || text_[pos_ + 1] != '/') {
    return error_at(start, "invalid comment (expected //)");
  }
  while (pos_ < text_.size() && text_[pos_] != '\n') ++pos_;
  return std::monostate{};
}

std::variant<Operand, Error> Lexer::scan_identifier_or_function(std::size_t function_depth) {
  std::size_t start = pos_;
  ++pos_;  // the start character
  while (pos_ < text_.size() && is_identifier_char(text_[pos_])) ++pos_;
  std::string literal(text_.substr(start, pos_ - start));
  if (pos_ < text_.size() && text_[pos_] == '(') {
    if (function_depth == 0) {
      return error_at(
          start, "functions nested too deeply (max " + std::to_string(kMaxFunctionDepth) + ")");
    }
    if (!valid_identifier(literal))
      return error_at(start, "invalid function name " + quoted(literal));
    Operand fn{Operand::Kind::function, std::move(literal), start, {}};
    return scan_function_args(std::move(fn), function_depth);
  }
  if (!valid_identifier(literal)) return error_at(start, "invalid identifier " + quoted(literal));
  return Operand{Operand::Kind::identifier, std::move(literal), start, {}};
}

std::variant<Operand, Error> Lexer::scan_number() {
  std::size_t start = pos_;
  bool had_dot = false;
  while (pos_ < text_.size()) {
    char c = text_[pos_];
    if (is_digit(c) || (c == '-' && pos_ == start) || (c == '.' && !had_dot)) {
      had_dot = had_dot || c == '.';
      ++pos_;
      continue;
    }
    break;
  }
  std::string literal(text_.substr(start, pos_ - start));
  if (literal == "-" || literal.back() == '.' || literal.front() == '.') {
    return error_at(start, "invalid number " + quoted(literal));
  }
  return Operand{Operand::Kind::number, std::move(literal), start, {}};
}

std::variant<Operand, Error> Lexer::scan_text() {
  std::size_t start = pos_;
  char quote = text_[pos_++];
  char prev = 0;
  std::string raw;
  bool closed = false;
  while (pos_ < text_.size()) {
    char c = text_[pos_++];
    if (c == quote && prev != '\\') {
      closed = true;
      break;
    }
    raw += c;
    prev = c;
  }
  if (!closed) return error_at(start, "unterminated quoted text");
  // Only an escaped quote of the same kind is an escape; other backslashes stay.
  std::string value;
  value.reserve(raw.size());
  for (std::size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] == '\\' && i + 1 < raw.size() && raw[i + 1] == quote) {
      value += quote;
      ++i;
    } else {
      value += raw[i];
    }
  }
  return Operand{Operand::Kind::text, std::move(value), start, {}};
}

std::variant<Operand, Error> Lexer::scan_function_args(Operand fn, std::size_t function_depth) {
  ++pos_;  // '('
  bool expect_comma = false;
  for (;;) {
    if (pos_ >= text_.size()) {
      return error_at(fn.position, "incomplete function " + quoted(fn.text) + " (expected ')')");
    }
    char c = text_[pos_];
    if (c == ')') {
      ++pos_;
      return fn;
    }
    if (is_space(c)) {
      ++pos_;
      continue;
    }
    if (c == '/') {
      auto r = skip_comment();
      if (auto* e = std::get_if<Error>(&r)) return *e;
      continue;
    }
    bool comma = c == ',';
    if (expect_comma != comma) {
      return error_at(
          pos_, comma ? "unexpected comma in function " + quoted(fn.text)
                      : "expected comma after the last argument in function " + quoted(fn.text));
    }
    expect_comma = false;
    if (comma) {
      ++pos_;
      continue;
    }
    std::variant<Operand, Error> arg;
    if (is_identifier_start(c)) {
      arg = scan_identifier_or_function(function_depth - 1);
    } else if (is_number_start(c)) {
      arg = scan_number();
    } else if (is_quote(c)) {
      arg = scan_text();
    } else {
      return error_at(pos_, "unsupported argument character in function " + quoted(fn.text));
    }
    if (auto* e = std::get_if<Error>(&arg)) return *e;
    fn.args.push_back(std::move(std::get<Operand>(arg)));
    expect_comma = true;
  }
}

std::variant<Token, Error> Lexer::scan_sign() {
  std::size_t start = pos_;
  while (pos_ < text_.size() && is_sign_char(text_[pos_])) ++pos_;
  auto literal = text_.substr(start, pos_ - start);
  auto op = parse_sign(literal);
  if (!op) return error_at(start, "invalid sign operator " + quoted(literal));
  return Token{TokenKind::sign, start, {}, *op};
}

std::variant<Token, Error> Lexer::scan_join() {
  std::size_t start = pos_;
  while (pos_ < text_.size() && is_join_char(text_[pos_])) ++pos_;
  auto literal = text_.substr(start, pos_ - start);
  if (literal == "&&") return Token{TokenKind::join_and, start, {}, SignOp::eq};
  if (literal == "||") return Token{TokenKind::join_or, start, {}, SignOp::eq};
  return error_at(start, "invalid join operator " + quoted(literal));
}

std::variant<std::vector<Token>, Error> tokenize(std::string_view text) {
  Lexer lexer(text);
  std::vector<Token> out;
  for (;;) {
    auto r = lexer.next();
    if (auto* e = std::get_if<Error>(&r)) return *e;
    out.push_back(std::move(std::get<Token>(r)));
    if (out.back().kind == TokenKind::end) return out;
  }
}

}  // namespace plinth::query
