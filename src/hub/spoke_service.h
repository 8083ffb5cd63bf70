// The hub's end of remote spokes: a gRPC server (service hubspoke.v1.SpokeHub, one bidirectional
// stream per spoke, callback API so no thread is held per spoke) that joins each authenticated
// spoke to the Hub (AddSpoke), hands it tasks, writes its logs under hub.log_root(), forwards its
// reports to hub.listener() and acknowledges results once the hub committed them. A spoke whose
// stream breaks keeps its attempts for one lease, in case it reconnects; a spoke silent for one
// lease is lost (Hub::RemoveSpoke), and its attempts follow their retryStrategy.
// Lifetime: the hub keeps using the spokes it was given until it stops, so destroy the Hub before
// its SpokeService (Stop first, then the Hub, then the SpokeService).
// Thread-safety: Start and Stop may be called from any thread, Stop more than once.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "common/error.h"
#include "hub/hub.h"

namespace hubspoke::hub {

struct SpokeServiceOptions {
  std::string listen = "127.0.0.1:2747";  // HOST:PORT; port 0 picks a free one
  std::string token;                      // the bearer token spokes must send; "": no auth
  // PEM files. With a certificate and key the server speaks TLS; with a CA too it requires
  // spokes to present a certificate signed by that CA.
  std::string tls_cert;
  std::string tls_key;
  std::string tls_ca;
  int64_t lease_ms = 10'000;  // a spoke silent this long is lost (use HubOptions::spoke_lease_ms)
};

class SpokeService {
 public:
  SpokeService(Hub& hub, SpokeServiceOptions options);
  ~SpokeService();  // Stop()
  SpokeService(const SpokeService&) = delete;
  SpokeService& operator=(const SpokeService&) = delete;

  // Binds and serves. Returns the bound port; Unavailable when the address cannot be bound,
  // InvalidArgument/Io for unusable TLS files.
  Result<int> Start();
  // Ends every stream and stops serving. The spokes stay joined to the hub (they reconnect to
  // the next hub on this data directory and re-claim their attempts).
  void Stop();

  struct Impl;  // named by the stream reactors in the .cc

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace hubspoke::hub
