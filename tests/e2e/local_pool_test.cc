// The embedded hub's local spokes as a user sees them through `hubspoke run`.
#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "cli_harness.h"

namespace hubspoke::e2e {
namespace {

// The local pool keeps one task queued beyond its free slots; the queued task must go to the
// slot that frees first, never wait behind a long task on a busy slot.
TEST(LocalPoolTest, QueuedTasksNeverWaitBehindALongTask) {
  TempDir dir;
  std::string file = dir.Write("mixed.yaml", R"(apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: mixed}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - name: work
        template: work
        arguments: {parameters: [{name: secs, value: "{{item}}"}]}
        withItems: ["1.5", "0.1", "0.1", "0.1", "0.1", "0.1"]
  - name: work
    inputs: {parameters: [{name: secs}]}
    container: {image: alpine, command: [sleep, "{{inputs.parameters.secs}}"]}
)");
  CommandResult r = RunCommand(
      {Hubspoke(), "run", file, "-o", "json", "--spokes", "2", "--data", dir.path() + "/s"},
      dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json wf = nlohmann::json::parse(r.out);
  int64_t long_finished = 0, short_last = 0;
  for (const auto& [id, node] : wf["status"]["nodes"].items()) {
    if (node["type"] != "Pod") continue;
    int64_t finished = node["hubspoke"]["finishedAt"];
    if (node["displayName"] == "work(0:1.5)") {
      long_finished = finished;
    } else {
      short_last = std::max(short_last, finished);
    }
  }
  ASSERT_GT(long_finished, 0);
  EXPECT_LT(short_last, long_finished) << "a short task waited behind the long one";
}

}  // namespace
}  // namespace hubspoke::e2e
