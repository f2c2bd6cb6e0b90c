#include "experiments/cli.hpp"

#include <ostream>

#include <torch/version.h>

#include "core/device.hpp"
#include "core/version.hpp"

namespace latflow::cli {

int run_cli(int argc, const char* const* argv, std::ostream& out, std::ostream& err) {
  (void)err;
  if (argc > 1 && std::string(argv[1]) == "--version") {
    out << "latflow " << kVersion << " (LibTorch " << TORCH_VERSION << ", CUDA "
        << (cuda_usable() ? "usable" : "not usable") << ")\n";
    return 0;
  }
  return 0;
}

}  // namespace latflow::cli
