// SqliteStore: the default Store, one SQLite file in WAL mode. Every Apply is one IMMEDIATE
// transaction over statements prepared once and reused, so a batch of thousands of node rows costs
// one commit. The schema is migrated at open by an ordered list of SQL steps recorded in the `meta`
// table; a file written by a newer hubspoke is refused.
// Checkpoints run on a thread of the store's own, so a commit never waits for the file's sync.
// Thread-safety: all calls are serialized by an internal mutex; several processes may open the same
// file (SQLite's locking, with a busy timeout, orders their transactions).
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>

#include "store/store.h"

struct sqlite3;
struct sqlite3_stmt;

namespace hubspoke::store {

// The schema version this build creates and understands.
inline constexpr int kSqliteSchemaVersion = 4;

class SqliteStore final : public Store {
 public:
  // Opens and migrates; see OpenSqlite.
  static Result<std::unique_ptr<SqliteStore>> Open(const SqliteOptions& options);
  ~SqliteStore() override;
  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  // Deletes first, then writes workflows, then nodes, so a batch may replace a workflow or create
  // one and its nodes together. A node whose workflow is in neither the batch nor the database
  // fails the batch.
  Status Apply(const Batch& batch) override;
  // Ordered by created_at descending, then name. `only_unfinished` keeps workflows whose phase is
  // not Succeeded, Failed or Error.
  Result<std::vector<WorkflowRecord>> ListWorkflows(const ListOptions& options) override;
  Result<std::optional<WorkflowRecord>> GetWorkflow(const std::string& name) override;
  // In the order the nodes were first written; an upsert keeps a node's place.
  Result<std::vector<NodeRecord>> ListNodes(const std::string& workflow) override;
  // In the order they were appended.
  Result<std::vector<EventRecord>> ListEvents() override;
  Status PutTemplate(const TemplateRecord& tmpl) override;
  // NotFound when there is no such template.
  Status DeleteTemplate(const std::string& name) override;
  // Ordered by name.
  Result<std::vector<TemplateRecord>> ListTemplates() override;
  Result<std::vector<MemoRecord>> ListMemos() override;
  Status PutCronWorkflow(const CronWorkflowRecord& cron) override;
  // NotFound when there is no such cron workflow.
  Status DeleteCronWorkflow(const std::string& name) override;
  // Ordered by name.
  Result<std::vector<CronWorkflowRecord>> ListCronWorkflows() override;
  int SchemaVersion() const override { return schema_version_; }

 private:
  SqliteStore(sqlite3* db, std::string path);
  Status Configure(const SqliteOptions& options);
  void StartCheckpointer(const SqliteOptions& options);
  Status Migrate();
  Status ApplyLocked(const Batch& batch);
  Status Exec(const char* sql, std::string_view what);
  // Runs `sql` (one statement without results) through its cached prepared statement: for those
  // every batch runs, which sqlite3_exec would parse each time.
  Status Run(const char* sql, std::string_view what);
  // The cached prepared statement for `sql`, preparing it on first use.
  Result<sqlite3_stmt*> Prepare(const std::string& sql);
  // "database PATH: WHAT: <SQLite's message for the last failure>".
  Error SqlError(std::string_view what) const;

  std::mutex mu_;
  sqlite3* db_;
  const std::string path_;
  int schema_version_ = 0;
  std::unordered_map<std::string, sqlite3_stmt*> statements_;

  // WAL pages after which the checkpointer thread copies the WAL back into the database.
  static constexpr int kCheckpointPages = 1000;
  std::mutex checkpoint_mu_;
  std::condition_variable checkpoint_cv_;
  bool checkpoint_wanted_ = false;
  bool closing_ = false;
  std::thread checkpointer_;
};

}  // namespace hubspoke::store
