// The hub: wires the engine, the store and the spokes. One thread (the engine thread) owns the
// engine; spokes, timers and clients post events to it. After applying a batch of events the
// thread persists every change in one store transaction, and only then hands new tasks to spokes
// (a task is dispatched only after its attempt is committed) and wakes waiters.
//
// Dispatch is by credits: a spoke receives at most as many tasks as it has free slots, and only
// tasks whose nodeSelector its labels satisfy. The spokes are fixed (local ones), so a task no
// spoke's labels satisfy ends in Error at once, its message naming the labels needed and had.
//
// Thread-safety: every public method may be called from any thread.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/error.h"
#include "engine/engine.h"
#include "spec/catalog.h"
#include "spoke/local_spoke.h"
#include "store/store.h"

namespace hubspoke::hub {

struct HubOptions {
  std::string data_dir;  // logs/, work/ live below it
  int local_spokes = 1;  // in-process spokes, one slot each (local-1..N)
  spoke::ImageMap images = spoke::ImageMap::WithDefaults();
  uint64_t seed = 0;  // 0: random
};

class Hub {
 public:
  Hub(HubOptions options, std::unique_ptr<store::Store> store, spec::Catalog catalog);
  ~Hub();  // stops the engine thread and the local spokes
  Hub(const Hub&) = delete;
  Hub& operator=(const Hub&) = delete;

  // Submits a resolved workflow; returns its name once it is persisted.
  Result<std::string> Submit(spec::Workflow workflow);
  // Runs `fn` on the engine thread with the engine (read-only) and waits for it.
  void Inspect(const std::function<void(const engine::Engine&)>& fn);
  // Blocks until `workflow` has finished, or `timeout_ms` passed (<0: forever). True if finished.
  bool WaitFinished(const std::string& workflow, int64_t timeout_ms);
  Status Stop(const std::string& workflow);
  Status Terminate(const std::string& workflow);
  // The first store error the engine thread hit (state may no longer be durable), if any.
  std::optional<Error> StoreError();
  const std::string& log_root() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hubspoke::hub
