// Lifecycle hooks: exit hooks and hooks with an expression, on steps, DAG tasks and workflows.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "engine_harness.h"

namespace hubspoke::engine::testing {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;

// Where `line` is in the harness's log (its size when absent).
size_t At(const Harness& h, const std::string& line) {
  return std::find(h.log().begin(), h.log().end(), line) - h.log().begin();
}

// How many tasks of this node display name were dispatched.
int Dispatched(const Harness& h, const std::string& display) {
  const auto names = h.DispatchedNames();
  return static_cast<int>(std::count(names.begin(), names.end(), display));
}

constexpr const char* kTemplates = R"(
  - name: say
    inputs: {parameters: [{name: msg, value: hi}]}
    container: {image: alpine, command: [echo, "{{inputs.parameters.msg}}"]}
  - name: fail
    container: {image: alpine, command: ["false"]}
  - name: broken
    container: {image: alpine, command: [no-such-command]}
  - name: write
    container: {image: alpine, command: [sh, -c, "echo written > /tmp/out"]}
    outputs: {parameters: [{name: out, valueFrom: {path: /tmp/out}}]}
)";

// A main template running one step "a".
constexpr const char* kOneStep = R"(
  - name: main
    steps:
    - - {name: a, template: say}
)";

// A workflow "wf" whose entrypoint is the template `main` (given), with the templates above;
// `spec` adds lines to its spec.
std::string Workflow(const std::string& main, const std::string& spec = "") {
  return "kind: Workflow\nmetadata: {name: wf}\nspec:\n  entrypoint: main\n" + spec +
         "  templates:\n" + main + kTemplates;
}

TEST(StepExitHook, RunsAfterItsStepWithTheStepsOutputsAndTheNextStepWaitsForIt) {
  Harness h;
  h.Run(Workflow(R"(
  - name: main
    steps:
    - - name: step-1
        template: write
        hooks:
          exit:
            template: say
            arguments:
              parameters: [{name: msg, value: "got {{steps.step-1.outputs.parameters.out}}"}]
    - - {name: next, template: say}
)"));
  EXPECT_EQ(h.Status().phase, Phase::kSucceeded);
  const Node& hook = h.NodeNamed("step-1.onExit");
  EXPECT_EQ(hook.name, "wf[0].step-1.onExit");
  EXPECT_EQ(hook.phase, Phase::kSucceeded);
  EXPECT_EQ(hook.result, "got written");
  EXPECT_THAT(h.NodeNamed("step-1").children, Contains(hook.id));
  EXPECT_LT(At(h, "end step-1"), At(h, "start step-1.onExit"));
  EXPECT_LT(At(h, "end step-1.onExit"), At(h, "start next"));
}

TEST(StepExitHook, AStepsOnExitIsItsExitHook) {
  Harness h;
  h.Run(Workflow(R"(
  - name: main
    steps:
    - - {name: a, template: say, onExit: say}
)"));
  EXPECT_EQ(h.NodeNamed("a.onExit").phase, Phase::kSucceeded);
  EXPECT_EQ(h.NodeNamed("a.onExit").result, "hi");
}

TEST(StepHook, RunsOnceWhenItsExpressionBecomesTrue) {
  Harness h;
  h.Run(Workflow(R"(
  - name: main
    steps:
    - - name: step-1
        template: say
        hooks:
          running:
            expression: steps["step-1"].status == "Running"
            template: say
            arguments: {parameters: [{name: msg, value: running}]}
          success:
            expression: steps["step-1"].status == "Succeeded"
            template: say
          failure:
            expression: steps["step-1"].status == "Failed"
            template: say
)"));
  EXPECT_EQ(h.Status().phase, Phase::kSucceeded);
  const Node& running = h.NodeNamed("step-1.hooks.running");
  EXPECT_EQ(running.name, "wf[0].step-1.hooks.running");
  EXPECT_EQ(running.result, "running");
  EXPECT_EQ(Dispatched(h, "step-1.hooks.running"), 1);
  EXPECT_EQ(Dispatched(h, "step-1.hooks.success"), 1);
  EXPECT_EQ(h.FindNode("step-1.hooks.failure"), nullptr);
  // A hook runs beside its step; the step is done for its template once its hooks are.
  EXPECT_LT(At(h, "start step-1.hooks.running"), At(h, "end step-1"));
  EXPECT_LT(At(h, "end step-1"), At(h, "start step-1.hooks.success"));
}

TEST(StepHook, ALoopedStepRunsItsHooksForEachItem) {
  Harness h;
  h.Run(Workflow(R"(
  - name: main
    steps:
    - - name: each
        template: say
        withItems: [a, b]
        hooks:
          exit:
            template: say
            arguments: {parameters: [{name: msg, value: "bye {{item}}"}]}
)"));
  EXPECT_EQ(h.NodeNamed("each(0:a).onExit").result, "bye a");
  EXPECT_EQ(h.NodeNamed("each(1:b).onExit").result, "bye b");
}

TEST(StepHook, AHookThatFailsIsIgnored) {
  Harness h;
  h.Run(Workflow(R"(
  - name: main
    steps:
    - - name: a
        template: say
        hooks: {exit: {template: fail}}
)"));
  EXPECT_EQ(h.NodeNamed("a.onExit").phase, Phase::kFailed);
  EXPECT_EQ(h.Status().phase, Phase::kSucceeded);
}

TEST(StepHook, AHookThatErrorsFailsItsTemplateWhateverContinueOnSays) {
  Harness h;
  h.Run(Workflow(R"(
  - name: main
    steps:
    - - name: a
        template: say
        continueOn: {failed: true, error: true}
        hooks: {exit: {template: broken}}
    - - {name: later, template: say}
)"));
  EXPECT_EQ(h.NodeNamed("a").phase, Phase::kSucceeded);
  EXPECT_EQ(h.NodeNamed("a.onExit").phase, Phase::kError);
  EXPECT_EQ(h.Status().phase, Phase::kFailed);
  EXPECT_THAT(h.NodeNamed("wf").message, HasSubstr("hook 'a.onExit' errored"));
  EXPECT_EQ(h.FindNode("later"), nullptr);
}

TEST(StepHook, AHookWhoseExpressionCannotBeEvaluatedIsAnError) {
  Harness h;
  h.Run(Workflow(R"(
  - name: main
    steps:
    - - name: a
        template: say
        hooks: {odd: {expression: "steps.nothing.status ==", template: say}}
)"));
  EXPECT_EQ(h.NodeNamed("a.hooks.odd").phase, Phase::kError);
  EXPECT_EQ(h.Status().phase, Phase::kFailed);
}

TEST(DagTaskHook, DependentsWaitForTheHooksOfTheirDependencies) {
  Harness h;
  h.Run(Workflow(R"(
  - name: main
    dag:
      tasks:
      - name: A
        template: write
        hooks:
          done:
            expression: tasks.A.status == "Succeeded"
            template: say
            arguments: {parameters: [{name: msg, value: "A: {{tasks.A.outputs.parameters.out}}"}]}
          exit: {template: say}
      - {name: B, template: say, depends: A}
)"));
  EXPECT_EQ(h.Status().phase, Phase::kSucceeded);
  EXPECT_EQ(h.NodeNamed("A.hooks.done").name, "wf.A.hooks.done");
  EXPECT_EQ(h.NodeNamed("A.hooks.done").result, "A: written");
  // The exit hook starts once the others have ended.
  EXPECT_LT(At(h, "end A.hooks.done"), At(h, "start A.onExit"));
  EXPECT_LT(At(h, "end A.onExit"), At(h, "start B"));
}

TEST(DagTaskHook, AHookThatErrorsFailsTheDag) {
  Harness h;
  h.Run(Workflow(R"(
  - name: main
    dag:
      failFast: false
      tasks:
      - name: A
        template: say
        continueOn: {error: true}
        hooks: {exit: {template: missing-template}}
      - {name: B, template: say}
)"));
  EXPECT_EQ(h.NodeNamed("A.onExit").phase, Phase::kError);
  EXPECT_THAT(h.NodeNamed("A.onExit").message, HasSubstr("missing-template"));
  EXPECT_EQ(h.NodeNamed("wf").phase, Phase::kFailed);
  EXPECT_EQ(h.Status().phase, Phase::kFailed);
}

TEST(WorkflowHook, ExitHookRunsAtTheEndWithItsArguments) {
  Harness h;
  h.Run(Workflow(kOneStep,
                 R"(  hooks:
    exit:
      template: say
      arguments: {parameters: [{name: msg, value: "status {{workflow.status}}"}]}
)"));
  const Node& exit = h.NodeNamed("wf.onExit");
  EXPECT_EQ(exit.result, "status Succeeded");
  EXPECT_LT(At(h, "end a"), At(h, "start wf.onExit"));
  EXPECT_EQ(h.Status().phase, Phase::kSucceeded);
}

TEST(WorkflowHook, RunsOnceWhenItsExpressionHoldsAndTheWorkflowWaitsForIt) {
  Harness h;
  h.behavior = [](const Task& t) {
    Outcome out = DefaultBehavior(t);
    if (t.command.size() > 1 && t.command[1] == "watching") out.duration = 50 * kSecond;
    return out;
  };
  h.Run(Workflow(R"(
  - name: main
    steps:
    - - {name: a, template: say}
    - - {name: b, template: say}
)",
                 R"(  hooks:
    running:
      expression: workflow.status == "Running"
      template: say
      arguments: {parameters: [{name: msg, value: watching}]}
    failed:
      expression: workflow.status == "Failed"
      template: say
)"));
  const Node& hook = h.NodeNamed("wf.hooks.running");
  EXPECT_EQ(hook.name, "wf.hooks.running");
  EXPECT_EQ(hook.phase, Phase::kSucceeded);
  EXPECT_EQ(Dispatched(h, "wf.hooks.running"), 1);
  EXPECT_EQ(h.FindNode("wf.hooks.failed"), nullptr);
  EXPECT_THAT(h.NodeNamed("wf").children, Contains(hook.id));
  EXPECT_LT(At(h, "start wf.hooks.running"), At(h, "end a"));
  EXPECT_LT(At(h, "end b"), At(h, "end wf.hooks.running"));
  EXPECT_GE(h.Status().finished_at, hook.finished_at);
  EXPECT_EQ(h.Status().phase, Phase::kSucceeded);
}

TEST(WorkflowHook, AWorkflowHookThatErrorsFailsASucceededWorkflow) {
  Harness h;
  h.Run(Workflow(kOneStep,
                 R"(  hooks:
    done:
      expression: workflow.status == "Succeeded"
      template: broken
)"));
  EXPECT_EQ(h.NodeNamed("wf.hooks.done").phase, Phase::kError);
  EXPECT_EQ(h.Status().phase, Phase::kFailed);
  EXPECT_THAT(h.Status().message, HasSubstr("hook 'wf.hooks.done' errored"));
}

}  // namespace
}  // namespace hubspoke::engine::testing
