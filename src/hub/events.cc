#include "hub/events.h"

#include <nlohmann/json.hpp>

#include "common/json_writer.h"

namespace hubspoke::hub {
namespace {

using Json = nlohmann::json;

// The version of the stored event format; a change to it needs a store migration.
constexpr int kEventFormat = 1;

constexpr const char* kTypeNames[] = {"submit", "started",   "finished", "timer",
                                      "stop",   "terminate", "suspend",  "resume"};

void WriteStrings(JsonWriter& w, const std::vector<std::string>& values) {
  w.BeginArray();
  for (const std::string& v : values) w.String(v);
  w.EndArray();
}

}  // namespace

// Written directly rather than through a JSON document: every task adds one or two events.
std::string EncodeEvent(const Event& e) {
  JsonWriter w;
  w.BeginObject();
  w.Member("v", kEventFormat);
  w.Member("type", kTypeNames[static_cast<int>(e.type)]);
  w.Member("now", e.now);
  switch (e.type) {
    case Event::Type::kSubmit: {
      w.Member("workflow", e.workflow);
      w.Member("document", e.document);
      w.Key("options").BeginObject();
      w.Member("entrypoint", e.options.entrypoint);
      w.Key("parameters").BeginArray();
      for (const auto& [k, v] : e.options.parameters) w.BeginArray().String(k).String(v).EndArray();
      w.EndArray();
      w.Member("name", e.options.name);
      w.Member("generateName", e.options.generate_name);
      w.Key("labels").StringMap(e.options.labels);
      w.EndObject();
      if (!e.memo.empty()) WriteStrings(w.Key("memo"), e.memo);
      break;
    }
    case Event::Type::kStarted:
      w.Member("attempt", e.attempt).Member("spoke", e.spoke).Member("at", e.at);
      break;
    case Event::Type::kFinished: {
      const engine::TaskResult& r = e.result;
      w.Key("result").BeginObject();
      w.Member("attempt", r.attempt_id).Member("spoke", r.spoke);
      w.Member("started", r.started).Member("lost", r.lost);
      w.Member("exitCode", r.exit_code).Member("stdout", r.stdout_text);
      w.Member("message", r.message);
      w.Key("files").StringMap(r.files);
      w.Member("timedOut", r.timed_out);
      w.Member("startedAt", r.started_at).Member("finishedAt", r.finished_at);
      if (!r.artifact_errors.empty()) w.Key("artifactErrors").StringMap(r.artifact_errors);
      w.EndObject();
      break;
    }
    case Event::Type::kTimer:
      w.Member("timer", e.timer);
      break;
    case Event::Type::kResume:
      w.Key("outputs").BeginArray();
      for (const auto& p : e.outputs) {
        w.BeginObject().Member("name", p.name).Member("value", p.value).EndObject();
      }
      w.EndArray();
      [[fallthrough]];
    case Event::Type::kStop:
    case Event::Type::kTerminate:
    case Event::Type::kSuspend:
      w.Member("workflow", e.workflow);
      break;
  }
  w.EndObject();
  return w.Take();
}

Result<Event> DecodeEvent(std::string_view text) {
  try {
    Json j = Json::parse(text);
    if (int v = j.value("v", 0); v != kEventFormat) {
      return Fail(InvalidArgument("stored event has format " + std::to_string(v) +
                                  "; this hubspoke reads format " + std::to_string(kEventFormat)));
    }
    Event e;
    std::string type = j.at("type").get<std::string>();
    int t = 0;
    for (; t < static_cast<int>(std::size(kTypeNames)); ++t) {
      if (type == kTypeNames[t]) break;
    }
    if (t == static_cast<int>(std::size(kTypeNames))) {
      return Fail(InvalidArgument("unknown event type '" + type + "'"));
    }
    e.type = static_cast<Event::Type>(t);
    e.now = j.at("now").get<Micros>();
    e.workflow = j.value("workflow", "");
    switch (e.type) {
      case Event::Type::kSubmit: {
        e.document = j.at("document").get<std::string>();
        const Json& o = j.at("options");
        e.options.entrypoint = o.value("entrypoint", "");
        e.options.parameters =
            o.value("parameters", std::vector<std::pair<std::string, std::string>>{});
        e.options.name = o.value("name", "");
        e.options.generate_name = o.value("generateName", "");
        e.options.labels = o.value("labels", std::map<std::string, std::string>{});
        e.memo = j.value("memo", std::vector<std::string>{});
        break;
      }
      case Event::Type::kStarted:
        e.attempt = j.at("attempt").get<std::string>();
        e.spoke = j.value("spoke", "");
        e.at = j.value("at", Micros{0});
        break;
      case Event::Type::kFinished: {
        const Json& r = j.at("result");
        e.result.attempt_id = r.at("attempt").get<std::string>();
        e.result.spoke = r.value("spoke", "");
        e.result.started = r.value("started", true);
        e.result.lost = r.value("lost", false);
        e.result.exit_code = r.value("exitCode", -1);
        e.result.stdout_text = r.value("stdout", "");
        e.result.message = r.value("message", "");
        e.result.files = r.value("files", std::map<std::string, std::string>{});
        e.result.artifact_errors = r.value("artifactErrors", std::map<std::string, std::string>{});
        e.result.timed_out = r.value("timedOut", false);
        e.result.started_at = r.value("startedAt", Micros{0});
        e.result.finished_at = r.value("finishedAt", Micros{0});
        break;
      }
      case Event::Type::kTimer:
        e.timer = j.at("timer").get<std::string>();
        break;
      case Event::Type::kResume:
        for (const Json& p : j.value("outputs", Json::array())) {
          e.outputs.push_back({p.at("name").get<std::string>(), p.at("value").get<std::string>()});
        }
        break;
      default:
        break;
    }
    return e;
  } catch (const Json::exception& ex) {
    return Fail(InvalidArgument(std::string("malformed stored event: ") + ex.what()));
  }
}

}  // namespace hubspoke::hub
