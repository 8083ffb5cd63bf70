#include "exec/artifacts.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "exec/runner.h"
#include "exec_test_util.h"

namespace hubspoke::exec {
namespace {

namespace fs = std::filesystem;

void WriteText(const std::string& path, const std::string& text) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path) << text;
}

bool IsGzipFile(const std::string& path) {
  std::string head = ReadText(path).substr(0, 2);
  return head == "\x1f\x8b";
}

class ArtifactsTest : public ::testing::Test {
 protected:
  std::string Path(const std::string& rest) const { return dir_.path() + "/" + rest; }
  TempDir dir_;
};

TEST_F(ArtifactsTest, AFileTravelsAsTarGzipAndComesBackAtTheInputPath) {
  WriteText(Path("task/hello.txt"), "hello world\n");
  ASSERT_TRUE(PackArtifact(Path("task/hello.txt"), Path("store/wf/n1/hello"), true).ok());
  EXPECT_TRUE(IsGzipFile(Path("store/wf/n1/hello")));
  ASSERT_TRUE(UnpackArtifact(Path("store/wf/n1/hello"), Path("other/message")).ok());
  EXPECT_EQ(ReadText(Path("other/message")), "hello world\n");
}

TEST_F(ArtifactsTest, ADirectoryTreeComesBackWithEveryFileAndLink) {
  WriteText(Path("task/out/a.txt"), "a");
  WriteText(Path("task/out/sub/b.txt"), "b");
  fs::create_symlink("a.txt", Path("task/out/link"));
  ASSERT_TRUE(PackArtifact(Path("task/out/"), Path("store/out"), true).ok());
  ASSERT_TRUE(UnpackArtifact(Path("store/out"), Path("in/dir")).ok());
  EXPECT_EQ(ReadText(Path("in/dir/a.txt")), "a");
  EXPECT_EQ(ReadText(Path("in/dir/sub/b.txt")), "b");
  EXPECT_TRUE(fs::is_symlink(Path("in/dir/link")));
  EXPECT_EQ(ReadText(Path("in/dir/link")), "a");
}

TEST_F(ArtifactsTest, ArchiveNoneStoresTheFileOrDirectoryAsItIs) {
  WriteText(Path("task/report.json"), "{\"ok\":true}");
  WriteText(Path("task/dir/x"), "x");
  ASSERT_TRUE(PackArtifact(Path("task/report.json"), Path("store/r"), false).ok());
  EXPECT_EQ(ReadText(Path("store/r")), "{\"ok\":true}");
  ASSERT_TRUE(PackArtifact(Path("task/dir"), Path("store/d"), false).ok());
  EXPECT_EQ(ReadText(Path("store/d/x")), "x");
  ASSERT_TRUE(UnpackArtifact(Path("store/d"), Path("in/d")).ok());
  EXPECT_EQ(ReadText(Path("in/d/x")), "x");
}

TEST_F(ArtifactsTest, AMissingPathIsNotFound) {
  auto s = PackArtifact(Path("task/nothing"), Path("store/n"), true);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kNotFound);
  EXPECT_FALSE(fs::exists(Path("store/n")));
}

TEST_F(ArtifactsTest, AnExtractedDirectoryJoinsAnExistingOne) {
  WriteText(Path("task/etc/new.conf"), "n");
  WriteText(Path("in/etc/old.conf"), "o");
  ASSERT_TRUE(PackArtifact(Path("task/etc"), Path("store/etc"), true).ok());
  ASSERT_TRUE(UnpackArtifact(Path("store/etc"), Path("in/etc")).ok());
  EXPECT_EQ(ReadText(Path("in/etc/new.conf")), "n");
  EXPECT_EQ(ReadText(Path("in/etc/old.conf")), "o");
}

TEST_F(ArtifactsTest, AnArchiveWithAPathOutsideIsRefused) {
  // A hand-made tar.gz holding "../escaped" (python3's tarfile writes what it is told).
  std::string script = Path("make.py");
  WriteText(script,
            "import io, tarfile, sys\n"
            "with tarfile.open(sys.argv[1], 'w:gz') as t:\n"
            "    info = tarfile.TarInfo('../escaped'); data = b'x'; info.size = len(data)\n"
            "    t.addfile(info, io.BytesIO(data))\n");
  ASSERT_EQ(system(("python3 " + script + " " + Path("evil.tgz")).c_str()), 0);
  auto s = UnpackArtifact(Path("evil.tgz"), Path("in/target"));
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("not a plain relative path"), std::string::npos);
  EXPECT_FALSE(fs::exists(Path("in/escaped")));
  EXPECT_FALSE(fs::exists(Path("escaped")));
}

TEST_F(ArtifactsTest, ATaskReadsItsInputsAndItsOutputsAreStored) {
  ProcessRunner runner(RunnerOptions{Path("work")});
  WriteText(Path("seed"), "seed data\n");
  ASSERT_TRUE(PackArtifact(Path("seed"), Path("store/seed"), true).ok());
  ExecSpec spec;
  spec.attempt_id = "a1";
  spec.argv = {"sh", "-c",
               "cat /tmp/in/seed.txt /tmp/raw; mkdir -p /tmp/out && cp /tmp/raw /tmp/out/copy"};
  spec.input_artifacts = {{"/tmp/in/seed.txt", Path("store/seed"), std::nullopt},
                          {"/tmp/raw", "", std::string("raw data\n")}};
  spec.output_artifacts = {{"/tmp/out", Path("store/out"), true},
                           {"/tmp/never", Path("store/never"), true}};
  ExecResult r = runner.Run(spec);
  ASSERT_TRUE(r.started) << r.message;
  EXPECT_EQ(r.exit_code, 0) << r.message;
  EXPECT_EQ(r.stdout_text, "seed data\nraw data");
  ASSERT_EQ(r.artifact_errors.size(), 2u);
  EXPECT_EQ(r.artifact_errors[0], "");
  EXPECT_NE(r.artifact_errors[1].find("no such file"), std::string::npos);
  ASSERT_TRUE(UnpackArtifact(Path("store/out"), Path("check/out")).ok());
  EXPECT_EQ(ReadText(Path("check/out/copy")), "raw data\n");
}

// Argo's containers start in their image's root: a file written there as "result.txt" is the
// output "/result.txt" (a top-level path the host does not have).
TEST_F(ArtifactsTest, AnOutputAtTheRootIsTheFileTheTaskWroteWhereItStarted) {
  ProcessRunner runner(RunnerOptions{Path("work")});
  ExecSpec spec;
  spec.attempt_id = "a3";
  spec.argv = {"sh", "-c", "echo welcome > hubspoke-test-result.txt"};
  spec.output_artifacts = {{"/hubspoke-test-result.txt", Path("store/result"), false}};
  ExecResult r = runner.Run(spec);
  ASSERT_EQ(r.exit_code, 0) << r.message;
  ASSERT_EQ(r.artifact_errors.size(), 1u);
  EXPECT_EQ(r.artifact_errors[0], "");
  EXPECT_EQ(ReadText(Path("store/result")), "welcome\n");
  EXPECT_FALSE(fs::is_regular_file("/hubspoke-test-result.txt"));  // not the host's root
  std::error_code ec;
  fs::remove("/hubspoke-test-result.txt", ec);  // the empty mount point left, if any
}

// An input at a top-level path of its own ("/file", as Argo's examples use) is the task's own file
// there, whether the stored artifact is a file or a directory.
TEST_F(ArtifactsTest, AnInputAtATopLevelPathIsTheTasksOwnFileOrDirectory) {
  if (!ProcessRunner::PrivateTmpSupported()) GTEST_SKIP() << "no private mounts here";
  ProcessRunner runner(RunnerOptions{Path("work")});
  WriteText(Path("tree/dir/inner.txt"), "inner\n");
  ASSERT_TRUE(PackArtifact(Path("tree/dir"), Path("store/dir"), true).ok());
  const std::string file = "/hubspoke-test-input-file", dir = "/hubspoke-test-input-dir";
  ExecSpec spec;
  spec.attempt_id = "a4";
  spec.argv = {"sh", "-c", "cat " + file + " " + dir + "/inner.txt"};
  spec.input_artifacts = {{file, "", std::string("raw\n")}, {dir, Path("store/dir"), std::nullopt}};
  ExecResult r = runner.Run(spec);
  EXPECT_TRUE(r.started) << r.message;
  EXPECT_EQ(r.exit_code, 0) << r.message;
  EXPECT_EQ(r.stdout_text, "raw\ninner");
  // The host keeps at most the empty mount points.
  std::error_code ec;
  EXPECT_EQ(fs::file_size(file, ec), 0u);
  EXPECT_TRUE(fs::is_empty(dir, ec));
  fs::remove(file, ec);
  fs::remove(dir, ec);
}

TEST_F(ArtifactsTest, AListingHasEveryObjectAtOrBelowThePrefix) {
  WriteText(Path("repo/logs/a/main.log"), "a");
  WriteText(Path("repo/logs/b/main.log"), "b");
  WriteText(Path("repo/other.txt"), "o");
  auto all = ListArtifactKeys(Path("repo"), "");
  ASSERT_TRUE(all.ok()) << all.error().message;
  EXPECT_EQ(*all, (std::vector<std::string>{"logs/a/main.log", "logs/b/main.log", "other.txt"}));
  auto logs = ListArtifactKeys(Path("repo"), "logs/b");
  ASSERT_TRUE(logs.ok());
  EXPECT_EQ(*logs, (std::vector<std::string>{"logs/b/main.log"}));
  EXPECT_EQ(*ListArtifactKeys(Path("repo"), "other.txt"), (std::vector<std::string>{"other.txt"}));
  EXPECT_TRUE(ListArtifactKeys(Path("repo"), "nothing/here")->empty());
  EXPECT_FALSE(ListArtifactKeys(Path("repo"), "../repo").ok());
}

TEST_F(ArtifactsTest, AnInputThatCannotBePlacedKeepsTheTaskFromStarting) {
  ProcessRunner runner(RunnerOptions{Path("work")});
  ExecSpec spec;
  spec.attempt_id = "a2";
  spec.argv = {"true"};
  spec.input_artifacts = {{"/tmp/in", Path("store/missing"), std::nullopt}};
  ExecResult r = runner.Run(spec);
  EXPECT_FALSE(r.started);
  EXPECT_NE(r.message.find("input artifact at /tmp/in"), std::string::npos) << r.message;
  EXPECT_NE(r.message.find("missing"), std::string::npos) << r.message;
}

}  // namespace
}  // namespace hubspoke::exec
