// The HTTP client of the hub's REST API (see the API contract): finds the hub and its token the
// way every client command does, sends JSON requests with the bearer token, and reads the
// newline-delimited JSON streams (logs, workflow events) line by line. A failed request becomes
// one readable Error: the server's message, the HTTP status and the URL, or, when nothing
// answers, which URL was tried, where it came from and how to start a hub.
// Thread-safety: an ApiClient is used by one thread at a time; ResolveEndpoint is a pure function
// of its arguments, the environment and the files it reads.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "common/error.h"

namespace hubspoke::cli {

// Where a hub is and how to authenticate, with the origin of each for error messages.
struct Endpoint {
  std::string url;           // "http://127.0.0.1:2746", no trailing slash
  std::string url_source;    // "--server", "$HUBSPOKE_SERVER", "DIR/address"
  std::string token;         // "" when none (a hub run with --auth none)
  std::string token_source;  // "--token", "$HUBSPOKE_TOKEN", "DIR/token", ""
};

// Finds the hub, in this order: `server_flag` (--server), $HUBSPOKE_SERVER, the address file
// `data_dir`/address that a running `hubspoke hub --data DIR` writes. The token: `token_flag`
// (--token), $HUBSPOKE_TOKEN, `data_dir`/token when the address came from `data_dir`. Returns
// nullopt when none of the three names a hub; an error when a file exists but cannot be read.
Result<std::optional<Endpoint>> ResolveEndpoint(const std::string& server_flag,
                                                const std::string& token_flag,
                                                const std::string& data_dir);

// Percent-encodes `text` for a URL path segment or query value.
std::string UrlEncode(const std::string& text);

class ApiClient {
 public:
  explicit ApiClient(Endpoint endpoint);
  ~ApiClient();
  ApiClient(const ApiClient&) = delete;
  ApiClient& operator=(const ApiClient&) = delete;

  // One request; `path` starts with "/api/v1/" and may carry a query. Returns the response body
  // of a 2xx answer. `body` is JSON text ("" sends none).
  Result<std::string> Get(const std::string& path);
  Result<std::string> Post(const std::string& path, const std::string& body);
  Result<std::string> Put(const std::string& path, const std::string& body);
  Result<std::string> Delete(const std::string& path);

  // A streaming GET: calls `on_line` with each line of the body as it arrives (without the
  // newline; empty lines skipped) until the server ends the stream, `on_line` returns false, or
  // nothing arrives for `idle_timeout_seconds`. Stopping early with false is a success; a quiet
  // stream that times out is an Unavailable error.
  Status Stream(const std::string& path, int idle_timeout_seconds,
                const std::function<bool(const std::string& line)>& on_line);

 private:
  struct Http;
  Result<std::string> Send(const std::string& method, const std::string& path,
                           const std::string& body);

  Endpoint endpoint_;
  std::unique_ptr<Http> http_;
};

}  // namespace hubspoke::cli
