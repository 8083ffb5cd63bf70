#include "cron/schedule.h"

#include <gtest/gtest.h>

#include <ctime>

#include "common/clock.h"
#include "cron/time_zone.h"

namespace hubspoke::cron {
namespace {

// "2024-03-09T12:00:00Z" -> seconds since the epoch.
int64_t At(const std::string& rfc3339) {
  std::tm tm{};
  strptime(rfc3339.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return timegm(&tm);
}

std::string Iso(std::optional<int64_t> t) {
  return t ? FormatRfc3339(*t * 1'000'000) : std::string("never");
}

Schedule MustParse(const std::string& text) {
  auto s = Schedule::Parse(text);
  EXPECT_TRUE(s.ok()) << s.error().ToString();
  return *s;
}

TimeZone Zone(const std::string& name) {
  auto z = TimeZone::Load(name);
  EXPECT_TRUE(z.ok()) << z.error().ToString();
  return z.ok() ? *z : TimeZone::Utc();
}

std::string NextUtc(const std::string& schedule, const std::string& after) {
  return Iso(MustParse(schedule).Next(At(after), TimeZone::Utc()));
}

TEST(Cron, EveryMinuteFiresAtTheNextWholeMinute) {
  EXPECT_EQ(NextUtc("* * * * *", "2024-01-01T10:00:00Z"), "2024-01-01T10:01:00Z");
  EXPECT_EQ(NextUtc("* * * * *", "2024-01-01T10:00:59Z"), "2024-01-01T10:01:00Z");
}

TEST(Cron, StepsAndRangesInEveryField) {
  Schedule s = MustParse("5-50/15 9-17/4 1,15 */3 *");
  int64_t t = At("2024-01-01T00:00:00Z");
  std::vector<std::string> fires;
  for (int i = 0; i < 6; ++i) {
    t = *s.Next(t, TimeZone::Utc());
    fires.push_back(Iso(t));
  }
  EXPECT_EQ(fires, (std::vector<std::string>{"2024-01-01T09:05:00Z", "2024-01-01T09:20:00Z",
                                             "2024-01-01T09:35:00Z", "2024-01-01T09:50:00Z",
                                             "2024-01-01T13:05:00Z", "2024-01-01T13:20:00Z"}));
  EXPECT_EQ(NextUtc("5-50/15 9-17/4 1,15 */3 *", "2024-01-01T17:51:00Z"), "2024-01-15T09:05:00Z");
  // Months 1,4,7,10: after January the next is April.
  EXPECT_EQ(NextUtc("5-50/15 9-17/4 1,15 */3 *", "2024-01-15T17:50:00Z"), "2024-04-01T09:05:00Z");
  // "10/20": from 10 to the end of the field.
  EXPECT_EQ(NextUtc("10/20 0 * * *", "2024-01-01T00:31:00Z"), "2024-01-01T00:50:00Z");
}

TEST(Cron, MonthAndWeekdayNamesAndSundayAsSeven) {
  // 2024-07-01 is a Monday.
  EXPECT_EQ(NextUtc("0 12 * jul,DEC mon-fri", "2024-01-01T00:00:00Z"), "2024-07-01T12:00:00Z");
  // 2024-01-07 is a Sunday.
  EXPECT_EQ(NextUtc("0 0 * * 7", "2024-01-01T00:00:00Z"), "2024-01-07T00:00:00Z");
  EXPECT_EQ(NextUtc("0 0 * * SUN", "2024-01-01T00:00:00Z"), "2024-01-07T00:00:00Z");
}

TEST(Cron, BothDayFieldsRestrictedFireOnEither) {
  // 2024-09-06 is a Friday; the 13th is one too.
  EXPECT_EQ(NextUtc("0 0 13 * FRI", "2024-09-01T00:00:00Z"), "2024-09-06T00:00:00Z");
  EXPECT_EQ(NextUtc("0 0 13 * FRI", "2024-09-10T00:00:00Z"), "2024-09-13T00:00:00Z");
  EXPECT_EQ(NextUtc("0 0 12 * FRI", "2024-09-10T00:00:00Z"), "2024-09-12T00:00:00Z");
}

TEST(Cron, DescriptorsExpandToTheirFields) {
  EXPECT_EQ(NextUtc("@hourly", "2024-01-01T10:00:00Z"), "2024-01-01T11:00:00Z");
  EXPECT_EQ(NextUtc("@daily", "2024-01-01T10:00:00Z"), "2024-01-02T00:00:00Z");
  EXPECT_EQ(NextUtc("@midnight", "2024-01-01T10:00:00Z"), "2024-01-02T00:00:00Z");
  EXPECT_EQ(NextUtc("@weekly", "2024-01-01T10:00:00Z"), "2024-01-07T00:00:00Z");
  EXPECT_EQ(NextUtc("@monthly", "2024-01-01T10:00:00Z"), "2024-02-01T00:00:00Z");
  EXPECT_EQ(NextUtc("@yearly", "2024-01-01T10:00:00Z"), "2025-01-01T00:00:00Z");
  EXPECT_EQ(NextUtc("@annually", "2024-01-01T10:00:00Z"), "2025-01-01T00:00:00Z");
}

TEST(Cron, EveryDurationCountsFromThePreviousTime) {
  EXPECT_EQ(NextUtc("@every 1s", "2024-01-01T10:00:00Z"), "2024-01-01T10:00:01Z");
  EXPECT_EQ(NextUtc("@every 1h30m", "2024-01-01T10:00:00Z"), "2024-01-01T11:30:00Z");
  EXPECT_EQ(NextUtc("@every 90s", "2024-01-01T10:00:00Z"), "2024-01-01T10:01:30Z");
}

TEST(Cron, MonthEndsSkipMonthsWithoutTheDay) {
  EXPECT_EQ(NextUtc("0 0 31 * *", "2024-04-01T00:00:00Z"), "2024-05-31T00:00:00Z");
  EXPECT_EQ(NextUtc("0 0 30 * *", "2024-01-31T00:00:00Z"), "2024-03-30T00:00:00Z");
}

TEST(Cron, LeapDayFiresOnlyInLeapYears) {
  EXPECT_EQ(NextUtc("0 0 29 2 *", "2024-03-01T00:00:00Z"), "2028-02-29T00:00:00Z");
  EXPECT_EQ(NextUtc("0 0 29 2 *", "2096-03-01T00:00:00Z"), "2104-02-29T00:00:00Z");  // 2100 is not
  EXPECT_EQ(NextUtc("0 0 30 2 *", "2024-01-01T00:00:00Z"), "never");
}

TEST(Cron, TimeZoneShiftsTheFields) {
  // 09:00 in New York in January (EST, UTC-5) and in July (EDT, UTC-4).
  TimeZone ny = Zone("America/New_York");
  Schedule s = MustParse("0 9 * * *");
  EXPECT_EQ(Iso(s.Next(At("2024-01-10T00:00:00Z"), ny)), "2024-01-10T14:00:00Z");
  EXPECT_EQ(Iso(s.Next(At("2024-07-10T00:00:00Z"), ny)), "2024-07-10T13:00:00Z");
}

TEST(Cron, NonexistentLocalTimeIsSkippedAtSpringForward) {
  // 2024-03-10 in New York jumps from 02:00 EST to 03:00 EDT: 02:30 does not happen that day.
  TimeZone ny = Zone("America/New_York");
  Schedule s = MustParse("30 2 * * *");
  EXPECT_EQ(Iso(s.Next(At("2024-03-09T12:00:00Z"), ny)), "2024-03-11T06:30:00Z");
  // An hourly schedule goes from 01:00 EST straight to 03:00 EDT.
  EXPECT_EQ(Iso(MustParse("0 * * * *").Next(At("2024-03-10T06:00:00Z"), ny)),
            "2024-03-10T07:00:00Z");
}

TEST(Cron, RepeatedLocalTimeFiresOnceAtFallBack) {
  // 2024-11-03 in New York repeats 01:00-02:00 (EDT, then EST): 01:30 fires at its first
  // occurrence only.
  TimeZone ny = Zone("America/New_York");
  Schedule s = MustParse("30 1 * * *");
  EXPECT_EQ(Iso(s.Next(At("2024-11-03T00:00:00Z"), ny)), "2024-11-03T05:30:00Z");
  EXPECT_EQ(Iso(s.Next(At("2024-11-03T05:30:00Z"), ny)), "2024-11-04T06:30:00Z");
}

TEST(Cron, BadSchedulesNameTheFieldAndValue) {
  auto err = [](const std::string& text) {
    auto s = Schedule::Parse(text);
    return s.ok() ? std::string("accepted") : s.error().message;
  };
  EXPECT_EQ(err("61 * * * *"),
            "schedule \"61 * * * *\": minute field \"61\": 61 is out of range 0-59");
  EXPECT_EQ(err("* * * *"),
            "schedule \"* * * *\": expected 5 fields (minute hour day-of-month month day-of-week), "
            "got 4");
  EXPECT_EQ(err("0 0 * FOO *"),
            "schedule \"0 0 * FOO *\": month field \"FOO\": \"FOO\" is not a number or a name such "
            "as JAN");
  EXPECT_EQ(err("*/0 * * * *"),
            "schedule \"*/0 * * * *\": minute field \"*/0\": the step must be a "
            "positive number");
  EXPECT_EQ(err("0 5-2 * * *"),
            "schedule \"0 5-2 * * *\": hour field \"5-2\": the range runs backwards");
  EXPECT_EQ(err("@fortnightly"),
            "schedule \"@fortnightly\": unknown descriptor; expected @yearly, @annually, @monthly, "
            "@weekly, @daily, @midnight, @hourly or @every <duration>");
  EXPECT_EQ(err("@every 10x"),
            "schedule \"@every 10x\": \"10x\" is not a duration such as 30s, 5m or 1h30m");
  EXPECT_EQ(err("@every 100ms"), "schedule \"@every 100ms\": @every needs at least one second");
}

TEST(Cron, UnknownTimeZoneIsNamed) {
  auto z = TimeZone::Load("Mars/Olympus");
  ASSERT_FALSE(z.ok());
  EXPECT_NE(z.error().message.find("unknown time zone \"Mars/Olympus\""), std::string::npos);
  EXPECT_FALSE(TimeZone::Load("../../etc/passwd").ok());
}

}  // namespace
}  // namespace hubspoke::cron
