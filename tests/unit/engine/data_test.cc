// data templates: the keys of the artifact repository under a source, through transformations.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine_harness.h"

namespace hubspoke::engine::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// A repository holding `keys`; remembers the prefixes it was asked for.
class FakeRepository final : public ArtifactRepository {
 public:
  explicit FakeRepository(std::vector<std::string> keys) : keys_(std::move(keys)) {}
  Result<std::vector<std::string>> ListKeys(const std::string& prefix) override {
    prefixes.push_back(prefix);
    std::vector<std::string> out;
    for (const std::string& k : keys_) {
      if (prefix.empty() || k == prefix || k.rfind(prefix + "/", 0) == 0) out.push_back(k);
    }
    return out;
  }
  std::vector<std::string> prefixes;

 private:
  std::vector<std::string> keys_;
};

// Lists the repository under `key`, keeps the main.log files, and processes each of them.
std::string DataWorkflow(const std::string& key, const std::string& transformations) {
  return R"(
kind: Workflow
metadata: {name: wf}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: list, template: list}
    - - name: process
        template: process
        withParam: "{{steps.list.outputs.result}}"
        arguments:
          artifacts: [{name: file, s3: {key: "{{item}}"}}]
  - name: list
    data:
      source:
        artifactPaths: {name: logs, s3: {bucket: my-bucket)" +
         key + R"(}}
      transformation:
)" + transformations +
         R"(
  - name: process
    inputs: {artifacts: [{name: file, path: /file}]}
    container: {image: alpine, command: [cat, /file]}
)";
}

constexpr const char* kKeepMainLogs =
    R"yaml(      - expression: "filter(data, {# endsWith \"main.log\"})")yaml";

TEST(DataTemplate, ListsTheRepositoryThroughItsTransformationsIntoItsResult) {
  FakeRepository repo({"a/main.log", "a/other.txt", "b/main.log"});
  Harness h(EngineOptions{.artifact_repository = &repo});
  h.Run(DataWorkflow("", std::string(kKeepMainLogs) + R"yaml(
      - expression: "map(data, {# + '.gz'})")yaml"));
  EXPECT_EQ(h.Status().phase, Phase::kSucceeded);
  const Node& list = h.NodeNamed("list");
  EXPECT_EQ(list.phase, Phase::kSucceeded);
  EXPECT_EQ(list.result, R"(["a/main.log.gz","b/main.log.gz"])");
  EXPECT_EQ(list.host_node_name, "hub");  // the hub's own work, no spoke's
  EXPECT_THAT(h.DispatchedNames(),
              ElementsAre("process(0:a/main.log.gz)", "process(1:b/main.log.gz)"));
  EXPECT_EQ(h.dispatched()[0].input_artifacts[0].key, "_repository/a/main.log.gz");
}

TEST(DataTemplate, ListsOnlyUnderTheSourcesKey) {
  FakeRepository repo({"a/main.log", "b/main.log"});
  Harness h(EngineOptions{.artifact_repository = &repo});
  h.Run(DataWorkflow(", key: b/", kKeepMainLogs));
  EXPECT_THAT(repo.prefixes, ElementsAre("b"));
  EXPECT_EQ(h.NodeNamed("list").result, R"(["b/main.log"])");
}

TEST(DataTemplate, NothingToListFansOutToNothing) {
  FakeRepository repo({});
  Harness h(EngineOptions{.artifact_repository = &repo});
  h.Run(DataWorkflow("", kKeepMainLogs));
  EXPECT_EQ(h.NodeNamed("list").result, "[]");
  EXPECT_TRUE(h.dispatched().empty());
  EXPECT_EQ(h.Status().phase, Phase::kSucceeded);
}

TEST(DataTemplate, ATransformationThatFailsIsAnErrorNamingIt) {
  FakeRepository repo({"a/main.log"});
  Harness h(EngineOptions{.artifact_repository = &repo});
  h.Run(DataWorkflow("", std::string(kKeepMainLogs) + R"yaml(
      - expression: "map(data, {# * 2})")yaml"));
  const Node& list = h.NodeNamed("list");
  EXPECT_EQ(list.phase, Phase::kError);
  EXPECT_THAT(list.message, HasSubstr("transformation 2"));
  EXPECT_EQ(h.Status().phase, Phase::kFailed);
}

TEST(DataTemplate, WithoutARepositoryItIsAnError) {
  Harness h;
  h.Run(DataWorkflow("", kKeepMainLogs));
  EXPECT_EQ(h.NodeNamed("list").phase, Phase::kError);
  EXPECT_THAT(h.NodeNamed("list").message, HasSubstr("no artifact repository"));
}

}  // namespace
}  // namespace hubspoke::engine::testing
