// The spoke's labels and how it turns a Task into what the executor runs.
#include "spoke/local_spoke.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <condition_variable>
#include <filesystem>
#include <mutex>

#include "../exec/exec_test_util.h"

namespace hubspoke::spoke {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

class NullListener final : public SpokeListener {
 public:
  void OnTaskStarted(const std::string&, const std::string&, Micros) override {}
  void OnTaskFinished(engine::TaskResult) override {}
};

TEST(Labels, WellKnownLabelsNameTheArchTheOsAndTheHost) {
  auto labels = WellKnownLabels();
  struct utsname u;
  ASSERT_EQ(uname(&u), 0);
  std::string machine = u.machine;
  std::string arch = machine == "x86_64" ? "amd64" : machine == "aarch64" ? "arm64" : machine;
  EXPECT_EQ(labels["kubernetes.io/arch"], arch);
  EXPECT_EQ(labels["beta.kubernetes.io/arch"], arch);
  EXPECT_EQ(labels["kubernetes.io/os"], "linux");
  EXPECT_EQ(labels["beta.kubernetes.io/os"], "linux");
  char host[256] = {};
  ASSERT_EQ(gethostname(host, sizeof host - 1), 0);
  EXPECT_EQ(labels["kubernetes.io/hostname"], host);
}

TEST(Labels, LocalSpokeAdvertisesWellKnownLabelsPlusTheGivenOnes) {
  NullListener listener;
  SpokeOptions options;
  options.name = "s";
  options.slots = 0;
  options.labels = {{"gpu", "yes"}, {"kubernetes.io/os", "custom"}};
  LocalSpoke spoke(options, &listener);
  EXPECT_THAT(spoke.labels(), Contains(Pair("gpu", "yes")));
  EXPECT_THAT(spoke.labels(), Contains(Pair("kubernetes.io/os", "custom")));  // given wins
  EXPECT_EQ(spoke.labels().at("kubernetes.io/arch"), WellKnownLabels().at("kubernetes.io/arch"));
}

engine::Task ArgosayTask(std::vector<std::string> command) {
  engine::Task task;
  task.attempt_id = "a1";
  task.image = "argoproj/argosay:v2";
  task.command = std::move(command);
  task.args = {"echo", "hi"};
  return task;
}

TEST(BuildExecSpec, ExplicitCommandNamingTheImagesProgramRunsTheMappedOne) {
  ImageMap images;
  images.Set("argoproj/argosay:v2", {"/opt/tools/argosay"});
  for (const char* command : {"/argosay", "argosay"}) {
    auto spec = BuildExecSpec(ArgosayTask({command}), images, "", "");
    ASSERT_TRUE(spec.ok()) << spec.error().message;
    EXPECT_THAT(spec->argv, ElementsAre("/opt/tools/argosay", "echo", "hi")) << command;
  }
  auto other = BuildExecSpec(ArgosayTask({"sh", "-c"}), images, "", "");
  ASSERT_TRUE(other.ok());
  EXPECT_THAT(other->argv, ElementsAre("sh", "-c", "echo", "hi"));
}

std::string PathOf(const exec::ExecSpec& spec) {
  std::string path;
  for (const auto& [k, v] : spec.env) {
    if (k == "PATH") path = v;  // the last one wins
  }
  return path;
}

TEST(BuildExecSpec, TasksFindUsrGamesOnTheirPath) {
  auto spec = BuildExecSpec(ArgosayTask({"sh"}), ImageMap(), "", "");
  ASSERT_TRUE(spec.ok());
  std::string path = ":" + PathOf(*spec) + ":";
  bool has_games = access("/usr/games", X_OK) == 0;
  EXPECT_EQ(path.find(":/usr/games:") != std::string::npos, has_games) << path;
  EXPECT_NE(path.find(":/usr/bin:"), std::string::npos) << path;
}

TEST(BuildExecSpec, TheTasksOwnPathWins) {
  engine::Task task = ArgosayTask({"sh"});
  task.env = {{"PATH", "/custom/bin"}};
  auto spec = BuildExecSpec(task, ImageMap(), "", "");
  ASSERT_TRUE(spec.ok());
  EXPECT_EQ(PathOf(*spec), "/custom/bin");
}

// Runs one task on a real one-slot spoke and returns what it reported.
class Collector final : public SpokeListener {
 public:
  void OnTaskStarted(const std::string&, const std::string&, Micros) override {}
  void OnTaskFinished(engine::TaskResult result) override {
    std::lock_guard lock(mu_);
    result_ = std::move(result);
    cv_.notify_all();
  }
  engine::TaskResult Wait() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return result_.has_value(); });
    return *result_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::optional<engine::TaskResult> result_;
};

engine::TaskResult RunOnSpoke(engine::Task task, const std::string& root) {
  Collector collector;
  SpokeOptions options;
  options.name = "s";
  options.work_root = root + "/work";
  options.log_root = root + "/logs";
  std::filesystem::create_directories(options.work_root);
  LocalSpoke spoke(options, &collector);
  spoke.Assign(std::move(task));
  return collector.Wait();
}

// A task of workflow "wf" whose log is logs/wf/<node id>.log on RunOnSpoke's spoke.
engine::Task LoggedTask(std::string attempt_id, std::string node_id) {
  engine::Task task;
  task.attempt_id = std::move(attempt_id);
  task.workflow = "wf";
  task.node_id = std::move(node_id);
  return task;
}

engine::TaskContainer Sh(std::string name, std::string script,
                         std::vector<std::string> dependencies = {}) {
  engine::TaskContainer c;
  c.name = std::move(name);
  c.image = "alpine";
  c.command = {"sh", "-c", std::move(script)};
  c.dependencies = std::move(dependencies);
  return c;
}

TEST(ContainerSet, ContainersShareTheWorkingDirAndVolumesAndMainGivesTheResult) {
  exec::TempDir dir;
  const std::string volume = dir.path() + "/workspace";
  engine::Task task = LoggedTask("cs1", "n1");
  task.private_dirs = {volume};
  task.output_files = {volume + "/out"};
  task.containers = {
      Sh("write", "echo shared > here.txt; echo vol > " + volume + "/out; echo not the result"),
      Sh("main", "cat here.txt; echo \"$WHO\"", {"write"})};
  task.containers[1].env = {{"WHO", "it's me"}};
  engine::TaskResult r = RunOnSpoke(task, dir.path());
  EXPECT_TRUE(r.started) << r.message;
  EXPECT_EQ(r.exit_code, 0) << r.message;
  EXPECT_EQ(r.stdout_text, "shared\nit's me");
  EXPECT_EQ(r.files[volume + "/out"], "vol\n");
  // The other containers' output goes to the log.
  EXPECT_THAT(exec::ReadText(dir.path() + "/logs/wf/n1.log"), HasSubstr("not the result"));
}

TEST(ContainerSet, AFailingContainerStopsItsDependentsAndFailsTheTask) {
  exec::TempDir dir;
  engine::Task task = LoggedTask("cs2", "n2");
  task.containers = {Sh("a", "exit 3"), Sh("b", "echo b ran >&2"),
                     Sh("main", "echo main ran", {"a"}), Sh("d", "echo d ran >&2", {"main"})};
  engine::TaskResult r = RunOnSpoke(task, dir.path());
  EXPECT_TRUE(r.started);
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_THAT(r.message, HasSubstr("container \"a\" failed with exit code 3"));
  EXPECT_EQ(r.stdout_text, "");
  std::string log = exec::ReadText(dir.path() + "/logs/wf/n2.log");
  EXPECT_THAT(log, HasSubstr("b ran"));  // independent of a: still runs
  EXPECT_THAT(log, ::testing::Not(HasSubstr("d ran")));
}

TEST(ContainerSet, AnUnmappedImageNamesTheContainer) {
  engine::Task task;
  task.attempt_id = "cs3";
  task.containers = {Sh("a", "true")};
  task.containers[0].command.clear();
  task.containers[0].image = "nowhere/app";
  auto spec = BuildExecSpec(task, ImageMap(), "", "");
  ASSERT_FALSE(spec.ok());
  EXPECT_THAT(spec.error().message, HasSubstr("container \"a\": image \"nowhere/app\""));
}

TEST(Sidecars, TheirImagesMapToHostCommandsAsMainContainersDo) {
  ImageMap images;
  images.Set("nginx", {"/usr/sbin/nginx", "-g", "daemon off;"});
  engine::Task task = ArgosayTask({"sh", "-c"});
  engine::TaskContainer web;
  web.name = "web";
  web.image = "nginx:1.13";
  web.env = {{"PORT", "8080"}};
  task.sidecars = {web, Sh("helper", "sleep 10")};
  auto spec = BuildExecSpec(task, images, "", "");
  ASSERT_TRUE(spec.ok()) << spec.error().message;
  ASSERT_EQ(spec->sidecars.size(), 2u);
  EXPECT_EQ(spec->sidecars[0].name, "web");
  EXPECT_THAT(spec->sidecars[0].argv, ElementsAre("/usr/sbin/nginx", "-g", "daemon off;"));
  EXPECT_THAT(spec->sidecars[0].env, Contains(Pair("PORT", "8080")));
  EXPECT_THAT(spec->sidecars[1].argv, ElementsAre("sh", "-c", "sleep 10"));

  task.sidecars[0].image = "nowhere/db";
  auto unmapped = BuildExecSpec(task, images, "", "");
  ASSERT_FALSE(unmapped.ok());
  EXPECT_THAT(unmapped.error().message, HasSubstr("sidecar \"web\": image \"nowhere/db\""));
}

TEST(Sidecars, RunOnASpokeBesideTheMainContainerAndTheFailureMessageIsTheMains) {
  exec::TempDir dir;
  engine::Task task = LoggedTask("sc1", "n3");
  task.image = "alpine";
  task.command = {"sh", "-c", "until [ -f up ]; do sleep 0.01; done; echo main gave up; exit 2"};
  task.timeout_ms = 60'000;  // only stops a broken test from hanging
  task.sidecars = {Sh("helper", "echo helper still here; touch up; sleep 1000")};
  engine::TaskResult r = RunOnSpoke(task, dir.path());
  EXPECT_TRUE(r.started) << r.message;
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.message, HasSubstr("main gave up"));
  EXPECT_THAT(exec::ReadText(dir.path() + "/logs/wf/n3.log"),
              HasSubstr("[helper] helper still here"));
}

}  // namespace
}  // namespace hubspoke::spoke
