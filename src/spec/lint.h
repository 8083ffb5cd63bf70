// Validation of manifests (`hubspoke lint`): every problem a run would hit, found before it runs:
// undefined templates and template references, missing entrypoint, steps/tasks referring to
// unknown steps, dependency cycles, unsupported template types and fields (named, with why),
// child Workflows created without successCondition/failureCondition (warning: the parent would not
// wait), parameters without values. Thread-safety: pure functions.
#pragma once

#include <string>
#include <vector>

#include "spec/catalog.h"
#include "spec/model.h"

namespace hubspoke::spec {

struct Diagnostic {
  enum class Severity { kError, kWarning };
  Severity severity = Severity::kError;
  Pos pos;
  std::string message;  // what is wrong and how to fix it
  // "file:line:col: error: message" / "file:line:col: warning: message"
  std::string ToString() const;
};

// Lints one document against the catalog (for references to WorkflowTemplates).
std::vector<Diagnostic> Lint(const Workflow& wf, const Catalog& catalog);

}  // namespace hubspoke::spec
