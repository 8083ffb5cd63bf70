// The hub's REST API, shaped like Argo Server's /api/v1 (docs/api.md): workflows, templates,
// commands, logs and a watch stream, served over HTTP for a Hub. Requests run on a bounded pool
// of threads; they call the Hub (whose methods are thread-safe) and read its store, and never
// block the engine thread: streams are fed by Hub::Watch, whose callback only queues names.
// Thread-safety: Start and Stop may be called from any thread, Stop more than once.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "common/error.h"
#include "hub/hub.h"

namespace hubspoke::hub {

struct HttpApiOptions {
  std::string host = "127.0.0.1";
  int port = 2746;    // 0: any free port (see HttpApi::port())
  std::string token;  // the bearer token every request but /healthz must carry; "": no auth
  size_t max_body_bytes = 16 << 20;  // larger bodies get 413
  int threads = 16;                  // requests served at once (keep-alive connections hold one)
  int max_streams = 12;              // open log/watch streams; more get 503 (< threads)
  std::string version = "0.1.0";
  // The built web UI (index.html and assets/), served without a token at / and the UI's pages;
  // "" or a directory without index.html: those pages answer 503 saying how to build it.
  std::string ui_dir;
};

class HttpApi {
 public:
  HttpApi(Hub& hub, HttpApiOptions options);
  ~HttpApi();  // Stop()
  HttpApi(const HttpApi&) = delete;
  HttpApi& operator=(const HttpApi&) = delete;

  // Binds host:port and serves on a background thread. Returns the bound port. Unavailable when
  // the address cannot be bound.
  Result<int> Start();
  // Stops accepting, ends open streams, waits for running requests. The hub is left running.
  void Stop();
  int port() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hubspoke::hub
