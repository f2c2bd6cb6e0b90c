#include "lattice/u1_gauge_action.hpp"

#include "lattice/gauge_observables.hpp"
#include "lattice/u1_exact.hpp"

#include <cmath>
#include <sstream>

#include <ATen/ATen.h>

#include "core/error.hpp"
#include "lattice/u1_gauge_field.hpp"

namespace latflow {

void require_gauge_coupling(const char* who, double beta) {
  if (!std::isfinite(beta) || beta < 0) {
    std::ostringstream s;
    s.precision(17);
    s << who << ": beta = " << beta << " is not allowed; beta must be a finite number >= 0 (0 is the Haar measure)";
    throw UserError(s.str());
  }
}

U1GaugeAction::U1GaugeAction(double beta) : beta_(beta) { require_gauge_coupling("u1", beta); }

std::vector<std::int64_t> U1GaugeAction::config_shape(const Lattice& lattice) const {
  return {2, lattice.T, lattice.L};
}

at::Tensor U1GaugeAction::action(const at::Tensor& theta) const {
  return -beta_ * at::cos(u1::plaquette_angles(theta)).sum({1, 2});
}

at::Tensor U1GaugeAction::force(const at::Tensor& theta) const {
  const at::Tensor s = beta_ * at::sin(u1::plaquette_angles(theta));
  // s(x - mu) is roll(s, +1) along the dim of mu: dim -1 for mu = 1, dim -2 for mu = 0.
  return at::stack({s - at::roll(s, {1}, {-1}), at::roll(s, {1}, {-2}) - s}, 1);
}

nlohmann::json U1GaugeAction::couplings() const { return {{"beta", beta_}}; }

nlohmann::json U1GaugeAction::measure(const at::Tensor& theta, const std::vector<double>& log_w, int n_bins) const {
  return measure_gauge(theta, log_w, n_bins);
}

std::vector<std::pair<std::string, at::Tensor>> U1GaugeAction::chain_observables(const at::Tensor& theta) const {
  return gauge_chain_observables(theta);
}

std::vector<std::string> U1GaugeAction::compared_observables() const {
  return {"plaquette", "topological_susceptibility"};
}

nlohmann::json U1GaugeAction::exact(const Lattice& lattice) const {
  return {{"plaquette", u1::exact::plaquette(beta_, lattice)},
          {"wilson_loop_2x1", u1::exact::wilson_loop(beta_, lattice, 2)},
          {"topological_charge", 0.0},
          {"topological_susceptibility", u1::exact::topological_susceptibility(beta_, lattice)}};
}

}  // namespace latflow
