#include "spec/lint.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "spec/loader.h"

namespace hubspoke::spec {
namespace {

using ::testing::AllOf;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::StartsWith;
using ::testing::UnorderedElementsAre;

const std::string kSeed =
    std::string(HUBSPOKE_SOURCE_DIR) + "/tests/data/spec/seed-hub-and-spoke.yaml";

// Loads `yaml`, adds its templates to a catalog and lints every document.
std::vector<std::string> LintText(const std::string& yaml, Catalog catalog = {}) {
  Result<LoadedFile> f = LoadString(yaml, "t.yaml");
  EXPECT_TRUE(f.ok()) << f.error().ToString();
  if (!f.ok()) return {};
  for (const ConfigMap& cm : f->config_maps) catalog.AddConfigMap(cm);
  for (const Workflow& wf : f->workflows) {
    if (wf.kind != "Workflow" && wf.kind != "CronWorkflow") catalog.Add(wf);
  }
  std::vector<std::string> out;
  for (const Workflow& wf : f->workflows) {
    for (const Diagnostic& d : Lint(wf, catalog)) out.push_back(d.ToString());
  }
  return out;
}

std::string Wf(const std::string& templates, const std::string& entrypoint = "main") {
  return "kind: Workflow\nmetadata: {name: w}\nspec:\n  entrypoint: " + entrypoint +
         "\n  templates:\n" + templates;
}

TEST(LintTest, LintNamesUndefinedTemplateWithDefinedOnes) {
  Result<LoadedFile> f = LoadFile(kSeed);
  ASSERT_TRUE(f.ok()) << f.error().ToString();
  Catalog catalog;
  for (const Workflow& wf : f->workflows) catalog.Add(wf);
  std::vector<std::string> hub;
  for (const Diagnostic& d : Lint(f->workflows[0], catalog)) hub.push_back(d.ToString());
  EXPECT_THAT(hub,
              Contains(kSeed + ":14:9: error: step \"discover\" uses template "
                               "\"get-repositories\", which is not defined in WorkflowTemplate "
                               "\"hub-orchestrator\" (defined: hub, spawn-spoke)"));
  EXPECT_THAT(hub, Contains(kSeed + ":25:9: error: step \"summarize\" uses template "
                                    "\"collect-results\", which is not defined in WorkflowTemplate "
                                    "\"hub-orchestrator\" (defined: hub, spawn-spoke)"));
  EXPECT_THAT(hub, Contains(AllOf(StartsWith(kSeed + ":33:"),
                                  HasSubstr("warning: template \"spawn-spoke\" creates a child "
                                            "Workflow without successCondition"),
                                  HasSubstr("the parent node will not wait for the child "
                                            "workflow; add successCondition: status.phase == "
                                            "Succeeded and failureCondition: status.phase in "
                                            "(Failed, Error)"))));
  EXPECT_THAT(
      hub, Contains(AllOf(StartsWith(kSeed + ":11:9: warning: entrypoint template "
                                             "\"hub\" requires input parameter \"repositories\""),
                          HasSubstr("-p repositories="))));
  EXPECT_EQ(hub.size(), 4u);
  EXPECT_THAT(Lint(f->workflows[1], catalog), IsEmpty());
}

TEST(LintTest, ValidWorkflowIsQuiet) {
  EXPECT_THAT(LintText(Wf(R"(  - name: main
    inputs:
      parameters:
      - {name: p, value: x}
    steps:
    - - name: a
        template: echo
        arguments: {parameters: [{name: msg, value: "{{inputs.parameters.p}}"}]}
  - name: echo
    inputs:
      parameters: [{name: msg}]
    container: {image: busybox, args: ["{{inputs.parameters.msg}}", "{{= inputs.parameters.msg }}"]}
)")),
              IsEmpty());
}

TEST(LintTest, EntrypointMissingOrUndefined) {
  EXPECT_THAT(LintText(Wf("  - {name: a, suspend: {}}\n", "nope")),
              ElementsAre("t.yaml:1:1: error: spec.entrypoint \"nope\" is not defined in Workflow "
                          "\"w\" (defined: a): fix the name or add the template"));
  EXPECT_THAT(LintText("kind: Workflow\nmetadata: {name: w}\nspec:\n  templates:\n"
                       "  - {name: a, suspend: {}}\n"),
              ElementsAre(HasSubstr("error: Workflow \"w\" has no spec.entrypoint")));
  EXPECT_THAT(LintText("kind: WorkflowTemplate\nmetadata: {name: w}\nspec:\n  templates:\n"
                       "  - {name: a, suspend: {}}\n"),
              ElementsAre(HasSubstr("warning: WorkflowTemplate \"w\" has no spec.entrypoint")));
}

TEST(LintTest, TemplateRefAndWorkflowTemplateRefMustBeInCatalog) {
  std::vector<std::string> out = LintText(Wf(R"(  - name: main
    steps:
    - - name: a
        templateRef: {name: lib, template: x}
)") + "---\nkind: Workflow\nmetadata: {name: v}\nspec:\n  workflowTemplateRef: {name: gone}\n");
  EXPECT_THAT(out, ElementsAre(StartsWith("t.yaml:8:9: error: step \"a\" uses templateRef "
                                          "\"lib\"/\"x\", but WorkflowTemplate \"lib\" is not "
                                          "loaded"),
                               StartsWith("t.yaml:11:1: error: spec.workflowTemplateRef names "
                                          "WorkflowTemplate \"gone\", which is not loaded")));
  out = LintText(Wf(R"(  - name: main
    steps:
    - - name: a
        templateRef: {name: lib, template: x}
)") + "---\nkind: WorkflowTemplate\nmetadata: {name: lib}\nspec:\n  templates:\n"
      "  - {name: y, suspend: {}}\n");
  EXPECT_THAT(out, Contains(HasSubstr("template \"x\" is not defined in WorkflowTemplate \"lib\" "
                                      "(defined: y)")));
}

TEST(LintTest, DuplicateTemplateAndStepNames) {
  std::vector<std::string> out = LintText(Wf(R"(  - name: main
    steps:
    - - {name: a, template: main2}
    - - {name: a, template: main2}
  - {name: main2, suspend: {}}
  - {name: main2, suspend: {}}
)"));
  EXPECT_THAT(out, ElementsAre(HasSubstr("t.yaml:9:9: error: step name \"a\" is used twice"),
                               HasSubstr("t.yaml:11:5: error: template \"main2\" is defined twice "
                                         "in Workflow \"w\" (first at t.yaml:10:5)")));
}

TEST(LintTest, ArtifactsOfTasksNeedAPathAndThoseOfStepsNameTheirSource) {
  std::vector<std::string> out = LintText(Wf(R"(  - name: main
    steps:
    - - {name: a, template: task}
    outputs:
      artifacts:
      - {name: out}
  - name: task
    inputs:
      artifacts:
      - {name: in, raw: {data: x}}
    container: {image: alpine, command: [true]}
    outputs:
      artifacts:
      - {name: written}
)"));
  EXPECT_THAT(out, ElementsAre(HasSubstr("t.yaml:11:9: error: template \"main\" output artifact "
                                         "\"out\" has neither from nor fromExpression"),
                               HasSubstr("t.yaml:15:9: error: template \"task\" input artifact "
                                         "\"in\" has no path: add path:"),
                               HasSubstr("t.yaml:19:9: error: template \"task\" output artifact "
                                         "\"written\" has no path: add path:")));
}

TEST(LintTest, MemoizeNeedsAKeyAndACache) {
  std::vector<std::string> out = LintText(Wf(R"(  - name: main
    memoize: {maxAge: 1h}
    container: {image: alpine, command: [true]}
)"));
  EXPECT_THAT(out,
              ElementsAre(HasSubstr("t.yaml:7:14: error: template \"main\" memoize has no key"),
                          HasSubstr("t.yaml:7:14: error: template \"main\" memoize has no "
                                    "cache: add cache: {configMap: {name: NAME}}")));
}

TEST(LintTest, AConfigMapValueMustBeGiven) {
  const std::string wf = R"(
kind: Workflow
metadata: {name: w}
spec:
  entrypoint: main
  arguments:
    parameters:
    - {name: a, valueFrom: {configMapKeyRef: {name: settings, key: msg}}}
  templates:
  - {name: main, container: {image: alpine, command: [true]}}
)";
  EXPECT_THAT(
      LintText(wf),
      ElementsAre(HasSubstr("t.yaml:8:7: error: spec.arguments.parameters \"a\" takes its value "
                            "from key \"msg\" of ConfigMap \"settings\", which was not given")));
  EXPECT_THAT(LintText("kind: ConfigMap\nmetadata: {name: settings}\ndata: {other: x}\n---" + wf),
              ElementsAre(HasSubstr("which has no such key")));
  EXPECT_THAT(LintText("kind: ConfigMap\nmetadata: {name: settings}\ndata: {msg: x}\n---" + wf),
              IsEmpty());
}

TEST(LintTest, DagDependenciesMustExistAndBeAcyclic) {
  std::vector<std::string> out = LintText(Wf(R"y(  - name: main
    dag:
      tasks:
      - {name: a, template: s, dependencies: [c]}
      - {name: c, template: s, depends: "a.Succeeded"}
      - {name: d, template: s, dependencies: [ghost]}
      - {name: e, template: s, depends: "a && (phantom.Failed || c)"}
  - {name: s, suspend: {}}
)y"));
  EXPECT_THAT(out, Contains(StartsWith("t.yaml:11:9: error: task \"d\" of template \"main\" "
                                       "depends on \"ghost\", which is not a task of this dag "
                                       "(tasks: a, c, d, e)")));
  EXPECT_THAT(out, Contains(StartsWith("t.yaml:12:9: error: task \"e\" of template \"main\" has "
                                       "depends on \"phantom\"")));
  EXPECT_THAT(out, Contains(HasSubstr("has a dependency cycle (a -> c -> a)")));
  EXPECT_EQ(out.size(), 3u);
}

TEST(LintTest, TemplateTypesMissingOrUnsupported) {
  std::vector<std::string> out = LintText(Wf(R"(  - name: main
    steps:
    - - {name: a, template: h}
      - {name: b, template: n}
  - {name: h, http: {url: "http://example.com"}}
  - {name: n}
)"));
  EXPECT_THAT(out, ElementsAre(HasSubstr("error: template \"h\" is of type \"http\", which "
                                         "hubspoke does not run"),
                               HasSubstr("error: template \"n\" has no template type: add one of "
                                         "container, script, containerSet, steps, dag, "
                                         "resource or suspend")));
}

TEST(LintTest, HooksSidecarsAndDataTemplatesRunAndLintClean) {
  EXPECT_THAT(LintText(R"yaml(kind: Workflow
metadata: {name: w}
spec:
  entrypoint: main
  hooks:
    exit: {template: say}
    running: {expression: workflow.status == "Running", template: say}
  templates:
  - name: main
    steps:
    - - name: a
        template: list
        hooks:
          exit: {template: say}
          done: {expression: steps.a.status == "Succeeded", template: say}
  - name: list
    data:
      source: {artifactPaths: {name: logs, s3: {bucket: my-bucket}}}
      transformation: [{expression: "filter(data, {# endsWith 'main.log'})"}]
  - name: say
    container: {image: alpine, command: [echo, hi]}
    sidecars: [{name: helper, image: alpine, command: [sleep, "10"]}]
)yaml"),
              IsEmpty());
}

TEST(LintTest, ADataTemplateNeedsTheDefaultRepositoryAndExpressions) {
  std::vector<std::string> out = LintText(Wf(R"(  - name: main
    data:
      source: {artifactPaths: {name: logs, gcs: {bucket: b, serviceAccountKeySecret: {name: x}}}}
      transformation: [{expression: ""}]
)"));
  EXPECT_THAT(
      out, UnorderedElementsAre(HasSubstr("data.source.artifactPaths \"logs\" uses a gcs source"),
                                HasSubstr("data transformation without an expression")));
}

TEST(LintTest, RefusedFeaturesNameTheFieldAndWhy) {
  std::vector<std::string> out = LintText(R"(kind: Workflow
metadata: {name: w}
spec:
  entrypoint: main
  volumeClaimTemplates:
  - metadata: {name: work}
  volumes:
  - {name: creds, secret: {secretName: s}}
  - {name: tmp, emptyDir: {}}
  templates:
  - name: main
    container:
      image: busybox
      env:
      - name: TOKEN
        valueFrom: {secretKeyRef: {name: s, key: k}}
    outputs:
      artifacts:
      - {name: out, path: /o, s3: {bucket: b, key: k}}
)");
  EXPECT_THAT(out, ElementsAre(StartsWith("t.yaml:6:5: error: spec.volumeClaimTemplates \"work\" "
                                          "asks for a PersistentVolumeClaim"),
                               StartsWith("t.yaml:8:5: error: spec.volumes \"creds\" is a secret "
                                          "volume, which needs Kubernetes"),
                               StartsWith("t.yaml:15:9: error: template \"main\" env \"TOKEN\" "
                                          "takes its value from valueFrom.secretKeyRef"),
                               AllOf(StartsWith("t.yaml:19:9: error: template \"main\" output "
                                                "artifact \"out\" uses a s3 source"),
                                     HasSubstr("needs an artifact repository, which hubspoke "
                                               "does not configure"))));
}

TEST(LintTest, ResourceMustCreateWorkflow) {
  std::vector<std::string> out = LintText(Wf(R"(  - name: main
    steps:
    - - {name: a, template: job}
      - {name: b, template: del}
      - {name: c, template: child}
  - name: job
    resource:
      action: create
      manifest: |
        apiVersion: batch/v1
        kind: Job
  - name: del
    resource:
      action: delete
      manifest: |
        kind: Workflow
      successCondition: status.phase == Succeeded
  - name: child
    resource:
      action: create
      manifest: |
        kind: Workflow
      successCondition: status.phase == Succeeded
)"));
  EXPECT_THAT(out, ElementsAre(StartsWith("t.yaml:14:17: error: template \"job\" creates a "
                                          "resource of kind \"Job\""),
                               StartsWith("t.yaml:17:5: error: template \"del\" has resource "
                                          "action \"delete\" on a Workflow: hubspoke only "
                                          "supports \"create\" of a Workflow")));
}

TEST(LintTest, StepMustPassRequiredInputParameters) {
  std::vector<std::string> out = LintText(Wf(R"(  - name: main
    steps:
    - - name: a
        template: echo
        arguments: {parameters: [{name: x, value: "1"}]}
  - name: echo
    inputs:
      parameters:
      - {name: x}
      - {name: y}
      - {name: z, default: "3"}
    container: {image: busybox}
)"));
  EXPECT_THAT(out, ElementsAre("t.yaml:8:9: error: step \"a\" does not pass input parameter "
                               "\"y\" of template \"echo\", which has no default: add it under "
                               "the arguments.parameters of step \"a\""));
}

TEST(LintTest, InputParameterReferenceMustBeDeclared) {
  std::vector<std::string> out = LintText(Wf(R"(  - name: main
    inputs:
      parameters: [{name: known, value: v}]
    script:
      image: python
      source: print("{{inputs.parameters.known}} {{ inputs.parameters.unknown }}")
)"));
  EXPECT_THAT(out, ElementsAre("t.yaml:6:5: error: template \"main\" uses "
                               "{{inputs.parameters.unknown}} but declares no input parameter "
                               "\"unknown\": add it under inputs.parameters or fix the name"));
}

TEST(LintTest, WorkflowArgumentWithoutValueIsAnError) {
  std::vector<std::string> out = LintText(
      "kind: Workflow\nmetadata: {name: w}\nspec:\n  entrypoint: main\n  arguments:\n"
      "    parameters:\n    - name: p\n  templates:\n  - {name: main, suspend: {}}\n");
  EXPECT_THAT(out, ElementsAre(StartsWith("t.yaml:7:7: error: workflow argument \"p\" has no "
                                          "value")));
}

TEST(LintTest, OnExitAndHooksMustNameDefinedTemplates) {
  std::vector<std::string> out = LintText(R"(kind: Workflow
metadata: {name: w}
spec:
  entrypoint: main
  onExit: bye
  hooks:
    running: {template: watch}
  templates:
  - name: main
    steps:
    - - {name: a, template: main2, onExit: gone}
  - {name: main2, suspend: {}}
)");
  EXPECT_THAT(out, ElementsAre(HasSubstr("spec.onExit uses template \"bye\", which is not defined"),
                               HasSubstr("spec.hooks.running uses template \"watch\""),
                               HasSubstr("error: spec.hooks.running has no expression"),
                               HasSubstr("step \"a\" has onExit template \"gone\"")));
}

// Every file of Argo's examples loads (or fails with a positioned error) and lints without
// crashing; files that run on a host as they are produce no errors.
TEST(LintCorpusTest, ArgoExamplesLoadAndHostRunnableOnesLintClean) {
  const std::filesystem::path dir = "/work/shared/corpus/argo-examples";
  std::ifstream index(dir / "INDEX.tsv");
  if (!index) GTEST_SKIP() << "corpus not present at " << dir;
  std::string line;
  std::getline(index, line);  // header
  int files = 0, loaded = 0, clean = 0;
  while (std::getline(index, line)) {
    std::vector<std::string> cols;
    std::stringstream ss(line);
    for (std::string c; std::getline(ss, c, '\t');) cols.push_back(c);
    if (cols.empty()) continue;
    cols.resize(11);
    const std::string path = (dir / cols[0]).string();
    const bool host_runnable = cols[5] == "yes";
    ++files;
    Catalog catalog;
    std::stringstream required(cols[10]);
    for (std::string req; std::getline(required, req, ';');) {
      if (!std::filesystem::exists(dir / req))
        continue;  // e.g. "ConfigMap/my-config(not in corpus)"
      Result<LoadedFile> dep = LoadFile((dir / req).string());
      ASSERT_TRUE(dep.ok()) << dep.error().ToString();
      for (const Workflow& wf : dep->workflows) catalog.Add(wf);
    }
    Result<LoadedFile> f = LoadFile(path);
    if (!f.ok()) {
      // k8s-patch-json-workflow.yaml repeats `annotations:` in its metadata.
      EXPECT_THAT(f.error().ToString(), StartsWith(path + ":")) << cols[0];
      EXPECT_FALSE(host_runnable) << f.error().ToString();
      continue;
    }
    ++loaded;
    for (const Workflow& wf : f->workflows) {
      if (wf.kind != "Workflow" && wf.kind != "CronWorkflow") catalog.Add(wf);
    }
    std::vector<std::string> errors;
    for (const Workflow& wf : f->workflows) {
      for (const Diagnostic& d : Lint(wf, catalog)) {
        if (d.severity == Diagnostic::Severity::kError) errors.push_back(d.ToString());
      }
    }
    if (errors.empty()) ++clean;
    if (host_runnable) {
      EXPECT_THAT(errors, IsEmpty()) << cols[0];
    }
  }
  EXPECT_EQ(files, 217);
  EXPECT_GE(loaded, files - 1);
  std::cout << "corpus: " << files << " files, " << loaded << " loaded, " << clean
            << " without errors\n";
}

TEST(LintTest, ArgosCustomMetricsExampleIsQuiet) {
  Result<LoadedFile> f = LoadString(R"(kind: Workflow
metadata: {name: w}
spec:
  entrypoint: main
  metrics:
    prometheus:
    - name: duration_gauge
      labels: [{key: name, value: workflow}]
      help: "Duration gauge by name"
      gauge: {realtime: true, value: "{{workflow.duration}}"}
  templates:
  - name: main
    metrics:
      prometheus:
      - name: random_int_step_histogram
        help: "Value of the int emitted by random-int at step level"
        when: "{{status}} == Succeeded"
        histogram:
          buckets: [2.01, 4.01, 6.01]
          value: "{{outputs.parameters.rand-int-value}}"
      - name: result_counter
        help: "Count of step execution by result status"
        labels: [{key: status, value: "{{status}}"}]
        counter: {value: "1"}
    container: {image: alpine, command: ["true"]}
)",
                                    "t.yaml");
  ASSERT_TRUE(f.ok()) << f.error().ToString();
  const Workflow& wf = f->workflows[0];
  ASSERT_EQ(wf.spec.metrics.size(), 1u);
  EXPECT_TRUE(wf.spec.metrics[0].realtime);
  ASSERT_EQ(wf.spec.templates[0].metrics.size(), 2u);
  const PrometheusMetric& h = wf.spec.templates[0].metrics[0];
  EXPECT_EQ(h.type, PrometheusMetric::Type::kHistogram);
  EXPECT_EQ(h.buckets, (std::vector<std::string>{"2.01", "4.01", "6.01"}));
  EXPECT_EQ(h.when, "{{status}} == Succeeded");
  EXPECT_THAT(Lint(wf, Catalog{}), IsEmpty());
}

TEST(LintTest, BadMetricsAreNamedWithTheirPlace) {
  auto out = LintText(R"(kind: Workflow
metadata: {name: w}
spec:
  entrypoint: main
  metrics:
    prometheus:
    - name: "9lives"
      help: h
      counter: {value: "1"}
    - name: rt
      help: h
      gauge: {realtime: true, value: "{{status}}"}
  templates:
  - name: main
    metrics:
      prometheus:
      - name: no_help
        counter: {value: "1"}
      - name: two_types
        help: h
        counter: {value: "1"}
        gauge: {value: "1"}
      - name: down
        help: h
        histogram: {buckets: [2, 1], value: "3"}
      - name: words
        help: h
        gauge: {value: "many"}
        labels: [{key: "bad-key", value: x}]
      - name: rt
        help: other help
        gauge: {value: "1"}
    container: {image: alpine, command: ["true"]}
)");
  EXPECT_THAT(out,
              Contains("t.yaml:7:7: error: spec.metrics.prometheus name \"9lives\" is not a valid "
                       "Prometheus metric name: use only letters, digits, _ and : (not "
                       "starting with a digit)"));
  EXPECT_THAT(out,
              Contains(AllOf(StartsWith("t.yaml:10:7: error: spec.metrics.prometheus \"rt\" is a "
                                        "realtime gauge whose value uses {{status}}"))));
  EXPECT_THAT(out, Contains(StartsWith("t.yaml:17:9: error: template \"main\" metrics.prometheus "
                                       "\"no_help\" has no help")));
  EXPECT_THAT(out, Contains(StartsWith("t.yaml:19:9: error: template \"main\" metrics.prometheus "
                                       "\"two_types\" has several types")));
  EXPECT_THAT(
      out,
      Contains("t.yaml:23:9: error: template \"main\" metrics.prometheus \"down\" buckets must "
               "increase: 1 follows 2"));
  EXPECT_THAT(
      out, Contains(StartsWith("t.yaml:26:9: error: template \"main\" metrics.prometheus \"words\" "
                               "value \"many\" is not a number")));
  EXPECT_THAT(out, Contains(StartsWith(
                       "t.yaml:29:18: error: template \"main\" metrics.prometheus \"words\" "
                       "label key \"bad-key\" is not a valid Prometheus label")));
  EXPECT_THAT(
      out, Contains(StartsWith("t.yaml:30:9: error: template \"main\" metrics.prometheus \"rt\" is "
                               "declared elsewhere with another type or help")));
  EXPECT_EQ(out.size(), 8u) << ::testing::PrintToString(out);
}

}  // namespace
}  // namespace hubspoke::spec
