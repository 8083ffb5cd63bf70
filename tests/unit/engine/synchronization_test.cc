// synchronization: mutexes and semaphores shared by every workflow of the engine, taken by a
// workflow (spec.synchronization) or by a template's nodes, released when they end.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine_harness.h"

namespace hubspoke::engine::testing {
namespace {

using ::testing::HasSubstr;

std::string FanOut(const std::string& sync) {
  return R"(
kind: Workflow
metadata: {generateName: wf-}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: item, template: locked, withItems: [1, 2, 3, 4, 5]}
  - name: locked
    synchronization: )" +
         sync + R"(
    container: {image: alpine, command: [sh, -c, "sleep 2"]}
)";
}

TEST(Synchronization, ATemplateMutexLetsOneNodeRunAtATime) {
  Harness h;
  h.Run(FanOut("{mutex: {name: one}}"));
  EXPECT_EQ(h.Status().phase, Phase::kSucceeded);
  EXPECT_EQ(h.dispatched().size(), 5u);
  EXPECT_EQ(h.max_running(), 1);
}

TEST(Synchronization, ATemplateSemaphoreLetsItsLimitRun) {
  Harness h(1, {{"my-config/template", 2}});
  h.Run(FanOut("{semaphores: [{configMapKeyRef: {name: my-config, key: template}}]}"));
  EXPECT_EQ(h.Status().phase, Phase::kSucceeded);
  EXPECT_EQ(h.max_running(), 2);
}

TEST(Synchronization, ANodeWaitingForALockSaysForWhich) {
  Harness h;
  h.Submit(FanOut("{mutex: {name: one}}"));
  int waiting = 0;
  for (const Node& n : h.Status().nodes) {
    if (n.message.find("Waiting for default/Mutex/one lock. Lock status: 0/1") != std::string::npos)
      waiting++;
  }
  EXPECT_EQ(waiting, 4);
  h.RunUntilIdle();
  for (const Node& n : h.Status().nodes) EXPECT_EQ(n.phase, Phase::kSucceeded) << n.name;
}

constexpr const char* kWorkflowMutex = R"(
kind: Workflow
metadata: {generateName: wf-}
spec:
  entrypoint: main
  synchronization: {mutex: {name: deploy}}
  templates:
  - name: main
    container: {image: alpine, command: [sh, -c, "sleep 3"]}
)";

TEST(Synchronization, AWorkflowMutexKeepsTheNextWorkflowPendingUntilTheFirstEnds) {
  Harness h;
  std::string first = h.Submit(kWorkflowMutex);
  std::string second = h.Submit(kWorkflowMutex);
  const WorkflowStatus* waiting = h.engine().Find(second);
  ASSERT_NE(waiting, nullptr);
  EXPECT_EQ(waiting->phase, Phase::kPending);
  EXPECT_THAT(waiting->message, HasSubstr("Waiting for default/Mutex/deploy lock"));
  EXPECT_EQ(h.dispatched().size(), 1u);
  h.RunUntilIdle();
  EXPECT_EQ(h.engine().Find(first)->phase, Phase::kSucceeded);
  EXPECT_EQ(h.engine().Find(second)->phase, Phase::kSucceeded);
  EXPECT_EQ(h.max_running(), 1);
  EXPECT_GE(h.engine().Find(second)->started_at, h.engine().Find(first)->finished_at);
}

TEST(Synchronization, StoppingAWaitingWorkflowEndsItAndFreesNothingItDidNotHold) {
  Harness h;
  std::string first = h.Submit(kWorkflowMutex);
  std::string second = h.Submit(kWorkflowMutex);
  std::string third = h.Submit(kWorkflowMutex);
  ASSERT_TRUE(h.engine().Stop(second, "stopped by the user").ok());
  EXPECT_EQ(h.engine().Find(second)->phase, Phase::kFailed);
  EXPECT_EQ(h.engine().Find(third)->phase, Phase::kPending);  // first still holds the mutex
  h.RunUntilIdle();
  EXPECT_EQ(h.engine().Find(third)->phase, Phase::kSucceeded);
  EXPECT_EQ(h.max_running(), 1);
}

TEST(Synchronization, ASemaphoreWithoutALimitIsRefusedSayingHowToGiveOne) {
  Harness h;
  auto file = spec::LoadString(R"(
kind: Workflow
metadata: {name: wf}
spec:
  entrypoint: main
  synchronization: {semaphore: {configMapKeyRef: {name: my-config, key: workflow}}}
  templates:
  - {name: main, container: {image: alpine, command: [true]}}
)",
                               "wf.yaml");
  ASSERT_TRUE(file.ok());
  auto name = h.engine().Submit(file->workflows[0]);
  ASSERT_FALSE(name.ok());
  EXPECT_THAT(name.error().message, HasSubstr("--semaphore my-config/workflow=N"));
}

}  // namespace
}  // namespace hubspoke::engine::testing
