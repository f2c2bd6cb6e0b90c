#include "operators/neural_operator.hpp"

#include <algorithm>
#include <vector>

#include <ATen/ATen.h>

namespace latflow {

std::int64_t NeuralOperatorImpl::chunk_size(std::int64_t B, std::int64_t sites, const c10::Device& device) {
  if (!device.is_cpu()) return B;
  return std::min(B, std::clamp<std::int64_t>(kChunkSites / std::max<std::int64_t>(sites, 1), 1, kChunkConfigurations));
}

odes::Velocity NeuralOperatorImpl::forward(double t, const at::Tensor& phi) {
  if (!phi.defined() || phi.dim() != 3) return evaluate(t, phi);  // evaluate says what is wrong
  const std::int64_t B = phi.size(0), per_chunk = chunk_size(B, phi.size(1) * phi.size(2), phi.device());
  if (B <= per_chunk) return evaluate(t, phi);
  std::vector<at::Tensor> v, divergence;
  for (std::int64_t first = 0; first < B; first += per_chunk) {
    odes::Velocity part = evaluate(t, phi.slice(0, first, std::min(B, first + per_chunk)));
    v.push_back(std::move(part.v));
    divergence.push_back(std::move(part.divergence));
  }
  return {at::cat(v), at::cat(divergence)};
}

}  // namespace latflow
