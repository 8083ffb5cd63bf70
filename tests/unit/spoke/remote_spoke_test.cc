// The spoke agent seen from a hub written against the proto alone: a real RemoteSpokeAgent, a
// real gRPC server on 127.0.0.1 and real `true` processes, so what goes over the wire is what is
// checked.
#include "spoke/remote_spoke.h"

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <future>
#include <set>
#include <thread>

#include "../exec/exec_test_util.h"
#include "hubspoke/v1/spoke.grpc.pb.h"

namespace hubspoke::spoke {
namespace {

// A hub that hands the spoke `tasks` tasks of `true` at once, acknowledges every result, then
// waits for the spoke to leave. It records how the results came.
class RawHub final : public v1::SpokeHub::Service {
 public:
  RawHub(bool batches, int tasks) : batches_(batches), tasks_(tasks) {}

  grpc::Status Connect(
      grpc::ServerContext*,
      grpc::ServerReaderWriter<v1::HubMessage, v1::SpokeMessage>* stream) override {
    v1::SpokeMessage in;
    if (!stream->Read(&in) || !in.has_hello()) return {grpc::StatusCode::INVALID_ARGUMENT, "hello"};
    hello_batches = in.hello().batches();
    v1::HubMessage welcome;
    welcome.mutable_welcome()->set_lease_ms(10'000);
    welcome.mutable_welcome()->set_heartbeat_ms(2'500);
    welcome.mutable_welcome()->set_batches(batches_);
    stream->Write(welcome);
    v1::HubMessage assign;
    for (int i = 0; i < tasks_; ++i) {
      v1::Task* t =
          i == 0 ? assign.mutable_assign()->mutable_task() : assign.mutable_assign()->add_more();
      t->set_attempt_id("a" + std::to_string(i));
      t->set_workflow("wf");
      t->set_node_id("n" + std::to_string(i));
      t->set_image("alpine");
      t->add_command("true");
    }
    stream->Write(assign);
    std::set<std::string> reported;
    while (static_cast<int>(reported.size()) < tasks_ && stream->Read(&in)) {
      if (in.has_finished()) {
        ++single_results;
        reported.insert(in.finished().attempt_id());
        EXPECT_EQ(in.finished().exit_code(), 0);
      } else if (in.has_results()) {
        ++results_messages;
        largest_batch = std::max(largest_batch, in.results().finished_size());
        for (const v1::TaskFinished& f : in.results().finished()) {
          reported.insert(f.attempt_id());
          EXPECT_EQ(f.exit_code(), 0);
        }
      }
    }
    for (const std::string& attempt : reported) {
      v1::HubMessage ack;
      ack.mutable_ack()->set_attempt_id(attempt);
      stream->Write(ack);
    }
    all_reported.set_value(static_cast<int>(reported.size()));
    while (stream->Read(&in)) {
    }  // until the drained spoke closes its side
    return grpc::Status::OK;
  }

  std::promise<int> all_reported;
  bool hello_batches = false;
  int single_results = 0;
  int results_messages = 0;
  int largest_batch = 0;

 private:
  const bool batches_;
  const int tasks_;
};

class RemoteSpokeTest : public ::testing::TestWithParam<bool> {};

// Handed eight short tasks at once, a one-slot spoke sends their results together to a hub that
// reads Results, and one by one to a hub that does not say so (an older one): either way every
// result arrives, and the spoke leaves once they are acknowledged.
TEST_P(RemoteSpokeTest, ResultsTravelTogetherOnlyToAHubThatReadsThem) {
  const bool batches = GetParam();
  constexpr int kTasks = 8;
  RawHub hub(batches, kTasks);
  int port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&hub);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  ASSERT_TRUE(server && port > 0);

  exec::TempDir dir;
  RemoteSpokeOptions options;
  options.hub = "127.0.0.1:" + std::to_string(port);
  options.name = "raw-spoke";
  options.slots = 1;
  options.work_dir = dir.path() + "/spoke";
  // Results wait for the queue to run low, however slowly `true` runs on a loaded machine.
  options.result_delay_ms = 60'000;
  RemoteSpokeAgent agent(options);
  std::future<Status> ran = std::async(std::launch::async, [&] { return agent.Run(); });
  std::future<int> reported = hub.all_reported.get_future();
  ASSERT_EQ(reported.wait_for(std::chrono::seconds(30)), std::future_status::ready);
  EXPECT_EQ(reported.get(), kTasks);
  agent.Drain();
  ASSERT_EQ(ran.wait_for(std::chrono::seconds(30)), std::future_status::ready);
  EXPECT_TRUE(ran.get().ok());
  server->Shutdown();

  EXPECT_TRUE(hub.hello_batches);
  if (batches) {
    EXPECT_GE(hub.results_messages, 1);
    EXPECT_GT(hub.largest_batch, 1);
    EXPECT_LT(hub.single_results + hub.results_messages, kTasks);  // fewer messages than results
  } else {
    EXPECT_EQ(hub.results_messages, 0);
    EXPECT_EQ(hub.single_results, kTasks);
  }
}

INSTANTIATE_TEST_SUITE_P(Hubs, RemoteSpokeTest, ::testing::Values(true, false),
                         [](const auto& info) { return info.param ? "ReadsResults" : "Older"; });

}  // namespace
}  // namespace hubspoke::spoke
