#include "hub/hub.h"

#include <condition_variable>
#include <deque>
#include <filesystem>
#include <future>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <thread>
#include <unordered_map>

#include "common/log.h"
#include "hub/serialize.h"

namespace hubspoke::hub {
namespace {

struct SpokeSlot {
  spoke::LocalSpoke* spoke = nullptr;
  int free = 0;
};

// Tasks queued in the local pool beyond its free slots (see the constructor).
constexpr int kLocalPrefetch = 1;

bool LabelsMatch(const std::map<std::string, std::string>& selector,
                 const std::map<std::string, std::string>& labels) {
  for (const auto& [k, v] : selector) {
    auto it = labels.find(k);
    if (it == labels.end() || it->second != v) return false;
  }
  return true;
}

std::string LabelsText(const std::map<std::string, std::string>& labels) {
  std::string out;
  for (const auto& [k, v] : labels) out += (out.empty() ? "" : ", ") + k + "=" + v;
  return "{" + out + "}";
}

}  // namespace

struct Hub::Impl final : spoke::SpokeListener {
  HubOptions options;
  SystemClock clock;
  std::unique_ptr<store::Store> store;
  spec::Catalog catalog;
  engine::Engine engine;
  std::string log_root;
  std::string sandbox_root;

  std::mutex mu;
  std::condition_variable cv;
  std::condition_variable done_cv;
  std::deque<std::function<void()>> events;
  std::set<std::string> finished;
  std::optional<Error> store_error;
  bool stopping = false;

  // Engine thread only.
  std::vector<std::unique_ptr<spoke::LocalSpoke>> local;
  std::vector<SpokeSlot> spokes;
  std::deque<engine::Task> ready;
  std::unordered_map<std::string, int> running;  // attempt -> spoke index
  std::multimap<Micros, std::string> timers;
  size_t next_spoke = 0;
  std::thread thread;

  static uint64_t Seed(uint64_t seed) {
    if (seed != 0) return seed;
    std::random_device rd;
    return (static_cast<uint64_t>(rd()) << 32) ^ rd();
  }

  Impl(HubOptions o, std::unique_ptr<store::Store> s, spec::Catalog c)
      : options(std::move(o)),
        store(std::move(s)),
        catalog(std::move(c)),
        engine(clock, catalog, engine::EngineOptions{Seed(options.seed), "default"}) {
    log_root = options.data_dir + "/logs";
    std::string work_root = options.data_dir + "/work";
    std::error_code ec;
    std::filesystem::create_directories(log_root, ec);
    std::filesystem::create_directories(work_root, ec);
    // A slot sandbox mounts a private /tmp over the whole thread's view, so the spoke's own
    // files (work, logs) must live outside /tmp; otherwise each task gets its own namespace.
    if (std::filesystem::weakly_canonical(options.data_dir, ec).string().rfind("/tmp/", 0) != 0) {
      sandbox_root = options.data_dir + "/slots";
    } else if (options.local_spokes > 0) {
      LogWarn("data directory " + options.data_dir +
              " is under /tmp: every task needs a mount "
              "namespace of its own for its private /tmp, which is slow; choose one elsewhere");
    }
    // Local spokes are one in-process pool whose slots report as local-1..N. The hub keeps one
    // task more than the pool has slots queued in it, so a slot that finishes starts the next
    // task at once instead of waiting for the engine thread's round trip; the pool's slots share
    // that queue, so the queued task goes to whichever slot frees first.
    if (options.local_spokes > 0) {
      spoke::SpokeOptions so;
      so.name = "local";
      so.name_slots = true;
      so.slots = options.local_spokes;
      so.work_root = work_root;
      so.log_root = log_root;
      so.sandbox_root = sandbox_root;
      so.images = options.images;
      local.push_back(std::make_unique<spoke::LocalSpoke>(std::move(so), this));
      spokes.push_back({local.back().get(), options.local_spokes + kLocalPrefetch});
    }
    thread = std::thread([this] { Loop(); });
  }

  ~Impl() override {
    {
      std::lock_guard lock(mu);
      stopping = true;
    }
    cv.notify_all();
    if (thread.joinable()) thread.join();
    // Cancel what still runs so the spokes' destructors do not wait for long tasks.
    for (auto& [attempt, index] : running) spokes[index].spoke->Cancel(attempt);
    local.clear();
  }

  void Post(std::function<void()> fn) {
    {
      std::lock_guard lock(mu);
      events.push_back(std::move(fn));
    }
    cv.notify_one();
  }

  void OnTaskStarted(const std::string& attempt_id, const std::string& spoke_name,
                     Micros at) override {
    Post([this, attempt_id, spoke_name, at] { engine.TaskStarted(attempt_id, spoke_name, at); });
  }

  void OnTaskFinished(engine::TaskResult result) override {
    Post([this, r = std::move(result)] {
      auto it = running.find(r.attempt_id);
      if (it != running.end()) {
        spokes[it->second].free++;
        running.erase(it);
      }
      engine.TaskFinished(r);
    });
  }

  void Loop() {
    for (;;) {
      std::deque<std::function<void()>> batch;
      {
        std::unique_lock lock(mu);
        auto has_work = [&] { return stopping || !events.empty(); };
        if (timers.empty()) {
          cv.wait(lock, has_work);
        } else {
          Micros wait_us = std::max<Micros>(0, timers.begin()->first - clock.Now());
          cv.wait_for(lock, std::chrono::microseconds(wait_us), has_work);
        }
        if (stopping) return;
        batch.swap(events);
      }
      for (auto& fn : batch) fn();
      FireTimers();
      Flush();
    }
  }

  void FireTimers() {
    Micros now = clock.Now();
    while (!timers.empty() && timers.begin()->first <= now) {
      std::string key = timers.begin()->second;
      timers.erase(timers.begin());
      engine.TimerFired(key);
    }
  }

  // Persists the engine's changes, then acts on its effects.
  void Flush() {
    engine::Changes changes = engine.TakeChanges();
    engine::Effects effects = engine.TakeEffects();
    if (!changes.empty()) Persist(changes);
    for (const auto& t : effects.timers) timers.emplace(t.at, t.key);
    for (const auto& attempt : effects.cancel) Cancel(attempt);
    for (auto& t : effects.dispatch) {
      if (AnySpokeMatches(t.node_selector))
        ready.push_back(std::move(t));
      else
        Unplaceable(t);
    }
    Dispatch();
    if (!effects.finished.empty()) {
      std::lock_guard lock(mu);
      for (auto& name : effects.finished) finished.insert(name);
      done_cv.notify_all();
    }
  }

  void Persist(const engine::Changes& changes) {
    store::Batch batch;
    for (const std::string& name : changes.workflows) {
      const engine::WorkflowStatus* st = engine.Find(name);
      const spec::Workflow* sp = engine.FindSpec(name);
      if (!st || !sp) continue;
      store::WorkflowRecord rec;
      rec.name = st->name;
      rec.namespace_ = st->namespace_;
      rec.phase = std::string(engine::PhaseName(st->phase));
      rec.parent = st->parent;
      rec.created_at = st->created_at;
      rec.finished_at = st->finished_at;
      rec.labels_json = nlohmann::json(st->labels).dump();
      rec.body_json = WorkflowToJson(*sp, *st, /*with_nodes=*/false);
      batch.workflows.push_back(std::move(rec));
    }
    for (const auto& [name, indexes] : changes.nodes) {
      const engine::WorkflowStatus* st = engine.Find(name);
      if (!st) continue;
      for (int n : indexes) {
        batch.nodes.push_back({name, st->nodes[n].id, NodeToJson(st->nodes[n])});
      }
    }
    Status s = store->Apply(batch);
    if (!s.ok()) {
      LogError("store: " + s.error().ToString());
      std::lock_guard lock(mu);
      if (!store_error) store_error = s.error();
    }
  }

  void Cancel(const std::string& attempt) {
    for (auto it = ready.begin(); it != ready.end(); ++it) {
      if (it->attempt_id == attempt) {
        ready.erase(it);
        return;
      }
    }
    auto it = running.find(attempt);
    if (it != running.end()) spokes[it->second].spoke->Cancel(attempt);
  }

  bool AnySpokeMatches(const std::map<std::string, std::string>& selector) const {
    for (const auto& s : spokes) {
      if (LabelsMatch(selector, s.spoke->labels())) return true;
    }
    return false;
  }

  // The set of spokes is fixed (local spokes only), so a task whose nodeSelector no spoke
  // satisfies would wait forever: it fails now, saying what it needed and what the spokes have.
  void Unplaceable(const engine::Task& task) {
    std::map<std::string, std::vector<std::string>> by_labels;  // label set -> spoke names
    for (const auto& s : spokes)
      by_labels[LabelsText(s.spoke->labels())].push_back(s.spoke->name());
    std::string have;
    for (const auto& [labels, names] : by_labels) {
      have += (have.empty() ? "" : "; ") + names.front();
      if (names.size() > 1)
        have += " and " + std::to_string(names.size() - 1) + " other spoke(s) have " + labels;
      else
        have += " has " + labels;
    }
    engine::TaskResult result;
    result.attempt_id = task.attempt_id;
    result.started = false;
    result.message = "no spoke matches nodeSelector " + LabelsText(task.node_selector) + ": " +
                     (have.empty() ? "no spoke is connected" : have);
    result.started_at = result.finished_at = clock.Now();
    Post([this, r = std::move(result)] { engine.TaskFinished(r); });
  }

  // Hands ready tasks to spokes with free slots (credits) whose labels match.
  void Dispatch() {
    if (spokes.empty()) return;
    size_t blocked = 0;
    while (ready.size() > blocked) {
      int free_total = 0;
      for (const auto& s : spokes) free_total += s.free;
      if (free_total == 0) return;
      engine::Task& task = ready[blocked];
      int chosen = -1;
      for (size_t k = 0; k < spokes.size(); ++k) {
        size_t i = (next_spoke + k) % spokes.size();
        if (spokes[i].free > 0 && LabelsMatch(task.node_selector, spokes[i].spoke->labels())) {
          chosen = static_cast<int>(i);
          break;
        }
      }
      if (chosen < 0) {
        ++blocked;
        continue;
      }
      next_spoke = (chosen + 1) % spokes.size();
      spokes[chosen].free--;
      running[task.attempt_id] = chosen;
      engine::Task t = std::move(task);
      ready.erase(ready.begin() + static_cast<long>(blocked));
      spokes[chosen].spoke->Assign(std::move(t));
    }
  }
};

Hub::Hub(HubOptions options, std::unique_ptr<store::Store> store, spec::Catalog catalog)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(store), std::move(catalog))) {}

Hub::~Hub() = default;

Result<std::string> Hub::Submit(spec::Workflow workflow) {
  auto promise = std::make_shared<std::promise<Result<std::string>>>();
  auto future = promise->get_future();
  impl_->Post([this, promise, wf = std::move(workflow)]() mutable {
    auto name = impl_->engine.Submit(std::move(wf));
    impl_->Flush();
    promise->set_value(std::move(name));
  });
  return future.get();
}

void Hub::Inspect(const std::function<void(const engine::Engine&)>& fn) {
  std::promise<void> done;
  auto future = done.get_future();
  impl_->Post([&] {
    fn(impl_->engine);
    done.set_value();
  });
  future.wait();
}

bool Hub::WaitFinished(const std::string& workflow, int64_t timeout_ms) {
  std::unique_lock lock(impl_->mu);
  auto pred = [&] { return impl_->finished.count(workflow) > 0; };
  if (timeout_ms < 0) {
    impl_->done_cv.wait(lock, pred);
    return true;
  }
  return impl_->done_cv.wait_for(lock, std::chrono::milliseconds(timeout_ms), pred);
}

Status Hub::Stop(const std::string& workflow) {
  std::promise<Status> p;
  auto f = p.get_future();
  impl_->Post([&] {
    p.set_value(impl_->engine.Stop(workflow, "Stopped with strategy 'Stop'"));
    impl_->Flush();
  });
  return f.get();
}

Status Hub::Terminate(const std::string& workflow) {
  std::promise<Status> p;
  auto f = p.get_future();
  impl_->Post([&] {
    p.set_value(impl_->engine.Terminate(workflow, "Stopped with strategy 'Terminate'"));
    impl_->Flush();
  });
  return f.get();
}

std::optional<Error> Hub::StoreError() {
  std::lock_guard lock(impl_->mu);
  return impl_->store_error;
}

const std::string& Hub::log_root() const { return impl_->log_root; }

}  // namespace hubspoke::hub
