// `get -o mermaid`: the chart a user pastes into Markdown reads in step order, keeps a long
// fan-out in one box with its counts, and colors nodes by phase.
#include "cli/mermaid.h"

#include <gtest/gtest.h>

namespace hubspoke::cli {
namespace {

using engine::Node;
using engine::NodeType;
using engine::Phase;

Node Make(std::string id, std::string display, NodeType type, Phase phase,
          std::vector<std::string> children = {}) {
  Node n;
  n.id = std::move(id);
  n.display_name = std::move(display);
  n.type = type;
  n.phase = phase;
  n.children = std::move(children);
  n.boundary_id = "wf";
  return n;
}

TEST(MermaidTest, StepsChainAndALongFanOutIsOneBoxWithCounts) {
  engine::WorkflowStatus wf;
  wf.name = "wf";
  wf.nodes.push_back(Make("wf", "wf", NodeType::kSteps, Phase::kFailed, {"g0", "g1"}));
  wf.nodes.push_back(Make("g0", "[0]", NodeType::kStepGroup, Phase::kSucceeded, {"d"}));
  wf.nodes.push_back(Make("d", "discover \"repos\"", NodeType::kPod, Phase::kSucceeded));
  std::vector<std::string> items;
  for (int i = 0; i < 5; ++i) items.push_back("i" + std::to_string(i));
  wf.nodes.push_back(Make("g1", "[1]", NodeType::kStepGroup, Phase::kFailed, items));
  for (int i = 0; i < 5; ++i) {
    Node item = Make(items[i], "work(" + std::to_string(i) + ")", NodeType::kPod,
                     i == 3 ? Phase::kFailed : Phase::kSucceeded);
    item.fanout = "work";
    item.item_index = i;
    wf.nodes.push_back(item);
  }
  std::string chart = RenderMermaid(wf);
  EXPECT_EQ(chart.rfind("flowchart TD\n", 0), 0u);
  EXPECT_NE(chart.find("classDef Failed"), std::string::npos);
  EXPECT_NE(chart.find("discover #quot;repos#quot;"), std::string::npos) << chart;
  EXPECT_NE(chart.find("work ×5<br/>4 Succeeded, 1 Failed\"]]:::Failed"), std::string::npos)
      << chart;
  EXPECT_EQ(chart.find("work(3)"), std::string::npos) << "items stay inside their box";
  EXPECT_NE(chart.find("n0 --> n1\n"), std::string::npos) << chart;
  EXPECT_NE(chart.find("n2 --> n3\n"), std::string::npos) << "discover leads to the next group";
  EXPECT_NE(chart.find("n3 --> g4\n"), std::string::npos) << chart;
  EXPECT_EQ(chart.find("n0 --> n3"), std::string::npos) << chart;
}

}  // namespace
}  // namespace hubspoke::cli
