#include "core/random.hpp"

#include <mutex>

#include <ATen/Context.h>
#include <torch/cuda.h>

namespace latflow {

std::vector<at::Generator> default_generators() {
  std::vector<at::Generator> gens{at::globalContext().defaultGenerator(c10::Device(c10::kCPU))};
  if (torch::cuda::is_available())
    for (std::size_t i = 0; i < static_cast<std::size_t>(torch::cuda::device_count()); ++i)
      gens.push_back(at::globalContext().defaultGenerator(c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(i))));
  return gens;
}

namespace {
std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}
}  // namespace

std::uint64_t derive_seed(std::uint64_t a, std::uint64_t b) { return splitmix64(splitmix64(a) ^ b); }

RandomStreamFork::RandomStreamFork(std::uint64_t key) {
  for (auto& g : default_generators()) {
    std::lock_guard<std::mutex> lock(g.mutex());
    saved_.push_back(g.get_state());
    g.set_current_seed(key);
  }
}

RandomStreamFork::~RandomStreamFork() {
  auto gens = default_generators();
  for (std::size_t i = 0; i < gens.size() && i < saved_.size(); ++i) {
    std::lock_guard<std::mutex> lock(gens[i].mutex());
    gens[i].set_state(saved_[i]);
  }
}

}  // namespace latflow
