// A real `hubspoke hub` process for end-to-end tests: started on a free port of 127.0.0.1 with a
// state directory, found through DIR/address and DIR/token, stopped by SIGTERM (or killed).
// Thread-safety: none; one test owns it.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>

#include "cli_harness.h"

namespace hubspoke::e2e {

// `hubspoke hub --listen 127.0.0.1:0 --data DIR --spokes N`, stopped by the destructor.
class HubProcess {
 public:
  HubProcess(const std::string& data_dir, const std::string& log_path, int spokes = 2)
      : data_dir_(data_dir) {
    std::filesystem::create_directories(data_dir);
    // A hub that was killed leaves its address behind; wait for the new one's.
    std::filesystem::remove(data_dir + "/address");
    pid_ = fork();
    if (pid_ == 0) {
      int in = open("/dev/null", O_RDONLY);
      int log = open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      dup2(in, 0);
      dup2(log, 1);
      dup2(log, 2);
      std::string binary = Hubspoke();
      execl(binary.c_str(), binary.c_str(), "hub", "--listen", "127.0.0.1:0", "--spoke-listen",
            "127.0.0.1:0", "--data", data_dir.c_str(), "--spokes", std::to_string(spokes).c_str(),
            static_cast<char*>(nullptr));
      _exit(127);
    }
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < deadline) {
      if (!ReadFile(data_dir + "/address").empty() && !ReadFile(data_dir + "/token").empty()) {
        url_ = ReadFile(data_dir + "/address");
        url_.erase(url_.find_last_not_of(" \n") + 1);
        return;
      }
      int status;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }

  ~HubProcess() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    int status;
    while (std::chrono::steady_clock::now() < deadline) {
      if (waitpid(pid_, &status, WNOHANG) == pid_) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    kill(pid_, SIGKILL);
    waitpid(pid_, &status, 0);
  }

  // As a crash or the OOM killer would: no clean-up at all.
  void Kill9() {
    if (pid_ <= 0) return;
    kill(pid_, SIGKILL);
    int status;
    waitpid(pid_, &status, 0);
    pid_ = -1;
  }

  bool ready() const { return !url_.empty(); }
  const std::string& url() const { return url_; }
  std::string token() const {
    std::string t = ReadFile(data_dir_ + "/token");
    t.erase(t.find_last_not_of(" \n") + 1);
    return t;
  }

 private:
  std::string data_dir_;
  pid_t pid_ = -1;
  std::string url_;
};

}  // namespace hubspoke::e2e
