// Starting one process cheaply: a new session (so its whole process group can be killed), a pidfd
// to wait on, default signal dispositions and an empty signal mask. The child is cloned with
// CLONE_VM | CLONE_VFORK | CLONE_PIDFD on a stack in the caller's frame, and with CLONE_NEWNS when
// it needs private mounts: it then makes / recursively private and applies the bind mounts before
// changing directory and exec'ing. (glibc's posix_spawn maps and unmaps a child stack per call;
// in a multi-threaded spoke the munmap's TLB shootdown was the largest parent cost, and it gives no
// pidfd.) The child only makes async-signal-safe calls; failures come back through shared memory.
// Thread-safety: Spawn() may be called from many threads at once.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace hubspoke::exec {

struct BindMount {
  std::string source;
  std::string target;
  bool recursive = false;
};

struct SpawnRequest {
  std::string path;               // the executable; empty: the child exits 0 after the mounts
  std::vector<std::string> argv;  // argv[0] as the task sees it
  std::vector<std::string> env;   // "KEY=VALUE"
  std::string working_dir;        // entered after the mounts; empty: inherited
  bool new_mount_namespace = false;
  std::vector<BindMount> mounts;  // applied in order; only with new_mount_namespace
  int stdin_fd = -1;
  int stdout_fd = -1;
  int stderr_fd = -1;
};

struct Spawned {
  pid_t pid = -1;    // also the process group and session id
  int pidfd = -1;    // owned by the caller; the caller reaps pid
  int error = 0;     // errno when the process could not be started (pid = -1)
  std::string step;  // what failed: "exec", "chdir", "mount ...", "clone", ...
};

Spawned Spawn(const SpawnRequest& request);

// Whether this process may create a mount namespace and bind-mount a directory onto /tmp.
// Probed once by starting a child that tries.
bool PrivateMountsSupported();

}  // namespace hubspoke::exec
