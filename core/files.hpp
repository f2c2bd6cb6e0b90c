#pragma once
// File-system helpers every writer and reader of the project goes through, so that the guarantees below
// hold for run cards, checkpoints, results and samples alike:
//
//  - writes are atomic and durable: the content goes to a uniquely named temporary file in the target's
//    directory, is fsync'ed, renamed over the target, and the directory is fsync'ed. A reader sees the old
//    file or the new one, never a mix; a crash or power loss leaves one of the two; two writers never share
//    a temporary file; and any write error (disk full, quota, file-size limit, an error reported only at
//    close) is a UserError naming the file, with the target untouched;
//  - reads of user-given files refuse what is not a regular file (a directory, a FIFO that would block, a
//    device) and report read errors (EIO from /proc/self/mem, a file vanishing mid-read) instead of
//    treating them as an empty file.
//
// remove_tree does not go through std::filesystem::remove_all: the PyPI LibTorch exports its own copy of
// that symbol, which the dynamic linker may bind instead of libstdc++'s, and that copy crashes.
#include <cstddef>
#include <string>
#include <string_view>

namespace latflow {

/// Writes `content` to `path` atomically and durably (see above). Throws UserError on any failure.
void write_file_atomically(const std::string& path, std::string_view content);

/// The whole content of the regular file `path`. `what` names it in messages ("run card", "checkpoint");
/// a file larger than `max_bytes` is refused (it is not what the caller expects, and reading it could
/// exhaust memory). Throws UserError saying what was wrong.
std::string read_regular_file(const std::string& path, const std::string& what,
                              std::size_t max_bytes = std::size_t{1} << 40);

/// Copies the directory `from` and everything below it to `to`, which must not exist (its parent is created).
/// The copy is made under a temporary name beside `to` and renamed into place, so `to` is either absent or
/// complete. Throws UserError.
void copy_tree(const std::string& from, const std::string& to);

/// Removes `path` and everything below it, like `rm -rf`; a missing path is not an error.
/// Throws UserError naming the first entry that cannot be removed.
void remove_tree(const std::string& path);

}  // namespace latflow
