// Artifacts on a spoke host: a task's output path packed into a file of the artifact store, and
// a stored artifact placed at a task's input path. A packed artifact is a tar+gzip archive whose
// one top-level entry is the path's base name (a file or a directory tree), or, for
// `archive: none`, the file or directory itself. Unpacking tells them apart by the gzip magic
// number.
// Thread-safety: free functions on files; concurrent calls must use different paths.
#pragma once

#include <string>
#include <vector>

#include "common/error.h"

namespace hubspoke::exec {

// Packs `host_path` (a file or a directory; symbolic links are stored as links) into `dest_file`
// (written under a temporary name and renamed into place; parent directories are created).
// `archive` false stores the file, or the directory tree, as it is. NotFound when `host_path`
// does not exist.
Status PackArtifact(const std::string& host_path, const std::string& dest_file, bool archive);

// Places the artifact stored in `src_file` at `host_path`: an archive is extracted (its one
// top-level entry becomes `host_path`; several become its contents), a file or directory stored
// as it is is copied.
// Parent directories are created; an existing file at `host_path` is replaced, an existing
// directory receives the extracted entries. Entries that would land outside `host_path` are
// refused.
Status UnpackArtifact(const std::string& src_file, const std::string& host_path);

// A name beside `path` that no other call in this process returns ("<path><tag><pid>-<n>"), for
// writing before a rename.
std::string ScratchPath(const std::string& path, const char* tag);

// True for "a/b/c": not empty, not absolute, no empty, "." or ".." component. Artifact keys and
// archive entries must be such paths, so they stay below the directory they are joined to.
bool IsPlainRelativePath(const std::string& path);

// Writes `data` as the file `host_path` (an input artifact given with raw.data).
Status WriteArtifactData(const std::string& data, const std::string& host_path);

// The keys of the objects stored at or below `prefix` (a plain relative path, or "" for all) in
// the store directory `root`, as paths relative to `root`, sorted: each regular file is one
// object, as in a bucket listing (a directory stored as it is holds several). A prefix that names
// nothing lists nothing.
Result<std::vector<std::string>> ListArtifactKeys(const std::string& root,
                                                  const std::string& prefix);

}  // namespace hubspoke::exec
