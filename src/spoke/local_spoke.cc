#include "spoke/local_spoke.h"

#include <sys/utsname.h>
#include <unistd.h>

#include <filesystem>

#include "common/clock.h"
#include "exec/sandbox.h"

namespace hubspoke::spoke {
namespace {

// A task still running this long after it started is reported as running; a shorter one is
// reported only when it ends (one round trip to the hub instead of two).
constexpr int64_t kReportRunningAfterMs = 10;

std::string SelfDir() {
  char buf[4096];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return "";
  buf[n] = 0;
  return std::filesystem::path(buf).parent_path().string();
}

constexpr const char* kGamesDir = "/usr/games";

// The PATH tasks get and commands are looked up in: the spoke's own, plus /usr/games when it
// exists (Debian installs cowsay there, outside root's PATH). Worked out at the first task.
const std::string& TaskPath() {
  static const std::string path = [] {
    const char* env = getenv("PATH");
    std::string p = env ? env : "/usr/bin:/bin";
    if (access(kGamesDir, X_OK) == 0 &&
        (":" + p + ":").find(std::string(":") + kGamesDir + ":") == std::string::npos) {
      p += std::string(":") + kGamesDir;
    }
    return p;
  }();
  return path;
}

bool OnPath(const std::string& cmd) {
  const std::string& p = TaskPath();
  size_t start = 0;
  while (start <= p.size()) {
    size_t end = p.find(':', start);
    if (end == std::string::npos) end = p.size();
    std::string dir = p.substr(start, end - start);
    if (!dir.empty() && access((dir + "/" + cmd).c_str(), X_OK) == 0) return true;
    start = end + 1;
  }
  return false;
}

// The last non-empty line a task printed, to say why it failed.
std::string LastLine(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  size_t nl = text.rfind('\n');
  std::string line = nl == std::string::npos ? text : text.substr(nl + 1);
  if (line.size() > 200) line = line.substr(0, 197) + "...";
  return line;
}

std::string BaseName(const std::string& path) {
  return std::filesystem::path(path).filename().string();
}

}  // namespace

std::map<std::string, std::string> WellKnownLabels() {
  std::map<std::string, std::string> labels;
  struct utsname u;
  if (uname(&u) == 0) {
    std::string arch = u.machine;
    if (arch == "x86_64")
      arch = "amd64";
    else if (arch == "aarch64")
      arch = "arm64";
    labels["kubernetes.io/arch"] = labels["beta.kubernetes.io/arch"] = arch;
  }
  labels["kubernetes.io/os"] = labels["beta.kubernetes.io/os"] = "linux";
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) == 0) labels["kubernetes.io/hostname"] = host;
  return labels;
}

ImageMap ImageMap::WithDefaults() {
  ImageMap m;
  std::string dir = SelfDir();
  for (const std::string& candidate : {dir + "/argosay", dir + "/tools/argosay/argosay"}) {
    if (!dir.empty() && access(candidate.c_str(), X_OK) == 0) {
      m.Set("argoproj/argosay:v2", {candidate});
      break;
    }
  }
  for (const char* cowsay : {"/usr/games/cowsay", "/usr/bin/cowsay"}) {
    if (access(cowsay, X_OK) == 0) {
      m.Set("docker/whalesay", {cowsay});
      m.Set("argoproj/argosay:v1", {cowsay});
      break;
    }
  }
  return m;
}

bool ImageMap::Add(const std::string& entry) {
  size_t eq = entry.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 >= entry.size()) return false;
  std::vector<std::string> prefix;
  size_t pos = eq + 1;
  while (pos < entry.size()) {
    size_t end = entry.find(' ', pos);
    if (end == std::string::npos) end = entry.size();
    if (end > pos) prefix.push_back(entry.substr(pos, end - pos));
    pos = end + 1;
  }
  if (prefix.empty()) return false;
  Set(entry.substr(0, eq), std::move(prefix));
  return true;
}

void ImageMap::Set(const std::string& image, std::vector<std::string> prefix) {
  map_[image] = std::move(prefix);
}

const std::vector<std::string>* ImageMap::Find(const std::string& image) const {
  auto it = map_.find(image);
  if (it != map_.end()) return &it->second;
  size_t colon = image.rfind(':');
  size_t slash = image.rfind('/');
  if (colon != std::string::npos && (slash == std::string::npos || colon > slash)) {
    it = map_.find(image.substr(0, colon));
    if (it != map_.end()) return &it->second;
  }
  return nullptr;
}

namespace {

// The command line for a container: its command (or the image's mapped program) and args. With
// `script`, a container with neither runs its script under sh.
Result<std::vector<std::string>> ContainerArgv(const std::string& image,
                                               const std::vector<std::string>& command,
                                               const std::vector<std::string>& args, bool script,
                                               const ImageMap& images) {
  std::vector<std::string> argv;
  const auto* prefix = images.Find(image);
  if (!command.empty() && prefix && !prefix->empty() &&
      BaseName(command[0]) == BaseName(prefix->front())) {
    // The image's own program named explicitly (`command: [/argosay]`): the mapped one.
    argv = *prefix;
    argv.insert(argv.end(), command.begin() + 1, command.end());
  } else if (!command.empty()) {
    argv = command;
    // Argo's examples call `python`; hosts usually have only python3.
    if (argv[0] == "python" && !OnPath("python") && OnPath("python3")) argv[0] = "python3";
  } else if (prefix) {
    argv = *prefix;
  } else if (!script) {
    return Fail(InvalidArgument("image \"" + image +
                                "\" gives no command and is not mapped on this spoke: add "
                                "command: to the template, or start the spoke with --image-map " +
                                image + "=COMMAND"));
  } else {
    argv = {"sh"};
  }
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

std::string ShellQuote(const std::string& word) {
  std::string out = "'";
  for (char ch : word) out += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
  return out + "'";
}

// A sh script running a containerSet's containers one after another (they come in dependency
// order): each in a subshell with its own env, only once all its dependencies succeeded; only
// "main" writes to stdout (the result), the others to stderr (the log). Exits with the first
// failure's code after saying which container failed.
Result<std::string> ContainerSetScript(const std::vector<engine::TaskContainer>& containers,
                                       const ImageMap& images) {
  std::map<std::string, size_t> index;
  std::string script = "rc=0\n";
  for (size_t i = 0; i < containers.size(); ++i) {
    const engine::TaskContainer& c = containers[i];
    auto argv = ContainerArgv(c.image, c.command, c.args, false, images);
    if (!argv.ok()) {
      return Fail(InvalidArgument("container \"" + c.name + "\": " + argv.error().message));
    }
    std::string ready = "true";
    for (const std::string& dep : c.dependencies) {
      auto it = index.find(dep);
      if (it == index.end()) {
        return Fail(InvalidArgument("container \"" + c.name + "\" depends on \"" + dep +
                                    "\", which does not run before it"));
      }
      ready += " && [ -n \"$ok_" + std::to_string(it->second) + "\" ]";
    }
    index[c.name] = i;
    std::string run = "(";
    for (const auto& [name, value] : c.env)
      run += " export " + ShellQuote(name + "=" + value) + ";";
    run += " exec";
    for (const std::string& word : *argv) run += " " + ShellQuote(word);
    run += c.name == "main" ? " )" : " ) >&2";
    script += "if " + ready + "; then\n  " + run + "\n  c=$?\n  if [ $c -eq 0 ]; then ok_" +
              std::to_string(i) + "=1; elif [ $rc -eq 0 ]; then rc=$c; why=" +
              ShellQuote("container \"" + c.name + "\" failed with exit code ") + "$c; fi\nfi\n";
  }
  return script + "[ $rc -eq 0 ] || echo \"$why\" >&2\nexit $rc\n";
}

}  // namespace

Result<exec::ExecSpec> BuildExecSpec(const engine::Task& task, const ImageMap& images,
                                     const std::string& log_root,
                                     const std::string& artifact_root) {
  exec::ExecSpec spec;
  spec.attempt_id = task.attempt_id;
  spec.image = task.image;
  if (task.containers.empty()) {
    auto argv =
        ContainerArgv(task.image, task.command, task.args, !task.script_source.empty(), images);
    if (!argv.ok()) return Fail(argv.error());
    spec.argv = std::move(*argv);
    spec.script_source = task.script_source;
  } else {
    auto script = ContainerSetScript(task.containers, images);
    if (!script.ok()) return Fail(script.error());
    spec.argv = {"sh"};
    spec.script_source = std::move(*script);
  }
  spec.env.push_back({"PATH", TaskPath()});  // the task's own PATH, if any, comes later and wins
  spec.env.insert(spec.env.end(), task.env.begin(), task.env.end());
  for (const engine::TaskContainer& c : task.sidecars) {
    auto argv = ContainerArgv(c.image, c.command, c.args, false, images);
    if (!argv.ok())
      return Fail(InvalidArgument("sidecar \"" + c.name + "\": " + argv.error().message));
    exec::SidecarSpec& sidecar = spec.sidecars.emplace_back();
    sidecar.name = c.name;
    sidecar.argv = std::move(*argv);
    sidecar.env.push_back({"PATH", TaskPath()});
    sidecar.env.insert(sidecar.env.end(), c.env.begin(), c.env.end());
  }
  spec.working_dir = task.working_dir;
  spec.timeout_ms = task.timeout_ms;
  spec.output_files = task.output_files;
  spec.private_dirs = task.private_dirs;
  if (!(task.input_artifacts.empty() && task.output_artifacts.empty()) && artifact_root.empty())
    return Fail(InvalidArgument("this spoke has no artifact store, and the task has artifacts"));
  for (const engine::TaskArtifact& a : task.input_artifacts)
    spec.input_artifacts.push_back({a.path, artifact_root + "/" + a.key, a.data});
  for (const engine::TaskArtifact& a : task.output_artifacts)
    spec.output_artifacts.push_back({a.path, artifact_root + "/" + a.key, a.archive});
  if (!log_root.empty())
    spec.log_path = log_root + "/" + task.workflow + "/" + task.node_id + ".log";
  return spec;
}

LocalSpoke::LocalSpoke(SpokeOptions options, SpokeListener* listener)
    : options_(std::move(options)),
      listener_(listener),
      runner_(exec::RunnerOptions{options_.work_root, false}) {
  options_.labels.merge(WellKnownLabels());  // labels given keep their values
  for (int i = 0; i < options_.slots; ++i) workers_.emplace_back([this, i] { Work(i); });
}

LocalSpoke::~LocalSpoke() {
  {
    std::lock_guard lock(mu_);
    closing_ = true;
  }
  cv_.notify_all();
  for (auto& t : workers_) t.join();
}

void LocalSpoke::Assign(engine::Task task) {
  {
    std::lock_guard lock(mu_);
    queue_.push_back(std::move(task));
  }
  cv_.notify_one();
}

size_t LocalSpoke::Waiting() {
  std::lock_guard lock(mu_);
  return queue_.size();
}

void LocalSpoke::Cancel(const std::string& attempt_id) {
  bool queued = false;
  {
    std::lock_guard lock(mu_);
    for (auto it = queue_.begin(); it != queue_.end(); ++it) {
      if (it->attempt_id == attempt_id) {
        queue_.erase(it);
        queued = true;
        break;
      }
    }
  }
  if (!queued) {
    runner_.Cancel(attempt_id);
    return;
  }
  // Reported like any task, so whoever counts this spoke's tasks sees its place free again.
  engine::TaskResult result;
  result.attempt_id = attempt_id;
  result.spoke = options_.name;
  result.started = false;
  result.message = "cancelled before it started";
  result.started_at = result.finished_at = SystemClock().Now();
  listener_->OnTaskFinished(std::move(result));
}

void LocalSpoke::Work(int slot) {
  SystemClock clock;
  const std::string me =
      options_.name_slots ? options_.name + "-" + std::to_string(slot + 1) : options_.name;
  std::unique_ptr<exec::ThreadSandbox> sandbox;
  if (!options_.sandbox_root.empty()) {
    auto entered = exec::ThreadSandbox::Enter(options_.sandbox_root + "/" + options_.name + "-" +
                                              std::to_string(slot));
    if (entered.ok()) sandbox = std::move(*entered);
  }
  for (;;) {
    engine::Task task;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return closing_ || !queue_.empty(); });
      if (queue_.empty()) return;
      task = std::move(queue_.front());
      queue_.pop_front();
    }
    engine::TaskResult result;
    result.attempt_id = task.attempt_id;
    result.spoke = me;
    auto spec = BuildExecSpec(task, options_.images, options_.log_root, options_.artifact_root);
    if (!spec.ok()) {
      result.started = false;
      result.message = spec.error().message;
      result.started_at = result.finished_at = clock.Now();
      listener_->OnTaskFinished(std::move(result));
      continue;
    }
    if (!spec->log_path.empty()) {
      std::error_code ec;
      std::filesystem::create_directories(std::filesystem::path(spec->log_path).parent_path(), ec);
    }
    // A short task is reported once, when it ends; one still running after a moment is reported
    // as running then (with the time it started).
    Micros started = clock.Now();
    spec->on_still_running = [&] { listener_->OnTaskStarted(task.attempt_id, me, started); };
    spec->still_running_after_ms = kReportRunningAfterMs;
    if (sandbox) spec->private_tmp = false;  // this thread's /tmp is private already
    spec->reuse_dir = runner_.work_root() + "/slot-" + std::to_string(slot + 1);
    exec::ExecResult r = runner_.Run(*spec);
    if (sandbox) sandbox->Clear();
    result.started = r.started;
    result.exit_code = r.exit_code;
    result.stdout_text = std::move(r.stdout_text);
    result.message = std::move(r.message);
    if (r.started && r.exit_code != 0 && !r.timed_out && !spec->log_path.empty()) {
      std::string why = LastLine(std::move(r.output_tail));
      if (!why.empty()) result.message += ": " + why;
    }
    result.files = std::move(r.files);
    for (size_t i = 0; i < r.artifact_errors.size(); ++i) {
      if (!r.artifact_errors[i].empty())
        result.artifact_errors[task.output_artifacts[i].name] = std::move(r.artifact_errors[i]);
    }
    result.timed_out = r.timed_out;
    result.started_at = r.started_us;
    result.finished_at = r.finished_us;
    listener_->OnTaskFinished(std::move(result));
  }
}

}  // namespace hubspoke::spoke
