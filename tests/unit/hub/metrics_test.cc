// The hub's Prometheus metrics after real runs on local spokes: workflow, node and task counts,
// dispatch and task histograms, per-WorkflowTemplate run time, and the custom metrics workflows
// declare (counters with `when`, histograms with buckets, realtime gauges).
#include "hub/metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <sstream>
#include <thread>

#include "hub/hub.h"
#include "spec/loader.h"
#include "store/store.h"

namespace hubspoke::hub {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;

// Series of the text exposition format: `name{labels}` -> value.
std::map<std::string, double> Parse(const std::string& text) {
  std::map<std::string, double> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    size_t space = line.rfind(' ');
    out[line.substr(0, space)] = std::stod(line.substr(space + 1));
  }
  return out;
}

class MetricsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string root = std::string(HUBSPOKE_BINARY_DIR) + "/test-tmp";
    std::filesystem::create_directories(root);
    std::string tmpl = root + "/metrics-XXXXXX";
    dir_ = mkdtemp(tmpl.data());
    auto store = store::OpenSqlite({dir_ + "/hubspoke.db"});
    ASSERT_TRUE(store.ok()) << store.error().ToString();
    HubOptions o;
    o.data_dir = dir_;
    o.local_spokes = 2;
    o.forget_finished = true;
    hub_ = std::make_unique<Hub>(std::move(o), std::move(*store), spec::Catalog{});
  }
  void TearDown() override {
    hub_.reset();
    std::filesystem::remove_all(dir_);
  }

  static spec::Workflow Manifest(const std::string& yaml) {
    auto wf = spec::LoadManifest(yaml, "test.yaml");
    EXPECT_TRUE(wf.ok()) << wf.error().ToString();
    return *wf;
  }

  // Submits and waits for the end; the metrics then.
  std::map<std::string, double> Run(const std::string& yaml) {
    auto name = hub_->Submit(Manifest(yaml));
    EXPECT_TRUE(name.ok()) << name.error().ToString();
    if (!name.ok()) return {};
    EXPECT_TRUE(hub_->WaitFinished(*name, 30000));
    return Parse(hub_->metrics().Text());
  }

  std::string dir_;
  std::unique_ptr<Hub> hub_;
};

TEST_F(MetricsTest, ARunIsCountedByPhaseWithOneDispatchAndDurationPerTask) {
  auto m = Run(R"(apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: three}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - name: work
        template: work
        withItems: [a, b, c]
  - name: work
    container: {image: alpine, command: [true]}
)");
  EXPECT_EQ(m["argo_workflows_gauge{phase=\"Succeeded\"}"], 1);
  EXPECT_EQ(m["argo_workflows_gauge{phase=\"Running\"}"], 0);
  EXPECT_EQ(m["argo_workflows_total_count{phase=\"Succeeded\"}"], 1);
  EXPECT_EQ(m["argo_workflows_total_count{phase=\"Failed\"}"], 0);
  // The steps node, its step group and three tasks.
  EXPECT_EQ(m["hubspoke_nodes_gauge{phase=\"Succeeded\"}"], 5);
  EXPECT_EQ(m["argo_workflows_pods_gauge{phase=\"Running\"}"], 0);
  EXPECT_EQ(m["argo_workflows_pods_gauge{phase=\"Pending\"}"], 0);
  EXPECT_EQ(m["hubspoke_task_duration_seconds_count"], 3);
  EXPECT_EQ(m["hubspoke_dispatch_latency_seconds_count"], 3);
  EXPECT_EQ(m["hubspoke_task_queue_seconds_count"], 3);
  EXPECT_EQ(m["argo_workflows_queue_depth_gauge{queue_name=\"tasks\"}"], 0);
  EXPECT_EQ(m["hubspoke_tasks_assigned_gauge"], 0);
  EXPECT_EQ(m["hubspoke_spokes_gauge{kind=\"local\"}"], 1);
  EXPECT_EQ(m["hubspoke_spoke_slots_gauge{kind=\"local\"}"], 2);
  EXPECT_EQ(m["hubspoke_spokes_gauge{kind=\"remote\"}"], 0);
  EXPECT_GT(m["hubspoke_store_commit_seconds_count"], 0);
  EXPECT_GT(m["argo_workflows_operation_duration_seconds_count"], 0);
  // Starting /bin/true on an idle local slot takes well under a second.
  EXPECT_EQ(m["hubspoke_dispatch_latency_seconds_bucket{le=\"1\"}"], 3);
}

TEST_F(MetricsTest, CustomCountersAndHistogramsFollowStatusWhenAndBuckets) {
  auto m = Run(R"(apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: flaky}
spec:
  entrypoint: main
  metrics:
    prometheus:
    - name: test_runs_total
      help: "Runs by status"
      labels: [{key: status, value: "{{workflow.status}}"}]
      counter: {value: "1"}
  templates:
  - name: main
    steps:
    - - name: try
        template: try
        arguments: {parameters: [{name: code, value: "{{item}}"}]}
        withItems: ["0", "1", "0"]
  - name: try
    inputs: {parameters: [{name: code}]}
    metrics:
      prometheus:
      - name: test_failures
        help: "Failed attempts"
        when: "{{status}} == Failed"
        counter: {value: "1"}
      - name: test_attempts
        help: "Attempts by status"
        labels: [{key: status, value: "{{status}}"}]
        counter: {value: "1"}
      - name: test_codes
        help: "Exit codes"
        histogram:
          buckets: [0.5, 1.5]
          value: "{{inputs.parameters.code}}"
    container:
      image: alpine
      command: [sh, -c, "exit {{inputs.parameters.code}}"]
)");
  EXPECT_EQ(m["argo_workflows_test_failures"], 1);
  EXPECT_EQ(m["argo_workflows_test_attempts{status=\"Succeeded\"}"], 2);
  EXPECT_EQ(m["argo_workflows_test_attempts{status=\"Failed\"}"], 1);
  EXPECT_EQ(m["argo_workflows_test_codes_count"], 3);
  EXPECT_EQ(m["argo_workflows_test_codes_bucket{le=\"0.5\"}"], 2);
  EXPECT_EQ(m["argo_workflows_test_codes_bucket{le=\"1.5\"}"], 3);
  EXPECT_EQ(m["argo_workflows_test_codes_sum"], 1);
  EXPECT_EQ(m["argo_workflows_test_runs_total{status=\"Failed\"}"], 1);
  EXPECT_EQ(m["argo_workflows_gauge{phase=\"Failed\"}"], 1);
  EXPECT_EQ(m["argo_workflows_total_count{phase=\"Failed\"}"], 1);
}

TEST_F(MetricsTest, ARealtimeGaugeGrowsWhileTheNodeRunsAndKeepsItsFinalValue) {
  auto name = hub_->Submit(Manifest(R"(apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: slow}
spec:
  entrypoint: nap
  templates:
  - name: nap
    metrics:
      prometheus:
      - name: test_nap_seconds
        help: "How long the nap has run"
        gauge: {realtime: true, value: "{{duration}}"}
    container: {image: alpine, command: [sleep, "1.5"]}
)"));
  ASSERT_TRUE(name.ok()) << name.error().ToString();
  // While it runs, each scrape sees the seconds since the task started.
  double seen = 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (seen < 0.5 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    seen = Parse(hub_->metrics().Text())["argo_workflows_test_nap_seconds"];
  }
  EXPECT_GE(seen, 0.5);
  ASSERT_TRUE(hub_->WaitFinished(*name, 30000));
  double final_value = Parse(hub_->metrics().Text())["argo_workflows_test_nap_seconds"];
  EXPECT_GE(final_value, 1.4);
  EXPECT_LT(final_value, 5);
  EXPECT_LT(seen, final_value);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(Parse(hub_->metrics().Text())["argo_workflows_test_nap_seconds"], final_value);
}

TEST_F(MetricsTest, WorkflowTemplateRunsAreTimedByTemplateName) {
  ASSERT_TRUE(hub_->CreateTemplate(Manifest(R"(apiVersion: argoproj.io/v1alpha1
kind: WorkflowTemplate
metadata: {name: nightly}
spec:
  entrypoint: main
  templates:
  - name: main
    container: {image: alpine, command: [true]}
)")));
  auto name = hub_->SubmitFrom("nightly", {});
  ASSERT_TRUE(name.ok()) << name.error().ToString();
  ASSERT_TRUE(hub_->WaitFinished(*name, 30000));
  auto m = Parse(hub_->metrics().Text());
  EXPECT_EQ(m["hubspoke_workflow_template_duration_seconds_count{workflow_template=\"nightly\"}"],
            1);
}

TEST_F(MetricsTest, ABadMetricIsRefusedWithItsPlace) {
  auto name = hub_->Submit(Manifest(R"(apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: bad}
spec:
  entrypoint: main
  templates:
  - name: main
    metrics:
      prometheus:
      - name: bad-name
        help: "dashes are not allowed"
        counter: {value: "1"}
      - name: latency
        help: "no buckets"
        histogram: {value: "{{duration}}"}
    container: {image: alpine, command: [true]}
)"));
  ASSERT_FALSE(name.ok());
  EXPECT_EQ(name.error().code, ErrorCode::kInvalidArgument);
  EXPECT_THAT(name.error().message,
              HasSubstr("test.yaml:10:9: error: template \"main\" metrics.prometheus name "
                        "\"bad-name\" is not a valid Prometheus metric name"));
  EXPECT_THAT(name.error().message,
              HasSubstr("test.yaml:13:9: error: template \"main\" metrics.prometheus \"latency\" "
                        "is a histogram without buckets"));
}

TEST(MetricsText, EveryLineIsACommentOrASample) {
  Metrics metrics;
  metrics.TaskStarted(1500, 2000);
  for (std::istringstream in(metrics.Text()); !in.eof();) {
    std::string line;
    std::getline(in, line);
    if (line.empty() || line[0] == '#') continue;
    EXPECT_THAT(line, MatchesRegex(R"([a-zA-Z_:][a-zA-Z0-9_:]*(\{.*\})? [-+0-9.eEInfa]+)"));
  }
  EXPECT_THAT(metrics.Text(),
              HasSubstr("hubspoke_dispatch_latency_seconds_bucket{le=\"0.002\"} 1"));
}

}  // namespace
}  // namespace hubspoke::hub
