#include "exec/artifacts.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <vector>

namespace hubspoke::exec {
namespace {

namespace fs = std::filesystem;

struct ArchiveCloser {
  void operator()(archive* a) const { archive_free(a); }
};
using ArchivePtr = std::unique_ptr<archive, ArchiveCloser>;

struct EntryFreer {
  void operator()(archive_entry* e) const { archive_entry_free(e); }
};
using EntryPtr = std::unique_ptr<archive_entry, EntryFreer>;

Error ArchiveError(const std::string& what, archive* a) {
  const char* why = archive_error_string(a);
  return IoError(what + ": " + (why ? why : "unknown archive error"));
}

std::string Trimmed(const std::string& path) {
  std::string p = path;
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  return p;
}

Status CopyFile(const std::string& from, const std::string& to) {
  std::error_code ec;
  fs::create_directories(fs::path(to).parent_path(), ec);
  std::string tmp = ScratchPath(to, ".part-");
  if (!fs::copy_file(from, tmp, fs::copy_options::overwrite_existing, ec)) {
    return Fail(IoError("cannot copy " + from + " to " + to + ": " + ec.message()));
  }
  fs::rename(tmp, to, ec);
  if (ec) {
    fs::remove(tmp, ec);
    return Fail(IoError("cannot write " + to + ": " + ec.message()));
  }
  return {};
}

// Copies the directory `from` as `to` (replacing it), symbolic links as links.
Status CopyTree(const std::string& from, const std::string& to) {
  std::error_code ec;
  std::string tmp = ScratchPath(to, ".part-");
  fs::copy(from, tmp, fs::copy_options::recursive | fs::copy_options::copy_symlinks, ec);
  if (!ec) {
    fs::remove_all(to, ec);
    fs::rename(tmp, to, ec);
  }
  if (ec) {
    fs::remove_all(tmp, ec);
    return Fail(IoError("cannot copy " + from + " to " + to + ": " + ec.message()));
  }
  return {};
}

// Appends the contents of the file `source` to the archive being written.
Status WriteFileData(archive* out, const std::string& source) {
  int fd = open(source.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Fail(IoError("cannot read " + source + ": " + strerror(errno)));
  char buf[64 * 1024];
  ssize_t n;
  while ((n = read(fd, buf, sizeof(buf))) > 0) {
    if (archive_write_data(out, buf, static_cast<size_t>(n)) < 0) {
      close(fd);
      return Fail(ArchiveError("cannot archive " + source, out));
    }
  }
  int err = errno;
  close(fd);
  if (n < 0) return Fail(IoError("cannot read " + source + ": " + strerror(err)));
  return {};
}

Status WriteArchive(const std::string& host_path, const std::string& dest) {
  ArchivePtr out(archive_write_new());
  archive_write_add_filter_gzip(out.get());
  archive_write_set_format_pax_restricted(out.get());
  if (archive_write_open_filename(out.get(), dest.c_str()) != ARCHIVE_OK)
    return Fail(ArchiveError("cannot create " + dest, out.get()));
  ArchivePtr disk(archive_read_disk_new());
  archive_read_disk_set_symlink_physical(disk.get());
  archive_read_disk_set_standard_lookup(disk.get());
  if (archive_read_disk_open(disk.get(), host_path.c_str()) != ARCHIVE_OK)
    return Fail(ArchiveError("cannot read " + host_path, disk.get()));
  std::string base = fs::path(host_path).filename().string();
  if (base.empty()) base = "root";
  for (;;) {
    EntryPtr entry(archive_entry_new());
    int r = archive_read_next_header2(disk.get(), entry.get());
    if (r == ARCHIVE_EOF) break;
    if (r < ARCHIVE_WARN) return Fail(ArchiveError("cannot read " + host_path, disk.get()));
    archive_read_disk_descend(disk.get());
    std::string name = archive_entry_pathname(entry.get());
    archive_entry_set_pathname(entry.get(), (base + name.substr(host_path.size())).c_str());
    if (archive_write_header(out.get(), entry.get()) != ARCHIVE_OK)
      return Fail(ArchiveError("cannot archive " + name, out.get()));
    if (archive_entry_filetype(entry.get()) == AE_IFREG && archive_entry_size(entry.get()) > 0) {
      if (Status s = WriteFileData(out.get(), archive_entry_sourcepath(entry.get())); !s.ok())
        return s;
    }
  }
  if (archive_write_close(out.get()) != ARCHIVE_OK)
    return Fail(ArchiveError("cannot write " + dest, out.get()));
  return {};
}

bool IsGzip(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  unsigned char magic[2] = {0, 0};
  in.read(reinterpret_cast<char*>(magic), 2);
  return in.gcount() == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
}

// Extracts every entry of `src` below the directory `dir`, refusing entries that would leave it.
Status ExtractInto(const std::string& src, const std::string& dir) {
  ArchivePtr in(archive_read_new());
  archive_read_support_filter_all(in.get());
  archive_read_support_format_all(in.get());
  if (archive_read_open_filename(in.get(), src.c_str(), 64 * 1024) != ARCHIVE_OK)
    return Fail(ArchiveError("cannot open artifact " + src, in.get()));
  ArchivePtr disk(archive_write_disk_new());
  archive_write_disk_set_options(disk.get(), ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_PERM |
                                                 ARCHIVE_EXTRACT_SECURE_NODOTDOT |
                                                 ARCHIVE_EXTRACT_SECURE_SYMLINKS);
  for (;;) {
    archive_entry* entry = nullptr;
    int r = archive_read_next_header(in.get(), &entry);
    if (r == ARCHIVE_EOF) break;
    if (r < ARCHIVE_WARN) return Fail(ArchiveError("cannot read artifact " + src, in.get()));
    std::string name = archive_entry_pathname(entry);
    std::string bare = name;
    if (bare.size() > 1 && bare.back() == '/') bare.pop_back();  // a directory entry
    if (!IsPlainRelativePath(bare))
      return Fail(InvalidArgument("artifact " + src + " holds \"" + name +
                                  "\", which is not a plain relative path: refused"));
    archive_entry_set_pathname(entry, (dir + "/" + name).c_str());
    if (const char* link = archive_entry_hardlink(entry))
      archive_entry_set_hardlink(entry, (dir + "/" + link).c_str());
    if (archive_write_header(disk.get(), entry) != ARCHIVE_OK)
      return Fail(ArchiveError("cannot extract " + name + " from artifact " + src, disk.get()));
    const void* block;
    size_t size;
    la_int64_t offset;
    while ((r = archive_read_data_block(in.get(), &block, &size, &offset)) == ARCHIVE_OK) {
      if (archive_write_data_block(disk.get(), block, size, offset) != ARCHIVE_OK)
        return Fail(ArchiveError("cannot extract " + name, disk.get()));
    }
    if (r != ARCHIVE_EOF) return Fail(ArchiveError("cannot read artifact " + src, in.get()));
  }
  if (archive_write_close(disk.get()) != ARCHIVE_OK)
    return Fail(ArchiveError("cannot extract artifact " + src, disk.get()));
  return {};
}

// Moves `from` to `to`: a directory onto an existing directory merges into it.
Status MoveInto(const fs::path& from, const fs::path& to) {
  std::error_code ec;
  if (fs::is_directory(from) && fs::is_directory(to)) {
    for (const fs::directory_entry& e : fs::directory_iterator(from, ec)) {
      if (Status s = MoveInto(e.path(), to / e.path().filename()); !s.ok()) return s;
    }
    return {};
  }
  if (fs::exists(fs::symlink_status(to, ec))) fs::remove_all(to, ec);
  fs::rename(from, to, ec);
  if (ec) return Fail(IoError("cannot place artifact at " + to.string() + ": " + ec.message()));
  return {};
}

}  // namespace

std::string ScratchPath(const std::string& path, const char* tag) {
  static std::atomic<uint64_t> counter{0};
  return path + tag + std::to_string(getpid()) + "-" + std::to_string(++counter);
}

bool IsPlainRelativePath(const std::string& path) {
  if (path.empty() || path[0] == '/') return false;
  for (const auto& part : fs::path(path)) {
    if (part.empty() || part == "." || part == "..") return false;
  }
  return true;
}

Status PackArtifact(const std::string& host_path, const std::string& dest_file, bool archive) {
  const std::string path = Trimmed(host_path);
  std::error_code ec;
  fs::file_status st = fs::symlink_status(path, ec);
  if (!fs::exists(st)) return Fail(NotFound("no such file or directory: " + host_path));
  fs::create_directories(fs::path(dest_file).parent_path(), ec);
  if (!archive) return fs::is_directory(st) ? CopyTree(path, dest_file) : CopyFile(path, dest_file);
  std::string tmp = ScratchPath(dest_file, ".part-");
  Status s = WriteArchive(path, tmp);
  if (s.ok()) fs::rename(tmp, dest_file, ec);
  if (!s.ok() || ec) {
    fs::remove(tmp, ec);
    if (s.ok()) return Fail(IoError("cannot write " + dest_file + ": " + ec.message()));
  }
  return s;
}

Status UnpackArtifact(const std::string& src_file, const std::string& host_path) {
  const std::string path = Trimmed(host_path);
  std::error_code ec;
  fs::file_status st = fs::status(src_file, ec);
  if (!fs::exists(st)) return Fail(NotFound("the stored artifact " + src_file + " is missing"));
  fs::create_directories(fs::path(path).parent_path(), ec);
  if (fs::is_directory(st)) {
    fs::path scratch = ScratchPath(path, ".part-");
    fs::copy(src_file, scratch, fs::copy_options::recursive | fs::copy_options::copy_symlinks, ec);
    Status s = ec ? Fail(IoError("cannot copy " + src_file + ": " + ec.message()))
                  : MoveInto(scratch, path);
    fs::remove_all(scratch, ec);
    return s;
  }
  if (!IsGzip(src_file)) return CopyFile(src_file, path);
  fs::path scratch = ScratchPath(path, ".part-");
  fs::create_directories(scratch, ec);
  if (ec) return Fail(IoError("cannot create " + scratch.string() + ": " + ec.message()));
  Status s = ExtractInto(src_file, scratch.string());
  if (s.ok()) {
    std::vector<fs::path> top;
    for (const fs::directory_entry& e : fs::directory_iterator(scratch, ec)) top.push_back(e);
    s = top.size() == 1 ? MoveInto(top[0], path) : MoveInto(scratch, path);
  }
  fs::remove_all(scratch, ec);
  return s;
}

Status WriteArtifactData(const std::string& data, const std::string& host_path) {
  const std::string path = Trimmed(host_path);
  std::error_code ec;
  fs::create_directories(fs::path(path).parent_path(), ec);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << data;
  out.close();
  if (!out) return Fail(IoError("cannot write " + path + ": " + strerror(errno)));
  return {};
}

Result<std::vector<std::string>> ListArtifactKeys(const std::string& root,
                                                  const std::string& prefix) {
  if (!prefix.empty() && !IsPlainRelativePath(prefix))
    return Fail(InvalidArgument("key prefix '" + prefix + "' is not a plain relative path"));
  const fs::path start = prefix.empty() ? fs::path(root) : fs::path(root) / prefix;
  std::vector<std::string> keys;
  std::error_code ec;
  fs::file_status st = fs::symlink_status(start, ec);
  if (fs::is_regular_file(st)) {
    keys.push_back(prefix);
  } else if (fs::is_directory(st)) {
    for (fs::recursive_directory_iterator it(start, ec), end; !ec && it != end; it.increment(ec)) {
      if (it->is_regular_file(ec)) keys.push_back(it->path().lexically_relative(root).string());
    }
    if (ec) return Fail(IoError("cannot list " + start.string() + ": " + ec.message()));
  }
  std::sort(keys.begin(), keys.end());
  return keys;
}

}  // namespace hubspoke::exec
