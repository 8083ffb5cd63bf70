// containerSet templates: one task carrying its containers; result and retries of the whole set.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine_harness.h"

namespace hubspoke::engine::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr const char* kGroup = R"(
kind: Workflow
metadata: {name: wf}
spec:
  entrypoint: main
  arguments: {parameters: [{name: word, value: hi}]}
  templates:
  - name: main
    dag:
      tasks:
      - {name: a, template: group}
      - name: b
        template: verify
        dependencies: [a]
        arguments: {parameters: [{name: x, value: "{{tasks.a.outputs.result}}"}]}
  - name: group
    retryStrategy: {limit: 1}
    containerSet:
      volumeMounts: [{name: ws, mountPath: /workspace}]
      containers:
      - name: main
        image: python:alpine
        command: [echo, "{{workflow.parameters.word}}"]
        env: [{name: WHO, value: "{{workflow.parameters.word}}"}]
        dependencies: [prep]
      - {name: prep, image: argoproj/argosay:v2, args: [echo, x, /workspace/x]}
  - name: verify
    inputs: {parameters: [{name: x}]}
    container: {image: alpine, command: [echo, "{{inputs.parameters.x}}"]}
)";

TEST(ContainerSet, IsOneTaskCarryingItsContainersInDependencyOrder) {
  Harness h;
  h.behavior = [](const Task& task) {
    Outcome out;
    if (!task.containers.empty()) out.stdout_text = "from main";
    if (task.command.size() == 2) out.stdout_text = task.command[1];
    return out;
  };
  h.Run(kGroup);
  ASSERT_EQ(h.dispatched().size(), 2u);
  const Task& set = h.dispatched()[0];
  EXPECT_TRUE(set.image.empty());
  EXPECT_TRUE(set.command.empty());
  EXPECT_THAT(set.private_dirs, ElementsAre("/workspace"));
  ASSERT_EQ(set.containers.size(), 2u);
  EXPECT_EQ(set.containers[0].name, "prep");
  EXPECT_EQ(set.containers[0].image, "argoproj/argosay:v2");
  EXPECT_THAT(set.containers[0].args, ElementsAre("echo", "x", "/workspace/x"));
  EXPECT_EQ(set.containers[1].name, "main");
  EXPECT_THAT(set.containers[1].command, ElementsAre("echo", "hi"));
  EXPECT_THAT(set.containers[1].dependencies, ElementsAre("prep"));
  ASSERT_EQ(set.containers[1].env.size(), 1u);
  EXPECT_EQ(set.containers[1].env[0].second, "hi");
  // The task's result (the spoke reports main's stdout) is the node's outputs.result.
  EXPECT_THAT(h.dispatched()[1].command, ElementsAre("echo", "from main"));
  EXPECT_EQ(h.Status().phase, Phase::kSucceeded);
}

TEST(ContainerSet, RetryStrategyRetriesTheWholeSet) {
  Harness h;
  int sets = 0;
  h.behavior = [&](const Task& task) {
    Outcome out;
    if (!task.containers.empty() && ++sets == 1) {
      out.exit_code = 2;
      out.message = "exit code 2: container \"prep\" failed with exit code 2";
    }
    return out;
  };
  h.Run(kGroup);
  EXPECT_EQ(sets, 2);
  ASSERT_EQ(h.dispatched().size(), 3u);
  EXPECT_EQ(h.dispatched()[1].containers.size(), 2u);
  EXPECT_THAT(h.NodeNamed("a(0)").message, HasSubstr("container \"prep\" failed"));
  EXPECT_EQ(h.Status().phase, Phase::kSucceeded);
}

}  // namespace
}  // namespace hubspoke::engine::testing
