// memoize: a template's outputs are cached under its key; a later node with the same key and a
// young enough entry completes with them without running.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine_harness.h"

namespace hubspoke::engine::testing {
namespace {

constexpr const char* kTwice = R"(
kind: Workflow
metadata: {name: wf}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: first, template: square, arguments: {parameters: [{name: n, value: "3"}]}}
    - - {name: again, template: square, arguments: {parameters: [{name: n, value: "3"}]}}
      - {name: other, template: square, arguments: {parameters: [{name: n, value: "4"}]}}
  - name: square
    inputs: {parameters: [{name: n}]}
    memoize:
      key: "square-{{inputs.parameters.n}}"
      maxAge: "1h"
      cache: {configMap: {name: squares}}
    container: {image: alpine, command: [echo, "{{inputs.parameters.n}}"]}
    outputs:
      parameters:
      - {name: out, valueFrom: {path: /tmp/out}, globalName: last-square}
)";

Behavior Squares() {
  return [](const Task& t) {
    Outcome out = DefaultBehavior(t);
    int n = std::stoi(t.command[1]);
    out.files["/tmp/out"] = std::to_string(n * n) + "\n";
    return out;
  };
}

TEST(Memoize, ASecondNodeWithTheSameKeyTakesTheCachedOutputsWithoutRunning) {
  Harness h;
  h.behavior = Squares();
  h.Run(kTwice);
  EXPECT_EQ(h.Status().phase, Phase::kSucceeded);
  EXPECT_EQ(h.dispatched().size(), 2u);  // first (3) and other (4); again (3) came from the cache
  const Node& again = h.NodeNamed("again");
  EXPECT_EQ(again.phase, Phase::kSucceeded);
  EXPECT_TRUE(again.memo_hit);
  EXPECT_EQ(again.memo_key, "square-3");
  EXPECT_EQ(again.memo_cache, "squares");
  EXPECT_EQ(again.result, "3");
  ASSERT_EQ(again.outputs.size(), 1u);
  EXPECT_EQ(again.outputs[0].value, "9");
  const Node& first = h.NodeNamed("first");
  EXPECT_FALSE(first.memo_hit);
  EXPECT_EQ(first.memo_key, "square-3");
}

TEST(Memoize, AnEntryOlderThanMaxAgeIsNotUsed) {
  for (const char* max_age : {"1s", "10s"}) {
    Harness h;
    h.Run(std::string(R"(
kind: Workflow
metadata: {name: wf}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: first, template: square}
    - - {name: pause, template: pause}
    - - {name: again, template: square}
  - name: pause
    container: {image: alpine, command: [sh, -c, "sleep 3"]}
  - name: square
    memoize: {key: same, maxAge: ")") +
          max_age + R"(", cache: {configMap: {name: c}}}
    container: {image: alpine, command: [echo, "5"]}
)");
    const bool young = std::string(max_age) == "10s";  // the entry is 3 s old when asked
    EXPECT_EQ(h.NodeNamed("again").memo_hit, young) << max_age;
    EXPECT_EQ(h.dispatched().size(), young ? 2u : 3u) << max_age;
  }
}

TEST(Memoize, TheCacheOutlivesTheWorkflowAndFailuresAreNotCached) {
  Harness h;
  int runs = 0;
  h.behavior = [&runs](const Task& t) {
    Outcome out = DefaultBehavior(t);
    out.files["/tmp/out"] = "x\n";
    if (++runs == 1) out.exit_code = 1;  // the very first attempt fails
    return out;
  };
  const std::string one = R"(
kind: Workflow
metadata: {generateName: wf-}
spec:
  entrypoint: square
  arguments: {parameters: [{name: n, value: "7"}]}
  templates:
  - name: square
    inputs: {parameters: [{name: n}]}
    memoize: {key: "k-{{inputs.parameters.n}}", cache: {configMap: {name: c}}}
    container: {image: alpine, command: [echo, "{{inputs.parameters.n}}"]}
)";
  h.Run(one);  // fails: nothing cached
  h.Run(one);  // runs and caches
  h.Run(one);  // from the cache
  EXPECT_EQ(runs, 2);
}

}  // namespace
}  // namespace hubspoke::engine::testing
