#include "lattice/haar_prior.hpp"

#include <cmath>

#include <ATen/ATen.h>

#include "core/error.hpp"
#include "lattice/u1_gauge_field.hpp"

namespace latflow {

std::vector<std::int64_t> HaarPrior::sample_shape(const Lattice& lattice) const { return {2, lattice.T, lattice.L}; }

at::Tensor HaarPrior::sample(std::int64_t n, const Lattice& lattice, const c10::TensorOptions& options) const {
  if (n < 0 || lattice.T < 1 || lattice.L < 1)
    throw UserError("haar prior: cannot draw " + std::to_string(n) + " samples on a " + lattice.str() + " lattice");
  return u1::haar_links(n, lattice, options);
}

at::Tensor HaarPrior::log_prob(const at::Tensor& theta) const {
  u1::require_links("haar prior", theta);
  const double links = static_cast<double>(2 * theta.size(2) * theta.size(3));
  // Zero times theta keeps the result on theta's graph, dtype and device.
  return (theta * 0).flatten(1).sum(1) - links * std::log(2 * M_PI);
}

nlohmann::json HaarPrior::describe() const { return {{"name", "haar"}}; }

}  // namespace latflow
