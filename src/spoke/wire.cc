#include "spoke/wire.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "exec/artifacts.h"

namespace hubspoke::spoke {
namespace {

using Pairs = std::vector<std::pair<std::string, std::string>>;

void PairsToProto(const Pairs& pairs, google::protobuf::RepeatedPtrField<v1::KeyValue>* out) {
  for (const auto& [name, value] : pairs) {
    v1::KeyValue* kv = out->Add();
    kv->set_name(name);
    kv->set_value(value);
  }
}

Pairs PairsFromProto(const google::protobuf::RepeatedPtrField<v1::KeyValue>& in) {
  Pairs out;
  for (const v1::KeyValue& kv : in) out.emplace_back(kv.name(), kv.value());
  return out;
}

template <typename Field>
std::vector<std::string> Strings(const Field& field) {
  return {field.begin(), field.end()};
}

void ArtifactsToProto(const std::vector<engine::TaskArtifact>& artifacts,
                      google::protobuf::RepeatedPtrField<v1::Artifact>* out) {
  for (const engine::TaskArtifact& a : artifacts) {
    v1::Artifact* pa = out->Add();
    pa->set_name(a.name);
    pa->set_path(a.path);
    pa->set_key(a.key);
    if (a.data) {
      pa->set_raw(true);
      pa->set_content(*a.data);
    }
    pa->set_archive(a.archive);
    pa->set_optional(a.optional);
  }
}

std::vector<engine::TaskArtifact> ArtifactsFromProto(
    const google::protobuf::RepeatedPtrField<v1::Artifact>& in) {
  std::vector<engine::TaskArtifact> out;
  for (const v1::Artifact& pa : in) {
    engine::TaskArtifact& a = out.emplace_back();
    a.name = pa.name();
    a.path = pa.path();
    a.key = pa.key();
    if (pa.raw()) a.data = pa.content();
    a.archive = pa.archive();
    a.optional = pa.optional();
  }
  return out;
}

void ContainerToProto(const engine::TaskContainer& c, v1::Container* out) {
  out->set_name(c.name);
  out->set_image(c.image);
  for (const std::string& s : c.command) out->add_command(s);
  for (const std::string& s : c.args) out->add_args(s);
  PairsToProto(c.env, out->mutable_env());
  for (const std::string& s : c.dependencies) out->add_dependencies(s);
}

engine::TaskContainer ContainerFromProto(const v1::Container& in) {
  engine::TaskContainer c;
  c.name = in.name();
  c.image = in.image();
  c.command = Strings(in.command());
  c.args = Strings(in.args());
  c.env = PairsFromProto(in.env());
  c.dependencies = Strings(in.dependencies());
  return c;
}

Result<std::string> ReadWhole(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return Fail(NotFound("cannot read " + file));
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// Reads the stored artifact at `file` into `a`; a directory is packed for the trip.
Status ReadStored(const std::string& file, v1::Artifact& a) {
  std::error_code ec;
  std::string packed;
  if (std::filesystem::is_directory(file, ec)) {
    packed = exec::ScratchPath(file, ".send-");
    if (Status s = exec::PackArtifact(file, packed, true); !s.ok()) return s;
  }
  auto content = ReadWhole(packed.empty() ? file : packed);
  if (!packed.empty()) std::filesystem::remove(packed, ec);
  if (!content.ok()) return Fail(content.error());
  a.set_content(std::move(*content));
  a.set_packed(!packed.empty());
  return {};
}

}  // namespace

void AttachContents(const std::string& root,
                    google::protobuf::RepeatedPtrField<v1::Artifact>* artifacts) {
  for (v1::Artifact& a : *artifacts) {
    if (a.raw()) continue;
    Status read = exec::IsPlainRelativePath(a.key()) ? ReadStored(root + "/" + a.key(), a)
                                                     : Status(Fail(InvalidArgument("bad key")));
    if (!read.ok()) a.set_error(read.error().message);
  }
}

std::map<std::string, std::string> StoreContents(
    const std::string& root, const google::protobuf::RepeatedPtrField<v1::Artifact>& artifacts,
    const std::set<std::string>& in_use) {
  std::map<std::string, std::string> errors;
  for (const v1::Artifact& a : artifacts) {
    if (a.raw() || in_use.count(a.key())) continue;
    if (!a.error().empty()) {
      errors[a.name()] = a.error();
      continue;
    }
    if (!exec::IsPlainRelativePath(a.key())) {
      errors[a.name()] = "key \"" + a.key() + "\" is not a plain relative path";
      continue;
    }
    std::string file = root + "/" + a.key();
    std::string part = exec::ScratchPath(file, ".recv-");
    if (Status s = exec::WriteArtifactData(a.content(), part); !s.ok()) {
      errors[a.name()] = s.error().message;
      continue;
    }
    std::error_code ec;
    if (a.packed()) {
      // A directory again, as it was stored where it came from.
      if (Status s = exec::UnpackArtifact(part, file); !s.ok())
        errors[a.name()] = s.error().message;
      std::filesystem::remove(part, ec);
      continue;
    }
    if (std::filesystem::is_directory(file, ec)) std::filesystem::remove_all(file, ec);
    std::filesystem::rename(part, file, ec);
    if (ec) {
      errors[a.name()] = "cannot write " + file + ": " + ec.message();
      std::filesystem::remove(part, ec);
    }
  }
  return errors;
}

void TaskToProto(const engine::Task& task, v1::Task* out) {
  out->set_attempt_id(task.attempt_id);
  out->set_workflow(task.workflow);
  out->set_node_id(task.node_id);
  out->set_image(task.image);
  for (const std::string& c : task.command) out->add_command(c);
  for (const std::string& a : task.args) out->add_args(a);
  out->set_script_source(task.script_source);
  PairsToProto(task.env, out->mutable_env());
  out->set_working_dir(task.working_dir);
  out->set_timeout_ms(task.timeout_ms);
  for (const std::string& f : task.output_files) out->add_output_files(f);
  for (const std::string& d : task.private_dirs) out->add_private_dirs(d);
  ArtifactsToProto(task.input_artifacts, out->mutable_input_artifacts());
  ArtifactsToProto(task.output_artifacts, out->mutable_output_artifacts());
  out->mutable_node_selector()->insert(task.node_selector.begin(), task.node_selector.end());
  for (const engine::TaskContainer& c : task.containers) ContainerToProto(c, out->add_containers());
  for (const engine::TaskContainer& c : task.sidecars) ContainerToProto(c, out->add_sidecars());
}

engine::Task TaskFromProto(const v1::Task& in) {
  engine::Task task;
  task.attempt_id = in.attempt_id();
  task.workflow = in.workflow();
  task.node_id = in.node_id();
  task.image = in.image();
  task.command = Strings(in.command());
  task.args = Strings(in.args());
  task.script_source = in.script_source();
  task.env = PairsFromProto(in.env());
  task.working_dir = in.working_dir();
  task.timeout_ms = in.timeout_ms();
  task.output_files = Strings(in.output_files());
  task.private_dirs = Strings(in.private_dirs());
  task.input_artifacts = ArtifactsFromProto(in.input_artifacts());
  task.output_artifacts = ArtifactsFromProto(in.output_artifacts());
  task.node_selector.insert(in.node_selector().begin(), in.node_selector().end());
  for (const v1::Container& pc : in.containers()) task.containers.push_back(ContainerFromProto(pc));
  for (const v1::Container& pc : in.sidecars()) task.sidecars.push_back(ContainerFromProto(pc));
  return task;
}

void ResultToProto(const engine::TaskResult& r, v1::TaskFinished* out) {
  out->set_attempt_id(r.attempt_id);
  out->set_started(r.started);
  out->set_exit_code(r.exit_code);
  out->set_stdout_text(r.stdout_text);
  out->set_message(r.message);
  out->mutable_files()->insert(r.files.begin(), r.files.end());
  out->set_timed_out(r.timed_out);
  out->set_started_at_us(r.started_at);
  out->set_finished_at_us(r.finished_at);
  out->mutable_artifact_errors()->insert(r.artifact_errors.begin(), r.artifact_errors.end());
}

engine::TaskResult ResultFromProto(const v1::TaskFinished& in, const std::string& spoke) {
  engine::TaskResult r;
  r.attempt_id = in.attempt_id();
  r.spoke = spoke;
  r.started = in.started();
  r.exit_code = in.exit_code();
  r.stdout_text = in.stdout_text();
  r.message = in.message();
  r.files.insert(in.files().begin(), in.files().end());
  r.timed_out = in.timed_out();
  r.started_at = in.started_at_us();
  r.finished_at = in.finished_at_us();
  r.artifact_errors.insert(in.artifact_errors().begin(), in.artifact_errors().end());
  return r;
}

}  // namespace hubspoke::spoke
