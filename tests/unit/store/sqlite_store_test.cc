#include "store/sqlite_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "store/store.h"

// GCC 12 warns about members left out of designated initializers, which is how these tests
// spell "the rest stays default".
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace hubspoke::store {
namespace {

namespace fs = std::filesystem;

WorkflowRecord Workflow(std::string name, std::string phase = "Running", int64_t created_at = 1,
                        std::string parent = "") {
  WorkflowRecord w;
  w.name = std::move(name);
  w.namespace_ = "argo";
  w.phase = std::move(phase);
  w.parent = std::move(parent);
  w.created_at = created_at;
  w.labels_json = R"({"team":"platform"})";
  w.body_json = R"({"metadata":{"name":")" + w.name + R"("}})";
  return w;
}

NodeRecord Node(std::string workflow, std::string id, std::string body = "{}") {
  return NodeRecord{std::move(workflow), std::move(id), std::move(body)};
}

std::vector<std::string> Names(const std::vector<WorkflowRecord>& workflows) {
  std::vector<std::string> names;
  for (const auto& w : workflows) names.push_back(w.name);
  return names;
}

std::vector<std::string> Ids(const std::vector<NodeRecord>& nodes) {
  std::vector<std::string> ids;
  for (const auto& n : nodes) ids.push_back(n.id);
  return ids;
}

class SqliteStoreTest : public testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::path(testing::TempDir()) / "store-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    path_ = (dir_ / "x.db").string();
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::unique_ptr<Store> OpenOrDie(bool synchronous_full = false) {
    auto store = OpenSqlite(SqliteOptions{.path = path_, .synchronous_full = synchronous_full});
    EXPECT_TRUE(store.ok()) << store.error().ToString();
    return store ? std::move(*store) : nullptr;
  }

  // Runs SQL on the file directly, as another program (or an older hubspoke) would.
  void RawExec(const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    char* error = nullptr;
    int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
    EXPECT_EQ(rc, SQLITE_OK) << (error ? error : "");
    sqlite3_free(error);
    sqlite3_close(db);
  }

  fs::path dir_;
  std::string path_;
};

TEST_F(SqliteStoreTest, RoundTripsWorkflowsAndNodes) {
  auto store = OpenOrDie();
  WorkflowRecord w = Workflow("wf-a", "Succeeded", 42, "parent-wf");
  w.finished_at = 99;
  Batch batch;
  batch.workflows.push_back(w);
  batch.nodes = {Node("wf-a", "wf-a", R"({"phase":"Succeeded"})"), Node("wf-a", "wf-a-1")};
  ASSERT_TRUE(store->Apply(batch).ok());

  auto got = store->GetWorkflow("wf-a");
  ASSERT_TRUE(got.ok()) << got.error().ToString();
  ASSERT_TRUE(got->has_value());
  const WorkflowRecord& r = **got;
  EXPECT_EQ(r.name, "wf-a");
  EXPECT_EQ(r.namespace_, "argo");
  EXPECT_EQ(r.phase, "Succeeded");
  EXPECT_EQ(r.parent, "parent-wf");
  EXPECT_EQ(r.created_at, 42);
  EXPECT_EQ(r.finished_at, 99);
  EXPECT_EQ(r.labels_json, w.labels_json);
  EXPECT_EQ(r.body_json, w.body_json);

  auto nodes = store->ListNodes("wf-a");
  ASSERT_TRUE(nodes.ok());
  ASSERT_EQ(nodes->size(), 2u);
  EXPECT_EQ((*nodes)[0].workflow, "wf-a");
  EXPECT_EQ((*nodes)[0].id, "wf-a");
  EXPECT_EQ((*nodes)[0].body_json, R"({"phase":"Succeeded"})");

  auto missing = store->GetWorkflow("nope");
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());
  EXPECT_TRUE(store->ListNodes("nope")->empty());
  EXPECT_EQ(store->SchemaVersion(), kSqliteSchemaVersion);
}

TEST_F(SqliteStoreTest, EmptyBatchIsANoOp) {
  auto store = OpenOrDie();
  EXPECT_TRUE(store->Apply(Batch{}).ok());
  EXPECT_TRUE(store->ListWorkflows({})->empty());
}

TEST_F(SqliteStoreTest, ValuesWithQuotesNulsAndUnicodeSurvive) {
  auto store = OpenOrDie();
  std::string body = std::string("it's \"quoted\" \xE2\x9C\x93 ") + '\0' + "after-nul";
  ASSERT_TRUE(
      store->Apply(Batch{.workflows = {Workflow("wf")}, .nodes = {Node("wf", "n", body)}}).ok());
  EXPECT_EQ(store->ListNodes("wf")->at(0).body_json, body);
}

TEST_F(SqliteStoreTest, UpsertReplacesWorkflowAndKeepsItsNodes) {
  auto store = OpenOrDie();
  ASSERT_TRUE(store->Apply(Batch{.workflows = {Workflow("wf")}, .nodes = {Node("wf", "n1")}}).ok());
  WorkflowRecord done = Workflow("wf", "Failed");
  done.finished_at = 7;
  done.body_json = R"({"status":"done"})";
  ASSERT_TRUE(store->Apply(Batch{.workflows = {done}}).ok());

  auto got = store->GetWorkflow("wf");
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->phase, "Failed");
  EXPECT_EQ((*got)->finished_at, 7);
  EXPECT_EQ((*got)->body_json, R"({"status":"done"})");
  EXPECT_EQ(store->ListWorkflows({})->size(), 1u);
  EXPECT_EQ(Ids(*store->ListNodes("wf")), std::vector<std::string>{"n1"});
}

TEST_F(SqliteStoreTest, UpsertNodeReplacesBodyAndKeepsInsertionOrder) {
  auto store = OpenOrDie();
  ASSERT_TRUE(store
                  ->Apply(Batch{.workflows = {Workflow("wf")},
                                .nodes = {Node("wf", "z"), Node("wf", "a"), Node("wf", "m")}})
                  .ok());
  ASSERT_TRUE(
      store->Apply(Batch{.nodes = {Node("wf", "a", R"({"phase":"Succeeded"})"), Node("wf", "b")}})
          .ok());
  auto nodes = store->ListNodes("wf");
  ASSERT_TRUE(nodes.ok());
  EXPECT_EQ(Ids(*nodes), (std::vector<std::string>{"z", "a", "m", "b"}));
  EXPECT_EQ((*nodes)[1].body_json, R"({"phase":"Succeeded"})");
}

TEST_F(SqliteStoreTest, DeletingAWorkflowDeletesItsNodesOnly) {
  auto store = OpenOrDie();
  ASSERT_TRUE(store
                  ->Apply(Batch{.workflows = {Workflow("a"), Workflow("b")},
                                .nodes = {Node("a", "a1"), Node("a", "a2"), Node("b", "b1")}})
                  .ok());
  ASSERT_TRUE(store->Apply(Batch{.deleted_workflows = {"a", "never-existed"}}).ok());
  EXPECT_FALSE(store->GetWorkflow("a")->has_value());
  EXPECT_TRUE(store->ListNodes("a")->empty());
  EXPECT_EQ(Ids(*store->ListNodes("b")), std::vector<std::string>{"b1"});
}

TEST_F(SqliteStoreTest, BatchThatFailsMidwayLeavesNothing) {
  auto store = OpenOrDie();
  ASSERT_TRUE(
      store->Apply(Batch{.workflows = {Workflow("old")}, .nodes = {Node("old", "o1")}}).ok());

  Batch bad;
  bad.workflows = {Workflow("new"), Workflow("old", "Succeeded")};
  for (int i = 0; i < 500; ++i) bad.nodes.push_back(Node("new", "n" + std::to_string(i)));
  bad.nodes.push_back(Node("old", "o1", R"({"changed":true})"));
  bad.nodes.push_back(Node("ghost", "g1"));  // no such workflow: violates the foreign key
  bad.nodes.push_back(Node("new", "after"));
  bad.deleted_workflows = {"old"};
  Status s = store->Apply(bad);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("ghost/g1"), std::string::npos) << s.error().message;
  EXPECT_NE(s.error().message.find("FOREIGN KEY constraint failed"), std::string::npos)
      << s.error().message;
  EXPECT_NE(s.error().message.find(path_), std::string::npos) << s.error().message;

  EXPECT_FALSE(store->GetWorkflow("new")->has_value());
  EXPECT_TRUE(store->ListNodes("new")->empty());
  EXPECT_EQ((*store->GetWorkflow("old"))->phase, "Running");
  EXPECT_EQ(store->ListNodes("old")->at(0).body_json, "{}");

  // The store is usable after the rollback, and the failed batch did not leave a transaction open.
  ASSERT_TRUE(store->Apply(Batch{.workflows = {Workflow("next")}}).ok());
  store.reset();
  EXPECT_EQ(Names(*OpenOrDie()->ListWorkflows({})), (std::vector<std::string>{"next", "old"}));
}

TEST_F(SqliteStoreTest, NodesFromASourceAreWrittenInTheSameTransaction) {
  auto store = OpenOrDie();
  Batch batch{.workflows = {Workflow("wf")}, .nodes = {Node("wf", "first")}};
  batch.node_count = 3;
  batch.node_source = [](size_t i) { return Node("wf", "n" + std::to_string(i)); };
  ASSERT_TRUE(store->Apply(batch).ok());
  auto nodes = store->ListNodes("wf");
  ASSERT_EQ(nodes->size(), 4u);
  EXPECT_EQ(nodes->at(0).id, "first");
  EXPECT_EQ(nodes->at(3).id, "n2");

  // A made node that fails takes the whole batch back with it.
  Batch bad{.workflows = {Workflow("other")}};
  bad.node_count = 2;
  bad.node_source = [](size_t i) { return Node(i == 0 ? "other" : "ghost", "x"); };
  ASSERT_FALSE(store->Apply(bad).ok());
  EXPECT_FALSE(store->GetWorkflow("other")->has_value());
}

TEST_F(SqliteStoreTest, EmptyNamesAreRejected) {
  auto store = OpenOrDie();
  EXPECT_FALSE(store->Apply(Batch{.workflows = {Workflow("")}}).ok());
  ASSERT_TRUE(store->Apply(Batch{.workflows = {Workflow("wf")}}).ok());
  Status s = store->Apply(Batch{.nodes = {Node("wf", "")}});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("CHECK constraint failed"), std::string::npos)
      << s.error().message;
  EXPECT_FALSE(store->PutTemplate(TemplateRecord{"", "{}"}).ok());
}

TEST_F(SqliteStoreTest, ReopenKeepsEverything) {
  {
    auto store = OpenOrDie();
    ASSERT_TRUE(
        store->Apply(Batch{.workflows = {Workflow("wf")}, .nodes = {Node("wf", "n")}}).ok());
    ASSERT_TRUE(store->PutTemplate(TemplateRecord{"tmpl", R"({"spec":{}})"}).ok());
  }
  auto store = OpenOrDie();
  EXPECT_EQ(Names(*store->ListWorkflows({})), std::vector<std::string>{"wf"});
  EXPECT_EQ(Ids(*store->ListNodes("wf")), std::vector<std::string>{"n"});
  auto templates = store->ListTemplates();
  ASSERT_TRUE(templates.ok());
  ASSERT_EQ(templates->size(), 1u);
  EXPECT_EQ((*templates)[0].body_json, R"({"spec":{}})");
  EXPECT_EQ(store->SchemaVersion(), kSqliteSchemaVersion);
}

TEST_F(SqliteStoreTest, CommittedBatchesSurviveAProcessThatExitsWithoutClosing) {
  for (bool full : {false, true}) {
    SCOPED_TRACE(full ? "synchronous FULL" : "synchronous NORMAL");
    fs::remove(path_);
    fs::remove(path_ + "-wal");
    fs::remove(path_ + "-shm");
    pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      auto store = OpenSqlite(SqliteOptions{.path = path_, .synchronous_full = full});
      if (!store) _exit(2);
      for (int i = 0; i < 3; ++i) {
        std::string name = "wf-" + std::to_string(i);
        if (!(*store)->Apply(Batch{.workflows = {Workflow(name)}, .nodes = {Node(name, "n")}})) {
          _exit(3);
        }
      }
      _exit(0);  // no destructor, no checkpoint: the WAL holds the commits
    }
    int status = 0;
    ASSERT_EQ(waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFEXITED(status));
    ASSERT_EQ(WEXITSTATUS(status), 0);
    EXPECT_TRUE(fs::exists(path_ + "-wal"));

    auto store = OpenOrDie();
    EXPECT_EQ(Names(*store->ListWorkflows({})), (std::vector<std::string>{"wf-0", "wf-1", "wf-2"}));
    EXPECT_EQ(store->ListNodes("wf-2")->size(), 1u);
  }
}

TEST_F(SqliteStoreTest, TemplatesCrud) {
  auto store = OpenOrDie();
  ASSERT_TRUE(store->PutTemplate(TemplateRecord{"b", "1"}).ok());
  ASSERT_TRUE(store->PutTemplate(TemplateRecord{"a", "2"}).ok());
  ASSERT_TRUE(store->PutTemplate(TemplateRecord{"b", "3"}).ok());
  auto templates = store->ListTemplates();
  ASSERT_TRUE(templates.ok());
  ASSERT_EQ(templates->size(), 2u);
  EXPECT_EQ((*templates)[0].name, "a");
  EXPECT_EQ((*templates)[1].name, "b");
  EXPECT_EQ((*templates)[1].body_json, "3");

  ASSERT_TRUE(store->DeleteTemplate("a").ok());
  Status missing = store->DeleteTemplate("a");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(store->ListTemplates()->size(), 1u);
}

TEST_F(SqliteStoreTest, ListWorkflowsFiltersAndOrders) {
  auto store = OpenOrDie();
  ASSERT_TRUE(store
                  ->Apply(Batch{.workflows =
                                    {
                                        Workflow("hub", "Running", 10),
                                        Workflow("hub-child-b", "Succeeded", 20, "hub"),
                                        Workflow("hub-child-a", "Succeeded", 20, "hub"),
                                        Workflow("hub-child-c", "Running", 30, "hub"),
                                        Workflow("other", "Failed", 5),
                                        Workflow("pending", "", 1),
                                        Workflow("err", "Error", 2),
                                    }})
                  .ok());
  auto list = [&](ListOptions options) {
    auto got = store->ListWorkflows(options);
    EXPECT_TRUE(got.ok()) << got.error().ToString();
    return got ? Names(*got) : std::vector<std::string>{};
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(list({}),
            (V{"hub-child-c", "hub-child-a", "hub-child-b", "hub", "other", "err", "pending"}));
  EXPECT_EQ(list({.phase = "Succeeded"}), (V{"hub-child-a", "hub-child-b"}));
  EXPECT_EQ(list({.name_prefix = "hub-"}), (V{"hub-child-c", "hub-child-a", "hub-child-b"}));
  EXPECT_EQ(list({.name_prefix = "%"}), V{});  // no LIKE wildcards
  EXPECT_EQ(list({.parent = "hub"}), (V{"hub-child-c", "hub-child-a", "hub-child-b"}));
  EXPECT_EQ(list({.only_unfinished = true}), (V{"hub-child-c", "hub", "pending"}));
  EXPECT_EQ(list({.limit = 2}), (V{"hub-child-c", "hub-child-a"}));
  EXPECT_EQ(list({.phase = "Succeeded", .parent = "hub", .limit = 1}), V{"hub-child-a"});
  EXPECT_EQ(list({.name_prefix = "hub", .parent = "hub", .only_unfinished = true}),
            V{"hub-child-c"});
  // The same filter combination reuses its cached statement with new values.
  EXPECT_EQ(list({.phase = "Failed"}), V{"other"});
}

TEST_F(SqliteStoreTest, ConcurrentAppliesAreSerialized) {
  auto store = OpenOrDie();
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        std::string name = "wf-" + std::to_string(t) + "-" + std::to_string(i);
        EXPECT_TRUE(
            store->Apply(Batch{.workflows = {Workflow(name)}, .nodes = {Node(name, "n")}}).ok());
        EXPECT_TRUE(store->ListNodes(name).ok());
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(store->ListWorkflows({})->size(), 200u);
}

TEST_F(SqliteStoreTest, NewerSchemaVersionIsRefused) {
  OpenOrDie();
  RawExec("UPDATE meta SET value = 99 WHERE key = 'schema_version'");
  auto store = OpenSqlite(SqliteOptions{.path = path_});
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_EQ(store.error().message, "database " + path_ +
                                       " has schema version 99; this hubspoke supports up to " +
                                       std::to_string(kSqliteSchemaVersion) + ": upgrade hubspoke");
}

TEST_F(SqliteStoreTest, DatabaseWithoutASchemaVersionIsMigratedAndKeepsOtherTables) {
  // What a version-0 file looks like: an SQLite file hubspoke never wrote its tables into.
  RawExec("CREATE TABLE notes (text TEXT); INSERT INTO notes VALUES ('kept');");
  auto store = OpenOrDie();
  EXPECT_EQ(store->SchemaVersion(), kSqliteSchemaVersion);
  ASSERT_TRUE(store->Apply(Batch{.workflows = {Workflow("wf")}}).ok());
  store.reset();
  // Reopening at the current version runs no migration step again (it would fail: tables exist).
  EXPECT_EQ(OpenOrDie()->ListWorkflows({})->size(), 1u);
}

TEST_F(SqliteStoreTest, FailedMigrationLeavesTheFileUntouched) {
  RawExec("CREATE TABLE workflows (x TEXT)");  // clashes with migration step 1
  auto store = OpenSqlite(SqliteOptions{.path = path_});
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.error().message.find("migrate schema from version 0 to 1"), std::string::npos)
      << store.error().message;
  EXPECT_NE(store.error().message.find("already exists"), std::string::npos);
  RawExec("DROP TABLE workflows");
  // The meta table created in the failed transaction was rolled back with it.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_schema", -1, &stmt, nullptr),
            SQLITE_OK);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(stmt, 0), 0);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
}

TEST_F(SqliteStoreTest, NonNumericSchemaVersionIsAnError) {
  OpenOrDie();
  RawExec("UPDATE meta SET value = 'seven' WHERE key = 'schema_version'");
  auto store = OpenSqlite(SqliteOptions{.path = path_});
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.error().message.find("'seven', not a number"), std::string::npos);
}

TEST_F(SqliteStoreTest, FileThatIsNotSqliteGivesAClearError) {
  std::ofstream(path_) << "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\n"
                       << std::string(8192, 'x');
  auto store = OpenSqlite(SqliteOptions{.path = path_});
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.error().message.find("database " + path_), std::string::npos);
  EXPECT_NE(store.error().message.find("not an SQLite database or is corrupt"), std::string::npos)
      << store.error().message;
}

TEST_F(SqliteStoreTest, CorruptDatabaseGivesAClearError) {
  {
    auto store = OpenOrDie();
    ASSERT_TRUE(store->Apply(Batch{.workflows = {Workflow("wf")}}).ok());
  }  // closing checkpoints the WAL into the file
  ASSERT_FALSE(fs::exists(path_ + "-wal"));
  // Keep the 100-byte header, scramble the schema that follows it on page 1.
  std::fstream file(path_, std::ios::in | std::ios::out | std::ios::binary);
  file.seekp(100);
  std::string garbage(3000, '\xA5');
  file.write(garbage.data(), garbage.size());
  file.close();
  auto store = OpenSqlite(SqliteOptions{.path = path_});
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.error().message.find("database " + path_), std::string::npos);
  EXPECT_NE(store.error().message.find("corrupt"), std::string::npos) << store.error().message;
}

TEST_F(SqliteStoreTest, UnopenablePathGivesAClearError) {
  std::string path = (dir_ / "no-such-dir" / "x.db").string();
  auto store = OpenSqlite(SqliteOptions{.path = path});
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().code, ErrorCode::kIo);
  EXPECT_NE(store.error().message.find("database " + path + ": cannot open"), std::string::npos)
      << store.error().message;
}

TEST_F(SqliteStoreTest, InMemoryDatabaseWorks) {
  auto store = OpenSqlite(SqliteOptions{.path = ":memory:"});
  ASSERT_TRUE(store.ok()) << store.error().ToString();
  ASSERT_TRUE((*store)->Apply(Batch{.workflows = {Workflow("wf")}}).ok());
  EXPECT_EQ((*store)->ListWorkflows({})->size(), 1u);
}

// Throughput of the hub's hot path; prints the figures, asserts only that everything was written.
TEST_F(SqliteStoreTest, BatchThroughput) {
  using Clock = std::chrono::steady_clock;
  auto ms = [](Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); };
  std::string body(300, 'n');  // about the size of a small Argo node status
  for (bool full : {false, true}) {
    fs::remove(path_);
    fs::remove(path_ + "-wal");
    fs::remove(path_ + "-shm");
    auto store = OpenOrDie(full);
    Batch big{.workflows = {Workflow("big")}};
    for (int i = 0; i < 10000; ++i)
      big.nodes.push_back(Node("big", "big-" + std::to_string(i), body));
    Clock::time_point start = Clock::now();
    ASSERT_TRUE(store->Apply(big).ok());
    double one_batch = ms(Clock::now() - start);
    start = Clock::now();
    ASSERT_TRUE(store->Apply(big).ok());  // the same nodes again: every row an update
    double one_batch_update = ms(Clock::now() - start);

    ASSERT_TRUE(store->Apply(Batch{.workflows = {Workflow("small")}}).ok());
    std::vector<Batch> batches(1000);
    for (int b = 0; b < 1000; ++b) {
      for (int i = 0; i < 10; ++i) {
        batches[b].nodes.push_back(
            Node("small", std::to_string(b) + "-" + std::to_string(i), body));
      }
    }
    start = Clock::now();
    for (const Batch& batch : batches) ASSERT_TRUE(store->Apply(batch).ok());
    double many_batches = ms(Clock::now() - start);
    start = Clock::now();
    auto nodes = store->ListNodes("big");
    double list = ms(Clock::now() - start);

    ASSERT_EQ(nodes->size(), 10000u);
    EXPECT_EQ(store->ListNodes("small")->size(), 10000u);
    std::printf(
        "[synchronous=%s] 10,000 node inserts in 1 batch: %.1f ms; as updates: %.1f ms; "
        "1,000 batches of 10: %.1f ms (%.3f ms/batch); ListNodes(10,000): %.1f ms\n",
        full ? "FULL" : "NORMAL", one_batch, one_batch_update, many_batches, many_batches / 1000,
        list);
  }
}

}  // namespace
}  // namespace hubspoke::store

namespace hubspoke::store {
namespace {

TEST_F(SqliteStoreTest, EventsKeepTheirOrderAndGoByRoot) {
  {
    auto store = OpenOrDie();
    ASSERT_TRUE(store
                    ->Apply(Batch{.workflows = {Workflow("a")},
                                  .events = {{0, "a", "1"}, {0, "b", "2"}, {0, "a", "3"}}})
                    .ok());
    ASSERT_TRUE(store->Apply(Batch{.events = {{0, "b", "4"}}}).ok());
  }
  auto store = OpenOrDie();
  auto events = store->ListEvents();
  ASSERT_TRUE(events.ok());
  std::vector<std::string> bodies;
  int64_t last = 0;
  for (const EventRecord& e : *events) {
    bodies.push_back(e.root + e.body_json);
    EXPECT_GT(e.seq, last);
    last = e.seq;
  }
  EXPECT_EQ(bodies, (std::vector<std::string>{"a1", "b2", "a3", "b4"}));
  // Appending and dropping in one batch: the root's events are all gone, others stay.
  ASSERT_TRUE(store->Apply(Batch{.events = {{0, "a", "5"}}, .deleted_event_roots = {"a"}}).ok());
  bodies.clear();
  auto left = store->ListEvents();
  for (const EventRecord& e : *left) bodies.push_back(e.root + e.body_json);
  EXPECT_EQ(bodies, (std::vector<std::string>{"b2", "b4"}));
}

TEST_F(SqliteStoreTest, AVersionOneDatabaseGainsTheEventLog) {
  {
    auto store = OpenOrDie();
    ASSERT_TRUE(store->Apply(Batch{.workflows = {Workflow("old")}}).ok());
  }
  RawExec(
      "DROP TABLE events; DROP TABLE memos; DROP TABLE cron_workflows; UPDATE meta SET value = 1 "
      "WHERE key = 'schema_version'");
  auto store = OpenOrDie();
  EXPECT_EQ(store->SchemaVersion(), kSqliteSchemaVersion);
  EXPECT_EQ(Names(*store->ListWorkflows({})), std::vector<std::string>{"old"});
  ASSERT_TRUE(store->Apply(Batch{.events = {{0, "old", "{}"}}}).ok());
  EXPECT_EQ(store->ListEvents()->size(), 1u);
}

TEST_F(SqliteStoreTest, MemosAreUpsertedByCacheAndKeyAndKeptAcrossOpens) {
  {
    auto store = OpenOrDie();
    ASSERT_TRUE(store->Apply(Batch{.memos = {{"c1", "k", "{\"v\":1}"}, {"c2", "k", "{}"}}}).ok());
    ASSERT_TRUE(store->Apply(Batch{.memos = {{"c1", "k", "{\"v\":2}"}}}).ok());
  }
  auto store = OpenOrDie();
  auto memos = store->ListMemos();
  ASSERT_TRUE(memos.ok());
  std::vector<std::string> rows;
  for (const MemoRecord& m : *memos) rows.push_back(m.cache + "/" + m.key + "=" + m.body_json);
  std::sort(rows.begin(), rows.end());
  EXPECT_EQ(rows, (std::vector<std::string>{"c1/k={\"v\":2}", "c2/k={}"}));
}

TEST_F(SqliteStoreTest, CronWorkflowsArePutListedDeletedAndKeptAcrossOpens) {
  {
    auto store = OpenOrDie();
    ASSERT_TRUE(store->PutCronWorkflow({"nightly", "{\"v\":1}"}).ok());
    ASSERT_TRUE(store->PutCronWorkflow({"hourly", "{}"}).ok());
    ASSERT_TRUE(store->PutCronWorkflow({"nightly", "{\"v\":2}"}).ok());
  }
  auto store = OpenOrDie();
  auto crons = store->ListCronWorkflows();
  ASSERT_TRUE(crons.ok());
  std::vector<std::string> rows;
  for (const CronWorkflowRecord& c : *crons) rows.push_back(c.name + "=" + c.body_json);
  EXPECT_EQ(rows, (std::vector<std::string>{"hourly={}", "nightly={\"v\":2}"}));
  ASSERT_TRUE(store->DeleteCronWorkflow("hourly").ok());
  EXPECT_EQ(store->DeleteCronWorkflow("hourly").error().code, ErrorCode::kNotFound);
  EXPECT_EQ(store->ListCronWorkflows()->size(), 1u);
}

TEST_F(SqliteStoreTest, AVersionThreeDatabaseGainsTheCronTable) {
  {
    auto store = OpenOrDie();
    ASSERT_TRUE(store->Apply(Batch{.workflows = {Workflow("old")}}).ok());
  }
  RawExec("DROP TABLE cron_workflows; UPDATE meta SET value = 3 WHERE key = 'schema_version'");
  auto store = OpenOrDie();
  EXPECT_EQ(store->SchemaVersion(), 4);
  EXPECT_EQ(Names(*store->ListWorkflows({})), std::vector<std::string>{"old"});
  ASSERT_TRUE(store->PutCronWorkflow({"c", "{}"}).ok());
}

}  // namespace
}  // namespace hubspoke::store
