// The hub's spoke protocol seen from a spoke written against the proto alone: a real hub, a real
// gRPC server on 127.0.0.1 and a raw client stream, so what goes over the wire is what is checked.
#include "hub/spoke_service.h"

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <set>

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

  // Opens a stream as the spoke `name` with `slots` and sends its Hello; the context ends the
  // stream after 30 s at the latest.
  std::unique_ptr<grpc::ClientReaderWriter<v1::SpokeMessage, v1::HubMessage>> Open(
      grpc::ClientContext& context, const std::string& name, int slots,
      const std::function<void(v1::Hello&)>& more = nullptr) {
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    auto stream = stub_->Connect(&context);
    v1::SpokeMessage hello;
    hello.mutable_hello()->set_spoke_id(name + "-1");
    hello.mutable_hello()->set_name(name);
    hello.mutable_hello()->set_slots(slots);
    if (more) more(*hello.mutable_hello());
    EXPECT_TRUE(stream->Write(hello));
    return stream;
  }

  // The phase the hub stores for `workflow` once it finished (within 10 s).
  std::string StoredPhase(const std::string& workflow) {
    if (!hub_->WaitFinished(workflow, 10'000)) return "(not finished)";
    auto rec = hub_->store().GetWorkflow(workflow);
    return rec.ok() && *rec ? (*rec)->phase : "(not stored)";
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
  auto stream = Open(context, "raw", 1, [&](v1::Hello& h) { h.set_acks_with_assign(with_assign); });
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
  EXPECT_EQ(StoredPhase("two"), "Succeeded");
  stream->WritesDone();
  context.TryCancel();
}

constexpr char kFanOut[] = R"(apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: fan}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: item, template: t, withSequence: {count: "40"}}
  - name: t
    container: {image: alpine, command: ["true"]}
)";

class BatchingSpokeTest : public SpokeServiceTest {
 protected:
  // A two-slot spoke that says it batches, once the hub welcomed it saying it batches too
  // (nullptr otherwise).
  std::unique_ptr<grpc::ClientReaderWriter<v1::SpokeMessage, v1::HubMessage>> OpenBatching(
      grpc::ClientContext& context, const std::string& name) {
    auto stream = Open(context, name, 2, [](v1::Hello& h) {
      h.set_acks_with_assign(true);
      h.set_batches(true);
    });
    v1::HubMessage welcome;
    if (!stream->Read(&welcome) || !welcome.has_welcome() || !welcome.welcome().batches()) {
      ADD_FAILURE() << "no Welcome that says batches: " << welcome.DebugString();
      return nullptr;
    }
    return stream;
  }
};

// A spoke that says it batches gets the tasks it has credit for in one Assign and may return
// their results in one Results message. Once its tasks are seen to be short, it is handed more
// than one beyond its slots, so it does not idle while results and tasks travel; the last
// acknowledgements come in an Assign without a task.
TEST_F(BatchingSpokeTest, ShortTasksTravelSeveralToAMessage) {
  grpc::ClientContext context;
  auto stream = OpenBatching(context, "batcher");
  ASSERT_TRUE(stream);
  v1::HubMessage in;

  auto wf = spec::LoadManifest(kFanOut, "fan.yaml");
  ASSERT_TRUE(wf.ok()) << wf.error().ToString();
  ASSERT_TRUE(hub_->Submit(*wf).ok());

  std::set<std::string> acked;
  int done = 0;
  std::vector<int> sizes;  // tasks per Assign
  while (done < 40) {
    ASSERT_TRUE(stream->Read(&in));
    ASSERT_TRUE(in.has_assign()) << in.DebugString();
    acked.insert(in.assign().acked().begin(), in.assign().acked().end());
    std::vector<v1::Task> tasks(in.assign().more().begin(), in.assign().more().end());
    if (in.assign().has_task()) tasks.insert(tasks.begin(), in.assign().task());
    if (tasks.empty()) continue;  // acknowledgements only: the rest are handed out already
    sizes.push_back(static_cast<int>(tasks.size()));
    v1::SpokeMessage results;
    for (const v1::Task& t : tasks) {
      v1::TaskFinished* f = results.mutable_results()->add_finished();
      f->set_attempt_id(t.attempt_id());
      f->set_started(true);
      f->set_started_at_us(1'000'000 + done * 1000);
      f->set_finished_at_us(1'000'000 + done * 1000 + 500);  // 0.5 ms: a short task
      ++done;
    }
    ASSERT_TRUE(stream->Write(results));
  }
  // The first hand-out is what a new spoke gets: its slots and one more. Once its pace is known
  // it gets several times that.
  ASSERT_GE(sizes.size(), 2u);
  EXPECT_EQ(sizes[0], 3);
  EXPECT_GT(*std::max_element(sizes.begin(), sizes.end()), 3);
  while (acked.size() < 40) {
    ASSERT_TRUE(stream->Read(&in));
    ASSERT_TRUE(in.has_assign()) << in.DebugString();
    EXPECT_FALSE(in.assign().has_task());
    acked.insert(in.assign().acked().begin(), in.assign().acked().end());
  }
  EXPECT_EQ(StoredPhase("fan"), "Succeeded");
  stream->WritesDone();
  context.TryCancel();
}

// Tasks carry their input artifacts: an Assign stops taking more tasks at about 4 MB, so a
// fan-out over a big shared input does not build one message past what gRPC carries.
TEST_F(BatchingSpokeTest, BigTasksGoInMessagesOfTheirOwn) {
  grpc::ClientContext context;
  auto stream = OpenBatching(context, "big");
  ASSERT_TRUE(stream);
  v1::HubMessage in;
  const std::string data(3 << 20, 'x');  // 3 MB per task
  std::string manifest = R"(apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: big}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: item, template: t, withSequence: {count: "3"}}
  - name: t
    inputs:
      artifacts:
      - {name: blob, path: /tmp/blob, raw: {data: ")" +
                         data + R"("}}
    container: {image: alpine, command: ["true"]}
)";
  auto wf = spec::LoadManifest(manifest, "big.yaml");
  ASSERT_TRUE(wf.ok()) << wf.error().ToString();
  ASSERT_TRUE(hub_->Submit(*wf).ok());
  int tasks = 0, messages = 0;
  while (tasks < 3) {
    ASSERT_TRUE(stream->Read(&in));
    ASSERT_TRUE(in.has_assign()) << in.DebugString().substr(0, 200);
    const int here = in.assign().has_task() + in.assign().more_size();
    if (here == 0) continue;
    ++messages;
    tasks += here;
    EXPECT_EQ(here, 1) << "an Assign of " << in.ByteSizeLong() << " bytes";
  }
  EXPECT_EQ(messages, 3);
  stream->WritesDone();
  context.TryCancel();
}

INSTANTIATE_TEST_SUITE_P(Spokes, SpokeServiceTest, ::testing::Values(true, false),
                         [](const auto& info) {
                           return info.param ? "ReadsAckedInAssign" : "Older";
                         });

}  // namespace
}  // namespace hubspoke::hub
