#include "operators/time_embedding.hpp"

#include <cmath>
#include <string>

#include <ATen/ATen.h>

#include "core/error.hpp"

namespace latflow {

TimeEmbeddingImpl::TimeEmbeddingImpl(const TimeEmbeddingOptions& options_) : options(options_) {
  if (options.time_modes() < 1)
    throw UserError("neural operator: time_modes = " + std::to_string(options.time_modes()) +
                    " must be >= 1 (run-card key model.time_modes)");
  std::vector<std::int64_t> shape = options.shape();
  shape.push_back(2 * options.time_modes() + 1);
  weight = register_parameter("weight", at::zeros(shape, at::kFloat));
}

at::Tensor TimeEmbeddingImpl::forward(double t) {
  const std::int64_t M = options.time_modes();
  std::vector<double> tau{1.0};
  for (std::int64_t m = 1; m <= M; ++m) {
    tau.push_back(std::sin(2 * M_PI * double(m) * t));
    tau.push_back(std::cos(2 * M_PI * double(m) * t));
  }
  return at::matmul(weight, at::tensor(tau, at::dtype(at::kDouble)).to(weight.options()));
}

}  // namespace latflow
