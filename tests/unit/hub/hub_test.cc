// The hub with a real SQLite file and real processes on local spokes: submissions with options,
// commands, templates, and a restart that continues unfinished workflows.
#include "hub/hub.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "hub/serialize.h"
#include "spec/loader.h"
#include "store/store.h"

namespace hubspoke::hub {
namespace {

// A fresh state directory under the build tree (tasks see a private /tmp).
class HubTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string root = std::string(HUBSPOKE_BINARY_DIR) + "/test-tmp";
    std::filesystem::create_directories(root);
    std::string tmpl = root + "/hub-XXXXXX";
    dir_ = mkdtemp(tmpl.data());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<Hub> Open(int spokes = 2) {
    auto store = store::OpenSqlite({dir_ + "/hubspoke.db"});
    EXPECT_TRUE(store.ok()) << store.error().ToString();
    HubOptions o;
    o.data_dir = dir_;
    o.local_spokes = spokes;
    o.resumable = true;
    o.forget_finished = true;
    return std::make_unique<Hub>(std::move(o), std::move(*store), spec::Catalog{});
  }

  static spec::Workflow Manifest(const std::string& yaml) {
    auto wf = spec::LoadManifest(yaml, "test.yaml");
    EXPECT_TRUE(wf.ok()) << wf.error().ToString();
    return *wf;
  }

  // The stored phase of a workflow ("" when absent).
  static std::string Phase(Hub& hub, const std::string& name) {
    auto rec = hub.store().GetWorkflow(name);
    return rec.ok() && *rec ? (*rec)->phase : "";
  }

  // Stored phase of every node by display name.
  static std::map<std::string, std::string> NodePhases(Hub& hub, const std::string& name) {
    std::map<std::string, std::string> out;
    auto nodes = hub.store().ListNodes(name);
    for (const auto& row : *nodes) {
      auto n = NodeFromJson(row.body_json);
      if (n.ok()) out[n->display_name] = std::string(engine::PhaseName(n->phase));
    }
    return out;
  }

  static bool WaitFor(const std::function<bool()>& pred, int timeout_ms = 20000) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (std::chrono::steady_clock::now() < deadline) {
      if (pred()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return pred();
  }

  // Lines of a file, counted.
  std::map<std::string, int> Count(const std::string& path) {
    std::map<std::string, int> out;
    std::ifstream in(path);
    for (std::string line; std::getline(in, line);) out[line]++;
    return out;
  }

  std::string dir_;
};

std::string FanOut(const std::string& count_file, int items, double seconds) {
  std::ostringstream y;
  y << R"(apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: fan-
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - name: work
        template: work
        arguments:
          parameters: [{name: i, value: "{{item}}"}]
        withSequence: {count: ")"
    << items << R"("}
  - name: work
    retryStrategy: {limit: 2}
    inputs:
      parameters: [{name: i}]
    container:
      image: alpine
      command: [sh, -c, "echo {{inputs.parameters.i}} >> )"
    << count_file << "; sleep " << seconds << R"("]
)";
  return y.str();
}

TEST_F(HubTest, SubmitAppliesOptionsAndStoresTheRun) {
  auto hub = Open();
  SubmitOptions o;
  o.generate_name = "greet-";
  o.parameters = {{"who", "spokes"}};
  o.labels = {{"team", "platform"}};
  auto name = hub->Submit(Manifest(R"(apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: fixed}
spec:
  entrypoint: say
  arguments:
    parameters: [{name: who, value: world}]
  templates:
  - name: say
    container:
      image: alpine
      command: [echo, "hello {{workflow.parameters.who}}"]
)"),
                          o);
  ASSERT_TRUE(name.ok()) << name.error().ToString();
  EXPECT_EQ(name->rfind("greet-", 0), 0u) << *name;
  ASSERT_TRUE(WaitFor([&] { return Phase(*hub, *name) == "Succeeded"; }));
  auto rec = hub->store().GetWorkflow(*name);
  EXPECT_NE((*rec)->labels_json.find("\"team\":\"platform\""), std::string::npos);
  auto nodes = hub->store().ListNodes(*name);
  bool said = false;
  for (const auto& row : *nodes) {
    auto n = NodeFromJson(row.body_json);
    if (n.ok() && n->result && *n->result == "hello spokes") said = true;
  }
  EXPECT_TRUE(said);
}

TEST_F(HubTest, SubmitRefusesAManifestWithLintErrors) {
  auto hub = Open();
  auto name = hub->Submit(Manifest(R"(apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: bad-}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - name: a
        template: missing
)"));
  ASSERT_FALSE(name.ok());
  EXPECT_EQ(name.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(name.error().message.find("test.yaml:"), std::string::npos) << name.error().message;
  EXPECT_NE(name.error().message.find("missing"), std::string::npos);
}

TEST_F(HubTest, TemplatesAreStoredAndSurviveARestart) {
  const std::string tmpl = R"(apiVersion: argoproj.io/v1alpha1
kind: WorkflowTemplate
metadata: {name: echo}
spec:
  entrypoint: say
  arguments:
    parameters: [{name: msg, value: hi}]
  templates:
  - name: say
    container:
      image: alpine
      command: [echo, "{{workflow.parameters.msg}}"]
)";
  {
    auto hub = Open();
    ASSERT_TRUE(hub->CreateTemplate(Manifest(tmpl)).ok());
    auto again = hub->CreateTemplate(Manifest(tmpl));
    ASSERT_FALSE(again.ok());
    EXPECT_EQ(again.error().code, ErrorCode::kAlreadyExists);
  }
  auto hub = Open();
  SubmitOptions o;
  o.parameters = {{"msg", "from-template"}};
  auto name = hub->SubmitFrom("echo", o);
  ASSERT_TRUE(name.ok()) << name.error().ToString();
  ASSERT_TRUE(WaitFor([&] { return Phase(*hub, *name) == "Succeeded"; }));
  ASSERT_TRUE(hub->DeleteTemplate("echo").ok());
  EXPECT_EQ(hub->DeleteTemplate("echo").error().code, ErrorCode::kNotFound);
  EXPECT_EQ(hub->SubmitFrom("echo", {}).error().code, ErrorCode::kNotFound);
}

TEST_F(HubTest, SuspendHoldsNewTasksUntilResume) {
  auto hub = Open(1);
  std::string counts = dir_ + "/counts";
  auto name = hub->Submit(Manifest(FanOut(counts, 4, 0.2)));
  ASSERT_TRUE(name.ok());
  ASSERT_TRUE(hub->Suspend(*name).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(800));
  // What had been handed to the spoke before the suspend may finish; nothing new starts.
  int before = 0;
  for (auto& [k, v] : Count(counts)) before += v;
  EXPECT_LT(before, 4);
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  int still = 0;
  for (auto& [k, v] : Count(counts)) still += v;
  EXPECT_EQ(still, before);
  EXPECT_EQ(Phase(*hub, *name), "Running");
  auto body = hub->store().GetWorkflow(*name);
  EXPECT_NE((*body)->body_json.find("\"suspend\":true"), std::string::npos);
  ASSERT_TRUE(hub->Resume(*name).ok());
  ASSERT_TRUE(WaitFor([&] { return Phase(*hub, *name) == "Succeeded"; }));
  EXPECT_EQ(Count(counts).size(), 4u);
  EXPECT_EQ(hub->Suspend(*name).error().code, ErrorCode::kFailedPrecondition);
}

TEST_F(HubTest, ResubmitStartsANewRunAndDeleteRemovesOne) {
  auto hub = Open();
  std::string counts = dir_ + "/counts";
  auto first = hub->Submit(Manifest(FanOut(counts, 2, 0)));
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(WaitFor([&] { return Phase(*hub, *first) == "Succeeded"; }));
  auto second = hub->Resubmit(*first);
  ASSERT_TRUE(second.ok()) << second.error().ToString();
  EXPECT_NE(*second, *first);
  ASSERT_TRUE(WaitFor([&] { return Phase(*hub, *second) == "Succeeded"; }));
  for (auto& [item, n] : Count(counts)) EXPECT_EQ(n, 2) << item;
  ASSERT_TRUE(hub->Delete(*first).ok());
  EXPECT_EQ(Phase(*hub, *first), "");
  EXPECT_EQ(hub->Delete(*first).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(Phase(*hub, *second), "Succeeded");
}

TEST_F(HubTest, ARestartedHubContinuesAndNeverRerunsACompletedNode) {
  std::string counts = dir_ + "/counts";
  std::string name;
  std::map<std::string, std::string> before;
  {
    auto hub = Open(2);
    auto submitted = hub->Submit(Manifest(FanOut(counts, 8, 0.3)));
    ASSERT_TRUE(submitted.ok());
    name = *submitted;
    ASSERT_TRUE(WaitFor([&] {
      int done = 0, running = 0;  // running: attempts the hub recorded as started
      for (auto& [n, phase] : NodePhases(*hub, name)) {
        done += phase == "Succeeded" && n.rfind("work(", 0) == 0 && n.find(")(") == n.npos;
        running += phase == "Running" && n.find(")(") != n.npos;
      }
      return done >= 2 && running >= 1;
    }));
    before = NodePhases(*hub, name);
  }  // the hub goes away mid-run: its running tasks are killed, their results never recorded
  auto hub = Open(2);
  ASSERT_TRUE(WaitFor([&] { return Phase(*hub, name) == "Succeeded"; }, 30000))
      << Phase(*hub, name);
  std::map<std::string, int> runs = Count(counts);
  EXPECT_EQ(runs.size(), 8u);
  int completed_before = 0;
  for (const auto& [node, phase] : before) {
    // The retry node work(3:3), not its attempts work(3:3)(0)...
    if (phase != "Succeeded" || node.rfind("work(", 0) != 0 || node.find(")(") != node.npos) {
      continue;
    }
    std::string item = node.substr(node.find(':') + 1);
    item.pop_back();
    ++completed_before;
    EXPECT_EQ(runs[item], 1) << node << " completed before the restart and ran again";
  }
  EXPECT_GE(completed_before, 2);
  // What ran when the hub went away failed as lost and was retried.
  int lost = 0;
  auto nodes = hub->store().ListNodes(name);
  for (const auto& row : *nodes) {
    auto n = NodeFromJson(row.body_json);
    if (n.ok() && n->message.find("spoke lost") != std::string::npos) ++lost;
  }
  EXPECT_GE(lost, 1);
  // Everything finished: nothing is left to replay.
  EXPECT_TRUE(hub->store().ListEvents()->empty());
}

TEST_F(HubTest, WatchersHearOfChanges) {
  auto hub = Open();
  std::mutex mu;
  std::set<std::string> seen, rows;
  int id = hub->Watch(
      [&](const std::vector<std::string>& names, const std::vector<std::string>& rows_written) {
        std::lock_guard lock(mu);
        seen.insert(names.begin(), names.end());
        rows.insert(rows_written.begin(), rows_written.end());
      });
  auto name = hub->Submit(Manifest(FanOut(dir_ + "/c", 1, 0)));
  ASSERT_TRUE(name.ok());
  ASSERT_TRUE(WaitFor([&] { return Phase(*hub, *name) == "Succeeded"; }));
  hub->Unwatch(id);
  std::lock_guard lock(mu);
  EXPECT_TRUE(seen.count(*name));
  EXPECT_TRUE(rows.count(*name));  // its phase changed, so its row was written
}

}  // namespace
}  // namespace hubspoke::hub

namespace hubspoke::hub {
namespace {

TEST_F(HubTest, RetryRunsWhatFailedAndKeepsWhatSucceeded) {
  auto hub = Open();
  std::string counts = dir_ + "/counts", ok = dir_ + "/ok";
  std::string yaml = R"(apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: flaky-}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - name: work
        template: work
        arguments:
          parameters: [{name: i, value: "{{item}}"}]
        withItems: [a, b, c]
    - - name: after
        template: work
        arguments:
          parameters: [{name: i, value: after}]
  - name: work
    inputs:
      parameters: [{name: i}]
    container:
      image: alpine
      command: [sh, -c, "echo {{inputs.parameters.i}} >> COUNTS; [ {{inputs.parameters.i}} != b ] || [ -f OK ]"]
)";
  for (auto [from, to] : {std::pair{"COUNTS", counts}, std::pair{"OK", ok}}) {
    yaml.replace(yaml.find(from), strlen(from), to);
  }
  auto name = hub->Submit(Manifest(yaml));
  ASSERT_TRUE(name.ok());
  ASSERT_TRUE(WaitFor([&] { return Phase(*hub, *name) == "Failed"; }));
  EXPECT_EQ(hub->Retry("no-such").error().code, ErrorCode::kNotFound);
  std::ofstream(ok) << "now b passes\n";
  ASSERT_TRUE(hub->Retry(*name).ok());
  ASSERT_TRUE(WaitFor([&] { return Phase(*hub, *name) == "Succeeded"; }));
  auto runs = Count(counts);
  EXPECT_EQ(runs["a"], 1);
  EXPECT_EQ(runs["c"], 1);
  EXPECT_EQ(runs["b"], 2);
  EXPECT_EQ(runs["after"], 1);
  EXPECT_EQ(NodePhases(*hub, *name)["work(0:a)"], "Succeeded");
  EXPECT_EQ(hub->Retry(*name).error().code, ErrorCode::kFailedPrecondition);
}

TEST_F(HubTest, DeleteTerminatesARunningWorkflowThenRemovesIt) {
  auto hub = Open();
  // Workflow "long" with one task running `command`.
  auto one_task = [](const std::string& command) {
    return Manifest(
        "kind: Workflow\nmetadata: {name: long}\nspec:\n  entrypoint: t\n  templates:\n  - name: "
        "t\n    container: {image: alpine, command: [sh, -c, \"" +
        command + "\"]}\n");
  };
  std::string started = dir_ + "/started";
  ASSERT_TRUE(hub->Submit(one_task("touch " + started + "; sleep 600")).ok());
  ASSERT_TRUE(WaitFor([&] { return std::filesystem::exists(started); }));
  EXPECT_EQ(Phase(*hub, "long"), "Running");
  ASSERT_TRUE(hub->Delete("long").ok());
  EXPECT_EQ(Phase(*hub, "long"), "");
  EXPECT_EQ(hub->Delete("long").error().code, ErrorCode::kNotFound);
  // The hub carries on: the name is free again and a new run succeeds.
  auto again = hub->Submit(one_task("true"));
  ASSERT_TRUE(again.ok()) << again.error().ToString();
  ASSERT_TRUE(WaitFor([&] { return Phase(*hub, "long") == "Succeeded"; }));
}

TEST_F(HubTest, ANameTakenByAFinishedWorkflowIsRefused) {
  auto hub = Open();
  const char* yaml = R"(apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: once}
spec:
  entrypoint: t
  templates:
  - name: t
    container: {image: alpine, command: ["true"]}
)";
  ASSERT_TRUE(hub->Submit(Manifest(yaml)).ok());
  ASSERT_TRUE(WaitFor([&] { return Phase(*hub, "once") == "Succeeded"; }));
  auto again = hub->Submit(Manifest(yaml));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, ErrorCode::kAlreadyExists);
  EXPECT_EQ(Phase(*hub, "once"), "Succeeded");
}

}  // namespace
}  // namespace hubspoke::hub

namespace hubspoke::hub {
namespace {

// A spoke that joins the hub as a remote one would, running tasks as real processes.
std::unique_ptr<spoke::LocalSpoke> JoiningSpoke(Hub& hub, const std::string& dir,
                                                const std::string& name,
                                                std::map<std::string, std::string> labels) {
  spoke::SpokeOptions so;
  so.name = name;
  so.slots = 2;
  so.labels = std::move(labels);
  so.work_root = dir + "/" + name + "-work";
  so.log_root = hub.log_root();
  so.images = spoke::ImageMap::WithDefaults();
  return std::make_unique<spoke::LocalSpoke>(std::move(so), &hub.listener());
}

TEST_F(HubTest, ATaskWaitsForASpokeWithItsLabelsAndRunsWhenOneJoins) {
  auto store = store::OpenSqlite({dir_ + "/hubspoke.db"});
  ASSERT_TRUE(store.ok());
  HubOptions o;
  o.data_dir = dir_;
  o.local_spokes = 0;
  o.spoke_lease_ms = 2000;
  Hub hub(std::move(o), std::move(*store), spec::Catalog{});
  auto name = hub.Submit(Manifest(R"(apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: gpu-}
spec:
  entrypoint: t
  templates:
  - name: t
    nodeSelector: {pool: gpu}
    container: {image: alpine, command: [echo, ran]}
)"));
  ASSERT_TRUE(name.ok());
  ASSERT_TRUE(WaitFor([&] {
    auto nodes = hub.store().ListNodes(*name);
    for (const auto& row : *nodes) {
      auto n = NodeFromJson(row.body_json);
      if (n.ok() &&
          n->message.find("waiting for a spoke with labels {pool=gpu}") != std::string::npos) {
        return true;
      }
    }
    return false;
  }));
  EXPECT_EQ(Phase(hub, *name), "Running");
  auto cpu = JoiningSpoke(hub, dir_, "cpu-box", {{"pool", "cpu"}});
  hub.AddSpoke(cpu.get(), 2);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(Phase(hub, *name), "Running");
  auto gpu = JoiningSpoke(hub, dir_, "gpu-box", {{"pool", "gpu"}});
  hub.AddSpoke(gpu.get(), 2);
  ASSERT_TRUE(WaitFor([&] { return Phase(hub, *name) == "Succeeded"; }));
  auto nodes = hub.store().ListNodes(*name);
  bool on_gpu = false;
  for (const auto& row : *nodes) {
    auto n = NodeFromJson(row.body_json);
    if (n.ok() && n->type == engine::NodeType::kPod) on_gpu = n->host_node_name == "gpu-box";
  }
  EXPECT_TRUE(on_gpu);
  auto spokes = hub.Spokes();
  ASSERT_EQ(spokes.size(), 2u);
  EXPECT_EQ(spokes[1].name, "gpu-box");
  EXPECT_EQ(spokes[1].labels.at("pool"), "gpu");
  hub.RemoveSpoke("cpu-box", "disconnected");
  hub.RemoveSpoke("gpu-box", "disconnected");
}

TEST_F(HubTest, TheTasksOfASpokeThatLeavesAreLostAndRetried) {
  auto store = store::OpenSqlite({dir_ + "/hubspoke.db"});
  ASSERT_TRUE(store.ok());
  HubOptions o;
  o.data_dir = dir_;
  o.local_spokes = 0;
  o.spoke_lease_ms = 2000;
  Hub hub(std::move(o), std::move(*store), spec::Catalog{});
  std::string counts = dir_ + "/counts";
  auto doomed = JoiningSpoke(hub, dir_, "doomed", {});
  hub.AddSpoke(doomed.get(), 2);
  auto name = hub.Submit(Manifest(FanOut(counts, 2, 1)));
  ASSERT_TRUE(name.ok());
  ASSERT_TRUE(WaitFor([&] { return Count(counts).size() == 2; }));
  hub.RemoveSpoke("doomed", "its heartbeats stopped");
  doomed.reset();  // lets what it still runs finish; those results come too late to count
  auto healthy = JoiningSpoke(hub, dir_, "healthy", {});
  hub.AddSpoke(healthy.get(), 2);
  ASSERT_TRUE(WaitFor([&] { return Phase(hub, *name) == "Succeeded"; }, 30000));
  for (auto& [item, n] : Count(counts)) EXPECT_EQ(n, 2) << item;
  auto nodes = hub.store().ListNodes(*name);
  int lost = 0;
  for (const auto& row : *nodes) {
    auto n = NodeFromJson(row.body_json);
    if (n.ok() && n->message == "spoke lost: doomed: its heartbeats stopped") ++lost;
  }
  EXPECT_EQ(lost, 2);
  hub.RemoveSpoke("healthy", "test over");
}

}  // namespace
}  // namespace hubspoke::hub

namespace hubspoke::hub {
namespace {

TEST_F(HubTest, AWorkflowLeftByAnEndedRunEndsInErrorWhenAHubStarts) {
  std::string name;
  {
    auto store = store::OpenSqlite({dir_ + "/hubspoke.db"});
    ASSERT_TRUE(store.ok());
    HubOptions o;  // as `hubspoke run` opens it: no event log
    o.data_dir = dir_;
    o.local_spokes = 1;
    Hub run(std::move(o), std::move(*store), spec::Catalog{});
    auto submitted = run.Submit(Manifest(FanOut(dir_ + "/c", 3, 2)));
    ASSERT_TRUE(submitted.ok());
    name = *submitted;
    ASSERT_TRUE(WaitFor([&] { return Phase(run, name) == "Running"; }));
  }  // the run ends (Ctrl-C) before its workflow does
  auto hub = Open();
  EXPECT_EQ(Phase(*hub, name), "Error");
  auto rec = hub->store().GetWorkflow(name);
  auto status = WorkflowStatusFromJson((*rec)->body_json, {});
  ASSERT_TRUE(status.ok()) << status.error().ToString();
  EXPECT_EQ(status->phase, engine::Phase::kError);
  EXPECT_NE(status->message.find("resubmit"), std::string::npos) << status->message;
}

}  // namespace
}  // namespace hubspoke::hub
