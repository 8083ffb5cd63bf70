// Incrementality (an event touches a handful of nodes, not the workflow) and determinism.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "engine_harness.h"

namespace hubspoke::engine::testing {
namespace {

std::string FanOut(int items) {
  return R"(
kind: Workflow
metadata: {generateName: fan-}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: loop, template: work, withSequence: {count: ")" +
         std::to_string(items) + R"("}}
  - name: work
    container: {image: alpine, command: [echo, hi]}
)";
}

size_t ChangedNodes(const Changes& changes) {
  size_t n = 0;
  for (const auto& [workflow, nodes] : changes.nodes) n += nodes.size();
  return n;
}

TEST(Incremental, OneTaskFinishedInAThousandItemFanOutChangesAHandfulOfNodes) {
  Harness h;
  std::string name = h.Submit(FanOut(1000));
  ASSERT_EQ(h.dispatched().size(), 1000u);
  Changes initial = h.engine().TakeChanges();
  EXPECT_GE(ChangedNodes(initial), 1002u);  // root, group, 1000 items
  EXPECT_EQ(initial.workflows, std::vector<std::string>{name});

  ASSERT_TRUE(h.Step());  // the first item finishes
  Changes one = h.engine().TakeChanges();
  EXPECT_LE(ChangedNodes(one), 3u);
  EXPECT_GE(ChangedNodes(one), 1u);
  EXPECT_TRUE(one.workflows.empty());
  const Node& first = h.Status(name).nodes[one.nodes.at(0).second.at(0)];
  EXPECT_EQ(first.phase, Phase::kSucceeded);

  h.RunUntilFinished(name);
  Changes rest = h.engine().TakeChanges();
  EXPECT_EQ(rest.workflows, std::vector<std::string>{name});
  EXPECT_EQ(h.Status(name).phase, Phase::kSucceeded);
}

size_t PodNodes(const WorkflowStatus& st) {
  return std::count_if(st.nodes.begin(), st.nodes.end(),
                       [](const Node& n) { return n.type == NodeType::kPod; });
}

// A big loop without a parallelism limit is materialized a bounded number of items ahead: its
// first tasks go out at once, and each item that ends lets the next one in.
TEST(Incremental, ABigLoopIsMaterializedAFewThousandItemsAhead) {
  Harness h;
  std::string name = h.Submit(FanOut(5000));
  const size_t ahead = h.dispatched().size();
  EXPECT_GE(ahead, 1000u);
  EXPECT_LT(ahead, 5000u);
  EXPECT_EQ(PodNodes(h.Status(name)), ahead);
  EXPECT_EQ(h.Status(name).pods_not_created, 5000u - ahead);  // in the progress all the same

  // Once half of them have ended, as many more come in at once (the group node, which lists
  // them, is stored once for them all).
  size_t ended = 0;
  while (h.dispatched().size() == ahead) {
    ASSERT_TRUE(h.Step());
    ++ended;
  }
  EXPECT_EQ(ended, ahead / 2);
  EXPECT_EQ(h.dispatched().size(), ahead + ahead / 2);
  EXPECT_EQ(PodNodes(h.Status(name)), ahead + ahead / 2);

  h.RunUntilFinished(name);
  const WorkflowStatus& st = h.Status(name);
  EXPECT_EQ(st.phase, Phase::kSucceeded);
  ASSERT_EQ(PodNodes(st), 5000u);
  EXPECT_EQ(st.pods_not_created, 0u);
  int next = 0;  // the items are created in their order
  for (const Node& n : st.nodes) {
    if (n.type == NodeType::kPod) {
      EXPECT_EQ(n.item_index, next++);
    }
  }
}

// failFast stops what a parallelism limit holds back; items held back only because they were not
// materialized yet are not "new steps": they all run, as they would had they been created first.
TEST(Incremental, FailFastDoesNotDropItemsWaitingToBeMaterialized) {
  Harness h;
  std::string name = h.Run(R"(
kind: Workflow
metadata: {generateName: fan-}
spec:
  entrypoint: main
  templates:
  - name: main
    failFast: true
    steps:
    - - name: loop
        template: work
        arguments: {parameters: [{name: code, value: "{{item}}"}]}
        withSequence: {count: "3000"}
  - name: work
    inputs: {parameters: [{name: code}]}
    container: {image: alpine, command: [sh, -c, "exit {{inputs.parameters.code}}"]}
)");
  const WorkflowStatus& st = h.Status(name);
  EXPECT_EQ(st.phase, Phase::kFailed);  // every item but the first exits non-zero
  EXPECT_EQ(PodNodes(st), 3000u);
}

TEST(Incremental, TakeChangesIsEmptyWhenNothingHappened) {
  Harness h;
  h.Submit(FanOut(3));
  (void)h.engine().TakeChanges();
  EXPECT_TRUE(h.engine().TakeChanges().empty());
  EXPECT_TRUE(h.engine().TakeEffects().empty());
}

// A workflow forgotten (deleted) in the tick that changed its nodes leaves no node changes behind
// for the hub to look up.
TEST(Incremental, ForgettingAWorkflowDropsItsChangesNotYetTaken) {
  Harness h;
  std::string name = h.Submit(FanOut(3));
  h.engine().Forget(name);
  Changes changes = h.engine().TakeChanges();
  EXPECT_EQ(ChangedNodes(changes), 0u);
  EXPECT_EQ(h.engine().Find(name), nullptr);
}

TEST(Determinism, SameSeedGivesSameNamesAndIds) {
  Harness a(7), b(7);
  std::string name_a = a.Run(FanOut(5));
  std::string name_b = b.Run(FanOut(5));
  EXPECT_EQ(name_a, name_b);
  const auto& nodes_a = a.Status(name_a).nodes;
  const auto& nodes_b = b.Status(name_b).nodes;
  ASSERT_EQ(nodes_a.size(), nodes_b.size());
  for (size_t i = 0; i < nodes_a.size(); ++i) {
    EXPECT_EQ(nodes_a[i].name, nodes_b[i].name);
    EXPECT_EQ(nodes_a[i].id, nodes_b[i].id);
  }
  ASSERT_EQ(a.dispatched().size(), b.dispatched().size());
  for (size_t i = 0; i < a.dispatched().size(); ++i)
    EXPECT_EQ(a.dispatched()[i].attempt_id, b.dispatched()[i].attempt_id);
}

TEST(Determinism, DifferentSeedsGiveDifferentGeneratedNames) {
  Harness a(1), b(2);
  EXPECT_NE(a.Submit(FanOut(1)), b.Submit(FanOut(1)));
}

TEST(Determinism, GeneratedNameHasAFiveCharacterSuffix) {
  Harness h;
  std::string name = h.Submit(FanOut(1));
  ASSERT_EQ(name.size(), 4u + 5u);
  EXPECT_EQ(name.substr(0, 4), "fan-");
  EXPECT_EQ(h.Status(name).nodes[0].id, name);
}

}  // namespace
}  // namespace hubspoke::engine::testing
