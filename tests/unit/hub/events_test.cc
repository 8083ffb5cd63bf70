// The stored event format: every field the replay needs survives a round trip, and text that is
// not an event of this format is an error that says what is wrong, never a crash.
#include "hub/events.h"

#include <gtest/gtest.h>

namespace hubspoke::hub {
namespace {

TEST(EventsTest, EveryKindRoundTrips) {
  Event submit;
  submit.type = Event::Type::kSubmit;
  submit.now = 17;
  submit.workflow = "fan-x7k2p";
  submit.document = R"({"kind":"Workflow"})";
  submit.options.entrypoint = "main";
  submit.options.parameters = {{"a", "1"}, {"b", "two words"}};
  submit.options.labels = {{"team", "platform"}};
  submit.memo = {R"({"id":"n"})"};
  auto s = DecodeEvent(EncodeEvent(submit));
  ASSERT_TRUE(s.ok()) << s.error().ToString();
  EXPECT_EQ(s->type, Event::Type::kSubmit);
  EXPECT_EQ(s->now, 17);
  EXPECT_EQ(s->workflow, "fan-x7k2p");
  EXPECT_EQ(s->document, submit.document);
  EXPECT_EQ(s->options.parameters, submit.options.parameters);
  EXPECT_EQ(s->options.labels, submit.options.labels);
  EXPECT_EQ(s->memo, submit.memo);

  Event finished;
  finished.type = Event::Type::kFinished;
  finished.result.attempt_id = "fan-1-3";
  finished.result.spoke = "local-2";
  finished.result.lost = true;
  finished.result.exit_code = 3;
  finished.result.stdout_text = "out\n\xff";  // not UTF-8: kept as well as JSON allows
  finished.result.files = {{"/tmp/out", "42"}};
  finished.result.finished_at = 99;
  auto f = DecodeEvent(EncodeEvent(finished));
  ASSERT_TRUE(f.ok()) << f.error().ToString();
  EXPECT_EQ(f->result.attempt_id, "fan-1-3");
  EXPECT_TRUE(f->result.lost);
  EXPECT_EQ(f->result.exit_code, 3);
  EXPECT_EQ(f->result.files, finished.result.files);
  EXPECT_EQ(f->result.finished_at, 99);

  Event resume;
  resume.type = Event::Type::kResume;
  resume.workflow = "wait";
  resume.outputs = {{"approved", "yes"}};
  auto r = DecodeEvent(EncodeEvent(resume));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->workflow, "wait");
  ASSERT_EQ(r->outputs.size(), 1u);
  EXPECT_EQ(r->outputs[0].value, "yes");
}

TEST(EventsTest, MalformedOrForeignTextIsAClearError) {
  for (const char* text :
       {"", "not json", "[]", R"({"v":1})", R"({"v":1,"type":"explode","now":1})",
        R"({"v":1,"type":"started","now":"soon"})",
        R"({"v":2,"type":"timer","now":1,"timer":"k"})"}) {
    auto e = DecodeEvent(text);
    ASSERT_FALSE(e.ok()) << text;
    EXPECT_FALSE(e.error().message.empty());
  }
  EXPECT_NE(
      DecodeEvent(R"({"v":2,"type":"timer","now":1,"timer":"k"})").error().message.find("format 2"),
      std::string::npos);
}

}  // namespace
}  // namespace hubspoke::hub
