// `hubspoke list`, `get` and `logs` against a state directory: what a finished (or running)
// `hubspoke run` left in its SQLite store and log files, read without a hub.
// Thread-safety: call from one thread.
#pragma once

#include <ostream>
#include <string>

namespace hubspoke::cli {

struct StoreQuery {
  std::string data_dir;
  std::string output;          // "", "json", "yaml", "wide", "name"
  std::string phase;           // list: only this phase
  std::string prefix;          // list: names starting with this
  bool with_children = false;  // list: also child workflows created by resource templates
};

// Each returns the process exit code (0 ok, 1 not found or unreadable, 2 usage).
int ListWorkflows(const StoreQuery& query, std::ostream& out, std::ostream& err);
int GetWorkflow(const StoreQuery& query, const std::string& name, std::ostream& out,
                std::ostream& err);
// `hubspoke summary`: the summary of `name` and its child workflows; query.output is "" (text),
// "json" or "html" (see summary.h).
int SummarizeWorkflow(const StoreQuery& query, const std::string& name, std::ostream& out,
                      std::ostream& err);
// Prints the logs of every task node of `name` (or of the node whose id, name or display name
// is `node`), each line prefixed with the node's display name.
int PrintLogs(const StoreQuery& query, const std::string& name, const std::string& node,
              std::ostream& out, std::ostream& err);

}  // namespace hubspoke::cli
