// Durable state behind the hub: workflows, their nodes, WorkflowTemplates, and task attempts.
// The engine's changes of one tick are applied as one Batch in one transaction, so a fan-out of
// 100,000 nodes costs a few hundred commits, not 100,000 fsyncs. Stored rows carry JSON the hub
// produced; the store does not interpret it beyond the indexed columns. The schema is versioned
// and migrated at open.
// Thread-safety: a Store may be called from several threads; calls are serialized internally.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"

namespace hubspoke::store {

struct WorkflowRecord {
  std::string name;  // unique
  std::string namespace_;
  std::string phase;       // "", Pending, Running, Succeeded, Failed, Error
  std::string parent;      // the workflow whose resource node created this one, or ""
  int64_t created_at = 0;  // microseconds since the epoch
  int64_t finished_at = 0;
  std::string labels_json;  // {"k":"v"}
  std::string body_json;    // the workflow without status.nodes (metadata, spec, status)
};

struct NodeRecord {
  std::string workflow;
  std::string id;
  std::string body_json;  // the node status as Argo shapes it
};

struct TemplateRecord {
  std::string name;
  std::string body_json;
};

// One input the hub's engine applied (JSON the hub produced), kept until the workflow tree it
// belongs to (`root`: the top-level workflow) has finished, so a restarted hub can replay it.
struct EventRecord {
  int64_t seq = 0;  // assigned by the store, increasing
  std::string root;
  std::string body_json;
};

// Outputs a memoized node left under a key of a cache (a template's `memoize`).
struct MemoRecord {
  std::string cache;
  std::string key;
  std::string body_json;
};

// A CronWorkflow: its manifest and the hub's scheduling status, as JSON the hub produced.
struct CronWorkflowRecord {
  std::string name;
  std::string body_json;
};

struct Batch {
  std::vector<WorkflowRecord> workflows;  // upserted by name
  std::vector<NodeRecord> nodes;          // upserted by (workflow, id)
  // More nodes to upsert, made one at a time while the transaction runs (source(i) for i below
  // node_count), so a batch that creates a 100,000-item fan-out never holds all their JSON.
  size_t node_count = 0;
  std::function<NodeRecord(size_t)> node_source;
  std::vector<std::string> deleted_workflows;  // with their nodes
  std::vector<EventRecord> events;             // appended (seq ignored)
  std::vector<std::string> deleted_event_roots;
  std::vector<MemoRecord> memos;  // upserted by (cache, key)
  bool empty() const {
    return workflows.empty() && nodes.empty() && node_count == 0 && deleted_workflows.empty() &&
           events.empty() && deleted_event_roots.empty() && memos.empty();
  }
};

struct ListOptions {
  std::string phase;        // filter; "" = any
  std::string name_prefix;  // filter; "" = any
  std::string parent;       // filter on parent; "" = any
  bool only_unfinished = false;
  int limit = 0;  // 0 = all
};

class Store {
 public:
  virtual ~Store() = default;
  // Applies every change in one transaction; either all of it is durable or none.
  virtual Status Apply(const Batch& batch) = 0;
  virtual Result<std::vector<WorkflowRecord>> ListWorkflows(const ListOptions& options) = 0;
  virtual Result<std::optional<WorkflowRecord>> GetWorkflow(const std::string& name) = 0;
  virtual Result<std::vector<NodeRecord>> ListNodes(const std::string& workflow) = 0;
  virtual Result<std::vector<EventRecord>> ListEvents() = 0;
  virtual Status PutTemplate(const TemplateRecord& tmpl) = 0;
  virtual Status DeleteTemplate(const std::string& name) = 0;
  virtual Result<std::vector<TemplateRecord>> ListTemplates() = 0;
  virtual Result<std::vector<MemoRecord>> ListMemos() = 0;
  virtual Status PutCronWorkflow(const CronWorkflowRecord& cron) = 0;
  virtual Status DeleteCronWorkflow(const std::string& name) = 0;
  virtual Result<std::vector<CronWorkflowRecord>> ListCronWorkflows() = 0;
  virtual int SchemaVersion() const = 0;
};

struct SqliteOptions {
  std::string path;               // database file; ":memory:" for tests that need no file
  bool synchronous_full = false;  // default NORMAL in WAL mode: durable at each commit's WAL write
  int busy_timeout_ms = 5000;     // how long a call waits for another process's write lock
};

// Opens (creating if needed) an SQLite database in WAL mode and migrates it to the current schema.
// Fails with a clear message when the file is from a newer hubspoke.
Result<std::unique_ptr<Store>> OpenSqlite(const SqliteOptions& options);

}  // namespace hubspoke::store
