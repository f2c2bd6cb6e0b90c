#pragma once
// Random streams. Every sampler draws from LibTorch's default generator of its device (seeded by
// run.seed, saved in checkpoints), so a training run is one reproducible stream. Work that must not
// perturb that stream (the periodic evaluations of training, whose number depends on when a run is
// stopped by its time budget) runs inside a RandomStreamFork: a stream of its own, seeded from a key,
// after which the default generators are exactly as before. A run stopped, resumed and continued is then
// the same as a run that was never stopped.
#include <cstdint>
#include <vector>

#include <ATen/core/Generator.h>
#include <ATen/core/Tensor.h>

namespace latflow {

class RandomStreamFork {
 public:
  /// Saves the states of the CPU and every CUDA default generator, then seeds them all from `key`.
  explicit RandomStreamFork(std::uint64_t key);
  /// Restores the saved states.
  ~RandomStreamFork();
  RandomStreamFork(const RandomStreamFork&) = delete;
  RandomStreamFork& operator=(const RandomStreamFork&) = delete;

 private:
  std::vector<at::Tensor> saved_;
};

/// The default generators of the CPU and of every usable CUDA device, in that order.
std::vector<at::Generator> default_generators();

/// A well-mixed 64-bit seed from two numbers (splitmix64 of their combination), e.g. (run seed, step).
std::uint64_t derive_seed(std::uint64_t a, std::uint64_t b);

}  // namespace latflow
