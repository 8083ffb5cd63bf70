#include "exec/runner.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <mutex>
#include <unordered_map>
#include <utility>

#include "common/log.h"
#include "exec/artifacts.h"
#include "exec/spawn.h"

namespace hubspoke::exec {
namespace {

namespace fs = std::filesystem;

constexpr size_t kStdoutTail = 256 * 1024;
constexpr size_t kOutputTail = 4096;
constexpr size_t kMaxOutputFile = 1024 * 1024;
constexpr size_t kReadChunk = 64 * 1024;
constexpr const char* kInheritedEnv[] = {"PATH", "HOME", "LANG", "TERM"};
constexpr const char* kDefaultPath = "/usr/local/bin:/usr/bin:/bin";

int64_t NowMicros(clockid_t clock) {
  timespec ts;
  clock_gettime(clock, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000 + ts.tv_nsec / 1000;
}

bool IsUnder(const std::string& path, const std::string& dir) {
  return path.size() >= dir.size() && path.compare(0, dir.size(), dir) == 0 &&
         (path.size() == dir.size() || path[dir.size()] == '/' || dir == "/");
}

std::string JoinPath(const std::string& dir, const std::string& rest) {
  if (rest.empty()) return dir;
  return dir.back() == '/' ? dir + rest : dir + "/" + rest;
}

// Searches `path_var` for an executable regular file called `name`; empty when none.
std::string SearchPath(const std::string& name, const std::string& path_var) {
  size_t begin = 0;
  while (begin <= path_var.size()) {
    size_t end = path_var.find(':', begin);
    if (end == std::string::npos) end = path_var.size();
    std::string dir = path_var.substr(begin, end - begin);
    std::string candidate = JoinPath(dir.empty() ? "." : dir, name);
    struct stat st;
    if (stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111) != 0) {
      return candidate;
    }
    begin = end + 1;
  }
  return {};
}

std::string NotFoundMessage(const ExecSpec& spec, const std::string& command) {
  std::string message;
  if (!spec.image.empty()) message = "image \"" + spec.image + "\": ";
  message += "command \"" + command +
             "\" not found on this spoke (map the image to a host command with --image-map "
             "IMAGE=COMMAND)";
  return message;
}

std::string DurationText(int64_t ms) {
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

std::string ErrnoText(int error) { return strerrordesc_np(error) ? strerrordesc_np(error) : "?"; }

void WriteAll(int fd, const char* data, size_t size) {
  while (size > 0) {
    ssize_t n = write(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    data += n;
    size -= static_cast<size_t>(n);
  }
}

bool WriteFile(const std::string& path, const std::string& content, mode_t mode) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return false;
  WriteAll(fd, content.data(), content.size());
  bool ok = fchmod(fd, mode) == 0;
  return close(fd) == 0 && ok;
}

// Reads a regular file up to `limit` bytes; false when it is missing or not a regular file.
bool ReadFileTo(const std::string& path, size_t limit, std::string* out) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return false;
  }
  out->clear();
  char buf[kReadChunk];
  while (out->size() < limit) {
    ssize_t n = read(fd, buf, std::min(sizeof(buf), limit - out->size()));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out->append(buf, static_cast<size_t>(n));
  }
  close(fd);
  return true;
}

// Owns a file descriptor.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  int get() const { return fd_; }
  void Reset(int fd) {
    if (fd_ >= 0) close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

// Where the task's view of the file system differs from the host's: its /tmp and private dirs.
struct PathMap {
  std::string attempt_dir;  // visible at the same path inside the task
  std::string tmp_dir;      // host directory behind the task's /tmp; empty: /tmp is shared
  std::vector<std::pair<std::string, std::string>> private_dirs;  // task path -> host directory

  // The host path of `path` as the task sees it (absolute).
  std::string ToHost(const std::string& path) const {
    if (IsUnder(path, attempt_dir)) return path;
    const std::pair<std::string, std::string>* best = nullptr;  // the innermost mount
    for (const auto& dir : private_dirs) {
      if (IsUnder(path, dir.first) && (!best || dir.first.size() > best->first.size())) best = &dir;
    }
    if (best) return best->second + path.substr(best->first.size());
    if (!tmp_dir.empty() && IsUnder(path, "/tmp")) return tmp_dir + path.substr(4);
    return path;
  }
};

// What the attempts of one runner share.
struct RunnerState {
  RunnerOptions options;
  std::vector<std::pair<std::string, std::string>> inherited_env;
  Fd dev_null;
  std::mutex mu;
  std::unordered_map<std::string, int> running;  // attempt id -> its cancel eventfd; guarded by mu

  // False when the attempt is already running.
  bool Register(const std::string& attempt_id, int event_fd);
  void Unregister(const std::string& attempt_id);
  void Cancel(const std::string& attempt_id);
};

// The state of one attempt while it runs; cleans up its directory when done.
class Attempt {
 public:
  Attempt(RunnerState* runner, const ExecSpec& spec) : runner_(runner), spec_(spec) {}
  ~Attempt();

  ExecResult Run();

 private:
  // Prepares directories, argv, env and the spawn request; false (with result_.message) when
  // the task cannot start.
  bool Prepare();
  bool PrepareCommand();
  bool PrepareSidecars();
  bool PrepareFileSystem();
  std::vector<std::string> BuildEnv(
      const std::vector<std::pair<std::string, std::string>>& task_env) const;
  // Resolves argv[0] through the PATH of `env` into request->path; false (with result_.message)
  // when it is not found.
  bool ResolveCommand(const std::vector<std::string>& argv, SpawnRequest* request);
  // Starts the sidecars; false (with result_.message, the started ones stopped) when one cannot.
  bool StartSidecars();
  // Reads what a sidecar printed into the log, line by line with its name; false at end of file.
  bool ReadSidecar(size_t i);
  void LogSidecarLine(const std::string& name, std::string_view line);
  // Once the main process has exited: SIGTERM, then SIGKILL after the grace period, and reap.
  void StopSidecars();
  // Waits for the leader to exit while draining stdout and acting on the timeout and cancel.
  void Supervise(const Spawned& child);
  void StartStopping(pid_t pgid, int64_t now_us);
  // Reads what is available on one of the task's pipes into the log and, for stdout, into
  // `result`; false at end of file.
  bool ReadPipe(int fd, std::string* result);
  // Appends to the log, creating it on the task's first output; a failure costs the log, not the
  // task.
  void WriteLog(const char* data, size_t size);
  void DrainStdout();
  void Reap(const Spawned& child);
  void ReadOutputFiles();
  // The host path of a path the task sees (relative ones are below its working directory).
  std::string HostPath(const std::string& path) const;
  // HostPath of an output the task may also have written relative to the directory it started in.
  std::string OutputHostPath(const std::string& path) const;
  bool PlaceInputArtifacts();  // false (with result_.message) when one cannot be placed
  // Bind-mounts `host` (a file or a directory) at `target` in the task's view, making the mount
  // point on the host to match.
  Status MountAt(const std::string& host, const std::string& target);
  void SaveOutputArtifacts();
  ExecResult NotStarted(std::string message);

  RunnerState* runner_;
  const ExecSpec& spec_;
  ExecResult result_;
  std::string attempt_dir_;
  bool created_dir_ = false;
  bool registered_ = false;
  bool private_mounts_ = false;
  PathMap paths_;
  SpawnRequest request_;
  Fd log_fd_;
  bool log_failed_ = false;
  bool reused_dir_ = false;
  Fd stdout_read_;
  Fd stderr_read_;
  Fd event_fd_;
  int64_t kill_at_us_ = -1;  // monotonic; SIGKILL the group then
  bool stopping_ = false;
  int term_signal_ = 0;  // the signal that ended the leader, if one did
  struct Sidecar {
    const SidecarSpec* spec = nullptr;
    SpawnRequest request;
    Spawned child;
    Fd output;            // its stdout and stderr
    std::string partial;  // the start of a line it has not ended yet
  };
  std::deque<Sidecar> sidecars_;
  // Per input artifact: at a free top-level path of its own, so mounted there as it is placed.
  std::vector<bool> own_mounts_;  // a deque: a Sidecar owns file descriptors and cannot move
};

Attempt::~Attempt() {
  if (registered_) runner_->Unregister(spec_.attempt_id);
  if (reused_dir_) {
    // Usually empty; whatever the task left goes, the directory stays for the next one.
    std::error_code ec;
    for (fs::directory_iterator it(attempt_dir_, ec), end; !ec && it != end; it.increment(ec)) {
      std::error_code ignored;
      fs::remove_all(it->path(), ignored);
    }
  } else if (created_dir_ && !runner_->options.keep_attempt_dirs) {
    // Most tasks leave nothing behind: two rmdirs are much cheaper than a directory walk.
    if (spec_.private_tmp) rmdir((attempt_dir_ + "/tmp").c_str());
    if (rmdir(attempt_dir_.c_str()) != 0) {
      std::error_code ec;
      fs::remove_all(attempt_dir_, ec);
    }
  }
}

ExecResult Attempt::NotStarted(std::string message) {
  result_.started = false;
  result_.message = std::move(message);
  result_.finished_us = NowMicros(CLOCK_REALTIME);
  return std::move(result_);
}

ExecResult Attempt::Run() {
  result_.started_us = NowMicros(CLOCK_REALTIME);
  // Registered first: a Cancel() that arrives while preparing stops the task as soon as it runs.
  event_fd_.Reset(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (event_fd_.get() < 0) return NotStarted("eventfd: " + ErrnoText(errno));
  if (!runner_->Register(spec_.attempt_id, event_fd_.get())) {
    return NotStarted("attempt " + spec_.attempt_id + " is already running");
  }
  registered_ = true;
  if (!Prepare()) return NotStarted(std::move(result_.message));

  Fd stdout_write;
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) return NotStarted("pipe: " + ErrnoText(errno));
  stdout_read_.Reset(pipe_fds[0]);
  stdout_write.Reset(pipe_fds[1]);
  fcntl(stdout_read_.get(), F_SETFL, O_NONBLOCK);

  // stderr goes only to the log, through a pipe too: the log file is created on first output.
  Fd stderr_write;
  if (!spec_.log_path.empty()) {
    if (pipe2(pipe_fds, O_CLOEXEC) != 0) return NotStarted("pipe: " + ErrnoText(errno));
    stderr_read_.Reset(pipe_fds[0]);
    stderr_write.Reset(pipe_fds[1]);
    fcntl(stderr_read_.get(), F_SETFL, O_NONBLOCK);
  }

  request_.stdin_fd = runner_->dev_null.get();
  request_.stdout_fd = stdout_write.get();
  request_.stderr_fd = stderr_write.get() >= 0 ? stderr_write.get() : runner_->dev_null.get();
  result_.started_us = NowMicros(CLOCK_REALTIME);
  if (!StartSidecars()) return NotStarted(std::move(result_.message));
  Spawned child = Spawn(request_);
  stdout_write.Reset(-1);
  stderr_write.Reset(-1);
  if (child.pid < 0) {
    StopSidecars();
    if (child.step == "exec" && (child.error == ENOENT || child.error == ENOTDIR)) {
      return NotStarted(NotFoundMessage(spec_, spec_.argv[0]));
    }
    if (child.step == "exec") {
      return NotStarted("cannot run \"" + request_.path + "\": " + ErrnoText(child.error));
    }
    return NotStarted("cannot start the task (" + child.step + "): " + ErrnoText(child.error));
  }
  result_.started = true;
  Supervise(child);
  Reap(child);
  DrainStdout();
  close(child.pidfd);
  StopSidecars();
  result_.finished_us = NowMicros(CLOCK_REALTIME);

  if (result_.output_tail.size() > kOutputTail) {
    result_.output_tail.erase(0, result_.output_tail.size() - kOutputTail);
  }
  if (result_.stdout_text.size() > kStdoutTail) {
    result_.stdout_text.erase(0, result_.stdout_text.size() - kStdoutTail);
  }
  if (!result_.stdout_text.empty() && result_.stdout_text.back() == '\n') {
    result_.stdout_text.pop_back();
  }
  if (result_.timed_out) {
    result_.message = "timeout after " + DurationText(spec_.timeout_ms);
  } else if (result_.cancelled) {
    result_.message = "cancelled";
  } else if (term_signal_ != 0) {
    const char* name = sigabbrev_np(term_signal_);
    result_.message = "Error (exit code " + std::to_string(result_.exit_code) + ": SIG" +
                      (name ? name : "?") + ")";
  } else if (result_.exit_code != 0) {
    result_.message = "Error (exit code " + std::to_string(result_.exit_code) + ")";
  }
  ReadOutputFiles();
  SaveOutputArtifacts();
  return std::move(result_);
}

std::string Attempt::HostPath(const std::string& path) const {
  std::string task_path =
      !path.empty() && path[0] == '/' ? path : JoinPath(request_.working_dir, path);
  return paths_.ToHost(fs::path(task_path).lexically_normal().string());
}

bool Attempt::PlaceInputArtifacts() {
  for (size_t i = 0; i < spec_.input_artifacts.size(); ++i) {
    const InputArtifact& a = spec_.input_artifacts[i];
    // One at a top-level path of its own ("/file") is placed in the attempt directory and
    // mounted there: it may be a file, which a private directory at that path could not hold.
    const bool own_mount = private_mounts_ && own_mounts_[i];
    const std::string host =
        own_mount ? attempt_dir_ + "/dirs/input-" + std::to_string(i) : HostPath(a.path);
    Status placed = a.data ? WriteArtifactData(*a.data, host) : UnpackArtifact(a.file, host);
    if (placed.ok() && own_mount) placed = MountAt(host, a.path);
    if (!placed.ok()) {
      result_.message = "input artifact at " + a.path + ": " + placed.error().message;
      return false;
    }
  }
  return true;
}

Status Attempt::MountAt(const std::string& host, const std::string& target) {
  std::error_code ec;
  const bool dir = fs::is_directory(host, ec);
  if (!fs::exists(fs::symlink_status(target, ec))) {
    if (dir) {
      fs::create_directory(target, ec);
    } else if (int fd = open(target.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644); fd >= 0) {
      close(fd);
    }
  }
  if (!fs::exists(target, ec) || fs::is_directory(target, ec) != dir) {
    return Fail(IoError(std::string("cannot mount the ") + (dir ? "directory" : "file") + " at " +
                        target + ": the host has no " + (dir ? "directory" : "file") +
                        " there to mount it on"));
  }
  paths_.private_dirs.emplace_back(target, host);
  request_.mounts.push_back(BindMount{host, target, false});
  return {};
}

std::string Attempt::OutputHostPath(const std::string& path) const {
  std::string host = HostPath(path);
  if (!spec_.working_dir.empty() || path.empty() || path[0] != '/') return host;
  std::error_code ec;
  // An empty directory may be only the private mount point made for a top-level path
  // ("/result.txt"), which the task never wrote.
  const fs::file_status st = fs::symlink_status(host, ec);
  if (fs::exists(st) && !(fs::is_directory(st) && fs::is_empty(host, ec))) return host;
  // Without a workingDir a container starts in its image's root, where the attempt directory
  // stands in: a file the task wrote as "result.txt" is the output "/result.txt".
  std::string in_attempt = JoinPath(attempt_dir_, fs::path(path).lexically_normal().string());
  return fs::exists(fs::symlink_status(in_attempt, ec)) ? in_attempt : host;
}

void Attempt::SaveOutputArtifacts() {
  for (const OutputArtifact& a : spec_.output_artifacts) {
    Status saved = PackArtifact(OutputHostPath(a.path), a.file, a.archive);
    result_.artifact_errors.push_back(saved.ok() ? "" : saved.error().message);
  }
}

bool Attempt::Prepare() {
  const std::string& id = spec_.attempt_id;
  if (id.empty() || id == "." || id == ".." || id.find('/') != std::string::npos) {
    result_.message = "bad attempt id \"" + id + "\"";
    return false;
  }
  if (spec_.argv.empty() || spec_.argv[0].empty()) {
    result_.message = "no command to run";
    return false;
  }
  if (!spec_.reuse_dir.empty()) {
    attempt_dir_ = spec_.reuse_dir;
    if (mkdir(attempt_dir_.c_str(), 0755) != 0 && errno != EEXIST) {
      result_.message = "cannot create " + attempt_dir_ + ": " + ErrnoText(errno);
      return false;
    }
    reused_dir_ = true;
    return PrepareFileSystem() && PlaceInputArtifacts() && PrepareCommand() && PrepareSidecars();
  }
  attempt_dir_ = JoinPath(runner_->options.work_root, id);
  if (mkdir(attempt_dir_.c_str(), 0755) != 0) {
    if (errno != EEXIST) {
      result_.message = "cannot create " + attempt_dir_ + ": " + ErrnoText(errno);
      return false;
    }
    // Left over from an earlier run (a running attempt with this id was refused already).
    std::error_code ec;
    fs::remove_all(attempt_dir_, ec);
    if (mkdir(attempt_dir_.c_str(), 0755) != 0) {
      result_.message = "cannot create " + attempt_dir_ + ": " + ErrnoText(errno);
      return false;
    }
  }
  created_dir_ = true;
  return PrepareFileSystem() && PlaceInputArtifacts() && PrepareCommand() && PrepareSidecars();
}

// The top-level directory of `path` when the host does not have it or keeps it empty (/inputs,
// /outputs, /mnt): a task may have it private without hiding anything of the host's. "" if not.
std::string FreeTopDir(const std::string& path) {
  if (path.size() < 2 || path[0] != '/') return "";
  std::string top = path.substr(0, path.find('/', 1));
  if (top == "/tmp") return "";
  std::error_code ec;
  if (!fs::exists(fs::symlink_status(top, ec))) return top;
  return fs::is_directory(top, ec) && fs::is_empty(top, ec) ? top : "";
}

// The directories a task gets private and empty, in mount order: its emptyDir volumes (after
// their free top-level directory), and the free top-level directories of its artifact and output
// paths, so that tasks writing there do not meet each other's files, nor leave theirs on the host.
// (A mount point stays behind, empty.)
// A top-level path of its own ("/file", not "/dir/file") that is free as FreeTopDir says, or that
// the host keeps as an empty file (a mount point left by an earlier task).
bool IsFreeTopEntry(const std::string& path) {
  if (path.empty() || path[0] != '/' || path.find('/', 1) != std::string::npos) return false;
  if (FreeTopDir(path) == path) return true;
  std::error_code ec;
  return fs::is_regular_file(fs::symlink_status(path, ec)) && fs::file_size(path, ec) == 0;
}

// `own_mounts`: per input artifact, whether it is at a free top-level path of its own (it is
// mounted as it is placed, not under a private directory).
std::vector<std::string> PrivateDirs(const ExecSpec& spec, const std::vector<bool>& own_mounts) {
  std::vector<std::string> dirs;
  auto add = [&dirs](const std::string& dir) {
    if (!dir.empty() && std::find(dirs.begin(), dirs.end(), dir) == dirs.end()) dirs.push_back(dir);
  };
  for (const std::string& volume : spec.private_dirs) {
    add(FreeTopDir(volume));  // first, so the volume's mount point is made inside it
    add(volume);
  }
  for (size_t i = 0; i < spec.input_artifacts.size(); ++i) {
    if (!own_mounts[i]) add(FreeTopDir(spec.input_artifacts[i].path));
  }
  for (const OutputArtifact& a : spec.output_artifacts) add(FreeTopDir(a.path));
  for (const std::string& path : spec.output_files) add(FreeTopDir(path));
  return dirs;
}

bool Attempt::PrepareFileSystem() {
  for (const InputArtifact& a : spec_.input_artifacts)
    own_mounts_.push_back(IsFreeTopEntry(a.path));
  const std::vector<std::string> private_dirs = PrivateDirs(spec_, own_mounts_);
  const bool top_inputs =
      std::find(own_mounts_.begin(), own_mounts_.end(), true) != own_mounts_.end();
  private_mounts_ =
      (spec_.private_tmp || !private_dirs.empty() || top_inputs) && PrivateMountsSupported();
  paths_.attempt_dir = attempt_dir_;
  request_.new_mount_namespace = private_mounts_;
  if (spec_.private_tmp) {
    std::string tmp = attempt_dir_ + "/tmp";
    if (mkdir(tmp.c_str(), 01777) != 0) {
      result_.message = "cannot create " + tmp + ": " + ErrnoText(errno);
      return false;
    }
    if (private_mounts_) {
      paths_.tmp_dir = tmp;
      if (IsUnder(attempt_dir_, "/tmp")) {
        // The attempt directory itself would be hidden under the new /tmp: show it there at the
        // same path, so the working directory, the script and the bind sources stay reachable.
        std::string mirror = tmp + attempt_dir_.substr(4);
        std::error_code ec;
        fs::create_directories(mirror, ec);
        request_.mounts.push_back(BindMount{attempt_dir_, mirror, false});
      }
      request_.mounts.push_back(BindMount{tmp, "/tmp", true});
    }
  }
  for (size_t i = 0; i < private_dirs.size(); ++i) {
    const std::string& target = private_dirs[i];
    std::error_code ec;
    // No namespace: the task shares the host directories. Inside the private /tmp: a plain
    // directory there is private. (Both made below.)
    if (!private_mounts_ || (!paths_.tmp_dir.empty() && IsUnder(target, "/tmp"))) continue;
    std::string host_dir = attempt_dir_ + "/dirs/" + std::to_string(i);
    fs::create_directories(host_dir, ec);
    const std::string mount_point = paths_.ToHost(target);  // in a private parent, if any
    if (!fs::is_directory(mount_point, ec)) fs::create_directories(mount_point, ec);
    if (ec) {
      result_.message = "cannot create mount point " + target + ": " + ec.message();
      return false;
    }
    paths_.private_dirs.emplace_back(target, host_dir);
    request_.mounts.push_back(BindMount{host_dir, target, false});
  }
  std::error_code ec;
  for (const std::string& volume : spec_.private_dirs)
    fs::create_directories(paths_.ToHost(volume), ec);
  request_.working_dir = spec_.working_dir.empty() ? attempt_dir_ : spec_.working_dir;
  if (spec_.working_dir.empty()) return true;  // the attempt directory, made above
  std::string host_working_dir = paths_.ToHost(request_.working_dir);
  if (!fs::is_directory(host_working_dir, ec)) fs::create_directories(host_working_dir, ec);
  return true;
}

std::vector<std::string> Attempt::BuildEnv(
    const std::vector<std::pair<std::string, std::string>>& task_env) const {
  std::vector<std::pair<std::string, std::string>> vars = runner_->inherited_env;
  auto set = [&vars](const std::string& key, const std::string& value) {
    for (auto& [k, v] : vars) {
      if (k == key) {
        v = value;
        return;
      }
    }
    vars.emplace_back(key, value);
  };
  if (spec_.private_tmp && !private_mounts_) set("TMPDIR", attempt_dir_ + "/tmp");
  for (const auto& [key, value] : task_env) set(key, value);
  std::vector<std::string> env;
  env.reserve(vars.size());
  for (const auto& [key, value] : vars) env.push_back(key + "=" + value);
  return env;
}

bool Attempt::ResolveCommand(const std::vector<std::string>& argv, SpawnRequest* request) {
  const std::string& command = argv[0];
  if (command.find('/') != std::string::npos) {
    request->path = command;
    return true;
  }
  std::string path_var = kDefaultPath;
  for (const std::string& entry : request->env) {
    if (entry.compare(0, 5, "PATH=") == 0) path_var = entry.substr(5);
  }
  request->path = SearchPath(command, path_var);
  if (!request->path.empty()) return true;
  result_.message = NotFoundMessage(spec_, command);
  return false;
}

bool Attempt::PrepareCommand() {
  request_.argv = spec_.argv;
  request_.env = BuildEnv(spec_.env);
  if (!ResolveCommand(spec_.argv, &request_)) return false;
  if (!spec_.script_source.empty()) {
    std::string script = attempt_dir_ + "/script";
    if (!WriteFile(script, spec_.script_source, 0755)) {
      result_.message = "cannot write " + script + ": " + ErrnoText(errno);
      return false;
    }
    request_.argv.push_back(script);
  }
  return true;
}

bool Attempt::PrepareSidecars() {
  for (const SidecarSpec& spec : spec_.sidecars) {
    Sidecar& sidecar = sidecars_.emplace_back();
    sidecar.spec = &spec;
    // The main process's view: working directory, mount namespace and mounts.
    sidecar.request = request_;
    sidecar.request.argv = spec.argv;
    sidecar.request.env = BuildEnv(spec.env);
    if (spec.argv.empty() || spec.argv[0].empty()) {
      result_.message = "sidecar \"" + spec.name + "\": no command to run";
      return false;
    }
    if (!ResolveCommand(spec.argv, &sidecar.request)) {
      result_.message = "sidecar \"" + spec.name + "\": " + result_.message;
      return false;
    }
  }
  return true;
}

bool Attempt::StartSidecars() {
  for (Sidecar& sidecar : sidecars_) {
    Fd write_end;
    if (!spec_.log_path.empty()) {
      int fds[2];
      if (pipe2(fds, O_CLOEXEC) != 0) {
        result_.message = "pipe: " + ErrnoText(errno);
        StopSidecars();
        return false;
      }
      sidecar.output.Reset(fds[0]);
      write_end.Reset(fds[1]);
      fcntl(sidecar.output.get(), F_SETFL, O_NONBLOCK);
    }
    const int out = write_end.get() >= 0 ? write_end.get() : runner_->dev_null.get();
    sidecar.request.stdin_fd = runner_->dev_null.get();
    sidecar.request.stdout_fd = out;
    sidecar.request.stderr_fd = out;
    sidecar.child = Spawn(sidecar.request);
    if (sidecar.child.pid < 0) {
      result_.message = "sidecar \"" + sidecar.spec->name + "\": cannot start \"" +
                        sidecar.request.path + "\" (" + sidecar.child.step +
                        "): " + ErrnoText(sidecar.child.error);
      StopSidecars();
      return false;
    }
  }
  return true;
}

void Attempt::LogSidecarLine(const std::string& name, std::string_view line) {
  std::string text = "[" + name + "] ";
  text.append(line);
  text += '\n';
  WriteLog(text.data(), text.size());
}

bool Attempt::ReadSidecar(size_t i) {
  Sidecar& sidecar = sidecars_[i];
  char buf[kReadChunk];
  auto emit = [&](std::string_view line) { LogSidecarLine(sidecar.spec->name, line); };
  for (;;) {
    ssize_t n = read(sidecar.output.get(), buf, sizeof(buf));
    if (n > 0) {
      sidecar.partial.append(buf, static_cast<size_t>(n));
      size_t start = 0;
      for (size_t nl; (nl = sidecar.partial.find('\n', start)) != std::string::npos;
           start = nl + 1) {
        emit(std::string_view(sidecar.partial).substr(start, nl - start));
      }
      sidecar.partial.erase(0, start);
      if (sidecar.partial.size() > kReadChunk) {  // a very long line: in pieces
        emit(sidecar.partial);
        sidecar.partial.clear();
      }
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    return n != 0;  // an unfinished last line is logged when the sidecar is stopped
  }
}

void Attempt::StopSidecars() {
  std::vector<pollfd> fds;
  for (const Sidecar& sidecar : sidecars_) {
    if (sidecar.child.pid < 0) continue;
    kill(-sidecar.child.pid, SIGTERM);
  }
  // Wait for them to end, reading what they print, until the grace period is over.
  const int64_t kill_at = NowMicros(CLOCK_MONOTONIC) + runner_->options.kill_grace_ms * 1000;
  std::vector<bool> exited(sidecars_.size(), false);
  for (;;) {
    fds.clear();
    for (size_t i = 0; i < sidecars_.size(); ++i) {
      const Sidecar& sidecar = sidecars_[i];
      const bool running = sidecar.child.pid >= 0 && !exited[i];
      fds.push_back({running ? sidecar.child.pidfd : -1, POLLIN, 0});
      fds.push_back({sidecar.output.get(), POLLIN, 0});
    }
    bool any_running = false;
    for (size_t i = 0; i < sidecars_.size(); ++i) any_running |= fds[2 * i].fd >= 0;
    const int64_t now = NowMicros(CLOCK_MONOTONIC);
    if (!any_running || now >= kill_at) break;
    int n = poll(fds.data(), fds.size(), static_cast<int>((kill_at - now + 999) / 1000));
    if (n < 0 && errno != EINTR) break;
    for (size_t i = 0; n > 0 && i < sidecars_.size(); ++i) {
      if (fds[2 * i].revents != 0) exited[i] = true;
      if (fds[2 * i + 1].revents != 0 && !ReadSidecar(i)) sidecars_[i].output.Reset(-1);
    }
  }
  for (size_t i = 0; i < sidecars_.size(); ++i) {
    Sidecar& sidecar = sidecars_[i];
    if (sidecar.child.pid < 0) continue;
    // What is left of its process group goes too (the leader is not reaped yet, so its group id
    // cannot have been reused).
    kill(-sidecar.child.pid, SIGKILL);
    int status = 0;
    while (waitpid(sidecar.child.pid, &status, 0) < 0 && errno == EINTR) {
    }
    close(sidecar.child.pidfd);
    sidecar.child.pid = -1;
    if (sidecar.output.get() >= 0) ReadSidecar(i);
    if (!sidecar.partial.empty()) LogSidecarLine(sidecar.spec->name, sidecar.partial);
    sidecar.partial.clear();
    sidecar.output.Reset(-1);
  }
}

bool Attempt::ReadPipe(int fd, std::string* result) {
  char buf[kReadChunk];  // on the stack: a heap buffer per task would be faulted in every time
  for (;;) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n > 0) {
      WriteLog(buf, static_cast<size_t>(n));
      result_.output_tail.append(buf, static_cast<size_t>(n));
      if (result_.output_tail.size() > 2 * kOutputTail)
        result_.output_tail.erase(0, result_.output_tail.size() - kOutputTail);
      if (result) {
        result->append(buf, static_cast<size_t>(n));
        // Keep the tail; trimming only past twice the limit keeps the copying amortized.
        if (result->size() > 2 * kStdoutTail) result->erase(0, result->size() - kStdoutTail);
      }
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    return n != 0;  // EAGAIN: drained for now; 0: end of file
  }
}

void Attempt::WriteLog(const char* data, size_t size) {
  if (spec_.log_path.empty() || log_failed_) return;
  if (log_fd_.get() < 0) {
    log_fd_.Reset(open(spec_.log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
    if (log_fd_.get() < 0) {
      log_failed_ = true;
      LogWarn("attempt " + spec_.attempt_id + ": cannot open log " + spec_.log_path + ": " +
              ErrnoText(errno) + "; its output is kept as the result only");
      return;
    }
  }
  WriteAll(log_fd_.get(), data, size);
}

void Attempt::DrainStdout() {
  if (stdout_read_.get() >= 0) ReadPipe(stdout_read_.get(), &result_.stdout_text);
  if (stderr_read_.get() >= 0) ReadPipe(stderr_read_.get(), nullptr);
}

void Attempt::StartStopping(pid_t pgid, int64_t now_us) {
  stopping_ = true;
  kill(-pgid, SIGTERM);
  kill_at_us_ = now_us + runner_->options.kill_grace_ms * 1000;
}

void Attempt::Supervise(const Spawned& child) {
  const int64_t deadline_us =
      spec_.timeout_ms > 0 ? NowMicros(CLOCK_MONOTONIC) + spec_.timeout_ms * 1000 : -1;
  int64_t still_running_us =
      spec_.on_still_running
          ? NowMicros(CLOCK_MONOTONIC) + std::max<int64_t>(spec_.still_running_after_ms, 0) * 1000
          : -1;
  std::vector<pollfd> fds = {{child.pidfd, POLLIN, 0},
                             {stdout_read_.get(), POLLIN, 0},
                             {event_fd_.get(), POLLIN, 0},
                             {stderr_read_.get(), POLLIN, 0}};  // -1 (ignored) without a log
  for (const Sidecar& sidecar : sidecars_) fds.push_back({sidecar.output.get(), POLLIN, 0});
  for (;;) {
    int64_t now_us = NowMicros(CLOCK_MONOTONIC);
    if (!stopping_ && deadline_us >= 0 && now_us >= deadline_us) {
      result_.timed_out = true;
      StartStopping(child.pid, now_us);
    }
    if (stopping_ && kill_at_us_ >= 0 && now_us >= kill_at_us_) {
      kill(-child.pid, SIGKILL);
      kill_at_us_ = -1;
    }
    if (still_running_us >= 0 && now_us >= still_running_us) {
      still_running_us = -1;
      spec_.on_still_running();
    }
    int64_t wake_us = stopping_ ? kill_at_us_ : deadline_us;
    if (still_running_us >= 0 && (wake_us < 0 || still_running_us < wake_us)) {
      wake_us = still_running_us;
    }
    int timeout_ms = wake_us < 0 ? -1 : static_cast<int>((wake_us - now_us + 999) / 1000);
    int n = poll(fds.data(), fds.size(), timeout_ms);
    if (n < 0) {
      if (errno == EINTR) continue;
      break;  // cannot wait: Reap() still collects the exit
    }
    if (fds[0].revents != 0) break;  // the leader exited
    if (fds[1].revents != 0 && !ReadPipe(fds[1].fd, &result_.stdout_text)) fds[1].fd = -1;
    if (fds[3].revents != 0 && !ReadPipe(fds[3].fd, nullptr)) fds[3].fd = -1;
    for (size_t i = 0; i < sidecars_.size(); ++i) {
      if (fds[4 + i].revents != 0 && !ReadSidecar(i)) {
        fds[4 + i].fd = -1;
        sidecars_[i].output.Reset(-1);
      }
    }
    if (fds[2].revents != 0) {
      uint64_t value;
      if (read(event_fd_.get(), &value, sizeof(value)) < 0) value = 0;
      fds[2].fd = -1;
      if (!stopping_) {
        result_.cancelled = true;
        StartStopping(child.pid, NowMicros(CLOCK_MONOTONIC));
      }
    }
  }
}

void Attempt::Reap(const Spawned& child) {
  // The leader is a zombie until reaped, so its process group id cannot be reused yet: kill what
  // is left of the group (background children) before reaping. Cancel() only signals the eventfd,
  // so unregistering first keeps it away from a reaped id.
  kill(-child.pid, SIGKILL);
  runner_->Unregister(spec_.attempt_id);
  registered_ = false;
  int status = 0;
  pid_t r;
  do {
    r = waitpid(child.pid, &status, 0);
  } while (r < 0 && errno == EINTR);
  if (r < 0) {
    result_.exit_code = -1;  // reaped elsewhere (SIGCHLD ignored?): the status is lost
  } else if (WIFEXITED(status)) {
    result_.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    term_signal_ = WTERMSIG(status);
    result_.exit_code = 128 + term_signal_;
  }
}

void Attempt::ReadOutputFiles() {
  for (const std::string& path : spec_.output_files) {
    std::string content;
    if (ReadFileTo(OutputHostPath(path), kMaxOutputFile, &content)) {
      result_.files[path] = std::move(content);
    }
  }
}

bool RunnerState::Register(const std::string& attempt_id, int event_fd) {
  std::lock_guard<std::mutex> lock(mu);
  return running.emplace(attempt_id, event_fd).second;
}

void RunnerState::Unregister(const std::string& attempt_id) {
  std::lock_guard<std::mutex> lock(mu);
  running.erase(attempt_id);
}

void RunnerState::Cancel(const std::string& attempt_id) {
  std::lock_guard<std::mutex> lock(mu);
  auto it = running.find(attempt_id);
  if (it == running.end()) return;
  uint64_t one = 1;
  // Fails only when the counter would overflow, which a few cancels cannot do.
  [[maybe_unused]] ssize_t n = write(it->second, &one, sizeof(one));
}

}  // namespace

struct ProcessRunner::Impl {
  RunnerState state;
};

ProcessRunner::ProcessRunner(RunnerOptions options) : impl_(std::make_shared<Impl>()) {
  std::error_code ec;
  fs::create_directories(options.work_root, ec);
  fs::path root = fs::weakly_canonical(fs::absolute(options.work_root, ec), ec);
  if (!ec) options.work_root = root.string();
  RunnerState& state = impl_->state;
  state.options = std::move(options);
  for (const char* name : kInheritedEnv) {
    if (const char* value = getenv(name)) state.inherited_env.emplace_back(name, value);
  }
  state.dev_null.Reset(open("/dev/null", O_RDWR | O_CLOEXEC));
}

ExecResult ProcessRunner::Run(const ExecSpec& spec) {
  Attempt attempt(&impl_->state, spec);
  return attempt.Run();
}

void ProcessRunner::Cancel(const std::string& attempt_id) { impl_->state.Cancel(attempt_id); }

const std::string& ProcessRunner::work_root() const { return impl_->state.options.work_root; }

bool ProcessRunner::PrivateTmpSupported() { return PrivateMountsSupported(); }

}  // namespace hubspoke::exec
