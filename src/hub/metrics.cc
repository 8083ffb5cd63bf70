#include "hub/metrics.h"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <cerrno>
#include <cstdlib>
#include <stdexcept>

#include "common/log.h"

namespace hubspoke::hub {
namespace {

using prometheus::Histogram;

// Fine below 10 ms, where dispatch latency should stay; coarse above.
const Histogram::BucketBoundaries kDispatchBuckets = {
    0.000025, 0.00005, 0.0001, 0.0002, 0.0005, 0.001, 0.002, 0.003, 0.004, 0.005, 0.0075,
    0.01,     0.02,    0.05,   0.1,    0.25,   0.5,   1,     2.5,   5,     10};
const Histogram::BucketBoundaries kTaskBuckets = {
    0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 600, 1800, 3600, 7200, 21600};
const Histogram::BucketBoundaries kWorkflowBuckets = {1,   5,    10,   30,   60,    300,
                                                      600, 1800, 3600, 7200, 21600, 86400};
const Histogram::BucketBoundaries kFastBuckets = {
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5};

double Seconds(Micros us) { return static_cast<double>(us) / 1e6; }

std::optional<double> ParseNumber(const std::string& text) {
  char* end = nullptr;
  errno = 0;
  double v = std::strtod(text.c_str(), &end);
  if (text.empty() || errno != 0 || end != text.c_str() + text.size()) return std::nullopt;
  return v;
}

std::string SecondsText(Micros us) { return std::to_string(Seconds(us)); }

}  // namespace

std::optional<std::string> MetricScope::Lookup(std::string_view name) const {
  auto it = vars_.find(name);
  if (it == vars_.end()) return std::nullopt;
  return it->second;
}

MetricScope WorkflowScope(const engine::WorkflowStatus& wf, Micros now) {
  MetricScope scope;
  std::string status(engine::PhaseName(wf.phase));
  Micros start = wf.started_at > 0 ? wf.started_at : wf.created_at;
  std::string duration = SecondsText((wf.finished_at > 0 ? wf.finished_at : now) - start);
  scope.Set("workflow.name", wf.name);
  scope.Set("workflow.namespace", wf.namespace_);
  scope.Set("workflow.status", status);
  scope.Set("workflow.duration", duration);
  scope.Set("status", status);
  scope.Set("duration", duration);
  for (const engine::Param& p : wf.parameters) scope.Set("workflow.parameters." + p.name, p.value);
  for (const auto& [k, v] : wf.labels) scope.Set("workflow.labels." + k, v);
  return scope;
}

MetricScope NodeScope(const engine::WorkflowStatus& wf, const engine::Node& node, Micros now) {
  MetricScope scope = WorkflowScope(wf, now);
  scope.Set("status", std::string(engine::PhaseName(node.phase)));
  Micros end = node.finished_at > 0 ? node.finished_at : now;
  scope.Set("duration", SecondsText(node.started_at > 0 ? end - node.started_at : 0));
  if (node.exit_code) scope.Set("exitCode", std::to_string(*node.exit_code));
  if (node.result) scope.Set("outputs.result", *node.result);
  for (const engine::Param& p : node.inputs) scope.Set("inputs.parameters." + p.name, p.value);
  for (const engine::Param& p : node.outputs) scope.Set("outputs.parameters." + p.name, p.value);
  return scope;
}

// A custom metric family: one name, one type, one help (as Prometheus requires).
struct Metrics::Custom {
  spec::PrometheusMetric::Type type;
  std::string help;
  prometheus::Family<prometheus::Gauge>* gauge = nullptr;
  prometheus::Family<prometheus::Counter>* counter = nullptr;
  prometheus::Family<prometheus::Histogram>* histogram = nullptr;
};

Metrics::Metrics() : registry_(std::make_shared<prometheus::Registry>()) {
  auto& reg = *registry_;
  workflows_ = &prometheus::BuildGauge()
                    .Name("argo_workflows_gauge")
                    .Help("Workflows the hub has run since it started, by phase")
                    .Register(reg);
  workflows_total_ = &prometheus::BuildCounter()
                          .Name("argo_workflows_total_count")
                          .Help("Workflows that entered each phase since the hub started")
                          .Register(reg);
  nodes_ = &prometheus::BuildGauge()
                .Name("hubspoke_nodes_gauge")
                .Help("Nodes of the workflows in argo_workflows_gauge, by phase")
                .Register(reg);
  pods_ = &prometheus::BuildGauge()
               .Name("argo_workflows_pods_gauge")
               .Help("Task nodes waiting to start (Pending) or running (Running)")
               .Register(reg);
  template_runtime_ = &prometheus::BuildHistogram()
                           .Name("hubspoke_workflow_template_duration_seconds")
                           .Help("Wall time of finished workflows by the WorkflowTemplate they ran")
                           .Register(reg);
  for (int p = 0; p < kPhases; ++p) {
    std::string phase(engine::PhaseName(static_cast<engine::Phase>(p)));
    workflow_phase_[p] = &workflows_->Add({{"phase", phase}});
    workflow_entered_[p] = &workflows_total_->Add({{"phase", phase}});
    node_phase_[p] = &nodes_->Add({{"phase", phase}});
  }
  pods_pending_ = &pods_->Add({{"phase", "Pending"}});
  pods_running_ = &pods_->Add({{"phase", "Running"}});
  auto histogram = [&](const char* name, const char* help,
                       const Histogram::BucketBoundaries& buckets) {
    return &prometheus::BuildHistogram().Name(name).Help(help).Register(reg).Add({}, buckets);
  };
  dispatch_ = histogram("hubspoke_dispatch_latency_seconds",
                        "From when a task could start (ready in the hub and a slot of its spoke "
                        "free) to its process starting",
                        kDispatchBuckets);
  queue_wait_ = histogram("hubspoke_task_queue_seconds",
                          "From a task entering the hub's ready queue to its process starting "
                          "(includes waiting for a free slot)",
                          kTaskBuckets);
  task_duration_ = histogram("hubspoke_task_duration_seconds",
                             "Run time of task processes, from start to end", kTaskBuckets);
  store_commit_ =
      histogram("hubspoke_store_commit_seconds",
                "Time of each store transaction (SQLite commit) of the hub", kFastBuckets);
  engine_tick_ = histogram("argo_workflows_operation_duration_seconds",
                           "Time of each engine tick: applying a batch of events, committing "
                           "and dispatching",
                           kFastBuckets);
  auto gauge = [&](const char* name, const char* help, const prometheus::Labels& labels) {
    return &prometheus::BuildGauge().Name(name).Help(help).Register(reg).Add(labels);
  };
  ready_ = gauge("argo_workflows_queue_depth_gauge",
                 "Tasks ready in the hub's queue, waiting for a spoke with a free slot",
                 {{"queue_name", "tasks"}});
  assigned_ =
      gauge("hubspoke_tasks_assigned_gauge",
            "Tasks handed to spokes and not finished (running, or queued at the spoke)", {});
  auto& spokes = prometheus::BuildGauge()
                     .Name("hubspoke_spokes_gauge")
                     .Help("Connected spokes (the hub's local pool counts as one)")
                     .Register(reg);
  spokes_local_ = &spokes.Add({{"kind", "local"}});
  spokes_remote_ = &spokes.Add({{"kind", "remote"}});
  auto& slots = prometheus::BuildGauge()
                    .Name("hubspoke_spoke_slots_gauge")
                    .Help("Task slots of the connected spokes")
                    .Register(reg);
  slots_local_ = &slots.Add({{"kind", "local"}});
  slots_remote_ = &slots.Add({{"kind", "remote"}});
}

Metrics::~Metrics() = default;

std::string Metrics::Text() {
  SetRealtime(SystemClock().Now());
  return prometheus::TextSerializer().Serialize(registry_->Collect());
}

void Metrics::WorkflowPhase(std::optional<engine::Phase> from, std::optional<engine::Phase> to) {
  if (from) workflow_phase_[static_cast<int>(*from)]->Decrement();
  if (to) {
    workflow_phase_[static_cast<int>(*to)]->Increment();
    workflow_entered_[static_cast<int>(*to)]->Increment();
  }
}

void Metrics::NodePhase(std::optional<engine::Phase> from, std::optional<engine::Phase> to,
                        bool task) {
  auto pod = [&](engine::Phase p) -> prometheus::Gauge* {
    if (!task) return nullptr;
    if (p == engine::Phase::kPending) return pods_pending_;
    if (p == engine::Phase::kRunning) return pods_running_;
    return nullptr;
  };
  if (from) {
    node_phase_[static_cast<int>(*from)]->Decrement();
    if (auto* g = pod(*from)) g->Decrement();
  }
  if (to) {
    node_phase_[static_cast<int>(*to)]->Increment();
    if (auto* g = pod(*to)) g->Increment();
  }
}

void Metrics::TaskStarted(Micros dispatch_latency, Micros queue_wait) {
  dispatch_->Observe(Seconds(dispatch_latency));
  queue_wait_->Observe(Seconds(queue_wait));
}

void Metrics::TaskDuration(Micros duration) { task_duration_->Observe(Seconds(duration)); }

void Metrics::TemplateRun(const std::string& name, Micros duration) {
  std::lock_guard lock(mu_);
  prometheus::Histogram*& h = template_runs_[name];
  if (!h) h = &template_runtime_->Add({{"workflow_template", name}}, kWorkflowBuckets);
  h->Observe(Seconds(duration));
}

void Metrics::StoreCommit(Micros duration) { store_commit_->Observe(Seconds(duration)); }

void Metrics::EngineTick(Micros duration) { engine_tick_->Observe(Seconds(duration)); }

void Metrics::Queue(size_t ready, size_t assigned) {
  ready_->Set(static_cast<double>(ready));
  assigned_->Set(static_cast<double>(assigned));
}

void Metrics::Spokes(int local, int remote, int local_slots, int remote_slots) {
  spokes_local_->Set(local);
  spokes_remote_->Set(remote);
  slots_local_->Set(local_slots);
  slots_remote_->Set(remote_slots);
}

Metrics::Custom* Metrics::CustomFamily(const std::string& name,
                                       const spec::PrometheusMetric& metric,
                                       const std::string& where) {
  auto it = custom_.find(name);
  if (it != custom_.end()) {
    if (it->second->type != metric.type || it->second->help != metric.help) {
      LogWarn("metric " + name + " of " + where +
              " is not emitted: the name is in use with another type or help");
      return nullptr;
    }
    return it->second.get();
  }
  auto c = std::make_unique<Custom>();
  c->type = metric.type;
  c->help = metric.help;
  try {
    switch (metric.type) {
      case spec::PrometheusMetric::Type::kGauge:
        c->gauge = &prometheus::BuildGauge().Name(name).Help(metric.help).Register(*registry_);
        break;
      case spec::PrometheusMetric::Type::kCounter:
        c->counter = &prometheus::BuildCounter().Name(name).Help(metric.help).Register(*registry_);
        break;
      case spec::PrometheusMetric::Type::kHistogram:
        c->histogram =
            &prometheus::BuildHistogram().Name(name).Help(metric.help).Register(*registry_);
        break;
      case spec::PrometheusMetric::Type::kNone:
        return nullptr;
    }
  } catch (const std::exception& e) {
    LogWarn("metric " + name + " of " + where + " is not emitted: " + e.what());
    return nullptr;
  }
  return custom_.emplace(name, std::move(c)).first->second.get();
}

std::optional<std::map<std::string, std::string>> Metrics::Labels(
    const spec::PrometheusMetric& metric, const MetricScope& scope, const std::string& where) {
  std::map<std::string, std::string> labels;
  for (const spec::MetricLabel& l : metric.labels) {
    auto value = expr::Substitute(l.value, scope, /*allow_unresolved=*/false);
    if (!value) {
      LogWarn("metric " + metric.name + " of " + where + ": label " + l.key + ": " +
              value.error().ToString());
      return std::nullopt;
    }
    labels[l.key] = *value;
  }
  return labels;
}

void Metrics::Emit(const spec::PrometheusMetric& metric, const MetricScope& scope,
                   const std::string& where) {
  auto warn = [&](const std::string& why) {
    LogWarn("metric " + metric.name + " of " + where + " is not emitted: " + why);
  };
  if (!metric.when.empty()) {
    auto condition = expr::Substitute(metric.when, scope, false);
    if (!condition) return warn(condition.error().ToString());
    auto holds = expr::EvaluateWhen(*condition);
    if (!holds) return warn(holds.error().ToString());
    if (!*holds) return;
  }
  auto name = expr::Substitute(metric.name, scope, false);
  if (!name) return warn(name.error().ToString());
  auto value_text = expr::Substitute(metric.value, scope, false);
  if (!value_text) return warn(value_text.error().ToString());
  std::optional<double> value = ParseNumber(*value_text);
  if (!value) return warn("its value \"" + *value_text + "\" is not a number");
  auto labels = Labels(metric, scope, where);
  if (!labels) return;
  std::vector<double> buckets;
  for (const std::string& b : metric.buckets) {
    std::optional<double> v = ParseNumber(b);
    if (!v) return warn("bucket \"" + b + "\" is not a number");
    buckets.push_back(*v);
  }
  std::lock_guard lock(mu_);
  Custom* family = CustomFamily("argo_workflows_" + *name, metric, where);
  if (!family) return;
  try {
    if (family->gauge) family->gauge->Add(*labels).Set(*value);
    if (family->counter) {
      if (*value < 0) return warn("a counter cannot decrease (value " + *value_text + ")");
      family->counter->Add(*labels).Increment(*value);
    }
    if (family->histogram) family->histogram->Add(*labels, buckets).Observe(*value);
  } catch (const std::exception& e) {
    warn(e.what());
  }
}

void Metrics::StartRealtime(const std::string& key, const spec::PrometheusMetric& metric,
                            const MetricScope& scope, Micros started, Micros workflow_started,
                            const std::string& where) {
  auto name = expr::Substitute(metric.name, scope, false);
  if (!name) {
    LogWarn("metric " + metric.name + " of " + where + ": " + name.error().ToString());
    return;
  }
  auto labels = Labels(metric, scope, where);
  if (!labels) return;
  std::lock_guard lock(mu_);
  Custom* family = CustomFamily("argo_workflows_" + *name, metric, where);
  if (!family || !family->gauge) return;
  try {
    realtime_.emplace(
        key, Realtime{&family->gauge->Add(*labels), metric.value, started, workflow_started});
  } catch (const std::exception& e) {
    LogWarn("metric " + metric.name + " of " + where + " is not emitted: " + e.what());
  }
}

void Metrics::FinishRealtime(const std::string& key) {
  std::lock_guard lock(mu_);
  realtime_.erase(key);
}

void Metrics::SetRealtime(Micros now) {
  std::lock_guard lock(mu_);
  for (auto& [key, r] : realtime_) {
    MetricScope scope;
    scope.Set("duration", SecondsText(now - r.started));
    scope.Set("workflow.duration", SecondsText(now - r.workflow_started));
    auto text = expr::Substitute(r.value, scope, false);
    if (!text) continue;
    if (std::optional<double> v = ParseNumber(*text)) r.gauge->Set(*v);
  }
}

}  // namespace hubspoke::hub
