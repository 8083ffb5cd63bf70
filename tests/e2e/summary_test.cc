// `hubspoke summary` as a user runs it after `hubspoke run`: the text is the summary `get` shows,
// -o json has the documented counts and lists failed items with their messages, -o html is one
// well-formed page with a bar per task.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cli_harness.h"

namespace hubspoke::e2e {
namespace {

using Json = nlohmann::json;

constexpr const char* kFanOut = R"(apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: fan}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - name: work
        template: work
        arguments: {parameters: [{name: code, value: "{{item}}"}]}
        withItems: ["0", "3", "0", "4", "0"]
  - name: work
    inputs: {parameters: [{name: code}]}
    container:
      image: alpine
      command: [sh, -c, "exit {{inputs.parameters.code}}"]
)";

// Checks that every element of an HTML page is closed in order (void elements and <x/> aside) and
// prints the number of <rect class="task ..."> bars.
constexpr const char* kHtmlCheck = R"(
import sys
from html.parser import HTMLParser
VOID = {"meta", "br", "hr", "img", "input", "link", "col", "area", "base", "wbr", "source"}
class Check(HTMLParser):
    def __init__(self):
        super().__init__()
        self.stack, self.bars = [], 0
    def handle_starttag(self, tag, attrs):
        if tag == "rect" and (dict(attrs).get("class") or "").startswith("task "):
            self.bars += 1
        if tag not in VOID:
            self.stack.append(tag)
    def handle_startendtag(self, tag, attrs):
        pass
    def handle_endtag(self, tag):
        if not self.stack or self.stack.pop() != tag:
            sys.exit("unbalanced </%s> at line %d" % (tag, self.getpos()[0]))
c = Check()
c.feed(open(sys.argv[1]).read())
c.close()
if c.stack:
    sys.exit("unclosed: %s" % c.stack)
print(c.bars)
)";

class SummaryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = dir_.path() + "/state";
    CommandResult run = RunCommand({Hubspoke(), "run", dir_.Write("fan.yaml", kFanOut), "--data",
                                    data_, "--spokes", "2", "-q"},
                                   dir_.path());
    ASSERT_EQ(run.exit_code, 1) << run.err;  // two items fail
  }

  CommandResult Summary(const std::string& output) {
    std::vector<std::string> args = {Hubspoke(), "summary", "fan", "--data", data_};
    if (!output.empty()) args.insert(args.end(), {"-o", output});
    return RunCommand(args, dir_.path());
  }

  TempDir dir_;
  std::string data_;
};

TEST_F(SummaryTest, TextIsTheSummaryGetShows) {
  CommandResult summary = Summary("");
  ASSERT_EQ(summary.exit_code, 0) << summary.err;
  EXPECT_NE(summary.out.find("Fan-out work: 5 total, 3 succeeded, 2 failed, 0 skipped"),
            std::string::npos)
      << summary.out;
  CommandResult get = RunCommand({Hubspoke(), "get", "fan", "--data", data_}, dir_.path());
  ASSERT_EQ(get.exit_code, 0) << get.err;
  ASSERT_GE(get.out.size(), summary.out.size());
  // Durations are measured up to "now" only while running: the run has finished, so they agree.
  EXPECT_EQ(get.out.substr(get.out.size() - summary.out.size()), summary.out);
}

TEST_F(SummaryTest, JsonCountsTasksAndListsFailedItemsWithMessages) {
  CommandResult summary = Summary("json");
  ASSERT_EQ(summary.exit_code, 0) << summary.err;
  Json s = Json::parse(summary.out);
  EXPECT_EQ(s["name"], "fan");
  EXPECT_EQ(s["phase"], "Failed");
  EXPECT_EQ(s["tasks"]["total"], 5);
  EXPECT_EQ(s["tasks"]["Succeeded"], 3);
  EXPECT_EQ(s["tasks"]["Failed"], 2);
  EXPECT_EQ(s["tasks"]["Running"], 0);
  ASSERT_EQ(s["fanouts"].size(), 1u);
  const Json& work = s["fanouts"][0];
  EXPECT_EQ(work["name"], "work");
  EXPECT_EQ(work["total"], 5);
  EXPECT_EQ(work["succeeded"], 3);
  EXPECT_EQ(work["failed"], 2);
  ASSERT_EQ(work["failedTasks"].size(), 2u);
  EXPECT_EQ(work["failedTasks"][0]["name"], "work(1:3)");
  EXPECT_EQ(work["failedTasks"][1]["name"], "work(3:4)");
  for (const Json& t : work["failedTasks"]) {
    EXPECT_EQ(t["phase"], "Failed");
    EXPECT_EQ(t["workflow"], "fan");
    EXPECT_NE(t["message"].get<std::string>().find("exit code"), std::string::npos) << t;
    EXPECT_NE(t["spoke"].get<std::string>().find("local-"), std::string::npos) << t;
  }
  EXPECT_EQ(s["failedTasks"].size(), 0u);
  EXPECT_EQ(s["slowestTasks"].size(), 5u);
  int spoke_tasks = 0;
  for (const Json& sp : s["spokes"]) spoke_tasks += sp["tasks"].get<int>();
  EXPECT_EQ(spoke_tasks, 5);
  EXPECT_GT(s["wallSeconds"].get<double>(), 0);
  EXPECT_GT(s["taskSeconds"].get<double>(), 0);
}

TEST_F(SummaryTest, HtmlIsOneWellFormedPageWithABarPerTask) {
  CommandResult summary = Summary("html");
  ASSERT_EQ(summary.exit_code, 0) << summary.err;
  EXPECT_EQ(summary.out.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_NE(summary.out.find("<svg"), std::string::npos);
  // Self-contained: nothing is fetched from elsewhere.
  EXPECT_EQ(summary.out.find("src="), std::string::npos);
  EXPECT_EQ(summary.out.find("href="), std::string::npos);
  CommandResult check =
      RunCommand({"python3", dir_.Write("check.py", kHtmlCheck), dir_.Write("s.html", summary.out)},
                 dir_.path());
  ASSERT_EQ(check.exit_code, 0) << check.err;
  EXPECT_EQ(check.out, "5\n");
}

}  // namespace
}  // namespace hubspoke::e2e
