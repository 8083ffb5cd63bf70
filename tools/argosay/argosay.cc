// argosay: a host stand-in for the argoproj/argosay:v2 image, so Argo's examples run on a spoke
// without containers. Usage (as the image understands it):
//   argosay                        prints "hello argo"
//   argosay echo [MSG [FILE]]      prints MSG (default "hello argo"), or writes it to FILE
//   argosay cat FILE...            prints the files
//   argosay sleep DURATION         sleeps ("1s", "2m", "500ms", "1h" or plain seconds)
//   argosay exit [CODE]            exits with CODE (default 0)
//   argosay assert_contains FILE S exits 1 unless FILE contains S
//   argosay assert_equals A B      exits 1 unless A == B
//   argosay sh FILE | sh -c CMD    runs /bin/sh with the remaining arguments
// Thread-safety: a single-threaded program.
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace {

constexpr char kDefaultMessage[] = "hello argo";

int Fail(const std::string& message) {
  std::cerr << "argosay: " << message << "\n";
  return 1;
}

std::optional<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// "500ms", "2s", "3m", "1h" or plain (possibly fractional) seconds; nullopt when malformed.
std::optional<std::chrono::milliseconds> ParseDuration(const std::string& text) {
  char* end = nullptr;
  errno = 0;
  double value = std::strtod(text.c_str(), &end);
  if (end == text.c_str() || errno != 0 || value < 0) return std::nullopt;
  std::string unit(end);
  double ms_per_unit = 0;
  if (unit.empty() || unit == "s") {
    ms_per_unit = 1000;
  } else if (unit == "ms") {
    ms_per_unit = 1;
  } else if (unit == "m") {
    ms_per_unit = 60'000;
  } else if (unit == "h") {
    ms_per_unit = 3'600'000;
  } else {
    return std::nullopt;
  }
  return std::chrono::milliseconds(static_cast<int64_t>(value * ms_per_unit));
}

int Echo(const std::vector<std::string>& args) {
  std::string message = args.empty() ? kDefaultMessage : args[0];
  if (args.size() < 2) {
    std::cout << message << "\n";
    return 0;
  }
  std::filesystem::path file(args[1]);
  std::error_code ec;
  if (file.has_parent_path()) std::filesystem::create_directories(file.parent_path(), ec);
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out << message;
  out.close();
  if (!out) return Fail("cannot write " + args[1] + ": " + std::strerror(errno));
  return 0;
}

int Cat(const std::vector<std::string>& args) {
  for (const std::string& path : args) {
    std::optional<std::string> content = ReadFile(path);
    if (!content) return Fail("cannot read " + path + ": " + std::strerror(errno));
    std::cout << *content;
  }
  return 0;
}

int Sleep(const std::vector<std::string>& args) {
  if (args.empty()) return Fail("sleep needs a duration");
  std::optional<std::chrono::milliseconds> duration = ParseDuration(args[0]);
  if (!duration) return Fail("bad duration \"" + args[0] + "\"");
  std::this_thread::sleep_for(*duration);
  return 0;
}

int Exit(const std::vector<std::string>& args) {
  if (args.empty()) return 0;
  char* end = nullptr;
  long code = std::strtol(args[0].c_str(), &end, 10);
  if (end == args[0].c_str() || *end != '\0') return Fail("bad exit code \"" + args[0] + "\"");
  return static_cast<int>(code);
}

int AssertContains(const std::vector<std::string>& args) {
  if (args.size() != 2) return Fail("assert_contains needs FILE and STRING");
  std::optional<std::string> content = ReadFile(args[0]);
  if (!content) return Fail("cannot read " + args[0] + ": " + std::strerror(errno));
  if (content->find(args[1]) == std::string::npos) {
    return Fail(args[0] + " does not contain \"" + args[1] + "\"");
  }
  return 0;
}

int AssertEquals(const std::vector<std::string>& args) {
  if (args.size() != 2) return Fail("assert_equals needs two values");
  if (args[0] != args[1]) return Fail("\"" + args[0] + "\" != \"" + args[1] + "\"");
  return 0;
}

int Sh(char** argv) {
  // argv points at "sh"; /bin/sh receives everything after it.
  argv[0] = const_cast<char*>("sh");
  execv("/bin/sh", argv);
  return Fail(std::string("cannot run /bin/sh: ") + std::strerror(errno));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cout << kDefaultMessage << "\n";
    return 0;
  }
  std::string command = argv[1];
  std::vector<std::string> args(argv + 2, argv + argc);
  int code = 1;
  if (command == "echo") {
    code = Echo(args);
  } else if (command == "cat") {
    code = Cat(args);
  } else if (command == "sleep") {
    code = Sleep(args);
  } else if (command == "exit") {
    code = Exit(args);
  } else if (command == "assert_contains") {
    code = AssertContains(args);
  } else if (command == "assert_equals") {
    code = AssertEquals(args);
  } else if (command == "sh") {
    code = Sh(argv + 1);
  } else {
    code = Fail("unknown command \"" + command + "\"");
  }
  std::cout.flush();
  return code;
}
