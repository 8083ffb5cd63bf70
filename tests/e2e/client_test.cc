// The client commands against a real hub: a `hubspoke hub` process on a free port, then the
// hubspoke command as a user types it (submit, wait, get, list, logs, template, delete), finding
// the hub through DIR/address and DIR/token or through --server and --token.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <thread>

#include "cli_harness.h"

namespace hubspoke::e2e {
namespace {

using Json = nlohmann::json;
using std::chrono::steady_clock;

constexpr const char* kCommandTimeout = "60";  // seconds, for each CLI invocation

const char* const kHello = R"(apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: hello-}
spec:
  entrypoint: main
  arguments:
    parameters: [{name: who, value: world}]
  templates:
  - name: main
    steps:
    - - name: greet
        template: say
        arguments: {parameters: [{name: msg, value: "hello {{workflow.parameters.who}}"}]}
  - name: say
    inputs: {parameters: [{name: msg}]}
    container:
      image: alpine:3
      command: [echo, "{{inputs.parameters.msg}}"]
)";

const char* const kFail = R"(apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: fail-}
spec:
  entrypoint: boom
  templates:
  - name: boom
    container:
      image: alpine:3
      command: [sh, -c, "echo about to fail; exit 3"]
)";

const char* const kTemplate = R"(apiVersion: argoproj.io/v1alpha1
kind: WorkflowTemplate
metadata: {name: greeter}
spec:
  entrypoint: say
  arguments:
    parameters: [{name: who, value: nobody}]
  templates:
  - name: say
    container:
      image: alpine:3
      command: [echo, "hi {{workflow.parameters.who}}"]
)";

// Prints three lines a little apart, then waits for approval at a suspend node.
const char* const kSlowThenSuspend = R"(apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: gated-}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - name: work
        template: tick
    - - name: gate
        template: approve
  - name: tick
    script:
      image: alpine:3
      command: [sh]
      source: |
        for i in 1 2 3; do echo "tick $i"; sleep 0.3; done
  - name: approve
    suspend: {}
)";

const Json* NodeByDisplayName(const Json& wf, const std::string& display) {
  for (const auto& [id, node] : wf["status"]["nodes"].items()) {
    if (node.value("displayName", "") == display) return &node;
  }
  return nullptr;
}

size_t CountLines(const std::string& text) { return std::count(text.begin(), text.end(), '\n'); }

// A `hubspoke hub --listen 127.0.0.1:0 --data DIR --spokes 2` process, stopped by the destructor.
class HubProcess {
 public:
  HubProcess(const std::string& data_dir, const std::string& log_path) : data_dir_(data_dir) {
    std::filesystem::create_directories(data_dir);
    pid_ = fork();
    if (pid_ == 0) {
      int in = open("/dev/null", O_RDONLY);
      int log = open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      dup2(in, 0);
      dup2(log, 1);
      dup2(log, 2);
      std::string binary = Hubspoke();
      execl(binary.c_str(), binary.c_str(), "hub", "--listen", "127.0.0.1:0", "--spoke-listen",
            "127.0.0.1:0", "--data", data_dir.c_str(), "--spokes", "2",
            static_cast<char*>(nullptr));
      _exit(127);
    }
    auto deadline = steady_clock::now() + std::chrono::seconds(20);
    while (steady_clock::now() < deadline) {
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
    auto deadline = steady_clock::now() + std::chrono::seconds(10);
    int status;
    while (steady_clock::now() < deadline) {
      if (waitpid(pid_, &status, WNOHANG) == pid_) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    kill(pid_, SIGKILL);
    waitpid(pid_, &status, 0);
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

class ClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    unsetenv("HUBSPOKE_SERVER");
    unsetenv("HUBSPOKE_TOKEN");
    data_ = dir_.path() + "/hub";
    hub_ = std::make_unique<HubProcess>(data_, dir_.path() + "/hub.log");
    ASSERT_TRUE(hub_->ready()) << "the hub did not start:\n" << ReadFile(dir_.path() + "/hub.log");
  }
  void TearDown() override { hub_.reset(); }

  // Runs `hubspoke ARGS... --data DIR`: the hub is found through DIR/address and DIR/token.
  CommandResult Cli(std::vector<std::string> args) {
    args.insert(args.begin(), {"timeout", kCommandTimeout, Hubspoke()});
    args.insert(args.end(), {"--data", data_});
    return RunCommand(args, dir_.path());
  }

  // Submits `file` and waits; returns the workflow's name ("" on failure).
  std::string SubmitAndWait(const std::string& file, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"submit", file, "--wait", "-o", "name"};
    args.insert(args.end(), extra.begin(), extra.end());
    CommandResult r = Cli(args);
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    std::string name = r.out.substr(0, r.out.find('\n'));
    return name;
  }

  // Polls `get -o json` until the node shown as `display` is in `phase`; false after 20 s.
  bool WaitForNode(const std::string& name, const std::string& display, const std::string& phase) {
    auto deadline = steady_clock::now() + std::chrono::seconds(20);
    while (steady_clock::now() < deadline) {
      CommandResult r = Cli({"get", name, "-o", "json"});
      if (r.exit_code != 0) return false;
      const Json wf = Json::parse(r.out);
      const Json* node = NodeByDisplayName(wf, display);
      if (node && (*node)["phase"] == phase) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
  }

  TempDir dir_;
  std::string data_;
  std::unique_ptr<HubProcess> hub_;
};

TEST_F(ClientTest, SubmitWaitSucceedsAndGetShowsTheNodes) {
  std::string file = dir_.Write("hello.yaml", kHello);
  std::string name = SubmitAndWait(file, {"-p", "who=hub"});
  ASSERT_EQ(name.rfind("hello-", 0), 0u) << name;

  CommandResult js = Cli({"get", name, "-o", "json"});
  ASSERT_EQ(js.exit_code, 0) << js.err;
  Json wf = Json::parse(js.out);  // nothing else on stdout
  EXPECT_EQ(wf["kind"], "Workflow");
  EXPECT_EQ(wf["metadata"]["name"], name);
  EXPECT_EQ(wf["status"]["phase"], "Succeeded");
  ASSERT_TRUE(wf["status"]["nodes"].contains(name));
  const Json* greet = NodeByDisplayName(wf, "greet");
  ASSERT_NE(greet, nullptr) << js.out;
  EXPECT_EQ((*greet)["outputs"]["result"], "hello hub");

  CommandResult tree = Cli({"get", name});
  ASSERT_EQ(tree.exit_code, 0) << tree.err;
  EXPECT_NE(tree.out.find(name), std::string::npos) << tree.out;
  EXPECT_NE(tree.out.find("greet"), std::string::npos) << tree.out;
  EXPECT_NE(tree.out.find("Succeeded"), std::string::npos) << tree.out;
}

TEST_F(ClientTest, FailingWorkflowMakesWaitExitOneAndListFiltersByStatus) {
  std::string ok = SubmitAndWait(dir_.Write("hello.yaml", kHello));
  CommandResult submitted = Cli({"submit", dir_.Write("fail.yaml", kFail), "-o", "name"});
  ASSERT_EQ(submitted.exit_code, 0) << submitted.err;
  std::string failed = submitted.out.substr(0, submitted.out.find('\n'));
  ASSERT_EQ(failed.rfind("fail-", 0), 0u) << failed;

  CommandResult wait = Cli({"wait", failed});
  EXPECT_EQ(wait.exit_code, 1) << wait.out << wait.err;
  EXPECT_NE(wait.out.find(failed + " Failed"), std::string::npos) << wait.out;
  EXPECT_EQ(Cli({"wait", ok}).exit_code, 0);

  CommandResult all = Cli({"list"});
  ASSERT_EQ(all.exit_code, 0) << all.err;
  EXPECT_NE(all.out.find("NAME"), std::string::npos) << all.out;
  EXPECT_NE(all.out.find(ok), std::string::npos) << all.out;
  EXPECT_NE(all.out.find(failed), std::string::npos) << all.out;

  CommandResult only_failed = Cli({"list", "--status", "Failed", "-o", "name"});
  ASSERT_EQ(only_failed.exit_code, 0) << only_failed.err;
  EXPECT_EQ(only_failed.out, failed + "\n");

  CommandResult json = Cli({"list", "--completed", "-o", "json"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  EXPECT_EQ(Json::parse(json.out).size(), 2u) << json.out;
}

TEST_F(ClientTest, LogsArePrefixedByNode) {
  std::string name = SubmitAndWait(dir_.Write("hello.yaml", kHello));
  CommandResult logs = Cli({"logs", name});
  ASSERT_EQ(logs.exit_code, 0) << logs.err;
  EXPECT_EQ(logs.out, "greet: hello world\n");

  CommandResult one = Cli({"logs", name, "greet", "--grep", "hello"});
  ASSERT_EQ(one.exit_code, 0) << one.err;
  EXPECT_EQ(one.out, "greet: hello world\n");
}

TEST_F(ClientTest, TemplateCreateThenSubmitFromItWithParameters) {
  std::string file = dir_.Write("greeter.yaml", kTemplate);
  CommandResult refused = Cli({"submit", file});
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_NE(refused.err.find("hubspoke template create"), std::string::npos) << refused.err;

  CommandResult created = Cli({"template", "create", file});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  CommandResult listed = Cli({"template", "list", "-o", "name"});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_EQ(listed.out, "greeter\n");

  CommandResult run = Cli(
      {"submit", "--from", "workflowtemplate/greeter", "-p", "who=client", "--wait", "-o", "json"});
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  Json wf = Json::parse(run.out);
  EXPECT_EQ(wf["status"]["phase"], "Succeeded");
  const Json* say = NodeByDisplayName(wf, wf["metadata"]["name"].get<std::string>());
  ASSERT_NE(say, nullptr) << run.out;
  EXPECT_EQ((*say)["outputs"]["result"], "hi client");

  EXPECT_EQ(Cli({"template", "delete", "greeter"}).exit_code, 0);
  CommandResult gone = Cli({"template", "get", "greeter"});
  EXPECT_EQ(gone.exit_code, 1);
  EXPECT_EQ(CountLines(gone.err), 1u) << gone.err;
}

TEST_F(ClientTest, FollowingCommandsEndWhenTheWorkflowDoes) {
  std::string file = dir_.Write("gated.yaml", kSlowThenSuspend);
  CommandResult submitted = Cli({"submit", file, "-o", "name"});
  ASSERT_EQ(submitted.exit_code, 0) << submitted.err;
  std::string name = submitted.out.substr(0, submitted.out.find('\n'));
  ASSERT_TRUE(WaitForNode(name, "gate", "Running"));
  CommandResult resumed = Cli({"resume", name});
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;

  CommandResult logs = Cli({"logs", name, "-f"});
  ASSERT_EQ(logs.exit_code, 0) << logs.err;
  EXPECT_EQ(logs.out, "work: tick 1\nwork: tick 2\nwork: tick 3\n");

  CommandResult watched = Cli({"watch", name});
  EXPECT_EQ(watched.exit_code, 0) << watched.err;
  EXPECT_NE(watched.out.find("Result: " + name + " Succeeded"), std::string::npos) << watched.out;
  EXPECT_EQ(watched.out.find("\x1b["), std::string::npos) << "control codes without a terminal";

  // Stopped at its suspend node, a workflow fails: wait and watch exit 1.
  CommandResult again = Cli({"resubmit", name});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  std::string second = again.out.substr(again.out.rfind(' ') + 1);
  second.erase(second.find_last_not_of('\n') + 1);
  ASSERT_TRUE(WaitForNode(second, "gate", "Running"));
  CommandResult stopped = Cli({"stop", second});
  ASSERT_EQ(stopped.exit_code, 0) << stopped.err;
  EXPECT_EQ(Cli({"wait", second}).exit_code, 1);
  EXPECT_EQ(Cli({"watch", second}).exit_code, 1);
}

TEST_F(ClientTest, DeleteRemovesTheWorkflow) {
  std::string name = SubmitAndWait(dir_.Write("hello.yaml", kHello));
  CommandResult deleted = Cli({"delete", name});
  ASSERT_EQ(deleted.exit_code, 0) << deleted.err;
  CommandResult get = Cli({"get", name});
  EXPECT_EQ(get.exit_code, 1);
  EXPECT_NE(get.err.find("HTTP 404"), std::string::npos) << get.err;
  EXPECT_EQ(CountLines(get.err), 1u) << get.err;
}

TEST_F(ClientTest, ServerAndTokenFlagsAndAWrongTokenFailsWithOneLine) {
  std::string elsewhere = dir_.path() + "/no-hub-here";
  std::string file = dir_.Write("hello.yaml", kHello);
  auto cli = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"timeout", kCommandTimeout, Hubspoke()});
    args.insert(args.end(), {"--data", elsewhere, "--server", hub_->url()});
    return RunCommand(args, dir_.path());
  };
  CommandResult good = cli({"submit", file, "--wait", "--token", hub_->token()});
  EXPECT_EQ(good.exit_code, 0) << good.out << good.err;
  EXPECT_NE(good.out.find("Succeeded"), std::string::npos) << good.out;

  CommandResult wrong = cli({"list", "--token", "not-the-token"});
  EXPECT_EQ(wrong.exit_code, 1);
  EXPECT_EQ(CountLines(wrong.err), 1u) << wrong.err;
  EXPECT_EQ(wrong.err.rfind("hubspoke: ", 0), 0u) << wrong.err;
  EXPECT_NE(wrong.err.find("HTTP 401 from " + hub_->url()), std::string::npos) << wrong.err;
  EXPECT_NE(wrong.err.find("--token"), std::string::npos) << wrong.err;
}

class NoHubTest : public ::testing::Test {
 protected:
  void SetUp() override {
    unsetenv("HUBSPOKE_SERVER");
    unsetenv("HUBSPOKE_TOKEN");
  }
  CommandResult Cli(std::vector<std::string> args) {
    args.insert(args.begin(), {"timeout", kCommandTimeout, Hubspoke()});
    return RunCommand(args, dir_.path());
  }
  TempDir dir_;
};

TEST_F(NoHubTest, UnreachableServerAndMissingHubSayWhatToDo) {
  std::string file = dir_.Write("hello.yaml", kHello);
  CommandResult refused = Cli({"submit", file, "--server", "http://127.0.0.1:1"});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_EQ(CountLines(refused.err), 1u) << refused.err;
  EXPECT_NE(refused.err.find("no hub answers at http://127.0.0.1:1"), std::string::npos)
      << refused.err;
  EXPECT_NE(refused.err.find("hubspoke hub"), std::string::npos) << refused.err;

  std::string empty = dir_.path() + "/empty";
  CommandResult none = Cli({"wait", "x", "--data", empty});
  EXPECT_EQ(none.exit_code, 1);
  EXPECT_NE(none.err.find("no hub to talk to"), std::string::npos) << none.err;
  EXPECT_NE(none.err.find("hubspoke hub --data " + empty), std::string::npos) << none.err;

  // Without a hub, list reads the state directory of local runs.
  CommandResult local = Cli({"list", "--data", empty});
  EXPECT_EQ(local.exit_code, 1);
  EXPECT_NE(local.err.find("no hubspoke state in " + empty), std::string::npos) << local.err;
}

}  // namespace
}  // namespace hubspoke::e2e
