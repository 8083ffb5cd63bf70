#include "common/ids.h"

#include <gtest/gtest.h>

#include <ctime>
#include <set>

#include "common/clock.h"
#include "common/error.h"

namespace hubspoke {
namespace {

TEST(NodeIdTest, RootNodeIdIsTheWorkflowName) { EXPECT_EQ(NodeId("wf-abc", "wf-abc"), "wf-abc"); }

TEST(NodeIdTest, ChildIdIsNameHashedWithFnv1a) {
  // FNV-1a 32 of "a" is 0xe40c292c.
  EXPECT_EQ(Fnv1a32("a"), 0xe40c292cu);
  EXPECT_EQ(NodeId("wf", "wf[0].a"), "wf-" + std::to_string(Fnv1a32("wf[0].a")));
  EXPECT_NE(NodeId("wf", "wf[0].a"), NodeId("wf", "wf[0].b"));
}

TEST(NameGeneratorTest, GenerateNameAddsFiveCharactersAndIsReproducible) {
  NameGenerator a(7), b(7);
  std::string name = a.Generate("spoke-");
  EXPECT_EQ(name.size(), 11u);
  EXPECT_EQ(name.rfind("spoke-", 0), 0u);
  EXPECT_EQ(name, b.Generate("spoke-"));
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) seen.insert(a.Generate("x-"));
  EXPECT_GT(seen.size(), 990u);
}

TEST(ResultTest, CarriesValueOrError) {
  Result<int> ok = 3;
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, 3);
  Result<int> bad = Fail(InvalidArgument("no such template", "f.yaml:3:5"));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().ToString(), "f.yaml:3:5: no such template");
}

TEST(ClockTest, FormatsRfc3339AndFakeClockAdvances) {
  EXPECT_EQ(FormatRfc3339(0), "");
  EXPECT_EQ(FormatRfc3339(1'700'000'000'000'000), "2023-11-14T22:13:20Z");
  EXPECT_EQ(FormatRfc3339(951'782'400'000'000), "2000-02-29T00:00:00Z");  // a leap day
  EXPECT_EQ(FormatRfc3339(1'000'000), "1970-01-01T00:00:01Z");
  EXPECT_EQ(FormatRfc3339(253'402'300'799'000'000), "9999-12-31T23:59:59Z");
  EXPECT_EQ(FormatRfc3339(253'402'300'800'000'000), "10000-01-01T00:00:00Z");
  // Agrees with gmtime/strftime across the years a clock gives (a day and a second apart).
  for (int64_t s = 1; s < 4'102'444'800; s += 86'400 * 37 + 3'601) {
    time_t t = static_cast<time_t>(s);
    struct tm tm_utc;
    gmtime_r(&t, &tm_utc);
    char want[32];
    strftime(want, sizeof want, "%Y-%m-%dT%H:%M:%SZ", &tm_utc);
    ASSERT_EQ(FormatRfc3339(s * 1'000'000 + 999'999), want) << s;
  }
  FakeClock clock;
  Micros t0 = clock.Now();
  clock.Advance(5);
  EXPECT_EQ(clock.Now(), t0 + 5);
}

}  // namespace
}  // namespace hubspoke
