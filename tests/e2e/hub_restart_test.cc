// The durability contract as a user would test it: `kill -9` of a hub in the middle of a fan-out,
// a restart on the same state directory, and the workflow still ends Succeeded with no task that
// had completed run a second time (each task appends its item to a file, so runs are counted).
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "cli_harness.h"
#include "hub_process.h"

namespace hubspoke::e2e {
namespace {

using Json = nlohmann::json;

// The items whose fan-out node the database records as Succeeded, read as any SQLite client
// would read the file of a dead hub.
std::set<std::string> SucceededItems(const std::string& db_path) {
  std::set<std::string> items;
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    return items;
  }
  sqlite3_stmt* stmt = nullptr;
  sqlite3_prepare_v2(db, "SELECT body_json FROM nodes", -1, &stmt, nullptr);
  while (stmt && sqlite3_step(stmt) == SQLITE_ROW) {
    Json node = Json::parse(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)));
    std::string display = node.value("displayName", "");
    // work(3:3) is the retry node of item 3; its attempts are work(3:3)(0), ...
    if (node.value("phase", "") != "Succeeded" || display.rfind("work(", 0) != 0 ||
        display.find(")(") != std::string::npos) {
      continue;
    }
    items.insert(display.substr(display.find(':') + 1, display.size() - display.find(':') - 2));
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return items;
}

std::map<std::string, int> Runs(const std::string& path) {
  std::map<std::string, int> runs;
  std::istringstream in(ReadFile(path));
  for (std::string line; std::getline(in, line);) runs[line]++;
  return runs;
}

TEST(HubRestartTest, KillNineMidFanOutThenRestartEndsSucceededWithNoCompletedTaskRunTwice) {
  TempDir dir;
  std::string data = dir.path() + "/hub", counts = dir.path() + "/runs.txt";
  std::string manifest = dir.path() + "/fan.yaml";
  std::ofstream(manifest) << R"(apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: fan}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - name: work
        template: work
        arguments:
          parameters: [{name: i, value: "{{item}}"}]
        withSequence: {count: "12"}
  - name: work
    retryStrategy: {limit: 3}
    inputs:
      parameters: [{name: i}]
    container:
      image: alpine
      command: [sh, -c, "echo {{inputs.parameters.i}} >> )"
                          << counts << R"(; sleep 0.4"]
)";
  std::set<std::string> before;
  {
    HubProcess hub(data, dir.path() + "/hub1.log");
    ASSERT_TRUE(hub.ready()) << ReadFile(dir.path() + "/hub1.log");
    CommandResult submitted =
        RunCommand({"timeout", "60", Hubspoke(), "submit", manifest, "--data", data, "-o", "name"},
                   dir.path());
    ASSERT_EQ(submitted.exit_code, 0) << submitted.err;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (SucceededItems(data + "/hubspoke.db").size() < 3 &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    hub.Kill9();
    before = SucceededItems(data + "/hubspoke.db");
    ASSERT_GE(before.size(), 3u);
    ASSERT_LT(before.size(), 12u) << "the fan-out finished before the kill";
  }
  // What the dead hub had started may still be finishing; let it, so it cannot be miscounted.
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  std::map<std::string, int> runs_at_kill = Runs(counts);

  HubProcess hub(data, dir.path() + "/hub2.log");
  ASSERT_TRUE(hub.ready()) << ReadFile(dir.path() + "/hub2.log");
  CommandResult waited =
      RunCommand({"timeout", "90", Hubspoke(), "wait", "fan", "--data", data}, dir.path());
  EXPECT_EQ(waited.exit_code, 0) << waited.out << waited.err << ReadFile(dir.path() + "/hub2.log");
  CommandResult got = RunCommand(
      {"timeout", "60", Hubspoke(), "get", "fan", "-o", "json", "--data", data}, dir.path());
  ASSERT_EQ(got.exit_code, 0) << got.err;
  EXPECT_EQ(Json::parse(got.out)["status"]["phase"], "Succeeded");

  std::map<std::string, int> runs = Runs(counts);
  EXPECT_EQ(runs.size(), 12u);
  for (const std::string& item : before) {
    EXPECT_EQ(runs[item], 1) << "item " << item << " had completed before the kill and ran again";
  }
  for (const auto& [item, n] : runs) {
    EXPECT_LE(n, runs_at_kill[item] + 1) << "item " << item << " ran more than once after restart";
  }
  EXPECT_NE(ReadFile(dir.path() + "/hub2.log").find("resumed"), std::string::npos)
      << ReadFile(dir.path() + "/hub2.log");
}

}  // namespace
}  // namespace hubspoke::e2e
