#pragma once
// File-system helpers that must not go through std::filesystem::remove_all: the PyPI LibTorch exports its
// own copy of that symbol, which the dynamic linker may bind instead of libstdc++'s, and that copy crashes.
#include <string>

namespace latflow {

/// Removes `path` and everything below it, like `rm -rf`; a missing path is not an error.
/// Throws UserError naming the first entry that cannot be removed.
void remove_tree(const std::string& path);

}  // namespace latflow
