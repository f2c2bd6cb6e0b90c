#pragma once
// A time-dependent neural operator V_t (Máté & Fleuret, arXiv 2401.00828): a map from fields to
// velocity fields defined independently of any lattice. Evaluated on a batch of configurations of some
// L x L (or T x L) lattice it is the discretised vector field v_t(phi) of a CNF, returned together with
// its exact divergence. Its parameters must not depend on the lattice size, so one set of weights runs on
// every lattice.
//
// The configurations of a batch are independent, so a batch may be evaluated in parts. On the CPU, forward
// evaluates a batch in chunks of at most kChunkConfigurations configurations and kChunkSites sites. Measured
// with bench_operator (bench/RESULTS.md, 1c): unchunked, the time per configuration grows with the batch, 4x
// the batch costing up to 10x the time (at L = 64, whose [256, K, 64, 64] intermediates exceed glibc's largest
// heap-served block, 32 MiB, so each is a fresh mmap whose pages fault in on first touch; and already at
// L = 8-16 with a batch of 256); in chunks it grows linearly. A configuration's result does not depend on the
// chunk it is in, up to the rounding of batched FFTs and matrix products. On other devices the batch is one
// call: there a chunk would only add kernel launches, and nothing was measured that says otherwise.
#include <cstdint>
#include <memory>
#include <string>

#include <c10/core/Device.h>
#include <torch/nn/module.h>

#include "odes/dynamics.hpp"

namespace latflow {

class NeuralOperatorImpl : public torch::nn::Module {
 public:
  /// The most configurations and the most sites (2^18: 64 configurations at L = 64) of a chunk on the CPU.
  static constexpr std::int64_t kChunkConfigurations = 64;
  static constexpr std::int64_t kChunkSites = std::int64_t{1} << 18;

  /// The configurations per chunk for a batch of B configurations of `sites` sites on `device` (B: one call).
  static std::int64_t chunk_size(std::int64_t B, std::int64_t sites, const c10::Device& device);

  /// v_t(phi) and its exact divergence for phi of shape [B, T, L], in chunks of the batch as above.
  odes::Velocity forward(double t, const at::Tensor& phi);

 protected:
  /// What forward returns, for any batch: the operator itself.
  virtual odes::Velocity evaluate(double t, const at::Tensor& phi) = 0;
};

using NeuralOperatorPtr = std::shared_ptr<NeuralOperatorImpl>;

}  // namespace latflow
