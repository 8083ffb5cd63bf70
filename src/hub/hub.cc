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
#include <unordered_set>

#include "common/log.h"
#include "exec/artifacts.h"
#include "hub/cron.h"
#include "hub/events.h"
#include "hub/serialize.h"
#include "hubspoke/v1/spoke.pb.h"
#include "spec/loader.h"
#include "spoke/wire.h"

namespace hubspoke::hub {
namespace {

// A spoke as the dispatcher sees it: credits (free slots) and whether it takes new tasks.
struct SpokeSlot {
  spoke::Spoke* spoke = nullptr;
  int slots = 0;
  int free = 0;  // slots + prefetch - tasks handed to it and not finished
  bool draining = false;
  bool local = false;
  int prefetch = 0;
  bool batches = false;  // it takes several tasks per message: its prefetch follows its pace
  Micros task_us = 0;    // the average duration of its tasks, while it batches
};

// A task in the hub's ready queue. A 100,000-item fan-out queues every item at once, so a task
// waits in its wire form (hubspoke.v1.Task, a fraction of its size in memory) and is unpacked
// when a spoke takes it; what placement needs stays at hand.
struct ReadyTask {
  explicit ReadyTask(const engine::Task& task)
      : attempt_id(task.attempt_id), workflow(task.workflow), node_selector(task.node_selector) {
    v1::Task wire;
    spoke::TaskToProto(task, &wire);
    wire.SerializeToString(&packed);
  }
  engine::Task Unpack() const {
    v1::Task wire;
    wire.ParseFromString(packed);
    return spoke::TaskFromProto(wire);
  }

  std::string attempt_id;
  std::string workflow;
  std::map<std::string, std::string> node_selector;
  std::string packed;
};

// How often a running workflow's stored row (its progress) follows its nodes.
constexpr Micros kProgressEvery = 250'000;

// After an event wakes the engine thread it waits this long for more, so that events arriving
// together (results of short tasks) share one engine tick and one store transaction. Spokes do
// not idle meanwhile: they have tasks queued ahead (kLocalPrefetch, remote prefetch).
constexpr int kCoalesceUs = 300;

// Tasks queued in the local pool beyond its free slots (see the constructor).
constexpr int kLocalPrefetch = 2;

// A spoke that takes tasks in batches is handed the tasks it runs in this long (by the average
// duration of its tasks), at least one and at most kMaxPrefetchPerSlot per slot beyond its
// slots: enough that its slots do not idle while its results travel to the hub in batches and
// the next tasks come back, few enough that a task waits behind a long one only briefly.
constexpr Micros kSupplyUs = 50'000;
constexpr int kMaxPrefetchPerSlot = 8;

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

// "file:line:col: error: ..." lines of a manifest's lint errors, or "".
std::string LintErrors(const spec::Workflow& manifest, const spec::Catalog& catalog) {
  std::string errors;
  for (const spec::Diagnostic& d : spec::Lint(manifest, catalog)) {
    if (d.severity == spec::Diagnostic::Severity::kError) {
      errors += (errors.empty() ? "" : "\n") + d.ToString();
    }
  }
  return errors;
}

// The engine's clock: set by the hub before each event it applies (the wall clock live, the
// recorded time during a replay), so a replayed event sees exactly the time it first saw.
class EngineClock final : public Clock {
 public:
  Micros Now() const override { return now_; }
  void Set(Micros t) { now_ = t; }

 private:
  Micros now_ = 0;
};

}  // namespace

struct Hub::Impl final : spoke::SpokeListener {
  HubOptions options;
  SystemClock clock;
  EngineClock engine_clock;
  std::unique_ptr<store::Store> store;
  spec::Catalog catalog;

  // memoize caches: in memory for the engine, and into the store with the tick that saved them.
  struct StoredMemos final : engine::MemoryMemoCache {
    std::vector<store::MemoRecord> unsaved;
    void Save(const std::string& cache, const std::string& key, engine::MemoEntry entry) override {
      unsaved.push_back({cache, key, MemoEntryToJson(entry)});
      MemoryMemoCache::Save(cache, key, std::move(entry));
    }
  } memos;

  // The default artifact repository data templates list: _repository/ of the artifact store.
  struct Repository final : engine::ArtifactRepository {
    std::string root;
    Result<std::vector<std::string>> ListKeys(const std::string& prefix) override {
      return exec::ListArtifactKeys(root, prefix);
    }
  } repository;

  engine::Engine engine;
  std::string log_root;
  std::string artifact_root;  // the artifact store: <workflow>/<node id>/<name>, _repository/<key>
  std::string sandbox_root;

  std::mutex mu;
  std::condition_variable cv;
  std::condition_variable done_cv;
  std::deque<std::function<void()>> events;
  std::set<std::string> finished;
  std::optional<Error> store_error;
  bool stopping = false;
  bool engine_idle = false;  // the engine thread waits for events (Post wakes it only then)
  std::map<int, Hub::Watcher> watchers;
  int next_watcher = 0;

  // Engine thread only.
  std::vector<std::unique_ptr<spoke::LocalSpoke>> local;
  std::vector<std::unique_ptr<SpokeSlot>> spokes;
  std::deque<ReadyTask> ready;
  std::deque<ReadyTask> made;  // by the engine in this tick: ready once its changes are stored
  std::unordered_map<std::string, SpokeSlot*> running;  // attempt -> the spoke it runs on
  // Attempts that ran on a remote spoke when the hub restarted: the spoke has until the deadline
  // to reconnect and claim them, or they are lost.
  std::unordered_map<std::string, std::pair<std::string, Micros>> orphans;  // -> spoke, deadline
  std::vector<std::pair<SpokeSlot*, std::string>> to_ack;  // results committed by the next flush
  // An attempt handed out and not yet finished: the top-level workflow it belongs to, and while
  // it has not been seen starting, when it entered the ready queue (the hub's clock; 0 after).
  // One entry per attempt: a 100,000-item fan-out has that many at once.
  struct Outstanding {
    std::string root;
    Micros ready_at = 0;
  };
  std::unordered_map<std::string, Outstanding> outstanding_attempts;
  std::multimap<Micros, std::string> timers;
  std::vector<store::EventRecord> log;     // events applied since the last commit
  std::vector<std::string> deleted;        // workflows deleted since the last commit
  std::vector<std::string> deleted_roots;  // their event logs, to drop with the next commit
  std::unordered_map<std::string, Micros> progress_written;  // workflow -> its row's last write
  bool replaying = false;
  size_t next_spoke = 0;

  // Metrics (engine thread only, but `metrics` itself).
  Metrics metrics;
  // Spoke (slot) name -> when its slots last became free, as the spoke's clock reported the end
  // of its previous tasks (a start consumes the latest one before it).
  std::unordered_map<std::string, std::vector<Micros>> slot_free;
  // What the metrics last saw of each workflow: its phase and its nodes' (kUnseen: not yet), with
  // kTaskBit set for task nodes. Kept after a finished workflow is forgotten, until it is deleted.
  static constexpr uint8_t kUnseen = 0xff, kTaskBit = 0x80;
  struct Seen {
    std::optional<engine::Phase> phase;
    std::vector<uint8_t> nodes;
    std::optional<bool> template_metrics;  // whether any of its templates declares metrics
  };
  std::unordered_map<std::string, Seen> seen;
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
        engine(engine_clock, catalog,
               engine::EngineOptions{Seed(options.seed), "default", &memos,
                                     options.semaphore_limits, &repository}) {
    log_root = options.data_dir + "/logs";
    artifact_root = options.data_dir + "/artifacts";
    repository.root = artifact_root + "/_repository";
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
      so.artifact_root = artifact_root;
      so.sandbox_root = sandbox_root;
      so.images = options.images;
      local.push_back(std::make_unique<spoke::LocalSpoke>(std::move(so), this));
      int credits = options.local_spokes + kLocalPrefetch;
      spokes.push_back(std::make_unique<SpokeSlot>(
          SpokeSlot{local.back().get(), credits, credits, /*draining=*/false, /*local=*/true}));
    }
    SpokeGauges();
    LoadTemplates();
    LoadMemos();
    engine.SetTaskSink([this](engine::Task t) { made.emplace_back(t); });
    if (options.resumable) Replay();
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
    for (auto& [attempt, slot] : running) {
      if (slot->local) slot->spoke->Cancel(attempt);
    }
    local.clear();
  }

  void NoteStoreError(const Error& e) {
    LogError("store: " + e.ToString());
    std::lock_guard lock(mu);
    if (!store_error) store_error = e;
  }

  void LoadMemos() {
    auto stored = store->ListMemos();
    if (!stored) return NoteStoreError(stored.error());
    for (const store::MemoRecord& m : *stored) {
      auto entry = MemoEntryFromJson(m.body_json);
      if (!entry) {
        LogError("skipping memo " + m.cache + "/" + m.key + ": " + entry.error().message);
        continue;
      }
      memos.MemoryMemoCache::Save(m.cache, m.key, std::move(*entry));  // stored already
    }
  }

  // Stored WorkflowTemplates join the catalog (those given to the constructor win).
  void LoadTemplates() {
    auto stored = store->ListTemplates();
    if (!stored) return NoteStoreError(stored.error());
    for (const store::TemplateRecord& t : *stored) {
      if (catalog.Find(t.name)) continue;
      auto wf = spec::LoadManifest(t.body_json, "stored workflowtemplate " + t.name);
      if (!wf) {
        LogError("skipping stored workflow template " + t.name + ": " + wf.error().ToString());
        continue;
      }
      catalog.Add(std::move(*wf));
    }
  }

  void Post(std::function<void()> fn) {
    bool wake;
    {
      std::lock_guard lock(mu);
      events.push_back(std::move(fn));
      wake = engine_idle;
    }
    // While the engine thread gathers a batch it sleeps out its moment: waking it for each event
    // would cost a context switch per event and gain nothing.
    if (wake) cv.notify_one();
  }

  // Runs `fn` on the engine thread, flushes, and returns its value.
  template <typename T>
  T Call(std::function<T()> fn) {
    std::promise<T> p;
    auto f = p.get_future();
    Post([&] {
      T value = fn();
      Flush();
      p.set_value(std::move(value));
    });
    return f.get();
  }

  // ------------------------------------------------------------ events

  // The top-level workflow of `workflow`'s tree.
  std::string RootOf(std::string workflow) const {
    while (const engine::WorkflowStatus* st = engine.Find(workflow)) {
      if (st->parent.empty()) break;
      workflow = st->parent;
    }
    return workflow;
  }

  void Record(const std::string& root, const Event& e) {
    if (!options.resumable || replaying) return;
    log.push_back({0, root, EncodeEvent(e)});
  }

  // Applies one event to the engine, recording it first when it is live.
  Result<std::string> Apply(const Event& e) {
    engine_clock.Set(e.now);
    switch (e.type) {
      case Event::Type::kSubmit: {
        auto wf = Prepare(e);
        if (!wf) return Fail(wf.error());
        std::vector<engine::Node> memo;
        for (const std::string& json : e.memo) {
          auto node = NodeFromJson(json);
          if (!node) return Fail(node.error());
          memo.push_back(std::move(*node));
        }
        return engine.Submit(std::move(*wf), std::move(memo));
      }
      case Event::Type::kStarted: {
        auto it = outstanding_attempts.find(e.attempt);
        if (it == outstanding_attempts.end()) return std::string();
        Record(it->second.root, e);
        engine.TaskStarted(e.attempt, e.spoke, e.at);
        return std::string();
      }
      case Event::Type::kFinished: {
        auto it = outstanding_attempts.find(e.result.attempt_id);
        if (it == outstanding_attempts.end()) return std::string();
        Record(it->second.root, e);
        outstanding_attempts.erase(it);
        engine.TaskFinished(e.result);
        return std::string();
      }
      case Event::Type::kTimer: {
        size_t a = e.timer.find('/'), b = e.timer.rfind('/');
        if (a != std::string::npos && b > a) {
          Record(RootOf(e.timer.substr(a + 1, b - a - 1)), e);
        }
        engine.TimerFired(e.timer);
        return std::string();
      }
      default:
        break;
    }
    Status s;
    switch (e.type) {
      case Event::Type::kStop:
        s = engine.Stop(e.workflow, "Stopped with strategy 'Stop'");
        break;
      case Event::Type::kTerminate:
        s = engine.Terminate(e.workflow, "Stopped with strategy 'Terminate'");
        break;
      case Event::Type::kSuspend:
        s = engine.Suspend(e.workflow);
        break;
      default:
        s = engine.Resume(e.workflow, e.outputs);
        break;
    }
    if (!s) return Fail(s.error());
    Record(RootOf(e.workflow), e);
    return std::string();
  }

  // The runnable workflow of a submit event: its document with the options applied, resolved
  // against the catalog.
  Result<spec::Workflow> Prepare(const Event& e) {
    auto wf = spec::LoadManifest(e.document, "workflow " + e.workflow);
    if (!wf) return wf;
    auto r = Resolved(std::move(*wf), e.options);
    if (r) r->metadata.name = e.workflow;  // the name it got when it was first submitted
    return r;
  }

  Result<spec::Workflow> Resolved(spec::Workflow wf, const SubmitOptions& o) {
    if (!o.name.empty()) wf.metadata.name = o.name;
    if (!o.generate_name.empty()) {
      wf.metadata.generate_name = o.generate_name;
      if (o.name.empty()) wf.metadata.name.clear();
    }
    for (const auto& [k, v] : o.labels) wf.metadata.labels[k] = v;
    if (!o.entrypoint.empty()) wf.spec.entrypoint = o.entrypoint;
    auto r = spec::Resolve(wf, catalog);
    if (!r) return r;
    spec::OverrideParameters(*r, o.parameters);
    if (!o.entrypoint.empty()) r->spec.entrypoint = o.entrypoint;
    return r;
  }

  Event Now(Event::Type type) const {
    Event e;
    e.type = type;
    e.now = clock.Now();
    return e;
  }

  // ------------------------------------------------------------ replay

  // Rebuilds every unfinished workflow tree from its stored events. Tasks that had started
  // are failed as lost (their process went with the old hub); the others are dispatched again;
  // pending timers are set again.
  void Replay() {
    auto stored = store->ListEvents();
    if (!stored) return NoteStoreError(stored.error());
    if (stored->empty()) return EndOrphanedRuns();
    replaying = true;
    std::unordered_map<std::string, ReadyTask> outstanding;
    std::unordered_map<std::string, std::string> started;  // attempt -> spoke
    std::multimap<std::string, Micros> pending_timers;     // key -> at
    std::set<std::string> broken;                          // roots that cannot be replayed
    for (const store::EventRecord& rec : *stored) {
      if (broken.count(rec.root)) continue;
      auto e = DecodeEvent(rec.body_json);
      if (!e) {
        LogError("workflow " + rec.root + ": event " + std::to_string(rec.seq) + ": " +
                 e.error().ToString());
        broken.insert(rec.root);
        continue;
      }
      auto applied = Apply(*e);
      if (!applied && e->type == Event::Type::kSubmit) {
        LogError("workflow " + rec.root +
                 " cannot continue after the restart: " + applied.error().ToString());
        broken.insert(rec.root);
        continue;
      }
      if (e->type == Event::Type::kStarted) started[e->attempt] = e->spoke;
      if (e->type == Event::Type::kFinished) {
        outstanding.erase(e->result.attempt_id);
        started.erase(e->result.attempt_id);
      }
      if (e->type == Event::Type::kTimer) {
        auto it = pending_timers.find(e->timer);
        if (it != pending_timers.end()) pending_timers.erase(it);
      }
      engine::Effects fx = engine.TakeEffects();
      for (; !made.empty(); made.pop_front()) {
        std::string attempt = made.front().attempt_id;
        outstanding_attempts[attempt] = {RootOf(made.front().workflow)};
        outstanding.insert_or_assign(std::move(attempt), std::move(made.front()));
      }
      for (const std::string& a : fx.cancel) {
        outstanding.erase(a);
        started.erase(a);
        outstanding_attempts.erase(a);
      }
      for (const auto& t : fx.timers) pending_timers.emplace(t.key, t.at);
    }
    engine.TakeChanges();  // stored already
    replaying = false;
    MarkBroken(broken);
    EndOrphanedRuns();
    int lost = 0, again = 0;
    Micros now = clock.Now();
    for (auto& [attempt, task] : outstanding) {
      auto s = started.find(attempt);
      if (s == started.end()) {
        ++again;
        outstanding_attempts[attempt].ready_at = now;
        ready.push_back(std::move(task));
        continue;
      }
      if (options.spoke_lease_ms > 0 && s->second.rfind("local-", 0) != 0) {
        orphans[attempt] = {s->second, now + options.spoke_lease_ms * 1000};
        continue;
      }
      ++lost;
      Lost(attempt, s->second, "the hub restarted while it ran this attempt");
    }
    for (const auto& [key, at] : pending_timers) timers.emplace(at, key);
    LogInfo("resumed " + std::to_string(engine.Names().size()) + " workflow(s) from " +
            std::to_string(stored->size()) + " stored events: " + std::to_string(again) +
            " task(s) to dispatch again, " + std::to_string(lost) + " lost while running, " +
            std::to_string(orphans.size()) + " waiting for their spoke to reconnect");
  }

  // Fails an attempt whose spoke is gone; the node follows its retryStrategy.
  void Lost(const std::string& attempt, const std::string& spoke, const std::string& why) {
    NotReady(attempt);
    Event e = Now(Event::Type::kFinished);
    e.result.attempt_id = attempt;
    e.result.spoke = spoke;
    e.result.lost = true;
    e.result.message = "spoke lost: " + spoke + ": " + why;
    e.result.finished_at = e.now;
    (void)Apply(e);
  }

  // Orphans whose spoke did not come back within the lease are lost.
  void ExpireOrphans() {
    Micros now = clock.Now();
    for (auto it = orphans.begin(); it != orphans.end();) {
      if (it->second.second > now) {
        ++it;
        continue;
      }
      std::string attempt = it->first, spoke = it->second.first;
      it = orphans.erase(it);
      Lost(attempt, spoke, "it did not reconnect within its lease after the hub restarted");
    }
  }

  Micros NextOrphanDeadline() const {
    Micros next = 0;
    for (const auto& [attempt, o] : orphans) {
      if (next == 0 || o.second < next) next = o.second;
    }
    return next;
  }

  void SpokeGauges() {
    int remote = 0, remote_slots = 0;
    for (const auto& s : spokes) {
      if (s->local) continue;
      ++remote;
      remote_slots += s->slots;
    }
    metrics.Spokes(local.empty() ? 0 : 1, remote, options.local_spokes, remote_slots);
  }

  SpokeSlot* FindSpoke(const std::string& name) {
    for (auto& s : spokes) {
      if (s->spoke->name() == name) return s.get();
    }
    return nullptr;
  }

  // Workflows stored as unfinished that no event brings back were run by a `hubspoke run` that
  // ended before them (it keeps no events): they end in Error instead of showing Running forever.
  void EndOrphanedRuns() {
    store::ListOptions unfinished;
    unfinished.only_unfinished = true;
    auto list = store->ListWorkflows(unfinished);
    if (!list) return NoteStoreError(list.error());
    store::Batch batch;
    for (store::WorkflowRecord w : *list) {
      if (engine.Find(w.name)) continue;
      LogWarn("workflow " + w.name + " was left unfinished by a run that ended; marking it Error");
      EndInError(w, "the hubspoke run that ran it ended before it did; resubmit it");
      batch.workflows.push_back(std::move(w));
    }
    if (Status s = store->Apply(batch); !s) NoteStoreError(s.error());
  }

  // A stored workflow row, ended in Error with `message` (its row and its Argo-shaped body).
  void EndInError(store::WorkflowRecord& w, const std::string& message) {
    w.phase = "Error";
    w.finished_at = clock.Now();
    nlohmann::json body = nlohmann::json::parse(w.body_json, nullptr, false);
    if (!body.is_object()) return;
    nlohmann::json& status = body["status"];
    if (!status.is_object()) status = nlohmann::json::object();
    status["phase"] = "Error";
    status["message"] = message;
    status["finishedAt"] = FormatRfc3339(w.finished_at);
    if (status.contains("hubspoke") && status["hubspoke"].is_object()) {
      status["hubspoke"]["finishedAt"] = w.finished_at;
    }
    w.body_json = body.dump();
  }

  // A tree whose events cannot be replayed ends in Error, so it does not stay Running forever.
  void MarkBroken(const std::set<std::string>& roots) {
    if (roots.empty()) return;
    store::Batch batch;
    for (const std::string& root : roots) {
      batch.deleted_event_roots.push_back(root);
      engine.Forget(root);
      auto rec = store->GetWorkflow(root);
      if (!rec || !*rec) continue;
      store::WorkflowRecord w = **rec;
      EndInError(w, "it could not continue after the hub restarted (see the hub's log)");
      batch.workflows.push_back(std::move(w));
    }
    if (Status s = store->Apply(batch); !s) NoteStoreError(s.error());
  }

  // ------------------------------------------------------------ spokes

  void OnTaskStarted(const std::string& attempt_id, const std::string& spoke_name,
                     Micros at) override {
    Post([this, attempt_id, spoke_name, at] {
      NoteStart(attempt_id, spoke_name, at);
      Event e = Now(Event::Type::kStarted);
      e.attempt = attempt_id;
      e.spoke = spoke_name;
      e.at = at;
      (void)Apply(e);
    });
  }

  void OnTaskFinished(engine::TaskResult result) override {
    Post([this, r = std::move(result)]() mutable {
      auto it = running.find(r.attempt_id);
      if (it != running.end()) {
        it->second->free++;
        Pace(*it->second, r);
        if (!it->second->local) to_ack.push_back({it->second, r.attempt_id});
        running.erase(it);
      } else if (SpokeSlot* slot = FindSpoke(r.spoke); slot && !slot->local) {
        to_ack.push_back({slot, r.attempt_id});  // sent again: committed already, or stale
      }
      NoteFinish(r);
      Event e = Now(Event::Type::kFinished);
      e.result = std::move(r);
      (void)Apply(e);
    });
  }

  // Follows the pace of a batching spoke: its prefetch covers kSupplyUs of its work.
  static void Pace(SpokeSlot& s, const engine::TaskResult& r) {
    if (!s.batches || !r.started || r.finished_at <= r.started_at) return;
    const Micros took = r.finished_at - r.started_at;
    s.task_us = s.task_us == 0 ? took : (7 * s.task_us + took) / 8;
    const int want = static_cast<int>(std::clamp<Micros>(
        s.slots * kSupplyUs / s.task_us, 1, static_cast<Micros>(s.slots) * kMaxPrefetchPerSlot));
    s.free += want - s.prefetch;
    s.prefetch = want;
  }

  // Dispatch latency: from when the task could start (entered the ready queue, and the slot that
  // runs it was free) to its start; the queue wait counts from the ready queue alone. The slot's
  // free time and the start both come from the spoke's clock; the ready time from the hub's.
  void NoteStart(const std::string& attempt, const std::string& spoke, Micros at) {
    auto it = outstanding_attempts.find(attempt);
    if (it == outstanding_attempts.end() || it->second.ready_at == 0) return;
    Micros ready_time = it->second.ready_at;
    it->second.ready_at = 0;
    Micros from = ready_time;
    std::vector<Micros>& frees = slot_free[spoke];
    auto slot = frees.end();
    for (auto f = frees.begin(); f != frees.end(); ++f) {
      if (*f <= at && (slot == frees.end() || *f > *slot)) slot = f;
    }
    if (slot != frees.end()) {
      from = std::max(from, *slot);
      *slot = frees.back();
      frees.pop_back();
    }
    metrics.TaskStarted(std::max<Micros>(0, at - from), std::max<Micros>(0, at - ready_time));
  }

  // The attempt will not be seen starting: no dispatch latency is observed for it.
  void NotReady(const std::string& attempt) {
    auto it = outstanding_attempts.find(attempt);
    if (it != outstanding_attempts.end()) it->second.ready_at = 0;
  }

  void NoteFinish(const engine::TaskResult& r) {
    if (!r.started || r.lost || r.started_at <= 0) {
      NotReady(r.attempt_id);
      return;
    }
    NoteStart(r.attempt_id, r.spoke, r.started_at);
    metrics.TaskDuration(r.finished_at - r.started_at);
    std::vector<Micros>& frees = slot_free[r.spoke];
    constexpr size_t kMaxFree = 256;  // more than any spoke has slots
    if (frees.size() >= kMaxFree) frees.erase(frees.begin());
    frees.push_back(r.finished_at);
  }

  void Loop() {
    Flush();  // what the replay produced
    for (;;) {
      std::deque<std::function<void()>> batch;
      {
        std::unique_lock lock(mu);
        auto has_work = [&] { return stopping || !events.empty(); };
        Micros next = timers.empty() ? 0 : timers.begin()->first;
        if (Micros o = NextOrphanDeadline(); o > 0 && (next == 0 || o < next)) next = o;
        engine_idle = true;
        if (next == 0) {
          cv.wait(lock, has_work);
        } else {
          Micros wait_us = std::max<Micros>(0, next - clock.Now());
          cv.wait_for(lock, std::chrono::microseconds(wait_us), has_work);
        }
        engine_idle = false;
        if (stopping) return;
        // Group commit: events that arrive within a moment share one transaction.
        cv.wait_for(lock, std::chrono::microseconds(kCoalesceUs), [&] { return stopping; });
        if (stopping) return;
        batch.swap(events);
      }
      Micros tick = MonotonicMicros();
      for (auto& fn : batch) fn();
      FireTimers();
      if (!orphans.empty()) ExpireOrphans();
      Flush();
      metrics.EngineTick(MonotonicMicros() - tick);
    }
  }

  void FireTimers() {
    Micros now = clock.Now();
    while (!timers.empty() && timers.begin()->first <= now) {
      Event e = Now(Event::Type::kTimer);
      e.timer = timers.begin()->second;
      timers.erase(timers.begin());
      (void)Apply(e);
    }
  }

  // True when `root` and every workflow it created have finished.
  bool TreeFinished(const std::string& root) const {
    if (!engine.IsFinished(root)) return false;
    for (const std::string& child : engine.ChildrenOf(root)) {
      if (!TreeFinished(child)) return false;
    }
    return true;
  }

  // Persists the engine's changes, then acts on its effects.
  void Flush() {
    engine::Changes changes = engine.TakeChanges();
    engine::Effects effects = engine.TakeEffects();
    Observe(changes);
    std::vector<std::string> done_roots;
    for (const std::string& name : effects.finished) {
      std::string root = RootOf(name);
      if (TreeFinished(root) &&
          std::find(done_roots.begin(), done_roots.end(), root) == done_roots.end()) {
        done_roots.push_back(root);
      }
    }
    if (!changes.empty() || !log.empty() || !deleted.empty() || !done_roots.empty() ||
        !deleted_roots.empty()) {
      Persist(changes, done_roots);
    }
    for (auto& [slot, attempt] : to_ack) slot->spoke->Acked(attempt);
    for (const auto& t : effects.timers) timers.emplace(t.at, t.key);
    for (const auto& attempt : effects.cancel) Cancel(attempt);
    Micros now = clock.Now();
    for (; !made.empty(); made.pop_front()) {
      ReadyTask& t = made.front();
      outstanding_attempts[t.attempt_id] = {RootOf(t.workflow), now};
      if (options.spoke_lease_ms == 0 && !AnySpokeMatches(t.node_selector)) {
        Unplaceable(t);
      } else {
        if (!AnySpokeMatches(t.node_selector)) {
          engine.NoteWaiting(t.attempt_id, "waiting for a spoke with labels " +
                                               LabelsText(t.node_selector) +
                                               " (none of the connected spokes has them)");
        }
        ready.push_back(std::move(t));
      }
    }
    Dispatch();
    for (const auto& s : spokes) s->spoke->Flush();  // what they were handed goes out together
    to_ack.clear();
    metrics.Queue(ready.size(), running.size());
    if (!effects.finished.empty()) {
      std::lock_guard lock(mu);
      for (auto& name : effects.finished) finished.insert(name);
      done_cv.notify_all();
    }
    for (const std::string& name : effects.finished) progress_written.erase(name);
    if (options.forget_finished) {
      for (const std::string& root : done_roots) engine.Forget(root);
    }
  }

  // Feeds the metrics with what changed since the last flush: phase moves of workflows and
  // nodes, and the custom metrics of those that started or completed. Deleted workflows leave the
  // gauges first (a retried workflow comes back under the same name in the same tick).
  void Observe(const engine::Changes& changes) {
    for (const std::string& name : deleted) {
      auto it = seen.find(name);
      if (it == seen.end()) continue;
      for (uint8_t n : it->second.nodes) {
        if (n == kUnseen) continue;
        metrics.NodePhase(static_cast<engine::Phase>(n & ~kTaskBit), std::nullopt, n & kTaskBit);
      }
      if (it->second.phase) metrics.WorkflowPhase(it->second.phase, std::nullopt);
      metrics.FinishRealtime(name);
      seen.erase(it);
    }
    Micros now = clock.Now();
    for (const auto& [name, indexes] : changes.nodes) {
      const engine::WorkflowStatus* st = engine.Find(name);
      const spec::Workflow* sp = engine.FindSpec(name);
      if (!st || !sp) continue;
      Seen& s = seen[name];
      if (!s.template_metrics) {
        s.template_metrics =
            std::any_of(sp->spec.templates.begin(), sp->spec.templates.end(),
                        [](const spec::Template& t) { return !t.metrics.empty(); });
      }
      for (int i : indexes) {
        const engine::Node& node = st->nodes[i];
        if (s.nodes.size() <= static_cast<size_t>(i)) s.nodes.resize(i + 1, kUnseen);
        uint8_t& was = s.nodes[i];
        const bool task = node.type == engine::NodeType::kPod;
        std::optional<engine::Phase> from;
        if (was != kUnseen) from = static_cast<engine::Phase>(was & ~kTaskBit);
        if (from == node.phase) continue;
        metrics.NodePhase(from, node.phase, task);
        was = static_cast<uint8_t>(node.phase) | (task ? kTaskBit : 0);
        if (*s.template_metrics) NodeMetrics(*st, *sp, node, from, now);
      }
    }
    for (const std::string& name : changes.workflows) {
      const engine::WorkflowStatus* st = engine.Find(name);
      const spec::Workflow* sp = engine.FindSpec(name);
      if (!st || !sp) continue;
      Seen& s = seen[name];
      if (s.phase == st->phase) continue;
      std::optional<engine::Phase> from = s.phase;
      metrics.WorkflowPhase(from, st->phase);
      s.phase = st->phase;
      WorkflowMetrics(*st, *sp, from, now);
    }
  }

  // A template's custom metrics when its node starts (realtime gauges) and completes.
  void NodeMetrics(const engine::WorkflowStatus& st, const spec::Workflow& sp,
                   const engine::Node& node, std::optional<engine::Phase> from, Micros now) {
    using engine::NodeType;
    if (node.type == NodeType::kStepGroup || node.type == NodeType::kTaskGroup ||
        node.type == NodeType::kRetry || node.type == NodeType::kSkipped) {
      return;
    }
    const spec::Template* t = sp.FindTemplate(node.template_name);
    if (!t || t->metrics.empty()) return;
    const std::string key = st.name + "/" + node.id;
    const std::string where = "workflow " + st.name + " node " + node.name;
    if (engine::IsCompleted(node.phase)) {
      if (from && engine::IsCompleted(*from)) return;
      metrics.FinishRealtime(key);
      MetricScope scope = NodeScope(st, node, now);
      for (const spec::PrometheusMetric& m : t->metrics) metrics.Emit(m, scope, where);
    } else if (node.phase == engine::Phase::kRunning) {
      for (const spec::PrometheusMetric& m : t->metrics) {
        if (!m.realtime) continue;
        Micros wf_start = st.started_at > 0 ? st.started_at : st.created_at;
        metrics.StartRealtime(key, m, NodeScope(st, node, now),
                              node.started_at > 0 ? node.started_at : now, wf_start, where);
      }
    }
  }

  // The workflow's custom metrics (spec.metrics) when it starts (realtime gauges) and completes,
  // and its WorkflowTemplate's run time.
  void WorkflowMetrics(const engine::WorkflowStatus& st, const spec::Workflow& sp,
                       std::optional<engine::Phase> from, Micros now) {
    const std::string where = "workflow " + st.name;
    Micros start = st.started_at > 0 ? st.started_at : st.created_at;
    if (engine::IsCompleted(st.phase)) {
      if (from && engine::IsCompleted(*from)) return;
      if (!sp.spec.resolved_template.empty() && st.finished_at > 0) {
        metrics.TemplateRun(sp.spec.resolved_template, st.finished_at - start);
      }
      if (sp.spec.metrics.empty()) return;
      metrics.FinishRealtime(st.name);
      MetricScope scope = WorkflowScope(st, now);
      for (const spec::PrometheusMetric& m : sp.spec.metrics) metrics.Emit(m, scope, where);
    } else if (!from) {
      for (const spec::PrometheusMetric& m : sp.spec.metrics) {
        if (m.realtime) {
          metrics.StartRealtime(st.name, m, WorkflowScope(st, now), start, start, where);
        }
      }
    }
  }

  void Persist(const engine::Changes& changes, const std::vector<std::string>& done_roots) {
    store::Batch batch;
    std::set<std::string> touched, rows_touched;
    // A workflow's row also carries its progress, which its nodes change: that is refreshed at
    // most every kProgressEvery (the nodes themselves are stored at once), so a fan-out does not
    // rewrite its workflow's row for each task.
    std::vector<std::string> rows = changes.workflows;
    std::unordered_set<std::string> listed(rows.begin(), rows.end());
    Micros now = clock.Now();
    for (const std::string& name : rows) progress_written[name] = now;
    for (const auto& [name, indexes] : changes.nodes) {
      if (listed.count(name)) continue;
      Micros& last = progress_written[name];
      if (now - last < kProgressEvery) continue;
      last = now;
      rows.push_back(name);
    }
    for (const std::string& name : rows) {
      const engine::WorkflowStatus* st = engine.Find(name);
      const spec::Workflow* sp = engine.FindSpec(name);
      if (!st || !sp) continue;
      touched.insert(name);
      rows_touched.insert(name);
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
    // Node records are written while the store asks for them, not all before.
    std::vector<std::pair<const engine::WorkflowStatus*, int>> node_refs;
    for (const auto& [name, indexes] : changes.nodes) {
      const engine::WorkflowStatus* st = engine.Find(name);
      if (!st) continue;
      touched.insert(name);
      for (int n : indexes) node_refs.emplace_back(st, n);
    }
    batch.node_count = node_refs.size();
    batch.node_source = [&node_refs](size_t i) {
      const auto& [st, n] = node_refs[i];
      return store::NodeRecord{st->name, st->nodes[n].id, NodeToJson(st->nodes[n])};
    };
    batch.events = std::move(log);
    log.clear();
    batch.memos = std::move(memos.unsaved);
    memos.unsaved.clear();
    if (options.resumable) {
      batch.deleted_event_roots = done_roots;
      batch.deleted_event_roots.insert(batch.deleted_event_roots.end(), deleted_roots.begin(),
                                       deleted_roots.end());
    }
    deleted_roots.clear();
    batch.deleted_workflows = std::move(deleted);
    deleted.clear();
    for (const std::string& name : batch.deleted_workflows) {
      touched.insert(name);
      rows_touched.insert(name);
    }
    Micros commit = MonotonicMicros();
    if (Status s = store->Apply(batch); !s) NoteStoreError(s.error());
    metrics.StoreCommit(MonotonicMicros() - commit);
    std::vector<Hub::Watcher> fns;
    {
      std::lock_guard lock(mu);
      for (const auto& [id, fn] : watchers) fns.push_back(fn);
    }
    if (fns.empty() || touched.empty()) return;
    std::vector<std::string> names(touched.begin(), touched.end());
    std::vector<std::string> rows_written(rows_touched.begin(), rows_touched.end());
    for (const auto& fn : fns) fn(names, rows_written);
  }

  void Cancel(const std::string& attempt) {
    outstanding_attempts.erase(attempt);
    for (auto it = ready.begin(); it != ready.end(); ++it) {
      if (it->attempt_id == attempt) {
        ready.erase(it);
        return;
      }
    }
    auto it = running.find(attempt);
    if (it != running.end()) it->second->spoke->Cancel(attempt);
  }

  bool AnySpokeMatches(const std::map<std::string, std::string>& selector) const {
    for (const auto& s : spokes) {
      if (LabelsMatch(selector, s->spoke->labels())) return true;
    }
    return false;
  }

  // When no spoke may join (`hubspoke run`), a task whose nodeSelector no spoke satisfies would
  // wait forever: it fails now, saying what it needed and what the spokes have.
  void Unplaceable(const ReadyTask& task) {
    std::map<std::string, std::vector<std::string>> by_labels;  // label set -> spoke names
    for (const auto& s : spokes)
      by_labels[LabelsText(s->spoke->labels())].push_back(s->spoke->name());
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
    Post([this, r = std::move(result)] {
      Event e = Now(Event::Type::kFinished);
      e.result = r;
      (void)Apply(e);
    });
  }

  // Hands ready tasks to spokes with free slots (credits) whose labels match, but none of a
  // suspended workflow.
  void Dispatch() {
    if (spokes.empty()) return;
    size_t blocked = 0;
    while (ready.size() > blocked) {
      int free_total = 0;
      for (const auto& s : spokes) free_total += s->draining ? 0 : s->free;
      if (free_total == 0) return;
      const ReadyTask& task = ready[blocked];
      const engine::WorkflowStatus* st = engine.Find(task.workflow);
      if (st && st->suspended) {  // held by a suspend command until resumed
        ++blocked;
        continue;
      }
      SpokeSlot* chosen = nullptr;
      for (size_t k = 0; k < spokes.size(); ++k) {
        size_t i = (next_spoke + k) % spokes.size();
        SpokeSlot& s = *spokes[i];
        if (s.free > 0 && !s.draining && LabelsMatch(task.node_selector, s.spoke->labels())) {
          chosen = &s;
          next_spoke = (i + 1) % spokes.size();
          break;
        }
      }
      if (!chosen) {
        ++blocked;
        continue;
      }
      chosen->free--;
      running[task.attempt_id] = chosen;
      engine::Task t = task.Unpack();
      ready.erase(ready.begin() + static_cast<long>(blocked));
      chosen->spoke->Assign(std::move(t));
    }
  }

  // ------------------------------------------------------------ commands

  Result<std::string> SubmitNow(const spec::Workflow& manifest, const SubmitOptions& submit,
                                std::vector<engine::Node> memo = {}) {
    if (std::string errors = LintErrors(manifest, catalog); !errors.empty()) {
      return Fail(InvalidArgument(errors));
    }
    auto wf = Resolved(manifest, submit);
    if (!wf) return Fail(wf.error());
    Event e = Now(Event::Type::kSubmit);
    e.document = manifest.source_json;
    e.options = submit;
    if (options.resumable) {
      for (const engine::Node& n : memo) e.memo.push_back(NodeToJson(n));
    }
    engine_clock.Set(e.now);
    auto name = engine.Submit(std::move(*wf), std::move(memo));
    if (!name) return name;
    e.workflow = *name;
    Record(*name, e);
    return name;
  }

  // AlreadyExists when the name the workflow will get is taken by a stored (perhaps finished and
  // forgotten) workflow.
  Status NameFree(const spec::Workflow& wf, const SubmitOptions& submit) {
    std::string name = !submit.name.empty()            ? submit.name
                       : !submit.generate_name.empty() ? ""
                                                       : wf.metadata.name;
    if (name.empty()) return {};
    auto rec = store->GetWorkflow(name);
    if (!rec) return Fail(rec.error());
    if (!*rec) return {};
    return Fail(Error{ErrorCode::kAlreadyExists,
                      "workflow " + name +
                          " already exists: delete it first, or give another name or a "
                          "generateName",
                      ""});
  }

  // The stored workflow `name`, or NotFound.
  Result<store::WorkflowRecord> Stored(const std::string& name) {
    auto rec = store->GetWorkflow(name);
    if (!rec) return Fail(rec.error());
    if (!*rec) return Fail(NotFound("workflow " + name + " not found"));
    return **rec;
  }

  // A command on a running workflow; one that finished (or was forgotten) refuses it.
  Status Command(Event::Type type, const std::string& workflow,
                 const std::vector<engine::Param>& outputs = {}) {
    if (!engine.Find(workflow) || engine.IsFinished(workflow)) {
      auto rec = Stored(workflow);
      if (!rec) return Fail(rec.error());
      return Fail(Error{ErrorCode::kFailedPrecondition,
                        "workflow " + workflow + " has already finished (" + rec->phase + ")", ""});
    }
    Event e = Now(type);
    e.workflow = workflow;
    e.outputs = outputs;
    auto r = Apply(e);
    if (!r) return Fail(r.error());
    if (type == Event::Type::kResume) Dispatch();
    return {};
  }

  Status DeleteNow(const std::string& workflow) {
    auto rec = Stored(workflow);
    if (!rec) return Fail(rec.error());
    if (engine.Find(workflow)) {
      std::string root = RootOf(workflow);
      if (root != workflow && !TreeFinished(root)) {
        return Fail(Error{ErrorCode::kFailedPrecondition,
                          "workflow " + workflow + " belongs to " + root +
                              ", which is still running: delete or stop " + root + " instead",
                          ""});
      }
      if (!engine.IsFinished(workflow)) {
        (void)Command(Event::Type::kTerminate, workflow);
        // Store the terminated nodes and cancel the running attempts while the engine still has
        // the workflow: Forget drops only what has been stored.
        Flush();
      }
      engine.Forget(workflow);
      log.erase(std::remove_if(log.begin(), log.end(),
                               [&](const store::EventRecord& e) { return e.root == workflow; }),
                log.end());
      if (options.resumable) deleted_roots.push_back(workflow);
    }
    return DeleteStoredTree(workflow);
  }

  // Deletes, with the next commit, the stored workflow `name` and, through the parent index,
  // every workflow it created, and removes their logs and artifacts.
  Status DeleteStoredTree(const std::string& name) {
    std::vector<std::string> stack{name};
    while (!stack.empty()) {
      std::string next = stack.back();
      stack.pop_back();
      deleted.push_back(next);
      std::error_code ec;
      std::filesystem::remove_all(log_root + "/" + next, ec);
      std::filesystem::remove_all(artifact_root + "/" + next, ec);
      store::ListOptions children;
      children.parent = next;
      auto list = store->ListWorkflows(children);
      if (!list) return Fail(list.error());
      for (const store::WorkflowRecord& c : *list) stack.push_back(c.name);
    }
    return {};
  }

  // The manifest of a stored workflow (its spec with the parameters it ran with), named `name`
  // or, when that is empty, generating a name as it did.
  Result<spec::Workflow> StoredManifest(const store::WorkflowRecord& rec, const std::string& name) {
    nlohmann::json body = nlohmann::json::parse(rec.body_json, nullptr, false);
    if (!body.is_object() || !body.contains("spec") || !body["spec"].is_object()) {
      return Fail(Internal("stored workflow " + rec.name + " has no spec"));
    }
    nlohmann::json doc;
    doc["apiVersion"] = "argoproj.io/v1alpha1";
    doc["kind"] = "Workflow";
    const nlohmann::json& md = body["metadata"];
    if (!name.empty()) {
      doc["metadata"]["name"] = name;
    } else {
      std::string generate = md.is_object() ? md.value("generateName", "") : "";
      doc["metadata"]["generateName"] = generate.empty() ? rec.name + "-" : generate;
    }
    if (md.is_object() && md.contains("namespace")) doc["metadata"]["namespace"] = md["namespace"];
    if (md.is_object() && md.contains("labels")) doc["metadata"]["labels"] = md["labels"];
    doc["spec"] = body["spec"];
    doc["spec"].erase("suspend");
    return spec::LoadManifest(doc.dump(), "workflow " + rec.name);
  }

  // A new submission of a stored workflow's manifest: same spec and parameters, a new name.
  Result<std::string> ResubmitNow(const std::string& workflow) {
    auto rec = Stored(workflow);
    if (!rec) return Fail(rec.error());
    auto wf = StoredManifest(*rec, "");
    if (!wf) return Fail(wf.error());
    return SubmitNow(*wf, {});
  }

  // `argo retry`: runs a Failed or Error workflow again under its name; what succeeded keeps its
  // outputs and does not run again (unless `restart_successful`), child workflows included.
  Status RetryNow(const std::string& workflow, bool restart_successful) {
    auto rec = Stored(workflow);
    if (!rec) return Fail(rec.error());
    if (rec->phase != "Failed" && rec->phase != "Error") {
      return Fail(Error{ErrorCode::kFailedPrecondition,
                        "workflow " + workflow + " is " +
                            (rec->phase.empty() ? "new" : rec->phase) +
                            ": only a Failed or Error workflow can be retried (resubmit runs "
                            "it anew)",
                        ""});
    }
    if (!rec->parent.empty()) {
      return Fail(Error{ErrorCode::kFailedPrecondition,
                        "workflow " + workflow + " was created by " + rec->parent + ": retry " +
                            rec->parent + " instead",
                        ""});
    }
    auto wf = StoredManifest(*rec, workflow);
    if (!wf) return Fail(wf.error());
    std::vector<engine::Node> memo;
    std::set<std::string> kept_children;
    if (!restart_successful) {
      auto rows = store->ListNodes(workflow);
      if (!rows) return Fail(rows.error());
      for (const store::NodeRecord& row : *rows) {
        auto node = NodeFromJson(row.body_json);
        if (!node || node->phase != engine::Phase::kSucceeded) continue;
        if (!node->child_workflow.empty()) kept_children.insert(node->child_workflow);
        memo.push_back(std::move(*node));
      }
    }
    // The old run goes (its children that did not succeed with it too), then the new one starts
    // under the same name; both in the commit of this tick.
    store::ListOptions children;
    children.parent = workflow;
    auto list = store->ListWorkflows(children);
    if (!list) return Fail(list.error());
    engine.Forget(workflow);
    for (const store::WorkflowRecord& c : *list) {
      if (kept_children.count(c.name)) continue;
      if (Status s = DeleteStoredTree(c.name); !s) return s;
    }
    deleted.push_back(workflow);
    auto name = SubmitNow(*wf, {}, std::move(memo));
    if (!name) return Fail(name.error());
    return {};
  }
};

Hub::Hub(HubOptions options, std::unique_ptr<store::Store> store, spec::Catalog catalog)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(store), std::move(catalog))) {
  const Clock* clock = impl_->options.cron_clock ? impl_->options.cron_clock : &impl_->clock;
  crons_ = std::make_unique<CronScheduler>(*this, *clock);
}

Hub::~Hub() { crons_.reset(); }

Status Hub::CreateCronWorkflow(const spec::Workflow& cron) { return crons_->Create(cron); }
Status Hub::UpdateCronWorkflow(const spec::Workflow& cron) { return crons_->Update(cron); }
Status Hub::DeleteCronWorkflow(const std::string& name) { return crons_->Delete(name); }
Status Hub::SuspendCronWorkflow(const std::string& name) { return crons_->Suspend(name); }
Status Hub::ResumeCronWorkflow(const std::string& name) { return crons_->Resume(name); }
Result<std::string> Hub::GetCronWorkflow(const std::string& name) { return crons_->Get(name); }
std::vector<std::string> Hub::ListCronWorkflows() { return crons_->List(); }
Result<std::string> Hub::SubmitFromCron(const std::string& name, const SubmitOptions& options) {
  return crons_->SubmitFrom(name, options);
}
void Hub::ScheduleCrons() { crons_->Tick(); }

Result<std::string> Hub::Submit(const spec::Workflow& manifest, const SubmitOptions& options) {
  return impl_->Call<Result<std::string>>([&]() -> Result<std::string> {
    if (Status free = impl_->NameFree(manifest, options); !free) return Fail(free.error());
    return impl_->SubmitNow(manifest, options);
  });
}

Result<std::string> Hub::SubmitFrom(const std::string& template_name,
                                    const SubmitOptions& options) {
  return impl_->Call<Result<std::string>>([&]() -> Result<std::string> {
    auto wf = spec::FromTemplate(template_name, impl_->catalog);
    if (!wf) return Fail(wf.error());
    if (Status free = impl_->NameFree(*wf, options); !free) return Fail(free.error());
    return impl_->SubmitNow(*wf, options);
  });
}

std::vector<spec::Diagnostic> Hub::Lint(const spec::Workflow& manifest) {
  return impl_->Call<std::vector<spec::Diagnostic>>(
      [&] { return spec::Lint(manifest, impl_->catalog); });
}

Status Hub::CreateTemplate(const spec::Workflow& tmpl) {
  return impl_->Call<Status>([&]() -> Status {
    const std::string& name = tmpl.metadata.name;
    if (name.empty()) return Fail(InvalidArgument("a WorkflowTemplate needs metadata.name"));
    if (impl_->catalog.Find(name)) {
      return Fail(Error{ErrorCode::kAlreadyExists,
                        "workflow template " + name + " already exists: update it instead", ""});
    }
    if (std::string errors = LintErrors(tmpl, impl_->catalog); !errors.empty()) {
      return Fail(InvalidArgument(errors));
    }
    if (Status s = impl_->store->PutTemplate({name, tmpl.source_json}); !s) return s;
    impl_->catalog.Add(tmpl);
    return {};
  });
}

Status Hub::UpdateTemplate(const spec::Workflow& tmpl) {
  return impl_->Call<Status>([&]() -> Status {
    const std::string& name = tmpl.metadata.name;
    if (!impl_->catalog.Find(name)) {
      return Fail(NotFound("workflow template " + name + " not found"));
    }
    if (std::string errors = LintErrors(tmpl, impl_->catalog); !errors.empty()) {
      return Fail(InvalidArgument(errors));
    }
    if (Status s = impl_->store->PutTemplate({name, tmpl.source_json}); !s) return s;
    impl_->catalog.Add(tmpl);
    return {};
  });
}

Status Hub::DeleteTemplate(const std::string& name) {
  return impl_->Call<Status>([&]() -> Status {
    if (Status s = impl_->store->DeleteTemplate(name); !s) return s;
    impl_->catalog.Remove(name);
    return {};
  });
}

Status Hub::Stop(const std::string& workflow) {
  return impl_->Call<Status>([&] { return impl_->Command(Event::Type::kStop, workflow); });
}

Status Hub::Terminate(const std::string& workflow) {
  return impl_->Call<Status>([&] { return impl_->Command(Event::Type::kTerminate, workflow); });
}

Status Hub::Suspend(const std::string& workflow) {
  return impl_->Call<Status>([&] { return impl_->Command(Event::Type::kSuspend, workflow); });
}

Status Hub::Resume(const std::string& workflow, const std::vector<engine::Param>& outputs) {
  return impl_->Call<Status>(
      [&] { return impl_->Command(Event::Type::kResume, workflow, outputs); });
}

Result<std::string> Hub::Resubmit(const std::string& workflow) {
  return impl_->Call<Result<std::string>>([&] { return impl_->ResubmitNow(workflow); });
}

Status Hub::Retry(const std::string& workflow, bool restart_successful) {
  return impl_->Call<Status>([&] { return impl_->RetryNow(workflow, restart_successful); });
}

Status Hub::Delete(const std::string& workflow) {
  return impl_->Call<Status>([&] { return impl_->DeleteNow(workflow); });
}

std::vector<std::string> Hub::AddSpoke(spoke::Spoke* spoke, int slots,
                                       const std::vector<std::string>& running, int prefetch,
                                       bool batches) {
  return impl_->Call<std::vector<std::string>>([&] {
    auto slot = std::make_unique<SpokeSlot>(
        SpokeSlot{spoke, slots, slots + prefetch, false, false, prefetch, batches});
    std::vector<std::string> unknown;
    for (const std::string& attempt : running) {
      auto orphan = impl_->orphans.find(attempt);
      if (orphan != impl_->orphans.end()) {
        impl_->orphans.erase(orphan);
        impl_->running[attempt] = slot.get();
        slot->free--;
      } else if (impl_->running.count(attempt) == 0 || impl_->running[attempt] != slot.get()) {
        unknown.push_back(attempt);
      }
    }
    impl_->spokes.push_back(std::move(slot));
    impl_->SpokeGauges();
    impl_->Dispatch();
    return unknown;
  });
}

void Hub::DrainSpoke(const std::string& name, bool draining) {
  impl_->Call<bool>([&] {
    SpokeSlot* slot = impl_->FindSpoke(name);
    if (slot) slot->draining = draining;
    if (slot && !draining) impl_->Dispatch();
    return slot != nullptr;
  });
}

void Hub::RemoveSpoke(const std::string& name, const std::string& reason) {
  impl_->Call<bool>([&] {
    SpokeSlot* slot = impl_->FindSpoke(name);
    if (!slot || slot->local) return false;
    std::vector<std::string> lost;
    for (const auto& [attempt, s] : impl_->running) {
      if (s == slot) lost.push_back(attempt);
    }
    for (const std::string& attempt : lost) impl_->running.erase(attempt);
    std::erase_if(impl_->to_ack, [&](const auto& a) { return a.first == slot; });
    std::erase_if(impl_->spokes, [&](const auto& s) { return s.get() == slot; });
    impl_->next_spoke = 0;
    impl_->SpokeGauges();
    for (const std::string& attempt : lost) impl_->Lost(attempt, name, reason);
    return true;
  });
}

std::vector<SpokeInfo> Hub::Spokes() {
  return impl_->Call<std::vector<SpokeInfo>>([&] {
    std::vector<SpokeInfo> out;
    for (const auto& s : impl_->spokes) {
      SpokeInfo info;
      info.name = s->spoke->name();
      info.labels = s->spoke->labels();
      info.slots = s->local ? impl_->options.local_spokes : s->slots;
      info.running = 0;
      for (const auto& [attempt, slot] : impl_->running) info.running += slot == s.get();
      info.draining = s->draining;
      info.local = s->local;
      info.version = s->spoke->version();
      info.last_heartbeat = s->spoke->last_heard();
      out.push_back(std::move(info));
    }
    return out;
  });
}

spoke::SpokeListener& Hub::listener() { return *impl_; }

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

int Hub::Watch(Watcher fn) {
  std::lock_guard lock(impl_->mu);
  int id = ++impl_->next_watcher;
  impl_->watchers[id] = std::move(fn);
  return id;
}

void Hub::Unwatch(int id) {
  std::lock_guard lock(impl_->mu);
  impl_->watchers.erase(id);
}

store::Store& Hub::store() { return *impl_->store; }

std::optional<Error> Hub::StoreError() {
  std::lock_guard lock(impl_->mu);
  return impl_->store_error;
}

bool AddSemaphoreLimit(const std::string& flag, std::map<std::string, int>& limits) {
  size_t eq = flag.rfind('=');
  if (eq == std::string::npos) return false;
  std::string name = flag.substr(0, eq);
  size_t slash = name.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == name.size()) return false;
  try {
    size_t used = 0;
    int limit = std::stoi(flag.substr(eq + 1), &used);
    if (used != flag.size() - eq - 1 || limit < 1) return false;
    limits[name] = limit;
  } catch (...) {
    return false;
  }
  return true;
}

const std::string& Hub::log_root() const { return impl_->log_root; }
const std::string& Hub::artifact_root() const { return impl_->artifact_root; }

Metrics& Hub::metrics() { return impl_->metrics; }

}  // namespace hubspoke::hub
