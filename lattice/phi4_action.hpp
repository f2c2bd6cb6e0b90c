#pragma once
// The lattice phi^4 action in two dimensions, periodic boundaries, in the canonical convention of
// Albergo, Kanwar, Shanahan, PRD 100, 034515 (2019) [arXiv 1904.12072] and Gerdes et al., SciPost Phys. 15,
// 238 (2023) [arXiv 2207.00283] (no factor 1/2 anywhere):
//
//   S[phi] = sum_x [ sum_mu (phi(x+mu) - phi(x))^2 + m2 phi(x)^2 + lambda phi(x)^4 ]
//          = sum_x [ -2 sum_mu phi(x) phi(x+mu) + (4 + m2) phi(x)^2 + lambda phi(x)^4 ],
//
// mu over the two positive directions. Other papers write the same theory with a rescaled field; the named
// constructors below map each convention onto (m2, lambda) by substituting phi_canonical = s * phi_conv:
//
//   convention | action per site (phi' = phi(x+mu))      | s = field_scale() | m2                | lambda
//   -----------|--------------------------------------------|-------------------|-------------------|-----------
//   canonical  | sum_mu (d phi)^2 + m2 phi^2 + lambda phi^4 | 1                 | m2                | lambda
//   hopping    | -2 kappa sum_mu phi phi' + (1-2lt) phi^2   | sqrt(kappa)       | (1-2lt)/kappa - 4 | lt/kappa^2
//              |   + lt phi^4                               |                   |                   |
//   beta       | -beta sum_mu phi phi' + (1-2lb) phi^2      | sqrt(beta/2)      | 2(1-2lb)/beta - 4 | 4lb/beta^2
//              |   + lb phi^4                               |                   |                   |
//   continuum  | 1/2 sum_mu (d chi)^2 + 1/2 mu0^2 chi^2     | 1/sqrt(2)         | mu0^2             | l0
//              |   + l0/4 chi^4                             |                   |                   |
//
// (lt = lambda_tilde, Nicoli et al. arXiv 2007.07115; lb = lambda_beta, the "bosetti2015" form of the anvil
// code of Del Debbio, Marsh Rossney, Wilson, arXiv 2105.12481; the hopping form is the beta form with
// beta = 2 kappa.) The rescaling is linear, so the Jacobian is a constant and expectation values map
// exactly: <O(phi_conv)> = <O(phi_canonical / s)>. Beware that the early anvil scripts use yet another
// (1/2-normalised) form with the same numbers m2 = -4, lambda = 6.975; numbers are portable only together
// with their convention.
#include <cstdint>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>
#include <nlohmann/json.hpp>

#include "lattice/action.hpp"

namespace latflow {

/// Hopping-parameter form; phi_canonical = sqrt(kappa) phi_hopping.
struct HoppingCouplings {
  double kappa = 0;
  double lambda_tilde = 0;
  double field_scale() const;
};

/// Del Debbio et al. (anvil) beta form; phi_canonical = sqrt(beta / 2) phi_beta.
struct BetaCouplings {
  double beta = 0;
  double lambda_beta = 0;
  double field_scale() const;
};

/// Continuum-normalised form 1/2 (d chi)^2 + 1/2 mu0^2 chi^2 + lambda0/4 chi^4; phi_canonical = chi / sqrt 2.
struct ContinuumCouplings {
  double mu0_sq = 0;
  double lambda0 = 0;
  double field_scale() const;
};

class Phi4Action : public Action {
 public:
  /// S = sum_x [ sum_mu (d phi)^2 + m2 phi^2 + lambda phi^4 ]; requires finite couplings, lambda >= 0, and
  /// m2 > 0 when lambda = 0 (otherwise exp(-S) is not normalisable). Every named constructor checks the same.
  static Phi4Action from_canonical(double m2, double lambda);
  /// m2 = (1 - 2 lambda_tilde)/kappa - 4, lambda = lambda_tilde / kappa^2; requires kappa > 0.
  static Phi4Action from_hopping(const HoppingCouplings& c);
  /// m2 = 2 (1 - 2 lambda_beta)/beta - 4, lambda = 4 lambda_beta / beta^2; requires beta > 0.
  static Phi4Action from_beta(const BetaCouplings& c);
  /// m2 = mu0^2, lambda = lambda0.
  static Phi4Action from_continuum(const ContinuumCouplings& c);

  double m2() const { return m2_; }
  double lambda() const { return lambda_; }

  /// The same theory in the other conventions (a positive kappa always exists for a valid action).
  HoppingCouplings to_hopping() const;
  BetaCouplings to_beta() const;
  ContinuumCouplings to_continuum() const;

  std::string name() const override { return "phi4"; }
  std::vector<std::int64_t> config_shape(const Lattice& lattice) const override;
  /// [B, T, L] -> [B], in the dtype of phi.
  at::Tensor action(const at::Tensor& phi) const override;
  /// dS/dphi = 2 sum_mu [2 phi(x) - phi(x+mu) - phi(x-mu)] + 2 m2 phi + 4 lambda phi^3.
  at::Tensor force(const at::Tensor& phi) const override;
  /// {"m2": .., "lambda": ..}
  nlohmann::json couplings() const override;
  std::string field_name() const override { return "phi"; }
  /// lattice/observables.hpp: |M|, M^2, chi2, U4, xi2nd, C(t), m_eff(t).
  nlohmann::json measure(const at::Tensor& phi, const std::vector<double>& log_w, int n_bins) const override;
  /// |M| (first) and M^2 per configuration.
  std::vector<std::pair<std::string, at::Tensor>> chain_observables(const at::Tensor& phi) const override;
  /// abs_magnetization, m2, chi2, binder.
  std::vector<std::string> compared_observables() const override;

 private:
  Phi4Action(double m2, double lambda);
  double m2_;
  double lambda_;
};

}  // namespace latflow
