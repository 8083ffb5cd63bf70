// The manifest model: plain structs for Argo's Workflow, WorkflowTemplate and their templates, as
// loaded from YAML by spec::Load (loader.h). Strings hold values exactly as written; fields that
// hold JSON (withItems, a parameter given as a list or map) hold compact JSON text. Every struct
// that a user writes carries its source position so errors can say file:line:col.
// Thread-safety: plain values; immutable once loaded, safe to share between threads.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace hubspoke::spec {

struct Pos {
  std::string file;
  int line = 0;                  // 1-based; 0 when unknown
  int col = 0;                   // 1-based
  std::string ToString() const;  // "file:line:col"
};

// A ConfigMap document given along with workflows: its data holds the values that parameters'
// configMapKeyRef and semaphores name.
struct ConfigMap {
  std::string name;
  std::map<std::string, std::string> data;
  Pos pos;
};

struct ValueFrom {
  std::string path;        // outputs: file written by the task
  std::string json_path;   // outputs of resource templates: kubectl JSONPath on the created object
  std::string expression;  // outputs of steps/dag: expr-dialect expression
  std::string parameter;   // outputs of steps/dag: "{{steps.x.outputs.parameters.y}}"
  std::optional<std::string> default_value;
  bool supplied = false;    // suspend templates: supplied on resume
  bool config_map = false;  // valueFrom.configMapKeyRef: a ConfigMap given with the workflow
  std::string config_map_name;
  std::string config_map_key;
  bool event = false;
};

struct Parameter {
  std::string name;
  std::optional<std::string> value;  // scalars as written; lists/maps as compact JSON
  std::optional<std::string> default_value;
  std::vector<std::string> enum_values;
  std::string description;
  std::optional<ValueFrom> value_from;
  std::string global_name;
  Pos pos;
};

struct Artifact {
  std::string name;
  std::string path;
  std::string from;                // "{{steps.x.outputs.artifacts.y}}"
  std::string from_expression;     // an expression whose value is an artifact (as from)
  std::string sub_path;            // a path inside the artifact given by from
  std::optional<std::string> raw;  // raw.data
  bool optional = false;
  std::string archive;  // "", "none", "tar" (tar+gzip)
  std::string global_name;
  std::string unsupported_source;  // "s3", "gcs", "http", "git", ... when given; empty otherwise
  // `key` of an s3/gcs/... source given with nothing else: an object in the default artifact
  // repository, which the hub's local artifact store emulates (unsupported_source stays empty).
  std::string repository_key;
  Pos pos;
};

struct Arguments {
  std::vector<Parameter> parameters;
  std::vector<Artifact> artifacts;
};

struct Inputs {
  std::vector<Parameter> parameters;
  std::vector<Artifact> artifacts;
};

struct Outputs {
  std::vector<Parameter> parameters;
  std::vector<Artifact> artifacts;
  std::string result;  // steps/dag templates may set outputs.result (rare); empty otherwise
};

struct EnvVar {
  std::string name;
  std::string value;
  bool from_source = false;  // valueFrom (secret, configmap, field ref): not available on a host
  std::string from_kind;  // the valueFrom key: "secretKeyRef", "configMapKeyRef", "fieldRef", ...
  Pos pos;
};

// A volume declared in spec.volumes, spec.volumeClaimTemplates or a template's volumes.
struct Volume {
  std::string name;
  // The volume source key: "emptyDir" (emulated), "persistentVolumeClaim", "secret", "configMap",
  // "hostPath", ...; "volumeClaimTemplate" for spec.volumeClaimTemplates entries.
  std::string source;
  Pos pos;
};

struct Container {
  std::string image;
  std::vector<std::string> command;
  std::vector<std::string> args;
  std::vector<EnvVar> env;
  std::string working_dir;
  std::string name;                       // sidecars, containerSet containers
  std::vector<std::string> dependencies;  // containerSet containers: names of earlier ones
};

struct Script {
  Container container;  // image, command, args, env, workingDir
  std::string source;
};

// The containers of a containerSet template: processes of one task sharing its working
// directory and volume mounts. The loader orders them so that each comes after its dependencies.
struct ContainerSet {
  std::vector<Container> containers;
};

struct ContinueOn {
  bool failed = false;
  bool error = false;
};

struct Sequence {
  std::string count;  // strings: may hold {{...}}
  std::string start;
  std::string end;
  std::string format;
};

struct TemplateRef {
  std::string name;  // WorkflowTemplate name
  std::string template_name;
  bool cluster_scope = false;
};

struct Backoff {
  std::string duration;
  std::string factor;
  std::string max_duration;
  std::string cap;
};

struct RetryStrategy {
  std::string limit;         // int or string with {{...}}; empty = unlimited when present
  std::string retry_policy;  // Always | OnFailure | OnError | OnTransientError; default OnFailure
  std::optional<Backoff> backoff;
  std::string expression;
  Pos pos;
};

struct LifecycleHook {
  std::string name;  // "exit" or a custom hook name
  std::string template_name;
  std::optional<TemplateRef> template_ref;
  Arguments arguments;
  std::string expression;
};

// A step of a `steps` template or a task of a `dag` template (the shared fields). A step with an
// `inline` template refers to it by template_name "<parent template>.<step>@inline": the loader
// adds the inline template to spec.templates under that name.
struct Step {
  std::string name;
  std::string template_name;
  std::optional<TemplateRef> template_ref;
  Arguments arguments;
  std::string when;
  std::optional<std::string> with_items;  // compact JSON array text
  std::string with_param;                 // a JSON list after substitution
  std::optional<Sequence> with_sequence;
  ContinueOn continue_on;
  std::string on_exit;
  std::vector<LifecycleHook> hooks;
  // DAG tasks only.
  std::vector<std::string> dependencies;
  std::string depends;
  Pos pos;
};

struct Dag {
  std::string target;
  std::optional<bool> fail_fast;
  std::vector<Step> tasks;
};

struct Resource {
  std::string action;  // create (supported), apply, delete, get, patch, replace
  std::string manifest;
  std::string success_condition;
  std::string failure_condition;
  bool set_owner_reference = false;
  Pos manifest_pos;
};

struct Suspend {
  std::string duration;  // "" = until resumed
};

// A data template: the keys listed under `source` (an artifact location in the default
// repository: `repository_key` is the prefix, "" the whole repository), then each transformation
// (an expr-dialect expression over `data`) applied in turn; the result is outputs.result.
struct Data {
  Artifact source;  // data.source.artifactPaths
  std::vector<std::string> transformations;
  Pos pos;
};

// A template's memoize: its outputs are cached under `key` (after substitution) in the cache
// `cache` (Argo names a ConfigMap; the hub keeps the caches in its store) and reused by a later
// node with the same key while the entry is younger than `max_age` ("" = no limit).
struct Memoize {
  std::string key;
  std::string max_age;
  std::string cache;
  Pos pos;
};

struct Synchronization {
  std::string mutex;
  std::string semaphore;  // configMapKeyRef name/key folded into "name/key"
};

// One custom Prometheus metric of spec.metrics.prometheus or a template's metrics.prometheus, as
// Argo defines it: emitted when its workflow or node completes (a realtime gauge: while it runs).
// Every text may hold {{...}} variables (status, duration, inputs/outputs.parameters...).
struct MetricLabel {
  std::string key;
  std::string value;
  Pos pos;
};
struct PrometheusMetric {
  enum class Type { kNone, kGauge, kCounter, kHistogram };
  std::string name;  // emitted as argo_workflows_<name>
  std::string help;
  std::vector<MetricLabel> labels;
  std::string when;  // a `when` condition; empty: always
  Type type = Type::kNone;
  int type_count = 0;  // how many of gauge/counter/histogram were given (lint wants exactly one)
  std::string value;
  bool realtime = false;             // gauges only: updated while the node or workflow runs
  std::vector<std::string> buckets;  // histograms: upper bounds as written
  Pos pos;
};

struct Template {
  enum class Kind {
    kUnknown,
    kContainer,
    kScript,
    kSteps,
    kDag,
    kResource,
    kSuspend,
    kContainerSet,
    kData,
    kUnsupported
  };
  std::string name;
  Kind kind = Kind::kUnknown;
  std::string unsupported_kind;  // "http", "plugin" for kUnsupported
  Inputs inputs;
  Outputs outputs;
  std::optional<Container> container;
  std::optional<Script> script;
  std::optional<ContainerSet> container_set;
  std::vector<std::vector<Step>> steps;  // groups of parallel steps
  std::optional<Dag> dag;
  std::optional<Resource> resource;
  std::optional<Suspend> suspend;
  std::optional<Data> data;
  std::string parallelism;  // int as text; empty = unlimited
  std::optional<bool> fail_fast;
  std::string active_deadline_seconds;
  std::string timeout;
  std::optional<RetryStrategy> retry_strategy;
  std::map<std::string, std::string> node_selector;
  std::vector<Container> sidecars;
  bool daemon = false;
  std::optional<Synchronization> synchronization;
  std::optional<Memoize> memoize;
  std::vector<std::string> volume_mounts;  // mount paths (emptyDir emulation)
  std::vector<Volume> volumes;             // template-level volumes
  std::vector<PrometheusMetric> metrics;   // metrics.prometheus
  Pos pos;
};

struct Metadata {
  std::string name;
  std::string generate_name;
  std::string namespace_;
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> annotations;
};

struct WorkflowSpec {
  std::string entrypoint;
  Arguments arguments;
  std::vector<Template> templates;
  std::string parallelism;
  std::string on_exit;
  std::optional<TemplateRef> workflow_template_ref;  // name only (template_name unused)
  std::string active_deadline_seconds;
  std::optional<RetryStrategy> retry_strategy;  // spec-level default for all templates
  std::map<std::string, std::string> node_selector;
  std::vector<LifecycleHook> hooks;
  std::vector<std::string> volume_names;  // emptyDir volumes declared by name
  std::vector<Volume> volumes;            // every spec.volumes and volumeClaimTemplates entry
  std::optional<Synchronization> synchronization;
  std::vector<PrometheusMetric> metrics;  // metrics.prometheus
  // Set by Resolve: the WorkflowTemplate a workflowTemplateRef named (for per-template metrics).
  std::string resolved_template;
};

// A CronWorkflow's spec beside its workflowSpec (Argo's names and defaults).
struct CronSpec {
  std::vector<std::string> schedules;  // spec.schedule and spec.schedules, each a valid schedule
  std::string timezone;                // IANA name; "" is the hub's local zone
  std::string concurrency_policy = "Allow";  // Allow, Forbid or Replace
  std::optional<int64_t> starting_deadline_seconds;
  bool suspend = false;
  int successful_jobs_history_limit = 3;
  int failed_jobs_history_limit = 1;
  std::string when;            // an expression; a run starts only when it is true
  Metadata workflow_metadata;  // spec.workflowMetadata: labels and annotations of each run
};

// One YAML document of kind Workflow, WorkflowTemplate, ClusterWorkflowTemplate or CronWorkflow
// (whose spec.workflowSpec is loaded as `spec`).
struct Workflow {
  std::string api_version;
  std::string kind;
  CronSpec cron;  // CronWorkflow only
  Metadata metadata;
  WorkflowSpec spec;
  std::string source_json;  // the whole document as compact JSON (for -o json and child creation)
  Pos pos;                  // start of the document

  const Template* FindTemplate(const std::string& name) const;
  // metadata.name, or generateName when only that is given.
  std::string DisplayName() const;
};

}  // namespace hubspoke::spec
