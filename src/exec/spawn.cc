#include "exec/spawn.h"

#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <mutex>

namespace hubspoke::exec {
namespace {

// C views of a request, built before the clone so the child only makes system calls.
struct CMount {
  const char* source;
  const char* target;
  unsigned long flags;
};

enum class ChildStep { kNone, kPrivateRoot, kMount, kChdir, kExec };

struct ChildContext {
  const char* path = nullptr;
  char* const* argv = nullptr;
  char* const* envp = nullptr;
  const char* working_dir = nullptr;
  bool new_mount_namespace = false;
  const CMount* mounts = nullptr;
  size_t mount_count = 0;
  int fds[3] = {-1, -1, -1};
  // Written by the child (memory is shared until it execs or exits).
  int error = 0;
  ChildStep failed_step = ChildStep::kNone;
  size_t failed_mount = 0;
};

// Stack for the cloned child: it only runs ChildMain's system calls, and the parent is suspended
// (CLONE_VFORK) until the child execs or exits, so the parent's frame can hold it.
constexpr size_t kChildStackSize = 32 * 1024;

int ChildFail(ChildContext* ctx, ChildStep step) {
  ctx->error = errno;
  ctx->failed_step = step;
  _exit(127);
}

int ChildMain(void* arg) {
  auto* ctx = static_cast<ChildContext*>(arg);
  // The parent's handlers must never run here (they would run on shared memory); all signals are
  // blocked by the parent until the mask is cleared just before exec.
  struct sigaction dfl = {};
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) sigaction(sig, &dfl, nullptr);
  setsid();
  if (ctx->new_mount_namespace && mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
    return ChildFail(ctx, ChildStep::kPrivateRoot);
  }
  for (size_t i = 0; i < ctx->mount_count; ++i) {
    const CMount& m = ctx->mounts[i];
    if (mount(m.source, m.target, nullptr, m.flags, nullptr) != 0) {
      ctx->failed_mount = i;
      return ChildFail(ctx, ChildStep::kMount);
    }
  }
  if (ctx->path == nullptr) _exit(0);  // a probe
  if (ctx->working_dir != nullptr && chdir(ctx->working_dir) != 0) {
    return ChildFail(ctx, ChildStep::kChdir);
  }
  for (int fd = 0; fd < 3; ++fd) {
    if (ctx->fds[fd] != fd) dup2(ctx->fds[fd], fd);
  }
  close_range(3, ~0U, 0);
  sigset_t empty;
  sigemptyset(&empty);
  sigprocmask(SIG_SETMASK, &empty, nullptr);
  execve(ctx->path, ctx->argv, ctx->envp);
  return ChildFail(ctx, ChildStep::kExec);
}

std::vector<char*> CStrings(const std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (const std::string& s : strings) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

Spawned Failed(int error, std::string step) {
  Spawned s;
  s.error = error;
  s.step = std::move(step);
  return s;
}

Spawned SpawnClone(const SpawnRequest& request) {
  std::vector<char*> argv = CStrings(request.argv);
  std::vector<char*> envp = CStrings(request.env);
  std::vector<CMount> mounts;
  mounts.reserve(request.mounts.size());
  for (const BindMount& m : request.mounts) {
    mounts.push_back(CMount{m.source.c_str(), m.target.c_str(),
                            MS_BIND | (m.recursive ? static_cast<unsigned long>(MS_REC) : 0UL)});
  }
  ChildContext ctx;
  ctx.path = request.path.empty() ? nullptr : request.path.c_str();
  ctx.argv = argv.data();
  ctx.envp = envp.data();
  ctx.working_dir = request.working_dir.empty() ? nullptr : request.working_dir.c_str();
  ctx.new_mount_namespace = request.new_mount_namespace;
  ctx.mounts = mounts.data();
  ctx.mount_count = mounts.size();
  ctx.fds[0] = request.stdin_fd;
  ctx.fds[1] = request.stdout_fd;
  ctx.fds[2] = request.stderr_fd;

  alignas(64) char stack[kChildStackSize];
  sigset_t all;
  sigset_t old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  int pidfd = -1;
  int flags = CLONE_VM | CLONE_VFORK | CLONE_PIDFD | SIGCHLD;
  if (request.new_mount_namespace) flags |= CLONE_NEWNS;
  pid_t pid = clone(ChildMain, stack + sizeof(stack), flags, &ctx, &pidfd);
  int clone_error = errno;
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  if (pid < 0) return Failed(clone_error, "clone");
  if (ctx.failed_step != ChildStep::kNone || ctx.path == nullptr) {
    // The child has exited (a failure, or a probe): reap it here.
    int status = 0;
    waitpid(pid, &status, 0);
    close(pidfd);
    switch (ctx.failed_step) {
      case ChildStep::kNone:
        return Failed(WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : ECHILD, "probe");
      case ChildStep::kPrivateRoot:
        return Failed(ctx.error, "making / private");
      case ChildStep::kMount: {
        const BindMount& m = request.mounts[ctx.failed_mount];
        return Failed(ctx.error, "bind-mounting " + m.source + " onto " + m.target);
      }
      case ChildStep::kChdir:
        return Failed(ctx.error, "chdir");
      case ChildStep::kExec:
        return Failed(ctx.error, "exec");
    }
  }
  Spawned s;
  s.pid = pid;
  s.pidfd = pidfd;
  return s;
}

}  // namespace

Spawned Spawn(const SpawnRequest& request) { return SpawnClone(request); }

bool PrivateMountsSupported() {
  static std::once_flag once;
  static bool supported = false;
  std::call_once(once, [] {
    SpawnRequest probe;
    probe.new_mount_namespace = true;
    probe.mounts.push_back(BindMount{"/tmp", "/tmp", true});
    supported = Spawn(probe).error == 0;
  });
  return supported;
}

}  // namespace hubspoke::exec
