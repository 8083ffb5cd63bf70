// Loops: withItems, withParam, withSequence, aggregated outputs and empty lists.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine_harness.h"

namespace hubspoke::engine::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

// A workflow whose `main` steps template holds `steps` (indented as group items) and an `echo`
// template printing its `msg` input.
std::string WithSteps(const std::string& steps) {
  return R"(
kind: Workflow
metadata: {name: wf}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
)" + steps +
         R"(
  - name: echo
    inputs: {parameters: [{name: msg}]}
    container: {image: alpine, command: [echo, "{{inputs.parameters.msg}}"]}
  - name: gen
    inputs: {parameters: [{name: out}]}
    container: {image: alpine, command: [sh, -c, "echo '{{inputs.parameters.out}}'"]}
  - name: run
    inputs: {parameters: [{name: cmd}]}
    container: {image: alpine, command: [sh, -c, "{{inputs.parameters.cmd}}"]}
  - name: write
    inputs: {parameters: [{name: msg}]}
    container: {image: alpine, command: [sh, -c, "echo {{inputs.parameters.msg}} > /tmp/out"]}
    outputs:
      parameters:
      - name: p
        valueFrom: {path: /tmp/out}
)";
}

TEST(Loops, WithItemsScalarsNameEachItem) {
  Harness h;
  h.Run(WithSteps(R"(
    - - name: loop
        template: echo
        arguments: {parameters: [{name: msg, value: "{{item}}"}]}
        withItems: [a, b, 3]
)"));
  EXPECT_THAT(h.DispatchedNames(), ElementsAre("loop(0:a)", "loop(1:b)", "loop(2:3)"));
  const Node& first = h.NodeNamed("loop(0:a)");
  EXPECT_EQ(first.name, "wf[0].loop(0:a)");
  EXPECT_EQ(first.id, ArgoNodeId("wf", "wf[0].loop(0:a)"));
  EXPECT_EQ(first.result, "a");
  EXPECT_EQ(h.NodeNamed("loop(2:3)").result, "3");
  EXPECT_EQ(h.NodeNamed("[0]").children.size(), 3u);
  EXPECT_EQ(h.Status().phase, Phase::kSucceeded);
}

TEST(Loops, WithItemsMapsExposeKeys) {
  Harness h;
  h.Run(WithSteps(R"(
    - - name: loop
        template: echo
        arguments: {parameters: [{name: msg, value: "{{item.os}}-{{item.version}}"}]}
        withItems:
        - {os: debian, version: 9}
        - {os: ubuntu, version: 20}
)"));
  EXPECT_EQ(h.NodeNamed("loop(0:os:debian,version:9)").result, "debian-9");
  EXPECT_EQ(h.NodeNamed("loop(1:os:ubuntu,version:20)").result, "ubuntu-20");
}

TEST(Loops, WithParamIteratesOverAPreviousStepsResult) {
  Harness h;
  h.Run(WithSteps(R"(
    - - {name: list, template: gen, arguments: {parameters: [{name: out, value: '["x", "y"]'}]}}
    - - name: loop
        template: echo
        arguments: {parameters: [{name: msg, value: "{{item}}"}]}
        withParam: "{{steps.list.outputs.result}}"
)"));
  EXPECT_EQ(h.NodeNamed("loop(0:x)").result, "x");
  EXPECT_EQ(h.NodeNamed("loop(1:y)").result, "y");
  EXPECT_EQ(h.NodeNamed("loop(1:y)").name, "wf[1].loop(1:y)");
  EXPECT_EQ(h.Status().phase, Phase::kSucceeded);
}

TEST(Loops, WithParamThatIsNotAListIsAnErrorNamingTheStep) {
  Harness h;
  h.Run(WithSteps(R"(
    - - {name: list, template: gen, arguments: {parameters: [{name: out, value: 'not a list'}]}}
    - - name: loop
        template: echo
        arguments: {parameters: [{name: msg, value: "{{item}}"}]}
        withParam: "{{steps.list.outputs.result}}"
)"));
  const Node& loop = h.NodeNamed("loop");
  EXPECT_EQ(loop.phase, Phase::kError);
  EXPECT_THAT(loop.message, HasSubstr("loop"));
  EXPECT_THAT(loop.message, HasSubstr("withParam"));
  EXPECT_EQ(h.Status().phase, Phase::kFailed);
}

TEST(Loops, WithSequenceCount) {
  Harness h;
  h.Run(WithSteps(R"(
    - - name: seq
        template: echo
        arguments: {parameters: [{name: msg, value: "{{item}}"}]}
        withSequence: {count: "3"}
)"));
  EXPECT_THAT(h.DispatchedNames(), ElementsAre("seq(0:0)", "seq(1:1)", "seq(2:2)"));
}

TEST(Loops, WithSequenceStartEndAndFormat) {
  Harness h;
  h.Run(WithSteps(R"(
    - - name: seq
        template: echo
        arguments: {parameters: [{name: msg, value: "{{item}}"}]}
        withSequence: {start: "2", end: "4", format: "n%02d"}
)"));
  EXPECT_THAT(h.DispatchedNames(), ElementsAre("seq(0:n02)", "seq(1:n03)", "seq(2:n04)"));
  EXPECT_EQ(h.NodeNamed("seq(2:n04)").result, "n04");
}

TEST(Loops, AggregatedResultIsAJsonListInItemOrder) {
  Harness h;
  // Items finish in reverse order; the aggregate still follows item order.
  h.behavior = [](const Task& t) {
    Outcome o = DefaultBehavior(t);
    if (o.stdout_text == "1") o.duration = 3 * kSecond;
    if (o.stdout_text == "2") o.duration = 2 * kSecond;
    return o;
  };
  h.Run(WithSteps(R"(
    - - name: loop
        template: echo
        arguments: {parameters: [{name: msg, value: "{{item}}"}]}
        withItems: [1, 2, 3]
    - - {name: show, template: echo, arguments: {parameters: [{name: msg, value: "{{steps.loop.outputs.result}}"}]}}
)"));
  EXPECT_THAT(h.log(),
              ElementsAre("start loop(0:1)", "start loop(1:2)", "start loop(2:3)", "end loop(2:3)",
                          "end loop(1:2)", "end loop(0:1)", "start show", "end show"));
  EXPECT_EQ(h.NodeNamed("show").result, "[1,2,3]");
}

TEST(Loops, AggregatedOutputParameterIsAList) {
  Harness h;
  h.Run(WithSteps(R"(
    - - name: loop
        template: write
        arguments: {parameters: [{name: msg, value: "{{item}}"}]}
        withItems: [a, b]
    - - {name: show, template: echo, arguments: {parameters: [{name: msg, value: "{{steps.loop.outputs.parameters.p}}"}]}}
)"));
  EXPECT_EQ(h.NodeNamed("loop(0:a)").outputs[0].value, "a");
  EXPECT_EQ(h.NodeNamed("show").result, R"(["a","b"])");
}

TEST(Loops, EmptyListGivesASkippedNode) {
  Harness h;
  h.Run(WithSteps(R"(
    - - name: loop
        template: echo
        arguments: {parameters: [{name: msg, value: "{{item}}"}]}
        withItems: []
    - - {name: after, template: echo, arguments: {parameters: [{name: msg, value: done}]}}
)"));
  const Node& loop = h.NodeNamed("loop");
  EXPECT_EQ(loop.phase, Phase::kSkipped);
  EXPECT_THAT(loop.message, HasSubstr("empty"));
  EXPECT_EQ(h.NodeNamed("after").phase, Phase::kSucceeded);
  EXPECT_EQ(h.Status().phase, Phase::kSucceeded);
}

TEST(Loops, OneFailedItemFailsTheGroupAfterAllItemsFinish) {
  Harness h;
  h.Run(WithSteps(R"(
    - - name: loop
        template: run
        arguments: {parameters: [{name: cmd, value: "exit {{item}}"}]}
        withItems: [0, 1, 0]
)"));
  EXPECT_THAT(h.log(), UnorderedElementsAre("start loop(0:0)", "start loop(1:1)", "start loop(2:0)",
                                            "end loop(0:0)", "end loop(1:1)", "end loop(2:0)"));
  EXPECT_EQ(h.NodeNamed("loop(1:1)").phase, Phase::kFailed);
  EXPECT_EQ(h.NodeNamed("loop(2:0)").phase, Phase::kSucceeded);
  EXPECT_EQ(h.NodeNamed("[0]").phase, Phase::kFailed);
  EXPECT_EQ(h.Status().phase, Phase::kFailed);
}

}  // namespace
}  // namespace hubspoke::engine::testing
