#pragma once
// The two-dimensional Ising model on a periodic T x L lattice, N = T L sites:
//
//   H[s] = -J sum_x s(x) [s(x + 0) + s(x + 1)],   s(x) = +-1,   S[s] = beta H[s],
//
// so that exp(-S) is the Boltzmann weight (the target of lattice/action.hpp). Spins are floating-point
// tensors [B, T, L] with values +-1, in any dtype and on any device. J > 0 is the ferromagnet, with its
// transition at beta_c J = ln(1 + sqrt 2)/2 (L. Onsager, Phys. Rev. 65, 117 (1944)); J < 0 the antiferromagnet.
//
// Observables, with e = H/N and m = (1/N) sum_x s(x) per configuration (plain or reweighted, jackknife
// errors as in lattice/statistics.hpp):
//
//   energy             <e>
//   magnetization      <m>, zero by the symmetry s -> -s on any finite lattice
//   abs_magnetization  <|m|>
//   susceptibility     chi = beta N (<m^2> - <|m|>^2), the finite-volume convention with <|m|> in place of
//                      the vanishing <m> (as in K. Binder, Z. Phys. B 43, 119 (1981))
//   binder             U = 1 - <m^4> / (3 <m^2>^2) (ibid.), 2/3 deep in the ordered phase, 0 for a Gaussian m
//   specific_heat      c = beta^2 N (<e^2> - <e>^2)
//
// Exact energy, specific heat, free energy f = -ln Z / (beta N) and ln Z on the torus come from Kaufman's
// solution (lattice/ising_exact.hpp). The spins are discrete, so there is no force and no HMC: the reference
// samplers are Wolff's cluster algorithm (lattice/wolff.hpp) and checkerboard Metropolis
// (lattice/ising_metropolis.hpp).
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <ATen/core/Tensor.h>
#include <nlohmann/json.hpp>

#include "lattice/action.hpp"

namespace latflow {

class IsingAction : public Action {
 public:
  /// S = beta H with H = -J sum s_i s_j; requires a finite beta > 0 and a finite J != 0.
  static IsingAction from_beta(double beta, double J = 1);

  double beta() const { return beta_; }
  double J() const { return J_; }

  std::string name() const override { return "ising"; }
  /// {T, L}: one spin per site.
  std::vector<std::int64_t> config_shape(const Lattice& lattice) const override;
  /// [B, T, L] -> [B], in the dtype of s.
  at::Tensor action(const at::Tensor& s) const override;
  /// A UserError: spins are discrete.
  at::Tensor force(const at::Tensor& s) const override;
  /// {"beta": .., "J": ..}
  nlohmann::json couplings() const override;
  std::string field_name() const override { return "s"; }
  std::string sample_space() const override { return "spin"; }
  /// beta: the free energy per site is f = -ln Z / (beta V).
  double inverse_temperature() const override { return beta_; }
  /// energy, magnetization, abs_magnetization, susceptibility, binder (null where <m^2> = 0 on the full
  /// sample or a leave-one-bin-out sample), specific_heat.
  nlohmann::json measure(const at::Tensor& s, const std::vector<double>& log_w, int n_bins) const override;
  /// |m| (first: the slow mode of local updates at criticality, where the energy decorrelates faster), e.
  std::vector<std::pair<std::string, at::Tensor>> chain_observables(const at::Tensor& s) const override;
  /// energy, abs_magnetization, specific_heat, susceptibility, binder.
  std::vector<std::string> compared_observables() const override;
  /// energy, specific_heat, free_energy and log_z of the torus (lattice/ising_exact.hpp); empty for the
  /// frustrated antiferromagnet (J < 0 with an odd extent) and beyond beta |J| = 50.
  nlohmann::json exact(const Lattice& lattice) const override;

 private:
  IsingAction(double beta, double J);
  double beta_;
  double J_;
};

}  // namespace latflow
