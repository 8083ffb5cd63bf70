#include "spoke/remote_spoke.h"

#include <grpcpp/grpcpp.h>
#include <sys/random.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "common/clock.h"
#include "common/log.h"
#include "hubspoke/v1/spoke.grpc.pb.h"
#include "spoke/wire.h"

namespace hubspoke::spoke {
namespace {

constexpr int kMaxMessageBytes = 64 << 20;
constexpr size_t kLogChunkBytes = 64 << 10;
constexpr int64_t kFirstBackoffMs = 100;
constexpr int64_t kMaxBackoffMs = 5000;
// To a hub that reads Results, results go out together: once the tasks waiting here are down to
// two per slot (the hub's next tasks must arrive before the slots run dry), once kMaxBatch are
// held, or once the oldest has waited RemoteSpokeOptions::result_delay_ms.
constexpr size_t kMaxBatch = 64;
// A Results message (its results may carry output artifacts) grows to about this much before the
// next results go in another one.
constexpr size_t kBatchBytes = 4 << 20;

using Rpc = grpc::ClientReaderWriter<v1::SpokeMessage, v1::HubMessage>;

std::string RandomId() {
  unsigned char bytes[8] = {};
  if (getrandom(bytes, sizeof bytes, 0) != static_cast<ssize_t>(sizeof bytes)) {
    uint64_t t = static_cast<uint64_t>(MonotonicMicros()) ^ static_cast<uint64_t>(getpid());
    std::memcpy(bytes, &t, sizeof bytes);
  }
  static const char* kHex = "0123456789abcdef";
  std::string id;
  for (unsigned char b : bytes) {
    id += kHex[b >> 4];
    id += kHex[b & 15];
  }
  return id;
}

Result<std::string> ReadPem(const std::string& path) {
  if (path.empty()) return std::string();
  std::ifstream in(path);
  if (!in) return Fail(IoError("cannot read " + path));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Refusals that retrying cannot cure.
bool Fatal(grpc::StatusCode code) {
  return code == grpc::StatusCode::UNAUTHENTICATED || code == grpc::StatusCode::INVALID_ARGUMENT ||
         code == grpc::StatusCode::ALREADY_EXISTS || code == grpc::StatusCode::PERMISSION_DENIED ||
         code == grpc::StatusCode::FAILED_PRECONDITION;
}

// Where a task's log is and how much of it the hub has been sent.
struct LogCursor {
  std::string workflow;
  std::string node_id;
  int64_t sent = 0;
};

}  // namespace

struct RemoteSpokeAgent::Impl final : SpokeListener {
  RemoteSpokeOptions options;
  const std::string spoke_id = RandomId();
  std::string log_root;
  std::string artifact_root;  // this spoke's copies of the artifacts its tasks read and write
  std::unique_ptr<LocalSpoke> local;
  std::atomic<int64_t> heartbeat_ms{1000};

  std::mutex mu;
  std::condition_variable cv;
  std::map<std::string, LogCursor> running;  // attempt -> its log
  // The artifacts of each attempt until its result is acknowledged: its outputs travel with the
  // result; every artifact file goes once no attempt uses it (fan-out items share inputs).
  std::map<std::string, std::vector<engine::TaskArtifact>> outputs;  // attempt -> outputs
  std::map<std::string, std::vector<std::string>> artifact_keys;     // attempt -> keys it uses
  std::map<std::string, int> key_users;
  struct Unacked {
    engine::TaskResult result;
    LogCursor log;
    std::vector<engine::TaskArtifact> outputs;
  };
  std::map<std::string, Unacked> unacked;  // results sent (or to send) until the hub acks them
  bool draining = false;
  bool stopping = false;  // Run is returning
  // The hub's Welcome says it reads Results. Set under mu; read under write_mu too.
  std::atomic<bool> hub_batches{false};
  std::vector<std::string> unsent;  // results held for the next Results message
  Micros unsent_since = 0;          // when the oldest of them was held (monotonic)
  // Beat wakes at beat_due (monotonic): the next heartbeat, or when the held results are due;
  // beat_cv wakes it sooner (stopping, or a first result held while it sleeps longer).
  Micros beat_due = 0;
  std::condition_variable beat_cv;

  // The current stream; writes are serialized by write_mu, which is taken after mu if both are.
  std::mutex write_mu;
  Rpc* rpc = nullptr;
  std::atomic<bool> writes_done{false};

  explicit Impl(RemoteSpokeOptions o) : options(std::move(o)) {}

  Micros ResultDelayUs() const { return options.result_delay_ms * 1000; }

  bool Idle() const { return running.empty() && unacked.empty(); }

  bool Write(const v1::SpokeMessage& m) {
    std::lock_guard lock(write_mu);
    return rpc && !writes_done && rpc->Write(m);
  }

  // Sends the log of a task from `from` on; returns how far it got. Caller holds write_mu.
  int64_t SendLogLocked(const LogCursor& log, int64_t from) {
    std::string path = log_root + "/" + log.workflow + "/" + log.node_id + ".log";
    std::ifstream in(path, std::ios::binary);
    if (!in) return from;
    in.seekg(from);
    std::string buf(kLogChunkBytes, '\0');
    while (rpc && !writes_done) {
      in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
      std::streamsize n = in.gcount();
      if (n <= 0) break;
      v1::SpokeMessage m;
      v1::LogChunk* chunk = m.mutable_log();
      chunk->set_workflow(log.workflow);
      chunk->set_node_id(log.node_id);
      chunk->set_offset(from);
      chunk->set_data(buf.data(), static_cast<size_t>(n));
      if (!rpc->Write(m)) break;
      from += n;
    }
    return from;
  }

  // The log so far and the result; the hub acknowledges the result once it is committed.
  void SendResultLocked(const Unacked& u) {
    v1::SpokeMessage m;
    FinishedLocked(u, m.mutable_finished());
    if (rpc && !writes_done) rpc->Write(m);
  }

  // Results, with their logs first, in one message if the hub reads Results. Caller holds
  // write_mu.
  void SendResultsLocked(const std::vector<Unacked>& results) {
    if (results.size() == 1 || !hub_batches) {
      for (const Unacked& u : results) SendResultLocked(u);
      return;
    }
    v1::SpokeMessage m;
    size_t bytes = 0;
    for (const Unacked& u : results) {
      v1::TaskFinished* finished = m.mutable_results()->add_finished();
      FinishedLocked(u, finished);
      bytes += finished->ByteSizeLong();
      if (bytes >= kBatchBytes) {
        if (rpc && !writes_done) rpc->Write(m);
        m.Clear();
        bytes = 0;
      }
    }
    if (m.results().finished_size() > 0 && rpc && !writes_done) rpc->Write(m);
  }

  // Sends the log of a result and fills in its TaskFinished. Caller holds write_mu.
  void FinishedLocked(const Unacked& u, v1::TaskFinished* finished) {
    SendLogLocked(u.log, 0);
    ResultToProto(u.result, finished);
    for (const engine::TaskArtifact& a : u.outputs) {
      if (u.result.artifact_errors.count(a.name)) continue;
      v1::Artifact* pa = finished->add_artifacts();
      pa->set_name(a.name);
      pa->set_key(a.key);
    }
    AttachContents(artifact_root, finished->mutable_artifacts());
    for (const v1::Artifact& a : finished->artifacts()) {
      // Not to be stored at the hub: the result says why, as for one the task did not write.
      if (!a.error().empty()) (*finished->mutable_artifact_errors())[a.name()] = a.error();
    }
  }

  // The results held for a Results message. Caller holds mu.
  std::vector<Unacked> TakeUnsentLocked() {
    std::vector<Unacked> out;
    for (const std::string& attempt : unsent) {
      auto it = unacked.find(attempt);
      if (it != unacked.end()) out.push_back(it->second);
    }
    unsent.clear();
    return out;
  }

  // Takes the artifact files of an attempt: its inputs (written here) and outputs. Caller holds mu.
  void UseArtifactsLocked(const engine::Task& task) {
    std::vector<std::string>& keys = artifact_keys[task.attempt_id];
    for (const auto* list : {&task.input_artifacts, &task.output_artifacts}) {
      for (const engine::TaskArtifact& a : *list) {
        if (a.data) continue;
        keys.push_back(a.key);
        key_users[a.key]++;
      }
    }
    outputs[task.attempt_id] = task.output_artifacts;
  }

  // The attempt's result is committed at the hub: its artifact files go once unused. Caller
  // holds mu.
  void ReleaseArtifactsLocked(const std::string& attempt_id) {
    auto it = artifact_keys.find(attempt_id);
    if (it == artifact_keys.end()) return;
    for (const std::string& key : it->second) {
      if (--key_users[key] > 0) continue;
      key_users.erase(key);
      std::error_code ec;
      std::filesystem::remove_all(artifact_root + "/" + key, ec);
    }
    artifact_keys.erase(it);
  }

  void OnTaskStarted(const std::string& attempt_id, const std::string&, Micros at) override {
    v1::SpokeMessage m;
    m.mutable_started()->set_attempt_id(attempt_id);
    m.mutable_started()->set_at_us(at);
    Write(m);
  }

  void OnTaskFinished(engine::TaskResult result) override {
    Unacked u;
    std::vector<Unacked> send;
    bool held_first = false;
    {
      std::lock_guard lock(mu);
      auto it = running.find(result.attempt_id);
      if (it != running.end()) {
        u.log = it->second;
        running.erase(it);
      }
      if (auto out = outputs.find(result.attempt_id); out != outputs.end()) {
        u.outputs = std::move(out->second);
        outputs.erase(out);
      }
      u.result = std::move(result);
      unacked[u.result.attempt_id] = u;
      if (!hub_batches) {
        send.push_back(std::move(u));
      } else {
        held_first = unsent.empty();
        if (held_first) unsent_since = MonotonicMicros();
        held_first = held_first && beat_due > unsent_since + ResultDelayUs();
        unsent.push_back(u.result.attempt_id);
        if (local->Waiting() <= static_cast<size_t>(options.slots) || unsent.size() >= kMaxBatch) {
          send = TakeUnsentLocked();
          held_first = false;
        }
      }
    }
    if (held_first) beat_cv.notify_all();  // to send it once its delay is over
    if (send.empty()) return;
    std::lock_guard lock(write_mu);
    SendResultsLocked(send);
  }

  // Every heartbeat: a Heartbeat, and what the running tasks logged since the last one. And the
  // results held longer than their delay.
  void Beat() {
    std::unique_lock lock(mu);
    Micros next_beat = MonotonicMicros() + heartbeat_ms.load() * 1000;
    while (!stopping) {
      Micros now = MonotonicMicros();
      beat_due = unsent.empty() ? next_beat : std::min(next_beat, unsent_since + ResultDelayUs());
      beat_cv.wait_for(lock, std::chrono::microseconds(std::max<Micros>(beat_due - now, 0)));
      if (stopping) return;
      now = MonotonicMicros();
      if (!unsent.empty() && now >= unsent_since + ResultDelayUs()) {
        std::vector<Unacked> send = TakeUnsentLocked();
        lock.unlock();
        {
          std::lock_guard wlock(write_mu);
          SendResultsLocked(send);
        }
        lock.lock();
      }
      if (now < next_beat) continue;
      next_beat = now + heartbeat_ms.load() * 1000;
      std::vector<std::pair<std::string, LogCursor>> logs(running.begin(), running.end());
      lock.unlock();
      {
        std::lock_guard wlock(write_mu);
        if (rpc && !writes_done) {
          v1::SpokeMessage m;
          m.mutable_heartbeat();
          rpc->Write(m);
          for (auto& [attempt, log] : logs) log.sent = SendLogLocked(log, log.sent);
        }
      }
      lock.lock();
      for (const auto& [attempt, log] : logs) {
        auto it = running.find(attempt);
        if (it != running.end()) it->second.sent = std::max(it->second.sent, log.sent);
      }
    }
  }

  // Half-closes the stream once a draining spoke has nothing left to report; the hub then lets
  // it go. Caller holds mu.
  void MaybeLeaveLocked() {
    if (!draining || !Idle()) return;
    std::lock_guard lock(write_mu);
    if (rpc && !writes_done) {
      writes_done = true;
      rpc->WritesDone();
    }
  }

  // The hub committed the attempt's result: it need not be sent again.
  void Acked(const std::string& attempt_id) {
    std::lock_guard lock(mu);
    auto it = unacked.find(attempt_id);
    if (it == unacked.end()) return;
    std::error_code ec;
    std::filesystem::remove(
        log_root + "/" + it->second.log.workflow + "/" + it->second.log.node_id + ".log", ec);
    unacked.erase(it);
    ReleaseArtifactsLocked(attempt_id);
  }

  // Runs an assigned task, once its input artifacts are stored here.
  void Take(const v1::Task& wire) {
    engine::Task task = TaskFromProto(wire);
    std::map<std::string, std::string> not_stored;
    {
      std::lock_guard lock(mu);
      if (writes_done) return;  // leaving: the hub gives it to another spoke
      running[task.attempt_id] = {task.workflow, task.node_id, 0};
      std::set<std::string> in_use;  // stored here for another task, which may be reading it
      for (const engine::TaskArtifact& a : task.input_artifacts) {
        if (key_users.count(a.key)) in_use.insert(a.key);
      }
      UseArtifactsLocked(task);
      not_stored = StoreContents(artifact_root, wire.input_artifacts(), in_use);
    }
    if (!not_stored.empty()) {
      engine::TaskResult result;
      result.attempt_id = task.attempt_id;
      result.started = false;
      result.message = "input artifact '" + not_stored.begin()->first +
                       "' did not reach the spoke: " + not_stored.begin()->second;
      result.started_at = result.finished_at = SystemClock().Now();
      OnTaskFinished(std::move(result));
      return;
    }
    local->Assign(std::move(task));
  }

  void Handle(const v1::HubMessage& m) {
    switch (m.kind_case()) {
      case v1::HubMessage::kWelcome: {
        heartbeat_ms = std::max<int64_t>(m.welcome().heartbeat_ms(), 1);
        {
          std::lock_guard lock(mu);
          hub_batches = m.welcome().batches();
        }
        for (const std::string& a : m.welcome().cancel()) {
          local->Cancel(a);
          std::lock_guard lock(mu);
          unacked.erase(a);
          ReleaseArtifactsLocked(a);
        }
        break;
      }
      case v1::HubMessage::kAssign:
        for (const std::string& a : m.assign().acked()) Acked(a);
        if (m.assign().has_task()) Take(m.assign().task());
        for (const v1::Task& task : m.assign().more()) Take(task);
        break;
      case v1::HubMessage::kCancel:
        local->Cancel(m.cancel().attempt_id());
        break;
      case v1::HubMessage::kAck:
        Acked(m.ack().attempt_id());
        break;
      default:
        break;
    }
    std::lock_guard lock(mu);
    MaybeLeaveLocked();
  }

  // One connection: Hello, what is unacknowledged, then messages until the stream ends.
  grpc::Status Session(v1::SpokeHub::Stub& stub, bool& welcomed) {
    grpc::ClientContext context;
    if (!options.token.empty()) context.AddMetadata("authorization", "Bearer " + options.token);
    std::unique_ptr<Rpc> stream = stub.Connect(&context);
    v1::SpokeMessage hello;
    v1::Hello* h = hello.mutable_hello();
    h->set_spoke_id(spoke_id);
    h->set_name(options.name);
    h->mutable_labels()->insert(local->labels().begin(), local->labels().end());
    h->set_slots(options.slots);
    h->set_version(options.version);
    h->set_acks_with_assign(true);
    h->set_batches(true);
    bool draining_now;
    {
      std::lock_guard lock(mu);
      hub_batches = false;  // until this hub's Welcome says otherwise
      unsent.clear();       // all of unacked is sent again below
      for (const auto& [attempt, log] : running) h->add_running(attempt);
      for (const auto& [attempt, u] : unacked) h->add_running(attempt);
      draining_now = draining;
    }
    if (stream->Write(hello)) {
      {
        std::lock_guard wlock(write_mu);
        rpc = stream.get();
        writes_done = false;
      }
      // Results finished from here on are sent by their worker; these were finished before.
      std::vector<Unacked> resend;
      {
        std::lock_guard lock(mu);
        for (const auto& [attempt, u] : unacked) resend.push_back(u);
      }
      std::lock_guard wlock(write_mu);
      for (const Unacked& u : resend) SendResultLocked(u);
      if (draining_now) {
        v1::SpokeMessage d;
        d.mutable_draining();
        rpc->Write(d);
      }
    }
    v1::HubMessage in;
    while (stream->Read(&in)) {
      if (!welcomed) LogInfo("spoke " + options.name + ": connected to the hub at " + options.hub);
      welcomed = true;
      Handle(in);
    }
    {
      std::lock_guard wlock(write_mu);
      rpc = nullptr;
    }
    return stream->Finish();
  }

  Status Run() {
    log_root = options.work_dir + "/logs";
    artifact_root = options.work_dir + "/artifacts";
    SpokeOptions so;
    so.name = options.name;
    so.slots = options.slots;
    so.labels = options.labels;
    so.work_root = options.work_dir + "/attempts";
    so.log_root = log_root;
    so.artifact_root = artifact_root;
    std::error_code ec;
    std::filesystem::create_directories(so.work_root, ec);
    std::filesystem::create_directories(log_root, ec);
    if (ec) return Fail(IoError("cannot create " + log_root + ": " + ec.message()));
    // As the hub's local spokes: a private /tmp per slot thread, unless the work directory is
    // itself under /tmp (then each task gets a mount namespace of its own).
    if (std::filesystem::weakly_canonical(options.work_dir, ec).string().rfind("/tmp/", 0) != 0) {
      so.sandbox_root = options.work_dir + "/slots";
    }
    so.images = options.images;

    auto ca = ReadPem(options.tls_ca);
    auto cert = ReadPem(options.tls_cert);
    auto key = ReadPem(options.tls_key);
    for (const auto* pem : {&ca, &cert, &key}) {
      if (!pem->ok()) return Fail(pem->error());
    }
    std::shared_ptr<grpc::ChannelCredentials> creds = grpc::InsecureChannelCredentials();
    if (!ca->empty() || !cert->empty()) {
      grpc::SslCredentialsOptions ssl;
      ssl.pem_root_certs = *ca;
      ssl.pem_cert_chain = *cert;
      ssl.pem_private_key = *key;
      creds = grpc::SslCredentials(ssl);
    }
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(kMaxMessageBytes);
    args.SetMaxSendMessageSize(kMaxMessageBytes);
    args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 10'000);
    args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 10'000);
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, static_cast<int>(kMaxBackoffMs));
    auto channel = grpc::CreateCustomChannel(options.hub, creds, args);
    auto stub = v1::SpokeHub::NewStub(channel);

    local = std::make_unique<LocalSpoke>(std::move(so), this);
    std::thread beat([this] { Beat(); });
    Status outcome;
    int64_t backoff_ms = kFirstBackoffMs;
    for (;;) {
      {
        std::lock_guard lock(mu);
        if (draining && Idle()) break;  // nothing left to report
      }
      bool welcomed = false;
      grpc::Status status = Session(*stub, welcomed);
      std::unique_lock lock(mu);
      if (draining && Idle()) break;
      if (Fatal(status.error_code())) {
        outcome = Fail(Error{
            ErrorCode::kFailedPrecondition,
            "the hub at " + options.hub + " refused this spoke: " + status.error_message(), ""});
        break;
      }
      if (welcomed) backoff_ms = kFirstBackoffMs;
      LogWarn("spoke " + options.name + ": no connection to the hub at " + options.hub + " (" +
              status.error_message() + "); retrying in " + std::to_string(backoff_ms) + " ms");
      cv.wait_for(lock, std::chrono::milliseconds(backoff_ms));
      backoff_ms = std::min(backoff_ms * 2, kMaxBackoffMs);
    }
    {
      std::lock_guard lock(mu);
      stopping = true;
    }
    cv.notify_all();
    beat_cv.notify_all();
    beat.join();
    local.reset();  // a refused spoke has no tasks; a drained one has finished them
    return outcome;
  }

  void Drain() {
    std::lock_guard lock(mu);
    if (draining) return;
    draining = true;
    LogInfo("spoke " + options.name + ": draining: finishing " + std::to_string(running.size()) +
            " running task(s), taking no new ones");
    {
      std::lock_guard wlock(write_mu);
      if (rpc && !writes_done) {
        v1::SpokeMessage d;
        d.mutable_draining();
        rpc->Write(d);
      }
    }
    MaybeLeaveLocked();
    cv.notify_all();
  }
};

RemoteSpokeAgent::RemoteSpokeAgent(RemoteSpokeOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}

RemoteSpokeAgent::~RemoteSpokeAgent() = default;

Status RemoteSpokeAgent::Run() { return impl_->Run(); }

void RemoteSpokeAgent::Drain() { impl_->Drain(); }

}  // namespace hubspoke::spoke
