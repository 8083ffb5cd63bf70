#include "cli/client.h"

#include <httplib.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace hubspoke::cli {
namespace {

constexpr int kConnectTimeoutSeconds = 5;
constexpr int kRequestTimeoutSeconds = 120;

std::string Trim(std::string s) {
  size_t end = s.find_last_not_of(" \t\r\n");
  s.erase(end == std::string::npos ? 0 : end + 1);
  s.erase(0, s.find_first_not_of(" \t\r\n"));
  return s;
}

// "HOST:PORT" gets http://; a trailing slash goes.
std::string NormalizeUrl(std::string url) {
  url = Trim(std::move(url));
  if (url.find("://") == std::string::npos) url = "http://" + url;
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

const char* Env(const char* name) {
  const char* value = getenv(name);
  return value && *value ? value : nullptr;
}

Result<std::string> ReadSmallFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Fail(IoError("cannot read " + path + ": " + strerror(errno)));
  std::stringstream ss;
  ss << in.rdbuf();
  return Trim(ss.str());
}

ErrorCode CodeOf(int http_status) {
  switch (http_status) {
    case 400:
    case 413:
      return ErrorCode::kInvalidArgument;
    case 404:
      return ErrorCode::kNotFound;
    case 409:
      return ErrorCode::kAlreadyExists;
    case 401:
    case 403:
      return ErrorCode::kFailedPrecondition;
    case 503:
      return ErrorCode::kUnavailable;
    default:
      return ErrorCode::kInternal;
  }
}

}  // namespace

Result<std::optional<Endpoint>> ResolveEndpoint(const std::string& server_flag,
                                                const std::string& token_flag,
                                                const std::string& data_dir) {
  Endpoint e;
  if (!server_flag.empty()) {
    e.url = server_flag;
    e.url_source = "--server";
  } else if (const char* env = Env("HUBSPOKE_SERVER")) {
    e.url = env;
    e.url_source = "$HUBSPOKE_SERVER";
  } else {
    std::string address = data_dir + "/address";
    if (!std::filesystem::exists(address)) return std::optional<Endpoint>();
    auto url = ReadSmallFile(address);
    if (!url.ok()) return Fail(url.error());
    e.url = *url;
    e.url_source = address;
  }
  e.url = NormalizeUrl(e.url);
  if (!token_flag.empty()) {
    e.token = token_flag;
    e.token_source = "--token";
  } else if (const char* env = Env("HUBSPOKE_TOKEN")) {
    e.token = env;
    e.token_source = "$HUBSPOKE_TOKEN";
  } else if (e.url_source == data_dir + "/address" &&
             std::filesystem::exists(data_dir + "/token")) {
    auto token = ReadSmallFile(data_dir + "/token");
    if (!token.ok()) return Fail(token.error());
    e.token = *token;
    e.token_source = data_dir + "/token";
  }
  return std::optional<Endpoint>(std::move(e));
}

std::string UrlEncode(const std::string& text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

struct ApiClient::Http {
  explicit Http(const std::string& url) : client(url) {}
  httplib::Client client;
};

ApiClient::ApiClient(Endpoint endpoint)
    : endpoint_(std::move(endpoint)), http_(std::make_unique<Http>(endpoint_.url)) {
  httplib::Client& c = http_->client;
  c.set_connection_timeout(kConnectTimeoutSeconds);
  c.set_read_timeout(kRequestTimeoutSeconds);
  c.set_write_timeout(kRequestTimeoutSeconds);
  c.set_keep_alive(true);
  if (!endpoint_.token.empty()) c.set_bearer_token_auth(endpoint_.token);
}

ApiClient::~ApiClient() = default;

namespace {

// The error for a request that got no HTTP answer.
Error TransportError(const Endpoint& e, const std::string& path, httplib::Error error) {
  std::string where = e.url + " (from " + e.url_source + ")";
  switch (error) {
    case httplib::Error::Connection:
    case httplib::Error::ConnectionTimeout:
      return Error{ErrorCode::kUnavailable,
                   "no hub answers at " + where +
                       ": start one with `hubspoke hub --data DIR` (clients then find it through "
                       "DIR/address), or point --server or $HUBSPOKE_SERVER at a running hub"};
    case httplib::Error::Read:
      return Error{
          ErrorCode::kUnavailable,
          "the hub at " + where + " closed the connection or stopped answering during " + path};
    default:
      return Error{ErrorCode::kUnavailable,
                   "request to " + where + " failed: " + httplib::to_string(error)};
  }
}

// The error for an HTTP answer outside 2xx: the server's message, status and URL; a refused
// token also says where the token came from.
Error HttpError(const Endpoint& e, const std::string& path, int status, const std::string& body) {
  std::string message;
  auto json = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (json.is_object() && json.contains("message") && json["message"].is_string()) {
    message = json["message"].get<std::string>();
  } else {
    message = Trim(body.substr(0, 300));
  }
  if (message.empty()) message = "the hub answered with an error and no message";
  std::string first = message.substr(0, message.find('\n'));
  std::string rest = first.size() < message.size() ? message.substr(first.size()) : "";
  std::string suffix =
      " (HTTP " + std::to_string(status) + " from " + e.url + path.substr(0, path.find('?'));
  if (status == 401) {
    suffix += e.token_source.empty() ? "; no token given: use --token or $HUBSPOKE_TOKEN"
                                     : "; token from " + e.token_source;
  }
  suffix += ")";
  // Further lines (every lint error of a manifest, one per line) follow, indented.
  std::string indented;
  for (size_t pos = 1; pos < rest.size();) {
    size_t end = rest.find('\n', pos);
    if (end == std::string::npos) end = rest.size();
    indented += "\n  " + rest.substr(pos, end - pos);
    pos = end + 1;
  }
  return Error{CodeOf(status), first + suffix + indented};
}

}  // namespace

Result<std::string> ApiClient::Get(const std::string& path) { return Send("GET", path, ""); }

Result<std::string> ApiClient::Post(const std::string& path, const std::string& body) {
  return Send("POST", path, body);
}

Result<std::string> ApiClient::Put(const std::string& path, const std::string& body) {
  return Send("PUT", path, body);
}

Result<std::string> ApiClient::Delete(const std::string& path) { return Send("DELETE", path, ""); }

Result<std::string> ApiClient::Send(const std::string& method, const std::string& path,
                                    const std::string& body) {
  httplib::Client& c = http_->client;
  if (!c.is_valid()) {
    return Fail(InvalidArgument("cannot use hub URL " + endpoint_.url + " (from " +
                                endpoint_.url_source + "): expected http://HOST:PORT"));
  }
  const std::string type = "application/json";
  httplib::Result r = method == "GET"    ? c.Get(path)
                      : method == "POST" ? c.Post(path, body, type)
                      : method == "PUT"  ? c.Put(path, body, type)
                                         : c.Delete(path);
  if (!r) return Fail(TransportError(endpoint_, path, r.error()));
  if (r->status < 200 || r->status >= 300) {
    return Fail(HttpError(endpoint_, path, r->status, r->body));
  }
  return r->body;
}

Status ApiClient::Stream(const std::string& path, int idle_timeout_seconds,
                         const std::function<bool(const std::string& line)>& on_line) {
  httplib::Client& c = http_->client;
  if (!c.is_valid()) {
    return Fail(InvalidArgument("cannot use hub URL " + endpoint_.url + " (from " +
                                endpoint_.url_source + "): expected http://HOST:PORT"));
  }
  int status = 0;
  bool stopped = false;
  std::string pending;  // a line not yet ended, or the body of an error answer
  c.set_read_timeout(idle_timeout_seconds);
  httplib::Result r = c.Get(
      path,
      [&](const httplib::Response& response) {
        status = response.status;
        return true;
      },
      [&](const char* data, size_t size) {
        pending.append(data, size);
        if (status < 200 || status >= 300) return true;
        size_t start = 0;
        for (size_t nl; (nl = pending.find('\n', start)) != std::string::npos; start = nl + 1) {
          std::string line = pending.substr(start, nl - start);
          if (!line.empty() && line.back() == '\r') line.pop_back();
          if (line.empty()) continue;
          if (!on_line(line)) {
            stopped = true;
            return false;
          }
        }
        pending.erase(0, start);
        return true;
      });
  c.set_read_timeout(kRequestTimeoutSeconds);
  if (stopped) return {};
  if (!r) return Fail(TransportError(endpoint_, path, r.error()));
  if (status < 200 || status >= 300) return Fail(HttpError(endpoint_, path, status, pending));
  if (!pending.empty()) on_line(pending);
  return {};
}

}  // namespace hubspoke::cli
