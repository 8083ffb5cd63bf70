// CronWorkflows on a hub: each is stored (its manifest and status) in the hub's store, and a
// scheduler submits a Workflow from its workflowSpec at each scheduled time, named
// <cron>-<unix seconds of the scheduled time> and labelled workflows.argoproj.io/cron-workflow.
//
// As in Argo: concurrencyPolicy Allow starts every run, Forbid skips a run while one of the cron's
// workflows is unfinished, Replace terminates those first. A run found late (the hub was down or
// busy) by more than kOnTimeSeconds starts only within startingDeadlineSeconds of its time, and of
// several missed runs only the latest. `when` (substituted with cronworkflow.name,
// cronworkflow.namespace, cronworkflow.labels.<k>, cronworkflow.annotations.<k>,
// cronworkflow.lastScheduledTime, then evaluated as a condition) must hold for a run to start;
// in its `{{= ...}}` expressions cronworkflow.lastScheduledTime is a time (nil before the first
// run) and now() reads the scheduler's clock.
// Finished workflows beyond successfulJobsHistoryLimit / failedJobsHistoryLimit (newest kept)
// are deleted. Deleting a cron deletes every workflow labelled as its run (running ones are
// terminated first), as Argo garbage-collects the workflows a CronWorkflow owns.
//
// Thread-safety: every method may be called from any thread; Tick runs on the scheduler thread
// and may also be called directly (tests driving a FakeClock).
#pragma once

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/error.h"
#include "spec/model.h"
#include "store/store.h"

namespace hubspoke::hub {

class Hub;
struct SubmitOptions;

inline constexpr const char* kCronWorkflowLabel = "workflows.argoproj.io/cron-workflow";
inline constexpr const char* kScheduledTimeAnnotation = "workflows.argoproj.io/scheduled-time";
// How late a run may start without startingDeadlineSeconds.
inline constexpr int64_t kOnTimeSeconds = 5;

class CronScheduler {
 public:
  // Loads the stored CronWorkflows and starts a thread that calls Tick when a run is due and at
  // least every second (which also trims histories).
  CronScheduler(Hub& hub, const Clock& clock);
  ~CronScheduler();
  CronScheduler(const CronScheduler&) = delete;
  CronScheduler& operator=(const CronScheduler&) = delete;

  // Create fails with AlreadyExists, the others with NotFound. A cron whose workflowSpec has
  // lint errors is refused (InvalidArgument listing them).
  Status Create(const spec::Workflow& cron);
  Status Update(const spec::Workflow& cron);
  Status Delete(const std::string& name);
  Status Suspend(const std::string& name);
  Status Resume(const std::string& name);
  // The CronWorkflow as Argo shapes it (metadata, spec, status.active/lastScheduledTime), as JSON.
  Result<std::string> Get(const std::string& name);
  std::vector<std::string> List();  // ordered by name
  // `argo submit --from cronwf/NAME`: one workflow from its workflowSpec now.
  Result<std::string> SubmitFrom(const std::string& name, const SubmitOptions& options);

  // Starts the runs due by the clock and trims histories.
  void Tick();

 private:
  struct Entry;
  Result<std::unique_ptr<Entry>> Prepare(const spec::Workflow& cron, const std::string& body_json);
  Status Persist(const Entry& e);
  void RunDue(Entry& e, int64_t now);
  Result<std::string> StartRun(Entry& e, int64_t scheduled, const SubmitOptions& options);
  // The workflows labelled as the cron's runs, and those of them that are unfinished.
  std::vector<store::WorkflowRecord> Runs(const std::string& name);
  std::vector<std::string> Active(const std::string& name);
  void TrimHistory(const Entry& e);
  std::string ToJson(const Entry& e);
  void Loop();

  Hub& hub_;
  const Clock& clock_;
  std::mutex mu_;  // guards crons_; held while scheduling
  std::map<std::string, std::unique_ptr<Entry>> crons_;
  std::mutex wake_mu_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace hubspoke::hub
