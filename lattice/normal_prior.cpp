#include "lattice/normal_prior.hpp"

#include <cmath>

#include <ATen/ATen.h>

#include "core/error.hpp"

namespace latflow {

at::Tensor NormalPrior::sample(std::int64_t n, const Lattice& lattice, const c10::TensorOptions& options) const {
  if (n < 0 || lattice.T < 1 || lattice.L < 1)
    throw UserError("normal prior: cannot draw " + std::to_string(n) + " samples on a " + lattice.str() +
                    " lattice (need n >= 0 and T, L >= 1)");
  return at::randn({n, lattice.T, lattice.L}, options);
}

at::Tensor NormalPrior::log_prob(const at::Tensor& phi) const {
  if (phi.dim() != 3)
    throw UserError("normal prior: log_prob wants a batch [B, T, L], got " + std::to_string(phi.dim()) +
                    " dimensions");
  const double volume = static_cast<double>(phi.size(1) * phi.size(2));
  return -0.5 * phi.square().sum({1, 2}) - 0.5 * volume * std::log(2 * M_PI);
}

nlohmann::json NormalPrior::describe() const { return {{"name", name()}}; }

}  // namespace latflow
