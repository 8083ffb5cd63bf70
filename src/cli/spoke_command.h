// `hubspoke spoke`: a spoke agent on this machine that joins a hub over gRPC and runs its tasks
// (spoke::RemoteSpokeAgent) until SIGTERM or SIGINT, which drain it: running tasks finish and
// are reported, no new ones are taken, then it exits 0.
// Thread-safety: call DoSpoke once, from the main thread, before any other thread exists (it
// blocks SIGINT and SIGTERM, which every later thread inherits, and waits for them).
#pragma once

#include <string>
#include <vector>

namespace hubspoke::cli {

struct SpokeFlags {
  std::string hub = "127.0.0.1:2747";  // HOST:PORT of the hub's --spoke-listen
  std::string name;                    // "": this host's name
  int slots = 0;                       // 0: one per core
  std::vector<std::string> labels;     // k=v or k=v,k2=v2
  std::string token_file;              // else $HUBSPOKE_TOKEN, else no token
  std::vector<std::string> image_maps;
  std::string tls_ca;
  std::string tls_cert;
  std::string tls_key;
  std::string work_dir;   // "": <state dir>/spoke-<name>
  std::string state_dir;  // the default parent of work_dir
  std::string version;
};

// Returns the exit code: 0 after draining, 1 when the hub refuses the spoke (wrong token, name
// reserved or taken) or it cannot start, 2 for a bad flag.
int DoSpoke(SpokeFlags flags);

}  // namespace hubspoke::cli
