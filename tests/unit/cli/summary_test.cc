// The JSON and HTML summaries of a workflow as the store keeps it (a workflow row and node rows).
#include "cli/summary.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "hub/serialize.h"
#include "spec/loader.h"

namespace hubspoke::cli {
namespace {

using engine::Node;
using engine::NodeType;
using engine::Phase;
using Json = nlohmann::json;

constexpr Micros kT0 = 1'700'000'000'000'000;
constexpr Micros kSecond = 1'000'000;

// A fan-out of four items over two spokes, item 2 failed, plus a failed cleanup task outside the
// fan-out; stored and loaded back the way `hubspoke summary --data` reads it.
engine::WorkflowStatus StoredRun() {
  engine::WorkflowStatus st;
  st.name = "wf";
  st.namespace_ = "default";
  st.phase = Phase::kFailed;
  st.message = "child 'work(2:2)' failed";
  st.created_at = st.started_at = kT0;
  st.finished_at = kT0 + 4 * kSecond;
  Node root;
  root.id = root.name = root.display_name = "wf";
  root.type = NodeType::kSteps;
  root.phase = Phase::kFailed;
  st.nodes.push_back(root);
  auto task = [&](const std::string& id, const std::string& display, Phase phase, int start,
                  int seconds, const std::string& spoke) {
    Node n;
    n.id = id;
    n.name = "wf." + display;
    n.display_name = display;
    n.type = NodeType::kPod;
    n.phase = phase;
    n.boundary_id = "wf";
    n.host_node_name = spoke;
    n.started_at = kT0 + start * kSecond;
    n.finished_at = n.started_at + seconds * kSecond;
    if (phase == Phase::kFailed) n.message = "Error (exit code 1)";
    return n;
  };
  for (int i = 0; i < 4; ++i) {
    Node n =
        task("w" + std::to_string(i), "work(" + std::to_string(i) + ":" + std::to_string(i) + ")",
             i == 2 ? Phase::kFailed : Phase::kSucceeded, i / 2, 1 + i % 2,
             "local-" + std::to_string(1 + i % 2));
    n.fanout = "work";
    n.item_index = i;
    st.nodes.push_back(n);
  }
  st.nodes.push_back(task("c", "cleanup", Phase::kFailed, 3, 1, "local-1"));
  root.children = {"w0", "w1", "w2", "w3", "c"};
  st.nodes[0] = root;

  auto manifest = spec::LoadManifest(R"(apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: wf}
spec: {entrypoint: main, templates: [{name: main, container: {image: alpine}}]}
)",
                                     "wf.yaml");
  EXPECT_TRUE(manifest.ok());
  std::vector<std::string> rows;
  for (const Node& n : st.nodes) rows.push_back(hub::NodeToJson(n));
  auto loaded =
      hub::WorkflowStatusFromJson(hub::WorkflowToJson(*manifest, st, /*with_nodes=*/false), rows);
  EXPECT_TRUE(loaded.ok()) << loaded.error().ToString();
  return *loaded;
}

TEST(SummaryJsonTest, HasTheDocumentedShapeAndCounts) {
  engine::WorkflowStatus run = StoredRun();
  Json s = Json::parse(SummaryJson(Summarize({&run}, kT0 + 10 * kSecond)));
  EXPECT_EQ(s["name"], "wf");
  EXPECT_EQ(s["phase"], "Failed");
  EXPECT_EQ(s["message"], "child 'work(2:2)' failed");
  EXPECT_EQ(s["tasks"], Json::parse(R"js({"total": 5, "Pending": 0, "Running": 0, "Succeeded": 3,
      "Failed": 2, "Error": 0, "Skipped": 0, "Omitted": 0})js"));
  ASSERT_EQ(s["fanouts"].size(), 1u);
  EXPECT_EQ(s["fanouts"][0], Json::parse(R"js({"name": "work", "total": 4, "succeeded": 3,
      "failed": 1, "skipped": 0, "running": 0, "pending": 0, "failedTasks": [
        {"name": "work(2:2)", "workflow": "wf", "phase": "Failed", "spoke": "local-1",
         "durationSeconds": 1.0, "message": "Error (exit code 1)"
}]
})js"));
  EXPECT_EQ(s["failedTasks"], Json::parse(R"js([{"name": "cleanup", "workflow": "wf",
      "phase": "Failed", "spoke": "local-1", "durationSeconds": 1.0,
      "message": "Error (exit code 1)"
}])js"));
  ASSERT_EQ(s["slowestTasks"].size(), 5u);
  EXPECT_EQ(s["slowestTasks"][0]["name"], "work(1:1)");
  EXPECT_EQ(s["slowestTasks"][0]["durationSeconds"], 2.0);
  EXPECT_EQ(s["slowestTasks"][0]["message"], "");
  // local-2 ran the two 2-second items: the slowest mean comes first.
  EXPECT_EQ(s["spokes"], Json::parse(R"js([
      {"name": "local-2", "tasks": 2, "busySeconds": 4.0, "meanSeconds": 2.0},
      {"name": "local-1", "tasks": 3, "busySeconds": 3.0, "meanSeconds": 1.0}])js"));
  EXPECT_EQ(s["wallSeconds"], 4.0);
  EXPECT_EQ(s["taskSeconds"], 7.0);
  EXPECT_EQ(s["speedup"], 1.75);
}

// A task that never reached a spoke (a deadline ended it while it waited for a slot) did no work:
// it counts among the tasks, not in the time the tasks took nor among the slowest.
TEST(SummaryJsonTest, ATaskThatNeverRanAddsNoTaskTime) {
  engine::WorkflowStatus run = StoredRun();
  Node waited;
  waited.id = "w4";
  waited.name = "wf.work(4:4)";
  waited.display_name = "work(4:4)";
  waited.type = NodeType::kPod;
  waited.phase = Phase::kFailed;
  waited.message = "Step exceeded its deadline";
  waited.boundary_id = "wf";
  waited.fanout = "work";
  waited.item_index = 4;
  waited.started_at = kT0;  // created when the loop started, as Argo's pending pods are
  waited.finished_at = kT0 + 4 * kSecond;
  run.nodes.push_back(waited);
  Json s = Json::parse(SummaryJson(Summarize({&run}, kT0 + 10 * kSecond)));
  EXPECT_EQ(s["tasks"]["total"], 6);
  EXPECT_EQ(s["tasks"]["Failed"], 3);
  EXPECT_EQ(s["taskSeconds"], 7.0);
  EXPECT_EQ(s["speedup"], 1.75);
  for (const Json& t : s["slowestTasks"]) EXPECT_NE(t["name"], "work(4:4)");
}

TEST(SummaryHtmlTest, DrawsARowPerSpokeAndABarPerTaskColouredByPhase) {
  engine::WorkflowStatus run = StoredRun();
  std::string html = SummaryHtml(Summarize({&run}, kT0), {&run}, kT0);
  auto count = [&](const std::string& needle) {
    size_t n = 0;
    for (size_t at = html.find(needle); at != std::string::npos; at = html.find(needle, at + 1)) {
      ++n;
    }
    return n;
  };
  EXPECT_EQ(count("<rect class=\"task "), 5u);
  EXPECT_EQ(count("<rect class=\"task failed\""), 2u);
  EXPECT_EQ(count("<text class=\"spoke\""), 2u);
  EXPECT_EQ(count("<svg"), 1u);
  EXPECT_EQ(count("</svg>"), 1u);
  // The first task starts at the left edge of the plot, the last one ends at the right edge.
  EXPECT_NE(html.find("<rect class=\"task succeeded\" x=\"140.00\""), std::string::npos);
  EXPECT_NE(html.find("<title>cleanup (wf) Failed 1.0s on local-1</title>"), std::string::npos);
  EXPECT_NE(html.find("<td>Error (exit code 1)</td>"), std::string::npos);
}

}  // namespace
}  // namespace hubspoke::cli
