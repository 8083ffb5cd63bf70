// Conversions between the engine's Task/TaskResult and their hubspoke.v1 protocol messages, for
// the two ends of a remote spoke's stream (hub/spoke_service.cc and spoke/remote_spoke.cc), and
// the artifacts that travel with them between the hub's artifact store and a spoke's. It
// includes generated protobuf headers: include it from those adapters only.
// Thread-safety: pure functions, but for the files of the artifact stores they read and write.
#pragma once

#include <map>
#include <set>
#include <string>

#include "common/error.h"
#include "engine/types.h"
#include "hubspoke/v1/spoke.pb.h"

namespace hubspoke::spoke {

void TaskToProto(const engine::Task& task, v1::Task* out);
engine::Task TaskFromProto(const v1::Task& task);
// The result's `spoke` does not travel: the hub knows which stream it came on.
void ResultToProto(const engine::TaskResult& result, v1::TaskFinished* out);
engine::TaskResult ResultFromProto(const v1::TaskFinished& finished, const std::string& spoke);

// Artifact content: each stored (not raw) artifact's file `root`/key is read into its content
// (a directory stored as it is travels as tar+gzip), or why not into its error.
void AttachContents(const std::string& root,
                    google::protobuf::RepeatedPtrField<v1::Artifact>* artifacts);
// Writes the content of each stored (not raw) artifact to `root`/key (under a temporary name,
// then renamed: a task reading the file meanwhile sees the whole of one or the other). Returns
// why an artifact was not written, by name: it came with an error, its key is not a plain
// relative path, or the file could not be written. Keys in `in_use` are left as they are: the
// same key is the same content, and a directory written again under a task that is copying it
// could lose files for a moment.
std::map<std::string, std::string> StoreContents(
    const std::string& root, const google::protobuf::RepeatedPtrField<v1::Artifact>& artifacts,
    const std::set<std::string>& in_use = {});

}  // namespace hubspoke::spoke
