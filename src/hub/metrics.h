// The hub's Prometheus metrics (GET /metrics): workflows, nodes and tasks by phase, the ready
// queue, connected spokes, dispatch latency, task and per-WorkflowTemplate durations, store commit
// and engine tick latencies, and the custom metrics that workflows declare in metrics.prometheus.
// Names follow Argo's (argo_workflows_*) where Argo has the metric; docs/api.md lists them all.
//
// The hub's engine thread feeds it as things happen (an observation is a counter increment or a
// histogram bucket search, no walk over workflows); a scrape serializes what the registry holds.
//
// Thread-safety: every method may be called from any thread (prometheus-cpp's metrics are
// thread-safe); the hub calls the feeding methods from its engine thread only, and Text() from
// the HTTP threads.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "engine/types.h"
#include "expr/expr.h"
#include "spec/model.h"

namespace prometheus {
class Counter;
class Gauge;
class Histogram;
class Registry;
template <typename T>
class Family;
}  // namespace prometheus

namespace hubspoke::hub {

// The variables of a custom metric ({{status}}, {{duration}}, {{inputs.parameters.x}}...).
class MetricScope final : public expr::Scope {
 public:
  void Set(std::string name, std::string value) { vars_[std::move(name)] = std::move(value); }
  std::optional<std::string> Lookup(std::string_view name) const override;

 private:
  std::map<std::string, std::string, std::less<>> vars_;
};

// The variables of a workflow-level metric (workflow.name, workflow.status, workflow.duration,
// workflow.parameters.x...; status and duration too), at `now` when it has not finished.
MetricScope WorkflowScope(const engine::WorkflowStatus& wf, Micros now);
// Those of a template-level metric of `node`: status, duration, exitCode,
// inputs.parameters.x, outputs.parameters.x, outputs.result, and the workflow's.
MetricScope NodeScope(const engine::WorkflowStatus& wf, const engine::Node& node, Micros now);

class Metrics {
 public:
  Metrics();
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // Every metric in Prometheus' text exposition format, version 0.0.4; realtime gauges are set
  // as of now first.
  std::string Text();

  // A workflow moved from phase `from` (nullopt: it is new to the hub) to `to`; nullopt `to`:
  // it was deleted.
  void WorkflowPhase(std::optional<engine::Phase> from, std::optional<engine::Phase> to);
  // The same for a node; task (Pod) nodes also move the pods gauge.
  void NodePhase(std::optional<engine::Phase> from, std::optional<engine::Phase> to, bool task);

  // Task timings, in microseconds. Dispatch: from when the task could start (ready in the hub
  // and its spoke slot free) to its process starting. Queue: from entering the hub's ready queue
  // to starting. Duration: from start to end.
  void TaskStarted(Micros dispatch_latency, Micros queue_wait);
  void TaskDuration(Micros duration);
  // A workflow of the WorkflowTemplate `name` (workflowTemplateRef or submit --from) finished.
  void TemplateRun(const std::string& name, Micros duration);
  void StoreCommit(Micros duration);
  void EngineTick(Micros duration);

  // Gauges the hub sets after each engine tick.
  void Queue(size_t ready, size_t assigned);
  void Spokes(int local, int remote, int local_slots, int remote_slots);

  // Custom metrics. Emit evaluates `metric` (its when, labels and value) with `scope` and
  // records it; a metric that cannot be evaluated or clashes with another of the same name is
  // skipped with a warning naming it and `where`.
  void Emit(const spec::PrometheusMetric& metric, const MetricScope& scope,
            const std::string& where);
  // A realtime gauge: registered when its node or workflow starts, then set on every scrape until
  // FinishRealtime(key), with {{duration}} the seconds since `started` and {{workflow.duration}}
  // those since `workflow_started`. `key` identifies the node or workflow.
  void StartRealtime(const std::string& key, const spec::PrometheusMetric& metric,
                     const MetricScope& scope, Micros started, Micros workflow_started,
                     const std::string& where);
  void FinishRealtime(const std::string& key);

 private:
  struct Custom;
  void SetRealtime(Micros now);
  struct Realtime {
    prometheus::Gauge* gauge;
    std::string value;  // the value text, {{duration}} / {{workflow.duration}} in it
    Micros started;
    Micros workflow_started;
  };
  // The custom metric family `metric` names, creating it; nullptr (with a warning) on a clash.
  Custom* CustomFamily(const std::string& name, const spec::PrometheusMetric& metric,
                       const std::string& where);
  std::optional<std::map<std::string, std::string>> Labels(const spec::PrometheusMetric& metric,
                                                           const MetricScope& scope,
                                                           const std::string& where);

  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Gauge>* workflows_;
  prometheus::Family<prometheus::Counter>* workflows_total_;
  prometheus::Family<prometheus::Gauge>* nodes_;
  prometheus::Family<prometheus::Gauge>* pods_;
  prometheus::Family<prometheus::Histogram>* template_runtime_;
  static constexpr int kPhases = 7;
  prometheus::Gauge* workflow_phase_[kPhases];
  prometheus::Counter* workflow_entered_[kPhases];
  prometheus::Gauge* node_phase_[kPhases];
  prometheus::Gauge* pods_pending_;
  prometheus::Gauge* pods_running_;
  prometheus::Histogram* dispatch_;
  prometheus::Histogram* queue_wait_;
  prometheus::Histogram* task_duration_;
  prometheus::Histogram* store_commit_;
  prometheus::Histogram* engine_tick_;
  prometheus::Gauge* ready_;
  prometheus::Gauge* assigned_;
  prometheus::Gauge* spokes_local_;
  prometheus::Gauge* spokes_remote_;
  prometheus::Gauge* slots_local_;
  prometheus::Gauge* slots_remote_;

  std::mutex mu_;  // guards what follows (custom metrics, realtime gauges)
  std::map<std::string, std::unique_ptr<Custom>> custom_;
  std::map<std::string, prometheus::Histogram*> template_runs_;
  std::multimap<std::string, Realtime> realtime_;
};

}  // namespace hubspoke::hub
