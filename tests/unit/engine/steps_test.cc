// Steps templates: group order, parallelism within a group, node naming, phases and `when`.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine_harness.h"

namespace hubspoke::engine::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr const char* kTwoGroups = R"(
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: wf}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: a, template: echo, arguments: {parameters: [{name: msg, value: A}]}}
      - {name: b, template: echo, arguments: {parameters: [{name: msg, value: B}]}}
    - - {name: c, template: echo, arguments: {parameters: [{name: msg, value: C}]}}
  - name: echo
    inputs: {parameters: [{name: msg}]}
    container: {image: alpine, command: [echo, "{{inputs.parameters.msg}}"]}
)";

TEST(Steps, GroupsRunOneAfterAnother) {
  Harness h;
  h.Run(kTwoGroups);
  EXPECT_EQ(h.Status().phase, Phase::kSucceeded);
  EXPECT_THAT(h.log(), ElementsAre("start a", "start b", "end a", "end b", "start c", "end c"));
}

TEST(Steps, StepsOfAGroupAreAllDispatchedBeforeAnyFinishes) {
  Harness h;
  h.Submit(kTwoGroups);
  EXPECT_THAT(h.DispatchedNames(), ElementsAre("a", "b"));
  EXPECT_EQ(h.running(), 2);
}

TEST(Steps, NodeNamesAndIdsFollowArgosScheme) {
  Harness h;
  h.Run(kTwoGroups);
  const WorkflowStatus& st = h.Status();
  const Node& root = st.nodes[0];
  EXPECT_EQ(root.id, "wf");
  EXPECT_EQ(root.name, "wf");
  EXPECT_EQ(root.display_name, "wf");
  EXPECT_EQ(root.type, NodeType::kSteps);

  const Node& g0 = h.NodeNamed("[0]");
  EXPECT_EQ(g0.name, "wf[0]");
  EXPECT_EQ(g0.id, ArgoNodeId("wf", "wf[0]"));
  EXPECT_EQ(g0.type, NodeType::kStepGroup);
  EXPECT_EQ(g0.boundary_id, "wf");

  const Node& a = h.NodeNamed("a");
  EXPECT_EQ(a.name, "wf[0].a");
  EXPECT_EQ(a.id, ArgoNodeId("wf", "wf[0].a"));
  EXPECT_EQ(a.type, NodeType::kPod);
  EXPECT_EQ(a.template_name, "echo");
  EXPECT_EQ(h.NodeNamed("c").name, "wf[1].c");

  EXPECT_THAT(root.children, ElementsAre(g0.id, h.NodeNamed("[1]").id));
  EXPECT_THAT(g0.children, ElementsAre(a.id, h.NodeNamed("b").id));
}

TEST(Steps, TaskCarriesSubstitutedCommandAndNodeId) {
  Harness h;
  h.Run(kTwoGroups);
  const Task& first = h.dispatched()[0];
  EXPECT_EQ(first.workflow, "wf");
  EXPECT_EQ(first.node_id, h.NodeNamed("a").id);
  EXPECT_EQ(first.image, "alpine");
  EXPECT_THAT(first.command, ElementsAre("echo", "A"));
  EXPECT_EQ(h.NodeNamed("a").result, "A");
  EXPECT_EQ(h.NodeNamed("a").exit_code, 0);
  EXPECT_EQ(h.NodeNamed("a").host_node_name, "spoke-1");
}

TEST(Steps, NodeTimesComeFromTheClock) {
  Harness h;
  Micros t0 = h.clock().Now();
  h.behavior = [](const Task& t) {
    Outcome o = DefaultBehavior(t);
    o.duration = 5 * kSecond;
    return o;
  };
  h.Run(kTwoGroups);
  EXPECT_EQ(h.NodeNamed("a").started_at, t0);
  EXPECT_EQ(h.NodeNamed("a").finished_at, t0 + 5 * kSecond);
  EXPECT_EQ(h.NodeNamed("c").started_at, t0 + 5 * kSecond);
  EXPECT_EQ(h.NodeNamed("c").finished_at, t0 + 10 * kSecond);
  EXPECT_EQ(h.Status().started_at, t0);
  EXPECT_EQ(h.Status().finished_at, t0 + 10 * kSecond);
}

constexpr const char* kFailingStep = R"(
kind: Workflow
metadata: {name: wf}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: ok, template: run, arguments: {parameters: [{name: cmd, value: "exit 0"}]}}
      - {name: bad, template: run, arguments: {parameters: [{name: cmd, value: "exit 3"}]}}
    - - {name: never, template: run, arguments: {parameters: [{name: cmd, value: "exit 0"}]}}
  - name: run
    inputs: {parameters: [{name: cmd}]}
    container: {image: alpine, command: [sh, -c, "{{inputs.parameters.cmd}}"]}
)";

TEST(Steps, FailedStepFailsItsGroupStepsNodeAndWorkflow) {
  Harness h;
  h.Run(kFailingStep);
  const Node& bad = h.NodeNamed("bad");
  EXPECT_EQ(bad.phase, Phase::kFailed);
  EXPECT_EQ(bad.exit_code, 3);
  EXPECT_EQ(h.NodeNamed("ok").phase, Phase::kSucceeded);
  std::string message = "child '" + bad.id + "' failed";
  EXPECT_EQ(h.NodeNamed("[0]").phase, Phase::kFailed);
  EXPECT_EQ(h.NodeNamed("[0]").message, message);
  EXPECT_EQ(h.NodeNamed("wf").phase, Phase::kFailed);
  EXPECT_EQ(h.NodeNamed("wf").message, message);
  EXPECT_EQ(h.Status().phase, Phase::kFailed);
  EXPECT_EQ(h.Status().message, message);
  EXPECT_EQ(h.FindNode("never"), nullptr);
  EXPECT_EQ(h.FindNode("[1]"), nullptr);
}

TEST(Steps, TaskThatCannotStartIsAnErrorNode) {
  Harness h;
  h.Run(R"(
kind: Workflow
metadata: {name: wf}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: missing, template: missing}
  - name: missing
    container: {image: alpine, command: [no-such-command]}
)");
  const Node& missing = h.NodeNamed("missing");
  EXPECT_EQ(missing.phase, Phase::kError);
  EXPECT_THAT(missing.message, HasSubstr("executable file not found"));
  EXPECT_EQ(h.Status().phase, Phase::kFailed);
}

TEST(Steps, PodEntrypointThatCannotStartMakesTheWorkflowError) {
  Harness h;
  h.Run(R"(
kind: Workflow
metadata: {name: wf}
spec:
  entrypoint: missing
  templates:
  - name: missing
    container: {image: alpine, command: [no-such-command]}
)");
  EXPECT_EQ(h.NodeNamed("wf").phase, Phase::kError);
  EXPECT_EQ(h.Status().phase, Phase::kError);
}

TEST(Steps, ContinueOnFailedLetsTheWorkflowGoOn) {
  Harness h;
  h.Run(R"(
kind: Workflow
metadata: {name: wf}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: bad, template: fail, continueOn: {failed: true}}
    - - {name: next, template: ok}
  - name: fail
    container: {image: alpine, command: [sh, -c, "exit 1"]}
  - name: ok
    container: {image: alpine, command: [echo, fine]}
)");
  EXPECT_EQ(h.NodeNamed("bad").phase, Phase::kFailed);
  EXPECT_EQ(h.NodeNamed("[0]").phase, Phase::kSucceeded);
  EXPECT_EQ(h.NodeNamed("next").phase, Phase::kSucceeded);
  EXPECT_EQ(h.Status().phase, Phase::kSucceeded);
}

TEST(Steps, ContinueOnErrorDoesNotCoverFailures) {
  Harness h;
  h.Run(R"(
kind: Workflow
metadata: {name: wf}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: err, template: missing, continueOn: {error: true}}
    - - {name: bad, template: fail, continueOn: {error: true}}
  - name: missing
    container: {image: alpine, command: [no-such-command]}
  - name: fail
    container: {image: alpine, command: [sh, -c, "exit 1"]}
)");
  EXPECT_EQ(h.NodeNamed("err").phase, Phase::kError);
  EXPECT_EQ(h.NodeNamed("[0]").phase, Phase::kSucceeded);
  EXPECT_EQ(h.NodeNamed("bad").phase, Phase::kFailed);
  EXPECT_EQ(h.NodeNamed("[1]").phase, Phase::kFailed);
  EXPECT_EQ(h.Status().phase, Phase::kFailed);
}

TEST(Steps, NestedStepsTemplatesNestNodeNames) {
  Harness h;
  h.Run(R"(
kind: Workflow
metadata: {name: wf}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: inner, template: inner}
  - name: inner
    steps:
    - - {name: leaf, template: ok}
  - name: ok
    container: {image: alpine, command: [echo, hi]}
)");
  EXPECT_EQ(h.NodeNamed("inner").type, NodeType::kSteps);
  EXPECT_EQ(h.NodeNamed("leaf").name, "wf[0].inner[0].leaf");
  EXPECT_EQ(h.NodeNamed("leaf").boundary_id, h.NodeNamed("inner").id);
  EXPECT_EQ(h.Status().phase, Phase::kSucceeded);
}

TEST(Steps, StepOutputsAreVisibleToLaterGroups) {
  Harness h;
  h.Run(R"(
kind: Workflow
metadata: {name: wf}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: first, template: echo, arguments: {parameters: [{name: msg, value: hello}]}}
    - - name: second
        template: echo
        arguments: {parameters: [{name: msg, value: "{{steps.first.outputs.result}} again"}]}
  - name: echo
    inputs: {parameters: [{name: msg}]}
    container: {image: alpine, command: [echo, "{{inputs.parameters.msg}}"]}
)");
  EXPECT_EQ(h.NodeNamed("second").result, "hello again");
}

// ---------------------------------------------------------------- when

constexpr const char* kWhen = R"(
kind: Workflow
metadata: {name: wf}
spec:
  entrypoint: main
  arguments: {parameters: [{name: coin, value: heads}, {name: n, value: "7"}]}
  templates:
  - name: main
    steps:
    - - {name: yes, template: ok, when: "true"}
      - {name: no, template: ok, when: "false"}
      - {name: heads, template: ok, when: "{{workflow.parameters.coin}} == heads"}
      - {name: tails, template: ok, when: "{{workflow.parameters.coin}} == tails"}
      - {name: big, template: ok, when: "{{workflow.parameters.n}} > 5"}
      - {name: huge, template: ok, when: "{{workflow.parameters.n}} >= 10"}
  - name: ok
    container: {image: alpine, command: [echo, hi]}
)";

TEST(When, TrueRunsTheStep) {
  Harness h;
  h.Run(kWhen);
  EXPECT_EQ(h.NodeNamed("yes").phase, Phase::kSucceeded);
  EXPECT_EQ(h.NodeNamed("yes").type, NodeType::kPod);
}

TEST(When, FalseSkipsTheStepWithAMessage) {
  Harness h;
  h.Run(kWhen);
  const Node& no = h.NodeNamed("no");
  EXPECT_EQ(no.phase, Phase::kSkipped);
  EXPECT_EQ(no.type, NodeType::kSkipped);
  EXPECT_EQ(no.message, "when 'false' evaluated false");
  EXPECT_EQ(h.NodeNamed("[0]").phase, Phase::kSucceeded);
  EXPECT_EQ(h.Status().phase, Phase::kSucceeded);
}

TEST(When, BareWordsCompareAsStrings) {
  Harness h;
  h.Run(kWhen);
  EXPECT_EQ(h.NodeNamed("heads").phase, Phase::kSucceeded);
  EXPECT_EQ(h.NodeNamed("tails").phase, Phase::kSkipped);
  EXPECT_EQ(h.NodeNamed("tails").message, "when 'heads == tails' evaluated false");
}

TEST(When, NumbersCompareNumerically) {
  Harness h;
  h.Run(kWhen);
  EXPECT_EQ(h.NodeNamed("big").phase, Phase::kSucceeded);
  EXPECT_EQ(h.NodeNamed("huge").phase, Phase::kSkipped);
}

TEST(When, ConditionOnAPreviousStepsResult) {
  Harness h;
  h.Run(R"(
kind: Workflow
metadata: {name: wf}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: flip, template: flip}
    - - {name: heads, template: ok, when: "{{steps.flip.outputs.result}} == heads"}
      - {name: tails, template: ok, when: "{{steps.flip.outputs.result}} == tails"}
  - name: flip
    script: {image: python, command: [sh], source: "echo tails"}
  - name: ok
    container: {image: alpine, command: [echo, hi]}
)");
  EXPECT_EQ(h.NodeNamed("flip").result, "tails");
  EXPECT_EQ(h.NodeNamed("heads").phase, Phase::kSkipped);
  EXPECT_EQ(h.NodeNamed("tails").phase, Phase::kSucceeded);
}

}  // namespace
}  // namespace hubspoke::engine::testing
