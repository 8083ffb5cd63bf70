// The web UI's static files (built by Vite into a directory, see ui/): which file answers a GET,
// with what content type and caching. Client-side routes (/, /login, /spokes, /submit,
// /workflows/...) answer index.html; other paths name a file under the directory, and a path with
// a "." or ".." segment, or one that names no regular file, answers nothing. Thread-safety:
// Resolve is const and reads the file system only; call it from any thread.
#pragma once

#include <optional>
#include <string>

namespace hubspoke::hub {

struct UiFile {
  std::string path;           // the file to send
  std::string content_type;   // e.g. "text/javascript; charset=utf-8"
  std::string cache_control;  // immutable for Vite's hashed assets/, else no-cache
};

class UiFiles {
 public:
  explicit UiFiles(std::string dir) : dir_(std::move(dir)) {}

  // True when the directory holds index.html (the UI has been built).
  bool Built() const;
  // True when `path` is one of the UI's own pages (routed in the browser).
  static bool IsPage(const std::string& path);
  // The file that answers GET `path` (already percent-decoded), or nullopt.
  std::optional<UiFile> Resolve(const std::string& path) const;

 private:
  std::string dir_;
};

}  // namespace hubspoke::hub
