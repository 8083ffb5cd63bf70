// Times and durations in the expr dialect (expr-lang's now(), date(), duration(), time arithmetic
// and the methods of time.Duration), with now() reading a FakeClock the scope provides.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "expr/expr.h"
#include "map_scope.h"

namespace hubspoke::expr {
namespace {

using ::testing::HasSubstr;

// 2024-01-01T00:10:00Z
constexpr Micros kNow = 1'704'067'800'000'000;

// A scope with a clock and typed variables: `last` is 2024-01-01T00:05:00Z, `never` is nil.
class TimeScope final : public MapScope {
 public:
  explicit TimeScope(const Clock& clock)
      : MapScope({{"text", "2024-01-01T00:05:00Z"}, {"last", "ignored in {{= }}"}}),
        clock_(clock) {}
  std::optional<TypedValue> LookupTyped(std::string_view name) const override {
    if (name == "last") return TypedValue::Time(kNow - 300'000'000);
    if (name == "never") return TypedValue::Nil();
    return std::nullopt;
  }
  const Clock* clock() const override { return &clock_; }

 private:
  const Clock& clock_;
};

class ExprTime : public ::testing::Test {
 protected:
  std::string Eval(std::string_view expression) { return EvalIn(scope_, expression); }
  std::string EvalError(std::string_view expression) { return EvalErrorIn(scope_, expression); }

  FakeClock clock_{kNow};
  TimeScope scope_{clock_};
};

TEST_F(ExprTime, NowReadsTheCallersClock) {
  EXPECT_EQ(Eval("now()"), "\"2024-01-01T00:10:00Z\"");
  clock_.Advance(1'500'000);
  EXPECT_EQ(Eval("now()"), "\"2024-01-01T00:10:01.5Z\"");
  EXPECT_EQ(Eval("now().Unix()"), "1704067801");
}

TEST_F(ExprTime, NowIsAnErrorWithoutAClock) {
  MapScope plain({});
  EXPECT_THAT(EvalErrorIn(plain, "1 + now()"),
              HasSubstr("now() is not available here at column 5"));
}

TEST_F(ExprTime, TimeMinusTimeIsADurationWithSecondsMinutesAndHours) {
  EXPECT_EQ(Eval("(now() - last).Seconds()"), "300");
  EXPECT_EQ(Eval("(now() - last).Minutes()"), "5");
  EXPECT_EQ(Eval("(now() - last).Hours()"), "0.08333333333333333");
  EXPECT_EQ(Eval("(last - now()).Seconds()"), "-300");
  EXPECT_EQ(Eval("(now() - last).Milliseconds()"), "300000");
  // A duration in a result is its nanoseconds, as Go's JSON encoding writes it.
  EXPECT_EQ(Eval("now() - last"), "300000000000");
}

TEST_F(ExprTime, TimesInsideListsAndMapsAreWrittenInTheirJsonForms) {
  EXPECT_EQ(Eval("[last, now() - last]"), "[\"2024-01-01T00:05:00Z\",300000000000]");
  EXPECT_EQ(Eval("toJSON({at: last})"), "\"{\\\"at\\\":\\\"2024-01-01T00:05:00Z\\\"}\"");
  EXPECT_EQ(Eval("string(last)"), "\"2024-01-01T00:05:00Z\"");
}

TEST_F(ExprTime, TimePlusOrMinusADurationIsATime) {
  EXPECT_EQ(Eval("last + duration('1h30m')"), "\"2024-01-01T01:35:00Z\"");
  EXPECT_EQ(Eval("duration('1m') + last"), "\"2024-01-01T00:06:00Z\"");
  EXPECT_EQ(Eval("last - duration('5m') == date('2024-01-01T00:00:00Z')"), "true");
  EXPECT_EQ(Eval("(duration('1h') - duration('90m')).Minutes()"), "-30");
  EXPECT_EQ(Eval("(-duration('2s')).Seconds()"), "-2");
}

TEST_F(ExprTime, TimesAndDurationsCompare) {
  EXPECT_EQ(Eval("now() > last"), "true");
  EXPECT_EQ(Eval("now() <= last"), "false");
  EXPECT_EQ(Eval("last == date('2024-01-01T01:05:00+01:00')"), "true");
  EXPECT_EQ(Eval("now() - last >= duration('5m')"), "true");
  EXPECT_EQ(Eval("now() - last < duration('299s')"), "false");
  EXPECT_EQ(Eval("now() == nil"), "false");
}

TEST_F(ExprTime, TypedVariablesAreNilOrTimesAndTextStaysText) {
  EXPECT_EQ(Eval("never == nil"), "true");
  EXPECT_EQ(Eval("last == nil"), "false");
  EXPECT_EQ(Eval("text"), "\"2024-01-01T00:05:00Z\"");
  EXPECT_EQ(Eval("now() - date(text) == now() - last"), "true");
  // Plain substitution reads the text value, `{{= }}` the typed one.
  auto text = Substitute("{{last}} / {{= last }}", scope_, false);
  ASSERT_TRUE(text.ok()) << text.error().message;
  EXPECT_EQ(*text, "ignored in {{= }} / 2024-01-01T00:05:00Z");
}

TEST_F(ExprTime, ArgoCronWhenRunsFirstThenOnlyAfterSixMinutes) {
  const char* when = "never == nil || (now() - never).Seconds() > 360";
  EXPECT_EQ(Eval(when), "true");
  EXPECT_EQ(Eval("last == nil || (now() - last).Seconds() > 360"), "false");
  clock_.Advance(61'000'000);
  EXPECT_EQ(Eval("last == nil || (now() - last).Seconds() > 360"), "true");
}

TEST_F(ExprTime, DurationParsesGoDurations) {
  EXPECT_EQ(Eval("duration('1h').Seconds()"), "3600");
  EXPECT_EQ(Eval("duration('1.5h').Minutes()"), "90");
  EXPECT_EQ(Eval("duration('-1m30s').Seconds()"), "-90");
  EXPECT_EQ(Eval("duration('300ms').Seconds()"), "0.3");
  EXPECT_EQ(Eval("duration('1us') + duration('1ns')"), "1001");
  EXPECT_EQ(Eval("duration('0')"), "0");
  EXPECT_THAT(EvalError("duration('1d')"), HasSubstr("Go duration"));
  EXPECT_THAT(EvalError("duration('h')"), HasSubstr("Go duration"));
  EXPECT_THAT(EvalError("duration('')"), HasSubstr("Go duration"));
  EXPECT_THAT(EvalError("duration('9999999h')"), HasSubstr("Go duration"));
}

TEST_F(ExprTime, DateParsesRfc3339) {
  EXPECT_EQ(Eval("date('2024-03-05T07:08:09.25+02:00')"), "\"2024-03-05T05:08:09.25Z\"");
  EXPECT_EQ(Eval("date('1970-01-01T00:00:01Z').Unix()"), "1");
  EXPECT_THAT(EvalError("date('yesterday')"), HasSubstr("RFC 3339"));
  EXPECT_THAT(EvalError("date('2024-01-01', '2006-01-02')"), HasSubstr("layout"));
}

TEST_F(ExprTime, MismatchedOperandsAreErrorsWithTheirColumn) {
  EXPECT_THAT(EvalError("1 + (now() + now())"), HasSubstr("time.Time + time.Time at column 12"));
  EXPECT_THAT(EvalError("duration('1s') - now()"),
              HasSubstr("time.Duration - time.Time at column 16"));
  EXPECT_THAT(EvalError("now() < duration('1s')"), HasSubstr("time.Time < time.Duration"));
  EXPECT_THAT(EvalError("now() + 1"), HasSubstr("time.Time + int"));
  EXPECT_THAT(EvalError("now().Seconds()"),
              HasSubstr("type time.Time has no method Seconds at column 6"));
  EXPECT_THAT(EvalError("text.Hours()"), HasSubstr("type string has no method Hours"));
  EXPECT_THAT(EvalError("(now() - last).Seconds(1)"),
              HasSubstr("Seconds() expects 0 argument(s), got 1"));
  EXPECT_THAT(EvalError("now(1)"), HasSubstr("now() expects 0 argument(s), got 1 at column 1"));
}

}  // namespace
}  // namespace hubspoke::expr
