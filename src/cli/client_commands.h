// The client commands of `hubspoke`, shaped like the `argo` CLI: they drive a running hub through
// its REST API (see client.h for how the hub and token are found). `list`, `get` and `logs` read
// a local state directory instead when no hub is named (no --server, no $HUBSPOKE_SERVER and no
// DIR/address), so they keep working after a plain `hubspoke run`.
// Each function prints its results on `out`, errors on `err` (one line per error) and returns the
// process exit code: 0 ok, 1 a workflow ended Failed/Error (--wait, wait, watch) or the hub
// refused or could not be reached, 2 a usage or manifest error found before asking the hub.
// Thread-safety: call from one thread.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace hubspoke::cli {

// How to reach the hub: --server, --token, --data and --namespace.
struct ClientFlags {
  std::string server;
  std::string token;
  std::string data_dir;  // where a hub's address/token files are; the local state for list/get/logs
  std::string namespace_ = "default";
};

struct SubmitFlags {
  std::vector<std::string> files;
  std::string from;                 // workflowtemplate/NAME
  std::vector<std::string> params;  // name=value
  std::string entrypoint;
  std::string name;
  std::string generate_name;
  std::vector<std::string> labels;  // k=v or k=v,k2=v2
  bool wait = false;
  bool watch = false;
  bool log = false;
  std::string output;  // "", name, json, yaml, wide
};

struct ListFlags {
  bool running = false;
  bool completed = false;
  std::vector<std::string> status;  // phases, each may be comma-separated
  std::string prefix;
  std::string selector;  // -l: a label selector
  bool children = false;
  std::string output;  // "", name, json, wide
};

struct LogsFlags {
  std::string name;
  std::string node;
  bool follow = false;
  int tail = -1;  // -1: every line
  std::string grep;
};

// stop, terminate, suspend, resume, retry, resubmit.
struct ActionFlags {
  std::string action;
  std::vector<std::string> names;
  bool restart_successful = false;  // retry
  std::vector<std::string> params;  // resume: outputs of the suspend nodes, name=value
};

struct TemplateFlags {
  std::string action;             // create, list, get, delete, lint
  std::vector<std::string> args;  // files (create, lint) or names (get, delete)
  std::string output;             // list: name, json; get: json, yaml
};

struct CronFlags {
  std::string action;             // create, list, get, delete, suspend, resume
  std::vector<std::string> args;  // files (create) or names
  std::string output;             // list: name, json; get: json, yaml
};

int Submit(const ClientFlags& client, const SubmitFlags& flags, std::ostream& out,
           std::ostream& err);
int List(const ClientFlags& client, const ListFlags& flags, std::ostream& out, std::ostream& err);
// `output`: "", json, yaml, wide, name.
int Get(const ClientFlags& client, const std::string& name, const std::string& output,
        std::ostream& out, std::ostream& err);
int Logs(const ClientFlags& client, const LogsFlags& flags, std::ostream& out, std::ostream& err);
// `hubspoke summary`: the run's summary with its child workflows; `output`: "" (text), json, html
// (see summary.h).
int ShowSummary(const ClientFlags& client, const std::string& name, const std::string& output,
                std::ostream& out, std::ostream& err);
// Follows a workflow until it finishes: a live tree when `out` is a terminal, a line per change
// otherwise; then the tree and summary.
int Watch(const ClientFlags& client, const std::string& name, std::ostream& out, std::ostream& err);
int Wait(const ClientFlags& client, const std::vector<std::string>& names, std::ostream& out,
         std::ostream& err);
int Delete(const ClientFlags& client, const std::vector<std::string>& names, std::ostream& out,
           std::ostream& err);
int Act(const ClientFlags& client, const ActionFlags& flags, std::ostream& out, std::ostream& err);
int Templates(const ClientFlags& client, const TemplateFlags& flags, std::ostream& out,
              std::ostream& err);
// `hubspoke cron ...`: CronWorkflows on a hub.
int Crons(const ClientFlags& client, const CronFlags& flags, std::ostream& out, std::ostream& err);

// `hubspoke spokes`: the spokes connected to the hub (GET /api/v1/spokes); `output`: "", json,
// name.
int Spokes(const ClientFlags& client, const std::string& output, std::ostream& out,
           std::ostream& err);

}  // namespace hubspoke::cli
