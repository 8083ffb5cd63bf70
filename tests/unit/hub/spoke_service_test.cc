// The hub's spoke protocol seen from a spoke written against the proto alone: a real hub, a real
// gRPC server on 127.0.0.1 and a raw client stream, so what goes over the wire is what is checked.
#include "hub/spoke_service.h"

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "hubspoke/v1/spoke.grpc.pb.h"
#include "spec/loader.h"
#include "store/store.h"

namespace hubspoke::hub {
namespace {

constexpr char kTwoSteps[] = R"(apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: two}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: a, template: t}
    - - {name: b, template: t}
  - name: t
    container: {image: alpine, command: ["true"]}
)";

class SpokeServiceTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    std::string root = std::string(HUBSPOKE_BINARY_DIR) + "/test-tmp";
    std::filesystem::create_directories(root);
    std::string tmpl = root + "/spoke-service-XXXXXX";
    dir_ = mkdtemp(tmpl.data());
    auto store = store::OpenSqlite({dir_ + "/hubspoke.db"});
    ASSERT_TRUE(store.ok()) << store.error().ToString();
    HubOptions o;
    o.data_dir = dir_;
    o.local_spokes = 0;
    o.spoke_lease_ms = 10'000;
    hub_ = std::make_unique<Hub>(std::move(o), std::move(*store), spec::Catalog{});
    service_ = std::make_unique<SpokeService>(*hub_, SpokeServiceOptions{.listen = "127.0.0.1:0"});
    auto port = service_->Start();
    ASSERT_TRUE(port.ok()) << port.error().ToString();
    auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(*port),
                                       grpc::InsecureChannelCredentials());
    stub_ = v1::SpokeHub::NewStub(channel);
  }
  void TearDown() override {
    service_->Stop();
    hub_.reset();
    service_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::string dir_;
  std::unique_ptr<Hub> hub_;
  std::unique_ptr<SpokeService> service_;
  std::unique_ptr<v1::SpokeHub::Stub> stub_;
};

// A spoke that says it reads Assign.acked gets each acknowledgement with the next task, and the
// last one on its own; a spoke that does not (an older one) gets every one as an Ack message.
TEST_P(SpokeServiceTest, AcknowledgementsRideWithTheNextTaskOnlyForSpokesThatReadThem) {
  const bool with_assign = GetParam();
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  auto stream = stub_->Connect(&context);
  v1::SpokeMessage hello;
  hello.mutable_hello()->set_spoke_id("raw-1");
  hello.mutable_hello()->set_name("raw");
  hello.mutable_hello()->set_slots(1);
  hello.mutable_hello()->set_acks_with_assign(with_assign);
  ASSERT_TRUE(stream->Write(hello));
  v1::HubMessage in;
  ASSERT_TRUE(stream->Read(&in));
  ASSERT_TRUE(in.has_welcome());

  auto wf = spec::LoadManifest(kTwoSteps, "two.yaml");
  ASSERT_TRUE(wf.ok()) << wf.error().ToString();
  ASSERT_TRUE(hub_->Submit(*wf).ok());

  auto finish = [&](const std::string& attempt) {
    v1::SpokeMessage m;
    m.mutable_finished()->set_attempt_id(attempt);
    m.mutable_finished()->set_started(true);
    m.mutable_finished()->set_exit_code(0);
    return stream->Write(m);
  };
  std::vector<std::string> acks;  // in the order they came
  auto read_ack_or_assign = [&](v1::HubMessage& m) {
    while (stream->Read(&m)) {
      if (m.has_ack()) {
        acks.push_back(m.ack().attempt_id());
        continue;
      }
      for (const std::string& a : m.assign().acked()) acks.push_back(a);
      return m.has_assign();
    }
    return false;
  };

  ASSERT_TRUE(read_ack_or_assign(in));
  const std::string first = in.assign().task().attempt_id();
  EXPECT_TRUE(in.assign().acked().empty());
  ASSERT_TRUE(finish(first));
  ASSERT_TRUE(read_ack_or_assign(in));
  const std::string second = in.assign().task().attempt_id();
  EXPECT_EQ(acks, std::vector<std::string>{first});
  EXPECT_EQ(in.assign().acked_size(), with_assign ? 1 : 0);
  ASSERT_TRUE(finish(second));
  // Nothing follows the last task: its acknowledgement comes alone.
  ASSERT_TRUE(stream->Read(&in));
  ASSERT_TRUE(in.has_ack()) << in.DebugString();
  EXPECT_EQ(in.ack().attempt_id(), second);
  EXPECT_TRUE(hub_->WaitFinished("two", 10'000));
  auto rec = hub_->store().GetWorkflow("two");
  ASSERT_TRUE(rec.ok() && *rec);
  EXPECT_EQ((*rec)->phase, "Succeeded");
  stream->WritesDone();
  context.TryCancel();
}

INSTANTIATE_TEST_SUITE_P(Spokes, SpokeServiceTest, ::testing::Values(true, false),
                         [](const auto& info) {
                           return info.param ? "ReadsAckedInAssign" : "Older";
                         });

}  // namespace
}  // namespace hubspoke::hub
