#include <gtest/gtest.h>

#include "expr/expr.h"

namespace hubspoke::expr {
namespace {

constexpr std::string_view kDoc = R"({
  "metadata": {"name": "wf-1", "labels": {"kubernetes.io/name": "x"}},
  "status": {"phase": "Succeeded",
             "outputs": {"parameters": [{"name": "report", "value": "ok"},
                                        {"name": "count", "value": "3"}]}},
  "items": [{"x": 1, "tags": ["a", "b"]}, {"x": 2, "tags": ["c"]}, {"x": 3}]
})";

std::string Path(std::string_view path) {
  auto result = JsonPath(kDoc, path);
  EXPECT_TRUE(result.ok()) << path << ": " << result.error().message;
  return result.ok() ? *result : "<error>";
}

std::string PathError(std::string_view path) {
  auto result = JsonPath(kDoc, path);
  EXPECT_FALSE(result.ok()) << path << " gave " << (result.ok() ? *result : "");
  return result.ok() ? "" : result.error().message;
}

TEST(JsonPath, FieldsPrintStringsRaw) {
  EXPECT_EQ(Path("{.metadata.name}"), "wf-1");
  EXPECT_EQ(Path("{$.status.phase}"), "Succeeded");
}

TEST(JsonPath, NonStringsPrintAsJson) {
  EXPECT_EQ(Path("{.items[0].x}"), "1");
  EXPECT_EQ(Path("{.items[0].tags}"), "[\"a\",\"b\"]");
}

TEST(JsonPath, FilterSelectsByName) {
  EXPECT_EQ(Path("{.status.outputs.parameters[?(@.name==\"report\")].value}"), "ok");
  EXPECT_EQ(Path("{.status.outputs.parameters[?(@.name == 'count')].value}"), "3");
  EXPECT_EQ(Path("{.status.outputs.parameters[?(@.name==\"none\")].value}"), "");
}

TEST(JsonPath, FilterComparesNumbersAndExistence) {
  EXPECT_EQ(Path("{.items[?(@.x > 1)].x}"), "2 3");
  EXPECT_EQ(Path("{.items[?(@.tags)].x}"), "1 2");
}

TEST(JsonPath, FilterCombinesConditionsWithAndOrNotAndParentheses) {
  EXPECT_EQ(Path("{.items[?(@.x>1 && @.x<3)].x}"), "2");
  EXPECT_EQ(Path("{.items[?(@.x == 1 || @.x == 3)].x}"), "1 3");
  EXPECT_EQ(Path("{.items[?((@.x == 1 || @.x == 3) && @.tags)].x}"), "1");
  EXPECT_EQ(Path("{.items[?(!@.tags)].x}"), "3");
  EXPECT_EQ(Path("{.items[?(!(@.x > 1) || @.x >= 3)].x}"), "1 3");
  EXPECT_EQ(Path("{.items[?(2 <= @.x)].x}"), "2 3");
  EXPECT_EQ(Path("{.status.outputs.parameters[?(@.name=='a&&b' || @.value=='3')].name}"), "count");
  EXPECT_NE(PathError("{.items[?(@.x > 1 &&)].x}").find("expected a path or a value"),
            std::string::npos);
  EXPECT_NE(PathError("{.items[?((@.x > 1)].x}").find("unclosed filter"), std::string::npos);
  EXPECT_NE(PathError("{.items[?((@.x > 1 @.y))].x}").find("expected ')'"), std::string::npos);
  EXPECT_NE(PathError("{.items[?(@.x > 1 @.y)].x}").find("unexpected '@'"), std::string::npos);
  EXPECT_NE(PathError("{.items[?(1)].x}").find("must compare or name a path"), std::string::npos);
}

TEST(JsonPath, WildcardResultsAreJoinedWithSpaces) {
  EXPECT_EQ(Path("{.items[*].x}"), "1 2 3");
  EXPECT_EQ(Path("{.items[*].tags[*]}"), "a b c");
}

TEST(JsonPath, RecursiveDescent) { EXPECT_EQ(Path("{..x}"), "1 2 3"); }

TEST(JsonPath, IndexesSlicesAndUnions) {
  EXPECT_EQ(Path("{.items[-1].x}"), "3");
  EXPECT_EQ(Path("{.items[0:2].x}"), "1 2");
  EXPECT_EQ(Path("{.items[0,2].x}"), "1 3");
  EXPECT_EQ(Path("{.items[1:].x}"), "2 3");
}

TEST(JsonPath, QuotedKeysMayContainDots) {
  EXPECT_EQ(Path("{.metadata.labels['kubernetes.io/name']}"), "x");
}

TEST(JsonPath, SeveralBlocksWithLiteralTextBetween) {
  EXPECT_EQ(Path("name={.metadata.name}, phase={.status.phase}"), "name=wf-1, phase=Succeeded");
  EXPECT_EQ(Path("{.metadata.name}{\"\\n\"}"), "wf-1\n");
}

TEST(JsonPath, RangeLoops) { EXPECT_EQ(Path("{range .items[*]}[{.x}]{end}"), "[1][2][3]"); }

TEST(JsonPath, PathWithoutBracesIsAccepted) { EXPECT_EQ(Path(".metadata.name"), "wf-1"); }

TEST(JsonPath, MissingFieldIsAnError) {
  EXPECT_NE(PathError("{.metadata.nope}").find("'nope' is not found"), std::string::npos);
  EXPECT_NE(PathError("{.items[7]}").find("out of bounds"), std::string::npos);
}

TEST(JsonPath, SyntaxErrorsGivePosition) {
  std::string message = PathError("{.items[0}");
  EXPECT_NE(message.find("column"), std::string::npos) << message;
  EXPECT_NE(PathError("{.metadata").find("unclosed"), std::string::npos);
  EXPECT_NE(PathError("{range .items[*]}{.x}").find("without {end}"), std::string::npos);
  EXPECT_NE(PathError("{end}").find("without {range}"), std::string::npos);
  EXPECT_FALSE(JsonPath("not json", "{.a}").ok());
}

}  // namespace
}  // namespace hubspoke::expr
