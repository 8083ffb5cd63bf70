#include "spec/loader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace hubspoke::spec {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

const std::string kSeed =
    std::string(HUBSPOKE_SOURCE_DIR) + "/tests/data/spec/seed-hub-and-spoke.yaml";

Workflow LoadOne(const std::string& yaml) {
  Result<LoadedFile> f = LoadString(yaml, "t.yaml");
  EXPECT_TRUE(f.ok()) << f.error().ToString();
  if (!f.ok() || f->workflows.size() != 1) {
    ADD_FAILURE() << "expected one workflow";
    return {};
  }
  return f->workflows[0];
}

std::string LoadError(const std::string& yaml) {
  Result<LoadedFile> f = LoadString(yaml, "t.yaml");
  EXPECT_FALSE(f.ok());
  return f.ok() ? "" : f.error().ToString();
}

TEST(LoaderTest, LoadsSeedManifestsWithPositions) {
  Result<LoadedFile> f = LoadFile(kSeed);
  ASSERT_TRUE(f.ok()) << f.error().ToString();
  ASSERT_EQ(f->workflows.size(), 2u);
  const Workflow& hub = f->workflows[0];
  EXPECT_EQ(hub.kind, "WorkflowTemplate");
  EXPECT_EQ(hub.metadata.name, "hub-orchestrator");
  EXPECT_EQ(hub.spec.entrypoint, "hub");
  ASSERT_EQ(hub.spec.templates.size(), 2u);
  const Template& t = hub.spec.templates[0];
  EXPECT_EQ(t.kind, Template::Kind::kSteps);
  EXPECT_EQ(t.pos.ToString(), kSeed + ":8:5");
  ASSERT_EQ(t.steps.size(), 3u);
  EXPECT_EQ(t.steps[0][0].name, "discover");
  EXPECT_EQ(t.steps[0][0].template_name, "get-repositories");
  EXPECT_EQ(t.steps[0][0].pos.line, 14);
  EXPECT_EQ(t.steps[0][0].pos.col, 9);
  EXPECT_EQ(t.steps[1][0].with_param, "{{steps.discover.outputs.result}}");
  EXPECT_EQ(t.steps[1][0].arguments.parameters[0].value, "{{item}}");
  EXPECT_EQ(t.inputs.parameters[0].pos.line, 11);
  const Template& spawn = hub.spec.templates[1];
  ASSERT_EQ(spawn.kind, Template::Kind::kResource);
  EXPECT_EQ(spawn.resource->action, "create");
  EXPECT_THAT(spawn.resource->manifest,
              StartsWith("apiVersion: argoproj.io/v1alpha1\nkind: Workflow\n"));
  EXPECT_EQ(spawn.resource->manifest_pos.line, 33);
  const Workflow& spoke = f->workflows[1];
  EXPECT_EQ(spoke.metadata.name, "spoke-worker");
  EXPECT_EQ(spoke.pos.line, 46);
  EXPECT_FALSE(spoke.spec.arguments.parameters[0].value.has_value());
  const Template& process = spoke.spec.templates[0];
  ASSERT_EQ(process.kind, Template::Kind::kContainer);
  EXPECT_EQ(process.container->image, "gcr.io/project/worker:v1");
  EXPECT_THAT(process.container->command, ElementsAre("/app/worker"));
  EXPECT_THAT(process.container->args,
              ElementsAre("--repo={{inputs.parameters.repository}}", "--action=process"));
}

TEST(LoaderTest, DuplicateKeyIsAnErrorWithPosition) {
  EXPECT_EQ(LoadError("kind: Workflow\nspec:\n  templates:\n  - name: a\n    container:\n"
                      "      image: x\n      image: y\n"),
            "t.yaml:7:7: duplicate key \"image\" (first given at line 6:7); YAML keeps only one "
            "of them: remove or merge the other");
  EXPECT_THAT(LoadError("kind: Workflow\nkind: Workflow\n"),
              StartsWith("t.yaml:2:1: duplicate key"));
}

TEST(LoaderTest, YamlSyntaxErrorHasPosition) {
  EXPECT_THAT(LoadError("kind: Workflow\nspec:\n  entrypoint: [a\n"),
              StartsWith("t.yaml:4:1: YAML syntax error"));
}

TEST(LoaderTest, MissingKindIsAnError) {
  EXPECT_THAT(LoadError("apiVersion: v1\nmetadata:\n  name: x\n"),
              AllOf(StartsWith("t.yaml:1:1: missing \"kind\""), HasSubstr("kind: Workflow")));
}

TEST(LoaderTest, StepGroupWrittenAsMapIsAnError) {
  EXPECT_THAT(LoadError("kind: Workflow\nspec:\n  templates:\n  - name: main\n    steps:\n"
                        "    - name: a\n      template: b\n"),
              AllOf(StartsWith("t.yaml:6:7: template \"main\": steps group 1 is a single step"),
                    HasSubstr("- - name:")));
  EXPECT_THAT(LoadError("kind: Workflow\nspec:\n  templates:\n  - name: main\n    steps: x\n"),
              HasSubstr("steps must be a list of step groups"));
}

TEST(LoaderTest, WrongFieldTypesAreErrors) {
  EXPECT_THAT(LoadError("kind: Workflow\nspec:\n  templates:\n    name: main\n"),
              StartsWith("t.yaml:4:5: spec.templates must be a list of templates"));
  EXPECT_THAT(LoadError("kind: Workflow\nspec:\n  entrypoint: [a, b]\n"),
              StartsWith("t.yaml:3:15: spec.entrypoint must be a single value"));
  EXPECT_THAT(LoadError("kind: Workflow\nspec:\n  templates:\n  - name: m\n    dag:\n      tasks:\n"
                        "      - name: a\n        withItems: abc\n"),
              HasSubstr("withItems must be a list"));
}

TEST(LoaderTest, OtherKindsAreSkippedConfigMapsKeptAndEmptyDocumentsIgnored) {
  Result<LoadedFile> f = LoadString(
      "---\n---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n---\nkind: Workflow\n"
      "metadata:\n  generateName: x-\n---\nkind: ConfigMap\nmetadata: {name: cm}\n"
      "data: {a: \"1\"}\n",
      "t.yaml");
  ASSERT_TRUE(f.ok()) << f.error().ToString();
  EXPECT_THAT(f->skipped, ElementsAre("t.yaml:3:1: skipped Secret/s (not a workflow)"));
  ASSERT_EQ(f->config_maps.size(), 1u);
  EXPECT_EQ(f->config_maps[0].name, "cm");
  EXPECT_EQ(f->config_maps[0].data.at("a"), "1");
  ASSERT_EQ(f->workflows.size(), 1u);
  EXPECT_EQ(f->workflows[0].DisplayName(), "x-");
}

TEST(LoaderTest, ParameterValuesKeepTextAndStructuredValuesBecomeJson) {
  Workflow wf = LoadOne(R"(kind: Workflow
spec:
  arguments:
    parameters:
    - name: n
      value: 007
    - name: b
      value: true
    - name: l
      value: [1, "a", {k: v}]
    - name: e
      enum: [x, 2]
      default: 3.5
)");
  const auto& p = wf.spec.arguments.parameters;
  ASSERT_EQ(p.size(), 4u);
  EXPECT_EQ(p[0].value, "007");
  EXPECT_EQ(p[1].value, "true");
  EXPECT_EQ(p[2].value, R"([1,"a",{"k":"v"}])");
  EXPECT_FALSE(p[3].value.has_value());
  EXPECT_EQ(p[3].default_value, "3.5");
  EXPECT_THAT(p[3].enum_values, ElementsAre("x", "2"));
}

TEST(LoaderTest, LoopsAreLoadedAsJsonAndText) {
  Workflow wf = LoadOne(R"(kind: Workflow
spec:
  templates:
  - name: m
    steps:
    - - name: a
        template: t
        withItems: [1, "2", true, hello, {os: linux, v: 1.5}]
      - name: b
        template: t
        withSequence: {count: 5, format: "%02d"}
)");
  const Step& a = wf.spec.templates[0].steps[0][0];
  EXPECT_EQ(a.with_items, R"([1,"2",true,"hello",{"os":"linux","v":1.5}])");
  const Step& b = wf.spec.templates[0].steps[0][1];
  ASSERT_TRUE(b.with_sequence.has_value());
  EXPECT_EQ(b.with_sequence->count, "5");
  EXPECT_EQ(b.with_sequence->format, "%02d");
}

TEST(LoaderTest, UnsupportedTemplateTypesAreMarked) {
  Workflow wf = LoadOne(R"(kind: Workflow
spec:
  templates:
  - name: h
    http: {url: "http://x"}
  - name: none
)");
  EXPECT_EQ(wf.spec.templates[0].kind, Template::Kind::kUnsupported);
  EXPECT_EQ(wf.spec.templates[0].unsupported_kind, "http");
  EXPECT_EQ(wf.spec.templates[1].kind, Template::Kind::kUnknown);
}

TEST(LoaderTest, DataTemplatesKeepTheirSourceAndTransformations) {
  Workflow wf = LoadOne(R"(kind: Workflow
spec:
  templates:
  - name: list
    data:
      source:
        artifactPaths: {name: logs, s3: {bucket: my-bucket, key: logs/}}
      transformation:
      - expression: filter(data, {# endsWith "main.log"})
      - expression: map(data, {# + ".gz"})
  - name: elsewhere
    data:
      source:
        artifactPaths: {name: logs, s3: {bucket: b, endpoint: minio:9000}}
)");
  const Template& list = wf.spec.templates[0];
  ASSERT_EQ(list.kind, Template::Kind::kData);
  ASSERT_TRUE(list.data);
  EXPECT_EQ(list.data->source.name, "logs");
  EXPECT_EQ(list.data->source.repository_key, "logs/");  // the default repository's bucket
  EXPECT_EQ(list.data->source.unsupported_source, "");
  EXPECT_THAT(list.data->transformations,
              ElementsAre("filter(data, {# endsWith \"main.log\"})", "map(data, {# + \".gz\"})"));
  EXPECT_EQ(wf.spec.templates[1].data->source.unsupported_source, "s3");  // another store
}

TEST(LoaderTest, ContainerSetContainersComeAfterTheirDependencies) {
  Workflow wf = LoadOne(R"(kind: Workflow
spec:
  templates:
  - name: c
    containerSet:
      volumeMounts: [{name: ws, mountPath: /workspace}]
      containers:
      - {name: d, image: argoproj/argosay:v2, dependencies: [b, c]}
      - name: b
        image: python:alpine
        command: [python, -c]
        args: ["import this"]
        env: [{name: X, value: "1"}]
        dependencies: [a]
      - {name: a, image: argoproj/argosay:v2}
      - {name: c, image: argoproj/argosay:v2, dependencies: [a]}
)");
  const Template& t = wf.spec.templates[0];
  EXPECT_EQ(t.kind, Template::Kind::kContainerSet);
  ASSERT_TRUE(t.container_set.has_value());
  std::vector<std::string> order;
  for (const Container& c : t.container_set->containers) order.push_back(c.name);
  EXPECT_THAT(order, ElementsAre("a", "b", "c", "d"));
  const Container& b = t.container_set->containers[1];
  EXPECT_THAT(b.command, ElementsAre("python", "-c"));
  EXPECT_THAT(b.args, ElementsAre("import this"));
  EXPECT_EQ(b.env.at(0).name, "X");
  EXPECT_THAT(b.dependencies, ElementsAre("a"));
  EXPECT_THAT(t.volume_mounts, ElementsAre("/workspace"));
}

TEST(LoaderTest, ContainerSetDependenciesMustNameContainersWithoutCycles) {
  auto unknown = LoadString(R"(kind: Workflow
spec:
  templates:
  - name: c
    containerSet:
      containers:
      - {name: a, image: x, dependencies: [zz]}
)",
                            "t.yaml");
  ASSERT_FALSE(unknown.ok());
  EXPECT_THAT(unknown.error().message, HasSubstr("depends on \"zz\", which is not in the set"));
  auto cycle = LoadString(R"(kind: Workflow
spec:
  templates:
  - name: c
    containerSet:
      containers:
      - {name: a, image: x, dependencies: [b]}
      - {name: b, image: x, dependencies: [a]}
)",
                          "t.yaml");
  ASSERT_FALSE(cycle.ok());
  EXPECT_THAT(cycle.error().message, HasSubstr("form a cycle"));
}

TEST(LoaderTest, TemplateFieldsAreFilled) {
  Workflow wf = LoadOne(R"(kind: Workflow
spec:
  entrypoint: main
  onExit: bye
  parallelism: 3
  hooks:
    exit: {template: bye}
    running: {expression: "x", templateRef: {name: w, template: t}}
  volumes:
  - name: work
    emptyDir: {}
  - name: creds
    secret: {secretName: s}
  templates:
  - name: main
    parallelism: "{{inputs.parameters.p}}"
    failFast: false
    activeDeadlineSeconds: 30
    timeout: 1m
    daemon: true
    nodeSelector: {disk: ssd}
    synchronization:
      mutexes: [{name: m1}]
    retryStrategy:
      limit: 2
      retryPolicy: Always
      backoff: {duration: 1s, factor: 2}
    container:
      image: alpine
      env:
      - {name: A, value: 1}
      - name: B
        valueFrom: {secretKeyRef: {name: s, key: k}}
      volumeMounts:
      - {name: work, mountPath: /work}
    sidecars:
    - {name: side, image: nginx}
    inputs:
      artifacts:
      - name: a
        path: /a
        s3: {bucket: b, key: k}
      - name: k
        path: /k
        s3: {key: only-key}
    outputs:
      artifacts:
      - {name: o, path: /o, archive: {none: {}}}
)");
  EXPECT_EQ(wf.spec.on_exit, "bye");
  EXPECT_EQ(wf.spec.parallelism, "3");
  ASSERT_EQ(wf.spec.hooks.size(), 2u);
  EXPECT_EQ(wf.spec.hooks[0].name, "exit");
  EXPECT_EQ(wf.spec.hooks[1].template_ref->template_name, "t");
  EXPECT_THAT(wf.spec.volume_names, ElementsAre("work"));
  ASSERT_EQ(wf.spec.volumes.size(), 2u);
  EXPECT_EQ(wf.spec.volumes[1].source, "secret");
  const Template& t = wf.spec.templates[0];
  EXPECT_EQ(t.parallelism, "{{inputs.parameters.p}}");
  EXPECT_EQ(t.fail_fast, false);
  EXPECT_EQ(t.active_deadline_seconds, "30");
  EXPECT_EQ(t.timeout, "1m");
  EXPECT_TRUE(t.daemon);
  EXPECT_EQ(t.node_selector.at("disk"), "ssd");
  EXPECT_EQ(t.synchronization->mutex, "m1");
  EXPECT_EQ(t.retry_strategy->limit, "2");
  EXPECT_EQ(t.retry_strategy->backoff->factor, "2");
  EXPECT_EQ(t.retry_strategy->pos.line, 25);
  EXPECT_EQ(t.container->env[0].value, "1");
  EXPECT_TRUE(t.container->env[1].from_source);
  EXPECT_EQ(t.container->env[1].from_kind, "secretKeyRef");
  EXPECT_THAT(t.volume_mounts, ElementsAre("/work"));
  EXPECT_EQ(t.sidecars[0].image, "nginx");
  EXPECT_EQ(t.inputs.artifacts[0].unsupported_source, "s3");
  EXPECT_EQ(t.inputs.artifacts[1].unsupported_source, "");
  EXPECT_EQ(t.inputs.artifacts[1].repository_key, "only-key");
  EXPECT_EQ(t.outputs.artifacts[0].archive, "none");
  EXPECT_THAT(wf.source_json, StartsWith(R"({"kind":"Workflow","spec":{"entrypoint":"main")"));
}

TEST(LoaderTest, TemplateDefaultsFillUnsetFieldsOnly) {
  Workflow wf = LoadOne(R"(kind: Workflow
spec:
  templateDefaults:
    timeout: 30s
    retryStrategy: {limit: "2"}
    container: {image: busybox, command: [sh, -c]}
  templates:
  - name: a
    container: {args: [echo hi]}
  - name: b
    timeout: 5s
    container: {image: alpine}
  - name: s
    steps: []
)");
  const auto& ts = wf.spec.templates;
  EXPECT_EQ(ts[0].container->image, "busybox");
  EXPECT_THAT(ts[0].container->command, ElementsAre("sh", "-c"));
  EXPECT_EQ(ts[0].timeout, "30s");
  EXPECT_EQ(ts[0].retry_strategy->limit, "2");
  EXPECT_EQ(ts[1].container->image, "alpine");
  EXPECT_EQ(ts[1].timeout, "5s");
  EXPECT_EQ(ts[2].kind, Template::Kind::kSteps);
  EXPECT_FALSE(ts[2].container.has_value());
}

TEST(LoaderTest, CronWorkflowLoadsItsWorkflowSpec) {
  Workflow wf = LoadOne(R"(kind: CronWorkflow
metadata: {name: c}
spec:
  schedule: "* * * * *"
  timezone: UTC
  workflowSpec:
    entrypoint: m
    templates:
    - {name: m, suspend: {}}
)");
  EXPECT_EQ(wf.kind, "CronWorkflow");
  EXPECT_EQ(wf.spec.entrypoint, "m");
  EXPECT_EQ(wf.spec.templates[0].kind, Template::Kind::kSuspend);
  EXPECT_THAT(wf.cron.schedules, ElementsAre("* * * * *"));
  EXPECT_EQ(wf.cron.timezone, "UTC");
  EXPECT_EQ(wf.cron.concurrency_policy, "Allow");
  EXPECT_EQ(wf.cron.successful_jobs_history_limit, 3);
  EXPECT_EQ(wf.cron.failed_jobs_history_limit, 1);
  EXPECT_FALSE(wf.cron.starting_deadline_seconds.has_value());
  EXPECT_FALSE(wf.cron.suspend);
}

TEST(LoaderTest, CronWorkflowKeepsItsSchedulingFields) {
  Workflow wf = LoadOne(R"(kind: CronWorkflow
metadata: {name: c}
spec:
  schedule: "@daily"
  schedules: ["*/3 * * * 1-5"]
  timezone: America/Los_Angeles
  concurrencyPolicy: Replace
  startingDeadlineSeconds: 30
  suspend: true
  successfulJobsHistoryLimit: 4
  failedJobsHistoryLimit: 0
  when: "{{= true }}"
  workflowMetadata: {labels: {team: a}}
  workflowSpec:
    entrypoint: m
    templates:
    - {name: m, suspend: {}}
)");
  EXPECT_THAT(wf.cron.schedules, ElementsAre("@daily", "*/3 * * * 1-5"));
  EXPECT_EQ(wf.cron.timezone, "America/Los_Angeles");
  EXPECT_EQ(wf.cron.concurrency_policy, "Replace");
  EXPECT_EQ(wf.cron.starting_deadline_seconds, 30);
  EXPECT_TRUE(wf.cron.suspend);
  EXPECT_EQ(wf.cron.successful_jobs_history_limit, 4);
  EXPECT_EQ(wf.cron.failed_jobs_history_limit, 0);
  EXPECT_EQ(wf.cron.when, "{{= true }}");
  EXPECT_EQ(wf.cron.workflow_metadata.labels.at("team"), "a");
}

TEST(LoaderTest, CronWorkflowErrorsPointAtTheField) {
  const std::string head = "kind: CronWorkflow\nmetadata: {name: c}\nspec:\n";
  const std::string body = "  workflowSpec: {entrypoint: m, templates: [{name: m, suspend: {}}]}\n";
  EXPECT_EQ(LoadError(head + "  schedules:\n  - \"61 * * * *\"\n" + body),
            "t.yaml:5:5: schedule \"61 * * * *\": minute field \"61\": 61 is out of range 0-59");
  EXPECT_EQ(LoadError(head + "  schedule: \"@daily\"\n  timezone: Mars/Olympus\n" + body),
            "t.yaml:5:13: unknown time zone \"Mars/Olympus\": no time zone data at "
            "/usr/share/zoneinfo/Mars/Olympus (is the tzdata package installed?)");
  EXPECT_EQ(LoadError(head + "  schedule: \"@daily\"\n  concurrencyPolicy: Sometimes\n" + body),
            "t.yaml:5:22: spec.concurrencyPolicy must be Allow, Forbid or Replace, got "
            "\"Sometimes\"");
  EXPECT_EQ(LoadError(head + "  schedule: \"@daily\"\n  startingDeadlineSeconds: -5\n" + body),
            "t.yaml:5:28: spec.startingDeadlineSeconds must be a whole number of at least 0, got "
            "\"-5\"");
  EXPECT_THAT(LoadError(head + body),
              HasSubstr("a CronWorkflow needs spec.schedule or spec.schedules"));
}

TEST(LoaderTest, InlineTemplatesAreAddedUnderGeneratedNames) {
  Workflow wf = LoadOne(R"(kind: Workflow
spec:
  templates:
  - name: main
    dag:
      tasks:
      - name: a
        inline:
          container: {image: busybox}
      - name: b
        depends: a
        template: main
)");
  ASSERT_EQ(wf.spec.templates.size(), 2u);
  EXPECT_EQ(wf.spec.templates[0].dag->tasks[0].template_name, "main.a@inline");
  EXPECT_EQ(wf.spec.templates[1].name, "main.a@inline");
  EXPECT_EQ(wf.spec.templates[1].kind, Template::Kind::kContainer);
  EXPECT_EQ(wf.spec.templates[0].dag->tasks[1].depends, "a");
}

TEST(LoaderTest, LoadManifestAcceptsOnlyWorkflows) {
  Result<Workflow> wf = LoadManifest(
      "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata:\n  generateName: spoke-a-\n",
      "hub[1].process-repo(0:a)");
  ASSERT_TRUE(wf.ok()) << wf.error().ToString();
  EXPECT_EQ(wf->metadata.generate_name, "spoke-a-");
  Result<Workflow> cm = LoadManifest("kind: ConfigMap\nmetadata: {name: x}\n", "node");
  ASSERT_FALSE(cm.ok());
  EXPECT_THAT(cm.error().ToString(), AllOf(StartsWith("node: "), HasSubstr("ConfigMap/x")));
}

TEST(LoaderTest, MissingFileIsAnIoError) {
  Result<LoadedFile> f = LoadFile("/nonexistent/x.yaml");
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.error().code, ErrorCode::kIo);
}

}  // namespace
}  // namespace hubspoke::spec
