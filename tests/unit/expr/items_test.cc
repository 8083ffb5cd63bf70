#include <gtest/gtest.h>

#include <map>

#include "expr/expr.h"

namespace hubspoke::expr {
namespace {

using Strings = std::vector<std::string>;

TEST(Items, ParseItemsReturnsEachElementAsCompactJson) {
  auto items = ParseItems(R"([ "a", 3, {"k": "v"}, [1, 2], true ])");
  ASSERT_TRUE(items.ok()) << items.error().message;
  EXPECT_EQ(*items, (Strings{"\"a\"", "3", "{\"k\":\"v\"}", "[1,2]", "true"}));
}

TEST(Items, ParseItemsRejectsNonListsQuotingTheValue) {
  auto items = ParseItems("{\"a\": 1}");
  ASSERT_FALSE(items.ok());
  EXPECT_NE(items.error().message.find("{\"a\": 1}"), std::string::npos) << items.error().message;
  EXPECT_FALSE(ParseItems("not json").ok());
  EXPECT_FALSE(ParseItems("").ok());
}

TEST(Items, SequenceCountStartsAtZeroByDefault) {
  EXPECT_EQ(*SequenceItems("3", "", "", ""), (Strings{"\"0\"", "\"1\"", "\"2\""}));
  EXPECT_EQ(*SequenceItems("2", "5", "", ""), (Strings{"\"5\"", "\"6\""}));
  EXPECT_EQ(*SequenceItems("0", "", "", ""), Strings{});
}

TEST(Items, SequenceStartEndIsInclusiveAndMayDescend) {
  EXPECT_EQ(*SequenceItems("", "1", "3", ""), (Strings{"\"1\"", "\"2\"", "\"3\""}));
  EXPECT_EQ(*SequenceItems("", "3", "1", ""), (Strings{"\"3\"", "\"2\"", "\"1\""}));
  EXPECT_EQ(*SequenceItems("", "", "0", ""), (Strings{"\"0\""}));
}

TEST(Items, SequenceFormatPadsIntegers) {
  EXPECT_EQ(*SequenceItems("", "8", "10", "%02d"), (Strings{"\"08\"", "\"09\"", "\"10\""}));
  EXPECT_EQ(*SequenceItems("2", "", "", "node-%d"), (Strings{"\"node-0\"", "\"node-1\""}));
  EXPECT_EQ(*SequenceItems("1", "", "", "%s"), (Strings{"\"0\""}));
  EXPECT_EQ(*SequenceItems("1", "255", "", "0x%X 100%%"), (Strings{"\"0xFF 100%\""}));
}

TEST(Items, SequenceFormatAllowsOnlyOneIntegerConversion) {
  for (std::string_view bad :
       {"%n", "%s%s", "%d %d", "plain", "%f", "%999d", "%", "%p", "%.100d"}) {
    EXPECT_FALSE(SequenceItems("1", "", "", bad).ok()) << bad;
  }
}

TEST(Items, SequenceRejectsBadNumbersAndAmbiguity) {
  EXPECT_FALSE(SequenceItems("x", "", "", "").ok());
  EXPECT_FALSE(SequenceItems("-1", "", "", "").ok());
  EXPECT_FALSE(SequenceItems("2", "", "5", "").ok());
  EXPECT_FALSE(SequenceItems("", "", "", "").ok());
  EXPECT_FALSE(SequenceItems("", "-9223372036854775808", "9223372036854775807", "").ok());
  EXPECT_FALSE(SequenceItems("100000000000", "", "", "").ok());
  EXPECT_FALSE(SequenceItems("2", "9223372036854775807", "", "").ok());
}

TEST(Items, ItemTextIsRawForStringsAndJsonOtherwise) {
  EXPECT_EQ(ItemText("\"a b\""), "a b");
  EXPECT_EQ(ItemText("3"), "3");
  EXPECT_EQ(ItemText("true"), "true");
  EXPECT_EQ(ItemText("{\"k\": \"v\"}"), "{\"k\":\"v\"}");
}

TEST(Items, FlattenItemAddsPrefixAndOneLevelOfKeys) {
  std::map<std::string, std::string> got;
  FlattenItem("item", R"({"name": "r1", "size": 5, "meta": {"a": 1}})",
              [&](std::string k, std::string v) { got[k] = v; });
  EXPECT_EQ(got["item"], R"({"meta":{"a":1},"name":"r1","size":5})");
  EXPECT_EQ(got["item.name"], "r1");
  EXPECT_EQ(got["item.size"], "5");
  EXPECT_EQ(got["item.meta"], R"({"a":1})");
  EXPECT_EQ(got.size(), 4u);

  got.clear();
  FlattenItem("item", "\"plain\"", [&](std::string k, std::string v) { got[k] = v; });
  EXPECT_EQ(got, (std::map<std::string, std::string>{{"item", "plain"}}));
}

TEST(Items, ItemDisplaySortsMapKeys) {
  EXPECT_EQ(ItemDisplay(R"({"z": 1, "a": "x"})"), "a:x,z:1");
  EXPECT_EQ(ItemDisplay("\"repo-1\""), "repo-1");
  EXPECT_EQ(ItemDisplay("7"), "7");
}

TEST(Items, PlainItemsReadTheSameAsParsedOnes) {
  // Integers and printable strings take a short way; their neighbours are parsed. Both agree.
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"0", "0"},
      {"42", "42"},
      {"-7", "-7"},
      {"-0", "0"},
      {"007", "007"},  // not JSON: kept as written
      {"1.50", "1.5"},
      {"123456789012345678901", "1.2345678901234568e+20"},  // too long for the short way
      {"\"repo-1\"", "repo-1"},
      {"\"\"", ""},
      {"\"a\\\"b\"", "a\"b"},
      {"\"tab\\tx\"", "tab\tx"},
      {"\"caf\xc3\xa9\"", "caf\xc3\xa9"},
      {"\"", "\""},
      {"-", "-"},
  };
  for (const auto& [json, text] : cases) {
    EXPECT_EQ(ItemText(json), text) << json;
    EXPECT_EQ(ItemDisplay(json), text) << json;
    std::map<std::string, std::string> got;
    FlattenItem("item", json, [&](std::string k, std::string v) { got[k] = v; });
    EXPECT_EQ(got, (std::map<std::string, std::string>{{"item", text}})) << json;
  }
}

TEST(Items, AggregateListParsesJsonValuesAndKeepsOthersAsStrings) {
  EXPECT_EQ(AggregateList({"1", "hello", "{\"a\":1}", "[2]", "true"}),
            R"([1,"hello",{"a":1},[2],true])");
  EXPECT_EQ(AggregateList({}), "[]");
}

TEST(Items, AggregateParametersBuildsOneObjectPerChild) {
  EXPECT_EQ(AggregateParameters({{{"repo", "a"}, {"ok", "true"}}, {{"repo", "b"}}}),
            R"([{"ok":"true","repo":"a"},{"repo":"b"}])");
}

TEST(Items, AggregateParametersListsOnlyChildrenWithParameters) {
  EXPECT_EQ(AggregateParameters({{{"repo", "a"}}, {}, {{"repo", "c"}}}),
            R"([{"repo":"a"},{"repo":"c"}])");
  EXPECT_EQ(AggregateParameters({{}, {}}), "[]");
}

TEST(Items, JsonQuoteEscapes) {
  EXPECT_EQ(JsonQuote("a\"b\n"), "\"a\\\"b\\n\"");
  EXPECT_EQ(JsonQuote(std::string("\xff", 1)), "\"\xEF\xBF\xBD\"");  // invalid UTF-8 replaced
}

}  // namespace
}  // namespace hubspoke::expr
