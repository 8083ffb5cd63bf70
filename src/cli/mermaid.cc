#include "cli/mermaid.h"

#include <map>
#include <unordered_map>
#include <vector>

namespace hubspoke::cli {
namespace {

using engine::Node;
using engine::NodeType;
using engine::Phase;

// Fan-outs with more items than this are drawn as one node.
constexpr size_t kCollapseAbove = 3;

// Text for a Mermaid label in double quotes.
std::string Label(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '"') {
      out += "#quot;";
    } else if (c == '\n') {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

// The phase a group of items shows: a failure wins, then work in progress.
Phase GroupPhase(const std::map<Phase, size_t>& counts) {
  for (Phase p : {Phase::kError, Phase::kFailed, Phase::kRunning, Phase::kPending}) {
    if (counts.count(p)) return p;
  }
  return counts.count(Phase::kSucceeded) ? Phase::kSucceeded : Phase::kSkipped;
}

}  // namespace

std::string RenderMermaid(const engine::WorkflowStatus& wf) {
  std::unordered_map<std::string, size_t> index;
  for (size_t i = 0; i < wf.nodes.size(); ++i) index[wf.nodes[i].id] = i;

  std::string out = "flowchart TD\n";
  for (const auto& [phase, style] : std::vector<std::pair<const char*, const char*>>{
           {"Succeeded", "fill:#dcfce7,stroke:#16a34a"},
           {"Failed", "fill:#fee2e2,stroke:#dc2626"},
           {"Error", "fill:#fde68a,stroke:#d97706"},
           {"Running", "fill:#dbeafe,stroke:#2563eb"},
           {"Pending", "fill:#f3f4f6,stroke:#9ca3af"},
           {"Skipped", "fill:#f9fafb,stroke:#d1d5db,color:#6b7280"},
           {"Omitted", "fill:#f9fafb,stroke:#d1d5db,color:#6b7280"}}) {
    out += std::string("  classDef ") + phase + " " + style + "\n";
  }

  // What each drawn node is called in the chart: n<index>, or g<index> for a collapsed fan-out
  // (named after its first item). Items of a collapsed fan-out map to their group.
  std::vector<std::string> drawn_as(wf.nodes.size());
  std::vector<bool> hidden(wf.nodes.size());
  std::string shapes;
  for (size_t i = 0; i < wf.nodes.size(); ++i) {
    if (hidden[i]) continue;
    const Node& n = wf.nodes[i];
    drawn_as[i] = "n" + std::to_string(i);
    std::string text = i == 0 ? wf.name : n.display_name;
    if (!n.template_name.empty() && i != 0) text += "<br/><small>" + n.template_name + "</small>";
    if (!n.child_workflow.empty()) text += "<br/>child " + n.child_workflow;
    if (!n.host_node_name.empty() && n.type == NodeType::kPod && n.child_workflow.empty()) {
      text += "<br/><small>on " + n.host_node_name + "</small>";
    }
    std::string phase(engine::PhaseName(n.phase));
    if (n.type == NodeType::kStepGroup || n.type == NodeType::kTaskGroup) {
      shapes += "  " + drawn_as[i] + "((\" \")):::" + phase + "\n";
    } else {
      shapes += "  " + drawn_as[i] + "[\"" + Label(text) + "\"]:::" + phase + "\n";
    }
    // A long fan-out among this node's children becomes one node.
    std::map<std::string, std::vector<size_t>> fanouts;
    for (const std::string& id : n.children) {
      auto it = index.find(id);
      if (it != index.end() && !wf.nodes[it->second].fanout.empty()) {
        fanouts[wf.nodes[it->second].fanout].push_back(it->second);
      }
    }
    for (const auto& [name, items] : fanouts) {
      if (items.size() <= kCollapseAbove) continue;
      std::map<Phase, size_t> counts;
      for (size_t item : items) counts[wf.nodes[item].phase]++;
      std::string group = "g" + std::to_string(items.front());
      std::string text = name + " ×" + std::to_string(items.size()) + "<br/>";
      bool first = true;
      for (const auto& [phase, count] : counts) {
        text += (first ? "" : ", ") + std::to_string(count) + " " +
                std::string(engine::PhaseName(phase));
        first = false;
      }
      shapes += "  " + group + "[[\"" + Label(text) +
                "\"]]:::" + std::string(engine::PhaseName(GroupPhase(counts))) + "\n";
      // The items and everything below them stay inside the box.
      std::vector<size_t> stack(items.begin(), items.end());
      while (!stack.empty()) {
        size_t k = stack.back();
        stack.pop_back();
        if (hidden[k]) continue;
        hidden[k] = true;
        drawn_as[k] = group;
        for (const std::string& id : wf.nodes[k].children) {
          auto it = index.find(id);
          // Steps link an item to the next step group, which is not the item's own.
          if (it != index.end() && wf.nodes[it->second].fanout == name &&
              wf.nodes[it->second].boundary_id == wf.nodes[k].boundary_id) {
            stack.push_back(it->second);
          }
        }
      }
    }
  }
  out += shapes;
  // Edges between drawn nodes, once each. A steps node leads to its first step group, and each
  // group's steps lead to the next group, so the chart reads top to bottom in order.
  std::map<std::pair<std::string, std::string>, bool> edges;
  auto edge = [&](size_t a, size_t b) {
    const std::string& from = drawn_as[a];
    const std::string& to = drawn_as[b];
    if (from.empty() || to.empty() || from == to || edges[{from, to}]) return;
    edges[{from, to}] = true;
    out += "  " + from + " --> " + to + "\n";
  };
  for (size_t i = 0; i < wf.nodes.size(); ++i) {
    std::vector<size_t> children;
    for (const std::string& id : wf.nodes[i].children) {
      auto it = index.find(id);
      if (it != index.end()) children.push_back(it->second);
    }
    bool chain = wf.nodes[i].type == NodeType::kSteps;
    for (size_t c = 0; c < children.size(); ++c) {
      if (!chain || c == 0) {
        edge(i, children[c]);
        continue;
      }
      for (const std::string& id : wf.nodes[children[c - 1]].children) {
        auto it = index.find(id);
        if (it != index.end()) edge(it->second, children[c]);
      }
    }
  }
  return out;
}

}  // namespace hubspoke::cli
