#include "core/files.hpp"

#include <ftw.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "core/error.hpp"

namespace latflow {

namespace {
thread_local std::string g_failed;
int remove_entry(const char* path, const struct stat*, int, struct FTW*) {
  if (std::remove(path) != 0) {
    g_failed = std::string(path) + ": " + std::strerror(errno);
    return 1;
  }
  return 0;
}
}  // namespace

void remove_tree(const std::string& path) {
  struct stat st;
  if (lstat(path.c_str(), &st) != 0) return;
  // Depth first (FTW_DEPTH) so directories are empty when removed; FTW_PHYS never follows links.
  if (nftw(path.c_str(), remove_entry, 16, FTW_DEPTH | FTW_PHYS) != 0)
    throw UserError("cannot remove '" + g_failed + "'");
}

}  // namespace latflow
