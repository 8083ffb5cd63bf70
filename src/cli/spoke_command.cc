#include "cli/spoke_command.h"

#include <pthread.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "spoke/remote_spoke.h"

namespace hubspoke::cli {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;

int Failed(const std::string& message, int code = kExitFailed) {
  std::cerr << "hubspoke spoke: " << message << "\n";
  return code;
}

std::string Trimmed(std::string s) {
  s.erase(s.find_last_not_of(" \t\r\n") + 1);
  s.erase(0, s.find_first_not_of(" \t\r\n"));
  return s;
}

// "k=v,k2=v2" (repeatable) into labels; false on an entry without a key.
bool ParseLabels(const std::vector<std::string>& texts, std::map<std::string, std::string>& out) {
  for (const std::string& text : texts) {
    std::stringstream ss(text);
    std::string item;
    while (std::getline(ss, item, ',')) {
      item = Trimmed(item);
      size_t eq = item.find('=');
      if (eq == std::string::npos || eq == 0) return false;
      out[item.substr(0, eq)] = item.substr(eq + 1);
    }
  }
  return true;
}

}  // namespace

int DoSpoke(SpokeFlags flags) {
  spoke::RemoteSpokeOptions options;
  options.hub = flags.hub;
  options.name = flags.name;
  if (options.name.empty()) {
    char host[256] = {};
    gethostname(host, sizeof host - 1);
    options.name = host;
  }
  if (options.name == "local" || options.name.rfind("local-", 0) == 0) {
    return Failed(
        "spoke names \"local\" and \"local-*\" are reserved for the hub's own spokes: "
        "give another --name",
        kExitUsage);
  }
  options.slots = flags.slots > 0
                      ? flags.slots
                      : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  if (!ParseLabels(flags.labels, options.labels)) {
    return Failed("--labels: expected k=v[,k=v]", kExitUsage);
  }
  for (const std::string& m : flags.image_maps) {
    if (!options.images.Add(m))
      return Failed("--image-map " + m + ": expected IMAGE=COMMAND", kExitUsage);
  }
  if (!flags.token_file.empty()) {
    std::ifstream in(flags.token_file);
    if (!in) return Failed("cannot read token file " + flags.token_file + ": " + strerror(errno));
    std::stringstream ss;
    ss << in.rdbuf();
    options.token = Trimmed(ss.str());
    if (options.token.empty()) return Failed("token file " + flags.token_file + " is empty");
  } else if (const char* env = getenv("HUBSPOKE_TOKEN"); env && *env) {
    options.token = env;
  }
  if (flags.tls_cert.empty() != flags.tls_key.empty()) {
    return Failed("--tls-cert and --tls-key go together", kExitUsage);
  }
  options.tls_ca = flags.tls_ca;
  options.tls_cert = flags.tls_cert;
  options.tls_key = flags.tls_key;
  options.work_dir =
      flags.work_dir.empty() ? flags.state_dir + "/spoke-" + options.name : flags.work_dir;
  options.version = flags.version;

  // Every thread started from here on inherits the mask, so only the waiter below sees them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  std::cerr << "hubspoke spoke: " << options.name << " with " << options.slots
            << " slot(s) joining the hub at " << options.hub << "\n"
            << std::flush;
  spoke::RemoteSpokeAgent agent(options);
  std::atomic<bool> done{false};
  std::thread waiter([&] {
    const timespec tick{0, 200'000'000};
    bool draining = false;
    while (!done) {
      int sig = sigtimedwait(&signals, nullptr, &tick);
      if (sig <= 0) continue;
      if (draining) {
        std::cerr << "hubspoke spoke: still draining; kill -9 to stop now\n";
        continue;
      }
      draining = true;
      std::cerr << "hubspoke spoke: " << strsignal(sig) << ", draining\n";
      agent.Drain();
    }
  });
  Status ran = agent.Run();
  done = true;
  waiter.join();
  if (!ran.ok()) return Failed(ran.error().ToString());
  std::cerr << "hubspoke spoke: drained, exiting\n";
  return kExitOk;
}

}  // namespace hubspoke::cli
