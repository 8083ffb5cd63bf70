// `hubspoke hub`: a long-running hub with local spokes that serves the REST API (docs/api.md) on
// a host:port, accepts remote spokes (docs/spokes.md) on another, keeps its state in a data
// directory (one hub per directory, enforced by a lock) and publishes its address and token there
// for clients. Thread-safety: call DoHub once, from the main thread, before any other thread exists
// (it blocks SIGINT and SIGTERM, which every later thread inherits, and waits for them).
#pragma once

#include <string>
#include <vector>

namespace hubspoke::cli {

struct HubFlags {
  std::string listen = "127.0.0.1:2746";  // HOST:PORT; port 0 picks a free one
  std::string data_dir;
  int spokes = -1;             // local spokes; -1: one per core; 0: none (remote spokes only)
  std::string token_file;      // read the token from here instead of DATA/token
  std::string auth = "token";  // "token" or "none" (no authentication)
  std::vector<std::string> image_maps;
  std::vector<std::string> semaphores;  // --semaphore NAME/KEY=LIMIT
  // Remote spokes (`hubspoke spoke`) connect here over gRPC, with the clients' token.
  std::string spoke_listen = "127.0.0.1:2747";  // HOST:PORT; port 0 picks a free one
  int spoke_lease_s = 10;                       // a spoke silent this long is lost
  std::string spoke_tls_cert;                   // PEM; with the key, spokes connect over TLS
  std::string spoke_tls_key;
  std::string spoke_tls_ca;  // PEM; spokes must present a certificate it signed
  std::string version;
  std::string ui_dir;  // the built web UI; "": the directory ui/ next to the executable
};

// Serves until SIGINT or SIGTERM; returns the exit code (0 after a signal, 1 when the hub cannot
// start, 2 for a bad flag).
int DoHub(const HubFlags& flags);

}  // namespace hubspoke::cli
