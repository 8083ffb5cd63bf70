// Parameters: inputs, arguments, workflow parameters, defaults, enums, and outputs (files,
// results, globalName).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine_harness.h"

namespace hubspoke::engine::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(Params, WorkflowArgumentsReachTheEntrypointAndWorkflowParameters) {
  Harness h;
  h.Run(R"(
kind: Workflow
metadata: {name: wf}
spec:
  entrypoint: main
  arguments:
    parameters:
    - {name: who, value: world}
    - {name: greeting, value: "hello {{workflow.parameters.who}}"}
  templates:
  - name: main
    inputs: {parameters: [{name: who}]}
    container:
      image: alpine
      command: [echo, "{{inputs.parameters.who}}", "{{workflow.parameters.greeting}}", "{{workflow.name}}"]
)");
  EXPECT_THAT(h.dispatched()[0].command, ElementsAre("echo", "world", "hello world", "wf"));
  EXPECT_EQ(h.NodeNamed("wf").inputs.size(), 1u);
  EXPECT_EQ(h.NodeNamed("wf").inputs[0].value, "world");
  ASSERT_EQ(h.Status().parameters.size(), 2u);
  EXPECT_EQ(h.Status().parameters[1].value, "hello world");
}

constexpr const char* kInputs = R"(
kind: Workflow
metadata: {name: wf}
spec:
  entrypoint: main
  arguments: {parameters: [{name: suffix, value: fixed}]}
  templates:
  - name: main
    steps:
    - - {name: given, template: show, arguments: {parameters: [{name: a, value: x}, {name: b, value: y}]}}
      - {name: defaulted, template: show, arguments: {parameters: [{name: a, value: x}]}}
  - name: show
    inputs:
      parameters:
      - {name: a}
      - {name: b, default: fallback}
      - {name: c, default: "c-{{workflow.parameters.suffix}}"}
    container: {image: alpine, command: [echo, "{{inputs.parameters.a}} {{inputs.parameters.b}} {{inputs.parameters.c}}"]}
)";

TEST(Params, ArgumentsBecomeInputs) {
  Harness h;
  h.Run(kInputs);
  EXPECT_EQ(h.NodeNamed("given").result, "x y c-fixed");
}

TEST(Params, MissingArgumentTakesTheInputDefault) {
  Harness h;
  h.Run(kInputs);
  EXPECT_EQ(h.NodeNamed("defaulted").result, "x fallback c-fixed");
  const Node& node = h.NodeNamed("defaulted");
  ASSERT_EQ(node.inputs.size(), 3u);
  EXPECT_EQ(node.inputs[1].name, "b");
  EXPECT_EQ(node.inputs[1].value, "fallback");
}

TEST(Params, InputNotSuppliedIsAnError) {
  Harness h;
  h.Run(R"(
kind: Workflow
metadata: {name: wf}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: forgot, template: show}
  - name: show
    inputs: {parameters: [{name: msg}]}
    container: {image: alpine, command: [echo, "{{inputs.parameters.msg}}"]}
)");
  const Node& forgot = h.NodeNamed("forgot");
  EXPECT_EQ(forgot.phase, Phase::kError);
  EXPECT_THAT(forgot.message, HasSubstr("inputs.parameters.msg was not supplied"));
  EXPECT_TRUE(h.dispatched().empty());
  EXPECT_EQ(h.Status().phase, Phase::kFailed);
}

constexpr const char* kEnum = R"(
kind: Workflow
metadata: {name: wf}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: good, template: pick, arguments: {parameters: [{name: size, value: small}]}}
    - - {name: bad, template: pick, arguments: {parameters: [{name: size, value: huge}]}}
  - name: pick
    inputs: {parameters: [{name: size, enum: [small, large]}]}
    container: {image: alpine, command: [echo, "{{inputs.parameters.size}}"]}
)";

TEST(Params, EnumValueIsAccepted) {
  Harness h;
  h.Run(kEnum);
  EXPECT_EQ(h.NodeNamed("good").phase, Phase::kSucceeded);
}

TEST(Params, ValueOutsideTheEnumIsAnError) {
  Harness h;
  h.Run(kEnum);
  EXPECT_EQ(h.NodeNamed("bad").phase, Phase::kError);
  EXPECT_THAT(h.NodeNamed("bad").message, HasSubstr("huge"));
  EXPECT_EQ(h.Status().phase, Phase::kFailed);
}

TEST(Params, UnresolvedReferenceIsAnErrorNode) {
  Harness h;
  h.Run(R"(
kind: Workflow
metadata: {name: wf}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: typo, template: show, arguments: {parameters: [{name: msg, value: "{{steps.nope.outputs.result}}"}]}}
  - name: show
    inputs: {parameters: [{name: msg}]}
    container: {image: alpine, command: [echo, "{{inputs.parameters.msg}}"]}
)");
  EXPECT_EQ(h.NodeNamed("typo").phase, Phase::kError);
  EXPECT_THAT(h.NodeNamed("typo").message, HasSubstr("steps.nope.outputs.result"));
}

// A DAG whose `producer` is skipped (when: false) and whose `consumer` passes on the producer's
// output `msg`. `output_default` is the producer's output valueFrom.default line (or "");
// `input_default` the consumer's input default (or "").
std::string SkippedProducer(const std::string& output_default, const std::string& input_default) {
  return R"(
kind: Workflow
metadata: {name: wf}
spec:
  entrypoint: main
  templates:
  - name: main
    dag:
      tasks:
      - {name: producer, template: produce, when: "false"}
      - name: consumer
        template: consume
        depends: "producer.Succeeded || producer.Skipped"
        arguments: {parameters: [{name: in, value: "{{tasks.producer.outputs.parameters.msg}}"}]}
  - name: produce
    outputs:
      parameters:
      - name: msg
        valueFrom: {path: /tmp/out.txt)" +
         output_default + R"(}
    container: {image: alpine, command: [sh, -c, "echo real > /tmp/out.txt"]}
  - name: consume
    inputs: {parameters: [{name: in)" +
         input_default + R"(}]}
    container: {image: alpine, command: [echo, "got {{inputs.parameters.in}}"]}
)";
}

TEST(Params, SkippedProducerOutputResolvesToItsOutputDefault) {
  Harness h;
  h.Run(SkippedProducer(", default: from-producer", ", default: from-input"));
  EXPECT_EQ(h.NodeNamed("producer").phase, Phase::kSkipped);
  EXPECT_EQ(h.NodeNamed("consumer").result, "got from-producer");
  EXPECT_EQ(h.Status().phase, Phase::kSucceeded);
}

TEST(Params, UnresolvableArgumentFallsBackToTheInputDefault) {
  Harness h;
  h.Run(SkippedProducer("", ", default: from-input"));
  EXPECT_EQ(h.NodeNamed("consumer").result, "got from-input");
  EXPECT_EQ(h.Status().phase, Phase::kSucceeded);
}

TEST(Params, UnresolvableArgumentWithoutAnyDefaultIsAnError) {
  Harness h;
  h.Run(SkippedProducer("", ""));
  EXPECT_EQ(h.NodeNamed("consumer").phase, Phase::kError);
  EXPECT_THAT(h.NodeNamed("consumer").message, HasSubstr("tasks.producer.outputs.parameters.msg"));
}

TEST(Params, OmittedProducerOutputResolvesToItsOutputDefault) {
  Harness h;
  std::string yaml = SkippedProducer(", default: from-producer", "");
  yaml.replace(yaml.find("when: \"false\""), 13, "depends: \"gate.Failed\"");
  yaml.replace(yaml.find("producer.Skipped"), 16, "producer.Omitted");
  yaml.replace(yaml.find("      - name: consumer"), 0,
               "      - {name: gate, template: consume, arguments: {parameters: [{name: in, "
               "value: x}]}}\n");
  h.Run(yaml);
  EXPECT_EQ(h.NodeNamed("producer").phase, Phase::kOmitted);
  EXPECT_EQ(h.NodeNamed("consumer").result, "got from-producer");
}

TEST(Params, NodeSelectorValuesAreSubstituted) {
  Harness h;
  h.Run(R"(
kind: Workflow
metadata: {name: wf}
spec:
  entrypoint: main
  arguments: {parameters: [{name: arch, value: arm64}]}
  templates:
  - name: main
    nodeSelector: {kubernetes.io/arch: "{{workflow.parameters.arch}}"}
    container: {image: alpine, command: [echo, hi]}
)");
  ASSERT_EQ(h.dispatched().size(), 1u);
  EXPECT_EQ(h.dispatched()[0].node_selector.at("kubernetes.io/arch"), "arm64");
}

constexpr const char* kOutputs = R"(
kind: Workflow
metadata: {name: wf}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: produce, template: produce}
    - - {name: consume, template: show, arguments: {parameters: [{name: msg, value: "{{steps.produce.outputs.parameters.written}}/{{steps.produce.outputs.parameters.missing}}/{{workflow.outputs.parameters.shared}}"}]}}
  - name: produce
    container: {image: alpine, command: [sh, -c, "echo out; echo hello > /tmp/written"]}
    outputs:
      parameters:
      - name: written
        globalName: shared
        valueFrom: {path: /tmp/written}
      - name: missing
        valueFrom: {path: /tmp/missing, default: none}
  - name: show
    inputs: {parameters: [{name: msg}]}
    container: {image: alpine, command: [echo, "{{inputs.parameters.msg}}"]}
)";

TEST(Params, OutputParameterFromAFile) {
  Harness h;
  h.Run(kOutputs);
  EXPECT_THAT(h.dispatched()[0].output_files, ElementsAre("/tmp/written", "/tmp/missing"));
  const Node& produce = h.NodeNamed("produce");
  ASSERT_EQ(produce.outputs.size(), 2u);
  EXPECT_EQ(produce.outputs[0].name, "written");
  EXPECT_EQ(produce.outputs[0].value, "hello");  // the trailing newline is dropped
}

TEST(Params, MissingOutputFileTakesTheDefault) {
  Harness h;
  h.Run(kOutputs);
  EXPECT_EQ(h.NodeNamed("produce").outputs[1].value, "none");
  EXPECT_EQ(h.NodeNamed("consume").result, "hello/none/hello");
}

TEST(Params, MissingOutputFileWithoutDefaultIsAnError) {
  Harness h;
  h.Run(R"(
kind: Workflow
metadata: {name: wf}
spec:
  entrypoint: produce
  templates:
  - name: produce
    container: {image: alpine, command: [echo, hi]}
    outputs:
      parameters:
      - name: p
        valueFrom: {path: /tmp/never-written}
)");
  EXPECT_EQ(h.NodeNamed("wf").phase, Phase::kError);
  EXPECT_THAT(h.NodeNamed("wf").message, HasSubstr("/tmp/never-written"));
  EXPECT_EQ(h.Status().phase, Phase::kError);
}

TEST(Params, GlobalNameOutputsGoToWorkflowOutputs) {
  Harness h;
  h.Run(kOutputs);
  ASSERT_EQ(h.Status().outputs.size(), 1u);
  EXPECT_EQ(h.Status().outputs[0].name, "shared");
  EXPECT_EQ(h.Status().outputs[0].value, "hello");
}

TEST(Params, ResultIsTheTasksStdout) {
  Harness h;
  h.Run(kOutputs);
  EXPECT_EQ(h.NodeNamed("produce").result, "out");
}

TEST(Params, ScriptSourceIsSubstitutedAndItsStdoutIsTheResult) {
  Harness h;
  h.Run(R"(
kind: Workflow
metadata: {name: wf}
spec:
  entrypoint: main
  arguments: {parameters: [{name: n, value: "42"}]}
  templates:
  - name: main
    script:
      image: python
      command: [sh]
      source: |
        echo {{workflow.parameters.n}}
)");
  EXPECT_EQ(h.dispatched()[0].script_source, "echo 42\n");
  EXPECT_EQ(h.NodeNamed("wf").result, "42");
}

TEST(Params, StepsTemplateOutputsComeFromItsSteps) {
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
    - - {name: show, template: show, arguments: {parameters: [{name: msg, value: "{{steps.inner.outputs.parameters.out}}"}]}}
  - name: inner
    steps:
    - - {name: leaf, template: show, arguments: {parameters: [{name: msg, value: deep}]}}
    outputs:
      parameters:
      - name: out
        valueFrom: {parameter: "{{steps.leaf.outputs.result}}"}
  - name: show
    inputs: {parameters: [{name: msg}]}
    container: {image: alpine, command: [echo, "{{inputs.parameters.msg}}"]}
)");
  EXPECT_EQ(h.NodeNamed("inner").outputs.at(0).value, "deep");
  EXPECT_EQ(h.NodeNamed("show").result, "deep");
}

TEST(Params, StepsNameAndTasksNameAreTheStepsOwnName) {
  Harness h;
  h.Run(R"(
kind: Workflow
metadata: {name: wf}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: first, template: show, arguments: {parameters: [{name: who, value: "{{steps.name}}"}]}}
    - - {name: graph, template: graph}
  - name: graph
    dag:
      tasks:
      - {name: task-a, template: show, arguments: {parameters: [{name: who, value: "{{tasks.name}}"}]}}
  - name: show
    inputs: {parameters: [{name: who}]}
    container: {image: alpine, command: [echo, "{{inputs.parameters.who}}"]}
)");
  ASSERT_EQ(h.dispatched().size(), 2u);
  EXPECT_EQ(h.dispatched()[0].command[1], "first");
  EXPECT_EQ(h.dispatched()[1].command[1], "task-a");
}

TEST(Params, StepsNameIsSeenInsideTheTemplateTheStepRuns) {
  Harness h;
  h.Run(R"(
kind: Workflow
metadata: {name: wf}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: greet, template: show}
    - - {name: graph, template: graph}
  - name: graph
    dag:
      tasks:
      - {name: task-a, template: show-task}
  - name: show
    container: {image: alpine, command: [echo, "{{steps.name}}"]}
  - name: show-task
    container: {image: alpine, command: [echo, "{{tasks.name}}"]}
)");
  ASSERT_EQ(h.dispatched().size(), 2u);
  EXPECT_EQ(h.dispatched()[0].command[1], "greet");
  EXPECT_EQ(h.dispatched()[1].command[1], "task-a");
}

TEST(Params, CreationTimestampFormatsLabelsAnnotationsAndDurationAreWorkflowVariables) {
  Harness h;  // its clock starts at 2023-11-14T22:13:20Z
  h.Run(R"(
kind: Workflow
metadata:
  name: wf
  labels: {app: demo}
  annotations: {example.io/owner: ops}
spec:
  entrypoint: main
  templates:
  - name: main
    container:
      image: alpine
      command: [echo]
      args: ["{{workflow.creationTimestamp.Y}}-{{workflow.creationTimestamp.m}}",
             "{{workflow.creationTimestamp.s}}", "{{workflow.labels.json}}",
             "{{workflow.annotations}}", "{{workflow.duration}}"]
)");
  ASSERT_EQ(h.dispatched().size(), 1u);
  const std::vector<std::string>& args = h.dispatched()[0].args;
  ASSERT_EQ(args.size(), 5u);
  EXPECT_EQ(args[0], "2023-11");
  EXPECT_EQ(args[1], "1700000000");
  EXPECT_EQ(args[2], R"({"app":"demo"})");
  EXPECT_EQ(args[3], R"({"example.io/owner":"ops"})");
  EXPECT_EQ(std::stod(args[4]), 0.0);  // it starts as the workflow starts
}

}  // namespace
}  // namespace hubspoke::engine::testing
