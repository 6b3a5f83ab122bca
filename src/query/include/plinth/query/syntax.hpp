#pragma once
// The filter language's syntax, without any schema knowledge: tokens, the
// lexer and the parser, which produces an AST whose nodes carry byte positions
// into the source text. The grammar is PocketBase's (github.com/ganigeorgiev/fexpr):
//
//   expr       := and ( '||' and )*
//   and        := primary ( '&&' primary )*
//   primary    := '(' expr ')' | operand SIGN operand
//   operand    := identifier | number | 'text' | "text" | name '(' args ')'
//
// `&&` binds tighter than `||`, as in SQL. `//` starts a comment to the end of
// the line. The parser is iterative: nesting is bounded by Limits::max_depth,
// never by the C++ stack.

#include <cstddef>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace plinth::query {

// A failure to compile; `position` is a byte offset into the expression. The
// API maps it to a 400.
struct Error {
  std::string message;
  std::size_t position = 0;
};

struct Limits {
  std::size_t max_length = 3500;      // bytes of filter text (PocketBase's MaxFilterLength)
  std::size_t max_depth = 64;         // nested parentheses
  std::size_t max_expressions = 200;  // comparisons per filter (DefaultFilterExprLimit)
  std::size_t max_joins = 30;         // LEFT JOINs added to the main query
  std::size_t max_params = 5000;      // bound parameters in the whole compiled query
  std::size_t max_sort_fields = 8;    // DefaultSortExprLimit
  std::size_t max_sort_length = 255;  // bytes of one sort field (MaxSortFieldLength)
};

// Hard ceiling on nesting regardless of Limits, so that SQL generation (which
// recurses over the AST) has a bounded stack depth.
inline constexpr std::size_t kHardMaxDepth = 1000;
// fexpr's limit on functions nested in function arguments.
inline constexpr std::size_t kMaxFunctionDepth = 3;

enum class SignOp {
  eq,
  neq,
  like,
  nlike,
  lt,
  lte,
  gt,
  gte,
  any_eq,
  any_neq,
  any_like,
  any_nlike,
  any_lt,
  any_lte,
  any_gt,
  any_gte
};

std::string_view sign_text(SignOp op);
bool is_any_op(SignOp op);

struct Operand {
  enum class Kind { identifier, number, text, function };
  Kind kind = Kind::identifier;
  std::string text;  // identifier or function name; number literal; unescaped text
  std::size_t position = 0;
  std::vector<Operand> args;  // function arguments
};

enum class TokenKind { operand, sign, join_and, join_or, lparen, rparen, end };

struct Token {
  TokenKind kind = TokenKind::end;
  std::size_t position = 0;
  Operand operand;  // TokenKind::operand
  SignOp sign = SignOp::eq;
};

// Produces tokens one at a time, skipping whitespace and comments. The input
// must outlive the lexer. Invalid UTF-8 and NUL bytes are errors.
class Lexer {
 public:
  explicit Lexer(std::string_view text) : text_(text) {}
  std::variant<Token, Error> next();

 private:
  std::variant<Operand, Error> scan_identifier_or_function(std::size_t function_depth);
  std::variant<Operand, Error> scan_number();
  std::variant<Operand, Error> scan_text();
  std::variant<Operand, Error> scan_function_args(Operand fn, std::size_t function_depth);
  std::variant<Token, Error> scan_sign();
  std::variant<Token, Error> scan_join();
  std::variant<std::monostate, Error> skip_comment();

  std::string_view text_;
  std::size_t pos_ = 0;
  bool validated_ = false;
};

// All tokens up to and including `end` (for tests and tools).
std::variant<std::vector<Token>, Error> tokenize(std::string_view text);

struct Node {
  enum class Kind { comparison, all, any };  // all: `&&`, any: `||`
  Kind kind = Kind::comparison;
  std::size_t position = 0;
  SignOp op = SignOp::eq;
  Operand left, right;                // comparison
  std::vector<std::size_t> children;  // all/any: indexes into Ast::nodes, two or more
};

// Nodes live in one vector (no pointer tree, so no recursive destruction).
struct Ast {
  std::vector<Node> nodes;
  std::size_t root = 0;
  std::size_t comparisons = 0;
};

// Checks Limits::max_length, max_depth and max_expressions.
std::variant<Ast, Error> parse(std::string_view text, const Limits& limits);

// A compact S-expression of the tree, e.g. `(or (and [a = 1] [b ~ "x"]) [c != null])`.
std::string to_string(const Ast& ast);

}  // namespace plinth::query
