#include "cli/store_commands.h"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "cli/mermaid.h"
#include "cli/render.h"
#include "cli/summary.h"
#include "cli/table.h"
#include "common/clock.h"
#include "hub/serialize.h"
#include "store/store.h"

namespace hubspoke::cli {
namespace {

using Json = nlohmann::ordered_json;

Result<std::unique_ptr<store::Store>> OpenExisting(const StoreQuery& query) {
  std::string path = query.data_dir + "/hubspoke.db";
  if (!std::filesystem::exists(path)) {
    return Fail(NotFound("no hubspoke state in " + query.data_dir +
                         " (nothing has run there yet; choose the directory with --data DIR)"));
  }
  return store::OpenSqlite({path});
}

struct Loaded {
  store::WorkflowRecord record;
  std::vector<store::NodeRecord> nodes;
  engine::WorkflowStatus status;
};

Result<Loaded> Load(store::Store& store, const std::string& name) {
  auto record = store.GetWorkflow(name);
  if (!record.ok()) return Fail(record.error());
  if (!*record) return Fail(NotFound("workflow " + name + " not found"));
  auto nodes = store.ListNodes(name);
  if (!nodes.ok()) return Fail(nodes.error());
  std::vector<std::string> bodies;
  bodies.reserve(nodes->size());
  for (const auto& n : *nodes) bodies.push_back(n.body_json);
  auto status = hub::WorkflowStatusFromJson((*record)->body_json, bodies);
  if (!status.ok()) return Fail(status.error());
  return Loaded{std::move(**record), std::move(*nodes), std::move(*status)};
}

// Prints a failed command's error the way every hubspoke command does; returns its exit code.
int Report(std::ostream& err, const Error& error) {
  err << "hubspoke: " << error.ToString() << "\n";
  return 1;
}

// The run and the child workflows its resource nodes created (for the summary); a child that
// cannot be read is left out.
std::vector<Loaded> WithChildren(store::Store& store, Loaded run) {
  std::vector<Loaded> all;
  all.push_back(std::move(run));
  for (size_t i = 0; i < all.size(); ++i) {
    store::ListOptions children;
    children.parent = all[i].record.name;
    auto records = store.ListWorkflows(children);
    if (!records.ok()) break;
    for (const auto& r : *records) {
      auto child = Load(store, r.name);
      if (child.ok()) all.push_back(std::move(*child));
    }
  }
  return all;
}

}  // namespace

int ListWorkflows(const StoreQuery& query, std::ostream& out, std::ostream& err) {
  auto store = OpenExisting(query);
  if (!store.ok()) return Report(err, store.error());
  store::ListOptions options;
  options.phase = query.phase;
  options.name_prefix = query.prefix;
  auto records = (*store)->ListWorkflows(options);
  if (!records.ok()) return Report(err, records.error());
  SystemClock clock;
  Micros now = clock.Now();
  std::vector<std::vector<std::string>> rows = {
      {"NAME", "STATUS", "AGE", "DURATION", "PROGRESS", "MESSAGE"}};
  for (const auto& r : *records) {
    if (!query.with_children && !r.parent.empty()) continue;
    if (query.output == "name") {
      out << r.name << "\n";
      continue;
    }
    Json body = Json::parse(r.body_json, nullptr, /*allow_exceptions=*/false);
    const Json status = body.is_object() ? body.value("status", Json::object()) : Json::object();
    Micros end = r.finished_at > 0 ? r.finished_at : now;
    rows.push_back({r.name, r.phase, Age(r.created_at, now), Age(r.created_at, end),
                    status.value("progress", ""), status.value("message", "")});
  }
  if (query.output == "name") return 0;
  PrintTable(rows, out);
  return 0;
}

int GetWorkflow(const StoreQuery& query, const std::string& name, std::ostream& out,
                std::ostream& err) {
  auto store = OpenExisting(query);
  if (!store.ok()) return Report(err, store.error());
  auto loaded = Load(**store, name);
  if (!loaded.ok()) return Report(err, loaded.error());
  if (query.output == "name") {
    out << name << "\n";
    return 0;
  }
  if (query.output == "json" || query.output == "yaml") {
    std::vector<std::pair<std::string, std::string>> nodes;
    for (const auto& n : loaded->nodes) nodes.emplace_back(n.id, n.body_json);
    std::string text = hub::WorkflowJsonWithNodes(loaded->record.body_json, nodes);
    out << (query.output == "yaml" ? hub::JsonToYaml(text) : text + "\n");
    return 0;
  }
  if (query.output == "mermaid") {
    out << RenderMermaid(loaded->status);
    return 0;
  }
  std::vector<Loaded> all = WithChildren(**store, std::move(*loaded));
  std::vector<const engine::WorkflowStatus*> views;
  for (const auto& l : all) views.push_back(&l.status);
  SystemClock clock;
  Micros now = clock.Now();
  out << RenderTree(all[0].status, now, /*color=*/false, query.output == "wide") << "\n";
  out << RenderSummary(views, now);
  return 0;
}

int SummarizeWorkflow(const StoreQuery& query, const std::string& name, std::ostream& out,
                      std::ostream& err) {
  auto store = OpenExisting(query);
  if (!store.ok()) return Report(err, store.error());
  auto loaded = Load(**store, name);
  if (!loaded.ok()) return Report(err, loaded.error());
  std::vector<Loaded> all = WithChildren(**store, std::move(*loaded));
  std::vector<const engine::WorkflowStatus*> views;
  for (const auto& l : all) views.push_back(&l.status);
  out << SummaryOutput(views, SystemClock().Now(), query.output);
  return 0;
}

int PrintLogs(const StoreQuery& query, const std::string& name, const std::string& node,
              std::ostream& out, std::ostream& err) {
  auto store = OpenExisting(query);
  if (!store.ok()) return Report(err, store.error());
  auto loaded = Load(**store, name);
  if (!loaded.ok()) return Report(err, loaded.error());
  bool matched = false;
  for (const engine::Node& n : loaded->status.nodes) {
    if (n.type != engine::NodeType::kPod) continue;
    if (!node.empty() && n.id != node && n.name != node && n.display_name != node) continue;
    matched = true;
    std::ifstream in(query.data_dir + "/logs/" + name + "/" + n.id + ".log");
    std::string line;
    while (std::getline(in, line)) out << n.display_name << ": " << line << "\n";
  }
  if (!node.empty() && !matched) {
    err << "hubspoke: workflow " << name << " has no task node " << node
        << " (give a node id, name or display name as `hubspoke get` shows it)\n";
    return 1;
  }
  return 0;
}

}  // namespace hubspoke::cli
