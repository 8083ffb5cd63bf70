#include "spec/catalog.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "spec/loader.h"

namespace hubspoke::spec {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

std::vector<Workflow> Load(const std::string& yaml, const std::string& file = "t.yaml") {
  Result<LoadedFile> f = LoadString(yaml, file);
  EXPECT_TRUE(f.ok()) << f.error().ToString();
  return f.ok() ? f->workflows : std::vector<Workflow>{};
}

Catalog CatalogOf(const std::string& yaml) {
  Catalog c;
  for (Workflow& wf : Load(yaml, "templates.yaml")) c.Add(std::move(wf));
  return c;
}

std::vector<std::string> Names(const Workflow& wf) {
  std::vector<std::string> names;
  for (const Template& t : wf.spec.templates) names.push_back(t.name);
  return names;
}

const char* kTemplates = R"(kind: WorkflowTemplate
metadata: {name: lib}
spec:
  entrypoint: outer
  arguments:
    parameters:
    - {name: a, value: from-template}
    - {name: b, value: kept}
  templates:
  - name: outer
    steps:
    - - name: s
        template: inner
        onExit: cleanup
        hooks:
          running: {template: watch}
      - name: r
        templateRef: {name: other, template: leaf}
  - {name: inner, container: {image: busybox}}
  - {name: cleanup, container: {image: busybox}}
  - {name: watch, container: {image: busybox}}
  - {name: unused, container: {image: busybox}}
---
kind: WorkflowTemplate
metadata: {name: other}
spec:
  templates:
  - {name: leaf, container: {image: alpine}}
)";

TEST(CatalogTest, ParametersTakeTheirValuesFromTheConfigMapsGiven) {
  Result<LoadedFile> f = LoadString(R"(
apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data: {msg: hello from the config map, limit: "3"}
---
kind: Workflow
metadata: {name: wf}
spec:
  entrypoint: main
  arguments:
    parameters:
    - {name: global, valueFrom: {configMapKeyRef: {name: settings, key: msg}}}
  templates:
  - name: main
    inputs:
      parameters:
      - {name: local, valueFrom: {configMapKeyRef: {name: settings, key: limit}}}
    container: {image: alpine, command: [echo]}
)",
                                    "cm.yaml");
  ASSERT_TRUE(f.ok()) << f.error().ToString();
  ASSERT_EQ(f->config_maps.size(), 1u);
  EXPECT_EQ(f->config_maps[0].name, "settings");
  Catalog catalog;
  catalog.AddConfigMap(f->config_maps[0]);
  Result<Workflow> wf = Resolve(f->workflows[0], catalog);
  ASSERT_TRUE(wf.ok()) << wf.error().ToString();
  EXPECT_EQ(wf->spec.arguments.parameters[0].value, "hello from the config map");
  EXPECT_EQ(wf->spec.templates[0].inputs.parameters[0].default_value, "3");
  EXPECT_FALSE(wf->spec.templates[0].inputs.parameters[0].value_from.has_value());
}

TEST(CatalogTest, AddFindAndNames) {
  Catalog c = CatalogOf(kTemplates);
  EXPECT_THAT(c.Names(), ElementsAre("lib", "other"));
  ASSERT_NE(c.Find("lib"), nullptr);
  EXPECT_EQ(c.Find("lib")->spec.entrypoint, "outer");
  EXPECT_EQ(c.Find("missing"), nullptr);
}

TEST(CatalogTest, ResolveMergesWorkflowArgumentsOverTemplateArguments) {
  Catalog c = CatalogOf(kTemplates);
  Workflow wf = Load(R"(kind: Workflow
metadata: {generateName: x-}
spec:
  workflowTemplateRef: {name: lib}
  arguments:
    parameters:
    - {name: a, value: from-workflow}
    - {name: c, value: new}
)")[0];
  Result<Workflow> r = Resolve(wf, c);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_FALSE(r->spec.workflow_template_ref.has_value());
  EXPECT_EQ(r->spec.entrypoint, "outer");
  EXPECT_EQ(r->metadata.generate_name, "x-");
  const auto& p = r->spec.arguments.parameters;
  ASSERT_EQ(p.size(), 3u);
  EXPECT_EQ(p[0].name, "a");
  EXPECT_EQ(p[0].value, "from-workflow");
  EXPECT_EQ(p[1].value, "kept");
  EXPECT_EQ(p[2].value, "new");
}

TEST(CatalogTest, ResolveKeepsWorkflowOwnTemplatesWithPrecedence) {
  Catalog c = CatalogOf(kTemplates);
  Workflow wf = Load(R"(kind: Workflow
spec:
  entrypoint: mine
  workflowTemplateRef: {name: lib}
  templates:
  - {name: inner, container: {image: mine}}
  - {name: mine, container: {image: mine}}
)")[0];
  Result<Workflow> r = Resolve(wf, c);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->spec.entrypoint, "mine");
  ASSERT_NE(r->FindTemplate("inner"), nullptr);
  EXPECT_EQ(r->FindTemplate("inner")->container->image, "mine");
  EXPECT_NE(r->FindTemplate("mine"), nullptr);
  EXPECT_NE(r->FindTemplate("outer"), nullptr);
}

TEST(CatalogTest, ResolveCopiesTemplateRefsAndTheirLocalReferencesWithPrefix) {
  Catalog c = CatalogOf(kTemplates);
  Workflow wf = Load(R"(kind: Workflow
spec:
  entrypoint: main
  templates:
  - name: main
    dag:
      tasks:
      - name: call
        templateRef: {name: lib, template: outer}
)")[0];
  Result<Workflow> r = Resolve(wf, c);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_THAT(Names(*r), ElementsAre("main", "lib/inner", "lib/cleanup", "lib/watch", "other/leaf",
                                     "lib/outer"));
  const Step& call = r->FindTemplate("main")->dag->tasks[0];
  EXPECT_EQ(call.template_name, "lib/outer");
  EXPECT_FALSE(call.template_ref.has_value());
  const Template* outer = r->FindTemplate("lib/outer");
  ASSERT_NE(outer, nullptr);
  const Step& s = outer->steps[0][0];
  EXPECT_EQ(s.template_name, "lib/inner");
  EXPECT_EQ(s.on_exit, "lib/cleanup");
  EXPECT_EQ(s.hooks[0].template_name, "lib/watch");
  EXPECT_EQ(outer->steps[0][1].template_name, "other/leaf");
  EXPECT_EQ(r->FindTemplate("other/leaf")->container->image, "alpine");
}

TEST(CatalogTest, ResolveNamesMissingWorkflowTemplateAndWhere) {
  Catalog c = CatalogOf(kTemplates);
  Workflow wf = Load("kind: Workflow\nspec:\n  workflowTemplateRef: {name: nope}\n")[0];
  Result<Workflow> r = Resolve(wf, c);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error().ToString(),
              AllOf(StartsWith("t.yaml:1:1: "), HasSubstr("\"nope\""), HasSubstr("lib, other")));
}

TEST(CatalogTest, ResolveNamesMissingTemplateOfWorkflowTemplate) {
  Catalog c = CatalogOf(kTemplates);
  Workflow wf = Load(R"(kind: Workflow
spec:
  templates:
  - name: main
    steps:
    - - name: x
        templateRef: {name: other, template: nope}
)")[0];
  Result<Workflow> r = Resolve(wf, c);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().ToString(),
            "t.yaml:6:9: template \"nope\" is not defined in WorkflowTemplate \"other\" "
            "(defined: leaf)");
}

TEST(CatalogTest, FromTemplateBuildsWorkflowLikeArgoSubmitFrom) {
  Catalog c = CatalogOf(kTemplates);
  Result<Workflow> r = FromTemplate("lib", c);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->kind, "Workflow");
  EXPECT_EQ(r->metadata.generate_name, "lib-");
  EXPECT_EQ(r->DisplayName(), "lib-");
  EXPECT_EQ(r->spec.entrypoint, "outer");
  EXPECT_NE(r->FindTemplate("other/leaf"), nullptr);
  EXPECT_THAT(r->source_json, HasSubstr(R"("workflowTemplateRef":{"name":"lib"})"));
  Result<Workflow> missing = FromTemplate("nope", c);
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.error().message, HasSubstr("\"nope\" is not loaded (loaded: lib, other)"));
}

TEST(CatalogTest, OverrideParametersReplacesDeclaredAndAddsOthers) {
  Workflow wf = Load(R"(kind: Workflow
spec:
  arguments:
    parameters:
    - {name: a, value: "1"}
)")[0];
  OverrideParameters(wf, {{"a", "2"}, {"b", "3"}});
  const auto& p = wf.spec.arguments.parameters;
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[0].value, "2");
  EXPECT_EQ(p[1].name, "b");
  EXPECT_EQ(p[1].value, "3");
}

}  // namespace
}  // namespace hubspoke::spec
