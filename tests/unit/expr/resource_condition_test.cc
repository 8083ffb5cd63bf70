#include <gtest/gtest.h>

#include "expr/expr.h"

namespace hubspoke::expr {
namespace {

constexpr std::string_view kWorkflow = R"({
  "metadata": {"name": "child-1", "labels": {"app": "hub"}},
  "status": {"phase": "Succeeded", "progress": "3/3", "retries": 2,
             "conditions": [{"type": "Completed", "status": "True"}]}
})";

bool Check(std::string_view condition) {
  auto result = EvaluateResourceCondition(condition, kWorkflow);
  EXPECT_TRUE(result.ok()) << condition << ": " << result.error().message;
  return result.ok() && *result;
}

TEST(ResourceCondition, EqualityOnDottedPath) {
  EXPECT_TRUE(Check("status.phase == Succeeded"));
  EXPECT_TRUE(Check("status.phase = Succeeded"));
  EXPECT_FALSE(Check("status.phase == Failed"));
  EXPECT_TRUE(Check("status.phase != Failed"));
}

TEST(ResourceCondition, InAndNotIn) {
  EXPECT_FALSE(Check("status.phase in (Failed, Error)"));
  EXPECT_TRUE(Check("status.phase in (Failed,Succeeded)"));
  EXPECT_TRUE(Check("status.phase notin (Failed, Error)"));
}

TEST(ResourceCondition, CommaMeansAnd) {
  EXPECT_TRUE(Check("status.phase == Succeeded, metadata.labels.app == hub"));
  EXPECT_FALSE(Check("status.phase == Succeeded, metadata.labels.app == other"));
}

TEST(ResourceCondition, NumericComparisons) {
  EXPECT_TRUE(Check("status.retries > 1"));
  EXPECT_FALSE(Check("status.retries < 2"));
  EXPECT_FALSE(Check("status.phase > 1"));
}

TEST(ResourceCondition, MissingPathMakesRequirementFalse) {
  EXPECT_FALSE(Check("status.nothing == x"));
  EXPECT_FALSE(Check("status.nothing != x"));
  EXPECT_FALSE(Check("status.nothing notin (x)"));
}

TEST(ResourceCondition, ExistenceRequirements) {
  EXPECT_TRUE(Check("status.phase"));
  EXPECT_FALSE(Check("status.nothing"));
  EXPECT_TRUE(Check("!status.nothing"));
}

TEST(ResourceCondition, ArrayIndexSegments) {
  EXPECT_TRUE(Check("status.conditions.0.type == Completed"));
  EXPECT_FALSE(Check("status.conditions.5.type == Completed"));
}

TEST(ResourceCondition, QuotedValues) { EXPECT_TRUE(Check("status.progress == \"3/3\"")); }

TEST(ResourceCondition, MalformedConditionsAreErrors) {
  for (std::string_view bad : {"status.phase ==", "status.phase in Failed", "== x",
                               "status.phase in (a", "status.phase ~ x", ""}) {
    auto result = EvaluateResourceCondition(bad, kWorkflow);
    EXPECT_FALSE(result.ok()) << bad;
  }
  auto result = EvaluateResourceCondition("status.phase ~ x", kWorkflow);
  EXPECT_NE(result.error().message.find("column 14"), std::string::npos) << result.error().message;
}

TEST(ResourceCondition, DocumentMustBeJson) {
  EXPECT_FALSE(EvaluateResourceCondition("a == b", "{not json").ok());
}

}  // namespace
}  // namespace hubspoke::expr
