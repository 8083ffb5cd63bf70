#include "store/sqlite_store.h"

#include <sqlite3.h>

#include <cstdint>
#include <iterator>
#include <string>
#include <utility>

namespace hubspoke::store {
namespace {

// Migrations: step i takes the schema from version i to i + 1. Append only; never edit a step
// that has shipped.
constexpr const char* kMigrations[] = {
    // 0 -> 1: workflows, their nodes, WorkflowTemplates.
    R"sql(
CREATE TABLE workflows (
  name TEXT PRIMARY KEY NOT NULL CHECK (name <> ''),
  namespace TEXT NOT NULL DEFAULT '',
  phase TEXT NOT NULL DEFAULT '',
  parent TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL DEFAULT 0,
  finished_at INTEGER NOT NULL DEFAULT 0,
  labels_json TEXT NOT NULL DEFAULT '{}',
  body_json TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX workflows_phase ON workflows (phase);
CREATE INDEX workflows_parent ON workflows (parent);
CREATE INDEX workflows_created ON workflows (created_at DESC, name);
CREATE TABLE nodes (
  workflow TEXT NOT NULL REFERENCES workflows (name) ON DELETE CASCADE,
  id TEXT NOT NULL CHECK (id <> ''),
  body_json TEXT NOT NULL,
  PRIMARY KEY (workflow, id)
);
CREATE TABLE templates (
  name TEXT PRIMARY KEY NOT NULL CHECK (name <> ''),
  body_json TEXT NOT NULL
);
)sql",
    // 1 -> 2: the hub's event log, replayed after a restart.
    R"sql(
CREATE TABLE events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  root TEXT NOT NULL,
  body_json TEXT NOT NULL
);
CREATE INDEX events_root ON events (root);
)sql",
    // 2 -> 3: memoize caches.
    R"sql(
CREATE TABLE memos (
  cache TEXT NOT NULL,
  key TEXT NOT NULL,
  body_json TEXT NOT NULL,
  PRIMARY KEY (cache, key)
);
)sql",
    // 3 -> 4: CronWorkflows (manifest and status), scheduled by the hub.
    R"sql(
CREATE TABLE cron_workflows (
  name TEXT PRIMARY KEY NOT NULL CHECK (name <> ''),
  body_json TEXT NOT NULL
);
)sql",
};
static_assert(std::size(kMigrations) == kSqliteSchemaVersion);

constexpr const char* kUpsertWorkflow = R"sql(
INSERT INTO workflows (name, namespace, phase, parent, created_at, finished_at, labels_json,
                       body_json)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
ON CONFLICT (name) DO UPDATE SET
  namespace = excluded.namespace, phase = excluded.phase, parent = excluded.parent,
  created_at = excluded.created_at, finished_at = excluded.finished_at,
  labels_json = excluded.labels_json, body_json = excluded.body_json)sql";
constexpr const char* kUpsertNode = R"sql(
INSERT INTO nodes (workflow, id, body_json) VALUES (?1, ?2, ?3)
ON CONFLICT (workflow, id) DO UPDATE SET body_json = excluded.body_json)sql";
constexpr const char* kDeleteWorkflow = "DELETE FROM workflows WHERE name = ?1";
constexpr const char* kWorkflowColumns =
    "SELECT name, namespace, phase, parent, created_at, finished_at, labels_json, body_json "
    "FROM workflows";
constexpr const char* kListNodes =
    "SELECT workflow, id, body_json FROM nodes WHERE workflow = ?1 ORDER BY rowid";
constexpr const char* kPutTemplate = R"sql(
INSERT INTO templates (name, body_json) VALUES (?1, ?2)
ON CONFLICT (name) DO UPDATE SET body_json = excluded.body_json)sql";
constexpr const char* kUpsertMemo = R"sql(
INSERT INTO memos (cache, key, body_json) VALUES (?1, ?2, ?3)
ON CONFLICT (cache, key) DO UPDATE SET body_json = excluded.body_json)sql";
constexpr const char* kDeleteTemplate = "DELETE FROM templates WHERE name = ?1";
constexpr const char* kListTemplates = "SELECT name, body_json FROM templates ORDER BY name";
constexpr const char* kPutCron = R"sql(
INSERT INTO cron_workflows (name, body_json) VALUES (?1, ?2)
ON CONFLICT (name) DO UPDATE SET body_json = excluded.body_json)sql";
constexpr const char* kDeleteCron = "DELETE FROM cron_workflows WHERE name = ?1";
constexpr const char* kListCrons = "SELECT name, body_json FROM cron_workflows ORDER BY name";

int BindOne(sqlite3_stmt* stmt, int index, std::string_view value) {
  // SQLITE_STATIC: every value outlives the step that reads it.
  return sqlite3_bind_text64(stmt, index, value.data(), value.size(), SQLITE_STATIC, SQLITE_UTF8);
}
int BindOne(sqlite3_stmt* stmt, int index, int64_t value) {
  return sqlite3_bind_int64(stmt, index, value);
}

// Binds the values to ?1, ?2, ... in order; returns the first failure's code.
template <typename... Values>
int BindAll(sqlite3_stmt* stmt, const Values&... values) {
  int index = 0;
  int rc = SQLITE_OK;
  ((rc = rc == SQLITE_OK ? BindOne(stmt, ++index, values) : rc), ...);
  return rc;
}

// Returns a statement to its initial state when the scope ends, whatever path leaves it.
class ResetOnExit {
 public:
  explicit ResetOnExit(sqlite3_stmt* stmt) : stmt_(stmt) {}
  ~ResetOnExit() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  ResetOnExit(const ResetOnExit&) = delete;
  ResetOnExit& operator=(const ResetOnExit&) = delete;

 private:
  sqlite3_stmt* stmt_;
};

std::string ColumnText(sqlite3_stmt* stmt, int column) {
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, column));
  return text ? std::string(text, sqlite3_column_bytes(stmt, column)) : std::string();
}

WorkflowRecord ReadWorkflow(sqlite3_stmt* stmt) {
  WorkflowRecord w;
  w.name = ColumnText(stmt, 0);
  w.namespace_ = ColumnText(stmt, 1);
  w.phase = ColumnText(stmt, 2);
  w.parent = ColumnText(stmt, 3);
  w.created_at = sqlite3_column_int64(stmt, 4);
  w.finished_at = sqlite3_column_int64(stmt, 5);
  w.labels_json = ColumnText(stmt, 6);
  w.body_json = ColumnText(stmt, 7);
  return w;
}

}  // namespace

Result<std::unique_ptr<Store>> OpenSqlite(const SqliteOptions& options) {
  auto store = SqliteStore::Open(options);
  if (!store) return Fail(store.error());
  return std::unique_ptr<Store>(std::move(*store));
}

Result<std::unique_ptr<SqliteStore>> SqliteStore::Open(const SqliteOptions& options) {
  sqlite3* db = nullptr;
  // NOMUTEX: the store's own mutex serializes every use of the connection.
  int rc =
      sqlite3_open_v2(options.path.c_str(), &db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string message = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    return Fail(IoError("database " + options.path + ": cannot open: " + message));
  }
  std::unique_ptr<SqliteStore> store(new SqliteStore(db, options.path));
  if (Status s = store->Configure(options); !s) return Fail(s.error());
  if (Status s = store->Migrate(); !s) return Fail(s.error());
  return store;
}

SqliteStore::SqliteStore(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}

SqliteStore::~SqliteStore() {
  if (checkpointer_.joinable()) {
    {
      std::lock_guard lock(checkpoint_mu_);
      closing_ = true;
    }
    checkpoint_cv_.notify_one();
    checkpointer_.join();
  }
  for (auto& [sql, stmt] : statements_) sqlite3_finalize(stmt);
  sqlite3_close(db_);
}

Error SqliteStore::SqlError(std::string_view what) const {
  std::string message = "database " + path_ + ": " + std::string(what) + ": ";
  int code = sqlite3_errcode(db_);
  if (code == SQLITE_NOTADB || code == SQLITE_CORRUPT) {
    message += "the file is not an SQLite database or is corrupt (";
    message += sqlite3_errmsg(db_);
    message += ")";
  } else {
    message += sqlite3_errmsg(db_);
  }
  ErrorCode error_code =
      code == SQLITE_BUSY || code == SQLITE_LOCKED ? ErrorCode::kUnavailable : ErrorCode::kIo;
  return Error{error_code, std::move(message), {}};
}

Status SqliteStore::Exec(const char* sql, std::string_view what) {
  if (sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) != SQLITE_OK) return SqlError(what);
  return {};
}

Status SqliteStore::Run(const char* sql, std::string_view what) {
  auto stmt = Prepare(sql);
  if (!stmt) return stmt.error();
  int rc = sqlite3_step(*stmt);
  sqlite3_reset(*stmt);
  if (rc != SQLITE_DONE) return SqlError(what);
  return {};
}

Result<sqlite3_stmt*> SqliteStore::Prepare(const std::string& sql) {
  if (auto it = statements_.find(sql); it != statements_.end()) return it->second;
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v3(db_, sql.c_str(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT,
                         &stmt, nullptr) != SQLITE_OK) {
    return Fail(SqlError("prepare statement"));
  }
  statements_.emplace(sql, stmt);
  return stmt;
}

Status SqliteStore::Configure(const SqliteOptions& options) {
  sqlite3_busy_timeout(db_, options.busy_timeout_ms);
  // The first statement reads the header and schema: a file that is not SQLite fails here.
  if (Status s = Exec("SELECT count(*) FROM sqlite_schema", "read database"); !s) return s;
  auto journal = Prepare("PRAGMA journal_mode = WAL");
  if (!journal) return journal.error();
  std::string mode;
  {
    ResetOnExit reset(*journal);
    if (sqlite3_step(*journal) != SQLITE_ROW) return SqlError("enable WAL mode");
    mode = ColumnText(*journal, 0);
  }
  if (mode != "wal" && mode != "memory") {
    return IoError("database " + path_ + ": cannot enable WAL mode (journal mode is " + mode + ")");
  }
  if (Status s = Exec(
          options.synchronous_full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL",
          "set synchronous");
      !s) {
    return s;
  }
  if (Status s = Exec("PRAGMA foreign_keys = ON", "enable foreign keys"); !s) return s;
  if (mode == "wal") StartCheckpointer(options);
  return {};
}

// Commits append to the WAL; copying it back into the database (a checkpoint) syncs the file,
// which on a disk costs milliseconds. The connection that commits never checkpoints itself: a
// thread with a connection of its own does, without blocking writers, once the WAL has grown.
void SqliteStore::StartCheckpointer(const SqliteOptions& options) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path_.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr) !=
      SQLITE_OK) {
    sqlite3_close(db);
    return;  // the committing connection keeps checkpointing itself
  }
  sqlite3_busy_timeout(db, options.busy_timeout_ms);
  sqlite3_exec(db_, "PRAGMA wal_autocheckpoint = 0", nullptr, nullptr, nullptr);
  sqlite3_wal_hook(
      db_,
      [](void* self, sqlite3*, const char*, int pages) {
        auto* store = static_cast<SqliteStore*>(self);
        if (pages >= kCheckpointPages) {
          {
            std::lock_guard lock(store->checkpoint_mu_);
            store->checkpoint_wanted_ = true;
          }
          store->checkpoint_cv_.notify_one();
        }
        return SQLITE_OK;
      },
      this);
  checkpointer_ = std::thread([this, db] {
    std::unique_lock lock(checkpoint_mu_);
    for (;;) {
      checkpoint_cv_.wait(lock, [&] { return checkpoint_wanted_ || closing_; });
      if (closing_) break;
      checkpoint_wanted_ = false;
      lock.unlock();
      sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
      lock.lock();
    }
    sqlite3_close(db);
  });
}

Status SqliteStore::Migrate() {
  if (Status s = Exec("BEGIN IMMEDIATE", "begin migration"); !s) return s;
  Status s = [&]() -> Status {
    if (Status s = Exec("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value ANY)",
                        "create meta table");
        !s) {
      return s;
    }
    auto select = Prepare("SELECT value FROM meta WHERE key = 'schema_version'");
    if (!select) return select.error();
    int version = 0;
    {
      ResetOnExit reset(*select);
      int rc = sqlite3_step(*select);
      if (rc == SQLITE_ROW) {
        if (sqlite3_column_type(*select, 0) != SQLITE_INTEGER) {
          return IoError("database " + path_ + ": meta.schema_version is '" +
                         ColumnText(*select, 0) + "', not a number");
        }
        version = sqlite3_column_int(*select, 0);
      } else if (rc != SQLITE_DONE) {
        return SqlError("read schema version");
      }
    }
    if (version > kSqliteSchemaVersion) {
      return Error{ErrorCode::kFailedPrecondition,
                   "database " + path_ + " has schema version " + std::to_string(version) +
                       "; this hubspoke supports up to " + std::to_string(kSqliteSchemaVersion) +
                       ": upgrade hubspoke",
                   {}};
    }
    for (int v = version; v < kSqliteSchemaVersion; ++v) {
      if (Status s = Exec(kMigrations[v], "migrate schema from version " + std::to_string(v) +
                                              " to " + std::to_string(v + 1));
          !s) {
        return s;
      }
    }
    if (version < kSqliteSchemaVersion) {
      auto update = Prepare(
          "INSERT INTO meta (key, value) VALUES ('schema_version', ?1) "
          "ON CONFLICT (key) DO UPDATE SET value = excluded.value");
      if (!update) return update.error();
      ResetOnExit reset(*update);
      if (BindAll(*update, int64_t{kSqliteSchemaVersion}) != SQLITE_OK ||
          sqlite3_step(*update) != SQLITE_DONE) {
        return SqlError("record schema version");
      }
    }
    schema_version_ = kSqliteSchemaVersion;
    return {};
  }();
  if (!s) {
    if (!sqlite3_get_autocommit(db_)) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    return s;
  }
  if (Status commit = Exec("COMMIT", "commit migration"); !commit) {
    if (!sqlite3_get_autocommit(db_)) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    return commit;
  }
  return {};
}

Status SqliteStore::Apply(const Batch& batch) {
  if (batch.empty()) return {};
  std::lock_guard lock(mu_);
  if (Status s = Run("BEGIN IMMEDIATE", "begin batch"); !s) return s;
  Status s = ApplyLocked(batch);
  if (s) s = Run("COMMIT", "commit batch");
  // A failed statement may have ended the transaction itself (SQLITE_FULL, SQLITE_IOERR).
  if (!s && !sqlite3_get_autocommit(db_)) {
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }
  return s;
}

Status SqliteStore::ApplyLocked(const Batch& batch) {
  if (!batch.deleted_workflows.empty()) {
    auto stmt = Prepare(kDeleteWorkflow);
    if (!stmt) return stmt.error();
    for (const std::string& name : batch.deleted_workflows) {
      ResetOnExit reset(*stmt);
      if (BindAll(*stmt, name) != SQLITE_OK || sqlite3_step(*stmt) != SQLITE_DONE) {
        return SqlError("apply batch: delete workflow '" + name + "'");
      }
    }
  }
  if (!batch.events.empty()) {
    auto stmt = Prepare("INSERT INTO events (root, body_json) VALUES (?1, ?2)");
    if (!stmt) return stmt.error();
    for (const EventRecord& e : batch.events) {
      ResetOnExit reset(*stmt);
      if (BindAll(*stmt, e.root, e.body_json) != SQLITE_OK || sqlite3_step(*stmt) != SQLITE_DONE) {
        return SqlError("apply batch: append event of '" + e.root + "'");
      }
    }
  }
  if (!batch.deleted_event_roots.empty()) {
    auto stmt = Prepare("DELETE FROM events WHERE root = ?1");
    if (!stmt) return stmt.error();
    for (const std::string& root : batch.deleted_event_roots) {
      ResetOnExit reset(*stmt);
      if (BindAll(*stmt, root) != SQLITE_OK || sqlite3_step(*stmt) != SQLITE_DONE) {
        return SqlError("apply batch: drop events of '" + root + "'");
      }
    }
  }
  if (!batch.workflows.empty()) {
    auto stmt = Prepare(kUpsertWorkflow);
    if (!stmt) return stmt.error();
    for (const WorkflowRecord& w : batch.workflows) {
      ResetOnExit reset(*stmt);
      if (BindAll(*stmt, w.name, w.namespace_, w.phase, w.parent, w.created_at, w.finished_at,
                  w.labels_json, w.body_json) != SQLITE_OK ||
          sqlite3_step(*stmt) != SQLITE_DONE) {
        return SqlError("apply batch: upsert workflow '" + w.name + "'");
      }
    }
  }
  if (!batch.memos.empty()) {
    auto stmt = Prepare(kUpsertMemo);
    if (!stmt) return stmt.error();
    for (const MemoRecord& m : batch.memos) {
      ResetOnExit reset(*stmt);
      if (BindAll(*stmt, m.cache, m.key, m.body_json) != SQLITE_OK ||
          sqlite3_step(*stmt) != SQLITE_DONE) {
        return SqlError("apply batch: upsert memo '" + m.cache + "/" + m.key + "'");
      }
    }
  }
  if (!batch.nodes.empty() || batch.node_count > 0) {
    auto stmt = Prepare(kUpsertNode);
    if (!stmt) return stmt.error();
    auto upsert = [&](const NodeRecord& n) -> Status {
      ResetOnExit reset(*stmt);
      if (BindAll(*stmt, n.workflow, n.id, n.body_json) != SQLITE_OK ||
          sqlite3_step(*stmt) != SQLITE_DONE) {
        return SqlError("apply batch: upsert node '" + n.workflow + "/" + n.id + "'");
      }
      return {};
    };
    for (const NodeRecord& n : batch.nodes) {
      if (Status s = upsert(n); !s) return s;
    }
    for (size_t i = 0; i < batch.node_count; ++i) {
      if (Status s = upsert(batch.node_source(i)); !s) return s;
    }
  }
  return {};
}

Result<std::vector<WorkflowRecord>> SqliteStore::ListWorkflows(const ListOptions& options) {
  std::string sql = kWorkflowColumns;
  sql += " WHERE 1";
  if (!options.phase.empty()) sql += " AND phase = ?1";
  if (!options.name_prefix.empty()) sql += " AND substr(name, 1, length(?2)) = ?2";
  if (!options.parent.empty()) sql += " AND parent = ?3";
  if (options.only_unfinished) sql += " AND phase NOT IN ('Succeeded', 'Failed', 'Error')";
  sql += " ORDER BY created_at DESC, name LIMIT ?4";

  std::lock_guard lock(mu_);
  auto stmt = Prepare(sql);
  if (!stmt) return Fail(stmt.error());
  ResetOnExit reset(*stmt);
  int rc = BindOne(*stmt, 4, int64_t{options.limit > 0 ? options.limit : -1});
  if (rc == SQLITE_OK && !options.phase.empty()) rc = BindOne(*stmt, 1, options.phase);
  if (rc == SQLITE_OK && !options.name_prefix.empty()) rc = BindOne(*stmt, 2, options.name_prefix);
  if (rc == SQLITE_OK && !options.parent.empty()) rc = BindOne(*stmt, 3, options.parent);
  if (rc != SQLITE_OK) return Fail(SqlError("list workflows"));
  std::vector<WorkflowRecord> workflows;
  while ((rc = sqlite3_step(*stmt)) == SQLITE_ROW) workflows.push_back(ReadWorkflow(*stmt));
  if (rc != SQLITE_DONE) return Fail(SqlError("list workflows"));
  return workflows;
}

Result<std::optional<WorkflowRecord>> SqliteStore::GetWorkflow(const std::string& name) {
  std::lock_guard lock(mu_);
  auto stmt = Prepare(std::string(kWorkflowColumns) + " WHERE name = ?1");
  if (!stmt) return Fail(stmt.error());
  ResetOnExit reset(*stmt);
  if (BindAll(*stmt, name) != SQLITE_OK) return Fail(SqlError("get workflow '" + name + "'"));
  int rc = sqlite3_step(*stmt);
  if (rc == SQLITE_ROW) return std::optional<WorkflowRecord>(ReadWorkflow(*stmt));
  if (rc != SQLITE_DONE) return Fail(SqlError("get workflow '" + name + "'"));
  return std::optional<WorkflowRecord>();
}

Result<std::vector<NodeRecord>> SqliteStore::ListNodes(const std::string& workflow) {
  std::lock_guard lock(mu_);
  auto stmt = Prepare(kListNodes);
  if (!stmt) return Fail(stmt.error());
  ResetOnExit reset(*stmt);
  if (BindAll(*stmt, workflow) != SQLITE_OK) {
    return Fail(SqlError("list nodes of '" + workflow + "'"));
  }
  std::vector<NodeRecord> nodes;
  int rc;
  while ((rc = sqlite3_step(*stmt)) == SQLITE_ROW) {
    nodes.push_back(NodeRecord{ColumnText(*stmt, 0), ColumnText(*stmt, 1), ColumnText(*stmt, 2)});
  }
  if (rc != SQLITE_DONE) return Fail(SqlError("list nodes of '" + workflow + "'"));
  return nodes;
}

Result<std::vector<EventRecord>> SqliteStore::ListEvents() {
  std::lock_guard lock(mu_);
  auto stmt = Prepare("SELECT seq, root, body_json FROM events ORDER BY seq");
  if (!stmt) return Fail(stmt.error());
  ResetOnExit reset(*stmt);
  std::vector<EventRecord> events;
  int rc;
  while ((rc = sqlite3_step(*stmt)) == SQLITE_ROW) {
    events.push_back(
        EventRecord{sqlite3_column_int64(*stmt, 0), ColumnText(*stmt, 1), ColumnText(*stmt, 2)});
  }
  if (rc != SQLITE_DONE) return Fail(SqlError("list events"));
  return events;
}

Status SqliteStore::PutTemplate(const TemplateRecord& tmpl) {
  std::lock_guard lock(mu_);
  auto stmt = Prepare(kPutTemplate);
  if (!stmt) return stmt.error();
  ResetOnExit reset(*stmt);
  if (BindAll(*stmt, tmpl.name, tmpl.body_json) != SQLITE_OK ||
      sqlite3_step(*stmt) != SQLITE_DONE) {
    return SqlError("put template '" + tmpl.name + "'");
  }
  return {};
}

Status SqliteStore::DeleteTemplate(const std::string& name) {
  std::lock_guard lock(mu_);
  auto stmt = Prepare(kDeleteTemplate);
  if (!stmt) return stmt.error();
  ResetOnExit reset(*stmt);
  if (BindAll(*stmt, name) != SQLITE_OK || sqlite3_step(*stmt) != SQLITE_DONE) {
    return SqlError("delete template '" + name + "'");
  }
  if (sqlite3_changes(db_) == 0) return NotFound("workflow template '" + name + "' not found");
  return {};
}

Result<std::vector<TemplateRecord>> SqliteStore::ListTemplates() {
  std::lock_guard lock(mu_);
  auto stmt = Prepare(kListTemplates);
  if (!stmt) return Fail(stmt.error());
  ResetOnExit reset(*stmt);
  std::vector<TemplateRecord> templates;
  int rc;
  while ((rc = sqlite3_step(*stmt)) == SQLITE_ROW) {
    templates.push_back(TemplateRecord{ColumnText(*stmt, 0), ColumnText(*stmt, 1)});
  }
  if (rc != SQLITE_DONE) return Fail(SqlError("list templates"));
  return templates;
}

Status SqliteStore::PutCronWorkflow(const CronWorkflowRecord& cron) {
  std::lock_guard lock(mu_);
  auto stmt = Prepare(kPutCron);
  if (!stmt) return stmt.error();
  ResetOnExit reset(*stmt);
  if (BindAll(*stmt, cron.name, cron.body_json) != SQLITE_OK ||
      sqlite3_step(*stmt) != SQLITE_DONE) {
    return SqlError("put cron workflow '" + cron.name + "'");
  }
  return {};
}

Status SqliteStore::DeleteCronWorkflow(const std::string& name) {
  std::lock_guard lock(mu_);
  auto stmt = Prepare(kDeleteCron);
  if (!stmt) return stmt.error();
  ResetOnExit reset(*stmt);
  if (BindAll(*stmt, name) != SQLITE_OK || sqlite3_step(*stmt) != SQLITE_DONE) {
    return SqlError("delete cron workflow '" + name + "'");
  }
  if (sqlite3_changes(db_) == 0) return NotFound("cron workflow '" + name + "' not found");
  return {};
}

Result<std::vector<CronWorkflowRecord>> SqliteStore::ListCronWorkflows() {
  std::lock_guard lock(mu_);
  auto stmt = Prepare(kListCrons);
  if (!stmt) return Fail(stmt.error());
  ResetOnExit reset(*stmt);
  std::vector<CronWorkflowRecord> crons;
  int rc;
  while ((rc = sqlite3_step(*stmt)) == SQLITE_ROW) {
    crons.push_back(CronWorkflowRecord{ColumnText(*stmt, 0), ColumnText(*stmt, 1)});
  }
  if (rc != SQLITE_DONE) return Fail(SqlError("list cron workflows"));
  return crons;
}

Result<std::vector<MemoRecord>> SqliteStore::ListMemos() {
  std::lock_guard lock(mu_);
  auto stmt = Prepare("SELECT cache, key, body_json FROM memos");
  if (!stmt) return Fail(stmt.error());
  ResetOnExit reset(*stmt);
  std::vector<MemoRecord> memos;
  int rc;
  while ((rc = sqlite3_step(*stmt)) == SQLITE_ROW) {
    memos.push_back(MemoRecord{ColumnText(*stmt, 0), ColumnText(*stmt, 1), ColumnText(*stmt, 2)});
  }
  if (rc != SQLITE_DONE) return Fail(SqlError("list memos"));
  return memos;
}

}  // namespace hubspoke::store
