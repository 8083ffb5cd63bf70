#include <gtest/gtest.h>

#include "expr/expr.h"
#include "map_scope.h"

namespace hubspoke::expr {
namespace {

const MapScope kScope({
    {"inputs.parameters.x", "3"},
    {"inputs.parameters.name", "Hub Spoke"},
    {"inputs.parameters.should-print", "true"},
    {"inputs.parameters.json", R"({"a":{"b":[10,20,30]},"items":[{"n":1},{"n":2},{"n":3}]})"},
    {"inputs.parameters.list", "[1,2,3,4]"},
    {"workflow.name", "wf-1"},
    {"item", R"({"repo":"r1","size":5})"},
});

std::string Eval(std::string_view expression) { return EvalIn(kScope, expression); }
std::string EvalError(std::string_view expression) { return EvalErrorIn(kScope, expression); }

TEST(Expr, LiteralsEvaluateToJson) {
  EXPECT_EQ(Eval("1"), "1");
  EXPECT_EQ(Eval("1.5"), "1.5");
  EXPECT_EQ(Eval("'a'"), "\"a\"");
  EXPECT_EQ(Eval("\"a\\n\""), "\"a\\n\"");
  EXPECT_EQ(Eval("true"), "true");
  EXPECT_EQ(Eval("nil"), "null");
  EXPECT_EQ(Eval("[1, 'b', [true]]"), "[1,\"b\",[true]]");
  EXPECT_EQ(Eval("{a: 1, 'b-c': 2}"), "{\"a\":1,\"b-c\":2}");
  EXPECT_EQ(Eval("1_000"), "1000");
  EXPECT_EQ(Eval("0x10"), "16");
}

TEST(Expr, DottedVariablesResolveThroughTheScope) {
  EXPECT_EQ(Eval("inputs.parameters.x"), "\"3\"");
  EXPECT_EQ(Eval("workflow.name"), "\"wf-1\"");
}

TEST(Expr, ScopeValuesStayStringsUntilConverted) {
  EXPECT_EQ(Eval("inputs.parameters.x == 3"), "false");
  EXPECT_EQ(Eval("inputs.parameters.x == '3'"), "true");
  EXPECT_EQ(Eval("asInt(inputs.parameters.x) == 3"), "true");
  EXPECT_EQ(Eval("asFloat(inputs.parameters.x) * 1.5"), "4.5");
}

TEST(Expr, BracketIndexWithStringJoinsTheDottedName) {
  EXPECT_EQ(Eval("inputs.parameters['should-print']"), "\"true\"");
  EXPECT_EQ(Eval("inputs[\"parameters\"][\"should-print\"] == 'true'"), "true");
}

TEST(Expr, MemberAccessReachesIntoJsonValues) {
  EXPECT_EQ(Eval("item.repo"), "\"r1\"");
  EXPECT_EQ(Eval("fromJSON(inputs.parameters.json).a.b[1]"), "20");
  EXPECT_EQ(Eval("fromJSON(inputs.parameters.json).a.b[-1]"), "30");
  EXPECT_EQ(Eval("fromJSON(inputs.parameters.json).missing"), "null");
  EXPECT_EQ(Eval("fromJSON(inputs.parameters.json).missing?.deeper"), "null");
}

TEST(Expr, UnknownVariableIsAnErrorNamingIt) {
  std::string message = EvalError("inputs.parameters.nope + 'x'");
  EXPECT_NE(message.find("unknown variable 'inputs.parameters.nope'"), std::string::npos)
      << message;
}

TEST(Expr, NilCoalescingRescuesUnknownVariables) {
  EXPECT_EQ(Eval("inputs.parameters.nope ?? 'default'"), "\"default\"");
  EXPECT_EQ(Eval("inputs.parameters.x ?? 'default'"), "\"3\"");
}

TEST(Expr, WordAndSymbolLogicalOperators) {
  EXPECT_EQ(Eval("true and not false"), "true");
  EXPECT_EQ(Eval("false or true && !false"), "true");
  EXPECT_EQ(Eval("inputs.parameters['should-print'] == 'true' and 1 < 2"), "true");
}

TEST(Expr, LogicalOperatorsShortCircuit) {
  EXPECT_EQ(Eval("false && inputs.parameters.nope"), "false");
  EXPECT_EQ(Eval("true || inputs.parameters.nope"), "true");
}

TEST(Expr, ArithmeticKeepsIntsAndDividesAsFloat) {
  EXPECT_EQ(Eval("1 + 2 * 3"), "7");
  EXPECT_EQ(Eval("7 / 2"), "3.5");
  EXPECT_EQ(Eval("6 / 2"), "3");
  EXPECT_EQ(Eval("7 % 3"), "1");
  EXPECT_EQ(Eval("2 ** 10"), "1024");
  EXPECT_EQ(Eval("-(3 - 5)"), "2");
}

TEST(Expr, IntegerOverflowFallsBackToFloat) {
  EXPECT_EQ(Eval("9223372036854775807 + 1"), "9.223372036854776e+18");
}

TEST(Expr, DivisionByZeroIsAnError) {
  EXPECT_NE(EvalError("1 / 0").find("division by zero"), std::string::npos);
  EXPECT_NE(EvalError("1 % 0").find("divide by zero"), std::string::npos);
}

TEST(Expr, PlusConcatenatesStringsButNotMixedTypes) {
  EXPECT_EQ(Eval("'a' + 'b'"), "\"ab\"");
  EXPECT_EQ(Eval("[1] + [2]"), "[1,2]");
  EXPECT_NE(EvalError("'a' + 1").find("invalid operation"), std::string::npos);
}

TEST(Expr, ComparisonOperators) {
  EXPECT_EQ(Eval("2 > 1.5"), "true");
  EXPECT_EQ(Eval("'abc' < 'abd'"), "true");
  EXPECT_EQ(Eval("[1, 2] == [1, 2]"), "true");
  EXPECT_EQ(Eval("1 == 1.0"), "true");
  EXPECT_NE(EvalError("'a' < 1").find("invalid operation"), std::string::npos);
}

TEST(Expr, InAndNotIn) {
  EXPECT_EQ(Eval("2 in [1, 2, 3]"), "true");
  EXPECT_EQ(Eval("'x' not in ['a']"), "true");
  EXPECT_EQ(Eval("'a' in {a: 1}"), "true");
  EXPECT_EQ(Eval("4 in fromJSON(inputs.parameters.list)"), "true");
}

TEST(Expr, StringOperators) {
  EXPECT_EQ(Eval("inputs.parameters.name matches '^Hub'"), "true");
  EXPECT_EQ(Eval("inputs.parameters.name contains 'Spo'"), "true");
  EXPECT_EQ(Eval("'abc' startsWith 'ab' && 'abc' endsWith 'bc'"), "true");
  EXPECT_EQ(Eval("'run-42' matches 'run-\\d+$'"), "true");
  EXPECT_EQ(Eval("'run-42' matches 'run-\\\\d'"), "true");  // Go-style escaped backslash
}

TEST(Expr, TernaryAndRange) {
  EXPECT_EQ(Eval("1 < 2 ? 'yes' : 'no'"), "\"yes\"");
  EXPECT_EQ(Eval("inputs.parameters['should-print'] ? 1 : 2"), "1");
  EXPECT_EQ(Eval("1..3"), "[1,2,3]");
}

TEST(Expr, IndexingAndSlicing) {
  EXPECT_EQ(Eval("[1, 2, 3][0]"), "1");
  EXPECT_EQ(Eval("[1, 2, 3, 4][1:3]"), "[2,3]");
  EXPECT_EQ(Eval("'hello'[1:]"), "\"ello\"");
  EXPECT_EQ(Eval("'hello'[:-1]"), "\"hell\"");
  EXPECT_NE(EvalError("[1][5]").find("out of range"), std::string::npos);
}

TEST(Expr, ArgoConversionFunctions) {
  EXPECT_EQ(Eval("asInt('42')"), "42");
  EXPECT_EQ(Eval("asFloat('2.5')"), "2.5");
  EXPECT_EQ(Eval("string(42)"), "\"42\"");
  EXPECT_EQ(Eval("toJson({a: [1]})"), "\"{\\\"a\\\":[1]}\"");
  EXPECT_EQ(Eval("fromJson('[1,2]')[1]"), "2");
  EXPECT_NE(EvalError("asInt('abc')").find("asInt() argument 1 must be an integer"),
            std::string::npos);
}

TEST(Expr, JsonpathFunctionQueriesJsonText) {
  EXPECT_EQ(Eval("jsonpath(inputs.parameters.json, '$.a.b[0]')"), "10");
  EXPECT_EQ(Eval("jsonpath(inputs.parameters.json, '$.items[*].n')"), "[1,2,3]");
  EXPECT_EQ(Eval("jsonpath(inputs.parameters.json, '$..n')"), "[1,2,3]");
  EXPECT_NE(EvalError("jsonpath(inputs.parameters.json, '$.zzz')").find("not found"),
            std::string::npos);
}

TEST(Expr, JsonpathFunctionFiltersWithAndOr) {
  // Argo's examples/expression-destructure-json-complex.yaml.
  const MapScope scope(std::map<std::string, std::string>{
      {"workflow.parameters.config",
       R"({"employees": [{"name": "Baris", "age":43},{"name": "Mo", "age": 42},)"
       R"( {"name": "Jai", "age" :44}]})"}});
  auto query = [&](std::string_view path) {
    auto result = Substitute(
        "{{=jsonpath(workflow.parameters.config, '" + std::string(path) + "')}}", scope, false);
    EXPECT_TRUE(result.ok()) << path << ": " << result.error().message;
    return result.ok() ? *result : "<error>";
  };
  EXPECT_EQ(query(R"($.employees[?(@.name==\"Baris\")].age)"), "[43]");
  EXPECT_EQ(query("$.employees[?(@.age>42 && @.age<44)].age"), "[43]");
  EXPECT_EQ(query(R"($.employees[?(@.age<43 || @.name==\"Jai\")].name)"), R"(["Mo","Jai"])");
  EXPECT_EQ(query("$.employees[0:1]"), R"([{"age":43,"name":"Baris"}])");
  EXPECT_EQ(query("$.employees[*].name"), R"(["Baris","Mo","Jai"])");
}

TEST(Expr, StringFunctions) {
  EXPECT_EQ(Eval("len('héllo')"), "5");
  EXPECT_EQ(Eval("len([1, 2])"), "2");
  EXPECT_EQ(Eval("lower('AbC') + upper('x')"), "\"abcX\"");
  EXPECT_EQ(Eval("trim('  a  ')"), "\"a\"");
  EXPECT_EQ(Eval("split('a,b,c', ',')"), "[\"a\",\"b\",\"c\"]");
  EXPECT_EQ(Eval("join(['a', 'b'], '-')"), "\"a-b\"");
  EXPECT_EQ(Eval("replace('aXbX', 'X', '_')"), "\"a_b_\"");
}

TEST(Expr, SprigFunctionsTakeTheirSubjectLast) {
  EXPECT_EQ(Eval("sprig.trim('  x ')"), "\"x\"");
  EXPECT_EQ(Eval("sprig.upper('x')"), "\"X\"");
  EXPECT_EQ(Eval("sprig.replace('-', '_', 'a-b-c')"), "\"a_b_c\"");
  EXPECT_EQ(Eval("sprig.contains('ub', 'hub')"), "true");
  EXPECT_EQ(Eval("sprig.hasPrefix('hu', 'hub')"), "true");
  EXPECT_EQ(Eval("sprig.hasSuffix('ub', 'hub')"), "true");
  EXPECT_EQ(Eval("sprig.split('$', 'a$b')"), "{\"_0\":\"a\",\"_1\":\"b\"}");
  EXPECT_EQ(Eval("sprig.splitList(',', 'a,b')"), "[\"a\",\"b\"]");
  EXPECT_EQ(Eval("sprig.join('+', [1, 'b'])"), "\"1+b\"");
  EXPECT_EQ(Eval("sprig.default('dflt', '')"), "\"dflt\"");
  EXPECT_EQ(Eval("sprig.default('dflt', 'set')"), "\"set\"");
  EXPECT_EQ(Eval("sprig.int('12')"), "12");
  EXPECT_EQ(Eval("sprig.atoi('x')"), "0");
  EXPECT_EQ(Eval("sprig.add(1, sprig.mul(2, 3))"), "7");
  EXPECT_EQ(Eval("sprig.b64dec(sprig.b64enc('hub!'))"), "\"hub!\"");
  EXPECT_EQ(Eval("sprig.toJson([1])"), "\"[1]\"");
  EXPECT_EQ(Eval("sprig.trunc(3, 'abcdef')"), "\"abc\"");
}

TEST(Expr, SprigIntegerArithmeticIsVariadic) {
  EXPECT_EQ(Eval("sprig.add(34, 27, 15, 57, 46)"), "179");
  EXPECT_EQ(Eval("sprig.add()"), "0");
  EXPECT_EQ(Eval("sprig.add('1', 2.9)"), "3");  // arguments become integers, as sprig's toInt64
  EXPECT_EQ(Eval("sprig.mul(2, 3, 4)"), "24");
  EXPECT_EQ(Eval("sprig.max(34, 27, 15, 57, 46)"), "57");
  EXPECT_EQ(Eval("sprig.min(34, 27, '15', 57, 46)"), "15");
  EXPECT_EQ(Eval("sprig.max(3)"), "3");
  EXPECT_EQ(Eval("sprig.sub(10, 4)"), "6");
  EXPECT_NE(EvalError("sprig.max()").find("expects at least 1 argument(s), got 0"),
            std::string::npos);
  EXPECT_NE(EvalError("sprig.sub(1, 2, 3)").find("expects 2 argument(s), got 3"),
            std::string::npos);
  EXPECT_NE(EvalError("sprig.add(1, 'x')").find("argument 2 must be an integer"),
            std::string::npos);
  EXPECT_NE(EvalError("sprig.mul(9223372036854775807, 1, 2)").find("integer overflow"),
            std::string::npos);
}

TEST(Expr, SprigFloatArithmeticIsVariadic) {
  EXPECT_EQ(Eval("sprig.addf(1.5, 2, 2)"), "5.5");
  EXPECT_EQ(Eval("sprig.addf(0.1, 0.2)"), "0.3");  // sprig computes with decimals
  EXPECT_EQ(Eval("sprig.subf(7.5, 2, 3)"), "2.5");
  EXPECT_EQ(Eval("sprig.mulf(1.5, 2, 2)"), "6");
  EXPECT_EQ(Eval("sprig.divf(10, 2, 4)"), "1.25");
  EXPECT_EQ(Eval("sprig.maxf(1, 2.5, 3)"), "3");
  EXPECT_EQ(Eval("sprig.minf(1.5, '2', 3)"), "1.5");
  EXPECT_NE(EvalError("sprig.divf(1, 0)").find("division by zero"), std::string::npos);
}

TEST(Expr, ReusingVerboseSnippetsExampleEvaluates) {
  // The whole expression of Argo's examples/expression-reusing-verbose-snippets.yaml.
  const MapScope scope(std::map<std::string, std::string>{
      {"workflow.parameters.weather",
       R"({"weekWeather": "eyJ0ZW1wcyI6IFszNCwgMjcsIDE1LCA1NywgNDZdfQo="})"}});
  constexpr std::string_view kExpression = R"(
                map([
                    jsonpath(sprig.b64dec(jsonpath(workflow.parameters.weather, '$.weekWeather')), '$.temps')
                  ], {
                    toJson({
                      avg: sprig.add(#[0], #[1], #[2], #[3], #[4]) / 5,
                      min: sprig.min(#[0], #[1], #[2], #[3], #[4]),
                      max: sprig.max(#[0], #[1], #[2], #[3], #[4])
                    })
                })[0]
              )";
  auto week = EvaluateExpr(kExpression, scope);
  ASSERT_TRUE(week.ok()) << week.error().message;
  EXPECT_EQ(*week, R"("{\"avg\":35.8,\"max\":57,\"min\":15}")");

  auto text = Substitute("{{=" + std::string(kExpression) + "}}", scope, false);
  ASSERT_TRUE(text.ok()) << text.error().message;
  const MapScope step(std::map<std::string, std::string>{{"inputs.parameters.week-temps", *text}});
  std::string env;
  for (std::string_view field : {"avg", "min", "max"}) {
    auto value = Substitute(
        "{{=jsonpath(inputs.parameters['week-temps'], '$." + std::string(field) + "')}} ", step,
        false);
    ASSERT_TRUE(value.ok()) << value.error().message;
    env += *value;
  }
  EXPECT_EQ(env, "35.8 15 57 ");
}

TEST(Expr, SprigDateFormatsGoLayouts) {
  const MapScope scope(
      std::map<std::string, std::string>{{"workflow.creationTimestamp", "2024-03-05T07:08:09Z"}});
  auto date = [&](std::string_view layout, std::string_view time = "workflow.creationTimestamp") {
    auto result =
        EvaluateExpr("sprig.date('" + std::string(layout) + "', " + std::string(time) + ")", scope);
    EXPECT_TRUE(result.ok()) << layout << ": " << result.error().message;
    return result.ok() ? *result : "<error>";
  };
  EXPECT_EQ(date("2006"), "\"2024\"");
  EXPECT_EQ(date("2006-01-02"), "\"2024-03-05\"");
  EXPECT_EQ(date("15:04:05"), "\"07:08:09\"");
  EXPECT_EQ(date("Jan January Mon Monday"), "\"Mar March Tue Tuesday\"");
  EXPECT_EQ(date("06/1/2 _2 002 3:4:5 03PM pm"), "\"24/3/5  5 065 7:8:9 07AM am\"");
  EXPECT_EQ(date("2006-01-02T15:04:05Z07:00 MST -0700"), "\"2024-03-05T07:08:09Z UTC +0000\"");
  EXPECT_EQ(date("_2006 is literal"), "\"_2024 is literal\"");
  // Offsets are converted to UTC; fractions print with .000 (fixed) or .999 (trimmed).
  EXPECT_EQ(date("2006-01-02 15:04:05.000 .999", "'2023-12-31T23:30:00.25-01:00'"),
            "\"2024-01-01 00:30:00.250 .25\"");
  EXPECT_EQ(date("15:04:05.999", "'2024-01-01T00:00:00Z'"), "\"00:00:00\"");
  // Integers are Unix seconds, as in sprig.
  EXPECT_EQ(date("2006-01-02 15:04", "86400 * 365"), "\"1971-01-01 00:00\"");
  EXPECT_NE(EvaluateExpr("sprig.date('2006', 'yesterday')", scope)
                .error()
                .message.find("must be an RFC 3339 time or Unix seconds"),
            std::string::npos);
  EXPECT_FALSE(EvaluateExpr("sprig.date('2006', '2024-02-30T00:00:00Z')", scope).ok());
}

TEST(Expr, ClosuresUseHashForTheElement) {
  EXPECT_EQ(Eval("filter([1, 2, 3], {# > 1})"), "[2,3]");
  EXPECT_EQ(Eval("map([1, 2], {# * 10})"), "[10,20]");
  EXPECT_EQ(Eval("map(fromJSON(inputs.parameters.json).items, {#.n})"), "[1,2,3]");
  EXPECT_EQ(Eval("map(fromJSON(inputs.parameters.json).items, {.n + 1})"), "[2,3,4]");
  EXPECT_EQ(Eval("filter(inputs.parameters.list, # % 2 == 0)"), "[2,4]");
  EXPECT_EQ(Eval("all([1, 2], {# > 0}) && any([1, 2], {# > 1}) && none([1], {# > 5})"), "true");
  EXPECT_EQ(Eval("count([1, 2, 3], {# >= 2})"), "2");
  EXPECT_EQ(Eval("one([1, 2, 3], {# == 2})"), "true");
  EXPECT_EQ(Eval("find([1, 2, 3], {# > 1})"), "2");
  EXPECT_EQ(Eval("map([[1, 2], [3]], {len(filter(#, {# > 1}))})"), "[1,1]");
}

TEST(Expr, HashOutsideClosureIsAnError) {
  EXPECT_NE(EvalError("# + 1").find("closure"), std::string::npos);
}

TEST(Expr, UnknownFunctionIsAnError) {
  EXPECT_NE(EvalError("nope(1)").find("unknown function 'nope'"), std::string::npos);
  EXPECT_NE(EvalError("sprig.nope(1)").find("unknown function 'sprig.nope'"), std::string::npos);
}

TEST(Expr, WrongArgumentCountIsAnError) {
  EXPECT_NE(EvalError("upper()").find("upper() expects 1 argument(s), got 0"), std::string::npos);
}

TEST(Expr, SyntaxErrorsQuoteExpressionAndColumn) {
  std::string message = EvalError("1 + * 2");
  EXPECT_NE(message.find("'1 + * 2'"), std::string::npos) << message;
  EXPECT_NE(message.find("column 5"), std::string::npos) << message;
  EXPECT_NE(EvalError("(1 + 2").find("expected ')'"), std::string::npos);
  EXPECT_NE(EvalError("'abc").find("unterminated string"), std::string::npos);
  EXPECT_NE(EvalError("1 @ 2").find("unexpected character '@'"), std::string::npos);
  EXPECT_NE(EvalError("").find("empty"), std::string::npos);
}

TEST(Expr, NonBooleanInLogicIsAnError) {
  EXPECT_NE(EvalError("1 && true").find("invalid operation"), std::string::npos);
}

TEST(Expr, DeepNestingIsRejectedNotCrashed) {
  std::string deep(10000, '(');
  deep += "1";
  deep += std::string(10000, ')');
  EXPECT_NE(EvalError(deep).find("nested too deeply"), std::string::npos);
  std::string chain = "1";
  for (int i = 0; i < 5000; ++i) chain += "+1";
  EXPECT_NE(EvalError(chain).find("too deep"), std::string::npos);
  std::string nots(100000, '!');
  EXPECT_FALSE(EvaluateExpr(nots + "true", kScope).ok());
}

TEST(Expr, HugeRangesAreRejected) {
  EXPECT_NE(EvalError("1..100000000000").find("range too large"), std::string::npos);
}

TEST(Expr, WholeFloatsPrintLikeGo) {
  EXPECT_EQ(Eval("asFloat('3')"), "3");
  EXPECT_EQ(Eval("2.0 * 3"), "6");
}

}  // namespace
}  // namespace hubspoke::expr
