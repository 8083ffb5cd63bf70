#include "cli/summary.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>

namespace hubspoke::cli {
namespace {

using engine::Phase;
using Json = nlohmann::ordered_json;

double Seconds(Micros us) { return static_cast<double>(us) / 1e6; }

Json TaskJson(const SummaryTask& t) {
  return {{"name", t.name},
          {"workflow", t.workflow},
          {"phase", engine::PhaseName(t.phase)},
          {"spoke", t.spoke},
          {"durationSeconds", Seconds(t.duration)},
          {"message", t.message}};
}

Json TasksJson(const std::vector<SummaryTask>& tasks) {
  Json out = Json::array();
  for (const SummaryTask& t : tasks) out.push_back(TaskJson(t));
  return out;
}

double Speedup(const Summary& s) {
  return s.wall > 0 ? static_cast<double>(s.task_sum) / static_cast<double>(s.wall) : 0;
}

std::string Escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string Fixed(double v, int decimals = 1) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

// Spoke slot names in natural order: local-2 before local-10.
bool NaturalLess(const std::string& a, const std::string& b) {
  size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    if (std::isdigit(static_cast<unsigned char>(a[i])) &&
        std::isdigit(static_cast<unsigned char>(b[j]))) {
      size_t i2 = i, j2 = j;
      while (i2 < a.size() && std::isdigit(static_cast<unsigned char>(a[i2]))) ++i2;
      while (j2 < b.size() && std::isdigit(static_cast<unsigned char>(b[j2]))) ++j2;
      std::string_view na(a.data() + i, i2 - i), nb(b.data() + j, j2 - j);
      if (na.size() != nb.size()) return na.size() < nb.size();
      if (na != nb) return na < nb;
      i = i2;
      j = j2;
    } else {
      if (a[i] != b[j]) return a[i] < b[j];
      ++i;
      ++j;
    }
  }
  return a.size() - i < b.size() - j;
}

std::string PhaseClass(Phase p) {
  std::string name(engine::PhaseName(p));
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return name;
}

void TaskRows(std::string& out, const std::vector<SummaryTask>& tasks, bool with_message) {
  out += "<table><tr><th>task</th><th>workflow</th><th>phase</th><th>spoke</th><th>duration</th>";
  if (with_message) out += "<th>message</th>";
  out += "</tr>\n";
  for (const SummaryTask& t : tasks) {
    out += "<tr><td>" + Escape(t.name) + "</td><td>" + Escape(t.workflow) + "</td><td class=\"" +
           PhaseClass(t.phase) + "\">" + std::string(engine::PhaseName(t.phase)) + "</td><td>" +
           Escape(t.spoke) + "</td><td>" + FormatDuration(t.duration) + "</td>";
    if (with_message) out += "<td>" + Escape(t.message) + "</td>";
    out += "</tr>\n";
  }
  out += "</table>\n";
}

// The Gantt chart: a row per spoke slot, a bar per task that started.
std::string Timeline(const std::vector<const engine::WorkflowStatus*>& workflows, Micros now) {
  struct Bar {
    const engine::Node* node;
    std::string_view workflow;
    Micros start, end;
  };
  std::map<std::string, std::vector<Bar>, decltype(&NaturalLess)> rows(&NaturalLess);
  Micros t0 = 0, t1 = 0;
  for (const engine::WorkflowStatus* w : workflows) {
    for (const engine::Node& n : w->nodes) {
      if (n.type != engine::NodeType::kPod || n.started_at <= 0 || !n.child_workflow.empty()) {
        continue;
      }
      Micros end = n.finished_at > 0 ? n.finished_at : now;
      rows[n.host_node_name.empty() ? "(unknown)" : n.host_node_name].push_back(
          {&n, w->name, n.started_at, end});
      if (t0 == 0 || n.started_at < t0) t0 = n.started_at;
      t1 = std::max(t1, end);
    }
  }
  if (rows.empty()) return "<p>No task has started.</p>\n";
  constexpr int kLabel = 140, kWidth = 1100, kRow = 18, kTop = 24;
  const double span = static_cast<double>(std::max<Micros>(t1 - t0, 1));
  const double plot = kWidth - kLabel - 10;
  auto x = [&](Micros t) { return kLabel + plot * static_cast<double>(t - t0) / span; };
  const int height = kTop + kRow * static_cast<int>(rows.size()) + 4;
  std::string out = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + std::to_string(kWidth) +
                    "\" height=\"" + std::to_string(height) +
                    "\" role=\"img\" aria-label=\"task timeline\">\n";
  // Time axis: six ticks from the first start to the last end.
  for (int i = 0; i <= 5; ++i) {
    Micros t = t0 + static_cast<Micros>(span * i / 5);
    std::string px = Fixed(x(t));
    out += "<line class=\"tick\" x1=\"" + px + "\" y1=\"" + std::to_string(kTop - 6) + "\" x2=\"" +
           px + "\" y2=\"" + std::to_string(height) + "\"/>\n";
    out += "<text class=\"axis\" x=\"" + px + "\" y=\"12\" text-anchor=\"" +
           (i == 0   ? "start"
            : i == 5 ? "end"
                     : "middle") +
           "\">" + FormatDuration(t - t0) + "</text>\n";
  }
  int row = 0;
  for (const auto& [spoke, bars] : rows) {
    int y = kTop + kRow * row++;
    out += "<text class=\"spoke\" x=\"4\" y=\"" + std::to_string(y + kRow - 5) + "\">" +
           Escape(spoke) + "</text>\n";
    for (const Bar& b : bars) {
      double x0 = x(b.start);
      double w = std::max(1.0, x(b.end) - x0);
      out += "<rect class=\"task " + PhaseClass(b.node->phase) + "\" x=\"" + Fixed(x0, 2) +
             "\" y=\"" + std::to_string(y + 2) + "\" width=\"" + Fixed(w, 2) + "\" height=\"" +
             std::to_string(kRow - 4) + "\"><title>" +
             Escape(b.node->display_name.empty() ? b.node->name : b.node->display_name) + " (" +
             Escape(b.workflow) + ") " + std::string(engine::PhaseName(b.node->phase)) + " " +
             FormatDuration(b.end - b.start) + " on " + Escape(spoke) + "</title></rect>\n";
    }
  }
  out += "</svg>\n";
  return out;
}

}  // namespace

std::string SummaryJson(const Summary& s) {
  Json tasks = {{"total", 0}};
  size_t total = 0;
  for (size_t p = 0; p < s.tasks_by_phase.size(); ++p) {
    tasks[std::string(engine::PhaseName(static_cast<Phase>(p)))] = s.tasks_by_phase[p];
    total += s.tasks_by_phase[p];
  }
  tasks["total"] = total;
  Json fanouts = Json::array();
  for (const SummaryGroup& g : s.groups) {
    fanouts.push_back({{"name", g.label},
                       {"total", g.total},
                       {"succeeded", g.succeeded},
                       {"failed", g.failed},
                       {"skipped", g.skipped},
                       {"running", g.running},
                       {"pending", g.pending},
                       {"failedTasks", TasksJson(g.failed_tasks)}});
  }
  Json spokes = Json::array();
  for (const SummarySpoke& sp : s.spokes) {
    spokes.push_back({{"name", sp.name},
                      {"tasks", sp.tasks},
                      {"busySeconds", Seconds(sp.busy)},
                      {"meanSeconds", sp.tasks ? Seconds(sp.busy) / sp.tasks : 0.0}});
  }
  Json out = {{"name", s.name},
              {"phase", engine::PhaseName(s.phase)},
              {"message", s.message},
              {"tasks", tasks},
              {"fanouts", fanouts},
              {"failedTasks", TasksJson(s.failed)},
              {"slowestTasks", TasksJson(s.slowest)},
              {"spokes", spokes},
              {"wallSeconds", Seconds(s.wall)},
              {"taskSeconds", Seconds(s.task_sum)},
              {"speedup", Speedup(s)}};
  return out.dump(2) + "\n";
}

std::string SummaryHtml(const Summary& s,
                        const std::vector<const engine::WorkflowStatus*>& workflows, Micros now) {
  std::string out =
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>" +
      Escape(s.name) + " summary</title>\n<style>\n" +
      "body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}\n"
      "table{border-collapse:collapse;margin:.5em 0 1em}\n"
      "td,th{border:1px solid #ccc;padding:2px 8px;text-align:left}\n"
      "th{background:#f3f3f3}\n"
      ".succeeded{color:#18794e}.failed,.error{color:#c62828}.running{color:#0277bd}\n"
      ".pending{color:#b26a00}.skipped,.omitted{color:#777}\n"
      "svg{border:1px solid #ddd;background:#fff}\n"
      "svg text{font:11px sans-serif;fill:#333}\n"
      "svg .tick{stroke:#eee}\n"
      "rect.task{stroke:#fff;stroke-width:.5}\n"
      "rect.succeeded{fill:#43a047}rect.failed,rect.error{fill:#e53935}\n"
      "rect.running{fill:#1e88e5}rect.pending{fill:#fb8c00}rect.skipped,rect.omitted{fill:#999}\n"
      "</style>\n</head>\n<body>\n";
  out += "<h1>" + Escape(s.name) + " <span class=\"" + PhaseClass(s.phase) + "\">" +
         std::string(engine::PhaseName(s.phase)) + "</span></h1>\n";
  if (!s.message.empty()) out += "<p>" + Escape(s.message) + "</p>\n";
  size_t total = 0;
  for (size_t n : s.tasks_by_phase) total += n;
  out += "<table><tr><th>wall time</th><td>" + FormatDuration(s.wall) +
         "</td></tr>\n<tr><th>task time in sum</th><td>" + FormatDuration(s.task_sum) +
         "</td></tr>\n<tr><th>speed-up</th><td>" + Fixed(Speedup(s)) + "x</td></tr>\n" +
         "<tr><th>tasks</th><td>" + std::to_string(total);
  for (size_t p = 0; p < s.tasks_by_phase.size(); ++p) {
    if (s.tasks_by_phase[p] == 0) continue;
    Phase phase = static_cast<Phase>(p);
    out += ", <span class=\"" + PhaseClass(phase) + "\">" + std::to_string(s.tasks_by_phase[p]) +
           " " + std::string(engine::PhaseName(phase)) + "</span>";
  }
  out += "</td></tr>\n</table>\n";

  out += "<h2>Timeline</h2>\n" + Timeline(workflows, now);
  if (!s.groups.empty()) {
    out +=
        "<h2>Fan-outs</h2>\n<table><tr><th>fan-out</th><th>total</th><th>succeeded</th>"
        "<th>failed</th><th>skipped</th><th>running</th><th>pending</th></tr>\n";
    for (const SummaryGroup& g : s.groups) {
      out += "<tr><td>" + Escape(g.label) + "</td><td>" + std::to_string(g.total) + "</td><td>" +
             std::to_string(g.succeeded) + "</td><td>" + std::to_string(g.failed) + "</td><td>" +
             std::to_string(g.skipped) + "</td><td>" + std::to_string(g.running) + "</td><td>" +
             std::to_string(g.pending) + "</td></tr>\n";
    }
    out += "</table>\n";
  }
  std::vector<SummaryTask> failed = s.failed;
  for (const SummaryGroup& g : s.groups) {
    failed.insert(failed.end(), g.failed_tasks.begin(), g.failed_tasks.end());
  }
  if (!failed.empty()) {
    out += "<h2>Failed tasks</h2>\n";
    TaskRows(out, failed, /*with_message=*/true);
  }
  if (!s.slowest.empty()) {
    out += "<h2>Slowest tasks</h2>\n";
    TaskRows(out, s.slowest, /*with_message=*/false);
  }
  if (!s.spokes.empty()) {
    out +=
        "<h2>Spokes</h2>\n<table><tr><th>spoke</th><th>tasks</th><th>busy</th>"
        "<th>mean task</th></tr>\n";
    for (const SummarySpoke& sp : s.spokes) {
      out += "<tr><td>" + Escape(sp.name) + "</td><td>" + std::to_string(sp.tasks) + "</td><td>" +
             FormatDuration(sp.busy) + "</td><td>" +
             Fixed(sp.tasks ? Seconds(sp.busy) / sp.tasks : 0, 3) + "s</td></tr>\n";
    }
    out += "</table>\n";
  }
  out += "</body>\n</html>\n";
  return out;
}

std::string SummaryOutput(const std::vector<const engine::WorkflowStatus*>& workflows, Micros now,
                          const std::string& output) {
  Summary summary = Summarize(workflows, now);
  if (output == "json") return SummaryJson(summary);
  if (output == "html") return SummaryHtml(summary, workflows, now);
  return RenderSummary(summary);
}

}  // namespace hubspoke::cli
