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

// Per fan-out group: counts by phase and the failed items with their messages; failed tasks
// outside groups; the five slowest tasks with their spoke or child workflow; wall time against
// the sum of task durations (the parallel speed-up); the final phase. `workflows[0]` is the run.
std::string RenderSummary(const std::vector<const engine::WorkflowStatus*>& workflows, Micros now);

// A few lines for a live display: the run's phase, elapsed time and counts of Pod nodes by phase,
// then a progress bar per fan-out group fitted to `width` columns. No cursor control codes; colors
// only when `color`.
std::string RenderProgress(const std::vector<const engine::WorkflowStatus*>& workflows, Micros now,
                           int width, bool color);

}  // namespace hubspoke::cli
