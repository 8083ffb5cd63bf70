// The REST API against a real hub: a real SQLite file, local spokes running real processes, and
// requests over real sockets on 127.0.0.1.
#include "hub/http_api.h"

#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "spec/catalog.h"
#include "store/store.h"

namespace hubspoke::hub {
namespace {

using Json = nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr const char* kToken = "test-token-0123456789";
constexpr auto kTimeout = std::chrono::seconds(30);

// A workflow whose one step prints "hello api".
Json Hello(const std::string& name, Json labels = Json::object()) {
  return Json::parse(R"({
    "apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow",
    "metadata": {},
    "spec": {"entrypoint": "main", "templates": [
      {"name": "main", "steps": [[{"name": "greet", "template": "say"}]]},
      {"name": "say", "container": {"image": "alpine:3", "command": ["echo", "hello api"]}}]}})")
      .patch(Json::array({{{"op", "add"}, {"path", "/metadata/name"}, {"value", name}},
                          {{"op", "add"}, {"path", "/metadata/labels"}, {"value", labels}}}));
}

Json Sleeper(const std::string& name) {
  return Json::parse(R"({
    "apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow",
    "metadata": {"name": ")" +
                     name + R"("},
    "spec": {"entrypoint": "main", "templates": [
      {"name": "main", "container": {"image": "alpine:3", "command": ["sleep", "30"]}}]}})");
}

struct Reply {
  int status = 0;
  Json body;
  std::string text;
};

Reply ToReply(const httplib::Result& r) {
  Reply out;
  if (!r) return out;
  out.status = r->status;
  out.text = r->body;
  out.body = Json::parse(r->body, nullptr, false);
  return out;
}

class HttpApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string root = std::string(HUBSPOKE_BINARY_DIR) + "/tmp";
    std::filesystem::create_directories(root);
    std::string tmpl = root + "/http-api-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    auto store = store::OpenSqlite({dir_ + "/hubspoke.db"});
    ASSERT_TRUE(store.ok()) << store.error().ToString();
    HubOptions options;
    options.data_dir = dir_;
    options.local_spokes = 2;
    options.forget_finished = true;
    options.resumable = true;
    hub_ = std::make_unique<Hub>(std::move(options), std::move(*store), spec::Catalog{});
    HttpApiOptions api;
    api.port = 0;
    api.token = kToken;
    api.max_body_bytes = 1 << 20;
    api.max_streams = 2;
    api.ui_dir = dir_ + "/ui";
    api_ = std::make_unique<HttpApi>(*hub_, api);
    auto port = api_->Start();
    ASSERT_TRUE(port.ok()) << port.error().ToString();
    port_ = *port;
    client_ = NewClient();
    client_->set_bearer_token_auth(kToken);
  }
  void TearDown() override {
    client_.reset();
    api_.reset();
    hub_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  std::unique_ptr<httplib::Client> NewClient() {
    auto c = std::make_unique<httplib::Client>("127.0.0.1", port_);
    c->set_read_timeout(20, 0);
    c->set_connection_timeout(5, 0);
    return c;
  }
  Reply Get(const std::string& path) { return ToReply(client_->Get(path.c_str())); }
  Reply Delete(const std::string& path) { return ToReply(client_->Delete(path.c_str())); }
  Reply Post(const std::string& path, const std::string& body) {
    return ToReply(client_->Post(path.c_str(), body, "application/json"));
  }
  Reply Post(const std::string& path, const Json& body) { return Post(path, body.dump()); }
  Reply Put(const std::string& path, const Json& body = Json::object()) {
    return ToReply(client_->Put(path.c_str(), body.dump(), "application/json"));
  }
  std::string Create(const Json& workflow) {
    Reply r = Post("/api/v1/workflows/default", Json{{"workflow", workflow}});
    EXPECT_EQ(r.status, 200) << r.text;
    return r.body.is_object() ? r.body["metadata"].value("name", "") : "";
  }
  // Polls the workflow until its phase is one of `phases`; returns the last GET.
  Reply WaitFor(const std::string& name, std::set<std::string> phases) {
    Reply r;
    for (auto deadline = Clock::now() + kTimeout; Clock::now() < deadline;) {
      r = Get("/api/v1/workflows/default/" + name);
      if (r.status == 200 && phases.count(r.body["status"].value("phase", ""))) return r;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ADD_FAILURE() << name << " did not reach the phase; last: " << r.text;
    return r;
  }

  std::string dir_;
  std::unique_ptr<Hub> hub_;
  std::unique_ptr<HttpApi> api_;
  int port_ = 0;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(HttpApiTest, TokenIsRequiredExceptForHealthz) {
  auto anonymous = NewClient();
  Reply none = ToReply(anonymous->Get("/api/v1/workflows/default"));
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(none.body["code"], 16);

  anonymous->set_bearer_token_auth("wrong-token-0123456789");
  Reply wrong = ToReply(anonymous->Get("/api/v1/workflows/default"));
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(wrong.body["code"], 16);

  Reply health = ToReply(NewClient()->Get("/healthz"));
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(health.text, "ok");

  Reply ok = Get("/api/v1/workflows/default");
  EXPECT_EQ(ok.status, 200) << ok.text;
  EXPECT_TRUE(ok.body["items"].is_array());
  EXPECT_EQ(Get("/api/v1/version").body["version"], "0.1.0");
  EXPECT_EQ(Get("/api/v1/info").body["managedNamespace"], "default");
}

TEST_F(HttpApiTest, ServesTheWebUiWithoutTokenAndKeepsApiPathsFirst) {
  auto anonymous = NewClient();
  Reply missing = ToReply(anonymous->Get("/workflows/default/hello"));
  EXPECT_EQ(missing.status, 503);
  EXPECT_NE(missing.text.find("scripts/build.sh"), std::string::npos) << missing.text;

  std::filesystem::create_directories(dir_ + "/ui/assets");
  std::ofstream(dir_ + "/ui/index.html") << "<!doctype html><title>hubspoke</title>";
  std::ofstream(dir_ + "/ui/assets/index-3f2a.js") << "console.log(1)";
  std::ofstream(dir_ + "/secret") << "outside";

  for (const char* page : {"/", "/workflows/default/hello", "/spokes", "/submit", "/login"}) {
    auto r = anonymous->Get(page);
    ASSERT_TRUE(r) << page;
    EXPECT_EQ(r->status, 200) << page;
    EXPECT_EQ(r->body, "<!doctype html><title>hubspoke</title>") << page;
    EXPECT_EQ(r->get_header_value("Content-Type"), "text/html; charset=utf-8");
  }
  auto js = anonymous->Get("/assets/index-3f2a.js");
  ASSERT_TRUE(js);
  EXPECT_EQ(js->status, 200);
  EXPECT_EQ(js->get_header_value("Content-Type"), "text/javascript; charset=utf-8");
  EXPECT_EQ(js->get_header_value("Cache-Control"), "public, max-age=31536000, immutable");

  EXPECT_EQ(ToReply(anonymous->Get("/assets/%2e%2e/%2e%2e/secret")).status, 404);
  EXPECT_EQ(ToReply(anonymous->Get("/assets/nope.js")).status, 404);
  // The API keeps its token and its JSON errors.
  EXPECT_EQ(ToReply(anonymous->Get("/api/v1/workflows/default")).status, 401);
  Reply unknown = Get("/api/v1/nothing-here");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(unknown.body["code"], 5) << unknown.text;
}

TEST_F(HttpApiTest, BrowsersGetGzipNotSlowBrotli) {
  auto c = NewClient();
  c->set_bearer_token_auth(kToken);
  c->set_decompress(false);
  auto r = c->Get("/api/v1/workflows/default", {{"Accept-Encoding", "gzip, deflate, br, zstd"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("Content-Encoding"), "gzip");
  auto br_only = c->Get("/api/v1/workflows/default", {{"Accept-Encoding", "br"}});
  ASSERT_TRUE(br_only);
  EXPECT_EQ(br_only->get_header_value("Content-Encoding"), "");
  EXPECT_EQ(br_only->body.rfind("{\"", 0), 0u) << br_only->body;
}

TEST_F(HttpApiTest, CreatedWorkflowRunsToSucceededWithArgoShapedNodes) {
  std::string name = Create(Hello("hello"));
  ASSERT_EQ(name, "hello");
  Reply r = WaitFor(name, {"Succeeded", "Failed", "Error"});
  ASSERT_EQ(r.body["status"]["phase"], "Succeeded") << r.text;
  EXPECT_EQ(r.body["kind"], "Workflow");
  EXPECT_EQ(r.body["metadata"]["namespace"], "default");
  const Json& nodes = r.body["status"]["nodes"];
  ASSERT_TRUE(nodes.is_object());
  ASSERT_TRUE(nodes.contains("hello")) << nodes.dump();
  EXPECT_EQ(nodes["hello"]["type"], "Steps");
  bool greeted = false;
  for (const auto& [id, node] : nodes.items()) {
    EXPECT_EQ(node["id"], id);
    if (node["displayName"] == "greet") {
      greeted = true;
      EXPECT_EQ(node["type"], "Pod");
      EXPECT_EQ(node["phase"], "Succeeded");
      EXPECT_EQ(node["outputs"]["result"], "hello api");
    }
  }
  EXPECT_TRUE(greeted) << nodes.dump();

  // A client following only the phase leaves the nodes out.
  for (const char* fields : {"-status.nodes", "metadata,status.phase"}) {
    Reply bare = Get(std::string("/api/v1/workflows/default/hello?fields=") + fields);
    EXPECT_EQ(bare.body["status"]["phase"], "Succeeded") << fields;
    EXPECT_FALSE(bare.body["status"].contains("nodes")) << fields;
  }
  EXPECT_EQ(Get("/api/v1/workflows/default/hello?fields=status.nodes").body["status"]["nodes"],
            nodes);

  Reply again = Post("/api/v1/workflows/default", Json{{"workflow", Hello("hello")}});
  EXPECT_EQ(again.status, 409) << again.text;
  EXPECT_EQ(again.body["code"], 6);
}

TEST_F(HttpApiTest, SubmitsFromATemplateWithParameters) {
  Json tmpl = Json::parse(R"({
    "apiVersion": "argoproj.io/v1alpha1", "kind": "WorkflowTemplate",
    "metadata": {"name": "greeter"},
    "spec": {"entrypoint": "main",
      "arguments": {"parameters": [{"name": "msg", "value": "default"}]},
      "templates": [{"name": "main",
        "container": {"image": "alpine:3", "command": ["echo", "{{workflow.parameters.msg}}"]}}]}})");
  Reply created = Post("/api/v1/workflow-templates/default", Json{{"template", tmpl}});
  ASSERT_EQ(created.status, 200) << created.text;
  EXPECT_EQ(created.body["metadata"]["name"], "greeter");
  EXPECT_EQ(Post("/api/v1/workflow-templates/default", Json{{"template", tmpl}}).status, 409);
  Reply listed = Get("/api/v1/workflow-templates/default");
  ASSERT_EQ(listed.body["items"].size(), 1u) << listed.text;
  EXPECT_EQ(Get("/api/v1/workflow-templates/default/greeter").status, 200);
  EXPECT_EQ(Get("/api/v1/workflow-templates/default/nope").status, 404);

  Reply submitted =
      Post("/api/v1/workflows/default/submit", Json{{"resourceKind", "WorkflowTemplate"},
                                                    {"resourceName", "greeter"},
                                                    {"submitOptions",
                                                     {{"parameters", {"msg=from-template"}},
                                                      {"name", "greeted"},
                                                      {"labels", "team=infra,tier=1"}}}});
  ASSERT_EQ(submitted.status, 200) << submitted.text;
  EXPECT_EQ(submitted.body["metadata"]["name"], "greeted");
  EXPECT_EQ(submitted.body["metadata"]["labels"]["team"], "infra");
  Reply done = WaitFor("greeted", {"Succeeded", "Failed", "Error"});
  ASSERT_EQ(done.body["status"]["phase"], "Succeeded") << done.text;
  bool saw = false;
  for (const auto& [id, node] : done.body["status"]["nodes"].items()) {
    if (node["type"] == "Pod") saw = node["outputs"]["result"] == "from-template";
  }
  EXPECT_TRUE(saw) << done.text;

  Reply missing = Post("/api/v1/workflows/default/submit",
                       Json{{"resourceKind", "WorkflowTemplate"}, {"resourceName", "nope"}});
  EXPECT_EQ(missing.status, 404) << missing.text;
  EXPECT_EQ(Delete("/api/v1/workflow-templates/default/greeter").status, 200);
  EXPECT_EQ(Get("/api/v1/workflow-templates/default/greeter").status, 404);
}

TEST_F(HttpApiTest, ListFiltersByLabelPhaseAndPrefixAndPages) {
  for (const char* name : {"list-a", "list-b", "list-c"}) {
    Create(Hello(name, {{"team", std::string(name) == "list-c" ? "web" : "infra"}}));
  }
  Create(Hello("other-d"));
  for (const char* name : {"list-a", "list-b", "list-c", "other-d"}) WaitFor(name, {"Succeeded"});

  auto names = [](const Reply& r) {
    std::set<std::string> out;
    for (const Json& item : r.body["items"]) out.insert(item["metadata"]["name"]);
    return out;
  };
  Reply infra = Get("/api/v1/workflows/default?listOptions.labelSelector=team%3Dinfra");
  EXPECT_EQ(names(infra), (std::set<std::string>{"list-a", "list-b"})) << infra.text;
  EXPECT_FALSE(infra.body["items"][0]["status"].contains("nodes"));
  Reply not_infra = Get("/api/v1/workflows/default?listOptions.labelSelector=team!%3Dinfra");
  EXPECT_EQ(names(not_infra), (std::set<std::string>{"list-c", "other-d"}));
  Reply completed = Get(
      "/api/v1/workflows/default?listOptions.labelSelector=workflows.argoproj.io/"
      "completed%3Dtrue&namePrefix=list-&phase=Succeeded&phase=Failed&fields=items.status.nodes");
  EXPECT_EQ(names(completed), (std::set<std::string>{"list-a", "list-b", "list-c"}));
  EXPECT_TRUE(completed.body["items"][0]["status"].contains("nodes"));
  EXPECT_TRUE(names(Get("/api/v1/workflows/default?phase=Running")).empty());
  EXPECT_TRUE(names(Get("/api/v1/workflows/elsewhere")).empty());

  std::vector<std::string> paged;
  std::string token;
  for (int page = 0; page < 10; ++page) {
    Reply r = Get("/api/v1/workflows/default?listOptions.limit=1" +
                  (token.empty() ? "" : "&listOptions.continue=" + token));
    ASSERT_EQ(r.status, 200) << r.text;
    ASSERT_LE(r.body["items"].size(), 1u);
    for (const Json& item : r.body["items"]) paged.push_back(item["metadata"]["name"]);
    token = r.body["metadata"].value("continue", "");
    if (token.empty()) break;
  }
  EXPECT_EQ(paged.size(), 4u);
  EXPECT_EQ(std::set<std::string>(paged.begin(), paged.end()).size(), 4u);

  Reply bad = Get("/api/v1/workflows/default?listOptions.labelSelector=a%20in%20b");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.body["field"], "listOptions.labelSelector");
  EXPECT_EQ(Get("/api/v1/workflows/default?listOptions.continue=zz").body["field"],
            "listOptions.continue");
  EXPECT_EQ(Get("/api/v1/workflows/default?phase=Sleeping").body["field"], "phase");
}

TEST_F(HttpApiTest, LintReportsDiagnostics) {
  Json broken = Hello("broken");
  broken["spec"]["entrypoint"] = "no-such-template";
  Reply r = Post("/api/v1/workflows/default/lint", Json{{"workflow", broken}});
  EXPECT_EQ(r.status, 400) << r.text;
  EXPECT_EQ(r.body["code"], 3);
  ASSERT_FALSE(r.body["diagnostics"].empty());
  EXPECT_EQ(r.body["diagnostics"][0]["severity"], "error");
  EXPECT_NE(r.body["message"].get<std::string>().find("no-such-template"), std::string::npos);

  Reply fine = Post("/api/v1/workflows/default/lint", Json{{"workflow", Hello("fine")}});
  EXPECT_EQ(fine.status, 200) << fine.text;
  EXPECT_TRUE(fine.body["diagnostics"].is_array());

  Reply submitted = Post("/api/v1/workflows/default", Json{{"workflow", broken}});
  EXPECT_EQ(submitted.status, 400) << submitted.text;
  EXPECT_EQ(Get("/api/v1/workflows/default/broken").status, 404);
}

TEST_F(HttpApiTest, BadRequestsAre400sNamingTheField) {
  struct Case {
    std::string path;
    std::string body;
    std::string field;
  };
  Json other_namespace = Hello("x");
  other_namespace["metadata"]["namespace"] = "other";
  std::vector<Case> cases = {
      {"/api/v1/workflows/default", "{not json", "workflow"},
      {"/api/v1/workflows/default", "{}", "workflow"},
      {"/api/v1/workflows/default", "[1,2]", "workflow"},
      {"/api/v1/workflows/default", R"({"workflow": 5})", "workflow"},
      {"/api/v1/workflows/default", Json{{"workflow", Hello("x")}, {"serverDryRun", "yes"}}.dump(),
       "serverDryRun"},
      {"/api/v1/workflows/default", Json{{"workflow", {{"kind", "Pod"}}}}.dump(), "workflow.kind"},
      {"/api/v1/workflows/default", Json{{"workflow", other_namespace}}.dump(),
       "workflow.metadata.namespace"},
      {"/api/v1/workflows/default", Json{{"workflow", {{"spec", {{"templates", 7}}}}}}.dump(),
       "workflow"},
      {"/api/v1/workflows/default/submit", R"({"resourceKind": "WorkflowTemplate"})",
       "resourceName"},
      {"/api/v1/workflows/default/submit", R"({"resourceKind": 1, "resourceName": "t"})",
       "resourceKind"},
      {"/api/v1/workflows/default/submit",
       R"({"resourceKind": "WorkflowTemplate", "resourceName": "t",
           "submitOptions": {"parameters": "a=b"}})",
       "submitOptions.parameters"},
      {"/api/v1/workflows/default/submit",
       R"({"resourceKind": "WorkflowTemplate", "resourceName": "t",
           "submitOptions": {"parameters": ["novalue"]}})",
       "submitOptions.parameters[0]"},
      {"/api/v1/workflow-templates/default", R"({"workflow": {}})", "template"},
  };
  for (const Case& c : cases) {
    Reply r = Post(c.path, c.body);
    EXPECT_EQ(r.status, 400) << c.body << " -> " << r.text;
    EXPECT_EQ(r.body["code"], 3) << r.text;
    EXPECT_EQ(r.body["field"], c.field) << c.body << " -> " << r.text;
  }
  Reply huge = Post("/api/v1/workflows/default", std::string(2 << 20, ' '));
  EXPECT_EQ(huge.status, 413);
  EXPECT_EQ(huge.body["code"], 8) << huge.text;
  EXPECT_EQ(Get("/healthz").status, 200) << "the hub still serves";
}

TEST_F(HttpApiTest, UnknownWorkflowIs404AndDeleteRemovesOne) {
  for (const char* path :
       {"/api/v1/workflows/default/nope", "/api/v1/workflows/default/nope/log"}) {
    Reply r = Get(path);
    EXPECT_EQ(r.status, 404) << path;
    EXPECT_EQ(r.body["code"], 5);
  }
  EXPECT_EQ(Put("/api/v1/workflows/default/nope/stop").status, 404);
  EXPECT_EQ(Delete("/api/v1/workflows/default/nope").status, 404);
  EXPECT_EQ(Get("/api/v1/no/such/endpoint").body["code"], 5);

  Create(Hello("doomed"));
  WaitFor("doomed", {"Succeeded"});
  EXPECT_EQ(Get("/api/v1/workflows/other/doomed").status, 404) << "another namespace";
  Reply deleted = Delete("/api/v1/workflows/default/doomed");
  EXPECT_EQ(deleted.status, 200) << deleted.text;
  EXPECT_EQ(deleted.body, Json::object());
  EXPECT_EQ(Get("/api/v1/workflows/default/doomed").status, 404);
}

TEST_F(HttpApiTest, TerminateAndStopEndRunningWorkflows) {
  for (const std::string command : {"terminate", "stop"}) {
    std::string name = Create(Sleeper("sleeper-" + command));
    WaitFor(name, {"Running"});
    auto started = Clock::now();
    Reply r = Put("/api/v1/workflows/default/" + name + "/" + command);
    EXPECT_EQ(r.status, 200) << r.text;
    Reply done = WaitFor(name, {"Failed", "Error", "Succeeded"});
    EXPECT_NE(done.body["status"]["phase"], "Succeeded") << done.text;
    EXPECT_LT(Clock::now() - started, std::chrono::seconds(20));
    Reply again = Put("/api/v1/workflows/default/" + name + "/" + command);
    EXPECT_EQ(again.status, 400) << again.text;
    EXPECT_EQ(again.body["code"], 9);
  }
}

TEST_F(HttpApiTest, RetryRunsAFailedWorkflowAgainUnderItsName) {
  std::string name = Create(Sleeper("retried"));
  WaitFor(name, {"Running"});
  EXPECT_EQ(Put("/api/v1/workflows/default/" + name + "/terminate").status, 200);
  WaitFor(name, {"Failed"});
  Reply bad = Put("/api/v1/workflows/default/" + name + "/retry", Json{{"restartSuccessful", 1}});
  EXPECT_EQ(bad.status, 400) << bad.text;
  EXPECT_EQ(bad.body["field"], "restartSuccessful");
  Reply r = Put("/api/v1/workflows/default/" + name + "/retry");
  EXPECT_EQ(r.status, 200) << r.text;
  EXPECT_EQ(r.body["metadata"]["name"], name);
  WaitFor(name, {"Running"});
  EXPECT_EQ(Put("/api/v1/workflows/default/" + name + "/terminate").status, 200);
  WaitFor(name, {"Failed"});

  Create(Hello("fine"));
  WaitFor("fine", {"Succeeded"});
  Reply refused = Put("/api/v1/workflows/default/fine/retry");
  EXPECT_EQ(refused.status, 400) << refused.text;
  EXPECT_EQ(refused.body["code"], 9);
}

TEST_F(HttpApiTest, LogsOfAFinishedWorkflow) {
  Create(Hello("logged"));
  WaitFor("logged", {"Succeeded"});
  auto lines = [](const Reply& r) {
    std::vector<Json> out;
    std::stringstream in(r.text);
    for (std::string line; std::getline(in, line);) out.push_back(Json::parse(line));
    return out;
  };
  Reply all = Get("/api/v1/workflows/default/logged/log");
  ASSERT_EQ(all.status, 200) << all.text;
  std::vector<Json> got = lines(all);
  ASSERT_EQ(got.size(), 1u) << all.text;
  EXPECT_EQ(got[0]["result"]["content"], "hello api");
  EXPECT_EQ(got[0]["result"]["podName"], "greet");
  EXPECT_EQ(lines(Get("/api/v1/workflows/default/logged/log?podName=greet&logOptions.follow=true"))
                .size(),
            1u);
  EXPECT_TRUE(lines(Get("/api/v1/workflows/default/logged/log?grep=^bye")).empty());
  EXPECT_EQ(Get("/api/v1/workflows/default/logged/log?podName=nobody").status, 404);
  EXPECT_EQ(Get("/api/v1/workflows/default/logged/log?grep=(").body["field"], "grep");
}

TEST_F(HttpApiTest, FollowedLogsStreamUntilTheWorkflowFinishes) {
  Json slow = Json::parse(R"({"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow",
    "metadata": {"name": "slow"},
    "spec": {"entrypoint": "main", "templates": [{"name": "main", "script": {"image": "alpine",
      "command": ["sh"], "source": "echo one; sleep 0.5; echo two; sleep 0.5; echo three"}}]}})");
  Create(slow);
  WaitFor("slow", {"Running"});
  Reply r = Get("/api/v1/workflows/default/slow/log?logOptions.follow=true");
  ASSERT_EQ(r.status, 200) << r.text;
  EXPECT_EQ(r.text, R"({"result":{"content":"one","podName":"slow"}})"
                    "\n"
                    R"({"result":{"content":"two","podName":"slow"}})"
                    "\n"
                    R"({"result":{"content":"three","podName":"slow"}})"
                    "\n");
  EXPECT_EQ(Get("/api/v1/workflows/default/slow").body["status"]["phase"], "Succeeded");
}

// Follows /api/v1/workflow-events/default?<query> on a thread of its own, from its construction
// until an object it is sent has finished Succeeded (or kTimeout passed).
class Watcher {
 public:
  Watcher(int port, const std::string& query) {
    thread_ = std::thread([this, port, query] {
      auto deadline = Clock::now() + kTimeout;
      httplib::Client c("127.0.0.1", port);
      c.set_read_timeout(20, 0);
      c.set_bearer_token_auth(kToken);
      std::string buffer;
      c.Get("/api/v1/workflow-events/default?" + query, [&](const char* data, size_t n) {
        buffer.append(data, n);
        bool done = false;
        for (size_t nl; (nl = buffer.find('\n')) != std::string::npos;) {
          lines.push_back(buffer.substr(0, nl));
          buffer.erase(0, nl + 1);
          done = Json::parse(lines.back())["result"]["object"]["status"].value("phase", "") ==
                 "Succeeded";
        }
        return !done && Clock::now() < deadline;
      });
    });
  }
  ~Watcher() {
    if (thread_.joinable()) thread_.join();
  }
  // Waits for the watch to end; returns the events it got.
  std::vector<Json> Events() {
    thread_.join();
    std::vector<Json> events;
    for (const std::string& line : lines) events.push_back(Json::parse(line));
    return events;
  }

  std::vector<std::string> lines;  // as sent

 private:
  std::thread thread_;
};

TEST_F(HttpApiTest, WatchStreamSeesTheWorkflowSucceed) {
  Watcher watch(port_, "listOptions.fieldSelector=metadata.name%3Dwatched");
  Create(Hello("watched"));
  Create(Hello("unwatched"));
  std::vector<Json> events = watch.Events();
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back()["result"]["object"]["status"]["phase"], "Succeeded");
  EXPECT_EQ(events.front()["result"]["type"], "ADDED");
  for (const Json& e : events) {
    EXPECT_EQ(e["result"]["object"]["metadata"]["name"], "watched");
    EXPECT_FALSE(e["result"]["object"]["status"].contains("nodes"));
  }
}

// A watch without nodes is sent the workflow when its row changes, not each time one of its
// nodes does: a fan-out's tasks do not repeat the same object to every watcher.
TEST_F(HttpApiTest, WatchWithoutNodesSendsEachStateOnce) {
  Watcher watch(port_, "listOptions.fieldSelector=metadata.name%3Dfan");
  Json fan = Hello("fan");
  fan["spec"]["templates"][0]["steps"][0][0]["withSequence"] = {{"count", "40"}};
  Create(fan);
  std::vector<Json> events = watch.Events();
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back()["result"]["object"]["status"]["phase"], "Succeeded");
  for (size_t i = 1; i < events.size(); ++i) {
    EXPECT_NE(events[i]["result"]["object"], events[i - 1]["result"]["object"])
        << "event " << i << " repeats the one before";
  }
}

// A watch with nodes gets each object whole (every node, in the order they were made), ends with
// the finished workflow, and is not sent the whole workflow again at every commit of a fan-out.
TEST_F(HttpApiTest, WatchWithNodesEndsWithEveryNodeFinished) {
  constexpr int kTasks = 200;
  Watcher watch(port_, "listOptions.fieldSelector=metadata.name%3Dwide&fields=status.nodes");
  Json wide = Hello("wide");
  wide["spec"]["templates"][0]["steps"][0][0]["withSequence"] = {{"count", std::to_string(kTasks)}};
  Create(wide);
  std::vector<Json> events = watch.Events();
  ASSERT_FALSE(events.empty());
  const Json& last = events.back()["result"]["object"];
  ASSERT_EQ(last["status"].value("phase", ""), "Succeeded");
  int tasks = 0;
  for (const auto& [id, node] : last["status"]["nodes"].items()) {
    EXPECT_EQ(node.value("phase", ""), "Succeeded") << id;
    if (node.value("type", "") == "Pod") ++tasks;
  }
  EXPECT_EQ(tasks, kTasks);
  // The nodes come in the order the hub made them (this test's JSON sorts keys: read the text).
  const std::string& text = watch.lines.back();
  size_t item0 = text.find(R"x("displayName":"greet(0:0)")x");
  size_t item1 = text.find(R"x("displayName":"greet(1:1)")x");
  ASSERT_NE(item1, std::string::npos);
  EXPECT_LT(item0, item1);
  EXPECT_LT(events.size(), static_cast<size_t>(kTasks / 2));
}

// Opens a watch stream on a raw socket; returns the socket and the response head it got.
std::pair<int, std::string> OpenStream(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval timeout{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) return {fd, ""};
  std::string request =
      "GET /api/v1/workflow-events/default?listOptions.fieldSelector=metadata.name%3Dquiet "
      "HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer " +
      std::string(kToken) + "\r\n\r\n";
  EXPECT_EQ(write(fd, request.data(), request.size()), static_cast<ssize_t>(request.size()));
  std::string head;
  char buf[512];
  while (head.find("\r\n\r\n") == std::string::npos) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n <= 0) break;
    head.append(buf, n);
  }
  return {fd, head};
}

TEST_F(HttpApiTest, StreamsAreCappedAndFreedWhenTheirClientsHangUp) {
  auto [first, first_head] = OpenStream(port_);
  auto [second, second_head] = OpenStream(port_);
  EXPECT_NE(first_head.find("200 OK"), std::string::npos) << first_head;
  EXPECT_NE(second_head.find("200 OK"), std::string::npos) << second_head;
  Reply refused = Get("/api/v1/workflow-events/default");
  EXPECT_EQ(refused.status, 503) << refused.text;
  EXPECT_EQ(refused.body["code"], 14);
  close(first);
  close(second);
  // The streams notice the hang-up within their one-second wait and give their slots back.
  bool accepted = false;
  for (auto deadline = Clock::now() + std::chrono::seconds(10);
       !accepted && Clock::now() < deadline;
       std::this_thread::sleep_for(std::chrono::milliseconds(100))) {
    auto [fd, head] = OpenStream(port_);
    close(fd);
    accepted = head.find("200 OK") != std::string::npos;
  }
  EXPECT_TRUE(accepted);
}

TEST_F(HttpApiTest, CronWorkflowsAreCreatedListedSuspendedAndDeleted) {
  const std::string base = "/api/v1/cron-workflows/default";
  Json cron = Json::parse(R"({
    "metadata": {"name": "nightly"},
    "spec": {"schedule": "0 2 * * *", "timezone": "Europe/Berlin",
             "workflowSpec": {"entrypoint": "main", "templates": [
               {"name": "main", "container": {"image": "alpine:3", "command": ["true"]}}]}}})");
  Reply created = Post(base, Json{{"cronWorkflow", cron}});
  ASSERT_EQ(created.status, 200) << created.text;
  EXPECT_EQ(created.body["kind"], "CronWorkflow");
  EXPECT_EQ(created.body["metadata"]["namespace"], "default");
  EXPECT_FALSE(created.body["metadata"].value("creationTimestamp", "").empty());
  EXPECT_EQ(created.body["status"]["active"], Json::array());

  Reply again = Post(base, Json{{"cronWorkflow", cron}});
  EXPECT_EQ(again.status, 409);
  EXPECT_EQ(again.body["code"], 6);

  Json bad = cron;
  bad["metadata"]["name"] = "bad";
  bad["spec"]["schedule"] = "0 25 * * *";
  Reply refused = Post(base, Json{{"cronWorkflow", bad}});
  EXPECT_EQ(refused.status, 400);
  EXPECT_EQ(refused.body["code"], 3);
  EXPECT_NE(refused.body.value("message", "").find("hour field \"25\": 25 is out of range 0-23"),
            std::string::npos)
      << refused.text;

  Reply list = Get(base);
  ASSERT_EQ(list.status, 200);
  ASSERT_EQ(list.body["items"].size(), 1u);
  EXPECT_EQ(list.body["items"][0]["metadata"]["name"], "nightly");
  EXPECT_EQ(Get("/api/v1/cron-workflows/other").body["items"].size(), 0u);
  EXPECT_EQ(Get("/api/v1/cron-workflows/other/nightly").status, 404);

  Reply suspended = Put(base + "/nightly/suspend");
  ASSERT_EQ(suspended.status, 200) << suspended.text;
  EXPECT_EQ(suspended.body["spec"]["suspend"], true);
  EXPECT_EQ(Put(base + "/nightly/resume").body["spec"]["suspend"], false);

  Json updated = cron;
  updated["spec"]["schedule"] = "@hourly";
  Reply put = Put(base + "/nightly", Json{{"cronWorkflow", updated}});
  ASSERT_EQ(put.status, 200) << put.text;
  EXPECT_EQ(put.body["spec"]["schedule"], "@hourly");
  EXPECT_EQ(put.body["metadata"]["creationTimestamp"],
            created.body["metadata"]["creationTimestamp"]);
  EXPECT_EQ(Put(base + "/other", Json{{"cronWorkflow", updated}}).status, 400);  // name differs

  Reply run = Post("/api/v1/workflows/default/submit",
                   Json{{"resourceKind", "CronWorkflow"}, {"resourceName", "nightly"}});
  ASSERT_EQ(run.status, 200) << run.text;
  EXPECT_EQ(run.body["metadata"]["labels"]["workflows.argoproj.io/cron-workflow"], "nightly");

  auto anonymous = NewClient();
  EXPECT_EQ(ToReply(anonymous->Get(base.c_str())).status, 401);

  EXPECT_EQ(Delete(base + "/nightly").status, 200);
  Reply gone = Get(base + "/nightly");
  EXPECT_EQ(gone.status, 404);
  EXPECT_EQ(gone.body["code"], 5);
  EXPECT_EQ(Put(base + "/nightly/suspend").status, 404);
}

}  // namespace
}  // namespace hubspoke::hub
