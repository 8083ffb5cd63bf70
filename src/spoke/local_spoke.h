// A spoke: an agent that runs tasks as OS processes and reports back. It knows nothing of
// workflows: each Task is self-contained (command, args, env, files to read back). Local spokes
// run inside the hub process (the embedded default of `hubspoke run`); the same TaskRunner
// serves remote spokes.
//
// Thread-safety: Assign() and Cancel() may be called from any thread. Reports are delivered on the
// spoke's worker threads through the SpokeListener, which must be thread-safe; a task cancelled
// before it started is reported (not started) on the thread that called Cancel().
#pragma once

#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "engine/types.h"
#include "exec/runner.h"

namespace hubspoke::spoke {

// Maps container images to host commands, for containers that give no `command` or whose
// command names the mapped program (`command: [/argosay]` of argoproj/argosay:v2).
class ImageMap {
 public:
  // Built-ins: argoproj/argosay:v2 -> the bundled argosay program (when found next to the
  // running executable), docker/whalesay and argoproj/argosay:v1 -> cowsay when installed.
  static ImageMap WithDefaults();
  // "IMAGE=COMMAND [ARGS...]" (split on spaces). Returns false on a malformed entry.
  bool Add(const std::string& entry);
  void Set(const std::string& image, std::vector<std::string> prefix);
  // The command prefix for an image (exact match first, then without its tag), or nullptr.
  const std::vector<std::string>* Find(const std::string& image) const;

 private:
  std::map<std::string, std::vector<std::string>> map_;
};

class SpokeListener {
 public:
  virtual ~SpokeListener() = default;
  virtual void OnTaskStarted(const std::string& attempt_id, const std::string& spoke,
                             Micros at) = 0;
  virtual void OnTaskFinished(engine::TaskResult result) = 0;
};

// What the hub hands tasks to: a local pool or a connection to a remote spoke.
// Thread-safety: every method may be called from any thread.
class Spoke {
 public:
  virtual ~Spoke() = default;
  virtual const std::string& name() const = 0;
  virtual const std::map<std::string, std::string>& labels() const = 0;
  virtual void Assign(engine::Task task) = 0;
  virtual void Cancel(const std::string& attempt_id) = 0;
  // The hub has committed this attempt's result: the spoke may forget it. A spoke may hold the
  // acknowledgement back to send it with the next Assign, and tasks to send them together; the
  // hub calls Flush once it has handed out what it could, and Flush sends what is held.
  virtual void Acked(const std::string& attempt_id) {}
  virtual void Flush() {}
  // For listings: a remote spoke's version, and when it was last heard from (0: unknown).
  virtual std::string version() const { return ""; }
  virtual Micros last_heard() const { return 0; }
};

// The node labels Kubernetes sets, as this host would have them: kubernetes.io/arch and
// beta.kubernetes.io/arch (amd64, arm64, ... from uname), kubernetes.io/os and
// beta.kubernetes.io/os (linux), kubernetes.io/hostname.
std::map<std::string, std::string> WellKnownLabels();

struct SpokeOptions {
  std::string name;
  int slots = 1;
  std::map<std::string, std::string> labels;  // added to WellKnownLabels(), which they override
  std::string work_root;                      // attempt directories
  std::string log_root;                       // <log_root>/<workflow>/<node id>.log
  std::string artifact_root;                  // <artifact_root>/<key>: the artifact store
  // Each slot thread gets a private /tmp once (exec::ThreadSandbox) below this directory, so
  // tasks need no mount namespace of their own; "" = a namespace per task.
  std::string sandbox_root;
  // Report each slot as "<name>-<slot number>" (an in-process pool of one-slot spokes).
  bool name_slots = false;
  ImageMap images;
};

// Turns a Task into what the executor runs (image map, script, log file, artifacts). Errors say
// which image and command were missing and how to map them.
Result<exec::ExecSpec> BuildExecSpec(const engine::Task& task, const ImageMap& images,
                                     const std::string& log_root, const std::string& artifact_root);

class LocalSpoke final : public Spoke {
 public:
  LocalSpoke(SpokeOptions options, SpokeListener* listener);
  ~LocalSpoke() override;  // finishes running tasks, then joins
  const std::string& name() const override { return options_.name; }
  int slots() const { return options_.slots; }
  const std::map<std::string, std::string>& labels() const override { return options_.labels; }
  void Assign(engine::Task task) override;
  void Cancel(const std::string& attempt_id) override;
  // Tasks assigned that no slot has taken yet.
  size_t Waiting();

 private:
  void Work(int slot);

  SpokeOptions options_;
  SpokeListener* listener_;
  exec::ProcessRunner runner_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<engine::Task> queue_;
  bool closing_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace hubspoke::spoke
