#include <gtest/gtest.h>

#include "expr/expr.h"

namespace hubspoke::expr {
namespace {

bool When(std::string_view condition) {
  auto result = EvaluateWhen(condition);
  EXPECT_TRUE(result.ok()) << condition << ": " << result.error().message;
  return result.ok() && *result;
}

std::string WhenError(std::string_view condition) {
  auto result = EvaluateWhen(condition);
  EXPECT_FALSE(result.ok()) << condition;
  return result.ok() ? "" : result.error().message;
}

TEST(When, TreatsBareWordsAsStrings) {
  EXPECT_FALSE(When("tails == heads"));
  EXPECT_TRUE(When("heads == heads"));
  EXPECT_TRUE(When("tails != heads"));
}

TEST(When, BareWordsMayContainDashesDotsAndDigits) {
  EXPECT_TRUE(When("hello-world == hello-world"));
  EXPECT_TRUE(When("v1.2.3 == 'v1.2.3'"));
  EXPECT_FALSE(When("my-app-2 == my-app-3"));
}

TEST(When, QuotedStringsBothStyles) {
  EXPECT_TRUE(When("'a b' == \"a b\""));
  EXPECT_TRUE(When("\"it's\" == 'it\\'s'"));
}

TEST(When, NumbersCompareNumerically) {
  EXPECT_TRUE(When("10 > 9"));
  EXPECT_TRUE(When("2.50 == 2.5"));
  EXPECT_TRUE(When("1e3 >= 1000"));
  EXPECT_FALSE(When("-1 > 0"));
}

TEST(When, StringsCompareLexically) {
  EXPECT_TRUE(When("abc < abd"));
  EXPECT_TRUE(When("'10' < '9'"));
}

TEST(When, NumberAndStringAreNeverEqual) {
  EXPECT_FALSE(When("1 == '1'"));
  EXPECT_TRUE(When("1 != '1'"));
}

TEST(When, LogicalOperatorsAndParentheses) {
  EXPECT_TRUE(When("a == a && (b == c || d == d)"));
  EXPECT_FALSE(When("!(a == a)"));
  EXPECT_TRUE(When("true || false && false"));
  EXPECT_FALSE(When("(true || false) && false"));
}

TEST(When, ArithmeticFollowsPrecedence) {
  EXPECT_TRUE(When("1 + 2 * 3 == 7"));
  EXPECT_TRUE(When("(1 + 2) * 3 == 9"));
  EXPECT_TRUE(When("7 % 4 == 3"));
  EXPECT_TRUE(When("2 ** 3 ** 2 == 512"));
  EXPECT_TRUE(When("5-3 == 2"));
}

TEST(When, PlusConcatenatesStrings) {
  EXPECT_TRUE(When("'a' + 'b' == ab"));
  EXPECT_TRUE(When("'v' + 007 == v007"));
}

TEST(When, RegexOperators) {
  EXPECT_TRUE(When("hubspoke =~ '^hub'"));
  EXPECT_TRUE(When("hubspoke !~ '^spoke'"));
  EXPECT_TRUE(When("'run-42' =~ 'run-\\d+'"));
  EXPECT_TRUE(When("12345 =~ '^12'"));
}

TEST(When, InListOperator) {
  EXPECT_TRUE(When("b in (a, b, c)"));
  EXPECT_FALSE(When("'z' in ('a', 'b')"));
  EXPECT_TRUE(When("2 in (1, 2)"));
}

TEST(When, TernaryChoosesBranch) {
  EXPECT_TRUE(When("1 < 2 ? true : false"));
  EXPECT_FALSE(When("1 > 2 ? true : false"));
}

TEST(When, BooleansAreLiterals) {
  EXPECT_TRUE(When("true"));
  EXPECT_FALSE(When("false"));
  EXPECT_TRUE(When("true == true"));
}

TEST(When, BlankConditionIsTrue) { EXPECT_TRUE(When("  ")); }

TEST(When, NonBooleanResultIsAnError) {
  std::string message = WhenError("1 + 2");
  EXPECT_NE(message.find("expected boolean evaluation for '1 + 2'"), std::string::npos) << message;
  EXPECT_NE(WhenError("heads").find("expected boolean evaluation"), std::string::npos);
}

TEST(When, SyntaxErrorsQuoteTheExpressionAndColumn) {
  std::string message = WhenError("a == ");
  EXPECT_NE(message.find("'a == '"), std::string::npos) << message;
  EXPECT_NE(message.find("column 6"), std::string::npos) << message;
  message = WhenError("(a == a");
  EXPECT_NE(message.find("expected ')'"), std::string::npos) << message;
  message = WhenError("a == $x");
  EXPECT_NE(message.find("'$'"), std::string::npos) << message;
  EXPECT_NE(message.find("column 6"), std::string::npos) << message;
}

TEST(When, TypeErrorsAreReported) {
  EXPECT_NE(WhenError("a && true").find("'&&'"), std::string::npos);
  EXPECT_NE(WhenError("a - 1 == 0").find("'-'"), std::string::npos);
  EXPECT_NE(WhenError("1 < a").find("cannot compare"), std::string::npos);
  EXPECT_NE(WhenError("a =~ '('").find("invalid regular expression"), std::string::npos);
}

TEST(When, UnterminatedStringIsAnError) {
  EXPECT_NE(WhenError("'abc == abc").find("unterminated string"), std::string::npos);
}

TEST(When, DeepNestingIsRejectedNotCrashed) {
  std::string deep(5000, '(');
  deep += "true";
  deep += std::string(5000, ')');
  EXPECT_NE(WhenError(deep).find("nested too deeply"), std::string::npos);
  std::string nots(100000, '!');
  EXPECT_FALSE(EvaluateWhen(nots + "true").ok());
}

}  // namespace
}  // namespace hubspoke::expr
