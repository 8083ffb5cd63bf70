// daemon steps: a daemon step is done once its process runs; the steps after it go on while it
// serves them, and it is killed when the template that started it ends.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "engine_harness.h"

namespace hubspoke::engine::testing {
namespace {

using ::testing::Contains;

constexpr const char* kDaemon = R"(
kind: Workflow
metadata: {name: wf}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: server, template: serve}
    - - name: client
        template: call
        arguments: {parameters: [{name: ip, value: "{{steps.server.ip}}"}]}
    - - {name: after, template: call, arguments: {parameters: [{name: ip, value: x}]}}
  - name: serve
    daemon: true
    container: {image: nginx, command: [sh, -c, "sleep 1000"]}
  - name: call
    inputs: {parameters: [{name: ip}]}
    container: {image: alpine, command: [echo, "{{inputs.parameters.ip}}"]}
)";

TEST(Daemon, StepsAfterADaemonRunWhileItServesAndItIsKilledWhenItsScopeEnds) {
  Harness h;
  h.Run(kDaemon);
  EXPECT_EQ(h.Status().phase, Phase::kSucceeded);
  EXPECT_LT(h.clock().Now() - h.Status().started_at, 10 * kSecond);  // not the daemon's 1000 s
  EXPECT_EQ(h.NodeNamed("server").phase, Phase::kSucceeded);
  EXPECT_THAT(h.log(), Contains("cancel server"));
  // The daemon is killed only after the last step of its scope.
  auto at = [&](const std::string& line) {
    return std::find(h.log().begin(), h.log().end(), line) - h.log().begin();
  };
  EXPECT_LT(at("end after"), at("cancel server"));
  EXPECT_EQ(h.running(), 0);
}

TEST(Daemon, ItsAddressIsTheSpokeThatRunsIt) {
  Harness h;
  h.Run(kDaemon);
  ASSERT_GE(h.dispatched().size(), 2u);
  EXPECT_EQ(h.dispatched()[1].command[1], "spoke-1");  // {{steps.server.ip}}
}

TEST(Daemon, ADaemonThatFailsBeforeItRunsFailsItsStep) {
  Harness h;
  h.behavior = [](const Task& t) {
    Outcome out = DefaultBehavior(t);
    if (t.image == "nginx") out.started = false;
    return out;
  };
  h.Run(kDaemon);
  EXPECT_EQ(h.NodeNamed("server").phase, Phase::kError);
  EXPECT_TRUE(IsFailedOrError(h.Status().phase));
  EXPECT_EQ(h.dispatched().size(), 1u);  // nothing after it ran
}

}  // namespace
}  // namespace hubspoke::engine::testing
