#include "exec/runner.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "exec_test_util.h"

namespace hubspoke::exec {
namespace {

namespace fs = std::filesystem;

class ProcessRunnerTest : public ::testing::Test {
 protected:
  ExecSpec Shell(const std::string& id, const std::string& command) {
    ExecSpec spec;
    spec.attempt_id = id;
    spec.argv = {"sh", "-c", command};
    return spec;
  }
  ExecResult RunShell(const std::string& command) { return runner_.Run(Shell("a1", command)); }

  TempDir dir_;
  ProcessRunner runner_{RunnerOptions{dir_.path() + "/work"}};
};

TEST_F(ProcessRunnerTest, ZeroExitHasNoMessage) {
  ExecResult r = RunShell("exit 0");
  EXPECT_TRUE(r.started);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.message, "");
  EXPECT_FALSE(r.timed_out);
  EXPECT_FALSE(r.cancelled);
  EXPECT_GT(r.started_us, 0);
  EXPECT_GE(r.finished_us, r.started_us);
}

TEST_F(ProcessRunnerTest, NonZeroExitIsReportedLikeArgo) {
  ExecResult r = RunShell("exit 3");
  EXPECT_TRUE(r.started);
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.message, "Error (exit code 3)");
}

TEST_F(ProcessRunnerTest, KilledBySignalIs128PlusSignal) {
  ExecResult r = RunShell("kill -9 $$");
  EXPECT_EQ(r.exit_code, 137);
  EXPECT_EQ(r.message, "Error (exit code 137: SIGKILL)");
}

TEST_F(ProcessRunnerTest, StdoutLosesExactlyOneTrailingNewline) {
  EXPECT_EQ(RunShell("printf 'a\\nb\\n\\n'").stdout_text, "a\nb\n");
  EXPECT_EQ(RunShell("printf 'no newline'").stdout_text, "no newline");
}

TEST_F(ProcessRunnerTest, StdoutKeepsTheLast256KiB) {
  // 300 KiB of 'x' then a marker: the head is dropped, the tail kept.
  ExecResult r = RunShell("head -c 307200 /dev/zero | tr '\\0' x; printf END");
  ASSERT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.stdout_text.size(), 256u * 1024);
  EXPECT_EQ(r.stdout_text.substr(r.stdout_text.size() - 4), "xEND");
}

TEST_F(ProcessRunnerTest, BigOutputDoesNotDeadlock) {
  ExecSpec spec = Shell("a1", "head -c 20000000 /dev/zero; head -c 20000000 /dev/zero >&2");
  spec.timeout_ms = 20'000;
  ExecResult r = runner_.Run(spec);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_FALSE(r.timed_out);
  EXPECT_EQ(r.stdout_text.size(), 256u * 1024);
}

TEST_F(ProcessRunnerTest, ScriptSourceIsWrittenAndAppendedToArgv) {
  ExecSpec spec;
  spec.attempt_id = "a1";
  spec.argv = {"sh"};
  spec.script_source = "echo from script\n[ -x \"$0\" ] && echo executable\n";
  ExecResult r = runner_.Run(spec);
  EXPECT_EQ(r.exit_code, 0) << r.message;
  EXPECT_EQ(r.stdout_text, "from script\nexecutable");
}

TEST_F(ProcessRunnerTest, EnvironmentIsMinimalPlusTheSpecsVariables) {
  setenv("HUBSPOKE_EXEC_TEST_SECRET", "leak", 1);
  ProcessRunner runner(RunnerOptions{dir_.path() + "/work2"});
  unsetenv("HUBSPOKE_EXEC_TEST_SECRET");
  ExecSpec spec = Shell("a1", "echo \"$FOO|${HUBSPOKE_EXEC_TEST_SECRET-unset}|$PATH\"");
  spec.env = {{"FOO", "bar baz"}};
  ExecResult r = runner.Run(spec);
  std::string path = getenv("PATH") ? getenv("PATH") : "";
  EXPECT_EQ(r.stdout_text, "bar baz|unset|" + path);
}

TEST_F(ProcessRunnerTest, SpecEnvOverridesInheritedVariables) {
  ExecSpec spec = Shell("a1", "echo \"$HOME\"");
  spec.env = {{"HOME", "/nowhere"}};
  EXPECT_EQ(runner_.Run(spec).stdout_text, "/nowhere");
}

TEST_F(ProcessRunnerTest, WorkingDirDefaultsToTheAttemptDir) {
  ExecResult r = RunShell("pwd -P; ls");
  EXPECT_EQ(r.stdout_text.substr(0, r.stdout_text.find('\n')),
            fs::canonical(dir_.path()).string() + "/work/a1");
}

TEST_F(ProcessRunnerTest, WorkingDirIsCreatedAndEntered) {
  ExecSpec spec = Shell("a1", "pwd; echo hi > here.txt");
  spec.working_dir = dir_.path() + "/wd/sub";
  spec.private_tmp = false;
  ExecResult r = runner_.Run(spec);
  EXPECT_EQ(r.stdout_text, dir_.path() + "/wd/sub");
  EXPECT_EQ(ReadText(dir_.path() + "/wd/sub/here.txt"), "hi\n");
}

TEST_F(ProcessRunnerTest, CommandNotFoundNamesTheImageAndTheFix) {
  ExecSpec spec;
  spec.attempt_id = "a1";
  spec.argv = {"hubspoke-no-such-command", "x"};
  spec.image = "python:alpine3.6";
  ExecResult r = runner_.Run(spec);
  EXPECT_FALSE(r.started);
  EXPECT_EQ(r.message,
            "image \"python:alpine3.6\": command \"hubspoke-no-such-command\" not found on this "
            "spoke (map the image to a host command with --image-map IMAGE=COMMAND)");
}

TEST_F(ProcessRunnerTest, MissingAbsoluteCommandIsNotFoundToo) {
  for (bool private_tmp : {false, true}) {
    ExecSpec spec;
    spec.attempt_id = "a1";
    spec.argv = {"/nonexistent/bin/tool"};
    spec.private_tmp = private_tmp;
    ExecResult r = runner_.Run(spec);
    EXPECT_FALSE(r.started);
    EXPECT_EQ(r.message,
              "command \"/nonexistent/bin/tool\" not found on this spoke (map the image to a host "
              "command with --image-map IMAGE=COMMAND)");
  }
}

TEST_F(ProcessRunnerTest, EmptyCommandDoesNotStart) {
  ExecSpec spec;
  spec.attempt_id = "a1";
  ExecResult r = runner_.Run(spec);
  EXPECT_FALSE(r.started);
  EXPECT_EQ(r.message, "no command to run");
}

TEST_F(ProcessRunnerTest, TimeoutKillsTheWholeProcessGroup) {
  ExecSpec spec = Shell("a1", "sleep 30 & echo $!; wait");
  spec.timeout_ms = 200;
  auto start = std::chrono::steady_clock::now();
  ExecResult r = runner_.Run(spec);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  EXPECT_TRUE(r.started);
  EXPECT_TRUE(r.timed_out);
  EXPECT_EQ(r.message, "timeout after 200ms");
  EXPECT_EQ(r.exit_code, 128 + SIGTERM);
  pid_t grandchild = std::stoi(r.stdout_text);
  for (int i = 0; i < 100 && !ProcessGone(grandchild); ++i) usleep(10'000);
  EXPECT_TRUE(ProcessGone(grandchild));
}

TEST_F(ProcessRunnerTest, TimeoutEscalatesToSigkillWhenTermIsIgnored) {
  ProcessRunner runner(RunnerOptions{dir_.path() + "/work2", false, 100});
  ExecSpec spec = Shell("a1", "trap '' TERM; sleep 30");
  spec.timeout_ms = 200;
  auto start = std::chrono::steady_clock::now();
  ExecResult r = runner.Run(spec);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  EXPECT_TRUE(r.timed_out);
  EXPECT_EQ(r.exit_code, 128 + SIGKILL);
}

TEST_F(ProcessRunnerTest, LeftoverChildrenAreKilledWhenTheLeaderExits) {
  // The background sleep keeps stdout open; Run() must not wait for it, and must not leak it.
  auto start = std::chrono::steady_clock::now();
  ExecResult r = RunShell("sleep 30 & echo $!");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_EQ(r.exit_code, 0);
  pid_t leftover = std::stoi(r.stdout_text);
  for (int i = 0; i < 100 && !ProcessGone(leftover); ++i) usleep(10'000);
  EXPECT_TRUE(ProcessGone(leftover));
}

TEST_F(ProcessRunnerTest, CancelKillsTheProcessGroup) {
  std::atomic<bool> done{false};
  ExecResult r;
  std::thread t([&] {
    r = runner_.Run(Shell("a1", "sleep 30 & echo $!; wait"));
    done = true;
  });
  auto start = std::chrono::steady_clock::now();
  while (!done && std::chrono::steady_clock::now() - start < std::chrono::seconds(10)) {
    runner_.Cancel("a1");  // a no-op until the attempt is registered
    usleep(5'000);
  }
  t.join();
  EXPECT_TRUE(r.cancelled);
  EXPECT_FALSE(r.timed_out);
  EXPECT_EQ(r.message, "cancelled");
}

TEST_F(ProcessRunnerTest, CancelOfAnUnknownAttemptIsHarmless) {
  runner_.Cancel("nope");
  EXPECT_EQ(RunShell("exit 0").exit_code, 0);
}

TEST_F(ProcessRunnerTest, AttemptDirIsRemovedUnlessKept) {
  RunShell("touch file");
  EXPECT_FALSE(fs::exists(dir_.path() + "/work/a1"));
  ProcessRunner keeper(RunnerOptions{dir_.path() + "/kept", true});
  keeper.Run(Shell("a1", "touch file"));
  EXPECT_TRUE(fs::exists(dir_.path() + "/kept/a1/file"));
}

TEST_F(ProcessRunnerTest, LogFileGetsStdoutAndStderr) {
  ExecSpec spec = Shell("a1", "echo out; echo err >&2");
  spec.log_path = dir_.path() + "/task.log";
  ExecResult r = runner_.Run(spec);
  EXPECT_EQ(r.stdout_text, "out");
  std::string log = ReadText(spec.log_path);
  EXPECT_NE(log.find("out\n"), std::string::npos);
  EXPECT_NE(log.find("err\n"), std::string::npos);
}

TEST_F(ProcessRunnerTest, ASilentTaskCreatesNoLogFileAndStderrAloneCreatesOne) {
  ExecSpec silent = Shell("a1", "true");
  silent.log_path = dir_.path() + "/silent.log";
  EXPECT_EQ(runner_.Run(silent).exit_code, 0);
  EXPECT_FALSE(fs::exists(silent.log_path));
  ExecSpec loud = Shell("a2", "echo only-err >&2; exit 4");
  loud.log_path = dir_.path() + "/loud.log";
  EXPECT_EQ(runner_.Run(loud).exit_code, 4);
  EXPECT_EQ(ReadText(loud.log_path), "only-err\n");
}

TEST_F(ProcessRunnerTest, AReusedDirectoryIsTheWorkingDirAndIsLeftEmpty) {
  std::string slot = dir_.path() + "/slot-1";
  for (const char* id : {"a1", "a2"}) {
    ExecSpec spec = Shell(id, "pwd; ls -A | wc -l; mkdir -p sub && touch sub/f file");
    spec.reuse_dir = slot;
    spec.private_tmp = false;  // as in a spoke slot, whose thread has a private /tmp already
    ExecResult r = runner_.Run(spec);
    EXPECT_EQ(r.stdout_text, slot + "\n0") << id << ": starts in an empty directory";
    EXPECT_TRUE(fs::is_directory(slot));
    EXPECT_TRUE(fs::is_empty(slot)) << id;
    EXPECT_FALSE(fs::exists(dir_.path() + "/work/" + id));
  }
}

TEST_F(ProcessRunnerTest, OutputFilesAreReadAfterExitAndMissingOnesAreAbsent) {
  ExecSpec spec = Shell("a1", "echo rel > rel.txt; echo abs > " + dir_.path() + "/abs.txt");
  spec.output_files = {"rel.txt", dir_.path() + "/abs.txt", "missing.txt"};
  ExecResult r = runner_.Run(spec);
  EXPECT_EQ(r.files["rel.txt"], "rel\n");
  EXPECT_EQ(r.files[dir_.path() + "/abs.txt"], "abs\n");
  EXPECT_EQ(r.files.count("missing.txt"), 0u);
}

TEST_F(ProcessRunnerTest, TwoAttemptsWritingTmpOutTxtSeeTheirOwnContent) {
  if (!ProcessRunner::PrivateTmpSupported()) {
    GTEST_SKIP() << "private /tmp needs a mount namespace (root, or a kernel that allows it)";
  }
  ExecResult results[2];
  std::thread threads[2];
  for (int i = 0; i < 2; ++i) {
    threads[i] = std::thread([&, i] {
      std::string id = "attempt" + std::to_string(i);
      ExecSpec spec = Shell(id, "echo " + id + " > /tmp/out.txt; sleep 0.2; cat /tmp/out.txt");
      spec.output_files = {"/tmp/out.txt"};
      results[i] = runner_.Run(spec);
    });
  }
  for (std::thread& t : threads) t.join();
  for (int i = 0; i < 2; ++i) {
    std::string id = "attempt" + std::to_string(i);
    EXPECT_EQ(results[i].stdout_text, id);
    EXPECT_EQ(results[i].files["/tmp/out.txt"], id + "\n");
  }
}

TEST_F(ProcessRunnerTest, PrivateTmpStartsEmptyAndStaysOffTheHost) {
  if (!ProcessRunner::PrivateTmpSupported()) {
    GTEST_SKIP() << "private /tmp needs a mount namespace (root, or a kernel that allows it)";
  }
  std::string marker = fs::path(dir_.path()).filename().string() + "-marker";
  ExecResult r = RunShell("ls -A /tmp | grep -v '^hubspoke-exec-'; touch /tmp/" + marker);
  EXPECT_EQ(r.stdout_text, "");
  EXPECT_FALSE(fs::exists("/tmp/" + marker));
}

TEST_F(ProcessRunnerTest, WhenPrivateTmpIsUnsupportedTmpdirPointsIntoTheAttemptDir) {
  if (ProcessRunner::PrivateTmpSupported()) GTEST_SKIP() << "private /tmp works here";
  ExecResult r = RunShell("echo \"$TMPDIR\"");
  EXPECT_EQ(r.stdout_text, fs::canonical(dir_.path()).string() + "/work/a1/tmp");
}

TEST_F(ProcessRunnerTest, WithoutPrivateTmpTheHostTmpIsShared) {
  std::string file = dir_.path() + "/shared.txt";
  ExecSpec spec = Shell("a1", "echo shared > " + file);
  spec.private_tmp = false;
  runner_.Run(spec);
  EXPECT_EQ(ReadText(file), "shared\n");
}

TEST_F(ProcessRunnerTest, PrivateDirsAreEmptyPrivateDirectories) {
  if (!ProcessRunner::PrivateTmpSupported()) {
    GTEST_SKIP() << "private dirs need a mount namespace (root, or a kernel that allows it)";
  }
  std::string vol = dir_.path() + "/vol";
  fs::create_directories(vol);
  std::ofstream(vol + "/host.txt") << "host";
  ExecSpec spec = Shell("a1", "ls -A " + vol + "; echo task > " + vol + "/task.txt");
  spec.private_tmp = false;
  spec.private_dirs = {vol};
  spec.output_files = {vol + "/task.txt"};
  ExecResult r = runner_.Run(spec);
  EXPECT_EQ(r.exit_code, 0) << r.message;
  EXPECT_EQ(r.stdout_text, "");
  EXPECT_EQ(r.files[vol + "/task.txt"], "task\n");
  EXPECT_FALSE(fs::exists(vol + "/task.txt"));
}

TEST_F(ProcessRunnerTest, ManyAttemptsRunInParallel) {
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        ExecSpec spec;
        spec.attempt_id = "t" + std::to_string(t) + "-" + std::to_string(i);
        spec.argv = {"echo", spec.attempt_id};
        ExecResult r = runner_.Run(spec);
        if (r.exit_code == 0 && r.stdout_text == spec.attempt_id) ++ok;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(ok, 100);
}

TEST_F(ProcessRunnerTest, SameAttemptIdTwiceAtOnceIsRefused) {
  std::thread t([&] { runner_.Run(Shell("a1", "sleep 0.3")); });
  usleep(100'000);
  ExecResult r = RunShell("exit 0");
  t.join();
  EXPECT_FALSE(r.started);
  EXPECT_EQ(r.message, "attempt a1 is already running");
}

}  // namespace
}  // namespace hubspoke::exec
