#include "common/json_writer.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace hubspoke {
namespace {

TEST(JsonWriterTest, CommasSeparateMembersAndElementsAtEveryDepth) {
  JsonWriter w;
  w.BeginObject().Member("a", 1).Key("b").BeginArray().Int(1).String("x").BeginObject().EndObject();
  w.BeginArray().EndArray().EndArray().Member("c", true).EndObject();
  EXPECT_EQ(w.text(), R"({"a":1,"b":[1,"x",{},[]],"c":true})");
  EXPECT_NO_THROW((void)nlohmann::json::parse(w.text()));
}

TEST(JsonWriterTest, EscapesQuotesBackslashesAndControlCharacters) {
  JsonWriter w;
  w.BeginObject().Member("k\"ey", std::string("a\"b\\c\n\t\x01 \x1f")).EndObject();
  EXPECT_EQ(w.text(), R"({"k\"ey":"a\"b\\c\n\t\u0001 \u001f"})");
  EXPECT_EQ(nlohmann::json::parse(w.text())["k\"ey"], "a\"b\\c\n\t\x01 \x1f");
}

TEST(JsonWriterTest, KeepsValidUtf8AndReplacesInvalidBytes) {
  std::string valid = "\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80";  // é € 😀
  std::string out;
  AppendJsonEscaped(out, valid);
  EXPECT_EQ(out, valid);
  // A lone continuation byte, an overlong '/', a surrogate and a truncated sequence.
  out.clear();
  AppendJsonEscaped(out,
                    "a\x80"
                    "b\xC0\xAF"
                    "c\xED\xA0\x80"
                    "d\xE2\x82");
  EXPECT_EQ(out,
            "a\xEF\xBF\xBD"
            "b\xEF\xBF\xBD\xEF\xBF\xBD"
            "c\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"
            "d\xEF\xBF\xBD\xEF\xBF\xBD");
  JsonWriter w;
  w.String(std::string("\xff\xfe"));
  EXPECT_NO_THROW((void)nlohmann::json::parse(w.text()));
}

TEST(JsonWriterTest, ClearStartsANewTextWithoutAStrayComma) {
  JsonWriter w;
  w.BeginObject().Member("a", 1).Key("b");
  w.Clear();
  w.BeginArray().Int(1).Int(2).EndArray();
  EXPECT_EQ(w.text(), "[1,2]");
}

TEST(JsonWriterTest, StringMapIsAnObjectOfItsMembersInOrder) {
  JsonWriter w;
  w.BeginArray().StringMap({{"b", "2"}, {"a", "\"1\""}}).StringMap({}).EndArray();
  EXPECT_EQ(w.text(), R"([{"a":"\"1\"","b":"2"},{}])");
}

TEST(JsonWriterTest, WritesIntegersAtTheirLimits) {
  JsonWriter w;
  w.BeginArray().Int(INT64_MIN).Int(INT64_MAX).Int(0).Bool(false).Raw("null").EndArray();
  EXPECT_EQ(w.text(), "[-9223372036854775808,9223372036854775807,0,false,null]");
}

}  // namespace
}  // namespace hubspoke
