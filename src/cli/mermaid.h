// `hubspoke get -o mermaid`: a workflow as a Mermaid flowchart, to paste into Markdown. Nodes are
// colored by phase; a fan-out of more than a few items is drawn as one node with its counts by
// phase (a 10,000-item fan-out stays one box); a resource node names the child workflow it
// created. Thread-safety: a pure function.
#pragma once

#include <string>

#include "engine/types.h"

namespace hubspoke::cli {

std::string RenderMermaid(const engine::WorkflowStatus& workflow);

}  // namespace hubspoke::cli
