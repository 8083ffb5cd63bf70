// CronWorkflows on a hub with a real SQLite file and real processes on local spokes; the
// schedules read a FakeClock, so each scheduled time is reached by advancing it, not by waiting.
#include "hub/cron.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "hub/hub.h"
#include "spec/loader.h"
#include "store/store.h"

namespace hubspoke::hub {
namespace {

using Json = nlohmann::json;

// 2024-01-01T00:00:30Z
constexpr Micros kStart = 1'704'067'230'000'000;
constexpr int64_t kMinute = 60'000'000;

class CronTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string root = std::string(HUBSPOKE_BINARY_DIR) + "/test-tmp";
    std::filesystem::create_directories(root);
    std::string tmpl = root + "/cron-XXXXXX";
    dir_ = mkdtemp(tmpl.data());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<Hub> Open() {
    auto store = store::OpenSqlite({dir_ + "/hubspoke.db"});
    EXPECT_TRUE(store.ok()) << store.error().ToString();
    HubOptions o;
    o.data_dir = dir_;
    o.local_spokes = 2;
    o.resumable = true;
    o.forget_finished = true;
    o.cron_clock = &clock_;
    return std::make_unique<Hub>(std::move(o), std::move(*store), spec::Catalog{});
  }

  static spec::Workflow Manifest(const std::string& yaml) {
    auto wf = spec::LoadManifest(yaml, "test.yaml");
    EXPECT_TRUE(wf.ok()) << wf.error().ToString();
    return *wf;
  }

  // A CronWorkflow `name` on "*/5 * * * *" (UTC) with extra spec lines, whose runs `template`.
  static spec::Workflow Cron(const std::string& name, const std::string& extra,
                             const std::string& tmpl) {
    return Manifest(
        "apiVersion: argoproj.io/v1alpha1\nkind: CronWorkflow\nmetadata: {name: " + name +
        "}\nspec:\n  schedule: \"*/5 * * * *\"\n  timezone: UTC\n" + extra +
        "  workflowSpec:\n    entrypoint: main\n    templates:\n    - name: main\n" + tmpl);
  }
  static constexpr const char* kWaits = "      suspend: {}\n";

  // The cron's workflows, newest first.
  static std::vector<std::string> Runs(Hub& hub, const std::string& cron) {
    std::vector<std::string> out;
    store::ListOptions o;
    o.name_prefix = cron + "-";
    auto rows = hub.store().ListWorkflows(o);
    EXPECT_TRUE(rows.ok());
    if (!rows.ok()) return out;
    for (const store::WorkflowRecord& r : *rows) {
      Json labels = Json::parse(r.labels_json);
      if (labels.value(kCronWorkflowLabel, "") == cron) out.push_back(r.name);
    }
    std::sort(out.rbegin(), out.rend());
    return out;
  }

  static std::string Phase(Hub& hub, const std::string& name) {
    auto rec = hub.store().GetWorkflow(name);
    return rec.ok() && *rec ? (*rec)->phase : "";
  }

  static Json Get(Hub& hub, const std::string& cron) {
    auto text = hub.GetCronWorkflow(cron);
    EXPECT_TRUE(text.ok()) << text.error().ToString();
    return text.ok() ? Json::parse(*text) : Json::object();
  }

  // Sets the clock to kStart + `minutes` and schedules.
  void At(Hub& hub, double minutes) {
    clock_.Set(kStart + static_cast<Micros>(minutes * kMinute));
    hub.ScheduleCrons();
  }

  FakeClock clock_{kStart};
  std::string dir_;
};

TEST_F(CronTest, RunsAreNamedAfterTheirScheduledTimeAndLabelled) {
  auto hub = Open();
  std::string out = dir_ + "/scheduled";
  ASSERT_TRUE(hub->CreateCronWorkflow(
                     Cron("c", "",
                          "      container:\n        image: alpine\n        command: [sh, -c, "
                          "\"echo {{workflow.scheduledTime}} > " +
                              out + "\"]\n"))
                  .ok());
  At(*hub, 4);  // 00:04:30: nothing due yet
  EXPECT_TRUE(Runs(*hub, "c").empty());
  At(*hub, 4.5);  // 00:05:00
  ASSERT_EQ(Runs(*hub, "c"), std::vector<std::string>{"c-1704067500"});
  ASSERT_TRUE(hub->WaitFinished("c-1704067500", 20000));
  EXPECT_EQ(Phase(*hub, "c-1704067500"), "Succeeded");
  std::ifstream in(out);
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "2024-01-01T00:05:00Z");
  Json cron = Get(*hub, "c");
  EXPECT_EQ(cron["status"]["lastScheduledTime"], "2024-01-01T00:05:00Z");
  EXPECT_EQ(cron["metadata"]["creationTimestamp"], "2024-01-01T00:00:30Z");
  EXPECT_EQ(cron["status"]["active"], Json::array());
  // Scheduling again at the same time starts nothing more.
  hub->ScheduleCrons();
  EXPECT_EQ(Runs(*hub, "c").size(), 1u);
}

TEST_F(CronTest, ForbidSkipsARunWhileTheLastStillRuns) {
  auto hub = Open();
  ASSERT_TRUE(hub->CreateCronWorkflow(Cron("f", "  concurrencyPolicy: Forbid\n", kWaits)).ok());
  At(*hub, 4.5);  // 00:05
  ASSERT_EQ(Runs(*hub, "f"), std::vector<std::string>{"f-1704067500"});
  EXPECT_EQ(Get(*hub, "f")["status"]["active"][0]["name"], "f-1704067500");
  At(*hub, 9.5);  // 00:10: f-1704067500 still waits at its suspend node
  EXPECT_EQ(Runs(*hub, "f").size(), 1u);
  EXPECT_EQ(Get(*hub, "f")["status"]["lastScheduledTime"], "2024-01-01T00:05:00Z");
  ASSERT_TRUE(hub->Stop("f-1704067500").ok());
  ASSERT_TRUE(hub->WaitFinished("f-1704067500", 20000));
  At(*hub, 14.5);  // 00:15
  EXPECT_EQ(Runs(*hub, "f"), (std::vector<std::string>{"f-1704068100", "f-1704067500"}));
}

TEST_F(CronTest, ReplaceTerminatesTheRunningOneAndStartsTheNext) {
  auto hub = Open();
  ASSERT_TRUE(hub->CreateCronWorkflow(Cron("r", "  concurrencyPolicy: Replace\n", kWaits)).ok());
  At(*hub, 4.5);
  At(*hub, 9.5);
  ASSERT_EQ(Runs(*hub, "r"), (std::vector<std::string>{"r-1704067800", "r-1704067500"}));
  ASSERT_TRUE(hub->WaitFinished("r-1704067500", 20000));
  EXPECT_EQ(Phase(*hub, "r-1704067500"), "Failed");
  EXPECT_EQ(Phase(*hub, "r-1704067800"), "Running");
}

TEST_F(CronTest, AllowLetsRunsOverlap) {
  auto hub = Open();
  ASSERT_TRUE(hub->CreateCronWorkflow(Cron("a", "", kWaits)).ok());
  At(*hub, 4.5);
  At(*hub, 9.5);
  EXPECT_EQ(Get(*hub, "a")["status"]["active"].size(), 2u);
  EXPECT_EQ(Phase(*hub, "a-1704067500"), "Running");
}

TEST_F(CronTest, SuspendedCronStartsNothingAndResumeDoesNotMakeUpMissedRuns) {
  auto hub = Open();
  ASSERT_TRUE(hub->CreateCronWorkflow(Cron("s", "", kWaits)).ok());
  ASSERT_TRUE(hub->SuspendCronWorkflow("s").ok());
  EXPECT_EQ(Get(*hub, "s")["spec"]["suspend"], true);
  At(*hub, 4.5);
  At(*hub, 9.5);
  EXPECT_TRUE(Runs(*hub, "s").empty());
  ASSERT_TRUE(hub->ResumeCronWorkflow("s").ok());
  EXPECT_EQ(Get(*hub, "s")["spec"]["suspend"], false);
  hub->ScheduleCrons();
  EXPECT_TRUE(Runs(*hub, "s").empty());
  At(*hub, 14.5);
  EXPECT_EQ(Runs(*hub, "s"), std::vector<std::string>{"s-1704068100"});
}

TEST_F(CronTest, StartingDeadlineDecidesWhetherTheLatestMissedRunStartsAfterARestart) {
  {
    auto hub = Open();
    ASSERT_TRUE(
        hub->CreateCronWorkflow(Cron("wide", "  startingDeadlineSeconds: 600\n", kWaits)).ok());
    ASSERT_TRUE(
        hub->CreateCronWorkflow(Cron("narrow", "  startingDeadlineSeconds: 60\n", kWaits)).ok());
    ASSERT_TRUE(hub->CreateCronWorkflow(Cron("none", "", kWaits)).ok());
  }
  // Down from 00:00:30 to 00:17:00: 00:05, 00:10 and 00:15 were missed.
  clock_.Set(kStart + 16 * kMinute + 30'000'000);
  auto hub = Open();
  EXPECT_EQ(hub->ListCronWorkflows().size(), 3u);
  hub->ScheduleCrons();
  EXPECT_EQ(Runs(*hub, "wide"), std::vector<std::string>{"wide-1704068100"});  // 00:15 only
  EXPECT_TRUE(Runs(*hub, "narrow").empty());                                   // 120 s late
  EXPECT_TRUE(Runs(*hub, "none").empty());
  // The next scheduled time runs for all of them.
  At(*hub, 19.5);
  EXPECT_EQ(Runs(*hub, "narrow"), std::vector<std::string>{"narrow-1704068400"});
  EXPECT_EQ(Runs(*hub, "none"), std::vector<std::string>{"none-1704068400"});
  EXPECT_EQ(Runs(*hub, "wide").size(), 2u);
}

TEST_F(CronTest, HistoryLimitsKeepTheNewestFinishedRuns) {
  auto hub = Open();
  std::string fail = dir_ + "/fail";
  ASSERT_TRUE(hub->CreateCronWorkflow(
                     Cron("h", "  successfulJobsHistoryLimit: 2\n  failedJobsHistoryLimit: 1\n",
                          "      container:\n        image: alpine\n        command: [sh, -c, "
                          "\"! test -e " +
                              fail + "\"]\n"))
                  .ok());
  std::vector<std::string> started;
  for (int i = 1; i <= 5; ++i) {
    if (i == 4) std::ofstream(fail) << "x";
    At(*hub, i * 5 - 0.5);
    std::string name = "h-" + std::to_string(1704067200 + i * 300);
    ASSERT_TRUE(hub->WaitFinished(name, 20000)) << name;
    EXPECT_EQ(Phase(*hub, name), i <= 3 ? "Succeeded" : "Failed");
  }
  hub->ScheduleCrons();  // trims
  // Succeeded: 00:05 00:10 00:15 (keep the last 2); Failed: 00:20 00:25 (keep the last 1).
  EXPECT_EQ(Runs(*hub, "h"),
            (std::vector<std::string>{"h-1704068700", "h-1704068100", "h-1704067800"}));
}

TEST_F(CronTest, WhenDecidesEachRun) {
  auto hub = Open();
  ASSERT_TRUE(
      hub->CreateCronWorkflow(Cron("yes", "  when: \"{{cronworkflow.name}} == yes\"\n", kWaits))
          .ok());
  ASSERT_TRUE(
      hub->CreateCronWorkflow(Cron("no", "  when: \"{{cronworkflow.name}} == yes\"\n", kWaits))
          .ok());
  At(*hub, 4.5);
  EXPECT_EQ(Runs(*hub, "yes").size(), 1u);
  EXPECT_TRUE(Runs(*hub, "no").empty());
}

// Argo's example (cron-when.yaml): run the first time, then only when the last run was more than
// six minutes ago.
TEST_F(CronTest, WhenComparesNowWithTheLastScheduledTime) {
  auto hub = Open();
  ASSERT_TRUE(hub->CreateCronWorkflow(
                     Cron("w",
                          "  when: \"{{= cronworkflow.lastScheduledTime == nil || (now() - "
                          "cronworkflow.lastScheduledTime).Seconds() > 360 }}\"\n",
                          kWaits))
                  .ok());
  At(*hub, 4.5);  // 00:05: never ran, so lastScheduledTime is nil
  EXPECT_EQ(Runs(*hub, "w"), std::vector<std::string>{"w-1704067500"});
  At(*hub, 9.5);  // 00:10: 300 s since 00:05
  EXPECT_EQ(Runs(*hub, "w").size(), 1u);
  EXPECT_EQ(Get(*hub, "w")["status"]["lastScheduledTime"], "2024-01-01T00:05:00Z");
  At(*hub, 14.5);  // 00:15: 600 s since 00:05
  EXPECT_EQ(Runs(*hub, "w"), (std::vector<std::string>{"w-1704068100", "w-1704067500"}));
  EXPECT_EQ(Get(*hub, "w")["status"]["lastScheduledTime"], "2024-01-01T00:15:00Z");
}

TEST_F(CronTest, WhenWithTimeArithmeticSeesTheLastRunAfterARestart) {
  {
    auto hub = Open();
    ASSERT_TRUE(hub->CreateCronWorkflow(Cron("first", "", kWaits)).ok());
    At(*hub, 4.5);  // 00:05
    ASSERT_EQ(Runs(*hub, "first").size(), 1u);
  }
  // After a restart, the cron given a `when` keeps its lastScheduledTime (00:05).
  clock_.Set(kStart + 9 * kMinute);
  auto hub = Open();
  std::string when =
      "  when: \"{{= (now() - cronworkflow.lastScheduledTime) >= duration('10m') }}\"\n";
  ASSERT_TRUE(hub->UpdateCronWorkflow(Cron("first", when, kWaits)).ok());
  // Before its first run a cron's lastScheduledTime is nil, and now() - nil an error: no run.
  ASSERT_TRUE(hub->CreateCronWorkflow(Cron("never", when, kWaits)).ok());
  At(*hub, 9.5);  // 00:10: 5 minutes since 00:05
  EXPECT_EQ(Runs(*hub, "first").size(), 1u);
  At(*hub, 14.5);  // 00:15: 10 minutes
  EXPECT_EQ(Runs(*hub, "first"),
            (std::vector<std::string>{"first-1704068100", "first-1704067500"}));
  EXPECT_TRUE(Runs(*hub, "never").empty());
}

TEST_F(CronTest, DeletingACronDeletesTheWorkflowsItCreated) {
  auto hub = Open();
  ASSERT_TRUE(hub->CreateCronWorkflow(Cron("d", "", kWaits)).ok());
  ASSERT_TRUE(hub->CreateCronWorkflow(Cron("keep", "", kWaits)).ok());
  At(*hub, 4.5);  // 00:05: d-1704067500 and keep-1704067500 wait at their suspend nodes
  At(*hub, 9.5);  // 00:10: d-1704067800 too, which is stopped and finishes
  ASSERT_TRUE(hub->Stop("d-1704067800").ok());
  ASSERT_TRUE(hub->WaitFinished("d-1704067800", 20000));
  auto manual = hub->SubmitFromCron("d", {});
  ASSERT_TRUE(manual.ok()) << manual.error().ToString();
  ASSERT_EQ(Runs(*hub, "d").size(), 3u);
  EXPECT_EQ(Phase(*hub, "d-1704067500"), "Running");

  ASSERT_TRUE(hub->DeleteCronWorkflow("d").ok());
  EXPECT_TRUE(Runs(*hub, "d").empty());
  for (const std::string& name :
       {std::string("d-1704067500"), std::string("d-1704067800"), *manual}) {
    auto rec = hub->store().GetWorkflow(name);
    ASSERT_TRUE(rec.ok());
    EXPECT_FALSE(rec->has_value()) << name;
  }
  EXPECT_EQ(hub->GetCronWorkflow("d").error().code, ErrorCode::kNotFound);
  // Another cron's runs stay, and nothing starts for the deleted one.
  EXPECT_EQ(Runs(*hub, "keep").size(), 2u);
  EXPECT_EQ(Phase(*hub, "keep-1704067500"), "Running");
  At(*hub, 14.5);
  EXPECT_TRUE(Runs(*hub, "d").empty());
}

TEST_F(CronTest, CreateUpdateDeleteAndTheirErrors) {
  auto hub = Open();
  ASSERT_TRUE(hub->CreateCronWorkflow(Cron("c", "", kWaits)).ok());
  EXPECT_EQ(hub->CreateCronWorkflow(Cron("c", "", kWaits)).error().code, ErrorCode::kAlreadyExists);
  Status bad = hub->CreateCronWorkflow(
      Cron("bad", "", "      steps:\n      - - {name: x, template: nowhere}\n"));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(bad.error().message.find("nowhere"), std::string::npos) << bad.error().message;
  // Update keeps the creation time and takes the new schedule.
  clock_.Set(kStart + kMinute);
  ASSERT_TRUE(
      hub->UpdateCronWorkflow(Manifest("kind: CronWorkflow\nmetadata: {name: c}\nspec:\n  "
                                       "schedule: \"@hourly\"\n  workflowSpec:\n    entrypoint: "
                                       "main\n    templates:\n    - {name: main, suspend: {}}\n"))
          .ok());
  Json c = Get(*hub, "c");
  EXPECT_EQ(c["spec"]["schedule"], "@hourly");
  EXPECT_EQ(c["metadata"]["creationTimestamp"], "2024-01-01T00:00:30Z");
  At(*hub, 4.5);
  EXPECT_TRUE(Runs(*hub, "c").empty());
  ASSERT_TRUE(hub->DeleteCronWorkflow("c").ok());
  EXPECT_EQ(hub->GetCronWorkflow("c").error().code, ErrorCode::kNotFound);
  EXPECT_EQ(hub->DeleteCronWorkflow("c").error().code, ErrorCode::kNotFound);
  EXPECT_EQ(hub->SuspendCronWorkflow("c").error().code, ErrorCode::kNotFound);
  EXPECT_TRUE(hub->ListCronWorkflows().empty());
}

TEST_F(CronTest, SubmitFromACronRunsItsWorkflowSpecNow) {
  auto hub = Open();
  ASSERT_TRUE(hub->CreateCronWorkflow(Cron("m", "", kWaits)).ok());
  auto name = hub->SubmitFromCron("m", {});
  ASSERT_TRUE(name.ok()) << name.error().ToString();
  EXPECT_EQ(name->rfind("m-", 0), 0u);
  EXPECT_EQ(Runs(*hub, "m"), std::vector<std::string>{*name});
  EXPECT_FALSE(Get(*hub, "m")["status"].contains("lastScheduledTime"));
  EXPECT_EQ(hub->SubmitFromCron("nope", {}).error().code, ErrorCode::kNotFound);
}

}  // namespace
}  // namespace hubspoke::hub
