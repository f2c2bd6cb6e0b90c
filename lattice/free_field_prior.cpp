#include "lattice/free_field_prior.hpp"

#include <cmath>
#include <sstream>

#include <ATen/ATen.h>

#include "core/error.hpp"

namespace latflow {

namespace {

double validated_mass(double m0sq) {
  if (!std::isfinite(m0sq) || !(m0sq > 0)) {
    std::ostringstream s;
    s << "free-field prior: m0^2 = " << m0sq << " is not allowed; it must be a finite number > 0";
    throw UserError(s.str());
  }
  return m0sq;
}

// sin^2(pi n / extent) for n = 0 .. count-1, as a tensor of the sampling dtype and device.
at::Tensor sin2_half_momenta(std::int64_t extent, std::int64_t count, const c10::TensorOptions& options) {
  return at::sin(at::arange(count, options) * (M_PI / static_cast<double>(extent))).square();
}

}  // namespace

FreeFieldPrior::FreeFieldPrior(double m0sq)
    : free_action_(Phi4Action::from_canonical(validated_mass(m0sq), 0.0)) {}

double FreeFieldPrior::log_normalization(const Lattice& lattice) const {
  double sum_log = 0;
  for (std::int64_t t = 0; t < lattice.T; ++t) {
    const double st = std::sin(M_PI * static_cast<double>(t) / static_cast<double>(lattice.T));
    for (std::int64_t l = 0; l < lattice.L; ++l) {
      const double sl = std::sin(M_PI * static_cast<double>(l) / static_cast<double>(lattice.L));
      sum_log += std::log(4 * st * st + 4 * sl * sl + mass_squared());
    }
  }
  return 0.5 * static_cast<double>(lattice.volume()) * std::log(M_PI) - 0.5 * sum_log;
}

at::Tensor FreeFieldPrior::sample(std::int64_t n, const Lattice& lattice,
                                  const c10::TensorOptions& options) const {
  if (n < 0 || lattice.T < 1 || lattice.L < 1)
    throw UserError("free-field prior: cannot draw " + std::to_string(n) + " samples on a " + lattice.str() +
                    " lattice (need n >= 0 and T, L >= 1)");
  const std::int64_t half_L = lattice.L / 2 + 1;  // the non-redundant momenta of rfft along L
  const at::Tensor p_hat2 = 4 * sin2_half_momenta(lattice.T, lattice.T, options).unsqueeze(1) +
                            4 * sin2_half_momenta(lattice.L, half_L, options).unsqueeze(0);
  const at::Tensor scale = at::rsqrt(2 * (p_hat2 + mass_squared()));
  const at::Tensor noise = at::randn({n, lattice.T, lattice.L}, options);
  const at::Tensor modes = at::fft_rfft2(noise, c10::nullopt, {1, 2}, "ortho") * scale;
  return at::fft_irfft2(modes, std::vector<std::int64_t>{lattice.T, lattice.L}, {1, 2}, "ortho");
}

at::Tensor FreeFieldPrior::log_prob(const at::Tensor& phi) const {
  const at::Tensor s0 = free_action_.action(phi);  // also checks that phi is [B, T, L]
  return -s0 - log_normalization({phi.size(1), phi.size(2)});
}

nlohmann::json FreeFieldPrior::describe() const { return {{"name", name()}, {"m2", mass_squared()}}; }

}  // namespace latflow
