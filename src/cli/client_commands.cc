#include "cli/client_commands.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>

#include "cli/client.h"
#include "cli/mermaid.h"
#include "cli/render.h"
#include "cli/store_commands.h"
#include "cli/summary.h"
#include "cli/table.h"
#include "common/clock.h"
#include "cron/schedule.h"
#include "cron/time_zone.h"
#include "hub/serialize.h"
#include "spec/loader.h"

namespace hubspoke::cli {
namespace {

using Json = nlohmann::ordered_json;

constexpr int kExitOk = 0;
constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;
// A wait re-reads the workflow when its event stream has been quiet this long: the stream starts
// with the current state, so no change is missed, but a workflow deleted or a hub gone while the
// stream was reconnecting is noticed this way.
constexpr int kWaitIdleSeconds = 30;
// Log streams may be quiet for as long as a task prints nothing.
constexpr int kLogIdleSeconds = 24 * 3600;
// `watch` redraws its live tree at most this often.
constexpr Micros kRedrawMicros = 200'000;

int Report(std::ostream& err, const Error& error) {
  err << "hubspoke: " << error.ToString() << "\n";
  return kExitFailed;
}

int Usage(std::ostream& err, const std::string& message) {
  err << "hubspoke: " << message << "\n";
  return kExitUsage;
}

// The hub named by the flags, the environment or the data directory; an error when none is.
Result<std::unique_ptr<ApiClient>> Connect(const ClientFlags& flags) {
  auto endpoint = ResolveEndpoint(flags.server, flags.token, flags.data_dir);
  if (!endpoint.ok()) return Fail(endpoint.error());
  if (!*endpoint) {
    return Fail(Error{ErrorCode::kUnavailable,
                      "no hub to talk to: no --server, no $HUBSPOKE_SERVER, and no hub runs on " +
                          flags.data_dir + " (no " + flags.data_dir +
                          "/address); start one with `hubspoke hub --data " + flags.data_dir +
                          "` or give --server URL"});
  }
  return std::make_unique<ApiClient>(std::move(**endpoint));
}

constexpr const char* kLatestNeedsHub =
    "@latest needs a hub; none is named (see --server): give the workflow's name";

// True when list/get/logs should read the local state directory: nothing names a hub.
bool NoHubNamed(const ClientFlags& flags) {
  auto endpoint = ResolveEndpoint(flags.server, flags.token, flags.data_dir);
  return endpoint.ok() && !*endpoint;
}

Result<Json> ParseJson(const std::string& text, const std::string& what) {
  Json json = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) return Fail(Internal("the hub sent " + what + " that is not JSON"));
  return json;
}

std::string CronsPath(const std::string& ns) { return "/api/v1/cron-workflows/" + UrlEncode(ns); }
std::string WorkflowsPath(const std::string& ns) { return "/api/v1/workflows/" + UrlEncode(ns); }
std::string WorkflowPath(const std::string& ns, const std::string& name) {
  return WorkflowsPath(ns) + "/" + UrlEncode(name);
}
std::string TemplatesPath(const std::string& ns) {
  return "/api/v1/workflow-templates/" + UrlEncode(ns);
}

// JSON that is only read, not printed: its objects keep their keys sorted, not in the order they
// came. Parsing into an ordered object looks up each new key among those before it, which for a
// workflow of 10,000 nodes is 50 million comparisons.
using ReadJson = nlohmann::json;

// metadata.name, read in place (value() would copy the object it reads from).
template <typename J>
std::string NameOf(const J& object) {
  auto metadata = object.find("metadata");
  if (metadata == object.end() || !metadata->is_object()) return "";
  auto name = metadata->find("name");
  return name != metadata->end() && name->is_string() ? name->template get<std::string>() : "";
}

// `name`, or for "@latest" (as argo accepts) the name of the newest workflow that is not a
// child workflow created by a resource template.
Result<std::string> ResolveName(ApiClient& api, const std::string& ns, const std::string& name) {
  if (name != "@latest") return name;
  std::string next;
  do {
    std::string path = WorkflowsPath(ns) + "?listOptions.limit=20";
    if (!next.empty()) path += "&listOptions.continue=" + UrlEncode(next);
    auto body = api.Get(path);
    if (!body.ok()) return Fail(body.error());
    auto list = ParseJson(*body, "a workflow list");
    if (!list.ok()) return Fail(list.error());
    for (const Json& item : list->value("items", Json::array())) {
      if (!item.value("metadata", Json::object()).contains("ownerReferences")) return NameOf(item);
    }
    next = list->value("metadata", Json::object()).value("continue", "");
  } while (!next.empty());
  return Fail(NotFound("@latest: there are no workflows in namespace " + ns));
}

Result<engine::WorkflowStatus> StatusOf(const Json& workflow) {
  return hub::WorkflowStatusFromJson(workflow.dump(), {});
}

// The workflow `name`, with its nodes.
Result<engine::WorkflowStatus> FetchStatus(ApiClient& api, const std::string& ns,
                                           const std::string& name) {
  auto body = api.Get(WorkflowPath(ns, name));
  if (!body.ok()) return Fail(body.error());
  return hub::WorkflowStatusFromJson(*body, {});
}

// The name of a workflow the hub sent.
Result<std::string> NameIn(const std::string& text, const std::string& what) {
  ReadJson json = ReadJson::parse(text, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) return Fail(Internal("the hub sent " + what + " that is not JSON"));
  return NameOf(json);
}

// The workflow, then the child workflows its resource nodes created (fetched from the hub; a
// child deleted since is left out).
Result<std::vector<engine::WorkflowStatus>> FetchTree(ApiClient& api, const std::string& ns,
                                                      engine::WorkflowStatus root) {
  std::vector<engine::WorkflowStatus> all;
  all.push_back(std::move(root));
  for (size_t i = 0; i < all.size(); ++i) {
    std::vector<std::string> children;
    for (const engine::Node& n : all[i].nodes) {
      if (!n.child_workflow.empty()) children.push_back(n.child_workflow);
    }
    for (const std::string& child : children) {
      auto status = FetchStatus(api, ns, child);
      if (!status.ok()) {
        if (status.error().code == ErrorCode::kNotFound) continue;
        return Fail(status.error());
      }
      all.push_back(std::move(*status));
    }
  }
  return all;
}

// The tree and summary `hubspoke get` prints.
Result<std::string> RenderGet(ApiClient& api, const std::string& ns, engine::WorkflowStatus root,
                              bool wide) {
  auto all = FetchTree(api, ns, std::move(root));
  if (!all.ok()) return Fail(all.error());
  std::vector<const engine::WorkflowStatus*> views;
  for (const auto& st : *all) views.push_back(&st);
  Micros now = SystemClock().Now();
  return RenderTree((*all)[0], now, /*color=*/false, wide) + "\n" + RenderSummary(views, now);
}

// Prints a workflow (the hub's JSON text) as `get -o output` does. The text is never parsed into
// an ordered object: a workflow of 100,000 nodes would make that quadratic.
int PrintWorkflowText(ApiClient& api, const std::string& ns, const std::string& workflow,
                      const std::string& output, std::ostream& out, std::ostream& err) {
  if (output == "json") {
    out << workflow << "\n";
    return kExitOk;
  }
  if (output == "yaml") {
    out << hub::JsonToYaml(workflow);
    return kExitOk;
  }
  auto status = hub::WorkflowStatusFromJson(workflow, {});
  if (!status.ok()) return Report(err, status.error());
  if (output == "name") {
    out << status->name << "\n";
  } else if (output == "mermaid") {
    out << RenderMermaid(*status);
  } else {
    auto text = RenderGet(api, ns, std::move(*status), output == "wide");
    if (!text.ok()) return Report(err, text.error());
    out << *text;
  }
  return kExitOk;
}

// The workflow in a watch event line, {"result":{"type":T,"object":W}}: its type, and W as the
// text the hub sent (its nodes in their order; a parsed object would sort them by id).
bool SplitEvent(const std::string& line, std::string& type, std::string& object) {
  constexpr std::string_view kHead = R"({"result":{"type":")";
  constexpr std::string_view kObject = R"(","object":)";
  if (line.compare(0, kHead.size(), kHead) != 0) return false;
  size_t end = line.find('"', kHead.size());
  if (end == std::string::npos || line.compare(end, kObject.size(), kObject) != 0) return false;
  size_t from = end + kObject.size();
  if (line.size() < from + 2 || line.compare(line.size() - 2, 2, "}}") != 0) return false;
  type = line.substr(kHead.size(), end - kHead.size());
  object = line.substr(from, line.size() - 2 - from);
  return true;
}

// Follows `name` until it has finished, calling `on_update` with each state seen (nodes
// included when `with_nodes`). Returns the finished workflow, with its nodes when `with_nodes`.
Result<engine::WorkflowStatus> WaitFinished(
    ApiClient& api, const std::string& ns, const std::string& name, bool with_nodes,
    const std::function<void(const engine::WorkflowStatus&)>& on_update) {
  std::string events = "/api/v1/workflow-events/" + UrlEncode(ns) +
                       "?listOptions.fieldSelector=" + UrlEncode("metadata.name=" + name);
  if (with_nodes) events += "&fields=status.nodes";
  while (true) {
    auto body = api.Get(WorkflowPath(ns, name) + (with_nodes ? "" : "?fields=-status.nodes"));
    if (!body.ok()) return Fail(body.error());
    auto workflow = hub::WorkflowStatusFromJson(*body, {});
    if (!workflow.ok()) return Fail(workflow.error());
    on_update(*workflow);
    if (engine::IsCompleted(workflow->phase)) return workflow;
    bool finished = false, deleted = false, any = false;
    Status streamed = api.Stream(events, kWaitIdleSeconds, [&](const std::string& line) {
      any = true;
      std::string type, object;
      if (!SplitEvent(line, type, object)) {  // a line shaped otherwise: read it as JSON
        ReadJson event = ReadJson::parse(line, nullptr, false);
        if (!event.is_object() || !event.contains("result")) return true;
        type = event["result"].value("type", "");
        object = event["result"].value("object", ReadJson::object()).dump();
      }
      if (type == "DELETED") {
        deleted = true;
        return false;
      }
      auto status = hub::WorkflowStatusFromJson(object, {});
      if (!status.ok() || status->name != name) return true;
      on_update(*status);
      finished = engine::IsCompleted(status->phase);
      return !finished;
    });
    if (deleted) return Fail(NotFound("workflow " + name + " was deleted while waiting for it"));
    if (!streamed.ok() && streamed.error().code != ErrorCode::kUnavailable) {
      return Fail(streamed.error());
    }
    // A quiet or closed stream: read the workflow again (the loop's top), without spinning.
    if (!finished && !any) std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

bool SplitPair(const std::string& text, std::string& key, std::string& value) {
  size_t eq = text.find('=');
  if (eq == std::string::npos || eq == 0) return false;
  key = text.substr(0, eq);
  value = text.substr(eq + 1);
  return true;
}

// -l values: each "k=v" or "k=v,k2=v2".
Result<std::map<std::string, std::string>> ParseLabels(const std::vector<std::string>& values) {
  std::map<std::string, std::string> labels;
  for (const std::string& value : values) {
    size_t start = 0;
    while (start <= value.size()) {
      size_t comma = value.find(',', start);
      if (comma == std::string::npos) comma = value.size();
      std::string key, v;
      if (!SplitPair(value.substr(start, comma - start), key, v)) {
        return Fail(InvalidArgument("-l " + value + ": expected key=value[,key=value]"));
      }
      labels[key] = v;
      start = comma + 1;
    }
  }
  return labels;
}

// Applies -p, --entrypoint, --name, --generate-name and -l to a Workflow manifest, as argo does
// on the client before it creates the workflow.
Status ApplySubmitFlags(const SubmitFlags& flags, const std::map<std::string, std::string>& labels,
                        Json& manifest) {
  Json& metadata = manifest["metadata"];
  if (!flags.name.empty()) {
    metadata["name"] = flags.name;
    metadata.erase("generateName");
  }
  if (!flags.generate_name.empty()) {
    metadata["generateName"] = flags.generate_name;
    metadata.erase("name");
  }
  for (const auto& [k, v] : labels) metadata["labels"][k] = v;
  Json& spec = manifest["spec"];
  if (!flags.entrypoint.empty()) spec["entrypoint"] = flags.entrypoint;
  for (const std::string& p : flags.params) {
    std::string key, value;
    if (!SplitPair(p, key, value))
      return Fail(InvalidArgument("-p " + p + ": expected name=value"));
    Json& params = spec["arguments"]["parameters"];
    if (!params.is_array()) params = Json::array();
    auto it = std::find_if(params.begin(), params.end(),
                           [&](const Json& q) { return q.value("name", "") == key; });
    if (it != params.end()) {
      (*it)["value"] = value;
    } else {
      params.push_back(Json{{"name", key}, {"value", value}});
    }
  }
  return {};
}

// "workflowtemplate/NAME" or "cronworkflow/NAME" (or argo's other spellings of the kinds) to
// the API's resource kind and NAME.
std::optional<std::pair<std::string, std::string>> ResourceFrom(const std::string& from) {
  size_t slash = from.find('/');
  if (slash == std::string::npos) return std::nullopt;
  std::string kind = from.substr(0, slash);
  std::transform(kind.begin(), kind.end(), kind.begin(), ::tolower);
  std::string name = from.substr(slash + 1);
  if (name.empty()) return std::nullopt;
  if (kind == "workflowtemplate" || kind == "workflowtemplates" || kind == "wftmpl") {
    return std::pair{std::string("WorkflowTemplate"), name};
  }
  if (kind == "cronworkflow" || kind == "cronworkflows" || kind == "cronwf") {
    return std::pair{std::string("CronWorkflow"), name};
  }
  return std::nullopt;
}

// Loads every document of `files`; a load error is a usage error printed with file:line:col.
Result<std::vector<spec::Workflow>> LoadDocuments(const std::vector<std::string>& files) {
  std::vector<spec::Workflow> docs;
  for (const std::string& file : files) {
    auto loaded = spec::LoadFile(file);
    if (!loaded.ok()) return Fail(loaded.error());
    for (spec::Workflow& wf : loaded->workflows) docs.push_back(std::move(wf));
  }
  return docs;
}

std::string NamespaceFor(const ClientFlags& client, const spec::Workflow& doc) {
  return doc.metadata.namespace_.empty() ? client.namespace_ : doc.metadata.namespace_;
}

// Streams the logs of `name` (all task nodes or one) to `out`, each line prefixed by its node.
Status StreamLogs(ApiClient& api, const std::string& ns, const LogsFlags& flags,
                  std::ostream& out) {
  std::string path = WorkflowPath(ns, flags.name) + "/log?";
  if (!flags.node.empty()) path += "podName=" + UrlEncode(flags.node) + "&";
  if (flags.follow) path += "logOptions.follow=true&";
  if (flags.tail >= 0) path += "logOptions.tailLines=" + std::to_string(flags.tail) + "&";
  if (!flags.grep.empty()) path += "grep=" + UrlEncode(flags.grep) + "&";
  path.pop_back();
  return api.Stream(path, kLogIdleSeconds, [&](const std::string& line) {
    Json entry = Json::parse(line, nullptr, false);
    if (!entry.is_object()) return true;
    const Json result = entry.value("result", Json::object());
    out << result.value("podName", "") << ": " << result.value("content", "") << "\n";
    if (flags.follow) out << std::flush;
    return true;
  });
}

// What `watch` shows while a workflow runs.
class WatchView {
 public:
  WatchView(std::ostream& out, bool terminal) : out_(out), terminal_(terminal) {}

  void Update(const engine::WorkflowStatus& status) {
    if (terminal_) {
      Redraw(status);
    } else {
      PrintChanges(status);
    }
  }

  // Removes the live tree before the final output.
  void Clear() {
    if (terminal_ && drawn_lines_ > 0) out_ << "\x1b[" << drawn_lines_ << "A\x1b[J" << std::flush;
    drawn_lines_ = 0;
  }

 private:
  void Redraw(const engine::WorkflowStatus& status) {
    Micros now = SystemClock().Now();
    if (now - last_draw_ < kRedrawMicros && !engine::IsCompleted(status.phase)) return;
    last_draw_ = now;
    std::string text = RenderTree(status, SystemClock().Now(), /*color=*/true);
    Clear();
    out_ << text << std::flush;
    drawn_lines_ = static_cast<int>(std::count(text.begin(), text.end(), '\n'));
  }

  // One line when the workflow's phase or progress changes, and one per task node that changes.
  void PrintChanges(const engine::WorkflowStatus& status) {
    std::string line = status.name + ": " + std::string(engine::PhaseName(status.phase));
    if (!status.nodes.empty()) line += " " + hub::WorkflowProgress(status);
    if (!status.message.empty()) line += " (" + status.message + ")";
    if (line != last_line_) out_ << line << "\n";
    last_line_ = line;
    for (const engine::Node& n : status.nodes) {
      if (n.type != engine::NodeType::kPod && n.type != engine::NodeType::kSuspend) continue;
      auto [it, inserted] = node_phases_.try_emplace(n.id, n.phase);
      if (!inserted && it->second == n.phase) continue;
      it->second = n.phase;
      out_ << "  " << n.display_name << ": " << engine::PhaseName(n.phase)
           << (n.message.empty() ? "" : " (" + n.message + ")") << "\n";
    }
    out_ << std::flush;
  }

  std::ostream& out_;
  bool terminal_;
  int drawn_lines_ = 0;
  Micros last_draw_ = 0;
  std::string last_line_;
  std::map<std::string, engine::Phase> node_phases_;
};

// Waits for each of `names`, showing the live view of each when `watch`; then prints each as
// `get -o output` would when `print`, else its name and phase. Exit 1 if one did not succeed.
int FollowAll(ApiClient& api, const std::string& ns, const std::vector<std::string>& names,
              bool watch, bool print, const std::string& output, std::ostream& out,
              std::ostream& err) {
  int code = kExitOk;
  for (const std::string& name : names) {
    WatchView view(out, isatty(STDOUT_FILENO));
    auto done = WaitFinished(api, ns, name, watch, [&](const engine::WorkflowStatus& wf) {
      if (watch) view.Update(wf);
    });
    view.Clear();
    if (!done.ok()) {
      code = Report(err, done.error());
      continue;
    }
    std::string phase(engine::PhaseName(done->phase));
    if (!print) {
      out << name << " " << phase << "\n";
    } else if (output == "name") {
      out << name << "\n";
    } else {
      // Printed as the hub sent it, in its order and with its nodes.
      auto text = api.Get(WorkflowPath(ns, name));
      if (!text.ok()) {
        code = Report(err, text.error());
        continue;
      }
      if (int printed = PrintWorkflowText(api, ns, *text, output, out, err); printed != kExitOk) {
        code = printed;
      }
    }
    if (phase != "Succeeded") {
      const std::string& message = done->message;
      err << "hubspoke: workflow " << name << " " << phase
          << (message.empty() ? "" : ": " + message) << "\n";
      code = kExitFailed;
    }
  }
  return code;
}

int SubmitFrom(ApiClient& api, const ClientFlags& client, const SubmitFlags& flags,
               const std::map<std::string, std::string>& labels, std::vector<std::string>& names,
               std::vector<std::string>& created, std::ostream& err) {
  auto resource = ResourceFrom(flags.from);
  if (!resource) {
    return Usage(err,
                 "--from " + flags.from + ": expected workflowtemplate/NAME or cronworkflow/NAME");
  }
  std::string label_text;
  for (const auto& [k, v] : labels) label_text += (label_text.empty() ? "" : ",") + k + "=" + v;
  Json options = {{"entryPoint", flags.entrypoint},
                  {"parameters", flags.params},
                  {"name", flags.name},
                  {"generateName", flags.generate_name},
                  {"labels", label_text}};
  Json request = {{"resourceKind", resource->first},
                  {"resourceName", resource->second},
                  {"submitOptions", options}};
  auto body = api.Post(WorkflowsPath(client.namespace_) + "/submit", request.dump());
  if (!body.ok()) return Report(err, body.error());
  auto name = NameIn(*body, "the submitted workflow");
  if (!name.ok()) return Report(err, name.error());
  names.push_back(*name);
  created.push_back(std::move(*body));
  return kExitOk;
}

int SubmitFiles(ApiClient& api, const ClientFlags& client, const SubmitFlags& flags,
                const std::vector<spec::Workflow>& docs,
                const std::map<std::string, std::string>& labels, std::vector<std::string>& names,
                std::vector<std::string>& created, std::ostream& err) {
  for (const spec::Workflow& doc : docs) {
    Json manifest = Json::parse(doc.source_json, nullptr, false);
    if (!manifest.is_object()) return Usage(err, doc.pos.ToString() + ": cannot read the manifest");
    if (Status s = ApplySubmitFlags(flags, labels, manifest); !s.ok()) {
      return Usage(err, s.error().ToString());
    }
    std::string ns = NamespaceFor(client, doc);
    auto body = api.Post(WorkflowsPath(ns), Json{{"workflow", manifest}}.dump());
    if (!body.ok()) return Report(err, body.error());
    auto name = NameIn(*body, "the created workflow");
    if (!name.ok()) return Report(err, name.error());
    names.push_back(*name);
    created.push_back(std::move(*body));
  }
  return kExitOk;
}

int ListRemote(ApiClient& api, const ClientFlags& client, const ListFlags& flags, std::ostream& out,
               std::ostream& err) {
  std::string query;
  std::string selector = flags.selector;
  if (flags.completed) {
    selector += (selector.empty() ? "" : ",") + std::string("workflows.argoproj.io/completed=true");
  }
  if (!selector.empty()) query += "&listOptions.labelSelector=" + UrlEncode(selector);
  if (!flags.prefix.empty()) query += "&namePrefix=" + UrlEncode(flags.prefix);
  std::vector<std::string> phases;
  if (flags.running) phases.push_back("Running");
  for (const std::string& s : flags.status) {
    for (size_t start = 0; start <= s.size();) {
      size_t comma = std::min(s.find(',', start), s.size());
      if (comma > start) phases.push_back(s.substr(start, comma - start));
      start = comma + 1;
    }
  }
  for (const std::string& p : phases) query += "&phase=" + UrlEncode(p);
  Json items = Json::array();
  std::string next;
  do {
    std::string page = query + (next.empty() ? "" : "&listOptions.continue=" + UrlEncode(next));
    std::string path =
        WorkflowsPath(client.namespace_) + (page.empty() ? "" : "?" + page.substr(1));
    auto body = api.Get(path);
    if (!body.ok()) return Report(err, body.error());
    auto list = ParseJson(*body, "a workflow list");
    if (!list.ok()) return Report(err, list.error());
    for (Json& item : (*list)["items"]) {
      bool child = item.value("metadata", Json::object()).contains("ownerReferences");
      if (flags.children || !child) items.push_back(std::move(item));
    }
    next = list->value("metadata", Json::object()).value("continue", "");
  } while (!next.empty());

  if (flags.output == "json") {
    out << items.dump() << "\n";
    return kExitOk;
  }
  if (flags.output == "name") {
    for (const Json& item : items) out << NameOf(item) << "\n";
    return kExitOk;
  }
  bool wide = flags.output == "wide";
  std::vector<std::vector<std::string>> rows = {{"NAME", "STATUS", "AGE", "DURATION", "PROGRESS"}};
  if (wide) rows[0].insert(rows[0].end(), {"PARAMETERS", "LABELS"});
  rows[0].push_back("MESSAGE");
  Micros now = SystemClock().Now();
  for (const Json& item : items) {
    auto st = StatusOf(item);
    if (!st.ok()) continue;
    Micros end = st->finished_at > 0 ? st->finished_at : now;
    std::vector<std::string> row = {st->name, std::string(engine::PhaseName(st->phase)),
                                    Age(st->created_at, now), Age(st->created_at, end),
                                    item.value("status", Json::object()).value("progress", "")};
    if (wide) {
      std::string params, labels;
      for (const auto& p : st->parameters)
        params += (params.empty() ? "" : ",") + p.name + "=" + p.value;
      for (const auto& [k, v] : st->labels) labels += (labels.empty() ? "" : ",") + k + "=" + v;
      row.push_back(params);
      row.push_back(labels);
    }
    row.push_back(st->message);
    rows.push_back(std::move(row));
  }
  PrintTable(rows, out);
  return kExitOk;
}

int TemplateCreateOrLint(ApiClient& api, const ClientFlags& client, const TemplateFlags& flags,
                         std::ostream& out, std::ostream& err) {
  bool lint = flags.action == "lint";
  auto docs = LoadDocuments(flags.args);
  if (!docs.ok()) return Usage(err, docs.error().ToString());
  int code = kExitOk;
  for (const spec::Workflow& doc : *docs) {
    bool is_template = doc.kind == "WorkflowTemplate";
    std::string what = doc.pos.ToString() + ": " + doc.kind + " " +
                       (doc.metadata.name.empty() ? doc.metadata.generate_name : doc.metadata.name);
    if (!is_template && !(lint && doc.kind == "Workflow")) {
      return Usage(
          err, what + " is not a WorkflowTemplate; `hubspoke template " + flags.action +
                   "` takes WorkflowTemplates" +
                   (doc.kind == "Workflow" ? " (submit Workflows with `hubspoke submit`)" : ""));
    }
    Json manifest = Json::parse(doc.source_json, nullptr, false);
    std::string ns = NamespaceFor(client, doc);
    std::string path = is_template ? TemplatesPath(ns) : WorkflowsPath(ns);
    Json request = {{is_template ? "template" : "workflow", manifest}};
    auto body = api.Post(lint ? path + "/lint" : path, request.dump());
    if (!body.ok()) {
      code = Report(err, Error{body.error().code, what + ": " + body.error().message});
      continue;
    }
    if (!lint) {
      out << "WorkflowTemplate " << doc.metadata.name << " created\n";
      continue;
    }
    Json result = Json::parse(*body, nullptr, false);
    for (const Json& d : result.value("diagnostics", Json::array())) {
      out << what << ": " << d.value("severity", "") << ": " << d.value("where", "")
          << (d.value("where", "").empty() ? "" : ": ") << d.value("message", "") << "\n";
    }
  }
  if (lint && code == kExitOk) err << "no errors found by the hub\n";
  return code;
}

int TemplateList(ApiClient& api, const ClientFlags& client, const TemplateFlags& flags,
                 std::ostream& out, std::ostream& err) {
  auto body = api.Get(TemplatesPath(client.namespace_));
  if (!body.ok()) return Report(err, body.error());
  auto list = ParseJson(*body, "a template list");
  if (!list.ok()) return Report(err, list.error());
  const Json items = list->value("items", Json::array());
  if (flags.output == "json") {
    out << items.dump() << "\n";
    return kExitOk;
  }
  std::vector<std::vector<std::string>> rows = {{"NAME", "ENTRYPOINT", "PARAMETERS"}};
  for (const Json& item : items) {
    if (flags.output == "name") {
      out << NameOf(item) << "\n";
      continue;
    }
    const Json spec = item.value("spec", Json::object());
    std::string params;
    for (const Json& p :
         spec.value("arguments", Json::object()).value("parameters", Json::array())) {
      params += (params.empty() ? "" : ",") + p.value("name", "");
      if (p.contains("value"))
        params +=
            "=" + (p["value"].is_string() ? p["value"].get<std::string>() : p["value"].dump());
    }
    rows.push_back({NameOf(item), spec.value("entrypoint", ""), params});
  }
  if (flags.output != "name") PrintTable(rows, out);
  return kExitOk;
}

}  // namespace

int Submit(const ClientFlags& client, const SubmitFlags& flags, std::ostream& out,
           std::ostream& err) {
  if (flags.files.empty() == flags.from.empty()) {
    return Usage(err, "submit needs manifest files or --from workflowtemplate/NAME (not both)");
  }
  auto labels = ParseLabels(flags.labels);
  if (!labels.ok()) return Usage(err, labels.error().ToString());
  std::vector<spec::Workflow> workflows;
  if (!flags.files.empty()) {
    auto docs = LoadDocuments(flags.files);
    if (!docs.ok()) return Usage(err, docs.error().ToString());
    for (spec::Workflow& doc : *docs) {
      if (doc.kind != "Workflow") {
        return Usage(err, doc.pos.ToString() + ": " + doc.kind + " " + doc.metadata.name +
                              ": submit sends only Workflows; store templates on the hub with "
                              "`hubspoke template create FILE`, then run one with `hubspoke "
                              "submit --from workflowtemplate/" +
                              doc.metadata.name + "`");
      }
      workflows.push_back(std::move(doc));
    }
    if (workflows.empty()) return Usage(err, "no Workflow in the given files");
    if (!flags.name.empty() && workflows.size() > 1) {
      return Usage(err, "--name " + flags.name + " with " + std::to_string(workflows.size()) +
                            " workflows: their names would clash");
    }
  }
  auto api = Connect(client);
  if (!api.ok()) return Report(err, api.error());
  std::vector<std::string> names;
  std::vector<std::string> created;  // the workflows as the hub sent them
  int code = flags.from.empty()
                 ? SubmitFiles(**api, client, flags, workflows, *labels, names, created, err)
                 : SubmitFrom(**api, client, flags, *labels, names, created, err);
  if (code != kExitOk) return code;
  // The namespace the workflows went to (a manifest may name its own).
  std::string ns = workflows.empty() ? client.namespace_ : NamespaceFor(client, workflows[0]);

  if (flags.log) {
    for (const std::string& name : names) {
      LogsFlags logs;
      logs.name = name;
      logs.follow = true;
      if (Status s = StreamLogs(**api, ns, logs, out); !s.ok()) return Report(err, s.error());
    }
  }
  if (flags.wait || flags.watch || flags.log) {
    bool print = !flags.log || !flags.output.empty();
    return FollowAll(**api, ns, names, flags.watch, print, flags.output, out, err);
  }
  for (const std::string& wf : created) {
    if (flags.output.empty() || flags.output == "wide") {
      auto st = hub::WorkflowStatusFromJson(wf, {});
      if (!st.ok()) return Report(err, st.error());
      out << RenderTree(*st, SystemClock().Now(), /*color=*/false, flags.output == "wide") << "\n";
    } else if (int printed = PrintWorkflowText(**api, ns, wf, flags.output, out, err);
               printed != kExitOk) {
      return printed;
    }
  }
  return kExitOk;
}

int List(const ClientFlags& client, const ListFlags& flags, std::ostream& out, std::ostream& err) {
  if (NoHubNamed(client)) {
    if (flags.completed || !flags.selector.empty() || flags.status.size() > 1 ||
        (flags.running && !flags.status.empty()) || flags.output == "json" ||
        flags.output == "wide") {
      return Usage(err,
                   "--completed, -l, several --status and -o json|wide need a hub; none is named "
                   "(see --server) and no hub runs on " +
                       client.data_dir);
    }
    StoreQuery query;
    query.data_dir = client.data_dir;
    query.output = flags.output;
    query.phase = flags.running ? "Running" : flags.status.empty() ? "" : flags.status[0];
    query.prefix = flags.prefix;
    query.with_children = flags.children;
    return ListWorkflows(query, out, err);
  }
  auto api = Connect(client);
  if (!api.ok()) return Report(err, api.error());
  return ListRemote(**api, client, flags, out, err);
}

int Get(const ClientFlags& client, const std::string& name, const std::string& output,
        std::ostream& out, std::ostream& err) {
  if (NoHubNamed(client)) {
    if (name == "@latest") return Usage(err, kLatestNeedsHub);
    StoreQuery query;
    query.data_dir = client.data_dir;
    query.output = output;
    return GetWorkflow(query, name, out, err);
  }
  auto api = Connect(client);
  if (!api.ok()) return Report(err, api.error());
  auto resolved = ResolveName(**api, client.namespace_, name);
  if (!resolved.ok()) return Report(err, resolved.error());
  auto text = (*api)->Get(WorkflowPath(client.namespace_, *resolved));
  if (!text.ok()) return Report(err, text.error());
  return PrintWorkflowText(**api, client.namespace_, *text, output, out, err);
}

int ShowSummary(const ClientFlags& client, const std::string& name, const std::string& output,
                std::ostream& out, std::ostream& err) {
  if (NoHubNamed(client)) {
    if (name == "@latest") return Usage(err, kLatestNeedsHub);
    StoreQuery query;
    query.data_dir = client.data_dir;
    query.output = output;
    return SummarizeWorkflow(query, name, out, err);
  }
  auto api = Connect(client);
  if (!api.ok()) return Report(err, api.error());
  auto resolved = ResolveName(**api, client.namespace_, name);
  if (!resolved.ok()) return Report(err, resolved.error());
  auto status = FetchStatus(**api, client.namespace_, *resolved);
  if (!status.ok()) return Report(err, status.error());
  auto all = FetchTree(**api, client.namespace_, std::move(*status));
  if (!all.ok()) return Report(err, all.error());
  std::vector<const engine::WorkflowStatus*> views;
  for (const auto& st : *all) views.push_back(&st);
  out << SummaryOutput(views, SystemClock().Now(), output);
  return kExitOk;
}

int Logs(const ClientFlags& client, const LogsFlags& flags, std::ostream& out, std::ostream& err) {
  if (NoHubNamed(client)) {
    if (flags.follow || flags.tail >= 0 || !flags.grep.empty()) {
      return Usage(err,
                   "-f, --tail and --grep need a hub; none is named (see --server) and no "
                   "hub runs on " +
                       client.data_dir);
    }
    if (flags.name == "@latest") return Usage(err, kLatestNeedsHub);
    StoreQuery query;
    query.data_dir = client.data_dir;
    return PrintLogs(query, flags.name, flags.node, out, err);
  }
  auto api = Connect(client);
  if (!api.ok()) return Report(err, api.error());
  auto resolved = ResolveName(**api, client.namespace_, flags.name);
  if (!resolved.ok()) return Report(err, resolved.error());
  LogsFlags named = flags;
  named.name = *resolved;
  if (Status s = StreamLogs(**api, client.namespace_, named, out); !s.ok()) {
    return Report(err, s.error());
  }
  return kExitOk;
}

int Watch(const ClientFlags& client, const std::string& name, std::ostream& out,
          std::ostream& err) {
  auto api = Connect(client);
  if (!api.ok()) return Report(err, api.error());
  auto resolved = ResolveName(**api, client.namespace_, name);
  if (!resolved.ok()) return Report(err, resolved.error());
  return FollowAll(**api, client.namespace_, {*resolved}, /*watch=*/true, /*print=*/true, "", out,
                   err);
}

int Wait(const ClientFlags& client, const std::vector<std::string>& names, std::ostream& out,
         std::ostream& err) {
  auto api = Connect(client);
  if (!api.ok()) return Report(err, api.error());
  std::vector<std::string> resolved;
  for (const std::string& name : names) {
    auto r = ResolveName(**api, client.namespace_, name);
    if (!r.ok()) return Report(err, r.error());
    resolved.push_back(*r);
  }
  return FollowAll(**api, client.namespace_, resolved, /*watch=*/false, /*print=*/false, "", out,
                   err);
}

int Delete(const ClientFlags& client, const std::vector<std::string>& names, std::ostream& out,
           std::ostream& err) {
  auto api = Connect(client);
  if (!api.ok()) return Report(err, api.error());
  int code = kExitOk;
  for (const std::string& name : names) {
    auto resolved = ResolveName(**api, client.namespace_, name);
    auto done = resolved.ok() ? (*api)->Delete(WorkflowPath(client.namespace_, *resolved))
                              : Result<std::string>(resolved.error());
    if (!done.ok()) {
      code = Report(err, done.error());
      continue;
    }
    out << "workflow " << *resolved << " deleted\n";
  }
  return code;
}

int Act(const ClientFlags& client, const ActionFlags& flags, std::ostream& out, std::ostream& err) {
  Json body = Json::object();
  if (flags.restart_successful) body["restartSuccessful"] = true;
  if (!flags.params.empty()) {
    for (const std::string& p : flags.params) {
      std::string key, value;
      if (!SplitPair(p, key, value)) return Usage(err, "-p " + p + ": expected name=value");
    }
    body["parameters"] = flags.params;
  }
  auto api = Connect(client);
  if (!api.ok()) return Report(err, api.error());
  static const std::map<std::string, std::string> kDone = {
      {"stop", "stopped"},   {"terminate", "terminated"}, {"suspend", "suspended"},
      {"resume", "resumed"}, {"retry", "retried"},        {"resubmit", "resubmitted"}};
  int code = kExitOk;
  for (const std::string& name : flags.names) {
    auto resolved = ResolveName(**api, client.namespace_, name);
    if (!resolved.ok()) {
      code = Report(err, resolved.error());
      continue;
    }
    auto answer =
        (*api)->Put(WorkflowPath(client.namespace_, *resolved) + "/" + flags.action, body.dump());
    if (!answer.ok()) {
      code = Report(err, answer.error());
      continue;
    }
    out << "workflow " << *resolved << " " << kDone.at(flags.action);
    if (flags.action == "resubmit") {
      auto wf = ParseJson(*answer, "the new workflow");
      if (wf.ok()) out << " as " << NameOf(*wf);
    }
    out << "\n";
  }
  return code;
}

int Templates(const ClientFlags& client, const TemplateFlags& flags, std::ostream& out,
              std::ostream& err) {
  if (flags.action != "list" && flags.args.empty()) {
    return Usage(err, "template " + flags.action + " needs " +
                          (flags.action == "create" || flags.action == "lint" ? "files" : "names"));
  }
  auto api = Connect(client);
  if (!api.ok()) return Report(err, api.error());
  if (flags.action == "create" || flags.action == "lint") {
    return TemplateCreateOrLint(**api, client, flags, out, err);
  }
  if (flags.action == "list") return TemplateList(**api, client, flags, out, err);
  int code = kExitOk;
  for (const std::string& name : flags.args) {
    std::string path = TemplatesPath(client.namespace_) + "/" + UrlEncode(name);
    if (flags.action == "delete") {
      auto done = (*api)->Delete(path);
      if (!done.ok()) {
        code = Report(err, done.error());
        continue;
      }
      out << "WorkflowTemplate " << name << " deleted\n";
      continue;
    }
    auto body = (*api)->Get(path);
    if (!body.ok()) {
      code = Report(err, body.error());
      continue;
    }
    auto tmpl = ParseJson(*body, "a template");
    if (!tmpl.ok()) {
      code = Report(err, tmpl.error());
      continue;
    }
    out << (flags.output == "json" ? tmpl->dump() + "\n" : hub::JsonToYaml(tmpl->dump()));
  }
  return code;
}

namespace {

// When a CronWorkflow runs next, by its schedules and time zone as the hub reads them.
std::string NextRun(const Json& cron, Micros now) {
  const Json spec = cron.value("spec", Json::object());
  std::vector<std::string> schedules;
  for (const Json& s : spec.value("schedules", Json::array())) {
    if (s.is_string()) schedules.push_back(s.get<std::string>());
  }
  if (spec.contains("schedule") && spec["schedule"].is_string()) {
    schedules.push_back(spec["schedule"].get<std::string>());
  }
  auto zone = cron::TimeZone::Load(spec.value("timezone", ""));
  if (!zone.ok()) return "";
  int64_t after = now / 1'000'000;
  std::optional<int64_t> best;
  for (const std::string& text : schedules) {
    auto schedule = cron::Schedule::Parse(text);
    if (!schedule.ok()) continue;
    // @every counts from the last run, as the hub does.
    int64_t from = after;
    std::string last = cron.value("status", Json::object()).value("lastScheduledTime", "");
    if (text.rfind("@every", 0) == 0 && !last.empty()) {
      std::tm tm{};
      if (strptime(last.c_str(), "%Y-%m-%dT%H:%M:%S", &tm)) from = timegm(&tm);
      while (true) {
        std::optional<int64_t> n = schedule->Next(from, *zone);
        if (!n || *n > after) break;
        from = *n;
      }
    }
    std::optional<int64_t> n = schedule->Next(from, *zone);
    if (n && (!best || *n < *best)) best = n;
  }
  if (!best) return "";
  return "in " + Age(now, *best * 1'000'000);
}

int CronCreate(ApiClient& api, const ClientFlags& client, const CronFlags& flags, std::ostream& out,
               std::ostream& err) {
  auto docs = LoadDocuments(flags.args);
  if (!docs.ok()) return Usage(err, docs.error().ToString());
  int code = kExitOk;
  int created = 0;
  for (const spec::Workflow& doc : *docs) {
    if (doc.kind != "CronWorkflow") continue;
    Json manifest = Json::parse(doc.source_json, nullptr, false);
    std::string what = doc.pos.ToString() + ": CronWorkflow " + doc.metadata.name;
    auto body =
        api.Post(CronsPath(NamespaceFor(client, doc)), Json{{"cronWorkflow", manifest}}.dump());
    if (!body.ok()) {
      code = Report(err, Error{body.error().code, what + ": " + body.error().message});
      continue;
    }
    ++created;
    out << "CronWorkflow " << doc.metadata.name << " created\n";
  }
  if (created == 0 && code == kExitOk) {
    return Usage(err,
                 "no CronWorkflow in the given files (`hubspoke cron create` takes "
                 "CronWorkflows; submit Workflows with `hubspoke submit`)");
  }
  return code;
}

int CronList(ApiClient& api, const ClientFlags& client, const CronFlags& flags, std::ostream& out,
             std::ostream& err) {
  auto body = api.Get(CronsPath(client.namespace_));
  if (!body.ok()) return Report(err, body.error());
  auto list = ParseJson(*body, "a cron workflow list");
  if (!list.ok()) return Report(err, list.error());
  const Json items = list->value("items", Json::array());
  if (flags.output == "json") {
    out << items.dump() << "\n";
    return kExitOk;
  }
  Micros now = SystemClock().Now();
  std::vector<std::vector<std::string>> rows = {
      {"NAME", "AGE", "LAST RUN", "NEXT RUN", "SCHEDULE", "TIMEZONE", "SUSPENDED"}};
  auto micros = [](const std::string& rfc3339) -> Micros {
    std::tm tm{};
    if (rfc3339.empty() || !strptime(rfc3339.c_str(), "%Y-%m-%dT%H:%M:%S", &tm)) return 0;
    return static_cast<Micros>(timegm(&tm)) * 1'000'000;
  };
  for (const Json& item : items) {
    if (flags.output == "name") {
      out << NameOf(item) << "\n";
      continue;
    }
    const Json spec = item.value("spec", Json::object());
    std::string schedules;
    if (spec.contains("schedule")) schedules = spec.value("schedule", "");
    for (const Json& s : spec.value("schedules", Json::array())) {
      if (s.is_string()) schedules += (schedules.empty() ? "" : ",") + s.get<std::string>();
    }
    Micros created = micros(item.value("metadata", Json::object()).value("creationTimestamp", ""));
    Micros last = micros(item.value("status", Json::object()).value("lastScheduledTime", ""));
    bool suspended = spec.value("suspend", false);
    rows.push_back({NameOf(item), created ? Age(created, now) : "", last ? Age(last, now) : "N/A",
                    suspended ? "N/A" : NextRun(item, now), schedules, spec.value("timezone", ""),
                    suspended ? "true" : "false"});
  }
  if (flags.output != "name") PrintTable(rows, out);
  return kExitOk;
}

}  // namespace

int Crons(const ClientFlags& client, const CronFlags& flags, std::ostream& out, std::ostream& err) {
  if (flags.action != "list" && flags.args.empty()) {
    return Usage(
        err, "cron " + flags.action + " needs " + (flags.action == "create" ? "files" : "names"));
  }
  auto api = Connect(client);
  if (!api.ok()) return Report(err, api.error());
  if (flags.action == "create") return CronCreate(**api, client, flags, out, err);
  if (flags.action == "list") return CronList(**api, client, flags, out, err);
  int code = kExitOk;
  for (const std::string& name : flags.args) {
    std::string path = CronsPath(client.namespace_) + "/" + UrlEncode(name);
    Result<std::string> body = std::string();
    if (flags.action == "delete") {
      body = (*api)->Delete(path);
    } else if (flags.action == "suspend" || flags.action == "resume") {
      body = (*api)->Put(path + "/" + flags.action, "{}");
    } else {
      body = (*api)->Get(path);
    }
    if (!body.ok()) {
      code = Report(err, body.error());
      continue;
    }
    if (flags.action == "delete") {
      out << "CronWorkflow " << name << " deleted\n";
    } else if (flags.action == "suspend" || flags.action == "resume") {
      out << "CronWorkflow " << name << (flags.action == "suspend" ? " suspended" : " resumed")
          << "\n";
    } else {
      auto cron = ParseJson(*body, "a cron workflow");
      if (!cron.ok()) {
        code = Report(err, cron.error());
        continue;
      }
      out << (flags.output == "json" ? cron->dump() + "\n" : hub::JsonToYaml(cron->dump()));
    }
  }
  return code;
}

int Spokes(const ClientFlags& client, const std::string& output, std::ostream& out,
           std::ostream& err) {
  auto api = Connect(client);
  if (!api.ok()) return Report(err, api.error());
  auto body = (*api)->Get("/api/v1/spokes");
  if (!body.ok()) return Report(err, body.error());
  auto list = ParseJson(*body, "a spoke list");
  if (!list.ok()) return Report(err, list.error());
  const Json items = list->value("items", Json::array());
  if (output == "json") {
    out << items.dump() << "\n";
    return kExitOk;
  }
  Micros now = SystemClock().Now();
  std::vector<std::vector<std::string>> rows = {
      {"NAME", "SLOTS", "RUNNING", "LAST HEARTBEAT", "VERSION", "LABELS"}};
  for (const Json& item : items) {
    std::string name = item.value("name", "");
    if (output == "name") {
      out << name << "\n";
      continue;
    }
    if (item.value("draining", false)) name += " (draining)";
    std::string labels;
    const Json all_labels = item.value("labels", Json::object());
    for (const auto& [k, v] : all_labels.items()) {
      if (k.rfind("kubernetes.io/", 0) == 0 || k.rfind("beta.kubernetes.io/", 0) == 0) continue;
      labels += (labels.empty() ? "" : ",") + k + "=" + (v.is_string() ? v.get<std::string>() : "");
    }
    Micros beat = item.value("lastHeartbeatMicros", Micros{0});
    rows.push_back({name, std::to_string(item.value("slots", 0)),
                    std::to_string(item.value("running", 0)),
                    item.value("local", false) ? "(in the hub)" : Age(beat, now) + " ago",
                    item.value("version", ""), labels});
  }
  if (output != "name") PrintTable(rows, out);
  return kExitOk;
}

}  // namespace hubspoke::cli
