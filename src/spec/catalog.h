// The catalog of WorkflowTemplates known to a run or a hub, template references and argument
// merging: how a Workflow with `workflowTemplateRef`, a step with `templateRef`, or
// `--from workflowtemplate/NAME` becomes one self-contained Workflow the engine can run.
// Thread-safety: a Catalog is not synchronized; the hub's engine thread owns its instance.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/error.h"
#include "spec/model.h"

namespace hubspoke::spec {

class Catalog {
 public:
  // Adds or replaces a WorkflowTemplate / ClusterWorkflowTemplate by metadata.name.
  void Add(Workflow tmpl);
  // Removes a template; false when there was none.
  bool Remove(const std::string& name);
  const Workflow* Find(const std::string& name) const;
  std::vector<std::string> Names() const;

  // ConfigMaps given along with workflows: parameters' configMapKeyRef read them.
  void AddConfigMap(ConfigMap config_map);
  const ConfigMap* FindConfigMap(const std::string& name) const;
  // The value of `key` in ConfigMap `name`, if both exist.
  const std::string* ConfigMapValue(const std::string& name, const std::string& key) const;

 private:
  std::map<std::string, Workflow> templates_;
  std::map<std::string, ConfigMap> config_maps_;
};

// Returns a Workflow that can run without the catalog: parameters taken from a ConfigMap
// (valueFrom.configMapKeyRef) given their value (workflow arguments) or default (inputs);
// `spec.workflowTemplateRef` replaced by the
// referenced template's spec (entrypoint, templates, arguments, ...), with the Workflow's own
// arguments overriding the template's by name; every step `templateRef` replaced by a copy of
// the referenced template, added under the name "<workflowtemplate>/<template>". Errors name the
// missing reference and where it was made.
Result<Workflow> Resolve(const Workflow& wf, const Catalog& catalog);

// A Workflow that runs WorkflowTemplate `template_name` (as `argo submit --from`).
Result<Workflow> FromTemplate(const std::string& template_name, const Catalog& catalog);

// Applies `-p name=value` overrides to spec.arguments.parameters (adds those not declared).
void OverrideParameters(Workflow& wf,
                        const std::vector<std::pair<std::string, std::string>>& params);

}  // namespace hubspoke::spec
