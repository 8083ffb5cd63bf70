// Remote spokes end to end: a `hubspoke hub` process and `hubspoke spoke` processes connected
// over gRPC on 127.0.0.1, driven with the hubspoke CLI. Work spreads over the spokes, a spoke
// killed mid-run or a hub killed and restarted loses no task, a spoke that joins mid-run gets
// work, nodeSelector picks spokes by label, a wrong token is refused and SIGTERM drains.
// Every process is killed at the end of its test; every wait is bounded.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "cli_harness.h"

namespace hubspoke::e2e {
namespace {

using Json = nlohmann::json;
using std::chrono::steady_clock;

constexpr const char* kCommandTimeout = "60";  // seconds, for each CLI invocation

std::string Trim(std::string s) {
  s.erase(s.find_last_not_of(" \n") + 1);
  return s;
}

// Polls `fn` every 50 ms until it is true or `seconds` passed.
bool WaitFor(const std::function<bool()>& fn, int seconds) {
  auto deadline = steady_clock::now() + std::chrono::seconds(seconds);
  while (steady_clock::now() < deadline) {
    if (fn()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return fn();
}

// A free TCP port on 127.0.0.1 (for a hub that must come back on the same address).
int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

// A child process with stdout and stderr in a file; SIGKILLed by the destructor if still running.
class Process {
 public:
  Process(const std::vector<std::string>& args, const std::string& log_path) : log_(log_path) {
    pid_ = fork();
    if (pid_ == 0) {
      int in = open("/dev/null", O_RDONLY);
      int log = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      dup2(in, 0);
      dup2(log, 1);
      dup2(log, 2);
      std::vector<char*> argv;
      for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      execvp(argv[0], argv.data());
      _exit(127);
    }
  }
  ~Process() {
    if (pid_ <= 0) return;
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  void Signal(int sig) { kill(pid_, sig); }
  // The exit code (128+signal when killed), or -1 if it is still running after `seconds`.
  int Wait(int seconds) {
    int status = 0;
    bool done =
        WaitFor([&] { return pid_ <= 0 || waitpid(pid_, &status, WNOHANG) == pid_; }, seconds);
    if (!done) return -1;
    if (pid_ > 0) code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    pid_ = -1;
    return code_;
  }
  bool Running() { return pid_ > 0 && waitpid(pid_, nullptr, WNOHANG) == 0; }
  std::string Log() const { return ReadFile(log_); }

 private:
  std::string log_;
  pid_t pid_ = -1;
  int code_ = -1;
};

// kind: Workflow whose `main` runs `count` items of `body` (a sh script; $I is the item).
std::string FanOut(int count, const std::string& body, const std::string& extra = "") {
  return R"(apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: fan-}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - name: work
        template: task
        arguments: {parameters: [{name: i, value: "{{item}}"}]}
        withSequence: {count: ")" +
         std::to_string(count) + R"("}
  - name: task
    inputs: {parameters: [{name: i}]}
)" + extra +
         R"(    outputs: {parameters: [{name: out, valueFrom: {path: /tmp/out.txt}}]}
    script:
      image: alpine:3
      command: [sh]
      source: |
        I={{inputs.parameters.i}}
        )" +
         body + R"(
        echo "out-$I" > /tmp/out.txt
)";
}

class SpokesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    unsetenv("HUBSPOKE_SERVER");
    unsetenv("HUBSPOKE_TOKEN");
    data_ = dir_.path() + "/hub";
  }
  void TearDown() override {
    spokes_.clear();
    hub_.reset();
  }

  // Starts the hub with no local spokes; `spoke_port` 0 picks one. Returns its spoke address.
  std::string StartHub(int spoke_port = 0, int lease_s = 3) {
    std::filesystem::remove(data_ + "/address");
    std::filesystem::remove(data_ + "/spoke-address");
    std::filesystem::create_directories(data_);
    hub_ = std::make_unique<Process>(
        std::vector<std::string>{Hubspoke(), "hub", "--listen", "127.0.0.1:0", "--spoke-listen",
                                 "127.0.0.1:" + std::to_string(spoke_port), "--spoke-lease",
                                 std::to_string(lease_s), "--spokes", "0", "--data", data_},
        dir_.path() + "/hub.log");
    bool up = WaitFor(
        [&] {
          return !ReadFile(data_ + "/address").empty() &&
                 !ReadFile(data_ + "/spoke-address").empty();
        },
        20);
    EXPECT_TRUE(up) << "the hub did not start:\n" << hub_->Log();
    spoke_address_ = Trim(ReadFile(data_ + "/spoke-address"));
    return spoke_address_;
  }

  Process& StartSpoke(const std::string& name, int slots, std::vector<std::string> extra = {},
                      const std::string& token_file = "") {
    std::vector<std::string> args = {
        Hubspoke(),     "spoke",
        "--hub",        spoke_address_,
        "--name",       name,
        "--slots",      std::to_string(slots),
        "--token-file", token_file.empty() ? data_ + "/token" : token_file,
        "--work",       dir_.path() + "/spoke-" + name};
    args.insert(args.end(), extra.begin(), extra.end());
    spokes_[name] = std::make_unique<Process>(args, dir_.path() + "/spoke-" + name + ".log");
    return *spokes_[name];
  }

  CommandResult Cli(std::vector<std::string> args) {
    args.insert(args.begin(), {"timeout", kCommandTimeout, Hubspoke()});
    args.insert(args.end(), {"--data", data_});
    return RunCommand(args, dir_.path());
  }

  // Names of the connected spokes, from `hubspoke spokes -o name`.
  std::set<std::string> Connected() {
    CommandResult r = Cli({"spokes", "-o", "name"});
    std::set<std::string> names;
    std::stringstream ss(r.out);
    for (std::string line; std::getline(ss, line);) names.insert(line);
    return names;
  }
  bool WaitConnected(const std::set<std::string>& want) {
    return WaitFor([&] { return Connected() == want; }, 20);
  }

  std::string Submit(const std::string& manifest) {
    CommandResult r = Cli({"submit", dir_.Write("wf.yaml", manifest), "-o", "name"});
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    return Trim(r.out);
  }

  Json Get(const std::string& name) {
    CommandResult r = Cli({"get", name, "-o", "json"});
    Json wf = r.exit_code == 0 ? Json::parse(r.out, nullptr, false) : Json();
    if (!wf.is_object() || !wf.contains("status") || !wf["status"].is_object()) {
      ADD_FAILURE() << "get " << name << ": " << r.err;
      return Json{{"status", Json::object()}};
    }
    return wf;
  }

  // The workflow's Pod nodes.
  std::vector<Json> Pods(const Json& wf) {
    std::vector<Json> out;
    if (!wf.contains("status")) return out;
    const Json nodes = wf["status"].value("nodes", Json::object());
    for (const auto& [id, node] : nodes.items()) {
      if (node.value("type", "") == "Pod") out.push_back(node);
    }
    return out;
  }

  // Waits for the workflow to finish; returns its phase.
  std::string WaitDone(const std::string& name, int seconds = 90) {
    std::string phase;
    WaitFor(
        [&] {
          phase = Get(name)["status"].value("phase", "");
          return phase == "Succeeded" || phase == "Failed" || phase == "Error";
        },
        seconds);
    return phase;
  }

  std::string Logs() {
    std::string out = "hub:\n" + (hub_ ? hub_->Log() : "");
    for (const auto& [name, p] : spokes_) out += "\nspoke " + name + ":\n" + p->Log();
    return out;
  }

  TempDir dir_;
  std::string data_;
  std::string spoke_address_;
  std::unique_ptr<Process> hub_;
  std::map<std::string, std::unique_ptr<Process>> spokes_;
};

TEST_F(SpokesTest, WorkSpreadsOverAllSpokesWithLogsAndOutputs) {
  StartHub();
  for (const char* name : {"s1", "s2", "s3"}) StartSpoke(name, 2);
  ASSERT_TRUE(WaitConnected({"s1", "s2", "s3"})) << Logs();
  CommandResult listed = Cli({"spokes"});
  EXPECT_NE(listed.out.find("LAST HEARTBEAT"), std::string::npos) << listed.out;
  EXPECT_NE(listed.out.find("0.1.0"), std::string::npos) << listed.out;

  std::string name = Submit(FanOut(12, "echo \"hello $I\"; sleep 0.4"));
  ASSERT_EQ(WaitDone(name), "Succeeded") << Logs();
  std::map<std::string, int> per_spoke;
  for (const Json& pod : Pods(Get(name))) {
    EXPECT_EQ(pod["phase"], "Succeeded");
    per_spoke[pod.value("hostNodeName", "")]++;
    std::string i = pod["inputs"]["parameters"][0]["value"];
    EXPECT_EQ(pod["outputs"]["parameters"][0]["value"], "out-" + i) << pod.dump();
  }
  EXPECT_EQ(per_spoke.size(), 3u) << Json(per_spoke).dump();
  for (const char* s : {"s1", "s2", "s3"}) EXPECT_GT(per_spoke[s], 0) << s;

  CommandResult logs = Cli({"logs", name});
  EXPECT_EQ(logs.exit_code, 0) << logs.err;
  for (int i = 0; i < 12; ++i) {
    EXPECT_NE(logs.out.find("hello " + std::to_string(i) + "\n"), std::string::npos) << logs.out;
  }
}

TEST_F(SpokesTest, KilledSpokeLosesNoTask) {
  StartHub();
  StartSpoke("s1", 2);
  StartSpoke("s2", 2);
  ASSERT_TRUE(WaitConnected({"s1", "s2"})) << Logs();
  std::string name =
      Submit(FanOut(8, "sleep 1.5", "    retryStrategy: {limit: 3, retryPolicy: Always}\n"));
  ASSERT_TRUE(WaitFor(
      [&] {
        for (const Json& pod : Pods(Get(name))) {
          if (pod.value("hostNodeName", "") == "s1" && pod["phase"] == "Running") return true;
        }
        return false;
      },
      30))
      << Logs();
  spokes_["s1"]->Signal(SIGKILL);
  ASSERT_EQ(WaitDone(name), "Succeeded") << Logs();
  Json wf = Get(name);
  int lost = 0;
  for (const auto& [id, node] : wf["status"]["nodes"].items()) {
    if (node.value("message", "").find("spoke lost: s1") != std::string::npos) ++lost;
  }
  EXPECT_GT(lost, 0) << wf.dump();
  EXPECT_EQ(Connected(), std::set<std::string>{"s2"});
}

TEST_F(SpokesTest, RestartedSpokeTakesItsNameBack) {
  StartHub();
  StartSpoke("s1", 2);
  ASSERT_TRUE(WaitConnected({"s1"})) << Logs();
  std::string name =
      Submit(FanOut(4, "sleep 1", "    retryStrategy: {limit: 3, retryPolicy: Always}\n"));
  ASSERT_TRUE(WaitFor(
      [&] {
        for (const Json& pod : Pods(Get(name))) {
          if (pod["phase"] == "Running" && pod.contains("hostNodeName")) return true;
        }
        return false;
      },
      20))
      << Logs();
  spokes_["s1"]->Signal(SIGKILL);
  spokes_["s1"]->Wait(10);
  // The hub has seen the stream end: it gives the spoke no new tasks while it may come back.
  ASSERT_TRUE(WaitFor(
      [&] {
        Json items = Json::parse(Cli({"spokes", "-o", "json"}).out, nullptr, false);
        return items.is_array() && items.size() == 1 && items[0].value("draining", false);
      },
      10));
  // A new process under the same name replaces the dead one at once (no waiting for its lease):
  // the old one's tasks are lost and retried, here on the new one.
  StartSpoke("s1", 2);
  ASSERT_EQ(WaitDone(name), "Succeeded") << Logs();
  EXPECT_EQ(Connected(), std::set<std::string>{"s1"});
}

TEST_F(SpokesTest, SpokeJoiningMidRunGetsWorkAtOnce) {
  StartHub();
  StartSpoke("s1", 1);
  ASSERT_TRUE(WaitConnected({"s1"})) << Logs();
  std::string name = Submit(FanOut(8, "sleep 1"));
  ASSERT_TRUE(WaitFor([&] { return !Pods(Get(name)).empty(); }, 20));
  auto joined = steady_clock::now();
  StartSpoke("late", 3);
  bool got_work = WaitFor(
      [&] {
        for (const Json& pod : Pods(Get(name))) {
          if (pod.value("hostNodeName", "") == "late") return true;
        }
        return false;
      },
      10);
  EXPECT_TRUE(got_work) << Logs();
  EXPECT_LT(steady_clock::now() - joined, std::chrono::seconds(5));
  ASSERT_EQ(WaitDone(name), "Succeeded") << Logs();
}

TEST_F(SpokesTest, HubKilledAndRestartedKeepsSpokeResults) {
  int port = FreePort();
  StartHub(port, 5);
  StartSpoke("s1", 2);
  StartSpoke("s2", 2);
  ASSERT_TRUE(WaitConnected({"s1", "s2"})) << Logs();
  // No retryStrategy: a lost attempt would end the workflow in Error.
  std::string name = Submit(FanOut(4, "sleep 3; echo \"done $I\""));
  ASSERT_TRUE(WaitFor(
      [&] {
        int running = 0;
        for (const Json& pod : Pods(Get(name))) running += pod["phase"] == "Running";
        return running == 4;
      },
      20))
      << Logs();
  hub_->Signal(SIGKILL);
  ASSERT_EQ(hub_->Wait(10), 128 + SIGKILL);
  StartHub(port, 5);
  ASSERT_EQ(WaitDone(name), "Succeeded") << Logs();
  for (const Json& pod : Pods(Get(name))) {
    EXPECT_EQ(pod["phase"], "Succeeded") << pod.dump();
    std::string i = pod["inputs"]["parameters"][0]["value"];
    EXPECT_EQ(pod["outputs"].value("result", ""), "done " + i) << pod.dump();
  }
  EXPECT_TRUE(WaitConnected({"s1", "s2"})) << Logs();
}

TEST_F(SpokesTest, WrongTokenIsRefusedAndTheSpokeExits) {
  StartHub();
  std::string bad = dir_.Write("bad-token", "not-the-token\n");
  Process& spoke = StartSpoke("intruder", 1, {}, bad);
  int code = spoke.Wait(15);
  EXPECT_NE(code, -1) << "the spoke kept retrying:\n" << spoke.Log();
  EXPECT_NE(code, 0);
  EXPECT_NE(spoke.Log().find("token"), std::string::npos) << spoke.Log();
  EXPECT_EQ(spoke.Log().find("not-the-token"), std::string::npos) << "the token was logged";
  EXPECT_EQ(hub_->Log().find("not-the-token"), std::string::npos) << "the token was logged";
  EXPECT_TRUE(Connected().empty());
}

TEST_F(SpokesTest, ReservedAndTakenNamesAreRefused) {
  StartHub();
  StartSpoke("s1", 1);
  ASSERT_TRUE(WaitConnected({"s1"})) << Logs();
  Process& local = StartSpoke("local-1", 1);
  EXPECT_GT(local.Wait(15), 0) << local.Log();
  EXPECT_NE(local.Log().find("reserved"), std::string::npos) << local.Log();
  std::vector<std::string> args = {
      Hubspoke(), "spoke",        "--hub",          spoke_address_, "--name",
      "s1",       "--token-file", data_ + "/token", "--work",       dir_.path() + "/dup"};
  Process dup(args, dir_.path() + "/dup.log");
  EXPECT_GT(dup.Wait(15), 0) << dup.Log();
  EXPECT_NE(dup.Log().find("already connected"), std::string::npos) << dup.Log();
  EXPECT_EQ(Connected(), std::set<std::string>{"s1"});
}

TEST_F(SpokesTest, NodeSelectorPlacesTasksBySpokeLabels) {
  StartHub();
  StartSpoke("gpu", 2, {"--labels", "accelerator=gpu,zone=a"});
  StartSpoke("plain", 2);
  ASSERT_TRUE(WaitConnected({"gpu", "plain"})) << Logs();
  std::string name = Submit(FanOut(6, "sleep 0.2", "    nodeSelector: {accelerator: gpu}\n"));
  ASSERT_EQ(WaitDone(name), "Succeeded") << Logs();
  for (const Json& pod : Pods(Get(name))) EXPECT_EQ(pod["hostNodeName"], "gpu") << pod.dump();

  // A task no connected spoke can take waits until one joins.
  std::string waiting = Submit(FanOut(1, "true", "    nodeSelector: {zone: b}\n"));
  std::this_thread::sleep_for(std::chrono::seconds(1));
  EXPECT_EQ(Get(waiting)["status"].value("phase", ""), "Running");
  StartSpoke("zone-b", 1, {"--labels", "zone=b"});
  ASSERT_EQ(WaitDone(waiting), "Succeeded") << Logs();
  EXPECT_EQ(Pods(Get(waiting))[0]["hostNodeName"], "zone-b");
}

TEST_F(SpokesTest, SigtermDrainsTheSpoke) {
  StartHub();
  Process& spoke = StartSpoke("s1", 2);
  ASSERT_TRUE(WaitConnected({"s1"})) << Logs();
  std::string name = Submit(FanOut(2, "sleep 1.5"));
  ASSERT_TRUE(WaitFor(
      [&] {
        int running = 0;
        for (const Json& pod : Pods(Get(name))) running += pod["phase"] == "Running";
        return running == 2;
      },
      20))
      << Logs();
  spoke.Signal(SIGTERM);
  EXPECT_EQ(spoke.Wait(20), 0) << spoke.Log();
  for (const Json& pod : Pods(Get(name))) EXPECT_EQ(pod["phase"], "Succeeded") << pod.dump();
  EXPECT_TRUE(Connected().empty());
}

TEST_F(SpokesTest, TerminatingAWorkflowFreesTheSpoke) {
  StartHub();
  Process& spoke = StartSpoke("s1", 1);
  ASSERT_TRUE(WaitConnected({"s1"})) << Logs();
  // One task runs, one waits queued on the spoke, the others on the hub.
  std::string name = Submit(FanOut(4, "sleep 30"));
  ASSERT_TRUE(WaitFor(
      [&] {
        for (const Json& pod : Pods(Get(name))) {
          if (pod["phase"] == "Running" && pod.contains("hostNodeName")) return true;
        }
        return false;
      },
      20))
      << Logs();
  CommandResult r = Cli({"terminate", name});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(WaitDone(name, 20), "Failed") << Logs();
  EXPECT_TRUE(WaitFor(
      [&] {
        Json items = Json::parse(Cli({"spokes", "-o", "json"}).out, nullptr, false);
        return items.is_array() && items.size() == 1 && items[0].value("running", -1) == 0;
      },
      10))
      << Cli({"spokes", "-o", "json"}).out;
  spoke.Signal(SIGTERM);
  EXPECT_EQ(spoke.Wait(15), 0) << "the drained spoke still waited for a cancelled task:\n"
                               << spoke.Log();
}

TEST_F(SpokesTest, TlsWithClientCertificates) {
  // A CA, a hub certificate for 127.0.0.1 and a spoke certificate, made with openssl.
  const std::string d = dir_.path();
  const std::string script =
      "set -e; cd " + d +
      "\n"
      "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=test-ca -keyout ca.key "
      "-out ca.pem 2>/dev/null\n"
      "for who in hub spoke; do\n"
      "  openssl req -newkey rsa:2048 -nodes -subj /CN=$who -keyout $who.key -out $who.csr "
      "2>/dev/null\n"
      "  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n' > $who.ext\n"
      "  openssl x509 -req -in $who.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 1 "
      "-extfile $who.ext -out $who.pem 2>/dev/null\n"
      "done\n";
  CommandResult made = RunCommand({"sh", "-c", script}, d);
  if (made.exit_code != 0) GTEST_SKIP() << "openssl could not make certificates: " << made.err;

  std::filesystem::create_directories(data_);
  hub_ = std::make_unique<Process>(
      std::vector<std::string>{Hubspoke(), "hub", "--listen", "127.0.0.1:0", "--spoke-listen",
                               "127.0.0.1:0", "--spokes", "0", "--data", data_, "--spoke-tls-cert",
                               d + "/hub.pem", "--spoke-tls-key", d + "/hub.key", "--spoke-tls-ca",
                               d + "/ca.pem"},
      d + "/hub.log");
  ASSERT_TRUE(WaitFor(
      [&] {
        return !ReadFile(data_ + "/address").empty() && !ReadFile(data_ + "/spoke-address").empty();
      },
      20))
      << hub_->Log();
  spoke_address_ = Trim(ReadFile(data_ + "/spoke-address"));
  StartSpoke(
      "secure", 2,
      {"--tls-ca", d + "/ca.pem", "--tls-cert", d + "/spoke.pem", "--tls-key", d + "/spoke.key"});
  ASSERT_TRUE(WaitConnected({"secure"})) << Logs();
  std::string name = Submit(FanOut(2, "echo secure"));
  ASSERT_EQ(WaitDone(name), "Succeeded") << Logs();
  for (const Json& pod : Pods(Get(name))) EXPECT_EQ(pod["hostNodeName"], "secure");

  // Plaintext to a TLS hub gets nowhere.
  StartSpoke("plain", 1);
  std::this_thread::sleep_for(std::chrono::seconds(1));
  EXPECT_EQ(Connected(), std::set<std::string>{"secure"});
}

// A network namespace joined to this one by a veth pair, for a spoke on "another machine" whose
// link can be cut (a partition: packets vanish, no connection is reset). Removed by the
// destructor.
class NetNs {
 public:
  explicit NetNs(const std::string& scratch) : scratch_(scratch) {
    int n = static_cast<int>(getpid() % 200) + 20;
    name_ = "hubspoke-" + std::to_string(getpid());
    host_if_ = "hsh" + std::to_string(getpid() % 100000);
    ns_if_ = "hss" + std::to_string(getpid() % 100000);
    host_ip_ = "10.251." + std::to_string(n) + ".1";
    ns_ip_ = "10.251." + std::to_string(n) + ".2";
    CommandResult r = Ip({"netns", "add", name_});
    if (r.exit_code != 0) {
      error_ = Trim(r.err);
      return;
    }
    created_ = true;
    for (const std::vector<std::string>& cmd : std::vector<std::vector<std::string>>{
             {"link", "add", host_if_, "type", "veth", "peer", "name", ns_if_},
             {"link", "set", ns_if_, "netns", name_},
             {"addr", "add", host_ip_ + "/24", "dev", host_if_},
             {"link", "set", host_if_, "up"},
             {"netns", "exec", name_, "ip", "addr", "add", ns_ip_ + "/24", "dev", ns_if_},
             {"netns", "exec", name_, "ip", "link", "set", ns_if_, "up"},
             {"netns", "exec", name_, "ip", "link", "set", "lo", "up"}}) {
      r = Ip(cmd);
      if (r.exit_code != 0) {
        error_ = "ip " + cmd[0] + " " + cmd[1] + ": " + Trim(r.err);
        return;
      }
    }
  }
  ~NetNs() {
    if (created_) Ip({"netns", "delete", name_});  // takes the veth pair with it
  }
  const std::string& error() const { return error_; }
  const std::string& name() const { return name_; }
  const std::string& host_ip() const { return host_ip_; }
  bool SetLink(bool up) { return Ip({"link", "set", host_if_, up ? "up" : "down"}).exit_code == 0; }

 private:
  CommandResult Ip(std::vector<std::string> args) {
    args.insert(args.begin(), "ip");
    return RunCommand(args, scratch_);
  }

  std::string scratch_, name_, host_if_, ns_if_, host_ip_, ns_ip_, error_;
  bool created_ = false;
};

TEST_F(SpokesTest, PartitionedSpokeIsLostThenRejoins) {
  NetNs ns(dir_.path());
  if (!ns.error().empty()) {
    GTEST_SKIP() << "network namespaces are not permitted here (" << ns.error()
                 << "): the partition test needs `ip netns` and `ip link` (root)";
  }
  std::filesystem::create_directories(data_);
  hub_ = std::make_unique<Process>(
      std::vector<std::string>{Hubspoke(), "hub", "--listen", "127.0.0.1:0", "--spoke-listen",
                               "0.0.0.0:0", "--spoke-lease", "2", "--spokes", "0", "--data", data_},
      dir_.path() + "/hub.log");
  ASSERT_TRUE(WaitFor([&] { return !ReadFile(data_ + "/spoke-address").empty(); }, 20))
      << hub_->Log();
  std::string address = Trim(ReadFile(data_ + "/spoke-address"));
  std::string port = address.substr(address.rfind(':') + 1);
  spoke_address_ = "127.0.0.1:" + port;
  StartSpoke("near", 2);
  spokes_["far"] = std::make_unique<Process>(
      std::vector<std::string>{"ip", "netns", "exec", ns.name(), Hubspoke(), "spoke", "--hub",
                               ns.host_ip() + ":" + port, "--name", "far", "--slots", "2",
                               "--token-file", data_ + "/token", "--work",
                               dir_.path() + "/spoke-far"},
      dir_.path() + "/spoke-far.log");
  ASSERT_TRUE(WaitConnected({"near", "far"})) << Logs();

  std::string name =
      Submit(FanOut(6, "sleep 2", "    retryStrategy: {limit: 3, retryPolicy: Always}\n"));
  ASSERT_TRUE(WaitFor(
      [&] {
        for (const Json& pod : Pods(Get(name))) {
          if (pod.value("hostNodeName", "") == "far" && pod["phase"] == "Running") return true;
        }
        return false;
      },
      20))
      << Logs();
  ASSERT_TRUE(ns.SetLink(false));
  ASSERT_EQ(WaitDone(name), "Succeeded") << Logs();
  Json wf = Get(name);
  int lost = 0;
  for (const auto& [id, node] : wf["status"]["nodes"].items()) {
    if (node.value("message", "").find("spoke lost: far: no heartbeat") != std::string::npos) {
      ++lost;
    }
  }
  EXPECT_GT(lost, 0) << wf.dump();
  EXPECT_EQ(Connected(), std::set<std::string>{"near"});

  ASSERT_TRUE(ns.SetLink(true));
  EXPECT_TRUE(WaitFor(
      [&] {
        return Connected() == std::set<std::string>{"near", "far"};
      },
      60))
      << Logs();
}

TEST_F(SpokesTest, ArtifactsTravelToAndFromRemoteSpokes) {
  StartHub();
  StartSpoke("s1", 2);
  StartSpoke("s2", 2);
  ASSERT_TRUE(WaitConnected({"s1", "s2"})) << Logs();
  std::string manifest = ReadFile(SourceDir() + "/tests/data/e2e/artifacts.yaml");
  std::string name = Submit(manifest);
  ASSERT_EQ(WaitDone(name), "Succeeded") << Logs() << Get(name).dump(1);
  Json wf = Get(name);
  std::set<std::string> spokes;
  for (const Json& pod : Pods(wf)) {
    spokes.insert(pod.value("hostNodeName", ""));
    if (pod["templateName"] == "combine") {
      EXPECT_EQ(pod["outputs"]["result"], "hello from produce\nitem b\nshared");
    }
    if (pod["templateName"] == "read-item") {
      std::string item = pod["inputs"]["parameters"][0]["value"];
      EXPECT_EQ(pod["outputs"]["result"], "item " + item);
    }
  }
  EXPECT_EQ(spokes, (std::set<std::string>{"s1", "s2"}));
  // The hub keeps what the spokes produced; the spokes keep nothing once it is acknowledged.
  std::string key = wf["status"]["outputs"]["artifacts"][0]["hubspoke"]["key"];
  EXPECT_TRUE(std::filesystem::is_regular_file(data_ + "/artifacts/" + key)) << key;
  for (const char* s : {"s1", "s2"}) {
    std::string root = dir_.path() + "/spoke-" + s + "/artifacts";
    EXPECT_TRUE(WaitFor(
        [&] {
          std::error_code ec;
          for (auto it = std::filesystem::recursive_directory_iterator(root, ec);
               it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
            if (!it->is_directory()) return false;
          }
          return true;
        },
        10))
        << s << " still holds artifact files";
  }
}

TEST_F(SpokesTest, SidecarsRunBesideTasksOnRemoteSpokes) {
  StartHub();
  StartSpoke("s1", 1);
  ASSERT_TRUE(WaitConnected({"s1"})) << Logs();
  std::string name = Submit(R"(apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: sidecar-}
spec:
  entrypoint: main
  templates:
  - name: main
    container:
      image: alpine
      command: [sh, -c, "until [ -f ready ]; do sleep 0.01; done; cat ready"]
    sidecars:
    - name: helper
      image: alpine
      command: [sh, -c, "echo helper up; echo from the sidecar > r; mv r ready; sleep 1000"]
)");
  ASSERT_EQ(WaitDone(name), "Succeeded") << Logs();
  std::vector<Json> pods = Pods(Get(name));
  ASSERT_EQ(pods.size(), 1u);
  EXPECT_EQ(pods[0]["outputs"]["result"], "from the sidecar");
  EXPECT_EQ(pods[0].value("hostNodeName", ""), "s1");
  std::string logs;
  EXPECT_TRUE(WaitFor(
      [&] {
        logs = Cli({"logs", name}).out;
        return logs.find("[helper] helper up") != std::string::npos;
      },
      10))
      << logs;
}

}  // namespace
}  // namespace hubspoke::e2e
