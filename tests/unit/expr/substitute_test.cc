#include <gtest/gtest.h>

#include "expr/expr.h"
#include "map_scope.h"

namespace hubspoke::expr {
namespace {

const MapScope kScope({{"inputs.parameters.repo", "hubspoke"},
                       {"workflow.parameters.my-param", "dashed"},
                       {"steps.a.outputs.parameters.x", "42"},
                       {"item", "{\"name\":\"a\"}"},
                       {"item.name", "a"},
                       {"tasks.t[0].id", "zero"}});

TEST(Substitute, ReplacesNamesWithTheirValues) {
  auto out = Substitute("repo={{inputs.parameters.repo}}!", kScope, false);
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ(*out, "repo=hubspoke!");
}

TEST(Substitute, AllowsSpacesInsideBraces) {
  EXPECT_EQ(*Substitute("{{ inputs.parameters.repo }}", kScope, false), "hubspoke");
  EXPECT_EQ(*Substitute("{{\tinputs.parameters.repo  }}", kScope, false), "hubspoke");
}

TEST(Substitute, NamesMayContainDashesBracketsAndDots) {
  EXPECT_EQ(*Substitute("{{workflow.parameters.my-param}}", kScope, false), "dashed");
  EXPECT_EQ(*Substitute("{{steps.a.outputs.parameters.x}}", kScope, false), "42");
  EXPECT_EQ(*Substitute("{{tasks.t[0].id}}", kScope, false), "zero");
}

TEST(Substitute, UnknownNameIsAnErrorNamingIt) {
  auto out = Substitute("a {{inputs.parameters.nope}} b", kScope, false);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().message, "failed to resolve {{inputs.parameters.nope}}");
  EXPECT_EQ(out.error().code, ErrorCode::kInvalidArgument);
}

TEST(Substitute, AllowUnresolvedKeepsUnknownPlaceholdersVerbatim) {
  auto out = Substitute("{{ nope }}-{{inputs.parameters.repo}}", kScope, true);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(*out, "{{ nope }}-hubspoke");
}

TEST(Substitute, UnclosedBracesAreKeptAsText) {
  EXPECT_EQ(*Substitute("a {{inputs.parameters.repo", kScope, false), "a {{inputs.parameters.repo");
  EXPECT_EQ(*Substitute("}} {{", kScope, false), "}} {{");
}

TEST(Substitute, ValuesAreNotSubstitutedAgain) {
  MapScope scope({{"a", "{{b}}"}, {"b", "never"}});
  EXPECT_EQ(*Substitute("{{a}}", scope, false), "{{b}}");
}

TEST(Substitute, ExpressionStringResultsAreRaw) {
  EXPECT_EQ(*Substitute("{{=inputs.parameters.repo + '-x'}}", kScope, false), "hubspoke-x");
  EXPECT_EQ(*Substitute("{{= sprig.upper(inputs.parameters.repo) }}", kScope, false), "HUBSPOKE");
}

TEST(Substitute, ExpressionOtherResultsAreJson) {
  EXPECT_EQ(*Substitute("{{=asInt(steps.a.outputs.parameters.x) + 1}}", kScope, false), "43");
  EXPECT_EQ(*Substitute("{{=[1, 'a']}}", kScope, false), "[1,\"a\"]");
  EXPECT_EQ(*Substitute("{{=1 < 2}}", kScope, false), "true");
}

TEST(Substitute, ExpressionWithUnknownVariableIsLeftWhenUnresolvedAllowed) {
  EXPECT_EQ(*Substitute("{{=inputs.parameters.later}}", kScope, true),
            "{{=inputs.parameters.later}}");
  EXPECT_FALSE(Substitute("{{=inputs.parameters.later}}", kScope, false).ok());
}

TEST(Substitute, ExpressionSyntaxErrorIsReportedEvenWhenUnresolvedAllowed) {
  auto out = Substitute("{{= 1 + }}", kScope, true);
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.error().message.find("column"), std::string::npos);
}

TEST(Substitute, SeveralPlaceholdersInOneText) {
  EXPECT_EQ(*Substitute("{{item.name}}/{{item}}/{{inputs.parameters.repo}}", kScope, false),
            "a/{\"name\":\"a\"}/hubspoke");
}

TEST(HasPlaceholders, DetectsDoubleBraces) {
  EXPECT_TRUE(HasPlaceholders("x {{a}}"));
  EXPECT_TRUE(HasPlaceholders("{{"));
  EXPECT_FALSE(HasPlaceholders("x { {a} }"));
  EXPECT_FALSE(HasPlaceholders(""));
}

}  // namespace
}  // namespace hubspoke::expr
