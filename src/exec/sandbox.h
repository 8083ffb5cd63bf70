// ThreadSandbox: a private /tmp for every process a worker thread starts, set up once per thread
// instead of once per task. The thread moves into its own mount namespace where /tmp is a bind
// mount of the slot's directory; Clear() empties it between tasks. A spoke slot runs one task at
// a time, so tasks never see each other's /tmp, at no per-task mount cost.
// Thread-safety: Enter() affects only the calling thread; use an instance on that thread only.
#pragma once

#include <memory>
#include <string>

#include "common/error.h"

namespace hubspoke::exec {

class ThreadSandbox {
 public:
  // Moves the calling thread into a new mount namespace with `dir`/tmp mounted on /tmp.
  // `dir` must not be under /tmp. Fails (and changes nothing visible) where the kernel or the
  // privileges do not allow it; callers then fall back to per-task private /tmp.
  static Result<std::unique_ptr<ThreadSandbox>> Enter(const std::string& dir);
  // Removes everything the last task left in /tmp.
  void Clear();

 private:
  ThreadSandbox() = default;
};

}  // namespace hubspoke::exec
