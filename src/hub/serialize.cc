#include "hub/serialize.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>
#include <optional>

#include "common/clock.h"
#include "common/json_writer.h"

namespace hubspoke::hub {
namespace {

// Output is built insertion-ordered, so fields come out in Argo's order. Input is parsed into
// sorted maps: nlohmann's ordered map finds keys by linear search, which would make reading 100,000
// nodes quadratic; the order of status.nodes is recorded while parsing instead.
using OutJson = nlohmann::ordered_json;
using Json = nlohmann::json;

constexpr std::string_view kApiVersion = "argoproj.io/v1alpha1";

// j[key] when j is an object holding it, else an empty object; never copies.
const Json& Member(const Json& j, const char* key) {
  static const Json kEmpty = Json::object();
  if (!j.is_object()) return kEmpty;
  auto it = j.find(key);
  return it == j.end() ? kEmpty : *it;
}

// Invalid UTF-8 (a task's stdout may hold any bytes) becomes U+FFFD instead of an exception.
std::string Dump(const OutJson& j) {
  return j.dump(-1, ' ', false, OutJson::error_handler_t::replace);
}

void SetIfNotEmpty(OutJson& j, const char* key, const std::string& value) {
  if (!value.empty()) j[key] = value;
}

void SetTime(OutJson& j, const char* key, Micros t) {
  if (t > 0) j[key] = FormatRfc3339(t);
}

OutJson ParamsToJson(const std::vector<engine::Param>& params) {
  OutJson array = OutJson::array();
  for (const engine::Param& p : params) array.push_back({{"name", p.name}, {"value", p.value}});
  return array;
}

// A JSON value as a parameter value: strings as they are, anything else as compact JSON.
std::string ValueText(const Json& value) {
  return value.is_string() ? value.get<std::string>() : value.dump();
}

std::vector<engine::Param> ParamsFromJson(const Json& array) {
  std::vector<engine::Param> params;
  if (!array.is_array()) return params;
  for (const Json& p : array) {
    if (!p.is_object() || !p.contains("value")) continue;
    params.push_back({p.value("name", ""), ValueText(p["value"])});
  }
  return params;
}

// Artifacts as Argo shows them, with their place in the hub's artifact store under "hubspoke".
OutJson ArtifactsToJson(const std::vector<engine::ArtifactRef>& artifacts) {
  OutJson array = OutJson::array();
  for (const engine::ArtifactRef& a : artifacts) {
    OutJson j = {{"name", a.name}, {"hubspoke", {{"key", a.key}}}};
    SetIfNotEmpty(j, "path", a.path);
    array.push_back(std::move(j));
  }
  return array;
}

std::vector<engine::ArtifactRef> ArtifactsFromJson(const Json& array) {
  std::vector<engine::ArtifactRef> artifacts;
  if (!array.is_array()) return artifacts;
  for (const Json& a : array) {
    if (!a.is_object()) continue;
    std::string key =
        Member(a, "hubspoke").is_object() ? Member(a, "hubspoke").value("key", "") : "";
    artifacts.push_back({a.value("name", ""), a.value("path", ""), key});
  }
  return artifacts;
}

// "2024-01-02T03:04:05Z", optionally with a fraction and a "+hh:mm" offset instead of "Z".
std::optional<Micros> ParseRfc3339(const std::string& text) {
  struct tm tm_utc = {};
  int consumed = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm_utc.tm_year, &tm_utc.tm_mon,
                  &tm_utc.tm_mday, &tm_utc.tm_hour, &tm_utc.tm_min, &tm_utc.tm_sec,
                  &consumed) != 6) {
    return std::nullopt;
  }
  tm_utc.tm_year -= 1900;
  tm_utc.tm_mon -= 1;
  Micros micros = static_cast<Micros>(timegm(&tm_utc)) * 1'000'000;
  std::string_view rest = std::string_view(text).substr(consumed);
  if (!rest.empty() && rest[0] == '.') {
    Micros scale = 100'000;
    size_t i = 1;
    for (; i < rest.size() && rest[i] >= '0' && rest[i] <= '9'; ++i) {
      micros += (rest[i] - '0') * scale;
      scale /= 10;
    }
    rest.remove_prefix(i);
  }
  if (rest == "Z") return micros;
  int hours = 0, minutes = 0;
  if (rest.size() == 6 && (rest[0] == '+' || rest[0] == '-') &&
      std::sscanf(std::string(rest.substr(1)).c_str(), "%2d:%2d", &hours, &minutes) == 2) {
    Micros offset = (hours * 3600 + minutes * 60) * Micros{1'000'000};
    return rest[0] == '+' ? micros - offset : micros + offset;
  }
  return std::nullopt;
}

// The exact microseconds under "hubspoke" when present, else the RFC 3339 field, else 0.
Result<Micros> ReadTime(const Json& object, const Json& extra, const char* key) {
  if (extra.contains(key)) return extra[key].get<Micros>();
  if (!object.contains(key)) return Micros{0};
  std::string text = object[key].get<std::string>();
  std::optional<Micros> t = ParseRfc3339(text);
  if (!t) return Fail(InvalidArgument("bad timestamp in " + std::string(key) + ": '" + text + "'"));
  return *t;
}

Result<engine::Phase> ReadPhase(const Json& object) {
  std::string name = object.value("phase", "");
  if (name.empty()) return engine::Phase::kPending;
  std::optional<engine::Phase> phase = engine::ParsePhase(name);
  if (!phase) return Fail(InvalidArgument("unknown phase '" + name + "'"));
  return *phase;
}

void WriteParams(JsonWriter& w, const std::vector<engine::Param>& params) {
  w.BeginArray();
  for (const engine::Param& p : params) {
    w.BeginObject().Member("name", p.name).Member("value", p.value).EndObject();
  }
  w.EndArray();
}

void MemberIfNotEmpty(JsonWriter& w, std::string_view key, const std::string& value) {
  if (!value.empty()) w.Member(key, value);
}

void MemberTime(JsonWriter& w, std::string_view key, Micros t) {
  if (t > 0) w.Member(key, FormatRfc3339(t));
}

// `"id":{node}` of status.nodes, appended to a text being written.
void AppendNodeEntry(std::string& text, std::string_view id, std::string_view node_json) {
  text += '"';
  AppendJsonEscaped(text, id);
  text += "\":";
  text += node_json;
}

// A node as Argo shows it in status.nodes, written directly: a fan-out stores one per task, so
// this is on the hub's hot path.
void WriteNode(JsonWriter& w, const engine::Node& n) {
  w.BeginObject();
  w.Member("id", n.id).Member("name", n.name);
  MemberIfNotEmpty(w, "displayName", n.display_name);
  w.Member("type", engine::NodeTypeName(n.type));
  MemberIfNotEmpty(w, "templateName", n.template_name);
  w.Member("phase", engine::PhaseName(n.phase));
  MemberIfNotEmpty(w, "boundaryID", n.boundary_id);
  MemberIfNotEmpty(w, "message", n.message);
  MemberTime(w, "startedAt", n.started_at);
  MemberTime(w, "finishedAt", n.finished_at);
  if (n.type == engine::NodeType::kPod) {
    w.Member("progress", n.phase == engine::Phase::kSucceeded ? "1/1" : "0/1");
  }
  if (!n.inputs.empty()) {
    w.Key("inputs").BeginObject().Key("parameters");
    WriteParams(w, n.inputs);
    w.EndObject();
  }
  if (n.result || n.exit_code || !n.outputs.empty() || !n.artifacts.empty()) {
    w.Key("outputs").BeginObject();
    if (n.result) w.Member("result", *n.result);
    if (n.exit_code) w.Member("exitCode", std::to_string(*n.exit_code));  // a string, as in Argo
    if (!n.outputs.empty()) WriteParams(w.Key("parameters"), n.outputs);
    if (!n.artifacts.empty()) w.Key("artifacts").Raw(Dump(ArtifactsToJson(n.artifacts)));
    w.EndObject();
  }
  if (!n.children.empty()) {
    w.Key("children").BeginArray();
    for (const std::string& c : n.children) w.String(c);
    w.EndArray();
  }
  MemberIfNotEmpty(w, "hostNodeName", n.host_node_name);
  if (!n.memo_key.empty()) {
    w.Key("memoizationStatus")
        .BeginObject()
        .Member("hit", n.memo_hit)
        .Member("key", n.memo_key)
        .Member("cacheName", n.memo_cache)
        .EndObject();
  }
  if (!n.fanout.empty() || n.item_index >= 0 || !n.child_workflow.empty() || n.retries > 0 ||
      n.started_at > 0 || n.finished_at > 0) {
    w.Key("hubspoke").BeginObject();
    MemberIfNotEmpty(w, "fanout", n.fanout);
    if (n.item_index >= 0) w.Member("itemIndex", n.item_index);
    MemberIfNotEmpty(w, "childWorkflow", n.child_workflow);
    if (n.retries > 0) w.Member("retries", n.retries);
    if (n.started_at > 0) w.Member("startedAt", n.started_at);
    if (n.finished_at > 0) w.Member("finishedAt", n.finished_at);
    w.EndObject();
  }
  w.EndObject();
}

Result<engine::Node> NodeFromObject(const Json& j) {
  if (!j.is_object()) return Fail(InvalidArgument("a node must be a JSON object"));
  const Json& extra = Member(j, "hubspoke");
  engine::Node n;
  n.id = j.value("id", "");
  n.name = j.value("name", "");
  if (n.id.empty()) return Fail(InvalidArgument("node without an id", n.name));
  n.display_name = j.value("displayName", "");
  std::string type = j.value("type", "Pod");
  std::optional<engine::NodeType> node_type = engine::ParseNodeType(type);
  if (!node_type) return Fail(InvalidArgument("unknown node type '" + type + "'", n.id));
  n.type = *node_type;
  n.template_name = j.value("templateName", "");
  Result<engine::Phase> phase = ReadPhase(j);
  if (!phase) return Fail(Error{phase.error().code, phase.error().message, n.id});
  n.phase = *phase;
  n.boundary_id = j.value("boundaryID", "");
  if (j.contains("children")) n.children = j["children"].get<std::vector<std::string>>();
  Result<Micros> started = ReadTime(j, extra, "startedAt");
  Result<Micros> finished = ReadTime(j, extra, "finishedAt");
  for (const Result<Micros>* t : {&started, &finished}) {
    if (!*t) return Fail(Error{t->error().code, t->error().message, n.id});
  }
  n.started_at = *started;
  n.finished_at = *finished;
  n.message = j.value("message", "");
  n.inputs = ParamsFromJson(Member(Member(j, "inputs"), "parameters"));
  if (j.contains("outputs")) {
    const Json& outputs = j["outputs"];
    if (outputs.contains("result")) n.result = outputs["result"].get<std::string>();
    if (outputs.contains("exitCode")) {
      std::string code = ValueText(outputs["exitCode"]);
      int value = 0;
      auto [end, ec] = std::from_chars(code.data(), code.data() + code.size(), value);
      if (ec != std::errc() || end != code.data() + code.size()) {
        return Fail(InvalidArgument("bad exitCode '" + code + "'", n.id));
      }
      n.exit_code = value;
    }
    n.outputs = ParamsFromJson(Member(outputs, "parameters"));
    n.artifacts = ArtifactsFromJson(Member(outputs, "artifacts"));
  }
  n.host_node_name = j.value("hostNodeName", "");
  if (const Json& memo = Member(j, "memoizationStatus"); memo.is_object()) {
    n.memo_key = memo.value("key", "");
    n.memo_cache = memo.value("cacheName", "");
    n.memo_hit = memo.value("hit", false);
  }
  n.fanout = extra.value("fanout", "");
  n.item_index = extra.value("itemIndex", -1);
  n.child_workflow = extra.value("childWorkflow", "");
  n.retries = extra.value("retries", 0);
  return n;
}

// The manifest's spec with spec.arguments.parameters carrying the effective values.
OutJson SpecObject(const spec::Workflow& manifest, const std::vector<engine::Param>& effective) {
  OutJson document = OutJson::parse(manifest.source_json, nullptr, /*allow_exceptions=*/false);
  OutJson spec = document.is_object() && document.contains("spec") && document["spec"].is_object()
                     ? document["spec"]
                     : OutJson::object();
  if (effective.empty()) return spec;
  OutJson& arguments = spec["arguments"];
  if (!arguments.is_object()) arguments = OutJson::object();
  OutJson& params = arguments["parameters"];
  if (!params.is_array()) params = OutJson::array();
  for (const engine::Param& p : effective) {
    auto it = std::find_if(params.begin(), params.end(), [&](const OutJson& q) {
      return q.is_object() && q.value("name", "") == p.name;
    });
    if (it != params.end()) {
      (*it)["value"] = p.value;
    } else {
      params.push_back({{"name", p.name}, {"value", p.value}});
    }
  }
  return spec;
}

// Collects the keys of status.nodes in the order the text has them, without building values.
// (nlohmann's parse callbacks would do it too, but they rescan the enclosing object after each
// value, which is quadratic in the number of nodes.)
class NodeKeyRecorder : public nlohmann::json_sax<Json> {
 public:
  std::vector<std::string> keys;

  bool key(string_t& key) override {
    if (depth_ == 1) top_key_ = key;
    if (depth_ == 2) status_key_ = key;
    if (depth_ == 3 && top_key_ == "status" && status_key_ == "nodes") keys.push_back(key);
    return true;
  }
  bool start_object(std::size_t) override { return Enter(); }
  bool end_object() override { return Leave(); }
  bool start_array(std::size_t) override { return Enter(); }
  bool end_array() override { return Leave(); }
  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool parse_error(std::size_t, const std::string&, const Json::exception&) override {
    return false;
  }

 private:
  bool Enter() {
    ++depth_;
    return true;
  }
  bool Leave() {
    --depth_;
    return true;
  }

  int depth_ = 0;  // open objects and arrays
  std::string top_key_, status_key_;
};

// The Workflow object as text. status.nodes is written node by node: the ordered map would search
// its keys linearly on every insert.
std::string WorkflowText(const spec::Workflow& manifest, const engine::WorkflowStatus& status,
                         bool with_nodes) {
  OutJson metadata;
  metadata["name"] = status.name;
  SetIfNotEmpty(metadata, "generateName", manifest.metadata.generate_name);
  SetIfNotEmpty(metadata, "namespace", status.namespace_);
  if (!status.labels.empty()) metadata["labels"] = status.labels;
  if (!manifest.metadata.annotations.empty()) {
    metadata["annotations"] = manifest.metadata.annotations;
  }
  SetTime(metadata, "creationTimestamp", status.created_at);
  if (!status.parent.empty()) {
    metadata["ownerReferences"] = OutJson::array(
        {{{"apiVersion", kApiVersion}, {"kind", "Workflow"}, {"name", status.parent}}});
  }

  OutJson st;
  st["phase"] = engine::PhaseName(status.phase);
  SetTime(st, "startedAt", status.started_at);
  SetTime(st, "finishedAt", status.finished_at);
  st["progress"] = WorkflowProgress(status);
  SetIfNotEmpty(st, "message", status.message);
  if (!status.outputs.empty() || !status.output_artifacts.empty()) {
    OutJson outputs = OutJson::object();
    if (!status.outputs.empty()) outputs["parameters"] = ParamsToJson(status.outputs);
    if (!status.output_artifacts.empty())
      outputs["artifacts"] = ArtifactsToJson(status.output_artifacts);
    st["outputs"] = std::move(outputs);
  }
  OutJson extra = OutJson::object();
  SetIfNotEmpty(extra, "parentNode", status.parent_node);
  if (status.created_at > 0) extra["creationTimestamp"] = status.created_at;
  if (status.started_at > 0) extra["startedAt"] = status.started_at;
  if (status.finished_at > 0) extra["finishedAt"] = status.finished_at;
  if (status.pods_not_created > 0) extra["podsNotCreated"] = status.pods_not_created;
  if (!extra.empty()) st["hubspoke"] = std::move(extra);

  OutJson j;
  j["apiVersion"] = kApiVersion;
  j["kind"] = "Workflow";
  j["metadata"] = std::move(metadata);
  j["spec"] = SpecObject(manifest, status.parameters);
  if (status.suspended) j["spec"]["suspend"] = true;
  std::string text = Dump(j);
  text.back() = ',';  // reopen the top-level object for "status"
  text += "\"status\":";
  text += Dump(st);  // never "{}": it holds the phase
  if (with_nodes && !status.nodes.empty()) {
    text.back() = ',';
    text += "\"nodes\":{";
    for (const engine::Node& n : status.nodes) {
      AppendNodeEntry(text, n.id, NodeToJson(n));
      text += ',';
    }
    text.back() = '}';
    text += '}';
  }
  text += '}';
  return text;
}

// `node_order`: the keys of status.nodes in the order the text has them.
Result<engine::WorkflowStatus> WorkflowFromObject(const Json& j,
                                                  const std::vector<std::string>& node_order,
                                                  const std::vector<std::string>& node_jsons) {
  if (!j.is_object()) return Fail(InvalidArgument("a workflow must be a JSON object"));
  engine::WorkflowStatus w;
  const Json& metadata = Member(j, "metadata");
  w.name = metadata.value("name", "");
  if (w.name.empty()) return Fail(InvalidArgument("workflow without metadata.name"));
  w.namespace_ = metadata.value("namespace", "");
  if (metadata.contains("labels")) {
    w.labels = metadata["labels"].get<std::map<std::string, std::string>>();
  }
  const Json& owners = Member(metadata, "ownerReferences");
  auto owner = std::find_if(owners.begin(), owners.end(), [](const Json& o) {
    return o.is_object() && o.value("kind", "") == "Workflow";
  });
  if (owner != owners.end()) w.parent = owner->value("name", "");
  const Json& st = Member(j, "status");
  const Json& extra = Member(st, "hubspoke");
  w.parent_node = extra.value("parentNode", "");
  const Json& not_created = Member(extra, "podsNotCreated");
  if (not_created.is_number_unsigned()) w.pods_not_created = not_created.get<size_t>();
  Result<Micros> created = ReadTime(metadata, extra, "creationTimestamp");
  Result<engine::Phase> phase = ReadPhase(st);
  if (!phase) return Fail(Error{phase.error().code, phase.error().message, w.name});
  w.phase = *phase;
  Result<Micros> started = ReadTime(st, extra, "startedAt");
  Result<Micros> finished = ReadTime(st, extra, "finishedAt");
  for (const Result<Micros>* t : {&created, &started, &finished}) {
    if (!*t) return Fail(Error{t->error().code, t->error().message, w.name});
  }
  w.created_at = *created;
  w.started_at = *started;
  w.finished_at = *finished;
  w.message = st.value("message", "");
  w.outputs = ParamsFromJson(Member(Member(st, "outputs"), "parameters"));
  w.output_artifacts = ArtifactsFromJson(Member(Member(st, "outputs"), "artifacts"));
  w.parameters = ParamsFromJson(Member(Member(Member(j, "spec"), "arguments"), "parameters"));
  const Json& suspend = Member(Member(j, "spec"), "suspend");
  w.suspended = suspend.is_boolean() && suspend.get<bool>();

  const Json& nodes = Member(st, "nodes");
  for (const std::string& id : node_order) {
    auto body = nodes.find(id);
    if (body == nodes.end()) continue;  // in a status.nodes that a later one replaced
    Result<engine::Node> node = NodeFromObject(*body);
    if (!node) return Fail(node.error());
    w.nodes.push_back(std::move(*node));
  }
  for (const std::string& text : node_jsons) {
    Result<engine::Node> node = NodeFromJson(text);
    if (!node) return Fail(node.error());
    w.nodes.push_back(std::move(*node));
  }
  auto root = std::find_if(w.nodes.begin(), w.nodes.end(),
                           [&](const engine::Node& n) { return n.id == w.name; });
  if (root != w.nodes.end()) std::rotate(w.nodes.begin(), root, root + 1);
  return w;
}

// Whether a plain scalar `s` would be read back as something other than a string (YAML 1.1 as
// yaml-cpp reads it, and 1.2): booleans, null, numbers and timestamps.
bool ReadsAsNonString(std::string_view s) {
  static constexpr std::string_view kWords[] = {
      "",      "~",     "null",  "Null",  "NULL",  "y",     "Y",    "yes",  "Yes",   "YES",
      "n",     "N",     "no",    "No",    "NO",    "true",  "True", "TRUE", "false", "False",
      "FALSE", "on",    "On",    "ON",    "off",   "Off",   "OFF",  ".inf", ".Inf",  ".INF",
      "-.inf", "-.Inf", "-.INF", "+.inf", "+.Inf", "+.INF", ".nan", ".NaN", ".NAN"};
  if (std::find(std::begin(kWords), std::end(kWords), s) != std::end(kWords)) return true;
  if (s.size() >= 5 &&
      std::all_of(s.begin(), s.begin() + 4, [](char c) { return c >= '0' && c <= '9'; }) &&
      s[4] == '-') {
    return true;  // a date or timestamp
  }
  // Numbers in any of YAML's notations (decimal, float, hex, octal, sexagesimal, with "_").
  static constexpr std::string_view kNumberChars = "0123456789+-._:eExXoOabcdefABCDEF";
  bool numeric_start = (s[0] >= '0' && s[0] <= '9') || s[0] == '+' || s[0] == '-' || s[0] == '.';
  return numeric_start && s.find_first_of("0123456789") != std::string_view::npos &&
         s.find_first_not_of(kNumberChars) == std::string_view::npos;
}

// A literal block ("|", clip chomping, indentation detected from the first line) reproduces
// exactly a string that ends in one newline, does not start with a blank and has no control
// characters but newlines and tabs.
bool LiteralBlockIsExact(std::string_view s) {
  if (s.size() < 2 || s.back() != '\n' || s[s.size() - 2] == '\n') return false;
  if (s[0] == ' ' || s[0] == '\t' || s[0] == '\n') return false;
  return std::none_of(s.begin(), s.end(), [](char c) {
    return static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t';
  });
}

void EmitString(YAML::Emitter& out, const std::string& s, bool allow_literal) {
  if (allow_literal && s.find('\n') != std::string::npos && LiteralBlockIsExact(s)) {
    out << YAML::Literal << s.substr(0, s.size() - 1);  // clip chomping adds the newline back
  } else if (ReadsAsNonString(s)) {
    out << YAML::DoubleQuoted << s;
  } else {
    out << s;
  }
}

void EmitYaml(YAML::Emitter& out, const Json& j) {
  switch (j.type()) {
    case Json::value_t::object:
      if (j.empty()) out << YAML::Flow;
      out << YAML::BeginMap;
      for (const auto& [key, value] : j.items()) {
        out << YAML::Key;
        EmitString(out, key, /*allow_literal=*/false);
        out << YAML::Value;
        EmitYaml(out, value);
      }
      out << YAML::EndMap;
      break;
    case Json::value_t::array:
      if (j.empty()) out << YAML::Flow;
      out << YAML::BeginSeq;
      for (const Json& value : j) EmitYaml(out, value);
      out << YAML::EndSeq;
      break;
    case Json::value_t::string:
      EmitString(out, j.get<std::string>(), /*allow_literal=*/true);
      break;
    case Json::value_t::boolean:
      out << j.get<bool>();
      break;
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
    case Json::value_t::number_float:
      out << j.dump();
      break;
    default:  // null (binary and discarded do not come out of the parser)
      out << YAML::Null;
      break;
  }
}

}  // namespace

std::string WorkflowToJson(const spec::Workflow& manifest, const engine::WorkflowStatus& status,
                           bool with_nodes) {
  return WorkflowText(manifest, status, with_nodes);
}

Result<engine::WorkflowStatus> WorkflowStatusFromJson(std::string_view workflow_json,
                                                      const std::vector<std::string>& node_jsons) {
  try {
    Json j = Json::parse(workflow_json);
    std::vector<std::string> node_order;
    if (Member(Member(j, "status"), "nodes").is_object()) {
      NodeKeyRecorder recorder;
      Json::sax_parse(workflow_json, &recorder);
      node_order = std::move(recorder.keys);
    }
    return WorkflowFromObject(j, node_order, node_jsons);
  } catch (const Json::exception& e) {
    return Fail(InvalidArgument(std::string("bad workflow JSON: ") + e.what()));
  }
}

std::string MemoEntryToJson(const engine::MemoEntry& entry) {
  OutJson j;
  j["createdAt"] = entry.created_at;
  if (entry.result) j["result"] = *entry.result;
  if (entry.exit_code) j["exitCode"] = *entry.exit_code;
  j["parameters"] = ParamsToJson(entry.outputs);
  j["artifacts"] = ArtifactsToJson(entry.artifacts);
  return j.dump();
}

Result<engine::MemoEntry> MemoEntryFromJson(std::string_view json) {
  Json j = Json::parse(json, nullptr, false);
  if (!j.is_object()) return Fail(InvalidArgument("memo entry is not a JSON object"));
  engine::MemoEntry entry;
  entry.created_at = j.value("createdAt", Micros{0});
  if (j.contains("result") && j["result"].is_string())
    entry.result = j["result"].get<std::string>();
  if (j.contains("exitCode") && j["exitCode"].is_number_integer())
    entry.exit_code = j["exitCode"].get<int>();
  entry.outputs = ParamsFromJson(Member(j, "parameters"));
  entry.artifacts = ArtifactsFromJson(Member(j, "artifacts"));
  return entry;
}

std::string NodeToJson(const engine::Node& node) {
  // Written into one buffer per thread, which keeps its capacity, and returned at its exact size:
  // one allocation per record instead of one per doubling.
  thread_local JsonWriter w;
  w.Clear();
  WriteNode(w, node);
  return w.text();
}

Result<engine::Node> NodeFromJson(std::string_view json) {
  try {
    return NodeFromObject(Json::parse(json));
  } catch (const Json::exception& e) {
    return Fail(InvalidArgument(std::string("bad node JSON: ") + e.what()));
  }
}

std::string WorkflowJsonWithNodes(std::string_view workflow_json,
                                  const std::vector<std::pair<std::string, std::string>>& nodes) {
  OutJson body = OutJson::parse(workflow_json, nullptr, /*allow_exceptions=*/false);
  if (!body.is_object()) body = OutJson::object();
  OutJson status =
      body.contains("status") && body["status"].is_object() ? body["status"] : OutJson::object();
  body.erase("status");
  status.erase("nodes");
  // `{...,"status":{...,"nodes":{"id":{...},...}}}`, written around the two dumps.
  std::string text = Dump(body);
  text.pop_back();
  if (text.size() > 1) text += ',';
  text += "\"status\":";
  text += Dump(status);
  text.pop_back();
  if (text.back() != '{') text += ',';
  text += "\"nodes\":{";
  bool first = true;
  for (const auto& [id, node] : nodes) {
    // The store holds what NodeToJson wrote; parsing each of 100,000 nodes again to check it would
    // cost more than the rest of the request. A record that is not an object is left out.
    if (node.size() < 2 || node.front() != '{' || node.back() != '}') continue;
    if (!first) text += ',';
    first = false;
    AppendNodeEntry(text, id, node);
  }
  text += "}}}";
  return text;
}

std::string WorkflowProgress(const engine::WorkflowStatus& status) {
  size_t pods = status.pods_not_created, succeeded = 0;
  for (const engine::Node& n : status.nodes) {
    if (n.type != engine::NodeType::kPod) continue;
    ++pods;
    if (n.phase == engine::Phase::kSucceeded) ++succeeded;
  }
  return std::to_string(succeeded) + "/" + std::to_string(pods);
}

std::string JsonToYaml(std::string_view json) {
  Json j = Json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return "";
  YAML::Emitter out;
  EmitYaml(out, j);
  return std::string(out.c_str()) + "\n";
}

}  // namespace hubspoke::hub
