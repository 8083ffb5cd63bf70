#include "hub/ui_files.h"

#include <sys/stat.h>

#include <string_view>

namespace hubspoke::hub {
namespace {

bool IsRegularFile(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

std::string ContentType(std::string_view path) {
  size_t dot = path.rfind('.');
  std::string_view ext = dot == std::string_view::npos ? "" : path.substr(dot + 1);
  if (ext == "html") return "text/html; charset=utf-8";
  if (ext == "js" || ext == "mjs") return "text/javascript; charset=utf-8";
  if (ext == "css") return "text/css; charset=utf-8";
  if (ext == "json" || ext == "map") return "application/json";
  if (ext == "svg") return "image/svg+xml";
  if (ext == "png") return "image/png";
  if (ext == "ico") return "image/x-icon";
  if (ext == "woff2") return "font/woff2";
  if (ext == "txt") return "text/plain; charset=utf-8";
  return "application/octet-stream";
}

// True when every "/"-separated segment after the leading "/" is a plain name.
bool SafeRelative(std::string_view path) {
  if (path.empty() || path.front() != '/' || path.find('\0') != std::string_view::npos) {
    return false;
  }
  size_t start = 1;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) slash = path.size();
    std::string_view segment = path.substr(start, slash - start);
    if (segment.empty() || segment == "." || segment == "..") return false;
    start = slash + 1;
  }
  return true;
}

}  // namespace

bool UiFiles::Built() const { return !dir_.empty() && IsRegularFile(dir_ + "/index.html"); }

bool UiFiles::IsPage(const std::string& path) {
  return path == "/" || path == "/login" || path == "/spokes" || path == "/submit" ||
         path == "/workflows" || path.rfind("/workflows/", 0) == 0;
}

std::optional<UiFile> UiFiles::Resolve(const std::string& path) const {
  if (IsPage(path)) {
    if (!Built()) return std::nullopt;
    return UiFile{dir_ + "/index.html", ContentType(".html"), "no-cache"};
  }
  if (dir_.empty() || !SafeRelative(path)) return std::nullopt;
  std::string file = dir_ + path;
  if (!IsRegularFile(file)) return std::nullopt;
  // Vite names what it puts in assets/ by content hash: a new build gets new names.
  bool hashed = path.rfind("/assets/", 0) == 0;
  return UiFile{file, ContentType(path),
                hashed ? "public, max-age=31536000, immutable" : "no-cache"};
}

}  // namespace hubspoke::hub
