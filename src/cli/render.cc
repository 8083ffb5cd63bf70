#include "cli/render.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <iterator>
#include <map>
#include <optional>
#include <span>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "hub/serialize.h"

namespace hubspoke::cli {
namespace {

using engine::Node;
using engine::NodeType;
using engine::Phase;
using engine::WorkflowStatus;

constexpr size_t kElideAbove = 50;  // tree: fan-out groups longer than this are elided...
constexpr size_t kShowFirst = 5;    // ...to their first items...
constexpr size_t kShowFailed = 20;  // ...and this many failed ones
constexpr size_t kSlowest = 5;
constexpr size_t kMaxFailedListed = 20;
constexpr size_t kMaxSummaryGroups = 10;
constexpr size_t kMaxProgressGroups = 6;
constexpr size_t kMaxLabel = 24;
constexpr size_t kMaxParameter = 120;
constexpr size_t kHeaderWidth = 21;  // "Name:" and its padding, as `argo get` aligns them
constexpr size_t kPhaseCount = static_cast<size_t>(Phase::kOmitted) + 1;

using PhaseCounts = std::array<size_t, kPhaseCount>;

std::string_view Glyph(Phase phase) {
  switch (phase) {
    case Phase::kPending:
      return "◷";
    case Phase::kRunning:
      return "●";
    case Phase::kSucceeded:
      return "✔";
    case Phase::kFailed:
      return "✖";
    case Phase::kError:
      return "⚠";
    case Phase::kSkipped:
    case Phase::kOmitted:
      return "○";
  }
  return "?";
}

// The ANSI color argo gives a phase's glyph; "" for the terminal's default.
std::string_view ColorCode(Phase phase) {
  switch (phase) {
    case Phase::kPending:
      return "33";
    case Phase::kRunning:
      return "36";
    case Phase::kSucceeded:
      return "32";
    case Phase::kFailed:
    case Phase::kError:
      return "31";
    case Phase::kSkipped:
    case Phase::kOmitted:
      return "";
  }
  return "";
}

std::string Paint(std::string_view text, std::string_view code, bool color) {
  if (!color || code.empty()) return std::string(text);
  return "\x1b[" + std::string(code) + "m" + std::string(text) + "\x1b[0m";
}

// Terminal columns of UTF-8 text, one per code point (glyphs and box characters are narrow).
size_t DisplayWidth(std::string_view s) {
  return std::count_if(s.begin(), s.end(),
                       [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; });
}

void Pad(std::string& out, size_t width, size_t to) {
  if (width < to) out.append(to - width, ' ');
}

// At most `max` columns, the last one "…" when cut.
std::string Truncate(std::string_view s, size_t max) {
  if (DisplayWidth(s) <= max) return std::string(s);
  size_t columns = 0, end = 0;
  for (; end < s.size(); ++end) {
    if ((static_cast<unsigned char>(s[end]) & 0xC0) != 0x80 && ++columns == max) break;
  }
  return std::string(s.substr(0, end)) + "…";
}

std::string OneLine(std::string_view s) {
  std::string out(s);
  std::replace_if(
      out.begin(), out.end(), [](char c) { return c == '\n' || c == '\r' || c == '\t'; }, ' ');
  return out;
}

}  // namespace

std::string FormatDuration(Micros d) {
  long long micros = std::max<Micros>(d, 0);
  long long secs = micros / 1'000'000;
  char buf[32];
  if (secs < 10) {
    std::snprintf(buf, sizeof buf, "%.1fs", micros / 1e6);
  } else if (secs < 60) {
    std::snprintf(buf, sizeof buf, "%llds", secs);
  } else if (secs < 3600) {
    std::snprintf(buf, sizeof buf, "%lldm%02llds", secs / 60, secs % 60);
  } else {
    std::snprintf(buf, sizeof buf, "%lldh%02lldm", secs / 3600, secs % 3600 / 60);
  }
  return buf;
}

namespace {

// From `start` to `end`, or to `now` while still running; 0 when not started.
Micros Span(Micros start, Micros end, Micros now) {
  if (start <= 0) return 0;
  return std::max<Micros>(0, (end > 0 ? end : now) - start);
}

Micros WorkflowDuration(const WorkflowStatus& w, Micros now) {
  return Span(w.started_at > 0 ? w.started_at : w.created_at, w.finished_at, now);
}

// "940 Succeeded, 3 Running": the non-zero counts in phase order.
std::string CountsText(const PhaseCounts& counts) {
  std::string out;
  for (size_t p = 0; p < kPhaseCount; ++p) {
    if (counts[p] == 0) continue;
    if (!out.empty()) out += ", ";
    out += std::to_string(counts[p]) + " " + std::string(engine::PhaseName(static_cast<Phase>(p)));
  }
  return out;
}

// The links between a workflow's nodes as indices, resolved from ids once (one hash lookup per
// link), so that no view looks up ids again.
class NodeIndex {
 public:
  explicit NodeIndex(const WorkflowStatus& w) : parent_(w.nodes.size(), -1) {
    std::unordered_map<std::string_view, int> by_id;
    by_id.reserve(w.nodes.size());
    for (size_t i = 0; i < w.nodes.size(); ++i) by_id.emplace(w.nodes[i].id, static_cast<int>(i));
    first_child_.reserve(w.nodes.size() + 1);
    for (size_t i = 0; i < w.nodes.size(); ++i) {
      first_child_.push_back(children_.size());
      for (const std::string& id : w.nodes[i].children) {
        auto it = by_id.find(id);
        if (it == by_id.end() || it->second == static_cast<int>(i)) continue;
        int j = it->second;
        children_.push_back(j);
        if (parent_[j] < 0) parent_[j] = static_cast<int>(i);
      }
    }
    first_child_.push_back(children_.size());
  }

  // The first node listing node `i` among its children; -1 for none.
  int Parent(int i) const { return parent_[i]; }
  // The children of node `i` that exist, in order.
  std::span<const int> Children(int i) const {
    return {children_.data() + first_child_[i], children_.data() + first_child_[i + 1]};
  }

 private:
  std::vector<int> parent_;
  std::vector<size_t> first_child_;  // node i's children are children_[first_child_[i]...]
  std::vector<int> children_;
};

// ---- RenderTree ----

struct Row {
  std::string prefix;  // tree connectors
  bool glyph = true;   // false for "… N more" lines
  Phase phase = Phase::kPending;
  std::string name;
  std::string template_name;
  std::string spoke;
  std::string duration;
  std::string message;
  std::string id;  // the node id (Argo's PODNAME), shown with -o wide
};

class TreeBuilder {
 public:
  TreeBuilder(const WorkflowStatus& w, Micros now)
      : nodes_(w.nodes), now_(now), index_(w), visited_(w.nodes.size(), false) {
    for (size_t i = 0; i < nodes_.size(); ++i) {
      const Node& n = nodes_[i];
      if (!n.boundary_id.empty()) by_boundary_[n.boundary_id].push_back(static_cast<int>(i));
    }
  }

  // The root's tree, then any other top-level trees (a workflow's onExit handler).
  std::vector<Row> Build() {
    for (size_t i = 0; i < nodes_.size(); ++i) {
      if (i == 0 || (index_.Parent(i) < 0 && nodes_[i].boundary_id.empty())) {
        Visit(static_cast<int>(i), " ", " ");
      }
    }
    return std::move(rows_);
  }

 private:
  struct Entry {
    int node = -1;        // a node, or -1 for the elision line
    std::string elision;  // "… 940 more (940 Succeeded)"
  };

  // Prints node `i` after `line`; its descendants' lines start with `below`.
  void Visit(int i, const std::string& line, const std::string& below) {
    if (visited_[i]) return;  // malformed links (a cycle, a node under two parents): print once
    visited_[i] = true;
    const Node& n = nodes_[i];
    Row row;
    row.prefix = line;
    row.phase = n.phase;
    row.name = n.display_name.empty() ? n.name : n.display_name;
    row.template_name = n.template_name;
    row.message = OneLine(n.message);
    if (n.type == NodeType::kPod) {
      row.spoke = n.child_workflow.empty() ? n.host_node_name : n.child_workflow;
      row.id = n.id;
      if (n.started_at > 0) row.duration = FormatDuration(Span(n.started_at, n.finished_at, now_));
      if (!n.child_workflow.empty() && row.message.empty()) {
        row.message = "child workflow " + std::string(engine::PhaseName(n.phase));
      }
    }
    rows_.push_back(std::move(row));
    switch (n.type) {
      case NodeType::kSteps:
        VisitStepGroups(Select(i, NodeType::kStepGroup), Hooks(i), below);
        break;
      case NodeType::kDag: {
        std::vector<int> kids = Select(i, std::nullopt);
        for (int h : Hooks(i)) {
          if (std::find(kids.begin(), kids.end(), h) == kids.end()) kids.push_back(h);
        }
        VisitList(kids, below);
        break;
      }
      case NodeType::kStepGroup:
      case NodeType::kTaskGroup:
      case NodeType::kRetry:
        VisitList(Children(i), below);
        break;
      default:  // leaves but for their hooks; a DAG task's other children are its dependents,
                // shown under the DAG
        VisitList(Hooks(i), below);
        break;
    }
  }

  // The lifecycle hooks node `i` ran: its children named "<its name>.hooks.<hook>" or
  // "<its name>.onExit".
  std::vector<int> Hooks(int i) const {
    std::vector<int> hooks;
    const std::string& name = nodes_[i].name;
    for (int j : index_.Children(i)) {
      const std::string& child = nodes_[j].name;
      if (child == name + ".onExit" || child.rfind(name + ".hooks.", 0) == 0) hooks.push_back(j);
    }
    return hooks;
  }

  // Argo's layout: each step group hangs off the steps node; parallel steps of one group fork
  // with "┬" and follow below it.
  // The hooks of the steps node follow its groups, as one more group.
  void VisitStepGroups(const std::vector<int>& groups, const std::vector<int>& hooks,
                       const std::string& below) {
    std::vector<std::vector<Entry>> lists;
    for (int g : groups) {
      std::vector<Entry> entries = Elide(Children(g));
      if (!entries.empty()) lists.push_back(std::move(entries));
    }
    if (!hooks.empty()) lists.push_back(Elide(hooks));
    for (size_t gi = 0; gi < lists.size(); ++gi) {
      bool last_group = gi + 1 == lists.size();
      std::string part = below + (last_group ? "└─" : "├─");
      std::string sub = below + (last_group ? "  " : "│ ");
      const std::vector<Entry>& entries = lists[gi];
      for (size_t j = 0; j < entries.size(); ++j) {
        bool last = j + 1 == entries.size();
        if (entries.size() == 1) {
          Emit(entries[j], part + "──", sub + "  ");
        } else if (j == 0) {
          Emit(entries[j], part + "┬─", sub + "│ ");
        } else {
          Emit(entries[j], sub + (last ? "└─" : "├─"), sub + (last ? "  " : "│ "));
        }
      }
    }
  }

  void VisitList(const std::vector<int>& kids, const std::string& below) {
    std::vector<Entry> entries = Elide(kids);
    for (size_t j = 0; j < entries.size(); ++j) {
      bool last = j + 1 == entries.size();
      Emit(entries[j], below + (last ? "└─" : "├─"), below + (last ? "  " : "│ "));
    }
  }

  void Emit(const Entry& entry, const std::string& line, const std::string& below) {
    if (entry.node >= 0) {
      Visit(entry.node, line, below);
      return;
    }
    Row row;
    row.prefix = line;
    row.glyph = false;
    row.name = entry.elision;
    rows_.push_back(std::move(row));
  }

  // Children of node `i` that it shows directly (step groups belong to their steps node).
  std::vector<int> Children(int i) const {
    std::vector<int> kids;
    for (int j : index_.Children(i)) {
      if (nodes_[j].type != NodeType::kStepGroup) kids.push_back(j);
    }
    return kids;
  }

  // Nodes inside boundary `i`: its step groups (`type` kStepGroup) or a DAG's tasks (no `type`:
  // all but fan-out items and retry attempts, which show under their group or retry node). Falls
  // back to `i`'s children when nothing names `i` as its boundary.
  std::vector<int> Select(int i, std::optional<NodeType> type) const {
    std::vector<int> picked;
    auto keep = [&](int j) {
      return type ? nodes_[j].type == *type
                  : nodes_[j].type != NodeType::kStepGroup && !InGroupOrRetry(j);
    };
    auto it = by_boundary_.find(nodes_[i].id);
    if (it != by_boundary_.end()) {
      std::copy_if(it->second.begin(), it->second.end(), std::back_inserter(picked), keep);
    }
    if (!picked.empty()) return picked;
    std::span<const int> kids = index_.Children(i);
    std::copy_if(kids.begin(), kids.end(), std::back_inserter(picked), keep);
    return picked;
  }

  // A fan-out item of a DAG task or a retry attempt: shown under its task group or retry node.
  bool InGroupOrRetry(int j) const {
    int p = index_.Parent(j);
    return p >= 0 && (nodes_[p].type == NodeType::kTaskGroup || nodes_[p].type == NodeType::kRetry);
  }

  // Keeps every node, except that a fan-out (items sharing `fanout`) longer than kElideAbove
  // keeps its first and its failed items and ends with one line counting the rest by phase.
  std::vector<Entry> Elide(const std::vector<int>& kids) const {
    struct Bucket {
      size_t total = 0, seen = 0, failed_shown = 0, hidden = 0;
      PhaseCounts hidden_by_phase{};
    };
    std::unordered_map<std::string_view, Bucket> buckets;
    for (int k : kids) {
      if (!nodes_[k].fanout.empty()) ++buckets[nodes_[k].fanout].total;
    }
    std::vector<Entry> entries;
    for (int k : kids) {
      const Node& n = nodes_[k];
      if (n.fanout.empty()) {
        entries.push_back({k, ""});
        continue;
      }
      Bucket& b = buckets[n.fanout];
      ++b.seen;
      bool show = b.total <= kElideAbove || b.seen <= kShowFirst ||
                  (engine::IsFailedOrError(n.phase) && b.failed_shown++ < kShowFailed);
      if (show) {
        entries.push_back({k, ""});
      } else {
        ++b.hidden;
        ++b.hidden_by_phase[static_cast<size_t>(n.phase)];
      }
      if (b.seen == b.total && b.hidden > 0) {
        entries.push_back({-1, "… " + std::to_string(b.hidden) + " more (" +
                                   CountsText(b.hidden_by_phase) + ")"});
      }
    }
    return entries;
  }

  const std::deque<Node>& nodes_;
  Micros now_;
  NodeIndex index_;
  std::vector<bool> visited_;
  std::unordered_map<std::string_view, std::vector<int>> by_boundary_;
  std::vector<Row> rows_;
};

void HeaderField(std::string& out, std::string_view label, std::string_view value) {
  size_t start = out.size();
  out += label;
  out += ':';
  Pad(out, out.size() - start, kHeaderWidth);
  out += value;
  out += '\n';
}

std::string TimeAndAge(Micros t, Micros now) {
  return FormatRfc3339(t) + " (" + FormatDuration(now - t) + " ago)";
}

// ---- RenderSummary and RenderProgress ----

// A fan-out item, or any task, with a resource node's child workflow standing in for the node.
struct Item {
  const Node* node = nullptr;
  const WorkflowStatus* child = nullptr;
  Phase phase = Phase::kPending;
  Micros duration = 0;
  std::string_view spoke;  // the host that ran it, or the child workflow's name
};

using WorkflowsByName = std::unordered_map<std::string_view, const WorkflowStatus*>;

Item MakeItem(const Node& n, const WorkflowsByName& by_name, Micros now) {
  Item item{&n, nullptr, n.phase, Span(n.started_at, n.finished_at, now), n.host_node_name};
  if (n.child_workflow.empty()) return item;
  item.spoke = n.child_workflow;
  auto it = by_name.find(n.child_workflow);
  if (it == by_name.end()) return item;
  item.child = it->second;
  item.phase = item.child->phase;
  item.duration = WorkflowDuration(*item.child, now);
  // A child may wait for a free spoke; what it cost is the span its tasks ran.
  Micros first = 0, last = 0;
  for (const Node& c : item.child->nodes) {
    if (c.type != NodeType::kPod || c.started_at <= 0) continue;
    Micros end = c.finished_at > 0 ? c.finished_at : now;
    if (first == 0 || c.started_at < first) first = c.started_at;
    last = std::max(last, end);
  }
  if (first > 0) item.duration = last - first;
  return item;
}

// What went wrong with a failed item: its message, or its child workflow's message and the
// first failed task in that child.
std::string FailureMessage(const Item& item) {
  if (!item.child) return OneLine(item.node->message);
  std::string message = item.child->message.empty() ? item.node->message : item.child->message;
  auto failed = std::find_if(item.child->nodes.begin(), item.child->nodes.end(), [](const Node& n) {
    return n.type == NodeType::kPod && engine::IsFailedOrError(n.phase) && !n.message.empty();
  });
  if (failed != item.child->nodes.end() && message.find(failed->message) == std::string::npos) {
    if (!message.empty()) message += "; ";
    message += failed->display_name + ": " + failed->message;
  }
  return OneLine(message);
}

struct Group {
  std::string label;  // the fan-out, prefixed by its workflow's name in child workflows
  std::string_view workflow;
  std::vector<Item> items;
  PhaseCounts counts{};
};

// Fan-out groups over all workflows (`indexes[i]` indexes `workflows[i]`): nodes sharing `fanout`
// under one parent. Children of retry nodes (attempts) and of Pod nodes (DAG dependents, as Argo
// links them) are not items.
std::vector<Group> CollectGroups(const std::vector<const WorkflowStatus*>& workflows,
                                 const std::vector<NodeIndex>& indexes,
                                 const WorkflowsByName& by_name, Micros now) {
  struct KeyHash {
    size_t operator()(const std::pair<int, std::string_view>& key) const {
      return std::hash<std::string_view>()(key.second) * 31 + static_cast<size_t>(key.first);
    }
  };
  std::vector<Group> groups;
  for (size_t wi = 0; wi < workflows.size(); ++wi) {
    const WorkflowStatus* w = workflows[wi];
    const NodeIndex& index = indexes[wi];
    std::unordered_map<std::pair<int, std::string_view>, size_t, KeyHash> group_of;
    for (size_t i = 0; i < w->nodes.size(); ++i) {
      const Node& n = w->nodes[i];
      if (n.fanout.empty()) continue;
      int p = index.Parent(static_cast<int>(i));
      if (p >= 0 && (w->nodes[p].type == NodeType::kRetry || w->nodes[p].type == NodeType::kPod)) {
        continue;
      }
      auto [it, added] = group_of.try_emplace({p, n.fanout}, groups.size());
      if (added) {
        groups.push_back(
            {w == workflows[0] ? n.fanout : w->name + "/" + n.fanout, w->name, {}, {}});
      }
      Group& g = groups[it->second];
      g.items.push_back(MakeItem(n, by_name, now));
      ++g.counts[static_cast<size_t>(g.items.back().phase)];
    }
  }
  return groups;
}

WorkflowsByName IndexByName(const std::vector<const WorkflowStatus*>& workflows) {
  WorkflowsByName by_name;
  for (const WorkflowStatus* w : workflows) by_name.emplace(w->name, w);
  return by_name;
}

std::vector<NodeIndex> IndexNodes(const std::vector<const WorkflowStatus*>& workflows) {
  std::vector<NodeIndex> indexes;
  indexes.reserve(workflows.size());
  for (const WorkflowStatus* w : workflows) indexes.emplace_back(*w);
  return indexes;
}

size_t Count(const PhaseCounts& counts, std::initializer_list<Phase> phases) {
  size_t sum = 0;
  for (Phase p : phases) sum += counts[static_cast<size_t>(p)];
  return sum;
}

// Indices of at most `max` groups (of `sizes` items): those marked in `prefer` first, then the
// largest; returned in the groups' own order.
std::vector<size_t> PickGroups(const std::vector<size_t>& sizes, size_t max,
                               const std::vector<bool>& prefer) {
  std::vector<size_t> order(sizes.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  if (order.size() <= max) return order;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (prefer[a] != prefer[b]) return static_cast<bool>(prefer[a]);
    return sizes[a] > sizes[b];
  });
  order.resize(max);
  std::sort(order.begin(), order.end());
  return order;
}

std::string ItemName(const Item& item) {
  return item.node->display_name.empty() ? item.node->name : item.node->display_name;
}

}  // namespace

std::string RenderTree(const engine::WorkflowStatus& workflow, Micros now, bool color, bool wide) {
  std::string out;
  HeaderField(out, "Name", workflow.name);
  if (!workflow.namespace_.empty()) HeaderField(out, "Namespace", workflow.namespace_);
  if (!workflow.parent.empty()) HeaderField(out, "Parent", workflow.parent);
  HeaderField(out, "Status",
              Paint(engine::PhaseName(workflow.phase), ColorCode(workflow.phase), color));
  if (!workflow.message.empty()) HeaderField(out, "Message", OneLine(workflow.message));
  if (workflow.created_at > 0) HeaderField(out, "Created", TimeAndAge(workflow.created_at, now));
  if (workflow.started_at > 0) HeaderField(out, "Started", TimeAndAge(workflow.started_at, now));
  if (workflow.finished_at > 0) {
    HeaderField(out, "Finished", TimeAndAge(workflow.finished_at, now));
  }
  if (workflow.started_at > 0) {
    HeaderField(out, "Duration", FormatDuration(WorkflowDuration(workflow, now)));
  }
  HeaderField(out, "Progress", hub::WorkflowProgress(workflow));
  if (!workflow.parameters.empty()) {
    out += "Parameters:\n";
    for (const engine::Param& p : workflow.parameters) {
      HeaderField(out, "  " + p.name, Truncate(OneLine(p.value), kMaxParameter));
    }
  }
  if (workflow.nodes.empty()) return out;

  std::vector<Row> rows = TreeBuilder(workflow, now).Build();
  Row title{"",      false,      Phase::kPending, "STEP",   "TEMPLATE",
            "SPOKE", "DURATION", "MESSAGE",       "PODNAME"};
  auto step_width = [](const Row& r) {
    return DisplayWidth(r.prefix) + (r.glyph ? 2 : 0) + DisplayWidth(r.name);
  };
  // Columns between STEP and MESSAGE; -o wide adds the node id after TEMPLATE.
  std::vector<std::string Row::*> middle = {&Row::template_name, &Row::spoke, &Row::duration};
  if (wide) middle.insert(middle.begin() + 1, &Row::id);
  size_t step_w = step_width(title);
  std::vector<size_t> widths;
  for (auto field : middle) widths.push_back(DisplayWidth(title.*field));
  for (const Row& r : rows) {
    step_w = std::max(step_w, step_width(r));
    for (size_t c = 0; c < middle.size(); ++c) {
      widths[c] = std::max(widths[c], DisplayWidth(r.*middle[c]));
    }
  }
  out += '\n';
  auto print = [&](const Row& r) {
    std::string line = r.prefix;
    if (r.glyph) line += Paint(Glyph(r.phase), ColorCode(r.phase), color) + " ";
    line += r.name;
    Pad(line, step_width(r), step_w + 2);
    for (size_t c = 0; c < middle.size(); ++c) {
      line += r.*middle[c];
      Pad(line, DisplayWidth(r.*middle[c]), widths[c] + 2);
    }
    line += r.message;
    line.erase(line.find_last_not_of(' ') + 1);
    out += line;
    out += '\n';
  };
  print(title);
  for (const Row& r : rows) print(r);
  return out;
}

Summary Summarize(const std::vector<const engine::WorkflowStatus*>& workflows, Micros now) {
  Summary summary;
  summary.tasks_by_phase.assign(kPhaseCount, 0);
  if (workflows.empty()) return summary;
  const WorkflowStatus& run = *workflows[0];
  summary.name = run.name;
  summary.phase = run.phase;
  summary.message = OneLine(run.message);
  WorkflowsByName by_name = IndexByName(workflows);
  std::vector<NodeIndex> indexes = IndexNodes(workflows);
  auto task_of = [](const Item& item, std::string_view workflow) {
    SummaryTask t{ItemName(item), std::string(workflow),   item.phase,
                  item.duration,  std::string(item.spoke), ""};
    if (engine::IsFailedOrError(item.phase)) t.message = FailureMessage(item);
    return t;
  };

  for (const Group& g : CollectGroups(workflows, indexes, by_name, now)) {
    const PhaseCounts& c = g.counts;
    SummaryGroup out{g.label,
                     g.items.size(),
                     Count(c, {Phase::kSucceeded}),
                     Count(c, {Phase::kFailed, Phase::kError}),
                     Count(c, {Phase::kSkipped, Phase::kOmitted}),
                     Count(c, {Phase::kRunning}),
                     Count(c, {Phase::kPending}),
                     {}};
    for (const Item& item : g.items) {
      if (engine::IsFailedOrError(item.phase)) {
        out.failed_tasks.push_back(task_of(item, g.workflow));
      }
    }
    summary.groups.push_back(std::move(out));
  }

  // Failures of the run outside its fan-outs (a retried task counts once, as its retry node).
  const NodeIndex& run_index = indexes[0];
  for (size_t i = 0; i < run.nodes.size(); ++i) {
    const Node& n = run.nodes[i];
    int p = run_index.Parent(static_cast<int>(i));
    if ((n.type != NodeType::kPod && n.type != NodeType::kRetry) || !n.fanout.empty() ||
        !engine::IsFailedOrError(n.phase) || (p >= 0 && run.nodes[p].type == NodeType::kRetry)) {
      continue;
    }
    summary.failed.push_back(task_of(MakeItem(n, by_name, now), run.name));
  }

  // Slowest tasks (child workflows standing for their resource nodes), the spokes, and the sum
  // of the time the spokes worked.
  std::vector<std::pair<Item, std::string_view>> tasks;
  std::map<std::string_view, SummarySpoke> spokes;
  for (const WorkflowStatus* w : workflows) {
    // A child workflow's tasks are listed through the resource node that stands for the child.
    bool stood_for = !w->parent.empty() && by_name.count(w->parent) > 0;
    for (const Node& n : w->nodes) {
      if (n.type != NodeType::kPod) continue;
      ++summary.tasks_by_phase[static_cast<size_t>(n.phase)];
      Item item = MakeItem(n, by_name, now);
      // A task no spoke took (ended by a deadline or a stop while it waited) did no work.
      bool worked = !n.child_workflow.empty() || (n.started_at > 0 && !n.host_node_name.empty());
      if (!worked) continue;
      if (n.child_workflow.empty()) {
        summary.task_sum += item.duration;
        SummarySpoke& s = spokes[n.host_node_name];
        ++s.tasks;
        s.busy += item.duration;
      }
      if (item.duration > 0 && !stood_for) tasks.emplace_back(item, w->name);
    }
  }
  std::vector<size_t> order(tasks.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  size_t slowest = std::min(kSlowest, tasks.size());
  std::partial_sort(order.begin(), order.begin() + slowest, order.end(), [&](size_t a, size_t b) {
    Micros da = tasks[a].first.duration, db = tasks[b].first.duration;
    return da != db ? da > db : a < b;
  });
  for (size_t i = 0; i < slowest; ++i) {
    summary.slowest.push_back(task_of(tasks[order[i]].first, tasks[order[i]].second));
  }
  for (auto& [name, s] : spokes) {
    s.name = std::string(name);
    summary.spokes.push_back(std::move(s));
  }
  std::stable_sort(summary.spokes.begin(), summary.spokes.end(), [](const auto& a, const auto& b) {
    // Mean task duration, slowest first, compared without dividing.
    return static_cast<double>(a.busy) * static_cast<double>(b.tasks) >
           static_cast<double>(b.busy) * static_cast<double>(a.tasks);
  });
  summary.wall = WorkflowDuration(run, now);
  return summary;
}

std::string RenderSummary(const Summary& summary) {
  std::string out;
  auto task_line = [](const SummaryTask& t) {
    std::string line = "  " + std::string(Glyph(t.phase)) + " " + t.name;
    if (!t.spoke.empty()) line += "  " + t.spoke;
    if (!t.message.empty()) line += "  " + t.message;
    return line + '\n';
  };
  const std::vector<SummaryGroup>& groups = summary.groups;
  std::vector<bool> has_failures(groups.size());
  std::vector<size_t> sizes(groups.size());
  for (size_t i = 0; i < groups.size(); ++i) {
    has_failures[i] = groups[i].failed > 0;
    sizes[i] = groups[i].total;
  }
  std::vector<size_t> shown = PickGroups(sizes, kMaxSummaryGroups, has_failures);
  for (size_t gi : shown) {
    const SummaryGroup& g = groups[gi];
    out += "Fan-out " + g.label + ": " + std::to_string(g.total) + " total, " +
           std::to_string(g.succeeded) + " succeeded, " + std::to_string(g.failed) + " failed, " +
           std::to_string(g.skipped) + " skipped";
    if (g.running) out += ", " + std::to_string(g.running) + " running";
    if (g.pending) out += ", " + std::to_string(g.pending) + " pending";
    out += '\n';
    size_t listed = std::min(kMaxFailedListed, g.failed_tasks.size());
    for (size_t i = 0; i < listed; ++i) out += task_line(g.failed_tasks[i]);
    if (g.failed_tasks.size() > listed) {
      out += "  … " + std::to_string(g.failed_tasks.size() - listed) + " more failed\n";
    }
  }
  if (groups.size() > shown.size()) {
    out += "… " + std::to_string(groups.size() - shown.size()) + " more fan-out groups\n";
  }
  if (!summary.failed.empty()) {
    out += "Failed:\n";
    size_t listed = std::min(kMaxFailedListed, summary.failed.size());
    for (size_t i = 0; i < listed; ++i) out += task_line(summary.failed[i]);
    if (summary.failed.size() > listed) {
      out += "  … " + std::to_string(summary.failed.size() - listed) + " more failed\n";
    }
  }
  if (!summary.slowest.empty()) {
    out += "Slowest:\n";
    for (const SummaryTask& task : summary.slowest) {
      std::string line = "  " + FormatDuration(task.duration);
      Pad(line, line.size(), 10);
      line += task.name;
      if (!task.spoke.empty()) line += "  " + task.spoke;
      out += line + '\n';
    }
  }
  out += "Time: wall " + FormatDuration(summary.wall) + ", tasks " +
         FormatDuration(summary.task_sum) + " in sum";
  if (summary.wall > 0 && summary.task_sum > 0) {
    char speedup[64];
    std::snprintf(speedup, sizeof speedup, ": %.1fx parallel speed-up",
                  static_cast<double>(summary.task_sum) / static_cast<double>(summary.wall));
    out += speedup;
  }
  out += '\n';
  out += "Result: " + summary.name + " " + std::string(engine::PhaseName(summary.phase));
  if (!summary.message.empty()) out += ": " + summary.message;
  out += '\n';
  return out;
}

std::string RenderSummary(const std::vector<const engine::WorkflowStatus*>& workflows, Micros now) {
  if (workflows.empty()) return "";
  return RenderSummary(Summarize(workflows, now));
}

std::string RenderProgress(const std::vector<const engine::WorkflowStatus*>& workflows, Micros now,
                           int width, bool color) {
  if (workflows.empty()) return "";
  const WorkflowStatus& run = *workflows[0];
  PhaseCounts pods{};
  for (const WorkflowStatus* w : workflows) {
    for (const Node& n : w->nodes) {
      if (n.type == NodeType::kPod) ++pods[static_cast<size_t>(n.phase)];
    }
  }
  std::string out = run.name + "  " +
                    Paint(engine::PhaseName(run.phase), ColorCode(run.phase), color) + "  " +
                    FormatDuration(WorkflowDuration(run, now));
  for (Phase p : {Phase::kSucceeded, Phase::kRunning, Phase::kPending, Phase::kFailed,
                  Phase::kError, Phase::kSkipped, Phase::kOmitted}) {
    size_t count = pods[static_cast<size_t>(p)];
    if (count > 0) out += "  " + Paint(Glyph(p), ColorCode(p), color) + " " + std::to_string(count);
  }
  out += '\n';

  std::vector<Group> groups =
      CollectGroups(workflows, IndexNodes(workflows), IndexByName(workflows), now);
  std::vector<bool> unfinished(groups.size());
  for (size_t i = 0; i < groups.size(); ++i) {
    unfinished[i] = Count(groups[i].counts, {Phase::kPending, Phase::kRunning}) > 0;
  }
  std::vector<size_t> sizes(groups.size());
  for (size_t i = 0; i < groups.size(); ++i) sizes[i] = groups[i].items.size();
  std::vector<size_t> shown = PickGroups(sizes, kMaxProgressGroups, unfinished);
  size_t label_width = 0;
  for (size_t gi : shown) {
    label_width = std::max(label_width, DisplayWidth(Truncate(groups[gi].label, kMaxLabel)));
  }
  for (size_t gi : shown) {
    const Group& g = groups[gi];
    size_t total = g.items.size();
    size_t failed = Count(g.counts, {Phase::kFailed, Phase::kError});
    size_t done = total - Count(g.counts, {Phase::kPending, Phase::kRunning});
    std::string count = "  " + std::to_string(done) + "/" + std::to_string(total);
    std::string failures = failed > 0 ? "✖" + std::to_string(failed) : "";
    // label, "  [", bar, "]", count, "  " failures
    int fixed = static_cast<int>(label_width + 3 + 1 + count.size() +
                                 (failed > 0 ? 2 + DisplayWidth(failures) : 0));
    size_t bar = static_cast<size_t>(std::clamp(width - fixed, 10, 60));
    size_t filled = total == 0 ? 0 : done * bar / total;
    std::string label = Truncate(g.label, kMaxLabel);
    std::string line = label;
    Pad(line, DisplayWidth(label), label_width);
    line += "  [" + Paint(std::string(filled, '#'), failed > 0 ? "33" : "32", color) +
            std::string(bar - filled, '-') + "]" + count;
    if (failed > 0) line += "  " + Paint(failures, "31", color);
    out += line + '\n';
  }
  if (groups.size() > shown.size()) {
    out += "… " + std::to_string(groups.size() - shown.size()) + " more fan-out groups\n";
  }
  return out;
}

}  // namespace hubspoke::cli
