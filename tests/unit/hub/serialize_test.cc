#include "hub/serialize.h"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <nlohmann/json.hpp>

namespace hubspoke::hub {
namespace {

using engine::Node;
using engine::NodeType;
using engine::Phase;
using engine::WorkflowStatus;
using Json = nlohmann::json;

constexpr Micros kT0 = 1'700'000'000'000'000;  // 2023-11-14T22:13:20Z

Node MakeNode(std::string id, std::string display, NodeType type, Phase phase) {
  Node n;
  n.id = std::move(id);
  n.display_name = std::move(display);
  n.name = "fan[0]." + n.display_name;
  n.type = type;
  n.phase = phase;
  return n;
}

// A steps workflow: group [0] fans out `process` over a, b, c (c failed); group [1] is a resource
// step that created child workflow fan-child.
WorkflowStatus FanoutWorkflow() {
  WorkflowStatus w;
  w.name = "fan";
  w.namespace_ = "argo";
  w.labels = {{"team", "infra"}};
  w.phase = Phase::kFailed;
  w.created_at = kT0;
  w.started_at = kT0 + 250'000;
  w.finished_at = kT0 + 5'250'000;
  w.message = "child 'fan-3' failed";
  w.parameters = {{"repos", R"(["a","b","c"])"}};
  w.outputs = {{"count", "3"}};

  Node root = MakeNode("fan", "fan", NodeType::kSteps, Phase::kFailed);
  root.name = "fan";
  root.template_name = "main";
  root.children = {"fan-1", "fan-5"};
  root.started_at = w.started_at;
  root.finished_at = w.finished_at;
  w.nodes.push_back(root);

  Node group = MakeNode("fan-1", "[0]", NodeType::kStepGroup, Phase::kFailed);
  group.boundary_id = "fan";
  group.children = {"fan-2", "fan-3", "fan-4"};
  w.nodes.push_back(group);
  const char* items[] = {"a", "b", "c"};
  for (int i = 0; i < 3; ++i) {
    Node item = MakeNode("fan-" + std::to_string(i + 2),
                         "process(" + std::to_string(i) + ":" + items[i] + ")", NodeType::kPod,
                         i == 2 ? Phase::kFailed : Phase::kSucceeded);
    item.template_name = "worker";
    item.boundary_id = "fan";
    item.fanout = "process";
    item.item_index = i;
    item.host_node_name = "spoke-" + std::to_string(i % 2);
    item.started_at = kT0 + 500'000;
    item.finished_at = kT0 + 2'500'000 + i * 123'456;
    item.inputs = {{"repo", items[i]}};
    item.exit_code = i == 2 ? 1 : 0;
    item.result = std::string("done ") + items[i];
    if (i == 2) item.message = "Error (exit code 1)";
    if (i == 0) item.outputs = {{"sha", "abc123"}};
    w.nodes.push_back(item);
  }
  Node create = MakeNode("fan-5", "[1]", NodeType::kStepGroup, Phase::kSucceeded);
  create.boundary_id = "fan";
  create.children = {"fan-6"};
  w.nodes.push_back(create);
  Node resource = MakeNode("fan-6", "spawn", NodeType::kPod, Phase::kSucceeded);
  resource.template_name = "spawn-child";
  resource.boundary_id = "fan";
  resource.host_node_name = "hub";
  resource.child_workflow = "fan-child";
  resource.retries = 2;
  w.nodes.push_back(resource);
  return w;
}

spec::Workflow Manifest() {
  spec::Workflow m;
  m.api_version = "argoproj.io/v1alpha1";
  m.kind = "Workflow";
  m.metadata.generate_name = "fan-";
  m.source_json =
      R"({"apiVersion":"argoproj.io/v1alpha1","kind":"Workflow","metadata":{"generateName":"fan-"},)"
      R"("spec":{"entrypoint":"main","arguments":{"parameters":[{"name":"repos","value":"[]"}]},)"
      R"("templates":[{"name":"main","steps":[]}]}})";
  return m;
}

void ExpectSameNode(const Node& a, const Node& b) {
  SCOPED_TRACE(a.id);
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.display_name, b.display_name);
  EXPECT_EQ(a.type, b.type);
  EXPECT_EQ(a.template_name, b.template_name);
  EXPECT_EQ(a.phase, b.phase);
  EXPECT_EQ(a.boundary_id, b.boundary_id);
  EXPECT_EQ(a.children, b.children);
  EXPECT_EQ(a.started_at, b.started_at);
  EXPECT_EQ(a.finished_at, b.finished_at);
  EXPECT_EQ(a.message, b.message);
  ASSERT_EQ(a.inputs.size(), b.inputs.size());
  for (size_t i = 0; i < a.inputs.size(); ++i) {
    EXPECT_EQ(a.inputs[i].name, b.inputs[i].name);
    EXPECT_EQ(a.inputs[i].value, b.inputs[i].value);
  }
  EXPECT_EQ(a.result, b.result);
  EXPECT_EQ(a.exit_code, b.exit_code);
  ASSERT_EQ(a.outputs.size(), b.outputs.size());
  for (size_t i = 0; i < a.outputs.size(); ++i) {
    EXPECT_EQ(a.outputs[i].name, b.outputs[i].name);
    EXPECT_EQ(a.outputs[i].value, b.outputs[i].value);
  }
  EXPECT_EQ(a.host_node_name, b.host_node_name);
  EXPECT_EQ(a.fanout, b.fanout);
  EXPECT_EQ(a.item_index, b.item_index);
  EXPECT_EQ(a.child_workflow, b.child_workflow);
  EXPECT_EQ(a.retries, b.retries);
}

void ExpectSameWorkflow(const WorkflowStatus& a, const WorkflowStatus& b) {
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.namespace_, b.namespace_);
  EXPECT_EQ(a.labels, b.labels);
  EXPECT_EQ(a.parent, b.parent);
  EXPECT_EQ(a.parent_node, b.parent_node);
  EXPECT_EQ(a.phase, b.phase);
  EXPECT_EQ(a.created_at, b.created_at);
  EXPECT_EQ(a.started_at, b.started_at);
  EXPECT_EQ(a.finished_at, b.finished_at);
  EXPECT_EQ(a.message, b.message);
  ASSERT_EQ(a.outputs.size(), b.outputs.size());
  ASSERT_EQ(a.parameters.size(), b.parameters.size());
  for (size_t i = 0; i < a.parameters.size(); ++i) {
    EXPECT_EQ(a.parameters[i].name, b.parameters[i].name);
    EXPECT_EQ(a.parameters[i].value, b.parameters[i].value);
  }
  ASSERT_EQ(a.nodes.size(), b.nodes.size());
  for (size_t i = 0; i < a.nodes.size(); ++i) ExpectSameNode(a.nodes[i], b.nodes[i]);
}

TEST(WorkflowToJsonTest, IsShapedLikeArgo) {
  Json j = Json::parse(WorkflowToJson(Manifest(), FanoutWorkflow(), /*with_nodes=*/true));
  EXPECT_EQ(j["apiVersion"], "argoproj.io/v1alpha1");
  EXPECT_EQ(j["kind"], "Workflow");
  EXPECT_EQ(j["metadata"]["name"], "fan");
  EXPECT_EQ(j["metadata"]["namespace"], "argo");
  EXPECT_EQ(j["metadata"]["labels"]["team"], "infra");
  EXPECT_EQ(j["metadata"]["creationTimestamp"], "2023-11-14T22:13:20Z");
  EXPECT_FALSE(j["metadata"].contains("ownerReferences"));
  EXPECT_EQ(j["spec"]["entrypoint"], "main");
  // The effective argument replaces the manifest's value.
  EXPECT_EQ(j["spec"]["arguments"]["parameters"][0]["value"], R"(["a","b","c"])");

  const Json& status = j["status"];
  EXPECT_EQ(status["phase"], "Failed");
  EXPECT_EQ(status["startedAt"], "2023-11-14T22:13:20Z");
  EXPECT_EQ(status["finishedAt"], "2023-11-14T22:13:25Z");
  EXPECT_EQ(status["message"], "child 'fan-3' failed");
  EXPECT_EQ(status["progress"], "3/4");  // 3 of the 4 Pod nodes (items + resource) succeeded
  EXPECT_EQ(status["outputs"]["parameters"][0]["name"], "count");
  ASSERT_EQ(status["nodes"].size(), 7u);

  const Json& failed = status["nodes"]["fan-4"];
  EXPECT_EQ(failed["id"], "fan-4");
  EXPECT_EQ(failed["name"], "fan[0].process(2:c)");
  EXPECT_EQ(failed["displayName"], "process(2:c)");
  EXPECT_EQ(failed["type"], "Pod");
  EXPECT_EQ(failed["templateName"], "worker");
  EXPECT_EQ(failed["phase"], "Failed");
  EXPECT_EQ(failed["boundaryID"], "fan");
  EXPECT_EQ(failed["message"], "Error (exit code 1)");
  EXPECT_EQ(failed["startedAt"], "2023-11-14T22:13:20Z");
  EXPECT_EQ(failed["progress"], "0/1");
  EXPECT_EQ(failed["inputs"]["parameters"][0], Json({{"name", "repo"}, {"value", "c"}}));
  EXPECT_EQ(failed["outputs"]["exitCode"], "1");  // a string, as Argo writes it
  EXPECT_EQ(failed["outputs"]["result"], "done c");
  EXPECT_EQ(failed["hostNodeName"], "spoke-0");
  EXPECT_EQ(failed["hubspoke"]["fanout"], "process");
  EXPECT_EQ(failed["hubspoke"]["itemIndex"], 2);

  const Json& root = status["nodes"]["fan"];
  EXPECT_EQ(root["type"], "Steps");
  EXPECT_EQ(root["children"], Json({"fan-1", "fan-5"}));
  EXPECT_FALSE(root.contains("progress"));
  EXPECT_EQ(status["nodes"]["fan-6"]["hubspoke"]["childWorkflow"], "fan-child");
}

TEST(WorkflowToJsonTest, OmitsEmptyFields) {
  WorkflowStatus w;
  w.name = "new";
  w.nodes.push_back(MakeNode("new", "new", NodeType::kPod, Phase::kPending));
  Json j = Json::parse(WorkflowToJson(spec::Workflow{}, w, true));
  EXPECT_EQ(j["metadata"], Json({{"name", "new"}}));
  EXPECT_EQ(j["spec"], Json::object());
  EXPECT_EQ(j["status"]["phase"], "Pending");
  EXPECT_FALSE(j["status"].contains("startedAt"));
  EXPECT_FALSE(j["status"].contains("message"));
  EXPECT_FALSE(j["status"].contains("outputs"));
  const Json& node = j["status"]["nodes"]["new"];
  for (const char* key : {"message", "startedAt", "finishedAt", "boundaryID", "children", "inputs",
                          "outputs", "hostNodeName", "templateName", "hubspoke"}) {
    EXPECT_FALSE(node.contains(key)) << key;
  }
}

TEST(WorkflowToJsonTest, WithoutNodesLeavesThemOut) {
  Json j = Json::parse(WorkflowToJson(Manifest(), FanoutWorkflow(), /*with_nodes=*/false));
  EXPECT_FALSE(j["status"].contains("nodes"));
  EXPECT_EQ(j["status"]["progress"], "3/4");
}

TEST(WorkflowToJsonTest, ChildWorkflowNamesItsParent) {
  WorkflowStatus child;
  child.name = "fan-child";
  child.parent = "fan";
  child.parent_node = "fan-6";
  Json j = Json::parse(WorkflowToJson(spec::Workflow{}, child, false));
  EXPECT_EQ(j["metadata"]["ownerReferences"][0]["kind"], "Workflow");
  EXPECT_EQ(j["metadata"]["ownerReferences"][0]["name"], "fan");
  Result<WorkflowStatus> back = WorkflowStatusFromJson(j.dump(), {});
  ASSERT_TRUE(back.ok()) << back.error().ToString();
  EXPECT_EQ(back->parent, "fan");
  EXPECT_EQ(back->parent_node, "fan-6");
}

TEST(WorkflowStatusFromJsonTest, RoundTripsWithNodesInline) {
  WorkflowStatus w = FanoutWorkflow();
  Result<WorkflowStatus> back = WorkflowStatusFromJson(WorkflowToJson(Manifest(), w, true), {});
  ASSERT_TRUE(back.ok()) << back.error().ToString();
  ExpectSameWorkflow(w, *back);
}

// Items of a big loop not created yet count in the progress, and a client reading the workflow
// back counts them too.
TEST(WorkflowToJsonTest, ProgressCountsLoopItemsNotCreatedYet) {
  WorkflowStatus w = FanoutWorkflow();
  const std::string before =
      Json::parse(WorkflowToJson(Manifest(), w, false))["status"]["progress"];
  w.pods_not_created = 1000;
  Json j = Json::parse(WorkflowToJson(Manifest(), w, false));
  const std::string progress = j["status"]["progress"];
  const std::string done = before.substr(0, before.find('/'));
  const int pods = std::stoi(before.substr(before.find('/') + 1));
  EXPECT_EQ(progress, done + "/" + std::to_string(pods + 1000));
  Result<WorkflowStatus> back = WorkflowStatusFromJson(j.dump(), {});
  ASSERT_TRUE(back.ok()) << back.error().ToString();
  EXPECT_EQ(back->pods_not_created, 1000u);
  EXPECT_EQ(WorkflowProgress(*back), "0/1000");  // without its nodes: only those not created
}

TEST(WorkflowStatusFromJsonTest, RoundTripsFromStoreRowsAndPutsTheRootFirst) {
  WorkflowStatus w = FanoutWorkflow();
  std::vector<std::string> rows;
  for (const Node& n : w.nodes) rows.push_back(NodeToJson(n));
  std::rotate(rows.begin(), rows.begin() + 1, rows.end());  // the root comes last from the store
  Result<WorkflowStatus> back = WorkflowStatusFromJson(WorkflowToJson(Manifest(), w, false), rows);
  ASSERT_TRUE(back.ok()) << back.error().ToString();
  ExpectSameWorkflow(w, *back);
}

TEST(WorkflowStatusFromJsonTest, KeepsCreationOrderNotIdOrder) {
  WorkflowStatus w;
  w.name = "wf";
  for (const char* id : {"wf", "wf-9", "wf-1", "wf-5"}) {
    w.nodes.push_back(MakeNode(id, id, NodeType::kPod, Phase::kRunning));
  }
  Result<WorkflowStatus> back =
      WorkflowStatusFromJson(WorkflowToJson(spec::Workflow{}, w, true), {});
  ASSERT_TRUE(back.ok()) << back.error().ToString();
  ExpectSameWorkflow(w, *back);
}

TEST(WorkflowStatusFromJsonTest, HundredThousandNodesRoundTrip) {
  WorkflowStatus w;
  w.name = "big";
  w.nodes.push_back(MakeNode("big", "big", NodeType::kSteps, Phase::kRunning));
  for (int i = 0; i < 100'000; ++i) {
    Node n = MakeNode("big-" + std::to_string(100'000 - i), "work(" + std::to_string(i) + ")",
                      NodeType::kPod, Phase::kSucceeded);
    n.fanout = "work";
    n.item_index = i;
    w.nodes[0].children.push_back(n.id);
    w.nodes.push_back(std::move(n));
  }
  std::string json = WorkflowToJson(Manifest(), w, true);
  Result<WorkflowStatus> back = WorkflowStatusFromJson(json, {});
  ASSERT_TRUE(back.ok()) << back.error().ToString();
  ASSERT_EQ(back->nodes.size(), w.nodes.size());
  EXPECT_EQ(back->nodes[1].id, "big-100000");
  EXPECT_EQ(back->nodes.back().item_index, 99'999);
}

TEST(NodeJsonTest, RoundTripsSubSecondTimesAndHubspokeFields) {
  Node n = FanoutWorkflow().nodes[4];
  n.started_at = kT0 + 1;
  n.finished_at = kT0 + 999'999;
  Result<Node> back = NodeFromJson(NodeToJson(n));
  ASSERT_TRUE(back.ok()) << back.error().ToString();
  ExpectSameNode(n, *back);
}

TEST(NodeJsonTest, ReadsArgoNodesWithoutHubspokeFields) {
  Result<Node> n = NodeFromJson(R"({"id":"wf-1","name":"wf[0].a","displayName":"a",
      "type":"Retry","phase":"Error","startedAt":"2024-01-02T03:04:05Z",
      "finishedAt":"2024-01-02T04:04:05.5+01:00","outputs":{"exitCode":"137"}})");
  ASSERT_TRUE(n.ok()) << n.error().ToString();
  EXPECT_EQ(n->type, NodeType::kRetry);
  EXPECT_EQ(n->phase, Phase::kError);
  EXPECT_EQ(n->started_at, 1'704'164'645'000'000);
  EXPECT_EQ(n->finished_at, 1'704'164'645'500'000);
  EXPECT_EQ(n->exit_code, 137);
  EXPECT_EQ(n->item_index, -1);
  EXPECT_FALSE(n->result.has_value());
}

TEST(NodeJsonTest, InvalidUtf8InOutputDoesNotThrow) {
  Node n = MakeNode("x", "x", NodeType::kPod, Phase::kSucceeded);
  n.result = std::string("bad \xff byte");
  Result<Node> back = NodeFromJson(NodeToJson(n));
  ASSERT_TRUE(back.ok()) << back.error().ToString();
  EXPECT_EQ(back->result, "bad \xEF\xBF\xBD byte");
}

TEST(NodeJsonTest, RejectsBadInput) {
  EXPECT_FALSE(NodeFromJson("not json").ok());
  EXPECT_FALSE(NodeFromJson("[1]").ok());
  EXPECT_FALSE(NodeFromJson(R"({"name":"no id"})").ok());
  Result<Node> phase = NodeFromJson(R"({"id":"a","phase":"Exploded"})");
  ASSERT_FALSE(phase.ok());
  EXPECT_NE(phase.error().message.find("Exploded"), std::string::npos);
  EXPECT_FALSE(NodeFromJson(R"({"id":"a","startedAt":"yesterday"})").ok());
  EXPECT_FALSE(NodeFromJson(R"({"id":"a","outputs":{"exitCode":"one"}})").ok());
  EXPECT_FALSE(NodeFromJson(R"({"id":"a","children":"b"})").ok());
  EXPECT_FALSE(WorkflowStatusFromJson(R"({"metadata":{}})", {}).ok());
  EXPECT_FALSE(WorkflowStatusFromJson(R"({"metadata":{"name":"w"}})", {"{}"}).ok());
}

TEST(JsonToYamlTest, KeepsStringsStringsAndScriptsReadable) {
  std::string yaml = JsonToYaml(
      R"({"kind":"Workflow","flags":["true","no","123","1.5e3","0x1F","~",""],)"
      R"("when":"2024-01-02T03:04:05Z","n":3,"f":1.5,"b":false,"z":null,)"
      R"("source":"echo hi\nexit 1\n","odd":"  lead\nno newline","empty":{},"list":[]})");
  YAML::Node y = YAML::Load(yaml);
  EXPECT_EQ(y["kind"].as<std::string>(), "Workflow");
  std::vector<std::string> flags = {"true", "no", "123", "1.5e3", "0x1F", "~", ""};
  ASSERT_EQ(y["flags"].size(), flags.size());
  for (size_t i = 0; i < flags.size(); ++i) {
    EXPECT_EQ(y["flags"][i].Tag(), "!") << flags[i];  // quoted: a string, never a bool or number
    EXPECT_EQ(y["flags"][i].as<std::string>(), flags[i]);
  }
  EXPECT_EQ(y["when"].Tag(), "!");
  EXPECT_EQ(y["n"].as<int>(), 3);
  EXPECT_EQ(y["n"].Tag(), "?");
  EXPECT_DOUBLE_EQ(y["f"].as<double>(), 1.5);
  EXPECT_FALSE(y["b"].as<bool>());
  EXPECT_TRUE(y["z"].IsNull());
  EXPECT_NE(yaml.find("source: |\n  echo hi\n  exit 1\n"), std::string::npos) << yaml;
  EXPECT_EQ(y["source"].as<std::string>(), "echo hi\nexit 1\n");
  EXPECT_EQ(y["odd"].as<std::string>(), "  lead\nno newline");
  EXPECT_TRUE(y["empty"].IsMap());
  EXPECT_TRUE(y["list"].IsSequence());
  EXPECT_EQ(JsonToYaml("{oops"), "");
}

TEST(JsonToYamlTest, WorkflowYamlReadsBackAsTheSameDocument) {
  std::string json = WorkflowToJson(Manifest(), FanoutWorkflow(), true);
  YAML::Node y = YAML::Load(JsonToYaml(json));
  EXPECT_EQ(y["status"]["nodes"]["fan-4"]["outputs"]["exitCode"].as<std::string>(), "1");
  EXPECT_EQ(y["status"]["nodes"]["fan-4"]["outputs"]["exitCode"].Tag(), "!");
  EXPECT_EQ(y["spec"]["arguments"]["parameters"][0]["value"].as<std::string>(), R"(["a","b","c"])");
  EXPECT_EQ(y["status"]["nodes"]["fan"]["children"][1].as<std::string>(), "fan-5");
}

}  // namespace
}  // namespace hubspoke::hub

namespace hubspoke::hub {
namespace {

TEST(WorkflowJsonWithNodesTest, IsWhatWorkflowToJsonWritesWithItsNodes) {
  WorkflowStatus w = FanoutWorkflow();
  std::vector<std::pair<std::string, std::string>> rows;
  for (const Node& n : w.nodes) rows.emplace_back(n.id, NodeToJson(n));
  rows.emplace_back("broken", "{\"id\":");  // a damaged row is left out, the rest stays JSON
  std::string text = WorkflowJsonWithNodes(WorkflowToJson(Manifest(), w, false), rows);
  EXPECT_EQ(Json::parse(text), Json::parse(WorkflowToJson(Manifest(), w, true)));
  Result<WorkflowStatus> back = WorkflowStatusFromJson(text, {});
  ASSERT_TRUE(back.ok()) << back.error().ToString();
  ExpectSameWorkflow(w, *back);
  // Rows without a workflow body still make a workflow object.
  EXPECT_EQ(Json::parse(WorkflowJsonWithNodes("", {})), Json::parse(R"({"status":{"nodes":{}}})"));
}

}  // namespace
}  // namespace hubspoke::hub
