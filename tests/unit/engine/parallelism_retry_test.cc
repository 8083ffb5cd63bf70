// Parallelism limits (workflow, steps template, DAG) and retryStrategy.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine_harness.h"

namespace hubspoke::engine::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// ---------------------------------------------------------------- parallelism

TEST(Parallelism, WorkflowLevelLimitsTasksRunningAtOnce) {
  Harness h;
  h.Run(R"(
kind: Workflow
metadata: {name: wf}
spec:
  entrypoint: main
  parallelism: 2
  templates:
  - name: main
    steps:
    - - {name: a, template: work, withItems: [1, 2, 3]}
      - {name: b, template: work, withItems: [1, 2]}
  - name: work
    container: {image: alpine, command: [echo, hi]}
)");
  EXPECT_EQ(h.max_running(), 2);
  EXPECT_EQ(h.dispatched().size(), 5u);
  EXPECT_EQ(h.Status().phase, Phase::kSucceeded);
}

TEST(Parallelism, StepsTemplateLimitsItsLoop) {
  Harness h;
  h.Submit(R"(
kind: Workflow
metadata: {name: wf}
spec:
  entrypoint: main
  templates:
  - name: main
    parallelism: 2
    steps:
    - - {name: loop, template: work, withItems: [a, b, c, d, e]}
  - name: work
    container: {image: alpine, command: [echo, hi]}
)");
  // Items not yet admitted have no node.
  EXPECT_THAT(h.DispatchedNames(), ElementsAre("loop(0:a)", "loop(1:b)"));
  EXPECT_EQ(h.FindNode("loop(2:c)"), nullptr);
  h.RunUntilFinished("wf");
  EXPECT_EQ(h.max_running(), 2);
  EXPECT_EQ(h.dispatched().size(), 5u);
  EXPECT_EQ(h.NodeNamed("[0]").children.size(), 5u);
  EXPECT_EQ(h.Status().phase, Phase::kSucceeded);
}

TEST(Parallelism, DagLimitsItsTasks) {
  Harness h;
  h.Run(R"(
kind: Workflow
metadata: {name: wf}
spec:
  entrypoint: main
  templates:
  - name: main
    parallelism: 1
    dag:
      tasks:
      - {name: A, template: work}
      - {name: B, template: work}
      - {name: C, template: work}
  - name: work
    container: {image: alpine, command: [echo, hi]}
)");
  EXPECT_THAT(h.log(), ElementsAre("start A", "end A", "start B", "end B", "start C", "end C"));
  EXPECT_EQ(h.max_running(), 1);
  EXPECT_EQ(h.Status().phase, Phase::kSucceeded);
}

TEST(Parallelism, FailFastDagStartsNoDeferredTaskAfterAFailure) {
  Harness h;
  h.Run(R"(
kind: Workflow
metadata: {name: wf}
spec:
  entrypoint: main
  templates:
  - name: main
    parallelism: 1
    dag:
      tasks:
      - {name: A, template: fail}
      - {name: B, template: work}
      - {name: C, template: work, withItems: [1, 2]}
  - name: work
    container: {image: alpine, command: [echo, hi]}
  - name: fail
    container: {image: alpine, command: [sh, -c, "exit 1"]}
)");
  EXPECT_THAT(h.DispatchedNames(), ElementsAre("A"));
  EXPECT_EQ(h.NodeNamed("wf").phase, Phase::kFailed);
  EXPECT_EQ(h.Status().phase, Phase::kFailed);
}

TEST(Parallelism, FailFastStepsTemplateStartsNoDeferredItemAfterAFailure) {
  Harness h;
  h.Run(R"(
kind: Workflow
metadata: {name: wf}
spec:
  entrypoint: main
  templates:
  - name: main
    parallelism: 1
    failFast: true
    steps:
    - - {name: loop, template: run, arguments: {parameters: [{name: code, value: "{{item}}"}]}, withItems: [1, 0, 0]}
  - name: run
    inputs: {parameters: [{name: code}]}
    container: {image: alpine, command: [sh, -c, "exit {{inputs.parameters.code}}"]}
)");
  EXPECT_THAT(h.DispatchedNames(), ElementsAre("loop(0:1)"));
  EXPECT_EQ(h.NodeNamed("[0]").phase, Phase::kFailed);
  EXPECT_EQ(h.Status().phase, Phase::kFailed);
}

// ---------------------------------------------------------------- retries

// A workflow whose step `step` runs `cmd` with the given retryStrategy body.
std::string WithRetry(const std::string& strategy, const std::string& cmd = "exit 1") {
  return R"(
kind: Workflow
metadata: {name: wf}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: step, template: flaky}
  - name: flaky
    retryStrategy:
)" + strategy +
         R"(
    container: {image: alpine, command: [sh, -c, ")" +
         cmd + R"("]}
)";
}

TEST(Retry, LimitBoundsTheAttemptsAndEndsWithNoMoreRetriesLeft) {
  Harness h;
  h.Run(WithRetry("      limit: 2"));
  EXPECT_THAT(h.DispatchedNames(), ElementsAre("step(0)", "step(1)", "step(2)"));
  const Node& retry = h.NodeNamed("step");
  EXPECT_EQ(retry.type, NodeType::kRetry);
  EXPECT_EQ(retry.phase, Phase::kFailed);
  EXPECT_EQ(retry.message, "No more retries left");
  EXPECT_EQ(retry.children.size(), 3u);
  EXPECT_EQ(h.Status().phase, Phase::kFailed);
}

TEST(Retry, AttemptsAreNamedAfterTheRetryNode) {
  Harness h;
  h.Run(WithRetry("      limit: 1"));
  const Node& retry = h.NodeNamed("step");
  EXPECT_EQ(retry.name, "wf[0].step");
  const Node& second = h.NodeNamed("step(1)");
  EXPECT_EQ(second.name, "wf[0].step(1)");
  EXPECT_EQ(second.id, ArgoNodeId("wf", "wf[0].step(1)"));
  EXPECT_EQ(second.type, NodeType::kPod);
  EXPECT_EQ(second.retries, 1);
  EXPECT_THAT(retry.children, ElementsAre(h.NodeNamed("step(0)").id, second.id));
}

TEST(Retry, SucceedsWhenALaterAttemptSucceeds) {
  Harness h;
  int calls = 0;
  h.behavior = [&calls](const Task&) {
    Outcome o;
    o.exit_code = calls++ == 0 ? 1 : 0;
    o.stdout_text = "attempt " + std::to_string(calls);
    return o;
  };
  h.Run(WithRetry("      limit: 3"));
  EXPECT_THAT(h.DispatchedNames(), ElementsAre("step(0)", "step(1)"));
  EXPECT_EQ(h.NodeNamed("step(0)").phase, Phase::kFailed);
  const Node& retry = h.NodeNamed("step");
  EXPECT_EQ(retry.phase, Phase::kSucceeded);
  EXPECT_EQ(retry.result, "attempt 2");
  EXPECT_EQ(h.Status().phase, Phase::kSucceeded);
}

TEST(Retry, RetriesVariableCountsPreviousAttempts) {
  Harness h;
  h.Run(WithRetry("      limit: 1", "echo {{retries}}; exit 1"));
  EXPECT_EQ(h.NodeNamed("step(0)").result, "0");
  EXPECT_EQ(h.NodeNamed("step(1)").result, "1");
}

TEST(Retry, OnFailureDoesNotRetryErrors) {
  Harness h;
  h.behavior = [](const Task&) { return Outcome{.started = false, .message = "cannot start"}; };
  h.Run(WithRetry("      limit: 2\n      retryPolicy: OnFailure"));
  EXPECT_THAT(h.DispatchedNames(), ElementsAre("step(0)"));
  EXPECT_EQ(h.NodeNamed("step").phase, Phase::kError);
}

TEST(Retry, OnErrorRetriesErrorsOnly) {
  Harness failing;
  failing.Run(WithRetry("      limit: 2\n      retryPolicy: OnError"));
  EXPECT_THAT(failing.DispatchedNames(), ElementsAre("step(0)"));
  EXPECT_EQ(failing.NodeNamed("step").phase, Phase::kFailed);

  Harness erroring;
  erroring.behavior = [](const Task&) {
    return Outcome{.started = false, .message = "cannot start"};
  };
  erroring.Run(WithRetry("      limit: 2\n      retryPolicy: OnError"));
  EXPECT_THAT(erroring.DispatchedNames(), ElementsAre("step(0)", "step(1)", "step(2)"));
  EXPECT_EQ(erroring.NodeNamed("step").phase, Phase::kError);
  EXPECT_EQ(erroring.NodeNamed("step").message, "No more retries left");
}

TEST(Retry, AlwaysRetriesFailuresAndErrors) {
  Harness h;
  int calls = 0;
  h.behavior = [&calls](const Task&) {
    Outcome o;
    if (calls++ == 0) {
      o.started = false;
    } else {
      o.exit_code = 1;
    }
    return o;
  };
  h.Run(WithRetry("      limit: 2\n      retryPolicy: Always"));
  EXPECT_EQ(h.NodeNamed("step(0)").phase, Phase::kError);
  EXPECT_EQ(h.NodeNamed("step(1)").phase, Phase::kFailed);
  EXPECT_EQ(h.NodeNamed("step(2)").phase, Phase::kFailed);
  EXPECT_EQ(h.NodeNamed("step").phase, Phase::kFailed);
}

TEST(Retry, BackoffWaitsOnATimer) {
  Harness h;
  Micros t0 = h.clock().Now();
  h.Submit(WithRetry("      limit: 2\n      backoff: {duration: 10s, factor: 2}"));
  ASSERT_TRUE(h.Step());  // step(0) fails after 1s
  ASSERT_EQ(h.timers().size(), 1u);
  EXPECT_EQ(h.timers()[0].at, t0 + 11 * kSecond);
  EXPECT_EQ(h.running(), 0);
  EXPECT_EQ(h.FindNode("step(1)"), nullptr);
  h.RunUntilFinished("wf");
  EXPECT_EQ(h.NodeNamed("step(1)").started_at, t0 + 11 * kSecond);
  // The second backoff doubles: 1s run + 20s.
  EXPECT_EQ(h.NodeNamed("step(2)").started_at, t0 + 32 * kSecond);
  EXPECT_EQ(h.NodeNamed("step").message, "No more retries left");
}

TEST(Retry, SpecLevelRetryStrategyAppliesToEveryTemplate) {
  Harness h;
  h.Run(R"(
kind: Workflow
metadata: {name: wf}
spec:
  entrypoint: main
  retryStrategy: {limit: "1"}
  templates:
  - name: main
    container: {image: alpine, command: [sh, -c, "exit 1"]}
)");
  EXPECT_THAT(h.DispatchedNames(), ElementsAre("wf(0)", "wf(1)"));
  EXPECT_EQ(h.NodeNamed("wf").type, NodeType::kRetry);
  EXPECT_EQ(h.Status().phase, Phase::kFailed);
}

}  // namespace
}  // namespace hubspoke::engine::testing
