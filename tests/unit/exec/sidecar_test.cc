// Sidecars: processes that run beside a task's main process, in its working directory and /tmp,
// and are stopped once it exits; the task's outcome is the main process's.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "exec/runner.h"
#include "exec_test_util.h"

namespace hubspoke::exec {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class SidecarTest : public ::testing::Test {
 protected:
  // A task running `main` with one sidecar "helper" running `sidecar` (both sh scripts), its log
  // in the test's directory, and a timeout that only stops a broken test from hanging.
  ExecSpec Task(const std::string& main, const std::string& sidecar) {
    ExecSpec spec;
    spec.attempt_id = "a1";
    spec.argv = {"sh", "-c", main};
    spec.sidecars.push_back({"helper", {"sh", "-c", sidecar}, {{"ROLE", "sidecar"}}});
    spec.log_path = dir_.path() + "/task.log";
    spec.timeout_ms = 60'000;
    return spec;
  }

  // Runs a main process that waits for the sidecar `script` to write its pid to the file "pid"
  // of their working directory and exits 0; returns that pid (-1 when the task did not succeed).
  pid_t RunAndGetSidecarPid(const std::string& script) {
    ExecSpec spec = Task("until [ -s pid ]; do sleep 0.01; done; cp pid /tmp/pid",
                         "echo $$ > pid.tmp; mv pid.tmp pid; " + script);
    spec.output_files = {"/tmp/pid"};
    ExecResult r = runner_.Run(spec);
    EXPECT_EQ(r.exit_code, 0) << r.message;
    auto it = r.files.find("/tmp/pid");
    return r.exit_code != 0 || it == r.files.end() ? -1 : std::stoi(it->second);
  }

  TempDir dir_;
  ProcessRunner runner_{RunnerOptions{dir_.path() + "/work", false, /*kill_grace_ms=*/200}};
};

TEST_F(SidecarTest, ASidecarRunsBesideTheMainProcessInItsWorkingDirectoryAndTmp) {
  ExecSpec spec = Task("until [ -f ready ] && [ -f /tmp/ready ]; do sleep 0.01; done; cat ready",
                       "echo \"$ROLE in $(pwd)\" > ready.tmp; mv ready.tmp ready; "
                       "touch /tmp/ready; sleep 1000");
  ExecResult r = runner_.Run(spec);
  ASSERT_TRUE(r.started) << r.message;
  EXPECT_EQ(r.exit_code, 0) << r.message;
  EXPECT_THAT(r.stdout_text, HasSubstr("sidecar in "));
  EXPECT_FALSE(r.timed_out);
}

TEST_F(SidecarTest, ASidecarIsStoppedOnceTheMainProcessExits) {
  pid_t pid = RunAndGetSidecarPid("exec sleep 1000");
  ASSERT_GT(pid, 0);
  EXPECT_TRUE(ProcessGone(pid));
}

TEST_F(SidecarTest, ASidecarThatIgnoresSigtermIsKilled) {
  pid_t pid = RunAndGetSidecarPid("trap '' TERM; while :; do sleep 0.05; done");
  ASSERT_GT(pid, 0);
  EXPECT_TRUE(ProcessGone(pid));
}

TEST_F(SidecarTest, TheTaskEndsAsItsMainProcessDoes) {
  ExecResult failed = runner_.Run(Task("exit 3", "sleep 1000"));
  EXPECT_EQ(failed.exit_code, 3);
  EXPECT_EQ(failed.message, "Error (exit code 3)");
  ExecResult ok = runner_.Run(Task("until [ -f gone ]; do sleep 0.01; done", "touch gone; exit 7"));
  EXPECT_EQ(ok.exit_code, 0);
  EXPECT_EQ(ok.message, "");
}

TEST_F(SidecarTest, ASidecarsOutputGoesToTheLogUnderItsNameNotToTheResult) {
  ExecResult r = runner_.Run(Task("until [ -f said ]; do sleep 0.01; done; echo main out",
                                  "echo one; echo two >&2; printf unfinished; touch said; "
                                  "sleep 1000"));
  ASSERT_EQ(r.exit_code, 0) << r.message;
  EXPECT_EQ(r.stdout_text, "main out");
  std::string log = ReadText(dir_.path() + "/task.log");
  EXPECT_THAT(log, HasSubstr("[helper] one\n"));
  EXPECT_THAT(log, HasSubstr("[helper] two\n"));
  EXPECT_THAT(log, HasSubstr("[helper] unfinished\n"));
  EXPECT_THAT(log, HasSubstr("main out\n"));
  EXPECT_THAT(log, Not(HasSubstr("[helper] main out")));
}

TEST_F(SidecarTest, ASidecarThatCannotStartKeepsTheTaskFromStarting) {
  ExecSpec spec = Task("touch ran", "true");
  spec.sidecars[0].argv = {"no-such-sidecar-command"};
  ExecResult r = runner_.Run(spec);
  EXPECT_FALSE(r.started);
  EXPECT_THAT(r.message, HasSubstr("sidecar \"helper\""));
  EXPECT_THAT(r.message, HasSubstr("no-such-sidecar-command"));
}

}  // namespace
}  // namespace hubspoke::exec
