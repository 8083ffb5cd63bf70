#include "hub/events.h"

#include <nlohmann/json.hpp>

namespace hubspoke::hub {
namespace {

using Json = nlohmann::json;

// The version of the stored event format; a change to it needs a store migration.
constexpr int kEventFormat = 1;

constexpr const char* kTypeNames[] = {"submit", "started",   "finished", "timer",
                                      "stop",   "terminate", "suspend",  "resume"};

Json ParamsJson(const std::vector<engine::Param>& params) {
  Json out = Json::array();
  for (const auto& p : params) out.push_back({{"name", p.name}, {"value", p.value}});
  return out;
}

}  // namespace

std::string EncodeEvent(const Event& e) {
  Json j;
  j["v"] = kEventFormat;
  j["type"] = kTypeNames[static_cast<int>(e.type)];
  j["now"] = e.now;
  switch (e.type) {
    case Event::Type::kSubmit: {
      j["workflow"] = e.workflow;
      j["document"] = e.document;
      Json o;
      o["entrypoint"] = e.options.entrypoint;
      o["parameters"] = e.options.parameters;
      o["name"] = e.options.name;
      o["generateName"] = e.options.generate_name;
      o["labels"] = e.options.labels;
      j["options"] = std::move(o);
      if (!e.memo.empty()) j["memo"] = e.memo;
      break;
    }
    case Event::Type::kStarted:
      j["attempt"] = e.attempt;
      j["spoke"] = e.spoke;
      j["at"] = e.at;
      break;
    case Event::Type::kFinished: {
      const engine::TaskResult& r = e.result;
      j["result"] = {{"attempt", r.attempt_id},    {"spoke", r.spoke},
                     {"started", r.started},       {"lost", r.lost},
                     {"exitCode", r.exit_code},    {"stdout", r.stdout_text},
                     {"message", r.message},       {"files", r.files},
                     {"timedOut", r.timed_out},    {"startedAt", r.started_at},
                     {"finishedAt", r.finished_at}};
      if (!r.artifact_errors.empty()) j["result"]["artifactErrors"] = r.artifact_errors;
      break;
    }
    case Event::Type::kTimer:
      j["timer"] = e.timer;
      break;
    case Event::Type::kResume:
      j["outputs"] = ParamsJson(e.outputs);
      [[fallthrough]];
    case Event::Type::kStop:
    case Event::Type::kTerminate:
    case Event::Type::kSuspend:
      j["workflow"] = e.workflow;
      break;
  }
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
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
