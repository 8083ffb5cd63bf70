// Artifacts: what a task produces under outputs.artifacts is stored under a key, and later steps
// name it with from / fromExpression / a repository key, or give raw data.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine_harness.h"

namespace hubspoke::engine::testing {
namespace {

using ::testing::HasSubstr;

constexpr const char* kPassing = R"(
kind: Workflow
metadata: {name: wf}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: produce, template: write}
    - - name: consume
        template: read
        arguments:
          artifacts:
          - {name: message, from: "{{steps.produce.outputs.artifacts.hello}}"}
  - name: write
    container: {image: alpine, command: [sh, -c, "echo hi > /tmp/hello.txt"]}
    outputs:
      artifacts:
      - {name: hello, path: /tmp/hello.txt}
      - {name: extra, path: /tmp/extra, optional: true, archive: {none: {}}}
  - name: read
    inputs:
      artifacts:
      - {name: message, path: /tmp/message}
    container: {image: alpine, command: [sh, -c, "cat {{inputs.artifacts.message.path}}"]}
)";

TEST(Artifacts, AnOutputArtifactReachesTheNextStepUnderItsKey) {
  Harness h;
  h.Run(kPassing);
  ASSERT_EQ(h.dispatched().size(), 2u);
  const Task& write = h.dispatched()[0];
  ASSERT_EQ(write.output_artifacts.size(), 2u);
  EXPECT_EQ(write.output_artifacts[0].path, "/tmp/hello.txt");
  EXPECT_TRUE(write.output_artifacts[0].archive);
  EXPECT_FALSE(write.output_artifacts[1].archive);  // archive: none
  EXPECT_TRUE(write.output_artifacts[1].optional);
  const Task& read = h.dispatched()[1];
  ASSERT_EQ(read.input_artifacts.size(), 1u);
  EXPECT_EQ(read.input_artifacts[0].path, "/tmp/message");
  EXPECT_EQ(read.input_artifacts[0].key, write.output_artifacts[0].key);
  EXPECT_EQ(read.command[2], "cat /tmp/message");  // {{inputs.artifacts.NAME.path}}
  const Node& produce = h.NodeNamed("produce");
  ASSERT_EQ(produce.artifacts.size(), 2u);
  EXPECT_EQ(produce.artifacts[0].name, "hello");
  EXPECT_EQ(produce.artifacts[0].key, write.output_artifacts[0].key);
  EXPECT_EQ(h.Status().phase, Phase::kSucceeded);
}

TEST(Artifacts, EachNodeStoresItsOutputsUnderKeysOfItsOwn) {
  Harness h;
  h.Run(R"(
kind: Workflow
metadata: {name: wf}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: w, template: write, withItems: [a, b]}
  - name: write
    container: {image: alpine, command: [sh, -c, "echo x > /tmp/x"]}
    outputs: {artifacts: [{name: x, path: /tmp/x}]}
)");
  ASSERT_EQ(h.dispatched().size(), 2u);
  EXPECT_NE(h.dispatched()[0].output_artifacts[0].key, h.dispatched()[1].output_artifacts[0].key);
  EXPECT_THAT(h.dispatched()[0].output_artifacts[0].key, ::testing::StartsWith("wf/"));
}

TEST(Artifacts, AMissingOutputArtifactIsAnErrorUnlessOptional) {
  Harness h;
  h.behavior = [](const Task& t) {
    Outcome out;
    for (const TaskArtifact& a : t.output_artifacts)
      out.artifact_errors[a.name] = "no such file or directory: " + a.path;
    return out;
  };
  h.Run(kPassing);
  const Node& produce = h.NodeNamed("produce");
  EXPECT_EQ(produce.phase, Phase::kError);
  EXPECT_THAT(produce.message, HasSubstr("output artifact 'hello'"));
  EXPECT_THAT(produce.message, HasSubstr("/tmp/hello.txt"));
  EXPECT_THAT(produce.message, ::testing::Not(HasSubstr("extra")));  // optional
  EXPECT_EQ(h.dispatched().size(), 1u);                              // consume never ran
}

TEST(Artifacts, AnOptionalOutputThatWasNotWrittenIsLeftOut) {
  Harness h;
  h.behavior = [](const Task& t) {
    Outcome out;
    for (const TaskArtifact& a : t.output_artifacts) {
      if (a.optional) out.artifact_errors[a.name] = "no such file or directory";
    }
    return out;
  };
  h.Run(kPassing);
  const Node& produce = h.NodeNamed("produce");
  EXPECT_EQ(produce.phase, Phase::kSucceeded);
  ASSERT_EQ(produce.artifacts.size(), 1u);
  EXPECT_EQ(produce.artifacts[0].name, "hello");
}

TEST(Artifacts, RawDataAndWorkflowArgumentsReachTheTask) {
  Harness h;
  h.Run(R"(
kind: Workflow
metadata: {name: wf}
spec:
  entrypoint: main
  arguments:
    artifacts:
    - {name: text, raw: {data: "from the workflow"}}
  templates:
  - name: main
    inputs:
      artifacts:
      - {name: text, path: /inputs/text}
      - {name: own, path: /inputs/own, raw: {data: "x={{workflow.name}}"}}
    container: {image: alpine, command: [cat, /inputs/text]}
)");
  ASSERT_EQ(h.dispatched().size(), 1u);
  const auto& in = h.dispatched()[0].input_artifacts;
  ASSERT_EQ(in.size(), 2u);
  EXPECT_EQ(in[0].path, "/inputs/text");
  EXPECT_EQ(in[0].data, "from the workflow");
  EXPECT_EQ(in[1].data, "x=wf");
}

TEST(Artifacts, AnInputArtifactNobodyGaveFailsTheNodeSayingWhatToDo) {
  Harness h;
  h.Run(R"(
kind: Workflow
metadata: {name: wf}
spec:
  entrypoint: main
  templates:
  - name: main
    inputs:
      artifacts:
      - {name: needed, path: /tmp/needed}
      - {name: maybe, path: /tmp/maybe, optional: true}
    container: {image: alpine, command: [true]}
)");
  EXPECT_TRUE(h.dispatched().empty());
  EXPECT_EQ(h.Status().phase, Phase::kError);
  EXPECT_THAT(h.NodeNamed("wf").message, HasSubstr("input artifact 'needed' was not supplied"));
}

TEST(Artifacts, GlobalNameMakesAWorkflowOutputArtifact) {
  Harness h;
  h.Run(R"(
kind: Workflow
metadata: {name: wf}
spec:
  entrypoint: main
  onExit: report
  templates:
  - name: main
    container: {image: alpine, command: [true]}
    outputs:
      artifacts:
      - {name: out, path: /tmp/out, globalName: report-file}
  - name: report
    steps:
    - - name: show
        template: read
        arguments: {artifacts: [{name: f, from: "{{workflow.outputs.artifacts.report-file}}"}]}
  - name: read
    inputs: {artifacts: [{name: f, path: /tmp/f}]}
    container: {image: alpine, command: [true]}
)");
  ASSERT_EQ(h.Status().output_artifacts.size(), 1u);
  EXPECT_EQ(h.Status().output_artifacts[0].name, "report-file");
  ASSERT_EQ(h.dispatched().size(), 2u);
  EXPECT_EQ(h.dispatched()[1].input_artifacts[0].key, h.dispatched()[0].output_artifacts[0].key);
}

TEST(Artifacts, FromExpressionPicksTheArtifactOfTheBranchThatRan) {
  Harness h;
  h.Run(R"(
kind: Workflow
metadata: {name: wf}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: flip, template: say, arguments: {parameters: [{name: what, value: heads}]}}
    - - {name: heads, template: write, when: "{{steps.flip.outputs.result}} == heads"}
      - {name: tails, template: write, when: "{{steps.flip.outputs.result}} == tails"}
    outputs:
      artifacts:
      - name: result
        fromExpression: "steps.flip.outputs.result == 'heads' ? steps.heads.outputs.artifacts.r : steps.tails.outputs.artifacts.r"
  - name: say
    inputs: {parameters: [{name: what}]}
    container: {image: alpine, command: [echo, "{{inputs.parameters.what}}"]}
  - name: write
    container: {image: alpine, command: [true]}
    outputs: {artifacts: [{name: r, path: /tmp/r}]}
)");
  EXPECT_EQ(h.Status().phase, Phase::kSucceeded);
  const Node& main = h.NodeNamed("wf");
  ASSERT_EQ(main.artifacts.size(), 1u);
  EXPECT_EQ(main.artifacts[0].key, h.NodeNamed("heads").artifacts[0].key);
}

TEST(Artifacts, RepositoryKeysNameTheSameObjectForWriterAndReaders) {
  Harness h;
  h.Run(R"(
kind: Workflow
metadata: {name: wf}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: put, template: put}
    - - name: get
        template: get
        arguments: {artifacts: [{name: part, s3: {key: "{{workflow.name}}/parts/1.json"}}]}
  - name: put
    container: {image: alpine, command: [true]}
    outputs: {artifacts: [{name: parts, path: /mnt/out, s3: {key: "{{workflow.name}}/parts/"}, archive: {none: {}}}]}
  - name: get
    inputs: {artifacts: [{name: part, path: /mnt/in/part.json}]}
    container: {image: alpine, command: [true]}
)");
  ASSERT_EQ(h.dispatched().size(), 2u);
  EXPECT_EQ(h.dispatched()[0].output_artifacts[0].key, "_repository/wf/parts");
  EXPECT_EQ(h.dispatched()[1].input_artifacts[0].key, "_repository/wf/parts/1.json");
}

TEST(Artifacts, AKeyThatLeavesTheRepositoryIsRefused) {
  Harness h;
  h.Run(R"(
kind: Workflow
metadata: {name: wf}
spec:
  entrypoint: main
  templates:
  - name: main
    inputs: {artifacts: [{name: part, path: /tmp/p, s3: {key: "../../etc/passwd"}}]}
    container: {image: alpine, command: [true]}
)");
  EXPECT_TRUE(h.dispatched().empty());
  EXPECT_THAT(h.NodeNamed("wf").message, HasSubstr("not a plain relative path"));
}

TEST(Artifacts, SubPathNamesAFileInsideAnArtifact) {
  Harness h;
  h.Run(R"(
kind: Workflow
metadata: {name: wf}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: dir, template: dir}
    - - name: one
        template: read
        arguments: {artifacts: [{name: f, from: "{{steps.dir.outputs.artifacts.d}}", subPath: a/b.txt}]}
  - name: dir
    container: {image: alpine, command: [true]}
    outputs: {artifacts: [{name: d, path: /tmp/d, archive: {none: {}}}]}
  - name: read
    inputs: {artifacts: [{name: f, path: /tmp/f}]}
    container: {image: alpine, command: [true]}
)");
  ASSERT_EQ(h.dispatched().size(), 2u);
  EXPECT_EQ(h.dispatched()[1].input_artifacts[0].key,
            h.dispatched()[0].output_artifacts[0].key + "/a/b.txt");
}

}  // namespace
}  // namespace hubspoke::engine::testing
