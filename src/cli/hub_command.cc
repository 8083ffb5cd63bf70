#include "cli/hub_command.h"

#include <fcntl.h>
#include <pthread.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <thread>

#include "common/log.h"
#include "hub/http_api.h"
#include "hub/hub.h"
#include "hub/spoke_service.h"
#include "spec/catalog.h"
#include "store/store.h"

namespace hubspoke::cli {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;

int Failed(const std::string& message, int code = kExitFailed) {
  std::cerr << "hubspoke hub: " << message << "\n";
  return code;
}

// "HOST:PORT" or "[V6]:PORT" into host and port.
bool ParseListen(const std::string& text, std::string& host, int& port) {
  size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) return false;
  host = text.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  std::string digits = text.substr(colon + 1);
  if (digits.size() > 5 ||
      !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return false;
  }
  port = std::stoi(digits);
  return port <= 65535;
}

std::string Trimmed(std::string s) {
  s.erase(s.find_last_not_of(" \t\r\n") + 1);
  s.erase(0, s.find_first_not_of(" \t\r\n"));
  return s;
}

Result<std::string> ReadToken(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Fail(IoError("cannot read token file " + path + ": " + strerror(errno)));
  std::stringstream ss;
  ss << in.rdbuf();
  std::string token = Trimmed(ss.str());
  if (token.empty()) return Fail(InvalidArgument("token file " + path + " is empty"));
  return token;
}

// DATA/token: read it, or create it (32 random bytes as hex, mode 0600) when absent.
Result<std::string> DataDirToken(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) == 0) {
    if (st.st_mode & 077) {
      LogWarn("hubspoke hub: " + path + " is readable by other users; chmod 600 it");
    }
    std::cerr << "hubspoke hub: clients authenticate with the token in " << path << "\n";
    return ReadToken(path);
  }
  unsigned char bytes[32];
  if (getrandom(bytes, sizeof(bytes), 0) != static_cast<ssize_t>(sizeof(bytes))) {
    return Fail(IoError(std::string("cannot generate a token: ") + strerror(errno)));
  }
  static const char* kHex = "0123456789abcdef";
  std::string token;
  for (unsigned char b : bytes) {
    token += kHex[b >> 4];
    token += kHex[b & 15];
  }
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return Fail(IoError("cannot create " + path + ": " + strerror(errno)));
  bool written = write(fd, token.data(), token.size()) == static_cast<ssize_t>(token.size());
  close(fd);
  if (!written) return Fail(IoError("cannot write " + path));
  std::cerr << "hubspoke hub: generated a token for clients in " << path << "\n";
  return token;
}

// Holds an exclusive lock on DATA/hub.lock while the hub runs; it records the hub's pid.
class DirLock {
 public:
  ~DirLock() {
    if (fd_ >= 0) close(fd_);
  }
  Status Acquire(const std::string& dir) {
    std::string path = dir + "/hub.lock";
    fd_ = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) return Fail(IoError("cannot open " + path + ": " + strerror(errno)));
    if (flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      char pid[32] = {};
      ssize_t n = pread(fd_, pid, sizeof(pid) - 1, 0);
      std::string who = n > 0 ? " (pid " + Trimmed(pid) + ")" : "";
      return Fail(Error{ErrorCode::kFailedPrecondition,
                        "another hub" + who + " is already running on " + dir + ": it holds " +
                            path + "; its address is in " + dir +
                            "/address. Stop it first, or give this hub another --data DIR",
                        ""});
    }
    std::string pid = std::to_string(getpid()) + "\n";
    if (ftruncate(fd_, 0) != 0 || pwrite(fd_, pid.data(), pid.size(), 0) < 0) {
      LogWarn("hubspoke hub: cannot record the pid in " + path);
    }
    return {};
  }

 private:
  int fd_ = -1;
};

Status WriteAtomically(const std::string& path, const std::string& text) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << text;
    if (!out.flush()) return Fail(IoError("cannot write " + tmp));
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) return Fail(IoError("cannot write " + path + ": " + ec.message()));
  return {};
}

// The web UI that scripts/build.sh puts beside the binary: build/ui next to build/hubspoke.
std::string DefaultUiDir() {
  std::error_code ec;
  std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return "";
  return (exe.parent_path() / "ui").string();
}

}  // namespace

int DoHub(const HubFlags& flags) {
  std::string host;
  int port = 0;
  if (!ParseListen(flags.listen, host, port)) {
    return Failed("--listen " + flags.listen + ": expected HOST:PORT, e.g. 127.0.0.1:2746",
                  kExitUsage);
  }
  // A service logs what it does (restarts, lost spokes); HUBSPOKE_LOG=debug says more.
  if (GetLogLevel() > LogLevel::kInfo) SetLogLevel(LogLevel::kInfo);
  hub::HubOptions options;
  options.data_dir = flags.data_dir;
  options.forget_finished = true;
  options.resumable = true;
  options.local_spokes = flags.spokes >= 0
                             ? flags.spokes
                             : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  options.spoke_lease_ms = static_cast<int64_t>(flags.spoke_lease_s) * 1000;
  std::string spoke_host;
  int spoke_port = 0;
  if (!ParseListen(flags.spoke_listen, spoke_host, spoke_port)) {
    return Failed(
        "--spoke-listen " + flags.spoke_listen + ": expected HOST:PORT, e.g. 0.0.0.0:2747",
        kExitUsage);
  }
  if (flags.spoke_tls_cert.empty() != flags.spoke_tls_key.empty()) {
    return Failed("--spoke-tls-cert and --spoke-tls-key go together", kExitUsage);
  }
  for (const std::string& m : flags.image_maps) {
    if (!options.images.Add(m))
      return Failed("--image-map " + m + ": expected IMAGE=COMMAND", kExitUsage);
  }
  for (const std::string& s : flags.semaphores) {
    if (!hub::AddSemaphoreLimit(s, options.semaphore_limits))
      return Failed("--semaphore " + s + ": expected NAME/KEY=LIMIT (LIMIT >= 1)", kExitUsage);
  }

  std::error_code ec;
  std::filesystem::create_directories(flags.data_dir, ec);
  if (ec) {
    return Failed("cannot create data directory " + flags.data_dir + ": " + ec.message() +
                  " (choose another with --data DIR)");
  }
  DirLock lock;
  if (Status s = lock.Acquire(flags.data_dir); !s.ok()) return Failed(s.error().ToString());

  std::string token;
  if (flags.auth == "none") {
    LogWarn("hubspoke hub: --auth none: anyone who can connect to " + flags.listen +
            " can run commands on this machine as this user");
  } else {
    auto read = flags.token_file.empty() ? DataDirToken(flags.data_dir + "/token")
                                         : ReadToken(flags.token_file);
    if (!read.ok()) return Failed(read.error().ToString());
    token = *read;
  }

  // Every thread started from here on inherits the mask, so only sigwait below sees the signals.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);  // a client that went away must not end the hub

  auto store = store::OpenSqlite({flags.data_dir + "/hubspoke.db"});
  if (!store.ok()) return Failed(store.error().ToString());
  // The hub uses its remote spokes until it stops: it is destroyed before their service.
  std::unique_ptr<hub::SpokeService> spoke_service;
  hub::Hub hub(std::move(options), std::move(*store), spec::Catalog{});
  hub::HttpApiOptions api_options;
  api_options.host = host;
  api_options.port = port;
  api_options.token = token;
  api_options.version = flags.version;
  api_options.ui_dir = flags.ui_dir.empty() ? DefaultUiDir() : flags.ui_dir;
  hub::HttpApi api(hub, api_options);
  auto bound = api.Start();
  if (!bound.ok()) return Failed(bound.error().ToString());

  std::string url_host = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  std::string url = "http://" + url_host + ":" + std::to_string(*bound);
  std::string address_file = flags.data_dir + "/address";
  if (Status s = WriteAtomically(address_file, url); !s.ok()) return Failed(s.error().ToString());
  hub::SpokeServiceOptions spoke_options;
  spoke_options.listen = flags.spoke_listen;
  spoke_options.token = token;
  spoke_options.lease_ms = static_cast<int64_t>(flags.spoke_lease_s) * 1000;
  spoke_options.tls_cert = flags.spoke_tls_cert;
  spoke_options.tls_key = flags.spoke_tls_key;
  spoke_options.tls_ca = flags.spoke_tls_ca;
  spoke_service = std::make_unique<hub::SpokeService>(hub, spoke_options);
  auto spoke_bound = spoke_service->Start();
  if (!spoke_bound.ok()) {
    spoke_service->Stop();
    return Failed(spoke_bound.error().ToString());
  }
  std::string spoke_address =
      (spoke_host.find(':') != std::string::npos ? "[" + spoke_host + "]" : spoke_host) + ":" +
      std::to_string(*spoke_bound);
  std::string spoke_address_file = flags.data_dir + "/spoke-address";
  if (Status s = WriteAtomically(spoke_address_file, spoke_address); !s.ok()) {
    spoke_service->Stop();
    return Failed(s.error().ToString());
  }

  if (!std::filesystem::exists(api_options.ui_dir + "/index.html", ec)) {
    LogWarn("hubspoke hub: no web UI in " + api_options.ui_dir +
            " (build it with scripts/build.sh, or give --ui DIR); the API is served all the same");
  }
  std::cerr << "hubspoke hub: listening on " << url << "\n"
            << "hubspoke hub: spokes connect to " << spoke_address << "\n"
            << std::flush;

  int received = 0;
  sigwait(&signals, &received);
  std::cerr << "hubspoke hub: " << strsignal(received) << ", stopping\n";
  api.Stop();
  spoke_service->Stop();
  std::filesystem::remove(address_file, ec);
  std::filesystem::remove(spoke_address_file, ec);
  if (auto err = hub.StoreError()) {
    std::cerr << "hubspoke hub: warning: state was not fully saved: " << err->ToString() << "\n";
  }
  return kExitOk;
}

}  // namespace hubspoke::cli
