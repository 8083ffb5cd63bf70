// `hubspoke list`, `get` and `logs` on the state a finished `hubspoke run` left behind.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cli_harness.h"

namespace hubspoke::e2e {
namespace {

using Json = nlohmann::json;

constexpr const char* kManifest = R"(apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: greet}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - name: say
        template: say
        arguments: {parameters: [{name: who, value: "{{item}}"}]}
        withItems: [ann, bob]
  - name: say
    inputs: {parameters: [{name: who}]}
    script:
      image: alpine
      command: [sh]
      source: |
        echo "hello {{inputs.parameters.who}}"
        echo "to stderr" >&2
)";

class StoreCommandsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = dir_.path() + "/state";
    CommandResult r =
        RunCommand({Hubspoke(), "run", dir_.Write("greet.yaml", kManifest), "--data", data_, "-q"},
                   dir_.path());
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  CommandResult Hub(std::vector<std::string> args) {
    args.insert(args.begin(), Hubspoke());
    args.push_back("--data");
    args.push_back(data_);
    return RunCommand(args, dir_.path());
  }
  TempDir dir_;
  std::string data_;
};

TEST_F(StoreCommandsTest, ListShowsTheFinishedRun) {
  CommandResult r = Hub({"list"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("NAME"), std::string::npos);
  EXPECT_NE(r.out.find("greet"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Succeeded"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("2/2"), std::string::npos) << r.out;
  CommandResult names = Hub({"list", "-o", "name"});
  EXPECT_EQ(names.out, "greet\n");
  CommandResult failed = Hub({"list", "--status", "Failed"});
  EXPECT_EQ(failed.out.find("greet"), std::string::npos) << failed.out;
}

TEST_F(StoreCommandsTest, GetPrintsTheTreeAndTheSameJsonAsRun) {
  CommandResult tree = Hub({"get", "greet"});
  ASSERT_EQ(tree.exit_code, 0) << tree.err;
  EXPECT_NE(tree.out.find("say(0:ann)"), std::string::npos) << tree.out;
  EXPECT_NE(tree.out.find("Fan-out say: 2 total, 2 succeeded"), std::string::npos) << tree.out;

  CommandResult js = Hub({"get", "greet", "-o", "json"});
  ASSERT_EQ(js.exit_code, 0) << js.err;
  Json wf = Json::parse(js.out);
  EXPECT_EQ(wf["status"]["phase"], "Succeeded");
  EXPECT_EQ(wf["status"]["nodes"].size(), 4u);  // steps, group, two items
  bool found = false;
  for (const auto& [id, node] : wf["status"]["nodes"].items()) {
    if (node["displayName"] == "say(1:bob)") {
      found = true;
      EXPECT_EQ(node["outputs"]["result"], "hello bob");
    }
  }
  EXPECT_TRUE(found);
}

TEST_F(StoreCommandsTest, RunningANameThatAlreadyExistsIsRefusedAndKeepsTheOldRun) {
  CommandResult again = RunCommand(
      {Hubspoke(), "run", dir_.path() + "/greet.yaml", "--data", data_, "-q"}, dir_.path());
  EXPECT_EQ(again.exit_code, 2);
  EXPECT_NE(again.err.find("workflow greet already exists"), std::string::npos) << again.err;
  CommandResult renamed = RunCommand(
      {Hubspoke(), "run", dir_.path() + "/greet.yaml", "--name", "greet-2", "--data", data_, "-q"},
      dir_.path());
  EXPECT_EQ(renamed.exit_code, 0) << renamed.err;
  EXPECT_NE(Hub({"list", "-o", "name"}).out.find("greet\n"), std::string::npos);
  EXPECT_EQ(Json::parse(Hub({"get", "greet", "-o", "json"}).out)["status"]["nodes"].size(), 4u);
}

TEST_F(StoreCommandsTest, GetOfAnUnknownWorkflowSaysSo) {
  CommandResult r = Hub({"get", "nope"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("workflow nope not found"), std::string::npos) << r.err;
}

TEST_F(StoreCommandsTest, LogsPrefixEachLineWithItsNode) {
  CommandResult r = Hub({"logs", "greet"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("say(0:ann): hello ann\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("say(1:bob): hello bob\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("say(1:bob): to stderr\n"), std::string::npos) << r.out;
  CommandResult one = Hub({"logs", "greet", "say(0:ann)"});
  EXPECT_EQ(one.out.find("bob"), std::string::npos) << one.out;
  EXPECT_NE(one.out.find("hello ann"), std::string::npos);
}

TEST(StoreCommandsWithoutStateTest, ListInAnEmptyDirectorySaysNothingRanThere) {
  TempDir dir;
  CommandResult r = RunCommand({Hubspoke(), "list", "--data", dir.path() + "/none"}, dir.path());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("no hubspoke state in"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace hubspoke::e2e
