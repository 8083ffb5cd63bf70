#include "spec/loader.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <utility>

#include "cron/schedule.h"
#include "cron/time_zone.h"

namespace hubspoke::spec {
namespace {

using json = nlohmann::json;

// yaml-cpp reports through exceptions; inside this adapter a bad field does too (LoadFailure), and
// the public entry points turn both into Error values.
struct LoadFailure {
  Error error;
};

constexpr const char* kWorkflowKinds[] = {"Workflow", "WorkflowTemplate", "ClusterWorkflowTemplate",
                                          "CronWorkflow"};

bool IsWorkflowKind(const std::string& kind) {
  return std::find(std::begin(kWorkflowKinds), std::end(kWorkflowKinds), kind) !=
         std::end(kWorkflowKinds);
}

const char* ShapeName(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a map";
    case YAML::NodeType::Scalar:
      return "a scalar";
    default:
      return "nothing";
  }
}

// Plain (unquoted) scalars are typed as YAML 1.2's core schema types them; quoted ones are strings.
json ScalarToJson(const YAML::Node& n) {
  const std::string& s = n.Scalar();
  if (n.Tag() == "!") return s;
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return nullptr;
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  static const std::regex kInt("[-+]?[0-9]+");
  static const std::regex kFloat(R"([-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?)");
  if (std::regex_match(s, kInt)) {
    json j = json::parse(s[0] == '+' ? s.substr(1) : s, nullptr, false);
    if (!j.is_discarded()) return j;
  }
  if (std::regex_match(s, kFloat)) {
    std::string t = s[0] == '+' ? s.substr(1) : s;
    if (t[0] == '.') t = "0" + t;
    if (t.size() > 1 && t[0] == '-' && t[1] == '.') t = "-0" + t.substr(1);
    if (t.back() == '.') t += "0";
    json j = json::parse(t, nullptr, false);
    if (!j.is_discarded()) return j;
  }
  return s;
}

json ToJson(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Sequence: {
      json arr = json::array();
      for (const YAML::Node& item : n) arr.push_back(ToJson(item));
      return arr;
    }
    case YAML::NodeType::Map: {
      json obj = json::object();
      for (auto it = n.begin(); it != n.end(); ++it) {
        obj[it->first.Scalar()] = ToJson(it->second);
      }
      return obj;
    }
    case YAML::NodeType::Scalar:
      return ScalarToJson(n);
    default:
      return nullptr;
  }
}

// n[key] when n is a map holding key, otherwise a null node: never yaml-cpp's invalid "zombie"
// node, on which most calls throw.
YAML::Node Get(const YAML::Node& n, const char* key) {
  if (!n.IsDefined() || !n.IsMap()) return YAML::Node();
  YAML::Node v = n[key];
  return v.IsDefined() ? v : YAML::Node();
}

bool Has(const YAML::Node& n, const char* key) {
  return n.IsDefined() && n.IsMap() && n[key].IsDefined();
}

// Converts one YAML document into a Workflow. Every method may throw LoadFailure.
class DocReader {
 public:
  explicit DocReader(std::string file) : file_(std::move(file)) {}

  Pos PosOf(const YAML::Node& n) const {
    Pos p;
    p.file = file_;
    if (n.IsDefined() && !n.Mark().is_null()) {
      p.line = n.Mark().line + 1;
      p.col = n.Mark().column + 1;
    }
    return p;
  }

  [[noreturn]] void FailAt(const YAML::Node& n, const std::string& message) const {
    throw LoadFailure{InvalidArgument(message, PosOf(n).ToString())};
  }

  // Every mapping in the document, at any depth, must have distinct keys.
  void CheckDuplicateKeys(const YAML::Node& n) const {
    if (n.IsSequence()) {
      for (const YAML::Node& item : n) CheckDuplicateKeys(item);
    } else if (n.IsMap()) {
      std::map<std::string, YAML::Mark> seen;
      for (auto it = n.begin(); it != n.end(); ++it) {
        if (it->first.IsScalar()) {
          auto [prev, inserted] = seen.emplace(it->first.Scalar(), it->first.Mark());
          if (!inserted) {
            FailAt(it->first, "duplicate key \"" + it->first.Scalar() + "\" (first given at line " +
                                  std::to_string(prev->second.line + 1) + ":" +
                                  std::to_string(prev->second.column + 1) +
                                  "); YAML keeps only one of them: remove or merge the other");
          }
        }
        CheckDuplicateKeys(it->second);
      }
    }
  }

  ConfigMap ReadConfigMap(const YAML::Node& doc) {
    ConfigMap cm;
    cm.pos = PosOf(doc);
    const YAML::Node md = Map(Get(doc, "metadata"), "metadata");
    cm.name = Text(Get(md, "name"), "metadata.name");
    if (cm.name.empty()) FailAt(doc, "a ConfigMap needs metadata.name");
    cm.data = TextMap(Get(doc, "data"), "ConfigMap " + cm.name + " data");
    return cm;
  }

  Workflow ReadDocument(const YAML::Node& doc, const std::string& kind) {
    Workflow wf;
    wf.pos = PosOf(doc);
    wf.kind = kind;
    wf.api_version = Text(Get(doc, "apiVersion"), "apiVersion");
    wf.source_json = ToJson(doc).dump();
    ReadMetadata(Get(doc, "metadata"), wf.metadata);
    YAML::Node spec = Map(Get(doc, "spec"), "spec");
    if (kind == "CronWorkflow") {
      ReadCronSpec(spec, wf.cron);
      spec = Map(Get(spec, "workflowSpec"), "spec.workflowSpec");
    }
    ReadSpec(spec, wf.spec);
    return wf;
  }

 private:
  // --- shape helpers ------------------------------------------------------------------------

  YAML::Node Map(const YAML::Node& n, const std::string& what) const {
    if (n.IsDefined() && !n.IsNull() && !n.IsMap()) {
      FailAt(n, what + " must be a map (key: value lines), got " + ShapeName(n));
    }
    return n;
  }

  YAML::Node List(const YAML::Node& n, const std::string& what) const {
    if (n.IsDefined() && !n.IsNull() && !n.IsSequence()) {
      FailAt(n, what + " must be a list (lines starting with \"- \"), got " + ShapeName(n));
    }
    return n;
  }

  static bool Present(const YAML::Node& n) { return n.IsDefined() && !n.IsNull(); }

  // A scalar as written ("" when absent or null).
  std::string Text(const YAML::Node& n, const std::string& what) const {
    if (!Present(n)) return "";
    if (!n.IsScalar()) {
      FailAt(n, what + " must be a single value (string or number), got " + ShapeName(n) +
                    "; quote it if it is meant as text");
    }
    return n.Scalar();
  }

  // A scalar as written, or a list/map as compact JSON; nullopt when absent or null.
  static std::optional<std::string> AnyText(const YAML::Node& n) {
    if (!Present(n)) return std::nullopt;
    if (n.IsScalar()) return n.Scalar();
    return ToJson(n).dump();
  }

  bool Bool(const YAML::Node& n, const std::string& what) const {
    std::string s = Text(n, what);
    if (s.empty() || s == "false" || s == "False" || s == "FALSE" || s == "no" || s == "off") {
      return false;
    }
    if (s == "true" || s == "True" || s == "TRUE" || s == "yes" || s == "on") return true;
    FailAt(n, what + " must be true or false, got \"" + s + "\"");
  }

  std::optional<bool> OptBool(const YAML::Node& n, const std::string& what) const {
    if (!Present(n)) return std::nullopt;
    return Bool(n, what);
  }

  std::vector<std::string> TextList(const YAML::Node& n, const std::string& what) const {
    std::vector<std::string> out;
    for (const YAML::Node& item : List(n, what)) out.push_back(Text(item, what + " item"));
    return out;
  }

  std::map<std::string, std::string> TextMap(const YAML::Node& n, const std::string& what) const {
    std::map<std::string, std::string> out;
    for (auto it = Map(n, what).begin(); it != n.end(); ++it) {
      out[it->first.Scalar()] = Text(it->second, what + "." + it->first.Scalar());
    }
    return out;
  }

  // The first key of `n` (a map) that is one of `keys`; "" when none.
  static std::string FirstKeyOf(const YAML::Node& n, std::initializer_list<const char*> keys) {
    for (const char* k : keys) {
      if (Has(n, k)) return k;
    }
    return "";
  }

  int64_t Integer(const YAML::Node& n, const std::string& what, int64_t min) const {
    std::string s = Text(n, what);
    if (s.empty() || s.size() > 12 || s.find_first_not_of("0123456789") != std::string::npos ||
        std::stoll(s) < min) {
      FailAt(n, what + " must be a whole number of at least " + std::to_string(min) + ", got \"" +
                    s + "\"");
    }
    return std::stoll(s);
  }

  // spec of a CronWorkflow, every schedule and the time zone checked.
  void ReadCronSpec(const YAML::Node& spec, CronSpec& c) const {
    std::vector<YAML::Node> schedules;
    if (Present(Get(spec, "schedule"))) schedules.push_back(Get(spec, "schedule"));
    for (const YAML::Node& item : List(Get(spec, "schedules"), "spec.schedules")) {
      schedules.push_back(item);
    }
    if (schedules.empty()) FailAt(spec, "a CronWorkflow needs spec.schedule or spec.schedules");
    for (const YAML::Node& n : schedules) {
      std::string text = Text(n, "spec.schedules item");
      auto parsed = cron::Schedule::Parse(text);
      if (!parsed) FailAt(n, parsed.error().message);
      c.schedules.push_back(parsed->text());
    }
    YAML::Node tz = Get(spec, "timezone");
    c.timezone = Text(tz, "spec.timezone");
    if (!c.timezone.empty()) {
      if (auto zone = cron::TimeZone::Load(c.timezone); !zone) FailAt(tz, zone.error().message);
    }
    YAML::Node policy = Get(spec, "concurrencyPolicy");
    if (Present(policy)) {
      c.concurrency_policy = Text(policy, "spec.concurrencyPolicy");
      if (c.concurrency_policy != "Allow" && c.concurrency_policy != "Forbid" &&
          c.concurrency_policy != "Replace") {
        FailAt(policy, "spec.concurrencyPolicy must be Allow, Forbid or Replace, got \"" +
                           c.concurrency_policy + "\"");
      }
    }
    if (YAML::Node n = Get(spec, "startingDeadlineSeconds"); Present(n)) {
      c.starting_deadline_seconds = Integer(n, "spec.startingDeadlineSeconds", 0);
    }
    c.suspend = Bool(Get(spec, "suspend"), "spec.suspend");
    if (YAML::Node n = Get(spec, "successfulJobsHistoryLimit"); Present(n)) {
      c.successful_jobs_history_limit =
          static_cast<int>(Integer(n, "spec.successfulJobsHistoryLimit", 0));
    }
    if (YAML::Node n = Get(spec, "failedJobsHistoryLimit"); Present(n)) {
      c.failed_jobs_history_limit = static_cast<int>(Integer(n, "spec.failedJobsHistoryLimit", 0));
    }
    c.when = Text(Get(spec, "when"), "spec.when");
    YAML::Node meta = Map(Get(spec, "workflowMetadata"), "spec.workflowMetadata");
    c.workflow_metadata.labels = TextMap(Get(meta, "labels"), "spec.workflowMetadata.labels");
    c.workflow_metadata.annotations =
        TextMap(Get(meta, "annotations"), "spec.workflowMetadata.annotations");
  }

  // --- documents ----------------------------------------------------------------------------

  void ReadMetadata(const YAML::Node& n, Metadata& m) const {
    Map(n, "metadata");
    m.name = Text(Get(n, "name"), "metadata.name");
    m.generate_name = Text(Get(n, "generateName"), "metadata.generateName");
    m.namespace_ = Text(Get(n, "namespace"), "metadata.namespace");
    m.labels = TextMap(Get(n, "labels"), "metadata.labels");
    m.annotations = TextMap(Get(n, "annotations"), "metadata.annotations");
  }

  void ReadSpec(const YAML::Node& n, WorkflowSpec& spec) {
    spec.entrypoint = Text(Get(n, "entrypoint"), "spec.entrypoint");
    spec.arguments = ReadArguments(Get(n, "arguments"), "spec.arguments");
    spec.parallelism = Text(Get(n, "parallelism"), "spec.parallelism");
    spec.on_exit = Text(Get(n, "onExit"), "spec.onExit");
    spec.active_deadline_seconds =
        Text(Get(n, "activeDeadlineSeconds"), "spec.activeDeadlineSeconds");
    if (Present(Get(n, "workflowTemplateRef"))) {
      const YAML::Node ref = Map(Get(n, "workflowTemplateRef"), "spec.workflowTemplateRef");
      TemplateRef r;
      r.name = Text(Get(ref, "name"), "spec.workflowTemplateRef.name");
      r.cluster_scope = Bool(Get(ref, "clusterScope"), "spec.workflowTemplateRef.clusterScope");
      spec.workflow_template_ref = r;
    }
    if (Present(Get(n, "retryStrategy"))) {
      spec.retry_strategy = ReadRetry(Get(n, "retryStrategy"), "spec.retryStrategy");
    }
    spec.node_selector = TextMap(Get(n, "nodeSelector"), "spec.nodeSelector");
    spec.metrics = ReadMetrics(Get(n, "metrics"), "spec.metrics");
    spec.hooks = ReadHooks(Get(n, "hooks"), "spec.hooks");
    spec.volumes = ReadVolumes(Get(n, "volumes"), "spec.volumes");
    for (const Volume& v : spec.volumes) {
      if (v.source == "emptyDir") spec.volume_names.push_back(v.name);
    }
    for (const YAML::Node& claim :
         List(Get(n, "volumeClaimTemplates"), "spec.volumeClaimTemplates")) {
      Map(claim, "spec.volumeClaimTemplates item");
      Volume v;
      v.name = Text(Map(Get(claim, "metadata"), "volumeClaimTemplates metadata")["name"],
                    "volumeClaimTemplates metadata.name");
      v.source = "volumeClaimTemplate";
      v.pos = PosOf(claim);
      spec.volumes.push_back(v);
    }
    spec.synchronization = ReadSynchronization(Get(n, "synchronization"), "spec.synchronization");

    const YAML::Node templates = Get(n, "templates");
    if (Present(templates) && !templates.IsSequence()) {
      FailAt(templates, std::string("spec.templates must be a list of templates (each \"- name: "
                                    "...\"), got ") +
                            ShapeName(templates));
    }
    int index = 0;
    for (const YAML::Node& t : templates) {
      spec.templates.push_back(ReadTemplate(t, "spec.templates[" + std::to_string(index++) + "]"));
    }
    for (Template& t : hoisted_) spec.templates.push_back(std::move(t));
    hoisted_.clear();

    if (Present(Get(n, "templateDefaults"))) {
      const Template defaults = ReadTemplate(Get(n, "templateDefaults"), "spec.templateDefaults");
      for (Template& t : spec.templates) MergeDefaults(defaults, t);
    }
  }

  // --- templates ----------------------------------------------------------------------------

  Template ReadTemplate(const YAML::Node& n, const std::string& where) {
    if (!n.IsMap()) FailAt(n, where + " must be a map with name and a template type");
    Template t;
    t.pos = PosOf(n);
    t.name = Text(Get(n, "name"), where + ".name");
    const std::string what = t.name.empty() ? where : "template \"" + t.name + "\"";
    t.inputs.parameters =
        ReadParameters(Get(Get(n, "inputs"), "parameters"), what + " inputs.parameters");
    Map(Get(n, "inputs"), what + " inputs");
    Map(Get(n, "outputs"), what + " outputs");
    t.inputs.artifacts =
        ReadArtifacts(Get(Get(n, "inputs"), "artifacts"), what + " inputs.artifacts");
    t.outputs.parameters =
        ReadParameters(Get(Get(n, "outputs"), "parameters"), what + " outputs.parameters");
    t.outputs.artifacts =
        ReadArtifacts(Get(Get(n, "outputs"), "artifacts"), what + " outputs.artifacts");
    t.outputs.result = Text(Get(Get(n, "outputs"), "result"), what + " outputs.result");

    std::vector<std::string> types;
    for (const char* key : {"container", "script", "steps", "dag", "resource", "suspend", "http",
                            "data", "plugin", "containerSet"}) {
      if (Has(n, key)) types.push_back(key);
    }
    if (types.size() > 1) {
      FailAt(n, what + " has several template types (" + types[0] + " and " + types[1] +
                    "); a template has exactly one: split it into two templates");
    }
    const std::string type = types.empty() ? "" : types[0];
    if (type == "container") {
      t.kind = Template::Kind::kContainer;
      t.container = ReadContainer(Get(n, "container"), what + " container", t);
    } else if (type == "script") {
      t.kind = Template::Kind::kScript;
      Script s;
      s.container = ReadContainer(Get(n, "script"), what + " script", t);
      s.source = Text(Get(Get(n, "script"), "source"), what + " script.source");
      t.script = s;
    } else if (type == "steps") {
      t.kind = Template::Kind::kSteps;
      ReadSteps(Get(n, "steps"), what, t);
    } else if (type == "dag") {
      t.kind = Template::Kind::kDag;
      t.dag = ReadDag(Get(n, "dag"), what, t.name);
    } else if (type == "resource") {
      t.kind = Template::Kind::kResource;
      t.resource = ReadResource(Get(n, "resource"), what);
    } else if (type == "suspend") {
      t.kind = Template::Kind::kSuspend;
      Map(Get(n, "suspend"), what + " suspend");
      t.suspend = Suspend{Text(Get(Get(n, "suspend"), "duration"), what + " suspend.duration")};
    } else if (type == "containerSet") {
      t.kind = Template::Kind::kContainerSet;
      t.container_set = ReadContainerSet(Get(n, "containerSet"), what + " containerSet", t);
    } else if (type == "data") {
      t.kind = Template::Kind::kData;
      t.data = ReadData(Get(n, "data"), what + " data");
    } else if (!type.empty()) {
      t.kind = Template::Kind::kUnsupported;
      t.unsupported_kind = type;
    }

    t.parallelism = Text(Get(n, "parallelism"), what + " parallelism");
    t.fail_fast = OptBool(Get(n, "failFast"), what + " failFast");
    t.active_deadline_seconds =
        Text(Get(n, "activeDeadlineSeconds"), what + " activeDeadlineSeconds");
    t.timeout = Text(Get(n, "timeout"), what + " timeout");
    if (Present(Get(n, "retryStrategy"))) {
      t.retry_strategy = ReadRetry(Get(n, "retryStrategy"), what + " retryStrategy");
    }
    t.node_selector = TextMap(Get(n, "nodeSelector"), what + " nodeSelector");
    for (const YAML::Node& c : List(Get(n, "sidecars"), what + " sidecars")) {
      t.sidecars.push_back(ReadContainer(c, what + " sidecar", t));
    }
    t.daemon = Bool(Get(n, "daemon"), what + " daemon");
    t.synchronization = ReadSynchronization(Get(n, "synchronization"), what + " synchronization");
    if (Present(Get(n, "memoize"))) {
      const YAML::Node m = Map(Get(n, "memoize"), what + " memoize");
      Memoize memo;
      memo.pos = PosOf(m);
      memo.key = Text(Get(m, "key"), what + " memoize.key");
      memo.max_age = Text(Get(m, "maxAge"), what + " memoize.maxAge");
      const YAML::Node cache = Map(Get(m, "cache"), what + " memoize.cache");
      memo.cache =
          Text(Get(Map(Get(cache, "configMap"), what + " memoize.cache.configMap"), "name"),
               what + " memoize.cache.configMap.name");
      t.memoize = memo;
    }
    t.volumes = ReadVolumes(Get(n, "volumes"), what + " volumes");
    t.metrics = ReadMetrics(Get(n, "metrics"), what + " metrics");
    return t;
  }

  // metrics.prometheus: the shape only; names, buckets and values are linted.
  std::vector<PrometheusMetric> ReadMetrics(const YAML::Node& n, const std::string& what) const {
    std::vector<PrometheusMetric> out;
    Map(n, what);
    const std::string where = what + ".prometheus";
    for (const YAML::Node& m : List(Get(n, "prometheus"), where)) {
      Map(m, where + " item");
      PrometheusMetric pm;
      pm.pos = PosOf(m);
      pm.name = Text(Get(m, "name"), where + ".name");
      const std::string item = pm.name.empty() ? where + " item" : "metric \"" + pm.name + "\"";
      pm.help = Text(Get(m, "help"), item + " help");
      pm.when = Text(Get(m, "when"), item + " when");
      for (const YAML::Node& l : List(Get(m, "labels"), item + " labels")) {
        Map(l, item + " label");
        pm.labels.push_back({Text(Get(l, "key"), item + " label key"),
                             Text(Get(l, "value"), item + " label value"), PosOf(l)});
      }
      const std::pair<const char*, PrometheusMetric::Type> types[] = {
          {"gauge", PrometheusMetric::Type::kGauge},
          {"counter", PrometheusMetric::Type::kCounter},
          {"histogram", PrometheusMetric::Type::kHistogram}};
      for (const auto& [key, type] : types) {
        if (!Present(Get(m, key))) continue;
        const YAML::Node body = Map(Get(m, key), item + " " + key);
        ++pm.type_count;
        pm.type = type;
        pm.value = Text(Get(body, "value"), item + " " + key + ".value");
        if (type == PrometheusMetric::Type::kGauge) {
          pm.realtime = Bool(Get(body, "realtime"), item + " gauge.realtime");
        }
        if (type == PrometheusMetric::Type::kHistogram) {
          pm.buckets = TextList(Get(body, "buckets"), item + " histogram.buckets");
        }
      }
      out.push_back(std::move(pm));
    }
    return out;
  }

  Container ReadContainer(const YAML::Node& n, const std::string& what, Template& owner) const {
    if (!n.IsMap()) FailAt(n, what + " must be a map (image, command, args, ...)");
    Container c;
    c.image = Text(Get(n, "image"), what + ".image");
    c.command = TextList(Get(n, "command"), what + ".command");
    c.args = TextList(Get(n, "args"), what + ".args");
    c.working_dir = Text(Get(n, "workingDir"), what + ".workingDir");
    c.name = Text(Get(n, "name"), what + ".name");
    for (const YAML::Node& e : List(Get(n, "env"), what + ".env")) {
      Map(e, what + ".env item");
      EnvVar var;
      var.name = Text(Get(e, "name"), what + ".env.name");
      var.value = Text(Get(e, "value"), what + ".env " + var.name + ".value");
      var.pos = PosOf(e);
      if (Present(Get(e, "valueFrom"))) {
        var.from_source = true;
        var.from_kind =
            FirstKeyOf(Map(Get(e, "valueFrom"), what + ".env.valueFrom"),
                       {"secretKeyRef", "configMapKeyRef", "fieldRef", "resourceFieldRef"});
      }
      c.env.push_back(var);
    }
    for (const YAML::Node& m : List(Get(n, "volumeMounts"), what + ".volumeMounts")) {
      Map(m, what + ".volumeMounts item");
      owner.volume_mounts.push_back(Text(Get(m, "mountPath"), what + ".volumeMounts.mountPath"));
    }
    return c;
  }

  // Reads the containers and orders them so that each follows its dependencies (stable otherwise).
  ContainerSet ReadContainerSet(const YAML::Node& n, const std::string& what,
                                Template& owner) const {
    Map(n, what);
    for (const YAML::Node& m : List(Get(n, "volumeMounts"), what + ".volumeMounts")) {
      Map(m, what + ".volumeMounts item");
      owner.volume_mounts.push_back(Text(Get(m, "mountPath"), what + ".volumeMounts.mountPath"));
    }
    std::vector<Container> pending;
    std::vector<YAML::Node> nodes;
    std::set<std::string> names;
    for (const YAML::Node& c : List(Get(n, "containers"), what + ".containers")) {
      Container container = ReadContainer(c, what + " container", owner);
      if (container.name.empty()) FailAt(c, what + ": every container needs a name");
      if (!names.insert(container.name).second) {
        FailAt(c, what + ": two containers are named \"" + container.name + "\"");
      }
      container.dependencies = TextList(Get(c, "dependencies"), what + " container.dependencies");
      pending.push_back(std::move(container));
      nodes.push_back(c);
    }
    if (pending.empty()) FailAt(n, what + " has no containers");
    for (size_t i = 0; i < pending.size(); ++i) {
      for (const std::string& dep : pending[i].dependencies) {
        if (!names.contains(dep)) {
          FailAt(nodes[i], what + ": container \"" + pending[i].name + "\" depends on \"" + dep +
                               "\", which is not in the set");
        }
      }
    }
    ContainerSet set;
    std::set<std::string> placed;
    while (!pending.empty()) {
      auto ready = std::find_if(pending.begin(), pending.end(), [&](const Container& c) {
        return std::all_of(c.dependencies.begin(), c.dependencies.end(),
                           [&](const std::string& d) { return placed.contains(d); });
      });
      if (ready == pending.end()) {
        FailAt(n, what + ": the dependencies of container \"" + pending.front().name +
                      "\" form a cycle");
      }
      placed.insert(ready->name);
      set.containers.push_back(std::move(*ready));
      pending.erase(ready);
    }
    return set;
  }

  void ReadSteps(const YAML::Node& n, const std::string& what, Template& t) {
    if (!n.IsSequence()) {
      FailAt(n, what + ": steps must be a list of step groups (\"- - name: ...\"), got " +
                    ShapeName(n));
    }
    int g = 0;
    for (const YAML::Node& group : n) {
      ++g;
      if (group.IsMap()) {
        FailAt(group, what + ": steps group " + std::to_string(g) +
                          " is a single step, but steps is a list of lists (each group runs in "
                          "parallel): write it as \"- - name: ...\"");
      }
      if (!group.IsSequence()) {
        FailAt(group, what + ": steps group " + std::to_string(g) +
                          " must be a list of steps, got " + ShapeName(group));
      }
      std::vector<Step> steps;
      for (const YAML::Node& s : group) steps.push_back(ReadStep(s, what, t.name, false));
      t.steps.push_back(std::move(steps));
    }
  }

  Dag ReadDag(const YAML::Node& n, const std::string& what, const std::string& parent) {
    if (!n.IsMap()) FailAt(n, what + ": dag must be a map with tasks");
    Dag d;
    d.target = Text(Get(n, "target"), what + " dag.target");
    d.fail_fast = OptBool(Get(n, "failFast"), what + " dag.failFast");
    const YAML::Node tasks = Get(n, "tasks");
    if (!tasks.IsSequence()) {
      FailAt(
          Present(tasks) ? tasks : n,
          what + ": dag.tasks must be a list of tasks (\"- name: ...\"), got " + ShapeName(tasks));
    }
    for (const YAML::Node& task : tasks) d.tasks.push_back(ReadStep(task, what, parent, true));
    return d;
  }

  Step ReadStep(const YAML::Node& n, const std::string& owner, const std::string& parent,
                bool task) {
    const std::string kind = task ? "task" : "step";
    if (!n.IsMap()) FailAt(n, owner + ": a " + kind + " must be a map with name and template");
    Step s;
    s.pos = PosOf(n);
    s.name = Text(Get(n, "name"), owner + " " + kind + ".name");
    const std::string what = owner + " " + kind + " \"" + s.name + "\"";
    s.template_name = Text(Get(n, "template"), what + " template");
    s.template_ref = ReadTemplateRef(Get(n, "templateRef"), what + " templateRef");
    if (Present(Get(n, "inline"))) {
      Template inl = ReadTemplate(Get(n, "inline"), what + " inline");
      inl.name = parent + "." + s.name + "@inline";
      s.template_name = inl.name;
      hoisted_.push_back(std::move(inl));
    }
    s.arguments = ReadArguments(Get(n, "arguments"), what + " arguments");
    s.when = Text(Get(n, "when"), what + " when");
    if (Present(Get(n, "withItems"))) {
      if (!Get(n, "withItems").IsSequence()) {
        FailAt(Get(n, "withItems"),
               what + ": withItems must be a list of items, got " + ShapeName(Get(n, "withItems")) +
                   "; to loop over a JSON list held in a parameter use withParam");
      }
      s.with_items = ToJson(Get(n, "withItems")).dump();
    }
    s.with_param = Text(Get(n, "withParam"), what + " withParam");
    if (Present(Get(n, "withSequence"))) {
      const YAML::Node q = Map(Get(n, "withSequence"), what + " withSequence");
      s.with_sequence = Sequence{Text(Get(q, "count"), what + " withSequence.count"),
                                 Text(Get(q, "start"), what + " withSequence.start"),
                                 Text(Get(q, "end"), what + " withSequence.end"),
                                 Text(Get(q, "format"), what + " withSequence.format")};
    }
    const YAML::Node cont = Map(Get(n, "continueOn"), what + " continueOn");
    s.continue_on.failed = Bool(Get(cont, "failed"), what + " continueOn.failed");
    s.continue_on.error = Bool(Get(cont, "error"), what + " continueOn.error");
    s.on_exit = Text(Get(n, "onExit"), what + " onExit");
    s.hooks = ReadHooks(Get(n, "hooks"), what + " hooks");
    s.dependencies = TextList(Get(n, "dependencies"), what + " dependencies");
    s.depends = Text(Get(n, "depends"), what + " depends");
    return s;
  }

  std::optional<TemplateRef> ReadTemplateRef(const YAML::Node& n, const std::string& what) const {
    if (!Present(n)) return std::nullopt;
    Map(n, what);
    TemplateRef r;
    r.name = Text(Get(n, "name"), what + ".name");
    r.template_name = Text(Get(n, "template"), what + ".template");
    r.cluster_scope = Bool(Get(n, "clusterScope"), what + ".clusterScope");
    return r;
  }

  std::vector<LifecycleHook> ReadHooks(const YAML::Node& n, const std::string& what) const {
    std::vector<LifecycleHook> hooks;
    for (auto it = Map(n, what).begin(); it != n.end(); ++it) {
      const YAML::Node h = Map(it->second, what + "." + it->first.Scalar());
      LifecycleHook hook;
      hook.name = it->first.Scalar();
      const std::string hw = what + "." + hook.name;
      hook.template_name = Text(Get(h, "template"), hw + ".template");
      hook.template_ref = ReadTemplateRef(Get(h, "templateRef"), hw + ".templateRef");
      hook.arguments = ReadArguments(Get(h, "arguments"), hw + ".arguments");
      hook.expression = Text(Get(h, "expression"), hw + ".expression");
      hooks.push_back(hook);
    }
    return hooks;
  }

  Resource ReadResource(const YAML::Node& n, const std::string& what) const {
    if (!n.IsMap()) FailAt(n, what + ": resource must be a map with action and manifest");
    Resource r;
    r.action = Text(Get(n, "action"), what + " resource.action");
    r.manifest = Text(Get(n, "manifest"), what + " resource.manifest");
    r.manifest_pos = PosOf(Present(Get(n, "manifest")) ? Get(n, "manifest") : n);
    r.success_condition = Text(Get(n, "successCondition"), what + " resource.successCondition");
    r.failure_condition = Text(Get(n, "failureCondition"), what + " resource.failureCondition");
    r.set_owner_reference = Bool(Get(n, "setOwnerReference"), what + " resource.setOwnerReference");
    return r;
  }

  RetryStrategy ReadRetry(const YAML::Node& n, const std::string& what) const {
    Map(n, what);
    RetryStrategy r;
    r.pos = PosOf(n);
    r.limit = Text(Get(n, "limit"), what + ".limit");
    r.retry_policy = Text(Get(n, "retryPolicy"), what + ".retryPolicy");
    r.expression = Text(Get(n, "expression"), what + ".expression");
    if (Present(Get(n, "backoff"))) {
      const YAML::Node b = Map(Get(n, "backoff"), what + ".backoff");
      r.backoff = Backoff{Text(Get(b, "duration"), what + ".backoff.duration"),
                          Text(Get(b, "factor"), what + ".backoff.factor"),
                          Text(Get(b, "maxDuration"), what + ".backoff.maxDuration"),
                          Text(Get(b, "cap"), what + ".backoff.cap")};
    }
    return r;
  }

  std::optional<Synchronization> ReadSynchronization(const YAML::Node& n,
                                                     const std::string& what) const {
    if (!Present(n)) return std::nullopt;
    Map(n, what);
    Synchronization s;
    // Before Argo 3.6 one `mutex`/`semaphore`; since then lists `mutexes`/`semaphores`.
    YAML::Node mutex = Get(n, "mutex");
    if (!Present(mutex) && List(Get(n, "mutexes"), what + ".mutexes").size() > 0)
      mutex = Get(n, "mutexes")[0];
    if (Present(mutex)) s.mutex = Text(Map(mutex, what + ".mutex")["name"], what + ".mutex.name");
    YAML::Node sem = Get(n, "semaphore");
    if (!Present(sem) && List(Get(n, "semaphores"), what + ".semaphores").size() > 0) {
      sem = Get(n, "semaphores")[0];
    }
    if (Present(sem)) {
      const YAML::Node ref = Map(Map(sem, what + ".semaphore")["configMapKeyRef"],
                                 what + ".semaphore.configMapKeyRef");
      s.semaphore = Text(Get(ref, "name"), what + ".semaphore.configMapKeyRef.name") + "/" +
                    Text(Get(ref, "key"), what + ".semaphore.configMapKeyRef.key");
    }
    return s;
  }

  std::vector<Volume> ReadVolumes(const YAML::Node& n, const std::string& what) const {
    std::vector<Volume> out;
    for (const YAML::Node& v : List(n, what)) {
      Map(v, what + " item");
      Volume vol;
      vol.name = Text(Get(v, "name"), what + ".name");
      vol.pos = PosOf(v);
      for (auto it = v.begin(); it != v.end(); ++it) {
        if (it->first.Scalar() != "name") {
          vol.source = it->first.Scalar();
          break;
        }
      }
      out.push_back(vol);
    }
    return out;
  }

  // --- parameters and artifacts --------------------------------------------------------------

  Arguments ReadArguments(const YAML::Node& n, const std::string& what) const {
    Map(n, what);
    Arguments a;
    a.parameters = ReadParameters(Get(n, "parameters"), what + ".parameters");
    a.artifacts = ReadArtifacts(Get(n, "artifacts"), what + ".artifacts");
    return a;
  }

  std::vector<Parameter> ReadParameters(const YAML::Node& n, const std::string& what) const {
    std::vector<Parameter> out;
    for (const YAML::Node& p : List(n, what)) {
      if (!p.IsMap()) FailAt(p, what + " items must be maps (- name: x\\n  value: y)");
      Parameter param;
      param.pos = PosOf(p);
      param.name = Text(Get(p, "name"), what + ".name");
      const std::string pw = what + " \"" + param.name + "\"";
      param.value = AnyText(Get(p, "value"));
      param.default_value = AnyText(Get(p, "default"));
      for (const YAML::Node& e : List(Get(p, "enum"), pw + ".enum")) {
        param.enum_values.push_back(AnyText(e).value_or(""));
      }
      param.description = Text(Get(p, "description"), pw + ".description");
      param.global_name = Text(Get(p, "globalName"), pw + ".globalName");
      if (Present(Get(p, "valueFrom"))) {
        const YAML::Node v = Map(Get(p, "valueFrom"), pw + ".valueFrom");
        ValueFrom vf;
        vf.path = Text(Get(v, "path"), pw + ".valueFrom.path");
        vf.json_path = Text(Get(v, "jsonPath"), pw + ".valueFrom.jsonPath");
        vf.expression = Text(Get(v, "expression"), pw + ".valueFrom.expression");
        vf.parameter = Text(Get(v, "parameter"), pw + ".valueFrom.parameter");
        vf.default_value = AnyText(Get(v, "default"));
        vf.supplied = Has(v, "supplied");
        vf.config_map = Has(v, "configMapKeyRef");
        if (vf.config_map) {
          const YAML::Node ref = Map(Get(v, "configMapKeyRef"), pw + ".valueFrom.configMapKeyRef");
          vf.config_map_name = Text(Get(ref, "name"), pw + ".valueFrom.configMapKeyRef.name");
          vf.config_map_key = Text(Get(ref, "key"), pw + ".valueFrom.configMapKeyRef.key");
        }
        vf.event = Has(v, "event");
        param.value_from = vf;
      }
      out.push_back(param);
    }
    return out;
  }

  std::vector<Artifact> ReadArtifacts(const YAML::Node& n, const std::string& what) const {
    std::vector<Artifact> out;
    for (const YAML::Node& a : List(n, what)) {
      if (!a.IsMap()) FailAt(a, what + " items must be maps (- name: x\\n  path: /p)");
      out.push_back(ReadArtifact(a, what));
    }
    return out;
  }

  Artifact ReadArtifact(const YAML::Node& a, const std::string& what) const {
    Artifact art;
    art.pos = PosOf(a);
    art.name = Text(Get(a, "name"), what + ".name");
    const std::string aw = what + " \"" + art.name + "\"";
    art.path = Text(Get(a, "path"), aw + ".path");
    art.from = Text(Get(a, "from"), aw + ".from");
    art.from_expression = Text(Get(a, "fromExpression"), aw + ".fromExpression");
    art.sub_path = Text(Get(a, "subPath"), aw + ".subPath");
    if (Present(Get(a, "raw")))
      art.raw = Text(Map(Get(a, "raw"), aw + ".raw")["data"], aw + ".raw.data");
    art.optional = Bool(Get(a, "optional"), aw + ".optional");
    art.archive = FirstKeyOf(Map(Get(a, "archive"), aw + ".archive"), {"none", "tar", "zip"});
    art.global_name = Text(Get(a, "globalName"), aw + ".globalName");
    const std::string source = FirstKeyOf(
        a, {"s3", "gcs", "http", "git", "oss", "azure", "hdfs", "artifactory", "plugin"});
    if (!source.empty()) {
      const YAML::Node src = Get(a, source.c_str());
      const bool key_only =
          src.IsMap() && src.size() == 1 && Has(src, "key") && source != "http" && source != "git";
      if (key_only) {
        art.repository_key = Text(Get(src, "key"), aw + "." + source + ".key");
      } else {
        art.unsupported_source = source;
      }
    }
    return art;
  }

  // data: {source: {artifactPaths: ARTIFACT}, transformation: [{expression: E}, ...]}. The
  // artifact names a place in the default repository: a bucket store source with at most a
  // `bucket` (the default repository's) and a `key` (the prefix to list).
  Data ReadData(const YAML::Node& n, const std::string& what) const {
    Map(n, what);
    Data d;
    d.pos = PosOf(n);
    const YAML::Node source = Map(Get(n, "source"), what + ".source");
    const YAML::Node paths = Map(Get(source, "artifactPaths"), what + ".source.artifactPaths");
    if (Present(paths)) {
      d.source = ReadArtifact(paths, what + ".source.artifactPaths");
      const std::string kind = d.source.unsupported_source;
      const YAML::Node src = kind.empty() ? YAML::Node() : Get(paths, kind.c_str());
      bool repository = !kind.empty() && kind != "http" && kind != "git" && src.IsMap();
      for (auto it = src.begin(); repository && it != src.end(); ++it) {
        const std::string key = it->first.Scalar();
        repository = key == "bucket" || key == "key";
      }
      if (repository) {
        d.source.repository_key = Text(Get(src, "key"), what + ".source.artifactPaths.key");
        d.source.unsupported_source.clear();
      }
    }
    for (const YAML::Node& t : List(Get(n, "transformation"), what + ".transformation")) {
      Map(t, what + ".transformation item");
      d.transformations.push_back(Text(Get(t, "expression"), what + ".transformation.expression"));
    }
    return d;
  }

  // --- templateDefaults ----------------------------------------------------------------------

  static void MergeContainerDefaults(const Container& d, Container& c) {
    if (c.image.empty()) c.image = d.image;
    if (c.command.empty()) c.command = d.command;
    if (c.args.empty()) c.args = d.args;
    if (c.working_dir.empty()) c.working_dir = d.working_dir;
    for (const EnvVar& e : d.env) {
      const bool has = std::any_of(c.env.begin(), c.env.end(),
                                   [&](const EnvVar& x) { return x.name == e.name; });
      if (!has) c.env.push_back(e);
    }
  }

  // Fills what `t` leaves unset from spec.templateDefaults; the template's type never changes.
  static void MergeDefaults(const Template& d, Template& t) {
    if (d.container && t.container) MergeContainerDefaults(*d.container, *t.container);
    if (d.script && t.script) {
      MergeContainerDefaults(d.script->container, t.script->container);
      if (t.script->source.empty()) t.script->source = d.script->source;
    }
    if (!t.retry_strategy) t.retry_strategy = d.retry_strategy;
    if (t.timeout.empty()) t.timeout = d.timeout;
    if (t.active_deadline_seconds.empty()) t.active_deadline_seconds = d.active_deadline_seconds;
    if (t.parallelism.empty()) t.parallelism = d.parallelism;
    if (!t.fail_fast) t.fail_fast = d.fail_fast;
    for (const auto& [k, v] : d.node_selector) t.node_selector.emplace(k, v);
    if (t.sidecars.empty()) t.sidecars = d.sidecars;
    if (!t.synchronization) t.synchronization = d.synchronization;
    t.daemon = t.daemon || d.daemon;
  }

  std::string file_;
  std::vector<Template> hoisted_;  // inline templates of the spec being read
};

Pos DocPos(const std::string& file, const YAML::Node& doc) {
  Pos p{file, 0, 0};
  if (!doc.Mark().is_null()) {
    p.line = doc.Mark().line + 1;
    p.col = doc.Mark().column + 1;
  }
  return p;
}

Result<LoadedFile> LoadDocuments(std::string_view yaml, const std::string& file_name) {
  LoadedFile out;
  try {
    const std::vector<YAML::Node> docs = YAML::LoadAll(std::string(yaml));
    for (const YAML::Node& doc : docs) {
      if (!doc.IsDefined() || doc.IsNull()) continue;
      DocReader reader(file_name);
      if (!doc.IsMap()) {
        reader.FailAt(doc, std::string("a manifest must be a map with apiVersion, kind, metadata "
                                       "and spec, got ") +
                               ShapeName(doc));
      }
      reader.CheckDuplicateKeys(doc);
      const YAML::Node kind_node = Get(doc, "kind");
      if (!kind_node.IsScalar() || kind_node.Scalar().empty()) {
        reader.FailAt(doc,
                      "missing \"kind\": add \"kind: Workflow\" (or WorkflowTemplate, "
                      "ClusterWorkflowTemplate, CronWorkflow) at the top of the document");
      }
      const std::string kind = kind_node.Scalar();
      if (kind == "ConfigMap") {
        out.config_maps.push_back(reader.ReadConfigMap(doc));
        continue;
      }
      if (!IsWorkflowKind(kind)) {
        const YAML::Node md = Get(doc, "metadata");
        std::string name;
        if (md.IsMap() && Get(md, "name").IsScalar()) name = Get(md, "name").Scalar();
        if (name.empty() && md.IsMap() && Get(md, "generateName").IsScalar()) {
          name = Get(md, "generateName").Scalar();
        }
        out.skipped.push_back(DocPos(file_name, doc).ToString() + ": skipped " + kind + "/" + name +
                              " (not a workflow)");
        continue;
      }
      out.workflows.push_back(reader.ReadDocument(doc, kind));
    }
  } catch (const LoadFailure& f) {
    return f.error;
  } catch (const YAML::Exception& e) {
    Pos p{file_name, e.mark.is_null() ? 0 : e.mark.line + 1,
          e.mark.is_null() ? 0 : e.mark.column + 1};
    return InvalidArgument("YAML syntax error: " + e.msg +
                               " (check indentation, unbalanced quotes or brackets, and quote "
                               "values that start with { or [ such as \"{{...}}\")",
                           p.ToString());
  } catch (const std::exception& e) {
    return InvalidArgument(std::string("cannot load: ") + e.what(), file_name);
  }
  return out;
}

}  // namespace

Result<LoadedFile> LoadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return IoError("cannot open file: check the path and its permissions", path);
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return IoError("cannot read file", path);
  return LoadDocuments(text.str(), path);
}

Result<LoadedFile> LoadString(std::string_view yaml, const std::string& file_name) {
  return LoadDocuments(yaml, file_name);
}

Result<Workflow> LoadManifest(std::string_view yaml, const std::string& where) {
  Result<LoadedFile> loaded = LoadDocuments(yaml, where);
  if (!loaded.ok()) return loaded.error();
  if (!loaded->config_maps.empty()) {
    loaded->skipped.push_back(loaded->config_maps.front().pos.ToString() + ": ConfigMap/" +
                              loaded->config_maps.front().name);
  }
  if (!loaded->skipped.empty()) {
    return InvalidArgument(
        "the manifest is not a Workflow (" + loaded->skipped.front() +
            "): hubspoke creates only Workflows from resource templates, not other Kubernetes "
            "resources",
        where);
  }
  if (loaded->workflows.size() != 1) {
    return InvalidArgument("the manifest must hold exactly one Workflow document, found " +
                               std::to_string(loaded->workflows.size()),
                           where);
  }
  return std::move(loaded->workflows.front());
}

}  // namespace hubspoke::spec
