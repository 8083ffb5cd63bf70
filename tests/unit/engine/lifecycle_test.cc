// Exit handlers, suspend/resume, stop and terminate.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "engine_harness.h"

namespace hubspoke::engine::testing {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::Not;

// A workflow whose entrypoint runs `main_cmd` and whose onExit handler runs `exit_cmd`; the
// handler sees {{workflow.status}}.
std::string WithExitHandler(const std::string& main_cmd, const std::string& exit_cmd) {
  return R"(
kind: Workflow
metadata: {name: wf}
spec:
  entrypoint: main
  onExit: cleanup
  templates:
  - name: main
    steps:
    - - {name: work, template: run, arguments: {parameters: [{name: cmd, value: ")" +
         main_cmd + R"("}]}}
  - name: cleanup
    steps:
    - - {name: report, template: run, arguments: {parameters: [{name: cmd, value: ")" +
         exit_cmd + R"("}]}}
  - name: run
    inputs: {parameters: [{name: cmd}]}
    container: {image: alpine, command: [sh, -c, "{{inputs.parameters.cmd}}"]}
)";
}

TEST(ExitHandler, RunsAfterTheEntrypointAndSeesWorkflowStatus) {
  Harness h;
  h.Run(WithExitHandler("echo main", "echo status={{workflow.status}}"));
  EXPECT_THAT(h.log(), ElementsAre("start work", "end work", "start report", "end report"));
  const Node& exit = h.NodeNamed("wf.onExit");
  EXPECT_EQ(exit.name, "wf.onExit");
  EXPECT_EQ(exit.id, ArgoNodeId("wf", "wf.onExit"));
  EXPECT_EQ(h.NodeNamed("report").name, "wf.onExit[0].report");
  EXPECT_EQ(h.NodeNamed("report").result, "status=Succeeded");
  EXPECT_EQ(h.Status().phase, Phase::kSucceeded);
}

TEST(ExitHandler, SeesAFailedWorkflowAndKeepsItFailed) {
  Harness h;
  h.Run(WithExitHandler("exit 1", "echo status={{workflow.status}}"));
  EXPECT_EQ(h.NodeNamed("report").result, "status=Failed");
  EXPECT_EQ(h.NodeNamed("wf.onExit").phase, Phase::kSucceeded);
  EXPECT_EQ(h.Status().phase, Phase::kFailed);
  EXPECT_EQ(h.Status().message, h.NodeNamed("wf").message);
}

TEST(ExitHandler, FailingExitHandlerFailsASucceededWorkflow) {
  Harness h;
  h.Run(WithExitHandler("echo main", "exit 2"));
  EXPECT_EQ(h.NodeNamed("wf").phase, Phase::kSucceeded);
  EXPECT_EQ(h.NodeNamed("wf.onExit").phase, Phase::kFailed);
  EXPECT_EQ(h.Status().phase, Phase::kFailed);
}

TEST(ExitHandler, ErroringExitHandlerMakesASucceededWorkflowAnError) {
  Harness h;
  h.Run(R"(
kind: Workflow
metadata: {name: wf}
spec:
  entrypoint: main
  onExit: cleanup
  templates:
  - name: main
    container: {image: alpine, command: [echo, main]}
  - name: cleanup
    container: {image: alpine, command: [no-such-command]}
)");
  EXPECT_EQ(h.NodeNamed("wf").phase, Phase::kSucceeded);
  EXPECT_EQ(h.NodeNamed("wf.onExit").phase, Phase::kError);
  EXPECT_EQ(h.Status().phase, Phase::kError);
  EXPECT_EQ(h.Status().message, h.NodeNamed("wf.onExit").message);
}

TEST(ExitHandler, WorkflowFinishesOnlyAfterTheExitHandler) {
  Harness h;
  h.Submit(WithExitHandler("echo main", "echo bye"));
  ASSERT_TRUE(h.Step());  // `work` ends; the handler starts
  EXPECT_FALSE(h.engine().IsFinished("wf"));
  EXPECT_EQ(h.Status().phase, Phase::kRunning);
  EXPECT_TRUE(h.finished().empty());
  h.RunUntilFinished("wf");
  EXPECT_THAT(h.finished(), ElementsAre("wf"));
}

// ---------------------------------------------------------------- suspend

constexpr const char* kSuspend = R"(
kind: Workflow
metadata: {name: wf}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: wait, template: wait}
    - - {name: after, template: run}
  - name: wait
    suspend: {duration: "30s"}
  - name: approve
    suspend: {}
  - name: run
    container: {image: alpine, command: [echo, hi]}
)";

TEST(Suspend, DurationWaitsOnATimer) {
  Harness h;
  Micros t0 = h.clock().Now();
  h.Submit(kSuspend);
  const Node& wait = h.NodeNamed("wait");
  EXPECT_EQ(wait.type, NodeType::kSuspend);
  EXPECT_EQ(wait.phase, Phase::kRunning);
  ASSERT_EQ(h.timers().size(), 1u);
  EXPECT_EQ(h.timers()[0].at, t0 + 30 * kSecond);
  EXPECT_TRUE(h.dispatched().empty());
  h.RunUntilFinished("wf");
  EXPECT_EQ(h.NodeNamed("wait").phase, Phase::kSucceeded);
  EXPECT_EQ(h.NodeNamed("wait").finished_at, t0 + 30 * kSecond);
  EXPECT_EQ(h.NodeNamed("after").started_at, t0 + 30 * kSecond);
  EXPECT_EQ(h.Status().phase, Phase::kSucceeded);
}

TEST(Suspend, WithoutDurationWaitsForResume) {
  Harness h;
  std::string yaml = kSuspend;
  yaml.replace(yaml.find("template: wait}"), 15, "template: approve}");
  h.Submit(yaml);
  h.RunUntilIdle();
  EXPECT_FALSE(h.engine().IsFinished("wf"));
  EXPECT_EQ(h.NodeNamed("wait").phase, Phase::kRunning);
  EXPECT_TRUE(h.timers().empty());
  ASSERT_TRUE(h.engine().Resume("wf", {}).ok());
  h.Collect();
  h.RunUntilFinished("wf");
  EXPECT_EQ(h.NodeNamed("wait").phase, Phase::kSucceeded);
  EXPECT_EQ(h.NodeNamed("after").phase, Phase::kSucceeded);
  EXPECT_EQ(h.Status().phase, Phase::kSucceeded);
}

TEST(Suspend, ResumeBeforeTheTimerContinuesAndTheTimerIsHarmless) {
  Harness h;
  h.Submit(kSuspend);
  ASSERT_TRUE(h.engine().Resume("wf", {}).ok());
  h.Collect();
  EXPECT_THAT(h.DispatchedNames(), ElementsAre("after"));
  h.RunUntilIdle();  // the suspend timer fires after the workflow finished
  EXPECT_EQ(h.Status().phase, Phase::kSucceeded);
  EXPECT_EQ(h.dispatched().size(), 1u);
}

TEST(Suspend, IsSuspendedOnlyWhileWaitingOnAnIndefiniteSuspend) {
  Harness h;
  std::string yaml = kSuspend;
  yaml.replace(yaml.find("template: wait}"), 15, "template: approve}");
  yaml.replace(yaml.find("    - - {name: wait"), 0, "    - - {name: first, template: run}\n");
  h.Submit(yaml);
  EXPECT_FALSE(h.engine().IsSuspended("wf"));  // `first` runs
  h.RunUntilIdle();
  EXPECT_TRUE(h.engine().IsSuspended("wf"));
  EXPECT_EQ(h.NodeNamed("wait").phase, Phase::kRunning);
  ASSERT_TRUE(h.engine().Resume("wf", {}).ok());
  h.Collect();
  EXPECT_FALSE(h.engine().IsSuspended("wf"));  // `after` runs
  h.RunUntilFinished("wf");
  EXPECT_FALSE(h.engine().IsSuspended("wf"));
  EXPECT_FALSE(h.engine().IsSuspended("nope"));
}

TEST(Suspend, SuspendWithADurationIsNotIsSuspended) {
  Harness h;
  h.Submit(kSuspend);
  EXPECT_EQ(h.NodeNamed("wait").phase, Phase::kRunning);
  EXPECT_FALSE(h.engine().IsSuspended("wf"));  // its timer will resume it
}

TEST(Suspend, ChildWorkflowSuspendedMakesTheParentSuspended) {
  Harness h;
  h.Submit(R"(
kind: Workflow
metadata: {name: wf}
spec:
  entrypoint: main
  templates:
  - name: main
    resource:
      action: create
      successCondition: status.phase == Succeeded
      manifest: |
        kind: Workflow
        metadata: {name: child}
        spec:
          entrypoint: approve
          templates:
          - name: approve
            suspend: {}
)");
  h.RunUntilIdle();
  EXPECT_TRUE(h.engine().IsSuspended("child"));
  EXPECT_TRUE(h.engine().IsSuspended("wf"));
}

// ---------------------------------------------------------------- workflow deadline

constexpr const char* kDeadline = R"(
kind: Workflow
metadata: {name: wf}
spec:
  activeDeadlineSeconds: 30
  entrypoint: main
  onExit: cleanup
  templates:
  - name: main
    steps:
    - - {name: long, template: long}
      - {name: wait, template: approve}
    - - {name: never, template: cleanup}
  - name: long
    container: {image: alpine, command: [sh, -c, "sleep 100"]}
  - name: approve
    suspend: {}
  - name: cleanup
    container: {image: alpine, command: [echo, cleanup]}
)";

TEST(Deadline, ActiveDeadlineSecondsFailsUnfinishedNodesAndTheWorkflow) {
  Harness h;
  Micros t0 = h.clock().Now();
  h.Run(kDeadline);
  EXPECT_THAT(h.log(), Contains("cancel long"));
  EXPECT_THAT(h.log(), Contains("timer deadline/wf/0"));
  for (const char* name : {"long", "wait"}) {
    EXPECT_EQ(h.NodeNamed(name).phase, Phase::kFailed) << name;
    EXPECT_EQ(h.NodeNamed(name).message, "Step exceeded its deadline") << name;
    EXPECT_EQ(h.NodeNamed(name).finished_at, t0 + 30 * kSecond) << name;
  }
  EXPECT_EQ(h.FindNode("never"), nullptr);
  // Exit handlers are not subject to the deadline.
  EXPECT_EQ(h.NodeNamed("wf.onExit").phase, Phase::kSucceeded);
  EXPECT_EQ(h.Status().phase, Phase::kFailed);
  EXPECT_EQ(h.Status().message, "Step exceeded its deadline");
}

TEST(Deadline, WorkflowDoneBeforeTheDeadlineIsUntouched) {
  Harness h;
  std::string yaml = kDeadline;
  yaml.replace(yaml.find("sleep 100"), 9, "sleep 1");
  yaml.replace(yaml.find("      - {name: wait, template: approve}\n"), 39, "");
  h.Run(yaml);
  h.RunUntilIdle();  // the deadline timer fires after the end
  EXPECT_EQ(h.Status().phase, Phase::kSucceeded);
  EXPECT_EQ(h.NodeNamed("never").phase, Phase::kSucceeded);
}

// ---------------------------------------------------------------- stop / terminate

constexpr const char* kLongRunning = R"(
kind: Workflow
metadata: {name: wf}
spec:
  entrypoint: main
  onExit: cleanup
  templates:
  - name: main
    steps:
    - - {name: long, template: long}
    - - {name: never, template: cleanup}
  - name: long
    container: {image: alpine, command: [sh, -c, "sleep 100"]}
  - name: cleanup
    container: {image: alpine, command: [echo, cleanup]}
)";

TEST(Stop, FailsRunningNodesAndStillRunsTheExitHandler) {
  Harness h;
  h.Submit(kLongRunning);
  ASSERT_TRUE(h.engine().Stop("wf", "Stopped by user").ok());
  h.Collect();
  EXPECT_THAT(h.log(), Contains("cancel long"));
  const Node& long_node = h.NodeNamed("long");
  EXPECT_EQ(long_node.phase, Phase::kFailed);
  EXPECT_EQ(long_node.message, "Stopped by user");
  h.RunUntilFinished("wf");
  EXPECT_EQ(h.FindNode("never"), nullptr);
  EXPECT_EQ(h.NodeNamed("wf.onExit").phase, Phase::kSucceeded);
  EXPECT_EQ(h.Status().phase, Phase::kFailed);
}

TEST(Stop, LateResultOfACancelledTaskIsIgnored) {
  Harness h;
  h.Submit(kLongRunning);
  std::string attempt = h.dispatched()[0].attempt_id;
  ASSERT_TRUE(h.engine().Stop("wf", "Stopped by user").ok());
  h.Collect();
  h.engine().TaskFinished(TaskResult{.attempt_id = attempt, .exit_code = 0});
  h.Collect();
  EXPECT_EQ(h.NodeNamed("long").phase, Phase::kFailed);
  h.RunUntilFinished("wf");
  EXPECT_EQ(h.Status().phase, Phase::kFailed);
}

TEST(Stop, ExitHandlerRunsUnderWorkflowParallelism) {
  Harness h;
  std::string yaml = kLongRunning;
  yaml.replace(yaml.find("  onExit"), 0, "  parallelism: 1\n");
  h.Submit(yaml);
  ASSERT_TRUE(h.engine().Stop("wf", "Stopped by user").ok());
  h.Collect();
  h.RunUntilFinished("wf");
  EXPECT_EQ(h.NodeNamed("wf.onExit").phase, Phase::kSucceeded);
  EXPECT_EQ(h.Status().phase, Phase::kFailed);
}

TEST(Terminate, SkipsTheExitHandler) {
  Harness h;
  h.Submit(kLongRunning);
  ASSERT_TRUE(h.engine().Terminate("wf", "Terminated").ok());
  h.Collect();
  EXPECT_TRUE(h.engine().IsFinished("wf"));
  EXPECT_EQ(h.FindNode("wf.onExit"), nullptr);
  EXPECT_EQ(h.NodeNamed("long").message, "Terminated");
  EXPECT_EQ(h.Status().phase, Phase::kFailed);
  EXPECT_EQ(h.running(), 0);
}

TEST(Stop, DuringARetryBackoffFinishesTheWorkflowAtOnce) {
  Harness h;
  h.Submit(R"(
kind: Workflow
metadata: {name: wf}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: step, template: flaky}
  - name: flaky
    retryStrategy: {limit: 3, backoff: {duration: 1h}}
    container: {image: alpine, command: [sh, -c, "exit 1"]}
)");
  ASSERT_TRUE(h.Step());  // step(0) fails; the backoff timer is set
  ASSERT_EQ(h.timers().size(), 1u);
  ASSERT_TRUE(h.engine().Stop("wf", "Stopped by user").ok());
  h.Collect();
  EXPECT_TRUE(h.engine().IsFinished("wf"));
  EXPECT_EQ(h.NodeNamed("step").phase, Phase::kFailed);
  EXPECT_EQ(h.NodeNamed("step").message, "Stopped by user");
  EXPECT_EQ(h.Status().phase, Phase::kFailed);
  h.RunUntilIdle();  // the backoff timer starts no attempt
  EXPECT_EQ(h.FindNode("step(1)"), nullptr);
}

TEST(Stop, UnknownWorkflowIsNotFound) {
  Harness h;
  EXPECT_FALSE(h.engine().Stop("nope", "x").ok());
  EXPECT_FALSE(h.engine().Terminate("nope", "x").ok());
  EXPECT_FALSE(h.engine().Resume("nope", {}).ok());
}

}  // namespace
}  // namespace hubspoke::engine::testing
