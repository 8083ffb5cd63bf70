#include "cli/cli.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <thread>

#include "cli/client_commands.h"
#include "cli/hub_command.h"
#include "cli/render.h"
#include "cli/spoke_command.h"
#include "common/log.h"
#include "hub/hub.h"
#include "hub/serialize.h"
#include "spec/catalog.h"
#include "spec/lint.h"
#include "spec/loader.h"
#include "store/store.h"

namespace hubspoke::cli {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;
constexpr const char* kVersion = "0.1.0";

struct Loaded {
  spec::Catalog catalog;
  std::vector<spec::Workflow> workflows;  // kind Workflow
  std::vector<spec::Workflow> all;        // every document, for lint
  // The positive integers in the ConfigMaps given: the limits of semaphores ("name/key").
  std::map<std::string, int> semaphore_limits;
  std::vector<std::string> crons;  // names of the CronWorkflows
};

// Loads every document of every file; WorkflowTemplates go to the catalog.
Result<Loaded> LoadAll(const std::vector<std::string>& files) {
  Loaded out;
  for (const std::string& file : files) {
    auto loaded = spec::LoadFile(file);
    if (!loaded.ok()) return Fail(loaded.error());
    for (spec::ConfigMap& cm : loaded->config_maps) {
      for (const auto& [key, value] : cm.data)
        hub::AddSemaphoreLimit(cm.name + "/" + key + "=" + value, out.semaphore_limits);
      out.catalog.AddConfigMap(std::move(cm));
    }
    for (spec::Workflow& wf : loaded->workflows) {
      out.all.push_back(wf);
      if (wf.kind == "Workflow") {
        out.workflows.push_back(std::move(wf));
      } else if (wf.kind == "WorkflowTemplate" || wf.kind == "ClusterWorkflowTemplate") {
        out.catalog.Add(std::move(wf));
      } else if (wf.kind == "CronWorkflow") {
        out.crons.push_back(wf.metadata.name);
      }
    }
  }
  return out;
}

std::string DefaultDataDir() {
  if (const char* xdg = getenv("XDG_STATE_HOME"); xdg && *xdg) {
    return std::string(xdg) + "/hubspoke";
  }
  if (const char* home = getenv("HOME"); home && *home) {
    return std::string(home) + "/.local/state/hubspoke";
  }
  return ".hubspoke";
}

int TerminalWidth() {
  struct winsize ws;
  if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 20) return ws.ws_col;
  return 100;
}

bool ParseParam(const std::string& text, std::pair<std::string, std::string>& out) {
  size_t eq = text.find('=');
  if (eq == std::string::npos || eq == 0) return false;
  out = {text.substr(0, eq), text.substr(eq + 1)};
  return true;
}

// Lints what is about to run; prints problems; false when an error makes running pointless.
bool LintBeforeRun(const std::vector<spec::Workflow>& docs, const spec::Catalog& catalog) {
  bool ok = true;
  for (const spec::Workflow& wf : docs) {
    for (const spec::Diagnostic& d : spec::Lint(wf, catalog)) {
      std::cerr << d.ToString() << "\n";
      if (d.severity == spec::Diagnostic::Severity::kError) ok = false;
    }
  }
  return ok;
}

struct RunFlags {
  std::vector<std::string> files;
  std::string from;
  std::vector<std::string> params;
  std::string entrypoint;
  std::string name;
  int spokes = 0;
  std::string output;
  std::string data_dir;
  std::vector<std::string> image_maps;
  std::vector<std::string> semaphores;  // --semaphore NAME/KEY=LIMIT
  bool quiet = false;
};

// Collects the run's workflows: the one named, then the children it created, recursively.
std::vector<const engine::WorkflowStatus*> RunTree(const engine::Engine& engine,
                                                   const std::string& root) {
  std::vector<const engine::WorkflowStatus*> out;
  std::vector<std::string> stack{root};
  while (!stack.empty()) {
    std::string name = stack.front();
    stack.erase(stack.begin());
    if (const auto* st = engine.Find(name)) out.push_back(st);
    for (const std::string& child : engine.ChildrenOf(name)) stack.push_back(child);
  }
  return out;
}

// What the workflow's last top-level task printed (the "summarize" step of a hub), indented.
std::string LastStepOutput(const engine::WorkflowStatus& st) {
  const engine::Node* last = nullptr;
  for (const engine::Node& n : st.nodes) {
    if (n.type != engine::NodeType::kPod || !n.result || n.result->empty()) continue;
    if (n.boundary_id != st.name || n.item_index >= 0) continue;
    if (!last || n.finished_at >= last->finished_at) last = &n;
  }
  if (!last) return "";
  std::string out = "\nOutput of " + last->display_name + ":\n";
  size_t pos = 0;
  const std::string& text = *last->result;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    out += "  " + text.substr(pos, end - pos) + "\n";
    pos = end + 1;
  }
  return out;
}

int DoRun(const RunFlags& flags) {
  auto loaded = LoadAll(flags.files);
  if (!loaded.ok()) {
    std::cerr << "hubspoke: " << loaded.error().ToString() << "\n";
    return kExitUsage;
  }
  std::vector<spec::Workflow> targets;
  if (!flags.from.empty()) {
    std::string name = flags.from;
    for (const char* prefix : {"workflowtemplate/", "workflowtemplates/", "wftmpl/",
                               "clusterworkflowtemplate/", "cwftmpl/"}) {
      if (name.rfind(prefix, 0) == 0) name = name.substr(strlen(prefix));
    }
    auto wf = spec::FromTemplate(name, loaded->catalog);
    if (!wf.ok()) {
      std::cerr << "hubspoke: " << wf.error().ToString() << "\n";
      return kExitUsage;
    }
    targets.push_back(std::move(*wf));
  } else {
    targets = loaded->workflows;
  }
  if (targets.empty()) {
    std::string names;
    for (const std::string& n : loaded->catalog.Names()) names += (names.empty() ? "" : ", ") + n;
    std::cerr << "hubspoke: no Workflow to run in the given files";
    if (!names.empty()) {
      std::cerr << "; they define WorkflowTemplates " << names << ".\nRun one with: hubspoke run";
      for (const auto& f : flags.files) std::cerr << " " << f;
      std::cerr << " --from workflowtemplate/" << loaded->catalog.Names().front();
    }
    if (!loaded->crons.empty()) {
      std::cerr << "; CronWorkflow " << loaded->crons.front()
                << " runs on a hub, on its schedule: hubspoke cron create";
      for (const auto& f : flags.files) std::cerr << " " << f;
      std::cerr << "\n(and to run it once now: hubspoke submit --from cronworkflow/"
                << loaded->crons.front() << ")";
    }
    std::cerr << "\n";
    return kExitUsage;
  }
  std::vector<std::pair<std::string, std::string>> params;
  for (const std::string& p : flags.params) {
    std::pair<std::string, std::string> kv;
    if (!ParseParam(p, kv)) {
      std::cerr << "hubspoke: -p " << p << ": expected name=value\n";
      return kExitUsage;
    }
    params.push_back(kv);
  }
  hub::SubmitOptions submit;
  submit.entrypoint = flags.entrypoint;
  submit.parameters = params;
  submit.name = flags.name;
  std::vector<spec::Workflow> resolved;  // what will run, to lint and check names before it does
  for (spec::Workflow wf : targets) {
    if (!flags.entrypoint.empty()) wf.spec.entrypoint = flags.entrypoint;
    if (!flags.name.empty()) wf.metadata.name = flags.name;
    auto r = spec::Resolve(wf, loaded->catalog);
    if (!r.ok()) {
      std::cerr << "hubspoke: " << r.error().ToString() << "\n";
      return kExitUsage;
    }
    spec::OverrideParameters(*r, params);
    if (!flags.entrypoint.empty()) r->spec.entrypoint = flags.entrypoint;
    resolved.push_back(std::move(*r));
  }
  if (!LintBeforeRun(resolved, loaded->catalog)) {
    std::cerr << "hubspoke: the manifest has errors (above); nothing was run\n";
    return kExitUsage;
  }

  std::string data_dir = flags.data_dir.empty() ? DefaultDataDir() : flags.data_dir;
  std::error_code ec;
  std::filesystem::create_directories(data_dir, ec);
  if (ec) {
    std::cerr << "hubspoke: cannot create data directory " << data_dir << ": " << ec.message()
              << " (choose another with --data DIR)\n";
    return kExitUsage;
  }
  auto store = store::OpenSqlite({data_dir + "/hubspoke.db"});
  if (!store.ok()) {
    std::cerr << "hubspoke: " << store.error().ToString() << "\n";
    return kExitUsage;
  }
  for (const spec::Workflow& wf : resolved) {
    if (wf.metadata.name.empty()) continue;
    auto existing = (*store)->GetWorkflow(wf.metadata.name);
    if (existing.ok() && *existing) {
      std::cerr << "hubspoke: workflow " << wf.metadata.name << " already exists in " << data_dir
                << ": give another --name, use metadata.generateName, or choose another --data\n";
      return kExitUsage;
    }
  }
  hub::HubOptions options;
  options.data_dir = data_dir;
  options.local_spokes = flags.spokes > 0
                             ? flags.spokes
                             : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  for (const std::string& m : flags.image_maps) {
    if (!options.images.Add(m)) {
      std::cerr << "hubspoke: --image-map " << m << ": expected IMAGE=COMMAND\n";
      return kExitUsage;
    }
  }
  for (const std::string& s : flags.semaphores) {
    if (!hub::AddSemaphoreLimit(s, options.semaphore_limits)) {
      std::cerr << "hubspoke: --semaphore " << s << ": expected NAME/KEY=LIMIT (LIMIT >= 1)\n";
      return kExitUsage;
    }
  }
  options.semaphore_limits.insert(loaded->semaphore_limits.begin(),
                                  loaded->semaphore_limits.end());  // the flags win
  hub::Hub hub(std::move(options), std::move(*store), loaded->catalog);
  std::vector<std::string> names;
  for (const spec::Workflow& wf : targets) {
    auto name = hub.Submit(wf, submit);
    if (!name.ok()) {
      std::cerr << "hubspoke: " << name.error().ToString() << "\n";
      return kExitUsage;
    }
    names.push_back(*name);
    if (!flags.quiet) std::cerr << "hubspoke: started workflow " << *name << "\n";
  }

  bool tty = isatty(STDERR_FILENO) && !flags.quiet;
  SystemClock clock;
  Micros last_plain = clock.Now();
  std::string last_line;
  int drawn_lines = 0;
  std::vector<std::string> suspended;  // workflows that wait only on indefinite suspends
  for (const std::string& name : names) {
    while (!hub.WaitFinished(name, tty ? 100 : 250)) {
      bool waits = false;
      std::string text;
      hub.Inspect([&](const engine::Engine& engine) {
        waits = engine.IsSuspended(name);
        if (!flags.quiet)
          text = RenderProgress(RunTree(engine, name), clock.Now(), TerminalWidth(), tty);
      });
      if (waits) {
        suspended.push_back(name);
        break;
      }
      if (flags.quiet) continue;
      if (tty) {
        if (drawn_lines > 0) std::cerr << "\x1b[" << drawn_lines << "A\x1b[J";
        std::cerr << text << std::flush;
        drawn_lines = static_cast<int>(std::count(text.begin(), text.end(), '\n'));
      } else if (clock.Now() - last_plain >= 2'000'000) {
        last_plain = clock.Now();
        std::string first = text.substr(0, text.find('\n'));
        if (first != last_line) std::cerr << first << "\n";
        last_line = first;
      }
    }
  }
  if (tty && drawn_lines > 0) std::cerr << "\x1b[" << drawn_lines << "A\x1b[J" << std::flush;

  int code = kExitOk;
  std::vector<std::string> json_docs;
  hub.Inspect([&](const engine::Engine& engine) {
    Micros now = clock.Now();
    for (const std::string& name : names) {
      const engine::WorkflowStatus* st = engine.Find(name);
      if (st->phase != engine::Phase::kSucceeded) code = kExitFailed;
      if (flags.output == "json" || flags.output == "yaml") {
        json_docs.push_back(hub::WorkflowToJson(*engine.FindSpec(name), *st, true));
        continue;
      }
      std::cout << RenderTree(*st, now, isatty(STDOUT_FILENO), flags.output == "wide") << "\n";
      std::cout << RenderSummary(RunTree(engine, name), now);
      std::cout << LastStepOutput(*st) << std::flush;
    }
    for (const std::string& name : suspended) {
      std::string where;
      for (const engine::WorkflowStatus* st : RunTree(engine, name)) {
        for (const engine::Node& n : st->nodes) {
          if (n.type != engine::NodeType::kSuspend || n.phase != engine::Phase::kRunning) continue;
          where += (where.empty() ? "" : ", ") + n.display_name;
          if (st->name != name) where += " (child workflow " + st->name + ")";
        }
      }
      std::cerr << "hubspoke: workflow " << name << " is suspended at node " << where
                << "; this run stops here. To suspend and resume, submit it to a hub "
                   "(`hubspoke hub`, then `hubspoke submit` and `hubspoke resume`)\n";
    }
  });
  for (const std::string& doc : json_docs) {
    std::cout << (flags.output == "yaml" ? hub::JsonToYaml(doc) : doc) << "\n";
  }
  if (auto err = hub.StoreError()) {
    std::cerr << "hubspoke: warning: state was not fully saved: " << err->ToString() << "\n";
  }
  if (!flags.quiet) std::cerr << "hubspoke: state kept in " << data_dir << "\n";
  return code;
}

int DoLint(const std::vector<std::string>& files) {
  int errors = 0, warnings = 0, documents = 0;
  spec::Catalog catalog;
  std::vector<spec::Workflow> docs;
  for (const std::string& file : files) {
    auto loaded = spec::LoadFile(file);
    if (!loaded.ok()) {
      std::cout << loaded.error().ToString() << "\n";
      ++errors;
      continue;
    }
    for (spec::ConfigMap& cm : loaded->config_maps) catalog.AddConfigMap(std::move(cm));
    for (spec::Workflow& wf : loaded->workflows) {
      if (wf.kind == "WorkflowTemplate" || wf.kind == "ClusterWorkflowTemplate") catalog.Add(wf);
      docs.push_back(std::move(wf));
    }
  }
  for (const spec::Workflow& wf : docs) {
    ++documents;
    for (const spec::Diagnostic& d : spec::Lint(wf, catalog)) {
      std::cout << d.ToString() << "\n";
      if (d.severity == spec::Diagnostic::Severity::kError)
        ++errors;
      else
        ++warnings;
    }
  }
  if (errors == 0) {
    std::cerr << "no errors in " << documents << " manifest" << (documents == 1 ? "" : "s")
              << (warnings ? " (" + std::to_string(warnings) + " warnings)" : "") << "\n";
    return kExitOk;
  }
  std::cerr << errors << " error" << (errors == 1 ? "" : "s") << ", " << warnings << " warning"
            << (warnings == 1 ? "" : "s") << "\n";
  return kExitFailed;
}

}  // namespace

int Main(int argc, char** argv) {
  CLI::App app{"hubspoke: a hub-and-spoke workflow engine for Argo Workflows manifests"};
  app.require_subcommand(1);
  app.set_version_flag("--version", kVersion);

  RunFlags run;
  CLI::App* run_cmd = app.add_subcommand(
      "run",
      "Run workflows on an embedded hub with local spokes.\n\nExamples:\n"
      "  hubspoke run examples/hub-and-spoke/*.yaml --from workflowtemplate/hub-orchestrator\n"
      "  hubspoke run hello.yaml -p message=hi -o json");
  run_cmd->add_option("files", run.files, "manifest files (multi-document YAML allowed)")
      ->required()
      ->check(CLI::ExistingFile);
  run_cmd->add_option("--from", run.from, "run a WorkflowTemplate: workflowtemplate/NAME");
  run_cmd->add_option("-p,--parameter", run.params, "workflow parameter name=value (repeatable)");
  run_cmd->add_option("--entrypoint", run.entrypoint, "template to start from");
  run_cmd->add_option("--name", run.name, "workflow name (instead of generateName)");
  run_cmd->add_option("--spokes", run.spokes, "local spokes (default: number of cores)")
      ->check(CLI::Range(1, 4096));
  run_cmd->add_option("-o,--output", run.output, "json | yaml | wide")
      ->check(CLI::IsMember({"json", "yaml", "wide"}));
  run_cmd->add_option("--data", run.data_dir,
                      "state directory (default $XDG_STATE_HOME/hubspoke or "
                      "~/.local/state/hubspoke)");
  run_cmd->add_option("--image-map", run.image_maps,
                      "IMAGE=COMMAND: run containers of IMAGE that give no command with COMMAND");
  run_cmd->add_option("--semaphore", run.semaphores,
                      "NAME/KEY=LIMIT: the limit of the synchronization semaphore whose "
                      "configMapKeyRef is NAME/KEY");
  run_cmd->add_flag("-q,--quiet", run.quiet, "no progress output");

  std::vector<std::string> lint_files;
  CLI::App* lint_cmd =
      app.add_subcommand("lint",
                         "Check manifests and print every problem as file:line:col.\n\nExample:\n"
                         "  hubspoke lint examples/hub-and-spoke/*.yaml");
  lint_cmd->add_option("files", lint_files, "manifest files")->required()->check(CLI::ExistingFile);

  // Client commands: they talk to a hub; list, get and logs read a state directory without one.
  ClientFlags client;
  client.data_dir = DefaultDataDir();
  const std::string hub_footer =
      "\nFinding the hub: --server URL, else $HUBSPOKE_SERVER, else DIR/address, written by a hub "
      "started with `hubspoke hub --data DIR` (DIR: --data, default $XDG_STATE_HOME/hubspoke or "
      "~/.local/state/hubspoke).\nToken: --token, else $HUBSPOKE_TOKEN, else DIR/token when the "
      "address came from DIR.";
  const std::string local_footer =
      hub_footer +
      "\nWhen none of the three names a hub, this command reads the state directory DIR "
      "directly (what `hubspoke run --data DIR` left there).";
  auto add_client = [&](CLI::App* cmd, bool reads_local_state) {
    cmd->add_option("--server", client.server, "hub URL, e.g. http://127.0.0.1:2746");
    cmd->add_option("--token", client.token, "bearer token of the hub");
    cmd->add_option("--data", client.data_dir,
                    reads_local_state
                        ? "state directory of a hub or of earlier runs"
                        : "state directory of a running hub (for its address, token)");
    cmd->add_option("-n,--namespace", client.namespace_, "namespace (default: default)");
    cmd->footer(reads_local_state ? local_footer : hub_footer);
  };
  auto add_output = [](CLI::App* cmd, std::string& output, std::vector<std::string> choices) {
    std::string names;
    for (const std::string& c : choices) names += (names.empty() ? "" : " | ") + c;
    cmd->add_option("-o,--output", output, names)->check(CLI::IsMember(choices));
  };

  SubmitFlags submit;
  CLI::App* submit_cmd = app.add_subcommand(
      "submit",
      "Submit workflows to a hub (like `argo submit`).\n\nExamples:\n"
      "  hubspoke submit hello.yaml -p message=hi --wait\n"
      "  hubspoke submit --from workflowtemplate/hub-orchestrator -p root=$HOME/src --watch\n"
      "  hubspoke submit wf.yaml --generate-name nightly- -l team=infra -o name");
  add_client(submit_cmd, false);
  submit_cmd
      ->add_option("files", submit.files,
                   "Workflow manifests (WorkflowTemplates go in "
                   "with `hubspoke template create`)")
      ->check(CLI::ExistingFile);
  submit_cmd->add_option("--from", submit.from,
                         "submit a stored WorkflowTemplate or CronWorkflow's workflowSpec: "
                         "workflowtemplate/NAME or cronworkflow/NAME");
  submit_cmd->add_option("-p,--parameter", submit.params, "workflow parameter name=value");
  submit_cmd->add_option("--entrypoint", submit.entrypoint, "template to start from");
  submit_cmd->add_option("--name", submit.name, "workflow name");
  submit_cmd->add_option("--generate-name", submit.generate_name, "name prefix, a suffix is added");
  submit_cmd->add_option("-l,--labels", submit.labels, "labels k=v[,k=v]");
  submit_cmd->add_flag("--wait", submit.wait, "wait until it finishes; exit 1 if it failed");
  submit_cmd->add_flag("--watch", submit.watch, "show it live until it finishes; exit 1 if failed");
  submit_cmd->add_flag("--log", submit.log, "print its logs as they come until it finishes");
  add_output(submit_cmd, submit.output, {"name", "json", "yaml", "wide"});

  ListFlags list;
  CLI::App* list_cmd =
      app.add_subcommand("list",
                         "List workflows, newest first.\n\nExamples:\n"
                         "  hubspoke list\n  hubspoke list --running\n"
                         "  hubspoke list --status Failed --prefix spoke- --children\n"
                         "  hubspoke list -l team=infra -o name");
  add_client(list_cmd, true);
  list_cmd->add_flag("--running", list.running, "only running workflows");
  list_cmd->add_flag("--completed", list.completed, "only finished workflows (hub only)");
  list_cmd->add_option("--status", list.status, "only these phases: Succeeded, Failed, ...");
  list_cmd->add_option("--prefix", list.prefix, "only names starting with this");
  list_cmd->add_option("-l,--selector", list.selector,
                       "label selector, e.g. k=v,k2!=v2 (hub only)");
  list_cmd->add_flag("--children", list.children,
                     "also the child workflows created by resource templates");
  add_output(list_cmd, list.output, {"name", "json", "wide"});

  std::string get_name, get_output;
  CLI::App* get_cmd = app.add_subcommand(
      "get",
      "Show a workflow: its node tree and summary (NAME may be @latest on a hub).\n\nExamples:\n"
      "  hubspoke get hub-orchestrator-x7k2p\n  hubspoke get hello -o json\n"
      "  hubspoke get @latest -o mermaid > run.mmd   # a flowchart for Markdown");
  add_client(get_cmd, true);
  get_cmd->add_option("name", get_name, "workflow name")->required();
  add_output(get_cmd, get_output, {"json", "yaml", "wide", "name", "mermaid"});

  std::string summary_name, summary_output;
  CLI::App* summary_cmd = app.add_subcommand(
      "summary",
      "Summarize a run: tasks by phase, fan-out groups, failed tasks with their messages, the\n"
      "slowest tasks and spokes, wall time against task time (NAME may be @latest on a hub).\n"
      "-o json gives a stable JSON document; -o html one self-contained page with a timeline of\n"
      "the tasks on each spoke.\n\nExamples:\n  hubspoke summary hello\n"
      "  hubspoke summary @latest -o html > run.html");
  add_client(summary_cmd, true);
  summary_cmd->add_option("name", summary_name, "workflow name")->required();
  add_output(summary_cmd, summary_output, {"text", "json", "html"});

  LogsFlags logs;
  CLI::App* logs_cmd = app.add_subcommand(
      "logs",
      "Print the logs of a workflow's tasks, each line prefixed by its node.\n\nExamples:\n"
      "  hubspoke logs hello\n  hubspoke logs hello 'say(0:ann)'\n"
      "  hubspoke logs @latest -f --grep error --tail 20");
  add_client(logs_cmd, true);
  logs_cmd->add_option("name", logs.name, "workflow name")->required();
  logs_cmd->add_option("node", logs.node, "only this node (id, name or display name)");
  logs_cmd->add_flag("-f,--follow", logs.follow, "keep printing new lines until it finishes (hub)");
  logs_cmd->add_option("--tail", logs.tail, "only the last N lines of each node (hub)")
      ->check(CLI::NonNegativeNumber);
  logs_cmd->add_option("--grep", logs.grep, "only lines matching this regular expression (hub)");

  std::string watch_name;
  CLI::App* watch_cmd = app.add_subcommand(
      "watch",
      "Show a workflow live until it finishes, then its tree and summary; exit 1 if it failed.\n"
      "\nExample:\n  hubspoke watch @latest");
  add_client(watch_cmd, false);
  watch_cmd->add_option("name", watch_name, "workflow name")->required();

  std::vector<std::string> wait_names;
  CLI::App* wait_cmd = app.add_subcommand(
      "wait",
      "Wait until workflows finish; print each one's phase; exit 1 if one Failed or Errored.\n"
      "\nExample:\n  hubspoke wait hello-x7k2p hello-9fz2q");
  add_client(wait_cmd, false);
  wait_cmd->add_option("names", wait_names, "workflow names")->required();

  std::vector<std::string> delete_names;
  CLI::App* delete_cmd = app.add_subcommand(
      "delete",
      "Delete workflows (a running one is terminated first), their children and logs.\n"
      "\nExample:\n  hubspoke delete hello-x7k2p");
  add_client(delete_cmd, false);
  delete_cmd->add_option("names", delete_names, "workflow names")->required();

  ActionFlags action;
  std::vector<std::pair<CLI::App*, std::string>> action_cmds;
  for (const auto& [verb, what] : std::vector<std::pair<std::string, std::string>>{
           {"stop", "Stop workflows: no new task starts; exit handlers still run."},
           {"terminate", "Terminate workflows: running tasks are killed; no exit handlers."},
           {"suspend", "Suspend workflows: no new task starts until resumed."},
           {"resume", "Resume suspended workflows and their suspend nodes."},
           {"retry", "Retry failed workflows: their failed nodes run again."},
           {"resubmit", "Submit workflows again as new ones, with the same parameters."}}) {
    CLI::App* cmd =
        app.add_subcommand(verb, what + "\n\nExample:\n  hubspoke " + verb + " hello-x7k2p");
    add_client(cmd, false);
    cmd->add_option("names", action.names, "workflow names")->required();
    if (verb == "retry") {
      cmd->add_flag("--restart-successful", action.restart_successful,
                    "run the succeeded nodes again too");
    }
    if (verb == "resume") {
      cmd->add_option("-p,--parameter", action.params,
                      "output parameter of the suspend nodes, name=value");
    }
    action_cmds.push_back({cmd, verb});
  }

  TemplateFlags tmpl;
  CLI::App* template_cmd = app.add_subcommand(
      "template",
      "Manage the WorkflowTemplates stored on a hub.\n\nExamples:\n"
      "  hubspoke template create examples/hub-and-spoke/*.yaml\n"
      "  hubspoke template list\n  hubspoke template get hub-orchestrator -o json\n"
      "  hubspoke template delete hub-orchestrator\n  hubspoke template lint my-template.yaml");
  template_cmd->require_subcommand(1);
  for (const auto& [verb, what, arg] :
       std::vector<std::tuple<std::string, std::string, std::string>>{
           {"create",
            "Store WorkflowTemplates on the hub (an existing name is refused).\n\nExample:\n"
            "  hubspoke template create examples/hub-and-spoke/*.yaml",
            "files"},
           {"list", "List the stored WorkflowTemplates.\n\nExample:\n  hubspoke template list", ""},
           {"get",
            "Print stored WorkflowTemplates (YAML unless -o json).\n\nExample:\n"
            "  hubspoke template get hub-orchestrator -o json",
            "names"},
           {"delete",
            "Delete stored WorkflowTemplates.\n\nExample:\n"
            "  hubspoke template delete hub-orchestrator",
            "names"},
           {"lint",
            "Check manifests on the hub, against the templates it stores.\n\nExample:\n"
            "  hubspoke template lint my-template.yaml",
            "files"}}) {
    CLI::App* cmd = template_cmd->add_subcommand(verb, what);
    add_client(cmd, false);
    if (!arg.empty()) {
      auto* opt =
          cmd->add_option(arg, tmpl.args, arg == "files" ? "manifest files" : "names")->required();
      if (arg == "files") opt->check(CLI::ExistingFile);
    }
    if (verb == "list") add_output(cmd, tmpl.output, {"name", "json"});
    if (verb == "get") add_output(cmd, tmpl.output, {"json", "yaml"});
    cmd->callback([&tmpl, verb = verb] { tmpl.action = verb; });
  }

  CronFlags cron;
  CLI::App* cron_cmd = app.add_subcommand(
      "cron",
      "Manage the CronWorkflows on a hub, which submits a Workflow from each at its scheduled "
      "times.\n\nExamples:\n"
      "  hubspoke cron create nightly.yaml\n  hubspoke cron list\n"
      "  hubspoke cron get nightly -o json\n  hubspoke cron suspend nightly\n"
      "  hubspoke cron resume nightly\n  hubspoke cron delete nightly\n"
      "  hubspoke submit --from cronworkflow/nightly   # one run now");
  cron_cmd->require_subcommand(1);
  for (const auto& [verb, what, arg] :
       std::vector<std::tuple<std::string, std::string, std::string>>{
           {"create",
            "Store the CronWorkflows of FILES on the hub (an existing name is refused).\n\n"
            "Example:\n  hubspoke cron create nightly.yaml",
            "files"},
           {"list",
            "List the CronWorkflows: their last and next runs, schedules, time zones.\n\n"
            "Example:\n  hubspoke cron list",
            ""},
           {"get",
            "Print CronWorkflows with their status (YAML unless -o json).\n\nExample:\n"
            "  hubspoke cron get nightly -o json",
            "names"},
           {"delete",
            "Delete CronWorkflows and the workflows they started (running ones are terminated).\n\n"
            "Example:\n"
            "  hubspoke cron delete nightly",
            "names"},
           {"suspend",
            "Start no more runs until resumed.\n\nExample:\n  hubspoke cron suspend nightly",
            "names"},
           {"resume",
            "Schedule runs again (those missed while suspended are not made up).\n\nExample:\n"
            "  hubspoke cron resume nightly",
            "names"}}) {
    CLI::App* cmd = cron_cmd->add_subcommand(verb, what);
    add_client(cmd, false);
    if (!arg.empty()) {
      auto* opt =
          cmd->add_option(arg, cron.args, arg == "files" ? "manifest files" : "names")->required();
      if (arg == "files") opt->check(CLI::ExistingFile);
    }
    if (verb == "list") add_output(cmd, cron.output, {"name", "json"});
    if (verb == "get") add_output(cmd, cron.output, {"json", "yaml"});
    cmd->callback([&cron, verb = verb] { cron.action = verb; });
  }

  HubFlags hub_flags;
  hub_flags.data_dir = DefaultDataDir();
  hub_flags.version = kVersion;
  CLI::App* hub_cmd = app.add_subcommand(
      "hub",
      "Run a hub with local spokes that serves the REST API (docs/api.md) and the web UI (at /)\n"
      "until SIGINT/SIGTERM, and accepts remote spokes (`hubspoke spoke`, docs/spokes.md) on\n"
      "--spoke-listen.\n"
      "It writes its address to DATA/address, the spokes' to DATA/spoke-address and, unless given\n"
      "--token-file or --auth none, the token clients and spokes must send to DATA/token (mode\n"
      "0600).\n\nExamples:\n"
      "  hubspoke hub\n  hubspoke hub --listen 0.0.0.0:2746 --data /var/lib/hubspoke --spokes 8\n"
      "  hubspoke hub --spoke-listen 0.0.0.0:2747 --spokes 0   # remote spokes only");
  hub_cmd
      ->add_option("--listen", hub_flags.listen, "HOST:PORT to serve on; port 0 picks a free one")
      ->capture_default_str();
  hub_cmd->add_option("--data", hub_flags.data_dir,
                      "state directory (default $XDG_STATE_HOME/hubspoke or "
                      "~/.local/state/hubspoke)");
  hub_cmd
      ->add_option("--spokes", hub_flags.spokes,
                   "local spokes, one task slot each (default: number of cores; 0: none, only "
                   "remote spokes run tasks)")
      ->check(CLI::Range(0, 4096));
  hub_cmd
      ->add_option("--spoke-listen", hub_flags.spoke_listen,
                   "HOST:PORT where remote spokes (`hubspoke spoke`) connect over gRPC; port 0 "
                   "picks a free one (written to DATA/spoke-address)")
      ->capture_default_str();
  hub_cmd
      ->add_option("--spoke-lease", hub_flags.spoke_lease_s,
                   "seconds a remote spoke may be silent before it is lost and its tasks are "
                   "retried elsewhere")
      ->capture_default_str()
      ->check(CLI::Range(1, 3600));
  hub_cmd->add_option("--spoke-tls-cert", hub_flags.spoke_tls_cert,
                      "PEM certificate: spokes connect over TLS (with --spoke-tls-key)");
  hub_cmd->add_option("--spoke-tls-key", hub_flags.spoke_tls_key, "PEM private key");
  hub_cmd->add_option("--spoke-tls-ca", hub_flags.spoke_tls_ca,
                      "PEM CA: spokes must present a certificate it signed");
  CLI::Option* token_file_opt = hub_cmd->add_option(
      "--token-file", hub_flags.token_file, "read the clients' bearer token from this file");
  hub_cmd
      ->add_option("--auth", hub_flags.auth,
                   "token (default) or none: serve without authentication (logs a warning)")
      ->check(CLI::IsMember({"token", "none"}))
      ->excludes(token_file_opt);
  hub_cmd->add_option("--image-map", hub_flags.image_maps,
                      "IMAGE=COMMAND: run containers of IMAGE that give no command with COMMAND");
  hub_cmd->add_option("--semaphore", hub_flags.semaphores,
                      "NAME/KEY=LIMIT: the limit of the synchronization semaphore whose "
                      "configMapKeyRef is NAME/KEY");
  hub_cmd->add_option("--ui", hub_flags.ui_dir,
                      "directory of the built web UI, served at / (default: ui/ next to this "
                      "executable, where scripts/build.sh puts it)");

  SpokeFlags spoke_flags;
  spoke_flags.state_dir = DefaultDataDir();
  spoke_flags.version = kVersion;
  CLI::App* spoke_cmd = app.add_subcommand(
      "spoke",
      "Run a spoke on this machine: join a hub (`hubspoke hub`, its --spoke-listen address) and\n"
      "run its tasks until SIGTERM/SIGINT, which drain it (running tasks finish, then it exits).\n"
      "\nExamples:\n"
      "  hubspoke spoke --hub hub.example:2747 --token-file hub-token --slots 8\n"
      "  hubspoke spoke --hub 10.0.0.5:2747 --name gpu-1 --labels gpu=true,zone=a \\\n"
      "      --tls-ca ca.pem --tls-cert spoke.pem --tls-key spoke-key.pem");
  spoke_cmd->add_option("--hub", spoke_flags.hub, "HOST:PORT of the hub's spoke listener")
      ->capture_default_str();
  spoke_cmd->add_option("--name", spoke_flags.name, "spoke name (default: the host name)");
  spoke_cmd->add_option("--slots", spoke_flags.slots, "tasks at once (default: number of cores)")
      ->check(CLI::Range(1, 4096));
  spoke_cmd->add_option("--labels", spoke_flags.labels,
                        "labels k=v[,k=v] that nodeSelectors match (besides kubernetes.io/os, "
                        "arch and hostname)");
  spoke_cmd->add_option("--token-file", spoke_flags.token_file,
                        "file with the hub's token (default: $HUBSPOKE_TOKEN)");
  spoke_cmd->add_option("--image-map", spoke_flags.image_maps,
                        "IMAGE=COMMAND: run containers of IMAGE that give no command with COMMAND");
  spoke_cmd->add_option("--tls-ca", spoke_flags.tls_ca, "PEM CA that signed the hub's certificate");
  spoke_cmd->add_option("--tls-cert", spoke_flags.tls_cert, "PEM certificate of this spoke");
  spoke_cmd->add_option("--tls-key", spoke_flags.tls_key, "PEM private key of this spoke");
  spoke_cmd->add_option(
      "--work", spoke_flags.work_dir,
      "directory for attempts and logs (default: "
      "$XDG_STATE_HOME/hubspoke/spoke-NAME or ~/.local/state/hubspoke/spoke-NAME)");

  std::string spokes_output;
  CLI::App* spokes_cmd = app.add_subcommand(
      "spokes",
      "List the spokes connected to a hub: name, slots, running tasks, last heartbeat, version,\n"
      "labels.\n\nExample:\n  hubspoke spokes");
  add_client(spokes_cmd, false);
  add_output(spokes_cmd, spokes_output, {"name", "json"});

  CLI::App* version_cmd = app.add_subcommand("version", "Print the version");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? kExitOk : kExitUsage;
  }
  if (const char* level = getenv("HUBSPOKE_LOG"); level && std::string(level) == "debug") {
    SetLogLevel(LogLevel::kDebug);
  }
  if (*run_cmd) return DoRun(run);
  if (*lint_cmd) return DoLint(lint_files);
  if (*submit_cmd) return Submit(client, submit, std::cout, std::cerr);
  if (*list_cmd) return List(client, list, std::cout, std::cerr);
  if (*get_cmd) return Get(client, get_name, get_output, std::cout, std::cerr);
  if (*summary_cmd) return ShowSummary(client, summary_name, summary_output, std::cout, std::cerr);
  if (*logs_cmd) return Logs(client, logs, std::cout, std::cerr);
  if (*watch_cmd) return Watch(client, watch_name, std::cout, std::cerr);
  if (*wait_cmd) return Wait(client, wait_names, std::cout, std::cerr);
  if (*delete_cmd) return Delete(client, delete_names, std::cout, std::cerr);
  for (const auto& [cmd, verb] : action_cmds) {
    if (!*cmd) continue;
    action.action = verb;
    return Act(client, action, std::cout, std::cerr);
  }
  if (*template_cmd) return Templates(client, tmpl, std::cout, std::cerr);
  if (*cron_cmd) return Crons(client, cron, std::cout, std::cerr);
  if (*hub_cmd) return DoHub(hub_flags);
  if (*spoke_cmd) return DoSpoke(spoke_flags);
  if (*spokes_cmd) return Spokes(client, spokes_output, std::cout, std::cerr);
  if (*version_cmd) {
    std::cout << "hubspoke " << kVersion << "\n";
    return kExitOk;
  }
  return kExitUsage;
}

}  // namespace hubspoke::cli
