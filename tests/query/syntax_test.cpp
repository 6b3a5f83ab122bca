// The lexer and parser on their own: token shapes as fexpr scans them, the
// tree (precedence, grouping) and errors with their byte positions.

#include <gtest/gtest.h>

#include "plinth/query/syntax.hpp"

namespace plinth::query {
namespace {

std::string dump_operand(const Operand& o) {
  switch (o.kind) {
    case Operand::Kind::identifier: return "ident(" + o.text + ")";
    case Operand::Kind::number: return "num(" + o.text + ")";
    case Operand::Kind::text: return "text(" + o.text + ")";
    case Operand::Kind::function: {
      std::string s = "fn(" + o.text + ":";
      for (std::size_t i = 0; i < o.args.size(); ++i) s += (i ? "," : "") + dump_operand(o.args[i]);
      return s + ")";
    }
  }
  return "?";
}

// Tokens without the trailing end, or "!<position>" on error.
std::string lex(std::string_view text) {
  auto r = tokenize(text);
  if (auto* e = std::get_if<Error>(&r)) return "!" + std::to_string(e->position);
  std::string out;
  for (const auto& t : std::get<std::vector<Token>>(r)) {
    std::string s;
    switch (t.kind) {
      case TokenKind::operand: s = dump_operand(t.operand); break;
      case TokenKind::sign: s = "sign(" + std::string(sign_text(t.sign)) + ")"; break;
      case TokenKind::join_and: s = "and"; break;
      case TokenKind::join_or: s = "or"; break;
      case TokenKind::lparen: s = "("; break;
      case TokenKind::rparen: s = ")"; break;
      case TokenKind::end: continue;
    }
    out += (out.empty() ? "" : " ") + s;
  }
  return out;
}

struct LexCase {
  const char* name;
  std::string input;
  const char* expected;
};

const LexCase kLexCases[] = {
    {"comparison", "a = 1", "ident(a) sign(=) num(1)"},
    {"no_spaces", "a.b:lower!='x'", "ident(a.b:lower) sign(!=) text(x)"},
    {"escaped_double_quote", "\"it\\\"s\"", "text(it\"s)"},
    {"escaped_single_quote", "'it\\'s'", "text(it's)"},
    {"other_backslashes_stay", "'a\\nb'", "text(a\\nb)"},
    {"other_quote_kind_is_plain", "'say \"hi\"'", "text(say \"hi\")"},
    {"escape_of_other_quote_kind_stays", "\"a\\'b\"", "text(a\\'b)"},
    {"negative_decimal", "-1.5", "num(-1.5)"},
    {"leading_zeros", "007", "num(007)"},
    {"trailing_dot", "1.", "!0"},
    {"lone_minus", "-", "!0"},
    {"two_dots", "1.2.3", "!3"},
    {"any_signs", "?!~ ?>= <= >= ?<", "sign(?!~) sign(?>=) sign(<=) sign(>=) sign(?<)"},
    {"invalid_sign", "=!", "!0"},
    {"double_equals", "a == 1", "!2"},
    {"joins", "&& ||", "and or"},
    {"single_ampersand", "&", "!0"},
    {"triple_pipe", "|||", "!0"},
    {"parentheses", "( )", "( )"},
    {"comment_skipped", "// c\nx", "ident(x)"},
    {"comment_at_end", "x // done", "ident(x)"},
    {"single_slash", "/x", "!0"},
    {"request_identifier", "@request.auth.id", "ident(@request.auth.id)"},
    {"hash_identifier", "#tag", "ident(#tag)"},
    {"underscore_identifier", "_x", "ident(_x)"},
    {"lone_at", "@", "!0"},
    {"trailing_dot_identifier", "a.", "!0"},
    {"trailing_colon_identifier", "a:", "!0"},
    {"function", "f(1, 'x', g(y))", "fn(f:num(1),text(x),fn(g:ident(y)))"},
    {"function_no_args", "f()", "fn(f:)"},
    {"function_comment", "f( // c\n 1 )", "fn(f:num(1))"},
    {"function_missing_comma", "f(1 2)", "!4"},
    {"function_leading_comma", "f(,1)", "!2"},
    {"function_unclosed", "f(1", "!0"},
    {"function_bad_argument", "f(=)", "!2"},
    {"functions_three_deep", "f(g(h(1)))", "fn(f:fn(g:fn(h:num(1))))"},
    {"functions_four_deep", "f(g(h(i(1))))", "!6"},
    {"function_invalid_name", "a.(1)", "!0"},
    {"non_ascii_outside_text", "é = 1", "!0"},
    {"unicode_in_text", "a = 'ok ✓ 日本'", "ident(a) sign(=) text(ok ✓ 日本)"},
    {"nul_byte", std::string("a = 'x\0y'", 9), "!6"},
    {"invalid_utf8", "a = '\xff'", "!5"},
    {"truncated_utf8", "a = '\xc3", "!5"},
    {"overlong_utf8", "'\xc0\xaf'", "!1"},
    {"surrogate_utf8", "'\xed\xa0\x80'", "!1"},
    {"carriage_return_is_space", "a\r\n=\t1", "ident(a) sign(=) num(1)"},
    {"unterminated_text", "'abc", "!0"},
    {"backtick", "`a` = 1", "!0"},
    {"semicolon", "a = 1;", "!5"},
};

class Lexing : public ::testing::TestWithParam<LexCase> {};

TEST_P(Lexing, Tokens) {
  EXPECT_EQ(lex(GetParam().input), GetParam().expected);
}

INSTANTIATE_TEST_SUITE_P(Lexer, Lexing, ::testing::ValuesIn(kLexCases),
                         [](const ::testing::TestParamInfo<LexCase>& i) { return i.param.name; });

std::string parsed(std::string_view text, const Limits& limits = {}) {
  auto r = parse(text, limits);
  if (auto* e = std::get_if<Error>(&r)) return "!" + std::to_string(e->position) + " " + e->message;
  return to_string(std::get<Ast>(r));
}

struct ParseCase {
  const char* name;
  const char* input;
  const char* expected;  // tree, or "!<position> <message prefix>"
};

const ParseCase kParseCases[] = {
    {"comparison", "a = 1", "[a = 1]"},
    {"and_before_or", "a = 1 && b != 'x' || c ~ null",
     "(or (and [a = 1] [b != \"x\"]) [c ~ null])"},
    {"and_before_or_right", "a = 1 || b = 2 && c = 3", "(or [a = 1] (and [b = 2] [c = 3]))"},
    {"group_first", "(a = 1 || b = 2) && c = 3", "(and (or [a = 1] [b = 2]) [c = 3])"},
    {"redundant_groups", "((a = 1))", "[a = 1]"},
    {"nested_groups", "a = 1 && (b = 2 || (c = 3 && d = 4))",
     "(and [a = 1] (or [b = 2] (and [c = 3] [d = 4])))"},
    {"flat_chain", "a = 1 && b = 2 && c = 3", "(and [a = 1] [b = 2] [c = 3])"},
    {"any_operators", "a ?>= 1 && b ?!~ 'x'", "(and [a ?>= 1] [b ?!~ \"x\"])"},
    {"text_on_the_left", "'x' = a", "[\"x\" = a]"},
    {"function_operand", "f(a, 1) > 2", "[f(a, 1) > 2]"},
    {"quotes_kept_in_tree", "a = 'say \"hi\"'", "[a = \"say \\\"hi\\\"\"]"},
    {"empty", "", "!0 empty filter expression"},
    {"blank", "   ", "!3 empty filter expression"},
    {"only_comment", "// x", "!4 empty filter expression"},
    {"missing_right", "a =", "!3 expected right operand"},
    {"missing_sign", "a 1", "!2 expected a sign operator"},
    {"missing_left", "= 1", "!0 expected left operand"},
    {"missing_join", "a = 1 b = 2", "!6 expected && or ||"},
    {"unclosed_group", "x = 1 && (a = 1", "!9 missing closing ')'"},
    {"unopened_group", "a = 1)", "!5 unexpected ')'"},
    {"trailing_join", "a = 1 &&", "!8 incomplete filter expression"},
    {"empty_group", "()", "!0 empty parentheses"},
    {"empty_group_later", "a = 1 && ()", "!9 empty parentheses"},
    {"join_before_close", "(a = 1 &&)", "!9 expected an operand"},
    {"operand_before_group", "a (b = 1)", "!2 expected a sign operator"},
    {"group_as_right_operand", "a = (b = 1)", "!4 expected right operand"},
    {"lexer_error_inside", "a = 1 && b = 'x", "!13 unterminated quoted text"},
    {"comparison_of_comparisons", "a = 1 = 2", "!6 expected && or ||"},
};

class Parsing : public ::testing::TestWithParam<ParseCase> {};

TEST_P(Parsing, TreeOrError) {
  auto got = parsed(GetParam().input);
  std::string expected = GetParam().expected;
  if (expected.starts_with("!")) {
    EXPECT_TRUE(got.starts_with(expected)) << got;
  } else {
    EXPECT_EQ(got, expected);
  }
}

INSTANTIATE_TEST_SUITE_P(Parser, Parsing, ::testing::ValuesIn(kParseCases),
                         [](const ::testing::TestParamInfo<ParseCase>& i) { return i.param.name; });

// PocketBase's TestFilterDataBuildExprWithLimit, as expression counts.
TEST(ParserLimits, ExpressionCount) {
  struct {
    std::size_t limit;
    const char* filter;
    bool ok;
  } cases[] = {
      {1, "1 = 1", true},
      {0, "1 = 1", false},
      {2, "1 = 1 || 1 = 1", true},
      {1, "1 = 1 || 1 = 1", false},
      {3, "1 = 1 || 1 = 1", true},
      {6, "(1=1 || 1=1) && (1=1 || (1=1 || 1=1)) && (1=1)", true},
      {5, "(1=1 || 1=1) && (1=1 || (1=1 || 1=1)) && (1=1)", false},
  };
  for (const auto& c : cases) {
    Limits limits;
    limits.max_expressions = c.limit;
    auto r = parse(c.filter, limits);
    EXPECT_EQ(std::holds_alternative<Ast>(r), c.ok) << c.limit << " " << c.filter;
  }
}

TEST(ParserLimits, ExpressionLimitPointsAtTheFirstComparisonOverTheLimit) {
  Limits limits;
  limits.max_expressions = 2;
  EXPECT_EQ(parsed("a=1&&a=1&&a=1", limits), "!10 too many expressions (max 2)");
}

TEST(ParserLimits, DepthIsBoundedAndPositioned) {
  Limits limits;
  limits.max_depth = 2;
  EXPECT_EQ(parsed("((a = 1))", limits), "[a = 1]");
  EXPECT_TRUE(parsed("(((a = 1)))", limits).starts_with("!2 expression nested too deeply"));
}

TEST(ParserLimits, TenThousandOpenParenthesesFailWithoutRecursion) {
  std::string deep(10'000, '(');
  deep += "a = 1";
  deep += std::string(10'000, ')');
  // Default limits: too long.
  EXPECT_TRUE(parsed(deep).starts_with("!3500 filter too long"));
  // Length allowed: the depth limit stops it at the 65th parenthesis.
  Limits limits;
  limits.max_length = deep.size();
  EXPECT_TRUE(parsed(deep, limits).starts_with("!64 expression nested too deeply"));
  // Even an absurd configured depth is capped by kHardMaxDepth.
  limits.max_depth = 1'000'000;
  EXPECT_TRUE(parsed(deep, limits).starts_with("!" + std::to_string(kHardMaxDepth)));
  // Unbalanced: only opening parentheses.
  std::string open(10'000, '(');
  EXPECT_TRUE(parsed(open, limits).starts_with("!"));
}

TEST(ParserLimits, LengthLimitIsInclusive) {
  Limits limits;
  limits.max_length = 5;
  EXPECT_EQ(parsed("a = 1", limits), "[a = 1]");
  EXPECT_TRUE(parsed("a = 10", limits).starts_with("!5 filter too long"));
}

TEST(ParserLimits, MaxDepthNestingWithinLimitParses) {
  std::string text = std::string(64, '(') + "a = 1" + std::string(64, ')');
  EXPECT_EQ(parsed(text), "[a = 1]");
  text = std::string(65, '(') + "a = 1" + std::string(65, ')');
  EXPECT_TRUE(parsed(text).starts_with("!64 "));
}

TEST(Ast, NodesCarryPositions) {
  auto r = parse("a = 1 || (b ~ 'x' && c > 2)", {});
  ASSERT_TRUE(std::holds_alternative<Ast>(r));
  const auto& ast = std::get<Ast>(r);
  EXPECT_EQ(ast.comparisons, 3u);
  const auto& root = ast.nodes[ast.root];
  ASSERT_EQ(root.kind, Node::Kind::any);
  ASSERT_EQ(root.children.size(), 2u);
  const auto& left = ast.nodes[root.children[0]];
  EXPECT_EQ(left.position, 0u);
  EXPECT_EQ(left.right.position, 4u);
  const auto& group = ast.nodes[root.children[1]];
  ASSERT_EQ(group.kind, Node::Kind::all);
  EXPECT_EQ(group.position, 10u);
  const auto& b = ast.nodes[group.children[0]];
  EXPECT_EQ(b.op, SignOp::like);
  EXPECT_EQ(b.right.kind, Operand::Kind::text);
  EXPECT_EQ(b.right.position, 14u);
  EXPECT_EQ(ast.nodes[group.children[1]].left.position, 21u);
}

TEST(Ast, AnyOperators) {
  for (auto op : {SignOp::any_eq, SignOp::any_neq, SignOp::any_like, SignOp::any_nlike,
                  SignOp::any_lt, SignOp::any_lte, SignOp::any_gt, SignOp::any_gte}) {
    EXPECT_TRUE(is_any_op(op)) << sign_text(op);
  }
  for (auto op : {SignOp::eq, SignOp::neq, SignOp::like, SignOp::nlike, SignOp::lt, SignOp::lte,
                  SignOp::gt, SignOp::gte}) {
    EXPECT_FALSE(is_any_op(op)) << sign_text(op);
  }
}

}  // namespace
}  // namespace plinth::query
