#include "spec/lint.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <functional>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <tuple>

#include "expr/expr.h"

namespace hubspoke::spec {
namespace {

using Severity = Diagnostic::Severity;

std::string Quote(const std::string& s) { return "\"" + s + "\""; }

std::string Join(const std::vector<std::string>& names) {
  if (names.empty()) return "none";
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

bool IsWorkflowToRun(const Workflow& wf) {
  return wf.kind == "Workflow" || wf.kind == "CronWorkflow";
}

// The kind of a manifest's top-level `kind:` line ("" when there is none). A line scan, because
// manifests hold {{...}} placeholders that are often not valid YAML before substitution.
std::string ManifestKind(const std::string& manifest) {
  static const std::regex kKind(R"(^kind:[ \t]*["']?([A-Za-z0-9]+)["']?[ \t]*(#.*)?$)");
  size_t start = 0;
  while (start <= manifest.size()) {
    size_t end = manifest.find('\n', start);
    if (end == std::string::npos) end = manifest.size();
    std::smatch m;
    const std::string line = manifest.substr(start, end - start);
    if (std::regex_match(line, m, kKind)) return m[1];
    start = end + 1;
  }
  return "";
}

// The input parameter names that `{{inputs.parameters.X}}` and `{{= ... inputs.parameters.X ...}}`
// mention in `text`.
void InputParameterRefs(const std::string& text, std::set<std::string>& out) {
  static const std::regex kBlock(R"(\{\{([^}]*)\}\})");
  static const std::regex kSimple(R"(^\s*inputs\.parameters\.([A-Za-z0-9_.\-]+?)\s*$)");
  static const std::regex kInExpr(
      R"(inputs\.parameters(?:\.([A-Za-z0-9_]+)|\[\s*['"]([^'"]+)['"]\s*\]))");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), kBlock);
       it != std::sregex_iterator(); ++it) {
    const std::string inner = (*it)[1];
    const size_t first = inner.find_first_not_of(" \t");
    std::smatch m;
    if (first != std::string::npos && inner[first] == '=') {
      for (auto e = std::sregex_iterator(inner.begin(), inner.end(), kInExpr);
           e != std::sregex_iterator(); ++e) {
        out.insert((*e)[1].matched ? (*e)[1].str() : (*e)[2].str());
      }
    } else if (std::regex_match(inner, m, kSimple)) {
      out.insert(m[1]);
    }
  }
}

// Every text of a template that Argo substitutes with the template's own inputs.
void ForEachText(const Template& t, const std::function<void(const std::string&)>& fn) {
  auto container = [&](const Container& c) {
    fn(c.image);
    fn(c.working_dir);
    for (const std::string& s : c.command) fn(s);
    for (const std::string& s : c.args) fn(s);
    for (const EnvVar& e : c.env) fn(e.value);
  };
  auto arguments = [&](const Arguments& args) {
    for (const Parameter& p : args.parameters) {
      fn(p.value.value_or(""));
      fn(p.default_value.value_or(""));
    }
    for (const Artifact& a : args.artifacts) {
      fn(a.from);
      fn(a.raw.value_or(""));
    }
  };
  auto step = [&](const Step& s) {
    arguments(s.arguments);
    fn(s.when);
    fn(s.with_param);
    fn(s.with_items.value_or(""));
    if (s.with_sequence) {
      fn(s.with_sequence->count);
      fn(s.with_sequence->start);
      fn(s.with_sequence->end);
    }
    for (const LifecycleHook& h : s.hooks) {
      arguments(h.arguments);
      fn(h.expression);
    }
  };
  if (t.container) container(*t.container);
  if (t.script) {
    container(t.script->container);
    fn(t.script->source);
  }
  if (t.container_set) {
    for (const Container& c : t.container_set->containers) container(c);
  }
  for (const Container& c : t.sidecars) container(c);
  for (const auto& group : t.steps) {
    for (const Step& s : group) step(s);
  }
  if (t.dag) {
    fn(t.dag->target);
    for (const Step& s : t.dag->tasks) step(s);
  }
  if (t.resource) {
    fn(t.resource->manifest);
    fn(t.resource->success_condition);
    fn(t.resource->failure_condition);
  }
  if (t.suspend) fn(t.suspend->duration);
  for (const Parameter& p : t.outputs.parameters) {
    if (p.value_from) {
      fn(p.value_from->path);
      fn(p.value_from->parameter);
      fn(p.value_from->expression);
    }
  }
  for (const Artifact& a : t.outputs.artifacts) {
    fn(a.path);
    fn(a.from);
  }
  fn(t.timeout);
  if (t.memoize) {
    fn(t.memoize->key);
    fn(t.memoize->max_age);
  }
  fn(t.active_deadline_seconds);
  if (t.retry_strategy) {
    fn(t.retry_strategy->limit);
    fn(t.retry_strategy->expression);
  }
}

bool NeedsValue(const Parameter& p) { return !p.value && !p.default_value && !p.value_from; }

class Linter {
 public:
  Linter(const Workflow& wf, const Catalog& catalog) : wf_(wf), catalog_(catalog) {}

  std::vector<Diagnostic> Run() {
    effective_ = &wf_;
    bool unresolved_ref = false;
    if (wf_.spec.workflow_template_ref) {
      const std::string& ref = wf_.spec.workflow_template_ref->name;
      if (catalog_.Find(ref) == nullptr) {
        ReportError(wf_.pos, "spec.workflowTemplateRef names WorkflowTemplate " + Quote(ref) +
                                 ", which is not loaded (loaded: " + Join(catalog_.Names()) +
                                 "); load the file that defines it as well");
        unresolved_ref = true;
      } else if (Result<Workflow> merged = Resolve(wf_, catalog_); merged.ok()) {
        merged_ = std::move(*merged);
        effective_ = &merged_;
      } else {
        unresolved_ref = true;  // the broken templateRef is reported with its template
      }
    }
    for (const Template& t : effective_->spec.templates) defined_.insert(t.name);
    if (!unresolved_ref) CheckEntrypoint();
    CheckDuplicateTemplates();
    CheckWorkflowArguments();
    CheckVolumes(wf_.spec.volumes, "spec.volumes");
    if (!wf_.spec.on_exit.empty() && defined_.count(wf_.spec.on_exit) == 0) {
      ReportError(wf_.pos, "spec.onExit uses template " + Quote(wf_.spec.on_exit) + ", which " +
                               NotDefinedHere());
    }
    for (const LifecycleHook& h : wf_.spec.hooks) {
      CheckHook(h, wf_.pos, "spec.hooks." + h.name);
    }
    CheckMetrics(wf_.spec.metrics, "spec.metrics.prometheus");
    for (const Template& t : wf_.spec.templates) CheckTemplate(t);
    return std::move(out_);
  }

 private:
  void Add(Severity sev, const Pos& pos, std::string message) {
    Diagnostic d;
    d.severity = sev;
    d.pos = pos;
    d.message = std::move(message);
    out_.push_back(std::move(d));
  }
  void ReportError(const Pos& pos, std::string message) {
    Add(Severity::kError, pos, std::move(message));
  }
  void ReportWarning(const Pos& pos, std::string message) {
    Add(Severity::kWarning, pos, std::move(message));
  }

  std::string Owner() const { return wf_.kind + " " + Quote(wf_.DisplayName()); }

  std::vector<std::string> DefinedNames() const {
    std::vector<std::string> names;
    for (const Template& t : effective_->spec.templates) {
      if (t.name.find("@inline") == std::string::npos) names.push_back(t.name);
    }
    return names;
  }

  std::string NotDefinedHere() const {
    return "is not defined in " + Owner() + " (defined: " + Join(DefinedNames()) + ")";
  }

  // --- workflow level ------------------------------------------------------------------------

  void CheckEntrypoint() {
    const std::string& ep = effective_->spec.entrypoint;
    if (ep.empty()) {
      const std::string msg = Owner() +
                              " has no spec.entrypoint: add \"entrypoint: <template>\" "
                              "naming one of its templates (" +
                              Join(DefinedNames()) + ")";
      if (IsWorkflowToRun(wf_)) {
        ReportError(wf_.pos, msg);
      } else {
        ReportWarning(wf_.pos, msg + ", or give --entrypoint when submitting it");
      }
      return;
    }
    if (defined_.count(ep) == 0) {
      ReportError(wf_.pos, "spec.entrypoint " + Quote(ep) + " " + NotDefinedHere() +
                               ": fix the name or add the template");
      return;
    }
    // The entrypoint's inputs come from spec.arguments by name.
    const Template* t = effective_->FindTemplate(ep);
    for (const Parameter& p : t->inputs.parameters) {
      if (!NeedsValue(p)) continue;
      bool given = false;
      for (const Parameter& a : effective_->spec.arguments.parameters) {
        if (a.name == p.name) given = true;
      }
      if (given) continue;
      const std::string msg = "entrypoint template " + Quote(ep) + " requires input parameter " +
                              Quote(p.name) +
                              ", which spec.arguments.parameters does not give: add it there "
                              "with a value, or pass -p " +
                              p.name + "=... when submitting";
      if (IsWorkflowToRun(wf_)) {
        ReportError(p.pos, msg);
      } else {
        ReportWarning(p.pos, msg);
      }
    }
  }

  void CheckDuplicateTemplates() {
    std::map<std::string, const Template*> seen;
    for (const Template& t : wf_.spec.templates) {
      if (t.name.empty()) {
        ReportError(t.pos, "a template of " + Owner() + " has no name: add \"name: <name>\"");
        continue;
      }
      auto [it, inserted] = seen.emplace(t.name, &t);
      if (!inserted) {
        ReportError(t.pos, "template " + Quote(t.name) + " is defined twice in " + Owner() +
                               " (first at " + it->second->pos.ToString() +
                               "): rename one of them");
      }
    }
  }

  void CheckWorkflowArguments() {
    for (const Parameter& p : wf_.spec.arguments.parameters) {
      CheckParameterSource(p, "spec.arguments.parameters");
    }
    for (const Artifact& a : wf_.spec.arguments.artifacts) {
      CheckArtifact(a, "spec.arguments.artifacts");
    }
    if (!IsWorkflowToRun(wf_)) return;
    // Including those a referenced WorkflowTemplate declares without a value.
    for (const Parameter& p : effective_->spec.arguments.parameters) {
      if (!p.value && !p.value_from) {
        ReportError(p.pos, "workflow argument " + Quote(p.name) +
                               " has no value: add \"value: ...\" or pass -p " + p.name +
                               "=... when submitting");
      }
    }
  }

  void CheckParameterSource(const Parameter& p, const std::string& where) {
    if (p.value_from && p.value_from->config_map &&
        !catalog_.ConfigMapValue(p.value_from->config_map_name, p.value_from->config_map_key)) {
      const std::string& cm = p.value_from->config_map_name;
      ReportError(p.pos, where + " " + Quote(p.name) + " takes its value from key " +
                             Quote(p.value_from->config_map_key) + " of ConfigMap " + Quote(cm) +
                             (catalog_.FindConfigMap(cm) ? ", which has no such key"
                                                         : ", which was not given") +
                             ": pass a file holding that ConfigMap (kind: ConfigMap, data: ...) "
                             "with the workflow, or give the value directly");
    }
  }

  void CheckArtifact(const Artifact& a, const std::string& where) {
    if (a.unsupported_source.empty()) return;
    ReportError(a.pos, where + " " + Quote(a.name) + " uses a " + a.unsupported_source +
                           " source, which needs an artifact repository, which hubspoke does not "
                           "configure: pass the data with raw.data, a parameter, or an artifact "
                           "produced by an earlier step");
  }

  // A task's artifacts need a path; a steps or dag template's outputs name the artifact they are.
  void CheckArtifactPlaces(const Template& t, const std::string& what) {
    const bool pod = t.kind == Template::Kind::kContainer || t.kind == Template::Kind::kScript ||
                     t.kind == Template::Kind::kContainerSet;
    for (const Artifact& a : t.inputs.artifacts) {
      if (pod && a.path.empty())
        ReportError(a.pos, what + " input artifact " + Quote(a.name) +
                               " has no path: add path: where the task reads it");
    }
    for (const Artifact& a : t.outputs.artifacts) {
      if (pod && a.path.empty()) {
        ReportError(a.pos, what + " output artifact " + Quote(a.name) +
                               " has no path: add path: the file or directory the task writes");
      } else if ((t.kind == Template::Kind::kSteps || t.kind == Template::Kind::kDag) &&
                 a.from.empty() && a.from_expression.empty()) {
        ReportError(a.pos, what + " output artifact " + Quote(a.name) +
                               " has neither from nor fromExpression: name the artifact of a "
                               "step or task it is, e.g. from: \"{{steps.NAME.outputs.artifacts." +
                               a.name + "}}\"");
      }
    }
  }

  void CheckVolumes(const std::vector<Volume>& volumes, const std::string& where) {
    for (const Volume& v : volumes) {
      if (v.source == "emptyDir") continue;
      std::string why;
      if (v.source == "volumeClaimTemplate") {
        ReportError(v.pos, "spec.volumeClaimTemplates " + Quote(v.name) +
                               " asks for a PersistentVolumeClaim, which needs Kubernetes: use an "
                               "emptyDir volume (one directory per attempt) or pass data as "
                               "artifacts");
      } else if (v.source == "persistentVolumeClaim" || v.source == "secret" ||
                 v.source == "configMap") {
        ReportError(v.pos, where + " " + Quote(v.name) + " is a " + v.source +
                               " volume, which needs Kubernetes and is not available on a spoke "
                               "host: use an emptyDir volume, or pass the data as parameters or "
                               "artifacts");
      } else {
        ReportWarning(v.pos,
                      where + " " + Quote(v.name) + " is a " +
                          (v.source.empty() ? std::string("sourceless") : v.source) +
                          " volume, which hubspoke ignores: its mounts are plain directories");
      }
    }
  }

  // --- metrics -------------------------------------------------------------------------------

  // Prometheus custom metrics as Argo accepts them: a valid name (after the argo_workflows_
  // prefix), help, exactly one of gauge/counter/histogram with a value, histogram buckets in
  // increasing order, valid label names; one name keeps one type and one help everywhere.
  void CheckMetrics(const std::vector<PrometheusMetric>& metrics, const std::string& where) {
    static const std::regex kName("[a-zA-Z_:][a-zA-Z0-9_:]*");
    static const std::regex kLabel("[a-zA-Z_][a-zA-Z0-9_]*");
    using Type = PrometheusMetric::Type;
    for (const PrometheusMetric& m : metrics) {
      const std::string what = where + " " + Quote(m.name);
      if (m.name.empty()) {
        ReportError(m.pos, where + " item has no name: add name: (letters, digits, _ and :)");
        continue;
      }
      if (!expr::HasPlaceholders(m.name) && !std::regex_match(m.name, kName)) {
        ReportError(m.pos, where + " name " + Quote(m.name) +
                               " is not a valid Prometheus metric name: use only letters, "
                               "digits, _ and : (not starting with a digit)");
      }
      if (m.help.empty()) ReportError(m.pos, what + " has no help: add help: \"what it counts\"");
      if (m.type_count != 1) {
        ReportError(m.pos, what + (m.type_count == 0 ? " has no type" : " has several types") +
                               ": give exactly one of gauge, counter or histogram");
        continue;
      }
      if (m.value.empty()) {
        ReportError(m.pos, what + " has no value: add value: (a number or a variable such as " +
                               "\"{{duration}}\")");
      } else if (!expr::HasPlaceholders(m.value) && !IsNumber(m.value)) {
        ReportError(m.pos, what + " value " + Quote(m.value) +
                               " is not a number (nor a variable such as \"{{duration}}\")");
      }
      if (m.realtime) {
        static const std::regex kVar("\\{\\{\\s*([^}]*?)\\s*\\}\\}");
        for (std::sregex_iterator it(m.value.begin(), m.value.end(), kVar), end; it != end; ++it) {
          std::string var = (*it)[1];
          if (var != "duration" && var != "workflow.duration") {
            ReportError(m.pos, what + " is a realtime gauge whose value uses {{" + var +
                                   "}}: a realtime value may use only {{duration}} and "
                                   "{{workflow.duration}}");
          }
        }
      }
      if (m.type == Type::kHistogram) {
        if (m.buckets.empty()) {
          ReportError(m.pos, what + " is a histogram without buckets: add histogram.buckets, " +
                                 "a list of increasing upper bounds");
        }
        double prev = 0;
        for (size_t i = 0; i < m.buckets.size(); ++i) {
          if (!IsNumber(m.buckets[i])) {
            ReportError(m.pos, what + " bucket " + Quote(m.buckets[i]) + " is not a number");
            break;
          }
          double b = std::stod(m.buckets[i]);
          if (i > 0 && b <= prev) {
            ReportError(m.pos, what + " buckets must increase: " + m.buckets[i] + " follows " +
                                   m.buckets[i - 1]);
            break;
          }
          prev = b;
        }
      }
      for (const MetricLabel& l : m.labels) {
        if (!std::regex_match(l.key, kLabel) || l.key.rfind("__", 0) == 0) {
          ReportError(l.pos, what + " label key " + Quote(l.key) +
                                 " is not a valid Prometheus label name: use letters, digits "
                                 "and _ (not starting with a digit or __)");
        }
        if (l.value.empty()) {
          ReportError(l.pos, what + " label " + Quote(l.key) + " has no value");
        }
      }
      if (expr::HasPlaceholders(m.name)) continue;
      auto [seen, inserted] = metric_kinds_.emplace(m.name, std::make_pair(m.type, m.help));
      if (!inserted && (seen->second.first != m.type || seen->second.second != m.help)) {
        ReportError(m.pos, what + " is declared elsewhere with another type or help: a " +
                               "metric name keeps one type and one help text");
      }
    }
  }

  static bool IsNumber(const std::string& s) {
    char* end = nullptr;
    errno = 0;
    std::strtod(s.c_str(), &end);
    return !s.empty() && errno == 0 && end == s.c_str() + s.size();
  }

  // --- templates -----------------------------------------------------------------------------

  void CheckTemplate(const Template& t) {
    const std::string what = "template " + Quote(t.name);
    switch (t.kind) {
      case Template::Kind::kUnknown:
        ReportError(t.pos, what +
                               " has no template type: add one of container, script, containerSet, "
                               "steps, dag, resource or suspend");
        break;
      case Template::Kind::kUnsupported:
        ReportError(
            t.pos,
            what + " is of type " + Quote(t.unsupported_kind) +
                ", which hubspoke does not run (supported: container, script, "
                "containerSet, steps, dag, resource creating a Workflow, suspend, data): rewrite "
                "it as a container or script template");
        break;
      default:
        break;
    }
    for (const Parameter& p : t.inputs.parameters) CheckParameterSource(p, what + " input");
    for (const Artifact& a : t.inputs.artifacts) CheckArtifact(a, what + " input artifact");
    for (const Artifact& a : t.outputs.artifacts) CheckArtifact(a, what + " output artifact");
    CheckArtifactPlaces(t, what);
    if (t.data) CheckData(*t.data, what);
    if (t.memoize && t.memoize->key.empty()) {
      ReportError(t.memoize->pos, what +
                                      " memoize has no key: add key: the value (usually from "
                                      "{{inputs.parameters...}}) its outputs are cached under");
    }
    if (t.memoize && t.memoize->cache.empty()) {
      ReportError(t.memoize->pos, what +
                                      " memoize has no cache: add cache: {configMap: {name: "
                                      "NAME}} (the hub keeps a cache of that name)");
    }
    CheckVolumes(t.volumes, what + " volume");
    CheckMetrics(t.metrics, what + " metrics.prometheus");
    auto check_env = [&](const Container& c) {
      for (const EnvVar& e : c.env) {
        if (!e.from_source) continue;
        if (e.from_kind == "secretKeyRef" || e.from_kind == "configMapKeyRef") {
          ReportError(e.pos, what + " env " + Quote(e.name) + " takes its value from valueFrom." +
                                 e.from_kind + ", which needs Kubernetes (" +
                                 (e.from_kind == "secretKeyRef" ? "a Secret" : "a ConfigMap") +
                                 "): set \"value:\" from a workflow parameter instead");
        } else {
          ReportWarning(e.pos, what + " env " + Quote(e.name) + " uses valueFrom." +
                                   (e.from_kind.empty() ? std::string("?") : e.from_kind) +
                                   ", which has no meaning on a spoke host: it will be empty");
        }
      }
    };
    if (t.container) check_env(*t.container);
    if (t.script) check_env(t.script->container);
    if (t.container_set) {
      for (const Container& c : t.container_set->containers) check_env(c);
    }
    for (const Container& c : t.sidecars) check_env(c);
    if (t.resource) CheckResource(t);
    CheckSteps(t);
    if (t.dag) CheckDag(t);
    CheckInputReferences(t);
  }

  void CheckData(const Data& d, const std::string& what) {
    CheckArtifact(d.source, what + " data.source.artifactPaths");
    for (const std::string& e : d.transformations) {
      if (e.empty()) {
        ReportError(d.pos, what +
                               " has a data transformation without an expression: add "
                               "expression: (over `data`, e.g. filter(data, {# endsWith "
                               "\".log\"}))");
      }
    }
  }

  void CheckResource(const Template& t) {
    const Resource& r = *t.resource;
    const std::string what = "template " + Quote(t.name);
    const std::string kind = ManifestKind(r.manifest);
    if (r.action != "create") {
      ReportError(t.pos, what + " has resource action " + Quote(r.action) +
                             (kind.empty() ? "" : " on a " + kind) +
                             ": hubspoke only supports \"create\" of a Workflow, since there is "
                             "no Kubernetes API to act on: run the work as a container or script "
                             "template instead");
      return;
    }
    if (kind != "Workflow") {
      ReportError(r.manifest_pos,
                  what + " creates a resource of kind " + Quote(kind.empty() ? "(none)" : kind) +
                      ": hubspoke can only create Workflows (no Kubernetes API); run the work as "
                      "a container or script template instead");
      return;
    }
    if (r.success_condition.empty() && r.failure_condition.empty()) {
      ReportWarning(r.manifest_pos,
                    what +
                        " creates a child Workflow without successCondition or "
                        "failureCondition: the parent node will not wait for the child "
                        "workflow; add successCondition: status.phase == Succeeded and "
                        "failureCondition: status.phase in (Failed, Error)");
    }
  }

  void CheckSteps(const Template& t) {
    std::map<std::string, const Step*> seen;
    for (const auto& group : t.steps) {
      for (const Step& s : group) {
        CheckUniqueName(t, s, seen, "step");
        CheckCall(s, "step");
      }
    }
  }

  void CheckDag(const Template& t) {
    std::map<std::string, const Step*> seen;
    for (const Step& s : t.dag->tasks) {
      CheckUniqueName(t, s, seen, "task");
      CheckCall(s, "task");
    }
    // Edges: task -> the tasks it depends on.
    std::map<std::string, std::vector<std::string>> deps;
    for (const Step& s : t.dag->tasks) {
      std::vector<std::string>& d = deps[s.name];
      for (const std::string& dep : s.dependencies) {
        if (seen.count(dep) == 0) {
          ReportError(s.pos, "task " + Quote(s.name) + " of template " + Quote(t.name) +
                                 " depends on " + Quote(dep) +
                                 ", which is not a task of this dag "
                                 "(tasks: " +
                                 Join(Keys(seen)) + ")");
        } else {
          d.push_back(dep);
        }
      }
      if (!s.depends.empty()) {
        Result<std::vector<std::string>> names = expr::DependsTasks(s.depends);
        if (!names.ok()) {
          ReportError(s.pos, "task " + Quote(s.name) + " has an invalid depends " +
                                 Quote(s.depends) + ": " + names.error().message);
        } else {
          for (const std::string& dep : *names) {
            if (seen.count(dep) == 0) {
              ReportError(
                  s.pos, "task " + Quote(s.name) + " of template " + Quote(t.name) +
                             " has depends on " + Quote(dep) +
                             ", which is not a task of this dag (tasks: " + Join(Keys(seen)) + ")");
            } else {
              d.push_back(dep);
            }
          }
        }
      }
    }
    if (!t.dag->target.empty()) {
      std::string target = t.dag->target;
      std::replace(target.begin(), target.end(), ',', ' ');
      std::istringstream words(target);
      for (std::string name; words >> name;) {
        if (seen.count(name) == 0 && !expr::HasPlaceholders(name)) {
          ReportError(t.pos, "template " + Quote(t.name) + " has dag target " + Quote(name) +
                                 ", which is not a task of this dag (tasks: " + Join(Keys(seen)) +
                                 ")");
        }
      }
    }
    CheckCycles(t, deps);
  }

  static std::vector<std::string> Keys(const std::map<std::string, const Step*>& m) {
    std::vector<std::string> keys;
    for (const auto& [k, v] : m) keys.push_back(k);
    return keys;
  }

  void CheckCycles(const Template& t, const std::map<std::string, std::vector<std::string>>& deps) {
    enum class Mark { kNone, kActive, kDone };
    std::map<std::string, Mark> mark;
    std::vector<std::string> path;
    bool reported = false;
    std::function<void(const std::string&)> visit = [&](const std::string& n) {
      if (reported) return;
      mark[n] = Mark::kActive;
      path.push_back(n);
      auto it = deps.find(n);
      if (it != deps.end()) {
        for (const std::string& d : it->second) {
          if (mark[d] == Mark::kActive) {
            std::string cycle;
            auto start = std::find(path.begin(), path.end(), d);
            for (auto p = start; p != path.end(); ++p) cycle += *p + " -> ";
            cycle += d;
            ReportError(t.pos, "the dag of template " + Quote(t.name) +
                                   " has a dependency cycle (" + cycle +
                                   "), so none of these tasks can start: remove one dependency");
            reported = true;
            return;
          }
          if (mark[d] == Mark::kNone) visit(d);
          if (reported) return;
        }
      }
      path.pop_back();
      mark[n] = Mark::kDone;
    };
    for (const auto& [name, d] : deps) {
      if (mark[name] == Mark::kNone) visit(name);
    }
  }

  void CheckUniqueName(const Template& t, const Step& s, std::map<std::string, const Step*>& seen,
                       const std::string& kind) {
    if (s.name.empty()) {
      ReportError(s.pos, "a " + kind + " of template " + Quote(t.name) +
                             " has no name: add \"name: <name>\"");
      return;
    }
    auto [it, inserted] = seen.emplace(s.name, &s);
    if (!inserted) {
      ReportError(s.pos, kind + " name " + Quote(s.name) + " is used twice in template " +
                             Quote(t.name) + " (first at " + it->second->pos.ToString() +
                             "): names must be unique within a template");
    }
  }

  // The template a step, task or hook calls ("" + diagnostics when it cannot be found).
  const Template* Callee(const std::string& template_name, const std::optional<TemplateRef>& ref,
                         const Pos& pos, const std::string& who) {
    if (ref) {
      const Workflow* owner = catalog_.Find(ref->name);
      if (owner == nullptr) {
        ReportError(pos, who + " uses templateRef " + Quote(ref->name) + "/" +
                             Quote(ref->template_name) + ", but WorkflowTemplate " +
                             Quote(ref->name) + " is not loaded (loaded: " +
                             Join(catalog_.Names()) + "): load the file that defines it as well");
        return nullptr;
      }
      const Template* t = owner->FindTemplate(ref->template_name);
      if (t == nullptr) {
        std::vector<std::string> names;
        for (const Template& x : owner->spec.templates) names.push_back(x.name);
        ReportError(pos, who + " uses templateRef " + Quote(ref->name) + "/" +
                             Quote(ref->template_name) + ", but template " +
                             Quote(ref->template_name) + " is not defined in " + owner->kind + " " +
                             Quote(ref->name) + " (defined: " + Join(names) + ")");
      }
      return t;
    }
    if (template_name.empty()) {
      ReportError(pos, who + " names no template: add \"template: <name>\" or templateRef");
      return nullptr;
    }
    const Template* t = effective_->FindTemplate(template_name);
    if (t == nullptr)
      ReportError(pos,
                  who + " uses template " + Quote(template_name) + ", which " + NotDefinedHere());
    return t;
  }

  void CheckArgumentsCover(const Template& callee, const Arguments& args, const Pos& pos,
                           const std::string& who) {
    for (const Parameter& p : callee.inputs.parameters) {
      if (!NeedsValue(p)) continue;
      const bool passed = std::any_of(args.parameters.begin(), args.parameters.end(),
                                      [&](const Parameter& a) { return a.name == p.name; });
      if (!passed) {
        ReportError(pos, who + " does not pass input parameter " + Quote(p.name) + " of template " +
                             Quote(callee.name) +
                             ", which has no default: add it under the arguments.parameters of " +
                             who);
      }
    }
  }

  void CheckCall(const Step& s, const std::string& kind) {
    for (const Artifact& a : s.arguments.artifacts) {
      CheckArtifact(a, kind + " " + Quote(s.name) + " argument artifact");
    }
    const std::string who = kind + " " + Quote(s.name);
    if (const Template* callee = Callee(s.template_name, s.template_ref, s.pos, who)) {
      CheckArgumentsCover(*callee, s.arguments, s.pos, who);
    }
    if (!s.on_exit.empty() && effective_->FindTemplate(s.on_exit) == nullptr) {
      ReportError(s.pos,
                  who + " has onExit template " + Quote(s.on_exit) + ", which " + NotDefinedHere());
    }
    for (const LifecycleHook& h : s.hooks) CheckHook(h, s.pos, who + " hook " + Quote(h.name));
  }

  void CheckHook(const LifecycleHook& h, const Pos& pos, const std::string& who) {
    if (const Template* callee = Callee(h.template_name, h.template_ref, pos, who)) {
      CheckArgumentsCover(*callee, h.arguments, pos, who);
    }
    if (h.name != "exit" && h.expression.empty()) {
      ReportError(pos, who +
                           " has no expression: a hook other than exit runs when its "
                           "expression becomes true, e.g. expression: steps.NAME.status == "
                           "\"Running\"");
    }
  }

  void CheckInputReferences(const Template& t) {
    std::set<std::string> used;
    ForEachText(t, [&](const std::string& text) { InputParameterRefs(text, used); });
    for (const std::string& name : used) {
      const bool declared = std::any_of(t.inputs.parameters.begin(), t.inputs.parameters.end(),
                                        [&](const Parameter& p) { return p.name == name; });
      if (!declared) {
        ReportError(t.pos, "template " + Quote(t.name) + " uses {{inputs.parameters." + name +
                               "}} but declares no input parameter " + Quote(name) +
                               ": add it under inputs.parameters or fix the name");
      }
    }
  }

  const Workflow& wf_;
  const Catalog& catalog_;
  const Workflow* effective_ = nullptr;  // wf_, or wf_ merged with its workflowTemplateRef
  Workflow merged_;
  std::set<std::string> defined_;
  std::vector<Diagnostic> out_;
  std::map<std::string, std::pair<PrometheusMetric::Type, std::string>> metric_kinds_;
};

}  // namespace

std::string Diagnostic::ToString() const {
  return pos.ToString() + (severity == Severity::kError ? ": error: " : ": warning: ") + message;
}

std::vector<Diagnostic> Lint(const Workflow& wf, const Catalog& catalog) {
  std::vector<Diagnostic> out = Linter(wf, catalog).Run();
  std::stable_sort(out.begin(), out.end(), [](const Diagnostic& a, const Diagnostic& b) {
    return std::tie(a.pos.file, a.pos.line, a.pos.col) <
           std::tie(b.pos.file, b.pos.line, b.pos.col);
  });
  return out;
}

}  // namespace hubspoke::spec
