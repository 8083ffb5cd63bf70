// Conversions between the engine's Task/TaskResult and their hubspoke.v1 protocol messages, for
// the two ends of a remote spoke's stream (hub/spoke_service.cc and spoke/remote_spoke.cc). It
// includes generated protobuf headers: include it from those adapters only.
// Thread-safety: pure functions.
#pragma once

#include "engine/types.h"
#include "hubspoke/v1/spoke.pb.h"

namespace hubspoke::spoke {

void TaskToProto(const engine::Task& task, v1::Task* out);
engine::Task TaskFromProto(const v1::Task& task);
// The result's `spoke` does not travel: the hub knows which stream it came on.
void ResultToProto(const engine::TaskResult& result, v1::TaskFinished* out);
engine::TaskResult ResultFromProto(const v1::TaskFinished& finished, const std::string& spoke);

}  // namespace hubspoke::spoke
