#include "cli/render.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace hubspoke::cli {
namespace {

using engine::Node;
using engine::NodeType;
using engine::Phase;
using engine::WorkflowStatus;

constexpr Micros kT0 = 1'700'000'000'000'000;
constexpr Micros kSecond = 1'000'000;

Node MakeNode(const std::string& id, const std::string& display, NodeType type, Phase phase,
              const std::string& boundary = "") {
  Node n;
  n.id = id;
  n.name = "wf." + display;
  n.display_name = display;
  n.type = type;
  n.phase = phase;
  n.boundary_id = boundary;
  return n;
}

// A leaf task that ran on `spoke` from start to start + seconds.
Node Task(const std::string& id, const std::string& display, Phase phase, double start,
          double seconds, const std::string& boundary) {
  Node n = MakeNode(id, display, NodeType::kPod, phase, boundary);
  n.template_name = "worker";
  n.host_node_name = "spoke-" + id;
  n.started_at = kT0 + static_cast<Micros>(start * kSecond);
  n.finished_at = n.started_at + static_cast<Micros>(seconds * kSecond);
  return n;
}

// steps: [0] fetch; [1] process over a, b, c (c fails); [2] spawn (a resource step creating
// child workflow wf-child, which ran 3.5s). Wall time 5s; tasks 1 + 2 + 2 + 2 = 7s, plus the
// child's own task of 3s.
struct Fixture {
  WorkflowStatus run;
  WorkflowStatus child;

  Fixture() {
    run.name = "wf";
    run.phase = Phase::kFailed;
    run.message = "child 'wf-4' failed";
    run.created_at = kT0;
    run.started_at = kT0;
    run.finished_at = kT0 + 5 * kSecond;
    run.parameters = {{"repos", R"(["a","b","c"])"}};
    Node root = MakeNode("wf", "wf", NodeType::kSteps, Phase::kFailed);
    root.template_name = "main";
    root.children = {"g0", "g1", "g2"};
    run.nodes.push_back(root);
    Node g0 = MakeNode("g0", "[0]", NodeType::kStepGroup, Phase::kSucceeded, "wf");
    g0.children = {"fetch"};
    run.nodes.push_back(g0);
    run.nodes.push_back(Task("fetch", "fetch", Phase::kSucceeded, 0, 1, "wf"));
    Node g1 = MakeNode("g1", "[1]", NodeType::kStepGroup, Phase::kFailed, "wf");
    const char* items[] = {"a", "b", "c"};
    for (int i = 0; i < 3; ++i) {
      std::string id = "p" + std::to_string(i);
      g1.children.push_back(id);
      Node item = Task(id, "process(" + std::to_string(i) + ":" + items[i] + ")",
                       i == 2 ? Phase::kFailed : Phase::kSucceeded, 1, 2, "wf");
      item.fanout = "process";
      item.item_index = i;
      if (i == 2) item.message = "Error (exit code 1)";
      run.nodes.push_back(item);
    }
    run.nodes.insert(run.nodes.begin() + 3, g1);
    Node g2 = MakeNode("g2", "[2]", NodeType::kStepGroup, Phase::kSucceeded, "wf");
    g2.children = {"spawn"};
    run.nodes.push_back(g2);
    Node spawn = MakeNode("spawn", "spawn", NodeType::kPod, Phase::kSucceeded, "wf");
    spawn.template_name = "create-child";
    spawn.host_node_name = "hub";
    spawn.child_workflow = "wf-child";
    spawn.started_at = kT0 + 3 * kSecond;
    spawn.finished_at = kT0 + 4 * kSecond;
    run.nodes.push_back(spawn);

    child.name = "wf-child";
    child.parent = "wf";
    child.parent_node = "spawn";
    child.phase = Phase::kSucceeded;
    child.started_at = kT0 + 3 * kSecond;
    child.finished_at = kT0 + 6'500'000;
    Node child_root = Task("wf-child", "wf-child", Phase::kSucceeded, 3, 3, "");
    child.nodes.push_back(child_root);
  }

  std::vector<const WorkflowStatus*> All() const { return {&run, &child}; }
};

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  for (size_t nl; (nl = text.find('\n', start)) != std::string::npos; start = nl + 1) {
    lines.push_back(text.substr(start, nl - start));
  }
  return lines;
}

// The line of `text` that contains `needle`, or "".
std::string LineWith(const std::string& text, const std::string& needle) {
  for (const std::string& line : Lines(text)) {
    if (line.find(needle) != std::string::npos) return line;
  }
  return "";
}

// The terminal column where `needle` starts in `line` (code points before it).
size_t Column(const std::string& line, const std::string& needle) {
  std::string before = line.substr(0, line.find(needle));
  return std::count_if(before.begin(), before.end(),
                       [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; });
}

bool Contains(const std::string& text, const std::string& needle) {
  return text.find(needle) != std::string::npos;
}

TEST(RenderTreeTest, ShowsHeaderAndEveryStepWithGlyphAndMessage) {
  Fixture f;
  std::string tree = RenderTree(f.run, kT0 + 10 * kSecond, /*color=*/false);
  EXPECT_TRUE(Contains(tree, "Name:                wf\n")) << tree;
  EXPECT_TRUE(Contains(tree, "Status:              Failed\n"));
  EXPECT_TRUE(Contains(tree, "Message:             child 'wf-4' failed\n"));
  EXPECT_TRUE(Contains(tree, "Duration:            5.0s\n"));
  EXPECT_TRUE(Contains(tree, "Progress:            4/5\n"));
  EXPECT_TRUE(Contains(tree, "Finished:            2023-11-14T22:13:25Z (5.0s ago)\n"));
  EXPECT_TRUE(Contains(tree, "  repos:             [\"a\",\"b\",\"c\"]\n"));
  EXPECT_FALSE(Contains(tree, "\x1b["));

  // Argo's layout: one step per group hangs off "├───"; parallel items fork with "┬".
  std::vector<std::string> expected = {
      " ✖ wf",
      " ├───✔ fetch",
      " ├─┬─✔ process(0:a)",
      " │ ├─✔ process(1:b)",
      " │ └─✖ process(2:c)",
      " └───✔ spawn",
  };
  std::vector<std::string> lines = Lines(tree.substr(tree.find("STEP")));
  ASSERT_EQ(lines.size(), expected.size() + 1) << tree;
  EXPECT_EQ(lines[0].substr(0, 4), "STEP");
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(lines[i + 1].substr(0, expected[i].size()), expected[i]) << tree;
  }
  std::string failed = LineWith(tree, "process(2:c)");
  EXPECT_TRUE(Contains(failed, "worker")) << failed;
  EXPECT_TRUE(Contains(failed, "spoke-p2")) << failed;
  EXPECT_TRUE(Contains(failed, "2.0s")) << failed;
  EXPECT_TRUE(Contains(failed, "Error (exit code 1)")) << failed;
  // The columns line up.
  EXPECT_EQ(Column(LineWith(tree, "TEMPLATE"), "TEMPLATE"),
            Column(LineWith(tree, "fetch"), "worker"));
  EXPECT_EQ(Column(LineWith(tree, "TEMPLATE"), "MESSAGE"), Column(failed, "Error"));
  // A resource node names its child workflow and its phase.
  std::string spawn = LineWith(tree, "spawn");
  EXPECT_TRUE(Contains(spawn, "wf-child")) << spawn;
  EXPECT_TRUE(Contains(spawn, "child workflow Succeeded")) << spawn;
}

TEST(RenderTreeTest, DagTasksRetriesAndExitHandler) {
  WorkflowStatus w;
  w.name = "d";
  w.phase = Phase::kRunning;
  Node root = MakeNode("d", "d", NodeType::kDag, Phase::kRunning);
  root.children = {"a", "b"};
  w.nodes.push_back(root);
  Node a = Task("a", "A", Phase::kSucceeded, 0, 1, "d");
  a.children = {"c"};  // DAG dependents: shown under the DAG, not under A
  w.nodes.push_back(a);
  Node b = MakeNode("b", "B", NodeType::kTaskGroup, Phase::kRunning, "d");
  b.children = {"b0", "b1"};
  w.nodes.push_back(b);
  for (int i = 0; i < 2; ++i) {
    Node item =
        Task("b" + std::to_string(i), "B(" + std::to_string(i) + ")", Phase::kRunning, 1, 0, "d");
    item.finished_at = 0;
    item.fanout = "B";
    w.nodes.push_back(item);
  }
  Node c = MakeNode("c", "C", NodeType::kRetry, Phase::kRunning, "d");
  c.children = {"c0", "c1"};
  w.nodes.push_back(c);
  w.nodes.push_back(Task("c0", "C(0)", Phase::kError, 1, 1, "d"));
  Node c1 = MakeNode("c1", "C(1)", NodeType::kPod, Phase::kPending, "d");
  w.nodes.push_back(c1);
  w.nodes.push_back(MakeNode("exit", "d.onExit", NodeType::kPod, Phase::kPending));

  std::string tree = RenderTree(w, kT0 + 3 * kSecond, false);
  std::vector<std::string> expected = {
      " ● d",   " ├─✔ A",      " ├─● B",      " │ ├─● B(0)", " │ └─● B(1)",
      " └─● C", "   ├─⚠ C(0)", "   └─◷ C(1)", " ◷ d.onExit",
  };
  std::vector<std::string> lines = Lines(tree.substr(tree.find("STEP")));
  ASSERT_EQ(lines.size(), expected.size() + 1) << tree;
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(lines[i + 1].substr(0, expected[i].size()), expected[i]) << tree;
  }
  EXPECT_TRUE(Contains(LineWith(tree, "B(0)"), "2.0s")) << tree;  // running: up to now
}

TEST(RenderTreeTest, HooksShowUnderTheNodeTheyHook) {
  WorkflowStatus w;
  w.name = "h";
  w.phase = Phase::kSucceeded;
  Node root = MakeNode("h", "h", NodeType::kSteps, Phase::kSucceeded);
  root.name = "h";
  root.children = {"g0", "running"};
  w.nodes.push_back(root);
  Node g0 = MakeNode("g0", "[0]", NodeType::kStepGroup, Phase::kSucceeded, "h");
  g0.name = "h[0]";
  g0.children = {"a"};
  w.nodes.push_back(g0);
  Node a = Task("a", "a", Phase::kSucceeded, 0, 1, "h");
  a.name = "h[0].a";
  a.children = {"a-exit"};
  w.nodes.push_back(a);
  Node exit = Task("a-exit", "a.onExit", Phase::kSucceeded, 1, 1, "h");
  exit.name = "h[0].a.onExit";
  w.nodes.push_back(exit);
  Node running = Task("running", "h.hooks.running", Phase::kSucceeded, 0, 1, "");
  running.name = "h.hooks.running";
  w.nodes.push_back(running);

  std::string tree = RenderTree(w, kT0 + 3 * kSecond, false);
  std::vector<std::string> expected = {" ✔ h", " ├───✔ a", " │   └─✔ a.onExit",
                                       " └───✔ h.hooks.running"};
  std::vector<std::string> lines = Lines(tree.substr(tree.find("STEP")));
  ASSERT_EQ(lines.size(), expected.size() + 1) << tree;
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(lines[i + 1].substr(0, expected[i].size()), expected[i]) << tree;
  }
}

TEST(RenderTreeTest, ColorPaintsGlyphs) {
  Fixture f;
  std::string tree = RenderTree(f.run, kT0 + 10 * kSecond, /*color=*/true);
  EXPECT_TRUE(Contains(tree, "\x1b[31m✖\x1b[0m process(2:c)")) << tree;
  EXPECT_TRUE(Contains(tree, "\x1b[32m✔\x1b[0m fetch"));
}

TEST(RenderTreeTest, WideAddsThePodNameColumn) {
  Fixture f;
  std::string narrow = RenderTree(f.run, kT0 + 10 * kSecond, /*color=*/false);
  std::string wide = RenderTree(f.run, kT0 + 10 * kSecond, /*color=*/false, /*wide=*/true);
  EXPECT_FALSE(Contains(narrow, "PODNAME"));
  EXPECT_TRUE(Contains(wide, "PODNAME")) << wide;
  EXPECT_TRUE(Contains(wide, "process(2:c)  worker        p2       spoke-p2")) << wide;
}

// One group of `n` items; item `failed_index` failed, the rest succeeded.
WorkflowStatus BigFanout(int n, int failed_index) {
  WorkflowStatus w;
  w.name = "big";
  w.phase = Phase::kFailed;
  w.started_at = kT0;
  w.finished_at = kT0 + 60 * kSecond;
  Node root = MakeNode("big", "big", NodeType::kSteps, Phase::kFailed);
  root.children = {"g"};
  w.nodes.push_back(root);
  w.nodes.push_back(MakeNode("g", "[0]", NodeType::kStepGroup, Phase::kFailed, "big"));
  for (int i = 0; i < n; ++i) {
    std::string id = "i" + std::to_string(i);
    w.nodes[1].children.push_back(id);
    Node item = Task(id, "work(" + std::to_string(i) + ")",
                     i == failed_index ? Phase::kFailed : Phase::kSucceeded, i % 50, 1.5, "big");
    item.fanout = "work";
    item.item_index = i;
    if (i == failed_index) item.message = "exit code 3";
    w.nodes.push_back(std::move(item));
  }
  return w;
}

TEST(RenderTreeTest, LongFanoutIsElided) {
  WorkflowStatus w = BigFanout(100'000, 70'000);
  std::string tree = RenderTree(w, kT0 + 60 * kSecond, false);
  EXPECT_LT(Lines(tree).size(), 30u) << tree;
  EXPECT_TRUE(Contains(tree, "✔ work(0)"));
  EXPECT_TRUE(Contains(tree, "✔ work(4)"));
  EXPECT_FALSE(Contains(tree, "work(5)"));
  EXPECT_TRUE(Contains(LineWith(tree, "work(70000)"), "exit code 3")) << tree;
  EXPECT_TRUE(Contains(tree, "└─… 99994 more (99994 Succeeded)")) << tree;
}

TEST(RenderTreeTest, FiftyItemsAreNotElided) {
  WorkflowStatus w = BigFanout(50, -1);
  std::string tree = RenderTree(w, kT0, false);
  EXPECT_TRUE(Contains(tree, "work(49)"));
  EXPECT_FALSE(Contains(tree, "more ("));
}

TEST(RenderSummaryTest, CountsFanoutFailuresSlowestAndSpeedup) {
  Fixture f;
  std::string summary = RenderSummary(f.All(), kT0 + 10 * kSecond);
  EXPECT_TRUE(Contains(summary, "Fan-out process: 3 total, 2 succeeded, 1 failed, 0 skipped\n"))
      << summary;
  std::string failed = LineWith(summary, "process(2:c)");
  EXPECT_TRUE(Contains(failed, "✖")) << summary;
  EXPECT_TRUE(Contains(failed, "spoke-p2")) << summary;
  EXPECT_TRUE(Contains(failed, "Error (exit code 1)")) << summary;
  // Slowest first: the child workflow stands for its resource node, timed by the span its tasks
  // ran (3.0s), not the 3.5s the child existed (it may have waited for a spoke).
  std::vector<std::string> lines = Lines(summary);
  auto slowest = std::find(lines.begin(), lines.end(), "Slowest:");
  ASSERT_NE(slowest, lines.end()) << summary;
  EXPECT_EQ(*(slowest + 1), "  3.0s    spawn  wf-child") << summary;
  // The child's own task is not listed again: the spawn line stands for it.
  EXPECT_EQ(*(slowest + 2), "  2.0s    process(0:a)  spoke-p0") << summary;  // ties: in order
  EXPECT_FALSE(Contains(summary, "wf-child  spoke-wf-child")) << summary;
  // Tasks: fetch 1s + 3 x 2s + the child's own task 3s = 10s over a 5s run.
  EXPECT_TRUE(Contains(summary, "Time: wall 5.0s, tasks 10s in sum: 2.0x parallel speed-up\n"))
      << summary;
  EXPECT_EQ(lines.back(), "Result: wf Failed: child 'wf-4' failed");
}

TEST(RenderSummaryTest, ChildWorkflowItemsReportTheChildsOutcome) {
  // The hub-orchestrator pattern: one child workflow per repository.
  WorkflowStatus run;
  run.name = "hub";
  run.phase = Phase::kRunning;
  run.started_at = kT0;
  Node root = MakeNode("hub", "hub", NodeType::kSteps, Phase::kRunning);
  root.children = {"g"};
  run.nodes.push_back(root);
  run.nodes.push_back(MakeNode("g", "[0]", NodeType::kStepGroup, Phase::kRunning, "hub"));
  std::vector<WorkflowStatus> children(3);
  for (int i = 0; i < 3; ++i) {
    std::string id = "r" + std::to_string(i);
    run.nodes[1].children.push_back(id);
    Node item = MakeNode(id, "process-repo(" + std::to_string(i) + ")", NodeType::kPod,
                         Phase::kRunning, "hub");
    item.fanout = "process-repo";
    item.item_index = i;
    item.host_node_name = "hub";
    item.child_workflow = "worker-" + std::to_string(i);
    item.started_at = kT0;
    run.nodes.push_back(item);
    WorkflowStatus& c = children[i];
    c.name = item.child_workflow;
    c.parent = "hub";
    c.started_at = kT0 + kSecond;
    c.phase = i == 1 ? Phase::kFailed : (i == 0 ? Phase::kSucceeded : Phase::kRunning);
    if (i != 2) c.finished_at = kT0 + (i + 2) * kSecond;
    Node task = Task(c.name, "clone", c.phase, 1, i + 1, "");
    if (i == 1) {
      c.message = "child failed";
      task.message = "fatal: repository not found";
    }
    c.nodes.push_back(task);
  }
  std::vector<const WorkflowStatus*> all = {&run, &children[0], &children[1], &children[2]};
  std::string summary = RenderSummary(all, kT0 + 4 * kSecond);
  EXPECT_TRUE(Contains(summary,
                       "Fan-out process-repo: 3 total, 1 succeeded, 1 failed, 0 skipped, "
                       "1 running\n"))
      << summary;
  std::string failed = LineWith(summary, "process-repo(1)");
  EXPECT_TRUE(Contains(failed, "worker-1")) << summary;
  EXPECT_TRUE(Contains(failed, "child failed; clone: fatal: repository not found")) << summary;
  EXPECT_TRUE(Contains(summary, "Result: hub Running\n")) << summary;

  std::string progress = RenderProgress(all, kT0 + 4 * kSecond, 60, false);
  std::string bar = LineWith(progress, "process-repo");
  EXPECT_TRUE(Contains(bar, "  2/3  ✖1")) << progress;
  EXPECT_EQ(bar.size() - std::string("✖").size() + 1, 60u) << progress;  // fits the width
  EXPECT_TRUE(Contains(progress, "hub  Running  4.0s")) << progress;
  EXPECT_FALSE(Contains(progress, "\x1b["));
  EXPECT_TRUE(Contains(RenderProgress(all, kT0 + 4 * kSecond, 60, true), "\x1b[31m✖1\x1b[0m"));
}

TEST(RenderSummaryTest, FailuresOutsideFanoutsAreListed) {
  Fixture f;
  f.run.nodes[2].phase = Phase::kError;  // fetch
  f.run.nodes[2].message = "spoke lost";
  std::string summary = RenderSummary({&f.run}, kT0 + 10 * kSecond);
  EXPECT_TRUE(Contains(summary, "Failed:\n  ⚠ fetch  spoke-fetch  spoke lost\n")) << summary;
}

TEST(RenderProgressTest, CountsPodsByPhaseAndDrawsABarPerFanout) {
  Fixture f;
  f.run.phase = Phase::kRunning;
  f.run.finished_at = 0;
  std::string progress = RenderProgress(f.All(), kT0 + 5 * kSecond, 80, false);
  std::vector<std::string> lines = Lines(progress);
  ASSERT_EQ(lines.size(), 2u) << progress;
  EXPECT_EQ(lines[0], "wf  Running  5.0s  ✔ 5  ✖ 1") << progress;
  EXPECT_TRUE(Contains(lines[1], "process  [")) << progress;
  EXPECT_TRUE(Contains(lines[1], "#]  3/3  ✖1")) << progress;
}

TEST(RenderScaleTest, HundredThousandNodesSummarizeShortly) {
  WorkflowStatus w = BigFanout(100'000, 123);
  std::string summary = RenderSummary({&w}, kT0 + 60 * kSecond);
  EXPECT_LT(Lines(summary).size(), 20u) << summary;
  EXPECT_TRUE(Contains(summary, "100000 total, 99999 succeeded, 1 failed")) << summary;
  EXPECT_TRUE(Contains(summary, "work(123)")) << summary;
  std::string progress = RenderProgress({&w}, kT0 + 60 * kSecond, 80, false);
  EXPECT_TRUE(Contains(progress, "100000/100000")) << progress;
}

}  // namespace
}  // namespace hubspoke::cli
