#include <gtest/gtest.h>

#include <map>

#include "expr/expr.h"

namespace hubspoke::expr {
namespace {

class Tasks {
 public:
  Tasks& Set(std::string name, std::string phase) {
    TaskState s;
    s.exists = true;
    s.phase = std::move(phase);
    states_[std::move(name)] = s;
    return *this;
  }
  Tasks& Set(std::string name, TaskState s) {
    states_[std::move(name)] = s;
    return *this;
  }
  bool Eval(std::string_view depends) const {
    auto result = EvaluateDepends(depends, [this](std::string_view name) {
      auto it = states_.find(std::string(name));
      return it == states_.end() ? TaskState{} : it->second;
    });
    EXPECT_TRUE(result.ok()) << depends << ": " << result.error().message;
    return result.ok() && *result;
  }

 private:
  std::map<std::string, TaskState> states_;
};

TEST(Depends, BareNameMeansSucceededSkippedOrDaemoned) {
  EXPECT_TRUE(Tasks().Set("A", "Succeeded").Eval("A"));
  EXPECT_TRUE(Tasks().Set("A", "Skipped").Eval("A"));
  TaskState daemoned{true, "Running", true, false, false};
  EXPECT_TRUE(Tasks().Set("A", daemoned).Eval("A"));
  EXPECT_FALSE(Tasks().Set("A", "Failed").Eval("A"));
  EXPECT_FALSE(Tasks().Set("A", "Omitted").Eval("A"));
  EXPECT_FALSE(Tasks().Eval("A"));
}

TEST(Depends, ResultSuffixesMatchPhases) {
  Tasks t;
  t.Set("a", "Succeeded")
      .Set("b", "Failed")
      .Set("c", "Error")
      .Set("d", "Skipped")
      .Set("e", "Omitted");
  EXPECT_TRUE(t.Eval("a.Succeeded"));
  EXPECT_TRUE(t.Eval("b.Failed"));
  EXPECT_FALSE(t.Eval("b.Succeeded"));
  EXPECT_TRUE(t.Eval("c.Errored"));
  EXPECT_FALSE(t.Eval("c.Failed"));
  EXPECT_TRUE(t.Eval("d.Skipped"));
  EXPECT_TRUE(t.Eval("e.Omitted"));
}

TEST(Depends, LoopResultsUseAggregateFlags) {
  TaskState loop{true, "Failed", false, true, false};
  EXPECT_TRUE(Tasks().Set("fan", loop).Eval("fan.AnySucceeded"));
  EXPECT_FALSE(Tasks().Set("fan", loop).Eval("fan.AllFailed"));
  TaskState failed{true, "Failed", false, false, true};
  EXPECT_TRUE(Tasks().Set("fan", failed).Eval("fan.AllFailed"));
}

TEST(Depends, TaskThatDoesNotExistMatchesNothing) {
  Tasks t;
  EXPECT_FALSE(t.Eval("A.Failed"));
  EXPECT_FALSE(t.Eval("A.Succeeded"));
  EXPECT_TRUE(t.Eval("!A.Failed"));
}

TEST(Depends, OperatorsAndParentheses) {
  Tasks t;
  t.Set("A", "Succeeded").Set("B", "Failed").Set("C", "Succeeded");
  EXPECT_TRUE(t.Eval("A && (B.Failed || C.Failed)"));
  EXPECT_FALSE(t.Eval("A && B"));
  EXPECT_TRUE(t.Eval("A || B"));
  EXPECT_TRUE(t.Eval("!B"));
  EXPECT_TRUE(t.Eval("A && B.Failed && !(C.Failed)"));
  EXPECT_TRUE(t.Eval("B || A && C"));  // && binds tighter
}

TEST(Depends, NamesMayHaveDashesAndDigits) {
  Tasks t;
  t.Set("build-2", "Succeeded").Set("test_1", "Failed");
  EXPECT_TRUE(t.Eval("build-2.Succeeded&&test_1.Failed"));
}

TEST(Depends, UnknownResultIsAnError) {
  auto result = EvaluateDepends("A.Finished", [](std::string_view) { return TaskState{}; });
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.error().message.find("unknown result 'Finished' for task 'A'"),
            std::string::npos)
      << result.error().message;
  EXPECT_NE(result.error().message.find("column 3"), std::string::npos);
}

TEST(Depends, SyntaxErrorsGivePosition) {
  for (std::string_view bad : {"A &&", "(A", "A B", "&& A", "", "A ||| B", "A.", "A & B"}) {
    auto result = DependsTasks(bad);
    EXPECT_FALSE(result.ok()) << bad;
    if (!result.ok()) {
      EXPECT_NE(result.error().message.find("column"), std::string::npos);
    }
  }
}

TEST(Depends, TasksListedInOrderOfFirstAppearance) {
  auto tasks = DependsTasks("(b.Failed || a) && !b && c-1.Skipped");
  ASSERT_TRUE(tasks.ok()) << tasks.error().message;
  EXPECT_EQ(*tasks, (std::vector<std::string>{"b", "a", "c-1"}));
}

TEST(Depends, DeepNestingIsRejected) {
  std::string deep(50000, '(');
  EXPECT_FALSE(DependsTasks(deep + "A" + std::string(50000, ')')).ok());
  EXPECT_FALSE(DependsTasks(std::string(50000, '!') + "A").ok());
}

}  // namespace
}  // namespace hubspoke::expr
