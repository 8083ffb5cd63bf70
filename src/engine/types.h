// The engine's public vocabulary: node and workflow status (shaped like Argo's NodeStatus and
// WorkflowStatus), the self-contained Task a spoke runs, and the TaskResult it reports.
// Thread-safety: plain values.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"

namespace hubspoke::engine {

enum class Phase : uint8_t { kPending, kRunning, kSucceeded, kFailed, kError, kSkipped, kOmitted };
enum class NodeType : uint8_t {
  kPod,
  kSteps,
  kStepGroup,
  kDag,
  kTaskGroup,
  kRetry,
  kSkipped,
  kSuspend
};

std::string_view PhaseName(Phase phase);       // "Succeeded", ...
std::string_view NodeTypeName(NodeType type);  // "Pod", "StepGroup", ...
std::optional<Phase> ParsePhase(std::string_view name);
std::optional<NodeType> ParseNodeType(std::string_view name);
// Completed: Succeeded, Failed, Error, Skipped, Omitted.
bool IsCompleted(Phase phase);
bool IsFailedOrError(Phase phase);

struct Param {
  std::string name;
  std::string value;
};

// An artifact a node produced: `key` locates it in the hub's artifact store.
struct ArtifactRef {
  std::string name;
  std::string path;  // where the task saw it
  std::string key;
};

struct Node {
  std::string id;
  std::string name;          // "wf[0].process-repo(3:repo-3)"
  std::string display_name;  // "process-repo(3:repo-3)"
  NodeType type = NodeType::kPod;
  std::string template_name;
  Phase phase = Phase::kPending;
  std::string boundary_id;
  std::vector<std::string> children;  // node ids
  Micros started_at = 0;
  Micros finished_at = 0;
  std::string message;
  std::vector<Param> inputs;
  std::optional<std::string> result;   // outputs.result
  std::optional<int> exit_code;        // outputs.exitCode
  std::vector<Param> outputs;          // outputs.parameters
  std::vector<ArtifactRef> artifacts;  // outputs.artifacts
  std::string host_node_name;          // the spoke that ran it ("hub" for resource nodes)
  // Fan-out bookkeeping for summaries: the looped step/task this node is an item of, and its index.
  std::string fanout;
  int item_index = -1;
  std::string child_workflow;  // resource nodes: the workflow they created
  // memoize: the key and cache the node's outputs are found or kept under, and whether they were
  // found (Argo's memoizationStatus).
  std::string memo_key;
  std::string memo_cache;
  bool memo_hit = false;
  int retries = 0;  // attempts before this one (Retry children)
};

// The outputs a memoized node left in a cache (a template's `memoize`).
struct MemoEntry {
  Micros created_at = 0;
  std::optional<std::string> result;
  std::optional<int> exit_code;
  std::vector<Param> outputs;
  std::vector<ArtifactRef> artifacts;
};

// A container of a containerSet task: one process, after its dependencies (names of containers
// listed before it) succeeded.
struct TaskContainer {
  std::string name;
  std::string image;
  std::vector<std::string> command;  // may be empty: the spoke maps `image` to a command
  std::vector<std::string> args;
  std::vector<std::pair<std::string, std::string>> env;
  std::vector<std::string> dependencies;
};

// An artifact of a task: `key` names its file in the artifact store (inputs: read from there,
// or `data` when given; outputs: written there).
struct TaskArtifact {
  std::string name;
  std::string path;  // as the task sees it
  std::string key;
  std::optional<std::string> data;  // inputs given as raw data
  bool archive = true;              // outputs: tar+gzip; false: the file as it is
  bool optional = false;            // outputs: a missing path is not an error
};

// One task for a spoke: everything it needs, nothing about workflows.
struct Task {
  std::string attempt_id;  // unique across the hub; results are deduplicated by it
  std::string workflow;
  std::string node_id;
  std::string image;
  std::vector<std::string> command;  // may be empty: the spoke maps `image` to a command
  std::vector<std::string> args;
  std::string script_source;  // script templates
  std::vector<std::pair<std::string, std::string>> env;
  std::string working_dir;
  int64_t timeout_ms = 0;
  std::vector<std::string> output_files;             // paths read after exit (output parameters)
  std::vector<TaskArtifact> input_artifacts;         // placed before the task starts
  std::vector<TaskArtifact> output_artifacts;        // stored after it exits
  std::vector<std::string> private_dirs;             // emptyDir volume mount paths
  std::map<std::string, std::string> node_selector;  // spoke labels required
  // containerSet tasks: these run in order instead of image/command/args/env, sharing the working
  // directory, /tmp and private_dirs; stdout_text is the one of the container named "main".
  std::vector<TaskContainer> containers;
  // Sidecars: started with the task's main process in its working directory, /tmp and private
  // dirs, and stopped once it exits; the task's outcome is the main process's.
  std::vector<TaskContainer> sidecars;
};

struct TaskResult {
  std::string attempt_id;
  std::string spoke;
  bool started = true;  // false: could not start (command not found...): node Error
  bool lost = false;    // the spoke was lost while it ran: node Error, retried as transient
  int exit_code = -1;
  std::string stdout_text;  // outputs.result
  std::string message;
  std::map<std::string, std::string> files;  // output_files that existed
  // Why an output artifact was not stored, by name; absent: stored.
  std::map<std::string, std::string> artifact_errors;
  bool timed_out = false;
  Micros started_at = 0;
  Micros finished_at = 0;
};

// A workflow as clients see it (Argo's Workflow minus the spec, which stays in spec::Workflow).
struct WorkflowStatus {
  std::string name;
  std::string namespace_;
  std::map<std::string, std::string> labels;
  std::string parent;       // the workflow that created this one, or ""
  std::string parent_node;  // its resource node id
  Phase phase = Phase::kPending;
  Micros created_at = 0;
  Micros started_at = 0;
  Micros finished_at = 0;
  std::string message;
  bool suspended = false;                     // held by a suspend command (spec.suspend in Argo)
  std::vector<Param> outputs;                 // status.outputs.parameters (globalName outputs)
  std::vector<ArtifactRef> output_artifacts;  // status.outputs.artifacts (globalName)
  std::vector<Param> parameters;              // effective spec.arguments.parameters
  // Loop items that will run as pods, held back until earlier items end (a big loop is created a
  // few thousand items ahead): no node yet, but counted in the workflow's progress.
  size_t pods_not_created = 0;
  // In creation order; nodes[0] is the root. A deque: a 100,000-item fan-out grows it without
  // moving every node to a buffer twice the size (a vector's growth holds both at once).
  std::deque<Node> nodes;
};

}  // namespace hubspoke::engine
