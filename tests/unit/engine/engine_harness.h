// Test harness for the engine: submits manifests written as YAML strings and plays a fake spoke.
// Each dispatched task is "run" by a behavior callback that decides its exit code, stdout, output
// files and duration from its command and args; the harness reports TaskStarted at dispatch and
// TaskFinished when the FakeClock reaches the task's end, fires timers when the clock passes their
// time, and never sleeps. Events happen in time order (ties: dispatch order, tasks before timers).
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "common/clock.h"
#include "engine/engine.h"
#include "spec/catalog.h"
#include "spec/loader.h"

namespace hubspoke::engine::testing {

constexpr Micros kSecond = 1'000'000;

// What the fake spoke reports for one task.
struct Outcome {
  bool started = true;
  int exit_code = 0;
  std::string stdout_text;
  std::map<std::string, std::string> files;
  std::map<std::string, std::string> artifact_errors;  // output artifacts not stored, by name
  Micros duration = kSecond;
  std::string message;
};

using Behavior = std::function<Outcome(const Task&)>;

inline std::string Unquote(std::string s) {
  while (!s.empty() && s.back() == ' ') s.pop_back();
  while (!s.empty() && s.front() == ' ') s.erase(s.begin());
  if (s.size() >= 2 && (s.front() == '"' || s.front() == '\'') && s.back() == s.front())
    s = s.substr(1, s.size() - 2);
  return s;
}

// Interprets a tiny shell: commands separated by ';' or newlines; `echo X` (stdout),
// `echo X > path` (output file), `sleep N` (seconds), `exit N`, `false`.
inline void RunShell(const std::string& script, Outcome& out) {
  std::string normalized = script;
  std::replace(normalized.begin(), normalized.end(), '\n', ';');
  std::stringstream commands(normalized);
  std::string cmd;
  std::vector<std::string> lines;
  while (std::getline(commands, cmd, ';')) {
    cmd = Unquote(cmd);
    if (cmd.rfind("echo ", 0) == 0) {
      std::string text = cmd.substr(5);
      size_t redirect = text.find(" > ");
      if (redirect != std::string::npos) {
        out.files[Unquote(text.substr(redirect + 3))] = Unquote(text.substr(0, redirect)) + "\n";
      } else {
        lines.push_back(Unquote(text));
      }
    } else if (cmd.rfind("sleep ", 0) == 0) {
      out.duration = std::stoll(cmd.substr(6)) * kSecond;
    } else if (cmd.rfind("exit ", 0) == 0) {
      out.exit_code = std::stoi(cmd.substr(5));
      break;
    } else if (cmd == "false") {
      out.exit_code = 1;
      break;
    }
  }
  for (size_t i = 0; i < lines.size(); ++i) out.stdout_text += (i ? "\n" : "") + lines[i];
}

// `echo X...`, `sh -c SCRIPT`, script templates (source run by RunShell), `false`, and
// `no-such-command` (cannot start).
inline Outcome DefaultBehavior(const Task& task) {
  Outcome out;
  std::vector<std::string> argv = task.command;
  argv.insert(argv.end(), task.args.begin(), task.args.end());
  if (!task.script_source.empty()) {
    RunShell(task.script_source, out);
  } else if (argv.size() >= 3 && (argv[0] == "sh" || argv[0] == "bash") && argv[1] == "-c") {
    RunShell(argv[2], out);
  } else if (!argv.empty() && argv[0] == "echo") {
    for (size_t i = 1; i < argv.size(); ++i) out.stdout_text += (i > 1 ? " " : "") + argv[i];
  } else if (!argv.empty() && argv[0] == "false") {
    out.exit_code = 1;
  } else if (!argv.empty() && argv[0] == "no-such-command") {
    out.started = false;
    out.message = "exec: \"no-such-command\": executable file not found in $PATH";
  }
  return out;
}

class Harness {
 public:
  explicit Harness(uint64_t seed = 1, std::map<std::string, int> semaphore_limits = {})
      : engine_(std::make_unique<Engine>(
            clock_, catalog_,
            EngineOptions{.seed = seed, .semaphore_limits = std::move(semaphore_limits)})) {}
  explicit Harness(EngineOptions options)
      : engine_(std::make_unique<Engine>(clock_, catalog_, std::move(options))) {}

  FakeClock& clock() { return clock_; }
  Engine& engine() { return *engine_; }
  Behavior behavior = DefaultBehavior;

  // Adds every document of `yaml` (WorkflowTemplates) to the catalog.
  void AddTemplates(const std::string& yaml) {
    auto file = spec::LoadString(yaml, "templates.yaml");
    ASSERT_TRUE(file.ok()) << file.error().ToString();
    for (spec::Workflow& wf : file->workflows) catalog_.Add(std::move(wf));
  }

  // Loads, resolves and submits the one workflow in `yaml`; returns its name ("" on failure).
  std::string Submit(const std::string& yaml) {
    auto file = spec::LoadString(yaml, "workflow.yaml");
    EXPECT_TRUE(file.ok()) << file.error().ToString();
    if (!file.ok() || file->workflows.size() != 1) return "";
    auto resolved = spec::Resolve(file->workflows[0], catalog_);
    EXPECT_TRUE(resolved.ok()) << resolved.error().ToString();
    if (!resolved.ok()) return "";
    auto name = engine_->Submit(std::move(*resolved));
    EXPECT_TRUE(name.ok()) << name.error().ToString();
    if (!name.ok()) return "";
    if (root_.empty()) root_ = *name;
    Collect();
    return *name;
  }

  // Submits `yaml` and runs it until it finishes.
  std::string Run(const std::string& yaml) {
    std::string name = Submit(yaml);
    if (!name.empty()) RunUntilFinished(name);
    return name;
  }

  // Plays events until `name` finishes; fails the test when the engine waits for nothing.
  void RunUntilFinished(const std::string& name) {
    while (!engine_->IsFinished(name)) {
      if (!Step()) {
        ADD_FAILURE() << "workflow " << name << " is stuck: no task running and no timer set";
        return;
      }
    }
  }

  // Plays events until none is left (suspended nodes wait for Resume).
  void RunUntilIdle() {
    while (Step()) {
    }
  }

  // Plays the earliest pending event (a task finishing or a timer firing); false when none.
  bool Step() {
    auto task = std::min_element(running_.begin(), running_.end(),
                                 [](const Running& a, const Running& b) { return a.end < b.end; });
    auto timer =
        std::min_element(timers_.begin(), timers_.end(),
                         [](const TimerRequest& a, const TimerRequest& b) { return a.at < b.at; });
    bool has_task = task != running_.end();
    bool has_timer = timer != timers_.end();
    if (!has_task && !has_timer) return false;
    if (has_task && (!has_timer || task->end <= timer->at)) {
      Running r = std::move(*task);
      running_.erase(task);
      clock_.Set(std::max(clock_.Now(), r.end));
      TaskResult result;
      result.attempt_id = r.task.attempt_id;
      result.spoke = "spoke-1";
      result.started = r.outcome.started;
      result.exit_code = r.outcome.started ? r.outcome.exit_code : -1;
      result.stdout_text = r.outcome.stdout_text;
      result.files = r.outcome.files;
      result.artifact_errors = r.outcome.artifact_errors;
      result.message = r.outcome.message;
      result.started_at = r.start;
      result.finished_at = clock_.Now();
      log_.push_back("end " + Display(r.task));
      engine_->TaskFinished(result);
    } else {
      TimerRequest t = *timer;
      timers_.erase(timer);
      clock_.Set(std::max(clock_.Now(), t.at));
      log_.push_back("timer " + t.key);
      engine_->TimerFired(t.key);
    }
    Collect();
    return true;
  }

  // Takes the engine's effects: starts dispatched tasks, records timers, drops cancelled tasks.
  // A task that starts may cause more (a daemon step is done once it runs): until none is left.
  void Collect() {
    for (Effects fx = engine_->TakeEffects(); !fx.empty(); fx = engine_->TakeEffects())
      Apply(std::move(fx));
  }

  void Apply(Effects fx) {
    for (Task& task : fx.dispatch) {
      Outcome outcome = behavior(task);
      if (outcome.started) engine_->TaskStarted(task.attempt_id, "spoke-1", clock_.Now());
      log_.push_back("start " + Display(task));
      dispatched_.push_back(task);
      running_.push_back({task, outcome, clock_.Now(), clock_.Now() + outcome.duration});
      max_running_ = std::max(max_running_, static_cast<int>(running_.size()));
    }
    for (const std::string& attempt : fx.cancel) {
      std::erase_if(running_, [&](const Running& r) {
        if (r.task.attempt_id != attempt) return false;
        log_.push_back("cancel " + Display(r.task));
        return true;
      });
    }
    timers_.insert(timers_.end(), fx.timers.begin(), fx.timers.end());
    finished_.insert(finished_.end(), fx.finished.begin(), fx.finished.end());
  }

  const WorkflowStatus& Status(const std::string& workflow = "") const {
    const WorkflowStatus* st = engine_->Find(workflow.empty() ? root_ : workflow);
    if (!st) throw std::runtime_error("no workflow " + workflow);
    return *st;
  }

  // The one node of `workflow` (default: the first submitted) with this display name.
  const Node& NodeNamed(const std::string& display, const std::string& workflow = "") const {
    const Node* found = FindNode(display, workflow);
    if (!found) throw std::runtime_error("no node with display name " + display);
    return *found;
  }

  const Node* FindNode(const std::string& display, const std::string& workflow = "") const {
    const Node* found = nullptr;
    for (const Node& n : Status(workflow).nodes) {
      if (n.display_name != display) continue;
      if (found) throw std::runtime_error("two nodes with display name " + display);
      found = &n;
    }
    return found;
  }

  const Node& NodeById(const std::string& id, const std::string& workflow = "") const {
    for (const Node& n : Status(workflow).nodes) {
      if (n.id == id) return n;
    }
    throw std::runtime_error("no node with id " + id);
  }

  // "start X" / "end X" (X: the task's node display name), "cancel X", "timer KEY".
  const std::vector<std::string>& log() const { return log_; }
  const std::vector<Task>& dispatched() const { return dispatched_; }
  std::vector<std::string> DispatchedNames() const {
    std::vector<std::string> out;
    for (const Task& t : dispatched_) out.push_back(Display(t));
    return out;
  }
  // The most tasks ever dispatched and unfinished at the same time.
  int max_running() const { return max_running_; }
  int running() const { return static_cast<int>(running_.size()); }
  const std::vector<TimerRequest>& timers() const { return timers_; }
  const std::vector<std::string>& finished() const { return finished_; }

 private:
  struct Running {
    Task task;
    Outcome outcome;
    Micros start = 0;
    Micros end = 0;
  };

  std::string Display(const Task& task) const {
    const WorkflowStatus* st = engine_->Find(task.workflow);
    if (!st) return task.node_id;
    for (const Node& n : st->nodes) {
      if (n.id == task.node_id) return n.display_name;
    }
    return task.node_id;
  }

  FakeClock clock_;
  spec::Catalog catalog_;
  std::unique_ptr<Engine> engine_;
  std::string root_;
  std::vector<Running> running_;
  std::vector<TimerRequest> timers_;
  std::vector<Task> dispatched_;
  std::vector<std::string> log_;
  std::vector<std::string> finished_;
  int max_running_ = 0;
};

// Argo's node id: workflow name + "-" + 32-bit FNV-1a of the node name (the root: the name).
inline std::string ArgoNodeId(const std::string& workflow, const std::string& node_name) {
  if (node_name == workflow) return workflow;
  uint32_t h = 2166136261u;
  for (unsigned char c : node_name) {
    h ^= c;
    h *= 16777619u;
  }
  return workflow + "-" + std::to_string(h);
}

}  // namespace hubspoke::engine::testing
