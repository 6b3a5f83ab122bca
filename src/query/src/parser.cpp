// An iterative operator-precedence parser: one frame per open parenthesis on
// an explicit stack, so a 10k-deep `((((` costs a bounded error, not the C++
// stack. Unlike fexpr, a group is accepted only where an operand may start
// (fexpr silently drops a dangling operand before a group: `a (b = 1)`).

#include <string>

#include "plinth/query/syntax.hpp"

namespace plinth::query {
namespace {

struct Frame {
  std::size_t open_position = 0;
  std::vector<std::size_t> any_terms;  // finished `&&` chains, joined by `||`
  std::vector<std::size_t> all_terms;  // the current `&&` chain
};

class Parser {
 public:
  Parser(std::string_view text, const Limits& limits) : lexer_(text), limits_(limits) {}

  std::variant<Ast, Error> run(std::size_t text_size) {
    std::vector<Frame> frames(1);
    bool expect_operand = true;
    std::size_t max_depth = std::min(limits_.max_depth, kHardMaxDepth);
    for (;;) {
      auto next = lexer_.next();
      if (auto* e = std::get_if<Error>(&next)) return *e;
      auto tok = std::move(std::get<Token>(next));
      if (expect_operand) {
        switch (tok.kind) {
          case TokenKind::lparen:
            if (frames.size() > max_depth) {
              return Error{"expression nested too deeply (max " + std::to_string(max_depth) + ")",
                           tok.position};
            }
            frames.push_back(Frame{tok.position, {}, {}});
            continue;
          case TokenKind::operand: {
            auto r = comparison(std::move(tok));
            if (auto* e = std::get_if<Error>(&r)) return *e;
            frames.back().all_terms.push_back(std::get<std::size_t>(r));
            expect_operand = false;
            continue;
          }
          case TokenKind::rparen:
            if (frames.size() > 1 && frames.back().all_terms.empty() &&
                frames.back().any_terms.empty()) {
              return Error{"empty parentheses", frames.back().open_position};
            }
            return Error{"expected an operand, got ')'", tok.position};
          case TokenKind::end:
            if (frames.size() == 1 && ast_.nodes.empty()) {
              return Error{"empty filter expression", tok.position};
            }
            return Error{"incomplete filter expression", text_size};
          default:
            return Error{"expected left operand (identifier, function, text or number)",
                         tok.position};
        }
      }
      switch (tok.kind) {
        case TokenKind::join_and: expect_operand = true; continue;
        case TokenKind::join_or:
          close_chain(frames.back());
          expect_operand = true;
          continue;
        case TokenKind::rparen: {
          if (frames.size() == 1) return Error{"unexpected ')'", tok.position};
          auto node = close_frame(frames.back());
          frames.pop_back();
          frames.back().all_terms.push_back(node);
          continue;
        }
        case TokenKind::end: {
          if (frames.size() > 1) {
            return Error{"missing closing ')'", frames.back().open_position};
          }
          ast_.root = close_frame(frames.back());
          return std::move(ast_);
        }
        default: return Error{"expected && or ||", tok.position};
      }
    }
  }

 private:
  std::variant<std::size_t, Error> comparison(Token left) {
    auto sign = lexer_.next();
    if (auto* e = std::get_if<Error>(&sign)) return *e;
    auto& s = std::get<Token>(sign);
    if (s.kind != TokenKind::sign) return Error{"expected a sign operator", s.position};
    auto right = lexer_.next();
    if (auto* e = std::get_if<Error>(&right)) return *e;
    auto& r = std::get<Token>(right);
    if (r.kind != TokenKind::operand) {
      return Error{"expected right operand (identifier, function, text or number)", r.position};
    }
    if (++ast_.comparisons > limits_.max_expressions) {
      return Error{"too many expressions (max " + std::to_string(limits_.max_expressions) + ")",
                   left.position};
    }
    Node n;
    n.kind = Node::Kind::comparison;
    n.position = left.position;
    n.op = s.sign;
    n.left = std::move(left.operand);
    n.right = std::move(r.operand);
    ast_.nodes.push_back(std::move(n));
    return ast_.nodes.size() - 1;
  }

  std::size_t join(Node::Kind kind, std::vector<std::size_t>& terms) {
    if (terms.size() == 1) return terms.front();
    Node n;
    n.kind = kind;
    n.position = ast_.nodes[terms.front()].position;
    n.children = std::move(terms);
    ast_.nodes.push_back(std::move(n));
    return ast_.nodes.size() - 1;
  }

  void close_chain(Frame& f) {
    f.any_terms.push_back(join(Node::Kind::all, f.all_terms));
    f.all_terms.clear();
  }

  std::size_t close_frame(Frame& f) {
    close_chain(f);
    return join(Node::Kind::any, f.any_terms);
  }

  Lexer lexer_;
  const Limits& limits_;
  Ast ast_;
};

void append_operand(std::string& out, const Operand& o) {
  switch (o.kind) {
    case Operand::Kind::identifier:
    case Operand::Kind::number: out += o.text; break;
    case Operand::Kind::text:
      out += '"';
      for (char c : o.text) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
      }
      out += '"';
      break;
    case Operand::Kind::function:
      out += o.text;
      out += '(';
      for (std::size_t i = 0; i < o.args.size(); ++i) {
        if (i) out += ", ";
        append_operand(out, o.args[i]);
      }
      out += ')';
      break;
  }
}

void append_node(std::string& out, const Ast& ast, std::size_t index) {
  const auto& n = ast.nodes[index];
  if (n.kind == Node::Kind::comparison) {
    out += '[';
    append_operand(out, n.left);
    out += ' ';
    out += sign_text(n.op);
    out += ' ';
    append_operand(out, n.right);
    out += ']';
    return;
  }
  out += n.kind == Node::Kind::all ? "(and" : "(or";
  for (auto c : n.children) {
    out += ' ';
    append_node(out, ast, c);
  }
  out += ')';
}

}  // namespace

std::variant<Ast, Error> parse(std::string_view text, const Limits& limits) {
  if (text.size() > limits.max_length) {
    return Error{"filter too long (max " + std::to_string(limits.max_length) + " bytes)",
                 limits.max_length};
  }
  return Parser(text, limits).run(text.size());
}

std::string to_string(const Ast& ast) {
  std::string out;
  if (!ast.nodes.empty()) append_node(out, ast, ast.root);
  return out;
}

}  // namespace plinth::query
