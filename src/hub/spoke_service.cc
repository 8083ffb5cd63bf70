#include "hub/spoke_service.h"

#include <fcntl.h>
#include <grpcpp/grpcpp.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>
#include <unordered_map>

#include "common/clock.h"
#include "common/log.h"
#include "hubspoke/v1/spoke.grpc.pb.h"
#include "spoke/wire.h"

namespace hubspoke::hub {
namespace {

constexpr int kMaxMessageBytes = 64 << 20;
constexpr int kMaxSlots = 4096;
// Tasks a spoke queues beyond its free slots, so a slot that frees starts the next one at once
// instead of idling for the round trip to the hub and its commit.
constexpr int kPrefetch = 1;
// An Assign carrying several tasks (they may carry input artifacts) grows to about this much
// before the next tasks go in another one, far below kMaxMessageBytes.
constexpr size_t kBatchBytes = 4 << 20;

class Stream;

// A joined remote spoke as the hub sees it. It outlives its streams: a spoke process that
// reconnects (same spoke id) gets it back with its attempts. Messages sent while no stream is
// attached wait for the next one.
class RemoteSpoke final : public spoke::Spoke {
 public:
  RemoteSpoke(const v1::Hello& hello, std::string artifact_root)
      : artifact_root_(std::move(artifact_root)),
        name_(hello.name()),
        labels_(hello.labels().begin(), hello.labels().end()),
        id_(hello.spoke_id()),
        version_(hello.version()),
        slots_(hello.slots()),
        acks_with_assign_(hello.acks_with_assign()),
        batches_(hello.batches()) {
    Heard();
  }

  const std::string& name() const override { return name_; }
  const std::map<std::string, std::string>& labels() const override { return labels_; }
  std::string version() const override { return version_; }
  Micros last_heard() const override { return last_heard_; }
  const std::string& id() const { return id_; }
  int slots() const { return slots_; }
  bool batches() const { return batches_; }

  void Assign(engine::Task task) override {
    v1::Task wire;
    spoke::TaskToProto(task, &wire);
    // Input artifacts travel with the task; one that cannot be read fails it at the spoke.
    spoke::AttachContents(artifact_root_, wire.mutable_input_artifacts());
    std::lock_guard lock(mu_);
    if (batches_) {
      held_tasks_.push_back(task.attempt_id);  // for Flush
      outstanding_[task.attempt_id] = std::move(wire);
      return;
    }
    v1::HubMessage m;
    *m.mutable_assign()->mutable_task() = wire;
    outstanding_[task.attempt_id] = std::move(wire);
    for (std::string& a : held_acks_) m.mutable_assign()->add_acked(std::move(a));
    held_acks_.clear();
    SendLocked(std::move(m));
  }
  void Cancel(const std::string& attempt_id) override {
    v1::HubMessage m;
    m.mutable_cancel()->set_attempt_id(attempt_id);
    std::lock_guard lock(mu_);
    outstanding_.erase(attempt_id);
    SendLocked(std::move(m));
  }
  // The spoke reported the attempt's result: it need not be assigned again after a reconnect.
  void Finished(const std::string& attempt_id) {
    std::lock_guard lock(mu_);
    outstanding_.erase(attempt_id);
  }
  void Acked(const std::string& attempt_id) override {
    if (acks_with_assign_) {
      std::lock_guard lock(mu_);
      held_acks_.push_back(attempt_id);
      return;
    }
    SendAck(attempt_id);
  }
  // To a batching spoke, the tasks and acknowledgements held go out in one Assign; to any other,
  // the acknowledgements no Assign took along go out on their own.
  void Flush() override {
    std::lock_guard lock(mu_);
    if (!batches_) {
      for (const std::string& a : held_acks_) SendLocked(AckOf(a));
      held_acks_.clear();
      return;
    }
    if (held_tasks_.empty() && held_acks_.empty()) return;
    v1::HubMessage m;
    v1::Assign* assign = m.mutable_assign();
    for (std::string& a : held_acks_) assign->add_acked(std::move(a));
    size_t bytes = 0;
    for (const std::string& attempt : held_tasks_) {
      auto it = outstanding_.find(attempt);
      if (it == outstanding_.end()) continue;  // cancelled meanwhile
      const size_t size = it->second.ByteSizeLong();
      if (assign->has_task() && bytes + size > kBatchBytes) {
        SendLocked(std::move(m));
        m.Clear();
        assign = m.mutable_assign();
        bytes = 0;
      }
      *(assign->has_task() ? assign->add_more() : assign->mutable_task()) = it->second;
      bytes += size;
    }
    held_tasks_.clear();
    held_acks_.clear();
    SendLocked(std::move(m));
  }

  void Send(v1::HubMessage m) {
    std::lock_guard lock(mu_);
    SendLocked(std::move(m));
  }
  void SendAck(const std::string& attempt_id) { Send(AckOf(attempt_id)); }
  static v1::HubMessage AckOf(const std::string& attempt_id) {
    v1::HubMessage m;
    m.mutable_ack()->set_attempt_id(attempt_id);
    return m;
  }
  // Makes `stream` the spoke's stream (ending the one it replaces) and sends what waited. The
  // assigned attempts that the spoke does not list in `running` (the Assign was lost with the old
  // stream) are assigned again.
  void Attach(Stream* stream, const google::protobuf::RepeatedPtrField<std::string>& running);
  // True if `stream` was the spoke's stream (it is not any more).
  bool Detach(Stream* stream);
  // Ends the current stream, if any.
  void Kick();
  void Heard() { last_heard_ = SystemClock().Now(); }
  // Microseconds since the spoke was last heard from and since its stream ended (0: attached).
  std::pair<Micros, Micros> Silence();

  std::atomic<bool> draining{false};  // the spoke asked to take no new tasks

 private:
  const std::string artifact_root_;  // the hub's
  const std::string name_;
  const std::map<std::string, std::string> labels_;
  const std::string id_;
  const std::string version_;
  const int slots_;
  const bool acks_with_assign_;
  const bool batches_;
  std::atomic<Micros> last_heard_{0};
  std::mutex mu_;
  void SendLocked(v1::HubMessage m);

  Stream* stream_ = nullptr;  // guarded by mu_
  Micros detached_at_ = 0;
  std::deque<v1::HubMessage> pending_;           // Cancel and Ack messages for the next stream
  std::map<std::string, v1::Task> outstanding_;  // attempt -> its task, until reported
  std::vector<std::string> held_acks_;           // for the next Assign, or Flush
  std::vector<std::string> held_tasks_;          // attempts for Flush to send (batches_)
};

}  // namespace

struct SpokeService::Impl final : v1::SpokeHub::CallbackService {
  Hub& hub;
  SpokeServiceOptions options;
  std::unique_ptr<grpc::Server> server;

  std::mutex mu;
  std::condition_variable cv;
  bool stopping = false;
  std::unordered_map<std::string, std::shared_ptr<RemoteSpoke>> spokes;  // by name
  std::thread lease_thread;

  Impl(Hub& h, SpokeServiceOptions o) : hub(h), options(std::move(o)) {}

  grpc::ServerBidiReactor<v1::SpokeMessage, v1::HubMessage>* Connect(
      grpc::CallbackServerContext* context) override;

  bool Stopping() {
    std::lock_guard lock(mu);
    return stopping;
  }

  // Joins the spoke of `hello` (or gives it back its RemoteSpoke) with `stream`; returns it, or
  // the status the stream ends with.
  Result<std::shared_ptr<RemoteSpoke>> Join(const v1::Hello& hello, Stream* stream,
                                            std::vector<std::string>* cancel);
  // The spoke is gone for good: the hub fails its attempts.
  void Lose(const std::shared_ptr<RemoteSpoke>& spoke, const std::string& reason) {
    {
      std::lock_guard lock(mu);
      auto it = spokes.find(spoke->name());
      if (it == spokes.end() || it->second != spoke) return;
      spokes.erase(it);
    }
    spoke->Kick();
    hub.RemoveSpoke(spoke->name(), reason);
  }
  void WriteLog(const v1::LogChunk& chunk);
  void WatchLeases();
};

namespace {

bool Authorized(const grpc::CallbackServerContext& context, const std::string& token) {
  if (token.empty()) return true;
  const auto& md = context.client_metadata();
  auto it = md.find("authorization");
  if (it == md.end()) return false;
  std::string got(it->second.data(), it->second.size());
  std::string want = "Bearer " + token;
  if (got.size() != want.size()) return false;
  unsigned char diff = 0;  // constant time: the comparison does not tell how much matched
  for (size_t i = 0; i < got.size(); ++i) diff |= got[i] ^ want[i];
  return diff == 0;
}

// One spoke's stream. Reads are handled one at a time; writes go out one at a time from a queue.
class Stream final : public grpc::ServerBidiReactor<v1::SpokeMessage, v1::HubMessage> {
 public:
  Stream(SpokeService::Impl* service, grpc::CallbackServerContext* context)
      : service_(service), context_(context) {
    if (!Authorized(*context, service->options.token)) {
      LogWarn("spoke from " + context->peer() + " refused: wrong or missing token");
      Finish(grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                          "the hub refused the spoke's token: give the spoke the hub's token "
                          "(the hub's --token-file, or DATA/token) with --token-file"));
      return;
    }
    StartRead(&in_);
  }

  void Send(v1::HubMessage m) {
    std::lock_guard lock(mu_);
    if (ended_) return;
    outbox_.push_back(std::move(m));
    if (!writing_) WriteNextLocked();
  }
  void Cancel() { context_->TryCancel(); }

  void OnReadDone(bool ok) override {
    if (!ok) {
      StreamEnded();
      return;
    }
    if (spoke_) spoke_->Heard();
    grpc::Status status = Handle();
    if (!status.ok()) {
      End(status);
      return;
    }
    StartRead(&in_);
  }

  void OnWriteDone(bool ok) override {
    std::lock_guard lock(mu_);
    writing_ = false;
    if (ok && !ended_ && !outbox_.empty()) {
      WriteNextLocked();
    } else if (finish_pending_) {
      finish_pending_ = false;
      Finish(finish_status_);
    }
  }

  void OnDone() override {
    if (spoke_) spoke_->Detach(this);
    delete this;
  }

 private:
  void WriteNextLocked() {
    current_ = std::move(outbox_.front());
    outbox_.pop_front();
    writing_ = true;
    StartWrite(&current_);
  }

  void End(const grpc::Status& status) {
    std::lock_guard lock(mu_);
    if (ended_) return;
    ended_ = true;
    outbox_.clear();
    if (writing_) {
      finish_pending_ = true;
      finish_status_ = status;
    } else {
      Finish(status);
    }
  }

  // The spoke closed its side, or the stream broke.
  void StreamEnded() {
    if (spoke_ && spoke_->Detach(this) && !service_->Stopping()) {
      if (spoke_->draining) {
        LogInfo("spoke " + spoke_->name() + " left");
        service_->Lose(spoke_, "it left");
      } else {
        LogWarn("spoke " + spoke_->name() + " disconnected; it has " +
                std::to_string(service_->options.lease_ms) + " ms to reconnect");
        service_->hub.DrainSpoke(spoke_->name());  // no new tasks until it is back
      }
    }
    End(grpc::Status::OK);
  }

  grpc::Status Handle() {
    if (!spoke_) {
      if (!in_.has_hello()) {
        return {grpc::StatusCode::FAILED_PRECONDITION, "a spoke's first message must be Hello"};
      }
      std::vector<std::string> cancel;
      auto joined = service_->Join(in_.hello(), this, &cancel);
      if (!joined.ok()) {
        LogWarn("spoke " + in_.hello().name() + " from " + context_->peer() +
                " refused: " + joined.error().message);
        return {joined.error().code == ErrorCode::kAlreadyExists
                    ? grpc::StatusCode::ALREADY_EXISTS
                    : grpc::StatusCode::INVALID_ARGUMENT,
                joined.error().message};
      }
      spoke_ = *joined;
      v1::HubMessage welcome;
      welcome.mutable_welcome()->set_lease_ms(service_->options.lease_ms);
      welcome.mutable_welcome()->set_heartbeat_ms(
          std::max<int64_t>(service_->options.lease_ms / 4, 1));
      for (const std::string& a : cancel) welcome.mutable_welcome()->add_cancel(a);
      welcome.mutable_welcome()->set_batches(true);
      Send(std::move(welcome));
      return grpc::Status::OK;
    }
    switch (in_.kind_case()) {
      case v1::SpokeMessage::kStarted:
        service_->hub.listener().OnTaskStarted(in_.started().attempt_id(), spoke_->name(),
                                               in_.started().at_us());
        break;
      case v1::SpokeMessage::kLog:
        service_->WriteLog(in_.log());
        break;
      case v1::SpokeMessage::kFinished:
        Finished(in_.finished());
        break;
      case v1::SpokeMessage::kResults:
        for (const v1::TaskFinished& f : in_.results().finished()) Finished(f);
        break;
      case v1::SpokeMessage::kDraining:
        if (!spoke_->draining.exchange(true)) {
          LogInfo("spoke " + spoke_->name() + " is draining");
          service_->hub.DrainSpoke(spoke_->name());
        }
        break;
      case v1::SpokeMessage::kHello:
        return {grpc::StatusCode::FAILED_PRECONDITION, "Hello sent twice on one stream"};
      default:
        break;  // heartbeats, and kinds a newer spoke may send
    }
    return grpc::Status::OK;
  }

  void Finished(const v1::TaskFinished& finished) {
    spoke_->Finished(finished.attempt_id());
    engine::TaskResult result = spoke::ResultFromProto(finished, spoke_->name());
    result.artifact_errors.merge(
        spoke::StoreContents(service_->hub.artifact_root(), finished.artifacts()));
    service_->hub.listener().OnTaskFinished(std::move(result));
  }

  SpokeService::Impl* service_;
  grpc::CallbackServerContext* context_;
  v1::SpokeMessage in_;
  std::shared_ptr<RemoteSpoke> spoke_;  // once joined; read thread only
  std::mutex mu_;
  std::deque<v1::HubMessage> outbox_;
  v1::HubMessage current_;
  bool writing_ = false;
  bool ended_ = false;
  bool finish_pending_ = false;
  grpc::Status finish_status_;
};

void RemoteSpoke::SendLocked(v1::HubMessage m) {
  if (stream_) {
    stream_->Send(std::move(m));
  } else if (!m.has_assign()) {
    pending_.push_back(std::move(m));  // the tasks of an Assign are sent again from outstanding_
  } else {
    for (const std::string& a : m.assign().acked()) pending_.push_back(AckOf(a));
  }
}

void RemoteSpoke::Attach(Stream* stream,
                         const google::protobuf::RepeatedPtrField<std::string>& running) {
  std::lock_guard lock(mu_);
  if (stream_) stream_->Cancel();
  stream_ = stream;
  detached_at_ = 0;
  std::set<std::string> has(running.begin(), running.end());
  for (const auto& [attempt, task] : outstanding_) {
    if (has.count(attempt)) continue;
    v1::HubMessage m;
    *m.mutable_assign()->mutable_task() = task;
    stream_->Send(std::move(m));
  }
  for (auto& m : pending_) stream_->Send(std::move(m));
  pending_.clear();
}

bool RemoteSpoke::Detach(Stream* stream) {
  std::lock_guard lock(mu_);
  if (stream_ != stream) return false;
  stream_ = nullptr;
  detached_at_ = MonotonicMicros();
  return true;
}

void RemoteSpoke::Kick() {
  std::lock_guard lock(mu_);
  if (stream_) stream_->Cancel();
}

std::pair<Micros, Micros> RemoteSpoke::Silence() {
  Micros heard = SystemClock().Now() - last_heard_;
  std::lock_guard lock(mu_);
  return {heard, detached_at_ == 0 ? 0 : MonotonicMicros() - detached_at_};
}

bool ValidPathPart(const std::string& s) {
  return !s.empty() && s != "." && s != ".." && s.find('/') == std::string::npos &&
         s.find('\0') == std::string::npos;
}

Result<std::string> ReadPem(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Fail(IoError("cannot read " + path));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

grpc::ServerBidiReactor<v1::SpokeMessage, v1::HubMessage>* SpokeService::Impl::Connect(
    grpc::CallbackServerContext* context) {
  return new Stream(this, context);
}

Result<std::shared_ptr<RemoteSpoke>> SpokeService::Impl::Join(const v1::Hello& hello,
                                                              Stream* stream,
                                                              std::vector<std::string>* cancel) {
  const std::string& name = hello.name();
  if (!ValidPathPart(name)) {
    return Fail(InvalidArgument("spoke name \"" + name + "\" is not usable: give --name NAME"));
  }
  if (name == "local" || name.rfind("local-", 0) == 0) {
    return Fail(
        InvalidArgument("spoke names \"local\" and \"local-*\" are reserved for the "
                        "hub's own spokes: give this spoke another --name"));
  }
  if (hello.slots() < 1 || hello.slots() > kMaxSlots) {
    return Fail(InvalidArgument("a spoke needs 1 to " + std::to_string(kMaxSlots) + " slots"));
  }
  std::shared_ptr<RemoteSpoke> replaced, back;
  auto spoke = std::make_shared<RemoteSpoke>(hello, hub.artifact_root());
  {
    std::lock_guard lock(mu);
    auto it = spokes.find(name);
    if (it != spokes.end() && it->second->id() == hello.spoke_id()) {
      // The same spoke process again: its stream broke, or the old one has not noticed yet.
      back = it->second;
      back->Heard();
      back->Attach(stream, hello.running());
    }
  }
  if (back) {
    LogInfo("spoke " + name + " reconnected");
    if (!back->draining) hub.DrainSpoke(name, false);
    return back;
  }
  {
    std::lock_guard lock(mu);
    auto it = spokes.find(name);
    if (it != spokes.end()) {
      if (it->second->Silence().second == 0) {
        return Fail(Error{ErrorCode::kAlreadyExists,
                          "a spoke named \"" + name +
                              "\" is already connected to this hub: give this one another --name",
                          ""});
      }
      replaced = it->second;  // a new process under the name of one that disconnected
      spokes.erase(it);
    }
    spokes[name] = spoke;
    spoke->Attach(stream, hello.running());
  }
  if (replaced) hub.RemoveSpoke(name, "a new spoke process connected under its name");
  std::vector<std::string> running(hello.running().begin(), hello.running().end());
  *cancel = hub.AddSpoke(spoke.get(), spoke->slots(), running, kPrefetch, spoke->batches());
  LogInfo("spoke " + name + " joined with " + std::to_string(spoke->slots()) + " slot(s)" +
          (running.empty() ? ""
                           : ", re-claiming " + std::to_string(running.size() - cancel->size()) +
                                 " attempt(s)"));
  return spoke;
}

void SpokeService::Impl::WriteLog(const v1::LogChunk& chunk) {
  if (!ValidPathPart(chunk.workflow()) || !ValidPathPart(chunk.node_id()) || chunk.offset() < 0) {
    return;
  }
  std::string dir = hub.log_root() + "/" + chunk.workflow();
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  std::string path = dir + "/" + chunk.node_id() + ".log";
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    LogWarn("cannot write the log " + path);
    return;
  }
  const std::string& data = chunk.data();
  if (pwrite(fd, data.data(), data.size(), chunk.offset()) != static_cast<ssize_t>(data.size())) {
    LogWarn("cannot write the log " + path);
  }
  close(fd);
}

void SpokeService::Impl::WatchLeases() {
  const Micros lease_us = options.lease_ms * 1000;
  const auto period =
      std::chrono::milliseconds(std::clamp<int64_t>(options.lease_ms / 8, 20, 1000));
  std::unique_lock lock(mu);
  while (!cv.wait_for(lock, period, [&] { return stopping; })) {
    std::vector<std::pair<std::shared_ptr<RemoteSpoke>, std::string>> lost;
    for (const auto& [name, spoke] : spokes) {
      auto [silent, away] = spoke->Silence();
      if (away > lease_us) {
        lost.push_back({spoke, "it disconnected and did not reconnect within its lease (" +
                                   std::to_string(options.lease_ms) + " ms)"});
      } else if (away == 0 && silent > lease_us) {
        lost.push_back({spoke, "no heartbeat for " + std::to_string(silent / 1000) + " ms"});
      }
    }
    lock.unlock();
    for (const auto& [spoke, why] : lost) {
      LogWarn("spoke " + spoke->name() + " lost: " + why);
      Lose(spoke, why);
    }
    lock.lock();
  }
}

SpokeService::SpokeService(Hub& hub, SpokeServiceOptions options)
    : impl_(std::make_unique<Impl>(hub, std::move(options))) {}

SpokeService::~SpokeService() { Stop(); }

Result<int> SpokeService::Start() {
  std::shared_ptr<grpc::ServerCredentials> creds = grpc::InsecureServerCredentials();
  const SpokeServiceOptions& o = impl_->options;
  if (!o.tls_cert.empty() || !o.tls_key.empty()) {
    auto cert = ReadPem(o.tls_cert);
    if (!cert.ok()) return Fail(cert.error());
    auto key = ReadPem(o.tls_key);
    if (!key.ok()) return Fail(key.error());
    grpc::SslServerCredentialsOptions ssl;
    ssl.pem_key_cert_pairs.push_back({*key, *cert});
    if (!o.tls_ca.empty()) {
      auto ca = ReadPem(o.tls_ca);
      if (!ca.ok()) return Fail(ca.error());
      ssl.pem_root_certs = *ca;
      ssl.client_certificate_request = GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
    }
    creds = grpc::SslServerCredentials(ssl);
  }
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(o.listen, creds, &port);
  builder.RegisterService(impl_.get());
  builder.SetMaxReceiveMessageSize(kMaxMessageBytes);
  builder.SetMaxSendMessageSize(kMaxMessageBytes);
  // Spokes ping every 10 s to notice a hub that vanished without closing the connection.
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 5000);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PING_STRIKES, 0);
  impl_->server = builder.BuildAndStart();
  if (!impl_->server || port == 0) {
    return Fail(Error{ErrorCode::kUnavailable,
                      "cannot listen for spokes on " + o.listen +
                          " (in use, or not an address of this machine): choose another with "
                          "--spoke-listen HOST:PORT",
                      ""});
  }
  impl_->lease_thread = std::thread([this] { impl_->WatchLeases(); });
  return port;
}

void SpokeService::Stop() {
  {
    std::lock_guard lock(impl_->mu);
    if (impl_->stopping) return;
    impl_->stopping = true;
  }
  impl_->cv.notify_all();
  if (impl_->lease_thread.joinable()) impl_->lease_thread.join();
  if (impl_->server) {
    impl_->server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
    impl_->server->Wait();
  }
}

}  // namespace hubspoke::hub
