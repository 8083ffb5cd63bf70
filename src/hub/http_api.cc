#include "hub/http_api.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <httplib.h>
#include <netinet/in.h>
#include <poll.h>
#include <regex.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "common/log.h"
#include "hub/label_selector.h"
#include "hub/serialize.h"
#include "hub/ui_files.h"
#include "spec/loader.h"

namespace hubspoke::hub {
namespace {

using Json = nlohmann::ordered_json;

// gRPC status codes, which Argo Server's error bodies carry.
constexpr int kCodeInvalidArgument = 3;
constexpr int kCodeNotFound = 5;
constexpr int kCodeAlreadyExists = 6;
constexpr int kCodeResourceExhausted = 8;
constexpr int kCodeFailedPrecondition = 9;
constexpr int kCodeInternal = 13;
constexpr int kCodeUnavailable = 14;
constexpr int kCodeUnauthenticated = 16;

constexpr const char* kPhaseLabel = "workflows.argoproj.io/phase";
constexpr const char* kCompletedLabel = "workflows.argoproj.io/completed";
constexpr const char* kNdjson = "application/x-ndjson";
// A watch with nodes is sent a running workflow at most this often: each object holds every node.
constexpr std::chrono::milliseconds kNodesEvery{250};

// Text that is always valid JSON: bytes that are not UTF-8 (task output may hold any) become U+FFFD
// instead of throwing.
std::string Dump(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

void SendJson(httplib::Response& res, const Json& body, int status = 200) {
  res.status = status;
  res.set_content(Dump(body), "application/json");
}

void SendError(httplib::Response& res, int status, int code, const std::string& message,
               const std::string& field = {}, Json extra = Json::object()) {
  Json body = {{"code", code}, {"message", message}};
  if (!field.empty()) body["field"] = field;
  for (auto& [k, v] : extra.items()) body[k] = std::move(v);
  SendJson(res, body, status);
}

// An error from this file's request validation: `where` holds the JSON path of the field.
void SendRequestError(httplib::Response& res, const Error& e) {
  SendError(res, 400, kCodeInvalidArgument, e.message, e.where);
}

// An error from the hub or the store, mapped to the HTTP status and gRPC code Argo would use.
void SendHubError(httplib::Response& res, const Error& e) {
  switch (e.code) {
    case ErrorCode::kInvalidArgument:
      return SendError(res, 400, kCodeInvalidArgument, e.ToString());
    case ErrorCode::kFailedPrecondition:
      return SendError(res, 400, kCodeFailedPrecondition, e.ToString());
    case ErrorCode::kNotFound:
      return SendError(res, 404, kCodeNotFound, e.ToString());
    case ErrorCode::kAlreadyExists:
      return SendError(res, 409, kCodeAlreadyExists, e.ToString());
    case ErrorCode::kUnavailable:
      return SendError(res, 503, kCodeUnavailable, e.ToString());
    case ErrorCode::kIo:
    case ErrorCode::kInternal:
      return SendError(res, 500, kCodeInternal, e.ToString());
  }
}

bool ConstantTimeEquals(std::string_view given, std::string_view expected) {
  unsigned char diff = given.size() == expected.size() ? 0 : 1;
  for (size_t i = 0; i < expected.size(); ++i) {
    diff |= static_cast<unsigned char>(expected[i] ^ (i < given.size() ? given[i] : 0));
  }
  return diff == 0;
}

// The body's required object `field` ({"workflow": {...}}), or a 400 naming it.
Result<Json> RequiredObject(const httplib::Request& req, const std::string& field) {
  Json body = Json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) {
    return Fail(InvalidArgument("the request body is not JSON; expected {\"" + field + "\": {...}}",
                                field));
  }
  if (!body.is_object() || !body.contains(field)) {
    return Fail(InvalidArgument("the request body lacks \"" + field + "\"", field));
  }
  if (!body[field].is_object()) {
    return Fail(InvalidArgument("\"" + field + "\" must be an object", field));
  }
  return body;
}

// An optional body (commands): empty means {}.
Result<Json> OptionalObject(const httplib::Request& req) {
  if (req.body.find_first_not_of(" \t\r\n") == std::string::npos) return Json::object();
  Json body = Json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (!body.is_object())
    return Fail(InvalidArgument("the request body must be a JSON object", "body"));
  return body;
}

Result<std::string> StringField(const Json& obj, const std::string& key, const std::string& path) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return std::string();
  if (!it->is_string()) return Fail(InvalidArgument("\"" + path + "\" must be a string", path));
  return it->get<std::string>();
}

Result<std::vector<std::string>> StringListField(const Json& obj, const std::string& key,
                                                 const std::string& path) {
  std::vector<std::string> out;
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return out;
  if (!it->is_array()) return Fail(InvalidArgument("\"" + path + "\" must be a list", path));
  for (size_t i = 0; i < it->size(); ++i) {
    const Json& v = (*it)[i];
    std::string at = path + "[" + std::to_string(i) + "]";
    if (!v.is_string()) return Fail(InvalidArgument("\"" + at + "\" must be a string", at));
    out.push_back(v.get<std::string>());
  }
  return out;
}

// "name=value" items of a list (parameters).
Result<std::vector<std::pair<std::string, std::string>>> Assignments(const Json& obj,
                                                                     const std::string& key,
                                                                     const std::string& path) {
  auto items = StringListField(obj, key, path);
  if (!items.ok()) return Fail(items.error());
  std::vector<std::pair<std::string, std::string>> out;
  for (size_t i = 0; i < items->size(); ++i) {
    const std::string& item = (*items)[i];
    size_t eq = item.find('=');
    if (eq == std::string::npos || eq == 0) {
      std::string at = path + "[" + std::to_string(i) + "]";
      return Fail(InvalidArgument("\"" + item + "\": expected name=value", at));
    }
    out.emplace_back(item.substr(0, eq), item.substr(eq + 1));
  }
  return out;
}

// Puts a manifest into the path's namespace (Argo does the same); a different one is an error.
Status PlaceInNamespace(Json& manifest, const std::string& ns, const std::string& field) {
  Json& metadata = manifest["metadata"];
  if (metadata.is_null()) metadata = Json::object();
  if (!metadata.is_object()) {
    return Fail(
        InvalidArgument("\"" + field + ".metadata\" must be an object", field + ".metadata"));
  }
  auto it = metadata.find("namespace");
  if (it == metadata.end() || it->is_null() ||
      (it->is_string() && it->get<std::string>().empty())) {
    metadata["namespace"] = ns;
  } else if (!it->is_string() || it->get<std::string>() != ns) {
    return Fail(InvalidArgument("\"" + field + ".metadata.namespace\" is " + Dump(*it) +
                                    " but the request is for namespace " + ns,
                                field + ".metadata.namespace"));
  }
  return {};
}

// Parses the manifest object of a request into the model, after defaulting apiVersion and kind
// (`kinds` lists the accepted ones; the first is the default).
Result<spec::Workflow> LoadRequestManifest(Json manifest, const std::string& ns,
                                           const std::string& field,
                                           const std::vector<std::string>& kinds) {
  if (!manifest.contains("apiVersion")) manifest["apiVersion"] = "argoproj.io/v1alpha1";
  if (!manifest.contains("kind")) manifest["kind"] = kinds.front();
  const Json& kind = manifest["kind"];
  if (!kind.is_string() ||
      std::find(kinds.begin(), kinds.end(), kind.get<std::string>()) == kinds.end()) {
    std::string accepted;
    for (const std::string& k : kinds) accepted += (accepted.empty() ? "" : " or ") + k;
    return Fail(InvalidArgument("\"" + field + ".kind\" must be " + accepted, field + ".kind"));
  }
  if (Status s = PlaceInNamespace(manifest, ns, field); !s.ok()) return Fail(s.error());
  auto loaded = spec::LoadManifest(Dump(manifest), field);
  if (!loaded.ok()) return Fail(Error{loaded.error().code, loaded.error().ToString(), field});
  return loaded;
}

Json DiagnosticsJson(const std::vector<spec::Diagnostic>& diagnostics) {
  Json out = Json::array();
  for (const spec::Diagnostic& d : diagnostics) {
    bool error = d.severity == spec::Diagnostic::Severity::kError;
    out.push_back({{"severity", error ? "error" : "warning"},
                   {"where", d.pos.ToString()},
                   {"message", d.message}});
  }
  return out;
}

// 200 with the diagnostics, or 400 listing every error when there is one.
void SendLint(httplib::Response& res, const std::vector<spec::Diagnostic>& diagnostics) {
  std::string errors;
  for (const spec::Diagnostic& d : diagnostics) {
    if (d.severity != spec::Diagnostic::Severity::kError) continue;
    errors += (errors.empty() ? "" : "\n") + d.ToString();
  }
  if (errors.empty()) return SendJson(res, {{"diagnostics", DiagnosticsJson(diagnostics)}});
  SendError(res, 400, kCodeInvalidArgument, errors, {},
            {{"diagnostics", DiagnosticsJson(diagnostics)}});
}

std::string RecordNamespace(const std::string& ns) { return ns.empty() ? "default" : ns; }

// metadata.name of a stored template ("" when it has none).
std::string TemplateName(const Json& tmpl) {
  auto it = tmpl.find("metadata");
  if (it == tmpl.end() || !it->is_object()) return "";
  auto name = it->find("name");
  return name != it->end() && name->is_string() ? name->get<std::string>() : "";
}

bool IsFinished(const store::WorkflowRecord& r) {
  return r.finished_at > 0 || r.phase == "Succeeded" || r.phase == "Failed" || r.phase == "Error";
}

// The labels a selector sees: the workflow's own plus Argo's phase and completed labels.
std::map<std::string, std::string> SelectableLabels(const store::WorkflowRecord& r) {
  std::map<std::string, std::string> labels;
  Json parsed = Json::parse(r.labels_json, nullptr, false);
  if (parsed.is_object()) {
    for (const auto& [k, v] : parsed.items()) {
      if (v.is_string()) labels[k] = v.get<std::string>();
    }
  }
  if (!r.phase.empty()) labels[kPhaseLabel] = r.phase;
  labels[kCompletedLabel] = IsFinished(r) ? "true" : "false";
  return labels;
}

// The stored Workflow object as text; with its nodes (keyed by id, in creation order) when
// asked. Spliced from the stored rows, not parsed: an ordered JSON object of a workflow's nodes
// would look each id up among those before it.
Result<std::string> WorkflowText(store::Store& store, const store::WorkflowRecord& r,
                                 bool with_nodes) {
  if (!with_nodes) return r.body_json;
  auto nodes = store.ListNodes(r.name);
  if (!nodes.ok()) return Fail(nodes.error());
  std::vector<std::pair<std::string, std::string>> by_id;
  by_id.reserve(nodes->size());
  for (store::NodeRecord& n : *nodes) by_id.emplace_back(std::move(n.id), std::move(n.body_json));
  return WorkflowJsonWithNodes(r.body_json, by_id);
}

bool WantsNodes(const httplib::Request& req) {
  return req.get_param_value("fields").find("status.nodes") != std::string::npos;
}

// GET of one workflow: nodes unless `fields` is given without them, or excludes them
// ("-status.nodes", a leading '-' making the list one of fields to leave out).
bool GetWantsNodes(const httplib::Request& req) {
  if (!req.has_param("fields")) return true;
  const std::string fields = req.get_param_value("fields");
  bool listed = fields.find("status.nodes") != std::string::npos;
  return fields.rfind('-', 0) == 0 ? !listed : listed;
}

// The opaque `continue` token: where the previous page ended in the list's order (newest first,
// then by name). Hex, so that it needs no escaping in a query string.
std::string EncodeContinue(const store::WorkflowRecord& last) {
  std::string raw = std::to_string(last.created_at) + ":" + last.name;
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned char c : raw) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

Result<std::pair<int64_t, std::string>> DecodeContinue(const std::string& token) {
  auto bad = Fail(InvalidArgument("invalid continue token (pass back the one a list returned)",
                                  "listOptions.continue"));
  if (token.size() % 2 != 0) return bad;
  std::string raw;
  for (size_t i = 0; i < token.size(); i += 2) {
    auto nibble = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      return -1;
    };
    int hi = nibble(token[i]), lo = nibble(token[i + 1]);
    if (hi < 0 || lo < 0) return bad;
    raw += static_cast<char>(hi * 16 + lo);
  }
  size_t colon = raw.find(':');
  if (colon == std::string::npos || colon == 0) return bad;
  int64_t created = 0;
  for (size_t i = 0; i < colon; ++i) {
    if (raw[i] < '0' || raw[i] > '9' || created > (INT64_MAX - 9) / 10) return bad;
    created = created * 10 + (raw[i] - '0');
  }
  return std::pair<int64_t, std::string>(created, raw.substr(colon + 1));
}

Result<int> NonNegativeInt(const httplib::Request& req, const std::string& param) {
  std::string text = req.get_param_value(param);
  if (text.empty()) return 0;
  int value = 0;
  for (char c : text) {
    if (c < '0' || c > '9' || value > 100'000'000) {
      return Fail(InvalidArgument("\"" + param + "\" must be a non-negative integer", param));
    }
    value = value * 10 + (c - '0');
  }
  return value;
}

Result<bool> BoolParam(const httplib::Request& req, const std::string& param) {
  std::string text = req.get_param_value(param);
  if (text.empty() || text == "false") return false;
  if (text == "true") return true;
  return Fail(InvalidArgument("\"" + param + "\" must be true or false", param));
}

// A POSIX extended regular expression (glibc's matcher does not recurse per input byte, so a
// long log line cannot exhaust the stack as std::regex can).
class Grep {
 public:
  static Result<std::shared_ptr<Grep>> Compile(const std::string& pattern) {
    auto g = std::shared_ptr<Grep>(new Grep);
    if (pattern.empty()) return g;
    int rc = regcomp(&g->re_, pattern.c_str(), REG_EXTENDED | REG_NOSUB);
    if (rc != 0) {
      char why[256];
      regerror(rc, &g->re_, why, sizeof(why));
      return Fail(InvalidArgument("\"grep\": " + std::string(why), "grep"));
    }
    g->compiled_ = true;
    return g;
  }
  ~Grep() {
    if (compiled_) regfree(&re_);
  }
  bool Matches(const std::string& line) const {
    return !compiled_ || regexec(&re_, line.c_str(), 0, nullptr, 0) == 0;
  }

 private:
  Grep() = default;
  regex_t re_{};
  bool compiled_ = false;
};

// An Accept-Encoding value without its "br" entries ("br, gzip;q=0.8" -> "gzip;q=0.8").
std::string WithoutBrotli(const std::string& accepted) {
  std::string out;
  size_t start = 0;
  while (start <= accepted.size()) {
    size_t comma = accepted.find(',', start);
    if (comma == std::string::npos) comma = accepted.size();
    std::string entry = accepted.substr(start, comma - start);
    start = comma + 1;
    size_t first = entry.find_first_not_of(' ');
    if (first == std::string::npos) continue;
    entry.erase(0, first);
    std::string coding = entry.substr(0, entry.find_first_of(" ;"));
    if (coding == "br") continue;
    out += (out.empty() ? "" : ", ") + entry;
  }
  return out;
}

// "addr:port" of a socket address, as cpp-httplib fills Request::remote_addr/remote_port.
std::string Endpoint(const sockaddr_storage& a) {
  char text[INET6_ADDRSTRLEN] = {};
  int port = 0;
  if (a.ss_family == AF_INET) {
    const auto& v4 = reinterpret_cast<const sockaddr_in&>(a);
    inet_ntop(AF_INET, &v4.sin_addr, text, sizeof(text));
    port = ntohs(v4.sin_port);
  } else if (a.ss_family == AF_INET6) {
    const auto& v6 = reinterpret_cast<const sockaddr_in6&>(a);
    inet_ntop(AF_INET6, &v6.sin6_addr, text, sizeof(text));
    port = ntohs(v6.sin6_port);
  }
  return std::string(text) + ":" + std::to_string(port);
}

// The accepted socket that `req` arrived on, or -1. cpp-httplib does not expose it, so it is
// found among the process's descriptors by its two endpoints; it stays valid while the request's
// handler or content provider runs (that thread owns the connection).
int ConnectionFd(const httplib::Request& req) {
  std::string local = req.local_addr + ":" + std::to_string(req.local_port);
  std::string remote = req.remote_addr + ":" + std::to_string(req.remote_port);
  DIR* dir = opendir("/proc/self/fd");
  if (!dir) return -1;
  int found = -1;
  while (dirent* entry = readdir(dir)) {
    int fd = atoi(entry->d_name);
    if (fd <= 2 || fd == dirfd(dir)) continue;
    sockaddr_storage mine{}, peer{};
    socklen_t mine_len = sizeof(mine), peer_len = sizeof(peer);
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&mine), &mine_len) != 0 ||
        getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &peer_len) != 0) {
      continue;
    }
    if (Endpoint(mine) == local && Endpoint(peer) == remote) {
      found = fd;
      break;
    }
  }
  closedir(dir);
  return found;
}

// Which workflows a workflow-events stream reports: listOptions.fieldSelector
// (metadata.name=NAME, metadata.namespace=NS) and listOptions.labelSelector.
struct EventFilter {
  std::string ns;
  std::string name;
  LabelSelector labels;
  bool with_nodes = false;

  bool Matches(const store::WorkflowRecord& r) const {
    return RecordNamespace(r.namespace_) == ns && (name.empty() || r.name == name) &&
           labels.Matches(SelectableLabels(r));
  }
};

Result<EventFilter> ParseEventFilter(const httplib::Request& req, const std::string& ns) {
  EventFilter f;
  f.ns = ns;
  f.with_nodes = WantsNodes(req);
  auto labels = LabelSelector::Parse(req.get_param_value("listOptions.labelSelector"));
  if (!labels.ok()) {
    return Fail(InvalidArgument(labels.error().message, "listOptions.labelSelector"));
  }
  f.labels = std::move(*labels);
  std::string fields = req.get_param_value("listOptions.fieldSelector");
  size_t start = 0;
  while (!fields.empty() && start <= fields.size()) {
    size_t comma = fields.find(',', start);
    if (comma == std::string::npos) comma = fields.size();
    std::string term = fields.substr(start, comma - start);
    start = comma + 1;
    size_t eq = term.find('=');
    std::string key = term.substr(0, eq);
    std::string value = eq == std::string::npos ? "" : term.substr(eq + 1);
    if (!value.empty() && value[0] == '=') value.erase(0, 1);
    if (key == "metadata.name" && !value.empty()) {
      f.name = value;
    } else if (key == "metadata.namespace" && value == ns) {
      continue;
    } else {
      return Fail(InvalidArgument(
          "unsupported field selector \"" + term + "\" (supported: metadata.name=NAME)",
          "listOptions.fieldSelector"));
    }
  }
  return f;
}

}  // namespace

struct HttpApi::Impl {
  // What a stream waits for: names of workflows that changed, or the API stopping.
  struct StreamQueue {
    std::mutex mu;
    std::condition_variable cv;
    std::set<std::string> changed;
    bool rows_only = false;  // wakes for changed workflow rows only, not for nodes alone
  };
  // Holds one of the max_streams slots and the stream's queue registration while it lives.
  class StreamSlot {
   public:
    StreamSlot(Impl* impl, int connection_fd) : impl_(impl), fd_(connection_fd) {
      std::lock_guard<std::mutex> lock(impl_->streams_mu);
      impl_->streams.insert(&queue_);
    }
    ~StreamSlot() {
      {
        std::lock_guard<std::mutex> lock(impl_->streams_mu);
        impl_->streams.erase(&queue_);
      }
      impl_->open_streams--;
    }
    // From now on, changes of a workflow's nodes alone do not wake this stream.
    void RowsOnly() {
      std::lock_guard<std::mutex> lock(queue_.mu);
      queue_.rows_only = true;
    }
    // Waits up to `timeout` for changes; returns them (empty on timeout or stop).
    std::set<std::string> Wait(std::chrono::milliseconds timeout) {
      std::unique_lock<std::mutex> lock(queue_.mu);
      queue_.cv.wait_for(lock, timeout, [&] { return !queue_.changed.empty() || impl_->stopping; });
      return std::exchange(queue_.changed, {});
    }
    // True when the API stops or the client hung up: a stream that has nothing to send would
    // otherwise only notice a gone client when it next writes, which may be never.
    bool Done() const {
      if (impl_->stopping) return true;
      pollfd p{fd_, POLLRDHUP, 0};
      return fd_ >= 0 && poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR));
    }

   private:
    Impl* impl_;
    int fd_;
    StreamQueue queue_;
  };

  Impl(Hub& h, HttpApiOptions o) : hub(h), options(std::move(o)) {}

  Hub& hub;
  HttpApiOptions options;
  httplib::Server server;
  std::thread thread;
  int port = -1;
  int watch_id = -1;
  int listen_fd = -1;
  std::atomic<bool> stopping{false};
  std::atomic<int> open_streams{0};
  std::mutex streams_mu;
  std::set<StreamQueue*> streams;

  void Routes();
  // Wraps a handler: checks the token, and turns exceptions into 400/500 responses.
  using Handler = std::function<void(const httplib::Request&, httplib::Response&)>;
  Handler Guard(Handler fn);
  void OnChanged(const std::vector<std::string>& names, const std::vector<std::string>& rows);
  std::unique_ptr<StreamSlot> AcquireStream(const httplib::Request& req, httplib::Response& res);

  Result<store::WorkflowRecord> FindWorkflow(const std::string& ns, const std::string& name);
  void SendWorkflow(httplib::Response& res, const std::string& ns, const std::string& name,
                    bool with_nodes = true);

  void ListWorkflows(const httplib::Request& req, httplib::Response& res);
  void CreateWorkflow(const httplib::Request& req, httplib::Response& res);
  void SubmitFrom(const httplib::Request& req, httplib::Response& res);
  // The CronWorkflow `name` of namespace `ns` (NotFound when in another one).
  Result<Json> Cron(const std::string& ns, const std::string& name);
  void PutCron(const httplib::Request& req, httplib::Response& res, bool create);
  void Command(const httplib::Request& req, httplib::Response& res);
  void Logs(const httplib::Request& req, httplib::Response& res);
  void Events(const httplib::Request& req, httplib::Response& res);
  Result<std::vector<Json>> Templates(const std::string& ns);
  void SendTemplate(httplib::Response& res, const std::string& ns, const std::string& name);
  void PutTemplate(const httplib::Request& req, httplib::Response& res, bool create);
  void ServeUi(const httplib::Request& req, httplib::Response& res);
};

HttpApi::Impl::Handler HttpApi::Impl::Guard(Handler fn) {
  return [this, fn = std::move(fn)](const httplib::Request& req, httplib::Response& res) {
    if (!options.token.empty()) {
      std::string auth = req.get_header_value("Authorization");
      constexpr std::string_view kBearer = "Bearer ";
      if (auth.compare(0, kBearer.size(), kBearer) != 0) {
        return SendError(res, 401, kCodeUnauthenticated,
                         "missing \"Authorization: Bearer <token>\" header");
      }
      if (!ConstantTimeEquals(std::string_view(auth).substr(kBearer.size()), options.token)) {
        return SendError(res, 401, kCodeUnauthenticated, "wrong token");
      }
    }
    try {
      fn(req, res);
    } catch (const nlohmann::json::exception& e) {
      SendError(res, 400, kCodeInvalidArgument, std::string("bad JSON value: ") + e.what());
    } catch (const std::exception& e) {
      LogError(std::string("http api: ") + req.method + " " + req.path + ": " + e.what());
      SendError(res, 500, kCodeInternal, e.what());
    }
  };
}

void HttpApi::Impl::OnChanged(const std::vector<std::string>& names,
                              const std::vector<std::string>& rows) {
  std::lock_guard<std::mutex> lock(streams_mu);
  for (StreamQueue* q : streams) {
    {
      std::lock_guard<std::mutex> qlock(q->mu);
      const std::vector<std::string>& which = q->rows_only ? rows : names;
      if (which.empty()) continue;
      q->changed.insert(which.begin(), which.end());
    }
    q->cv.notify_one();
  }
}

std::unique_ptr<HttpApi::Impl::StreamSlot> HttpApi::Impl::AcquireStream(const httplib::Request& req,
                                                                        httplib::Response& res) {
  if (++open_streams > options.max_streams) {
    --open_streams;
    SendError(res, 503, kCodeUnavailable,
              "too many open streams (" + std::to_string(options.max_streams) +
                  "); close a watch or log stream and try again");
    return nullptr;
  }
  return std::make_unique<StreamSlot>(this, ConnectionFd(req));
}

Result<store::WorkflowRecord> HttpApi::Impl::FindWorkflow(const std::string& ns,
                                                          const std::string& name) {
  auto record = hub.store().GetWorkflow(name);
  if (!record.ok()) return Fail(record.error());
  if (!*record || RecordNamespace((*record)->namespace_) != ns) {
    return Fail(NotFound("workflow " + name + " not found in namespace " + ns));
  }
  return std::move(**record);
}

void HttpApi::Impl::SendWorkflow(httplib::Response& res, const std::string& ns,
                                 const std::string& name, bool with_nodes) {
  auto record = FindWorkflow(ns, name);
  if (!record.ok()) return SendHubError(res, record.error());
  auto text = WorkflowText(hub.store(), *record, with_nodes);
  if (!text.ok()) return SendHubError(res, text.error());
  res.set_content(*text, "application/json");
}

void HttpApi::Impl::ListWorkflows(const httplib::Request& req, httplib::Response& res) {
  const std::string ns = req.matches[1];
  auto selector = LabelSelector::Parse(req.get_param_value("listOptions.labelSelector"));
  if (!selector.ok()) {
    return SendError(res, 400, kCodeInvalidArgument, selector.error().message,
                     "listOptions.labelSelector");
  }
  auto limit = NonNegativeInt(req, "listOptions.limit");
  if (!limit.ok()) return SendRequestError(res, limit.error());
  std::optional<std::pair<int64_t, std::string>> after;
  if (std::string token = req.get_param_value("listOptions.continue"); !token.empty()) {
    auto decoded = DecodeContinue(token);
    if (!decoded.ok()) return SendRequestError(res, decoded.error());
    after = *decoded;
  }
  std::set<std::string> phases;
  for (size_t i = 0; i < req.get_param_value_count("phase"); ++i) {
    std::string phase = req.get_param_value("phase", i);
    if (!engine::ParsePhase(phase)) {
      return SendError(
          res, 400, kCodeInvalidArgument,
          "unknown phase \"" + phase + "\" (Pending, Running, Succeeded, Failed, Error)", "phase");
    }
    phases.insert(phase);
  }
  store::ListOptions options;
  options.name_prefix = req.get_param_value("namePrefix");
  auto records = hub.store().ListWorkflows(options);
  if (!records.ok()) return SendHubError(res, records.error());
  bool with_nodes = WantsNodes(req);
  std::string items;  // the items' text, comma-separated
  int count = 0;
  std::string next;
  const store::WorkflowRecord* last = nullptr;
  for (const store::WorkflowRecord& r : *records) {
    if (RecordNamespace(r.namespace_) != ns) continue;
    if (!phases.empty() && !phases.count(r.phase.empty() ? "Pending" : r.phase)) continue;
    if (!selector->Matches(SelectableLabels(r))) continue;
    if (after && (r.created_at > after->first ||
                  (r.created_at == after->first && r.name <= after->second))) {
      continue;
    }
    if (*limit > 0 && count == *limit) {
      next = EncodeContinue(*last);
      break;
    }
    auto text = WorkflowText(hub.store(), r, with_nodes);
    if (!text.ok()) return SendHubError(res, text.error());
    if (count++ > 0) items += ',';
    items += *text;
    last = &r;
  }
  Json metadata = Json::object();
  if (!next.empty()) metadata["continue"] = next;
  res.set_content(R"({"metadata":)" + Dump(metadata) + R"(,"items":[)" + items + "]}",
                  "application/json");
}

void HttpApi::Impl::CreateWorkflow(const httplib::Request& req, httplib::Response& res) {
  const std::string ns = req.matches[1];
  auto body = RequiredObject(req, "workflow");
  if (!body.ok()) return SendRequestError(res, body.error());
  auto dry_run = body->value("serverDryRun", Json(false));
  if (!dry_run.is_boolean()) {
    return SendError(res, 400, kCodeInvalidArgument, "\"serverDryRun\" must be true or false",
                     "serverDryRun");
  }
  auto manifest = LoadRequestManifest((*body)["workflow"], ns, "workflow", {"Workflow"});
  if (!manifest.ok()) return SendRequestError(res, manifest.error());
  if (dry_run.get<bool>()) {
    std::vector<spec::Diagnostic> diagnostics = hub.Lint(*manifest);
    for (const spec::Diagnostic& d : diagnostics) {
      if (d.severity == spec::Diagnostic::Severity::kError) return SendLint(res, diagnostics);
    }
    Json wf = Json::parse(manifest->source_json, nullptr, false);
    return SendJson(res, wf.is_object() ? wf : (*body)["workflow"]);
  }
  auto name = hub.Submit(*manifest);
  if (!name.ok()) return SendHubError(res, name.error());
  SendWorkflow(res, ns, *name);
}

void HttpApi::Impl::SubmitFrom(const httplib::Request& req, httplib::Response& res) {
  const std::string ns = req.matches[1];
  Json body = Json::parse(req.body, nullptr, false);
  if (!body.is_object()) {
    return SendError(res, 400, kCodeInvalidArgument,
                     "the request body must be a JSON object with resourceKind and resourceName",
                     "resourceName");
  }
  auto kind = StringField(body, "resourceKind", "resourceKind");
  if (!kind.ok()) return SendRequestError(res, kind.error());
  if (*kind != "WorkflowTemplate" && *kind != "ClusterWorkflowTemplate" &&
      *kind != "CronWorkflow") {
    return SendError(
        res, 400, kCodeInvalidArgument,
        "\"resourceKind\" must be WorkflowTemplate, ClusterWorkflowTemplate or CronWorkflow",
        "resourceKind");
  }
  auto name = StringField(body, "resourceName", "resourceName");
  if (!name.ok()) return SendRequestError(res, name.error());
  if (name->empty()) {
    return SendError(res, 400, kCodeInvalidArgument, "\"resourceName\" is required",
                     "resourceName");
  }
  Json opts = body.value("submitOptions", Json::object());
  if (opts.is_null()) opts = Json::object();
  if (!opts.is_object()) {
    return SendError(res, 400, kCodeInvalidArgument, "\"submitOptions\" must be an object",
                     "submitOptions");
  }
  SubmitOptions options;
  for (auto [key, target] :
       {std::pair{"entryPoint", &options.entrypoint}, std::pair{"name", &options.name},
        std::pair{"generateName", &options.generate_name}}) {
    auto value = StringField(opts, key, std::string("submitOptions.") + key);
    if (!value.ok()) return SendRequestError(res, value.error());
    *target = *value;
  }
  auto params = Assignments(opts, "parameters", "submitOptions.parameters");
  if (!params.ok()) return SendRequestError(res, params.error());
  options.parameters = *params;
  auto labels = StringField(opts, "labels", "submitOptions.labels");
  if (!labels.ok()) return SendRequestError(res, labels.error());
  size_t start = 0;
  while (!labels->empty() && start <= labels->size()) {
    size_t comma = labels->find(',', start);
    if (comma == std::string::npos) comma = labels->size();
    std::string item = labels->substr(start, comma - start);
    start = comma + 1;
    size_t eq = item.find('=');
    if (eq == std::string::npos || eq == 0) {
      return SendError(res, 400, kCodeInvalidArgument, "\"" + item + "\": expected k=v,k2=v2",
                       "submitOptions.labels");
    }
    options.labels[item.substr(0, eq)] = item.substr(eq + 1);
  }
  if (*kind == "CronWorkflow") {
    if (auto cron = Cron(ns, *name); !cron.ok()) return SendHubError(res, cron.error());
  }
  auto submitted =
      *kind == "CronWorkflow" ? hub.SubmitFromCron(*name, options) : hub.SubmitFrom(*name, options);
  if (!submitted.ok()) return SendHubError(res, submitted.error());
  SendWorkflow(res, ns, *submitted);
}

void HttpApi::Impl::Command(const httplib::Request& req, httplib::Response& res) {
  const std::string ns = req.matches[1], name = req.matches[2], command = req.matches[3];
  auto record = FindWorkflow(ns, name);
  if (!record.ok()) return SendHubError(res, record.error());
  auto body = OptionalObject(req);
  if (!body.ok()) return SendRequestError(res, body.error());
  Status done;
  if (command == "stop") {
    done = hub.Stop(name);
  } else if (command == "terminate") {
    done = hub.Terminate(name);
  } else if (command == "suspend") {
    done = hub.Suspend(name);
  } else if (command == "resume") {
    auto params = Assignments(*body, "parameters", "parameters");
    if (!params.ok()) return SendRequestError(res, params.error());
    std::vector<engine::Param> outputs;
    for (auto& [k, v] : *params) outputs.push_back({k, v});
    done = hub.Resume(name, outputs);
  } else if (command == "resubmit") {
    auto created = hub.Resubmit(name);
    if (!created.ok()) return SendHubError(res, created.error());
    return SendWorkflow(res, ns, *created);
  } else {
    const Json& restart =
        body->contains("restartSuccessful") ? (*body)["restartSuccessful"] : Json(false);
    if (!restart.is_boolean()) {
      return SendError(res, 400, kCodeInvalidArgument, "restartSuccessful must be a boolean",
                       "restartSuccessful");
    }
    done = hub.Retry(name, restart.get<bool>());
  }
  if (!done.ok()) return SendHubError(res, done.error());
  SendWorkflow(res, ns, name);
}

void HttpApi::Impl::Logs(const httplib::Request& req, httplib::Response& res) {
  const std::string ns = req.matches[1], name = req.matches[2];
  auto record = FindWorkflow(ns, name);
  if (!record.ok()) return SendHubError(res, record.error());
  auto follow = BoolParam(req, "logOptions.follow");
  if (!follow.ok()) return SendRequestError(res, follow.error());
  auto tail = NonNegativeInt(req, "logOptions.tailLines");
  if (!tail.ok()) return SendRequestError(res, tail.error());
  auto grep = Grep::Compile(req.get_param_value("grep"));
  if (!grep.ok()) return SendRequestError(res, grep.error());
  std::string pod = req.get_param_value("podName");

  // One file per task node; `offset` is what was already sent, `partial` an unfinished last line.
  struct Cursor {
    std::string id;
    std::string display;
    std::streamoff offset = 0;
    std::string partial;
    bool started = false;
  };
  struct State {
    std::vector<Cursor> cursors;
    bool matched = false;
  };
  auto state = std::make_shared<State>();
  std::string dir = hub.log_root() + "/" + name + "/";
  int tail_lines = *tail;
  std::shared_ptr<Grep> filter = *grep;
  // Adds cursors for task nodes that appeared; returns false if the store cannot be read.
  auto refresh = [this, state, name, pod] {
    auto nodes = hub.store().ListNodes(name);
    if (!nodes.ok()) return false;
    for (const store::NodeRecord& r : *nodes) {
      auto node = NodeFromJson(r.body_json);
      if (!node.ok() || node->type != engine::NodeType::kPod) continue;
      if (!pod.empty() && node->id != pod && node->name != pod && node->display_name != pod) {
        continue;
      }
      state->matched = true;
      bool known = std::any_of(state->cursors.begin(), state->cursors.end(),
                               [&](const Cursor& c) { return c.id == node->id; });
      if (!known) state->cursors.push_back({node->id, node->display_name});
    }
    return true;
  };
  // Reads what the files gained; `final` also sends unfinished last lines.
  auto drain = [state, dir, tail_lines, filter](bool final) {
    std::vector<std::pair<std::string, std::string>> out;  // display name, line
    for (Cursor& c : state->cursors) {
      std::ifstream in(dir + c.id + ".log", std::ios::binary);
      if (!in) continue;
      in.seekg(c.offset);
      std::string chunk((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      c.offset += static_cast<std::streamoff>(chunk.size());
      std::string text = c.partial + chunk;
      std::vector<std::string> lines;
      size_t pos = 0;
      for (size_t nl; (nl = text.find('\n', pos)) != std::string::npos; pos = nl + 1) {
        lines.push_back(text.substr(pos, nl - pos));
      }
      c.partial = text.substr(pos);
      if (final && !c.partial.empty()) lines.push_back(std::exchange(c.partial, {}));
      if (!c.started && tail_lines > 0 && lines.size() > static_cast<size_t>(tail_lines)) {
        lines.erase(lines.begin(), lines.end() - tail_lines);
      }
      c.started = c.started || !lines.empty();
      for (std::string& line : lines) {
        if (filter->Matches(line)) out.emplace_back(c.display, std::move(line));
      }
    }
    return out;
  };
  if (!refresh()) return SendError(res, 500, kCodeInternal, "cannot read the workflow's nodes");
  if (!pod.empty() && !state->matched && (!*follow || IsFinished(*record))) {
    return SendError(
        res, 404, kCodeNotFound,
        "workflow " + name + " has no task node " + pod + " (give a node id, name or display name)",
        "podName");
  }
  std::shared_ptr<StreamSlot> slot;
  if (*follow) {
    slot = AcquireStream(req, res);
    if (!slot) return;
  }
  bool follows = *follow;
  res.set_chunked_content_provider(kNdjson, [this, slot, state, refresh, drain, name, follows](
                                                size_t, httplib::DataSink& sink) {
    auto send = [&](const std::vector<std::pair<std::string, std::string>>& lines) {
      for (const auto& [pod_name, line] : lines) {
        std::string text = Dump({{"result", {{"content", line}, {"podName", pod_name}}}}) + "\n";
        if (!sink.write(text.data(), text.size())) return false;
      }
      return true;
    };
    try {
      while (follows && !slot->Done()) {
        auto record = hub.store().GetWorkflow(name);
        bool finished = !record.ok() || !*record || IsFinished(**record);
        if (finished || !refresh()) break;
        if (!send(drain(false))) return false;
        slot->Wait(std::chrono::milliseconds(250));  // tasks write logs without commits: poll
      }
      refresh();
      if (!send(drain(true))) return false;
    } catch (const std::exception& e) {
      LogError(std::string("http api: log stream of ") + name + ": " + e.what());
      return false;
    }
    sink.done();
    return true;
  });
}

void HttpApi::Impl::Events(const httplib::Request& req, httplib::Response& res) {
  const std::string ns = req.matches[1];
  auto filter = ParseEventFilter(req, ns);
  if (!filter.ok()) return SendRequestError(res, filter.error());
  std::shared_ptr<StreamSlot> slot = AcquireStream(req, res);
  if (!slot) return;
  EventFilter f = std::move(*filter);
  if (!f.with_nodes) slot->RowsOnly();  // what it sends is the row alone
  res.set_chunked_content_provider(kNdjson, [this, slot, f](size_t, httplib::DataSink& sink) {
    // The row last sent per workflow: DELETED carries it, and without nodes a row that has not
    // changed since (its nodes did) is not sent again.
    std::map<std::string, std::string> sent;
    using Steady = std::chrono::steady_clock;
    // With nodes, a running workflow is sent again once its quiet time is over (kNodesEvery, and
    // a microsecond per byte of the last object, so a client is not sent more than it can read).
    std::map<std::string, Steady::time_point> quiet_until, held;
    // The objects are written as the stored text: a workflow's nodes are not parsed again.
    auto send = [&](const char* type, const std::string& object) {
      std::string text = std::string(R"({"result":{"type":")") + type + R"(","object":)";
      text.reserve(text.size() + object.size() + 3);
      text += object;
      text += "}}\n";
      return sink.write(text.data(), text.size());
    };
    // Sends the workflow's current state; false when the client is gone.
    auto report = [&](const std::string& name) {
      if (!f.name.empty() && name != f.name) return true;
      auto record = hub.store().GetWorkflow(name);
      if (!record.ok()) return true;
      if (!*record) {
        auto it = sent.find(name);
        if (it == sent.end()) return true;
        bool ok = send("DELETED", it->second);
        sent.erase(it);
        quiet_until.erase(name);
        return ok;
      }
      const store::WorkflowRecord& r = **record;
      if (!f.Matches(r)) return true;
      auto last = sent.find(name);
      const bool known = last != sent.end();
      if (!f.with_nodes) {
        if (known && last->second == r.body_json) return true;
        sent[name] = r.body_json;
        return send(known ? "MODIFIED" : "ADDED", r.body_json);
      }
      auto quiet = quiet_until.find(name);
      if (quiet != quiet_until.end() && r.finished_at == 0 && Steady::now() < quiet->second) {
        held.emplace(name, quiet->second);  // sent when due, as it is then
        return true;
      }
      auto text = WorkflowText(hub.store(), r, /*with_nodes=*/true);
      if (!text.ok()) return true;
      const std::string& object = *text;
      quiet_until[name] =
          Steady::now() + std::max<std::chrono::microseconds>(
                              kNodesEvery, std::chrono::microseconds(object.size()));
      sent[name] = r.body_json;
      return send(known ? "MODIFIED" : "ADDED", object);
    };
    try {
      store::ListOptions all;
      auto records = hub.store().ListWorkflows(all);
      if (records.ok()) {
        for (const store::WorkflowRecord& r : *records) {
          if (!report(r.name)) return false;
        }
      }
      while (!slot->Done()) {
        auto wait = std::chrono::milliseconds(1000);
        for (const auto& [name, due] : held) {
          wait = std::clamp(std::chrono::duration_cast<std::chrono::milliseconds>(
                                due - Steady::now() + std::chrono::milliseconds(1)),
                            std::chrono::milliseconds(0), wait);
        }
        std::set<std::string> names = slot->Wait(wait);
        for (auto it = held.begin(); it != held.end();) {
          if (it->second > Steady::now()) {
            ++it;
            continue;
          }
          names.insert(it->first);
          it = held.erase(it);
        }
        for (const std::string& name : names) {
          if (!report(name)) return false;
        }
      }
    } catch (const std::exception& e) {
      LogError(std::string("http api: workflow-events stream: ") + e.what());
      return false;
    }
    sink.done();
    return true;
  });
}

Result<std::vector<Json>> HttpApi::Impl::Templates(const std::string& ns) {
  auto records = hub.store().ListTemplates();
  if (!records.ok()) return Fail(records.error());
  std::vector<Json> out;
  for (const store::TemplateRecord& r : *records) {
    Json body = Json::parse(r.body_json, nullptr, false);
    if (!body.is_object()) continue;
    const Json metadata = body.value("metadata", Json::object());
    std::string tns = metadata.is_object() ? metadata.value("namespace", "") : "";
    if (RecordNamespace(tns) == ns) out.push_back(std::move(body));
  }
  return out;
}

void HttpApi::Impl::SendTemplate(httplib::Response& res, const std::string& ns,
                                 const std::string& name) {
  auto templates = Templates(ns);
  if (!templates.ok()) return SendHubError(res, templates.error());
  for (const Json& t : *templates) {
    if (TemplateName(t) == name) return SendJson(res, t);
  }
  SendError(res, 404, kCodeNotFound, "workflow template " + name + " not found in namespace " + ns);
}

void HttpApi::Impl::PutTemplate(const httplib::Request& req, httplib::Response& res, bool create) {
  const std::string ns = req.matches[1];
  auto body = RequiredObject(req, "template");
  if (!body.ok()) return SendRequestError(res, body.error());
  Json& manifest = (*body)["template"];
  if (!create) {
    const std::string name = req.matches[2];
    Json& metadata = manifest["metadata"];
    if (metadata.is_null()) metadata = Json::object();
    if (!metadata.is_object()) {
      return SendError(res, 400, kCodeInvalidArgument, "\"template.metadata\" must be an object",
                       "template.metadata");
    }
    if (!metadata.contains("name")) metadata["name"] = name;
    if (metadata["name"] != name) {
      return SendError(
          res, 400, kCodeInvalidArgument,
          "\"template.metadata.name\" differs from the name in the path (" + name + ")",
          "template.metadata.name");
    }
  }
  auto tmpl = LoadRequestManifest(manifest, ns, "template",
                                  {"WorkflowTemplate", "ClusterWorkflowTemplate"});
  if (!tmpl.ok()) return SendRequestError(res, tmpl.error());
  if (tmpl->metadata.name.empty()) {
    return SendError(res, 400, kCodeInvalidArgument, "\"template.metadata.name\" is required",
                     "template.metadata.name");
  }
  if (!create) {
    auto templates = Templates(ns);
    if (!templates.ok()) return SendHubError(res, templates.error());
    bool exists = std::any_of(templates->begin(), templates->end(), [&](const Json& t) {
      return TemplateName(t) == tmpl->metadata.name;
    });
    if (!exists) {
      return SendError(
          res, 404, kCodeNotFound,
          "workflow template " + tmpl->metadata.name + " not found in namespace " + ns);
    }
  }
  Status done = create ? hub.CreateTemplate(*tmpl) : hub.UpdateTemplate(*tmpl);
  if (!done.ok()) return SendHubError(res, done.error());
  SendTemplate(res, ns, tmpl->metadata.name);
}

Result<Json> HttpApi::Impl::Cron(const std::string& ns, const std::string& name) {
  auto text = hub.GetCronWorkflow(name);
  if (!text.ok()) return Fail(text.error());
  Json cron = Json::parse(*text, nullptr, false);
  if (cron["metadata"].value("namespace", "default") != ns) {
    return Fail(NotFound("cron workflow " + name + " not found in namespace " + ns));
  }
  return cron;
}

void HttpApi::Impl::PutCron(const httplib::Request& req, httplib::Response& res, bool create) {
  const std::string ns = req.matches[1];
  auto body = RequiredObject(req, "cronWorkflow");
  if (!body.ok()) return SendRequestError(res, body.error());
  Json& manifest = (*body)["cronWorkflow"];
  if (!create) {
    const std::string name = req.matches[2];
    Json& metadata = manifest["metadata"];
    if (metadata.is_null()) metadata = Json::object();
    if (!metadata.is_object()) {
      return SendError(res, 400, kCodeInvalidArgument,
                       "\"cronWorkflow.metadata\" must be an object", "cronWorkflow.metadata");
    }
    if (!metadata.contains("name")) metadata["name"] = name;
    if (metadata["name"] != name) {
      return SendError(
          res, 400, kCodeInvalidArgument,
          "\"cronWorkflow.metadata.name\" differs from the name in the path (" + name + ")",
          "cronWorkflow.metadata.name");
    }
    if (auto existing = Cron(ns, name); !existing.ok()) {
      return SendHubError(res, existing.error());
    }
  }
  // Status is the hub's to keep.
  manifest.erase("status");
  auto cron = LoadRequestManifest(manifest, ns, "cronWorkflow", {"CronWorkflow"});
  if (!cron.ok()) return SendRequestError(res, cron.error());
  if (cron->metadata.name.empty()) {
    return SendError(res, 400, kCodeInvalidArgument, "\"cronWorkflow.metadata.name\" is required",
                     "cronWorkflow.metadata.name");
  }
  Status done = create ? hub.CreateCronWorkflow(*cron) : hub.UpdateCronWorkflow(*cron);
  if (!done.ok()) return SendHubError(res, done.error());
  auto stored = Cron(ns, cron->metadata.name);
  if (!stored.ok()) return SendHubError(res, stored.error());
  SendJson(res, *stored);
}

void HttpApi::Impl::ServeUi(const httplib::Request& req, httplib::Response& res) {
  // An unknown API path stays a JSON 404 (the error handler writes it).
  if (req.path.rfind("/api/", 0) == 0) {
    res.status = 404;
    return;
  }
  UiFiles ui(options.ui_dir);
  if (std::optional<UiFile> file = ui.Resolve(req.path)) {
    std::ifstream in(file->path, std::ios::binary);
    std::stringstream content;
    content << in.rdbuf();
    if (!in) return SendError(res, 500, kCodeInternal, "cannot read " + file->path);
    res.set_header("Cache-Control", file->cache_control);
    res.set_content(content.str(), file->content_type);
    return;
  }
  if (UiFiles::IsPage(req.path)) {
    res.status = 503;
    res.set_content("The hubspoke web UI is not built: " +
                        (options.ui_dir.empty() ? std::string("no UI directory was given")
                                                : "there is no index.html in " + options.ui_dir) +
                        ".\nBuild it with scripts/build.sh (it needs npm), or point `hubspoke "
                        "hub --ui DIR` at a built UI.\nThe REST API is served under /api/v1.\n",
                    "text/plain; charset=utf-8");
    return;
  }
  res.status = 404;
  res.set_content(
      "Not found: " + req.path + "\nThe hubspoke UI is at /, its REST API under /api/v1.\n",
      "text/plain; charset=utf-8");
}

void HttpApi::Impl::Routes() {
  const std::string kWorkflows = "/api/v1/workflows/([^/]+)";
  const std::string kTemplates = "/api/v1/workflow-templates/([^/]+)";
  const std::string kCrons = "/api/v1/cron-workflows/([^/]+)";
  auto bind = [this](void (Impl::*method)(const httplib::Request&, httplib::Response&)) {
    return Guard([this, method](const httplib::Request& req, httplib::Response& res) {
      (this->*method)(req, res);
    });
  };

  // cpp-httplib 0.11 compresses with Brotli at its slowest quality (11) whenever a client accepts
  // "br", as browsers do: about 50 s for the 4.5 MB of a 10,000-node workflow, against 0.2 s with
  // gzip. So clients are offered everything they accept but br. (Handlers get a const Request;
  // the object itself is not const: the server made it for this request.)
  server.set_pre_routing_handler([](const httplib::Request& req, httplib::Response&) {
    auto& headers = const_cast<httplib::Headers&>(req.headers);
    auto it = headers.find("Accept-Encoding");
    if (it != headers.end()) it->second = WithoutBrotli(it->second);
    return httplib::Server::HandlerResponse::Unhandled;
  });
  server.Get("/healthz", [this](const httplib::Request&, httplib::Response& res) {
    if (auto err = hub.StoreError()) {
      return SendError(res, 503, kCodeUnavailable, "store failed: " + err->ToString());
    }
    res.set_content("ok", "text/plain");
  });
  server.Get(
      "/api/v1/version", Guard([this](const httplib::Request&, httplib::Response& res) {
#if defined(__aarch64__)
        const char* platform = "linux/arm64";
#else
        const char* platform = "linux/amd64";
#endif
        SendJson(res,
                 {{"version", options.version}, {"platform", platform}, {"compiler", __VERSION__}});
      }));
  server.Get("/metrics", Guard([this](const httplib::Request&, httplib::Response& res) {
               res.set_content(hub.metrics().Text(), "text/plain; version=0.0.4; charset=utf-8");
             }));
  server.Get("/api/v1/info", Guard([](const httplib::Request&, httplib::Response& res) {
               SendJson(res, {{"managedNamespace", "default"}, {"links", Json::array()}});
             }));

  server.Get("/api/v1/spokes", Guard([this](const httplib::Request&, httplib::Response& res) {
               Json items = Json::array();
               for (const SpokeInfo& s : hub.Spokes()) {
                 Json item = {{"name", s.name},       {"labels", s.labels},     {"slots", s.slots},
                              {"running", s.running}, {"draining", s.draining}, {"local", s.local},
                              {"version", s.version}};
                 if (s.last_heartbeat > 0) {
                   item["lastHeartbeat"] = FormatRfc3339(s.last_heartbeat);
                   item["lastHeartbeatMicros"] = s.last_heartbeat;
                 }
                 items.push_back(std::move(item));
               }
               SendJson(res, {{"items", items}});
             }));
  server.Get(kWorkflows, bind(&Impl::ListWorkflows));
  server.Post(kWorkflows, bind(&Impl::CreateWorkflow));
  server.Post(kWorkflows + "/submit", bind(&Impl::SubmitFrom));
  server.Post(
      kWorkflows + "/lint", Guard([this](const httplib::Request& req, httplib::Response& res) {
        auto body = RequiredObject(req, "workflow");
        if (!body.ok()) return SendRequestError(res, body.error());
        auto wf =
            LoadRequestManifest((*body)["workflow"], req.matches[1], "workflow", {"Workflow"});
        if (!wf.ok()) {
          spec::Diagnostic d;
          d.message = wf.error().message;
          return SendLint(res, {d});
        }
        SendLint(res, hub.Lint(*wf));
      }));
  server.Get(kWorkflows + "/([^/]+)",
             Guard([this](const httplib::Request& req, httplib::Response& res) {
               SendWorkflow(res, req.matches[1], req.matches[2], GetWantsNodes(req));
             }));
  server.Delete(kWorkflows + "/([^/]+)",
                Guard([this](const httplib::Request& req, httplib::Response& res) {
                  auto record = FindWorkflow(req.matches[1], req.matches[2]);
                  if (!record.ok()) return SendHubError(res, record.error());
                  if (Status s = hub.Delete(record->name); !s.ok())
                    return SendHubError(res, s.error());
                  SendJson(res, Json::object());
                }));
  server.Put(kWorkflows + "/([^/]+)/(stop|terminate|suspend|resume|retry|resubmit)",
             bind(&Impl::Command));
  server.Get(kWorkflows + "/([^/]+)/log", bind(&Impl::Logs));
  server.Get("/api/v1/workflow-events/([^/]+)", bind(&Impl::Events));

  server.Get(kTemplates, Guard([this](const httplib::Request& req, httplib::Response& res) {
               auto templates = Templates(req.matches[1]);
               if (!templates.ok()) return SendHubError(res, templates.error());
               SendJson(res, {{"items", *templates}});
             }));
  server.Post(kTemplates, Guard([this](const httplib::Request& req, httplib::Response& res) {
                PutTemplate(req, res, /*create=*/true);
              }));
  server.Post(kTemplates + "/lint",
              Guard([this](const httplib::Request& req, httplib::Response& res) {
                auto body = RequiredObject(req, "template");
                if (!body.ok()) return SendRequestError(res, body.error());
                auto tmpl = LoadRequestManifest((*body)["template"], req.matches[1], "template",
                                                {"WorkflowTemplate", "ClusterWorkflowTemplate"});
                if (!tmpl.ok()) {
                  spec::Diagnostic d;
                  d.message = tmpl.error().message;
                  return SendLint(res, {d});
                }
                SendLint(res, hub.Lint(*tmpl));
              }));
  server.Get(kTemplates + "/([^/]+)",
             Guard([this](const httplib::Request& req, httplib::Response& res) {
               SendTemplate(res, req.matches[1], req.matches[2]);
             }));
  server.Put(kTemplates + "/([^/]+)",
             Guard([this](const httplib::Request& req, httplib::Response& res) {
               PutTemplate(req, res, /*create=*/false);
             }));
  server.Delete(kTemplates + "/([^/]+)",
                Guard([this](const httplib::Request& req, httplib::Response& res) {
                  const std::string ns = req.matches[1], name = req.matches[2];
                  auto templates = Templates(ns);
                  if (!templates.ok()) return SendHubError(res, templates.error());
                  bool exists = std::any_of(templates->begin(), templates->end(),
                                            [&](const Json& t) { return TemplateName(t) == name; });
                  if (!exists) {
                    return SendError(res, 404, kCodeNotFound,
                                     "workflow template " + name + " not found in namespace " + ns);
                  }
                  if (Status s = hub.DeleteTemplate(name); !s.ok())
                    return SendHubError(res, s.error());
                  SendJson(res, Json::object());
                }));

  server.Get(kCrons, Guard([this](const httplib::Request& req, httplib::Response& res) {
               const std::string ns = req.matches[1];
               Json items = Json::array();
               for (const std::string& text : hub.ListCronWorkflows()) {
                 Json cron = Json::parse(text, nullptr, false);
                 if (cron["metadata"].value("namespace", "default") == ns) {
                   items.push_back(std::move(cron));
                 }
               }
               SendJson(res, {{"items", items}});
             }));
  server.Post(kCrons, Guard([this](const httplib::Request& req, httplib::Response& res) {
                PutCron(req, res, /*create=*/true);
              }));
  server.Get(kCrons + "/([^/]+)",
             Guard([this](const httplib::Request& req, httplib::Response& res) {
               auto cron = Cron(req.matches[1], req.matches[2]);
               if (!cron.ok()) return SendHubError(res, cron.error());
               SendJson(res, *cron);
             }));
  server.Put(kCrons + "/([^/]+)",
             Guard([this](const httplib::Request& req, httplib::Response& res) {
               PutCron(req, res, /*create=*/false);
             }));
  server.Delete(kCrons + "/([^/]+)",
                Guard([this](const httplib::Request& req, httplib::Response& res) {
                  const std::string ns = req.matches[1], name = req.matches[2];
                  if (auto cron = Cron(ns, name); !cron.ok()) {
                    return SendHubError(res, cron.error());
                  }
                  if (Status s = hub.DeleteCronWorkflow(name); !s.ok()) {
                    return SendHubError(res, s.error());
                  }
                  SendJson(res, Json::object());
                }));
  server.Put(kCrons + "/([^/]+)/(suspend|resume)",
             Guard([this](const httplib::Request& req, httplib::Response& res) {
               const std::string ns = req.matches[1], name = req.matches[2];
               if (auto cron = Cron(ns, name); !cron.ok()) return SendHubError(res, cron.error());
               Status done = req.matches[3] == "suspend" ? hub.SuspendCronWorkflow(name)
                                                         : hub.ResumeCronWorkflow(name);
               if (!done.ok()) return SendHubError(res, done.error());
               auto cron = Cron(ns, name);
               if (!cron.ok()) return SendHubError(res, cron.error());
               SendJson(res, *cron);
             }));

  // The web UI: its pages and files need no token (the page asks for it, the API checks it).
  // Registered last, so every API route above keeps priority.
  server.Get("/.*",
             [this](const httplib::Request& req, httplib::Response& res) { ServeUi(req, res); });

  // Responses httplib makes itself (no route, body too large, bad request line) get JSON too.
  server.set_error_handler(httplib::Server::HandlerWithResponse(
      [this](const httplib::Request& req, httplib::Response& res) {
        if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
        if (res.status == 413) {
          SendError(res, 413, kCodeResourceExhausted,
                    "the request body exceeds the limit of " +
                        std::to_string(options.max_body_bytes) + " bytes");
        } else if (res.status == 404) {
          SendError(res, 404, kCodeNotFound, "no such endpoint: " + req.method + " " + req.path);
        } else {
          SendError(res, res.status, res.status >= 500 ? kCodeInternal : kCodeInvalidArgument,
                    "cannot serve " + req.method + " " + req.path);
        }
        return httplib::Server::HandlerResponse::Handled;
      }));
  server.set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
        SendError(res, 500, kCodeInternal, "internal error");
      });
}

HttpApi::HttpApi(Hub& hub, HttpApiOptions options)
    : impl_(std::make_unique<Impl>(hub, std::move(options))) {}

HttpApi::~HttpApi() { Stop(); }

Result<int> HttpApi::Start() {
  Impl& s = *impl_;
  s.Routes();
  int threads = std::max(2, s.options.threads);
  s.server.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  s.server.set_payload_max_length(s.options.max_body_bytes);
  // An idle keep-alive connection holds a pool thread; let it go soon.
  s.server.set_keep_alive_timeout(2);
  s.server.set_socket_options([&s](socket_t sock) {
    httplib::default_socket_options(sock);
    s.listen_fd = sock;
  });
  bool bound = false;
  if (s.options.port == 0) {
    s.port = s.server.bind_to_any_port(s.options.host);
    bound = s.port > 0;
  } else {
    bound = s.server.bind_to_port(s.options.host, s.options.port);
    s.port = s.options.port;
  }
  if (!bound) {
    return Fail(Error{ErrorCode::kUnavailable,
                      "cannot listen on " + s.options.host + ":" + std::to_string(s.options.port) +
                          " (is the port in use, or the host not an address of this machine?)",
                      ""});
  }
  // cpp-httplib 0.11 is compiled with a listen backlog of 5, which refuses connections when a few
  // clients connect at once; listen() again on the bound socket only raises the backlog.
  if (s.listen_fd >= 0) ::listen(s.listen_fd, SOMAXCONN);
  s.watch_id =
      s.hub.Watch([&s](const std::vector<std::string>& names,
                       const std::vector<std::string>& rows) { s.OnChanged(names, rows); });
  s.thread = std::thread([&s] { s.server.listen_after_bind(); });
  return s.port;
}

void HttpApi::Stop() {
  Impl& s = *impl_;
  if (!s.thread.joinable()) return;
  s.stopping = true;
  {
    std::lock_guard<std::mutex> lock(s.streams_mu);
    for (Impl::StreamQueue* q : s.streams) q->cv.notify_all();
  }
  s.server.stop();
  s.thread.join();
  s.hub.Unwatch(s.watch_id);
}

int HttpApi::port() const { return impl_->port; }

}  // namespace hubspoke::hub
