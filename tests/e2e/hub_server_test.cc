// `hubspoke hub` as a user starts it: a real process serving the REST API on a free port, its
// address and token published in the data directory, one hub per directory, SIGTERM ends it.
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <sys/stat.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <thread>

#include "cli_harness.h"

namespace hubspoke::e2e {
namespace {

using Json = nlohmann::json;
using Clock = std::chrono::steady_clock;

// A `hubspoke hub` child process; killed at the end if the test did not stop it.
class HubProcess {
 public:
  HubProcess(const std::string& data, const std::string& err_path) {
    pid_ = fork();
    if (pid_ == 0) {
      int in = open("/dev/null", O_RDONLY);
      int err = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      dup2(in, 0);
      dup2(err, 1);
      dup2(err, 2);
      execl(Hubspoke().c_str(), Hubspoke().c_str(), "hub", "--listen", "127.0.0.1:0",
            "--spoke-listen", "127.0.0.1:0", "--data", data.c_str(), "--spokes", "2",
            static_cast<char*>(nullptr));
      _exit(127);
    }
  }
  ~HubProcess() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  // Sends `sig` and waits up to 20 s; returns the exit code (128+signal if killed), -1 on timeout.
  int Signal(int sig) {
    kill(pid_, sig);
    for (auto deadline = Clock::now() + std::chrono::seconds(20); Clock::now() < deadline;) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return -1;
  }

 private:
  pid_t pid_ = -1;
};

// Waits up to 20 s for a file to exist and be non-empty.
std::string WaitForFile(const std::string& path) {
  for (auto deadline = Clock::now() + std::chrono::seconds(20); Clock::now() < deadline;) {
    std::string text = ReadFile(path);
    if (!text.empty()) return text;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return "";
}

TEST(HubServerTest, ServesTheApiRefusesASecondHubAndExitsCleanlyOnSigterm) {
  TempDir dir;
  std::string data = dir.path() + "/state";
  HubProcess hub(data, dir.path() + "/hub.err");
  std::string address = WaitForFile(data + "/address");
  ASSERT_EQ(address.rfind("http://127.0.0.1:", 0), 0u)
      << address << ReadFile(dir.path() + "/hub.err");
  // The address file may be written a moment before the line is printed.
  auto said = [&] {
    return ReadFile(dir.path() + "/hub.err").find("listening on " + address) != std::string::npos;
  };
  for (auto deadline = Clock::now() + std::chrono::seconds(5);
       !said() && Clock::now() < deadline;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(said()) << ReadFile(dir.path() + "/hub.err");
  std::string token = ReadFile(data + "/token");
  EXPECT_EQ(token.size(), 64u);
  struct stat st;
  ASSERT_EQ(stat((data + "/token").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  httplib::Client client(address);
  client.set_read_timeout(20, 0);
  auto health = client.Get("/healthz");
  ASSERT_TRUE(health) << "no answer from " << address;
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(client.Get("/api/v1/workflows/default")->status, 401);
  client.set_bearer_token_auth(token);

  Json wf = Json::parse(R"({"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow",
    "metadata": {"name": "served"},
    "spec": {"entrypoint": "main", "templates": [
      {"name": "main", "container": {"image": "argoproj/argosay:v2", "args": ["echo", "hi"]}}]}})");
  auto created =
      client.Post("/api/v1/workflows/default", Json{{"workflow", wf}}.dump(), "application/json");
  ASSERT_TRUE(created);
  ASSERT_EQ(created->status, 200) << created->body;
  std::string phase;
  for (auto deadline = Clock::now() + std::chrono::seconds(30);
       Clock::now() < deadline && phase != "Succeeded" && phase != "Failed" && phase != "Error";) {
    auto got = client.Get("/api/v1/workflows/default/served");
    ASSERT_TRUE(got);
    phase = Json::parse(got->body)["status"].value("phase", "");
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(phase, "Succeeded");
  auto listed = client.Get("/api/v1/workflows/default");
  ASSERT_TRUE(listed);
  EXPECT_EQ(Json::parse(listed->body)["items"].size(), 1u) << listed->body;

  CommandResult second =
      RunCommand({Hubspoke(), "hub", "--listen", "127.0.0.1:0", "--data", data}, dir.path());
  EXPECT_EQ(second.exit_code, 1);
  EXPECT_NE(second.err.find("already running"), std::string::npos) << second.err;
  EXPECT_EQ(ReadFile(data + "/address"), address) << "the first hub's address stays";

  EXPECT_EQ(hub.Signal(SIGTERM), 0) << ReadFile(dir.path() + "/hub.err");
  EXPECT_FALSE(std::filesystem::exists(data + "/address"));
}

TEST(HubServerTest, ServesPrometheusMetricsBehindTheToken) {
  TempDir dir;
  std::string data = dir.path() + "/state";
  HubProcess hub(data, dir.path() + "/hub.err");
  std::string address = WaitForFile(data + "/address");
  ASSERT_FALSE(address.empty()) << ReadFile(dir.path() + "/hub.err");
  httplib::Client client(address);
  client.set_read_timeout(20, 0);
  auto anonymous = client.Get("/metrics");
  ASSERT_TRUE(anonymous) << "no answer from " << address;
  EXPECT_EQ(anonymous->status, 401);

  client.set_bearer_token_auth(ReadFile(data + "/token"));
  Json wf = Json::parse(R"({"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow",
    "metadata": {"name": "counted"},
    "spec": {"entrypoint": "main", "templates": [
      {"name": "main", "container": {"image": "alpine", "command": ["true"]}}]}})");
  auto created =
      client.Post("/api/v1/workflows/default", Json{{"workflow", wf}}.dump(), "application/json");
  ASSERT_TRUE(created);
  ASSERT_EQ(created->status, 200) << created->body;

  // Every line is a comment or `name{labels} value`; the finished workflow shows up.
  const std::regex sample(R"(([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+))");
  std::string text;
  for (auto deadline = Clock::now() + std::chrono::seconds(30); Clock::now() < deadline;) {
    auto metrics = client.Get("/metrics");
    ASSERT_TRUE(metrics);
    ASSERT_EQ(metrics->status, 200);
    EXPECT_EQ(metrics->get_header_value("Content-Type").rfind("text/plain; version=0.0.4", 0), 0u)
        << metrics->get_header_value("Content-Type");
    text = metrics->body;
    if (text.find("argo_workflows_gauge{phase=\"Succeeded\"} 1\n") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_NE(text.find("argo_workflows_gauge{phase=\"Succeeded\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("hubspoke_dispatch_latency_seconds_count 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("# TYPE hubspoke_task_duration_seconds histogram"), std::string::npos);
  std::istringstream lines(text);
  int samples = 0;
  for (std::string line; std::getline(lines, line);) {
    if (line.empty() || line[0] == '#') continue;
    std::smatch m;
    ASSERT_TRUE(std::regex_match(line, m, sample)) << line;
    std::size_t used = 0;
    std::string value = m[3];
    if (value != "+Inf" && value != "-Inf" && value != "NaN") {
      (void)std::stod(value, &used);
      EXPECT_EQ(used, value.size()) << line;
    }
    ++samples;
  }
  EXPECT_GT(samples, 20);
}

}  // namespace
}  // namespace hubspoke::e2e
