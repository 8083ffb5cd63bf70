// `hubspoke hub`: a long-running hub with local spokes that serves the REST API (docs/api.md) on
// a host:port, keeps its state in a data directory (one hub per directory, enforced by a lock)
// and publishes its address and token there for clients.
// Thread-safety: call DoHub once, from the main thread, before any other thread exists (it blocks
// SIGINT and SIGTERM, which every later thread inherits, and waits for them).
#pragma once

#include <string>
#include <vector>

namespace hubspoke::cli {

struct HubFlags {
  std::string listen = "127.0.0.1:2746";  // HOST:PORT; port 0 picks a free one
  std::string data_dir;
  int spokes = 0;              // local spokes; 0: one per core
  std::string token_file;      // read the token from here instead of DATA/token
  std::string auth = "token";  // "token" or "none" (no authentication)
  std::vector<std::string> image_maps;
  std::string version;
};

// Serves until SIGINT or SIGTERM; returns the exit code (0 after a signal, 1 when the hub cannot
// start, 2 for a bad flag).
int DoHub(const HubFlags& flags);

}  // namespace hubspoke::cli
