// The spoke's labels and how it turns a Task into what the executor runs.
#include "spoke/local_spoke.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/utsname.h>
#include <unistd.h>

namespace hubspoke::spoke {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
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
    auto spec = BuildExecSpec(ArgosayTask({command}), images, "");
    ASSERT_TRUE(spec.ok()) << spec.error().message;
    EXPECT_THAT(spec->argv, ElementsAre("/opt/tools/argosay", "echo", "hi")) << command;
  }
  auto other = BuildExecSpec(ArgosayTask({"sh", "-c"}), images, "");
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
  auto spec = BuildExecSpec(ArgosayTask({"sh"}), ImageMap(), "");
  ASSERT_TRUE(spec.ok());
  std::string path = ":" + PathOf(*spec) + ":";
  bool has_games = access("/usr/games", X_OK) == 0;
  EXPECT_EQ(path.find(":/usr/games:") != std::string::npos, has_games) << path;
  EXPECT_NE(path.find(":/usr/bin:"), std::string::npos) << path;
}

TEST(BuildExecSpec, TheTasksOwnPathWins) {
  engine::Task task = ArgosayTask({"sh"});
  task.env = {{"PATH", "/custom/bin"}};
  auto spec = BuildExecSpec(task, ImageMap(), "");
  ASSERT_TRUE(spec.ok());
  EXPECT_EQ(PathOf(*spec), "/custom/bin");
}

}  // namespace
}  // namespace hubspoke::spoke
