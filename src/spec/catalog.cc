#include "spec/catalog.h"

#include <nlohmann/json.hpp>
#include <set>
#include <utility>

namespace hubspoke::spec {
namespace {

std::string JoinNames(const std::vector<std::string>& names) {
  if (names.empty()) return "none";
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

std::vector<std::string> TemplateNames(const Workflow& wf) {
  std::vector<std::string> names;
  for (const Template& t : wf.spec.templates) names.push_back(t.name);
  return names;
}

void MergeParameters(const std::vector<Parameter>& over, std::vector<Parameter>& into) {
  for (const Parameter& p : over) {
    bool replaced = false;
    for (Parameter& q : into) {
      if (q.name == p.name) {
        q = p;
        replaced = true;
      }
    }
    if (!replaced) into.push_back(p);
  }
}

void MergeArtifacts(const std::vector<Artifact>& over, std::vector<Artifact>& into) {
  for (const Artifact& a : over) {
    bool replaced = false;
    for (Artifact& b : into) {
      if (b.name == a.name) {
        b = a;
        replaced = true;
      }
    }
    if (!replaced) into.push_back(a);
  }
}

// Copies templates referenced with `templateRef` into one Workflow, renamed "<wftmpl>/<tmpl>".
class Importer {
 public:
  Importer(Workflow& wf, const Catalog& catalog) : wf_(wf), catalog_(catalog) {
    for (const Template& t : wf_.spec.templates) names_.insert(t.name);
  }

  // Rewrites every templateRef of the workflow's templates (including those imported on the way).
  Status Run() {
    for (size_t i = 0; i < wf_.spec.templates.size(); ++i) {
      Template t = wf_.spec.templates[i];
      if (Status s = RewriteRefs(t, nullptr); !s.ok()) return s;
      wf_.spec.templates[i] = std::move(t);
    }
    for (LifecycleHook& h : wf_.spec.hooks) {
      if (Status s = RewriteHook(h, nullptr, wf_.pos); !s.ok()) return s;
    }
    return {};
  }

 private:
  // Rewrites the references of template `t`; `owner` is the WorkflowTemplate it was copied from
  // (its local references get the owner's prefix), or null for the workflow's own templates.
  Status RewriteRefs(Template& t, const Workflow* owner) {
    auto rewrite_step = [&](Step& s) -> Status {
      if (s.template_ref) {
        Result<std::string> name = Import(*s.template_ref, s.pos);
        if (!name.ok()) return name.error();
        s.template_name = *name;
        s.template_ref.reset();
      } else if (owner != nullptr && !s.template_name.empty()) {
        Result<std::string> name = ImportLocal(*owner, s.template_name, s.pos);
        if (!name.ok()) return name.error();
        s.template_name = *name;
      }
      if (owner != nullptr && !s.on_exit.empty()) {
        Result<std::string> name = ImportLocal(*owner, s.on_exit, s.pos);
        if (!name.ok()) return name.error();
        s.on_exit = *name;
      }
      for (LifecycleHook& h : s.hooks) {
        if (Status st = RewriteHook(h, owner, s.pos); !st.ok()) return st;
      }
      return {};
    };
    for (std::vector<Step>& group : t.steps) {
      for (Step& s : group) {
        if (Status st = rewrite_step(s); !st.ok()) return st;
      }
    }
    if (t.dag) {
      for (Step& s : t.dag->tasks) {
        if (Status st = rewrite_step(s); !st.ok()) return st;
      }
    }
    return {};
  }

  Status RewriteHook(LifecycleHook& h, const Workflow* owner, const Pos& pos) {
    if (h.template_ref) {
      Result<std::string> name = Import(*h.template_ref, pos);
      if (!name.ok()) return name.error();
      h.template_name = *name;
      h.template_ref.reset();
    } else if (owner != nullptr && !h.template_name.empty()) {
      Result<std::string> name = ImportLocal(*owner, h.template_name, pos);
      if (!name.ok()) return name.error();
      h.template_name = *name;
    }
    return {};
  }

  Result<std::string> Import(const TemplateRef& ref, const Pos& pos) {
    const Workflow* owner = catalog_.Find(ref.name);
    if (owner == nullptr) {
      return Fail(NotFound("templateRef names WorkflowTemplate \"" + ref.name +
                               "\", which is not loaded (loaded: " + JoinNames(catalog_.Names()) +
                               "); load the file that defines it too",
                           pos.ToString()));
    }
    return ImportLocal(*owner, ref.template_name, pos);
  }

  // Adds `owner`'s template `name` as "<owner>/<name>" unless already there; returns that name.
  Result<std::string> ImportLocal(const Workflow& owner, const std::string& name, const Pos& pos) {
    const std::string full = owner.metadata.name + "/" + name;
    if (names_.count(full) > 0) return full;
    const Template* src = owner.FindTemplate(name);
    if (src == nullptr) {
      return Fail(NotFound("template \"" + name + "\" is not defined in WorkflowTemplate \"" +
                               owner.metadata.name +
                               "\" (defined: " + JoinNames(TemplateNames(owner)) + ")",
                           pos.ToString()));
    }
    names_.insert(full);
    Template copy = *src;
    copy.name = full;
    if (Status s = RewriteRefs(copy, &owner); !s.ok()) return s.error();
    wf_.spec.templates.push_back(std::move(copy));
    return full;
  }

  Workflow& wf_;
  const Catalog& catalog_;
  std::set<std::string> names_;
};

}  // namespace

void Catalog::Add(Workflow tmpl) {
  std::string name = tmpl.metadata.name;
  templates_[name] = std::move(tmpl);
}

bool Catalog::Remove(const std::string& name) { return templates_.erase(name) > 0; }

void Catalog::AddConfigMap(ConfigMap config_map) {
  std::string name = config_map.name;
  config_maps_[name] = std::move(config_map);
}

const ConfigMap* Catalog::FindConfigMap(const std::string& name) const {
  auto it = config_maps_.find(name);
  return it == config_maps_.end() ? nullptr : &it->second;
}

const std::string* Catalog::ConfigMapValue(const std::string& name, const std::string& key) const {
  const ConfigMap* cm = FindConfigMap(name);
  if (!cm) return nullptr;
  auto it = cm->data.find(key);
  return it == cm->data.end() ? nullptr : &it->second;
}

const Workflow* Catalog::Find(const std::string& name) const {
  auto it = templates_.find(name);
  return it == templates_.end() ? nullptr : &it->second;
}

std::vector<std::string> Catalog::Names() const {
  std::vector<std::string> names;
  for (const auto& [name, wf] : templates_) names.push_back(name);
  return names;
}

Result<Workflow> Resolve(const Workflow& wf, const Catalog& catalog) {
  Workflow out = wf;
  if (wf.spec.workflow_template_ref) {
    const std::string& ref = wf.spec.workflow_template_ref->name;
    const Workflow* base = catalog.Find(ref);
    if (base == nullptr) {
      return Fail(NotFound("workflowTemplateRef names WorkflowTemplate \"" + ref +
                               "\", which is not loaded (loaded: " + JoinNames(catalog.Names()) +
                               "); load the file that defines it too",
                           wf.pos.ToString()));
    }
    // The template's spec, with everything the Workflow sets itself taking precedence.
    WorkflowSpec spec = base->spec;
    const WorkflowSpec& own = wf.spec;
    if (!own.entrypoint.empty()) spec.entrypoint = own.entrypoint;
    MergeParameters(own.arguments.parameters, spec.arguments.parameters);
    MergeArtifacts(own.arguments.artifacts, spec.arguments.artifacts);
    for (const Template& t : own.templates) {
      bool replaced = false;
      for (Template& u : spec.templates) {
        if (u.name == t.name) {
          u = t;
          replaced = true;
        }
      }
      if (!replaced) spec.templates.push_back(t);
    }
    if (!own.parallelism.empty()) spec.parallelism = own.parallelism;
    if (!own.on_exit.empty()) spec.on_exit = own.on_exit;
    if (!own.active_deadline_seconds.empty()) {
      spec.active_deadline_seconds = own.active_deadline_seconds;
    }
    if (own.retry_strategy) spec.retry_strategy = own.retry_strategy;
    for (const auto& [k, v] : own.node_selector) spec.node_selector[k] = v;
    if (!own.hooks.empty()) spec.hooks = own.hooks;
    spec.volume_names.insert(spec.volume_names.end(), own.volume_names.begin(),
                             own.volume_names.end());
    spec.volumes.insert(spec.volumes.end(), own.volumes.begin(), own.volumes.end());
    if (own.synchronization) spec.synchronization = own.synchronization;
    if (!own.metrics.empty()) spec.metrics = own.metrics;
    spec.resolved_template = ref;
    spec.workflow_template_ref.reset();
    out.spec = std::move(spec);
  }
  Importer importer(out, catalog);
  if (Status s = importer.Run(); !s.ok()) return s.error();
  // Values from ConfigMaps; one that is missing stays a reference, which lint reports.
  auto from_config_map = [&catalog](Parameter& p, bool input) {
    if (!p.value_from || !p.value_from->config_map) return;
    const std::string* v =
        catalog.ConfigMapValue(p.value_from->config_map_name, p.value_from->config_map_key);
    if (!v) return;
    (input ? p.default_value : p.value) = *v;
    p.value_from.reset();
  };
  for (Parameter& p : out.spec.arguments.parameters) from_config_map(p, false);
  for (Template& t : out.spec.templates) {
    for (Parameter& p : t.inputs.parameters) from_config_map(p, true);
  }
  return out;
}

Result<Workflow> FromTemplate(const std::string& template_name, const Catalog& catalog) {
  const Workflow* base = catalog.Find(template_name);
  if (base == nullptr) {
    return Fail(NotFound("WorkflowTemplate \"" + template_name + "\" is not loaded (loaded: " +
                         JoinNames(catalog.Names()) + "); load the file that defines it first"));
  }
  Workflow wf;
  wf.api_version = base->api_version.empty() ? "argoproj.io/v1alpha1" : base->api_version;
  wf.kind = "Workflow";
  wf.metadata.generate_name = template_name + "-";
  wf.metadata.namespace_ = base->metadata.namespace_;
  wf.metadata.labels["workflows.argoproj.io/workflow-template"] = template_name;
  wf.spec.workflow_template_ref =
      TemplateRef{template_name, "", base->kind == "ClusterWorkflowTemplate"};
  wf.pos = base->pos;
  nlohmann::json doc = {
      {"apiVersion", wf.api_version},
      {"kind", "Workflow"},
      {"metadata", {{"generateName", wf.metadata.generate_name}, {"labels", wf.metadata.labels}}},
      {"spec", {{"workflowTemplateRef", {{"name", template_name}}}}}};
  if (!wf.metadata.namespace_.empty()) doc["metadata"]["namespace"] = wf.metadata.namespace_;
  wf.source_json = doc.dump();
  return Resolve(wf, catalog);
}

void OverrideParameters(Workflow& wf,
                        const std::vector<std::pair<std::string, std::string>>& params) {
  for (const auto& [name, value] : params) {
    bool found = false;
    for (Parameter& p : wf.spec.arguments.parameters) {
      if (p.name == name) {
        p.value = value;
        found = true;
      }
    }
    if (!found) {
      Parameter p;
      p.name = name;
      p.value = value;
      wf.spec.arguments.parameters.push_back(std::move(p));
    }
  }
}

}  // namespace hubspoke::spec
