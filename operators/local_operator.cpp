#include "operators/local_operator.hpp"

#include <ATen/ATen.h>

#include <algorithm>
#include <cstdlib>
#include <string>

#include "core/error.hpp"

namespace latflow {

LocalOperatorImpl::LocalOperatorImpl(const LocalOperatorOptions& options_)
    : options(options_),
      features(PointwiseFeaturesOptions(options_.channels(), options_.frequencies())),
      coefficients(nullptr) {
  const std::int64_t R = options.kernel_radius();
  if (R < 1)
    throw UserError("local operator: kernel_radius = " + std::to_string(R) +
                    " must be >= 1 (run-card key model.kernel_radius)");
  coefficients = TimeEmbedding(TimeEmbeddingOptions({options.channels(), orbits()}, options.time_modes()));
  const std::int64_t width = 2 * R + 1;
  at::Tensor map = at::zeros({orbits(), width * width}, at::kFloat);
  for (std::int64_t i = 0; i < width; ++i)
    for (std::int64_t j = 0; j < width; ++j) {
      const std::int64_t a = std::max(std::abs(i - R), std::abs(j - R));
      const std::int64_t b = std::min(std::abs(i - R), std::abs(j - R));
      map[a * (a + 1) / 2 + b][i * width + j] = 1;
    }
  register_module("features", features);
  register_module("coefficients", coefficients);
  orbit_map = register_buffer("orbit_map", map);
}

std::int64_t LocalOperatorImpl::orbits() const {
  const std::int64_t R = options.kernel_radius();
  return (R + 1) * (R + 2) / 2;
}

at::Tensor LocalOperatorImpl::kernel(double t) { return kernel_of(coefficients(t)); }

at::Tensor LocalOperatorImpl::kernel_of(const at::Tensor& c) const {
  const std::int64_t width = 2 * options.kernel_radius() + 1;
  return at::matmul(c, orbit_map).view({options.channels(), width, width});
}

odes::Velocity LocalOperatorImpl::evaluate(double t, const at::Tensor& phi) {
  const auto h = features->harmonics(phi);  // validates phi: [B, T, L] in the operator's dtype
  const std::int64_t R = options.kernel_radius();
  if (phi.size(1) < 2 * R + 1 || phi.size(2) < 2 * R + 1)
    throw UserError("local operator: the lattice " + std::to_string(phi.size(1)) + "x" +
                    std::to_string(phi.size(2)) + " is smaller than the kernel; kernel_radius = " +
                    std::to_string(R) + " needs both extents >= " + std::to_string(2 * R + 1));
  const at::Tensor c = coefficients(t);
  const at::Tensor v =
      at::conv2d(at::pad(features->mix(h), {R, R, R, R}, "circular"), kernel_of(c).unsqueeze(0)).squeeze(1);
  return {v, features->diagonal_sum(h, c.select(1, 0))};
}

}  // namespace latflow
