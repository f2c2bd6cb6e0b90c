#pragma once
// Observables of a real scalar field phi(x), x = (t, s) on a periodic T x L lattice, V = T L, measured on an
// ensemble [N, T, L] in double precision on the CPU, plain or importance-reweighted (see statistics.hpp).
//
//   M = (1/V) sum_x phi(x)                                  magnetization per configuration
//   chi2 = V (<M^2> - <M>^2),  U4 = 1 - <M^4> / (3 <M^2>^2)  susceptibility, Binder cumulant
//   G(x) = (1/V) sum_y <phi(y) phi(y+x)> - <M>^2             connected two-point function
//   C(t) = sum_s G(t, s),  m_eff(t) = arccosh[(C(t-1) + C(t+1)) / (2 C(t))]
//   xi2nd^2 = [G~(0) / G~(p_min) - 1] / (4 sin^2(p_min/2)),  p_min = (0, 2 pi / L),  G~(p) = sum_x e^{-ipx} G(x)
// (Conventions as in Albergo, Kanwar, Shanahan, PRD 100 (2019) 034515, arXiv:1904.12072; the second-moment
// length from the lowest momentum as in Caracciolo et al., PRD 58 (1998) 105007.)
// For the free field with S = sum_x [sum_mu (phi(x+mu) - phi(x))^2 + m^2 phi^2], G~(p) = 1/(2(p_hat^2 + m^2))
// gives xi2nd = 1/m exactly and m_eff(t) = arccosh(1 + m^2/2) for every t.
//
// The two-point function is computed per configuration as |phi~(p)|^2 with FFTW (r2c), accumulated in
// momentum space in the jackknife bins, and transformed back once per bin.
//
// Undefined entries (NaN-free convention): an effective mass whose argument is not finite and >= 1 on the
// full sample and on every leave-one-bin-out sample is left out of `effective_mass`; `effective_mass_t`
// holds the t of each entry that is kept. Likewise binder needs <M^2> > 0 and xi2nd needs L >= 2 and
// xi2nd^2 > 0, on the full sample and on every leave-one-bin-out sample (`binder_defined`,
// `xi2nd_defined`); an undefined one is {0, 0} and written to JSON as null.
#include <cstdint>
#include <vector>

#include <ATen/core/Tensor.h>
#include <nlohmann/json.hpp>

#include "lattice/statistics.hpp"

namespace latflow {

/// M = (1/V) sum_x phi(x) per configuration of phi [N, T, L] (any dtype and device): [N] float64 on the CPU.
at::Tensor magnetization(const at::Tensor& phi);

struct ObservableReport {
  std::int64_t T = 0, L = 0;
  stats::Estimate abs_magnetization;  ///< <|M|>
  stats::Estimate m2;                 ///< <M^2>
  stats::Estimate chi2;               ///< V (<M^2> - <M>^2)
  stats::Estimate binder;             ///< U4 = 1 - <M^4> / (3 <M^2>^2)
  bool binder_defined = false;
  std::vector<stats::Estimate> two_point;       ///< connected G(t, s), flattened [T*L] at t*L + s
  std::vector<stats::Estimate> correlator;      ///< C(t) = sum_s G(t, s), t = 0..T-1
  std::vector<stats::Estimate> effective_mass;  ///< m_eff(t) for the defined t in 1..T/2
  std::vector<std::int64_t> effective_mass_t;   ///< the t of each effective_mass entry
  stats::Estimate xi2nd;                        ///< second-moment correlation length (not its square)
  bool xi2nd_defined = false;

  /// {"abs_magnetization": {"value", "error"}, "m2", "chi2", "binder" (or null), "xi2nd" (or null),
  ///  "correlator": [{"value", "error"}, ...], "effective_mass": [{"t", "value", "error"}, ...]};
  /// the two-point function is left out to keep it small.
  nlohmann::json to_json() const;
};

/// The full report of an ensemble phi [N, T, L] (N >= 2), plain (log_w empty) or reweighted with
/// log w = -S - log q per configuration; errors by jackknife over n_bins contiguous bins
/// (n_bins <= 0: min(N, 100)).
ObservableReport measure(const at::Tensor& phi, const std::vector<double>& log_w = {}, int n_bins = 0);

}  // namespace latflow
