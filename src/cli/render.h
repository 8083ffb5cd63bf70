// Human-readable views of a run for the terminal: the `argo get`-style tree of one workflow, the
// summary printed when a run ends, and a few lines of live progress. The multi-workflow views take
// the workflow the user ran first, then the child workflows it created (`resource` templates): a
// resource node names its child in `child_workflow`, and that child's phase, duration and message
// stand for the node's. Fan-out groups are the nodes sharing `fanout` under one parent. All views
// are linear in the number of nodes and elide long fan-outs, so 100,000 nodes stay readable.
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <vector>

#include "common/clock.h"
#include "engine/types.h"

namespace hubspoke::cli {

// Header lines (Name, Status, Message, Created, Started, Finished, Duration, Progress,
// Parameters), then the node tree with columns STEP, TEMPLATE, SPOKE, DURATION, MESSAGE and
// Argo's phase glyphs (✔ ✖ ⚠ ● ◷ ○). Running durations are measured up to `now`. `color` adds
// ANSI colors to glyphs and the status. `wide` adds a PODNAME column (the node id), as
// `argo get -o wide` does.
std::string RenderTree(const engine::WorkflowStatus& workflow, Micros now, bool color,
                       bool wide = false);

// A duration as the views print it: "4.2s", "42s", "3m05s", "1h02m".
std::string FormatDuration(Micros d);

// A task in a summary: a Pod node, or a resource node with the child workflow it created
// standing for it (its phase, the span its tasks ran, its name as the spoke).
struct SummaryTask {
  std::string name;      // display name
  std::string workflow;  // the workflow the node belongs to
  engine::Phase phase = engine::Phase::kPending;
  Micros duration = 0;
  std::string spoke;    // the spoke (slot) that ran it, or the child workflow
  std::string message;  // failed tasks: what went wrong (a child's first failed task included)
};

struct SummaryGroup {
  std::string label;  // the fan-out, prefixed by its workflow's name in child workflows
  size_t total = 0, succeeded = 0, failed = 0, skipped = 0, running = 0, pending = 0;
  std::vector<SummaryTask> failed_tasks;  // Failed and Error items, in item order
};

struct SummarySpoke {
  std::string name;
  size_t tasks = 0;
  Micros busy = 0;  // the sum of its tasks' durations
};

// What the end of a run shows, computed once for every format (text, JSON, HTML).
struct Summary {
  std::string name;
  engine::Phase phase = engine::Phase::kPending;
  std::string message;
  std::vector<size_t> tasks_by_phase;  // task (Pod) nodes of every workflow, by engine::Phase
  std::vector<SummaryGroup> groups;    // fan-out groups of every workflow
  std::vector<SummaryTask> failed;     // failed tasks of the run outside fan-outs
  std::vector<SummaryTask> slowest;    // the five slowest tasks, slowest first
  std::vector<SummarySpoke> spokes;    // by mean task duration, slowest first
  Micros wall = 0;                     // the run's duration
  Micros task_sum = 0;                 // the sum of its tasks' durations
};

// Per fan-out group: counts by phase and the failed items with their messages; failed tasks
// outside groups; the five slowest tasks with their spoke or child workflow; the spokes that ran
// tasks; wall time against the sum of task durations (the parallel speed-up); the final phase.
// `workflows[0]` is the run, the others the child workflows it created.
Summary Summarize(const std::vector<const engine::WorkflowStatus*>& workflows, Micros now);

// The summary as text (at most ten groups and twenty failed items each are listed).
std::string RenderSummary(const Summary& summary);
std::string RenderSummary(const std::vector<const engine::WorkflowStatus*>& workflows, Micros now);

// A few lines for a live display: the run's phase, elapsed time and counts of Pod nodes by phase,
// then a progress bar per fan-out group fitted to `width` columns. No cursor control codes; colors
// only when `color`.
std::string RenderProgress(const std::vector<const engine::WorkflowStatus*>& workflows, Micros now,
                           int width, bool color);

}  // namespace hubspoke::cli
