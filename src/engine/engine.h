// The workflow state machine: Argo semantics for steps, DAGs, loops, conditions, retries,
// parallelism, exit handlers, lifecycle hooks, data templates and child workflows created by
// resource templates.
//
// The engine is pure and incremental: it is driven by events (Submit, TaskStarted, TaskFinished,
// TimerFired, and commands) and answers with effects (tasks to dispatch, attempts to cancel,
// timers to set, workflows that finished) plus the set of nodes it changed, which the owner
// persists in one transaction before it dispatches anything. An event touches the node it is
// about, its parents whose state changes, and the siblings it makes ready; it never re-walks a
// workflow. It touches no sockets, files, threads or wall clock (time comes from the Clock).
//
// Thread-safety: none. One thread owns an Engine; other threads post events to that thread.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/error.h"
#include "engine/types.h"
#include "spec/catalog.h"
#include "spec/model.h"

namespace hubspoke::engine {

// Where memoized outputs are kept, by cache name and key. The engine calls it from its own
// thread only; Save's entries must be found by later Finds (and, to outlive the engine, kept).
class MemoCache {
 public:
  virtual ~MemoCache() = default;
  virtual const MemoEntry* Find(const std::string& cache, const std::string& key) = 0;
  virtual void Save(const std::string& cache, const std::string& key, MemoEntry entry) = 0;
};

// A MemoCache in memory: the one an engine given none uses, and the base of ones that also keep
// their entries elsewhere.
class MemoryMemoCache : public MemoCache {
 public:
  const MemoEntry* Find(const std::string& cache, const std::string& key) override {
    auto it = entries_.find({cache, key});
    return it == entries_.end() ? nullptr : &it->second;
  }
  void Save(const std::string& cache, const std::string& key, MemoEntry entry) override {
    entries_[{cache, key}] = std::move(entry);
  }

 private:
  std::map<std::pair<std::string, std::string>, MemoEntry> entries_;
};

// The default artifact repository (the hub's artifact store emulates it): what `data` templates
// list. The engine calls it from its own thread only.
class ArtifactRepository {
 public:
  virtual ~ArtifactRepository() = default;
  // The keys of the objects at or below `prefix` ("" = every object), sorted.
  virtual Result<std::vector<std::string>> ListKeys(const std::string& prefix) = 0;
};

struct EngineOptions {
  uint64_t seed = 1;  // generateName suffixes and workflow uids
  std::string default_namespace = "default";
  MemoCache* memo_cache = nullptr;  // nullptr: memoize is honored within this engine only
  // Limits of synchronization semaphores, by their configMapKeyRef "name/key".
  std::map<std::string, int> semaphore_limits;
  // nullptr: data templates that list artifacts end in Error.
  ArtifactRepository* artifact_repository = nullptr;
};

struct TimerRequest {
  Micros at = 0;
  std::string key;  // handed back to TimerFired
};

struct Effects {
  // Hand to spokes once the changes are persisted. A deque, taken from the front: a fan-out
  // dispatches every item in one tick, and its tasks then move out without a second copy.
  std::deque<Task> dispatch;
  std::vector<std::string> cancel;    // attempt ids to kill
  std::vector<TimerRequest> timers;   // call TimerFired(key) at `at`
  std::vector<std::string> finished;  // workflows that reached their final phase
  bool empty() const {
    return dispatch.empty() && cancel.empty() && timers.empty() && finished.empty();
  }
};

// Nodes and workflows changed since the last TakeChanges(), for persistence.
struct Changes {
  std::vector<std::string> workflows;                           // status (not nodes) changed
  std::vector<std::pair<std::string, std::vector<int>>> nodes;  // workflow -> node indexes
  bool empty() const { return workflows.empty() && nodes.empty(); }
};

class Engine {
 public:
  // `catalog` resolves the workflowTemplateRef of child workflows; it must outlive the engine.
  Engine(const Clock& clock, const spec::Catalog& catalog, EngineOptions options = {});
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Starts a self-contained workflow (spec::Resolve'd). Returns its name (generateName honored).
  // `memo`: the nodes of an earlier run of this workflow (`argo retry`): a task, resource or
  // suspend node that succeeded there completes at once with the same outputs.
  Result<std::string> Submit(spec::Workflow workflow, std::vector<Node> memo = {});

  void TaskStarted(const std::string& attempt_id, const std::string& spoke, Micros at);
  // Results of unknown or already finished attempts are ignored (results are resent until acked).
  void TaskFinished(const TaskResult& result);
  void TimerFired(const std::string& key);

  // Commands, as the argo CLI names them. Stop lets exit handlers run; terminate does not.
  Status Stop(const std::string& workflow, const std::string& message);
  Status Terminate(const std::string& workflow, const std::string& message);
  // Holds the workflow's tasks that have not started (as `argo suspend`); Resume releases them.
  Status Suspend(const std::string& workflow);
  // Resumes a suspended workflow and its suspend nodes; a suspend template's outputs may be
  // supplied (name=value).
  Status Resume(const std::string& workflow, const std::vector<Param>& outputs);

  // Shows why a dispatched task has not started yet (no spoke can take it) in its node's message.
  void NoteWaiting(const std::string& attempt_id, const std::string& message);
  // Drops a workflow and the child workflows it created from memory (after the owner stored
  // them); results for their attempts are then ignored.
  void Forget(const std::string& workflow);

  Effects TakeEffects();
  // Hands each task to dispatch to `sink` as it is made, instead of collecting it in
  // Effects::dispatch: a fan-out makes every item's task in one tick, and the receiver may keep
  // them in less memory. The receiver still hands them to spokes only once the tick's changes
  // are persisted.
  void SetTaskSink(std::function<void(Task)> sink);
  Changes TakeChanges();

  const WorkflowStatus* Find(const std::string& name) const;
  const spec::Workflow* FindSpec(const std::string& name) const;
  // Names of every workflow, in submission order.
  std::vector<std::string> Names() const;
  // Workflows created by `name`'s resource nodes, in creation order.
  std::vector<std::string> ChildrenOf(const std::string& name) const;
  bool IsFinished(const std::string& name) const;
  // Unfinished and waiting only on indefinite suspends (its own or its child workflows'): no
  // task queued or running, no timer pending. Only Resume (or stop/terminate) moves it on.
  bool IsSuspended(const std::string& name) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hubspoke::engine
