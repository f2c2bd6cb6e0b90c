#pragma once
// The Wilson gauge action of compact U(1) in two dimensions, periodic boundaries (Kanwar et al., PRL 125,
// 121601 (2020) [arXiv 2003.06413]):
//
//   S_g[theta] = -beta sum_x cos theta_P(x),
//   theta_P(x) = theta_0(x) + theta_1(x + 0) - theta_0(x + 1) - theta_1(x)   (see u1_gauge_field.hpp).
//
// Each link lies on two plaquettes, once with each sign, so with s(x) = beta sin theta_P(x) the force is
//
//   dS_g/dtheta_0(x) = s(x) - s(x - 1),   dS_g/dtheta_1(x) = s(x - 0) - s(x).
//
// beta = 0 is the Haar measure; the exact partition function and observables are in u1_exact.hpp.
#include <cstdint>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>
#include <nlohmann/json.hpp>

#include "lattice/action.hpp"

namespace latflow {

/// UserError unless beta is finite and >= 0; `who` (the action's name) starts the message.
void require_gauge_coupling(const char* who, double beta);

class U1GaugeAction : public Action {
 public:
  /// Requires a finite beta >= 0.
  explicit U1GaugeAction(double beta);

  double beta() const { return beta_; }

  std::string name() const override { return "u1"; }
  /// {2, T, L}: the link angles theta_mu(x).
  std::vector<std::int64_t> config_shape(const Lattice& lattice) const override;
  /// [B, 2, T, L] -> [B], in the dtype of theta.
  at::Tensor action(const at::Tensor& theta) const override;
  at::Tensor force(const at::Tensor& theta) const override;
  /// {"beta": ..}
  nlohmann::json couplings() const override;
  std::string field_name() const override { return "theta"; }
  std::string sample_space() const override { return "angle"; }
  /// lattice/gauge_observables.hpp: plaquette, 2x1 loop, Q, chi_t.
  nlohmann::json measure(const at::Tensor& theta, const std::vector<double>& log_w, int n_bins) const override;
  /// Q (first), plaquette.
  std::vector<std::pair<std::string, at::Tensor>> chain_observables(const at::Tensor& theta) const override;
  /// plaquette, topological_susceptibility.
  std::vector<std::string> compared_observables() const override;
  /// The plaquette, the 2x1 loop, <Q> = 0 and chi_t of the torus in closed form (lattice/u1_exact.hpp).
  nlohmann::json exact(const Lattice& lattice) const override;

 private:
  double beta_;
};

}  // namespace latflow
