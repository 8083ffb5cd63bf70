// Runs the hubspoke binary as a user would and captures what it prints, for end-to-end tests.
// Thread-safety: none needed; each test runs commands sequentially.
#pragma once

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace hubspoke::e2e {

struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A fresh directory per test, removed at the end. It lives under the build tree, not /tmp: each
// task sees a private /tmp, so files a test prepares there would be invisible to its tasks.
class TempDir {
 public:
  TempDir() {
    std::filesystem::create_directories(HUBSPOKE_TEST_TMP);
    std::string tmpl = std::string(HUBSPOKE_TEST_TMP) + "/e2e-XXXXXX";
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string Write(const std::string& name, const std::string& text) const {
    std::string p = path_ + "/" + name;
    std::ofstream(p) << text;
    return p;
  }

 private:
  std::string path_;
};

// Runs `args` (args[0] is the program) with stdin from /dev/null.
inline CommandResult RunCommand(const std::vector<std::string>& args, const std::string& scratch) {
  std::string out_path = scratch + "/.stdout", err_path = scratch + "/.stderr";
  pid_t pid = fork();
  if (pid == 0) {
    int in = open("/dev/null", O_RDONLY);
    int out = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int err = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(in, 0);
    dup2(out, 1);
    dup2(err, 2);
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execvp(argv[0], argv.data());
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  CommandResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = ReadFile(out_path);
  r.err = ReadFile(err_path);
  return r;
}

inline std::string Hubspoke() { return HUBSPOKE_BINARY; }
inline std::string SourceDir() { return HUBSPOKE_SOURCE_DIR; }

}  // namespace hubspoke::e2e
