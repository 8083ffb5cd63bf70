#include "exec/sandbox.h"

#include <dirent.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace hubspoke::exec {

Result<std::unique_ptr<ThreadSandbox>> ThreadSandbox::Enter(const std::string& dir) {
  if (dir.rfind("/tmp/", 0) == 0 || dir == "/tmp") {
    return Fail(InvalidArgument("sandbox directory " + dir + " must not be under /tmp"));
  }
  std::error_code ec;
  std::filesystem::create_directories(dir + "/tmp", ec);
  if (ec) return Fail(IoError("cannot create " + dir + "/tmp: " + ec.message()));
  chmod((dir + "/tmp").c_str(), 01777);
  if (unshare(CLONE_NEWNS) != 0) {
    return Fail(IoError(std::string("unshare(CLONE_NEWNS): ") + strerror(errno)));
  }
  if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
      mount((dir + "/tmp").c_str(), "/tmp", nullptr, MS_BIND, nullptr) != 0) {
    return Fail(IoError(std::string("mount: ") + strerror(errno)));
  }
  auto sandbox = std::unique_ptr<ThreadSandbox>(new ThreadSandbox());
  sandbox->Clear();
  return sandbox;
}

void ThreadSandbox::Clear() {
  DIR* d = opendir("/tmp");
  if (!d) return;
  while (dirent* e = readdir(d)) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    std::error_code ec;
    std::filesystem::remove_all(std::string("/tmp/") + e->d_name, ec);
  }
  closedir(d);
}

}  // namespace hubspoke::exec
