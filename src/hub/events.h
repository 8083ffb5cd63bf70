// The hub's event log: every input the engine applied (submissions, task starts and results,
// timers, commands), with the time the engine saw, encoded as JSON for the store. The engine is
// deterministic, so replaying a workflow tree's events after a restart rebuilds its exact state.
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/error.h"
#include "engine/types.h"
#include "hub/hub.h"

namespace hubspoke::hub {

struct Event {
  enum class Type { kSubmit, kStarted, kFinished, kTimer, kStop, kTerminate, kSuspend, kResume };
  Type type = Type::kSubmit;
  Micros now = 0;                      // the engine's clock when it applied the event
  std::string workflow;                // submit: the name it got; commands: their target
  std::string document;                // submit: the manifest as JSON (spec::Workflow::source_json)
  SubmitOptions options;               // submit
  std::vector<std::string> memo;       // submit of a retry: the earlier run's nodes (NodeToJson)
  std::string attempt;                 // started
  std::string spoke;                   // started
  Micros at = 0;                       // started
  engine::TaskResult result;           // finished
  std::string timer;                   // timer key
  std::vector<engine::Param> outputs;  // resume
};

std::string EncodeEvent(const Event& event);
// Errors name what is wrong with the stored text.
Result<Event> DecodeEvent(std::string_view json);

}  // namespace hubspoke::hub
