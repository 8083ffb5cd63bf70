// The spoke's side of artifact transfer: what StoreContents writes under its artifact root.
#include "spoke/wire.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace hubspoke::spoke {
namespace {

std::string Read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class WireTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string root = std::string(HUBSPOKE_BINARY_DIR) + "/test-tmp";
    std::filesystem::create_directories(root);
    std::string tmpl = root + "/wire-XXXXXX";
    dir_ = mkdtemp(tmpl.data());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
};

TEST_F(WireTest, AnArtifactAnotherTaskHoldsIsNotWrittenAgain) {
  google::protobuf::RepeatedPtrField<v1::Artifact> artifacts;
  v1::Artifact* held = artifacts.Add();
  held->set_name("held");
  held->set_key("wf/node/held");
  held->set_content("new");
  v1::Artifact* fresh = artifacts.Add();
  fresh->set_name("fresh");
  fresh->set_key("wf/node/fresh");
  fresh->set_content("fresh content");
  std::filesystem::create_directories(dir_ + "/wf/node");
  std::ofstream(dir_ + "/wf/node/held") << "old";

  auto errors = StoreContents(dir_, artifacts, {"wf/node/held"});
  EXPECT_TRUE(errors.empty());
  EXPECT_EQ(Read(dir_ + "/wf/node/held"), "old");  // a task may be reading it
  EXPECT_EQ(Read(dir_ + "/wf/node/fresh"), "fresh content");

  errors = StoreContents(dir_, artifacts);
  EXPECT_TRUE(errors.empty());
  EXPECT_EQ(Read(dir_ + "/wf/node/held"), "new");
}

}  // namespace
}  // namespace hubspoke::spoke
