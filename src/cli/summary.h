// `hubspoke summary NAME -o json|html`: a run's Summary (render.h) as stable JSON, and as one
// self-contained HTML page (inline CSS and SVG, nothing fetched) with a timeline of its tasks.
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <vector>

#include "cli/render.h"

namespace hubspoke::cli {

// The JSON shape (docs/api.md, "Run summary"):
//   {"name", "phase", "message",
//    "tasks": {"total", "Pending", "Running", "Succeeded", "Failed", "Error", "Skipped",
//              "Omitted"},
//    "fanouts": [{"name", "total", "succeeded", "failed", "skipped", "running", "pending",
//                 "failedTasks": [task...]}],
//    "failedTasks": [task...],          (outside fan-outs)
//    "slowestTasks": [task...],
//    "spokes": [{"name", "tasks", "busySeconds", "meanSeconds"}],   (slowest mean first)
//    "wallSeconds", "taskSeconds", "speedup"}
// where a task is {"name", "workflow", "phase", "spoke", "durationSeconds", "message"}.
std::string SummaryJson(const Summary& summary);

// The summary, then a Gantt chart in SVG: one row per spoke slot (hostNodeName), one bar per
// task (a <rect class="task PHASE">, its <title> naming the task), coloured by phase, over a time
// axis from the first task's start to the last one's end (or `now` while running).
std::string SummaryHtml(const Summary& summary,
                        const std::vector<const engine::WorkflowStatus*>& workflows, Micros now);

// The summary of `workflows` (the run, then its child workflows) in `output`: "" or "text",
// "json" or "html".
std::string SummaryOutput(const std::vector<const engine::WorkflowStatus*>& workflows, Micros now,
                          const std::string& output);

}  // namespace hubspoke::cli
