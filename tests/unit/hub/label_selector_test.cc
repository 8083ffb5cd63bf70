#include "hub/label_selector.h"

#include <gtest/gtest.h>

namespace hubspoke::hub {
namespace {

bool Selects(const std::string& selector, const std::map<std::string, std::string>& labels) {
  auto parsed = LabelSelector::Parse(selector);
  EXPECT_TRUE(parsed.ok()) << selector << ": " << parsed.error().ToString();
  return parsed.ok() && parsed->Matches(labels);
}

TEST(LabelSelectorTest, EmptySelectsEverything) {
  EXPECT_TRUE(Selects("", {}));
  EXPECT_TRUE(Selects("  ", {{"a", "b"}}));
}

TEST(LabelSelectorTest, EqualityAndInequality) {
  std::map<std::string, std::string> labels = {{"team", "infra"}, {"env", "prod"}};
  EXPECT_TRUE(Selects("team=infra", labels));
  EXPECT_TRUE(Selects("team==infra", labels));
  EXPECT_FALSE(Selects("team=web", labels));
  EXPECT_TRUE(Selects("team!=web", labels));
  EXPECT_FALSE(Selects("team!=infra", labels));
  EXPECT_TRUE(Selects("owner!=me", labels)) << "!= holds when the label is absent";
  EXPECT_TRUE(Selects("team=infra, env=prod", labels));
  EXPECT_FALSE(Selects("team=infra,env=dev", labels));
}

TEST(LabelSelectorTest, ExistenceAndSets) {
  std::map<std::string, std::string> labels = {{"workflows.argoproj.io/phase", "Running"}};
  EXPECT_TRUE(Selects("workflows.argoproj.io/phase", labels));
  EXPECT_FALSE(Selects("!workflows.argoproj.io/phase", labels));
  EXPECT_TRUE(Selects("!team", labels));
  EXPECT_TRUE(Selects("workflows.argoproj.io/phase in (Pending, Running)", labels));
  EXPECT_FALSE(Selects("workflows.argoproj.io/phase notin (Pending,Running)", labels));
  EXPECT_TRUE(Selects("team notin (a,b),workflows.argoproj.io/phase in (Running)", labels));
  EXPECT_FALSE(Selects("team in (a,b)", labels));
}

TEST(LabelSelectorTest, MalformedRequirementsAreErrorsNamingThem) {
  for (const char* bad : {"a=b,", "=b", "k in a,b", "k in (a,b", "k in (a b)", "!", "a b=c"}) {
    auto parsed = LabelSelector::Parse(bad);
    ASSERT_FALSE(parsed.ok()) << bad;
    EXPECT_EQ(parsed.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(parsed.error().message.find("label selector"), std::string::npos);
  }
}

}  // namespace
}  // namespace hubspoke::hub
