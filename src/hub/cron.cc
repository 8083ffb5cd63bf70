#include "hub/cron.h"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <nlohmann/json.hpp>

#include "common/log.h"
#include "cron/schedule.h"
#include "cron/time_zone.h"
#include "expr/expr.h"
#include "hub/hub.h"
#include "spec/loader.h"

namespace hubspoke::hub {
namespace {

using Json = nlohmann::json;

int64_t ParseRfc3339Seconds(const std::string& text) {
  std::tm tm{};
  const char* end = strptime(text.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (end == nullptr) return 0;
  return timegm(&tm);
}

std::string Rfc3339(int64_t seconds) { return FormatRfc3339(seconds * 1'000'000); }

bool Finished(const std::string& phase) {
  return phase == "Succeeded" || phase == "Failed" || phase == "Error";
}

// The variables of a cron's `when`. In the expr dialect cronworkflow.lastScheduledTime is a
// time (nil before the first run) and now() reads the scheduler's clock.
class WhenScope final : public expr::Scope {
 public:
  WhenScope(const Clock& clock, int64_t last_scheduled)
      : clock_(clock), last_scheduled_(last_scheduled) {}
  std::map<std::string, std::string, std::less<>> values;
  std::optional<std::string> Lookup(std::string_view name) const override {
    auto it = values.find(name);
    if (it == values.end()) return std::nullopt;
    return it->second;
  }
  std::optional<expr::TypedValue> LookupTyped(std::string_view name) const override {
    if (name != "cronworkflow.lastScheduledTime") return std::nullopt;
    if (last_scheduled_ == 0) return expr::TypedValue::Nil();
    return expr::TypedValue::Time(last_scheduled_ * 1'000'000);
  }
  const Clock* clock() const override { return &clock_; }

 private:
  const Clock& clock_;
  int64_t last_scheduled_;  // seconds since the epoch; 0: never
};

}  // namespace

struct CronScheduler::Entry {
  spec::Workflow manifest;
  Json body;  // as stored: metadata (with creationTimestamp), spec, status.lastScheduledTime
  std::vector<cron::Schedule> schedules;
  cron::TimeZone zone;
  int64_t last_scheduled = 0;  // seconds since the epoch; 0: never
  int64_t next_due = 0;        // 0: none

  const std::string& name() const { return manifest.metadata.name; }
  std::optional<int64_t> NextAfter(int64_t t) const {
    std::optional<int64_t> best;
    for (const cron::Schedule& s : schedules) {
      std::optional<int64_t> n = s.Next(t, zone);
      if (n && (!best || *n < *best)) best = n;
    }
    return best;
  }
};

CronScheduler::CronScheduler(Hub& hub, const Clock& clock) : hub_(hub), clock_(clock) {
  auto stored = hub_.store().ListCronWorkflows();
  if (!stored) {
    LogError("store: " + stored.error().ToString());
  } else {
    int64_t now = clock_.Now() / 1'000'000;
    for (const store::CronWorkflowRecord& r : *stored) {
      auto manifest = spec::LoadManifest(r.body_json, "cronworkflow/" + r.name);
      auto entry = manifest ? Prepare(*manifest, r.body_json) : Fail(manifest.error());
      if (!entry) {
        LogError("skipping stored cron workflow " + r.name + ": " + entry.error().ToString());
        continue;
      }
      Entry& e = **entry;
      // Missed runs while the hub was down count from the last run (or the cron's creation).
      int64_t since = e.last_scheduled;
      if (since == 0) {
        since = ParseRfc3339Seconds(e.body["metadata"].value("creationTimestamp", ""));
      }
      e.next_due = e.NextAfter(std::min(since > 0 ? since : now, now)).value_or(0);
      crons_[r.name] = std::move(*entry);
    }
  }
  thread_ = std::thread([this] { Loop(); });
}

CronScheduler::~CronScheduler() {
  {
    std::lock_guard lock(wake_mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

Result<std::unique_ptr<CronScheduler::Entry>> CronScheduler::Prepare(const spec::Workflow& cron,
                                                                     const std::string& body_json) {
  if (cron.kind != "CronWorkflow") {
    return Fail(InvalidArgument("expected a CronWorkflow, got kind " + cron.kind));
  }
  if (cron.metadata.name.empty()) {
    return Fail(InvalidArgument("a CronWorkflow needs metadata.name"));
  }
  auto e = std::make_unique<Entry>();
  e->manifest = cron;
  for (const std::string& text : cron.cron.schedules) {
    auto s = cron::Schedule::Parse(text);
    if (!s) return Fail(InvalidArgument(s.error().message, "cronworkflow/" + cron.metadata.name));
    e->schedules.push_back(*s);
  }
  auto zone = cron::TimeZone::Load(cron.cron.timezone);
  if (!zone)
    return Fail(InvalidArgument(zone.error().message, "cronworkflow/" + cron.metadata.name));
  e->zone = *zone;
  e->body = Json::parse(body_json, nullptr, false);
  if (!e->body.is_object()) return Fail(Internal("cron workflow body is not a JSON object"));
  e->body["kind"] = "CronWorkflow";
  e->body["apiVersion"] = "argoproj.io/v1alpha1";
  Json& status = e->body["status"];
  if (!status.is_object()) status = Json::object();
  e->last_scheduled = ParseRfc3339Seconds(status.value("lastScheduledTime", ""));
  return e;
}

Status CronScheduler::Persist(const Entry& e) {
  return hub_.store().PutCronWorkflow({e.name(), e.body.dump()});
}

Status CronScheduler::Create(const spec::Workflow& cron) {
  auto entry = Prepare(cron, cron.source_json);
  if (!entry) return entry.error();
  Entry& e = **entry;
  std::string errors;
  for (const spec::Diagnostic& d : hub_.Lint(cron)) {
    if (d.severity == spec::Diagnostic::Severity::kError) {
      errors += (errors.empty() ? "" : "\n") + d.ToString();
    }
  }
  if (!errors.empty()) return Fail(InvalidArgument(errors));
  int64_t now = clock_.Now() / 1'000'000;
  Json& meta = e.body["metadata"];
  meta["creationTimestamp"] = Rfc3339(now);
  if (meta.value("namespace", "").empty()) meta["namespace"] = "default";
  e.body["status"] = Json::object();
  e.next_due = e.NextAfter(now).value_or(0);
  std::lock_guard lock(mu_);
  if (crons_.count(e.name())) {
    return Fail(Error{ErrorCode::kAlreadyExists,
                      "cron workflow " + e.name() + " already exists: update it instead", ""});
  }
  if (Status s = Persist(e); !s) return s;
  crons_[e.name()] = std::move(*entry);
  return {};
}

Status CronScheduler::Update(const spec::Workflow& cron) {
  auto entry = Prepare(cron, cron.source_json);
  if (!entry) return entry.error();
  Entry& e = **entry;
  std::lock_guard lock(mu_);
  auto it = crons_.find(e.name());
  if (it == crons_.end()) return Fail(NotFound("cron workflow " + e.name() + " not found"));
  // The hub keeps what it owns: creation time, namespace, status.
  const Json& old = it->second->body;
  e.body["metadata"]["creationTimestamp"] = old["metadata"]["creationTimestamp"];
  e.body["metadata"]["namespace"] = old["metadata"]["namespace"];
  e.body["status"] = old["status"];
  e.last_scheduled = it->second->last_scheduled;
  e.next_due = e.NextAfter(std::max(e.last_scheduled, clock_.Now() / 1'000'000)).value_or(0);
  if (Status s = Persist(e); !s) return s;
  it->second = std::move(*entry);
  return {};
}

Status CronScheduler::Delete(const std::string& name) {
  std::lock_guard lock(mu_);
  if (!crons_.count(name)) return Fail(NotFound("cron workflow " + name + " not found"));
  // As Argo's garbage collection of the workflows a cron owns: every run, scheduled or submitted
  // from it, goes too (Hub::Delete terminates a running one first, and takes its children).
  for (const store::WorkflowRecord& r : Runs(name)) {
    if (!r.parent.empty()) continue;
    if (Status s = hub_.Delete(r.name); !s && s.error().code != ErrorCode::kNotFound) {
      return Fail(Error{
          s.error().code,
          "cron workflow " + name + ": cannot delete " + r.name + ": " + s.error().message, ""});
    }
  }
  if (Status s = hub_.store().DeleteCronWorkflow(name); !s) return s;
  crons_.erase(name);
  return {};
}

Status CronScheduler::Suspend(const std::string& name) {
  std::lock_guard lock(mu_);
  auto it = crons_.find(name);
  if (it == crons_.end()) return Fail(NotFound("cron workflow " + name + " not found"));
  Entry& e = *it->second;
  e.manifest.cron.suspend = true;
  e.body["spec"]["suspend"] = true;
  return Persist(e);
}

Status CronScheduler::Resume(const std::string& name) {
  std::lock_guard lock(mu_);
  auto it = crons_.find(name);
  if (it == crons_.end()) return Fail(NotFound("cron workflow " + name + " not found"));
  Entry& e = *it->second;
  e.manifest.cron.suspend = false;
  e.body["spec"]["suspend"] = false;
  // Runs missed while suspended are not made up.
  e.next_due = e.NextAfter(clock_.Now() / 1'000'000).value_or(0);
  return Persist(e);
}

std::vector<store::WorkflowRecord> CronScheduler::Runs(const std::string& name) {
  std::vector<store::WorkflowRecord> out;
  store::ListOptions options;
  options.name_prefix = name + "-";
  auto rows = hub_.store().ListWorkflows(options);
  if (!rows) {
    LogError("store: " + rows.error().ToString());
    return out;
  }
  for (store::WorkflowRecord& r : *rows) {
    Json labels = Json::parse(r.labels_json, nullptr, false);
    if (labels.is_object() && labels.value(kCronWorkflowLabel, "") == name) {
      out.push_back(std::move(r));
    }
  }
  return out;
}

std::vector<std::string> CronScheduler::Active(const std::string& name) {
  std::vector<std::string> out;
  for (const store::WorkflowRecord& r : Runs(name)) {
    if (!Finished(r.phase)) out.push_back(r.name);
  }
  return out;
}

std::string CronScheduler::ToJson(const Entry& e) {
  Json out = e.body;
  Json active = Json::array();
  for (const std::string& wf : Active(e.name())) {
    active.push_back({{"kind", "Workflow"},
                      {"name", wf},
                      {"namespace", e.body["metadata"].value("namespace", "default")}});
  }
  out["status"]["active"] = active;
  return out.dump();
}

Result<std::string> CronScheduler::Get(const std::string& name) {
  std::lock_guard lock(mu_);
  auto it = crons_.find(name);
  if (it == crons_.end()) return Fail(NotFound("cron workflow " + name + " not found"));
  return ToJson(*it->second);
}

std::vector<std::string> CronScheduler::List() {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  for (const auto& [name, e] : crons_) out.push_back(ToJson(*e));
  return out;
}

Result<std::string> CronScheduler::SubmitFrom(const std::string& name,
                                              const SubmitOptions& options) {
  std::lock_guard lock(mu_);
  auto it = crons_.find(name);
  if (it == crons_.end()) return Fail(NotFound("cron workflow " + name + " not found"));
  return StartRun(*it->second, 0, options);
}

Result<std::string> CronScheduler::StartRun(Entry& e, int64_t scheduled,
                                            const SubmitOptions& options) {
  const spec::CronSpec& c = e.manifest.cron;
  Json source = Json::parse(e.manifest.source_json, nullptr, false);
  Json labels = c.workflow_metadata.labels;
  labels[kCronWorkflowLabel] = e.name();
  Json annotations = c.workflow_metadata.annotations;
  int64_t at = scheduled != 0 ? scheduled : clock_.Now() / 1'000'000;
  annotations[kScheduledTimeAnnotation] = Rfc3339(at);
  Json meta = {{"namespace", e.body["metadata"].value("namespace", "default")},
               {"labels", labels},
               {"annotations", annotations}};
  // A scheduled run is named after its time; a manual one (submit --from) gets a random suffix.
  if (scheduled != 0) {
    meta["name"] = e.name() + "-" + std::to_string(scheduled);
  } else {
    meta["generateName"] = e.name() + "-";
  }
  Json doc = {{"apiVersion", "argoproj.io/v1alpha1"},
              {"kind", "Workflow"},
              {"metadata", meta},
              {"spec", source["spec"]["workflowSpec"]}};
  auto wf = spec::LoadManifest(doc.dump(), "cronworkflow/" + e.name());
  if (!wf) return Fail(wf.error());
  SubmitOptions opts = options;
  opts.labels[kCronWorkflowLabel] = e.name();
  auto name = hub_.Submit(*wf, opts);
  if (!name || scheduled == 0) return name;
  e.last_scheduled = scheduled;
  e.body["status"]["lastScheduledTime"] = Rfc3339(scheduled);
  if (Status s = Persist(e); !s) LogError("store: " + s.error().ToString());
  return name;
}

void CronScheduler::RunDue(Entry& e, int64_t now) {
  const spec::CronSpec& c = e.manifest.cron;
  if (c.suspend || e.next_due == 0 || e.next_due > now) return;
  // The latest scheduled time not after now; earlier missed ones are dropped.
  int64_t t = e.next_due;
  for (int i = 0; i < 1'000'000; ++i) {
    std::optional<int64_t> n = e.NextAfter(t);
    if (!n || *n > now) break;
    t = *n;
  }
  e.next_due = e.NextAfter(t).value_or(0);
  int64_t allowed = std::max<int64_t>(kOnTimeSeconds, c.starting_deadline_seconds.value_or(0));
  if (now - t > allowed) {
    LogInfo("cron workflow " + e.name() + ": skipping the run of " + Rfc3339(t) + ", " +
            std::to_string(now - t) + "s late (startingDeadlineSeconds: " +
            std::to_string(c.starting_deadline_seconds.value_or(0)) + ")");
    return;
  }
  if (!c.when.empty()) {
    WhenScope scope(clock_, e.last_scheduled);
    scope.values["cronworkflow.name"] = e.name();
    scope.values["cronworkflow.namespace"] = e.body["metadata"].value("namespace", "default");
    scope.values["cronworkflow.lastScheduledTime"] =
        e.last_scheduled ? Rfc3339(e.last_scheduled) : "";
    for (const auto& [k, v] : e.manifest.metadata.labels) {
      scope.values["cronworkflow.labels." + k] = v;
    }
    for (const auto& [k, v] : e.manifest.metadata.annotations) {
      scope.values["cronworkflow.annotations." + k] = v;
    }
    auto text = expr::Substitute(c.when, scope, false);
    auto holds = text ? expr::EvaluateWhen(*text) : Result<bool>(text.error());
    if (!holds) {
      LogWarn("cron workflow " + e.name() + ": skipping the run of " + Rfc3339(t) +
              ": spec.when: " + holds.error().ToString());
      return;
    }
    if (!*holds) return;
  }
  std::vector<std::string> active = Active(e.name());
  if (!active.empty() && c.concurrency_policy == "Forbid") {
    LogInfo("cron workflow " + e.name() + ": skipping the run of " + Rfc3339(t) + ": " +
            active.front() + " still runs (concurrencyPolicy: Forbid)");
    return;
  }
  if (c.concurrency_policy == "Replace") {
    for (const std::string& wf : active) {
      if (Status s = hub_.Terminate(wf); !s)
        LogWarn("cron workflow " + e.name() + ": " + s.error().ToString());
    }
  }
  auto started = StartRun(e, t, {});
  if (!started) {
    LogError("cron workflow " + e.name() + ": cannot start the run of " + Rfc3339(t) + ": " +
             started.error().ToString());
  }
}

void CronScheduler::TrimHistory(const Entry& e) {
  std::vector<store::WorkflowRecord> done = Runs(e.name());
  std::erase_if(done, [](const store::WorkflowRecord& r) { return !Finished(r.phase); });
  std::sort(done.begin(), done.end(), [](const auto& a, const auto& b) {
    return a.finished_at != b.finished_at ? a.finished_at > b.finished_at : a.name > b.name;
  });
  int succeeded = 0, failed = 0;
  for (const store::WorkflowRecord& r : done) {
    bool keep = r.phase == "Succeeded"
                    ? ++succeeded <= e.manifest.cron.successful_jobs_history_limit
                    : ++failed <= e.manifest.cron.failed_jobs_history_limit;
    if (keep) continue;
    if (Status s = hub_.Delete(r.name); !s) {
      LogWarn("cron workflow " + e.name() + ": cannot delete " + r.name + ": " +
              s.error().ToString());
    }
  }
}

void CronScheduler::Tick() {
  std::lock_guard lock(mu_);
  int64_t now = clock_.Now() / 1'000'000;
  for (auto& [name, e] : crons_) {
    RunDue(*e, now);
    TrimHistory(*e);
  }
}

void CronScheduler::Loop() {
  std::unique_lock lock(wake_mu_);
  while (!stopping_) {
    lock.unlock();
    Tick();
    Micros wait = 1'000'000;
    {
      std::lock_guard crons_lock(mu_);
      Micros now = clock_.Now();
      for (const auto& [name, e] : crons_) {
        if (e->next_due != 0 && !e->manifest.cron.suspend) {
          wait = std::clamp<Micros>(e->next_due * 1'000'000 - now, 0, wait);
        }
      }
    }
    lock.lock();
    wake_.wait_for(lock, std::chrono::microseconds(wait), [this] { return stopping_; });
  }
}

}  // namespace hubspoke::hub
