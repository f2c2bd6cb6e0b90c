// Catch2 entry point. `--cuda-or-skip` (used by the ctest entry for [cuda] tests) exits with 77, which
// ctest reports as "skipped", when no CUDA device is usable.
#include <torch/torch.h>
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <cstring>
#include <vector>

int main(int argc, char** argv) {
  std::vector<char*> args;
  bool cuda_or_skip = false;
  for (int i = 0; i < argc; ++i) {
    if (std::strcmp(argv[i], "--cuda-or-skip") == 0) cuda_or_skip = true;
    else args.push_back(argv[i]);
  }
  if (cuda_or_skip && !torch::cuda::is_available()) {
    std::puts("no CUDA device available: skipping the [cuda] tests");
    return 77;
  }
  return Catch::Session().run(static_cast<int>(args.size()), args.data());
}
