// Loading manifests: YAML (one or many documents per file) into spec::Workflow, with errors that
// say file:line:col, what is wrong and how to fix it. Duplicate keys are errors (yaml-cpp accepts
// them silently). Documents of other kinds (ConfigMap, ...) are reported, not loaded.
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "spec/model.h"

namespace hubspoke::spec {

struct LoadedFile {
  std::vector<Workflow> workflows;  // Workflow, WorkflowTemplate, ClusterWorkflowTemplate documents
  std::vector<ConfigMap> config_maps;
  std::vector<std::string> skipped;  // "file:line:col: skipped Secret/foo (not a workflow)"
};

// Reads and parses every document in `path`. Fails on the first hard error (unreadable file, YAML
// syntax error, duplicate key, a field of the wrong type), naming file:line:col.
Result<LoadedFile> LoadFile(const std::string& path);
Result<LoadedFile> LoadString(std::string_view yaml, const std::string& file_name);

// Parses one manifest given as text (a `resource` template's manifest after substitution) into a
// Workflow; `where` names the node for error messages.
Result<Workflow> LoadManifest(std::string_view yaml, const std::string& where);

}  // namespace hubspoke::spec
