// The hub: wires the engine, the store and the spokes. One thread (the engine thread) owns the
// engine; spokes, timers and clients post events to it. After applying a batch of events the
// thread persists every change in one store transaction, and only then hands new tasks to spokes
// (a task is dispatched only after its attempt is committed) and wakes waiters.
//
// Dispatch is by credits: a spoke receives at most as many tasks as it has free slots, and only
// tasks whose nodeSelector its labels satisfy. With local spokes only, a task no spoke's labels
// satisfy ends in Error at once, its message naming the labels needed and had; when remote
// spokes may join (HubOptions::spoke_lease_ms), it waits for one.
//
// Thread-safety: every public method may be called from any thread.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/error.h"
#include "engine/engine.h"
#include "hub/metrics.h"
#include "spec/catalog.h"
#include "spec/lint.h"
#include "spoke/local_spoke.h"
#include "store/store.h"

namespace hubspoke::hub {

struct HubOptions {
  std::string data_dir;  // logs/, work/ live below it
  int local_spokes = 1;  // in-process spokes, one slot each (local-1..N)
  spoke::ImageMap images = spoke::ImageMap::WithDefaults();
  uint64_t seed = 0;  // 0: random
  // A long-running hub drops a finished workflow tree from memory once it is stored (reads then
  // come from the store); `hubspoke run` keeps them to render its summary.
  bool forget_finished = false;
  // Records every event the engine applies (in the commit of its changes) and, at start,
  // continues the workflows that had not finished. `hubspoke run` does neither.
  bool resumable = false;
  // Remote spokes may join (AddSpoke): a task no connected spoke can take waits for one, and
  // after a restart a remote spoke has this long to reconnect and claim the attempts it was
  // running before they are lost. 0: the spokes are the local ones only; such a task fails.
  int64_t spoke_lease_ms = 0;
  // Limits of synchronization semaphores, by configMapKeyRef "name/key" (Argo reads them from a
  // ConfigMap; here they are configured).
  std::map<std::string, int> semaphore_limits;
  // The clock CronWorkflow schedules read (a FakeClock in tests; the scheduler thread still
  // wakes every second). nullptr: the system clock.
  const Clock* cron_clock = nullptr;
};

// Adds a --semaphore flag's "NAME/KEY=LIMIT" to `limits`; false when it is malformed.
bool AddSemaphoreLimit(const std::string& flag, std::map<std::string, int>& limits);

// A connected spoke, for `hubspoke spokes` and the API.
struct SpokeInfo {
  std::string name;
  std::map<std::string, std::string> labels;
  int slots = 0;
  int running = 0;
  bool draining = false;
  bool local = false;         // the hub's in-process pool
  std::string version;        // a remote spoke's
  Micros last_heartbeat = 0;  // when a remote spoke was last heard from
};

// What `argo submit` lets a user change on the way in.
struct SubmitOptions {
  std::string entrypoint;
  std::vector<std::pair<std::string, std::string>> parameters;  // -p name=value
  std::string name;                                             // replaces metadata.name
  std::string generate_name;                                    // replaces metadata.generateName
  std::map<std::string, std::string> labels;                    // added to metadata.labels
};

class CronScheduler;

class Hub {
 public:
  // Opens the hub on `store`: WorkflowTemplates stored there join `catalog`, and every workflow
  // that had not finished when the hub last stopped (even by kill -9) continues: its stored
  // events are replayed, a task that had started is failed as "spoke lost" (and follows its
  // retryStrategy), one that had not is dispatched again. A completed node never runs again.
  Hub(HubOptions options, std::unique_ptr<store::Store> store, spec::Catalog catalog);
  ~Hub();  // stops the engine thread and the local spokes
  Hub(const Hub&) = delete;
  Hub& operator=(const Hub&) = delete;

  // Resolves a loaded Workflow manifest against the hub's WorkflowTemplates, applies `options`,
  // lints it and starts it. Returns its name once it is persisted. Errors: InvalidArgument (the
  // message lists every lint error as where: message), AlreadyExists, NotFound (a template).
  Result<std::string> Submit(const spec::Workflow& manifest, const SubmitOptions& options = {});
  // As `argo submit --from workflowtemplate/NAME`.
  Result<std::string> SubmitFrom(const std::string& template_name, const SubmitOptions& options);
  // Lints a manifest against the hub's WorkflowTemplates.
  std::vector<spec::Diagnostic> Lint(const spec::Workflow& manifest);

  // WorkflowTemplates, stored and used by later submissions and child workflows. Create fails with
  // AlreadyExists, Update and Delete with NotFound; a template with lint errors is refused.
  Status CreateTemplate(const spec::Workflow& tmpl);
  Status UpdateTemplate(const spec::Workflow& tmpl);
  Status DeleteTemplate(const std::string& name);

  // CronWorkflows (hub/cron.h), stored and scheduled by the hub. Create fails with AlreadyExists,
  // the others with NotFound; a cron whose workflowSpec has lint errors is refused. Get and List
  // give the CronWorkflow as Argo shapes it (with status.active and status.lastScheduledTime) as
  // JSON.
  Status CreateCronWorkflow(const spec::Workflow& cron);
  Status UpdateCronWorkflow(const spec::Workflow& cron);
  Status DeleteCronWorkflow(const std::string& name);
  Status SuspendCronWorkflow(const std::string& name);
  Status ResumeCronWorkflow(const std::string& name);
  Result<std::string> GetCronWorkflow(const std::string& name);
  std::vector<std::string> ListCronWorkflows();
  // As `argo submit --from cronwf/NAME`: a workflow from its workflowSpec, now.
  Result<std::string> SubmitFromCron(const std::string& name, const SubmitOptions& options);
  // Starts the cron runs due by HubOptions::cron_clock and trims their histories; the scheduler
  // thread does this on its own, tests driving a FakeClock call it after advancing the clock.
  void ScheduleCrons();

  // Commands on a workflow, as the argo CLI names them. NotFound for an unknown workflow,
  // FailedPrecondition when the command does not apply (stopping a finished workflow...).
  Status Stop(const std::string& workflow);       // exit handlers still run
  Status Terminate(const std::string& workflow);  // they do not
  Status Suspend(const std::string& workflow);    // no new task starts until resumed
  // Resumes a suspended workflow and its suspend nodes (whose outputs may be supplied).
  Status Resume(const std::string& workflow, const std::vector<engine::Param>& outputs = {});
  // `argo retry`: runs a Failed or Error top-level workflow again under its name; nodes that
  // succeeded keep their outputs and are not run again unless `restart_successful`.
  Status Retry(const std::string& workflow, bool restart_successful = false);
  // A new workflow from the same manifest and parameters; returns its name.
  Result<std::string> Resubmit(const std::string& workflow);
  // Terminates the workflow if it runs, then removes it, its child workflows and their logs.
  Status Delete(const std::string& workflow);

  // Spokes that join and leave (remote ones). `spoke` must stay valid until RemoveSpoke returns;
  // its reports go to listener(). `running`: the attempts it says it runs (after a hub restart
  // it re-claims them); returns those the hub does not know, which the spoke should cancel.
  // `prefetch`: tasks handed to it beyond its free slots, which it queues so that a slot that
  // frees starts the next task without waiting for the hub's round trip (as the local pool does).
  // `batches`: the spoke takes several tasks at a time (Spoke::Flush sends them); its prefetch
  // then follows the duration of its tasks, to keep it supplied for a few milliseconds of work.
  std::vector<std::string> AddSpoke(spoke::Spoke* spoke, int slots,
                                    const std::vector<std::string>& running = {}, int prefetch = 0,
                                    bool batches = false);
  // Gives the spoke no new tasks (it is draining before it leaves, or is disconnected); with
  // `draining` false, it takes tasks again.
  void DrainSpoke(const std::string& name, bool draining = true);
  // The spoke is gone: the attempts it ran fail as "spoke lost: <reason>" (then retryStrategy).
  void RemoveSpoke(const std::string& name, const std::string& reason);
  std::vector<SpokeInfo> Spokes();
  // Where spokes report task starts and results (thread-safe); a remote spoke's result is
  // acknowledged (Spoke::Acked) once it is committed.
  spoke::SpokeListener& listener();

  // Runs `fn` on the engine thread with the engine (read-only) and waits for it. With
  // forget_finished, finished workflows are not in the engine: read them from store().
  void Inspect(const std::function<void(const engine::Engine&)>& fn);
  // Blocks until `workflow` has finished, or `timeout_ms` passed (<0: forever). True if finished.
  bool WaitFinished(const std::string& workflow, int64_t timeout_ms);
  // Calls `fn` on the engine thread after each commit with the workflows whose status or nodes
  // changed (deleted ones included), and of those the ones whose stored row (the workflow without
  // its nodes) was written or deleted: a fan-out's nodes change at every commit, its row only
  // every 250 ms. `fn` must return quickly and not call the hub. Returns an id for Unwatch.
  using Watcher = std::function<void(const std::vector<std::string>& workflows,
                                     const std::vector<std::string>& rows)>;
  int Watch(Watcher fn);
  void Unwatch(int id);

  // The hub's store, for reads (workflows, nodes, templates); it is safe from any thread and
  // current as of the last commit.
  store::Store& store();
  // The first store error the engine thread hit (state may no longer be durable), if any.
  std::optional<Error> StoreError();
  // The hub's Prometheus metrics (GET /metrics); Metrics::Text() serializes them.
  Metrics& metrics();
  // Task logs: log_root()/<workflow>/<node id>.log
  const std::string& log_root() const;
  // The artifact store: artifact_root()/<key>
  const std::string& artifact_root() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::unique_ptr<CronScheduler> crons_;  // after impl_: stops first
};

}  // namespace hubspoke::hub
