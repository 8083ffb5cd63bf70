// argosay (tools/argosay) run through the ProcessRunner, as a spoke runs argoproj/argosay:v2.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <string>
#include <vector>

#include "exec/runner.h"
#include "exec_test_util.h"

namespace hubspoke::exec {
namespace {

class ArgosayTest : public ::testing::Test {
 protected:
  ExecResult Say(std::vector<std::string> args, std::vector<std::string> output_files = {}) {
    ExecSpec spec;
    spec.attempt_id = "say" + std::to_string(next_id_++);
    spec.argv = {HUBSPOKE_ARGOSAY};
    spec.argv.insert(spec.argv.end(), args.begin(), args.end());
    spec.output_files = std::move(output_files);
    return runner_.Run(spec);
  }

  TempDir dir_;
  ProcessRunner runner_{RunnerOptions{dir_.path() + "/work"}};
  int next_id_ = 0;
};

TEST_F(ArgosayTest, NoArgumentsSaysHelloArgo) {
  ExecResult r = Say({});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.stdout_text, "hello argo");
}

TEST_F(ArgosayTest, EchoPrintsTheMessageOrTheDefault) {
  EXPECT_EQ(Say({"echo", "hi there"}).stdout_text, "hi there");
  EXPECT_EQ(Say({"echo"}).stdout_text, "hello argo");
}

TEST_F(ArgosayTest, EchoWritesTheFileCreatingParentDirs) {
  ExecResult r = Say({"echo", "payload", "/tmp/a/b/out.txt"}, {"/tmp/a/b/out.txt"});
  EXPECT_EQ(r.exit_code, 0) << r.message;
  EXPECT_EQ(r.stdout_text, "");
  EXPECT_EQ(r.files["/tmp/a/b/out.txt"], "payload");
}

TEST_F(ArgosayTest, CatPrintsTheFiles) {
  std::ofstream(dir_.path() + "/x") << "one ";
  std::ofstream(dir_.path() + "/y") << "two";
  // dir_ lies under /tmp, which a private /tmp hides.
  ExecSpec spec;
  spec.attempt_id = "cat";
  spec.argv = {HUBSPOKE_ARGOSAY, "cat", dir_.path() + "/x", dir_.path() + "/y"};
  spec.private_tmp = false;
  ExecResult r = runner_.Run(spec);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.stdout_text, "one two");
  EXPECT_EQ(Say({"cat", "/nonexistent"}).exit_code, 1);
}

TEST_F(ArgosayTest, SleepUnderstandsDurations) {
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(Say({"sleep", "50ms"}).exit_code, 0);
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(50));
  EXPECT_EQ(Say({"sleep", "0.01"}).exit_code, 0);
  EXPECT_EQ(Say({"sleep", "0s"}).exit_code, 0);
  EXPECT_EQ(Say({"sleep", "soon"}).exit_code, 1);
}

TEST_F(ArgosayTest, ExitReturnsTheCode) {
  EXPECT_EQ(Say({"exit"}).exit_code, 0);
  EXPECT_EQ(Say({"exit", "7"}).exit_code, 7);
}

TEST_F(ArgosayTest, AssertContainsChecksTheFile) {
  ExecSpec spec;
  spec.attempt_id = "assert";
  spec.argv = {"sh", "-c",
               std::string("echo 'hello world' > /tmp/f; ") + HUBSPOKE_ARGOSAY +
                   " assert_contains /tmp/f world && echo found; " + HUBSPOKE_ARGOSAY +
                   " assert_contains /tmp/f moon"};
  ExecResult r = runner_.Run(spec);
  EXPECT_EQ(r.stdout_text, "found");
  EXPECT_EQ(r.exit_code, 1);
}

TEST_F(ArgosayTest, AssertEqualsComparesTwoValues) {
  EXPECT_EQ(Say({"assert_equals", "a", "a"}).exit_code, 0);
  EXPECT_EQ(Say({"assert_equals", "a", "b"}).exit_code, 1);
}

TEST_F(ArgosayTest, ShPassesThroughToBinSh) {
  EXPECT_EQ(Say({"sh", "-c", "echo $((1 + 2)); exit 4"}).stdout_text, "3");
  EXPECT_EQ(Say({"sh", "-c", "exit 4"}).exit_code, 4);
}

TEST_F(ArgosayTest, UnknownCommandFails) {
  ExecResult r = Say({"dance"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.message, "Error (exit code 1)");
}

}  // namespace
}  // namespace hubspoke::exec
