// Running one task as an OS process on this host: argv or script, environment, working directory,
// a private /tmp per attempt where the kernel allows it (a new mount namespace with a bind mount),
// a timeout, and killing the whole process group on timeout or cancel. Captures stdout as the
// result (last 256 KiB, one trailing newline removed), stderr+stdout to a log file, and reads
// output files after exit. Sidecars run beside the main process until it exits.
// Thread-safety: a ProcessRunner may run many tasks at once from different threads; Cancel() may
// be called from any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"

namespace hubspoke::exec {

// An input artifact to place at `path` (as the task sees it) before the task starts: the
// stored artifact `file` (see artifacts.h), or `data` when set.
struct InputArtifact {
  std::string path;
  std::string file;
  std::optional<std::string> data;
};

// An output artifact: after the task exits, `path` (as the task sees it) is packed into `file`.
struct OutputArtifact {
  std::string path;
  std::string file;
  bool archive = true;  // tar+gzip; false: the file as it is
};

// A sidecar: a process started just before the main one, in the same working directory, /tmp
// and private dirs, and stopped (SIGTERM to its process group, SIGKILL `kill_grace_ms` later)
// once the main process has exited. Its output goes to the log only, each line prefixed with
// "[<name>] "; how it ends does not matter.
struct SidecarSpec {
  std::string name;
  std::vector<std::string> argv;  // argv[0] resolved through PATH when it has no '/'
  std::vector<std::pair<std::string, std::string>> env;  // as ExecSpec::env
};

struct ExecSpec {
  std::string attempt_id;         // unique; names the attempt directory
  std::vector<std::string> argv;  // argv[0] resolved through PATH when it has no '/'
  std::string script_source;      // when set: written to a file whose path is appended to argv
  std::vector<std::pair<std::string, std::string>> env;  // added to a minimal inherited env
  std::string working_dir;                               // absolute; default: the attempt directory
  std::string image;                      // for error messages ("image X: command Y not found")
  int64_t timeout_ms = 0;                 // 0 = none
  bool private_tmp = true;                // /tmp is the attempt's own directory
  std::vector<std::string> output_files;  // paths (as the task sees them) to read after exit
  std::vector<std::string>
      private_dirs;  // extra absolute paths given a private empty dir (emptyDir)
  std::vector<InputArtifact> input_artifacts;    // a failure to place one: not started
  std::vector<OutputArtifact> output_artifacts;  // saved whatever the exit code
  std::vector<SidecarSpec> sidecars;             // one that cannot start: the task is not started
  // stdout+stderr appended here when set; the file is created only once the task prints.
  std::string log_path;
  // When set, the attempt runs in this directory (created if missing) and leaves it empty, instead
  // of creating and removing a directory of its own: a spoke slot reuses one, which spares the
  // file system an inode per task.
  std::string reuse_dir;
  // Called (on the running thread) once the task has run for `still_running_after_ms` and has not
  // ended: a task that ends sooner is never reported as running, which spares the hub a round
  // trip for each short task.
  std::function<void()> on_still_running;
  int64_t still_running_after_ms = 0;
};

struct ExecResult {
  int exit_code = -1;       // the process's exit code; 128+signal when killed by a signal
  std::string stdout_text;  // last 256 KiB, one trailing newline removed
  std::string output_tail;  // the last 4 KiB the main process printed (stdout and stderr)
  std::string message;      // empty on exit 0; else why ("exit code 3", "timeout after 5s", ...)
  bool started = false;  // false: could not start (command not found, ...): an Error, not a Failure
  bool timed_out = false;
  bool cancelled = false;
  std::map<std::string, std::string> files;  // output_files that existed after exit, by path
  std::vector<std::string> artifact_errors;  // per output_artifacts entry: "" when it was saved
  int64_t started_us = 0;                    // wall-clock microseconds
  int64_t finished_us = 0;
};

struct RunnerOptions {
  std::string work_root;  // attempt directories are created below it and removed afterwards
  bool keep_attempt_dirs = false;
  int64_t kill_grace_ms = 2000;  // after SIGTERM (timeout, cancel), SIGKILL the group this late
};

class ProcessRunner {
 public:
  explicit ProcessRunner(RunnerOptions options);
  // Runs to completion (blocking the calling thread) and returns what happened.
  ExecResult Run(const ExecSpec& spec);
  // Kills the process group of a running attempt; Run() then returns with cancelled = true.
  void Cancel(const std::string& attempt_id);
  // RunnerOptions::work_root made absolute: a task, in a working directory of its own, finds the
  // files placed for it below this.
  const std::string& work_root() const;
  // Whether private /tmp works here (probed once).
  static bool PrivateTmpSupported();

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace hubspoke::exec
