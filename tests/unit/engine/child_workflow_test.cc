// Resource templates that create child Workflows from a WorkflowTemplate (hub-and-spoke fan-out).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine_harness.h"

namespace hubspoke::engine::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr const char* kChildTemplate = R"(
apiVersion: argoproj.io/v1alpha1
kind: WorkflowTemplate
metadata: {name: child-tmpl}
spec:
  entrypoint: main
  arguments: {parameters: [{name: msg, value: default}]}
  templates:
  - name: main
    container: {image: alpine, command: [sh, -c, "{{workflow.parameters.msg}}"]}
    outputs:
      parameters:
      - name: answer
        globalName: answer
        valueFrom: {path: /tmp/answer, default: "none"}
)";

// A parent whose step `spawn` creates a child from child-tmpl with argument msg=`msg`;
// `conditions` are extra lines of the resource (successCondition/failureCondition).
std::string Parent(const std::string& msg, const std::string& conditions) {
  return R"(
kind: Workflow
metadata: {name: parent}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: spawn, template: spawn, arguments: {parameters: [{name: msg, value: ")" +
         msg + R"("}]}}
    - - {name: after, template: show, arguments: {parameters: [{name: v, value: "{{steps.spawn.outputs.parameters.answer}}"}]}}
  - name: spawn
    inputs: {parameters: [{name: msg}]}
    resource:
      action: create
)" + conditions +
         R"(      manifest: |
        apiVersion: argoproj.io/v1alpha1
        kind: Workflow
        metadata:
          generateName: child-
          labels: {role: spoke}
        spec:
          workflowTemplateRef: {name: child-tmpl}
          arguments:
            parameters:
            - {name: msg, value: "{{inputs.parameters.msg}}"}
    outputs:
      parameters:
      - name: answer
        valueFrom: {jsonPath: '{.status.outputs.parameters[?(@.name=="answer")].value}', default: unset}
      - name: child
        valueFrom: {jsonPath: '{.metadata.name}'}
  - name: show
    inputs: {parameters: [{name: v}]}
    container: {image: alpine, command: [echo, "{{inputs.parameters.v}}"]}
)";
}

constexpr const char* kWaitConditions = R"(      successCondition: status.phase == Succeeded
      failureCondition: status.phase in (Failed, Error)
)";

constexpr const char* kWriteAnswer = "echo 42 > /tmp/answer";

TEST(ChildWorkflow, CreatedFromTheTemplateWithTheArguments) {
  Harness h;
  h.AddTemplates(kChildTemplate);
  h.Run(Parent(kWriteAnswer, kWaitConditions));
  std::vector<std::string> children = h.engine().ChildrenOf("parent");
  ASSERT_EQ(children.size(), 1u);
  const std::string& child = children[0];
  EXPECT_THAT(child, StartsWith("child-"));
  EXPECT_EQ(child.size(), std::string("child-").size() + 5);
  const WorkflowStatus& st = h.Status(child);
  EXPECT_EQ(st.parent, "parent");
  EXPECT_EQ(st.parent_node, h.NodeNamed("spawn").id);
  EXPECT_EQ(st.labels.at("role"), "spoke");
  ASSERT_EQ(st.parameters.size(), 1u);
  EXPECT_EQ(st.parameters[0].value, kWriteAnswer);
  EXPECT_EQ(h.dispatched()[0].workflow, child);
  EXPECT_EQ(h.NodeNamed("spawn").child_workflow, child);
  EXPECT_EQ(h.NodeNamed("spawn").host_node_name, "hub");
  EXPECT_THAT(h.engine().Names(), ElementsAre("parent", child));
}

TEST(ChildWorkflow, ParentWaitsForTheChildWhenConditionsAreGiven) {
  Harness h;
  h.AddTemplates(kChildTemplate);
  h.Submit(Parent(kWriteAnswer, kWaitConditions));
  EXPECT_EQ(h.NodeNamed("spawn").phase, Phase::kRunning);
  h.RunUntilFinished("parent");
  std::string child = h.engine().ChildrenOf("parent")[0];
  EXPECT_TRUE(h.engine().IsFinished(child));
  EXPECT_EQ(h.NodeNamed("spawn").phase, Phase::kSucceeded);
  EXPECT_EQ(h.NodeNamed("spawn").finished_at, h.Status(child).finished_at);
  EXPECT_EQ(h.Status().phase, Phase::kSucceeded);
}

TEST(ChildWorkflow, OutputsComeFromTheChildsGlobalOutputsViaJsonPath) {
  Harness h;
  h.AddTemplates(kChildTemplate);
  h.Run(Parent(kWriteAnswer, kWaitConditions));
  std::string child = h.engine().ChildrenOf("parent")[0];
  ASSERT_EQ(h.Status(child).outputs.size(), 1u);
  EXPECT_EQ(h.Status(child).outputs[0].value, "42");
  const Node& spawn = h.NodeNamed("spawn");
  ASSERT_EQ(spawn.outputs.size(), 2u);
  EXPECT_EQ(spawn.outputs[0].value, "42");
  EXPECT_EQ(spawn.outputs[1].value, child);
  EXPECT_EQ(h.NodeNamed("after").result, "42");
}

TEST(ChildWorkflow, ParentDoesNotWaitWithoutConditions) {
  Harness h;
  h.AddTemplates(kChildTemplate);
  h.Submit(Parent("sleep 50", ""));
  std::string child = h.engine().ChildrenOf("parent")[0];
  EXPECT_EQ(h.NodeNamed("spawn").phase, Phase::kSucceeded);
  h.RunUntilFinished("parent");
  EXPECT_FALSE(h.engine().IsFinished(child));
  EXPECT_EQ(h.Status().phase, Phase::kSucceeded);
  h.RunUntilFinished(child);
  EXPECT_EQ(h.Status(child).phase, Phase::kSucceeded);
}

TEST(ChildWorkflow, FailureConditionFailsTheNode) {
  Harness h;
  h.AddTemplates(kChildTemplate);
  h.Run(Parent("exit 1", kWaitConditions));
  std::string child = h.engine().ChildrenOf("parent")[0];
  EXPECT_EQ(h.Status(child).phase, Phase::kFailed);
  const Node& spawn = h.NodeNamed("spawn");
  EXPECT_EQ(spawn.phase, Phase::kFailed);
  EXPECT_THAT(spawn.message, HasSubstr(child));
  EXPECT_EQ(h.FindNode("after"), nullptr);
  EXPECT_EQ(h.Status().phase, Phase::kFailed);
}

TEST(ChildWorkflow, FanOutCreatesOneChildPerItem) {
  Harness h;
  h.AddTemplates(kChildTemplate);
  h.Run(R"(
kind: Workflow
metadata: {name: parent}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: spawn, template: spawn, withItems: [a, b, c], arguments: {parameters: [{name: msg, value: "echo {{item}}"}]}}
  - name: spawn
    inputs: {parameters: [{name: msg}]}
    resource:
      action: create
      successCondition: status.phase == Succeeded
      manifest: |
        kind: Workflow
        metadata: {generateName: child-}
        spec:
          workflowTemplateRef: {name: child-tmpl}
          arguments: {parameters: [{name: msg, value: "{{inputs.parameters.msg}}"}]}
)");
  std::vector<std::string> children = h.engine().ChildrenOf("parent");
  ASSERT_EQ(children.size(), 3u);
  EXPECT_EQ(h.NodeNamed("spawn(1:b)").child_workflow, children[1]);
  EXPECT_EQ(h.Status(children[1]).parameters[0].value, "echo b");
  EXPECT_EQ(h.NodeById(h.Status(children[2]).nodes[0].id, children[2]).result, "c");
  EXPECT_EQ(h.Status().phase, Phase::kSucceeded);
}

TEST(ChildWorkflow, UnknownTemplateRefIsAnErrorNode) {
  Harness h;
  h.Run(Parent("echo hi", kWaitConditions));
  EXPECT_EQ(h.NodeNamed("spawn").phase, Phase::kError);
  EXPECT_THAT(h.NodeNamed("spawn").message, HasSubstr("child-tmpl"));
  EXPECT_TRUE(h.engine().ChildrenOf("parent").empty());
}

}  // namespace
}  // namespace hubspoke::engine::testing
