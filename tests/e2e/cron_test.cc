// CronWorkflows on a real `hubspoke hub` process, through the CLI as a user types it: create,
// list, get, suspend, resume, delete, submit --from, and the corpus' CronWorkflows.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <thread>

#include "cli_harness.h"
#include "hub_process.h"

namespace hubspoke::e2e {
namespace {

using Json = nlohmann::json;
using std::chrono::steady_clock;

const char* const kTicker = R"(apiVersion: argoproj.io/v1alpha1
kind: CronWorkflow
metadata: {name: ticker}
spec:
  schedule: "@every 1s"
  successfulJobsHistoryLimit: 100
  workflowSpec:
    entrypoint: main
    templates:
    - name: main
      container:
        image: alpine:3
        command: [echo, "scheduled {{workflow.scheduledTime}}"]
)";

class CronE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    unsetenv("HUBSPOKE_SERVER");
    unsetenv("HUBSPOKE_TOKEN");
    data_ = dir_.path() + "/hub";
    hub_ = std::make_unique<HubProcess>(data_, dir_.path() + "/hub.log");
    ASSERT_TRUE(hub_->ready()) << "the hub did not start:\n" << ReadFile(dir_.path() + "/hub.log");
  }

  CommandResult Cli(std::vector<std::string> args) {
    args.insert(args.begin(), {"timeout", "60", Hubspoke()});
    args.insert(args.end(), {"--data", data_});
    return RunCommand(args, dir_.path());
  }

  // The workflows the cron `name` started, as `hubspoke list` shows them.
  std::vector<std::string> Runs(const std::string& name) {
    CommandResult r = Cli({"list", "-o", "name"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::vector<std::string> out;
    std::stringstream lines(r.out);
    for (std::string line; std::getline(lines, line);) {
      if (line.rfind(name + "-", 0) == 0) out.push_back(line);
    }
    return out;
  }

  TempDir dir_;
  std::string data_;
  std::unique_ptr<HubProcess> hub_;
};

TEST_F(CronE2eTest, EverySecondStartsRunsUntilSuspendedAndDeleteRemovesTheCron) {
  std::string file = dir_.Write("ticker.yaml", kTicker);
  CommandResult created = Cli({"cron", "create", file});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  EXPECT_EQ(created.out, "CronWorkflow ticker created\n");

  auto deadline = steady_clock::now() + std::chrono::seconds(8);
  while (Runs("ticker").size() < 2 && steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  std::vector<std::string> runs = Runs("ticker");
  ASSERT_GE(runs.size(), 2u) << ReadFile(dir_.path() + "/hub.log");
  // Named after the scheduled time in Unix seconds.
  for (const std::string& run : runs) {
    EXPECT_EQ(run.find_first_not_of("0123456789", 7), std::string::npos) << run;
  }

  CommandResult list = Cli({"cron", "list"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_EQ(list.out.substr(0, list.out.find('\n')).find("NAME"), 0u) << list.out;
  for (const char* column : {"AGE", "LAST RUN", "NEXT RUN", "SCHEDULE", "TIMEZONE", "SUSPENDED"}) {
    EXPECT_NE(list.out.find(column), std::string::npos) << column << "\n" << list.out;
  }
  EXPECT_NE(list.out.find("ticker"), std::string::npos);
  EXPECT_NE(list.out.find("@every 1s"), std::string::npos);

  CommandResult get = Cli({"cron", "get", "ticker", "-o", "json"});
  ASSERT_EQ(get.exit_code, 0) << get.err;
  Json cron = Json::parse(get.out);
  EXPECT_EQ(cron["kind"], "CronWorkflow");
  EXPECT_FALSE(cron["status"].value("lastScheduledTime", "").empty());

  CommandResult suspend = Cli({"cron", "suspend", "ticker"});
  ASSERT_EQ(suspend.exit_code, 0) << suspend.err;
  EXPECT_EQ(suspend.out, "CronWorkflow ticker suspended\n");
  size_t after_suspend = Runs("ticker").size();
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  EXPECT_EQ(Runs("ticker").size(), after_suspend);
  EXPECT_NE(Cli({"cron", "list"}).out.find("true"), std::string::npos);

  // A run of its workflowSpec on demand.
  CommandResult once = Cli({"submit", "--from", "cronworkflow/ticker", "--wait", "-o", "name"});
  ASSERT_EQ(once.exit_code, 0) << once.err;
  EXPECT_EQ(once.out.rfind("ticker-", 0), 0u) << once.out;

  CommandResult del = Cli({"cron", "delete", "ticker"});
  ASSERT_EQ(del.exit_code, 0) << del.err;
  CommandResult gone = Cli({"cron", "get", "ticker"});
  EXPECT_EQ(gone.exit_code, 1);
  EXPECT_NE(gone.err.find("cron workflow ticker not found"), std::string::npos) << gone.err;
  EXPECT_EQ(Cli({"cron", "list", "-o", "name"}).out, "");
}

TEST_F(CronE2eTest, CronsSurviveAHubRestart) {
  std::string file = dir_.Write("ticker.yaml", kTicker);
  ASSERT_EQ(Cli({"cron", "create", file}).exit_code, 0);
  ASSERT_EQ(Cli({"cron", "suspend", "ticker"}).exit_code, 0);
  hub_.reset();
  hub_ = std::make_unique<HubProcess>(data_, dir_.path() + "/hub2.log");
  ASSERT_TRUE(hub_->ready());
  CommandResult get = Cli({"cron", "get", "ticker", "-o", "json"});
  ASSERT_EQ(get.exit_code, 0) << get.err;
  EXPECT_EQ(Json::parse(get.out)["spec"]["suspend"], true);
}

TEST_F(CronE2eTest, BadCronsAreRefusedNamingWhere) {
  std::string file = dir_.Write("bad.yaml", R"(kind: CronWorkflow
metadata: {name: bad}
spec:
  schedule: "* * * * MONDAY"
  workflowSpec: {entrypoint: m, templates: [{name: m, suspend: {}}]}
)");
  CommandResult r = Cli({"cron", "create", file});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("bad.yaml:4:13: schedule \"* * * * MONDAY\": day-of-week field"),
            std::string::npos)
      << r.err;
  std::string wf = dir_.Write("wf.yaml",
                              "kind: Workflow\nmetadata: {name: w}\nspec:\n"
                              "  entrypoint: m\n  templates: [{name: m, suspend: {}}]\n");
  r = Cli({"cron", "create", wf});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("no CronWorkflow in the given files"), std::string::npos) << r.err;
}

TEST_F(CronE2eTest, RunOfACronWorkflowPointsToTheHub) {
  std::string file = dir_.Write("ticker.yaml", kTicker);
  CommandResult r = RunCommand({"timeout", "60", Hubspoke(), "run", file}, dir_.path());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("CronWorkflow ticker runs on a hub, on its schedule: hubspoke cron create"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("hubspoke submit --from cronworkflow/ticker"), std::string::npos);
}

TEST_F(CronE2eTest, CorpusCronWorkflowsAreAccepted) {
  const std::string corpus = SourceDir() + "/../shared/corpus/argo-examples";
  if (!std::filesystem::exists(corpus + "/cron-workflow.yaml")) {
    GTEST_SKIP() << "no corpus at " << corpus;
  }
  CommandResult t = Cli({"template", "create", corpus + "/dag-inline-workflowtemplate.yaml"});
  ASSERT_EQ(t.exit_code, 0) << t.err;
  for (const char* file :
       {"cron-workflow.yaml", "cron-when.yaml", "cron-workflow-multiple-schedules.yaml",
        "dag-inline-cronworkflow.yaml"}) {
    CommandResult r = Cli({"cron", "create", corpus + "/" + file});
    EXPECT_EQ(r.exit_code, 0) << file << ": " << r.err;
  }
  CommandResult list = Cli({"cron", "list", "-o", "name"});
  EXPECT_EQ(list.out, "dag-inline\nhello-world\nhello-world-multiple-schedules\nsleep-when\n");
  CommandResult get = Cli({"cron", "get", "hello-world", "-o", "json"});
  Json cron = Json::parse(get.out);
  EXPECT_EQ(cron["spec"]["timezone"], "America/Los_Angeles");
  EXPECT_EQ(cron["spec"]["concurrencyPolicy"], "Replace");
}

}  // namespace
}  // namespace hubspoke::e2e
