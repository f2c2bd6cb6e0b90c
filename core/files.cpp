#include "core/files.hpp"

#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <vector>

#include "core/error.hpp"

namespace latflow {

namespace {

std::string errno_text() { return std::strerror(errno); }

std::string directory_of(const std::string& path) {
  const auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

/// Closes fd on scope exit unless released.
struct FileDescriptor {
  int fd = -1;
  ~FileDescriptor() {
    if (fd >= 0) ::close(fd);
  }
  int release() {
    const int f = fd;
    fd = -1;
    return f;
  }
};

thread_local std::string g_failed;
int remove_entry(const char* path, const struct stat*, int, struct FTW*) {
  if (std::remove(path) != 0) {
    g_failed = std::string(path) + ": " + errno_text();
    return 1;
  }
  return 0;
}

}  // namespace

void write_file_atomically(const std::string& path, std::string_view content) {
  const std::string dir = directory_of(path);
  // mkstemp: a name no other writer (another process, another thread) can be using.
  std::string tmp = path + ".tmp.XXXXXX";
  std::vector<char> name(tmp.begin(), tmp.end());
  name.push_back('\0');
  FileDescriptor f{::mkstemp(name.data())};
  if (f.fd < 0) throw UserError("cannot write '" + path + "': " + errno_text());
  tmp = name.data();
  const auto fail = [&](const std::string& why) {
    if (f.fd >= 0) ::close(f.release());
    ::unlink(tmp.c_str());
    throw UserError("cannot write '" + path + "': " + why);
  };
  // mkstemp creates the file 0600; results and checkpoints are ordinary files.
  const mode_t mask = ::umask(0);
  ::umask(mask);
  if (::fchmod(f.fd, 0666 & ~mask) != 0) fail(errno_text());
  std::size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = ::write(f.fd, content.data() + done, content.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail(errno_text());
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(f.fd) != 0) fail(errno_text());
  // NFS and some quota systems report a failed write only here.
  if (::close(f.release()) != 0) fail(errno_text());
  if (::rename(tmp.c_str(), path.c_str()) != 0) fail(errno_text());
  // The rename is durable only once the directory entry is on disk.
  FileDescriptor d{::open(dir.c_str(), O_RDONLY | O_DIRECTORY)};
  if (d.fd >= 0) ::fsync(d.fd);
}

std::string read_regular_file(const std::string& path, const std::string& what, std::size_t max_bytes) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) throw UserError("cannot read " + what + " '" + path + "': " + errno_text());
  if (S_ISDIR(st.st_mode)) throw UserError(what + " '" + path + "' is a directory, not a file");
  if (!S_ISREG(st.st_mode))
    throw UserError(what + " '" + path + "' is not a regular file (a FIFO, socket or device); give a file");
  if (static_cast<std::size_t>(st.st_size) > max_bytes)
    throw UserError(what + " '" + path + "' is " + std::to_string(st.st_size) + " bytes, more than a " + what +
                    " can be (" + std::to_string(max_bytes) + " bytes)");
  // O_NONBLOCK: if the path was swapped for a FIFO after the stat, open and read fail instead of blocking.
  FileDescriptor f{::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC)};
  if (f.fd < 0) throw UserError("cannot read " + what + " '" + path + "': " + errno_text());
  std::string out;
  char buffer[1 << 16];
  while (true) {
    const ssize_t n = ::read(f.fd, buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw UserError("cannot read " + what + " '" + path + "': " + errno_text());
    }
    if (n == 0) break;
    out.append(buffer, static_cast<std::size_t>(n));
    if (out.size() > max_bytes)
      throw UserError(what + " '" + path + "' is larger than a " + what + " can be (" + std::to_string(max_bytes) +
                      " bytes)");
  }
  return out;
}

void remove_tree(const std::string& path) {
  struct stat st;
  if (lstat(path.c_str(), &st) != 0) return;
  // Depth first (FTW_DEPTH) so directories are empty when removed; FTW_PHYS never follows links.
  if (nftw(path.c_str(), remove_entry, 16, FTW_DEPTH | FTW_PHYS) != 0)
    throw UserError("cannot remove '" + g_failed + "'");
}

void copy_tree(const std::string& from, const std::string& to) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::exists(to, ec)) throw UserError("cannot copy '" + from + "' to '" + to + "': the target exists");
  const std::string partial = to + ".partial-" + std::to_string(::getpid());
  remove_tree(partial);  // a copy that an earlier process with this pid left behind
  const fs::path parent = fs::path(to).parent_path();
  if (!parent.empty()) fs::create_directories(parent, ec);
  if (!ec) fs::copy(from, partial, fs::copy_options::recursive, ec);
  if (!ec) fs::rename(partial, to, ec);
  if (ec) {
    remove_tree(partial);
    throw UserError("cannot copy '" + from + "' to '" + to + "': " + ec.message());
  }
}

}  // namespace latflow
