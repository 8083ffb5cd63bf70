// The agent behind `hubspoke spoke`: connects to a hub over gRPC (hubspoke.v1.SpokeHub, one
// bidirectional stream), advertises its slots and labels, runs the tasks it is assigned with a
// LocalSpoke (the executor local spokes use), sends their logs and results, and keeps each result
// until the hub acknowledges it. When the stream breaks (or the hub restarts) it reconnects with
// backoff, re-claims the attempts it runs and sends the unacknowledged results again.
// Thread-safety: Run() is called once, from one thread; Drain() may be called from any thread.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "common/error.h"
#include "spoke/local_spoke.h"

namespace hubspoke::spoke {

struct RemoteSpokeOptions {
  std::string hub;  // HOST:PORT of the hub's spoke listener
  std::string name;
  int slots = 1;
  std::map<std::string, std::string> labels;  // added to WellKnownLabels(), which they override
  std::string token;                          // sent as authorization: Bearer <token>; "": none
  // PEM files. A CA (to verify the hub) turns TLS on; a certificate and key identify the spoke.
  std::string tls_ca;
  std::string tls_cert;
  std::string tls_key;
  std::string work_dir;  // attempt directories and the logs of running tasks
  ImageMap images = ImageMap::WithDefaults();
  std::string version;
  // To a hub that reads several results per message, the results of short tasks are held while
  // two or more tasks per slot wait here, at most this long.
  int64_t result_delay_ms = 10;
};

class RemoteSpokeAgent {
 public:
  explicit RemoteSpokeAgent(RemoteSpokeOptions options);
  ~RemoteSpokeAgent();
  RemoteSpokeAgent(const RemoteSpokeAgent&) = delete;
  RemoteSpokeAgent& operator=(const RemoteSpokeAgent&) = delete;

  // Serves the hub until drained: returns OK once Drain() was called and every task it had was
  // reported and acknowledged. Fails when the hub refuses the spoke (a wrong token, a reserved
  // or taken name) or a TLS file cannot be read; an unreachable hub is retried, not an error.
  Status Run();
  // Takes no new tasks from now on: Run() returns once the running ones are done and reported.
  void Drain();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hubspoke::spoke
