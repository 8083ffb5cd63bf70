// DAG templates: dependencies, enhanced depends, omitted tasks, failFast, continueOn and target.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine_harness.h"

namespace hubspoke::engine::testing {
namespace {

using ::testing::ElementsAre;

// A workflow whose entrypoint DAG has `dag` (its body, indented under `dag:`), and a `run`
// template that runs its `cmd` input with sh -c.
std::string WithDag(const std::string& dag) {
  return R"(
kind: Workflow
metadata: {name: wf}
spec:
  entrypoint: main
  templates:
  - name: main
    dag:
)" + dag +
         R"(
  - name: run
    inputs: {parameters: [{name: cmd, value: "echo ok"}]}
    container: {image: alpine, command: [sh, -c, "{{inputs.parameters.cmd}}"]}
  - name: missing
    container: {image: alpine, command: [no-such-command]}
)";
}

TEST(Dag, DependenciesOrderTasksAsADiamond) {
  Harness h;
  h.Run(WithDag(R"(
      tasks:
      - {name: A, template: run}
      - {name: B, template: run, dependencies: [A]}
      - {name: C, template: run, dependencies: [A]}
      - {name: D, template: run, dependencies: [B, C]}
)"));
  EXPECT_THAT(h.log(), ElementsAre("start A", "end A", "start B", "start C", "end B", "end C",
                                   "start D", "end D"));
  EXPECT_EQ(h.Status().phase, Phase::kSucceeded);
  const Node& root = h.NodeNamed("wf");
  EXPECT_EQ(root.type, NodeType::kDag);
  const Node& b = h.NodeNamed("B");
  EXPECT_EQ(b.name, "wf.B");
  EXPECT_EQ(b.id, ArgoNodeId("wf", "wf.B"));
  EXPECT_EQ(b.boundary_id, "wf");
  EXPECT_EQ(root.children.size(), 4u);
}

TEST(Dag, TaskOutputsAreVisibleToDependents) {
  Harness h;
  h.Run(WithDag(R"(
      tasks:
      - {name: A, template: run, arguments: {parameters: [{name: cmd, value: "echo hello"}]}}
      - name: B
        template: run
        dependencies: [A]
        arguments: {parameters: [{name: cmd, value: "echo {{tasks.A.outputs.result}} world"}]}
)"));
  EXPECT_EQ(h.NodeNamed("B").result, "hello world");
}

TEST(Dag, DependsOnFailedRunsTheHandlerAndTheDagSucceeds) {
  Harness h;
  h.Run(WithDag(R"(
      failFast: false
      tasks:
      - {name: A, template: run, arguments: {parameters: [{name: cmd, value: "exit 1"}]}}
      - {name: on-fail, template: run, depends: A.Failed}
)"));
  EXPECT_EQ(h.NodeNamed("A").phase, Phase::kFailed);
  EXPECT_EQ(h.NodeNamed("on-fail").phase, Phase::kSucceeded);
  EXPECT_EQ(h.Status().phase, Phase::kSucceeded);
}

TEST(Dag, OmittedLeafInheritsTheFailureOfItsBranch) {
  Harness h;
  h.Run(WithDag(R"(
      failFast: false
      tasks:
      - {name: A, template: run, arguments: {parameters: [{name: cmd, value: "exit 1"}]}}
      - {name: on-fail, template: run, depends: A.Failed}
      - {name: on-ok, template: run, depends: A.Succeeded}
)"));
  EXPECT_EQ(h.NodeNamed("on-fail").phase, Phase::kSucceeded);
  EXPECT_EQ(h.NodeNamed("on-ok").phase, Phase::kOmitted);
  EXPECT_EQ(h.NodeNamed("on-ok").message, "omitted: depends condition not met");
  EXPECT_EQ(h.Status().phase, Phase::kFailed);
}

TEST(Dag, DependsOnSucceededOmitsTheTaskWhenTheDependencyFails) {
  Harness h;
  h.Run(WithDag(R"(
      failFast: false
      tasks:
      - {name: A, template: run, arguments: {parameters: [{name: cmd, value: "exit 1"}]}}
      - {name: B, template: run, depends: A.Succeeded}
)"));
  const Node& b = h.NodeNamed("B");
  EXPECT_EQ(b.phase, Phase::kOmitted);
  EXPECT_EQ(b.type, NodeType::kSkipped);
  EXPECT_EQ(b.name, "wf.B");
  EXPECT_THAT(h.DispatchedNames(), ElementsAre("A"));
  // The failure of A reaches the DAG through its omitted dependent.
  EXPECT_EQ(h.Status().phase, Phase::kFailed);
}

TEST(Dag, DependsOnSkipped) {
  Harness h;
  h.Run(WithDag(R"(
      tasks:
      - {name: A, template: run, when: "false"}
      - {name: B, template: run, depends: A.Skipped}
      - {name: C, template: run, depends: A.Succeeded}
)"));
  EXPECT_EQ(h.NodeNamed("A").phase, Phase::kSkipped);
  EXPECT_EQ(h.NodeNamed("B").phase, Phase::kSucceeded);
  EXPECT_EQ(h.NodeNamed("C").phase, Phase::kOmitted);
  EXPECT_EQ(h.Status().phase, Phase::kSucceeded);
}

TEST(Dag, DependsOnOmitted) {
  Harness h;
  h.Run(WithDag(R"(
      tasks:
      - {name: A, template: run}
      - {name: B, template: run, depends: A.Failed}
      - {name: C, template: run, depends: B.Omitted}
      - {name: D, template: run, depends: B.Succeeded}
)"));
  EXPECT_EQ(h.NodeNamed("B").phase, Phase::kOmitted);
  EXPECT_EQ(h.NodeNamed("C").phase, Phase::kSucceeded);
  EXPECT_EQ(h.NodeNamed("D").phase, Phase::kOmitted);
  EXPECT_EQ(h.Status().phase, Phase::kSucceeded);
}

TEST(Dag, DependsCombinesConditions) {
  Harness h;
  h.Run(WithDag(R"(
      failFast: false
      tasks:
      - {name: A, template: run}
      - {name: B, template: run, arguments: {parameters: [{name: cmd, value: "exit 2"}]}}
      - {name: both, template: run, depends: "A.Succeeded && B.Succeeded"}
      - {name: either, template: run, depends: "A.Failed || B.Failed"}
      - {name: done, template: run, depends: "(A.Succeeded || A.Failed) && !B.Succeeded"}
)"));
  EXPECT_EQ(h.NodeNamed("both").phase, Phase::kOmitted);
  EXPECT_EQ(h.NodeNamed("either").phase, Phase::kSucceeded);
  EXPECT_EQ(h.NodeNamed("done").phase, Phase::kSucceeded);
}

constexpr const char* kFailFastDag = R"(
      tasks:
      - {name: fast-fail, template: run, arguments: {parameters: [{name: cmd, value: "exit 1"}]}}
      - {name: slow, template: run, arguments: {parameters: [{name: cmd, value: "sleep 5"}]}}
      - {name: after-slow, template: run, dependencies: [slow]}
)";

TEST(Dag, FailFastByDefaultStartsNothingNewAfterAFailure) {
  Harness h;
  h.Run(WithDag(kFailFastDag));
  EXPECT_THAT(h.log(), ElementsAre("start fast-fail", "start slow", "end fast-fail", "end slow"));
  EXPECT_EQ(h.NodeNamed("slow").phase, Phase::kSucceeded);
  EXPECT_EQ(h.FindNode("after-slow"), nullptr);
  const Node& root = h.NodeNamed("wf");
  EXPECT_EQ(root.phase, Phase::kFailed);
  EXPECT_EQ(root.message, "child '" + h.NodeNamed("fast-fail").id + "' failed");
  // The DAG finishes only once the running task has finished.
  EXPECT_EQ(root.finished_at, h.NodeNamed("slow").finished_at);
  EXPECT_EQ(h.Status().phase, Phase::kFailed);
}

TEST(Dag, FailFastFalseRunsEveryBranch) {
  Harness h;
  h.Run(WithDag("      failFast: false\n" + std::string(kFailFastDag)));
  EXPECT_EQ(h.NodeNamed("after-slow").phase, Phase::kSucceeded);
  EXPECT_EQ(h.NodeNamed("wf").phase, Phase::kFailed);
  EXPECT_EQ(h.NodeNamed("wf").message, "child '" + h.NodeNamed("fast-fail").id + "' failed");
  EXPECT_EQ(h.Status().phase, Phase::kFailed);
}

TEST(Dag, ContinueOnFailedLetsDependentsRun) {
  Harness h;
  h.Run(WithDag(R"(
      tasks:
      - name: A
        template: run
        continueOn: {failed: true}
        arguments: {parameters: [{name: cmd, value: "exit 1"}]}
      - {name: B, template: run, dependencies: [A]}
)"));
  EXPECT_EQ(h.NodeNamed("A").phase, Phase::kFailed);
  EXPECT_EQ(h.NodeNamed("B").phase, Phase::kSucceeded);
  EXPECT_EQ(h.Status().phase, Phase::kSucceeded);
}

TEST(Dag, ContinueOnErrorLetsDependentsRunAfterAnError) {
  Harness h;
  h.Run(WithDag(R"(
      tasks:
      - {name: A, template: missing, continueOn: {error: true}}
      - {name: B, template: run, dependencies: [A]}
)"));
  EXPECT_EQ(h.NodeNamed("A").phase, Phase::kError);
  EXPECT_EQ(h.NodeNamed("B").phase, Phase::kSucceeded);
  EXPECT_EQ(h.Status().phase, Phase::kSucceeded);
}

TEST(Dag, ContinueOnErrorDoesNotCoverAFailure) {
  Harness h;
  h.Run(WithDag(R"(
      tasks:
      - name: A
        template: run
        continueOn: {error: true}
        arguments: {parameters: [{name: cmd, value: "exit 1"}]}
      - {name: B, template: run, dependencies: [A]}
)"));
  EXPECT_EQ(h.FindNode("B"), nullptr);
  EXPECT_EQ(h.Status().phase, Phase::kFailed);
}

TEST(Dag, TargetRunsOnlyTheTargetAndItsDependencies) {
  Harness h;
  h.Run(WithDag(R"(
      target: C
      tasks:
      - {name: A, template: run}
      - {name: B, template: run}
      - {name: C, template: run, dependencies: [A]}
      - {name: D, template: run, dependencies: [C]}
)"));
  EXPECT_THAT(h.DispatchedNames(), ElementsAre("A", "C"));
  EXPECT_EQ(h.Status().phase, Phase::kSucceeded);
}

TEST(Dag, LoopedTaskGetsATaskGroup) {
  Harness h;
  h.Run(WithDag(R"(
      tasks:
      - name: L
        template: run
        arguments: {parameters: [{name: cmd, value: "echo {{item}}"}]}
        withItems: [a, b]
      - name: after
        template: run
        dependencies: [L]
        arguments: {parameters: [{name: cmd, value: "echo '{{tasks.L.outputs.result}}'"}]}
)"));
  const Node& group = h.NodeNamed("L");
  EXPECT_EQ(group.type, NodeType::kTaskGroup);
  EXPECT_EQ(group.name, "wf.L");
  EXPECT_EQ(h.NodeNamed("L(0:a)").name, "wf.L(0:a)");
  EXPECT_THAT(group.children, ElementsAre(h.NodeNamed("L(0:a)").id, h.NodeNamed("L(1:b)").id));
  EXPECT_EQ(h.NodeNamed("after").result, R"(["a","b"])");
  EXPECT_EQ(h.Status().phase, Phase::kSucceeded);
}

TEST(Dag, NestedDagSetsTheBoundary) {
  Harness h;
  h.Run(R"(
kind: Workflow
metadata: {name: wf}
spec:
  entrypoint: main
  templates:
  - name: main
    dag:
      tasks:
      - {name: inner, template: inner}
  - name: inner
    dag:
      tasks:
      - {name: leaf, template: run}
  - name: run
    container: {image: alpine, command: [echo, hi]}
)");
  EXPECT_EQ(h.NodeNamed("leaf").name, "wf.inner.leaf");
  EXPECT_EQ(h.NodeNamed("leaf").boundary_id, h.NodeNamed("inner").id);
  EXPECT_EQ(h.Status().phase, Phase::kSucceeded);
}

}  // namespace
}  // namespace hubspoke::engine::testing

namespace hubspoke::engine::testing {
namespace {

TEST(Dag, FailureHandledByADependentsDependsDoesNotTripFailFast) {
  Harness h;
  h.Run(WithDag(R"y(
      tasks:
      - {name: A, template: run}
      - {name: B, template: run, depends: A}
      - {name: C, template: run, depends: A, arguments: {parameters: [{name: cmd, value: "exit 1"}]}}
      - {name: handler, template: run, depends: "A && (C.Succeeded || C.Failed)"}
      - {name: either, template: run, depends: B || C}
      - {name: both, template: run, depends: B && C}
      - {name: last, template: run, depends: either.Succeeded || both}
)y"));
  EXPECT_EQ(h.NodeNamed("C").phase, Phase::kFailed);
  EXPECT_EQ(h.NodeNamed("handler").phase, Phase::kSucceeded);
  EXPECT_EQ(h.NodeNamed("either").phase, Phase::kSucceeded);
  EXPECT_EQ(h.NodeNamed("both").phase, Phase::kOmitted);
  EXPECT_EQ(h.NodeNamed("last").phase, Phase::kSucceeded);
  // The omitted leaf takes its first dependency's branch (B, Succeeded), as Argo's walk does.
  EXPECT_EQ(h.Status().phase, Phase::kSucceeded);
}

}  // namespace
}  // namespace hubspoke::engine::testing
