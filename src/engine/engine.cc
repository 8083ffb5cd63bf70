#include "engine/engine.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <map>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include "common/ids.h"
#include "common/json_writer.h"
#include "engine/scope.h"
#include "expr/expr.h"
#include "spec/loader.h"

namespace hubspoke::engine {

std::string_view PhaseName(Phase phase) {
  switch (phase) {
    case Phase::kPending:
      return "Pending";
    case Phase::kRunning:
      return "Running";
    case Phase::kSucceeded:
      return "Succeeded";
    case Phase::kFailed:
      return "Failed";
    case Phase::kError:
      return "Error";
    case Phase::kSkipped:
      return "Skipped";
    case Phase::kOmitted:
      return "Omitted";
  }
  return "Unknown";
}

std::string_view NodeTypeName(NodeType type) {
  switch (type) {
    case NodeType::kPod:
      return "Pod";
    case NodeType::kSteps:
      return "Steps";
    case NodeType::kStepGroup:
      return "StepGroup";
    case NodeType::kDag:
      return "DAG";
    case NodeType::kTaskGroup:
      return "TaskGroup";
    case NodeType::kRetry:
      return "Retry";
    case NodeType::kSkipped:
      return "Skipped";
    case NodeType::kSuspend:
      return "Suspend";
  }
  return "Unknown";
}

std::optional<Phase> ParsePhase(std::string_view name) {
  for (Phase p : {Phase::kPending, Phase::kRunning, Phase::kSucceeded, Phase::kFailed,
                  Phase::kError, Phase::kSkipped, Phase::kOmitted}) {
    if (PhaseName(p) == name) return p;
  }
  return std::nullopt;
}

std::optional<NodeType> ParseNodeType(std::string_view name) {
  for (NodeType t :
       {NodeType::kPod, NodeType::kSteps, NodeType::kStepGroup, NodeType::kDag,
        NodeType::kTaskGroup, NodeType::kRetry, NodeType::kSkipped, NodeType::kSuspend}) {
    if (NodeTypeName(t) == name) return t;
  }
  return std::nullopt;
}

bool IsCompleted(Phase phase) { return phase != Phase::kPending && phase != Phase::kRunning; }
bool IsFailedOrError(Phase phase) { return phase == Phase::kFailed || phase == Phase::kError; }

namespace {

constexpr int kNoParent = -1;
constexpr int kExitHandlerParent = -2;
constexpr const char* kDeadlineMessage = "Step exceeded its deadline";

// When a loop's template sets no parallelism, the loop's items that run as pods are materialized
// at most this many ahead of those that have ended: a 100,000-item fan-out creates its first
// nodes and hands them to spokes at once, instead of expanding (and storing) every item first.
// Spoke slots bound how many run anyway; the rest follow, in order, half of them at a time as
// those end.
constexpr int kPodsAhead = 2048;

// A step or task waiting to start: created when its group starts, started when the parallelism
// limit of its template allows.
struct StartRequest {
  int container = 0;  // StepGroup, TaskGroup or DAG node that will own the new node
  std::string name;
  std::string display;
  const spec::Step* step = nullptr;
  std::string item;  // JSON text of the loop item; empty without a loop
  int item_index = -1;
};

struct DagState {
  std::vector<const spec::Step*> tasks;
  std::unordered_map<std::string, int> index;
  std::vector<std::string> depends;    // normalized depends expression per task
  std::vector<std::vector<int>> deps;  // tasks each task depends on
  std::vector<std::vector<int>> dependents;
  std::vector<int> node;  // node index per task; -1 before it starts
  enum : uint8_t { kWaiting, kStarted, kDone, kOmitted, kNotNeeded };
  std::vector<uint8_t> state;
  std::vector<bool> target;
  // A dependent's `depends` names this task's failure (X.Failed, X.Errored, X.AllFailed): its
  // failure is part of the plan and does not trip failFast.
  std::vector<bool> failure_handled;
  int unfinished = 0;  // tasks started but not done
  bool fail_fast = true;
  bool failed = false;  // fail-fast tripped: schedule nothing new
  std::string fail_message;
  Phase fail_phase = Phase::kFailed;
};

// Engine-private state of a node, parallel to WorkflowStatus::nodes.
struct NodeExt {
  int parent = kNoParent;
  const spec::Template* tmpl = nullptr;
  const spec::Step* step = nullptr;  // the step/task that created this node
  std::unique_ptr<VarScope> scope;   // inputs + (steps/dag) outputs of children
  bool dirty = false;
  int limiter = -1;  // node whose parallelism slot this node holds
  // Steps: current group. StepGroup/TaskGroup: children not yet done.
  int group = -1;
  int pending = 0;
  bool child_failed = false;
  std::string fail_message;
  // Parallelism of this template node's children.
  int limit = 0;
  int active = 0;
  int pods_ahead = 0;  // without a limit: children counted by CountsAhead, started and not ended
  // Allocated once something waits: an empty std::deque allocates, and every node has this.
  std::unique_ptr<std::deque<StartRequest>> deferred;
  std::unique_ptr<DagState> dag;
  // Pod: current attempt; Retry: attempts made.
  std::string attempt_id;
  int attempts = 0;
  bool waits_for_child = false;
  bool in_pod_queue = false;
  bool lost = false;  // the spoke running it was lost: retried under any retryPolicy
  std::string item;
  std::vector<TaskArtifact> artifacts_in;   // resolved input artifacts (path not substituted)
  std::vector<TaskArtifact> artifacts_out;  // pods: the output artifacts of the current attempt
  bool holds_locks = false;  // template synchronization: acquired, released when the node ends
  bool waits_for_lock = false;
  // Lifecycle hooks of the step or task whose node this is (the node Execute made for it): the
  // node of each hook of step->hooks once fired (-1 before), of its exit hook, and whether its
  // completion has reached its parent (that waits until every hook that fired has ended).
  bool has_hooks = false;
  std::vector<int> hook_nodes;
  int exit_hook_node = -1;
  bool exit_hook_tried = false;
  bool waits_for_hooks = false;
  bool hooks_settled = false;
  // A hook's node: it reports to the node it hooks (-1: a workflow-level hook), not its parent.
  bool is_hook = false;
  int hook_owner = -1;
};

}  // namespace

struct Engine::Impl {
  struct Run {
    spec::Workflow spec;
    WorkflowStatus st;
    std::deque<NodeExt> ext;  // a deque: references stay valid as nodes are added
    std::unordered_map<std::string, const spec::Template*> templates;
    VarScope globals{nullptr};
    int pod_limit = 0;
    int pods_running = 0;
    std::deque<int> pod_queue;
    Run* parent = nullptr;
    int parent_node = -1;
    bool dirty = false;
    bool exit_started = false;
    bool finished = false;
    bool stopping = false;
    bool deadline_exceeded = false;  // spec.activeDeadlineSeconds passed
    int timers_pending = 0;          // timers set and not fired yet
    bool held = false;               // suspended by a command: no new task starts
    // Names of child workflows, the uid and attempt ids come from the run itself, so replaying
    // one workflow tree's events gives the same names whatever else the engine holds.
    NameGenerator rng{0};
    uint64_t attempt_counter = 0;
    // Sets this run's attempt ids apart from those of an earlier run of the same name (a retry,
    // or a deleted workflow submitted again), whose late results must not count.
    std::string attempt_tag;
    std::unordered_map<std::string, Node> memo;  // a retried run's nodes, by name
    // Daemon steps that started: their node completed, their process runs until their scope (the
    // template node whose boundary they are in) ends. Node index, attempt id.
    std::vector<std::pair<int, std::string>> daemons;
    bool holds_locks = false;     // workflow synchronization acquired
    bool waits_for_lock = false;  // workflow synchronization: nothing runs until acquired
    // Input artifacts given as raw data, by the key that stands for them in {{...}} values.
    std::unordered_map<std::string, std::string> raw_artifacts;
    Phase main_phase = Phase::kPending;
    std::string main_message;
    std::vector<std::string> children;
    std::unordered_map<std::string, int> index;  // node id -> index
    // spec.hooks other than exit: the node of each once fired (-1 before); the entrypoint's end
    // waits for those that fired.
    std::vector<int> wf_hook_nodes;
    bool main_waits_for_hooks = false;
    // Steps standing in for hooks (their template and arguments), so hook nodes start as steps do.
    std::deque<spec::Step> hook_steps;
  };

  const Clock& clock;
  const spec::Catalog& catalog;
  EngineOptions options;
  NameGenerator names;
  std::unordered_map<std::string, std::unique_ptr<Run>> runs;
  std::vector<std::string> run_order;
  std::unordered_map<std::string, std::pair<Run*, int>> attempts;
  std::deque<std::pair<Run*, int>> completed;  // nodes whose parent must hear of it
  std::vector<Run*> finished_runs;             // child workflows to report to their parents
  Effects effects;
  Changes changes;
  std::unordered_set<std::string> changed_workflows;
  std::unordered_map<std::string, size_t> changed_node_slot;

  Impl(const Clock& c, const spec::Catalog& cat, EngineOptions o)
      : clock(c), catalog(cat), options(std::move(o)), names(options.seed) {}

  // ---------------------------------------------------------------- bookkeeping

  void MarkNode(Run& run, int n) {
    NodeExt& e = run.ext[n];
    if (e.dirty) return;
    e.dirty = true;
    auto [it, inserted] = changed_node_slot.emplace(run.st.name, changes.nodes.size());
    if (inserted) changes.nodes.push_back({run.st.name, {}});
    changes.nodes[it->second].second.push_back(n);
  }

  void MarkRun(Run& run) {
    if (changed_workflows.insert(run.st.name).second) changes.workflows.push_back(run.st.name);
  }

  int NewNode(Run& run, int parent, std::string name, std::string display, NodeType type,
              const spec::Template* tmpl, std::string boundary) {
    int n = static_cast<int>(run.st.nodes.size());
    Node& node = run.st.nodes.emplace_back();
    node.id = NodeId(run.st.name, name);
    node.name = std::move(name);
    node.display_name = std::move(display);
    node.type = type;
    node.template_name = tmpl ? tmpl->name : "";
    node.boundary_id = std::move(boundary);
    node.started_at = clock.Now();
    run.index[node.id] = n;
    run.ext.emplace_back();
    run.ext[n].parent = parent;
    run.ext[n].tmpl = tmpl;
    if (parent >= 0) {
      run.st.nodes[parent].children.push_back(node.id);
      MarkNode(run, parent);
    }
    MarkNode(run, n);
    return n;
  }

  void FinishNode(Run& run, int n, Phase phase, std::string message = {}) {
    Node& node = run.st.nodes[n];
    if (IsCompleted(node.phase)) return;
    node.phase = phase;
    if (!message.empty() || phase == Phase::kSucceeded) node.message = std::move(message);
    node.finished_at = clock.Now();
    if (node.started_at == 0) node.started_at = node.finished_at;
    NodeUnlock(run, n);
    run.ext[n].waits_for_lock = false;
    if (node.type == NodeType::kSteps || node.type == NodeType::kDag) EndDaemons(run, n);
    if (phase == Phase::kSucceeded && !node.memo_key.empty() && !node.memo_hit) {
      Memos().Save(node.memo_cache, node.memo_key,
                   {node.finished_at, node.result, node.exit_code, node.outputs, node.artifacts});
    }
    MarkNode(run, n);
    completed.push_back({&run, n});
  }

  void SetRunning(Run& run, int n) {
    Node& node = run.st.nodes[n];
    if (node.phase == Phase::kPending) {
      node.phase = Phase::kRunning;
      MarkNode(run, n);
      if (run.ext[n].has_hooks) hook_checks.push_back({&run, n});
    }
  }

  // Processes completions until none is left: each completion is heard by its parent only after
  // the event that caused it has been fully applied, so no handler runs inside another.
  void Drain() {
    while (!completed.empty() || !hook_checks.empty() || !finished_runs.empty() ||
           !granted.empty()) {
      while (!hook_checks.empty()) {
        auto [run, n] = hook_checks.front();
        hook_checks.pop_front();
        if (!run->finished) FireHooks(*run, n);
      }
      while (!completed.empty()) {
        auto [run, n] = completed.front();
        completed.pop_front();
        if (run->ext[n].is_hook) {
          HookDone(*run, n);
        } else if (!run->ext[n].has_hooks || HooksSettled(*run, n)) {
          Deliver(*run, n);
        }  // else its parent hears of it once its hooks have ended
        if (!run->wf_hook_nodes.empty() && !run->finished) FireWorkflowHooks(*run);
      }
      while (!finished_runs.empty()) {
        Run* child = finished_runs.back();
        finished_runs.pop_back();
        ChildWorkflowDone(*child);
      }
      if (!granted.empty()) {
        auto [name, n] = granted.front();
        granted.pop_front();
        LockFreed(name, n);
      }
    }
  }

  // Tells node n's parent (or the workflow) that n completed.
  void Deliver(Run& run, int n) {
    int parent = run.ext[n].parent;
    if (parent == kNoParent) {
      MainDone(run);
    } else if (parent == kExitHandlerParent) {
      ExitHandlerDone(run, n);
    } else {
      ChildDone(run, parent, n);
    }
    // After the parent heard of it, so a failure stops deferred siblings under failFast.
    ReleaseLimiter(run, n);
  }

  // ---------------------------------------------------------------- lifecycle hooks

  std::deque<std::pair<Run*, int>> hook_checks;  // hooked nodes whose phase changed

  // A step or task with hooks: its node reports hook checks and waits for its hooks to end.
  void AttachHooks(Run& run, int n, int parent, const spec::Step* step) {
    if (!step || (step->hooks.empty() && step->on_exit.empty()) || parent < 0) return;
    NodeType container = run.st.nodes[parent].type;
    if (container != NodeType::kStepGroup && container != NodeType::kTaskGroup &&
        container != NodeType::kDag) {
      return;
    }
    run.ext[n].has_hooks = true;
    hook_checks.push_back({&run, n});
  }

  // What a hook of step/task node n sees: its template's variables, the item, and
  // steps.<name>.* (tasks.<name>.*) of n itself (status; outputs once it has them).
  std::unique_ptr<VarScope> HookScope(Run& run, int n) {
    const NodeExt& e = run.ext[n];
    int container = e.parent;
    int tmpl_node = run.ext[container].dag ? container : run.ext[container].parent;
    auto scope = std::make_unique<VarScope>(run.ext[tmpl_node].scope.get());
    if (!e.item.empty()) {
      expr::FlattenItem("item", e.item, [&](std::string k, std::string v) {
        scope->Set(std::move(k), std::move(v));
      });
    }
    const bool dag = run.st.nodes[tmpl_node].type == NodeType::kDag;
    SetNodeVars(run, *scope, (dag ? "tasks." : "steps.") + e.step->name, run.st.nodes[n]);
    return scope;
  }

  // Starts `hook` as node `name` under `owner` (-1: a workflow-level hook, under the root) and
  // returns its index; with `error`, or when its template or arguments fail, the node is an Error.
  int RunHook(Run& run, int owner, const spec::LifecycleHook& hook, const std::string& name,
              const std::string& display, const expr::Scope& scope, std::string error) {
    const int tree_parent = owner >= 0 ? owner : 0;
    const std::string boundary = owner >= 0 ? run.st.nodes[owner].boundary_id : "";
    spec::Step& step = run.hook_steps.emplace_back();
    step.name = hook.name;
    step.template_name = hook.template_name;
    step.arguments = hook.arguments;
    const spec::Template* tmpl = error.empty() ? FindTemplate(run, hook.template_name) : nullptr;
    if (!tmpl && error.empty()) error = "template '" + hook.template_name + "' is not defined";
    std::vector<Param> args;
    for (const spec::Parameter& p : hook.arguments.parameters) {
      if (!error.empty()) break;
      auto v = Subst(p.value ? *p.value : p.default_value.value_or(""), scope);
      if (!v.ok())
        error = v.error().message;
      else
        args.push_back({p.name, std::move(*v)});
    }
    const int h = static_cast<int>(run.st.nodes.size());
    if (error.empty()) {
      Execute(run, tree_parent, name, display, *tmpl, args, boundary, scope, &step, "", -1, -1);
    } else {
      NewNode(run, tree_parent, name, display, NodeType::kSkipped, nullptr, boundary);
      run.st.nodes[h].template_name = hook.template_name;
    }
    run.ext[h].is_hook = true;
    run.ext[h].hook_owner = owner;
    if (!error.empty()) FinishNode(run, h, Phase::kError, error);
    return h;
  }

  // Whether a hook's expression holds now; an expression that cannot be evaluated is an error
  // (in `error`) and fires the hook as an Error.
  static bool HookFires(const spec::LifecycleHook& hook, const expr::Scope& scope,
                        std::string& error) {
    auto v = expr::EvaluateExpr(hook.expression, scope);
    if (v.ok()) return *v == "true";
    error = "hook '" + hook.name + "' expression: " + v.error().message;
    return true;
  }

  // Starts the hooks of node n whose expression became true (each at most once).
  void FireHooks(Run& run, int n) {
    NodeExt& e = run.ext[n];
    if (!e.has_hooks || e.hooks_settled) return;
    const std::vector<spec::LifecycleHook>& hooks = e.step->hooks;
    e.hook_nodes.resize(hooks.size(), -1);
    std::unique_ptr<VarScope> scope;
    for (size_t i = 0; i < hooks.size(); ++i) {
      if (hooks[i].name == "exit" || e.hook_nodes[i] >= 0) continue;
      if (!scope) scope = HookScope(run, n);
      std::string error;
      if (!HookFires(hooks[i], *scope, error)) continue;
      const Node& node = run.st.nodes[n];
      e.hook_nodes[i] = RunHook(run, n, hooks[i], node.name + ".hooks." + hooks[i].name,
                                node.display_name + ".hooks." + hooks[i].name, *scope, error);
    }
  }

  // Starts the exit hook of completed node n (hooks.exit, or the step's onExit), if it has one
  // and its expression, if any, holds.
  void StartExitHook(Run& run, int n) {
    NodeExt& e = run.ext[n];
    const spec::Step& step = *e.step;
    spec::LifecycleHook exit;
    auto it = std::find_if(step.hooks.begin(), step.hooks.end(),
                           [](const spec::LifecycleHook& h) { return h.name == "exit"; });
    if (it != step.hooks.end()) {
      exit = *it;
    } else if (!step.on_exit.empty()) {
      exit.name = "exit";
      exit.template_name = step.on_exit;
    } else {
      return;
    }
    auto scope = HookScope(run, n);
    std::string error;
    if (!exit.expression.empty() && !HookFires(exit, *scope, error)) return;
    const Node& node = run.st.nodes[n];
    e.exit_hook_node =
        RunHook(run, n, exit, node.name + ".onExit", node.display_name + ".onExit", *scope, error);
  }

  bool Running(const Run& run, int h) const {
    return h >= 0 && !IsCompleted(run.st.nodes[h].phase);
  }

  // Whether completed node n may report to its parent: its hooks that fired have ended, then its
  // exit hook has run. Until then it waits (HookDone asks again).
  bool HooksSettled(Run& run, int n) {
    NodeExt& e = run.ext[n];
    if (e.hooks_settled) return true;
    FireHooks(run, n);  // its final phase may fire some
    e.waits_for_hooks = true;
    for (int h : e.hook_nodes) {
      if (Running(run, h)) return false;
    }
    if (!e.exit_hook_tried) {
      e.exit_hook_tried = true;
      StartExitHook(run, n);
    }
    if (Running(run, e.exit_hook_node)) return false;
    e.waits_for_hooks = false;
    e.hooks_settled = true;
    return true;
  }

  void HookDone(Run& run, int h) {
    int owner = run.ext[h].hook_owner;
    if (owner < 0) {
      if (run.main_waits_for_hooks) MainDone(run);
    } else if (run.ext[owner].waits_for_hooks && HooksSettled(run, owner)) {
      Deliver(run, owner);
    }
  }

  // Why a hook of node n (or, for -1, of the workflow) ended Error, which fails the template
  // (workflow) it is in: "" when none did. A hook that failed is ignored, as in Argo.
  std::string HookError(const Run& run, int n) const {
    std::vector<int> hooks = n < 0 ? run.wf_hook_nodes : run.ext[n].hook_nodes;
    if (n >= 0) hooks.push_back(run.ext[n].exit_hook_node);
    for (int h : hooks) {
      if (h < 0 || run.st.nodes[h].phase != Phase::kError) continue;
      return "hook '" + run.st.nodes[h].display_name + "' errored: " + run.st.nodes[h].message;
    }
    return "";
  }

  // Starts the workflow-level hooks (spec.hooks other than exit) whose expression became true.
  void FireWorkflowHooks(Run& run) {
    if (run.st.nodes.empty()) return;
    const std::vector<spec::LifecycleHook>& hooks = run.spec.spec.hooks;
    for (size_t i = 0; i < hooks.size(); ++i) {
      if (hooks[i].name == "exit" || run.wf_hook_nodes[i] >= 0) continue;
      std::string error;
      if (!HookFires(hooks[i], run.globals, error)) continue;
      const std::string name = run.st.name + ".hooks." + hooks[i].name;
      run.wf_hook_nodes[i] = RunHook(run, -1, hooks[i], name, name, run.globals, error);
    }
  }

  // ---------------------------------------------------------------- synchronization

  // A mutex or semaphore shared by every workflow of the engine: at most `limit` holders (a
  // workflow, or one of its nodes); the others wait, first come first served.
  struct Lock {
    int limit = 1;
    std::vector<std::string> holders;
    std::vector<std::pair<std::string, int>> waiters;  // workflow, node (-1: the workflow)
  };
  std::map<std::string, Lock> locks;
  std::deque<std::pair<std::string, int>> granted;  // waiters to try again (processed in Drain)

  // The locks `sync` names, with their limits: "<ns>/Mutex/<name>" (1) and
  // "<ns>/ConfigMap/<name>/<key>" (the configured semaphore limit).
  Result<std::vector<std::pair<std::string, int>>> LocksOf(const spec::Synchronization& sync,
                                                           const std::string& ns) {
    std::vector<std::pair<std::string, int>> out;
    if (!sync.mutex.empty()) out.push_back({ns + "/Mutex/" + sync.mutex, 1});
    if (!sync.semaphore.empty()) {
      auto it = options.semaphore_limits.find(sync.semaphore);
      if (it == options.semaphore_limits.end()) {
        return Fail(InvalidArgument("semaphore " + sync.semaphore +
                                    " (configMapKeyRef name/key) has no limit here: give "
                                    "it with --semaphore " +
                                    sync.semaphore +
                                    "=N to hubspoke run or hubspoke hub, or pass the ConfigMap "
                                    "(kind: ConfigMap) to hubspoke run with the workflow"));
      }
      out.push_back({ns + "/ConfigMap/" + sync.semaphore, it->second});
    }
    return out;
  }

  // Takes every lock for `holder`, or none: then `waiter` waits on each that is full.
  bool TryLock(const std::vector<std::pair<std::string, int>>& wanted, const std::string& holder,
               std::pair<std::string, int> waiter) {
    bool free = true;
    for (const auto& [name, limit] : wanted) {
      Lock& lock = locks[name];
      lock.limit = limit;
      bool held = std::find(lock.holders.begin(), lock.holders.end(), holder) != lock.holders.end();
      if (held || static_cast<int>(lock.holders.size()) < lock.limit) continue;
      free = false;
      if (std::find(lock.waiters.begin(), lock.waiters.end(), waiter) == lock.waiters.end())
        lock.waiters.push_back(waiter);
    }
    if (!free) return false;
    for (const auto& [name, limit] : wanted) {
      Lock& lock = locks[name];
      if (std::find(lock.holders.begin(), lock.holders.end(), holder) == lock.holders.end())
        lock.holders.push_back(holder);
    }
    return true;
  }

  // Releases what `holder` holds of `wanted`; the waiters of a lock that had room try again.
  void Unlock(const std::vector<std::pair<std::string, int>>& wanted, const std::string& holder) {
    for (const auto& [name, limit] : wanted) {
      auto it = locks.find(name);
      if (it == locks.end()) continue;
      Lock& lock = it->second;
      auto h = std::find(lock.holders.begin(), lock.holders.end(), holder);
      if (h == lock.holders.end()) continue;
      lock.holders.erase(h);
      granted.insert(granted.end(), lock.waiters.begin(), lock.waiters.end());
      lock.waiters.clear();
    }
  }

  // Forgets the waits of a workflow that ended.
  void StopWaiting(const std::string& workflow) {
    for (auto& [name, lock] : locks) {
      std::erase_if(lock.waiters, [&](const auto& w) { return w.first == workflow; });
    }
  }

  std::string WaitingMessage(const std::vector<std::pair<std::string, int>>& wanted,
                             const std::string& holder) {
    for (const auto& [name, limit] : wanted) {
      const Lock& lock = locks[name];
      if (static_cast<int>(lock.holders.size()) < lock.limit) continue;
      if (std::find(lock.holders.begin(), lock.holders.end(), holder) != lock.holders.end())
        continue;
      return "Waiting for " + name + " lock. Lock status: " +
             std::to_string(lock.limit - static_cast<int>(lock.holders.size())) + "/" +
             std::to_string(lock.limit);
    }
    return "";
  }

  std::string LockHolder(const Run& run, int n) const {
    return n < 0 ? run.st.name : run.st.name + "/" + run.st.nodes[n].id;
  }

  // A lock a waiter waited on had room: it tries again.
  void LockFreed(const std::string& workflow, int n) {
    auto it = runs.find(workflow);
    if (it == runs.end() || it->second->finished) return;
    Run& run = *it->second;
    if (n < 0) {
      if (run.waits_for_lock) BeginRun(run);
      return;
    }
    if (n < static_cast<int>(run.st.nodes.size()) && run.ext[n].waits_for_lock &&
        !IsCompleted(run.st.nodes[n].phase)) {
      StartNode(run, n);
    }
  }

  // Template synchronization of node n: true once its locks are held (or it has none); false
  // while it waits (it starts again when they free) or when they cannot be had (n is an Error).
  bool NodeLocked(Run& run, int n) {
    NodeExt& e = run.ext[n];
    if (!e.tmpl->synchronization || e.holds_locks) return true;
    auto wanted = LocksOf(*e.tmpl->synchronization, run.st.namespace_);
    if (!wanted.ok()) {
      FinishNode(run, n, Phase::kError, wanted.error().message);
      return false;
    }
    const std::string holder = LockHolder(run, n);
    if (!TryLock(*wanted, holder, {run.st.name, n})) {
      e.waits_for_lock = true;
      run.st.nodes[n].message = WaitingMessage(*wanted, holder);
      MarkNode(run, n);
      return false;
    }
    e.waits_for_lock = false;
    e.holds_locks = true;
    run.st.nodes[n].message.clear();
    MarkNode(run, n);
    return true;
  }

  void NodeUnlock(Run& run, int n) {
    NodeExt& e = run.ext[n];
    if (!e.holds_locks) return;
    e.holds_locks = false;
    auto wanted = LocksOf(*e.tmpl->synchronization, run.st.namespace_);
    if (wanted.ok()) Unlock(*wanted, LockHolder(run, n));
  }

  // ---------------------------------------------------------------- scopes and substitution

  // Substitutes placeholders; names Argo would resolve (inputs., steps., tasks., item,
  // workflow.) must resolve, others are left for the task's own templating.
  Result<std::string> Subst(const std::string& text, const expr::Scope& scope) {
    if (!expr::HasPlaceholders(text)) return text;
    auto out = expr::Substitute(text, scope, /*allow_unresolved=*/true);
    if (!out.ok()) return out;
    if (!expr::HasPlaceholders(*out)) return out;
    std::string_view s = *out;
    for (size_t pos = s.find("{{"); pos != std::string_view::npos; pos = s.find("{{", pos + 2)) {
      size_t end = s.find("}}", pos);
      if (end == std::string_view::npos) break;
      std::string_view name = s.substr(pos + 2, end - pos - 2);
      while (!name.empty() && name.front() == ' ') name.remove_prefix(1);
      while (!name.empty() && name.back() == ' ') name.remove_suffix(1);
      for (std::string_view prefix : {"inputs.", "steps.", "tasks.", "workflow.", "item"}) {
        if (name.rfind(prefix, 0) == 0 &&
            (prefix != "item" || name.size() == 4 || name[4] == '.' || name[4] == '[')) {
          return Fail(InvalidArgument("failed to resolve {{" + std::string(name) + "}}"));
        }
      }
    }
    return out;
  }

  void InitGlobals(Run& run) {
    VarScope& g = run.globals;
    g.Set("workflow.name", run.st.name);
    g.Set("workflow.namespace", run.st.namespace_);
    g.Set("workflow.mainEntrypoint", run.spec.spec.entrypoint);
    char uid[40];
    uint64_t a = run.rng.Next(), b = run.rng.Next();
    snprintf(uid, sizeof uid, "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(a >> 32),
             static_cast<unsigned>(a >> 16) & 0xffff, static_cast<unsigned>(a) & 0xffff,
             static_cast<unsigned>(b >> 48),
             static_cast<unsigned long long>(b & 0xffffffffffffULL));
    g.Set("workflow.uid", uid);
    std::string ts = FormatRfc3339(run.st.created_at);
    g.Set("workflow.creationTimestamp", ts);
    g.Set("workflow.creationTimestamp.RFC3339", ts);
    // workflow.creationTimestamp.<c>: the time formatted with strftime's %c, in UTC; `s` is the
    // seconds since the epoch.
    const time_t created = static_cast<time_t>(run.st.created_at / 1'000'000);
    struct tm utc;
    gmtime_r(&created, &utc);
    for (char c : std::string_view("aAbBcCdDeFgGhHIjklmMpRStTuUVwWxXyYzZ")) {
      char format[3] = {'%', c, '\0'}, out[64];
      size_t len = strftime(out, sizeof out, format, &utc);
      g.Set(std::string("workflow.creationTimestamp.") + c, std::string(out, len));
    }
    g.Set("workflow.creationTimestamp.s", std::to_string(created));
    g.Set("workflow.priority", "0");
    g.Set("workflow.serviceAccountName", "default");
    std::vector<std::pair<std::string, std::string>> all;
    for (const Param& p : run.st.parameters) {
      g.Set("workflow.parameters." + p.name, p.value);
      all.push_back({p.name, p.value});
    }
    std::vector<std::vector<std::pair<std::string, std::string>>> rows;
    for (auto& kv : all) rows.push_back({{"name", kv.first}, {"value", kv.second}});
    g.Set("workflow.parameters", expr::AggregateParameters(rows));
    g.Set("workflow.parameters.json", expr::AggregateParameters(rows));
    for (const auto& [k, v] : run.st.labels) g.Set("workflow.labels." + k, v);
    for (const auto& [k, v] : run.spec.metadata.annotations) g.Set("workflow.annotations." + k, v);
    // All of them as a JSON object (the bare names are Argo's older spelling of .json).
    for (const auto& [name, values] : {std::pair{"labels", &run.st.labels},
                                       std::pair{"annotations", &run.spec.metadata.annotations}}) {
      JsonWriter w;
      w.StringMap(*values);
      g.Set(std::string("workflow.") + name, w.text());
      g.Set(std::string("workflow.") + name + ".json", w.Take());
    }
    // A CronWorkflow's run: the time it was scheduled for.
    auto scheduled = run.spec.metadata.annotations.find("workflows.argoproj.io/scheduled-time");
    if (scheduled != run.spec.metadata.annotations.end()) {
      g.Set("workflow.scheduledTime", scheduled->second);
    }
  }

  // Resolves a template's inputs from the arguments given to it.
  Result<std::vector<Param>> ResolveInputs(const spec::Template& tmpl,
                                           const std::vector<Param>& args, const expr::Scope& scope,
                                           const std::string& where) {
    std::vector<Param> inputs;
    inputs.reserve(tmpl.inputs.parameters.size());
    for (const spec::Parameter& p : tmpl.inputs.parameters) {
      const Param* given = nullptr;
      for (const Param& a : args) {
        if (a.name == p.name) given = &a;
      }
      std::string value;
      if (given) {
        value = given->value;
      } else if (p.value) {
        auto v = Subst(*p.value, scope);
        if (!v.ok()) return Fail(InvalidArgument(v.error().message, where));
        value = *v;
      } else if (p.default_value) {
        auto v = Subst(*p.default_value, scope);
        if (!v.ok()) return Fail(InvalidArgument(v.error().message, where));
        value = *v;
      } else {
        return Fail(InvalidArgument(
            "inputs.parameters." + p.name + " was not supplied to template " + tmpl.name, where));
      }
      if (!p.enum_values.empty() &&
          std::find(p.enum_values.begin(), p.enum_values.end(), value) == p.enum_values.end()) {
        return Fail(InvalidArgument("value '" + value + "' of inputs.parameters." + p.name +
                                        " is not one of its enum values",
                                    where));
      }
      inputs.push_back({p.name, std::move(value)});
    }
    return inputs;
  }

  // Resolves node n's input artifacts from the arguments of the step that runs it (of the
  // workflow, for the entrypoint) or the template's own sources; false (node Error) when one
  // is missing or malformed.
  bool ResolveArtifacts(Run& run, int n, const spec::Template& tmpl, int parent,
                        const spec::Step* step, const expr::Scope& scope) {
    static const std::vector<spec::Artifact> kNone;
    const std::vector<spec::Artifact>& args =
        step ? step->arguments.artifacts
             : (parent == kNoParent ? run.spec.spec.arguments.artifacts : kNone);
    std::vector<TaskArtifact>& out = run.ext[n].artifacts_in;
    for (const spec::Artifact& a : tmpl.inputs.artifacts) {
      const spec::Artifact* given = &a;
      for (const spec::Artifact& g : args) {
        if (g.name == a.name) given = &g;
      }
      TaskArtifact t;
      t.name = a.name;
      t.path = a.path;
      auto fail = [&](const std::string& why) {
        FinishNode(run, n, Phase::kError, "input artifact '" + a.name + "' " + why);
        return false;
      };
      if (given->raw) {
        auto v = Subst(*given->raw, scope);
        if (!v.ok()) return fail(v.error().message);
        t.data = std::move(*v);
        t.key = "@raw/" + run.st.nodes[n].id + "/" + a.name;
        run.raw_artifacts[t.key] = *t.data;
      } else if (!given->repository_key.empty()) {
        auto v = Subst(given->repository_key, scope);
        if (!v.ok()) return fail(v.error().message);
        auto key = RepositoryKey(*v);
        if (!key.ok()) return fail(key.error().message);
        t.key = std::move(*key);
      } else if (!given->from.empty() || !given->from_expression.empty()) {
        auto v = ArtifactFrom(*given, scope);
        if (!v.ok()) {
          if (a.optional) continue;
          return fail("cannot be resolved: " + v.error().message);
        }
        t.key = std::move(*v);
        if (auto raw = run.raw_artifacts.find(t.key); raw != run.raw_artifacts.end())
          t.data = raw->second;
      } else if (a.optional) {
        continue;
      } else {
        return fail(
            "was not supplied: give it in the arguments.artifacts of the step or task "
            "(from, raw.data or a key), or mark it optional");
      }
      out.push_back(std::move(t));
    }
    return true;
  }

  // The store key named by an artifact's from or fromExpression, and its subPath.
  Result<std::string> ArtifactFrom(const spec::Artifact& a, const expr::Scope& scope) {
    std::string key;
    if (!a.from_expression.empty()) {
      auto v = expr::EvaluateExpr(a.from_expression, scope);
      if (!v.ok()) return Fail(v.error());
      key = expr::ItemText(*v);
    } else {
      auto v = Subst(a.from, scope);
      if (!v.ok()) return Fail(v.error());
      key = std::move(*v);
    }
    if (key.empty()) return Fail(InvalidArgument("it names no artifact"));
    if (a.sub_path.empty()) return key;
    auto sub = RepositoryKey(a.sub_path);
    if (!sub.ok())
      return Fail(InvalidArgument("subPath '" + a.sub_path + "' is not a plain relative path"));
    return key + "/" + sub->substr(std::string_view("_repository/").size());
  }

  // The store key of an artifact given by its key in the (emulated) default repository.
  static Result<std::string> RepositoryKey(const std::string& key) {
    std::string k = key;
    while (!k.empty() && k.front() == '/') k.erase(0, 1);
    while (!k.empty() && k.back() == '/') k.pop_back();  // a "directory" key names the same object
    for (size_t i = 0, j; i <= k.size(); i = j + 1) {
      j = k.find('/', i);
      if (j == std::string::npos) j = k.size();
      std::string part = k.substr(i, j - i);
      if (part.empty() || part == "." || part == "..")
        return Fail(InvalidArgument("key '" + key + "' is not a plain relative path"));
    }
    return "_repository/" + k;
  }

  std::unique_ptr<VarScope> InputScope(Run& run, const std::vector<Param>& inputs, int n) {
    auto scope = std::make_unique<VarScope>(&run.globals);
    std::vector<std::vector<std::pair<std::string, std::string>>> rows;
    for (const Param& p : inputs) {
      scope->Set("inputs.parameters." + p.name, p.value);
      rows.push_back({{"name", p.name}, {"value", p.value}});
    }
    if (!inputs.empty()) scope->Set("inputs.parameters", expr::AggregateParameters(rows));
    for (const TaskArtifact& a : run.ext[n].artifacts_in) {
      scope->Set("inputs.artifacts." + a.name, a.key);
      scope->Set("inputs.artifacts." + a.name + ".path", a.path);
    }
    if (const spec::Template* tmpl = run.ext[n].tmpl) {
      for (const spec::Artifact& a : tmpl->outputs.artifacts) {
        if (!a.path.empty()) scope->Set("outputs.artifacts." + a.name + ".path", a.path);
      }
      for (const spec::Parameter& p : tmpl->outputs.parameters) {
        if (p.value_from && !p.value_from->path.empty())
          scope->Set("outputs.parameters." + p.name + ".path", p.value_from->path);
      }
    }
    const Node& node = run.st.nodes[n];
    scope->Set("node.name", node.name);
    scope->Set("pod.name", node.id);
    // The step (DAG task) that started this node, by its name, inside the template it runs too.
    if (const spec::Step* step = run.ext[n].step) {
      int c = run.ext[n].parent;
      while (c >= 0 && run.st.nodes[c].type == NodeType::kRetry) c = run.ext[c].parent;
      bool dag = c >= 0 && (run.ext[c].dag || run.st.nodes[c].type == NodeType::kTaskGroup);
      scope->Set(dag ? "tasks.name" : "steps.name", step->name);
    }
    return scope;
  }

  // ---------------------------------------------------------------- starting templates

  // Creates the node for `tmpl` (or its Retry wrapper) and starts it.
  void Execute(Run& run, int parent, const std::string& name, const std::string& display,
               const spec::Template& tmpl, const std::vector<Param>& args,
               const std::string& boundary, const expr::Scope& caller_scope, const spec::Step* step,
               const std::string& item, int item_index, int limiter) {
    const spec::RetryStrategy* retry =
        tmpl.retry_strategy
            ? &*tmpl.retry_strategy
            : (run.spec.spec.retry_strategy ? &*run.spec.spec.retry_strategy : nullptr);
    NodeType type = NodeTypeFor(tmpl);
    int n;
    if (retry && (type == NodeType::kPod || type == NodeType::kSteps || type == NodeType::kDag)) {
      n = NewNode(run, parent, name, display, NodeType::kRetry, &tmpl, boundary);
      Annotate(run, n, step, item, item_index, limiter);
      AttachHooks(run, n, parent, step);
      auto inputs = ResolveInputs(tmpl, args, caller_scope, run.st.nodes[n].name);
      if (!inputs.ok()) {
        FinishNode(run, n, Phase::kError, inputs.error().message);
        return;
      }
      run.st.nodes[n].inputs = *inputs;
      if (!ResolveArtifacts(run, n, tmpl, parent, step, caller_scope)) return;
      if (Memoized(run, n)) return;
      SetRunning(run, n);
      StartAttempt(run, n);
      return;
    }
    n = NewNode(run, parent, name, display, type, &tmpl, boundary);
    Annotate(run, n, step, item, item_index, limiter);
    AttachHooks(run, n, parent, step);
    auto inputs = ResolveInputs(tmpl, args, caller_scope, run.st.nodes[n].name);
    if (!inputs.ok()) {
      FinishNode(run, n, Phase::kError, inputs.error().message);
      return;
    }
    run.st.nodes[n].inputs = std::move(*inputs);
    if (!ResolveArtifacts(run, n, tmpl, parent, step, caller_scope)) return;
    if (Memoized(run, n)) return;
    StartNode(run, n);
  }

  // A retried workflow keeps what succeeded: a task, resource or suspend node (or the Retry node
  // around one) that succeeded in the run being retried completes at once with its outputs.
  bool Memoized(Run& run, int n) {
    if (run.memo.empty()) return false;
    Node& node = run.st.nodes[n];
    auto it = run.memo.find(node.name);
    if (it == run.memo.end() || it->second.phase != Phase::kSucceeded) return false;
    const spec::Template& tmpl = *run.ext[n].tmpl;
    switch (tmpl.kind) {
      case spec::Template::Kind::kContainer:
      case spec::Template::Kind::kScript:
      case spec::Template::Kind::kContainerSet:
      case spec::Template::Kind::kResource:
      case spec::Template::Kind::kSuspend:
        break;
      default:
        return false;
    }
    CompleteWithOutputs(run, n, it->second);
    return true;
  }

  // Completes task, resource or suspend node n as Succeeded with the outputs of `was` (an
  // earlier run of it, or a memoize cache entry) instead of running it.
  void CompleteWithOutputs(Run& run, int n, const Node& was) {
    Node& node = run.st.nodes[n];
    const spec::Template& tmpl = *run.ext[n].tmpl;
    node.result = was.result;
    node.exit_code = was.exit_code;
    node.outputs = was.outputs;
    for (const spec::Artifact& a : tmpl.outputs.artifacts) {
      for (const ArtifactRef& ref : was.artifacts) {
        if (ref.name == a.name) SetArtifact(run, node, a, ref);
      }
    }
    node.host_node_name = was.host_node_name;
    node.child_workflow = was.child_workflow;
    node.started_at = was.started_at;
    for (const spec::Parameter& p : tmpl.outputs.parameters) {
      if (p.global_name.empty()) continue;
      for (const Param& out : was.outputs) {
        if (out.name == p.name) SetGlobalOutput(run, p.global_name, out.value);
      }
    }
    FinishNodeAt(run, n, Phase::kSucceeded, "", was.finished_at);
  }

  // memoize: node n's key; when its cache holds outputs for it young enough, n completes with
  // them and this returns true (as it does when the key cannot be resolved: n is then an Error).
  bool MemoHit(Run& run, int n) {
    const spec::Memoize& m = *run.ext[n].tmpl->memoize;
    const expr::Scope& scope = *run.ext[n].scope;
    auto key = Subst(m.key, scope);
    if (!key.ok()) {
      FinishNode(run, n, Phase::kError, "memoize key: " + key.error().message);
      return true;
    }
    run.st.nodes[n].memo_key = *key;
    run.st.nodes[n].memo_cache = m.cache;
    const MemoEntry* hit = Memos().Find(m.cache, *key);
    if (!hit) return false;
    if (!m.max_age.empty()) {
      auto text = Subst(m.max_age, scope);
      std::optional<double> secs = text.ok() ? ParseDurationSeconds(*text) : std::nullopt;
      if (!secs) {
        FinishNode(run, n, Phase::kError, "memoize maxAge '" + m.max_age + "' is not a duration");
        return true;
      }
      if (clock.Now() - hit->created_at > static_cast<Micros>(*secs * 1e6)) return false;
    }
    Node was;
    was.result = hit->result;
    was.exit_code = hit->exit_code;
    was.outputs = hit->outputs;
    was.artifacts = hit->artifacts;
    was.started_at = was.finished_at = clock.Now();
    run.st.nodes[n].memo_hit = true;
    CompleteWithOutputs(run, n, was);
    return true;
  }

  MemoCache& Memos() { return options.memo_cache ? *options.memo_cache : own_memos; }

  MemoryMemoCache own_memos;  // the cache of an engine given none

  void Annotate(Run& run, int n, const spec::Step* step, const std::string& item, int item_index,
                int limiter) {
    NodeExt& e = run.ext[n];
    e.step = step;
    e.item = item;
    e.limiter = limiter;
    if (item_index >= 0) {
      run.st.nodes[n].item_index = item_index;
      run.st.nodes[n].fanout = step ? step->name : "";
    }
  }

  static NodeType NodeTypeFor(const spec::Template& tmpl) {
    switch (tmpl.kind) {
      case spec::Template::Kind::kSteps:
        return NodeType::kSteps;
      case spec::Template::Kind::kDag:
        return NodeType::kDag;
      case spec::Template::Kind::kSuspend:
        return NodeType::kSuspend;
      default:
        return NodeType::kPod;
    }
  }

  // Starts the next attempt under Retry node `r`.
  void StartAttempt(Run& run, int r) {
    NodeExt& re = run.ext[r];
    const spec::Template& tmpl = *re.tmpl;
    int k = re.attempts++;
    std::string name = run.st.nodes[r].name + "(" + std::to_string(k) + ")";
    std::string display = run.st.nodes[r].display_name + "(" + std::to_string(k) + ")";
    int n = NewNode(run, r, name, display, NodeTypeFor(tmpl), &tmpl, run.st.nodes[r].boundary_id);
    run.st.nodes[n].inputs = run.st.nodes[r].inputs;
    run.ext[n].artifacts_in = run.ext[r].artifacts_in;
    run.st.nodes[n].retries = k;
    run.ext[n].step = run.ext[r].step;
    run.ext[n].item = run.ext[r].item;
    StartNode(run, n);
  }

  // Starts node `n` whose inputs are resolved.
  void StartNode(Run& run, int n) {
    NodeExt& e = run.ext[n];
    const spec::Template& tmpl = *e.tmpl;
    // Seconds since the workflow started, as its templates start (Argo: an estimate).
    if (run.st.started_at > 0) {
      run.globals.Set("workflow.duration", std::to_string((clock.Now() - run.st.started_at) / 1e6));
    }
    e.scope = InputScope(run, run.st.nodes[n].inputs, n);
    if (run.ext[e.parent >= 0 ? e.parent : n].tmpl &&
        run.st.nodes[e.parent >= 0 ? e.parent : n].type == NodeType::kRetry) {
      e.scope->Set("retries", std::to_string(run.st.nodes[n].retries));
    }
    if (run.stopping) {
      FinishNode(run, n, Phase::kFailed, "workflow shutdown");
      return;
    }
    if (!NodeLocked(run, n)) return;
    if (tmpl.memoize && MemoHit(run, n)) return;
    switch (tmpl.kind) {
      case spec::Template::Kind::kContainer:
      case spec::Template::Kind::kScript:
      case spec::Template::Kind::kContainerSet:
        StartPod(run, n);
        return;
      case spec::Template::Kind::kSteps:
        SetRunning(run, n);
        e.limit = ParseLimit(tmpl.parallelism, *e.scope);
        e.group = -1;
        NextStepGroup(run, n);
        return;
      case spec::Template::Kind::kDag:
        StartDag(run, n);
        return;
      case spec::Template::Kind::kResource:
        StartResource(run, n);
        return;
      case spec::Template::Kind::kSuspend:
        StartSuspend(run, n);
        return;
      case spec::Template::Kind::kData:
        RunData(run, n);
        return;
      case spec::Template::Kind::kUnsupported:
        FinishNode(run, n, Phase::kError,
                   "template type '" + tmpl.unsupported_kind + "' is not supported by hubspoke");
        return;
      case spec::Template::Kind::kUnknown:
        FinishNode(run, n, Phase::kError,
                   "template " + tmpl.name +
                       " has no container, script, steps, dag, resource or "
                       "suspend");
        return;
    }
  }

  int ParseLimit(const std::string& text, const expr::Scope& scope) {
    if (text.empty()) return 0;
    auto v = Subst(text, scope);
    if (!v.ok()) return 0;
    try {
      return std::max(0, std::stoi(*v));
    } catch (...) {
      return 0;
    }
  }

  // ---------------------------------------------------------------- pods

  // A container's image, command, args and env (valueFrom ones left out) with {{...}} resolved.
  Result<void> SubstContainer(const spec::Container& c, const expr::Scope& scope,
                              std::string& image, std::vector<std::string>& command,
                              std::vector<std::string>& args,
                              std::vector<std::pair<std::string, std::string>>& env) {
    auto v = Subst(c.image, scope);
    if (!v.ok()) return Fail(v.error());
    image = std::move(*v);
    for (const auto& part : c.command) {
      v = Subst(part, scope);
      if (!v.ok()) return Fail(v.error());
      command.push_back(std::move(*v));
    }
    for (const auto& part : c.args) {
      v = Subst(part, scope);
      if (!v.ok()) return Fail(v.error());
      args.push_back(std::move(*v));
    }
    for (const auto& var : c.env) {
      if (var.from_source) continue;
      v = Subst(var.value, scope);
      if (!v.ok()) return Fail(v.error());
      env.push_back({var.name, std::move(*v)});
    }
    return {};
  }

  void StartPod(Run& run, int n) {
    NodeExt& e = run.ext[n];
    const spec::Template& tmpl = *e.tmpl;
    Task task;
    task.workflow = run.st.name;
    task.node_id = run.st.nodes[n].id;
    auto fail = [&](const Error& err) { FinishNode(run, n, Phase::kError, err.message); };
    if (tmpl.container_set) {
      for (const spec::Container& c : tmpl.container_set->containers) {
        TaskContainer& tc = task.containers.emplace_back();
        tc.name = c.name;
        tc.dependencies = c.dependencies;
        auto filled = SubstContainer(c, *e.scope, tc.image, tc.command, tc.args, tc.env);
        if (!filled.ok()) return fail(filled.error());
      }
    } else {
      const spec::Container& c = tmpl.script ? tmpl.script->container : *tmpl.container;
      auto filled = SubstContainer(c, *e.scope, task.image, task.command, task.args, task.env);
      if (!filled.ok()) return fail(filled.error());
      if (!c.working_dir.empty()) {
        auto v = Subst(c.working_dir, *e.scope);
        if (!v.ok()) return fail(v.error());
        task.working_dir = std::move(*v);
      }
    }
    if (tmpl.script) {
      auto v = Subst(tmpl.script->source, *e.scope);
      if (!v.ok()) return fail(v.error());
      task.script_source = std::move(*v);
    }
    for (const spec::Container& c : tmpl.sidecars) {
      TaskContainer& sc = task.sidecars.emplace_back();
      sc.name = c.name;
      auto filled = SubstContainer(c, *e.scope, sc.image, sc.command, sc.args, sc.env);
      if (!filled.ok()) return fail(filled.error());
    }
    for (const auto& p : tmpl.outputs.parameters) {
      if (p.value_from && !p.value_from->path.empty()) {
        auto v = Subst(p.value_from->path, *e.scope);
        if (!v.ok()) return fail(v.error());
        task.output_files.push_back(std::move(*v));
      }
    }
    for (TaskArtifact a : e.artifacts_in) {
      auto v = Subst(a.path, *e.scope);
      if (!v.ok()) return fail(v.error());
      a.path = std::move(*v);
      task.input_artifacts.push_back(std::move(a));
    }
    for (const spec::Artifact& a : tmpl.outputs.artifacts) {
      TaskArtifact out;
      out.name = a.name;
      auto v = Subst(a.path, *e.scope);
      if (!v.ok()) return fail(v.error());
      out.path = std::move(*v);
      out.key = run.st.name + "/" + task.node_id + "/" + a.name;
      if (!a.repository_key.empty()) {
        auto k = Subst(a.repository_key, *e.scope);
        if (!k.ok()) return fail(k.error());
        auto key = RepositoryKey(*k);
        if (!key.ok())
          return fail(InvalidArgument("output artifact '" + a.name + "' " + key.error().message));
        out.key = std::move(*key);
      }
      out.archive = a.archive != "none";
      out.optional = a.optional;
      task.output_artifacts.push_back(std::move(out));
    }
    e.artifacts_out = task.output_artifacts;
    task.private_dirs = tmpl.volume_mounts;
    for (const auto& [label, value] :
         tmpl.node_selector.empty() ? run.spec.spec.node_selector : tmpl.node_selector) {
      auto v = Subst(value, *e.scope);
      if (!v.ok()) return fail(v.error());
      task.node_selector[label] = std::move(*v);
    }
    std::string deadline = !tmpl.timeout.empty() ? tmpl.timeout : tmpl.active_deadline_seconds;
    if (!deadline.empty()) {
      auto v = Subst(deadline, *e.scope);
      if (!v.ok()) return fail(v.error());
      auto secs = ParseDurationSeconds(*v);
      if (!secs) return fail(InvalidArgument("invalid timeout '" + *v + "'"));
      task.timeout_ms = static_cast<int64_t>(*secs * 1000);
    }
    task.attempt_id =
        run.st.nodes[n].id + "-" + run.attempt_tag + std::to_string(++run.attempt_counter);
    e.attempt_id = task.attempt_id;
    attempts[task.attempt_id] = {&run, n};
    pending_tasks[task.attempt_id] = std::move(task);
    if (run.held || (run.pod_limit > 0 && run.pods_running >= run.pod_limit)) {
      run.pod_queue.push_back(n);
      e.in_pod_queue = true;
      return;
    }
    DispatchPod(run, n);
  }

  std::unordered_map<std::string, Task> pending_tasks;
  std::function<void(Task)> task_sink;  // Engine::SetTaskSink

  void DispatchPod(Run& run, int n) {
    auto it = pending_tasks.find(run.ext[n].attempt_id);
    if (it == pending_tasks.end()) return;
    run.pods_running++;
    if (task_sink) {
      task_sink(std::move(it->second));
    } else {
      effects.dispatch.push_back(std::move(it->second));
    }
    pending_tasks.erase(it);
  }

  void PodSlotFreed(Run& run) {
    if (run.pods_running > 0) run.pods_running--;
    DispatchQueued(run);
  }

  // Starts queued pods while the run's parallelism and a suspend command allow.
  void DispatchQueued(Run& run) {
    while (!run.held && !run.pod_queue.empty() &&
           (run.pod_limit == 0 || run.pods_running < run.pod_limit)) {
      int n = run.pod_queue.front();
      run.pod_queue.pop_front();
      run.ext[n].in_pod_queue = false;
      if (!IsCompleted(run.st.nodes[n].phase)) DispatchPod(run, n);
    }
  }

  static std::optional<double> ParseDurationSeconds(const std::string& text) {
    if (text.empty()) return std::nullopt;
    double total = 0;
    size_t i = 0;
    bool any = false;
    while (i < text.size()) {
      size_t j = i;
      while (j < text.size() && (isdigit(static_cast<unsigned char>(text[j])) || text[j] == '.'))
        j++;
      if (j == i) return std::nullopt;
      double v;
      try {
        v = std::stod(text.substr(i, j - i));
      } catch (...) {
        return std::nullopt;
      }
      size_t k = j;
      while (k < text.size() && isalpha(static_cast<unsigned char>(text[k]))) k++;
      std::string unit = text.substr(j, k - j);
      double mult;
      if (unit.empty() || unit == "s")
        mult = 1;
      else if (unit == "ms")
        mult = 0.001;
      else if (unit == "m")
        mult = 60;
      else if (unit == "h")
        mult = 3600;
      else if (unit == "d")
        mult = 86400;
      else
        return std::nullopt;
      total += v * mult;
      any = true;
      i = k;
    }
    if (!any) return std::nullopt;
    return total;
  }

  void OnTaskStarted(const std::string& attempt_id, const std::string& spoke, Micros at) {
    auto it = attempts.find(attempt_id);
    if (it == attempts.end()) return;
    auto [run, n] = it->second;
    Node& node = run->st.nodes[n];
    if (IsCompleted(node.phase)) return;
    node.host_node_name = spoke;
    if (at > 0) node.started_at = at;
    SetRunning(*run, n);
    MarkNode(*run, n);
    if (run->ext[n].tmpl && run->ext[n].tmpl->daemon) {
      // A daemon is done once it runs: later steps go on while it serves them.
      run->daemons.push_back({n, attempt_id});
      FinishNode(*run, n, Phase::kSucceeded);
    }
  }

  // Kills the daemons started inside template node `scope` (all of them when -1): their scope
  // ended.
  void EndDaemons(Run& run, int scope) {
    if (run.daemons.empty()) return;
    const std::string scope_id = scope < 0 ? "" : run.st.nodes[scope].id;
    std::vector<std::pair<int, std::string>> left;
    int freed = 0;
    for (auto& [n, attempt] : run.daemons) {
      if (scope >= 0 && run.st.nodes[n].boundary_id != scope_id) {
        left.push_back({n, attempt});
        continue;
      }
      if (attempts.erase(attempt) > 0) {
        effects.cancel.push_back(attempt);
        freed++;
      }
    }
    run.daemons = std::move(left);
    while (freed-- > 0) PodSlotFreed(run);
  }

  void OnTaskFinished(const TaskResult& r) {
    auto it = attempts.find(r.attempt_id);
    if (it == attempts.end()) return;
    auto [run_ptr, n] = it->second;
    attempts.erase(it);
    Run& run = *run_ptr;
    Node& node = run.st.nodes[n];
    if (IsCompleted(node.phase)) return;
    PodSlotFreed(run);
    if (!r.spoke.empty()) node.host_node_name = r.spoke;
    if (r.started_at > 0) node.started_at = r.started_at;
    if (!r.started || r.lost) {
      run.ext[n].lost = r.lost;
      FinishNodeAt(run, n, Phase::kError, r.message, r.finished_at);
      return;
    }
    node.exit_code = r.exit_code;
    node.result = r.stdout_text;
    Phase phase = r.exit_code == 0 ? Phase::kSucceeded : Phase::kFailed;
    std::string message;
    if (r.timed_out) {
      phase = Phase::kFailed;
      message = "Pod was active on the node longer than the specified deadline";
    } else if (r.exit_code != 0) {
      message =
          r.message.empty() ? "Error (exit code " + std::to_string(r.exit_code) + ")" : r.message;
    }
    if (phase == Phase::kSucceeded) {
      auto err = CollectPodOutputs(run, n, r);
      if (!err.ok()) {
        phase = Phase::kError;
        message = err.error().message;
      }
    }
    FinishNodeAt(run, n, phase, message, r.finished_at);
  }

  void FinishNodeAt(Run& run, int n, Phase phase, const std::string& message, Micros at) {
    FinishNode(run, n, phase, message);
    if (at > 0) run.st.nodes[n].finished_at = at;
  }

  Status CollectPodOutputs(Run& run, int n, const TaskResult& r) {
    NodeExt& e = run.ext[n];
    Node& node = run.st.nodes[n];
    e.scope->Set("outputs.result", r.stdout_text);
    for (const spec::Parameter& p : e.tmpl->outputs.parameters) {
      std::optional<std::string> value;
      if (p.value_from && !p.value_from->path.empty()) {
        auto path = Subst(p.value_from->path, *e.scope);
        if (path.ok()) {
          auto f = r.files.find(*path);
          if (f != r.files.end()) {
            std::string v = f->second;
            if (!v.empty() && v.back() == '\n') v.pop_back();
            value = std::move(v);
          }
        }
        if (!value && p.value_from->default_value) value = *p.value_from->default_value;
        if (!value && p.default_value) value = *p.default_value;
        if (!value) {
          return Fail(InvalidArgument("output parameter '" + p.name + "': file " +
                                      p.value_from->path +
                                      " was not written by the task and has "
                                      "no default"));
        }
      } else if (p.value_from && !p.value_from->expression.empty()) {
        auto v = expr::EvaluateExpr(p.value_from->expression, *e.scope);
        if (!v.ok()) return Fail(v.error());
        value = expr::ItemText(*v);
      } else if (p.value) {
        auto v = Subst(*p.value, *e.scope);
        if (!v.ok()) return Fail(v.error());
        value = std::move(*v);
      } else if (p.default_value) {
        value = *p.default_value;
      }
      if (!value) continue;
      SetOutput(run, node, p, *value);
    }
    for (const spec::Artifact& a : e.tmpl->outputs.artifacts) {
      const TaskArtifact* sent = nullptr;
      for (const TaskArtifact& t : e.artifacts_out) {
        if (t.name == a.name) sent = &t;
      }
      if (!sent) continue;
      if (auto why = r.artifact_errors.find(a.name); why != r.artifact_errors.end()) {
        if (a.optional) continue;
        return Fail(InvalidArgument("output artifact '" + a.name + "' was not saved from " +
                                    sent->path + ": " + why->second));
      }
      SetArtifact(run, node, a, {a.name, sent->path, sent->key});
    }
    return {};
  }

  void SetArtifact(Run& run, Node& node, const spec::Artifact& a, ArtifactRef ref) {
    if (!a.global_name.empty()) {
      ArtifactRef global = ref;
      global.name = a.global_name;
      bool found = false;
      for (ArtifactRef& g : run.st.output_artifacts) {
        if (g.name == global.name) {
          g = global;
          found = true;
        }
      }
      if (!found) run.st.output_artifacts.push_back(global);
      run.globals.Set("workflow.outputs.artifacts." + a.global_name, ref.key);
      MarkRun(run);
    }
    node.artifacts.push_back(std::move(ref));
  }

  void SetOutput(Run& run, Node& node, const spec::Parameter& p, const std::string& value) {
    node.outputs.push_back({p.name, value});
    if (!p.global_name.empty()) SetGlobalOutput(run, p.global_name, value);
  }

  void SetGlobalOutput(Run& run, const std::string& name, const std::string& value) {
    bool found = false;
    for (Param& g : run.st.outputs) {
      if (g.name == name) {
        g.value = value;
        found = true;
      }
    }
    if (!found) run.st.outputs.push_back({name, value});
    run.globals.Set("workflow.outputs.parameters." + name, value);
    MarkRun(run);
  }

  // ---------------------------------------------------------------- steps

  void NextStepGroup(Run& run, int n) {
    NodeExt& e = run.ext[n];
    const spec::Template& tmpl = *e.tmpl;
    e.group++;
    if (e.group >= static_cast<int>(tmpl.steps.size())) {
      CompleteTemplateNode(run, n);
      return;
    }
    const Node& steps_node = run.st.nodes[n];
    std::string gname = steps_node.name + "[" + std::to_string(e.group) + "]";
    int g = NewNode(run, n, gname, "[" + std::to_string(e.group) + "]", NodeType::kStepGroup,
                    nullptr, steps_node.id);
    run.st.nodes[g].template_name = tmpl.name;
    SetRunning(run, g);
    std::vector<StartRequest> starts;
    for (const spec::Step& step : tmpl.steps[e.group]) {
      ExpandStep(run, g, n, step, gname + "." + step.name, step.name, starts);
    }
    run.ext[g].pending += static_cast<int>(starts.size());
    for (StartRequest& s : starts) Admit(run, n, std::move(s));
    if (run.ext[g].pending == 0) FinishGroup(run, g);
  }

  // Expands a step or task into start requests (one per loop item), or finishes it right away
  // (empty loop, bad loop input) as a child of `container`.
  void ExpandStep(Run& run, int container, int tmpl_node, const spec::Step& step,
                  const std::string& name, const std::string& display,
                  std::vector<StartRequest>& starts) {
    const expr::Scope& scope = *run.ext[tmpl_node].scope;
    auto items = LoopItems(step, scope);
    if (!items.ok()) {
      int x = NewNode(run, container, name, display, NodeType::kSkipped, nullptr,
                      BoundaryOf(run, container));
      run.ext[x].step = &step;
      run.st.nodes[x].template_name = step.template_name;
      run.ext[container].pending++;
      FinishNode(run, x, Phase::kError, items.error().message);
      return;
    }
    if (!*items) {
      starts.push_back({container, name, display, &step, "", -1});
      return;
    }
    if ((*items)->empty()) {
      int x = NewNode(run, container, name, display, NodeType::kSkipped, nullptr,
                      BoundaryOf(run, container));
      run.ext[x].step = &step;
      run.st.nodes[x].template_name = step.template_name;
      run.st.nodes[x].fanout = step.name;
      run.ext[container].pending++;
      FinishNode(run, x, Phase::kSkipped, "Skipped, empty params");
      return;
    }
    const auto& list = **items;
    for (size_t i = 0; i < list.size(); ++i) {
      std::string suffix = "(" + std::to_string(i) + ":" + expr::ItemDisplay(list[i]) + ")";
      starts.push_back(
          {container, name + suffix, display + suffix, &step, list[i], static_cast<int>(i)});
    }
  }

  std::string BoundaryOf(Run& run, int container) {
    const Node& c = run.st.nodes[container];
    return c.type == NodeType::kDag ? c.id : c.boundary_id;
  }

  // Items of a looped step; nullopt when the step has no loop.
  Result<std::optional<std::vector<std::string>>> LoopItems(const spec::Step& step,
                                                            const expr::Scope& scope) {
    std::string where = "step '" + step.name + "'";
    if (step.with_items) {
      auto subst = Subst(*step.with_items, scope);
      if (!subst.ok())
        return Fail(InvalidArgument(where + ": withItems: " + subst.error().message));
      auto items = expr::ParseItems(*subst);
      if (!items.ok())
        return Fail(InvalidArgument(where + ": withItems: " + items.error().message));
      return std::optional<std::vector<std::string>>(std::move(*items));
    }
    if (!step.with_param.empty()) {
      auto subst = Subst(step.with_param, scope);
      if (!subst.ok())
        return Fail(InvalidArgument(where + ": withParam: " + subst.error().message));
      auto items = expr::ParseItems(*subst);
      if (!items.ok()) {
        return Fail(InvalidArgument(
            where + ": withParam value is not a JSON list: " + items.error().message));
      }
      return std::optional<std::vector<std::string>>(std::move(*items));
    }
    if (step.with_sequence) {
      const spec::Sequence& s = *step.with_sequence;
      std::string parts[4];
      const std::string* src[4] = {&s.count, &s.start, &s.end, &s.format};
      for (int i = 0; i < 4; ++i) {
        auto v = Subst(*src[i], scope);
        if (!v.ok()) return Fail(InvalidArgument(where + ": withSequence: " + v.error().message));
        parts[i] = std::move(*v);
      }
      auto items = expr::SequenceItems(parts[0], parts[1], parts[2], parts[3]);
      if (!items.ok())
        return Fail(InvalidArgument(where + ": withSequence: " + items.error().message));
      return std::optional<std::vector<std::string>>(std::move(*items));
    }
    return std::optional<std::vector<std::string>>();
  }

  // Whether a child of template node `limiter` counts in its pods_ahead: a loop item that runs as
  // a pod and ends by itself (not a daemon), under a template without a parallelism limit.
  // kPodsAhead of these at most are started and not ended under one template node. Asked when
  // the child starts and when it ends, so both agree.
  static bool CountsAhead(const NodeExt& limiter, const spec::Template* tmpl, int item_index) {
    if (limiter.limit > 0 || item_index < 0 || !tmpl || tmpl->daemon) return false;
    return tmpl->kind == spec::Template::Kind::kContainer ||
           tmpl->kind == spec::Template::Kind::kScript ||
           tmpl->kind == spec::Template::Kind::kContainerSet;
  }

  // Whether a request waiting under template node `limiter` may start now.
  static bool HasRoom(const NodeExt& l) {
    return l.limit > 0 ? l.active < l.limit : l.pods_ahead < kPodsAhead;
  }

  // Starts `s` now or defers it behind the parallelism limit of template node `limiter` (or,
  // without one, behind the kPodsAhead items of its loop that have not ended).
  void Admit(Run& run, int limiter, StartRequest s) {
    NodeExt& l = run.ext[limiter];
    bool waits = l.limit > 0
                     ? l.active >= l.limit
                     : l.pods_ahead >= kPodsAhead &&
                           CountsAhead(l, FindTemplate(run, s.step->template_name), s.item_index);
    if (waits) {
      if (!l.deferred) l.deferred = std::make_unique<std::deque<StartRequest>>();
      l.deferred->push_back(std::move(s));
      if (l.limit == 0) run.st.pods_not_created++;
      return;
    }
    StartRequested(run, limiter, s);
  }

  void ReleaseLimiter(Run& run, int n) {
    int limiter = run.ext[n].limiter;
    if (limiter < 0) return;
    run.ext[n].limiter = -1;
    run.ext[limiter].active--;
    if (CountsAhead(run.ext[limiter], run.ext[n].tmpl, run.st.nodes[n].item_index)) {
      // Refilled by halves: each new item is a child of its group node, which is stored again
      // with all of its children whenever they change.
      if (--run.ext[limiter].pods_ahead > kPodsAhead / 2) return;
    }
    // run.ext grows as requests start nodes: index it afresh each time, never hold a reference.
    auto more = [&] {
      const NodeExt& l = run.ext[limiter];
      return l.deferred && !l.deferred->empty() && HasRoom(l);
    };
    while (more()) {
      StartRequest s = std::move(run.ext[limiter].deferred->front());
      run.ext[limiter].deferred->pop_front();
      // Items waiting only to be materialized later were as good as started: failFast, which
      // stops what a parallelism limit holds back, does not drop them.
      bool limited = run.ext[limiter].limit > 0;
      if (!limited) run.st.pods_not_created--;
      if (run.stopping || (limited && StopsScheduling(run, limiter))) {
        DropRequest(run, s);
        continue;
      }
      StartRequested(run, limiter, s);
    }
  }

  bool StopsScheduling(Run& run, int limiter) {
    NodeExt& l = run.ext[limiter];
    if (l.dag) return l.dag->failed;
    bool fail_fast = l.tmpl && l.tmpl->fail_fast.value_or(false);
    return fail_fast && l.child_failed;
  }

  // A deferred request that will never start: its container must still hear that it will not come.
  void DropRequest(Run& run, const StartRequest& s) {
    NodeExt& c = run.ext[s.container];
    if (c.dag) {  // a plain DAG task: back to waiting, never started
      DagState& d = *c.dag;
      int t = d.index.at(s.step->name);
      d.state[t] = DagState::kWaiting;
      d.node[t] = -1;
      d.unfinished--;
      CheckDagDone(run, s.container);
      return;
    }
    if (--c.pending == 0) FinishGroup(run, s.container);
  }

  // Evaluates `when`, resolves arguments, and executes the step's template.
  void StartRequested(Run& run, int limiter, const StartRequest& s) {
    const spec::Step& step = *s.step;
    int tmpl_node = run.ext[s.container].dag ? s.container : run.ext[s.container].parent;
    if (run.st.nodes[s.container].type == NodeType::kTaskGroup)
      tmpl_node = run.ext[s.container].parent;
    VarScope scope(run.ext[tmpl_node].scope.get());
    // The step's (task's) own name, as Argo's node-context variables give it.
    scope.Set(run.ext[s.container].dag ? "tasks.name" : "steps.name", step.name);
    if (!s.item.empty()) {
      expr::FlattenItem("item", s.item, [&](std::string k, std::string v) {
        scope.Set(std::move(k), std::move(v));
      });
    }
    std::string boundary = BoundaryOf(run, s.container);
    auto fail_here = [&](NodeType type, Phase phase, const std::string& message) {
      int x = NewNode(run, s.container, s.name, s.display, type, nullptr, boundary);
      run.st.nodes[x].template_name = step.template_name;
      Annotate(run, x, &step, s.item, s.item_index, -1);
      FinishNode(run, x, phase, message);
    };
    if (!step.when.empty()) {
      auto when = Subst(step.when, scope);
      if (!when.ok()) return fail_here(NodeType::kSkipped, Phase::kError, when.error().message);
      auto ok = when->rfind("{{=", 0) == 0 ? Result<bool>(false) : expr::EvaluateWhen(*when);
      if (!ok.ok()) return fail_here(NodeType::kSkipped, Phase::kError, ok.error().message);
      if (!*ok) {
        return fail_here(NodeType::kSkipped, Phase::kSkipped,
                         "when '" + *when + "' evaluated false");
      }
    }
    const spec::Template* tmpl = FindTemplate(run, step.template_name);
    if (!tmpl) {
      return fail_here(NodeType::kSkipped, Phase::kError,
                       "template '" + step.template_name + "' is not defined");
    }
    std::vector<Param> args;
    for (const spec::Parameter& p : step.arguments.parameters) {
      std::string raw = p.value ? *p.value : (p.default_value ? *p.default_value : "");
      auto v = Subst(raw, scope);
      if (!v.ok()) {
        // An argument that cannot be resolved (the output of a skipped step without a default)
        // leaves the template's input default in place.
        if (HasInputDefault(*tmpl, p.name)) continue;
        return fail_here(NodeType::kSkipped, Phase::kError, v.error().message);
      }
      args.push_back({p.name, std::move(*v)});
    }
    run.ext[limiter].active++;
    if (CountsAhead(run.ext[limiter], tmpl, s.item_index)) run.ext[limiter].pods_ahead++;
    Execute(run, s.container, s.name, s.display, *tmpl, args, boundary, scope, &step, s.item,
            s.item_index, limiter);
  }

  static bool HasInputDefault(const spec::Template& tmpl, const std::string& name) {
    for (const spec::Parameter& p : tmpl.inputs.parameters) {
      if (p.name == name) return p.default_value.has_value();
    }
    return false;
  }

  const spec::Template* FindTemplate(Run& run, const std::string& name) {
    auto it = run.templates.find(name);
    return it == run.templates.end() ? nullptr : it->second;
  }

  void FinishGroup(Run& run, int g) {
    NodeExt& e = run.ext[g];
    if (e.pending > 0 || IsCompleted(run.st.nodes[g].phase)) return;
    if (e.child_failed) {
      FinishNode(run, g, Phase::kFailed, e.fail_message);
    } else {
      FinishNode(run, g, Phase::kSucceeded);
    }
  }

  bool ContinuesOn(const spec::Step* step, Phase phase) {
    if (!step) return false;
    return (phase == Phase::kFailed && step->continue_on.failed) ||
           (phase == Phase::kError && step->continue_on.error);
  }

  void ChildDone(Run& run, int p, int c) {
    Node& parent = run.st.nodes[p];
    const Node& child = run.st.nodes[c];
    switch (parent.type) {
      case NodeType::kStepGroup:
      case NodeType::kTaskGroup: {
        NodeExt& e = run.ext[p];
        e.pending--;
        // A hook that ended Error fails the template whatever continueOn says.
        const std::string hook_error = HookError(run, c);
        if ((IsFailedOrError(child.phase) && !ContinuesOn(run.ext[c].step, child.phase)) ||
            !hook_error.empty()) {
          if (!e.child_failed)
            e.fail_message = hook_error.empty() ? "child '" + child.id + "' failed" : hook_error;
          e.child_failed = true;
          int tmpl_node = run.ext[p].parent;
          if (parent.type == NodeType::kStepGroup) run.ext[tmpl_node].child_failed = true;
        }
        FinishGroup(run, p);
        return;
      }
      case NodeType::kSteps: {
        RecordStepOutputs(run, p, c);
        if (IsFailedOrError(child.phase)) {
          FinishNode(run, p, Phase::kFailed, child.message);
          return;
        }
        if (run.stopping) {
          FinishNode(run, p, Phase::kFailed, "workflow shutdown");
          return;
        }
        NextStepGroup(run, p);
        return;
      }
      case NodeType::kDag:
        DagTaskDone(run, p, c);
        return;
      case NodeType::kRetry:
        RetryAttemptDone(run, p, c);
        return;
      default:
        return;
    }
  }

  // Makes steps.<name>.* of the finished group visible to later groups.
  void RecordStepOutputs(Run& run, int steps_node, int group) {
    VarScope& scope = *run.ext[steps_node].scope;
    std::vector<int> kids;
    for (const std::string& id : run.st.nodes[group].children) kids.push_back(IndexOf(run, id));
    RecordOutputs(run, scope, "steps.", kids);
  }

  // Adds <prefix><name>.outputs.* for each named step/task among `kids` (loop items aggregated).
  void RecordOutputs(Run& run, VarScope& scope, const std::string& prefix,
                     const std::vector<int>& kids) {
    std::map<std::string, std::vector<int>> by_step;
    std::vector<std::string> order;
    for (int k : kids) {
      if (k < 0 || !run.ext[k].step) continue;
      const std::string& sname = run.ext[k].step->name;
      if (!by_step.count(sname)) order.push_back(sname);
      by_step[sname].push_back(k);
    }
    for (const std::string& sname : order) {
      const std::vector<int>& nodes = by_step[sname];
      std::string key = prefix + sname;
      const Node& first = run.st.nodes[nodes[0]];
      bool looped = first.item_index >= 0;
      if (!looped) {
        SetNodeVars(run, scope, key, first);
        continue;
      }
      SetLoopVars(run, scope, key, nodes);
    }
  }

  void SetNodeVars(Run& run, VarScope& scope, const std::string& key, const Node& node) {
    scope.Set(key + ".id", node.id);
    scope.Set(key + ".status", std::string(PhaseName(node.phase)));
    scope.Set(key + ".startedAt", FormatRfc3339(node.started_at));
    scope.Set(key + ".finishedAt", FormatRfc3339(node.finished_at));
    if (node.result) scope.Set(key + ".outputs.result", *node.result);
    if (node.exit_code) scope.Set(key + ".exitCode", std::to_string(*node.exit_code));
    if (node.type == NodeType::kPod && !node.host_node_name.empty()) {
      // A pod's address: the hub's own spokes are this host; a remote spoke is named by host.
      scope.Set(key + ".ip",
                node.host_node_name.rfind("local", 0) == 0 ? "127.0.0.1" : node.host_node_name);
    }
    for (const Param& p : node.outputs) scope.Set(key + ".outputs.parameters." + p.name, p.value);
    for (const ArtifactRef& a : node.artifacts)
      scope.Set(key + ".outputs.artifacts." + a.name, a.key);
    if (node.phase != Phase::kSkipped && node.phase != Phase::kOmitted) return;
    // A skipped or omitted step produced nothing: its template's output defaults stand in.
    const spec::Template* tmpl = FindTemplate(run, node.template_name);
    if (!tmpl) return;
    for (const spec::Parameter& p : tmpl->outputs.parameters) {
      const auto& fallback = p.value_from && p.value_from->default_value
                                 ? p.value_from->default_value
                                 : p.default_value;
      if (fallback) scope.Set(key + ".outputs.parameters." + p.name, *fallback);
    }
  }

  void SetLoopVars(Run& run, VarScope& scope, const std::string& key, std::vector<int> nodes) {
    std::sort(nodes.begin(), nodes.end(), [&](int a, int b) {
      return run.st.nodes[a].item_index < run.st.nodes[b].item_index;
    });
    std::vector<std::string> results;
    std::vector<std::vector<std::pair<std::string, std::string>>> rows;
    std::map<std::string, std::vector<std::string>> per_param;
    std::vector<std::string> param_order;
    for (int k : nodes) {
      const Node& node = run.st.nodes[k];
      if (node.phase != Phase::kSucceeded) continue;
      if (node.result) results.push_back(*node.result);
      if (!node.outputs.empty()) {
        rows.emplace_back();
        for (const Param& p : node.outputs) {
          rows.back().push_back({p.name, p.value});
          if (!per_param.count(p.name)) param_order.push_back(p.name);
          per_param[p.name].push_back(p.value);
        }
      }
    }
    scope.Set(key + ".outputs.result", expr::AggregateList(results));
    scope.Set(key + ".outputs.parameters", expr::AggregateParameters(rows));
    for (const std::string& name : param_order) {
      scope.Set(key + ".outputs.parameters." + name, expr::AggregateList(per_param[name]));
    }
    bool any_failed = false;
    for (int k : nodes) any_failed |= IsFailedOrError(run.st.nodes[k].phase);
    scope.Set(key + ".status", any_failed ? "Failed" : "Succeeded");
  }

  int IndexOf(Run& run, const std::string& id) {
    auto it = run.index.find(id);
    return it == run.index.end() ? -1 : it->second;
  }

  // Computes the outputs of a finished steps/dag template node and marks it Succeeded.
  void CompleteTemplateNode(Run& run, int n) {
    NodeExt& e = run.ext[n];
    Node& node = run.st.nodes[n];
    for (const spec::Parameter& p : e.tmpl->outputs.parameters) {
      std::optional<std::string> value;
      std::string error;
      if (p.value_from && !p.value_from->parameter.empty()) {
        auto v = Subst(p.value_from->parameter, *e.scope);
        if (v.ok())
          value = *v;
        else
          error = v.error().message;
      } else if (p.value_from && !p.value_from->expression.empty()) {
        auto v = expr::EvaluateExpr(p.value_from->expression, *e.scope);
        if (v.ok())
          value = expr::ItemText(*v);
        else
          error = v.error().message;
      } else if (p.value) {
        auto v = Subst(*p.value, *e.scope);
        if (v.ok())
          value = *v;
        else
          error = v.error().message;
      }
      if (!value && p.value_from && p.value_from->default_value)
        value = *p.value_from->default_value;
      if (!value && p.default_value) value = *p.default_value;
      if (!value) {
        FinishNode(run, n, Phase::kError,
                   "output parameter '" + p.name + "' could not be resolved" +
                       (error.empty() ? "" : ": " + error));
        return;
      }
      SetOutput(run, node, p, *value);
    }
    for (const spec::Artifact& a : e.tmpl->outputs.artifacts) {
      auto v =
          a.from.empty() && a.from_expression.empty()
              ? Result<std::string>(Fail(InvalidArgument("it has neither from nor fromExpression")))
              : ArtifactFrom(a, *e.scope);
      if (!v.ok()) {
        if (a.optional) continue;
        FinishNode(run, n, Phase::kError,
                   "output artifact '" + a.name + "' could not be resolved: " + v.error().message);
        return;
      }
      SetArtifact(run, node, a, {a.name, "", *v});
    }
    if (!e.tmpl->outputs.result.empty()) {
      auto v = Subst(e.tmpl->outputs.result, *e.scope);
      if (v.ok()) node.result = *v;
    }
    FinishNode(run, n, Phase::kSucceeded);
  }

  // ---------------------------------------------------------------- DAG

  void StartDag(Run& run, int n) {
    NodeExt& e = run.ext[n];
    const spec::Dag& dag = *e.tmpl->dag;
    SetRunning(run, n);
    e.limit = ParseLimit(e.tmpl->parallelism, *e.scope);
    auto d = std::make_unique<DagState>();
    size_t count = dag.tasks.size();
    d->fail_fast = dag.fail_fast.value_or(true);
    d->node.assign(count, -1);
    d->state.assign(count, DagState::kWaiting);
    d->deps.resize(count);
    d->dependents.resize(count);
    d->depends.resize(count);
    d->target.assign(count, true);
    d->failure_handled.assign(count, false);
    for (size_t i = 0; i < count; ++i) {
      d->tasks.push_back(&dag.tasks[i]);
      d->index[dag.tasks[i].name] = static_cast<int>(i);
    }
    for (size_t i = 0; i < count; ++i) {
      const spec::Step& t = dag.tasks[i];
      std::vector<std::string> names;
      if (!t.depends.empty()) {
        auto tasks = expr::DependsTasks(t.depends);
        if (!tasks.ok()) {
          FinishNode(run, n, Phase::kError,
                     "task '" + t.name + "': depends: " + tasks.error().message);
          return;
        }
        names = *tasks;
        d->depends[i] = t.depends;
      } else {
        std::string expr;
        for (const std::string& dep : t.dependencies) {
          names.push_back(dep);
          auto it = d->index.find(dep);
          const spec::Step* dt = it == d->index.end() ? nullptr : &dag.tasks[it->second];
          std::string clause =
              "(" + dep + ".Succeeded || " + dep + ".Skipped || " + dep + ".Daemoned";
          if (dt && dt->continue_on.failed) clause += " || " + dep + ".Failed";
          if (dt && dt->continue_on.error) clause += " || " + dep + ".Errored";
          clause += ")";
          expr += (expr.empty() ? "" : " && ") + clause;
        }
        d->depends[i] = expr;
      }
      for (const std::string& dep : names) {
        auto it = d->index.find(dep);
        if (it == d->index.end()) {
          FinishNode(run, n, Phase::kError,
                     "task '" + t.name + "' depends on '" + dep + "', which is not a task of " +
                         e.tmpl->name);
          return;
        }
        d->deps[i].push_back(it->second);
        d->dependents[it->second].push_back(static_cast<int>(i));
        d->target[it->second] = false;
        if (!t.depends.empty() && NamesFailure(t.depends, dep))
          d->failure_handled[it->second] = true;
      }
    }
    if (!dag.target.empty()) {
      auto target = Subst(dag.target, *e.scope);
      std::vector<bool> needed(count, false), is_target(count, false);
      std::vector<int> stack;
      std::string list = target.ok() ? *target : dag.target;
      for (char& ch : list)
        if (ch == ',') ch = ' ';
      size_t pos = 0;
      while (pos < list.size()) {
        size_t end = list.find(' ', pos);
        if (end == std::string::npos) end = list.size();
        std::string name = list.substr(pos, end - pos);
        pos = end + 1;
        if (name.empty()) continue;
        auto it = d->index.find(name);
        if (it == d->index.end()) {
          FinishNode(run, n, Phase::kError, "target '" + name + "' is not a task");
          return;
        }
        is_target[it->second] = true;
        stack.push_back(it->second);
      }
      while (!stack.empty()) {
        int t = stack.back();
        stack.pop_back();
        if (needed[t]) continue;
        needed[t] = true;
        for (int dep : d->deps[t]) stack.push_back(dep);
      }
      for (size_t i = 0; i < count; ++i) {
        d->target[i] = is_target[i];
        if (!needed[i]) d->state[i] = DagState::kNotNeeded;
      }
    }
    e.dag = std::move(d);
    std::vector<int> ready;
    for (size_t i = 0; i < count; ++i) ready.push_back(static_cast<int>(i));
    ScheduleDag(run, n, ready);
    CheckDagDone(run, n);
  }

  // Whether `depends` refers to task `name`'s failure.
  static bool NamesFailure(const std::string& depends, const std::string& name) {
    for (const char* result : {".Failed", ".Errored", ".AllFailed"}) {
      std::string needle = name + result;
      for (size_t pos = depends.find(needle); pos != std::string::npos;
           pos = depends.find(needle, pos + 1)) {
        bool starts = pos == 0 || !(isalnum(static_cast<unsigned char>(depends[pos - 1])) ||
                                    depends[pos - 1] == '-' || depends[pos - 1] == '_' ||
                                    depends[pos - 1] == '.');
        if (starts) return true;
      }
    }
    return false;
  }

  expr::TaskState DagTaskState(Run& run, DagState& d, std::string_view name) {
    expr::TaskState s;
    auto it = d.index.find(std::string(name));
    if (it == d.index.end()) return s;
    int t = it->second;
    if (d.state[t] == DagState::kOmitted) {
      s.exists = true;
      s.phase = "Omitted";
      return s;
    }
    if (d.node[t] < 0) return s;
    const Node& node = run.st.nodes[d.node[t]];
    s.exists = true;
    s.phase = IsCompleted(node.phase) ? std::string(PhaseName(node.phase)) : "";
    if (node.type == NodeType::kTaskGroup) {
      bool any_ok = false, all_failed = !node.children.empty();
      for (const std::string& id : node.children) {
        int k = IndexOf(run, id);
        if (k < 0) continue;
        Phase p = run.st.nodes[k].phase;
        any_ok |= p == Phase::kSucceeded;
        all_failed &= p == Phase::kFailed;
      }
      s.any_succeeded = any_ok;
      s.all_failed = all_failed;
    }
    return s;
  }

  // Starts or omits the waiting tasks among `candidates` whose dependencies are all resolved, in
  // order (tasks start in the order they are declared).
  void ScheduleDag(Run& run, int n, std::vector<int> candidates) {
    DagState& d = *run.ext[n].dag;
    for (size_t i = 0; i < candidates.size(); ++i) {
      int t = candidates[i];
      if (d.state[t] != DagState::kWaiting) continue;
      bool resolved = true;
      for (int dep : d.deps[t]) {
        if (d.state[dep] != DagState::kDone && d.state[dep] != DagState::kOmitted) resolved = false;
      }
      if (!resolved) continue;
      if (d.failed || run.stopping) continue;
      bool go = true;
      if (!d.depends[t].empty()) {
        auto r = expr::EvaluateDepends(
            d.depends[t], [&](std::string_view name) { return DagTaskState(run, d, name); });
        if (!r.ok()) {
          d.failed = true;
          d.fail_phase = Phase::kError;
          d.fail_message = "task '" + d.tasks[t]->name + "': " + r.error().message;
          continue;
        }
        go = *r;
      }
      if (!go) {
        const spec::Step& task = *d.tasks[t];
        int x = NewNode(run, n, run.st.nodes[n].name + "." + task.name, task.name,
                        NodeType::kSkipped, nullptr, run.st.nodes[n].id);
        run.st.nodes[x].template_name = task.template_name;
        run.ext[x].step = &task;
        // Born completed, not through FinishNode: the DAG needs no report of it.
        run.st.nodes[x].phase = Phase::kOmitted;
        run.st.nodes[x].message = "omitted: depends condition not met";
        run.st.nodes[x].finished_at = run.st.nodes[x].started_at;
        d.node[t] = x;
        d.state[t] = DagState::kOmitted;
        SetNodeVars(run, *run.ext[n].scope, "tasks." + task.name, run.st.nodes[x]);
        for (int dep : d.dependents[t]) candidates.push_back(dep);
        continue;
      }
      StartDagTask(run, n, t);
    }
  }

  void StartDagTask(Run& run, int n, int t) {
    DagState& d = *run.ext[n].dag;
    const spec::Step& task = *d.tasks[t];
    const std::string name = run.st.nodes[n].name + "." + task.name;
    d.state[t] = DagState::kStarted;
    d.unfinished++;
    std::vector<StartRequest> starts;
    ExpandStep(run, n, n, task, name, task.name, starts);
    if (starts.size() == 1 && starts[0].item_index < 0) {
      // A plain task: its node is a direct child of the DAG node.
      size_t before = run.st.nodes.size();
      Admit(run, n, std::move(starts[0]));
      if (run.st.nodes.size() > before)
        d.node[t] = static_cast<int>(before);
      else
        d.node[t] = -2;  // deferred by parallelism; bound when it starts
      return;
    }
    if (starts.empty()) {
      // Finished at expansion (empty loop or bad input): the last node created is the task.
      d.node[t] = static_cast<int>(run.st.nodes.size()) - 1;
      run.ext[n].pending--;  // ExpandStep counted it as a child of the DAG node
      return;
    }
    int g = NewNode(run, n, name, task.name, NodeType::kTaskGroup, nullptr, run.st.nodes[n].id);
    run.st.nodes[g].template_name = task.template_name;
    run.ext[g].step = &task;
    SetRunning(run, g);
    d.node[t] = g;
    run.ext[g].pending = static_cast<int>(starts.size());
    for (StartRequest& s : starts) {
      s.container = g;
      Admit(run, n, std::move(s));
    }
  }

  void DagTaskDone(Run& run, int n, int c) {
    NodeExt& e = run.ext[n];
    if (!e.dag) return;
    DagState& d = *e.dag;
    const spec::Step* step = run.ext[c].step;
    if (!step) return;
    auto it = d.index.find(step->name);
    if (it == d.index.end()) return;
    int t = it->second;
    if (d.node[t] == -2) d.node[t] = c;
    if (d.node[t] != c) return;  // an item of a TaskGroup reports through the group
    d.state[t] = DagState::kDone;
    d.unfinished--;
    const Node& child = run.st.nodes[c];
    VarScope& scope = *e.scope;
    if (child.type == NodeType::kTaskGroup) {
      std::vector<int> items;
      for (const std::string& id : child.children) items.push_back(IndexOf(run, id));
      SetLoopVars(run, scope, "tasks." + step->name, items);
    } else {
      SetNodeVars(run, scope, "tasks." + step->name, child);
    }
    if (IsFailedOrError(child.phase) && !ContinuesOn(step, child.phase) && d.fail_fast &&
        !d.failure_handled[t] && !d.failed) {
      d.failed = true;
      d.fail_phase = child.phase;
      d.fail_message = "child '" + child.id + "' failed";
    }
    if (std::string why = HookError(run, c); !why.empty() && !d.failed) {
      d.failed = true;  // a hook that ended Error fails the DAG, whatever continueOn says
      d.fail_message = std::move(why);
    }
    ScheduleDag(run, n, d.dependents[t]);
    CheckDagDone(run, n);
  }

  Phase BranchPhase(Run& run, DagState& d, int t, std::vector<int8_t>& memo) {
    if (memo[t] >= 0) return static_cast<Phase>(memo[t]);
    Phase result = Phase::kSucceeded;
    if (d.state[t] == DagState::kDone && d.node[t] >= 0) {
      result = run.st.nodes[d.node[t]].phase;
    } else if (!d.deps[t].empty()) {
      // A task that never ran takes the phase of its branch as a breadth-first walk from the
      // DAG's roots first reaches it: through its first dependency.
      result = BranchPhase(run, d, d.deps[t].front(), memo);
    }
    memo[t] = static_cast<int8_t>(result);
    return result;
  }

  void CheckDagDone(Run& run, int n) {
    NodeExt& e = run.ext[n];
    if (!e.dag || IsCompleted(run.st.nodes[n].phase)) return;
    DagState& d = *e.dag;
    if (d.unfinished > 0) return;
    if (!d.failed && !run.stopping) {
      for (size_t t = 0; t < d.tasks.size(); ++t) {
        if (d.state[t] == DagState::kWaiting) return;  // still reachable
      }
    }
    if (d.failed) {
      FinishNode(run, n, d.fail_phase, d.fail_message);
      return;
    }
    if (run.stopping) {
      FinishNode(run, n, Phase::kFailed, "workflow shutdown");
      return;
    }
    std::vector<int8_t> memo(d.tasks.size(), -1);
    for (size_t t = 0; t < d.tasks.size(); ++t) {
      if (!d.target[t] || d.state[t] == DagState::kNotNeeded) continue;
      Phase p = BranchPhase(run, d, static_cast<int>(t), memo);
      if (IsFailedOrError(p) && !ContinuesOn(d.tasks[t], p)) {
        int node = d.node[t];
        std::string id = node >= 0 ? run.st.nodes[node].id : d.tasks[t]->name;
        FinishNode(run, n, p, "child '" + id + "' failed");
        return;
      }
    }
    CompleteTemplateNode(run, n);
  }

  // ---------------------------------------------------------------- retries

  void RetryAttemptDone(Run& run, int r, int c) {
    Node& rn = run.st.nodes[r];
    const Node& child = run.st.nodes[c];
    NodeExt& re = run.ext[r];
    const spec::RetryStrategy& rs =
        re.tmpl->retry_strategy ? *re.tmpl->retry_strategy : *run.spec.spec.retry_strategy;
    if (child.phase == Phase::kSucceeded) {
      rn.outputs = child.outputs;
      rn.result = child.result;
      rn.exit_code = child.exit_code;
      rn.host_node_name = child.host_node_name;
      FinishNode(run, r, Phase::kSucceeded);
      return;
    }
    bool retry_phase = false;
    std::string policy = rs.retry_policy.empty() ? "OnFailure" : rs.retry_policy;
    if (policy == "Always")
      retry_phase = IsFailedOrError(child.phase);
    else if (policy == "OnFailure")
      retry_phase = child.phase == Phase::kFailed;
    else if (policy == "OnError" || policy == "OnTransientError")
      retry_phase = child.phase == Phase::kError;
    if (run.ext[c].lost) retry_phase = true;  // a transient error, whatever the policy
    std::optional<int> limit;
    if (!rs.limit.empty()) {
      auto v = Subst(rs.limit, *run.ext[c].scope);
      try {
        limit = v.ok() ? std::stoi(*v) : 0;
      } catch (...) {
        limit = 0;
      }
    }
    if (retry_phase && !rs.expression.empty()) {
      VarScope scope(run.ext[c].scope.get());
      scope.Set("lastRetry.exitCode", child.exit_code ? std::to_string(*child.exit_code) : "-1");
      scope.Set("lastRetry.status", std::string(PhaseName(child.phase)));
      scope.Set("lastRetry.duration",
                std::to_string((child.finished_at - child.started_at) / 1000000));
      scope.Set("lastRetry.message", child.message);
      auto v = expr::EvaluateExpr(rs.expression, scope);
      retry_phase = v.ok() && *v == "true";
    }
    bool more = retry_phase && !run.stopping && (!limit || re.attempts <= *limit);
    if (!more) {
      rn.exit_code = child.exit_code;
      rn.result = child.result;
      std::string msg = child.message;
      if (retry_phase && limit) msg = "No more retries left";
      FinishNode(run, r, child.phase, msg);
      return;
    }
    Micros delay = 0;
    if (rs.backoff) {
      auto base = ParseDurationSeconds(rs.backoff->duration);
      double factor = 1;
      try {
        if (!rs.backoff->factor.empty()) factor = std::stod(rs.backoff->factor);
      } catch (...) {
      }
      if (base) {
        double secs = *base * std::pow(factor, re.attempts - 1);
        if (auto cap = ParseDurationSeconds(rs.backoff->cap)) secs = std::min(secs, *cap);
        if (auto max = ParseDurationSeconds(rs.backoff->max_duration)) {
          double elapsed = (clock.Now() - rn.started_at) / 1e6;
          if (elapsed + secs > *max) {
            FinishNode(run, r, child.phase, "Max duration limit exceeded");
            return;
          }
        }
        delay = static_cast<Micros>(secs * 1e6);
      }
    }
    if (delay > 0) {
      SetTimer(run, clock.Now() + delay, "retry", r);
      return;
    }
    StartAttempt(run, r);
  }

  // Asks for TimerFired("<kind>/<workflow>/<node>") at `at`.
  void SetTimer(Run& run, Micros at, const std::string& kind, int n) {
    run.timers_pending++;
    effects.timers.push_back({at, kind + "/" + run.st.name + "/" + std::to_string(n)});
  }

  // ---------------------------------------------------------------- suspend

  void StartSuspend(Run& run, int n) {
    SetRunning(run, n);
    const spec::Suspend& s = *run.ext[n].tmpl->suspend;
    if (!s.duration.empty()) {
      auto d = Subst(s.duration, *run.ext[n].scope);
      auto secs = d.ok() ? ParseDurationSeconds(*d) : std::nullopt;
      if (!secs) {
        FinishNode(run, n, Phase::kError, "invalid suspend duration '" + s.duration + "'");
        return;
      }
      SetTimer(run, clock.Now() + static_cast<Micros>(*secs * 1e6), "suspend", n);
    }
  }

  void ResumeNode(Run& run, int n, const std::vector<Param>& supplied) {
    Node& node = run.st.nodes[n];
    if (node.type != NodeType::kSuspend || IsCompleted(node.phase)) return;
    for (const spec::Parameter& p : run.ext[n].tmpl->outputs.parameters) {
      std::optional<std::string> value;
      for (const Param& s : supplied) {
        if (s.name == p.name) value = s.value;
      }
      if (!value && p.value_from && p.value_from->default_value)
        value = *p.value_from->default_value;
      if (!value && p.default_value) value = *p.default_value;
      if (value) SetOutput(run, node, p, *value);
    }
    FinishNode(run, n, Phase::kSucceeded);
  }

  // ---------------------------------------------------------------- data

  // Node n, running as the hub's own work (no spoke's).
  Node& RunOnHub(Run& run, int n) {
    Node& node = run.st.nodes[n];
    node.host_node_name = "hub";
    SetRunning(run, n);
    return node;
  }

  // A data template is the hub's own work: the keys its source lists in the artifact
  // repository, as a JSON list `data`, through each transformation; the result is the node's
  // outputs.result.
  void RunData(Run& run, int n) {
    NodeExt& e = run.ext[n];
    const spec::Data& d = *e.tmpl->data;
    Node& node = RunOnHub(run, n);
    auto fail = [&](const std::string& why) { FinishNode(run, n, Phase::kError, why); };
    if (!d.source.unsupported_source.empty()) {
      return fail("data source '" + d.source.name + "' uses a " + d.source.unsupported_source +
                  " store, which hubspoke does not configure");
    }
    if (!options.artifact_repository) return fail("no artifact repository to list here");
    auto prefix = Subst(d.source.repository_key, *e.scope);
    if (!prefix.ok()) return fail(prefix.error().message);
    std::string key = *prefix;
    if (!key.empty()) {
      auto k = RepositoryKey(key);
      if (!k.ok()) return fail("data source: " + k.error().message);
      key = k->substr(std::string_view("_repository/").size());
    }
    auto keys = options.artifact_repository->ListKeys(key);
    if (!keys.ok()) return fail("data source: " + keys.error().message);
    std::string data = "[";
    for (const std::string& k : *keys) data += (data.size() > 1 ? "," : "") + expr::JsonQuote(k);
    data += "]";
    for (size_t i = 0; i < d.transformations.size(); ++i) {
      VarScope scope(e.scope.get());
      scope.Set("data", data);
      auto v = expr::EvaluateExpr(d.transformations[i], scope);
      if (!v.ok()) {
        return fail("transformation " + std::to_string(i + 1) + ": " + v.error().message);
      }
      data = std::move(*v);
    }
    node.result = expr::ItemText(data);
    e.scope->Set("outputs.result", *node.result);
    FinishNode(run, n, Phase::kSucceeded);
  }

  // ---------------------------------------------------------------- resources / child workflows

  void StartResource(Run& run, int n) {
    NodeExt& e = run.ext[n];
    const spec::Resource& res = *e.tmpl->resource;
    Node& node = RunOnHub(run, n);
    if (res.action != "create") {
      FinishNode(run, n, Phase::kError,
                 "resource action '" + res.action +
                     "' is not supported: hubspoke creates child "
                     "Workflows only (action: create)");
      return;
    }
    auto text = Subst(res.manifest, *e.scope);
    if (!text.ok()) {
      FinishNode(run, n, Phase::kError, text.error().message);
      return;
    }
    auto manifest = spec::LoadManifest(*text, run.st.name + "/" + node.name);
    if (!manifest.ok()) {
      FinishNode(run, n, Phase::kError, manifest.error().ToString());
      return;
    }
    if (manifest->kind != "Workflow") {
      FinishNode(run, n, Phase::kError,
                 "resource manifest of kind '" + manifest->kind +
                     "' is not supported: hubspoke "
                     "creates kind Workflow only");
      return;
    }
    auto resolved = spec::Resolve(*manifest, catalog);
    if (!resolved.ok()) {
      FinishNode(run, n, Phase::kError, resolved.error().ToString());
      return;
    }
    auto child = Create(std::move(*resolved), &run, n);
    if (!child.ok()) {
      FinishNode(run, n, Phase::kError, child.error().ToString());
      return;
    }
    node.child_workflow = *child;
    MarkNode(run, n);
    e.waits_for_child = !res.success_condition.empty() || !res.failure_condition.empty();
    if (!e.waits_for_child) {
      SetResourceOutputs(run, n, *runs.at(*child));
      if (!IsCompleted(node.phase)) FinishNode(run, n, Phase::kSucceeded);
    }
  }

  // The child workflow as a resource node sees it (for conditions and jsonPath outputs).
  std::string ChildJson(const Run& child) {
    std::string out = "{\"apiVersion\":\"argoproj.io/v1alpha1\",\"kind\":\"Workflow\",";
    out += "\"metadata\":{\"name\":" + expr::JsonQuote(child.st.name) +
           ",\"namespace\":" + expr::JsonQuote(child.st.namespace_) + ",\"labels\":{";
    bool first = true;
    for (const auto& [k, v] : child.st.labels) {
      out += (first ? "" : ",") + expr::JsonQuote(k) + ":" + expr::JsonQuote(v);
      first = false;
    }
    out += "}},\"status\":{";
    if (child.finished)
      out += "\"phase\":" + expr::JsonQuote(std::string(PhaseName(child.st.phase))) + ",";
    out += "\"message\":" + expr::JsonQuote(child.st.message) +
           ",\"startedAt\":" + expr::JsonQuote(FormatRfc3339(child.st.started_at)) +
           ",\"finishedAt\":" + expr::JsonQuote(FormatRfc3339(child.st.finished_at)) +
           ",\"outputs\":{\"parameters\":[";
    first = true;
    for (const Param& p : child.st.outputs) {
      out += std::string(first ? "" : ",") + "{\"name\":" + expr::JsonQuote(p.name) +
             ",\"value\":" + expr::JsonQuote(p.value) + "}";
      first = false;
    }
    out += "]}}}";
    return out;
  }

  void SetResourceOutputs(Run& run, int n, const Run& child) {
    NodeExt& e = run.ext[n];
    Node& node = run.st.nodes[n];
    std::string doc = ChildJson(child);
    for (const spec::Parameter& p : e.tmpl->outputs.parameters) {
      std::optional<std::string> value;
      std::string error;
      if (p.value_from && !p.value_from->json_path.empty()) {
        auto v = expr::JsonPath(doc, p.value_from->json_path);
        if (v.ok())
          value = *v;
        else
          error = v.error().message;
      } else if (p.value) {
        auto v = Subst(*p.value, *e.scope);
        if (v.ok()) value = *v;
      }
      if (!value && p.value_from && p.value_from->default_value)
        value = *p.value_from->default_value;
      if (!value && p.default_value) value = *p.default_value;
      if (!value) {
        FinishNode(run, n, Phase::kError,
                   "output parameter '" + p.name + "' of child workflow " + child.st.name +
                       " could not be read" + (error.empty() ? "" : ": " + error));
        return;
      }
      SetOutput(run, node, p, *value);
    }
  }

  void ChildWorkflowDone(Run& child) {
    if (!child.parent) return;
    Run& run = *child.parent;
    int n = child.parent_node;
    Node& node = run.st.nodes[n];
    if (IsCompleted(node.phase) || !run.ext[n].waits_for_child) return;
    const spec::Resource& res = *run.ext[n].tmpl->resource;
    std::string doc = ChildJson(child);
    std::string child_state = "child workflow " + child.st.name + " " +
                              std::string(PhaseName(child.st.phase)) +
                              (child.st.message.empty() ? "" : ": " + child.st.message);
    if (!res.failure_condition.empty()) {
      auto failed = expr::EvaluateResourceCondition(res.failure_condition, doc);
      if (!failed.ok()) {
        FinishNode(run, n, Phase::kError, "failureCondition: " + failed.error().message);
        return;
      }
      if (*failed) {
        FinishNode(run, n, Phase::kFailed, child_state);
        return;
      }
    }
    if (!res.success_condition.empty()) {
      auto ok = expr::EvaluateResourceCondition(res.success_condition, doc);
      if (!ok.ok()) {
        FinishNode(run, n, Phase::kError, "successCondition: " + ok.error().message);
        return;
      }
      if (*ok) {
        SetResourceOutputs(run, n, child);
        if (!IsCompleted(node.phase)) FinishNode(run, n, Phase::kSucceeded);
        return;
      }
      FinishNode(run, n, Phase::kFailed, child_state + " (successCondition not met)");
      return;
    }
    // Only a failureCondition, which did not match: the child's end counts as success.
    SetResourceOutputs(run, n, child);
    if (!IsCompleted(node.phase)) FinishNode(run, n, Phase::kSucceeded);
  }

  // ---------------------------------------------------------------- workflows

  Result<std::string> Create(spec::Workflow wf, Run* parent, int parent_node,
                             std::vector<Node> memo = {}) {
    std::string name = wf.metadata.name;
    if (name.empty()) {
      if (wf.metadata.generate_name.empty()) {
        return Fail(
            InvalidArgument("workflow has neither metadata.name nor metadata.generateName"));
      }
      do {
        name = (parent ? parent->rng : names).Generate(wf.metadata.generate_name);
      } while (runs.count(name));
    } else if (runs.count(name)) {
      return Fail(Error{ErrorCode::kAlreadyExists, "workflow " + name + " already exists", ""});
    }
    auto run = std::make_unique<Run>();
    Run& r = *run;
    for (Node& node : memo) r.memo.emplace(node.name, std::move(node));
    r.spec = std::move(wf);
    r.spec.metadata.name = name;
    r.parent = parent;
    r.parent_node = parent_node;
    r.st.name = name;
    r.st.namespace_ =
        r.spec.metadata.namespace_.empty() ? options.default_namespace : r.spec.metadata.namespace_;
    r.st.labels = r.spec.metadata.labels;
    r.st.created_at = clock.Now();
    r.rng = NameGenerator(Fnv1a32(name) ^ static_cast<uint64_t>(r.st.created_at));
    r.attempt_tag = r.rng.Generate("");
    r.st.started_at = r.st.created_at;
    r.st.phase = Phase::kRunning;
    if (parent) {
      r.st.parent = parent->st.name;
      r.st.parent_node = parent->st.nodes[parent_node].id;
      parent->children.push_back(name);
    }
    for (const spec::Template& t : r.spec.spec.templates) r.templates[t.name] = &t;
    for (const spec::LifecycleHook& h : r.spec.spec.hooks) {
      if (h.name != "exit") r.wf_hook_nodes.assign(r.spec.spec.hooks.size(), -1);
    }
    for (const spec::Parameter& p : r.spec.spec.arguments.parameters) {
      std::optional<std::string> v = p.value ? p.value : p.default_value;
      if (!v) {
        return Fail(InvalidArgument("spec.arguments.parameters." + p.name +
                                        " has no value: pass it with -p " + p.name + "=VALUE",
                                    p.pos.ToString()));
      }
      r.st.parameters.push_back({p.name, *v});
    }
    const spec::Template* entry = nullptr;
    auto it = r.templates.find(r.spec.spec.entrypoint);
    if (it != r.templates.end()) entry = it->second;
    if (!entry) {
      return Fail(InvalidArgument(r.spec.spec.entrypoint.empty()
                                      ? "workflow " + name + " has no entrypoint"
                                      : "entrypoint template '" + r.spec.spec.entrypoint +
                                            "' is not defined in workflow " + name));
    }
    if (r.spec.spec.synchronization) {
      auto wanted = LocksOf(*r.spec.spec.synchronization, r.st.namespace_);
      if (!wanted.ok())
        return Fail(Error{wanted.error().code, wanted.error().message, "spec.synchronization"});
    }
    std::optional<double> deadline;  // spec.activeDeadlineSeconds: an integer, not templated
    if (!r.spec.spec.active_deadline_seconds.empty()) {
      deadline = ParseDurationSeconds(r.spec.spec.active_deadline_seconds);
      if (!deadline) {
        return Fail(InvalidArgument("spec.activeDeadlineSeconds '" +
                                    r.spec.spec.active_deadline_seconds + "' is not a number"));
      }
    }
    runs[name] = std::move(run);
    run_order.push_back(name);
    InitGlobals(r);
    // Parameters may refer to each other ({{workflow.parameters.a}} in b).
    for (Param& p : r.st.parameters) {
      if (expr::HasPlaceholders(p.value)) {
        auto v = Subst(p.value, r.globals);
        if (v.ok()) {
          p.value = *v;
          r.globals.Set("workflow.parameters." + p.name, p.value);
        }
      }
    }
    r.pod_limit = ParseLimit(r.spec.spec.parallelism, r.globals);
    MarkRun(r);
    if (deadline)
      SetTimer(r, r.st.started_at + static_cast<Micros>(*deadline * 1e6), "deadline", 0);
    if (r.spec.spec.synchronization) {
      auto wanted = LocksOf(*r.spec.spec.synchronization, r.st.namespace_);
      if (!TryLock(*wanted, name, {name, -1})) {
        r.waits_for_lock = true;
        r.st.phase = Phase::kPending;
        r.st.message = WaitingMessage(*wanted, name);
        return name;
      }
      r.holds_locks = true;
    }
    BeginRun(r);
    return name;
  }

  // Starts the entrypoint of a run created (and, with workflow synchronization, holding its
  // locks: a waiting run tries to take them again).
  void BeginRun(Run& r) {
    if (r.waits_for_lock) {
      auto wanted = LocksOf(*r.spec.spec.synchronization, r.st.namespace_);
      if (!wanted.ok() || !TryLock(*wanted, r.st.name, {r.st.name, -1})) return;
      r.waits_for_lock = false;
      r.holds_locks = true;
      r.st.phase = Phase::kRunning;
      r.st.message.clear();
      r.st.started_at = clock.Now();
      MarkRun(r);
    }
    const spec::Template* entry = r.templates.at(r.spec.spec.entrypoint);
    r.globals.Set("workflow.status", "Running");
    Execute(r, kNoParent, r.st.name, r.st.name, *entry, r.st.parameters, "", r.globals, nullptr, "",
            -1, -1);
    if (!r.wf_hook_nodes.empty()) FireWorkflowHooks(r);
  }

  void MainDone(Run& run) {
    const Node& root = run.st.nodes[0];
    run.globals.Set("workflow.status", std::string(PhaseName(root.phase)));
    run.globals.Set("workflow.failures", FailuresJson(run));
    run.globals.Set("workflow.duration", std::to_string((clock.Now() - run.st.started_at) / 1e6));
    // The workflow's own hooks that fired end first (its final status may fire more).
    if (!run.wf_hook_nodes.empty()) {
      FireWorkflowHooks(run);
      run.main_waits_for_hooks = std::any_of(run.wf_hook_nodes.begin(), run.wf_hook_nodes.end(),
                                             [&](int h) { return Running(run, h); });
      if (run.main_waits_for_hooks) return;
    }
    run.main_phase = root.phase;
    run.main_message = run.deadline_exceeded ? kDeadlineMessage : root.message;
    if (std::string why = HookError(run, -1); !why.empty() && root.phase == Phase::kSucceeded) {
      run.main_phase = Phase::kFailed;
      run.main_message = std::move(why);
    }
    // spec.onExit, or spec.hooks.exit (which may pass arguments).
    std::string exit_template = run.spec.spec.on_exit;
    const spec::LifecycleHook* exit_hook = nullptr;
    for (const spec::LifecycleHook& h : run.spec.spec.hooks) {
      if (h.name == "exit" && exit_template.empty()) exit_hook = &h;
    }
    if (exit_hook) exit_template = exit_hook->template_name;
    if (!exit_template.empty() && !run.exit_started) {
      run.exit_started = true;
      run.globals.Set("workflow.status", std::string(PhaseName(run.main_phase)));
      const spec::Template* tmpl = FindTemplate(run, exit_template);
      if (!tmpl) {
        FinalizeRun(run, Phase::kError, "onExit template '" + exit_template + "' is not defined");
        return;
      }
      std::vector<Param> args;
      const spec::Step* step = nullptr;
      if (exit_hook) {
        spec::Step& s = run.hook_steps.emplace_back();
        s.name = "exit";
        s.template_name = exit_template;
        s.arguments = exit_hook->arguments;
        step = &s;
        for (const spec::Parameter& p : s.arguments.parameters) {
          auto v = Subst(p.value ? *p.value : p.default_value.value_or(""), run.globals);
          if (!v.ok()) {
            FinalizeRun(run, Phase::kError, "exit hook: " + v.error().message);
            return;
          }
          args.push_back({p.name, std::move(*v)});
        }
      }
      run.stopping = false;
      Execute(run, kExitHandlerParent, run.st.name + ".onExit", run.st.name + ".onExit", *tmpl,
              args, "", run.globals, step, "", -1, -1);
      return;
    }
    FinalizeRun(run, run.main_phase, run.main_message);
  }

  std::string FailuresJson(Run& run) {
    std::vector<std::vector<std::pair<std::string, std::string>>> rows;
    for (const Node& n : run.st.nodes) {
      if (n.type != NodeType::kPod || !IsFailedOrError(n.phase)) continue;
      rows.push_back({{"displayName", n.display_name},
                      {"message", n.message},
                      {"templateName", n.template_name},
                      {"phase", std::string(PhaseName(n.phase))},
                      {"podName", n.id},
                      {"finishedAt", FormatRfc3339(n.finished_at)}});
    }
    return expr::AggregateParameters(rows);
  }

  void ExitHandlerDone(Run& run, int n) {
    const Node& exit = run.st.nodes[n];
    // A failed handler fails a succeeded workflow; one that errored makes it an Error.
    if (run.main_phase == Phase::kSucceeded && IsFailedOrError(exit.phase)) {
      FinalizeRun(run, exit.phase, exit.message);
      return;
    }
    FinalizeRun(run, run.main_phase, run.main_message);
  }

  void FinalizeRun(Run& run, Phase phase, const std::string& message) {
    if (run.finished) return;
    run.finished = true;
    StopWaiting(run.st.name);
    EndDaemons(run, -1);
    if (run.holds_locks) {
      run.holds_locks = false;
      auto wanted = LocksOf(*run.spec.spec.synchronization, run.st.namespace_);
      if (wanted.ok()) Unlock(*wanted, run.st.name);
    }
    if (phase == Phase::kSkipped || phase == Phase::kOmitted) phase = Phase::kSucceeded;
    run.st.phase = phase;
    run.st.message = message;
    run.st.finished_at = clock.Now();
    MarkRun(run);
    effects.finished.push_back(run.st.name);
    if (run.parent) finished_runs.push_back(&run);
  }

  // Stop, terminate and the workflow deadline: cancels running tasks and fails every unfinished
  // pod, suspend and retry-in-backoff node with `message`; their parents fail in turn.
  void Shutdown(Run& run, const std::string& message) {
    run.stopping = true;
    if (run.waits_for_lock) {  // nothing ran yet
      FinalizeRun(run, Phase::kFailed, message);
      Drain();
      return;
    }
    for (auto& [attempt, where] : attempts) {
      if (where.first == &run) effects.cancel.push_back(attempt);
    }
    int freed_slots = 0;
    for (size_t i = 0; i < run.st.nodes.size(); ++i) {
      int n = static_cast<int>(i);
      Node& node = run.st.nodes[n];
      if (IsCompleted(node.phase)) continue;
      if (node.type == NodeType::kPod || node.type == NodeType::kSuspend) {
        const std::string& attempt = run.ext[n].attempt_id;
        if (attempts.erase(attempt) > 0) {
          if (run.ext[n].in_pod_queue)
            pending_tasks.erase(attempt);
          else
            freed_slots++;
        }
        FinishNode(run, n, Phase::kFailed, message);
      } else if ((node.type == NodeType::kRetry && WaitsForBackoff(run, n)) ||
                 run.ext[n].waits_for_lock) {
        FinishNode(run, n, Phase::kFailed, message);
      }
    }
    // Once every stopped node is completed, so the queue only hands slots to later pods (exit
    // handlers).
    while (freed_slots-- > 0) PodSlotFreed(run);
    Drain();
  }

  // A Retry node whose attempts have all ended: it waits for its backoff timer.
  bool WaitsForBackoff(const Run& run, int r) const {
    for (const std::string& id : run.st.nodes[r].children) {
      auto it = run.index.find(id);
      if (it != run.index.end() && !IsCompleted(run.st.nodes[it->second].phase)) return false;
    }
    return true;
  }

  // Nothing but indefinite suspends (here or in child workflows) keeps `run` from going on: no
  // task queued or running, no timer pending, at least one Suspend node running.
  bool WaitsOnlyOnSuspend(const Run& run) const {
    if (run.finished || run.timers_pending > 0) return false;
    bool suspended = false;
    for (size_t n = 0; n < run.st.nodes.size(); ++n) {
      const Node& node = run.st.nodes[n];
      if (IsCompleted(node.phase)) continue;
      if (node.type == NodeType::kSuspend) {
        suspended = true;
      } else if (node.type == NodeType::kPod) {
        auto child = runs.find(node.child_workflow);
        if (child == runs.end() || !WaitsOnlyOnSuspend(*child->second)) return false;
        suspended = true;
      }
    }
    return suspended;
  }

  Run* FindRun(const std::string& name) {
    auto it = runs.find(name);
    return it == runs.end() ? nullptr : it->second.get();
  }
};

Engine::Engine(const Clock& clock, const spec::Catalog& catalog, EngineOptions options)
    : impl_(std::make_unique<Impl>(clock, catalog, std::move(options))) {}

Engine::~Engine() = default;

Result<std::string> Engine::Submit(spec::Workflow workflow, std::vector<Node> memo) {
  auto name = impl_->Create(std::move(workflow), nullptr, -1, std::move(memo));
  impl_->Drain();
  return name;
}

void Engine::TaskStarted(const std::string& attempt_id, const std::string& spoke, Micros at) {
  impl_->OnTaskStarted(attempt_id, spoke, at);
  impl_->Drain();  // a daemon step completes when it starts
}

void Engine::TaskFinished(const TaskResult& result) {
  impl_->OnTaskFinished(result);
  impl_->Drain();
}

void Engine::TimerFired(const std::string& key) {
  size_t a = key.find('/');
  size_t b = key.rfind('/');
  if (a == std::string::npos || b == a) return;
  std::string kind = key.substr(0, a);
  auto* run = impl_->FindRun(key.substr(a + 1, b - a - 1));
  if (!run) return;
  int n = -1;
  try {
    n = std::stoi(key.substr(b + 1));
  } catch (...) {
    return;
  }
  if (n < 0 || n >= static_cast<int>(run->st.nodes.size())) return;
  if (run->timers_pending > 0) run->timers_pending--;
  if (kind == "suspend") {
    impl_->ResumeNode(*run, n, {});
  } else if (kind == "retry" && !IsCompleted(run->st.nodes[n].phase)) {
    impl_->StartAttempt(*run, n);
  } else if (kind == "deadline" && !run->exit_started && !run->finished) {
    // Exit handlers are not subject to the deadline: they run after the shutdown.
    run->deadline_exceeded = true;
    impl_->Shutdown(*run, kDeadlineMessage);
  }
  impl_->Drain();
}

Status Engine::Stop(const std::string& workflow, const std::string& message) {
  auto* run = impl_->FindRun(workflow);
  if (!run) return Fail(NotFound("workflow " + workflow + " not found"));
  if (run->finished) return {};
  impl_->Shutdown(*run, message);
  return {};
}

Status Engine::Terminate(const std::string& workflow, const std::string& message) {
  auto* run = impl_->FindRun(workflow);
  if (!run) return Fail(NotFound("workflow " + workflow + " not found"));
  run->exit_started = true;  // terminate skips exit handlers
  return Stop(workflow, message);
}

Status Engine::Suspend(const std::string& workflow) {
  auto* run = impl_->FindRun(workflow);
  if (!run) return Fail(NotFound("workflow " + workflow + " not found"));
  if (run->finished) {
    return Fail(Error{ErrorCode::kFailedPrecondition,
                      "workflow " + workflow + " has already finished", ""});
  }
  if (!run->held) {
    run->held = true;
    run->st.suspended = true;
    impl_->MarkRun(*run);
  }
  return {};
}

Status Engine::Resume(const std::string& workflow, const std::vector<Param>& outputs) {
  auto* run = impl_->FindRun(workflow);
  if (!run) return Fail(NotFound("workflow " + workflow + " not found"));
  if (run->held) {
    run->held = false;
    run->st.suspended = false;
    impl_->MarkRun(*run);
    impl_->DispatchQueued(*run);
  }
  for (size_t n = 0; n < run->st.nodes.size(); ++n) {
    impl_->ResumeNode(*run, static_cast<int>(n), outputs);
  }
  impl_->Drain();
  return {};
}

void Engine::NoteWaiting(const std::string& attempt_id, const std::string& message) {
  auto it = impl_->attempts.find(attempt_id);
  if (it == impl_->attempts.end()) return;
  auto [run, n] = it->second;
  Node& node = run->st.nodes[n];
  if (IsCompleted(node.phase) || node.message == message) return;
  node.message = message;
  impl_->MarkNode(*run, n);
}

void Engine::Forget(const std::string& workflow) {
  std::vector<std::string> stack{workflow};
  while (!stack.empty()) {
    auto it = impl_->runs.find(stack.back());
    stack.pop_back();
    if (it == impl_->runs.end()) continue;
    Impl::Run* run = it->second.get();
    for (const std::string& child : run->children) stack.push_back(child);
    for (auto a = impl_->attempts.begin(); a != impl_->attempts.end();) {
      if (a->second.first == run) {
        impl_->pending_tasks.erase(a->first);
        a = impl_->attempts.erase(a);
      } else {
        ++a;
      }
    }
    // Its node changes not yet taken go with it: their indexes mean nothing once it is gone
    // (and a workflow of the same name may come back before the next TakeChanges).
    if (auto slot = impl_->changed_node_slot.find(run->st.name);
        slot != impl_->changed_node_slot.end()) {
      impl_->changes.nodes[slot->second].second.clear();
      impl_->changed_node_slot.erase(slot);
    }
    std::erase(impl_->run_order, run->st.name);
    impl_->runs.erase(it);
  }
}

Effects Engine::TakeEffects() { return std::exchange(impl_->effects, {}); }

void Engine::SetTaskSink(std::function<void(Task)> sink) { impl_->task_sink = std::move(sink); }

Changes Engine::TakeChanges() {
  for (auto& entry : impl_->changes.nodes) {
    if (entry.second.empty()) continue;  // of a workflow forgotten since
    auto* run = impl_->FindRun(entry.first);
    for (int n : entry.second) run->ext[n].dirty = false;
  }
  impl_->changed_workflows.clear();
  impl_->changed_node_slot.clear();
  return std::exchange(impl_->changes, {});
}

const WorkflowStatus* Engine::Find(const std::string& name) const {
  auto it = impl_->runs.find(name);
  return it == impl_->runs.end() ? nullptr : &it->second->st;
}

const spec::Workflow* Engine::FindSpec(const std::string& name) const {
  auto it = impl_->runs.find(name);
  return it == impl_->runs.end() ? nullptr : &it->second->spec;
}

std::vector<std::string> Engine::Names() const { return impl_->run_order; }

std::vector<std::string> Engine::ChildrenOf(const std::string& name) const {
  auto it = impl_->runs.find(name);
  return it == impl_->runs.end() ? std::vector<std::string>{} : it->second->children;
}

bool Engine::IsFinished(const std::string& name) const {
  auto it = impl_->runs.find(name);
  return it != impl_->runs.end() && it->second->finished;
}

bool Engine::IsSuspended(const std::string& name) const {
  auto it = impl_->runs.find(name);
  return it != impl_->runs.end() && impl_->WaitsOnlyOnSuspend(*it->second);
}

}  // namespace hubspoke::engine
