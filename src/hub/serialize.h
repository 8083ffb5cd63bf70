// Workflows and nodes as JSON shaped like Argo's (apiVersion argoproj.io/v1alpha1, kind Workflow,
// status.nodes keyed by node id), for `-o json`/`-o yaml`, the REST API and the store's rows.
// hubspoke's own node and workflow fields that Argo lacks (fan-out item, child workflow, retries,
// microsecond times) live under a "hubspoke" object so they never clash with Argo's fields; they
// make NodeToJson/NodeFromJson and WorkflowToJson/WorkflowStatusFromJson exact round trips.
// Empty fields are omitted as Argo omits them. JSON is exchanged as text so that this header does
// not pull nlohmann-json into its includers.
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "engine/types.h"
#include "spec/model.h"

namespace hubspoke::hub {

// The whole Workflow object: metadata (name, namespace, labels, creationTimestamp, an
// ownerReference to the parent workflow), spec (the manifest's spec from `source_json`, with the
// effective spec.arguments.parameters of `status`) and status (phase, times, message, progress,
// outputs and, when `with_nodes`, the nodes keyed by id in creation order). Without nodes it is
// the workflow row the store keeps; the nodes are stored as NodeToJson rows.
std::string WorkflowToJson(const spec::Workflow& manifest, const engine::WorkflowStatus& status,
                           bool with_nodes);

// The whole workflow as text from stored rows: `workflow_json` (a WorkflowToJson without nodes)
// with status.nodes holding each node's text keyed by its id, in the given order. Linear in the
// size: the node texts are checked (a malformed one is left out), not parsed into objects.
std::string WorkflowJsonWithNodes(std::string_view workflow_json,
                                  const std::vector<std::pair<std::string, std::string>>& nodes);

// Loads a workflow written by WorkflowToJson back: `workflow_json` is the Workflow object (its
// status.nodes, if any, are loaded first) and `node_jsons` holds further NodeToJson rows. The
// root node (id == workflow name) is put first; other nodes keep their order.
Result<engine::WorkflowStatus> WorkflowStatusFromJson(std::string_view workflow_json,
                                                      const std::vector<std::string>& node_jsons);

// One node as Argo's NodeStatus (id, name, displayName, type, templateName, phase, boundaryID,
// message, startedAt, finishedAt, progress, inputs, outputs, children, hostNodeName) plus the
// "hubspoke" object.
std::string NodeToJson(const engine::Node& node);
// A memoize cache entry, as the store keeps it.
std::string MemoEntryToJson(const engine::MemoEntry& entry);
Result<engine::MemoEntry> MemoEntryFromJson(std::string_view json);
Result<engine::Node> NodeFromJson(std::string_view json);

// Argo's progress: "succeeded Pod nodes/all Pod nodes", e.g. "3/5".
std::string WorkflowProgress(const engine::WorkflowStatus& status);

// Block-style YAML for `-o yaml`: same content as the JSON with keys sorted (as kubectl and argo
// print them), strings that would read back as other types quoted, multi-line strings as literal
// blocks where that is exact. Meant for JSON this file produced; text that is not JSON gives "".
std::string JsonToYaml(std::string_view json);

}  // namespace hubspoke::hub
