// Feeds garbage and mutated inputs to every entry point: each must return (ok or error), never
// crash, hang or throw.
#include <gtest/gtest.h>

#include <random>

#include "expr/expr.h"
#include "map_scope.h"

namespace hubspoke::expr {
namespace {

const std::vector<std::string> kSeeds = {
    "{{inputs.parameters.x}} and {{= asInt(inputs.parameters.x) + 1 }}",
    "a == b && (c != d || !(1 < 2.5)) ? 'x' : \"y\"",
    "filter(fromJSON(inputs.parameters.list), {# > 1 and #.a?.b[0] in [1, 'x']})",
    "sprig.replace('-', '_', inputs.parameters['my-p']) matches '^[a-z]+$'",
    "A && (B.Succeeded || !C.Failed) || d-1.AnySucceeded",
    "status.phase in (Failed, Error), metadata.name != x, status.n > 3",
    "{range .items[*]}{.x}{\"\\n\"}{end}{.a[?(@.name=='r')].value}{..z}{.b[0:2,-1]}",
    R"([{"a": [1, {"b": "c"}]}, "x", 3.5e2, null, true])",
    "%02d",
};

const std::string kAlphabet = "abcAB01_-.#$@?:!=<>&|+-*/%^()[]{},'\"` \\\n\t~;{{}}";

std::string RandomString(std::mt19937& rng, size_t max_len) {
  std::uniform_int_distribution<size_t> len(0, max_len);
  std::uniform_int_distribution<int> pick(0, 9);
  std::uniform_int_distribution<size_t> letter(0, kAlphabet.size() - 1);
  std::uniform_int_distribution<int> byte(0, 255);
  std::string s;
  size_t n = len(rng);
  for (size_t i = 0; i < n; ++i) {
    s += pick(rng) == 0 ? static_cast<char>(byte(rng)) : kAlphabet[letter(rng)];
  }
  return s;
}

std::string Mutate(std::mt19937& rng, std::string s) {
  std::uniform_int_distribution<int> ops(1, 6);
  std::uniform_int_distribution<size_t> letter(0, kAlphabet.size() - 1);
  for (int k = ops(rng); k > 0; --k) {
    if (s.empty()) {
      s += kAlphabet[letter(rng)];
      continue;
    }
    std::uniform_int_distribution<size_t> at(0, s.size() - 1);
    switch (ops(rng) % 3) {
      case 0:
        s.erase(at(rng), 1);
        break;
      case 1:
        s.insert(at(rng), 1, kAlphabet[letter(rng)]);
        break;
      default:
        s[at(rng)] = kAlphabet[letter(rng)];
    }
  }
  return s;
}

std::vector<std::string> Inputs() {
  std::mt19937 rng(12345);
  std::vector<std::string> inputs = kSeeds;
  for (int i = 0; i < 300; ++i) inputs.push_back(RandomString(rng, 80));
  for (int i = 0; i < 600; ++i) inputs.push_back(Mutate(rng, kSeeds[i % kSeeds.size()]));
  inputs.push_back(std::string(20000, '['));
  inputs.push_back(std::string(20000, '{'));
  inputs.push_back(std::string(20000, '('));
  inputs.push_back("{{=" + std::string(20000, '-') + "1}}");
  return inputs;
}

const MapScope kScope({{"inputs.parameters.x", "3"},
                       {"inputs.parameters.list", "[1,{\"a\":{\"b\":[1]}},3]"},
                       {"inputs.parameters.my-p", "a-b"}});

constexpr std::string_view kDoc =
    R"({"items":[{"x":1,"name":"r","value":2}],"a":[{"name":"r","value":"v"}],"status":{"phase":"Failed","n":4},"metadata":{"name":"m"}})";

TEST(Robustness, EveryEntryPointSurvivesGarbage) {
  TaskState done{true, "Succeeded", false, true, false};
  auto task = [&](std::string_view) { return done; };
  for (const std::string& input : Inputs()) {
    SCOPED_TRACE(input.substr(0, 200));
    (void)Substitute(input, kScope, false);
    (void)Substitute(input, kScope, true);
    (void)EvaluateWhen(input);
    (void)EvaluateExpr(input, kScope);
    (void)EvaluateDepends(input, task);
    (void)DependsTasks(input);
    (void)EvaluateResourceCondition(input, kDoc);
    (void)EvaluateResourceCondition("a == b", input);
    (void)JsonPath(kDoc, input);
    (void)JsonPath(input, "{.a}");
    (void)ParseItems(input);
    (void)SequenceItems("3", "", "", input);
    (void)SequenceItems(input, "", "", "");
    (void)ItemText(input);
    (void)ItemDisplay(input);
    FlattenItem("item", input, [](std::string, std::string) {});
    (void)AggregateList({input});
    (void)JsonQuote(input);
  }
}

TEST(Robustness, DeeplyNestedJsonIsRejectedNotCrashed) {
  std::string deep = std::string(100000, '[') + std::string(100000, ']');
  EXPECT_FALSE(ParseItems(deep).ok());
  EXPECT_FALSE(JsonPath(deep, "{..x}").ok());
  EXPECT_EQ(ItemText(deep), deep);
  EXPECT_FALSE(EvaluateExpr("fromJSON('" + deep + "')", kScope).ok());
}

TEST(Robustness, ExpensiveExpressionsAreStopped) {
  auto result = EvaluateExpr("map(1..1000000, {1..1000000})", kScope);
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.error().message.find("too much work"), std::string::npos);
  EXPECT_FALSE(EvaluateExpr("map(1..100, {repeat('ab', 5000000)})", kScope).ok());
}

TEST(Robustness, ExplodingJsonPathsAreStopped) {
  std::string doc = "[" + std::string(400, '[') + std::string(400, ']');
  for (int i = 0; i < 1000; ++i) doc += ",[1]";
  doc += "]";
  std::string loops;
  for (int i = 0; i < 4; ++i) loops += "{range ..*}";
  for (int i = 0; i < 4; ++i) loops += "{end}";
  EXPECT_FALSE(JsonPath(doc, loops).ok());
  std::string unions = "{";
  for (int i = 0; i < 12; ++i) unions += "[0,0,0,0,0,0,0,0,0,0]";
  EXPECT_FALSE(JsonPath("[[[[[[[[[[[[1]]]]]]]]]]]]", unions + "}").ok());
  EXPECT_TRUE(JsonPath(doc, "{..[0]..[0]..[0]..[0]..[0]..[0]}").ok());
}

TEST(Robustness, CatastrophicRegexesFinish) {
  EXPECT_TRUE(EvaluateWhen("'" + std::string(100000, 'a') + "b' =~ '(a|b)*c'").ok());
  EXPECT_TRUE(EvaluateWhen("'" + std::string(30, 'a') + "' =~ '^(a+)+$'").ok());
  EXPECT_FALSE(EvaluateWhen("a =~ '((a{1,100}){1,100}){1,100}'").ok());
}

}  // namespace
}  // namespace hubspoke::expr
