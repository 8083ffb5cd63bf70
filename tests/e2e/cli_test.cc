// The hubspoke command as a user types it: real processes, real SQLite files, real manifests.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>

#include "cli_harness.h"

namespace hubspoke::e2e {
namespace {

using Json = nlohmann::json;

const Json* NodeByDisplayName(const Json& wf, const std::string& display) {
  for (const auto& [id, node] : wf["status"]["nodes"].items()) {
    if (node.value("displayName", "") == display) return &node;
  }
  return nullptr;
}

// The largest number of nodes whose [startedAt, finishedAt) intervals overlap.
int MaxOverlap(const std::vector<std::pair<int64_t, int64_t>>& intervals) {
  std::vector<std::pair<int64_t, int>> events;
  for (auto [a, b] : intervals) {
    events.push_back({a, +1});
    events.push_back({b, -1});
  }
  std::sort(events.begin(), events.end());
  int now = 0, best = 0;
  for (auto [t, d] : events) best = std::max(best, now += d);
  return best;
}

class CliTest : public ::testing::Test {
 protected:
  CommandResult Hub(std::vector<std::string> args) {
    args.insert(args.begin(), Hubspoke());
    return RunCommand(args, dir_.path());
  }
  std::string Example(const std::string& name) {
    return SourceDir() + "/examples/hub-and-spoke/" + name;
  }
  TempDir dir_;
};

TEST_F(CliTest, HubAndSpokeExampleFansOutInParallelAndIsolatesTheFailingRepository) {
  std::string repos = dir_.path() + "/repos";
  CommandResult made = RunCommand({Example("make-repos.sh"), repos, "8"}, dir_.path());
  ASSERT_EQ(made.exit_code, 0) << made.err;

  CommandResult r = Hub({"run", Example("hub-orchestrator.yaml"), Example("spoke-worker.yaml"),
                         "--from", "workflowtemplate/hub-orchestrator", "-p", "root=" + repos, "-p",
                         "work-seconds=0.5", "--spokes", "4", "--data", dir_.path() + "/state"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("Fan-out process-repo: 8 total, 7 succeeded, 1 failed"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("repo-07"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("failed repositories: repo-07"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Succeeded"), std::string::npos);
  EXPECT_TRUE(std::filesystem::exists(dir_.path() + "/state/hubspoke.db"));
  EXPECT_EQ(r.err.find("\x1b["), std::string::npos) << "control codes without a terminal";

  CommandResult js =
      Hub({"run", Example("hub-orchestrator.yaml"), Example("spoke-worker.yaml"), "--from",
           "workflowtemplate/hub-orchestrator", "-p", "root=" + repos, "-p", "work-seconds=0.5",
           "--spokes", "4", "-o", "json", "--data", dir_.path() + "/state"});
  ASSERT_EQ(js.exit_code, 0) << js.err;
  Json wf = Json::parse(js.out);
  EXPECT_EQ(wf["status"]["phase"], "Succeeded");
  std::vector<std::pair<int64_t, int64_t>> spokes;
  int failed = 0;
  for (const auto& [id, node] : wf["status"]["nodes"].items()) {
    if (node["templateName"] != "spawn-spoke") continue;
    ASSERT_TRUE(node.contains("hubspoke")) << node.dump();
    spokes.push_back({node["hubspoke"]["startedAt"], node["hubspoke"]["finishedAt"]});
    EXPECT_EQ(node["hubspoke"]["childWorkflow"].get<std::string>().rfind("spoke-repo-", 0), 0u);
    if (node["phase"] == "Failed") {
      ++failed;
      EXPECT_NE(node["displayName"].get<std::string>().find("repo-07"), std::string::npos);
    }
  }
  EXPECT_EQ(spokes.size(), 8u);
  EXPECT_EQ(failed, 1);
  EXPECT_GE(MaxOverlap(spokes), 3) << "child workflows should run side by side on 4 spokes";
}

TEST_F(CliTest, LintNamesTheTemplatesTheSeedManifestNeverDefines) {
  CommandResult r = Hub({"lint", SourceDir() + "/tests/data/spec/seed-hub-and-spoke.yaml"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("seed-hub-and-spoke.yaml:14:9: error"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"get-repositories\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"collect-results\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("successCondition"), std::string::npos) << "warns the parent won't wait";
}

TEST_F(CliTest, LintAcceptsTheHubAndSpokeExample) {
  CommandResult r = Hub({"lint", Example("hub-orchestrator.yaml"), Example("spoke-worker.yaml")});
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(r.out, "");
}

TEST_F(CliTest, RunWithOnlyTemplatesListsThemAndSuggestsFrom) {
  CommandResult r = Hub({"run", Example("hub-orchestrator.yaml"), Example("spoke-worker.yaml"),
                         "--data", dir_.path()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("hub-orchestrator, spoke-worker"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--from workflowtemplate/hub-orchestrator"), std::string::npos) << r.err;
}

TEST_F(CliTest, JsonOutputIsTheArgoShapedWorkflowAndNothingElse) {
  std::string file = dir_.Write("hello.yaml", R"(apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  name: hello
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
)");
  CommandResult r = Hub({"run", file, "-o", "json", "--data", dir_.path() + "/state"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  Json wf = Json::parse(r.out);  // throws (fails the test) if anything else is on stdout
  EXPECT_EQ(wf["kind"], "Workflow");
  EXPECT_EQ(wf["metadata"]["name"], "hello");
  EXPECT_EQ(wf["status"]["phase"], "Succeeded");
  ASSERT_TRUE(wf["status"]["nodes"].contains("hello"));
  const Json* greet = NodeByDisplayName(wf, "greet");
  ASSERT_NE(greet, nullptr);
  EXPECT_EQ((*greet)["type"], "Pod");
  EXPECT_EQ((*greet)["templateName"], "say");
  EXPECT_EQ((*greet)["name"], "hello[0].greet");
  EXPECT_EQ((*greet)["outputs"]["result"], "hello world");
  EXPECT_EQ((*greet)["outputs"]["exitCode"], "0");
  EXPECT_EQ((*greet)["inputs"]["parameters"][0]["value"], "hello world");
  EXPECT_EQ((*greet)["hostNodeName"].get<std::string>().rfind("local-", 0), 0u);
  EXPECT_FALSE((*greet)["startedAt"].get<std::string>().empty());
  EXPECT_EQ(wf["status"]["nodes"][(*greet)["id"].get<std::string>()]["id"], (*greet)["id"]);

  CommandResult y = Hub({"run", file, "-o", "yaml", "--data", dir_.path() + "/state2"});
  EXPECT_EQ(y.exit_code, 0) << y.err;
  EXPECT_NE(y.out.find("phase: Succeeded"), std::string::npos) << y.out;
}

TEST_F(CliTest, FailedWorkflowExitsOneAndManifestErrorsExitTwoWithPosition) {
  std::string failing = dir_.Write("fail.yaml", R"(apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: fail-}
spec:
  entrypoint: main
  templates:
  - name: main
    container: {image: alpine, command: [sh, -c, "exit 3"]}
)");
  CommandResult r = Hub({"run", failing, "--data", dir_.path() + "/state"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("exit code 3"), std::string::npos) << r.out;

  std::string broken = dir_.Write("broken.yaml", R"(apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: broken-}
spec:
  entrypoint: main
  entrypoint: other
  templates: []
)");
  CommandResult b = Hub({"run", broken, "--data", dir_.path() + "/state"});
  EXPECT_EQ(b.exit_code, 2);
  EXPECT_NE(b.err.find("broken.yaml:6:3"), std::string::npos) << b.err;
}

TEST_F(CliTest, EachAttemptHasItsOwnTmp) {
  std::string file = dir_.Write("tmp.yaml", R"(apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: tmp-}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - name: write
        template: write
        arguments: {parameters: [{name: v, value: "{{item}}"}]}
        withItems: [a, b, c, d]
  - name: write
    inputs: {parameters: [{name: v}]}
    script:
      image: alpine
      command: [sh]
      source: |
        echo {{inputs.parameters.v}} > /tmp/out.txt
        sleep 0.3
        cat /tmp/out.txt
)");
  CommandResult r = Hub({"run", file, "-o", "json", "--spokes", "4", "--data", dir_.path() + "/s"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  Json wf = Json::parse(r.out);
  int checked = 0;
  for (const std::string item : {"a", "b", "c", "d"}) {
    const Json* node =
        NodeByDisplayName(wf, "write(" + std::to_string(item[0] - 'a') + ":" + item + ")");
    ASSERT_NE(node, nullptr) << item;
    EXPECT_EQ((*node)["outputs"]["result"], item);
    ++checked;
  }
  EXPECT_EQ(checked, 4);
}

TEST_F(CliTest, ScriptsRunWithADataDirectoryGivenRelatively) {
  std::string file = dir_.Write("script.yaml", R"(apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: script-}
spec:
  entrypoint: main
  templates:
  - name: main
    script:
      image: alpine
      command: [sh]
      source: echo hello from a script
)");
  // The task runs in its own working directory: the script's path must not be relative.
  std::string data = std::filesystem::relative(dir_.path() + "/s").string();
  ASSERT_NE(data.front(), '/');
  CommandResult r = Hub({"run", file, "-o", "json", "--data", data});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  Json wf = Json::parse(r.out);
  const Json* node = NodeByDisplayName(wf, wf["metadata"]["name"]);
  ASSERT_NE(node, nullptr);
  EXPECT_EQ((*node)["outputs"]["result"], "hello from a script");
}

TEST_F(CliTest, MissingCommandNamesTheImageAndHowToMapIt) {
  std::string file = dir_.Write("missing.yaml", R"(apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: missing}
spec:
  entrypoint: main
  templates:
  - name: main
    container: {image: "acme/scanner:2", command: [acme-scan-no-such-tool, --all]}
)");
  CommandResult r = Hub({"run", file, "-o", "json", "--data", dir_.path() + "/s"});
  EXPECT_EQ(r.exit_code, 1);
  Json wf = Json::parse(r.out);
  std::string message = wf["status"]["nodes"]["missing"]["message"];
  EXPECT_EQ(wf["status"]["phase"], "Error");
  EXPECT_NE(message.find("acme/scanner:2"), std::string::npos) << message;
  EXPECT_NE(message.find("acme-scan-no-such-tool"), std::string::npos) << message;
  EXPECT_NE(message.find("--image-map"), std::string::npos) << message;
}

TEST_F(CliTest, ImageMapRunsContainersThatGiveNoCommand) {
  std::string file = dir_.Write("mapped.yaml", R"(apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: mapped}
spec:
  entrypoint: main
  templates:
  - name: main
    container: {image: "example/greeter:1", args: [hi, there]}
)");
  CommandResult r = Hub({"run", file, "-o", "json", "--image-map", "example/greeter=echo", "--data",
                         dir_.path() + "/s"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Json::parse(r.out)["status"]["nodes"]["mapped"]["outputs"]["result"], "hi there");
}

TEST_F(CliTest, ArgosayImageRunsWithTheBundledProgram) {
  std::string file = dir_.Write("argosay.yaml", R"(apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: say}
spec:
  entrypoint: main
  templates:
  - name: main
    container: {image: "argoproj/argosay:v2", args: [echo, "hello hub"]}
)");
  CommandResult r = Hub({"run", file, "-o", "json", "--data", dir_.path() + "/s"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Json::parse(r.out)["status"]["nodes"]["say"]["outputs"]["result"], "hello hub");
}

TEST_F(CliTest, ArgosayImageWithAnExplicitArgosayCommandRunsTheBundledProgram) {
  std::string file = dir_.Write("argosay-cmd.yaml", R"(apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: say}
spec:
  entrypoint: main
  templates:
  - name: main
    container: {image: "argoproj/argosay:v2", command: [/argosay], args: [echo, "hello hub"]}
)");
  CommandResult r = Hub({"run", file, "-o", "json", "--data", dir_.path() + "/s"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Json::parse(r.out)["status"]["nodes"]["say"]["outputs"]["result"], "hello hub");
}

TEST_F(CliTest, RunStopsAtAnIndefiniteSuspendAndSaysResumingNeedsAHub) {
  std::string file = dir_.Write("suspend.yaml", R"(apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: wait}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: build, template: hello}
    - - {name: approve, template: approve}
    - - {name: deploy, template: hello}
  - name: approve
    suspend: {}
  - name: hello
    container: {image: alpine, command: [echo, hi]}
)");
  CommandResult r = Hub({"run", file, "-o", "json", "-q", "--data", dir_.path() + "/s"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  Json wf = Json::parse(r.out);
  EXPECT_EQ(wf["status"]["phase"], "Running");
  const Json* approve = NodeByDisplayName(wf, "approve");
  ASSERT_NE(approve, nullptr);
  EXPECT_EQ((*approve)["phase"], "Running");
  EXPECT_EQ((*approve)["type"], "Suspend");
  EXPECT_EQ(NodeByDisplayName(wf, "deploy"), nullptr);
  EXPECT_NE(r.err.find("workflow wait is suspended at node approve"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("submit it to a hub"), std::string::npos) << r.err;
}

TEST_F(CliTest, NodeSelectorOnTheHostsWellKnownLabelsRuns) {
  std::string file = dir_.Write("selector.yaml", R"(apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: sel}
spec:
  entrypoint: main
  templates:
  - name: main
    nodeSelector: {kubernetes.io/os: linux}
    container: {image: alpine, command: [echo, ok]}
)");
  CommandResult r = Hub({"run", file, "-o", "json", "--data", dir_.path() + "/s"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Json::parse(r.out)["status"]["phase"], "Succeeded");
}

TEST_F(CliTest, NodeSelectorNoSpokeSatisfiesEndsInErrorNamingTheLabels) {
  std::string file = dir_.Write("unschedulable.yaml", R"(apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: nowhere}
spec:
  entrypoint: main
  templates:
  - name: main
    nodeSelector: {beta.kubernetes.io/arch: no-such-arch}
    container: {image: alpine, command: [echo, ok]}
)");
  CommandResult r = Hub({"run", file, "-o", "json", "--spokes", "2", "--data", dir_.path() + "/s"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  Json wf = Json::parse(r.out);
  const Json& node = wf["status"]["nodes"]["nowhere"];
  EXPECT_EQ(node["phase"], "Error");
  std::string message = node["message"];
  EXPECT_NE(message.find("beta.kubernetes.io/arch=no-such-arch"), std::string::npos) << message;
  EXPECT_NE(message.find("kubernetes.io/os=linux"), std::string::npos) << message;
  EXPECT_NE(message.find("local has {"), std::string::npos) << message;  // the local pool
}

TEST_F(CliTest, WorkflowActiveDeadlineSecondsEndsTheRunFailed) {
  std::string file = dir_.Write("deadline.yaml", R"(apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: late}
spec:
  activeDeadlineSeconds: 1
  entrypoint: main
  templates:
  - name: main
    container: {image: alpine, command: [sleep, "30"]}
)");
  auto start = std::chrono::steady_clock::now();
  CommandResult r = Hub({"run", file, "-o", "json", "--data", dir_.path() + "/s"});
  auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_LT(seconds, 10);
  Json wf = Json::parse(r.out);
  EXPECT_EQ(wf["status"]["phase"], "Failed");
  EXPECT_EQ(wf["status"]["message"], "Step exceeded its deadline");
  EXPECT_EQ(wf["status"]["nodes"]["late"]["message"], "Step exceeded its deadline");
}

TEST_F(CliTest, ArtifactsTravelBetweenStepsAndStayInTheStateDirectory) {
  const bool host_had_outputs = std::filesystem::exists("/outputs/note.txt");
  std::string state = dir_.path() + "/state";
  CommandResult r =
      Hub({"run", SourceDir() + "/tests/data/e2e/artifacts.yaml", "-o", "json", "--data", state});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  Json wf = Json::parse(r.out);
  EXPECT_EQ(wf["status"]["phase"], "Succeeded");
  for (std::string item : {"a", "b", "c", "d"}) {
    int index = item[0] - 'a';
    const Json* node =
        NodeByDisplayName(wf, "read-item(" + std::to_string(index) + ":" + item + ")");
    ASSERT_NE(node, nullptr) << item;
    EXPECT_EQ((*node)["outputs"]["result"], "item " + item);
  }
  const Json* combine = NodeByDisplayName(wf, "combine");
  ASSERT_NE(combine, nullptr);
  EXPECT_EQ((*combine)["outputs"]["result"], "hello from produce\nitem b\nshared");
  const Json& outputs = wf["status"]["outputs"]["artifacts"];
  ASSERT_EQ(outputs.size(), 1u) << wf["status"].dump();
  EXPECT_EQ(outputs[0]["name"], "summary");
  std::string key = outputs[0]["hubspoke"]["key"];
  EXPECT_TRUE(std::filesystem::is_regular_file(state + "/artifacts/" + key)) << key;
  EXPECT_TRUE(std::filesystem::is_regular_file(state + "/artifacts/_repository/" +
                                               wf["metadata"]["name"].get<std::string>() +
                                               "/shared.txt"));
  // /outputs was the task's own: nothing of it is left on the host.
  if (!host_had_outputs) {
    EXPECT_FALSE(std::filesystem::exists("/outputs/note.txt"));
  }
}

TEST_F(CliTest, MemoizedOutputsAreKeptInTheStateDirectoryForLaterRuns) {
  std::string state = dir_.path() + "/state";
  std::string manifest = SourceDir() + "/tests/data/e2e/memoize.yaml";
  auto run = [&](const std::string& key) {
    CommandResult r = Hub({"run", manifest, "-p", "key=" + key, "-o", "json", "--data", state});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    Json wf = Json::parse(r.out);
    return wf["status"]["nodes"].begin().value();
  };
  Json first = run("k1");
  Json second = run("k1");
  Json other = run("k2");
  EXPECT_EQ(first["memoizationStatus"]["hit"], false);
  EXPECT_EQ(second["memoizationStatus"]["hit"], true);
  EXPECT_EQ(second["memoizationStatus"]["cacheName"], "stamps");
  EXPECT_EQ(second["outputs"]["result"], first["outputs"]["result"]);
  EXPECT_EQ(other["memoizationStatus"]["hit"], false);
  EXPECT_NE(other["outputs"]["result"], first["outputs"]["result"]);
}

// A free TCP port on 127.0.0.1 (bound, read, released).
int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

TEST_F(CliTest, ADaemonStepServesTheStepsAfterItAndIsKilledWithItsScope) {
  std::string manifest = dir_.Write("daemon.yaml", R"(
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: daemon-}
spec:
  entrypoint: main
  arguments: {parameters: [{name: port, value: "0"}]}
  templates:
  - name: main
    steps:
    - - {name: server, template: serve}
    - - name: client
        template: fetch
        arguments: {parameters: [{name: ip, value: "{{steps.server.ip}}"}]}
  - name: serve
    daemon: true
    script:
      image: python
      command: [python3]
      source: |
        import http.server
        class Hello(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200); self.end_headers(); self.wfile.write(b"served by the daemon")
        http.server.HTTPServer(("127.0.0.1", {{workflow.parameters.port}}), Hello).serve_forever()
  - name: fetch
    inputs: {parameters: [{name: ip}]}
    script:
      image: python
      command: [python3]
      source: |
        import time, urllib.request
        for _ in range(100):
            try:
                print(urllib.request.urlopen("http://{{inputs.parameters.ip}}:{{workflow.parameters.port}}/").read().decode()); break
            except OSError:
                time.sleep(0.1)
)");
  int port = FreePort();
  auto start = std::chrono::steady_clock::now();
  CommandResult r = Hub({"run", manifest, "-p", "port=" + std::to_string(port), "-o", "json",
                         "--data", dir_.path() + "/state"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(30));
  Json wf = Json::parse(r.out);
  const Json* client = NodeByDisplayName(wf, "client");
  ASSERT_NE(client, nullptr);
  EXPECT_EQ((*client)["outputs"]["result"], "served by the daemon");
  EXPECT_EQ((*NodeByDisplayName(wf, "server"))["phase"], "Succeeded");
  // The server is gone: nothing listens on its port any more.
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_NE(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  close(fd);
}

}  // namespace
}  // namespace hubspoke::e2e
